/* src/util/io.h - every file operation that changes disk state goes through
 * this one table of function pointers (SQLite's VFS, fd_vinyl_io), so tests
 * can fail the Nth call, return EIO/ENOSPC from one call site, or drop
 * unsynced writes.  Reads through mmap/pread are not routed here.
 *
 * All functions return 0 (or a byte count / fd) on success and -errno on
 * failure, never set errno for the caller to read. */
#ifndef ADB_UTIL_IO_H
#define ADB_UTIL_IO_H

#include "util/util.h"

#include <sys/types.h>

typedef struct adb_io {
    int (*openat)(void *ctx, int dirfd, char const *path, int flags, int mode);
    int (*close)(void *ctx, int fd);
    ssize_t (*pwrite)(void *ctx, int fd, void const *buf, size_t sz, uint64_t off);
    ssize_t (*write)(void *ctx, int fd, void const *buf, size_t sz);
    int (*fsync)(void *ctx, int fd);
    int (*fdatasync)(void *ctx, int fd);
    int (*ftruncate)(void *ctx, int fd, uint64_t sz);
    int (*fallocate)(void *ctx, int fd, uint64_t off, uint64_t sz);
    int (*renameat)(void *ctx, int olddirfd, char const *oldp, int newdirfd, char const *newp);
    int (*unlinkat)(void *ctx, int dirfd, char const *path, int flags);
    int (*mkdirat)(void *ctx, int dirfd, char const *path, int mode);
    int (*punch)(void *ctx, int fd, uint64_t off, uint64_t len); /* free a range, keep size */
    void *ctx;
} adb_io_t;

/* The process-wide table (defaults to POSIX). */
adb_io_t const *adb_io(void);
/* Replaces it (NULL restores POSIX); for tests, before threads start. */
void            adb_io_set(adb_io_t const *io);
adb_io_t const *adb_io_posix(void);

/* Convenience wrappers over adb_io(). */
int adb_io_openat(int dirfd, char const *path, int flags, int mode);
int adb_io_close(int fd);
int adb_io_write_all(int fd, void const *buf, size_t sz);
int adb_io_pwrite_all(int fd, void const *buf, size_t sz, uint64_t off);
int adb_io_fsync(int fd);
int adb_io_fdatasync(int fd);
int adb_io_ftruncate(int fd, uint64_t sz);
int adb_io_renameat(int olddirfd, char const *oldp, int newdirfd, char const *newp);
int adb_io_unlinkat(int dirfd, char const *path, int flags);
int adb_io_mkdirat(int dirfd, char const *path, int mode);
int adb_io_punch(int fd, uint64_t off, uint64_t len);
/* fsync of a directory (after a rename or create inside it). */
int adb_io_fsync_dir(int dirfd);

/* Writes buf to dirfd/name atomically: a temporary name in the same
 * directory, write, fsync, rename, fsync of the directory. */
int adb_io_write_file_atomic(int dirfd, char const *name, void const *buf, size_t sz);

/* Reads a whole small file (<= max_sz) into a new buffer (adb_free). */
int adb_io_read_file(int dirfd, char const *name, size_t max_sz, uint8_t **buf_out, size_t *sz_out);

#endif
