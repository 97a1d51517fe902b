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
 *   adb_db_commit_load()               writes the first commit record last
 *   adb_db_open_loaded(dir)            reopens a completed load (read-only)
 *
 * THREADS: one caller thread drives the bulk calls; the db runs its own
 * worker threads (cfg.threads) for scanning and hashing.  Query functions
 * may be called from any thread once loading is finished. */
#ifndef ADB_DB_DB_H
#define ADB_DB_DB_H

#include "index/index.h"
#include "store/acctfile.h"
#include "util/io.h"
#include "util/util.h"

typedef struct adb_db      adb_db_t;
typedef struct adb_eng_ext adb_eng_ext_t;

typedef enum adb_db_hash_mode {
    ADB_DB_HASH_NONE = -1,
    ADB_DB_HASH_CURRENT = ACCTDB_LTHASH_CURRENT,
    ADB_DB_HASH_LEGACY = ACCTDB_LTHASH_LEGACY,
} adb_db_hash_mode_t;

typedef struct adb_db_cfg {
    char const     *dir;               /* created if missing; must be empty */
    unsigned        threads;           /* worker threads; 0 = number of CPUs */
    uint64_t        expected_accounts; /* index pre-size hint */
    uint64_t        backlog_max_sz;    /* bytes written but not yet scanned; 0 = 512 MiB */
    adb_io_t const *io;                /* the new database's file operations (NULL: adb_io()) */
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

/* adb_db_bulk_watch: the scans note the keys of records owned by owners[]
 * (at most 4; before the first file), so adb_db_owned_each can visit them
 * without walking every account (the bank module's vote and stake
 * programs). */
void adb_db_bulk_watch(adb_db_t *db, acctdb_pubkey_t const *owners, size_t n);

/* adb_db_owned_each: calls fn for every live account (newest version,
 * lamports > 0) now owned by owner, a watched owner, in pubkey order.
 * Errors: fn's, IO, NOMEM. */
int adb_db_owned_each(adb_db_t *db, acctdb_pubkey_t const                   *owner,
                      int (*fn)(void *ctx, acctdb_account_t const *a), void *ctx);

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

/* adb_db_versions: every version of key, newest first: *v_out is vb (16
 * entries) when they fit, else an adb_malloc'ed array the caller frees
 * (adb_db_versions_free).  Errors: NOMEM. */
#define ADB_DB_VERS_INLINE 16
int  adb_db_versions(adb_db_t *db, uint8_t const key[32], adb_index_ver_t vb[ADB_DB_VERS_INLINE],
                     adb_index_ver_t **v_out, size_t *n_out);
void adb_db_versions_free(adb_index_ver_t *v, adb_index_ver_t const *vb);

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

/* ---- the commit record --------------------------------------------------
 * DIR/acctdb.commit holds two 4 KiB commit records (slots), written in
 * place in turn (LMDB's two meta pages): commit gen goes to slot gen & 1.
 * Each names the durable root (slot, bank hash, lattice checksum,
 * capitalization), a flags word, the index generation, and an immutable
 * catalog file DIR/catalog-<gen> (by length and BLAKE3): the root bank, the
 * rooted history the next snapshot's blockhash queue and status cache
 * need, every storage (slot, extent, length, seal), the origin files'
 * checksums and the root's bank state.  A commit writes and fdatasyncs the
 * catalog, fsyncs the directory, then writes and fdatasyncs its slot:
 * everything a record names is durable before the record.  Open takes the
 * newest valid slot (checksum, catalog present and intact), so a torn
 * write of the newest leaves the previous one.  A directory with neither
 * acctdb.commit nor the format-2 acctdb.meta (read as before; the first
 * commit replaces it) refuses to open. */
#define ADB_DB_COMMIT_NAME  "acctdb.commit"
#define ADB_DB_META_NAME    "acctdb.meta" /* formats 1 and 2: one record, renamed into place */
#define ADB_DB_COMMIT_CLEAN 1u            /* flags: written by the final commit of a close */

/* Where acctdb's own per-account state stands (db_xstate.h): the image
 * generation, and the bytes of its log that the commit names. */
typedef struct adb_xs_pos {
    bool     has; /* the database has such state */
    uint64_t gen, log_len;
    uint32_t log_crc;
} adb_xs_pos_t;

typedef struct adb_db_meta {
    uint32_t           version;        /* of the record read (ADB_DB_FORMAT_VERSION when written) */
    uint64_t           slot;           /* the durable root */
    uint64_t           base_slot;      /* UINT64_MAX if no incremental was loaded */
    adb_db_totals_t    totals;         /* of the load that created the database */
    acctdb_bank_info_t root;           /* the root bank */
    uint64_t           last_full_slot; /* last full snapshot (loaded or written); UINT64_MAX none */
    uint64_t           origin_slot;
    acctdb_bank_info_t *hist; /* rooted banks, oldest first (lt_hash not kept) */
    uint32_t            hist_cnt;
    uint8_t const      *ext; /* the durable root's bank state (src/bank's blob); may be NULL */
    size_t              ext_sz;
    uint8_t             origin_ck[2][32]; /* BLAKE3-256 of manifest.bin, status_cache.bin */
    uint8_t             origin_has_ck;    /* bit 0: manifest, bit 1: status cache */
    /* the commit record (format 3); read: the chosen one's, 0 for format 1-2 */
    uint64_t gen;       /* read only: the commit generation */
    uint32_t flags;     /* ADB_DB_COMMIT_CLEAN */
    uint64_t index_gen; /* the index file index-<gen> it names (a close's CLEAN commit,
                         * db_ixfile.c); 0: none, open rebuilds the index */
    adb_xs_pos_t xs;    /* acctdb's own state (catalog section "XST1"; absent: none) */
} adb_db_meta_t;

/* Writes DIR/manifest.bin and DIR/status_cache.bin (raw copies of the
 * archive's; either may be NULL), fsyncs every segment and the directories,
 * then writes the first commit record (gen 1, CLEAN: nothing else has the
 * database open yet). */
int adb_db_commit_load(adb_db_t *db, adb_db_meta_t const *meta, void const *manifest,
                       size_t manifest_sz, void const *status_cache, size_t status_cache_sz);

/* Commits meta (segments already durable) as the next generation: catalog,
 * directory fsync, then the slot; the catalog neither slot names any more
 * is unlinked, and a format-2 acctdb.meta is removed (migration).  meta's
 * flags and index_gen are written as given.  Errors: FULL (ENOSPC),
 * -errno, NOMEM; after an error the old records stand. */
int adb_db_write_meta(adb_db_t *db, adb_db_meta_t const *meta);

/* For tests of the migration: writes meta as a format-2 DIR/acctdb.meta
 * (temporary name, fsync, rename, directory fsync), what acctdb wrote
 * before format 3. */
int adb_db_write_meta_v2(adb_db_t *db, adb_db_meta_t const *meta);

/* The commit generation (0: none yet, or a format-2 record) and the flags
 * of the newest durable commit record of an open database. */
uint64_t adb_db_commit_gen(adb_db_t const *db, uint32_t *flags_out);

/* What DIR/acctdb.commit says, read without opening the database: the
 * newest valid record's fields, and why each slot is or is not valid. */
typedef struct adb_db_commit_info {
    uint64_t gen, root_slot, capitalization, index_gen, catalog_gen;
    uint32_t flags, seg_cnt;
    uint8_t  bank_hash[32], lt_checksum[32];
    bool     valid[2];
    char     why[2][160]; /* "" when valid */
} adb_db_commit_info_t;
/* Errors: NOT_FOUND (no acctdb.commit), CORRUPT (no valid slot: both
 * reasons in err), UNSUPPORTED_VERSION, -errno. */
int adb_db_commit_peek(char const *dir, adb_db_commit_info_t *out, adb_err_t *err);

/* The files a database directory holds at its top level, for tools that
 * recognise or remove one (src/net's follower): adb_db_is_database is true
 * when dirfd holds a commit record (acctdb.commit, or a format-2
 * acctdb.meta); adb_db_own_file is true for a name the database writes
 * there: the records, catalog-<gen>, index-<gen>, manifest.bin,
 * status_cache.bin, and
 * the temporaries of their atomic writes (".tmp-NAME").  accounts/ is the
 * database's too. */
bool adb_db_is_database(int dirfd);
bool adb_db_own_file(char const *name);

/* Opens a database directory read-only at its newest valid commit record
 * and rebuilds the index from every storage: each record is a version of
 * its key (the newest slot alive, older ones DEAD), and the alive bytes of
 * every storage are counted.  meta_out->hist is allocated (adb_free).
 * Errors: NOT_FOUND "incomplete load" when there is no commit record,
 * CORRUPT on a bad record (both slots invalid: each slot's reason) or
 * file, UNSUPPORTED_VERSION for a newer format. */
int adb_db_open_loaded(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out, adb_err_t *err);

/* As adb_db_open_loaded, calling rec_fn for every record indexed (the
 * engine fills its owner index this way), every file operation through io
 * (NULL: adb_io()), the database's table from here on.  With ADB_DB_OPEN_RECLAIM (the
 * engine, under the directory lock) the open first makes the record it
 * chose durable, then gives back what no valid record names: segment bytes
 * past the last storage either valid slot names (a flush killed before its
 * commit) are truncated, segments past the last named are unlinked, and so
 * are catalogs no valid slot names and temporaries; extents only the older
 * slot names (shrink retired them at the newer) are left in
 * adb_db_t.orphans for the engine to punch after the next commit. */
#define ADB_DB_OPEN_RECLAIM 1u
/* ADB_DB_OPEN_NO_SCAN: the index is left empty; the caller loads it (the
 * engine: the index file) or calls adb_db_index_scan. */
#define ADB_DB_OPEN_NO_SCAN 2u
typedef void (*adb_db_rec_fn)(void *ctx, adb_acct_rec_t const *r);
int adb_db_open_dir(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out,
                    adb_db_rec_fn rec_fn, void *rec_ctx, uint32_t bin_bits, unsigned flags,
                    adb_io_t const *io, adb_err_t *err);

/* adb_db_index_scan: what adb_db_open_dir does last unless NO_SCAN:
 * indexes every storage, oldest slot first (rec_fn gets each record),
 * counting alive bytes, and checks each storage's seal (its scan end and
 * CRC-32C, meta->version >= 2; a format-1 record's seals are taken).
 * threads workers (0: one per CPU, at most 16) each take the keys of one
 * part of the key space through every storage in slot order, so each key
 * still meets its versions oldest first; rec_fn must then be thread-safe.
 * Errors: CORRUPT (a seal or record), IO, NOMEM; on error close db. */
int adb_db_index_scan(adb_db_t *db, adb_db_meta_t const *meta, unsigned threads, adb_err_t *err);
/* adb_db_index_scan_some: the same over the n storages which[] names (NULL:
 * storages 0..n-1), on top of what the index holds: the replay of an open
 * after a kill, over the storages its base lacks. */
int adb_db_index_scan_some(adb_db_t *db, adb_db_meta_t const *meta, unsigned threads,
                           uint32_t const *which, uint32_t n, adb_err_t *err);

/* Frees what adb_db_open_dir allocated in *m (history, bank state). */
void adb_db_meta_fini(adb_db_meta_t *m);

/* Stops workers, unmaps and closes everything. NULL is fine. */
void adb_db_close(adb_db_t *db);

/* ---- the live engine (db_eng.c and friends) ----------------------------
 * The engine opens a database directory at its root record and serves the
 * accounts database API (include/acctdb.h, "The accounts database"): banks
 * on forks in a write cache, reads at any live slot, roots, and the
 * background services.  The public wrappers live in src/snapshot (which
 * also creates databases and writes their snapshots). */

/* The calling thread's last engine error (per thread, so concurrent
 * readers never race on one message buffer). */
adb_err_t *adb_eng_err(void);

/* adb_eng_lock_dir: takes the database lock of DIR (an exclusive flock on
 * the directory itself, opened through io; no file is created) into
 * *fd_out (close it through io).  Errors: BUSY "database in use",
 * NOT_FOUND, -errno. */
int adb_eng_lock_dir(adb_io_t const *io, char const *dir, int *fd_out, adb_err_t *err);

/* Opens DIR (a completed load or an engine directory) under its lock:
 * lockfd is a lock adb_eng_lock_dir took (owned from here on, closed on
 * error too), or -1 to take it now.  watch[0..watch_cnt) (at most 4) are
 * owners whose accounts the owner index keeps even when cfg.owner_index is
 * off, so adb_eng_scan works for them (the bank module's vote and stake
 * programs).  Every file operation of the database goes through io (NULL:
 * adb_io(), the process default at this call), lockfd's too.  The index
 * is loaded from the index file the last clean close wrote when it fits
 * (db_ixfile.c), else rebuilt by scanning every storage; stats say which
 * and why.  Errors: BUSY "database in use", and those of adb_db_open_dir. */
int adb_eng_open(adb_db_t **db_out, char const *dir, int lockfd, acctdb_db_config_t const *cfg,
                 acctdb_pubkey_t const *watch, size_t watch_cnt, adb_io_t const *io,
                 adb_err_t *err);
/* adb_eng_shutdown: stops the services between passes (a pass in flight
 * finishes), flushes and commits the newest root (unless a durable write
 * failed) with the CLEAN flag, naming the index file written just before
 * (db_ixfile.c), frees everything and releases the lock, whatever happens; *rep
 * (may be NULL) says what it took.  Returns 0 when the newest root is
 * durable, else the final flush's error (FATAL when the database already
 * was; adb_eng_err() says why): the database then reopens at its last
 * durable root.  adb_eng_close: the same without a report. */
int adb_eng_shutdown(adb_db_t *db, acctdb_shutdown_report_t *rep);
int adb_eng_close(adb_db_t *db);

/* adb_eng_store_ex: adb_eng_store with flags: ADB_STORE_COMPRESSED_OK lets
 * it write over compressed accounts (compression itself does).  Without
 * it, a store touching a compressed account changes nothing and returns
 * ACCTDB_ERR_COMPRESSED. */
#define ADB_STORE_COMPRESSED_OK 1u
#define ADB_STORE_LOCKED        2u /* the caller holds wmu: FULL at once, no waiting */
int adb_eng_store_ex(adb_db_t *db, uint64_t slot, uint64_t parent, acctdb_account_t const *a,
                     size_t n, unsigned flags);
int adb_eng_store(adb_db_t *db, uint64_t slot, uint64_t parent, acctdb_account_t const *a,
                  size_t n);

/* adb_eng_compress: compresses keys[0..n) at slot (on parent), each
 * account's data becoming its hash (db_compress.c).  rc_out[i]: 0, or
 * COMPRESSED (already), NOT_FOUND, UNSUPPORTED (adb_avocado_compressible
 * refuses it), INVALID (twice in the call).  *done_out: how many were
 * compressed.  Returns 0, or an error of the whole call (slot, NOMEM,
 * FULL, FATAL) that changed nothing.
 * adb_eng_decompress: restores key from data at slot: data must hash to
 * the kept hash and have the kept length (MISMATCH otherwise, nothing
 * changes); a burned account needs lamports > 0 (else 0 keeps its own).
 * Errors: INVALID (not compressed, lamports wrong), MISMATCH, AGAIN, the
 * store's. */
int adb_eng_compress(adb_db_t *db, uint64_t slot, uint64_t parent, acctdb_pubkey_t const *keys,
                     size_t n, int *rc_out, size_t *done_out, uint64_t *bytes_out);
/* adb_eng_compress_idle: compresses, at slot on the root, the accounts
 * whose newest rooted version is at least idle_slots older than slot, the
 * longest idle first, at most limit (0: all).  Errors: as compress. */
int adb_eng_compress_idle(adb_db_t *db, uint64_t slot, uint64_t parent, uint64_t idle_slots,
                          uint64_t limit, acctdb_compress_report_t *rep);
int adb_eng_decompress(adb_db_t *db, uint64_t slot, uint64_t parent, uint8_t const key[32],
                       uint8_t const *data, size_t len, uint64_t lamports);
/* adb_eng_rent_sweep: acctdb_db_rent_sweep (db_compress.c). */
int adb_eng_rent_sweep(adb_db_t *db, uint64_t slot, uint64_t parent, char const *k, uint32_t n,
                       acctdb_rent_report_t *rep);
/* adb_eng_touch: one transaction's loads of keys[0..n) at open bank slot
 * (db_chilly.c, acctdb_db_touch).  adb_eng_chilly_bank: a bank's
 * loaded_bytes and the cold bytes its block charged. */
int adb_eng_touch(adb_db_t *db, uint64_t slot, acctdb_pubkey_t const *keys, size_t n, bool enforce,
                  uint8_t *cold_out, uint64_t *cold_bytes_out);
int adb_eng_chilly_bank(adb_db_t *db, uint64_t slot, uint64_t *loaded_out, uint64_t *cold_out);
int adb_eng_chilly_cached(adb_db_t *db, acctdb_pubkey_t *out, size_t max, size_t *cnt_out);
/* adb_eng_import_sidecar: a new database's own state from the sidecar
 * p[0..sz) of the archive it was created from (name: for messages),
 * checked to belong to its root, then committed.  Errors: those of
 * adb_xs_sidecar_import, the commit's. */
int adb_eng_import_sidecar(adb_db_t *db, uint8_t const *p, size_t sz, char const *name,
                           adb_err_t *err);
/* The Avocado trie (db_compress.c): acctdb_db_trie_info, acctdb_db_prove,
 * acctdb_db_check_create. */
void adb_eng_trie_info(adb_db_t *db, acctdb_trie_info_t *out);
void adb_eng_prove(adb_db_t *db, uint8_t const key[32], acctdb_trie_proof_t *out);
int  adb_eng_check_create(adb_db_t *db, uint64_t slot, uint8_t const key[32],
                          acctdb_create_cred_t const *cred);
/* adb_eng_compressed_info: key's compression record from slot (owner and
 * executable only for a burned account).  NOT_FOUND if not compressed. */
int adb_eng_compressed_info(adb_db_t *db, uint64_t slot, uint8_t const key[32],
                            acctdb_compressed_t *out);
/* Freezes slot's bank: lattice hash, capitalization, data length and the
 * bank hash (hash/bankhash.h, lattice era) with hard_fork_cnt hard forks in
 * (parent, slot]; lps is recorded as the bank's lamports_per_signature (the
 * caller knows the cluster's hard forks and fees). */
int adb_eng_freeze(adb_db_t *db, uint64_t slot, acctdb_bank_meta_t const *meta,
                   uint64_t hard_fork_cnt, uint64_t lps, acctdb_bank_info_t *info_out);

/* adb_eng_hist: the newest rooted banks the engine remembers, at most 301
 * (the root last), oldest first, into out (ADB_ENG_HIST_MAX entries);
 * returns how many.  Their lattice hashes are not kept (zero). */
#define ADB_ENG_HIST_MAX 301
uint32_t adb_eng_hist(adb_db_t *db, acctdb_bank_info_t *out);
int      adb_eng_root(adb_db_t *db, uint64_t slot);

/* What a read service needs (db_serve.c; acctdb.h documents each). */
int  adb_eng_slots(adb_db_t *db, acctdb_db_slots_t *out);
int  adb_eng_confirm(adb_db_t *db, uint64_t slot);
void adb_eng_set_root_hook(adb_db_t *db, acctdb_root_hook_fn fn, void *ctx);
int  adb_eng_token_scan(adb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key, bool by_mint,
                        acctdb_pubkey_t const *program, acctdb_pubkey_t const *cursor, size_t limit,
                        acctdb_scan_fn fn, void *ctx, acctdb_pubkey_t *next_out, bool *more_out);
int  adb_eng_load(adb_db_t *db, uint64_t slot, uint8_t const key[32], acctdb_account_t *out,
                  uint8_t *buf, size_t buf_max, uint64_t *slot_out);
int  adb_eng_load_batch(adb_db_t *db, uint64_t slot, acctdb_pubkey_t const *keys, size_t n,
                        acctdb_account_t *out, uint8_t *buf, size_t buf_sz, int *rc_out);
int  adb_eng_bank_info(adb_db_t *db, uint64_t slot, acctdb_bank_info_t *out);
/* The parent of a live bank (or of the root); NOT_FOUND otherwise. */
int      adb_eng_bank_parent(adb_db_t *db, uint64_t slot, uint64_t *parent_out);
int      adb_eng_scan(adb_db_t *db, uint64_t slot, acctdb_scan_filter_t const *f,
                      acctdb_pubkey_t const *cursor, size_t limit, acctdb_scan_fn fn, void *ctx,
                      acctdb_pubkey_t *next_out, bool *more_out);
uint64_t adb_eng_root_slot(adb_db_t *db, uint64_t *durable_out);
int      adb_eng_service_step(adb_db_t *db, acctdb_service_t which);
/* Background failures (a service thread's pass, a punch; stepped passes
 * are counted too): adb_eng_svc_err_take returns the last one once if no
 * call has returned it yet (its code; adb_eng_err() says what failed), else
 * 0; public write calls start with it.  adb_eng_svc_err: how many so far,
 * the last one's code and message ("" if none). */
int      adb_eng_svc_err_take(adb_db_t *db);
uint64_t adb_eng_svc_err(adb_db_t *db, int *code_out, char *msg_out, size_t msg_max);
int      adb_eng_stats(adb_db_t *db, acctdb_db_stats_t *out);
acctdb_db_config_t const *adb_eng_config(adb_db_t const *db);

/* Recomputes the lattice hash, capitalization and data length of the
 * durable root from the account files (alive versions) and compares them
 * with the root record; also checks the engine's invariants (adb_eng_check).
 * Errors: MISMATCH, CORRUPT, IO; err says what differed. */
int adb_eng_verify(adb_db_t *db, adb_err_t *err);

/* Checks the engine's invariants (tests call it after every service pass):
 *   - each storage's alive bytes and count equal what the index references;
 *   - every index storage version lies inside its storage and holds a record
 *     of that key;
 *   - every key has at most one alive storage version, and it is the newest
 *     storage version.
 * Takes the service lock (no pass runs meanwhile).  Errors: CORRUPT. */
int adb_eng_check(adb_db_t *db, adb_err_t *err);

/* ---- snapshots of the engine (used by src/snapshot) -------------------- */
/* The name suffix of a snapshot archive's sidecar (db_xstate.h). */
#define ADB_SIDECAR_SUFFIX ".acctdb"

typedef struct adb_eng_snap {
    acctdb_bank_info_t  root; /* the durable root being written */
    acctdb_bank_info_t *hist; /* rooted banks, oldest first (adb_free) */
    uint32_t            hist_cnt;
    uint64_t            last_full_slot; /* UINT64_MAX: none */
    uint64_t            origin_slot;
    uint32_t           *files; /* storages with alive records (slot > base_slot) */
    uint64_t           *sizes; /* their alive bytes */
    uint64_t           *slots;
    size_t              cnt;
    uint8_t            *side; /* the sidecar (<archive>.acctdb) bytes; NULL: none */
    size_t              side_sz;
} adb_eng_snap_t;

/* Flushes every rooted bank (under the service lock) and pins the durable
 * root for a snapshot: lists the storages whose alive records make up its
 * state (only those with slot > base_slot when base_slot != UINT64_MAX),
 * then lets the services go on (flush, purge; clean and shrink wait for
 * adb_eng_snap_end), so stores never wait for the archive.  Until
 * adb_eng_snap_end, the durable-root reads below (snap_get, each_owned,
 * snap_ext, emit) see the pinned root.  One snapshot at a time.  Always
 * pair with adb_eng_snap_end. */
int adb_eng_snap_begin(adb_db_t *db, uint64_t base_slot, adb_eng_snap_t *out, adb_err_t *err);
/* Streams the alive records of s->files[i], in storage order; fn gets
 * runs of record bytes; exactly s->sizes[i] bytes in total (else CORRUPT). */
typedef int (*adb_eng_bytes_fn)(void *ctx, void const *p, size_t sz);
int adb_eng_snap_emit(adb_db_t *db, adb_eng_snap_t const *s, size_t i, adb_eng_bytes_fn fn,
                      void *ctx);
/* ---- per-bank state of the layer above (the bank module) -------------- */

/* adb_eng_ext_get: a reference to the state of bank slot (a live bank or
 * the root); NOT_FOUND otherwise.  Release with adb_eng_ext_unref.  The
 * blob is immutable; its size may be 0 (never set since the origin). */
int         adb_eng_ext_get(adb_db_t *db, uint64_t slot, adb_eng_ext_t **ext_out);
void        adb_eng_ext_unref(adb_eng_ext_t *x);
void const *adb_eng_ext_data(adb_eng_ext_t const *x, size_t *sz_out);
/* adb_eng_ext_set: replaces the state of an open (unfrozen) bank with a
 * copy of p[0..sz).  Errors: INVALID (not an open bank), NOMEM. */
int adb_eng_ext_set(adb_db_t *db, uint64_t slot, void const *p, size_t sz);

/* adb_eng_origin_verify: checks the bytes of DIR/manifest.bin (which 0) or
 * DIR/status_cache.bin (1) against the checksum the root record keeps.
 * Errors: CORRUPT (differs; err says which file), 0 when the record keeps
 * none (format 1). */
int adb_eng_origin_verify(adb_db_t *db, int which, void const *p, size_t sz, adb_err_t *err);

/* Calls fn for every account owned by owner in the durable root (between
 * adb_eng_snap_begin and _end; the owner must be indexed: cfg.owner_index
 * or a watched owner), lamports > 0, in pubkey order.  Errors: fn's,
 * UNSUPPORTED (owner not indexed), IO. */
int adb_eng_snap_each_owned(adb_db_t *db, acctdb_pubkey_t const                   *owner,
                            int (*fn)(void *ctx, acctdb_account_t const *a), void *ctx);

/* The durable root's bank state (a reference; adb_eng_ext_unref it). */
adb_eng_ext_t *adb_eng_snap_ext(adb_db_t *db);

/* Reads pubkey's account in the durable root (for sysvars). */
int adb_eng_snap_get(adb_db_t *db, uint8_t const key[32], adb_db_acct_t *out, uint8_t **buf,
                     size_t *buf_cap);
/* Releases the lock; full_slot != UINT64_MAX records that a full snapshot
 * of that slot was written (the root record is rewritten). */
int adb_eng_snap_end(adb_db_t *db, adb_eng_snap_t *s, uint64_t full_slot);

/* Format of the commit record and the store layout.  2 added per-storage
 * seals (CRC-32C and scan end), the origin files' checksums and the root's
 * bank state; 3 replaced acctdb.meta with acctdb.commit's two slots and
 * catalog-<gen> (the format-2 body).  Formats 1 and 2 are read (storages of
 * a format-1 record are sealed at open). */
#define ADB_DB_FORMAT_VERSION 3u

#endif
