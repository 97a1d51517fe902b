/* src/bank/bank_sysvar.h - codecs of the sysvar accounts a bank carries:
 * SlotHistory, Clock, Rent, EpochSchedule, SlotHashes, RecentBlockhashes,
 * StakeHistory.  Sysvar data is bincode like the manifest; decoders accept
 * trailing bytes after the value (Agave's bincode::deserialize does) and
 * never allocate.  Every sysvar account holds its fixed size, the value
 * written at the front and zeros after it (Agave create_account_with_fields:
 * max(size_of, serialized size)).
 *
 * SlotHistory data: bincode of { bits: BitVec<u64>, next_slot: u64 } where
 * BitVec<u64> = { Option<Box<[u64]>> words, u64 len (in bits) }.  Agave's
 * account holds 2^20 bits (16384 words): 1 + 8 + 131072 + 8 + 8 = 131,097
 * bytes (verified on every bundled archive).  Slot s is recorded at bit
 * s % len; after slot n is added, next_slot = n + 1 and the window of slots
 * it can answer for is [next_slot - len, next_slot - 1] (saturating). */
#ifndef ADB_BANK_BANK_SYSVAR_H
#define ADB_BANK_BANK_SYSVAR_H

#include "bank/bank_types.h"

#define ADB_SYSVAR_SLOT_HISTORY_ID   "SysvarS1otHistory11111111111111111111111111"
#define ADB_SYSVAR_CLOCK_ID          "SysvarC1ock11111111111111111111111111111111"
#define ADB_SYSVAR_RENT_ID           "SysvarRent111111111111111111111111111111111"
#define ADB_SYSVAR_EPOCH_SCHEDULE_ID "SysvarEpochSchedu1e111111111111111111111111"
#define ADB_SYSVAR_SLOT_HASHES_ID    "SysvarS1otHashes111111111111111111111111111"
#define ADB_SYSVAR_RECENT_BH_ID      "SysvarRecentB1ockHashes11111111111111111111"
#define ADB_SYSVAR_STAKE_HISTORY_ID  "SysvarStakeHistory1111111111111111111111111"
#define ADB_SYSVAR_OWNER_ID          "Sysvar1111111111111111111111111111111111111"

/* The sysvars adb_sysvar_id names, in this order. */
typedef enum adb_sysvar {
    ADB_SYSVAR_CLOCK,
    ADB_SYSVAR_EPOCH_SCHEDULE,
    ADB_SYSVAR_RENT,
    ADB_SYSVAR_SLOT_HASHES,
    ADB_SYSVAR_SLOT_HISTORY,
    ADB_SYSVAR_STAKE_HISTORY,
    ADB_SYSVAR_RECENT_BLOCKHASHES,
    ADB_SYSVAR_OWNER, /* not a sysvar: the owner of them all */
    ADB_SYSVAR_CNT
} adb_sysvar_t;

/* adb_sysvar_id: the pubkey of a sysvar (decoded once; thread-safe). */
acctdb_pubkey_t const *adb_sysvar_id(adb_sysvar_t which);
char const            *adb_sysvar_name(adb_sysvar_t which);

#define ADB_SLOT_HISTORY_MAX_ENTRIES ((uint64_t)1 << 20) /* bits */
#define ADB_SYSVAR_SLOT_HISTORY_SZ   (1 + 8 + ADB_SLOT_HISTORY_MAX_ENTRIES / 8 + 8 + 8)
#define ADB_SYSVAR_CLOCK_SZ          40
#define ADB_SLOT_HASHES_MAX          512
#define ADB_SYSVAR_SLOT_HASHES_SZ    (8 + ADB_SLOT_HASHES_MAX * 40) /* 20,488 */
#define ADB_RECENT_BH_MAX            150
#define ADB_SYSVAR_RECENT_BH_SZ      (8 + ADB_RECENT_BH_MAX * 40) /* 6,008 */
#define ADB_STAKE_HISTORY_MAX        512
#define ADB_SYSVAR_STAKE_HISTORY_SZ  (8 + ADB_STAKE_HISTORY_MAX * 32) /* 16,392 */

/* A decoded SlotHistory.  bits borrows from the decoded data (valid while
 * it is): words_cnt little-endian u64 words, unaligned. */
typedef struct adb_slot_history {
    bool           has_bits;
    uint8_t const *bits;
    uint64_t       words_cnt;
    uint64_t       len; /* bits in use */
    uint64_t       next_slot;
} adb_slot_history_t;

typedef enum adb_slot_check {
    ADB_SLOT_FOUND = 0,
    ADB_SLOT_NOT_FOUND = 1,
    ADB_SLOT_TOO_OLD = 2,
    ADB_SLOT_FUTURE = 3,
} adb_slot_check_t;

/* adb_sysvar_slot_history_decode: parses SlotHistory account data.  The
 * word count must match len (ceil(len / 64) words; no words iff len == 0).
 * Errors: ACCTDB_ERR_CORRUPT with "slot_history: offset N: ..." in
 * *err_out (may be NULL). */
int adb_sysvar_slot_history_decode(void const *data, size_t sz, adb_slot_history_t *sh_out,
                                   adb_err_t *err_out);

/* adb_slot_history_newest: next_slot - 1, the last slot added (wraps to
 * UINT64_MAX for a history with next_slot 0, which no real account has). */
uint64_t adb_slot_history_newest(adb_slot_history_t const *sh);

/* adb_slot_history_oldest: the oldest slot still answerable:
 * next_slot - len, or 0 if that would be negative. */
uint64_t adb_slot_history_oldest(adb_slot_history_t const *sh);

/* adb_slot_history_check: FUTURE above newest, TOO_OLD below oldest (so
 * every past slot when len is 0), else FOUND if bit (slot % len) is set,
 * NOT_FOUND otherwise. */
adb_slot_check_t adb_slot_history_check(adb_slot_history_t const *sh, uint64_t slot);

/* adb_sysvar_slot_history_write: the 131,097-byte SlotHistory account data
 * (2^20 bits) recording slots[0..cnt) with next_slot (= newest + 1): what
 * Agave's account holds after adding exactly those slots in order.  Slots
 * older than the window (below next_slot - 2^20) are dropped, as adding
 * newer slots would have overwritten them.  Errors: ACCTDB_ERR_INVALID if a
 * slot is >= next_slot, or next_slot is 0. */
int adb_sysvar_slot_history_write(uint64_t const *slots, size_t cnt, uint64_t next_slot,
                                  uint8_t data_out[ADB_SYSVAR_SLOT_HISTORY_SZ]);

/* adb_sysvar_slot_history_add: records slot in a 2^20-bit SlotHistory in
 * place, as a bank at slot does on creation: the bits of skipped slots
 * since next_slot clear, slot's bit sets, next_slot = slot + 1.  Errors:
 * CORRUPT (not a 2^20-bit history), INVALID (slot < next_slot). */
int adb_sysvar_slot_history_add(uint8_t data[ADB_SYSVAR_SLOT_HISTORY_SZ], uint64_t slot);

/* adb_sysvar_slot_history_default: a new history (slot 0 recorded,
 * next_slot 1), as a cluster's first bank has. */
void adb_sysvar_slot_history_default(uint8_t data[ADB_SYSVAR_SLOT_HISTORY_SZ]);

/* ---- Clock (40 B) -------------------------------------------------------- */
typedef struct adb_clock {
    uint64_t slot;
    int64_t  epoch_start_timestamp;
    uint64_t epoch;
    uint64_t leader_schedule_epoch;
    int64_t  unix_timestamp;
} adb_clock_t;

/* Decoders: ACCTDB_ERR_CORRUPT if data is shorter than the value (or holds
 * an invalid bool); *err_out (may be NULL) gets the message. */
int  adb_sysvar_clock_decode(void const *data, size_t sz, adb_clock_t *clock_out,
                             adb_err_t *err_out);
void adb_sysvar_clock_encode(adb_clock_t const *c, uint8_t data_out[ADB_SYSVAR_CLOCK_SZ]);

/* ---- Rent (17 B) and EpochSchedule (33 B): types in bincode_types.h ---- */
int  adb_sysvar_rent_decode(void const *data, size_t sz, adb_rent_t *rent_out, adb_err_t *err_out);
void adb_sysvar_rent_encode(adb_rent_t const *r, uint8_t data_out[ADB_BANK_RENT_SZ]);
int  adb_sysvar_epoch_schedule_decode(void const *data, size_t sz, adb_epoch_schedule_t *es_out,
                                      adb_err_t *err_out);
void adb_sysvar_epoch_schedule_encode(adb_epoch_schedule_t const *es,
                                      uint8_t data_out[ADB_BANK_EPOCH_SCHEDULE_SZ]);

/* ---- SlotHashes (20,488 B): Vec<(Slot, Hash)>, newest first ------------ */
typedef struct adb_slot_hashes {
    adb_slot_hash_t e[ADB_SLOT_HASHES_MAX];
    uint32_t        cnt;
} adb_slot_hashes_t;

/* Decoders: CORRUPT (too short, more than the maximum entries). */
int adb_sysvar_slot_hashes_decode(void const *data, size_t sz, adb_slot_hashes_t *out,
                                  adb_err_t *err_out);
/* Agave SlotHashes::add: insert keeping slots descending (an equal slot's
 * hash is replaced), then keep the newest 512. */
void adb_slot_hashes_add(adb_slot_hashes_t *sh, uint64_t slot, acctdb_hash_t const *hash);
void adb_sysvar_slot_hashes_encode(adb_slot_hashes_t const *sh,
                                   uint8_t                  data_out[ADB_SYSVAR_SLOT_HASHES_SZ]);

/* ---- RecentBlockhashes (6,008 B): Vec<(Hash, lamports_per_signature)>,
 * newest (highest queue index) first, at most 150 ------------------------ */
typedef struct adb_recent_bh {
    acctdb_hash_t hash;
    uint64_t      lamports_per_signature;
} adb_recent_bh_t;

typedef struct adb_recent_bhs {
    adb_recent_bh_t e[ADB_RECENT_BH_MAX];
    uint32_t        cnt;
} adb_recent_bhs_t;

int  adb_sysvar_recent_bh_decode(void const *data, size_t sz, adb_recent_bhs_t *out,
                                 adb_err_t *err_out);
void adb_sysvar_recent_bh_encode(adb_recent_bhs_t const *r,
                                 uint8_t                 data_out[ADB_SYSVAR_RECENT_BH_SZ]);
/* adb_recent_bh_from_queue: what Agave writes from a blockhash queue: its
 * entries by hash_index descending (ties: hash descending), the first 150. */
void adb_recent_bh_from_queue(adb_blockhash_queue_t const *q, adb_recent_bhs_t *out);

/* ---- StakeHistory (16,392 B): Vec<(Epoch, StakeHistoryEntry)>, newest
 * first, at most 512 ------------------------------------------------------ */
typedef struct adb_stake_hist {
    adb_stake_history_entry_t e[ADB_STAKE_HISTORY_MAX];
    uint32_t                  cnt;
} adb_stake_hist_t;

int  adb_sysvar_stake_history_decode(void const *data, size_t sz, adb_stake_hist_t *out,
                                     adb_err_t *err_out);
void adb_sysvar_stake_history_encode(adb_stake_history_entry_t const *e, size_t cnt,
                                     uint8_t data_out[ADB_SYSVAR_STAKE_HISTORY_SZ]);

/* ---- rent ------------------------------------------------------------------ */

/* adb_rent_minimum_balance: Agave Rent::minimum_balance:
 * ((128 + data_len) * lamports_per_byte_year) as f64 * exemption_threshold,
 * truncated to u64 (saturating). */
uint64_t adb_rent_minimum_balance(adb_rent_t const *r, uint64_t data_len);

#endif
