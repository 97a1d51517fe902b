/* src/snapshot/genesis_load.c - genesis.bin as the state at slot 0 (its
 * accounts into a bulk database), and acctdb_genesis_info. */
#include "hash/lthash.h"
#include "snapshot/genesis.h"
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
    int      rc = adb_io_read_file(AT_FDCWD, path, GENESIS_MAX_SZ, &buf, &sz);
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
    adb_db_cfg_t cfg = {.dir = opts->store_dir,
                        .threads = opts->threads,
                        .expected_accounts = g.accounts_cnt + g.rewards_pools_cnt};
    uint8_t     *buf = NULL;
    uint64_t     total = 0;
    uint32_t     file;
    if ((rc = adb_db_bulk_create(&s->db, &cfg, &s->err))) goto done;
    adb_db_bulk_set_hash(s->db, ADB_DB_HASH_CURRENT);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t off = 0;
        for (uint64_t k = 0; k < g.accounts_cnt + g.rewards_pools_cnt; k++) {
            adb_genesis_account_t const *ga =
                k < g.accounts_cnt ? &g.accounts[k] : &g.rewards_pools[k - g.accounts_cnt];
            acctdb_account_t a;
            to_account(ga, &a);
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
    /* The state at slot 0: no parent; its "bank hash" is the genesis hash. */
    adb_db_meta_t meta = {.slot = 0,
                          .base_slot = UINT64_MAX,
                          .totals = s->totals,
                          .last_full_slot = UINT64_MAX,
                          .origin_slot = 0};
    meta.root.lt_hash = s->totals.lthash;
    adb_lthash_checksum(&meta.root.lt_hash, meta.root.lt_checksum);
    meta.root.capitalization = s->totals.capitalization;
    meta.root.accounts_data_len = s->totals.data_len;
    meta.root.bank_hash = g.hash;
    meta.root.meta.blockhash = g.hash;
    meta.root.meta.unix_timestamp = g.creation_time;
    if ((rc = adb_db_commit_load(s->db, &meta, NULL, 0, NULL, 0))) {
        adb_err_set(&s->err, rc, "%s", adb_db_errmsg(s->db));
        goto done;
    }
    s->complete = true;
done:
    adb_free(buf);
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
