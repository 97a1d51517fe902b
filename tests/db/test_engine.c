/* Focused tests of the accounts database's contract (include/acctdb.h,
 * "The accounts database"), one behaviour each, deterministic (services
 * stepped with acctdb_db_service_step unless a test is about processes):
 *
 *   lock          a second open of an open directory is BUSY; after close it opens
 *   root_record   no acctdb.commit: NOT_FOUND; a newer format version (checksum
 *                 recomputed): UNSUPPORTED_VERSION; version 0, a flipped byte,
 *                 a truncated file: CORRUPT (tests/db/test_commit.c: the rest)
 *   config        key = value parsing, sizes, comments, line numbers in errors;
 *                 DIR/acctdb.conf applies when open gets no cfg
 *   create        non-empty target, truncated archives (nothing left behind),
 *                 more than one source
 *   api_errors    each documented error of store / freeze / root / load
 *   forks         two banks on one parent, root one: the other dies, purge,
 *                 flush makes the root durable and empties the write cache
 *   freeze_lthash freeze's lattice hash, capitalization and data length against
 *                 sums computed here from the parent's accounts
 *   clean_c9      a tombstone newer than the last full snapshot survives clean,
 *                 so full + incremental does not resurrect; after a new full
 *                 it goes, and the account stays closed across reopen
 *   genesis       a database from devnet's genesis, 40 banks, a full snapshot
 *                 that verifies and names the root's lattice checksum
 *   retention     snapshot_keep_full / snapshot_keep_incremental
 *   read_cache    read_cache_max_sz bounds the cache; it hits
 *   kill9         a child killed with SIGKILL mid-work: reopen at a root no
 *                 older than the last durable one it reported; verify + check */
#include "../test.h"

#include "acctdb.h"
#include "hash/blake3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define F3           "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define I3           "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define ROOT3        4  /* the pair's slot */
#define LIVE3        21 /* live accounts of the pair */
#define SYSVAR_OWNER "Sysvar1111111111111111111111111111111111111"

#define DB_OK(db, expr)                                                                            \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc) {                                                                                 \
            print_message("%s:%d: %s failed: %s (%d): %s\n", __FILE__, __LINE__, #expr,            \
                          acctdb_strerror(_rc), _rc, acctdb_db_errmsg(db));                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#define DB_RC(db, want, expr)                                                                      \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc != (want)) {                                                                       \
            print_message("%s:%d: %s returned %s (%d), want %s: %s\n", __FILE__, __LINE__, #expr,  \
                          acctdb_strerror(_rc), _rc, acctdb_strerror(want), acctdb_db_errmsg(db)); \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- helpers ---------------------------------------------------------------- */

static uint8_t g_buf[11u << 20]; /* > 10 MiB: any account's data */

static void
cfg_stepped(acctdb_db_config_t *c) {
    acctdb_db_config_default(c);
    c->background = false;
    c->index_bins = 64;
    c->owner_index = true; /* scans, and the owner index kept up by every service */
    c->threads = 2;
}

static acctdb_db_t *
create_from(char const *dir, acctdb_db_source_t const *src, acctdb_db_config_t const *cfg) {
    acctdb_db_t *db = NULL;
    char         msg[1024];
    int          rc = acctdb_db_create(&db, dir, src, cfg, msg, sizeof msg);
    if (rc) print_message("create %s: %s (%s)\n", dir, msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
    assert_non_null(db);
    return db;
}

static acctdb_db_t *
create_pair(char const *dir, acctdb_db_config_t const *cfg) {
    acctdb_db_source_t src = {.full_path = adb_test_data(F3),
                              .incremental_path = adb_test_data(I3)};
    return create_from(dir, &src, cfg);
}

static acctdb_db_t *
open_ok(char const *dir, acctdb_db_config_t const *cfg) {
    acctdb_db_t *db = NULL;
    char         msg[1024];
    int          rc = acctdb_db_open(&db, dir, cfg, msg, sizeof msg);
    if (rc) print_message("open %s: %s (%s)\n", dir, msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
    assert_non_null(db);
    return db;
}

static void
join(char *out, char const *a, char const *b) {
    int n = snprintf(out, 4096, "%s/%s", a, b);
    assert_true(n > 0 && n < 4096);
}

static void
mkdir_ok(char const *p) {
    assert_int_equal(mkdir(p, 0755), 0);
}

/* A deterministic pubkey (or any 32 bytes) from a tag. */
static acctdb_pubkey_t
key_of(uint64_t tag) {
    acctdb_pubkey_t k;
    uint8_t         in[16] = "acctdb-test-key";
    memcpy(in + 8, &tag, 8);
    acctdb_blake3(in, sizeof in, k.b, 32);
    return k;
}

static void
fill_data(uint8_t *d, size_t n, uint64_t tag) {
    if (n) acctdb_blake3(&tag, sizeof tag, d, n); /* XOF: any length */
}

static acctdb_account_t
mk(acctdb_pubkey_t const *k, acctdb_pubkey_t const *owner, uint64_t lamports, uint8_t const *data,
   size_t len) {
    acctdb_account_t a;
    memset(&a, 0, sizeof a);
    a.pubkey = *k;
    if (owner) a.owner = *owner;
    a.lamports = lamports;
    a.rent_epoch = UINT64_MAX;
    a.data_len = len;
    a.data = len ? data : NULL;
    return a;
}

static acctdb_bank_meta_t
meta_of(uint64_t slot) {
    acctdb_bank_meta_t m;
    memset(&m, 0, sizeof m);
    acctdb_blake3(&slot, sizeof slot, m.blockhash.b, 32);
    m.signature_count = slot * 3 + 1;
    m.transaction_count = slot * 2;
    m.unix_timestamp = 1700000000 + (int64_t)slot;
    return m;
}

static acctdb_db_stats_t
stats(acctdb_db_t *db) {
    acctdb_db_stats_t st;
    DB_OK(db, acctdb_db_stats(db, &st));
    return st;
}

static int
step(acctdb_db_t *db, acctdb_service_t which) {
    int rc = acctdb_db_service_step(db, which);
    if (rc < 0)
        print_message("service %d: %s: %s\n", (int)which, acctdb_strerror(rc),
                      acctdb_db_errmsg(db));
    assert_true(rc >= 0);
    return rc;
}

static void
check_ok(acctdb_db_t *db) {
    char msg[1024] = "";
    int  rc = acctdb_db_check(db, msg, sizeof msg);
    if (rc) print_message("acctdb_db_check: %s (%s)\n", msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
}

static void
verify_ok(acctdb_db_t *db) {
    char msg[1024] = "";
    int  rc = acctdb_db_verify(db, msg, sizeof msg);
    if (rc) print_message("acctdb_db_verify: %s (%s)\n", msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
}

/* The root advanced by one bank begun with its sysvars (what snapshots
 * need), storing a[0..n), frozen and rooted.  Returns the new root. */
static uint64_t
advance(acctdb_db_t *db, acctdb_account_t const *a, size_t n) {
    uint64_t root = acctdb_db_root_slot(db, NULL), s = root + 1;
    DB_OK(db, acctdb_db_bank_begin(db, s, root, 1700000000 + (int64_t)s));
    if (n) DB_OK(db, acctdb_db_store(db, s, root, a, n));
    acctdb_bank_meta_t m = meta_of(s);
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
    DB_OK(db, acctdb_db_root(db, s));
    return s;
}

/* The account at slot equals *want (every field and the data). */
#define expect_account(db, slot, want) expect_account_at(db, slot, want, __LINE__)

static void
expect_account_at(acctdb_db_t *db, uint64_t slot, acctdb_account_t const *want, int line) {
    acctdb_account_t a;
    uint64_t         from = 0;
    int              rc = acctdb_db_load(db, slot, &want->pubkey, &a, g_buf, sizeof g_buf, &from);
    char const      *bad = rc                                       ? "load failed"
                           : a.lamports != want->lamports           ? "lamports"
                           : a.data_len != want->data_len           ? "data_len"
                           : memcmp(a.pubkey.b, want->pubkey.b, 32) ? "pubkey"
                           : memcmp(a.owner.b, want->owner.b, 32)   ? "owner"
                           : a.rent_epoch != want->rent_epoch       ? "rent_epoch"
                           : a.executable != want->executable       ? "executable"
                           : want->data_len && memcmp(a.data, want->data, (size_t)want->data_len)
                               ? "data"
                               : NULL;
    if (bad) {
        char k[ACCTDB_BASE58_32_SZ];
        print_message("line %d: account %s at slot %llu (version of slot %llu): %s differs: rc %s, "
                      "lamports %llu (want %llu), data_len %llu (want %llu): %s\n",
                      line, acctdb_base58_encode_32(want->pubkey.b, k), (unsigned long long)slot,
                      (unsigned long long)from, bad, acctdb_strerror(rc),
                      (unsigned long long)a.lamports, (unsigned long long)want->lamports,
                      (unsigned long long)a.data_len, (unsigned long long)want->data_len,
                      acctdb_db_errmsg(db));
        fail();
    }
}

static void
expect_absent(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *k) {
    acctdb_account_t a;
    DB_RC(db, ACCTDB_ERR_NOT_FOUND, acctdb_db_load(db, slot, k, &a, g_buf, sizeof g_buf, NULL));
}

static void
write_all(char const *path, void const *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Entries of dir other than . and .. (-1: no such directory). */
static int
dir_entries(char const *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int            n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* The pair's live accounts, read by the snapshot reader (not the engine). */
typedef struct acct_set {
    acctdb_account_t a[64];
    size_t           n;
} acct_set_t;

static int
collect_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    acct_set_t *s = ctx;
    (void)slot;
    assert_true(s->n < 64);
    acctdb_account_t *c = &s->a[s->n++];
    *c = *a;
    uint8_t *d = malloc(a->data_len ? (size_t)a->data_len : 1);
    assert_non_null(d);
    if (a->data_len) memcpy(d, a->data, (size_t)a->data_len);
    c->data = d;
    return 0;
}

static void
pair_accounts(acct_set_t *s) {
    memset(s, 0, sizeof *s);
    acctdb_snapshot_t     *snap = NULL;
    acctdb_snapshot_opts_t so = {0};
    so.threads = 2;
    assert_int_equal(acctdb_snapshot_open(&snap, adb_test_data(F3), adb_test_data(I3), &so), 0);
    assert_int_equal(acctdb_snapshot_iterate(snap, NULL, collect_cb, s), 0);
    acctdb_snapshot_close(snap);
    assert_int_equal(s->n, LIVE3);
}

static void
set_free(acct_set_t *s) {
    for (size_t i = 0; i < s->n; i++)
        free((void *)s->a[i].data);
    s->n = 0;
}

static bool
is_zero_key(acctdb_pubkey_t const *k) {
    static uint8_t const z[32];
    return !memcmp(k->b, z, 32);
}

/* The first account (pubkey order) that is not a sysvar, not the all-zero
 * pubkey, alive, and has data (want_data; programs) or none (then not
 * executable: a plain system account). */
static size_t
pick(acct_set_t const *s, bool want_data, size_t not_this) {
    acctdb_pubkey_t sysvar;
    assert_int_equal(acctdb_base58_decode_32(SYSVAR_OWNER, sysvar.b), 0);
    for (size_t i = 0; i < s->n; i++) {
        acctdb_account_t const *a = &s->a[i];
        if (i == not_this || is_zero_key(&a->pubkey) || !a->lamports) continue;
        if (!memcmp(a->owner.b, sysvar.b, 32)) continue;
        if ((a->data_len > 0) != want_data || (!want_data && a->executable)) continue;
        return i;
    }
    fail_msg("no suitable account in the pair");
    return 0;
}

/* ---- 1. directory lock ------------------------------------------------------- */

static void
test_lock(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], msg[1024];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = create_pair(dir, &cfg);

    /* A second handle in this process. */
    acctdb_db_t *db2 = (acctdb_db_t *)(uintptr_t)1;
    int          rc = acctdb_db_open(&db2, dir, &cfg, msg, sizeof msg);
    assert_int_equal(rc, ACCTDB_ERR_BUSY);
    assert_null(db2);
    if (!strstr(msg, "database in use")) print_message("message: %s\n", msg);
    assert_non_null(strstr(msg, "database in use"));

    /* Another process. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        acctdb_db_t *d = NULL;
        char         m[1024];
        int          r = acctdb_db_open(&d, dir, &cfg, m, sizeof m);
        _exit(r == ACCTDB_ERR_BUSY && strstr(m, "database in use") ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);

    /* The refused opens did not disturb the first handle. */
    assert_int_equal(acctdb_db_root_slot(db, NULL), ROOT3);
    acctdb_db_close(db);

    db2 = open_ok(dir, &cfg);
    assert_int_equal(acctdb_db_root_slot(db2, NULL), ROOT3);
    acctdb_db_close(db2);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 2. root record ------------------------------------------------------------ */

static int
open_rc(char const *dir, acctdb_db_config_t const *cfg, char *msg, size_t msg_max) {
    acctdb_db_t *db = NULL;
    int          rc = acctdb_db_open(&db, dir, cfg, msg, msg_max);
    if (rc) assert_null(db);
    acctdb_db_close(db);
    return rc;
}

static void
test_root_record(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], meta[4096], moved[4096], empty[4096], msg[1024];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(meta, dir, "acctdb.commit");
    join(moved, tmp, "acctdb.commit.saved");
    join(empty, tmp, "empty");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_close(create_pair(dir, &cfg));
    /* Two 4 KiB slots; the creation's commit (gen 1) is in slot 1; the
     * close's (gen 2, naming the index file it wrote) in slot 0 is zeroed
     * here, so that slot 1 is the only record, as the creation left it. */
    size_t   sz;
    uint8_t *orig = adb_test_read_file(meta, &sz);
    assert_int_equal(sz, 8192);
    memset(orig, 0, 4096);
    write_all(meta, orig, sz);
    assert_int_equal(sz, 8192);
    assert_memory_equal(orig + 4096, "ACCTDBC1", 8);
    for (size_t i = 0; i < 4096; i++)
        assert_int_equal(orig[i], 0);

    /* No commit record: not a database (or a creation that never finished). */
    mkdir_ok(empty);
    assert_int_equal(open_rc(empty, &cfg, msg, sizeof msg), ACCTDB_ERR_NOT_FOUND);
    assert_int_equal(rename(meta, moved), 0);
    assert_int_equal(open_rc(dir, &cfg, msg, sizeof msg), ACCTDB_ERR_NOT_FOUND);
    assert_int_equal(rename(moved, meta), 0);

    /* A newer format version, correctly checksummed (the record's BLAKE3
     * covers its first 168 bytes and sits at 168). */
    uint8_t *b = malloc(sz), *rec = b + 4096;
    assert_non_null(b);
    memcpy(b, orig, sz);
    uint32_t v = 99;
    uint8_t  le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    memcpy(rec + 8, le, 4);
    adb_blake3_hash(rec, 168, rec + 168, 32);
    write_all(meta, b, sz);
    assert_int_equal(open_rc(dir, &cfg, msg, sizeof msg), ACCTDB_ERR_UNSUPPORTED_VERSION);
    assert_non_null(strstr(msg, "99"));
    /* Format version 0, correctly checksummed: no valid record. */
    memset(rec + 8, 0, 4);
    adb_blake3_hash(rec, 168, rec + 168, 32);
    write_all(meta, b, sz);
    assert_int_equal(open_rc(dir, &cfg, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "format version 0"));

    /* One flipped byte in the record (the checksum no longer matches). */
    size_t const offs[3] = {16, 100, 199};
    for (int i = 0; i < 3; i++) {
        memcpy(b, orig, sz);
        rec[offs[i]] ^= 0x20;
        write_all(meta, b, sz);
        int rc = open_rc(dir, &cfg, msg, sizeof msg);
        if (rc != ACCTDB_ERR_CORRUPT)
            print_message("flip at %zu: %s: %s\n", offs[i], acctdb_strerror(rc), msg);
        assert_int_equal(rc, ACCTDB_ERR_CORRUPT);
        assert_non_null(strstr(msg, "both commit records are invalid"));
        assert_non_null(strstr(msg, "checksum mismatch"));
    }
    /* ... or a truncated file. */
    write_all(meta, orig, sz / 2 + 100);
    assert_int_equal(open_rc(dir, &cfg, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "the file ends before it"));

    /* The original record opens again: the edits alone were refused. */
    write_all(meta, orig, sz);
    acctdb_db_t *db = open_ok(dir, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, NULL), ROOT3);
    acctdb_db_close(db);
    free(b);
    free(orig);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 3. configuration ------------------------------------------------------------ */

typedef struct count_ctx {
    size_t n;
} count_ctx_t;

static int
count_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)a, (void)slot;
    ((count_ctx_t *)ctx)->n++;
    return 0;
}

static int
scan_system(acctdb_db_t *db, size_t *n_out) {
    acctdb_scan_filter_t f;
    memset(&f, 0, sizeof f); /* owner: the System Program (all zeros) */
    count_ctx_t     c = {0};
    acctdb_pubkey_t next;
    bool            more;
    int             rc =
        acctdb_db_scan(db, acctdb_db_root_slot(db, NULL), &f, NULL, 0, count_cb, &c, &next, &more);
    *n_out = c.n;
    return rc;
}

static void
expect_parse_error(char const *text, char const *line, char const *key) {
    acctdb_db_config_t c;
    acctdb_db_config_default(&c);
    char msg[512] = "";
    int  rc = acctdb_db_config_parse(&c, text, msg, sizeof msg);
    if (rc != ACCTDB_ERR_INVALID || !strstr(msg, line) || (key && !strstr(msg, key)))
        print_message("parse of \"%s\": %s: %s\n", text, acctdb_strerror(rc), msg);
    assert_int_equal(rc, ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, line));
    if (key) assert_non_null(strstr(msg, key));
}

static void
test_config(void **state) {
    (void)state;
    acctdb_db_config_t c, d;
    acctdb_db_config_default(&d);
    acctdb_db_config_default(&c);
    c.owner_index = c.background = true; /* the text turns both off */
    char        msg[512] = "";
    char const *text = "# acctdb settings\n"
                       "\n"
                       "index_bins = 1024   # a power of two\n"
                       "  write_cache_max_sz=64M\n"
                       "read_cache_max_sz = 2k\r\n"
                       "\tshrink_ratio = 0.5\n"
                       "owner_index = false\n"
                       "background = off\n"
                       "snapshot_keep_full = 3\n"
                       "snapshot_max_sz = 1G"; /* no final newline */
    int         rc = acctdb_db_config_parse(&c, text, msg, sizeof msg);
    if (rc) print_message("parse: %s\n", msg);
    assert_int_equal(rc, 0);
    assert_int_equal(c.index_bins, 1024);
    assert_int_equal(c.write_cache_max_sz, 64ull << 20);
    assert_int_equal(c.read_cache_max_sz, 2048);
    assert_true(c.shrink_ratio == 0.5);
    assert_false(c.owner_index);
    assert_false(c.background);
    assert_int_equal(c.snapshot_keep_full, 3);
    assert_int_equal(c.snapshot_max_sz, 1ull << 30);
    /* Keys not named keep their values. */
    assert_int_equal(c.snapshot_keep_incremental, d.snapshot_keep_incremental);
    assert_int_equal(c.service_interval_ms, d.service_interval_ms);
    assert_int_equal(c.threads, d.threads);

    expect_parse_error("index_bins = 64\n# fine\nno_such_key = 1\n", "line 3", "no_such_key");
    expect_parse_error("# x\nindex_bins = 1000\n", "line 2", "index_bins");
    expect_parse_error("\n\n\n\nshrink_ratio = 2\n", "line 5", "shrink_ratio");
    expect_parse_error("owner_index = maybe\n", "line 1", "owner_index");
    expect_parse_error("read_cache_max_sz = 12Q\n", "line 1", "read_cache_max_sz");
    expect_parse_error("index_bins 64\n", "line 1", NULL);
    expect_parse_error("index_checkpoint_sz = sometimes\n", "line 1", "index_checkpoint_sz");
    acctdb_db_config_default(&c);
    assert_int_equal(c.index_checkpoint_sz, 0);
    assert_int_equal(acctdb_db_config_parse(&c, "index_checkpoint_sz = 64M\n", msg, sizeof msg), 0);
    assert_int_equal(c.index_checkpoint_sz, 64ull << 20);
    assert_int_equal(acctdb_db_config_parse(&c, "index_checkpoint_sz = never\n", msg, sizeof msg),
                     0);
    assert_int_equal(c.index_checkpoint_sz, UINT64_MAX);

    /* DIR/acctdb.conf applies when open is given no cfg: the owner index
     * (needed by scans) turned on, then off, whatever the default. */
    char *tmp = adb_test_mkdtemp(), dir[4096], conf[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(conf, dir, "acctdb.conf");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    cfg.owner_index = false;
    acctdb_db_t *db = create_pair(dir, &cfg);
    size_t       n = 0;
    DB_RC(db, ACCTDB_ERR_UNSUPPORTED, scan_system(db, &n));
    acctdb_db_close(db);

    char const *on = "# written by the test\nowner_index = true # for scans\nbackground = false\n";
    write_all(conf, on, strlen(on));
    db = open_ok(dir, NULL);
    DB_OK(db, scan_system(db, &n));
    assert_true(n > 0);
    acctdb_db_close(db);

    char const *off = "background = false\n\n  owner_index=false\n";
    write_all(conf, off, strlen(off));
    db = open_ok(dir, NULL);
    DB_RC(db, ACCTDB_ERR_UNSUPPORTED, scan_system(db, &n));
    acctdb_db_close(db);

    /* A bad file refuses the open, naming the line. */
    char const *bad = "background = false\nindex_bins = 3\n";
    write_all(conf, bad, strlen(bad));
    rc = open_rc(dir, NULL, msg, sizeof msg);
    if (rc != ACCTDB_ERR_INVALID || !strstr(msg, "line 2")) print_message("bad conf: %s\n", msg);
    assert_int_equal(rc, ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, "line 2"));

    /* An explicit cfg is used as given (the file is not read). */
    cfg.owner_index = true;
    db = open_ok(dir, &cfg);
    DB_OK(db, scan_system(db, &n));
    assert_true(n > 0);
    acctdb_db_close(db);

    /* Without the file: the defaults. */
    assert_int_equal(unlink(conf), 0);
    db = open_ok(dir, NULL);
    DB_RC(db, d.owner_index ? 0 : ACCTDB_ERR_UNSUPPORTED, scan_system(db, &n));
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 4. create ------------------------------------------------------------------ */

/* A failed create left no database at dir: it is gone, or empty, and
 * does not open. */
static void
expect_no_db(char const *dir) {
    int n = dir_entries(dir);
    if (n > 0) print_message("%s keeps %d entries after a failed create\n", dir, n);
    assert_true(n <= 0);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    char msg[1024];
    assert_int_equal(open_rc(dir, &cfg, msg, sizeof msg), ACCTDB_ERR_NOT_FOUND);
}

static int
create_rc(char const *dir, acctdb_db_source_t const *src, char *msg, size_t msg_max) {
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = (acctdb_db_t *)(uintptr_t)1;
    int          rc = acctdb_db_create(&db, dir, src, &cfg, msg, msg_max);
    if (rc) {
        assert_null(db);
        assert_true(msg[0] != 0);
    }
    acctdb_db_close(rc ? NULL : db);
    return rc;
}

static void
test_create(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], keep[4096], arch[4096], tf[4096], ti[4096],
         msg[1024], pf[4096], pi[4096], gen[4096];
    assert_non_null(tmp);
    /* adb_test_data's buffers are reused: keep copies. */
    snprintf(pf, sizeof pf, "%s", adb_test_data(F3));
    snprintf(pi, sizeof pi, "%s", adb_test_data(I3));
    snprintf(gen, sizeof gen, "%s", adb_test_data("devnet_genesis.bin"));
    acctdb_db_source_t pair = {.full_path = pf, .incremental_path = pi};

    /* A non-empty directory: refused, its file untouched. */
    join(dir, tmp, "nonempty");
    mkdir_ok(dir);
    join(keep, dir, "precious.txt");
    write_all(keep, "keep me\n", 8);
    assert_int_equal(create_rc(dir, &pair, msg, sizeof msg), ACCTDB_ERR_INVALID);
    size_t   sz;
    uint8_t *b = adb_test_read_file(keep, &sz);
    assert_int_equal(sz, 8);
    assert_memory_equal(b, "keep me\n", 8);
    free(b);
    assert_int_equal(dir_entries(dir), 1);

    /* Truncated archives under valid names. */
    join(arch, tmp, "arch");
    mkdir_ok(arch);
    join(tf, arch, F3);
    join(ti, arch, I3);
    uint8_t *full = adb_test_read_file(pf, &sz);
    write_all(tf, full, sz / 2);
    free(full);
    acctdb_db_source_t half = {.full_path = tf};
    join(dir, tmp, "t_absent"); /* created by create */
    int rc = create_rc(dir, &half, msg, sizeof msg);
    print_message("truncated full: %s: %s\n", acctdb_strerror(rc), msg);
    assert_true(rc < 0);
    expect_no_db(dir);
    join(dir, tmp, "t_empty"); /* exists, empty */
    mkdir_ok(dir);
    assert_true(create_rc(dir, &half, msg, sizeof msg) < 0);
    expect_no_db(dir);

    /* A good full and a truncated incremental: the full loads and
     * verifies first, then the failure must still leave nothing. */
    uint8_t *inc = adb_test_read_file(pi, &sz);
    write_all(ti, inc, sz / 2);
    free(inc);
    acctdb_db_source_t half_inc = {.full_path = pf, .incremental_path = ti};
    join(dir, tmp, "t_inc");
    rc = create_rc(dir, &half_inc, msg, sizeof msg);
    print_message("truncated incremental: %s: %s\n", acctdb_strerror(rc), msg);
    assert_true(rc < 0);
    expect_no_db(dir);

    /* Exactly one source. */
    join(dir, tmp, "two");
    acctdb_db_source_t two = {.full_path = pf, .genesis_path = gen};
    assert_int_equal(create_rc(dir, &two, msg, sizeof msg), ACCTDB_ERR_INVALID);
    acctdb_db_source_t two_b = {.full_path = pf, .archive_dir = arch};
    assert_int_equal(create_rc(dir, &two_b, msg, sizeof msg), ACCTDB_ERR_INVALID);
    acctdb_db_source_t inc_only = {.incremental_path = pi};
    assert_int_equal(create_rc(dir, &inc_only, msg, sizeof msg), ACCTDB_ERR_INVALID);
    acctdb_db_source_t none = {0};
    assert_int_equal(create_rc(dir, &none, msg, sizeof msg), ACCTDB_ERR_INVALID);
    expect_no_db(dir);

    /* The same target then takes a valid source. */
    assert_int_equal(create_rc(dir, &pair, msg, sizeof msg), 0);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = open_ok(dir, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, NULL), ROOT3);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 5. errors of the write / read API ------------------------------------------- */

static void
test_api_errors(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = create_pair(dir, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, NULL), ROOT3);

    acctdb_pubkey_t k1 = key_of(1), k2 = key_of(2), own = key_of(100);
    uint8_t         d100[100];
    fill_data(d100, sizeof d100, 7);
    acctdb_account_t   a1 = mk(&k1, &own, 1000, d100, sizeof d100);
    acctdb_bank_meta_t m = meta_of(5);

    /* At or below the root. */
    DB_RC(db, ACCTDB_ERR_TOO_OLD, acctdb_db_store(db, ROOT3, ROOT3 - 1, &a1, 1));
    DB_RC(db, ACCTDB_ERR_TOO_OLD, acctdb_db_store(db, 2, 1, &a1, 1));
    /* Parent unknown (no bank 6 exists), or not below the slot. */
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 8, 6, &a1, 1));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 7, 7, &a1, 1));
    /* Freeze / root of unknown slots. */
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_freeze(db, 99, &m, NULL));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_root(db, 99));
    /* The failed stores created nothing: bank 8 can start on the root. */
    DB_OK(db, acctdb_db_store(db, 8, ROOT3, &a1, 1));
    DB_OK(db, acctdb_db_freeze(db, 8, &m, NULL));

    /* Bank 5 (on the root) and 9 (on 5, open). */
    DB_OK(db, acctdb_db_store(db, 5, ROOT3, &a1, 1));
    DB_OK(db, acctdb_db_freeze(db, 5, &m, NULL));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 5, ROOT3, &a1, 1)); /* frozen */
    acctdb_account_t a2 = mk(&k2, &own, 2000, d100, 10);
    DB_OK(db, acctdb_db_store(db, 9, 5, &a2, 1));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 9, ROOT3, &a2, 1)); /* wrong parent */
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_root(db, 9));                 /* open */
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 10, 9, &a2, 1));    /* parent open */

    /* Loads with a buffer too small: from the write cache ... */
    acctdb_account_t out;
    memset(&out, 0xa5, sizeof out);
    DB_RC(db, ACCTDB_ERR_FULL, acctdb_db_load(db, 5, &k1, &out, g_buf, 99, NULL));
    assert_int_equal(out.data_len, 100);
    DB_RC(db, ACCTDB_ERR_FULL, acctdb_db_load(db, 5, &k1, &out, NULL, 0, NULL));
    assert_int_equal(out.data_len, 100);
    DB_OK(db, acctdb_db_load(db, 5, &k1, &out, g_buf, 100, NULL));
    assert_memory_equal(out.data, d100, 100);
    /* ... and from an account file (SlotHistory: 131,097 bytes). */
    acctdb_pubkey_t sh;
    assert_int_equal(acctdb_base58_decode_32("SysvarS1otHistory11111111111111111111111111", sh.b),
                     0);
    DB_OK(db, acctdb_db_load(db, ROOT3, &sh, &out, g_buf, sizeof g_buf, NULL));
    uint64_t shlen = out.data_len;
    assert_true(shlen > 1000);
    memset(&out, 0, sizeof out);
    DB_RC(db, ACCTDB_ERR_FULL, acctdb_db_load(db, ROOT3, &sh, &out, g_buf, 64, NULL));
    assert_int_equal(out.data_len, shlen);

    /* Closing the all-zero pubkey; a batch with it changes nothing. */
    acctdb_pubkey_t  zero = {{0}};
    acctdb_account_t batch[2] = {mk(&k2, &own, 5, NULL, 0), mk(&zero, NULL, 0, NULL, 0)};
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 9, 5, &batch[1], 1));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 9, 5, batch, 2));
    expect_account(db, 9, &a2);
    /* The zero pubkey with lamports is an ordinary account. */
    acctdb_account_t zl = mk(&zero, &own, 77, NULL, 0);
    DB_OK(db, acctdb_db_store(db, 9, 5, &zl, 1));

    /* data_len: 10 MiB is the limit. */
    uint8_t *big = calloc(1, (10u << 20) + 1);
    assert_non_null(big);
    fill_data(big, 4096, 3);
    acctdb_pubkey_t  kb = key_of(3);
    acctdb_account_t ab = mk(&kb, &own, 1, big, (10u << 20) + 1);
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 9, 5, &ab, 1));
    expect_absent(db, 9, &kb);
    ab.data_len = 10u << 20;
    DB_OK(db, acctdb_db_store(db, 9, 5, &ab, 1));
    expect_account(db, 9, &ab);

    /* A sibling of 5 that will die, then root 5. */
    DB_OK(db, acctdb_db_store(db, 7, ROOT3, &a2, 1));
    DB_OK(db, acctdb_db_freeze(db, 7, &m, NULL));
    DB_OK(db, acctdb_db_root(db, 5));
    DB_RC(db, ACCTDB_ERR_TOO_OLD, acctdb_db_root(db, 5));
    DB_RC(db, ACCTDB_ERR_TOO_OLD, acctdb_db_load(db, ROOT3, &k1, &out, g_buf, sizeof g_buf, NULL));
    DB_RC(db, ACCTDB_ERR_TOO_OLD, acctdb_db_load(db, 1, &k1, &out, g_buf, sizeof g_buf, NULL));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_load(db, 7, &k2, &out, g_buf, sizeof g_buf, NULL));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_load(db, 8, &k1, &out, g_buf, sizeof g_buf, NULL));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 7, ROOT3, &a2, 1)); /* dead */
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, 11, 7, &a2, 1));    /* dead parent */
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_root(db, 7));                 /* dead */
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_load(db, 12, &k1, &out, g_buf, sizeof g_buf, NULL));
    /* The live fork still works. */
    expect_account(db, 5, &a1);
    expect_account(db, 9, &ab);
    check_ok(db);
    acctdb_db_close(db);
    free(big);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 6. forks ---------------------------------------------------------------------- */

static void
test_forks(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t   *db = create_pair(dir, &cfg);
    uint64_t const R = acctdb_db_root_slot(db, NULL), A = R + 1, B = R + 2;

    acctdb_pubkey_t k = key_of(42), own = key_of(43), ka = key_of(44);
    uint8_t         da[300], dbb[50];
    fill_data(da, sizeof da, 1);
    fill_data(dbb, sizeof dbb, 2);
    acctdb_account_t va = mk(&k, &own, 111, da, sizeof da), vb = mk(&k, &own, 222, dbb, sizeof dbb);
    acctdb_account_t only_a = mk(&ka, &own, 5, NULL, 0);
    acctdb_account_t sa[2] = {va, only_a};
    DB_OK(db, acctdb_db_store(db, A, R, sa, 2));
    DB_OK(db, acctdb_db_store(db, B, R, &vb, 1));
    expect_account(db, A, &va);
    expect_account(db, B, &vb);
    expect_absent(db, R, &k);
    expect_absent(db, B, &ka); /* A's other account is not on B's fork */
    acctdb_bank_meta_t ma = meta_of(A), mb = meta_of(B);
    acctdb_bank_info_t ia, ib;
    DB_OK(db, acctdb_db_freeze(db, A, &ma, &ia));
    DB_OK(db, acctdb_db_freeze(db, B, &mb, &ib));
    assert_memory_not_equal(ia.lt_checksum, ib.lt_checksum, 32);
    acctdb_db_stats_t st = stats(db);
    assert_int_equal(st.banks_frozen, 2);
    assert_int_equal(st.banks_dead, 0);
    uint64_t durable = 0;

    DB_OK(db, acctdb_db_root(db, A));
    assert_int_equal(acctdb_db_root_slot(db, &durable), A);
    assert_int_equal(durable, R); /* not flushed yet */
    acctdb_account_t out;
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_load(db, B, &k, &out, g_buf, sizeof g_buf, NULL));
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_store(db, B, R, &vb, 1));
    st = stats(db);
    assert_int_equal(st.banks_dead, 1);
    assert_int_equal(st.banks_rooted_unflushed, 1);
    assert_int_equal(st.banks_frozen, 0);
    assert_true(st.write_cache_sz > 0);
    uint64_t slot_read = 0;
    DB_OK(db, acctdb_db_load(db, A, &k, &out, g_buf, sizeof g_buf, &slot_read));
    assert_int_equal(slot_read, A);
    expect_account(db, A, &va);
    acctdb_bank_info_t ri;
    DB_OK(db, acctdb_db_bank_info(db, A, &ri));
    assert_memory_equal(ri.lt_checksum, ia.lt_checksum, 32);
    /* Services other than purge leave the dead bank counted. */
    step(db, ACCTDB_SERVICE_CLEAN);
    assert_int_equal(stats(db).banks_dead, 1);

    int purged = step(db, ACCTDB_SERVICE_PURGE);
    assert_true(purged >= 1); /* B's account */
    st = stats(db);
    assert_int_equal(st.banks_dead, 0);
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_load(db, B, &k, &out, g_buf, sizeof g_buf, NULL));
    expect_account(db, A, &va);
    check_ok(db);

    int flushed = step(db, ACCTDB_SERVICE_FLUSH);
    assert_true(flushed >= 2);
    assert_int_equal(acctdb_db_root_slot(db, &durable), A);
    assert_int_equal(durable, A);
    st = stats(db);
    assert_int_equal(st.durable_root_slot, A);
    assert_int_equal(st.write_cache_sz, 0);
    assert_int_equal(st.write_cache_accounts, 0);
    assert_int_equal(st.banks_rooted_unflushed, 0);
    /* Now read from the account file. */
    DB_OK(db, acctdb_db_load(db, A, &k, &out, g_buf, sizeof g_buf, &slot_read));
    assert_int_equal(slot_read, A);
    expect_account(db, A, &va);
    expect_account(db, A, &only_a);
    check_ok(db);
    verify_ok(db);

    /* Reopen: A is the root, B never existed. */
    acctdb_db_close(db);
    db = open_ok(dir, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, &durable), A);
    assert_int_equal(durable, A);
    expect_account(db, A, &va);
    DB_RC(db, ACCTDB_ERR_INVALID, acctdb_db_load(db, B, &k, &out, g_buf, sizeof g_buf, NULL));
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 7. the lattice hash of freeze --------------------------------------------------- */

static void
lt_of(acctdb_account_t const *a, acctdb_lthash_t *h) {
    acctdb_lthash_account(h, a, ACCTDB_LTHASH_CURRENT);
}

static void
test_freeze_lthash(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t   *db = create_pair(dir, &cfg);
    uint64_t const R = acctdb_db_root_slot(db, NULL), S = R + 1;
    acct_set_t     set;
    pair_accounts(&set);
    size_t ir = pick(&set, false, SIZE_MAX); /* replaced: a system account, no data */
    size_t ic = pick(&set, true, ir);        /* closed: an account with data */

    acctdb_bank_info_t parent;
    DB_OK(db, acctdb_db_bank_info(db, R, &parent));
    /* The root's lattice hash is the sum over the pair's live accounts. */
    acctdb_lthash_t all;
    acctdb_lthash_zero(&all);
    acctdb_lthash_add_accounts(&all, set.a, set.n, ACCTDB_LTHASH_CURRENT);
    assert_memory_equal(all.v, parent.lt_hash.v, sizeof all.v);

    /* The versions replaced, read back from the parent. */
    static uint8_t   bufr[1 << 16], bufc[1 << 16];
    acctdb_account_t old_r, old_c;
    DB_OK(db, acctdb_db_load(db, R, &set.a[ir].pubkey, &old_r, bufr, sizeof bufr, NULL));
    DB_OK(db, acctdb_db_load(db, R, &set.a[ic].pubkey, &old_c, bufc, sizeof bufc, NULL));
    assert_true(old_c.data_len > 0);

    acctdb_pubkey_t nk = key_of(77), own = key_of(78);
    uint8_t         dn[165], dr1[40], dr[321];
    fill_data(dn, sizeof dn, 10);
    fill_data(dr1, sizeof dr1, 11);
    fill_data(dr, sizeof dr, 12);
    acctdb_account_t v_new = mk(&nk, &own, 123456789, dn, sizeof dn);
    v_new.rent_epoch = 0;
    acctdb_account_t v_r1 = mk(&old_r.pubkey, &own, 1, dr1, sizeof dr1); /* overwritten below */
    acctdb_account_t v_r = old_r;
    v_r.lamports = old_r.lamports + 999;
    v_r.data = dr;
    v_r.data_len = sizeof dr;
    v_r.executable = true;
    acctdb_account_t v_c = mk(&old_c.pubkey, NULL, 0, NULL, 0);
    acctdb_account_t first[2] = {v_r1, v_new};
    DB_OK(db, acctdb_db_store(db, S, R, first, 2));
    acctdb_account_t second[2] = {v_c, v_r}; /* last write wins for the replaced key */
    DB_OK(db, acctdb_db_store(db, S, R, second, 2));
    acctdb_bank_meta_t m = meta_of(S);
    acctdb_bank_info_t in;
    DB_OK(db, acctdb_db_freeze(db, S, &m, &in));

    acctdb_lthash_t want = parent.lt_hash, h;
    lt_of(&old_r, &h);
    acctdb_lthash_sub(&want, &h);
    lt_of(&old_c, &h);
    acctdb_lthash_sub(&want, &h);
    lt_of(&v_new, &h);
    acctdb_lthash_add(&want, &h);
    lt_of(&v_r, &h);
    acctdb_lthash_add(&want, &h);
    lt_of(&v_c, &h); /* zero lamports: the identity */
    assert_true(acctdb_lthash_is_zero(&h));
    assert_memory_equal(in.lt_hash.v, want.v, sizeof want.v);
    uint8_t ck[32];
    acctdb_lthash_checksum(&want, ck);
    assert_memory_equal(in.lt_checksum, ck, 32);
    assert_int_equal(in.capitalization, parent.capitalization - old_r.lamports - old_c.lamports +
                                            v_new.lamports + v_r.lamports);
    assert_int_equal(in.accounts_data_len, parent.accounts_data_len - old_r.data_len -
                                               old_c.data_len + v_new.data_len + v_r.data_len);
    assert_int_equal(in.slot, S);
    assert_int_equal(in.parent_slot, R);
    assert_int_equal(in.block_height, parent.block_height + 1);
    assert_int_equal(in.accounts_stored, 3);
    assert_memory_equal(in.parent_bank_hash.b, parent.bank_hash.b, 32);

    /* Independently: the sum over the new live set. */
    acctdb_account_t live[64];
    size_t           nl = 0;
    for (size_t i = 0; i < set.n; i++)
        if (i != ir && i != ic) live[nl++] = set.a[i];
    live[nl++] = v_r;
    live[nl++] = v_new;
    acctdb_lthash_zero(&all);
    acctdb_lthash_add_accounts(&all, live, nl, ACCTDB_LTHASH_CURRENT);
    assert_memory_equal(all.v, in.lt_hash.v, sizeof all.v);

    /* Freezing again returns the same info; rooting and flushing keep it. */
    acctdb_bank_info_t again;
    DB_OK(db, acctdb_db_freeze(db, S, &m, &again));
    assert_memory_equal(again.lt_checksum, in.lt_checksum, 32);
    DB_OK(db, acctdb_db_root(db, S));
    step(db, ACCTDB_SERVICE_FLUSH);
    verify_ok(db);
    expect_absent(db, S, &old_c.pubkey);
    expect_account(db, S, &v_r);
    acctdb_db_close(db);
    set_free(&set);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 8. clean and C9 (no resurrection) ------------------------------------------------ */

/* Shrink and clean until neither finds work (bounded). */
static void
settle(acctdb_db_t *db) {
    for (int i = 0; i < 16; i++) {
        int s = step(db, ACCTDB_SERVICE_SHRINK), c = step(db, ACCTDB_SERVICE_CLEAN);
        if (!s && !c) return;
    }
    fail_msg("shrink / clean never settled");
}

static void
test_clean_c9(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], arch[4096], rdir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(arch, tmp, "arch");
    mkdir_ok(arch);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    /* The tombstone goes only once the older file holding x's dead
     * version is shrunk: shrink every such file, whatever the total. */
    cfg.shrink_per_file = true;
    acctdb_db_t *db = create_pair(dir, &cfg);
    acct_set_t   set;
    pair_accounts(&set);
    size_t iz = pick(&set, false, SIZE_MAX); /* an account nobody touches */

    /* X is created before the first full snapshot, alone in its bank. */
    acctdb_pubkey_t x = key_of(0xC9), own = key_of(0xC90);
    uint8_t         dx[100];
    fill_data(dx, sizeof dx, 0xC9);
    acctdb_account_t ax = mk(&x, &own, 5000, dx, sizeof dx);
    uint64_t         s_x = advance(db, &ax, 1);
    uint64_t         f1_slot = advance(db, NULL, 0); /* supersedes s_x's sysvars */
    assert_int_equal(f1_slot, s_x + 1);
    char f1[4096], inc[4096], f2[4096];
    DB_OK(db, acctdb_db_snapshot(db, arch, false, f1));
    assert_int_equal(stats(db).last_full_snapshot_slot, f1_slot);
    settle(db); /* what is cleanable now goes: the counts below are X's alone */

    /* Close X after the full snapshot. */
    acctdb_account_t cx = mk(&x, NULL, 0, NULL, 0);
    uint64_t         s_close = advance(db, &cx, 1);
    uint64_t         root = advance(db, NULL, 0);
    assert_true(s_close > f1_slot);
    step(db, ACCTDB_SERVICE_FLUSH);
    uint64_t durable;
    assert_int_equal(acctdb_db_root_slot(db, &durable), root);
    assert_int_equal(durable, root);
    /* Shrink drops X's older record (its bank's storage is all dead now),
     * so only C9 keeps the tombstone. */
    int shrunk = step(db, ACCTDB_SERVICE_SHRINK);
    assert_true(shrunk >= 0);
    uint64_t keys0 = stats(db).index_keys;
    for (int i = 0; i < 3; i++) {
        int cleaned = step(db, ACCTDB_SERVICE_CLEAN);
        if (cleaned) print_message("clean removed %d tombstones newer than the full\n", cleaned);
        assert_int_equal(cleaned, 0);
        step(db, ACCTDB_SERVICE_SHRINK);
    }
    assert_int_equal(stats(db).index_keys, keys0);
    expect_absent(db, root, &x);
    check_ok(db);

    DB_OK(db, acctdb_db_snapshot(db, arch, true, inc));
    acctdb_bank_info_t rootinfo;
    DB_OK(db, acctdb_db_bank_info(db, root, &rootinfo));

    /* The full alone has X; full + incremental does not. */
    join(rdir, tmp, "restore_full");
    acctdb_db_source_t sf = {.full_path = f1};
    acctdb_db_t       *r = create_from(rdir, &sf, &cfg);
    assert_int_equal(acctdb_db_root_slot(r, NULL), f1_slot);
    expect_account(r, f1_slot, &ax);
    acctdb_db_close(r);
    join(rdir, tmp, "restore_inc");
    acctdb_db_source_t si = {.full_path = f1, .incremental_path = inc};
    r = create_from(rdir, &si, &cfg);
    assert_int_equal(acctdb_db_root_slot(r, NULL), root);
    expect_absent(r, root, &x);
    expect_account(r, root, &set.a[iz]);
    acctdb_bank_info_t ri;
    DB_OK(r, acctdb_db_bank_info(r, root, &ri));
    assert_memory_equal(ri.bank_hash.b, rootinfo.bank_hash.b, 32);
    assert_memory_equal(ri.lt_checksum, rootinfo.lt_checksum, 32);
    check_ok(r);
    acctdb_db_close(r);

    /* A new full snapshot covers the closure: now the tombstone may go. */
    DB_OK(db, acctdb_db_snapshot(db, arch, false, f2));
    assert_int_equal(stats(db).last_full_snapshot_slot, root);
    uint64_t keys1 = stats(db).index_keys;
    int      cleaned = step(db, ACCTDB_SERVICE_CLEAN);
    print_message("clean after the new full: %d tombstone(s), index keys %llu -> %llu\n", cleaned,
                  (unsigned long long)keys1, (unsigned long long)stats(db).index_keys);
    assert_int_equal(cleaned, 1);
    assert_int_equal(stats(db).index_keys, keys1 - 1);
    expect_absent(db, root, &x);
    expect_account(db, root, &set.a[iz]);
    check_ok(db);
    verify_ok(db);
    settle(db);
    check_ok(db);

    /* Reopen (the index is rebuilt from the account files): still closed. */
    acctdb_db_close(db);
    db = open_ok(dir, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, NULL), root);
    expect_absent(db, root, &x);
    check_ok(db);
    verify_ok(db);
    settle(db);
    expect_absent(db, root, &x);
    check_ok(db);
    acctdb_db_close(db);

    /* And the new full alone restores it closed. */
    join(rdir, tmp, "restore_f2");
    acctdb_db_source_t s2 = {.full_path = f2};
    r = create_from(rdir, &s2, &cfg);
    expect_absent(r, root, &x);
    acctdb_db_close(r);
    set_free(&set);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 9. genesis ------------------------------------------------------------------------ */

#define GEN_BANKS 40
#define GEN_LAG   4

static void
test_genesis(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], arch[4096], path[4096], msg[1024];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(arch, tmp, "arch");
    mkdir_ok(arch);
    acctdb_genesis_info_t gi;
    assert_int_equal(acctdb_genesis_info(adb_test_data("devnet_genesis.bin"), &gi, msg, sizeof msg),
                     0);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_source_t src = {.genesis_path = adb_test_data("devnet_genesis.bin")};
    acctdb_db_t       *db = create_from(dir, &src, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, NULL), 0);
    acctdb_bank_info_t g;
    DB_OK(db, acctdb_db_bank_info(db, 0, &g));
    /* Bank 0 = the genesis accounts plus the sysvars Agave's genesis bank
     * writes, each at its fixed size, rent-exempt under the Rent sysvar. */
    {
        static char const *const ids[6] = {"SysvarStakeHistory1111111111111111111111111",
                                           "SysvarC1ock11111111111111111111111111111111",
                                           "SysvarRent111111111111111111111111111111111",
                                           "SysvarEpochSchedu1e111111111111111111111111",
                                           "SysvarRecentB1ockHashes11111111111111111111",
                                           "SysvarS1otHistory11111111111111111111111111"};
        static uint64_t const    sizes[6] = {16392, 40, 17, 33, 6008, 131097};
        static uint8_t           sb[131097];
        acctdb_pubkey_t          pk, sysvar_owner;
        acctdb_account_t         a;
        assert_int_equal(
            acctdb_base58_decode_32("Sysvar1111111111111111111111111111111111111", sysvar_owner.b),
            0);
        assert_int_equal(acctdb_base58_decode_32(ids[2], pk.b), 0);
        DB_OK(db, acctdb_db_load(db, 0, &pk, &a, sb, sizeof sb, NULL));
        uint64_t lpby;
        double   thr;
        memcpy(&lpby, a.data, 8);
        memcpy(&thr, a.data + 8, 8);
        uint64_t sum = 0;
        for (int i = 0; i < 6; i++) {
            assert_int_equal(acctdb_base58_decode_32(ids[i], pk.b), 0);
            DB_OK(db, acctdb_db_load(db, 0, &pk, &a, sb, sizeof sb, NULL));
            assert_int_equal(a.data_len, sizes[i]);
            assert_memory_equal(a.owner.b, sysvar_owner.b, 32);
            uint64_t min = (uint64_t)((double)((128 + sizes[i]) * lpby) * thr);
            assert_int_equal(a.lamports, min < 1 ? 1 : min);
            sum += a.lamports;
        }
        assert_int_equal(g.capitalization, gi.capitalization + sum);
    }

    /* Final versions of the accounts the banks write (key_of(1000 + i)). */
    static uint8_t   data[GEN_BANKS + 1][512];
    acctdb_account_t fin[GEN_BANKS + 1];
    memset(fin, 0, sizeof fin);
    acctdb_pubkey_t own = key_of(999);
    for (uint64_t s = 1; s <= GEN_BANKS; s++) {
        int64_t ts = gi.creation_time + (int64_t)(s * 2 / 5);
        DB_OK(db, acctdb_db_bank_begin(db, s, s - 1, ts));
        acctdb_account_t a[3];
        size_t           n = 0;
        /* a new account */
        acctdb_pubkey_t k = key_of(1000 + s);
        size_t          len = (size_t)(s * 37 % 512);
        fill_data(data[s], len, s);
        fin[s] = a[n++] = mk(&k, &own, 1000 * s, data[s], len);
        /* an update of an older one */
        if (s > 2) {
            uint64_t o = s / 2;
            fin[o].lamports += 7;
            a[n++] = fin[o];
        }
        /* a closure now and then */
        if (s % 9 == 0) {
            fin[s - 3].lamports = 0;
            a[n++] = mk(&fin[s - 3].pubkey, NULL, 0, NULL, 0);
        }
        DB_OK(db, acctdb_db_store(db, s, s - 1, a, n));
        acctdb_bank_meta_t m = meta_of(s);
        m.unix_timestamp = ts;
        DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
        if (s > GEN_LAG) DB_OK(db, acctdb_db_root(db, s - GEN_LAG));
        if (s % 10 == 0) step(db, ACCTDB_SERVICE_FLUSH);
    }
    DB_OK(db, acctdb_db_root(db, GEN_BANKS));
    DB_OK(db, acctdb_db_snapshot(db, arch, false, path));
    acctdb_bank_info_t root;
    DB_OK(db, acctdb_db_bank_info(db, GEN_BANKS, &root));
    check_ok(db);
    verify_ok(db);
    acctdb_db_close(db);

    acctdb_snapshot_t     *s = NULL;
    acctdb_snapshot_opts_t so = {0};
    so.threads = 2;
    so.strict_name = true;
    int rc = acctdb_snapshot_open(&s, path, NULL, &so);
    if (rc)
        print_message("open %s: %s: %s\n", path, acctdb_strerror(rc), acctdb_snapshot_errmsg(s));
    size_t cnt = acctdb_snapshot_check_cnt(s), pass = 0;
    for (size_t i = 0; i < cnt; i++) {
        acctdb_check_t c;
        assert_int_equal(acctdb_snapshot_check(s, i, &c), 0);
        if (c.status == ACCTDB_CHECK_FAIL) print_message("check %s: %s\n", c.name, c.detail);
        assert_int_not_equal(c.status, ACCTDB_CHECK_FAIL);
        pass += c.status == ACCTDB_CHECK_PASS;
    }
    assert_int_equal(rc, 0);
    assert_true(pass >= 4);
    acctdb_snapshot_info_t si;
    assert_int_equal(acctdb_snapshot_info(s, &si), 0);
    assert_true(si.verified);
    assert_int_equal(si.slot, GEN_BANKS);
    assert_true(si.has_lt_checksum);
    assert_memory_equal(si.lt_checksum, root.lt_checksum, 32);
    assert_memory_equal(si.bank_hash.b, root.bank_hash.b, 32);
    assert_int_equal(si.capitalization, root.capitalization);
    assert_int_equal(si.accounts_data_len, root.accounts_data_len);
    for (uint64_t i = 1; i <= GEN_BANKS; i++) {
        acctdb_account_t a;
        rc = acctdb_snapshot_get(s, &fin[i].pubkey, &a, NULL);
        if (!fin[i].lamports) {
            assert_int_equal(rc, ACCTDB_ERR_NOT_FOUND);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(a.lamports, fin[i].lamports);
        assert_int_equal(a.data_len, fin[i].data_len);
        if (a.data_len) assert_memory_equal(a.data, fin[i].data, a.data_len);
    }
    acctdb_snapshot_close(s);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 10. retention ------------------------------------------------------------------------ */

typedef struct arcs {
    uint64_t full[16], inc_base[16], inc_slot[16];
    size_t   nfull, ninc, other;
} arcs_t;

static void
list_archives(char const *dir, arcs_t *o) {
    memset(o, 0, sizeof *o);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        char const        *nm = de->d_name;
        unsigned long long a, b;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        size_t L = strlen(nm);
        bool   zst = L > 8 && !strcmp(nm + L - 8, ".tar.zst");
        if (zst && sscanf(nm, "incremental-snapshot-%llu-%llu-", &a, &b) == 2 && o->ninc < 16) {
            o->inc_base[o->ninc] = a;
            o->inc_slot[o->ninc++] = b;
        } else if (zst && sscanf(nm, "snapshot-%llu-", &a) == 1 && o->nfull < 16) {
            o->full[o->nfull++] = a;
        } else {
            print_message("other entry in the archive dir: %s\n", nm);
            o->other++;
        }
    }
    closedir(d);
}

static bool
has_full(arcs_t const *o, uint64_t slot) {
    for (size_t i = 0; i < o->nfull; i++)
        if (o->full[i] == slot) return true;
    return false;
}

static void
test_retention(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], arch[4096], path[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(arch, tmp, "arch");
    mkdir_ok(arch);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    cfg.snapshot_keep_full = 2;
    cfg.snapshot_keep_incremental = 1;
    acctdb_db_t    *db = create_pair(dir, &cfg);
    uint64_t        full[4];
    arcs_t          o;
    acctdb_pubkey_t own = key_of(5);
    for (int i = 0; i < 4; i++) {
        acctdb_pubkey_t  k = key_of(500 + (uint64_t)i);
        acctdb_account_t a = mk(&k, &own, 10 + (uint64_t)i, NULL, 0);
        full[i] = advance(db, &a, 1);
        DB_OK(db, acctdb_db_snapshot(db, arch, false, path));
        assert_int_equal(access(path, F_OK), 0);
        list_archives(arch, &o);
        assert_int_equal(o.nfull, i < 2 ? (size_t)i + 1 : 2);
        assert_true(has_full(&o, full[i]));
    }
    list_archives(arch, &o);
    assert_int_equal(o.nfull, 2);
    assert_true(has_full(&o, full[2]) && has_full(&o, full[3]));
    assert_int_equal(o.ninc, 0);
    assert_int_equal(o.other, 0);

    uint64_t inc[2];
    for (int i = 0; i < 2; i++) {
        inc[i] = advance(db, NULL, 0);
        DB_OK(db, acctdb_db_snapshot(db, arch, true, path));
        assert_int_equal(access(path, F_OK), 0);
    }
    list_archives(arch, &o);
    assert_int_equal(o.nfull, 2);
    assert_true(has_full(&o, full[2]) && has_full(&o, full[3]));
    assert_int_equal(o.ninc, 1);
    assert_int_equal(o.inc_base[0], full[3]);
    assert_int_equal(o.inc_slot[0], inc[1]);
    assert_int_equal(o.other, 0);

    /* The kept pair restores the newest root. */
    acctdb_db_close(db);
    char rdir[4096];
    join(rdir, tmp, "restored");
    acctdb_db_source_t src = {.archive_dir = arch};
    db = create_from(rdir, &src, &cfg);
    assert_int_equal(acctdb_db_root_slot(db, NULL), inc[1]);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 11. the read cache is bounded ------------------------------------------------------- */

#define RC_KEYS 2000

static void
test_read_cache(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    cfg.read_cache_max_sz = 64u << 10;
    cfg.mmap_reads = false; /* every read through the cache */
    acctdb_db_t *db = create_pair(dir, &cfg);
    acct_set_t   set;
    pair_accounts(&set);

    /* Small accounts (0..64 bytes), flushed: every load reads a file. */
    static acctdb_account_t a[RC_KEYS];
    static uint8_t          data[RC_KEYS][64];
    acctdb_pubkey_t         own = key_of(11);
    uint64_t const          S = acctdb_db_root_slot(db, NULL) + 1;
    for (size_t i = 0; i < RC_KEYS; i++) {
        acctdb_pubkey_t k = key_of(20000 + i);
        fill_data(data[i], i % 65, i);
        a[i] = mk(&k, &own, 1 + i, data[i], i % 65);
    }
    DB_OK(db, acctdb_db_store(db, S, S - 1, a, RC_KEYS));
    acctdb_bank_meta_t m = meta_of(S);
    DB_OK(db, acctdb_db_freeze(db, S, &m, NULL));
    DB_OK(db, acctdb_db_root(db, S));
    step(db, ACCTDB_SERVICE_FLUSH);
    assert_int_equal(stats(db).write_cache_sz, 0);

    uint64_t const    cap = cfg.read_cache_max_sz;
    acctdb_db_stats_t st = stats(db);
    uint64_t          max_seen = 0, miss_round[8] = {0};
    size_t            rounds = adb_test_scaled(5);
    if (rounds < 2) rounds = 2;
    if (rounds > 8) rounds = 8;
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < RC_KEYS; i++) {
            for (int twice = 0; twice < 2; twice++) {
                acctdb_account_t out;
                DB_OK(db, acctdb_db_load(db, S, &a[i].pubkey, &out, g_buf, sizeof g_buf, NULL));
                assert_int_equal(out.lamports, a[i].lamports);
                assert_int_equal(out.data_len, a[i].data_len);
                if (out.data_len) assert_memory_equal(out.data, a[i].data, out.data_len);
            }
            if (i % 50 == 0) {
                st = stats(db);
                if (st.read_cache_sz > max_seen) max_seen = st.read_cache_sz;
                assert_true(st.read_cache_sz <= cap);
            }
        }
        for (size_t i = 0; i < set.n; i++)
            expect_account(db, S, &set.a[i]);
        st = stats(db);
        assert_true(st.read_cache_sz <= cap);
        miss_round[r] = st.read_cache_misses;
    }
    st = stats(db);
    print_message("read cache: max %llu of %llu bytes, %llu hits, %llu misses\n",
                  (unsigned long long)max_seen, (unsigned long long)cap,
                  (unsigned long long)st.read_cache_hits, (unsigned long long)st.read_cache_misses);
    assert_true(st.read_cache_hits > 0);
    assert_true(max_seen > 0);
    /* More accounts than fit: later rounds miss again (evictions). */
    assert_true(miss_round[1] > miss_round[0]);
    assert_true(st.read_cache_hits + st.read_cache_misses >= rounds * RC_KEYS * 2);
    acctdb_db_close(db);
    set_free(&set);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 12. durability under kill -9 ------------------------------------------------------------ */

#define K9_KEYS 4

static void
k9_account(uint64_t slot, size_t i, acctdb_account_t *a, uint8_t *d) {
    acctdb_pubkey_t k = key_of(90000 + i), own = key_of(90100);
    size_t          len = (size_t)((slot * 31 + i * 7) % 300);
    fill_data(d, len, slot * 16 + i);
    *a = mk(&k, &own, slot * 16 + i + 1, d, len);
}

/* The child: stores, freezes, roots, flushes and reports the durable
 * root until it is killed.  Exit codes name the failed step. */
static void __attribute__((noreturn)) k9_child(char const *dir, int wfd) {
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_t *db = NULL;
    char         msg[512];
    if (acctdb_db_open(&db, dir, &cfg, msg, sizeof msg)) _exit(3);
    uint64_t       s = acctdb_db_root_slot(db, NULL);
    static uint8_t d[K9_KEYS][300];
    for (uint64_t it = 0;; it++) {
        uint64_t         parent = s++;
        acctdb_account_t a[K9_KEYS];
        for (size_t i = 0; i < K9_KEYS; i++)
            k9_account(s, i, &a[i], d[i]);
        if (acctdb_db_store(db, s, parent, a, K9_KEYS)) _exit(4);
        acctdb_bank_meta_t m = meta_of(s);
        if (acctdb_db_freeze(db, s, &m, NULL)) _exit(5);
        if (acctdb_db_root(db, s)) _exit(6);
        if (acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH) < 0) _exit(7);
        if (it % 4 == 3 && (acctdb_db_service_step(db, ACCTDB_SERVICE_SHRINK) < 0 ||
                            acctdb_db_service_step(db, ACCTDB_SERVICE_CLEAN) < 0))
            _exit(8);
        uint64_t durable = 0;
        acctdb_db_root_slot(db, &durable);
        if (write(wfd, &durable, sizeof durable) != (ssize_t)sizeof durable) _exit(9);
    }
}

static bool
read_report(int fd, uint64_t *v) {
    size_t got = 0;
    while (got < sizeof *v) {
        struct pollfd p = {fd, POLLIN, 0};
        int           pr = poll(&p, 1, 60000);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) return false;
        ssize_t r = read(fd, (uint8_t *)v + got, sizeof *v - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

static void
test_kill9(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg);
    acctdb_db_close(create_pair(dir, &cfg));
    uint64_t rng = adb_test_seed() ^ 0x9e11;
    size_t   reps = adb_test_scaled(3);
    uint64_t prev_root = ROOT3;
    for (size_t rep = 0; rep < reps; rep++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            k9_child(dir, fds[1]);
        }
        close(fds[1]);
        size_t   want = 5 + (size_t)(adb_test_rand(&rng) % 46), got = 0;
        uint64_t last = 0, v;
        bool     ok = true;
        while (got < want && (ok = read_report(fds[0], &v))) {
            if (v < last || v <= prev_root) {
                print_message("report %zu: durable %llu after %llu (root was %llu)\n", got,
                              (unsigned long long)v, (unsigned long long)last,
                              (unsigned long long)prev_root);
                ok = false;
                break;
            }
            last = v;
            got++;
        }
        /* Land the kill at a random point of the next iteration. */
        struct timespec ts = {0, (long)(adb_test_rand(&rng) % 3000) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        close(fds[0]);
        if (!ok || !WIFSIGNALED(st))
            print_message("child: %zu reports, %s %d\n", got,
                          WIFSIGNALED(st) ? "signal" : "exit code",
                          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        assert_true(ok);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

        acctdb_db_t *db = open_ok(dir, &cfg);
        uint64_t     durable, root = acctdb_db_root_slot(db, &durable);
        print_message("kill -9 #%zu after %zu reports: last durable %llu, reopened at %llu\n", rep,
                      got, (unsigned long long)last, (unsigned long long)root);
        assert_true(root >= last);
        assert_int_equal(durable, root);
        verify_ok(db);
        check_ok(db);
        /* Every slot stored every key: the root holds that slot's versions. */
        static uint8_t d[300];
        for (size_t i = 0; i < K9_KEYS; i++) {
            acctdb_account_t a;
            k9_account(root, i, &a, d);
            expect_account(db, root, &a);
        }
        acctdb_db_close(db);
        prev_root = root;
    }
    adb_test_rmtree(tmp);
    free(tmp);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_lock),          cmocka_unit_test(test_root_record),
    cmocka_unit_test(test_config),        cmocka_unit_test(test_create),
    cmocka_unit_test(test_api_errors),    cmocka_unit_test(test_forks),
    cmocka_unit_test(test_freeze_lthash), cmocka_unit_test(test_clean_c9),
    cmocka_unit_test(test_genesis),       cmocka_unit_test(test_retention),
    cmocka_unit_test(test_read_cache),    cmocka_unit_test(test_kill9),
};

ADB_TEST_GROUP(db_engine, tests);
