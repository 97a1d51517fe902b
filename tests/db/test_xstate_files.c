/* tests/db/test_xstate_files.c - the parsers of acctdb's own state files
 * (src/db/db_xstate.h: adb_xs_image_decode, adb_xs_log_decode,
 * adb_xs_sidecar_decode) accept what the writers write: a database with
 * Chilly counters, LSR creation slots, compressed and burned accounts
 * writes a log, an image, a second log and two snapshots' sidecars (one
 * with live compressed accounts, whose hashes the parser's callback fills
 * in from the database as the importer does, and one with burned ones
 * only); each decodes, with its entries' count.
 *
 * With ACCTDB_XSTATE_CORPUS=DIR (e.g. fuzz/corpus) the files also become
 * the fuzz seeds: DIR/xstate_image, DIR/xstate_log and DIR/xstate_sidecar
 * get them, a truncated and a flipped copy of each, and (sidecar) "BODY"
 * and each sidecar's decompressed body (fuzz/fuzz_xstate_*.c).  Run:
 *   ACCTDB_XSTATE_CORPUS=fuzz/corpus ACCTDB_TEST_FILTER=xstate_files \
 *       build/release/acctdb-tests */
#include "../test.h"

#include "api/api_private.h"
#include "db/db_private.h"
#include "state/trie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define N_LIVE 16 /* ordinary accounts: some compressed, some touched */
#define N_POOR 6  /* accounts of 100 lamports: burned by the sweep */

static void
acct_make(size_t i, acctdb_account_t *a, uint8_t *data) {
    adb_test_rng_t r = {0x5EED0000u + i};
    memset(a, 0, sizeof *a);
    adb_test_rng_fill(&r, a->pubkey.b, 32);
    adb_test_rng_fill(&r, a->owner.b, 32);
    a->owner.b[31] |= 1; /* not an exempt program id */
    a->rent_epoch = UINT64_MAX;
    if (i < N_LIVE) {
        a->lamports = 1000000 + adb_test_rng_below(&r, 1000000);
        a->data_len = 33 + adb_test_rng_below(&r, 500);
    } else {
        a->lamports = 100;
        a->data_len = 40;
    }
    adb_test_rng_fill(&r, data, (size_t)a->data_len);
    a->data = data;
}

static void
freeze_root(acctdb_db_t *db, uint64_t slot) {
    acctdb_bank_meta_t m = {0};
    m.blockhash.b[0] = (uint8_t)slot;
    assert_int_equal(acctdb_db_freeze(db, slot, &m, NULL), 0);
    assert_int_equal(acctdb_db_root(db, slot), 0);
    for (int s = 0; s < ACCTDB_SERVICE_CNT; s++)
        assert_true(acctdb_db_service_step(db, (acctdb_service_t)s) >= 0);
}

static void
compress_range(acctdb_db_t *db, uint64_t slot, size_t lo, size_t hi) {
    acctdb_pubkey_t keys[N_LIVE];
    int             rcs[N_LIVE];
    size_t          done = 0;
    uint8_t         d[600];
    for (size_t i = lo; i < hi; i++) {
        acctdb_account_t a;
        acct_make(i, &a, d);
        keys[i - lo] = a.pubkey;
    }
    assert_int_equal(acctdb_db_compress(db, slot, slot - 1, keys, hi - lo, rcs, &done), 0);
    assert_int_equal(done, hi - lo);
}

static void
decompress_range(acctdb_db_t *db, uint64_t slot, size_t lo, size_t hi) {
    uint8_t d[600];
    for (size_t i = lo; i < hi; i++) {
        acctdb_account_t a;
        acct_make(i, &a, d);
        assert_int_equal(
            acctdb_db_decompress(db, slot, slot - 1, &a.pubkey, d, (size_t)a.data_len, 0), 0);
    }
}

static void
touch_range(acctdb_db_t *db, uint64_t slot, size_t lo, size_t hi) {
    acctdb_pubkey_t keys[N_LIVE];
    uint8_t         d[600];
    for (size_t i = lo; i < hi; i++) {
        acctdb_account_t a;
        acct_make(i, &a, d);
        keys[i - lo] = a.pubkey;
    }
    assert_int_equal(acctdb_db_touch(db, slot, keys, hi - lo, false, NULL, NULL), 0);
}

/* Writes p[sz] to DIR/sub/name, and a truncated and a flipped copy (when
 * ACCTDB_XSTATE_CORPUS is set). */
static void
emit(char const *sub, char const *name, uint8_t const *p, size_t sz, bool variants) {
    char const *dir = getenv("ACCTDB_XSTATE_CORPUS");
    if (!dir || !*dir) return;
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir -p '%s/%s'", dir, sub), 0);
    for (int v = 0; v < (variants ? 3 : 1); v++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s/%s%s", dir, sub, name,
                 v == 0   ? ""
                 : v == 1 ? "-truncated"
                          : "-flipped");
        size_t n = v == 1 ? sz / 2 + 7 : sz;
        if (n > sz) n = sz;
        uint8_t *c = malloc(sz + 1);
        memcpy(c, p, sz);
        if (v == 2 && sz) c[sz / 2] ^= 0x20;
        FILE *f = fopen(path, "wb");
        if (!f) fail_msg("cannot write %s", path);
        assert_int_equal(fwrite(c, 1, n, f), n);
        fclose(f);
        free(c);
    }
}

/* Copies DIR/xstate-<gen>.<ext> out: decoded, and emitted. */
static void
take_image(char const *dir, uint64_t gen, char const *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/xstate-%llu.img", dir, (unsigned long long)gen);
    size_t           sz;
    uint8_t         *p = adb_test_read_file(path, &sz);
    adb_xs_img_hdr_t h;
    char             why[256];
    int              rc = adb_xs_image_decode(p, sz, gen, &h, NULL, NULL, why, sizeof why);
    if (rc) fail_msg("%s: %s", path, why);
    assert_true(h.cnt >= N_POOR);
    emit("xstate_image", name, p, sz, true);
    free(p);
}

typedef struct log_cnt {
    uint64_t recs, ents;
} log_cnt_t;

static int
log_rec(void *ctx, adb_xs_log_rec_t const *h) {
    ((log_cnt_t *)ctx)->recs++;
    return 0;
}

static int
log_ent(void *ctx, uint8_t const key[32], adb_xrec_t *r) {
    ((log_cnt_t *)ctx)->ents++;
    return 0;
}

static void
take_log(char const *dir, uint64_t gen, char const *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/xstate-%llu.log", dir, (unsigned long long)gen);
    size_t    sz;
    uint8_t  *p = adb_test_read_file(path, &sz);
    log_cnt_t c = {0};
    char      why[256];
    int       rc = adb_xs_log_decode(p, sz, log_rec, log_ent, &c, why, sizeof why);
    if (rc) fail_msg("%s: %s", path, why);
    assert_true(c.recs >= 2 && c.ents >= 1);
    emit("xstate_log", name, p, sz, true);
    /* Its first record alone is a region too. */
    uint64_t first = ADB_XS_LOG_HDR_SZ + (uint64_t)adb_load_u32(p + 4) * ADB_XS_ENT_SZ;
    char     n1[64];
    snprintf(n1, sizeof n1, "%s-first", name);
    emit("xstate_log", n1, p, (size_t)first, false);
    free(p);
}

/* Fills in a live compressed account's hash from the database (as the
 * importer does from the archive). */
typedef struct side_cnt {
    acctdb_db_t *db;
    uint64_t     slot, ents, live, burned;
} side_cnt_t;

static int
side_ent(void *ctx, uint8_t const key[32], adb_xrec_t *r) {
    side_cnt_t *c = ctx;
    c->ents++;
    if ((r->flags & ADB_XREC_COMPRESSED) && !(r->flags & ADB_XREC_BURNED)) {
        acctdb_account_t a;
        acctdb_pubkey_t  k;
        uint8_t          d[64];
        memcpy(k.b, key, 32);
        assert_int_equal(acctdb_db_load(c->db, c->slot, &k, &a, d, sizeof d, NULL),
                         ACCTDB_ERR_COMPRESSED);
        assert_int_equal(a.data_len, 32);
        memcpy(r->hash, d, 32); /* what the importer takes from the archive */
        memcpy(r->owner, a.owner.b, 32);
        r->lamports = a.lamports;
        r->executable = a.executable;
        c->live++;
    }
    if (r->flags & ADB_XREC_BURNED) c->burned++;
    return 0;
}

static void
take_sidecar(acctdb_db_t *db, char const *archive, char const *name, bool live) {
    char path[4200];
    snprintf(path, sizeof path, "%s.acctdb", archive);
    size_t            sz;
    uint8_t          *p = adb_test_read_file(path, &sz);
    adb_xs_side_hdr_t h;
    adb_trie_t       *t = NULL;
    char              why[256];
    uint64_t          slot = adb_load_u64(p + 16);
    side_cnt_t        c = {.db = db, .slot = slot};
    int rc = adb_xs_sidecar_decode(p, sz, slot, p + 24, 1ull << 30, &h, side_ent, &c, &t, why,
                                   sizeof why);
    if (rc) fail_msg("%s: %s", path, why);
    assert_true(c.ents == h.cnt && c.burned == N_POOR);
    assert_true(live ? c.live > 0 : c.live == 0);
    assert_non_null(t);
    adb_trie_close(t);
    /* Without the archive's hashes its live compressed accounts make
     * another root. */
    rc = adb_xs_sidecar_decode(p, sz, slot, p + 24, 1ull << 30, &h, NULL, NULL, NULL, why,
                               sizeof why);
    assert_int_equal(rc, live ? ACCTDB_ERR_CORRUPT : 0);
    emit("xstate_sidecar", name, p, sz, true);
    /* Its body, for the fuzz target's "BODY" input. */
    uint64_t bsz = adb_load_u64(p + 56);
    uint8_t *b = malloc(4 + (size_t)bsz);
    memcpy(b, "BODY", 4);
    size_t got =
        ZSTD_decompress(b + 4, (size_t)bsz, p + ADB_XS_SIDE_HDR_SZ, sz - ADB_XS_SIDE_HDR_SZ - 32);
    assert_int_equal(got, bsz);
    char n1[64];
    snprintf(n1, sizeof n1, "%s-body", name);
    emit("xstate_sidecar", n1, b, 4 + (size_t)bsz, false);
    free(b);
    free(p);
}

static void
test_files(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.avocado = true;
    cfg.lsr = true;
    cfg.chilly_cache_sz = 1 << 20;
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    uint64_t     r = acctdb_db_root_slot(db, NULL);
    uint8_t     *buf = malloc((N_LIVE + N_POOR) * 600);
    /* New accounts (creation slots). */
    acctdb_account_t a[N_LIVE + N_POOR];
    for (size_t i = 0; i < N_LIVE + N_POOR; i++)
        acct_make(i, &a[i], buf + i * 600);
    assert_int_equal(acctdb_db_bank_begin(db, r + 1, r, 0), 0);
    assert_int_equal(acctdb_db_store(db, r + 1, r, a, N_LIVE + N_POOR), 0);
    freeze_root(db, ++r);
    /* Compressed, and loads (counters). */
    assert_int_equal(acctdb_db_bank_begin(db, r + 1, r, 0), 0);
    compress_range(db, r + 1, 0, 6);
    touch_range(db, r + 1, 8, 12);
    freeze_root(db, ++r);
    /* The poor ones burned. */
    acctdb_rent_report_t rep;
    assert_int_equal(acctdb_db_bank_begin(db, r + 3, r, 0), 0);
    assert_int_equal(acctdb_db_rent_sweep(db, r + 3, r, "1", 0, &rep), 0);
    assert_int_equal(rep.swept, N_POOR);
    r += 3;
    freeze_root(db, r);
    assert_int_equal(db->db->xs->gen, 0);
    take_log(dir, 0, "log-0");
    /* An image at the next flush. */
    db->db->xs->compact_min_sz = 0;
    assert_int_equal(acctdb_db_bank_begin(db, r + 1, r, 0), 0);
    compress_range(db, r + 1, 6, 8);
    touch_range(db, r + 1, 12, 14);
    freeze_root(db, ++r);
    uint64_t g = db->db->xs->gen;
    assert_true(g >= 1);
    take_image(dir, g, "img");
    /* A log after it. */
    db->db->xs->compact_min_sz = 1ull << 30;
    assert_int_equal(acctdb_db_bank_begin(db, r + 1, r, 0), 0);
    decompress_range(db, r + 1, 0, 2);
    touch_range(db, r + 1, 0, 2);
    freeze_root(db, ++r);
    assert_int_equal(acctdb_db_bank_begin(db, r + 1, r, 0), 0);
    touch_range(db, r + 1, 14, 16);
    freeze_root(db, ++r);
    assert_int_equal(db->db->xs->gen, g);
    take_log(dir, g, "log-1");
    /* The sidecars. */
    char arch[4096], path[4096];
    snprintf(arch, sizeof arch, "%s/arch", dir);
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir -p '%s'", arch), 0);
    if (acctdb_db_snapshot(db, arch, false, path)) fail_msg("snapshot: %s", acctdb_db_errmsg(db));
    take_sidecar(db, path, "side-live", true);
    assert_int_equal(acctdb_db_bank_begin(db, r + 1, r, 0), 0);
    decompress_range(db, r + 1, 2, 8);
    freeze_root(db, ++r);
    if (acctdb_db_snapshot(db, arch, false, path)) fail_msg("snapshot: %s", acctdb_db_errmsg(db));
    take_sidecar(db, path, "side-burned", false);
    acctdb_db_close(db);
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {cmocka_unit_test(test_files)};

ADB_TEST_GROUP(xstate_files, tests);
