/* src/hash/blake3_simd.h - the body of the SIMD kernels, written once for
 * any vector width.  Not a normal header: blake3_sse41.c, blake3_avx2.c and
 * blake3_avx512.c each define the vector primitives below for their
 * instruction set and then include this file, which expands into that
 * file's kernels.  Everything here is static except B3_PFX(hash_many) and
 * B3_PFX(xof_many).
 *
 * The including file defines:
 *
 *   B3_W               lanes per vector: 4, 8 or 16
 *   b3v_t              vector of B3_W 32-bit words
 *   B3_PFX(x)          adb_blake3_<impl>_##x, for the exported kernels
 *   B3_ROUNDS_LOOP     1: keep the 7 rounds a loop, which reads the message
 *                      from memory and suits 16-register files; 0: unroll
 *                      them with the schedule folded (32 registers)
 *   b3v_set1(u32)      every lane = u32
 *   b3v_add(a, b)      lane-wise 32-bit add;  b3v_add16: 16-bit add
 *   b3v_xor(a, b)
 *   b3v_ror16/12/8/7(a)   rotate every lane right
 *   b3v_loadu(p), b3v_storeu(p, v)   unaligned
 *   b3v_sel(m, a, b)   lanes of a where m's lane is all ones, else b
 *   b3v_transpose(t)   t[0..B3_W) as a B3_W x B3_W matrix of words,
 *                      transposed in place
 *   b3r_ror16/12/8/7(x)   the same rotations on __m128i (one-block path)
 *
 * LAYOUT.  Wide kernels keep the 16 state words "transposed": vector k
 * holds word k of B3_W independent compressions, one per lane.  Message
 * blocks arrive as rows (64 contiguous bytes per lane) and are transposed
 * on load; outputs are transposed back on store.  The lattice accumulator
 * skips the transpose back: it adds output vectors as they come out, and
 * b3_lt_fold transposes once at the end.
 */
#ifndef B3_W
#error "blake3_simd.h is a template: include it from a blake3_<isa>.c file"
#endif

#define B3_INLINE         static inline __attribute__((always_inline))
#define B3_SH(z, y, x, w) (((z) << 6) | ((y) << 4) | ((x) << 2) | (w))

/* A local copy of the schedule, so the compiler folds the indices. */
static uint8_t const b3_sched[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

/* ======================================================================== */
/* One block at a time: the state as four rows of four words                */
/* ======================================================================== */

/* Half a quarter-round on all four columns (or diagonals) at once. */
#define B3R_HALF(r0, r1, r2, r3, m, ROT_D, ROT_B)                                                  \
    do {                                                                                           \
        r0 = _mm_add_epi32(_mm_add_epi32(r0, r1), m);                                              \
        r3 = ROT_D(_mm_xor_si128(r3, r0));                                                         \
        r2 = _mm_add_epi32(r2, r3);                                                                \
        r1 = ROT_B(_mm_xor_si128(r1, r2));                                                         \
    } while (0)

#define B3R_PS(x) _mm_castsi128_ps(x)
#define B3R_PI(x) _mm_castps_si128(x)

/* r = the state after 7 rounds, from rows r[0..4) and the block.  The
 * message is kept as four vectors: a = words 0,2,4,6 and b = 1,3,5,7 of
 * the round's schedule (column inputs), c = 8,10,12,14 and d = 9,11,13,15
 * (diagonal inputs).  Between rounds the schedule's permutation maps them
 * to a' = (a1,b1,b3,a2), b' = (a3,c1,a0,d2), c' = (b0,c2,d0,d3),
 * d' = (d1,b2,c3,c0), done with shuffles below. */
B3_INLINE void
b3r_rounds(__m128i r[4], uint8_t const blk[64]) {
    __m128  q0 = B3R_PS(_mm_loadu_si128((__m128i const *)(void const *)blk));
    __m128  q1 = B3R_PS(_mm_loadu_si128((__m128i const *)(void const *)(blk + 16)));
    __m128  q2 = B3R_PS(_mm_loadu_si128((__m128i const *)(void const *)(blk + 32)));
    __m128  q3 = B3R_PS(_mm_loadu_si128((__m128i const *)(void const *)(blk + 48)));
    __m128i a = B3R_PI(_mm_shuffle_ps(q0, q1, B3_SH(2, 0, 2, 0)));
    __m128i b = B3R_PI(_mm_shuffle_ps(q0, q1, B3_SH(3, 1, 3, 1)));
    __m128i c = B3R_PI(_mm_shuffle_ps(q2, q3, B3_SH(2, 0, 2, 0)));
    __m128i d = B3R_PI(_mm_shuffle_ps(q2, q3, B3_SH(3, 1, 3, 1)));
    __m128i r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
    for (int rd = 0; rd < 7; rd++) {
        B3R_HALF(r0, r1, r2, r3, a, b3r_ror16, b3r_ror12);
        B3R_HALF(r0, r1, r2, r3, b, b3r_ror8, b3r_ror7);
        /* Rotate rows 1..3 left by 1..3 words: columns become diagonals. */
        r1 = _mm_shuffle_epi32(r1, B3_SH(0, 3, 2, 1));
        r2 = _mm_shuffle_epi32(r2, B3_SH(1, 0, 3, 2));
        r3 = _mm_shuffle_epi32(r3, B3_SH(2, 1, 0, 3));
        B3R_HALF(r0, r1, r2, r3, c, b3r_ror16, b3r_ror12);
        B3R_HALF(r0, r1, r2, r3, d, b3r_ror8, b3r_ror7);
        r1 = _mm_shuffle_epi32(r1, B3_SH(2, 1, 0, 3));
        r2 = _mm_shuffle_epi32(r2, B3_SH(1, 0, 3, 2));
        r3 = _mm_shuffle_epi32(r3, B3_SH(0, 3, 2, 1));
        if (rd == 6) break;
        __m128  A = B3R_PS(a), B = B3R_PS(b), C = B3R_PS(c), D = B3R_PS(d);
        __m128i na =
            _mm_shuffle_epi32(B3R_PI(_mm_shuffle_ps(A, B, B3_SH(3, 1, 2, 1))), B3_SH(1, 3, 2, 0));
        __m128  u = _mm_shuffle_ps(C, D, B3_SH(2, 2, 1, 1));
        __m128i nb =
            _mm_shuffle_epi32(B3R_PI(_mm_shuffle_ps(A, u, B3_SH(2, 0, 0, 3))), B3_SH(3, 1, 2, 0));
        __m128  t = _mm_shuffle_ps(B, C, B3_SH(2, 2, 0, 0));
        __m128i nc = B3R_PI(_mm_shuffle_ps(t, D, B3_SH(3, 0, 2, 0)));
        __m128  s = _mm_shuffle_ps(D, B, B3_SH(2, 2, 1, 1));
        __m128i nd = B3R_PI(_mm_shuffle_ps(s, C, B3_SH(0, 3, 2, 0)));
        a = na, b = nb, c = nc, d = nd;
    }
    r[0] = r0, r[1] = r1, r[2] = r2, r[3] = r3;
}

B3_INLINE void
b3r_init(__m128i r[4], uint32_t const cv[8], uint64_t ctr, uint32_t blk_sz, uint32_t flags) {
    r[0] = _mm_loadu_si128((__m128i const *)(void const *)cv);
    r[1] = _mm_loadu_si128((__m128i const *)(void const *)(cv + 4));
    r[2] = _mm_set_epi32((int)ADB_B3_IV3, (int)ADB_B3_IV2, (int)ADB_B3_IV1, (int)ADB_B3_IV0);
    r[3] = _mm_set_epi32((int)flags, (int)blk_sz, (int)(uint32_t)(ctr >> 32), (int)(uint32_t)ctr);
}

static void
b3_compress_cv(uint32_t cv[8], uint8_t const blk[64], uint64_t ctr, uint32_t blk_sz,
               uint32_t flags) {
    __m128i r[4];
    b3r_init(r, cv, ctr, blk_sz, flags);
    b3r_rounds(r, blk);
    _mm_storeu_si128((__m128i *)(void *)cv, _mm_xor_si128(r[0], r[2]));
    _mm_storeu_si128((__m128i *)(void *)(cv + 4), _mm_xor_si128(r[1], r[3]));
}

static void
b3_compress_xof(uint32_t const cv[8], uint8_t const blk[64], uint64_t ctr, uint32_t blk_sz,
                uint32_t flags, uint8_t out[64]) {
    __m128i r[4];
    b3r_init(r, cv, ctr, blk_sz, flags);
    b3r_rounds(r, blk);
    __m128i c0 = _mm_loadu_si128((__m128i const *)(void const *)cv);
    __m128i c1 = _mm_loadu_si128((__m128i const *)(void const *)(cv + 4));
    _mm_storeu_si128((__m128i *)(void *)out, _mm_xor_si128(r[0], r[2]));
    _mm_storeu_si128((__m128i *)(void *)(out + 16), _mm_xor_si128(r[1], r[3]));
    _mm_storeu_si128((__m128i *)(void *)(out + 32), _mm_xor_si128(r[2], c0));
    _mm_storeu_si128((__m128i *)(void *)(out + 48), _mm_xor_si128(r[3], c1));
}

/* ======================================================================== */
/* B3_W compressions at a time: transposed state                            */
/* ======================================================================== */

/* Each compression is a chain of dependent operations (about 200 of them
 * per block), so one set of B3_W lanes leaves most of the core idle: the
 * kernels below run two independent sets ("x2": v0 and v1) interleaved
 * operation by operation whenever they have the work for it. */

#define B3V_G(a, b, c, d, x, y)                                                                    \
    do {                                                                                           \
        v[a] = b3v_add(b3v_add(v[a], v[b]), x);                                                    \
        v[d] = b3v_ror16(b3v_xor(v[d], v[a]));                                                     \
        v[c] = b3v_add(v[c], v[d]);                                                                \
        v[b] = b3v_ror12(b3v_xor(v[b], v[c]));                                                     \
        v[a] = b3v_add(b3v_add(v[a], v[b]), y);                                                    \
        v[d] = b3v_ror8(b3v_xor(v[d], v[a]));                                                      \
        v[c] = b3v_add(v[c], v[d]);                                                                \
        v[b] = b3v_ror7(b3v_xor(v[b], v[c]));                                                      \
    } while (0)

#define B3V_G2(a, b, c, d, x0, y0, x1, y1)                                                         \
    do {                                                                                           \
        v0[a] = b3v_add(b3v_add(v0[a], v0[b]), x0);                                                \
        v1[a] = b3v_add(b3v_add(v1[a], v1[b]), x1);                                                \
        v0[d] = b3v_ror16(b3v_xor(v0[d], v0[a]));                                                  \
        v1[d] = b3v_ror16(b3v_xor(v1[d], v1[a]));                                                  \
        v0[c] = b3v_add(v0[c], v0[d]);                                                             \
        v1[c] = b3v_add(v1[c], v1[d]);                                                             \
        v0[b] = b3v_ror12(b3v_xor(v0[b], v0[c]));                                                  \
        v1[b] = b3v_ror12(b3v_xor(v1[b], v1[c]));                                                  \
        v0[a] = b3v_add(b3v_add(v0[a], v0[b]), y0);                                                \
        v1[a] = b3v_add(b3v_add(v1[a], v1[b]), y1);                                                \
        v0[d] = b3v_ror8(b3v_xor(v0[d], v0[a]));                                                   \
        v1[d] = b3v_ror8(b3v_xor(v1[d], v1[a]));                                                   \
        v0[c] = b3v_add(v0[c], v0[d]);                                                             \
        v1[c] = b3v_add(v1[c], v1[d]);                                                             \
        v0[b] = b3v_ror7(b3v_xor(v0[b], v0[c]));                                                   \
        v1[b] = b3v_ror7(b3v_xor(v1[b], v1[c]));                                                   \
    } while (0)

B3_INLINE void
b3v_round(b3v_t v[16], b3v_t const m[16], int r) {
    uint8_t const *z = b3_sched[r];
    B3V_G(0, 4, 8, 12, m[z[0]], m[z[1]]);
    B3V_G(1, 5, 9, 13, m[z[2]], m[z[3]]);
    B3V_G(2, 6, 10, 14, m[z[4]], m[z[5]]);
    B3V_G(3, 7, 11, 15, m[z[6]], m[z[7]]);
    B3V_G(0, 5, 10, 15, m[z[8]], m[z[9]]);
    B3V_G(1, 6, 11, 12, m[z[10]], m[z[11]]);
    B3V_G(2, 7, 8, 13, m[z[12]], m[z[13]]);
    B3V_G(3, 4, 9, 14, m[z[14]], m[z[15]]);
}

#define B3V_M2(i)    m0[z[i]], m0[z[(i) + 1]], m1[z[i]], m1[z[(i) + 1]]
#define B3V_G2X(...) B3V_G2(__VA_ARGS__) /* expands B3V_M2 first */

B3_INLINE void
b3v_round2(b3v_t v0[16], b3v_t v1[16], b3v_t const m0[16], b3v_t const m1[16], int r) {
    uint8_t const *z = b3_sched[r];
    B3V_G2X(0, 4, 8, 12, B3V_M2(0));
    B3V_G2X(1, 5, 9, 13, B3V_M2(2));
    B3V_G2X(2, 6, 10, 14, B3V_M2(4));
    B3V_G2X(3, 7, 11, 15, B3V_M2(6));
    B3V_G2X(0, 5, 10, 15, B3V_M2(8));
    B3V_G2X(1, 6, 11, 12, B3V_M2(10));
    B3V_G2X(2, 7, 8, 13, B3V_M2(12));
    B3V_G2X(3, 4, 9, 14, B3V_M2(14));
}

B3_INLINE void
b3v_init(b3v_t v[16], b3v_t const h[8], b3v_t ctr_lo, b3v_t ctr_hi, b3v_t blk_sz, b3v_t flags) {
    for (int i = 0; i < 8; i++)
        v[i] = h[i];
    v[8] = b3v_set1(ADB_B3_IV0);
    v[9] = b3v_set1(ADB_B3_IV1);
    v[10] = b3v_set1(ADB_B3_IV2);
    v[11] = b3v_set1(ADB_B3_IV3);
    v[12] = ctr_lo;
    v[13] = ctr_hi;
    v[14] = blk_sz;
    v[15] = flags;
}

/* v = the state after 7 rounds of B3_W compressions. */
B3_INLINE void
b3v_compress(b3v_t v[16], b3v_t const h[8], b3v_t const m[16], b3v_t ctr_lo, b3v_t ctr_hi,
             b3v_t blk_sz, b3v_t flags) {
    b3v_init(v, h, ctr_lo, ctr_hi, blk_sz, flags);
#if B3_ROUNDS_LOOP
    for (int r = 0; r < 7; r++)
        b3v_round(v, m, r);
#else
    b3v_round(v, m, 0);
    b3v_round(v, m, 1);
    b3v_round(v, m, 2);
    b3v_round(v, m, 3);
    b3v_round(v, m, 4);
    b3v_round(v, m, 5);
    b3v_round(v, m, 6);
#endif
}

/* Two independent sets; blk_sz and flags are shared. */
B3_INLINE void
b3v_compress2(b3v_t v0[16], b3v_t v1[16], b3v_t const h0[8], b3v_t const h1[8], b3v_t const m0[16],
              b3v_t const m1[16], b3v_t const lo[2], b3v_t const hi[2], b3v_t blk_sz, b3v_t flags) {
    b3v_init(v0, h0, lo[0], hi[0], blk_sz, flags);
    b3v_init(v1, h1, lo[1], hi[1], blk_sz, flags);
#if B3_ROUNDS_LOOP
    for (int r = 0; r < 7; r++)
        b3v_round2(v0, v1, m0, m1, r);
#else
    b3v_round2(v0, v1, m0, m1, 0);
    b3v_round2(v0, v1, m0, m1, 1);
    b3v_round2(v0, v1, m0, m1, 2);
    b3v_round2(v0, v1, m0, m1, 3);
    b3v_round2(v0, v1, m0, m1, 4);
    b3v_round2(v0, v1, m0, m1, 5);
    b3v_round2(v0, v1, m0, m1, 6);
#endif
}

/* m[k] = word k of the block at p[i] + off, for every lane i. */
B3_INLINE void
b3v_msg_load(uint8_t const *const p[B3_W], size_t off, b3v_t m[16]) {
    for (int g = 0; g < 16 / B3_W; g++) {
        b3v_t t[B3_W];
        for (int i = 0; i < B3_W; i++)
            t[i] = b3v_loadu(p[i] + off + 4 * B3_W * g);
        b3v_transpose(t);
        for (int i = 0; i < B3_W; i++)
            m[g * B3_W + i] = t[i];
    }
}

/* The B3_W output blocks held transposed in o, written as rows:
 * out[64*i ..] = lane i. */
B3_INLINE void
b3v_blocks_store(b3v_t const o[16], uint8_t *out) {
    for (int g = 0; g < 16 / B3_W; g++) {
        b3v_t t[B3_W];
        for (int i = 0; i < B3_W; i++)
            t[i] = o[g * B3_W + i];
        b3v_transpose(t);
        for (int i = 0; i < B3_W; i++)
            b3v_storeu(out + 64 * i + 4 * B3_W * g, t[i]);
    }
}

/* The counter words of lanes ctr + i (or ctr in every lane if !inc), for
 * set_cnt sets of B3_W lanes. */
B3_INLINE void
b3v_ctr(uint64_t ctr, bool inc, int set_cnt, b3v_t lo[], b3v_t hi[]) {
    for (int s = 0; s < set_cnt; s++) {
        uint32_t l[B3_W], h[B3_W];
        for (int i = 0; i < B3_W; i++) {
            uint64_t c = ctr + (inc ? (uint64_t)(s * B3_W + i) : 0);
            l[i] = (uint32_t)c;
            h[i] = (uint32_t)(c >> 32);
        }
        lo[s] = b3v_loadu(l);
        hi[s] = b3v_loadu(h);
    }
}

/* The 8 transposed CV vectors h as rows: out + 32*i = lane i. */
B3_INLINE void
b3v_cvs_store(b3v_t const h[8], uint8_t *out) {
    uint32_t t[8][B3_W];
    for (int w = 0; w < 8; w++)
        b3v_storeu(t[w], h[w]);
    for (int i = 0; i < B3_W; i++)
        for (int w = 0; w < 8; w++)
            adb_store_u32(out + 32 * i + 4 * w, t[w][i]);
}

/* ---- hash_many ---------------------------------------------------------- */

typedef struct b3_many_args {
    size_t          blk_cnt;
    uint32_t const *key;
    uint64_t        ctr;
    bool            ctr_inc;
    uint32_t        flags, flags_start, flags_end;
    size_t          pf_off; /* prefetch distance in bytes (0: none) */
} b3_many_args_t;

static inline uint32_t
b3_many_flags(b3_many_args_t const *a, size_t j) {
    uint32_t f = a->flags;
    if (j == 0) f |= a->flags_start;
    if (j + 1 == a->blk_cnt) f |= a->flags_end;
    return f;
}

/* B3_W lanes, inputs at p[i]; CVs to out (32*B3_W bytes). */
static void
b3_many_x1(uint8_t const *const p[B3_W], b3_many_args_t const *a, uint8_t *out) {
    b3v_t h[8], lo, hi, v[16], m[16];
    for (int i = 0; i < 8; i++)
        h[i] = b3v_set1(a->key[i]);
    b3v_ctr(a->ctr, a->ctr_inc, 1, &lo, &hi);
    for (size_t j = 0; j < a->blk_cnt; j++) {
        b3v_msg_load(p, 64 * j, m);
        b3v_compress(v, h, m, lo, hi, b3v_set1(64), b3v_set1(b3_many_flags(a, j)));
        for (int i = 0; i < 8; i++)
            h[i] = b3v_xor(v[i], v[i + 8]);
    }
    b3v_cvs_store(h, out);
}

/* 2*B3_W lanes, inputs at p[i]; CVs to out (64*B3_W bytes). */
static void
b3_many_x2(uint8_t const *const p[2 * B3_W], b3_many_args_t const *a, uint8_t *out) {
    b3v_t h0[8], h1[8], lo[2], hi[2], v0[16], v1[16], m0[16], m1[16];
    for (int i = 0; i < 8; i++)
        h0[i] = h1[i] = b3v_set1(a->key[i]);
    b3v_ctr(a->ctr, a->ctr_inc, 2, lo, hi);
    for (size_t j = 0; j < a->blk_cnt; j++) {
        if (a->pf_off)
            for (int i = 0; i < 2 * B3_W; i++)
                _mm_prefetch((char const *)(p[i] + a->pf_off + 64 * j), _MM_HINT_T0);
        b3v_msg_load(p, 64 * j, m0);
        b3v_msg_load(p + B3_W, 64 * j, m1);
        b3v_compress2(v0, v1, h0, h1, m0, m1, lo, hi, b3v_set1(64), b3v_set1(b3_many_flags(a, j)));
        for (int i = 0; i < 8; i++) {
            h0[i] = b3v_xor(v0[i], v0[i + 8]);
            h1[i] = b3v_xor(v1[i], v1[i + 8]);
        }
    }
    b3v_cvs_store(h0, out);
    b3v_cvs_store(h1, out + 32 * B3_W);
}

void
B3_PFX(hash_many)(uint8_t const *in, size_t in_stride, size_t in_cnt, size_t blk_cnt,
                  uint32_t const key[8], uint64_t ctr, bool ctr_inc, uint32_t flags,
                  uint32_t flags_start, uint32_t flags_end, uint8_t *out) {
    b3_many_args_t a = {blk_cnt, key, ctr, ctr_inc, flags, flags_start, flags_end, 0};
    uint8_t const *p[2 * B3_W];
    uint8_t        cvs[64 * B3_W];
    while (in_cnt > 1) {
        /* Full passes of 2*B3_W or B3_W lanes; a remainder runs in one
         * pass with its last input repeated in the unused lanes, which
         * costs no more time than a narrower kernel would. */
        size_t n = ADB_MIN(in_cnt, (size_t)2 * B3_W);
        size_t lanes = n > B3_W ? 2 * B3_W : B3_W;
        for (size_t i = 0; i < lanes; i++)
            p[i] = in + ADB_MIN(i, n - 1) * in_stride;
        a.pf_off = blk_cnt > 1 ? lanes * in_stride : 0; /* past the end: harmless */
        if (lanes == 2 * B3_W)
            b3_many_x2(p, &a, cvs);
        else
            b3_many_x1(p, &a, cvs);
        /* Every input of the pass is read: out may alias in. */
        memcpy(out, cvs, 32 * n);
        in += n * in_stride;
        out += 32 * n;
        in_cnt -= n;
        if (ctr_inc) a.ctr += n;
    }
    if (in_cnt) {
        uint32_t cv[8];
        memcpy(cv, key, sizeof cv);
        for (size_t j = 0; j < blk_cnt; j++)
            b3_compress_cv(cv, in + 64 * j, a.ctr, 64, b3_many_flags(&a, j));
        memcpy(out, cv, sizeof cv);
    }
}

/* ---- xof_many ----------------------------------------------------------- */

void
B3_PFX(xof_many)(uint32_t const cv[8], uint8_t const blk[64], uint32_t blk_sz, uint32_t flags,
                 uint64_t ctr, size_t out_blk_cnt, uint8_t *out) {
    if (out_blk_cnt > 1) {
        b3v_t h[8], m[16], v0[16], v1[16], lo[2], hi[2];
        for (int i = 0; i < 8; i++)
            h[i] = b3v_set1(cv[i]);
        for (int i = 0; i < 16; i++)
            m[i] = b3v_set1(adb_load_u32(blk + 4 * i));
        b3v_t const len = b3v_set1(blk_sz), fl = b3v_set1(flags);
        uint8_t     tmp[128 * B3_W];
        while (out_blk_cnt > 1) {
            size_t   n = ADB_MIN(out_blk_cnt, (size_t)2 * B3_W);
            uint8_t *dst = n == 2 * B3_W || n == B3_W ? out : tmp;
            b3v_ctr(ctr, true, 2, lo, hi);
            if (n > B3_W) {
                b3v_compress2(v0, v1, h, h, m, m, lo, hi, len, fl);
                for (int i = 0; i < 8; i++) {
                    v0[i] = b3v_xor(v0[i], v0[i + 8]);
                    v0[i + 8] = b3v_xor(v0[i + 8], h[i]);
                    v1[i] = b3v_xor(v1[i], v1[i + 8]);
                    v1[i + 8] = b3v_xor(v1[i + 8], h[i]);
                }
                b3v_blocks_store(v0, dst);
                b3v_blocks_store(v1, dst + 64 * B3_W);
            } else {
                b3v_compress(v0, h, m, lo[0], hi[0], len, fl);
                for (int i = 0; i < 8; i++) {
                    v0[i] = b3v_xor(v0[i], v0[i + 8]);
                    v0[i + 8] = b3v_xor(v0[i + 8], h[i]);
                }
                b3v_blocks_store(v0, dst);
            }
            if (dst == tmp) memcpy(out, tmp, 64 * n);
            out += 64 * n;
            ctr += n;
            out_blk_cnt -= n;
        }
    }
    if (out_blk_cnt) b3_compress_xof(cv, blk, ctr, blk_sz, flags, out);
}

/* ---- the lattice batch --------------------------------------------------
 * Lane i runs message i's chaining blocks (all but its last); lanes whose
 * message has fewer blocks keep their chaining value (masked).  Then each
 * message's root block gives its 32 output blocks, 2*B3_W at a time, with
 * the message and chaining value broadcast and only the counter differing
 * per lane.  The accumulator holds, for output group g (blocks
 * g*B3_W .. g*B3_W + B3_W - 1) and word k, one vector at
 * acc + (16*g + k) * 4*B3_W: lane i = word k of block g*B3_W + i.  Its u16
 * halves add independently, so the layout only has to be undone once. */

B3_INLINE void
b3v_acc_add(uint8_t *acc, int g, b3v_t const o[16]) {
    uint8_t *a = acc + (size_t)16 * g * 4 * B3_W;
    for (int k = 0; k < 16; k++)
        b3v_storeu(a + 4 * B3_W * k, b3v_add16(b3v_loadu(a + 4 * B3_W * k), o[k]));
}

static void
b3_lt_lanes(adb_b3_lane_t const *lanes, size_t lane_cnt, uint8_t *acc) {
    uint8_t const *p[B3_W];
    uint32_t       blk_max = 1;
    for (int i = 0; i < B3_W; i++)
        p[i] = lanes[(size_t)i < lane_cnt ? i : 0].buf;
    for (size_t i = 0; i < lane_cnt; i++)
        blk_max = ADB_MAX(blk_max, lanes[i].blk_cnt);

    b3v_t h[8], v[16], m[16];
    for (int i = 0; i < 8; i++)
        h[i] = b3v_set1(adb_blake3_iv[i]);
    b3v_t const zero = b3v_set1(0), len64 = b3v_set1(64);
    for (uint32_t j = 0; j + 1 < blk_max; j++) {
        uint32_t act[B3_W];
        for (int i = 0; i < B3_W; i++)
            act[i] = ((size_t)i < lane_cnt && j + 1 < lanes[i].blk_cnt) ? ~0u : 0u;
        b3v_t const mask = b3v_loadu(act);
        b3v_msg_load(p, 64 * (size_t)j, m);
        b3v_compress(v, h, m, zero, zero, len64, b3v_set1(j == 0 ? ADB_B3_CHUNK_START : 0));
        for (int i = 0; i < 8; i++)
            h[i] = b3v_sel(mask, b3v_xor(v[i], v[i + 8]), h[i]);
    }
    uint32_t cvt[8][B3_W];
    for (int w = 0; w < 8; w++)
        b3v_storeu(cvt[w], h[w]);

    uint32_t idx[B3_W];
    for (int i = 0; i < B3_W; i++)
        idx[i] = (uint32_t)i;
    b3v_t const lane_idx = b3v_loadu(idx);
    for (size_t i = 0; i < lane_cnt; i++) {
        adb_b3_lane_t const *l = &lanes[i];
        uint8_t const       *last = l->buf + 64 * (size_t)(l->blk_cnt - 1);
        uint32_t f = ADB_B3_CHUNK_END | ADB_B3_ROOT | (l->blk_cnt == 1 ? ADB_B3_CHUNK_START : 0);
        b3v_t    v0[16], v1[16], lo[2], hi[2] = {zero, zero};
        for (int w = 0; w < 8; w++)
            h[w] = b3v_set1(cvt[w][i]);
        for (int k = 0; k < 16; k++)
            m[k] = b3v_set1(adb_load_u32(last + 4 * k));
        b3v_t const len = b3v_set1(l->last_sz), fl = b3v_set1(f);
        for (int g = 0; g < ADB_B3_XOF_BLK_CNT / B3_W; g += 2) {
            lo[0] = b3v_add(lane_idx, b3v_set1((uint32_t)(g * B3_W)));
            lo[1] = b3v_add(lane_idx, b3v_set1((uint32_t)((g + 1) * B3_W)));
            b3v_compress2(v0, v1, h, h, m, m, lo, hi, len, fl);
            for (int k = 0; k < 8; k++) {
                v0[k] = b3v_xor(v0[k], v0[k + 8]);
                v0[k + 8] = b3v_xor(v0[k + 8], h[k]);
                v1[k] = b3v_xor(v1[k], v1[k + 8]);
                v1[k + 8] = b3v_xor(v1[k + 8], h[k]);
            }
            if (acc) {
                b3v_acc_add(acc, g, v0);
                b3v_acc_add(acc, g + 1, v1);
            } else {
                b3v_blocks_store(v0, l->out + 64 * B3_W * g);
                b3v_blocks_store(v1, l->out + 64 * B3_W * (g + 1));
            }
        }
    }
}

static void
b3_lt_fold(uint8_t const *acc, uint16_t sum[1024]) {
    for (int g = 0; g < ADB_B3_XOF_BLK_CNT / B3_W; g++) {
        b3v_t   o[16];
        uint8_t blocks[64 * B3_W];
        for (int k = 0; k < 16; k++)
            o[k] = b3v_loadu(acc + (size_t)(16 * g + k) * 4 * B3_W);
        b3v_blocks_store(o, blocks);
        adb_b3_add_u16(sum + 32 * B3_W * g, blocks, sizeof blocks);
    }
}
