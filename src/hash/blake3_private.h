/* src/hash/blake3_private.h - what the BLAKE3 files of src/hash share: the
 * constants of the algorithm and the table of kernels each implementation
 * (portable, SSE4.1, AVX2, AVX-512) provides to the hasher in blake3.c.
 *
 * Words are little-endian 32-bit.  A compression takes a chaining value
 * (8 words), a 64-byte block, a 64-bit counter, the block's length and the
 * flags below; it yields 16 words, of which the first 8 are the next
 * chaining value and all 16 are output when the node is the root. */
#ifndef ADB_HASH_BLAKE3_PRIVATE_H
#define ADB_HASH_BLAKE3_PRIVATE_H

#include "hash/blake3.h"

enum {
    ADB_B3_CHUNK_START = 1,
    ADB_B3_CHUNK_END = 2,
    ADB_B3_PARENT = 4,
    ADB_B3_ROOT = 8,
};

#define ADB_B3_LANE_MAX    16 /* widest kernel (AVX-512) */
#define ADB_B3_XOF_BLK_CNT 32 /* 2048 output bytes = 32 blocks */

/* The initial value: the first 32 bits of the fractional parts of the
 * square roots of the first 8 primes (shared with SHA-256). */
#define ADB_B3_IV0 0x6A09E667u
#define ADB_B3_IV1 0xBB67AE85u
#define ADB_B3_IV2 0x3C6EF372u
#define ADB_B3_IV3 0xA54FF53Au
#define ADB_B3_IV4 0x510E527Fu
#define ADB_B3_IV5 0x9B05688Cu
#define ADB_B3_IV6 0x1F83D9ABu
#define ADB_B3_IV7 0x5BE0CD19u

extern uint32_t const adb_blake3_iv[8];

/* adb_blake3_sched[r][i]: the message word fed as the i-th input of round
 * r (round 0 is the identity; each later round applies the fixed
 * permutation 2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8 to the previous one). */
extern uint8_t const adb_blake3_sched[7][16];

/* One message of a 2048-byte batch, already gathered into a buffer.
 * buf has ADB_BLAKE3_CHUNK_SZ readable bytes; the message fills
 * blk_cnt - 1 full blocks and last_sz bytes of block blk_cnt - 1, whose
 * remaining bytes are zero. */
typedef struct adb_b3_lane {
    uint8_t const *buf;
    uint8_t       *out;     /* 2048 bytes, used when not summing */
    uint32_t       blk_cnt; /* 1..16 */
    uint32_t       last_sz; /* 0..64 (0 only for the empty message) */
} adb_b3_lane_t;

/* The kernels of one implementation.  Pointers to input and output bytes
 * need no alignment, except acc (64-byte aligned). */
typedef struct adb_b3_ops {
    char const *name;
    size_t      lane_cnt; /* messages per SIMD pass: 1, 4, 8 or 16 */

    /* cv = first half of compress(cv, blk, ctr, blk_sz, flags). */
    void (*compress_cv)(uint32_t cv[8], uint8_t const blk[64], uint64_t ctr, uint32_t blk_sz,
                        uint32_t flags);

    /* out = all 16 output words of compress(cv, blk, ctr, blk_sz, flags). */
    void (*compress_xof)(uint32_t const cv[8], uint8_t const blk[64], uint64_t ctr, uint32_t blk_sz,
                         uint32_t flags, uint8_t out[64]);

    /* For i < in_cnt: the chaining value of blk_cnt full blocks at
     * in + i*in_stride, starting from key, with counter ctr (+ i when
     * ctr_inc), flags on every block, flags_start added on the first and
     * flags_end on the last; written to out + 32*i.  Chunks: stride 1024,
     * 16 blocks; parents: stride 64, 1 block.  out may equal in (parents
     * reduced in place: every lane is read before its output is written and
     * output i never lies past input i). */
    void (*hash_many)(uint8_t const *in, size_t in_stride, size_t in_cnt, size_t blk_cnt,
                      uint32_t const key[8], uint64_t ctr, bool ctr_inc, uint32_t flags,
                      uint32_t flags_start, uint32_t flags_end, uint8_t *out);

    /* out[64*j ..] = output block ctr + j of the root node (cv, blk,
     * blk_sz, flags, which include ADB_B3_ROOT), for j < out_blk_cnt. */
    void (*xof_many)(uint32_t const cv[8], uint8_t const blk[64], uint32_t blk_sz, uint32_t flags,
                     uint64_t ctr, size_t out_blk_cnt, uint8_t *out);

    /* The 2048-byte outputs of lanes[0..lane_cnt), lane_cnt <= this
     * implementation's lane_cnt: added as u16 into acc (2048 bytes in this
     * implementation's own layout, zeroed by the caller) when acc != NULL,
     * else written to each lane's out. */
    void (*lt_lanes)(adb_b3_lane_t const *lanes, size_t lane_cnt, uint8_t *acc);

    /* sum += acc, converting acc from this implementation's layout. */
    void (*lt_fold)(uint8_t const *acc, uint16_t sum[1024]);
} adb_b3_ops_t;

extern adb_b3_ops_t const adb_blake3_ops_portable;
extern adb_b3_ops_t const adb_blake3_ops_sse41;
extern adb_b3_ops_t const adb_blake3_ops_avx2;
extern adb_b3_ops_t const adb_blake3_ops_avx512;

/* The portable kernels, which the SIMD files call for remainders. */
void adb_blake3_portable_compress_cv(uint32_t cv[8], uint8_t const blk[64], uint64_t ctr,
                                     uint32_t blk_sz, uint32_t flags);
void adb_blake3_portable_compress_xof(uint32_t const cv[8], uint8_t const blk[64], uint64_t ctr,
                                      uint32_t blk_sz, uint32_t flags, uint8_t out[64]);
void adb_blake3_portable_hash_many(uint8_t const *in, size_t in_stride, size_t in_cnt,
                                   size_t blk_cnt, uint32_t const key[8], uint64_t ctr,
                                   bool ctr_inc, uint32_t flags, uint32_t flags_start,
                                   uint32_t flags_end, uint8_t *out);
void adb_blake3_portable_xof_many(uint32_t const cv[8], uint8_t const blk[64], uint32_t blk_sz,
                                  uint32_t flags, uint64_t ctr, size_t out_blk_cnt, uint8_t *out);

/* The narrower SIMD kernels, which the wider files use for remainders (a
 * CPU with AVX-512 has AVX2, and one with AVX2 has SSE4.1: the dispatcher
 * checks both). */
void adb_blake3_sse41_hash_many(uint8_t const *in, size_t in_stride, size_t in_cnt, size_t blk_cnt,
                                uint32_t const key[8], uint64_t ctr, bool ctr_inc, uint32_t flags,
                                uint32_t flags_start, uint32_t flags_end, uint8_t *out);
void adb_blake3_sse41_xof_many(uint32_t const cv[8], uint8_t const blk[64], uint32_t blk_sz,
                               uint32_t flags, uint64_t ctr, size_t out_blk_cnt, uint8_t *out);
void adb_blake3_avx2_hash_many(uint8_t const *in, size_t in_stride, size_t in_cnt, size_t blk_cnt,
                               uint32_t const key[8], uint64_t ctr, bool ctr_inc, uint32_t flags,
                               uint32_t flags_start, uint32_t flags_end, uint8_t *out);
void adb_blake3_avx2_xof_many(uint32_t const cv[8], uint8_t const blk[64], uint32_t blk_sz,
                              uint32_t flags, uint64_t ctr, size_t out_blk_cnt, uint8_t *out);
void adb_blake3_avx512_hash_many(uint8_t const *in, size_t in_stride, size_t in_cnt, size_t blk_cnt,
                                 uint32_t const key[8], uint64_t ctr, bool ctr_inc, uint32_t flags,
                                 uint32_t flags_start, uint32_t flags_end, uint8_t *out);
void adb_blake3_avx512_xof_many(uint32_t const cv[8], uint8_t const blk[64], uint32_t blk_sz,
                                uint32_t flags, uint64_t ctr, size_t out_blk_cnt, uint8_t *out);

/* sum[i] += the u16 at bytes 2i, 2i+1 of blocks (n bytes, n even). */
static inline void
adb_b3_add_u16(uint16_t *sum, uint8_t const *bytes, size_t n) {
    for (size_t i = 0; i < n / 2; i++) {
        uint16_t v;
        memcpy(&v, bytes + 2 * i, 2);
        sum[i] = (uint16_t)(sum[i] + v);
    }
}

#endif
