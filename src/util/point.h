/* src/util/point.h - named points on the durable write paths, for crash
 * tests.
 *
 * A point marks a boundary between two dependent steps of a write path
 * (account files written -> fdatasync'ed -> index repointed -> commit
 * record; archive temporary -> fsync -> rename -> directory fsync ->
 * registration), one line each:
 *
 *   ADB_POINT("flush.synced");
 *   ADB_POINT_ARG("flush.committed", root.slot);
 *
 * When a hook is set (acctdb_sim_set_point_hook, the simulation API), each
 * point calls it with its name and argument, on the thread that reached
 * it; a crash test records where a process was, or kills it right there.
 * When none is set a point costs one relaxed atomic load, so points sit at
 * pass and phase boundaries only, never per account.
 *
 * Names are "<path>.<step>", the step being what just happened (or, for
 * "begin" and the ".commit"/".register" points, what is about to).  The
 * argument is 0 except at commit points, where it is the slot the commit
 * record names.  The list of points, in order along each path, is with
 * the public setter in include/acctdb_sim.h. */
#ifndef ADB_UTIL_POINT_H
#define ADB_UTIL_POINT_H

#include <stdatomic.h>
#include <stdint.h>

typedef void (*adb_point_fn)(void *ctx, char const *name, uint64_t arg);

/* The hook; NULL when none (read by ADB_POINT, set by adb_point_set). */
extern _Atomic(adb_point_fn) adb_point_hook;

/* adb_point_set: installs fn with ctx (NULL removes the hook).  Set it
 * while no point can fire (before a database is opened or created, after
 * it is closed): a point racing the change may see the new function with
 * the old context. */
void adb_point_set(adb_point_fn fn, void *ctx);

/* adb_point_fire: calls the hook, if any (what the macros expand to). */
void adb_point_fire(char const *name, uint64_t arg);

#define ADB_POINT_ARG(name, arg)                                                                   \
    do {                                                                                           \
        if (__builtin_expect(atomic_load_explicit(&adb_point_hook, memory_order_relaxed) != NULL,  \
                             0))                                                                   \
            adb_point_fire((name), (uint64_t)(arg));                                               \
    } while (0)

#define ADB_POINT(name) ADB_POINT_ARG(name, 0)

#endif
