/* Tests for the bincode reader (bounds, sticky errors with offsets, length
 * prefix limits) and writer (round trip, byte limit, allocation failure). */
#include "../test.h"

#include "util/bincode.h"

static void
test_roundtrip(void **state) {
    (void)state;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    adb_bc_put_u8(&wr, 0xab);
    adb_bc_put_u16(&wr, 0xbeef);
    adb_bc_put_u32(&wr, 0xdeadbeef);
    adb_bc_put_u64(&wr, 0x0123456789abcdefull);
    adb_bc_put_i64(&wr, -42);
    adb_bc_put_f64(&wr, 78892314.98630138);
    adb_bc_put_bool(&wr, true);
    adb_bc_put_u8(&wr, 1); /* option Some */
    adb_bc_put_u64(&wr, 7);
    adb_bc_put_str(&wr, "1.2.0", 5);
    adb_bc_put_u32(&wr, 2); /* variant */
    assert_int_equal(wr.err, 0);
    assert_int_equal(wr.sz, 1 + 2 + 4 + 8 + 8 + 8 + 1 + 1 + 8 + 8 + 5 + 4);

    /* Exact little-endian bytes, no padding. */
    assert_int_equal(wr.buf[0], 0xab);
    assert_int_equal(wr.buf[1], 0xef);
    assert_int_equal(wr.buf[2], 0xbe);
    assert_int_equal(wr.buf[3], 0xef);

    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, wr.buf, wr.sz, "t");
    assert_int_equal(adb_bc_u8(&rd, "a"), 0xab);
    assert_int_equal(adb_bc_u16(&rd, "b"), 0xbeef);
    assert_int_equal(adb_bc_u32(&rd, "c"), 0xdeadbeef);
    assert_true(adb_bc_u64(&rd, "d") == 0x0123456789abcdefull);
    assert_true(adb_bc_i64(&rd, "e") == -42);
    assert_true(adb_bc_f64(&rd, "f") == 78892314.98630138);
    assert_true(adb_bc_bool(&rd, "g"));
    assert_true(adb_bc_option(&rd, "h"));
    assert_int_equal(adb_bc_u64(&rd, "i"), 7);
    size_t         n;
    uint8_t const *s = adb_bc_str(&rd, &n, "j");
    assert_int_equal(n, 5);
    assert_memory_equal(s, "1.2.0", 5);
    assert_int_equal(adb_bc_variant(&rd, 3, "k"), 2);
    assert_true(adb_bc_at_eof(&rd));
    adb_bc_wr_fini(&wr);
}

static void
test_truncation_sticky(void **state) {
    (void)state;
    uint8_t     buf[12] = {1, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9};
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, buf, sizeof buf, "manifest");
    assert_int_equal(adb_bc_u64(&rd, "slot"), 1);
    assert_int_equal(adb_bc_u64(&rd, "parent_slot"), 0); /* only 4 left */
    assert_false(adb_bc_ok(&rd));
    assert_int_equal(rd.err.code, ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(rd.err.msg, "manifest: offset 8: parent_slot truncated"));
    /* Sticky: later reads return 0 and do not move or overwrite the message. */
    assert_int_equal(adb_bc_u8(&rd, "x"), 9 - 9);
    assert_int_equal(rd.off, 8);
    assert_non_null(strstr(rd.err.msg, "parent_slot"));
    assert_null(adb_bc_bytes(&rd, 1, "y"));
}

static void
test_invalid_values(void **state) {
    (void)state;
    uint8_t     b2[] = {2};
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, b2, 1, "t");
    assert_false(adb_bc_bool(&rd, "is_delta"));
    assert_int_equal(rd.err.code, ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(rd.err.msg, "offset 0: is_delta: invalid bool byte 0x02"));

    adb_bc_rd_init(&rd, b2, 1, "t");
    adb_bc_option(&rd, "block_id");
    assert_non_null(strstr(rd.err.msg, "invalid Option tag 2"));

    uint8_t v[4] = {9, 0, 0, 0};
    adb_bc_rd_init(&rd, v, 4, "t");
    adb_bc_variant(&rd, 3, "result");
    assert_non_null(strstr(rd.err.msg, "unknown enum variant 9"));
}

static void
test_length_prefix_bounds(void **state) {
    (void)state;
    /* A 2^60 length prefix is refused before anything is allocated. */
    uint8_t buf[8 + 64] = {0};
    adb_store_u64(buf, 1ull << 60);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, buf, sizeof buf, "t");
    assert_int_equal(adb_bc_len(&rd, 1, "vec"), 0);
    assert_non_null(strstr(rd.err.msg, "length prefix 1152921504606846976 exceeds the 64 bytes"));
    assert_int_equal(rd.off, 0);

    /* Overflow of len * elem size. */
    adb_store_u64(buf, UINT64_MAX / 2);
    adb_bc_rd_init(&rd, buf, sizeof buf, "t");
    assert_int_equal(adb_bc_len(&rd, 32, "map"), 0);
    assert_false(adb_bc_ok(&rd));

    /* Exactly fitting is fine: 2 elements of 32 bytes in 64. */
    adb_store_u64(buf, 2);
    adb_bc_rd_init(&rd, buf, sizeof buf, "t");
    assert_int_equal(adb_bc_len(&rd, 32, "map"), 2);
    assert_true(adb_bc_ok(&rd));
    /* One more does not. */
    adb_store_u64(buf, 3);
    adb_bc_rd_init(&rd, buf, sizeof buf, "t");
    assert_int_equal(adb_bc_len(&rd, 32, "map"), 0);

    /* Strings too. */
    adb_store_u64(buf, 65);
    adb_bc_rd_init(&rd, buf, sizeof buf, "t");
    size_t n = 1;
    assert_null(adb_bc_str(&rd, &n, "name"));
    assert_int_equal(n, 0);
}

static void
test_writer_limits(void **state) {
    (void)state;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 10);
    adb_bc_put_u64(&wr, 1);
    adb_bc_put_u32(&wr, 2); /* 12 > 10 */
    assert_int_equal(wr.err, ACCTDB_ERR_FULL);
    assert_int_equal(wr.sz, 8);
    adb_bc_put_u8(&wr, 1); /* sticky */
    assert_int_equal(wr.sz, 8);
    adb_bc_wr_fini(&wr);

    adb_bc_wr_init(&wr, 0);
    adb_alloc_fail_after(1);
    adb_bc_put_u64(&wr, 1);
    adb_alloc_fail_after(0);
    assert_int_equal(wr.err, ACCTDB_ERR_NOMEM);
    adb_bc_wr_fini(&wr);

    /* Growth across many reallocations keeps the bytes. */
    adb_bc_wr_init(&wr, 0);
    for (uint32_t i = 0; i < 100000; i++)
        adb_bc_put_u32(&wr, i);
    assert_int_equal(wr.err, 0);
    size_t   sz;
    uint8_t *b = adb_bc_wr_take(&wr, &sz);
    assert_int_equal(sz, 400000);
    for (uint32_t i = 0; i < 100000; i += 997)
        assert_int_equal(adb_load_u32(b + 4 * i), i);
    adb_free(b);
    assert_null(wr.buf);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_truncation_sticky),
    cmocka_unit_test(test_invalid_values), cmocka_unit_test(test_length_prefix_bounds),
    cmocka_unit_test(test_writer_limits),
};
ADB_TEST_GROUP(bincode, tests);
