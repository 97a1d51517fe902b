/* src/index/disk.h - the disk tier of the account index.
 *
 * Per bin, two kinds of file in one directory, both mapped shared and
 * written through the mapping:
 *
 *   bNNNNN.ix    the index bucket: a 64-byte header, a bit array of entry
 *                states (2 bits each: free, one version inline, many),
 *                then cap 48-byte entries (key, then slot+value inline or
 *                a data-bucket cell and a count); open addressing with
 *                linear probing and backward-shift deletion, cap a power
 *                of two, load <= 3/4, growth by doubling
 *   bNNNNN.cKK   data bucket of class KK: cells of 2^KK versions (16 bytes
 *                each) for keys with more than one, a free list through
 *                the freed cells, growth by doubling
 *
 * and one index.meta: magic, version, state (open or clean), the seed of
 * the position hash, the owner's generation and root slot, and per bin its
 * key count and the CRC-32C of its files, itself checksummed.  A clean
 * close syncs the files and writes the meta clean; the first thing a reuse
 * does after verifying is to write it open again, so after a crash the
 * files are never taken as they are.
 *
 * The files are derived state (the account files rebuild them), written
 * through writable mappings, so they are outside the I/O table's read-only
 * mapping rule: the meta, creation, allocation, rename and unlink go
 * through the table given at open; a stamp syncs the mappings with msync.
 * A file's descriptor is closed once it is mapped (8,192 bins would
 * otherwise hold 16,384 descriptors).
 *
 * Deletions shrink: when a bucket falls to 1/8 of its capacity it is
 * rewritten at half or less; adb_dtier_reclaim rewrites a bin's files at
 * the smallest size that holds them.
 *
 * THREADS: any thread; each call takes its bin's mutex (several RAM bins
 * share a disk bin), so calls on different bins run at once.  A visit's
 * callback runs under it and must not call back into the tier.  Stats are
 * atomic. */
#ifndef ADB_INDEX_DISK_H
#define ADB_INDEX_DISK_H

#include "index/index.h"
#include "util/io.h"

typedef struct adb_dtier adb_dtier_t;

/* What a clean close records and a reuse requires. */
typedef struct adb_dtier_stamp {
    uint64_t gen;  /* the owner's generation (db: its commit generation) */
    uint64_t root; /* the root slot the contents match */
} adb_dtier_stamp_t;

typedef struct adb_dtier_stats {
    uint64_t keys;         /* keys held */
    uint64_t entries;      /* index-bucket entries allocated */
    uint64_t many;         /* keys whose versions are in data buckets */
    uint64_t cells_live;   /* data-bucket cells in use */
    uint64_t cells_alloc;  /* data-bucket cells allocated */
    uint64_t file_bytes;   /* sum of the files' sizes */
    uint64_t resident_est; /* upper bound of mapped pages touched since the last trim */
    uint64_t grows, shrinks;
    uint64_t heap; /* bytes of heap the tier's bookkeeping takes */
} adb_dtier_stats_t;

/* Creates an empty tier in dir (made if missing; old tier files removed),
 * its meta written open. */
int adb_dtier_create(adb_dtier_t **out, adb_io_t const *io, char const *dir, uint32_t bin_cnt,
                     uint64_t seed, adb_err_t *err);

/* Opens the tier in dir as a clean close left it, if the meta is clean,
 * matches bin_cnt and *want, and every bin's files have the recorded
 * count and checksum (checked on `threads` threads).  Errors:
 * ACCTDB_ERR_NOT_FOUND (no tier), ACCTDB_ERR_MISMATCH (not closed clean,
 * or another generation or root), ACCTDB_ERR_CORRUPT (a checksum or
 * structure check failed); err says which.  The tier is left untouched
 * then.  On success the meta is already marked open again. */
int adb_dtier_reuse(adb_dtier_t **out, adb_io_t const *io, char const *dir, uint32_t bin_cnt,
                    adb_dtier_stamp_t const *want, uint32_t threads, adb_err_t *err);

/* Syncs every file and writes the meta clean with *stamp (an error leaves
 * it open and is returned).  A later change (set, reclaim, edit) first
 * writes the meta open again. */
int adb_dtier_stamp(adb_dtier_t *dt, adb_dtier_stamp_t const *stamp, adb_err_t *err);

/* Closes; with clean != NULL stamps it first (adb_dtier_stamp). */
int adb_dtier_close(adb_dtier_t *dt, adb_dtier_stamp_t const *clean, adb_err_t *err);

uint64_t adb_dtier_seed(adb_dtier_t const *dt);
uint32_t adb_dtier_bin_cnt(adb_dtier_t const *dt);

/* Copies up to max of key's versions to out; returns how many it has. */
size_t adb_dtier_get(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t *out,
                     size_t max);

/* Replaces key's versions with v[0..cnt) (cnt 0 removes the key).
 * Errors: ACCTDB_ERR_FULL (disk), ACCTDB_ERR_NOMEM, -errno. */
int adb_dtier_set(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t const *v,
                  size_t cnt);

/* Visits every key of bin with its versions; stops at a non-zero return. */
int adb_dtier_visit(adb_dtier_t *dt, uint32_t bin, adb_index_vvisit_fn fn, void *ctx);

/* Calls fn on every version of bin; fn may change the value (not the
 * slot); stops at a non-zero return (returned). */
typedef int (*adb_dtier_edit_fn)(void *ctx, adb_index_ver_t *v);
int adb_dtier_edit_vals(adb_dtier_t *dt, uint32_t bin, adb_dtier_edit_fn fn, void *ctx);

/* Rewrites bin's files at the smallest size that holds them. */
int adb_dtier_reclaim(adb_dtier_t *dt, uint32_t bin);

/* Drops bin's mapped pages from this process (the page cache keeps them);
 * false if none were counted resident. */
bool adb_dtier_trim(adb_dtier_t *dt, uint32_t bin);

void adb_dtier_stats(adb_dtier_t *dt, adb_dtier_stats_t *out);

/* adb_dtier_set_pread_reads: lookups (adb_dtier_get) read with pread
 * through descriptors kept open (at most a quarter of RLIMIT_NOFILE;
 * past that, or on an I/O error, through the mapping), so they make
 * nothing resident in the mappings: for a RAM budget that counts mapped
 * pages.  Call before any thread uses the tier. */
void adb_dtier_set_pread_reads(adb_dtier_t *dt, bool on);

#endif
