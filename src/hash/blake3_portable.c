/* src/hash/blake3_portable.c - the plain C kernels: one compression at a
 * time.  Always available; the SIMD files use them for remainders. */
#include "hash/blake3_private.h"

uint32_t const adb_blake3_iv[8] = {ADB_B3_IV0, ADB_B3_IV1, ADB_B3_IV2, ADB_B3_IV3,
                                   ADB_B3_IV4, ADB_B3_IV5, ADB_B3_IV6, ADB_B3_IV7};

uint8_t const adb_blake3_sched[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

static inline uint32_t
ror32(uint32_t x, unsigned n) {
    return (x >> n) | (x << (32 - n));
}

/* The quarter-round on words a, b, c, d of the state with message words
 * x and y. */
#define G(a, b, c, d, x, y)                                                                        \
    do {                                                                                           \
        s[a] = s[a] + s[b] + (x);                                                                  \
        s[d] = ror32(s[d] ^ s[a], 16);                                                             \
        s[c] = s[c] + s[d];                                                                        \
        s[b] = ror32(s[b] ^ s[c], 12);                                                             \
        s[a] = s[a] + s[b] + (y);                                                                  \
        s[d] = ror32(s[d] ^ s[a], 8);                                                              \
        s[c] = s[c] + s[d];                                                                        \
        s[b] = ror32(s[b] ^ s[c], 7);                                                              \
    } while (0)

/* One round; written out for each r so the schedule folds to constants. */
#define ROUND(r)                                                                                   \
    do {                                                                                           \
        G(0, 4, 8, 12, m[adb_blake3_sched[r][0]], m[adb_blake3_sched[r][1]]);                      \
        G(1, 5, 9, 13, m[adb_blake3_sched[r][2]], m[adb_blake3_sched[r][3]]);                      \
        G(2, 6, 10, 14, m[adb_blake3_sched[r][4]], m[adb_blake3_sched[r][5]]);                     \
        G(3, 7, 11, 15, m[adb_blake3_sched[r][6]], m[adb_blake3_sched[r][7]]);                     \
        G(0, 5, 10, 15, m[adb_blake3_sched[r][8]], m[adb_blake3_sched[r][9]]);                     \
        G(1, 6, 11, 12, m[adb_blake3_sched[r][10]], m[adb_blake3_sched[r][11]]);                   \
        G(2, 7, 8, 13, m[adb_blake3_sched[r][12]], m[adb_blake3_sched[r][13]]);                    \
        G(3, 4, 9, 14, m[adb_blake3_sched[r][14]], m[adb_blake3_sched[r][15]]);                    \
    } while (0)

/* s = the 16-word state after the 7 rounds. */
static inline void
compress_state(uint32_t s[16], uint32_t const cv[8], uint8_t const blk[64], uint64_t ctr,
               uint32_t blk_sz, uint32_t flags) {
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = adb_load_u32(blk + 4 * i);
    for (int i = 0; i < 8; i++)
        s[i] = cv[i];
    for (int i = 0; i < 4; i++)
        s[8 + i] = adb_blake3_iv[i];
    s[12] = (uint32_t)ctr;
    s[13] = (uint32_t)(ctr >> 32);
    s[14] = blk_sz;
    s[15] = flags;
    ROUND(0);
    ROUND(1);
    ROUND(2);
    ROUND(3);
    ROUND(4);
    ROUND(5);
    ROUND(6);
}

void
adb_blake3_portable_compress_cv(uint32_t cv[8], uint8_t const blk[64], uint64_t ctr,
                                uint32_t blk_sz, uint32_t flags) {
    uint32_t s[16];
    compress_state(s, cv, blk, ctr, blk_sz, flags);
    for (int i = 0; i < 8; i++)
        cv[i] = s[i] ^ s[i + 8];
}

void
adb_blake3_portable_compress_xof(uint32_t const cv[8], uint8_t const blk[64], uint64_t ctr,
                                 uint32_t blk_sz, uint32_t flags, uint8_t out[64]) {
    uint32_t s[16];
    compress_state(s, cv, blk, ctr, blk_sz, flags);
    for (int i = 0; i < 8; i++) {
        adb_store_u32(out + 4 * i, s[i] ^ s[i + 8]);
        adb_store_u32(out + 32 + 4 * i, s[i + 8] ^ cv[i]);
    }
}

void
adb_blake3_portable_hash_many(uint8_t const *in, size_t in_stride, size_t in_cnt, size_t blk_cnt,
                              uint32_t const key[8], uint64_t ctr, bool ctr_inc, uint32_t flags,
                              uint32_t flags_start, uint32_t flags_end, uint8_t *out) {
    for (size_t i = 0; i < in_cnt; i++) {
        uint32_t       cv[8];
        uint8_t const *p = in + i * in_stride;
        memcpy(cv, key, sizeof cv);
        for (size_t j = 0; j < blk_cnt; j++) {
            uint32_t f = flags;
            if (j == 0) f |= flags_start;
            if (j + 1 == blk_cnt) f |= flags_end;
            adb_blake3_portable_compress_cv(cv, p + 64 * j, ctr, 64, f);
        }
        /* Lane i's input is fully read: out may alias in. */
        for (int w = 0; w < 8; w++)
            adb_store_u32(out + 32 * i + 4 * w, cv[w]);
        if (ctr_inc) ctr++;
    }
}

void
adb_blake3_portable_xof_many(uint32_t const cv[8], uint8_t const blk[64], uint32_t blk_sz,
                             uint32_t flags, uint64_t ctr, size_t out_blk_cnt, uint8_t *out) {
    for (size_t j = 0; j < out_blk_cnt; j++)
        adb_blake3_portable_compress_xof(cv, blk, ctr + j, blk_sz, flags, out + 64 * j);
}

static void
lt_lanes(adb_b3_lane_t const *lanes, size_t lane_cnt, uint8_t *acc) {
    for (size_t i = 0; i < lane_cnt; i++) {
        adb_b3_lane_t const *l = &lanes[i];
        uint32_t             cv[8];
        memcpy(cv, adb_blake3_iv, sizeof cv);
        for (uint32_t j = 0; j + 1 < l->blk_cnt; j++)
            adb_blake3_portable_compress_cv(cv, l->buf + 64 * j, 0, 64,
                                            j == 0 ? ADB_B3_CHUNK_START : 0);
        uint8_t const *last = l->buf + 64 * (l->blk_cnt - 1);
        uint32_t f = ADB_B3_CHUNK_END | ADB_B3_ROOT | (l->blk_cnt == 1 ? ADB_B3_CHUNK_START : 0);
        for (uint64_t t = 0; t < ADB_B3_XOF_BLK_CNT; t++) {
            uint8_t blk[64];
            adb_blake3_portable_compress_xof(cv, last, t, l->last_sz, f, blk);
            if (acc)
                adb_b3_add_u16((uint16_t *)(void *)acc + 32 * t, blk, 64);
            else
                memcpy(l->out + 64 * t, blk, 64);
        }
    }
}

/* The portable accumulator is in natural order. */
static void
lt_fold(uint8_t const *acc, uint16_t sum[1024]) {
    adb_b3_add_u16(sum, acc, 2048);
}

adb_b3_ops_t const adb_blake3_ops_portable = {
    .name = "portable",
    .lane_cnt = 1,
    .compress_cv = adb_blake3_portable_compress_cv,
    .compress_xof = adb_blake3_portable_compress_xof,
    .hash_many = adb_blake3_portable_hash_many,
    .xof_many = adb_blake3_portable_xof_many,
    .lt_lanes = lt_lanes,
    .lt_fold = lt_fold,
};
