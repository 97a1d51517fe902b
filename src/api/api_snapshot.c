/* src/api/api_snapshot.c - the public acctdb_snapshot_* functions: thin
 * wrappers over the loader (src/snapshot/load.c) and db's read API. */
#include "snapshot/bincode_types.h"
#include "bank/bank.h"
#include "snapshot/load.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

struct acctdb_snapshot {
    adb_snap_t        *s;
    adb_bank_genesis_t genesis;
    char               tmpdir[4096]; /* non-empty: ours to remove */
    uint8_t           *buf;
    size_t             buf_cap;
};

static int
rm_cb(char const *p, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void
progress_tramp(void *ctx, char const *what, uint64_t done, uint64_t total) {
    acctdb_snapshot_opts_t const *o = ctx;
    o->progress(o->progress_ctx, what, done, total);
}

static int
open_common(acctdb_snapshot_t **snap_out, char const *full_path, char const *incremental_path,
            acctdb_snapshot_opts_t const *opts, bool genesis) {
    if (!snap_out) return ACCTDB_ERR_INVALID;
    *snap_out = NULL;
    if (!full_path) return ACCTDB_ERR_INVALID;
    acctdb_snapshot_opts_t none = {0};
    if (!opts) opts = &none;
    acctdb_snapshot_t *h = adb_calloc(1, sizeof *h);
    if (!h) return ACCTDB_ERR_NOMEM;

    adb_load_opts_t lo;
    adb_load_opts_default(&lo);
    lo.verify = !opts->no_verify;
    lo.strict_name = opts->strict_name;
    lo.manifest_only = opts->manifest_only;
    lo.threads = opts->threads;
    if (opts->progress) {
        lo.progress = progress_tramp;
        lo.progress_ctx = (void *)opts;
    }
    if (opts->genesis_path && !genesis) {
        adb_err_t e = {0};
        int       rc = adb_genesis_bank_read(opts->genesis_path, &h->genesis, &e);
        if (rc) {
            /* A snapshot object to carry the message. */
            h->s = adb_calloc(1, sizeof *h->s);
            if (!h->s) {
                adb_free(h);
                return ACCTDB_ERR_NOMEM;
            }
            h->s->err = e;
            *snap_out = h;
            return rc;
        }
        lo.genesis = &h->genesis;
    }
    lo.store_dir = opts->store_dir;
    if (!lo.store_dir && !opts->manifest_only) {
        char const *t = getenv("TMPDIR");
        snprintf(h->tmpdir, sizeof h->tmpdir, "%s/acctdb-snapshot-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(h->tmpdir)) {
            int e = -errno;
            adb_free(h);
            return e;
        }
        lo.store_dir = h->tmpdir;
    }
    int rc = genesis ? adb_snap_load_genesis(&h->s, full_path, &lo)
                     : adb_snap_load(&h->s, full_path, incremental_path, &lo);
    if (!h->s) {
        acctdb_snapshot_close(h);
        return rc;
    }
    *snap_out = h;
    return rc;
}

int
acctdb_snapshot_open(acctdb_snapshot_t **snap_out, char const *full_path,
                     char const *incremental_path, acctdb_snapshot_opts_t const *opts) {
    return open_common(snap_out, full_path, incremental_path, opts, false);
}

int
acctdb_genesis_open(acctdb_snapshot_t **snap_out, char const *path,
                    acctdb_snapshot_opts_t const *opts) {
    return open_common(snap_out, path, NULL, opts, true);
}

int
acctdb_snapshot_find(char const *dir, char *full_out, size_t full_max, char *inc_out,
                     size_t inc_max, char *msg_out, size_t msg_max) {
    if (!dir || !full_out || !inc_out || !full_max || !inc_max) return ACCTDB_ERR_INVALID;
    full_out[0] = inc_out[0] = 0;
    if (msg_out && msg_max) msg_out[0] = 0;
    char     *f = NULL, *i = NULL;
    adb_err_t e = {0};
    int       rc = adb_snap_find_in_dir(dir, &f, &i, &e);
    if (!rc && (strlen(f) >= full_max || (i && strlen(i) >= inc_max))) {
        rc = ACCTDB_ERR_FULL;
        adb_err_set(&e, rc, "path too long for the caller's buffer");
    }
    if (!rc) {
        strcpy(full_out, f);
        if (i) strcpy(inc_out, i);
    } else if (msg_out && msg_max) {
        snprintf(msg_out, msg_max, "%s", e.msg);
    }
    adb_free(f);
    adb_free(i);
    return rc;
}

char const *
acctdb_snapshot_errmsg(acctdb_snapshot_t const *s) {
    return s && s->s ? s->s->err.msg : "";
}

void
acctdb_snapshot_close(acctdb_snapshot_t *s) {
    if (!s) return;
    adb_snap_close(s->s);
    if (s->tmpdir[0]) nftw(s->tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    adb_free(s->buf);
    adb_free(s);
}

int
acctdb_snapshot_info(acctdb_snapshot_t const *h, acctdb_snapshot_info_t *out) {
    if (!h || !out) return ACCTDB_ERR_INVALID;
    memset(out, 0, sizeof *out);
    adb_snap_t const         *s = h->s;
    adb_archive_info_t const *last = s->has_inc && s->inc.has_manifest ? &s->inc : &s->full;
    adb_manifest_t const     *m = &last->manifest;
    out->slot = m->bank.slot;
    out->has_incremental = s->has_inc;
    out->base_slot = s->has_inc ? s->full.manifest.bank.slot : 0;
    out->era = s->era ? s->era : (m->extra.has_accounts_lt_hash ? "lattice" : "merkle");
    out->lt_formula = s->formula;
    out->store_dir = s->opts.store_dir;
    out->account_files = s->full.account_files + s->inc.account_files;
    out->records = s->totals.records;
    out->live_accounts = s->totals.live_cnt;
    out->duplicates = s->totals.dup_cnt;
    out->has_sums = s->totals.has_sums;
    out->capitalization = s->totals.capitalization;
    out->accounts_data_len = s->totals.data_len;
    out->manifest_capitalization = m->bank.capitalization;
    out->manifest_accounts_data_len = m->bank.accounts_data_len;
    out->epoch = adb_epoch_of(&m->bank.epoch_schedule, m->bank.slot);
    out->parent_slot = m->bank.parent_slot;
    out->block_height = m->bank.block_height;
    if (m->extra.has_accounts_lt_hash) {
        acctdb_lthash_t lt;
        memcpy(lt.v, m->extra.accounts_lt_hash, sizeof lt.v);
        acctdb_lthash_checksum(&lt, out->lt_checksum);
        out->has_lt_checksum = true;
    }
    out->bank_hash = m->bank.hash;
    out->parent_bank_hash = m->bank.parent_hash;
    out->has_archive_hash = last->name_ok;
    out->archive_hash = last->name.hash;
    out->compressed_sz = s->full.compressed_sz + s->inc.compressed_sz;
    out->uncompressed_sz = s->full.tar_sz + s->inc.tar_sz;
    out->zstd_frames = s->full.frames + s->inc.frames;
    out->manifest_sz = last->manifest_raw_sz;
    out->status_cache_sz = last->status_cache_raw_sz;
    out->verified = s->verified && s->opts.verify;
    out->complete = s->complete;
    return 0;
}

size_t
acctdb_snapshot_check_cnt(acctdb_snapshot_t const *s) {
    return s && s->s ? s->s->check_cnt : 0;
}

int
acctdb_snapshot_check(acctdb_snapshot_t const *s, size_t i, acctdb_check_t *out) {
    if (!s || !out || i >= acctdb_snapshot_check_cnt(s)) return ACCTDB_ERR_INVALID;
    adb_check_t const *c = &s->s->checks[i];
    out->name = c->name;
    out->status = (acctdb_check_status_t)c->status;
    out->detail = c->detail;
    return 0;
}

int
acctdb_snapshot_get(acctdb_snapshot_t *s, acctdb_pubkey_t const *pubkey, acctdb_account_t *out,
                    uint64_t *slot_out) {
    if (!s || !pubkey || !out) return ACCTDB_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (slot_out) *slot_out = 0;
    if (!s->s->db || !s->s->complete) return ACCTDB_ERR_INVALID;
    adb_db_acct_t a;
    int           rc = adb_db_get(s->s->db, pubkey->b, &a, &s->buf, &s->buf_cap);
    if (rc) return rc;
    *out = a.a;
    if (slot_out) *slot_out = a.slot;
    return 0;
}

typedef struct iter_ctx {
    acctdb_pubkey_t const *owner;
    acctdb_account_fn      fn;
    void                  *ctx;
} iter_ctx_t;

static int
iter_cb(void *ctx, adb_db_acct_t const *a) {
    iter_ctx_t *c = ctx;
    if (c->owner && memcmp(c->owner->b, a->a.owner.b, 32)) return 0;
    return c->fn(c->ctx, &a->a, a->slot);
}

int
acctdb_snapshot_iterate(acctdb_snapshot_t *s, acctdb_pubkey_t const *owner, acctdb_account_fn fn,
                        void *ctx) {
    if (!s || !fn) return ACCTDB_ERR_INVALID;
    if (!s->s->db || !s->s->complete) return ACCTDB_ERR_INVALID;
    iter_ctx_t c = {owner, fn, ctx};
    return adb_db_visit_sorted(s->s->db, false, iter_cb, &c);
}

int
acctdb_snapshot_manifest_json(acctdb_snapshot_t const *s, bool pretty, char **json_out,
                              size_t *sz_out) {
    if (!json_out || !sz_out) return ACCTDB_ERR_INVALID;
    *json_out = NULL;
    *sz_out = 0;
    if (!s) return ACCTDB_ERR_INVALID;
    adb_archive_info_t const *last =
        s->s->has_inc && s->s->inc.has_manifest ? &s->s->inc : &s->s->full;
    if (!last->has_manifest) return ACCTDB_ERR_NOT_FOUND;
    return adb_manifest_to_json_buf(&last->manifest, pretty, json_out, sz_out);
}

void
acctdb_free(void *p) {
    adb_free(p);
}
