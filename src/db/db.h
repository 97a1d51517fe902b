/* src/db/db.h - the database: the only module that ties account files
 * (store) and the index together.
 *
 * This stage offers the BULK LOAD used by the snapshot loader and the
 * read-only queries its commands need:
 *
 *   adb_db_bulk_create(dir)            empty DIR/accounts, workers started
 *     adb_db_bulk_file_begin/append/end  one account file streamed to disk;
 *                                        end() queues its scan (sanitize,
 *                                        index "newest wins", lattice hash)
 *     adb_db_bulk_wait()                 all queued work done
 *   adb_db_bulk_totals()               live count, capitalization, data
 *                                      length, lattice hash over the live set
 *                                      (losers of duplicate pubkeys mixed out)
 *   adb_db_commit_load()               writes the completion record last
 *   adb_db_open_loaded(dir)            reopens a completed load (read-only)
 *
 * THREADS: one caller thread drives the bulk calls; the db runs its own
 * worker threads (cfg.threads) for scanning and hashing.  Query functions
 * may be called from any thread once loading is finished. */
#ifndef ADB_DB_DB_H
#define ADB_DB_DB_H

#include "index/index.h"
#include "util/util.h"

typedef struct adb_db adb_db_t;

typedef enum adb_db_hash_mode {
    ADB_DB_HASH_NONE = -1,
    ADB_DB_HASH_CURRENT = ACCTDB_LTHASH_CURRENT,
    ADB_DB_HASH_LEGACY = ACCTDB_LTHASH_LEGACY,
} adb_db_hash_mode_t;

typedef struct adb_db_cfg {
    char const *dir;               /* created if missing; must be empty */
    unsigned    threads;           /* worker threads; 0 = number of CPUs */
    uint64_t    expected_accounts; /* index pre-size hint */
    uint64_t    backlog_max_sz;    /* bytes written but not yet scanned; 0 = 1 GiB */
} adb_db_cfg_t;

/* Totals over the live set (newest version per pubkey, lamports > 0). */
typedef struct adb_db_totals {
    uint64_t        records; /* account records scanned */
    uint64_t        live_cnt;
    uint64_t        capitalization; /* sum of live lamports */
    uint64_t        data_len;       /* sum of live data lengths */
    uint64_t        dup_cnt;        /* records superseded by a newer version */
    acctdb_lthash_t lthash;         /* valid if hashing was on */
    int             formula;        /* adb_db_hash_mode_t used */
    bool            has_sums;       /* capitalization and data_len are computed
                                     * (not without hashing: that would mean
                                     * reading every superseded version back) */
} adb_db_totals_t;

int adb_db_bulk_create(adb_db_t **db_out, adb_db_cfg_t const *cfg, adb_err_t *err);

/* Sets the per-account formula used while scanning (before the first file
 * ends); NONE skips hashing. */
void adb_db_bulk_set_hash(adb_db_t *db, adb_db_hash_mode_t mode);

/* Starts an account file for slot with size bytes (as the archive
 * declares); *file_out is the db's file index.  Errors: INVALID if slot
 * already has a file, IO/-errno from creating it. */
int adb_db_bulk_file_begin(adb_db_t *db, uint64_t slot, uint64_t size, uint32_t *file_out);
int adb_db_bulk_file_append(adb_db_t *db, uint32_t file, void const *p, size_t sz);
/* Finishes the file; only the first valid_len bytes hold records
 * (FORMAT.md 2.2).  Queues its scan; may block while the backlog of
 * unscanned bytes is over budget. */
int adb_db_bulk_file_end(adb_db_t *db, uint32_t file, uint64_t valid_len);
/* Sizes the index for about `accounts` keys (from a manifest's declared
 * bytes) so the load does not rehash as it grows. */
int adb_db_bulk_reserve(adb_db_t *db, uint64_t accounts);

/* True if slot already has a file. */
bool adb_db_has_slot(adb_db_t const *db, uint64_t slot);

/* Waits until every queued scan is done; returns the first worker error
 * (message in adb_db_errmsg). */
int adb_db_bulk_wait(adb_db_t *db);

/* Totals of everything loaded so far (waits first).  With want_sums, the
 * capitalization, data length (and the lattice hash, if hashing is on) are
 * exact: every superseded version is read back and mixed out; without, only
 * the counts are (from the index), which costs no I/O. */
int adb_db_bulk_totals(adb_db_t *db, bool want_sums, adb_db_totals_t *out);

/* Recomputes the lattice hash of the live set with formula f by reading
 * every live record again (used when the archive's hash was made with the
 * other formula). */
int adb_db_lthash_live(adb_db_t *db, acctdb_lthash_formula_t f, acctdb_lthash_t *out);

/* Storages (account files): slot, bytes, valid length; their bytes are
 * read with adb_db_storage_read (e.g. to write a snapshot). */
typedef struct adb_db_storage {
    uint64_t slot, size, valid_len;
} adb_db_storage_t;
uint32_t adb_db_storage_cnt(adb_db_t const *db);
int      adb_db_storage_get(adb_db_t const *db, uint32_t i, adb_db_storage_t *out);
int      adb_db_storage_read(adb_db_t const *db, uint32_t i, uint64_t off, void *buf, size_t sz);

char const *adb_db_errmsg(adb_db_t const *db);
char const *adb_db_dir(adb_db_t const *db);
uint32_t    adb_db_file_cnt(adb_db_t const *db);

/* ---- queries ------------------------------------------------------------ */

/* A loaded account: fields plus its slot; data is owned by the caller's
 * buffer (see adb_db_get). */
typedef struct adb_db_acct {
    acctdb_account_t a;
    uint64_t         slot;
} adb_db_acct_t;

/* Looks up pubkey's newest version.  Returns NOT_FOUND if absent or if
 * the newest version has zero lamports.  Data is read into *buf (grown with
 * adb_realloc, caller frees with adb_free); out->a.data points into it. */
int adb_db_get(adb_db_t *db, uint8_t const pubkey[32], adb_db_acct_t *out, uint8_t **buf,
               size_t *buf_cap);

/* Visits live accounts in pubkey order (include_zero: also zero-lamport
 * winners).  out->a.data is valid during the call only.  A non-zero return
 * from fn stops the walk and is returned. */
typedef int (*adb_db_visit_fn)(void *ctx, adb_db_acct_t const *acct);
int adb_db_visit_sorted(adb_db_t *db, bool include_zero, adb_db_visit_fn fn, void *ctx);

/* ---- completion record -------------------------------------------------- */
typedef struct adb_db_meta {
    uint64_t        slot;
    uint64_t        base_slot; /* UINT64_MAX if no incremental */
    adb_db_totals_t totals;
} adb_db_meta_t;

/* Writes DIR/manifest.bin and DIR/status_cache.bin (raw copies of the
 * archive's), fsyncs every account file and the directories, then writes
 * the completion record DIR/acctdb.meta atomically (last). */
int adb_db_commit_load(adb_db_t *db, adb_db_meta_t const *meta, void const *manifest,
                       size_t manifest_sz, void const *status_cache, size_t status_cache_sz);

/* Opens a completed load read-only and rebuilds its index.  Errors:
 * NOT_FOUND "incomplete load" when the completion record is missing,
 * CORRUPT on a bad record, UNSUPPORTED_VERSION for a newer format. */
int adb_db_open_loaded(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out, adb_err_t *err);

/* Stops workers, unmaps and closes everything. NULL is fine. */
void adb_db_close(adb_db_t *db);

#define ADB_DB_META_NAME      "acctdb.meta"
#define ADB_DB_FORMAT_VERSION 1u

#endif
