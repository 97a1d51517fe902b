/* Tests for the status cache codec and verify_slot_deltas
 * (src/snapshot/status_cache.h) and the sysvar codecs
 * (src/bank/bank_sysvar.h), on the five bundled archives: round trips,
 * validation against each archive's own SlotHistory account, rebuilding
 * that account byte for byte, every TransactionError / InstructionError
 * payload, and hostile input. */
#include "snap_fixture.h"
#include "bank/bank.h"

#include "snapshot/manifest.h"
#include "snapshot/status_cache.h"
#include "bank/bank_sysvar.h"
#include "util/json_out.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static void
sc_decode_ok(uint8_t const *b, size_t sz, adb_status_cache_t *sc) {
    adb_err_t e;
    int       rc = adb_status_cache_decode(b, sz, 0, sc, &e);
    if (rc) fail_msg("status cache decode failed (%d): %s", rc, e.msg);
}

static void
sc_assert_roundtrip(adb_status_cache_t const *sc, uint8_t const *b, size_t sz) {
    uint8_t *o;
    size_t   osz;
    assert_int_equal(adb_status_cache_encode_buf(sc, &o, &osz), 0);
    assert_int_equal(osz, sz);
    assert_memory_equal(o, b, sz);
    adb_free(o);
}

/* The SlotHistory account data of archive i (malloc). */
static uint8_t *
slot_history_data(size_t i, size_t *sz_out) {
    uint8_t *d = snap_fx_account_data(i, ADB_SYSVAR_SLOT_HISTORY_ID, sz_out);
    if (!d) fail_msg("%s: no SlotHistory account", snap_fx_all[i].archive);
    return d;
}

static void
test_status_cache_roundtrip_all(void **state) {
    (void)state;
    for (size_t i = 0; i < SNAP_FX_CNT; i++) {
        size_t             sz;
        uint8_t           *b = snap_fx_status_cache(i, &sz);
        adb_status_cache_t sc;
        sc_decode_ok(b, sz, &sc);
        assert_int_equal(sc.trailing_sz, 0);
        sc_assert_roundtrip(&sc, b, sz);
        /* The JSON dump is valid JSON. */
        adb_json_t j;
        adb_json_init_buf(&j);
        adb_status_cache_json(&j, &sc);
        char  *t;
        size_t tsz;
        assert_int_equal(adb_json_take(&j, &t, &tsz), 0);
        adb_json_fini(&j);
        cJSON *p = cJSON_Parse(t);
        assert_non_null(p);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "slot_deltas")),
                         (int)sc.deltas_cnt);
        cJSON_Delete(p);
        adb_free(t);
        uint64_t entries = 0;
        for (uint64_t d = 0; d < sc.deltas_cnt; d++)
            for (uint64_t k = 0; k < sc.deltas[d].buckets_cnt; k++)
                entries += sc.deltas[d].buckets[k].entries_cnt;
        printf("  %-19s %5zu bytes: %3llu slot deltas, %4llu statuses, round trip identical\n",
               snap_fx_all[i].label, sz, (unsigned long long)sc.deltas_cnt,
               (unsigned long long)entries);
        adb_status_cache_fini(&sc);
        free(b);
    }
}

/* The 4.2 fixture's cache (FORMAT.md 4): 3 deltas, each with Ok and
 * Err(InstructionError(i, Custom(c))). */
static void
test_status_cache_42_content(void **state) {
    (void)state;
    size_t             sz;
    uint8_t           *b = snap_fx_status_cache(0, &sz);
    adb_status_cache_t sc;
    sc_decode_ok(b, sz, &sc);
    assert_int_equal(sc.deltas_cnt, 3);
    static uint64_t const slots[3] = {100, 99, 0};
    for (int i = 0; i < 3; i++) {
        adb_slot_delta_t const *d = &sc.deltas[i];
        assert_int_equal(d->slot, slots[i]);
        assert_true(d->is_root);
        assert_int_equal(d->buckets_cnt, 1);
        assert_int_equal(d->buckets[0].key_index, 2 + i);
        assert_int_equal(d->buckets[0].entries_cnt, 2);
        assert_false(d->buckets[0].entries[0].result.is_err);
        adb_tx_result_t const *r = &d->buckets[0].entries[1].result;
        assert_true(r->is_err);
        assert_int_equal(r->tx_err, ADB_TX_ERR_INSTRUCTION_ERROR);
        assert_int_equal(r->index, 3 + i);
        assert_int_equal(r->ix_err, ADB_IX_ERR_CUSTOM);
        assert_int_equal(r->custom, 9 + i);
    }
    adb_status_cache_fini(&sc);
    free(b);
}

static void
test_slot_history_real(void **state) {
    (void)state;
    for (size_t i = 0; i < SNAP_FX_CNT; i++) {
        size_t             sz;
        uint8_t           *d = slot_history_data(i, &sz);
        adb_slot_history_t sh;
        adb_err_t          e;
        assert_int_equal(sz, ADB_SYSVAR_SLOT_HISTORY_SZ); /* 131,097 bytes */
        assert_int_equal(adb_sysvar_slot_history_decode(d, sz, &sh, &e), 0);
        assert_true(sh.has_bits);
        assert_int_equal(sh.words_cnt, ADB_SLOT_HISTORY_MAX_ENTRIES / 64);
        assert_int_equal(sh.len, ADB_SLOT_HISTORY_MAX_ENTRIES);
        assert_int_equal(adb_slot_history_newest(&sh), snap_fx_all[i].slot);
        assert_int_equal(adb_slot_history_check(&sh, snap_fx_all[i].slot + 1), ADB_SLOT_FUTURE);
        assert_int_equal(adb_slot_history_check(&sh, 0), ADB_SLOT_FOUND); /* genesis */

        /* Rebuild the account from the slots it reports: same bytes. */
        uint64_t found[128], n = 0;
        for (uint64_t s = 0; s <= adb_slot_history_newest(&sh); s++)
            if (adb_slot_history_check(&sh, s) == ADB_SLOT_FOUND) {
                assert_true(n < 128);
                found[n++] = s;
            }
        uint8_t *w = malloc(ADB_SYSVAR_SLOT_HISTORY_SZ);
        assert_int_equal(adb_sysvar_slot_history_write(found, n, sh.next_slot, w), 0);
        assert_memory_equal(w, d, ADB_SYSVAR_SLOT_HISTORY_SZ);
        if (i == 0) { /* the oracle's slot_history_found_slots: [0, 99, 100] */
            assert_int_equal(n, 3);
            assert_int_equal(found[0], 0);
            assert_int_equal(found[1], 99);
            assert_int_equal(found[2], 100);
            assert_int_equal(adb_slot_history_check(&sh, 50), ADB_SLOT_NOT_FOUND);
        }
        printf("  %-19s SlotHistory: next_slot %llu, %llu slots found, rebuilt byte for byte\n",
               snap_fx_all[i].label, (unsigned long long)sh.next_slot, (unsigned long long)n);
        free(w);
        free(d);
    }
}

static void
expect_verify_fail(adb_status_cache_t const *sc, uint64_t slot, adb_slot_history_t const *sh,
                   char const *want) {
    adb_err_t e;
    int       rc = adb_status_cache_verify(sc, slot, sh, &e);
    if (rc != ACCTDB_ERR_CORRUPT) fail_msg("verify rc %d, want CORRUPT '%s'", rc, want);
    if (!strstr(e.msg, want)) fail_msg("verify message '%s' lacks '%s'", e.msg, want);
}

static void
test_slot_history_window(void **state) {
    (void)state;
    uint8_t           *w = malloc(ADB_SYSVAR_SLOT_HISTORY_SZ);
    adb_slot_history_t sh;
    uint64_t const     max = ADB_SLOT_HISTORY_MAX_ENTRIES;
    /* A history past the first wrap: window [next - 2^20, next - 1]. */
    uint64_t next = 3 * max + 17;
    uint64_t slots[] = {5, next - max - 1, next - max, next - 2, next - 1};
    assert_int_equal(adb_sysvar_slot_history_write(slots, 5, next, w), 0);
    assert_int_equal(adb_sysvar_slot_history_decode(w, ADB_SYSVAR_SLOT_HISTORY_SZ, &sh, NULL), 0);
    assert_int_equal(adb_slot_history_oldest(&sh), next - max);
    assert_int_equal(adb_slot_history_check(&sh, 5), ADB_SLOT_TOO_OLD);
    assert_int_equal(adb_slot_history_check(&sh, next - max - 1), ADB_SLOT_TOO_OLD);
    assert_int_equal(adb_slot_history_check(&sh, next - max), ADB_SLOT_FOUND);
    assert_int_equal(adb_slot_history_check(&sh, next - max + 1), ADB_SLOT_NOT_FOUND);
    assert_int_equal(adb_slot_history_check(&sh, next - 2), ADB_SLOT_FOUND);
    assert_int_equal(adb_slot_history_check(&sh, next - 1), ADB_SLOT_FOUND);
    assert_int_equal(adb_slot_history_check(&sh, next), ADB_SLOT_FUTURE);
    assert_int_equal(adb_slot_history_check(&sh, next - 3), ADB_SLOT_NOT_FOUND);

    /* verify_slot_deltas across the wrap: bits of next - 1 .. next - max
     * run from bit 16 down to 0, then from 2^20 - 1 down to 17. */
    adb_status_cache_t sc;
    adb_status_cache_init(&sc);
    sc.deltas_cnt = 3;
    sc.deltas = adb_status_cache_alloc(&sc, 3 * sizeof *sc.deltas);
    sc.deltas[0] = (adb_slot_delta_t){.slot = next - 1, .is_root = true};
    sc.deltas[1] = (adb_slot_delta_t){.slot = next - max, .is_root = true};
    sc.deltas[2] = (adb_slot_delta_t){.slot = next - 2, .is_root = true};
    assert_int_equal(adb_status_cache_verify(&sc, next - 1, &sh, NULL), 0);
    uint64_t more[] = {next - 1, next - 2, next - max, next - 70, 5};
    assert_int_equal(adb_sysvar_slot_history_write(more, 5, next, w), 0);
    expect_verify_fail(&sc, next - 1, &sh, "slot 3145675 is in SlotHistory");
    adb_status_cache_fini(&sc);

    uint64_t bad = next;
    assert_int_equal(adb_sysvar_slot_history_write(&bad, 1, next, w), ACCTDB_ERR_INVALID);
    assert_int_equal(adb_sysvar_slot_history_write(NULL, 0, 0, w), ACCTDB_ERR_INVALID);

    /* Decoder checks: word count must match len; truncation; bad tag. */
    adb_err_t e;
    assert_int_equal(adb_sysvar_slot_history_write(slots + 4, 1, next, w), 0);
    adb_store_u64(w + 9 + max / 8, max + 64);
    assert_int_equal(adb_sysvar_slot_history_decode(w, ADB_SYSVAR_SLOT_HISTORY_SZ, &sh, &e),
                     ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "bits.len: 1048640 bits need 16385 words, the vector has 16384"));
    adb_store_u64(w + 9 + max / 8, max);
    assert_int_equal(adb_sysvar_slot_history_decode(w, ADB_SYSVAR_SLOT_HISTORY_SZ - 1, &sh, &e),
                     ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "slot_history: offset 131089: next_slot truncated"));
    w[0] = 2;
    assert_int_equal(adb_sysvar_slot_history_decode(w, ADB_SYSVAR_SLOT_HISTORY_SZ, &sh, &e),
                     ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "invalid Option tag 2"));
    adb_store_u64(w + 1, 1ull << 60);
    w[0] = 1;
    assert_int_equal(adb_sysvar_slot_history_decode(w, ADB_SYSVAR_SLOT_HISTORY_SZ, &sh, &e),
                     ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "length prefix 1152921504606846976 exceeds"));
    /* None with len 0: an empty window, every past slot is too old. */
    uint8_t empty[17] = {0};
    adb_store_u64(empty + 9, 1);
    assert_int_equal(adb_sysvar_slot_history_decode(empty, sizeof empty, &sh, NULL), 0);
    assert_int_equal(adb_slot_history_check(&sh, 0), ADB_SLOT_TOO_OLD);
    assert_int_equal(adb_slot_history_check(&sh, 1), ADB_SLOT_FUTURE);
    free(w);
}

static void
test_status_cache_verify(void **state) {
    (void)state;
    for (size_t i = 0; i < SNAP_FX_CNT; i++) {
        size_t             sz, hsz, msz;
        uint8_t           *b = snap_fx_status_cache(i, &sz);
        uint8_t           *h = slot_history_data(i, &hsz);
        uint8_t           *mb = snap_fx_manifest(i, &msz);
        adb_status_cache_t sc;
        adb_slot_history_t sh;
        adb_manifest_t     m;
        adb_err_t          e;
        sc_decode_ok(b, sz, &sc);
        assert_int_equal(adb_sysvar_slot_history_decode(h, hsz, &sh, NULL), 0);
        assert_int_equal(adb_manifest_decode(mb, msz, 0, &m, NULL), 0);
        uint64_t slot = m.bank.slot;
        int      rc = adb_status_cache_verify(&sc, slot, &sh, &e);
        if (rc) fail_msg("%s: verify: %s", snap_fx_all[i].label, e.msg);

        /* Perturbations, each restored afterwards. */
        adb_slot_delta_t *d = sc.deltas;
        uint64_t          n = sc.deltas_cnt;
        assert_true(n >= 2);
        uint64_t s0 = d[0].slot, s1 = d[1].slot;
        d[1].slot = s0;
        expect_verify_fail(&sc, slot, &sh, "has more than one entry");
        d[1].slot = s1;
        d[1].is_root = false;
        char want[128];
        snprintf(want, sizeof want, "slot_deltas[1]: slot %llu is not a root",
                 (unsigned long long)s1);
        expect_verify_fail(&sc, slot, &sh, want);
        d[1].is_root = true;
        d[1].slot = slot + 1;
        snprintf(want, sizeof want, "slot %llu is above the bank slot %llu",
                 (unsigned long long)slot + 1, (unsigned long long)slot);
        expect_verify_fail(&sc, slot, &sh, want);
        d[1].slot = s1;
        /* A delta for a slot the history does not have (4.2: found slots
         * are 0, 99, 100; the others recorded every slot). */
        if (i == 0) {
            uint64_t s2 = d[2].slot;
            d[2].slot = 50;
            expect_verify_fail(&sc, slot, &sh, "slot 50 is not found in SlotHistory");
            d[2].slot = s2;
        }
        /* Drop the newest delta: a recent slot of the history is missing. */
        uint64_t newest_idx = 0;
        for (uint64_t k = 0; k < n; k++)
            if (d[k].slot == slot) newest_idx = k;
        adb_slot_delta_t tmp = d[newest_idx];
        d[newest_idx] = d[n - 1];
        d[n - 1] = tmp;
        sc.deltas_cnt = n - 1;
        snprintf(want, sizeof want, "slot %llu is in SlotHistory", (unsigned long long)slot);
        expect_verify_fail(&sc, slot, &sh, want);
        sc.deltas_cnt = n;
        /* A bank newer than its SlotHistory. */
        expect_verify_fail(&sc, slot + 1, &sh, "is not the bank slot");
        assert_int_equal(adb_status_cache_verify(&sc, slot, &sh, NULL), 0);
        printf("  %-19s verify_slot_deltas passes at slot %llu and catches each perturbation\n",
               snap_fx_all[i].label, (unsigned long long)slot);
        adb_manifest_fini(&m);
        adb_status_cache_fini(&sc);
        free(b);
        free(h);
        free(mb);
    }
}

/* A cache written by us: 301 roots (one too many), then 300 that match a
 * SlotHistory we build, with every variant that carries a payload. */
static void
test_status_cache_built(void **state) {
    (void)state;
    adb_status_cache_t sc;
    adb_status_cache_init(&sc);
    uint64_t const bank_slot = 5000, n = 301;
    sc.deltas = adb_status_cache_alloc(&sc, n * sizeof *sc.deltas);
    sc.deltas_cnt = n;
    uint64_t *slots = malloc(n * sizeof *slots);
    for (uint64_t i = 0; i < n; i++) {
        adb_slot_delta_t *d = &sc.deltas[i];
        d->slot = bank_slot - 2 * i; /* every other slot */
        slots[i] = d->slot;
        d->is_root = true;
    }
    /* Slot 0's delta carries one status per TransactionError variant and
     * per InstructionError variant. */
    adb_slot_delta_t *d0 = &sc.deltas[0];
    d0->buckets_cnt = 2;
    d0->buckets = adb_status_cache_alloc(&sc, 2 * sizeof *d0->buckets);
    adb_status_bucket_t *bt = &d0->buckets[0], *bi = &d0->buckets[1];
    bt->entries_cnt = 1 + ADB_TX_ERR_MAX + 1;
    bt->entries = adb_status_cache_alloc(&sc, bt->entries_cnt * sizeof *bt->entries);
    bt->key_index = 12;
    for (uint32_t v = 0; v <= ADB_TX_ERR_MAX; v++) {
        adb_tx_result_t *r = &bt->entries[1 + v].result;
        memset(bt->entries[1 + v].key_slice, (int)v, 20);
        r->is_err = true;
        r->tx_err = v;
        r->index = (uint8_t)(200 + v);
        r->ix_err = 2;
    }
    bi->entries_cnt = ADB_IX_ERR_MAX + 1;
    bi->entries = adb_status_cache_alloc(&sc, bi->entries_cnt * sizeof *bi->entries);
    for (uint32_t v = 0; v <= ADB_IX_ERR_MAX; v++) {
        adb_tx_result_t *r = &bi->entries[v].result;
        r->is_err = true;
        r->tx_err = ADB_TX_ERR_INSTRUCTION_ERROR;
        r->index = 7;
        r->ix_err = v;
        r->custom = 0xdeadbeef;
        if (v == ADB_IX_ERR_BORSH_IO_ERROR) {
            r->borsh = (uint8_t *)"unexpected end of input \xc3\xa9";
            r->borsh_sz = 26;
        }
    }
    uint8_t *o;
    size_t   osz;
    assert_int_equal(adb_status_cache_encode_buf(&sc, &o, &osz), 0);
    adb_status_cache_t d;
    sc_decode_ok(o, osz, &d);
    sc_assert_roundtrip(&d, o, osz);
    adb_status_bucket_t const *dt = &d.deltas[0].buckets[0], *di = &d.deltas[0].buckets[1];
    assert_false(dt->entries[0].result.is_err);
    for (uint32_t v = 0; v <= ADB_TX_ERR_MAX; v++) {
        adb_tx_result_t const *r = &dt->entries[1 + v].result;
        assert_int_equal(r->tx_err, v);
        bool has_u8 = v == 8 || v == 30 || v == 31 || v == 35; /* FORMAT.md 4 */
        assert_int_equal(r->index, has_u8 ? 200 + v : 0);
        assert_int_equal(r->ix_err, v == 8 ? 2 : 0);
    }
    for (uint32_t v = 0; v <= ADB_IX_ERR_MAX; v++) {
        adb_tx_result_t const *r = &di->entries[v].result;
        assert_int_equal(r->ix_err, v);
        assert_int_equal(r->custom, v == ADB_IX_ERR_CUSTOM ? 0xdeadbeef : 0);
        assert_int_equal(r->borsh_sz, v == ADB_IX_ERR_BORSH_IO_ERROR ? 26 : 0);
    }
    assert_memory_equal(di->entries[ADB_IX_ERR_BORSH_IO_ERROR].result.borsh,
                        "unexpected end of input \xc3\xa9", 26);
    assert_string_equal(adb_tx_err_name(38), "CommitCancelled");
    assert_string_equal(adb_ix_err_name(53), "BuiltinProgramsMustConsumeComputeUnits");
    assert_string_equal(adb_ix_err_name(54), "?");

    /* Verify against a SlotHistory built for the same slots. */
    uint8_t           *h = malloc(ADB_SYSVAR_SLOT_HISTORY_SZ);
    adb_slot_history_t sh;
    assert_int_equal(adb_sysvar_slot_history_write(slots, n, bank_slot + 1, h), 0);
    assert_int_equal(adb_sysvar_slot_history_decode(h, ADB_SYSVAR_SLOT_HISTORY_SZ, &sh, NULL), 0);
    expect_verify_fail(&d, bank_slot, &sh, "301 slot deltas, more than the 300 allowed");
    d.deltas_cnt = 300; /* the oldest (slot 4400) goes: the 300 newest remain */
    assert_int_equal(adb_status_cache_verify(&d, bank_slot, &sh, NULL), 0);
    /* History has one more recent root than the cache: caught. */
    slots[n - 1] = bank_slot - 1;
    assert_int_equal(adb_sysvar_slot_history_write(slots, n, bank_slot + 1, h), 0);
    expect_verify_fail(&d, bank_slot, &sh, "slot 4999 is in SlotHistory");

    /* The encoder refuses variants it could not write faithfully. */
    sc.deltas[0].buckets[0].entries[5].result.tx_err = ADB_TX_ERR_MAX + 1;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    assert_int_equal(adb_status_cache_encode(&sc, &wr), ACCTDB_ERR_INVALID);
    assert_int_equal(wr.sz, 0);
    adb_bc_wr_fini(&wr);

    free(h);
    free(slots);
    adb_free(o);
    adb_status_cache_fini(&d);
    adb_status_cache_fini(&sc);
}

static void
sc_expect_corrupt(uint8_t const *b, size_t sz, char const *want) {
    adb_status_cache_t sc;
    adb_err_t          e;
    int                rc = adb_status_cache_decode(b, sz, 0, &sc, &e);
    if (rc != ACCTDB_ERR_CORRUPT) fail_msg("rc %d (%s), want CORRUPT '%s'", rc, e.msg, want);
    if (!strstr(e.msg, want)) fail_msg("message '%s' lacks '%s'", e.msg, want);
    assert_null(sc.deltas);
}

static void
test_status_cache_hostile(void **state) {
    (void)state;
    size_t   sz;
    uint8_t *b = snap_fx_status_cache(0, &sz);
    assert_int_equal(sz, 386);
    /* Every strict prefix is CORRUPT and names an offset within it. */
    for (size_t len = 0; len < sz; len++) {
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, b, len);
        adb_status_cache_t sc;
        adb_err_t          e;
        assert_int_equal(adb_status_cache_decode(p, len, 0, &sc, &e), ACCTDB_ERR_CORRUPT);
        char const *o = strstr(e.msg, "status_cache: offset ");
        assert_non_null(o);
        assert_true(strtoull(o + 21, NULL, 10) <= len);
        free(p);
    }
    uint8_t *p = malloc(sz + 4);
    /* Layout of the first delta (FORMAT.md 4): count 0..8, slot 8..16,
     * is_root 16, status map count 17..25, blockhash 25..57, key_index
     * 57..65, entries count 65..73, key slice 73..93, Result tag 93..97; the
     * second entry: key slice 97..117, Err 117..121, tx error 121..125,
     * instruction index 125, instruction error 126..130, custom 130..134. */
    memcpy(p, b, sz);
    adb_store_u64(p, 1ull << 60);
    sc_expect_corrupt(p, sz,
                      "status_cache: offset 0: slot_deltas: length prefix 1152921504606846976 "
                      "exceeds the 378 bytes that remain");
    memcpy(p, b, sz);
    adb_store_u64(p + 65, 1ull << 60);
    sc_expect_corrupt(p, sz, "offset 65: status.entries: length prefix");
    memcpy(p, b, sz);
    p[16] = 2;
    sc_expect_corrupt(p, sz, "offset 16: slot_deltas.is_root: invalid bool byte 0x02");
    memcpy(p, b, sz);
    p[93] = 2;
    sc_expect_corrupt(p, sz, "offset 93: status.entries.result: unknown enum variant 2 (max 1)");
    memcpy(p, b, sz);
    p[121] = 39;
    sc_expect_corrupt(p, sz, "transaction_error: unknown enum variant 39 (max 38)");
    memcpy(p, b, sz);
    p[126] = 54;
    sc_expect_corrupt(p, sz, "instruction_error: unknown enum variant 54 (max 53)");
    /* BorshIoError with a string that is not UTF-8. */
    memcpy(p, b, sz);
    p[126] = ADB_IX_ERR_BORSH_IO_ERROR;
    adb_store_u64(p + 130, 2); /* length 2 overwrites custom + following bytes */
    p[138] = 0xc3;
    p[139] = 0x28;
    sc_expect_corrupt(p, sz, "borsh_io_error: string of 2 bytes is not valid UTF-8");

    /* Trailing bytes are kept and re-emitted. */
    memcpy(p, b, sz);
    memcpy(p + sz, "\1\2\3\4", 4);
    adb_status_cache_t sc;
    sc_decode_ok(p, sz + 4, &sc);
    assert_int_equal(sc.trailing_sz, 4);
    sc_assert_roundtrip(&sc, p, sz + 4);
    adb_status_cache_fini(&sc);

    /* Budget and allocation failures. */
    adb_err_t e;
    assert_int_equal(adb_status_cache_decode(b, sz, 64, &sc, &e), ACCTDB_ERR_NOMEM);
    assert_non_null(strstr(e.msg, "budget"));
    uint64_t n;
    for (n = 1;; n++) {
        adb_alloc_fail_after(n);
        int rc = adb_status_cache_decode(b, sz, 0, &sc, &e);
        adb_alloc_fail_after(0);
        if (rc == 0) break;
        assert_int_equal(rc, ACCTDB_ERR_NOMEM);
        assert_null(sc.mem.head);
    }
    for (uint64_t k = 1;; k++) {
        uint8_t *o;
        size_t   osz;
        adb_alloc_fail_after(k);
        int rc = adb_status_cache_encode_buf(&sc, &o, &osz);
        adb_alloc_fail_after(0);
        if (rc == 0) {
            adb_free(o);
            break;
        }
        assert_int_equal(rc, ACCTDB_ERR_NOMEM);
    }
    adb_status_cache_fini(&sc);
    free(p);
    free(b);
}

static void
test_sysvar_small(void **state) {
    (void)state;
    /* Clock, Rent, EpochSchedule of the v1 full archive: decode, encode to
     * the same bytes, agree with the manifest. */
    size_t         csz, rsz, esz, msz;
    uint8_t       *cd = snap_fx_account_data(1, ADB_SYSVAR_CLOCK_ID, &csz);
    uint8_t       *rd = snap_fx_account_data(1, ADB_SYSVAR_RENT_ID, &rsz);
    uint8_t       *ed = snap_fx_account_data(1, ADB_SYSVAR_EPOCH_SCHEDULE_ID, &esz);
    uint8_t       *mb = snap_fx_manifest(1, &msz);
    adb_manifest_t m;
    assert_non_null(cd);
    assert_non_null(rd);
    assert_non_null(ed);
    assert_int_equal(adb_manifest_decode(mb, msz, 0, &m, NULL), 0);

    adb_clock_t c;
    uint8_t     out[64];
    assert_int_equal(csz, ADB_SYSVAR_CLOCK_SZ);
    assert_int_equal(adb_sysvar_clock_decode(cd, csz, &c, NULL), 0);
    assert_int_equal(c.slot, m.bank.slot);
    assert_int_equal(c.epoch, adb_epoch_of(&m.bank.epoch_schedule, m.bank.slot));
    adb_sysvar_clock_encode(&c, out);
    assert_memory_equal(out, cd, csz);

    adb_rent_t r;
    assert_int_equal(rsz, ADB_BANK_RENT_SZ);
    assert_int_equal(adb_sysvar_rent_decode(rd, rsz, &r, NULL), 0);
    assert_true(r.exemption_threshold == 2.0);
    adb_sysvar_rent_encode(&r, out);
    assert_memory_equal(out, rd, rsz);

    adb_epoch_schedule_t es;
    assert_int_equal(esz, ADB_BANK_EPOCH_SCHEDULE_SZ);
    assert_int_equal(adb_sysvar_epoch_schedule_decode(ed, esz, &es, NULL), 0);
    assert_int_equal(es.slots_per_epoch, m.bank.epoch_schedule.slots_per_epoch);
    assert_int_equal(es.leader_schedule_slot_offset,
                     m.bank.epoch_schedule.leader_schedule_slot_offset);
    assert_int_equal(es.warmup, m.bank.epoch_schedule.warmup);
    assert_int_equal(es.first_normal_epoch, m.bank.epoch_schedule.first_normal_epoch);
    assert_int_equal(es.first_normal_slot, m.bank.epoch_schedule.first_normal_slot);
    adb_sysvar_epoch_schedule_encode(&es, out);
    assert_memory_equal(out, ed, esz);

    adb_err_t e;
    assert_int_equal(adb_sysvar_clock_decode(cd, 39, &c, &e), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "clock: offset 32: unix_timestamp truncated"));
    ed[16] = 9;
    assert_int_equal(adb_sysvar_epoch_schedule_decode(ed, esz, &es, &e), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "invalid bool byte 0x09"));

    /* The warmup schedule of the 4.2 fixture: slot 100 is in epoch 2. */
    adb_epoch_schedule_t w = {432000, 432000, true, 14, 524256};
    assert_int_equal(adb_epoch_of(&w, 0), 0);
    assert_int_equal(adb_epoch_of(&w, 31), 0);
    assert_int_equal(adb_epoch_of(&w, 32), 1);
    assert_int_equal(adb_epoch_of(&w, 95), 1);
    assert_int_equal(adb_epoch_of(&w, 96), 2);
    assert_int_equal(adb_epoch_of(&w, 100), 2);
    assert_int_equal(adb_epoch_of(&w, 524255), 13);
    assert_int_equal(adb_epoch_of(&w, 524256), 14);
    assert_int_equal(adb_epoch_of(&w, 524256 + 432000), 15);

    adb_manifest_fini(&m);
    free(cd);
    free(rd);
    free(ed);
    free(mb);
}

static struct CMUnitTest const status_cache_tests[] = {
    cmocka_unit_test(test_status_cache_roundtrip_all),
    cmocka_unit_test(test_status_cache_42_content),
    cmocka_unit_test(test_slot_history_real),
    cmocka_unit_test(test_slot_history_window),
    cmocka_unit_test(test_status_cache_verify),
    cmocka_unit_test(test_status_cache_built),
    cmocka_unit_test(test_status_cache_hostile),
    cmocka_unit_test(test_sysvar_small),
};

ADB_TEST_GROUP(status_cache, status_cache_tests);
