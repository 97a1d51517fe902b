/* src/hash/blake3_avx512.c - BLAKE3 kernels with AVX-512 (F, VL, BW): 16
 * lanes of 512 bits, native rotates.  Compiled with -mavx512f -mavx512vl
 * -mavx512bw (module.mk); only reached through the dispatcher in blake3.c
 * after a CPU check.  The kernel bodies are in the template blake3_simd.h. */
#include "hash/blake3_private.h"

#include <immintrin.h>

#define B3_W           16
#define B3_PFX(x)      adb_blake3_avx512_##x
#define B3_ROUNDS_LOOP 0
typedef __m512i b3v_t;

#define b3r_ror16(x) _mm_ror_epi32((x), 16)
#define b3r_ror12(x) _mm_ror_epi32((x), 12)
#define b3r_ror8(x)  _mm_ror_epi32((x), 8)
#define b3r_ror7(x)  _mm_ror_epi32((x), 7)

#define b3v_set1(x)      _mm512_set1_epi32((int)(uint32_t)(x))
#define b3v_add(a, b)    _mm512_add_epi32((a), (b))
#define b3v_add16(a, b)  _mm512_add_epi16((a), (b))
#define b3v_xor(a, b)    _mm512_xor_si512((a), (b))
#define b3v_ror16(x)     _mm512_ror_epi32((x), 16)
#define b3v_ror12(x)     _mm512_ror_epi32((x), 12)
#define b3v_ror8(x)      _mm512_ror_epi32((x), 8)
#define b3v_ror7(x)      _mm512_ror_epi32((x), 7)
#define b3v_loadu(p)     _mm512_loadu_si512((void const *)(p))
#define b3v_storeu(p, v) _mm512_storeu_si512((void *)(p), (v))
/* Bitwise select: truth table 0xCA is "first ? second : third". */
#define b3v_sel(m, a, b) _mm512_ternarylogic_epi32((m), (a), (b), 0xCA)

/* 16x16 words: 4x4 transposes inside each 128-bit quarter, then the
 * quarters gathered in two rounds of 128-bit shuffles. */
static inline __attribute__((always_inline)) void
b3v_transpose(b3v_t t[16]) {
    __m512i q[16];
    for (int k = 0; k < 16; k += 4) {
        __m512i ab_lo = _mm512_unpacklo_epi32(t[k], t[k + 1]);
        __m512i ab_hi = _mm512_unpackhi_epi32(t[k], t[k + 1]);
        __m512i cd_lo = _mm512_unpacklo_epi32(t[k + 2], t[k + 3]);
        __m512i cd_hi = _mm512_unpackhi_epi32(t[k + 2], t[k + 3]);
        q[k] = _mm512_unpacklo_epi64(ab_lo, cd_lo);
        q[k + 1] = _mm512_unpackhi_epi64(ab_lo, cd_lo);
        q[k + 2] = _mm512_unpacklo_epi64(ab_hi, cd_hi);
        q[k + 3] = _mm512_unpackhi_epi64(ab_hi, cd_hi);
    }
    /* q[4g + c] (rows 4g..4g+3): quarter L holds words 4L + c of those
     * rows.  Output row 4L + c = quarter L of q[c], q[4 + c], q[8 + c],
     * q[12 + c]. */
    for (int c = 0; c < 4; c++) {
        __m512i x01 = _mm512_shuffle_i32x4(q[c], q[4 + c], 0x44); /* L0 L1 | L0 L1 */
        __m512i y01 = _mm512_shuffle_i32x4(q[c], q[4 + c], 0xEE); /* L2 L3 | L2 L3 */
        __m512i x23 = _mm512_shuffle_i32x4(q[8 + c], q[12 + c], 0x44);
        __m512i y23 = _mm512_shuffle_i32x4(q[8 + c], q[12 + c], 0xEE);
        t[c] = _mm512_shuffle_i32x4(x01, x23, 0x88);
        t[4 + c] = _mm512_shuffle_i32x4(x01, x23, 0xDD);
        t[8 + c] = _mm512_shuffle_i32x4(y01, y23, 0x88);
        t[12 + c] = _mm512_shuffle_i32x4(y01, y23, 0xDD);
    }
}

#include "hash/blake3_simd.h"

adb_b3_ops_t const adb_blake3_ops_avx512 = {
    .name = "avx512",
    .lane_cnt = B3_W,
    .compress_cv = b3_compress_cv,
    .compress_xof = b3_compress_xof,
    .hash_many = adb_blake3_avx512_hash_many,
    .xof_many = adb_blake3_avx512_xof_many,
    .lt_lanes = b3_lt_lanes,
    .lt_fold = b3_lt_fold,
};
