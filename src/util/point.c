/* src/util/point.c - the point hook (see point.h). */
#include "util/point.h"

#include <stddef.h>

_Atomic(adb_point_fn)  adb_point_hook;
static _Atomic(void *) g_ctx;

void
adb_point_set(adb_point_fn fn, void *ctx) {
    /* The context is published before the function (release), and a
     * point reads the function before the context (acquire). */
    atomic_store_explicit(&adb_point_hook, NULL, memory_order_release);
    atomic_store_explicit(&g_ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&adb_point_hook, fn, memory_order_release);
}

void
adb_point_fire(char const *name, uint64_t arg) {
    adb_point_fn fn = atomic_load_explicit(&adb_point_hook, memory_order_acquire);
    if (fn) fn(atomic_load_explicit(&g_ctx, memory_order_relaxed), name, arg);
}
