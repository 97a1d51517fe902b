/* Tests for the genesis.bin codec (src/snapshot/genesis.h) on the devnet
 * genesis: contents and hash (FORMAT.md 8), byte-identical round trip,
 * truncation, hostile input, out-of-memory injection, building one. */
#include "../test.h"

#include "snapshot/genesis.h"
#include "util/base58.h"
#include "util/json_out.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static uint8_t *
read_devnet(size_t *sz_out) {
    FILE *f = fopen(adb_test_data("devnet_genesis.bin"), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *sz_out = (size_t)n;
    return b;
}

static void
g_decode_ok(uint8_t const *b, size_t sz, adb_genesis_t *g) {
    adb_err_t e;
    int       rc = adb_genesis_decode(b, sz, 0, g, &e);
    if (rc) fail_msg("genesis decode failed (%d): %s", rc, e.msg);
}

static void
g_assert_roundtrip(adb_genesis_t const *g, uint8_t const *b, size_t sz) {
    uint8_t *o;
    size_t   osz;
    assert_int_equal(adb_genesis_encode_buf(g, &o, &osz), 0);
    assert_int_equal(osz, sz);
    assert_memory_equal(o, b, sz);
    adb_free(o);
}

static void
test_genesis_devnet(void **state) {
    (void)state;
    size_t        sz;
    uint8_t      *b = read_devnet(&sz);
    adb_genesis_t g;
    g_decode_ok(b, sz, &g);
    assert_int_equal(g.accounts_cnt, 423);
    assert_int_equal(g.rewards_pools_cnt, 0);
    assert_int_equal(g.cluster_type, ADB_CLUSTER_DEVNET);
    assert_string_equal(adb_genesis_cluster_name(g.cluster_type), "devnet");
    assert_int_equal(g.trailing_sz, 0);
    assert_int_equal(g.unused, 1024);
    assert_int_equal(g.backwards_compat_with_v0_23, 0);

    /* The genesis hash: FORMAT.md 8 gives its ends, EtWTRABZ...rZBG. */
    char t[ACCTDB_BASE58_32_SZ];
    adb_base58_encode_32(g.hash.b, t);
    assert_memory_equal(t, "EtWTRABZ", 8);
    assert_string_equal(t + strlen(t) - 4, "rZBG");
    assert_string_equal(t, "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG");
    /* ... and it is the SHA-256 of the file, as sha256sum sees it. */
    char out[128], hx[65];
    if (adb_test_sh(out, sizeof out, "sha256sum '%s'", adb_test_data("devnet_genesis.bin")) == 0) {
        adb_test_hex(hx, g.hash.b, 32);
        assert_memory_equal(out, hx, 64);
    }
    g_assert_roundtrip(&g, b, sz);

    uint64_t lamports = 0, data = 0, exe = 0;
    for (uint64_t i = 0; i < g.accounts_cnt; i++) {
        lamports += g.accounts[i].account.lamports;
        data += g.accounts[i].account.data_sz;
        exe += g.accounts[i].account.executable;
    }
    printf("  devnet genesis: %zu bytes, %llu accounts (%llu lamports, %llu data bytes, %llu "
           "executable), %llu native programs, %llu rewards pools, ticks_per_slot %llu, "
           "cluster %s, hash %s\n",
           sz, (unsigned long long)g.accounts_cnt, (unsigned long long)lamports,
           (unsigned long long)data, (unsigned long long)exe,
           (unsigned long long)g.native_instruction_processors_cnt,
           (unsigned long long)g.rewards_pools_cnt, (unsigned long long)g.ticks_per_slot,
           adb_genesis_cluster_name(g.cluster_type), t);

    /* The JSON dump parses and carries the hash and every account. */
    adb_json_t j;
    adb_json_init_buf(&j);
    adb_genesis_json(&j, &g);
    char  *text;
    size_t tsz;
    assert_int_equal(adb_json_take(&j, &text, &tsz), 0);
    adb_json_fini(&j);
    cJSON *p = cJSON_Parse(text);
    assert_non_null(p);
    assert_string_equal(cJSON_GetObjectItem(p, "hash")->valuestring, t);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "accounts")), 423);
    cJSON_Delete(p);
    adb_free(text);
    adb_genesis_fini(&g);
    free(b);
}

static void
g_expect_corrupt(uint8_t const *b, size_t sz, char const *want) {
    adb_genesis_t g;
    adb_err_t     e;
    int           rc = adb_genesis_decode(b, sz, 0, &g, &e);
    if (rc != ACCTDB_ERR_CORRUPT) fail_msg("rc %d (%s), want CORRUPT '%s'", rc, e.msg, want);
    if (!strstr(e.msg, want)) fail_msg("message '%s' lacks '%s'", e.msg, want);
    assert_null(g.accounts);
}

static void
test_genesis_hostile(void **state) {
    (void)state;
    size_t   sz;
    uint8_t *b = read_devnet(&sz);

    /* Truncation: every offset of the first and last 4 KiB, and a scaled
     * number of random ones in between; each is CORRUPT with an offset. */
    uint64_t rng = adb_test_seed() | 1;
    size_t   cnt = adb_test_scaled(2000), tried = 0;
    for (size_t k = 0; k < 8192 + cnt; k++) {
        size_t len;
        if (k < 4096)
            len = k;
        else if (k < 8192)
            len = sz - 1 - (k - 4096);
        else {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            len = (size_t)(rng % sz);
        }
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, b, len);
        adb_genesis_t g;
        adb_err_t     e;
        int           rc = adb_genesis_decode(p, len, 0, &g, &e);
        if (rc != ACCTDB_ERR_CORRUPT) fail_msg("prefix %zu: rc %d", len, rc);
        char const *o = strstr(e.msg, "genesis: offset ");
        if (!o) fail_msg("prefix %zu: %s", len, e.msg);
        assert_true(strtoull(o + 16, NULL, 10) <= len);
        free(p);
        tried++;
    }
    printf("  %zu truncated prefixes: all CORRUPT with an offset\n", tried);

    uint8_t *p = malloc(sz + 8);
    /* accounts count at offset 8. */
    memcpy(p, b, sz);
    adb_store_u64(p + 8, 1ull << 60);
    g_expect_corrupt(p, sz, "genesis: offset 8: accounts: length prefix 1152921504606846976");
    /* cluster_type is the last 4 bytes. */
    memcpy(p, b, sz);
    p[sz - 4] = 4;
    g_expect_corrupt(p, sz, "cluster_type: unknown enum variant 4 (max 3)");
    /* The first account's data length (offset 16 + 32 + 8). */
    memcpy(p, b, sz);
    adb_store_u64(p + 56, sz);
    g_expect_corrupt(p, sz, "offset 56: accounts.account: length prefix");
    /* The first account's executable flag: 8 + 8 + 32 + 8 + 8 + data + 32. */
    uint64_t dl = adb_load_u64(b + 56);
    memcpy(p, b, sz);
    p[64 + dl + 32] = 2;
    g_expect_corrupt(p, sz, "accounts.account: invalid bool byte 0x02");
    /* Trailing bytes kept. */
    memcpy(p, b, sz);
    memcpy(p + sz, "trailer", 7);
    adb_genesis_t g;
    g_decode_ok(p, sz + 7, &g);
    assert_int_equal(g.trailing_sz, 7);
    g_assert_roundtrip(&g, p, sz + 7);
    adb_genesis_fini(&g);

    /* Budget and allocation failures. */
    adb_err_t e;
    assert_int_equal(adb_genesis_decode(b, sz, 4096, &g, &e), ACCTDB_ERR_NOMEM);
    assert_non_null(strstr(e.msg, "budget"));
    uint64_t n;
    for (n = 1;; n++) {
        adb_alloc_fail_after(n);
        int rc = adb_genesis_decode(b, sz, 0, &g, &e);
        adb_alloc_fail_after(0);
        if (rc == 0) break;
        /* libcrypto's own failure would be FATAL; ours is NOMEM. */
        assert_true(rc == ACCTDB_ERR_NOMEM || rc == ACCTDB_ERR_FATAL);
        assert_null(g.mem.head);
        assert_true(n < 10000);
    }
    printf("  decode needed %llu allocations; each failure point frees everything\n",
           (unsigned long long)n);
    adb_genesis_fini(&g);
    free(p);
    free(b);
}

static void
test_genesis_build(void **state) {
    (void)state;
    adb_genesis_t g;
    adb_genesis_init(&g);
    g.creation_time = 1700000000;
    g.cluster_type = ADB_CLUSTER_DEVELOPMENT;
    g.accounts_cnt = 2;
    g.accounts = adb_genesis_alloc(&g, 2 * sizeof *g.accounts);
    assert_non_null(g.accounts);
    g.accounts[0].pubkey.b[0] = 1;
    g.accounts[0].account.lamports = 500000000000000ull;
    g.accounts[1].pubkey.b[0] = 2;
    g.accounts[1].account.data = (uint8_t *)"vote";
    g.accounts[1].account.data_sz = 4;
    g.accounts[1].account.executable = true;
    g.native_instruction_processors_cnt = 1;
    g.native_instruction_processors =
        adb_genesis_alloc(&g, sizeof *g.native_instruction_processors);
    g.native_instruction_processors[0].name = (uint8_t *)"solana_vote_program";
    g.native_instruction_processors[0].name_sz = 19;
    g.ticks_per_slot = 64;
    g.unused = 1024;
    g.poh_config.target_tick_nanos = 6250000;
    g.poh_config.has_hashes_per_tick = true;
    g.poh_config.hashes_per_tick = 12500;
    g.rent = (adb_rent_t){3480, 2.0, 50};
    g.inflation = (adb_inflation_t){0.08, 0.015, 0.15, 0.05, 7.0, 0.0};
    g.epoch_schedule = (adb_epoch_schedule_t){8192, 8192, true, 0, 0};

    uint8_t *o;
    size_t   osz;
    assert_int_equal(adb_genesis_encode_buf(&g, &o, &osz), 0);
    adb_genesis_t d;
    g_decode_ok(o, osz, &d);
    g_assert_roundtrip(&d, o, osz);
    assert_int_equal(d.accounts_cnt, 2);
    assert_int_equal(d.accounts[1].account.data_sz, 4);
    assert_memory_equal(d.native_instruction_processors[0].name, "solana_vote_program", 19);
    assert_true(d.poh_config.has_hashes_per_tick && !d.poh_config.has_target_tick_count);
    assert_int_equal(d.cluster_type, ADB_CLUSTER_DEVELOPMENT);
    uint8_t h[32];
    assert_int_equal(acctdb_sha256(o, osz, h), 0);
    assert_memory_equal(h, d.hash.b, 32);
    adb_genesis_fini(&d);

    /* A program name that is not UTF-8 is refused on decode. */
    g.native_instruction_processors[0].name = (uint8_t *)"bad\xff";
    g.native_instruction_processors[0].name_sz = 4;
    adb_free(o);
    assert_int_equal(adb_genesis_encode_buf(&g, &o, &osz), 0);
    adb_err_t e;
    assert_int_equal(adb_genesis_decode(o, osz, 0, &d, &e), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "native_instruction_processors: string of 4 bytes is not valid "
                                  "UTF-8"));
    adb_free(o);
    g.cluster_type = 9;
    assert_int_equal(adb_genesis_encode_buf(&g, &o, &osz), ACCTDB_ERR_INVALID);
    assert_null(o);
    adb_genesis_fini(&g);
}

static struct CMUnitTest const genesis_tests[] = {
    cmocka_unit_test(test_genesis_devnet),
    cmocka_unit_test(test_genesis_hostile),
    cmocka_unit_test(test_genesis_build),
};

ADB_TEST_GROUP(genesis, genesis_tests);
