/* src/state/lsr.h - LSR ("lightweight simple rent") of Toly's proposal
 * (MISSION.md section 2): rent as a bonding curve on the state size, with
 * exact integer arithmetic and no floating point anywhere in a rule, so
 * every node gets the same lamports.
 *
 *   size        data_len + ADB_LSR_ACCOUNT_OVERHEAD (128, Agave's
 *               ACCOUNT_STORAGE_OVERHEAD)
 *   state_size  the sum of size over the live accounts
 *   RentRate    K * state_size^N lamports per byte per slot
 *               (state_size^0 = 1, also for state_size 0)
 *   charge      floor(slots * size * RentRate), in whole lamports
 *   bond        the charge for one epoch (epoch_slots): what a new account
 *               must hold to be created
 *   compact     when the charge since creation exceeds the lamports held
 *
 * K is a non-negative decimal num / 10^exp10 (adb_lsr_k_t), N an integer 0
 * .. ADB_LSR_N_MAX.  A charge is computed exactly: the product slots * size
 * * num * state_size^N (at most 3 * 64 + 16 * 64 = 1216 bits) is formed in
 * a 1280-bit unsigned integer, which cannot overflow, then divided by
 * 10^exp10.  A result above UINT64_MAX saturates to UINT64_MAX, read as
 * "more lamports than exist": an overflow is always "too expensive",
 * never a wrap to cheap.
 *
 * THREADING MODEL: pure functions, reentrant.
 */
#ifndef ADB_STATE_LSR_H
#define ADB_STATE_LSR_H

#include "util/util.h"

#define ADB_LSR_ACCOUNT_OVERHEAD 128u
#define ADB_LSR_N_MAX            16u
#define ADB_LSR_EXP10_MAX        300u

/* K = num / 10^exp10.  Normal form (what adb_lsr_k_parse gives): exp10 <=
 * ADB_LSR_EXP10_MAX; exp10 == 0 or num not a multiple of 10; 0 is {0, 0}.
 * Any exp10 <= ADB_LSR_EXP10_MAX is accepted by the functions below. */
typedef struct adb_lsr_k {
    uint64_t num;
    uint32_t exp10;
} adb_lsr_k_t;

/* adb_lsr_k_parse: K from a NUL-terminated decimal: digits with at most one
 * '.' (at least one digit on either side of it: "5", "0.000003", ".5",
 * "5."), then optionally 'e' or 'E', an optional sign and exponent digits
 * ("1e-18", "2.5e-9", "3E+2").  *k_out is normalized (trailing zeros of the
 * fraction dropped, a positive exponent folded into num).  Errors:
 * ACCTDB_ERR_INVALID (*k_out = {0, 0}) for NULL, empty, a sign on the
 * number ("-1", "+1"), whitespace or any other junk, a value whose num
 * does not fit in 64 bits after normalization ("1e20",
 * "18446744073709551616"), or one that needs exp10 > 300 ("1e-301"). */
int adb_lsr_k_parse(char const *text, adb_lsr_k_t *k_out);

/* adb_lsr_n_parse: N from decimal text, 0 .. ADB_LSR_N_MAX ("07" is 7).
 * Errors: ACCTDB_ERR_INVALID (*n_out = 0) for anything else. */
int adb_lsr_n_parse(char const *text, uint32_t *n_out);

/* adb_lsr_params_ok: true if k.exp10 <= ADB_LSR_EXP10_MAX and n <=
 * ADB_LSR_N_MAX, what every function below requires of its caller
 * (checked with ADB_ASSERT: parse K and N first). */
bool adb_lsr_params_ok(adb_lsr_k_t k, uint32_t n);

/* adb_lsr_account_sz: data_len + ADB_LSR_ACCOUNT_OVERHEAD, saturating. */
uint64_t adb_lsr_account_sz(uint64_t data_len);

/* adb_lsr_charge: floor(slots * size * K * state_size^N) lamports, exact;
 * UINT64_MAX if that is above UINT64_MAX.  0 when size, slots or K is 0,
 * or state_size is 0 with N > 0. */
uint64_t adb_lsr_charge(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size,
                        uint64_t slots);

/* adb_lsr_bond: the lamports a new account of size bytes must hold:
 * adb_lsr_charge with slots = epoch_slots. */
uint64_t adb_lsr_bond(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size,
                      uint64_t epoch_slots);

/* adb_lsr_can_create: lamports >= adb_lsr_bond(...). */
bool adb_lsr_can_create(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size,
                        uint64_t epoch_slots, uint64_t lamports);

/* adb_lsr_should_compact: true if the account, created at creation_slot
 * and holding lamports, is to be compacted at slot: adb_lsr_charge for
 * slot - creation_slot slots > lamports.  The rule compares whole
 * lamports: the floored charge must exceed the balance, so a charge equal
 * to lamports does not compact and a fraction of a lamport never does.  A
 * slot before creation_slot counts 0 slots (never compacts): such a slot
 * is on no chain where the account exists. */
bool adb_lsr_should_compact(adb_lsr_k_t k, uint32_t n, uint64_t state_size, uint64_t size,
                            uint64_t creation_slot, uint64_t slot, uint64_t lamports);

#endif
