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
 * One crash in four is preceded by a kill: the process dies at an op of a
 * first run (nothing is undone: the page cache survives), a new one
 * reopens, reports its durable root and works on, and the power goes in
 * that second run, half the time within its first 16 ops (a kill -9, a
 * restart, then a power loss: what the dead process left unsynced may
 * still go).
 *
 *   powerloss   adb_test_scaled(1000) power losses over 6 workload seeds;
 *               prints crashes=N corruptions=M and where the power went
 *               (call site and op).  A failure prints its replay line:
 *               ACCTDB_POWERLOSS_REPLAY=wseed:kill:k:cseed runs that one.
 *
 * Engine bug this test finds (reported for issue 9; the fix goes to src/):
 * open reports as durable a root record that is not durable yet (renamed
 * by a process killed before its directory fsync), so a power loss soon
 * after the restart goes back to an older root than the reopened handle
 * reported (a few times per 1,000 crashes, in the runs after a kill).
 *
 * Single-threaded (background off, services stepped), so a replay line
 * gives the same run (the zstd compressor's worker may split an archive's
 * writes differently from run to run, which only moves which op a k inside
 * a snapshot names). */
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

typedef struct hist {
    site_cnt_t s[256];
    size_t     cnt;
} hist_t;

static hist_t g_power, g_kill;

static void
hist_add(hist_t *h, char const *site) {
    for (size_t i = 0; i < h->cnt; i++)
        if (!strcmp(h->s[i].site, site)) {
            h->s[i].n++;
            return;
        }
    if (h->cnt == 256) return;
    snprintf(h->s[h->cnt].site, sizeof h->s[0].site, "%s", site);
    h->s[h->cnt++].n = 1;
}

static int
hist_cmp(void const *a, void const *b) {
    site_cnt_t const *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->site, y->site);
}

static void
hist_print(hist_t *h, char const *title) {
    qsort(h->s, h->cnt, sizeof *h->s, hist_cmp);
    print_message("%s (call site, op: count):\n", title);
    for (size_t i = 0; i < h->cnt; i++)
        print_message("  %-44s %llu\n", h->s[i].site, (unsigned long long)h->s[i].n);
}

static bool
is_frozen(void *ctx) {
    return simfs_frozen(ctx);
}

typedef struct cycle {
    uint64_t wseed, kill_k, k, cseed; /* kill_k 0: no kill; k 0: power loss after close */
    /* out */
    uint64_t             ops;       /* mutating ops the runs made */
    char                 site[112]; /* "db_flush.c:235 fdatasync" or "(after close)" */
    char                 kill_site[112];
    simfs_crash_report_t rep;
    uint64_t             durable, calls, errors, fulls, incs, flushes, shrinks, cleans;
    char                 first_err[320];
} cycle_t;

static void
where(simfs_t *sf, char *out, size_t out_sz) {
    if (simfs_frozen(sf))
        snprintf(out, out_sz, "%s %s", simfs_crash_site(sf), simfs_crash_op(sf));
    else
        snprintf(out, out_sz, "(after close)");
}

/* One power loss: a copy of the base; the workload under simfs until op
 * k (with kill_k: first a run killed at op kill_k, then a reopen and a
 * second run); the crash; the oracle.  Returns the problems found. */
static int
run_cycle(char const *tmp, char const *base_dir, cwl_root_t const *base,
          acctdb_db_config_t const *cfg, cycle_t *c) {
    char cyc[4096], dir[4200], arch[4400], graves[4200], tag[200];
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
    snprintf(tag, sizeof tag, "powerloss %llu:%llu:%llu:%llu", (unsigned long long)c->wseed,
             (unsigned long long)c->kill_k, (unsigned long long)c->k, (unsigned long long)c->cseed);

    simfs_t *sf = simfs_new(graves);
    assert_non_null(sf);
    static cwl_t w;
    cwl_init(&w, c->wseed, BANKS, arch, base);
    w.stop = is_frozen;
    w.stop_ctx = sf;
    int problems = 0;
    /* The handle takes the default table at open (and, before per-handle
     * tables, every op reads it): set it for the life of the handles. */
    adb_io_set(simfs_io(sf));
    int legs = c->kill_k ? 2 : 1;
    for (int leg = 0; leg < legs; leg++) {
        uint64_t at = leg == legs - 1 ? c->k : c->kill_k;
        simfs_trigger_op(sf, at ? simfs_mut_ops(sf) + at : 0);
        acctdb_db_t *db = NULL;
        char         msg[1024] = "";
        int          rc = acctdb_db_open(&db, dir, cfg, msg, sizeof msg);
        if (rc) {
            if (!simfs_frozen(sf)) {
                print_message("%s: open (run %d) failed with no crash: %s (%s)\n", tag, leg + 1,
                              msg, acctdb_strerror(rc));
                problems++;
            }
            break;
        }
        bool go = true;
        if (leg) {
            uint64_t root = acctdb_db_root_slot(db, NULL);
            if (root < w.durable) {
                print_message("%s: reopened after the kill at root %llu, older than the durable "
                              "root %llu reported\n",
                              tag, (unsigned long long)root, (unsigned long long)w.durable);
                problems++;
            }
            if (!(go = cwl_resume(&w, root))) {
                print_message("%s: reopened after the kill at root %llu, which was never rooted\n",
                              tag, (unsigned long long)root);
                problems++;
            }
        }
        if (go) cwl_run(&w, db);
        acctdb_db_close(db); /* if frozen: every op fails, nothing changes */
        if (leg < legs - 1) {
            where(sf, c->kill_site, sizeof c->kill_site);
            simfs_thaw(sf);
        }
    }
    adb_io_set(NULL);
    c->ops = simfs_mut_ops(sf);
    c->durable = w.durable;
    c->calls = w.calls;
    c->errors = w.errors;
    c->fulls = w.fulls, c->incs = w.incrementals, c->flushes = w.flushes;
    c->shrinks = w.shrinks, c->cleans = w.cleans;
    snprintf(c->first_err, sizeof c->first_err, "%s: %s", w.first_call, w.first_msg);
    where(sf, c->site, sizeof c->site);
    simfs_crash_opts_t o = {.tear = c->cseed % 4 != 0, /* 1 in 4: whole writes lost or kept */
                            .truncate = (c->cseed >> 2) % 2 == 0,
                            .dir_undo_p = 0.5};
    int                rc = simfs_crash(sf, c->cseed, &o, &c->rep);
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
            "%s: %d problem(s); %s%s%spower lost at %s after %llu mutating ops; durable "
            "root reported %llu; undone: %llu of %llu name ops, %llu of %llu sectors, "
            "%llu files cut\n"
            "  replay: ACCTDB_TEST_FILTER=powerloss ACCTDB_POWERLOSS_REPLAY=%llu:%llu:"
            "%llu:%llu\n",
            tag, problems, c->kill_k ? "killed at " : "", c->kill_k ? c->kill_site : "",
            c->kill_k ? ", " : "", c->site, (unsigned long long)c->ops,
            (unsigned long long)c->durable, (unsigned long long)c->rep.dir_undone,
            (unsigned long long)c->rep.dir_ops, (unsigned long long)c->rep.sectors_restored,
            (unsigned long long)c->rep.sectors, (unsigned long long)c->rep.files_truncated,
            (unsigned long long)c->wseed, (unsigned long long)c->kill_k, (unsigned long long)c->k,
            (unsigned long long)c->cseed);
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
    /* An index checkpoint (never synced) after every flush: one the power
     * tore or lost must fail its checks and the open scan, never serve a
     * wrong index. */
    cfg.index_checkpoint_sz = 1;
    cwl_root_t base;
    cwl_base_create(base_dir, &cfg, &base);
    double t0 = now_s();

    char const *replay = getenv("ACCTDB_POWERLOSS_REPLAY");
    if (replay && *replay) {
        cycle_t            c = {0};
        unsigned long long a, b, k, d;
        assert_int_equal(sscanf(replay, "%llu:%llu:%llu:%llu", &a, &b, &k, &d), 4);
        c.wseed = a, c.kill_k = b, c.k = k, c.cseed = d;
        int p = run_cycle(tmp, base_dir, &base, &cfg, &c);
        print_message("replay %s: %s%s power lost at %s after %llu ops: %d problem(s)\n", replay,
                      c.kill_k ? "killed at " : "", c.kill_k ? c.kill_site : "", c.site,
                      (unsigned long long)c.ops, p);
        adb_test_rmtree(tmp);
        free(tmp);
        assert_int_equal(p, 0);
        return;
    }

    /* Dry runs: how many mutating ops each workload makes (each is also a
     * power loss right after a clean close). */
    acctdb_rng_t r = acctdb_rng_seed(adb_test_seed() ^ 0x9011);
    uint64_t     wseed[SEEDS], nops[SEEDS];
    int          corruptions = 0;
    for (int i = 0; i < SEEDS; i++) {
        cycle_t c = {.wseed = acctdb_rng_next(&r) >> 1 << 1 | (uint64_t)(i & 1),
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

    size_t   crashes = adb_test_scaled(1000), kills = 0;
    uint64_t restored = 0, sectors = 0, undone = 0, dirops = 0, cut = 0, doomed = 0;
    for (size_t n = 0; n < crashes; n++) {
        int     i = (int)(n % SEEDS);
        cycle_t c = {.wseed = wseed[i], .cseed = acctdb_rng_next(&r)};
        /* A kill somewhere in the first run, the power loss anywhere in the
         * second (its length is about the same) or, one time in two, within
         * its first 16 ops: while what the dead process left unsynced is
         * still pending. */
        bool soon = false;
        if (n % 4 == 3) {
            c.kill_k = 1 + acctdb_rng_below(&r, nops[i]);
            soon = n % 8 == 7;
            kills++;
        }
        c.k = 1 + acctdb_rng_below(&r, soon ? 16 : nops[i]);
        corruptions += run_cycle(tmp, base_dir, &base, &cfg, &c) > 0;
        hist_add(&g_power, c.site);
        if (c.kill_k) hist_add(&g_kill, c.kill_site);
        restored += c.rep.sectors_restored;
        sectors += c.rep.sectors;
        undone += c.rep.dir_undone;
        dirops += c.rep.dir_ops;
        cut += c.rep.files_truncated;
        doomed += c.rep.doomed;
    }
    print_message("crashes=%zu corruptions=%d (%zu after a kill and a reopen; %.1f s); unsynced "
                  "sectors restored %llu of %llu, name ops undone %llu of %llu, files cut to their "
                  "synced size %llu\n",
                  crashes, corruptions, kills, now_s() - t0, (unsigned long long)restored,
                  (unsigned long long)sectors, (unsigned long long)undone,
                  (unsigned long long)dirops, (unsigned long long)cut);
    assert_int_equal(doomed, 0); /* no injected failures here */
    hist_print(&g_power, "where the power went");
    hist_print(&g_kill, "where the kills landed");
    adb_test_rmtree(tmp);
    free(tmp);
    assert_int_equal(corruptions, 0);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_powerloss),
};

ADB_TEST_GROUP(powerloss, tests);
