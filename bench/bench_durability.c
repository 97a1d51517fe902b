/* bench/bench_durability.c - what durability costs, and how fast a database
 * comes back.
 *
 *   build/release/bench_durability [--accounts N] [--slots S] [--seed X]
 *                                  [--dir D] [--cache DIR] [--kill-after SEC]
 *
 * Setup: a snapshot of N accounts (default 1,000,000; generated once with
 * acctdb_snapshot_gen and cached in DIR/snap-N, default bench/cache, the
 * one bench_db and bench_snapshot use).  The cold load: acctdb_db_create
 * from that archive (fully verified), timed.  The database is then copied
 * twice (cp -a), so both runs below start from the same bytes.
 *
 * Store+root throughput, sync on versus off: on each copy the same
 * workload (acctdb_db_workload, S slots, default 2,000, 2,000..5,000
 * stores per slot, roots 32 banks behind) with the services stepped after
 * every root (service_every = 1), so every root is flushed and committed
 * as soon as it is made: the account file fdatasynced, then one commit
 * record (catalog and slot, each fdatasynced, the directory fsynced) per
 * root with sync on; none of those syncs with sync = false (the config
 * key; LMDB's MDB_NOSYNC).  Printed: slots/s, stores/s, the time per
 * root, and the ratio.
 *
 * Reopen: after a clean close (acctdb_db_shutdown) and after kill -9 (a
 * child opens the sync copy, runs the workload, a commit per root, and is
 * killed --kill-after seconds after its open, default 3; the reopen loads
 * the base index file its last commit names and replays the account files
 * committed since, or rebuilds; one that finds the clean close's index
 * file as it was means the child committed nothing, and the benchmark
 * stops saying so), acctdb_db_open is timed in a fresh
 * child each time (so the page cache holds what it would after a restart
 * of the process, not after a reboot), and compared with the cold load.
 * The last line is key=value pairs.  Benchmarks never assert: compare with
 * docs/PERFORMANCE.md. */
#include "acctdb_sim.h"
#include "bench_util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(char const *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#include <stdarg.h>
static void
die(char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_durability: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void
cfg_for(acctdb_db_config_t *c, bool sync) {
    acctdb_db_config_default(c);
    c->sync = sync;
    c->background = false; /* the workload steps the services after every root */
    c->flush_min_sz = 0;
}

typedef struct run {
    double   seconds, slots_s, stores_s;
    uint64_t slots, stores, commits, root;
} run_t;

static run_t
workload(char const *dir, bool sync, uint64_t slots, uint64_t seed) {
    acctdb_db_config_t c;
    cfg_for(&c, sync);
    acctdb_db_t *db = NULL;
    char         msg[1024];
    if (acctdb_db_open(&db, dir, &c, msg, sizeof msg)) die("open %s: %s", dir, msg);
    acctdb_db_stats_t s0, s1;
    acctdb_db_stats(db, &s0);
    acctdb_workload_opts_t o;
    acctdb_workload_opts_default(&o);
    o.slots = slots;
    o.seed = seed;
    o.service_every = 1; /* a flush, so a commit, per root */
    acctdb_workload_result_t r;
    if (acctdb_db_workload(db, &o, &r)) die("workload: %s", acctdb_db_errmsg(db));
    acctdb_db_stats(db, &s1);
    acctdb_shutdown_report_t rep;
    if (acctdb_db_shutdown(db, &rep, msg, sizeof msg)) die("shutdown: %s", msg);
    run_t out = {.seconds = r.seconds,
                 .slots = r.slots_created,
                 .stores = r.stores,
                 .commits = s1.service_passes[ACCTDB_SERVICE_FLUSH] -
                            s0.service_passes[ACCTDB_SERVICE_FLUSH],
                 .root = rep.durable_slot};
    out.slots_s = (double)out.slots / r.seconds;
    out.stores_s = (double)out.stores / r.seconds;
    return out;
}

/* What a timed open saw. */
typedef struct open_res {
    double seconds, index_s;
    int    rebuilt;
    char   reason[120];
} open_res_t;

/* Opens dir in a fresh child and reports the open's time and how its index
 * came back (loaded from the index file, or rebuilt and why), or dies. */
static open_res_t
timed_open(char const *dir) {
    int p[2];
    if (pipe(p)) die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(p[0]);
        acctdb_db_config_t c;
        acctdb_db_config_default(&c);
        c.background = false;
        acctdb_db_t *db = NULL;
        char         msg[1024];
        double       t0 = now_s();
        int          rc = acctdb_db_open(&db, dir, &c, msg, sizeof msg);
        open_res_t   o = {.seconds = now_s() - t0};
        if (rc) {
            fprintf(stderr, "open %s: %s\n", dir, msg);
            _exit(1);
        }
        acctdb_db_stats_t st;
        acctdb_db_stats(db, &st);
        o.rebuilt = st.index_rebuilt;
        o.index_s = (double)st.index_open_ns * 1e-9;
        snprintf(o.reason, sizeof o.reason, "%s", st.index_reason);
        acctdb_db_close(db);
        if (write(p[1], &o, sizeof o) != (ssize_t)sizeof o) _exit(1);
        _exit(0);
    }
    close(p[1]);
    open_res_t o = {.seconds = -1};
    if (read(p[0], &o, sizeof o) != (ssize_t)sizeof o) o.seconds = -1;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (o.seconds < 0) die("the timed open of %s failed", dir);
    return o;
}

int
main(int argc, char **argv) {
    uint64_t    n = 1000000, slots = 2000, seed = 1;
    double      kill_after = 3;
    char const *work = NULL, *cache = "bench/cache";
    for (int i = 1; i < argc; i++) {
        char const *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--accounts") && v)
            n = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--slots") && v)
            slots = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--seed") && v)
            seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--dir") && v)
            work = v, i++;
        else if (!strcmp(a, "--cache") && v)
            cache = v, i++;
        else if (!strcmp(a, "--kill-after") && v)
            kill_after = strtod(v, NULL), i++;
        else
            die("usage: bench_durability [--accounts N] [--slots S] [--seed X] [--dir D] "
                "[--cache DIR] [--kill-after SEC]");
    }
    char wbuf[4096];
    if (!work) {
        snprintf(wbuf, sizeof wbuf, "/tmp/bench-durability-%d", (int)getpid());
        work = wbuf;
    }
    struct utsname u;
    uname(&u);
    printf("machine: %s %s, %ld CPUs; work directory %s\n", u.sysname, u.release,
           sysconf(_SC_NPROCESSORS_ONLN), work);

    char gdir[4096], archive[4096] = "", inc[4096], msg[1024], cmd[32768];
    snprintf(gdir, sizeof gdir, "%s/snap-%llu", cache, (unsigned long long)n);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s'", gdir, work);
    if (system(cmd)) die("cannot create %s or %s", gdir, work);
    if (acctdb_snapshot_find(gdir, archive, sizeof archive, inc, sizeof inc, msg, sizeof msg)) {
        printf("generating a %llu-account snapshot into %s (once)...\n", (unsigned long long)n,
               gdir);
        fflush(stdout);
        acctdb_gen_opts_t   go = {.accounts = n, .seed = 1, .out_dir = gdir};
        acctdb_gen_result_t gr;
        if (acctdb_snapshot_gen(&go, &gr, msg, sizeof msg)) die("snapshot gen: %s", msg);
        snprintf(archive, sizeof archive, "%s", gr.full_path);
    }

    /* The cold load. */
    char base[4200], dsync[4200], dnosync[4200];
    snprintf(base, sizeof base, "%s/base", work);
    snprintf(dsync, sizeof dsync, "%s/sync", work);
    snprintf(dnosync, sizeof dnosync, "%s/nosync", work);
    rmtree(base);
    rmtree(dsync);
    rmtree(dnosync);
    acctdb_db_source_t src = {.full_path = archive};
    acctdb_db_config_t c;
    acctdb_db_config_default(&c);
    acctdb_db_t *db = NULL;
    double       t0 = now_s();
    if (acctdb_db_create(&db, base, &src, &c, msg, sizeof msg)) die("create: %s", msg);
    double            cold = now_s() - t0;
    acctdb_db_stats_t st;
    acctdb_db_stats(db, &st);
    acctdb_db_close(db);
    printf("cold load: %.2f s (acctdb_db_create from %s, verified; %llu keys)\n", cold, archive,
           (unsigned long long)st.index_keys);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s' && cp -a '%s' '%s' && sync", base, dsync, base,
             dnosync);
    if (system(cmd)) die("copying the database failed");

    /* Store+root with and without syncs. */
    run_t a = workload(dsync, true, slots, seed);
    run_t b = workload(dnosync, false, slots, seed);
    if (a.root != b.root)
        die("the two runs ended at different roots (%llu, %llu)", (unsigned long long)a.root,
            (unsigned long long)b.root);
    printf("sync on:  %llu slots, %llu stores in %.2f s: %.1f slots/s, %.0f stores/s, %llu "
           "flushes, each committing one root (%.2f ms per slot)\n",
           (unsigned long long)a.slots, (unsigned long long)a.stores, a.seconds, a.slots_s,
           a.stores_s, (unsigned long long)a.commits, 1e3 * a.seconds / (double)a.slots);
    printf("sync off: %llu slots, %llu stores in %.2f s: %.1f slots/s, %.0f stores/s, %llu "
           "flushes, each committing one root (%.2f ms per slot)\n",
           (unsigned long long)b.slots, (unsigned long long)b.stores, b.seconds, b.slots_s,
           b.stores_s, (unsigned long long)b.commits, 1e3 * b.seconds / (double)b.slots);
    printf("durability costs %.1f%% of store+root throughput (sync on / off = %.3f)\n",
           100.0 * (1.0 - a.stores_s / b.stores_s), a.stores_s / b.stores_s);

    /* Reopen after a clean close. */
    open_res_t oc = timed_open(dsync);
    double     clean = oc.seconds;
    printf(
        "reopen after a clean close: %.2f s (%.0f%% of the cold load); index %s (%s) in %.2f s\n",
        clean, 100.0 * clean / cold, oc.rebuilt ? "rebuilt" : "loaded", oc.reason, oc.index_s);

    /* Reopen after kill -9 in the middle of a workload: kill_after counts
     * from the child's open (which loads the index: seconds at 10 M). */
    int kp[2];
    if (pipe(kp)) die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(kp[0]);
        acctdb_db_config_t k;
        cfg_for(&k, true);
        acctdb_db_t *kdb = NULL;
        if (acctdb_db_open(&kdb, dsync, &k, msg, sizeof msg)) _exit(1);
        if (write(kp[1], "o", 1) != 1) _exit(1);
        acctdb_workload_opts_t o;
        acctdb_workload_opts_default(&o);
        o.slots = 1000000;
        o.seed = seed + 1;
        o.service_every = 1;
        acctdb_workload_result_t r;
        acctdb_db_workload(kdb, &o, &r);
        _exit(2);
    }
    close(kp[1]);
    char one;
    if (read(kp[0], &one, 1) != 1) die("the killed run's child could not open %s", dsync);
    close(kp[0]);
    struct timespec ts = {(time_t)kill_after,
                          (long)((kill_after - (double)(time_t)kill_after) * 1e9)};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int wst;
    waitpid(pid, &wst, 0);
    open_res_t ok = timed_open(dsync);
    double     k9 = ok.seconds;
    /* Loaded as the clean close left it: nothing was committed since, so
     * this is not a reopen after a kill (a base and replay, or a rebuild). */
    if (!ok.rebuilt && !strstr(ok.reason, "replayed"))
        die("after kill -9 the index was %s (%s): the child committed nothing before the kill, "
            "so this is not a reopen after kill -9; give a larger --kill-after",
            "loaded", ok.reason);
    printf("reopen after kill -9 (after %.1f s of workload from its open): %.2f s (%.0f%% of the "
           "cold load; "
           "goal 25%%); index %s (%s) in %.2f s\n",
           kill_after, k9, 100.0 * k9 / cold, ok.rebuilt ? "rebuilt" : "replayed", ok.reason,
           ok.index_s);
    printf("accounts=%llu slots=%llu cold_load_s=%.3f sync_stores_s=%.0f nosync_stores_s=%.0f "
           "sync_ratio=%.3f reopen_clean_s=%.3f reopen_kill9_s=%.3f kill9_vs_cold=%.3f\n",
           (unsigned long long)n, (unsigned long long)slots, cold, a.stores_s, b.stores_s,
           a.stores_s / b.stores_s, clean, k9, k9 / cold);
    rmtree(work);
    return 0;
}
