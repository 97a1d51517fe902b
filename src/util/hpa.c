/* src/util/hpa.c - the huge-page arena (see hpa.h).
 *
 * Within a chunk, memory is counted in 512-byte units; a free range is any
 * run of units, kept on the list of its size class (floor(log2(units))).
 * Invariants:
 *   1. tag[u] != 0 exactly at the first and the last unit of a free range,
 *      where it holds the range's length in units (both are the same unit
 *      for a range of one).
 *   2. Two free ranges are never adjacent: freeing merges a range with its
 *      free neighbours, and clears the tags that end up inside.
 *   3. Every free range is on exactly one list, its class's.
 * So freed tables leave holes that later tables of any size can take
 * (lockstep growth, where every bin grows by a quarter in turn, would
 * leave a buddy allocator half empty). */
#include "util/hpa.h"

#include <pthread.h>
#include <sys/mman.h>

#define UNIT_ORD 9u  /* 512 B */
#define CH_ORD   25u /* 32 MiB */
#define CH_SZ    ((size_t)1 << CH_ORD)
#define UNITS    (CH_SZ >> UNIT_ORD)
#define NCLS     (CH_ORD - UNIT_ORD + 1)
#define HUGE_SZ  ((size_t)2 << 20)
#define FIT_SCAN 16 /* ranges of the request's own class tried before a larger class */

typedef struct fblk {
    struct fblk *next, *prev;
} fblk_t;

typedef struct chunk {
    uint8_t *base;
    size_t   map_sz;
    uint8_t *map;
    bool     hugetlb;
    uint32_t tag[UNITS]; /* invariant 1 */
} chunk_t;

struct adb_hpa {
    pthread_mutex_t mu;
    chunk_t       **ch;
    uint32_t        nch, capch;
    fblk_t         *free[NCLS];
    uint64_t        used, mapped;
};

int
adb_hpa_new(adb_hpa_t **out) {
    adb_hpa_t *a = adb_calloc(1, sizeof *a);
    if (!a) return ACCTDB_ERR_NOMEM;
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return 0;
}

void
adb_hpa_destroy(adb_hpa_t *a) {
    if (!a) return;
    for (uint32_t i = 0; i < a->nch; i++) {
        munmap(a->ch[i]->map, a->ch[i]->map_sz);
        adb_free(a->ch[i]);
    }
    adb_free(a->ch);
    pthread_mutex_destroy(&a->mu);
    adb_free(a);
}

/* Maps sz bytes (a multiple of 2 MiB) on a 2 MiB boundary, backed by huge
 * pages if the system gives them: *map and *map_sz get what to unmap. */
static uint8_t *
map_huge(size_t sz, uint8_t **map, size_t *map_sz, bool *hugetlb) {
    void *m =
        mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (m != MAP_FAILED) {
        *map = m;
        *map_sz = sz;
        *hugetlb = true;
        return m;
    }
    *hugetlb = false;
    m = mmap(NULL, sz + HUGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    uintptr_t p = (uintptr_t)m, al = (p + HUGE_SZ - 1) & ~(uintptr_t)(HUGE_SZ - 1);
    /* Give back the unaligned head and tail. */
    if (al > p) munmap(m, al - p);
    if (p + sz + HUGE_SZ > al + sz) munmap((void *)(al + sz), p + sz + HUGE_SZ - (al + sz));
    (void)madvise((void *)al, sz, MADV_HUGEPAGE); /* best effort: THP may be off */
    *map = (uint8_t *)al;
    *map_sz = sz;
    return (uint8_t *)al;
}

static inline uint32_t
cls_of(uint32_t units) {
    return 31u - (uint32_t)__builtin_clz(units);
}

static inline uint32_t
unit_of(chunk_t const *c, uint8_t const *p) {
    return (uint32_t)((size_t)(p - c->base) >> UNIT_ORD);
}

static inline uint8_t *
addr_of(chunk_t const *c, uint32_t u) {
    return c->base + ((size_t)u << UNIT_ORD);
}

/* Makes [u, u+n) a free range on its list (invariants 1, 3). */
static void
range_put(adb_hpa_t *a, chunk_t *c, uint32_t u, uint32_t n) {
    fblk_t *f = (fblk_t *)addr_of(c, u), **head = &a->free[cls_of(n)];
    f->prev = NULL;
    f->next = *head;
    if (*head) (*head)->prev = f;
    *head = f;
    c->tag[u] = n;
    c->tag[u + n - 1] = n;
}

/* Takes the free range at u off its list and clears its tags. */
static void
range_take(adb_hpa_t *a, chunk_t *c, uint32_t u) {
    uint32_t n = c->tag[u];
    fblk_t  *f = (fblk_t *)addr_of(c, u);
    if (f->prev)
        f->prev->next = f->next;
    else
        a->free[cls_of(n)] = f->next;
    if (f->next) f->next->prev = f->prev;
    c->tag[u] = 0;
    c->tag[u + n - 1] = 0;
}

static chunk_t *
chunk_of(adb_hpa_t *a, uint8_t const *p, uint32_t *idx) {
    for (uint32_t i = 0; i < a->nch; i++)
        if (p >= a->ch[i]->base && p < a->ch[i]->base + CH_SZ) {
            if (idx) *idx = i;
            return a->ch[i];
        }
    return NULL;
}

static int
chunk_add(adb_hpa_t *a) {
    if (a->nch == a->capch) {
        uint32_t  nc = a->capch ? a->capch * 2 : 8;
        chunk_t **n = adb_realloc(a->ch, nc * sizeof *n);
        if (!n) return ACCTDB_ERR_NOMEM;
        a->ch = n;
        a->capch = nc;
    }
    chunk_t *c = adb_calloc(1, sizeof *c);
    if (!c) return ACCTDB_ERR_NOMEM;
    c->base = map_huge(CH_SZ, &c->map, &c->map_sz, &c->hugetlb);
    if (!c->base) {
        adb_free(c);
        return ACCTDB_ERR_NOMEM;
    }
    a->ch[a->nch++] = c;
    a->mapped += CH_SZ;
    range_put(a, c, 0, UNITS);
    return 0;
}

size_t
adb_hpa_size(size_t sz) {
    if (sz == 0) sz = 1;
    if (sz > CH_SZ) return sz > SIZE_MAX - HUGE_SZ ? 0 : (sz + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
    return (sz + ((size_t)1 << UNIT_ORD) - 1) & ~(((size_t)1 << UNIT_ORD) - 1);
}

/* A free range of at least n units (mutex held): the first fit among a
 * few of n's own class, else the head of a larger class (all fit). */
static fblk_t *
find_fit(adb_hpa_t *a, uint32_t n, chunk_t **c_out) {
    uint32_t k = cls_of(n);
    int      scan = 0;
    for (fblk_t *f = a->free[k]; f && scan < FIT_SCAN; f = f->next, scan++) {
        chunk_t *c = chunk_of(a, (uint8_t *)f, NULL);
        if (c->tag[unit_of(c, (uint8_t *)f)] >= n) {
            *c_out = c;
            return f;
        }
    }
    for (k++; k < NCLS; k++)
        if (a->free[k]) {
            *c_out = chunk_of(a, (uint8_t *)a->free[k], NULL);
            return a->free[k];
        }
    return NULL;
}

void *
adb_hpa_alloc(adb_hpa_t *a, size_t sz, size_t *got) {
    size_t want = adb_hpa_size(sz);
    if (!want) return NULL;
    if (want > CH_SZ) {
        size_t   mapsz;
        uint8_t *map;
        bool     ht;
        uint8_t *p = map_huge(want, &map, &mapsz, &ht);
        if (!p) return NULL;
        pthread_mutex_lock(&a->mu);
        a->used += want;
        a->mapped += want;
        pthread_mutex_unlock(&a->mu);
        *got = want;
        return p;
    }
    uint32_t n = (uint32_t)(want >> UNIT_ORD);
    pthread_mutex_lock(&a->mu);
    chunk_t *c = NULL;
    fblk_t  *f = find_fit(a, n, &c);
    if (!f) {
        if (chunk_add(a)) {
            pthread_mutex_unlock(&a->mu);
            return NULL;
        }
        c = a->ch[a->nch - 1];
        f = (fblk_t *)c->base;
    }
    uint32_t u = unit_of(c, (uint8_t *)f), have = c->tag[u];
    range_take(a, c, u);
    if (have > n) range_put(a, c, u + n, have - n); /* the rest stays free */
    a->used += want;
    pthread_mutex_unlock(&a->mu);
    *got = want;
    return addr_of(c, u);
}

void
adb_hpa_free(adb_hpa_t *a, void *vp, size_t got) {
    if (!vp) return;
    uint8_t *p = vp;
    if (got > CH_SZ) {
        munmap(p, got);
        pthread_mutex_lock(&a->mu);
        a->used -= got;
        a->mapped -= got;
        pthread_mutex_unlock(&a->mu);
        return;
    }
    pthread_mutex_lock(&a->mu);
    uint32_t idx = 0;
    chunk_t *c = chunk_of(a, p, &idx);
    ADB_ASSERT(c && got && (got & (((size_t)1 << UNIT_ORD) - 1)) == 0);
    uint32_t u = unit_of(c, p), n = (uint32_t)(got >> UNIT_ORD);
    ADB_ASSERT(u + n <= UNITS);
    a->used -= got;
    if (u > 0 && c->tag[u - 1]) { /* invariant 2: merge with the left range */
        uint32_t l = c->tag[u - 1], lu = u - l;
        range_take(a, c, lu);
        u = lu;
        n += l;
    }
    if (u + n < UNITS && c->tag[u + n]) { /* and the right one */
        uint32_t r = c->tag[u + n];
        range_take(a, c, u + n);
        n += r;
    }
    if (n == UNITS && a->nch > 1) { /* a wholly free chunk goes */
        munmap(c->map, c->map_sz);
        adb_free(c);
        a->ch[idx] = a->ch[--a->nch];
        a->mapped -= CH_SZ;
    } else {
        range_put(a, c, u, n);
    }
    pthread_mutex_unlock(&a->mu);
}

void
adb_hpa_stats(adb_hpa_t *a, adb_hpa_stats_t *o) {
    pthread_mutex_lock(&a->mu);
    o->used = a->used;
    o->mapped = a->mapped;
    o->chunks = a->nch;
    o->hugetlb = 0;
    for (uint32_t i = 0; i < a->nch; i++)
        o->hugetlb += a->ch[i]->hugetlb;
    pthread_mutex_unlock(&a->mu);
}
