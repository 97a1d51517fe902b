/* src/db/db_flush.c - the flush service: rooted slots from the write cache
 * into account files, then the root record.
 *
 * States of one pass:
 *
 *   COLLECT (rooted banks still cached, newest first; flush_collect)
 *     -> BUILD (one storage per bank: each pubkey once, from its newest
 *        rooted bank; records built in RAM; flush_build)
 *     -> WRITE (one large write per storage; fdatasync each segment)
 *     -> REPOINT (index: cache version -> storage location; the version each
 *        one replaced is marked DEAD; superseded cache versions removed;
 *        flush_repoint)
 *     -> RECORD (root record names the newest flushed root; fsynced)
 *     -> RELEASE (banks unlinked; accounts retired to the reader registry)
 *
 * Invariants:
 *   1. A storage's bytes are durable before any index entry points at it
 *      and before the root record names it.
 *   2. Each pubkey appears once per pass, in the storage of the newest
 *      rooted bank that wrote it.
 *   3. Every storage version the flushed versions replace is DEAD afterwards
 *      and its bytes left its storage's alive count (exact: the size was
 *      recorded at freeze).
 *   4. Readers see either the cache version or the storage version of an
 *      account, never neither: repoint is one in-place edit per key. */
#include "db/db_private.h"

#include "util/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A flushed account: its cache version, and where it went. */
typedef struct fitem {
    adb_cacct_t *c;
    uint32_t     file; /* UINT32_MAX: superseded, not written */
    uint64_t     off;
} fitem_t;

/* Pubkey set for "each pubkey once". */
typedef struct kset {
    uint8_t const **k;
    uint32_t        cap;
} kset_t;

static bool
kset_add(kset_t *s, uint8_t const *key) {
    for (uint32_t i = (uint32_t)(adb_load_u64(key + 8) >> 13) & (s->cap - 1);;
         i = (i + 1) & (s->cap - 1)) {
        if (!s->k[i]) {
            s->k[i] = key;
            return true;
        }
        if (!memcmp(s->k[i], key, 32)) return false;
    }
}

typedef struct repoint_ctx {
    adb_db_t       *db;
    fitem_t *const *group; /* this pass's items of one key, newest (the written one) first */
    size_t          gn;
    uint64_t        newval; /* the written version's storage location */
} repoint_ctx_t;

/* The edit of one key: the written cache version becomes its storage
 * version; the key's older cache versions of this pass go; the storage
 * version each of them replaced (seen from its parent at freeze) is
 * marked DEAD, with the size freeze recorded. */
static int
repoint_cb(void *ctx, adb_index_ver_t *v, size_t *cnt) {
    repoint_ctx_t *rc = ctx;
    size_t         w = 0;
    for (size_t i = 0; i < *cnt; i++) {
        if (adb_val_is_cache(v[i].val)) {
            adb_cacct_t const *c = adb_val_cacct(v[i].val);
            if (c == rc->group[0]->c) {
                v[w] = v[i];
                v[w].val = rc->newval;
                w++;
                continue;
            }
            /* Another cache version: superseded in this pass (an older
             * rooted one: drop it) or on a live fork (keep). */
            bool superseded = false;
            for (size_t g = 1; g < rc->gn && !superseded; g++)
                superseded = rc->group[g]->c == c;
            if (superseded) continue;
        }
        v[w++] = v[i];
    }
    *cnt = w;
    for (size_t i = 0; i < w; i++) {
        if (adb_val_is_cache(v[i].val) || adb_val_is_dead(v[i].val) || v[i].val == rc->newval)
            continue;
        for (size_t g = 0; g < rc->gn; g++) {
            adb_cacct_t const *c = rc->group[g]->c;
            if (c->prev_slot != v[i].slot) continue;
            adb_db_file_t *f = adb_db_file(rc->db, adb_db_loc_file(v[i].val));
            atomic_fetch_sub(&f->alive_bytes, c->prev_sz);
            atomic_fetch_sub(&f->alive_cnt, 1);
            v[i].val |= ADB_VAL_DEAD;
            break;
        }
    }
    return 0;
}

/* Items by pubkey, newest slot first within a key. */
static int
cmp_item(void const *a, void const *b) {
    fitem_t const *x = *(fitem_t *const *)a, *y = *(fitem_t *const *)b;
    int            d = memcmp(x->c->pubkey.b, y->c->pubkey.b, 32);
    if (d) return d;
    return x->c->slot > y->c->slot ? -1 : x->c->slot < y->c->slot;
}

int
adb_eng_flush_pass(adb_db_t *db) {
    adb_eng_t *e = db->eng;
    /* COLLECT: rooted banks in the cache, newest first. */
    pthread_rwlock_rdlock(&e->blk);
    size_t       nb = 0, cap = 64;
    adb_bank_t **banks = adb_malloc(cap * sizeof *banks);
    int          rc = banks ? 0 : ACCTDB_ERR_NOMEM;
    for (adb_bank_t *b = adb_bank_find(e, e->root); !rc && b && b->state == ADB_BANK_ROOTED;
         b = adb_bank_find(e, b->parent)) {
        if (nb == cap) {
            adb_bank_t **nv = adb_realloc(banks, 2 * cap * sizeof *nv);
            if (!nv) {
                rc = ACCTDB_ERR_NOMEM;
                break;
            }
            banks = nv;
            cap *= 2;
        }
        banks[nb++] = b;
    }
    pthread_rwlock_unlock(&e->blk);
    if (rc || nb == 0) {
        adb_free(banks);
        return rc ? adb_err_set(adb_eng_err(), rc, "flush: out of memory") : 0;
    }

    /* BUILD + WRITE, newest bank first. */
    size_t total = 0;
    for (size_t i = 0; i < nb; i++)
        total += banks[i]->cnt;
    kset_t seen = {.cap = 16};
    while (seen.cap < total * 2 + 16)
        seen.cap *= 2;
    seen.k = adb_calloc(seen.cap, sizeof *seen.k);
    fitem_t *items = adb_calloc(total + 1, sizeof *items);
    uint8_t *buf = NULL;
    size_t   buf_cap = 0, ni = 0, written = 0;
    if (!seen.k || !items) rc = ACCTDB_ERR_NOMEM;
    for (size_t bi = 0; !rc && bi < nb; bi++) {
        adb_bank_t *b = banks[bi];
        size_t      first = ni;
        uint64_t    sz = 0;
        for (uint32_t k = 0; k < b->cap; k++) {
            adb_cacct_t *c = b->accts[k];
            if (!c) continue;
            items[ni] = (fitem_t){c, UINT32_MAX, 0};
            if (kset_add(&seen, c->pubkey.b)) {
                items[ni].off = sz;
                sz += adb_acct_rec_sz(c->data_len);
                items[ni].file = 0; /* set below */
            }
            ni++;
        }
        if (!sz) continue;
        if (sz + 4096 > buf_cap) {
            adb_aligned_free(buf);
            buf_cap = (size_t)((sz + 4096 + (1u << 20)) & ~4095ull);
            buf = adb_aligned_alloc(4096, buf_cap);
            if (!buf) {
                rc = ACCTDB_ERR_NOMEM;
                break;
            }
        }
        for (size_t k = first; k < ni; k++) {
            if (items[k].file == UINT32_MAX) continue;
            acctdb_account_t a;
            adb_acct_rec_to_account_c(items[k].c, &a);
            adb_acct_rec_write(buf + items[k].off, &a);
        }
        memset(buf + sz, 0, (size_t)(((sz + 4095) & ~4095ull) - sz)); /* O_DIRECT padding */
        uint32_t idx;
        if ((rc = adb_db_storage_new(db, b->slot, sz, &idx)) != 0) break;
        if ((rc = adb_db_storage_write(db, idx, buf, sz, true)) != 0) break;
        for (size_t k = first; k < ni; k++)
            if (items[k].file != UINT32_MAX) items[k].file = idx, written++;
        atomic_fetch_add(&e->flushed_bytes, sz);
    }
    adb_aligned_free(buf);
    adb_free(seen.k);
    /* Durable before anything points at it. */
    if (!rc)
        for (uint32_t s = 0; s < atomic_load(&db->seg_cnt) && !rc; s++)
            rc = adb_io_fdatasync(db->segs[s].fd);
    if (rc) {
        atomic_store(&e->fatal, 1);
        adb_free(items);
        adb_free(banks);
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "flush failed: %s; the database refuses "
                           "writes until reopened",
                           acctdb_strerror(rc));
    }

    /* REPOINT: per key, the group of this pass's items with that key. */
    fitem_t **ord = adb_malloc((ni ? ni : 1) * sizeof *ord);
    if (!ord) {
        atomic_store(&e->fatal, 1);
        adb_free(items);
        adb_free(banks);
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "flush: out of memory after writing; the database refuses writes until "
                           "reopened");
    }
    for (size_t k = 0; k < ni; k++)
        ord[k] = &items[k];
    qsort(ord, ni, sizeof *ord, cmp_item);
    for (size_t g = 0, h; g < ni; g = h) {
        for (h = g + 1; h < ni && !memcmp(ord[h]->c->pubkey.b, ord[g]->c->pubkey.b, 32); h++) {
        }
        fitem_t const     *it = ord[g];
        adb_cacct_t const *c = it->c;
        repoint_ctx_t ctx = {db, ord + g, h - g, adb_db_loc(it->file, it->off, c->lamports == 0)};
        adb_index_vedit(db->ix, c->pubkey.b, repoint_cb, &ctx);
        adb_db_file_t *f = adb_db_file(db, it->file);
        atomic_fetch_add(&f->alive_bytes, adb_acct_rec_sz(c->data_len));
        atomic_fetch_add(&f->alive_cnt, 1);
        if (c->lamports == 0) adb_eng_cand_add(e, &c->pubkey);
    }
    adb_free(ord);

    /* RECORD: the newest flushed root. */
    acctdb_bank_info_t root = banks[0]->info;
    rc = adb_eng_write_meta(db, &root);
    if (rc) {
        atomic_store(&e->fatal, 1);
        adb_free(items);
        adb_free(banks);
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "flush: writing the root record failed: %s", acctdb_strerror(rc));
    }
    atomic_store(&e->durable_root, root.slot);

    /* RELEASE */
    uint64_t freed = 0;
    pthread_rwlock_wrlock(&e->blk);
    for (size_t bi = 0; bi < nb; bi++)
        adb_bank_unlink(e, banks[bi]);
    pthread_rwlock_unlock(&e->blk);
    for (size_t k = 0; k < ni; k++) {
        freed += sizeof(adb_cacct_t) + items[k].c->data_len;
        adb_eng_retire(db, ADB_RET_CACCT, items[k].c, 0, 0, 0);
    }
    for (size_t bi = 0; bi < nb; bi++)
        adb_eng_retire(db, ADB_RET_BANK, banks[bi], 0, 0, 0);
    atomic_fetch_sub(&e->cache_bytes, freed);
    atomic_fetch_sub(&e->cache_accts, ni);
    pthread_mutex_lock(&e->svc_mu);
    pthread_cond_broadcast(&e->room_cv);
    pthread_mutex_unlock(&e->svc_mu);
    adb_free(items);
    adb_free(banks);
    return (int)ADB_MIN(written, (size_t)INT32_MAX);
}
