/* src/sim/sim_rng.c - the public face of util/rng.h (acctdb_sim.h). */
#include "sim/sim.h"

acctdb_rng_t
acctdb_rng_seed(uint64_t seed) {
    return (acctdb_rng_t){seed};
}

acctdb_rng_t
acctdb_rng_at(uint64_t seed, uint64_t i, uint64_t what) {
    return (acctdb_rng_t){adb_rng_at(seed, i, what).s};
}

uint64_t
acctdb_rng_next(acctdb_rng_t *r) {
    adb_rng_t x = {r->s};
    uint64_t  v = adb_rng_next(&x);
    r->s = x.s;
    return v;
}

uint64_t
acctdb_rng_below(acctdb_rng_t *r, uint64_t n) {
    return n ? acctdb_rng_next(r) % n : 0;
}

double
acctdb_rng_unit(acctdb_rng_t *r) {
    return (double)(acctdb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

void
acctdb_rng_fill(acctdb_rng_t *r, void *p, size_t n) {
    adb_rng_t x = {r->s};
    adb_rng_fill(&x, p, n);
    r->s = x.s;
}
