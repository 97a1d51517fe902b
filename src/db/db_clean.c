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
 *     -> PARK (blocked keys wait in the parked list with why; others are
 *        dropped).
 * Parked keys are looked at again when what blocked them may have changed,
 * never on a counter alone that can stall: a new full snapshot or a shrink
 * for all of them; for those blocked by other versions also once the root
 * moved ADB_PARK_RETRY_SLOTS slots (flush and purge remove versions
 * without moving the other counters).  With more candidates than the
 * queue holds, the overflow flag makes the next pass walk the whole index
 * for tombstones instead (and rebuild the parked list from what it finds).
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

#define CAND_MAX             (1u << 22) /* 128 MiB of keys */
#define ADB_PARK_RETRY_SLOTS 64u

enum { ADB_PARK_SNAP = 1, ADB_PARK_VER = 2 };

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
    int       verdict; /* 0 drop, 2 removed, else parked: ADB_PARK_SNAP or _VER (+2) */
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
    if (*cnt != 1) {
        c->verdict = 2 + ADB_PARK_VER; /* other versions exist */
        return 0;
    }
    if (c->last_full != UINT64_MAX && v[t].slot > c->last_full) {
        c->verdict = 2 + ADB_PARK_SNAP; /* an incremental snapshot needs it */
        return 0;
    }
    uint64_t sz;
    int      rc = rec_size(c->db, v[t].val, &sz);
    if (rc) {
        c->io_err = rc; /* the tombstone stays (parked): tried again later */
        c->verdict = 2 + ADB_PARK_VER;
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
park(adb_eng_t *e, acctdb_pubkey_t const *key, int why) {
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
    e->parked[e->parked_cnt++] = (adb_parked_t){*key, (uint8_t)why};
}

/* Keys from keys[] (stride bytes apart: candidates or parked entries). */
static int
clean_keys(adb_db_t *db, void const *keys, size_t stride, size_t n, uint64_t last_full,
           uint64_t *removed) {
    adb_eng_t *e = db->eng;
    int        err = 0;
    for (size_t i = 0; i < n; i++) {
        acctdb_pubkey_t const *k = (acctdb_pubkey_t const *)((uint8_t const *)keys + i * stride);
        clean_ctx_t            c = {db, last_full, 0, 0};
        if (adb_index_vedit(db->ix, k->b, clean_cb, &c)) continue; /* key gone */
        if (c.io_err) err = c.io_err;
        if (c.verdict == 2) (*removed)++;
        if (c.verdict > 2) park(e, k, c.verdict - 2);
    }
    return err;
}

/* The parked entries to look at again now (taken out of the list; free
 * with adb_free), *n_out of them. */
static adb_parked_t *
parked_due(adb_eng_t *e, uint64_t last_full, uint64_t root, bool walk, size_t *n_out) {
    *n_out = 0;
    adb_parked_t *pk = NULL;
    if (walk) {
        /* The index walk finds every tombstone again: start the list over. */
        adb_free(e->parked);
        e->parked = NULL;
        e->parked_cnt = e->parked_cap = 0;
    } else if (!e->parked_cnt) {
        /* Nothing waits: what blocks a key parked from now on is measured
         * from here. */
    } else if (e->parked_full != last_full || e->parked_gen != e->shrink_gen) {
        pk = e->parked; /* all of them */
        *n_out = e->parked_cnt;
        e->parked = NULL;
        e->parked_cnt = e->parked_cap = 0;
    } else if (root >= e->parked_root + ADB_PARK_RETRY_SLOTS) {
        /* Only those blocked by other versions: a snapshot-blocked key
         * waits for the next full snapshot whatever the root does. */
        size_t k = 0, m = 0;
        for (size_t i = 0; i < e->parked_cnt; i++)
            m += e->parked[i].why == ADB_PARK_VER;
        pk = m ? adb_malloc(m * sizeof *pk) : NULL;
        if (pk) {
            for (size_t i = 0; i < e->parked_cnt; i++) {
                if (e->parked[i].why == ADB_PARK_VER)
                    pk[(*n_out)++] = e->parked[i];
                else
                    e->parked[k++] = e->parked[i];
            }
            e->parked_cnt = k;
        }
    } else {
        return NULL; /* nothing may have changed: parked_root stays */
    }
    e->parked_full = last_full;
    e->parked_gen = e->shrink_gen;
    e->parked_root = root;
    return pk;
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
    pthread_rwlock_rdlock(&e->blk);
    uint64_t root = e->root;
    pthread_rwlock_unlock(&e->blk);
    size_t        npk;
    adb_parked_t *pk = parked_due(e, last_full, root, walk, &npk);
    /* The walk meets every candidate too. */
    int rc = walk ? 0 : clean_keys(db, keys, sizeof *keys, n, last_full, &removed);
    int r2 = clean_keys(db, pk, sizeof *pk, npk, last_full, &removed);
    if (!rc) rc = r2;
    adb_free(keys);
    adb_free(pk);
    if (walk) {
        /* Candidates were dropped: find every tombstone, a bin at a time. */
        uint32_t bins = adb_index_bin_cnt(db->ix);
        for (uint32_t b = 0; b < bins; b++) {
            walk_ctx_t w = {0};
            int        r = adb_index_bin_vvisit(db->ix, b, walk_cb, &w);
            if (!r) r = clean_keys(db, w.keys, sizeof *w.keys, w.n, last_full, &removed);
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

    uint64_t accts = 0;
    for (size_t i = 0; i < n; i++) {
        adb_bank_t *b = dead[i];
        for (uint32_t k = 0; k < b->cap; k++) {
            adb_cacct_t *c = b->accts[k];
            if (!c) continue;
            uint64_t val = adb_cacct_val(c);
            adb_index_vedit(db->ix, c->pubkey.b, unindex_cb, &val);
            adb_eng_pairs_dropped(db, c);
            accts++;
            adb_eng_retire(db, ADB_RET_CACCT, c, 0, 0, 0);
        }
        adb_eng_retire(db, ADB_RET_BANK, b, 0, 0, 0);
    }
    /* cache_bytes keeps their charge until they are freed (reclaim). */
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
