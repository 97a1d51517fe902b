/* tools/acctdb/cmd.h - the subcommands of the acctdb binary.  Each is a
 * thin layer over include/acctdb.h (the only header tools may use). */
#ifndef ACCTDB_TOOL_CMD_H
#define ACCTDB_TOOL_CMD_H

#include "acctdb.h"

/* Each returns the process exit status: 0 ok, 1 a negative answer (a check
 * failed, an account is absent), 2 usage or input errors. */
int cmd_b3sum(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_snapshot_gen(int argc, char **argv);
int cmd_genesis(int argc, char **argv);

/* Prints a genesis file's accounts as JSON lines (cmd_snapshot.c). */
int tool_print_accounts_genesis(char const *path);

/* Print "acctdb: <what>: <strerror(err)>" to stderr; returns 2. */
int tool_fail(int err, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
