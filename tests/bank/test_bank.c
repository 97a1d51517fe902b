/* Tests for the bank module's arithmetic and codecs (src/bank): the epoch
 * of a slot with and without warmup, slots_per_year bit for bit, stake
 * activation against a vector computed from Agave's algorithm outside this
 * code, the derived fee, the sysvar codecs, the bank-state blob, and vote
 * and stake decoding on the vote and stake accounts of a real Agave
 * snapshot (the 3.x pair), cross-checked against its manifest. */
#include "../snapshot/snap_fixture.h"

#include "bank/bank.h"
#include "snapshot/manifest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- epochs ---------------------------------------------------------------- */

static void
t_epoch_warmup(void **state) {
    (void)state;
    /* 8192 slots per epoch with warmup: epochs 0..7 hold 32, 64, ..., 4096
     * slots; the first normal epoch is 8 from slot 8160. */
    adb_epoch_schedule_t es = adb_epoch_schedule_custom(8192, 8192, true);
    assert_int_equal(es.first_normal_epoch, 8);
    assert_int_equal(es.first_normal_slot, 8160);
    uint64_t first = 0;
    for (uint64_t e = 0; e < 8; e++) {
        assert_int_equal(adb_epoch_slot_cnt(&es, e), 32ull << e);
        assert_int_equal(adb_epoch_first_slot(&es, e), first);
        uint64_t idx = 99;
        assert_int_equal(adb_epoch_of_idx(&es, first, &idx), e);
        assert_int_equal(idx, 0);
        assert_int_equal(adb_epoch_of_idx(&es, first + (32ull << e) - 1, &idx), e);
        assert_int_equal(idx, (32ull << e) - 1);
        /* During warmup a bank knows the next epoch's leader schedule. */
        assert_int_equal(adb_epoch_leader_schedule(&es, first), e + 1);
        first += 32ull << e;
    }
    assert_int_equal(first, 8160);
    assert_int_equal(adb_epoch_of(&es, 8160), 8);
    assert_int_equal(adb_epoch_of(&es, 8160 + 8191), 8);
    assert_int_equal(adb_epoch_of(&es, 8160 + 8192), 9);
    assert_int_equal(adb_epoch_first_slot(&es, 10), 8160 + 2 * 8192);
    assert_int_equal(adb_epoch_slot_cnt(&es, 10), 8192);
    /* After warmup: the epoch of slot + offset, counted from the first
     * normal slot. */
    assert_int_equal(adb_epoch_leader_schedule(&es, 8160), 9);
    assert_int_equal(adb_epoch_leader_schedule(&es, 8160 + 8191), 9);
    assert_int_equal(adb_epoch_leader_schedule(&es, 8160 + 8192), 10);
    /* Saturation at the top. */
    assert_int_equal(adb_epoch_first_slot(&es, UINT64_MAX), UINT64_MAX);

    /* A short non-warmup schedule (64 slots). */
    adb_epoch_schedule_t s64 = adb_epoch_schedule_custom(64, 64, false);
    assert_int_equal(s64.first_normal_epoch, 0);
    assert_int_equal(s64.first_normal_slot, 0);
    assert_int_equal(adb_epoch_of(&s64, 63), 0);
    assert_int_equal(adb_epoch_of(&s64, 64), 1);
    assert_int_equal(adb_epoch_of(&s64, 200), 3);
    assert_int_equal(adb_epoch_leader_schedule(&s64, 0), 1);
    assert_int_equal(adb_epoch_first_slot(&s64, 3), 192);

    /* Mainnet: 432,000 slots, no warmup. */
    adb_epoch_schedule_t mn = adb_epoch_schedule_custom(432000, 432000, false);
    assert_int_equal(adb_epoch_of(&mn, 300000000), 694);
    assert_int_equal(adb_epoch_leader_schedule(&mn, 300000000), 695);

    /* A schedule shorter than the minimum is refused (slots_per_epoch 0),
     * and every function still answers without dividing by zero. */
    adb_epoch_schedule_t bad = adb_epoch_schedule_custom(31, 31, false);
    assert_int_equal(bad.slots_per_epoch, 0);
    (void)adb_epoch_of(&bad, 12345);
    (void)adb_epoch_slot_cnt(&bad, 3);
    (void)adb_epoch_leader_schedule(&bad, 12345);
}

static void
t_eah_stop(void **state) {
    (void)state;
    adb_epoch_schedule_t es = adb_epoch_schedule_custom(432000, 432000, false);
    /* Stop slot: first slot + 3/4 of the epoch. */
    assert_int_equal(adb_epoch_eah_stop(&es, 432000 * 5 + 7), 432000 * 5 + 324000);
    /* A 32-slot epoch has no room for the calculation. */
    adb_epoch_schedule_t w = adb_epoch_schedule_custom(8192, 8192, true);
    assert_int_equal(adb_epoch_eah_stop(&w, 3), UINT64_MAX);
}

/* ---- slots_per_year ---------------------------------------------------------- */

static void
t_years_as_slots(void **state) {
    (void)state;
    /* 6.25 ms ticks, 64 ticks per slot: Agave's value, bit for bit
     * (78892314.983999997 as the nearest double of the product). */
    double   y = adb_years_as_slots(6250000, 64);
    double   want = 78892314.984;
    uint64_t a, b;
    memcpy(&a, &y, 8);
    memcpy(&b, &want, 8);
    if (a != b)
        fail_msg("years_as_slots %.17g (0x%016llx), want %.17g (0x%016llx)", y,
                 (unsigned long long)a, want, (unsigned long long)b);
    /* The order of operations matters: a different order (slots per
     * second first) gives another double for the same inputs. */
    double sps = 1000000000.0 / 6250000.0 / 64.0;
    double other = 365.242199 * 24.0 * 60.0 * 60.0 * sps;
    assert_true(fabs(other - y) < 1e-6);
}

/* ---- stake activation -------------------------------------------------------- */

/* The vector of FACTS (from a direct transcription of Agave's float
 * algorithm): a bootstrap stake of 1,000,000 and a stake of 3,000,000
 * activated at epoch 0, rate 0.25. */
static void
t_stake_activation_vector(void **state) {
    (void)state;
    static uint64_t const want_eff[8] = {0,       250000,  562500,  953125,
                                         1441406, 2051757, 2814696, 3000000};
    adb_delegation_t      boot = {
             .stake = 1000000, .activation_epoch = UINT64_MAX, .deactivation_epoch = UINT64_MAX};
    adb_delegation_t d = {
        .stake = 3000000, .activation_epoch = 0, .deactivation_epoch = UINT64_MAX};
    adb_stake_history_entry_t hist[ADB_STAKE_HISTORY_MAX];
    uint64_t                  hist_cnt = 0;
    for (uint64_t e = 0; e < 8; e++) {
        adb_stake_status_t s = adb_stake_status(&d, e, hist, hist_cnt, UINT64_MAX);
        adb_stake_status_t b = adb_stake_status(&boot, e, hist, hist_cnt, UINT64_MAX);
        if (s.effective != want_eff[e])
            fail_msg("epoch %llu: effective %llu, want %llu", (unsigned long long)e,
                     (unsigned long long)s.effective, (unsigned long long)want_eff[e]);
        assert_int_equal(s.activating, 3000000 - want_eff[e]);
        assert_int_equal(s.deactivating, 0);
        assert_int_equal(b.effective, 1000000);
        /* The boundary e -> e+1: the history gains epoch e's totals. */
        adb_stake_history_entry_t ent = {.epoch = e,
                                         .effective = s.effective + b.effective,
                                         .activating = s.activating + b.activating,
                                         .deactivating = 0};
        adb_stake_history_add(hist, &hist_cnt, &ent);
    }
    /* Newest first. */
    assert_int_equal(hist_cnt, 8);
    for (uint64_t i = 0; i < hist_cnt; i++)
        assert_int_equal(hist[i].epoch, 7 - i);
    assert_int_equal(hist[0].effective, 4000000);

    /* Cooling down from epoch 8: the deactivation epoch shows the whole
     * effective stake deactivating; then a quarter of the cluster's
     * effective stake leaves per epoch, weighted. */
    d.deactivation_epoch = 8;
    adb_stake_history_entry_t e7 = {.epoch = 8, .effective = 4000000, .deactivating = 3000000};
    adb_stake_history_add(hist, &hist_cnt, &e7);
    adb_stake_status_t s8 = adb_stake_status(&d, 8, hist, hist_cnt, UINT64_MAX);
    assert_int_equal(s8.effective, 3000000);
    assert_int_equal(s8.deactivating, 3000000);
    adb_stake_status_t s9 = adb_stake_status(&d, 9, hist, hist_cnt, UINT64_MAX);
    /* 3e6 / 3e6 * (4e6 * 0.25) = 1e6 leaves. */
    assert_int_equal(s9.effective, 2000000);
    assert_int_equal(s9.deactivating, 2000000);
    /* The new rate (0.09) from epoch 9 on: 3e6/3e6 * 4e6 * 0.09 = 360000. */
    adb_stake_status_t n9 = adb_stake_status(&d, 9, hist, hist_cnt, 9);
    assert_int_equal(n9.effective, 3000000 - 360000);

    /* Special cases: activated and deactivated in one epoch; before
     * activation; no history entry for the activation epoch. */
    adb_delegation_t   same = {.stake = 5, .activation_epoch = 3, .deactivation_epoch = 3};
    adb_stake_status_t z = adb_stake_status(&same, 10, hist, hist_cnt, UINT64_MAX);
    assert_int_equal(z.effective + z.activating + z.deactivating, 0);
    adb_delegation_t later = {.stake = 5, .activation_epoch = 20, .deactivation_epoch = UINT64_MAX};
    z = adb_stake_status(&later, 10, hist, hist_cnt, UINT64_MAX);
    assert_int_equal(z.effective + z.activating, 0);
    z = adb_stake_status(&later, 21, hist, hist_cnt, UINT64_MAX);
    assert_int_equal(z.effective, 5); /* epoch 20 fell out of the history */
    /* At least one lamport of progress per epoch, even with no effective
     * cluster stake. */
    adb_stake_history_entry_t h0[1] = {{.epoch = 0, .effective = 0, .activating = 100}};
    adb_delegation_t tiny = {.stake = 100, .activation_epoch = 0, .deactivation_epoch = UINT64_MAX};
    z = adb_stake_status(&tiny, 1, h0, 1, UINT64_MAX);
    assert_int_equal(z.effective, 1);
}

static void
t_stake_history_add(void **state) {
    (void)state;
    adb_stake_history_entry_t *h = calloc(ADB_STAKE_HISTORY_MAX, sizeof *h);
    assert_non_null(h);
    uint64_t n = 0;
    for (uint64_t e = 0; e < 600; e++) {
        adb_stake_history_entry_t x = {.epoch = e, .effective = e * 10};
        adb_stake_history_add(h, &n, &x);
    }
    assert_int_equal(n, ADB_STAKE_HISTORY_MAX);
    assert_int_equal(h[0].epoch, 599);
    assert_int_equal(h[511].epoch, 88);
    /* Replacing an epoch keeps the count and order. */
    adb_stake_history_entry_t r = {.epoch = 500, .effective = 1};
    adb_stake_history_add(h, &n, &r);
    assert_int_equal(n, ADB_STAKE_HISTORY_MAX);
    assert_int_equal(h[99].epoch, 500);
    assert_int_equal(h[99].effective, 1);
    /* Codec round trip through the sysvar (16,392 bytes). */
    uint8_t          *data = calloc(1, ADB_SYSVAR_STAKE_HISTORY_SZ);
    adb_stake_hist_t *back = calloc(1, sizeof *back);
    adb_sysvar_stake_history_encode(h, n, data);
    adb_err_t err;
    assert_int_equal(adb_sysvar_stake_history_decode(data, ADB_SYSVAR_STAKE_HISTORY_SZ, back, &err),
                     0);
    assert_int_equal(back->cnt, n);
    assert_memory_equal(back->e, h, n * sizeof *h);
    /* A count over 512 or data shorter than it says are corrupt. */
    data[0] = 0x01;
    data[1] = 0x02; /* 513 */
    assert_int_equal(adb_sysvar_stake_history_decode(data, ADB_SYSVAR_STAKE_HISTORY_SZ, back, &err),
                     ACCTDB_ERR_CORRUPT);
    adb_sysvar_stake_history_encode(h, 3, data);
    assert_int_equal(adb_sysvar_stake_history_decode(data, 8 + 3 * 32 - 1, back, &err),
                     ACCTDB_ERR_CORRUPT);
    free(data);
    free(back);
    free(h);
}

/* ---- fees -------------------------------------------------------------------- */

static void
t_fee_derived(void **state) {
    (void)state;
    /* Mainnet's governor: target 10,000 lamports at 20,000 signatures. */
    adb_fee_rate_governor_t g = {.target_lamports_per_signature = 10000,
                                 .target_signatures_per_slot = 20000,
                                 .min_lamports_per_signature = 5000,
                                 .max_lamports_per_signature = 100000,
                                 .burn_percent = 50};
    /* From the genesis bank (0): idle slots settle at half the target. */
    assert_int_equal(adb_fee_lps_derived(&g, 0, 0), 5000);
    assert_int_equal(adb_fee_lps_derived(&g, 5000, 0), 5000);
    assert_int_equal(adb_fee_lps_derived(&g, 5000, 20000), 5500);       /* +target/20 */
    assert_int_equal(adb_fee_lps_derived(&g, 5500, 0), 5000);           /* back down */
    assert_int_equal(adb_fee_lps_derived(&g, 10000, 20000), 10000);     /* at target */
    assert_int_equal(adb_fee_lps_derived(&g, 99800, 1u << 30), 100000); /* capped */
    /* No signature target: the target itself. */
    g.target_signatures_per_slot = 0;
    assert_int_equal(adb_fee_lps_derived(&g, 5000, 123), 10000);
}

/* ---- sysvars ----------------------------------------------------------------- */

static void
t_sysvar_codecs(void **state) {
    (void)state;
    adb_err_t   err;
    adb_clock_t c = {.slot = 7,
                     .epoch_start_timestamp = -5,
                     .epoch = 2,
                     .leader_schedule_epoch = 3,
                     .unix_timestamp = 1700000000};
    uint8_t     cb[ADB_SYSVAR_CLOCK_SZ];
    adb_sysvar_clock_encode(&c, cb);
    adb_clock_t c2;
    assert_int_equal(adb_sysvar_clock_decode(cb, sizeof cb, &c2, &err), 0);
    assert_memory_equal(&c, &c2, sizeof c);
    assert_int_equal(adb_sysvar_clock_decode(cb, sizeof cb - 1, &c2, &err), ACCTDB_ERR_CORRUPT);

    adb_rent_t r = {.lamports_per_byte_year = 3480, .exemption_threshold = 2.0, .burn_percent = 50};
    uint8_t    rb[ADB_BANK_RENT_SZ];
    adb_sysvar_rent_encode(&r, rb);
    adb_rent_t r2;
    assert_int_equal(adb_sysvar_rent_decode(rb, sizeof rb, &r2, &err), 0);
    assert_int_equal(r2.lamports_per_byte_year, 3480);
    assert_true(r2.exemption_threshold == 2.0);
    /* Rent::minimum_balance: an empty account 890,880; a vote account
     * (3,762 bytes) 27,074,400. */
    assert_int_equal(adb_rent_minimum_balance(&r, 0), 890880);
    assert_int_equal(adb_rent_minimum_balance(&r, 3762), 27074400);

    adb_epoch_schedule_t es = adb_epoch_schedule_custom(8192, 8192, true), es2;
    uint8_t              eb[ADB_BANK_EPOCH_SCHEDULE_SZ];
    adb_sysvar_epoch_schedule_encode(&es, eb);
    assert_int_equal(adb_sysvar_epoch_schedule_decode(eb, sizeof eb, &es2, &err), 0);
    assert_int_equal(es2.slots_per_epoch, es.slots_per_epoch);
    assert_int_equal(es2.leader_schedule_slot_offset, es.leader_schedule_slot_offset);
    assert_int_equal(es2.warmup, es.warmup);
    assert_int_equal(es2.first_normal_epoch, es.first_normal_epoch);
    assert_int_equal(es2.first_normal_slot, es.first_normal_slot);
    eb[16] = 2; /* the warmup bool */
    assert_int_equal(adb_sysvar_epoch_schedule_decode(eb, sizeof eb, &es2, &err),
                     ACCTDB_ERR_CORRUPT);

    /* SlotHashes: newest first, 512 kept, an equal slot replaced. */
    adb_slot_hashes_t *sh = calloc(1, sizeof *sh), *sh2 = calloc(1, sizeof *sh2);
    for (uint64_t s = 1; s <= 600; s++) {
        acctdb_hash_t h;
        memset(h.b, (int)(s & 0xff), 32);
        adb_slot_hashes_add(sh, s, &h);
    }
    assert_int_equal(sh->cnt, 512);
    assert_int_equal(sh->e[0].slot, 600);
    assert_int_equal(sh->e[511].slot, 89);
    acctdb_hash_t z = {{0}};
    adb_slot_hashes_add(sh, 300, &z);
    assert_int_equal(sh->cnt, 512);
    assert_int_equal(sh->e[300].slot, 300);
    assert_memory_equal(sh->e[300].hash.b, z.b, 32);
    uint8_t *shb = calloc(1, ADB_SYSVAR_SLOT_HASHES_SZ);
    adb_sysvar_slot_hashes_encode(sh, shb);
    assert_int_equal(adb_sysvar_slot_hashes_decode(shb, ADB_SYSVAR_SLOT_HASHES_SZ, sh2, &err), 0);
    assert_int_equal(sh2->cnt, 512);
    assert_memory_equal(sh2->e, sh->e, 512 * sizeof sh->e[0]);
    free(shb);
    free(sh);
    free(sh2);

    /* SlotHistory: skipped slots clear, the window is 2^20 slots. */
    uint8_t *hb = calloc(1, ADB_SYSVAR_SLOT_HISTORY_SZ);
    adb_sysvar_slot_history_default(hb);
    assert_int_equal(adb_sysvar_slot_history_add(hb, 5), 0);
    assert_int_equal(adb_sysvar_slot_history_add(hb, 9), 0);
    assert_int_equal(adb_sysvar_slot_history_add(hb, 9), ACCTDB_ERR_INVALID);
    adb_slot_history_t h;
    assert_int_equal(adb_sysvar_slot_history_decode(hb, ADB_SYSVAR_SLOT_HISTORY_SZ, &h, &err), 0);
    assert_int_equal(h.next_slot, 10);
    assert_int_equal(adb_slot_history_check(&h, 0), ADB_SLOT_FOUND);
    assert_int_equal(adb_slot_history_check(&h, 5), ADB_SLOT_FOUND);
    assert_int_equal(adb_slot_history_check(&h, 6), ADB_SLOT_NOT_FOUND);
    assert_int_equal(adb_slot_history_check(&h, 9), ADB_SLOT_FOUND);
    assert_int_equal(adb_slot_history_check(&h, 10), ADB_SLOT_FUTURE);
    /* The same history written at once is byte-identical. */
    uint8_t       *hb2 = calloc(1, ADB_SYSVAR_SLOT_HISTORY_SZ);
    uint64_t const slots[] = {0, 5, 9};
    assert_int_equal(adb_sysvar_slot_history_write(slots, 3, 10, hb2), 0);
    assert_memory_equal(hb, hb2, ADB_SYSVAR_SLOT_HISTORY_SZ);
    /* Jumping past the window: everything older is too old. */
    assert_int_equal(adb_sysvar_slot_history_add(hb, 9 + (1u << 20) + 3), 0);
    assert_int_equal(adb_sysvar_slot_history_decode(hb, ADB_SYSVAR_SLOT_HISTORY_SZ, &h, &err), 0);
    assert_int_equal(adb_slot_history_check(&h, 9), ADB_SLOT_TOO_OLD);
    assert_int_equal(adb_slot_history_check(&h, 9 + (1u << 20)), ADB_SLOT_NOT_FOUND);
    free(hb);
    free(hb2);

    /* RecentBlockhashes from a queue: by hash_index descending, at most
     * 150. */
    adb_hash_age_t ages[200];
    for (uint64_t i = 0; i < 200; i++) {
        memset(&ages[i], 0, sizeof ages[i]);
        ages[i].hash.b[0] = (uint8_t)i;
        ages[i].hash.b[1] = (uint8_t)(i >> 8);
        ages[i].hash_index = (i * 7919) % 200; /* a permutation */
        ages[i].lamports_per_signature = 5000 + ages[i].hash_index;
    }
    adb_blockhash_queue_t q = {
        .last_hash_index = 199, .ages = ages, .ages_cnt = 200, .max_age = 300};
    adb_recent_bhs_t *rb1 = calloc(1, sizeof *rb1), *rb2 = calloc(1, sizeof *rb2);
    adb_recent_bh_from_queue(&q, rb1);
    assert_int_equal(rb1->cnt, 150);
    for (uint32_t i = 0; i < rb1->cnt; i++)
        assert_int_equal(rb1->e[i].lamports_per_signature, 5000 + 199 - i);
    uint8_t *rbb = calloc(1, ADB_SYSVAR_RECENT_BH_SZ);
    adb_sysvar_recent_bh_encode(rb1, rbb);
    assert_int_equal(adb_sysvar_recent_bh_decode(rbb, ADB_SYSVAR_RECENT_BH_SZ, rb2, &err), 0);
    assert_int_equal(rb2->cnt, 150);
    assert_memory_equal(rb2->e, rb1->e, 150 * sizeof rb1->e[0]);
    free(rbb);
    free(rb1);
    free(rb2);

    /* The sysvar ids are the documented ones. */
    char   t[ACCTDB_BASE58_32_SZ];
    size_t tl;
    assert_int_equal(acctdb_base58_encode(adb_sysvar_id(ADB_SYSVAR_CLOCK)->b, 32, t, sizeof t, &tl),
                     0);
    assert_string_equal(t, ADB_SYSVAR_CLOCK_ID);
    assert_int_equal(
        acctdb_base58_encode(adb_sysvar_id(ADB_SYSVAR_STAKE_HISTORY)->b, 32, t, sizeof t, &tl), 0);
    assert_string_equal(t, ADB_SYSVAR_STAKE_HISTORY_ID);
}

/* ---- the bank-state blob ------------------------------------------------------ */

static void
t_bank_state_blob(void **state) {
    (void)state;
    adb_bank_state_t st;
    adb_bank_state_init(&st);
    st.stakes_epoch = 9;
    st.hist = adb_arena_alloc(&st.mem, ADB_STAKE_HISTORY_MAX * sizeof *st.hist);
    assert_non_null(st.hist);
    for (uint64_t e = 0; e < 9; e++) {
        adb_stake_history_entry_t x = {.epoch = e, .effective = 100 * e, .activating = e};
        adb_stake_history_add(st.hist, &st.hist_cnt, &x);
    }
    st.es = adb_arena_alloc(&st.mem, 2 * sizeof *st.es);
    assert_non_null(st.es);
    st.es_cnt = 2;
    for (uint64_t i = 0; i < 2; i++) {
        adb_epoch_stakes_t *e = &st.es[i];
        e->epoch = 9 + i;
        e->stakes.is_stake_form = true;
        e->stakes.epoch = 8 + i;
        e->total_stake = 1000 + i;
    }
    uint8_t *buf;
    size_t   sz;
    assert_int_equal(adb_bank_state_encode(&st, &buf, &sz), 0);
    adb_bank_state_t back;
    adb_err_t        err;
    assert_int_equal(adb_bank_state_decode(buf, sz, &back, &err), 0);
    assert_int_equal(back.stakes_epoch, 9);
    assert_int_equal(back.hist_cnt, 9);
    assert_memory_equal(back.hist, st.hist, 9 * sizeof *st.hist);
    assert_int_equal(back.es_cnt, 2);
    assert_int_equal(back.es[1].epoch, 10);
    assert_int_equal(back.es[1].total_stake, 1001);
    assert_non_null(adb_bank_state_epoch_stakes(&back, 10));
    assert_null(adb_bank_state_epoch_stakes(&back, 11));
    /* Re-encoding is byte-identical. */
    uint8_t *buf2;
    size_t   sz2;
    assert_int_equal(adb_bank_state_encode(&back, &buf2, &sz2), 0);
    assert_int_equal(sz2, sz);
    assert_memory_equal(buf2, buf, sz);
    free(buf2);
    adb_bank_state_fini(&back);
    /* Every truncation and a wrong magic are refused with a message. */
    for (size_t cut = 0; cut < sz; cut++) {
        adb_bank_state_t x;
        err.msg[0] = 0;
        int rc = adb_bank_state_decode(buf, cut, &x, &err);
        if (rc == 0) fail_msg("a blob cut at %zu of %zu decoded", cut, sz);
        assert_true(err.msg[0] != 0);
    }
    buf[0] ^= 1;
    adb_bank_state_t x;
    assert_int_not_equal(adb_bank_state_decode(buf, sz, &x, &err), 0);
    free(buf);
    adb_bank_state_fini(&st);
}

/* ---- vote and stake accounts of a real snapshot ------------------------------- */

static size_t
fx_index(char const *label) {
    for (size_t i = 0; i < SNAP_FX_CNT; i++)
        if (!strcmp(snap_fx_all[i].label, label)) return i;
    fail_msg("no fixture %s", label);
    return 0;
}

/* The 1.17 pair's full snapshot holds one vote account and one stake
 * account delegated to it (the 3.x pair holds none). */
static void
t_vote_stake_real(void **state) {
    (void)state;
    size_t         fx = fx_index("merkle full");
    size_t         msz;
    uint8_t       *mb = snap_fx_manifest(fx, &msz);
    adb_manifest_t m;
    adb_err_t      err;
    assert_int_equal(adb_manifest_decode(mb, msz, 0, &m, &err), 0);
    free(mb);
    adb_stakes_t const *st = &m.bank.stakes;
    assert_true(st->vote_accounts_cnt >= 1);
    size_t checked_nodes = 0;
    for (uint64_t i = 0; i < st->vote_accounts_cnt; i++) {
        adb_vote_account_t const *va = &st->vote_accounts[i];
        adb_vote_state_t         *vs = calloc(1, sizeof *vs);
        assert_non_null(vs);
        int rc = adb_vote_state_decode(va->account.data, va->account.data_sz, vs, &err);
        if (rc) fail_msg("vote account %llu: %s", (unsigned long long)i, err.msg);
        assert_true(vs->version >= 1 && vs->version <= 3);
        assert_true(vs->voters_cnt >= 1);
        assert_true(vs->credits_sane);
        acctdb_account_t a = {.pubkey = va->vote_pubkey,
                              .owner = va->account.owner,
                              .lamports = va->account.lamports,
                              .data = va->account.data,
                              .data_len = va->account.data_sz};
        assert_true(adb_vote_is_valid(&a));
        /* The node in the manifest's epoch stakes (legacy and versioned)
         * is the vote state's. */
        for (uint64_t k = 0; k < m.extra.versioned_epoch_stakes_cnt + m.bank.epoch_stakes_cnt;
             k++) {
            adb_epoch_stakes_t const *es =
                k < m.extra.versioned_epoch_stakes_cnt
                    ? &m.extra.versioned_epoch_stakes[k]
                    : &m.bank.epoch_stakes[k - m.extra.versioned_epoch_stakes_cnt];
            for (uint64_t n = 0; n < es->node_vote_accounts_cnt; n++)
                for (uint64_t v = 0; v < es->node_vote_accounts[n].vote_pubkeys_cnt; v++)
                    if (!memcmp(es->node_vote_accounts[n].vote_pubkeys[v].b, va->vote_pubkey.b,
                                32)) {
                        assert_memory_equal(es->node_vote_accounts[n].node_id.b, vs->node.b, 32);
                        checked_nodes++;
                    }
            /* and its authorized voter for that epoch. */
            for (uint64_t n = 0; n < es->authorized_voters_cnt; n++)
                if (!memcmp(es->authorized_voters[n].vote_pubkey.b, va->vote_pubkey.b, 32)) {
                    acctdb_pubkey_t voter;
                    assert_true(adb_vote_authorized_voter(vs, es->epoch, &voter));
                    assert_memory_equal(voter.b, es->authorized_voters[n].voter.b, 32);
                }
        }
        /* Every truncation is refused; a wrong size is not a valid vote
         * account; a zero balance neither. */
        for (size_t cut = 0; cut < va->account.data_sz; cut += 97)
            if (cut < 200)
                assert_int_not_equal(adb_vote_state_decode(va->account.data, cut, vs, &err), 0);
        a.data_len--;
        assert_false(adb_vote_is_valid(&a));
        a.data_len++;
        a.lamports = 0;
        assert_false(adb_vote_is_valid(&a));
        free(vs);
    }
    assert_true(checked_nodes >= 1);

    /* Every delegation of the manifest decodes from its stake account to
     * the same five fields (the 8 reserved bytes included). */
    assert_true(st->delegations_cnt >= 1);
    for (uint64_t i = 0; i < st->delegations_cnt; i++) {
        adb_stake_delegation_t const *sd = &st->delegations[i];
        char                          key[ACCTDB_BASE58_32_SZ];
        size_t                        kl;
        assert_int_equal(acctdb_base58_encode(sd->stake_pubkey.b, 32, key, sizeof key, &kl), 0);
        size_t   dsz;
        uint8_t *data = snap_fx_account_data(fx, key, &dsz);
        if (!data) fail_msg("stake account %s not in the archive", key);
        acctdb_account_t a = {.pubkey = sd->stake_pubkey,
                              .owner = *adb_stake_program_id(),
                              .lamports = 1,
                              .data = data,
                              .data_len = dsz};
        adb_delegation_t d;
        uint64_t         credits;
        assert_int_equal(adb_stake_delegation_decode(&a, &d, &credits), 0);
        assert_memory_equal(&d.voter_pubkey, &sd->delegation.voter_pubkey, 32);
        assert_int_equal(d.stake, sd->delegation.stake);
        assert_int_equal(d.activation_epoch, sd->delegation.activation_epoch);
        assert_int_equal(d.deactivation_epoch, sd->delegation.deactivation_epoch);
        assert_memory_equal(&d.warmup_cooldown_rate, &sd->delegation.warmup_cooldown_rate, 8);
        /* Short data is corrupt; another owner is not a delegation. */
        a.data_len = 196;
        assert_int_equal(adb_stake_delegation_decode(&a, &d, &credits), ACCTDB_ERR_CORRUPT);
        a.data_len = dsz;
        a.owner = *adb_vote_program_id();
        assert_int_equal(adb_stake_delegation_decode(&a, &d, &credits), ACCTDB_ERR_NOT_FOUND);
        free(data);
    }
    adb_manifest_fini(&m);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_epoch_warmup),      cmocka_unit_test(t_eah_stop),
    cmocka_unit_test(t_years_as_slots),    cmocka_unit_test(t_stake_activation_vector),
    cmocka_unit_test(t_stake_history_add), cmocka_unit_test(t_fee_derived),
    cmocka_unit_test(t_sysvar_codecs),     cmocka_unit_test(t_bank_state_blob),
    cmocka_unit_test(t_vote_stake_real),
};
ADB_TEST_GROUP(bank, tests);
