/* src/hash/blake3_avx2.c - BLAKE3 kernels with AVX2: 8 lanes of 256 bits.
 * Compiled with -mavx2 (module.mk); only reached through the dispatcher in
 * blake3.c after a CPU check.  The kernel bodies are in the template
 * blake3_simd.h. */
#include "hash/blake3_private.h"

#include <immintrin.h>

#define B3_W           8
#define B3_PFX(x)      adb_blake3_avx2_##x
#define B3_ROUNDS_LOOP 1
typedef __m256i b3v_t;

/* pshufb masks rotating each 32-bit word right by 16 and by 8 bits. */
#define B3_ROT16_MASK _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2)
#define B3_ROT8_MASK  _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1)

#define b3r_ror16(x) _mm_shuffle_epi8((x), B3_ROT16_MASK)
#define b3r_ror8(x)  _mm_shuffle_epi8((x), B3_ROT8_MASK)
#define b3r_ror12(x) _mm_or_si128(_mm_srli_epi32((x), 12), _mm_slli_epi32((x), 20))
#define b3r_ror7(x)  _mm_or_si128(_mm_srli_epi32((x), 7), _mm_slli_epi32((x), 25))

#define b3v_set1(x)      _mm256_set1_epi32((int)(uint32_t)(x))
#define b3v_add(a, b)    _mm256_add_epi32((a), (b))
#define b3v_add16(a, b)  _mm256_add_epi16((a), (b))
#define b3v_xor(a, b)    _mm256_xor_si256((a), (b))
#define b3v_ror16(x)     _mm256_shuffle_epi8((x), _mm256_broadcastsi128_si256(B3_ROT16_MASK))
#define b3v_ror8(x)      _mm256_shuffle_epi8((x), _mm256_broadcastsi128_si256(B3_ROT8_MASK))
#define b3v_ror12(x)     _mm256_or_si256(_mm256_srli_epi32((x), 12), _mm256_slli_epi32((x), 20))
#define b3v_ror7(x)      _mm256_or_si256(_mm256_srli_epi32((x), 7), _mm256_slli_epi32((x), 25))
#define b3v_loadu(p)     _mm256_loadu_si256((__m256i const *)(void const *)(p))
#define b3v_storeu(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define b3v_sel(m, a, b) _mm256_blendv_epi8((b), (a), (m))

/* 8x8 words: 4x4 transposes inside each 128-bit half, then the halves of
 * rows r and r+4 swapped into place. */
static inline __attribute__((always_inline)) void
b3v_transpose(b3v_t t[8]) {
    __m256i q[8];
    for (int k = 0; k < 8; k += 4) {
        __m256i ab_lo = _mm256_unpacklo_epi32(t[k], t[k + 1]);
        __m256i ab_hi = _mm256_unpackhi_epi32(t[k], t[k + 1]);
        __m256i cd_lo = _mm256_unpacklo_epi32(t[k + 2], t[k + 3]);
        __m256i cd_hi = _mm256_unpackhi_epi32(t[k + 2], t[k + 3]);
        q[k] = _mm256_unpacklo_epi64(ab_lo, cd_lo);
        q[k + 1] = _mm256_unpackhi_epi64(ab_lo, cd_lo);
        q[k + 2] = _mm256_unpacklo_epi64(ab_hi, cd_hi);
        q[k + 3] = _mm256_unpackhi_epi64(ab_hi, cd_hi);
    }
    /* q[c] (rows 0..3) and q[4 + c] (rows 4..7): half h holds words
     * 4h + c of those rows. */
    for (int c = 0; c < 4; c++) {
        t[c] = _mm256_permute2x128_si256(q[c], q[4 + c], 0x20);
        t[4 + c] = _mm256_permute2x128_si256(q[c], q[4 + c], 0x31);
    }
}

#include "hash/blake3_simd.h"

adb_b3_ops_t const adb_blake3_ops_avx2 = {
    .name = "avx2",
    .lane_cnt = B3_W,
    .compress_cv = b3_compress_cv,
    .compress_xof = b3_compress_xof,
    .hash_many = adb_blake3_avx2_hash_many,
    .xof_many = adb_blake3_avx2_xof_many,
    .lt_lanes = b3_lt_lanes,
    .lt_fold = b3_lt_fold,
};
