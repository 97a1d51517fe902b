/* src/hash/blake3_sse41.c - BLAKE3 kernels with SSE4.1: 4 lanes of 128
 * bits.  Compiled with -msse4.1 (module.mk); only reached through the
 * dispatcher in blake3.c after a CPU check.  The kernel bodies are in the
 * template blake3_simd.h. */
#include "hash/blake3_private.h"

#include <immintrin.h>

#define B3_W           4
#define B3_PFX(x)      adb_blake3_sse41_##x
#define B3_ROUNDS_LOOP 1
typedef __m128i b3v_t;

/* pshufb masks rotating each 32-bit word right by 16 and by 8 bits. */
#define B3_ROT16_MASK _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2)
#define B3_ROT8_MASK  _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1)

#define b3r_ror16(x) _mm_shuffle_epi8((x), B3_ROT16_MASK)
#define b3r_ror8(x)  _mm_shuffle_epi8((x), B3_ROT8_MASK)
#define b3r_ror12(x) _mm_or_si128(_mm_srli_epi32((x), 12), _mm_slli_epi32((x), 20))
#define b3r_ror7(x)  _mm_or_si128(_mm_srli_epi32((x), 7), _mm_slli_epi32((x), 25))

#define b3v_set1(x)      _mm_set1_epi32((int)(uint32_t)(x))
#define b3v_add(a, b)    _mm_add_epi32((a), (b))
#define b3v_add16(a, b)  _mm_add_epi16((a), (b))
#define b3v_xor(a, b)    _mm_xor_si128((a), (b))
#define b3v_ror16(x)     b3r_ror16(x)
#define b3v_ror12(x)     b3r_ror12(x)
#define b3v_ror8(x)      b3r_ror8(x)
#define b3v_ror7(x)      b3r_ror7(x)
#define b3v_loadu(p)     _mm_loadu_si128((__m128i const *)(void const *)(p))
#define b3v_storeu(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))
#define b3v_sel(m, a, b) _mm_blendv_epi8((b), (a), (m))

static inline __attribute__((always_inline)) void
b3v_transpose(b3v_t t[4]) {
    __m128i ab_lo = _mm_unpacklo_epi32(t[0], t[1]);
    __m128i ab_hi = _mm_unpackhi_epi32(t[0], t[1]);
    __m128i cd_lo = _mm_unpacklo_epi32(t[2], t[3]);
    __m128i cd_hi = _mm_unpackhi_epi32(t[2], t[3]);
    t[0] = _mm_unpacklo_epi64(ab_lo, cd_lo);
    t[1] = _mm_unpackhi_epi64(ab_lo, cd_lo);
    t[2] = _mm_unpacklo_epi64(ab_hi, cd_hi);
    t[3] = _mm_unpackhi_epi64(ab_hi, cd_hi);
}

#include "hash/blake3_simd.h"

adb_b3_ops_t const adb_blake3_ops_sse41 = {
    .name = "sse41",
    .lane_cnt = B3_W,
    .compress_cv = b3_compress_cv,
    .compress_xof = b3_compress_xof,
    .hash_many = adb_blake3_sse41_hash_many,
    .xof_many = adb_blake3_sse41_xof_many,
    .lt_lanes = b3_lt_lanes,
    .lt_fold = b3_lt_fold,
};
