/* src/snapshot/genesis.h - genesis.bin (bincode GenesisConfig, FORMAT.md
 * section 8), decoded and encoded byte for byte; the genesis hash is the
 * SHA-256 of the file's bytes.
 *
 * Fidelity and hostile-input rules are the manifest's (manifest.h): maps
 * as arrays in wire order, bytes after cluster_type kept in `trailing`,
 * bounded length prefixes, one memory budget per decode, Strings checked
 * for UTF-8, cluster_type checked (0..3).  Messages read
 * "genesis: offset N: <field>: <what>". */
#ifndef ADB_SNAPSHOT_GENESIS_H
#define ADB_SNAPSHOT_GENESIS_H

#include "snapshot/bincode_types.h"

#include <stdio.h>

enum {
    ADB_CLUSTER_TESTNET = 0,
    ADB_CLUSTER_MAINNET_BETA = 1,
    ADB_CLUSTER_DEVNET = 2,
    ADB_CLUSTER_DEVELOPMENT = 3,
    ADB_CLUSTER_MAX = 3,
};

/* An accounts / rewards_pools map entry: HashMap<Pubkey, Account>. */
typedef struct adb_genesis_account {
    acctdb_pubkey_t    pubkey;
    adb_bank_account_t account;
} adb_genesis_account_t;

/* A native_instruction_processors entry: (String name, Pubkey id). */
typedef struct adb_genesis_program {
    uint8_t        *name; /* UTF-8, not NUL-terminated */
    uint64_t        name_sz;
    acctdb_pubkey_t program_id;
} adb_genesis_program_t;

typedef struct adb_poh_config {
    uint64_t target_tick_secs; /* target_tick_duration: Duration {secs, nanos} */
    uint32_t target_tick_nanos;
    bool     has_target_tick_count;
    uint64_t target_tick_count;
    bool     has_hashes_per_tick;
    uint64_t hashes_per_tick;
} adb_poh_config_t;

typedef struct adb_genesis {
    int64_t                 creation_time; /* unix seconds */
    adb_genesis_account_t  *accounts;
    uint64_t                accounts_cnt;
    adb_genesis_program_t  *native_instruction_processors;
    uint64_t                native_instruction_processors_cnt;
    adb_genesis_account_t  *rewards_pools;
    uint64_t                rewards_pools_cnt;
    uint64_t                ticks_per_slot;
    uint64_t                unused; /* 1024 in real files */
    adb_poh_config_t        poh_config;
    uint64_t                backwards_compat_with_v0_23; /* 0 */
    adb_fee_rate_governor_t fee_rate_governor;
    adb_rent_t              rent;
    adb_inflation_t         inflation;
    adb_epoch_schedule_t    epoch_schedule;
    uint32_t                cluster_type; /* ADB_CLUSTER_* */
    uint8_t                *trailing;     /* bytes after cluster_type */
    uint64_t                trailing_sz;
    acctdb_hash_t           hash; /* set by decode: SHA-256 of the input */
    adb_arena_t             mem;  /* owns every array above */
} adb_genesis_t;

/* adb_genesis_init: an empty genesis (everything zero, cluster Testnet);
 * arrays may point at adb_genesis_alloc memory or the caller's own.
 * Allocates nothing. */
void adb_genesis_init(adb_genesis_t *g);

/* adb_genesis_fini: frees what g owns and zeroes it (safe twice). */
void adb_genesis_fini(adb_genesis_t *g);

/* adb_genesis_alloc: sz zeroed bytes owned by g; NULL on failure. */
void *adb_genesis_alloc(adb_genesis_t *g, size_t sz);

/* adb_genesis_decode: decodes buf[0..sz) into *g_out (zeroed first;
 * finished again on failure) and sets g_out->hash = SHA-256(buf).
 * alloc_max 0 means ADB_SNAP_BUDGET(sz).  Errors: ACCTDB_ERR_CORRUPT,
 * ACCTDB_ERR_NOMEM, ACCTDB_ERR_FATAL (libcrypto), message in *err_out (may
 * be NULL). */
int adb_genesis_decode(void const *buf, size_t sz, size_t alloc_max, adb_genesis_t *g_out,
                       adb_err_t *err_out);

/* adb_genesis_encode: appends the bincode of g to wr (g->hash is not part
 * of it).  Returns wr's sticky error, or ACCTDB_ERR_INVALID (nothing
 * written) for a cluster_type above ADB_CLUSTER_MAX. */
int adb_genesis_encode(adb_genesis_t const *g, adb_bc_wr_t *wr);

/* adb_genesis_encode_buf: the bincode in a new buffer (adb_free). */
int adb_genesis_encode_buf(adb_genesis_t const *g, uint8_t **buf_out, size_t *sz_out);

/* adb_genesis_cluster_name: "testnet", "mainnet-beta", "devnet",
 * "development", or "?" */
char const *adb_genesis_cluster_name(uint32_t cluster_type);

struct adb_json;

/* adb_genesis_json: every field as one JSON object ("hash" base58; account
 * data hex; maps as arrays of objects in wire order). */
void adb_genesis_json(struct adb_json *j, adb_genesis_t const *g);

#endif
