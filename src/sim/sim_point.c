/* src/sim/sim_point.c - acctdb_sim_set_point_hook: the public side of the
 * crash-test points (src/util/point.h). */
#include "sim/sim.h"

#include "util/point.h"

void
acctdb_sim_set_point_hook(acctdb_point_fn fn, void *ctx) {
    adb_point_set(fn, ctx);
}
