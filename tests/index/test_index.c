/* Tests for the binned index: random operations against a reference model,
 * growth, heavy collisions in one bin, batched lookups, two threads. */
#include "../test.h"

#include "index/disk.h"
#include "index/index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Reference: keys are k(i) for i < universe; the model is an array. */
typedef struct ref {
    bool     present;
    uint64_t slot, val;
} ref_t;

static void
key_of(uint64_t i, uint64_t salt, uint8_t k[32], bool same_bin) {
    uint64_t s = i * 0x2545F4914F6CDD1Dull ^ salt;
    for (int w = 0; w < 4; w++)
        adb_store_u64(k + 8 * w, adb_test_rand(&s));
    if (same_bin) k[0] = k[1] = 0xAB; /* every key in one bin */
}

static void
model_run(bool same_bin, size_t ops, size_t universe) {
    uint64_t        s = adb_test_seed() ^ (same_bin ? 77 : 55);
    adb_index_t    *ix;
    adb_index_cfg_t cfg = {.bin_bits = 13};
    assert_int_equal(adb_index_open(&ix, &cfg), 0);
    ref_t  *m = calloc(universe, sizeof *m);
    size_t  live = 0;
    uint8_t k[32];
    for (size_t op = 0; op < ops; op++) {
        uint64_t i = adb_test_rand(&s) % universe;
        key_of(i, 1, k, same_bin);
        uint64_t r = adb_test_rand(&s) % 10;
        if (r < 6) {
            uint64_t slot = adb_test_rand(&s) % 50, val = adb_test_rand(&s) % 8, os = 0, ov = 0;
            int      rc = adb_index_upsert_newer(ix, k, slot, val, &os, &ov);
            if (!m[i].present) {
                assert_int_equal(rc, ADB_INDEX_INSERTED);
                m[i] = (ref_t){true, slot, val};
                live++;
            } else {
                assert_true(os == m[i].slot && ov == m[i].val);
                bool newer = slot > m[i].slot || (slot == m[i].slot && val > m[i].val);
                assert_int_equal(rc, newer ? ADB_INDEX_REPLACED : ADB_INDEX_KEPT);
                if (newer) m[i].slot = slot, m[i].val = val;
            }
        } else if (r < 9) {
            uint64_t slot, val;
            bool     f = adb_index_get(ix, k, &slot, &val);
            assert_int_equal(f, m[i].present);
            if (f) assert_true(slot == m[i].slot && val == m[i].val);
        } else {
            assert_int_equal(adb_index_remove(ix, k), m[i].present);
            if (m[i].present) live--;
            m[i].present = false;
        }
        if (op % 4096 == 0) assert_int_equal(adb_index_cnt(ix), live);
    }
    /* Everything is still where the model says. */
    for (uint64_t i = 0; i < universe; i++) {
        key_of(i, 1, k, same_bin);
        uint64_t slot, val;
        bool     f = adb_index_get(ix, k, &slot, &val);
        assert_int_equal(f, m[i].present);
        if (f) assert_true(slot == m[i].slot && val == m[i].val);
    }
    assert_int_equal(adb_index_cnt(ix), live);
    free(m);
    adb_index_close(ix);
}

static void
test_model_random(void **state) {
    (void)state;
    model_run(false, adb_test_scaled(1000000), 50000);
}

static void
test_model_one_bin(void **state) {
    (void)state;
    model_run(true, adb_test_scaled(300000), 20000);
}

static int
count_cb(void *ctx, uint8_t const key[32], uint64_t slot, uint64_t val) {
    (void)key, (void)slot, (void)val;
    ++*(uint64_t *)ctx;
    return 0;
}

static void
test_growth_and_batch(void **state) {
    (void)state;
    size_t          n = adb_test_scaled(1000000);
    adb_index_t    *ix;
    adb_index_cfg_t cfg = {.bin_bits = 13, .expected_keys = n / 4}; /* must grow */
    assert_int_equal(adb_index_open(&ix, &cfg), 0);
    uint8_t k[32];
    for (size_t i = 0; i < n; i++) {
        key_of(i, 2, k, false);
        assert_int_equal(adb_index_put(ix, k, i, i * 3), 0);
    }
    assert_int_equal(adb_index_cnt(ix), n);
    uint64_t visited = 0;
    for (uint32_t b = 0; b < adb_index_bin_cnt(ix); b++)
        adb_index_bin_visit(ix, b, count_cb, &visited);
    assert_int_equal(visited, n);
    /* RAM per key stays near 48 B / load. */
    double per = (double)adb_index_mem_sz(ix) / (double)n;
    printf("  %zu keys: %.1f bytes of table per key\n", n, per);
    if (n >= 100000) assert_true(per < 100.0);
    /* Batched lookups agree with single ones, hits and misses. */
    enum { B = 64 };
    uint8_t  keys[B][32];
    uint64_t slot[B], val[B];
    bool     found[B];
    for (size_t base = 0; base < 20000; base += B) {
        for (int j = 0; j < B; j++)
            key_of(base + (size_t)j * 2, 2, keys[j], false);
        adb_index_get_batch(ix, (uint8_t const(*)[32])keys, B, slot, val, found);
        for (int j = 0; j < B; j++) {
            uint64_t i = base + (size_t)j * 2;
            assert_int_equal(found[j], i < n);
            if (found[j]) assert_true(slot[j] == i && val[j] == i * 3);
        }
    }
    adb_index_close(ix);
}

typedef struct thr {
    adb_index_t *ix;
    uint64_t     salt;
    size_t       n;
} thr_t;

static void *
writer(void *arg) {
    thr_t  *t = arg;
    uint8_t k[32];
    for (size_t i = 0; i < t->n; i++) {
        key_of(i, t->salt, k, false);
        adb_index_upsert_newer(t->ix, k, i, 0, NULL, NULL);
        /* Both threads also hit shared keys. */
        key_of(i % 1000, 99, k, false);
        adb_index_upsert_newer(t->ix, k, i, t->salt, NULL, NULL);
    }
    return NULL;
}

static void
test_concurrency_two_writers(void **state) {
    (void)state;
    adb_index_t *ix;
    assert_int_equal(adb_index_open(&ix, NULL), 0);
    size_t    n = adb_test_scaled(200000);
    thr_t     a = {ix, 10, n}, b = {ix, 11, n};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, writer, &a);
    pthread_create(&tb, NULL, writer, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(adb_index_cnt(ix), 2 * n + ADB_MIN(n, (size_t)1000));
    /* The shared keys hold the newest (slot, val) either thread wrote. */
    uint8_t k[32];
    for (size_t i = 0; i < ADB_MIN(n, (size_t)1000); i++) {
        key_of(i, 99, k, false);
        uint64_t slot, val;
        assert_true(adb_index_get(ix, k, &slot, &val));
        uint64_t last = i + ((n - 1 - i) / 1000) * 1000;
        assert_true(slot == last && val == 11);
    }
    adb_index_close(ix);
}

/* Versions: random vput / vedit removals / vget against a model of sorted
 * (slot, val) arrays per key. */
typedef struct vmodel {
    size_t   n;
    uint64_t slot[16], val[16];
} vmodel_t;

typedef struct vedit_ctx {
    uint64_t drop_slot;
    uint64_t bump;
} vedit_ctx_t;

static int
vedit_cb(void *ctx, adb_index_ver_t *v, size_t *cnt) {
    vedit_ctx_t *c = ctx;
    size_t       w = 0;
    for (size_t i = 0; i < *cnt; i++) {
        if (v[i].slot == c->drop_slot) continue;
        v[w] = v[i];
        v[w].val += c->bump;
        w++;
    }
    *cnt = w;
    return 7;
}

typedef struct vv_check {
    vmodel_t const *m;
    size_t          U, seen;
} vv_check_t;

static int
vv_check_cb(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t n) {
    vv_check_t *c = ctx;
    for (size_t i = 0; i < c->U; i++) {
        uint8_t k[32];
        key_of(i, 9, k, false);
        if (memcmp(k, key, 32)) continue;
        if (n != c->m[i].n) return 1;
        for (size_t j = 0; j < n; j++)
            if (v[j].slot != c->m[i].slot[j] || v[j].val != c->m[i].val[j]) return 2;
        c->seen++;
        return 0;
    }
    return 3;
}

#define PIN (1ull << 63)

/* Random vput/vedit/vget against a model.  Two tiers: values with PIN stay
 * in RAM, a budget of ram_bytes makes most lookups go to disk, and clean
 * closes and reuses happen in between (pinned versions do not survive a
 * close: the model drops them). */
static void
versions_model_run(bool two, uint64_t ram_bytes, size_t ops_base) {
    uint64_t          s = adb_test_seed() ^ 0x5107;
    size_t const      U = 3000;
    vmodel_t         *m = calloc(U, sizeof *m);
    adb_index_t      *ix;
    char             *dir = two ? adb_test_mkdtemp() : NULL;
    adb_dtier_stamp_t stamp = {.gen = 1, .root = 1};
    adb_index_cfg_t   cfg = {.bin_bits = 6,
                             .disk_dir = dir,
                             .ram_bytes = ram_bytes,
                             .pin_mask = PIN,
                             .threads = 2,
                             .stamp = &stamp};
    assert_int_equal(adb_index_open(&ix, &cfg), 0);
    size_t ops = adb_test_scaled(ops_base), reuses = 0;
    for (size_t op = 0; op < ops; op++) {
        uint64_t i = adb_test_rand(&s) % U, r = adb_test_rand(&s) % 10;
        uint8_t  k[32];
        key_of(i, 9, k, false);
        vmodel_t *e = &m[i];
        if (r < 5 && e->n < 16) {
            uint64_t slot = adb_test_rand(&s) % 40, val = adb_test_rand(&s) >> 1;
            if (two && adb_test_rand(&s) % 8 == 0) val |= PIN;
            assert_int_equal(adb_index_vput(ix, k, slot, val), 0);
            size_t j = 0;
            while (j < e->n && e->slot[j] > slot)
                j++;
            if (j < e->n && e->slot[j] == slot) {
                e->val[j] = val;
            } else {
                memmove(&e->slot[j + 1], &e->slot[j], (e->n - j) * 8);
                memmove(&e->val[j + 1], &e->val[j], (e->n - j) * 8);
                e->slot[j] = slot, e->val[j] = val, e->n++;
            }
        } else if (r < 7) {
            vedit_ctx_t c = {e->n ? e->slot[adb_test_rand(&s) % e->n] : 99, adb_test_rand(&s) % 3};
            int         rc = adb_index_vedit(ix, k, vedit_cb, &c);
            assert_int_equal(rc, e->n ? 7 : ACCTDB_ERR_NOT_FOUND);
            size_t w = 0;
            for (size_t j = 0; j < e->n; j++) {
                if (e->slot[j] == c.drop_slot) continue;
                e->slot[w] = e->slot[j], e->val[w] = e->val[j] + c.bump, w++;
            }
            e->n = w;
        } else if (two && r == 7 && adb_test_rand(&s) % 2000 == 0) {
            /* A clean close and a reuse: pinned versions are gone after it. */
            adb_err_t err = {0};
            stamp.gen++;
            assert_int_equal(adb_index_close_clean(ix, &stamp, &err), 0);
            cfg.reuse = true;
            assert_int_equal(adb_index_open(&ix, &cfg), 0);
            char const *why;
            if (!adb_index_reused(ix, &why)) fail_msg("not reused: %s", why);
            reuses++;
            for (size_t x = 0; x < U; x++) {
                size_t w = 0;
                for (size_t j = 0; j < m[x].n; j++)
                    if (!(m[x].val[j] & PIN))
                        m[x].slot[w] = m[x].slot[j], m[x].val[w] = m[x].val[j], w++;
                m[x].n = w;
            }
        } else {
            adb_index_ver_t v[16];
            size_t          n = adb_index_vget(ix, k, v, 16);
            assert_int_equal(n, e->n);
            for (size_t j = 0; j < n; j++)
                assert_true(v[j].slot == e->slot[j] && v[j].val == e->val[j]);
        }
    }
    size_t keys = 0, vers = 0;
    for (size_t i = 0; i < U; i++)
        keys += m[i].n > 0, vers += m[i].n > 1 ? m[i].n : 0;
    assert_int_equal(adb_index_cnt(ix), keys);
    if (!two) assert_int_equal(adb_index_list_cnt(ix), vers);
    vv_check_t c = {m, U, 0};
    for (uint32_t b = 0; b < adb_index_bin_cnt(ix); b++)
        assert_int_equal(adb_index_bin_vvisit(ix, b, vv_check_cb, &c), 0);
    assert_int_equal(c.seen, keys);
    if (two) {
        adb_index_stats_t st;
        adb_index_stats(ix, &st);
        print_message("two tiers, budget %llu: keys %llu (RAM %llu, disk %llu), hits %llu, misses "
                      "%llu, promotions %llu, evictions %llu, trims %llu, heap %llu, mapped %llu, "
                      "reuses %zu\n",
                      (unsigned long long)ram_bytes, (unsigned long long)st.keys,
                      (unsigned long long)st.ram_keys, (unsigned long long)st.disk_keys,
                      (unsigned long long)st.hits, (unsigned long long)st.misses,
                      (unsigned long long)st.promotions, (unsigned long long)st.evictions,
                      (unsigned long long)st.trims, (unsigned long long)st.ram_heap,
                      (unsigned long long)st.ram_mapped, reuses);
        if (ram_bytes) {
            assert_true(st.evictions > 0);
            assert_true(st.misses > st.hits); /* most lookups went to disk */
        }
    }
    free(m);
    adb_index_close(ix); /* frees the remaining lists (ASan checks) */
    if (dir) {
        adb_test_rmtree(dir);
        free(dir);
    }
}

static void
test_versions_model(void **state) {
    (void)state;
    versions_model_run(false, 0, 400000);
}

static void
test_two_tier_model_unlimited(void **state) {
    (void)state;
    versions_model_run(true, 0, 200000);
}

/* A budget so small most lookups go to disk. */
static void
test_two_tier_model_tiny(void **state) {
    (void)state;
    versions_model_run(true, 48 * 1024, 200000);
}

/* Resident bytes of this process's mappings of files under dir, as
 * /proc/self/smaps reports them. */
static uint64_t
smaps_rss_under(char const *dir) {
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char     line[4096];
    bool     ours = false;
    uint64_t sum = 0;
    size_t   dl = strlen(dir);
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, kb;
        int                n = 0;
        if (sscanf(line, "%llx-%llx %n", &lo, &hi, &n) == 2 && n > 0) {
            /* A mapping's header: its path is the sixth field, if any
             * (anonymous mappings have none). */
            char path[4096] = "";
            ours = sscanf(line, "%*s %*s %*s %*s %*s %4095s", path) == 1 && !strncmp(path, dir, dl);
        } else if (!strncmp(line, "Rss:", 4) && sscanf(line + 4, "%llu", &kb) == 1 && ours) {
            sum += kb * 1024;
        }
    }
    fclose(f);
    return sum;
}

/* One check of the budget: the index's heap plus the resident bytes of its
 * mappings, with the peaks seen. */
typedef struct budget {
    adb_index_t *ix;
    char const  *dir;
    uint64_t     budget, peak, peak_heap, peak_rss, checks;
} budget_t;

static void
budget_check(budget_t *c, char const *when) {
    adb_index_stats_t st;
    adb_index_stats(c->ix, &st);
    uint64_t rss = smaps_rss_under(c->dir), used = st.ram_heap + rss;
    c->peak = ADB_MAX(c->peak, used), c->peak_heap = ADB_MAX(c->peak_heap, st.ram_heap);
    c->peak_rss = ADB_MAX(c->peak_rss, rss), c->checks++;
    if (used > c->budget)
        fail_msg("%s: heap %llu + mapped %llu (estimate %llu) > %llu", when,
                 (unsigned long long)st.ram_heap, (unsigned long long)rss,
                 (unsigned long long)st.ram_mapped, (unsigned long long)c->budget);
}

/* 2,000,000 keys under a 16 MiB budget: the index's heap plus the resident
 * pages of its mappings (smaps) stay within it while the keys go in and
 * while random lookups read them back. */
static void
test_two_tier_budget(void **state) {
    (void)state;
    char           *dir = adb_test_mkdtemp();
    uint64_t const  budget = 16u << 20;
    size_t const    N = adb_test_scaled(2000000);
    adb_index_t    *ix;
    adb_index_cfg_t cfg = {.bin_bits = 13, .disk_dir = dir, .ram_bytes = budget, .pin_mask = PIN};
    assert_int_equal(adb_index_open(&ix, &cfg), 0);
    budget_t bc = {ix, dir, budget, 0, 0, 0, 0};
    uint8_t  k[32];
    for (size_t i = 0; i < N; i++) {
        key_of(i, 21, k, false);
        assert_int_equal(adb_index_vput(ix, k, 100 + i % 7, i), 0);
        if (i % 2 == 0) { /* a second, older version for every other key */
            assert_int_equal(adb_index_vput(ix, k, 50, i + 1), 0);
        }
        if (i % 50000 == 49999 || i + 1 == N) budget_check(&bc, "inserting");
    }
    uint64_t s = adb_test_seed() ^ 0xb0d;
    for (size_t j = 0; j < N / 4; j++) {
        size_t i = adb_test_rand(&s) % N;
        key_of(i, 21, k, false);
        adb_index_ver_t v[4];
        size_t          n = adb_index_vget(ix, k, v, 4);
        assert_int_equal(n, i % 2 == 0 ? 2u : 1u);
        assert_true(v[0].slot == 100 + i % 7 && v[0].val == i);
        if (j % 50000 == 49999) budget_check(&bc, "looking up");
    }
    adb_index_stats_t st;
    adb_index_stats(ix, &st);
    assert_int_equal(st.keys, N);
    print_message("two tiers, %zu keys, budget %llu B: peak heap+mapped %llu B (heap %llu, mapped "
                  "%llu, %llu checks); disk %llu B, %llu entries; hits %llu misses %llu evictions "
                  "%llu trims %llu\n",
                  N, (unsigned long long)budget, (unsigned long long)bc.peak,
                  (unsigned long long)bc.peak_heap, (unsigned long long)bc.peak_rss,
                  (unsigned long long)bc.checks, (unsigned long long)st.disk_bytes,
                  (unsigned long long)st.disk_entries, (unsigned long long)st.hits,
                  (unsigned long long)st.misses, (unsigned long long)st.evictions,
                  (unsigned long long)st.trims);
    adb_index_close(ix);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_versions_model),          cmocka_unit_test(test_model_random),
    cmocka_unit_test(test_model_one_bin),           cmocka_unit_test(test_growth_and_batch),
    cmocka_unit_test(test_concurrency_two_writers), cmocka_unit_test(test_two_tier_model_unlimited),
    cmocka_unit_test(test_two_tier_model_tiny),     cmocka_unit_test(test_two_tier_budget),
};
ADB_TEST_GROUP(index, tests);
