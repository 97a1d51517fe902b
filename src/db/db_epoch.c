/* src/db/db_epoch.c - the reader registry: epoch-based reclamation.
 *
 * A process-wide table of reader slots (one per thread that reads, claimed
 * on first use and released when the thread exits) holds the global epoch
 * each active reader entered at, or 0.  Retiring an object stamps it with
 * the current epoch and advances it; the object is freed once every active
 * reader entered after that stamp, so none can still hold a pointer to it.
 *
 * Invariants:
 *   1. An object is retired only after it was unlinked from every structure
 *      a reader can reach (the index, a bank's map).
 *   2. A reader holds pointers only between adb_epoch_enter and
 *      adb_epoch_exit.
 *   3. Freed objects had stamp < every active reader's epoch. */
#include "db/db_private.h"

#include "util/io.h"
#include "util/point.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define READERS_MAX 1024

typedef struct rslot {
    _Alignas(64) _Atomic uint64_t epoch; /* 0: not reading */
    _Atomic int used;
} rslot_t;

static rslot_t           g_readers[READERS_MAX];
static _Atomic uint64_t  g_epoch = 1;
static pthread_key_t     g_key;
static pthread_once_t    g_once = PTHREAD_ONCE_INIT;
static _Thread_local int t_slot = -1;
static _Thread_local int t_depth;

static void
release_slot(void *p) {
    int i = (int)(intptr_t)p - 1;
    if (i >= 0 && i < READERS_MAX) {
        atomic_store(&g_readers[i].epoch, 0);
        atomic_store(&g_readers[i].used, 0);
    }
}

static void
make_key(void) {
    pthread_key_create(&g_key, release_slot);
}

/* A free slot for this thread, or -1 when all READERS_MAX are taken (one
 * pass over the table: no waiting). */
static int
claim_slot(void) {
    pthread_once(&g_once, make_key);
    for (int i = 0; i < READERS_MAX; i++) {
        int z = 0;
        if (atomic_load_explicit(&g_readers[i].used, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&g_readers[i].used, &z, 1)) {
            pthread_setspecific(g_key, (void *)(intptr_t)(i + 1));
            return i;
        }
    }
    return -1;
}

int
adb_epoch_register(void) {
    if (t_slot >= 0) return 0;
    t_slot = claim_slot();
    if (t_slot >= 0) return 0;
    return adb_err_set(adb_eng_err(), ACCTDB_ERR_FULL,
                       "more than %d threads are reading databases at once: this thread got no "
                       "reader slot (one frees when a reading thread exits)",
                       READERS_MAX);
}

void
adb_epoch_enter(void) {
    if (t_depth++ > 0) return;
    /* Every entry point registered the thread first (adb_epoch_register),
     * so the slot is there. */
    ADB_ASSERT(t_slot >= 0);
    /* seq_cst: the announcement is visible before any pointer is read. */
    atomic_store(&g_readers[t_slot].epoch, atomic_load(&g_epoch));
}

void
adb_epoch_exit(void) {
    if (--t_depth > 0) return;
    atomic_store_explicit(&g_readers[t_slot].epoch, 0, memory_order_release);
}

static uint64_t
min_active(void) {
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < READERS_MAX; i++) {
        if (!atomic_load_explicit(&g_readers[i].used, memory_order_relaxed)) continue;
        uint64_t e = atomic_load(&g_readers[i].epoch);
        if (e && e < m) m = e;
    }
    return m;
}

/* Gives an extent no root record or reader names back to the file system.
 * A failure is counted, not fatal: the bytes stay allocated (space, not
 * data, is lost: nothing refers to them, and a crash before the punch would
 * leave them the same way), and the next reopen carries on as usual.
 * Never retried: the extent is forgotten (ret_mu held). */
static void
punch(adb_db_t *db, uint32_t seg, uint64_t off, uint64_t len) {
    int rc = adb_io_punch(db->io, db->segs[seg].fd, off, len);
    if (!rc) return;
    adb_eng_t *e = db->eng;
    e->punch_errors++;
    e->punch_err_bytes += len;
    char msg[256];
    snprintf(msg, sizeof msg,
             "punching %llu bytes at %llu of accounts/seg-%06u: %s (space not given back; no "
             "data lost)",
             (unsigned long long)len, (unsigned long long)off, seg, acctdb_strerror(rc));
    adb_eng_svc_err_note(e, "reclaim", rc, msg, false);
}

/* What a retired account or bank is charged to the write cache (0 for
 * extents): it stays in cache_bytes until freed here. */
static uint64_t
ret_charge(int kind, void const *p) {
    if (kind == ADB_RET_CACCT) return adb_cacct_charge(((adb_cacct_t const *)p)->data_len);
    if (kind == ADB_RET_BANK) return adb_bank_charge(p);
    return 0;
}

/* A replaced storage's file-table entry is free once no reader can reach
 * the storage (ret_mu held).  Without memory for the list the entry is
 * simply not reused. */
static void
file_free_push(adb_eng_t *e, uint32_t idx) {
    if (e->file_free_cnt == e->file_free_cap) {
        size_t    ncap = e->file_free_cap ? e->file_free_cap * 2 : 256;
        uint32_t *nf = adb_realloc(e->file_free, ncap * sizeof *nf);
        if (!nf) return;
        e->file_free = nf;
        e->file_free_cap = ncap;
    }
    e->file_free[e->file_free_cnt++] = idx;
}

bool
adb_eng_file_take(adb_db_t *db, uint32_t *idx_out) {
    adb_eng_t *e = db->eng;
    if (!e) return false;
    pthread_mutex_lock(&e->ret_mu);
    bool ok = e->file_free_cnt > 0;
    if (ok) *idx_out = e->file_free[--e->file_free_cnt];
    pthread_mutex_unlock(&e->ret_mu);
    return ok;
}

static void
free_retired(adb_db_t *db, adb_retired_t const *r) {
    uint64_t charge = ret_charge(r->kind, r->p);
    if (charge) {
        atomic_fetch_sub(&db->eng->ret_bytes, charge);
        atomic_fetch_sub(&db->eng->cache_bytes, charge);
    }
    switch (r->kind) {
    case ADB_RET_CACCT:
        adb_free(r->p);
        break;
    case ADB_RET_BANK: {
        adb_bank_t *b = r->p;
        adb_eng_ext_unref(b->ext);
        adb_xs_delta_free(b);
        adb_free(b->accts);
        adb_free(b);
        break;
    }
    case ADB_RET_EXTENT: {
        /* No reader can use the extent any more: queue its space to be
         * given back (holes punched in batches: one punch per run of
         * adjacent extents, since each punch may discard on the device). */
        adb_eng_t *e = db->eng;
        if (e->punch_cnt == e->punch_cap) {
            size_t         ncap = e->punch_cap ? e->punch_cap * 2 : 256;
            adb_retired_t *np = adb_realloc(e->punch, ncap * sizeof *np);
            if (!np) {
                /* Out of memory: punch now if no commit record can name the
                 * extent any more, else leave its space (lost until it is
                 * found again at an open) rather than punch named bytes. */
                if (r->len && r->gen < atomic_load(&db->commit_gen))
                    punch(db, r->seg, r->off, r->len);
                break;
            }
            e->punch = np;
            e->punch_cap = ncap;
        }
        e->punch[e->punch_cnt++] = *r;
        e->punch_bytes += r->len;
        if (r->file != UINT32_MAX) file_free_push(e, r->file);
        break;
    }
    }
}

static int
cmp_extent(void const *a, void const *b) {
    adb_retired_t const *x = a, *y = b;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

#define PUNCH_BATCH_SZ (16ull << 20)

/* Punches the queued extents no commit record can name any more, adjacent
 * ones as one range (ret_mu held).  An extent commit g stopped naming is
 * still named by the other slot (g - 1) until commit g + 1 overwrites it:
 * the rest wait in the queue. */
static void
punch_queued(adb_db_t *db, bool all) {
    adb_eng_t *e = db->eng;
    if (!e->punch_cnt || (!all && e->punch_bytes < PUNCH_BATCH_SZ)) return;
    uint64_t durable = atomic_load(&db->commit_gen), ready_bytes = 0;
    size_t   ready = 0;
    for (size_t i = 0; i < e->punch_cnt; i++)
        if (e->punch[i].gen < durable) {
            adb_retired_t t = e->punch[ready];
            e->punch[ready] = e->punch[i];
            e->punch[i] = t;
            ready_bytes += e->punch[ready++].len;
        }
    if (!ready || (!all && ready_bytes < PUNCH_BATCH_SZ)) return;
    ADB_POINT("punch.begin");
    qsort(e->punch, ready, sizeof *e->punch, cmp_extent);
    for (size_t i = 0, j; i < ready; i = j) {
        uint64_t end = e->punch[i].off + e->punch[i].len;
        for (j = i + 1; j < ready && e->punch[j].seg == e->punch[i].seg && e->punch[j].off <= end;
             j++)
            end = ADB_MAX(end, e->punch[j].off + e->punch[j].len);
        punch(db, e->punch[i].seg, e->punch[i].off, end - e->punch[i].off);
    }
    memmove(e->punch, e->punch + ready, (e->punch_cnt - ready) * sizeof *e->punch);
    e->punch_cnt -= ready;
    e->punch_bytes -= ready_bytes;
    ADB_POINT("punch.end");
}

static void retire_one(adb_db_t *db, adb_retired_t r);

void
adb_eng_retire(adb_db_t *db, int kind, void *p, uint32_t seg, uint64_t off, uint64_t len) {
    retire_one(db,
               (adb_retired_t){
                   .kind = kind, .file = UINT32_MAX, .p = p, .seg = seg, .off = off, .len = len});
}

void
adb_eng_retire_storage(adb_db_t *db, uint32_t idx, uint64_t gen) {
    adb_db_file_t const *f = adb_db_file(db, idx);
    retire_one(db, (adb_retired_t){.kind = ADB_RET_EXTENT,
                                   .file = idx,
                                   .seg = f->seg,
                                   .off = f->seg_off,
                                   .len = (f->valid_len + 4095) & ~4095ull,
                                   .gen = gen});
}

static void
retire_one(adb_db_t *db, adb_retired_t r) {
    adb_eng_t *e = db->eng;
    r.epoch = atomic_fetch_add(&g_epoch, 1);
    atomic_fetch_add(&e->ret_bytes, ret_charge(r.kind, r.p));
    pthread_mutex_lock(&e->ret_mu);
    if (e->ret_cnt == e->ret_cap) {
        size_t         ncap = e->ret_cap ? e->ret_cap * 2 : 1024;
        adb_retired_t *nr = adb_realloc(e->ret, ncap * sizeof *nr);
        if (!nr) {
            /* Cannot defer: wait until no reader is inside, then free now. */
            pthread_mutex_unlock(&e->ret_mu);
            while (min_active() <= r.epoch)
                sched_yield();
            pthread_mutex_lock(&e->ret_mu);
            free_retired(db, &r);
            pthread_mutex_unlock(&e->ret_mu);
            return;
        }
        e->ret = nr;
        e->ret_cap = ncap;
    }
    e->ret[e->ret_cnt++] = r;
    pthread_mutex_unlock(&e->ret_mu);
}

void
adb_eng_retire_many(adb_db_t *db, int kind, void *const *p, size_t n) {
    if (!n) return;
    adb_eng_t *e = db->eng;
    uint64_t   ep = atomic_fetch_add(&g_epoch, 1), charge = 0;
    for (size_t i = 0; i < n; i++)
        charge += ret_charge(kind, p[i]);
    pthread_mutex_lock(&e->ret_mu);
    if (e->ret_cnt + n > e->ret_cap) {
        size_t ncap = e->ret_cap ? e->ret_cap : 1024;
        while (ncap < e->ret_cnt + n)
            ncap *= 2;
        adb_retired_t *nr = adb_realloc(e->ret, ncap * sizeof *nr);
        if (!nr) {
            pthread_mutex_unlock(&e->ret_mu);
            for (size_t i = 0; i < n; i++)
                adb_eng_retire(db, kind, p[i], 0, 0, 0);
            return;
        }
        e->ret = nr;
        e->ret_cap = ncap;
    }
    atomic_fetch_add(&e->ret_bytes, charge);
    for (size_t i = 0; i < n; i++)
        e->ret[e->ret_cnt++] =
            (adb_retired_t){.epoch = ep, .kind = kind, .file = UINT32_MAX, .p = p[i]};
    pthread_mutex_unlock(&e->ret_mu);
}

size_t
adb_eng_reclaim(adb_db_t *db, bool all) {
    adb_eng_t *e = db->eng;
    uint64_t   m = all ? UINT64_MAX : min_active();
    size_t     freed = 0, w = 0;
    pthread_mutex_lock(&e->ret_mu);
    /* The oldest entry (near enough: retirements append in epoch order but
     * for races of a few) still held: nothing to free yet, no walk (stores
     * call this while a long reader holds memory). */
    size_t n = e->ret_cnt && e->ret[0].epoch >= m ? 0 : e->ret_cnt;
    for (size_t i = 0; i < n; i++) {
        if (e->ret[i].epoch < m) {
            free_retired(db, &e->ret[i]);
            freed++;
        } else {
            e->ret[w++] = e->ret[i];
        }
    }
    if (n) e->ret_cnt = w;
    /* The list's entries are charged to the write cache with the versions
     * they hold (adb_cacct_charge): give the room back once it is mostly
     * empty, so a flush's peak does not stay allocated. */
    if (e->ret_cap > 4096 && e->ret_cnt < e->ret_cap / 4) {
        size_t         ncap = ADB_MAX(e->ret_cap / 2, (size_t)4096);
        adb_retired_t *nr = adb_realloc(e->ret, ncap * sizeof *nr);
        if (nr) e->ret = nr, e->ret_cap = ncap;
    }
    punch_queued(db, all);
    if (all) { /* at close: no storage is made any more */
        adb_free(e->file_free);
        e->file_free = NULL;
        e->file_free_cnt = e->file_free_cap = 0;
    }
    pthread_mutex_unlock(&e->ret_mu);
    if (freed) {
        /* A store may be waiting for room (db_bank.c, room_wait). */
        pthread_mutex_lock(&e->svc_mu);
        pthread_cond_broadcast(&e->room_cv);
        pthread_mutex_unlock(&e->svc_mu);
    }
    return freed;
}
