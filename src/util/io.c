/* src/util/io.c - the POSIX I/O table and the wrappers over any table. */
#include "util/io.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static int
p_openat(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site) {
    (void)ctx, (void)site;
    int fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
    return fd < 0 ? -errno : fd;
}
static int
p_close(void *ctx, int fd, char const *site) {
    (void)ctx, (void)site;
    return close(fd) ? -errno : 0;
}
static ssize_t
p_pread(void *ctx, int fd, void *buf, size_t sz, uint64_t off, char const *site) {
    (void)ctx, (void)site;
    ssize_t r = pread(fd, buf, sz, (off_t)off);
    return r < 0 ? -errno : r;
}
static ssize_t
p_pwrite(void *ctx, int fd, void const *buf, size_t sz, uint64_t off, char const *site) {
    (void)ctx, (void)site;
    ssize_t r = pwrite(fd, buf, sz, (off_t)off);
    return r < 0 ? -errno : r;
}
static ssize_t
p_write(void *ctx, int fd, void const *buf, size_t sz, char const *site) {
    (void)ctx, (void)site;
    ssize_t r = write(fd, buf, sz);
    return r < 0 ? -errno : r;
}
static int
p_fsync(void *ctx, int fd, char const *site) {
    (void)ctx, (void)site;
    return fsync(fd) ? -errno : 0;
}
static int
p_fdatasync(void *ctx, int fd, char const *site) {
    (void)ctx, (void)site;
    return fdatasync(fd) ? -errno : 0;
}
static int
p_ftruncate(void *ctx, int fd, uint64_t sz, char const *site) {
    (void)ctx, (void)site;
    return ftruncate(fd, (off_t)sz) ? -errno : 0;
}
static int
p_fallocate(void *ctx, int fd, uint64_t off, uint64_t sz, char const *site) {
    (void)ctx, (void)site;
    return fallocate(fd, 0, (off_t)off, (off_t)sz) ? -errno : 0;
}
static int
p_punch(void *ctx, int fd, uint64_t off, uint64_t len, char const *site) {
    (void)ctx, (void)site;
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len)
               ? -errno
               : 0;
}
static int
p_renameat(void *ctx, int od, char const *op, int nd, char const *np, char const *site) {
    (void)ctx, (void)site;
    return renameat(od, op, nd, np) ? -errno : 0;
}
static int
p_unlinkat(void *ctx, int dirfd, char const *path, int flags, char const *site) {
    (void)ctx, (void)site;
    return unlinkat(dirfd, path, flags) ? -errno : 0;
}
static int
p_mkdirat(void *ctx, int dirfd, char const *path, int mode, char const *site) {
    (void)ctx, (void)site;
    return mkdirat(dirfd, path, (mode_t)mode) ? -errno : 0;
}
static int
p_fstat(void *ctx, int fd, struct stat *st, char const *site) {
    (void)ctx, (void)site;
    return fstat(fd, st) ? -errno : 0;
}
static int
p_mmap(void *ctx, int fd, uint64_t off, size_t len, void **out, char const *site) {
    (void)ctx, (void)site;
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}
static int
p_munmap(void *ctx, void *p, size_t len, char const *site) {
    (void)ctx, (void)site;
    return munmap(p, len) ? -errno : 0;
}

static adb_io_t const g_posix = {
    .openat = p_openat,
    .close = p_close,
    .pread = p_pread,
    .pwrite = p_pwrite,
    .write = p_write,
    .fsync = p_fsync,
    .fdatasync = p_fdatasync,
    .ftruncate = p_ftruncate,
    .fallocate = p_fallocate,
    .punch = p_punch,
    .renameat = p_renameat,
    .unlinkat = p_unlinkat,
    .mkdirat = p_mkdirat,
    .fstat = p_fstat,
    .mmap = p_mmap,
    .munmap = p_munmap,
    .ctx = NULL,
};
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

static int
nosync(void *ctx, int fd, char const *site) {
    (void)ctx, (void)fd, (void)site;
    return 0;
}

void
adb_io_nosync_init(adb_io_t *out, adb_io_t const *inner) {
    *out = *inner;
    out->fsync = nosync;
    out->fdatasync = nosync;
}

int
adb_io_openat_(adb_io_t const *io, int dirfd, char const *path, int flags, int mode,
               char const *site) {
    return io->openat(io->ctx, dirfd, path, flags, mode, site);
}
int
adb_io_close_(adb_io_t const *io, int fd, char const *site) {
    return fd < 0 ? 0 : io->close(io->ctx, fd, site);
}
ssize_t
adb_io_pread_(adb_io_t const *io, int fd, void *buf, size_t sz, uint64_t off, char const *site) {
    for (;;) {
        ssize_t r = io->pread(io->ctx, fd, buf, sz, off, site);
        if (r != -EINTR) return r;
    }
}
int
adb_io_pread_all_(adb_io_t const *io, int fd, void *buf, size_t sz, uint64_t off,
                  char const *site) {
    uint8_t *p = buf;
    while (sz) {
        ssize_t r = io->pread(io->ctx, fd, p, sz, off, site);
        if (r == -EINTR) continue;
        if (r < 0) return (int)r;
        if (r == 0) return ACCTDB_ERR_CORRUPT;
        p += r;
        off += (uint64_t)r;
        sz -= (size_t)r;
    }
    return 0;
}
int
adb_io_write_all_(adb_io_t const *io, int fd, void const *buf, size_t sz, char const *site) {
    uint8_t const *p = buf;
    while (sz) {
        ssize_t r = io->write(io->ctx, fd, p, sz, site);
        if (r == -EINTR) continue;
        if (r < 0) return (int)r;
        if (r == 0) return -EIO;
        p += r;
        sz -= (size_t)r;
    }
    return 0;
}
int
adb_io_pwrite_all_(adb_io_t const *io, int fd, void const *buf, size_t sz, uint64_t off,
                   char const *site) {
    uint8_t const *p = buf;
    while (sz) {
        ssize_t r = io->pwrite(io->ctx, fd, p, sz, off, site);
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
adb_io_fsync_(adb_io_t const *io, int fd, char const *site) {
    return io->fsync(io->ctx, fd, site);
}
int
adb_io_fdatasync_(adb_io_t const *io, int fd, char const *site) {
    return io->fdatasync(io->ctx, fd, site);
}
int
adb_io_ftruncate_(adb_io_t const *io, int fd, uint64_t sz, char const *site) {
    return io->ftruncate(io->ctx, fd, sz, site);
}
int
adb_io_fallocate_(adb_io_t const *io, int fd, uint64_t off, uint64_t sz, char const *site) {
    return io->fallocate(io->ctx, fd, off, sz, site);
}
int
adb_io_punch_(adb_io_t const *io, int fd, uint64_t off, uint64_t len, char const *site) {
    return io->punch(io->ctx, fd, off, len, site);
}
int
adb_io_renameat_(adb_io_t const *io, int od, char const *op, int nd, char const *np,
                 char const *site) {
    return io->renameat(io->ctx, od, op, nd, np, site);
}
int
adb_io_unlinkat_(adb_io_t const *io, int dirfd, char const *path, int flags, char const *site) {
    return io->unlinkat(io->ctx, dirfd, path, flags, site);
}
int
adb_io_mkdirat_(adb_io_t const *io, int dirfd, char const *path, int mode, char const *site) {
    return io->mkdirat(io->ctx, dirfd, path, mode, site);
}
int
adb_io_fstat_(adb_io_t const *io, int fd, struct stat *st, char const *site) {
    return io->fstat(io->ctx, fd, st, site);
}
int
adb_io_mmap_(adb_io_t const *io, int fd, uint64_t off, size_t len, void **out, char const *site) {
    *out = NULL;
    return io->mmap(io->ctx, fd, off, len, out, site);
}
int
adb_io_munmap_(adb_io_t const *io, void *p, size_t len, char const *site) {
    return p ? io->munmap(io->ctx, p, len, site) : 0;
}

int
adb_io_write_file_atomic_(adb_io_t const *io, int dirfd, char const *name, void const *buf,
                          size_t sz, char const *site) {
    char tmp[512];
    if (snprintf(tmp, sizeof tmp, ".tmp-%s", name) >= (int)sizeof tmp) return ACCTDB_ERR_INVALID;
    int fd = adb_io_openat_(io, dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644, site);
    if (fd < 0) return fd;
    int rc = adb_io_write_all_(io, fd, buf, sz, site);
    if (!rc) rc = adb_io_fsync_(io, fd, site);
    int crc = adb_io_close_(io, fd, site);
    if (!rc) rc = crc;
    if (!rc) rc = adb_io_renameat_(io, dirfd, tmp, dirfd, name, site);
    if (!rc) rc = adb_io_fsync_(io, dirfd, site);
    if (rc) adb_io_unlinkat_(io, dirfd, tmp, 0, site);
    return rc;
}

int
adb_io_read_file_(adb_io_t const *io, int dirfd, char const *name, size_t max_sz, uint8_t **buf_out,
                  size_t *sz_out, char const *site) {
    *buf_out = NULL;
    *sz_out = 0;
    int fd = adb_io_openat_(io, dirfd, name, O_RDONLY | O_NOFOLLOW, 0, site);
    if (fd < 0) return fd;
    struct stat st;
    int         rc = adb_io_fstat_(io, fd, &st, site);
    if (!rc && !S_ISREG(st.st_mode)) rc = ACCTDB_ERR_CORRUPT;
    if (!rc && (uint64_t)st.st_size > max_sz) rc = ACCTDB_ERR_FULL;
    uint8_t *b = NULL;
    size_t   sz = rc ? 0 : (size_t)st.st_size;
    if (!rc && !(b = adb_malloc(sz ? sz : 1))) rc = ACCTDB_ERR_NOMEM;
    if (!rc) rc = adb_io_pread_all_(io, fd, b, sz, 0, site);
    adb_io_close_(io, fd, site);
    if (rc) {
        adb_free(b);
        return rc;
    }
    *buf_out = b;
    *sz_out = sz;
    return 0;
}
