/* src/hash/lthash.h - the account lattice hash (FORMAT.md section 5) for
 * the other modules.
 *
 * A lattice hash is 1024 u16 lanes (acctdb_lthash_t); sets of accounts are
 * summed lane-wise mod 2^16, so adding and removing accounts commute.  The
 * per-account hash is the first 2048 bytes of BLAKE3's extendable output
 * over the account's message (formula below), read as little-endian u16;
 * an account with 0 lamports hashes to the identity (all zero).
 *
 *   CURRENT: lamports u64 LE | data | executable (1 byte) | owner | pubkey
 *   LEGACY:  lamports u64 LE | rent_epoch u64 LE | data | executable |
 *            owner | pubkey
 *
 * THREADING MODEL: reentrant; values are owned by the caller.  The BLAKE3
 * implementation choice applies (src/hash/blake3.h).
 */
#ifndef ADB_HASH_LTHASH_H
#define ADB_HASH_LTHASH_H

#include "hash/blake3.h"

#define ADB_LTHASH_LANE_CNT 1024
#define ADB_LTHASH_SZ       2048

/* adb_lthash_zero: h = identity. */
void adb_lthash_zero(acctdb_lthash_t *h);

/* adb_lthash_add / _sub: a += b, a -= b (lane-wise mod 2^16).  a may equal
 * b. */
void adb_lthash_add(acctdb_lthash_t *a, acctdb_lthash_t const *b);
void adb_lthash_sub(acctdb_lthash_t *a, acctdb_lthash_t const *b);

/* adb_lthash_is_zero: true if h is the identity. */
bool adb_lthash_is_zero(acctdb_lthash_t const *h);

/* adb_lthash_eq: true if a and b are equal. */
bool adb_lthash_eq(acctdb_lthash_t const *a, acctdb_lthash_t const *b);

/* adb_lthash_checksum: out = BLAKE3-256 of h's 2048 little-endian bytes
 * (the value that names snapshot archives). */
void adb_lthash_checksum(acctdb_lthash_t const *h, uint8_t out[32]);

/* adb_lthash_msg: m = the message of account a under formula f, as parts
 * pointing into *a (valid while *a is).  Does not look at lamports == 0:
 * callers skip those accounts. */
void adb_lthash_msg(adb_blake3_msg_t *m, acctdb_account_t const *a, acctdb_lthash_formula_t f);

/* adb_lthash_account: out = the per-account hash of a (the identity if
 * a->lamports == 0), one account at a time. */
void adb_lthash_account(acctdb_lthash_t *out, acctdb_account_t const *a, acctdb_lthash_formula_t f);

/* adb_lthash_add_accounts / _sub_accounts: sum +=/-= the per-account
 * hashes of a[0..n), computed many at a time through the batch kernel
 * (adb_blake3_xof2048_sum).  Same result as n adb_lthash_account calls. */
void adb_lthash_add_accounts(acctdb_lthash_t *sum, acctdb_account_t const *a, size_t n,
                             acctdb_lthash_formula_t f);
void adb_lthash_sub_accounts(acctdb_lthash_t *sum, acctdb_account_t const *a, size_t n,
                             acctdb_lthash_formula_t f);

/* adb_lthash_add_account_ptrs: as add_accounts, for accounts scattered in
 * memory (a[i] points to the i-th). */
void adb_lthash_add_account_ptrs(acctdb_lthash_t *sum, acctdb_account_t const *const *a, size_t n,
                                 acctdb_lthash_formula_t f);

#endif
