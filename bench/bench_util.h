/* bench/bench_util.h - helpers every benchmark program uses: clocks,
 * removing a work tree.  Header-only: each benchmark is its own program.
 * Random data comes from the tree's one generator, acctdb_rng_* in
 * acctdb_sim.h, so a benchmark's seed means what it means everywhere. */
#ifndef ADB_BENCH_UTIL_H
#define ADB_BENCH_UTIL_H

#include "acctdb_sim.h"

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
