/* Tests for SHA-256 (libcrypto) and the merkle-era accounts hash: leaf
 * vector, tree shape, and a cross-check of random trees against Python's
 * hashlib. */
#include "../test.h"

#include "hash/merkle.h"
#include "hash/sha256.h"

#include <stdio.h>
#include <stdlib.h>

static void
test_sha256_vectors(void **state) {
    (void)state;
    uint8_t out[32];
    char    hx[65];
    assert_int_equal(acctdb_sha256("abc", 3, out), 0);
    adb_test_hex(hx, out, 32);
    assert_string_equal(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(acctdb_sha256("", 0, out), 0);
    adb_test_hex(hx, out, 32);
    assert_string_equal(hx, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* Parts give the same digest as the concatenation. */
    adb_iov_t parts[3] = {{"a", 1}, {"", 0}, {"bc", 2}};
    uint8_t   p[32];
    assert_int_equal(adb_sha256_parts(p, parts, 3), 0);
    assert_int_equal(acctdb_sha256("abc", 3, out), 0);
    assert_memory_equal(p, out, 32);
    assert_int_equal(acctdb_sha256(NULL, 1, out), ACCTDB_ERR_INVALID);
}

static void
test_merkle_leaf_vector(void **state) {
    (void)state;
    /* Sig's "matches agave" vector: lamports 10, rent_epoch 20, data
     * 01 02 03, everything else zero. FORMAT.md section 6 gives its ends
     * (aa4b5749...59e81c); the whole value is checked against b3sum. */
    uint8_t          data[3] = {1, 2, 3};
    acctdb_account_t a = {.lamports = 10, .rent_epoch = 20, .data = data, .data_len = 3};
    uint8_t          leaf[32];
    char             hx[65];
    acctdb_merkle_leaf(&a, leaf);
    adb_test_hex(hx, leaf, 32);
    assert_memory_equal(hx, "aa4b5749", 8);
    assert_string_equal(hx + 58, "59e81c");

    char *dir = adb_test_mkdtemp();
    char  path[4200], out[256];
    snprintf(path, sizeof path, "%s/msg", dir);
    FILE   *f = fopen(path, "wb");
    uint8_t msg[16 + 3 + 1 + 64] = {0};
    adb_store_u64(msg, 10);
    adb_store_u64(msg + 8, 20);
    memcpy(msg + 16, data, 3);
    fwrite(msg, 1, sizeof msg, f);
    fclose(f);
    if (adb_test_sh(out, sizeof out, "b3sum --no-names '%s'", path) == 0) {
        out[64] = 0;
        assert_string_equal(out, hx);
    } else {
        fail_msg("b3sum is not installed (scripts/deps.sh installs it)");
    }
    adb_test_rmtree(dir);
    free(dir);

    /* Zero lamports: 32 zero bytes, whatever the other fields hold. */
    a.lamports = 0;
    acctdb_merkle_leaf(&a, leaf);
    uint8_t zero[32] = {0};
    assert_memory_equal(leaf, zero, 32);
}

/* Straightforward recursive reference. */
static void
ref_root(uint8_t const *leaves, size_t n, uint8_t out[32]) {
    size_t   m = (n + 15) / 16;
    uint8_t *lvl = malloc(m * 32);
    for (size_t i = 0; i < m; i++) {
        size_t k = n - i * 16 < 16 ? n - i * 16 : 16;
        adb_sha256(leaves + i * 16 * 32, k * 32, lvl + i * 32);
    }
    if (m == 1)
        memcpy(out, lvl, 32);
    else
        ref_root(lvl, m, out);
    free(lvl);
}

static void
test_merkle_shape(void **state) {
    (void)state;
    uint8_t leaves[17 * 32], out[32], want[32], tmp[64];
    for (size_t i = 0; i < sizeof leaves; i++)
        leaves[i] = (uint8_t)(i * 7 + 1);
    /* Empty set: SHA-256 of nothing. */
    assert_int_equal(acctdb_merkle_root(NULL, 0, out), 0);
    adb_sha256("", 0, want);
    assert_memory_equal(out, want, 32);
    /* One leaf is still hashed. */
    assert_int_equal(acctdb_merkle_root(leaves, 1, out), 0);
    adb_sha256(leaves, 32, want);
    assert_memory_equal(out, want, 32);
    /* 16 leaves: one node. */
    assert_int_equal(acctdb_merkle_root(leaves, 16, out), 0);
    adb_sha256(leaves, 16 * 32, want);
    assert_memory_equal(out, want, 32);
    /* 17 leaves: two nodes then the root. */
    assert_int_equal(acctdb_merkle_root(leaves, 17, out), 0);
    adb_sha256(leaves, 16 * 32, tmp);
    adb_sha256(leaves + 16 * 32, 32, tmp + 32);
    adb_sha256(tmp, 64, want);
    assert_memory_equal(out, want, 32);
}

static void
test_merkle_random_vs_python(void **state) {
    (void)state;
    uint64_t s = adb_test_seed() ^ 0x3e;
    char    *dir = adb_test_mkdtemp();
    size_t   sizes[] = {2, 15, 16, 17, 255, 256, 257, 4096, 4097, 70000};
    for (size_t t = 0; t < ADB_ARRAY_CNT(sizes); t++) {
        size_t   n = sizes[t];
        uint8_t *leaves = malloc(n * 32);
        for (size_t i = 0; i < n * 32; i++)
            leaves[i] = (uint8_t)adb_test_rand(&s);
        uint8_t out[32], want[32];
        assert_int_equal(acctdb_merkle_root(leaves, n, out), 0);
        ref_root(leaves, n, want);
        assert_memory_equal(out, want, 32);
        if (t < 6) { /* independent: hashlib */
            char path[4200], py[256], hx[65];
            snprintf(path, sizeof path, "%s/leaves", dir);
            FILE *f = fopen(path, "wb");
            fwrite(leaves, 32, n, f);
            fclose(f);
            int rc = adb_test_sh(
                py, sizeof py,
                "python3 -c \"import hashlib,sys\n"
                "d=open(sys.argv[1],'rb').read(); l=[d[i:i+32] for i in range(0,len(d),32)]\n"
                "while True:\n"
                "  l=[hashlib.sha256(b''.join(l[i:i+16])).digest() for i in range(0,len(l),16)]\n"
                "  if len(l)==1: break\n"
                "print(l[0].hex())\" '%s'",
                path);
            assert_int_equal(rc, 0);
            adb_test_hex(hx, out, 32);
            py[64] = 0;
            assert_string_equal(py, hx);
        }
        free(leaves);
    }
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_sha256_vectors),
    cmocka_unit_test(test_merkle_leaf_vector),
    cmocka_unit_test(test_merkle_shape),
    cmocka_unit_test(test_merkle_random_vs_python),
};
ADB_TEST_GROUP(merkle, tests);
