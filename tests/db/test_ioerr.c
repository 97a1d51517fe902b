/* The I/O-error sweep: every call site the database reaches fails in turn
 * with EIO and with ENOSPC.
 *
 * A dry run of the shared crash workload (crash_wl.h: stores on forks,
 * roots, flush, clean, shrink, purge, full and incremental snapshots), then
 * close, reopen and close, with a recording simfs table (tests/util/simfs.h)
 * lists the (call site, op) pairs reached and how often.  Then for each pair
 * and each of EIO and ENOSPC, on a fresh copy of the database, the same run
 * with a table that fails that pair's first call (and, for pairs reached
 * more than once, in other cases its second and its last):
 *   - every API call returns 0 or a clean error code (ACCTDB_ERR_* or
 *     -errno), with a message; a fatal state is fine;
 *   - open, after the run, returns 0 or a clean code;
 *   - then the power goes (simfs_crash: whatever was not synced may be lost;
 *     a write pending at a failed fsync is lost for sure, so an engine that
 *     retried the fsync and called the data durable is caught), the database
 *     is reopened with POSIX and judged by crash_wl.h's oracle: a root at or
 *     after the last durable root reported, the root hook's lattice checksum
 *     and capitalization, verify, check, every key, and no archive name on a
 *     file that does not verify.
 *
 * Reads run with mmap_reads = false: a read error through a mapping is a
 * SIGBUS, which no I/O table can turn into an error code (out of scope;
 * src/util/io.h says the same).
 *
 *   ioerr   prints the number of (site, op) pairs and cases, and the cases
 *           whose failure the run never reached.  A failing case prints its
 *           replay line (ACCTDB_IOERR_CASE; ACCTDB_IOERR_TRACE=1 lists the
 *           ops after the failure).
 *
 * Engine bugs this sweep finds (reported for issue 9; fixes go to src/):
 *   A. a flush pass runs in the fatal state: after a failed fdatasync
 *      (flush's, db_flush.c, or shrink's, db_shrink.c) the next flush
 *      writes again, its fdatasync succeeds (the failed pages were marked
 *      clean) and its root record names the storage whose writeback failed;
 *      after the power loss open fails ("the storage of slot N ends early").
 *   B. open reports as durable a root record that is not durable yet: the
 *      directory fsync after the record's rename failed in the previous
 *      handle's close (whose error nobody sees); the power loss then goes
 *      back to an older root. */
#include "../test.h"
#include "../util/simfs.h"
#include "crash_wl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BANKS 16

typedef struct site_op {
    char     site[96];
    char     op[16];
    uint64_t hits;
} site_op_t;

static site_op_t g_sites[512];
static size_t    g_site_cnt;

static void
record(void *ctx, char const *site, char const *op) {
    (void)ctx;
    for (size_t i = 0; i < g_site_cnt; i++)
        if (!strcmp(g_sites[i].site, site) && !strcmp(g_sites[i].op, op)) {
            g_sites[i].hits++;
            return;
        }
    if (g_site_cnt == 512) return;
    site_op_t *s = &g_sites[g_site_cnt++];
    snprintf(s->site, sizeof s->site, "%s", site);
    snprintf(s->op, sizeof s->op, "%s", op);
    s->hits = 1;
}

/* ACCTDB_IOERR_TRACE=1: every op after the injected failure. */
static void
trace(void *ctx, char const *site, char const *op) {
    if (simfs_failed_at(ctx)) print_message("    after the failure: %s %s\n", site, op);
}

static int
site_cmp(void const *a, void const *b) {
    site_op_t const *x = a, *y = b;
    int              c = strcmp(x->site, y->site);
    return c ? c : strcmp(x->op, y->op);
}

typedef struct ecase {
    site_op_t const *at; /* NULL: the dry run (recording) */
    uint64_t         nth;
    int              err;
    uint64_t         wseed, cseed;
    /* out */
    bool     fired;
    uint64_t errors, fulls, incs, shrinks, cleans;
    char     first_err[320];
} ecase_t;

/* One run: a fresh copy, open + workload + close + reopen + close under
 * simfs (recording, or failing one call), the power loss, the oracle.
 * Returns the problems found. */
static int
run_case(char const *tmp, char const *base_dir, cwl_root_t const *base,
         acctdb_db_config_t const *cfg, ecase_t *c) {
    char cyc[4096], dir[4200], arch[4200], graves[4200], tag[256];
    snprintf(cyc, sizeof cyc, "%s/case", tmp);
    adb_test_rmtree(cyc);
    assert_int_equal(mkdir(cyc, 0755), 0);
    snprintf(dir, sizeof dir, "%s/db", cyc);
    cwl_copy_tree(base_dir, dir);
    snprintf(arch, sizeof arch, "%s/snapshots", cyc);
    assert_int_equal(mkdir(arch, 0755), 0);
    snprintf(graves, sizeof graves, "%s/graves", cyc);
    if (c->at)
        snprintf(tag, sizeof tag, "ioerr %s %s #%llu %s (wseed=%llu cseed=%llu)", c->at->site,
                 c->at->op, (unsigned long long)c->nth, c->err == -EIO ? "EIO" : "ENOSPC",
                 (unsigned long long)c->wseed, (unsigned long long)c->cseed);
    else
        snprintf(tag, sizeof tag, "ioerr dry run (wseed=%llu)", (unsigned long long)c->wseed);

    simfs_t *sf = simfs_new(graves);
    assert_non_null(sf);
    if (c->at) {
        simfs_fail(sf, c->at->site, c->at->op, c->nth, c->err);
        char const *t = getenv("ACCTDB_IOERR_TRACE");
        if (t && *t == '1') simfs_record(sf, trace, sf);
    } else {
        simfs_record(sf, record, NULL);
    }
    static cwl_t w;
    cwl_init(&w, c->wseed, BANKS, arch, base);
    int problems = 0;
    adb_io_set(simfs_io(sf)); /* for the life of both handles (see test_powerloss.c) */
    for (int pass = 0; pass < 2; pass++) {
        acctdb_db_t *db = NULL;
        char         msg[1024] = "";
        int          rc = acctdb_db_open(&db, dir, cfg, msg, sizeof msg);
        if (rc) {
            if (!cwl_rc_is_clean(rc) || !msg[0]) {
                print_message("%s: open %d returned %d with message \"%s\"\n", tag, pass, rc, msg);
                problems++;
            }
            if (!c->at) {
                print_message("%s: open failed: %s\n", tag, msg);
                problems++;
            }
            continue;
        }
        if (pass == 0) {
            cwl_run(&w, db);
        } else {
            uint64_t d = 0;
            acctdb_db_root_slot(db, &d);
            if (d > w.durable) w.durable = d;
        }
        acctdb_db_close(db);
    }
    adb_io_set(NULL);
    c->fired = simfs_failed_at(sf) != NULL;
    c->errors = w.errors;
    c->fulls = w.fulls, c->incs = w.incrementals, c->shrinks = w.shrinks, c->cleans = w.cleans;
    snprintf(c->first_err, sizeof c->first_err, "%s: %s", w.first_call, w.first_msg);
    if (w.unclean) {
        print_message("%s: a call returned an unclean code: %s\n", tag, w.unclean_msg);
        problems++;
    }
    if (w.errors && !w.first_msg[0]) {
        print_message("%s: %s failed (%s) without a message\n", tag, w.first_call,
                      acctdb_strerror(w.first_rc));
        problems++;
    }
    simfs_crash_opts_t o = {.tear = true, .truncate = true, .dir_undo_p = 0.5};
    int                rc = simfs_crash(sf, c->cseed, &o, NULL);
    if (rc) print_message("%s: the crash itself failed: %s\n", tag, strerror(-rc));
    assert_int_equal(rc, 0);
    simfs_free(sf);
    problems += cwl_check(&w, dir, cfg, tag);
    if (problems)
        print_message("%s: %d problem(s); first failed call: %s\n"
                      "  replay: ACCTDB_TEST_FILTER=ioerr ACCTDB_TEST_SEED=%llu "
                      "ACCTDB_IOERR_CASE='%s %s %llu %s' [ACCTDB_IOERR_TRACE=1]\n",
                      tag, problems, w.errors ? c->first_err : "(none)",
                      (unsigned long long)adb_test_seed(), c->at ? c->at->site : "-",
                      c->at ? c->at->op : "-", (unsigned long long)c->nth,
                      c->err == -ENOSPC ? "ENOSPC" : "EIO");
    return problems;
}

static double
now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
test_ioerr(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), base_dir[4096];
    assert_non_null(tmp);
    snprintf(base_dir, sizeof base_dir, "%s/base", tmp);
    acctdb_db_config_t cfg;
    cwl_config(&cfg, false);
    cwl_root_t base;
    cwl_base_create(base_dir, &cfg, &base);
    double t0 = now_s();

    /* The dry run: a workload seed whose run writes a full and an
     * incremental snapshot and shrinks (the first of a few that does). */
    acctdb_rng_t r = acctdb_rng_seed(adb_test_seed() ^ 0x10E2);
    ecase_t      dry = {0};
    for (int tries = 0; tries < 32; tries++) {
        g_site_cnt = 0;
        dry = (ecase_t){.wseed = acctdb_rng_next(&r), .cseed = acctdb_rng_next(&r)};
        assert_int_equal(run_case(tmp, base_dir, &base, &cfg, &dry), 0);
        assert_int_equal(dry.errors, 0);
        if (dry.fulls && dry.incs && dry.shrinks) break;
    }
    print_message("dry run (wseed %llu): %llu full and %llu incremental snapshots, %llu shrink "
                  "and %llu clean passes with work\n",
                  (unsigned long long)dry.wseed, (unsigned long long)dry.fulls,
                  (unsigned long long)dry.incs, (unsigned long long)dry.shrinks,
                  (unsigned long long)dry.cleans);
    qsort(g_sites, g_site_cnt, sizeof *g_sites, site_cmp);
    static site_op_t sites[512];
    size_t           nsites = g_site_cnt;
    memcpy(sites, g_sites, nsites * sizeof *sites);

    int       failures = 0;
    size_t    cases = 0, unreached = 0, with_error = 0;
    int const errs[2] = {-EIO, -ENOSPC};
    /* ACCTDB_IOERR_CASE="SITE OP NTH EIO|ENOSPC": that case alone. */
    char const *only = getenv("ACCTDB_IOERR_CASE");
    if (only && *only) {
        site_op_t          at = {0};
        unsigned long long nth;
        char               en[16];
        assert_int_equal(sscanf(only, "%95s %15s %llu %15s", at.site, at.op, &nth, en), 4);
        ecase_t c = {.at = &at,
                     .nth = nth,
                     .err = strcmp(en, "ENOSPC") ? -EIO : -ENOSPC,
                     .wseed = dry.wseed,
                     .cseed = acctdb_rng_next(&r)};
        int     p = run_case(tmp, base_dir, &base, &cfg, &c);
        print_message("case %s: %s, %d problem(s)\n", only, c.fired ? "fired" : "never reached", p);
        adb_test_rmtree(tmp);
        free(tmp);
        assert_int_equal(p, 0);
        return;
    }
    for (size_t i = 0; i < nsites; i++) {
        uint64_t nths[3] = {1, 2, sites[i].hits};
        size_t   nn = sites[i].hits >= 3 ? 3 : sites[i].hits;
        print_message("  %-28s %-10s reached %llu times\n", sites[i].site, sites[i].op,
                      (unsigned long long)sites[i].hits);
        for (size_t j = 0; j < nn; j++)
            for (int e = 0; e < 2; e++) {
                /* Below scale 1 (the sanitizer builds) one error per case,
                 * EIO and ENOSPC in turn; the release run does both. */
                if (adb_test_scale() < 1.0 && (int)((i + j) % 2) != e) continue;
                ecase_t c = {.at = &sites[i],
                             .nth = nths[j],
                             .err = errs[e],
                             .wseed = dry.wseed,
                             .cseed = acctdb_rng_next(&r)};
                failures += run_case(tmp, base_dir, &base, &cfg, &c) > 0;
                cases++;
                unreached += !c.fired;
                with_error += c.errors > 0;
                if (!c.fired)
                    print_message("    %s #%llu %s: never reached in this run\n", sites[i].op,
                                  (unsigned long long)c.nth, e ? "ENOSPC" : "EIO");
            }
    }
    print_message("sites=%zu cases=%zu failing=%d (%zu cases made an API call fail, %zu never "
                  "reached their failure; %.1f s)\n",
                  nsites, cases, failures, with_error, unreached, now_s() - t0);
    adb_test_rmtree(tmp);
    free(tmp);
    assert_int_equal(failures, 0);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_ioerr),
};

ADB_TEST_GROUP(ioerr, tests);
