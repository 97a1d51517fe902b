/* tests/util/simfs.c - the simulated file system (simfs.h) and its
 * self-tests (group simfs). */
#include "simfs.h"

#include "../test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR_SZ 4096u
#define NAME_MAX_ 256

/* One unsynced change of an inode's bytes: [off, off + len) held pre
 * before it (NULL: zeros, e.g. past the old end of file). */
typedef struct chg {
    uint64_t off, len;
    uint8_t *pre;
} chg_t;

typedef struct range {
    uint64_t off, len;
} range_t;

typedef struct sino {
    dev_t    dev;
    ino_t    ino;
    int      fd;        /* simfs's own O_RDWR descriptor (keeps the inode alive) */
    uint64_t synced_sz; /* size at the last sync (or when first seen) */
    chg_t   *chg;
    size_t   chg_cnt, chg_cap;
    /* chg[0 .. doomed) were pending when a sync failed: their writeback
     * failed, so no later sync makes them durable (Linux marks the pages
     * clean after the error: "fsyncgate"); a crash restores them, except
     * where a later write was synced (post). */
    size_t   doomed;
    range_t *post;
    size_t   post_cnt, post_cap;
} sino_t;

typedef struct sdir {
    dev_t dev;
    ino_t ino;
    int   fd; /* own O_RDONLY | O_DIRECTORY descriptor */
} sdir_t;

enum { OP_CREATE, OP_MKDIR, OP_RENAME, OP_UNLINK, OP_RMDIR };

/* A name op since its directory's last fsync.  CREATE/MKDIR/UNLINK/RMDIR
 * name (a, na); RENAME moves (a, na) to (b, nb).  grave: where the old inode
 * waits (UNLINK; RENAME over an existing file), "" if none. */
typedef struct dop {
    int      kind;
    uint32_t a, b;
    char     na[NAME_MAX_], nb[NAME_MAX_];
    char     grave[32];
    bool     committed;
} dop_t;

struct simfs {
    pthread_mutex_t mu;
    adb_io_t        io;
    int             grave_fd;
    uint64_t        grave_seq;
    sino_t         *ino;
    size_t          ino_cnt, ino_cap;
    sdir_t         *dir;
    size_t          dir_cnt, dir_cap;
    dop_t          *dop;
    size_t          dop_cnt, dop_cap;
    uint64_t        mut_ops, trig_k;
    char            trig_site[128];
    uint64_t        trig_nth, site_hits;
    bool            frozen;
    char            crash_site[128];
    char const     *crash_op;
    /* one injected failure */
    char     fail_site[128], fail_op[16];
    uint64_t fail_nth, fail_hits;
    int      fail_err;
    bool     fail_fired;
    char     fail_at[160];
    /* every op, for a dry run */
    void (*rec)(void *ctx, char const *site, char const *op);
    void *rec_ctx;
};

static uint8_t const g_zero[SECTOR_SZ];

static bool
grow(void **p, size_t *cap, size_t need, size_t elt) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elt);
    if (!q) return false;
    memset((char *)q + *cap * elt, 0, (n - *cap) * elt);
    *p = q;
    *cap = n;
    return true;
}

/* ---- the gate: counting, triggers, freezing ---------------------------------- */

/* 0: go on; -EIO: frozen (now or before); or the injected error (*inj
 * set).  Under mu. */
static int
gate(simfs_t *sf, bool mutating, char const *site, char const *op, bool *inj) {
    *inj = false;
    if (sf->frozen) return -EIO;
    if (sf->rec) sf->rec(sf->rec_ctx, site ? site : "?", op);
    if (sf->fail_err && !sf->fail_fired && site && !strcmp(site, sf->fail_site) &&
        (!sf->fail_op[0] || !strcmp(op, sf->fail_op)) && ++sf->fail_hits == sf->fail_nth) {
        sf->fail_fired = true;
        snprintf(sf->fail_at, sizeof sf->fail_at, "%s %s", site, op);
        *inj = true;
        return sf->fail_err;
    }
    bool fire = false;
    if (sf->trig_site[0] && site && !strcmp(site, sf->trig_site) && ++sf->site_hits == sf->trig_nth)
        fire = true;
    if (mutating) {
        if (!fire && sf->trig_k && sf->mut_ops + 1 == sf->trig_k) fire = true;
        if (!fire) sf->mut_ops++;
    }
    if (fire) {
        sf->frozen = true;
        snprintf(sf->crash_site, sizeof sf->crash_site, "%s", site ? site : "?");
        sf->crash_op = op;
        return -EIO;
    }
    return 0;
}

/* ---- inodes and directories ------------------------------------------------------ */

static sino_t *
ino_of_st(simfs_t *sf, struct stat const *st, int fd) {
    for (size_t i = 0; i < sf->ino_cnt; i++)
        if (sf->ino[i].dev == st->st_dev && sf->ino[i].ino == st->st_ino) return &sf->ino[i];
    if (!grow((void **)&sf->ino, &sf->ino_cap, sf->ino_cnt + 1, sizeof *sf->ino)) return NULL;
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    sino_t *n = &sf->ino[sf->ino_cnt++];
    memset(n, 0, sizeof *n);
    n->dev = st->st_dev;
    n->ino = st->st_ino;
    n->fd = open(p, O_RDWR | O_CLOEXEC);
    n->synced_sz = (uint64_t)st->st_size;
    return n;
}

/* The inode behind fd (a regular file), tracked from now on; NULL for
 * anything else. */
static sino_t *
ino_of_fd(simfs_t *sf, int fd, uint64_t *size_out) {
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) return NULL;
    if (size_out) *size_out = (uint64_t)st.st_size;
    return ino_of_st(sf, &st, fd);
}

static int
dir_of_fd(simfs_t *sf, int fd, uint32_t *idx_out) {
    struct stat st;
    if (fstat(fd, &st)) return -errno;
    if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    for (size_t i = 0; i < sf->dir_cnt; i++)
        if (sf->dir[i].dev == st.st_dev && sf->dir[i].ino == st.st_ino) {
            *idx_out = (uint32_t)i;
            return 0;
        }
    if (!grow((void **)&sf->dir, &sf->dir_cap, sf->dir_cnt + 1, sizeof *sf->dir)) return -ENOMEM;
    int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (own < 0) return -errno;
    sf->dir[sf->dir_cnt] = (sdir_t){st.st_dev, st.st_ino, own};
    *idx_out = (uint32_t)sf->dir_cnt++;
    return 0;
}

/* The directory holding (dirfd, path) and the last component of path. */
static int
resolve(simfs_t *sf, int dirfd, char const *path, uint32_t *dir_out, char *base) {
    char const *slash = strrchr(path, '/');
    char        parent[4096];
    if (!slash) {
        snprintf(parent, sizeof parent, ".");
    } else if (slash == path) {
        snprintf(parent, sizeof parent, "/");
    } else {
        if ((size_t)(slash - path) >= sizeof parent) return -ENAMETOOLONG;
        memcpy(parent, path, (size_t)(slash - path));
        parent[slash - path] = 0;
    }
    char const *b = slash ? slash + 1 : path;
    if (!*b || strlen(b) >= NAME_MAX_) return -EINVAL;
    snprintf(base, NAME_MAX_, "%s", b);
    int pfd = openat(dirfd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) return -errno;
    int rc = dir_of_fd(sf, pfd, dir_out);
    close(pfd);
    return rc;
}

static dop_t *
dop_add(simfs_t *sf, int kind, uint32_t a, char const *na) {
    if (!grow((void **)&sf->dop, &sf->dop_cap, sf->dop_cnt + 1, sizeof *sf->dop)) return NULL;
    dop_t *d = &sf->dop[sf->dop_cnt++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->a = d->b = a;
    snprintf(d->na, sizeof d->na, "%s", na);
    return d;
}

static void
grave_name(simfs_t *sf, char *out) {
    snprintf(out, 32, "g%llu", (unsigned long long)++sf->grave_seq);
}

/* Records the pre-image of [off, off + len) of ino, whose size is sz. */
static int
chg_add(sino_t *n, uint64_t off, uint64_t len, uint64_t sz) {
    if (!len) return 0;
    if (!grow((void **)&n->chg, &n->chg_cap, n->chg_cnt + 1, sizeof *n->chg)) return -ENOMEM;
    chg_t c = {off, len, NULL};
    if (off < sz) {
        uint64_t have = ADB_MIN(len, sz - off);
        if (!(c.pre = calloc(1, (size_t)len))) return -ENOMEM;
        if (n->fd < 0) {
            free(c.pre);
            return -EBADF;
        }
        uint64_t got = 0;
        while (got < have) {
            ssize_t r = pread(n->fd, c.pre + got, (size_t)(have - got), (off_t)(off + got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break; /* a shorter file: the rest reads as zeros */
            got += (uint64_t)r;
        }
    }
    n->chg[n->chg_cnt++] = c;
    return 0;
}

/* A successful sync: the changes since the last failed one are durable. */
static int
chg_clear(sino_t *n, uint64_t size) {
    int rc = 0;
    for (size_t i = n->doomed; i < n->chg_cnt; i++) {
        if (n->doomed) {
            if (grow((void **)&n->post, &n->post_cap, n->post_cnt + 1, sizeof *n->post))
                n->post[n->post_cnt++] = (range_t){n->chg[i].off, n->chg[i].len};
            else
                rc = -ENOMEM;
        }
        free(n->chg[i].pre);
    }
    n->chg_cnt = n->doomed;
    n->synced_sz = size;
    return rc;
}

/* Forgets everything (after a crash, or at free). */
static void
chg_drop(sino_t *n) {
    for (size_t i = 0; i < n->chg_cnt; i++)
        free(n->chg[i].pre);
    n->chg_cnt = n->doomed = n->post_cnt = 0;
}

/* ---- the ops --------------------------------------------------------------------------- */

#define SF simfs_t *sf = ctx
#define LOCK_GATE(mut, name)                                                                       \
    pthread_mutex_lock(&sf->mu);                                                                   \
    bool inj_;                                                                                     \
    int  g_ = gate(sf, (mut), site, (name), &inj_);                                                \
    if (g_) {                                                                                      \
        pthread_mutex_unlock(&sf->mu);                                                             \
        return g_;                                                                                 \
    }
#define UNLOCK() pthread_mutex_unlock(&sf->mu)

static int
s_openat(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site) {
    SF;
    bool mut = (flags & (O_CREAT | O_TRUNC)) != 0;
    LOCK_GATE(mut, "openat");
    int      rc = 0;
    uint32_t d = 0;
    char     base[NAME_MAX_];
    bool     existed = true;
    if (mut) {
        if ((rc = resolve(sf, dirfd, path, &d, base))) goto out;
        struct stat st;
        existed = !fstatat(sf->dir[d].fd, base, &st, AT_SYMLINK_NOFOLLOW);
        if (existed && (flags & O_TRUNC) && S_ISREG(st.st_mode) && (flags & O_ACCMODE)) {
            /* Truncation of what is there: its old bytes are a change. */
            int tfd = openat(sf->dir[d].fd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (tfd >= 0) {
                sino_t *n = ino_of_fd(sf, tfd, NULL);
                if (n) rc = chg_add(n, 0, (uint64_t)st.st_size, (uint64_t)st.st_size);
                close(tfd);
                if (rc) goto out;
            }
        }
    }
    int fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    if (mut && !existed) {
        if (!dop_add(sf, OP_CREATE, d, base)) {
            close(fd);
            rc = -ENOMEM;
            goto out;
        }
        sino_t *n = ino_of_fd(sf, fd, NULL);
        if (n) n->synced_sz = 0; /* a new inode: none of it is durable */
    } else {
        ino_of_fd(sf, fd, NULL);
    }
    rc = fd;
out:
    UNLOCK();
    return rc;
}

/* Close and munmap always release the descriptor or mapping (they change
 * no data, and a frozen handle's close must not leak); an injected error is
 * returned after. */
static int
s_close(void *ctx, int fd, char const *site) {
    SF;
    pthread_mutex_lock(&sf->mu);
    bool inj;
    int  rc = sf->frozen ? 0 : gate(sf, false, site, "close", &inj);
    pthread_mutex_unlock(&sf->mu);
    int r = close(fd) ? -errno : 0;
    return rc ? rc : r;
}

static ssize_t
s_pread(void *ctx, int fd, void *buf, size_t sz, uint64_t off, char const *site) {
    SF;
    LOCK_GATE(false, "pread");
    UNLOCK();
    ssize_t r = pread(fd, buf, sz, (off_t)off);
    return r < 0 ? -errno : r;
}

static ssize_t
do_write(simfs_t *sf, int fd, void const *buf, size_t sz, uint64_t off, bool positioned) {
    uint64_t size = 0;
    sino_t  *n = ino_of_fd(sf, fd, &size);
    if (!positioned) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0 && (fl & O_APPEND)) {
            off = size;
        } else {
            off_t o = lseek(fd, 0, SEEK_CUR);
            if (o < 0) return -errno;
            off = (uint64_t)o;
        }
    }
    if (n) {
        int rc = chg_add(n, off, sz, size);
        if (rc) return rc;
    }
    ssize_t r = positioned ? pwrite(fd, buf, sz, (off_t)off) : write(fd, buf, sz);
    if (r < 0) {
        r = -errno;
        if (n && n->chg_cnt) free(n->chg[--n->chg_cnt].pre); /* nothing changed */
    }
    return r;
}

static ssize_t
s_pwrite(void *ctx, int fd, void const *buf, size_t sz, uint64_t off, char const *site) {
    SF;
    LOCK_GATE(true, "pwrite");
    ssize_t r = do_write(sf, fd, buf, sz, off, true);
    UNLOCK();
    return r;
}

static ssize_t
s_write(void *ctx, int fd, void const *buf, size_t sz, char const *site) {
    SF;
    LOCK_GATE(true, "write");
    ssize_t r = do_write(sf, fd, buf, sz, 0, false);
    UNLOCK();
    return r;
}

/* A sync of fd: its inode's changes, or (a directory) its name ops, become
 * durable.  The real fsync is skipped: durability is simulated, and the
 * real one would only cost time. */
static int
do_sync(simfs_t *sf, int fd) {
    struct stat st;
    if (fstat(fd, &st)) return -errno;
    if (S_ISDIR(st.st_mode)) {
        uint32_t d;
        int      rc = dir_of_fd(sf, fd, &d);
        if (rc) return rc;
        for (size_t i = 0; i < sf->dop_cnt; i++) {
            dop_t *o = &sf->dop[i];
            if (o->committed || (o->a != d && o->b != d)) continue;
            o->committed = true;
            if (o->grave[0]) {
                unlinkat(sf->grave_fd, o->grave, 0);
                o->grave[0] = 0;
            }
        }
        return 0;
    }
    if (S_ISREG(st.st_mode)) {
        sino_t *n = ino_of_st(sf, &st, fd);
        if (n) return chg_clear(n, (uint64_t)st.st_size);
    }
    return 0;
}

/* An injected sync failure: what is pending on the file never becomes
 * durable (a directory's name ops just stay pending). */
static void
doom(simfs_t *sf, int fd) {
    uint64_t size;
    sino_t  *n = ino_of_fd(sf, fd, &size);
    if (n) n->doomed = n->chg_cnt;
}

static int
sync_op(simfs_t *sf, int fd, char const *site, char const *name) {
    pthread_mutex_lock(&sf->mu);
    bool inj;
    int  rc = gate(sf, true, site, name, &inj);
    if (inj)
        doom(sf, fd);
    else if (!rc)
        rc = do_sync(sf, fd);
    pthread_mutex_unlock(&sf->mu);
    return rc;
}

static int
s_fsync(void *ctx, int fd, char const *site) {
    return sync_op(ctx, fd, site, "fsync");
}

static int
s_fdatasync(void *ctx, int fd, char const *site) {
    return sync_op(ctx, fd, site, "fdatasync");
}

static int
s_ftruncate(void *ctx, int fd, uint64_t sz, char const *site) {
    SF;
    LOCK_GATE(true, "ftruncate");
    uint64_t size = 0;
    sino_t  *n = ino_of_fd(sf, fd, &size);
    int      rc = 0;
    if (n && sz != size)
        rc = sz < size ? chg_add(n, sz, size - sz, size) : chg_add(n, size, sz - size, size);
    if (!rc && ftruncate(fd, (off_t)sz)) {
        rc = -errno;
        if (n && n->chg_cnt && sz != size) free(n->chg[--n->chg_cnt].pre);
    }
    UNLOCK();
    return rc;
}

static int
s_fallocate(void *ctx, int fd, uint64_t off, uint64_t sz, char const *site) {
    SF;
    LOCK_GATE(true, "fallocate");
    uint64_t size = 0;
    sino_t  *n = ino_of_fd(sf, fd, &size);
    int      rc = 0;
    bool     grows = off + sz > size;
    if (n && grows) rc = chg_add(n, size, off + sz - size, size); /* only the size changes */
    if (!rc && fallocate(fd, 0, (off_t)off, (off_t)sz)) {
        rc = -errno;
        if (n && grows && n->chg_cnt) free(n->chg[--n->chg_cnt].pre);
    }
    UNLOCK();
    return rc;
}

static int
s_punch(void *ctx, int fd, uint64_t off, uint64_t len, char const *site) {
    SF;
    LOCK_GATE(true, "punch");
    uint64_t size = 0;
    sino_t  *n = ino_of_fd(sf, fd, &size);
    int      rc = 0;
    uint64_t end = ADB_MIN(off + len, size);
    bool     rec = n && off < end;
    if (rec) rc = chg_add(n, off, end - off, size);
    if (!rc && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len)) {
        rc = -errno;
        if (rec && n->chg_cnt) free(n->chg[--n->chg_cnt].pre);
    }
    UNLOCK();
    return rc;
}

static int
s_renameat(void *ctx, int od, char const *op, int nd, char const *np, char const *site) {
    SF;
    LOCK_GATE(true, "renameat");
    uint32_t a, b;
    char     na[NAME_MAX_], nb[NAME_MAX_], grave[32] = "";
    int      rc = resolve(sf, od, op, &a, na);
    if (!rc) rc = resolve(sf, nd, np, &b, nb);
    struct stat st;
    if (!rc && fstatat(sf->dir[b].fd, nb, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
        /* The file the rename replaces survives in a grave until the
         * directory is synced (a crash may bring it back). */
        grave_name(sf, grave);
        if (linkat(sf->dir[b].fd, nb, sf->grave_fd, grave, 0)) rc = -errno;
    }
    if (!rc && renameat(sf->dir[a].fd, na, sf->dir[b].fd, nb)) {
        rc = -errno;
        if (grave[0]) unlinkat(sf->grave_fd, grave, 0);
    }
    if (!rc) {
        dop_t *d = dop_add(sf, OP_RENAME, a, na);
        if (!d) {
            rc = -ENOMEM;
        } else {
            d->b = b;
            snprintf(d->nb, sizeof d->nb, "%s", nb);
            snprintf(d->grave, sizeof d->grave, "%s", grave);
        }
    }
    UNLOCK();
    return rc;
}

static int
s_unlinkat(void *ctx, int dirfd, char const *path, int flags, char const *site) {
    SF;
    LOCK_GATE(true, "unlinkat");
    uint32_t d;
    char     base[NAME_MAX_];
    int      rc = resolve(sf, dirfd, path, &d, base);
    if (rc) goto out;
    if (flags & AT_REMOVEDIR) {
        if (unlinkat(sf->dir[d].fd, base, AT_REMOVEDIR)) {
            rc = -errno;
            goto out;
        }
        if (!dop_add(sf, OP_RMDIR, d, base)) rc = -ENOMEM;
        goto out;
    }
    struct stat st;
    if (fstatat(sf->dir[d].fd, base, &st, AT_SYMLINK_NOFOLLOW)) {
        rc = -errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
        goto out;
    }
    char grave[32];
    grave_name(sf, grave);
    if (renameat(sf->dir[d].fd, base, sf->grave_fd, grave)) {
        rc = -errno;
        goto out;
    }
    dop_t *o = dop_add(sf, OP_UNLINK, d, base);
    if (!o)
        rc = -ENOMEM;
    else
        snprintf(o->grave, sizeof o->grave, "%s", grave);
out:
    UNLOCK();
    return rc;
}

static int
s_mkdirat(void *ctx, int dirfd, char const *path, int mode, char const *site) {
    SF;
    LOCK_GATE(true, "mkdirat");
    uint32_t d;
    char     base[NAME_MAX_];
    int      rc = resolve(sf, dirfd, path, &d, base);
    if (!rc && mkdirat(sf->dir[d].fd, base, (mode_t)mode)) rc = -errno;
    if (!rc && !dop_add(sf, OP_MKDIR, d, base)) rc = -ENOMEM;
    UNLOCK();
    return rc;
}

static int
s_fstat(void *ctx, int fd, struct stat *st, char const *site) {
    SF;
    LOCK_GATE(false, "fstat");
    UNLOCK();
    return fstat(fd, st) ? -errno : 0;
}

static int
s_mmap(void *ctx, int fd, uint64_t off, size_t len, void **out, char const *site) {
    SF;
    LOCK_GATE(false, "mmap");
    UNLOCK();
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

static int
s_munmap(void *ctx, void *p, size_t len, char const *site) {
    SF;
    pthread_mutex_lock(&sf->mu);
    bool inj;
    int  rc = sf->frozen ? 0 : gate(sf, false, site, "munmap", &inj);
    pthread_mutex_unlock(&sf->mu);
    int r = munmap(p, len) ? -errno : 0;
    return rc ? rc : r;
}

/* ---- life cycle ------------------------------------------------------------------------ */

simfs_t *
simfs_new(char const *grave_dir) {
    if (mkdir(grave_dir, 0755) && errno != EEXIST) return NULL;
    simfs_t *sf = calloc(1, sizeof *sf);
    if (!sf) return NULL;
    sf->grave_fd = open(grave_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sf->grave_fd < 0) {
        free(sf);
        return NULL;
    }
    pthread_mutex_init(&sf->mu, NULL);
    sf->io = (adb_io_t){
        .openat = s_openat,
        .close = s_close,
        .pread = s_pread,
        .pwrite = s_pwrite,
        .write = s_write,
        .fsync = s_fsync,
        .fdatasync = s_fdatasync,
        .ftruncate = s_ftruncate,
        .fallocate = s_fallocate,
        .punch = s_punch,
        .renameat = s_renameat,
        .unlinkat = s_unlinkat,
        .mkdirat = s_mkdirat,
        .fstat = s_fstat,
        .mmap = s_mmap,
        .munmap = s_munmap,
        .ctx = sf,
    };
    return sf;
}

void
simfs_free(simfs_t *sf) {
    if (!sf) return;
    for (size_t i = 0; i < sf->ino_cnt; i++) {
        chg_drop(&sf->ino[i]);
        free(sf->ino[i].chg);
        free(sf->ino[i].post);
        if (sf->ino[i].fd >= 0) close(sf->ino[i].fd);
    }
    for (size_t i = 0; i < sf->dir_cnt; i++)
        close(sf->dir[i].fd);
    /* Graves left (their directory never synced, no crash): delete them. */
    for (size_t i = 0; i < sf->dop_cnt; i++)
        if (sf->dop[i].grave[0]) unlinkat(sf->grave_fd, sf->dop[i].grave, 0);
    close(sf->grave_fd);
    free(sf->ino);
    free(sf->dir);
    free(sf->dop);
    pthread_mutex_destroy(&sf->mu);
    free(sf);
}

adb_io_t const *
simfs_io(simfs_t *sf) {
    return &sf->io;
}

void
simfs_trigger_op(simfs_t *sf, uint64_t k) {
    pthread_mutex_lock(&sf->mu);
    sf->trig_k = k;
    pthread_mutex_unlock(&sf->mu);
}

void
simfs_trigger_site(simfs_t *sf, char const *site, uint64_t nth) {
    pthread_mutex_lock(&sf->mu);
    snprintf(sf->trig_site, sizeof sf->trig_site, "%s", site ? site : "");
    sf->trig_nth = nth;
    sf->site_hits = 0;
    pthread_mutex_unlock(&sf->mu);
}

uint64_t
simfs_mut_ops(simfs_t const *sf) {
    return sf->mut_ops;
}

bool
simfs_frozen(simfs_t const *sf) {
    return sf->frozen;
}

char const *
simfs_crash_site(simfs_t const *sf) {
    return sf->crash_site;
}

char const *
simfs_crash_op(simfs_t const *sf) {
    return sf->crash_op ? sf->crash_op : "";
}

void
simfs_thaw(simfs_t *sf) {
    pthread_mutex_lock(&sf->mu);
    sf->frozen = false;
    sf->trig_k = 0;
    sf->trig_site[0] = 0;
    sf->crash_site[0] = 0;
    sf->crash_op = NULL;
    pthread_mutex_unlock(&sf->mu);
}

void
simfs_fail(simfs_t *sf, char const *site, char const *op, uint64_t nth, int err) {
    pthread_mutex_lock(&sf->mu);
    snprintf(sf->fail_site, sizeof sf->fail_site, "%s", site);
    snprintf(sf->fail_op, sizeof sf->fail_op, "%s", op ? op : "");
    sf->fail_nth = nth;
    sf->fail_hits = 0;
    sf->fail_err = err;
    sf->fail_fired = false;
    pthread_mutex_unlock(&sf->mu);
}

char const *
simfs_failed_at(simfs_t const *sf) {
    return sf->fail_fired ? sf->fail_at : NULL;
}

void
simfs_record(simfs_t *sf, void (*fn)(void *ctx, char const *site, char const *op), void *ctx) {
    pthread_mutex_lock(&sf->mu);
    sf->rec = fn;
    sf->rec_ctx = ctx;
    pthread_mutex_unlock(&sf->mu);
}

/* ---- the crash ---------------------------------------------------------------------------- */

static int
rm_tree_at(int dfd, char const *name) {
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode)) return unlinkat(dfd, name, 0) ? -errno : 0;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    int            rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) rc = rm_tree_at(fd, de->d_name);
    closedir(d);
    if (!rc && unlinkat(dfd, name, AT_REMOVEDIR)) rc = -errno;
    return rc;
}

static bool
coin(acctdb_rng_t *r, double p) {
    return acctdb_rng_unit(r) < p;
}

/* Names a kept op depends on: an older op on one of them cannot be undone. */
typedef struct pin {
    uint32_t d;
    char     n[NAME_MAX_];
} pin_t;

static bool
pinned(pin_t const *p, size_t cnt, uint32_t d, char const *n) {
    for (size_t i = 0; i < cnt; i++)
        if (p[i].d == d && !strcmp(p[i].n, n)) return true;
    return false;
}

static int
undo_dop(simfs_t *sf, dop_t *o) {
    int a = sf->dir[o->a].fd, b = sf->dir[o->b].fd;
    switch (o->kind) {
    case OP_CREATE:
        return unlinkat(a, o->na, 0) ? -errno : 0;
    case OP_MKDIR:
        return rm_tree_at(a, o->na);
    case OP_RMDIR:
        return mkdirat(a, o->na, 0755) ? -errno : 0;
    case OP_UNLINK:
        if (renameat(sf->grave_fd, o->grave, a, o->na)) return -errno;
        o->grave[0] = 0;
        return 0;
    case OP_RENAME:
        if (renameat(b, o->nb, a, o->na)) return -errno;
        if (o->grave[0]) {
            if (renameat(sf->grave_fd, o->grave, b, o->nb)) return -errno;
            o->grave[0] = 0;
        }
        return 0;
    }
    return -EINVAL;
}

static int
crash_dirs(simfs_t *sf, acctdb_rng_t *r, double p, simfs_crash_report_t *rep) {
    pin_t *pins = calloc(sf->dop_cnt ? sf->dop_cnt * 2 : 1, sizeof *pins);
    if (!pins) return -ENOMEM;
    size_t pcnt = 0;
    int    rc = 0;
    for (size_t i = sf->dop_cnt; i-- > 0 && !rc;) {
        dop_t *o = &sf->dop[i];
        bool   two = o->kind == OP_RENAME;
        bool   keep = o->committed || pinned(pins, pcnt, o->a, o->na) ||
                    (two && pinned(pins, pcnt, o->b, o->nb));
        if (!o->committed) rep->dir_ops++;
        if (!keep && !coin(r, p)) keep = true;
        if (keep) {
            pins[pcnt].d = o->a;
            snprintf(pins[pcnt++].n, NAME_MAX_, "%s", o->na);
            if (two) {
                pins[pcnt].d = o->b;
                snprintf(pins[pcnt++].n, NAME_MAX_, "%s", o->nb);
            }
            continue;
        }
        rep->dir_undone++;
        rc = undo_dop(sf, o);
        if (rc == -ENOENT) {
            /* A name an op outside the table (a raw unlink) took since:
             * nothing to undo. */
            rep->dir_skipped++;
            rc = 0;
        }
    }
    /* Graves of kept unlinks and replacing renames: the old inode is gone. */
    for (size_t i = 0; i < sf->dop_cnt; i++)
        if (sf->dop[i].grave[0]) {
            unlinkat(sf->grave_fd, sf->dop[i].grave, 0);
            sf->dop[i].grave[0] = 0;
        }
    sf->dop_cnt = 0;
    free(pins);
    return rc;
}

static int
restore(sino_t *n, chg_t const *c, uint64_t lo, uint64_t hi) {
    uint8_t const *src = c->pre ? c->pre + (lo - c->off) : g_zero;
    size_t         len = (size_t)(hi - lo);
    /* len <= one sector, so zeros come from g_zero */
    ssize_t w = pwrite(n->fd, src, len, (off_t)lo);
    return w == (ssize_t)len ? 0 : w < 0 ? -errno : -EIO;
}

/* A doomed change's sector part [lo, hi): restored except the bytes a write
 * synced after the failure covers. */
static int
restore_doomed(sino_t *n, chg_t const *c, uint64_t lo, uint64_t hi) {
    bool keep[SECTOR_SZ] = {0};
    for (size_t i = 0; i < n->post_cnt; i++) {
        uint64_t a = ADB_MAX(lo, n->post[i].off), b = ADB_MIN(hi, n->post[i].off + n->post[i].len);
        for (uint64_t x = a; x < b; x++)
            keep[x - lo] = true;
    }
    for (uint64_t x = lo; x < hi;) {
        if (keep[x - lo]) {
            x++;
            continue;
        }
        uint64_t y = x;
        while (y < hi && !keep[y - lo])
            y++;
        int rc = restore(n, c, x, y);
        if (rc) return rc;
        x = y;
    }
    return 0;
}

static int
crash_data(simfs_t *sf, acctdb_rng_t *r, simfs_crash_opts_t const *o, simfs_crash_report_t *rep) {
    for (size_t i = 0; i < sf->ino_cnt; i++) {
        sino_t     *n = &sf->ino[i];
        struct stat st;
        if (n->fd < 0) {
            if (n->chg_cnt) return -EBADF;
            continue;
        }
        if (fstat(n->fd, &st)) return -errno;
        uint64_t size = (uint64_t)st.st_size;
        if (!n->chg_cnt && size == n->synced_sz) continue;
        rep->files_dirty++;
        for (size_t k = n->chg_cnt; k-- > 0;) {
            chg_t const *c = &n->chg[k];
            bool         doomed = k < n->doomed;
            rep->changes++;
            rep->doomed += doomed;
            bool whole = !o->tear && coin(r, 0.5);
            for (uint64_t s = c->off / SECTOR_SZ * SECTOR_SZ; s < c->off + c->len; s += SECTOR_SZ) {
                uint64_t lo = ADB_MAX(s, c->off), hi = ADB_MIN(s + SECTOR_SZ, c->off + c->len);
                rep->sectors++;
                if (!doomed && (o->tear ? !coin(r, 0.5) : !whole)) continue;
                rep->sectors_restored++;
                int rc = doomed ? restore_doomed(n, c, lo, hi) : restore(n, c, lo, hi);
                if (rc) return rc;
            }
        }
        if (o->truncate && size != n->synced_sz && coin(r, 0.5)) {
            if (ftruncate(n->fd, (off_t)n->synced_sz)) return -errno;
            rep->files_truncated++;
        }
        chg_drop(n);
    }
    return 0;
}

int
simfs_crash(simfs_t *sf, uint64_t seed, simfs_crash_opts_t const *opts, simfs_crash_report_t *rep) {
    simfs_crash_report_t dummy;
    simfs_crash_opts_t   def = {.tear = true, .truncate = true, .dir_undo_p = 0.5};
    if (!rep) rep = &dummy;
    if (!opts) opts = &def;
    memset(rep, 0, sizeof *rep);
    pthread_mutex_lock(&sf->mu);
    if (!sf->frozen) {
        sf->frozen = true;
        snprintf(sf->crash_site, sizeof sf->crash_site, "(simfs_crash)");
        sf->crash_op = "";
    }
    acctdb_rng_t r = acctdb_rng_seed(seed);
    int          rc = crash_data(sf, &r, opts, rep);
    if (!rc) rc = crash_dirs(sf, &r, opts->dir_undo_p, rep);
    pthread_mutex_unlock(&sf->mu);
    return rc;
}

/* ==== self-tests ============================================================================ */

typedef struct fx {
    char    *tmp;
    char     root[4096];
    int      dfd;
    simfs_t *sf;
} fx_t;

static void
fx_open(fx_t *f) {
    f->tmp = adb_test_mkdtemp();
    assert_non_null(f->tmp);
    snprintf(f->root, sizeof f->root, "%s/d", f->tmp);
    assert_int_equal(mkdir(f->root, 0755), 0);
    char g[4096];
    snprintf(g, sizeof g, "%s/graves", f->tmp);
    f->sf = simfs_new(g);
    assert_non_null(f->sf);
    f->dfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->dfd >= 0);
}

static void
fx_close(fx_t *f) {
    simfs_free(f->sf);
    close(f->dfd);
    adb_test_rmtree(f->tmp);
    free(f->tmp);
}

static void
put_file(int dfd, char const *name, uint8_t const *p, size_t n) {
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    assert_int_equal(fsync(fd), 0);
    close(fd);
}

/* The file's bytes (size in *sz; -1 if absent). */
static uint8_t *
get_file(int dfd, char const *name, ssize_t *sz) {
    static uint8_t buf[1 << 16];
    int            fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *sz = -1;
        return NULL;
    }
    *sz = read(fd, buf, sizeof buf);
    close(fd);
    return buf;
}

static simfs_crash_opts_t const g_tear = {.tear = true, .truncate = false, .dir_undo_p = 0.5};

/* A write without fsync is lost (every sector restored, whatever the
 * draw, means: run crashes until one restores everything, and check no
 * draw shows bytes that were never written). */
static void
test_unsynced_write(void **state) {
    (void)state;
    int lost = 0, kept = 0;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        fx_t f;
        fx_open(&f);
        uint8_t old[8192], nw[8192];
        memset(old, 'o', sizeof old);
        memset(nw, 'n', sizeof nw);
        put_file(f.dfd, "a", old, sizeof old);
        adb_io_t const *io = simfs_io(f.sf);
        int             fd = adb_io_openat(io, f.dfd, "a", O_RDWR, 0);
        assert_true(fd >= 0);
        assert_int_equal(adb_io_pwrite_all(io, fd, nw, sizeof nw, 0), 0);
        /* Reads see the new bytes before the crash (the page cache). */
        uint8_t rb[8192];
        assert_int_equal(adb_io_pread_all(io, fd, rb, sizeof rb, 0), 0);
        assert_memory_equal(rb, nw, sizeof nw);
        simfs_crash_opts_t   o = {.tear = false, .dir_undo_p = 0.5};
        simfs_crash_report_t rep;
        assert_int_equal(simfs_crash(f.sf, seed, &o, &rep), 0);
        assert_int_equal(rep.changes, 1);
        /* Frozen: later ops fail and change nothing. */
        assert_int_equal(adb_io_pwrite_all(io, fd, nw, sizeof nw, 0), -EIO);
        assert_int_equal(adb_io_close(io, fd), 0);
        ssize_t  sz;
        uint8_t *p = get_file(f.dfd, "a", &sz);
        assert_int_equal(sz, (ssize_t)sizeof old);
        if (!memcmp(p, old, sizeof old))
            lost++;
        else if (!memcmp(p, nw, sizeof nw))
            kept++;
        else
            fail_msg("seed %llu: a whole-write crash mixed old and new bytes",
                     (unsigned long long)seed);
        fx_close(&f);
    }
    print_message("unsynced write: lost %d, kept %d of 16 crashes\n", lost, kept);
    assert_true(lost > 0 && kept > 0);
}

/* A write followed by fdatasync survives every crash. */
static void
test_synced_write(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        fx_t f;
        fx_open(&f);
        uint8_t old[10000], nw[10000];
        memset(old, 'o', sizeof old);
        memset(nw, 'n', sizeof nw);
        put_file(f.dfd, "a", old, sizeof old);
        adb_io_t const *io = simfs_io(f.sf);
        int             fd = adb_io_openat(io, f.dfd, "a", O_RDWR, 0);
        assert_true(fd >= 0);
        assert_int_equal(adb_io_pwrite_all(io, fd, nw, sizeof nw, 0), 0);
        assert_int_equal(adb_io_fdatasync(io, fd), 0);
        /* Appended after the sync: may go, the synced part may not. */
        assert_int_equal(adb_io_pwrite_all(io, fd, "tail", 4, sizeof nw), 0);
        simfs_crash_opts_t o = {.tear = true, .truncate = true, .dir_undo_p = 0.5};
        assert_int_equal(simfs_crash(f.sf, seed, &o, NULL), 0);
        adb_io_close(io, fd);
        ssize_t  sz;
        uint8_t *p = get_file(f.dfd, "a", &sz);
        assert_true(sz == (ssize_t)sizeof nw || sz == (ssize_t)sizeof nw + 4);
        assert_memory_equal(p, nw, sizeof nw);
        if (sz > (ssize_t)sizeof nw)
            assert_true(!memcmp(p + sizeof nw, "tail", 4) || !memcmp(p + sizeof nw, g_zero, 4));
        fx_close(&f);
    }
}

/* A 64 KiB write torn at 4 KiB: some sectors new, some old, none mixed
 * inside a sector, over several seeds both outcomes per sector. */
static void
test_tear(void **state) {
    (void)state;
    bool mixed = false;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        fx_t f;
        fx_open(&f);
        static uint8_t old[65536], nw[65536];
        memset(old, 'o', sizeof old);
        memset(nw, 'n', sizeof nw);
        put_file(f.dfd, "a", old, sizeof old);
        adb_io_t const *io = simfs_io(f.sf);
        int             fd = adb_io_openat(io, f.dfd, "a", O_RDWR, 0);
        /* Unaligned: the first and last sectors are partly written. */
        assert_int_equal(adb_io_pwrite_all(io, fd, nw, sizeof nw - 200, 100), 0);
        simfs_crash_report_t rep;
        assert_int_equal(simfs_crash(f.sf, seed, &g_tear, &rep), 0);
        adb_io_close(io, fd);
        ssize_t  sz;
        uint8_t *p = get_file(f.dfd, "a", &sz);
        assert_int_equal(sz, (ssize_t)sizeof old);
        int news = 0, olds = 0;
        for (size_t s = 0; s < sizeof old; s += SECTOR_SZ) {
            size_t lo = s ? s : 100,
                   hi = s + SECTOR_SZ == sizeof old ? sizeof old - 100 : s + SECTOR_SZ;
            bool all_new = true, all_old = true;
            for (size_t i = lo; i < hi; i++) {
                all_new &= p[i] == 'n';
                all_old &= p[i] == 'o';
            }
            assert_true(all_new || all_old); /* never torn inside a sector */
            news += all_new;
            olds += all_old;
        }
        /* Outside the write: untouched. */
        assert_int_equal(p[0], 'o');
        assert_int_equal(p[sizeof old - 1], 'o');
        assert_int_equal(rep.sectors, 16);
        assert_int_equal((uint64_t)olds, rep.sectors_restored);
        mixed |= news > 0 && olds > 0;
        fx_close(&f);
    }
    assert_true(mixed);
}

/* tmp written and synced, renamed, no directory fsync: after a crash
 * exactly one of the two names holds the file (both outcomes seen); with
 * the directory fsync, the new name always. */
static void
test_rename(void **state) {
    (void)state;
    int as_old = 0, as_new = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        for (int sync_dir = 0; sync_dir < 2; sync_dir++) {
            fx_t f;
            fx_open(&f);
            put_file(f.dfd, "dst", (uint8_t const *)"previous", 8);
            adb_io_t const *io = simfs_io(f.sf);
            int             fd = adb_io_openat(io, f.dfd, "tmp", O_WRONLY | O_CREAT | O_EXCL, 0644);
            assert_true(fd >= 0);
            assert_int_equal(adb_io_write_all(io, fd, "contents", 8), 0);
            assert_int_equal(adb_io_fsync(io, fd), 0);
            assert_int_equal(adb_io_close(io, fd), 0);
            assert_int_equal(adb_io_renameat(io, f.dfd, "tmp", f.dfd, "dst"), 0);
            if (sync_dir) assert_int_equal(adb_io_fsync_dir(io, f.dfd), 0);
            assert_int_equal(simfs_crash(f.sf, seed, &g_tear, NULL), 0);
            ssize_t  st, sd;
            uint8_t *pt = get_file(f.dfd, "tmp", &st);
            bool     tmp_has = st == 8 && !memcmp(pt, "contents", 8);
            bool     tmp_there = st >= 0;
            uint8_t *pd = get_file(f.dfd, "dst", &sd);
            assert_int_equal(sd, 8);
            bool dst_new = !memcmp(pd, "contents", 8), dst_old = !memcmp(pd, "previous", 8);
            if (sync_dir) {
                assert_false(tmp_there);
                assert_true(dst_new);
            } else if (dst_new) {
                assert_false(tmp_there);
                as_new++;
            } else {
                /* Undone: the old file is back under dst, and tmp exists
                 * (its create kept) or not (undone too), never empty. */
                assert_true(dst_old);
                assert_true(!tmp_there || tmp_has);
                as_old++;
            }
            fx_close(&f);
        }
    }
    print_message("rename without directory fsync: old name %d, new name %d of 24\n", as_old,
                  as_new);
    assert_true(as_old > 0 && as_new > 0);
}

/* An unlink without a directory fsync may be undone (the file comes back
 * whole); after the fsync it is gone; a created file without a directory
 * fsync may vanish. */
static void
test_unlink(void **state) {
    (void)state;
    int back = 0, gone = 0, created_gone = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        for (int sync_dir = 0; sync_dir < 2; sync_dir++) {
            fx_t f;
            fx_open(&f);
            put_file(f.dfd, "x", (uint8_t const *)"xxxx", 4);
            adb_io_t const *io = simfs_io(f.sf);
            assert_int_equal(adb_io_unlinkat(io, f.dfd, "x", 0), 0);
            ssize_t sz;
            get_file(f.dfd, "x", &sz);
            assert_int_equal(sz, -1); /* gone before the crash */
            int fd = adb_io_openat(io, f.dfd, "y", O_WRONLY | O_CREAT | O_EXCL, 0644);
            assert_true(fd >= 0);
            assert_int_equal(adb_io_write_all(io, fd, "yy", 2), 0);
            assert_int_equal(adb_io_fsync(io, fd), 0);
            assert_int_equal(adb_io_close(io, fd), 0);
            if (sync_dir) assert_int_equal(adb_io_fsync_dir(io, f.dfd), 0);
            assert_int_equal(simfs_crash(f.sf, seed, &g_tear, NULL), 0);
            uint8_t *p = get_file(f.dfd, "x", &sz);
            if (sz >= 0) {
                assert_false(sync_dir);
                assert_int_equal(sz, 4);
                assert_memory_equal(p, "xxxx", 4);
                back++;
            } else {
                gone++;
            }
            p = get_file(f.dfd, "y", &sz);
            if (sz < 0) {
                assert_false(sync_dir);
                created_gone++;
            } else {
                assert_int_equal(sz, 2); /* synced: whole */
                assert_memory_equal(p, "yy", 2);
            }
            fx_close(&f);
        }
    }
    print_message("unlink: back %d, gone %d; unsynced create gone %d of 24\n", back, gone,
                  created_gone);
    assert_true(back > 0 && created_gone > 0);
}

static int
do_fdatasync(adb_io_t const *io, int fd) {
    return adb_io_fdatasync(io, fd); /* the line sync_line names */
}
static int
sync_line(void) {
    return __LINE__ - 4;
}

/* fsyncgate: a write pending at a failed fsync is lost at the crash even
 * though a retried fsync succeeded; a write synced after the failure is
 * kept where it overlaps; the failure fires once, at the nth op of its
 * site and kind. */
static void
test_fsync_failure(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        fx_t f;
        fx_open(&f);
        uint8_t old[8192], nw[8192];
        memset(old, 'o', sizeof old);
        memset(nw, 'n', sizeof nw);
        put_file(f.dfd, "a", old, sizeof old);
        adb_io_t const *io = simfs_io(f.sf);
        int             fd = adb_io_openat(io, f.dfd, "a", O_RDWR, 0);
        assert_true(fd >= 0);
        char site[128];
        snprintf(site, sizeof site, "%s:%d", __FILE_NAME__, sync_line());
        simfs_fail(f.sf, site, "fdatasync", 2, -EIO);
        assert_int_equal(adb_io_pwrite_all(io, fd, nw, sizeof nw, 0), 0);
        assert_int_equal(do_fdatasync(io, fd), 0); /* the 1st: fine */
        assert_null(simfs_failed_at(f.sf));
        assert_int_equal(adb_io_pwrite_all(io, fd, nw, 100, 8192 - 100), 0); /* new tail */
        assert_int_equal(adb_io_pwrite_all(io, fd, "XY", 2, 10), 0);
        assert_int_equal(do_fdatasync(io, fd), -EIO); /* the 2nd: fails */
        assert_non_null(simfs_failed_at(f.sf));
        assert_int_equal(do_fdatasync(io, fd), 0); /* the retry "succeeds" */
        assert_int_equal(adb_io_pwrite_all(io, fd, "Z", 1, 11), 0);
        assert_int_equal(adb_io_fdatasync(io, fd), 0);
        simfs_crash_report_t rep;
        assert_int_equal(simfs_crash(f.sf, seed, &g_tear, &rep), 0);
        assert_int_equal(rep.doomed, 2);
        adb_io_close(io, fd);
        ssize_t  sz;
        uint8_t *p = get_file(f.dfd, "a", &sz);
        assert_int_equal(sz, 8192);
        /* Synced before the failure: kept; pending at it: back to the
         * pre-image ("XY" was written over 'n'); synced after it: kept. */
        assert_int_equal(p[0], 'n');
        assert_int_equal(p[10], 'n');
        assert_int_equal(p[11], 'Z');
        assert_int_equal(p[12], 'n');
        assert_int_equal(p[8191], 'n'); /* the tail rewrote 'n' with 'n' */
        fx_close(&f);
    }
    /* An injected close error still closes. */
    fx_t f;
    fx_open(&f);
    adb_io_t const *io = simfs_io(f.sf);
    int             fd = adb_io_openat(io, f.dfd, "c", O_RDWR | O_CREAT, 0644);
    simfs_fail(f.sf, "x.c:1", "close", 1, -EIO);
    assert_int_equal(io->close(io->ctx, fd, "x.c:1"), -EIO);
    assert_int_equal(fcntl(fd, F_GETFD), -1); /* gone */
    fx_close(&f);
}

/* A pwrite from one line, and that line. */
static int
pw(adb_io_t const *io, int fd, uint64_t off) {
    return adb_io_pwrite_all(io, fd, "ab", 2, off); /* the line pw_line names */
}
static int
pw_line(void) {
    return __LINE__ - 4;
}

/* The k-th mutating op triggers: it does not happen, later ones fail. */
static void
test_trigger(void **state) {
    (void)state;
    fx_t f;
    fx_open(&f);
    adb_io_t const *io = simfs_io(f.sf);
    simfs_trigger_op(f.sf, 3);
    int fd = adb_io_openat(io, f.dfd, "a", O_RDWR | O_CREAT, 0644); /* 1 */
    assert_true(fd >= 0);
    assert_int_equal(adb_io_pwrite_all(io, fd, "ab", 2, 0), 0); /* 2 */
    uint8_t b[2];
    assert_int_equal(adb_io_pread_all(io, fd, b, 2, 0), 0); /* not counted */
    assert_int_equal(adb_io_fdatasync(io, fd), -EIO);       /* 3: the crash */
    assert_true(simfs_frozen(f.sf));
    assert_int_equal(simfs_mut_ops(f.sf), 2);
    assert_string_equal(simfs_crash_op(f.sf), "fdatasync");
    assert_non_null(strstr(simfs_crash_site(f.sf), "simfs.c:"));
    assert_int_equal(adb_io_pread_all(io, fd, b, 2, 0), -EIO);
    assert_int_equal(adb_io_close(io, fd), 0);
    fx_close(&f);

    /* By site: the first op from one line (ops from other lines go on). */
    fx_open(&f);
    io = simfs_io(f.sf);
    fd = adb_io_openat(io, f.dfd, "a", O_RDWR | O_CREAT, 0644);
    char site[128];
    snprintf(site, sizeof site, "%s:%d", __FILE_NAME__, pw_line());
    simfs_trigger_site(f.sf, site, 2);
    assert_int_equal(adb_io_pwrite_all(io, fd, "cd", 2, 8), 0); /* another line */
    assert_int_equal(pw(io, fd, 0), 0);
    assert_false(simfs_frozen(f.sf));
    assert_int_equal(pw(io, fd, 2), -EIO);
    assert_string_equal(simfs_crash_site(f.sf), site);
    adb_io_close(io, fd);
    fx_close(&f);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_unsynced_write), cmocka_unit_test(test_synced_write),
    cmocka_unit_test(test_tear),           cmocka_unit_test(test_rename),
    cmocka_unit_test(test_unlink),         cmocka_unit_test(test_trigger),
    cmocka_unit_test(test_fsync_failure),
};

ADB_TEST_GROUP(simfs, tests);
