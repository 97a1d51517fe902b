/* Power loss under the simulated file system (tests/util/simfs.h): the
 * shared crash workload (crash_wl.h: stores on forks, roots, flush, clean,
 * shrink, purge, full and incremental snapshots) runs on a copy of a small
 * database with simfs as the I/O table, and the power goes at its k-th
 * mutating op (k uniform over a dry run's count).  simfs then drops what
 * was not durable: unsynced writes kept or undone per 4 KiB sector (torn),
 * files maybe cut back to their synced size, name ops since the last
 * directory fsync each undone with probability 1/2.  The database is
 * reopened with POSIX and judged by crash_wl.h's oracle (root >= the last
 * durable root reported, the root hook's lattice checksum and
 * capitalization, verify, check, every key's value, every archive).
 *
 *   powerloss   adb_test_scaled(1000) crashes over 6 workload seeds; prints
 *               crashes=N corruptions=M and where the crashes landed (call
 *               site and op).  A failure prints its replay line:
 *               ACCTDB_POWERLOSS_REPLAY=wseed:k:cseed runs that one crash.
 *
 * Single-threaded (background off, services stepped), so a (wseed, k,
 * cseed) triple replays the same crash (the zstd compressor's worker may
 * split an archive's writes differently from run to run, which only moves
 * which op k names inside a snapshot). */
#include "../test.h"
#include "../util/simfs.h"
#include "crash_wl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SEEDS 6  /* workload seeds, each with its dry run */
#define BANKS 20 /* banks per run */

typedef struct site_cnt {
    char     site[112];
    uint64_t n;
} site_cnt_t;

static site_cnt_t g_hist[256];
static size_t     g_hist_cnt;

static void
hist_add(char const *site) {
    for (size_t i = 0; i < g_hist_cnt; i++)
        if (!strcmp(g_hist[i].site, site)) {
            g_hist[i].n++;
            return;
        }
    if (g_hist_cnt == 256) return;
    snprintf(g_hist[g_hist_cnt].site, sizeof g_hist[0].site, "%s", site);
    g_hist[g_hist_cnt++].n = 1;
}

static int
hist_cmp(void const *a, void const *b) {
    site_cnt_t const *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->site, y->site);
}

static bool
is_frozen(void *ctx) {
    return simfs_frozen(ctx);
}

typedef struct cycle {
    uint64_t wseed, k, cseed;
    /* out */
    uint64_t             ops;       /* mutating ops the run made */
    char                 site[112]; /* "db_flush.c:235 fdatasync" or "(none)" */
    simfs_crash_report_t rep;
    uint64_t             durable, calls, errors, fulls, incs, flushes, shrinks, cleans;
    char                 first_err[320];
} cycle_t;

/* One crash: a copy of the base, the workload under simfs until op k (0:
 * none, the power goes after close), the crash, the oracle.  Returns the
 * problems found. */
static int
run_cycle(char const *tmp, char const *base_dir, cwl_root_t const *base,
          acctdb_db_config_t const *cfg, cycle_t *c) {
    char cyc[4096], dir[4200], arch[4400], graves[4200], tag[160];
    snprintf(cyc, sizeof cyc, "%s/cycle", tmp);
    adb_test_rmtree(cyc);
    assert_int_equal(mkdir(cyc, 0755), 0);
    snprintf(dir, sizeof dir, "%s/db", cyc);
    cwl_copy_tree(base_dir, dir);
    /* Archives inside the database directory for odd workload seeds, beside
     * it for even ones. */
    snprintf(arch, sizeof arch, "%s/%s", c->wseed & 1 ? dir : cyc, "snapshots");
    assert_int_equal(mkdir(arch, 0755), 0);
    snprintf(graves, sizeof graves, "%s/graves", cyc);
    snprintf(tag, sizeof tag, "powerloss wseed=%llu k=%llu cseed=%llu",
             (unsigned long long)c->wseed, (unsigned long long)c->k, (unsigned long long)c->cseed);

    simfs_t *sf = simfs_new(graves);
    assert_non_null(sf);
    simfs_trigger_op(sf, c->k);
    static cwl_t w;
    cwl_init(&w, c->wseed, BANKS, arch, base);
    w.stop = is_frozen;
    w.stop_ctx = sf;
    int problems = 0;
    /* The handle takes the default table at open (and, before per-handle
     * tables, every op reads it): set it for the whole life of the handle. */
    adb_io_set(simfs_io(sf));
    acctdb_db_t *db = NULL;
    char         msg[1024] = "";
    int          rc = acctdb_db_open(&db, dir, cfg, msg, sizeof msg);
    if (!rc) {
        cwl_run(&w, db);
        acctdb_db_close(db); /* frozen: every op fails, nothing changes */
    } else if (!simfs_frozen(sf)) {
        print_message("%s: open failed before any crash: %s (%s)\n", tag, msg, acctdb_strerror(rc));
        problems++;
    }
    adb_io_set(NULL);
    c->ops = simfs_mut_ops(sf);
    c->durable = w.durable;
    c->calls = w.calls;
    c->errors = w.errors;
    c->fulls = w.fulls, c->incs = w.incrementals, c->flushes = w.flushes;
    c->shrinks = w.shrinks, c->cleans = w.cleans;
    snprintf(c->first_err, sizeof c->first_err, "%s: %s", w.first_call, w.first_msg);
    if (simfs_frozen(sf))
        snprintf(c->site, sizeof c->site, "%s %s", simfs_crash_site(sf), simfs_crash_op(sf));
    else
        snprintf(c->site, sizeof c->site, "(after close)");
    simfs_crash_opts_t o = {.tear = c->cseed % 4 != 0, /* 1 in 4: whole writes lost or kept */
                            .truncate = (c->cseed >> 2) % 2 == 0,
                            .dir_undo_p = 0.5};
    rc = simfs_crash(sf, c->cseed, &o, &c->rep);
    if (rc) print_message("%s: the crash itself failed: %s\n", tag, strerror(-rc));
    assert_int_equal(rc, 0);
    simfs_free(sf);
    if (w.unclean) {
        print_message("%s: a call returned an unclean code: %s\n", tag, w.unclean_msg);
        problems++;
    }
    problems += cwl_check(&w, dir, cfg, tag);
    if (problems)
        print_message(
            "%s: %d problem(s); crash at %s after %llu mutating ops, durable root "
            "reported %llu; undone: %llu of %llu name ops, %llu of %llu sectors, %llu "
            "files cut\n"
            "  replay: ACCTDB_TEST_FILTER=powerloss ACCTDB_POWERLOSS_REPLAY=%llu:%llu:%llu\n",
            tag, problems, c->site, (unsigned long long)c->ops, (unsigned long long)c->durable,
            (unsigned long long)c->rep.dir_undone, (unsigned long long)c->rep.dir_ops,
            (unsigned long long)c->rep.sectors_restored, (unsigned long long)c->rep.sectors,
            (unsigned long long)c->rep.files_truncated, (unsigned long long)c->wseed,
            (unsigned long long)c->k, (unsigned long long)c->cseed);
    return problems;
}

static double
now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
test_powerloss(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), base_dir[4096];
    assert_non_null(tmp);
    snprintf(base_dir, sizeof base_dir, "%s/base", tmp);
    acctdb_db_config_t cfg;
    cwl_config(&cfg, true);
    cwl_root_t base;
    cwl_base_create(base_dir, &cfg, &base);
    double t0 = now_s();

    char const *replay = getenv("ACCTDB_POWERLOSS_REPLAY");
    if (replay && *replay) {
        cycle_t            c = {0};
        unsigned long long a, b, d;
        assert_int_equal(sscanf(replay, "%llu:%llu:%llu", &a, &b, &d), 3);
        c.wseed = a, c.k = b, c.cseed = d;
        int p = run_cycle(tmp, base_dir, &base, &cfg, &c);
        print_message("replay wseed=%llu k=%llu cseed=%llu: crash at %s after %llu ops: %d "
                      "problem(s)\n",
                      a, b, d, c.site, (unsigned long long)c.ops, p);
        assert_int_equal(p, 0);
        adb_test_rmtree(tmp);
        free(tmp);
        return;
    }

    /* Dry runs: how many mutating ops each workload makes (each is also a
     * power loss right after a clean close). */
    acctdb_rng_t r = acctdb_rng_seed(adb_test_seed() ^ 0x9011);
    uint64_t     wseed[SEEDS], nops[SEEDS];
    int          corruptions = 0;
    for (int i = 0; i < SEEDS; i++) {
        cycle_t c = {.wseed = acctdb_rng_next(&r) >> 1 << 1 | (uint64_t)(i & 1),
                     .k = 0,
                     .cseed = acctdb_rng_next(&r)};
        corruptions += run_cycle(tmp, base_dir, &base, &cfg, &c) > 0;
        wseed[i] = c.wseed;
        nops[i] = c.ops;
        print_message("workload %d (seed %llu): %llu mutating ops, %llu calls (snapshots: %llu "
                      "full, %llu incremental; passes with work: %llu flush, %llu shrink, %llu "
                      "clean), durable root %llu\n",
                      i, (unsigned long long)c.wseed, (unsigned long long)c.ops,
                      (unsigned long long)c.calls, (unsigned long long)c.fulls,
                      (unsigned long long)c.incs, (unsigned long long)c.flushes,
                      (unsigned long long)c.shrinks, (unsigned long long)c.cleans,
                      (unsigned long long)c.durable);
        if (c.errors)
            print_message("  %llu calls failed; first: %s\n", (unsigned long long)c.errors,
                          c.first_err);
        assert_int_equal(c.errors, 0);
        assert_true(c.ops > 0);
    }

    size_t   crashes = adb_test_scaled(1000);
    uint64_t restored = 0, sectors = 0, undone = 0, dirops = 0, cut = 0;
    for (size_t n = 0; n < crashes; n++) {
        int     i = (int)(n % SEEDS);
        cycle_t c = {.wseed = wseed[i],
                     .k = 1 + acctdb_rng_below(&r, nops[i]),
                     .cseed = acctdb_rng_next(&r)};
        corruptions += run_cycle(tmp, base_dir, &base, &cfg, &c) > 0;
        hist_add(c.site);
        restored += c.rep.sectors_restored;
        sectors += c.rep.sectors;
        undone += c.rep.dir_undone;
        dirops += c.rep.dir_ops;
        cut += c.rep.files_truncated;
    }
    qsort(g_hist, g_hist_cnt, sizeof *g_hist, hist_cmp);
    print_message("crashes=%zu corruptions=%d (%.1f s); unsynced sectors restored %llu of %llu, "
                  "name ops undone %llu of %llu, files cut to their synced size %llu\n",
                  crashes, corruptions, now_s() - t0, (unsigned long long)restored,
                  (unsigned long long)sectors, (unsigned long long)undone,
                  (unsigned long long)dirops, (unsigned long long)cut);
    print_message("where the power went (call site, op: crashes):\n");
    for (size_t i = 0; i < g_hist_cnt; i++)
        print_message("  %-44s %llu\n", g_hist[i].site, (unsigned long long)g_hist[i].n);
    assert_int_equal(corruptions, 0);
    adb_test_rmtree(tmp);
    free(tmp);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_powerloss),
};

ADB_TEST_GROUP(powerloss, tests);
