/* src/db/db_eng.c - the engine's life cycle: configuration, open under the
 * directory lock, the service threads, statistics, close.  The
 * configuration comes filled in (src/api reads, parses and defaults it).
 *
 * Service threads (cfg.background): one per service, each looping
 *
 *   IDLE (waits svc_cv, woken by root or the interval)
 *     -> PASS (takes smu: one pass of any service at a time; runs it)
 *     -> RECLAIM (frees retired objects no reader can still see)
 *     -> IDLE ... until svc_stop.
 *
 * Without cfg.background the same pass runs when the caller asks
 * (adb_eng_service_step), which is how tests drive them deterministically.
 *
 * Invariants:
 *   1. DIR/LOCK is held (flock, exclusive) from open to close: one opener.
 *   2. smu serializes service passes and snapshot writing, so storages and
 *      storage versions in the index change only under smu.
 *   3. A failed durable write sets fatal: every later store, freeze, root
 *      and flush is refused until the database is reopened. */
#include "db/db_private.h"

#include "db/db_rcache.h"
#include "hash/blake3.h"
#include "index/disk.h"
#include "index/owner.h"
#include "util/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static _Thread_local adb_err_t t_err;

adb_err_t *
adb_eng_err(void) {
    return &t_err;
}

/* ---- open ------------------------------------------------------------------ */

static void
rec_cb(void *ctx, adb_acct_rec_t const *r) {
    adb_eng_t      *e = ctx;
    acctdb_pubkey_t k, o;
    memcpy(k.b, r->pubkey, 32);
    if (r->lamports == 0) {
        adb_eng_cand_add(e, &k);
        return;
    }
    if (e->owners && adb_eng_owner_tracked(e, r->owner)) {
        memcpy(o.b, r->owner, 32);
        adb_owner_add(e->owners, &o, &k);
    }
    adb_eng_token_note(e, r->owner, r->pubkey, r->data, r->data_len);
}

bool
adb_eng_owner_tracked(adb_eng_t const *e, uint8_t const owner[32]) {
    if (e->cfg.owner_index) return true;
    for (uint32_t i = 0; i < e->watch_cnt; i++)
        if (!memcmp(e->watch[i].b, owner, 32)) return true;
    return false;
}

uint32_t
adb_eng_hist(adb_db_t *db, acctdb_bank_info_t *out) {
    adb_eng_t *e = db->eng;
    pthread_rwlock_rdlock(&e->blk);
    uint32_t n = adb_eng_hist_upto(e, e->root, out);
    pthread_rwlock_unlock(&e->blk);
    return n;
}

static void *svc_main(void *arg);

static void
eng_free(adb_eng_t *e) {
    if (!e) return;
    adb_owner_close(e->owners);
    adb_owner_close(e->tokens);
    adb_owner_close(e->mints);
    adb_rcache_close(e->rcache);
    adb_free(e->banks);
    adb_free(e->hist);
    adb_free(e->ret);
    adb_free(e->punch);
    adb_free(e->parked);
    adb_free(e->cand);
    pthread_mutex_destroy(&e->wmu);
    pthread_mutex_destroy(&e->smu);
    pthread_mutex_destroy(&e->snap_mu);
    pthread_rwlock_destroy(&e->blk);
    pthread_mutex_destroy(&e->ret_mu);
    pthread_mutex_destroy(&e->cand_mu);
    pthread_mutex_destroy(&e->svc_mu);
    pthread_cond_destroy(&e->svc_cv);
    pthread_cond_destroy(&e->room_cv);
    adb_eng_ext_unref(e->root_ext);
    adb_eng_ext_unref(e->durable_ext);
    adb_io_close(e->io, e->lockfd); /* -1 is fine */
    adb_free(e);
}

int
adb_eng_lock_dir(adb_io_t const *io, char const *dir, int *fd_out, adb_err_t *err) {
    *fd_out = -1;
    int fd = adb_io_openat(io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return adb_err_set(err, fd == -ENOENT ? ACCTDB_ERR_NOT_FOUND : fd, "cannot open %s: %s",
                           dir, acctdb_strerror(fd));
    /* flock is not in the I/O table: a lock is process state, not a file
     * operation a crash or an I/O error could make durable or not. */
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int rc = errno == EWOULDBLOCK ? ACCTDB_ERR_BUSY : -errno;
        adb_io_close(io, fd);
        return adb_err_set(err, rc, "%s: database in use (another process or handle has it open)",
                           dir);
    }
    *fd_out = fd;
    return 0;
}

int
adb_eng_open(adb_db_t **db_out, char const *dir, int lockfd, acctdb_db_config_t const *cfg,
             acctdb_pubkey_t const *watch, size_t watch_cnt, adb_io_t const *io, adb_err_t *err) {
    *db_out = NULL;
    if (!io) io = adb_io();
    adb_eng_t *e = adb_calloc(1, sizeof *e);
    if (!e) {
        adb_io_close(io, lockfd);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    e->io = io;
    e->lockfd = lockfd; /* ours from here: eng_free closes it */
    pthread_mutex_init(&e->wmu, NULL);
    pthread_mutex_init(&e->smu, NULL);
    pthread_mutex_init(&e->snap_mu, NULL);
    /* Writer-preferring: readers take blk for a moment per call, and with
     * glibc's default (reader preference) a root or a flush could wait
     * behind a steady stream of them indefinitely. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->blk, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&e->ret_mu, NULL);
    pthread_mutex_init(&e->cand_mu, NULL);
    pthread_mutex_init(&e->svc_mu, NULL);
    pthread_cond_init(&e->svc_cv, NULL);
    pthread_cond_init(&e->room_cv, NULL);
    if (cfg)
        e->cfg = *cfg;
    else
        acctdb_db_config_default(&e->cfg);
    if (!e->cfg.index_bins || (e->cfg.index_bins & (e->cfg.index_bins - 1))) {
        eng_free(e);
        return adb_err_set(err, ACCTDB_ERR_INVALID, "index_bins must be a power of two");
    }

    /* The directory lock: one opener (process or handle) at a time.  It is
     * a flock on the directory itself, so opening never creates a file (a
     * command run on a directory that is not a database leaves it as it
     * was) and a creation can hold it from before the first byte. */
    if (lockfd < 0) {
        int rc = adb_eng_lock_dir(io, dir, &e->lockfd, err);
        if (rc) {
            eng_free(e);
            return rc;
        }
    }

    for (size_t i = 0; i < watch_cnt && i < ADB_ENG_WATCH_MAX; i++)
        e->watch[e->watch_cnt++] = watch[i];
    if ((e->cfg.owner_index || e->watch_cnt) && adb_owner_open(&e->owners)) {
        eng_free(e);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    if (e->cfg.owner_index && (adb_owner_open(&e->tokens) || adb_owner_open(&e->mints))) {
        eng_free(e);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    uint32_t bits = 0;
    while ((1u << bits) < e->cfg.index_bins)
        bits++;
    adb_db_meta_t meta;
    adb_db_t     *db;
    int           rc = adb_db_open_dir(&db, dir, &meta, rec_cb, e, bits,
                                       ADB_DB_OPEN_RECLAIM | ADB_DB_OPEN_NO_SCAN, io, err);
    if (rc) {
        eng_free(e);
        return rc;
    }
    /* The index: loaded from the index file the last clean close wrote, or
     * rebuilt by scanning every storage (db_ixfile.c says what a load does
     * not check that the scan does: the storages' seals).  With a disk
     * tier, the file's keys are the tier the close stamped, reused as it
     * is when its checks pass. */
    uint64_t t0 = adb_now_ns();
    if (e->cfg.index_disk || e->cfg.index_ram_bytes) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        db->ix_disk = true;
        db->ix_ram_bytes = e->cfg.index_ram_bytes;
        db->ix_threads = e->cfg.threads ? e->cfg.threads : (unsigned)(cpus > 0 ? cpus : 1);
        rc = adb_db_index_make(db, &meta);
        if (rc)
            rc = adb_err_set(err, rc, "%s: the index's disk tier (%s/index.d): %s", dir, dir,
                             acctdb_strerror(rc));
    }
    if (!rc) rc = adb_ixfile_load(db, e, &meta, db->ix_reason, sizeof db->ix_reason);
    if (rc < 0) {
        rc = adb_err_set(err, rc, "%s: loading the index: %s", dir, acctdb_strerror(rc));
    } else if (rc == 0 && db->ix_replay_cnt) {
        /* After a kill: the storages committed since the base, checked and
         * indexed as a scan would (a damaged one fails the open as the
         * scan would fail it). */
        rc = adb_db_index_scan_some(db, &meta, e->cfg.threads, db->ix_replay, db->ix_replay_cnt,
                                    err);
    } else if (rc > 0) {
        db->ix_rebuilt = true;
        rc = adb_db_index_scan(db, &meta, e->cfg.threads, err);
    }
    db->ix_open_ns = adb_now_ns() - t0;
    adb_free(db->ix_replay);
    db->ix_replay = NULL;
    if (rc) {
        adb_db_meta_fini(&meta);
        adb_free(db->orphans);
        db->orphans = NULL;
        adb_db_close(db);
        eng_free(e);
        return rc;
    }
    /* Extents only the older commit record names: punched once the next
     * commit overwrites it (db_epoch.c). */
    e->punch = db->orphans;
    e->punch_cnt = e->punch_cap = db->orphan_cnt;
    for (size_t i = 0; i < db->orphan_cnt; i++)
        e->punch_bytes += db->orphans[i].len;
    db->orphans = NULL;
    db->orphan_cnt = 0;
    db->rec_fn = NULL;
    db->eng = e;
    static _Atomic uint64_t ids;
    e->id = atomic_fetch_add(&ids, 1) + 1;
    e->root = meta.slot;
    e->root_info = meta.root;
    e->durable_info = meta.root;
    atomic_store(&e->durable_root, meta.slot);
    atomic_store(&e->durable_bh, meta.root.block_height);
    e->root_ext = adb_eng_ext_new(meta.ext, meta.ext_sz);
    e->durable_ext = adb_eng_ext_ref(e->root_ext);
    e->origin_has_ck = meta.origin_has_ck;
    memcpy(e->origin_ck, meta.origin_ck, sizeof e->origin_ck);
    e->last_full_slot = meta.last_full_slot;
    e->origin_slot = meta.origin_slot;
    e->base_slot = meta.base_slot;
    e->load_totals = meta.totals;
    e->hist = adb_calloc(ADB_HIST_CAP, sizeof *e->hist);
    if (!e->hist) rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    if (!e->root_ext) rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < meta.hist_cnt; i++)
        adb_eng_hist_push(e, &meta.hist[i]);
    /* acctdb's own per-account state, as the commit names it. */
    if (!rc) rc = adb_xs_open(db, &meta.xs, err);
    if (!rc && e->cfg.chilly_cache_sz && adb_chot_open(db, e->cfg.chilly_cache_sz))
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    if (!rc && db->chot && (rc = adb_chot_warm(db)))
        rc = adb_err_set(err, rc, "%s: warming the Chilly cache: %s", dir, acctdb_strerror(rc));
    adb_db_meta_fini(&meta);
    if (!rc && e->cfg.read_cache_max_sz && adb_rcache_open(&e->rcache, e->cfg.read_cache_max_sz))
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    if (rc) {
        db->eng = NULL;
        adb_db_close(db);
        eng_free(e);
        return rc;
    }
    if (e->cfg.background) {
        for (int i = 0; i < ACCTDB_SERVICE_CNT; i++) {
            e->svc_arg[i].db = db;
            e->svc_arg[i].which = i;
            if (pthread_create(&e->thr[i], NULL, svc_main, &e->svc_arg[i]) == 0)
                e->thr_started[i] = true;
            else
                rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "cannot start the service threads");
        }
        if (rc) {
            adb_eng_close(db);
            return rc;
        }
    }
    *db_out = db;
    return 0;
}

/* ---- services -------------------------------------------------------------- */

static int
run_pass(adb_db_t *db, int which) {
    switch (which) {
    case ACCTDB_SERVICE_FLUSH:
        return adb_eng_flush_pass(db);
    case ACCTDB_SERVICE_CLEAN:
        return adb_eng_clean_pass(db);
    case ACCTDB_SERVICE_SHRINK:
        return adb_eng_shrink_pass(db);
    case ACCTDB_SERVICE_PURGE:
        return adb_eng_purge_pass(db);
    }
    return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "no service %d", which);
}

static char const *const svc_names[ACCTDB_SERVICE_CNT] = {"flush", "clean", "shrink", "purge"};

void
adb_eng_svc_err_note(adb_eng_t *e, char const *what, int code, char const *msg, bool pending) {
    pthread_mutex_lock(&e->svc_mu);
    e->svc_err.code = code;
    snprintf(e->svc_err.msg, sizeof e->svc_err.msg, "%s: %.440s", what,
             msg && msg[0] ? msg : acctdb_strerror(code));
    e->svc_err.cnt++;
    e->svc_err.pending = pending;
    pthread_mutex_unlock(&e->svc_mu);
}

int
adb_eng_svc_err_take(adb_db_t *db) {
    adb_eng_t *e = db->eng;
    pthread_mutex_lock(&e->svc_mu);
    int rc = 0;
    if (e->svc_err.pending) {
        e->svc_err.pending = false;
        rc = adb_err_set(adb_eng_err(), e->svc_err.code,
                         "%s (a background pass failed; this call did nothing and may be "
                         "retried)",
                         e->svc_err.msg);
    }
    pthread_mutex_unlock(&e->svc_mu);
    return rc;
}

uint64_t
adb_eng_svc_err(adb_db_t *db, int *code_out, char *msg_out, size_t msg_max) {
    adb_eng_t *e = db->eng;
    pthread_mutex_lock(&e->svc_mu);
    uint64_t n = e->svc_err.cnt;
    if (code_out) *code_out = e->svc_err.code;
    if (msg_out && msg_max) snprintf(msg_out, msg_max, "%s", n ? e->svc_err.msg : "");
    pthread_mutex_unlock(&e->svc_mu);
    return n;
}

/* One pass of a service (what a step and a service thread run).  A flush
 * after a failed durable write is refused: it would write and sync again
 * what a failed fsync may have lost (fsyncgate), and name it. */
static int
run_step(adb_db_t *db, int which) {
    adb_eng_t *e = db->eng;
    if (which == ACCTDB_SERVICE_FLUSH && atomic_load(&e->fatal))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "flush refused: the database is in a fatal state since a durable "
                           "write failed (%s); reopen it",
                           adb_eng_fatal_msg(e));
    pthread_mutex_lock(&e->smu);
    uint64_t t0 = adb_now_ns();
    atomic_fetch_add(&e->ix_gen, 1);
    int rc = run_pass(db, (int)which);
    atomic_fetch_add(&e->ix_gen, 1);
    adb_eng_reclaim(db, false);
    uint64_t dt = adb_now_ns() - t0;
    pthread_mutex_unlock(&e->smu);
    atomic_fetch_add(&e->passes[which], 1);
    atomic_fetch_add(&e->ns[which], dt);
    if (rc > 0) atomic_fetch_add(&e->work[which], (uint64_t)rc);
    return rc;
}

int
adb_eng_service_step(adb_db_t *db, acctdb_service_t which) {
    if ((int)which < 0 || (int)which >= ACCTDB_SERVICE_CNT)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "no service %d", (int)which);
    int rc = run_step(db, (int)which);
    /* Counted with the background failures; the caller has it already. */
    if (rc < 0) adb_eng_svc_err_note(db->eng, svc_names[which], rc, adb_eng_err()->msg, false);
    return rc;
}

static void *
svc_main(void *arg) {
    struct adb_svc_arg *a = arg;
    adb_db_t           *db = a->db;
    adb_eng_t          *e = db->eng;
    pthread_mutex_lock(&e->svc_mu);
    while (!e->svc_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)e->cfg.service_interval_ms * 1000000ull;
        ts.tv_sec += (time_t)(ns / 1000000000ull);
        ts.tv_nsec = (long)(ns % 1000000000ull);
        pthread_cond_timedwait(&e->svc_cv, &e->svc_mu, &ts);
        if (e->svc_stop) break;
        pthread_mutex_unlock(&e->svc_mu);
        /* Flushes wait for enough rooted bytes (large writes, one sync for
         * many roots); the other services run at every wake-up.  After a
         * failed durable write flush stays idle (the fatal state says why;
         * every write call returns it). */
        bool idle =
            a->which == ACCTDB_SERVICE_FLUSH && (atomic_load(&e->fatal) || !adb_eng_flush_due(db));
        int rc = idle ? 0 : run_step(db, a->which);
        /* Nobody waits for this pass: the next write call returns it. */
        if (rc < 0) adb_eng_svc_err_note(e, svc_names[a->which], rc, adb_eng_err()->msg, true);
        pthread_mutex_lock(&e->svc_mu);
    }
    pthread_mutex_unlock(&e->svc_mu);
    return NULL;
}

/* ---- close ----------------------------------------------------------------- */

int
adb_eng_close(adb_db_t *db) {
    return adb_eng_shutdown(db, NULL);
}

/* Seconds on the monotonic clock. */
static double
mono_s(void) {
    return (double)adb_now_ns() * 1e-9;
}

int
adb_eng_shutdown(adb_db_t *db, acctdb_shutdown_report_t *rep) {
    acctdb_shutdown_report_t r = {0};
    if (!db) {
        if (rep) *rep = r;
        return 0;
    }
    adb_eng_t *e = db->eng;
    if (!e) {
        adb_db_close(db);
        if (rep) *rep = r;
        return 0;
    }
    double t0 = mono_s();
    /* Stop between atomic steps: the services see svc_stop only between
     * passes, so a pass in flight (a flush up to the write cache, a shrink
     * up to its byte budget, a clean) finishes with its record written. */
    pthread_mutex_lock(&e->svc_mu);
    e->svc_stop = true;
    pthread_cond_broadcast(&e->svc_cv);
    pthread_cond_broadcast(&e->room_cv);
    pthread_mutex_unlock(&e->svc_mu);
    for (int i = 0; i < ACCTDB_SERVICE_CNT; i++)
        if (e->thr_started[i]) pthread_join(e->thr[i], NULL);
    double t1 = mono_s();
    r.wait_s = t1 - t0;
    /* The newest root becomes durable (a graceful shutdown).  Whether it
     * did is the result: the caller's only way to know the rooted banks
     * still cached were not lost. */
    int rc = 0;
    if (atomic_load(&e->fatal)) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                         "close: nothing flushed: the database is in a fatal state since a "
                         "durable write failed (%s); the durable root stays at %llu",
                         adb_eng_fatal_msg(e), (unsigned long long)atomic_load(&e->durable_root));
    } else {
        int w = run_step(db, ACCTDB_SERVICE_FLUSH);
        if (w < 0)
            rc = w; /* its message stays in adb_eng_err() */
        else
            r.flushed_bytes = (uint64_t)w;
    }
    r.root_slot = adb_eng_root_slot(db, &r.durable_slot);
    /* The last commit record says the database was closed cleanly and
     * names the index file written just before it, which the next open
     * loads instead of scanning every storage.  None is written when the
     * newest already says so, nothing was committed since open and the
     * open loaded the index file it names (closing an unchanged database
     * writes nothing once its index file loads). */
    pthread_mutex_lock(&e->smu);
    uint32_t cflags;
    uint64_t cgen = adb_db_commit_gen(db, &cflags);
    bool     due = db->commits || !(cflags & ADB_DB_COMMIT_CLEAN);
    /* With a disk tier the index file must be one whose keys are in it. */
    bool two = adb_index_two_tier(db->ix), tier_file = two && !db->ix_file_disk;
    if (!rc && !atomic_load(&e->fatal) && !(due || db->ix_rebuilt || tier_file) && two &&
        db->index_gen) {
        /* Nothing to commit: the commit and its index file stand; the disk
         * tier (marked open since this open) is stamped for them again. */
        adb_dtier_stamp_t st = {.gen = db->index_gen, .root = e->durable_info.slot};
        adb_err_t         serr = {0};
        if (adb_index_stamp(db->ix, &st, &serr))
            adb_eng_svc_err_note(e, "close", serr.code, serr.msg, false);
    }
    if (!rc && !atomic_load(&e->fatal) && (due || db->ix_rebuilt || tier_file)) {
        /* A failed write leaves no index file and the commit names none (the
         * next open scans); a failed sync is fatal: no CLEAN commit.  When
         * the index file was the only reason to commit, none is written
         * without it (a read-only directory stays untouched). */
        adb_err_t ierr = {0};
        int       irc = adb_ixfile_write(db, cgen + 1, &e->durable_info, false, &ierr);
        db->ix_next = irc ? 0 : cgen + 1;
        if (irc == ACCTDB_ERR_FATAL) {
            adb_err_clear(adb_eng_err()); /* the sync's message, said again below */
            rc = adb_err_set(adb_eng_err(), irc,
                             "close: writing the index file: %s; the durable root stays at %llu, "
                             "without a clean-shutdown record",
                             ierr.msg, (unsigned long long)atomic_load(&e->durable_root));
        } else if (irc) {
            adb_eng_svc_err_note(e, "close", irc, ierr.msg, false);
        }
    }
    if (!rc && !atomic_load(&e->fatal) && (due || db->ix_next)) {
        int crc = adb_eng_commit(db, &e->durable_info, e->durable_ext, ADB_DB_COMMIT_CLEAN);
        if (crc) {
            char why[256];
            snprintf(why, sizeof why, "close: writing the final commit record: %s",
                     acctdb_strerror(crc));
            adb_eng_fatal(e, why);
            rc = adb_err_set(adb_eng_err(), crc, "%s", why);
        }
    }
    pthread_mutex_unlock(&e->smu);
    r.flush_s = mono_s() - t1;
    r.clean = rc == 0 && r.durable_slot == r.root_slot;
    /* Banks still cached: their accounts, then the banks. */
    for (uint32_t i = 0; i < e->banks_cap; i++) {
        adb_bank_t *b = e->banks[i];
        if (!b) continue;
        if (b->slot > r.root_slot) r.dropped_banks++;
        for (uint32_t k = 0; k < b->cap; k++)
            adb_free(b->accts[k]);
        adb_free(b->accts);
        adb_eng_ext_unref(b->ext);
        adb_xs_delta_free(b);
        adb_free(b);
    }
    adb_eng_reclaim(db, true);
    db->eng = NULL;
    adb_db_close(db);
    eng_free(e);
    r.total_s = mono_s() - t0;
    if (rep) *rep = r;
    return rc;
}

/* ---- small queries --------------------------------------------------------- */

uint64_t
adb_eng_root_slot(adb_db_t *db, uint64_t *durable_out) {
    adb_eng_t *e = db->eng;
    pthread_rwlock_rdlock(&e->blk);
    uint64_t r = e->root;
    pthread_rwlock_unlock(&e->blk);
    if (durable_out) *durable_out = atomic_load(&e->durable_root);
    return r;
}

int
adb_eng_bank_parent(adb_db_t *db, uint64_t slot, uint64_t *parent_out) {
    adb_eng_t *e = db->eng;
    int        rc = 0;
    pthread_rwlock_rdlock(&e->blk);
    if (slot == e->root) {
        *parent_out = e->root_info.parent_slot;
    } else {
        adb_bank_t *b = adb_bank_find(e, slot);
        if (b && b->state != ADB_BANK_DEAD)
            *parent_out = b->parent;
        else
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOT_FOUND, "slot %llu is not a live bank",
                             (unsigned long long)slot);
    }
    pthread_rwlock_unlock(&e->blk);
    return rc;
}

acctdb_db_config_t const *
adb_eng_config(adb_db_t const *db) {
    return &db->eng->cfg;
}

int
adb_eng_stats(adb_db_t *db, acctdb_db_stats_t *out) {
    adb_eng_t *e = db->eng;
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock(&e->blk);
    out->root_slot = e->root;
    for (uint32_t i = 0; i < e->banks_cap; i++) {
        adb_bank_t const *b = e->banks[i];
        if (!b) continue;
        switch (b->state) {
        case ADB_BANK_OPEN:
            out->banks_open++;
            break;
        case ADB_BANK_FROZEN:
            out->banks_frozen++;
            break;
        case ADB_BANK_ROOTED:
            out->banks_rooted_unflushed++;
            break;
        case ADB_BANK_DEAD:
            out->banks_dead++;
            break;
        }
    }
    pthread_rwlock_unlock(&e->blk);
    out->durable_root_slot = atomic_load(&e->durable_root);
    pthread_mutex_lock(&e->smu);
    out->last_full_snapshot_slot = e->last_full_slot;
    uint32_t n = adb_db_file_cnt(db);
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced)) continue;
        out->storages++;
        out->storage_bytes += f->valid_len;
        out->storage_alive_bytes += atomic_load(&f->alive_bytes);
    }
    out->segments = atomic_load(&db->seg_cnt);
    pthread_mutex_unlock(&e->smu);
    out->index_keys = adb_index_cnt(db->ix);
    out->index_versions_listed = adb_index_list_cnt(db->ix);
    out->index_ram_sz = adb_index_mem_sz(db->ix);
    out->write_cache_sz = atomic_load(&e->cache_bytes);
    out->write_cache_accounts = atomic_load(&e->cache_accts);
    adb_rcache_stats(e->rcache, &out->read_cache_sz, &out->read_cache_hits,
                     &out->read_cache_misses);
    out->owner_index_keys = e->owners ? adb_owner_pairs(e->owners) : 0;
    out->stores = atomic_load(&e->stores);
    out->loads = atomic_load(&e->loads);
    out->freezes = atomic_load(&e->freezes);
    out->roots = atomic_load(&e->roots);
    for (int i = 0; i < ACCTDB_SERVICE_CNT; i++) {
        out->service_passes[i] = atomic_load(&e->passes[i]);
        out->service_work[i] = atomic_load(&e->work[i]);
        out->service_ns[i] = atomic_load(&e->ns[i]);
    }
    out->flushed_bytes = atomic_load(&e->flushed_bytes);
    out->service_errors = adb_eng_svc_err(db, NULL, NULL, 0);
    out->index_rebuilt = db->ix_rebuilt;
    adb_index_stats_t ist;
    adb_index_stats(db->ix, &ist);
    out->index_disk = adb_index_two_tier(db->ix);
    out->index_ram_budget = ist.ram_budget;
    out->index_ram_heap = ist.ram_heap;
    out->index_ram_mapped = ist.ram_mapped;
    out->index_ram_keys = ist.ram_keys;
    out->index_disk_bytes = ist.disk_bytes;
    out->index_disk_keys = ist.disk_keys;
    out->index_disk_entries = ist.disk_entries;
    out->index_hits = ist.hits;
    out->index_misses = ist.misses;
    out->index_promotions = ist.promotions;
    out->index_evictions = ist.evictions;
    snprintf(out->index_reason, sizeof out->index_reason, "%s", db->ix_reason);
    out->index_open_ns = db->ix_open_ns;
    out->index_replayed_storages = db->ix_replay_cnt;
    out->index_checkpoints = atomic_load(&db->ix_ckpts);
    out->index_checkpoint_ns = atomic_load(&db->ix_ckpt_ns);
    adb_chot_stats(db, &out->chilly_cached, &out->chilly_bytes, &out->chilly_hits,
                   &out->chilly_misses);
    if (db->xs) {
        out->xstate_images = atomic_load(&db->xs->images);
        out->xstate_log_bytes = atomic_load(&db->xs->log_bytes);
    }
    pthread_mutex_lock(&e->ret_mu);
    out->retired_pending = e->ret_cnt;
    pthread_mutex_unlock(&e->ret_mu);
    return 0;
}

/* ---- the commit record ------------------------------------------------------- */

int
adb_eng_write_meta(adb_db_t *db, acctdb_bank_info_t const *root, adb_eng_ext_t *ext) {
    return adb_eng_commit(db, root, ext, 0);
}

int
adb_eng_commit(adb_db_t *db, acctdb_bank_info_t const *root, adb_eng_ext_t *ext, uint32_t flags) {
    adb_eng_t *e = db->eng;
    /* The index file the close wrote for this commit (db_ixfile.c); every
     * other commit names the base an open after a kill replays from. */
    adb_db_meta_t m = {.flags = flags,
                       .index_gen = (flags & ADB_DB_COMMIT_CLEAN) ? db->ix_next : db->ix_base,
                       .slot = root->slot,
                       .base_slot = e->base_slot,
                       .totals = e->load_totals,
                       .root = *root,
                       .last_full_slot = e->last_full_slot,
                       .origin_slot = e->origin_slot,
                       .ext = ext ? ext->data : NULL,
                       .ext_sz = ext ? ext->sz : 0,
                       .origin_has_ck = e->origin_has_ck,
                       .xs = adb_xs_commit_pos(db)};
    memcpy(m.origin_ck, e->origin_ck, sizeof m.origin_ck);
    acctdb_bank_info_t *h = adb_malloc(ADB_HIST_KEEP * sizeof *h);
    if (!h) return ACCTDB_ERR_NOMEM;
    pthread_rwlock_rdlock(&e->blk);
    uint32_t n = adb_eng_hist_upto(e, root->slot, h);
    pthread_rwlock_unlock(&e->blk);
    m.hist = h;
    m.hist_cnt = n;
    int rc = adb_db_write_meta(db, &m);
    db->ix_next = 0;
    adb_free(h);
    if (!rc) {
        adb_xs_committed(db, &m.xs, adb_db_commit_gen(db, NULL));
        e->durable_info = *root;
        atomic_store(&e->durable_bh, root->block_height);
        if (ext != e->durable_ext) {
            adb_eng_ext_t *old = e->durable_ext;
            e->durable_ext = adb_eng_ext_ref(ext);
            adb_eng_ext_unref(old);
        }
    }
    return rc;
}

int
adb_eng_origin_verify(adb_db_t *db, int which, void const *p, size_t sz, adb_err_t *err) {
    adb_eng_t *e = db->eng;
    if (which < 0 || which > 1 || !(e->origin_has_ck & (1u << which))) return 0;
    uint8_t ck[32];
    adb_blake3_hash(p, sz, ck, 32);
    if (!memcmp(ck, e->origin_ck[which], 32)) return 0;
    return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                       "%s/%s: checksum mismatch (the root record's BLAKE3 of it differs): the "
                       "file was changed or damaged after the database was created",
                       db->dir, which ? "status_cache.bin" : "manifest.bin");
}
