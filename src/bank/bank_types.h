/* src/bank/bank_types.h - the state of a bank as Agave serializes it
 * (FORMAT.md 3.3, 3.4, 3.6): blockhash queue, stakes, epoch stakes, the
 * fixed-size runtime types (fee rate governor, rent, epoch schedule,
 * inflation) and the extra fields.  src/snapshot encodes and decodes them
 * as part of the manifest; this module gives them meaning.
 *
 * Arrays point into an adb_arena_t (the manifest's, or one the caller
 * owns); nothing here frees them. */
#ifndef ADB_BANK_BANK_TYPES_H
#define ADB_BANK_BANK_TYPES_H

#include "hash/bankhash.h"
#include "util/arena.h"
#include "util/bincode.h"

/* ---- the serde form of solana_account::Account (FORMAT.md 3.4.4) --------
 * lamports u64, data Vec<u8>, owner Pubkey, executable bool, rent_epoch
 * u64: 57 bytes plus the data. */
#define ADB_BANK_ACCOUNT_MIN_SZ 57

typedef struct adb_snap_account {
    uint64_t        lamports;
    uint8_t        *data; /* data_sz bytes, or NULL when empty */
    uint64_t        data_sz;
    acctdb_pubkey_t owner;
    bool            executable;
    uint64_t        rent_epoch;
} adb_bank_account_t;

void adb_bank_account_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_bank_account_t *out,
                           char const *what);
void adb_bank_account_write(adb_bc_wr_t *wr, adb_bank_account_t const *a);

/* A (slot, hash) pair: SlotHashes entries, historical roots with hash. */
typedef struct adb_slot_hash {
    uint64_t      slot;
    acctdb_hash_t hash;
} adb_slot_hash_t;

/* ---- FeeRateGovernor (33 B on the wire; FORMAT.md 3.4.2) ----------------
 * The in-memory lamports_per_signature is serde-skipped and not here. */
#define ADB_BANK_FEE_RATE_GOVERNOR_SZ 33

typedef struct adb_fee_rate_governor {
    uint64_t target_lamports_per_signature;
    uint64_t target_signatures_per_slot;
    uint64_t min_lamports_per_signature;
    uint64_t max_lamports_per_signature;
    uint8_t  burn_percent;
} adb_fee_rate_governor_t;

void adb_bank_fee_rate_governor_read(adb_bc_rd_t *rd, adb_fee_rate_governor_t *out,
                                     char const *what);
void adb_bank_fee_rate_governor_write(adb_bc_wr_t *wr, adb_fee_rate_governor_t const *v);

/* ---- Rent (17 B): also the data of the Rent sysvar ----------------------- */
#define ADB_BANK_RENT_SZ 17

typedef struct adb_rent {
    uint64_t lamports_per_byte_year;
    double   exemption_threshold;
    uint8_t  burn_percent;
} adb_rent_t;

void adb_bank_rent_read(adb_bc_rd_t *rd, adb_rent_t *out, char const *what);
void adb_bank_rent_write(adb_bc_wr_t *wr, adb_rent_t const *v);

/* ---- EpochSchedule (33 B): also the data of the EpochSchedule sysvar ---- */
#define ADB_BANK_EPOCH_SCHEDULE_SZ 33

typedef struct adb_epoch_schedule {
    uint64_t slots_per_epoch;
    uint64_t leader_schedule_slot_offset;
    bool     warmup;
    uint64_t first_normal_epoch;
    uint64_t first_normal_slot;
} adb_epoch_schedule_t;

void adb_bank_epoch_schedule_read(adb_bc_rd_t *rd, adb_epoch_schedule_t *out, char const *what);
void adb_bank_epoch_schedule_write(adb_bc_wr_t *wr, adb_epoch_schedule_t const *v);

/* ---- Inflation (48 B: six f64) ------------------------------------------- */
#define ADB_BANK_INFLATION_SZ 48

typedef struct adb_inflation {
    double initial;
    double terminal;
    double taper;
    double foundation;
    double foundation_term;
    double unused;
} adb_inflation_t;

void adb_bank_inflation_read(adb_bc_rd_t *rd, adb_inflation_t *out, char const *what);
void adb_bank_inflation_write(adb_bc_wr_t *wr, adb_inflation_t const *v);

/* ---- sub-structures (FORMAT.md 3.4) ---------------------------------- */

/* One BlockhashQueue.ages entry: HashMap<Hash, HashInfo>. */
typedef struct adb_hash_age {
    acctdb_hash_t hash;
    uint64_t      lamports_per_signature; /* HashInfo.fee_calculator */
    uint64_t      hash_index;
    uint64_t      timestamp; /* ms */
} adb_hash_age_t;

typedef struct adb_blockhash_queue {
    uint64_t        last_hash_index;
    bool            has_last_hash;
    acctdb_hash_t   last_hash;
    adb_hash_age_t *ages;
    uint64_t        ages_cnt;
    uint64_t        max_age;
} adb_blockhash_queue_t;

typedef struct adb_pubkey_u64 {
    acctdb_pubkey_t key;
    uint64_t        val;
} adb_pubkey_u64_t;

/* RentCollector (66 B, FORMAT.md 3.4.3). */
typedef struct adb_rent_collector {
    uint64_t             epoch;
    adb_epoch_schedule_t epoch_schedule;
    double               slots_per_year;
    adb_rent_t           rent;
} adb_rent_collector_t;

/* Delegation (64 B). */
typedef struct adb_delegation {
    acctdb_pubkey_t voter_pubkey;
    uint64_t        stake;
    uint64_t        activation_epoch;
    uint64_t        deactivation_epoch;
    double          warmup_cooldown_rate;
} adb_delegation_t;

/* One stake_delegations entry.  credits_observed is on the wire only in
 * the Stakes<Stake> form (versioned epoch stakes). */
typedef struct adb_stake_delegation {
    acctdb_pubkey_t  stake_pubkey;
    adb_delegation_t delegation;
    uint64_t         credits_observed;
} adb_stake_delegation_t;

/* One vote_accounts entry: vote pubkey -> (stake, Account). */
typedef struct adb_vote_account {
    acctdb_pubkey_t    vote_pubkey;
    uint64_t           stake;
    adb_bank_account_t account;
} adb_vote_account_t;

typedef struct adb_stake_history_entry {
    uint64_t epoch;
    uint64_t effective;
    uint64_t activating;
    uint64_t deactivating;
} adb_stake_history_entry_t;

/* Stakes<Delegation> (bank field 29, legacy epoch stakes) or Stakes<Stake>
 * (versioned epoch stakes): is_stake_form says which. */
typedef struct adb_stakes {
    bool                       is_stake_form;
    adb_vote_account_t        *vote_accounts;
    uint64_t                   vote_accounts_cnt;
    adb_stake_delegation_t    *delegations;
    uint64_t                   delegations_cnt;
    uint64_t                   unused;
    uint64_t                   epoch;
    adb_stake_history_entry_t *stake_history;
    uint64_t                   stake_history_cnt;
} adb_stakes_t;

typedef struct adb_node_vote_accounts {
    acctdb_pubkey_t  node_id;
    acctdb_pubkey_t *vote_pubkeys;
    uint64_t         vote_pubkeys_cnt;
    uint64_t         total_stake;
} adb_node_vote_accounts_t;

typedef struct adb_authorized_voter {
    acctdb_pubkey_t vote_pubkey;
    acctdb_pubkey_t voter;
} adb_authorized_voter_t;

/* One epoch-stakes map entry: legacy EpochStakes (bank field 31, FORMAT.md
 * 3.4.5, Stakes<Delegation>) or VersionedEpochStakes (extra field 4,
 * variant u32 then Stakes<Stake>). */
typedef struct adb_epoch_stakes {
    uint64_t                  epoch;   /* map key */
    uint32_t                  variant; /* versioned only: 0 = Current */
    adb_stakes_t              stakes;
    uint64_t                  total_stake;
    adb_node_vote_accounts_t *node_vote_accounts;
    uint64_t                  node_vote_accounts_cnt;
    adb_authorized_voter_t   *authorized_voters;
    uint64_t                  authorized_voters_cnt;
} adb_epoch_stakes_t;

/* ---- BankFields (FORMAT.md 3.3), in wire order ----------------------- */
typedef struct adb_bank_fields {
    adb_blockhash_queue_t   blockhash_queue;
    adb_slot_u64_t         *ancestors; /* (slot, u64) */
    uint64_t                ancestors_cnt;
    acctdb_hash_t           hash;
    acctdb_hash_t           parent_hash;
    uint64_t                parent_slot;
    adb_slot_u64_t         *hard_forks; /* (slot, count) */
    uint64_t                hard_forks_cnt;
    uint64_t                transaction_count;
    uint64_t                tick_height;
    uint64_t                signature_count;
    uint64_t                capitalization;
    uint64_t                max_tick_height;
    bool                    has_hashes_per_tick;
    uint64_t                hashes_per_tick;
    uint64_t                ticks_per_slot;
    unsigned __int128       ns_per_slot;
    int64_t                 genesis_creation_time;
    double                  slots_per_year;
    uint64_t                accounts_data_len;
    uint64_t                slot;
    uint64_t                epoch; /* 0 since ~4.0: use adb_epoch_of */
    uint64_t                block_height;
    acctdb_pubkey_t         leader_id;
    uint64_t                collector_fees;
    uint64_t                fee_calculator;
    adb_fee_rate_governor_t fee_rate_governor;
    uint64_t                collected_rent;
    adb_rent_collector_t    rent_collector;
    adb_epoch_schedule_t    epoch_schedule;
    adb_inflation_t         inflation;
    adb_stakes_t            stakes;
    /* unused_accounts: HashSet<Pubkey>, HashSet<Pubkey>, HashMap<Pubkey,u64> */
    acctdb_pubkey_t    *unused_accounts1;
    uint64_t            unused_accounts1_cnt;
    acctdb_pubkey_t    *unused_accounts2;
    uint64_t            unused_accounts2_cnt;
    adb_pubkey_u64_t   *unused_accounts3;
    uint64_t            unused_accounts3_cnt;
    adb_epoch_stakes_t *epoch_stakes; /* legacy; empty since 2.1 */
    uint64_t            epoch_stakes_cnt;
    bool                is_delta;
} adb_bank_fields_t;

/* ---- ExtraFields (FORMAT.md 3.6; default_on_eof fields 3..8) ---------- */
typedef struct adb_incremental_persistence {
    uint64_t      full_slot;
    acctdb_hash_t full_hash;
    uint64_t      full_capitalization;
    acctdb_hash_t incremental_hash;
    uint64_t      incremental_capitalization;
} adb_incremental_persistence_t;

#define ADB_LTHASH_SZ 2048

typedef struct adb_extra_fields {
    uint64_t                      lamports_per_signature;
    bool                          has_incremental_persistence;
    adb_incremental_persistence_t incremental_persistence;
    bool                          has_epoch_accounts_hash;
    acctdb_hash_t                 epoch_accounts_hash;
    adb_epoch_stakes_t           *versioned_epoch_stakes;
    uint64_t                      versioned_epoch_stakes_cnt;
    bool                          has_accounts_lt_hash;
    uint8_t                       accounts_lt_hash[ADB_LTHASH_SZ]; /* 1024 u16 LE */
    bool                          has_block_id;
    acctdb_hash_t                 block_id;
} adb_extra_fields_t;

/* ---- codecs of the stakes structures (used by the manifest codec and by
 * the bank state this module persists).  Readers are sticky on rd, bound
 * every length by the input left, and allocate from mem; `what` prefixes
 * field paths in messages ("bank.stakes"). */
void adb_bank_pubkeys_read(adb_bc_rd_t *rd, adb_arena_t *mem, acctdb_pubkey_t **arr, uint64_t *cnt,
                           char const *what);
void adb_bank_pubkeys_write(adb_bc_wr_t *wr, acctdb_pubkey_t const *a, uint64_t n);
void adb_bank_delegation_read(adb_bc_rd_t *rd, adb_delegation_t *d, char const *what);
/* Stakes<Delegation> (stake_form false) or Stakes<Stake> (true). */
void adb_bank_stakes_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_stakes_t *st, bool stake_form,
                          char const *what);
void adb_bank_stakes_write(adb_bc_wr_t *wr, adb_stakes_t const *st);
/* The part of an EpochStakes after its map key (and, for the versioned form,
 * its variant): stakes, total_stake, node_id_to_vote_accounts,
 * epoch_authorized_voters. */
void adb_bank_epoch_stakes_body_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_epoch_stakes_t *es,
                                     bool stake_form, char const *what);
void adb_bank_epoch_stakes_body_write(adb_bc_wr_t *wr, adb_epoch_stakes_t const *es);

#endif
