/* src/bank/bank_sysvar.c - SlotHistory, Clock, Rent, EpochSchedule sysvar
 * codecs (see sysvar.h). */
#include "bank/bank_sysvar.h"

#include "util/base58.h"

#include <pthread.h>
#include <stdlib.h>

static int
finish(adb_bc_rd_t *rd, adb_err_t *err_out) {
    if (adb_bc_ok(rd)) return 0;
    if (err_out) *err_out = rd->err;
    return rd->err.code;
}

int
adb_sysvar_slot_history_decode(void const *data, size_t sz, adb_slot_history_t *sh_out,
                               adb_err_t *err_out) {
    memset(sh_out, 0, sizeof *sh_out);
    if (err_out) adb_err_clear(err_out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "slot_history");
    adb_slot_history_t sh = {0};
    sh.has_bits = adb_bc_option(&rd, "bits");
    if (sh.has_bits) {
        sh.words_cnt = adb_bc_len(&rd, 8, "bits.words");
        sh.bits = adb_bc_bytes(&rd, (size_t)sh.words_cnt * 8, "bits.words");
    }
    size_t at = rd.off;
    sh.len = adb_bc_u64(&rd, "bits.len");
    if (adb_bc_ok(&rd)) {
        uint64_t need = sh.len / 64 + (sh.len % 64 != 0);
        if (need != sh.words_cnt) {
            rd.off = at;
            adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT,
                        "bits.len: %llu bits need %llu words, the vector has %llu",
                        (unsigned long long)sh.len, (unsigned long long)need,
                        (unsigned long long)sh.words_cnt);
        }
    }
    sh.next_slot = adb_bc_u64(&rd, "next_slot");
    ADB_TRY(finish(&rd, err_out));
    *sh_out = sh;
    return 0;
}

uint64_t
adb_slot_history_newest(adb_slot_history_t const *sh) {
    return sh->next_slot - 1;
}

uint64_t
adb_slot_history_oldest(adb_slot_history_t const *sh) {
    return sh->next_slot > sh->len ? sh->next_slot - sh->len : 0;
}

adb_slot_check_t
adb_slot_history_check(adb_slot_history_t const *sh, uint64_t slot) {
    if (sh->next_slot == 0 || slot > adb_slot_history_newest(sh)) return ADB_SLOT_FUTURE;
    if (slot < adb_slot_history_oldest(sh)) return ADB_SLOT_TOO_OLD;
    if (sh->len == 0) return ADB_SLOT_NOT_FOUND;
    uint64_t bit = slot % sh->len;
    uint64_t w = adb_load_u64(sh->bits + (bit / 64) * 8);
    return (w >> (bit % 64)) & 1 ? ADB_SLOT_FOUND : ADB_SLOT_NOT_FOUND;
}

int
adb_sysvar_slot_history_write(uint64_t const *slots, size_t cnt, uint64_t next_slot,
                              uint8_t data_out[ADB_SYSVAR_SLOT_HISTORY_SZ]) {
    uint64_t const max = ADB_SLOT_HISTORY_MAX_ENTRIES;
    memset(data_out, 0, ADB_SYSVAR_SLOT_HISTORY_SZ);
    if (next_slot == 0) return ACCTDB_ERR_INVALID;
    for (size_t i = 0; i < cnt; i++)
        if (slots[i] >= next_slot) return ACCTDB_ERR_INVALID;
    uint8_t *bits = data_out + 9;
    data_out[0] = 1; /* Some(words) */
    adb_store_u64(data_out + 1, max / 64);
    uint64_t oldest = next_slot > max ? next_slot - max : 0;
    for (size_t i = 0; i < cnt; i++) {
        if (slots[i] < oldest) continue;
        uint64_t bit = slots[i] % max;
        bits[bit / 8] |= (uint8_t)(1u << (bit % 8)); /* LE words: bit b is byte b/8 */
    }
    adb_store_u64(data_out + 9 + max / 8, max);
    adb_store_u64(data_out + 9 + max / 8 + 8, next_slot);
    return 0;
}

int
adb_sysvar_clock_decode(void const *data, size_t sz, adb_clock_t *clock_out, adb_err_t *err_out) {
    memset(clock_out, 0, sizeof *clock_out);
    if (err_out) adb_err_clear(err_out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "clock");
    adb_clock_t c;
    c.slot = adb_bc_u64(&rd, "slot");
    c.epoch_start_timestamp = adb_bc_i64(&rd, "epoch_start_timestamp");
    c.epoch = adb_bc_u64(&rd, "epoch");
    c.leader_schedule_epoch = adb_bc_u64(&rd, "leader_schedule_epoch");
    c.unix_timestamp = adb_bc_i64(&rd, "unix_timestamp");
    ADB_TRY(finish(&rd, err_out));
    *clock_out = c;
    return 0;
}

void
adb_sysvar_clock_encode(adb_clock_t const *c, uint8_t data_out[ADB_SYSVAR_CLOCK_SZ]) {
    adb_store_u64(data_out, c->slot);
    adb_store_u64(data_out + 8, (uint64_t)c->epoch_start_timestamp);
    adb_store_u64(data_out + 16, c->epoch);
    adb_store_u64(data_out + 24, c->leader_schedule_epoch);
    adb_store_u64(data_out + 32, (uint64_t)c->unix_timestamp);
}

int
adb_sysvar_rent_decode(void const *data, size_t sz, adb_rent_t *rent_out, adb_err_t *err_out) {
    memset(rent_out, 0, sizeof *rent_out);
    if (err_out) adb_err_clear(err_out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "rent");
    adb_rent_t r;
    adb_bank_rent_read(&rd, &r, "rent");
    ADB_TRY(finish(&rd, err_out));
    *rent_out = r;
    return 0;
}

void
adb_sysvar_rent_encode(adb_rent_t const *r, uint8_t data_out[ADB_BANK_RENT_SZ]) {
    adb_store_u64(data_out, r->lamports_per_byte_year);
    memcpy(data_out + 8, &r->exemption_threshold, 8);
    data_out[16] = r->burn_percent;
}

int
adb_sysvar_epoch_schedule_decode(void const *data, size_t sz, adb_epoch_schedule_t *es_out,
                                 adb_err_t *err_out) {
    memset(es_out, 0, sizeof *es_out);
    if (err_out) adb_err_clear(err_out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "epoch_schedule");
    adb_epoch_schedule_t es;
    adb_bank_epoch_schedule_read(&rd, &es, "epoch_schedule");
    ADB_TRY(finish(&rd, err_out));
    *es_out = es;
    return 0;
}

void
adb_sysvar_epoch_schedule_encode(adb_epoch_schedule_t const *es,
                                 uint8_t                     data_out[ADB_BANK_EPOCH_SCHEDULE_SZ]) {
    adb_store_u64(data_out, es->slots_per_epoch);
    adb_store_u64(data_out + 8, es->leader_schedule_slot_offset);
    data_out[16] = es->warmup ? 1 : 0;
    adb_store_u64(data_out + 17, es->first_normal_epoch);
    adb_store_u64(data_out + 25, es->first_normal_slot);
}

int
adb_sysvar_slot_history_add(uint8_t data[ADB_SYSVAR_SLOT_HISTORY_SZ], uint64_t slot) {
    uint64_t const     max = ADB_SLOT_HISTORY_MAX_ENTRIES;
    adb_slot_history_t sh;
    ADB_TRY(adb_sysvar_slot_history_decode(data, ADB_SYSVAR_SLOT_HISTORY_SZ, &sh, NULL));
    if (!sh.has_bits || sh.len != max || sh.words_cnt != max / 64) return ACCTDB_ERR_CORRUPT;
    if (slot < sh.next_slot) return ACCTDB_ERR_INVALID;
    uint8_t *bits = data + 9;
    if (slot - sh.next_slot >= max) {
        memset(bits, 0, max / 8); /* wrapped past the whole window */
    } else {
        /* Skipped slots were not rooted on this chain: their bits clear. */
        for (uint64_t s = sh.next_slot; s < slot; s++) {
            uint64_t b = s % max;
            bits[b / 8] &= (uint8_t) ~(1u << (b % 8));
        }
    }
    uint64_t b = slot % max;
    bits[b / 8] |= (uint8_t)(1u << (b % 8));
    adb_store_u64(data + 9 + max / 8 + 8, slot + 1);
    return 0;
}

void
adb_sysvar_slot_history_default(uint8_t data[ADB_SYSVAR_SLOT_HISTORY_SZ]) {
    uint64_t zero = 0;
    adb_sysvar_slot_history_write(&zero, 1, 1, data);
}

/* ---- ids ----------------------------------------------------------------- */

static char const *const g_sysvar_b58[ADB_SYSVAR_CNT] = {
    [ADB_SYSVAR_CLOCK] = ADB_SYSVAR_CLOCK_ID,
    [ADB_SYSVAR_EPOCH_SCHEDULE] = ADB_SYSVAR_EPOCH_SCHEDULE_ID,
    [ADB_SYSVAR_RENT] = ADB_SYSVAR_RENT_ID,
    [ADB_SYSVAR_SLOT_HASHES] = ADB_SYSVAR_SLOT_HASHES_ID,
    [ADB_SYSVAR_SLOT_HISTORY] = ADB_SYSVAR_SLOT_HISTORY_ID,
    [ADB_SYSVAR_STAKE_HISTORY] = ADB_SYSVAR_STAKE_HISTORY_ID,
    [ADB_SYSVAR_RECENT_BLOCKHASHES] = ADB_SYSVAR_RECENT_BH_ID,
    [ADB_SYSVAR_OWNER] = ADB_SYSVAR_OWNER_ID,
};

static char const *const g_sysvar_name[ADB_SYSVAR_CNT] = {
    [ADB_SYSVAR_CLOCK] = "Clock",
    [ADB_SYSVAR_EPOCH_SCHEDULE] = "EpochSchedule",
    [ADB_SYSVAR_RENT] = "Rent",
    [ADB_SYSVAR_SLOT_HASHES] = "SlotHashes",
    [ADB_SYSVAR_SLOT_HISTORY] = "SlotHistory",
    [ADB_SYSVAR_STAKE_HISTORY] = "StakeHistory",
    [ADB_SYSVAR_RECENT_BLOCKHASHES] = "RecentBlockhashes",
    [ADB_SYSVAR_OWNER] = "Sysvar",
};

static acctdb_pubkey_t g_sysvar_ids[ADB_SYSVAR_CNT];
static pthread_once_t  g_sysvar_once = PTHREAD_ONCE_INIT;

static void
sysvar_ids_init(void) {
    for (int i = 0; i < ADB_SYSVAR_CNT; i++)
        adb_base58_decode_32(g_sysvar_b58[i], strlen(g_sysvar_b58[i]), g_sysvar_ids[i].b);
}

acctdb_pubkey_t const *
adb_sysvar_id(adb_sysvar_t which) {
    pthread_once(&g_sysvar_once, sysvar_ids_init);
    return &g_sysvar_ids[which];
}

char const *
adb_sysvar_name(adb_sysvar_t which) {
    return g_sysvar_name[which];
}

/* ---- SlotHashes ------------------------------------------------------------ */

int
adb_sysvar_slot_hashes_decode(void const *data, size_t sz, adb_slot_hashes_t *out,
                              adb_err_t *err_out) {
    out->cnt = 0;
    if (err_out) adb_err_clear(err_out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "slot_hashes");
    uint64_t n = adb_bc_len(&rd, 40, "entries");
    if (adb_bc_ok(&rd) && n > ADB_SLOT_HASHES_MAX)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%llu entries, more than %u", (unsigned long long)n,
                    ADB_SLOT_HASHES_MAX);
    for (uint64_t i = 0; i < n && adb_bc_ok(&rd); i++) {
        out->e[i].slot = adb_bc_u64(&rd, "slot");
        adb_bc_copy(&rd, out->e[i].hash.b, 32, "hash");
    }
    ADB_TRY(finish(&rd, err_out));
    out->cnt = (uint32_t)n;
    return 0;
}

void
adb_slot_hashes_add(adb_slot_hashes_t *sh, uint64_t slot, acctdb_hash_t const *hash) {
    uint32_t i = 0;
    while (i < sh->cnt && sh->e[i].slot > slot)
        i++;
    if (i < sh->cnt && sh->e[i].slot == slot) {
        sh->e[i].hash = *hash;
        return;
    }
    if (i == ADB_SLOT_HASHES_MAX) return; /* older than the window: falls off */
    uint32_t keep = sh->cnt < ADB_SLOT_HASHES_MAX ? sh->cnt : ADB_SLOT_HASHES_MAX - 1;
    memmove(&sh->e[i + 1], &sh->e[i], (keep - i) * sizeof sh->e[0]);
    sh->e[i] = (adb_slot_hash_t){slot, *hash};
    sh->cnt = keep + 1;
}

void
adb_sysvar_slot_hashes_encode(adb_slot_hashes_t const *sh,
                              uint8_t                  data_out[ADB_SYSVAR_SLOT_HASHES_SZ]) {
    memset(data_out, 0, ADB_SYSVAR_SLOT_HASHES_SZ);
    adb_store_u64(data_out, sh->cnt);
    for (uint32_t i = 0; i < sh->cnt; i++) {
        adb_store_u64(data_out + 8 + 40 * i, sh->e[i].slot);
        memcpy(data_out + 16 + 40 * i, sh->e[i].hash.b, 32);
    }
}

/* ---- RecentBlockhashes ------------------------------------------------------ */

int
adb_sysvar_recent_bh_decode(void const *data, size_t sz, adb_recent_bhs_t *out,
                            adb_err_t *err_out) {
    out->cnt = 0;
    if (err_out) adb_err_clear(err_out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "recent_blockhashes");
    uint64_t n = adb_bc_len(&rd, 40, "entries");
    if (adb_bc_ok(&rd) && n > ADB_RECENT_BH_MAX)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%llu entries, more than %u", (unsigned long long)n,
                    ADB_RECENT_BH_MAX);
    for (uint64_t i = 0; i < n && adb_bc_ok(&rd); i++) {
        adb_bc_copy(&rd, out->e[i].hash.b, 32, "blockhash");
        out->e[i].lamports_per_signature = adb_bc_u64(&rd, "fee_calculator");
    }
    ADB_TRY(finish(&rd, err_out));
    out->cnt = (uint32_t)n;
    return 0;
}

void
adb_sysvar_recent_bh_encode(adb_recent_bhs_t const *r, uint8_t data_out[ADB_SYSVAR_RECENT_BH_SZ]) {
    memset(data_out, 0, ADB_SYSVAR_RECENT_BH_SZ);
    adb_store_u64(data_out, r->cnt);
    for (uint32_t i = 0; i < r->cnt; i++) {
        memcpy(data_out + 8 + 40 * i, r->e[i].hash.b, 32);
        adb_store_u64(data_out + 40 + 40 * i, r->e[i].lamports_per_signature);
    }
}

/* Agave builds the account from a max-heap of (hash_index, hash, lps):
 * greatest index first, then greatest hash, then greatest lps. */
static int
cmp_age_desc(void const *a, void const *b) {
    adb_hash_age_t const *x = a, *y = b;
    if (x->hash_index != y->hash_index) return x->hash_index > y->hash_index ? -1 : 1;
    int c = memcmp(x->hash.b, y->hash.b, 32);
    if (c) return -c;
    if (x->lamports_per_signature != y->lamports_per_signature)
        return x->lamports_per_signature > y->lamports_per_signature ? -1 : 1;
    return 0;
}

void
adb_recent_bh_from_queue(adb_blockhash_queue_t const *q, adb_recent_bhs_t *out) {
    out->cnt = 0;
    /* A bounded selection of the top 150 without allocating. */
    adb_hash_age_t top[ADB_RECENT_BH_MAX];
    uint32_t       n = 0;
    for (uint64_t i = 0; i < q->ages_cnt; i++) {
        adb_hash_age_t const *a = &q->ages[i];
        if (n < ADB_RECENT_BH_MAX) {
            top[n++] = *a;
        } else {
            uint32_t worst = 0;
            for (uint32_t k = 1; k < n; k++)
                if (cmp_age_desc(&top[k], &top[worst]) > 0) worst = k;
            if (cmp_age_desc(a, &top[worst]) < 0) top[worst] = *a;
        }
    }
    qsort(top, n, sizeof top[0], cmp_age_desc);
    for (uint32_t i = 0; i < n; i++)
        out->e[i] = (adb_recent_bh_t){top[i].hash, top[i].lamports_per_signature};
    out->cnt = n;
}

/* ---- StakeHistory ------------------------------------------------------------ */

int
adb_sysvar_stake_history_decode(void const *data, size_t sz, adb_stake_hist_t *out,
                                adb_err_t *err_out) {
    out->cnt = 0;
    if (err_out) adb_err_clear(err_out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "stake_history");
    uint64_t n = adb_bc_len(&rd, 32, "entries");
    if (adb_bc_ok(&rd) && n > ADB_STAKE_HISTORY_MAX)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%llu entries, more than %u", (unsigned long long)n,
                    ADB_STAKE_HISTORY_MAX);
    for (uint64_t i = 0; i < n && adb_bc_ok(&rd); i++) {
        out->e[i].epoch = adb_bc_u64(&rd, "epoch");
        out->e[i].effective = adb_bc_u64(&rd, "effective");
        out->e[i].activating = adb_bc_u64(&rd, "activating");
        out->e[i].deactivating = adb_bc_u64(&rd, "deactivating");
    }
    ADB_TRY(finish(&rd, err_out));
    out->cnt = (uint32_t)n;
    return 0;
}

void
adb_sysvar_stake_history_encode(adb_stake_history_entry_t const *e, size_t cnt,
                                uint8_t data_out[ADB_SYSVAR_STAKE_HISTORY_SZ]) {
    memset(data_out, 0, ADB_SYSVAR_STAKE_HISTORY_SZ);
    if (cnt > ADB_STAKE_HISTORY_MAX) cnt = ADB_STAKE_HISTORY_MAX;
    adb_store_u64(data_out, cnt);
    for (size_t i = 0; i < cnt; i++) {
        uint8_t *p = data_out + 8 + 32 * i;
        adb_store_u64(p, e[i].epoch);
        adb_store_u64(p + 8, e[i].effective);
        adb_store_u64(p + 16, e[i].activating);
        adb_store_u64(p + 24, e[i].deactivating);
    }
}

/* ---- rent ----------------------------------------------------------------- */

uint64_t
adb_rent_minimum_balance(adb_rent_t const *r, uint64_t data_len) {
    uint64_t bytes, lpb;
    if (__builtin_add_overflow(data_len, 128, &bytes) ||
        __builtin_mul_overflow(bytes, r->lamports_per_byte_year, &lpb))
        return UINT64_MAX;
    double v = (double)lpb * r->exemption_threshold;
    if (!(v > 0)) return 0; /* NaN and negatives saturate to 0, as Rust's `as` does */
    if (v >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)v;
}
