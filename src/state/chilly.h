/* src/state/chilly.h - Chilly, the deterministic cache model of Toly's
 * Chilly/Avocado/LSR proposal (MISSION.md section 2): every node computes
 * the same hot/cold verdict for every account load, with two counters and
 * no cache to lock or walk.
 *
 *   load size     data_len + ADB_CHILLY_ACCOUNT_BASE_SZ (64 bytes, Agave's
 *                 per-account base size in a transaction's loaded-data
 *                 accounting)
 *   loaded_bytes  bank state: the running total of load sizes, inherited
 *                 from the parent bank
 *   load_counter  account state: the bank's loaded_bytes right AFTER the
 *                 transaction that last loaded the account; 0 = never
 *                 loaded
 *   cold          load_counter == 0 (new accounts are cold), or
 *                 loaded_bytes - load_counter > cache_sz
 *
 * A transaction's loads are judged together: every verdict against
 * loaded_bytes as the transaction starts; then loaded_bytes grows by the sum
 * of the load sizes and every loaded counter becomes the new total
 * (adb_chilly_touch).  A block may charge at most LOAD_LIMIT cold bytes; a
 * scheduler uses it as a watermark (adb_chilly_fits).
 *
 * THE HOT SET IS BOUNDED (what a read cache must hold, adb_chilly_evictable).
 * Let L be loaded_bytes between two transactions and C = cache_sz.  An
 * account is hot iff its counter c satisfies L - C <= c <= L, c > 0.  Its
 * counter is the end total of the transaction that last loaded it.  Let t1
 * be the oldest transaction whose end total c1 >= L - C, s1 = c1 - size(t1)
 * its start total.  Every hot account's last load belongs to t1 or a later
 * transaction, and distinct accounts are distinct load events, each of
 * which added its load size to loaded_bytes between s1 and L.  So
 *
 *   sum of the hot accounts' load sizes <= L - s1 = (L - c1) + size(t1)
 *                                       <= C + size(t1)
 *                                       <= C + the largest transaction
 *
 * where size(t) is the sum of t's load sizes.  When every transaction loads
 * one account this is C + the largest account's load size.  With several
 * loads per transaction the transaction, not the account, is the unit: one
 * transaction of 64 accounts of C bytes each leaves 64 C hot bytes (the
 * tests build this case), so a cache sized C + the largest account is NOT
 * enough in general.  The bound assumes loaded_bytes never saturated (2^64
 * bytes: not reachable by a chain; after saturation every loaded account
 * reads as hot).
 *
 * CHILLY IS NOT DOMINATED BY AN LRU OF THE SAME SIZE, but by one slightly
 * larger.  A Chilly-hot access to x has at most C bytes loaded by the
 * transactions strictly between x's previous transaction t' and this one, t.
 * A per-load byte LRU of capacity C' keeps x while x's size plus the
 * distinct bytes touched since x's previous access fit in C'.  Those bytes
 * also include x itself, the loads after x in t' and the loads before x in
 * t, none of which Chilly counts: so x is an LRU hit when C' >= C + size(t')
 * + size(t) - size(x), in particular when C' = C + 2 * the largest
 * transaction (C + the largest account for one-load transactions).  At C' =
 * C an LRU can miss a Chilly-hot load (x reloaded after exactly C bytes of
 * other accounts: Chilly hot, but x plus C bytes overflowed the LRU, which
 * evicted x); the tests show both.  In
 * practice the LRU hits far more: Chilly counts every load of a popular
 * account again, the LRU counts distinct bytes.
 *
 * THREADING MODEL: pure functions of their arguments, reentrant; the
 * caller owns the counters.
 */
#ifndef ADB_STATE_CHILLY_H
#define ADB_STATE_CHILLY_H

#include "util/util.h"

#define ADB_CHILLY_ACCOUNT_BASE_SZ 64u

/* adb_chilly_load_sz: data_len + ADB_CHILLY_ACCOUNT_BASE_SZ, saturating at
 * UINT64_MAX. */
static inline uint64_t
adb_chilly_load_sz(uint64_t data_len) {
    return data_len > UINT64_MAX - ADB_CHILLY_ACCOUNT_BASE_SZ
               ? UINT64_MAX
               : data_len + ADB_CHILLY_ACCOUNT_BASE_SZ;
}

/* adb_chilly_is_cold: true if an account whose counter is load_counter is
 * cold when the bank's total is loaded_bytes: load_counter == 0, or
 * loaded_bytes - load_counter > cache_sz (exactly cache_sz apart is hot).
 * A counter above loaded_bytes cannot happen on one chain (counters are
 * past totals, and totals only grow); it is treated as hot, so a counter
 * from a heavier fork never makes a load look colder than a fresh one. */
bool adb_chilly_is_cold(uint64_t loaded_bytes, uint64_t load_counter, uint64_t cache_sz);

/* adb_chilly_touch: one transaction loading n distinct accounts, whose
 * counters are counters[0..n) and data sizes data_lens[0..n).  Every
 * verdict is taken against *loaded_bytes as it is on entry; then
 * *loaded_bytes += the sum of the load sizes (saturating at UINT64_MAX) and
 * every counters[i] = the new *loaded_bytes.  cold_out (may be NULL) gets n
 * flags, 1 = cold.  Returns the cold bytes charged: the sum of the cold
 * loads' sizes, saturating.  n == 0 changes nothing and returns 0.  The
 * caller guarantees the accounts are distinct (a repeated account would be
 * judged once per occurrence and counted twice in loaded_bytes). */
uint64_t adb_chilly_touch(uint64_t *loaded_bytes, uint64_t cache_sz, uint64_t *counters,
                          uint64_t const *data_lens, size_t n, uint8_t *cold_out);

/* adb_chilly_fits: the per-block LOAD_LIMIT watermark.  True if a
 * transaction with tx_cold_bytes cold bytes fits a block that has already
 * charged block_cold_bytes: block_cold_bytes + tx_cold_bytes <= load_limit,
 * computed without overflow. */
bool adb_chilly_fits(uint64_t block_cold_bytes, uint64_t tx_cold_bytes, uint64_t load_limit);

/* adb_chilly_evictable: the read-cache rule.  A cache may drop an account
 * it holds exactly when the model calls the account cold (same result as
 * adb_chilly_is_cold): every hot account stays in RAM, and the hot set
 * needs at most cache_sz + the largest transaction's load bytes (see the
 * bound above). */
bool adb_chilly_evictable(uint64_t loaded_bytes, uint64_t load_counter, uint64_t cache_sz);

#endif
