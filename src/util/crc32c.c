/* src/util/crc32c.c - CRC-32C (see crc32c.h). */
#include "util/crc32c.h"

#include <pthread.h>
#include <string.h>

static uint32_t g_table[8][256];

static void
table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        g_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            g_table[t][i] = (g_table[t - 1][i] >> 8) ^ g_table[0][g_table[t - 1][i] & 0xff];
}

static uint32_t
portable(uint32_t crc, uint8_t const *p, size_t sz) {
    /* slicing-by-8 */
    while (sz >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        crc = g_table[7][w & 0xff] ^ g_table[6][(w >> 8) & 0xff] ^ g_table[5][(w >> 16) & 0xff] ^
              g_table[4][(w >> 24) & 0xff] ^ g_table[3][(w >> 32) & 0xff] ^
              g_table[2][(w >> 40) & 0xff] ^ g_table[1][(w >> 48) & 0xff] ^ g_table[0][w >> 56];
        p += 8;
        sz -= 8;
    }
    while (sz--)
        crc = (crc >> 8) ^ g_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if defined(__x86_64__)
enum { BLK = 8192 }; /* bytes per stream of the three-way hardware loop */

/* g_shift[k][b]: the CRC register value b << 8k advanced over BLK zero bytes
 * (a linear map, so four lookups advance any register). */
static uint32_t g_shift[4][256];

static uint32_t
gf2_times(uint32_t const mat[32], uint32_t vec) {
    uint32_t s = 0;
    for (int j = 0; vec; vec >>= 1, j++)
        if (vec & 1) s ^= mat[j];
    return s;
}

static void
gf2_square(uint32_t sq[32], uint32_t const mat[32]) {
    for (int i = 0; i < 32; i++)
        sq[i] = gf2_times(mat, mat[i]);
}

/* The operator "append n zero bytes" on a CRC register (zlib's
 * crc32_combine construction). */
static void
zeros_op(uint32_t out[32], size_t n) {
    uint32_t odd[32], even[32], res[32];
    odd[0] = 0x82F63B78u; /* one zero bit */
    for (int i = 1; i < 32; i++)
        odd[i] = 1u << (i - 1);
    for (int i = 0; i < 32; i++)
        res[i] = 1u << i;  /* identity */
    gf2_square(even, odd); /* 2 bits */
    gf2_square(odd, even); /* 4 bits */
    uint32_t *cur = odd, *nxt = even;
    for (; n; n >>= 1) {
        gf2_square(nxt, cur); /* 8 bits, 16, ... */
        uint32_t *t = cur;
        cur = nxt;
        nxt = t;
        if (n & 1) {
            uint32_t r2[32];
            for (int i = 0; i < 32; i++)
                r2[i] = gf2_times(cur, res[i]);
            memcpy(res, r2, sizeof res);
        }
    }
    memcpy(out, res, sizeof res);
}

static void
shift_init(void) {
    uint32_t op[32];
    zeros_op(op, BLK);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            g_shift[k][b] = gf2_times(op, b << (8 * k));
}

static inline uint32_t
shift_blk(uint32_t crc) {
    return g_shift[0][crc & 0xff] ^ g_shift[1][(crc >> 8) & 0xff] ^ g_shift[2][(crc >> 16) & 0xff] ^
           g_shift[3][crc >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t
hw(uint32_t crc, uint8_t const *p, size_t sz) {
    uint64_t c = crc;
    while (sz && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        sz--;
    }
    /* Three streams of BLK bytes each hide the instruction's latency. */
    while (sz >= 3 * BLK) {
        uint64_t        c1 = 0, c2 = 0;
        uint64_t const *a = (uint64_t const *)(void const *)p;
        uint64_t const *b = (uint64_t const *)(void const *)(p + BLK);
        uint64_t const *d = (uint64_t const *)(void const *)(p + 2 * BLK);
        for (size_t i = 0; i < BLK / 8; i++) {
            c = __builtin_ia32_crc32di(c, a[i]);
            c1 = __builtin_ia32_crc32di(c1, b[i]);
            c2 = __builtin_ia32_crc32di(c2, d[i]);
        }
        c = shift_blk((uint32_t)c) ^ (uint32_t)c1;
        c = shift_blk((uint32_t)c) ^ (uint32_t)c2;
        p += 3 * BLK;
        sz -= 3 * BLK;
    }
    while (sz >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        sz -= 8;
    }
    while (sz--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return (uint32_t)c;
}
#endif

static int            g_ready; /* 1: tables built; 2: and the CPU has SSE4.2 */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void
init_tables(void) {
    table_init();
    int v = 1;
#if defined(__x86_64__)
    shift_init();
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) v = 2;
#endif
    g_ready = v;
}

static void
init_once(void) {
    pthread_once(&g_once, init_tables);
}

uint32_t
adb_crc32c_portable(uint32_t crc, void const *p, size_t sz) {
    init_once();
    return ~portable(~crc, p, sz);
}

uint32_t
adb_crc32c(uint32_t crc, void const *p, size_t sz) {
    init_once();
#if defined(__x86_64__)
    if (g_ready == 2) return ~hw(~crc, p, sz);
#endif
    return ~portable(~crc, p, sz);
}
