/* tools/acctdb/cmd_stop.c - graceful stop on SIGINT and SIGTERM for the
 * commands that run a database for a while (db workload, db snapshot,
 * serve): the handler records the signal and interrupts the database
 * (acctdb_db_interrupt: async-signal-safe), the command ends its current
 * atomic step, and tool_shutdown commits the newest root and reports how
 * long that took.  A second signal gets the default action (SA_RESETHAND),
 * so an operator can still kill a stuck process with a second Ctrl-C. */
#include "cmd.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

volatile int tool_stop_sig;
static acctdb_db_t *volatile g_db;
static volatile struct timespec g_sig_ts; /* the first signal (clock_gettime: async-signal-safe) */

static void
on_signal(int sig) {
    if (!tool_stop_sig) clock_gettime(CLOCK_MONOTONIC, (struct timespec *)&g_sig_ts);
    tool_stop_sig = sig;
    acctdb_db_t *db = g_db;
    if (db) acctdb_db_interrupt(db);
}

void
tool_stop_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void
tool_stop_watch(acctdb_db_t *db) {
    g_db = db;
    /* A signal that came before the database was open still counts. */
    if (db && tool_stop_sig) acctdb_db_interrupt(db);
}

char const *
tool_stop_name(void) {
    switch (tool_stop_sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    default:
        return "a signal";
    }
}

int
tool_shutdown(acctdb_db_t *db, char const *who) {
    tool_stop_watch(NULL);
    acctdb_shutdown_report_t r;
    char                     msg[1024];
    int                      rc = acctdb_db_shutdown(db, &r, msg, sizeof msg);
    if (tool_stop_sig) printf("stopped:              by %s\n", tool_stop_name());
    printf("shutdown:             %.2f s (service passes in flight %.2f s; final flush of %.1f MiB "
           "and commit %.2f s); root %llu durable%s",
           r.total_s, r.wait_s, (double)r.flushed_bytes / (1 << 20), r.flush_s,
           (unsigned long long)r.durable_slot, r.clean ? "" : " (NOT the newest root)");
    if (r.dropped_banks)
        printf("; %llu unrooted banks dropped", (unsigned long long)r.dropped_banks);
    printf("\n");
    if (rc) {
        fflush(stdout);
        fprintf(stderr, "acctdb %s: shutdown: %s (the database reopens at root %llu)\n", who,
                msg[0] ? msg : acctdb_strerror(rc), (unsigned long long)r.durable_slot);
        return 2;
    }
    return 0;
}

double
tool_stop_elapsed_s(void) {
    if (!tool_stop_sig) return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - g_sig_ts.tv_sec) + (double)(now.tv_nsec - g_sig_ts.tv_nsec) * 1e-9;
}

int
tool_stopped_create(char const *who, char const *msg, char const *left) {
    printf("stopped:              by %s, %.2f s after the signal; %s\n", tool_stop_name(),
           tool_stop_elapsed_s(), left);
    fflush(stdout);
    fprintf(stderr, "acctdb %s: %s\n", who, msg);
    return 2;
}
