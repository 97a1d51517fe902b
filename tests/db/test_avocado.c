/* tests/db/test_avocado.c - Avocado state compression in the engine
 * (docs/STATE.md) and acctdb's own state beside the accounts
 * (src/db/db_xstate.c):
 *
 *   roundtrip   compress then decompress restores byte-identical accounts
 *               and the lattice hash from before; wrong data fails and
 *               changes nothing; stores to a compressed account are refused;
 *               exempt accounts are refused per account
 *   forks       a compression on one fork is invisible on its sibling and
 *               gone when that fork dies
 *   durable     the state survives a clean reopen, a kill -9 after a flush
 *               (log replay), image compaction, and a torn log tail
 *   damaged     a damaged image or log fails the open with a named error
 *   rent        an LSR sweep over a generated database compacts exactly the
 *               accounts the formula picks (computed here, with 128-bit
 *               integers, from docs/STATE.md), capitalization falls by
 *               exactly their lamports; they load as burned, survive a
 *               reopen, and one is decompressed with new lamports
 *   trie        the trie holds exactly the accounts compressed at the
 *               durable root (a trie built here from the leaf values
 *               computed from docs/STATE.md has the same root), every proof
 *               verifies (binary and JSON), the creation check takes a
 *               fresh exclusion proof or a derived address of a newer
 *               blockhash and refuses stale, member, truncated and unknown
 *               ones; a reopen and a snapshot's sidecar keep root and last
 *               insertion
 *   snapshot_kill  a snapshot killed after its sidecar is durable but
 *               before the archive's rename leaves no archive; killed just
 *               after the rename, the archive's sidecar is there and a
 *               database made from it has every compressed account and the
 *               trie's root; a creation from it killed after its first
 *               commit record, before the sidecar's import, imports the
 *               staged copy at the next open
 *   xstate_kill a flush killed with its deltas logged but not committed
 *               reopens without them (the tail cut); killed after an image
 *               no commit names yet, reopens with the committed state and
 *               the image swept; the next flush and reopen work as usual */
#include "../test.h"

#include "acctdb_sim.h"
#include "api/api_private.h"
#include "db/db_private.h"
#include "state/trie.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_ACCT 64

/* The accounts the tests store: deterministic from i. */
static void
acct_make(size_t i, uint64_t seed, acctdb_account_t *a, uint8_t *data) {
    adb_test_rng_t r = {seed * 1000003u + i};
    memset(a, 0, sizeof *a);
    adb_test_rng_fill(&r, a->pubkey.b, 32);
    adb_test_rng_fill(&r, a->owner.b, 32);
    a->owner.b[31] |= 1; /* never a program id of the exempt list (they end in zeros) */
    a->lamports = 1000000 + adb_test_rng_below(&r, 1000000);
    a->rent_epoch = UINT64_MAX;
    a->data_len = 33 + adb_test_rng_below(&r, 3000);
    adb_test_rng_fill(&r, data, (size_t)a->data_len);
    a->data = data;
}

static acctdb_db_config_t
cfg_make(void) {
    acctdb_db_config_t c;
    acctdb_db_config_default(&c);
    c.background = false;
    c.avocado = true;
    return c;
}

static void
step_all(acctdb_db_t *db) {
    for (int s = 0; s < ACCTDB_SERVICE_CNT; s++)
        assert_true(acctdb_db_service_step(db, (acctdb_service_t)s) >= 0);
}

/* Stores the N_ACCT accounts at slot on parent, freezes and roots it. */
static void
store_all(acctdb_db_t *db, uint64_t slot, uint64_t parent, uint64_t seed, uint8_t *buf) {
    acctdb_account_t a[N_ACCT];
    for (size_t i = 0; i < N_ACCT; i++)
        acct_make(i, seed, &a[i], buf + i * 4096);
    assert_int_equal(acctdb_db_store(db, slot, parent, a, N_ACCT), 0);
}

static void
freeze_root(acctdb_db_t *db, uint64_t slot, acctdb_bank_info_t *info) {
    acctdb_bank_meta_t m = {0};
    m.blockhash.b[0] = (uint8_t)slot;
    assert_int_equal(acctdb_db_freeze(db, slot, &m, info), 0);
    assert_int_equal(acctdb_db_root(db, slot), 0);
}

/* Every account i in [0, N_ACCT): compressed iff (mask >> i) & 1, else
 * byte-identical to acct_make's. */
static void
check_all(acctdb_db_t *db, uint64_t slot, uint64_t seed, uint64_t mask) {
    uint8_t *want = malloc(4096), *got = malloc(4096);
    for (size_t i = 0; i < N_ACCT; i++) {
        acctdb_account_t a, b;
        acct_make(i, seed, &a, want);
        int rc = acctdb_db_load(db, slot, &a.pubkey, &b, got, 4096, NULL);
        if ((mask >> i) & 1) {
            if (rc != ACCTDB_ERR_COMPRESSED)
                fail_msg("account %zu at slot %llu: %s, not compressed", i,
                         (unsigned long long)slot, acctdb_strerror(rc));
            uint8_t h[32];
            acctdb_blake3(want, (size_t)a.data_len, h, 32);
            assert_int_equal(b.data_len, 32);
            assert_memory_equal(b.data, h, 32);
            assert_int_equal(b.lamports, a.lamports);
            assert_memory_equal(b.owner.b, a.owner.b, 32);
            acctdb_compressed_t ci;
            assert_int_equal(acctdb_db_compressed_info(db, slot, &a.pubkey, &ci), 0);
            assert_int_equal(ci.orig_len, a.data_len);
            assert_memory_equal(ci.data_hash.b, h, 32);
            assert_false(ci.burned);
        } else {
            if (rc)
                fail_msg("account %zu at slot %llu: %s", i, (unsigned long long)slot,
                         acctdb_strerror(rc));
            assert_int_equal(b.data_len, a.data_len);
            assert_memory_equal(b.data, want, (size_t)a.data_len);
            assert_int_equal(b.lamports, a.lamports);
            acctdb_compressed_t ci;
            assert_int_equal(acctdb_db_compressed_info(db, slot, &a.pubkey, &ci),
                             ACCTDB_ERR_NOT_FOUND);
        }
    }
    free(want);
    free(got);
}

/* Compresses the accounts of mask at slot on parent. */
static void
compress_mask(acctdb_db_t *db, uint64_t slot, uint64_t parent, uint64_t seed, uint64_t mask) {
    acctdb_pubkey_t keys[N_ACCT];
    int             rcs[N_ACCT];
    size_t          n = 0;
    uint8_t        *d = malloc(4096);
    for (size_t i = 0; i < N_ACCT; i++) {
        if (!((mask >> i) & 1)) continue;
        acctdb_account_t a;
        acct_make(i, seed, &a, d);
        keys[n++] = a.pubkey;
    }
    size_t done = 0;
    assert_int_equal(acctdb_db_compress(db, slot, parent, keys, n, rcs, &done), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rcs[i], 0);
    assert_int_equal(done, n);
    free(d);
}

static void
decompress_mask(acctdb_db_t *db, uint64_t slot, uint64_t parent, uint64_t seed, uint64_t mask) {
    uint8_t *d = malloc(4096);
    for (size_t i = 0; i < N_ACCT; i++) {
        if (!((mask >> i) & 1)) continue;
        acctdb_account_t a;
        acct_make(i, seed, &a, d);
        int rc = acctdb_db_decompress(db, slot, parent, &a.pubkey, d, (size_t)a.data_len, 0);
        if (rc) fail_msg("decompress %zu: %s (%s)", i, acctdb_strerror(rc), acctdb_db_errmsg(db));
    }
    free(d);
}

/* A new database in dir: the N_ACCT accounts stored and rooted at r0 + 1,
 * those of mask compressed at r0 + 2, rooted and flushed; closed.
 * Returns r0 (the bundled pair's root). */
static uint64_t
base_compressed(char const *dir, uint64_t seed, uint64_t mask) {
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = adb_test_create_pair(dir, &cfg);
    uint64_t           r0 = acctdb_db_root_slot(db, NULL);
    uint8_t           *buf = malloc(N_ACCT * 4096);
    store_all(db, r0 + 1, r0, seed, buf);
    freeze_root(db, r0 + 1, NULL);
    compress_mask(db, r0 + 2, r0 + 1, seed, mask);
    freeze_root(db, r0 + 2, NULL);
    step_all(db);
    acctdb_db_close(db);
    free(buf);
    return r0;
}

static void
test_roundtrip(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = adb_test_create_pair(dir, &cfg);
    uint64_t           r0 = acctdb_db_root_slot(db, NULL), seed = 7;
    uint8_t           *buf = malloc(N_ACCT * 4096);
    store_all(db, r0 + 1, r0, seed, buf);
    acctdb_bank_info_t i1, i2, i3;
    freeze_root(db, r0 + 1, &i1);

    /* Compress half (every other one). */
    uint64_t mask = 0x5555555555555555ull;
    compress_mask(db, r0 + 2, r0 + 1, seed, mask);
    check_all(db, r0 + 2, seed, mask);
    /* The parent still sees the originals. */
    check_all(db, r0 + 1, seed, 0);

    /* Stores to a compressed account are refused, and change nothing. */
    acctdb_account_t a;
    uint8_t         *d = malloc(4096);
    acct_make(0, seed, &a, d);
    a.lamports += 5;
    assert_int_equal(acctdb_db_store(db, r0 + 2, r0 + 1, &a, 1), ACCTDB_ERR_COMPRESSED);
    assert_non_null(strstr(acctdb_db_errmsg(db), "compressed"));
    check_all(db, r0 + 2, seed, mask);
    /* Compressing it again, an absent key, a key twice, an exempt one. */
    acctdb_pubkey_t ks[4];
    int             rcs[4];
    size_t          done;
    ks[0] = a.pubkey;
    memset(ks[1].b, 0xab, 32);
    acct_make(1, seed, &a, d);
    ks[2] = a.pubkey;
    ks[3] = a.pubkey;
    assert_int_equal(acctdb_db_compress(db, r0 + 2, r0 + 1, ks, 4, rcs, &done), 0);
    assert_int_equal(rcs[0], ACCTDB_ERR_COMPRESSED);
    assert_int_equal(rcs[1], ACCTDB_ERR_NOT_FOUND);
    assert_int_equal(rcs[2], 0);
    assert_int_equal(rcs[3], ACCTDB_ERR_INVALID);
    assert_int_equal(done, 1);
    mask |= 2;
    {
        /* An account of 32 bytes or fewer, and a vote account: refused. */
        acctdb_account_t x[2];
        uint8_t          small[16] = {1}, big[64] = {2};
        memset(x, 0, sizeof x);
        memset(x[0].pubkey.b, 0x31, 32);
        x[0].lamports = 10;
        x[0].data_len = sizeof small;
        x[0].data = small;
        memset(x[1].pubkey.b, 0x32, 32);
        x[1].lamports = 10;
        x[1].data_len = sizeof big;
        x[1].data = big;
        assert_int_equal(
            acctdb_base58_decode_32("Vote111111111111111111111111111111111111111", x[1].owner.b),
            0);
        assert_int_equal(acctdb_db_store(db, r0 + 2, r0 + 1, x, 2), 0);
        acctdb_pubkey_t xk[2] = {x[0].pubkey, x[1].pubkey};
        assert_int_equal(acctdb_db_compress(db, r0 + 2, r0 + 1, xk, 2, rcs, &done), 0);
        assert_int_equal(rcs[0], ACCTDB_ERR_UNSUPPORTED);
        assert_int_equal(rcs[1], ACCTDB_ERR_UNSUPPORTED);
        assert_int_equal(done, 0);
        /* Close them again so the lattice hash below compares like for
         * like. */
        x[0].lamports = x[1].lamports = 0;
        assert_int_equal(acctdb_db_store(db, r0 + 2, r0 + 1, x, 2), 0);
    }
    freeze_root(db, r0 + 2, &i2);
    assert_memory_not_equal(i2.lt_checksum, i1.lt_checksum, 32);
    assert_int_equal(i2.capitalization, i1.capitalization);
    assert_true(i2.accounts_data_len < i1.accounts_data_len);

    /* Wrong data: MISMATCH, nothing changes. */
    acct_make(0, seed, &a, d);
    d[5] ^= 1;
    assert_int_equal(acctdb_db_decompress(db, r0 + 3, r0 + 2, &a.pubkey, d, (size_t)a.data_len, 0),
                     ACCTDB_ERR_MISMATCH);
    d[5] ^= 1;
    assert_int_equal(
        acctdb_db_decompress(db, r0 + 3, r0 + 2, &a.pubkey, d, (size_t)a.data_len - 1, 0),
        ACCTDB_ERR_MISMATCH);
    assert_int_equal(acctdb_db_decompress(db, r0 + 3, r0 + 2, &a.pubkey, d, (size_t)a.data_len, 77),
                     ACCTDB_ERR_INVALID);
    /* Not even the bank was created. */
    acctdb_account_t z;
    assert_int_equal(acctdb_db_load(db, r0 + 3, &a.pubkey, &z, d, 4096, NULL), ACCTDB_ERR_INVALID);
    check_all(db, r0 + 2, seed, mask);

    /* Decompress everything: byte-identical accounts, the lattice hash and
     * the data length from before. */
    decompress_mask(db, r0 + 3, r0 + 2, seed, mask);
    check_all(db, r0 + 3, seed, 0);
    freeze_root(db, r0 + 3, &i3);
    assert_memory_equal(i3.lt_checksum, i1.lt_checksum, 32);
    assert_memory_equal(i3.lt_hash.v, i1.lt_hash.v, sizeof i1.lt_hash.v);
    assert_int_equal(i3.capitalization, i1.capitalization);
    assert_int_equal(i3.accounts_data_len, i1.accounts_data_len);
    /* Decompressing what is not compressed is refused. */
    assert_int_equal(acctdb_db_decompress(db, r0 + 4, r0 + 3, &a.pubkey, d, (size_t)a.data_len, 0),
                     ACCTDB_ERR_INVALID);
    step_all(db);
    assert_int_equal(acctdb_db_verify(db, NULL, 0), 0);
    acctdb_db_close(db);

    /* Off by default: compressing is refused. */
    acctdb_db_config_t off;
    acctdb_db_config_default(&off);
    off.background = false;
    assert_int_equal(acctdb_db_open(&db, dir, &off, NULL, 0), 0);
    uint64_t r = acctdb_db_root_slot(db, NULL);
    assert_int_equal(acctdb_db_compress(db, r + 1, r, ks, 1, rcs, &done), ACCTDB_ERR_UNSUPPORTED);
    acctdb_db_close(db);
    free(d);
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_forks(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = adb_test_create_pair(dir, &cfg);
    uint64_t           r0 = acctdb_db_root_slot(db, NULL), seed = 11;
    uint8_t           *buf = malloc(N_ACCT * 4096);
    store_all(db, r0 + 1, r0, seed, buf);
    freeze_root(db, r0 + 1, NULL);
    /* Two children of r0+1: A compresses 0..7, B compresses 8..15. */
    compress_mask(db, r0 + 2, r0 + 1, seed, 0xff);
    compress_mask(db, r0 + 3, r0 + 1, seed, 0xff00);
    check_all(db, r0 + 2, seed, 0xff);
    check_all(db, r0 + 3, seed, 0xff00);
    acctdb_bank_meta_t m = {0};
    assert_int_equal(acctdb_db_freeze(db, r0 + 2, &m, NULL), 0);
    assert_int_equal(acctdb_db_freeze(db, r0 + 3, &m, NULL), 0);
    /* A grandchild of A sees A's. */
    assert_int_equal(acctdb_db_store(db, r0 + 4, r0 + 2, NULL, 0), 0);
    check_all(db, r0 + 4, seed, 0xff);
    assert_int_equal(acctdb_db_freeze(db, r0 + 4, &m, NULL), 0);
    /* Root B: A's fork dies; after the services, only B's remain. */
    assert_int_equal(acctdb_db_root(db, r0 + 3), 0);
    step_all(db);
    check_all(db, r0 + 3, seed, 0xff00);
    acctdb_db_close(db);
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
    check_all(db, r0 + 3, seed, 0xff00);
    acctdb_db_close(db);
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

/* Child: compress, root and flush, then die without closing. */
static void
killed_child(char const *dir, uint64_t seed, uint64_t mask, bool tail) {
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = NULL;
    if (acctdb_db_open(&db, dir, &cfg, NULL, 0)) _exit(3);
    uint64_t        r = acctdb_db_root_slot(db, NULL);
    acctdb_pubkey_t keys[N_ACCT];
    int             rcs[N_ACCT];
    size_t          n = 0, done;
    uint8_t        *d = malloc(4096);
    for (size_t i = 0; i < N_ACCT; i++)
        if ((mask >> i) & 1) {
            acctdb_account_t a;
            acct_make(i, seed, &a, d);
            keys[n++] = a.pubkey;
        }
    if (acctdb_db_compress(db, r + 1, r, keys, n, rcs, &done) || done != n) _exit(4);
    acctdb_bank_meta_t m = {0};
    if (acctdb_db_freeze(db, r + 1, &m, NULL) || acctdb_db_root(db, r + 1)) _exit(5);
    if (acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH) < 0) _exit(6);
    if (tail) {
        /* One more rooted bank whose flush wrote the log but whose commit
         * never happened: simulated by appending garbage past the named
         * length. */
        char path[4200];
        snprintf(path, sizeof path, "%s/xstate-%llu.log", dir, (unsigned long long)db->db->xs->gen);
        FILE *f = fopen(path, "ab");
        if (!f || fwrite("XSL1garbage-tail", 1, 16, f) != 16) _exit(7);
        fclose(f);
    }
    _exit(0);
}

static void
test_durable(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    uint64_t           seed = 13, r0 = base_compressed(dir, seed, 0xf);
    acctdb_db_t       *db;
    uint8_t           *buf = malloc(N_ACCT * 4096);

    /* Clean reopen. */
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
    check_all(db, r0 + 2, seed, 0xf);
    acctdb_db_close(db);

    /* kill -9 after a flush: the log's named bytes replay. */
    uint64_t mask = 0xf;
    for (int round = 0; round < 3; round++) {
        uint64_t more = 0xf0ull << (8 * round);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) killed_child(dir, seed, more, round == 2);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        mask |= more;
        assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
        check_all(db, acctdb_db_root_slot(db, NULL), seed, mask);
        acctdb_db_close(db);
    }

    /* Image compaction: a tiny threshold makes every flush write one; the
     * files of old generations go, and a reopen reads the newest. */
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
    db->db->xs->compact_min_sz = 0; /* an image at every flush */
    uint64_t g0 = db->db->xs->gen;
    for (int i = 0; i < 4; i++) {
        uint64_t r = acctdb_db_root_slot(db, NULL);
        uint64_t bit = 1ull << (40 + i);
        compress_mask(db, r + 1, r, seed, bit);
        mask |= bit;
        freeze_root(db, r + 1, NULL);
        step_all(db);
    }
    assert_true(db->db->xs->gen >= g0 + 3);
    uint64_t g = db->db->xs->gen;
    check_all(db, acctdb_db_root_slot(db, NULL), seed, mask);
    acctdb_db_close(db);
    char out[4096];
    assert_int_equal(adb_test_sh(out, sizeof out, "ls %s | grep -c '^xstate-'", dir), 0);
    int files = atoi(out);
    assert_true(files >= 1 && files <= 4); /* at most two generations, image + log */
    char path[4200];
    snprintf(path, sizeof path, "%s/xstate-%llu.img", dir, (unsigned long long)g);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
    check_all(db, acctdb_db_root_slot(db, NULL), seed, mask);
    /* And decompressing after all that. */
    uint64_t r = acctdb_db_root_slot(db, NULL);
    decompress_mask(db, r + 1, r, seed, mask);
    check_all(db, r + 1, seed, 0);
    acctdb_db_close(db);
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_damaged(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = adb_test_create_pair(dir, &cfg);
    uint64_t           r0 = acctdb_db_root_slot(db, NULL), seed = 17;
    uint8_t           *buf = malloc(N_ACCT * 4096);
    store_all(db, r0 + 1, r0, seed, buf);
    freeze_root(db, r0 + 1, NULL);
    compress_mask(db, r0 + 2, r0 + 1, seed, 0x3);
    freeze_root(db, r0 + 2, NULL);
    step_all(db);
    uint64_t g = db->db->xs->gen;
    acctdb_db_close(db);
    char path[4200], msg[512];
    snprintf(path, sizeof path, "%s/xstate-%llu.log", dir, (unsigned long long)g);
    /* One flipped byte inside the named bytes. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    int c = fgetc(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    fputc(c ^ 0x10, f);
    fclose(f);
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "xstate"));
    assert_non_null(strstr(msg, "CRC-32C"));
    /* Missing. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "xstate"));
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- LSR rent ---------------------------------------------------------------------- */

#define N_RENT 400

typedef struct rent_acct {
    acctdb_pubkey_t key;
    uint64_t        lamports, data_len, created;
    bool            exempt, gone;
} rent_acct_t;

typedef struct rent_ctx {
    rent_acct_t *v;
    size_t       n;
    uint64_t     created;
} rent_ctx_t;

static int
rent_base_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    rent_ctx_t  *c = ctx;
    rent_acct_t *r = &c->v[c->n++];
    memset(r, 0, sizeof *r);
    r->key = a->pubkey;
    r->lamports = a->lamports;
    r->data_len = a->data_len;
    r->created = c->created;
    /* docs/STATE.md: never swept: executable, or an exempt owner. */
    r->exempt = a->executable || adb_test_avocado_exempt(a->owner.b);
    return 0;
}

static void
test_rent(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    cfg.lsr = true;
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    uint64_t     r0 = acctdb_db_root_slot(db, NULL);
    rent_acct_t *v = calloc(N_RENT + 64, sizeof *v);
    rent_ctx_t   c = {v, 0, r0};
    /* The loaded accounts (created at the load slot, r0). */
    acctdb_snapshot_t *s;
    assert_int_equal(
        acctdb_snapshot_open(
            &s, adb_test_data("snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"),
            adb_test_data(
                "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"),
            NULL),
        0);
    assert_int_equal(acctdb_snapshot_iterate(s, NULL, rent_base_cb, &c), 0);
    acctdb_snapshot_close(s);
    size_t nbase = c.n;
    /* New accounts over five slots, lamports around the threshold. */
    adb_test_rng_t rr = {adb_test_seed() ^ 0x4e47};
    uint8_t       *d = calloc(1, 4096); /* every new account's data: zeros */
    uint64_t       slot = r0;
    for (int b = 0; b < 5; b++) {
        slot++;
        acctdb_account_t a[N_RENT / 5];
        for (size_t i = 0; i < N_RENT / 5; i++) {
            rent_acct_t *x = &v[c.n++];
            memset(&a[i], 0, sizeof a[i]);
            adb_test_rng_fill(&rr, x->key.b, 32);
            a[i].pubkey = x->key;
            a[i].owner.b[0] = 0x77; /* an ordinary program */
            a[i].lamports = x->lamports = 1 + adb_test_rng_below(&rr, 4000);
            a[i].data_len = x->data_len = adb_test_rng_below(&rr, 1500);
            a[i].data = d;
            a[i].rent_epoch = UINT64_MAX;
            x->created = slot;
        }
        assert_int_equal(acctdb_db_store(db, slot, slot - 1, a, N_RENT / 5), 0);
        freeze_root(db, slot, NULL);
    }
    acctdb_bank_info_t before;
    assert_int_equal(acctdb_db_bank_info(db, slot, &before), 0);
    /* The expected sweep at slot + 100: K = 4e-8, N = 1. */
    uint64_t const    sweep = slot + 100, k_num = 4, k_den = 100000000;
    unsigned __int128 ss = 0;
    for (size_t i = 0; i < c.n; i++)
        ss += v[i].data_len + 128;
    uint64_t want_burn = 0, want_n = 0, want_exempt = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (v[i].exempt) {
            want_exempt++;
            continue;
        }
        unsigned __int128 charge =
            (unsigned __int128)(sweep - v[i].created) * (v[i].data_len + 128) * k_num * ss / k_den;
        if (charge > v[i].lamports) {
            v[i].gone = true;
            want_burn += v[i].lamports;
            want_n++;
        }
    }
    assert_true(want_n > 0 && want_n < c.n - nbase); /* the threshold splits them */
    acctdb_rent_report_t rep;
    assert_int_equal(acctdb_db_rent_sweep(db, sweep, slot, "4e-8", 1, &rep), 0);
    print_message("rent: %llu accounts, state %llu B, %llu exempt, %llu swept, %llu lamports "
                  "burned\n",
                  (unsigned long long)rep.accounts, (unsigned long long)rep.state_size,
                  (unsigned long long)rep.exempt, (unsigned long long)rep.swept,
                  (unsigned long long)rep.lamports_burned);
    assert_int_equal(rep.accounts, c.n);
    assert_true(rep.state_size == (uint64_t)ss);
    assert_int_equal(rep.exempt, want_exempt);
    assert_int_equal(rep.swept, want_n);
    assert_int_equal(rep.lamports_burned, want_burn);
    acctdb_bank_info_t after;
    freeze_root(db, sweep, &after);
    assert_int_equal(after.capitalization, before.capitalization - want_burn);
    /* Each account: burned exactly when the formula says. */
    for (size_t i = 0; i < c.n; i++) {
        acctdb_account_t a;
        int              rc = acctdb_db_load(db, sweep, &v[i].key, &a, d, 4096, NULL);
        if (v[i].gone) {
            assert_int_equal(rc, ACCTDB_ERR_COMPRESSED);
            assert_int_equal(a.lamports, 0);
            assert_memory_equal(a.pubkey.b, v[i].key.b, 32);
            acctdb_compressed_t ci;
            assert_int_equal(acctdb_db_compressed_info(db, sweep, &v[i].key, &ci), 0);
            assert_true(ci.burned);
            assert_int_equal(ci.orig_len, v[i].data_len);
        } else if (v[i].lamports) {
            if (rc != 0 && rc != ACCTDB_ERR_FULL)
                fail_msg("account %zu: %s", i, acctdb_strerror(rc));
            assert_int_equal(a.lamports, v[i].lamports);
        }
    }
    /* Stores to a burned account are refused; durable across a reopen. */
    step_all(db);
    assert_int_equal(acctdb_db_verify(db, NULL, 0), 0);
    acctdb_db_close(db);
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
    size_t g = 0;
    while (!v[g].gone)
        g++;
    acctdb_account_t a = {.pubkey = v[g].key, .lamports = 5};
    uint64_t         r = acctdb_db_root_slot(db, NULL);
    assert_int_equal(acctdb_db_store(db, r + 1, r, &a, 1), ACCTDB_ERR_COMPRESSED);
    /* Decompressed with its data (zeros here) and new lamports. */
    memset(d, 0, 4096);
    assert_int_equal(acctdb_db_decompress(db, r + 1, r, &v[g].key, d, v[g].data_len, 0),
                     ACCTDB_ERR_INVALID);
    assert_int_equal(acctdb_db_decompress(db, r + 1, r, &v[g].key, d, v[g].data_len, 777), 0);
    assert_int_equal(acctdb_db_load(db, r + 1, &v[g].key, &a, d, 4096, NULL), 0);
    assert_int_equal(a.lamports, 777);
    assert_int_equal(a.data_len, v[g].data_len);
    /* Bad parameters. */
    assert_int_equal(acctdb_db_rent_sweep(db, r + 2, r, "-1", 1, &rep), ACCTDB_ERR_INVALID);
    assert_int_equal(acctdb_db_rent_sweep(db, r + 2, r, "1e-6", 17, &rep), ACCTDB_ERR_INVALID);
    acctdb_db_close(db);
    free(d);
    free(v);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- the trie of compressed accounts ---------------------------------------- */

/* The leaf value docs/STATE.md defines, computed here from its bytes. */
static void
leaf_value(acctdb_account_t const *a, uint8_t const *data, uint8_t out[32]) {
    uint8_t m[8 + 1 + 32 + 8 + 32];
    for (int i = 0; i < 8; i++) {
        m[i] = (uint8_t)(a->lamports >> (8 * i));
        m[41 + i] = (uint8_t)(a->data_len >> (8 * i));
    }
    m[8] = a->executable;
    memcpy(m + 9, a->owner.b, 32);
    acctdb_blake3(data, (size_t)a->data_len, m + 49, 32);
    acctdb_blake3(m, sizeof m, out, 32);
}

/* The trie holds exactly the accounts of mask: every account's proof
 * verifies against the database's root with the right statement and value,
 * and a trie built here from the same (key, value) set has the same root. */
static void
check_trie(acctdb_db_t *db, uint64_t seed, uint64_t mask, acctdb_trie_info_t *info_out) {
    acctdb_trie_info_t ti;
    assert_int_equal(acctdb_db_trie_info(db, &ti), 0);
    adb_trie_t *t;
    assert_int_equal(adb_trie_open(&t, 0), 0);
    acctdb_trie_proof_t *p = malloc(sizeof *p);
    uint8_t             *d = malloc(4096);
    for (size_t i = 0; i < N_ACCT; i++) {
        acctdb_account_t a;
        acct_make(i, seed, &a, d);
        uint8_t want[32], got[32];
        leaf_value(&a, d, want);
        bool member = (mask >> i) & 1;
        if (member) assert_int_equal(adb_trie_insert(t, a.pubkey.b, want), 0);
        assert_int_equal(acctdb_db_prove(db, &a.pubkey, p), 0);
        assert_memory_equal(p->trie.root.b, ti.root.b, 32);
        bool m;
        assert_int_equal(acctdb_trie_verify(ti.root.b, a.pubkey.b, p->proof, p->len, &m, got), 0);
        if (m != member) fail_msg("account %zu: member %d, want %d", i, m, member);
        if (member) assert_memory_equal(got, want, 32);
        /* The JSON form verifies against the trusted root too. */
        char  *json;
        size_t len;
        assert_int_equal(acctdb_trie_proof_json(p, &json, &len), 0);
        acctdb_trie_statement_t stm;
        char                    msg[256];
        int rc = acctdb_trie_verify_json(ti.root.b, json, len, &stm, msg, sizeof msg);
        if (rc) fail_msg("account %zu: the JSON proof: %s", i, msg);
        assert_int_equal(stm.is_member, member);
        acctdb_free(json);
    }
    uint8_t root[32];
    adb_trie_root(t, root);
    assert_memory_equal(root, ti.root.b, 32);
    assert_int_equal(ti.keys, adb_trie_cnt(t));
    adb_trie_close(t);
    free(p);
    free(d);
    if (info_out) *info_out = ti;
}

static int
count_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)a;
    (void)slot;
    ++*(size_t *)ctx;
    return 0;
}

/* A scan by each account's owner (all distinct) returns it unless it is
 * compressed: compressed accounts have left the index as far as scans go. */
static void
check_scans(acctdb_db_t *db, uint64_t slot, uint64_t seed, uint64_t mask) {
    uint8_t *d = malloc(4096);
    for (size_t i = 0; i < N_ACCT; i++) {
        acctdb_account_t a;
        acct_make(i, seed, &a, d);
        acctdb_scan_filter_t f = {.owner = a.owner};
        size_t               n = 0;
        assert_int_equal(acctdb_db_scan(db, slot, &f, NULL, 0, count_cb, &n, NULL, NULL), 0);
        if (n != !((mask >> i) & 1)) fail_msg("account %zu: the scan returned %zu", i, n);
    }
    free(d);
}

static void
test_trie(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    cfg.owner_index = true; /* scans skip compressed accounts */
    acctdb_db_t       *db = adb_test_create_pair(dir, &cfg);
    uint64_t           r0 = acctdb_db_root_slot(db, NULL), seed = 23;
    uint8_t           *buf = malloc(N_ACCT * 4096), *d = malloc(4096);
    uint64_t const     m1 = 0x00ff00ff0f0f3c3cull, m2 = 0x0f00000000000000ull;
    acctdb_trie_info_t ti, ti2;
    assert_int_equal(acctdb_db_bank_begin(db, r0 + 1, r0, 0), 0); /* sysvars: a snapshot verifies */
    store_all(db, r0 + 1, r0, seed, buf);
    freeze_root(db, r0 + 1, NULL);
    step_all(db);
    check_trie(db, seed, 0, &ti);
    assert_int_equal(ti.keys, 0);
    /* Compressed at a rooted, flushed bank: in the trie, added at its slot.
     * Before the flush the trie is the durable root's: still empty. */
    acctdb_bank_info_t bi;
    assert_int_equal(acctdb_db_bank_begin(db, r0 + 2, r0 + 1, 0), 0);
    compress_mask(db, r0 + 2, r0 + 1, seed, m1);
    freeze_root(db, r0 + 2, &bi); /* its blockhash: older than the next insertion */
    check_trie(db, seed, 0, NULL);
    step_all(db);
    check_trie(db, seed, m1, &ti);
    check_scans(db, r0 + 2, seed, m1);
    assert_int_equal(ti.slot, r0 + 2);
    assert_int_equal(ti.last_insert_slot, r0 + 2);

    /* The creation check. */
    acctdb_account_t a;
    acct_make(2, seed, &a, d); /* compressed */
    assert_int_equal(acctdb_db_check_create(db, r0 + 2, &a.pubkey, NULL), ACCTDB_ERR_COMPRESSED);
    acct_make(0, seed, &a, d); /* live */
    assert_int_equal(acctdb_db_check_create(db, r0 + 2, &a.pubkey, NULL), 0);
    acctdb_pubkey_t k;
    memset(k.b, 0xA5, 32);
    assert_int_equal(acctdb_db_check_create(db, r0 + 2, &k, NULL), ACCTDB_ERR_INVALID);
    acctdb_trie_proof_t *px = malloc(sizeof *px), *pm = malloc(sizeof *pm);
    assert_int_equal(acctdb_db_prove(db, &k, px), 0);
    assert_false(px->is_member);
    acctdb_create_cred_t c = {.proof = px->proof, .proof_len = px->len};
    assert_int_equal(acctdb_db_check_create(db, r0 + 2, &k, &c), 0);
    /* A member's proof does not let another key be created. */
    acct_make(2, seed, &a, d);
    assert_int_equal(acctdb_db_prove(db, &a.pubkey, pm), 0);
    assert_true(pm->is_member);
    acctdb_create_cred_t cm = {.proof = pm->proof, .proof_len = pm->len};
    assert_int_equal(acctdb_db_check_create(db, r0 + 2, &k, &cm), ACCTDB_ERR_MISMATCH);
    cm.proof_len = 3; /* truncated */
    assert_int_equal(acctdb_db_check_create(db, r0 + 2, &k, &cm), ACCTDB_ERR_CORRUPT);

    /* More compressed: the root moves, the old exclusion proof is stale. */
    assert_int_equal(acctdb_db_bank_begin(db, r0 + 3, r0 + 2, 0), 0);
    compress_mask(db, r0 + 3, r0 + 2, seed, m2);
    freeze_root(db, r0 + 3, NULL);
    step_all(db);
    check_trie(db, seed, m1 | m2, &ti2);
    assert_memory_not_equal(ti.root.b, ti2.root.b, 32);
    assert_int_equal(ti2.last_insert_slot, r0 + 3);
    assert_int_equal(acctdb_db_check_create(db, r0 + 3, &k, &c), ACCTDB_ERR_MISMATCH);
    assert_int_equal(acctdb_db_prove(db, &k, px), 0);
    assert_int_equal(acctdb_db_check_create(db, r0 + 3, &k, &c), 0);

    /* A derived address: from a blockhash newer than the last insertion. */
    acctdb_pubkey_t seedk, addr;
    memset(seedk.b, 0x5E, 32);
    uint8_t m[64];
    memcpy(m, bi.meta.blockhash.b, 32);
    memcpy(m + 32, seedk.b, 32);
    acctdb_blake3(m, 64, addr.b, 32);
    acctdb_create_cred_t cb = {.blockhash = &bi.meta.blockhash, .seed = &seedk};
    assert_int_equal(acctdb_db_check_create(db, r0 + 3, &addr, &cb), ACCTDB_ERR_MISMATCH);
    assert_int_equal(acctdb_db_bank_begin(db, r0 + 4, r0 + 3, 0), 0);
    freeze_root(db, r0 + 4, &bi); /* newer: allowed */
    memcpy(m, bi.meta.blockhash.b, 32);
    acctdb_blake3(m, 64, addr.b, 32);
    cb.blockhash = &bi.meta.blockhash;
    assert_int_equal(acctdb_db_check_create(db, r0 + 4, &addr, &cb), 0);
    assert_int_equal(acctdb_db_check_create(db, r0 + 4, &k, &cb), ACCTDB_ERR_MISMATCH);
    acctdb_hash_t unknown;
    memset(unknown.b, 0x77, 32);
    memcpy(m, unknown.b, 32);
    acctdb_blake3(m, 64, addr.b, 32);
    cb.blockhash = &unknown;
    assert_int_equal(acctdb_db_check_create(db, r0 + 4, &addr, &cb), ACCTDB_ERR_NOT_FOUND);

    /* Decompressed: out of the trie once flushed. */
    assert_int_equal(acctdb_db_bank_begin(db, r0 + 5, r0 + 4, 0), 0);
    decompress_mask(db, r0 + 5, r0 + 4, seed, m2);
    freeze_root(db, r0 + 5, NULL);
    step_all(db);
    check_trie(db, seed, m1, &ti);
    assert_int_equal(ti.last_insert_slot, r0 + 3); /* a removal is no insertion */

    /* A reopen (log replay) and a snapshot with its sidecar keep it. */
    acctdb_db_close(db);
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
    check_trie(db, seed, m1, &ti2);
    assert_memory_equal(&ti, &ti2, sizeof ti);
    char arch[4096], path[4096], msg[512], dir2[4200];
    snprintf(arch, sizeof arch, "%s/arch", dir);
    snprintf(dir2, sizeof dir2, "%s/copy", dir);
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir -p '%s'", arch), 0);
    int src_rc = acctdb_db_snapshot(db, arch, false, path);
    if (src_rc) fail_msg("snapshot: %s", acctdb_db_errmsg(db));
    acctdb_db_t       *db2;
    acctdb_db_source_t src = {.full_path = path};
    int                rc = acctdb_db_create(&db2, dir2, &src, &cfg, msg, sizeof msg);
    if (rc) fail_msg("create from %s: %s", path, msg);
    check_trie(db2, seed, m1, &ti2);
    assert_memory_equal(&ti, &ti2, sizeof ti);
    acctdb_db_close(db2);
    acctdb_db_close(db);
    free(px);
    free(pm);
    free(buf);
    free(d);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- a snapshot killed around its sidecar ------------------------------------- */

static char const *g_kill_at;

static void
kill_hook(void *ctx, char const *point, uint64_t arg) {
    (void)ctx;
    (void)arg;
    if (g_kill_at && !strcmp(point, g_kill_at)) raise(SIGKILL);
}

/* Forks a child that dies (SIGKILL, by kill_hook) when it reaches point:
 * 0 in the child, its pid in the parent. */
static pid_t
fork_to_die_at(char const *point) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        g_kill_at = point;
        acctdb_sim_set_point_hook(kill_hook, NULL);
    }
    return pid;
}

/* The child pid died at point, killed there. */
static void
expect_killed(pid_t pid, char const *point) {
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
        fail_msg("%s: the child was not killed there (status %d)", point, st);
}

/* Child: a snapshot of dir into arch (killed on the way). */
static void
snapshot_child(char const *dir, char const *arch) {
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = NULL;
    if (acctdb_db_open(&db, dir, &cfg, NULL, 0)) _exit(3);
    char path[4096];
    acctdb_db_snapshot(db, arch, false, path);
    _exit(4); /* the point was never reached */
}

/* The sidecar is durable before the archive has its name: a kill between
 * the two leaves no archive (an orphan sidecar only), a kill after the
 * rename leaves an archive whose sidecar brings the compression back. */
static void
test_snapshot_kill(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = adb_test_create_pair(dir, &cfg);
    uint64_t           r0 = acctdb_db_root_slot(db, NULL), seed = 31;
    uint64_t const     mask = 0x5a5a00000000ff0full;
    uint8_t           *buf = malloc(N_ACCT * 4096);
    assert_int_equal(acctdb_db_bank_begin(db, r0 + 1, r0, 0), 0);
    store_all(db, r0 + 1, r0, seed, buf);
    freeze_root(db, r0 + 1, NULL);
    assert_int_equal(acctdb_db_bank_begin(db, r0 + 2, r0 + 1, 0), 0);
    compress_mask(db, r0 + 2, r0 + 1, seed, mask);
    freeze_root(db, r0 + 2, NULL);
    step_all(db);
    acctdb_trie_info_t ti, ti2;
    check_trie(db, seed, mask, &ti);
    acctdb_db_close(db);
    char const *const points[] = {"snapshot.companion", "snapshot.renamed"};
    for (int k = 0; k < 2; k++) {
        char arch[4200], full[4096], inc[4096], db2[4300];
        snprintf(arch, sizeof arch, "%s/arch%d", dir, k);
        snprintf(db2, sizeof db2, "%s/db%d", dir, k);
        assert_int_equal(adb_test_sh(NULL, 0, "mkdir -p '%s'", arch), 0);
        pid_t pid = fork_to_die_at(points[k]);
        if (pid == 0) snapshot_child(dir, arch);
        expect_killed(pid, points[k]);
        int rc = acctdb_snapshot_find(arch, full, sizeof full, inc, sizeof inc, NULL, 0);
        if (k == 0) {
            assert_int_equal(rc, ACCTDB_ERR_NOT_FOUND); /* no archive, only the sidecar */
            assert_int_equal(adb_test_sh(NULL, 0, "ls '%s'/*.acctdb", arch), 0);
            continue;
        }
        assert_int_equal(rc, 0);
        char               msg[512];
        acctdb_db_source_t src = {.full_path = full};
        rc = acctdb_db_create(&db, db2, &src, &cfg, msg, sizeof msg);
        if (rc) fail_msg("create from %s: %s", full, msg);
        check_all(db, acctdb_db_root_slot(db, NULL), seed, mask);
        check_trie(db, seed, mask, &ti2);
        assert_memory_equal(ti.root.b, ti2.root.b, 32);
        acctdb_db_close(db);
        /* A creation killed just after its first commit record, before the
         * sidecar's import: the next open imports the staged copy. */
        char db3[4400], pend[4500];
        snprintf(db3, sizeof db3, "%s/db-killed", dir);
        snprintf(pend, sizeof pend, "%s/sidecar.pending", db3);
        pid = fork_to_die_at("create.committed");
        if (pid == 0) {
            acctdb_db_t *dk = NULL;
            acctdb_db_create(&dk, db3, &src, &cfg, NULL, 0);
            _exit(4);
        }
        expect_killed(pid, "create.committed");
        assert_int_equal(access(pend, F_OK), 0);
        rc = acctdb_db_open(&db, db3, &cfg, msg, sizeof msg);
        if (rc) fail_msg("open after the killed creation: %s", msg);
        assert_int_not_equal(access(pend, F_OK), 0);
        check_all(db, acctdb_db_root_slot(db, NULL), seed, mask);
        check_trie(db, seed, mask, &ti2);
        assert_memory_equal(&ti, &ti2, sizeof ti);
        acctdb_db_close(db);
    }
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- kills on the write paths of acctdb's own state ---------------------------- */

/* Child: compresses mask at a bank on the root, roots it and flushes, with
 * an image at every flush when images (killed on the way). */
static void
xs_kill_child(char const *dir, uint64_t seed, uint64_t mask, bool images) {
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db = NULL;
    if (acctdb_db_open(&db, dir, &cfg, NULL, 0)) _exit(3);
    if (images) db->db->xs->compact_min_sz = 0;
    uint64_t r = acctdb_db_root_slot(db, NULL);
    compress_mask(db, r + 1, r, seed, mask);
    acctdb_bank_meta_t m = {0};
    if (acctdb_db_freeze(db, r + 1, &m, NULL) || acctdb_db_root(db, r + 1)) _exit(5);
    acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH);
    _exit(4); /* the point was never reached */
}

/* Killed with the flushed banks' deltas durable in the log but no commit
 * naming them: the reopen is at the previous root, without them (the log's
 * unnamed tail is cut), and later flushes append and replay normally.
 * Killed with a new image durable but no commit naming it: the commit
 * before it (which made the compression durable) is what opens, with it,
 * and the unnamed image is swept. */
static void
test_xstate_kill(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    uint64_t           seed = 37;
    base_compressed(dir, seed, 0x3);
    acctdb_db_t *db;
    uint64_t     mask = 0x3;
    struct {
        char const *point;
        bool        images, durable;
    } const cases[] = {{"xstate.logged", false, false},
                       {"xstate.logged", false, false},
                       {"xstate.imaged", true, true},
                       {"xstate.logged", true, false}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        uint64_t more = 0x30ull << (4 * k);
        assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
        uint64_t           root = acctdb_db_root_slot(db, NULL), gen = db->db->xs->gen;
        acctdb_trie_info_t before;
        assert_int_equal(acctdb_db_trie_info(db, &before), 0);
        acctdb_db_close(db);
        pid_t pid = fork_to_die_at(cases[k].point);
        if (pid == 0) xs_kill_child(dir, seed, more, cases[k].images);
        expect_killed(pid, cases[k].point);
        char msg[512];
        int  rc = acctdb_db_open(&db, dir, &cfg, msg, sizeof msg);
        if (rc) fail_msg("reopen after a kill at %s: %s", cases[k].point, msg);
        if (cases[k].durable) {
            mask |= more;
            assert_int_equal(acctdb_db_root_slot(db, NULL), root + 1);
            char img[4200];
            snprintf(img, sizeof img, "%s/xstate-%llu.img", dir, (unsigned long long)gen + 1);
            assert_int_not_equal(access(img, F_OK), 0); /* unnamed: swept */
        } else {
            assert_int_equal(acctdb_db_root_slot(db, NULL), root);
            acctdb_trie_info_t after;
            assert_int_equal(acctdb_db_trie_info(db, &after), 0);
            assert_memory_equal(&before, &after, sizeof before);
        }
        check_all(db, acctdb_db_root_slot(db, NULL), seed, mask);
        check_trie(db, seed, mask, NULL);
        /* The next flush appends to (or starts) the log as usual. */
        uint64_t r = acctdb_db_root_slot(db, NULL), again = 0x1ull << (48 + k);
        compress_mask(db, r + 1, r, seed, again);
        freeze_root(db, r + 1, NULL);
        step_all(db);
        mask |= again;
        acctdb_db_close(db);
        assert_int_equal(acctdb_db_open(&db, dir, &cfg, NULL, 0), 0);
        check_all(db, acctdb_db_root_slot(db, NULL), seed, mask);
        check_trie(db, seed, mask, NULL);
        acctdb_db_close(db);
    }
    adb_test_rmtree(dir);
    free(dir);
}

/* A bank's side-state delta is charged to the write cache budget like its
 * accounts: Chilly touches (which change nothing but the delta) raise the
 * charge by at least the delta's table, and once the bank is flushed and
 * freed the charge is back where it was. */
static void
test_delta_charge(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    cfg.chilly_cache_sz = 1 << 20;
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    uint64_t     r0 = acctdb_db_root_slot(db, NULL), seed = 41;
    uint8_t     *buf = malloc(N_ACCT * 4096);
    store_all(db, r0 + 1, r0, seed, buf);
    freeze_root(db, r0 + 1, NULL);
    step_all(db);
    assert_int_equal(acctdb_db_store(db, r0 + 2, r0 + 1, NULL, 0), 0);
    acctdb_db_stats_t s0, s1, s2;
    assert_int_equal(acctdb_db_stats(db, &s0), 0);
    acctdb_pubkey_t keys[N_ACCT];
    uint8_t         cold[N_ACCT];
    for (size_t i = 0; i < N_ACCT; i++) {
        acctdb_account_t a;
        acct_make(i, seed, &a, buf);
        keys[i] = a.pubkey;
    }
    uint64_t cb;
    assert_int_equal(acctdb_db_touch(db, r0 + 2, keys, N_ACCT, false, cold, &cb), 0);
    assert_int_equal(acctdb_db_stats(db, &s1), 0);
    /* 64 records: a table of 128 entries. */
    uint64_t want = 128 * sizeof(adb_xent_t);
    if (s1.write_cache_sz < s0.write_cache_sz + want)
        fail_msg("touching %d accounts charged %llu bytes, less than the delta's %llu", N_ACCT,
                 (unsigned long long)(s1.write_cache_sz - s0.write_cache_sz),
                 (unsigned long long)want);
    freeze_root(db, r0 + 2, NULL);
    step_all(db);
    step_all(db);
    assert_int_equal(acctdb_db_stats(db, &s2), 0);
    if (s2.write_cache_sz > s0.write_cache_sz)
        fail_msg("after the flush the write cache still holds %llu bytes (before: %llu)",
                 (unsigned long long)s2.write_cache_sz, (unsigned long long)s0.write_cache_sz);
    acctdb_db_close(db);
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_forks),
    cmocka_unit_test(test_durable),       cmocka_unit_test(test_damaged),
    cmocka_unit_test(test_rent),          cmocka_unit_test(test_trie),
    cmocka_unit_test(test_snapshot_kill), cmocka_unit_test(test_xstate_kill),
    cmocka_unit_test(test_delta_charge),
};

ADB_TEST_GROUP(avocado, tests);
