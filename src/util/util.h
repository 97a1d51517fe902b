/* src/util/util.h - base definitions every module uses: error macros,
 * assertions, the allocation hook, small inline helpers.  No domain
 * knowledge lives here. */
#ifndef ADB_UTIL_H
#define ADB_UTIL_H

#include "acctdb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ADB_LIKELY(x)      __builtin_expect(!!(x), 1)
#define ADB_UNLIKELY(x)    __builtin_expect(!!(x), 0)
#define ADB_ARRAY_CNT(a)   (sizeof(a) / sizeof((a)[0]))
#define ADB_MIN(a, b)      ((a) < (b) ? (a) : (b))
#define ADB_MAX(a, b)      ((a) > (b) ? (a) : (b))
#define ADB_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))

/* ADB_TRY(expr): return the error of expr if it failed (WiredTiger WT_RET). */
#define ADB_TRY(expr)                                                                              \
    do {                                                                                           \
        int adb_try_rc_ = (expr);                                                                  \
        if (ADB_UNLIKELY(adb_try_rc_ < 0)) return adb_try_rc_;                                     \
    } while (0)

/* ADB_ASSERT: invariants only, never input.  Aborts with file:line. */
#define ADB_ASSERT(c)                                                                              \
    do {                                                                                           \
        if (ADB_UNLIKELY(!(c))) adb_assert_fail(#c, __FILE__, __LINE__);                           \
    } while (0)

/* ADB_NEVER(c) / ADB_ALWAYS(c): mark defensive branches (SQLite).  In
 * sanitizer builds a violated expectation aborts; in release it is a plain
 * condition. */
#ifdef ADB_SANITIZE
#define ADB_NEVER(c)  ((c) ? (adb_assert_fail("NEVER(" #c ")", __FILE__, __LINE__), 1) : 0)
#define ADB_ALWAYS(c) ((c) ? 1 : (adb_assert_fail("ALWAYS(" #c ")", __FILE__, __LINE__), 0))
#else
#define ADB_NEVER(c)  (c)
#define ADB_ALWAYS(c) (c)
#endif

__attribute__((noreturn)) void adb_assert_fail(char const *what, char const *file, int line);

/* ---- error messages ------------------------------------------------------
 * Objects that can fail carry an adb_err_t: a code and a message set at the
 * point of failure.  The first error sticks; later ones are ignored so the
 * root cause is what the user reads. */
#define ADB_ERRMSG_SZ 512

typedef struct adb_err {
    int  code;
    char msg[ADB_ERRMSG_SZ];
} adb_err_t;

static inline void
adb_err_clear(adb_err_t *e) {
    e->code = 0;
    e->msg[0] = 0;
}

/* Sets e (if not already set) and returns code. */
int adb_err_set(adb_err_t *e, int code, char const *fmt, ...) __attribute__((format(printf, 3, 4)));
int adb_err_vset(adb_err_t *e, int code, char const *fmt, va_list ap);

/* ADB_FAIL_IF(cond, e, code, fmt...): if cond, record and return code. */
#define ADB_FAIL_IF(cond, e, code, ...)                                                            \
    do {                                                                                           \
        if (ADB_UNLIKELY(cond)) return adb_err_set((e), (code), __VA_ARGS__);                      \
    } while (0)

/* ---- allocation hook -----------------------------------------------------
 * Every allocation in the library goes through these (zstd customMem,
 * libuv uv_replace_allocator).  Tests install a hook that fails the Nth
 * call to sweep out-of-memory paths. */
typedef struct adb_alloc_hooks {
    void *(*malloc_fn)(void *ctx, size_t sz);
    void *(*realloc_fn)(void *ctx, void *p, size_t sz);
    void (*free_fn)(void *ctx, void *p);
    void *ctx;
} adb_alloc_hooks_t;

void  adb_alloc_set_hooks(adb_alloc_hooks_t const *hooks); /* NULL restores libc */
void *adb_malloc(size_t sz);
void *adb_calloc(size_t cnt, size_t sz); /* overflow-checked */
void *adb_realloc(void *p, size_t sz);
void *adb_aligned_alloc(size_t align, size_t sz); /* free with adb_aligned_free */
void  adb_aligned_free(void *p);
void  adb_free(void *p);
char *adb_strdup(char const *s);

/* Test hook: fail the nth allocation from now (1 = next), 0 disables.
 * Returns the number of allocations made since the last call. */
uint64_t adb_alloc_fail_after(uint64_t nth);

/* ---- little-endian loads/stores ----------------------------------------- */
static inline uint64_t
adb_load_u64(void const *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* x86-64 and every target we build for are little-endian */
}
static inline uint32_t
adb_load_u32(void const *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline void
adb_store_u64(void *p, uint64_t v) {
    memcpy(p, &v, 8);
}
static inline void
adb_store_u32(void *p, uint32_t v) {
    memcpy(p, &v, 4);
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "acctdb assumes a little-endian host");

#endif
