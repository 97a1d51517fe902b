/* src/index/owner.h - the owner index: owner -> the pubkeys stored with it.
 *
 * A candidate set, kept loosely: a pair is added whenever an account is
 * stored or loaded with that owner and removed when a scan finds the key
 * no longer has it (db re-checks every candidate against the version
 * visible at the scan's slot, so scans stay fork-consistent).  A scan by
 * owner costs time in proportion to the owner's candidates, not to the
 * database.
 *
 * THREADS: any thread; 64 shards by owner, each with a mutex. */
#ifndef ADB_INDEX_OWNER_H
#define ADB_INDEX_OWNER_H

#include "util/util.h"

typedef struct adb_owner_ix adb_owner_ix_t;

int  adb_owner_open(adb_owner_ix_t **o_out);
void adb_owner_close(adb_owner_ix_t *o);

/* Adds the pair (idempotent).  Best effort: out of memory leaves it out
 * and counts a miss (adb_owner_misses), after which scans of that owner
 * may be incomplete until the next rebuild. */
void adb_owner_add(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *key);
void adb_owner_del(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *key);

/* Up to max of the owner's candidates after *after (NULL: from the first),
 * in pubkey order, into keys; returns how many.  *more_out: more follow.
 * Costs O(log n + max): each owner's keys are a sorted block directory. */
size_t adb_owner_page(adb_owner_ix_t *o, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *after,
                      acctdb_pubkey_t *keys, size_t max, bool *more_out);

uint64_t adb_owner_pairs(adb_owner_ix_t const *o);
uint64_t adb_owner_misses(adb_owner_ix_t const *o);

/* adb_owner_visit: calls fn for every owner's keys, a run of at most 256
 * at a time (each owner's in pubkey order), a shard at a time under its
 * lock (fn must not call back into o); stops at fn's first non-zero result
 * and returns it. */
typedef int (*adb_owner_visit_fn)(void *ctx, acctdb_pubkey_t const *owner,
                                  acctdb_pubkey_t const *keys, size_t n);
int adb_owner_visit(adb_owner_ix_t *o, adb_owner_visit_fn fn, void *ctx);

/* adb_owner_add_sorted: adds the pairs (owner, keys[i]) as adb_owner_add
 * does; keys in increasing order past the owner's last key (a visit's
 * runs, replayed) fill whole blocks instead of half ones.  Errors: NOMEM
 * (the pairs before the failing one are in; not counted as misses). */
int adb_owner_add_sorted(adb_owner_ix_t *o, acctdb_pubkey_t const *owner,
                         acctdb_pubkey_t const *keys, size_t n);

#endif
