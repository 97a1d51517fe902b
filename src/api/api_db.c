/* src/api/api_db.c - the public acctdb_db_* functions.
 *
 * The engine (src/db) holds the accounts; the bank module (src/bank) gives
 * banks their meaning; the snapshot module (src/snapshot) reads archives.
 * This file ties them into the handle a user opens:
 *
 *   create  lock the directory (a flock on it, before the first byte), check
 *           it is empty, load the archives or the genesis file into it
 *           (verified; the loader writes the first root record), open it
 *   open    the engine under the lock, watching the vote and stake programs
 *           (the bank reads them at epoch boundaries and for snapshots);
 *           the origin's manifest and status cache, checked against the
 *           checksums the root record keeps
 *   banks   bank_begin / freeze through the bank module; store, root, loads
 *           and scans straight to the engine
 *
 * Errors: every call on a handle starts by clearing the calling thread's
 * engine message and, when it fails, leaves its message as the handle's
 * last error (acctdb_db_errmsg). */
#include "api/api_private.h"

#include "util/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_MAX_SZ (1ull << 30)

/* ---- errors ---------------------------------------------------------------- */

char const *
acctdb_db_errmsg(acctdb_db_t const *db) {
    return db ? db->err : "";
}

static void
err_store(acctdb_db_t *h, char const *msg) {
    pthread_mutex_lock(&h->err_mu);
    snprintf(h->err, sizeof h->err, "%s", msg);
    pthread_mutex_unlock(&h->err_mu);
}

int
adb_api_done(acctdb_db_t *h, int rc) {
    if (rc >= 0 || !h) return rc;
    adb_err_t const *e = adb_eng_err();
    err_store(h, e->code && e->msg[0] ? e->msg : acctdb_strerror(rc));
    return rc;
}

int
adb_api_fail(acctdb_db_t *h, int rc, char const *fmt, ...) {
    char    m[ADB_ERRMSG_SZ];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (h) err_store(h, m);
    adb_err_t *e = adb_eng_err();
    adb_err_clear(e);
    adb_err_set(e, rc, "%s", m);
    return rc;
}

static void
msg_set(char *out, size_t max, char const *msg) {
    if (out && max) snprintf(out, max, "%s", msg);
}

/* ---- the handle -------------------------------------------------------------- */

/* Loads DIR/manifest.bin and DIR/status_cache.bin (the origin's bank
 * state, which the bank module and snapshots extend), each checked against
 * the root record's checksum. */
static int
load_state(acctdb_db_t *h, char const *dir, adb_err_t *err) {
    int dfd = adb_io_openat(h->io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0) return adb_err_set(err, dfd, "%s: %s", dir, acctdb_strerror(dfd));
    uint8_t *buf = NULL;
    size_t   sz = 0;
    int      rc = adb_io_read_file(h->io, dfd, "manifest.bin", MANIFEST_MAX_SZ, &buf, &sz);
    if (rc == -ENOENT) {
        rc = 0; /* a database made before bank state was kept: no snapshots */
    } else if (!rc) {
        rc = adb_eng_origin_verify(h->db, 0, buf, sz, err);
        adb_err_t e = {0};
        if (!rc) {
            rc = adb_manifest_decode(buf, sz, 0, &h->man, &e);
            if (rc) rc = adb_err_set(err, rc, "%s/manifest.bin: %s", dir, e.msg);
        }
        h->has_man = !rc;
        if (!rc) {
            h->man_raw = buf;
            h->man_raw_sz = sz;
            h->origin = (adb_bank_origin_t){&h->man.bank, &h->man.extra};
            buf = NULL;
        }
    } else {
        rc = adb_err_set(err, rc, "%s/manifest.bin: %s", dir, acctdb_strerror(rc));
    }
    adb_free(buf);
    if (!rc) {
        rc = adb_io_read_file(h->io, dfd, "status_cache.bin", MANIFEST_MAX_SZ, &h->sc_raw,
                              &h->sc_raw_sz);
        if (rc == -ENOENT)
            rc = 0;
        else if (rc)
            rc = adb_err_set(err, rc, "%s/status_cache.bin: %s", dir, acctdb_strerror(rc));
        else
            rc = adb_eng_origin_verify(h->db, 1, h->sc_raw, h->sc_raw_sz, err);
    }
    adb_io_close(h->io, dfd);
    return rc;
}

/* A new database's sidecar (docs/STATE.md): the creation copies the
 * archive's <archive>.acctdb into DIR as ADB_SIDECAR_PENDING before the
 * database's first commit record, so a creation killed between that record
 * and the import still imports it: every open of DIR imports a pending
 * sidecar (checked against the root, committed) and only then removes it.
 * Importing twice gives the same state: nothing runs in between. */
#define ADB_SIDECAR_PENDING "sidecar.pending"

static int
import_pending(acctdb_db_t *h, adb_err_t *e) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", h->dir, ADB_SIDECAR_PENDING);
    uint8_t *buf = NULL;
    size_t   sz = 0;
    int      rc = adb_io_read_file(h->io, AT_FDCWD, path, (size_t)64 << 30, &buf, &sz);
    if (rc == -ENOENT) return 0;
    if (rc) return adb_err_set(e, rc, "%s: %s", path, acctdb_strerror(rc));
    rc = adb_eng_import_sidecar(h->db, buf, sz, path, e);
    adb_free(buf);
    if (rc) return rc;
    /* Imported and committed: a kill before this unlink imports it again. */
    rc = adb_io_unlinkat(h->io, AT_FDCWD, path, 0);
    return rc ? adb_err_set(e, rc, "removing %s: %s", path, acctdb_strerror(rc)) : 0;
}

/* Copies the sidecar of archive, if it has one, into the new database's
 * dir as ADB_SIDECAR_PENDING (durable: temporary name, fsync, rename,
 * directory fsync). */
static int
stage_sidecar(char const *dir, char const *archive, adb_io_t const *io, adb_err_t *e) {
    char path[4200];
    snprintf(path, sizeof path, "%s%s", archive, ADB_SIDECAR_SUFFIX);
    uint8_t *buf = NULL;
    size_t   sz = 0;
    int      rc = adb_io_read_file(adb_io(), AT_FDCWD, path, (size_t)64 << 30, &buf, &sz);
    if (rc == -ENOENT) return 0;
    if (rc) return adb_err_set(e, rc, "%s: %s", path, acctdb_strerror(rc));
    int dfd = adb_io_openat(io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    rc = dfd < 0 ? dfd : adb_io_write_file_atomic(io, dfd, ADB_SIDECAR_PENDING, buf, sz);
    if (dfd >= 0) adb_io_close(io, dfd);
    adb_free(buf);
    return rc ? adb_err_set(e, rc, "copying %s into %s: %s", path, dir, acctdb_strerror(rc)) : 0;
}

/* Opens DIR under lockfd (a lock adb_eng_lock_dir took through io, or
 * -1), every file operation through io. */
static int
open_handle(acctdb_db_t **db_out, char const *dir, int lockfd, acctdb_db_config_t const *cfg,
            adb_io_t const *io, char *msg_out, size_t msg_max) {
    *db_out = NULL;
    acctdb_db_t *h = adb_calloc(1, sizeof *h);
    if (!h) {
        adb_io_close(io, lockfd);
        return ACCTDB_ERR_NOMEM;
    }
    h->io = io;
    pthread_mutex_init(&h->err_mu, NULL);
    adb_manifest_init(&h->man);
    if (snprintf(h->dir, sizeof h->dir, "%s", dir) >= (int)sizeof h->dir) {
        adb_io_close(io, lockfd);
        acctdb_db_close(h);
        msg_set(msg_out, msg_max, "directory path too long");
        return ACCTDB_ERR_INVALID;
    }
    acctdb_db_config_t c;
    adb_err_t          e = {0};
    int                rc = 0;
    if (cfg) {
        c = *cfg;
    } else {
        acctdb_db_config_default(&c);
        rc = adb_api_config_read(&c, dir, io, e.msg, sizeof e.msg);
        if (rc) e.code = rc;
    }
    /* sync off: the same table without its syncs, for the database's life. */
    if (!rc && !c.sync) {
        adb_io_nosync_init(&h->nosync, io);
        io = h->io = &h->nosync;
    }
    /* The bank module reads vote and stake accounts by owner. */
    acctdb_pubkey_t const watch[2] = {*adb_vote_program_id(), *adb_stake_program_id()};
    if (!rc)
        rc = adb_eng_open(&h->db, dir, lockfd, &c, watch, 2, io, &e);
    else
        adb_io_close(io, lockfd);
    if (!rc) rc = load_state(h, dir, &e);
    if (!rc) rc = import_pending(h, &e);
    if (rc) {
        msg_set(msg_out, msg_max, e.msg[0] ? e.msg : acctdb_strerror(rc));
        acctdb_db_close(h);
        return rc;
    }
    *db_out = h;
    return 0;
}

int
acctdb_db_open(acctdb_db_t **db_out, char const *dir, acctdb_db_config_t const *cfg, char *msg_out,
               size_t msg_max) {
    /* The process default as it is now: a test's adb_io_set applies to
     * the handles opened after it. */
    return adb_api_db_open_io(db_out, dir, cfg, adb_io(), msg_out, msg_max);
}

int
adb_api_db_open_io(acctdb_db_t **db_out, char const *dir, acctdb_db_config_t const *cfg,
                   adb_io_t const *io, char *msg_out, size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!db_out || !dir || !io) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return open_handle(db_out, dir, -1, cfg, io, msg_out, msg_max);
}

int
acctdb_db_shutdown(acctdb_db_t *db, acctdb_shutdown_report_t *rep, char *msg_out, size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (rep) memset(rep, 0, sizeof *rep);
    if (!db) return 0;
    adb_api_begin();
    int rc = adb_eng_shutdown(db->db, rep);
    /* The handle's last error is this one until it is freed below; the
     * calling thread's engine message keeps it after. */
    if (rc) {
        adb_api_done(db, rc);
        if (msg_out && msg_max)
            snprintf(msg_out, msg_max, "%s",
                     adb_eng_err()->msg[0] ? adb_eng_err()->msg : acctdb_strerror(rc));
    }
    adb_manifest_fini(&db->man);
    adb_free(db->man_raw);
    adb_free(db->sc_raw);
    pthread_mutex_destroy(&db->err_mu);
    adb_free(db);
    return rc;
}

void
acctdb_db_close(acctdb_db_t *db) {
    acctdb_db_shutdown(db, NULL, NULL, 0);
}

void
acctdb_db_interrupt(acctdb_db_t *db) {
    if (db) atomic_store_explicit(&db->interrupted, 1, memory_order_relaxed);
}

/* ---- create ------------------------------------------------------------------ */

/* The table a failed creation's cleanup removes through (nftw has no
 * context argument). */
static _Thread_local adb_io_t const *t_rm_io;

static int
rm_cb(char const *p, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)sb;
    if (ftw->level == 0) return 0;
    return adb_io_unlinkat(t_rm_io, AT_FDCWD, p,
                           flag == FTW_DP || flag == FTW_DNR ? AT_REMOVEDIR : 0);
}

/* Is dir empty?  0 yes, INVALID no, -errno.  (Listing a directory is not
 * an operation of the I/O table: read only, and nothing depends on its
 * durability.) */
static int
check_empty(char const *dir, adb_err_t *err) {
    DIR *d = opendir(dir);
    if (!d) return adb_err_set(err, -errno, "cannot open %s: %s", dir, acctdb_strerror(-errno));
    struct dirent *de;
    int            n = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    if (n)
        return adb_err_set(err, ACCTDB_ERR_INVALID,
                           "%s is not empty: a new database needs an empty or absent directory",
                           dir);
    return 0;
}

static void
progress_tramp(void *ctx, char const *what, uint64_t done, uint64_t total) {
    acctdb_db_source_t const *s = ctx;
    s->progress(s->progress_ctx, what, done, total);
}

/* Loads the source into dir (verified; the completion record last); the
 * new database's files through io. */
static int
load_source(char const *dir, acctdb_db_source_t const *src, acctdb_db_config_t const *cfg,
            adb_io_t const *io, adb_err_t *e) {
    char *full = NULL, *inc = NULL;
    int   rc = 0;
    if (src->archive_dir) rc = adb_snap_find_in_dir(src->archive_dir, &full, &inc, e);
    adb_load_opts_t lo;
    adb_load_opts_default(&lo);
    lo.store_dir = dir;
    lo.verify = true;
    lo.engine_root = true;
    lo.io = io;
    if (cfg) lo.threads = cfg->threads;
    lo.stop = src->stop;
    if (src->progress) {
        lo.progress = progress_tramp;
        lo.progress_ctx = (void *)src;
    }
    adb_snap_t *s = NULL;
    if (!rc && !src->genesis_path) {
        char const *nw = full ? (inc ? inc : full)
                              : (src->incremental_path ? src->incremental_path : src->full_path);
        rc = stage_sidecar(dir, nw, io, e);
    }
    if (!rc) {
        if (src->genesis_path)
            rc = adb_snap_load_genesis(&s, src->genesis_path, &lo);
        else
            rc = adb_snap_load(&s, full ? full : src->full_path, full ? inc : src->incremental_path,
                               &lo);
        if (rc) {
            if (s && s->err.msg[0]) {
                adb_err_set(e, rc, "%s", s->err.msg);
            } else if (s) {
                /* A failed check: name the first one. */
                for (size_t i = 0; i < s->check_cnt; i++)
                    if (s->checks[i].status == ADB_CHECK_FAIL) {
                        adb_err_set(e, rc, "verification failed: %s: %s", s->checks[i].name,
                                    s->checks[i].detail);
                        break;
                    }
            }
            if (!e->msg[0]) adb_err_set(e, rc, "%s", acctdb_strerror(rc));
        }
    }
    adb_snap_close(s);
    adb_free(full);
    adb_free(inc);
    return rc;
}

int
acctdb_db_create(acctdb_db_t **db_out, char const *dir, acctdb_db_source_t const *src,
                 acctdb_db_config_t const *cfg, char *msg_out, size_t msg_max) {
    return adb_api_db_create_io(db_out, dir, src, cfg, adb_io(), msg_out, msg_max);
}

int
adb_api_db_create_io(acctdb_db_t **db_out, char const *dir, acctdb_db_source_t const *src,
                     acctdb_db_config_t const *cfg, adb_io_t const *io, char *msg_out,
                     size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!db_out || !dir || !src || !io) return ACCTDB_ERR_INVALID;
    *db_out = NULL;
    adb_api_begin();
    adb_err_t e = {0};
    int       nsrc = !!src->full_path + !!src->archive_dir + !!src->genesis_path;
    if (nsrc != 1 || (src->incremental_path && !src->full_path)) {
        msg_set(msg_out, msg_max,
                "give exactly one source: a full archive (and its incremental), an archive "
                "directory, or a genesis file");
        return ACCTDB_ERR_INVALID;
    }
    int  mrc = adb_io_mkdirat(io, AT_FDCWD, dir, 0755);
    bool made = mrc == 0;
    if (!made && mrc != -EEXIST) {
        adb_err_set(&e, mrc, "cannot create %s: %s", dir, acctdb_strerror(mrc));
        msg_set(msg_out, msg_max, e.msg);
        return mrc;
    }
    /* The lock first: a second creation (or an opener) of this directory
     * gets "in use" and touches nothing. */
    int lockfd = -1;
    int rc = adb_eng_lock_dir(io, dir, &lockfd, &e);
    if (!rc) rc = check_empty(dir, &e);
    if (rc) {
        adb_io_close(io, lockfd);
        msg_set(msg_out, msg_max, e.msg);
        return rc;
    }
    rc = load_source(dir, src, cfg, io, &e);
    acctdb_db_t *h = NULL;
    if (!rc) {
        rc = open_handle(&h, dir, lockfd, cfg, io, e.msg, sizeof e.msg);
        lockfd = -1; /* the handle's, or closed */
        if (rc) {    /* e.g. its sidecar refused: take the lock again to clean up */
            adb_err_t le = {0};
            adb_eng_lock_dir(io, dir, &lockfd, &le);
        }
    }
    /* (open_handle imported the archive's sidecar, staged by load_source.) */
    if (rc) {
        msg_set(msg_out, msg_max, e.msg);
        /* Nothing half-made stays behind: the directory's contents go (and
         * the directory itself if this call made it), still under the lock. */
        t_rm_io = io;
        nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        if (made) adb_io_unlinkat(io, AT_FDCWD, dir, AT_REMOVEDIR);
        adb_io_close(io, lockfd);
        return rc;
    }
    *db_out = h;
    return 0;
}

/* ---- wrappers ------------------------------------------------------------------ */

int
acctdb_db_store(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot, acctdb_account_t const *accts,
                size_t n) {
    if (!db || (n && !accts)) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_store(db->db, slot, parent_slot, accts, n);
    return adb_api_done(db, rc);
}

int
acctdb_db_compress(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                   acctdb_pubkey_t const *keys, size_t n, int *rc_out, size_t *done_out) {
    if (done_out) *done_out = 0;
    if (!db || (n && (!keys || !rc_out))) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    size_t done = 0;
    int    rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_compress(db->db, slot, parent_slot, keys, n, rc_out, &done, NULL);
    if (done_out) *done_out = done;
    return adb_api_done(db, rc);
}

int
acctdb_db_compress_idle(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot, uint64_t idle_slots,
                        uint64_t limit, acctdb_compress_report_t *rep) {
    acctdb_compress_report_t none;
    if (!rep) rep = &none;
    memset(rep, 0, sizeof *rep);
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_compress_idle(db->db, slot, parent_slot, idle_slots, limit, rep);
    return adb_api_done(db, rc);
}

int
acctdb_db_touch(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *keys, size_t n, bool enforce,
                uint8_t *cold_out, uint64_t *cold_bytes_out) {
    uint64_t cb = 0;
    if (cold_bytes_out) *cold_bytes_out = 0;
    if (!db || (n && !keys)) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_touch(db->db, slot, keys, n, enforce, cold_out, &cb);
    if (cold_bytes_out) *cold_bytes_out = cb;
    return adb_api_done(db, rc);
}

int
acctdb_db_chilly_bank(acctdb_db_t *db, uint64_t slot, uint64_t *loaded_bytes_out,
                      uint64_t *cold_bytes_out) {
    uint64_t l, c;
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_chilly_bank(db->db, slot, &l, &c);
    if (loaded_bytes_out) *loaded_bytes_out = l;
    if (cold_bytes_out) *cold_bytes_out = c;
    return adb_api_done(db, rc);
}

int
acctdb_db_chilly_cached(acctdb_db_t *db, acctdb_pubkey_t *keys_out, size_t max, size_t *cnt_out) {
    size_t n = 0;
    if (!db || (max && !keys_out)) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_chilly_cached(db->db, keys_out, max, &n);
    if (cnt_out) *cnt_out = n;
    return adb_api_done(db, rc);
}

int
acctdb_db_rent_sweep(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot, char const *k,
                     uint32_t n, acctdb_rent_report_t *rep) {
    acctdb_rent_report_t none;
    if (!rep) rep = &none;
    memset(rep, 0, sizeof *rep);
    if (!db || !k) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_rent_sweep(db->db, slot, parent_slot, k, n, rep);
    return adb_api_done(db, rc);
}

int
acctdb_db_decompress(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                     acctdb_pubkey_t const *key, uint8_t const *data, size_t len,
                     uint64_t lamports) {
    if (!db || !key || (len && !data)) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_decompress(db->db, slot, parent_slot, key->b, data, len, lamports);
    return adb_api_done(db, rc);
}

int
acctdb_db_compressed_info(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key,
                          acctdb_compressed_t *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!db || !key || !out) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    acctdb_account_t a;
    uint8_t          h[32];
    /* The load checks the slot (TOO_OLD, INVALID) and says whether the
     * account is compressed. */
    int rc = adb_eng_load(db->db, slot, key->b, &a, h, sizeof h, NULL);
    if (rc != ACCTDB_ERR_COMPRESSED) /* FULL: data longer than a hash, not compressed */
        return adb_api_done(db, rc && rc != ACCTDB_ERR_FULL ? rc : ACCTDB_ERR_NOT_FOUND);
    rc = adb_eng_compressed_info(db->db, slot, key->b, out);
    if (!rc && !out->burned) {
        out->owner = a.owner;
        out->executable = a.executable;
    }
    return adb_api_done(db, rc);
}

int
acctdb_db_trie_info(acctdb_db_t *db, acctdb_trie_info_t *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!db || !out) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    adb_eng_trie_info(db->db, out);
    return adb_api_done(db, 0);
}

int
acctdb_db_prove(acctdb_db_t *db, acctdb_pubkey_t const *key, acctdb_trie_proof_t *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!db || !key || !out) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    adb_eng_prove(db->db, key->b, out);
    return adb_api_done(db, 0);
}

int
acctdb_db_check_create(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key,
                       acctdb_create_cred_t const *cred) {
    if (!db || !key || (cred && cred->proof_len && !cred->proof)) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return adb_api_done(db, adb_eng_check_create(db->db, slot, key->b, cred));
}

int
acctdb_db_bank_begin(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot, int64_t unix_timestamp) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    if (!db->has_man)
        return adb_api_fail(db, ACCTDB_ERR_UNSUPPORTED,
                            "%s has no bank state (manifest.bin): banks cannot begin", db->dir);
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_bank_begin(db->db, &db->origin, slot, parent_slot, unix_timestamp);
    return adb_api_done(db, rc);
}

int
acctdb_db_freeze(acctdb_db_t *db, uint64_t slot, acctdb_bank_meta_t const *meta,
                 acctdb_bank_info_t *info_out) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    if (!db->has_man) /* no cluster known: no hard forks, no fee */
        return adb_api_done(db, adb_eng_freeze(db->db, slot, meta, 0, 0, info_out));
    return adb_api_done(db, adb_bank_freeze(db->db, &db->origin, slot, meta, info_out));
}

int
acctdb_db_root(acctdb_db_t *db, uint64_t slot) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_root(db->db, slot);
    return adb_api_done(db, rc);
}

/* Reads: a missing account is an answer, not an error; anything else is
 * the handle's last error. */
static int
read_done(acctdb_db_t *h, int rc) {
    return rc == ACCTDB_ERR_NOT_FOUND ? rc : adb_api_done(h, rc);
}

int
acctdb_db_load(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *pubkey, acctdb_account_t *out,
               uint8_t *data_buf, size_t data_max, uint64_t *slot_out) {
    if (!db || !pubkey || !out || (data_max && !data_buf)) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return read_done(db, adb_eng_load(db->db, slot, pubkey->b, out, data_buf, data_max, slot_out));
}

int
acctdb_db_load_batch(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *pubkeys, size_t n,
                     acctdb_account_t *out, uint8_t *buf, size_t buf_sz, int *rc_out) {
    if (!db || (n && (!pubkeys || !out || !rc_out)) || (buf_sz && !buf)) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return read_done(db, adb_eng_load_batch(db->db, slot, pubkeys, n, out, buf, buf_sz, rc_out));
}

int
acctdb_db_scan(acctdb_db_t *db, uint64_t slot, acctdb_scan_filter_t const *filter,
               acctdb_pubkey_t const *cursor, size_t limit, acctdb_scan_fn fn, void *ctx,
               acctdb_pubkey_t *next_out, bool *more_out) {
    if (!db || !filter || !fn) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return adb_api_done(
        db, adb_eng_scan(db->db, slot, filter, cursor, limit, fn, ctx, next_out, more_out));
}

int
acctdb_db_bank_info(acctdb_db_t *db, uint64_t slot, acctdb_bank_info_t *info_out) {
    if (!db || !info_out) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return adb_api_done(db, adb_eng_bank_info(db->db, slot, info_out));
}

int
acctdb_db_slots(acctdb_db_t *db, acctdb_db_slots_t *out) {
    if (!db || !out) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return adb_api_done(db, adb_eng_slots(db->db, out));
}

int
acctdb_db_confirm(acctdb_db_t *db, uint64_t slot) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return adb_api_done(db, adb_eng_confirm(db->db, slot));
}

int
acctdb_db_cluster(acctdb_db_t *db, acctdb_db_cluster_t *out) {
    if (!db || !out) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    memset(out, 0, sizeof *out);
    if (!db->has_man)
        return adb_api_fail(db, ACCTDB_ERR_UNSUPPORTED,
                            "%s has no bank state (manifest.bin): its cluster is unknown", db->dir);
    adb_bank_fields_t const *b = db->origin.b;
    /* A database created from genesis starts at bank 0, whose only
     * blockhash is the genesis hash. */
    if (b->slot == 0 && b->blockhash_queue.has_last_hash) {
        out->has_genesis_hash = true;
        out->genesis_hash = b->blockhash_queue.last_hash;
    }
    adb_rent_t r = adb_bank_rent(db->db, &db->origin, adb_eng_root_slot(db->db, NULL));
    out->lamports_per_byte_year = r.lamports_per_byte_year;
    out->exemption_threshold = r.exemption_threshold;
    out->slots_per_epoch = b->epoch_schedule.slots_per_epoch;
    out->first_normal_epoch = b->epoch_schedule.first_normal_epoch;
    out->first_normal_slot = b->epoch_schedule.first_normal_slot;
    out->warmup = b->epoch_schedule.warmup;
    return 0;
}

uint64_t
acctdb_db_min_balance(acctdb_db_t *db, uint64_t data_len) {
    if (!db || !db->has_man) return 0;
    adb_api_begin();
    adb_rent_t r = adb_bank_rent(db->db, &db->origin, adb_eng_root_slot(db->db, NULL));
    return adb_rent_minimum_balance(&r, data_len);
}

int
acctdb_db_token_scan(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key, bool by_mint,
                     acctdb_pubkey_t const *program, acctdb_pubkey_t const *cursor, size_t limit,
                     acctdb_scan_fn fn, void *ctx, acctdb_pubkey_t *next_out, bool *more_out) {
    if (!db || !key || !fn) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return adb_api_done(db, adb_eng_token_scan(db->db, slot, key, by_mint, program, cursor, limit,
                                               fn, ctx, next_out, more_out));
}

int
acctdb_db_set_root_hook(acctdb_db_t *db, acctdb_root_hook_fn fn, void *ctx) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_eng_set_root_hook(db->db, fn, ctx);
    return 0;
}

uint64_t
acctdb_db_root_slot(acctdb_db_t *db, uint64_t *durable_out) {
    if (!db) return 0;
    return adb_eng_root_slot(db->db, durable_out);
}

int
acctdb_db_service_step(acctdb_db_t *db, acctdb_service_t which) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    int rc = adb_eng_svc_err_take(db->db);
    if (!rc) rc = adb_eng_service_step(db->db, which);
    return adb_api_done(db, rc);
}

int
acctdb_db_verify(acctdb_db_t *db, char *msg_out, size_t msg_max) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    adb_err_t e = {0};
    int       rc = adb_eng_verify(db->db, &e);
    msg_set(msg_out, msg_max, e.msg);
    if (rc) adb_api_fail(db, rc, "%s", e.msg);
    return rc;
}

int
acctdb_db_check(acctdb_db_t *db, char *msg_out, size_t msg_max) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    adb_err_t e = {0};
    int       rc = adb_eng_check(db->db, &e);
    msg_set(msg_out, msg_max, rc ? e.msg : "");
    if (rc) adb_api_fail(db, rc, "%s", e.msg);
    return rc;
}

int
acctdb_db_stats(acctdb_db_t *db, acctdb_db_stats_t *out) {
    if (!db || !out) return ACCTDB_ERR_INVALID;
    adb_api_begin();
    return adb_api_done(db, adb_eng_stats(db->db, out));
}

uint64_t
acctdb_db_service_error(acctdb_db_t *db, char *msg_out, size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!db) return 0;
    return adb_eng_svc_err(db->db, NULL, msg_out, msg_max);
}
