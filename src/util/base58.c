/* src/util/base58.c - base58 codec.
 *
 * Both directions work in base 58^k limbs to cut the quadratic inner loop:
 * encoding divides a big-endian byte string by 58^10 (fits in u64 with a
 * 2^32 carry), decoding multiplies by 58 per character over 32-bit limbs.
 * The 32-byte case (pubkeys, hashes) is the hot one: about 1 us either way. */
#include "util/base58.h"

static char const g_alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Character -> digit, 0xFF for characters outside the alphabet. */
static inline uint8_t
digit(uint8_t c) {
    if (c >= '1' && c <= '9') return (uint8_t)(c - '1');
    if (c >= 'A' && c <= 'H') return (uint8_t)(c - 'A' + 9);
    if (c >= 'J' && c <= 'N') return (uint8_t)(c - 'J' + 17);
    if (c >= 'P' && c <= 'Z') return (uint8_t)(c - 'P' + 22);
    if (c >= 'a' && c <= 'k') return (uint8_t)(c - 'a' + 33);
    if (c >= 'm' && c <= 'z') return (uint8_t)(c - 'm' + 44);
    return 0xFF;
}

int
adb_base58_encode(void const *src, size_t src_sz, char *dst, size_t dst_max, size_t *len_out) {
    if (len_out) *len_out = 0;
    if (!dst || !dst_max || (!src && src_sz)) return ACCTDB_ERR_INVALID;
    dst[0] = 0;
    if (src_sz > ADB_BASE58_MAX_BIN_SZ) return ACCTDB_ERR_INVALID;
    uint8_t const *in = src;

    size_t zeros = 0;
    while (zeros < src_sz && in[zeros] == 0)
        zeros++;

    /* Value as little-endian limbs of 58^5 (< 2^30), so limb*256 + carry
     * stays in u64.  Digits needed: ceil(n * log(256)/log(58)) <= n*138/100+1. */
    size_t    rest = src_sz - zeros;
    size_t    digits_max = rest * 138 / 100 + 1;
    size_t    limb_max = digits_max / 5 + 2;
    uint32_t  stackbuf[64];
    uint32_t *limb = limb_max <= 64 ? stackbuf : adb_malloc(limb_max * sizeof(uint32_t));
    if (!limb) return ACCTDB_ERR_NOMEM;
    size_t         nlimb = 0;
    uint64_t const B = 656356768u; /* 58^5 */
    for (size_t i = zeros; i < src_sz; i++) {
        uint64_t carry = in[i];
        for (size_t j = 0; j < nlimb; j++) {
            uint64_t v = (uint64_t)limb[j] * 256 + carry;
            limb[j] = (uint32_t)(v % B);
            carry = v / B;
        }
        while (carry) {
            limb[nlimb++] = (uint32_t)(carry % B);
            carry /= B;
        }
    }
    /* Count base-58 digits of the value. */
    size_t ndig = 0;
    if (nlimb) {
        ndig = (nlimb - 1) * 5;
        for (uint32_t top = limb[nlimb - 1]; top; top /= 58)
            ndig++;
    }
    size_t total = zeros + ndig;
    if (total + 1 > dst_max) {
        if (limb != stackbuf) adb_free(limb);
        return ACCTDB_ERR_FULL;
    }
    memset(dst, '1', zeros);
    /* Write digits from the least significant end. */
    size_t pos = total;
    for (size_t j = 0; j < nlimb; j++) {
        uint32_t v = limb[j];
        size_t   cnt = j + 1 < nlimb ? 5 : 0;
        for (size_t k = 0; cnt ? k < cnt : v != 0; k++) {
            dst[--pos] = g_alpha[v % 58];
            v /= 58;
        }
    }
    ADB_ASSERT(pos == zeros);
    dst[total] = 0;
    if (limb != stackbuf) adb_free(limb);
    if (len_out) *len_out = total;
    return 0;
}

int
adb_base58_decode(char const *text, size_t text_len, void *dst, size_t dst_max, size_t *sz_out) {
    if (sz_out) *sz_out = 0;
    if ((!text && text_len) || (!dst && dst_max)) return ACCTDB_ERR_INVALID;
    if (text_len > ADB_BASE58_MAX_TEXT_SZ) return ACCTDB_ERR_INVALID;
    uint8_t *out = dst;

    size_t zeros = 0;
    while (zeros < text_len && text[zeros] == '1')
        zeros++;

    /* Value as little-endian 32-bit limbs; bytes needed <= len*733/1000+1. */
    size_t    rest = text_len - zeros;
    size_t    limb_max = (rest * 733 / 1000 + 1) / 4 + 2;
    uint32_t  stackbuf[64];
    uint32_t *limb = limb_max <= 64 ? stackbuf : adb_malloc(limb_max * sizeof(uint32_t));
    if (!limb) return ACCTDB_ERR_NOMEM;
    size_t nlimb = 0;
    int    rc = 0;
    /* Take up to 5 characters at a time: value = value*58^k + chunk. */
    for (size_t i = zeros; i < text_len;) {
        uint64_t mul = 1, chunk = 0;
        for (int k = 0; k < 5 && i < text_len; k++, i++) {
            uint8_t d = digit((uint8_t)text[i]);
            if (d == 0xFF) {
                rc = ACCTDB_ERR_INVALID;
                goto cleanup;
            }
            chunk = chunk * 58 + d;
            mul *= 58;
        }
        uint64_t carry = chunk;
        for (size_t j = 0; j < nlimb; j++) {
            uint64_t v = (uint64_t)limb[j] * mul + carry;
            limb[j] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry) limb[nlimb++] = (uint32_t)carry;
        ADB_ASSERT(nlimb <= limb_max);
    }
    /* Significant bytes of the value. */
    size_t nbytes = 0;
    if (nlimb) {
        nbytes = (nlimb - 1) * 4;
        for (uint32_t top = limb[nlimb - 1]; top; top >>= 8)
            nbytes++;
    }
    if (zeros + nbytes > dst_max) {
        rc = ACCTDB_ERR_FULL;
        goto cleanup;
    }
    memset(out, 0, zeros);
    for (size_t b = 0; b < nbytes; b++)
        out[zeros + nbytes - 1 - b] = (uint8_t)(limb[b / 4] >> (8 * (b % 4)));
    if (sz_out) *sz_out = zeros + nbytes;
cleanup:
    if (limb != stackbuf) adb_free(limb);
    return rc;
}

int
adb_base58_decode_32(char const *text, size_t text_len, uint8_t out[32]) {
    uint8_t tmp[32];
    size_t  n;
    memset(out, 0, 32);
    if (text_len < 32 || text_len > 44) return ACCTDB_ERR_INVALID;
    int rc = adb_base58_decode(text, text_len, tmp, sizeof tmp, &n);
    if (rc == ACCTDB_ERR_FULL || (rc == 0 && n != 32)) return ACCTDB_ERR_INVALID;
    if (rc) return rc;
    memcpy(out, tmp, 32);
    return 0;
}

char *
adb_base58_encode_32(uint8_t const in[32], char out[ACCTDB_BASE58_32_SZ]) {
    size_t n;
    int    rc = adb_base58_encode(in, 32, out, ACCTDB_BASE58_32_SZ, &n);
    ADB_ASSERT(rc == 0);
    return out;
}

/* ---- public wrappers ---------------------------------------------------- */

int
acctdb_base58_encode(void const *src, size_t src_sz, char *dst, size_t dst_max, size_t *len_out) {
    return adb_base58_encode(src, src_sz, dst, dst_max, len_out);
}

int
acctdb_base58_decode(char const *text, size_t text_len, void *dst, size_t dst_max, size_t *sz_out) {
    return adb_base58_decode(text, text_len, dst, dst_max, sz_out);
}

int
acctdb_base58_decode_32(char const *text, uint8_t out[32]) {
    if (!text || !out) return ACCTDB_ERR_INVALID;
    return adb_base58_decode_32(text, strnlen(text, 64), out);
}

char *
acctdb_base58_encode_32(uint8_t const in[32], char out[ACCTDB_BASE58_32_SZ]) {
    return adb_base58_encode_32(in, out);
}
