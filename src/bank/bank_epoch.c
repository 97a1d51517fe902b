/* src/bank/bank_epoch.c - epochs of slots (see bank.h), as Agave's
 * EpochSchedule computes them, saturating where it saturates. */
#include "bank/bank.h"

static uint64_t
sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* 2^e, saturating. */
static uint64_t
pow2(uint64_t e) {
    return e >= 64 ? UINT64_MAX : 1ull << e;
}

/* next_power_of_two(x) (x <= 2^63), and its log2. */
static unsigned
log2_next_pow2(uint64_t x) {
    return x <= 1 ? 0u : 64u - (unsigned)__builtin_clzll(x - 1);
}

adb_epoch_schedule_t
adb_epoch_schedule_custom(uint64_t slots_per_epoch, uint64_t leader_schedule_slot_offset,
                          bool warmup) {
    adb_epoch_schedule_t es = {0};
    if (slots_per_epoch < ADB_MIN_SLOTS_PER_EPOCH || slots_per_epoch > (1ull << 63)) return es;
    es.slots_per_epoch = slots_per_epoch;
    es.leader_schedule_slot_offset = leader_schedule_slot_offset;
    es.warmup = warmup;
    if (warmup) {
        unsigned lg = log2_next_pow2(slots_per_epoch);
        es.first_normal_epoch = lg - 5u; /* log2(32) */
        es.first_normal_slot = (1ull << lg) - ADB_MIN_SLOTS_PER_EPOCH;
    }
    return es;
}

uint64_t
adb_epoch_of_idx(adb_epoch_schedule_t const *es, uint64_t slot, uint64_t *index_out) {
    uint64_t epoch, index;
    if (slot < es->first_normal_slot) {
        /* Warmup epoch e holds 32 << e slots and starts at 32 * (2^e - 1). */
        uint64_t x = sat_add(sat_add(slot, ADB_MIN_SLOTS_PER_EPOCH), 1);
        unsigned lg = x > (1ull << 63) ? 64u : log2_next_pow2(x);
        epoch = lg >= 6 ? lg - 6u : 0;
        uint64_t len = pow2(epoch + 5);
        index = slot - (len - ADB_MIN_SLOTS_PER_EPOCH);
    } else if (es->slots_per_epoch == 0) {
        epoch = es->first_normal_epoch;
        index = 0;
    } else {
        uint64_t n = slot - es->first_normal_slot;
        epoch = sat_add(es->first_normal_epoch, n / es->slots_per_epoch);
        index = n % es->slots_per_epoch;
    }
    if (index_out) *index_out = index;
    return epoch;
}

uint64_t
adb_epoch_of(adb_epoch_schedule_t const *es, uint64_t slot) {
    return adb_epoch_of_idx(es, slot, NULL);
}

uint64_t
adb_epoch_slot_cnt(adb_epoch_schedule_t const *es, uint64_t epoch) {
    return epoch < es->first_normal_epoch ? pow2(epoch + 5) : es->slots_per_epoch;
}

uint64_t
adb_epoch_first_slot(adb_epoch_schedule_t const *es, uint64_t epoch) {
    if (epoch <= es->first_normal_epoch)
        return sat_mul(pow2(epoch) == UINT64_MAX ? UINT64_MAX : pow2(epoch) - 1,
                       ADB_MIN_SLOTS_PER_EPOCH);
    return sat_add(sat_mul(epoch - es->first_normal_epoch, es->slots_per_epoch),
                   es->first_normal_slot);
}

uint64_t
adb_epoch_leader_schedule(adb_epoch_schedule_t const *es, uint64_t slot) {
    if (slot < es->first_normal_slot) return sat_add(adb_epoch_of(es, slot), 1);
    uint64_t n = sat_add(slot - es->first_normal_slot, es->leader_schedule_slot_offset);
    return sat_add(es->first_normal_epoch, es->slots_per_epoch ? n / es->slots_per_epoch : 0);
}

uint64_t
adb_epoch_eah_stop(adb_epoch_schedule_t const *es, uint64_t slot) {
    uint64_t epoch = adb_epoch_of(es, slot);
    uint64_t n = adb_epoch_slot_cnt(es, epoch);
    uint64_t start = n / 4, stop = n / 4 * 3;
    if (stop - start < 31 + 150) return UINT64_MAX; /* MAX_LOCKOUT_HISTORY + buffer */
    return sat_add(adb_epoch_first_slot(es, epoch), stop);
}
