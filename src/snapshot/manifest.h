/* src/snapshot/manifest.h - the snapshot manifest (`snapshots/<S>/<S>`):
 * BankFields || AccountsDbFields || ExtraFields, FORMAT.md section 3, as a
 * C struct, decoded and encoded byte for byte.
 *
 * FIDELITY.  adb_manifest_encode(adb_manifest_decode(b)) == b for every b
 * that decodes:
 *   - every HashMap/HashSet is an array in wire order (duplicates kept);
 *   - the eight default_on_eof fields (accounts-db historical_roots,
 *     historical_roots_with_hash, and the six extra fields) are recorded as
 *     present or absent: present_cnt says how many of them were on the wire,
 *     in order (see ADB_MANIFEST_HAS).  Input ending exactly at the start of
 *     one of them makes it and every later one absent; input ending inside a
 *     field is CORRUPT;
 *   - bytes after the last known field (block_id) are kept opaque in
 *     `trailing` and re-emitted (a newer writer's fields);
 *   - u128 stays u128, f64 keeps its bits, Options keep None vs Some(0).
 *
 * HOSTILE INPUT.  Every length prefix is bounded by the bytes that remain
 * divided by the element's minimum wire size before anything is allocated,
 * and all memory of one decode comes from one adb_arena_t with a budget
 * (default ADB_SNAP_BUDGET(sz) = 16 x input + 1 MiB).  bool bytes, Option
 * tags and enum variants are checked by the reader.  Every failure leaves
 * a message "manifest: offset N: <field path>: <what>" in *err_out.
 *
 * SEMANTICS are not checked by decode; adb_manifest_check does that.
 *
 * Threads: a manifest is a plain value; concurrent reads are fine. */
#ifndef ADB_SNAPSHOT_MANIFEST_H
#define ADB_SNAPSHOT_MANIFEST_H

#include "bank/bank_types.h"
#include "snapshot/bincode_types.h"

#include <stdio.h>

/* ---- AccountsDbFields (FORMAT.md 3.5) -------------------------------- */
typedef struct adb_storage_entry {
    uint64_t id;
    uint64_t current_len;
} adb_storage_entry_t;

/* One storages map entry: slot -> Vec<StorageEntry> (exactly 1 entry in
 * any valid manifest; adb_manifest_check enforces it). */
typedef struct adb_storage_slot {
    uint64_t             slot;
    adb_storage_entry_t *entries;
    uint64_t             entries_cnt;
} adb_storage_slot_t;

typedef struct adb_bank_hash_info {
    acctdb_hash_t accounts_delta_hash; /* obsolete, zeros in 3.x+ */
    acctdb_hash_t accounts_hash;       /* obsolete, zeros in 3.x+ */
    uint64_t      num_updated_accounts;
    uint64_t      num_removed_accounts;
    uint64_t      num_lamports_stored;
    uint64_t      total_data_len;
    uint64_t      num_executable_accounts;
} adb_bank_hash_info_t;

typedef struct adb_accounts_db_fields {
    adb_storage_slot_t  *storages;
    uint64_t             storages_cnt;
    uint64_t             write_version;
    uint64_t             slot;
    adb_bank_hash_info_t bank_hash_info;
    uint64_t            *historical_roots; /* default_on_eof field 1 */
    uint64_t             historical_roots_cnt;
    adb_slot_hash_t     *historical_roots_with_hash; /* default_on_eof field 2 */
    uint64_t             historical_roots_with_hash_cnt;
} adb_accounts_db_fields_t;

/* The default_on_eof fields, numbered in wire order: the field numbered k
 * is on the wire iff present_cnt >= k. */
enum {
    ADB_MANIFEST_F_HISTORICAL_ROOTS = 1,
    ADB_MANIFEST_F_HISTORICAL_ROOTS_WITH_HASH = 2,
    ADB_MANIFEST_F_LAMPORTS_PER_SIGNATURE = 3,
    ADB_MANIFEST_F_INCREMENTAL_PERSISTENCE = 4,
    ADB_MANIFEST_F_EPOCH_ACCOUNTS_HASH = 5,
    ADB_MANIFEST_F_VERSIONED_EPOCH_STAKES = 6,
    ADB_MANIFEST_F_ACCOUNTS_LT_HASH = 7,
    ADB_MANIFEST_F_BLOCK_ID = 8,
    ADB_MANIFEST_F_ALL = 8,
};
#define ADB_MANIFEST_HAS(m, f) ((m)->present_cnt >= (f))

typedef struct adb_manifest {
    adb_bank_fields_t        bank;
    adb_accounts_db_fields_t accounts_db;
    adb_extra_fields_t       extra;
    uint32_t                 present_cnt; /* 0..ADB_MANIFEST_F_ALL */
    uint8_t                 *trailing;    /* unknown bytes after block_id */
    uint64_t                 trailing_sz;
    adb_arena_t              mem; /* owns every array above */
} adb_manifest_t;

/* adb_manifest_init: a fresh manifest as Agave 4.x would write it for a new
 * snapshot: every field zero or empty (ancestors, hard forks, stakes,
 * unused_accounts, legacy epoch_stakes, storages, historical roots, rent
 * collector all zeroed, epoch 0, write_version 0), blockhash_queue.max_age
 * 300, every default_on_eof field present (present_cnt = F_ALL) with
 * incremental persistence and EAH None, accounts_lt_hash Some(zeros) and
 * block_id Some(zeros).  The caller fills the rest as plain struct fields;
 * arrays may point at memory from adb_manifest_alloc (freed by fini) or at
 * the caller's own memory (which must outlive every use of m).  Allocates
 * nothing; cannot fail. */
void adb_manifest_init(adb_manifest_t *m);

/* adb_manifest_fini: frees everything m owns and zeroes it.  Safe on a
 * zeroed, initialized, decoded or already-finished manifest. */
void adb_manifest_fini(adb_manifest_t *m);

/* adb_manifest_alloc: sz zeroed bytes owned by m (freed by fini), for
 * building arrays; NULL on allocation failure. */
void *adb_manifest_alloc(adb_manifest_t *m, size_t sz);

/* adb_manifest_decode: decodes buf[0..sz) into *m_out (zeroed first; the
 * caller must adb_manifest_fini it after success; on failure it is already
 * finished).  alloc_max bounds the memory of the decoded value (0: the
 * default ADB_SNAP_BUDGET(sz)).  buf is not referenced after return.
 * Errors: ACCTDB_ERR_CORRUPT (truncated inside a field, a length prefix
 * larger than the input, invalid bool/Option/enum byte),
 * ACCTDB_ERR_NOMEM (out of memory or over alloc_max).  *err_out (may be
 * NULL) gets the message. */
int adb_manifest_decode(void const *buf, size_t sz, size_t alloc_max, adb_manifest_t *m_out,
                        adb_err_t *err_out);

/* adb_manifest_encode: appends the bincode of m to wr.  Fields numbered
 * above present_cnt are not written; trailing is written last (only when
 * present_cnt == F_ALL).  Returns wr's sticky error (NOMEM, FULL) or
 * ACCTDB_ERR_INVALID if present_cnt > F_ALL or trailing bytes are set with
 * present_cnt < F_ALL (nothing is written then). */
int adb_manifest_encode(adb_manifest_t const *m, adb_bc_wr_t *wr);

/* adb_manifest_encode_buf: the bincode of m in a new buffer (*buf_out, free
 * with adb_free; NULL on error), *sz_out bytes. */
int adb_manifest_encode_buf(adb_manifest_t const *m, uint8_t **buf_out, size_t *sz_out);

/* adb_manifest_check flag: also require what Agave >= 3.0 requires, an
 * accounts_lt_hash and an empty legacy epoch_stakes map. */
#define ADB_MANIFEST_CHECK_LATTICE 1u

/* adb_manifest_check: semantic validation of a decoded manifest, what a
 * loader must enforce before trusting it (FORMAT.md 3.4.5, 3.5, 3.6;
 * NETWORK.md 4.3):
 *   - accounts_db.slot == bank.slot;
 *   - every storages entry has exactly one StorageEntry, slot <= bank.slot,
 *     no slot listed twice (so no duplicate (slot, id));
 *   - legacy epoch_stakes and versioned_epoch_stakes each list an epoch at
 *     most once, and no epoch is in both (a merkle-era loader merges them);
 *     with ADB_MANIFEST_CHECK_LATTICE the legacy map must be empty and
 *     accounts_lt_hash present;
 *   - versioned_epoch_stakes variants are 0 (Current).
 * Returns 0 or ACCTDB_ERR_CORRUPT with the first violation in *err_out
 * (may be NULL), e.g. "manifest: storages[2]: slot 101 is above the
 * snapshot slot 100". */
int adb_manifest_check(adb_manifest_t const *m, uint32_t flags, adb_err_t *err_out);

/* adb_manifest_bank_hash_era: which bank hash formula the manifest's own
 * fields call for (FORMAT.md 9): "merkle" (a non-zero accounts delta hash,
 * no lattice hash), "transitional" (both: Agave 2.1), "lattice" (a lattice
 * hash, zero delta hash: 2.2 and later), or NULL (neither: no bank hash can
 * be computed).  The archive name does not enter into it. */
char const *adb_manifest_bank_hash_era(adb_manifest_t const *m);

/* adb_manifest_bank_hash: the bank hash of FORMAT.md section 9 in the era
 * adb_manifest_bank_hash_era names (hash/bankhash.h), from parent_hash, the
 * accounts delta hash (merkle, transitional), signature_count,
 * blockhash_queue.last_hash, the lattice hash (transitional, lattice), the
 * epoch accounts hash of the bank that crosses its stop slot (merkle) and
 * hard_forks; equals bank.hash for a consistent manifest.  Errors:
 * ACCTDB_ERR_UNSUPPORTED when the era is NULL; as adb_sha256_parts.
 * hash_out is zeroed on error. */
int adb_manifest_bank_hash(adb_manifest_t const *m, uint8_t hash_out[32]);

struct adb_json;

/* adb_manifest_json: writes the object below as the next value of j (for
 * embedding in a larger document).  Errors are j's (sticky). */
void adb_manifest_json(struct adb_json *j, adb_manifest_t const *m);

/* adb_manifest_to_json: writes every decoded field of m as one JSON object
 * {"bank_fields": {...}, "accounts_db_fields": {...}, "extra_fields":
 * {...}, "trailing_hex": "..."} to f (pretty: indented).  u64 as exact
 * integers, u128 likewise, f64 round-trippable, hashes/pubkeys base58,
 * accounts_lt_hash and account data hex, maps as arrays of objects in wire
 * order; an absent default_on_eof field has no key, a None is null.
 * Errors: ACCTDB_ERR_IO, ACCTDB_ERR_NOMEM. */
int adb_manifest_to_json(adb_manifest_t const *m, FILE *f, bool pretty);

/* adb_manifest_to_json_buf: the same text in a new NUL-terminated buffer
 * (*text_out, free with adb_free), *sz_out bytes without the NUL. */
int adb_manifest_to_json_buf(adb_manifest_t const *m, bool pretty, char **text_out, size_t *sz_out);

#endif
