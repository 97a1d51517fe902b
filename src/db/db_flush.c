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
#include "util/point.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A flushed account: its cache version, and where it went.  Items of one
 * key are chained from the first (newest) one through next. */
typedef struct fitem {
    adb_cacct_t *c;
    uint32_t     file; /* UINT32_MAX: superseded, not written */
    uint32_t     next; /* next older item of the same key; UINT32_MAX: none */
    uint64_t     off;
} fitem_t;

/* Pubkey -> first item, for "each pubkey once": open addressing on a key
 * prefix, so a probe rarely touches an account. */
typedef struct kslot {
    uint64_t pfx;
    uint32_t idx; /* item index + 1; 0: empty */
} kslot_t;

typedef struct kset {
    kslot_t *k;
    uint32_t cap;
} kset_t;

/* The first item of key (index), or UINT32_MAX after adding it as item i. */
static uint32_t
kset_add(kset_t *s, fitem_t const *items, uint8_t const *key, uint32_t i) {
    uint64_t pfx = adb_load_u64(key);
    for (uint32_t h = (uint32_t)(adb_load_u64(key + 8) >> 13) & (s->cap - 1);;
         h = (h + 1) & (s->cap - 1)) {
        kslot_t *k = &s->k[h];
        if (!k->idx) {
            k->pfx = pfx;
            k->idx = i + 1;
            return UINT32_MAX;
        }
        if (k->pfx == pfx && !memcmp(items[k->idx - 1].c->pubkey.b, key, 32)) return k->idx - 1;
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

bool
adb_eng_flush_due(adb_db_t *db) {
    adb_eng_t                *e = db->eng;
    acctdb_db_config_t const *c = &e->cfg;
    if (!c->flush_min_sz || !c->flush_max_delay_ms) return true;
    uint64_t since = atomic_load(&e->unflushed_since_ns);
    if (!since) return false; /* nothing rooted since the last pass */
    if (adb_now_ns() - since >= (uint64_t)c->flush_max_delay_ms * 1000000ull) return true;
    if (atomic_load(&e->cache_bytes) > c->write_cache_max_sz / 2) return true;
    uint64_t bytes = 0;
    pthread_rwlock_rdlock(&e->blk);
    for (adb_bank_t *b = adb_bank_find(e, e->root); b && b->state == ADB_BANK_ROOTED;
         b = adb_bank_find(e, b->parent))
        bytes += b->bytes;
    pthread_rwlock_unlock(&e->blk);
    return bytes >= c->flush_min_sz;
}

int
adb_eng_flush_pass(adb_db_t *db) {
    adb_eng_t *e = db->eng;
    /* COLLECT: rooted banks in the cache, newest first. */
    pthread_rwlock_rdlock(&e->blk);
    atomic_store(&e->unflushed_since_ns, 0); /* roots from now on set it again */
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
    ADB_POINT("flush.begin");

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
    char     what[96] = "building the storages"; /* the step that failed */
    if (!seen.k || !items) rc = ACCTDB_ERR_NOMEM;
    for (size_t bi = 0; !rc && bi < nb; bi++) {
        adb_bank_t *b = banks[bi];
        size_t      first = ni;
        uint64_t    sz = 0;
        for (uint32_t k = 0; k < b->cap; k++) {
            if (k + 8 < b->cap && b->accts[k + 8]) __builtin_prefetch(b->accts[k + 8]);
            adb_cacct_t *c = b->accts[k];
            if (!c) continue;
            items[ni] = (fitem_t){c, UINT32_MAX, UINT32_MAX, 0};
            uint32_t head = kset_add(&seen, items, c->pubkey.b, (uint32_t)ni);
            if (head == UINT32_MAX) {
                items[ni].off = sz;
                sz += adb_acct_rec_sz(c->data_len);
                items[ni].file = 0; /* set below */
            } else {
                items[ni].next = items[head].next;
                items[head].next = (uint32_t)ni;
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
        snprintf(what, sizeof what, "a storage for slot %llu", (unsigned long long)b->slot);
        if ((rc = adb_db_storage_new(db, b->slot, sz, &idx)) != 0) break;
        snprintf(what, sizeof what, "writing the storage of slot %llu",
                 (unsigned long long)b->slot);
        if ((rc = adb_db_storage_write(db, idx, buf, sz, true)) != 0) break;
        for (size_t k = first; k < ni; k++)
            if (items[k].file != UINT32_MAX) items[k].file = idx, written++;
        atomic_fetch_add(&e->flushed_bytes, sz);
    }
    adb_aligned_free(buf);
    adb_free(seen.k);
    if (!rc) ADB_POINT("flush.written");
    /* Durable before anything points at it. */
    int src = 0;
    for (uint32_t s = 0; !rc && !src && s < atomic_load(&db->seg_cnt); s++) {
        char sw[64];
        snprintf(sw, sizeof sw, "flush: fdatasync of accounts/seg-%06u", s);
        src = adb_db_sync(db, db->segs[s].fd, ADB_DB_SYNC_DATA, sw);
    }
    /* A segment this pass created is named by the record only once its
     * directory entry is durable too. */
    if (!rc && !src) src = adb_db_sync_seg_dir(db, "flush");
    if (src) {
        adb_free(items);
        adb_free(banks);
        return src; /* fatal, with its message (adb_db_sync) */
    }
    if (rc) {
        char why[256];
        snprintf(why, sizeof why, "flush: %s: %s", what, acctdb_strerror(rc));
        adb_eng_fatal(e, why);
        adb_free(items);
        adb_free(banks);
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "%s; the database refuses writes until reopened", why);
    }
    ADB_POINT("flush.synced");

    /* REPOINT: per key, the group of this pass's items with that key (the
     * written one first). */
    size_t    gcap = 64;
    fitem_t **grp = adb_malloc(gcap * sizeof *grp);
    if (!grp) {
        adb_eng_fatal(e, "flush: out of memory after writing the storages");
        adb_free(items);
        adb_free(banks);
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "flush: out of memory after writing; the database refuses writes until "
                           "reopened");
    }
    for (size_t k = 0; k < ni; k++) {
        fitem_t const *it = &items[k];
        if (it->file == UINT32_MAX) continue;
        size_t gn = 0;
        for (uint32_t x = (uint32_t)k; x != UINT32_MAX; x = items[x].next) {
            if (gn == gcap) {
                fitem_t **ng = adb_realloc(grp, 2 * gcap * sizeof *ng);
                if (!ng) break; /* an older item left out only stays cached: never wrong */
                grp = ng;
                gcap *= 2;
            }
            grp[gn++] = &items[x];
        }
        adb_cacct_t const *c = it->c;
        repoint_ctx_t      ctx = {db, grp, gn, adb_db_loc(it->file, it->off, c->lamports == 0)};
        adb_index_vedit(db->ix, c->pubkey.b, repoint_cb, &ctx);
        for (size_t g = 0; e->owners && g < gn; g++)
            adb_eng_pairs_flushed(db, c, grp[g]->c);
        adb_db_file_t *f = adb_db_file(db, it->file);
        atomic_fetch_add(&f->alive_bytes, adb_acct_rec_sz(c->data_len));
        atomic_fetch_add(&f->alive_cnt, 1);
        if (c->lamports == 0) adb_eng_cand_add(e, &c->pubkey);
    }
    adb_free(grp);
    ADB_POINT("flush.repointed");

    /* RECORD: the newest flushed root, and acctdb's own state of the
     * flushed banks appended to its log (durable before the commit names
     * it). */
    acctdb_bank_info_t root = banks[0]->info;
    adb_err_t          xerr;
    adb_err_clear(&xerr);
    if (adb_xs_flush_log(db, banks, nb, &xerr)) {
        char why[256];
        snprintf(why, sizeof why, "%.250s", xerr.msg);
        adb_eng_fatal(e, why);
        adb_free(items);
        adb_free(banks);
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "flush: %s; the database refuses writes until reopened", xerr.msg);
    }
    ADB_POINT_ARG("flush.commit", root.slot);
    rc = adb_eng_write_meta(db, &root, banks[0]->ext);
    if (rc) {
        char why[256];
        snprintf(why, sizeof why, "flush: writing the root record of slot %llu: %s",
                 (unsigned long long)root.slot, acctdb_strerror(rc));
        adb_eng_fatal(e, why);
        adb_free(items);
        adb_free(banks);
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "%s; the database refuses writes until reopened", why);
    }
    ADB_POINT_ARG("flush.committed", root.slot);
    atomic_store(&e->durable_root, root.slot);

    /* The base of acctdb's own state takes the flushed banks' deltas
     * before they are unlinked: a reader sees each bank once. */
    adb_xs_flush_merge(db, banks, nb);

    /* RELEASE */
    pthread_rwlock_wrlock(&e->blk);
    for (size_t bi = 0; bi < nb; bi++)
        adb_bank_unlink(e, banks[bi]);
    pthread_rwlock_unlock(&e->blk);
    void **objs = (void **)items; /* reused: an item is larger than a pointer */
    for (size_t k = 0; k < ni; k++)
        objs[k] = items[k].c;
    adb_eng_retire_many(db, ADB_RET_CACCT, objs, ni);
    for (size_t bi = 0; bi < nb; bi++)
        adb_eng_retire(db, ADB_RET_BANK, banks[bi], 0, 0, 0);
    /* cache_bytes keeps their charge until they are freed (reclaim). */
    atomic_fetch_sub(&e->cache_accts, ni);
    pthread_mutex_lock(&e->svc_mu);
    pthread_cond_broadcast(&e->room_cv);
    pthread_mutex_unlock(&e->svc_mu);
    adb_free(items);
    adb_free(banks);
    /* Past its threshold, the index as this commit left it becomes the base
     * an open after a kill replays from (db_ixfile.c). */
    adb_ixfile_checkpoint(db);
    /* Past its threshold, the state's log becomes an image (the next
     * commit names it; a failure leaves the log going on). */
    if (adb_xs_flush_compact(db, &xerr))
        adb_eng_svc_err_note(e, "flush", xerr.code, xerr.msg, false);
    return (int)ADB_MIN(written, (size_t)INT32_MAX);
}
