/* `acctdb crashtest`: the kill -9 acceptance run.
 *
 * Runs the built tool for 200 cycles (scaled: 20 under ASan at 0.1): a
 * child doing a random workload with the services on (stores on forks,
 * roots, flush, clean, shrink, full and incremental snapshots) is killed
 * with SIGKILL, the database reopened and checked against the child's
 * reference (the root's lattice hash and capitalization, every account,
 * verify, check, every archive).  Asserts exit 0, cycles as asked,
 * corruptions=0, and, at full scale, that flush, shrink, snapshot writing
 * and commit were each in progress in at least 10% of the kills. */
#include "../test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_out[1 << 20];

/* The kill count of a phase line "  NAME  COUNT  PCT%". */
static unsigned long long
phase_kills(char const *out, char const *name) {
    char const *p = strstr(out, "killed phases");
    assert_non_null(p);
    char want[32];
    snprintf(want, sizeof want, "\n  %s ", name);
    p = strstr(p, want);
    if (!p) fail_msg("no phase line for %s in:\n%s", name, out);
    unsigned long long n;
    assert_int_equal(sscanf(p + strlen(want), "%llu", &n), 1);
    return n;
}

static void
test_crashtest(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *tmp = adb_test_mkdtemp();
    assert_non_null(tmp);
    size_t cycles = adb_test_scaled(120);
    int    rc = adb_test_sh(g_out, sizeof g_out,
                            "'%s' crashtest --cycles %zu --dir '%s/ct' --seed %llu 2>&1", tool, cycles,
                            tmp, (unsigned long long)adb_test_seed());
    fputs(g_out, stdout); /* the run's figures (print_message would cut them short) */
    fflush(stdout);
    assert_int_equal(rc, 0);
    char want[64];
    snprintf(want, sizeof want, "\ncycles=%zu\n", cycles);
    assert_non_null(strstr(g_out, want));
    assert_non_null(strstr(g_out, "\ncorruptions=0\n"));
    assert_null(strstr(g_out, "child errors"));
    /* Each phase the acceptance names was in progress in >= 10% of the
     * kills (half the cycles are targeted at one of these four). */
    char const *const phases[] = {"flush", "commit", "shrink", "snapshot"};
    for (size_t i = 0; i < 4; i++) {
        unsigned long long k = phase_kills(g_out, phases[i]);
        if (adb_test_scale() >= 1.0 && k * 10 < cycles)
            fail_msg("%s: %llu of %zu kills (< 10%%)", phases[i], k, cycles);
    }
    adb_test_rmtree(tmp);
    free(tmp);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_crashtest),
};

ADB_TEST_GROUP(crashtest, tests);
