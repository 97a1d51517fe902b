/* src/state/avocado.h - Avocado state compression's rules (docs/STATE.md),
 * as pure functions the engine calls.
 *
 * A compressed account keeps its key, lamports, owner, executable flag
 * and rent epoch; its data becomes adb_avocado_data_hash(data) and its
 * original length is kept beside it (acctdb's own state, never inside an
 * archive).
 *
 * THREADING MODEL: reentrant; no state. */
#ifndef ADB_STATE_AVOCADO_H
#define ADB_STATE_AVOCADO_H

#include "util/util.h"

/* The length of a compressed account's data: the hash. */
#define ADB_AVOCADO_HASH_SZ 32

/* adb_avocado_compressible: may an account of this shape be compressed?
 * Never: zero lamports (nothing to keep), data of ADB_AVOCADO_HASH_SZ
 * bytes or fewer (nothing to gain), executable accounts, accounts owned by
 * the loaders (programs), the Sysvar, Vote, Stake, Config and Feature
 * programs (a bank and its loader checks read them).  false sets *why_out
 * (may be NULL) to a static reason. */
bool adb_avocado_compressible(uint8_t const owner[32], bool executable, uint64_t lamports,
                              uint64_t data_len, char const **why_out);

/* adb_avocado_sweepable: may an LSR sweep compact (compress and burn) an
 * account of this shape?  As adb_avocado_compressible without the size
 * rule: rent applies to small accounts too; never to executable accounts,
 * the exempt owners' or accounts without lamports. */
bool adb_avocado_sweepable(uint8_t const owner[32], bool executable, uint64_t lamports);

/* adb_avocado_data_hash: out = BLAKE3-256(data[0..len)), the data of the
 * compressed account. */
void adb_avocado_data_hash(void const *data, size_t len, uint8_t out[32]);

/* adb_avocado_leaf_value: the trie value of a compressed account moved out
 * of the index: BLAKE3-256(lamports u64 LE | executable u8 | owner[32] |
 * orig_len u64 LE | data_hash[32]). */
void adb_avocado_leaf_value(uint64_t lamports, bool executable, uint8_t const owner[32],
                            uint64_t orig_len, uint8_t const data_hash[32], uint8_t out[32]);

/* adb_avocado_derived_address: out = BLAKE3-256(recent blockhash[32] |
 * public key[32]): an address that cannot be in the trie when the
 * blockhash is newer than the trie's last insertion. */
void adb_avocado_derived_address(uint8_t const blockhash[32], uint8_t const pubkey[32],
                                 uint8_t out[32]);

#endif
