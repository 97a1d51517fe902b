/* Graceful shutdown through the CLI: SIGTERM at random moments of
 * `acctdb db workload`, of `acctdb serve` running a workload and writing
 * snapshots, and of `acctdb db snapshot`.  Each run must exit cleanly (0, or
 * 2 with "stopped" for a snapshot that was cut short), print its shutdown
 * line with the durable root, and leave a database that reopens at exactly
 * that root without rebuilding its index (`db info --json`: index_rebuilt
 * false, the index file the close wrote loaded) and verifies, with every archive left in place
 * verifying and no temporary archive behind.  Each delay counts from the moment
 * the tool has installed its handler, and comes from the test seed
 * (ACCTDB_TEST_SEED), printed so that a failure can be replayed. */
#include "../test.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXZ(a, b) ((a) > (b) ? (a) : (b))

static char g_out[1 << 20];

/* From "shutdown: ... root N durable": N; fails the test if absent. */
static uint64_t
shutdown_root(char const *out) {
    char const *l = strstr(out, "shutdown:             ");
    if (!l) fail_msg("no shutdown line in:\n%s", out);
    char const *r = strstr(l, "); root ");
    if (!r) fail_msg("no durable root in: %s", l);
    assert_null(strstr(l, "NOT the newest root"));
    return strtoull(r + 8, NULL, 10);
}

static uint64_t
jnum(cJSON const *j, char const *k) {
    cJSON const *v = cJSON_GetObjectItemCaseSensitive(j, k);
    if (!cJSON_IsNumber(v)) fail_msg("db info: no number %s", k);
    return (uint64_t)v->valuedouble;
}

/* The database reopens at root, without rebuilding its index (the index
 * file the graceful close wrote is loaded), and verifies. */
static void
check_reopen(char const *tool, char const *db, uint64_t root) {
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db info '%s' --json 2>&1", tool, db);
    if (rc) fail_msg("db info: exit %d: %s", rc, g_out);
    cJSON *j = cJSON_Parse(g_out);
    assert_non_null(j);
    assert_int_equal(jnum(j, "root_slot"), root);
    assert_int_equal(jnum(j, "durable_root_slot"), root);
    cJSON const *rb = cJSON_GetObjectItemCaseSensitive(j, "index_rebuilt");
    cJSON const *why = cJSON_GetObjectItemCaseSensitive(j, "index_reason");
    if (!cJSON_IsBool(rb) || !cJSON_IsString(why)) fail_msg("db info: no index_rebuilt/_reason");
    if (cJSON_IsTrue(rb))
        fail_msg("the reopen after the shutdown at root %llu rebuilt the index: %s",
                 (unsigned long long)root, why->valuestring);
    assert_non_null(strstr(why->valuestring, "loaded from index-"));
    cJSON_Delete(j);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s' 2>&1", tool, db);
    if (rc)
        fail_msg("db verify after the shutdown at root %llu: exit %d: %s", (unsigned long long)root,
                 rc, g_out);
}

/* Every file in dir is a finished archive that verifies; returns how many. */
static size_t
check_archives(char const *tool, char const *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    size_t         n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (strncmp(de->d_name, "snapshot-", 9) && strncmp(de->d_name, "incremental-snapshot-", 21))
            fail_msg("%s: a file that is not an archive was left: %s", dir, de->d_name);
        /* An incremental archive verifies on the full one of its base slot
         * ("incremental-snapshot-BASE-SLOT-HASH" on "snapshot-BASE-HASH"). */
        char full[600] = "";
        if (!strncmp(de->d_name, "incremental-", 12)) {
            unsigned long long b = strtoull(de->d_name + 21, NULL, 10);
            if (adb_test_sh(full, sizeof full, "cd '%s' && ls snapshot-%llu-*", dir, b))
                fail_msg("%s: no full archive of slot %llu beside it", de->d_name, b);
            full[strcspn(full, "\n")] = 0;
        }
        int rc =
            adb_test_sh(g_out, sizeof g_out, "cd '%s' && '%s' snapshot verify --quiet %s '%s' 2>&1",
                        dir, tool, full, de->d_name);
        if (rc) {
            /* The checks that did not pass (the output is long). */
            for (char *l = strtok(g_out, "\n"); l; l = strtok(NULL, "\n"))
                if (!strstr(l, ": ok")) print_message("    %s\n", l);
            fail_msg("%s does not verify (exit %d)", de->d_name, rc);
        }
        n++;
    }
    closedir(d);
    return n;
}

/* A database from a generated genesis (4 validators, 64-slot epochs). */
static char *
make_db(char const *tool, char const *base) {
    char *db = malloc(4096);
    assert_non_null(db);
    snprintf(db, 4096, "%s/db", base);
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "'%s' genesis make '%s/genesis.bin' --validators 4 --slots-per-epoch 64 "
                         ">/dev/null 2>&1 && '%s' db create --quiet '%s' --genesis "
                         "'%s/genesis.bin' >/dev/null 2>&1",
                         tool, base, tool, db, base);
    assert_int_equal(rc, 0);
    return db;
}

/* A delay uniform in [lo, hi) seconds. */
static double
draw(adb_test_rng_t *r, double lo, double hi) {
    return lo + (hi - lo) * (double)adb_test_rng_below(r, 1000000) / 1e6;
}

static void
t_workload_sigterm(void **state) {
    (void)state;
    char const    *tool = adb_test_tool_or_skip();
    char          *base = adb_test_mkdtemp(), out[4096], args[4096];
    char          *db = make_db(tool, base);
    adb_test_rng_t rng = {adb_test_seed() ^ 0x51675e41};
    size_t const   runs = MAXZ(adb_test_scaled(8), (size_t)3);
    uint64_t       prev = 0;
    snprintf(out, sizeof out, "%s/out", base);
    /* Random delays; if none of them was long enough for a root (a slow
     * sanitizer build, a loaded machine), more runs at 2, 4, 8, 16 s. */
    for (size_t i = 0; i < runs || (prev == 0 && i < runs + 4); i++) {
        double delay = i < runs ? draw(&rng, 0.02, 2.0) : 2.0 * (double)(1u << (i - runs));
        snprintf(args, sizeof args,
                 "db workload '%s' --slots 10000000 --forks 3 --stores-min 100 --stores-max 400 "
                 "--seed %zu",
                 db, i);
        int   st;
        char *o = adb_test_sigterm_run(tool, args, out, delay, &st);
        if (st != 0) fail_msg("run %zu (SIGTERM after %.3f s): exit %d:\n%s", i, delay, st, o);
        assert_non_null(strstr(o, "stopped:              by SIGTERM"));
        uint64_t root = shutdown_root(o);
        print_message("  workload run %zu: SIGTERM after %.3f s -> root %llu\n", i, delay,
                      (unsigned long long)root);
        assert_true(root >= prev);
        prev = root;
        free(o);
        check_reopen(tool, db, root);
    }
    assert_true(prev > 0);
    free(db);
    adb_test_rmtree(base);
    free(base);
}

static void
t_serve_sigterm(void **state) {
    (void)state;
    char const    *tool = adb_test_tool_or_skip();
    char          *base = adb_test_mkdtemp(), out[4096], args[8192], adir[4096];
    char          *db = make_db(tool, base);
    adb_test_rng_t rng = {adb_test_seed() ^ 0x5e77e};
    size_t const   runs = MAXZ(adb_test_scaled(5), (size_t)2);
    snprintf(out, sizeof out, "%s/out", base);
    snprintf(adir, sizeof adir, "%s/archives", base);
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir '%s'", adir), 0);
    size_t archives = 0;
    for (size_t i = 0; i < runs; i++) {
        double delay = draw(&rng, 0.3, 3.0);
        snprintf(args, sizeof args,
                 "serve '%s' --rpc-addr 127.0.0.1:0 --snapshots '%s' --workload-slots 1000000 "
                 "--slot-ms 2 --stores-min 100 --stores-max 300 --root-lag 4 "
                 "--snapshot-every-slots 40 --incremental-every-slots 10 --seed %zu",
                 db, adir, i);
        int   st;
        char *o = adb_test_sigterm_run(tool, args, out, delay, &st);
        if (st != 0)
            fail_msg("serve run %zu (SIGTERM after %.3f s): exit %d:\n%s", i, delay, st, o);
        uint64_t root = shutdown_root(o);
        print_message("  serve run %zu: SIGTERM after %.3f s -> root %llu\n", i, delay,
                      (unsigned long long)root);
        free(o);
        check_reopen(tool, db, root);
        archives = check_archives(tool, adir);
    }
    print_message("  %zu archives kept, each verifies\n", archives);
    free(db);
    adb_test_rmtree(base);
    free(base);
}

static void
t_snapshot_sigterm(void **state) {
    (void)state;
    char const    *tool = adb_test_tool_or_skip();
    char          *base = adb_test_mkdtemp(), out[4096], args[8192], adir[4096];
    char          *db = make_db(tool, base);
    adb_test_rng_t rng = {adb_test_seed() ^ 0x5a95};
    snprintf(out, sizeof out, "%s/out", base);
    snprintf(adir, sizeof adir, "%s/archives", base);
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir '%s'", adir), 0);
    /* Enough accounts that an archive takes a while to write. */
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "'%s' db workload --quiet '%s' --slots %zu --stores-min 500 "
                         "--stores-max 1000 --new-frac 0.5 2>&1",
                         tool, db, MAXZ(adb_test_scaled(400), (size_t)40));
    if (rc) fail_msg("workload: %s", g_out);
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db info '%s' --json", tool, db), 0);
    cJSON *j = cJSON_Parse(g_out);
    assert_non_null(j);
    uint64_t const root = jnum(j, "root_slot");
    cJSON_Delete(j);
    /* The delays fall within the time an uninterrupted snapshot takes. */
    snprintf(args, sizeof args, "db snapshot '%s' --out '%s'", db, adir);
    double t0 = adb_test_now_s();
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' %s 2>&1", tool, args);
    double const full = adb_test_now_s() - t0;
    if (rc) fail_msg("db snapshot: %s", g_out);
    size_t const runs = MAXZ(adb_test_scaled(6), (size_t)3);
    size_t       stopped = 0, done = 0;
    for (size_t i = 0; i < runs; i++) {
        double delay = draw(&rng, 0.0, 1.2 * full);
        int    st;
        char  *o = adb_test_sigterm_run(tool, args, out, delay, &st);
        if (st == 2 && strstr(o, "stopped: the database was interrupted"))
            stopped++;
        else if (st == 0)
            done++;
        else
            fail_msg("snapshot run %zu (SIGTERM after %.3f s): exit %d:\n%s", i, delay, st, o);
        assert_int_equal(shutdown_root(o), root);
        free(o);
        check_reopen(tool, db, root);
        check_archives(tool, adir);
    }
    print_message("  db snapshot (%.2f s uninterrupted): %zu stopped by SIGTERM, %zu finished "
                  "first\n",
                  full, stopped, done);
    free(db);
    adb_test_rmtree(base);
    free(base);
}

/* SIGTERM during `acctdb db create` of a generated archive: a stopped
 * creation exits 2 with its "stopped:" line and leaves nothing (the
 * directory removed when it made it, empty again when it was there
 * empty), so the same create then succeeds; one that finished first
 * verifies.  Delays are drawn within the time an uninterrupted create
 * took on this machine. */
static void
t_create_sigterm(void **state) {
    (void)state;
    char const    *tool = adb_test_tool_or_skip();
    char          *base = adb_test_mkdtemp(), out[4096], args[16384], arch[4096], dir[4096];
    adb_test_rng_t rng = {adb_test_seed() ^ 0xc4ea7e};
    snprintf(out, sizeof out, "%s/out", base);
    snprintf(arch, sizeof arch, "%s/archives", base);
    snprintf(dir, sizeof dir, "%s/db", base);
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "mkdir '%s' && '%s' snapshot gen --accounts %zu --seed 5 --out '%s' 2>&1",
                         arch, tool, MAXZ(adb_test_scaled(300000), (size_t)30000), arch);
    if (rc) fail_msg("snapshot gen: %s", g_out);
    snprintf(args, sizeof args, "db create '%s' --from-dir '%s' --quiet", dir, arch);
    double t0 = adb_test_now_s();
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' %s 2>&1", tool, args);
    double const full = adb_test_now_s() - t0;
    if (rc) fail_msg("db create: %s", g_out);
    assert_int_equal(adb_test_sh(NULL, 0, "rm -rf '%s'", dir), 0);
    size_t const runs = MAXZ(adb_test_scaled(6), (size_t)3);
    size_t       stopped = 0, done = 0;
    for (size_t i = 0; i < runs; i++) {
        bool const pre = i % 2; /* DIR there and empty, or absent */
        if (pre) assert_int_equal(mkdir(dir, 0755), 0);
        double delay = draw(&rng, 0.0, 0.7 * full);
        int    st;
        char  *o = adb_test_sigterm_run(tool, args, out, delay, &st);
        if (st == 2 && strstr(o, "stopped:              by SIGTERM")) {
            stopped++;
            struct stat sb;
            if (pre) {
                DIR *d = opendir(dir);
                assert_non_null(d);
                struct dirent *e;
                size_t         n = 0;
                while ((e = readdir(d)))
                    n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
                closedir(d);
                if (n) fail_msg("run %zu: %s holds %zu entries after the stop:\n%s", i, dir, n, o);
            } else if (stat(dir, &sb) == 0) {
                fail_msg("run %zu: %s is still there after the stop:\n%s", i, dir, o);
            }
            print_message("  create run %zu: SIGTERM after %.3f s -> stopped\n", i, delay);
        } else if (st == 0) {
            done++;
            rc = adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s' 2>&1", tool, dir);
            if (rc) fail_msg("run %zu: the finished database does not verify: %s", i, g_out);
            print_message("  create run %zu: SIGTERM after %.3f s -> finished first\n", i, delay);
        } else {
            fail_msg("create run %zu (SIGTERM after %.3f s): exit %d:\n%s", i, delay, st, o);
        }
        free(o);
        /* Nothing left in the way: the same create succeeds. */
        rc = adb_test_sh(g_out, sizeof g_out, "'%s' %s 2>&1", tool, args);
        if (rc && st == 2) fail_msg("run %zu: create after the stop: %s", i, g_out);
        assert_int_equal(adb_test_sh(NULL, 0, "rm -rf '%s'", dir), 0);
    }
    print_message(
        "  db create (%.2f s uninterrupted): %zu stopped by SIGTERM, %zu finished first\n", full,
        stopped, done);
    assert_true(stopped > 0);
    adb_test_rmtree(base);
    free(base);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_workload_sigterm),
    cmocka_unit_test(t_serve_sigterm),
    cmocka_unit_test(t_snapshot_sigterm),
    cmocka_unit_test(t_create_sigterm),
};
ADB_TEST_GROUP(cli_signal, tests);
