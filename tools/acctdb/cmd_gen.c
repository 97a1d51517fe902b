/* tools/acctdb/cmd_gen.c - `acctdb snapshot gen` and `acctdb genesis`. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char const GEN_USAGE[] =
    "usage: acctdb snapshot gen --accounts N --out DIR [--slots S] [--seed X]\n"
    "                           [--incremental M] [--max-bytes B] [--threads T]\n"
    "                           [--validators V] [--slots-per-epoch E] [--warmup]\n"
    "\n"
    "Writes a valid full snapshot of N accounts with a mainnet-like size mix over S\n"
    "slots (and an incremental snapshot of M changed accounts) into DIR.  The same\n"
    "arguments always give the same archives.  Refuses to write more than B bytes of\n"
    "account files (default 8 GiB; suffixes K, M, G, T accepted).  The cluster (V\n"
    "validators with vote and stake accounts, epochs of E slots) is the one whose\n"
    "genesis.bin it also writes into DIR (see acctdb genesis make); the archives'\n"
    "stakes, epoch stakes, stake history and sysvars follow from it.\n"
    "\n"
    "Ranges: N 1 to 1073741823; S 0 (N / 1000, clamped to 10..4000) to 1000000;\n"
    "X 0 to 2^64-1; M 0 (none) to 1073741823; B 0 (8 GiB) to 16T; T 0 (all CPUs)\n"
    "to 1024; V 1 to 64 (default 4); E 32 to 2^40 (default 432000).\n";

/* The ranges of the numeric options (the generator's own limits, and
 * generous ones where it has none). */
#define GEN_ACCOUNTS_MAX  ((1ull << 30) - 1)
#define GEN_SLOTS_MAX     1000000ull
#define GEN_MAX_BYTES_MAX (16ull << 40)

static void
gen_progress(void *ctx, char const *what, uint64_t done, uint64_t total) {
    (void)ctx;
    fprintf(stderr, "\r%s: %5.1f%% of %.1f MiB", what,
            total ? 100.0 * (double)done / (double)total : 100.0, (double)total / 1048576.0);
    if (done >= total) fputc('\n', stderr);
}

int
cmd_snapshot_gen(int argc, char **argv) {
    enum {
        O_ACC = 1,
        O_SLOTS,
        O_SEED,
        O_INC,
        O_MAX,
        O_OUT,
        O_THREADS,
        O_QUIET,
        O_HELP,
        O_VAL,
        O_SPE,
        O_WARM
    };
    static struct option const lo[] = {{"accounts", required_argument, 0, O_ACC},
                                       {"slots", required_argument, 0, O_SLOTS},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"incremental", required_argument, 0, O_INC},
                                       {"max-bytes", required_argument, 0, O_MAX},
                                       {"out", required_argument, 0, O_OUT},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"quiet", no_argument, 0, O_QUIET},
                                       {"help", no_argument, 0, O_HELP},
                                       {"validators", required_argument, 0, O_VAL},
                                       {"slots-per-epoch", required_argument, 0, O_SPE},
                                       {"warmup", no_argument, 0, O_WARM},
                                       {0, 0, 0, 0}};
    acctdb_gen_opts_t          o = {0};
    bool                       quiet = false, have_n = false;
    int                        c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        uint64_t v = 0;
        int      st = 0;
        switch (c) {
        case O_ACC:
            st = tool_arg_u64("--accounts", "a number", optarg, 1, GEN_ACCOUNTS_MAX, &o.accounts);
            have_n = true;
            break;
        case O_SLOTS:
            st = tool_arg_u64("--slots", "a number", optarg, 0, GEN_SLOTS_MAX, &o.slots);
            break;
        case O_SEED:
            st = tool_arg_u64("--seed", "a number", optarg, 0, UINT64_MAX, &o.seed);
            break;
        case O_INC:
            st = tool_arg_u64("--incremental", "a number", optarg, 0, GEN_ACCOUNTS_MAX,
                              &o.incremental);
            break;
        case O_MAX:
            st = tool_arg_size("--max-bytes", optarg, 1, 0, GEN_MAX_BYTES_MAX, &o.max_bytes);
            break;
        case O_OUT:
            o.out_dir = optarg;
            break;
        case O_THREADS:
            st = tool_arg_u64("--threads", "a number", optarg, 0, TOOL_THREADS_MAX, &v);
            o.threads = (unsigned)v;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_VAL:
            st = tool_arg_u64("--validators", "a number", optarg, 1, 64, &v);
            o.validators = (uint32_t)v;
            break;
        case O_SPE:
            st = tool_arg_u64("--slots-per-epoch", "a number", optarg, 32, 1ull << 40,
                              &o.slots_per_epoch);
            break;
        case O_WARM:
            o.warmup = true;
            break;
        case O_HELP:
            fputs(GEN_USAGE, stdout);
            return 0;
        default:
            fputs(GEN_USAGE, stderr);
            return 2;
        }
        if (st) return st;
    }
    if (optind != argc || !have_n || !o.out_dir) {
        fputs(GEN_USAGE, stderr);
        return 2;
    }
    struct stat st;
    if (stat(o.out_dir, &st) || !S_ISDIR(st.st_mode))
        return tool_fail(0, "snapshot gen: --out %s is not a directory", o.out_dir);
    if (!quiet && isatty(2)) o.progress = gen_progress;
    acctdb_gen_result_t r;
    char                msg[1024];
    int                 rc = acctdb_snapshot_gen(&o, &r, msg, sizeof msg);
    if (rc) return tool_fail(0, "snapshot gen: %s", msg);
    printf("genesis:         %s\n", r.genesis_path);
    printf("full snapshot:   %s\n", r.full_path);
    printf("  slot %llu, %llu account records, %llu live accounts, capitalization %llu\n",
           (unsigned long long)r.full_slot, (unsigned long long)r.records,
           (unsigned long long)r.live, (unsigned long long)r.capitalization);
    printf("  account files %llu bytes, mean stored record %.1f bytes, archive %llu bytes\n",
           (unsigned long long)r.account_bytes, r.mean_record_sz,
           (unsigned long long)r.compressed_sz);
    if (r.inc_path[0]) {
        printf("incremental:     %s\n", r.inc_path);
        printf("  slot %llu, %llu account records, %llu live accounts, capitalization %llu, "
               "archive %llu bytes\n",
               (unsigned long long)r.inc_slot, (unsigned long long)r.inc_records,
               (unsigned long long)r.inc_live, (unsigned long long)r.inc_capitalization,
               (unsigned long long)r.inc_compressed_sz);
    }
    printf("time: %.2f s planning and hashing, %.2f s writing\n", r.gen_s, r.write_s);
    return 0;
}

static char const GENESIS_USAGE[] =
    "usage: acctdb genesis info FILE\n"
    "       acctdb genesis ls FILE     (accounts as JSON lines)\n"
    "       acctdb genesis make FILE [--validators N] [--slots-per-epoch S] [--warmup]\n"
    "                                [--seed X] [--creation-time T]\n"
    "           writes the genesis.bin of a synthetic cluster: N validators (identity,\n"
    "           vote and stake account each; half bootstrap stakes, half warming up\n"
    "           from epoch 0, the last cooling down from epoch 2), a faucet, epochs of\n"
    "           S slots (warmup: 32, 64, ... first).  Ranges: N 1 to 64 (default 4),\n"
    "           S 32 to 2^40 (default 432000), X any u64, T 0 to 2^62\n";

static int
genesis_make(int argc, char **argv) {
    enum { O_VAL = 1, O_SPE, O_WARM, O_SEED, O_TIME };
    static struct option const lo[] = {{"validators", required_argument, 0, O_VAL},
                                       {"slots-per-epoch", required_argument, 0, O_SPE},
                                       {"warmup", no_argument, 0, O_WARM},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"creation-time", required_argument, 0, O_TIME},
                                       {0, 0, 0, 0}};
    acctdb_cluster_opts_t      o;
    acctdb_cluster_opts_default(&o);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        uint64_t v = 0;
        int      st = 0;
        switch (c) {
        case O_VAL:
            st = tool_arg_u64("--validators", "a number", optarg, 1, 64, &v);
            o.validators = (uint32_t)v;
            break;
        case O_SPE:
            st = tool_arg_u64("--slots-per-epoch", "a number", optarg, 32, 1ull << 40,
                              &o.slots_per_epoch);
            break;
        case O_WARM:
            o.warmup = true;
            break;
        case O_SEED:
            st = tool_arg_u64("--seed", "a number", optarg, 0, UINT64_MAX, &o.seed);
            break;
        case O_TIME:
            st = tool_arg_u64("--creation-time", "a number", optarg, 0, 1ull << 62, &v);
            o.creation_time = (int64_t)v;
            break;
        default:
            fputs(GENESIS_USAGE, stderr);
            return 2;
        }
        if (st) return st;
    }
    if (optind != argc - 1) {
        fputs(GENESIS_USAGE, stderr);
        return 2;
    }
    char msg[1024];
    int  rc = acctdb_cluster_genesis_write(&o, argv[optind], msg, sizeof msg);
    if (rc) return tool_fail(0, "genesis make: %s", msg);
    acctdb_genesis_info_t in;
    rc = acctdb_genesis_info(argv[optind], &in, msg, sizeof msg);
    if (rc) return tool_fail(0, "genesis make: %s", msg);
    char h[ACCTDB_BASE58_32_SZ];
    printf("genesis:          %s\n", argv[optind]);
    printf("genesis hash:     %s\n", acctdb_base58_encode_32(in.hash.b, h));
    printf("accounts:         %llu (%u validators)\n", (unsigned long long)in.accounts,
           o.validators);
    printf("slots per epoch:  %llu%s\n", (unsigned long long)o.slots_per_epoch,
           o.warmup ? " (after warmup)" : "");
    return 0;
}

int
cmd_genesis(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "make")) return genesis_make(argc - 1, argv + 1);
    if (argc != 3 || (strcmp(argv[1], "info") && strcmp(argv[1], "ls"))) {
        bool help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fputs(GENESIS_USAGE, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    if (!strcmp(argv[1], "ls")) return tool_print_accounts_genesis(argv[2]);
    acctdb_genesis_info_t in;
    char                  msg[1024];
    int                   rc = acctdb_genesis_info(argv[2], &in, msg, sizeof msg);
    if (rc) return tool_fail(0, "genesis: %s", msg);
    char h[ACCTDB_BASE58_32_SZ];
    printf("genesis hash:     %s\n", acctdb_base58_encode_32(in.hash.b, h));
    printf("cluster type:     %s (%u)\n", in.cluster_name, in.cluster_type);
    printf("accounts:         %llu\n", (unsigned long long)in.accounts);
    printf("rewards pools:    %llu\n", (unsigned long long)in.rewards_pools);
    printf("native programs:  %llu\n", (unsigned long long)in.native_programs);
    printf("capitalization:   %llu lamports\n", (unsigned long long)in.capitalization);
    printf("creation time:    %lld\n", (long long)in.creation_time);
    printf("ticks per slot:   %llu\n", (unsigned long long)in.ticks_per_slot);
    printf("slots per epoch:  %llu\n", (unsigned long long)in.slots_per_epoch);
    printf("file size:        %llu bytes\n", (unsigned long long)in.file_sz);
    return 0;
}
