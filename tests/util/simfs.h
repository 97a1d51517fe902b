/* tests/util/simfs.h - a simulated file system under the I/O table, for
 * power-loss tests (test-only code).
 *
 * Every op goes to the real files, so reads, fstat and mappings see what a
 * process sees before a power loss (the page cache).  Beside that, simfs
 * keeps an undo journal of what is not durable yet, the way a real file
 * system may lose it:
 *
 *   data   per inode, the pre-image of every write, ftruncate, fallocate and
 *          punch since the inode's last fsync / fdatasync (read with a real
 *          pread just before the change); a sync of any fd of the inode
 *          clears it.
 *   names  per directory, the creates, mkdirs, renames and unlinks since its
 *          last fsync; an unlink (and a rename over an existing file) moves
 *          the old inode to a grave name so the op can be undone; an fsync of
 *          the directory commits them (graves are deleted).
 *
 * simfs_crash() freezes the table (every later op returns -EIO and changes
 * nothing: close and munmap release the descriptor or mapping, which touches
 * no data) and undoes what a power loss may lose:
 *   - name ops, newest first, each undone with probability dir_undo_p unless
 *     a newer op that is kept depends on its names (a rename without a
 *     directory fsync shows either name, never both, never neither);
 *   - data: each unsynced change, newest first, per 4 KiB sector of the file
 *     kept or restored to its pre-image (a torn write; tear = false: one
 *     coin per change);
 *   - sizes: with `truncate`, each file whose size changed since its last
 *     sync is set to its synced size or left as it is (a coin).
 * The result is a state a POSIX file system could show after the crash; a
 * program that orders its fsyncs right must reopen from it.
 *
 * A crash is triggered at the k-th mutating op (openat with O_CREAT or
 * O_TRUNC, pwrite, write, fsync, fdatasync, ftruncate, fallocate, punch,
 * renameat, unlinkat, mkdirat; counted from 1 since simfs_new), or at the
 * nth op from one call site: that op does not happen and returns -EIO, and
 * the table is frozen from then on.  Ops on files simfs never saw opened
 * (raw opens) are tracked by inode on first use, their size then taken as
 * durable.
 *
 * A kill (the process dies, the page cache survives) is a trigger without
 * simfs_crash: simfs_thaw lets a new handle go on with the journal kept.
 * An injected failure (simfs_fail) makes one op return an errno; a failed
 * sync dooms what was pending ("fsyncgate").
 *
 * Durability is simulated: simfs never calls the real fsync or fdatasync
 * (they would only cost time).  Thread-safe (one mutex), but a replayable
 * crash point needs one thread doing I/O (cfg.background off). */
#ifndef ADB_TESTS_SIMFS_H
#define ADB_TESTS_SIMFS_H

#include "util/io.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct simfs simfs_t;

typedef struct simfs_crash_opts {
    bool   tear;       /* per 4 KiB sector (else per change) */
    bool   truncate;   /* a file may fall back to its synced size */
    double dir_undo_p; /* chance an uncommitted name op is undone; 0.5 */
} simfs_crash_opts_t;

/* What a crash undid. */
typedef struct simfs_crash_report {
    uint64_t dir_ops, dir_undone; /* uncommitted name ops, of them undone */
    uint64_t dir_skipped;         /* undos whose name a raw op (outside the table)
                                   * had removed since: nothing to undo */
    uint64_t changes, sectors;    /* unsynced data changes, their sectors */
    uint64_t doomed;              /* of the changes, pending at a failed sync */
    uint64_t sectors_restored;    /* of them, set back to the pre-image */
    uint64_t files_truncated;     /* set back to their synced size */
    uint64_t files_dirty;         /* inodes with unsynced changes */
} simfs_crash_report_t;

/* simfs_new: a table over the real file system.  grave_dir (created if
 * absent) holds unlinked inodes until their directory is synced; it must be
 * on the same file system as the files, outside any directory the program
 * lists.  NULL on failure. */
simfs_t *simfs_new(char const *grave_dir);
/* simfs_free: closes simfs's own descriptors; the journal is dropped (what
 * was not undone stays as it is on disk). */
void simfs_free(simfs_t *sf);

adb_io_t const *simfs_io(simfs_t *sf);

/* Crash (freeze) when the k-th mutating op is about to run; 0 = never. */
void simfs_trigger_op(simfs_t *sf, uint64_t k);
/* Crash at the nth (1-based) op of any kind from site (copied). */
void simfs_trigger_site(simfs_t *sf, char const *site, uint64_t nth);

/* simfs_fail: the nth (1-based) op from site (and of kind op, e.g. "fsync";
 * NULL: any) fails with err (-EIO, -ENOSPC...) and changes nothing; later
 * ops go on (a transient error).  A failed fsync or fdatasync dooms what was
 * pending on the file: no later sync makes it durable (Linux marks the pages
 * clean after a writeback error, so a retried fsync succeeds without
 * writing them: "fsyncgate"), and a crash restores it whatever the draw
 * (except bytes a later synced write covers).  A failed directory fsync
 * leaves its name ops pending.  Close and munmap release the descriptor or
 * mapping before returning the error. */
void simfs_fail(simfs_t *sf, char const *site, char const *op, uint64_t nth, int err);
/* "site op" of the injected failure once it fired, else NULL. */
char const *simfs_failed_at(simfs_t const *sf);
/* fn(ctx, site, op) for every op before it runs (not after freezing). */
void simfs_record(simfs_t *sf, void (*fn)(void *ctx, char const *site, char const *op), void *ctx);

/* Mutating ops run so far (the triggering one not included). */
uint64_t simfs_mut_ops(simfs_t const *sf);
bool     simfs_frozen(simfs_t const *sf);
/* The site and op name of the op that triggered the crash ("" if none). */
char const *simfs_crash_site(simfs_t const *sf);
char const *simfs_crash_op(simfs_t const *sf);

/* simfs_thaw: after a trigger froze the table and no crash followed (the
 * process was killed: the page cache survives), lets ops through again with
 * the journal kept, so a later simfs_crash still undoes what the killed
 * process left unsynced (a kill -9, a restart, then a power loss).  Clears
 * the triggers and the op count goes on. */
void simfs_thaw(simfs_t *sf);

/* simfs_crash: freezes (if not yet) and undoes what the power loss loses,
 * drawing every choice from seed.  rep may be NULL.  Returns 0, or -errno if
 * an undo step failed on the real file system (the test should fail). */
int simfs_crash(simfs_t *sf, uint64_t seed, simfs_crash_opts_t const *opts,
                simfs_crash_report_t *rep);

#endif
