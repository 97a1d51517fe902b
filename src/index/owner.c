/* src/index/owner.c - owner -> pubkey sets (see owner.h).
 *
 * Each shard maps owners (open addressing) to a set of pubkeys (open
 * addressing, linear probing, backward-shift deletion).
 * Invariants: set load <= 3/4; a set is freed when it empties. */
#include "index/owner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SHARDS 64

typedef struct kset {
    acctdb_pubkey_t owner;
    acctdb_pubkey_t *k; /* cap entries; all-zero + used bitmap */
    uint8_t         *used;
    uint32_t         cap, cnt;
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
    for (int i = 0; i < SHARDS; i++) pthread_mutex_init(&o->sh[i].mu, NULL);
    return 0;
}

static void
kset_free(kset_t *s) {
    adb_free(s->k);
    adb_free(s->used);
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

static uint32_t
key_pos(kset_t const *s, uint8_t const *k, bool *found) {
    for (uint32_t i = (uint32_t)(h64(k) >> 11) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->used[i]) {
            *found = false;
            return i;
        }
        if (!memcmp(s->k[i].b, k, 32)) {
            *found = true;
            return i;
        }
    }
}

static int
kset_grow(kset_t *s) {
    uint32_t         ncap = s->cap ? s->cap * 2 : 8;
    acctdb_pubkey_t *nk = adb_malloc((size_t)ncap * sizeof *nk);
    uint8_t         *nu = adb_calloc(ncap, 1);
    if (!nk || !nu) {
        adb_free(nk);
        adb_free(nu);
        return ACCTDB_ERR_NOMEM;
    }
    acctdb_pubkey_t *ok = s->k;
    uint8_t         *ou = s->used;
    uint32_t         ocap = s->cap;
    s->k = nk;
    s->used = nu;
    s->cap = ncap;
    for (uint32_t i = 0; i < ocap; i++) {
        if (!ou[i]) continue;
        bool     f;
        uint32_t p = key_pos(s, ok[i].b, &f);
        s->k[p] = ok[i];
        s->used[p] = 1;
    }
    adb_free(ok);
    adb_free(ou);
    return 0;
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
    kset_t *ks = *slot;
    if ((ks->cnt + 1) * 4 > ks->cap * 3 && kset_grow(ks)) goto miss;
    bool     f;
    uint32_t p = key_pos(ks, key->b, &f);
    if (!f) {
        ks->k[p] = *key;
        ks->used[p] = 1;
        ks->cnt++;
        atomic_fetch_add_explicit(&o->pairs, 1, memory_order_relaxed);
    }
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
    if (slot && *slot) {
        kset_t  *ks = *slot;
        bool     f;
        uint32_t p = key_pos(ks, key->b, &f);
        if (f) {
            /* Linear-probing deletion (Knuth's algorithm R): move later
             * entries of the run back unless their home lies in (p, n]. */
            uint32_t cap = ks->cap;
            for (uint32_t n = (p + 1) & (cap - 1); ks->used[n]; n = (n + 1) & (cap - 1)) {
                uint32_t h = (uint32_t)(h64(ks->k[n].b) >> 11) & (cap - 1);
                bool     stays = p <= n ? (p < h && h <= n) : (p < h || h <= n);
                if (stays) continue;
                ks->k[p] = ks->k[n];
                p = n;
            }
            ks->used[p] = 0;
            ks->cnt--;
            atomic_fetch_sub_explicit(&o->pairs, 1, memory_order_relaxed);
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
    }
    pthread_mutex_unlock(&s->mu);
}

static int
cmp_key(void const *a, void const *b) {
    return memcmp(a, b, 32);
}

int
adb_owner_list(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t **keys_out,
               size_t *cnt_out) {
    *keys_out = NULL;
    *cnt_out = 0;
    oshard_t *s = &o->sh[h64(owner->b) % SHARDS];
    pthread_mutex_lock(&s->mu);
    kset_t **slot = set_slot(s, owner);
    kset_t  *ks = slot ? *slot : NULL;
    size_t   n = ks ? ks->cnt : 0;
    acctdb_pubkey_t *v = adb_malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        pthread_mutex_unlock(&s->mu);
        return ACCTDB_ERR_NOMEM;
    }
    size_t w = 0;
    for (uint32_t i = 0; ks && i < ks->cap; i++)
        if (ks->used[i]) v[w++] = ks->k[i];
    pthread_mutex_unlock(&s->mu);
    if (w) qsort(v, w, sizeof *v, cmp_key);
    *keys_out = v;
    *cnt_out = w;
    return 0;
}

uint64_t
adb_owner_pairs(adb_owner_ix_t const *o) {
    return atomic_load(&((adb_owner_ix_t *)o)->pairs);
}

uint64_t
adb_owner_misses(adb_owner_ix_t const *o) {
    return atomic_load(&((adb_owner_ix_t *)o)->misses);
}
