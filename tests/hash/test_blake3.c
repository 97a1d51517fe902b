/* tests/hash/test_blake3.c - BLAKE3 against Debian's b3sum 1.2.0 on every
 * kernel set the CPU has, the incremental and seeking paths against the
 * one-shot output, the 2048-byte batch API, the implementation choice, and
 * the `acctdb b3sum` tool against b3sum.
 *
 * b3sum is run over files in a temporary directory, many files per call
 * with --length 4096: BLAKE3's output of any length is a prefix of a longer
 * one, so each input's random output length is compared against a prefix
 * (and, for a sample, against b3sum run with exactly that length). */
#include "../test.h"

#include "hash/blake3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

/* The implementations this CPU runs, portable first. */
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
    assert_int_equal(adb_blake3_impl_get(), impl);
}

static int
write_file(char const *path, void const *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* ---- against b3sum -------------------------------------------------------- */

#define SWEEP_CNT   2101 /* every length 0..2100 */
#define RAND_MAX_SZ (1u << 20)
#define XOF_MAX     4096
#define B3SUM_BATCH 128 /* files per b3sum call */
#define EXACT_EVERY 61  /* every 61st input is also checked with its exact --length */

typedef struct input {
    size_t   sz, xof_sz;
    uint64_t seed;
} input_t;

static void
input_data(input_t const *in, uint8_t *buf) {
    adb_test_rng_t r = {in->seed};
    adb_test_rng_fill(&r, buf, in->sz);
}

static void
test_b3sum_agreement(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0xB3B3B3B3ull};
    size_t         rand_cnt = adb_test_scaled(200), n = SWEEP_CNT + rand_cnt;
    input_t       *in = calloc(n, sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < n; i++) {
        size_t sz = i;
        if (i >= SWEEP_CNT) {
            /* Half uniform up to 1 MiB, half spread over every magnitude;
             * a quarter rounded to whole chunks (the bulk path then takes
             * the input's last chunk too). */
            sz = adb_test_rng_below(&r, 2)
                     ? adb_test_rng_below(&r, RAND_MAX_SZ + 1)
                     : adb_test_rng_below(&r, (1ull << adb_test_rng_below(&r, 21)) + 1);
            if (adb_test_rng_below(&r, 4) == 0) sz &= ~(size_t)1023;
        }
        in[i] = (input_t){sz, 1 + adb_test_rng_below(&r, XOF_MAX), adb_test_rng_next(&r)};
    }

    adb_blake3_impl_t impls[ADB_BLAKE3_IMPL_CNT];
    size_t            impl_cnt = impls_supported(impls);
    char             *dir = adb_test_mkdtemp();
    assert_non_null(dir);
    size_t   out_max = B3SUM_BATCH * (2 * XOF_MAX + 32) + 1;
    char    *out = malloc(out_max);
    uint8_t *data = malloc(RAND_MAX_SZ + 1);
    uint8_t(*want)[XOF_MAX] = malloc(B3SUM_BATCH * sizeof *want);
    uint8_t got[XOF_MAX];
    char    hex[2 * XOF_MAX + 1], cmd[8192], path[4200];
    size_t  cmp_cnt = 0, exact_cnt = 0, path_cmp[ADB_BLAKE3_IMPL_CNT][2] = {{0}};
    assert_true(out && data && want);

    for (size_t b = 0; b < n; b += B3SUM_BATCH) {
        size_t e = ADB_MIN(n, b + B3SUM_BATCH);
        int    len = snprintf(cmd, sizeof cmd, "cd '%s' && b3sum --length %d", dir, XOF_MAX);
        for (size_t i = b; i < e; i++) {
            input_data(&in[i], data);
            snprintf(path, sizeof path, "%s/f%zu", dir, i);
            assert_int_equal(write_file(path, data, in[i].sz), 0);
            len += snprintf(cmd + len, sizeof cmd - (size_t)len, " f%zu", i);
        }
        assert_true((size_t)len < sizeof cmd);
        assert_int_equal(adb_test_sh(out, out_max, "%s", cmd), 0);

        /* One line per file: <8192 hex>  f<i> */
        char const *line = out;
        for (size_t i = b; i < e; i++) {
            char name[32];
            snprintf(name, sizeof name, "  f%zu\n", i);
            assert_true(strlen(line) >= 2 * XOF_MAX + strlen(name));
            memcpy(hex, line, 2 * XOF_MAX);
            hex[2 * XOF_MAX] = 0;
            assert_int_equal(adb_test_unhex(want[i - b], XOF_MAX, hex), XOF_MAX);
            assert_memory_equal(line + 2 * XOF_MAX, name, strlen(name));
            line += 2 * XOF_MAX + strlen(name);
        }

        for (size_t i = b; i < e; i++) {
            input_data(&in[i], data);
            /* Every implementation; the SIMD ones both with their own
             * one-block compression and with the scalar one. */
            for (size_t k = 0; k < impl_cnt; k++) {
                impl_use(impls[k]);
                for (int one = ADB_BLAKE3_ONE_SIMD; one <= ADB_BLAKE3_ONE_SCALAR; one++) {
                    if (impls[k] == ADB_BLAKE3_IMPL_PORTABLE && one == ADB_BLAKE3_ONE_SCALAR)
                        continue;
                    assert_int_equal(adb_blake3_one_set((adb_blake3_one_t)one), 0);
                    memset(got, 0, sizeof got);
                    adb_blake3_hash(data, in[i].sz, got, in[i].xof_sz);
                    if (memcmp(got, want[i - b], in[i].xof_sz))
                        fail_msg("b3sum mismatch: length %zu, output %zu bytes, impl %s (%s "
                                 "one-block)",
                                 in[i].sz, in[i].xof_sz, adb_blake3_impl_name(impls[k]),
                                 one == ADB_BLAKE3_ONE_SIMD ? "simd" : "scalar");
                    cmp_cnt++;
                    path_cmp[k][one - 1]++;
                }
            }
            if (i % EXACT_EVERY == 0) {
                char one[2 * XOF_MAX + 8];
                assert_int_equal(adb_test_sh(one, sizeof one,
                                             "cd '%s' && b3sum --no-names --length %zu f%zu", dir,
                                             in[i].xof_sz, i),
                                 0);
                adb_test_hex(hex, got, in[i].xof_sz);
                assert_memory_equal(one, hex, 2 * in[i].xof_sz);
                assert_int_equal(one[2 * in[i].xof_sz], '\n');
                exact_cnt++;
            }
            snprintf(path, sizeof path, "%s/f%zu", dir, i);
            unlink(path);
        }
    }
    printf("  blake3 vs b3sum: %zu inputs (every length 0..%d, %zu random up to %u bytes), "
           "random output lengths 1..%d; inputs compared per path:",
           n, SWEEP_CNT - 1, rand_cnt, RAND_MAX_SZ, XOF_MAX);
    for (size_t k = 0; k < impl_cnt; k++) {
        printf(" %s=%zu", adb_blake3_impl_name(impls[k]), path_cmp[k][0]);
        if (path_cmp[k][1])
            printf(" %s/scalar-one-block=%zu", adb_blake3_impl_name(impls[k]), path_cmp[k][1]);
    }
    printf("; %zu comparisons in all, %zu also against b3sum run at the exact length\n", cmp_cnt,
           exact_cnt);

    assert_int_equal(adb_blake3_one_set(ADB_BLAKE3_ONE_AUTO), 0);
    impl_use(adb_blake3_impl_best());
    adb_test_rmtree(dir);
    free(dir);
    free(want);
    free(data);
    free(out);
    free(in);
}

/* ---- incremental updates and seeking ------------------------------------ */

#define REF_SZ 8192

/* A length that exercises some edge of the hasher. */
static size_t
pick_len(adb_test_rng_t *r) {
    switch (adb_test_rng_below(r, 6)) {
    case 0:
        return adb_test_rng_below(r, 3000);
    case 1:
        return adb_test_rng_below(r, 70000);
    case 2:
        return 1024 * (1 + adb_test_rng_below(r, 300)); /* whole chunks */
    case 3:
        return (size_t)1024 << adb_test_rng_below(r, 9); /* power-of-two chunks */
    case 4:
        return ((size_t)1024 << adb_test_rng_below(r, 9)) + adb_test_rng_below(r, 3) - 1; /* +-1 */
    default:
        return adb_test_rng_below(r, 400000);
    }
}

static size_t
pick_step(adb_test_rng_t *r) {
    switch (adb_test_rng_below(r, 8)) {
    case 0:
        return adb_test_rng_below(r, 8);
    case 1:
        return adb_test_rng_below(r, 130);
    case 2:
        return 64;
    case 3:
        return 1024;
    case 4:
        return 1024 * (1 + adb_test_rng_below(r, 40));
    case 5:
        return adb_test_rng_below(r, 5000);
    case 6:
        return (size_t)1024 << adb_test_rng_below(r, 8);
    default:
        return adb_test_rng_below(r, 100000);
    }
}

static void
test_incremental_and_seek(void **state) {
    (void)state;
    adb_test_rng_t    r = {adb_test_seed() ^ 0x1C2E3A4Dull};
    adb_blake3_impl_t impls[ADB_BLAKE3_IMPL_CNT];
    size_t            impl_cnt = impls_supported(impls), iters = adb_test_scaled(400);
    size_t            data_max = 600000, cases = 0;
    uint8_t          *data = malloc(data_max);
    uint8_t          *ref = malloc(REF_SZ), *got = malloc(REF_SZ), *tmp = malloc(REF_SZ);
    assert_true(data && ref && got && tmp);

    for (size_t it = 0; it < iters; it++) {
        /* Alternate the one-block form: SIMD, scalar, automatic. */
        assert_int_equal(adb_blake3_one_set((adb_blake3_one_t)(it % 3)), 0);
        size_t sz = pick_len(&r);
        sz = ADB_MIN(sz, data_max);
        adb_test_rng_fill(&r, data, sz);
        impl_use(ADB_BLAKE3_IMPL_PORTABLE);
        adb_blake3_hash(data, sz, ref, REF_SZ);
        uint64_t split_seed = adb_test_rng_next(&r), seek_seed = adb_test_rng_next(&r);

        for (size_t k = 0; k < impl_cnt; k++) {
            impl_use(impls[k]);
            adb_test_rng_t rs = {split_seed};
            adb_blake3_t   h;
            adb_blake3_init(&h);
            size_t pos = 0;
            while (pos < sz) {
                size_t step = pick_step(&rs);
                step = ADB_MIN(step, sz - pos);
                adb_blake3_update(&h, data + pos, step);
                pos += step;
                if (adb_test_rng_below(&rs, 6) == 0) {
                    /* finalize mid-stream: the prefix's hash, state kept */
                    uint8_t a[40], b[40];
                    adb_blake3_finalize(&h, a, sizeof a);
                    adb_blake3_hash(data, pos, b, sizeof b);
                    if (memcmp(a, b, sizeof a))
                        fail_msg("prefix %zu of %zu differs (impl %s)", pos, sz,
                                 adb_blake3_impl_name(impls[k]));
                }
            }
            adb_blake3_update(&h, NULL, 0);
            adb_blake3_finalize(&h, got, REF_SZ);
            if (memcmp(got, ref, REF_SZ))
                fail_msg("incremental %zu bytes differs from one-shot (impl %s)", sz,
                         adb_blake3_impl_name(impls[k]));

            /* Seeks inside the reference output. */
            adb_test_rng_t rk = {seek_seed};
            for (int s = 0; s < 8; s++) {
                size_t   len = adb_test_rng_below(&rk, 700);
                uint64_t off = adb_test_rng_below(&rk, REF_SZ - len + 1);
                adb_blake3_finalize_seek(&h, off, got, len);
                if (memcmp(got, ref + off, len))
                    fail_msg("seek %llu+%zu of %zu bytes differs (impl %s)",
                             (unsigned long long)off, len, sz, adb_blake3_impl_name(impls[k]));
            }
            /* Far seeks, where the block counter crosses 32 bits or is
             * near its largest byte-addressable value: many blocks at once
             * (SIMD) against one block at a time. */
            for (int s = 0; s < 3; s++) {
                uint64_t const bases[3] = {(1ull << 32) * 64 - 640, (1ull << 40) + 64 * 7,
                                           0ull - 64 * 64};
                uint64_t       off = bases[s] - 64 * adb_test_rng_below(&rk, 4);
                size_t         blocks = 2 + adb_test_rng_below(&rk, 40);
                adb_blake3_finalize_seek(&h, off, got, 64 * blocks);
                for (size_t j = 0; j < blocks; j++) {
                    adb_blake3_finalize_seek(&h, off + 64 * j, tmp, 64);
                    if (memcmp(tmp, got + 64 * j, 64))
                        fail_msg("far seek block %zu at %llu differs (impl %s)", j,
                                 (unsigned long long)off, adb_blake3_impl_name(impls[k]));
                }
                /* and every implementation agrees with the portable one */
                impl_use(ADB_BLAKE3_IMPL_PORTABLE);
                adb_blake3_finalize_seek(&h, off + 13, tmp, 64 * blocks - 13);
                impl_use(impls[k]);
                if (memcmp(tmp, got + 13, 64 * blocks - 13))
                    fail_msg("far seek at %llu differs from portable (impl %s)",
                             (unsigned long long)off, adb_blake3_impl_name(impls[k]));
            }
            cases++;
        }
    }
    printf("  blake3 incremental/seek: %zu inputs x %zu paths = %zu cases\n", iters, impl_cnt,
           cases);
    assert_int_equal(adb_blake3_one_set(ADB_BLAKE3_ONE_AUTO), 0);
    impl_use(adb_blake3_impl_best());
    free(tmp);
    free(got);
    free(ref);
    free(data);
}

/* ---- the 2048-byte batch ------------------------------------------------- */

static void
test_xof2048_batch(void **state) {
    (void)state;
    adb_test_rng_t    r = {adb_test_seed() ^ 0xBA7C4ull};
    adb_blake3_impl_t impls[ADB_BLAKE3_IMPL_CNT];
    size_t            impl_cnt = impls_supported(impls), rounds = adb_test_scaled(100);
    size_t const      msg_max = 100, len_max = 3000;
    size_t const      edges[] = {0, 1, 63, 64, 65, 127, 128, 959, 960, 1023, 1024, 1025, 2048};
    uint8_t          *data = malloc(msg_max * len_max);
    uint8_t          *want = malloc(msg_max * ADB_BLAKE3_XOF2048_SZ);
    uint8_t          *got = malloc(msg_max * ADB_BLAKE3_XOF2048_SZ);
    adb_blake3_msg_t *msgs = calloc(msg_max, sizeof *msgs);
    size_t            msg_total = 0, short_cnt = 0;
    assert_true(data && want && got && msgs);

    for (size_t it = 0; it < rounds; it++) {
        size_t   cnt = 1 + adb_test_rng_below(&r, msg_max);
        uint16_t want_sum[1024], sum[1024];
        for (size_t i = 0; i < 1024; i++)
            want_sum[i] = sum[i] = (uint16_t)adb_test_rng_next(&r);
        for (size_t i = 0; i < cnt; i++) {
            uint8_t *m = data + i * len_max;
            size_t   sz = adb_test_rng_below(&r, 3) == 0
                              ? edges[adb_test_rng_below(&r, ADB_ARRAY_CNT(edges))]
                              : adb_test_rng_below(&r, len_max + 1);
            adb_test_rng_fill(&r, m, sz);
            /* Cut into up to 6 parts, some empty with a NULL pointer. */
            size_t parts = 1 + adb_test_rng_below(&r, ADB_BLAKE3_MSG_PART_MAX), at = 0;
            msgs[i].part_cnt = parts;
            for (size_t j = 0; j < parts; j++) {
                size_t n = j + 1 == parts ? sz - at : adb_test_rng_below(&r, sz - at + 1);
                msgs[i].part[j] = (adb_blake3_part_t){n ? m + at : NULL, n};
                at += n;
            }
            adb_blake3_hash(m, sz, want + i * ADB_BLAKE3_XOF2048_SZ, ADB_BLAKE3_XOF2048_SZ);
            for (size_t k = 0; k < 1024; k++) {
                uint16_t v;
                memcpy(&v, want + i * ADB_BLAKE3_XOF2048_SZ + 2 * k, 2);
                want_sum[k] = (uint16_t)(want_sum[k] + v);
            }
            short_cnt += sz <= ADB_BLAKE3_CHUNK_SZ;
        }
        msg_total += cnt;
        uint16_t start[1024];
        memcpy(start, sum, sizeof sum);
        for (size_t k = 0; k < impl_cnt; k++) {
            impl_use(impls[k]);
            memset(got, 0xA5, cnt * ADB_BLAKE3_XOF2048_SZ);
            adb_blake3_xof2048_each(msgs, cnt, got);
            for (size_t i = 0; i < cnt; i++)
                if (memcmp(got + i * ADB_BLAKE3_XOF2048_SZ, want + i * ADB_BLAKE3_XOF2048_SZ,
                           ADB_BLAKE3_XOF2048_SZ))
                    fail_msg("batch output %zu of %zu (length %zu) differs (impl %s)", i, cnt,
                             adb_blake3_msg_sz(&msgs[i]), adb_blake3_impl_name(impls[k]));
            memcpy(sum, start, sizeof sum);
            adb_blake3_xof2048_sum(msgs, cnt, sum);
            if (memcmp(sum, want_sum, sizeof sum))
                fail_msg("batch sum of %zu differs (impl %s)", cnt, adb_blake3_impl_name(impls[k]));
        }
        /* An empty batch changes nothing. */
        adb_blake3_xof2048_sum(msgs, 0, sum);
        assert_memory_equal(sum, want_sum, sizeof sum);
    }
    printf("  blake3 batch: %zu messages (%zu of at most one chunk) in %zu batches x %zu paths\n",
           msg_total, short_cnt, rounds, impl_cnt);
    impl_use(adb_blake3_impl_best());
    free(msgs);
    free(got);
    free(want);
    free(data);
}

/* ---- implementation choice and public wrappers --------------------------- */

static void
test_impl_api(void **state) {
    (void)state;
    adb_blake3_impl_t impl;
    assert_true(adb_blake3_impl_supported(ADB_BLAKE3_IMPL_PORTABLE));
    assert_true(adb_blake3_impl_supported(ADB_BLAKE3_IMPL_AUTO));
    assert_false(adb_blake3_impl_supported((adb_blake3_impl_t)99));
    assert_int_equal(adb_blake3_impl_set((adb_blake3_impl_t)99), ACCTDB_ERR_INVALID);
    for (int i = 0; i <= ADB_BLAKE3_IMPL_CNT; i++) {
        assert_int_equal(adb_blake3_impl_from_name(adb_blake3_impl_name(i), &impl), 0);
        assert_int_equal(impl, i);
        int rc = adb_blake3_impl_set(impl);
        if (adb_blake3_impl_supported(impl)) {
            assert_int_equal(rc, 0);
            assert_int_not_equal(adb_blake3_impl_get(), ADB_BLAKE3_IMPL_AUTO);
        } else {
            assert_int_equal(rc, ACCTDB_ERR_UNSUPPORTED);
        }
    }
    assert_int_equal(adb_blake3_impl_get(), adb_blake3_impl_best());
    assert_int_equal(adb_blake3_impl_from_name("sse2", &impl), ACCTDB_ERR_INVALID);
    assert_int_equal(impl, ADB_BLAKE3_IMPL_AUTO);
    assert_int_equal(adb_blake3_impl_from_name(NULL, &impl), ACCTDB_ERR_INVALID);
    assert_string_equal(adb_blake3_impl_name((adb_blake3_impl_t)99), "?");

    /* The one-block form. */
    assert_int_equal(adb_blake3_one_set((adb_blake3_one_t)7), ACCTDB_ERR_INVALID);
    assert_int_equal(adb_blake3_one_set(ADB_BLAKE3_ONE_SIMD), 0);
    for (int i = 1; i < ADB_BLAKE3_IMPL_CNT; i++)
        assert_int_equal(adb_blake3_one_is_simd(i), adb_blake3_impl_supported(i));
    assert_false(adb_blake3_one_is_simd(ADB_BLAKE3_IMPL_PORTABLE));
    assert_int_equal(adb_blake3_one_set(ADB_BLAKE3_ONE_SCALAR), 0);
    for (int i = 0; i < ADB_BLAKE3_IMPL_CNT; i++)
        assert_false(adb_blake3_one_is_simd(i));
    assert_int_equal(adb_blake3_one_set(ADB_BLAKE3_ONE_AUTO), 0);
    printf("  blake3 one-block form chosen at first use:");
    for (int i = 1; i < ADB_BLAKE3_IMPL_CNT; i++)
        if (adb_blake3_impl_supported(i))
            printf(" %s=%s", adb_blake3_impl_name(i),
                   adb_blake3_one_is_simd(i) ? "simd" : "scalar");
    printf("\n");

    /* Public names. */
    assert_int_equal(acctdb_blake3_set_impl("nope"), ACCTDB_ERR_INVALID);
    assert_int_equal(acctdb_blake3_set_impl(NULL), ACCTDB_ERR_INVALID);
    assert_int_equal(acctdb_blake3_set_impl("portable"), 0);
    assert_string_equal(acctdb_blake3_impl(), "portable");
    assert_int_equal(acctdb_blake3_set_impl("auto"), 0);
    assert_string_equal(acctdb_blake3_impl(), adb_blake3_impl_name(adb_blake3_impl_best()));
    printf("  blake3 implementation in use: %s\n", acctdb_blake3_impl());

    /* Public hasher = internal hasher; known answer for "abc". */
    uint8_t const abc_want[32] = {0x64, 0x37, 0xb3, 0xac, 0x38, 0x46, 0x51, 0x33, 0xff, 0xb6, 0x3b,
                                  0x75, 0x27, 0x3a, 0x8d, 0xb5, 0x48, 0xc5, 0x58, 0x46, 0x5d, 0x79,
                                  0xdb, 0x03, 0xfd, 0x35, 0x9c, 0x6c, 0xd5, 0xbd, 0x9d, 0x85};
    uint8_t       out[100], out2[100];
    acctdb_blake3_t h;
    acctdb_blake3(abc_want, 0, out, 0); /* zero-length output writes nothing */
    acctdb_blake3("abc", 3, out, 32);
    assert_memory_equal(out, abc_want, 32);
    acctdb_blake3_init(&h);
    acctdb_blake3_update(&h, "a", 1);
    acctdb_blake3_update(&h, NULL, 0);
    acctdb_blake3_update(&h, "bc", 2);
    acctdb_blake3_finalize(&h, out, sizeof out);
    assert_memory_equal(out, abc_want, 32);
    acctdb_blake3_finalize_seek(&h, 37, out2, 50);
    assert_memory_equal(out2, out + 37, 50);
}

/* ---- acctdb b3sum against b3sum ------------------------------------------ */

/* Runs `cmd` in dir with prog = "b3sum" and then prog = the acctdb tool,
 * and compares stdout and exit status. */
static void
cli_same(char const *dir, char const *tool, char const *args, size_t *cnt) {
    char a[1 << 16], b[1 << 16];
    int  ra = adb_test_sh(a, sizeof a, "cd '%s' && b3sum %s 2>/dev/null", dir, args);
    int  rb = adb_test_sh(b, sizeof b, "cd '%s' && '%s' b3sum %s 2>/dev/null", dir, tool, args);
    if (strcmp(a, b)) fail_msg("acctdb b3sum %s:\n--- b3sum\n%s--- acctdb\n%s", args, a, b);
    assert_true((ra == 0) == (rb == 0));
    (*cnt)++;
}

static void
test_b3sum_cli(void **state) {
    (void)state;
    char    exe[4096], tool[4200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    assert_non_null(slash);
    *slash = 0;
    snprintf(tool, sizeof tool, "%s/acctdb", exe);
    if (access(tool, X_OK) != 0) {
        printf("  %s not built: skipping the b3sum CLI comparison\n", tool);
        skip();
    }

    adb_test_rng_t r = {adb_test_seed() ^ 0xC11ull};
    char          *dir = adb_test_mkdtemp(), path[4300];
    uint8_t       *buf = malloc((1 << 20) + 13);
    assert_true(dir && buf);
    struct {
        char const *name;
        size_t      sz;
    } const files[] = {{"empty", 0},           {"abc", 3},       {"r1", 5000},
                       {"r2", (1 << 20) + 13}, {"sp ace", 1025}, {"back\\slash", 64}};
    for (size_t i = 0; i < ADB_ARRAY_CNT(files); i++) {
        adb_test_rng_fill(&r, buf, files[i].sz);
        if (i == 1) memcpy(buf, "abc", 3);
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        assert_int_equal(write_file(path, buf, files[i].sz), 0);
    }
    char const *all = "empty abc r1 r2 'sp ace' 'back\\slash'";
    char        args[512];
    size_t      cnt = 0;
    cli_same(dir, tool, all, &cnt);
    snprintf(args, sizeof args, "--length 1000 %s", all);
    cli_same(dir, tool, args, &cnt);
    snprintf(args, sizeof args, "--no-names %s", all);
    cli_same(dir, tool, args, &cnt);
    cli_same(dir, tool, "-l 0 abc r1", &cnt);
    cli_same(dir, tool, "--length 4097 r2", &cnt);
    cli_same(dir, tool, "< r2", &cnt);                   /* standard input */
    cli_same(dir, tool, "--length 77 - abc < r1", &cnt); /* '-' among files */
    cli_same(dir, tool, "--no-names < empty", &cnt);

    /* --raw: the same bytes, and a single input only. */
    assert_int_equal(adb_test_sh(NULL, 0,
                                 "cd '%s' && b3sum --raw --length 333 r2 > o1 && "
                                 "'%s' b3sum --raw --length 333 r2 > o2 && cmp -s o1 o2",
                                 dir, tool),
                     0);
    assert_int_equal(adb_test_sh(NULL, 0,
                                 "cd '%s' && b3sum --raw < r1 > o1 && '%s' b3sum --raw < r1 > o2 "
                                 "&& cmp -s o1 o2 && test $(wc -c < o2) -eq 32",
                                 dir, tool),
                     0);
    cnt += 2;
    char out[4096];
    assert_int_not_equal(
        adb_test_sh(out, sizeof out, "cd '%s' && '%s' b3sum --raw abc r1 2>/dev/null", dir, tool),
        0);
    assert_string_equal(out, "");

    /* A missing file: the others are printed, the error goes to stderr, the
     * status is non-zero. */
    char want[512];
    assert_int_equal(adb_test_sh(want, sizeof want, "cd '%s' && b3sum abc", dir), 0);
    assert_int_not_equal(
        adb_test_sh(out, sizeof out, "cd '%s' && '%s' b3sum abc missing abc 2>err", dir, tool), 0);
    char both[1024];
    snprintf(both, sizeof both, "%s%s", want, want);
    assert_string_equal(out, both);
    assert_int_equal(adb_test_sh(out, sizeof out, "cd '%s' && grep -c missing err", dir), 0);
    assert_int_not_equal(adb_test_sh(NULL, 0, "'%s' b3sum --bogus 2>/dev/null", tool), 0);
    printf("  acctdb b3sum: %zu invocations identical to b3sum, plus error cases\n", cnt);

    adb_test_rmtree(dir);
    free(dir);
    free(buf);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_impl_api),
    cmocka_unit_test(test_b3sum_agreement),
    cmocka_unit_test(test_incremental_and_seek),
    cmocka_unit_test(test_xof2048_batch),
    cmocka_unit_test(test_b3sum_cli),
};

ADB_TEST_GROUP(blake3, tests);
