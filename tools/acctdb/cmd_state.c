/* tools/acctdb/cmd_state.c - `acctdb state`: Chilly, Avocado and LSR
 * (docs/STATE.md).
 *
 *   acctdb state compress DIR [--slot S] --idle-slots N [--limit K]
 *   acctdb state decompress DIR PUBKEY DATA_FILE [--slot S] [--lamports L]
 *   acctdb state rent-sweep DIR --k K --n N [--slot S]
 *   acctdb state prove DIR PUBKEY
 *   acctdb state check-create DIR PUBKEY (--proof FILE | --blockhash H --seed K)
 *   acctdb state verify-proof ROOT PROOF_FILE
 *
 * compress and decompress make one bank on the root (at --slot, default
 * root + 1), freeze it, root it and close (the root is then durable).
 * Exit status: 0, 1 a negative answer (a proof that does not hold, data
 * that is not the account's), 2 usage or input errors, 3 the database is
 * in use. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROOF_FILE_MAX (64u << 10)
#define DATA_FILE_MAX  (10u << 20)

static char const USAGE[] =
    "usage: acctdb state <command> ...\n"
    "  compress DIR --idle-slots N [--slot S] [--limit K]\n"
    "      compress (Avocado) the accounts not written for N slots, the longest\n"
    "      idle first, at most K (default all), in one bank at slot S (default\n"
    "      the root + 1) that is then rooted\n"
    "  decompress DIR PUBKEY DATA_FILE [--slot S] [--lamports L]\n"
    "      restore a compressed account from its data (which must hash to what\n"
    "      was kept); L lamports for an account whose lamports were burned\n"
    "  rent-sweep DIR --k K --n N [--slot S]\n"
    "      LSR rent: compact (compress, burn the lamports of) every account with\n"
    "      (S - creation slot) * K * state_size^N * size > lamports, in one bank\n"
    "      at slot S (default the root + 1) that is then rooted\n"
    "  prove DIR PUBKEY\n"
    "      a membership (compressed) or exclusion proof of PUBKEY against the\n"
    "      trie of compressed accounts, as JSON with the root (stdout)\n"
    "  check-create DIR PUBKEY (--proof FILE | --blockhash HASH --seed KEY) [--slot S]\n"
    "      may an account PUBKEY be created at slot S (default the root)?  By an\n"
    "      exclusion proof against the current root, or as the address\n"
    "      BLAKE3(HASH | KEY) of a recent blockhash newer than the trie's last\n"
    "      insertion; exit 0 if so, 1 if not\n"
    "  verify-proof ROOT PROOF_FILE\n"
    "      check a trie proof document (membership or exclusion) against the\n"
    "      trusted base58 ROOT; exit 0 if it holds, 1 if not\n"
    "  chilly-sim [--trace FILE] [OPTIONS]  Chilly vs a same-size LRU (--help)\n";

/* Reads a whole file of at most max bytes (malloc'd, NUL-terminated). */
static int
read_file(char const *path, size_t max, char **out, size_t *sz_out) {
    *out = NULL;
    *sz_out = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ACCTDB_ERR_INVALID;
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        return ACCTDB_ERR_FULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    int    err = ferror(f);
    fclose(f);
    if (err || n != (size_t)st.st_size) {
        free(buf);
        return ACCTDB_ERR_IO;
    }
    buf[n] = 0;
    *out = buf;
    *sz_out = n;
    return 0;
}

/* A base58 32-byte argument: 0, or 2 (usage) with a message. */
static int
pubkey_arg(char const *cmd, char const *what, char const *text, uint8_t out[32]) {
    if (!acctdb_base58_decode_32(text, out)) return 0;
    fprintf(stderr, "acctdb state %s: %s '%s' is not a base58 32-byte value\n", cmd, what, text);
    return 2;
}

static int
do_verify_proof(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "acctdb state verify-proof: expected ROOT PROOF_FILE\n");
        return 2;
    }
    uint8_t root[32];
    if (pubkey_arg("verify-proof", "ROOT", argv[1], root)) return 2;
    char  *text;
    size_t sz;
    int    rc = read_file(argv[2], PROOF_FILE_MAX, &text, &sz);
    if (rc == ACCTDB_ERR_FULL) {
        fprintf(stderr, "acctdb state verify-proof: %s: larger than %u bytes\n", argv[2],
                PROOF_FILE_MAX);
        return 2;
    }
    if (rc) return tool_fail(rc, "state verify-proof: %s", argv[2]);
    acctdb_trie_statement_t st;
    char                    msg[512];
    rc = acctdb_trie_verify_json(root, text, sz, &st, msg, sizeof msg);
    free(text);
    if (rc == ACCTDB_ERR_CORRUPT || rc == ACCTDB_ERR_NOMEM || rc == ACCTDB_ERR_INVALID) {
        fprintf(stderr, "acctdb state verify-proof: %s: %s\n", argv[2], msg);
        return 2;
    }
    char k58[ACCTDB_BASE58_32_SZ], v58[ACCTDB_BASE58_32_SZ];
    acctdb_base58_encode_32(st.key.b, k58);
    if (rc) {
        printf("does not hold: %s\n", msg);
        return 1;
    }
    if (st.is_member)
        printf("holds: %s is in the trie with value %s (%zu-byte proof, %zu steps)\n", k58,
               acctdb_base58_encode_32(st.value.b, v58), st.proof_bytes, st.steps);
    else
        printf("holds: %s is not in the trie (%zu-byte proof, %zu steps)\n", k58, st.proof_bytes,
               st.steps);
    return 0;
}

/* ---- the commands that change a database ---------------------------------- */

static struct option const g_lo[] = {
    {"slot", required_argument, NULL, 's'},
    {"idle-slots", required_argument, NULL, 'i'},
    {"limit", required_argument, NULL, 'l'},
    {"lamports", required_argument, NULL, 'L'},
    {"k", required_argument, NULL, 'K'},
    {"n", required_argument, NULL, 'N'},
    {"proof", required_argument, NULL, 'p'},
    {"blockhash", required_argument, NULL, 'b'},
    {"seed", required_argument, NULL, 'e'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct sargs {
    char const *pos[3];
    int         npos;
    bool        has_slot, has_idle, has_n;
    uint64_t    slot, idle, limit, lamports, n;
    char const *k;
    char const *proof, *blockhash, *seed;
} sargs_t;

static int
parse(char const *cmd, int argc, char **argv, sargs_t *a) {
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", g_lo, NULL)) != -1 || optind < argc) {
        int st = 0;
        if (c == -1) {
            if (a->npos == 3) {
                fprintf(stderr, "acctdb state %s: too many arguments ('%s')\n", cmd, argv[optind]);
                return 2;
            }
            a->pos[a->npos++] = argv[optind++];
            continue;
        }
        switch (c) {
        case 's':
            st = tool_arg_u64("--slot", "a slot number", optarg, 1, UINT64_MAX / 2, &a->slot);
            a->has_slot = true;
            break;
        case 'i':
            st = tool_arg_u64("--idle-slots", "a slot count", optarg, 0, UINT64_MAX / 2, &a->idle);
            a->has_idle = true;
            break;
        case 'l':
            st = tool_arg_u64("--limit", "a count", optarg, 0, UINT64_MAX, &a->limit);
            break;
        case 'L':
            st =
                tool_arg_u64("--lamports", "a lamport amount", optarg, 0, UINT64_MAX, &a->lamports);
            break;
        case 'K':
            a->k = optarg;
            break;
        case 'p':
            a->proof = optarg;
            break;
        case 'b':
            a->blockhash = optarg;
            break;
        case 'e':
            a->seed = optarg;
            break;
        case 'N':
            st = tool_arg_u64("--n", "an exponent", optarg, 0, 16, &a->n);
            a->has_n = true;
            break;
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        default:
            fprintf(stderr, "acctdb state %s: unknown option '%s'\n", cmd, argv[optind - 1]);
            return 2;
        }
        if (st) return st;
    }
    return -1;
}

static int
open_dir(char const *cmd, char const *dir, acctdb_db_t **db_out) {
    acctdb_db_config_t cfg;
    char               msg[1024];
    acctdb_db_config_default(&cfg);
    int rc = acctdb_db_config_read(&cfg, dir, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "acctdb state %s: %s\n", cmd, msg);
        return 2;
    }
    cfg.avocado = true; /* this command is the user's choice to compress */
    cfg.background = false;
    rc = acctdb_db_open(db_out, dir, &cfg, msg, sizeof msg);
    if (rc == ACCTDB_ERR_BUSY) {
        fprintf(stderr, "acctdb state %s: %s\n", cmd, msg);
        return 3;
    }
    if (rc) {
        fprintf(stderr, "acctdb state %s: %s: %s\n", cmd, dir, msg);
        return 2;
    }
    return 0;
}

/* Begins the bank at slot on the root (with its sysvars when the database
 * has bank state), or only creates it. */
static int
bank_start(acctdb_db_t *db, uint64_t slot, uint64_t root) {
    int rc = acctdb_db_bank_begin(db, slot, root, 0);
    if (rc == ACCTDB_ERR_UNSUPPORTED) rc = acctdb_db_store(db, slot, root, NULL, 0);
    return rc;
}

/* Freezes and roots slot; its blockhash is derived from the slot (a
 * maintenance bank has no PoH of its own). */
static int
bank_finish(acctdb_db_t *db, uint64_t slot, acctdb_bank_info_t *info) {
    acctdb_bank_meta_t m;
    memset(&m, 0, sizeof m);
    char seed[64];
    int  n = snprintf(seed, sizeof seed, "acctdb state bank %llu", (unsigned long long)slot);
    acctdb_blake3(seed, (size_t)n, m.blockhash.b, 32);
    int rc = acctdb_db_freeze(db, slot, &m, info);
    if (!rc) rc = acctdb_db_root(db, slot);
    return rc;
}

static int
finish_close(char const *cmd, acctdb_db_t *db, int status) {
    char msg[512];
    int  rc = acctdb_db_shutdown(db, NULL, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "acctdb state %s: closing: %s\n", cmd, msg);
        return 2;
    }
    return status;
}

/* The maintenance bank's slot: --slot, or the root + 1; it must be above
 * the root.  0, or the exit status after closing db. */
static int
bank_slot(char const *cmd, acctdb_db_t *db, sargs_t const *a, uint64_t *root_out,
          uint64_t *slot_out) {
    *root_out = acctdb_db_root_slot(db, NULL);
    *slot_out = a->has_slot ? a->slot : *root_out + 1;
    if (*slot_out > *root_out) return 0;
    fprintf(stderr, "acctdb state %s: --slot %llu is not above the root %llu\n", cmd,
            (unsigned long long)*slot_out, (unsigned long long)*root_out);
    return finish_close(cmd, db, 2);
}

static int
do_compress(int argc, char **argv) {
    sargs_t a = {0};
    int     st = parse("compress", argc, argv, &a);
    if (st >= 0) return st;
    if (a.npos != 1 || !a.has_idle) {
        fprintf(stderr, "acctdb state compress: expected DIR --idle-slots N\n");
        return 2;
    }
    acctdb_db_t *db;
    if ((st = open_dir("compress", a.pos[0], &db))) return st;
    uint64_t root, slot;
    if ((st = bank_slot("compress", db, &a, &root, &slot))) return st;
    acctdb_compress_report_t rep;
    acctdb_bank_info_t       info;
    int                      rc = bank_start(db, slot, root);
    if (!rc) rc = acctdb_db_compress_idle(db, slot, root, a.idle, a.limit, &rep);
    if (!rc) rc = bank_finish(db, slot, &info);
    if (rc) {
        fprintf(stderr, "acctdb state compress: %s (%s)\n", acctdb_db_errmsg(db),
                acctdb_strerror(rc));
        return finish_close("compress", db, 2);
    }
    char ck[ACCTDB_BASE58_32_SZ];
    printf("slot %llu on root %llu: %llu accounts idle for %llu slots or more, %llu compressed, "
           "%llu skipped\n",
           (unsigned long long)slot, (unsigned long long)root, (unsigned long long)rep.candidates,
           (unsigned long long)a.idle, (unsigned long long)rep.compressed,
           (unsigned long long)rep.skipped);
    printf("data bytes %llu -> %llu; lattice checksum %s, capitalization %llu\n",
           (unsigned long long)rep.bytes_before, (unsigned long long)rep.bytes_after,
           acctdb_base58_encode_32(info.lt_checksum, ck), (unsigned long long)info.capitalization);
    return finish_close("compress", db, 0);
}

static int
do_decompress(int argc, char **argv) {
    sargs_t a = {0};
    int     st = parse("decompress", argc, argv, &a);
    if (st >= 0) return st;
    if (a.npos != 3) {
        fprintf(stderr, "acctdb state decompress: expected DIR PUBKEY DATA_FILE\n");
        return 2;
    }
    acctdb_pubkey_t key;
    if ((st = pubkey_arg("decompress", "PUBKEY", a.pos[1], key.b))) return st;
    char  *data;
    size_t sz;
    int    rc = read_file(a.pos[2], DATA_FILE_MAX, &data, &sz);
    if (rc == ACCTDB_ERR_FULL) {
        fprintf(stderr, "acctdb state decompress: %s: larger than 10 MiB (no account is)\n",
                a.pos[2]);
        return 2;
    }
    if (rc) return tool_fail(rc, "state decompress: %s", a.pos[2]);
    acctdb_db_t *db;
    if ((st = open_dir("decompress", a.pos[0], &db))) {
        free(data);
        return st;
    }
    uint64_t           root, slot;
    acctdb_bank_info_t info;
    if ((st = bank_slot("decompress", db, &a, &root, &slot))) {
        free(data);
        return st;
    }
    /* Checked before a bank is made: wrong data changes nothing at all. */
    acctdb_compressed_t ci;
    rc = acctdb_db_compressed_info(db, root, &key, &ci);
    if (rc == ACCTDB_ERR_NOT_FOUND) {
        fprintf(stderr, "acctdb state decompress: %s is not compressed\n", a.pos[1]);
        free(data);
        return finish_close("decompress", db, 1);
    }
    uint8_t h[32];
    acctdb_blake3(data, sz, h, 32);
    if (!rc && (ci.orig_len != sz || memcmp(h, ci.data_hash.b, 32))) {
        fprintf(stderr,
                "acctdb state decompress: %s holds %zu bytes that are not what %s was "
                "compressed from (%llu bytes, another hash); nothing changed\n",
                a.pos[2], sz, a.pos[1], (unsigned long long)ci.orig_len);
        free(data);
        return finish_close("decompress", db, 1);
    }
    if (!rc) rc = bank_start(db, slot, root);
    if (!rc) rc = acctdb_db_decompress(db, slot, root, &key, (uint8_t *)data, sz, a.lamports);
    if (!rc) rc = bank_finish(db, slot, &info);
    free(data);
    if (rc) {
        fprintf(stderr, "acctdb state decompress: %s (%s)\n", acctdb_db_errmsg(db),
                acctdb_strerror(rc));
        return finish_close("decompress", db, 2);
    }
    char ck[ACCTDB_BASE58_32_SZ];
    printf("slot %llu on root %llu: %s restored (%zu bytes); lattice checksum %s\n",
           (unsigned long long)slot, (unsigned long long)root, a.pos[1], sz,
           acctdb_base58_encode_32(info.lt_checksum, ck));
    return finish_close("decompress", db, 0);
}

static int
do_rent_sweep(int argc, char **argv) {
    sargs_t a = {0};
    int     st = parse("rent-sweep", argc, argv, &a);
    if (st >= 0) return st;
    if (a.npos != 1 || !a.k || !a.has_n) {
        fprintf(stderr, "acctdb state rent-sweep: expected DIR --k K --n N\n");
        return 2;
    }
    acctdb_db_t *db;
    if ((st = open_dir("rent-sweep", a.pos[0], &db))) return st;
    uint64_t root, slot;
    if ((st = bank_slot("rent-sweep", db, &a, &root, &slot))) return st;
    acctdb_bank_info_t   before, info;
    acctdb_rent_report_t rep;
    int                  rc = acctdb_db_bank_info(db, root, &before);
    if (!rc) rc = bank_start(db, slot, root);
    if (!rc) rc = acctdb_db_rent_sweep(db, slot, root, a.k, (uint32_t)a.n, &rep);
    if (!rc) rc = bank_finish(db, slot, &info);
    if (rc) {
        fprintf(stderr, "acctdb state rent-sweep: %s (%s)\n", acctdb_db_errmsg(db),
                acctdb_strerror(rc));
        return finish_close("rent-sweep", db, 2);
    }
    printf("slot %llu on root %llu: K %s, N %llu, state size %llu bytes over %llu accounts "
           "(%llu exempt)\n",
           (unsigned long long)slot, (unsigned long long)root, a.k, (unsigned long long)a.n,
           (unsigned long long)rep.state_size, (unsigned long long)rep.accounts,
           (unsigned long long)rep.exempt);
    printf("swept %llu accounts: %llu lamports burned, %llu data bytes freed; capitalization "
           "%llu -> %llu\n",
           (unsigned long long)rep.swept, (unsigned long long)rep.lamports_burned,
           (unsigned long long)rep.data_bytes_freed, (unsigned long long)before.capitalization,
           (unsigned long long)info.capitalization);
    return finish_close("rent-sweep", db, 0);
}

/* ---- the trie ---------------------------------------------------------------- */

static int
do_prove(int argc, char **argv) {
    sargs_t a = {0};
    int     st = parse("prove", argc, argv, &a);
    if (st >= 0) return st;
    if (a.npos != 2) {
        fprintf(stderr, "acctdb state prove: expected DIR PUBKEY\n");
        return 2;
    }
    acctdb_pubkey_t key;
    if ((st = pubkey_arg("prove", "PUBKEY", a.pos[1], key.b))) return st;
    acctdb_db_t *db;
    if ((st = open_dir("prove", a.pos[0], &db))) return st;
    acctdb_trie_proof_t *p = malloc(sizeof *p);
    char                *json = NULL;
    size_t               len = 0;
    int                  rc = p ? acctdb_db_prove(db, &key, p) : ACCTDB_ERR_NOMEM;
    if (!rc) rc = acctdb_trie_proof_json(p, &json, &len);
    if (rc) {
        fprintf(stderr, "acctdb state prove: %s\n", acctdb_strerror(rc));
        free(p);
        return finish_close("prove", db, 2);
    }
    fwrite(json, 1, len, stdout);
    fprintf(stderr,
            "trie at slot %llu: %llu keys, last insertion at slot %llu; %s %s (%zu-byte "
            "proof)\n",
            (unsigned long long)p->trie.slot, (unsigned long long)p->trie.keys,
            (unsigned long long)p->trie.last_insert_slot, a.pos[1],
            p->is_member ? "is in it" : "is not in it", p->len);
    acctdb_free(json);
    free(p);
    return finish_close("prove", db, 0);
}

static int
do_check_create(int argc, char **argv) {
    sargs_t a = {0};
    int     st = parse("check-create", argc, argv, &a);
    if (st >= 0) return st;
    if (a.npos != 2 || !a.proof == !(a.blockhash || a.seed) || !a.blockhash != !a.seed) {
        fprintf(stderr, "acctdb state check-create: expected DIR PUBKEY and either --proof FILE "
                        "or --blockhash HASH --seed KEY\n");
        return 2;
    }
    acctdb_pubkey_t      key, seed;
    acctdb_hash_t        bh;
    acctdb_create_cred_t cred = {0};
    acctdb_trie_proof_t *p = NULL;
    if ((st = pubkey_arg("check-create", "PUBKEY", a.pos[1], key.b))) return st;
    if (a.blockhash) {
        if ((st = pubkey_arg("check-create", "--blockhash", a.blockhash, bh.b)) ||
            (st = pubkey_arg("check-create", "--seed", a.seed, seed.b)))
            return st;
        cred.blockhash = &bh;
        cred.seed = &seed;
    } else {
        char  *text, msg[512];
        size_t sz;
        int    rc = read_file(a.proof, PROOF_FILE_MAX, &text, &sz);
        if (rc == ACCTDB_ERR_FULL) {
            fprintf(stderr, "acctdb state check-create: %s: larger than %u bytes\n", a.proof,
                    PROOF_FILE_MAX);
            return 2;
        }
        if (rc) return tool_fail(rc, "state check-create: %s", a.proof);
        if (!(p = malloc(sizeof *p))) {
            free(text);
            return tool_fail(ACCTDB_ERR_NOMEM, "state check-create");
        }
        rc = acctdb_trie_proof_from_json(text, sz, p, msg, sizeof msg);
        free(text);
        if (rc) {
            fprintf(stderr, "acctdb state check-create: %s: %s\n", a.proof, msg);
            free(p);
            return 2;
        }
        if (memcmp(p->key.b, key.b, 32)) {
            fprintf(stderr, "acctdb state check-create: %s is a proof about another key\n",
                    a.proof);
            free(p);
            return 1;
        }
        cred.proof = p->proof;
        cred.proof_len = p->len;
    }
    acctdb_db_t *db;
    if ((st = open_dir("check-create", a.pos[0], &db))) {
        free(p);
        return st;
    }
    uint64_t slot = a.has_slot ? a.slot : acctdb_db_root_slot(db, NULL);
    int      rc = acctdb_db_check_create(db, slot, &key, &cred);
    free(p);
    if (!rc) {
        printf("may create %s at slot %llu\n", a.pos[1], (unsigned long long)slot);
        return finish_close("check-create", db, 0);
    }
    printf("may not create: %s (%s)\n", acctdb_db_errmsg(db), acctdb_strerror(rc));
    return finish_close(
        "check-create", db,
        rc == ACCTDB_ERR_MISMATCH || rc == ACCTDB_ERR_COMPRESSED || rc == ACCTDB_ERR_NOT_FOUND ? 1
                                                                                               : 2);
}

int
cmd_state(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "verify-proof")) return do_verify_proof(argc - 1, argv + 1);
    if (!strcmp(argv[1], "prove")) return do_prove(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check-create")) return do_check_create(argc - 1, argv + 1);
    if (!strcmp(argv[1], "compress")) return do_compress(argc - 1, argv + 1);
    if (!strcmp(argv[1], "decompress")) return do_decompress(argc - 1, argv + 1);
    if (!strcmp(argv[1], "rent-sweep")) return do_rent_sweep(argc - 1, argv + 1);
    if (!strcmp(argv[1], "chilly-sim")) return cmd_state_chilly_sim(argc - 1, argv + 1);
    fprintf(stderr, "acctdb state: unknown command '%s'\n\n%s", argv[1], USAGE);
    return 2;
}
