/* tools/acctdb/cmd_snapshot.c - `acctdb snapshot info|verify|ls|get|manifest`:
 * thin layers over acctdb_snapshot_*. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char const USAGE[] =
    "usage: acctdb snapshot <command> [options] ARCHIVE [INCREMENTAL]\n"
    "       acctdb snapshot <command> [options] --dir ARCHIVE_DIR\n"
    "\n"
    "commands:\n"
    "  info      slot, base slot, era, accounts, capitalization, hashes, sizes\n"
    "  verify    full verification; exit 0 only if every check matches\n"
    "  ls        one JSON object per live account per line [--owner PUBKEY]\n"
    "  get       one account as JSON (PUBKEY after the archives); exit 1 if absent\n"
    "  manifest  every decoded manifest field (--json), without loading accounts\n"
    "  gen       generate a synthetic snapshot (acctdb snapshot gen --help)\n"
    "\n"
    "options:\n"
    "  --dir DIR        pick the newest full archive in DIR and its newest incremental\n"
    "  --store DIR      keep the loaded account files in DIR (default: a temporary dir)\n"
    "  --strict-name    an archive name that does not follow the pattern is an error\n"
    "  --genesis FILE   (verify) check the bank's genesis fields against the cluster's\n"
    "                   genesis.bin (creation time, ticks, ns per slot, slots per year,\n"
    "                   epoch schedule); without it those checks are skipped\n"
    "  --threads N      worker threads, 0 to 1024 (default 0: all CPUs)\n"
    "  --owner PUBKEY   ls: only accounts owned by PUBKEY\n"
    "  --quiet          no progress bar\n";

/* ---- progress ----------------------------------------------------------- */

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void
tool_progress(void *ctx, char const *what, uint64_t done, uint64_t total) {
    tool_bar_t *b = ctx;
    double      t = now_s();
    if (b->t0 == 0)
        b->t0 = t;
    else if (done < total && t - b->last < 0.2)
        return;
    double      el = t - b->t0;
    double      rate = el > 0 ? (double)done / el : 0;
    double      eta = rate > 0 ? (double)(total - done) / rate : 0;
    int         pct = total ? (int)(100.0 * (double)done / (double)total) : 0;
    char        bar[31];
    int         fill = pct * 30 / 100;
    char const *name = strrchr(what, '/') ? strrchr(what, '/') + 1 : what;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    if (b->unit)
        fprintf(stderr, "\r%.40s [%s] %3d%% %llu/%llu %s %7.1f/s ETA %4.0fs ", name, bar, pct,
                (unsigned long long)done, (unsigned long long)total, b->unit, rate, eta);
    else
        fprintf(stderr, "\r%.40s [%s] %3d%% %7.1f MiB %6.1f MiB/s ETA %4.0fs ", name, bar, pct,
                (double)done / 1048576.0, rate / 1048576.0, eta);
    if (done >= total) fputc('\n', stderr);
    b->last = t;
    b->drawn = true;
}

/* ---- JSON output -------------------------------------------------------- */

static void
b64(FILE *f, uint8_t const *p, uint64_t n) {
    static char const t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char              out[4096];
    size_t            o = 0;
    for (uint64_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
        if (o > sizeof out - 8) {
            fwrite(out, 1, o, f);
            o = 0;
        }
    }
    fwrite(out, 1, o, f);
}

void
tool_print_account(FILE *f, acctdb_account_t const *a, uint64_t slot) {
    char pk[ACCTDB_BASE58_32_SZ], ow[ACCTDB_BASE58_32_SZ];
    fprintf(f,
            "{\"pubkey\":\"%s\",\"lamports\":%llu,\"owner\":\"%s\",\"executable\":%s,"
            "\"rent_epoch\":%llu,\"data_len\":%llu,\"slot\":%llu,\"data\":\"",
            acctdb_base58_encode_32(a->pubkey.b, pk), (unsigned long long)a->lamports,
            acctdb_base58_encode_32(a->owner.b, ow), a->executable ? "true" : "false",
            (unsigned long long)a->rent_epoch, (unsigned long long)a->data_len,
            (unsigned long long)slot);
    b64(f, a->data, a->data_len);
    fputs("\"}\n", f);
}

static int
ls_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)ctx;
    tool_print_account(stdout, a, slot);
    return ferror(stdout) ? -5 /* -EIO */ : 0;
}

/* ---- commands ----------------------------------------------------------- */

static void
print_checks(acctdb_snapshot_t *s) {
    for (size_t i = 0; i < acctdb_snapshot_check_cnt(s); i++) {
        acctdb_check_t c;
        acctdb_snapshot_check(s, i, &c);
        printf("%s check: %s: %s\n", c.name,
               c.status == ACCTDB_CHECK_PASS   ? "ok"
               : c.status == ACCTDB_CHECK_SKIP ? "skipped"
                                               : "MISMATCH",
               c.detail);
    }
}

static void
print_info(acctdb_snapshot_info_t const *in, char const *full, char const *inc) {
    char x[ACCTDB_BASE58_32_SZ];
    printf("archive:              %s\n", full);
    if (inc) printf("incremental:          %s\n", inc);
    printf("slot:                 %llu\n", (unsigned long long)in->slot);
    if (in->has_incremental)
        printf("base slot:            %llu\n", (unsigned long long)in->base_slot);
    printf("parent slot:          %llu\n", (unsigned long long)in->parent_slot);
    printf("epoch:                %llu\n", (unsigned long long)in->epoch);
    printf("block height:         %llu\n", (unsigned long long)in->block_height);
    printf("era:                  %s\n", in->era);
    printf("account files:        %llu\n", (unsigned long long)in->account_files);
    printf("account records:      %llu (%llu superseded by newer versions)\n",
           (unsigned long long)in->records, (unsigned long long)in->duplicates);
    printf("live accounts:        %llu\n", (unsigned long long)in->live_accounts);
    printf("capitalization:       %llu lamports (manifest %llu)\n",
           (unsigned long long)in->capitalization, (unsigned long long)in->manifest_capitalization);
    printf("accounts_data_len:    %llu bytes (manifest %llu)\n",
           (unsigned long long)in->accounts_data_len,
           (unsigned long long)in->manifest_accounts_data_len);
    if (in->has_lt_checksum)
        printf("lattice checksum:     %s\n", acctdb_base58_encode_32(in->lt_checksum, x));
    printf("bank hash:            %s\n", acctdb_base58_encode_32(in->bank_hash.b, x));
    printf("parent bank hash:     %s\n", acctdb_base58_encode_32(in->parent_bank_hash.b, x));
    if (in->has_archive_hash)
        printf("archive name hash:    %s\n", acctdb_base58_encode_32(in->archive_hash.b, x));
    printf("compressed size:      %llu bytes\n", (unsigned long long)in->compressed_sz);
    printf("tar size:             %llu bytes (%llu zstd/lz4 frames)\n",
           (unsigned long long)in->uncompressed_sz, (unsigned long long)in->zstd_frames);
    printf("manifest:             %llu bytes; status cache %llu bytes\n",
           (unsigned long long)in->manifest_sz, (unsigned long long)in->status_cache_sz);
}

int
tool_print_accounts_genesis(char const *path) {
    acctdb_snapshot_t     *s;
    acctdb_snapshot_opts_t o = {0};
    int                    rc = acctdb_genesis_open(&s, path, &o);
    if (rc) {
        fprintf(stderr, "acctdb: %s\n", s ? acctdb_snapshot_errmsg(s) : acctdb_strerror(rc));
        acctdb_snapshot_close(s);
        return 2;
    }
    rc = acctdb_snapshot_iterate(s, NULL, ls_cb, NULL);
    acctdb_snapshot_close(s);
    return rc ? tool_fail(rc, "listing %s", path) : 0;
}

int
cmd_snapshot(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    char const *sub = argv[1];
    if (!strcmp(sub, "gen")) return cmd_snapshot_gen(argc - 1, argv + 1);
    bool is_info = !strcmp(sub, "info"), is_verify = !strcmp(sub, "verify");
    bool is_ls = !strcmp(sub, "ls"), is_get = !strcmp(sub, "get");
    bool is_manifest = !strcmp(sub, "manifest");
    if (!is_info && !is_verify && !is_ls && !is_get && !is_manifest) {
        fprintf(stderr, "acctdb snapshot: unknown command '%s'\n\n%s", sub, USAGE);
        return 2;
    }

    enum { O_DIR = 1, O_STORE, O_STRICT, O_THREADS, O_OWNER, O_QUIET, O_JSON, O_HELP, O_GENESIS };
    static struct option const lo[] = {{"dir", required_argument, 0, O_DIR},
                                       {"store", required_argument, 0, O_STORE},
                                       {"strict-name", no_argument, 0, O_STRICT},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"owner", required_argument, 0, O_OWNER},
                                       {"quiet", no_argument, 0, O_QUIET},
                                       {"json", no_argument, 0, O_JSON},
                                       {"help", no_argument, 0, O_HELP},
                                       {"genesis", required_argument, 0, O_GENESIS},
                                       {0, 0, 0, 0}};
    char const                *dir = NULL, *owner_s = NULL;
    acctdb_snapshot_opts_t     o = {0};
    bool                       quiet = false, json = false;
    int                        c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", lo, NULL)) != -1) {
        switch (c) {
        case O_DIR:
            dir = optarg;
            break;
        case O_STORE:
            o.store_dir = optarg;
            break;
        case O_STRICT:
            o.strict_name = true;
            break;
        case O_GENESIS:
            o.genesis_path = optarg;
            break;
        case O_THREADS: {
            uint64_t v;
            int      st = tool_arg_u64("--threads", "a number", optarg, 0, TOOL_THREADS_MAX, &v);
            if (st) return st;
            o.threads = (unsigned)v;
            break;
        }
        case O_OWNER:
            owner_s = optarg;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_JSON:
            json = true;
            break;
        case O_HELP:
            fputs(USAGE, stdout);
            return 0;
        default:
            fputs(USAGE, stderr);
            return 2;
        }
    }
    int         nargs = argc - 1 - optind;
    char      **args = argv + 1 + optind;
    char        full[4096], inc[4096], msg[1024];
    char const *pubkey_s = NULL;
    if (is_get) {
        if (nargs < 1) return tool_fail(0, "snapshot get: missing PUBKEY");
        pubkey_s = args[--nargs];
    }
    if (dir) {
        if (nargs) return tool_fail(0, "snapshot %s: give archives or --dir, not both", sub);
        int rc = acctdb_snapshot_find(dir, full, sizeof full, inc, sizeof inc, msg, sizeof msg);
        if (rc) return tool_fail(0, "%s", msg);
    } else {
        if (nargs < 1 || nargs > 2) {
            fputs(USAGE, stderr);
            return 2;
        }
        snprintf(full, sizeof full, "%s", args[0]);
        snprintf(inc, sizeof inc, "%s", nargs == 2 ? args[1] : "");
    }
    if (is_manifest && !json)
        return tool_fail(0, "snapshot manifest: only --json output exists; add --json");
    acctdb_pubkey_t owner, pk;
    if (owner_s && acctdb_base58_decode_32(owner_s, owner.b))
        return tool_fail(0, "--owner: '%s' is not a base58 pubkey", owner_s);
    if (pubkey_s && acctdb_base58_decode_32(pubkey_s, pk.b))
        return tool_fail(0, "'%s' is not a base58 pubkey", pubkey_s);

    o.no_verify = !is_verify;
    o.manifest_only = is_manifest;
    tool_bar_t bar = {0};
    if (!quiet && isatty(2)) {
        o.progress = tool_progress;
        o.progress_ctx = &bar;
    }
    acctdb_snapshot_t *s = NULL;
    int                rc = acctdb_snapshot_open(&s, full, inc[0] ? inc : NULL, &o);
    if (bar.drawn && rc) fputc('\n', stderr);
    if (rc) {
        if (is_verify && s) print_checks(s);
        fprintf(stderr, "acctdb: %s\n", s ? acctdb_snapshot_errmsg(s) : acctdb_strerror(rc));
        acctdb_snapshot_close(s);
        return rc == ACCTDB_ERR_MISMATCH ? 1 : 2;
    }
    int status = 0;
    if (is_manifest) {
        char  *j;
        size_t n;
        rc = acctdb_snapshot_manifest_json(s, true, &j, &n);
        if (rc) {
            status = tool_fail(rc, "manifest");
        } else {
            fwrite(j, 1, n, stdout);
            fputc('\n', stdout);
            acctdb_free(j);
        }
    } else if (is_info || is_verify) {
        acctdb_snapshot_info_t in;
        acctdb_snapshot_info(s, &in);
        print_info(&in, full, inc[0] ? inc : NULL);
        if (is_verify) {
            printf("\n");
            print_checks(s);
            printf("\nverified: every check matches\n");
        }
    } else if (is_ls) {
        rc = acctdb_snapshot_iterate(s, owner_s ? &owner : NULL, ls_cb, NULL);
        if (rc) status = tool_fail(rc, "listing accounts");
    } else if (is_get) {
        acctdb_account_t a;
        uint64_t         slot;
        rc = acctdb_snapshot_get(s, &pk, &a, &slot);
        if (rc == ACCTDB_ERR_NOT_FOUND) {
            fprintf(stderr, "acctdb: %s: no such live account\n", pubkey_s);
            status = 1;
        } else if (rc) {
            status = tool_fail(rc, "get %s: %s", pubkey_s, acctdb_snapshot_errmsg(s));
        } else {
            tool_print_account(stdout, &a, slot);
        }
    }
    acctdb_snapshot_close(s);
    if (fflush(stdout) != 0) return tool_fail(0, "writing output failed");
    return status;
}
