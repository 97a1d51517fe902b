/* Integrity on every read path (issue 7): what a database stores cannot
 * change under it unnoticed, and what goes wrong leaves nothing behind.
 *
 *   - a flipped rent_epoch (a field no hash covers) in a sealed storage:
 *     `db verify` and `db snapshot` name the storage's checksum, and so
 *     does an open that scans the storages (without the index file a clean
 *     close wrote; an open that loads it reads no storage: the trade-off
 *     src/db/db_ixfile.c states); a flip while a handle has the database
 *     open is caught by verify and by the snapshot writer before an archive
 *     exists;
 *   - a zeroed 4 KiB page in the middle of a storage: "ends early" or the
 *     checksum, never a silent cut (opens that scan);
 *   - a flipped bit in manifest.bin or status_cache.bin: "checksum
 *     mismatch" naming the file;
 *   - two `db create` into one directory at once: one creates, the other
 *     exits 3 "in use" and touches nothing;
 *   - read-only commands on a directory that is not a database leave it as
 *     it was;
 *   - a `db snapshot` killed mid-write, then run again: the rerun removes
 *     the dead writer's temporary archive and writes a verified archive.
 * Everything goes through the acctdb tool (its exit codes and messages are
 * what operators see) except the open-handle cases. */
#include "../test.h"
#include "acctdb.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FULL_NAME "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define INC_NAME  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"

static char g_out[1 << 16];

/* A database from the 3.x pair after a short workload, closed (its storages
 * sealed and flushed). */
static void
make_db(char const *tool, char const *db) {
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s' --from '%s' '%s' 2>&1",
                         tool, db, adb_test_data(FULL_NAME), adb_test_data(INC_NAME));
    if (rc) fail_msg("db create: exit %d: %s", rc, g_out);
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' db workload '%s' --slots 80 --stores-min 50 --stores-max 200 "
                     "--root-lag 8 --no-background 2>&1",
                     tool, db);
    if (rc) fail_msg("db workload: exit %d: %s", rc, g_out);
}

/* Writes n bytes at off of path in place (as a disk would corrupt it). */
static void
poke(char const *path, size_t off, void const *p, size_t n) {
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The offsets of the rent_epoch fields of every record of pubkey in the
 * segment file (the record header: data_len @0x08, pubkey @0x10, lamports
 * @0x30, rent_epoch @0x38), at most max.  The pubkey is searched at 8-byte
 * aligned offsets; at least one must be found. */
static size_t
rent_epoch_offs(uint8_t const *seg, size_t sz, char const *pubkey_b58, size_t *offs, size_t max) {
    uint8_t key[32];
    assert_int_equal(acctdb_base58_decode_32(pubkey_b58, key), 0);
    size_t n = 0;
    for (size_t off = 0x10; off + 32 <= sz && n < max; off += 8)
        if (!memcmp(seg + off, key, 32) && off + 0x28 + 8 <= sz) offs[n++] = off + 0x28;
    if (!n) fail_msg("%s not in the segment", pubkey_b58);
    return n;
}

static void
copy_db(char const *from, char const *to) {
    assert_int_equal(adb_test_sh(NULL, 0, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to), 0);
}

/* Runs `acctdb db CMD DIR ARGS`, which must fail (exit want) with a message
 * containing every '|'-separated alternative of need (one is enough). */
static void
expect_fail(char const *tool, char const *cmd, char const *dir, char const *args, int want,
            char const *need) {
    int  rc = adb_test_sh(g_out, sizeof g_out, "'%s' db %s '%s' %s 2>&1", tool, cmd, dir,
                         args ? args : "");
    bool ok = false;
    char alts[256];
    snprintf(alts, sizeof alts, "%s", need);
    for (char *t = strtok(alts, "|"); t && !ok; t = strtok(NULL, "|"))
        ok = strstr(g_out, t) != NULL;
    if (rc != want || !ok)
        fail_msg("db %s %s %s: exit %d (want %d), message: %s (want %s)", cmd, dir,
                 args ? args : "", rc, want, g_out, need);
    print_message("    db %s: exit %d: %.*s\n", cmd, rc, (int)strcspn(g_out, "\n"), g_out);
}

static size_t
count_entries(char const *dir, char const *prefix) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t         n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) n++;
    closedir(d);
    return n;
}

/* ---- stored bytes that change -------------------------------------------------- */

static void
t_rent_epoch_flip(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), db[4200], bad[4200], seg[4300], out[4300];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    make_db(tool, db);
    copy_db(db, bad);
    snprintf(seg, sizeof seg, "%s/accounts/seg-000000", bad);
    size_t   sz;
    uint8_t *b = adb_test_read_file(seg, &sz);
    /* The Rent sysvar: stored by the origin and never rewritten, so its
     * live record sits in a sealed storage.  Every record of it is flipped
     * (an older one may lie in a dead extent, which no read serves). */
    size_t offs[16];
    size_t n_offs = rent_epoch_offs(b, sz, "SysvarRent111111111111111111111111111111111", offs, 16);
    uint8_t flipped[16];
    for (size_t i = 0; i < n_offs; i++)
        flipped[i] = b[offs[i]] ^ 0x01;
    free(b);
    for (size_t i = 0; i < n_offs; i++)
        poke(seg, offs[i], &flipped[i], 1);
    /* The lattice hash does not cover rent_epoch; the storage checksum does.
     * An open that loads the index file reads no storage: verify checks. */
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db info '%s' 2>&1", tool, bad), 0);
    assert_non_null(strstr(g_out, "loaded from index-"));
    expect_fail(tool, "verify", bad, NULL, 1, "fails its checksum"); /* opened: verify's finding */
    char args[4400];
    snprintf(args, sizeof args, "--out '%s'", out);
    mkdir(out, 0755);
    expect_fail(tool, "snapshot", bad, args, 2, "fails its checksum");
    assert_int_equal(count_entries(out, ""), 2); /* . and .. : nothing written */
    /* An open that scans (no index file) names it too. */
    assert_int_equal(adb_test_sh(NULL, 0, "rm '%s'/index-*", bad), 0);
    expect_fail(tool, "info", bad, NULL, 2, "fails its checksum");

    /* The same flip while a handle has the database open: verify and the
     * snapshot writer see it before an archive exists. */
    copy_db(db, bad);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    acctdb_db_t *h = NULL;
    char         msg[600];
    assert_int_equal(acctdb_db_open(&h, bad, &cfg, msg, sizeof msg), 0);
    for (size_t i = 0; i < n_offs; i++)
        poke(seg, offs[i], &flipped[i], 1);
    int rc = acctdb_db_verify(h, msg, sizeof msg);
    if (rc != ACCTDB_ERR_CORRUPT || !strstr(msg, "checksum"))
        fail_msg("verify of an open database after a flip: %d: %s", rc, msg);
    print_message("    open handle, verify: %s\n", msg);
    char path[4096] = "";
    rc = acctdb_db_snapshot(h, out, false, path);
    if (rc == 0 || !strstr(acctdb_db_errmsg(h), "checksum"))
        fail_msg("snapshot of an open database after a flip: %d: %s", rc, acctdb_db_errmsg(h));
    print_message("    open handle, snapshot: %s\n", acctdb_db_errmsg(h));
    assert_int_equal(count_entries(out, ""), 2);
    acctdb_db_close(h);
    /* The unaltered database is fine. */
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s' 2>&1", tool, db), 0);
    adb_test_rmtree(dir);
    free(dir);
}

static void
t_zeroed_page(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), db[4200], bad[4200], seg[4300];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    make_db(tool, db);
    char dseg[4300];
    snprintf(dseg, sizeof dseg, "%s/accounts/seg-000000", db);
    snprintf(seg, sizeof seg, "%s/accounts/seg-000000", bad);
    size_t   sz;
    uint8_t *b = adb_test_read_file(dseg, &sz);
    /* Pages from a third into the segment on: a page with data on it (not a
     * punched hole, not zeros already) is zeroed, until one falls in the
     * middle of a storage (a page that starts one is caught too, as records
     * that stop at offset 0; one in a dead extent not yet punched is not
     * read by anything, so the next page is tried). */
    static uint8_t const zero[4096];
    bool                 mid = false;
    size_t               tried = 0;
    for (size_t page = (sz / 3) & ~(size_t)4095; !mid && page + 4096 <= sz && tried < 64;
         page += 4096) {
        if (!memcmp(b + page, zero, sizeof zero)) continue;
        tried++;
        copy_db(db, bad);
        poke(seg, page, zero, sizeof zero);
        /* Opens that scan: without the index file (a load reads no storage). */
        assert_int_equal(adb_test_sh(NULL, 0, "rm '%s'/index-*", bad), 0);
        int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db info '%s' 2>&1", tool, bad);
        if (rc == 0) continue;
        assert_int_equal(rc, 2);
        assert_true(strstr(g_out, "ends early") || strstr(g_out, "fails its checksum"));
        mid = !strstr(g_out, "stop at offset 0 ");
    }
    free(b);
    if (mid) {
        expect_fail(tool, "info", bad, NULL, 2, "ends early|fails its checksum");
        expect_fail(tool, "get", bad, "SysvarRent111111111111111111111111111111111", 2,
                    "ends early|fails its checksum");
        expect_fail(tool, "verify", bad, NULL, 2, "ends early|fails its checksum");
    }
    assert_true(mid);
    adb_test_rmtree(dir);
    free(dir);
}

static void
t_origin_files_flip(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), db[4200], bad[4200], f[4300];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    make_db(tool, db);
    char const *files[] = {"manifest.bin", "status_cache.bin"};
    for (size_t i = 0; i < 2; i++) {
        copy_db(db, bad);
        snprintf(f, sizeof f, "%s/%s", bad, files[i]);
        size_t   sz;
        uint8_t *b = adb_test_read_file(f, &sz);
        assert_true(sz > 64);
        /* one bit in the middle: still decodes, so only a checksum sees it */
        size_t  off = sz / 2;
        uint8_t x = b[off] ^ 0x10;
        free(b);
        poke(f, off, &x, 1);
        char need[64];
        snprintf(need, sizeof need, "%s: checksum mismatch", files[i]);
        expect_fail(tool, "info", bad, NULL, 2, need);
        expect_fail(tool, "verify", bad, NULL, 2, need);
    }
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- what failures leave behind ---------------------------------------------------- */

/* A snapshot generated for a database that takes a moment to create and to
 * snapshot (so a second process can meet the first one at work). */
static void
gen_archive(char const *tool, char const *dir, char *full, size_t max) {
    int rc =
        adb_test_sh(g_out, sizeof g_out,
                    "'%s' snapshot gen --accounts 150000 --out '%s' >/dev/null 2>&1", tool, dir);
    if (rc) fail_msg("snapshot gen: exit %d", rc);
    rc = adb_test_sh(g_out, sizeof g_out, "ls '%s'/snapshot-*.tar.zst", dir);
    if (rc) fail_msg("no archive: %s", g_out);
    snprintf(full, max, "%.*s", (int)strcspn(g_out, "\n"), g_out);
}

static pid_t
spawn(char const *cmd) {
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return p;
}

static int
reap(pid_t p) {
    int st = 0;
    assert_int_equal(waitpid(p, &st, 0), p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

static void
t_create_race(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), full[4096], db[4200], cmd[9000], gd[4200];
    snprintf(gd, sizeof gd, "%s/gen", dir);
    mkdir(gd, 0755);
    gen_archive(tool, gd, full, sizeof full);
    size_t met = 0;
    for (int round = 0; round < 3; round++) {
        snprintf(db, sizeof db, "%s/db%d", dir, round);
        snprintf(cmd, sizeof cmd, "'%s' db create --quiet '%s' --from '%s' >/dev/null 2>&1", tool,
                 db, full);
        pid_t first = spawn(cmd);
        /* The second create once the first has made the directory. */
        struct stat st;
        for (int i = 0; i < 2000 && stat(db, &st); i++)
            sleep_ms(1);
        int rc2 = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s' --from '%s' 2>&1",
                              tool, db, full);
        int rc1 = reap(first);
        assert_int_equal(rc1, 0);
        if (rc2 == 3) {
            assert_non_null(strstr(g_out, "in use"));
            met++;
        } else {
            /* it came after the first finished: refused as not empty */
            assert_int_equal(rc2, 2);
            assert_non_null(strstr(g_out, "not empty"));
        }
        /* Either way the first one's database is whole. */
        int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s' 2>&1", tool, db);
        if (rc) fail_msg("verify after the race: %s", g_out);
    }
    print_message("    create race: the second create met the first at work %zu of 3 times "
                  "(exit 3 'in use')\n",
                  met);
    assert_true(met >= 1);
    adb_test_rmtree(dir);
    free(dir);
}

static void
t_not_a_db(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), d[4200], listing[2][4096];
    snprintf(d, sizeof d, "%s/plain", dir);
    mkdir(d, 0755);
    assert_int_equal(adb_test_sh(NULL, 0, "echo hello > '%s/notes.txt'", d), 0);
    char const *cmds[][2] = {{"info", NULL},
                             {"verify", NULL},
                             {"get", "SysvarRent111111111111111111111111111111111"},
                             {"scan", "--owner 11111111111111111111111111111111"}};
    for (int empty = 0; empty < 2; empty++) {
        if (empty) assert_int_equal(adb_test_sh(NULL, 0, "rm -f '%s'/*", d), 0);
        assert_int_equal(
            adb_test_sh(listing[0], sizeof listing[0], "ls -la --time-style=+ '%s'", d), 0);
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
            int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db %s '%s' %s 2>&1", tool, cmds[i][0],
                                 d, cmds[i][1] ? cmds[i][1] : "");
            assert_int_not_equal(rc, 0);
            assert_non_null(strstr(g_out, "acctdb"));
        }
        assert_int_equal(
            adb_test_sh(listing[1], sizeof listing[1], "ls -la --time-style=+ '%s'", d), 0);
        if (strcmp(listing[0], listing[1]))
            fail_msg("read-only commands changed a non-database directory:\n%s\n--- now:\n%s",
                     listing[0], listing[1]);
    }
    adb_test_rmtree(dir);
    free(dir);
}

static void
t_snapshot_killed_rerun(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp(), full[4096], db[4200], out[4200], cmd[9000], gd[4200];
    snprintf(gd, sizeof gd, "%s/gen", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(gd, 0755);
    mkdir(out, 0755);
    gen_archive(tool, gd, full, sizeof full);
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s' --from '%s' 2>&1", tool,
                         db, full);
    if (rc) fail_msg("db create: %s", g_out);
    snprintf(cmd, sizeof cmd, "exec '%s' db snapshot '%s' --out '%s' >/dev/null 2>&1", tool, db,
             out);
    /* Kill the writer once its temporary archive exists (a few tries: it may
     * finish first). */
    bool killed = false;
    for (int attempt = 0; attempt < 5 && !killed; attempt++) {
        pid_t p = spawn(cmd);
        for (int i = 0; i < 5000; i++) {
            if (count_entries(out, "tmp-snapshot-archive-")) {
                kill(p, SIGKILL);
                killed = true;
                break;
            }
            if (waitpid(p, NULL, WNOHANG) == p) {
                p = 0;
                break;
            }
            sleep_ms(1);
        }
        if (p) reap(p);
        if (!killed) assert_int_equal(adb_test_sh(NULL, 0, "rm -f '%s'/*", out), 0);
    }
    assert_true(killed);
    assert_int_equal(count_entries(out, "tmp-snapshot-archive-"), 1);
    assert_int_equal(count_entries(out, "snapshot-"), 0);
    /* The rerun: removes the dead writer's file, writes a verified archive. */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' db snapshot '%s' --out '%s' 2>&1", tool, db, out);
    if (rc) fail_msg("snapshot rerun: %s", g_out);
    assert_int_equal(count_entries(out, "tmp-snapshot-archive-"), 0);
    assert_int_equal(count_entries(out, "snapshot-"), 1);
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' snapshot verify --quiet '%s'/snapshot-*.tar.zst 2>&1", tool, out);
    if (rc) fail_msg("verify the rerun's archive: %s", g_out);
    print_message("    killed snapshot: temporary archive left, removed by the rerun, whose "
                  "archive verifies\n");
    adb_test_rmtree(dir);
    free(dir);
}

/* acctdb_db_errmsg is the handle's last error: a later failure replaces an
 * earlier one, and one handle's failure does not show on another's. */
static void
t_errmsg_per_handle(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp(), a[4200], b[4200], msg[600];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    acctdb_db_source_t src = {.full_path = adb_test_data(FULL_NAME),
                              .incremental_path = adb_test_data(INC_NAME)};
    acctdb_db_t       *ha = NULL, *hb = NULL;
    assert_int_equal(acctdb_db_create(&ha, a, &src, NULL, msg, sizeof msg), 0);
    assert_int_equal(acctdb_db_create(&hb, b, &src, NULL, msg, sizeof msg), 0);
    assert_string_equal(acctdb_db_errmsg(ha), "");
    acctdb_pubkey_t  k = {{1}};
    acctdb_account_t out;
    uint8_t          buf[64];
    /* a slot below the root */
    int rc = acctdb_db_load(ha, 1, &k, &out, buf, sizeof buf, NULL);
    assert_int_not_equal(rc, 0);
    char first[600];
    snprintf(first, sizeof first, "%s", acctdb_db_errmsg(ha));
    assert_true(first[0]);
    /* then another failure on the same handle: its message replaces it */
    assert_int_equal(acctdb_db_freeze(ha, 999, NULL, NULL), ACCTDB_ERR_INVALID);
    assert_string_not_equal(acctdb_db_errmsg(ha), first);
    assert_non_null(strstr(acctdb_db_errmsg(ha), "999"));
    /* the other handle saw none of it */
    assert_string_equal(acctdb_db_errmsg(hb), "");
    rc = acctdb_db_root(hb, 12345);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(acctdb_db_errmsg(hb), "12345"));
    assert_non_null(strstr(acctdb_db_errmsg(ha), "999"));
    acctdb_db_close(ha);
    acctdb_db_close(hb);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_errmsg_per_handle),     cmocka_unit_test(t_rent_epoch_flip),
    cmocka_unit_test(t_zeroed_page),           cmocka_unit_test(t_origin_files_flip),
    cmocka_unit_test(t_create_race),           cmocka_unit_test(t_not_a_db),
    cmocka_unit_test(t_snapshot_killed_rerun),
};
ADB_TEST_GROUP(integrity, tests);
