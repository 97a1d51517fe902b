/* src/db/db_clean.c - the clean and purge services.
 *
 * Superseded rooted versions are marked DEAD by flush itself when it
 * repoints a key (it knows exactly which version each flushed one replaced
 * and its size).  Clean removes what is left: zero-lamport tombstones.
 *
 * Clean pass states:
 *   TAKE (the candidate keys queued by flush and by reopen)
 *     -> DECIDE (per key, under its bin lock: the tombstone goes only if
 *        it is the key's one and only version, so no older record of the
 *        key exists in any storage, and it is not newer than the last full
 *        snapshot: an incremental snapshot must still carry it, or a full +
 *        incremental restore would bring the closed account back
 *        (RELIABILITY.md C9))
 *     -> REQUEUE (blocked keys stay candidates; others are dropped).
 * With more candidates than the queue holds, the overflow flag makes the
 * next pass walk the whole index for tombstones instead.
 *
 * Purge pass states:
 *   COLLECT (DEAD banks: forks that can never be rooted) -> UNLINK (out of
 *   the bank map) -> UNINDEX (their cache versions removed) -> RETIRE.
 *
 * Invariants:
 *   1. A tombstone is removed only if the index has no other version of
 *      its key (alive, DEAD, or cached): DEAD versions stay in the index
 *      until shrink drops their records, so "no other version" means "no
 *      other record".
 *   2. A tombstone newer than the last full snapshot stays.
 *   3. Purge touches only DEAD banks; no view can be built on them. */
#include "db/db_private.h"
#include "util/point.h"

#include <stdio.h>
#include <unistd.h>

#define CAND_MAX (1u << 22) /* 128 MiB of keys */

void
adb_eng_cand_add(adb_eng_t *e, acctdb_pubkey_t const *key) {
    pthread_mutex_lock(&e->cand_mu);
    if (e->cand_cnt == e->cand_cap) {
        size_t ncap = e->cand_cap ? e->cand_cap * 2 : 1024;
        void  *nc = ncap <= CAND_MAX ? adb_realloc(e->cand, ncap * sizeof *e->cand) : NULL;
        if (!nc) {
            e->cand_overflow = true;
            pthread_mutex_unlock(&e->cand_mu);
            return;
        }
        e->cand = nc;
        e->cand_cap = ncap;
    }
    e->cand[e->cand_cnt++] = *key;
    pthread_mutex_unlock(&e->cand_mu);
}

typedef struct clean_ctx {
    adb_db_t *db;
    uint64_t  last_full;
    int       verdict; /* 0 drop, 1 keep as candidate, 2 removed */
    int       io_err;
} clean_ctx_t;

/* The size of the record at storage location val (its header's data
 * length) into *sz; 0 or the read's error. */
static int
rec_size(adb_db_t *db, uint64_t val, uint64_t *sz) {
    adb_db_file_t const *f = adb_db_file(db, adb_db_loc_file(val));
    uint8_t              h[16];
    int                  rc = adb_io_pread_all(db->io, adb_db_file_fd(db, f), h, sizeof h,
                                               f->seg_off + adb_db_loc_off(val));
    *sz = rc ? 0 : adb_acct_rec_sz(adb_load_u64(h + 8));
    return rc;
}

static int
clean_cb(void *ctx, adb_index_ver_t *v, size_t *cnt) {
    clean_ctx_t *c = ctx;
    /* The newest storage version decides whether this is a tombstone. */
    size_t t = SIZE_MAX;
    for (size_t i = 0; i < *cnt; i++)
        if (!adb_val_is_cache(v[i].val)) {
            t = i;
            break;
        }
    if (t == SIZE_MAX || adb_val_is_dead(v[t].val) || !adb_db_loc_is_zero(v[t].val)) {
        c->verdict = 0; /* no longer a tombstone */
        return 0;
    }
    if (*cnt != 1 || (c->last_full != UINT64_MAX && v[t].slot > c->last_full)) {
        c->verdict = 1; /* other versions exist, or an incremental needs it */
        return 0;
    }
    uint64_t sz;
    int      rc = rec_size(c->db, v[t].val, &sz);
    if (rc) {
        c->io_err = rc; /* the tombstone stays (parked): tried again later */
        c->verdict = 1;
        return 0;
    }
    adb_db_file_t *f = adb_db_file(c->db, adb_db_loc_file(v[t].val));
    atomic_fetch_sub(&f->alive_bytes, sz);
    atomic_fetch_sub(&f->alive_cnt, 1);
    *cnt = 0; /* the key leaves the index */
    c->verdict = 2;
    return 0;
}

typedef struct walk_ctx {
    acctdb_pubkey_t *keys;
    size_t           n, cap;
} walk_ctx_t;

static int
walk_cb(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t cnt) {
    walk_ctx_t *w = ctx;
    for (size_t i = 0; i < cnt; i++) {
        if (adb_val_is_cache(v[i].val)) continue;
        if (!adb_val_is_dead(v[i].val) && adb_db_loc_is_zero(v[i].val)) {
            if (w->n == w->cap) {
                size_t ncap = w->cap ? w->cap * 2 : 256;
                void  *nk = adb_realloc(w->keys, ncap * sizeof *w->keys);
                if (!nk) return ACCTDB_ERR_NOMEM;
                w->keys = nk;
                w->cap = ncap;
            }
            memcpy(w->keys[w->n++].b, key, 32);
        }
        break;
    }
    return 0;
}

/* A blocked tombstone waits in the parked list (smu held). */
static void
park(adb_eng_t *e, acctdb_pubkey_t const *key) {
    if (e->parked_cnt == e->parked_cap) {
        size_t ncap = e->parked_cap ? e->parked_cap * 2 : 1024;
        void  *np = ncap <= CAND_MAX ? adb_realloc(e->parked, ncap * sizeof *e->parked) : NULL;
        if (!np) {
            pthread_mutex_lock(&e->cand_mu);
            e->cand_overflow = true; /* found again by the index walk */
            pthread_mutex_unlock(&e->cand_mu);
            return;
        }
        e->parked = np;
        e->parked_cap = ncap;
    }
    e->parked[e->parked_cnt++] = *key;
}

static int
clean_keys(adb_db_t *db, acctdb_pubkey_t const *keys, size_t n, uint64_t last_full,
           uint64_t *removed) {
    adb_eng_t *e = db->eng;
    int        err = 0;
    for (size_t i = 0; i < n; i++) {
        clean_ctx_t c = {db, last_full, 0, 0};
        if (adb_index_vedit(db->ix, keys[i].b, clean_cb, &c)) continue; /* key gone */
        if (c.io_err) err = c.io_err;
        if (c.verdict == 2) (*removed)++;
        if (c.verdict == 1) park(e, &keys[i]);
    }
    return err;
}

int
adb_eng_clean_pass(adb_db_t *db) {
    adb_eng_t *e = db->eng;
    /* A snapshot being written reads the versions of its pinned root,
     * tombstones included: none leaves the index meanwhile. */
    if (atomic_load(&e->snap_active)) return 0;
    ADB_POINT("clean.begin");
    pthread_mutex_lock(&e->cand_mu);
    acctdb_pubkey_t *keys = e->cand;
    size_t           n = e->cand_cnt;
    bool             walk = e->cand_overflow;
    e->cand = NULL;
    e->cand_cnt = e->cand_cap = 0;
    e->cand_overflow = false;
    pthread_mutex_unlock(&e->cand_mu);

    uint64_t last_full = e->last_full_slot, removed = 0;
    /* Parked tombstones: again only if what blocked them may have changed
     * (a new full snapshot, or shrink dropped records). */
    acctdb_pubkey_t *pk = NULL;
    size_t           npk = 0;
    if (e->parked_cnt && (e->parked_full != last_full || e->parked_gen != e->shrink_gen)) {
        pk = e->parked;
        npk = e->parked_cnt;
        e->parked = NULL;
        e->parked_cnt = e->parked_cap = 0;
    }
    e->parked_full = last_full;
    e->parked_gen = e->shrink_gen;
    int rc = clean_keys(db, keys, n, last_full, &removed);
    int r2 = clean_keys(db, pk, npk, last_full, &removed);
    if (!rc) rc = r2;
    adb_free(keys);
    adb_free(pk);
    if (walk) {
        /* Candidates were dropped: find every tombstone, a bin at a time. */
        uint32_t bins = adb_index_bin_cnt(db->ix);
        for (uint32_t b = 0; b < bins; b++) {
            walk_ctx_t w = {0};
            int        r = adb_index_bin_vvisit(db->ix, b, walk_cb, &w);
            if (!r) r = clean_keys(db, w.keys, w.n, last_full, &removed);
            adb_free(w.keys);
            if (r && !rc) rc = r;
        }
    }
    e->tombstones_cleaned += removed;
    ADB_POINT("clean.end");
    if (rc)
        return adb_err_set(adb_eng_err(), rc, "clean: reading a tombstone's header failed: %s",
                           acctdb_strerror(rc));
    return (int)ADB_MIN(removed, (uint64_t)INT32_MAX);
}

/* ---- purge ------------------------------------------------------------------- */

static int
unindex_cb(void *ctx, adb_index_ver_t *v, size_t *cnt) {
    uint64_t val = *(uint64_t const *)ctx;
    size_t   w = 0;
    for (size_t i = 0; i < *cnt; i++)
        if (v[i].val != val) v[w++] = v[i];
    *cnt = w;
    return 0;
}

int
adb_eng_purge_pass(adb_db_t *db) {
    adb_eng_t   *e = db->eng;
    adb_bank_t **dead = NULL;
    size_t       n = 0, cap = 0;
    int          rc = 0;
    pthread_rwlock_wrlock(&e->blk);
    for (uint32_t i = 0; i < e->banks_cap; i++) {
        adb_bank_t *b = e->banks[i];
        if (!b || b->state != ADB_BANK_DEAD) continue;
        if (n == cap) {
            size_t       ncap = cap ? cap * 2 : 64;
            adb_bank_t **nd = adb_realloc(dead, ncap * sizeof *nd);
            if (!nd) {
                rc = ACCTDB_ERR_NOMEM;
                break;
            }
            dead = nd;
            cap = ncap;
        }
        dead[n++] = b;
    }
    for (size_t i = 0; i < n; i++)
        adb_bank_unlink(e, dead[i]);
    pthread_rwlock_unlock(&e->blk);

    uint64_t freed = 0, accts = 0;
    for (size_t i = 0; i < n; i++) {
        adb_bank_t *b = dead[i];
        for (uint32_t k = 0; k < b->cap; k++) {
            adb_cacct_t *c = b->accts[k];
            if (!c) continue;
            uint64_t val = adb_cacct_val(c);
            adb_index_vedit(db->ix, c->pubkey.b, unindex_cb, &val);
            freed += sizeof(adb_cacct_t) + c->data_len;
            accts++;
            adb_eng_retire(db, ADB_RET_CACCT, c, 0, 0, 0);
        }
        adb_eng_retire(db, ADB_RET_BANK, b, 0, 0, 0);
    }
    atomic_fetch_sub(&e->cache_bytes, freed);
    atomic_fetch_sub(&e->cache_accts, accts);
    e->purged_banks += n;
    adb_free(dead);
    if (n) {
        pthread_mutex_lock(&e->svc_mu);
        pthread_cond_broadcast(&e->room_cv);
        pthread_mutex_unlock(&e->svc_mu);
    }
    if (rc) return adb_err_set(adb_eng_err(), rc, "purge: out of memory");
    return (int)ADB_MIN(accts, (uint64_t)INT32_MAX);
}
