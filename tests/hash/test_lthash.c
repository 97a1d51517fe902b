/* tests/hash/test_lthash.c - the account lattice hash: Agave's and
 * FORMAT.md's vectors, lane arithmetic, the batched kernel against the
 * one-at-a-time path on every kernel set, and the message layout against
 * b3sum. */
#include "../test.h"

#include "hash/lthash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t
impls_supported(adb_blake3_impl_t out[ADB_BLAKE3_IMPL_CNT]) {
    size_t n = 0;
    for (int i = 0; i < ADB_BLAKE3_IMPL_CNT; i++)
        if (adb_blake3_impl_supported((adb_blake3_impl_t)i)) out[n++] = (adb_blake3_impl_t)i;
    return n;
}

static void
impl_use(adb_blake3_impl_t impl) {
    assert_int_equal(adb_blake3_impl_set(impl), 0);
}

/* A random account; data points into buf (data_max bytes). */
static void
account_random(adb_test_rng_t *r, acctdb_account_t *a, uint8_t *buf, size_t data_max) {
    memset(a, 0, sizeof *a);
    adb_test_rng_fill(r, a->pubkey.b, 32);
    if (adb_test_rng_below(r, 5)) adb_test_rng_fill(r, a->owner.b, 32);
    switch (adb_test_rng_below(r, 8)) {
    case 0:
        a->lamports = 0;
        break; /* deleted: identity */
    case 1:
        a->lamports = UINT64_MAX - adb_test_rng_below(r, 3);
        break;
    default:
        a->lamports = 1 + adb_test_rng_below(r, 1ull << adb_test_rng_below(r, 60));
        break;
    }
    a->rent_epoch = adb_test_rng_below(r, 2) ? UINT64_MAX : adb_test_rng_below(r, 1000);
    a->executable = adb_test_rng_below(r, 4) == 0;
    size_t sz;
    switch (adb_test_rng_below(r, 5)) {
    case 0:
        sz = 0;
        break;
    case 1:
        sz = 165;
        break;
    case 2:
        sz = 951 + adb_test_rng_below(r, 3) - 1;
        break; /* at the one-chunk edge */
    default:
        sz = adb_test_rng_below(r, data_max + 1);
        break;
    }
    adb_test_rng_fill(r, buf, sz);
    a->data = sz ? buf : NULL;
    a->data_len = sz;
}

/* ---- vectors -------------------------------------------------------------- */

static void
test_vectors(void **state) {
    (void)state;
    adb_blake3_impl_t impls[ADB_BLAKE3_IMPL_CNT];
    size_t            impl_cnt = impls_supported(impls);
    uint8_t           ck[32], want_ck[32], want_acct[32];
    assert_int_equal(
        adb_test_unhex(want_ck, 32,
                       "4f9c1ab89ccd5ed0b6eb21936f99e598cf854b6db6c6773d0b51294618576455"),
        32);
    assert_int_equal(
        adb_test_unhex(want_acct, 32,
                       "5b4049ccae57cf27be0e32afd21872c565ed1b567092b68336e15b2a77dd7de8"),
        32);
    /* FORMAT.md 5.1: pubkey 29d2S7vB453rNYFdR5Ycwt7y9haRT5fwVwL9zTmBhfV2,
     * which is 32 bytes of 0x11 (also decoded with python3). */
    acctdb_account_t ex = {.lamports = 900000,
                           .data = (uint8_t const *)"old account data",
                           .data_len = 16,
                           .executable = false};
    uint8_t          pk_want[32];
    memset(pk_want, 0x11, sizeof pk_want);
    assert_int_equal(
        acctdb_base58_decode_32("29d2S7vB453rNYFdR5Ycwt7y9haRT5fwVwL9zTmBhfV2", ex.pubkey.b), 0);
    assert_memory_equal(ex.pubkey.b, pk_want, 32);

    for (size_t k = 0; k < impl_cnt; k++) {
        impl_use(impls[k]);
        /* Agave's vector: the XOF of "hello". */
        acctdb_lthash_t  h, s;
        adb_blake3_msg_t m = {.part = {{"hel", 3}, {"lo", 2}}, .part_cnt = 2};
        adb_blake3_hash("hello", 5, h.v, sizeof h.v);
        assert_int_equal(h.v[0], 0x8fea);
        assert_int_equal(h.v[1], 0x3d16);
        assert_int_equal(h.v[1023], 0x9924);
        acctdb_lthash_checksum(&h, ck);
        assert_memory_equal(ck, want_ck, 32);
        /* ... and through the batch kernel */
        adb_lthash_zero(&s);
        adb_blake3_xof2048_sum(&m, 1, s.v);
        assert_true(adb_lthash_eq(&s, &h));

        /* FORMAT.md's example account, one at a time and batched. */
        acctdb_lthash_account(&h, &ex, ACCTDB_LTHASH_CURRENT);
        assert_memory_equal(h.v, want_acct, 32);
        acctdb_lthash_zero(&s);
        acctdb_lthash_add_accounts(&s, &ex, 1, ACCTDB_LTHASH_CURRENT);
        assert_memory_equal(s.v, want_acct, 32);
        /* The legacy formula differs (rent_epoch is fed). */
        acctdb_lthash_account(&s, &ex, ACCTDB_LTHASH_LEGACY);
        assert_false(adb_lthash_eq(&s, &h));
    }
    impl_use(ADB_BLAKE3_IMPL_AUTO);

    /* Zero lamports: identity, whatever the rest. */
    acctdb_lthash_t h;
    ex.lamports = 0;
    memset(h.v, 0xFF, sizeof h.v);
    acctdb_lthash_account(&h, &ex, ACCTDB_LTHASH_CURRENT);
    assert_true(acctdb_lthash_is_zero(&h));
    acctdb_lthash_add_accounts(&h, &ex, 1, ACCTDB_LTHASH_LEGACY);
    assert_true(acctdb_lthash_is_zero(&h));
    acctdb_lthash_add_accounts(&h, NULL, 0, ACCTDB_LTHASH_CURRENT);
    assert_true(acctdb_lthash_is_zero(&h));
}

/* ---- arithmetic ----------------------------------------------------------- */

static void
test_arith(void **state) {
    (void)state;
    adb_test_rng_t  r = {adb_test_seed() ^ 0xA417ull};
    acctdb_lthash_t a, b, c, z;
    acctdb_lthash_zero(&z);
    assert_true(acctdb_lthash_is_zero(&z));

    /* Wrap-around: 0xFFFF + 1 = 0 and 0 - 1 = 0xFFFF in every lane. */
    for (size_t i = 0; i < 1024; i++)
        a.v[i] = 0xFFFF, b.v[i] = 1;
    acctdb_lthash_add(&a, &b);
    assert_true(acctdb_lthash_is_zero(&a));
    acctdb_lthash_sub(&a, &b);
    for (size_t i = 0; i < 1024; i++)
        assert_int_equal(a.v[i], 0xFFFF);
    /* A single non-zero lane is not the identity. */
    acctdb_lthash_zero(&a);
    a.v[1023] = 1;
    assert_false(acctdb_lthash_is_zero(&a));

    for (int it = 0; it < 200; it++) {
        adb_test_rng_fill(&r, (uint8_t *)a.v, sizeof a.v);
        adb_test_rng_fill(&r, (uint8_t *)b.v, sizeof b.v);
        c = a;
        acctdb_lthash_add(&c, &b); /* sub undoes add */
        for (size_t i = 0; i < 1024; i++)
            assert_int_equal(c.v[i], (uint16_t)(a.v[i] + b.v[i]));
        acctdb_lthash_sub(&c, &b);
        assert_true(adb_lthash_eq(&c, &a));
        c = b; /* commutative */
        acctdb_lthash_add(&c, &a);
        acctdb_lthash_sub(&c, &b);
        assert_true(adb_lthash_eq(&c, &a));
        c = a; /* a - a = identity, also in place */
        acctdb_lthash_sub(&c, &c);
        assert_true(acctdb_lthash_is_zero(&c));
    }
}

/* ---- batched against one at a time ---------------------------------------- */

#define DATA_MAX 3000 /* messages up to 3081 bytes: kernel and long path */

static void
test_batched_vs_serial(void **state) {
    (void)state;
    adb_test_rng_t           r = {adb_test_seed() ^ 0xBA7Cull};
    adb_blake3_impl_t        impls[ADB_BLAKE3_IMPL_CNT];
    size_t                   impl_cnt = impls_supported(impls), rounds = adb_test_scaled(60);
    size_t const             cnt_max = 300;
    acctdb_account_t        *acc = calloc(cnt_max, sizeof *acc);
    acctdb_account_t const **ptrs = calloc(cnt_max, sizeof *ptrs);
    acctdb_lthash_t         *one = malloc(cnt_max * sizeof *one);
    uint8_t                 *data = malloc(cnt_max * DATA_MAX);
    size_t                   acct_total = 0, kernel_cnt = 0, long_cnt = 0, zero_cnt = 0;
    assert_true(acc && ptrs && one && data);

    for (size_t it = 0; it < rounds; it++) {
        /* Batch sizes mostly not multiples of 16. */
        size_t const sizes[] = {1, 2, 15, 17, 31, 33, 47, 100, 129, 257, cnt_max};
        size_t n = adb_test_rng_below(&r, 3) ? sizes[adb_test_rng_below(&r, ADB_ARRAY_CNT(sizes))]
                                             : 1 + adb_test_rng_below(&r, cnt_max);
        for (size_t i = 0; i < n; i++) {
            account_random(&r, &acc[i], data + i * DATA_MAX, DATA_MAX);
            ptrs[n - 1 - i] = &acc[i];
            size_t msg = 73 + acc[i].data_len;
            zero_cnt += acc[i].lamports == 0;
            kernel_cnt += acc[i].lamports && msg <= ADB_BLAKE3_CHUNK_SZ;
            long_cnt += acc[i].lamports && msg > ADB_BLAKE3_CHUNK_SZ;
        }
        acct_total += n;
        for (int f = ACCTDB_LTHASH_CURRENT; f <= ACCTDB_LTHASH_LEGACY; f++) {
            /* Reference: one at a time, portable. */
            acctdb_lthash_t want, start;
            adb_test_rng_fill(&r, (uint8_t *)start.v, sizeof start.v);
            want = start;
            impl_use(ADB_BLAKE3_IMPL_PORTABLE);
            for (size_t i = 0; i < n; i++) {
                acctdb_lthash_account(&one[i], &acc[i], (acctdb_lthash_formula_t)f);
                acctdb_lthash_add(&want, &one[i]);
            }
            for (size_t k = 0; k < impl_cnt; k++) {
                impl_use(impls[k]);
                char const     *name = adb_blake3_impl_name(impls[k]);
                acctdb_lthash_t s = start, t;
                acctdb_lthash_add_accounts(&s, acc, n, (acctdb_lthash_formula_t)f);
                if (!adb_lthash_eq(&s, &want))
                    fail_msg("batched sum of %zu accounts differs (formula %d, impl %s)", n, f,
                             name);
                s = start;
                adb_lthash_add_account_ptrs(&s, ptrs, n, (acctdb_lthash_formula_t)f);
                if (!adb_lthash_eq(&s, &want))
                    fail_msg("pointer batch of %zu differs (formula %d, impl %s)", n, f, name);
                adb_lthash_sub_accounts(&s, acc, n, (acctdb_lthash_formula_t)f);
                if (!adb_lthash_eq(&s, &start))
                    fail_msg("sub_accounts does not undo (formula %d, impl %s)", f, name);
                /* one at a time on this implementation too (sampled) */
                size_t i = adb_test_rng_below(&r, n);
                acctdb_lthash_account(&t, &acc[i], (acctdb_lthash_formula_t)f);
                if (!adb_lthash_eq(&t, &one[i]))
                    fail_msg("account of %llu bytes differs (formula %d, impl %s)",
                             (unsigned long long)acc[i].data_len, f, name);
            }
        }
    }
    printf("  lthash batched vs serial: %zu accounts (%zu through the multi-message kernel, %zu "
           "longer than a chunk, %zu with 0 lamports) x 2 formulas x %zu paths\n",
           acct_total, kernel_cnt, long_cnt, zero_cnt, impl_cnt);
    impl_use(ADB_BLAKE3_IMPL_AUTO);
    free(data);
    free(one);
    free(ptrs);
    free(acc);
}

/* ---- the message layout against b3sum ------------------------------------ */

static void
test_layout_b3sum(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x1A70ull};
    size_t         n = 24;
    char          *dir = adb_test_mkdtemp();
    assert_non_null(dir);
    acctdb_account_t acc[24];
    uint8_t         *data = malloc(n * DATA_MAX);
    uint8_t         *msg = malloc(DATA_MAX + 100);
    char            *out = malloc(n * 4200 + 1);
    char             cmd[4096], path[4200], hex[4097];
    int              len = snprintf(cmd, sizeof cmd, "cd '%s' && b3sum --length 2048", dir);
    assert_true(data && msg && out);
    for (size_t i = 0; i < n; i++) {
        do
            account_random(&r, &acc[i], data + i * DATA_MAX, DATA_MAX);
        while (acc[i].lamports == 0);
        /* The message, laid out by hand from FORMAT.md 5.1. */
        acctdb_lthash_formula_t f = i % 2 ? ACCTDB_LTHASH_LEGACY : ACCTDB_LTHASH_CURRENT;
        size_t                  at = 0;
        adb_store_u64(msg + at, acc[i].lamports), at += 8;
        if (f == ACCTDB_LTHASH_LEGACY) adb_store_u64(msg + at, acc[i].rent_epoch), at += 8;
        if (acc[i].data_len) memcpy(msg + at, acc[i].data, acc[i].data_len);
        at += acc[i].data_len;
        msg[at++] = acc[i].executable ? 1 : 0;
        memcpy(msg + at, acc[i].owner.b, 32), at += 32;
        memcpy(msg + at, acc[i].pubkey.b, 32), at += 32;
        snprintf(path, sizeof path, "%s/m%zu", dir, i);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(msg, 1, at, fp), at);
        fclose(fp);
        len += snprintf(cmd + len, sizeof cmd - (size_t)len, " m%zu", i);
    }
    assert_int_equal(adb_test_sh(out, n * 4200 + 1, "%s", cmd), 0);
    char const *line = out;
    for (size_t i = 0; i < n; i++) {
        acctdb_lthash_t h;
        acctdb_lthash_account(&h, &acc[i], i % 2 ? ACCTDB_LTHASH_LEGACY : ACCTDB_LTHASH_CURRENT);
        adb_test_hex(hex, h.v, sizeof h.v);
        if (strncmp(line, hex, 4096))
            fail_msg("account %zu (%llu data bytes) differs from b3sum", i,
                     (unsigned long long)acc[i].data_len);
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    printf("  lthash layout: %zu accounts (both formulas) identical to b3sum --length 2048\n", n);
    adb_test_rmtree(dir);
    free(dir);
    free(out);
    free(msg);
    free(data);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_vectors),
    cmocka_unit_test(test_arith),
    cmocka_unit_test(test_batched_vs_serial),
    cmocka_unit_test(test_layout_b3sum),
};

ADB_TEST_GROUP(lthash, tests);
