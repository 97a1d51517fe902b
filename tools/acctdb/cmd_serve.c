/* tools/acctdb/cmd_serve.c - `acctdb serve DIR`: opens a database, serves
 * it (acctdb_server_*: JSON-RPC, snapshot downloads, /health, /metrics,
 * /changes), and optionally keeps writing to it: a paced validator
 * workload in the main thread, full and incremental snapshots from a
 * second thread every K rooted slots.  SIGINT/SIGTERM stop everything:
 * the workload after its slot, then the snapshot thread, the server, and
 * the database's close (which makes the newest root durable). */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char const USAGE[] =
    "usage: acctdb serve DIR [options]\n"
    "\n"
    "Serves the database at DIR over HTTP: JSON-RPC 2.0 (Solana's read methods) at\n"
    "POST /, snapshot archives (GET/HEAD /snapshot.tar.bz2 and\n"
    "/incremental-snapshot.tar.bz2 redirect to the newest; archives by name, with\n"
    "Range), GET /health, GET /metrics (Prometheus) and GET /changes?from_slot=S\n"
    "(the change stream followers apply).  Prints `listening: http://IP:PORT` on\n"
    "stdout once it accepts connections; runs until SIGINT or SIGTERM.\n"
    "\n"
    "server:\n"
    "  --rpc-addr IP:PORT        listen address (127.0.0.1:8899; port 0 picks one)\n"
    "  --snapshots ARCHIVE_DIR   archives to serve, and where written ones go\n"
    "                            (created if absent)\n"
    "  --genesis FILE            the cluster's genesis.bin (getGenesisHash)\n"
    "  --max-send-rate RATE      bytes/s per archive transfer, 0 to 1T (0: no\n"
    "                            limit); a bare number is bytes, or K, M, G, T\n"
    "  --history-slots N         rooted slots the change stream keeps, 1 to\n"
    "                            1000000 (600)\n"
    "  --history-max SIZE        their byte budget, 1M to 1T (256M; bare: MiB)\n"
    "  --threads N               JSON-RPC handlers running at once, 0 to 1024 (4;\n"
    "                            0: no limit); every connection has its own thread\n"
    "  --max-connections N       1 to 65536 (1024; a quarter of it per client IP)\n"
    "  --idle-timeout S          cut a connection idle this long, 1 to 86400 (30)\n"
    "  --max-body SIZE           JSON-RPC request body limit, 1 to 64M (50K; bare:\n"
    "                            bytes)\n"
    "\n"
    "writing while serving:\n"
    "  --workload-slots N        run a synthetic validator workload of N slots\n"
    "                            (acctdb db workload's), 0 to 2^40\n"
    "  --slot-ms MS              pace it: each slot takes at least MS ms, 0 to\n"
    "                            600000 (400; 0: as fast as it can)\n"
    "  --seed X, --stores-min A, --stores-max B, --root-lag L\n"
    "                            the workload's (see acctdb db --help)\n"
    "  --snapshot-every-slots K  write a full snapshot into --snapshots at start\n"
    "                            and every K rooted slots, 1 to 2^40\n"
    "  --incremental-every-slots K\n"
    "                            an incremental one on the last full every K rooted\n"
    "                            slots, 1 to 2^40\n"
    "  --exit-after-workload     stop when the workload is done (else serve on)\n"
    "\n"
    "database options (as acctdb db's; the owner index is always on):\n"
    "  --index-bins N, --write-cache SIZE, --read-cache SIZE, --shrink-ratio R,\n"
    "  --owner-index, --no-background, --config KEY=VALUE (threads=N sets the\n"
    "  database's workers; --threads is the server's)\n"
    "  --quiet                   no workload summary\n"
    "\n"
    "exit status: 0 stopped cleanly; 2 bad usage or an error; 3 the database is in\n"
    "use by another process.\n";

enum {
    O_RPC_ADDR = 1,
    O_SNAPSHOTS,
    O_GENESIS,
    O_MAX_SEND_RATE,
    O_HISTORY_SLOTS,
    O_HISTORY_MAX,
    O_THREADS,
    O_MAX_CONN,
    O_IDLE,
    O_MAX_BODY,
    O_WL_SLOTS,
    O_SLOT_MS,
    O_SEED,
    O_STORES_MIN,
    O_STORES_MAX,
    O_ROOT_LAG,
    O_SNAP_EVERY,
    O_INC_EVERY,
    O_EXIT_AFTER,
    O_INDEX_BINS,
    O_WRITE_CACHE,
    O_READ_CACHE,
    O_SHRINK,
    O_OWNER_INDEX,
    O_NO_BG,
    O_CONFIG,
    O_QUIET,
    O_HELP,
};

static struct option const g_lo[] = {{"rpc-addr", required_argument, 0, O_RPC_ADDR},
                                     {"snapshots", required_argument, 0, O_SNAPSHOTS},
                                     {"genesis", required_argument, 0, O_GENESIS},
                                     {"max-send-rate", required_argument, 0, O_MAX_SEND_RATE},
                                     {"history-slots", required_argument, 0, O_HISTORY_SLOTS},
                                     {"history-max", required_argument, 0, O_HISTORY_MAX},
                                     {"threads", required_argument, 0, O_THREADS},
                                     {"max-connections", required_argument, 0, O_MAX_CONN},
                                     {"idle-timeout", required_argument, 0, O_IDLE},
                                     {"max-body", required_argument, 0, O_MAX_BODY},
                                     {"workload-slots", required_argument, 0, O_WL_SLOTS},
                                     {"slot-ms", required_argument, 0, O_SLOT_MS},
                                     {"seed", required_argument, 0, O_SEED},
                                     {"stores-min", required_argument, 0, O_STORES_MIN},
                                     {"stores-max", required_argument, 0, O_STORES_MAX},
                                     {"root-lag", required_argument, 0, O_ROOT_LAG},
                                     {"snapshot-every-slots", required_argument, 0, O_SNAP_EVERY},
                                     {"incremental-every-slots", required_argument, 0, O_INC_EVERY},
                                     {"exit-after-workload", no_argument, 0, O_EXIT_AFTER},
                                     {"index-bins", required_argument, 0, O_INDEX_BINS},
                                     {"write-cache", required_argument, 0, O_WRITE_CACHE},
                                     {"read-cache", required_argument, 0, O_READ_CACHE},
                                     {"shrink-ratio", required_argument, 0, O_SHRINK},
                                     {"owner-index", no_argument, 0, O_OWNER_INDEX},
                                     {"no-background", no_argument, 0, O_NO_BG},
                                     {"config", required_argument, 0, O_CONFIG},
                                     {"quiet", no_argument, 0, O_QUIET},
                                     {"help", no_argument, 0, O_HELP},
                                     {0, 0, 0, 0}};

#define SLOTS_MAX (1ull << 40)
#define CACHE_MAX (16ull << 40)
#define CFG_MAX   32
#define U(x)      ((unsigned long long)(x))
#define NO_FULL   UINT64_MAX

typedef struct args {
    char const            *dir;
    acctdb_server_opts_t   so;
    acctdb_workload_opts_t wl;
    uint64_t               snap_every, inc_every;
    bool                   exit_after, quiet;
    char                   cfg[CFG_MAX][600];
    char const            *cfg_flag[CFG_MAX];
    size_t                 cfg_cnt;
} args_t;

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A database option as one acctdb.conf line. */
static int
add_cfg(args_t *a, char const *flag, char const *key, char const *v) {
    if (a->cfg_cnt == CFG_MAX) {
        fprintf(stderr, "acctdb serve: more than %d database options\n", CFG_MAX);
        return 2;
    }
    if (strchr(v, '\n') || strchr(v, '#') || strlen(v) > 500) {
        fprintf(stderr, "acctdb serve: %s: the value holds a newline or '#', or is too long\n",
                flag);
        return 2;
    }
    if (key)
        snprintf(a->cfg[a->cfg_cnt], sizeof a->cfg[0], "%s = %s", key, v);
    else
        snprintf(a->cfg[a->cfg_cnt], sizeof a->cfg[0], "%s", v);
    a->cfg_flag[a->cfg_cnt++] = flag;
    return 0;
}

static int
add_cfg_u64(args_t *a, char const *flag, char const *key, uint64_t v) {
    char num[24];
    snprintf(num, sizeof num, "%llu", U(v));
    return add_cfg(a, flag, key, num);
}

/* Returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, args_t *a) {
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", g_lo, NULL)) != -1 || optind < argc) {
        if (c == -1) {
            if (a->dir) {
                fprintf(stderr, "acctdb serve: one DIR only ('%s' is extra)\n", argv[optind]);
                return 2;
            }
            a->dir = argv[optind++];
            continue;
        }
        if (c == '?' || c == ':') {
            char const *bad = argv[optind - 1];
            if (optopt > 0 && optopt <= O_HELP && strchr(bad, '='))
                fprintf(stderr, "acctdb serve: %s takes no value\n", bad);
            else if (optopt > 0 && optopt <= O_HELP)
                fprintf(stderr, "acctdb serve: %s needs a value\n", bad);
            else
                fprintf(stderr, "acctdb serve: unknown option '%s'\n", bad);
            fprintf(stderr, "(acctdb serve --help for the options)\n");
            return 2;
        }
        char flag[40];
        for (size_t i = 0; g_lo[i].name; i++)
            if (g_lo[i].val == c) snprintf(flag, sizeof flag, "--%s", g_lo[i].name);
        uint64_t v = 0;
        double   f = 0;
        int      st = 0;
        switch (c) {
        case O_HELP:
            fputs(USAGE, stdout);
            return 0;
        case O_RPC_ADDR:
            a->so.addr = optarg;
            break;
        case O_SNAPSHOTS:
            a->so.snapshot_dir = optarg;
            break;
        case O_GENESIS:
            a->so.genesis_path = optarg;
            break;
        case O_MAX_SEND_RATE:
            st = tool_arg_size(flag, optarg, 1, 0, 1ull << 40, &a->so.max_send_rate);
            break;
        case O_HISTORY_SLOTS:
            if (!(st = tool_arg_u64(flag, "a slot count", optarg, 1, 1000000, &v)))
                a->so.history_slots = (uint32_t)v;
            break;
        case O_HISTORY_MAX:
            st = tool_arg_size(flag, optarg, 1ull << 20, 1ull << 20, 1ull << 40,
                               &a->so.history_max_sz);
            break;
        case O_THREADS:
            if (!(st = tool_arg_u64(flag, "a number", optarg, 0, TOOL_THREADS_MAX, &v)))
                a->so.threads = (unsigned)v;
            break;
        case O_MAX_CONN:
            if (!(st = tool_arg_u64(flag, "a count", optarg, 1, 65536, &v)))
                a->so.max_connections = (uint32_t)v;
            break;
        case O_IDLE:
            if (!(st = tool_arg_u64(flag, "a number of seconds", optarg, 1, 86400, &v)))
                a->so.idle_timeout_s = (uint32_t)v;
            break;
        case O_MAX_BODY:
            st = tool_arg_size(flag, optarg, 1, 1, 64ull << 20, &a->so.max_body_sz);
            break;
        case O_WL_SLOTS:
            st = tool_arg_u64(flag, "a slot count", optarg, 0, SLOTS_MAX, &a->wl.slots);
            break;
        case O_SLOT_MS:
            if (!(st = tool_arg_u64(flag, "a number of milliseconds", optarg, 0, 600000, &v)))
                a->wl.slot_us = (uint32_t)(v * 1000);
            break;
        case O_SEED:
            st = tool_arg_u64(flag, "a number", optarg, 0, UINT64_MAX, &a->wl.seed);
            break;
        case O_STORES_MIN:
        case O_STORES_MAX:
            if (!(st = tool_arg_u64(flag, "a count", optarg, 0, 1000000, &v))) {
                if (c == O_STORES_MIN)
                    a->wl.stores_min = (uint32_t)v;
                else
                    a->wl.stores_max = (uint32_t)v;
            }
            break;
        case O_ROOT_LAG:
            if (!(st = tool_arg_u64(flag, "a count", optarg, 0, 100000, &v)))
                a->wl.root_lag = (uint32_t)v;
            break;
        case O_SNAP_EVERY:
            st = tool_arg_u64(flag, "a slot count", optarg, 1, SLOTS_MAX, &a->snap_every);
            break;
        case O_INC_EVERY:
            st = tool_arg_u64(flag, "a slot count", optarg, 1, SLOTS_MAX, &a->inc_every);
            break;
        case O_EXIT_AFTER:
            a->exit_after = true;
            break;
        case O_INDEX_BINS:
            if ((st = tool_arg_u64(flag, "a power of two", optarg, 1, 1u << 20, &v))) break;
            if (v & (v - 1)) {
                fprintf(stderr, "acctdb: %s: '%s' is not a power of two from 1 to 1048576\n", flag,
                        optarg);
                return 2;
            }
            st = add_cfg_u64(a, flag, "index_bins", v);
            break;
        case O_WRITE_CACHE:
            if (!(st = tool_arg_size(flag, optarg, 1ull << 20, 1ull << 20, CACHE_MAX, &v)))
                st = add_cfg_u64(a, flag, "write_cache_max_sz", v);
            break;
        case O_READ_CACHE:
            if (!(st = tool_arg_size(flag, optarg, 1ull << 20, 0, CACHE_MAX, &v)))
                st = add_cfg_u64(a, flag, "read_cache_max_sz", v);
            break;
        case O_SHRINK:
            if (!(st = tool_arg_double(flag, "a fraction", optarg, 0.0, 1.0, &f)))
                st = add_cfg(a, flag, "shrink_ratio", optarg);
            break;
        case O_OWNER_INDEX:
            break; /* always on */
        case O_NO_BG:
            st = add_cfg(a, flag, "background", "false");
            break;
        case O_CONFIG:
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "acctdb serve: --config '%s': expected KEY=VALUE\n", optarg);
                return 2;
            }
            st = add_cfg(a, flag, NULL, optarg);
            break;
        case O_QUIET:
            a->quiet = true;
            break;
        }
        if (st) return st;
    }
    return -1;
}

static int
make_config(args_t const *a, acctdb_db_config_t *cfg) {
    char msg[1024];
    acctdb_db_config_default(cfg);
    int rc = acctdb_db_config_read(cfg, a->dir, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "acctdb serve: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        return 2;
    }
    cfg->owner_index = true;
    for (size_t i = 0; i < a->cfg_cnt; i++) {
        if ((rc = acctdb_db_config_parse(cfg, a->cfg[i], msg, sizeof msg))) {
            char const *m = strncmp(msg, "line 1: ", 8) ? msg : msg + 8;
            fprintf(stderr, "acctdb serve: %s: %s\n", a->cfg_flag[i], m);
            return 2;
        }
    }
    if (!cfg->owner_index) {
        fprintf(stderr, "acctdb serve: the server needs the owner index (getProgramAccounts, "
                        "token queries); owner_index cannot be false\n");
        return 2;
    }
    return 0;
}

/* ---- the snapshot thread ------------------------------------------------------------ */

typedef struct snapper {
    acctdb_db_t    *db;
    char const     *dir;
    uint64_t        every, inc_every;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    bool            stop;
    uint64_t        fulls, incs, errors;
} snapper_t;

/* Writes one snapshot and prints its name; false (said on stderr) if it
 * failed. */
static bool
snap_one(snapper_t *sn, bool inc) {
    char   path[4096];
    double t0 = now_s();
    int    rc = acctdb_db_snapshot(sn->db, sn->dir, inc, path);
    double dt = now_s() - t0;
    if (rc == ACCTDB_ERR_STOPPED) {
        /* A signal interrupted it between two account files: its temporary
         * is gone and nothing was registered; not an error. */
        printf("snapshot: %s stopped after %.2f s (%s)\n", inc ? "incremental" : "full", dt,
               tool_stop_name());
        fflush(stdout);
        return false;
    }
    if (rc) {
        fprintf(stderr, "acctdb serve: %s snapshot: %s\n", inc ? "incremental" : "full",
                acctdb_db_errmsg(sn->db));
        sn->errors++;
        return false;
    }
    char const *base = strrchr(path, '/');
    printf("snapshot: %s %s (%.2f s)\n", inc ? "incremental" : "full", base ? base + 1 : path, dt);
    fflush(stdout);
    if (inc)
        sn->incs++;
    else
        sn->fulls++;
    return true;
}

/* The archive's slot from a path ".../[incremental-]snapshot-[BASE-]SLOT-HASH.tar.*". */
static uint64_t
name_slot(char const *path) {
    char const *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (!strncmp(b, "incremental-", 12)) {
        b = strchr(b + 21, '-');
        if (!b) return NO_FULL;
        b++;
    } else {
        b += 9;
    }
    return strtoull(b, NULL, 10);
}

static void *
snapper_main(void *arg) {
    snapper_t        *sn = arg;
    acctdb_db_stats_t st;
    acctdb_db_stats(sn->db, &st);
    uint64_t root = acctdb_db_root_slot(sn->db, NULL);
    /* full_ref: the root of the last full snapshot tried; inc_ref: of the
     * last snapshot of either kind tried.  A failure waits for the next
     * interval, like a success. */
    uint64_t full_ref = root, inc_ref = root;
    bool     has_full = false;
    /* A full snapshot at once, unless the newest in the directory is this
     * database's last one and at its root already. */
    char full[4096], inc[4096];
    if (st.last_full_snapshot_slot == root &&
        !acctdb_snapshot_find(sn->dir, full, sizeof full, inc, sizeof inc, NULL, 0) &&
        name_slot(full) == root)
        has_full = true;
    else
        has_full = snap_one(sn, false);
    pthread_mutex_lock(&sn->mu);
    while (!sn->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&sn->cv, &sn->mu, &ts);
        if (sn->stop) break;
        pthread_mutex_unlock(&sn->mu);
        root = acctdb_db_root_slot(sn->db, NULL);
        bool want_full = sn->every ? root >= full_ref + sn->every
                                   : !has_full && root >= full_ref + sn->inc_every;
        if (want_full) {
            full_ref = inc_ref = root;
            if (snap_one(sn, false)) has_full = true;
        } else if (sn->inc_every && has_full && root >= inc_ref + sn->inc_every) {
            inc_ref = root;
            snap_one(sn, true);
        }
        pthread_mutex_lock(&sn->mu);
    }
    pthread_mutex_unlock(&sn->mu);
    return NULL;
}

/* ---- the command ---------------------------------------------------------------- */

int
cmd_serve(int argc, char **argv) {
    args_t *a = calloc(1, sizeof *a);
    if (!a) return tool_fail(-ENOMEM, "serve");
    acctdb_server_opts_default(&a->so);
    acctdb_workload_opts_default(&a->wl);
    a->wl.slot_us = 400000;
    int status = parse_args(argc, argv, a);
    if (status >= 0) {
        free(a);
        return status;
    }
    if (!a->dir) {
        fprintf(stderr, "acctdb serve: missing DIR (acctdb serve --help)\n");
        free(a);
        return 2;
    }
    if ((a->snap_every || a->inc_every) && !a->so.snapshot_dir) {
        fprintf(stderr, "acctdb serve: --snapshot-every-slots and --incremental-every-slots "
                        "need --snapshots ARCHIVE_DIR\n");
        free(a);
        return 2;
    }
    if (a->so.snapshot_dir) {
        struct stat st;
        if (stat(a->so.snapshot_dir, &st)) {
            if (errno != ENOENT || mkdir(a->so.snapshot_dir, 0755)) {
                fprintf(stderr, "acctdb serve: --snapshots %s: %s\n", a->so.snapshot_dir,
                        strerror(errno));
                free(a);
                return 2;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            fprintf(stderr, "acctdb serve: --snapshots %s is not a directory\n",
                    a->so.snapshot_dir);
            free(a);
            return 2;
        }
    }
    acctdb_db_config_t cfg;
    if ((status = make_config(a, &cfg))) {
        free(a);
        return status;
    }

    tool_stop_install();
    signal(SIGPIPE, SIG_IGN);

    char         msg[1024];
    acctdb_db_t *db = NULL;
    int          rc = acctdb_db_open(&db, a->dir, &cfg, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "acctdb serve: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        if (rc == ACCTDB_ERR_NOT_FOUND)
            fprintf(stderr, "(is %s a database? acctdb db create makes one)\n", a->dir);
        free(a);
        return rc == ACCTDB_ERR_BUSY ? 3 : 2;
    }
    tool_stop_watch(db);
    bool             quit = false; /* --exit-after-workload, or a failure */
    acctdb_server_t *srv = NULL;
    rc = acctdb_server_start(&srv, db, &a->so, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "acctdb serve: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        acctdb_db_close(db);
        free(a);
        return 2;
    }
    /* The host part of the address as given, the port as bound. */
    char        host[80];
    char const *colon = strrchr(a->so.addr, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - a->so.addr), a->so.addr);
    printf("listening: http://%s:%u\n", host, (unsigned)acctdb_server_port(srv));
    fflush(stdout);

    snapper_t sn = {
        .db = db, .dir = a->so.snapshot_dir, .every = a->snap_every, .inc_every = a->inc_every};
    pthread_t snap_thread;
    bool      has_snapper = false;
    pthread_mutex_init(&sn.mu, NULL);
    pthread_cond_init(&sn.cv, NULL);
    if (a->snap_every || a->inc_every) {
        if (pthread_create(&snap_thread, NULL, snapper_main, &sn)) {
            fprintf(stderr, "acctdb serve: cannot start the snapshot thread\n");
            status = 2;
            quit = true;
        } else {
            has_snapper = true;
        }
    }

    if (a->wl.slots && !quit && !tool_stop_sig) {
        acctdb_workload_opts_t o = a->wl;
        o.stop = &tool_stop_sig;
        if (!cfg.background) o.service_every = 8;
        acctdb_workload_result_t r;
        rc = acctdb_db_workload(db, &o, &r);
        if (rc) {
            fprintf(stderr, "acctdb serve: %s\n", acctdb_db_errmsg(db));
            status = 2;
        } else if (!a->quiet) {
            double s = r.seconds > 0 ? r.seconds : 1e-9;
            printf("workload: %llu slots (%llu rooted), %llu stores, %.1f slots/s, %.0f "
                   "stores/s, root %llu%s\n",
                   U(r.slots_created), U(r.slots_rooted), U(r.stores), (double)r.slots_created / s,
                   (double)r.stores / s, U(r.root_slot), tool_stop_sig ? " (stopped)" : "");
            fflush(stdout);
        }
        if (a->exit_after || rc) quit = true;
    }
    while (!quit && !tool_stop_sig) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }

    if (has_snapper) {
        pthread_mutex_lock(&sn.mu);
        sn.stop = true;
        pthread_cond_signal(&sn.cv);
        pthread_mutex_unlock(&sn.mu);
        pthread_join(snap_thread, NULL);
        if (sn.errors) status = 2;
    }
    pthread_mutex_destroy(&sn.mu);
    pthread_cond_destroy(&sn.cv);
    acctdb_server_stats_t ss;
    acctdb_server_stats(srv, &ss);
    acctdb_server_stop(srv);
    printf("served:               %llu requests, %llu archives sent, %llu snapshots written\n",
           U(ss.requests), U(ss.archives_sent), U(sn.fulls + sn.incs));
    int st = tool_shutdown(db, "serve");
    if (!status) status = st;
    free(a);
    if (fflush(stdout) != 0) return tool_fail(0, "writing output failed");
    return status;
}
