/* src/hash/bankhash.h - the bank hash of every era (FORMAT.md section 9):
 * the one implementation the snapshot reader, the snapshot writer and the
 * engine's freeze all use.
 *
 *   h = SHA-256(parent_hash || [accounts_delta_hash] || signature_count
 *               || last_blockhash)
 *   lattice hash present:          h = SHA-256(h || accounts_lt_hash)
 *   else an epoch accounts hash
 *   due at this bank:              h = SHA-256(h || epoch_accounts_hash)
 *   n hard forks in (parent, slot]: h = SHA-256(h || n as u64 LE)
 *
 * The accounts delta hash is in the first line only in the merkle and the
 * transitional (2.1) eras: a manifest says so by carrying a non-zero one.
 * The epoch accounts hash (merkle era only) enters the one bank whose
 * slot range (parent_slot, slot] contains the epoch's EAH stop slot
 * (Agave 1.17 epoch_accounts_hash_utils, Firedancer fd_hashes.c); the
 * caller decides that (adb_bankhash_eah_due). */
#ifndef ADB_HASH_BANKHASH_H
#define ADB_HASH_BANKHASH_H

#include "util/util.h"

/* A (slot, u64) pair: a hard fork (slot, count), an ancestor (slot, 0). */
typedef struct adb_slot_u64 {
    uint64_t slot;
    uint64_t val;
} adb_slot_u64_t;

typedef struct adb_bankhash_in {
    uint8_t const *parent_hash;         /* 32 bytes */
    uint8_t const *accounts_delta_hash; /* 32 bytes, or NULL (lattice era) */
    uint64_t       signature_count;
    uint8_t const *last_blockhash;      /* 32 bytes */
    uint8_t const *accounts_lt_hash;    /* 2048 bytes, or NULL (merkle era) */
    uint8_t const *epoch_accounts_hash; /* 32 bytes when due at this bank, else NULL */
    uint64_t       hard_fork_cnt;       /* adb_bankhash_fork_cnt */
} adb_bankhash_in_t;

/* adb_bankhash: the bank hash of in.  Errors: those of adb_sha256_parts
 * (out zeroed). */
int adb_bankhash(adb_bankhash_in_t const *in, uint8_t out[32]);

/* adb_bankhash_fork_cnt: the sum of the counts of the hard forks f[0..n)
 * with parent_slot < slot' <= slot (Agave HardForks::get_hash_data). */
uint64_t adb_bankhash_fork_cnt(adb_slot_u64_t const *f, size_t n, uint64_t parent_slot,
                               uint64_t slot);

#endif
