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

#include "index/disk.h"
#include "util/hpa.h"

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

/* Two tiers: an inline entry's "used since the clock hand passed" mark
 * (slots stay below it; RAM only never sets it). */
#define ADB_INDEX_REF_BIT (1ull << 62)

typedef struct bin {
    atomic_flag lock;
    uint32_t    cap;
    uint32_t    cnt;
    uint32_t    pin; /* two tiers: entries holding a pinned version (never evicted) */
    entry_t    *tab;
} bin_t;

struct adb_index {
    uint32_t         bin_bits;
    uint32_t         bin_cnt;
    uint64_t         seed;
    _Atomic uint64_t cnt; /* entries in the RAM tables */
    _Atomic uint64_t mem;
    _Atomic uint64_t lists; /* versions held in lists */
    bin_t           *bins;
    adb_hpa_t       *hpa; /* the tables' memory, unless a RAM budget counts it by the byte */
    /* two tiers (tier.c part below) */
    adb_dtier_t     *dt;
    uint32_t         dshift; /* disk bin = RAM bin >> dshift (at most 512 disk bins) */
    uint32_t         dbin_cnt;
    uint64_t         pin_mask, budget;
    _Atomic uint64_t keys;         /* distinct keys (two tiers) */
    _Atomic uint64_t pinned;       /* RAM entries holding a pinned version */
    _Atomic uint64_t pinned_bytes; /* and what they cost (entry_cost) */
    _Atomic uint64_t hits, misses, promotions, evictions, trims;
    _Atomic uint32_t evict_hand, trim_hand;
    _Atomic uint64_t enforce_floor; /* no enforcing below this (see tt_enforce) */
    atomic_flag      enforcing;
    bool             reused;
    char             why[ADB_ERRMSG_SZ];
};

/* A key's versions when it has more than one, newest first. */
typedef struct vlist {
    uint32_t        cnt, cap;
    uint32_t        ref, pad; /* two tiers: used since the clock hand passed */
    adb_index_ver_t v[];
} vlist_t;

static inline vlist_t *
as_list(entry_t const *e) {
    return (vlist_t *)(uintptr_t)e->val;
}

static void vlist_free(adb_index_t *ix, vlist_t *l);

/* Two tiers: the calls' versions, below. */
static int    tt_upsert(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val,
                        bool only_newer, uint64_t *old_slot, uint64_t *old_val);
static size_t tt_vget(adb_index_t *ix, uint8_t const key[32], adb_index_ver_t *out, size_t max);
static int    tt_vput(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val);
static int    tt_vedit(adb_index_t *ix, uint8_t const key[32], adb_index_vedit_fn fn, void *ctx);
static int    tt_remove(adb_index_t *ix, uint8_t const key[32]);
static int    tt_visit(adb_index_t *ix, uint32_t bin, adb_index_visit_fn fn, void *ctx);

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

/* Bytes a table of cap entries takes. */
static inline uint64_t
tab_bytes(adb_index_t const *ix, uint32_t cap) {
    size_t sz = (size_t)cap * sizeof(entry_t);
    return ix->hpa ? adb_hpa_size(sz) : sz;
}

/* A table of at least *cap entries, all free; from the huge-page arena
 * (its capacity then rounded up to fill the block) unless the index counts
 * RAM against a budget, where a 2 MiB page would be charged whole. */
static entry_t *
tab_alloc(adb_index_t *ix, uint32_t *cap) {
    entry_t *t;
    if (ix->hpa) {
        size_t got = 0;
        t = adb_hpa_alloc(ix->hpa, (size_t)*cap * sizeof(entry_t), &got);
        if (t) *cap = (uint32_t)ADB_MIN(got / sizeof(entry_t), (size_t)1 << 31);
    } else {
        t = adb_malloc((size_t)*cap * sizeof(entry_t));
    }
    if (!t) return NULL;
    for (uint32_t i = 0; i < *cap; i++)
        t[i].slot = ADB_INDEX_SLOT_EMPTY;
    return t;
}

static void
tab_free(adb_index_t *ix, entry_t *t, uint32_t cap) {
    if (ix->hpa)
        adb_hpa_free(ix->hpa, t, (size_t)tab_bytes(ix, cap));
    else
        adb_free(t);
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
    bool     two = cfg && cfg->disk_dir;
    uint64_t per = cfg && !two ? cfg->expected_keys / ix->bin_cnt : 0;
    uint32_t cap = (uint32_t)ADB_MIN((per * 10 / 8) + 8, 1u << 30);
    /* Under a RAM budget a table starts empty (one free entry: a lookup
     * needs one), so 8,192 bins do not take a floor out of the budget. */
    if (two && cfg->ram_bytes) cap = 1;
    if (!(two && cfg->ram_bytes) && adb_hpa_new(&ix->hpa)) {
        adb_index_close(ix);
        return ACCTDB_ERR_NOMEM;
    }
    uint64_t mem = (uint64_t)ix->bin_cnt * sizeof(bin_t);
    for (uint32_t i = 0; i < ix->bin_cnt; i++) {
        atomic_flag_clear(&ix->bins[i].lock);
        uint32_t c = cap;
        ix->bins[i].tab = tab_alloc(ix, &c);
        if (!ix->bins[i].tab) {
            adb_index_close(ix);
            return ACCTDB_ERR_NOMEM;
        }
        ix->bins[i].cap = c;
        mem += tab_bytes(ix, c);
    }
    atomic_store(&ix->mem, mem);
    atomic_flag_clear(&ix->enforcing);
    if (two) {
        ix->pin_mask = cfg->pin_mask;
        ix->budget = cfg->ram_bytes;
        /* Fewer disk bins than RAM bins: creating a file costs about half a
         * millisecond here, and 8,192 bins made 16,000 of them. */
        uint32_t dbits = ADB_MIN(ix->bin_bits, 9u);
        ix->dshift = ix->bin_bits - dbits;
        ix->dbin_cnt = 1u << dbits;
        adb_err_t err = {0};
        if (cfg->reuse && cfg->stamp) {
            int rc = adb_dtier_reuse(&ix->dt, cfg->io, cfg->disk_dir, ix->dbin_cnt, cfg->stamp,
                                     cfg->threads, &err);
            ix->reused = rc == 0;
            if (rc) snprintf(ix->why, sizeof ix->why, "%s", err.msg);
        }
        if (!ix->dt) {
            adb_err_clear(&err);
            int rc =
                adb_dtier_create(&ix->dt, cfg->io, cfg->disk_dir, ix->dbin_cnt, ix->seed, &err);
            if (rc) {
                adb_index_close(ix);
                return rc;
            }
        }
        /* Under a budget, lookups read the tier with pread: a read
         * through the mapping would make 64 KiB resident per miss, to be
         * counted and trimmed (madvise, a TLB shootdown) right after. */
        if (ix->budget) adb_dtier_set_pread_reads(ix->dt, true);
        adb_dtier_stats_t st;
        adb_dtier_stats(ix->dt, &st);
        atomic_store(&ix->keys, st.keys);
    }
    *ix_out = ix;
    return 0;
}

bool
adb_index_reused(adb_index_t const *ix, char const **why) {
    if (why) *why = ix->why;
    return ix->reused;
}

bool
adb_index_two_tier(adb_index_t const *ix) {
    return ix->dt != NULL;
}

int
adb_index_close_clean(adb_index_t *ix, struct adb_dtier_stamp const *stamp, adb_err_t *err) {
    int rc = 0;
    if (ix && ix->dt) {
        rc = adb_dtier_close(ix->dt, stamp, err);
        ix->dt = NULL;
    }
    adb_index_close(ix);
    return rc;
}

void
adb_index_close(adb_index_t *ix) {
    if (!ix) return;
    if (ix->dt) {
        adb_err_t err = {0};
        adb_dtier_close(ix->dt, NULL, &err);
        ix->dt = NULL;
    }
    if (ix->bins)
        for (uint32_t i = 0; i < ix->bin_cnt; i++) {
            bin_t *b = &ix->bins[i];
            for (uint32_t k = 0; b->tab && k < b->cap; k++)
                if (b->tab[k].slot == ADB_INDEX_SLOT_LIST) adb_free(as_list(&b->tab[k]));
            if (b->tab) tab_free(ix, b->tab, b->cap);
        }
    adb_free(ix->bins);
    adb_hpa_destroy(ix->hpa);
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
    if (ncap == b->cap) return 0;
    entry_t *old = b->tab, *nt = tab_alloc(ix, &ncap);
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
    tab_free(ix, old, ocap);
    atomic_fetch_add(&ix->mem, tab_bytes(ix, ncap) - tab_bytes(ix, ocap)); /* wraps when smaller */
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
    if (ix->dt) return 0; /* the RAM tier is sized by its budget, not the key count */
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
    if (ix->dt) return tt_upsert(ix, key, slot, val, only_newer, old_slot, old_val);
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
    if (ix->dt) {
        adb_index_ver_t v;
        if (!tt_vget(ix, key, &v, 1)) return false;
        if (slot) *slot = v.slot;
        if (val) *val = v.val;
        return true;
    }
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
    if (ix->dt) return tt_remove(ix, key) > 0;
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
    if (ix->dt) return atomic_load_explicit(&((adb_index_t *)ix)->keys, memory_order_relaxed);
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
    if (ix->dt) return tt_visit(ix, bin, fn, ctx);
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
    l->ref = 0;
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
    if (ix->dt) return tt_vput(ix, key, slot, val);
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
    if (ix->dt) return tt_vget(ix, key, out, max);
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
    if (ix->dt) return tt_vedit(ix, key, fn, ctx);
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

/* Two tiers: the disk bin's keys of RAM bin `bin` not in the RAM table
 * (tier part below). */
static int tt_vvisit_disk(adb_index_t *ix, uint32_t bin, adb_index_vvisit_fn fn, void *ctx);

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
            adb_index_ver_t one = {e->slot & ~ADB_INDEX_REF_BIT, e->val};
            rc = fn(ctx, e->key, &one, 1);
        }
    }
    if (!rc && ix->dt) rc = tt_vvisit_disk(ix, bin, fn, ctx);
    bin_unlock(b);
    return rc;
}

uint64_t
adb_index_list_cnt(adb_index_t const *ix) {
    return atomic_load(&((adb_index_t *)ix)->lists);
}

/* ---- two tiers ------------------------------------------------------------
 * The disk tier holds each key's unpinned versions, always current (every
 * change writes through); a RAM entry holds all of a key's versions.  A key
 * with a pinned version is always in RAM.  An inline RAM entry marks "used
 * since the clock hand passed" in bit 62 of its slot (slots stay below
 * 2^62); a list marks it in the list.  Each call takes the bin lock, reads
 * the key's versions from RAM or else from disk, computes the new ones,
 * stores them in both tiers, unlocks, and then brings the RAM tier back
 * under its budget if it passed it. */

#define VBUF_MAX 32

typedef struct vbuf {
    adb_index_ver_t *v;
    size_t           cap;
    adb_index_ver_t  small[VBUF_MAX];
} vbuf_t;

static void
vbuf_init(vbuf_t *b) {
    b->v = b->small;
    b->cap = VBUF_MAX;
}
static void
vbuf_fini(vbuf_t *b) {
    if (b->v != b->small) adb_free(b->v);
}
static int
vbuf_need(vbuf_t *b, size_t n) {
    if (n <= b->cap) return 0;
    adb_index_ver_t *nv = adb_malloc(n * sizeof *nv);
    if (!nv) return ACCTDB_ERR_NOMEM;
    vbuf_fini(b);
    b->v = nv;
    b->cap = n;
    return 0;
}

static inline bool
pinned(adb_index_t const *ix, uint64_t val) {
    return (val & ix->pin_mask) != 0;
}

static inline bool
is_ref(entry_t const *e) {
    return e->slot == ADB_INDEX_SLOT_LIST ? as_list(e)->ref != 0
                                          : (e->slot & ADB_INDEX_REF_BIT) != 0;
}
static inline void
set_ref(entry_t *e, bool on) {
    if (e->slot == ADB_INDEX_SLOT_LIST)
        as_list(e)->ref = on;
    else
        e->slot = on ? e->slot | ADB_INDEX_REF_BIT : e->slot & ~ADB_INDEX_REF_BIT;
}

/* Whether the RAM entry holds a pinned version (it then stays in RAM). */
static bool
entry_pinned(adb_index_t const *ix, entry_t const *e) {
    if (e->slot != ADB_INDEX_SLOT_LIST) return pinned(ix, e->val);
    vlist_t const *l = as_list(e);
    for (uint32_t k = 0; k < l->cnt; k++)
        if (pinned(ix, l->v[k].val)) return true;
    return false;
}

/* What a RAM entry costs: its 48-byte slot at the tables' typical 3/4 load
 * (64 bytes) and its version list. */
static inline uint64_t
entry_cost(entry_t const *e) {
    uint64_t c = 64;
    if (e->slot == ADB_INDEX_SLOT_LIST)
        c += sizeof(vlist_t) + (uint64_t)as_list(e)->cap * sizeof(adb_index_ver_t);
    return c;
}

/* Counts an entry's change of pinned state and pinned cost (was_cost the
 * cost before, if it was pinned; e the entry after, NULL once erased). */
static void
pin_count(adb_index_t *ix, bin_t *b, bool was, uint64_t was_cost, bool now, entry_t const *e) {
    if (was) {
        b->pin--;
        atomic_fetch_sub_explicit(&ix->pinned, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&ix->pinned_bytes, was_cost, memory_order_relaxed);
    }
    if (now) {
        b->pin++;
        atomic_fetch_add_explicit(&ix->pinned, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&ix->pinned_bytes, entry_cost(e), memory_order_relaxed);
    }
}

/* The RAM entry's versions into vb (n returned). */
static int
ram_copy(entry_t const *e, vbuf_t *vb, size_t *n) {
    if (e->slot != ADB_INDEX_SLOT_LIST) {
        vb->v[0] = (adb_index_ver_t){e->slot & ~ADB_INDEX_REF_BIT, e->val};
        *n = 1;
        return 0;
    }
    vlist_t const *l = as_list(e);
    ADB_TRY(vbuf_need(vb, l->cnt));
    memcpy(vb->v, l->v, l->cnt * sizeof *vb->v);
    *n = l->cnt;
    return 0;
}

/* Reads key's versions (bin locked): from RAM (*pos its place) or disk
 * (*pos -1). */
static int
tt_load(adb_index_t *ix, uint32_t bin, bin_t *b, uint8_t const key[32], vbuf_t *vb, size_t *n,
        int64_t *pos) {
    *pos = find(ix, b, key);
    if (*pos >= 0) return ram_copy(&b->tab[*pos], vb, n);
    size_t k = adb_dtier_get(ix->dt, bin >> ix->dshift, key, vb->v, vb->cap);
    if (k > vb->cap) {
        ADB_TRY(vbuf_need(vb, k));
        k = adb_dtier_get(ix->dt, bin >> ix->dshift, key, vb->v, vb->cap);
    }
    *n = k;
    return 0;
}

/* Makes the RAM entry of key (at pos, or new when pos < 0) hold w[0..n),
 * n >= 1, marked used. */
static int
ram_assign(adb_index_t *ix, bin_t *b, int64_t pos, uint8_t const key[32], adb_index_ver_t const *w,
           size_t n) {
    if (n > UINT32_MAX) return ACCTDB_ERR_FULL;
    vlist_t *nl = NULL;
    entry_t *e = pos >= 0 ? &b->tab[pos] : NULL;
    bool     was = e && entry_pinned(ix, e), now = false;
    uint64_t was_cost = was ? entry_cost(e) : 0;
    for (size_t i = 0; i < n && !now; i++)
        now = pinned(ix, w[i].val);
    vlist_t *ol = e && e->slot == ADB_INDEX_SLOT_LIST ? as_list(e) : NULL;
    if (n > 1 && !(ol && ol->cap >= n)) {
        uint32_t cap = 4;
        while (cap < n)
            cap *= 2;
        if (!(nl = vlist_alloc(ix, cap))) return ACCTDB_ERR_NOMEM;
    }
    if (!e) {
        entry_t ne;
        memcpy(ne.key, key, 32);
        ne.slot = w[0].slot | ADB_INDEX_REF_BIT;
        ne.val = w[0].val;
        if (nl) {
            memcpy(nl->v, w, n * sizeof *w);
            nl->cnt = (uint32_t)n;
            nl->ref = 1;
            atomic_fetch_add(&ix->lists, n);
            ne.slot = ADB_INDEX_SLOT_LIST;
            ne.val = (uint64_t)(uintptr_t)nl;
        }
        if ((uint64_t)(b->cnt + 1) * 10 > (uint64_t)b->cap * 9) {
            int rc = grow(ix, b);
            if (rc) {
                if (nl) vlist_free(ix, nl);
                return rc;
            }
        }
        rh_insert(ix, b, ne);
        atomic_fetch_add_explicit(&ix->cnt, 1, memory_order_relaxed);
        pin_count(ix, b, false, 0, now, &ne);
        return 0;
    }
    if (n == 1) {
        if (ol) vlist_free(ix, ol);
        e->slot = w[0].slot | ADB_INDEX_REF_BIT;
        e->val = w[0].val;
        pin_count(ix, b, was, was_cost, now, e);
        return 0;
    }
    vlist_t *l = nl ? nl : ol;
    if (l == ol) atomic_fetch_sub(&ix->lists, ol->cnt);
    memcpy(l->v, w, n * sizeof *w);
    l->cnt = (uint32_t)n;
    l->ref = 1;
    atomic_fetch_add(&ix->lists, n);
    if (nl && ol) vlist_free(ix, ol);
    e->slot = ADB_INDEX_SLOT_LIST;
    e->val = (uint64_t)(uintptr_t)l;
    pin_count(ix, b, was, was_cost, now, e);
    return 0;
}

/* Removes the RAM entry at pos. */
static void
ram_erase(adb_index_t *ix, bin_t *b, uint32_t pos) {
    if (entry_pinned(ix, &b->tab[pos]))
        pin_count(ix, b, true, entry_cost(&b->tab[pos]), false, NULL);
    if (b->tab[pos].slot == ADB_INDEX_SLOT_LIST) vlist_free(ix, as_list(&b->tab[pos]));
    erase_locked(ix, b, pos);
}

/* The unpinned versions of v[0..n) into out (room for n); their count. */
static size_t
unpinned_of(adb_index_t const *ix, adb_index_ver_t const *v, size_t n, adb_index_ver_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!pinned(ix, v[i].val)) out[k++] = v[i];
    return k;
}

/* Stores w[0..nw) as key's versions, replacing v[0..nv) read by tt_load
 * (pos from it): disk first (only if its part changed), then RAM. */
static int
tt_store(adb_index_t *ix, uint32_t bin, bin_t *b, uint8_t const key[32], int64_t pos,
         adb_index_ver_t const *v, size_t nv, adb_index_ver_t const *w, size_t nw, bool promote) {
    vbuf_t a, c;
    vbuf_init(&a);
    vbuf_init(&c);
    int rc = vbuf_need(&a, nv);
    if (!rc) rc = vbuf_need(&c, nw);
    if (rc) goto out;
    size_t ua = unpinned_of(ix, v, nv, a.v), uc = unpinned_of(ix, w, nw, c.v);
    if (ua != uc || memcmp(a.v, c.v, ua * sizeof *a.v)) {
        rc = adb_dtier_set(ix->dt, bin >> ix->dshift, key, c.v, uc);
        if (rc) goto out;
    }
    if (nw == 0) {
        if (pos >= 0) ram_erase(ix, b, (uint32_t)pos);
    } else if (pos >= 0 || promote || uc < nw) {
        rc = ram_assign(ix, b, pos, key, w, nw);
        if (rc) {
            /* RAM could not take it: the disk part is written; a pinned
             * version would be lost, so undo the disk write too. */
            adb_dtier_set(ix->dt, bin >> ix->dshift, key, a.v, ua);
            goto out;
        }
    }
    if (nv && !nw) atomic_fetch_sub_explicit(&ix->keys, 1, memory_order_relaxed);
    if (!nv && nw) atomic_fetch_add_explicit(&ix->keys, 1, memory_order_relaxed);
out:
    vbuf_fini(&a);
    vbuf_fini(&c);
    return rc;
}

/* Evicts the bin's unused, unpinned entries and clears the marks of the
 * others (bin locked); shrinks its table when it is mostly empty. */
static void
sweep_bin(adb_index_t *ix, bin_t *b) {
    uint64_t ev = 0;
    if (b->cnt == b->pin && !(b->cap > 1 && (uint64_t)b->cnt * 4 < b->cap)) return;
    for (uint32_t i = 0; i < b->cap;) {
        entry_t *e = &b->tab[i];
        if (e->slot == ADB_INDEX_SLOT_EMPTY) {
            i++;
            continue;
        }
        if (is_ref(e)) {
            set_ref(e, false);
            i++;
            continue;
        }
        if (entry_pinned(ix, e)) {
            i++;
            continue;
        }
        ram_erase(ix, b, i); /* the next entry may now be at i */
        ev++;
    }
    if (ev) atomic_fetch_add_explicit(&ix->evictions, ev, memory_order_relaxed);
    if (b->cap > 1 && (uint64_t)b->cnt * 4 < b->cap) {
        uint64_t ncap = b->cnt ? ADB_MAX((uint64_t)b->cnt * 2, 8u) : 1;
        (void)rebuild(ix, b, ncap); /* on NOMEM the table stays as it is */
    }
}

/* RAM the budget counts: heap plus resident mapped pages, less the entries
 * pinned by the write cache.  Those can only leave when a flush unpins
 * them; their number is bounded by the write cache's own budget, which
 * charges their versions.  Counted against this budget they would make it
 * unreachable whenever unflushed accounts outgrow it, and every call would
 * then trim and sweep for nothing (measured: 13-40x slower loads). */
static uint64_t
ram_used(adb_index_t *ix, uint64_t *mapped) {
    adb_dtier_stats_t st;
    adb_dtier_stats(ix->dt, &st);
    *mapped = st.resident_est;
    uint64_t all = atomic_load(&ix->mem) + st.heap + st.resident_est;
    uint64_t pin = atomic_load_explicit(&ix->pinned_bytes, memory_order_relaxed);
    return all > pin ? all - pin : 0;
}

/* Once heap plus mapped pages pass the budget, brings them back to 3/4 of
 * it (the slack keeps this off most calls): first trims mapped pages (the
 * page cache keeps them: a later read faults them back for about a
 * microsecond) down to an eighth of the budget, then evicts keys by the
 * clock (a later read must find them on disk again).  One thread at a
 * time; the others go on (the one enforcing catches up with them). */
static void
tt_enforce(adb_index_t *ix) {
    if (!ix->budget) return;
    uint64_t mapped, used = ram_used(ix, &mapped);
    /* Past a pass that could not reach the goal (pinned keys, which only
     * a flush unpins, and the tables' floor stay), the next waits until
     * usage grew by a sixteenth of the budget. */
    if (used <= ADB_MAX(ix->budget, atomic_load_explicit(&ix->enforce_floor, memory_order_relaxed)))
        return;
    if (atomic_flag_test_and_set(&ix->enforcing)) return;
    uint64_t goal = ix->budget / 4 * 3;
    for (uint32_t k = 0; k < ix->dbin_cnt && used > goal && mapped > ix->budget / 8; k++) {
        uint32_t dbin = atomic_fetch_add(&ix->trim_hand, 1) % ix->dbin_cnt;
        if (adb_dtier_trim(ix->dt, dbin)) {
            atomic_fetch_add_explicit(&ix->trims, 1, memory_order_relaxed);
            used = ram_used(ix, &mapped);
        }
    }
    /* A bin whose entries are all pinned (or none) has nothing to give
     * and is passed over without a scan (sweep_bin). */
    for (uint32_t k = 0; k < 2 * ix->bin_cnt && used > goal &&
                         atomic_load_explicit(&ix->cnt, memory_order_relaxed) >
                             atomic_load_explicit(&ix->pinned, memory_order_relaxed);
         k++) {
        uint32_t bin = atomic_fetch_add(&ix->evict_hand, 1) % ix->bin_cnt;
        bin_t   *b = &ix->bins[bin];
        bin_lock(b);
        sweep_bin(ix, b);
        bin_unlock(b);
        used = ram_used(ix, &mapped);
    }
    atomic_store_explicit(&ix->enforce_floor, used > goal ? used + ix->budget / 16 : 0,
                          memory_order_relaxed);
    atomic_flag_clear(&ix->enforcing);
}

static size_t
tt_vget(adb_index_t *ix, uint8_t const key[32], adb_index_ver_t *out, size_t max) {
    uint32_t bin = adb_index_bin_of(ix, key);
    bin_t   *b = &ix->bins[bin];
    bin_lock(b);
    int64_t p = find(ix, b, key);
    size_t  n = 0;
    if (p >= 0) {
        entry_t *e = &b->tab[p];
        set_ref(e, true);
        if (e->slot != ADB_INDEX_SLOT_LIST) {
            if (max) out[0] = (adb_index_ver_t){e->slot & ~ADB_INDEX_REF_BIT, e->val};
            n = 1;
        } else {
            n = copy_versions(e, out, max);
        }
        bin_unlock(b);
        atomic_fetch_add_explicit(&ix->hits, 1, memory_order_relaxed);
        return n;
    }
    vbuf_t vb;
    vbuf_init(&vb);
    int64_t pos;
    int     rc = tt_load(ix, bin, b, key, &vb, &n, &pos);
    if (!rc && n) {
        memcpy(out, vb.v, ADB_MIN(n, max) * sizeof *out);
        if (!ram_assign(ix, b, -1, key, vb.v, n))
            atomic_fetch_add_explicit(&ix->promotions, 1, memory_order_relaxed);
    }
    bin_unlock(b);
    vbuf_fini(&vb);
    atomic_fetch_add_explicit(&ix->misses, 1, memory_order_relaxed);
    tt_enforce(ix);
    return rc ? 0 : n;
}

static int
tt_vput(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val) {
    if (slot >= ADB_INDEX_REF_BIT) return ACCTDB_ERR_INVALID;
    uint32_t bin = adb_index_bin_of(ix, key);
    bin_t   *b = &ix->bins[bin];
    vbuf_t   vb, wb;
    vbuf_init(&vb);
    vbuf_init(&wb);
    bin_lock(b);
    size_t  n = 0;
    int64_t pos;
    int     rc = tt_load(ix, bin, b, key, &vb, &n, &pos);
    if (!rc) rc = vbuf_need(&wb, n + 1);
    if (!rc) {
        size_t i = 0, m = 0;
        while (i < n && vb.v[i].slot > slot)
            wb.v[m++] = vb.v[i++];
        wb.v[m++] = (adb_index_ver_t){slot, val};
        if (i < n && vb.v[i].slot == slot) i++;
        while (i < n)
            wb.v[m++] = vb.v[i++];
        rc = tt_store(ix, bin, b, key, pos, vb.v, n, wb.v, m, false);
    }
    bin_unlock(b);
    vbuf_fini(&vb);
    vbuf_fini(&wb);
    tt_enforce(ix);
    return rc;
}

static int
tt_vedit(adb_index_t *ix, uint8_t const key[32], adb_index_vedit_fn fn, void *ctx) {
    uint32_t bin = adb_index_bin_of(ix, key);
    bin_t   *b = &ix->bins[bin];
    vbuf_t   vb, wb;
    vbuf_init(&vb);
    vbuf_init(&wb);
    bin_lock(b);
    size_t  n = 0;
    int64_t pos;
    int     rc = tt_load(ix, bin, b, key, &vb, &n, &pos);
    if (!rc && n == 0) rc = ACCTDB_ERR_NOT_FOUND;
    if (!rc) rc = vbuf_need(&wb, n);
    if (!rc) {
        memcpy(wb.v, vb.v, n * sizeof *wb.v);
        size_t m = n;
        int    frc = fn(ctx, wb.v, &m);
        ADB_ASSERT(m <= n);
        rc = tt_store(ix, bin, b, key, pos, vb.v, n, wb.v, m, false);
        if (!rc) rc = frc;
    }
    bin_unlock(b);
    vbuf_fini(&vb);
    vbuf_fini(&wb);
    tt_enforce(ix);
    return rc;
}

static int
tt_upsert(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val, bool only_newer,
          uint64_t *old_slot, uint64_t *old_val) {
    if (slot >= ADB_INDEX_REF_BIT) return ACCTDB_ERR_INVALID;
    uint32_t bin = adb_index_bin_of(ix, key);
    bin_t   *b = &ix->bins[bin];
    vbuf_t   vb;
    vbuf_init(&vb);
    bin_lock(b);
    size_t  n = 0;
    int64_t pos;
    int     rc = tt_load(ix, bin, b, key, &vb, &n, &pos);
    if (!rc) {
        adb_index_ver_t w = {slot, val};
        if (n) {
            ADB_ASSERT(n == 1); /* bulk calls: one version per key */
            if (old_slot) *old_slot = vb.v[0].slot;
            if (old_val) *old_val = vb.v[0].val;
        }
        if (n && only_newer && !newer(slot, val, vb.v[0].slot, vb.v[0].val)) {
            rc = ADB_INDEX_KEPT;
        } else {
            rc = tt_store(ix, bin, b, key, pos, vb.v, n, &w, 1, false);
            if (!rc) rc = n ? ADB_INDEX_REPLACED : ADB_INDEX_INSERTED;
        }
    }
    bin_unlock(b);
    vbuf_fini(&vb);
    tt_enforce(ix);
    return rc;
}

/* 1 if removed, 0 if absent, or an error. */
static int
tt_remove(adb_index_t *ix, uint8_t const key[32]) {
    uint32_t bin = adb_index_bin_of(ix, key);
    bin_t   *b = &ix->bins[bin];
    vbuf_t   vb;
    vbuf_init(&vb);
    bin_lock(b);
    size_t  n = 0;
    int64_t pos;
    int     rc = tt_load(ix, bin, b, key, &vb, &n, &pos);
    if (!rc && n) rc = tt_store(ix, bin, b, key, pos, vb.v, n, NULL, 0, false);
    bin_unlock(b);
    vbuf_fini(&vb);
    return rc ? rc : n > 0;
}

/* Disk keys not in RAM (RAM entries were visited first, complete). */
typedef struct vv_ctx {
    adb_index_t        *ix;
    bin_t              *b;
    uint32_t            bin;
    adb_index_vvisit_fn fn;
    void               *ctx;
} vv_ctx_t;

static int
vv_disk(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t n) {
    vv_ctx_t *c = ctx;
    /* The disk bin holds the keys of several RAM bins. */
    if (adb_index_bin_of(c->ix, key) != c->bin || find(c->ix, c->b, key) >= 0) return 0;
    return c->fn(c->ctx, key, v, n);
}

static int
tt_vvisit_disk(adb_index_t *ix, uint32_t bin, adb_index_vvisit_fn fn, void *ctx) {
    vv_ctx_t c = {ix, &ix->bins[bin], bin, fn, ctx};
    return adb_dtier_visit(ix->dt, bin >> ix->dshift, vv_disk, &c);
}

typedef struct v1_ctx {
    adb_index_visit_fn fn;
    void              *ctx;
} v1_ctx_t;

static int
v1_cb(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t n) {
    v1_ctx_t *c = ctx;
    (void)n;
    return c->fn(c->ctx, key, v[0].slot, v[0].val);
}

static int
tt_visit(adb_index_t *ix, uint32_t bin, adb_index_visit_fn fn, void *ctx) {
    v1_ctx_t c = {fn, ctx};
    return adb_index_bin_vvisit(ix, bin, v1_cb, &c);
}

void
adb_index_stats(adb_index_t *ix, adb_index_stats_t *o) {
    memset(o, 0, sizeof *o);
    o->keys = adb_index_cnt(ix);
    o->ram_keys = atomic_load(&ix->cnt);
    o->ram_heap = atomic_load(&ix->mem);
    o->ram_budget = ix->budget;
    o->hits = atomic_load(&ix->hits);
    o->misses = atomic_load(&ix->misses);
    o->promotions = atomic_load(&ix->promotions);
    o->evictions = atomic_load(&ix->evictions);
    o->trims = atomic_load(&ix->trims);
    o->ram_pinned = atomic_load(&ix->pinned_bytes);
    if (ix->dt) {
        adb_dtier_stats_t st;
        adb_dtier_stats(ix->dt, &st);
        o->ram_heap += st.heap;
        o->ram_mapped = st.resident_est;
        o->disk_keys = st.keys;
        o->disk_entries = st.entries;
        o->disk_bytes = st.file_bytes;
    }
}

int
adb_index_reclaim(adb_index_t *ix) {
    if (!ix->dt) return 0;
    for (uint32_t i = 0; i < ix->dbin_cnt; i++) {
        int rc = adb_dtier_reclaim(ix->dt, i);
        if (rc) return rc;
    }
    return 0;
}

int
adb_index_stamp(adb_index_t *ix, struct adb_dtier_stamp const *stamp, adb_err_t *err) {
    return ix->dt ? adb_dtier_stamp(ix->dt, stamp, err) : 0;
}

int
adb_index_remap_disk(adb_index_t *ix, int (*fn)(void *ctx, adb_index_ver_t *v), void *ctx) {
    if (!ix->dt) return 0;
    for (uint32_t i = 0; i < ix->dbin_cnt; i++) {
        int rc = adb_dtier_edit_vals(ix->dt, i, fn, ctx);
        if (rc) return rc;
    }
    return 0;
}
