/* Concurrency: the bulk loader's worker pool and the index's per-bin locks
 * under contention.  This group is what the ThreadSanitizer pass runs
 * (ACCTDB_TEST_FILTER=concurrency). */
#include "../test.h"

#include "index/index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct hammer {
    adb_index_t *ix;
    uint64_t     seed;
    size_t       ops;
} hammer_t;

/* Mixed upserts, gets, removes and batched calls on a small shared key set
 * (so bins are contended), plus bin visits. */
static void *
hammer(void *arg) {
    hammer_t *h = arg;
    uint64_t  s = h->seed;
    uint8_t   keys[8][32];
    for (size_t op = 0; op < h->ops; op++) {
        uint64_t r = adb_test_rand(&s);
        uint8_t  k[32] = {0};
        adb_store_u64(k, r % 4096 * 0x9e3779b97f4a7c15ull);
        adb_store_u64(k + 8, r % 4096);
        switch (r % 8) {
        case 0:
        case 1:
        case 2:
            adb_index_upsert_newer(h->ix, k, r % 100, r % 7, NULL, NULL);
            break;
        case 3:
            adb_index_remove(h->ix, k);
            break;
        case 4: {
            uint64_t sl, v;
            adb_index_get(h->ix, k, &sl, &v);
            break;
        }
        case 5: {
            uint8_t const *kp[8];
            uint64_t       sl[8], v[8], os[8], ov[8];
            uint8_t        res[8];
            for (int i = 0; i < 8; i++) {
                memcpy(keys[i], k, 32);
                keys[i][20] = (uint8_t)i;
                kp[i] = keys[i];
                sl[i] = r % 50;
                v[i] = (uint64_t)i;
            }
            adb_index_upsert_newer_batch(h->ix, kp, sl, v, 8, res, os, ov);
            break;
        }
        case 6: {
            uint64_t sl[8], v[8];
            bool     f[8];
            adb_index_get_batch(h->ix, (uint8_t const(*)[32])keys, 8, sl, v, f);
            break;
        }
        default:
            break;
        }
    }
    return NULL;
}

static int
count_entry(void *ctx, uint8_t const key[32], uint64_t slot, uint64_t val) {
    (void)key, (void)slot, (void)val;
    ++*(uint64_t *)ctx;
    return 0;
}

static int
check_entry(void *ctx, uint8_t const key[32], uint64_t slot, uint64_t val) {
    (void)ctx, (void)key;
    /* Values written above: slot < 100, val < 8. */
    return slot < 100 && val < 8 ? 0 : -1;
}

static void
test_index_contended(void **state) {
    (void)state;
    adb_index_t    *ix;
    adb_index_cfg_t cfg = {.bin_bits = 4}; /* 16 bins: heavy contention */
    assert_int_equal(adb_index_open(&ix, &cfg), 0);
    enum { T = 4 };
    pthread_t th[T];
    hammer_t  h[T];
    for (int i = 0; i < T; i++) {
        h[i] = (hammer_t){ix, adb_test_seed() + (uint64_t)i, adb_test_scaled(200000)};
        pthread_create(&th[i], NULL, hammer, &h[i]);
    }
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    /* The count agrees with a visit of every bin, and every entry found by
     * the visit is found by a lookup. */
    uint64_t n = 0;
    for (uint32_t b = 0; b < adb_index_bin_cnt(ix); b++)
        assert_int_equal(adb_index_bin_visit(ix, b, check_entry, ix), 0);
    for (uint32_t b = 0; b < adb_index_bin_cnt(ix); b++)
        adb_index_bin_visit(ix, b, count_entry, &n);
    assert_int_equal(n, adb_index_cnt(ix));
    adb_index_close(ix);
}

static void
test_parallel_loads(void **state) {
    (void)state;
    /* The same archives loaded with 1, 2 and 4 workers give the same
     * totals, and two loads run at once in one process. */
    char const *full =
        adb_test_data("snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst");
    char const *inc = adb_test_data(
        "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst");
    acctdb_snapshot_info_t first = {0};
    for (unsigned t = 1; t <= 4; t *= 2) {
        char                  *dir = adb_test_mkdtemp(), store[4200];
        acctdb_snapshot_opts_t o = {.threads = t};
        snprintf(store, sizeof store, "%s/s", dir);
        o.store_dir = store;
        acctdb_snapshot_t *s;
        assert_int_equal(acctdb_snapshot_open(&s, full, inc, &o), 0);
        acctdb_snapshot_info_t in;
        acctdb_snapshot_info(s, &in);
        if (t == 1) first = in;
        assert_int_equal(in.live_accounts, first.live_accounts);
        assert_true(in.capitalization == first.capitalization);
        assert_memory_equal(in.lt_checksum, first.lt_checksum, 32);
        acctdb_snapshot_close(s);
        adb_test_rmtree(dir);
        free(dir);
    }
}

typedef struct loader {
    char const *path;
    int         rc;
} loader_t;

static void *
load_main(void *arg) {
    loader_t              *l = arg;
    char                  *dir = adb_test_mkdtemp(), store[4200];
    acctdb_snapshot_opts_t o = {.threads = 2};
    snprintf(store, sizeof store, "%s/s", dir);
    o.store_dir = store;
    acctdb_snapshot_t *s;
    l->rc = acctdb_snapshot_open(&s, l->path, NULL, &o);
    acctdb_snapshot_close(s);
    adb_test_rmtree(dir);
    free(dir);
    return NULL;
}

static void
test_two_loads_at_once(void **state) {
    (void)state;
    loader_t a = {adb_test_data("test-snapshot-v4.2.0-beta.1.tar.zst"), -1};
    loader_t b = {adb_test_data("snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst"),
                  -1};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, load_main, &a);
    pthread_create(&tb, NULL, load_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_index_contended),
    cmocka_unit_test(test_parallel_loads),
    cmocka_unit_test(test_two_loads_at_once),
};
ADB_TEST_GROUP(concurrency, tests);
