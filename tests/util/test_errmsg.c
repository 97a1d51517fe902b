/* Error messages keep their cause.
 *
 *   strerror:  acctdb_strerror(-errno) is the system's description with the
 *              errno's name ("No space left on device (ENOSPC)") for the
 *              errors an operator must tell apart (ENOSPC, EDQUOT, EACCES,
 *              EROFS, EIO), the same static string every time, from any
 *              thread; ACCTDB_ERR_* codes keep their texts.
 *   archive:   a snapshot write (acctdb_snapshot_gen) whose archive file
 *              gets ENOSPC / EDQUOT / EIO / EROFS / EACCES from the I/O table
 *              (src/util/io.h) returns that -errno, with a message naming
 *              the errno and the temp file.
 *   fatal:     a flush whose fdatasync gets ENOSPC (from the database's own
 *              table, adb_api_db_create_io) puts the database in the sticky
 *              fatal state; later stores and snapshots are refused with a
 *              message that carries that first cause. */
#include "../test.h"

#include "api/api_private.h"
#include "util/io.h"

#include "acctdb.h"
#include "acctdb_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FULL_NAME "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define INC_NAME  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"

#define TMP_PREFIX "tmp-snapshot-archive-"

/* ---- acctdb_strerror ----------------------------------------------------------- */

static void
test_strerror_names(void **state) {
    (void)state;
    struct {
        int         err;
        char const *name, *desc;
    } const cases[] = {
        {-ENOSPC, "(ENOSPC)", "No space left on device"},
        {-EDQUOT, "(EDQUOT)", "Disk quota exceeded"},
        {-EACCES, "(EACCES)", "Permission denied"},
        {-EROFS, "(EROFS)", "Read-only file system"},
        {-EIO, "(EIO)", "Input/output error"},
        {-ENOENT, "(ENOENT)", "No such file or directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char const *s = acctdb_strerror(cases[i].err);
        if (!strstr(s, cases[i].name) || !strstr(s, cases[i].desc))
            fail_msg("acctdb_strerror(%d) = '%s': expected '%s' and '%s'", cases[i].err, s,
                     cases[i].desc, cases[i].name);
        assert_ptr_equal(s, acctdb_strerror(cases[i].err)); /* static */
    }
    assert_string_equal(acctdb_strerror(-ENOSPC), "No space left on device (ENOSPC)");
    /* our own codes are unchanged, anything else still gets a text */
    assert_string_equal(acctdb_strerror(ACCTDB_ERR_FULL), "size limit reached or disk full");
    assert_string_equal(acctdb_strerror(0), "success");
    assert_non_null(acctdb_strerror(-4000));
    assert_non_null(acctdb_strerror(-300));
    assert_non_null(acctdb_strerror(12345));
}

/* Many threads asking at once (the table is built on first use). */
static atomic_int g_bad;

static void *
strerror_thread(void *arg) {
    (void)arg;
    for (int round = 0; round < 50; round++)
        for (int e = 1; e < 300; e++) {
            char const *s = acctdb_strerror(-e);
            if (!s || !s[0]) atomic_fetch_add(&g_bad, 1);
        }
    if (!strstr(acctdb_strerror(-EROFS), "(EROFS)")) atomic_fetch_add(&g_bad, 1);
    return NULL;
}

static void
test_strerror_threads(void **state) {
    (void)state;
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, strerror_thread, NULL), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&g_bad), 0);
}

/* ---- an I/O table that fails one kind of call on one file ---------------------- */

typedef struct fault {
    /* archive temp file: fail its nth write / its fsync / its creation; the
     * rename of it */
    int        write_at, err;
    bool       fail_fsync, fail_create, fail_rename, fail_fdatasync;
    atomic_int tmp_fd, writes;
} fault_t;

static fault_t  g_f;
static adb_io_t g_io;

static int
f_openat(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site) {
    (void)ctx;
    bool is_tmp = !strncmp(path, TMP_PREFIX, strlen(TMP_PREFIX));
    if (is_tmp && g_f.fail_create) return g_f.err;
    int fd = adb_io_posix()->openat(NULL, dirfd, path, flags, mode, site);
    if (is_tmp && fd >= 0) atomic_store(&g_f.tmp_fd, fd);
    return fd;
}

static int
f_close(void *ctx, int fd, char const *site) {
    (void)ctx;
    int want = fd; /* on a mismatch the CAS writes the current value here */
    atomic_compare_exchange_strong(&g_f.tmp_fd, &want, -1);
    return adb_io_posix()->close(NULL, fd, site);
}

static ssize_t
f_write(void *ctx, int fd, void const *buf, size_t sz, char const *site) {
    (void)ctx;
    if (g_f.write_at && fd == atomic_load(&g_f.tmp_fd) &&
        atomic_fetch_add(&g_f.writes, 1) + 1 == g_f.write_at)
        return g_f.err;
    return adb_io_posix()->write(NULL, fd, buf, sz, site);
}

static int
f_fsync(void *ctx, int fd, char const *site) {
    (void)ctx;
    if (g_f.fail_fsync && fd == atomic_load(&g_f.tmp_fd)) return g_f.err;
    return adb_io_posix()->fsync(NULL, fd, site);
}

static int
f_fdatasync(void *ctx, int fd, char const *site) {
    (void)ctx;
    if (g_f.fail_fdatasync) return g_f.err;
    return adb_io_posix()->fdatasync(NULL, fd, site);
}

static int
f_renameat(void *ctx, int od, char const *op, int nd, char const *np, char const *site) {
    (void)ctx;
    if (g_f.fail_rename && !strncmp(op, TMP_PREFIX, strlen(TMP_PREFIX))) return g_f.err;
    return adb_io_posix()->renameat(NULL, od, op, nd, np, site);
}

/* Sets the fault (g_io's calls consult it), for a handle that holds
 * &g_io; arm also makes g_io the process default. */
static void
set_fault(int write_at, int err, bool fsync, bool create, bool rename_, bool fdatasync_) {
    memset(&g_f, 0, sizeof g_f);
    g_f.write_at = write_at;
    g_f.err = err;
    g_f.fail_fsync = fsync;
    g_f.fail_create = create;
    g_f.fail_rename = rename_;
    g_f.fail_fdatasync = fdatasync_;
    atomic_store(&g_f.tmp_fd, -1);
    g_io = *adb_io_posix();
    g_io.openat = f_openat;
    g_io.close = f_close;
    g_io.write = f_write;
    g_io.fsync = f_fsync;
    g_io.fdatasync = f_fdatasync;
    g_io.renameat = f_renameat;
}

static void
arm(int write_at, int err, bool fsync, bool create, bool rename_, bool fdatasync_) {
    set_fault(write_at, err, fsync, create, rename_, fdatasync_);
    adb_io_set(&g_io);
}

/* ---- a snapshot write failing with an errno -------------------------------------- */

static void
test_archive_write_errno(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp();
    assert_non_null(dir);
    struct {
        char const *label;
        int         write_at, err;
        bool        fsync, create, rename_;
        char const *name;
    } const cases[] = {
        {"first write", 1, -ENOSPC, false, false, false, "(ENOSPC)"},
        {"second write", 2, -ENOSPC, false, false, false, "(ENOSPC)"},
        {"first write, quota", 1, -EDQUOT, false, false, false, "(EDQUOT)"},
        {"fsync", 0, -EIO, true, false, false, "(EIO)"},
        {"create", 0, -EACCES, false, true, false, "(EACCES)"},
        {"create, read-only", 0, -EROFS, false, true, false, "(EROFS)"},
        {"rename", 0, -EROFS, false, false, true, "(EROFS)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[4400];
        snprintf(out, sizeof out, "%s/%zu", dir, i);
        assert_int_equal(mkdir(out, 0755), 0);
        acctdb_gen_opts_t o = {
            .accounts = 2000, .slots = 10, .seed = 3, .threads = 1, .out_dir = out};
        acctdb_gen_result_t r;
        char                msg[1024];
        arm(cases[i].write_at, cases[i].err, cases[i].fsync, cases[i].create, cases[i].rename_,
            false);
        int rc = acctdb_snapshot_gen(&o, &r, msg, sizeof msg);
        adb_io_set(NULL);
        if (rc != cases[i].err || !strstr(msg, cases[i].name) || !strstr(msg, TMP_PREFIX))
            fail_msg("%s: rc %d, expected %d; message '%s' should name %s and the temp file",
                     cases[i].label, rc, cases[i].err, msg, cases[i].name);
        if (i == 0) printf("  %s: %s\n", cases[i].label, msg);
    }
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- the fatal state keeps its cause ------------------------------------------------ */

static void
test_fatal_keeps_cause(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp(), db_dir[4400], arch[4400], msg[1024];
    assert_non_null(dir);
    snprintf(db_dir, sizeof db_dir, "%s/db", dir);
    snprintf(arch, sizeof arch, "%s/archives", dir);
    assert_int_equal(mkdir(arch, 0755), 0);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.flush_min_sz = 0;
    acctdb_db_source_t src = {.full_path = adb_test_data(FULL_NAME),
                              .incremental_path = adb_test_data(INC_NAME)};
    acctdb_db_t       *db = NULL;
    /* The database's own table (the handle keeps it): no fault yet. */
    set_fault(0, 0, false, false, false, false);
    int rc = adb_api_db_create_io(&db, db_dir, &src, &cfg, &g_io, msg, sizeof msg);
    if (rc) fail_msg("create: %s", msg);

    /* one rooted bank with one new account, not yet flushed */
    uint64_t         root = acctdb_db_root_slot(db, NULL), s = root + 1;
    uint8_t          data[8] = "acctdb";
    acctdb_account_t a = {.lamports = 1000000, .data_len = sizeof data, .data = data};
    memset(a.pubkey.b, 0x42, 32);
    acctdb_bank_meta_t m = {.unix_timestamp = 1700000000 + (int64_t)s};
    memset(m.blockhash.b, 0x17, 32);
    rc = acctdb_db_bank_begin(db, s, root, m.unix_timestamp);
    if (!rc) rc = acctdb_db_store(db, s, root, &a, 1);
    if (!rc) rc = acctdb_db_freeze(db, s, &m, NULL);
    if (!rc) rc = acctdb_db_root(db, s);
    if (rc) fail_msg("bank %llu: %s", (unsigned long long)s, acctdb_db_errmsg(db));

    /* the flush's fdatasync: ENOSPC */
    set_fault(0, -ENOSPC, false, false, false, true);
    rc = acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH);
    assert_int_equal(rc, ACCTDB_ERR_FATAL);
    char const *e = acctdb_db_errmsg(db);
    if (!strstr(e, "fdatasync of accounts/seg-") || !strstr(e, "No space left on device (ENOSPC)"))
        fail_msg("flush: '%s'", e);
    printf("  flush: %s\n", e);

    /* later writes say why, with the first cause */
    rc = acctdb_db_store(db, s + 1, s, &a, 1);
    assert_int_equal(rc, ACCTDB_ERR_FATAL);
    e = acctdb_db_errmsg(db);
    if (!strstr(e, "fatal state") || !strstr(e, "flush: fdatasync of accounts/seg-") ||
        !strstr(e, "(ENOSPC)") || !strstr(e, "reopen"))
        fail_msg("store after the failure: '%s'", e);
    printf("  store: %s\n", e);
    rc = acctdb_db_snapshot(db, arch, false, NULL);
    assert_int_equal(rc, ACCTDB_ERR_FATAL);
    e = acctdb_db_errmsg(db);
    if (!strstr(e, "fatal state") || !strstr(e, "(ENOSPC)"))
        fail_msg("snapshot after the failure: '%s'", e);
    acctdb_db_close(db);
    set_fault(0, 0, false, false, false, false);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_strerror_names),
    cmocka_unit_test(test_strerror_threads),
    cmocka_unit_test(test_archive_write_errno),
    cmocka_unit_test(test_fatal_keeps_cause),
};
ADB_TEST_GROUP(errmsg, tests);
