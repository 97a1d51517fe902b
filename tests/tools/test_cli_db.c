/* `acctdb db ...` end to end, and the workload generator behind it.
 *
 * A database is created from the bundled Agave 3.x pair and checked against
 * `acctdb snapshot` on the same archives (every account, an owner scan);
 * then a workload with forks, a full and an incremental snapshot, each
 * verified by `acctdb snapshot verify` and the Python oracle, with names
 * that carry the root's lattice checksum.  Also: the directory lock seen
 * from the CLI (exit 3), bad arguments, and the library workload's
 * determinism with and without background services. */
#include "../test.h"

#include "acctdb_sim.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FULL_NAME "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define INC_NAME  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define INC_HASH  "43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR"
#define SYSTEM    "11111111111111111111111111111111"
#define TOKEN     "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"

static char g_out[4 << 20], g_out2[4 << 20];

/* Creates DIR/db from the 3.x pair through the CLI. */
static void
create_db(char const *tool, char const *db) {
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s' --from '%s' '%s' 2>&1",
                         tool, db, adb_test_data(FULL_NAME), adb_test_data(INC_NAME));
    if (rc) fail_msg("db create: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "root slot:            4\n"));
    assert_non_null(strstr(g_out, "lattice checksum:     " INC_HASH "\n"));
    assert_non_null(strstr(g_out, "capitalization:       1000001217783168 lamports"));
}

/* `db info --json` of db, parsed. */
static cJSON *
info_json(char const *tool, char const *db) {
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db info '%s' --json", tool, db);
    assert_int_equal(rc, 0);
    cJSON *j = cJSON_Parse(g_out);
    if (!j) fail_msg("db info --json is not JSON: %s", g_out);
    return j;
}

static char const *
jstr(cJSON const *j, char const *k) {
    cJSON const *v = cJSON_GetObjectItemCaseSensitive(j, k);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static uint64_t
jnum(cJSON const *j, char const *k) {
    cJSON const *v = cJSON_GetObjectItemCaseSensitive(j, k);
    assert_true(cJSON_IsNumber(v));
    return (uint64_t)v->valuedouble;
}

/* The value after "label:" on its line of text (copied into out). */
static void
field(char const *text, char const *label, char *out, size_t max) {
    char const *p = strstr(text, label);
    if (!p) fail_msg("no '%s' in:\n%s", label, text);
    p += strlen(label);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\n");
    assert_true(n < max);
    memcpy(out, p, n);
    out[n] = 0;
}

/* The hash in an archive name (…-HASH.tar.zst). */
static void
name_hash(char const *path, char *out, size_t max) {
    char const *ext = strstr(path, ".tar.zst");
    assert_non_null(ext);
    char const *d = ext;
    while (d > path && d[-1] != '-')
        d--;
    assert_true((size_t)(ext - d) < max);
    memcpy(out, d, (size_t)(ext - d));
    out[ext - d] = 0;
}

/* Writes a snapshot; returns its path in path; checks the name hash is the
 * root lattice checksum `db info` reports, and that `acctdb snapshot
 * verify` accepts it (with full when it is an incremental). */
static void
snapshot_and_check(char const *tool, char const *db, char const *arch, bool incremental,
                   char const *full, char *path, size_t max) {
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db snapshot '%s' --out '%s'%s 2>&1", tool, db,
                         arch, incremental ? " --incremental" : "");
    if (rc) fail_msg("db snapshot: exit %d: %s", rc, g_out);
    field(g_out, "archive:", path, max);
    assert_non_null(strstr(g_out, "name hash:            ok"));
    char nh[64];
    name_hash(path, nh, sizeof nh);
    cJSON *j = info_json(tool, db);
    assert_string_equal(nh, jstr(j, "lt_checksum"));
    assert_int_equal(jnum(j, "root_slot"), jnum(j, "durable_root_slot"));
    if (!incremental) assert_int_equal(jnum(j, "last_full_snapshot_slot"), jnum(j, "root_slot"));
    cJSON_Delete(j);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' snapshot verify --quiet '%s'%s%s%s 2>&1", tool,
                     incremental ? full : path, incremental ? " '" : "", incremental ? path : "",
                     incremental ? "'" : "");
    if (rc) fail_msg("snapshot verify %s: exit %d: %s", path, rc, g_out);
    assert_non_null(strstr(g_out, "verified: every check matches"));
}

static void
test_cli_db_flow(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), db[4200], arch[4200];
    assert_non_null(dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(arch, sizeof arch, "%s/archives", dir);
    char const *full = adb_test_data(FULL_NAME), *inc = adb_test_data(INC_NAME);
    create_db(tool, db);

    /* info and verify at the loaded root */
    cJSON *j = info_json(tool, db);
    assert_int_equal(jnum(j, "root_slot"), 4);
    assert_int_equal(jnum(j, "durable_root_slot"), 4);
    assert_int_equal(jnum(j, "last_full_snapshot_slot"), 1);
    assert_string_equal(jstr(j, "lt_checksum"), INC_HASH);
    assert_string_equal(jstr(j, "bank_hash"), "38vRrXEmH3BX3duTo1ZqZngeq4Q7UVheJF9ngYZVy9wN");
    assert_true(jnum(j, "capitalization") == 1000001217783168ull);
    assert_int_equal(jnum(j, "index_keys"), 21);
    cJSON_Delete(j);
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s'", tool, db), 0);
    assert_non_null(strstr(g_out, "lattice hash:         ok: root 4: 21 live accounts"));
    assert_non_null(strstr(g_out, "invariants:           ok"));

    /* every account: `db get` prints what `snapshot get` prints */
    assert_int_equal(
        adb_test_sh(g_out2, sizeof g_out2, "'%s' snapshot ls --quiet '%s' '%s'", tool, full, inc),
        0);
    size_t n = 0;
    for (char *p = g_out2; *p; n++) {
        char *e = strchr(p, '\n');
        assert_non_null(e);
        *e = 0;
        cJSON *a = cJSON_Parse(p);
        assert_non_null(a);
        char pk[64];
        snprintf(pk, sizeof pk, "%s", jstr(a, "pubkey"));
        cJSON_Delete(a);
        assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db get '%s' %s", tool, db, pk), 0);
        size_t l = strlen(p);
        if (strncmp(g_out, p, l) || strcmp(g_out + l, "\n"))
            fail_msg("db get %s:\n%s\nsnapshot get:\n%s", pk, g_out, p);
        p = e + 1;
    }
    assert_int_equal(n, 21);
    /* and the system program's accounts: `db scan` == `snapshot ls --owner` */
    assert_int_equal(
        adb_test_sh(g_out, sizeof g_out, "'%s' db scan '%s' --owner %s", tool, db, SYSTEM), 0);
    assert_int_equal(adb_test_sh(g_out2, sizeof g_out2,
                                 "'%s' snapshot ls --quiet --owner %s '%s' "
                                 "'%s'",
                                 tool, SYSTEM, full, inc),
                     0);
    assert_string_equal(g_out, g_out2);
    /* absent: exit 1 */
    assert_int_equal(adb_test_sh(NULL, 0,
                                 "'%s' db get '%s' 4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziofM "
                                 "2>/dev/null",
                                 tool, db),
                     1);

    /* a workload with forks */
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "'%s' db workload '%s' --quiet --slots 200 --forks 2 --stores-min 100 "
                         "--stores-max 300 --loads-per-store 1 --seed 11 2>&1",
                         tool, db);
    if (rc) fail_msg("db workload: exit %d: %s", rc, g_out);
    printf("  %.*s\n", (int)strcspn(g_out, "\n"), g_out);
    char wl_lt[64], root_s[64];
    field(g_out, "lattice checksum:", wl_lt, sizeof wl_lt);
    field(g_out, "root:", root_s, sizeof root_s);
    assert_non_null(strstr(g_out, "slots:                5 .. 204: 200 banks"));
    unsigned long long root = strtoull(root_s + strlen("slot "), NULL, 10);
    assert_true(root > 100 && root < 204);
    j = info_json(tool, db);
    assert_int_equal(jnum(j, "root_slot"), root);
    assert_int_equal(jnum(j, "durable_root_slot"), root);
    assert_string_equal(jstr(j, "lt_checksum"), wl_lt);
    cJSON_Delete(j);
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s'", tool, db), 0);

    /* scan paging: pages of 97 joined by their cursors == one scan */
    assert_int_equal(
        adb_test_sh(g_out2, sizeof g_out2, "'%s' db scan '%s' --owner %s", tool, db, TOKEN), 0);
    size_t total = 0;
    for (char const *p = g_out2; (p = strchr(p, '\n')); p++)
        total++;
    assert_true(total > 500);
    assert_null(strstr(g_out2, "cursor"));
    static char joined[4 << 20];
    size_t      jn = 0, pages = 0;
    char        cursor[64] = "";
    for (;;) {
        rc = adb_test_sh(g_out, sizeof g_out, "'%s' db scan '%s' --owner %s --limit 97%s%s", tool,
                         db, TOKEN, cursor[0] ? " --cursor " : "", cursor);
        assert_int_equal(rc, 0);
        pages++;
        char *c = strstr(g_out, "{\"cursor\":\"");
        if (c) {
            char *q = strchr(c + 11, '"');
            assert_non_null(q);
            snprintf(cursor, sizeof cursor, "%.*s", (int)(q - c - 11), c + 11);
            *c = 0;
        }
        size_t l = strlen(g_out);
        assert_true(jn + l < sizeof joined);
        memcpy(joined + jn, g_out, l);
        jn += l;
        if (!c) break;
        assert_true(pages < 1000);
    }
    joined[jn] = 0;
    assert_string_equal(joined, g_out2);
    assert_true(pages >= (total + 96) / 97);

    /* full snapshot, more slots, incremental snapshot; both verified */
    char fpath[4200], ipath[4200];
    snapshot_and_check(tool, db, arch, false, NULL, fpath, sizeof fpath);
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' db workload '%s' --quiet --slots 60 --forks 3 --stores-min 50 "
                     "--stores-max 150 --seed 12 2>&1",
                     tool, db);
    if (rc) fail_msg("db workload: exit %d: %s", rc, g_out);
    snapshot_and_check(tool, db, arch, true, fpath, ipath, sizeof ipath);
    printf("  %s\n  %s\n", fpath, ipath);

    /* the independent reader agrees */
    rc = adb_test_sh(g_out, sizeof g_out, "python3 tests/oracle/oracle.py '%s' '%s' 2>&1", fpath,
                     ipath);
    if (rc || !strstr(g_out, "RESULT: OK")) fail_msg("oracle: exit %d: %s", rc, g_out);

    adb_test_rmtree(dir);
    free(dir);
}

/* in with @DB, @DIR and @FULL replaced, into out. */
static void
subst(char *out, size_t max, char const *in, char const *db, char const *dir, char const *full) {
    size_t o = 0;
    while (*in) {
        char const *v = NULL;
        size_t      skip = 1;
        if (!strncmp(in, "@DB", 3)) v = db, skip = 3;
        if (!strncmp(in, "@DIR", 4)) v = dir, skip = 4;
        if (!strncmp(in, "@FULL", 5)) v = full, skip = 5;
        size_t n = v ? strlen(v) : 1;
        assert_true(o + n < max);
        memcpy(out + o, v ? v : in, n);
        o += n;
        in += skip;
    }
    out[o] = 0;
}

/* A database held by this process: the CLI gets "database in use", exit 3. */
static void
test_cli_db_busy(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), db[4200];
    assert_non_null(dir);
    snprintf(db, sizeof db, "%s/db", dir);
    create_db(tool, db);
    acctdb_db_t *h = NULL;
    char         msg[512];
    assert_int_equal(acctdb_db_open(&h, db, NULL, msg, sizeof msg), 0);
    char const *cmds[] = {"info @DB",
                          "verify @DB",
                          "get @DB " SYSTEM,
                          "scan @DB --owner " SYSTEM,
                          "workload @DB --slots 1",
                          "snapshot @DB --out @DIR/a"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char sub[9000];
        subst(sub, sizeof sub, cmds[i], db, dir, "");
        int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db %s 2>&1 >/dev/null", tool, sub);
        if (rc != 3 || !strstr(g_out, "database in use"))
            fail_msg("db %s while held: exit %d: %s", sub, rc, g_out);
    }
    /* also refused, as "in use": a create into it (nothing is touched) */
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db create '%s' --from '%s' 2>&1", tool,
                                 db, adb_test_data(FULL_NAME)),
                     3);
    assert_non_null(strstr(g_out, "database in use"));
    acctdb_db_close(h);
    assert_int_equal(adb_test_sh(NULL, 0, "'%s' db info '%s' >/dev/null", tool, db), 0);
    adb_test_rmtree(dir);
    free(dir);
}

/* Every bad argument: a specific message and a non-zero exit. */
static void
test_cli_db_bad_args(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), db[4200];
    assert_non_null(dir);
    snprintf(db, sizeof db, "%s/db", dir);
    create_db(tool, db);
    struct {
        char const *args; /* @DB, @DIR, @FULL: the database, the temp dir, the full archive */
        int         rc;
        char const *msg;
    } const cases[] = {
        {"", 2, "usage: acctdb db"},
        {"frob", 2, "unknown command 'frob'"},
        {"info", 2, "missing DIR"},
        {"info @DB extra", 2, "'extra' is extra"},
        {"info @DB --slots 3", 2, "--slots does not apply"},
        {"info @DB --frob", 2, "unknown option '--frob'"},
        {"info @DB --json=1", 2, "--json takes no value"},
        {"get @DB --slot", 2, "--slot needs a value"},
        {"info @DIR/none", 2, "cannot open"},
        {"info @DB --write-cache 1x", 2, "--write-cache: '1x' is not a size"},
        {"info @DB --index-bins 3", 2, "is not a power of two"},
        {"info @DB --shrink-ratio 2", 2, "'2' is not a fraction from 0 to 1"},
        {"info @DB --config nokey=1", 2, "unknown key"},
        {"info @DB --config novalue", 2, "expected KEY=VALUE"},
        {"get @DB", 2, "expected DIR PUBKEY"},
        {"get @DB notbase58!", 2, "is not a base58 pubkey"},
        {"get @DB " SYSTEM " --slot 1", 2, "below the root"},
        {"get @DB " SYSTEM " --slot 999", 2, "unknown"},
        {"get @DB " SYSTEM " --slot -1", 2, "is not a slot number"},
        {"scan @DB", 2, "--owner PUBKEY is required"},
        {"scan @DB --owner xyz", 2, "'xyz' is not a base58 pubkey"},
        {"scan @DB --owner " SYSTEM " --cursor 0", 2, "--cursor: '0'"},
        {"scan @DB --owner " SYSTEM " --limit -3", 2, "is not a count"},
        {"scan @DB --owner " SYSTEM " --memcmp 5", 2, "expected OFFSET:BASE58BYTES"},
        {"scan @DB --owner " SYSTEM " --memcmp x:2", 2, "'x' is not a byte offset"},
        {"scan @DB --owner " SYSTEM " --memcmp 1:0O", 2, "is not base58 of 1 to 128 bytes"},
        {"scan @DB --owner " SYSTEM " --memcmp 0:2 --memcmp 0:2 --memcmp 0:2 --memcmp 0:2 "
         "--memcmp 0:2",
         2, "at most 4 --memcmp"},
        {"scan @DB --owner " SYSTEM " --no-owner-index", 2, "owner index"},
        {"snapshot @DB", 2, "--out ARCHIVE_DIR is required"},
        {"snapshot @DB --out /dev/null", 2, "is not a directory"},
        {"snapshot @DB --out @DIR/a --incremental", 0, ""}, /* on the loaded full of slot 1 */
        {"workload @DB", 2, "--slots N is required"},
        {"workload @DB --slots many", 2, "'many' is not a slot count"},
        {"workload @DB --slots 1 --forks 65", 2, "--forks: '65' is not a count from 1 to 64"},
        {"workload @DB --slots 1 --forks 0", 2, "--forks: '0' is not a count from 1 to 64"},
        {"workload @DB --slots 1 --stores-min 9 --stores-max 3", 2, "stores_min is above"},
        {"workload @DB --slots 1 --new-frac 1.5", 2, "not a fraction from 0 to 1"},
        {"workload @DB --slots 1 --new-frac 0.6 --close-frac 0.6", 2, "must be at most 1"},
        {"workload @DB --slots 1 --known-max 3", 2, "is not a count from 16 to 67108864"},
        {"workload @DB --slots 1 --root-lag 4294967296", 2, "is not a count"},
        {"create @DB --from @FULL", 2, "is not empty"},
        {"create @DIR/n", 2, "give exactly one of"},
        {"create @DIR/n --from @FULL --genesis @FULL", 2, "give exactly one of"},
        {"create @DIR/n --from-dir @DIR extra", 2, "goes only with --from"},
        {"create @DIR/n --from @DIR/missing.tar.zst", 2, "missing.tar.zst"},
        {"create @DIR/n --genesis @FULL", 2, "genesis"},
    };
    size_t checked = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[9000];
        subst(args, sizeof args, cases[i].args, db, dir, adb_test_data(FULL_NAME));
        int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db %s 2>&1 >/dev/null", tool, args);
        if (rc != cases[i].rc || !strstr(g_out, cases[i].msg))
            fail_msg("db %s: exit %d (want %d), stderr: %s (want '%s')", args, rc, cases[i].rc,
                     g_out, cases[i].msg);
        checked++;
    }
    /* the failed creates left nothing behind */
    assert_int_equal(adb_test_sh(NULL, 0, "test ! -e '%s/n'", dir), 0);
    /* and the database is intact */
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s'", tool, db), 0);
    printf("  %zu bad invocations: each a specific message and the right exit status\n", checked);
    adb_test_rmtree(dir);
    free(dir);
}

/* The library call: bad options, bookkeeping, and determinism (the same
 * root lattice hash with background threads, and with the services
 * stepped by the workload itself). */
static void
run_lib_workload(char const *db, bool background, acctdb_workload_result_t *r) {
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = background;
    cfg.owner_index = true; /* the workload finds the database's accounts by scanning */
    acctdb_db_t *h = NULL;
    char         msg[512];
    assert_int_equal(acctdb_db_open(&h, db, &cfg, msg, sizeof msg), 0);
    acctdb_workload_opts_t o;
    acctdb_workload_opts_default(&o);
    o.slots = 150;
    o.forks = 4;
    o.fork_frac = 0.3;
    o.root_lag = 8;
    o.stores_min = 20;
    o.stores_max = 200;
    o.loads_per_store = 2;
    o.seed = 99;
    o.service_every = background ? 0 : 3;
    int rc = acctdb_db_workload(h, &o, r);
    if (rc) fail_msg("workload: %s", acctdb_db_errmsg(h));
    assert_int_equal(r->slots_created, 150);
    assert_int_equal(r->last_slot - r->first_slot + 1, 150);
    assert_int_equal(r->first_slot, r->start_root + 1);
    assert_int_equal(r->slots_rooted + r->slots_dead + r->slots_pending, r->slots_created);
    assert_int_equal(r->new_accounts + r->updates + r->closed, r->stores);
    assert_true(r->forks_started > 0 && r->slots_dead > 0);
    assert_int_equal(r->root_info.slot, r->root_slot);
    assert_int_equal(r->tip_info.slot, r->tip_slot);
    assert_int_equal(acctdb_db_root_slot(h, NULL), r->root_slot);
    assert_int_equal(acctdb_db_check(h, msg, sizeof msg), 0);
    acctdb_db_close(h);
}

static void
test_workload_lib(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp(), a[4200], b[4200], msg[512];
    assert_non_null(dir);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    acctdb_db_source_t src = {.full_path = adb_test_data(FULL_NAME),
                              .incremental_path = adb_test_data(INC_NAME)};
    acctdb_db_t       *h = NULL;
    assert_int_equal(acctdb_db_create(&h, a, &src, NULL, msg, sizeof msg), 0);

    /* bad options name the field, and do nothing */
    acctdb_workload_opts_t   o;
    acctdb_workload_result_t r;
    acctdb_workload_opts_default(&o);
    o.slots = 10;
    o.forks = 0;
    assert_int_equal(acctdb_db_workload(h, &o, &r), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(acctdb_db_errmsg(h), "forks"));
    acctdb_workload_opts_default(&o);
    o.close_frac = -0.5;
    assert_int_equal(acctdb_db_workload(h, &o, &r), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(acctdb_db_errmsg(h), "close_frac"));
    assert_int_equal(acctdb_db_workload(h, NULL, &r), ACCTDB_ERR_INVALID);
    acctdb_workload_opts_default(&o); /* slots 0: nothing */
    assert_int_equal(acctdb_db_workload(h, &o, &r), 0);
    assert_int_equal(r.slots_created, 0);
    assert_int_equal(r.root_slot, 4);
    assert_string_equal(acctdb_base58_encode_32(r.root_info.lt_checksum, msg), INC_HASH);
    acctdb_db_close(h);
    assert_int_equal(acctdb_db_create(&h, b, &src, NULL, msg, sizeof msg), 0);
    acctdb_db_close(h);

    acctdb_workload_result_t ra, rb;
    run_lib_workload(a, true, &ra);
    run_lib_workload(b, false, &rb);
    assert_int_equal(ra.root_slot, rb.root_slot);
    assert_int_equal(ra.tip_slot, rb.tip_slot);
    assert_int_equal(ra.stores, rb.stores);
    assert_int_equal(ra.loads, rb.loads);
    assert_int_equal(ra.load_misses, rb.load_misses);
    assert_memory_equal(ra.root_info.lt_checksum, rb.root_info.lt_checksum, 32);
    assert_memory_equal(ra.root_info.bank_hash.b, rb.root_info.bank_hash.b, 32);
    assert_memory_equal(ra.tip_info.lt_checksum, rb.tip_info.lt_checksum, 32);
    printf("  150 slots, %llu forks (%llu banks dead), %llu stores, %llu loads: the same root %llu "
           "and lattice hash with and without service threads\n",
           (unsigned long long)ra.forks_started, (unsigned long long)ra.slots_dead,
           (unsigned long long)ra.stores, (unsigned long long)ra.loads,
           (unsigned long long)ra.root_slot);

    /* reopened: the root is durable and verifies */
    assert_int_equal(acctdb_db_open(&h, a, NULL, msg, sizeof msg), 0);
    assert_int_equal(acctdb_db_root_slot(h, NULL), ra.root_slot);
    assert_int_equal(acctdb_db_verify(h, msg, sizeof msg), 0);
    acctdb_db_close(h);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_cli_db_flow),
    cmocka_unit_test(test_cli_db_busy),
    cmocka_unit_test(test_cli_db_bad_args),
    cmocka_unit_test(test_workload_lib),
};
ADB_TEST_GROUP(cli_db, tests);
