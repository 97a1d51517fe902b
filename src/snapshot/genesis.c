/* src/snapshot/genesis.c - genesis.bin codec (see genesis.h). */
#include "snapshot/genesis.h"

#include "hash/sha256.h"
#include "util/json_out.h"

#define GENESIS_ACCOUNT_MIN (32 + ADB_BANK_ACCOUNT_MIN_SZ)
#define PROGRAM_MIN         (8 + 32)

void
adb_genesis_init(adb_genesis_t *g) {
    memset(g, 0, sizeof *g);
    adb_arena_init(&g->mem, 0);
}

void
adb_genesis_fini(adb_genesis_t *g) {
    adb_arena_fini(&g->mem);
    memset(g, 0, sizeof *g);
}

void *
adb_genesis_alloc(adb_genesis_t *g, size_t sz) {
    return adb_arena_alloc(&g->mem, sz);
}

char const *
adb_genesis_cluster_name(uint32_t cluster_type) {
    switch (cluster_type) {
    case ADB_CLUSTER_TESTNET:
        return "testnet";
    case ADB_CLUSTER_MAINNET_BETA:
        return "mainnet-beta";
    case ADB_CLUSTER_DEVNET:
        return "devnet";
    case ADB_CLUSTER_DEVELOPMENT:
        return "development";
    default:
        return "?";
    }
}

static adb_genesis_account_t *
rd_accounts(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t *cnt_out, char const *what,
            char const *what_acct) {
    *cnt_out = 0;
    uint64_t               n = adb_bc_len(rd, GENESIS_ACCOUNT_MIN, what);
    adb_genesis_account_t *a = adb_bc_arr(rd, mem, n, sizeof *a, what);
    if (!a) return NULL;
    *cnt_out = n;
    for (uint64_t i = 0; i < n && adb_bc_ok(rd); i++) {
        adb_bc_copy(rd, a[i].pubkey.b, 32, what);
        adb_bank_account_read(rd, mem, &a[i].account, what_acct);
    }
    return a;
}

int
adb_genesis_decode(void const *buf, size_t sz, size_t alloc_max, adb_genesis_t *g_out,
                   adb_err_t *err_out) {
    memset(g_out, 0, sizeof *g_out);
    if (err_out) adb_err_clear(err_out);
    if (!buf && sz) return adb_err_set(err_out, ACCTDB_ERR_INVALID, "genesis: NULL buffer");
    adb_arena_t *mem = &g_out->mem;
    adb_arena_init(mem, alloc_max ? alloc_max : ADB_SNAP_BUDGET(sz));
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, buf, sz, "genesis");
    adb_genesis_t *g = g_out;

    g->creation_time = adb_bc_i64(&rd, "creation_time");
    g->accounts = rd_accounts(&rd, mem, &g->accounts_cnt, "accounts", "accounts.account");
    uint64_t n = adb_bc_len(&rd, PROGRAM_MIN, "native_instruction_processors");
    g->native_instruction_processors = adb_bc_arr(
        &rd, mem, n, sizeof *g->native_instruction_processors, "native_instruction_processors");
    if (g->native_instruction_processors) g->native_instruction_processors_cnt = n;
    for (uint64_t i = 0; i < g->native_instruction_processors_cnt && adb_bc_ok(&rd); i++) {
        adb_genesis_program_t *p = &g->native_instruction_processors[i];
        p->name = adb_bc_string_dup(&rd, mem, &p->name_sz, "native_instruction_processors");
        adb_bc_copy(&rd, p->program_id.b, 32, "native_instruction_processors");
    }
    g->rewards_pools =
        rd_accounts(&rd, mem, &g->rewards_pools_cnt, "rewards_pools", "rewards_pools.account");
    g->ticks_per_slot = adb_bc_u64(&rd, "ticks_per_slot");
    g->unused = adb_bc_u64(&rd, "unused");
    adb_poh_config_t *poh = &g->poh_config;
    poh->target_tick_secs = adb_bc_u64(&rd, "poh_config.target_tick_duration");
    poh->target_tick_nanos = adb_bc_u32(&rd, "poh_config.target_tick_duration");
    poh->has_target_tick_count = adb_bc_option(&rd, "poh_config.target_tick_count");
    if (poh->has_target_tick_count)
        poh->target_tick_count = adb_bc_u64(&rd, "poh_config.target_tick_count");
    poh->has_hashes_per_tick = adb_bc_option(&rd, "poh_config.hashes_per_tick");
    if (poh->has_hashes_per_tick)
        poh->hashes_per_tick = adb_bc_u64(&rd, "poh_config.hashes_per_tick");
    g->backwards_compat_with_v0_23 = adb_bc_u64(&rd, "__backwards_compat_with_v0_23");
    adb_bank_fee_rate_governor_read(&rd, &g->fee_rate_governor, "fee_rate_governor");
    adb_bank_rent_read(&rd, &g->rent, "rent");
    adb_bank_inflation_read(&rd, &g->inflation, "inflation");
    adb_bank_epoch_schedule_read(&rd, &g->epoch_schedule, "epoch_schedule");
    g->cluster_type = adb_bc_variant(&rd, ADB_CLUSTER_MAX, "cluster_type");
    if (adb_bc_ok(&rd) && adb_bc_remaining(&rd) > 0) {
        uint64_t t = adb_bc_remaining(&rd);
        g->trailing = adb_bc_arr(&rd, mem, t, 1, "trailing bytes");
        if (g->trailing) {
            adb_bc_copy(&rd, g->trailing, (size_t)t, "trailing bytes");
            g->trailing_sz = t;
        }
    }
    int rc = rd.err.code;
    if (rc) {
        if (err_out) *err_out = rd.err;
    } else {
        rc = adb_sha256(buf, sz, g->hash.b);
        if (rc) adb_err_set(err_out, rc, "genesis: SHA-256 failed: %s", acctdb_strerror(rc));
    }
    if (rc) adb_genesis_fini(g_out);
    return rc;
}

static void
wr_accounts(adb_bc_wr_t *wr, adb_genesis_account_t const *a, uint64_t n) {
    adb_bc_put_u64(wr, n);
    for (uint64_t i = 0; i < n; i++) {
        adb_bc_put_bytes(wr, a[i].pubkey.b, 32);
        adb_bank_account_write(wr, &a[i].account);
    }
}

int
adb_genesis_encode(adb_genesis_t const *g, adb_bc_wr_t *wr) {
    if (g->cluster_type > ADB_CLUSTER_MAX) return ACCTDB_ERR_INVALID;
    adb_bc_put_i64(wr, g->creation_time);
    wr_accounts(wr, g->accounts, g->accounts_cnt);
    adb_bc_put_u64(wr, g->native_instruction_processors_cnt);
    for (uint64_t i = 0; i < g->native_instruction_processors_cnt; i++) {
        adb_genesis_program_t const *p = &g->native_instruction_processors[i];
        adb_bc_put_str(wr, p->name, (size_t)p->name_sz);
        adb_bc_put_bytes(wr, p->program_id.b, 32);
    }
    wr_accounts(wr, g->rewards_pools, g->rewards_pools_cnt);
    adb_bc_put_u64(wr, g->ticks_per_slot);
    adb_bc_put_u64(wr, g->unused);
    adb_poh_config_t const *poh = &g->poh_config;
    adb_bc_put_u64(wr, poh->target_tick_secs);
    adb_bc_put_u32(wr, poh->target_tick_nanos);
    adb_bc_put_u8(wr, poh->has_target_tick_count ? 1 : 0);
    if (poh->has_target_tick_count) adb_bc_put_u64(wr, poh->target_tick_count);
    adb_bc_put_u8(wr, poh->has_hashes_per_tick ? 1 : 0);
    if (poh->has_hashes_per_tick) adb_bc_put_u64(wr, poh->hashes_per_tick);
    adb_bc_put_u64(wr, g->backwards_compat_with_v0_23);
    adb_bank_fee_rate_governor_write(wr, &g->fee_rate_governor);
    adb_bank_rent_write(wr, &g->rent);
    adb_bank_inflation_write(wr, &g->inflation);
    adb_bank_epoch_schedule_write(wr, &g->epoch_schedule);
    adb_bc_put_u32(wr, g->cluster_type);
    if (g->trailing_sz) adb_bc_put_bytes(wr, g->trailing, (size_t)g->trailing_sz);
    return wr->err;
}

int
adb_genesis_encode_buf(adb_genesis_t const *g, uint8_t **buf_out, size_t *sz_out) {
    *buf_out = NULL;
    *sz_out = 0;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    int rc = adb_genesis_encode(g, &wr);
    if (rc == 0) {
        *buf_out = adb_bc_wr_take(&wr, sz_out);
        if (!*buf_out) rc = ACCTDB_ERR_NOMEM;
    }
    adb_bc_wr_fini(&wr);
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static void
js_accounts(adb_json_t *j, char const *k, adb_genesis_account_t const *a, uint64_t n) {
    adb_json_key(j, k);
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < n; i++) {
        adb_bank_account_t const *ac = &a[i].account;
        adb_json_obj_begin(j);
        adb_json_key(j, "pubkey");
        adb_json_b58_32(j, a[i].pubkey.b);
        adb_json_key(j, "lamports");
        adb_json_u64(j, ac->lamports);
        adb_json_key(j, "data_len");
        adb_json_u64(j, ac->data_sz);
        adb_json_key(j, "data_hex");
        adb_json_hex(j, ac->data, (size_t)ac->data_sz);
        adb_json_key(j, "owner");
        adb_json_b58_32(j, ac->owner.b);
        adb_json_key(j, "executable");
        adb_json_bool(j, ac->executable);
        adb_json_key(j, "rent_epoch");
        adb_json_u64(j, ac->rent_epoch);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
}

static void
js_opt_u64(adb_json_t *j, char const *k, bool has, uint64_t v) {
    adb_json_key(j, k);
    if (has)
        adb_json_u64(j, v);
    else
        adb_json_null(j);
}

void
adb_genesis_json(adb_json_t *j, adb_genesis_t const *g) {
    adb_json_obj_begin(j);
    adb_json_key(j, "hash");
    adb_json_b58_32(j, g->hash.b);
    adb_json_key(j, "creation_time");
    adb_json_i64(j, g->creation_time);
    js_accounts(j, "accounts", g->accounts, g->accounts_cnt);
    adb_json_key(j, "native_instruction_processors");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < g->native_instruction_processors_cnt; i++) {
        adb_json_obj_begin(j);
        adb_json_key(j, "name");
        adb_json_strn(j, g->native_instruction_processors[i].name,
                      (size_t)g->native_instruction_processors[i].name_sz);
        adb_json_key(j, "program_id");
        adb_json_b58_32(j, g->native_instruction_processors[i].program_id.b);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    js_accounts(j, "rewards_pools", g->rewards_pools, g->rewards_pools_cnt);
    adb_json_key(j, "ticks_per_slot");
    adb_json_u64(j, g->ticks_per_slot);
    adb_json_key(j, "unused");
    adb_json_u64(j, g->unused);
    adb_json_key(j, "poh_config");
    adb_json_obj_begin(j);
    adb_json_key(j, "target_tick_duration");
    adb_json_obj_begin(j);
    adb_json_key(j, "secs");
    adb_json_u64(j, g->poh_config.target_tick_secs);
    adb_json_key(j, "nanos");
    adb_json_u64(j, g->poh_config.target_tick_nanos);
    adb_json_obj_end(j);
    js_opt_u64(j, "target_tick_count", g->poh_config.has_target_tick_count,
               g->poh_config.target_tick_count);
    js_opt_u64(j, "hashes_per_tick", g->poh_config.has_hashes_per_tick,
               g->poh_config.hashes_per_tick);
    adb_json_obj_end(j);
    adb_json_key(j, "backwards_compat_with_v0_23");
    adb_json_u64(j, g->backwards_compat_with_v0_23);
    adb_fee_rate_governor_t const *f = &g->fee_rate_governor;
    adb_json_key(j, "fee_rate_governor");
    adb_json_obj_begin(j);
    adb_json_key(j, "target_lamports_per_signature");
    adb_json_u64(j, f->target_lamports_per_signature);
    adb_json_key(j, "target_signatures_per_slot");
    adb_json_u64(j, f->target_signatures_per_slot);
    adb_json_key(j, "min_lamports_per_signature");
    adb_json_u64(j, f->min_lamports_per_signature);
    adb_json_key(j, "max_lamports_per_signature");
    adb_json_u64(j, f->max_lamports_per_signature);
    adb_json_key(j, "burn_percent");
    adb_json_u64(j, f->burn_percent);
    adb_json_obj_end(j);
    adb_json_key(j, "rent");
    adb_json_obj_begin(j);
    adb_json_key(j, "lamports_per_byte_year");
    adb_json_u64(j, g->rent.lamports_per_byte_year);
    adb_json_key(j, "exemption_threshold");
    adb_json_f64(j, g->rent.exemption_threshold);
    adb_json_key(j, "burn_percent");
    adb_json_u64(j, g->rent.burn_percent);
    adb_json_obj_end(j);
    adb_inflation_t const *in = &g->inflation;
    adb_json_key(j, "inflation");
    adb_json_obj_begin(j);
    adb_json_key(j, "initial");
    adb_json_f64(j, in->initial);
    adb_json_key(j, "terminal");
    adb_json_f64(j, in->terminal);
    adb_json_key(j, "taper");
    adb_json_f64(j, in->taper);
    adb_json_key(j, "foundation");
    adb_json_f64(j, in->foundation);
    adb_json_key(j, "foundation_term");
    adb_json_f64(j, in->foundation_term);
    adb_json_key(j, "unused");
    adb_json_f64(j, in->unused);
    adb_json_obj_end(j);
    adb_epoch_schedule_t const *es = &g->epoch_schedule;
    adb_json_key(j, "epoch_schedule");
    adb_json_obj_begin(j);
    adb_json_key(j, "slots_per_epoch");
    adb_json_u64(j, es->slots_per_epoch);
    adb_json_key(j, "leader_schedule_slot_offset");
    adb_json_u64(j, es->leader_schedule_slot_offset);
    adb_json_key(j, "warmup");
    adb_json_bool(j, es->warmup);
    adb_json_key(j, "first_normal_epoch");
    adb_json_u64(j, es->first_normal_epoch);
    adb_json_key(j, "first_normal_slot");
    adb_json_u64(j, es->first_normal_slot);
    adb_json_obj_end(j);
    adb_json_key(j, "cluster_type");
    adb_json_str(j, adb_genesis_cluster_name(g->cluster_type));
    adb_json_key(j, "trailing_hex");
    adb_json_hex(j, g->trailing, (size_t)g->trailing_sz);
    adb_json_obj_end(j);
}
