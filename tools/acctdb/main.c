/* tools/acctdb/main.c - dispatch to subcommands. */
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char const *name;
    int (*fn)(int, char **);
    char const *help;
} subcmd_t;

static subcmd_t const g_cmds[] = {
    {"snapshot", cmd_snapshot, "load, verify, list and write Agave snapshot archives"},
    {"db", cmd_db, "accounts database: create, info, verify, get, scan, snapshot, workload"},
    {"genesis", cmd_genesis, "decode a genesis.bin (hash, cluster type, accounts), or make one"},
    {"serve", cmd_serve, "serve a database: JSON-RPC, snapshot downloads, the change stream"},
    {"bootstrap", cmd_bootstrap, "create a database from the best peer's snapshots"},
    {"follow", cmd_follow, "keep a database in step with a peer's change stream"},
    {"b3sum", cmd_b3sum, "BLAKE3 of files, output compatible with b3sum"},
    {"crashtest", cmd_crashtest, "kill -9 a database in random phases, reopen, check"},
    {"state", cmd_state, "Chilly, Avocado, LSR: compress, decompress, proofs, simulations"},
};

int
tool_fail(int err, char const *fmt, ...) {
    va_list ap;
    fputs("acctdb: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (err) fprintf(stderr, ": %s", acctdb_strerror(err));
    fputc('\n', stderr);
    return 2;
}

static void
usage(FILE *f) {
    fprintf(f, "usage: acctdb <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        fprintf(f, "  %-10s %s\n", g_cmds[i].name, g_cmds[i].help);
    fprintf(f, "\nacctdb <command> --help for a command's options.\n");
}

int
main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("acctdb %s\n", acctdb_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        if (!strcmp(argv[1], g_cmds[i].name)) return g_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "acctdb: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
