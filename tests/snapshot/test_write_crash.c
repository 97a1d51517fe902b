/* Temporary archives never outlive the run that made them
 * (src/snapshot/write.c).
 *
 *   killed:  a child writing a large generated archive is SIGKILLed once
 *            its tmp-snapshot-archive-* file has grown; the file is left;
 *            the next write into the directory removes it, and only the
 *            new archive remains (beside the generator's genesis.bin).
 *   locked:  tmp-snapshot-archive-* files whose flock another process (or
 *            another open file in this one) holds are live writers' and
 *            stay; an unlocked one goes; directories (Agave's staging),
 *            symlinks and other names are never touched.  Once the holder
 *            is gone, the next write removes them.
 *   failing: a write that fails (the emit callback, the Nth write, the
 *            file's fsync, the rename, the directory's fsync after the
 *            rename, creating the temp file, a read-only directory when not
 *            root) returns the error and leaves neither a temp file nor a
 *            file under a snapshot name; an archive that was already there
 *            under the same name stays. */
#include "../test.h"

#include "db/db.h"
#include "sim/sim.h"
#include "snapshot/load.h"
#include "snapshot/write.h"
#include "util/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TMP_PREFIX "tmp-snapshot-archive-"

/* ---- helpers -------------------------------------------------------------- */

/* The names in dir (sorted into names, count returned), but for the
 * generator's genesis.bin: the cluster file it writes beside its archives. */
static size_t
list_dir(char const *dir, char names[][256], size_t max) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t         n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, "genesis.bin"))
            continue;
        assert_true(n < max);
        snprintf(names[n++], 256, "%s", de->d_name);
    }
    closedir(d);
    qsort(names, n, 256, (int (*)(void const *, void const *))strcmp);
    return n;
}

static bool
has_prefix(char const *s, char const *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

/* A file named like a snapshot archive (full or incremental). */
static bool
is_snapshot_name(char const *s) {
    return has_prefix(s, "snapshot-") || has_prefix(s, "incremental-snapshot-");
}

static bool
exists(char const *dir, char const *name) {
    char        p[4400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

static void
make_file(char const *dir, char const *name, size_t sz) {
    char p[8400];
    assert_true(snprintf(p, sizeof p, "%s/%s", dir, name) < (int)sizeof p);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (size_t i = 0; i < sz; i++)
        fputc('x', f);
    assert_int_equal(fclose(f), 0);
}

static void
sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A small generated archive into dir; returns its base name in name. */
static void
gen_small(char const *dir, uint64_t seed, char *name, size_t max) {
    adb_gen_opts_t   go = {.accounts = 300, .slots = 10, .seed = seed, .threads = 1};
    adb_gen_result_t gr;
    adb_err_t        e = {0};
    go.out_dir = dir;
    int rc = adb_gen_run(&go, &gr, &e);
    if (rc) fail_msg("gen into %s: %s", dir, e.msg);
    char const *b = strrchr(gr.full_path, '/');
    assert_true(snprintf(name, max, "%s", b ? b + 1 : gr.full_path) < (int)max);
}

/* A child of a test: killed by teardown whatever the test's asserts did,
 * and by the kernel if this process dies. */
static pid_t g_child = -1;

static void
child_setup(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static int
kill_child(void **state) {
    (void)state;
    if (g_child > 0) {
        kill(g_child, SIGKILL);
        waitpid(g_child, NULL, 0);
    }
    g_child = -1;
    return 0;
}

/* ---- killed mid-write ------------------------------------------------------- */

static void
test_killed_writer(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp();
    assert_non_null(dir);
    /* Large enough that its writing phase (about a second here) outlasts
     * the polling below by far; the child is killed long before the end. */
    uint64_t n = 1000000;
    pid_t    pid = g_child = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_setup();
        adb_gen_opts_t   go = {.accounts = n, .seed = 11, .threads = 2, .out_dir = dir};
        adb_gen_result_t gr;
        adb_err_t        e = {0};
        _exit(adb_gen_run(&go, &gr, &e) ? 1 : 0);
    }
    /* Wait for the temp file to exist and grow past its first frame. */
    char     names[16][256], tmp[256] = "";
    off_t    first = -1, sz = 0;
    unsigned polls = 0;
    for (;; polls++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            g_child = -1; /* reaped */
            fail_msg("the writer ended (status %d) before it could be killed mid-write", st);
        }
        if (polls > 120000) /* about 2 minutes; teardown kills the child */
            fail_msg("no growing %s* file appeared", TMP_PREFIX);
        size_t cnt = list_dir(dir, names, 16);
        for (size_t i = 0; i < cnt; i++) {
            if (!has_prefix(names[i], TMP_PREFIX)) continue;
            char        p[4400];
            struct stat s;
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            if (stat(p, &s)) continue;
            snprintf(tmp, sizeof tmp, "%s", names[i]);
            sz = s.st_size;
            if (first < 0 && sz > 0) first = sz;
        }
        if (first > 0 && sz > first && sz >= (1 << 20)) break;
        sleep_ms(1);
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    g_child = -1;
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* Left behind: the temp file alone, nothing under a snapshot name. */
    size_t cnt = list_dir(dir, names, 16);
    assert_int_equal(cnt, 1);
    assert_string_equal(names[0], tmp);
    printf("  writer killed with %s at %lld bytes\n", tmp, (long long)sz);

    /* The next write removes it; only the new archive remains. */
    char name[256];
    gen_small(dir, 5, name, sizeof name);
    cnt = list_dir(dir, names, 16);
    assert_int_equal(cnt, 1);
    assert_string_equal(names[0], name);
    assert_true(is_snapshot_name(name));
    assert_false(exists(dir, tmp));

    /* and it is a good archive */
    char           *sdir = adb_test_mkdtemp(), store[4400], path[4400];
    adb_load_opts_t lo;
    adb_snap_t     *s = NULL;
    assert_non_null(sdir);
    snprintf(store, sizeof store, "%s/store", sdir);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    adb_load_opts_default(&lo);
    lo.store_dir = store;
    assert_int_equal(adb_snap_load(&s, path, NULL, &lo), 0);
    adb_snap_close(s);
    adb_test_rmtree(sdir);
    free(sdir);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- locked by a live writer ------------------------------------------------- */

static void
test_locked_stays(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp();
    assert_non_null(dir);
    char p[4400];
    make_file(dir, TMP_PREFIX "0000000000000001", 100); /* locked by the child */
    make_file(dir, TMP_PREFIX "0000000000000002", 100); /* locked in this process */
    make_file(dir, TMP_PREFIX "0000000000000003", 100); /* a dead writer's */
    make_file(dir, TMP_PREFIX "0000000000000004", 0);   /* one that died at once */
    make_file(dir, "notes.txt", 10);
    snprintf(p, sizeof p, "%s/" TMP_PREFIX "10-agave", dir); /* Agave's staging dir */
    assert_int_equal(mkdir(p, 0755), 0);
    make_file(p, "snapshot-10-x.tar.zst", 10);
    snprintf(p, sizeof p, "%s/" TMP_PREFIX "link", dir);
    assert_int_equal(symlink("/nonexistent", p), 0);

    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = g_child = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_setup();
        snprintf(p, sizeof p, "%s/" TMP_PREFIX "0000000000000001", dir);
        int fd = open(p, O_RDWR);
        if (fd < 0 || flock(fd, LOCK_EX)) _exit(1);
        if (write(ready[1], "k", 1) != 1) _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    snprintf(p, sizeof p, "%s/" TMP_PREFIX "0000000000000002", dir);
    int mine = open(p, O_RDONLY);
    assert_true(mine >= 0);
    assert_int_equal(flock(mine, LOCK_EX), 0);

    char name[256];
    gen_small(dir, 6, name, sizeof name);
    assert_true(exists(dir, TMP_PREFIX "0000000000000001"));
    assert_true(exists(dir, TMP_PREFIX "0000000000000002"));
    assert_false(exists(dir, TMP_PREFIX "0000000000000003"));
    assert_false(exists(dir, TMP_PREFIX "0000000000000004"));
    assert_true(exists(dir, TMP_PREFIX "10-agave/snapshot-10-x.tar.zst"));
    assert_true(exists(dir, TMP_PREFIX "link"));
    assert_true(exists(dir, "notes.txt"));
    assert_true(exists(dir, name));

    /* The holders go: the next write removes their files. */
    close(mine);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    g_child = -1;
    char name2[256];
    gen_small(dir, 7, name2, sizeof name2);
    char   names[16][256];
    size_t cnt = list_dir(dir, names, 16);
    assert_false(exists(dir, TMP_PREFIX "0000000000000001"));
    assert_false(exists(dir, TMP_PREFIX "0000000000000002"));
    assert_true(exists(dir, TMP_PREFIX "10-agave"));
    assert_true(exists(dir, TMP_PREFIX "link"));
    assert_true(exists(dir, "notes.txt"));
    assert_true(exists(dir, name) && exists(dir, name2));
    assert_int_equal(cnt, 5);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- failing writes ----------------------------------------------------------- */

/* A loaded archive to write again: its manifest, status cache and
 * storages in memory. */
typedef struct src {
    adb_snap_t         *s;
    adb_snap_storage_t *st;
    uint8_t           **bytes;
    uint32_t            n;
    int                 fail_at; /* emit: storage index that fails (-1: none) */
} src_t;

static int
emit_src(void *ctx, size_t i, adb_snap_out_t *out) {
    src_t *s = ctx;
    if ((int)i == s->fail_at) return ACCTDB_ERR_STOPPED;
    return adb_snap_out_data(out, s->bytes[i], s->st[i].size);
}

static void
src_open(src_t *s, char const *dir) {
    char gdir[4400], store[4400], name[256], path[4400];
    memset(s, 0, sizeof *s);
    s->fail_at = -1;
    snprintf(gdir, sizeof gdir, "%s/gen", dir);
    snprintf(store, sizeof store, "%s/store", dir);
    assert_int_equal(mkdir(gdir, 0755), 0);
    gen_small(gdir, 8, name, sizeof name);
    assert_true(snprintf(path, sizeof path, "%s/%s", gdir, name) < (int)sizeof path);
    adb_load_opts_t lo;
    adb_load_opts_default(&lo);
    lo.store_dir = store;
    assert_int_equal(adb_snap_load(&s->s, path, NULL, &lo), 0);
    s->n = adb_db_storage_cnt(s->s->db);
    assert_true(s->n >= 2);
    s->st = calloc(s->n, sizeof *s->st);
    s->bytes = calloc(s->n, sizeof *s->bytes);
    for (uint32_t i = 0; i < s->n; i++) {
        adb_db_storage_t d;
        assert_int_equal(adb_db_storage_get(s->s->db, i, &d), 0);
        s->bytes[i] = malloc(d.size);
        assert_int_equal(adb_db_storage_read(s->s->db, i, 0, s->bytes[i], d.size), 0);
        s->st[i] = (adb_snap_storage_t){d.slot, i + 1, d.size};
    }
}

static void
src_close(src_t *s) {
    for (uint32_t i = 0; i < s->n; i++)
        free(s->bytes[i]);
    free(s->bytes);
    free(s->st);
    adb_snap_close(s->s);
}

static adb_io_t const *g_wio; /* the writer's table (NULL: the default; arm sets it) */

/* Writes s into out; returns the writer's result (message in msg). */
static int
src_write(src_t *s, char const *out, char *msg, size_t max) {
    adb_manifest_t m;
    adb_err_t      e = {0};
    assert_int_equal(
        adb_manifest_decode(s->s->full.manifest_raw, s->s->full.manifest_raw_sz, 0, &m, &e), 0);
    /* a frame per entry: several writes, so a middle one can fail */
    adb_snap_write_opts_t wo = {.workers = 1, .frame_sz = 1, .io = g_wio};
    char                  path[4096];
    int rc = adb_snap_write(out, &m, s->s->full.status_cache_raw, s->s->full.status_cache_raw_sz,
                            s->st, s->n, emit_src, s, &wo, path, NULL, &e);
    snprintf(msg, max, "%s", e.msg);
    adb_manifest_fini(&m);
    return rc;
}

/* The I/O table with one failing call: the nth write, fsync, rename or
 * file creation (counted from 1 since arming; 0: never; every call is
 * counted), given to the writer in its options (adb_snap_write_opts_t.io):
 * the rest of the process keeps POSIX. */
typedef struct fault {
    atomic_int writes, fsyncs, renames, opens;
    int        write_at, fsync_at, rename_at, open_at;
    int        err;
} fault_t;

static fault_t g_fault;

static void
disarm(void) {
    g_wio = NULL;
}

static ssize_t
f_write(void *ctx, int fd, void const *buf, size_t sz, char const *site) {
    (void)ctx;
    if (atomic_fetch_add(&g_fault.writes, 1) + 1 == g_fault.write_at) return g_fault.err;
    return adb_io_posix()->write(NULL, fd, buf, sz, site);
}

static int
f_fsync(void *ctx, int fd, char const *site) {
    (void)ctx;
    if (atomic_fetch_add(&g_fault.fsyncs, 1) + 1 == g_fault.fsync_at) return g_fault.err;
    return adb_io_posix()->fsync(NULL, fd, site);
}

static int
f_renameat(void *ctx, int od, char const *op, int nd, char const *np, char const *site) {
    (void)ctx;
    if (atomic_fetch_add(&g_fault.renames, 1) + 1 == g_fault.rename_at) return g_fault.err;
    return adb_io_posix()->renameat(NULL, od, op, nd, np, site);
}

static int
f_openat(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site) {
    (void)ctx;
    /* Creations only: the directory is opened through the table too. */
    if ((flags & O_CREAT) && atomic_fetch_add(&g_fault.opens, 1) + 1 == g_fault.open_at)
        return g_fault.err;
    return adb_io_posix()->openat(NULL, dirfd, path, flags, mode, site);
}

static adb_io_t g_faulty;

static void
arm(fault_t f) {
    g_fault = f;
    g_faulty = *adb_io_posix();
    g_faulty.write = f_write;
    g_faulty.fsync = f_fsync;
    g_faulty.renameat = f_renameat;
    g_faulty.openat = f_openat;
    g_wio = &g_faulty;
}

/* dir holds exactly `keep` (NULL: nothing): no temp file, no other
 * snapshot name. */
static void
assert_only(char const *dir, char const *keep, char const *label) {
    char   names[16][256];
    size_t cnt = list_dir(dir, names, 16);
    for (size_t i = 0; i < cnt; i++)
        if (!keep || strcmp(names[i], keep)) fail_msg("%s: '%s' left in %s", label, names[i], dir);
    if (keep && cnt != 1) fail_msg("%s: %s is gone", label, keep);
}

static void
test_failing_write(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp(), out[4400], msg[1024];
    assert_non_null(dir);
    src_t s;
    src_open(&s, dir);
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(mkdir(out, 0755), 0);

    /* the emit callback fails at the second storage */
    s.fail_at = 1;
    assert_int_equal(src_write(&s, out, msg, sizeof msg), ACCTDB_ERR_STOPPED);
    assert_only(out, NULL, "emit error");
    s.fail_at = -1;

    /* How many writes a whole archive takes (counted into a scratch dir). */
    char scratch[4400];
    snprintf(scratch, sizeof scratch, "%s/scratch", dir);
    assert_int_equal(mkdir(scratch, 0755), 0);
    arm((fault_t){0});
    assert_int_equal(src_write(&s, scratch, msg, sizeof msg), 0);
    disarm();
    int writes = atomic_load(&g_fault.writes);
    assert_true(writes >= 2);

    /* one failing file operation at a time */
    struct {
        char const *label;
        fault_t     f;
    } const cases[] = {
        {"first write (ENOSPC)", {.write_at = 1, .err = -ENOSPC}},
        {"a middle write (EIO)", {.write_at = writes / 2 + 1, .err = -EIO}},
        {"last write (EDQUOT)", {.write_at = writes, .err = -EDQUOT}},
        {"fsync of the file (EIO)", {.fsync_at = 1, .err = -EIO}},
        {"rename (ENOSPC)", {.rename_at = 1, .err = -ENOSPC}},
        {"fsync of the directory after the rename (EIO)", {.fsync_at = 2, .err = -EIO}},
        {"creating the temp file (EROFS)", {.open_at = 1, .err = -EROFS}},
        {"creating the temp file (EACCES)", {.open_at = 1, .err = -EACCES}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arm(cases[i].f);
        int rc = src_write(&s, out, msg, sizeof msg);
        disarm();
        if (rc != cases[i].f.err)
            fail_msg("%s: rc %d (%s), expected %d: %s", cases[i].label, rc, acctdb_strerror(rc),
                     cases[i].f.err, msg);
        assert_only(out, NULL, cases[i].label);
    }

    /* a read-only directory (root writes anyway: covered by EROFS above) */
    if (geteuid() != 0) {
        assert_int_equal(chmod(out, 0555), 0);
        int rc = src_write(&s, out, msg, sizeof msg);
        assert_int_equal(chmod(out, 0755), 0);
        assert_int_equal(rc, -EACCES);
        assert_only(out, NULL, "read-only directory");
    }

    /* A good write, then the same archive again with the directory fsync
     * failing: the archive that was there stays. */
    assert_int_equal(src_write(&s, out, msg, sizeof msg), 0);
    char   names[16][256];
    size_t cnt = list_dir(out, names, 16);
    assert_int_equal(cnt, 1);
    assert_true(is_snapshot_name(names[0]));
    char name[256];
    snprintf(name, sizeof name, "%s", names[0]);
    arm((fault_t){.fsync_at = 2, .err = -EIO});
    int rc = src_write(&s, out, msg, sizeof msg);
    disarm();
    assert_int_equal(rc, -EIO);
    assert_only(out, name, "directory fsync over an existing archive");
    src_close(&s);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test_teardown(test_killed_writer, kill_child),
    cmocka_unit_test_teardown(test_locked_stays, kill_child),
    cmocka_unit_test(test_failing_write),
};
ADB_TEST_GROUP(snapshot_write_crash, tests);
