/* src/db/db_rcache.c - the byte-bounded read cache (see db_rcache.h).
 *
 * 64 shards, each a chained hash table with an LRU list under a mutex.
 * Invariant: shard bytes <= max / 64 after every insert (the least
 * recently used entries are evicted first); entries are immutable copies.
 * An entry is keyed by the record's location and its file-table entry's
 * generation: the engine reuses the entries of replaced storages, so a
 * location alone could name a record of an older storage. */
#include "db/db_rcache.h"

#include <stdio.h>
#include <unistd.h>

#define SHARDS  64
#define BUCKETS 4096

typedef struct ent {
    uint64_t         key;
    uint32_t         gen;
    struct ent      *chain, *prev, *next;
    uint64_t         sz;
    acctdb_account_t a; /* a.data points into data[] */
    uint8_t          data[];
} ent_t;

typedef struct shard {
    pthread_mutex_t mu;
    ent_t          *b[BUCKETS];
    ent_t          *head, *tail; /* most / least recently used */
    uint64_t        bytes;
} shard_t;

struct adb_rcache {
    uint64_t         max;
    shard_t          sh[SHARDS];
    _Atomic uint64_t hits, misses;
};

static inline uint64_t
mixk(uint64_t k) {
    k ^= k >> 31;
    k *= 0x9e3779b97f4a7c15ull;
    return k ^ (k >> 29);
}

int
adb_rcache_open(adb_rcache_t **rc_out, uint64_t max_sz) {
    *rc_out = NULL;
    if (!max_sz) return 0;
    adb_rcache_t *rc = adb_calloc(1, sizeof *rc);
    if (!rc) return ACCTDB_ERR_NOMEM;
    rc->max = max_sz;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&rc->sh[i].mu, NULL);
    *rc_out = rc;
    return 0;
}

void
adb_rcache_close(adb_rcache_t *rc) {
    if (!rc) return;
    for (int i = 0; i < SHARDS; i++) {
        for (ent_t *e = rc->sh[i].head, *n; e; e = n) {
            n = e->next;
            adb_free(e);
        }
        pthread_mutex_destroy(&rc->sh[i].mu);
    }
    adb_free(rc);
}

static void
lru_unlink(shard_t *s, ent_t *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    e->prev = e->next = NULL;
}

static void
lru_front(shard_t *s, ent_t *e) {
    e->next = s->head;
    e->prev = NULL;
    if (s->head) s->head->prev = e;
    s->head = e;
    if (!s->tail) s->tail = e;
}

static void
chain_unlink(shard_t *s, ent_t *e, uint64_t h) {
    ent_t **pp = &s->b[h % BUCKETS];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
}

static bool
get(adb_rcache_t *rc, uint64_t key, uint32_t gen, acctdb_account_t *out, uint8_t *buf,
    size_t buf_max, int *rc_out) {
    uint64_t h = mixk(key);
    shard_t *s = &rc->sh[h % SHARDS];
    pthread_mutex_lock(&s->mu);
    ent_t *e = s->b[(h / SHARDS) % BUCKETS];
    while (e && (e->key != key || e->gen != gen))
        e = e->chain;
    if (e) {
        *out = e->a;
        out->data = buf;
        if (e->a.data_len > buf_max) {
            *rc_out = ACCTDB_ERR_FULL;
        } else {
            if (e->a.data_len) memcpy(buf, e->data, (size_t)e->a.data_len);
            *rc_out = 0;
        }
        lru_unlink(s, e);
        lru_front(s, e);
    }
    pthread_mutex_unlock(&s->mu);
    return e != NULL;
}

static void
put(adb_rcache_t *rc, uint64_t key, uint32_t gen, acctdb_account_t const *a) {
    uint64_t sz = sizeof(ent_t) + a->data_len, cap = rc->max / SHARDS;
    if (sz > cap / 4) return; /* a huge account would flush the shard */
    ent_t *e = adb_malloc((size_t)sz);
    if (!e) return;
    e->key = key;
    e->gen = gen;
    e->sz = sz;
    e->a = *a;
    if (a->data_len) memcpy(e->data, a->data, (size_t)a->data_len);
    e->a.data = e->data;
    uint64_t h = mixk(key);
    shard_t *s = &rc->sh[h % SHARDS];
    pthread_mutex_lock(&s->mu);
    ent_t *x = s->b[(h / SHARDS) % BUCKETS];
    while (x && (x->key != key || x->gen != gen))
        x = x->chain;
    if (x) { /* another reader inserted it meanwhile */
        pthread_mutex_unlock(&s->mu);
        adb_free(e);
        return;
    }
    e->chain = s->b[(h / SHARDS) % BUCKETS];
    s->b[(h / SHARDS) % BUCKETS] = e;
    lru_front(s, e);
    s->bytes += sz;
    while (s->bytes > cap && s->tail) {
        ent_t *v = s->tail;
        lru_unlink(s, v);
        chain_unlink(s, v, mixk(v->key) / SHARDS);
        s->bytes -= v->sz;
        adb_free(v);
    }
    pthread_mutex_unlock(&s->mu);
}

/* A failed read of storage f: rc, with a message naming it. */
static int
read_failed(adb_db_t const *db, adb_db_file_t const *f, int rc) {
    return adb_err_set(adb_eng_err(), rc, "reading the storage of slot %llu in %s: %s",
                       (unsigned long long)f->slot, db->dir, acctdb_strerror(rc));
}

/* Storage f's bytes when reads copy them from its segment's mapping
 * (cfg.mmap_reads and f wholly mapped), else NULL (pread). */
static uint8_t const *
file_map(adb_db_t const *db, adb_db_file_t const *f) {
    adb_db_seg_t const *sg = &db->segs[f->seg];
    bool                use_map = !db->eng || db->eng->cfg.mmap_reads;
    return use_map && sg->map && f->seg_off + f->valid_len <= sg->map_sz ? sg->map + f->seg_off
                                                                         : NULL;
}

int
adb_rcache_read(adb_db_t *db, uint64_t slot, uint64_t val, acctdb_account_t *out, uint8_t *buf,
                size_t buf_max) {
    (void)slot;
    uint64_t key = val & ~(ADB_VAL_CACHE | ADB_VAL_DEAD);
    uint32_t fi = adb_db_loc_file(key);
    if (fi >= adb_db_file_cnt(db)) return ACCTDB_ERR_CORRUPT;
    adb_db_file_t *f = adb_db_file(db, fi);
    uint8_t const *m = file_map(db, f);
    /* Mapped reads copy straight from the page cache; the read cache
     * serves the reads that cost a system call. */
    adb_rcache_t *rc = !m && db->eng ? db->eng->rcache : NULL;
    int           r;
    if (rc && get(rc, key, f->gen, out, buf, buf_max, &r)) {
        atomic_fetch_add_explicit(&rc->hits, 1, memory_order_relaxed);
        return r;
    }
    if (rc) atomic_fetch_add_explicit(&rc->misses, 1, memory_order_relaxed);
    uint64_t       off = adb_db_loc_off(key);
    uint8_t        hb[ADB_ACCT_HDR_SZ];
    uint8_t const *h = hb;
    if (off + ADB_ACCT_HDR_SZ > f->valid_len) return ACCTDB_ERR_CORRUPT;
    int fd = adb_db_file_fd(db, f);
    if (m)
        h = m + off;
    else if ((r = adb_io_pread_all(db->io, fd, hb, sizeof hb, f->seg_off + off)) != 0)
        return read_failed(db, f, r);
    memset(out, 0, sizeof *out);
    adb_acct_hdr_to_account(h, out);
    out->data = buf;
    if (out->data_len > ADB_ACCT_MAX_DATA_SZ ||
        off + ADB_ACCT_HDR_SZ + out->data_len > f->valid_len)
        return ACCTDB_ERR_CORRUPT;
    if (out->data_len > buf_max) return ACCTDB_ERR_FULL;
    if (out->data_len && m)
        memcpy(buf, m + off + ADB_ACCT_HDR_SZ, (size_t)out->data_len);
    else if (out->data_len && (r = adb_io_pread_all(db->io, fd, buf, (size_t)out->data_len,
                                                    f->seg_off + off + ADB_ACCT_HDR_SZ)) != 0)
        return read_failed(db, f, r);
    if (rc) put(rc, key, f->gen, out);
    return 0;
}

void
adb_rcache_prefetch(adb_db_t *db, uint64_t val) {
    uint64_t key = val & ~(ADB_VAL_CACHE | ADB_VAL_DEAD);
    uint32_t fi = adb_db_loc_file(key);
    if (fi >= adb_db_file_cnt(db)) return;
    adb_db_file_t const *f = adb_db_file(db, fi);
    uint8_t const       *m = file_map(db, f);
    uint64_t             off = adb_db_loc_off(key);
    if (!m || off + ADB_ACCT_HDR_SZ > f->valid_len) return;
    uint8_t const *h = m + off;
    /* The header (136 bytes) and the data's start: all of a 165-byte
     * token account's 304-byte record. */
    for (unsigned k = 0; k < 5; k++)
        __builtin_prefetch(h + 64 * k);
}

void
adb_rcache_stats(adb_rcache_t const *rc, uint64_t *sz, uint64_t *hits, uint64_t *misses) {
    *sz = *hits = *misses = 0;
    if (!rc) return;
    for (int i = 0; i < SHARDS; i++) {
        shard_t *sh = &((adb_rcache_t *)rc)->sh[i];
        pthread_mutex_lock(&sh->mu);
        *sz += sh->bytes;
        pthread_mutex_unlock(&sh->mu);
    }
    *hits = atomic_load(&((adb_rcache_t *)rc)->hits);
    *misses = atomic_load(&((adb_rcache_t *)rc)->misses);
}
