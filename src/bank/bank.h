/* src/bank/bank.h - bank semantics: what a bank is as Agave defines it,
 * beyond its accounts.  The epoch of a slot (warmup included), the sysvars
 * a bank carries, the stakes and epoch stakes that move forward at every
 * epoch boundary, the blockhash queue, slots_per_year, and the checks a
 * snapshot loader applies to all of it.
 *
 * The engine (src/db) owns accounts; this module reads and writes them
 * only through the engine's API.  The snapshot module (above) encodes what
 * this module computes. */
#ifndef ADB_BANK_BANK_H
#define ADB_BANK_BANK_H

#include "bank/bank_types.h"

/* ======================================================================== */
/* Epochs (Agave EpochSchedule)                                             */
/* ======================================================================== */

/* MINIMUM_SLOTS_PER_EPOCH: the first warmup epoch's length; each warmup
 * epoch doubles it until first_normal_epoch. */
#define ADB_MIN_SLOTS_PER_EPOCH 32u

/* adb_epoch_schedule_custom: the schedule Agave's EpochSchedule::custom
 * makes: with warmup, first_normal_epoch = log2(next_pow2(slots_per_epoch))
 * - 5 and first_normal_slot = next_pow2(slots_per_epoch) - 32; without,
 * both 0.  slots_per_epoch must be >= 32 (else the result has
 * slots_per_epoch 0, which every function below treats as corrupt). */
adb_epoch_schedule_t adb_epoch_schedule_custom(uint64_t slots_per_epoch,
                                               uint64_t leader_schedule_slot_offset, bool warmup);

/* adb_epoch_of: the epoch of slot; *index_out (may be NULL) the slot's
 * index in it.  A schedule with slots_per_epoch 0 gives first_normal_epoch
 * for every slot past first_normal_slot (it must not divide by zero). */
uint64_t adb_epoch_of(adb_epoch_schedule_t const *es, uint64_t slot);
uint64_t adb_epoch_of_idx(adb_epoch_schedule_t const *es, uint64_t slot, uint64_t *index_out);

/* adb_epoch_slot_cnt: slots in epoch (32 << epoch during warmup). */
uint64_t adb_epoch_slot_cnt(adb_epoch_schedule_t const *es, uint64_t epoch);

/* adb_epoch_first_slot: the first slot of epoch (saturating). */
uint64_t adb_epoch_first_slot(adb_epoch_schedule_t const *es, uint64_t epoch);

/* adb_epoch_leader_schedule: the epoch whose leader schedule a bank at
 * slot knows (Agave get_leader_schedule_epoch): during warmup the next
 * epoch; after it, the epoch of slot + leader_schedule_slot_offset
 * counted from first_normal_slot. */
uint64_t adb_epoch_leader_schedule(adb_epoch_schedule_t const *es, uint64_t slot);

/* adb_epoch_eah_stop: the slot at which the merkle era's epoch accounts
 * hash entered the bank hash in slot's epoch (first slot + 3/4 of the
 * epoch), or UINT64_MAX when the epoch is too short for one (the
 * calculation window, 1/4 to 3/4, under 181 slots). */
uint64_t adb_epoch_eah_stop(adb_epoch_schedule_t const *es, uint64_t slot);

#endif
