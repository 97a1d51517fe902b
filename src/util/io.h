/* src/util/io.h - every file operation on persistent state goes through one
 * table of function pointers (SQLite's VFS, fd_vinyl_io): opens, reads,
 * writes, syncs, renames, unlinks, truncation, punching, fstat and mmap.
 * A database handle holds its own table (adb_db_t.io), so a test can give
 * one handle a table that fails the Nth call, returns EIO or ENOSPC from one
 * call site, or drops unsynced writes (a simulated power loss), while the
 * rest of the process keeps POSIX.
 *
 * Every op gets the call site ("db_flush.c:235") as its last argument, so an
 * error sweep can enumerate the sites a run reaches and fail each in turn.
 * Callers use the wrapper macros below, which supply it.
 *
 * All functions return 0 (or a byte count / fd) on success and -errno on
 * failure, never set errno for the caller to read.  Mappings are read-only
 * (PROT_READ, MAP_SHARED): no state is written through a mapping, so there is
 * no msync; a read error through a mapping is a SIGBUS, which no table can
 * turn into an error code (the I/O-error sweep therefore runs with mapped
 * reads off). */
#ifndef ADB_UTIL_IO_H
#define ADB_UTIL_IO_H

#include "util/util.h"

#include <sys/stat.h>
#include <sys/types.h>

typedef struct adb_io {
    int (*openat)(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site);
    int (*close)(void *ctx, int fd, char const *site);
    ssize_t (*pread)(void *ctx, int fd, void *buf, size_t sz, uint64_t off, char const *site);
    ssize_t (*pwrite)(void *ctx, int fd, void const *buf, size_t sz, uint64_t off,
                      char const *site);
    ssize_t (*write)(void *ctx, int fd, void const *buf, size_t sz, char const *site);
    int (*fsync)(void *ctx, int fd, char const *site);
    int (*fdatasync)(void *ctx, int fd, char const *site);
    int (*ftruncate)(void *ctx, int fd, uint64_t sz, char const *site);
    int (*fallocate)(void *ctx, int fd, uint64_t off, uint64_t sz, char const *site);
    int (*punch)(void *ctx, int fd, uint64_t off, uint64_t len, char const *site); /* keep size */
    int (*renameat)(void *ctx, int olddirfd, char const *oldp, int newdirfd, char const *newp,
                    char const *site);
    int (*unlinkat)(void *ctx, int dirfd, char const *path, int flags, char const *site);
    int (*mkdirat)(void *ctx, int dirfd, char const *path, int mode, char const *site);
    int (*fstat)(void *ctx, int fd, struct stat *st, char const *site);
    /* Read-only shared mapping of [off, off+len) of fd into *out. */
    int (*mmap)(void *ctx, int fd, uint64_t off, size_t len, void **out, char const *site);
    int (*munmap)(void *ctx, void *p, size_t len, char const *site);
    void *ctx;
} adb_io_t;

#define ADB_IO_STR_(x) #x
#define ADB_IO_STR(x)  ADB_IO_STR_(x)
/* "db_flush.c:235": the file's base name and line of the call. */
#define ADB_IO_SITE (__FILE_NAME__ ":" ADB_IO_STR(__LINE__))

/* The process-wide default table (POSIX unless a test replaced it), for
 * callers without a database handle (downloads, tools, the cluster
 * simulator). */
adb_io_t const *adb_io(void);
/* Replaces the default (NULL restores POSIX); for tests, before threads
 * start.  Prefer a per-handle table. */
void            adb_io_set(adb_io_t const *io);
adb_io_t const *adb_io_posix(void);
/* *out: inner with fsync and fdatasync doing nothing (the config key
 * sync = false); every other op is inner's, with inner's ctx. */
void adb_io_nosync_init(adb_io_t *out, adb_io_t const *inner);

/* Wrappers: the table first, the site supplied by the macro. */
int adb_io_openat_(adb_io_t const *io, int dirfd, char const *path, int flags, int mode,
                   char const *site);
int adb_io_close_(adb_io_t const *io, int fd, char const *site);
/* Reads exactly sz bytes at off; ACCTDB_ERR_CORRUPT at end of file. */
int adb_io_pread_all_(adb_io_t const *io, int fd, void *buf, size_t sz, uint64_t off,
                      char const *site);
/* One pread (may return fewer bytes than asked, 0 at end of file). */
ssize_t adb_io_pread_(adb_io_t const *io, int fd, void *buf, size_t sz, uint64_t off,
                      char const *site);
int     adb_io_write_all_(adb_io_t const *io, int fd, void const *buf, size_t sz, char const *site);
int     adb_io_pwrite_all_(adb_io_t const *io, int fd, void const *buf, size_t sz, uint64_t off,
                           char const *site);
int     adb_io_fsync_(adb_io_t const *io, int fd, char const *site);
int     adb_io_fdatasync_(adb_io_t const *io, int fd, char const *site);
int     adb_io_ftruncate_(adb_io_t const *io, int fd, uint64_t sz, char const *site);
int     adb_io_fallocate_(adb_io_t const *io, int fd, uint64_t off, uint64_t sz, char const *site);
int     adb_io_punch_(adb_io_t const *io, int fd, uint64_t off, uint64_t len, char const *site);
int     adb_io_renameat_(adb_io_t const *io, int olddirfd, char const *oldp, int newdirfd,
                         char const *newp, char const *site);
int adb_io_unlinkat_(adb_io_t const *io, int dirfd, char const *path, int flags, char const *site);
int adb_io_mkdirat_(adb_io_t const *io, int dirfd, char const *path, int mode, char const *site);
int adb_io_fstat_(adb_io_t const *io, int fd, struct stat *st, char const *site);
int adb_io_mmap_(adb_io_t const *io, int fd, uint64_t off, size_t len, void **out,
                 char const *site);
int adb_io_munmap_(adb_io_t const *io, void *p, size_t len, char const *site);
/* Writes buf to dirfd/name atomically: a temporary name (.tmp-NAME) in the
 * same directory, write, fsync, rename, fsync of the directory. */
int adb_io_write_file_atomic_(adb_io_t const *io, int dirfd, char const *name, void const *buf,
                              size_t sz, char const *site);
/* Reads a whole small regular file (<= max_sz, else ACCTDB_ERR_FULL) into a
 * new buffer (adb_free). */
int adb_io_read_file_(adb_io_t const *io, int dirfd, char const *name, size_t max_sz,
                      uint8_t **buf_out, size_t *sz_out, char const *site);

#define adb_io_openat(io, ...)     adb_io_openat_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_close(io, fd)       adb_io_close_((io), (fd), ADB_IO_SITE)
#define adb_io_pread(io, ...)      adb_io_pread_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_pread_all(io, ...)  adb_io_pread_all_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_write_all(io, ...)  adb_io_write_all_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_pwrite_all(io, ...) adb_io_pwrite_all_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_fsync(io, fd)       adb_io_fsync_((io), (fd), ADB_IO_SITE)
#define adb_io_fdatasync(io, fd)   adb_io_fdatasync_((io), (fd), ADB_IO_SITE)
/* fsync of a directory (after a create, rename or unlink inside it). */
#define adb_io_fsync_dir(io, dirfd)       adb_io_fsync_((io), (dirfd), ADB_IO_SITE)
#define adb_io_ftruncate(io, ...)         adb_io_ftruncate_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_fallocate(io, ...)         adb_io_fallocate_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_punch(io, ...)             adb_io_punch_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_renameat(io, ...)          adb_io_renameat_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_unlinkat(io, ...)          adb_io_unlinkat_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_mkdirat(io, ...)           adb_io_mkdirat_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_fstat(io, ...)             adb_io_fstat_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_mmap(io, ...)              adb_io_mmap_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_munmap(io, ...)            adb_io_munmap_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_write_file_atomic(io, ...) adb_io_write_file_atomic_((io), __VA_ARGS__, ADB_IO_SITE)
#define adb_io_read_file(io, ...)         adb_io_read_file_((io), __VA_ARGS__, ADB_IO_SITE)

#endif
