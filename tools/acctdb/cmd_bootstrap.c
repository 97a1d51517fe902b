/* tools/acctdb/cmd_bootstrap.c - `acctdb bootstrap`: a thin layer over
 * acctdb_bootstrap, with a progress bar (peer, bytes, rate, ETA), the log
 * lines as they happen, and a summary. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_BUSY   3
#define PEERS_MAX   256
#define KNOWN_MAX   4096
#define RATE_MAX    (1ull << 40) /* 1 TiB/s */
#define TIMEOUT_MAX 600

static char const USAGE[] =
    "usage: acctdb bootstrap --peer URL [--peer URL ...] --dir DIR [options]\n"
    "\n"
    "Creates a database at DIR (absent or empty) from the best peer's snapshots:\n"
    "probes every peer (HEAD of /snapshot.tar.bz2 and /incremental-snapshot.tar.bz2,\n"
    "whose 303 must name an archive by a relative Location, and getHighestSnapshotSlot),\n"
    "prefers the highest full snapshot and then the fastest peer (a short Range read),\n"
    "downloads the full archive and then the newest incremental on it, checking each\n"
    "as it arrives, and creates the database with every check of acctdb snapshot\n"
    "verify.  A peer slower than --min-speed, or one whose archive fails, is dropped\n"
    "for the run and the next one is tried; each peer is tried a bounded number of\n"
    "times.\n"
    "\n"
    "options:\n"
    "  --peer URL              a peer, http://HOST:PORT (repeat; at most 256)\n"
    "  --dir DIR               the database to create\n"
    "  --known-hash SLOT:HASH  a trusted snapshot hash (repeat).  Any archive a peer\n"
    "                          offers for that slot with another hash, two known hashes\n"
    "                          that disagree, or a verified lattice checksum that\n"
    "                          differs, stops the bootstrap with nothing created (exit 1)\n"
    "  --min-speed RATE        drop a peer whose rate over the window stays below RATE\n"
    "                          (default 0: none).  RATE is bytes per second with an\n"
    "                          optional K, M, G or T (powers of 1024), which may be\n"
    "                          followed by \"iB\", and then \"/s\": 8M, 8MiB and 8MiB/s\n"
    "                          are the same; up to 1T\n"
    "  --min-speed-window S    the window, 1 to 600 seconds (5); judged from half a\n"
    "                          window after a 1 s warm-up, and a peer goes only when\n"
    "                          the rate stayed low for a fifth of the window (at least\n"
    "                          1 s) more\n"
    "  --connect-timeout S     connect timeout, 1 to 600 seconds (10); the answer must\n"
    "                          then start within max(S, 10) s, and a download that gets\n"
    "                          no byte for 30 s (or the window, if longer) is cut\n"
    "  --archives DIR          where archives are downloaded (default: DIR.archives,\n"
    "                          next to DIR); the downloads stay there\n"
    "  --threads N             load workers, 0 to 1024 (0: all CPUs)\n"
    "  --quiet                 no progress bar and no log lines (errors still print)\n"
    "\n"
    "The log goes to stderr, the summary to stdout.\n"
    "exit status: 0 created; 1 a known hash disagrees (nothing created); 2 bad usage,\n"
    "no peer qualified (the message counts the discarded peers by reason), or an\n"
    "error; 3 DIR is in use by another opener.\n";

/* ---- the bar -------------------------------------------------------------- */

typedef struct bar {
    bool     on, drawn, quiet;
    char     what[64];  /* "download" or "load" */
    char     name[160]; /* the archive */
    char     peer[256];
    double   t0, last, rate_t, rate;
    uint64_t rate_done;
} bar_t;

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void
bar_clear(bar_t *b) {
    if (b->drawn) fputs("\r\033[K", stderr);
    b->drawn = false;
}

/* "full 1379" or "inc 1381" from an archive name (the bar stays under 80
 * columns); the name itself when it is neither. */
static void
label(char const *name, char *out, size_t max) {
    unsigned long long a, c;
    if (sscanf(name, "incremental-snapshot-%llu-%llu-", &a, &c) == 2)
        snprintf(out, max, "inc %llu", c);
    else if (sscanf(name, "snapshot-%llu-", &a) == 1)
        snprintf(out, max, "full %llu", a);
    else
        snprintf(out, max, "%.24s", name);
}

static void
bar_reset(bar_t *b, char const *what, char const *name, char const *peer) {
    snprintf(b->what, sizeof b->what, "%s", what);
    snprintf(b->name, sizeof b->name, "%s", name);
    if (!strncmp(peer, "http://", 7)) peer += 7;
    snprintf(b->peer, sizeof b->peer, "%s", peer);
    b->t0 = b->last = b->rate_t = 0;
    b->rate = 0;
    b->rate_done = 0;
}

static char const *
base(char const *path) {
    char const *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The library's progress: ("download", bytes, total) for the transfer the
 * last "downloading ..." line named, and the load's (archive path, bytes
 * read, total). */
static void
on_progress(void *ctx, char const *what, uint64_t done, uint64_t total) {
    bar_t *b = ctx;
    if (!b->on) return;
    bool is_dl = !strcmp(what, "download");
    if (!is_dl && (strcmp(b->what, "load") || strcmp(b->name, base(what))))
        bar_reset(b, "load", base(what), "");
    double t = now_s();
    if (b->t0 == 0) {
        b->t0 = b->rate_t = t;
        b->rate_done = done;
    } else if (done < total && t - b->last < 0.2) {
        return;
    }
    /* The rate over about the last two seconds (what the speed check
     * sees), the ETA from it. */
    if (t - b->rate_t >= 2.0 || b->rate == 0) {
        if (t > b->rate_t && done >= b->rate_done)
            b->rate = (double)(done - b->rate_done) / (t - b->rate_t);
        if (t - b->rate_t >= 2.0) {
            b->rate_t = t;
            b->rate_done = done;
        }
    }
    double eta = b->rate > 0 && total > done ? (double)(total - done) / b->rate : 0;
    int    pct = total ? (int)(100.0 * (double)done / (double)total) : 0;
    char   fill[11], lab[32];
    for (int i = 0; i < 10; i++)
        fill[i] = i < pct / 10 ? '#' : '.';
    fill[10] = 0;
    label(b->name, lab, sizeof lab);
    fprintf(stderr, "\r\033[K%s %s%s%.24s [%s] %3d%% %.1f/%.1f MiB %.1f MiB/s ETA %.0fs", b->what,
            lab, b->peer[0] ? " from " : "", b->peer, fill, pct, (double)done / 1048576.0,
            (double)total / 1048576.0, b->rate / 1048576.0, eta);
    b->drawn = true;
    b->last = t;
    if (done >= total) bar_clear(b);
}

static void
on_log(void *ctx, char const *line) {
    bar_t *b = ctx;
    if (b->quiet) return;
    bar_clear(b);
    fprintf(stderr, "bootstrap: %s\n", line);
    /* "downloading NAME[ (SIZE)] from PEER": what the bar shows next */
    if (!strncmp(line, "downloading ", 12)) {
        char const *from = strstr(line, " from ");
        char        name[160];
        size_t      n = strcspn(line + 12, " ");
        snprintf(name, sizeof name, "%.*s", (int)n, line + 12);
        bar_reset(b, "download", name, from ? from + 6 : "");
    }
}

/* ---- options --------------------------------------------------------------- */

/* RATE: a size (tool_arg_size: bytes, or a K, M, G, T suffix) whose
 * suffix may be followed by "iB", then an optional "/s".  A refusal
 * prints the value as typed. */
static bool
rate_ok(char const *s, size_t n) {
    uint64_t v = 0, mul = 1;
    if (n && strchr("KMGTkmgt", s[n - 1])) {
        char c = s[--n];
        mul = 1ull << (10 * (strchr("KMGT", c) ? strchr("KMGT", c) - "KMGT" + 1
                                               : strchr("kmgt", c) - "kmgt" + 1));
    }
    if (!n) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > RATE_MAX) return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v <= RATE_MAX / mul;
}

static int
arg_rate(char const *opt, char const *s, uint64_t *out) {
    char   buf[64];
    size_t n = s ? strlen(s) : 0;
    if (!s || n >= sizeof buf) return tool_arg_size(opt, s, 1, 0, RATE_MAX, out);
    memcpy(buf, s, n + 1);
    if (n >= 2 && !strcmp(buf + n - 2, "/s")) buf[n -= 2] = 0;
    if (n >= 3 && !strcmp(buf + n - 2, "iB") && strchr("KMGTkmgt", buf[n - 3])) buf[n -= 2] = 0;
    if (!strcmp(buf, s) || !rate_ok(buf, n)) return tool_arg_size(opt, s, 1, 0, RATE_MAX, out);
    return tool_arg_size(opt, buf, 1, 0, RATE_MAX, out);
}

enum {
    O_PEER = 256,
    O_DIR,
    O_KNOWN,
    O_MIN_SPEED,
    O_WINDOW,
    O_CONNECT,
    O_ARCHIVES,
    O_THREADS,
    O_QUIET,
    O_HELP,
};

static struct option const g_opts[] = {
    {"peer", required_argument, NULL, O_PEER},
    {"dir", required_argument, NULL, O_DIR},
    {"known-hash", required_argument, NULL, O_KNOWN},
    {"min-speed", required_argument, NULL, O_MIN_SPEED},
    {"min-speed-window", required_argument, NULL, O_WINDOW},
    {"connect-timeout", required_argument, NULL, O_CONNECT},
    {"archives", required_argument, NULL, O_ARCHIVES},
    {"threads", required_argument, NULL, O_THREADS},
    {"quiet", no_argument, NULL, O_QUIET},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

int
cmd_bootstrap(int argc, char **argv) {
    char const *peers[PEERS_MAX], *known[KNOWN_MAX];
    size_t      peer_cnt = 0, known_cnt = 0;
    char const *dir = NULL, *archives = NULL;
    uint64_t    min_speed = 0, window = 5, connect = 10, threads = 0;
    bool        quiet = false, has_threads = false;
    int         c, st = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", g_opts, NULL)) != -1) {
        switch (c) {
        case O_PEER:
            if (peer_cnt == PEERS_MAX) {
                fprintf(stderr, "acctdb bootstrap: more than %d --peer\n", PEERS_MAX);
                return 2;
            }
            peers[peer_cnt++] = optarg;
            break;
        case O_KNOWN:
            if (known_cnt == KNOWN_MAX) {
                fprintf(stderr, "acctdb bootstrap: more than %d --known-hash\n", KNOWN_MAX);
                return 2;
            }
            known[known_cnt++] = optarg;
            break;
        case O_DIR:
            dir = optarg;
            break;
        case O_ARCHIVES:
            archives = optarg;
            break;
        case O_MIN_SPEED:
            st = arg_rate("--min-speed", optarg, &min_speed);
            break;
        case O_WINDOW:
            st = tool_arg_u64("--min-speed-window", "a number of seconds", optarg, 1, TIMEOUT_MAX,
                              &window);
            break;
        case O_CONNECT:
            st = tool_arg_u64("--connect-timeout", "a number of seconds", optarg, 1, TIMEOUT_MAX,
                              &connect);
            break;
        case O_THREADS:
            st = tool_arg_u64("--threads", "a number", optarg, 0, TOOL_THREADS_MAX, &threads);
            has_threads = true;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case 'h':
        case O_HELP:
            fputs(USAGE, stdout);
            return 0;
        case ':':
            fprintf(stderr, "acctdb: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "acctdb bootstrap: unknown option '%s'\n%s", argv[optind - 1], USAGE);
            return 2;
        }
        if (st) return st;
    }
    if (optind < argc) {
        fprintf(stderr, "acctdb bootstrap: unexpected argument '%s'\n%s", argv[optind], USAGE);
        return 2;
    }
    if (!peer_cnt || !dir) {
        fprintf(stderr, "acctdb bootstrap: %s\n%s",
                !peer_cnt ? "give at least one --peer" : "give --dir", USAGE);
        return 2;
    }

    acctdb_db_config_t cfg;
    char               msg[2048];
    acctdb_db_config_default(&cfg);
    if (has_threads) cfg.threads = (unsigned)threads;
    bar_t                   bar = {.on = !quiet && isatty(2), .quiet = quiet};
    acctdb_bootstrap_opts_t o = {
        .peers = peers,
        .peer_cnt = peer_cnt,
        .known_hashes = known,
        .known_hash_cnt = known_cnt,
        .min_speed = min_speed,
        .min_speed_window_s = (uint32_t)window,
        .connect_timeout_s = (uint32_t)connect,
        .dir = dir,
        .archive_dir = archives,
        .cfg = &cfg,
        .progress = on_progress,
        .progress_ctx = &bar,
        .log = on_log,
        .log_ctx = &bar,
        .stop = &tool_stop_sig,
    };
    tool_stop_install();
    acctdb_bootstrap_result_t res;
    int                       rc = acctdb_bootstrap(&o, &res, msg, sizeof msg);
    bar_clear(&bar);
    if (rc == ACCTDB_ERR_STOPPED && tool_stop_sig)
        return tool_stopped_create("bootstrap", msg,
                                   "no database; archives already downloaded in full are kept, "
                                   "partial downloads removed");
    if (rc) {
        fprintf(stderr, "acctdb bootstrap: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        return rc == ACCTDB_ERR_MISMATCH ? 1 : rc == ACCTDB_ERR_BUSY ? EXIT_BUSY : 2;
    }
    printf("database:       %s\n", dir);
    printf("peer:           %s\n", res.peer);
    printf("full snapshot:  %s (slot %llu)\n", res.full_path, (unsigned long long)res.full_slot);
    if (res.inc_slot)
        printf("incremental:    %s (slot %llu)\n", res.inc_path, (unsigned long long)res.inc_slot);
    else
        printf("incremental:    none\n");
    printf("downloaded:     %.1f MiB\n", (double)res.bytes / 1048576.0);
    printf("peers:          %llu tried, %llu dropped\n", (unsigned long long)res.peers_tried,
           (unsigned long long)res.peers_dropped);
    printf("time:           %.2f s (probe, download, verify, create)\n", res.seconds);
    if (fflush(stdout) != 0) return tool_fail(0, "writing output failed");
    return 0;
}
