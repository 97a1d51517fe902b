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
int cmd_serve(int argc, char **argv);     /* cmd_serve.c */
int cmd_bootstrap(int argc, char **argv); /* cmd_bootstrap.c */
int cmd_follow(int argc, char **argv);    /* cmd_follow.c */
int cmd_crashtest(int argc, char **argv); /* cmd_crashtest.c */
int cmd_state(int argc, char **argv);     /* cmd_state.c */
int cmd_state_chilly_sim(int argc, char **argv);

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

/* Numeric option values, parsed strictly (cmd_args.c); every numeric option
 * of every subcommand goes through these.  opt is the option as the user
 * knows it ("--threads").  On success *out gets the value and the call
 * returns 0.  Else *out is untouched, one line goes to stderr,
 *   acctdb: --threads: '-1' is not a number from 0 to 1024
 * (or "acctdb: --threads needs a value" when s is NULL), and the call
 * returns 2, the usage exit status, for the caller to return.
 *
 * tool_arg_u64: decimal digits only, at least one: no sign, space, "0x",
 * suffix or trailing character; a value that overflows 64 bits is out of
 * range; then min <= value <= max.  what names the kind of number in the
 * message ("a number", "a slot number", "a count").
 *
 * tool_arg_size: the same digits, then at most one suffix K, M, G or T
 * (either case; powers of 1024); a bare number counts `unit` bytes (1,
 * 1 KiB, 1 MiB or 1 GiB; the cache options use 1 MiB).  min and max are in
 * bytes, and the message prints them with the largest exact suffix.
 *
 * tool_arg_double: a decimal fraction: digits with at most one '.', then
 * an optional exponent (e, an optional sign, digits), read by strtod; no
 * sign, space, hex, nan or inf; finite, no range error, min <= v <= max. */
/* The most worker threads any --threads option takes (the engine's limit
 * for the threads config key). */
#define TOOL_THREADS_MAX 1024

int tool_arg_u64(char const *opt, char const *what, char const *s, uint64_t min, uint64_t max,
                 uint64_t *out);
int tool_arg_size(char const *opt, char const *s, uint64_t unit, uint64_t min, uint64_t max,
                  uint64_t *out);
int tool_arg_double(char const *opt, char const *what, char const *s, double min, double max,
                    double *out);

/* Graceful stop (cmd_stop.c).  tool_stop_install: SIGINT and SIGTERM set
 * tool_stop_sig (usable as a workload's stop flag) and interrupt the
 * database given to tool_stop_watch; a second signal kills.  tool_shutdown:
 * acctdb_db_shutdown, then "stopped:" (if a signal came) and "shutdown:"
 * lines on stdout (time, final flush, durable root); returns 0, or 2 with
 * the error on stderr if the newest root could not be made durable. */
extern volatile int tool_stop_sig;
void                tool_stop_install(void);
void                tool_stop_watch(acctdb_db_t *db);
char const         *tool_stop_name(void);
int                 tool_shutdown(acctdb_db_t *db, char const *who);
/* Seconds from the first signal to now (0 without one). */
double tool_stop_elapsed_s(void);
/* A command that creates (db create, bootstrap) stopped by a signal before
 * it finished: "stopped:" on stdout (the signal, what was left, how long
 * stopping took) and the library's message on stderr; returns 2. */
int tool_stopped_create(char const *who, char const *msg, char const *left);

/* Print "acctdb: <what>: <strerror(err)>" to stderr; returns 2. */
int tool_fail(int err, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
