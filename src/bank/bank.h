/* src/bank/bank.h - bank semantics: what a bank is as Agave defines it,
 * beyond its accounts.  The epoch of a slot (warmup included), the sysvars
 * a bank carries, the stakes and epoch stakes that move forward at every
 * epoch boundary, the blockhash queue, slots_per_year, and the checks a
 * snapshot loader applies to all of it.
 *
 * The engine (src/db) owns accounts; this module reads and writes them
 * only through the engine's API.  The snapshot module (above) encodes what
 * this module computes. */
#ifndef ADB_BANK_BANK_H
#define ADB_BANK_BANK_H

#include "bank/bank_sysvar.h"
#include "bank/bank_types.h"

/* ======================================================================== */
/* Epochs (Agave EpochSchedule)                                             */
/* ======================================================================== */

/* MINIMUM_SLOTS_PER_EPOCH: the first warmup epoch's length; each warmup
 * epoch doubles it until first_normal_epoch. */
#define ADB_MIN_SLOTS_PER_EPOCH 32u

/* adb_epoch_schedule_custom: the schedule Agave's EpochSchedule::custom
 * makes: with warmup, first_normal_epoch = log2(next_pow2(slots_per_epoch))
 * - 5 and first_normal_slot = next_pow2(slots_per_epoch) - 32; without,
 * both 0.  slots_per_epoch must be >= 32 (else the result has
 * slots_per_epoch 0, which every function below treats as corrupt). */
adb_epoch_schedule_t adb_epoch_schedule_custom(uint64_t slots_per_epoch,
                                               uint64_t leader_schedule_slot_offset, bool warmup);

/* adb_epoch_of: the epoch of slot; *index_out (may be NULL) the slot's
 * index in it.  A schedule with slots_per_epoch 0 gives first_normal_epoch
 * for every slot past first_normal_slot (it must not divide by zero). */
uint64_t adb_epoch_of(adb_epoch_schedule_t const *es, uint64_t slot);
uint64_t adb_epoch_of_idx(adb_epoch_schedule_t const *es, uint64_t slot, uint64_t *index_out);

/* adb_epoch_slot_cnt: slots in epoch (32 << epoch during warmup). */
uint64_t adb_epoch_slot_cnt(adb_epoch_schedule_t const *es, uint64_t epoch);

/* adb_epoch_first_slot: the first slot of epoch (saturating). */
uint64_t adb_epoch_first_slot(adb_epoch_schedule_t const *es, uint64_t epoch);

/* adb_epoch_leader_schedule: the epoch whose leader schedule a bank at
 * slot knows (Agave get_leader_schedule_epoch): during warmup the next
 * epoch; after it, the epoch of slot + leader_schedule_slot_offset
 * counted from first_normal_slot. */
uint64_t adb_epoch_leader_schedule(adb_epoch_schedule_t const *es, uint64_t slot);

/* adb_epoch_eah_stop: the slot at which the merkle era's epoch accounts
 * hash entered the bank hash in slot's epoch (first slot + 3/4 of the
 * epoch), or UINT64_MAX when the epoch is too short for one (the
 * calculation window, 1/4 to 3/4, under 181 slots). */
uint64_t adb_epoch_eah_stop(adb_epoch_schedule_t const *es, uint64_t slot);

/* ======================================================================== */
/* Vote and stake accounts, and stake activation                            */
/* ======================================================================== */

#define ADB_VOTE_PROGRAM_ID  "Vote111111111111111111111111111111111111111"
#define ADB_STAKE_PROGRAM_ID "Stake11111111111111111111111111111111111111"
/* Feature reduce_stake_warmup_cooldown: the warmup/cooldown rate drops from
 * 0.25 to 0.09 from the epoch of its activation slot. */
#define ADB_FEATURE_NEW_WARMUP_RATE_ID "GwtDQBghCTBgmX2cpEGNPxTEBUTQRaDMGTr5qychdGMj"
#define ADB_FEATURE_PROGRAM_ID         "Feature111111111111111111111111111111111111"

acctdb_pubkey_t const *adb_vote_program_id(void);
acctdb_pubkey_t const *adb_stake_program_id(void);

/* What the bank needs of a vote account's state (Agave VoteStateView):
 * versions 1 (V1_14_11, 3731 B), 2 (V3, 3762 B), 3 (V4, 3762 B). */
#define ADB_VOTE_AUTH_MAX 255
typedef struct adb_vote_state {
    uint32_t        version;
    acctdb_pubkey_t node;
    uint32_t        voters_cnt; /* authorized voters, ascending epoch */
    uint64_t        voter_epoch[ADB_VOTE_AUTH_MAX];
    acctdb_pubkey_t voter[ADB_VOTE_AUTH_MAX];
    uint32_t        credits_cnt;  /* epoch credits: (epoch, credits, prev_credits) */
    bool            credits_sane; /* Firedancer's rules: epochs non-decreasing, chained
                                   * prev_credits, prev <= credits */
    uint64_t last_ts_slot;
    int64_t  last_ts;
} adb_vote_state_t;

/* adb_vote_state_decode: Agave VoteAccount::try_from's parse of the data
 * (version 1..3; lengths of votes, authorized voters and epoch credits at
 * most 255; the structure fits in sz).  Errors: CORRUPT with why in err. */
int adb_vote_state_decode(uint8_t const *data, size_t sz, adb_vote_state_t *out, adb_err_t *err);

/* adb_vote_is_valid: what the stakes cache requires of a vote account:
 * lamports > 0, owner the vote program, correct size and initialized
 * (VoteStateVersions::is_correct_size_and_initialized), and it decodes. */
bool adb_vote_is_valid(acctdb_account_t const *a);

/* adb_vote_authorized_voter: the voter for epoch (the entry with the
 * largest epoch <= epoch); false if none. */
bool adb_vote_authorized_voter(adb_vote_state_t const *vs, uint64_t epoch, acctdb_pubkey_t *out);

/* adb_stake_delegation_decode: a stake account in StakeStateV2::Stake
 * (the only state the stakes cache holds): its delegation (the 8 bytes of
 * the former warmup_cooldown_rate copied as they are) and credits_observed.
 * NOT_FOUND for any other state, owner or a closed account; CORRUPT when
 * too short. */
int adb_stake_delegation_decode(acctdb_account_t const *a, adb_delegation_t *d_out,
                                uint64_t *credits_out);

/* The status of a delegation at an epoch (Agave StakeActivationStatus). */
typedef struct adb_stake_status {
    uint64_t effective, activating, deactivating;
} adb_stake_status_t;

/* adb_stake_status: Agave's Delegation::stake_activating_and_deactivating,
 * the f64 algorithm, bit for bit: warmup and cooldown at 0.25 of the
 * cluster's effective stake per epoch (0.09 from new_rate_epoch on;
 * UINT64_MAX: never), at least one lamport per epoch, bootstrap stakes
 * (activation u64::MAX) always effective, a missing history entry ends the
 * walk.  hist is newest first (any order is accepted: entries are looked
 * up by epoch). */
adb_stake_status_t adb_stake_status(adb_delegation_t const *d, uint64_t target_epoch,
                                    adb_stake_history_entry_t const *hist, size_t hist_cnt,
                                    uint64_t new_rate_epoch);

/* adb_stake_history_add: Agave StakeHistory::add on a newest-first array of
 * capacity ADB_STAKE_HISTORY_MAX: replaces the epoch's entry or inserts it
 * in order, keeping the newest 512. */
void adb_stake_history_add(adb_stake_history_entry_t *hist, uint64_t *cnt,
                           adb_stake_history_entry_t const *e);

/* ======================================================================== */
/* The stakes cache and epoch stakes                                        */
/* ======================================================================== */

/* Where the bank reads accounts from: a view at one slot.  get copies the
 * account's data into *buf (grown with adb_realloc); each_owned calls fn
 * for every live account owned by owner (data valid during the call; any
 * order). */
typedef struct adb_bank_src {
    int (*get)(void *ctx, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t **buf,
               size_t *cap);
    int (*each_owned)(void *ctx, acctdb_pubkey_t const                       *owner,
                      int (*fn)(void *fctx, acctdb_account_t const *a), void *fctx);
    void *ctx;
} adb_bank_src_t;

/* adb_bank_stakes_compute: the stakes cache of a bank whose stakes epoch is
 * epoch, as Agave holds it (and serializes it as the bank's `stakes`):
 * every valid vote account (adb_vote_is_valid) with the effective stake
 * at epoch of the delegations to it, every stake account in the Stake
 * state as a delegation (Stakes<Delegation> form), epoch, and the history
 * given (copied).  Both lists sorted by pubkey.  new_rate_epoch as in
 * adb_stake_status.  Memory from mem.  Errors: the source's, NOMEM. */
int adb_bank_stakes_compute(adb_bank_src_t const *src, uint64_t epoch,
                            adb_stake_history_entry_t const *hist, size_t hist_cnt,
                            uint64_t new_rate_epoch, adb_arena_t *mem, adb_stakes_t *out);

/* adb_bank_epoch_stakes_make: Agave VersionedEpochStakes::new(stakes,
 * leader_schedule_epoch): the staked vote accounts (at most the 2,000 with
 * the most stake, as under the validator admission ticket, SIMD-0357;
 * Firedancer refuses an unstaked one in the leader schedule epoch) with
 * their stakes, delegations dropped (as Agave writes them since #11758),
 * total_stake, and, for those with an authorized voter for
 * leader_schedule_epoch, node -> vote accounts and vote -> voter.  Sorted
 * by pubkey.  Errors: NOMEM, CORRUPT (a vote account that does not
 * decode). */
#define ADB_EPOCH_STAKES_VOTE_MAX 2000
int adb_bank_epoch_stakes_make(adb_stakes_t const *stakes, uint64_t leader_schedule_epoch,
                               adb_arena_t *mem, adb_epoch_stakes_t *out);

/* adb_bank_new_rate_epoch: the epoch the reduced warmup/cooldown rate
 * applies from, read from the feature account through src (UINT64_MAX
 * when the feature is absent or not activated). */
uint64_t adb_bank_new_rate_epoch(adb_bank_src_t const *src, adb_epoch_schedule_t const *es);

/* ======================================================================== */
/* The bank state that moves forward                                        */
/* ======================================================================== */

/* What a bank carries beyond its accounts and its engine info, and changes
 * only at epoch boundaries (and when a new leader schedule epoch needs its
 * stakes): the stakes cache's epoch, the stake history, and the epoch
 * stakes.  The engine keeps it per bank as an opaque blob (adb_eng_ext_*),
 * shared with the parent unless changed, persisted with the durable root;
 * an empty blob means "as the origin manifest says".
 *
 * Blob: "ADBBANK1" | u64 stakes_epoch | Vec<(u64 epoch, entry)> history |
 *       u64 n | n x (u64 epoch, EpochStakes body, Stakes<Stake> form). */
typedef struct adb_bank_state {
    uint64_t                   stakes_epoch;
    adb_stake_history_entry_t *hist; /* newest first; capacity ADB_STAKE_HISTORY_MAX */
    uint64_t                   hist_cnt;
    adb_epoch_stakes_t        *es; /* ascending epoch */
    uint64_t                   es_cnt;
    adb_arena_t                mem;
} adb_bank_state_t;

/* MAX_LEADER_SCHEDULE_STAKES: epoch stakes kept are lse-4 .. lse (Agave
 * since #8584). */
#define ADB_EPOCH_STAKES_KEEP 5

void adb_bank_state_init(adb_bank_state_t *st);
void adb_bank_state_fini(adb_bank_state_t *st);

/* adb_bank_state_from_origin: the state a manifest's bank carries: its
 * stakes' epoch and history, and its epoch stakes (versioned, plus a
 * merkle-era manifest's legacy map). */
int adb_bank_state_from_origin(adb_bank_fields_t const *b, adb_extra_fields_t const *x,
                               adb_bank_state_t *out);

int adb_bank_state_decode(void const *p, size_t sz, adb_bank_state_t *out, adb_err_t *err);
int adb_bank_state_encode(adb_bank_state_t const *st, uint8_t **buf_out, size_t *sz_out);

adb_epoch_stakes_t const *adb_bank_state_epoch_stakes(adb_bank_state_t const *st, uint64_t epoch);

/* adb_bank_state_advance: what Agave does as a bank at slot is created on
 * a parent whose accounts src shows: if the slot's epoch is past the
 * stakes epoch, the stake history gains the finished epoch's entry (every
 * delegation's status at it) and the stakes epoch moves; then, if the
 * slot's leader schedule epoch has no epoch stakes, they are made from the
 * stakes at the (new) epoch, keeping the newest ADB_EPOCH_STAKES_KEEP.
 * *changed_out tells whether anything moved; *new_epoch_out whether the
 * stakes epoch did (the StakeHistory sysvar is then rewritten). */
int adb_bank_state_advance(adb_bank_state_t *st, adb_bank_src_t const *parent,
                           adb_epoch_schedule_t const *es, uint64_t slot, uint64_t new_rate_epoch,
                           bool *changed_out, bool *new_epoch_out);

/* ======================================================================== */
/* Clusters, fees, years                                                     */
/* ======================================================================== */

/* adb_years_as_slots: Agave's years_as_slots(1.0, tick, ticks_per_slot):
 * 1.0 * (365.242199 * 24 * 60 * 60) * (1e9 / tick_ns) / ticks_per_slot, in
 * that order, in doubles (6.25 ms ticks, 64 per slot: 78892314.984). */
double adb_years_as_slots(uint64_t tick_ns, uint64_t ticks_per_slot);

/* adb_fee_lps_derived: Agave FeeRateGovernor::new_derived's
 * lamports_per_signature for a bank whose parent had parent_lps and
 * parent_signatures (target_signatures_per_slot 0: the target). */
uint64_t adb_fee_lps_derived(adb_fee_rate_governor_t const *g, uint64_t parent_lps,
                             uint64_t parent_signatures);

/* ======================================================================== */
/* Banks of a live database                                                 */
/* ======================================================================== */

struct adb_db;

/* The origin: the manifest a database was created from (or that its
 * genesis implies).  Its fixed fields are the cluster's (ticks, epoch
 * schedule, fees, inflation, hard forks ...); its queue and block height
 * anchor the blockhash queue. */
typedef struct adb_bank_origin {
    adb_bank_fields_t const  *b;
    adb_extra_fields_t const *x;
} adb_bank_origin_t;

/* adb_bank_begin: creates the bank at slot on parent (frozen, or the root)
 * as Agave's Bank::new_from_parent does, before any transaction: the bank
 * state advances (adb_bank_state_advance; a changed state is attached to
 * the bank), then the sysvars: SlotHashes gains (parent, parent's bank
 * hash), StakeHistory is rewritten at a new epoch, Clock (slot, epoch,
 * leader schedule epoch, epoch_start_timestamp reset at a new epoch,
 * unix_timestamp: the caller's, never below the parent's), SlotHistory
 * records slot.  Each sysvar keeps its lamports and rent_epoch (new ones:
 * 1 and 0), raised to the Rent sysvar's minimum balance.  Errors: those of
 * the engine (in adb_eng_err), CORRUPT (a malformed sysvar or bank state). */
int adb_bank_begin(struct adb_db *db, adb_bank_origin_t const *o, uint64_t slot, uint64_t parent,
                   int64_t unix_timestamp);

/* adb_bank_freeze: freezes slot as Agave's last tick and freeze do: the
 * fee (lamports_per_signature derived from the parent's), and, for a bank
 * begun with adb_bank_begin, the RecentBlockhashes sysvar from the
 * blockhash queue with this bank's blockhash registered; then the engine's
 * freeze with the hard forks in (parent, slot]. */
int adb_bank_freeze(struct adb_db *db, adb_bank_origin_t const *o, uint64_t slot,
                    acctdb_bank_meta_t const *meta, acctdb_bank_info_t *info_out);

/* adb_bank_queue_make: the blockhash queue of a bank whose chain of banks,
 * newest first, is chain[0..n) (chain[0] the bank itself, each frozen):
 * one entry per bank with index origin.last_hash_index + (block height -
 * origin block height), then the origin's entries, the newest max_age + 1
 * kept.  Memory from mem. */
int adb_bank_queue_make(adb_bank_origin_t const *o, acctdb_bank_info_t const *chain, size_t n,
                        adb_arena_t *mem, adb_blockhash_queue_t *out);

/* adb_bank_fields_make: the bank fields and extra fields of the frozen bank
 * chain[0] (chain[0..n) its rooted chain, newest first) with bank state st
 * and accounts src, as a snapshot carries them: the origin's cluster
 * fields; the bank's slot, heights, counts, hashes, capitalization; epoch
 * and rent collector for the slot; stakes computed from src's vote and
 * stake accounts; st's epoch stakes and stake history; the blockhash queue
 * of the chain (adb_bank_queue_make); ancestors (the chain, at most 32);
 * complete tick heights; lamports per signature; the lattice hash;
 * block_id when the bank has one.  Memory from mem. */
int adb_bank_fields_make(adb_bank_origin_t const *o, acctdb_bank_info_t const *chain,
                         size_t chain_cnt, adb_bank_state_t const *st, adb_bank_src_t const *src,
                         adb_arena_t *mem, adb_bank_fields_t *b_out, adb_extra_fields_t *x_out);

/* adb_bank_manifest_fill: the bank fields and extra fields a snapshot of
 * the durable root carries (between adb_eng_snap_begin and _end): the
 * origin's cluster fields; the root's slot, heights, counts, hashes,
 * capitalization; epoch and rent collector for the slot; the stakes
 * computed from the root's vote and stake accounts; the epoch stakes and
 * stake history of the root's bank state; the blockhash queue of the rooted
 * chain (hist, oldest first, the root last); ancestors (the root and its
 * rooted parents, at most 32); tick heights complete; lamports per
 * signature; the lattice hash; block_id when the root has one.  The bank
 * hash is left to the writer.  Memory from mem. */
int adb_bank_manifest_fill(struct adb_db *db, adb_bank_origin_t const *o,
                           acctdb_bank_info_t const *root, acctdb_bank_info_t const *hist,
                           uint32_t hist_cnt, adb_arena_t *mem, adb_bank_fields_t *b_out,
                           adb_extra_fields_t *x_out);

/* adb_bank_rent: the Rent sysvar of the bank at slot (the origin's rent
 * collector's when the sysvar is absent or malformed). */
adb_rent_t adb_bank_rent(struct adb_db *db, adb_bank_origin_t const *o, uint64_t slot);

/* adb_bank_engine_src: a source reading the live bank at slot (ctx is an
 * adb_bank_eng_src_t the caller keeps). */
typedef struct adb_bank_eng_src {
    struct adb_db *db;
    uint64_t       slot;
    bool           durable; /* read the durable root (during a snapshot) */
} adb_bank_eng_src_t;
adb_bank_src_t adb_bank_engine_src(adb_bank_eng_src_t *c);

/* ======================================================================== */
/* The genesis bank                                                         */
/* ======================================================================== */

/* What of a genesis config the bank needs (src/snapshot decodes the file). */
typedef struct adb_bank_genesis {
    acctdb_hash_t           hash; /* SHA-256 of genesis.bin */
    int64_t                 creation_time;
    uint64_t                ticks_per_slot;
    uint64_t                tick_ns; /* poh_config.target_tick_duration */
    bool                    has_hashes_per_tick;
    uint64_t                hashes_per_tick;
    adb_fee_rate_governor_t fee_rate_governor;
    adb_rent_t              rent;
    adb_inflation_t         inflation;
    adb_epoch_schedule_t    epoch_schedule;
} adb_bank_genesis_t;

/* The sysvar accounts of the genesis bank (each at its fixed size, rent
 * exempt under the genesis rent): StakeHistory (empty), Clock (slot 0,
 * timestamps = creation time), Rent, EpochSchedule, RecentBlockhashes (the
 * genesis hash, fee 0), SlotHistory (slot 0).  a[i].data points into the
 * struct. */
typedef struct adb_bank_genesis_sysvars {
    uint8_t          clock[ADB_SYSVAR_CLOCK_SZ];
    uint8_t          rent[ADB_BANK_RENT_SZ];
    uint8_t          epoch_schedule[ADB_BANK_EPOCH_SCHEDULE_SZ];
    uint8_t          stake_history[ADB_SYSVAR_STAKE_HISTORY_SZ];
    uint8_t          recent[ADB_SYSVAR_RECENT_BH_SZ];
    uint8_t          slot_history[ADB_SYSVAR_SLOT_HISTORY_SZ];
    acctdb_account_t a[6];
    size_t           cnt;
} adb_bank_genesis_sysvars_t;

void adb_bank_genesis_sysvars(adb_bank_genesis_t const *g, adb_bank_genesis_sysvars_t *out);

/* adb_bank_genesis_fields: the bank fields and extra fields of bank 0 over
 * the genesis state whose accounts src shows (the genesis accounts and the
 * sysvars above) with lattice hash lt, capitalization and data length:
 * stakes from the vote and stake accounts, epoch stakes for 0 .. leader
 * schedule epoch of slot 0, the queue holding the genesis hash (index 0),
 * slots_per_year = adb_years_as_slots, the bank hash computed (zero
 * parent).  Memory from mem. */
int adb_bank_genesis_fields(adb_bank_genesis_t const *g, adb_bank_src_t const *src,
                            acctdb_lthash_t const *lt, uint64_t capitalization, uint64_t data_len,
                            adb_arena_t *mem, adb_bank_fields_t *b, adb_extra_fields_t *x);

/* ======================================================================== */
/* What loaders check                                                       */
/* ======================================================================== */

enum { ADB_BANK_CHECK_PASS = 0, ADB_BANK_CHECK_FAIL = 1, ADB_BANK_CHECK_SKIP = 2 };

/* One named result: name ("epoch stakes", "Clock sysvar", ...), status,
 * detail (both values when they differ, or why it was skipped). */
typedef void (*adb_bank_check_fn)(void *ctx, char const *name, int status, char const *detail);

typedef struct adb_bank_check_in {
    adb_bank_fields_t const  *b;
    adb_extra_fields_t const *x;
    bool                      v41;        /* the manifest carries block_id: Agave 4.1+ */
    bool                      merkle_era; /* no lattice hash: the legacy epoch stakes count */
    adb_bank_genesis_t const *genesis;    /* the cluster's; NULL skips the genesis checks */
    adb_bank_src_t const     *src;        /* the bank's accounts */
} adb_bank_check_in_t;

/* adb_bank_check: the bank checks of Agave's new_from_snapshot,
 * verify_epoch_stakes and its stakes cache load, Sig's bank validation and
 * Firedancer's manifest validation, and the sysvars against the manifest,
 * in this order: max tick height, tick height, epoch schedule, epoch,
 * genesis creation time, ticks per slot, ns per slot, slots per year, epoch
 * schedule vs genesis, rent collector, ancestors, legacy epoch stakes,
 * epoch stakes, epoch stakes contents, stakes cache, blockhash queue, block
 * id, then the Clock, SlotHashes, SlotHistory, EpochSchedule, Rent,
 * StakeHistory and RecentBlockhashes sysvars.  Each comes to fn once.
 * Returns 0 (the verdicts are fn's). */
int adb_bank_check(adb_bank_check_in_t const *in, adb_bank_check_fn fn, void *ctx);

/* The names adb_bank_check reports, in its order. */
#define ADB_BANK_CHECK_CNT 24
extern char const *const adb_bank_check_names[ADB_BANK_CHECK_CNT];

#endif
