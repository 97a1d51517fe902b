/* Tests for account files: the real Agave file, the writer's exact layout,
 * and every sanitization rule of FORMAT.md 2.3. */
#include "../test.h"

#include "store/acctfile.h"

#include <stdio.h>
#include <stdlib.h>

static void
test_real_agave_file(void **state) {
    (void)state;
    size_t              sz;
    uint8_t            *b = adb_test_read_file(adb_test_data("test_account_file"), &sz);
    adb_acctfile_iter_t it;
    adb_acct_rec_t      r;
    adb_acctfile_iter_init(&it, b, sz, sz);
    uint64_t n = 0, lamports = 0, data = 0, last_end = 0;
    while (adb_acctfile_iter_next(&it, &r)) {
        assert_int_equal(r.off % 8, 0);
        assert_int_equal(r.off, last_end);
        last_end = r.off + adb_acct_rec_sz(r.data_len);
        n++;
        lamports += r.lamports;
        data += r.data_len;
    }
    assert_int_equal(it.err.code, 0);
    /* An independent count with Python's struct module. */
    char out[256];
    int  rc = adb_test_sh(
         out, sizeof out,
         "python3 -c \"import struct,sys\n"
          "d=open(sys.argv[1],'rb').read(); o=n=l=t=0\n"
          "while o+136<=len(d):\n"
          "  dl=struct.unpack_from('<Q',d,o+8)[0]; lam=struct.unpack_from('<Q',d,o+48)[0]\n"
          "  if lam==0 and d[o+16:o+48]==bytes(32): break\n"
          "  n+=1; l+=lam; t+=dl; o+=(136+dl+7)//8*8\n"
          "print(n,l,t)\" '%s'",
         adb_test_data("test_account_file"));
    assert_int_equal(rc, 0);
    char want[128];
    snprintf(want, sizeof want, "%llu %llu %llu\n", (unsigned long long)n,
             (unsigned long long)lamports, (unsigned long long)data);
    assert_string_equal(out, want);
    printf("  test_account_file: %llu records, %llu lamports, %llu data bytes\n",
           (unsigned long long)n, (unsigned long long)lamports, (unsigned long long)data);
    assert_true(n > 0);
    free(b);
}

static void
test_writer_layout(void **state) {
    (void)state;
    uint64_t s = adb_test_seed() ^ 0xacc;
    size_t   iters = adb_test_scaled(200);
    for (size_t it_i = 0; it_i < iters; it_i++) {
        size_t            n = 1 + adb_test_rand(&s) % 40;
        acctdb_account_t *a = calloc(n, sizeof *a);
        uint8_t         **d = calloc(n, sizeof *d);
        uint64_t          total = 0;
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < 32; k++)
                a[i].pubkey.b[k] = (uint8_t)adb_test_rand(&s);
            for (int k = 0; k < 32; k++)
                a[i].owner.b[k] = (uint8_t)adb_test_rand(&s);
            a[i].lamports = 1 + adb_test_rand(&s) % 1000000;
            a[i].rent_epoch = adb_test_rand(&s) % 2 ? UINT64_MAX : adb_test_rand(&s);
            a[i].data_len =
                adb_test_rand(&s) % 3 ? adb_test_rand(&s) % 300 : adb_test_rand(&s) % 5000;
            a[i].executable = adb_test_rand(&s) % 5 == 0;
            d[i] = malloc(a[i].data_len + 1);
            for (uint64_t k = 0; k < a[i].data_len; k++)
                d[i][k] = (uint8_t)adb_test_rand(&s);
            a[i].data = d[i];
            total += adb_acct_rec_sz(a[i].data_len);
        }
        uint8_t *buf = malloc(total);
        memset(buf, 0xEE, total);
        uint64_t off = 0;
        for (size_t i = 0; i < n; i++)
            off += adb_acct_rec_write(buf + off, &a[i]);
        assert_int_equal(off, total);
        /* Exact bytes: zero write version, zero padding, zero hash, zero
         * data padding. */
        adb_acctfile_iter_t it;
        adb_acct_rec_t      r;
        adb_acctfile_iter_init(&it, buf, total, total);
        size_t i = 0;
        while (adb_acctfile_iter_next(&it, &r)) {
            uint8_t const *h = buf + r.off;
            assert_int_equal(adb_load_u64(h), 0);
            for (int k = 0x61; k < 0x88; k++)
                assert_int_equal(h[k], 0);
            for (uint64_t k = ADB_ACCT_HDR_SZ + r.data_len; k < adb_acct_rec_sz(r.data_len); k++)
                assert_int_equal(h[k], 0);
            acctdb_account_t back;
            adb_acct_rec_to_account(&r, &back);
            assert_memory_equal(back.pubkey.b, a[i].pubkey.b, 32);
            assert_memory_equal(back.owner.b, a[i].owner.b, 32);
            assert_true(back.lamports == a[i].lamports);
            assert_true(back.rent_epoch == a[i].rent_epoch);
            assert_int_equal(back.executable, a[i].executable);
            assert_int_equal(back.data_len, a[i].data_len);
            if (back.data_len) assert_memory_equal(back.data, a[i].data, back.data_len);
            i++;
        }
        assert_int_equal(it.err.code, 0);
        assert_int_equal(i, n);
        /* The final record's padding may be missing (unaligned valid length). */
        uint64_t  last = adb_acct_rec_sz(a[n - 1].data_len);
        uint64_t  unpadded = total - last + ADB_ACCT_HDR_SZ + a[n - 1].data_len;
        uint64_t  cnt;
        adb_err_t e = {0};
        assert_int_equal(adb_acctfile_check(buf, unpadded, total, &cnt, &e), 0);
        assert_int_equal(cnt, n);
        for (size_t k = 0; k < n; k++)
            free(d[k]);
        free(d), free(a), free(buf);
    }
}

/* Builds a file of 3 records and returns its bytes. */
static uint8_t *
three(uint64_t *sz) {
    acctdb_account_t a = {.lamports = 5, .data_len = 10};
    uint8_t          data[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    a.data = data;
    *sz = 3 * adb_acct_rec_sz(10);
    uint8_t *b = calloc(1, *sz + 4096);
    for (int i = 0; i < 3; i++) {
        a.pubkey.b[0] = (uint8_t)(i + 1);
        adb_acct_rec_write(b + i * adb_acct_rec_sz(10), &a);
    }
    return b;
}

static int
check(uint8_t const *b, uint64_t len, uint64_t fsz, uint64_t *cnt, char const *want_msg) {
    adb_err_t e = {0};
    int       rc = adb_acctfile_check(b, len, fsz, cnt, &e);
    if (want_msg) {
        assert_int_equal(rc, ACCTDB_ERR_CORRUPT);
        if (!strstr(e.msg, want_msg)) fail_msg("message '%s' lacks '%s'", e.msg, want_msg);
    }
    return rc;
}

static void
test_sanitize_rules(void **state) {
    (void)state;
    uint64_t sz, cnt;
    uint8_t *b = three(&sz);
    uint64_t rs = adb_acct_rec_sz(10);

    assert_int_equal(check(b, sz, sz, &cnt, NULL), 0);
    assert_int_equal(cnt, 3);
    /* Garbage in the 7 padding bytes after executable is ignored. */
    memcpy(b + rs + 0x61, "\x6a\x04\x38\x68\x7f\x00\x00", 7);
    assert_int_equal(check(b, sz, sz, &cnt, NULL), 0);
    /* A zero-filled tail beyond the last record ends the walk. */
    assert_int_equal(check(b, sz + 4096, sz + 4096, &cnt, NULL), 0);
    assert_int_equal(cnt, 3);
    /* Trailing junk after the valid length is ignored (valid < file size). */
    memset(b + sz, 0x55, 100);
    assert_int_equal(check(b, sz, sz + 100, &cnt, NULL), 0);
    /* ... but junk inside the valid length is not. */
    check(b, sz + 100, sz + 100, &cnt, "valid length");
    memset(b + sz, 0, 100);
    /* A record that overruns the valid length. */
    check(b, sz - 8, sz, &cnt, "valid length");
    /* Executable must be 0 or 1. */
    b[rs + ADB_ACCT_OFF_EXEC] = 2;
    check(b, sz, sz, &cnt, "executable byte is 0x02");
    b[rs + ADB_ACCT_OFF_EXEC] = 0;
    /* Zero lamports with data is not a default account. */
    adb_store_u64(b + rs + ADB_ACCT_OFF_LAMPORTS, 0);
    check(b, sz, sz, &cnt, "not a default account");
    /* A genuine tombstone passes. */
    acctdb_pubkey_t pk = {{9}};
    adb_acct_rec_write_tombstone(b + rs, &pk);
    memmove(b + rs + ADB_ACCT_HDR_SZ, b + 2 * rs, rs);
    uint64_t sz2 = rs + ADB_ACCT_HDR_SZ + rs;
    assert_int_equal(check(b, sz2, sz2, &cnt, NULL), 0);
    assert_int_equal(cnt, 3);
    free(b);
    /* data_len over 10 MiB, with the bytes present. */
    size_t   big = ADB_ACCT_HDR_SZ + (10u << 20) + 64;
    uint8_t *g = calloc(1, big);
    adb_store_u64(g + ADB_ACCT_OFF_DATA_LEN, (10u << 20) + 8);
    adb_store_u64(g + ADB_ACCT_OFF_LAMPORTS, 1);
    g[ADB_ACCT_OFF_PUBKEY] = 1;
    check(g, big, big, &cnt, "10 MiB");
    /* A data_len whose end overflows u64. */
    adb_store_u64(g + ADB_ACCT_OFF_DATA_LEN, UINT64_MAX - 8);
    check(g, big, big, &cnt, "valid length");
    free(g);
    /* Size rules. */
    uint8_t z[8] = {0};
    check(z, 0, 0, &cnt, "empty");
    check(z, 16, 8, &cnt, "exceeds the file size");
    check(z, 0, (16ull << 30) + 1, &cnt, "16 GiB");
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_real_agave_file),
    cmocka_unit_test(test_writer_layout),
    cmocka_unit_test(test_sanitize_rules),
};
ADB_TEST_GROUP(acctfile, tests);
