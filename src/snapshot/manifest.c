/* src/snapshot/manifest.c - manifest codec, checks, bank hash and JSON
 * (see manifest.h; wire layout in FORMAT.md section 3).
 *
 * Every decoder below reads through the sticky adb_bc_rd_t, so a function
 * reads its whole structure and the first failure (with its offset) is what
 * the caller reports.  Loops over counts also stop at the first failure so a
 * huge (but bounded) count costs nothing once something went wrong.  Field
 * names in messages are paths ("bank.stakes.vote_accounts"), built once per
 * structure, not per element. */
#include "snapshot/manifest.h"

#include "bank/bank.h"
#include "hash/sha256.h"
#include "util/json_out.h"

#include <stdio.h>
#include <stdlib.h>

/* Minimum wire sizes of map/vec elements, for adb_bc_len. */
#define HASH_AGE_MIN               56 /* Hash + HashInfo */
#define SLOT_U64_MIN               16 /* (u64, u64) */
#define STAKES_MIN                 40 /* three empty collections + two u64 */
#define LEGACY_EPOCH_STAKES_MIN    (8 + STAKES_MIN + 8 + 8 + 8)
#define VERSIONED_EPOCH_STAKES_MIN (8 + 4 + STAKES_MIN + 8 + 8 + 8)
#define STORAGE_SLOT_MIN           16 /* slot + empty Vec */
#define STORAGE_ENTRY_MIN          16
#define SLOT_HASH_MIN              40

/* ======================================================================== */
/* decode                                                                   */
/* ======================================================================== */

static void
rd_hash(adb_bc_rd_t *rd, void *dst, char const *what) {
    adb_bc_copy(rd, dst, 32, what);
}

static void
rd_slot_u64s(adb_bc_rd_t *rd, adb_arena_t *mem, adb_slot_u64_t **arr, uint64_t *cnt,
             char const *what) {
    *arr = adb_bc_vec(rd, mem, SLOT_U64_MIN, sizeof **arr, cnt, what);
    for (uint64_t i = 0; i < *cnt && adb_bc_ok(rd); i++) {
        (*arr)[i].slot = adb_bc_u64(rd, what);
        (*arr)[i].val = adb_bc_u64(rd, what);
    }
}

static void
rd_bank(adb_bc_rd_t *rd, adb_arena_t *mem, adb_bank_fields_t *b) {
    adb_blockhash_queue_t *q = &b->blockhash_queue;
    q->last_hash_index = adb_bc_u64(rd, "bank.blockhash_queue.last_hash_index");
    q->has_last_hash = adb_bc_option(rd, "bank.blockhash_queue.last_hash");
    if (q->has_last_hash) rd_hash(rd, q->last_hash.b, "bank.blockhash_queue.last_hash");
    q->ages = adb_bc_vec(rd, mem, HASH_AGE_MIN, sizeof *q->ages, &q->ages_cnt,
                         "bank.blockhash_queue.ages");
    for (uint64_t i = 0; i < q->ages_cnt && adb_bc_ok(rd); i++) {
        adb_hash_age_t *a = &q->ages[i];
        rd_hash(rd, a->hash.b, "bank.blockhash_queue.ages");
        a->lamports_per_signature = adb_bc_u64(rd, "bank.blockhash_queue.ages");
        a->hash_index = adb_bc_u64(rd, "bank.blockhash_queue.ages");
        a->timestamp = adb_bc_u64(rd, "bank.blockhash_queue.ages");
    }
    q->max_age = adb_bc_u64(rd, "bank.blockhash_queue.max_age");

    rd_slot_u64s(rd, mem, &b->ancestors, &b->ancestors_cnt, "bank.ancestors");
    rd_hash(rd, b->hash.b, "bank.hash");
    rd_hash(rd, b->parent_hash.b, "bank.parent_hash");
    b->parent_slot = adb_bc_u64(rd, "bank.parent_slot");
    rd_slot_u64s(rd, mem, &b->hard_forks, &b->hard_forks_cnt, "bank.hard_forks");
    b->transaction_count = adb_bc_u64(rd, "bank.transaction_count");
    b->tick_height = adb_bc_u64(rd, "bank.tick_height");
    b->signature_count = adb_bc_u64(rd, "bank.signature_count");
    b->capitalization = adb_bc_u64(rd, "bank.capitalization");
    b->max_tick_height = adb_bc_u64(rd, "bank.max_tick_height");
    b->has_hashes_per_tick = adb_bc_option(rd, "bank.hashes_per_tick");
    if (b->has_hashes_per_tick) b->hashes_per_tick = adb_bc_u64(rd, "bank.hashes_per_tick");
    b->ticks_per_slot = adb_bc_u64(rd, "bank.ticks_per_slot");
    uint64_t lo = adb_bc_u64(rd, "bank.ns_per_slot");
    uint64_t hi = adb_bc_u64(rd, "bank.ns_per_slot");
    b->ns_per_slot = (unsigned __int128)hi << 64 | lo;
    b->genesis_creation_time = adb_bc_i64(rd, "bank.genesis_creation_time");
    b->slots_per_year = adb_bc_f64(rd, "bank.slots_per_year");
    b->accounts_data_len = adb_bc_u64(rd, "bank.accounts_data_len");
    b->slot = adb_bc_u64(rd, "bank.slot");
    b->epoch = adb_bc_u64(rd, "bank.epoch");
    b->block_height = adb_bc_u64(rd, "bank.block_height");
    rd_hash(rd, b->leader_id.b, "bank.leader_id");
    b->collector_fees = adb_bc_u64(rd, "bank.collector_fees");
    b->fee_calculator = adb_bc_u64(rd, "bank.fee_calculator");
    adb_bank_fee_rate_governor_read(rd, &b->fee_rate_governor, "bank.fee_rate_governor");
    b->collected_rent = adb_bc_u64(rd, "bank.collected_rent");
    adb_rent_collector_t *rc = &b->rent_collector;
    rc->epoch = adb_bc_u64(rd, "bank.rent_collector.epoch");
    adb_bank_epoch_schedule_read(rd, &rc->epoch_schedule, "bank.rent_collector.epoch_schedule");
    rc->slots_per_year = adb_bc_f64(rd, "bank.rent_collector.slots_per_year");
    adb_bank_rent_read(rd, &rc->rent, "bank.rent_collector.rent");
    adb_bank_epoch_schedule_read(rd, &b->epoch_schedule, "bank.epoch_schedule");
    adb_bank_inflation_read(rd, &b->inflation, "bank.inflation");
    adb_bank_stakes_read(rd, mem, &b->stakes, false, "bank.stakes");

    adb_bank_pubkeys_read(rd, mem, &b->unused_accounts1, &b->unused_accounts1_cnt,
                          "bank.unused_accounts.0");
    adb_bank_pubkeys_read(rd, mem, &b->unused_accounts2, &b->unused_accounts2_cnt,
                          "bank.unused_accounts.1");
    b->unused_accounts3 = adb_bc_vec(rd, mem, 40, sizeof *b->unused_accounts3,
                                     &b->unused_accounts3_cnt, "bank.unused_accounts.2");
    for (uint64_t i = 0; i < b->unused_accounts3_cnt && adb_bc_ok(rd); i++) {
        rd_hash(rd, b->unused_accounts3[i].key.b, "bank.unused_accounts.2");
        b->unused_accounts3[i].val = adb_bc_u64(rd, "bank.unused_accounts.2");
    }

    b->epoch_stakes = adb_bc_vec(rd, mem, LEGACY_EPOCH_STAKES_MIN, sizeof *b->epoch_stakes,
                                 &b->epoch_stakes_cnt, "bank.epoch_stakes");
    for (uint64_t i = 0; i < b->epoch_stakes_cnt && adb_bc_ok(rd); i++) {
        b->epoch_stakes[i].epoch = adb_bc_u64(rd, "bank.epoch_stakes");
        adb_bank_epoch_stakes_body_read(rd, mem, &b->epoch_stakes[i], false, "bank.epoch_stakes");
    }
    b->is_delta = adb_bc_bool(rd, "bank.is_delta");
}

/* True (and nothing read) when the input ends exactly here: the next
 * default_on_eof field and every later one are absent. */
static bool
at_eof(adb_bc_rd_t const *rd) {
    return adb_bc_ok(rd) && adb_bc_remaining(rd) == 0;
}

static void
rd_accounts_db(adb_bc_rd_t *rd, adb_arena_t *mem, adb_accounts_db_fields_t *a, uint32_t *present) {
    a->storages = adb_bc_vec(rd, mem, STORAGE_SLOT_MIN, sizeof *a->storages, &a->storages_cnt,
                             "accounts_db.storages");
    for (uint64_t i = 0; i < a->storages_cnt && adb_bc_ok(rd); i++) {
        adb_storage_slot_t *s = &a->storages[i];
        s->slot = adb_bc_u64(rd, "accounts_db.storages");
        s->entries = adb_bc_vec(rd, mem, STORAGE_ENTRY_MIN, sizeof *s->entries, &s->entries_cnt,
                                "accounts_db.storages.entries");
        for (uint64_t k = 0; k < s->entries_cnt && adb_bc_ok(rd); k++) {
            s->entries[k].id = adb_bc_u64(rd, "accounts_db.storages.entries");
            s->entries[k].current_len = adb_bc_u64(rd, "accounts_db.storages.entries");
        }
    }
    a->write_version = adb_bc_u64(rd, "accounts_db.write_version");
    a->slot = adb_bc_u64(rd, "accounts_db.slot");
    adb_bank_hash_info_t *h = &a->bank_hash_info;
    rd_hash(rd, h->accounts_delta_hash.b, "accounts_db.bank_hash_info");
    rd_hash(rd, h->accounts_hash.b, "accounts_db.bank_hash_info");
    h->num_updated_accounts = adb_bc_u64(rd, "accounts_db.bank_hash_info");
    h->num_removed_accounts = adb_bc_u64(rd, "accounts_db.bank_hash_info");
    h->num_lamports_stored = adb_bc_u64(rd, "accounts_db.bank_hash_info");
    h->total_data_len = adb_bc_u64(rd, "accounts_db.bank_hash_info");
    h->num_executable_accounts = adb_bc_u64(rd, "accounts_db.bank_hash_info");

    if (at_eof(rd) || !adb_bc_ok(rd)) return;
    a->historical_roots = adb_bc_vec(rd, mem, 8, sizeof *a->historical_roots,
                                     &a->historical_roots_cnt, "accounts_db.historical_roots");
    for (uint64_t i = 0; i < a->historical_roots_cnt && adb_bc_ok(rd); i++)
        a->historical_roots[i] = adb_bc_u64(rd, "accounts_db.historical_roots");
    *present = ADB_MANIFEST_F_HISTORICAL_ROOTS;

    if (at_eof(rd) || !adb_bc_ok(rd)) return;
    a->historical_roots_with_hash =
        adb_bc_vec(rd, mem, SLOT_HASH_MIN, sizeof *a->historical_roots_with_hash,
                   &a->historical_roots_with_hash_cnt, "accounts_db.historical_roots_with_hash");
    for (uint64_t i = 0; i < a->historical_roots_with_hash_cnt && adb_bc_ok(rd); i++) {
        a->historical_roots_with_hash[i].slot =
            adb_bc_u64(rd, "accounts_db.historical_roots_with_hash");
        rd_hash(rd, a->historical_roots_with_hash[i].hash.b,
                "accounts_db.historical_roots_with_hash");
    }
    *present = ADB_MANIFEST_F_HISTORICAL_ROOTS_WITH_HASH;
}

static void
rd_extra(adb_bc_rd_t *rd, adb_arena_t *mem, adb_extra_fields_t *x, uint32_t *present) {
    if (*present < ADB_MANIFEST_F_HISTORICAL_ROOTS_WITH_HASH || at_eof(rd) || !adb_bc_ok(rd))
        return;
    x->lamports_per_signature = adb_bc_u64(rd, "extra.lamports_per_signature");
    *present = ADB_MANIFEST_F_LAMPORTS_PER_SIGNATURE;

    if (at_eof(rd) || !adb_bc_ok(rd)) return;
    x->has_incremental_persistence = adb_bc_option(rd, "extra.incremental_snapshot_persistence");
    if (x->has_incremental_persistence) {
        char const                    *w = "extra.incremental_snapshot_persistence";
        adb_incremental_persistence_t *p = &x->incremental_persistence;
        p->full_slot = adb_bc_u64(rd, w);
        rd_hash(rd, p->full_hash.b, w);
        p->full_capitalization = adb_bc_u64(rd, w);
        rd_hash(rd, p->incremental_hash.b, w);
        p->incremental_capitalization = adb_bc_u64(rd, w);
    }
    *present = ADB_MANIFEST_F_INCREMENTAL_PERSISTENCE;

    if (at_eof(rd) || !adb_bc_ok(rd)) return;
    x->has_epoch_accounts_hash = adb_bc_option(rd, "extra.epoch_accounts_hash");
    if (x->has_epoch_accounts_hash)
        rd_hash(rd, x->epoch_accounts_hash.b, "extra.epoch_accounts_hash");
    *present = ADB_MANIFEST_F_EPOCH_ACCOUNTS_HASH;

    if (at_eof(rd) || !adb_bc_ok(rd)) return;
    x->versioned_epoch_stakes =
        adb_bc_vec(rd, mem, VERSIONED_EPOCH_STAKES_MIN, sizeof *x->versioned_epoch_stakes,
                   &x->versioned_epoch_stakes_cnt, "extra.versioned_epoch_stakes");
    for (uint64_t i = 0; i < x->versioned_epoch_stakes_cnt && adb_bc_ok(rd); i++) {
        adb_epoch_stakes_t *es = &x->versioned_epoch_stakes[i];
        es->epoch = adb_bc_u64(rd, "extra.versioned_epoch_stakes");
        es->variant = adb_bc_variant(rd, 0, "extra.versioned_epoch_stakes.variant");
        adb_bank_epoch_stakes_body_read(rd, mem, es, true, "extra.versioned_epoch_stakes");
    }
    *present = ADB_MANIFEST_F_VERSIONED_EPOCH_STAKES;

    if (at_eof(rd) || !adb_bc_ok(rd)) return;
    x->has_accounts_lt_hash = adb_bc_option(rd, "extra.accounts_lt_hash");
    if (x->has_accounts_lt_hash)
        adb_bc_copy(rd, x->accounts_lt_hash, ADB_LTHASH_SZ, "extra.accounts_lt_hash");
    *present = ADB_MANIFEST_F_ACCOUNTS_LT_HASH;

    if (at_eof(rd) || !adb_bc_ok(rd)) return;
    x->has_block_id = adb_bc_option(rd, "extra.block_id");
    if (x->has_block_id) rd_hash(rd, x->block_id.b, "extra.block_id");
    *present = ADB_MANIFEST_F_BLOCK_ID;
}

void
adb_manifest_init(adb_manifest_t *m) {
    memset(m, 0, sizeof *m);
    adb_arena_init(&m->mem, 0);
    m->bank.blockhash_queue.max_age = 300;
    m->present_cnt = ADB_MANIFEST_F_ALL;
    m->extra.has_accounts_lt_hash = true;
    m->extra.has_block_id = true;
}

void
adb_manifest_fini(adb_manifest_t *m) {
    adb_arena_fini(&m->mem);
    memset(m, 0, sizeof *m);
}

void *
adb_manifest_alloc(adb_manifest_t *m, size_t sz) {
    return adb_arena_alloc(&m->mem, sz);
}

int
adb_manifest_decode(void const *buf, size_t sz, size_t alloc_max, adb_manifest_t *m_out,
                    adb_err_t *err_out) {
    memset(m_out, 0, sizeof *m_out);
    if (err_out) adb_err_clear(err_out);
    if (!buf && sz) return adb_err_set(err_out, ACCTDB_ERR_INVALID, "manifest: NULL buffer");
    adb_arena_init(&m_out->mem, alloc_max ? alloc_max : ADB_SNAP_BUDGET(sz));

    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, buf, sz, "manifest");
    uint32_t present = 0;
    rd_bank(&rd, &m_out->mem, &m_out->bank);
    rd_accounts_db(&rd, &m_out->mem, &m_out->accounts_db, &present);
    rd_extra(&rd, &m_out->mem, &m_out->extra, &present);
    m_out->present_cnt = present;
    if (adb_bc_ok(&rd) && adb_bc_remaining(&rd) > 0) {
        uint64_t n = adb_bc_remaining(&rd);
        m_out->trailing = adb_bc_arr(&rd, &m_out->mem, n, 1, "trailing bytes");
        if (m_out->trailing) {
            adb_bc_copy(&rd, m_out->trailing, (size_t)n, "trailing bytes");
            m_out->trailing_sz = n;
        }
    }
    if (!adb_bc_ok(&rd)) {
        int rc = rd.err.code;
        if (err_out) *err_out = rd.err;
        adb_manifest_fini(m_out);
        return rc;
    }
    return 0;
}

/* ======================================================================== */
/* encode                                                                   */
/* ======================================================================== */

static void
wr_slot_u64s(adb_bc_wr_t *wr, adb_slot_u64_t const *a, uint64_t n) {
    adb_bc_put_u64(wr, n);
    for (uint64_t i = 0; i < n; i++) {
        adb_bc_put_u64(wr, a[i].slot);
        adb_bc_put_u64(wr, a[i].val);
    }
}

static void
wr_option_hash(adb_bc_wr_t *wr, bool has, acctdb_hash_t const *h) {
    adb_bc_put_u8(wr, has ? 1 : 0);
    if (has) adb_bc_put_bytes(wr, h->b, 32);
}

static void
wr_bank(adb_bc_wr_t *wr, adb_bank_fields_t const *b) {
    adb_blockhash_queue_t const *q = &b->blockhash_queue;
    adb_bc_put_u64(wr, q->last_hash_index);
    wr_option_hash(wr, q->has_last_hash, &q->last_hash);
    adb_bc_put_u64(wr, q->ages_cnt);
    for (uint64_t i = 0; i < q->ages_cnt; i++) {
        adb_bc_put_bytes(wr, q->ages[i].hash.b, 32);
        adb_bc_put_u64(wr, q->ages[i].lamports_per_signature);
        adb_bc_put_u64(wr, q->ages[i].hash_index);
        adb_bc_put_u64(wr, q->ages[i].timestamp);
    }
    adb_bc_put_u64(wr, q->max_age);
    wr_slot_u64s(wr, b->ancestors, b->ancestors_cnt);
    adb_bc_put_bytes(wr, b->hash.b, 32);
    adb_bc_put_bytes(wr, b->parent_hash.b, 32);
    adb_bc_put_u64(wr, b->parent_slot);
    wr_slot_u64s(wr, b->hard_forks, b->hard_forks_cnt);
    adb_bc_put_u64(wr, b->transaction_count);
    adb_bc_put_u64(wr, b->tick_height);
    adb_bc_put_u64(wr, b->signature_count);
    adb_bc_put_u64(wr, b->capitalization);
    adb_bc_put_u64(wr, b->max_tick_height);
    adb_bc_put_u8(wr, b->has_hashes_per_tick ? 1 : 0);
    if (b->has_hashes_per_tick) adb_bc_put_u64(wr, b->hashes_per_tick);
    adb_bc_put_u64(wr, b->ticks_per_slot);
    adb_bc_put_u64(wr, (uint64_t)b->ns_per_slot);
    adb_bc_put_u64(wr, (uint64_t)(b->ns_per_slot >> 64));
    adb_bc_put_i64(wr, b->genesis_creation_time);
    adb_bc_put_f64(wr, b->slots_per_year);
    adb_bc_put_u64(wr, b->accounts_data_len);
    adb_bc_put_u64(wr, b->slot);
    adb_bc_put_u64(wr, b->epoch);
    adb_bc_put_u64(wr, b->block_height);
    adb_bc_put_bytes(wr, b->leader_id.b, 32);
    adb_bc_put_u64(wr, b->collector_fees);
    adb_bc_put_u64(wr, b->fee_calculator);
    adb_bank_fee_rate_governor_write(wr, &b->fee_rate_governor);
    adb_bc_put_u64(wr, b->collected_rent);
    adb_bc_put_u64(wr, b->rent_collector.epoch);
    adb_bank_epoch_schedule_write(wr, &b->rent_collector.epoch_schedule);
    adb_bc_put_f64(wr, b->rent_collector.slots_per_year);
    adb_bank_rent_write(wr, &b->rent_collector.rent);
    adb_bank_epoch_schedule_write(wr, &b->epoch_schedule);
    adb_bank_inflation_write(wr, &b->inflation);
    adb_bank_stakes_write(wr, &b->stakes);
    adb_bank_pubkeys_write(wr, b->unused_accounts1, b->unused_accounts1_cnt);
    adb_bank_pubkeys_write(wr, b->unused_accounts2, b->unused_accounts2_cnt);
    adb_bc_put_u64(wr, b->unused_accounts3_cnt);
    for (uint64_t i = 0; i < b->unused_accounts3_cnt; i++) {
        adb_bc_put_bytes(wr, b->unused_accounts3[i].key.b, 32);
        adb_bc_put_u64(wr, b->unused_accounts3[i].val);
    }
    adb_bc_put_u64(wr, b->epoch_stakes_cnt);
    for (uint64_t i = 0; i < b->epoch_stakes_cnt; i++) {
        adb_bc_put_u64(wr, b->epoch_stakes[i].epoch);
        adb_bank_epoch_stakes_body_write(wr, &b->epoch_stakes[i]);
    }
    adb_bc_put_bool(wr, b->is_delta);
}

static void
wr_accounts_db(adb_bc_wr_t *wr, adb_accounts_db_fields_t const *a, uint32_t present) {
    adb_bc_put_u64(wr, a->storages_cnt);
    for (uint64_t i = 0; i < a->storages_cnt; i++) {
        adb_storage_slot_t const *s = &a->storages[i];
        adb_bc_put_u64(wr, s->slot);
        adb_bc_put_u64(wr, s->entries_cnt);
        for (uint64_t k = 0; k < s->entries_cnt; k++) {
            adb_bc_put_u64(wr, s->entries[k].id);
            adb_bc_put_u64(wr, s->entries[k].current_len);
        }
    }
    adb_bc_put_u64(wr, a->write_version);
    adb_bc_put_u64(wr, a->slot);
    adb_bank_hash_info_t const *h = &a->bank_hash_info;
    adb_bc_put_bytes(wr, h->accounts_delta_hash.b, 32);
    adb_bc_put_bytes(wr, h->accounts_hash.b, 32);
    adb_bc_put_u64(wr, h->num_updated_accounts);
    adb_bc_put_u64(wr, h->num_removed_accounts);
    adb_bc_put_u64(wr, h->num_lamports_stored);
    adb_bc_put_u64(wr, h->total_data_len);
    adb_bc_put_u64(wr, h->num_executable_accounts);
    if (present < ADB_MANIFEST_F_HISTORICAL_ROOTS) return;
    adb_bc_put_u64(wr, a->historical_roots_cnt);
    for (uint64_t i = 0; i < a->historical_roots_cnt; i++)
        adb_bc_put_u64(wr, a->historical_roots[i]);
    if (present < ADB_MANIFEST_F_HISTORICAL_ROOTS_WITH_HASH) return;
    adb_bc_put_u64(wr, a->historical_roots_with_hash_cnt);
    for (uint64_t i = 0; i < a->historical_roots_with_hash_cnt; i++) {
        adb_bc_put_u64(wr, a->historical_roots_with_hash[i].slot);
        adb_bc_put_bytes(wr, a->historical_roots_with_hash[i].hash.b, 32);
    }
}

static void
wr_extra(adb_bc_wr_t *wr, adb_extra_fields_t const *x, uint32_t present) {
    if (present < ADB_MANIFEST_F_LAMPORTS_PER_SIGNATURE) return;
    adb_bc_put_u64(wr, x->lamports_per_signature);
    if (present < ADB_MANIFEST_F_INCREMENTAL_PERSISTENCE) return;
    adb_bc_put_u8(wr, x->has_incremental_persistence ? 1 : 0);
    if (x->has_incremental_persistence) {
        adb_incremental_persistence_t const *p = &x->incremental_persistence;
        adb_bc_put_u64(wr, p->full_slot);
        adb_bc_put_bytes(wr, p->full_hash.b, 32);
        adb_bc_put_u64(wr, p->full_capitalization);
        adb_bc_put_bytes(wr, p->incremental_hash.b, 32);
        adb_bc_put_u64(wr, p->incremental_capitalization);
    }
    if (present < ADB_MANIFEST_F_EPOCH_ACCOUNTS_HASH) return;
    wr_option_hash(wr, x->has_epoch_accounts_hash, &x->epoch_accounts_hash);
    if (present < ADB_MANIFEST_F_VERSIONED_EPOCH_STAKES) return;
    adb_bc_put_u64(wr, x->versioned_epoch_stakes_cnt);
    for (uint64_t i = 0; i < x->versioned_epoch_stakes_cnt; i++) {
        adb_bc_put_u64(wr, x->versioned_epoch_stakes[i].epoch);
        adb_bc_put_u32(wr, x->versioned_epoch_stakes[i].variant);
        adb_bank_epoch_stakes_body_write(wr, &x->versioned_epoch_stakes[i]);
    }
    if (present < ADB_MANIFEST_F_ACCOUNTS_LT_HASH) return;
    adb_bc_put_u8(wr, x->has_accounts_lt_hash ? 1 : 0);
    if (x->has_accounts_lt_hash) adb_bc_put_bytes(wr, x->accounts_lt_hash, ADB_LTHASH_SZ);
    if (present < ADB_MANIFEST_F_BLOCK_ID) return;
    wr_option_hash(wr, x->has_block_id, &x->block_id);
}

int
adb_manifest_encode(adb_manifest_t const *m, adb_bc_wr_t *wr) {
    if (m->present_cnt > ADB_MANIFEST_F_ALL ||
        (m->trailing_sz && m->present_cnt < ADB_MANIFEST_F_ALL))
        return ACCTDB_ERR_INVALID;
    wr_bank(wr, &m->bank);
    wr_accounts_db(wr, &m->accounts_db, m->present_cnt);
    wr_extra(wr, &m->extra, m->present_cnt);
    if (m->trailing_sz) adb_bc_put_bytes(wr, m->trailing, (size_t)m->trailing_sz);
    return wr->err;
}

int
adb_manifest_encode_buf(adb_manifest_t const *m, uint8_t **buf_out, size_t *sz_out) {
    *buf_out = NULL;
    *sz_out = 0;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    int rc = adb_manifest_encode(m, &wr);
    if (rc == 0) {
        *buf_out = adb_bc_wr_take(&wr, sz_out);
        if (!*buf_out) *buf_out = adb_malloc(1); /* an empty encoding is impossible */
        if (!*buf_out) rc = ACCTDB_ERR_NOMEM;
    }
    adb_bc_wr_fini(&wr);
    return rc;
}

/* ======================================================================== */
/* semantic checks                                                          */
/* ======================================================================== */

/* Reports the first epoch listed twice in es[0..n), or in both lists. */
static int
check_epochs(adb_epoch_stakes_t const *a, uint64_t na, adb_epoch_stakes_t const *b, uint64_t nb,
             char const *wa, char const *wb, adb_err_t *err) {
    /* Epoch-stakes maps hold a handful of epochs: quadratic is fine, but
     * refuse absurd sizes rather than spin. */
    if (na > 4096 || nb > 4096)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "manifest: %s: %llu entries is implausible",
                           na > 4096 ? wa : wb, (unsigned long long)(na > 4096 ? na : nb));
    for (uint64_t i = 0; i < na; i++) {
        for (uint64_t k = i + 1; k < na; k++)
            ADB_FAIL_IF(a[i].epoch == a[k].epoch, err, ACCTDB_ERR_CORRUPT,
                        "manifest: %s: epoch %llu listed twice (entries %llu and %llu)", wa,
                        (unsigned long long)a[i].epoch, (unsigned long long)i,
                        (unsigned long long)k);
        for (uint64_t k = 0; k < nb; k++)
            ADB_FAIL_IF(a[i].epoch == b[k].epoch, err, ACCTDB_ERR_CORRUPT,
                        "manifest: epoch %llu is in both %s and %s", (unsigned long long)a[i].epoch,
                        wa, wb);
    }
    return 0;
}

static int
cmp_u64(void const *a, void const *b) {
    uint64_t x = *(uint64_t const *)a, y = *(uint64_t const *)b;
    return x < y ? -1 : x > y;
}

int
adb_manifest_check(adb_manifest_t const *m, uint32_t flags, adb_err_t *err_out) {
    adb_err_t  scratch;
    adb_err_t *err = err_out ? err_out : &scratch;
    adb_err_clear(err);
    uint64_t slot = m->bank.slot;

    ADB_FAIL_IF(m->accounts_db.slot != slot, err, ACCTDB_ERR_CORRUPT,
                "manifest: accounts_db.slot %llu differs from the bank slot %llu",
                (unsigned long long)m->accounts_db.slot, (unsigned long long)slot);

    adb_storage_slot_t const *st = m->accounts_db.storages;
    uint64_t                  n = m->accounts_db.storages_cnt;
    for (uint64_t i = 0; i < n; i++) {
        ADB_FAIL_IF(st[i].entries_cnt != 1, err, ACCTDB_ERR_CORRUPT,
                    "manifest: accounts_db.storages[%llu]: slot %llu has %llu storage entries "
                    "(exactly 1 expected)",
                    (unsigned long long)i, (unsigned long long)st[i].slot,
                    (unsigned long long)st[i].entries_cnt);
        ADB_FAIL_IF(st[i].slot > slot, err, ACCTDB_ERR_CORRUPT,
                    "manifest: accounts_db.storages[%llu]: slot %llu is above the snapshot slot "
                    "%llu",
                    (unsigned long long)i, (unsigned long long)st[i].slot,
                    (unsigned long long)slot);
    }
    if (n > 1) {
        /* Duplicate slots: sort a copy of the keys. */
        uint64_t *keys = adb_calloc((size_t)n, sizeof *keys);
        if (!keys)
            return adb_err_set(err, ACCTDB_ERR_NOMEM,
                               "manifest: out of memory checking %llu storages",
                               (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++)
            keys[i] = st[i].slot;
        qsort(keys, (size_t)n, sizeof *keys, cmp_u64);
        int rc = 0;
        for (uint64_t i = 1; i < n && rc == 0; i++) {
            if (keys[i] == keys[i - 1])
                rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                 "manifest: accounts_db.storages: slot %llu listed twice "
                                 "(duplicate (slot, id))",
                                 (unsigned long long)keys[i]);
        }
        adb_free(keys);
        if (rc) return rc;
    }

    adb_bank_fields_t const  *b = &m->bank;
    adb_extra_fields_t const *x = &m->extra;
    if (flags & ADB_MANIFEST_CHECK_LATTICE) {
        ADB_FAIL_IF(b->epoch_stakes_cnt != 0, err, ACCTDB_ERR_CORRUPT,
                    "manifest: bank.epoch_stakes: %llu legacy entries (a lattice-era "
                    "manifest must leave the legacy map empty; Agave 4.x refuses it)",
                    (unsigned long long)b->epoch_stakes_cnt);
        ADB_FAIL_IF(!ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_ACCOUNTS_LT_HASH) ||
                        !x->has_accounts_lt_hash,
                    err, ACCTDB_ERR_CORRUPT,
                    "manifest: extra.accounts_lt_hash is missing (required since Agave 3.0)");
    }
    ADB_TRY(check_epochs(b->epoch_stakes, b->epoch_stakes_cnt, x->versioned_epoch_stakes,
                         x->versioned_epoch_stakes_cnt, "bank.epoch_stakes",
                         "extra.versioned_epoch_stakes", err));
    ADB_TRY(check_epochs(x->versioned_epoch_stakes, x->versioned_epoch_stakes_cnt, NULL, 0,
                         "extra.versioned_epoch_stakes", "", err));
    for (uint64_t i = 0; i < x->versioned_epoch_stakes_cnt; i++)
        ADB_FAIL_IF(x->versioned_epoch_stakes[i].variant != 0, err, ACCTDB_ERR_CORRUPT,
                    "manifest: extra.versioned_epoch_stakes[%llu]: unknown variant %u",
                    (unsigned long long)i, x->versioned_epoch_stakes[i].variant);
    return 0;
}

/* ======================================================================== */
/* bank hash (FORMAT.md section 9)                                          */
/* ======================================================================== */

char const *
adb_manifest_bank_hash_era(adb_manifest_t const *m) {
    static uint8_t const zero[32];
    bool delta = memcmp(m->accounts_db.bank_hash_info.accounts_delta_hash.b, zero, 32) != 0;
    bool lt = ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_ACCOUNTS_LT_HASH) && m->extra.has_accounts_lt_hash;
    if (delta) return lt ? "transitional" : "merkle";
    return lt ? "lattice" : NULL;
}

int
adb_manifest_bank_hash(adb_manifest_t const *m, uint8_t hash_out[32]) {
    memset(hash_out, 0, 32);
    adb_bank_fields_t const *b = &m->bank;
    char const              *era = adb_manifest_bank_hash_era(m);
    if (!era) return ACCTDB_ERR_UNSUPPORTED;
    static uint8_t const zero[32];
    adb_bankhash_in_t    in = {
           .parent_hash = b->parent_hash.b,
           .signature_count = b->signature_count,
           .last_blockhash = b->blockhash_queue.has_last_hash ? b->blockhash_queue.last_hash.b : zero,
           .hard_fork_cnt = adb_bankhash_fork_cnt(b->hard_forks, (size_t)b->hard_forks_cnt,
                                                  b->parent_slot, b->slot),
    };
    if (strcmp(era, "lattice"))
        in.accounts_delta_hash = m->accounts_db.bank_hash_info.accounts_delta_hash.b;
    if (strcmp(era, "merkle")) {
        in.accounts_lt_hash = m->extra.accounts_lt_hash;
    } else if (m->extra.has_epoch_accounts_hash) {
        /* The EAH entered the one bank whose (parent, slot] holds its epoch's
         * stop slot. */
        uint64_t stop = adb_epoch_eah_stop(&b->epoch_schedule, b->slot);
        if (stop != UINT64_MAX && b->parent_slot < stop && stop <= b->slot)
            in.epoch_accounts_hash = m->extra.epoch_accounts_hash.b;
    }
    return adb_bankhash(&in, hash_out);
}

/* ======================================================================== */
/* JSON                                                                     */
/* ======================================================================== */

static void
js_u64(adb_json_t *j, char const *k, uint64_t v) {
    adb_json_key(j, k);
    adb_json_u64(j, v);
}

static void
js_f64(adb_json_t *j, char const *k, double v) {
    adb_json_key(j, k);
    adb_json_f64(j, v);
}

static void
js_b58(adb_json_t *j, char const *k, uint8_t const b[32]) {
    adb_json_key(j, k);
    adb_json_b58_32(j, b);
}

static void
js_opt_b58(adb_json_t *j, char const *k, bool has, uint8_t const b[32]) {
    adb_json_key(j, k);
    if (has)
        adb_json_b58_32(j, b);
    else
        adb_json_null(j);
}

static void
js_bool(adb_json_t *j, char const *k, bool v) {
    adb_json_key(j, k);
    adb_json_bool(j, v);
}

static void
js_slot_u64s(adb_json_t *j, char const *k, char const *vk, adb_slot_u64_t const *a, uint64_t n) {
    adb_json_key(j, k);
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < n; i++) {
        adb_json_obj_begin(j);
        js_u64(j, "slot", a[i].slot);
        js_u64(j, vk, a[i].val);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
}

static void
js_pubkeys(adb_json_t *j, char const *k, acctdb_pubkey_t const *a, uint64_t n) {
    adb_json_key(j, k);
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < n; i++)
        adb_json_b58_32(j, a[i].b);
    adb_json_arr_end(j);
}

static void
js_epoch_schedule(adb_json_t *j, char const *k, adb_epoch_schedule_t const *es) {
    adb_json_key(j, k);
    adb_json_obj_begin(j);
    js_u64(j, "slots_per_epoch", es->slots_per_epoch);
    js_u64(j, "leader_schedule_slot_offset", es->leader_schedule_slot_offset);
    js_bool(j, "warmup", es->warmup);
    js_u64(j, "first_normal_epoch", es->first_normal_epoch);
    js_u64(j, "first_normal_slot", es->first_normal_slot);
    adb_json_obj_end(j);
}

static void
js_account(adb_json_t *j, adb_bank_account_t const *a) {
    js_u64(j, "lamports", a->lamports);
    js_u64(j, "data_len", a->data_sz);
    adb_json_key(j, "data_hex");
    adb_json_hex(j, a->data, (size_t)a->data_sz);
    js_b58(j, "owner", a->owner.b);
    js_bool(j, "executable", a->executable);
    js_u64(j, "rent_epoch", a->rent_epoch);
}

static void
js_stakes(adb_json_t *j, char const *k, adb_stakes_t const *st) {
    adb_json_key(j, k);
    adb_json_obj_begin(j);
    adb_json_key(j, "vote_accounts");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < st->vote_accounts_cnt; i++) {
        adb_vote_account_t const *va = &st->vote_accounts[i];
        adb_json_obj_begin(j);
        js_b58(j, "vote_pubkey", va->vote_pubkey.b);
        js_u64(j, "stake", va->stake);
        js_account(j, &va->account);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    adb_json_key(j, "stake_delegations");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < st->delegations_cnt; i++) {
        adb_stake_delegation_t const *sd = &st->delegations[i];
        adb_json_obj_begin(j);
        js_b58(j, "stake_pubkey", sd->stake_pubkey.b);
        js_b58(j, "voter_pubkey", sd->delegation.voter_pubkey.b);
        js_u64(j, "stake", sd->delegation.stake);
        js_u64(j, "activation_epoch", sd->delegation.activation_epoch);
        js_u64(j, "deactivation_epoch", sd->delegation.deactivation_epoch);
        js_f64(j, "warmup_cooldown_rate", sd->delegation.warmup_cooldown_rate);
        if (st->is_stake_form) js_u64(j, "credits_observed", sd->credits_observed);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    js_u64(j, "unused", st->unused);
    js_u64(j, "epoch", st->epoch);
    adb_json_key(j, "stake_history");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < st->stake_history_cnt; i++) {
        adb_stake_history_entry_t const *e = &st->stake_history[i];
        adb_json_obj_begin(j);
        js_u64(j, "epoch", e->epoch);
        js_u64(j, "effective", e->effective);
        js_u64(j, "activating", e->activating);
        js_u64(j, "deactivating", e->deactivating);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    adb_json_obj_end(j);
}

static void
js_epoch_stakes(adb_json_t *j, char const *k, adb_epoch_stakes_t const *a, uint64_t n,
                bool versioned) {
    adb_json_key(j, k);
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < n; i++) {
        adb_epoch_stakes_t const *es = &a[i];
        adb_json_obj_begin(j);
        js_u64(j, "epoch", es->epoch);
        if (versioned) {
            adb_json_key(j, "variant");
            if (es->variant == 0)
                adb_json_str(j, "Current");
            else
                adb_json_u64(j, es->variant);
        }
        js_stakes(j, "stakes", &es->stakes);
        js_u64(j, "total_stake", es->total_stake);
        adb_json_key(j, "node_id_to_vote_accounts");
        adb_json_arr_begin(j);
        for (uint64_t t = 0; t < es->node_vote_accounts_cnt; t++) {
            adb_node_vote_accounts_t const *nv = &es->node_vote_accounts[t];
            adb_json_obj_begin(j);
            js_b58(j, "node_id", nv->node_id.b);
            js_pubkeys(j, "vote_pubkeys", nv->vote_pubkeys, nv->vote_pubkeys_cnt);
            js_u64(j, "total_stake", nv->total_stake);
            adb_json_obj_end(j);
        }
        adb_json_arr_end(j);
        adb_json_key(j, "epoch_authorized_voters");
        adb_json_arr_begin(j);
        for (uint64_t t = 0; t < es->authorized_voters_cnt; t++) {
            adb_json_obj_begin(j);
            js_b58(j, "vote_pubkey", es->authorized_voters[t].vote_pubkey.b);
            js_b58(j, "authorized_voter", es->authorized_voters[t].voter.b);
            adb_json_obj_end(j);
        }
        adb_json_arr_end(j);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
}

static void
js_bank(adb_json_t *j, adb_bank_fields_t const *b) {
    adb_json_key(j, "bank_fields");
    adb_json_obj_begin(j);
    adb_blockhash_queue_t const *q = &b->blockhash_queue;
    adb_json_key(j, "blockhash_queue");
    adb_json_obj_begin(j);
    js_u64(j, "last_hash_index", q->last_hash_index);
    js_opt_b58(j, "last_hash", q->has_last_hash, q->last_hash.b);
    adb_json_key(j, "hashes");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < q->ages_cnt; i++) {
        adb_json_obj_begin(j);
        js_b58(j, "hash", q->ages[i].hash.b);
        js_u64(j, "lamports_per_signature", q->ages[i].lamports_per_signature);
        js_u64(j, "hash_index", q->ages[i].hash_index);
        js_u64(j, "timestamp_ms", q->ages[i].timestamp);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    js_u64(j, "max_age", q->max_age);
    adb_json_obj_end(j);
    js_slot_u64s(j, "ancestors", "value", b->ancestors, b->ancestors_cnt);
    js_b58(j, "hash", b->hash.b);
    js_b58(j, "parent_hash", b->parent_hash.b);
    js_u64(j, "parent_slot", b->parent_slot);
    js_slot_u64s(j, "hard_forks", "count", b->hard_forks, b->hard_forks_cnt);
    js_u64(j, "transaction_count", b->transaction_count);
    js_u64(j, "tick_height", b->tick_height);
    js_u64(j, "signature_count", b->signature_count);
    js_u64(j, "capitalization", b->capitalization);
    js_u64(j, "max_tick_height", b->max_tick_height);
    adb_json_key(j, "hashes_per_tick");
    if (b->has_hashes_per_tick)
        adb_json_u64(j, b->hashes_per_tick);
    else
        adb_json_null(j);
    js_u64(j, "ticks_per_slot", b->ticks_per_slot);
    adb_json_key(j, "ns_per_slot");
    adb_json_u128(j, b->ns_per_slot);
    adb_json_key(j, "genesis_creation_time");
    adb_json_i64(j, b->genesis_creation_time);
    js_f64(j, "slots_per_year", b->slots_per_year);
    js_u64(j, "accounts_data_len", b->accounts_data_len);
    js_u64(j, "slot", b->slot);
    js_u64(j, "epoch", b->epoch);
    js_u64(j, "block_height", b->block_height);
    js_b58(j, "leader_id", b->leader_id.b);
    js_u64(j, "collector_fees", b->collector_fees);
    js_u64(j, "fee_calculator", b->fee_calculator);
    adb_fee_rate_governor_t const *g = &b->fee_rate_governor;
    adb_json_key(j, "fee_rate_governor");
    adb_json_obj_begin(j);
    js_u64(j, "target_lamports_per_signature", g->target_lamports_per_signature);
    js_u64(j, "target_signatures_per_slot", g->target_signatures_per_slot);
    js_u64(j, "min_lamports_per_signature", g->min_lamports_per_signature);
    js_u64(j, "max_lamports_per_signature", g->max_lamports_per_signature);
    js_u64(j, "burn_percent", g->burn_percent);
    adb_json_obj_end(j);
    js_u64(j, "collected_rent", b->collected_rent);
    adb_rent_collector_t const *rc = &b->rent_collector;
    adb_json_key(j, "rent_collector");
    adb_json_obj_begin(j);
    js_u64(j, "epoch", rc->epoch);
    js_epoch_schedule(j, "epoch_schedule", &rc->epoch_schedule);
    js_f64(j, "slots_per_year", rc->slots_per_year);
    adb_json_key(j, "rent");
    adb_json_obj_begin(j);
    js_u64(j, "lamports_per_byte_year", rc->rent.lamports_per_byte_year);
    js_f64(j, "exemption_threshold", rc->rent.exemption_threshold);
    js_u64(j, "burn_percent", rc->rent.burn_percent);
    adb_json_obj_end(j);
    adb_json_obj_end(j);
    js_epoch_schedule(j, "epoch_schedule", &b->epoch_schedule);
    adb_inflation_t const *in = &b->inflation;
    adb_json_key(j, "inflation");
    adb_json_obj_begin(j);
    js_f64(j, "initial", in->initial);
    js_f64(j, "terminal", in->terminal);
    js_f64(j, "taper", in->taper);
    js_f64(j, "foundation", in->foundation);
    js_f64(j, "foundation_term", in->foundation_term);
    js_f64(j, "unused", in->unused);
    adb_json_obj_end(j);
    js_stakes(j, "stakes", &b->stakes);
    adb_json_key(j, "unused_accounts");
    adb_json_obj_begin(j);
    js_pubkeys(j, "unused1", b->unused_accounts1, b->unused_accounts1_cnt);
    js_pubkeys(j, "unused2", b->unused_accounts2, b->unused_accounts2_cnt);
    adb_json_key(j, "unused3");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < b->unused_accounts3_cnt; i++) {
        adb_json_obj_begin(j);
        js_b58(j, "pubkey", b->unused_accounts3[i].key.b);
        js_u64(j, "value", b->unused_accounts3[i].val);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    adb_json_obj_end(j);
    js_epoch_stakes(j, "epoch_stakes", b->epoch_stakes, b->epoch_stakes_cnt, false);
    js_bool(j, "is_delta", b->is_delta);
    adb_json_obj_end(j);
}

static void
js_accounts_db(adb_json_t *j, adb_manifest_t const *m) {
    adb_accounts_db_fields_t const *a = &m->accounts_db;
    adb_json_key(j, "accounts_db_fields");
    adb_json_obj_begin(j);
    adb_json_key(j, "storages");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < a->storages_cnt; i++) {
        adb_json_obj_begin(j);
        js_u64(j, "slot", a->storages[i].slot);
        adb_json_key(j, "entries");
        adb_json_arr_begin(j);
        for (uint64_t k = 0; k < a->storages[i].entries_cnt; k++) {
            adb_json_obj_begin(j);
            js_u64(j, "id", a->storages[i].entries[k].id);
            js_u64(j, "accounts_current_len", a->storages[i].entries[k].current_len);
            adb_json_obj_end(j);
        }
        adb_json_arr_end(j);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    js_u64(j, "write_version", a->write_version);
    js_u64(j, "slot", a->slot);
    adb_bank_hash_info_t const *h = &a->bank_hash_info;
    adb_json_key(j, "bank_hash_info");
    adb_json_obj_begin(j);
    js_b58(j, "accounts_delta_hash", h->accounts_delta_hash.b);
    js_b58(j, "accounts_hash", h->accounts_hash.b);
    js_u64(j, "num_updated_accounts", h->num_updated_accounts);
    js_u64(j, "num_removed_accounts", h->num_removed_accounts);
    js_u64(j, "num_lamports_stored", h->num_lamports_stored);
    js_u64(j, "total_data_len", h->total_data_len);
    js_u64(j, "num_executable_accounts", h->num_executable_accounts);
    adb_json_obj_end(j);
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_HISTORICAL_ROOTS)) {
        adb_json_key(j, "historical_roots");
        adb_json_arr_begin(j);
        for (uint64_t i = 0; i < a->historical_roots_cnt; i++)
            adb_json_u64(j, a->historical_roots[i]);
        adb_json_arr_end(j);
    }
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_HISTORICAL_ROOTS_WITH_HASH)) {
        adb_json_key(j, "historical_roots_with_hash");
        adb_json_arr_begin(j);
        for (uint64_t i = 0; i < a->historical_roots_with_hash_cnt; i++) {
            adb_json_obj_begin(j);
            js_u64(j, "slot", a->historical_roots_with_hash[i].slot);
            js_b58(j, "hash", a->historical_roots_with_hash[i].hash.b);
            adb_json_obj_end(j);
        }
        adb_json_arr_end(j);
    }
    adb_json_obj_end(j);
}

static void
js_extra(adb_json_t *j, adb_manifest_t const *m) {
    adb_extra_fields_t const *x = &m->extra;
    adb_json_key(j, "extra_fields");
    adb_json_obj_begin(j);
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_LAMPORTS_PER_SIGNATURE))
        js_u64(j, "lamports_per_signature", x->lamports_per_signature);
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_INCREMENTAL_PERSISTENCE)) {
        adb_json_key(j, "incremental_snapshot_persistence");
        if (x->has_incremental_persistence) {
            adb_incremental_persistence_t const *p = &x->incremental_persistence;
            adb_json_obj_begin(j);
            js_u64(j, "full_slot", p->full_slot);
            js_b58(j, "full_hash", p->full_hash.b);
            js_u64(j, "full_capitalization", p->full_capitalization);
            js_b58(j, "incremental_hash", p->incremental_hash.b);
            js_u64(j, "incremental_capitalization", p->incremental_capitalization);
            adb_json_obj_end(j);
        } else {
            adb_json_null(j);
        }
    }
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_EPOCH_ACCOUNTS_HASH))
        js_opt_b58(j, "epoch_accounts_hash", x->has_epoch_accounts_hash, x->epoch_accounts_hash.b);
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_VERSIONED_EPOCH_STAKES))
        js_epoch_stakes(j, "versioned_epoch_stakes", x->versioned_epoch_stakes,
                        x->versioned_epoch_stakes_cnt, true);
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_ACCOUNTS_LT_HASH)) {
        adb_json_key(j, "accounts_lt_hash");
        if (x->has_accounts_lt_hash)
            adb_json_hex(j, x->accounts_lt_hash, ADB_LTHASH_SZ);
        else
            adb_json_null(j);
    }
    if (ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_BLOCK_ID))
        js_opt_b58(j, "block_id", x->has_block_id, x->block_id.b);
    adb_json_obj_end(j);
}

void
adb_manifest_json(adb_json_t *j, adb_manifest_t const *m) {
    adb_json_obj_begin(j);
    js_bank(j, &m->bank);
    js_accounts_db(j, m);
    js_extra(j, m);
    adb_json_key(j, "trailing_hex");
    adb_json_hex(j, m->trailing, (size_t)m->trailing_sz);
    adb_json_obj_end(j);
}

int
adb_manifest_to_json(adb_manifest_t const *m, FILE *f, bool pretty) {
    adb_json_t j;
    adb_json_init_file(&j, f);
    adb_json_set_pretty(&j, pretty);
    adb_manifest_json(&j, m);
    int rc = adb_json_finish(&j);
    adb_json_fini(&j);
    /* A final newline for terminals; not part of the JSON value. */
    if (rc == 0 && pretty && (fputc('\n', f) == EOF || fflush(f) != 0)) rc = ACCTDB_ERR_IO;
    return rc;
}

int
adb_manifest_to_json_buf(adb_manifest_t const *m, bool pretty, char **text_out, size_t *sz_out) {
    adb_json_t j;
    adb_json_init_buf(&j);
    adb_json_set_pretty(&j, pretty);
    adb_manifest_json(&j, m);
    int rc = adb_json_take(&j, text_out, sz_out);
    adb_json_fini(&j);
    return rc;
}
