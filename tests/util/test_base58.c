/* Tests for the base58 codec: published vectors, a naive reference
 * implementation on random inputs, and every rejection path. */
#include "../test.h"

#include "util/base58.h"

#include <stdio.h>
#include <stdlib.h>

static char const ALPHA[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Naive reference: repeated long division of the whole byte string. */
static void
ref_encode(uint8_t const *in, size_t n, char *out) {
    uint8_t *num = malloc(n + 1);
    char    *rev = malloc(n * 2 + 2);
    memcpy(num, in, n);
    size_t zeros = 0, len = 0;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    size_t start = zeros;
    while (start < n) {
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = rem * 256 + num[i];
            num[i] = (uint8_t)(cur / 58);
            rem = cur % 58;
        }
        rev[len++] = ALPHA[rem];
        while (start < n && num[start] == 0)
            start++;
    }
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++)
        out[o++] = '1';
    while (len)
        out[o++] = rev[--len];
    out[o] = 0;
    free(num);
    free(rev);
}

static void
test_vectors(void **state) {
    (void)state;
    struct {
        char const *hex, *b58;
    } v[] = {
        {"", ""},
        {"61", "2g"},
        {"626262", "a3gV"},
        {"636363", "aPEr"},
        {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
        {"00eb15231dfceb60925886b67d065299925915aeb172c06647",
         "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
        {"516b6fcd0f", "ABnLTmg"},
        {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
        {"572e4794", "3EFU7m"},
        {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
        {"10c8511e", "Rt5zm"},
        {"00000000000000000000", "1111111111"},
        {"0000000000000000000000000000000000000000000000000000000000000000",
         "11111111111111111111111111111111"},
        {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
         "JEKNVnkbo3jma5nREBBJCDoXFVeKkD56V3xKrvRmWxFG"},
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(v); i++) {
        uint8_t bin[64], back[64];
        int     n = adb_test_unhex(bin, sizeof bin, v[i].hex);
        char    txt[128];
        size_t  len, sz;
        assert_int_equal(adb_base58_encode(bin, (size_t)n, txt, sizeof txt, &len), 0);
        assert_string_equal(txt, v[i].b58);
        assert_int_equal(len, strlen(v[i].b58));
        assert_int_equal(adb_base58_decode(v[i].b58, strlen(v[i].b58), back, sizeof back, &sz), 0);
        assert_int_equal(sz, (size_t)n);
        assert_memory_equal(back, bin, sz);
    }
}

static void
test_random_vs_reference(void **state) {
    (void)state;
    uint64_t s = adb_test_seed() ^ 0x58;
    size_t   iters = adb_test_scaled(20000);
    for (size_t it = 0; it < iters; it++) {
        size_t  n = adb_test_rand(&s) % 80;
        uint8_t bin[80], back[80];
        for (size_t i = 0; i < n; i++)
            bin[i] = (uint8_t)adb_test_rand(&s);
        size_t lead = n ? adb_test_rand(&s) % (n + 1) : 0; /* force leading zeros sometimes */
        if (adb_test_rand(&s) % 4 == 0) memset(bin, 0, lead);
        char   want[160], got[160];
        size_t len, sz;
        ref_encode(bin, n, want);
        assert_int_equal(adb_base58_encode(bin, n, got, sizeof got, &len), 0);
        assert_string_equal(got, want);
        assert_int_equal(adb_base58_decode(got, len, back, sizeof back, &sz), 0);
        assert_int_equal(sz, n);
        assert_memory_equal(back, bin, n);
        if (n == 32) {
            char t32[ACCTDB_BASE58_32_SZ];
            assert_string_equal(acctdb_base58_encode_32(bin, t32), want);
            uint8_t k[32];
            assert_int_equal(acctdb_base58_decode_32(t32, k), 0);
            assert_memory_equal(k, bin, 32);
        }
    }
}

static void
test_rejects(void **state) {
    (void)state;
    uint8_t     buf[64];
    size_t      sz = 123;
    char const *bad[] = {"0", "O", "I", "l", "abc def", "abc\n", "+", "\xc3\xa9", "12-3"};
    for (size_t i = 0; i < ADB_ARRAY_CNT(bad); i++) {
        assert_int_equal(adb_base58_decode(bad[i], strlen(bad[i]), buf, sizeof buf, &sz),
                         ACCTDB_ERR_INVALID);
        assert_int_equal(sz, 0);
    }
    /* Overflow: 44 'z' is > 2^256. */
    char big[45];
    memset(big, 'z', 44);
    big[44] = 0;
    assert_int_equal(adb_base58_decode(big, 44, buf, 32, &sz), ACCTDB_ERR_FULL);
    uint8_t k[32];
    assert_int_equal(acctdb_base58_decode_32(big, k), ACCTDB_ERR_INVALID);
    /* Lengths that cannot be 32 bytes. */
    assert_int_equal(acctdb_base58_decode_32("1111111111111111111111111111111", k),
                     ACCTDB_ERR_INVALID); /* 31 zero bytes */
    assert_int_equal(acctdb_base58_decode_32("111111111111111111111111111111111", k),
                     ACCTDB_ERR_INVALID); /* 33 */
    assert_int_equal(acctdb_base58_decode_32("", k), ACCTDB_ERR_INVALID);
    assert_int_equal(acctdb_base58_decode_32(NULL, k), ACCTDB_ERR_INVALID);
    /* A 32-char string that decodes to fewer bytes. */
    assert_int_equal(acctdb_base58_decode_32("2222222222222222222222222222222z", k),
                     ACCTDB_ERR_INVALID);
    /* Output too small for encode. */
    uint8_t ones[32];
    memset(ones, 0xff, 32);
    char   small[44];
    size_t len = 9;
    assert_int_equal(adb_base58_encode(ones, 32, small, sizeof small, &len), ACCTDB_ERR_FULL);
    assert_int_equal(len, 0);
    assert_string_equal(small, "");
    /* Oversized input. */
    assert_int_equal(adb_base58_encode(ones, ADB_BASE58_MAX_BIN_SZ + 1, small, sizeof small, &len),
                     ACCTDB_ERR_INVALID);
}

static void
test_long_values(void **state) {
    (void)state;
    /* Values well past the stack buffers take the heap path. */
    uint64_t s = adb_test_seed() ^ 0x1234;
    for (int it = 0; it < 20; it++) {
        size_t   n = 300 + adb_test_rand(&s) % 700;
        uint8_t *bin = malloc(n), *back = malloc(n);
        char    *want = malloc(n * 2 + 2), *got = malloc(n * 2 + 2);
        for (size_t i = 0; i < n; i++)
            bin[i] = (uint8_t)adb_test_rand(&s);
        size_t len, sz;
        ref_encode(bin, n, want);
        assert_int_equal(adb_base58_encode(bin, n, got, n * 2 + 2, &len), 0);
        assert_string_equal(got, want);
        assert_int_equal(adb_base58_decode(got, len, back, n, &sz), 0);
        assert_int_equal(sz, n);
        assert_memory_equal(back, bin, n);
        /* Allocation failure is reported, not a crash. */
        adb_alloc_fail_after(1);
        assert_int_equal(adb_base58_encode(bin, n, got, n * 2 + 2, &len), ACCTDB_ERR_NOMEM);
        adb_alloc_fail_after(0);
        free(bin), free(back), free(want), free(got);
    }
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_vectors),
    cmocka_unit_test(test_random_vs_reference),
    cmocka_unit_test(test_rejects),
    cmocka_unit_test(test_long_values),
};
ADB_TEST_GROUP(base58, tests);
