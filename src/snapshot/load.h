/* src/snapshot/load.h - loading and verifying snapshot archives.
 *
 * One pass over each archive: read -> decompress -> tar events -> the
 * version, manifest and status cache are buffered and decoded; account
 * files stream into the store directory through db's bulk API, which
 * sanitizes, indexes and hashes them on worker threads.  A full snapshot is
 * loaded first; a matching incremental is overlaid on it (its files with
 * slot > base).  Verification follows FORMAT.md 1.3: the archive name's
 * hash decides whether the lattice checksum or the merkle accounts hash is
 * checked.  Only when every check passes is the completion record written;
 * a failed or interrupted load leaves a directory that refuses to open.
 *
 * THREADS: one caller thread; db runs the workers. */
#ifndef ADB_SNAPSHOT_LOAD_H
#define ADB_SNAPSHOT_LOAD_H

#include "bank/bank.h"
#include "db/db.h"
#include "snapshot/manifest.h"
#include "snapshot/naming.h"
#include "snapshot/stream.h"
#include "snapshot/tar.h"

typedef enum adb_check_status {
    ADB_CHECK_PASS = 0,
    ADB_CHECK_FAIL = 1,
    ADB_CHECK_SKIP = 2,
} adb_check_status_t;

typedef struct adb_check {
    char               name[40];
    adb_check_status_t status;
    char               detail[600];
} adb_check_t;

#define ADB_CHECKS_MAX 64

typedef void (*adb_progress_fn)(void *ctx, char const *what, uint64_t done, uint64_t total);

typedef struct adb_load_opts {
    char const         *store_dir;     /* where account files go (created, must be empty) */
    bool                verify;        /* recompute hashes and compare */
    bool                strict_name;   /* a non-conforming archive name is an error */
    bool                manifest_only; /* stop once the manifest is decoded */
    unsigned            threads;       /* 0 = CPUs */
    adb_decomp_limits_t dlim;
    adb_tar_limits_t    tlim;
    uint64_t            max_meta_sz;   /* manifest / status cache size cap (default 4 GiB) */
    uint64_t            max_early_sz;  /* account bytes accepted before the manifest
                                        * (default 64 MiB; Agave puts metadata first) */
    bool engine_root;                  /* the root record's lattice hash uses the current
                                        * formula (recomputed for merkle and legacy eras),
                                        * as a live database continues from it */
    adb_bank_genesis_t const *genesis; /* the cluster's: genesis field checks (else skipped) */
    adb_progress_fn           progress;
    void                     *progress_ctx;
    adb_io_t const           *io; /* the new database's file operations (NULL: adb_io());
                                   * the archives are read through adb_io() */
    volatile int const *stop;     /* non-zero: STOPPED at the next chunk or step */
} adb_load_opts_t;

void adb_load_opts_default(adb_load_opts_t *o);

/* What one archive held. */
typedef struct adb_archive_info {
    char            path[4096];
    bool            name_ok; /* follows the naming pattern */
    adb_snap_name_t name;
    adb_comp_kind_t comp;
    uint64_t        compressed_sz;
    uint64_t        tar_sz;
    uint64_t        frames;
    uint64_t        entries;
    uint64_t        account_files;
    uint64_t        account_bytes;
    uint64_t        manifest_slot;
    bool            has_manifest;
    adb_manifest_t  manifest;
    uint8_t        *manifest_raw;
    size_t          manifest_raw_sz;
    uint8_t        *status_cache_raw;
    size_t          status_cache_raw_sz;
} adb_archive_info_t;

typedef struct adb_snap {
    adb_load_opts_t    opts;
    adb_db_t          *db;
    adb_archive_info_t full, inc;
    bool               has_inc;
    char const        *era;     /* "lattice", "merkle", "transitional" */
    char const        *formula; /* lattice formula that matched, or NULL */
    adb_db_totals_t    totals;  /* over the final live set */
    uint8_t            lt_checksum[32];
    bool               has_lt_checksum;
    uint8_t            full_merkle[32]; /* merkle era: the full's accounts hash */
    bool               has_full_merkle;
    uint64_t           full_capitalization;
    adb_check_t        checks[ADB_CHECKS_MAX];
    size_t             check_cnt;
    bool               verified; /* every check passed (or skipped) */
    bool               complete; /* completion record written */
    adb_err_t          err;
} adb_snap_t;

/* Loads full (and inc if not NULL).  *snap_out is set even on failure (so
 * the checks made so far and the message can be read) unless allocation
 * failed; close it with adb_snap_close.  Returns 0 only if the load
 * finished and every check passed. */
int  adb_snap_load(adb_snap_t **snap_out, char const *full, char const *inc,
                   adb_load_opts_t const *opts);
void adb_snap_close(adb_snap_t *s);

/* Loads a genesis.bin as the state at slot 0 (its accounts and rewards
 * pools in one account file for slot 0) into opts->store_dir, with a
 * completion record.  As adb_snap_load, *snap_out is set even on failure. */
int adb_snap_load_genesis(adb_snap_t **snap_out, char const *path, adb_load_opts_t const *opts);

/* adb_genesis_bank_read: what the bank checks need of a genesis.bin
 * (adb_bank_genesis_t).  Errors: CORRUPT, -errno, with the path in err. */
int adb_genesis_bank_read(char const *path, adb_bank_genesis_t *out, adb_err_t *err);

/* The root bank of a database created from manifest m (its bank fields,
 * lattice hash, blockhash). */
void adb_snap_root_info(adb_manifest_t const *m, acctdb_bank_info_t *in);

#endif
