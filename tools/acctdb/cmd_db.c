/* tools/acctdb/cmd_db.c - `acctdb db create|info|verify|get|scan|snapshot|
 * workload`: thin layers over acctdb_db_*. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char const USAGE[] =
    "usage: acctdb db <command> DIR [options]\n"
    "\n"
    "commands:\n"
    "  create DIR --from ARCHIVE [INCREMENTAL] | --from-dir ARCHIVE_DIR | --genesis FILE\n"
    "           a new database (DIR empty or absent) from fully verified archives or\n"
    "           a genesis file\n"
    "  info DIR [--json]\n"
    "           the root bank (slot, hashes, capitalization), the durable root, the last\n"
    "           full snapshot, storages, index and caches\n"
    "  verify DIR\n"
    "           the engine's invariants, and the durable root's lattice hash recomputed\n"
    "           from the account files; exit 0 only if both match\n"
    "  get DIR PUBKEY [--slot S]\n"
    "           one account as JSON (the shape of `acctdb snapshot get`); exit 1 if absent\n"
    "  scan DIR --owner PUBKEY [--limit N] [--cursor PUBKEY] [--data-size N]\n"
    "           [--memcmp OFFSET:BASE58]... [--slot S]\n"
    "           the accounts of an owner as JSON lines, in pubkey order (at most 4\n"
    "           --memcmp); when --limit stopped it and more may follow, a last line\n"
    "           {\"cursor\":\"PUBKEY\"} gives the --cursor to continue with\n"
    "  snapshot DIR --out ARCHIVE_DIR [--incremental]\n"
    "           a full snapshot of the root (or an incremental one on the last full\n"
    "           snapshot this database wrote), then retention in ARCHIVE_DIR\n"
    "  workload DIR --slots N [--forks F] [--seed X] [--stores-min A] [--stores-max B]\n"
    "           [--loads-per-store K] [--new-frac F] [--close-frac F] [--fork-frac F]\n"
    "           [--root-lag L] [--known-max K]\n"
    "           a synthetic validator load from the root: N banks (bank_begin, stores,\n"
    "           freeze), forks, roots root-lag banks behind (defaults: forks 1,\n"
    "           seed 0, 2000..5000 stores, 0.1 new, 0.01 closed, 0.1 forks, lag 32)\n"
    "           ranges: slots 0..2^40, forks 1..64, stores 0..1000000, loads 0..1000,\n"
    "           fractions 0..1, root-lag 0..100000, known-max 16..67108864\n"
    "\n"
    "database options (applied after DIR/acctdb.conf, in the order given; they\n"
    "last for this run only):\n"
    "  --index-bins N         index bins, a power of two up to 1048576 (8192)\n"
    "  --write-cache SIZE     write cache budget, 1M to 16T (1G); a bare number is\n"
    "                         MiB, or use a K, M, G, T suffix\n"
    "  --read-cache SIZE      read cache, 0 to 16T (64M); 0 disables\n"
    "  --index-ram SIZE       the index on disk (DIR/index.d) with SIZE of RAM as its\n"
    "                         cache, 1M to 16T (index_ram_bytes; index_disk = true\n"
    "                         without a limit); keep it in DIR/acctdb.conf, since\n"
    "                         an open without it rebuilds the index in RAM\n"
    "  --shrink-ratio R       rewrite account files whose live share falls below R,\n"
    "                         0 to 1 (0.8)\n"
    "  --owner-index          keep the owner index (owner -> pubkeys; built at open)\n"
    "  --no-owner-index       no owner index (scan then fails; workload then only\n"
    "                         updates the accounts it creates)\n"
    "  --no-background        no service threads (workload then steps them itself)\n"
    "  --threads N            load workers for create, 0 to 1024 (0: all CPUs)\n"
    "  --config KEY=VALUE     any acctdb.conf key (see include/acctdb.h)\n"
    "  --quiet                no progress bar\n"
    "scan and workload turn the owner index on (off by default otherwise); info,\n"
    "verify, get and scan never start the service threads.\n"
    "\n"
    "exit status: 0 ok; 1 a negative answer (verification mismatch, absent account);\n"
    "2 bad usage or input, or an error; 3 the database is in use (another process\n"
    "or handle holds DIR/LOCK).\n";

enum { EXIT_BUSY = 3 };

enum sub { S_CREATE, S_INFO, S_VERIFY, S_GET, S_SCAN, S_SNAPSHOT, S_WORKLOAD, S_CNT };
static char const *const g_sub_names[S_CNT] = {"create", "info",     "verify",  "get",
                                               "scan",   "snapshot", "workload"};

/* Options: each names the subcommands that accept it. */
enum opt {
    O_FROM = 1,
    O_FROM_DIR,
    O_GENESIS,
    O_JSON,
    O_SLOT,
    O_OWNER,
    O_LIMIT,
    O_CURSOR,
    O_DATA_SIZE,
    O_MEMCMP,
    O_OUT,
    O_INCREMENTAL,
    O_SLOTS,
    O_FORKS,
    O_SEED,
    O_STORES_MIN,
    O_STORES_MAX,
    O_LOADS,
    O_NEW_FRAC,
    O_CLOSE_FRAC,
    O_FORK_FRAC,
    O_ROOT_LAG,
    O_KNOWN_MAX,
    O_INDEX_BINS,
    O_WRITE_CACHE,
    O_READ_CACHE,
    O_INDEX_RAM,
    O_SHRINK,
    O_NO_OWNER,
    O_OWNER_INDEX,
    O_NO_BG,
    O_THREADS,
    O_CONFIG,
    O_QUIET,
    O_HELP,
    O_CNT
};

#define B(s)   (1u << (s))
#define ALL    (B(S_CNT) - 1)
#define OPENED (ALL & ~B(S_CREATE))

static struct option const g_lo[] = {{"from", required_argument, 0, O_FROM},
                                     {"from-dir", required_argument, 0, O_FROM_DIR},
                                     {"genesis", required_argument, 0, O_GENESIS},
                                     {"json", no_argument, 0, O_JSON},
                                     {"slot", required_argument, 0, O_SLOT},
                                     {"owner", required_argument, 0, O_OWNER},
                                     {"limit", required_argument, 0, O_LIMIT},
                                     {"cursor", required_argument, 0, O_CURSOR},
                                     {"data-size", required_argument, 0, O_DATA_SIZE},
                                     {"memcmp", required_argument, 0, O_MEMCMP},
                                     {"out", required_argument, 0, O_OUT},
                                     {"incremental", no_argument, 0, O_INCREMENTAL},
                                     {"slots", required_argument, 0, O_SLOTS},
                                     {"forks", required_argument, 0, O_FORKS},
                                     {"seed", required_argument, 0, O_SEED},
                                     {"stores-min", required_argument, 0, O_STORES_MIN},
                                     {"stores-max", required_argument, 0, O_STORES_MAX},
                                     {"loads-per-store", required_argument, 0, O_LOADS},
                                     {"new-frac", required_argument, 0, O_NEW_FRAC},
                                     {"close-frac", required_argument, 0, O_CLOSE_FRAC},
                                     {"fork-frac", required_argument, 0, O_FORK_FRAC},
                                     {"root-lag", required_argument, 0, O_ROOT_LAG},
                                     {"known-max", required_argument, 0, O_KNOWN_MAX},
                                     {"index-bins", required_argument, 0, O_INDEX_BINS},
                                     {"write-cache", required_argument, 0, O_WRITE_CACHE},
                                     {"read-cache", required_argument, 0, O_READ_CACHE},
                                     {"index-ram", required_argument, 0, O_INDEX_RAM},
                                     {"shrink-ratio", required_argument, 0, O_SHRINK},
                                     {"no-owner-index", no_argument, 0, O_NO_OWNER},
                                     {"owner-index", no_argument, 0, O_OWNER_INDEX},
                                     {"no-background", no_argument, 0, O_NO_BG},
                                     {"threads", required_argument, 0, O_THREADS},
                                     {"config", required_argument, 0, O_CONFIG},
                                     {"quiet", no_argument, 0, O_QUIET},
                                     {"help", no_argument, 0, O_HELP},
                                     {0, 0, 0, 0}};

static unsigned
opt_subs(int o) {
    switch (o) {
    case O_FROM:
    case O_FROM_DIR:
    case O_GENESIS:
        return B(S_CREATE);
    case O_JSON:
        return B(S_INFO);
    case O_SLOT:
        return B(S_GET) | B(S_SCAN);
    case O_OWNER:
    case O_LIMIT:
    case O_CURSOR:
    case O_DATA_SIZE:
    case O_MEMCMP:
        return B(S_SCAN);
    case O_OUT:
    case O_INCREMENTAL:
        return B(S_SNAPSHOT);
    case O_SLOTS:
    case O_FORKS:
    case O_SEED:
    case O_STORES_MIN:
    case O_STORES_MAX:
    case O_LOADS:
    case O_NEW_FRAC:
    case O_CLOSE_FRAC:
    case O_FORK_FRAC:
    case O_ROOT_LAG:
    case O_KNOWN_MAX:
        return B(S_WORKLOAD);
    default:
        return ALL; /* database options, --quiet, --help */
    }
}

static char const *
opt_name(int o) {
    for (size_t i = 0; g_lo[i].name; i++)
        if (g_lo[i].val == o) return g_lo[i].name;
    return "?";
}

/* ---- parsing helpers ------------------------------------------------------ */

/* The ranges of the numeric options.  Workload: the generator's own limits
 * (acctdb_sim.h); scan: account data is at most 10 MiB, so a larger size or
 * offset could never match; caches: at most 16 TiB. */
#define DATA_MAX      (10ull << 20)
#define WL_SLOTS_MAX  (1ull << 40)
#define WL_FORKS_MAX  64
#define WL_STORES_MAX 1000000
#define WL_LOADS_MAX  1000
#define WL_LAG_MAX    100000
#define WL_KNOWN_MIN  16
#define WL_KNOWN_MAX  (1ull << 26)
#define BINS_MAX      (1ull << 20)
#define CACHE_MAX     (16ull << 40)

/* A pubkey argument, or a message naming the option. */
static int
parse_pubkey(char const *what, char const *s, acctdb_pubkey_t *out) {
    if (acctdb_base58_decode_32(s, out->b) == 0) return 0;
    fprintf(stderr, "acctdb db: %s: '%s' is not a base58 pubkey (32 bytes)\n", what, s);
    return -1;
}

/* A database option as one acctdb.conf line, in the order given. */
typedef struct cfg_arg {
    char const *flag;
    char        line[600];
} cfg_arg_t;

#define CFG_ARGS_MAX 64

typedef struct args {
    enum sub    sub;
    char const *pos[3];
    int         npos;
    char const *from, *from_dir, *genesis, *owner, *cursor, *out;
    bool        json, incremental, quiet, has_slot, has_data_size;
    uint64_t    slot, limit, data_size;
    size_t      memcmp_cnt;
    struct {
        uint64_t off;
        uint8_t  bytes[128];
        size_t   len;
    } memcmp[4];
    acctdb_workload_opts_t wl;
    bool                   has_slots;
    cfg_arg_t              cfg[CFG_ARGS_MAX];
    size_t                 cfg_cnt;
} args_t;

static int
add_cfg(args_t *a, char const *flag, char const *fmt, char const *v) {
    if (a->cfg_cnt == CFG_ARGS_MAX) {
        fprintf(stderr, "acctdb db: more than %d database options\n", CFG_ARGS_MAX);
        return -1;
    }
    if (strchr(v, '\n') || strchr(v, '#') || strlen(v) > 500) {
        fprintf(stderr, "acctdb db: --%s: the value holds a newline or '#', or is too long\n",
                flag);
        return -1;
    }
    cfg_arg_t *c = &a->cfg[a->cfg_cnt++];
    c->flag = flag;
    snprintf(c->line, sizeof c->line, fmt, v);
    return 0;
}

/* A database option checked here, then passed on as "key = value" with
 * the value in plain decimal. */
static int
add_cfg_u64(args_t *a, char const *flag, char const *key, uint64_t v) {
    char fmt[96], num[24];
    snprintf(fmt, sizeof fmt, "%s = %%s", key);
    snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return add_cfg(a, flag, fmt, num) ? 2 : 0;
}

/* Parses everything after the subcommand; returns -1 to go on, else an exit
 * status. */
static int
parse_args(int argc, char **argv, args_t *a) {
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", g_lo, NULL)) != -1 || optind < argc) {
        if (c == -1) { /* a positional argument; options may follow it */
            if (a->npos == 3) {
                fprintf(stderr, "acctdb db %s: too many arguments ('%s')\n", g_sub_names[a->sub],
                        argv[optind]);
                return 2;
            }
            a->pos[a->npos++] = argv[optind++];
            continue;
        }
        if (c == '?' || c == ':') {
            char const *bad = argv[optind - 1];
            if (optopt && optopt < O_CNT && strchr(bad, '='))
                fprintf(stderr, "acctdb db %s: --%s takes no value\n", g_sub_names[a->sub],
                        opt_name(optopt));
            else if (optopt && optopt < O_CNT)
                fprintf(stderr, "acctdb db %s: --%s needs a value\n", g_sub_names[a->sub],
                        opt_name(optopt));
            else
                fprintf(stderr, "acctdb db %s: unknown option '%s'\n", g_sub_names[a->sub], bad);
            fprintf(stderr, "(acctdb db --help for the options)\n");
            return 2;
        }
        if (c == O_HELP) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (!(opt_subs(c) & B(a->sub))) {
            fprintf(stderr, "acctdb db %s: --%s does not apply to this command\n",
                    g_sub_names[a->sub], opt_name(c));
            return 2;
        }
        uint64_t v = 0;
        double   f = 0;
        int      st = 0; /* an exit status from a numeric option */
        char     flag[32];
        snprintf(flag, sizeof flag, "--%s", opt_name(c));
        switch (c) {
        case O_FROM:
            a->from = optarg;
            break;
        case O_FROM_DIR:
            a->from_dir = optarg;
            break;
        case O_GENESIS:
            a->genesis = optarg;
            break;
        case O_JSON:
            a->json = true;
            break;
        case O_SLOT:
            st = tool_arg_u64(flag, "a slot number", optarg, 0, UINT64_MAX, &a->slot);
            a->has_slot = true;
            break;
        case O_OWNER:
            a->owner = optarg;
            break;
        case O_LIMIT:
            st = tool_arg_u64(flag, "a count", optarg, 0, SIZE_MAX, &a->limit);
            break;
        case O_CURSOR:
            a->cursor = optarg;
            break;
        case O_DATA_SIZE:
            st = tool_arg_u64(flag, "a byte count", optarg, 0, DATA_MAX, &a->data_size);
            a->has_data_size = true;
            break;
        case O_MEMCMP: {
            if (a->memcmp_cnt == 4) {
                fprintf(stderr, "acctdb db scan: at most 4 --memcmp filters\n");
                return 2;
            }
            char const *colon = strchr(optarg, ':');
            char        num[32];
            size_t      nl = colon ? (size_t)(colon - optarg) : 0;
            if (!colon || nl == 0 || nl >= sizeof num) {
                fprintf(stderr, "acctdb db scan: --memcmp '%s': expected OFFSET:BASE58BYTES\n",
                        optarg);
                return 2;
            }
            memcpy(num, optarg, nl);
            num[nl] = 0;
            uint64_t off;
            if ((st = tool_arg_u64("--memcmp", "a byte offset", num, 0, DATA_MAX, &off))) return st;
            size_t sz = 0;
            int    rc = acctdb_base58_decode(colon + 1, strlen(colon + 1),
                                             a->memcmp[a->memcmp_cnt].bytes, 128, &sz);
            if (rc || !colon[1]) {
                fprintf(stderr,
                        "acctdb db scan: --memcmp '%s': '%s' is not base58 of 1 to 128 bytes\n",
                        optarg, colon + 1);
                return 2;
            }
            a->memcmp[a->memcmp_cnt].off = off;
            a->memcmp[a->memcmp_cnt].len = sz;
            a->memcmp_cnt++;
            break;
        }
        case O_OUT:
            a->out = optarg;
            break;
        case O_INCREMENTAL:
            a->incremental = true;
            break;
        case O_SLOTS:
            st = tool_arg_u64(flag, "a slot count", optarg, 0, WL_SLOTS_MAX, &a->wl.slots);
            a->has_slots = true;
            break;
        case O_SEED:
            st = tool_arg_u64(flag, "a number", optarg, 0, UINT64_MAX, &a->wl.seed);
            break;
        case O_LOADS:
            st = tool_arg_u64(flag, "a count", optarg, 0, WL_LOADS_MAX, &a->wl.loads_per_store);
            break;
        case O_FORKS:
        case O_STORES_MIN:
        case O_STORES_MAX:
        case O_ROOT_LAG:
        case O_KNOWN_MAX:
            if (c == O_FORKS) st = tool_arg_u64(flag, "a count", optarg, 1, WL_FORKS_MAX, &v);
            if (c == O_STORES_MIN || c == O_STORES_MAX)
                st = tool_arg_u64(flag, "a count", optarg, 0, WL_STORES_MAX, &v);
            if (c == O_ROOT_LAG) st = tool_arg_u64(flag, "a count", optarg, 0, WL_LAG_MAX, &v);
            if (c == O_KNOWN_MAX)
                st = tool_arg_u64(flag, "a count", optarg, WL_KNOWN_MIN, WL_KNOWN_MAX, &v);
            if (st) break;
            if (c == O_FORKS) a->wl.forks = (uint32_t)v;
            if (c == O_STORES_MIN) a->wl.stores_min = (uint32_t)v;
            if (c == O_STORES_MAX) a->wl.stores_max = (uint32_t)v;
            if (c == O_ROOT_LAG) a->wl.root_lag = (uint32_t)v;
            if (c == O_KNOWN_MAX) a->wl.known_max = (uint32_t)v;
            break;
        case O_NEW_FRAC:
        case O_CLOSE_FRAC:
        case O_FORK_FRAC:
            if ((st = tool_arg_double(flag, "a fraction", optarg, 0.0, 1.0, &f))) break;
            if (c == O_NEW_FRAC) a->wl.new_account_frac = f;
            if (c == O_CLOSE_FRAC) a->wl.close_frac = f;
            if (c == O_FORK_FRAC) a->wl.fork_frac = f;
            break;
        case O_INDEX_BINS:
            if ((st = tool_arg_u64(flag, "a power of two", optarg, 1, BINS_MAX, &v))) break;
            if (v & (v - 1)) {
                fprintf(stderr, "acctdb: %s: '%s' is not a power of two from 1 to %llu\n", flag,
                        optarg, (unsigned long long)BINS_MAX);
                return 2;
            }
            st = add_cfg_u64(a, "index-bins", "index_bins", v);
            break;
        case O_WRITE_CACHE:
            if (!(st = tool_arg_size(flag, optarg, 1ull << 20, 1ull << 20, CACHE_MAX, &v)))
                st = add_cfg_u64(a, "write-cache", "write_cache_max_sz", v);
            break;
        case O_READ_CACHE:
            if (!(st = tool_arg_size(flag, optarg, 1ull << 20, 0, CACHE_MAX, &v)))
                st = add_cfg_u64(a, "read-cache", "read_cache_max_sz", v);
            break;
        case O_INDEX_RAM:
            if (!(st = tool_arg_size(flag, optarg, 1ull << 20, 1ull << 20, CACHE_MAX, &v)))
                st = add_cfg_u64(a, "index-ram", "index_ram_bytes", v);
            break;
        case O_SHRINK:
            /* Checked, then passed on as written (strtod reads it the same). */
            if (!(st = tool_arg_double(flag, "a fraction", optarg, 0.0, 1.0, &f)))
                st = add_cfg(a, "shrink-ratio", "shrink_ratio = %s", optarg) ? 2 : 0;
            break;
        case O_NO_OWNER:
            if (add_cfg(a, "no-owner-index", "owner_index = %s", "false")) return 2;
            break;
        case O_OWNER_INDEX:
            if (add_cfg(a, "owner-index", "owner_index = %s", "true")) return 2;
            break;
        case O_NO_BG:
            if (add_cfg(a, "no-background", "background = %s", "false")) return 2;
            break;
        case O_THREADS:
            if (!(st = tool_arg_u64(flag, "a number", optarg, 0, TOOL_THREADS_MAX, &v)))
                st = add_cfg_u64(a, "threads", "threads", v);
            break;
        case O_CONFIG:
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "acctdb db: --config '%s': expected KEY=VALUE\n", optarg);
                return 2;
            }
            if (add_cfg(a, "config", "%s", optarg)) return 2;
            break;
        case O_QUIET:
            a->quiet = true;
            break;
        }
        if (st) return st;
    }
    return -1;
}

/* Defaults, then DIR/acctdb.conf, then what the command needs (scan and
 * workload: the owner index, which an open loads from the index file a
 * clean close wrote with it, or rebuilds; info,
 * verify, get, scan: no service threads), then the options in order. */
static int
make_config(args_t const *a, char const *dir, acctdb_db_config_t *cfg) {
    char msg[1024];
    acctdb_db_config_default(cfg);
    int rc = acctdb_db_config_read(cfg, dir, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "acctdb db: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        return 2;
    }
    if (a->sub == S_SCAN || a->sub == S_WORKLOAD) cfg->owner_index = true;
    if (a->sub == S_INFO || a->sub == S_VERIFY || a->sub == S_GET || a->sub == S_SCAN)
        cfg->background = false;
    for (size_t i = 0; i < a->cfg_cnt; i++) {
        rc = acctdb_db_config_parse(cfg, a->cfg[i].line, msg, sizeof msg);
        if (rc) {
            /* "line 1: key = value: why" -> "key = value: why" */
            char const *m = strncmp(msg, "line 1: ", 8) ? msg : msg + 8;
            fprintf(stderr, "acctdb db: --%s: %s\n", a->cfg[i].flag, m);
            return 2;
        }
    }
    return 0;
}

static int
open_db(char const *dir, acctdb_db_config_t const *cfg, acctdb_db_t **db) {
    char msg[1024];
    int  rc = acctdb_db_open(db, dir, cfg, msg, sizeof msg);
    if (!rc) return 0;
    fprintf(stderr, "acctdb db: %s\n", msg[0] ? msg : acctdb_strerror(rc));
    if (rc == ACCTDB_ERR_NOT_FOUND)
        fprintf(stderr, "(is %s a database? acctdb db create makes one)\n", dir);
    return rc == ACCTDB_ERR_BUSY ? EXIT_BUSY : 2;
}

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char const *
b58(uint8_t const b[32], char out[ACCTDB_BASE58_32_SZ]) {
    return acctdb_base58_encode_32(b, out);
}

#define U(x) ((unsigned long long)(x))

/* ---- create --------------------------------------------------------------------- */

static int
do_create(args_t const *a, acctdb_db_config_t const *cfg) {
    char const        *dir = a->pos[0];
    acctdb_db_source_t src = {0};
    int                nsrc = !!a->from + !!a->from_dir + !!a->genesis;
    if (nsrc != 1) {
        fprintf(stderr, "acctdb db create: give exactly one of --from ARCHIVE [INCREMENTAL], "
                        "--from-dir ARCHIVE_DIR, --genesis FILE\n");
        return 2;
    }
    if (a->npos > 2 || (a->npos == 2 && !a->from)) {
        fprintf(stderr,
                "acctdb db create: an INCREMENTAL archive goes only with --from "
                "(unexpected '%s')\n",
                a->pos[a->npos - 1]);
        return 2;
    }
    src.full_path = a->from;
    src.incremental_path = a->npos == 2 ? a->pos[1] : NULL;
    src.archive_dir = a->from_dir;
    src.genesis_path = a->genesis;
    tool_bar_t bar = {0};
    if (!a->quiet && isatty(2)) {
        src.progress = tool_progress;
        src.progress_ctx = &bar;
    }
    /* A signal stops the load at its next chunk or step; the library
     * removes what it made. */
    tool_stop_install();
    src.stop = &tool_stop_sig;
    struct stat  pre;
    bool const   existed = stat(dir, &pre) == 0;
    char         msg[1024];
    acctdb_db_t *db = NULL;
    double       t0 = now_s();
    int          rc = acctdb_db_create(&db, dir, &src, cfg, msg, sizeof msg);
    double       t1 = now_s();
    if (bar.drawn && rc) fputc('\n', stderr);
    if (rc == ACCTDB_ERR_STOPPED && tool_stop_sig) {
        char left[4300];
        snprintf(left, sizeof left, "nothing was created (%s %s)", dir,
                 existed ? "is empty again" : "was removed");
        return tool_stopped_create("db create", msg, left);
    }
    if (rc) {
        fprintf(stderr, "acctdb db create: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        return rc == ACCTDB_ERR_BUSY ? EXIT_BUSY : rc == ACCTDB_ERR_MISMATCH ? 1 : 2;
    }
    acctdb_bank_info_t in;
    acctdb_db_stats_t  st;
    uint64_t           root = acctdb_db_root_slot(db, NULL);
    rc = acctdb_db_bank_info(db, root, &in);
    if (!rc) rc = acctdb_db_stats(db, &st);
    if (rc) {
        fprintf(stderr, "acctdb db create: %s\n", acctdb_db_errmsg(db));
        acctdb_db_close(db);
        return 2;
    }
    char x[ACCTDB_BASE58_32_SZ];
    printf("database:             %s\n", dir);
    if (a->from)
        printf("source:               %s%s%s\n", a->from, a->npos == 2 ? " + " : "",
               a->npos == 2 ? a->pos[1] : "");
    else if (a->from_dir)
        printf("source:               the newest full snapshot in %s and its newest "
               "incremental\n",
               a->from_dir);
    else
        printf("source:               genesis %s\n", a->genesis);
    printf("root slot:            %llu\n", U(root));
    printf("accounts:             %llu (keys in the index)\n", U(st.index_keys));
    printf("capitalization:       %llu lamports\n", U(in.capitalization));
    printf("accounts_data_len:    %llu bytes\n", U(in.accounts_data_len));
    printf("lattice checksum:     %s\n", b58(in.lt_checksum, x));
    printf("bank hash:            %s\n", b58(in.bank_hash.b, x));
    printf("storages:             %llu (%llu bytes)\n", U(st.storages), U(st.storage_bytes));
    acctdb_db_close(db);
    printf("time:                 %.2f s (archives streamed, verified, indexed)\n", t1 - t0);
    return 0;
}

/* ---- info ---------------------------------------------------------------------- */

static void
json_kv_u(char const *k, uint64_t v, bool last) {
    printf("  \"%s\": %llu%s\n", k, U(v), last ? "" : ",");
}

static void
json_kv_s(char const *k, char const *v) {
    printf("  \"%s\": \"%s\",\n", k, v);
}

/* s inside a JSON string. */
static void
json_esc(char const *s) {
    for (char const *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            printf("\\u%04x", (unsigned)(unsigned char)*p);
        else
            putchar(*p);
    }
}

static int
do_info(args_t const *a, acctdb_db_t *db) {
    acctdb_db_stats_t  st;
    acctdb_bank_info_t in;
    uint64_t           durable = 0, root = acctdb_db_root_slot(db, &durable);
    int                rc = acctdb_db_stats(db, &st);
    if (!rc) rc = acctdb_db_bank_info(db, root, &in);
    if (rc) {
        fprintf(stderr, "acctdb db info: %s\n", acctdb_db_errmsg(db));
        return 2;
    }
    char        lt[ACCTDB_BASE58_32_SZ], bh[ACCTDB_BASE58_32_SZ], ph[ACCTDB_BASE58_32_SZ];
    char        bk[ACCTDB_BASE58_32_SZ];
    bool        has_full = st.last_full_snapshot_slot != UINT64_MAX;
    char const *dir = a->pos[0];
    b58(in.lt_checksum, lt);
    b58(in.bank_hash.b, bh);
    b58(in.parent_bank_hash.b, ph);
    b58(in.meta.blockhash.b, bk);
    if (a->json) {
        printf("{\n");
        printf("  \"dir\": \"");
        json_esc(dir);
        printf("\",\n");
        json_kv_u("root_slot", root, false);
        json_kv_u("durable_root_slot", durable, false);
        if (has_full)
            json_kv_u("last_full_snapshot_slot", st.last_full_snapshot_slot, false);
        else
            printf("  \"last_full_snapshot_slot\": null,\n");
        json_kv_u("parent_slot", in.parent_slot, false);
        json_kv_u("block_height", in.block_height, false);
        json_kv_s("lt_checksum", lt);
        json_kv_s("bank_hash", bh);
        json_kv_s("parent_bank_hash", ph);
        json_kv_s("blockhash", bk);
        json_kv_u("capitalization", in.capitalization, false);
        json_kv_u("accounts_data_len", in.accounts_data_len, false);
        json_kv_u("transaction_count", in.meta.transaction_count, false);
        printf("  \"unix_timestamp\": %lld,\n", (long long)in.meta.unix_timestamp);
        json_kv_u("storages", st.storages, false);
        json_kv_u("storage_bytes", st.storage_bytes, false);
        json_kv_u("storage_alive_bytes", st.storage_alive_bytes, false);
        json_kv_u("segments", st.segments, false);
        json_kv_u("index_keys", st.index_keys, false);
        json_kv_u("index_versions_listed", st.index_versions_listed, false);
        json_kv_u("index_ram_sz", st.index_ram_sz, false);
        json_kv_u("owner_index_keys", st.owner_index_keys, false);
        printf("  \"index_rebuilt\": %s,\n", st.index_rebuilt ? "true" : "false");
        printf("  \"index_reason\": \"");
        json_esc(st.index_reason);
        printf("\",\n");
        json_kv_u("index_open_ns", st.index_open_ns, false);
        json_kv_u("index_replayed_storages", st.index_replayed_storages, false);
        json_kv_u("index_checkpoints", st.index_checkpoints, false);
        printf("  \"index_disk\": %s,\n", st.index_disk ? "true" : "false");
        json_kv_u("index_ram_budget", st.index_ram_budget, false);
        json_kv_u("index_ram_heap", st.index_ram_heap, false);
        json_kv_u("index_ram_mapped", st.index_ram_mapped, false);
        json_kv_u("index_ram_keys", st.index_ram_keys, false);
        json_kv_u("index_disk_bytes", st.index_disk_bytes, false);
        json_kv_u("index_disk_keys", st.index_disk_keys, false);
        json_kv_u("index_disk_entries", st.index_disk_entries, false);
        json_kv_u("index_hits", st.index_hits, false);
        json_kv_u("index_misses", st.index_misses, false);
        json_kv_u("index_promotions", st.index_promotions, false);
        json_kv_u("index_evictions", st.index_evictions, false);
        json_kv_u("read_cache_sz", st.read_cache_sz, false);
        json_kv_u("service_errors", st.service_errors, false);
        json_kv_u("write_cache_sz", st.write_cache_sz, true);
        printf("}\n");
        return 0;
    }
    printf("database:             %s\n", dir);
    printf("root slot:            %llu\n", U(root));
    printf("durable root:         %llu\n", U(durable));
    if (has_full)
        printf("last full snapshot:   slot %llu\n", U(st.last_full_snapshot_slot));
    else
        printf("last full snapshot:   none\n");
    printf("parent slot:          %llu\n", U(in.parent_slot));
    printf("block height:         %llu\n", U(in.block_height));
    printf("lattice checksum:     %s\n", lt);
    printf("bank hash:            %s\n", bh);
    printf("parent bank hash:     %s\n", ph);
    printf("blockhash:            %s\n", bk);
    printf("capitalization:       %llu lamports\n", U(in.capitalization));
    printf("accounts_data_len:    %llu bytes\n", U(in.accounts_data_len));
    printf("transaction count:    %llu\n", U(in.meta.transaction_count));
    printf("unix timestamp:       %lld\n", (long long)in.meta.unix_timestamp);
    printf("storages:             %llu: %llu bytes, %llu alive (%.1f%%), %llu segments\n",
           U(st.storages), U(st.storage_bytes), U(st.storage_alive_bytes),
           st.storage_bytes ? 100.0 * (double)st.storage_alive_bytes / (double)st.storage_bytes
                            : 100.0,
           U(st.segments));
    printf("index:                %llu keys, %llu in version lists, %.1f MiB\n", U(st.index_keys),
           U(st.index_versions_listed), (double)st.index_ram_sz / 1048576.0);
    if (st.index_rebuilt)
        printf("                      rebuilt at open: yes (%s), %.2f s\n", st.index_reason,
               (double)st.index_open_ns * 1e-9);
    else
        printf("                      %s, %.2f s\n", st.index_reason,
               (double)st.index_open_ns * 1e-9);
    if (st.index_disk) {
        uint64_t lk = st.index_hits + st.index_misses;
        printf("index tiers:          RAM %.1f MiB heap + %.1f MiB mapped",
               st.index_ram_heap / 1048576.0, st.index_ram_mapped / 1048576.0);
        if (st.index_ram_budget) printf(" of %.1f MiB", st.index_ram_budget / 1048576.0);
        printf(", %llu keys; disk %.1f MiB, %llu keys in %llu entries\n", U(st.index_ram_keys),
               st.index_disk_bytes / 1048576.0, U(st.index_disk_keys), U(st.index_disk_entries));
        if (lk)
            printf("                      lookups since open: %llu, %.1f%% from RAM; %llu "
                   "promotions, %llu evictions\n",
                   U(lk), 100.0 * (double)st.index_hits / (double)lk, U(st.index_promotions),
                   U(st.index_evictions));
        else
            printf("                      lookups since open: none\n");
    }
    printf("owner index:          %llu (owner, pubkey) pairs\n", U(st.owner_index_keys));
    if (st.service_errors) {
        char last[512];
        acctdb_db_service_error(db, last, sizeof last);
        printf("service errors:       %llu (last: %s)\n", U(st.service_errors), last);
    }
    return 0;
}

/* ---- verify -------------------------------------------------------------------- */

static int
do_verify(acctdb_db_t *db) {
    char     msg[1024];
    uint64_t durable = 0, root = acctdb_db_root_slot(db, &durable);
    printf("root slot:            %llu (durable %llu)\n", U(root), U(durable));
    int rc = acctdb_db_check(db, msg, sizeof msg);
    if (rc) {
        printf("invariants:           BROKEN: %s\n", msg);
        fprintf(stderr, "acctdb db verify: %s\n", msg);
        return rc == ACCTDB_ERR_CORRUPT ? 1 : 2;
    }
    printf("invariants:           ok\n");
    rc = acctdb_db_verify(db, msg, sizeof msg);
    if (rc == ACCTDB_ERR_MISMATCH) {
        printf("lattice hash:         MISMATCH: %s\n", msg);
        fprintf(stderr, "acctdb db verify: %s\n", msg);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "acctdb db verify: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        return rc == ACCTDB_ERR_CORRUPT ? 1 : 2;
    }
    printf("lattice hash:         ok: %s\n", msg);
    printf("\nverified: the account files match the root record\n");
    return 0;
}

/* ---- get ------------------------------------------------------------------------ */

static int
do_get(args_t const *a, acctdb_db_t *db) {
    acctdb_pubkey_t pk;
    if (a->npos != 2) {
        fprintf(stderr, "acctdb db get: expected DIR PUBKEY\n");
        return 2;
    }
    if (parse_pubkey("get", a->pos[1], &pk)) return 2;
    uint64_t         slot = a->has_slot ? a->slot : acctdb_db_root_slot(db, NULL), vslot = 0;
    size_t           cap = 1u << 16;
    uint8_t         *buf = malloc(cap);
    acctdb_account_t acc;
    int              rc = buf ? acctdb_db_load(db, slot, &pk, &acc, buf, cap, &vslot) : -ENOMEM;
    if (rc == ACCTDB_ERR_FULL) {
        cap = (size_t)acc.data_len;
        free(buf);
        buf = malloc(cap ? cap : 1);
        rc = buf ? acctdb_db_load(db, slot, &pk, &acc, buf, cap, &vslot) : -ENOMEM;
    }
    int                 status = 0;
    acctdb_compressed_t ci;
    if (rc == ACCTDB_ERR_COMPRESSED && !acctdb_db_compressed_info(db, slot, &pk, &ci)) {
        /* Compressed (Avocado): what is kept of it, not an account. */
        char o58[ACCTDB_BASE58_32_SZ], h58[ACCTDB_BASE58_32_SZ];
        printf("{\"pubkey\":\"%s\",\"compressed\":true,\"lamports\":%llu,\"owner\":\"%s\","
               "\"executable\":%s,\"burned\":%s,\"orig_len\":%llu,\"data_hash\":\"%s\"}\n",
               a->pos[1], U(acc.lamports), acctdb_base58_encode_32(ci.owner.b, o58),
               ci.executable ? "true" : "false", ci.burned ? "true" : "false", U(ci.orig_len),
               acctdb_base58_encode_32(ci.data_hash.b, h58));
    } else if (rc == ACCTDB_ERR_NOT_FOUND) {
        fprintf(stderr, "acctdb: %s: no such live account at slot %llu\n", a->pos[1], U(slot));
        status = 1;
    } else if (rc) {
        fprintf(stderr, "acctdb db get: %s\n",
                rc == -ENOMEM ? acctdb_strerror(rc) : acctdb_db_errmsg(db));
        status = 2;
    } else {
        tool_print_account(stdout, &acc, vslot);
    }
    free(buf);
    return status;
}

/* ---- scan ----------------------------------------------------------------------- */

static int
scan_cb(void *ctx, acctdb_account_t const *acc, uint64_t slot) {
    (void)ctx;
    tool_print_account(stdout, acc, slot);
    return ferror(stdout) ? -EIO : 0;
}

static int
do_scan(args_t const *a, acctdb_db_t *db) {
    if (a->npos != 1) {
        fprintf(stderr, "acctdb db scan: expected DIR only ('%s' is extra)\n", a->pos[1]);
        return 2;
    }
    if (!a->owner) {
        fprintf(stderr, "acctdb db scan: --owner PUBKEY is required\n");
        return 2;
    }
    acctdb_scan_filter_t f = {0};
    acctdb_pubkey_t      cur, next;
    if (parse_pubkey("--owner", a->owner, &f.owner)) return 2;
    if (a->cursor && parse_pubkey("--cursor", a->cursor, &cur)) return 2;
    f.has_data_size = a->has_data_size;
    f.data_size = a->data_size;
    f.memcmp_cnt = a->memcmp_cnt;
    for (size_t i = 0; i < a->memcmp_cnt; i++)
        f.memcmp[i] = (acctdb_memcmp_t){a->memcmp[i].off, a->memcmp[i].bytes, a->memcmp[i].len};
    uint64_t slot = a->has_slot ? a->slot : acctdb_db_root_slot(db, NULL);
    bool     more = false;
    int rc = acctdb_db_scan(db, slot, &f, a->cursor ? &cur : NULL, (size_t)a->limit, scan_cb, NULL,
                            &next, &more);
    if (rc) {
        fprintf(stderr, "acctdb db scan: %s\n",
                rc == -EIO ? "writing output failed" : acctdb_db_errmsg(db));
        return 2;
    }
    if (more) {
        char x[ACCTDB_BASE58_32_SZ];
        printf("{\"cursor\":\"%s\"}\n", b58(next.b, x));
    }
    return 0;
}

/* ---- snapshot ------------------------------------------------------------------- */

/* The hash in an archive name: [incremental-]snapshot-...-HASH.tar.EXT. */
static void
name_hash(char const *path, char *out, size_t max) {
    char const *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char const *ext = strstr(base, ".tar");
    char const *dash = NULL;
    for (char const *p = base; ext && p < ext; p++)
        if (*p == '-') dash = p;
    if (!ext || !dash) {
        snprintf(out, max, "?");
        return;
    }
    snprintf(out, max, "%.*s", (int)(ext - dash - 1), dash + 1);
}

static int
do_snapshot(args_t const *a, acctdb_db_t *db) {
    if (a->npos != 1) {
        fprintf(stderr, "acctdb db snapshot: expected DIR only ('%s' is extra)\n", a->pos[1]);
        return 2;
    }
    if (!a->out) {
        fprintf(stderr, "acctdb db snapshot: --out ARCHIVE_DIR is required\n");
        return 2;
    }
    struct stat st;
    if (stat(a->out, &st)) {
        if (errno != ENOENT || mkdir(a->out, 0755)) {
            fprintf(stderr, "acctdb db snapshot: --out %s: %s\n", a->out, strerror(errno));
            return 2;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "acctdb db snapshot: --out %s is not a directory\n", a->out);
        return 2;
    }
    acctdb_db_stats_t before;
    acctdb_db_stats(db, &before);
    char   path[4096];
    double t0 = now_s();
    int    rc = acctdb_db_snapshot(db, a->out, a->incremental, path);
    double t1 = now_s();
    if (rc) {
        fprintf(stderr, "acctdb db snapshot: %s\n", acctdb_db_errmsg(db));
        return 2;
    }
    acctdb_bank_info_t in;
    uint64_t           root = acctdb_db_root_slot(db, NULL);
    if (acctdb_db_bank_info(db, root, &in)) {
        fprintf(stderr, "acctdb db snapshot: %s\n", acctdb_db_errmsg(db));
        return 2;
    }
    char lt[ACCTDB_BASE58_32_SZ], x[ACCTDB_BASE58_32_SZ], nh[128];
    b58(in.lt_checksum, lt);
    name_hash(path, nh, sizeof nh);
    if (stat(path, &st)) st.st_size = 0;
    printf("archive:              %s\n", path);
    if (a->incremental)
        printf("kind:                 incremental on the full snapshot of slot %llu\n",
               U(before.last_full_snapshot_slot));
    else
        printf("kind:                 full\n");
    printf("slot:                 %llu\n", U(root));
    printf("lattice checksum:     %s (the root's)\n", lt);
    printf("bank hash:            %s\n", b58(in.bank_hash.b, x));
    printf("capitalization:       %llu lamports\n", U(in.capitalization));
    printf("size:                 %llu bytes\n", U(st.st_size));
    printf("time:                 %.2f s\n", t1 - t0);
    if (strcmp(nh, lt)) {
        printf("name hash:            MISMATCH: %s in the name, %s at the root\n", nh, lt);
        return 1;
    }
    printf("name hash:            ok: the name's hash is the root's lattice checksum\n");
    return 0;
}

/* ---- workload ------------------------------------------------------------------- */

static int
do_workload(args_t const *a, acctdb_db_t *db, acctdb_db_config_t const *cfg) {
    if (a->npos != 1) {
        fprintf(stderr, "acctdb db workload: expected DIR only ('%s' is extra)\n", a->pos[1]);
        return 2;
    }
    if (!a->has_slots) {
        fprintf(stderr, "acctdb db workload: --slots N is required\n");
        return 2;
    }
    acctdb_workload_opts_t o = a->wl;
    if (!cfg->background) o.service_every = 8;
    o.stop = &tool_stop_sig; /* SIGINT/SIGTERM: after the current slot */
    tool_bar_t bar = {.unit = "slots"};
    if (!a->quiet && isatty(2)) {
        o.progress = tool_progress;
        o.progress_ctx = &bar;
    }
    acctdb_workload_result_t r;
    int                      rc = acctdb_db_workload(db, &o, &r);
    if (rc) {
        if (bar.drawn) fputc('\n', stderr);
        fprintf(stderr, "acctdb db %s\n", acctdb_db_errmsg(db)); /* "workload: ..." */
        return 2;
    }
    char   lt[ACCTDB_BASE58_32_SZ], x[ACCTDB_BASE58_32_SZ];
    double s = r.seconds > 0 ? r.seconds : 1e-9;
    printf("slots:                %llu .. %llu: %llu banks, %llu rooted, %llu dead on losing "
           "forks, %llu pending\n",
           U(r.first_slot), U(r.last_slot), U(r.slots_created), U(r.slots_rooted), U(r.slots_dead),
           U(r.slots_pending));
    printf("forks started:        %llu (at most %u alive at once)\n", U(r.forks_started), o.forks);
    printf("stores:               %llu accounts: %llu new, %llu updated, %llu closed\n",
           U(r.stores), U(r.new_accounts), U(r.updates), U(r.closed));
    printf("known at the start:   %llu system and token accounts of the database\n",
           U(r.discovered));
    printf("loads:                %llu (%llu absent or closed at the slot read)\n", U(r.loads),
           U(r.load_misses));
    printf("rate:                 %.1f slots/s, %.0f stores/s, %.0f loads/s\n",
           (double)r.slots_created / s, (double)r.stores / s, (double)r.loads / s);
    printf("root:                 slot %llu (was %llu)\n", U(r.root_slot), U(r.start_root));
    printf("lattice checksum:     %s\n", b58(r.root_info.lt_checksum, lt));
    printf("bank hash:            %s\n", b58(r.root_info.bank_hash.b, x));
    printf("capitalization:       %llu lamports\n", U(r.root_info.capitalization));
    printf("newest bank:          slot %llu, lattice checksum %s (unrooted: dropped at close)\n",
           U(r.tip_slot), b58(r.tip_info.lt_checksum, x));
    printf("time:                 %.2f s\n", r.seconds);
    return 0;
}

/* ---- dispatch -------------------------------------------------------------------- */

int
cmd_db(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    args_t *a = calloc(1, sizeof *a);
    if (!a) return tool_fail(-ENOMEM, "db");
    int sub = -1;
    for (int i = 0; i < S_CNT; i++)
        if (!strcmp(argv[1], g_sub_names[i])) sub = i;
    if (sub < 0) {
        fprintf(stderr, "acctdb db: unknown command '%s'\n\n%s", argv[1], USAGE);
        free(a);
        return 2;
    }
    a->sub = (enum sub)sub;
    acctdb_workload_opts_default(&a->wl);
    int status = parse_args(argc - 1, argv + 1, a);
    if (status >= 0) {
        free(a);
        return status;
    }
    if (a->npos < 1) {
        fprintf(stderr, "acctdb db %s: missing DIR (acctdb db --help)\n", g_sub_names[a->sub]);
        free(a);
        return 2;
    }
    if (a->sub != S_CREATE && a->sub != S_GET && a->npos > 1) {
        fprintf(stderr, "acctdb db %s: expected DIR only ('%s' is extra)\n", g_sub_names[a->sub],
                a->pos[1]);
        free(a);
        return 2;
    }
    acctdb_db_config_t cfg;
    if ((status = make_config(a, a->pos[0], &cfg))) {
        free(a);
        return status;
    }
    if (a->sub == S_CREATE) {
        status = do_create(a, &cfg);
        free(a);
        return status;
    }
    /* The commands that write: a signal ends them between atomic steps
     * and the newest root is committed before exit. */
    bool const graceful = a->sub == S_WORKLOAD || a->sub == S_SNAPSHOT;
    if (graceful) tool_stop_install();
    acctdb_db_t *db = NULL;
    if ((status = open_db(a->pos[0], &cfg, &db))) {
        free(a);
        return status;
    }
    if (graceful) tool_stop_watch(db);
    switch (a->sub) {
    case S_INFO:
        status = do_info(a, db);
        break;
    case S_VERIFY:
        status = do_verify(db);
        break;
    case S_GET:
        status = do_get(a, db);
        break;
    case S_SCAN:
        status = do_scan(a, db);
        break;
    case S_SNAPSHOT:
        status = do_snapshot(a, db);
        break;
    case S_WORKLOAD:
        status = do_workload(a, db, &cfg);
        break;
    default:
        break;
    }
    if (graceful) {
        if (fflush(stdout) != 0) status = tool_fail(0, "writing output failed");
        int st = tool_shutdown(db, a->sub == S_WORKLOAD ? "db workload" : "db snapshot");
        if (!status) status = st;
    } else {
        acctdb_db_close(db);
    }
    free(a);
    if (fflush(stdout) != 0) return tool_fail(0, "writing output failed");
    return status;
}
