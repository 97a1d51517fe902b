/* src/util/alloc.c - the one allocation path, with a failure-injection
 * hook for out-of-memory tests. */
#include "util/util.h"

#include <stdatomic.h>
#include <stdlib.h>

static void *
libc_malloc(void *ctx, size_t sz) {
    (void)ctx;
    return malloc(sz);
}
static void *
libc_realloc(void *ctx, void *p, size_t sz) {
    (void)ctx;
    return realloc(p, sz);
}
static void
libc_free(void *ctx, void *p) {
    (void)ctx;
    free(p);
}

static adb_alloc_hooks_t g_hooks = {libc_malloc, libc_realloc, libc_free, NULL};
static _Atomic uint64_t  g_fail_at;   /* 0 = never */
static _Atomic uint64_t  g_alloc_cnt; /* allocations since the last arm */

void
adb_alloc_set_hooks(adb_alloc_hooks_t const *hooks) {
    if (hooks)
        g_hooks = *hooks;
    else
        g_hooks = (adb_alloc_hooks_t){libc_malloc, libc_realloc, libc_free, NULL};
}

uint64_t
adb_alloc_fail_after(uint64_t nth) {
    uint64_t n = atomic_exchange(&g_alloc_cnt, 0);
    atomic_store(&g_fail_at, nth);
    return n;
}

static bool
inject_failure(void) {
    uint64_t at = atomic_load_explicit(&g_fail_at, memory_order_relaxed);
    uint64_t n = atomic_fetch_add_explicit(&g_alloc_cnt, 1, memory_order_relaxed) + 1;
    return at != 0 && n >= at;
}

void *
adb_malloc(size_t sz) {
    if (inject_failure()) return NULL;
    return g_hooks.malloc_fn(g_hooks.ctx, sz ? sz : 1);
}

void *
adb_calloc(size_t cnt, size_t sz) {
    size_t tot;
    if (__builtin_mul_overflow(cnt, sz, &tot)) return NULL;
    void *p = adb_malloc(tot);
    if (p) memset(p, 0, tot);
    return p;
}

void *
adb_realloc(void *p, size_t sz) {
    if (inject_failure()) return NULL;
    return g_hooks.realloc_fn(g_hooks.ctx, p, sz ? sz : 1);
}

void
adb_free(void *p) {
    if (p) g_hooks.free_fn(g_hooks.ctx, p);
}

/* Aligned blocks keep the raw pointer just below the aligned address. */
void *
adb_aligned_alloc(size_t align, size_t sz) {
    if (align < sizeof(void *) || (align & (align - 1))) return NULL;
    size_t tot;
    if (__builtin_add_overflow(sz, align + sizeof(void *), &tot)) return NULL;
    uint8_t *raw = adb_malloc(tot);
    if (!raw) return NULL;
    uintptr_t a = ((uintptr_t)raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)a)[-1] = raw;
    return (void *)a;
}

void
adb_aligned_free(void *p) {
    if (p) adb_free(((void **)p)[-1]);
}

char *
adb_strdup(char const *s) {
    size_t n = strlen(s) + 1;
    char  *d = adb_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
