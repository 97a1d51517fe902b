/* The I/O table under a database (src/util/io.h): a recording table sees
 * the order of the engine's file operations, and failing one of them gives
 * a clean error or the fatal state, never a crash or a half-made state.
 *
 *   seg_dir        a flush that creates a segment fsyncs accounts/ after
 *                  creating it and before the root record is written
 *   snap_end       a snapshot whose root record write fails puts the database
 *                  in the fatal state (no later flush may retry the record)
 *   close_result   the final flush's failure at close is the close's result
 *   svc_err_*      a clean pass whose tombstone read fails (EIO): stepped, the
 *                  step returns it; on the service threads, the next store
 *                  returns it once (and does nothing); both count in
 *                  stats.service_errors with the message kept
 *
 * The recorder: every op of the table is logged with its call site and the
 * path of its file (from /proc/self/fd); a rule fails the nth op of a kind
 * whose site or path matches. */
#include "../test.h"

#include "api/api_private.h"
#include "db/db.h"
#include "db/db_private.h"
#include "util/io.h"

#include "acctdb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define F3    "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define I3    "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define ROOT3 4

#define DB_OK(db, expr)                                                                            \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc < 0) {                                                                             \
            print_message("%s:%d: %s failed: %s (%d): %s\n", __FILE__, __LINE__, #expr,            \
                          acctdb_strerror(_rc), _rc, acctdb_db_errmsg(db));                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- the recording table ------------------------------------------------------------ */

enum {
    OP_OPENAT,
    OP_CLOSE,
    OP_PREAD,
    OP_PWRITE,
    OP_WRITE,
    OP_FSYNC,
    OP_FDATASYNC,
    OP_FTRUNCATE,
    OP_FALLOCATE,
    OP_PUNCH,
    OP_RENAMEAT,
    OP_UNLINKAT,
    OP_MKDIRAT,
    OP_FSTAT,
    OP_MMAP,
    OP_MUNMAP,
    OP_CNT
};
static char const *const op_names[OP_CNT] = {
    "openat",    "close", "pread",    "pwrite",   "write",   "fsync", "fdatasync", "ftruncate",
    "fallocate", "punch", "renameat", "unlinkat", "mkdirat", "fstat", "mmap",      "munmap"};

typedef struct ev {
    int  op;
    int  flags;  /* openat */
    bool is_dir; /* the file is a directory */
    char site[48];
    char path[PATH_MAX]; /* the file (openat: the one named; renameat: the new name) */
} ev_t;

typedef struct rule {
    int         op;       /* OP_CNT: none */
    char const *site;     /* prefix of the site ("db_clean.c"), or NULL */
    char const *path_has; /* substring of the path, or NULL */
    bool        writes;   /* openat: only opens for writing */
    int         nth;      /* fail from the nth match on (1 = first) */
    int         times;    /* how many (0: one; -1: every one) */
    int         err;
    int         seen, fired;
} rule_t;

typedef struct rec {
    adb_io_t        io;
    pthread_mutex_t mu;
    bool            on; /* recording */
    ev_t           *ev;
    size_t          n, cap;
    rule_t          rule;
} rec_t;

static void
fd_path(int fd, char *out, size_t max, bool *is_dir) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t r = readlink(p, out, max - 1);
    out[r > 0 ? r : 0] = 0;
    struct stat st;
    *is_dir = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
at_path(int dirfd, char const *name, char *out, size_t max) {
    if (name[0] == '/' || dirfd == AT_FDCWD) {
        snprintf(out, max, "%s", name);
        return;
    }
    bool d;
    char dir[PATH_MAX];
    fd_path(dirfd, dir, sizeof dir, &d);
    size_t k = strlen(dir);
    if (k + 1 + strlen(name) >= max) k = 0; /* too long: the name alone */
    memcpy(out, dir, k);
    out[k] = '/';
    snprintf(out + k + 1, max - k - 1, "%s", name);
}

/* Logs the op; returns the error to inject (0: none). */
static int
note(rec_t *r, int op, int fd, int dirfd, char const *name, int flags, char const *site) {
    ev_t e = {.op = op, .flags = flags};
    snprintf(e.site, sizeof e.site, "%s", site);
    if (name)
        at_path(dirfd, name, e.path, sizeof e.path);
    else if (fd >= 0)
        fd_path(fd, e.path, sizeof e.path, &e.is_dir);
    int inject = 0;
    pthread_mutex_lock(&r->mu);
    rule_t *u = &r->rule;
    if (u->op == op && (u->times < 0 || u->fired < (u->times ? u->times : 1)) &&
        (!u->site || !strncmp(site, u->site, strlen(u->site))) &&
        (!u->path_has || strstr(e.path, u->path_has)) &&
        (!u->writes || (flags & (O_WRONLY | O_RDWR | O_CREAT))) && ++u->seen >= u->nth) {
        u->fired++;
        inject = u->err;
    }
    if (r->on) {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 1024;
            r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
            assert_non_null(r->ev);
        }
        r->ev[r->n++] = e;
    }
    pthread_mutex_unlock(&r->mu);
    return inject;
}

#define POSIX adb_io_posix()

static int
r_openat(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site) {
    int x = note(ctx, OP_OPENAT, -1, dirfd, path, flags, site);
    return x ? x : POSIX->openat(NULL, dirfd, path, flags, mode, site);
}
static int
r_close(void *ctx, int fd, char const *site) {
    int x = note(ctx, OP_CLOSE, fd, 0, NULL, 0, site);
    return x ? x : POSIX->close(NULL, fd, site);
}
static ssize_t
r_pread(void *ctx, int fd, void *buf, size_t sz, uint64_t off, char const *site) {
    int x = note(ctx, OP_PREAD, fd, 0, NULL, 0, site);
    return x ? x : POSIX->pread(NULL, fd, buf, sz, off, site);
}
static ssize_t
r_pwrite(void *ctx, int fd, void const *buf, size_t sz, uint64_t off, char const *site) {
    int x = note(ctx, OP_PWRITE, fd, 0, NULL, 0, site);
    return x ? x : POSIX->pwrite(NULL, fd, buf, sz, off, site);
}
static ssize_t
r_write(void *ctx, int fd, void const *buf, size_t sz, char const *site) {
    int x = note(ctx, OP_WRITE, fd, 0, NULL, 0, site);
    return x ? x : POSIX->write(NULL, fd, buf, sz, site);
}
static int
r_fsync(void *ctx, int fd, char const *site) {
    int x = note(ctx, OP_FSYNC, fd, 0, NULL, 0, site);
    return x ? x : POSIX->fsync(NULL, fd, site);
}
static int
r_fdatasync(void *ctx, int fd, char const *site) {
    int x = note(ctx, OP_FDATASYNC, fd, 0, NULL, 0, site);
    return x ? x : POSIX->fdatasync(NULL, fd, site);
}
static int
r_ftruncate(void *ctx, int fd, uint64_t sz, char const *site) {
    int x = note(ctx, OP_FTRUNCATE, fd, 0, NULL, 0, site);
    return x ? x : POSIX->ftruncate(NULL, fd, sz, site);
}
static int
r_fallocate(void *ctx, int fd, uint64_t off, uint64_t sz, char const *site) {
    int x = note(ctx, OP_FALLOCATE, fd, 0, NULL, 0, site);
    return x ? x : POSIX->fallocate(NULL, fd, off, sz, site);
}
static int
r_punch(void *ctx, int fd, uint64_t off, uint64_t len, char const *site) {
    int x = note(ctx, OP_PUNCH, fd, 0, NULL, 0, site);
    return x ? x : POSIX->punch(NULL, fd, off, len, site);
}
static int
r_renameat(void *ctx, int od, char const *op, int nd, char const *np, char const *site) {
    int x = note(ctx, OP_RENAMEAT, -1, nd, np, 0, site);
    return x ? x : POSIX->renameat(NULL, od, op, nd, np, site);
}
static int
r_unlinkat(void *ctx, int dirfd, char const *path, int flags, char const *site) {
    int x = note(ctx, OP_UNLINKAT, -1, dirfd, path, 0, site);
    return x ? x : POSIX->unlinkat(NULL, dirfd, path, flags, site);
}
static int
r_mkdirat(void *ctx, int dirfd, char const *path, int mode, char const *site) {
    int x = note(ctx, OP_MKDIRAT, -1, dirfd, path, 0, site);
    return x ? x : POSIX->mkdirat(NULL, dirfd, path, mode, site);
}
static int
r_fstat(void *ctx, int fd, struct stat *st, char const *site) {
    int x = note(ctx, OP_FSTAT, fd, 0, NULL, 0, site);
    return x ? x : POSIX->fstat(NULL, fd, st, site);
}
static int
r_mmap(void *ctx, int fd, uint64_t off, size_t len, void **out, char const *site) {
    int x = note(ctx, OP_MMAP, fd, 0, NULL, 0, site);
    return x ? x : POSIX->mmap(NULL, fd, off, len, out, site);
}
static int
r_munmap(void *ctx, void *p, size_t len, char const *site) {
    int x = note(ctx, OP_MUNMAP, -1, 0, NULL, 0, site);
    return x ? x : POSIX->munmap(NULL, p, len, site);
}

static void
rec_init(rec_t *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->rule.op = OP_CNT;
    r->io = (adb_io_t){.openat = r_openat,
                       .close = r_close,
                       .pread = r_pread,
                       .pwrite = r_pwrite,
                       .write = r_write,
                       .fsync = r_fsync,
                       .fdatasync = r_fdatasync,
                       .ftruncate = r_ftruncate,
                       .fallocate = r_fallocate,
                       .punch = r_punch,
                       .renameat = r_renameat,
                       .unlinkat = r_unlinkat,
                       .mkdirat = r_mkdirat,
                       .fstat = r_fstat,
                       .mmap = r_mmap,
                       .munmap = r_munmap,
                       .ctx = r};
}

static void
rec_fini(rec_t *r) {
    free(r->ev);
    pthread_mutex_destroy(&r->mu);
}

static void
rec_clear(rec_t *r, bool on) {
    pthread_mutex_lock(&r->mu);
    r->n = 0;
    r->on = on;
    pthread_mutex_unlock(&r->mu);
}

static void
rec_stop(rec_t *r) {
    pthread_mutex_lock(&r->mu);
    r->on = false;
    pthread_mutex_unlock(&r->mu);
}

static void
rec_arm(rec_t *r, rule_t u) {
    pthread_mutex_lock(&r->mu);
    r->rule = u;
    r->rule.seen = r->rule.fired = 0;
    if (!r->rule.nth) r->rule.nth = 1;
    pthread_mutex_unlock(&r->mu);
}

static int
rec_fired(rec_t *r) {
    pthread_mutex_lock(&r->mu);
    int f = r->rule.fired;
    pthread_mutex_unlock(&r->mu);
    return f;
}

static void
rec_dump(rec_t const *r, size_t from, size_t to) {
    for (size_t i = from; i < to && i < r->n; i++)
        print_message("  %4zu %-9s %-22s %s%s\n", i, op_names[r->ev[i].op], r->ev[i].site,
                      r->ev[i].path, r->ev[i].is_dir ? " (dir)" : "");
}

static char const *
base_name(char const *p) {
    char const *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Is e a write of the root record (whatever its file is called: acctdb.*,
 * its temporary name, a catalog)? */
static bool
is_record_write(ev_t const *e) {
    char const *b = base_name(e->path);
    bool        named = strstr(b, "acctdb.") || !strncmp(b, "catalog", 7);
    if (!named || strstr(b, "acctdb.conf")) return false;
    return (e->op == OP_OPENAT && (e->flags & (O_WRONLY | O_RDWR | O_CREAT))) ||
           e->op == OP_RENAMEAT || e->op == OP_PWRITE || e->op == OP_WRITE;
}

/* ---- helpers -------------------------------------------------------------------------- */

static void
cfg_stepped(acctdb_db_config_t *c) {
    acctdb_db_config_default(c);
    c->background = false;
    c->index_bins = 64;
    c->threads = 2;
    c->flush_min_sz = 0;
}

static void
join(char *out, char const *a, char const *b) {
    int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
    assert_true(n > 0 && n < PATH_MAX);
}

/* The pair's database in dir, its files through io (NULL: the public
 * call, i.e. the process default). */
static acctdb_db_t *
create_pair(char const *dir, acctdb_db_config_t const *cfg, adb_io_t const *io) {
    acctdb_db_source_t src = {.full_path = adb_test_data(F3),
                              .incremental_path = adb_test_data(I3)};
    acctdb_db_t       *db = NULL;
    char               msg[1024];
    int                rc = io ? adb_api_db_create_io(&db, dir, &src, cfg, io, msg, sizeof msg)
                               : acctdb_db_create(&db, dir, &src, cfg, msg, sizeof msg);
    if (rc) fail_msg("create %s: %s (%s)", dir, msg, acctdb_strerror(rc));
    return db;
}

static acctdb_db_t *
open_ok(char const *dir, acctdb_db_config_t const *cfg, adb_io_t const *io) {
    acctdb_db_t *db = NULL;
    char         msg[1024];
    int          rc = io ? adb_api_db_open_io(&db, dir, cfg, io, msg, sizeof msg)
                         : acctdb_db_open(&db, dir, cfg, msg, sizeof msg);
    if (rc) fail_msg("open %s: %s (%s)", dir, msg, acctdb_strerror(rc));
    return db;
}

static acctdb_pubkey_t
key_of(uint64_t tag) {
    acctdb_pubkey_t k;
    uint8_t         in[16] = "iotable-test-key";
    memcpy(in + 8, &tag, 8);
    acctdb_blake3(in, sizeof in, k.b, 32);
    return k;
}

static acctdb_bank_meta_t
meta_of(uint64_t slot) {
    acctdb_bank_meta_t m;
    memset(&m, 0, sizeof m);
    acctdb_blake3(&slot, sizeof slot, m.blockhash.b, 32);
    m.unix_timestamp = 1700000000 + (int64_t)slot;
    return m;
}

/* One bank on the root (begun with its sysvars, so snapshots work) storing
 * n accounts with tags from tag0 (lamports 0 closes them), frozen and
 * rooted.  Returns the new root. */
static uint64_t
advance(acctdb_db_t *db, uint64_t tag0, size_t n, uint64_t lamports) {
    uint64_t         root = acctdb_db_root_slot(db, NULL), s = root + 1;
    static uint8_t   data[512];
    acctdb_account_t a[64];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].pubkey = key_of(tag0 + i);
        a[i].lamports = lamports;
        a[i].rent_epoch = UINT64_MAX;
        a[i].data_len = lamports ? sizeof data : 0;
        a[i].data = lamports ? data : NULL;
    }
    DB_OK(db, acctdb_db_bank_begin(db, s, root, 1700000000 + (int64_t)s));
    if (n) DB_OK(db, acctdb_db_store(db, s, root, a, n));
    acctdb_bank_meta_t m = meta_of(s);
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
    DB_OK(db, acctdb_db_root(db, s));
    return s;
}

/* ---- seg_dir: the directory entry of a new segment is durable before the record -------- */

static void
test_seg_dir(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[PATH_MAX], seg0[PATH_MAX], acc[PATH_MAX];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_close(create_pair(dir, &cfg, NULL));
    join(seg0, dir, "accounts/seg-000000");
    join(acc, dir, "accounts");
    char acc_real[PATH_MAX];
    assert_non_null(realpath(acc, acc_real));

    rec_t r;
    rec_init(&r);
    acctdb_db_t *db = open_ok(dir, &cfg, &r.io);
    /* The first segment counts as full: the next storage opens seg-000001. */
    db->db->seg_max_sz = 1;
    advance(db, 1, 8, 1000);
    rec_clear(&r, true);
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    rec_stop(&r);
    acctdb_db_stats_t st;
    DB_OK(db, acctdb_db_stats(db, &st));
    acctdb_db_close(db);
    assert_int_equal(st.segments, 2);

    size_t i_create = SIZE_MAX, i_dsync = SIZE_MAX, i_rec = SIZE_MAX;
    for (size_t i = 0; i < r.n; i++) {
        ev_t const *e = &r.ev[i];
        if (i_create == SIZE_MAX && e->op == OP_OPENAT && (e->flags & O_CREAT) &&
            !strcmp(base_name(e->path), "seg-000001"))
            i_create = i;
        if (i_create != SIZE_MAX && i_dsync == SIZE_MAX && e->op == OP_FSYNC && e->is_dir &&
            !strcmp(e->path, acc_real))
            i_dsync = i;
        if (i_create != SIZE_MAX && i_rec == SIZE_MAX && is_record_write(e)) i_rec = i;
    }
    if (i_create == SIZE_MAX || i_dsync == SIZE_MAX || i_rec == SIZE_MAX || i_dsync > i_rec) {
        rec_dump(&r, 0, r.n);
        fail_msg("segment create at %zu, fsync of accounts/ at %zu, record write at %zu "
                 "(want create < fsync < record)",
                 i_create, i_dsync, i_rec);
    }
    rec_fini(&r);
    /* It reopens at the flushed root, from both segments. */
    db = open_ok(dir, &cfg, NULL);
    assert_int_equal(acctdb_db_root_slot(db, NULL), ROOT3 + 1);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- snap_end: a failed record after a snapshot is fatal ------------------------------- */

static void
test_snap_end(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[PATH_MAX], arch[PATH_MAX], path[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(arch, tmp, "archives");
    assert_int_equal(mkdir(arch, 0755), 0);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    rec_t r;
    rec_init(&r);
    acctdb_db_t *db = create_pair(dir, &cfg, &r.io);
    uint64_t     root = advance(db, 1, 8, 1000);
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    acctdb_db_stats_t st;
    DB_OK(db, acctdb_db_stats(db, &st));
    uint64_t full0 = st.last_full_snapshot_slot;

    /* The archive is written; recording it in the root record fails. */
    rec_arm(&r, (rule_t){.op = OP_OPENAT, .path_has = "acctdb.", .writes = true, .err = -EIO});
    int rc = acctdb_db_snapshot(db, arch, false, path);
    assert_int_equal(rec_fired(&r), 1);
    if (rc != ACCTDB_ERR_FATAL || !strstr(acctdb_db_errmsg(db), "recording the full snapshot") ||
        !strstr(acctdb_db_errmsg(db), "(EIO)"))
        fail_msg("snapshot: %s: %s", acctdb_strerror(rc), acctdb_db_errmsg(db));
    /* Sticky: writes and flushes are refused, the record is not retried. */
    acctdb_account_t a = {.pubkey = key_of(99), .lamports = 5, .rent_epoch = UINT64_MAX};
    assert_int_equal(acctdb_db_store(db, root + 1, root, &a, 1), ACCTDB_ERR_FATAL);
    assert_non_null(strstr(acctdb_db_errmsg(db), "recording the full snapshot"));
    DB_OK(db, acctdb_db_stats(db, &st));
    assert_int_equal(st.last_full_snapshot_slot, full0);
    acctdb_db_close(db);
    rec_fini(&r);
    /* The last good record opens. */
    db = open_ok(dir, &cfg, NULL);
    assert_int_equal(acctdb_db_root_slot(db, NULL), root);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- close_result: the final flush's failure is close's result -------------------------- */

static void
test_close_result(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[PATH_MAX];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = create_pair(dir, &cfg, NULL);
    uint64_t     root = advance(db, 1, 8, 1000);
    /* A clean close: the newest root durable, result 0. */
    assert_int_equal(acctdb_db_shutdown(db, NULL, NULL, 0), 0);
    rec_t r;
    rec_init(&r);
    db = open_ok(dir, &cfg, &r.io);
    assert_int_equal(acctdb_db_root_slot(db, NULL), root);
    uint64_t next = advance(db, 100, 8, 2000);
    rec_arm(&r, (rule_t){.op = OP_FDATASYNC, .err = -EIO});
    int rc = acctdb_db_shutdown(db, NULL, NULL, 0);
    assert_int_equal(rec_fired(&r), 1);
    rec_fini(&r);
    if (rc != ACCTDB_ERR_FATAL || !strstr(adb_eng_err()->msg, "fdatasync") ||
        !strstr(adb_eng_err()->msg, "(EIO)"))
        fail_msg("close: %s: '%s'", acctdb_strerror(rc), adb_eng_err()->msg);
    db = open_ok(dir, &cfg, NULL);
    assert_int_equal(acctdb_db_root_slot(db, NULL), root); /* next was not made durable */
    assert_true(next > root);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- svc_err: a failed background pass reaches the caller once ------------------------ */

/* A database with one tombstone (a new key closed at once) in the last full
 * snapshot's root, so the next clean pass reads its header (db_clean.c). */
/* A failing tombstone read: clean's first after the rule is armed. */
static rule_t const clean_eio = {.op = OP_PREAD, .site = "db_clean.c", .err = -EIO};

/* The database's files go through r; with arm, clean_eio is armed just
 * before the snapshot (no clean pass can read the tombstone earlier: it is
 * newer than the last full snapshot until this one). */
static acctdb_db_t *
tombstone_db(char const *tmp, acctdb_db_config_t const *cfg, rec_t *r, bool arm,
             uint64_t *root_out) {
    char dir[PATH_MAX], arch[PATH_MAX], path[4096];
    join(dir, tmp, "db");
    join(arch, tmp, "archives");
    assert_int_equal(mkdir(arch, 0755), 0);
    acctdb_db_t *db = create_pair(dir, cfg, &r->io);
    uint64_t     root = advance(db, 1, 8, 1000);
    root = advance(db, 500, 1, 0);
    if (arm) rec_arm(r, clean_eio);
    DB_OK(db, acctdb_db_snapshot(db, arch, false, path)); /* flushes first */
    *root_out = root;
    return db;
}

static void
test_svc_err_stepped(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp();
    assert_non_null(tmp);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    rec_t r;
    rec_init(&r);
    uint64_t     root;
    acctdb_db_t *db = tombstone_db(tmp, &cfg, &r, false, &root);
    rec_arm(&r, clean_eio);
    int rc = acctdb_db_service_step(db, ACCTDB_SERVICE_CLEAN);
    assert_int_equal(rec_fired(&r), 1);
    char const *m = acctdb_db_errmsg(db);
    if (rc != -EIO || !strstr(m, "clean") || !strstr(m, "(EIO)"))
        fail_msg("clean step: %s: '%s'", acctdb_strerror(rc), m);
    acctdb_db_stats_t st;
    DB_OK(db, acctdb_db_stats(db, &st));
    assert_int_equal(st.service_errors, 1);
    char last[512];
    assert_int_equal(acctdb_db_service_error(db, last, sizeof last), 1);
    if (!strstr(last, "clean") || !strstr(last, "(EIO)")) fail_msg("service error: '%s'", last);
    /* The step returned it: no later call returns it again. */
    advance(db, 600, 4, 1000);
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    acctdb_db_close(db);
    rec_fini(&r);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_svc_err_threaded(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp();
    assert_non_null(tmp);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    cfg.background = true;
    cfg.service_interval_ms = 2;
    cfg.flush_max_delay_ms = 0;
    rec_t r;
    rec_init(&r);
    /* Armed before the snapshot: the clean thread's first tombstone read
     * after it (the snapshot moves the last full slot) fails. */
    uint64_t          root;
    acctdb_db_t      *db = tombstone_db(tmp, &cfg, &r, true, &root);
    acctdb_db_stats_t st = {0};
    for (int i = 0; i < 20000 && !st.service_errors; i++) {
        DB_OK(db, acctdb_db_stats(db, &st));
        if (!st.service_errors) usleep(1000);
    }
    assert_int_equal(rec_fired(&r), 1);
    assert_int_equal(st.service_errors, 1);
    /* The next write call returns it, with its message, and does nothing. */
    uint64_t         s = root + 1;
    acctdb_account_t a = {.pubkey = key_of(700), .lamports = 5, .rent_epoch = UINT64_MAX};
    int              rc = acctdb_db_store(db, s, root, &a, 1);
    char const      *m = acctdb_db_errmsg(db);
    if (rc != -EIO || !strstr(m, "clean") || !strstr(m, "(EIO)") || !strstr(m, "background"))
        fail_msg("store after the failed pass: %s: '%s'", acctdb_strerror(rc), m);
    DB_OK(db, acctdb_db_stats(db, &st));
    assert_int_equal(st.banks_open, 0); /* the store did nothing */
    /* Once: the same call now works, and the count stays. */
    DB_OK(db, acctdb_db_store(db, s, root, &a, 1));
    char last[512];
    assert_int_equal(acctdb_db_service_error(db, last, sizeof last), 1);
    assert_non_null(strstr(last, "clean"));
    acctdb_db_close(db);
    rec_fini(&r);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- handles: one handle's table sees all of its file operations, none of another's ------ */

static bool
under(char const *path, char const *dir, char const *dir_real) {
    size_t a = strlen(dir), b = strlen(dir_real);
    return (!strncmp(path, dir, a) && (path[a] == '/' || !path[a])) ||
           (!strncmp(path, dir_real, b) && (path[b] == '/' || !path[b]));
}

/* The account at key in db's root: lamports. */
static uint64_t
lamports_of(acctdb_db_t *db, uint64_t tag) {
    static uint8_t   buf[4096];
    acctdb_pubkey_t  k = key_of(tag);
    acctdb_account_t a;
    int rc = acctdb_db_load(db, acctdb_db_root_slot(db, NULL), &k, &a, buf, sizeof buf, NULL);
    if (rc)
        fail_msg("load %llu: %s: %s", (unsigned long long)tag, acctdb_strerror(rc),
                 acctdb_db_errmsg(db));
    return a.lamports;
}

/* Stores, roots and flushes, then shrink (the first storages are mostly
 * dead), a tombstone, a full snapshot, clean (removes it), reads, check and
 * verify. */
static void
workload(acctdb_db_t *db, char const *arch) {
    for (uint64_t i = 0; i < 3; i++) {
        advance(db, 1, 64, 1000 + i);
        DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    }
    advance(db, 1, 32, 5000);
    advance(db, 500, 1, 0);
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    char path[4096];
    DB_OK(db, acctdb_db_snapshot(db, arch, false, path));
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_CLEAN));
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_SHRINK));
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    acctdb_db_stats_t st;
    DB_OK(db, acctdb_db_stats(db, &st));
    assert_true(st.service_work[ACCTDB_SERVICE_CLEAN] >= 1);  /* the tombstone went */
    assert_true(st.service_work[ACCTDB_SERVICE_SHRINK] >= 1); /* storages rewritten */
    assert_int_equal(lamports_of(db, 1), 5000);
    assert_int_equal(lamports_of(db, 40), 1002);
    char msg[1024];
    if (acctdb_db_check(db, msg, sizeof msg)) fail_msg("check: %s", msg);
    if (acctdb_db_verify(db, msg, sizeof msg)) fail_msg("verify: %s", msg);
}

static void
test_handles(void **state) {
    (void)state;
    char *t1 = adb_test_mkdtemp(), *t2 = adb_test_mkdtemp();
    assert_non_null(t1);
    assert_non_null(t2);
    char d1[PATH_MAX], d2[PATH_MAX], a1[PATH_MAX], a2[PATH_MAX], r1[PATH_MAX], r2[PATH_MAX];
    join(d1, t1, "db");
    join(d2, t2, "db");
    join(a1, t1, "archives");
    join(a2, t2, "archives");
    assert_int_equal(mkdir(a1, 0755), 0);
    assert_int_equal(mkdir(a2, 0755), 0);
    assert_non_null(realpath(t1, r1));
    assert_non_null(realpath(t2, r2));
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    cfg.mmap_reads = true;
    cfg.shrink_per_file = true;
    rec_t r;
    rec_init(&r);
    rec_clear(&r, true);
    /* Handle 1 records; handle 2, in the same process at the same time,
     * uses the process default (POSIX). */
    acctdb_db_t *h1 = create_pair(d1, &cfg, &r.io);
    acctdb_db_t *h2 = create_pair(d2, &cfg, NULL);
    workload(h1, a1);
    workload(h2, a2);
    uint64_t root = acctdb_db_root_slot(h1, NULL);
    assert_int_equal(acctdb_db_shutdown(h1, NULL, NULL, 0), 0);
    h1 = open_ok(d1, &cfg, &r.io);
    assert_int_equal(acctdb_db_root_slot(h1, NULL), root);
    assert_int_equal(lamports_of(h1, 2), 5000);
    assert_int_equal(lamports_of(h2, 2), 5000);
    acctdb_db_close(h1);
    rec_stop(&r);
    acctdb_db_close(h2);

    size_t cnt[OP_CNT] = {0}, dir_fsyncs = 0, sites = 0;
    char   seen[256][48];
    for (size_t i = 0; i < r.n; i++) {
        ev_t const *e = &r.ev[i];
        cnt[e->op]++;
        if (e->op == OP_FSYNC && e->is_dir) dir_fsyncs++;
        size_t k = 0;
        while (k < sites && strcmp(seen[k], e->site))
            k++;
        if (k == sites && sites < 256) snprintf(seen[sites++], sizeof seen[0], "%s", e->site);
        if (!e->path[0]) continue; /* munmap: no file */
        if (under(e->path, t2, r2)) {
            rec_dump(&r, i, i + 1);
            fail_msg("handle 2's file operation went through handle 1's table");
        }
        if (!under(e->path, t1, r1)) {
            rec_dump(&r, i, i + 1);
            fail_msg("an operation outside handle 1's database and archives");
        }
    }
    print_message("  %zu operations from %zu call sites:", r.n, sites);
    for (int op = 0; op < OP_CNT; op++)
        if (cnt[op]) print_message(" %s %zu", op_names[op], cnt[op]);
    print_message("; %zu directory fsyncs\n", dir_fsyncs);
    int const want[] = {OP_OPENAT, OP_CLOSE,     OP_PREAD,    OP_PWRITE,  OP_WRITE,
                        OP_FSYNC,  OP_FDATASYNC, OP_RENAMEAT, OP_MKDIRAT, OP_FSTAT,
                        OP_MMAP,   OP_MUNMAP,    OP_PUNCH};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!cnt[want[i]]) fail_msg("no %s went through the handle's table", op_names[want[i]]);
    assert_true(dir_fsyncs > 0);
    rec_fini(&r);
    adb_test_rmtree(t1);
    adb_test_rmtree(t2);
    free(t1);
    free(t2);
}

/* ---- read_error: a failed pread during a read is a clean error ---------------------------- */

static void
test_read_error(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[PATH_MAX];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    cfg.mmap_reads = false; /* reads by pread: an EIO through a mapping is a SIGBUS */
    cfg.read_cache_max_sz = 0;
    rec_t r;
    rec_init(&r);
    acctdb_db_t *db = create_pair(dir, &cfg, &r.io);
    uint64_t     root = advance(db, 1, 8, 1000);
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    static uint8_t   buf[4096];
    acctdb_pubkey_t  k = key_of(3);
    acctdb_account_t a;
    rec_arm(&r, (rule_t){.op = OP_PREAD, .err = -EIO});
    int rc = acctdb_db_load(db, root, &k, &a, buf, sizeof buf, NULL);
    assert_int_equal(rec_fired(&r), 1);
    char const *m = acctdb_db_errmsg(db);
    if (rc != -EIO || !strstr(m, "reading the storage") || !strstr(m, "(EIO)"))
        fail_msg("load with a failing pread: %s: '%s'", acctdb_strerror(rc), m);
    /* Nothing sticks: the next read works. */
    DB_OK(db, acctdb_db_load(db, root, &k, &a, buf, sizeof buf, NULL));
    assert_int_equal(a.lamports, 1000);
    acctdb_db_close(db);
    rec_fini(&r);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- nosync: the config key sync = false takes every sync away, and only that ------------ */

static void
test_nosync(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[PATH_MAX];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_close(create_pair(dir, &cfg, NULL));
    rec_t r;
    rec_init(&r);
    size_t counts[2][OP_CNT];
    for (int off = 0; off < 2; off++) {
        cfg.sync = !off;
        rec_clear(&r, true);
        acctdb_db_t *db = open_ok(dir, &cfg, &r.io);
        advance(db, 16 * (uint64_t)off + 1, 8, 1000);
        DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
        DB_OK(db, acctdb_db_shutdown(db, NULL, NULL, 0));
        rec_stop(&r);
        memset(counts[off], 0, sizeof counts[off]);
        for (size_t i = 0; i < r.n; i++) {
            counts[off][r.ev[i].op]++;
            if (off && (r.ev[i].op == OP_FSYNC || r.ev[i].op == OP_FDATASYNC))
                print_message("  a sync with sync off, at %s\n", r.ev[i].site);
        }
    }
    /* With sync the open, the flush and the close sync; without, nothing
     * does, and the same writes still happen. */
    assert_true(counts[0][OP_FSYNC] > 0 && counts[0][OP_FDATASYNC] > 0);
    assert_int_equal(counts[1][OP_FSYNC], 0);
    assert_int_equal(counts[1][OP_FDATASYNC], 0);
    assert_int_equal(counts[1][OP_PWRITE], counts[0][OP_PWRITE]);
    /* Both roots are there after a reopen. */
    acctdb_db_t *db = open_ok(dir, &cfg, NULL);
    uint64_t     durable = 0, root = acctdb_db_root_slot(db, &durable);
    assert_int_equal(root, durable);
    static uint8_t   buf[4096];
    acctdb_account_t a;
    acctdb_pubkey_t  k1 = key_of(1), k2 = key_of(17);
    DB_OK(db, acctdb_db_load(db, durable, &k1, &a, buf, sizeof buf, NULL));
    DB_OK(db, acctdb_db_load(db, durable, &k2, &a, buf, sizeof buf, NULL));
    acctdb_db_close(db);
    rec_fini(&r);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- mmap_fallback: without mappings everything reads by pread ----------------------------- */

static void
test_mmap_fallback(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[PATH_MAX], arch[PATH_MAX], path[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(arch, tmp, "archives");
    assert_int_equal(mkdir(arch, 0755), 0);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = create_pair(dir, &cfg, NULL);
    advance(db, 1, 8, 1000);
    acctdb_db_close(db);
    /* Every mmap fails (as with vm.max_map_count reached): open indexes,
     * reads, verify and a snapshot read the storages instead. */
    rec_t r;
    rec_init(&r);
    rec_arm(&r, (rule_t){.op = OP_MMAP, .times = -1, .err = -ENOMEM});
    db = open_ok(dir, &cfg, &r.io);
    assert_true(rec_fired(&r) > 0);
    assert_int_equal(lamports_of(db, 5), 1000);
    advance(db, 1, 8, 2000);
    DB_OK(db, acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH));
    assert_int_equal(lamports_of(db, 5), 2000);
    char msg[1024];
    if (acctdb_db_verify(db, msg, sizeof msg)) fail_msg("verify: %s", msg);
    if (acctdb_db_check(db, msg, sizeof msg)) fail_msg("check: %s", msg);
    DB_OK(db, acctdb_db_snapshot(db, arch, false, path));
    acctdb_db_close(db);
    rec_fini(&r);
    /* The archive it wrote is whole. */
    acctdb_snapshot_t *s = NULL;
    int                rc = acctdb_snapshot_open(&s, path, NULL, NULL);
    if (rc) fail_msg("the archive written without mappings: %s", acctdb_snapshot_errmsg(s));
    acctdb_snapshot_close(s);
    adb_test_rmtree(tmp);
    free(tmp);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_seg_dir),          cmocka_unit_test(test_snap_end),
    cmocka_unit_test(test_close_result),     cmocka_unit_test(test_svc_err_stepped),
    cmocka_unit_test(test_svc_err_threaded), cmocka_unit_test(test_handles),
    cmocka_unit_test(test_read_error),       cmocka_unit_test(test_mmap_fallback),
    cmocka_unit_test(test_nosync),
};

ADB_TEST_GROUP(iotable, tests);
