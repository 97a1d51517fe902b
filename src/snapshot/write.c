/* src/snapshot/write.c - the archive writer (see write.h).
 *
 * States: SWEEP (stale temporary files of dead writers removed; sweep) ->
 * TEMP (temp file created and flock'ed; create_temp) -> META (version,
 * dirs, manifest, status cache; frame ended) -> ACCOUNTS (one entry per
 * storage, frames ended every frame_sz at entry boundaries) -> END (two
 * zero blocks, last frame) -> SYNC (fsync file) -> RENAME -> DIRSYNC ->
 * UNLOCK.  Any error before RENAME unlinks the temporary file (still
 * locked); an error at DIRSYNC unlinks the final name again unless it was
 * there before; after DIRSYNC the archive is complete.
 *
 * Temporary files and crashes: the writer holds an exclusive flock on its
 * temporary file from TEMP to UNLOCK (on a dup of the write fd, so the
 * write fd can be closed, and its error checked, before RENAME).  A writer
 * killed in between leaves the file, but the kernel drops its lock, so the
 * next writer into the same directory can tell it from a live one: SWEEP
 * removes every regular file named tmp-snapshot-archive-* whose flock it
 * can take, and leaves those still locked.  (Agave's own staging entries of
 * that prefix are directories, never touched.)  A sweeper holds the lock
 * while it checks the name still names the file it locked and unlinks it;
 * create_temp, in turn, checks after locking that its name still names its
 * file, so a sweep that took a brand-new file between its creation and its
 * lock only makes the writer pick another name.
 *
 * Invariants:
 *   1. Each storage entry's data is exactly its declared size (checked).
 *   2. The manifest's storages map lists exactly the archived files with
 *      current_len == the tar size (FORMAT.md 2.4).
 *   3. No file with a snapshot name exists until its bytes are durable:
 *      the final name appears only by RENAME of the temporary file after
 *      SYNC, and a failed write returns with no file of its making under
 *      a snapshot name or a temporary one.
 *   4. A temporary file is removed only while its remover holds its flock:
 *      never while its writer lives. */
#include "snapshot/write.h"

#include "hash/lthash.h"
#include "snapshot/stream.h"
#include "snapshot/tar.h"
#include "util/io.h"
#include "util/point.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_PREFIX ADB_SNAP_TMP_PREFIX

struct adb_snap_out {
    adb_io_t const *io;
    adb_comp_t     *comp;
    int             fd;
    uint64_t        frame_sz;
    uint64_t        since_frame;
    uint64_t        entry_left; /* data bytes still expected for the entry */
    uint64_t        tar_sz;
    uint64_t        frames;
    int             err;
    adb_err_t      *e;
    char const     *dir, *tmp; /* for messages */
};

static _Thread_local adb_snap_write_stats_t g_last;

void
adb_snap_write_last_stats(adb_snap_write_stats_t *out) {
    *out = g_last;
}

static int
sink(void *ctx, void const *p, size_t sz) {
    adb_snap_out_t *o = ctx;
    return adb_io_write_all(o->io, o->fd, p, sz); /* -errno kept: ENOSPC, EIO, EDQUOT... */
}

static int
put(adb_snap_out_t *o, void const *p, size_t sz) {
    if (o->err) return o->err;
    int rc = adb_comp_write(o->comp, p, sz);
    if (rc)
        return o->err =
                   adb_err_set(o->e, rc, "writing %s/%s: %s", o->dir, o->tmp, acctdb_strerror(rc));
    o->tar_sz += sz;
    o->since_frame += sz;
    return 0;
}

static int
end_frame(adb_snap_out_t *o) {
    if (o->err) return o->err;
    int rc = adb_comp_end_frame(o->comp);
    if (rc)
        return o->err =
                   adb_err_set(o->e, rc, "writing %s/%s: %s", o->dir, o->tmp, acctdb_strerror(rc));
    o->since_frame = 0;
    o->frames++;
    return 0;
}

static int
entry(adb_snap_out_t *o, char const *path, bool is_dir, uint64_t size) {
    uint8_t hdr[ADB_TAR_BLOCK];
    int     rc = adb_tar_header(hdr, path, is_dir, size, 0);
    if (rc) return o->err = adb_err_set(o->e, rc, "tar header for '%s'", path);
    o->entry_left = size;
    return put(o, hdr, sizeof hdr);
}

static int
entry_end(adb_snap_out_t *o, uint64_t size) {
    static uint8_t const zero[ADB_TAR_BLOCK];
    if (o->entry_left)
        return o->err = adb_err_set(o->e, ACCTDB_ERR_INVALID,
                                    "an entry is %llu bytes short of its declared size",
                                    (unsigned long long)o->entry_left);
    ADB_TRY(put(o, zero, adb_tar_pad(size)));
    if (o->since_frame >= o->frame_sz) ADB_TRY(end_frame(o));
    return 0;
}

int
adb_snap_out_data(adb_snap_out_t *o, void const *p, size_t sz) {
    if (sz > o->entry_left)
        return o->err = adb_err_set(o->e, ACCTDB_ERR_INVALID,
                                    "a storage emitted more bytes than its declared size");
    o->entry_left -= sz;
    return put(o, p, sz);
}

static int
file_entry(adb_snap_out_t *o, char const *path, void const *p, size_t sz) {
    ADB_TRY(entry(o, path, false, sz));
    ADB_TRY(adb_snap_out_data(o, p, sz));
    return entry_end(o, sz);
}

static bool
same_file(struct stat const *a, struct stat const *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* SWEEP (write.h): best effort, so errors only leave files for a later
 * sweep.  Listing the directory (its own descriptor, for fdopendir),
 * fstatat and flock are not operations of the I/O table; each file is
 * opened, checked and removed through io. */
unsigned
adb_snap_sweep_tmps(int dfd) {
    return adb_snap_sweep_tmps_io(adb_io(), dfd);
}

unsigned
adb_snap_sweep_tmps_io(adb_io_t const *io, int dfd) {
    int ifd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ifd < 0) return 0;
    DIR *d = fdopendir(ifd);
    if (!d) {
        close(ifd);
        return 0;
    }
    unsigned       n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char const *name = de->d_name;
        struct stat st, fst, now;
        if (strncmp(name, TMP_PREFIX, sizeof TMP_PREFIX - 1)) continue;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode)) continue;
        int fd = adb_io_openat(io, dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
        if (fd < 0) continue;
        /* Locked: its writer lives.  Else it is ours to remove, if the name
         * still names the file we locked. */
        if (!adb_io_fstat(io, fd, &fst) && same_file(&st, &fst) && !flock(fd, LOCK_EX | LOCK_NB) &&
            !fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) && same_file(&fst, &now) &&
            !adb_io_unlinkat(io, dfd, name, 0))
            n++;
        adb_io_close(io, fd); /* drops the lock */
    }
    closedir(d);
    return n;
}

/* TEMP: creates dir/tmp-snapshot-archive-<random> (name into tmp, at least
 * 48 bytes), locked: *fd_out to write, *lock_out holding the flock.  A
 * file system without flock (ENOLCK, EOPNOTSUPP...) gets an unlocked file:
 * sweeps there cannot lock either, so they leave it alone. */
static int
create_temp(adb_io_t const *io, int dfd, char *tmp, size_t tmp_max, int *fd_out, int *lock_out) {
    *fd_out = *lock_out = -1;
    int rc = -EEXIST;
    for (int attempt = 0; attempt < 16; attempt++) {
        uint64_t rnd;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
            rnd = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull + (uint64_t)attempt;
        snprintf(tmp, tmp_max, TMP_PREFIX "%016llx", (unsigned long long)rnd);
        int fd = adb_io_openat(io, dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
        if (fd == -EEXIST) continue;
        if (fd < 0) return fd;
        struct stat mine, now;
        if (flock(fd, LOCK_EX | LOCK_NB)) {
            if (errno == EWOULDBLOCK) { /* a sweep took it in between: it goes */
                adb_io_close(io, fd);
                continue;
            }
        } else if (adb_io_fstat(io, fd, &mine) || fstatat(dfd, tmp, &now, AT_SYMLINK_NOFOLLOW) ||
                   !same_file(&mine, &now)) {
            adb_io_close(io, fd); /* swept before we locked it: gone already */
            continue;
        }
        /* The lock's own descriptor: a dup (raw, as flock), closed raw. */
        int lk = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (lk < 0) {
            rc = -errno;
            adb_io_close(io, fd);
            adb_io_unlinkat(io, dfd, tmp, 0);
            return rc;
        }
        *fd_out = fd;
        *lock_out = lk;
        return 0;
    }
    return rc;
}

int
adb_snap_write(char const *dir, adb_manifest_t *m, void const *status_cache, size_t status_cache_sz,
               adb_snap_storage_t const *st, size_t st_cnt, adb_snap_emit_fn emit, void *ctx,
               adb_snap_write_opts_t const *opts, char *path_out, adb_snap_name_t *name_out,
               adb_err_t *err) {
    memset(&g_last, 0, sizeof g_last);
    if (path_out) path_out[0] = 0;
    if (!dir || !m || !status_cache || (!st && st_cnt) || !emit || !opts)
        return adb_err_set(err, ACCTDB_ERR_INVALID, "snapshot writer: missing argument");
    if (!m->extra.has_accounts_lt_hash || !ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_ACCOUNTS_LT_HASH))
        return adb_err_set(err, ACCTDB_ERR_INVALID,
                           "snapshot writer: the manifest has no accounts_lt_hash");
    uint64_t slot = m->bank.slot;
    for (size_t i = 0; i < st_cnt; i++) {
        if (st[i].size == 0 || st[i].slot > slot ||
            (opts->incremental && st[i].slot <= opts->base_slot))
            return adb_err_set(err, ACCTDB_ERR_INVALID,
                               "snapshot writer: storage %zu (slot %llu, %llu bytes) does not "
                               "belong in this archive",
                               i, (unsigned long long)st[i].slot, (unsigned long long)st[i].size);
        for (size_t k = 0; k < i; k++)
            if (st[k].slot == st[i].slot)
                return adb_err_set(err, ACCTDB_ERR_INVALID,
                                   "snapshot writer: two storages for slot %llu",
                                   (unsigned long long)st[i].slot);
    }

    /* The storages map lists exactly what goes in, then the bank hash. */
    adb_storage_slot_t  *map = adb_manifest_alloc(m, (st_cnt ? st_cnt : 1) * sizeof *map);
    adb_storage_entry_t *ents = adb_manifest_alloc(m, (st_cnt ? st_cnt : 1) * sizeof *ents);
    if (!map || !ents) return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < st_cnt; i++) {
        ents[i] = (adb_storage_entry_t){st[i].id, st[i].size};
        map[i] = (adb_storage_slot_t){st[i].slot, &ents[i], 1};
    }
    m->accounts_db.storages = map;
    m->accounts_db.storages_cnt = st_cnt;
    m->accounts_db.slot = slot;
    int rc = adb_manifest_bank_hash(m, m->bank.hash.b);
    if (rc) return adb_err_set(err, rc, "snapshot writer: bank hash: %s", acctdb_strerror(rc));
    uint8_t *mbuf = NULL;
    size_t   msz = 0;
    rc = adb_manifest_encode_buf(m, &mbuf, &msz);
    if (rc) return adb_err_set(err, rc, "snapshot writer: encoding the manifest failed");

    /* Name from the lattice checksum. */
    adb_snap_name_t name = {
        .is_incremental = opts->incremental, .slot = slot, .base_slot = opts->base_slot};
    snprintf(name.ext, sizeof name.ext, "tar.zst");
    acctdb_lthash_t lt;
    memcpy(lt.v, m->extra.accounts_lt_hash, sizeof lt.v);
    adb_lthash_checksum(&lt, name.hash.b);
    char final[256], tmp[128], comp[300] = "";
    adb_snap_name_format(&name, final, sizeof final);
    snprintf(tmp, sizeof tmp, TMP_PREFIX "*");

    adb_io_t const *io = opts->io ? opts->io : adb_io();
    int             dfd = adb_io_openat(io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0) {
        adb_free(mbuf);
        return adb_err_set(err, dfd, "cannot open %s: %s", dir, acctdb_strerror(dfd));
    }
    adb_snap_out_t o = {.io = io,
                        .fd = -1,
                        .frame_sz = opts->frame_sz ? opts->frame_sz : (32u << 20),
                        .e = err,
                        .dir = dir,
                        .tmp = tmp};
    int            lock_fd = -1;
    bool           had_final = false; /* the final name existed before our rename */
    ADB_POINT("snapshot.begin");
    adb_snap_sweep_tmps_io(io, dfd);
    rc = create_temp(io, dfd, tmp, sizeof tmp, &o.fd, &lock_fd);
    if (rc) {
        adb_err_set(err, rc, "cannot create %s/%s: %s", dir, tmp, acctdb_strerror(rc));
        tmp[0] = 0; /* nothing of ours to remove */
        goto cleanup;
    }
    ADB_POINT("snapshot.created");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    rc = adb_comp_open(&o.comp, opts->level ? opts->level : 1,
                       opts->workers ? opts->workers : (unsigned)(ncpu > 0 ? ncpu : 1), sink, &o);
    if (rc) {
        adb_err_set(err, rc, "cannot start the compressor");
        goto cleanup;
    }
    char path[64];
    snprintf(path, sizeof path, "snapshots/%llu", (unsigned long long)slot);
    if ((rc = file_entry(&o, "version", "1.2.0", 5)) || (rc = entry(&o, "snapshots", true, 0)) ||
        (rc = entry_end(&o, 0)) || (rc = entry(&o, path, true, 0)) || (rc = entry_end(&o, 0)))
        goto cleanup;
    snprintf(path, sizeof path, "snapshots/%llu/%llu", (unsigned long long)slot,
             (unsigned long long)slot);
    if ((rc = file_entry(&o, path, mbuf, msz)) ||
        (rc = file_entry(&o, "snapshots/status_cache", status_cache, status_cache_sz)) ||
        (rc = end_frame(&o)))
        goto cleanup;
    for (size_t i = 0; i < st_cnt; i++) {
        snprintf(path, sizeof path, "accounts/%llu.%llu", (unsigned long long)st[i].slot,
                 (unsigned long long)st[i].id);
        if ((rc = entry(&o, path, false, st[i].size))) goto cleanup;
        rc = emit(ctx, i, &o);
        if (rc) {
            adb_err_set(err, rc, "storage for slot %llu: %s", (unsigned long long)st[i].slot,
                        acctdb_strerror(rc));
            goto cleanup;
        }
        if ((rc = entry_end(&o, st[i].size))) goto cleanup;
    }
    static uint8_t const zero2[2 * ADB_TAR_BLOCK];
    if ((rc = put(&o, zero2, sizeof zero2)) || (rc = end_frame(&o))) goto cleanup;
    adb_snap_write_stats_t stats = {o.tar_sz, adb_comp_out_total(o.comp), o.frames};
    adb_comp_close(o.comp);
    o.comp = NULL;
    ADB_POINT("snapshot.written");
    if ((rc = adb_io_fsync(io, o.fd)) != 0) {
        adb_err_set(err, rc, "fsync of %s/%s: %s", dir, tmp, acctdb_strerror(rc));
        goto cleanup;
    }
    ADB_POINT("snapshot.synced");
    rc = adb_io_close(io, o.fd); /* lock_fd keeps the lock */
    o.fd = -1;
    if (rc) {
        adb_err_set(err, rc, "closing %s/%s: %s", dir, tmp, acctdb_strerror(rc));
        goto cleanup;
    }
    struct stat fst;
    had_final = fstatat(dfd, final, &fst, AT_SYMLINK_NOFOLLOW) == 0;
    if (opts->companion_suffix) {
        snprintf(comp, sizeof comp, "%s%s", final, opts->companion_suffix);
        rc = adb_io_write_file_atomic(io, dfd, comp, opts->companion, opts->companion_sz);
        if (rc) {
            adb_err_set(err, rc, "writing %s/%s: %s", dir, comp, acctdb_strerror(rc));
            goto cleanup;
        }
        ADB_POINT("snapshot.companion");
    }
    if ((rc = adb_io_renameat(io, dfd, tmp, dfd, final)) != 0) {
        adb_err_set(err, rc, "renaming %s/%s to %s: %s", dir, tmp, final, acctdb_strerror(rc));
        goto cleanup;
    }
    tmp[0] = 0; /* renamed: nothing to remove */
    ADB_POINT("snapshot.renamed");
    if ((rc = adb_io_fsync_dir(io, dfd)) != 0) {
        /* The name may not survive a crash: take it back rather than
         * report a failure with an archive in place (one that was there
         * before, with the same name and so the same state, stays). */
        adb_err_set(err, rc, "fsync of %s after renaming to %s: %s", dir, final,
                    acctdb_strerror(rc));
        if (!had_final && !adb_io_unlinkat(io, dfd, final, 0)) adb_io_fsync_dir(io, dfd);
        goto cleanup;
    }
    ADB_POINT("snapshot.dirsynced");
    g_last = stats;
    if (path_out) snprintf(path_out, 4096, "%s/%s", dir, final);
    if (name_out) *name_out = name;
cleanup:
    adb_comp_close(o.comp);
    if (o.fd >= 0) adb_io_close(io, o.fd);
    if (rc && tmp[0]) adb_io_unlinkat(io, dfd, tmp, 0); /* while still locked */
    /* A companion of an archive that failed (one that was there before, of
     * the same name and so the same state, keeps it). */
    if (rc && comp[0] && !had_final) adb_io_unlinkat(io, dfd, comp, 0);
    if (lock_fd >= 0) close(lock_fd);
    adb_io_close(io, dfd);
    adb_free(mbuf);
    if (rc && err && !err->code) adb_err_set(err, rc, "%s", acctdb_strerror(rc));
    return rc;
}
