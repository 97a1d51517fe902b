/* src/snapshot/genesis_load.c - genesis.bin as the state at slot 0 (its
 * accounts into a bulk database), and acctdb_genesis_info. */
#include "bank/bank.h"
#include "hash/lthash.h"
#include "snapshot/genesis.h"
#include "snapshot/manifest.h"
#include "snapshot/load.h"
#include "store/acctfile.h"
#include "util/io.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define GENESIS_MAX_SZ (1u << 30)

static int
read_genesis(char const *path, adb_genesis_t *g, size_t *file_sz, adb_err_t *err) {
    uint8_t *buf;
    size_t   sz;
    int      rc = adb_io_read_file(adb_io(), AT_FDCWD, path, GENESIS_MAX_SZ, &buf, &sz);
    if (rc)
        return adb_err_set(err, rc, "%s: %s", path,
                           rc == ACCTDB_ERR_FULL ? "larger than 1 GiB" : acctdb_strerror(rc));
    adb_err_t e = {0};
    rc = adb_genesis_decode(buf, sz, 0, g, &e);
    adb_free(buf);
    if (rc) return adb_err_set(err, rc, "%s: %s", path, e.msg);
    *file_sz = sz;
    return 0;
}

static void
to_account(adb_genesis_account_t const *ga, acctdb_account_t *a) {
    a->pubkey = ga->pubkey;
    a->owner = ga->account.owner;
    a->lamports = ga->account.lamports;
    a->rent_epoch = ga->account.rent_epoch;
    a->data = ga->account.data;
    a->data_len = ga->account.data_sz;
    a->executable = ga->account.executable;
}

/* The genesis accounts as a bank source (the bank module reads the vote
 * and stake accounts through it). */
typedef struct gsrc {
    adb_genesis_t const *g;
} gsrc_t;

static int
gsrc_get(void *ctx, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t **buf, size_t *cap) {
    (void)buf, (void)cap;
    gsrc_t *c = ctx;
    for (uint64_t k = 0; k < c->g->accounts_cnt; k++)
        if (!memcmp(c->g->accounts[k].pubkey.b, key->b, 32)) {
            to_account(&c->g->accounts[k], out);
            return out->lamports ? 0 : ACCTDB_ERR_NOT_FOUND;
        }
    return ACCTDB_ERR_NOT_FOUND;
}

static int
gsrc_each(void *ctx, acctdb_pubkey_t const *owner, int (*fn)(void *, acctdb_account_t const *),
          void *fctx) {
    gsrc_t *c = ctx;
    for (uint64_t k = 0; k < c->g->accounts_cnt; k++) {
        acctdb_account_t a;
        to_account(&c->g->accounts[k], &a);
        if (!a.lamports || memcmp(a.owner.b, owner->b, 32)) continue;
        ADB_TRY(fn(fctx, &a));
    }
    return 0;
}

static void
bank_genesis_of(adb_genesis_t const *g, adb_bank_genesis_t *bg) {
    *bg = (adb_bank_genesis_t){.hash = g->hash,
                               .creation_time = g->creation_time,
                               .ticks_per_slot = g->ticks_per_slot,
                               .tick_ns = g->poh_config.target_tick_secs * 1000000000ull +
                                          g->poh_config.target_tick_nanos,
                               .has_hashes_per_tick = g->poh_config.has_hashes_per_tick,
                               .hashes_per_tick = g->poh_config.hashes_per_tick,
                               .fee_rate_governor = g->fee_rate_governor,
                               .rent = g->rent,
                               .inflation = g->inflation,
                               .epoch_schedule = g->epoch_schedule};
}

int
adb_genesis_bank_read(char const *path, adb_bank_genesis_t *out, adb_err_t *err) {
    adb_genesis_t g;
    size_t        sz;
    ADB_TRY(read_genesis(path, &g, &sz, err));
    bank_genesis_of(&g, out);
    adb_genesis_fini(&g);
    return 0;
}

/* The sysvars genesis does not define itself (Agave writes them; one the
 * genesis holds keeps its lamports, raised to the rent minimum). */
static void
genesis_sysvars(adb_genesis_t const *g, adb_bank_genesis_t *bg, adb_bank_genesis_sysvars_t *sv) {
    bank_genesis_of(g, bg);
    adb_bank_genesis_sysvars(bg, sv);
    for (size_t i = 0; i < sv->cnt; i++)
        for (uint64_t k = 0; k < g->accounts_cnt; k++)
            if (!memcmp(g->accounts[k].pubkey.b, sv->a[i].pubkey.b, 32)) {
                if (g->accounts[k].account.lamports > sv->a[i].lamports)
                    sv->a[i].lamports = g->accounts[k].account.lamports;
                sv->a[i].rent_epoch = g->accounts[k].account.rent_epoch;
            }
}

int
adb_snap_load_genesis(adb_snap_t **snap_out, char const *path, adb_load_opts_t const *opts) {
    *snap_out = NULL;
    adb_snap_t *s = adb_calloc(1, sizeof *s);
    if (!s) return ACCTDB_ERR_NOMEM;
    *snap_out = s;
    s->opts = *opts;
    s->era = "genesis";
    snprintf(s->full.path, sizeof s->full.path, "%s", path);
    adb_genesis_t g;
    size_t        fsz;
    int           rc = read_genesis(path, &g, &fsz, &s->err);
    if (rc) return rc;
    adb_db_cfg_t                cfg = {.dir = opts->store_dir,
                                       .threads = opts->threads,
                                       .io = opts->io,
                                       .expected_accounts = g.accounts_cnt + g.rewards_pools_cnt};
    uint8_t                    *buf = NULL, *mbuf = NULL;
    size_t                      msz = 0;
    uint64_t                    total = 0;
    uint32_t                    file;
    adb_bank_genesis_t          bg;
    adb_bank_genesis_sysvars_t *sv = adb_malloc(sizeof *sv);
    adb_manifest_t              man;
    adb_manifest_init(&man);
    if (!sv) {
        rc = adb_err_set(&s->err, ACCTDB_ERR_NOMEM, "out of memory");
        goto done;
    }
    genesis_sysvars(&g, &bg, sv);
    if ((rc = adb_db_bulk_create(&s->db, &cfg, &s->err))) goto done;
    adb_db_bulk_set_hash(s->db, ADB_DB_HASH_CURRENT);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t       off = 0;
        uint64_t const ng = g.accounts_cnt + g.rewards_pools_cnt;
        for (uint64_t k = 0; k < ng + sv->cnt; k++) {
            acctdb_account_t a;
            if (k >= ng)
                a = sv->a[k - ng]; /* after the genesis accounts: the newer version */
            else
                to_account(
                    k < g.accounts_cnt ? &g.accounts[k] : &g.rewards_pools[k - g.accounts_cnt], &a);
            if (a.data_len > ADB_ACCT_MAX_DATA_SZ ||
                (!a.lamports && (a.data_len || a.executable))) {
                rc = adb_err_set(&s->err, ACCTDB_ERR_CORRUPT,
                                 "%s: genesis account %llu cannot be stored (data %llu bytes, "
                                 "%llu lamports)",
                                 path, (unsigned long long)k, (unsigned long long)a.data_len,
                                 (unsigned long long)a.lamports);
                goto done;
            }
            if (pass == 0)
                total += adb_acct_rec_sz(a.data_len);
            else
                off += adb_acct_rec_write(buf + off, &a);
        }
        if (pass == 0 && !(buf = adb_malloc(total ? (size_t)total : 1))) {
            rc = adb_err_set(&s->err, ACCTDB_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    if (total) {
        if ((rc = adb_db_bulk_file_begin(s->db, 0, total, &file)) ||
            (rc = adb_db_bulk_file_append(s->db, file, buf, (size_t)total)) ||
            (rc = adb_db_bulk_file_end(s->db, file, total))) {
            adb_err_set(&s->err, rc, "%s", adb_db_errmsg(s->db));
            goto done;
        }
        s->full.account_files = 1;
    }
    if ((rc = adb_db_bulk_totals(s->db, true, &s->totals))) {
        adb_err_set(&s->err, rc, "%s", adb_db_errmsg(s->db));
        goto done;
    }
    s->full.compressed_sz = fsz;
    s->verified = true;
    /* Bank 0 as the genesis implies it: its fields are the database's
     * origin manifest (DIR/manifest.bin). */
    {
        gsrc_t         gc = {&g};
        adb_bank_src_t src = {gsrc_get, gsrc_each, &gc};
        rc = adb_bank_genesis_fields(&bg, &src, &s->totals.lthash, s->totals.capitalization,
                                     s->totals.data_len, &man.mem, &man.bank, &man.extra);
        if (!rc) {
            man.present_cnt = ADB_MANIFEST_F_ACCOUNTS_LT_HASH; /* no block id at genesis */
            man.accounts_db.slot = 0;
            rc = adb_manifest_encode_buf(&man, &mbuf, &msz);
        }
        if (rc) {
            adb_err_set(&s->err, rc, "%s: building bank 0: %s", path, acctdb_strerror(rc));
            goto done;
        }
    }
    adb_db_meta_t meta = {.slot = 0,
                          .base_slot = UINT64_MAX,
                          .totals = s->totals,
                          .last_full_slot = UINT64_MAX,
                          .origin_slot = 0};
    adb_snap_root_info(&man, &meta.root);
    if ((rc = adb_db_commit_load(s->db, &meta, mbuf, msz, NULL, 0))) {
        adb_err_set(&s->err, rc, "%s", adb_db_errmsg(s->db));
        goto done;
    }
    s->complete = true;
done:
    adb_free(buf);
    adb_free(mbuf);
    adb_free(sv);
    adb_manifest_fini(&man);
    adb_genesis_fini(&g);
    return rc;
}

/* ---- public ------------------------------------------------------------- */

static char const *
cluster_name(uint32_t t) {
    switch (t) {
    case 0:
        return "Testnet";
    case 1:
        return "MainnetBeta";
    case 2:
        return "Devnet";
    case 3:
        return "Development";
    default:
        return "unknown";
    }
}

int
acctdb_genesis_info(char const *path, acctdb_genesis_info_t *out, char *msg_out, size_t msg_max) {
    if (!path || !out) return ACCTDB_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (msg_out && msg_max) msg_out[0] = 0;
    adb_genesis_t g;
    adb_err_t     e = {0};
    size_t        fsz;
    int           rc = read_genesis(path, &g, &fsz, &e);
    if (rc) {
        if (msg_out && msg_max) snprintf(msg_out, msg_max, "%s", e.msg);
        return rc;
    }
    out->hash = g.hash;
    out->creation_time = g.creation_time;
    out->cluster_type = g.cluster_type;
    out->cluster_name = cluster_name(g.cluster_type);
    out->accounts = g.accounts_cnt;
    out->rewards_pools = g.rewards_pools_cnt;
    out->native_programs = g.native_instruction_processors_cnt;
    for (uint64_t k = 0; k < g.accounts_cnt; k++)
        out->capitalization += g.accounts[k].account.lamports;
    out->ticks_per_slot = g.ticks_per_slot;
    out->slots_per_epoch = g.epoch_schedule.slots_per_epoch;
    out->file_sz = fsz;
    adb_genesis_fini(&g);
    return 0;
}
