/* src/index/owner.c - owner -> pubkey sets (see owner.h).
 *
 * Each shard maps owners (open addressing) to a sorted set of pubkeys: a
 * directory of sorted blocks of up to 256 keys, split when full.
 * Invariants: blocks are non-empty, sorted within and across; a set is
 * freed when it empties; pairs == the sum of the sets' counts. */
#include "index/owner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SHARDS 64

/* A sorted set of pubkeys: a directory of sorted blocks (a two-level
 * B+tree).  Every operation costs O(log n + BLK); a page of a scan costs
 * O(log n + its length). */
#define BLK 256

typedef struct kblk {
    uint32_t        n;
    acctdb_pubkey_t k[BLK];
} kblk_t;

typedef struct kset {
    acctdb_pubkey_t owner;
    kblk_t        **b; /* sorted by first key; no block is empty */
    uint32_t        nb, capb;
    uint64_t        cnt;
} kset_t;

typedef struct oshard {
    pthread_mutex_t mu;
    kset_t        **sets; /* open addressing by owner */
    uint32_t        cap, cnt;
} oshard_t;

struct adb_owner_ix {
    oshard_t         sh[SHARDS];
    _Atomic uint64_t pairs, misses;
};

static inline uint64_t
h64(uint8_t const *k) {
    return adb_load_u64(k) ^ (adb_load_u64(k + 8) * 0x9e3779b97f4a7c15ull) ^ adb_load_u64(k + 24);
}

int
adb_owner_open(adb_owner_ix_t **o_out) {
    adb_owner_ix_t *o = adb_calloc(1, sizeof *o);
    *o_out = o;
    if (!o) return ACCTDB_ERR_NOMEM;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&o->sh[i].mu, NULL);
    return 0;
}

static void
kset_free(kset_t *s) {
    for (uint32_t i = 0; i < s->nb; i++)
        adb_free(s->b[i]);
    adb_free(s->b);
    adb_free(s);
}

void
adb_owner_close(adb_owner_ix_t *o) {
    if (!o) return;
    for (int i = 0; i < SHARDS; i++) {
        for (uint32_t j = 0; j < o->sh[i].cap; j++)
            if (o->sh[i].sets[j]) kset_free(o->sh[i].sets[j]);
        adb_free(o->sh[i].sets);
        pthread_mutex_destroy(&o->sh[i].mu);
    }
    adb_free(o);
}

/* Finds (or with create, makes) the owner's set; NULL if absent/no memory. */
static kset_t **
set_slot(oshard_t *s, acctdb_pubkey_t const *owner) {
    if (!s->cap) return NULL;
    for (uint32_t i = (uint32_t)(h64(owner->b) >> 7) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->sets[i] || !memcmp(s->sets[i]->owner.b, owner->b, 32)) return &s->sets[i];
    }
}

static int
shard_grow(oshard_t *s) {
    uint32_t ncap = s->cap ? s->cap * 2 : 16;
    kset_t **ns = adb_calloc(ncap, sizeof *ns), **old = s->sets;
    if (!ns) return ACCTDB_ERR_NOMEM;
    uint32_t ocap = s->cap;
    s->sets = ns;
    s->cap = ncap;
    for (uint32_t i = 0; i < ocap; i++)
        if (old[i]) *set_slot(s, &old[i]->owner) = old[i];
    adb_free(old);
    return 0;
}

/* The block that holds key or would: the last whose first key <= key (0
 * if none).  Requires nb > 0. */
static uint32_t
blk_find(kset_t const *s, uint8_t const *k) {
    uint32_t lo = 0, hi = s->nb;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (memcmp(s->b[mid]->k[0].b, k, 32) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* First position in b with key >= k (*found if equal). */
static uint32_t
pos_find(kblk_t const *b, uint8_t const *k, bool *found) {
    uint32_t lo = 0, hi = b->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (memcmp(b->k[mid].b, k, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < b->n && !memcmp(b->k[lo].b, k, 32);
    return lo;
}

static int
dir_insert(kset_t *s, uint32_t at, kblk_t *nb) {
    if (s->nb == s->capb) {
        uint32_t ncap = s->capb ? s->capb * 2 : 4;
        kblk_t **nd = adb_realloc(s->b, (size_t)ncap * sizeof *nd);
        if (!nd) return ACCTDB_ERR_NOMEM;
        s->b = nd;
        s->capb = ncap;
    }
    memmove(s->b + at + 1, s->b + at, (size_t)(s->nb - at) * sizeof *s->b);
    s->b[at] = nb;
    s->nb++;
    return 0;
}

/* Adds key; 1 if added, 0 if present, or NOMEM. */
static int
kset_add(kset_t *s, acctdb_pubkey_t const *key) {
    if (!s->nb) {
        kblk_t *b = adb_malloc(sizeof *b);
        if (!b || dir_insert(s, 0, b)) {
            adb_free(b);
            return ACCTDB_ERR_NOMEM;
        }
        b->n = 1;
        b->k[0] = *key;
        s->cnt++;
        return 1;
    }
    uint32_t i = blk_find(s, key->b);
    kblk_t  *b = s->b[i];
    bool     found;
    uint32_t p = pos_find(b, key->b, &found);
    if (found) return 0;
    if (b->n == BLK) {
        /* Split: the upper half moves to a new block after this one. */
        kblk_t *nb = adb_malloc(sizeof *nb);
        if (!nb || dir_insert(s, i + 1, nb)) {
            adb_free(nb);
            return ACCTDB_ERR_NOMEM;
        }
        nb->n = BLK / 2;
        memcpy(nb->k, b->k + BLK / 2, (BLK / 2) * sizeof *b->k);
        b->n = BLK / 2;
        if (p > BLK / 2) {
            b = nb;
            p -= BLK / 2;
        }
    }
    memmove(b->k + p + 1, b->k + p, (size_t)(b->n - p) * sizeof *b->k);
    b->k[p] = *key;
    b->n++;
    s->cnt++;
    return 1;
}

static bool
kset_del(kset_t *s, acctdb_pubkey_t const *key) {
    if (!s->nb) return false;
    uint32_t i = blk_find(s, key->b);
    kblk_t  *b = s->b[i];
    bool     found;
    uint32_t p = pos_find(b, key->b, &found);
    if (!found) return false;
    memmove(b->k + p, b->k + p + 1, (size_t)(b->n - p - 1) * sizeof *b->k);
    b->n--;
    s->cnt--;
    if (!b->n) {
        adb_free(b);
        memmove(s->b + i, s->b + i + 1, (size_t)(s->nb - i - 1) * sizeof *s->b);
        s->nb--;
    }
    return true;
}

void
adb_owner_add(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *key) {
    oshard_t *s = &o->sh[h64(owner->b) % SHARDS];
    pthread_mutex_lock(&s->mu);
    kset_t **slot = NULL;
    if ((s->cnt + 1) * 2 > s->cap && shard_grow(s)) goto miss;
    slot = set_slot(s, owner);
    if (!*slot) {
        kset_t *ns = adb_calloc(1, sizeof *ns);
        if (!ns) goto miss;
        ns->owner = *owner;
        *slot = ns;
        s->cnt++;
    }
    int r = kset_add(*slot, key);
    if (r < 0) goto miss;
    if (r) atomic_fetch_add_explicit(&o->pairs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    return;
miss:
    atomic_fetch_add(&o->misses, 1);
    pthread_mutex_unlock(&s->mu);
}

void
adb_owner_del(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *key) {
    oshard_t *s = &o->sh[h64(owner->b) % SHARDS];
    pthread_mutex_lock(&s->mu);
    kset_t **slot = set_slot(s, owner);
    if (slot && *slot && kset_del(*slot, key)) {
        atomic_fetch_sub_explicit(&o->pairs, 1, memory_order_relaxed);
        kset_t *ks = *slot;
        if (ks->cnt == 0) {
            /* Remove the set from the shard and re-place its cluster. */
            kset_free(ks);
            *slot = NULL;
            s->cnt--;
            uint32_t i = (uint32_t)(slot - s->sets);
            for (uint32_t j = (i + 1) & (s->cap - 1); s->sets[j]; j = (j + 1) & (s->cap - 1)) {
                kset_t *x = s->sets[j];
                s->sets[j] = NULL;
                *set_slot(s, &x->owner) = x;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
}

size_t
adb_owner_page(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *after,
               acctdb_pubkey_t *keys, size_t max, bool *more_out) {
    *more_out = false;
    oshard_t *s = &o->sh[h64(owner->b) % SHARDS];
    pthread_mutex_lock(&s->mu);
    kset_t **slot = set_slot(s, owner);
    kset_t  *ks = slot ? *slot : NULL;
    size_t   w = 0;
    if (ks && ks->nb) {
        uint32_t i = 0, p = 0;
        if (after) {
            bool found;
            i = blk_find(ks, after->b);
            p = pos_find(ks->b[i], after->b, &found);
            if (found) p++;
        }
        for (; i < ks->nb; i++, p = 0) {
            kblk_t const *b = ks->b[i];
            for (; p < b->n; p++) {
                if (w == max) {
                    *more_out = true;
                    goto out;
                }
                keys[w++] = b->k[p];
            }
        }
    }
out:
    pthread_mutex_unlock(&s->mu);
    return w;
}

uint64_t
adb_owner_pairs(adb_owner_ix_t const *o) {
    return atomic_load(&((adb_owner_ix_t *)o)->pairs);
}

uint64_t
adb_owner_misses(adb_owner_ix_t const *o) {
    return atomic_load(&((adb_owner_ix_t *)o)->misses);
}

/* ---- whole-index access (the index file, src/db/db_ixfile.c) ---------------- */

int
adb_owner_visit(adb_owner_ix_t *o, adb_owner_visit_fn fn, void *ctx) {
    int rc = 0;
    for (int i = 0; i < SHARDS && !rc; i++) {
        oshard_t *s = &o->sh[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t j = 0; j < s->cap && !rc; j++) {
            kset_t const *ks = s->sets[j];
            for (uint32_t b = 0; ks && b < ks->nb && !rc; b++)
                rc = fn(ctx, &ks->owner, ks->b[b]->k, ks->b[b]->n);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

int
adb_owner_add_sorted(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *keys,
                     size_t n) {
    if (!n) return 0;
    oshard_t *s = &o->sh[h64(owner->b) % SHARDS];
    int       rc = 0;
    size_t    i = 0;
    pthread_mutex_lock(&s->mu);
    kset_t **slot = NULL;
    if ((s->cnt + 1) * 2 > s->cap && shard_grow(s)) {
        rc = ACCTDB_ERR_NOMEM;
        goto out;
    }
    slot = set_slot(s, owner);
    if (!*slot) {
        kset_t *ns = adb_calloc(1, sizeof *ns);
        if (!ns) {
            rc = ACCTDB_ERR_NOMEM;
            goto out;
        }
        ns->owner = *owner;
        *slot = ns;
        s->cnt++;
    }
    kset_t *ks = *slot;
    /* Keys past the set's last one fill its last block, then new full
     * blocks (kset_add would split each full block in half). */
    while (i < n) {
        kblk_t *last = ks->nb ? ks->b[ks->nb - 1] : NULL;
        if (last && memcmp(keys[i].b, last->k[last->n - 1].b, 32) <= 0) break;
        if (i && memcmp(keys[i].b, keys[i - 1].b, 32) <= 0) break;
        if (!last || last->n == BLK) {
            kblk_t *nb = adb_malloc(sizeof *nb);
            if (!nb || dir_insert(ks, ks->nb, nb)) {
                adb_free(nb);
                rc = ACCTDB_ERR_NOMEM;
                goto out;
            }
            nb->n = 0;
            last = nb;
        }
        last->k[last->n++] = keys[i++];
        ks->cnt++;
        atomic_fetch_add_explicit(&o->pairs, 1, memory_order_relaxed);
    }
    /* Anything else (out of order, or among the set's keys): one by one. */
    for (; i < n; i++) {
        int r = kset_add(ks, &keys[i]);
        if (r < 0) {
            rc = r;
            goto out;
        }
        if (r) atomic_fetch_add_explicit(&o->pairs, 1, memory_order_relaxed);
    }
out:
    if (slot && *slot && !(*slot)->cnt) {
        /* A set made here that got no key: out, its cluster re-placed. */
        kset_free(*slot);
        *slot = NULL;
        s->cnt--;
        uint32_t at = (uint32_t)(slot - s->sets);
        for (uint32_t j = (at + 1) & (s->cap - 1); s->sets[j]; j = (j + 1) & (s->cap - 1)) {
            kset_t *x = s->sets[j];
            s->sets[j] = NULL;
            *set_slot(s, &x->owner) = x;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}
