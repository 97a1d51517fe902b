/* tools/acctdb/cmd_follow.c - acctdb follow: keep a database in step with a
 * peer's change stream (acctdb_follow), bootstrapping it when absent. */
#include "cmd.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile int g_stop;

static void
on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static void
log_line(void *ctx, char const *line) {
    (void)ctx;
    fprintf(stderr, "follow: %s\n", line);
}

static int
usage(FILE *f) {
    fprintf(
        f,
        "usage: acctdb follow --peer URL --dir DIR [--slots N] [--seconds S] [--min-speed RATE]\n"
        "\n"
        "Keeps the database in DIR in step with the peer's /changes stream: each rooted\n"
        "slot is applied, frozen and checked against the lattice checksum and bank hash the\n"
        "stream closes it with, then rooted.  DIR is bootstrapped from the peer's snapshots\n"
        "when it holds no database, and again (from a fresh snapshot) when the follower\n"
        "falls behind the peer's window (SlotTooOld) or a slot does not verify.  Runs until\n"
        "SIGINT/SIGTERM, or N slots applied, or S seconds.  RATE (bootstraps' minimum\n"
        "download speed, bytes/s) takes K, M, G suffixes.\n"
        "Ranges: N 0 (no limit) to 2^40, S 0 (no limit) to 10^7, RATE 0 to 100G.\n");
    return 2;
}

int
cmd_follow(int argc, char **argv) {
    char const *peer = NULL, *dir = NULL;
    uint64_t    slots = 0, secs = 0, min_speed = 0;
    for (int i = 1; i < argc; i++) { /* argv[0]: "follow" */
        char const *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int         rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--peer") && v) {
            peer = v, i++;
        } else if (!strcmp(a, "--dir") && v) {
            dir = v, i++;
        } else if (!strcmp(a, "--slots")) {
            rc = tool_arg_u64(a, "a count", v, 0, 1ull << 40, &slots), i++;
        } else if (!strcmp(a, "--seconds")) {
            rc = tool_arg_u64(a, "a count", v, 0, 10000000, &secs), i++;
        } else if (!strcmp(a, "--min-speed")) {
            rc = tool_arg_size(a, v, 1, 0, 100ull << 30, &min_speed), i++;
        } else {
            fprintf(stderr, "acctdb follow: %s '%s'\n",
                    a[0] == '-' && (!strcmp(a, "--peer") || !strcmp(a, "--dir"))
                        ? "needs a value:"
                        : "unknown argument",
                    a);
            return usage(stderr);
        }
        if (rc) return rc;
    }
    if (!peer || !dir) {
        fprintf(stderr, "acctdb follow: --peer URL and --dir DIR are required\n");
        return usage(stderr);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    acctdb_follow_opts_t   o = {.peer = peer,
                                .dir = dir,
                                .stop_after_slots = slots,
                                .stop_after_s = (uint32_t)secs,
                                .min_speed = min_speed,
                                .log = log_line,
                                .stop = &g_stop};
    acctdb_follow_result_t r;
    char                   msg[1024];
    int                    rc = acctdb_follow(&o, &r, msg, sizeof msg);
    char                   ck[ACCTDB_BASE58_32_SZ];
    printf("slots applied:        %llu\n", (unsigned long long)r.slots_applied);
    printf("bootstraps:           %llu (%llu resets)\n", (unsigned long long)r.bootstraps,
           (unsigned long long)r.resets);
    if (r.slots_applied) {
        printf("last slot:            %llu\n", (unsigned long long)r.last_slot);
        printf("lattice checksum:     %s\n", acctdb_base58_encode_32(r.lt_checksum, ck));
    }
    if (rc) {
        fprintf(stderr, "acctdb follow: %s\n", msg[0] ? msg : acctdb_strerror(rc));
        return rc == ACCTDB_ERR_BUSY ? 3 : 2;
    }
    return 0;
}
