/* src/util/io.c - the POSIX I/O table and helpers. */
#include "util/io.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int
p_openat(void *ctx, int dirfd, char const *path, int flags, int mode) {
    (void)ctx;
    int fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
    return fd < 0 ? -errno : fd;
}
static int
p_close(void *ctx, int fd) {
    (void)ctx;
    return close(fd) ? -errno : 0;
}
static ssize_t
p_pwrite(void *ctx, int fd, void const *buf, size_t sz, uint64_t off) {
    (void)ctx;
    ssize_t r = pwrite(fd, buf, sz, (off_t)off);
    return r < 0 ? -errno : r;
}
static ssize_t
p_write(void *ctx, int fd, void const *buf, size_t sz) {
    (void)ctx;
    ssize_t r = write(fd, buf, sz);
    return r < 0 ? -errno : r;
}
static int
p_fsync(void *ctx, int fd) {
    (void)ctx;
    return fsync(fd) ? -errno : 0;
}
static int
p_fdatasync(void *ctx, int fd) {
    (void)ctx;
    return fdatasync(fd) ? -errno : 0;
}
static int
p_ftruncate(void *ctx, int fd, uint64_t sz) {
    (void)ctx;
    return ftruncate(fd, (off_t)sz) ? -errno : 0;
}
static int
p_fallocate(void *ctx, int fd, uint64_t off, uint64_t sz) {
    (void)ctx;
    return fallocate(fd, 0, (off_t)off, (off_t)sz) ? -errno : 0;
}
static int
p_renameat(void *ctx, int od, char const *op, int nd, char const *np) {
    (void)ctx;
    return renameat(od, op, nd, np) ? -errno : 0;
}
static int
p_unlinkat(void *ctx, int dirfd, char const *path, int flags) {
    (void)ctx;
    return unlinkat(dirfd, path, flags) ? -errno : 0;
}
static int
p_mkdirat(void *ctx, int dirfd, char const *path, int mode) {
    (void)ctx;
    return mkdirat(dirfd, path, (mode_t)mode) ? -errno : 0;
}

static int
p_punch(void *ctx, int fd, uint64_t off, uint64_t len) {
    (void)ctx;
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len)
               ? -errno
               : 0;
}

static adb_io_t const  g_posix = {p_openat,    p_close,     p_pwrite,    p_write,    p_fsync,
                                  p_fdatasync, p_ftruncate, p_fallocate, p_renameat, p_unlinkat,
                                  p_mkdirat,   p_punch,     NULL};
static adb_io_t const *g_io = &g_posix;

adb_io_t const *
adb_io(void) {
    return g_io;
}
void
adb_io_set(adb_io_t const *io) {
    g_io = io ? io : &g_posix;
}
adb_io_t const *
adb_io_posix(void) {
    return &g_posix;
}

int
adb_io_openat(int dirfd, char const *path, int flags, int mode) {
    return g_io->openat(g_io->ctx, dirfd, path, flags, mode);
}
int
adb_io_close(int fd) {
    return fd < 0 ? 0 : g_io->close(g_io->ctx, fd);
}

int
adb_io_write_all(int fd, void const *buf, size_t sz) {
    uint8_t const *p = buf;
    while (sz) {
        ssize_t r = g_io->write(g_io->ctx, fd, p, sz);
        if (r == -EINTR) continue;
        if (r < 0) return (int)r;
        if (r == 0) return -EIO;
        p += r;
        sz -= (size_t)r;
    }
    return 0;
}

int
adb_io_pwrite_all(int fd, void const *buf, size_t sz, uint64_t off) {
    uint8_t const *p = buf;
    while (sz) {
        ssize_t r = g_io->pwrite(g_io->ctx, fd, p, sz, off);
        if (r == -EINTR) continue;
        if (r < 0) return (int)r;
        if (r == 0) return -EIO;
        p += r;
        off += (uint64_t)r;
        sz -= (size_t)r;
    }
    return 0;
}

int
adb_io_fsync(int fd) {
    return g_io->fsync(g_io->ctx, fd);
}
int
adb_io_fdatasync(int fd) {
    return g_io->fdatasync(g_io->ctx, fd);
}
int
adb_io_ftruncate(int fd, uint64_t sz) {
    return g_io->ftruncate(g_io->ctx, fd, sz);
}
int
adb_io_renameat(int od, char const *op, int nd, char const *np) {
    return g_io->renameat(g_io->ctx, od, op, nd, np);
}
int
adb_io_unlinkat(int dirfd, char const *path, int flags) {
    return g_io->unlinkat(g_io->ctx, dirfd, path, flags);
}
int
adb_io_mkdirat(int dirfd, char const *path, int mode) {
    return g_io->mkdirat(g_io->ctx, dirfd, path, mode);
}

int
adb_io_punch(int fd, uint64_t off, uint64_t len) {
    return g_io->punch(g_io->ctx, fd, off, len);
}

int
adb_io_fsync_dir(int dirfd) {
    return g_io->fsync(g_io->ctx, dirfd);
}

int
adb_io_write_file_atomic(int dirfd, char const *name, void const *buf, size_t sz) {
    char tmp[512];
    if (snprintf(tmp, sizeof tmp, ".tmp-%s", name) >= (int)sizeof tmp) return ACCTDB_ERR_INVALID;
    int fd = adb_io_openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (fd < 0) return fd;
    int rc = adb_io_write_all(fd, buf, sz);
    if (!rc) rc = adb_io_fsync(fd);
    int crc = adb_io_close(fd);
    if (!rc) rc = crc;
    if (!rc) rc = adb_io_renameat(dirfd, tmp, dirfd, name);
    if (!rc) rc = adb_io_fsync_dir(dirfd);
    if (rc) adb_io_unlinkat(dirfd, tmp, 0);
    return rc;
}

int
adb_io_read_file(int dirfd, char const *name, size_t max_sz, uint8_t **buf_out, size_t *sz_out) {
    *buf_out = NULL;
    *sz_out = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = -errno; /* EIO stays EIO */
        close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ACCTDB_ERR_CORRUPT;
    }
    if ((uint64_t)st.st_size > max_sz) {
        close(fd);
        return ACCTDB_ERR_FULL;
    }
    size_t   sz = (size_t)st.st_size;
    uint8_t *b = adb_malloc(sz);
    if (!b) {
        close(fd);
        return ACCTDB_ERR_NOMEM;
    }
    size_t got = 0;
    while (got < sz) {
        ssize_t r = pread(fd, b + got, sz - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? -errno : ACCTDB_ERR_CORRUPT;
            close(fd);
            adb_free(b);
            return e;
        }
        got += (size_t)r;
    }
    close(fd);
    *buf_out = b;
    *sz_out = sz;
    return 0;
}
