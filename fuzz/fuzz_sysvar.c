/* fuzz/fuzz_sysvar.c - the sysvar codecs of src/bank on arbitrary bytes.
 * The first input byte picks the sysvar (modulo 8), the rest is its account
 * data:
 *   0 Clock, 1 Rent, 2 EpochSchedule: decode succeeds exactly when the
 *     fixed-size value fits (and, for EpochSchedule, its warmup byte is a
 *     bool); encode gives back the value's bytes; a failure is CORRUPT with
 *     a message and a zeroed value.  Rent::minimum_balance is monotonic in
 *     the data length (up to 2^40 bytes); a schedule made by
 *     adb_epoch_schedule_custom from the decoded one maps each epoch's
 *     first and last slot to that epoch.
 *   3 SlotHashes, 5 RecentBlockhashes, 6 StakeHistory: decode succeeds
 *     exactly when the count fits the data and the maximum (512, 150, 512);
 *     encode -> decode gives the same entries and the encoded prefix is
 *     the input's.  SlotHashes and StakeHistory then take one more entry
 *     with their _add function: a strictly descending list stays strictly
 *     descending, at most the maximum, and holds the new entry unless it
 *     fell off the end.
 *   4 SlotHistory: decode succeeds exactly when the structure is well
 *     formed (checked by an independent parse) and borrows its bits from
 *     the input; adb_slot_history_check agrees with the bit read byte-wise
 *     for slots around the window's edges.
 *   7 the SlotHistory writer: write(slots, next_slot) is INVALID exactly
 *     when a slot is not below next_slot (or next_slot is 0); otherwise it
 *     decodes, every written slot still in the window is FOUND, and add()
 *     of a newer slot records it and clears the slots it skipped. */
#include "bank/bank.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_sysvar: %s:%d: check failed: %s\n", __FILE__, __LINE__, #c);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint8_t g_out[ADB_SYSVAR_SLOT_HISTORY_SZ];

static uint64_t
ld64(uint8_t const *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* A failed decode: CORRUPT, the same code in err, a message. */
static void
check_fail(int rc, adb_err_t const *e) {
    CHECK(rc == ACCTDB_ERR_CORRUPT);
    CHECK(e->code == rc);
    CHECK(e->msg[0] != 0);
    CHECK(memchr(e->msg, 0, sizeof e->msg) != NULL);
}

static bool
is_zero(void const *p, size_t n) {
    uint8_t const *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

/* ---- fixed-size values --------------------------------------------------- */

static void
fuzz_clock(uint8_t const *p, size_t n) {
    adb_clock_t c;
    adb_err_t   e;
    int         rc = adb_sysvar_clock_decode(p, n, &c, &e);
    CHECK((rc == 0) == (n >= ADB_SYSVAR_CLOCK_SZ));
    if (rc) {
        check_fail(rc, &e);
        CHECK(is_zero(&c, sizeof c));
        return;
    }
    CHECK(e.code == 0 && e.msg[0] == 0);
    adb_sysvar_clock_encode(&c, g_out);
    CHECK(!memcmp(g_out, p, ADB_SYSVAR_CLOCK_SZ));
    adb_clock_t c2;
    CHECK(adb_sysvar_clock_decode(g_out, ADB_SYSVAR_CLOCK_SZ, &c2, NULL) == 0);
    CHECK(c2.slot == c.slot && c2.epoch_start_timestamp == c.epoch_start_timestamp &&
          c2.epoch == c.epoch && c2.leader_schedule_epoch == c.leader_schedule_epoch &&
          c2.unix_timestamp == c.unix_timestamp);
}

static void
fuzz_rent(uint8_t const *p, size_t n) {
    adb_rent_t r;
    adb_err_t  e;
    int        rc = adb_sysvar_rent_decode(p, n, &r, &e);
    CHECK((rc == 0) == (n >= ADB_BANK_RENT_SZ));
    if (rc) {
        check_fail(rc, &e);
        CHECK(r.lamports_per_byte_year == 0 && r.burn_percent == 0);
        return;
    }
    adb_sysvar_rent_encode(&r, g_out);
    CHECK(!memcmp(g_out, p, ADB_BANK_RENT_SZ));
    /* minimum_balance saturates rather than wraps: for data lengths a
     * real account can have, it never falls as the data grows (under a
     * threshold that is not negative or NaN), and a NaN, zero or negative
     * threshold gives 0 unless the byte-years saturate first. */
    uint64_t len = n >= ADB_BANK_RENT_SZ + 8 ? ld64(p + ADB_BANK_RENT_SZ) % (1ull << 40) : n;
    uint64_t lens[] = {0, 1, len, len + 1, 10u << 20, 1ull << 40};
    uint64_t prev = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint64_t m = adb_rent_minimum_balance(&r, lens[i]), lpb;
        bool     sat = __builtin_mul_overflow(128 + lens[i], r.lamports_per_byte_year, &lpb);
        if (!(r.exemption_threshold > 0)) CHECK(m == (sat ? UINT64_MAX : 0));
        if (sat) CHECK(m == UINT64_MAX);
        if (i && lens[i] >= lens[i - 1] && r.exemption_threshold >= 0) CHECK(m >= prev);
        prev = m;
    }
}

/* The epoch functions on a consistent schedule: the first and the last
 * slot of an epoch are in it. */
static void
check_custom_schedule(adb_epoch_schedule_t const *dec, uint64_t epoch) {
    adb_epoch_schedule_t es = adb_epoch_schedule_custom(
        dec->slots_per_epoch & ((1ull << 40) - 1), dec->leader_schedule_slot_offset, dec->warmup);
    if (es.slots_per_epoch == 0) return;
    epoch %= 4096;
    uint64_t first = adb_epoch_first_slot(&es, epoch);
    uint64_t cnt = adb_epoch_slot_cnt(&es, epoch);
    if (first > UINT64_MAX / 4 || cnt == 0 || cnt > UINT64_MAX / 4) return;
    uint64_t idx = 1;
    CHECK(adb_epoch_of_idx(&es, first, &idx) == epoch && idx == 0);
    CHECK(adb_epoch_of_idx(&es, first + cnt - 1, &idx) == epoch && idx == cnt - 1);
    CHECK(adb_epoch_of(&es, first + cnt) == epoch + 1);
    CHECK(adb_epoch_first_slot(&es, epoch + 1) == first + cnt);
    CHECK(adb_epoch_leader_schedule(&es, first) >= epoch);
}

static void
fuzz_epoch_schedule(uint8_t const *p, size_t n) {
    adb_epoch_schedule_t es;
    adb_err_t            e;
    int                  rc = adb_sysvar_epoch_schedule_decode(p, n, &es, &e);
    CHECK((rc == 0) == (n >= ADB_BANK_EPOCH_SCHEDULE_SZ && p[16] <= 1));
    if (rc) {
        check_fail(rc, &e);
        CHECK(es.slots_per_epoch == 0 && es.first_normal_slot == 0);
        return;
    }
    adb_sysvar_epoch_schedule_encode(&es, g_out);
    CHECK(!memcmp(g_out, p, ADB_BANK_EPOCH_SCHEDULE_SZ));
    /* Any decoded schedule: no division by zero, no overflow trap. */
    uint64_t slot = n >= ADB_BANK_EPOCH_SCHEDULE_SZ + 8 ? ld64(p + ADB_BANK_EPOCH_SCHEDULE_SZ) : 0;
    uint64_t slots[] = {0, slot, es.first_normal_slot, es.first_normal_slot - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        uint64_t idx, ep = adb_epoch_of_idx(&es, slots[i], &idx);
        (void)adb_epoch_slot_cnt(&es, ep);
        (void)adb_epoch_first_slot(&es, ep);
        (void)adb_epoch_leader_schedule(&es, slots[i]);
        (void)adb_epoch_eah_stop(&es, slots[i]);
    }
    check_custom_schedule(&es, slot);
}

/* ---- vectors ------------------------------------------------------------- */

/* Would a list of elem-byte entries with at most max of them decode? */
static bool
vec_fits(uint8_t const *p, size_t n, size_t elem, uint64_t max) {
    if (n < 8) return false;
    uint64_t k = ld64(p);
    return k <= max && k <= (n - 8) / elem;
}

static void
fuzz_slot_hashes(uint8_t const *p, size_t n) {
    static adb_slot_hashes_t sh, sh2;
    adb_err_t                e;
    int                      rc = adb_sysvar_slot_hashes_decode(p, n, &sh, &e);
    CHECK((rc == 0) == vec_fits(p, n, 40, ADB_SLOT_HASHES_MAX));
    if (rc) {
        check_fail(rc, &e);
        CHECK(sh.cnt == 0);
        return;
    }
    CHECK(sh.cnt <= ADB_SLOT_HASHES_MAX);
    adb_sysvar_slot_hashes_encode(&sh, g_out);
    CHECK(!memcmp(g_out, p, 8 + 40 * (size_t)sh.cnt));
    CHECK(is_zero(g_out + 8 + 40 * (size_t)sh.cnt,
                  ADB_SYSVAR_SLOT_HASHES_SZ - 8 - 40 * (size_t)sh.cnt));
    CHECK(adb_sysvar_slot_hashes_decode(g_out, ADB_SYSVAR_SLOT_HASHES_SZ, &sh2, NULL) == 0);
    CHECK(sh2.cnt == sh.cnt && !memcmp(sh2.e, sh.e, sh.cnt * sizeof sh.e[0]));

    /* SlotHashes::add on a well-formed (strictly descending) list. */
    for (uint32_t i = 1; i < sh.cnt; i++)
        if (sh.e[i].slot >= sh.e[i - 1].slot) return;
    acctdb_hash_t h = {{0}};
    uint64_t      slot = n >= 8 ? ld64(p + n - 8) : 0;
    if (n >= 40) memcpy(h.b, p + n - 40, 32);
    uint32_t old = sh.cnt;
    bool     had = false, older = old == ADB_SLOT_HASHES_MAX && slot < sh.e[old - 1].slot;
    for (uint32_t i = 0; i < old; i++)
        had |= sh.e[i].slot == slot;
    adb_slot_hashes_add(&sh, slot, &h);
    CHECK(sh.cnt == (had || older ? old : ADB_MIN(old + 1, (uint32_t)ADB_SLOT_HASHES_MAX)));
    for (uint32_t i = 1; i < sh.cnt; i++)
        CHECK(sh.e[i].slot < sh.e[i - 1].slot);
    bool found = false;
    for (uint32_t i = 0; i < sh.cnt; i++)
        if (sh.e[i].slot == slot) found = !memcmp(sh.e[i].hash.b, h.b, 32);
    CHECK(found == !older);
}

static void
fuzz_recent_bh(uint8_t const *p, size_t n) {
    static adb_recent_bhs_t r, r2;
    adb_err_t               e;
    int                     rc = adb_sysvar_recent_bh_decode(p, n, &r, &e);
    CHECK((rc == 0) == vec_fits(p, n, 40, ADB_RECENT_BH_MAX));
    if (rc) {
        check_fail(rc, &e);
        CHECK(r.cnt == 0);
        return;
    }
    CHECK(r.cnt <= ADB_RECENT_BH_MAX);
    adb_sysvar_recent_bh_encode(&r, g_out);
    CHECK(!memcmp(g_out, p, 8 + 40 * (size_t)r.cnt));
    CHECK(
        is_zero(g_out + 8 + 40 * (size_t)r.cnt, ADB_SYSVAR_RECENT_BH_SZ - 8 - 40 * (size_t)r.cnt));
    CHECK(adb_sysvar_recent_bh_decode(g_out, ADB_SYSVAR_RECENT_BH_SZ, &r2, NULL) == 0);
    CHECK(r2.cnt == r.cnt && !memcmp(r2.e, r.e, r.cnt * sizeof r.e[0]));
}

static void
fuzz_stake_history(uint8_t const *p, size_t n) {
    static adb_stake_hist_t h, h2;
    adb_err_t               e;
    int                     rc = adb_sysvar_stake_history_decode(p, n, &h, &e);
    CHECK((rc == 0) == vec_fits(p, n, 32, ADB_STAKE_HISTORY_MAX));
    if (rc) {
        check_fail(rc, &e);
        CHECK(h.cnt == 0);
        return;
    }
    CHECK(h.cnt <= ADB_STAKE_HISTORY_MAX);
    adb_sysvar_stake_history_encode(h.e, h.cnt, g_out);
    CHECK(!memcmp(g_out, p, 8 + 32 * (size_t)h.cnt));
    CHECK(adb_sysvar_stake_history_decode(g_out, ADB_SYSVAR_STAKE_HISTORY_SZ, &h2, NULL) == 0);
    CHECK(h2.cnt == h.cnt && !memcmp(h2.e, h.e, h.cnt * sizeof h.e[0]));

    /* StakeHistory::add on a well-formed (strictly descending) list. */
    for (uint32_t i = 1; i < h.cnt; i++)
        if (h.e[i].epoch >= h.e[i - 1].epoch) return;
    adb_stake_history_entry_t add = {0};
    if (n >= 32) memcpy(&add, p + n - 32, 32);
    uint64_t cnt = h.cnt, old = h.cnt;
    bool     had = false, older = old == ADB_STAKE_HISTORY_MAX && add.epoch < h.e[old - 1].epoch;
    for (uint32_t i = 0; i < old; i++)
        had |= h.e[i].epoch == add.epoch;
    adb_stake_history_add(h.e, &cnt, &add);
    CHECK(cnt == (had || older ? old : ADB_MIN(old + 1, (uint64_t)ADB_STAKE_HISTORY_MAX)));
    for (uint64_t i = 1; i < cnt; i++)
        CHECK(h.e[i].epoch < h.e[i - 1].epoch);
    bool found = false;
    for (uint64_t i = 0; i < cnt; i++)
        if (h.e[i].epoch == add.epoch) found = !memcmp(&h.e[i], &add, sizeof add);
    CHECK(found == !older);
}

/* ---- SlotHistory --------------------------------------------------------- */

/* The answer of adb_slot_history_check from its contract, reading the
 * bit byte-wise (little-endian words: bit b is bit b % 8 of byte b / 8). */
static adb_slot_check_t
ref_check(adb_slot_history_t const *sh, uint64_t slot) {
    if (sh->next_slot == 0 || slot > sh->next_slot - 1) return ADB_SLOT_FUTURE;
    uint64_t oldest = sh->next_slot > sh->len ? sh->next_slot - sh->len : 0;
    if (slot < oldest) return ADB_SLOT_TOO_OLD;
    if (sh->len == 0) return ADB_SLOT_NOT_FOUND;
    uint64_t b = slot % sh->len;
    return (sh->bits[b / 8] >> (b % 8)) & 1 ? ADB_SLOT_FOUND : ADB_SLOT_NOT_FOUND;
}

static void
check_probe(adb_slot_history_t const *sh, uint64_t slot) {
    CHECK(adb_slot_history_check(sh, slot) == ref_check(sh, slot));
}

static void
probe_edges(adb_slot_history_t const *sh, uint64_t extra) {
    uint64_t newest = adb_slot_history_newest(sh), oldest = adb_slot_history_oldest(sh);
    CHECK(newest == sh->next_slot - 1);
    CHECK(oldest == (sh->next_slot > sh->len ? sh->next_slot - sh->len : 0));
    uint64_t probes[] = {0,
                         1,
                         extra,
                         newest,
                         newest + 1,
                         newest - 1,
                         oldest,
                         oldest - 1,
                         oldest + 1,
                         UINT64_MAX,
                         sh->next_slot ? extra % sh->next_slot : extra};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        check_probe(sh, probes[i]);
}

static void
fuzz_slot_history(uint8_t const *p, size_t n) {
    adb_slot_history_t sh;
    adb_err_t          e;
    int                rc = adb_sysvar_slot_history_decode(p, n, &sh, &e);

    /* An independent parse: Option tag, [u64 words, words x u64], u64 len,
     * u64 next_slot, with ceil(len / 64) == words. */
    bool     ok = n >= 1 && p[0] <= 1;
    size_t   off = 1;
    uint64_t words = 0;
    if (ok && p[0] == 1) {
        ok = n - off >= 8;
        if (ok) {
            words = ld64(p + off);
            off += 8;
            ok = words <= (n - off) / 8;
            if (ok) off += (size_t)words * 8;
        }
    }
    uint64_t len = 0, next = 0;
    if (ok) ok = n - off >= 16;
    if (ok) {
        len = ld64(p + off);
        next = ld64(p + off + 8);
        ok = len / 64 + (len % 64 != 0) == words;
    }
    CHECK((rc == 0) == ok);
    if (rc) {
        check_fail(rc, &e);
        CHECK(!sh.has_bits && !sh.bits && !sh.len && !sh.next_slot);
        return;
    }
    CHECK(sh.has_bits == (p[0] == 1) && sh.words_cnt == words && sh.len == len &&
          sh.next_slot == next);
    CHECK(sh.has_bits ? sh.bits == p + 9 : sh.bits == NULL || words == 0);
    probe_edges(&sh, n >= 8 ? ld64(p + n - 8) : 0);
}

/* The writer and add(): input is u64 next_slot, u64 add_slot, then up to
 * 64 u64 slots. */
static void
fuzz_slot_history_write(uint8_t const *p, size_t n) {
    if (n < 16) {
        adb_sysvar_slot_history_default(g_out);
        adb_slot_history_t sh;
        CHECK(adb_sysvar_slot_history_decode(g_out, sizeof g_out, &sh, NULL) == 0);
        CHECK(adb_slot_history_newest(&sh) == 0 &&
              adb_slot_history_check(&sh, 0) == ADB_SLOT_FOUND);
        CHECK(adb_slot_history_check(&sh, 1) == ADB_SLOT_FUTURE);
        return;
    }
    uint64_t const max = ADB_SLOT_HISTORY_MAX_ENTRIES;
    uint64_t       next = ld64(p), add = ld64(p + 8);
    uint64_t       slots[64];
    size_t         cnt = ADB_MIN((n - 16) / 8, (size_t)64);
    bool           valid = next != 0;
    for (size_t i = 0; i < cnt; i++) {
        /* Mostly near next_slot, so the window is exercised. */
        uint64_t v = ld64(p + 16 + 8 * i), r = v % (2 * max);
        slots[i] = (v >> 63) || !next ? v : r < next ? next - 1 - r : r % next;
        valid &= slots[i] < next;
    }
    int rc = adb_sysvar_slot_history_write(slots, cnt, next, g_out);
    CHECK(valid ? rc == 0 : rc == ACCTDB_ERR_INVALID);
    if (rc) return;
    adb_slot_history_t sh;
    CHECK(adb_sysvar_slot_history_decode(g_out, sizeof g_out, &sh, NULL) == 0);
    CHECK(sh.has_bits && sh.len == max && sh.words_cnt == max / 64 && sh.next_slot == next);
    uint64_t oldest = adb_slot_history_oldest(&sh);
    for (size_t i = 0; i < cnt; i++)
        CHECK(adb_slot_history_check(&sh, slots[i]) ==
              (slots[i] < oldest ? ADB_SLOT_TOO_OLD : ADB_SLOT_FOUND));
    probe_edges(&sh, add);
    /* A slot in the window that was not written is NOT_FOUND. */
    uint64_t probe = next - 1 - (add % ADB_MIN(next, max));
    bool     written = false;
    for (size_t i = 0; i < cnt; i++)
        written |= slots[i] == probe;
    if (!written) CHECK(adb_slot_history_check(&sh, probe) == ADB_SLOT_NOT_FOUND);

    /* add(): a slot below next_slot is INVALID; otherwise it is recorded,
     * the slots it skipped are not, and older recorded slots in the new
     * window are kept. */
    if (add % 4 != 0 && next < UINT64_MAX - 3 * max) add = next + add % (3 * max);
    rc = adb_sysvar_slot_history_add(g_out, add);
    if (add < next) {
        CHECK(rc == ACCTDB_ERR_INVALID);
        return;
    }
    CHECK(rc == 0);
    if (add == UINT64_MAX) return; /* next_slot wraps to 0: no answerable slot */
    CHECK(adb_sysvar_slot_history_decode(g_out, sizeof g_out, &sh, NULL) == 0);
    CHECK(adb_slot_history_newest(&sh) == add);
    CHECK(adb_slot_history_check(&sh, add) == ADB_SLOT_FOUND);
    if (add > next) CHECK(adb_slot_history_check(&sh, add - 1) != ADB_SLOT_FOUND);
    if (add > next + 1) CHECK(adb_slot_history_check(&sh, next) != ADB_SLOT_FOUND);
    oldest = adb_slot_history_oldest(&sh);
    for (size_t i = 0; i < cnt; i++)
        if (slots[i] >= oldest && slots[i] >= next - ADB_MIN(next, max))
            CHECK(adb_slot_history_check(&sh, slots[i]) == ADB_SLOT_FOUND);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz == 0) return 0;
    uint8_t const *p = data + 1;
    size_t         n = sz - 1;
    switch (data[0] % 8) {
    case 0:
        fuzz_clock(p, n);
        break;
    case 1:
        fuzz_rent(p, n);
        break;
    case 2:
        fuzz_epoch_schedule(p, n);
        break;
    case 3:
        fuzz_slot_hashes(p, n);
        break;
    case 4:
        fuzz_slot_history(p, n);
        break;
    case 5:
        fuzz_recent_bh(p, n);
        break;
    case 6:
        fuzz_stake_history(p, n);
        break;
    default:
        fuzz_slot_history_write(p, n);
        break;
    }
    return 0;
}
