/* src/db/db_shrink.c - the shrink service: rewrite storages that are
 * mostly dead.
 *
 * States of one pass:
 *   PICK (storages whose alive bytes fall under shrink_ratio of their
 *         length, emptiest first, up to SHRINK_BUDGET bytes read; by
 *         default only while all storages together are under the ratio,
 *         and only until they are back above it: a hot account rewritten
 *         every slot leaves the files it died in to be dropped nearly
 *         empty, instead of each file being copied again and again as its
 *         ratio first dips; cfg.shrink_per_file shrinks every file under
 *         the ratio)
 *     -> COPY (per storage: read it; keep each record the index still holds
 *        alive at exactly that location)
 *     -> WRITE (the kept records as a new storage of the same slot, one
 *        large write; fdatasync)
 *     -> REPOINT (index: each kept record's version moves to the new
 *        location; DEAD versions of the dropped records leave the index)
 *     -> RECORD (root record without the old storages)
 *     -> RELEASE (old extents retired: punched once no reader is inside).
 *
 * Invariants:
 *   1. The new storage is durable before anything points at it, and the
 *      old extent is punched only after the root record stopped naming it
 *      and no reader can hold its location.
 *   2. Versions keep their slot: fork visibility and flush's "kill the
 *      version at prev_slot" are unaffected by a move.
 *   3. A DEAD version leaves the index only with its record: until then it
 *      blocks tombstone removal (clean invariant 1). */
#include "db/db_private.h"

#include "util/io.h"
#include "util/point.h"

#include <stdio.h>
#include <stdlib.h>

#define SHRINK_BUDGET (256ull << 20)

/* Is the record of key at (slot, loc) the key's alive version there? */
bool
adb_eng_rec_alive(adb_db_t *db, uint8_t const *key, uint64_t slot, uint64_t loc) {
    adb_index_ver_t vb[ADB_DB_VERS_INLINE], *v;
    size_t          n;
    if (adb_db_versions(db, key, vb, &v, &n)) return true; /* cannot tell: keep it */
    bool alive = false;
    for (size_t i = 0; i < n; i++)
        if (v[i].slot == slot && !adb_val_is_cache(v[i].val) && v[i].val == loc) alive = true;
    adb_db_versions_free(v, vb);
    return alive;
}

typedef struct cand {
    uint32_t idx;
    double   ratio;
} cand_t;

static int
cmp_cand(void const *a, void const *b) {
    double x = ((cand_t const *)a)->ratio, y = ((cand_t const *)b)->ratio;
    return x < y ? -1 : x > y;
}

typedef struct move_ctx {
    uint64_t from, to;
} move_ctx_t;

static int
move_cb(void *ctx, adb_index_ver_t *v, size_t *cnt) {
    move_ctx_t const *m = ctx;
    size_t            w = 0;
    for (size_t i = 0; i < *cnt; i++) {
        if (!adb_val_is_cache(v[i].val) && (v[i].val & ~ADB_VAL_DEAD) == m->from) {
            if (m->to == UINT64_MAX) continue; /* dropped record: its version goes */
            v[i].val = m->to | (v[i].val & ADB_VAL_DEAD);
        }
        v[w++] = v[i];
    }
    *cnt = w;
    return 0;
}

typedef struct kept {
    uint64_t from, to;
    uint8_t  key[32];
} kept_t;

/* One storage being rewritten. */
typedef struct job {
    uint32_t idx, nidx; /* old, new (UINT32_MAX: nothing alive) */
    kept_t  *k;
    size_t   nk;
    uint64_t osz, ocnt;
} job_t;

/* COPY + WRITE (not yet durable): the alive records of storage idx into a
 * new storage of the same slot. */
static int
shrink_copy(adb_db_t *db, uint32_t idx, job_t *j) {
    adb_db_file_t *f = adb_db_file(db, idx);
    uint64_t       len = f->valid_len;
    uint8_t       *in = adb_aligned_alloc(4096, (size_t)((len + 4095) & ~4095ull) + 4096);
    uint8_t       *out = adb_aligned_alloc(4096, (size_t)((len + 4095) & ~4095ull) + 4096);
    size_t         capk = 0;
    int            rc = in && out ? 0 : ACCTDB_ERR_NOMEM;
    *j = (job_t){.idx = idx, .nidx = UINT32_MAX};
    if (!rc && (rc = adb_db_storage_read(db, idx, 0, in, (size_t)len)) != 0)
        rc = adb_err_set(adb_eng_err(), rc, "shrink: reading the storage of slot %llu: %s",
                         (unsigned long long)f->slot, acctdb_strerror(rc));
    if (!rc) {
        adb_acctfile_iter_t it;
        adb_acct_rec_t      r;
        adb_acctfile_iter_init(&it, in, len, len);
        while (!rc && adb_acctfile_iter_next(&it, &r)) {
            uint64_t loc = adb_db_loc(idx, r.off, r.lamports == 0);
            uint64_t sz = adb_acct_rec_sz(r.data_len);
            if (j->nk == capk) {
                size_t  nc = capk ? capk * 2 : 256;
                kept_t *nkp = adb_realloc(j->k, nc * sizeof *nkp);
                if (!nkp) {
                    rc = ACCTDB_ERR_NOMEM;
                    break;
                }
                j->k = nkp;
                capk = nc;
            }
            kept_t *k = &j->k[j->nk++];
            k->from = loc;
            k->to = UINT64_MAX;
            memcpy(k->key, r.pubkey, 32);
            if (adb_eng_rec_alive(db, r.pubkey, f->slot, loc)) {
                memcpy(out + j->osz, in + r.off, (size_t)sz);
                k->to = j->osz; /* offset for now */
                j->osz += sz;
                j->ocnt++;
            }
        }
        if (!rc && it.err.code)
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_CORRUPT, "shrink: storage of slot %llu: %s",
                             (unsigned long long)f->slot, it.err.msg);
    }
    if (!rc && j->osz) {
        memset(out + j->osz, 0, (size_t)(((j->osz + 4095) & ~4095ull) - j->osz));
        rc = adb_db_storage_new(db, f->slot, j->osz, &j->nidx);
        if (!rc) rc = adb_db_storage_write(db, j->nidx, out, j->osz, true);
        if (rc) {
            char why[256];
            snprintf(why, sizeof why, "shrink: writing the new storage of slot %llu: %s",
                     (unsigned long long)f->slot, acctdb_strerror(rc));
            adb_eng_fatal(db->eng, why);
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL, "%s", why);
        }
    }
    adb_aligned_free(in);
    adb_aligned_free(out);
    return rc;
}

/* REPOINT (the new storage is durable): versions move or go. */
static void
shrink_repoint(adb_db_t *db, job_t const *j) {
    adb_db_file_t *f = adb_db_file(db, j->idx);
    if (j->nidx != UINT32_MAX) {
        adb_db_file_t *nf = adb_db_file(db, j->nidx);
        atomic_store(&nf->alive_bytes, j->osz);
        atomic_store(&nf->alive_cnt, j->ocnt);
    }
    for (size_t i = 0; i < j->nk; i++) {
        move_ctx_t m = {j->k[i].from, UINT64_MAX};
        if (j->k[i].to != UINT64_MAX)
            m.to = adb_db_loc(j->nidx, j->k[i].to, adb_db_loc_is_zero(j->k[i].from));
        adb_index_vedit(db->ix, j->k[i].key, move_cb, &m);
    }
    atomic_store(&f->replaced, true);
    atomic_store(&f->alive_bytes, 0);
    atomic_store(&f->alive_cnt, 0);
}

int
adb_eng_shrink_pass(adb_db_t *db) {
    adb_eng_t *e = db->eng;
    double     ratio = e->cfg.shrink_ratio;
    /* A snapshot being written reads storages of its pinned root: none is
     * rewritten or punched meanwhile. */
    if (atomic_load(&e->fatal)) return 0;
    /* The index's disk tier gives back what deleted keys left: bins at
     * most 3/8 full are rewritten at half their size or less.  A failure
     * leaves a bin as it was (the next pass tries again). */
    (void)adb_index_reclaim(db->ix);
    if (ratio <= 0 || atomic_load(&e->snap_active)) return 0;
    uint32_t n = adb_db_file_cnt(db);
    cand_t  *c = NULL;
    size_t   nc = 0, cap = 0;
    uint64_t total = 0, alive = 0;
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced)) continue;
        total += f->valid_len;
        alive += atomic_load(&f->alive_bytes);
    }
    /* Total-space mode: nothing to do while all files together are alive
     * enough. */
    if (!e->cfg.shrink_per_file && (double)alive >= ratio * (double)total) return 0;
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced) || !f->valid_len) continue;
        double r = (double)atomic_load(&f->alive_bytes) / (double)f->valid_len;
        if (r >= ratio) continue;
        if (nc == cap) {
            size_t  ncap = cap ? cap * 2 : 256;
            cand_t *nv = adb_realloc(c, ncap * sizeof *nv);
            if (!nv) break;
            c = nv;
            cap = ncap;
        }
        c[nc++] = (cand_t){i, r};
    }
    if (!nc) {
        adb_free(c);
        return 0;
    }
    qsort(c, nc, sizeof *c, cmp_cand);
    uint64_t read = 0, moved = 0;
    job_t   *jobs = adb_calloc(nc, sizeof *jobs);
    size_t   nj = 0;
    int      rc = jobs ? 0 : ACCTDB_ERR_NOMEM;
    ADB_POINT("shrink.begin");
    for (size_t i = 0; !rc && i < nc && read < SHRINK_BUDGET; i++) {
        adb_db_file_t const *f = adb_db_file(db, c[i].idx);
        /* Total-space mode: the sparsest files until the total is back at
         * the ratio. */
        if (!e->cfg.shrink_per_file && (double)alive >= ratio * (double)total) break;
        uint64_t fa = atomic_load(&f->alive_bytes);
        total -= f->valid_len - ADB_MIN(fa, f->valid_len);
        read += f->valid_len;
        rc = shrink_copy(db, c[i].idx, &jobs[nj]);
        if (!rc)
            nj++;
        else
            adb_free(jobs[nj].k);
    }
    adb_free(c);
    if (nj) ADB_POINT("shrink.copied");
    /* One fdatasync per segment written, then the index moves. */
    if (nj && !atomic_load(&e->fatal)) {
        uint32_t lo = UINT32_MAX, hi = 0;
        for (size_t i = 0; i < nj; i++) {
            if (jobs[i].nidx == UINT32_MAX) continue;
            uint32_t sg = adb_db_file(db, jobs[i].nidx)->seg;
            lo = ADB_MIN(lo, sg);
            hi = ADB_MAX(hi, sg);
        }
        int src = 0;
        for (uint32_t sg = lo; !src && lo != UINT32_MAX && sg <= hi; sg++) {
            char what[64];
            snprintf(what, sizeof what, "shrink: fdatasync of accounts/seg-%06u", sg);
            src = adb_db_sync(db, db->segs[sg].fd, ADB_DB_SYNC_DATA, what);
        }
        /* A new segment's directory entry, before the record names it. */
        if (!src) src = adb_db_sync_seg_dir(db, "shrink");
        if (src) rc = src; /* fatal, with its message (adb_db_sync) */
    }
    if (nj && !atomic_load(&e->fatal)) {
        ADB_POINT("shrink.synced");
        for (size_t i = 0; i < nj; i++) {
            shrink_repoint(db, &jobs[i]);
            moved += jobs[i].osz;
        }
        ADB_POINT("shrink.repointed");
        ADB_POINT_ARG("shrink.commit", e->durable_info.slot);
        /* RECORD: the commit record stops naming the old storages. */
        int mrc = adb_eng_write_meta(db, &e->durable_info, e->durable_ext);
        if (mrc) {
            char why[256];
            snprintf(why, sizeof why, "shrink: writing the root record: %s", acctdb_strerror(mrc));
            adb_eng_fatal(e, why);
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL, "%s", why);
        } else {
            ADB_POINT_ARG("shrink.committed", e->durable_info.slot);
            /* Stamped with the commit that stopped naming them: the other
             * slot still does until the next commit. */
            uint64_t gen = adb_db_commit_gen(db, NULL);
            for (size_t i = 0; i < nj; i++)
                adb_eng_retire_storage(db, jobs[i].idx, gen);
        }
    }
    for (size_t i = 0; i < nj; i++)
        adb_free(jobs[i].k);
    adb_free(jobs);
    ADB_POINT("shrink.end");
    size_t nd = nj;
    e->shrink_moved_bytes += moved;
    if (nd) e->shrink_gen++;
    if (rc) return rc < 0 ? rc : ACCTDB_ERR_IO;
    return (int)ADB_MIN(nd, (size_t)INT32_MAX);
}
