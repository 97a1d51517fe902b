/* tools/acctdb/cmd.h - the subcommands of the acctdb binary.  Each is a
 * thin layer over include/acctdb.h, and acctdb_sim.h for generating
 * snapshots and workloads (the only headers tools may use). */
#ifndef ACCTDB_TOOL_CMD_H
#define ACCTDB_TOOL_CMD_H

#include "acctdb_sim.h"

#include <stdio.h>

/* Each returns the process exit status: 0 ok, 1 a negative answer (a check
 * failed, an account is absent), 2 usage or input errors, 3 the database is
 * in use by another opener (acctdb db). */
int cmd_b3sum(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_snapshot_gen(int argc, char **argv);
int cmd_genesis(int argc, char **argv);
int cmd_db(int argc, char **argv);

/* A progress bar on stderr (cmd_snapshot.c): done/total in bytes, or in
 * `unit`s when unit is set.  Zero-initialize; pass as the progress ctx. */
typedef struct tool_bar {
    double      t0, last;
    bool        drawn;
    char const *unit;
} tool_bar_t;
void tool_progress(void *ctx, char const *what, uint64_t done, uint64_t total);

/* One account as a JSON line, the shape `acctdb snapshot ls/get` print
 * (cmd_snapshot.c): pubkey, lamports, owner, executable, rent_epoch,
 * data_len, slot, data (base64); u64 values exact. */
void tool_print_account(FILE *f, acctdb_account_t const *a, uint64_t slot);

/* Prints a genesis file's accounts as JSON lines (cmd_snapshot.c). */
int tool_print_accounts_genesis(char const *path);

/* Print "acctdb: <what>: <strerror(err)>" to stderr; returns 2. */
int tool_fail(int err, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
