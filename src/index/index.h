/* src/index/index.h - the account index: pubkey -> (slot, value).
 *
 * The value is opaque to the index (db encodes a file and offset, or a
 * write-cache reference, in it).  Keys are split into 2^bin_bits bins by
 * their leading bits (8192 by default, as Agave); each bin is an
 * open-addressing table (Robin Hood linear probing, backward-shift delete,
 * 48-byte entries, load <= 0.9) with its own lock, so threads working on
 * different bins never contend.  Positions inside a bin come from a keyed
 * hash (a per-index random seed), so ground pubkeys cannot pile up in one
 * probe run.
 *
 * THREADS: every function may be called from any thread; each takes only
 * its bin's lock.  adb_index_bin_visit holds the bin lock while visiting.
 *
 * TWO TIERS (cfg.disk_dir set): each bin also has a disk tier (disk.h),
 * which holds every key's versions whose values lack cfg.pin_mask's bits
 * (storage locations), written through on every change.  The RAM table is
 * then a cache: it holds some keys with all their versions (pinned ones,
 * heap pointers, only ever in RAM, so a key with one stays resident),
 * promotes a key a lookup had to read from disk, and evicts keys not used
 * since the last pass of a clock hand (least recently used first) once its
 * heap plus the disk tier's resident mapped pages pass cfg.ram_bytes.  The
 * entries holding a pinned version are not counted (their slot at 3/4 load
 * and their version lists, tracked as they change): the
 * write cache that pins them bounds and charges them.
 * Every call below keeps its meaning in both modes. */
#ifndef ADB_INDEX_INDEX_H
#define ADB_INDEX_INDEX_H

#include "util/util.h"

/* Reserved slot values (real slots never get near 2^64). */
#define ADB_INDEX_SLOT_EMPTY UINT64_MAX
#define ADB_INDEX_SLOT_LIST  (UINT64_MAX - 1) /* internal: the entry holds a version list */

typedef struct adb_index adb_index_t;

typedef struct adb_index_cfg {
    uint32_t bin_bits;      /* 0 -> 13 (8192 bins) */
    uint64_t expected_keys; /* pre-size hint; 0 -> small */
    /* Two tiers (NULL: RAM only, as before). */
    char const          *disk_dir;  /* the disk tier's directory */
    struct adb_io const *io;        /* for its files; NULL: adb_io() */
    uint64_t             ram_bytes; /* RAM tier budget; 0: no limit */
    uint64_t             pin_mask;  /* values with any of these bits stay in RAM */
    uint32_t             threads;   /* for verifying a reused tier */
    /* Reuse: with reuse set, the disk tier a clean close stamped with
     * *stamp is taken as it is after its checks (adb_index_reused says
     * whether, and why not); otherwise, or if it fails them, the tier
     * starts empty. */
    bool                          reuse;
    struct adb_dtier_stamp const *stamp;
} adb_index_cfg_t;

int  adb_index_open(adb_index_t **ix_out, adb_index_cfg_t const *cfg);
void adb_index_close(adb_index_t *ix);
/* Closes; a two-tier index first stamps its disk tier clean (syncing it).
 * The caller promises the disk tier holds what stamp names.  Errors from
 * the stamping are returned (the index is closed all the same). */
int adb_index_close_clean(adb_index_t *ix, struct adb_dtier_stamp const *stamp, adb_err_t *err);
/* Whether open reused a disk tier; *why (may be NULL) gets the reason it
 * did not (empty when it did, or when not asked to). */
bool adb_index_reused(adb_index_t const *ix, char const **why);
bool adb_index_two_tier(adb_index_t const *ix);

/* Result of an upsert. */
typedef enum adb_index_upsert_res {
    ADB_INDEX_INSERTED = 0, /* the key was new */
    ADB_INDEX_REPLACED = 1, /* the key existed with an older (slot, value): *old_* get it */
    ADB_INDEX_KEPT = 2,     /* the key exists with a newer-or-equal (slot, value) */
} adb_index_upsert_res_t;

/* Inserts key -> (slot, val) unless the key holds a newer version:
 * versions order by slot, then by val (the caller encodes the position
 * inside a slot in val's order).  Returns an adb_index_upsert_res_t, or
 * ACCTDB_ERR_NOMEM.  On REPLACED, old_slot and old_val get the displaced
 * version; on KEPT they get the version that stays. */
int adb_index_upsert_newer(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val,
                           uint64_t *old_slot, uint64_t *old_val);

/* Batched upsert_newer with prefetch: item i is keys[i], slots[i], vals[i];
 * res[i] gets its adb_index_upsert_res_t and old_slots[i]/old_vals[i] the
 * displaced or kept version.  Returns 0 or ACCTDB_ERR_NOMEM (items before
 * the failing one are applied). */
int adb_index_upsert_newer_batch(adb_index_t *ix, uint8_t const *const *keys, uint64_t const *slots,
                                 uint64_t const *vals, size_t n, uint8_t *res, uint64_t *old_slots,
                                 uint64_t *old_vals);

/* Grows the bins so that about total_keys keys fit without rehashing. */
int adb_index_reserve(adb_index_t *ix, uint64_t total_keys);

/* Unconditional set (insert or overwrite). */
int adb_index_put(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val);

/* Lookup: true if found. */
bool adb_index_get(adb_index_t *ix, uint8_t const key[32], uint64_t *slot, uint64_t *val);

/* Batched lookup with prefetch: found[i], slot[i], val[i] for keys[i]. */
void adb_index_get_batch(adb_index_t *ix, uint8_t const (*keys)[32], size_t n, uint64_t *slot,
                         uint64_t *val, bool *found);

/* Removes key; true if it was there. */
bool adb_index_remove(adb_index_t *ix, uint8_t const key[32]);

uint64_t adb_index_cnt(adb_index_t const *ix);
uint32_t adb_index_bin_cnt(adb_index_t const *ix);
uint32_t adb_index_bin_of(adb_index_t const *ix, uint8_t const key[32]);
/* Bytes of RAM the tables take. */
uint64_t adb_index_mem_sz(adb_index_t const *ix);

/* ---- versions (the engine) ----------------------------------------------
 * A key may hold several versions, one per slot (forks, and rooted versions
 * clean has not dropped yet), kept sorted by slot, newest first.  The common
 * case of one version stays inline in the 48-byte entry; more move to a list
 * owned by the bin and freed under its lock, so callers only ever see
 * copies.  The single-version calls above (upsert_newer, put, get, remove)
 * are for bulk loading into an index whose keys have one version each. */
typedef struct adb_index_ver {
    uint64_t slot;
    uint64_t val;
} adb_index_ver_t;

/* Adds the version at slot, or replaces its value.  Errors: NOMEM. */
int adb_index_vput(adb_index_t *ix, uint8_t const key[32], uint64_t slot, uint64_t val);

/* Copies up to max versions (newest first) into out; returns how many the
 * key has (0 if absent), which may exceed max. */
size_t adb_index_vget(adb_index_t *ix, uint8_t const key[32], adb_index_ver_t *out, size_t max);

/* Batched vget with prefetch: key i's versions go to out[i * max ..], their
 * count to cnt[i]. */
void adb_index_vget_batch(adb_index_t *ix, uint8_t const *const *keys, size_t n,
                          adb_index_ver_t *out, size_t max, size_t *cnt);

/* Edits a key's versions in place under the bin lock: fn gets the array
 * (newest first) and its count, may change values, remove entries (it
 * writes the new count) but not add or reorder.  A key left with no
 * version is removed.  Returns fn's result, or ACCTDB_ERR_NOT_FOUND. */
typedef int (*adb_index_vedit_fn)(void *ctx, adb_index_ver_t *v, size_t *cnt);
int adb_index_vedit(adb_index_t *ix, uint8_t const key[32], adb_index_vedit_fn fn, void *ctx);

/* Visits every key of one bin with its versions, under the bin lock. */
typedef int (*adb_index_vvisit_fn)(void *ctx, uint8_t const key[32], adb_index_ver_t const *v,
                                   size_t cnt);
int adb_index_bin_vvisit(adb_index_t *ix, uint32_t bin, adb_index_vvisit_fn fn, void *ctx);

/* Versions held outside the inline entries (for RAM accounting). */
uint64_t adb_index_list_cnt(adb_index_t const *ix);

/* Visits every entry of one bin (any order) under the bin lock; stops
 * early if fn returns non-zero (returned). */
typedef int (*adb_index_visit_fn)(void *ctx, uint8_t const key[32], uint64_t slot, uint64_t val);
int adb_index_bin_visit(adb_index_t *ix, uint32_t bin, adb_index_visit_fn fn, void *ctx);

/* ---- two tiers: statistics, stamping, reclaiming ---------------------- */
typedef struct adb_index_stats {
    uint64_t keys;         /* distinct keys */
    uint64_t ram_keys;     /* keys in the RAM table */
    uint64_t ram_heap;     /* bytes of heap (tables, lists) */
    uint64_t ram_mapped;   /* upper bound of the disk tier's resident mapped bytes */
    uint64_t ram_budget;   /* cfg.ram_bytes */
    uint64_t ram_pinned;   /* of ram_heap, the entries pinned by the write cache (not budgeted) */
    uint64_t disk_keys;    /* keys with versions on disk */
    uint64_t disk_entries; /* disk index entries allocated */
    uint64_t disk_bytes;   /* disk tier file bytes */
    uint64_t hits, misses; /* lookups answered by RAM; that went to disk */
    uint64_t promotions, evictions, trims;
} adb_index_stats_t;
void adb_index_stats(adb_index_t *ix, adb_index_stats_t *out);
/* Two tiers: stamps the disk tier clean (adb_dtier_stamp); the caller
 * promises it holds what stamp names.  RAM only: nothing (0). */
int adb_index_stamp(adb_index_t *ix, struct adb_dtier_stamp const *stamp, adb_err_t *err);
/* Two tiers: fn on every version in the disk tier (it may change values);
 * RAM copies are not changed, so only for an index about to be closed. */
int adb_index_remap_disk(adb_index_t *ix, int (*fn)(void *ctx, adb_index_ver_t *v), void *ctx);
/* Rewrites every disk bin at the smallest size that holds it. */
int adb_index_reclaim(adb_index_t *ix);

#endif
