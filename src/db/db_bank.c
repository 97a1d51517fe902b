/* src/db/db_bank.c - banks: store, freeze, root, and reads across forks.
 *
 * A bank is one slot's write-cache: the accounts stored at it (immutable
 * adb_cacct_t copies, indexed as CACHE versions).  Bank states:
 *
 *   OPEN --freeze--> FROZEN --root (it or a descendant)--> ROOTED --flush--> (gone)
 *     \________________\____root of another fork____> DEAD --purge--> (gone)
 *
 * Visibility at slot S (the root, or a live bank descending from it): the
 * newest version of a key whose slot is on S's "view": the unrooted chain
 * S, parent(S), ... down to the root, then the rooted banks not flushed
 * yet, then any live (not DEAD-flagged) storage version.  Storage versions
 * exist only for rooted slots at or below the root, so they never belong
 * to another fork.
 *
 * Locks: wmu serializes API writers (store, freeze, root, snapshot); blk
 * guards the bank map, bank states and the root (readers take it shared,
 * briefly, to build a view); per-bin index locks guard versions; epochs
 * keep retired accounts alive for readers.
 *
 * Invariants:
 *   1. Every cacct reachable from the index is reachable from its bank's
 *      map, until flush or purge unlinks both and retires it.
 *   2. A bank's parent is the root or a bank in the map; root < every live
 *      unrooted bank's slot.
 *   3. A frozen bank's info.lt_hash = parent's + Σ lt(final versions) −
 *      Σ lt(versions they replaced, seen from the parent). */
#include "db/db_private.h"

#include "state/avocado.h"

#include "index/owner.h"
#include "db/db_rcache.h"
#include "hash/bankhash.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- bank map (under blk) ----------------------------------------------- */

static inline uint32_t
slot_home(uint64_t slot, uint32_t cap) {
    return (uint32_t)((slot * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

adb_bank_t *
adb_bank_find(adb_eng_t const *e, uint64_t slot) {
    if (!e->banks_cap) return NULL;
    for (uint32_t i = slot_home(slot, e->banks_cap);; i = (i + 1) & (e->banks_cap - 1)) {
        adb_bank_t *b = e->banks[i];
        if (!b) return NULL;
        if (b->slot == slot) return b;
    }
}

static int
map_insert(adb_eng_t *e, adb_bank_t *b) {
    if ((e->banks_cnt + 1) * 2 > e->banks_cap) {
        uint32_t     ncap = e->banks_cap ? e->banks_cap * 2 : 64;
        adb_bank_t **nb = adb_calloc(ncap, sizeof *nb);
        if (!nb) return ACCTDB_ERR_NOMEM;
        for (uint32_t i = 0; i < e->banks_cap; i++) {
            adb_bank_t *x = e->banks[i];
            if (!x) continue;
            uint32_t j = slot_home(x->slot, ncap);
            while (nb[j])
                j = (j + 1) & (ncap - 1);
            nb[j] = x;
        }
        adb_free(e->banks);
        e->banks = nb;
        e->banks_cap = ncap;
    }
    uint32_t i = slot_home(b->slot, e->banks_cap);
    while (e->banks[i])
        i = (i + 1) & (e->banks_cap - 1);
    e->banks[i] = b;
    e->banks_cnt++;
    return 0;
}

void
adb_bank_unlink(adb_eng_t *e, adb_bank_t *b) {
    atomic_fetch_add_explicit(&e->view_gen, 1, memory_order_release);
    uint32_t cap = e->banks_cap, i = slot_home(b->slot, cap);
    while (e->banks[i] != b)
        i = (i + 1) & (cap - 1);
    e->banks[i] = NULL;
    e->banks_cnt--;
    /* Re-place the rest of the cluster (linear probing deletion). */
    for (uint32_t j = (i + 1) & (cap - 1); e->banks[j]; j = (j + 1) & (cap - 1)) {
        adb_bank_t *x = e->banks[j];
        e->banks[j] = NULL;
        uint32_t k = slot_home(x->slot, cap);
        while (e->banks[k])
            k = (k + 1) & (cap - 1);
        e->banks[k] = x;
    }
}

/* ---- a bank's account map ----------------------------------------------- */

static inline uint32_t
key_home(uint8_t const *k, uint32_t cap) {
    return (uint32_t)(adb_load_u64(k + 8) >> 17) & (cap - 1);
}

/* Position of pubkey in b's map (an empty slot if absent). */
static uint32_t
acct_pos(adb_bank_t const *b, uint8_t const *k) {
    uint32_t i = key_home(k, b->cap);
    while (b->accts[i] && memcmp(b->accts[i]->pubkey.b, k, 32))
        i = (i + 1) & (b->cap - 1);
    return i;
}

adb_cacct_t *
adb_bank_get(adb_bank_t const *b, uint8_t const *k) {
    return b->cap ? b->accts[acct_pos(b, k)] : NULL;
}

static int
acct_grow(adb_eng_t *e, adb_bank_t *b) {
    uint32_t      ncap = b->cap ? b->cap * 2 : 64;
    adb_cacct_t **na = adb_calloc(ncap, sizeof *na);
    if (!na) return ACCTDB_ERR_NOMEM;
    adb_cacct_t **old = b->accts;
    uint32_t      ocap = b->cap;
    b->accts = na;
    b->cap = ncap;
    for (uint32_t i = 0; i < ocap; i++)
        if (old[i]) b->accts[acct_pos(b, old[i]->pubkey.b)] = old[i];
    adb_free(old);
    atomic_fetch_add(&e->cache_bytes, (uint64_t)(ncap - ocap) * sizeof *na);
    return 0;
}

static inline uint64_t
cacct_sz(uint64_t data_len) {
    return sizeof(adb_cacct_t) + data_len;
}

/* ---- views --------------------------------------------------------------- */

/* The slots whose cache versions a read at slot may see: its unrooted
 * chain, then the rooted banks still in the cache (descending).  Storage
 * versions (rooted, flushed) are always eligible unless dead. */
typedef struct view {
    uint64_t  slot, root;
    uint64_t *v;
    size_t    n;
    uint64_t  inl[64];
} view_t;

static void
view_fini(view_t *w) {
    if (w->v != w->inl) adb_free(w->v);
}

static int
view_push(view_t *w, uint64_t s) {
    if (w->n == 64 && w->v == w->inl) {
        uint64_t *nv = adb_malloc(128 * sizeof *nv);
        if (!nv) return ACCTDB_ERR_NOMEM;
        memcpy(nv, w->inl, sizeof w->inl);
        w->v = nv;
    } else if (w->n >= 128 && !(w->n & (w->n - 1)) && w->v != w->inl) {
        uint64_t *nv = adb_realloc(w->v, 2 * w->n * sizeof *nv);
        if (!nv) return ACCTDB_ERR_NOMEM;
        w->v = nv;
    }
    w->v[w->n++] = s;
    return 0;
}

/* Builds the view of slot; caller holds blk (shared or exclusive). */
static int
view_build_locked(adb_db_t *db, uint64_t slot, view_t *w) {
    adb_eng_t *e = db->eng;
    w->slot = slot;
    w->root = e->root;
    w->v = w->inl;
    w->n = 0;
    if (slot < e->root)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_TOO_OLD,
                           "slot %llu is below the root %llu (older state was cleaned)",
                           (unsigned long long)slot, (unsigned long long)e->root);
    uint64_t s = slot;
    while (s > e->root) {
        adb_bank_t *b = adb_bank_find(e, s);
        if (!b || b->state == ADB_BANK_DEAD)
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is %s",
                               (unsigned long long)s, b ? "on a dead fork" : "unknown");
        ADB_TRY(view_push(w, s));
        s = b->parent;
    }
    if (s != e->root)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "slot %llu does not descend from the root", (unsigned long long)slot);
    /* The rooted banks not flushed yet: the root's ancestors in the cache. */
    for (adb_bank_t *b = adb_bank_find(e, e->root); b && b->state == ADB_BANK_ROOTED;
         b = adb_bank_find(e, b->parent))
        ADB_TRY(view_push(w, b->slot));
    return 0;
}

static inline bool
view_has(view_t const *w, uint64_t s) {
    /* descending order: binary search */
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->v[mid] == s) return true;
        if (w->v[mid] > s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* The visible version among v[0..n) (newest first), or NULL. */
static adb_index_ver_t const *
pick(view_t const *w, adb_index_ver_t const *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (v[i].slot > w->slot) continue;
        if (adb_val_is_cache(v[i].val)) {
            if (view_has(w, v[i].slot)) return &v[i];
        } else if (!adb_val_is_dead(v[i].val) && (v[i].slot <= w->root || view_has(w, v[i].slot))) {
            /* a bank of the view flushed since it was built: its versions
             * moved from the cache to storage */
            return &v[i];
        }
    }
    return NULL;
}

/* Whether a read of w that began at ix_gen g0 may have missed versions: a
 * service pass ran meanwhile (flush marks what a newer rooted slot
 * replaced DEAD and drops superseded cache versions; clean, shrink and
 * purge drop entries) and the slot is no longer readable (the root moved
 * past it, or its fork died).  Versions of a readable slot are never
 * taken away, so then the answer stands.  0, or TOO_OLD / INVALID: ask
 * again at a newer slot. */
static int
read_stale(adb_db_t *db, view_t const *w, uint64_t g0) {
    adb_eng_t *e = db->eng;
    uint64_t   g1 = atomic_load_explicit(&e->ix_gen, memory_order_acquire);
    if (g1 == g0 && !(g0 & 1)) return 0;
    int rc = 0;
    pthread_rwlock_rdlock(&e->blk);
    if (w->slot < e->root) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_TOO_OLD,
                         "slot %llu: the root moved to %llu during the read (ask again)",
                         (unsigned long long)w->slot, (unsigned long long)e->root);
    } else if (w->slot > e->root) {
        adb_bank_t *b = adb_bank_find(e, w->slot);
        if (!b || b->state == ADB_BANK_DEAD)
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                             "slot %llu: its fork died during the read",
                             (unsigned long long)w->slot);
    }
    pthread_rwlock_unlock(&e->blk);
    return rc;
}

/* ---- reading a version --------------------------------------------------- */

#define VMAX 16 /* versions copied per key; more exist only in pathological forks */

/* Fills out (data copied to buf if buf_max suffices).  Returns 0, FULL
 * (data_len set), or an I/O error.  Caller is inside an epoch. */
static int
read_version(adb_db_t *db, adb_index_ver_t const *v, acctdb_account_t *out, uint8_t *buf,
             size_t buf_max) {
    if (adb_val_is_cache(v->val)) {
        adb_cacct_t const *c = adb_val_cacct(v->val);
        out->pubkey = c->pubkey;
        out->owner = c->owner;
        out->lamports = c->lamports;
        out->rent_epoch = c->rent_epoch;
        out->executable = c->executable;
        out->data_len = c->data_len;
        out->data = buf;
        if (c->data_len > buf_max) return ACCTDB_ERR_FULL;
        if (c->data_len) memcpy(buf, c->data, (size_t)c->data_len);
        return 0;
    }
    return adb_rcache_read(db, v->slot, v->val, out, buf, buf_max);
}

/* Versions of a key (copied), and the visible one. */
static int
lookup(adb_db_t *db, view_t const *w, uint8_t const *key, adb_index_ver_t *vbuf,
       adb_index_ver_t const **vis_out) {
    size_t n = adb_index_vget(db->ix, key, vbuf, VMAX);
    if (n > VMAX) {
        /* A key with more versions than fit: take them all. */
        adb_index_ver_t *big = adb_malloc(n * sizeof *big);
        if (!big) return ACCTDB_ERR_NOMEM;
        size_t                 n2 = adb_index_vget(db->ix, key, big, n);
        adb_index_ver_t const *p = pick(w, big, ADB_MIN(n, n2));
        if (p) vbuf[0] = *p;
        adb_free(big);
        *vis_out = p ? &vbuf[0] : NULL;
        return 0;
    }
    *vis_out = pick(w, vbuf, n);
    return 0;
}

/* ---- the API's engine side --------------------------------------------- */

static int
view_build(adb_db_t *db, uint64_t slot, view_t *w) {
    pthread_rwlock_rdlock(&db->eng->blk);
    int rc = view_build_locked(db, slot, w);
    pthread_rwlock_unlock(&db->eng->blk);
    return rc;
}

/* The calling thread's last view, reused while nothing that could change
 * it happened (view_gen): a load then takes no lock to find its fork.
 * Only views that fit inline are kept (no heap memory in thread-local
 * storage). */
static _Thread_local struct {
    uint64_t eng_id, gen;
    bool     ok;
    view_t   w;
} t_view;

static _Thread_local uint64_t t_loads; /* loads not yet added to the stats */

static void
count_loads(adb_eng_t *e, uint64_t n) {
    if ((t_loads += n) >= 256) {
        atomic_fetch_add_explicit(&e->loads, t_loads, memory_order_relaxed);
        t_loads = 0;
    }
}

/* A view of slot: the cached one, or *priv built now (view_fini it). */
static int
view_get(adb_db_t *db, uint64_t slot, view_t const **out, view_t *priv) {
    adb_eng_t *e = db->eng;
    priv->v = priv->inl;
    priv->n = 0;
    if (t_view.ok && t_view.eng_id == e->id && t_view.w.slot == slot &&
        t_view.gen == atomic_load_explicit(&e->view_gen, memory_order_acquire)) {
        *out = &t_view.w;
        return 0;
    }
    pthread_rwlock_rdlock(&e->blk);
    uint64_t gen = atomic_load_explicit(&e->view_gen, memory_order_relaxed);
    int      rc = view_build_locked(db, slot, priv);
    pthread_rwlock_unlock(&e->blk);
    *out = priv;
    if (!rc && priv->v == priv->inl) {
        t_view.ok = true;
        t_view.eng_id = e->id;
        t_view.gen = gen;
        t_view.w = *priv;
        t_view.w.v = t_view.w.inl;
        *out = &t_view.w;
    }
    return rc;
}

int
adb_eng_load(adb_db_t *db, uint64_t slot, uint8_t const key[32], acctdb_account_t *out,
             uint8_t *buf, size_t buf_max, uint64_t *slot_out) {
    memset(out, 0, sizeof *out);
    if (slot_out) *slot_out = 0;
    ADB_TRY(adb_epoch_register());
    view_t        priv;
    view_t const *w;
    int           rc = view_get(db, slot, &w, &priv);
    if (rc) {
        view_fini(&priv);
        return rc;
    }
    adb_index_ver_t        vb[VMAX];
    adb_index_ver_t const *vis;
    uint64_t               g0 = atomic_load_explicit(&db->eng->ix_gen, memory_order_acquire);
    adb_epoch_enter();
    rc = lookup(db, w, key, vb, &vis);
    if (!rc && !vis) rc = ACCTDB_ERR_NOT_FOUND;
    if (!rc) {
        if (!db->chot || adb_val_is_cache(vis->val) ||
            !adb_chot_get(db, key, vis->slot, out, buf, buf_max, &rc))
            rc = read_version(db, vis, out, buf, buf_max);
        if (!rc && out->lamports == 0) rc = ACCTDB_ERR_NOT_FOUND;
        if (slot_out) *slot_out = vis->slot;
    }
    adb_epoch_exit();
    /* A compressed account reports so (its stored form, or for a burned
     * one its tombstone, is not the account). */
    adb_xrec_t xr;
    if ((rc == 0 || rc == ACCTDB_ERR_NOT_FOUND) && adb_xs_has_compressed(db) &&
        adb_xs_get_at(db, slot, key, &xr) && (xr.flags & ADB_XREC_COMPRESSED))
        rc = adb_xs_compressed_view(key, &xr, out, buf, buf_max);
    if (rc == 0 || rc == ACCTDB_ERR_NOT_FOUND || rc == ACCTDB_ERR_FULL) {
        int st = read_stale(db, w, g0);
        if (st) {
            memset(out, 0, sizeof *out);
            if (slot_out) *slot_out = 0;
            rc = st;
        }
    }
    view_fini(&priv);
    count_loads(db->eng, 1);
    return rc;
}

int
adb_eng_load_batch(adb_db_t *db, uint64_t slot, acctdb_pubkey_t const *keys, size_t n,
                   acctdb_account_t *out, uint8_t *buf, size_t buf_sz, int *rc_out) {
    ADB_TRY(adb_epoch_register());
    view_t        priv;
    view_t const *w;
    int           rc = view_get(db, slot, &w, &priv);
    if (rc) {
        view_fini(&priv);
        return rc;
    }
    enum { B = 32 };
    adb_index_ver_t vb[B * 4];
    size_t          cnt[B];
    uint8_t const  *kp[B];
    size_t          used = 0;
    uint64_t        g0 = atomic_load_explicit(&db->eng->ix_gen, memory_order_acquire);
    adb_epoch_enter();
    for (size_t base = 0; base < n; base += B) {
        size_t m = ADB_MIN((size_t)B, n - base);
        for (size_t i = 0; i < m; i++)
            kp[i] = keys[base + i].b;
        adb_index_vget_batch(db->ix, kp, m, vb, 4, cnt);
        /* The visible versions first, and their records prefetched, so
         * the batch's record misses overlap as its index misses did. */
        adb_index_ver_t const *vp[B];
        for (size_t i = 0; i < m; i++) {
            vp[i] = cnt[i] > 4 ? NULL : pick(w, &vb[i * 4], cnt[i]);
            if (vp[i] && !adb_val_is_cache(vp[i]->val)) adb_rcache_prefetch(db, vp[i]->val);
        }
        for (size_t i = 0; i < m; i++) {
            size_t                 k = base + i;
            adb_index_ver_t const *vis = vp[i];
            adb_index_ver_t        big[VMAX];
            memset(&out[k], 0, sizeof out[k]);
            if (cnt[i] > 4) {
                int r = lookup(db, w, kp[i], big, &vis);
                if (r) {
                    rc_out[k] = r;
                    continue;
                }
            }
            if (!vis) {
                rc_out[k] = ACCTDB_ERR_NOT_FOUND;
                continue;
            }
            int r;
            if (!db->chot || adb_val_is_cache(vis->val) ||
                !adb_chot_get(db, kp[i], vis->slot, &out[k], buf + used, buf_sz - used, &r))
                r = read_version(db, vis, &out[k], buf + used, buf_sz - used);
            if (!r && out[k].lamports == 0) r = ACCTDB_ERR_NOT_FOUND;
            if (!r) used += (size_t)out[k].data_len;
            rc_out[k] = r;
        }
        /* Compressed accounts (db_xstate.h) report so. */
        for (size_t i = 0; adb_xs_has_compressed(db) && i < m; i++) {
            size_t     k = base + i;
            adb_xrec_t xr;
            if ((rc_out[k] != 0 && rc_out[k] != ACCTDB_ERR_NOT_FOUND) ||
                !adb_xs_get_at(db, slot, kp[i], &xr) || !(xr.flags & ADB_XREC_COMPRESSED))
                continue;
            if (rc_out[k] == 0) { /* its stored form: the hash as its data, in place */
                rc_out[k] = ACCTDB_ERR_COMPRESSED;
                continue;
            }
            /* Burned: the tombstone read as absent; the hash goes after the rest. */
            rc_out[k] = adb_xs_compressed_view(kp[i], &xr, &out[k], buf + used, buf_sz - used);
            if (rc_out[k] == ACCTDB_ERR_COMPRESSED) used += 32;
        }
    }
    adb_epoch_exit();
    rc = read_stale(db, w, g0);
    view_fini(&priv);
    count_loads(db->eng, n);
    return rc;
}

/* ---- store ---------------------------------------------------------------- */

/* Checks a store at (slot, parent) (blk held): 0 with *out the open bank,
 * or NULL when the store would create it. */
static int
bank_check_locked(adb_db_t *db, uint64_t slot, uint64_t parent, adb_bank_t **out) {
    adb_eng_t  *e = db->eng;
    adb_bank_t *b = adb_bank_find(e, slot);
    *out = NULL;
    if (b) {
        if (b->state == ADB_BANK_DEAD)
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is on a dead fork",
                               (unsigned long long)slot);
        if (b->state != ADB_BANK_OPEN)
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is frozen",
                               (unsigned long long)slot);
        if (b->parent != parent)
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                               "slot %llu has parent %llu, not %llu", (unsigned long long)slot,
                               (unsigned long long)b->parent, (unsigned long long)parent);
        *out = b;
        return 0;
    }
    if (slot <= e->root)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_TOO_OLD,
                           "slot %llu is at or below the root %llu", (unsigned long long)slot,
                           (unsigned long long)e->root);
    if (slot <= parent)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "slot %llu is not above its parent %llu", (unsigned long long)slot,
                           (unsigned long long)parent);
    if (parent != e->root) {
        adb_bank_t *p = adb_bank_find(e, parent);
        if (!p || p->state == ADB_BANK_DEAD || p->state == ADB_BANK_ROOTED)
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "parent slot %llu is %s",
                               (unsigned long long)parent,
                               !p                          ? "unknown"
                               : p->state == ADB_BANK_DEAD ? "dead"
                                                           : "not live");
        if (p->state != ADB_BANK_FROZEN)
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "parent slot %llu is not frozen",
                               (unsigned long long)parent);
    }
    return 0;
}

/* Creates the bank bank_check_locked found missing (blk held). */
static int
bank_create_locked(adb_db_t *db, uint64_t slot, uint64_t parent, adb_bank_t **out) {
    adb_eng_t  *e = db->eng;
    adb_bank_t *b = adb_calloc(1, sizeof *b);
    *out = NULL;
    if (!b) return adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
    b->slot = slot;
    b->parent = parent;
    b->state = ADB_BANK_OPEN;
    /* A new bank starts with its parent's state (the layer above may
     * replace it while the bank is open). */
    adb_bank_t *pb = parent == e->root ? NULL : adb_bank_find(e, parent);
    b->ext = adb_eng_ext_ref(pb ? pb->ext : e->root_ext);
    b->xloaded = adb_xs_parent_loaded(db, pb);
    int rc = map_insert(e, b);
    if (rc) {
        adb_eng_ext_unref(b->ext);
        adb_free(b);
        return adb_err_set(adb_eng_err(), rc, "out of memory");
    }
    atomic_fetch_add(&e->cache_bytes, adb_bank_charge(b));
    *out = b;
    return 0;
}

/* The most a store of n accounts whose versions charge vbytes can add to
 * the write cache at b (NULL: a bank it creates): the versions, the bank,
 * and its map grown as if every account were new. */
static uint64_t
store_charge(adb_bank_t const *b, size_t n, uint64_t vbytes) {
    adb_bank_t nb = {0};
    uint64_t   need = vbytes + (b ? 0 : adb_bank_charge(&nb));
    uint64_t   cnt = b ? b->cnt : 0, cap = b ? b->cap : 0, ncap = cap;
    while (n && (cnt + n) * 4 > ncap * 3)
        ncap = ncap ? ncap * 2 : 64;
    return need + (ncap - cap) * sizeof(adb_cacct_t *);
}

/* Where the write cache's bytes are, for a store that does not fit. */
typedef struct room {
    uint64_t used, need, max;
    uint64_t flushable;      /* rooted banks (a flush frees them) */
    uint64_t dead;           /* dead forks (a purge frees them) */
    uint64_t retired;        /* unlinked, freed when readers leave */
    uint64_t unrooted;       /* open and frozen banks */
    uint32_t unrooted_banks; /* how many */
    uint64_t newest, root;   /* newest unrooted slot; the root */
} room_t;

static void
room_survey_locked(adb_eng_t *e, room_t *r) {
    for (uint32_t i = 0; i < e->banks_cap; i++) {
        adb_bank_t const *b = e->banks[i];
        if (!b) continue;
        uint64_t sz = b->bytes + adb_bank_charge(b);
        if (b->state == ADB_BANK_ROOTED) {
            r->flushable += sz;
        } else if (b->state == ADB_BANK_DEAD) {
            r->dead += sz;
        } else {
            r->unrooted += sz;
            r->unrooted_banks++;
            r->newest = ADB_MAX(r->newest, b->slot);
        }
    }
    r->root = e->root;
    r->retired = atomic_load(&e->ret_bytes);
}

static uint64_t
ms_now(void) {
    return adb_now_ns() / 1000000u;
}

/* A store that does not fit now: 0 to try again (memory was freed, or
 * after waiting a moment for the flusher), or FULL with what holds the
 * cache and what would free it.  *deadline_ms: when waiting ends (0: not
 * started). */
static int
room_wait(adb_db_t *db, room_t const *r, uint64_t *deadline_ms) {
    adb_eng_t *e = db->eng;
    if (r->need > r->max)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FULL,
                           "write cache full: this store needs %llu bytes, more than the whole "
                           "budget of %llu (write_cache_max_sz): store fewer accounts per call",
                           (unsigned long long)r->need, (unsigned long long)r->max);
    /* Retired memory first: it is ours to free once readers left. */
    if (r->retired && adb_eng_reclaim(db, false)) return 0;
    uint64_t freeable = r->flushable + r->dead + r->retired;
    /* Charged bytes no bank holds and not yet counted retired: a flush or
     * purge between unlinking banks and retiring them (worth waiting for;
     * otherwise the charge is exactly banks + retired). */
    bool transit = r->used > r->flushable + r->dead + r->unrooted + r->retired;
    char held[160] = "";
    if (r->retired)
        snprintf(held, sizeof held,
                 "; %llu bytes retired, freed when the readers holding them leave",
                 (unsigned long long)r->retired);
    if (!transit && r->used - ADB_MIN(freeable, r->used) + r->need > r->max)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FULL,
                           "write cache full: %llu of %llu bytes in use, this store needs %llu; "
                           "nothing rooted since slot %llu: %u unrooted banks (up to slot %llu) "
                           "hold %llu bytes, rooted banks %llu, dead forks %llu%s: root or purge "
                           "forks",
                           (unsigned long long)r->used, (unsigned long long)r->max,
                           (unsigned long long)r->need, (unsigned long long)r->root,
                           r->unrooted_banks, (unsigned long long)r->newest,
                           (unsigned long long)r->unrooted, (unsigned long long)r->flushable,
                           (unsigned long long)r->dead, held);
    if (!e->cfg.background)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FULL,
                           "write cache full: %llu of %llu bytes in use, this store needs %llu; "
                           "%llu bytes of rooted banks wait for a flush and %llu of dead forks for "
                           "a purge%s: step the flush and purge services (background is off)",
                           (unsigned long long)r->used, (unsigned long long)r->max,
                           (unsigned long long)r->need, (unsigned long long)r->flushable,
                           (unsigned long long)r->dead, held);
    uint64_t now = ms_now();
    if (!*deadline_ms) *deadline_ms = now + e->cfg.write_cache_wait_ms;
    if (now >= *deadline_ms)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FULL,
                           "write cache full: %llu of %llu bytes in use, this store needs %llu; "
                           "%llu bytes of rooted banks still flushable and %llu of dead forks "
                           "purgeable after waiting %u ms for the services%s (write_cache_wait_ms)",
                           (unsigned long long)r->used, (unsigned long long)r->max,
                           (unsigned long long)r->need, (unsigned long long)r->flushable,
                           (unsigned long long)r->dead, e->cfg.write_cache_wait_ms, held);
    /* Wake the services and wait for them to free something (flush and
     * purge passes end with a reclaim, which signals room_cv), a few ms at
     * a time. */
    uint64_t        left = ADB_MIN(*deadline_ms - now, 10u);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(left * 1000000u);
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_mutex_lock(&e->svc_mu);
    if (!e->svc_stop) {
        pthread_cond_broadcast(&e->svc_cv);
        pthread_cond_timedwait(&e->room_cv, &e->svc_mu, &ts);
    }
    pthread_mutex_unlock(&e->svc_mu);
    return 0;
}

/* A store that would write over a compressed account (blk held): the
 * index of the first such account, or SIZE_MAX.  Looked up from b, or
 * from parent's chain when the store creates the bank. */
static size_t
compressed_hit_locked(adb_db_t *db, adb_bank_t const *b, uint64_t parent, acctdb_account_t const *a,
                      size_t n) {
    if (!adb_xs_has_compressed(db)) return SIZE_MAX;
    adb_bank_t const *from = b ? b : adb_bank_find(db->eng, parent);
    for (size_t i = 0; i < n; i++) {
        adb_xrec_t r;
        if (adb_xs_get(db, from, a[i].pubkey.b, &r) && (r.flags & ADB_XREC_COMPRESSED)) return i;
    }
    return SIZE_MAX;
}

int
adb_eng_store(adb_db_t *db, uint64_t slot, uint64_t parent, acctdb_account_t const *a, size_t n) {
    return adb_eng_store_ex(db, slot, parent, a, n, 0);
}

int
adb_eng_store_ex(adb_db_t *db, uint64_t slot, uint64_t parent, acctdb_account_t const *a, size_t n,
                 unsigned flags) {
    adb_eng_t *e = db->eng;
    if (atomic_load(&e->fatal))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "the database is in a fatal state since a durable write failed (%s); "
                           "reopen it",
                           adb_eng_fatal_msg(e));
    uint64_t vbytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].data_len > ADB_ACCT_MAX_DATA_SZ || (a[i].data_len && !a[i].data))
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                               "account %zu: data_len %llu (at most 10 MiB, with data)", i,
                               (unsigned long long)a[i].data_len);
        vbytes += adb_cacct_charge(a[i].lamports ? a[i].data_len : 0);
    }
    static uint8_t const zero[32];
    for (size_t i = 0; i < n; i++)
        if (a[i].lamports == 0 && !memcmp(a[i].pubkey.b, zero, 32))
            return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                               "account %zu: the all-zero pubkey (the System Program's id) cannot "
                               "be closed: account files cannot tell its tombstone from padding",
                               i);
    /* Retired memory counts against the budget until readers leave and a
     * reclaim frees it; when it piles up (no service pass ran, or a reader
     * held it), free what the readers allow right here. */
    if (atomic_load(&e->ret_bytes) > e->cfg.write_cache_max_sz / 8) adb_eng_reclaim(db, false);
    /* Room for the whole batch is checked before anything changes, under
     * wmu (the only path that adds to the cache), so a store that does not
     * fit leaves no trace and the budget is never passed. */
    adb_bank_t *b = NULL;
    uint64_t    deadline = 0;
    int         rc;
    bool        locked = flags & ADB_STORE_LOCKED;
    for (;;) {
        if (!locked) pthread_mutex_lock(&e->wmu);
        pthread_rwlock_wrlock(&e->blk);
        rc = bank_check_locked(db, slot, parent, &b);
        size_t hit = rc || (flags & ADB_STORE_COMPRESSED_OK)
                         ? SIZE_MAX
                         : compressed_hit_locked(db, b, parent, a, n);
        if (hit != SIZE_MAX) {
            char k58[ACCTDB_BASE58_32_SZ];
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_COMPRESSED,
                             "account %zu (%s) is compressed: decompress it before storing to it",
                             hit, acctdb_base58_encode_32(a[hit].pubkey.b, k58));
        }
        room_t r = {.used = atomic_load(&e->cache_bytes), .max = e->cfg.write_cache_max_sz};
        if (!rc) r.need = store_charge(b, n, vbytes);
        if (!rc && r.used + r.need <= r.max) {
            if (!b) rc = bank_create_locked(db, slot, parent, &b);
            pthread_rwlock_unlock(&e->blk);
            break;
        }
        if (!rc) room_survey_locked(e, &r);
        pthread_rwlock_unlock(&e->blk);
        if (locked) /* the caller holds wmu: no waiting for room */
            return rc ? rc
                      : adb_err_set(adb_eng_err(), ACCTDB_ERR_FULL,
                                    "the write cache is full (%llu of %llu bytes)",
                                    (unsigned long long)r.used, (unsigned long long)r.max);
        pthread_mutex_unlock(&e->wmu);
        if (rc || (rc = room_wait(db, &r, &deadline)) != 0) return rc;
    }
    for (size_t i = 0; !rc && i < n; i++) {
        acctdb_account_t const *x = &a[i];
        adb_cacct_t            *c = adb_malloc(cacct_sz(x->lamports ? x->data_len : 0));
        if (!c || ((b->cnt + 1) * 4 > b->cap * 3 && acct_grow(e, b))) {
            adb_free(c);
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory in the write cache");
            break;
        }
        c->slot = slot;
        c->prev_slot = UINT64_MAX;
        c->prev_sz = 0;
        c->prev_moved = false;
        c->pubkey = x->pubkey;
        if (x->lamports == 0) {
            /* A closed account is kept as a bare tombstone: no owner, no
             * data (nothing can read them, and they would only cost space
             * until clean removes the tombstone). */
            memset(c->owner.b, 0, 32);
            c->lamports = c->rent_epoch = c->data_len = 0;
            c->executable = false;
        } else {
            c->owner = x->owner;
            c->lamports = x->lamports;
            c->rent_epoch = x->rent_epoch;
            c->data_len = x->data_len;
            c->executable = x->executable;
            if (x->data_len) memcpy(c->data, x->data, (size_t)x->data_len);
        }
        /* Index first, then the bank's map: a reader finding the version in
         * the index reads c, which is complete. */
        rc = adb_index_vput(db->ix, c->pubkey.b, slot, adb_cacct_val(c));
        if (rc) {
            adb_free(c);
            rc = adb_err_set(adb_eng_err(), rc, "out of memory in the index");
            break;
        }
        uint32_t     pos = acct_pos(b, c->pubkey.b);
        adb_cacct_t *old = b->accts[pos];
        b->accts[pos] = c;
        if (e->owners && c->lamports && adb_eng_owner_tracked(e, c->owner.b))
            adb_owner_add(e->owners, &c->owner, &c->pubkey);
        if (c->lamports) adb_eng_token_note(e, c->owner.b, c->pubkey.b, c->data, c->data_len);
        if (old) {
            /* Charged until it is freed (adb_eng_reclaim). */
            b->bytes -= adb_cacct_charge(old->data_len);
            adb_eng_retire(db, ADB_RET_CACCT, old, 0, 0, 0);
        } else {
            b->cnt++;
            atomic_fetch_add(&e->cache_accts, 1);
        }
        b->bytes += adb_cacct_charge(c->data_len);
        atomic_fetch_add(&e->cache_bytes, adb_cacct_charge(c->data_len));
    }
    if (!locked) pthread_mutex_unlock(&e->wmu);
    atomic_fetch_add_explicit(&e->stores, n, memory_order_relaxed);
    return rc;
}

/* ---- freeze ------------------------------------------------------------- */

int
adb_eng_freeze(adb_db_t *db, uint64_t slot, acctdb_bank_meta_t const *meta, uint64_t hard_fork_cnt,
               uint64_t lps, acctdb_bank_info_t *info_out) {
    adb_eng_t *e = db->eng;
    if (info_out) memset(info_out, 0, sizeof *info_out);
    ADB_TRY(adb_epoch_register());
    pthread_mutex_lock(&e->wmu);
    pthread_rwlock_rdlock(&e->blk);
    adb_bank_t *b = adb_bank_find(e, slot);
    int         rc = 0;
    if (!b || b->state == ADB_BANK_DEAD) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is %s",
                         (unsigned long long)slot,
                         b ? "on a dead fork" : "not a bank (store at it first)");
    } else if (b->state != ADB_BANK_OPEN) {
        if (info_out) *info_out = b->info;
        pthread_rwlock_unlock(&e->blk);
        pthread_mutex_unlock(&e->wmu);
        return 0;
    }
    acctdb_bank_info_t parent = {0};
    view_t             w = {.v = NULL};
    if (!rc) {
        if (b->parent == e->root) {
            parent = e->root_info;
        } else {
            adb_bank_t *p = adb_bank_find(e, b->parent);
            if (!p || p->state != ADB_BANK_FROZEN)
                rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                                 "parent slot %llu is not frozen", (unsigned long long)b->parent);
            else
                parent = p->info;
        }
    }
    if (!rc) rc = view_build_locked(db, b->parent, &w);
    pthread_rwlock_unlock(&e->blk);
    if (rc) {
        if (w.v) view_fini(&w);
        pthread_mutex_unlock(&e->wmu);
        return rc;
    }

    /* Mix each account's final version in and the version it replaces
     * (seen from the parent) out, in batches. */
    acctdb_bank_info_t in = {0};
    in.slot = slot;
    in.parent_slot = b->parent;
    in.block_height = parent.block_height + 1;
    in.lt_hash = parent.lt_hash;
    in.capitalization = parent.capitalization;
    in.accounts_data_len = parent.accounts_data_len;
    in.parent_bank_hash = parent.bank_hash;
    if (meta) in.meta = *meta;
    in.accounts_stored = b->cnt;
    in.lamports_per_signature = lps;
    enum { B = 64 };
    acctdb_account_t add[B], sub[B];
    size_t           na = 0, ns = 0;
    size_t const     scratch_sz = 16u << 20;           /* >= one 10 MiB account */
    uint8_t         *scratch = adb_malloc(scratch_sz); /* data of replaced versions */
    size_t           used = 0;
    if (!scratch) rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
    /* A batch of the bank's accounts at a time: their index entries and
     * the records they replace are prefetched together, so the misses of
     * one account overlap with the others' (one miss each, serially, was
     * most of a freeze). */
    bool const       track = e->cfg.lsr && db->xs;
    acctdb_pubkey_t *newk = NULL;
    size_t           newk_n = 0, newk_cap = 0;
    enum { FB = 32 };
    adb_cacct_t           *cb[FB];
    adb_index_ver_t        fvb[FB * 4], big[VMAX];
    adb_index_ver_t const *fprev[FB];
    uint8_t const         *fkp[FB];
    size_t                 fcnt[FB];
    adb_epoch_enter();
    for (uint32_t i = 0; !rc && i < b->cap;) {
        size_t m = 0;
        for (; i < b->cap && m < FB; i++)
            if (b->accts[i]) {
                cb[m] = b->accts[i];
                fkp[m] = cb[m]->pubkey.b;
                m++;
            }
        if (!m) break;
        adb_index_vget_batch(db->ix, fkp, m, fvb, 4, fcnt);
        for (size_t k = 0; k < m; k++) {
            fprev[k] = fcnt[k] > 4 ? NULL : pick(&w, &fvb[k * 4], fcnt[k]);
            if (fprev[k] && !adb_val_is_cache(fprev[k]->val))
                adb_rcache_prefetch(db, fprev[k]->val);
        }
        for (size_t k = 0; !rc && k < m; k++) {
            adb_cacct_t           *c = cb[k];
            adb_index_ver_t const *prev = fprev[k];
            bool                   existed = false;
            if (fcnt[k] > 4 && (rc = lookup(db, &w, c->pubkey.b, big, &prev)) != 0) break;
            if (prev) {
                if (ns == B || scratch_sz - used < ADB_ACCT_MAX_DATA_SZ + 8) {
                    adb_lthash_sub_accounts(&in.lt_hash, sub, ns, ACCTDB_LTHASH_CURRENT);
                    ns = 0;
                    used = 0;
                }
                acctdb_account_t *s = &sub[ns];
                rc = read_version(db, prev, s, scratch + used, scratch_sz - used);
                if (rc) break;
                c->prev_slot = prev->slot;
                c->prev_sz = adb_acct_rec_sz(s->data_len);
                if (e->owners || e->tokens) {
                    /* Pairs only the replaced version holds go when a flush
                     * retires it (adb_eng_pairs_flushed). */
                    adb_pairs_t pp, pc;
                    adb_eng_pairs_of(e, s->owner.b, s->lamports, s->data, s->data_len, &pp);
                    adb_eng_pairs_of(e, c->owner.b, c->lamports, c->data, c->data_len, &pc);
                    c->prev_moved = !adb_eng_pairs_within(&pp, &pc);
                }
                if (s->lamports) {
                    existed = true;
                    in.capitalization -= s->lamports;
                    in.accounts_data_len -= s->data_len;
                    used += (size_t)s->data_len;
                    ns++;
                }
            }
            /* LSR: a new account's creation slot, in acctdb's own state. */
            if (track && c->lamports && !existed) {
                if (newk_n == newk_cap) {
                    size_t           ncap = newk_cap ? 2 * newk_cap : 64;
                    acctdb_pubkey_t *nk = adb_realloc(newk, ncap * sizeof *nk);
                    if (!nk) {
                        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
                        break;
                    }
                    newk = nk;
                    newk_cap = ncap;
                }
                newk[newk_n++] = c->pubkey;
            }
            if (c->lamports) {
                in.capitalization += c->lamports;
                in.accounts_data_len += c->data_len;
                adb_acct_rec_to_account_c(c, &add[na++]);
                if (na == B) {
                    adb_lthash_add_accounts(&in.lt_hash, add, na, ACCTDB_LTHASH_CURRENT);
                    na = 0;
                }
            }
        }
    }
    if (!rc) {
        adb_lthash_sub_accounts(&in.lt_hash, sub, ns, ACCTDB_LTHASH_CURRENT);
        adb_lthash_add_accounts(&in.lt_hash, add, na, ACCTDB_LTHASH_CURRENT);
    }
    adb_epoch_exit();
    adb_free(scratch);
    view_fini(&w);
    for (size_t i = 0; !rc && i < newk_n; i++) {
        adb_xrec_t r;
        adb_xs_get_bank(db, b, newk[i].b, &r);
        r.created = slot;
        if (adb_xs_put(db, b, newk[i].b, &r))
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
    }
    adb_free(newk);
    if (!rc) {
        adb_lthash_checksum(&in.lt_hash, in.lt_checksum);
        adb_bankhash_in_t h = {.parent_hash = in.parent_bank_hash.b,
                               .signature_count = in.meta.signature_count,
                               .last_blockhash = in.meta.blockhash.b,
                               .accounts_lt_hash = (uint8_t const *)in.lt_hash.v,
                               .hard_fork_cnt = hard_fork_cnt};
        rc = adb_bankhash(&h, in.bank_hash.b);
        if (rc) adb_err_set(adb_eng_err(), rc, "bank hash: %s", acctdb_strerror(rc));
    }
    if (!rc) {
        pthread_rwlock_wrlock(&e->blk);
        b->info = in;
        b->state = ADB_BANK_FROZEN;
        pthread_rwlock_unlock(&e->blk);
        if (info_out) *info_out = in;
        atomic_fetch_add_explicit(&e->freezes, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&e->wmu);
    return rc;
}

/* ---- root ------------------------------------------------------------------ */

static bool
descends(adb_eng_t const *e, adb_bank_t const *b, uint64_t anc) {
    while (b && b->slot > anc) {
        if (b->parent == anc) return true;
        b = adb_bank_find(e, b->parent);
    }
    return b && b->slot == anc;
}

int
adb_eng_root(adb_db_t *db, uint64_t slot) {
    adb_eng_t *e = db->eng;
    ADB_TRY(adb_epoch_register());
    pthread_mutex_lock(&e->wmu);
    pthread_rwlock_wrlock(&e->blk);
    adb_bank_t *b = adb_bank_find(e, slot);
    int         rc = 0;
    if (slot <= e->root)
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_TOO_OLD, "slot %llu is not above the root %llu",
                         (unsigned long long)slot, (unsigned long long)e->root);
    else if (!b || b->state == ADB_BANK_DEAD)
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is %s",
                         (unsigned long long)slot, b ? "on a dead fork" : "unknown");
    else if (b->state != ADB_BANK_FROZEN)
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is not frozen",
                         (unsigned long long)slot);
    adb_bank_t *chain[1024], **cv = chain;
    size_t      cn = 0, ccap = 1024;
    if (!rc) {
        /* The chain (root, slot] becomes rooted, oldest first into history. */
        for (adb_bank_t *x = b; x && x->slot > e->root; x = adb_bank_find(e, x->parent)) {
            if (cn == ccap) {
                adb_bank_t **nv = adb_malloc(2 * ccap * sizeof *nv);
                if (!nv) {
                    rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
                    break;
                }
                memcpy(nv, cv, cn * sizeof *nv);
                if (cv != chain) adb_free(cv);
                cv = nv;
                ccap *= 2;
            }
            cv[cn++] = x;
        }
        for (size_t i = cn; !rc && i-- > 0;) {
            cv[i]->state = ADB_BANK_ROOTED;
            adb_eng_hist_push(e, &cv[i]->info);
        }
    }
    if (!rc) {
        /* Every other live bank not descending from slot is dead. */
        for (uint32_t i = 0; i < e->banks_cap; i++) {
            adb_bank_t *x = e->banks[i];
            if (!x || x->state == ADB_BANK_ROOTED || x->state == ADB_BANK_DEAD) continue;
            if (!descends(e, x, slot)) x->state = ADB_BANK_DEAD;
        }
        e->root = slot;
        e->root_info = b->info;
        adb_eng_ext_t *old = e->root_ext;
        e->root_ext = adb_eng_ext_ref(b->ext);
        adb_eng_ext_unref(old);
        if (!atomic_load(&e->unflushed_since_ns))
            atomic_store(&e->unflushed_since_ns, adb_now_ns());
        atomic_fetch_add_explicit(&e->view_gen, 1, memory_order_release);
        atomic_fetch_add_explicit(&e->roots, 1, memory_order_relaxed);
    }
    /* The root hook sees each newly rooted bank, oldest first: inside an
     * epoch (a flush may retire the banks meanwhile), with writers still
     * held, so slots reach it in order. */
    bool hook = !rc && e->root_hook && cn;
    bool chot = !rc && db->chot && cn;
    if (hook || chot) adb_epoch_enter();
    pthread_rwlock_unlock(&e->blk);
    if (hook) {
        for (size_t i = 0, j = cn - 1; i < j; i++, j--) {
            adb_bank_t *t = cv[i];
            cv[i] = cv[j];
            cv[j] = t;
        }
        adb_eng_root_hook_run(e, cv, cn);
    }
    /* The Chilly cache follows the rooted counters (db_chilly.c); a
     * failure leaves it smaller, never wrong. */
    if (chot && adb_chot_rooted(db, cv, cn, hook))
        adb_eng_svc_err_note(e, "chilly", ACCTDB_ERR_NOMEM,
                             "the Chilly cache could not follow a root", false);
    if (hook || chot) adb_epoch_exit();
    if (cv != chain) adb_free(cv);
    pthread_mutex_unlock(&e->wmu);
    if (!rc && e->cfg.background) {
        pthread_mutex_lock(&e->svc_mu);
        pthread_cond_broadcast(&e->svc_cv);
        pthread_mutex_unlock(&e->svc_mu);
    }
    return rc;
}

int
adb_eng_bank_info(adb_db_t *db, uint64_t slot, acctdb_bank_info_t *out) {
    adb_eng_t *e = db->eng;
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock(&e->blk);
    int rc = 0;
    if (slot == e->root) {
        *out = e->root_info;
    } else {
        adb_bank_t *b = adb_bank_find(e, slot);
        if (!b || b->state == ADB_BANK_OPEN || b->state == ADB_BANK_DEAD)
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOT_FOUND,
                             "slot %llu is not a frozen live bank", (unsigned long long)slot);
        else
            *out = b->info;
    }
    pthread_rwlock_unlock(&e->blk);
    return rc;
}

void
adb_eng_hist_push(adb_eng_t *e, acctdb_bank_info_t const *in) {
    /* Pruning: an entry goes once no queue can need it any more, i.e.
     * more than 300 blocks below the durable root (every later commit,
     * snapshot or freeze describes that root or a newer one), keeping the
     * 301 newest; in batches (each drop moves the array).  At the cap the
     * oldest goes regardless. */
    uint64_t const floor = atomic_load(&e->durable_bh);
    uint32_t       drop = 0;
    while (e->hist_cnt - drop > ADB_HIST_KEEP &&
           e->hist[drop].block_height + (ADB_HIST_KEEP - 1) < floor)
        drop++;
    if (e->hist_cnt == ADB_HIST_CAP && !drop) drop = 1;
    if (drop >= 64 || e->hist_cnt == ADB_HIST_CAP) {
        memmove(e->hist, e->hist + drop, (e->hist_cnt - drop) * sizeof *e->hist);
        e->hist_cnt -= drop;
    }
    e->hist[e->hist_cnt++] = *in;
}

/* The history window of slot: entries [*first, end) (the return). */
static uint32_t
hist_window(adb_eng_t const *e, uint64_t slot, uint32_t *first) {
    uint32_t end = e->hist_cnt; /* slots rise along the history */
    while (end && e->hist[end - 1].slot > slot)
        end--;
    *first = end > ADB_HIST_KEEP ? end - ADB_HIST_KEEP : 0;
    return end;
}

uint32_t
adb_eng_hist_upto(adb_eng_t const *e, uint64_t slot, acctdb_bank_info_t *out) {
    uint32_t first, end = hist_window(e, slot, &first);
    memcpy(out, e->hist + first, (end - first) * sizeof *out);
    return end - first;
}

bool
adb_eng_hist_blockhash(adb_eng_t const *e, uint64_t slot, uint8_t const bh[32],
                       uint64_t *slot_out) {
    uint32_t first, end = hist_window(e, slot, &first);
    for (uint32_t i = end; i-- > first;)
        if (!memcmp(e->hist[i].meta.blockhash.b, bh, 32)) {
            *slot_out = e->hist[i].slot;
            return true;
        }
    return false;
}

/* ---- scan by owner ------------------------------------------------------------
 * The owner index gives candidates (sorted); each is re-read as seen from
 * the slot, so versions of other forks, older owners and closed accounts
 * never show.  Candidates with no version left at all are pruned. */

static bool
memcmp_match(acctdb_account_t const *a, acctdb_scan_filter_t const *f) {
    if (f->has_data_size && a->data_len != f->data_size) return false;
    for (size_t i = 0; i < f->memcmp_cnt; i++) {
        acctdb_memcmp_t const *m = &f->memcmp[i];
        if (m->offset > a->data_len || m->len > a->data_len - m->offset) return false;
        if (m->len && memcmp(a->data + m->offset, m->bytes, m->len)) return false;
    }
    return true;
}

/* The candidates of ixkey in ix, after *cursor, each read at slot and kept
 * when match says so; candidates with no version left at all are pruned.
 * The owner scan and the token scans are this with their own index and
 * predicate. */
typedef bool (*cand_match_fn)(void *mctx, acctdb_account_t const *a);

static int
cand_scan(adb_db_t *db, uint64_t slot, adb_owner_ix_t *ix, acctdb_pubkey_t const *ixkey,
          acctdb_pubkey_t const *cursor, size_t limit, cand_match_fn match, void *mctx,
          acctdb_scan_fn fn, void *ctx, acctdb_pubkey_t *next_out, bool *more_out) {
    ADB_TRY(adb_epoch_register());
    view_t w;
    int    rc = view_build(db, slot, &w);
    if (rc) {
        view_fini(&w);
        return rc;
    }
    size_t   buf_cap = 1u << 16, got = 0;
    uint8_t *buf = adb_malloc(buf_cap);
    if (!buf) rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "scan: out of memory");
    enum { PAGE = 256 };
    acctdb_pubkey_t keys[PAGE], after;
    bool            has_after = cursor != NULL, more = true;
    if (cursor) after = *cursor;
    uint64_t g0 = atomic_load_explicit(&db->eng->ix_gen, memory_order_acquire);
    while (!rc && more) {
        size_t n = adb_owner_page(ix, ixkey, has_after ? &after : NULL, keys, PAGE, &more);
        for (size_t i = 0; !rc && i < n; i++) {
            adb_index_ver_t        vb[VMAX];
            adb_index_ver_t const *vis;
            acctdb_account_t       a;
            if (limit && got == limit) {
                if (more_out) *more_out = true;
                more = false;
                break;
            }
            after = keys[i];
            has_after = true;
            adb_epoch_enter();
            rc = lookup(db, &w, keys[i].b, vb, &vis);
            if (!rc && vis) {
                rc = read_version(db, vis, &a, buf, buf_cap);
                if (rc == ACCTDB_ERR_FULL) {
                    size_t   ncap = (size_t)a.data_len;
                    uint8_t *nb = adb_realloc(buf, ncap);
                    rc = nb ? read_version(db, vis, &a, nb, ncap) : ACCTDB_ERR_NOMEM;
                    if (nb) buf = nb, buf_cap = ncap;
                }
            }
            uint64_t vslot = vis ? vis->slot : 0;
            bool     none = !rc && !vis && adb_index_vget(db->ix, keys[i].b, vb, 1) == 0;
            adb_epoch_exit();
            if (rc) break;
            if (none) adb_owner_del(ix, ixkey, &keys[i]);
            if (!vis || !a.lamports) continue;
            /* A compressed account has left the index as far as scans go
             * (docs/STATE.md): its stored form would match on the hash. */
            adb_xrec_t xr;
            if (a.data_len == ADB_AVOCADO_HASH_SZ && adb_xs_has_compressed(db) &&
                adb_xs_get_at(db, slot, keys[i].b, &xr) && (xr.flags & ADB_XREC_COMPRESSED))
                continue;
            if (!match(mctx, &a)) continue;
            got++;
            if (next_out) *next_out = keys[i];
            rc = fn(ctx, &a, vslot);
        }
        if (!rc) rc = read_stale(db, &w, g0); /* each page: stop early */
    }
    if (!rc) rc = read_stale(db, &w, g0);
    adb_free(buf);
    view_fini(&w);
    return rc;
}

static bool
owner_match(void *mctx, acctdb_account_t const *a) {
    acctdb_scan_filter_t const *f = mctx;
    return !memcmp(a->owner.b, f->owner.b, 32) && memcmp_match(a, f);
}

int
adb_eng_scan(adb_db_t *db, uint64_t slot, acctdb_scan_filter_t const *f,
             acctdb_pubkey_t const *cursor, size_t limit, acctdb_scan_fn fn, void *ctx,
             acctdb_pubkey_t *next_out, bool *more_out) {
    adb_eng_t *e = db->eng;
    if (more_out) *more_out = false;
    if (next_out) memset(next_out, 0, sizeof *next_out);
    if (!e->owners || !adb_eng_owner_tracked(e, f->owner.b))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_UNSUPPORTED,
                           "scans need the owner index (owner_index = true)");
    if (f->memcmp_cnt > 4)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "at most 4 memcmp filters");
    return cand_scan(db, slot, e->owners, &f->owner, cursor, limit, owner_match, (void *)f, fn, ctx,
                     next_out, more_out);
}

/* An SPL Token (or Token-2022) account: owned by one of the two programs
 * (or the one asked for), at least the 165 bytes of the account layout,
 * initialized or frozen (state byte at 108: 1 or 2), with key at the
 * offset asked for (32: the token owner, 0: the mint). */
typedef struct token_q {
    acctdb_pubkey_t const *key, *program;
    uint32_t               off;
} token_q_t;

static bool
token_match(void *mctx, acctdb_account_t const *a) {
    token_q_t const *q = mctx;
    if (q->program ? memcmp(a->owner.b, q->program->b, 32) != 0
                   : !adb_eng_is_token_program(a->owner.b))
        return false;
    return a->data_len >= ADB_TOKEN_ACCOUNT_SZ && (a->data[108] == 1 || a->data[108] == 2) &&
           !memcmp(a->data + q->off, q->key->b, 32);
}

int
adb_eng_token_scan(adb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key, bool by_mint,
                   acctdb_pubkey_t const *program, acctdb_pubkey_t const *cursor, size_t limit,
                   acctdb_scan_fn fn, void *ctx, acctdb_pubkey_t *next_out, bool *more_out) {
    adb_eng_t *e = db->eng;
    if (more_out) *more_out = false;
    if (next_out) memset(next_out, 0, sizeof *next_out);
    if (!e->tokens || !e->mints)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_UNSUPPORTED,
                           "token queries need the owner index (owner_index = true)");
    if (program && !adb_eng_is_token_program(program->b))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "the program must be SPL Token or Token-2022");
    token_q_t q = {.key = key, .program = program, .off = by_mint ? 0 : 32};
    return cand_scan(db, slot, by_mint ? e->mints : e->tokens, key, cursor, limit, token_match, &q,
                     fn, ctx, next_out, more_out);
}

/* ---- per-bank state of the layer above -------------------------------------- */

adb_eng_ext_t *
adb_eng_ext_new(void const *p, size_t sz) {
    adb_eng_ext_t *x = adb_malloc(sizeof *x + (sz ? sz : 1));
    if (!x) return NULL;
    atomic_init(&x->refs, 1);
    x->sz = sz;
    if (sz) memcpy(x->data, p, sz);
    return x;
}

adb_eng_ext_t *
adb_eng_ext_ref(adb_eng_ext_t *x) {
    if (x) atomic_fetch_add_explicit(&x->refs, 1, memory_order_relaxed);
    return x;
}

void
adb_eng_ext_unref(adb_eng_ext_t *x) {
    if (x && atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) == 1) adb_free(x);
}

void const *
adb_eng_ext_data(adb_eng_ext_t const *x, size_t *sz_out) {
    *sz_out = x ? x->sz : 0;
    return x ? x->data : NULL;
}

int
adb_eng_ext_get(adb_db_t *db, uint64_t slot, adb_eng_ext_t **ext_out) {
    adb_eng_t *e = db->eng;
    *ext_out = NULL;
    int rc = 0;
    pthread_rwlock_rdlock(&e->blk);
    adb_bank_t *b = slot == e->root ? NULL : adb_bank_find(e, slot);
    if (slot == e->root)
        *ext_out = adb_eng_ext_ref(e->root_ext);
    else if (b && b->state != ADB_BANK_DEAD)
        *ext_out = adb_eng_ext_ref(b->ext);
    else
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOT_FOUND, "slot %llu is not a live bank",
                         (unsigned long long)slot);
    pthread_rwlock_unlock(&e->blk);
    return rc;
}

int
adb_eng_ext_set(adb_db_t *db, uint64_t slot, void const *p, size_t sz) {
    adb_eng_t     *e = db->eng;
    adb_eng_ext_t *x = adb_eng_ext_new(p, sz);
    if (!x) return adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&e->wmu);
    pthread_rwlock_wrlock(&e->blk);
    adb_bank_t *b = adb_bank_find(e, slot);
    int         rc = 0;
    if (!b || b->state != ADB_BANK_OPEN) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                         "slot %llu is not an open bank (its state is set while it is open)",
                         (unsigned long long)slot);
    } else {
        adb_eng_ext_t *old = b->ext;
        b->ext = x;
        x = old;
    }
    pthread_rwlock_unlock(&e->blk);
    pthread_mutex_unlock(&e->wmu);
    adb_eng_ext_unref(x);
    return rc;
}
