/* src/snapshot/bincode_types.h - pieces shared by the snapshot bincode
 * codecs (manifest, status cache, genesis, sysvars): the memory a decoded
 * value owns, and the small runtime types that appear in more than one of
 * them (FORMAT.md 3.4.2, 3.4.4).
 *
 * MEMORY.  A decoded value owns one adb_snap_mem_t: a list of blocks from
 * adb_malloc, freed together by adb_snap_mem_fini.  It counts the bytes it
 * hands out against a budget fixed at init, so hostile input cannot make a
 * decoder allocate more than the budget even where every length prefix is
 * individually plausible.  Every array and byte string inside a decoded
 * value points into its mem (never into the input buffer).
 *
 * Readers take the adb_bc_rd_t of the surrounding decode and record their
 * failures in it (sticky, with the byte offset); `what` names the field in
 * messages.  Writers append to an adb_bc_wr_t and never fail by themselves
 * (the writer's sticky error reports NOMEM/FULL). */
#ifndef ADB_SNAPSHOT_BINCODE_TYPES_H
#define ADB_SNAPSHOT_BINCODE_TYPES_H

#include "util/bincode.h"

/* Default allocation budget of one decode of sz input bytes. */
#define ADB_SNAP_BUDGET(sz)                                                                        \
    ((sz) > (SIZE_MAX - (1u << 20)) / 16 ? SIZE_MAX : 16 * (sz) + (1u << 20))

typedef struct adb_snap_mem {
    struct adb_snap_block *head;
    size_t                 used_sz;  /* bytes handed out so far */
    size_t                 max_sz;   /* budget */
    size_t                 block_sz; /* size of the next shared block */
} adb_snap_mem_t;

/* adb_snap_mem_init: an empty mem with a budget of max_sz bytes (0 means
 * unlimited).  Allocates nothing. */
void adb_snap_mem_init(adb_snap_mem_t *mem, size_t max_sz);

/* adb_snap_mem_alloc: sz zeroed bytes, 16-aligned, owned by mem.  NULL if
 * the budget would be exceeded or adb_malloc fails (sz == 0 also gives a
 * valid pointer). */
void *adb_snap_mem_alloc(adb_snap_mem_t *mem, size_t sz);

/* adb_snap_mem_fini: frees every block; mem is empty again (budget kept).
 * Safe on a zeroed or already-finished mem. */
void adb_snap_mem_fini(adb_snap_mem_t *mem);

/* adb_snap_arr_alloc: an array of cnt zeroed elements of elem_sz bytes from
 * mem, for a decode in progress: on overflow, budget or allocation failure
 * records ACCTDB_ERR_NOMEM in rd (naming `what`, the count and the budget)
 * and returns NULL.  cnt == 0 returns NULL without an error.  Does nothing
 * if rd already failed. */
void *adb_snap_arr_alloc(adb_bc_rd_t *rd, adb_snap_mem_t *mem, uint64_t cnt, size_t elem_sz,
                         char const *what);

/* adb_snap_bytes_read: a Vec<u8>/serde_bytes value (u64 length + bytes)
 * copied into mem.  *sz_out gets the length; NULL when empty or on error. */
uint8_t *adb_snap_bytes_read(adb_bc_rd_t *rd, adb_snap_mem_t *mem, uint64_t *sz_out,
                             char const *what);

/* adb_snap_string_read: like adb_snap_bytes_read for a Rust String: the
 * bytes must be valid UTF-8 (serde rejects anything else), else CORRUPT. */
uint8_t *adb_snap_string_read(adb_bc_rd_t *rd, adb_snap_mem_t *mem, uint64_t *sz_out,
                              char const *what);

/* adb_snap_utf8_valid: true if b[0..n) is well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
bool adb_snap_utf8_valid(uint8_t const *b, size_t n);

/* ---- the serde form of solana_account::Account (FORMAT.md 3.4.4) --------
 * lamports u64, data Vec<u8>, owner Pubkey, executable bool, rent_epoch
 * u64: 57 bytes plus the data. */
#define ADB_SNAP_ACCOUNT_MIN_SZ 57

typedef struct adb_snap_account {
    uint64_t        lamports;
    uint8_t        *data; /* data_sz bytes, or NULL when empty */
    uint64_t        data_sz;
    acctdb_pubkey_t owner;
    bool            executable;
    uint64_t        rent_epoch;
} adb_snap_account_t;

void adb_snap_account_read(adb_bc_rd_t *rd, adb_snap_mem_t *mem, adb_snap_account_t *out,
                           char const *what);
void adb_snap_account_write(adb_bc_wr_t *wr, adb_snap_account_t const *a);

/* ---- FeeRateGovernor (33 B on the wire; FORMAT.md 3.4.2) ----------------
 * The in-memory lamports_per_signature is serde-skipped and not here. */
#define ADB_SNAP_FEE_RATE_GOVERNOR_SZ 33

typedef struct adb_fee_rate_governor {
    uint64_t target_lamports_per_signature;
    uint64_t target_signatures_per_slot;
    uint64_t min_lamports_per_signature;
    uint64_t max_lamports_per_signature;
    uint8_t  burn_percent;
} adb_fee_rate_governor_t;

void adb_snap_fee_rate_governor_read(adb_bc_rd_t *rd, adb_fee_rate_governor_t *out,
                                     char const *what);
void adb_snap_fee_rate_governor_write(adb_bc_wr_t *wr, adb_fee_rate_governor_t const *v);

/* ---- Rent (17 B): also the data of the Rent sysvar ----------------------- */
#define ADB_SNAP_RENT_SZ 17

typedef struct adb_rent {
    uint64_t lamports_per_byte_year;
    double   exemption_threshold;
    uint8_t  burn_percent;
} adb_rent_t;

void adb_snap_rent_read(adb_bc_rd_t *rd, adb_rent_t *out, char const *what);
void adb_snap_rent_write(adb_bc_wr_t *wr, adb_rent_t const *v);

/* ---- EpochSchedule (33 B): also the data of the EpochSchedule sysvar ---- */
#define ADB_SNAP_EPOCH_SCHEDULE_SZ 33

typedef struct adb_epoch_schedule {
    uint64_t slots_per_epoch;
    uint64_t leader_schedule_slot_offset;
    bool     warmup;
    uint64_t first_normal_epoch;
    uint64_t first_normal_slot;
} adb_epoch_schedule_t;

void adb_snap_epoch_schedule_read(adb_bc_rd_t *rd, adb_epoch_schedule_t *out, char const *what);
void adb_snap_epoch_schedule_write(adb_bc_wr_t *wr, adb_epoch_schedule_t const *v);

/* adb_epoch_schedule_epoch: the epoch of slot under es (warmup epochs double
 * from 32 slots until first_normal_slot, then slots_per_epoch each).  Slots
 * per epoch of 0 gives epoch first_normal_epoch (a corrupt schedule must not
 * divide by zero). */
uint64_t adb_epoch_schedule_epoch(adb_epoch_schedule_t const *es, uint64_t slot);

/* ---- Inflation (48 B: six f64) ------------------------------------------- */
#define ADB_SNAP_INFLATION_SZ 48

typedef struct adb_inflation {
    double initial;
    double terminal;
    double taper;
    double foundation;
    double foundation_term;
    double unused;
} adb_inflation_t;

void adb_snap_inflation_read(adb_bc_rd_t *rd, adb_inflation_t *out, char const *what);
void adb_snap_inflation_write(adb_bc_wr_t *wr, adb_inflation_t const *v);

#endif
