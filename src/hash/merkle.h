/* src/hash/merkle.h - the merkle-era accounts hash (Agave <= 2.1):
 * per-account BLAKE3-256 leaves under a fanout-16 SHA-256 tree
 * (FORMAT.md section 6). */
#ifndef ADB_HASH_MERKLE_H
#define ADB_HASH_MERKLE_H

#include "util/util.h"

#define ADB_MERKLE_FANOUT 16

/* Leaf of a live account: BLAKE3-256(lamports, rent_epoch, data, executable,
 * owner, pubkey); 32 zero bytes when lamports == 0. */
void adb_merkle_leaf(acctdb_account_t const *a, uint8_t out[32]);

/* Leaf that the incremental accounts hash uses for a zero-lamport account:
 * BLAKE3-256(pubkey). */
void adb_merkle_leaf_zero_lamport(acctdb_pubkey_t const *pubkey, uint8_t out[32]);

/* Root over n leaves (32 bytes each, in pubkey order).  Errors: NOMEM,
 * FATAL (libcrypto). */
int adb_merkle_root(uint8_t const *leaves, size_t n, uint8_t out[32]);

#endif
