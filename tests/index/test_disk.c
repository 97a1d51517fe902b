/* Tests for the disk tier: random operations against a model (with clean
 * closes and reuses in between), shrinking after deletions, every way a
 * reuse must refuse, and trimming of mapped pages. */
#include "../test.h"

#include "index/disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum { VMAXT = 40 };

typedef struct mkey {
    uint8_t         n;
    adb_index_ver_t v[VMAXT];
} mkey_t;

static void
tkey(uint64_t i, uint8_t k[32]) {
    uint64_t s = i * 0x9E3779B97F4A7C15ull + 17;
    for (int w = 0; w < 4; w++)
        adb_store_u64(k + 8 * w, adb_test_rand(&s));
}

static uint32_t
tbin(uint8_t const k[32], uint32_t bins) {
    return (uint32_t)(adb_load_u64(k) % bins);
}

static void
check_all(adb_dtier_t *dt, mkey_t const *m, size_t U, uint32_t bins) {
    adb_index_ver_t v[VMAXT];
    uint8_t         k[32];
    uint64_t        keys = 0;
    for (size_t i = 0; i < U; i++) {
        tkey(i, k);
        size_t n = adb_dtier_get(dt, tbin(k, bins), k, v, VMAXT);
        assert_int_equal(n, m[i].n);
        for (size_t j = 0; j < n; j++)
            assert_true(v[j].slot == m[i].v[j].slot && v[j].val == m[i].v[j].val);
        keys += m[i].n > 0;
    }
    adb_dtier_stats_t st;
    adb_dtier_stats(dt, &st);
    assert_int_equal(st.keys, keys);
}

static uint64_t
dir_bytes(char const *dir) {
    DIR     *d = opendir(dir);
    uint64_t sum = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        char        p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (de->d_name[0] == 'b' && !stat(p, &st)) sum += (uint64_t)st.st_size;
    }
    if (d) closedir(d);
    return sum;
}

typedef struct vctx {
    mkey_t const *m;
    size_t        U, *seen;
} vctx_t;

static int
visit_cb(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t n) {
    vctx_t *c = ctx;
    /* find the model key: keys are tkey(i) */
    for (size_t i = 0; i < c->U; i++) {
        uint8_t k[32];
        tkey(i, k);
        if (memcmp(k, key, 32)) continue;
        if (n != c->m[i].n) return 1;
        for (size_t j = 0; j < n; j++)
            if (v[j].slot != c->m[i].v[j].slot || v[j].val != c->m[i].v[j].val) return 2;
        (*c->seen)++;
        return 0;
    }
    return 3;
}

static void
test_disk_model(void **state) {
    (void)state;
    char             *dir = adb_test_mkdtemp();
    uint32_t const    bins = 8;
    size_t const      U = 3000, ops = adb_test_scaled(120000);
    adb_dtier_t      *dt;
    adb_err_t         err = {0};
    adb_dtier_stamp_t stamp = {.gen = 1, .root = 100};
    assert_int_equal(adb_dtier_create(&dt, NULL, dir, bins, 0x1234, &err), 0);
    mkey_t  *m = calloc(U, sizeof *m);
    uint64_t s = adb_test_seed() ^ 0xd15c;
    uint8_t  k[32];
    size_t   reuses = 0, many_seen = 0;
    for (size_t op = 0; op < ops; op++) {
        uint64_t i = adb_test_rand(&s) % U, r = adb_test_rand(&s) % 100;
        tkey(i, k);
        uint32_t b = tbin(k, bins);
        if (r < 55) { /* replace the versions with 1..VMAXT new ones (mostly few) */
            uint64_t x = adb_test_rand(&s);
            size_t   n = x % 4 ? 1 + (x >> 8) % 3 : 1 + (x >> 8) % VMAXT;
            for (size_t j = 0; j < n; j++)
                m[i].v[j] = (adb_index_ver_t){n - j + op, adb_test_rand(&s)};
            m[i].n = (uint8_t)n;
            many_seen += n > 1;
            assert_int_equal(adb_dtier_set(dt, b, k, m[i].v, n), 0);
        } else if (r < 75) { /* remove */
            m[i].n = 0;
            assert_int_equal(adb_dtier_set(dt, b, k, NULL, 0), 0);
        } else if (r < 99) {
            adb_index_ver_t v[VMAXT];
            size_t          n = adb_dtier_get(dt, b, k, v, VMAXT);
            assert_int_equal(n, m[i].n);
            for (size_t j = 0; j < n; j++)
                assert_true(v[j].slot == m[i].v[j].slot && v[j].val == m[i].v[j].val);
        } else if (r == 99 && adb_test_rand(&s) % 8 == 0) {
            /* A clean close and a reuse, or a reclaim of one bin, or a trim. */
            uint64_t what = adb_test_rand(&s) % 3;
            if (what == 0) {
                stamp.gen++, stamp.root += 7;
                assert_int_equal(adb_dtier_close(dt, &stamp, &err), 0);
                if (adb_dtier_reuse(&dt, NULL, dir, bins, &stamp, 2, &err)) fail_msg("%s", err.msg);
                reuses++;
            } else if (what == 1) {
                assert_int_equal(adb_dtier_reclaim(dt, b), 0);
            } else {
                adb_dtier_trim(dt, b);
            }
        }
    }
    check_all(dt, m, U, bins);
    /* visit sees exactly the model */
    size_t seen = 0;
    for (uint32_t b = 0; b < bins; b++) {
        vctx_t c = {m, U, &seen};
        assert_int_equal(adb_dtier_visit(dt, b, visit_cb, &c), 0);
    }
    size_t keys = 0;
    for (size_t i = 0; i < U; i++)
        keys += m[i].n > 0;
    assert_int_equal(seen, keys);
    print_message("disk model: %zu ops, %zu reuses, %zu multi-version writes, %zu keys\n", ops,
                  reuses, many_seen, keys);
    assert_true(many_seen > 0);
    assert_int_equal(adb_dtier_close(dt, NULL, &err), 0);
    free(m);
    adb_test_rmtree(dir);
    free(dir);
}

/* Deleting half the keys, then reclaiming, leaves at most 60% of the bytes. */
static void
test_disk_shrink(void **state) {
    (void)state;
    char          *dir = adb_test_mkdtemp();
    uint32_t const bins = 16;
    size_t const   N = adb_test_scaled(200000);
    adb_dtier_t   *dt;
    adb_err_t      err = {0};
    assert_int_equal(adb_dtier_create(&dt, NULL, dir, bins, 99, &err), 0);
    uint8_t         k[32];
    adb_index_ver_t v[3] = {{30, 1}, {20, 2}, {10, 3}};
    for (size_t i = 0; i < N; i++) {
        tkey(i, k);
        assert_int_equal(adb_dtier_set(dt, tbin(k, bins), k, v, i % 10 == 1 ? 3 : 1), 0);
    }
    adb_dtier_stats_t a, b;
    adb_dtier_stats(dt, &a);
    uint64_t before = dir_bytes(dir);
    assert_int_equal(a.file_bytes, before);
    for (size_t i = 0; i < N; i += 2) {
        tkey(i, k);
        assert_int_equal(adb_dtier_set(dt, tbin(k, bins), k, NULL, 0), 0);
    }
    for (uint32_t i = 0; i < bins; i++)
        assert_int_equal(adb_dtier_reclaim(dt, i), 0);
    adb_dtier_stats(dt, &b);
    uint64_t after = dir_bytes(dir);
    assert_int_equal(b.file_bytes, after);
    print_message("disk shrink: %zu keys, %llu -> %llu bytes (%.1f%%), entries %llu -> %llu, "
                  "cells %llu/%llu -> %llu/%llu\n",
                  N, (unsigned long long)before, (unsigned long long)after, 100.0 * after / before,
                  (unsigned long long)a.entries, (unsigned long long)b.entries,
                  (unsigned long long)a.cells_live, (unsigned long long)a.cells_alloc,
                  (unsigned long long)b.cells_live, (unsigned long long)b.cells_alloc);
    assert_true(after * 10 <= before * 6);
    assert_int_equal(b.keys, N / 2);
    for (size_t i = 0; i < N; i++) {
        adb_index_ver_t o[4];
        tkey(i, k);
        size_t n = adb_dtier_get(dt, tbin(k, bins), k, o, 4);
        assert_int_equal(n, i % 2 ? (i % 10 == 1 ? 3u : 1u) : 0u);
        if (n) assert_true(o[0].slot == 30 && o[n - 1].val == n);
    }
    assert_int_equal(adb_dtier_close(dt, NULL, &err), 0);
    adb_test_rmtree(dir);
    free(dir);
}

static void
fill(adb_dtier_t *dt, uint32_t bins, size_t n) {
    uint8_t         k[32];
    adb_index_ver_t v[2] = {{5, 50}, {4, 40}};
    for (size_t i = 0; i < n; i++) {
        tkey(i, k);
        assert_int_equal(adb_dtier_set(dt, tbin(k, bins), k, v, 1 + i % 2), 0);
    }
}

static int
reuse_rc(char const *dir, uint32_t bins, adb_dtier_stamp_t const *want, char *msg) {
    adb_dtier_t *dt = NULL;
    adb_err_t    err = {0};
    int          rc = adb_dtier_reuse(&dt, NULL, dir, bins, want, 2, &err);
    snprintf(msg, ADB_ERRMSG_SZ, "%s", err.msg);
    if (!rc) adb_dtier_close(dt, NULL, &err);
    return rc;
}

static void
flip_byte(char const *path, off_t off) {
    int     fd = open(path, O_RDWR);
    uint8_t c;
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void
test_disk_reuse_refusals(void **state) {
    (void)state;
    char             *dir = adb_test_mkdtemp();
    uint32_t const    bins = 4;
    adb_dtier_t      *dt;
    adb_err_t         err = {0};
    adb_dtier_stamp_t st = {.gen = 7, .root = 70}, other = {.gen = 7, .root = 71};
    char              msg[ADB_ERRMSG_SZ], p[600];
    assert_int_equal(reuse_rc(dir, bins, &st, msg), ACCTDB_ERR_NOT_FOUND);
    /* Not closed cleanly. */
    assert_int_equal(adb_dtier_create(&dt, NULL, dir, bins, 5, &err), 0);
    fill(dt, bins, 5000);
    assert_int_equal(adb_dtier_close(dt, NULL, &err), 0);
    assert_int_equal(reuse_rc(dir, bins, &st, msg), ACCTDB_ERR_MISMATCH);
    assert_non_null(strstr(msg, "not closed cleanly"));
    /* Clean: reused once; then the meta is open again until the next clean close. */
    assert_int_equal(adb_dtier_create(&dt, NULL, dir, bins, 5, &err), 0);
    fill(dt, bins, 5000);
    assert_int_equal(adb_dtier_close(dt, &st, &err), 0);
    assert_int_equal(reuse_rc(dir, bins, &other, msg), ACCTDB_ERR_MISMATCH);
    assert_non_null(strstr(msg, "root 71"));
    assert_int_equal(reuse_rc(dir, bins * 2, &st, msg), ACCTDB_ERR_MISMATCH);
    assert_int_equal(reuse_rc(dir, bins, &st, msg), 0);
    assert_int_equal(reuse_rc(dir, bins, &st, msg), ACCTDB_ERR_MISMATCH); /* a crash after */
    /* Damage, one kind at a time, each from a fresh clean close. */
    for (int kind = 0; kind < 5; kind++) {
        assert_int_equal(adb_dtier_create(&dt, NULL, dir, bins, 5, &err), 0);
        fill(dt, bins, 5000);
        assert_int_equal(adb_dtier_close(dt, &st, &err), 0);
        snprintf(p, sizeof p, "%s/b00002.ix", dir);
        if (kind == 0) flip_byte(p, 4096 * 3 + 77); /* an entry */
        if (kind == 1) assert_int_equal(truncate(p, 4096 * 2), 0);
        if (kind == 2) assert_int_equal(unlink(p), 0);
        if (kind == 3) {
            snprintf(p, sizeof p, "%s/b00001.c01", dir);
            flip_byte(p, 4096 + 5);
        }
        if (kind == 4) {
            snprintf(p, sizeof p, "%s/index.meta", dir);
            flip_byte(p, 30);
        }
        int rc = reuse_rc(dir, bins, &st, msg);
        print_message("damage %d: %s\n", kind, msg);
        assert_int_equal(rc, ACCTDB_ERR_CORRUPT);
    }
    /* create over a damaged tier starts afresh */
    assert_int_equal(adb_dtier_create(&dt, NULL, dir, bins, 5, &err), 0);
    adb_dtier_stats_t s;
    adb_dtier_stats(dt, &s);
    assert_int_equal(s.keys, 0);
    assert_int_equal(adb_dtier_close(dt, &st, &err), 0);
    assert_int_equal(reuse_rc(dir, bins, &st, msg), 0);
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_disk_trim(void **state) {
    (void)state;
    char        *dir = adb_test_mkdtemp();
    adb_dtier_t *dt;
    adb_err_t    err = {0};
    assert_int_equal(adb_dtier_create(&dt, NULL, dir, 4, 5, &err), 0);
    fill(dt, 4, 20000);
    adb_dtier_stats_t s;
    adb_dtier_stats(dt, &s);
    assert_true(s.resident_est > 0);
    for (uint32_t b = 0; b < 4; b++)
        adb_dtier_trim(dt, b);
    adb_dtier_stats(dt, &s);
    assert_int_equal(s.resident_est, 0);
    uint8_t         k[32];
    adb_index_ver_t v[2];
    tkey(19999, k);
    assert_int_equal(adb_dtier_get(dt, tbin(k, 4), k, v, 2), 2);
    assert_true(v[0].slot == 5 && v[1].val == 40);
    assert_int_equal(adb_dtier_close(dt, NULL, &err), 0);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_disk_model),
    cmocka_unit_test(test_disk_shrink),
    cmocka_unit_test(test_disk_reuse_refusals),
    cmocka_unit_test(test_disk_trim),
};
ADB_TEST_GROUP(index_disk, tests);
