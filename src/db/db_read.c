/* src/db/db_read.c - queries over a loaded database, the completion record,
 * reopening, close. */
#include "db/db_private.h"

#include "hash/blake3.h"
#include "util/bincode.h"
#include "util/io.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- record reads ------------------------------------------------------- */

uint32_t
adb_db_storage_cnt(adb_db_t const *db) {
    return adb_db_file_cnt(db);
}

int
adb_db_storage_get(adb_db_t const *db, uint32_t i, adb_db_storage_t *out) {
    memset(out, 0, sizeof *out);
    if (i >= adb_db_file_cnt(db)) return ACCTDB_ERR_INVALID;
    adb_db_file_t const *f = adb_db_file(db, i);
    *out = (adb_db_storage_t){f->slot, f->written, f->valid_len};
    return 0;
}

int
adb_db_read_rec(adb_db_t *db, uint64_t slot, uint64_t loc, adb_db_acct_t *out, uint8_t **buf,
                size_t *buf_cap) {
    memset(out, 0, sizeof *out);
    uint32_t fi = adb_db_loc_file(loc);
    if (fi >= adb_db_file_cnt(db)) return ACCTDB_ERR_CORRUPT;
    adb_db_file_t *f = adb_db_file(db, fi);
    uint64_t       off = adb_db_loc_off(loc);
    uint8_t        h[ADB_ACCT_HDR_SZ];
    if (off + ADB_ACCT_HDR_SZ > f->valid_len) return ACCTDB_ERR_CORRUPT;
    int fd = adb_db_file_fd(db, f);
    int rc = adb_io_pread_all(db->io, fd, h, sizeof h, f->seg_off + off);
    if (rc)
        return adb_db_fail(db, rc, "reading the storage of slot %llu in %s",
                           (unsigned long long)f->slot, db->dir);
    uint64_t dl = adb_load_u64(h + ADB_ACCT_OFF_DATA_LEN);
    if (dl > ADB_ACCT_MAX_DATA_SZ || off + ADB_ACCT_HDR_SZ + dl > f->valid_len)
        return ACCTDB_ERR_CORRUPT;
    if (dl > *buf_cap) {
        uint8_t *nb = adb_realloc(*buf, (size_t)dl);
        if (!nb) return ACCTDB_ERR_NOMEM;
        *buf = nb;
        *buf_cap = (size_t)dl;
    }
    if (dl && (rc = adb_io_pread_all(db->io, fd, *buf, (size_t)dl,
                                     f->seg_off + off + ADB_ACCT_HDR_SZ)) != 0)
        return adb_db_fail(db, rc, "reading the storage of slot %llu in %s",
                           (unsigned long long)f->slot, db->dir);
    adb_acct_hdr_to_account(h, &out->a);
    out->a.data = dl ? *buf : NULL;
    out->slot = slot;
    return 0;
}

int
adb_db_storage_read(adb_db_t const *db, uint32_t i, uint64_t off, void *buf, size_t sz) {
    if (i >= adb_db_file_cnt(db)) return ACCTDB_ERR_INVALID;
    adb_db_file_t const *f = adb_db_file(db, i);
    if (off > f->written || sz > f->written - off) return ACCTDB_ERR_INVALID;
    return adb_io_pread_all(db->io, adb_db_file_fd(db, f), buf, sz, f->seg_off + off);
}

int
adb_db_versions(adb_db_t *db, uint8_t const key[32], adb_index_ver_t vb[ADB_DB_VERS_INLINE],
                adb_index_ver_t **v_out, size_t *n_out) {
    size_t n = adb_index_vget(db->ix, key, vb, ADB_DB_VERS_INLINE);
    *v_out = vb;
    /* A key stored in every one of many unrooted banks (a sysvar) has more
     * cached versions than fit: its durable one comes after them all. */
    while (n > ADB_DB_VERS_INLINE) {
        adb_index_ver_t *big = adb_malloc(n * sizeof *big);
        if (!big) {
            *n_out = 0;
            return ACCTDB_ERR_NOMEM;
        }
        size_t n2 = adb_index_vget(db->ix, key, big, n);
        if (n2 <= n) {
            *v_out = big;
            n = n2;
            break;
        }
        adb_free(big); /* grew meanwhile: again */
        n = n2;
    }
    *n_out = n;
    return 0;
}

void
adb_db_versions_free(adb_index_ver_t *v, adb_index_ver_t const *vb) {
    if (v != vb) adb_free(v);
}

int
adb_db_get(adb_db_t *db, uint8_t const pubkey[32], adb_db_acct_t *out, uint8_t **buf,
           size_t *buf_cap) {
    memset(out, 0, sizeof *out);
    /* The newest live version in the account files (the durable state). */
    adb_index_ver_t vb[ADB_DB_VERS_INLINE], *v;
    size_t          n;
    int             rc = adb_db_versions(db, pubkey, vb, &v, &n);
    if (rc) return rc;
    rc = ACCTDB_ERR_NOT_FOUND;
    for (size_t i = 0; i < n; i++) {
        if (adb_val_is_cache(v[i].val) || adb_val_is_dead(v[i].val)) continue;
        if (!adb_db_loc_is_zero(v[i].val))
            rc = adb_db_read_rec(db, v[i].slot, v[i].val, out, buf, buf_cap);
        break;
    }
    adb_db_versions_free(v, vb);
    return rc;
}

typedef struct kv {
    uint8_t  key[32];
    uint64_t slot, val;
} kv_t;

typedef struct collect {
    kv_t  *v;
    size_t n, cap;
    bool   include_zero;
    int    err;
} collect_t;

static int
collect_cb(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t cnt) {
    collect_t *c = ctx;
    size_t     i = 0;
    while (i < cnt && (adb_val_is_cache(v[i].val) || adb_val_is_dead(v[i].val)))
        i++;
    if (i == cnt) return 0;
    uint64_t slot = v[i].slot, val = v[i].val;
    if (!c->include_zero && adb_db_loc_is_zero(val)) return 0;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        kv_t  *nv = adb_realloc(c->v, ncap * sizeof *nv);
        if (!nv) return ACCTDB_ERR_NOMEM;
        c->v = nv;
        c->cap = ncap;
    }
    memcpy(c->v[c->n].key, key, 32);
    c->v[c->n].slot = slot;
    c->v[c->n].val = val;
    c->n++;
    return 0;
}

static int
cmp_kv(void const *a, void const *b) {
    return memcmp(((kv_t const *)a)->key, ((kv_t const *)b)->key, 32);
}

int
adb_db_visit_sorted(adb_db_t *db, bool include_zero, adb_db_visit_fn fn, void *ctx) {
    collect_t c = {.include_zero = include_zero};
    uint8_t  *buf = NULL;
    size_t    cap = 0;
    int       rc = 0;
    for (uint32_t b = 0; b < adb_index_bin_cnt(db->ix) && !rc; b++) {
        c.n = 0;
        rc = adb_index_bin_vvisit(db->ix, b, collect_cb, &c);
        if (rc) break;
        if (c.n) qsort(c.v, c.n, sizeof *c.v, cmp_kv);
        for (size_t i = 0; i < c.n && !rc; i++) {
            adb_db_acct_t a;
            rc = adb_db_read_rec(db, c.v[i].slot, c.v[i].val, &a, &buf, &cap);
            if (!rc) rc = fn(ctx, &a);
        }
    }
    adb_free(c.v);
    adb_free(buf);
    return rc;
}

/* Accounts are read into an arena and hashed a batch at a time. */
typedef struct lt_ctx {
    acctdb_lthash_t        *sum;
    acctdb_lthash_formula_t f;
    acctdb_account_t        batch[64];
    uint8_t                *arena;
    size_t                  arena_used, arena_cap;
    size_t                  n;
} lt_ctx_t;

static void
lt_flush(lt_ctx_t *c) {
    if (c->n) adb_lthash_add_accounts(c->sum, c->batch, c->n, c->f);
    c->n = 0;
    c->arena_used = 0;
}

static int
lt_cb(void *ctx, adb_db_acct_t const *a) {
    lt_ctx_t *c = ctx;
    size_t    len = (size_t)a->a.data_len;
    if (len > c->arena_cap) { /* cannot happen with a 12 MiB arena; be safe */
        adb_lthash_add_accounts(c->sum, &a->a, 1, c->f);
        return 0;
    }
    if (c->n == ADB_ARRAY_CNT(c->batch) || len > c->arena_cap - c->arena_used) lt_flush(c);
    acctdb_account_t *d = &c->batch[c->n++];
    *d = a->a;
    if (len) {
        memcpy(c->arena + c->arena_used, a->a.data, len);
        d->data = c->arena + c->arena_used;
        c->arena_used += len;
    }
    return 0;
}

int
adb_db_lthash_live(adb_db_t *db, acctdb_lthash_formula_t f, acctdb_lthash_t *out) {
    adb_lthash_zero(out);
    lt_ctx_t c = {.sum = out, .f = f, .arena_cap = 12u << 20};
    c.arena = adb_malloc(c.arena_cap);
    if (!c.arena) return ACCTDB_ERR_NOMEM;
    int rc = adb_db_visit_sorted(db, false, lt_cb, &c);
    if (!rc) lt_flush(&c);
    adb_free(c.arena);
    return rc;
}

void
adb_db_close(adb_db_t *db) {
    if (!db) return;
    adb_chot_close(db);
    adb_xs_close(db);
    if (db->workers) {
        pthread_mutex_lock(&db->mu);
        db->stopping = true;
        pthread_cond_broadcast(&db->work_cv);
        pthread_mutex_unlock(&db->mu);
        for (unsigned i = 0; i < db->nworkers; i++) {
            if (db->workers[i].started) pthread_join(db->workers[i].thr, NULL);
            adb_free(db->workers[i].losers);
            adb_free(db->workers[i].owned);
            adb_aligned_free(db->workers[i].scratch);
        }
        adb_free(db->workers);
    }
    uint32_t n = adb_db_file_cnt(db);
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t *f = adb_db_file(db, i);
        if (f->map && f->in_buf) {
            adb_aligned_free(f->map);
        } else if (f->map) {
            adb_db_view_t v = {f->map, f->map_sz, f->map_heap};
            adb_db_unview(db, &v);
        }
    }
    for (uint32_t k = 0; db->segs && k < atomic_load(&db->seg_cnt); k++) {
        adb_io_close(db->io, db->segs[k].fd); /* -1 is fine */
        adb_io_close(db->io, db->segs[k].dfd);
        adb_io_munmap(db->io, db->segs[k].map, (size_t)db->segs[k].map_sz);
    }
    adb_free(db->segs);
    adb_db_pool_free(db);
    if (db->chunks)
        for (uint32_t c = 0; c < ADB_DB_FILE_CHUNKS_MAX; c++)
            adb_free(db->chunks[c]);
    adb_free(db->chunks);
    adb_free(db->q);
    adb_index_close(db->ix);
    adb_io_close(db->io, db->accdirfd);
    adb_io_close(db->io, db->dirfd);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->work_cv);
    pthread_cond_destroy(&db->idle_cv);
    pthread_cond_destroy(&db->room_cv);
    adb_free(db);
}
