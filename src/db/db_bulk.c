/* src/db/db_bulk.c - bulk loading of account files.
 *
 * The caller (the snapshot loader) streams each account file with
 * file_begin/append/end.  A file up to 256 MiB is collected in a buffer
 * from a reusable pool; a larger one is written through to disk as it comes
 * and mapped afterwards.  end() queues a SCAN job: a worker walks and
 * sanitizes the records (FORMAT.md 2.3), upserts each into the index keeping
 * the newest version (highest slot, then highest offset), and cuts the file
 * into HASH jobs of about 1 MiB so every worker can hash pieces of one large
 * file; a buffered file also gets a WRITE job that stores it with one
 * large write.  Each worker keeps its own lattice-hash sum and
 * totals over every record it hashed, and a list of the versions that lost
 * to a newer one; when loading ends the losers are read back and mixed out.
 *
 * Job states: QUEUED -> RUNNING -> DONE.  Invariants:
 *   1. A file's bytes (pool buffer or map) live until its last job is done
 *      (file->jobs == 0); then the buffer returns to the pool.
 *   2. pending == queued + running jobs; bulk_wait returns when it is 0.
 *   3. backlog == bytes of files begun whose jobs are not all done; the
 *      producer waits in file_begin while a new file would pass
 *      backlog_max (unless nothing else is in flight).
 *   4. Every record is hashed exactly once (HASH jobs tile [0, end of the
 *      walk) of each file), and a version is in a loser list exactly when
 *      the index held or received a newer one. */
#include "db/db_private.h"

#include "util/crc32c.h"

#include "util/io.h"
#include "util/point.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { JOB_SCAN = 1, JOB_HASH = 2, JOB_WRITE = 3, JOB_LOSERS = 4 };

#define BUF_MAX_SZ (1ull << ADB_DB_BUF_MAX_CLASS)

#define HASH_JOB_SZ (1u << 20)
#define HASH_BATCH  64

int
adb_db_fail(adb_db_t *db, int code, char const *fmt, ...) {
    pthread_mutex_lock(&db->mu);
    if (!db->err_code) {
        va_list ap;
        va_start(ap, fmt);
        adb_err_vset(&db->err, code, fmt, ap);
        va_end(ap);
        db->err_code = code;
    }
    code = db->err_code;
    pthread_mutex_unlock(&db->mu);
    return code;
}

char const *
adb_db_errmsg(adb_db_t const *db) {
    return db->err.msg;
}

char const *
adb_db_dir(adb_db_t const *db) {
    return db->dir;
}

uint32_t
adb_db_file_cnt(adb_db_t const *db) {
    return atomic_load(&((adb_db_t *)db)->file_cnt);
}

bool
adb_db_has_slot(adb_db_t const *db, uint64_t slot) {
    uint32_t n = adb_db_file_cnt(db);
    for (uint32_t i = 0; i < n; i++)
        if (adb_db_file(db, i)->slot == slot) return true;
    return false;
}

/* ---- workers ------------------------------------------------------------ */

static void
push_locked(adb_db_t *db, adb_db_job_t j) {
    if (db->q_cnt == db->q_cap) {
        size_t        ncap = db->q_cap ? db->q_cap * 2 : 256;
        adb_db_job_t *nq = adb_malloc(ncap * sizeof *nq);
        ADB_ASSERT(nq); /* tiny; an allocation failure here is not recoverable */
        for (size_t i = 0; i < db->q_cnt; i++)
            nq[i] = db->q[(db->q_head + i) % db->q_cap];
        adb_free(db->q);
        db->q = nq;
        db->q_cap = ncap;
        db->q_head = 0;
    }
    db->q[(db->q_head + db->q_cnt) % db->q_cap] = j;
    db->q_cnt++;
    db->pending++;
    pthread_cond_signal(&db->work_cv);
}

/* ---- buffer pool (under db->mu) ----------------------------------------- */

static int
buf_class(uint64_t sz) {
    int c = ADB_DB_BUF_MIN_CLASS;
    while (c < ADB_DB_BUF_MAX_CLASS && (1ull << c) < sz)
        c++;
    return c;
}

static uint8_t *
buf_get_locked(adb_db_t *db, int cls) {
    adb_db_buf_t *b = db->pool[cls - ADB_DB_BUF_MIN_CLASS];
    if (b) {
        db->pool[cls - ADB_DB_BUF_MIN_CLASS] = b->next;
        db->pool_sz -= 1ull << cls;
        return (uint8_t *)b;
    }
    return adb_aligned_alloc(4096, (size_t)1 << cls);
}

static void
buf_put_locked(adb_db_t *db, uint8_t *p, int cls) {
    if (db->pool_sz + (1ull << cls) > db->backlog_max) {
        adb_aligned_free(p);
        return;
    }
    adb_db_buf_t *b = (adb_db_buf_t *)p;
    b->next = db->pool[cls - ADB_DB_BUF_MIN_CLASS];
    db->pool[cls - ADB_DB_BUF_MIN_CLASS] = b;
    db->pool_sz += 1ull << cls;
}

void
adb_db_pool_free(adb_db_t *db) {
    for (int c = 0; c < ADB_DB_BUF_CLASSES; c++)
        while (db->pool[c]) {
            adb_db_buf_t *b = db->pool[c];
            db->pool[c] = b->next;
            adb_aligned_free(b);
        }
    db->pool_sz = 0;
}

static void
job_done(adb_db_t *db, adb_db_file_t *f) {
    bool last = atomic_fetch_sub(&f->jobs, 1) == 1;
    if (last && f->map && !f->in_buf) {
        adb_db_view_t v = {f->map, f->map_sz, f->map_heap};
        adb_db_unview(db, &v);
    }
    pthread_mutex_lock(&db->mu);
    if (last) {
        if (f->map && f->in_buf) buf_put_locked(db, f->map, f->buf_class);
        f->map = NULL;
        f->in_buf = false;
        db->backlog -= ADB_MIN(db->backlog, f->size);
        pthread_cond_broadcast(&db->room_cv);
    }
    if (--db->pending == 0) pthread_cond_broadcast(&db->idle_cv);
    pthread_mutex_unlock(&db->mu);
}

static int
add_loser(adb_db_worker_t *w, uint64_t slot, uint64_t val) {
    if (w->loser_cnt == w->loser_cap) {
        size_t          ncap = w->loser_cap ? w->loser_cap * 2 : 1024;
        adb_db_loser_t *nl = adb_realloc(w->losers, ncap * sizeof *nl);
        if (!nl) return ACCTDB_ERR_NOMEM;
        w->losers = nl;
        w->loser_cap = ncap;
    }
    w->losers[w->loser_cnt++] = (adb_db_loser_t){slot, val};
    return 0;
}

/* Notes the key of a record of a watched owner; true on failure (then
 * recorded as the db's error). */
static bool
note_owned(adb_db_worker_t *w, uint8_t const *key) {
    if (w->owned_cnt == w->owned_cap) {
        size_t           ncap = w->owned_cap ? w->owned_cap * 2 : 256;
        acctdb_pubkey_t *n = adb_realloc(w->owned, ncap * sizeof *n);
        if (!n) {
            adb_db_fail(w->db, ACCTDB_ERR_NOMEM, "out of memory noting vote and stake accounts");
            return true;
        }
        w->owned = n;
        w->owned_cap = ncap;
    }
    memcpy(w->owned[w->owned_cnt++].b, key, 32);
    return false;
}

static void
run_scan(adb_db_worker_t *w, adb_db_file_t *f) {
    adb_db_t *db = w->db;
    if (f->valid_len == 0 || f->written == 0) {
        if (f->written == 0)
            adb_db_fail(db, ACCTDB_ERR_CORRUPT, "the account file for slot %llu is empty",
                        (unsigned long long)f->slot);
        return;
    }
    if (!f->in_buf) {
        adb_db_view_t v;
        int           vrc = adb_db_view(db, f, f->written, &v);
        if (vrc) {
            adb_db_fail(db, vrc, "reading account file %llu.%u back: %s",
                        (unsigned long long)f->slot, f->idx, acctdb_strerror(vrc));
            return;
        }
        if (!v.heap) madvise(v.p, f->written, MADV_SEQUENTIAL); /* a hint: raw */
        f->map = v.p;
        f->map_sz = f->written;
        f->map_heap = v.heap;
    } else {
        atomic_fetch_add(&f->jobs, 1);
        pthread_mutex_lock(&db->mu);
        push_locked(db, (adb_db_job_t){JOB_WRITE, f->idx, 0, f->written});
        pthread_mutex_unlock(&db->mu);
    }

    f->crc = adb_crc32c(0, f->map, (size_t)f->written); /* the seal (db_meta.c) */
    adb_acctfile_iter_t it;
    adb_acct_rec_t      r;
    adb_acctfile_iter_init(&it, f->map, f->valid_len, f->written);
    uint64_t chunk_start = 0;
    enum { B = 32 };
    uint8_t const *keys[B];
    uint64_t       slots[B], vals[B], os[B], ov[B];
    uint8_t        res[B];
    size_t         n = 0;
    bool           more = true;
    while (more) {
        more = adb_acctfile_iter_next(&it, &r);
        if (more) {
            if (r.off >= (1ull << 34)) {
                adb_db_fail(db, ACCTDB_ERR_CORRUPT, "account file %llu: offset beyond 16 GiB",
                            (unsigned long long)f->slot);
                return;
            }
            for (uint32_t k = 0; k < db->watch_cnt; k++)
                if (!memcmp(r.owner, db->watch[k].b, 32) && note_owned(w, r.pubkey)) return;
            keys[n] = r.pubkey;
            slots[n] = f->slot;
            vals[n++] = adb_db_loc(f->idx, r.off, r.lamports == 0);
        }
        if (n == B || (!more && n)) {
            int rc = adb_index_upsert_newer_batch(db->ix, keys, slots, vals, n, res, os, ov);
            if (rc < 0) {
                adb_db_fail(db, rc, "index insert failed: %s", acctdb_strerror(rc));
                return;
            }
            for (size_t k = 0; k < n && !rc; k++) {
                if (res[k] == ADB_INDEX_REPLACED && !adb_db_loc_is_zero(ov[k]))
                    rc = add_loser(w, os[k], ov[k]);
                else if (res[k] == ADB_INDEX_KEPT && !adb_db_loc_is_zero(vals[k]))
                    rc = add_loser(w, slots[k], vals[k]);
            }
            if (rc) {
                adb_db_fail(db, rc, "out of memory recording superseded versions");
                return;
            }
            n = 0;
        }
        if (it.off - chunk_start >= HASH_JOB_SZ || (!more && it.off > chunk_start)) {
            /* HASH jobs also count records, so they run even without hashing. */
            atomic_fetch_add(&f->jobs, 1);
            pthread_mutex_lock(&db->mu);
            push_locked(db, (adb_db_job_t){JOB_HASH, f->idx, chunk_start, it.off});
            pthread_mutex_unlock(&db->mu);
            chunk_start = it.off;
        }
    }
    f->scan_end = it.off;
    if (it.err.code) {
        adb_db_fail(db, it.err.code, "account file %llu.%u (slot %llu): %s",
                    (unsigned long long)f->slot, f->idx, (unsigned long long)f->slot, it.err.msg);
        return;
    }
}

static void
flush_batch(adb_db_worker_t *w, acctdb_account_t *batch, size_t *n) {
    if (*n && w->db->hash_mode != ADB_DB_HASH_NONE)
        adb_lthash_add_accounts(&w->sum, batch, *n, (acctdb_lthash_formula_t)w->db->hash_mode);
    *n = 0;
}

/* Hashes and counts the records in [off, end) of an already-sanitized file. */
static void
run_hash(adb_db_worker_t *w, adb_db_file_t *f, uint64_t off, uint64_t end) {
    acctdb_account_t batch[HASH_BATCH];
    size_t           n = 0;
    adb_acct_rec_t   r;
    while (off < end && adb_acct_rec_at(f->map, f->valid_len, off, &r)) {
        w->records++;
        if (r.lamports) {
            w->nonzero++;
            w->lamports += r.lamports;
            w->data_len += r.data_len;
            adb_acct_rec_to_account(&r, &batch[n++]);
            if (n == HASH_BATCH) flush_batch(w, batch, &n);
        }
        off += adb_acct_rec_sz(r.data_len);
    }
    flush_batch(w, batch, &n);
}

/* Stores a buffered file with one large write from the buffer (through the
 * page cache, so superseded versions can be read back cheaply at the end). */
/* Stores a buffered file into its 4 KiB-aligned segment extent with one
 * O_DIRECT write from the aligned pool buffer (zero padded to 4 KiB; the
 * padding lands in the gap before the next extent).  Going around the page
 * cache matters: faulting in fresh page-cache pages cost more than
 * decompression and hashing together (5 GB took 16 s buffered, against
 * 1.7 GB/s direct, on the reference VM).  Where O_DIRECT is refused (e.g.
 * tmpfs) one buffered write instead. */
static void
run_write(adb_db_t *db, adb_db_file_t *f) {
    adb_db_seg_t *sg = &db->segs[f->seg];
    uint64_t      padded = (f->written + 4095) & ~4095ull;
    int           rc = -EINVAL;
    if (sg->dfd >= 0) {
        memset(f->map + f->written, 0, (size_t)(padded - f->written));
        rc = adb_io_pwrite_all(db->io, sg->dfd, f->map, (size_t)padded, f->seg_off);
    }
    if (rc == -EINVAL)
        rc = adb_io_pwrite_all(db->io, sg->fd, f->map, (size_t)f->written, f->seg_off);
    if (rc)
        adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc, "writing %s/accounts/seg-%06u: %s",
                    db->dir, f->seg, acctdb_strerror(rc));
}

/* Producer thread: the extent for a new storage of size bytes, opening a
 * new segment when the current one is full. */
void
adb_db_seg_map(adb_db_t *db, uint32_t k) {
    adb_db_seg_t *sg = &db->segs[k];
    if (sg->map && sg->tail <= sg->map_sz) return;
    if (sg->map) return; /* never remapped while readers may use it */
    uint64_t sz = ADB_MAX(ADB_DB_SEG_MAX_SZ, sg->tail);
    void    *m;
    if (adb_io_mmap(db->io, sg->fd, 0, (size_t)sz, &m)) return;
    sg->map = m;
    sg->map_sz = sz;
}

static int
place(adb_db_t *db, adb_db_file_t *f, uint64_t size) {
    /* A new database directory is empty: a segment that exists is an
     * error (O_EXCL).  The engine may find one a crash left behind after
     * the last root record; nothing references it, so it is truncated. */
    int           excl = db->eng ? O_TRUNC : O_EXCL;
    uint32_t      n = atomic_load(&db->seg_cnt);
    adb_db_seg_t *cur = n ? &db->segs[n - 1] : NULL;
    if (!cur || (cur->tail && cur->tail + size > db->seg_max_sz)) {
        if (n == ADB_DB_SEGS_MAX) return adb_db_fail(db, ACCTDB_ERR_FULL, "too many segments");
        char name[32];
        snprintf(name, sizeof name, "seg-%06u", n);
        int fd =
            adb_io_openat(db->io, db->accdirfd, name, O_RDWR | O_CREAT | excl | O_NOFOLLOW, 0644);
        if (fd < 0)
            return adb_db_fail(db, fd, "cannot create %s/accounts/%s: %s", db->dir, name,
                               acctdb_strerror(fd));
        int dfd = adb_io_openat(db->io, db->accdirfd, name, O_RDWR | O_DIRECT | O_NOFOLLOW, 0);
        db->segs[n] = (adb_db_seg_t){fd, dfd < 0 ? -1 : dfd, 0, NULL, 0};
        db->seg_dir_dirty = true; /* its entry is durable after an fsync of accounts/ */
        atomic_store(&db->seg_cnt, n + 1);
        ADB_POINT("segment.created");
        cur = &db->segs[n];
        n++;
    }
    f->seg = n - 1;
    f->seg_off = cur->tail;
    cur->tail += (size + 4095) & ~4095ull;
    adb_db_seg_map(db, n - 1);
    return 0;
}

/* Reads storage bytes [off, off + len) into scratch (4 KiB aligned reads,
 * O_DIRECT when the segment allows it); *p_out points at byte off. */
static int
read_window(adb_db_t *db, adb_db_file_t const *f, uint64_t off, uint64_t len, uint8_t *scratch,
            size_t scratch_sz, uint8_t **p_out) {
    adb_db_seg_t const *sg = &db->segs[f->seg];
    uint64_t            abs = f->seg_off + off;
    uint64_t            a0 = abs & ~4095ull, a1 = (abs + len + 4095) & ~4095ull;
    if (a1 - a0 > scratch_sz) return adb_db_fail(db, ACCTDB_ERR_FATAL, "read window too large");
    int      fd = sg->dfd >= 0 ? sg->dfd : sg->fd;
    uint64_t got = 0, need = abs + len - a0;
    while (got < need) {
        ssize_t r = adb_io_pread(db->io, fd, scratch + got, (size_t)(a1 - a0 - got), a0 + got);
        if (r == -EINVAL && fd == sg->dfd) {
            fd = sg->fd; /* O_DIRECT refused for reads: buffered */
            continue;
        }
        if (r <= 0)
            return adb_db_fail(db, r < 0 ? (int)r : ACCTDB_ERR_CORRUPT,
                               "reading back the storage of slot %llu in %s: %s",
                               (unsigned long long)f->slot, db->dir,
                               acctdb_strerror(r < 0 ? (int)r : ACCTDB_ERR_CORRUPT));
        got += (uint64_t)r;
    }
    *p_out = scratch + (abs - a0);
    return 0;
}

/* Accumulates the hashes of losers a[0..n) into sum (added; the totals
 * subtract the sum). */
static void
sub_losers(adb_db_t *db, acctdb_lthash_t *sum, acctdb_account_t const *a, size_t n) {
    if (db->hash_mode != ADB_DB_HASH_NONE)
        adb_lthash_add_accounts(sum, a, n, (acctdb_lthash_formula_t)db->hash_mode);
}

/* LOSERS job: reads back losers[lo, hi) (sorted by location) in windows
 * (O_DIRECT into an aligned scratch, so no page cache is faulted in): a
 * window starts at a loser and extends over the following ones while they
 * are close; its losers are hashed in one batch into the worker's lose_*
 * accumulators. */
static void
run_losers(adb_db_worker_t *w, size_t lo, size_t hi) {
    adb_db_t       *db = w->db;
    adb_db_loser_t *all = db->losers;
    enum { B = 64 };
    acctdb_account_t batch[B];
    size_t           bn = 0;
    size_t const     scratch_sz = 16u << 20;
    if (!w->scratch && !(w->scratch = adb_aligned_alloc(4096, scratch_sz))) {
        adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
        return;
    }
    for (size_t i = lo; i < hi;) {
        uint32_t       fi = adb_db_loc_file(all[i].val);
        adb_db_file_t *f = adb_db_file(db, fi);
        uint64_t       start = adb_db_loc_off(all[i].val), end = start + (64u << 10);
        size_t         k = i + 1;
        while (k < hi && adb_db_loc_file(all[k].val) == fi) {
            uint64_t o = adb_db_loc_off(all[k].val);
            if (o + (64u << 10) - start > (8u << 20) ||
                o - adb_db_loc_off(all[k - 1].val) > (256u << 10))
                break;
            end = o + (64u << 10);
            k++;
        }
        end = ADB_MIN(end, f->valid_len);
        uint8_t *p;
        if (read_window(db, f, start, end - start, w->scratch, scratch_sz, &p)) return;
        for (; i < k; i++) {
            uint64_t       off = adb_db_loc_off(all[i].val);
            adb_acct_rec_t r;
            if (!adb_acct_rec_at(p, end - start, off - start, &r)) {
                /* A record longer than the window: read it alone. */
                if (bn) sub_losers(db, &w->lose_sum, batch, bn);
                bn = 0;
                uint64_t rend =
                    ADB_MIN(off + ADB_ACCT_HDR_SZ + ADB_ACCT_MAX_DATA_SZ + 8, f->valid_len);
                if (read_window(db, f, off, rend - off, w->scratch, scratch_sz, &p)) return;
                start = off;
                end = rend;
                if (!adb_acct_rec_at(p, end - start, 0, &r)) {
                    adb_db_fail(db, ACCTDB_ERR_CORRUPT, "a superseded record vanished");
                    return;
                }
            }
            w->lose_cnt++;
            w->lose_lamports += r.lamports;
            w->lose_data_len += r.data_len;
            adb_acct_rec_to_account(&r, &batch[bn++]);
            if (bn == B) {
                sub_losers(db, &w->lose_sum, batch, bn);
                bn = 0;
            }
        }
        if (bn) sub_losers(db, &w->lose_sum, batch, bn);
        bn = 0;
    }
}

static void *
worker_main(void *arg) {
    adb_db_worker_t *w = arg;
    adb_db_t        *db = w->db;
    for (;;) {
        pthread_mutex_lock(&db->mu);
        while (db->q_cnt == 0 && !db->stopping)
            pthread_cond_wait(&db->work_cv, &db->mu);
        if (db->q_cnt == 0) {
            pthread_mutex_unlock(&db->mu);
            break;
        }
        /* HASH jobs first: they release memory; SCAN jobs make more. */
        adb_db_job_t j = db->q[db->q_head];
        db->q_head = (db->q_head + 1) % db->q_cap;
        db->q_cnt--;
        bool failed = db->err_code != 0;
        pthread_mutex_unlock(&db->mu);

        if (j.kind == JOB_LOSERS) {
            if (!failed) run_losers(w, (size_t)j.off, (size_t)j.end);
            pthread_mutex_lock(&db->mu);
            if (--db->pending == 0) pthread_cond_broadcast(&db->idle_cv);
            pthread_mutex_unlock(&db->mu);
            continue;
        }
        adb_db_file_t *f = adb_db_file(db, j.file);
        if (!failed) {
            if (j.kind == JOB_SCAN)
                run_scan(w, f);
            else if (j.kind == JOB_WRITE)
                run_write(db, f);
            else
                run_hash(w, f, j.off, j.end);
        }
        job_done(db, f);
    }
    return NULL;
}

/* ---- creation ----------------------------------------------------------- */

int
adb_db_alloc(adb_db_t **db_out, char const *dir, uint64_t expected, uint32_t bin_bits,
             adb_io_t const *io, adb_err_t *err) {
    *db_out = NULL;
    adb_db_t *db = adb_calloc(1, sizeof *db);
    if (!db) return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    db->io = io ? io : adb_io();
    db->dirfd = db->accdirfd = -1;
    db->hash_mode = ADB_DB_HASH_CURRENT;
    db->seg_max_sz = ADB_DB_SEG_MAX_SZ;
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->work_cv, NULL);
    pthread_cond_init(&db->idle_cv, NULL);
    pthread_cond_init(&db->room_cv, NULL);
    if (snprintf(db->dir, sizeof db->dir, "%s", dir) >= (int)sizeof db->dir) {
        adb_db_close(db);
        return adb_err_set(err, ACCTDB_ERR_INVALID, "directory path too long");
    }
    db->chunks = adb_calloc(ADB_DB_FILE_CHUNKS_MAX, sizeof *db->chunks);
    db->segs = adb_calloc(ADB_DB_SEGS_MAX, sizeof *db->segs);
    adb_index_cfg_t icfg = {.bin_bits = bin_bits ? bin_bits : 13, .expected_keys = expected};
    int             rc = db->chunks && db->segs ? adb_index_open(&db->ix, &icfg) : ACCTDB_ERR_NOMEM;
    if (rc) {
        adb_db_close(db);
        return adb_err_set(err, rc, "out of memory for the index");
    }
    *db_out = db;
    return 0;
}

/* Does DIR/name exist (as anything the open can reach: a file, a directory,
 * a dangling or looping symlink)?  Only "no such entry" says no. */
static bool
exists_at(adb_db_t *db, char const *name) {
    int fd = adb_io_openat(db->io, db->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
    if (fd >= 0) adb_io_close(db->io, fd);
    return fd != -ENOENT;
}

int
adb_db_bulk_create(adb_db_t **db_out, adb_db_cfg_t const *cfg, adb_err_t *err) {
    *db_out = NULL;
    if (!cfg || !cfg->dir || !cfg->dir[0])
        return adb_err_set(err, ACCTDB_ERR_INVALID, "no target directory given");
    adb_db_t *db;
    ADB_TRY(adb_db_alloc(&db, cfg->dir, cfg->expected_accounts, 0, cfg->io, err));
    int rc = adb_io_mkdirat(db->io, AT_FDCWD, cfg->dir, 0755);
    if (rc && rc != -EEXIST) {
        rc = adb_err_set(err, rc, "cannot create %s: %s", cfg->dir, acctdb_strerror(rc));
        goto fail;
    }
    db->dirfd = adb_io_openat(db->io, AT_FDCWD, cfg->dir, O_RDONLY | O_DIRECTORY, 0);
    if (db->dirfd < 0) {
        rc =
            adb_err_set(err, db->dirfd, "cannot open %s: %s", cfg->dir, acctdb_strerror(db->dirfd));
        goto fail;
    }
    if (adb_db_is_database(db->dirfd) || exists_at(db, "accounts")) {
        rc = adb_err_set(err, ACCTDB_ERR_INVALID,
                         "%s already holds a database or a load; use an empty directory", cfg->dir);
        goto fail;
    }
    rc = adb_io_mkdirat(db->io, db->dirfd, "accounts", 0755);
    if (rc) {
        rc = adb_err_set(err, rc, "cannot create %s/accounts: %s", cfg->dir, acctdb_strerror(rc));
        goto fail;
    }
    db->accdirfd = adb_io_openat(db->io, db->dirfd, "accounts", O_RDONLY | O_DIRECTORY, 0);
    if (db->accdirfd < 0) {
        rc = adb_err_set(err, db->accdirfd, "cannot open %s/accounts: %s", cfg->dir,
                         acctdb_strerror(db->accdirfd));
        goto fail;
    }

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    db->nworkers = cfg->threads ? cfg->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    if (db->nworkers > 64) db->nworkers = 64;
    db->backlog_max = cfg->backlog_max_sz ? cfg->backlog_max_sz : (512ull << 20);
    db->workers = adb_calloc(db->nworkers, sizeof *db->workers);
    if (!db->workers) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < db->nworkers; i++) {
        db->workers[i].db = db;
        adb_lthash_zero(&db->workers[i].sum);
        if (pthread_create(&db->workers[i].thr, NULL, worker_main, &db->workers[i])) {
            rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "cannot start worker threads");
            goto fail;
        }
        db->workers[i].started = true;
    }
    *db_out = db;
    return 0;
fail:
    adb_db_close(db);
    return rc;
}

void
adb_db_bulk_set_hash(adb_db_t *db, adb_db_hash_mode_t mode) {
    db->hash_mode = mode;
}

int
adb_db_bulk_file_begin(adb_db_t *db, uint64_t slot, uint64_t size, uint32_t *file_out) {
    *file_out = UINT32_MAX;
    if (db->err_code) return db->err_code;
    if (size > ADB_ACCTFILE_MAX_SZ)
        return adb_db_fail(db, ACCTDB_ERR_CORRUPT,
                           "account file for slot %llu has %llu bytes (limit 16 GiB)",
                           (unsigned long long)slot, (unsigned long long)size);
    if (adb_db_has_slot(db, slot))
        return adb_db_fail(db, ACCTDB_ERR_CORRUPT, "a second account file for slot %llu",
                           (unsigned long long)slot);
    uint32_t idx = atomic_load(&db->file_cnt);
    if (idx / ADB_DB_FILE_CHUNK >= ADB_DB_FILE_CHUNKS_MAX)
        return adb_db_fail(db, ACCTDB_ERR_FULL, "too many account files");
    adb_db_file_t **chunk = &db->chunks[idx / ADB_DB_FILE_CHUNK];
    if (!*chunk && !(*chunk = adb_calloc(ADB_DB_FILE_CHUNK, sizeof(adb_db_file_t))))
        return adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
    adb_db_file_t *f = &(*chunk)[idx % ADB_DB_FILE_CHUNK];
    memset(f, 0, sizeof *f);
    f->slot = slot;
    f->size = size;
    f->idx = idx;
    int prc = place(db, f, size);
    if (prc) return prc;
    /* Wait for room, then take a buffer (or write large files through). */
    pthread_mutex_lock(&db->mu);
    while (db->backlog && db->backlog + size > db->backlog_max && !db->err_code)
        pthread_cond_wait(&db->room_cv, &db->mu);
    db->backlog += size;
    if (size <= BUF_MAX_SZ && !db->err_code) {
        f->buf_class = buf_class(size + 4096);
        f->map = buf_get_locked(db, f->buf_class);
        f->map_sz = 1ull << f->buf_class;
        f->in_buf = f->map != NULL;
    }
    int rc = db->err_code;
    pthread_mutex_unlock(&db->mu);
    atomic_store(&db->file_cnt, idx + 1);
    *file_out = idx;
    if (rc) return rc;
    if (size <= BUF_MAX_SZ && !f->in_buf) return adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
    return 0;
}

int
adb_db_bulk_file_append(adb_db_t *db, uint32_t file, void const *p, size_t sz) {
    if (db->err_code) return db->err_code;
    adb_db_file_t *f = adb_db_file(db, file);
    if (sz > f->size - f->written)
        return adb_db_fail(db, ACCTDB_ERR_CORRUPT, "account file %llu: more data than declared",
                           (unsigned long long)f->slot);
    if (f->in_buf) {
        memcpy(f->map + f->written, p, sz);
        f->written += sz;
        return 0;
    }
    /* A large storage is written through to its extent as it comes. */
    int rc = adb_io_pwrite_all(db->io, adb_db_file_fd(db, f), p, sz, f->seg_off + f->written);
    if (rc)
        return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc,
                           "writing %s/accounts/seg-%06u: %s", db->dir, f->seg,
                           acctdb_strerror(rc));
    f->written += sz;
    return 0;
}

int
adb_db_bulk_file_end(adb_db_t *db, uint32_t file, uint64_t valid_len) {
    if (db->err_code) return db->err_code;
    adb_db_file_t *f = adb_db_file(db, file);
    if (f->written != f->size)
        return adb_db_fail(db, ACCTDB_ERR_CORRUPT, "account file %llu: %llu of %llu bytes",
                           (unsigned long long)f->slot, (unsigned long long)f->written,
                           (unsigned long long)f->size);
    f->valid_len = ADB_MIN(valid_len, f->written);
    atomic_store(&f->jobs, 1);
    pthread_mutex_lock(&db->mu);
    push_locked(db, (adb_db_job_t){JOB_SCAN, file, 0, 0});
    int rc = db->err_code;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int
adb_db_bulk_reserve(adb_db_t *db, uint64_t accounts) {
    int rc = adb_index_reserve(db->ix, accounts);
    return rc ? adb_db_fail(db, rc, "out of memory sizing the index") : 0;
}

int
adb_db_bulk_wait(adb_db_t *db) {
    pthread_mutex_lock(&db->mu);
    while (db->pending)
        pthread_cond_wait(&db->idle_cv, &db->mu);
    int rc = db->err_code;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

static int
count_live(void *ctx, uint8_t const key[32], uint64_t slot, uint64_t val) {
    (void)key, (void)slot;
    *(uint64_t *)ctx += !adb_db_loc_is_zero(val);
    return 0;
}

static int
cmp_loser(void const *a, void const *b) {
    adb_db_loser_t const *x = a, *y = b;
    return x->val < y->val ? -1 : x->val > y->val;
}

int
adb_db_bulk_totals(adb_db_t *db, bool want_sums, adb_db_totals_t *out) {
    memset(out, 0, sizeof *out);
    ADB_TRY(adb_db_bulk_wait(db));
    out->formula = db->hash_mode;
    adb_lthash_zero(&out->lthash);
    uint64_t nonzero = 0;
    for (unsigned i = 0; i < db->nworkers; i++) {
        adb_db_worker_t *w = &db->workers[i];
        adb_lthash_add(&out->lthash, &w->sum);
        out->records += w->records;
        nonzero += w->nonzero;
        out->capitalization += w->lamports;
        out->data_len += w->data_len;
    }
    /* Mix out every superseded non-zero version.  Sorting by location reads
     * the files in order. */
    size_t nl = 0;
    for (unsigned i = 0; i < db->nworkers; i++)
        nl += db->workers[i].loser_cnt;
    adb_db_loser_t *all = adb_malloc((nl ? nl : 1) * sizeof *all);
    if (!all) return adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
    nl = 0;
    for (unsigned i = 0; i < db->nworkers; i++) {
        if (db->workers[i].loser_cnt)
            memcpy(all + nl, db->workers[i].losers, db->workers[i].loser_cnt * sizeof *all);
        nl += db->workers[i].loser_cnt;
    }
    if (!want_sums) {
        /* Count the live set from the index instead of reading every
         * superseded version back for its lamports. */
        adb_free(all);
        uint64_t live = 0;
        for (uint32_t b = 0; b < adb_index_bin_cnt(db->ix); b++)
            adb_index_bin_visit(db->ix, b, count_live, &live);
        out->dup_cnt = nl;
        out->live_cnt = live;
        out->capitalization = out->data_len = 0;
        return 0;
    }
    out->has_sums = true;
    qsort(all, nl, sizeof *all, cmp_loser);
    /* Losers sorted by location are read back by the workers, a run of
     * storages per job, and mixed out of the totals. */
    db->losers = all;
    int rc = 0;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < nl;) {
        size_t k = i + 1;
        while (k < nl &&
               (k - i < 4096 || adb_db_loc_file(all[k].val) == adb_db_loc_file(all[k - 1].val)))
            k++;
        push_locked(db, (adb_db_job_t){JOB_LOSERS, 0, i, k});
        i = k;
    }
    pthread_mutex_unlock(&db->mu);
    rc = adb_db_bulk_wait(db);
    db->losers = NULL;
    for (unsigned i = 0; i < db->nworkers; i++) {
        adb_db_worker_t *w = &db->workers[i];
        adb_lthash_sub(&out->lthash, &w->lose_sum);
        nonzero -= w->lose_cnt;
        out->capitalization -= w->lose_lamports;
        out->data_len -= w->lose_data_len;
        /* Reset, so that totals can be taken again after more files. */
        adb_lthash_zero(&w->lose_sum);
        w->lose_cnt = w->lose_lamports = w->lose_data_len = 0;
    }
    adb_free(all);
    out->dup_cnt = nl;
    out->live_cnt = nonzero;
    return rc;
}

/* ---- storages written by the engine (flush, shrink) ------------------------
 * Called with the service lock held (one writer of the file table and the
 * segment tails).  A new entry is filled before file_cnt publishes it. */
int
adb_db_storage_new(adb_db_t *db, uint64_t slot, uint64_t size, uint32_t *idx_out) {
    if (size > ADB_ACCTFILE_MAX_SZ || size == 0)
        return adb_err_set(&db->err, ACCTDB_ERR_INVALID, "storage of %llu bytes",
                           (unsigned long long)size);
    /* The entry of a replaced storage no reader can reach (db_epoch.c), or
     * a new one: the table does not grow with every storage ever written. */
    uint32_t idx;
    bool     reuse = adb_eng_file_take(db, &idx);
    if (!reuse) {
        idx = atomic_load(&db->file_cnt);
        if (idx / ADB_DB_FILE_CHUNK >= ADB_DB_FILE_CHUNKS_MAX)
            return adb_err_set(&db->err, ACCTDB_ERR_FULL, "too many account files");
        adb_db_file_t **chunk = &db->chunks[idx / ADB_DB_FILE_CHUNK];
        if (!*chunk && !(*chunk = adb_calloc(ADB_DB_FILE_CHUNK, sizeof(adb_db_file_t))))
            return ACCTDB_ERR_NOMEM;
    }
    adb_db_file_t *f = adb_db_file(db, idx);
    uint32_t       gen = f->gen + reuse;
    memset(f, 0, sizeof *f);
    f->gen = gen;
    /* A reused entry is visible to loops over the table: it reads as
     * replaced until its bytes are written. */
    atomic_store(&f->replaced, reuse);
    f->slot = slot;
    f->size = size;
    f->idx = idx;
    int rc = place(db, f, size);
    if (rc) return rc;
    *idx_out = idx;
    return 0;
}

/* Writes the storage's bytes (exactly its size) with one large write:
 * O_DIRECT from a 4 KiB aligned buffer whose size rounds up to 4 KiB when
 * direct and the segment allows it, else buffered.  Publishes the entry. */
int
adb_db_storage_write(adb_db_t *db, uint32_t idx, void const *p, uint64_t sz, bool direct) {
    adb_db_file_t *f = &db->chunks[idx / ADB_DB_FILE_CHUNK][idx % ADB_DB_FILE_CHUNK];
    adb_db_seg_t  *sg = &db->segs[f->seg];
    int            rc = -EINVAL;
    if (sz != f->size) return ACCTDB_ERR_INVALID;
    if (direct && sg->dfd >= 0 && !((uintptr_t)p & 4095))
        rc = adb_io_pwrite_all(db->io, sg->dfd, p, (size_t)((sz + 4095) & ~4095ull), f->seg_off);
    if (rc == -EINVAL) rc = adb_io_pwrite_all(db->io, sg->fd, p, (size_t)sz, f->seg_off);
    if (rc) return rc == -ENOSPC ? ACCTDB_ERR_FULL : rc;
    f->written = sz;
    f->valid_len = sz;
    f->crc = adb_crc32c(0, p, (size_t)sz);
    f->scan_end = sz; /* records end to end */
    db->ix_since_bytes += sz;
    atomic_store(&f->replaced, false);
    if (idx >= atomic_load(&db->file_cnt)) atomic_store(&db->file_cnt, idx + 1);
    return 0;
}

/* ---- watched owners ------------------------------------------------------------ */

void
adb_db_bulk_watch(adb_db_t *db, acctdb_pubkey_t const *owners, size_t n) {
    db->watch_cnt = 0;
    for (size_t i = 0; i < n && i < ADB_ARRAY_CNT(db->watch); i++)
        db->watch[db->watch_cnt++] = owners[i];
}

static int
cmp_key(void const *a, void const *b) {
    return memcmp(a, b, 32);
}

int
adb_db_owned_each(adb_db_t *db, acctdb_pubkey_t const                   *owner,
                  int (*fn)(void *ctx, acctdb_account_t const *a), void *ctx) {
    ADB_TRY(adb_db_bulk_wait(db));
    size_t n = 0;
    for (unsigned i = 0; i < db->nworkers; i++)
        n += db->workers[i].owned_cnt;
    acctdb_pubkey_t *all = adb_malloc((n ? n : 1) * sizeof *all);
    if (!all) return ACCTDB_ERR_NOMEM;
    size_t k = 0;
    for (unsigned i = 0; i < db->nworkers; i++) {
        memcpy(all + k, db->workers[i].owned, db->workers[i].owned_cnt * sizeof *all);
        k += db->workers[i].owned_cnt;
    }
    qsort(all, n, sizeof *all, cmp_key);
    uint8_t *buf = NULL;
    size_t   cap = 0;
    int      rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i && !memcmp(all[i].b, all[i - 1].b, 32)) continue;
        adb_db_acct_t a;
        int           r = adb_db_get(db, all[i].b, &a, &buf, &cap);
        if (r == ACCTDB_ERR_NOT_FOUND) continue;
        if (r) {
            rc = r;
            break;
        }
        if (a.a.lamports && !memcmp(a.a.owner.b, owner->b, 32)) rc = fn(ctx, &a.a);
    }
    adb_free(buf);
    adb_free(all);
    return rc;
}
