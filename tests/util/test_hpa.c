/* Tests for the huge-page arena: random allocations and frees of every size
 * class against a shadow of what each block must hold, the accounting, and
 * the return of wholly free chunks. */
#include "../test.h"

#include "util/hpa.h"
#include "util/rng.h"

#include <stdlib.h>

typedef struct blk {
    uint8_t *p;
    size_t   sz, got;
    uint8_t  tag;
} blk_t;

/* Every byte of b still holds its tag (no other block overlapped it). */
static void
check_blk(blk_t const *b) {
    size_t step = b->got > 4096 ? 509 : 1;
    for (size_t i = 0; i < b->got; i += step)
        assert_int_equal(b->p[i], b->tag);
    assert_int_equal(b->p[b->got - 1], b->tag);
}

static void
test_random_sizes(void **state) {
    (void)state;
    adb_hpa_t *a;
    assert_int_equal(adb_hpa_new(&a), 0);
    enum { LIVE = 600 };
    blk_t     live[LIVE] = {0};
    adb_rng_t rng = adb_rng_seed(7);
    uint64_t  used = 0;
    size_t    ops = adb_test_scaled(40000);
    for (size_t op = 0; op < ops; op++) {
        size_t i = adb_rng_next(&rng) % LIVE;
        blk_t *b = &live[i];
        if (b->p) {
            check_blk(b);
            adb_hpa_free(a, b->p, b->got);
            used -= b->got;
            b->p = NULL;
            continue;
        }
        /* Sizes from 1 B to 3 MiB, log-uniform, as tables of every bin. */
        unsigned bits = (unsigned)(adb_rng_next(&rng) % 22);
        size_t   sz = 1 + (size_t)(adb_rng_next(&rng) % ((size_t)1 << bits));
        b->p = adb_hpa_alloc(a, sz, &b->got);
        assert_non_null(b->p);
        assert_true(b->got >= sz && b->got < sz + 512);
        assert_int_equal(b->got, adb_hpa_size(sz));
        assert_int_equal((uintptr_t)b->p % 512, 0);
        b->sz = sz;
        b->tag = (uint8_t)(op | 1);
        memset(b->p, b->tag, b->got);
        used += b->got;
        adb_hpa_stats_t st;
        adb_hpa_stats(a, &st);
        assert_int_equal(st.used, used);
        assert_true(st.mapped >= st.used);
    }
    for (size_t i = 0; i < LIVE; i++)
        if (live[i].p) {
            check_blk(&live[i]);
            adb_hpa_free(a, live[i].p, live[i].got);
        }
    adb_hpa_stats_t st;
    adb_hpa_stats(a, &st);
    assert_int_equal(st.used, 0);
    /* Everything merged back: at most the one chunk kept. */
    assert_true(st.chunks <= 1);
    assert_true(st.mapped <= (32u << 20));
    adb_hpa_destroy(a);
}

static void
test_chunks_return(void **state) {
    (void)state;
    adb_hpa_t *a;
    assert_int_equal(adb_hpa_new(&a), 0);
    /* Three chunks' worth of 1 MiB blocks, then all freed. */
    enum { N = 96 };
    void  *p[N];
    size_t got[N];
    for (int i = 0; i < N; i++) {
        p[i] = adb_hpa_alloc(a, 1u << 20, &got[i]);
        assert_non_null(p[i]);
        memset(p[i], i, got[i]);
    }
    adb_hpa_stats_t st;
    adb_hpa_stats(a, &st);
    assert_int_equal(st.chunks, 3);
    assert_int_equal(st.used, (uint64_t)N << 20);
    for (int i = 0; i < N; i++)
        adb_hpa_free(a, p[i], got[i]);
    adb_hpa_stats(a, &st);
    assert_int_equal(st.chunks, 1);
    assert_int_equal(st.used, 0);
    /* A request past a chunk gets its own mapping, 2 MiB-rounded. */
    size_t g;
    void  *big = adb_hpa_alloc(a, (33u << 20) + 1, &g);
    assert_non_null(big);
    assert_int_equal(g, 34u << 20);
    assert_int_equal((uintptr_t)big % (2u << 20), 0);
    memset(big, 1, g);
    adb_hpa_free(a, big, g);
    adb_hpa_stats(a, &st);
    assert_int_equal(st.used, 0);
    assert_int_equal(st.mapped, 32u << 20);
    adb_hpa_destroy(a);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_random_sizes),
    cmocka_unit_test(test_chunks_return),
};
ADB_TEST_GROUP(hpa, tests);
