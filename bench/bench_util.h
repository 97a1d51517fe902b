/* bench/bench_util.h - helpers every benchmark program uses: clocks, a
 * seeded generator (splitmix64), removing a work tree.  Header-only: each
 * benchmark is its own program. */
#ifndef ADB_BENCH_UTIL_H
#define ADB_BENCH_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static inline double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline uint64_t
now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static inline uint64_t
rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void
rng_fill(uint64_t *s, uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rng_next(s);
        memcpy(p + i, &v, n - i < 8 ? n - i : 8);
    }
}

static inline int
bench_rm_cb(char const *p, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* Removes the tree at p (no error if absent). */
static inline void
rmtree(char const *p) {
    nftw(p, bench_rm_cb, 64, FTW_DEPTH | FTW_PHYS);
}

#endif
