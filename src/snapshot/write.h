/* src/snapshot/write.h - writing snapshot archives.
 *
 * Layout (FORMAT.md 1.2, Agave's order): version, snapshots/,
 * snapshots/<S>/, snapshots/<S>/<S> (manifest), snapshots/status_cache,
 * then accounts/<slot>.<id> for each storage.  POSIX ustar headers; zstd
 * level 1 with worker threads; a frame ends after the metadata and then
 * about every 32 MiB at an entry boundary, so frames decompress
 * independently.  The archive is written under a temporary name in the
 * target directory, tmp-snapshot-archive-<random>, fsynced, renamed to its
 * final name (FORMAT.md 1.3, lattice era) and the directory fsynced; on any
 * failure the temporary file is removed and no file with a snapshot name
 * appears (one that existed before with the same name stays).
 *
 * The writer holds an exclusive flock(2) on its temporary file for the
 * whole write.  Each write first removes the tmp-snapshot-archive-* regular
 * files of the directory whose flock it can take: those of writers that
 * died (SIGKILL, power loss) mid-write; files still locked belong to live
 * writers, in this process or another, and stay.  Concurrent writers into
 * one directory are safe.
 *
 * The caller supplies the manifest (every field but the storages map and
 * the bank hash, which the writer derives), the status cache bytes, and the
 * storages: for each, slot, id and exact size, then the bytes through a
 * callback (adb_snap_out_data) in order. */
#ifndef ADB_SNAPSHOT_WRITE_H
#define ADB_SNAPSHOT_WRITE_H

#include "snapshot/manifest.h"
#include "snapshot/naming.h"
#include "util/io.h"

typedef struct adb_snap_out adb_snap_out_t;

typedef struct adb_snap_storage {
    uint64_t slot;
    uint64_t id;
    uint64_t size; /* bytes of records (> 0) */
} adb_snap_storage_t;

/* Streams storage i: call adb_snap_out_data until exactly size bytes. */
typedef int (*adb_snap_emit_fn)(void *ctx, size_t i, adb_snap_out_t *out);

typedef struct adb_snap_write_opts {
    int             level;    /* zstd level; 0 -> 1 */
    unsigned        workers;  /* zstd worker threads; 0 -> CPUs */
    uint64_t        frame_sz; /* uncompressed bytes per frame; 0 -> 32 MiB */
    bool            incremental;
    uint64_t        base_slot; /* incremental only */
    adb_io_t const *io;        /* the archive's file operations (NULL: adb_io()) */
    /* A companion file <archive><companion_suffix> (e.g. acctdb's sidecar),
     * written durably (temporary name, fsync, rename, directory fsync)
     * before the archive gets its final name, so the archive never exists
     * without it; removed again if the archive then fails.  NULL: none. */
    char const *companion_suffix;
    void const *companion;
    size_t      companion_sz;
} adb_snap_write_opts_t;

/* Writes the archive into dir.  m->accounts_db.storages (and slot) and
 * m->bank.hash are overwritten from the storages and the other fields; m
 * must carry accounts_lt_hash.  path_out (>= 4096 bytes, may be NULL) gets
 * the final path, name_out (may be NULL) the parsed name.  Errors: INVALID
 * (inconsistent input), -errno of the failed file operation (-ENOSPC,
 * -EDQUOT, -EIO, -EACCES, -EROFS...: the code and err's message keep it),
 * an emit callback's error, NOMEM; err says which, with the path. */
int adb_snap_write(char const *dir, adb_manifest_t *m, void const *status_cache,
                   size_t status_cache_sz, adb_snap_storage_t const *st, size_t st_cnt,
                   adb_snap_emit_fn emit, void *ctx, adb_snap_write_opts_t const *opts,
                   char *path_out, adb_snap_name_t *name_out, adb_err_t *err);

/* Appends data to the current storage (from an emit callback). */
int adb_snap_out_data(adb_snap_out_t *out, void const *p, size_t sz);

/* Sizes of what was written by the last adb_snap_write in this thread. */
typedef struct adb_snap_write_stats {
    uint64_t tar_sz, compressed_sz, frames;
} adb_snap_write_stats_t;
void adb_snap_write_last_stats(adb_snap_write_stats_t *out);

/* The temporary archives in dfd (tmp-snapshot-archive-*, regular files)
 * whose writers died (their flock is free) are removed: every writer of
 * that name, the archive writer and bootstrap's downloads, holds the lock
 * until it renames or removes its file.  Best effort.  Returns how many it
 * removed. */
#define ADB_SNAP_TMP_PREFIX "tmp-snapshot-archive-"
unsigned adb_snap_sweep_tmps(int dfd);
/* The same with the files opened, checked and removed through io. */
unsigned adb_snap_sweep_tmps_io(adb_io_t const *io, int dfd);

#endif
