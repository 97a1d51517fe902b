/* src/db/db_chilly.c - Chilly in the engine (docs/STATE.md): transactions'
 * loads touch counters at a bank (adb_eng_touch), and the Chilly cache keeps
 * in RAM exactly the accounts the rule calls hot at the root.
 *
 * The cache is a function of rooted state only: when banks are rooted,
 * every account whose counter they set enters it (a copy of its version at
 * the new root), accounts they changed are refreshed, and entries leave in
 * counter order once root_loaded - counter > cache_sz.  So two databases
 * fed the same operations hold the same accounts, and so does a reopen or a
 * database made from a snapshot with its sidecar (the cache is warmed from
 * the persisted counters by the same rule).  Its size is bounded by the
 * rule: cache_sz plus the largest transaction (src/state/chilly.h).
 *
 * Loads read an account from it when the version they see is the one it
 * holds (same slot); otherwise they read as usual.
 *
 * Locks: chot->lk (rwlock) over the map and the queue; updates happen under
 * the engine's wmu (root, open), reads under the read lock. */
#include "db/db_private.h"

#include "state/chilly.h"

#include <stdlib.h>

typedef struct cent {
    struct cent    *next; /* hash chain */
    acctdb_pubkey_t key;
    uint64_t        counter, vslot;
    acctdb_pubkey_t owner;
    uint64_t        lamports, rent_epoch;
    bool            executable;
    uint32_t        data_len;
    uint8_t         data[];
} cent_t;

typedef struct qitem {
    acctdb_pubkey_t key;
    uint64_t        counter;
} qitem_t;

struct adb_chot {
    pthread_rwlock_t lk;
    cent_t         **b;
    uint32_t         cap, cnt;
    qitem_t         *q; /* ring, counter order */
    size_t           qh, qn, qcap;
    uint64_t         loaded, cache_sz, bytes;
    _Atomic uint64_t hits, misses;
};

/* Set while this thread fills the cache: its own loads must not read it
 * (it holds the write lock). */
static _Thread_local bool t_filling;

static uint32_t
home(uint8_t const *k, uint32_t cap) {
    return (uint32_t)(adb_load_u64(k + 16) * 0x9e3779b97f4a7c15ull >> 32) & (cap - 1);
}

static cent_t **
slot_of(adb_chot_t *c, uint8_t const *k) {
    cent_t **p = &c->b[home(k, c->cap)];
    while (*p && memcmp((*p)->key.b, k, 32))
        p = &(*p)->next;
    return p;
}

static int
grow(adb_chot_t *c) {
    uint32_t ncap = c->cap * 2;
    cent_t **nb = adb_calloc(ncap, sizeof *nb);
    if (!nb) return ACCTDB_ERR_NOMEM;
    for (uint32_t i = 0; i < c->cap; i++)
        for (cent_t *e = c->b[i], *n; e; e = n) {
            n = e->next;
            uint32_t h = home(e->key.b, ncap);
            e->next = nb[h];
            nb[h] = e;
        }
    adb_free(c->b);
    c->b = nb;
    c->cap = ncap;
    return 0;
}

static int
q_push(adb_chot_t *c, uint8_t const *k, uint64_t counter) {
    if (c->qn == c->qcap) {
        size_t   ncap = c->qcap ? 2 * c->qcap : 1024;
        qitem_t *nq = adb_malloc(ncap * sizeof *nq);
        if (!nq) return ACCTDB_ERR_NOMEM;
        for (size_t i = 0; i < c->qn; i++)
            nq[i] = c->q[(c->qh + i) % c->qcap];
        adb_free(c->q);
        c->q = nq;
        c->qh = 0;
        c->qcap = ncap;
    }
    qitem_t *it = &c->q[(c->qh + c->qn++) % c->qcap];
    memcpy(it->key.b, k, 32);
    it->counter = counter;
    return 0;
}

static void
drop(adb_chot_t *c, cent_t **p) {
    cent_t *e = *p;
    *p = e->next;
    c->bytes -= adb_chilly_load_sz(e->data_len);
    c->cnt--;
    adb_free(e);
}

/* Entries whose counter fell out of the window leave, oldest first. */
static void
evict(adb_chot_t *c) {
    while (c->qn) {
        qitem_t const *it = &c->q[c->qh];
        if (!adb_chilly_evictable(c->loaded, it->counter, c->cache_sz)) break;
        cent_t **p = slot_of(c, it->key.b);
        if (*p && (*p)->counter == it->counter) drop(c, p);
        c->qh = (c->qh + 1) % c->qcap;
        c->qn--;
    }
}

int
adb_chot_open(adb_db_t *db, uint64_t cache_sz) {
    adb_chot_t *c = adb_calloc(1, sizeof *c);
    if (!c) return ACCTDB_ERR_NOMEM;
    c->cap = 1024;
    c->b = adb_calloc(c->cap, sizeof *c->b);
    if (!c->b) {
        adb_free(c);
        return ACCTDB_ERR_NOMEM;
    }
    pthread_rwlock_init(&c->lk, NULL);
    c->cache_sz = cache_sz;
    db->chot = c;
    return 0;
}

void
adb_chot_close(adb_db_t *db) {
    adb_chot_t *c = db->chot;
    if (!c) return;
    for (uint32_t i = 0; i < c->cap; i++)
        for (cent_t *e = c->b[i], *n; e; e = n) {
            n = e->next;
            adb_free(e);
        }
    adb_free(c->b);
    adb_free(c->q);
    pthread_rwlock_destroy(&c->lk);
    adb_free(c);
    db->chot = NULL;
}

/* Puts key's version at slot (read now) with counter; an absent or
 * compressed account is left out.  enqueue: a new counter (the queue takes
 * it, in counter order); else a refresh of the same counter.  lk held
 * (write). */
static int
put_locked(adb_db_t *db, uint64_t slot, uint8_t const *key, uint64_t counter, bool enqueue,
           uint8_t *buf) {
    adb_chot_t      *c = db->chot;
    acctdb_account_t a;
    uint64_t         vslot = 0;
    t_filling = true;
    int rc = adb_eng_load(db, slot, key, &a, buf, ADB_ACCT_MAX_DATA_SZ, &vslot);
    t_filling = false;
    cent_t **p = slot_of(c, key);
    if (rc == ACCTDB_ERR_NOT_FOUND || rc == ACCTDB_ERR_COMPRESSED) {
        if (*p) drop(c, p);
        return 0;
    }
    if (rc) return rc;
    cent_t *e = adb_malloc(sizeof *e + (size_t)a.data_len);
    if (!e) return ACCTDB_ERR_NOMEM;
    memset(e, 0, sizeof *e);
    e->key = a.pubkey;
    e->counter = counter;
    e->vslot = vslot;
    e->owner = a.owner;
    e->lamports = a.lamports;
    e->rent_epoch = a.rent_epoch;
    e->executable = a.executable;
    e->data_len = (uint32_t)a.data_len;
    if (a.data_len) memcpy(e->data, a.data, (size_t)a.data_len);
    if (*p) drop(c, p);
    if (enqueue && q_push(c, key, counter)) {
        adb_free(e);
        return ACCTDB_ERR_NOMEM;
    }
    p = slot_of(c, key);
    *p = e;
    c->cnt++;
    c->bytes += adb_chilly_load_sz(e->data_len);
    if (c->cnt * 2 > c->cap) grow(c);
    return 0;
}

static int ctr_cmp(void const *a, void const *b);

/* The counters the rooted banks set (oldest first) enter; the accounts
 * they changed are refreshed; then the window moves. */
int
adb_chot_rooted(adb_db_t *db, adb_bank_t *const *banks, size_t n, bool oldest_first) {
    adb_chot_t *c = db->chot;
    if (!c || !n) return 0;
    uint8_t *buf = adb_malloc(ADB_ACCT_MAX_DATA_SZ);
    if (!buf) return ACCTDB_ERR_NOMEM;
    uint64_t    root = oldest_first ? banks[n - 1]->slot : banks[0]->slot;
    adb_bank_t *newest = oldest_first ? banks[n - 1] : banks[0];
    int         rc = 0;
    qitem_t    *v = NULL;
    size_t      vcap = 0;
    pthread_rwlock_wrlock(&c->lk);
    for (size_t j = 0; !rc && j < n; j++) {
        adb_bank_t const *b = banks[oldest_first ? j : n - 1 - j];
        /* The bank's counters in counter order (the queue's order; every
         * bank's are above its parent's). */
        size_t vn = 0;
        if (b->xd && b->xd->m.cnt > vcap) {
            adb_free(v);
            vcap = b->xd->m.cnt;
            if (!(v = adb_malloc(vcap * sizeof *v))) rc = ACCTDB_ERR_NOMEM;
        }
        for (uint32_t i = 0; !rc && b->xd && i < b->xd->m.cap; i++) {
            adb_xent_t const *x = &b->xd->m.e[i];
            if (!x->used || !x->r.counter) continue;
            memcpy(v[vn].key.b, x->key, 32);
            v[vn++].counter = x->r.counter;
        }
        if (vn) qsort(v, vn, sizeof *v, ctr_cmp);
        for (size_t i = 0; !rc && i < vn; i++)
            rc = put_locked(db, root, v[i].key.b, v[i].counter, true, buf);
        /* Accounts the bank changed: their cached copies follow. */
        for (uint32_t i = 0; !rc && i < b->cap; i++) {
            adb_cacct_t const *a = b->accts[i];
            if (!a) continue;
            cent_t **p = slot_of(c, a->pubkey.b);
            if (*p) rc = put_locked(db, root, a->pubkey.b, (*p)->counter, false, buf);
        }
    }
    adb_free(v);
    c->loaded = newest->xloaded;
    evict(c);
    pthread_rwlock_unlock(&c->lk);
    adb_free(buf);
    return rc;
}

/* The base's hot accounts (open, a sidecar import): by the same rule, in
 * counter order. */
static int
ctr_cmp(void const *a, void const *b) {
    qitem_t const *x = a, *y = b;
    if (x->counter != y->counter) return x->counter < y->counter ? -1 : 1;
    return memcmp(x->key.b, y->key.b, 32);
}

int
adb_chot_warm(adb_db_t *db) {
    adb_chot_t *c = db->chot;
    adb_xs_t   *xs = db->xs;
    if (!c || !xs) return 0;
    qitem_t *v = NULL;
    size_t   n = 0;
    pthread_rwlock_rdlock(&xs->lk);
    uint64_t loaded = xs->base_loaded;
    v = adb_malloc((xs->base.cnt ? xs->base.cnt : 1) * sizeof *v);
    for (uint32_t i = 0; v && i < xs->base.cap; i++) {
        adb_xent_t const *x = &xs->base.e[i];
        if (!x->used || !x->r.counter || x->r.counter > loaded ||
            adb_chilly_evictable(loaded, x->r.counter, c->cache_sz))
            continue;
        memcpy(v[n].key.b, x->key, 32);
        v[n++].counter = x->r.counter;
    }
    pthread_rwlock_unlock(&xs->lk);
    if (!v) return ACCTDB_ERR_NOMEM;
    qsort(v, n, sizeof *v, ctr_cmp);
    uint8_t *buf = adb_malloc(ADB_ACCT_MAX_DATA_SZ);
    int      rc = buf ? 0 : ACCTDB_ERR_NOMEM;
    pthread_rwlock_wrlock(&c->lk);
    for (size_t i = 0; !rc && i < n; i++)
        rc = put_locked(db, db->eng->root, v[i].key.b, v[i].counter, true, buf);
    c->loaded = loaded;
    evict(c);
    pthread_rwlock_unlock(&c->lk);
    adb_free(buf);
    adb_free(v);
    return rc;
}

bool
adb_chot_get(adb_db_t *db, uint8_t const key[32], uint64_t vslot, acctdb_account_t *out,
             uint8_t *buf, size_t buf_max, int *rc_out) {
    adb_chot_t *c = db->chot;
    if (!c || t_filling) return false;
    pthread_rwlock_rdlock(&c->lk);
    cent_t **p = slot_of(c, key);
    bool     hit = *p && (*p)->vslot == vslot;
    if (hit) {
        cent_t const *e = *p;
        out->pubkey = e->key;
        out->owner = e->owner;
        out->lamports = e->lamports;
        out->rent_epoch = e->rent_epoch;
        out->executable = e->executable;
        out->data_len = e->data_len;
        out->data = buf;
        *rc_out = e->data_len > buf_max ? ACCTDB_ERR_FULL : 0;
        if (!*rc_out && e->data_len) memcpy(buf, e->data, e->data_len);
    }
    pthread_rwlock_unlock(&c->lk);
    atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return hit;
}

static int
key_cmp(void const *a, void const *b) {
    return memcmp(a, b, 32);
}

int
adb_chot_keys(adb_db_t *db, acctdb_pubkey_t *out, size_t max, size_t *cnt_out) {
    adb_chot_t *c = db->chot;
    *cnt_out = 0;
    if (!c) return ACCTDB_ERR_UNSUPPORTED;
    pthread_rwlock_rdlock(&c->lk);
    size_t n = 0;
    for (uint32_t i = 0; i < c->cap; i++)
        for (cent_t const *e = c->b[i]; e; e = e->next) {
            if (n < max) out[n] = e->key;
            n++;
        }
    pthread_rwlock_unlock(&c->lk);
    *cnt_out = n;
    if (n <= max) qsort(out, n, sizeof *out, key_cmp);
    return n > max ? ACCTDB_ERR_FULL : 0;
}

void
adb_chot_stats(adb_db_t *db, uint64_t *cnt, uint64_t *bytes, uint64_t *hits, uint64_t *misses) {
    adb_chot_t *c = db->chot;
    *cnt = *bytes = *hits = *misses = 0;
    if (!c) return;
    pthread_rwlock_rdlock(&c->lk);
    *cnt = c->cnt;
    *bytes = c->bytes;
    pthread_rwlock_unlock(&c->lk);
    *hits = atomic_load(&c->hits);
    *misses = atomic_load(&c->misses);
}

/* ---- touch: one transaction's loads ------------------------------------------- */

int
adb_eng_touch(adb_db_t *db, uint64_t slot, acctdb_pubkey_t const *keys, size_t n, bool enforce,
              uint8_t *cold_out, uint64_t *cold_bytes_out) {
    adb_eng_t *e = db->eng;
    *cold_bytes_out = 0;
    if (!e->cfg.chilly_cache_sz || !db->xs)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_UNSUPPORTED,
                           "Chilly is off (set chilly_cache_sz in acctdb.conf or the config)");
    if (n > 256)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "a transaction loads at most 256 accounts, not %zu", n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (!memcmp(keys[i].b, keys[j].b, 32))
                return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                                   "account %zu appears twice in the transaction", i);
    uint64_t   lens[256], ctr[256];
    bool       exists[256];
    adb_xrec_t recs[256];
    uint8_t    cold[256];
    uint8_t   *buf = adb_malloc(ADB_ACCT_MAX_DATA_SZ);
    if (!buf) return adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&e->wmu);
    pthread_rwlock_rdlock(&e->blk);
    adb_bank_t *b = adb_bank_find(e, slot);
    bool        open = b && b->state == ADB_BANK_OPEN;
    pthread_rwlock_unlock(&e->blk);
    int rc = open ? 0
                  : adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                                "slot %llu is not an open bank (begin or store at it first)",
                                (unsigned long long)slot);
    for (size_t i = 0; !rc && i < n; i++) {
        acctdb_account_t a;
        int              r = adb_eng_load(db, slot, keys[i].b, &a, buf, ADB_ACCT_MAX_DATA_SZ, NULL);
        if (r == ACCTDB_ERR_COMPRESSED) {
            char k58[ACCTDB_BASE58_32_SZ];
            rc = adb_err_set(adb_eng_err(), r,
                             "account %zu (%s) is compressed: a transaction loading it fails", i,
                             acctdb_base58_encode_32(keys[i].b, k58));
            break;
        }
        if (r && r != ACCTDB_ERR_NOT_FOUND) {
            rc = r;
            break;
        }
        exists[i] = r == 0;
        lens[i] = exists[i] ? a.data_len : 0;
        adb_xs_get_bank(db, b, keys[i].b, &recs[i]);
        ctr[i] = recs[i].counter;
    }
    uint64_t loaded = open ? b->xloaded : 0, cb = 0;
    if (!rc) {
        cb = adb_chilly_touch(&loaded, e->cfg.chilly_cache_sz, ctr, lens, n, cold);
        if (enforce && e->cfg.chilly_load_limit &&
            !adb_chilly_fits(b->xcold, cb, e->cfg.chilly_load_limit))
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_FULL,
                             "the block's LOAD_LIMIT: %llu cold bytes charged, this transaction "
                             "needs %llu more, the limit is %llu",
                             (unsigned long long)b->xcold, (unsigned long long)cb,
                             (unsigned long long)e->cfg.chilly_load_limit);
    }
    /* Counters of the accounts that exist (a load of an absent one is
     * charged as cold, and leaves no state). */
    adb_xrec_t old[256];
    size_t     put = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!exists[i]) continue;
        old[put] = recs[i];
        recs[i].counter = ctr[i];
        if (adb_xs_put(db, b, keys[i].b, &recs[i])) {
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
            break;
        }
        put++;
    }
    if (rc) { /* back as it was */
        for (size_t i = 0, k = 0; i < n && k < put; i++)
            if (exists[i]) adb_xs_put(db, b, keys[i].b, &old[k++]);
    } else {
        b->xloaded = loaded;
        b->xcold += cb;
        *cold_bytes_out = cb;
        if (cold_out) memcpy(cold_out, cold, n);
    }
    pthread_mutex_unlock(&e->wmu);
    adb_free(buf);
    return rc;
}

int
adb_eng_chilly_bank(adb_db_t *db, uint64_t slot, uint64_t *loaded_out, uint64_t *cold_out) {
    adb_eng_t *e = db->eng;
    *loaded_out = *cold_out = 0;
    pthread_rwlock_rdlock(&e->blk);
    adb_bank_t *b = adb_bank_find(e, slot);
    int         rc = 0;
    if (b) {
        *loaded_out = b->xloaded;
        *cold_out = b->xcold;
    } else if (slot == e->root || slot == atomic_load(&e->durable_root)) {
        *loaded_out = db->xs ? db->xs->base_loaded : 0;
    } else {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is not a bank",
                         (unsigned long long)slot);
    }
    pthread_rwlock_unlock(&e->blk);
    return rc;
}

int
adb_eng_chilly_cached(adb_db_t *db, acctdb_pubkey_t *out, size_t max, size_t *cnt_out) {
    int rc = adb_chot_keys(db, out, max, cnt_out);
    if (rc == ACCTDB_ERR_UNSUPPORTED)
        return adb_err_set(adb_eng_err(), rc, "Chilly is off (chilly_cache_sz is 0)");
    if (rc)
        return adb_err_set(adb_eng_err(), rc, "%zu accounts are cached, more than %zu", *cnt_out,
                           max);
    return 0;
}
