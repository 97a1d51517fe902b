/* tools/acctdb/cmd_state_sim.c - `acctdb state chilly-sim`: replays a trace
 * of transactions through Chilly and, side by side, a true byte LRU of the
 * same size (acctdb_sim.h, "Chilly simulation"; docs/STATE.md).
 *
 *   acctdb state chilly-sim [--trace FILE] [--accounts N] [--blocks B]
 *       [--txs-per-block T] [--loads-max K] [--zipf S] [--seed X]
 *       [--write-trace FILE] [--cache-size SIZE] [--load-limit SIZE]
 *       [--lru-extra SIZE] [--per-block] [--json]
 *
 *   $ acctdb state chilly-sim
 *   trace: generated, seed 0: 100000 accounts, zipf 1, 200 blocks x 500 txs of 1-16 loads
 *   cache: 2953849 bytes (2.8 MiB) = 10% of the distinct bytes; LRU the same size
 *   loads: 847578 in 100000 transactions, 200 blocks; 355394393 bytes (338.9 MiB)
 *   chilly hot: 512281 loads (60.44%), 222526777 bytes (62.61%)
 *   lru hits:   572693 loads (67.57%), 251774584 bytes (70.84%)
 *   gap: -7.13 points (loads), -8.23 points (bytes)
 *   disagree: 0 Chilly-hot loads the LRU missed, 60412 LRU hits Chilly called cold
 *   cold bytes per block: min 423845, mean 664338.1, p99 1610276, max 1662948
 *   load limit 67108864 bytes (64.0 MiB): 0 blocks over, 0 txs deferred (0 cold bytes)
 *   accounts: 78058 distinct, 29538499 bytes (28.2 MiB); largest tx 889220 bytes
 *   memory: 9440272 bytes peak (9.0 MiB), 120.9 per distinct account
 *
 *   $ acctdb state chilly-sim --blocks 3 --cache-size 1M --per-block | head -4
 *           slot      loads        hot     cold_bytes  deferred
 *              1       4411       1971        1426114         0
 *              2       4026       1941        1283880         0
 *              3       4277       2166        1319706         0
 *
 * Without --trace the trace is generated (Zipf popularity, sizes from the
 * account mix) and CACHE_SIZE defaults to 10% of its distinct bytes, found
 * by a first pass over the same trace; with --trace (a file, or "-") the
 * cache size is required and the generator's options are refused.  Exit
 * status: 0, or 2 for usage errors, a malformed trace (the parser's
 * message names the line) and files that cannot be read or written. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX 1024

static char const USAGE[] =
    "usage: acctdb state chilly-sim [--trace FILE | generator options] [model options]\n"
    "  Replays a trace through Chilly and a true byte LRU of the same size.\n"
    "  trace (one of):\n"
    "    --trace FILE          a trace in the text format (acctdb_sim.h); '-' is stdin\n"
    "    generated, skewed:\n"
    "      --accounts N        accounts, 1 to 2^27 (default 100000)\n"
    "      --blocks B          blocks, one slot each (default 200)\n"
    "      --txs-per-block T   transactions per block, 1 to 2^20 (default 500)\n"
    "      --loads-max K       a transaction loads 1 to K accounts, K <= 64 (default 16)\n"
    "      --zipf S            popularity exponent, 0 (uniform) to 8 (default 1.0)\n"
    "      --seed X            (default 0)\n"
    "      --write-trace FILE  also write the generated trace to FILE\n"
    "  model:\n"
    "    --cache-size SIZE     CACHE_SIZE in bytes (K, M, G, T suffixes); default 10%\n"
    "                          of a generated trace's distinct bytes; required with --trace\n"
    "    --load-limit SIZE     LOAD_LIMIT, cold bytes per block (default 64M)\n"
    "    --lru-extra SIZE      the LRU holds CACHE_SIZE + SIZE (default 0)\n"
    "  output:\n"
    "    --per-block           a line per block: slot, loads, hot, cold bytes, deferred txs\n"
    "    --json                the summary (and blocks) as JSON\n";

enum {
    O_TRACE = 256,
    O_ACCOUNTS,
    O_BLOCKS,
    O_TXS,
    O_LOADS,
    O_ZIPF,
    O_SEED,
    O_WRITE,
    O_CACHE,
    O_LIMIT,
    O_EXTRA,
    O_PER_BLOCK,
    O_JSON,
    O_HELP,
};

static struct option const g_lo[] = {
    {"trace", required_argument, NULL, O_TRACE},
    {"accounts", required_argument, NULL, O_ACCOUNTS},
    {"blocks", required_argument, NULL, O_BLOCKS},
    {"txs-per-block", required_argument, NULL, O_TXS},
    {"loads-max", required_argument, NULL, O_LOADS},
    {"zipf", required_argument, NULL, O_ZIPF},
    {"seed", required_argument, NULL, O_SEED},
    {"write-trace", required_argument, NULL, O_WRITE},
    {"cache-size", required_argument, NULL, O_CACHE},
    {"load-limit", required_argument, NULL, O_LIMIT},
    {"lru-extra", required_argument, NULL, O_EXTRA},
    {"per-block", no_argument, NULL, O_PER_BLOCK},
    {"json", no_argument, NULL, O_JSON},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct simargs {
    char const              *trace, *write_trace;
    acctdb_chilly_gen_opts_t gen;
    char const              *gen_opt; /* a generator option given (for the --trace clash) */
    acctdb_chilly_sim_opts_t sim;
    bool                     has_cache, per_block, json;
} simargs_t;

/* Parses argv into a; returns -1 to go on, else the exit status. */
static int
parse(int argc, char **argv, simargs_t *a) {
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", g_lo, NULL)) != -1) {
        int      st = 0;
        uint64_t v;
        switch (c) {
        case O_TRACE:
            a->trace = optarg;
            break;
        case O_WRITE:
            a->write_trace = optarg;
            a->gen_opt = "--write-trace";
            break;
        case O_ACCOUNTS:
            st = tool_arg_u64("--accounts", "a count", optarg, 1, 1ull << 27, &a->gen.accounts);
            a->gen_opt = "--accounts";
            break;
        case O_BLOCKS:
            st = tool_arg_u64("--blocks", "a count", optarg, 1, 1ull << 40, &a->gen.blocks);
            a->gen_opt = "--blocks";
            break;
        case O_TXS:
            st = tool_arg_u64("--txs-per-block", "a count", optarg, 1, 1u << 20, &v);
            if (!st) a->gen.txs_per_block = (uint32_t)v;
            a->gen_opt = "--txs-per-block";
            break;
        case O_LOADS:
            st = tool_arg_u64("--loads-max", "a count", optarg, 1, ACCTDB_CHILLY_TX_LOADS_MAX, &v);
            if (!st) a->gen.loads_max = (uint32_t)v;
            a->gen_opt = "--loads-max";
            break;
        case O_ZIPF:
            st = tool_arg_double("--zipf", "an exponent", optarg, 0.0, 8.0, &a->gen.zipf);
            a->gen_opt = "--zipf";
            break;
        case O_SEED:
            st = tool_arg_u64("--seed", "a number", optarg, 0, UINT64_MAX, &a->gen.seed);
            a->gen_opt = "--seed";
            break;
        case O_CACHE:
            st = tool_arg_size("--cache-size", optarg, 1, 0, UINT64_MAX, &a->sim.cache_sz);
            a->has_cache = true;
            break;
        case O_LIMIT:
            st = tool_arg_size("--load-limit", optarg, 1, 0, UINT64_MAX, &a->sim.load_limit);
            break;
        case O_EXTRA:
            st = tool_arg_size("--lru-extra", optarg, 1, 0, UINT64_MAX, &a->sim.lru_extra_sz);
            break;
        case O_PER_BLOCK:
            a->per_block = true;
            break;
        case O_JSON:
            a->json = true;
            break;
        case O_HELP:
            fputs(USAGE, stdout);
            return 0;
        case ':':
            fprintf(stderr, "acctdb: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "acctdb state chilly-sim: unknown option '%s'\n%s", argv[optind - 1],
                    USAGE);
            return 2;
        }
        if (st) return st;
    }
    if (optind < argc) {
        fprintf(stderr, "acctdb state chilly-sim: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (a->trace && a->gen_opt) {
        fprintf(stderr, "acctdb state chilly-sim: %s is for a generated trace, not --trace\n",
                a->gen_opt);
        return 2;
    }
    if (a->trace && !a->has_cache) {
        fprintf(stderr, "acctdb state chilly-sim: --trace needs --cache-size\n");
        return 2;
    }
    return -1;
}

/* ---- output -------------------------------------------------------------- */

/* A byte count for people, " (11.8 MiB)", or "" below 1 KiB (the exact
 * count says it all). */
static char const *
human(uint64_t v, char *buf, size_t max) {
    static char const *const u[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double                   d = (double)v / 1024.0;
    int                      k = 0;
    if (v < 1024) return "";
    while (d >= 1024.0 && k < 5)
        d /= 1024.0, k++;
    snprintf(buf, max, " (%.1f %s)", d, u[k]);
    return buf;
}

/* A JSON string (quotes included) for s. */
static void
json_str(char const *s) {
    putchar('"');
    for (unsigned char const *p = (unsigned char const *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

typedef struct blockctx {
    bool json, header_done;
} blockctx_t;

static void
print_block(void *ctx, acctdb_chilly_block_t const *b) {
    blockctx_t *c = ctx;
    if (c->json) {
        printf("{\"slot\":%" PRIu64 ",\"loads\":%" PRIu64 ",\"hot\":%" PRIu64
               ",\"cold_bytes\":%" PRIu64 ",\"deferred\":%" PRIu64 "}\n",
               b->slot, b->loads, b->hot, b->cold_bytes, b->deferred);
        return;
    }
    if (!c->header_done) {
        printf("%12s %10s %10s %14s %9s\n", "slot", "loads", "hot", "cold_bytes", "deferred");
        c->header_done = true;
    }
    printf("%12" PRIu64 " %10" PRIu64 " %10" PRIu64 " %14" PRIu64 " %9" PRIu64 "\n", b->slot,
           b->loads, b->hot, b->cold_bytes, b->deferred);
}

static void
print_text(simargs_t const *a, acctdb_chilly_report_t const *r, bool cache_derived) {
    char h1[32], h2[32];
    if (a->trace)
        printf("trace: %s\n", a->trace);
    else
        printf("trace: generated, seed %" PRIu64 ": %" PRIu64 " accounts, zipf %g, %" PRIu64
               " blocks x %u txs of 1-%u loads\n",
               a->gen.seed, a->gen.accounts, a->gen.zipf, a->gen.blocks, a->gen.txs_per_block,
               a->gen.loads_max);
    printf("cache: %" PRIu64 " bytes%s%s; ", a->sim.cache_sz, human(a->sim.cache_sz, h1, sizeof h1),
           cache_derived ? " = 10% of the distinct bytes" : "");
    if (a->sim.lru_extra_sz)
        printf("LRU %" PRIu64 " bytes%s\n", r->lru_cap, human(r->lru_cap, h2, sizeof h2));
    else
        printf("LRU the same size\n");
    printf("loads: %" PRIu64 " in %" PRIu64 " transactions, %" PRIu64 " blocks; %" PRIu64
           " bytes%s\n",
           r->loads, r->txs, r->blocks, r->load_bytes, human(r->load_bytes, h1, sizeof h1));
    printf("chilly hot: %" PRIu64 " loads (%.2f%%), %" PRIu64 " bytes (%.2f%%)\n", r->hot,
           100.0 * r->hot_rate, r->hot_bytes, 100.0 * r->hot_byte_rate);
    printf("lru hits:   %" PRIu64 " loads (%.2f%%), %" PRIu64 " bytes (%.2f%%)\n", r->lru_hits,
           100.0 * r->lru_rate, r->lru_hit_bytes, 100.0 * r->lru_byte_rate);
    printf("gap: %+.2f points (loads), %+.2f points (bytes)\n", r->gap_pts, r->byte_gap_pts);
    printf("disagree: %" PRIu64 " Chilly-hot loads the LRU missed, %" PRIu64
           " LRU hits Chilly called cold\n",
           r->hot_lru_miss, r->lru_hit_cold);
    printf("cold bytes per block: min %" PRIu64 ", mean %.1f, p99 %" PRIu64 ", max %" PRIu64 "\n",
           r->cold_min, r->cold_mean, r->cold_p99, r->cold_max);
    printf("load limit %" PRIu64 " bytes%s: %" PRIu64 " blocks over, %" PRIu64
           " txs deferred (%" PRIu64 " cold bytes)\n",
           a->sim.load_limit, human(a->sim.load_limit, h1, sizeof h1), r->blocks_over, r->deferred,
           r->deferred_bytes);
    printf("accounts: %" PRIu64 " distinct, %" PRIu64 " bytes%s; largest tx %" PRIu64 " bytes\n",
           r->accounts, r->distinct_bytes, human(r->distinct_bytes, h1, sizeof h1), r->tx_load_max);
    printf("memory: %" PRIu64 " bytes peak%s, %.1f per distinct account\n", r->mem_sz,
           human(r->mem_sz, h1, sizeof h1),
           r->accounts ? (double)r->mem_sz / (double)r->accounts : 0.0);
}

static void
print_json(simargs_t const *a, acctdb_chilly_report_t const *r, bool cache_derived) {
    printf("{\"trace\":");
    if (a->trace) {
        json_str(a->trace);
    } else {
        printf("{\"generated\":true,\"seed\":%" PRIu64 ",\"accounts\":%" PRIu64
               ",\"zipf\":%g,\"blocks\":%" PRIu64 ",\"txs_per_block\":%u,\"loads_max\":%u}",
               a->gen.seed, a->gen.accounts, a->gen.zipf, a->gen.blocks, a->gen.txs_per_block,
               a->gen.loads_max);
    }
    printf(",\"cache_sz\":%" PRIu64 ",\"cache_sz_derived\":%s,\"load_limit\":%" PRIu64
           ",\"lru_extra_sz\":%" PRIu64 ",\"lru_cap\":%" PRIu64,
           a->sim.cache_sz, cache_derived ? "true" : "false", a->sim.load_limit,
           a->sim.lru_extra_sz, r->lru_cap);
    printf(",\"blocks\":%" PRIu64 ",\"txs\":%" PRIu64 ",\"loads\":%" PRIu64
           ",\"load_bytes\":%" PRIu64 ",\"accounts\":%" PRIu64 ",\"distinct_bytes\":%" PRIu64,
           r->blocks, r->txs, r->loads, r->load_bytes, r->accounts, r->distinct_bytes);
    printf(",\"hot\":%" PRIu64 ",\"hot_bytes\":%" PRIu64
           ",\"hot_rate\":%.6f,\"hot_byte_rate\":%.6f",
           r->hot, r->hot_bytes, r->hot_rate, r->hot_byte_rate);
    printf(",\"lru_hits\":%" PRIu64 ",\"lru_hit_bytes\":%" PRIu64
           ",\"lru_rate\":%.6f,\"lru_byte_rate\":%.6f",
           r->lru_hits, r->lru_hit_bytes, r->lru_rate, r->lru_byte_rate);
    printf(",\"gap_pts\":%.4f,\"byte_gap_pts\":%.4f,\"hot_lru_miss\":%" PRIu64
           ",\"lru_hit_cold\":%" PRIu64,
           r->gap_pts, r->byte_gap_pts, r->hot_lru_miss, r->lru_hit_cold);
    printf(",\"cold_bytes\":%" PRIu64 ",\"cold_min\":%" PRIu64
           ",\"cold_mean\":%.1f,\"cold_p99\":%" PRIu64 ",\"cold_max\":%" PRIu64,
           r->cold_bytes, r->cold_min, r->cold_mean, r->cold_p99, r->cold_max);
    printf(",\"blocks_over\":%" PRIu64 ",\"deferred\":%" PRIu64 ",\"deferred_bytes\":%" PRIu64
           ",\"charged_bytes\":%" PRIu64,
           r->blocks_over, r->deferred, r->deferred_bytes, r->charged_bytes);
    printf(",\"tx_load_max\":%" PRIu64 ",\"load_sz_max\":%" PRIu64 ",\"loaded_bytes\":%" PRIu64
           ",\"lru_resident_bytes\":%" PRIu64 ",\"mem_sz\":%" PRIu64
           ",\"decision_hash\":\"%016" PRIx64 "\"}\n",
           r->tx_load_max, r->load_sz_max, r->loaded_bytes, r->lru_resident_bytes, r->mem_sz,
           r->decision_hash);
}

/* ---- the command ----------------------------------------------------------- */

int
cmd_state_chilly_sim(int argc, char **argv) {
    simargs_t a;
    memset(&a, 0, sizeof a);
    acctdb_chilly_gen_opts_default(&a.gen);
    a.gen.accounts = 100000;
    a.gen.blocks = 200;
    a.gen.txs_per_block = 500;
    acctdb_chilly_sim_opts_default(&a.sim);
    int st = parse(argc, argv, &a);
    if (st >= 0) return st;

    char                   msg[MSG_MAX];
    acctdb_chilly_report_t r;
    int                    rc;
    bool                   cache_derived = false;
    if (a.write_trace) {
        rc = acctdb_chilly_gen_write(&a.gen, a.write_trace, msg, sizeof msg);
        if (rc) {
            fprintf(stderr, "acctdb state chilly-sim: --write-trace: %s\n", msg);
            return 2;
        }
    }
    if (!a.trace && !a.has_cache) {
        /* The first pass: the distinct bytes do not depend on the cache. */
        acctdb_chilly_sim_opts_t first = a.sim;
        rc = acctdb_chilly_sim_gen(&a.gen, &first, &r, msg, sizeof msg);
        if (rc) {
            fprintf(stderr, "acctdb state chilly-sim: %s\n", msg);
            return 2;
        }
        a.sim.cache_sz = r.distinct_bytes / 10;
        cache_derived = true;
    }
    blockctx_t bc = {.json = a.json};
    if (a.per_block) {
        a.sim.block_fn = print_block;
        a.sim.block_ctx = &bc;
    }
    if (a.trace)
        rc = acctdb_chilly_sim_file(a.trace, &a.sim, &r, msg, sizeof msg);
    else
        rc = acctdb_chilly_sim_gen(&a.gen, &a.sim, &r, msg, sizeof msg);
    if (rc) {
        fflush(stdout);
        fprintf(stderr, "acctdb state chilly-sim: %s\n", msg);
        return 2;
    }
    if (a.json)
        print_json(&a, &r, cache_derived);
    else
        print_text(&a, &r, cache_derived);
    if (fflush(stdout)) return tool_fail(-EIO, "state chilly-sim: writing the output");
    return 0;
}
