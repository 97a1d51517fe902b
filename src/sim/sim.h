/* src/sim/sim.h - simulation: the seeded generator (sim_rng.c), the one
 * mainnet-like account mix (sim_mix.c), the generator of large, valid,
 * mainnet-like snapshots (sim_gen.c), the synthetic cluster
 * (sim_cluster.c) and the synthetic validator workload (sim_workload.c);
 * the public side is include/acctdb_sim.h.
 *
 * The snapshot generator:
 *
 * N accounts drawn from the account mix (acctdb_mix_draw: 70% 165-byte
 * token accounts, 15% empty system accounts, 15% 200 B - 2 KiB, 0.05% up
 * to 1 MiB, one in a million up to 10 MiB; mean stored record 400-500
 * bytes), spread over S slots; about 10% also have an older version in an
 * earlier slot and about 2% are closed (a zero-lamport tombstone over an
 * older live version).  An account's versions share its shape (size,
 * owner); each has its own contents (acctdb_mix_account).  The slot of an
 * account's newest version is drawn independently of its size.  The newest slot holds the sysvars a
 * real bank has (SlotHistory, Clock, Rent, EpochSchedule) and the status cache agrees with
 * SlotHistory, so every load-time check passes.  An incremental snapshot of
 * M changed accounts (modified, closed and new ones) can follow.
 *
 * Everything derives from the seed: the same arguments give the same
 * archives, byte for byte. */
#ifndef ADB_SIM_SIM_H
#define ADB_SIM_SIM_H

#include "acctdb_sim.h"
#include "util/rng.h"
#include "util/util.h"

typedef acctdb_gen_opts_t   adb_gen_opts_t;
typedef acctdb_gen_result_t adb_gen_result_t;

/* Estimated account-file bytes for opts, without generating (what
 * --max-bytes is checked against; exact). */
int adb_gen_estimate(adb_gen_opts_t const *o, uint64_t *bytes_out, uint64_t *records_out);

int adb_gen_run(adb_gen_opts_t const *o, adb_gen_result_t *out, adb_err_t *err);

/* ---- the synthetic cluster (sim_cluster.c) -------------------------------- */

#include "bank/bank_types.h"

#define ADB_SIM_VALIDATORS_MAX   64u
#define ADB_SIM_CLUSTER_DATA_MAX 3762u /* the largest account (a V3 vote account) */

int                  adb_sim_cluster_check(acctdb_cluster_opts_t const *o, adb_err_t *err);
adb_epoch_schedule_t adb_sim_cluster_schedule(acctdb_cluster_opts_t const *o);
adb_rent_t           adb_sim_cluster_rent(void);
/* Accounts: identities, vote accounts, stake accounts, the faucet. */
size_t adb_sim_cluster_cnt(acctdb_cluster_opts_t const *o);
void   adb_sim_cluster_account(acctdb_cluster_opts_t const *o, size_t i, acctdb_account_t *a,
                               uint8_t buf[ADB_SIM_CLUSTER_DATA_MAX]);

#endif
