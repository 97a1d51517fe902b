/* The two-tier index under threads (run by the TSan phase, whose filter is
 * "concurrency"): two writers and a reader on keys spread over every bin,
 * with a budget small enough that the clock evicts and trims while they
 * run; each key ends with exactly what its writer wrote. */
#include "../test.h"

#include "index/disk.h"
#include "index/index.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct tw {
    adb_index_t *ix;
    uint64_t     salt;
    size_t       n;
    size_t       found; /* reader: keys found */
} tw_t;

static void
tkey(uint64_t i, uint64_t salt, uint8_t k[32]) {
    uint64_t s = i * 0x9E3779B97F4A7C15ull ^ salt;
    for (int w = 0; w < 4; w++)
        adb_store_u64(k + 8 * w, adb_test_rand(&s));
}

static void *
tw_write(void *arg) {
    tw_t   *t = arg;
    uint8_t k[32];
    for (size_t i = 0; i < t->n; i++) {
        tkey(i, t->salt, k);
        if (adb_index_vput(t->ix, k, 10, i) || adb_index_vput(t->ix, k, 20 + i % 3, i + 1))
            return (void *)1;
        if (i % 4 == 0) { /* one pinned (RAM-only) version on some keys */
            if (adb_index_vput(t->ix, k, 30, (1ull << 63) | i)) return (void *)1;
        }
    }
    return NULL;
}

static void *
tw_read(void *arg) {
    tw_t   *t = arg;
    uint8_t k[32];
    for (size_t r = 0; r < 3; r++)
        for (size_t i = 0; i < t->n; i++) {
            tkey(i, t->salt, k);
            adb_index_ver_t v[4];
            size_t          n = adb_index_vget(t->ix, k, v, 4);
            t->found += n > 0;
        }
    return NULL;
}

static void
test_tier_concurrency(void **state) {
    (void)state;
    char           *dir = adb_test_mkdtemp();
    adb_index_t    *ix;
    adb_index_cfg_t cfg = {
        .bin_bits = 10, .disk_dir = dir, .ram_bytes = 1u << 20, .pin_mask = 1ull << 63};
    assert_int_equal(adb_index_open(&ix, &cfg), 0);
    size_t    n = adb_test_scaled(40000);
    tw_t      a = {ix, 1, n, 0}, b = {ix, 2, n, 0}, r = {ix, 1, n, 0};
    pthread_t ta, tb, tr;
    void     *ra, *rb;
    pthread_create(&ta, NULL, tw_write, &a);
    pthread_create(&tb, NULL, tw_write, &b);
    pthread_create(&tr, NULL, tw_read, &r);
    pthread_join(ta, &ra);
    pthread_join(tb, &rb);
    pthread_join(tr, NULL);
    assert_null(ra);
    assert_null(rb);
    assert_int_equal(adb_index_cnt(ix), 2 * n);
    uint8_t k[32];
    for (uint64_t salt = 1; salt <= 2; salt++)
        for (size_t i = 0; i < n; i++) {
            tkey(i, salt, k);
            adb_index_ver_t v[4];
            size_t          c = adb_index_vget(ix, k, v, 4);
            size_t          want = i % 4 == 0 ? 3 : 2, j = 0;
            assert_int_equal(c, want);
            if (want == 3) assert_true(v[j].slot == 30 && v[j++].val == ((1ull << 63) | i));
            assert_true(v[j].slot == 20 + i % 3 && v[j].val == i + 1);
            assert_true(v[j + 1].slot == 10 && v[j + 1].val == i);
        }
    adb_index_stats_t st;
    adb_index_stats(ix, &st);
    print_message("two tiers, 3 threads: %llu keys, %llu evictions, %llu trims, reader found "
                  "%zu\n",
                  (unsigned long long)st.keys, (unsigned long long)st.evictions,
                  (unsigned long long)st.trims, r.found);
    assert_true(st.evictions > 0);
    adb_index_close(ix);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_tier_concurrency),
};
ADB_TEST_GROUP(index_tier_concurrency, tests);
