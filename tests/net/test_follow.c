/* Followers on loopback (issue 8, the change stream): a server (in this
 * process, on a database from a genesis cluster, a paced workload writing
 * snapshots as it goes, a window of 20 rooted slots) and followers:
 *   - a follower applies the stream and ends at the server's lattice hash;
 *   - one paused past the window gets SlotTooOld, discards its state,
 *     bootstraps again from a fresh snapshot and converges;
 *   - one killed mid-stream (the acctdb tool, SIGKILL) and restarted
 *     converges;
 *   - with 50 /changes readers (some never reading) and 2 followers, the
 *     server process's RSS stays within its RSS at one reader plus 64 KiB
 *     per reader (`acctdb serve` as its own process). */
#include "../test.h"
#include "acctdb_sim.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct env {
    char                    *tmp;
    char                     db_dir[4200], snaps[4200], genesis[4200];
    acctdb_db_t             *db;
    acctdb_server_t         *srv;
    char                     url[64];
    pthread_t                wl;
    bool                     wl_started;
    acctdb_workload_opts_t   wo;
    acctdb_workload_result_t wr;
    int                      wl_rc;
    volatile int             stop;
    uint64_t                 snap_every, done_slots;
} env_t;

static void
sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* The workload's progress: a full snapshot every snap_every slots (a
 * validator writes them as it goes; followers bootstrap from them). */
static void
wl_progress(void *ctx, char const *what, uint64_t done, uint64_t total) {
    (void)what;
    (void)total;
    env_t *e = ctx;
    e->done_slots = done;
    if (e->snap_every && done % e->snap_every == 0) {
        char path[4096];
        int  rc = acctdb_db_snapshot(e->db, e->snaps, false, path);
        if (rc) fprintf(stderr, "follow test: snapshot: %s\n", acctdb_db_errmsg(e->db));
    }
}

static void *
wl_main(void *arg) {
    env_t *e = arg;
    e->wl_rc = acctdb_db_workload(e->db, &e->wo, &e->wr);
    return NULL;
}

static void
env_start(env_t *e, uint32_t history, uint64_t slots, uint32_t slot_ms) {
    memset(e, 0, sizeof *e);
    e->tmp = adb_test_mkdtemp();
    snprintf(e->db_dir, sizeof e->db_dir, "%s/server", e->tmp);
    snprintf(e->snaps, sizeof e->snaps, "%s/snapshots", e->tmp);
    snprintf(e->genesis, sizeof e->genesis, "%s/genesis.bin", e->tmp);
    assert_int_equal(mkdir(e->snaps, 0755), 0);
    acctdb_cluster_opts_t co;
    acctdb_cluster_opts_default(&co);
    co.slots_per_epoch = 64;
    co.seed = adb_test_seed();
    char msg[512];
    if (acctdb_cluster_genesis_write(&co, e->genesis, msg, sizeof msg)) fail_msg("%s", msg);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    acctdb_db_source_t src = {.genesis_path = e->genesis};
    if (acctdb_db_create(&e->db, e->db_dir, &src, &cfg, msg, sizeof msg)) fail_msg("%s", msg);
    /* A first snapshot, so a follower can bootstrap at once. */
    acctdb_workload_opts_default(&e->wo);
    e->wo.slots = 40;
    e->wo.stores_min = 20;
    e->wo.stores_max = 60;
    e->wo.root_lag = 4;
    e->wo.seed = adb_test_seed();
    if (acctdb_db_workload(e->db, &e->wo, &e->wr)) fail_msg("%s", acctdb_db_errmsg(e->db));
    acctdb_db_close(e->db);
    if (acctdb_db_open(&e->db, e->db_dir, &cfg, msg, sizeof msg)) fail_msg("%s", msg);
    char path[4096];
    if (acctdb_db_snapshot(e->db, e->snaps, false, path)) fail_msg("%s", acctdb_db_errmsg(e->db));
    acctdb_server_opts_t so;
    acctdb_server_opts_default(&so);
    so.addr = "127.0.0.1:0";
    so.snapshot_dir = e->snaps;
    so.history_slots = history;
    if (acctdb_server_start(&e->srv, e->db, &so, msg, sizeof msg)) fail_msg("server: %s", msg);
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:%u", acctdb_server_port(e->srv));
    /* The paced workload, writing a snapshot every 10 slots. */
    e->wo.slots = slots;
    e->wo.slot_us = slot_ms * 1000u;
    e->wo.stop = &e->stop;
    e->wo.seed += 1;
    e->wo.progress = wl_progress;
    e->wo.progress_ctx = e;
    e->snap_every = 10;
    assert_int_equal(pthread_create(&e->wl, NULL, wl_main, e), 0);
    e->wl_started = true;
}

static void
env_wait_workload(env_t *e) {
    if (!e->wl_started) return;
    pthread_join(e->wl, NULL);
    e->wl_started = false;
    if (e->wl_rc) fail_msg("workload: %s", acctdb_db_errmsg(e->db));
}

static void
env_stop(env_t *e) {
    e->stop = 1;
    env_wait_workload(e);
    acctdb_server_stop(e->srv);
    acctdb_db_close(e->db);
    adb_test_rmtree(e->tmp);
    free(e->tmp);
}

static void
log_print(void *ctx, char const *line) {
    (void)ctx;
    if (getenv("ACCTDB_FOLLOW_VERBOSE")) print_message("      follow: %s\n", line);
}

static int
follow(env_t *e, char const *dir, uint64_t slots, uint32_t secs, acctdb_follow_result_t *r) {
    acctdb_follow_opts_t o = {.peer = e->url,
                              .dir = dir,
                              .stop_after_slots = slots,
                              .stop_after_s = secs,
                              .log = log_print};
    char                 msg[1024];
    int                  rc = acctdb_follow(&o, r, msg, sizeof msg);
    if (rc) print_message("      follow: %s\n", msg);
    return rc;
}

/* Runs the follower until it has applied the server's root, then compares
 * the lattice checksum with the server's bank at that slot. */
static void
converge(env_t *e, char const *dir, char const *label) {
    env_wait_workload(e);
    uint64_t               root = acctdb_db_root_slot(e->db, NULL);
    acctdb_follow_result_t r = {0};
    uint64_t               last = 0;
    for (int i = 0; i < 30 && last < root; i++) {
        assert_int_equal(follow(e, dir, 0, 1, &r), 0);
        if (r.slots_applied)
            last = r.last_slot;
        else {
            /* nothing new: where is the follower? */
            acctdb_db_t       *f;
            char               msg[256];
            acctdb_db_config_t cfg;
            acctdb_db_config_default(&cfg);
            assert_int_equal(acctdb_db_open(&f, dir, &cfg, msg, sizeof msg), 0);
            last = acctdb_db_root_slot(f, NULL);
            acctdb_db_close(f);
        }
    }
    assert_int_equal(last, root);
    acctdb_db_t       *f;
    char               msg[256];
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    assert_int_equal(acctdb_db_open(&f, dir, &cfg, msg, sizeof msg), 0);
    acctdb_bank_info_t mine, theirs;
    assert_int_equal(acctdb_db_bank_info(f, root, &mine), 0);
    assert_int_equal(acctdb_db_bank_info(e->db, root, &theirs), 0);
    acctdb_db_close(f);
    char a[ACCTDB_BASE58_32_SZ], b[ACCTDB_BASE58_32_SZ];
    if (memcmp(mine.lt_checksum, theirs.lt_checksum, 32) ||
        memcmp(mine.bank_hash.b, theirs.bank_hash.b, 32))
        fail_msg("%s: slot %llu: lattice checksum %s, the server's %s", label,
                 (unsigned long long)root, acctdb_base58_encode_32(mine.lt_checksum, a),
                 acctdb_base58_encode_32(theirs.lt_checksum, b));
    print_message("    %s: at the server's root %llu, lattice checksum %s (both)\n", label,
                  (unsigned long long)root, acctdb_base58_encode_32(mine.lt_checksum, a));
}

static void
t_follow_and_reset(void **state) {
    (void)state;
    env_t e;
    env_start(&e, 20, 160, 25);
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/follower", e.tmp);
    acctdb_follow_result_t r;
    /* Bootstrap, then 15 slots of the stream. */
    assert_int_equal(follow(&e, dir, 15, 60, &r), 0);
    assert_int_equal(r.bootstraps, 1);
    assert_int_equal(r.slots_applied, 15);
    uint64_t paused_at = r.last_slot;
    /* Paused until the server's window (20 slots) is past it. */
    for (int i = 0; i < 400 && acctdb_db_root_slot(e.db, NULL) < paused_at + 40; i++)
        sleep_ms(25);
    assert_true(acctdb_db_root_slot(e.db, NULL) >= paused_at + 40);
    /* What a follower killed mid-commit leaves: the reset removes it too. */
    char const *const tmps[] = {".tmp-acctdb.meta", ".tmp-manifest.bin"};
    for (size_t i = 0; i < 2; i++) {
        char  tp[4400];
        FILE *tf;
        snprintf(tp, sizeof tp, "%s/%s", dir, tmps[i]);
        assert_non_null(tf = fopen(tp, "w"));
        fputs("partial", tf);
        fclose(tf);
    }
    assert_int_equal(follow(&e, dir, 5, 60, &r), 0);
    assert_true(r.resets >= 1); /* SlotTooOld */
    assert_true(r.bootstraps >= 1);
    assert_int_equal(r.slots_applied, 5);
    assert_true(r.last_slot > paused_at + 20);
    print_message(
        "    paused at %llu: SlotTooOld, %llu reset(s), re-bootstrapped, resumed at %llu\n",
        (unsigned long long)paused_at, (unsigned long long)r.resets,
        (unsigned long long)r.last_slot);
    converge(&e, dir, "follower after a reset");
    env_stop(&e);
}

static void
t_follow_killed(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    env_t       e;
    env_start(&e, 40, 150, 25);
    char dir[4300], cmd[9000];
    snprintf(dir, sizeof dir, "%s/follower", e.tmp);
    char logf[4400];
    snprintf(logf, sizeof logf, "%s/follow.log", e.tmp);
    snprintf(cmd, sizeof cmd,
             "exec '%s' follow --peer %s --dir '%s' --seconds 60 >/dev/null 2>'%s'", tool, e.url,
             dir, logf);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* Let it bootstrap and apply a while, then kill it mid-stream. */
    sleep_ms(2500);
    kill(p, SIGKILL);
    int st;
    waitpid(p, &st, 0);
    assert_true(WIFSIGNALED(st)); /* it was still following */
    /* It had bootstrapped and applied slots (durably) before the kill. */
    size_t   lsz;
    uint8_t *log = adb_test_read_file(logf, &lsz);
    if (!strstr((char const *)log, "bootstrapped")) fail_msg("follower log: %.*s", (int)lsz, log);
    free(log);
    acctdb_db_t       *f;
    char               msg[256];
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    assert_int_equal(acctdb_db_open(&f, dir, &cfg, msg, sizeof msg), 0);
    uint64_t killed_at = acctdb_db_root_slot(f, NULL);
    acctdb_db_close(f);
    print_message("    follower killed at root %llu\n", (unsigned long long)killed_at);
    converge(&e, dir, "follower killed and restarted");
    env_stop(&e);
}

/* ---- readers and the server's memory --------------------------------------------------- */

static long
rss_kb(pid_t pid) {
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

/* The peak RSS of pid over ms milliseconds (sampled every 50 ms). */
static long
rss_peak(pid_t pid, long ms) {
    long peak = 0;
    for (long t = 0; t < ms; t += 50) {
        long v = rss_kb(pid);
        if (v > peak) peak = v;
        sleep_ms(50);
    }
    return peak;
}

typedef struct rdr {
    int          fd;
    bool         reads; /* false: never reads (a stuck client) */
    _Atomic bool stop;
    uint64_t     bytes;
    pthread_t    t;
} rdr_t;

static void *
rdr_main(void *arg) {
    rdr_t  *r = arg;
    uint8_t buf[16384];
    while (!atomic_load(&r->stop)) {
        if (!r->reads) {
            sleep_ms(50);
            continue;
        }
        ssize_t n = recv(r->fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        r->bytes += (uint64_t)n;
    }
    return NULL;
}

static int
connect_stream(uint16_t port, uint64_t from) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    /* A small receive buffer: a client that does not read stalls soon. */
    int rcv = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int  n =
        snprintf(req, sizeof req, "GET /changes?from_slot=%llu HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 (unsigned long long)from);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    return fd;
}

typedef struct fthread {
    env_t                 *e;
    char                   dir[4300];
    acctdb_follow_result_t r;
    int                    rc;
    pthread_t              t;
} fthread_t;

static void *
follow_main(void *arg) {
    fthread_t *f = arg;
    f->rc = follow(f->e, f->dir, 0, 8, &f->r);
    return NULL;
}

static void
t_readers_rss(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    env_t       e;
    memset(&e, 0, sizeof e);
    e.tmp = adb_test_mkdtemp();
    snprintf(e.db_dir, sizeof e.db_dir, "%s/server", e.tmp);
    snprintf(e.snaps, sizeof e.snaps, "%s/snapshots", e.tmp);
    snprintf(e.genesis, sizeof e.genesis, "%s/genesis.bin", e.tmp);
    char cmd[9000];
    int  rc = adb_test_sh(NULL, 0,
                          "'%s' genesis make '%s' --slots-per-epoch 64 >/dev/null && '%s' db "
                           "create --quiet '%s' --genesis '%s' >/dev/null",
                          tool, e.genesis, tool, e.db_dir, e.genesis);
    assert_int_equal(rc, 0);
    /* The server: its own process (its RSS is what is measured). */
    int out[2];
    assert_int_equal(pipe(out), 0);
    /* 300 slots, a full snapshot every 40, then it serves on, idle: memory
     * is measured once the database stopped growing. */
    snprintf(cmd, sizeof cmd,
             "exec '%s' serve '%s' --rpc-addr 127.0.0.1:0 --snapshots '%s' --history-slots 200 "
             "--workload-slots 300 --slot-ms 10 --stores-min 20 --stores-max 40 "
             "--snapshot-every-slots 40 --max-connections 1000 --quiet 2>/dev/null",
             tool, e.db_dir, e.snaps);
    pid_t srv = fork();
    assert_true(srv >= 0);
    if (srv == 0) {
        dup2(out[1], 1);
        close(out[0]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *so = fdopen(out[0], "r");
    char  line[256] = "";
    assert_non_null(fgets(line, sizeof line, so));
    unsigned port = 0;
    assert_int_equal(sscanf(line, "listening: http://127.0.0.1:%u", &port), 1);
    snprintf(e.url, sizeof e.url, "http://127.0.0.1:%u", port);
    /* Until the workload is done: the finalized slot stops moving. */
    uint64_t root = 0, last = UINT64_MAX;
    for (int i = 0; i < 120 && root != last; i++) {
        last = root;
        sleep_ms(1000);
        char resp[512];
        rc = adb_test_sh(resp, sizeof resp,
                         "curl -s -X POST -H 'content-type: application/json' -d "
                         "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}' %s",
                         e.url);
        assert_int_equal(rc, 0);
        char *res = strstr(resp, "\"result\":");
        assert_non_null(res);
        root = strtoull(res + 9, NULL, 10);
    }
    assert_true(root == last && root > 200);
    root -= 100; /* the readers start inside the window */
    enum { N = 50 };
    static rdr_t rd[N];
    memset(rd, 0, sizeof rd);
    rd[0].fd = connect_stream((uint16_t)port, root);
    rd[0].reads = true;
    assert_int_equal(pthread_create(&rd[0].t, NULL, rdr_main, &rd[0]), 0);
    sleep_ms(1000);
    long rss1 = rss_peak(srv, 4000);
    /* 49 more readers (half never read) and 2 followers. */
    for (int i = 1; i < N; i++) {
        rd[i].fd = connect_stream((uint16_t)port, root);
        rd[i].reads = i % 2 == 0;
        assert_int_equal(pthread_create(&rd[i].t, NULL, rdr_main, &rd[i]), 0);
    }
    static fthread_t ft[2];
    for (int i = 0; i < 2; i++) {
        ft[i].e = &e;
        snprintf(ft[i].dir, sizeof ft[i].dir, "%s/follower%d", e.tmp, i);
        assert_int_equal(pthread_create(&ft[i].t, NULL, follow_main, &ft[i]), 0);
    }
    sleep_ms(1000);
    long rss52 = rss_peak(srv, 5000);
    for (int i = 0; i < 2; i++)
        pthread_join(ft[i].t, NULL);
    for (int i = 0; i < N; i++) {
        atomic_store(&rd[i].stop, true);
        shutdown(rd[i].fd, SHUT_RDWR);
        pthread_join(rd[i].t, NULL);
        close(rd[i].fd);
    }
    kill(srv, SIGTERM);
    int st;
    waitpid(srv, &st, 0);
    fclose(so);
    uint64_t reading = 0;
    for (int i = 0; i < N; i += 2)
        reading += rd[i].bytes;
    long allowed = rss1 + (N + 2 - 1) * 64;
    print_message(
        "    server RSS: %ld KiB with one reader, %ld KiB with %d readers and 2 followers "
        "(allowed %ld); the reading half got %llu bytes; followers applied %llu and "
        "%llu slots\n",
        rss1, rss52, N, allowed, (unsigned long long)reading,
        (unsigned long long)ft[0].r.slots_applied, (unsigned long long)ft[1].r.slots_applied);
    assert_int_equal(ft[0].rc, 0);
    assert_int_equal(ft[1].rc, 0);
    assert_true(ft[0].r.slots_applied > 0 && ft[1].r.slots_applied > 0);
    assert_true(reading > 0);
#ifndef ADB_SANITIZE /* ASan's shadow memory and quarantine are not the server's */
    assert_true(rss52 <= allowed);
#endif
    adb_test_rmtree(e.tmp);
    free(e.tmp);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_readers_rss),
    cmocka_unit_test(t_follow_and_reset),
    cmocka_unit_test(t_follow_killed),
};
ADB_TEST_GROUP(follow, tests);
