/* The commit record (format 3, src/db/db_meta.c): DIR/acctdb.commit's two
 * alternating 4 KiB slots, each naming an immutable catalog-<gen>.
 * Services are stepped; a copy of an open database's directory (nothing
 * runs in the background) stands for the state a kill left.
 *
 *   torn_newest   the newest slot zeroed or garbled (a torn 4 KiB write):
 *                 opens at gen - 1 with that root's lattice checksum; the
 *                 next commit goes to the bad slot and reopens there
 *   both_bad      both slots invalid: CORRUPT naming each slot's reason
 *   catalog_bad   the newest slot's catalog missing, short or flipped: the
 *                 other slot; the bad catalog is swept at that open
 *   version0      a slot of format version 0 (checksummed): not valid; both
 *                 so: CORRUPT; a format-2 acctdb.meta of version 0: CORRUPT,
 *                 of version 3: UNSUPPORTED_VERSION
 *   migrate_v2    a database with only a format-2 acctdb.meta opens as
 *                 before; its first commit writes acctdb.commit and removes
 *                 acctdb.meta; it reopens there
 *   shrink_punch  shrink commits N without punching the extents it retired:
 *                 slot N corrupted, N - 1 opens and verifies; after N + 1
 *                 they are punched (st_blocks); an open at N with N - 1
 *                 valid punches them after its first commit
 *   unnamed_tail  a flush whose commit failed (the I/O table fails the
 *                 catalog): its storage bytes are truncated at reopen,
 *                 with stray segments, catalogs and temporaries
 *   clean_flag    CLEAN_SHUTDOWN set by the creation and by close, cleared
 *                 by the first commit after open; closing an unchanged
 *                 database writes nothing
 *   op_order      a recording I/O table: one flush's segment fdatasync,
 *                 then catalog create, write, fdatasync, directory fsync,
 *                 then the slot's pwrite and fdatasync; no rename
 *   commit_cost   prints the median time of one commit (not asserted)
 *   hist_lag      20 roots while a flush is held at its commit point: the
 *                 committed root reopens (a copy) and its archive loads
 *                 under the loader's checks, blockhash queue gapless */
#include "../test.h"

#include "acctdb.h"
#include "acctdb_sim.h"
#include "db/db.h"
#include "hash/blake3.h"
#include "util/io.h"

#include <cjson/cJSON.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROOT3 4 /* the pair's slot */

#define DB_OK(db, expr)                                                                            \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc) {                                                                                 \
            print_message("%s:%d: %s failed: %s (%d): %s\n", __FILE__, __LINE__, #expr,            \
                          acctdb_strerror(_rc), _rc, acctdb_db_errmsg(db));                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- helpers ---------------------------------------------------------------- */

static uint8_t g_data[9u << 20];

static void
cfg_stepped(acctdb_db_config_t *c) {
    acctdb_db_config_default(c);
    c->background = false;
    c->index_bins = 64;
    c->threads = 2;
}

static void
join(char *out, char const *a, char const *b) {
    int n = snprintf(out, 4096, "%s/%s", a, b);
    assert_true(n > 0 && n < 4096);
}

static int
open_rc(acctdb_db_t **db, char const *dir, acctdb_db_config_t const *cfg, char *msg, size_t max) {
    *db = NULL;
    int rc = acctdb_db_open(db, dir, cfg, msg, max);
    if (rc) assert_null(*db);
    return rc;
}

static acctdb_db_t *
open_ok(char const *dir, acctdb_db_config_t const *cfg) {
    acctdb_db_t *db;
    char         msg[1024];
    int          rc = open_rc(&db, dir, cfg, msg, sizeof msg);
    if (rc) print_message("open %s: %s (%s)\n", dir, msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
    return db;
}

static void
verify_ok(acctdb_db_t *db) {
    char msg[1024] = "";
    int  rc = acctdb_db_verify(db, msg, sizeof msg);
    if (rc) print_message("acctdb_db_verify: %s (%s)\n", msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
}

/* A new root on the current one storing n accounts (key byte k0 + i, data
 * of data_len bytes), frozen, rooted; then one flush (one commit).
 * Returns the new root. */
static uint64_t
root_and_flush(acctdb_db_t *db, uint8_t k0, size_t n, size_t data_len) {
    uint64_t         root = acctdb_db_root_slot(db, NULL), s = root + 1;
    acctdb_account_t a[4];
    assert_true(n <= 4 && data_len <= sizeof g_data);
    for (size_t i = 0; i < n; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].pubkey.b[0] = (uint8_t)(k0 + i);
        a[i].pubkey.b[1] = 0xc7;
        a[i].lamports = 1000000 + s;
        a[i].data = g_data;
        a[i].data_len = data_len;
    }
    memset(g_data, (int)(s & 0xff), data_len);
    DB_OK(db, acctdb_db_store(db, s, root, a, n));
    acctdb_bank_meta_t m = {0};
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
    DB_OK(db, acctdb_db_root(db, s));
    assert_true(acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH) >= 0);
    uint64_t durable = 0;
    assert_int_equal(acctdb_db_root_slot(db, &durable), s);
    assert_int_equal(durable, s);
    return s;
}

static adb_db_commit_info_t
peek(char const *dir) {
    adb_db_commit_info_t ci;
    adb_err_t            e = {0};
    int                  rc = adb_db_commit_peek(dir, &ci, &e);
    if (rc) print_message("peek %s: %s\n", dir, e.msg);
    assert_int_equal(rc, 0);
    return ci;
}

static void
lt_of(acctdb_db_t *db, uint64_t slot, uint8_t out[32]) {
    acctdb_bank_info_t in;
    DB_OK(db, acctdb_db_bank_info(db, slot, &in));
    memcpy(out, in.lt_checksum, 32);
}

static bool exists(char const *dir, char const *name);

/* The database at dir opens at root `slot` whose lattice checksum is lt,
 * and verifies; the open removed `gone` (unless NULL). */
static void
expect_root_gone(char const *dir, uint64_t slot, uint8_t const lt[32], char const *gone) {
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = open_ok(dir, &cfg);
    if (gone) assert_false(exists(dir, gone));
    uint64_t durable = 0;
    assert_int_equal(acctdb_db_root_slot(db, &durable), slot);
    assert_int_equal(durable, slot);
    uint8_t got[32];
    lt_of(db, slot, got);
    assert_memory_equal(got, lt, 32);
    verify_ok(db);
    acctdb_db_close(db);
}

static void
expect_root(char const *dir, uint64_t slot, uint8_t const lt[32]) {
    expect_root_gone(dir, slot, lt, NULL);
}

static void
copy_dir(char const *from, char const *to) {
    assert_int_equal(adb_test_sh(NULL, 0, "cp -a '%s' '%s'", from, to), 0);
}

static void
patch(char const *path, uint64_t off, void const *p, size_t n) {
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static bool
exists(char const *dir, char const *name) {
    char p[4300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* 512-byte blocks allocated to every segment of dir's database. */
static uint64_t
seg_blocks(char const *dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/accounts", dir);
    DIR *d = opendir(p);
    assert_non_null(d);
    uint64_t       b = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "seg-", 4)) continue;
        struct stat st;
        assert_int_equal(fstatat(dirfd(d), de->d_name, &st, 0), 0);
        b += (uint64_t)st.st_blocks;
    }
    closedir(d);
    return b;
}

/* A database at tmp/db with commits 1 (creation), 2 and 3 (one new root
 * each); left open in *db_out; roots and lattice checksums of 2 and 3. */
static void
three_commits(char const *dir, acctdb_db_t **db_out, uint64_t root[4], uint8_t lt[4][32]) {
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    assert_int_equal(peek(dir).gen, 1);
    for (uint64_t g = 2; g <= 3; g++) {
        root[g] = root_and_flush(db, (uint8_t)(16 * g), 2, 100);
        lt_of(db, root[g], lt[g]);
        adb_db_commit_info_t ci = peek(dir);
        assert_int_equal(ci.gen, g);
        assert_int_equal(ci.root_slot, root[g]);
        assert_memory_equal(ci.lt_checksum, lt[g], 32);
        assert_true(ci.valid[0] && ci.valid[1]);
    }
    *db_out = db;
}

/* ---- tests ------------------------------------------------------------------- */

static void
test_torn_newest(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], c1[4096], c2[4096], cm[4300];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(c1, tmp, "zeroed");
    join(c2, tmp, "garbled");
    acctdb_db_t *db;
    uint64_t     root[4];
    uint8_t      lt[4][32];
    three_commits(dir, &db, root, lt);
    copy_dir(dir, c1);
    copy_dir(dir, c2);
    acctdb_db_close(db);

    /* Gen 3 is in slot 1 (offset 4096): a torn write of it. */
    static uint8_t page[4096];
    memset(page, 0, sizeof page);
    snprintf(cm, sizeof cm, "%s/acctdb.commit", c1);
    patch(cm, 4096, page, sizeof page);
    adb_test_rng_t r = {adb_test_seed()};
    adb_test_rng_fill(&r, page, sizeof page);
    memcpy(page, "ACCTDBC1", 8); /* past the magic: only the checksum can tell */
    page[8] = 3;
    page[9] = page[10] = page[11] = 0;
    snprintf(cm, sizeof cm, "%s/acctdb.commit", c2);
    patch(cm, 4096, page, sizeof page);
    char const *copies[2] = {c1, c2};
    for (int i = 0; i < 2; i++) {
        adb_db_commit_info_t ci = peek(copies[i]);
        assert_int_equal(ci.gen, 2);
        assert_false(ci.valid[1]);
        print_message("    %s slot 1: %s\n", i ? "garbled" : "zeroed", ci.why[1]);
        /* catalog-3 is named by no valid slot: the open sweeps it. */
        expect_root_gone(copies[i], root[2], lt[2], "catalog-3");
        assert_true(exists(copies[i], "catalog-2"));
        /* The next commit (the close's) was gen 3 again, into the bad slot. */
        ci = peek(copies[i]);
        assert_int_equal(ci.gen, 3);
        assert_int_equal(ci.root_slot, root[2]);
        assert_true(ci.valid[0] && ci.valid[1]);
    }

    /* And the one after it holds a new root. */
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    db = open_ok(c1, &cfg);
    uint64_t s = root_and_flush(db, 200, 1, 10);
    uint8_t  lts[32];
    lt_of(db, s, lts);
    assert_int_equal(peek(c1).gen, 4);
    acctdb_db_close(db);
    expect_root(c1, s, lts);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_both_bad(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], cm[4300], msg[1024];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_t *db;
    uint64_t     root[4];
    uint8_t      lt[4][32];
    three_commits(dir, &db, root, lt);
    acctdb_db_close(db);
    /* Slot 0 zeroed; one flipped byte in slot 1's record. */
    static uint8_t page[4096];
    snprintf(cm, sizeof cm, "%s/acctdb.commit", dir);
    patch(cm, 0, page, sizeof page);
    size_t   sz;
    uint8_t *b = adb_test_read_file(cm, &sz);
    b[4096 + 30] ^= 4;
    patch(cm, 0, b, sz);
    free(b);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    assert_int_equal(open_rc(&db, dir, &cfg, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    print_message("    %s\n", msg);
    assert_non_null(strstr(msg, "both commit records are invalid"));
    assert_non_null(strstr(msg, "slot 0: empty"));
    assert_non_null(strstr(msg, "slot 1: checksum mismatch"));
    adb_db_commit_info_t ci;
    adb_err_t            e = {0};
    assert_int_equal(adb_db_commit_peek(dir, &ci, &e), ACCTDB_ERR_CORRUPT);
    assert_false(ci.valid[0] || ci.valid[1]);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_catalog_bad(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], c[3][4096], p[4300];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    char const *names[3] = {"missing", "short", "flipped"};
    for (int i = 0; i < 3; i++)
        join(c[i], tmp, names[i]);
    acctdb_db_t *db;
    uint64_t     root[4];
    uint8_t      lt[4][32];
    three_commits(dir, &db, root, lt);
    for (int i = 0; i < 3; i++)
        copy_dir(dir, c[i]);
    acctdb_db_close(db);
    snprintf(p, sizeof p, "%s/catalog-3", c[0]);
    assert_int_equal(unlink(p), 0);
    snprintf(p, sizeof p, "%s/catalog-3", c[1]);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(truncate(p, st.st_size - 1), 0);
    snprintf(p, sizeof p, "%s/catalog-3", c[2]);
    size_t   sz;
    uint8_t *b = adb_test_read_file(p, &sz);
    b[sz / 2] ^= 0x10;
    patch(p, 0, b, sz);
    free(b);
    char const *want[3] = {"is missing", "bytes, the record names", "fails its checksum"};
    for (int i = 0; i < 3; i++) {
        adb_db_commit_info_t ci = peek(c[i]);
        print_message("    %s: slot 1: %s\n", names[i], ci.why[1]);
        assert_int_equal(ci.gen, 2);
        assert_non_null(strstr(ci.why[1], want[i]));
        if (i) assert_true(exists(c[i], "catalog-3"));
        expect_root_gone(c[i], root[2], lt[2], "catalog-3");
    }
    adb_test_rmtree(tmp);
    free(tmp);
}

/* A format-2 acctdb.meta of the database at dir (closed), written by the
 * writer acctdb used before format 3, and nothing of format 3 left. */
static void
make_v2(char const *dir) {
    adb_db_t     *x;
    adb_db_meta_t m;
    adb_err_t     e = {0};
    int           rc = adb_db_open_loaded(&x, dir, &m, &e);
    if (rc) print_message("open_loaded: %s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(adb_db_write_meta_v2(x, &m), 0);
    adb_db_meta_fini(&m);
    adb_db_close(x);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (!strcmp(de->d_name, "acctdb.commit") || !strncmp(de->d_name, "catalog-", 8))
            assert_int_equal(unlinkat(dirfd(d), de->d_name, 0), 0);
    closedir(d);
}

static void
test_version0(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], cm[4300], msg[1024];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_t *db;
    uint64_t     root[4];
    uint8_t      lt[4][32];
    three_commits(dir, &db, root, lt);
    acctdb_db_close(db);
    snprintf(cm, sizeof cm, "%s/acctdb.commit", dir);
    size_t   sz;
    uint8_t *orig = adb_test_read_file(cm, &sz), *b = malloc(sz);
    assert_non_null(b);
    /* The close's commit (gen 4, slot 0) at version 0, checksummed: slot 1
     * (gen 3) is the newest valid; the same root (close only flushed). */
    memcpy(b, orig, sz);
    memset(b + 8, 0, 4);
    adb_blake3_hash(b, 168, b + 168, 32);
    patch(cm, 0, b, sz);
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.gen, 3);
    assert_non_null(strstr(ci.why[0], "format version 0"));
    /* Both at version 0: CORRUPT, each slot named. */
    memset(b + 4096 + 8, 0, 4);
    adb_blake3_hash(b + 4096, 168, b + 4096 + 168, 32);
    patch(cm, 0, b, sz);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    assert_int_equal(open_rc(&db, dir, &cfg, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "slot 0: format version 0"));
    assert_non_null(strstr(msg, "slot 1: format version 0"));
    patch(cm, 0, orig, sz);
    free(orig);
    free(b);

    /* A format-2 acctdb.meta at version 0 (checksummed) or 3. */
    make_v2(dir);
    snprintf(cm, sizeof cm, "%s/acctdb.meta", dir);
    orig = adb_test_read_file(cm, &sz);
    b = malloc(sz);
    assert_non_null(b);
    uint8_t const vers[2] = {0, 3};
    int const     want[2] = {ACCTDB_ERR_CORRUPT, ACCTDB_ERR_UNSUPPORTED_VERSION};
    for (int i = 0; i < 2; i++) {
        memcpy(b, orig, sz);
        b[8] = vers[i];
        adb_blake3_hash(b, sz - 32, b + sz - 32, 32);
        patch(cm, 0, b, sz);
        assert_int_equal(open_rc(&db, dir, &cfg, msg, sizeof msg), want[i]);
        print_message("    acctdb.meta version %u: %s\n", vers[i], msg);
    }
    patch(cm, 0, orig, sz);
    db = open_ok(dir, &cfg);
    acctdb_db_close(db);
    free(orig);
    free(b);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_migrate_v2(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    uint64_t     s = root_and_flush(db, 40, 3, 1000);
    uint8_t      lt[32];
    lt_of(db, s, lt);
    acctdb_db_close(db);
    make_v2(dir);
    assert_true(exists(dir, "acctdb.meta"));
    assert_false(exists(dir, "acctdb.commit"));

    /* Opens as before; opening alone writes nothing ... */
    expect_root(dir, s, lt);
    /* (expect_root's close committed: a clean close is a commit.) */
    assert_true(exists(dir, "acctdb.commit"));
    assert_false(exists(dir, "acctdb.meta"));
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.gen, 1);
    assert_int_equal(ci.root_slot, s);
    assert_int_equal(ci.flags, ADB_DB_COMMIT_CLEAN);
    assert_memory_equal(ci.lt_checksum, lt, 32);

    /* ... and a flush is the migrating commit too. */
    make_v2(dir);
    db = open_ok(dir, &cfg);
    assert_false(exists(dir, "acctdb.commit"));
    uint64_t s2 = root_and_flush(db, 60, 2, 10);
    uint8_t  lt2[32];
    lt_of(db, s2, lt2);
    assert_true(exists(dir, "acctdb.commit"));
    assert_false(exists(dir, "acctdb.meta"));
    assert_int_equal(peek(dir).gen, 1);
    acctdb_db_close(db);
    expect_root(dir, s2, lt2);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_shrink_punch(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], c1[4096], c2[4096], cm[4300];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(c1, tmp, "older");
    join(c2, tmp, "newer");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    /* Two 9 MiB accounts (one 18 MiB storage, over the 16 MiB punch
     * batch), then both replaced by small ones: that storage is dead. */
    root_and_flush(db, 90, 2, sizeof g_data);
    uint64_t s = root_and_flush(db, 90, 2, 100);
    uint8_t  lt[32];
    lt_of(db, s, lt);
    uint64_t gen = peek(dir).gen, b0 = seg_blocks(dir);
    assert_true(acctdb_db_service_step(db, ACCTDB_SERVICE_SHRINK) > 0);
    /* Shrink committed N = gen + 1 without the dead storage; the other
     * slot (N - 1) still names it, so nothing was punched. */
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.gen, gen + 1);
    uint64_t b1 = seg_blocks(dir);
    print_message("    blocks: %llu before shrink, %llu after\n", (unsigned long long)b0,
                  (unsigned long long)b1);
    assert_true(b1 >= b0);
    copy_dir(dir, c1);
    copy_dir(dir, c2);
    /* Commit N + 1: N - 1 is overwritten, the extents go. */
    root_and_flush(db, 120, 1, 10);
    assert_int_equal(peek(dir).gen, gen + 2);
    uint64_t b2 = seg_blocks(dir);
    print_message("    blocks after commit N + 1: %llu\n", (unsigned long long)b2);
    assert_true(b2 + (16u << 20) / 512 <= b1);
    verify_ok(db);
    acctdb_db_close(db);

    /* N torn: N - 1 opens, and its storages (the dead one too) are whole. */
    static uint8_t page[4096];
    snprintf(cm, sizeof cm, "%s/acctdb.commit", c1);
    patch(cm, (ci.gen & 1) * 4096, page, sizeof page);
    assert_int_equal(peek(c1).gen, gen);
    expect_root(c1, s, lt);

    /* An open at N (N - 1 valid) keeps what only N - 1 names until its
     * first commit. */
    uint64_t cb0 = seg_blocks(c2);
    db = open_ok(c2, &cfg);
    assert_int_equal(seg_blocks(c2), cb0);
    root_and_flush(db, 130, 1, 10);
    uint64_t cb1 = seg_blocks(c2);
    print_message("    reopened at N: blocks %llu, after its first commit %llu\n",
                  (unsigned long long)cb0, (unsigned long long)cb1);
    assert_true(cb1 + (16u << 20) / 512 <= cb0);
    verify_ok(db);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- a recording I/O table ---------------------------------------------------- */

enum { OP_OPEN, OP_CLOSE, OP_WRITE, OP_PWRITE, OP_FSYNC, OP_FDATASYNC, OP_RENAME, OP_UNLINK };
static char const *const op_names[] = {"open",  "close",     "write",  "pwrite",
                                       "fsync", "fdatasync", "rename", "unlink"};

typedef struct rec_ev {
    int      op;
    char     name[64]; /* the file (last path component), "dir" for a directory fsync */
    int      flags;
    uint64_t sz, off;
} rec_ev_t;

typedef struct rec {
    char     fd_name[1024][64];
    rec_ev_t ev[4096];
    size_t   n;
    bool     fail_catalog; /* openat of catalog-* fails with EIO */
} rec_t;

static rec_t g_rec;

static char const *
base_name(char const *p) {
    char const *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void
rec_push(int op, char const *name, int flags, uint64_t sz, uint64_t off) {
    if (g_rec.n == sizeof g_rec.ev / sizeof g_rec.ev[0]) return;
    rec_ev_t *e = &g_rec.ev[g_rec.n++];
    e->op = op;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->flags = flags;
    e->sz = sz;
    e->off = off;
}

static char const *
fd_name(int fd) {
    return fd >= 0 && fd < 1024 && g_rec.fd_name[fd][0] ? g_rec.fd_name[fd] : "?";
}

static int
r_openat(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site) {
    if (g_rec.fail_catalog && !strncmp(base_name(path), "catalog-", 8)) return -EIO;
    int fd = adb_io_posix()->openat(ctx, dirfd, path, flags, mode, site);
    if (fd >= 0 && fd < 1024) {
        struct stat st;
        bool        isdir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
        snprintf(g_rec.fd_name[fd], sizeof g_rec.fd_name[fd], "%s",
                 isdir ? "dir" : base_name(path));
    }
    rec_push(OP_OPEN, base_name(path), flags, 0, 0);
    return fd;
}
static int
r_close(void *ctx, int fd, char const *site) {
    rec_push(OP_CLOSE, fd_name(fd), 0, 0, 0);
    if (fd >= 0 && fd < 1024) g_rec.fd_name[fd][0] = 0;
    return adb_io_posix()->close(ctx, fd, site);
}
static ssize_t
r_write(void *ctx, int fd, void const *buf, size_t sz, char const *site) {
    rec_push(OP_WRITE, fd_name(fd), 0, sz, 0);
    return adb_io_posix()->write(ctx, fd, buf, sz, site);
}
static ssize_t
r_pwrite(void *ctx, int fd, void const *buf, size_t sz, uint64_t off, char const *site) {
    rec_push(OP_PWRITE, fd_name(fd), 0, sz, off);
    return adb_io_posix()->pwrite(ctx, fd, buf, sz, off, site);
}
static int
r_fsync(void *ctx, int fd, char const *site) {
    rec_push(OP_FSYNC, fd_name(fd), 0, 0, 0);
    return adb_io_posix()->fsync(ctx, fd, site);
}
static int
r_fdatasync(void *ctx, int fd, char const *site) {
    rec_push(OP_FDATASYNC, fd_name(fd), 0, 0, 0);
    return adb_io_posix()->fdatasync(ctx, fd, site);
}
static int
r_renameat(void *ctx, int od, char const *op, int nd, char const *np, char const *site) {
    rec_push(OP_RENAME, base_name(np), 0, 0, 0);
    return adb_io_posix()->renameat(ctx, od, op, nd, np, site);
}
static int
r_unlinkat(void *ctx, int dirfd, char const *path, int flags, char const *site) {
    rec_push(OP_UNLINK, base_name(path), 0, 0, 0);
    return adb_io_posix()->unlinkat(ctx, dirfd, path, flags, site);
}

/* Installed as the process's default table (so a handle opened after takes
 * it); static, so a failed test that does not restore the default leaves
 * no dangling pointer. */
static adb_io_t g_rec_io;

static adb_io_t const *
rec_table(void) {
    adb_io_t t = *adb_io_posix();
    t.openat = r_openat;
    t.close = r_close;
    t.write = r_write;
    t.pwrite = r_pwrite;
    t.fsync = r_fsync;
    t.fdatasync = r_fdatasync;
    t.renameat = r_renameat;
    t.unlinkat = r_unlinkat;
    g_rec_io = t;
    return &g_rec_io;
}

/* Index of the first event at or after *from matching (op, name prefix),
 * which becomes the next *from; fails the test if there is none. */
static size_t
expect_ev(size_t *from, int op, char const *name) {
    for (size_t i = *from; i < g_rec.n; i++)
        if (g_rec.ev[i].op == op && !strncmp(g_rec.ev[i].name, name, strlen(name))) {
            *from = i + 1;
            return i;
        }
    print_message("no %s of %s after event %zu; the events:\n", op_names[op], name, *from);
    for (size_t i = 0; i < g_rec.n; i++)
        print_message("  %3zu %-9s %s sz=%llu off=%llu\n", i, op_names[g_rec.ev[i].op],
                      g_rec.ev[i].name, (unsigned long long)g_rec.ev[i].sz,
                      (unsigned long long)g_rec.ev[i].off);
    fail();
    return 0;
}

static void
test_op_order(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_close(adb_test_create_pair(dir, &cfg));
    memset(&g_rec, 0, sizeof g_rec);
    adb_io_set(rec_table());
    acctdb_db_t *db = open_ok(dir, &cfg);
    root_and_flush(db, 1, 2, 100); /* commit 3 (2: the close after creation) */
    g_rec.n = 0;
    uint64_t s = acctdb_db_root_slot(db, NULL) + 1;
    root_and_flush(db, 3, 2, 100); /* commit 4, into slot 0 */
    adb_io_set(NULL);
    assert_int_equal(acctdb_db_root_slot(db, NULL), s);
    size_t at = 0;
    expect_ev(&at, OP_FDATASYNC, "seg-");
    size_t i = expect_ev(&at, OP_OPEN, "catalog-4");
    assert_true(g_rec.ev[i].flags & O_CREAT);
    expect_ev(&at, OP_WRITE, "catalog-4");
    expect_ev(&at, OP_FDATASYNC, "catalog-4");
    expect_ev(&at, OP_FSYNC, "dir");
    expect_ev(&at, OP_OPEN, "acctdb.commit");
    i = expect_ev(&at, OP_PWRITE, "acctdb.commit");
    assert_int_equal(g_rec.ev[i].sz, 4096);
    assert_int_equal(g_rec.ev[i].off, 0);
    expect_ev(&at, OP_FDATASYNC, "acctdb.commit");
    /* Then catalog-2 (the close's after creation, which slot 0 named) goes. */
    expect_ev(&at, OP_UNLINK, "catalog-2");
    for (size_t k = 0; k < g_rec.n; k++) {
        assert_int_not_equal(g_rec.ev[k].op, OP_RENAME);
        /* No segment byte written after the catalog was created. */
        if (k > 0 && g_rec.ev[k].op == OP_PWRITE && !strncmp(g_rec.ev[k].name, "seg-", 4))
            for (size_t j = 0; j < k; j++)
                assert_false(g_rec.ev[j].op == OP_OPEN &&
                             !strncmp(g_rec.ev[j].name, "catalog-", 8));
    }
    print_message("    one flush: %zu file operations, catalog then slot\n", g_rec.n);
    assert_false(exists(dir, "catalog-2"));
    /* index-2 (the close's) stays: commits 3 and 4 name it as their base. */
    assert_true(exists(dir, "index-2"));
    assert_int_equal(peek(dir).index_gen, 2);
    assert_true(exists(dir, "catalog-3") && exists(dir, "catalog-4"));
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_unnamed_tail(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], p[4300];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_close(adb_test_create_pair(dir, &cfg));
    memset(&g_rec, 0, sizeof g_rec);
    adb_io_set(rec_table()); /* this handle's table */
    acctdb_db_t *db = open_ok(dir, &cfg);
    uint64_t     s = root_and_flush(db, 1, 2, 100);
    uint8_t      lt[32];
    lt_of(db, s, lt);
    snprintf(p, sizeof p, "%s/accounts/seg-000000", dir);
    struct stat st0, st1, st2;
    assert_int_equal(stat(p, &st0), 0);

    /* A flush whose storage is written and synced but whose commit fails:
     * the engine goes fatal, nothing names those bytes. */
    g_rec.fail_catalog = true;
    uint64_t         root = acctdb_db_root_slot(db, NULL);
    acctdb_account_t a = {.lamports = 5, .data = g_data, .data_len = 200000};
    a.pubkey.b[0] = 77;
    DB_OK(db, acctdb_db_store(db, root + 1, root, &a, 1));
    acctdb_bank_meta_t m = {0};
    DB_OK(db, acctdb_db_freeze(db, root + 1, &m, NULL));
    DB_OK(db, acctdb_db_root(db, root + 1));
    assert_int_equal(acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH), ACCTDB_ERR_FATAL);
    acctdb_db_close(db);
    adb_io_set(NULL);
    g_rec.fail_catalog = false;
    assert_int_equal(stat(p, &st1), 0);
    assert_true(st1.st_size >= st0.st_size + 200000);
    /* What else a crash leaves: a stray segment, catalog and temporary. */
    char const *strays[3] = {"accounts/seg-000001", "catalog-99", ".tmp-acctdb.commit"};
    for (int i = 0; i < 3; i++) {
        char  q[4400];
        FILE *f;
        snprintf(q, sizeof q, "%s/%s", dir, strays[i]);
        assert_non_null(f = fopen(q, "w"));
        fputs("partial", f);
        fclose(f);
    }

    acctdb_db_t *db2 = open_ok(dir, &cfg);
    assert_int_equal(stat(p, &st2), 0);
    print_message("    seg-000000: %lld bytes, %lld after the failed flush, %lld reopened\n",
                  (long long)st0.st_size, (long long)st1.st_size, (long long)st2.st_size);
    assert_true(st2.st_size <= ((st0.st_size + 4095) & ~4095ll));
    for (int i = 0; i < 3; i++)
        assert_false(exists(dir, strays[i]));
    uint64_t durable;
    assert_int_equal(acctdb_db_root_slot(db2, &durable), s);
    verify_ok(db2);
    /* New storages go where the unnamed bytes were. */
    uint64_t s2 = root_and_flush(db2, 9, 1, 100);
    uint8_t  lt2[32];
    lt_of(db2, s2, lt2);
    acctdb_db_close(db2);
    expect_root(dir, s2, lt2);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_clean_flag(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t         *db = adb_test_create_pair(dir, &cfg);
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.gen, 1);
    assert_int_equal(ci.flags, ADB_DB_COMMIT_CLEAN);
    assert_int_equal(ci.index_gen, 0);
    root_and_flush(db, 1, 1, 10);
    ci = peek(dir);
    assert_int_equal(ci.gen, 2);
    assert_int_equal(ci.flags & ADB_DB_COMMIT_CLEAN, 0);
    acctdb_db_close(db);
    ci = peek(dir);
    assert_int_equal(ci.gen, 3);
    assert_int_equal(ci.flags, ADB_DB_COMMIT_CLEAN);
    /* Open and close, nothing done: nothing written. */
    acctdb_db_close(open_ok(dir, &cfg));
    assert_int_equal(peek(dir).gen, 3);
    /* The first commit after open clears it. */
    db = open_ok(dir, &cfg);
    root_and_flush(db, 2, 1, 10);
    ci = peek(dir);
    assert_int_equal(ci.gen, 4);
    assert_int_equal(ci.flags & ADB_DB_COMMIT_CLEAN, 0);
    acctdb_db_close(db);
    assert_int_equal(peek(dir).flags, ADB_DB_COMMIT_CLEAN);
    adb_test_rmtree(tmp);
    free(tmp);
}

static int
cmp_u64(void const *a, void const *b) {
    uint64_t x = *(uint64_t const *)a, y = *(uint64_t const *)b;
    return x < y ? -1 : x > y;
}

static void
test_commit_cost(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_close(adb_test_create_pair(dir, &cfg));
    adb_db_t     *x;
    adb_db_meta_t m;
    adb_err_t     e = {0};
    assert_int_equal(adb_db_open_loaded(&x, dir, &m, &e), 0);
    uint64_t  g0 = peek(dir).gen; /* the creation's and its close's (index file) */
    size_t    n = adb_test_scaled(100);
    uint64_t *ns = malloc(n * sizeof *ns);
    assert_non_null(ns);
    for (size_t i = 0; i < n; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(adb_db_write_meta(x, &m), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ns[i] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)t1.tv_nsec -
                (uint64_t)t0.tv_nsec;
    }
    qsort(ns, n, sizeof *ns, cmp_u64);
    print_message(
        "    one commit (%u storages): median %.0f us, p10 %.0f, p90 %.0f (%zu commits)\n",
        adb_db_storage_cnt(x), ns[n / 2] / 1e3, ns[n / 10] / 1e3, ns[n * 9 / 10] / 1e3, n);
    assert_int_equal(peek(dir).gen, g0 + n);
    free(ns);
    adb_db_meta_fini(&m);
    adb_db_close(x);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- hist_lag: roots made while a flush pass commits ---------------------------
 * A flush commits the root it collected; banks rooted meanwhile are in the
 * rooted history already.  The commit (and every archive of its root) must
 * still carry the 300 banks below it: before, the history kept only the
 * 301 newest roots, so 20 roots during the commit cut the committed root's
 * blockhash queue short, and with the origin's entries still in the window
 * it had a gap (the crashtest found such an archive; Firedancer refuses
 * it).  The flush is held at its commit point while the test roots. */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    int             stage; /* 1 the flush is at flush.commit, 2 go on */
} lag_t;

static lag_t g_lag = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void
lag_hook(void *ctx, char const *point, uint64_t arg) {
    (void)ctx;
    (void)arg;
    if (strcmp(point, "flush.commit")) return;
    pthread_mutex_lock(&g_lag.mu);
    g_lag.stage = 1;
    pthread_cond_broadcast(&g_lag.cv);
    while (g_lag.stage != 2)
        pthread_cond_wait(&g_lag.cv, &g_lag.mu);
    pthread_mutex_unlock(&g_lag.mu);
}

static void *
lag_flush(void *arg) {
    acctdb_db_t *db = arg;
    return (void *)(intptr_t)acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH);
}

/* A bank at the root + 1 (begun: its sysvars) storing one account,
 * frozen with its own blockhash, rooted. */
static uint64_t
lag_root(acctdb_db_t *db) {
    uint64_t         root = acctdb_db_root_slot(db, NULL), s = root + 1;
    acctdb_account_t a;
    memset(&a, 0, sizeof a);
    a.pubkey.b[0] = 0x1a;
    a.pubkey.b[1] = (uint8_t)(s & 0xff);
    a.lamports = 1000000 + s;
    acctdb_bank_info_t p;
    DB_OK(db, acctdb_db_bank_info(db, root, &p));
    int64_t const ts = p.meta.unix_timestamp + 1;
    DB_OK(db, acctdb_db_bank_begin(db, s, root, ts));
    DB_OK(db, acctdb_db_store(db, s, root, &a, 1));
    acctdb_bank_meta_t m = {.signature_count = 1,
                            .transaction_count = p.meta.transaction_count + 1,
                            .unix_timestamp = ts};
    memcpy(m.blockhash.b, "lag bank", 8);
    memcpy(m.blockhash.b + 8, &s, sizeof s);
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
    DB_OK(db, acctdb_db_root(db, s));
    return s;
}

/* roots banks, then 20 more while the flush of the last holds at its
 * commit point; the copy reopens there and its archive is checked. */
static void
hist_lag(char const *tool, int roots) {
    char *tmp = adb_test_mkdtemp(), dir[4096], copy[4096], out[4096], path[4096];
    join(dir, tmp, "db");
    join(copy, tmp, "copy");
    join(out, tmp, "out");
    assert_int_equal(mkdir(out, 0755), 0);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    uint64_t     r = 0;
    for (int i = 0; i < roots; i++)
        r = lag_root(db);
    g_lag.stage = 0;
    acctdb_sim_set_point_hook(lag_hook, NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, lag_flush, db), 0);
    pthread_mutex_lock(&g_lag.mu);
    while (g_lag.stage != 1)
        pthread_cond_wait(&g_lag.cv, &g_lag.mu);
    pthread_mutex_unlock(&g_lag.mu);
    for (int i = 0; i < 20; i++)
        lag_root(db);
    pthread_mutex_lock(&g_lag.mu);
    g_lag.stage = 2;
    pthread_cond_broadcast(&g_lag.cv);
    pthread_mutex_unlock(&g_lag.mu);
    void *ret;
    assert_int_equal(pthread_join(th, &ret), 0);
    acctdb_sim_set_point_hook(NULL, NULL);
    assert_true((intptr_t)ret >= 0);
    uint64_t durable = 0;
    assert_int_equal(acctdb_db_root_slot(db, &durable), r + 20);
    assert_int_equal(durable, r);
    /* What a kill now leaves: the commit of r. */
    copy_dir(dir, copy);
    acctdb_db_close(db);
    db = open_ok(copy, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, NULL), r);
    DB_OK(db, acctdb_db_snapshot(db, out, false, path));
    acctdb_db_close(db);
    /* The archive loads under the loader's checks (the queue gapless). */
    acctdb_snapshot_opts_t o;
    memset(&o, 0, sizeof o);
    o.threads = 1;
    acctdb_snapshot_t *s = NULL;
    int                rc = acctdb_snapshot_open(&s, path, NULL, &o);
    if (rc) print_message("%s: %s\n", path, s ? acctdb_snapshot_errmsg(s) : acctdb_strerror(rc));
    assert_int_equal(rc, 0);
    acctdb_snapshot_info_t in;
    assert_int_equal(acctdb_snapshot_info(s, &in), 0);
    assert_true(in.verified);
    assert_int_equal(in.slot, r);
    acctdb_snapshot_close(s);
    /* Not only gapless: full.  From the origin's queue (indices 0 .. 5) on,
     * every bank registered one, so the newest 301 are all there. */
    static char js[1 << 20];
    assert_int_equal(adb_test_sh(js, sizeof js, "'%s' snapshot manifest --json '%s'", tool, path),
                     0);
    cJSON *j = cJSON_Parse(js);
    assert_non_null(j);
    cJSON const *q = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "bank_fields"), "blockhash_queue");
    cJSON const *hs = cJSON_GetObjectItem(q, "hashes");
    assert_non_null(hs);
    uint64_t const last = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(q, "last_hash_index"));
    uint64_t       lo = UINT64_MAX;
    cJSON const   *h;
    cJSON_ArrayForEach(h, hs) {
        uint64_t x = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "hash_index"));
        if (x < lo) lo = x;
    }
    print_message("    root %llu: queue indices %llu .. %llu, %d hashes\n", (unsigned long long)r,
                  (unsigned long long)lo, (unsigned long long)last, cJSON_GetArraySize(hs));
    assert_int_equal(lo, last > 300 ? last - 300 : 0);
    assert_int_equal(cJSON_GetArraySize(hs), last - lo + 1);
    cJSON_Delete(j);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_hist_lag(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    /* The committed root's window reaches the origin's entries: a lost bank
     * made a gap (what the crashtest found); then past them: it made a
     * short queue that every loader accepts. */
    hist_lag(tool, 285);
    hist_lag(tool, 330);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_torn_newest), cmocka_unit_test(test_both_bad),
    cmocka_unit_test(test_catalog_bad), cmocka_unit_test(test_version0),
    cmocka_unit_test(test_migrate_v2),  cmocka_unit_test(test_shrink_punch),
    cmocka_unit_test(test_op_order),    cmocka_unit_test(test_unnamed_tail),
    cmocka_unit_test(test_clean_flag),  cmocka_unit_test(test_commit_cost),
    cmocka_unit_test(test_hist_lag),
};

ADB_TEST_GROUP(commit, tests);
