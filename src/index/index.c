/* src/index/index.c - binned Robin Hood hash tables.
 *
 * Invariants (per bin):
 *   1. Every non-empty entry lies at or after its home position h(key) %
 *      cap (cyclically) with no empty entry between home and itself.
 *   2. Robin Hood order: along a run, probe distances never drop by more
 *      than one from one entry to the next, so a lookup stops as soon as it
 *      meets an entry closer to its home than the searched key would be.
 *   3. cnt <= cap * 9/10; the table grows (x1.25..x2) before passing it. */
#include "index/index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

typedef struct entry {
    uint8_t  key[32];
    uint64_t slot; /* ADB_INDEX_SLOT_EMPTY when free */
    uint64_t val;
} entry_t;
_Static_assert(sizeof(entry_t) == 48, "48-byte index entries");

typedef struct bin {
    atomic_flag lock;
    uint32_t    cap;
    uint32_t    cnt;
    entry_t    *tab;
} bin_t;

struct adb_index {
    uint32_t         bin_bits;
    uint32_t         bin_cnt;
    uint64_t         seed;
    _Atomic uint64_t cnt;
    _Atomic uint64_t mem;
    _Atomic uint64_t lists; /* versions held in lists */
    bin_t           *bins;
};

/* A key's versions when it has more than one, newest first. */
typedef struct vlist {
    uint32_t        cnt, cap;
    adb_index_ver_t v[];
} vlist_t;

static inline vlist_t *
as_list(entry_t const *e) {
    return (vlist_t *)(uintptr_t)e->val;
}

static void vlist_free(adb_index_t *ix, vlist_t *l);

static inline void
bin_lock(bin_t *b) {
    while (atomic_flag_test_and_set_explicit(&b->lock, memory_order_acquire)) {
        __builtin_ia32_pause();
    }
}
static inline void
bin_unlock(bin_t *b) {
    atomic_flag_clear_explicit(&b->lock, memory_order_release);
}

static inline uint64_t
mix(uint64_t x) {
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

/* Position hash: keyed, from bytes past the bin prefix. */
static inline uint64_t
khash(adb_index_t const *ix, uint8_t const *k) {
    return mix(adb_load_u64(k + 8) ^ ix->seed) ^ adb_load_u64(k + 16) ^ (adb_load_u64(k + 24) >> 7);
}

static inline uint32_t
home(uint64_t h, uint32_t cap) {
    return (uint32_t)(((unsigned __int128)h * cap) >> 64);
}

/* Prefetches the home entry of key without taking the bin lock. */
static inline void
prefetch_home(adb_index_t const *ix, uint8_t const *key, int rw) {
    bin_t const *b = &ix->bins[adb_index_bin_of(ix, key)];
    entry_t     *tab = __atomic_load_n(&b->tab, __ATOMIC_RELAXED);
    uint32_t     cap = __atomic_load_n(&b->cap, __ATOMIC_RELAXED);
    if (rw)
        __builtin_prefetch(&tab[home(khash(ix, key), cap)], 1);
    else
        __builtin_prefetch(&tab[home(khash(ix, key), cap)]);
}

uint32_t
adb_index_bin_of(adb_index_t const *ix, uint8_t const key[32]) {
    uint32_t top = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
    return ix->bin_bits ? top >> (32 - ix->bin_bits) : 0;
}

static entry_t *
tab_alloc(uint32_t cap) {
    entry_t *t = adb_malloc((size_t)cap * sizeof(entry_t));
    if (!t) return NULL;
    for (uint32_t i = 0; i < cap; i++)
        t[i].slot = ADB_INDEX_SLOT_EMPTY;
    return t;
}

int
adb_index_open(adb_index_t **ix_out, adb_index_cfg_t const *cfg) {
    *ix_out = NULL;
    uint32_t bits = cfg && cfg->bin_bits ? cfg->bin_bits : 13;
    if (bits > 20) return ACCTDB_ERR_INVALID;
    adb_index_t *ix = adb_calloc(1, sizeof *ix);
    if (!ix) return ACCTDB_ERR_NOMEM;
    ix->bin_bits = bits;
    ix->bin_cnt = 1u << bits;
    if (getrandom(&ix->seed, sizeof ix->seed, 0) != sizeof ix->seed)
        ix->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
    ix->bins = adb_calloc(ix->bin_cnt, sizeof(bin_t));
    if (!ix->bins) {
        adb_free(ix);
        return ACCTDB_ERR_NOMEM;
    }
    uint64_t per = cfg ? cfg->expected_keys / ix->bin_cnt : 0;
    uint32_t cap = (uint32_t)ADB_MIN((per * 10 / 8) + 8, 1u << 30);
    for (uint32_t i = 0; i < ix->bin_cnt; i++) {
        atomic_flag_clear(&ix->bins[i].lock);
        ix->bins[i].cap = cap;
        ix->bins[i].tab = tab_alloc(cap);
        if (!ix->bins[i].tab) {
            adb_index_close(ix);
            return ACCTDB_ERR_NOMEM;
        }
    }
    atomic_store(&ix->mem, (uint64_t)ix->bin_cnt * (cap * sizeof(entry_t) + sizeof(bin_t)));
    *ix_out = ix;
    return 0;
}

void
adb_index_close(adb_index_t *ix) {
    if (!ix) return;
    if (ix->bins)
        for (uint32_t i = 0; i < ix->bin_cnt; i++) {
            bin_t *b = &ix->bins[i];
            for (uint32_t k = 0; b->tab && k < b->cap; k++)
                if (b->tab[k].slot == ADB_INDEX_SLOT_LIST) adb_free(as_list(&b->tab[k]));
            adb_free(b->tab);
        }
    adb_free(ix->bins);
    adb_free(ix);
}

/* Robin Hood insert of a key known to be absent; the table has room. */
static void
rh_insert(adb_index_t const *ix, bin_t *b, entry_t e) {
    uint32_t cap = b->cap;
    uint32_t pos = home(khash(ix, e.key), cap);
    uint32_t dist = 0;
    for (;;) {
        entry_t *s = &b->tab[pos];
        if (s->slot == ADB_INDEX_SLOT_EMPTY) {
            *s = e;
            b->cnt++;
            return;
        }
        uint32_t h = home(khash(ix, s->key), cap);
        uint32_t sd = pos >= h ? pos - h : pos + cap - h;
        if (sd < dist) {
            entry_t t = *s;
            *s = e;
            e = t;
            dist = sd;
        }
        pos = pos + 1 == cap ? 0 : pos + 1;
        dist++;
    }
}

/* Rebuilds b with capacity ncap (>= cnt * 10/9). */
static int
rebuild(adb_index_t *ix, bin_t *b, uint64_t ncap64) {
    if (ncap64 > (1u << 31)) return ACCTDB_ERR_NOMEM;
    uint32_t ncap = (uint32_t)ncap64;
    if (ncap <= b->cap) return 0;
    entry_t *old = b->tab, *nt = tab_alloc(ncap);
    if (!nt) return ACCTDB_ERR_NOMEM;
    uint32_t ocap = b->cap;
    /* Published with relaxed atomic stores: the batched calls read them
     * without the lock to compute prefetch hints (prefetching a stale
     * address is harmless; a plain racy read would not be). */
    __atomic_store_n(&b->tab, nt, __ATOMIC_RELAXED);
    __atomic_store_n(&b->cap, ncap, __ATOMIC_RELAXED);
    b->cnt = 0;
    for (uint32_t i = 0; i < ocap; i++)
        if (old[i].slot != ADB_INDEX_SLOT_EMPTY) rh_insert(ix, b, old[i]);
    adb_free(old);
    atomic_fetch_add(&ix->mem, (uint64_t)(ncap - ocap) * sizeof(entry_t));
    return 0;
}

/* Small bins double; large ones grow by a quarter (RAM per key). */
static int
grow(adb_index_t *ix, bin_t *b) {
    uint64_t add = b->cap < 64 ? b->cap : b->cap / 4;
    return rebuild(ix, b, (uint64_t)b->cap + ADB_MAX(add, 8u));
}

int
adb_index_reserve(adb_index_t *ix, uint64_t total_keys) {
    uint64_t per = total_keys / ix->bin_cnt + 1;
    uint64_t want = per * 10 / 8 + 8;
    for (uint32_t i = 0; i < ix->bin_cnt; i++) {
        bin_t *b = &ix->bins[i];
        bin_lock(b);
        int rc = want > b->cap ? rebuild(ix, b, want) : 0;
        bin_unlock(b);
        if (rc) return rc;
    }
    return 0;
}

/* Finds key in b; returns its position or -1. */
static inline int64_t
find(adb_index_t const *ix, bin_t const *b, uint8_t const *key) {
    uint32_t cap = b->cap;
    uint32_t pos = home(khash(ix, key), cap);
    for (uint32_t dist = 0;; dist++) {
        entry_t const *s = &b->tab[pos];
        if (s->slot == ADB_INDEX_SLOT_EMPTY) return -1;
        if (!memcmp(s->key, key, 32)) return pos;
        uint32_t h = home(khash(ix, s->key), cap);
        uint32_t sd = pos >= h ? pos - h : pos + cap - h;
        if (sd < dist) return -1;
        pos = pos + 1 == cap ? 0 : pos + 1;
    }
}

static inline bool
newer(uint64_t s1, uint64_t v1, uint64_t s2, uint64_t v2) {
    return s1 > s2 || (s1 == s2 && v1 > v2);
}

static int
upsert(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val, bool only_newer,
       uint64_t *old_slot, uint64_t *old_val) {
    if (slot == ADB_INDEX_SLOT_EMPTY) return ACCTDB_ERR_INVALID;
    bin_t *b = &ix->bins[adb_index_bin_of(ix, key)];
    bin_lock(b);
    int64_t p = find(ix, b, key);
    int     rc;
    if (p >= 0) {
        entry_t *s = &b->tab[p];
        ADB_ASSERT(s->slot != ADB_INDEX_SLOT_LIST); /* bulk calls: one version per key */
        if (old_slot) *old_slot = s->slot;
        if (old_val) *old_val = s->val;
        if (only_newer && !newer(slot, val, s->slot, s->val)) {
            rc = ADB_INDEX_KEPT;
        } else {
            s->slot = slot;
            s->val = val;
            rc = ADB_INDEX_REPLACED;
        }
    } else {
        if ((uint64_t)(b->cnt + 1) * 10 > (uint64_t)b->cap * 9 && (rc = grow(ix, b)) != 0) {
            bin_unlock(b);
            return rc;
        }
        entry_t e;
        memcpy(e.key, key, 32);
        e.slot = slot;
        e.val = val;
        rh_insert(ix, b, e);
        atomic_fetch_add_explicit(&ix->cnt, 1, memory_order_relaxed);
        rc = ADB_INDEX_INSERTED;
    }
    bin_unlock(b);
    return rc;
}

int
adb_index_upsert_newer(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val,
                       uint64_t *old_slot, uint64_t *old_val) {
    return upsert(ix, key, slot, val, true, old_slot, old_val);
}

int
adb_index_upsert_newer_batch(adb_index_t *ix, uint8_t const *const *keys, uint64_t const *slots,
                             uint64_t const *vals, size_t n, uint8_t *res, uint64_t *old_slots,
                             uint64_t *old_vals) {
    enum { AHEAD = 8 };
    for (size_t i = 0; i < n && i < AHEAD; i++)
        prefetch_home(ix, keys[i], 1);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n) prefetch_home(ix, keys[i + AHEAD], 1);
        int rc = upsert(ix, keys[i], slots[i], vals[i], true, &old_slots[i], &old_vals[i]);
        if (rc < 0) return rc;
        res[i] = (uint8_t)rc;
    }
    return 0;
}

int
adb_index_put(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val) {
    int rc = upsert(ix, key, slot, val, false, NULL, NULL);
    return rc < 0 ? rc : 0;
}

bool
adb_index_get(adb_index_t *ix, uint8_t const key[32], uint64_t *slot, uint64_t *val) {
    bin_t *b = &ix->bins[adb_index_bin_of(ix, key)];
    bin_lock(b);
    int64_t p = find(ix, b, key);
    if (p >= 0) {
        if (slot) *slot = b->tab[p].slot;
        if (val) *val = b->tab[p].val;
    }
    bin_unlock(b);
    return p >= 0;
}

void
adb_index_get_batch(adb_index_t *ix, uint8_t const (*keys)[32], size_t n, uint64_t *slot,
                    uint64_t *val, bool *found) {
    enum { AHEAD = 8 };
    for (size_t i = 0; i < n && i < AHEAD; i++)
        prefetch_home(ix, keys[i], 0);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n) prefetch_home(ix, keys[i + AHEAD], 0);
        found[i] = adb_index_get(ix, keys[i], &slot[i], &val[i]);
    }
}

bool
adb_index_remove(adb_index_t *ix, uint8_t const key[32]) {
    bin_t *b = &ix->bins[adb_index_bin_of(ix, key)];
    bin_lock(b);
    int64_t p = find(ix, b, key);
    if (p < 0) {
        bin_unlock(b);
        return false;
    }
    if (b->tab[p].slot == ADB_INDEX_SLOT_LIST) vlist_free(ix, as_list(&b->tab[p]));
    /* Backward-shift deletion keeps invariant 2 without tombstones. */
    uint32_t cap = b->cap, pos = (uint32_t)p;
    for (;;) {
        uint32_t nxt = pos + 1 == cap ? 0 : pos + 1;
        entry_t *s = &b->tab[nxt];
        if (s->slot == ADB_INDEX_SLOT_EMPTY || home(khash(ix, s->key), cap) == nxt) break;
        b->tab[pos] = *s;
        pos = nxt;
    }
    b->tab[pos].slot = ADB_INDEX_SLOT_EMPTY;
    b->cnt--;
    atomic_fetch_sub_explicit(&ix->cnt, 1, memory_order_relaxed);
    bin_unlock(b);
    return true;
}

uint64_t
adb_index_cnt(adb_index_t const *ix) {
    return atomic_load_explicit(&((adb_index_t *)ix)->cnt, memory_order_relaxed);
}

uint32_t
adb_index_bin_cnt(adb_index_t const *ix) {
    return ix->bin_cnt;
}

uint64_t
adb_index_mem_sz(adb_index_t const *ix) {
    return atomic_load(&((adb_index_t *)ix)->mem);
}

int
adb_index_bin_visit(adb_index_t *ix, uint32_t bin, adb_index_visit_fn fn, void *ctx) {
    if (bin >= ix->bin_cnt) return ACCTDB_ERR_INVALID;
    bin_t *b = &ix->bins[bin];
    bin_lock(b);
    int rc = 0;
    for (uint32_t i = 0; i < b->cap && !rc; i++)
        if (b->tab[i].slot != ADB_INDEX_SLOT_EMPTY)
            rc = fn(ctx, b->tab[i].key, b->tab[i].slot, b->tab[i].val);
    bin_unlock(b);
    return rc;
}

/* ---- versions ----------------------------------------------------------- */

static int
vinsert_locked(adb_index_t *ix, bin_t *b, uint8_t const key[32], uint64_t slot, uint64_t val) {
    if ((uint64_t)(b->cnt + 1) * 10 > (uint64_t)b->cap * 9) ADB_TRY(grow(ix, b));
    entry_t e;
    memcpy(e.key, key, 32);
    e.slot = slot;
    e.val = val;
    rh_insert(ix, b, e);
    atomic_fetch_add_explicit(&ix->cnt, 1, memory_order_relaxed);
    return 0;
}

/* Removes the entry at pos (backward shift). */
static void
erase_locked(adb_index_t *ix, bin_t *b, uint32_t pos) {
    uint32_t cap = b->cap;
    for (;;) {
        uint32_t nxt = pos + 1 == cap ? 0 : pos + 1;
        entry_t *s2 = &b->tab[nxt];
        if (s2->slot == ADB_INDEX_SLOT_EMPTY || home(khash(ix, s2->key), cap) == nxt) break;
        b->tab[pos] = *s2;
        pos = nxt;
    }
    b->tab[pos].slot = ADB_INDEX_SLOT_EMPTY;
    b->cnt--;
    atomic_fetch_sub_explicit(&ix->cnt, 1, memory_order_relaxed);
}

static vlist_t *
vlist_alloc(adb_index_t *ix, uint32_t cap) {
    vlist_t *l = adb_malloc(sizeof *l + (size_t)cap * sizeof(adb_index_ver_t));
    if (!l) return NULL;
    l->cnt = 0;
    l->cap = cap;
    atomic_fetch_add(&ix->mem, sizeof *l + (uint64_t)cap * sizeof(adb_index_ver_t));
    return l;
}

static void
vlist_free(adb_index_t *ix, vlist_t *l) {
    atomic_fetch_sub(&ix->mem, sizeof *l + (uint64_t)l->cap * sizeof(adb_index_ver_t));
    atomic_fetch_sub(&ix->lists, l->cnt);
    adb_free(l);
}

int
adb_index_vput(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val) {
    if (slot >= ADB_INDEX_SLOT_LIST) return ACCTDB_ERR_INVALID;
    bin_t *b = &ix->bins[adb_index_bin_of(ix, key)];
    bin_lock(b);
    int64_t p = find(ix, b, key);
    int     rc = 0;
    if (p < 0) {
        rc = vinsert_locked(ix, b, key, slot, val);
    } else {
        entry_t *e = &b->tab[p];
        if (e->slot != ADB_INDEX_SLOT_LIST) {
            if (e->slot == slot) {
                e->val = val;
            } else {
                vlist_t *l = vlist_alloc(ix, 4);
                if (!l) {
                    rc = ACCTDB_ERR_NOMEM;
                } else {
                    adb_index_ver_t a = {e->slot, e->val}, n = {slot, val};
                    l->v[0] = a.slot > n.slot ? a : n;
                    l->v[1] = a.slot > n.slot ? n : a;
                    l->cnt = 2;
                    atomic_fetch_add(&ix->lists, 2);
                    e->slot = ADB_INDEX_SLOT_LIST;
                    e->val = (uint64_t)(uintptr_t)l;
                }
            }
        } else {
            vlist_t *l = as_list(e);
            uint32_t i = 0;
            while (i < l->cnt && l->v[i].slot > slot)
                i++;
            if (i < l->cnt && l->v[i].slot == slot) {
                l->v[i].val = val;
            } else {
                if (l->cnt == l->cap) {
                    vlist_t *nl = vlist_alloc(ix, l->cap * 2);
                    if (!nl) {
                        bin_unlock(b);
                        return ACCTDB_ERR_NOMEM;
                    }
                    memcpy(nl->v, l->v, l->cnt * sizeof l->v[0]);
                    nl->cnt = l->cnt;
                    atomic_fetch_add(&ix->lists, l->cnt);
                    vlist_free(ix, l);
                    e->val = (uint64_t)(uintptr_t)nl;
                    l = nl;
                }
                memmove(&l->v[i + 1], &l->v[i], (l->cnt - i) * sizeof l->v[0]);
                l->v[i] = (adb_index_ver_t){slot, val};
                l->cnt++;
                atomic_fetch_add(&ix->lists, 1);
            }
        }
    }
    bin_unlock(b);
    return rc;
}

static size_t
copy_versions(entry_t const *e, adb_index_ver_t *out, size_t max) {
    if (e->slot != ADB_INDEX_SLOT_LIST) {
        if (max) out[0] = (adb_index_ver_t){e->slot, e->val};
        return 1;
    }
    vlist_t const *l = as_list(e);
    memcpy(out, l->v, ADB_MIN((size_t)l->cnt, max) * sizeof *out);
    return l->cnt;
}

size_t
adb_index_vget(adb_index_t *ix, uint8_t const key[32], adb_index_ver_t *out, size_t max) {
    bin_t *b = &ix->bins[adb_index_bin_of(ix, key)];
    bin_lock(b);
    int64_t p = find(ix, b, key);
    size_t  n = p < 0 ? 0 : copy_versions(&b->tab[p], out, max);
    bin_unlock(b);
    return n;
}

void
adb_index_vget_batch(adb_index_t *ix, uint8_t const *const *keys, size_t n, adb_index_ver_t *out,
                     size_t max, size_t *cnt) {
    enum { AHEAD = 8 };
    for (size_t i = 0; i < n && i < AHEAD; i++)
        prefetch_home(ix, keys[i], 0);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n) prefetch_home(ix, keys[i + AHEAD], 0);
        cnt[i] = adb_index_vget(ix, keys[i], out + i * max, max);
    }
}

int
adb_index_vedit(adb_index_t *ix, uint8_t const key[32], adb_index_vedit_fn fn, void *ctx) {
    bin_t *b = &ix->bins[adb_index_bin_of(ix, key)];
    bin_lock(b);
    int64_t p = find(ix, b, key);
    if (p < 0) {
        bin_unlock(b);
        return ACCTDB_ERR_NOT_FOUND;
    }
    entry_t *e = &b->tab[p];
    int      rc;
    if (e->slot != ADB_INDEX_SLOT_LIST) {
        adb_index_ver_t one = {e->slot, e->val};
        size_t          cnt = 1;
        rc = fn(ctx, &one, &cnt);
        if (cnt == 0) {
            erase_locked(ix, b, (uint32_t)p);
        } else {
            e->slot = one.slot;
            e->val = one.val;
        }
    } else {
        vlist_t *l = as_list(e);
        size_t   cnt = l->cnt;
        rc = fn(ctx, l->v, &cnt);
        ADB_ASSERT(cnt <= l->cnt);
        atomic_fetch_sub(&ix->lists, l->cnt - cnt);
        l->cnt = (uint32_t)cnt;
        if (cnt == 0) {
            vlist_free(ix, l);
            erase_locked(ix, b, (uint32_t)p);
        } else if (cnt == 1) {
            adb_index_ver_t one = l->v[0];
            vlist_free(ix, l);
            e->slot = one.slot;
            e->val = one.val;
        }
    }
    bin_unlock(b);
    return rc;
}

int
adb_index_bin_vvisit(adb_index_t *ix, uint32_t bin, adb_index_vvisit_fn fn, void *ctx) {
    if (bin >= ix->bin_cnt) return ACCTDB_ERR_INVALID;
    bin_t *b = &ix->bins[bin];
    bin_lock(b);
    int rc = 0;
    for (uint32_t i = 0; i < b->cap && !rc; i++) {
        entry_t const *e = &b->tab[i];
        if (e->slot == ADB_INDEX_SLOT_EMPTY) continue;
        if (e->slot == ADB_INDEX_SLOT_LIST) {
            vlist_t const *l = as_list(e);
            rc = fn(ctx, e->key, l->v, l->cnt);
        } else {
            adb_index_ver_t one = {e->slot, e->val};
            rc = fn(ctx, e->key, &one, 1);
        }
    }
    bin_unlock(b);
    return rc;
}

uint64_t
adb_index_list_cnt(adb_index_t const *ix) {
    return atomic_load(&((adb_index_t *)ix)->lists);
}
