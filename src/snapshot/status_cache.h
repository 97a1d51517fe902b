/* src/snapshot/status_cache.h - the snapshot status cache
 * (`snapshots/status_cache`, FORMAT.md section 4): bincode Vec<SlotDelta>,
 * decoded and encoded byte for byte, and Agave's load-time validation
 * against the SlotHistory sysvar (verify_slot_deltas).
 *
 * FIDELITY.  Maps are arrays in wire order, every TransactionError and
 * InstructionError payload is kept (including the BorshIoError string), and
 * bytes after the Vec are kept opaque in `trailing` and re-emitted, so
 * encode(decode(b)) == b for every b that decodes.
 *
 * HOSTILE INPUT.  As for the manifest (manifest.h): bounded length
 * prefixes, one memory budget per decode (default ADB_SNAP_BUDGET(sz)),
 * enum indices checked against the known ranges (TransactionError 0..38,
 * InstructionError 0..53: an unknown index cannot be skipped, its payload
 * size is unknown), Strings must be UTF-8.  Messages read
 * "status_cache: offset N: <field>: <what>". */
#ifndef ADB_SNAPSHOT_STATUS_CACHE_H
#define ADB_SNAPSHOT_STATUS_CACHE_H

#include "snapshot/bincode_types.h"
#include "bank/bank_sysvar.h"

#define ADB_TX_ERR_MAX 38 /* highest TransactionError variant index */
#define ADB_IX_ERR_MAX 53 /* highest InstructionError variant index */

/* Variant indices that carry a payload. */
#define ADB_TX_ERR_INSTRUCTION_ERROR            8  /* (u8, InstructionError) */
#define ADB_TX_ERR_DUPLICATE_INSTRUCTION        30 /* (u8) */
#define ADB_TX_ERR_INSUFFICIENT_FUNDS_FOR_RENT  31 /* { account_index: u8 } */
#define ADB_TX_ERR_PROGRAM_EXECUTION_RESTRICTED 35 /* { account_index: u8 } */
#define ADB_IX_ERR_CUSTOM                       25 /* (u32) */
#define ADB_IX_ERR_BORSH_IO_ERROR               44 /* (String) */

/* MAX_CACHE_ENTRIES: slots kept in the cache and checked against history. */
#define ADB_STATUS_CACHE_MAX_ENTRIES 300

/* Result<(), TransactionError>. */
typedef struct adb_tx_result {
    bool     is_err;
    uint32_t tx_err; /* TransactionError variant (when is_err) */
    uint8_t  index;  /* u8 payload of variants 8, 30, 31, 35 */
    uint32_t ix_err; /* InstructionError variant (tx_err == 8) */
    uint32_t custom; /* Custom code (ix_err == 25) */
    uint8_t *borsh;  /* BorshIoError text (ix_err == 44), UTF-8, not NUL-terminated */
    uint64_t borsh_sz;
} adb_tx_result_t;

/* One (KeySlice, Result) entry. */
typedef struct adb_status_entry {
    uint8_t         key_slice[20];
    adb_tx_result_t result;
} adb_status_entry_t;

/* One status map entry: blockhash -> (key_index, Vec<(KeySlice, Result)>). */
typedef struct adb_status_bucket {
    acctdb_hash_t       blockhash;
    uint64_t            key_index;
    adb_status_entry_t *entries;
    uint64_t            entries_cnt;
} adb_status_bucket_t;

typedef struct adb_slot_delta {
    uint64_t             slot;
    bool                 is_root;
    adb_status_bucket_t *buckets;
    uint64_t             buckets_cnt;
} adb_slot_delta_t;

typedef struct adb_status_cache {
    adb_slot_delta_t *deltas;
    uint64_t          deltas_cnt;
    uint8_t          *trailing; /* bytes after the Vec (none in real files) */
    uint64_t          trailing_sz;
    adb_arena_t       mem; /* owns every array above */
} adb_status_cache_t;

/* adb_status_cache_init: an empty cache (no deltas); arrays may be set by
 * the caller, from adb_status_cache_alloc or its own memory.  Allocates
 * nothing. */
void adb_status_cache_init(adb_status_cache_t *sc);

/* adb_status_cache_fini: frees what sc owns and zeroes it.  Safe on a
 * zeroed or finished cache. */
void adb_status_cache_fini(adb_status_cache_t *sc);

/* adb_status_cache_alloc: sz zeroed bytes owned by sc; NULL on failure. */
void *adb_status_cache_alloc(adb_status_cache_t *sc, size_t sz);

/* adb_status_cache_decode: decodes buf[0..sz) into *sc_out (zeroed first;
 * finished again on failure).  alloc_max 0 means ADB_SNAP_BUDGET(sz).
 * Errors: ACCTDB_ERR_CORRUPT, ACCTDB_ERR_NOMEM, with *err_out (may be
 * NULL) holding the message. */
int adb_status_cache_decode(void const *buf, size_t sz, size_t alloc_max,
                            adb_status_cache_t *sc_out, adb_err_t *err_out);

/* adb_status_cache_encode: appends the bincode of sc to wr.  Returns wr's
 * sticky error, or ACCTDB_ERR_INVALID (nothing written) for a variant index
 * outside the known ranges. */
int adb_status_cache_encode(adb_status_cache_t const *sc, adb_bc_wr_t *wr);

/* adb_status_cache_encode_buf: the bincode in a new buffer (adb_free). */
int adb_status_cache_encode_buf(adb_status_cache_t const *sc, uint8_t **buf_out, size_t *sz_out);

/* adb_status_cache_verify: Agave's verify_slot_deltas, given the bank slot
 * and the snapshot's SlotHistory sysvar:
 *   - at most 300 deltas; every delta is_root; slot <= bank_slot; no slot
 *     twice;
 *   - SlotHistory.newest == bank_slot;
 *   - every delta's slot is found in SlotHistory;
 *   - each of the 300 most recent slots found in SlotHistory has a delta.
 * Returns 0 or ACCTDB_ERR_CORRUPT with a message naming the rule and the
 * slot in *err_out (may be NULL).  Allocates nothing. */
int adb_status_cache_verify(adb_status_cache_t const *sc, uint64_t bank_slot,
                            adb_slot_history_t const *sh, adb_err_t *err_out);

/* Names of the variants ("InstructionError", "Custom"; "?" if unknown). */
char const *adb_tx_err_name(uint32_t v);
char const *adb_ix_err_name(uint32_t v);

struct adb_json;

/* adb_status_cache_json: the cache as a JSON value: {"slot_deltas": [
 * {"slot", "is_root", "status": [{"blockhash" (hex), "key_index",
 * "entries": [{"key_slice" (hex), "result": {"type": "Ok"} or {"type":
 * "Err", "transaction_error": {"type": NAME, "index": variant, ...}}}]}]}],
 * "trailing_hex"}. */
void adb_status_cache_json(struct adb_json *j, adb_status_cache_t const *sc);

#endif
