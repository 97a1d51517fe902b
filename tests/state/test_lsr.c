/* tests/state/test_lsr.c - LSR rent (src/state/lsr.h): the K and N
 * parsers, the charge at its edges (zero size, zero slots, N = 0 with an
 * empty state, saturation of state_size^N and of a huge K), exactness
 * against unsigned __int128 where the product fits and against a slow
 * decimal long multiplication across the whole range, and the floor at the
 * bond and compaction boundaries. */
#include "../test.h"

#include "state/lsr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static adb_lsr_k_t
K(uint64_t num, uint32_t exp10) {
    return (adb_lsr_k_t){num, exp10};
}

/* ---- parsers --------------------------------------------------------------------- */

static void
test_k_parse(void **state) {
    (void)state;
    static struct {
        char const *text;
        int         ok;
        uint64_t    num;
        uint32_t    exp10;
    } const cases[] = {
        /* the forms of the brief */
        {"1e-18", 1, 1, 18},
        {"0.000003", 1, 3, 6},
        {"5", 1, 5, 0},
        {"2.5e-9", 1, 25, 10},
        /* zero, however written */
        {"0", 1, 0, 0},
        {"0.0", 1, 0, 0},
        {"000", 1, 0, 0},
        {"0e-999", 1, 0, 0},
        {".0", 1, 0, 0},
        /* normal form: trailing fraction zeros dropped, positive exponents
         * folded into num */
        {"2.50", 1, 25, 1},
        {"10.5", 1, 105, 1},
        {"100e-2", 1, 1, 0},
        {"0.1e1", 1, 1, 0},
        {"3E+2", 1, 300, 0},
        {"1e-0", 1, 1, 0},
        {"500", 1, 500, 0},
        {"007.5", 1, 75, 1},
        {".5", 1, 5, 1},
        {"5.", 1, 5, 0},
        {"10e-301", 1, 1, 300},
        {"1e-300", 1, 1, 300},
        /* num at the u64 edge */
        {"18446744073709551615", 1, UINT64_MAX, 0},
        {"1.8446744073709551615e19", 1, UINT64_MAX, 0},
        {"184467440737095516150e-1", 1, UINT64_MAX, 0},
        {"1e19", 1, 10000000000000000000ull, 0},
        {"18446744073709551616", 0, 0, 0},
        {"1e20", 0, 0, 0},
        {"123456789012345678901e-5", 0, 0, 0}, /* 21 significant digits */
        {"1e-301", 0, 0, 0},
        {"1e-99999999999999", 0, 0, 0},
        {"1e99999999999", 0, 0, 0},
        /* signs, junk, empties */
        {"-1", 0, 0, 0},
        {"-0", 0, 0, 0},
        {"+1", 0, 0, 0},
        {"", 0, 0, 0},
        {" 1", 0, 0, 0},
        {"1 ", 0, 0, 0},
        {"1e", 0, 0, 0},
        {"1e+", 0, 0, 0},
        {"1e-", 0, 0, 0},
        {"e5", 0, 0, 0},
        {".", 0, 0, 0},
        {".e1", 0, 0, 0},
        {"1.2.3", 0, 0, 0},
        {"1x", 0, 0, 0},
        {"0x10", 0, 0, 0},
        {"1e5.5", 0, 0, 0},
        {"inf", 0, 0, 0},
        {"nan", 0, 0, 0},
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(cases); i++) {
        adb_lsr_k_t k = {7, 7};
        int         rc = adb_lsr_k_parse(cases[i].text, &k);
        if (cases[i].ok) {
            if (rc != 0) fail_msg("'%s' refused", cases[i].text);
            if (k.num != cases[i].num || k.exp10 != cases[i].exp10)
                fail_msg("'%s' -> %" PRIu64 "e-%u, want %" PRIu64 "e-%u", cases[i].text, k.num,
                         k.exp10, cases[i].num, cases[i].exp10);
        } else {
            if (rc != ACCTDB_ERR_INVALID) fail_msg("'%s' accepted (rc %d)", cases[i].text, rc);
            assert_true(k.num == 0 && k.exp10 == 0);
        }
    }
    adb_lsr_k_t k;
    assert_int_equal(adb_lsr_k_parse(NULL, &k), ACCTDB_ERR_INVALID);
    assert_int_equal(adb_lsr_k_parse("1", NULL), ACCTDB_ERR_INVALID);
    /* Long runs of zeros are counted, not multiplied: 1 followed by 300
     * fraction digits ending in 1 is exact; one more digit is too small. */
    char buf[400] = "0.";
    memset(buf + 2, '0', 299);
    strcpy(buf + 301, "1");
    assert_int_equal(adb_lsr_k_parse(buf, &k), 0);
    assert_true(k.num == 1 && k.exp10 == 300);
    memset(buf + 2, '0', 300);
    strcpy(buf + 302, "1");
    assert_int_equal(adb_lsr_k_parse(buf, &k), ACCTDB_ERR_INVALID);
    /* ... and with trailing zeros after the 1: still normalized. */
    memset(buf + 2, '0', 299);
    strcpy(buf + 301, "1000000");
    assert_int_equal(adb_lsr_k_parse(buf, &k), 0);
    assert_true(k.num == 1 && k.exp10 == 300);
}

static void
test_n_parse(void **state) {
    (void)state;
    uint32_t n = 99;
    for (uint32_t v = 0; v <= ADB_LSR_N_MAX; v++) {
        char t[8];
        snprintf(t, sizeof t, "%u", v);
        assert_int_equal(adb_lsr_n_parse(t, &n), 0);
        assert_int_equal(n, v);
    }
    assert_int_equal(adb_lsr_n_parse("007", &n), 0);
    assert_int_equal(n, 7);
    char const *bad[] = {"17", "", "-1", "+1", "1a", " 1", "1 ", "99999999999", "4294967312"};
    for (size_t i = 0; i < ADB_ARRAY_CNT(bad); i++) {
        n = 5;
        if (adb_lsr_n_parse(bad[i], &n) != ACCTDB_ERR_INVALID) fail_msg("N '%s' accepted", bad[i]);
        assert_int_equal(n, 0);
    }
    assert_int_equal(adb_lsr_n_parse(NULL, &n), ACCTDB_ERR_INVALID);
    assert_true(adb_lsr_params_ok(K(1, 300), 16));
    assert_false(adb_lsr_params_ok(K(1, 301), 0));
    assert_false(adb_lsr_params_ok(K(1, 0), 17));
}

/* ---- the slow decimal reference ------------------------------------------------- */

/* Little-endian decimal digits. */
typedef struct dec {
    uint8_t d[1400];
    size_t  n; /* digits; 0 means the value 0 */
} dec_t;

static void
dec_set(dec_t *a, uint64_t v) {
    a->n = 0;
    while (v) {
        a->d[a->n++] = (uint8_t)(v % 10);
        v /= 10;
    }
}

/* a *= b, schoolbook, one decimal digit at a time. */
static void
dec_mul(dec_t *a, dec_t const *b) {
    static uint32_t acc[1400];
    if (!a->n || !b->n) {
        a->n = 0;
        return;
    }
    size_t n = a->n + b->n;
    assert_true(n <= 1400);
    memset(acc, 0, n * sizeof acc[0]);
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            acc[i + j] += (uint32_t)a->d[i] * b->d[j];
    uint32_t carry = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = acc[i] + carry;
        a->d[i] = (uint8_t)(v % 10);
        carry = v / 10;
    }
    assert_int_equal(carry, 0);
    a->n = n;
    while (a->n && !a->d[a->n - 1])
        a->n--;
}

/* The reference charge: the decimal product with its last exp10 digits
 * dropped (that is the floor of the division by 10^exp10), then read as
 * u64 or saturated. */
static uint64_t
ref_charge(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size, uint64_t slots) {
    static dec_t p, t;
    dec_set(&p, slots);
    dec_set(&t, size);
    dec_mul(&p, &t);
    dec_set(&t, k.num);
    dec_mul(&p, &t);
    dec_set(&t, state_size);
    for (uint32_t i = 0; i < n; i++)
        dec_mul(&p, &t);
    if (p.n <= k.exp10) return 0;
    size_t lo = k.exp10, len = p.n - lo;
    /* Compare with UINT64_MAX = 18446744073709551615 (20 digits). */
    static char const max[] = "18446744073709551615";
    if (len > 20) return UINT64_MAX;
    if (len == 20) {
        for (size_t i = 0; i < 20; i++) {
            uint8_t dig = p.d[p.n - 1 - i];
            if (dig != max[i] - '0') {
                if (dig > max[i] - '0') return UINT64_MAX;
                break;
            }
        }
    }
    uint64_t v = 0;
    for (size_t i = p.n; i-- > lo;)
        v = v * 10 + p.d[i];
    return v;
}

/* A value of a random bit width (0 .. 64), edges favoured. */
static uint64_t
rand_width(adb_test_rng_t *r) {
    switch (adb_test_rng_below(r, 8)) {
    case 0:
        return 0;
    case 1:
        return UINT64_MAX - adb_test_rng_below(r, 3);
    case 2:
        return 1ull << adb_test_rng_below(r, 64);
    default: {
        unsigned w = (unsigned)adb_test_rng_below(r, 65);
        uint64_t v = adb_test_rng_next(r);
        return w == 64 ? v : w == 0 ? 0 : v >> (64 - w);
    }
    }
}

/* ---- the charge ------------------------------------------------------------------- */

static void
test_edges(void **state) {
    (void)state;
    /* Account size: Agave's 128-byte overhead, saturating. */
    assert_int_equal(adb_lsr_account_sz(0), 128);
    assert_int_equal(adb_lsr_account_sz(165), 293);
    assert_true(adb_lsr_account_sz(UINT64_MAX - 128) == UINT64_MAX);
    assert_true(adb_lsr_account_sz(UINT64_MAX) == UINT64_MAX);

    /* Zero size, zero slots, zero K: nothing, whatever the rest. */
    assert_int_equal(adb_lsr_charge(K(UINT64_MAX, 0), 16, UINT64_MAX, 0, UINT64_MAX), 0);
    assert_int_equal(adb_lsr_charge(K(UINT64_MAX, 0), 16, UINT64_MAX, UINT64_MAX, 0), 0);
    assert_int_equal(adb_lsr_charge(K(0, 0), 16, UINT64_MAX, UINT64_MAX, UINT64_MAX), 0);
    /* N = 0: state_size^0 = 1, also for an empty state. */
    assert_int_equal(adb_lsr_charge(K(5, 0), 0, 0, 128, 10), 6400);
    assert_int_equal(adb_lsr_charge(K(5, 0), 0, UINT64_MAX, 128, 10), 6400);
    /* N > 0 with an empty state: a zero rate. */
    assert_int_equal(adb_lsr_charge(K(UINT64_MAX, 0), 1, 0, UINT64_MAX, UINT64_MAX), 0);
    /* state_size^N past every width: (2^63)^5 = 2^315, times 1e-18 -> saturates. */
    assert_true(adb_lsr_charge(K(1, 18), 5, 1ull << 63, 1, 1) == UINT64_MAX);
    /* The largest product (1216 bits) in the 1280-bit integer, exactly:
     * K = 1e-300, N = 16, everything at UINT64_MAX. */
    assert_true(adb_lsr_charge(K(UINT64_MAX, 300), 16, UINT64_MAX, UINT64_MAX, UINT64_MAX) ==
                UINT64_MAX);
    /* Huge K: num UINT64_MAX, exp10 0. */
    assert_true(adb_lsr_charge(K(UINT64_MAX, 0), 0, 0, 1, 1) == UINT64_MAX); /* exact */
    assert_true(adb_lsr_charge(K(UINT64_MAX, 0), 0, 0, 2, 1) == UINT64_MAX); /* saturated */
    assert_true(adb_lsr_charge(K(UINT64_MAX, 0), 1, 1, 1, 1) == UINT64_MAX);
    assert_true(adb_lsr_charge(K(UINT64_MAX, 1), 0, 0, 1, 1) == UINT64_MAX / 10);
    /* Just below and at 2^64: 2^32 * 2^32 * 1 = 2^64 saturates, minus one
     * does not. */
    assert_true(adb_lsr_charge(K(1, 0), 0, 0, 1ull << 32, 1ull << 32) == UINT64_MAX);
    assert_true(adb_lsr_charge(K(1, 0), 0, 0, (1ull << 32) - 1, 1ull << 32) == ((1ull << 32) - 1)
                                                                                   << 32);
    /* K tiny, state huge, exact: floor(1e-300 * (2^64-1)^16) (python3:
     * ((2**64-1)**16)//10**300), and the decimal reference agrees. */
    uint64_t want = ref_charge(K(1, 300), 16, UINT64_MAX, 1, 1);
    assert_true(want == 179769313);
    assert_true(adb_lsr_charge(K(1, 300), 16, UINT64_MAX, 1, 1) == want);
    /* ... times 2^64-1 slots and 10^10 bytes: 1.8e37 -> saturates; times
     * 10^10 slots alone: exact. */
    assert_true(adb_lsr_charge(K(1, 300), 16, UINT64_MAX, 10000000000ull, UINT64_MAX) ==
                UINT64_MAX);
    assert_true(adb_lsr_charge(K(1, 300), 16, UINT64_MAX, 1, 10000000000ull) ==
                ref_charge(K(1, 300), 16, UINT64_MAX, 1, 10000000000ull));
    printf("  lsr: 1e-300 x (2^64-1)^16 = %" PRIu64 " lamports (exact)\n", want);
}

static void
test_vs_int128(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x15E128ull};
    size_t         rounds = adb_test_scaled(20000), checked = 0;
    for (size_t it = 0; it < rounds; it++) {
        /* Pick widths so the product fits in 127 bits, exp10 <= 38. */
        uint32_t          n = (uint32_t)adb_test_rng_below(&r, 5);
        unsigned          ws = 1 + (unsigned)adb_test_rng_below(&r, n ? 24 / n + 1 : 1);
        uint64_t          st = adb_test_rng_next(&r) >> (64 - ws);
        uint64_t          sz = adb_test_rng_next(&r) >> (64 - 1 - adb_test_rng_below(&r, 32));
        uint64_t          sl = adb_test_rng_next(&r) >> (64 - 1 - adb_test_rng_below(&r, 32));
        uint64_t          num = adb_test_rng_next(&r) >> (64 - 1 - adb_test_rng_below(&r, 30));
        uint32_t          e = (uint32_t)adb_test_rng_below(&r, 39);
        unsigned __int128 p = (unsigned __int128)sz * sl, lim = (unsigned __int128)1 << 126;
        bool              fits = true;
        if (num && p > lim / num) fits = false;
        p *= num;
        for (uint32_t i = 0; i < n && fits; i++) {
            if (st && p > lim / st) fits = false;
            p *= st;
        }
        if (!fits) continue;
        unsigned __int128 d = 1;
        for (uint32_t i = 0; i < e; i++)
            d *= 10;
        unsigned __int128 q = p / d;
        uint64_t          want = q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
        uint64_t          got = adb_lsr_charge(K(num, e), n, st, sz, sl);
        if (got != want)
            fail_msg("charge(%" PRIu64 "e-%u, N=%u, state %" PRIu64 ", size %" PRIu64
                     ", slots %" PRIu64 ") = %" PRIu64 ", __int128 says %" PRIu64,
                     num, e, n, st, sz, sl, got, want);
        checked++;
    }
    printf("  lsr vs __int128: %zu charges identical\n", checked);
    assert_true(checked > rounds / 4);
}

static void
test_vs_decimal(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0xDEC1ull};
    size_t         rounds = adb_test_scaled(1500), sat = 0, zero = 0, mid = 0;
    for (size_t it = 0; it < rounds; it++) {
        adb_lsr_k_t k = K(rand_width(&r), (uint32_t)adb_test_rng_below(&r, ADB_LSR_EXP10_MAX + 1));
        uint32_t    n = (uint32_t)adb_test_rng_below(&r, ADB_LSR_N_MAX + 1);
        uint64_t    st = rand_width(&r), sz = rand_width(&r), sl = rand_width(&r);
        /* Half the time, aim the exponent near the product's size so the
         * result lands in range rather than at 0 or UINT64_MAX. */
        if (adb_test_rng_below(&r, 2)) {
            double bits = 0;
            for (uint64_t v = sz; v; v >>= 1)
                bits++;
            for (uint64_t v = sl; v; v >>= 1)
                bits++;
            for (uint64_t v = k.num; v; v >>= 1)
                bits++;
            double sb = 0;
            for (uint64_t v = st; v; v >>= 1)
                sb++;
            bits += n * sb;
            double e = (bits - 1 - (double)adb_test_rng_below(&r, 64)) * 0.30103;
            k.exp10 = e < 0 ? 0 : e > ADB_LSR_EXP10_MAX ? ADB_LSR_EXP10_MAX : (uint32_t)e;
        }
        uint64_t want = ref_charge(k, n, st, sz, sl);
        uint64_t got = adb_lsr_charge(k, n, st, sz, sl);
        if (got != want)
            fail_msg("charge(%" PRIu64 "e-%u, N=%u, state %" PRIu64 ", size %" PRIu64
                     ", slots %" PRIu64 ") = %" PRIu64 ", decimal reference says %" PRIu64,
                     k.num, k.exp10, n, st, sz, sl, got, want);
        sat += want == UINT64_MAX;
        zero += want == 0;
        mid += want && want != UINT64_MAX;
    }
    printf("  lsr vs decimal long multiplication: %zu charges identical (%zu zero, %zu "
           "saturated, %zu in between)\n",
           rounds, zero, sat, mid);
    assert_true(mid > 0 || rounds < 50);
}

/* ---- the floor at the boundaries ------------------------------------------------------ */

static void
test_boundaries(void **state) {
    (void)state;
    /* K = 0.1: size 10 for 1 slot is exactly 1 lamport; 19 bytes 1.9 -> 1. */
    adb_lsr_k_t k = K(1, 1);
    assert_int_equal(adb_lsr_charge(k, 0, 0, 10, 1), 1);
    assert_int_equal(adb_lsr_charge(k, 0, 0, 19, 1), 1);
    assert_int_equal(adb_lsr_charge(k, 0, 0, 20, 1), 2);
    assert_int_equal(adb_lsr_charge(k, 0, 0, 9, 1), 0);

    /* Compaction: charge == lamports does not compact, charge == lamports
     * + 1 does.  K = 3e-6, N = 1, state 1e6 -> RentRate 3 lamports/byte/slot;
     * size 293 over 1000 slots = 879000. */
    assert_int_equal(adb_lsr_k_parse("0.000003", &k), 0);
    uint64_t const st = 1000000, size = adb_lsr_account_sz(165);
    uint64_t const c = adb_lsr_charge(k, 1, st, size, 1000);
    assert_int_equal(c, 879000);
    assert_false(adb_lsr_should_compact(k, 1, st, size, 5000, 6000, c));
    assert_true(adb_lsr_should_compact(k, 1, st, size, 5000, 6000, c - 1));
    assert_false(adb_lsr_should_compact(k, 1, st, size, 5000, 6000, c + 1));
    /* One slot later the charge grows by 879: compacts. */
    assert_true(adb_lsr_should_compact(k, 1, st, size, 5000, 6001, c));
    /* A fraction of a lamport never compacts: 2.5 lamports owed (K 0.5, 5
     * bytes, 1 slot) against 2 held: the floored charge is 2. */
    assert_false(adb_lsr_should_compact(K(5, 1), 0, 0, 5, 0, 1, 2));
    assert_true(adb_lsr_should_compact(K(5, 1), 0, 0, 5, 0, 1, 1));
    /* slot == creation: 0 slots; slot < creation: 0 slots too. */
    assert_false(adb_lsr_should_compact(k, 1, st, size, 5000, 5000, 0));
    assert_false(adb_lsr_should_compact(k, 1, st, size, 5000, 4999, 0));
    assert_false(adb_lsr_should_compact(K(UINT64_MAX, 0), 16, UINT64_MAX, UINT64_MAX, 7, 0, 0));
    /* A saturated charge compacts any balance below UINT64_MAX. */
    assert_true(adb_lsr_should_compact(K(UINT64_MAX, 0), 0, 0, 2, 0, 1, UINT64_MAX - 1));

    /* Bond: epoch_slots * RentRate * size; lamports == bond can create,
     * one lamport less cannot. */
    uint64_t const epoch = 432000;
    uint64_t       bond = adb_lsr_bond(k, 1, st, size, epoch);
    assert_int_equal(bond, 3ull * size * epoch);
    assert_true(bond == adb_lsr_charge(k, 1, st, size, epoch));
    assert_true(adb_lsr_can_create(k, 1, st, size, epoch, bond));
    assert_false(adb_lsr_can_create(k, 1, st, size, epoch, bond - 1));
    /* A free bond (K = 0, or N > 0 on an empty state) lets anyone create. */
    assert_true(adb_lsr_can_create(K(0, 0), 3, st, size, epoch, 0));
    assert_true(adb_lsr_can_create(k, 2, 0, size, epoch, 0));
    /* A saturated bond reads as "more lamports than exist": only a balance
     * of UINT64_MAX lamports (more than the whole supply) meets it. */
    assert_true(adb_lsr_bond(K(UINT64_MAX, 0), 2, UINT64_MAX, size, epoch) == UINT64_MAX);
    assert_false(adb_lsr_can_create(K(UINT64_MAX, 0), 2, UINT64_MAX, size, epoch, UINT64_MAX - 1));
    /* The bond, the charge over epoch_slots and the compaction rule agree:
     * holding exactly the bond survives the first epoch and is compacted one
     * slot (of a positive charge) later. */
    assert_false(adb_lsr_should_compact(k, 1, st, size, 100, 100 + epoch, bond));
    assert_true(adb_lsr_should_compact(k, 1, st, size, 100, 100 + epoch + 1, bond));
}

/* The rate grows with the state: for fixed K, N > 0, the charge is
 * monotone in state_size, size and slots (a cheap property over random
 * values). */
static void
test_monotone(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x30F0ull};
    size_t         rounds = adb_test_scaled(5000);
    for (size_t it = 0; it < rounds; it++) {
        adb_lsr_k_t k = K(rand_width(&r), (uint32_t)adb_test_rng_below(&r, 60));
        uint32_t    n = (uint32_t)adb_test_rng_below(&r, 4);
        uint64_t    st = rand_width(&r) >> adb_test_rng_below(&r, 64);
        uint64_t    sz = rand_width(&r) >> adb_test_rng_below(&r, 64);
        uint64_t    sl = rand_width(&r) >> adb_test_rng_below(&r, 64);
        uint64_t    c = adb_lsr_charge(k, n, st, sz, sl);
        if (st < UINT64_MAX) assert_true(adb_lsr_charge(k, n, st + 1, sz, sl) >= c);
        if (sz < UINT64_MAX) assert_true(adb_lsr_charge(k, n, st, sz + 1, sl) >= c);
        if (sl < UINT64_MAX) assert_true(adb_lsr_charge(k, n, st, sz, sl + 1) >= c);
    }
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_k_parse),    cmocka_unit_test(test_n_parse),
    cmocka_unit_test(test_edges),      cmocka_unit_test(test_vs_int128),
    cmocka_unit_test(test_vs_decimal), cmocka_unit_test(test_boundaries),
    cmocka_unit_test(test_monotone),
};

ADB_TEST_GROUP(lsr, tests);
