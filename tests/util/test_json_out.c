/* Tests for the JSON writer (src/util/json_out.h): escaping, exact
 * integers, round-trip floats, comma and nesting management, misuse,
 * invalid UTF-8, FILE output, allocation failures; every document is
 * re-read with cJSON. */
#include "../test.h"

#include "util/json_out.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static char *
take(adb_json_t *j, size_t *sz) {
    char *t;
    int   rc = adb_json_take(j, &t, sz);
    if (rc) fail_msg("json error %d", rc);
    adb_json_fini(j);
    return t;
}

static void
test_json_values(void **state) {
    (void)state;
    adb_json_t j;
    adb_json_init_buf(&j);
    adb_json_obj_begin(&j);
    adb_json_key(&j, "u64");
    adb_json_u64(&j, UINT64_MAX);
    adb_json_key(&j, "zero");
    adb_json_u64(&j, 0);
    adb_json_key(&j, "i64");
    adb_json_i64(&j, INT64_MIN);
    adb_json_key(&j, "u128");
    adb_json_u128(&j, ~(unsigned __int128)0);
    adb_json_key(&j, "f");
    adb_json_arr_begin(&j);
    adb_json_f64(&j, 0.1);
    adb_json_f64(&j, 78892314.98630138);
    adb_json_f64(&j, 7.0);
    adb_json_f64(&j, -0.0);
    adb_json_f64(&j, 1e300);
    adb_json_f64(&j, 5e-324);
    adb_json_f64(&j, NAN);
    adb_json_f64(&j, INFINITY);
    adb_json_arr_end(&j);
    adb_json_key(&j, "b");
    adb_json_bool(&j, true);
    adb_json_key(&j, "n");
    adb_json_null(&j);
    adb_json_key(&j, "empty_obj");
    adb_json_obj_begin(&j);
    adb_json_obj_end(&j);
    adb_json_key(&j, "empty_arr");
    adb_json_arr_begin(&j);
    adb_json_arr_end(&j);
    adb_json_key(&j, "hex");
    adb_json_hex(&j, "\x00\xff\x10", 3);
    uint8_t k[32] = {0};
    adb_json_key(&j, "b58");
    adb_json_b58_32(&j, k);
    adb_json_obj_end(&j);
    size_t sz;
    char  *t = take(&j, &sz);
    assert_int_equal(strlen(t), sz);
    assert_string_equal(t, "{\"u64\":18446744073709551615,\"zero\":0,\"i64\":-9223372036854775808,"
                           "\"u128\":340282366920938463463374607431768211455,"
                           "\"f\":[0.1,78892314.98630138,7,-0,1e+300,"
                           "4.94065645841247e-324,null,null],\"b\":true,\"n\":null,"
                           "\"empty_obj\":{},\"empty_arr\":[],\"hex\":\"00ff10\","
                           "\"b58\":\"11111111111111111111111111111111\"}");
    cJSON *p = cJSON_Parse(t);
    assert_non_null(p);
    /* Every float reads back to the same double. */
    cJSON const *f = cJSON_GetObjectItem(p, "f");
    assert_true(cJSON_GetArrayItem(f, 0)->valuedouble == 0.1);
    assert_true(cJSON_GetArrayItem(f, 1)->valuedouble == 78892314.98630138);
    assert_true(cJSON_GetArrayItem(f, 4)->valuedouble == 1e300);
    assert_true(cJSON_GetArrayItem(f, 5)->valuedouble == 5e-324);
    cJSON_Delete(p);
    adb_free(t);
}

static void
test_json_strings(void **state) {
    (void)state;
    adb_json_t j;
    adb_json_init_buf(&j);
    adb_json_arr_begin(&j);
    adb_json_str(&j, "plain");
    adb_json_str(&j, "q\"b\\s/");
    adb_json_str(&j, "\b\f\n\r\t\x01\x1f");
    adb_json_strn(&j, "nul\0in", 6);
    adb_json_str(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* valid UTF-8 passes */
    adb_json_str(&j, "bad\xff|\xc3|\xed\xa0\x80|\xc0\xaf|\xf4\x90\x80\x80"); /* invalid */
    adb_json_arr_end(&j);
    size_t sz;
    char  *t = take(&j, &sz);
    assert_string_equal(t, "[\"plain\",\"q\\\"b\\\\s/\",\"\\b\\f\\n\\r\\t\\u0001\\u001f\","
                           "\"nul\\u0000in\",\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
                           "\"bad\\ufffd|\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd|"
                           "\\ufffd\\ufffd\\ufffd\\ufffd\"]");
    cJSON *p = cJSON_Parse(t);
    assert_non_null(p);
    assert_string_equal(cJSON_GetArrayItem(p, 1)->valuestring, "q\"b\\s/");
    assert_string_equal(cJSON_GetArrayItem(p, 2)->valuestring, "\b\f\n\r\t\x01\x1f");
    cJSON_Delete(p);
    adb_free(t);

    /* Keys are escaped too; pretty output is the same document. */
    adb_json_init_buf(&j);
    adb_json_set_pretty(&j, true);
    adb_json_obj_begin(&j);
    adb_json_key(&j, "a\"b");
    adb_json_arr_begin(&j);
    adb_json_u64(&j, 1);
    adb_json_obj_begin(&j);
    adb_json_obj_end(&j);
    adb_json_arr_end(&j);
    adb_json_obj_end(&j);
    t = take(&j, &sz);
    assert_string_equal(t, "{\n  \"a\\\"b\": [\n    1,\n    {}\n  ]\n}");
    adb_free(t);
}

static void
test_json_misuse(void **state) {
    (void)state;
    adb_json_t j;
    char      *t;
    size_t     sz;
    /* A value where a key is due. */
    adb_json_init_buf(&j);
    adb_json_obj_begin(&j);
    adb_json_u64(&j, 1);
    assert_int_equal(adb_json_take(&j, &t, &sz), ACCTDB_ERR_INVALID);
    assert_null(t);
    adb_json_fini(&j);
    /* A key inside an array; two keys in a row; an unclosed object. */
    adb_json_init_buf(&j);
    adb_json_arr_begin(&j);
    adb_json_key(&j, "k");
    assert_int_equal(adb_json_finish(&j), ACCTDB_ERR_INVALID);
    adb_json_fini(&j);
    adb_json_init_buf(&j);
    adb_json_obj_begin(&j);
    adb_json_key(&j, "a");
    adb_json_key(&j, "b");
    assert_int_equal(adb_json_finish(&j), ACCTDB_ERR_INVALID);
    adb_json_fini(&j);
    adb_json_init_buf(&j);
    adb_json_obj_begin(&j);
    assert_int_equal(adb_json_finish(&j), ACCTDB_ERR_INVALID);
    adb_json_fini(&j);
    /* Mismatched end, two top-level values, an empty document. */
    adb_json_init_buf(&j);
    adb_json_arr_begin(&j);
    adb_json_obj_end(&j);
    assert_int_equal(adb_json_finish(&j), ACCTDB_ERR_INVALID);
    adb_json_fini(&j);
    adb_json_init_buf(&j);
    adb_json_u64(&j, 1);
    adb_json_u64(&j, 2);
    assert_int_equal(adb_json_finish(&j), ACCTDB_ERR_INVALID);
    adb_json_fini(&j);
    adb_json_init_buf(&j);
    assert_int_equal(adb_json_finish(&j), ACCTDB_ERR_INVALID);
    adb_json_fini(&j);
    /* Nesting deeper than the limit. */
    adb_json_init_buf(&j);
    for (int i = 0; i < ADB_JSON_DEPTH_MAX + 1; i++)
        adb_json_arr_begin(&j);
    assert_int_equal(adb_json_finish(&j), ACCTDB_ERR_INVALID);
    adb_json_fini(&j);
    /* The deepest allowed nesting works. */
    adb_json_init_buf(&j);
    for (int i = 0; i < ADB_JSON_DEPTH_MAX - 1; i++)
        adb_json_arr_begin(&j);
    for (int i = 0; i < ADB_JSON_DEPTH_MAX - 1; i++)
        adb_json_arr_end(&j);
    t = take(&j, &sz);
    assert_int_equal(sz, 2 * (ADB_JSON_DEPTH_MAX - 1));
    adb_free(t);
}

static void
test_json_file_and_oom(void **state) {
    (void)state;
    /* A document larger than the FILE flush threshold, both ways. */
    FILE      *f = tmpfile();
    adb_json_t jf, jb;
    adb_json_init_file(&jf, f);
    adb_json_init_buf(&jb);
    adb_json_t *js[2] = {&jf, &jb};
    for (int w = 0; w < 2; w++) {
        adb_json_arr_begin(js[w]);
        for (uint64_t i = 0; i < 20000; i++) {
            adb_json_obj_begin(js[w]);
            adb_json_key(js[w], "i");
            adb_json_u64(js[w], i * 1000003);
            adb_json_key(js[w], "s");
            adb_json_str(js[w], "x\ty");
            adb_json_obj_end(js[w]);
        }
        adb_json_arr_end(js[w]);
    }
    assert_int_equal(adb_json_finish(&jf), 0);
    adb_json_fini(&jf);
    size_t sz;
    char  *t = take(&jb, &sz);
    assert_true(sz > 100000);
    assert_int_equal((size_t)ftell(f), sz);
    rewind(f);
    char *fb = malloc(sz);
    assert_int_equal(fread(fb, 1, sz, f), sz);
    assert_memory_equal(fb, t, sz);
    free(fb);
    fclose(f);
    cJSON *p = cJSON_Parse(t);
    assert_non_null(p);
    assert_int_equal(cJSON_GetArraySize(p), 20000);
    cJSON_Delete(p);
    adb_free(t);
    /* take() is for buffer mode only. */
    f = tmpfile();
    adb_json_init_file(&jf, f);
    adb_json_null(&jf);
    assert_int_equal(adb_json_take(&jf, &t, &sz), ACCTDB_ERR_INVALID);
    adb_json_fini(&jf);
    fclose(f);

    /* Allocation failure is sticky and reported. */
    for (uint64_t n = 1; n < 4; n++) {
        adb_json_init_buf(&jb);
        adb_alloc_fail_after(n);
        adb_json_arr_begin(&jb);
        for (int i = 0; i < 5000; i++)
            adb_json_str(&jb, "abcdefgh");
        adb_json_arr_end(&jb);
        adb_alloc_fail_after(0);
        assert_int_equal(adb_json_take(&jb, &t, &sz), ACCTDB_ERR_NOMEM);
        assert_null(t);
        adb_json_fini(&jb);
    }
}

static struct CMUnitTest const json_out_tests[] = {
    cmocka_unit_test(test_json_values),
    cmocka_unit_test(test_json_strings),
    cmocka_unit_test(test_json_misuse),
    cmocka_unit_test(test_json_file_and_oom),
};

ADB_TEST_GROUP(json_out, json_out_tests);
