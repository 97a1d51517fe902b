/* `acctdb state chilly-sim` end to end (docs/STATE.md, acctdb_sim.h
 * "Chilly simulation"): a generated run prints the summary; the same seed
 * twice prints the same bytes; a trace written by --write-trace and
 * replayed by --trace gives the generated run's verdicts; a hand-written
 * trace gives the answer worked out below from the rule; malformed traces
 * and bad options exit 2, naming the line or the option. */
#include "../test.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_out[1 << 20];
static char g_out2[1 << 20];

/* A small generated trace: enough blocks and accounts to have hot, cold
 * and LRU hits of every kind, fast under ASan. */
#define GEN_ARGS "--accounts 5000 --blocks 20 --txs-per-block 100 --seed 7"

static void
write_text(char const *path, char const *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

/* The key whose 32 bytes are all b, in base58. */
static char const *
key58(uint8_t b, char buf[ACCTDB_BASE58_32_SZ]) {
    uint8_t k[32];
    memset(k, b, sizeof k);
    return acctdb_base58_encode_32(k, buf);
}

static uint64_t
ju64(cJSON const *j, char const *name) {
    cJSON const *v = cJSON_GetObjectItemCaseSensitive(j, name);
    if (!cJSON_IsNumber(v)) fail_msg("JSON summary: no number '%s'", name);
    return (uint64_t)v->valuedouble;
}

static cJSON *
run_json(char const *fmt_args, char const *tool, char const *a1, char const *a2) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, fmt_args, a1, a2);
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' state chilly-sim %s --json", tool, cmd);
    if (rc) fail_msg("chilly-sim %s: exit %d: %s", cmd, rc, g_out);
    cJSON *j = cJSON_Parse(g_out);
    if (!j) fail_msg("chilly-sim %s: not JSON: %s", cmd, g_out);
    return j;
}

static void
test_cli_chilly_generated(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp();
    char        trace[4200];
    snprintf(trace, sizeof trace, "%s/trace.txt", dir);

    /* The summary. */
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' state chilly-sim " GEN_ARGS " 2>&1", tool);
    if (rc) fail_msg("chilly-sim: exit %d: %s", rc, g_out);
    char const *want[] = {"trace: generated, seed 7: 5000 accounts",
                          "= 10% of the distinct bytes; LRU the same size\n",
                          "\nloads: ",
                          "\nchilly hot: ",
                          "\nlru hits: ",
                          "\ngap: ",
                          "\ndisagree: ",
                          "\ncold bytes per block: min ",
                          "\nload limit 67108864 bytes (64.0 MiB): ",
                          "\naccounts: ",
                          "\nmemory: "};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(g_out, want[i])) fail_msg("no '%s' in:\n%s", want[i], g_out);
    unsigned long long hot = 0, loads = 0;
    assert_int_equal(sscanf(strstr(g_out, "\nloads: "), "\nloads: %llu", &loads), 1);
    assert_int_equal(sscanf(strstr(g_out, "chilly hot: "), "chilly hot: %llu", &hot), 1);
    assert_true(hot > 0 && hot < loads);

    /* Determinism: the same options print the same bytes (per block too). */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state chilly-sim " GEN_ARGS " --per-block 2>&1",
                     tool);
    assert_int_equal(rc, 0);
    rc = adb_test_sh(g_out2, sizeof g_out2, "'%s' state chilly-sim " GEN_ARGS " --per-block 2>&1",
                     tool);
    assert_int_equal(rc, 0);
    assert_string_equal(g_out, g_out2);
    assert_non_null(strstr(g_out, "cold_bytes"));
    /* Another seed gives another trace. */
    rc = adb_test_sh(g_out2, sizeof g_out2,
                     "'%s' state chilly-sim --accounts 5000 --blocks 20 --txs-per-block 100 "
                     "--seed 8 --per-block 2>&1",
                     tool);
    assert_int_equal(rc, 0);
    assert_string_not_equal(g_out, g_out2);

    /* --write-trace, then --trace of the file at the same cache size: the
     * same verdicts, load by load (decision_hash). */
    cJSON *g = run_json(GEN_ARGS " --write-trace '%s'%s", tool, trace, "");
    char   cache[32];
    snprintf(cache, sizeof cache, "%llu", (unsigned long long)ju64(g, "cache_sz"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(g, "cache_sz_derived")));
    cJSON      *t = run_json("--trace '%s' --cache-size %s", tool, trace, cache);
    char const *same[] = {"blocks",         "txs",      "loads",     "load_bytes", "accounts",
                          "distinct_bytes", "hot",      "hot_bytes", "lru_hits",   "lru_hit_bytes",
                          "cold_bytes",     "cold_min", "cold_p99",  "cold_max",   "mem_sz"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (ju64(g, same[i]) != ju64(t, same[i]))
            fail_msg("%s: generated %llu, from the file %llu", same[i],
                     (unsigned long long)ju64(g, same[i]), (unsigned long long)ju64(t, same[i]));
    assert_string_equal(cJSON_GetObjectItem(g, "decision_hash")->valuestring,
                        cJSON_GetObjectItem(t, "decision_hash")->valuestring);
    assert_true(ju64(g, "hot") > 0 && ju64(g, "hot") < ju64(g, "loads"));
    cJSON_Delete(g);
    cJSON_Delete(t);
    /* The same file through standard input. */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state chilly-sim --trace - --cache-size %s < '%s'",
                     tool, cache, trace);
    if (rc) fail_msg("chilly-sim --trace -: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "trace: -\n"));
    adb_test_rmtree(dir);
    free(dir);
}

/* The tiny trace, by the rule (load size = data_len + 64; cold iff never
 * loaded or loaded_bytes - load_counter > CACHE_SIZE, judged at the
 * transaction's start; the counter becomes the total after it):
 *
 *   line  slot  load        size  L before  counter was  distance
 *   2     1     A:36        100   0         -            new: cold
 *   3     1     B:136       200   100       -            new: cold
 *   5     2     A:36        100   300       100          200
 *   6     2     C:37        101   400       -            new: cold
 *   7     3     B:136       200   501       300          201
 *
 * At CACHE_SIZE 200: A's reload (200 == CACHE_SIZE) is hot, B's (201 =
 * CACHE_SIZE + 1) cold: 1 hot of 5.  At 201 both are hot; at 199 neither.
 * Cold bytes per block at 200: 300, 101, 200 (min 101, p99 300, max 300).
 * The LRU of 200 bytes holds at most one of these accounts after each load
 * (100 + 200 > 200, 100 + 101 > 200) and so never hits: A's Chilly-hot
 * reload is a miss there (the header's "an LRU of cache_sz can miss a
 * Chilly-hot load").  LOAD_LIMIT 250: block 1 charges A (100), then B's
 * 200 would make 300: deferred. */
static void
test_cli_chilly_tiny(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp();
    char        path[4200], a[ACCTDB_BASE58_32_SZ], b[ACCTDB_BASE58_32_SZ], c[ACCTDB_BASE58_32_SZ];
    char        text[1024];
    snprintf(path, sizeof path, "%s/tiny.txt", dir);
    key58(0x11, a), key58(0x22, b), key58(0x33, c);
    /* Comments, a blank line, tabs, extra spaces and a '\r' are allowed. */
    snprintf(text, sizeof text,
             "# tiny trace\n"
             "1 %s:36\n"
             "  1\t%s:136  \r\n"
             "\n"
             "2 %s:36\n"
             "2 %s:37\n"
             "3 %s:136\n",
             a, b, a, c, b);
    write_text(path, text);

    static struct {
        char const *cache;
        uint64_t    hot;
    } const k_cases[] = {{"199", 0}, {"200", 1}, {"201", 2}};
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        cJSON *j = run_json("--trace '%s' --cache-size %s", tool, path, k_cases[i].cache);
        assert_int_equal(ju64(j, "loads"), 5);
        assert_int_equal(ju64(j, "txs"), 5);
        assert_int_equal(ju64(j, "blocks"), 3);
        assert_int_equal(ju64(j, "accounts"), 3);
        assert_int_equal(ju64(j, "load_bytes"), 701);
        assert_int_equal(ju64(j, "distinct_bytes"), 401);
        if (ju64(j, "hot") != k_cases[i].hot)
            fail_msg("cache %s: %llu hot, want %llu", k_cases[i].cache,
                     (unsigned long long)ju64(j, "hot"), (unsigned long long)k_cases[i].hot);
        cJSON_Delete(j);
    }

    /* The boundary case in the text summary, per block, and the LRU. */
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "'%s' state chilly-sim --trace '%s' --cache-size 200 --per-block 2>&1",
                         tool, path);
    if (rc) fail_msg("chilly-sim: exit %d: %s", rc, g_out);
    char const *want[] = {
        "           1          2          0            300         0\n",
        "           2          2          1            101         0\n",
        "           3          1          0            200         0\n",
        "cache: 200 bytes; LRU the same size\n",
        "loads: 5 in 5 transactions, 3 blocks; 701 bytes\n",
        "chilly hot: 1 loads (20.00%), 100 bytes (14.27%)\n",
        "lru hits:   0 loads (0.00%), 0 bytes (0.00%)\n",
        "gap: +20.00 points (loads), +14.27 points (bytes)\n",
        "disagree: 1 Chilly-hot loads the LRU missed, 0 LRU hits Chilly called cold\n",
        "cold bytes per block: min 101, mean 200.3, p99 300, max 300\n",
        "load limit 67108864 bytes (64.0 MiB): 0 blocks over, 0 txs deferred (0 cold bytes)\n",
        "accounts: 3 distinct, 401 bytes; largest tx 200 bytes\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(g_out, want[i])) fail_msg("no '%s' in:\n%s", want[i], g_out);

    /* The watermark. */
    cJSON *j = run_json("--trace '%s' --cache-size 200 --load-limit %s", tool, path, "250");
    assert_int_equal(ju64(j, "blocks_over"), 1);
    assert_int_equal(ju64(j, "deferred"), 1);
    assert_int_equal(ju64(j, "deferred_bytes"), 200);
    assert_int_equal(ju64(j, "charged_bytes"), 401);
    cJSON_Delete(j);

    /* An LRU larger by 2 x the largest transaction (200 bytes) covers
     * every Chilly-hot load. */
    j = run_json("--trace '%s' --cache-size 200 --lru-extra %s", tool, path, "400");
    assert_int_equal(ju64(j, "lru_cap"), 600);
    assert_int_equal(ju64(j, "hot_lru_miss"), 0);
    assert_int_equal(ju64(j, "lru_hits"), 2);
    cJSON_Delete(j);
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_cli_chilly_errors(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp();
    char        path[4200], a[ACCTDB_BASE58_32_SZ], b[ACCTDB_BASE58_32_SZ], text[1024];
    snprintf(path, sizeof path, "%s/bad.txt", dir);
    key58(0x11, a), key58(0x22, b);

    /* Malformed traces: exit 2, the message names the line (%1$s is key
     * A, %2$s key B). */
    struct {
        char const *fmt, *want;
    } const k_bad[] = {
        {"# ok\n5 %1$s:1\n5 %2$s:1 0OIl:3\n", "line 3: load 2: bad pubkey '0OIl'"},
        {"5 %1$s:1\n4 %2$s:1\n", "line 2: slot 4 is below the previous slot 5"},
        {"\n\n7 %1$s:1 %2$s:2 %1$s:3\n", "line 3: load 3 repeats the pubkey of load 1"},
        {"1 %1$s:1\n1 %2$s:10485761\n", "line 2: "},
        {"1 %1$s:1\nx %2$s:1\n", "line 2: "},
        {"1 %1$s:1\n1 %2$s\n", "line 2: "},
    };
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        snprintf(text, sizeof text, k_bad[i].fmt, a, b);
        write_text(path, text);
        int rc = adb_test_sh(g_out, sizeof g_out,
                             "'%s' state chilly-sim --trace '%s' --cache-size 1M 2>&1", tool, path);
        if (rc != 2 || !strstr(g_out, k_bad[i].want) || !strstr(g_out, path))
            fail_msg("trace %zu: exit %d, want 2 and '%s': %s", i, rc, k_bad[i].want, g_out);
    }
    /* A line longer than the format allows. */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "1 %s:1\n1", a);
    for (int i = 0; i < 9000; i++)
        fputc(' ', f);
    fprintf(f, "%s:1\n", b);
    fclose(f);
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "'%s' state chilly-sim --trace '%s' --cache-size 1M 2>&1", tool, path);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(g_out, "line 2: "));

    /* Bad options and combinations: exit 2, naming the option. */
    struct {
        char const *args, *want;
    } const k_opts[] = {
        {"--zipf x", "--zipf"},
        {"--zipf 9", "--zipf"},
        {"--accounts 0", "--accounts"},
        {"--accounts 12abc", "--accounts"},
        {"--blocks -1", "--blocks"},
        {"--txs-per-block 0", "--txs-per-block"},
        {"--loads-max 65", "--loads-max"},
        {"--seed 0x10", "--seed"},
        {"--cache-size 1X", "--cache-size"},
        {"--cache-size", "--cache-size needs a value"},
        {"--load-limit -5", "--load-limit"},
        {"--frobnicate", "unknown option '--frobnicate'"},
        {"extra", "unexpected argument 'extra'"},
        {"--trace /dev/null", "--trace needs --cache-size"},
        {"--trace /dev/null --cache-size 1 --seed 3", "--seed is for a generated trace"},
        {"--trace /nonexistent/trace --cache-size 1", "/nonexistent/trace"},
        {"--write-trace /nonexistent/dir/t", "/nonexistent/dir/t"},
    };
    for (size_t i = 0; i < sizeof k_opts / sizeof k_opts[0]; i++) {
        rc =
            adb_test_sh(g_out, sizeof g_out, "'%s' state chilly-sim %s 2>&1", tool, k_opts[i].args);
        if (rc != 2 || !strstr(g_out, k_opts[i].want))
            fail_msg("'%s': exit %d, want 2 and '%s': %s", k_opts[i].args, rc, k_opts[i].want,
                     g_out);
    }
    /* An empty trace is not an error: nothing loaded. */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state chilly-sim --trace /dev/null --cache-size 1",
                     tool);
    if (rc) fail_msg("empty trace: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "loads: 0 in 0 transactions"));
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state chilly-sim --help", tool);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(g_out, "--cache-size"));
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_cli_chilly_generated),
    cmocka_unit_test(test_cli_chilly_tiny),
    cmocka_unit_test(test_cli_chilly_errors),
};

ADB_TEST_GROUP(cli_chilly, tests);
