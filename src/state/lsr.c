/* src/state/lsr.c - LSR rent: K and N parsing and the exact charge (lsr.h
 * has the rules).
 *
 * The charge's product lives in a little-endian array of 64-bit limbs:
 * multiplications by u64 append at most one limb each, the division by
 * 10^exp10 runs from the top limb down in chunks of 10^19 (the largest
 * power of ten below 2^64), each step a 128-by-64-bit division.  Floor of
 * a floor is the floor of the quotient by the product of the divisors, so
 * the chunks give floor(P / 10^exp10) exactly. */
#include "state/lsr.h"

#define LIMBS 20 /* 1280 bits > the largest product, 1216 bits */

typedef struct big {
    uint64_t w[LIMBS];
    uint32_t n; /* limbs in use; w[n-1] != 0 when n > 0 */
} big_t;

static void
big_mul(big_t *a, uint64_t m) {
    unsigned __int128 carry = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        unsigned __int128 p = (unsigned __int128)a->w[i] * m + carry;
        a->w[i] = (uint64_t)p;
        carry = p >> 64;
    }
    if (carry) {
        ADB_ASSERT(a->n < LIMBS);
        a->w[a->n++] = (uint64_t)carry;
    }
    while (a->n && !a->w[a->n - 1])
        a->n--;
}

static void
big_div(big_t *a, uint64_t d) {
    unsigned __int128 rem = 0;
    for (uint32_t i = a->n; i-- > 0;) {
        unsigned __int128 cur = (rem << 64) | a->w[i];
        a->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    while (a->n && !a->w[a->n - 1])
        a->n--;
}

static uint64_t
pow10_u64(uint32_t e) { /* e <= 19 */
    uint64_t v = 1;
    while (e--)
        v *= 10;
    return v;
}

/* ---- parsing ------------------------------------------------------------------ */

/* v = v * 10^e, false on overflow. */
static bool
mul_pow10(uint64_t *v, uint64_t e) {
    for (uint64_t i = 0; i < e; i++) {
        if (*v > UINT64_MAX / 10) return false;
        *v *= 10;
    }
    return true;
}

int
adb_lsr_k_parse(char const *text, adb_lsr_k_t *k_out) {
    if (k_out) *k_out = (adb_lsr_k_t){0, 0};
    if (!text || !k_out) return ACCTDB_ERR_INVALID;
    char const *s = text;
    uint64_t    num = 0, pend = 0, frac = 0, digits = 0; /* pend: zeros not yet in num */
    bool        dot = false;
    for (;; s++) {
        if (*s == '.') {
            if (dot) return ACCTDB_ERR_INVALID;
            dot = true;
            continue;
        }
        if (*s < '0' || *s > '9') break;
        digits++;
        frac += dot;
        if (*s == '0') {
            pend += num != 0; /* leading zeros are nothing */
            continue;
        }
        if (!mul_pow10(&num, pend + 1)) return ACCTDB_ERR_INVALID;
        if (num > UINT64_MAX - (uint64_t)(*s - '0')) return ACCTDB_ERR_INVALID;
        num += (uint64_t)(*s - '0');
        pend = 0;
    }
    if (digits == 0) return ACCTDB_ERR_INVALID;
    int64_t exp = 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        bool neg = *s == '-';
        if (*s == '-' || *s == '+') s++;
        if (*s < '0' || *s > '9') return ACCTDB_ERR_INVALID;
        for (; *s >= '0' && *s <= '9'; s++)
            if (exp < 1000000000) exp = exp * 10 + (*s - '0'); /* large enough to fail below */
        if (neg) exp = -exp;
    }
    if (*s) return ACCTDB_ERR_INVALID;
    if (num == 0) return 0;
    /* value = num * 10^pend * 10^exp / 10^frac */
    if (frac > 1000000000 || pend > 1000000000) return ACCTDB_ERR_INVALID;
    int64_t e10 = (int64_t)frac - (int64_t)pend - exp;
    if (e10 < 0) {
        if (!mul_pow10(&num, (uint64_t)-e10)) return ACCTDB_ERR_INVALID;
        e10 = 0;
    }
    if (e10 > (int64_t)ADB_LSR_EXP10_MAX) return ACCTDB_ERR_INVALID;
    *k_out = (adb_lsr_k_t){num, (uint32_t)e10};
    return 0;
}

int
adb_lsr_n_parse(char const *text, uint32_t *n_out) {
    if (n_out) *n_out = 0;
    if (!text || !n_out || !*text) return ACCTDB_ERR_INVALID;
    uint32_t v = 0;
    for (char const *s = text; *s; s++) {
        if (*s < '0' || *s > '9') return ACCTDB_ERR_INVALID;
        v = v * 10 + (uint32_t)(*s - '0');
        if (v > ADB_LSR_N_MAX) return ACCTDB_ERR_INVALID;
    }
    *n_out = v;
    return 0;
}

/* ---- the rules ------------------------------------------------------------------ */

bool
adb_lsr_params_ok(adb_lsr_k_t k, uint32_t n) {
    return k.exp10 <= ADB_LSR_EXP10_MAX && n <= ADB_LSR_N_MAX;
}

uint64_t
adb_lsr_account_sz(uint64_t data_len) {
    return data_len > UINT64_MAX - ADB_LSR_ACCOUNT_OVERHEAD ? UINT64_MAX
                                                            : data_len + ADB_LSR_ACCOUNT_OVERHEAD;
}

uint64_t
adb_lsr_charge(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size, uint64_t slots) {
    ADB_ASSERT(adb_lsr_params_ok(k, n));
    if (!size || !slots || !k.num || (n && !state_size)) return 0;
    big_t p = {.w = {slots}, .n = 1};
    big_mul(&p, size);
    big_mul(&p, k.num);
    for (uint32_t i = 0; i < n; i++)
        big_mul(&p, state_size);
    for (uint32_t e = k.exp10; e > 0 && p.n;) {
        uint32_t step = e > 19 ? 19 : e;
        big_div(&p, pow10_u64(step));
        e -= step;
    }
    return p.n > 1 ? UINT64_MAX : p.n ? p.w[0] : 0;
}

uint64_t
adb_lsr_bond(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size, uint64_t epoch_slots) {
    return adb_lsr_charge(k, n, state_size, size, epoch_slots);
}

bool
adb_lsr_can_create(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size,
                   uint64_t epoch_slots, uint64_t lamports) {
    return lamports >= adb_lsr_bond(k, n, state_size, size, epoch_slots);
}

bool
adb_lsr_should_compact(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size,
                       uint64_t creation_slot, uint64_t slot, uint64_t lamports) {
    uint64_t slots = slot > creation_slot ? slot - creation_slot : 0;
    return adb_lsr_charge(k, n, state_size, size, slots) > lamports;
}
