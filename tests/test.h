/* tests/test.h - shared helpers for the cmocka test suite.
 *
 * Each test file registers its group with ADB_TEST_GROUP(name, tests); the
 * runner (tests/test_main.c) finds every group through a linker section, so
 * adding a file needs no central edit.
 *
 *   ACCTDB_TEST_SCALE   multiplies every long test's iteration count (1)
 *   ACCTDB_TEST_SEED    seed for randomized tests (default: from the clock;
 *                       always printed so a failure can be replayed)
 *   ACCTDB_TEST_FILTER  run only groups whose name contains this text
 *   ACCTDB_TEST_DATA    directory of the bundled data (tests/data)
 */
#ifndef ADB_TESTS_TEST_H
#define ADB_TESTS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

#include "acctdb_sim.h"

typedef struct adb_test_group {
    char const              *name;
    struct CMUnitTest const *tests;
    size_t                   cnt;
} adb_test_group_t;

#define ADB_TEST_GROUP(gname, arr)                                                                 \
    static adb_test_group_t const adb_test_group_##gname                                           \
        __attribute__((used, section("adb_test_groups"), aligned(sizeof(void *)))) = {             \
            #gname, arr, sizeof(arr) / sizeof((arr)[0])}

/* Iteration count n scaled by ACCTDB_TEST_SCALE, at least 1. */
size_t adb_test_scaled(size_t n);
double adb_test_scale(void);

/* The run's seed (printed once at start). */
uint64_t adb_test_seed(void);

/* Test data comes from the tree's one generator (acctdb_rng_* in
 * acctdb_sim.h); these are thin wrappers for tests that keep the state as
 * a bare uint64_t.  adb_test_rand: the next value of the stream whose
 * state is *s (advances *s). */
static inline uint64_t
adb_test_rand(uint64_t *s) {
    acctdb_rng_t r = {*s};
    uint64_t     v = acctdb_rng_next(&r);
    *s = r.s;
    return v;
}

/* A generator object for tests that pass one around. */
typedef struct adb_test_rng {
    uint64_t s;
} adb_test_rng_t;

static inline uint64_t
adb_test_rng_next(adb_test_rng_t *r) {
    return adb_test_rand(&r->s);
}

static inline uint64_t
adb_test_rng_below(adb_test_rng_t *r, uint64_t n) {
    return n ? adb_test_rand(&r->s) % n : 0;
}

static inline void
adb_test_rng_fill(adb_test_rng_t *r, uint8_t *p, size_t n) {
    acctdb_rng_t x = {r->s};
    acctdb_rng_fill(&x, p, n);
    r->s = x.s;
}

/* Is owner one whose accounts Avocado never compresses nor an LSR sweep
 * compacts (docs/STATE.md's list: Sysvar, Vote, Stake, Config, Feature and
 * the loaders)?  Written from the document, for tests to judge the
 * engine by. */
bool adb_test_avocado_exempt(uint8_t const owner[32]);

/* Path of a bundled data file; returns a static buffer per call slot. */
char const *adb_test_data(char const *name);
/* A database in dir created from the bundled 3.x full + incremental pair
 * (the test fails, saying why, if the creation does). */
acctdb_db_t *adb_test_create_pair(char const *dir, acctdb_db_config_t const *cfg);

/* A fresh empty directory under $TMPDIR, removed by adb_test_rmtree. */
char *adb_test_mkdtemp(void);
void  adb_test_rmtree(char const *path);

/* Runs a shell command, returns its exit status (or -1); captures up to
 * out_max-1 bytes of stdout into out (NUL-terminated) when out != NULL. */
int adb_test_sh(char *out, size_t out_max, char const *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Path of the acctdb binary built next to this test binary, or NULL. */
char const *adb_test_tool(void);

/* adb_test_tool, or the calling test is skipped (saying why) when the tool
 * is not built. */
char const *adb_test_tool_or_skip(void);

/* Child processes of the tool, for signal tests.  adb_test_spawn: `tool
 * ARGS` (a shell word list) with stdout and stderr to out_path.
 * adb_test_wait_ready: waits until pid has exec'd the tool and installed its
 * SIGTERM handler (SigCgt in /proc/PID/status), so a delay drawn after it
 * measures time into the command's work, not into exec and dynamic
 * loading (a signal before any handler gets the default action); fails the
 * test after 60 s.  adb_test_wait_exit: the exit status (128 + signal if
 * killed), or -1 if it did not exit within timeout_s (then it is killed:
 * the bound only detects a hang).  adb_test_sleep: seconds;
 * adb_test_now_s: CLOCK_MONOTONIC seconds. */
pid_t adb_test_spawn(char const *tool, char const *args, char const *out_path);
/* adb_test_spawn, adb_test_wait_ready, delay seconds, SIGTERM, then
 * adb_test_wait_exit (300 s) into *status; returns what it printed
 * (malloc'ed, NUL-terminated). */
char  *adb_test_sigterm_run(char const *tool, char const *args, char const *out_path, double delay,
                            int *status);
void   adb_test_wait_ready(pid_t pid, char const *tool);
int    adb_test_wait_exit(pid_t pid, double timeout_s);
void   adb_test_sleep(double s);
double adb_test_now_s(void);

/* The whole file at path, malloc'ed (at least 1 byte; free it), *sz_out its
 * size.  The calling test fails if it cannot be read. */
uint8_t *adb_test_read_file(char const *path, size_t *sz_out);

/* Hex helpers. */
void adb_test_hex(char *dst, void const *src, size_t sz);
int  adb_test_unhex(uint8_t *dst, size_t dst_sz, char const *hex);

#endif
