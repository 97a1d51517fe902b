/* src/util/rng.h - the one pseudo-random generator of the tree: splitmix64
 * (Steele, Lea, Flood 2014), as a stream and as a counter-based function.
 *
 * Everything synthetic (the generator, the workload, the tests' data, the
 * benchmarks' traces through acctdb_sim.h) draws from here, so a seed means
 * the same thing everywhere.  Not for anything secret.
 *
 *   adb_rng_t r = adb_rng_seed(seed);     a stream: adb_rng_next(&r) ...
 *   adb_rng_t r = adb_rng_at(seed, i, w); the stream for item i, purpose w:
 *                                         any item can be re-derived alone
 */
#ifndef ADB_UTIL_RNG_H
#define ADB_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ADB_RNG_GAMMA 0x9e3779b97f4a7c15ull

typedef struct adb_rng {
    uint64_t s;
} adb_rng_t;

/* adb_rng_mix64: splitmix64's finalizer, a bijection on 64 bits. */
static inline uint64_t
adb_rng_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline adb_rng_t
adb_rng_seed(uint64_t seed) {
    return (adb_rng_t){seed};
}

/* adb_rng_at: the stream of item i for purpose `what` under seed. */
static inline adb_rng_t
adb_rng_at(uint64_t seed, uint64_t i, uint64_t what) {
    return (adb_rng_t){
        adb_rng_mix64(seed ^ adb_rng_mix64(i * ADB_RNG_GAMMA + what * 0xd1b54a32d192ed03ull))};
}

static inline uint64_t
adb_rng_next(adb_rng_t *r) {
    return adb_rng_mix64(r->s += ADB_RNG_GAMMA);
}

/* Uniform in [0, n) (modulo; the bias is below 2^-40 for n < 2^24); 0 if
 * n is 0. */
static inline uint64_t
adb_rng_below(adb_rng_t *r, uint64_t n) {
    return n ? adb_rng_next(r) % n : 0;
}

/* Uniform in [0, 1), 53 bits. */
static inline double
adb_rng_unit(adb_rng_t *r) {
    return (double)(adb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* n random bytes (little-endian words). */
static inline void
adb_rng_fill(adb_rng_t *r, uint8_t *p, size_t n) {
    while (n >= 8) {
        uint64_t v = adb_rng_next(r);
        for (int k = 0; k < 8; k++)
            p[k] = (uint8_t)(v >> (8 * k));
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t v = adb_rng_next(r);
        for (size_t k = 0; k < n; k++)
            p[k] = (uint8_t)(v >> (8 * k));
    }
}

#endif
