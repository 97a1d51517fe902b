/* Numeric options of every `acctdb` subcommand are parsed strictly
 * (tools/acctdb/cmd_args.c).
 *
 * Every numeric option of every subcommand is run with values that are not
 * a number in its range: "-1" (which strtoul reads as 2^64 - 1), "", "1x",
 * a number that overflows 64 bits, the value just above its maximum (and
 * just below its minimum where that is above 0), and a few more of the
 * kind each parser must refuse (spaces, signs, hex, nan, inf).  Each run
 * must exit 2, before touching any file, with one line on stderr that
 * names the option and says "is not".  Then good values (including the
 * ends of some ranges) still work end to end: b3sum, snapshot info, gen,
 * genesis make, and db create / info / scan / workload. */
#include "../test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FULL_NAME "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define INC_NAME  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define SYSTEM    "11111111111111111111111111111111"

#define U64_OVER "18446744073709551616" /* 2^64 */
#define HUGE_NUM "99999999999999999999999"

static char g_out[1 << 20];

typedef enum kind { K_INT, K_SIZE, K_FRAC } kind_t;

/* One numeric option: the command line around it (@ marks where
 * "OPTION VALUE" goes), its kind, and the values just outside its range
 * (NULL: none, e.g. no minimum above 0). */
typedef struct opt_case {
    char const *cmd;
    char const *opt;
    kind_t      kind;
    char const *above; /* just above the maximum */
    char const *below; /* just below the minimum */
} opt_case_t;

/* Values every numeric option refuses, whatever its kind. */
static char const *const g_bad_all[] = {"-1", "", "1x", HUGE_NUM, " 1", "+1", "1 ", "0x10"};
static char const *const g_bad_int[] = {"1e3", "1.0", "1K", "--1"};
static char const *const g_bad_size[] = {"1.5G", "1KB", "K", "1KK", "-1M"};
static char const *const g_bad_frac[] = {"nan", "inf", "-0.5", "1.5",   "0x1p-1",
                                         ".",   "1e",  "0,5",  "1e400", "0.5x"};

/* Runs tool with cmd, the option and value spliced in at @, and checks the
 * refusal. */
static void
expect_refused(char const *tool, char const *dir, opt_case_t const *c, char const *val,
               bool equals) {
    char        line[2048], optval[512];
    char const *at = strchr(c->cmd, '@');
    assert_non_null(at);
    if (equals)
        snprintf(optval, sizeof optval, "'%s=%s'", c->opt, val);
    else
        snprintf(optval, sizeof optval, "%s '%s'", c->opt, val);
    snprintf(line, sizeof line, "%.*s%s%s", (int)(at - c->cmd), c->cmd, optval, at + 1);
    /* stderr only: stdout goes away */
    int rc =
        adb_test_sh(g_out, sizeof g_out, "cd '%s' && '%s' %s 2>&1 >/dev/null", dir, tool, line);
    if (rc != 2) fail_msg("acctdb %s: exit %d, expected 2: %s", line, rc, g_out);
    char const *name = c->opt[1] == '-' ? c->opt : "--length"; /* -l is --length */
    if (!strstr(g_out, name) || !strstr(g_out, "is not"))
        fail_msg("acctdb %s: stderr does not name %s: %s", line, name, g_out);
    if (strchr(g_out, '\n') != g_out + strlen(g_out) - 1)
        fail_msg("acctdb %s: expected one line on stderr: %s", line, g_out);
}

static size_t
check_option(char const *tool, char const *dir, opt_case_t const *c) {
    size_t n = 0;
    for (size_t i = 0; i < sizeof g_bad_all / sizeof g_bad_all[0]; i++, n++)
        expect_refused(tool, dir, c, g_bad_all[i], false);
    char const *const *more = c->kind == K_INT    ? g_bad_int
                              : c->kind == K_SIZE ? g_bad_size
                                                  : g_bad_frac;
    size_t             nmore = c->kind == K_INT    ? sizeof g_bad_int / sizeof g_bad_int[0]
                               : c->kind == K_SIZE ? sizeof g_bad_size / sizeof g_bad_size[0]
                                                   : sizeof g_bad_frac / sizeof g_bad_frac[0];
    for (size_t i = 0; i < nmore; i++, n++)
        expect_refused(tool, dir, c, more[i], false);
    assert_non_null(c->above);
    expect_refused(tool, dir, c, c->above, false);
    n++;
    if (c->below) {
        expect_refused(tool, dir, c, c->below, false);
        n++;
    }
    /* --opt=value reads the same way (long options only) */
    if (c->opt[1] == '-') {
        expect_refused(tool, dir, c, "-1", true);
        expect_refused(tool, dir, c, "", true);
        n += 2;
    }
    return n;
}

/* Every numeric option of every subcommand.  Commands run in a fresh
 * directory where "nodb" and "x.tar.zst" do not exist: a refused value
 * must stop the command before it looks for them. */
static opt_case_t const g_snapshot_cases[] = {
    {"snapshot info @ x.tar.zst", "--threads", K_INT, "1025", NULL},
    {"snapshot verify @ x.tar.zst", "--threads", K_INT, "1025", NULL},
    {"snapshot ls @ x.tar.zst", "--threads", K_INT, "1025", NULL},
    {"snapshot get @ x.tar.zst " SYSTEM, "--threads", K_INT, "1025", NULL},
    {"snapshot manifest --json @ x.tar.zst", "--threads", K_INT, "1025", NULL},
    {"snapshot verify --dir . @", "--threads", K_INT, "1025", NULL},
    {"snapshot gen --out . @", "--accounts", K_INT, "1073741824", "0"},
    {"snapshot gen --accounts 1 --out . @", "--slots", K_INT, "1000001", NULL},
    {"snapshot gen --accounts 1 --out . @", "--seed", K_INT, U64_OVER, NULL},
    {"snapshot gen --accounts 1 --out . @", "--incremental", K_INT, "1073741824", NULL},
    {"snapshot gen --accounts 1 --out . @", "--max-bytes", K_SIZE, "17592186044417", NULL},
    {"snapshot gen --accounts 1 --out . @", "--threads", K_INT, "1025", NULL},
    {"snapshot gen --accounts 1 --out . @", "--validators", K_INT, "65", "0"},
    {"snapshot gen --accounts 1 --out . @", "--slots-per-epoch", K_INT, "1099511627777", "31"},
    {"genesis make g.bin @", "--validators", K_INT, "65", "0"},
    {"genesis make g.bin @", "--slots-per-epoch", K_INT, "1099511627777", "31"},
    {"genesis make g.bin @", "--seed", K_INT, U64_OVER, NULL},
    {"genesis make g.bin @", "--creation-time", K_INT, "4611686018427387905", NULL},
    {"b3sum @ nofile", "--length", K_INT, U64_OVER, NULL},
    {"b3sum @ nofile", "-l", K_INT, U64_OVER, NULL},
    {"b3sum @ nofile", "--num-threads", K_INT, "1025", NULL},
};

static char const *const g_db_subs[] = {
    "create nodb --from x.tar.zst @",
    "info nodb @",
    "verify nodb @",
    "get nodb " SYSTEM " @",
    "scan nodb --owner " SYSTEM " @",
    "snapshot nodb --out . @",
    "workload nodb --slots 1 @",
};

/* The database options (every db subcommand takes them). */
static opt_case_t const g_db_opts[] = {
    {NULL, "--index-bins", K_INT, "2097152", "0"},
    {NULL, "--write-cache", K_SIZE, "16777217" /* MiB: 16T + 1M */, "1023K"},
    {NULL, "--read-cache", K_SIZE, "17T", NULL},
    {NULL, "--index-ram", K_SIZE, "17T", "1023K"},
    {NULL, "--shrink-ratio", K_FRAC, "1.0000001", NULL},
    {NULL, "--threads", K_INT, "1025", NULL},
};

static opt_case_t const g_db_cases[] = {
    {"db get nodb " SYSTEM " @", "--slot", K_INT, U64_OVER, NULL},
    {"db scan nodb --owner " SYSTEM " @", "--slot", K_INT, U64_OVER, NULL},
    {"db scan nodb --owner " SYSTEM " @", "--limit", K_INT, U64_OVER, NULL},
    {"db scan nodb --owner " SYSTEM " @", "--data-size", K_INT, "10485761", NULL},
    {"db workload nodb @", "--slots", K_INT, "1099511627777", NULL},
    {"db workload nodb --slots 1 @", "--forks", K_INT, "65", "0"},
    {"db workload nodb --slots 1 @", "--seed", K_INT, U64_OVER, NULL},
    {"db workload nodb --slots 1 @", "--stores-min", K_INT, "1000001", NULL},
    {"db workload nodb --slots 1 @", "--stores-max", K_INT, "1000001", NULL},
    {"db workload nodb --slots 1 @", "--loads-per-store", K_INT, "1001", NULL},
    {"db workload nodb --slots 1 @", "--new-frac", K_FRAC, "1.0000001", NULL},
    {"db workload nodb --slots 1 @", "--close-frac", K_FRAC, "1.0000001", NULL},
    {"db workload nodb --slots 1 @", "--fork-frac", K_FRAC, "1.0000001", NULL},
    {"db workload nodb --slots 1 @", "--root-lag", K_INT, "100001", NULL},
    {"db workload nodb --slots 1 @", "--known-max", K_INT, "67108865", "15"},
};

static void
test_cli_args_refused(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp();
    assert_non_null(dir);
    size_t n = 0, opts = 0;
    for (size_t i = 0; i < sizeof g_snapshot_cases / sizeof g_snapshot_cases[0]; i++, opts++)
        n += check_option(tool, dir, &g_snapshot_cases[i]);
    for (size_t i = 0; i < sizeof g_db_cases / sizeof g_db_cases[0]; i++, opts++)
        n += check_option(tool, dir, &g_db_cases[i]);
    for (size_t s = 0; s < sizeof g_db_subs / sizeof g_db_subs[0]; s++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "db %s", g_db_subs[s]);
        for (size_t i = 0; i < sizeof g_db_opts / sizeof g_db_opts[0]; i++, opts++) {
            opt_case_t c = g_db_opts[i];
            c.cmd = cmd;
            n += check_option(tool, dir, &c);
        }
    }

    /* --memcmp's OFFSET part, and the index bins that are in range but not
     * a power of two */
    static char const *const memcmp_bad[] = {"-1:2", "1x:2", HUGE_NUM ":2", "10485761:2",
                                             "+1:2", " 1:2", "0x1:2"};
    for (size_t i = 0; i < sizeof memcmp_bad / sizeof memcmp_bad[0]; i++, n++) {
        opt_case_t c = {"db scan nodb --owner " SYSTEM " @", "--memcmp", K_INT, "", NULL};
        expect_refused(tool, dir, &c, memcmp_bad[i], false);
    }
    opts++;
    opt_case_t bins = {"db info nodb @", "--index-bins", K_INT, "", NULL};
    expect_refused(tool, dir, &bins, "3", false);
    expect_refused(tool, dir, &bins, "1048575", false);
    n += 2;
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db info nodb --index-bins 3 2>&1", tool);
    assert_int_equal(rc, 2);
    assert_non_null(
        strstr(g_out, "acctdb: --index-bins: '3' is not a power of two from 1 to 1048576"));

    /* the exact text of one refusal */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' snapshot verify --threads -1 x.tar.zst 2>&1", tool);
    assert_int_equal(rc, 2);
    assert_string_equal(g_out, "acctdb: --threads: '-1' is not a number from 0 to 1024\n");
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' db info nodb --write-cache 0 2>&1", tool);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(g_out, "acctdb: --write-cache: '0' is not a size from 1M to 16T"));
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' b3sum --num-threads 2>&1", tool);
    assert_int_equal(rc, 2);
    assert_string_equal(g_out, "acctdb: --num-threads needs a value\n");

    /* nothing was created by any refused command */
    rc = adb_test_sh(g_out, sizeof g_out, "ls -A '%s'", dir);
    assert_int_equal(rc, 0);
    assert_string_equal(g_out, "");
    printf("  %zu numeric options (db options once per db subcommand): %zu refused values, "
           "each exit 2 naming the option\n",
           opts, n);
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_cli_args_good(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), db[4200], gen[4200], f[4200];
    assert_non_null(dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(f, sizeof f, "%s/in", dir);
    char const *full = adb_test_data(FULL_NAME), *inc = adb_test_data(INC_NAME);

    /* b3sum: lengths at both ends of the usual range, threads ignored */
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fputs("abc", fp);
    fclose(fp);
    int rc =
        adb_test_sh(g_out, sizeof g_out, "'%s' b3sum --num-threads 1024 --length 8 '%s'", tool, f);
    assert_int_equal(rc, 0);
    assert_int_equal(strcspn(g_out, " "), 16);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' b3sum -l 0 --num-threads=0 --no-names '%s'", tool,
                     f);
    assert_int_equal(rc, 0);
    assert_string_equal(g_out, "\n");
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' b3sum --length=007 --no-names '%s'", tool, f);
    assert_int_equal(rc, 0);
    assert_int_equal(strlen(g_out), 15);

    /* snapshot info with a thread count */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' snapshot info --quiet --threads 2 '%s' 2>&1", tool,
                     full);
    if (rc) fail_msg("snapshot info --threads 2: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "slot:                 1\n"));

    /* gen with every numeric option, a size suffix among them */
    rc = adb_test_sh(g_out, sizeof g_out, "mkdir '%s'", gen);
    assert_int_equal(rc, 0);
    rc = adb_test_sh(
        g_out, sizeof g_out,
        "'%s' snapshot gen --quiet --accounts 300 --slots 10 --seed 18446744073709551615 "
        "--incremental 20 --max-bytes 64m --threads 1 --validators 2 --slots-per-epoch 32 "
        "--out '%s' 2>&1",
        tool, gen);
    if (rc) fail_msg("snapshot gen: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "full snapshot:"));
    assert_non_null(strstr(g_out, "incremental:"));
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' snapshot gen --quiet --accounts 100000 --max-bytes 1K --out '%s' 2>&1",
                     tool, gen);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(g_out, "over --max-bytes")); /* accepted, then enforced */

    /* genesis make with every numeric option */
    char gbin[4400];
    snprintf(gbin, sizeof gbin, "%s/g.bin", gen);
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' genesis make '%s' --validators 64 --slots-per-epoch 32 --warmup "
                     "--seed 18446744073709551615 --creation-time 4611686018427387904 2>&1",
                     tool, gbin);
    if (rc) fail_msg("genesis make: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "(64 validators)"));

    /* db create, info, scan and workload with database options */
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' db create --quiet '%s' --from '%s' '%s' --threads 2 --index-bins 1024 "
                     "--write-cache 64 --read-cache 0 --shrink-ratio 0.5 2>&1",
                     tool, db, full, inc);
    if (rc) fail_msg("db create: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "root slot:            4\n"));
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' db info '%s' --write-cache 1G --read-cache 1t --index-bins 1048576 "
                     "--shrink-ratio 1 --threads 0 2>&1",
                     tool, db);
    if (rc) fail_msg("db info: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "root slot:            4\n"));
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' db scan '%s' --owner " SYSTEM " --limit 2 --data-size 0 --slot 4 2>&1",
                     tool, db);
    if (rc) fail_msg("db scan: exit %d: %s", rc, g_out);
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' db workload '%s' --no-background --slots 6 --forks 2 --seed 7 "
                     "--stores-min 5 --stores-max 10 --loads-per-store 1 --new-frac 0.5 "
                     "--close-frac 0.1 --fork-frac 0.25 --root-lag 2 --known-max 16 2>&1",
                     tool, db);
    if (rc) fail_msg("db workload: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "slots:                5 .. 10: 6 banks"));
    printf("  good values: b3sum, snapshot info, snapshot gen, genesis make, "
           "db create/info/scan/workload\n");
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_cli_args_refused),
    cmocka_unit_test(test_cli_args_good),
};
ADB_TEST_GROUP(cli_args, tests);
