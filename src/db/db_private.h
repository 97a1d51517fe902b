/* src/db/db_private.h - internals shared by the files of src/db. */
#ifndef ADB_DB_PRIVATE_H
#define ADB_DB_PRIVATE_H

#include "db/db.h"
#include "hash/lthash.h"
#include "store/acctfile.h"

#include <pthread.h>
#include <stdatomic.h>

/* Index values: file index (32 bits) | record offset / 8 (31 bits) | a
 * zero-lamport flag (bit 0).  Within one slot (one file) the order of values
 * is the order of offsets, which is what "newest wins" needs. */
static inline uint64_t
adb_db_loc(uint32_t file, uint64_t off, bool zero_lamports) {
    return (uint64_t)file << 32 | (off >> 3) << 1 | (zero_lamports ? 1u : 0u);
}
static inline uint32_t
adb_db_loc_file(uint64_t v) {
    return (uint32_t)(v >> 32);
}
static inline uint64_t
adb_db_loc_off(uint64_t v) {
    return ((v & 0xFFFFFFFFu) >> 1) << 3;
}
static inline bool
adb_db_loc_is_zero(uint64_t v) {
    return v & 1u;
}

/* An account file ("storage") is one extent of a segment file: the slot's
 * records at seg_off (4 KiB aligned) in accounts/seg-<n>.  Packing storages
 * into large segments replaces one inode creation and one fsync per slot
 * with one per segment; the engine reclaims a dead storage's extent by
 * punching a hole. */
#define ADB_DB_SEG_MAX_SZ (1ull << 30)
#define ADB_DB_SEGS_MAX   65536u

typedef struct adb_db_seg {
    int      fd;   /* buffered: queries, large write-through storages, sync */
    int      dfd;  /* O_DIRECT (loading): storage writes and loser re-reads; -1 if refused */
    uint64_t tail; /* next free offset (producer thread only) */
} adb_db_seg_t;

typedef struct adb_db_file {
    uint64_t slot;
    uint64_t size;      /* declared size */
    uint64_t written;   /* bytes received so far */
    uint64_t valid_len; /* record bytes (FORMAT.md 2.2) */
    uint32_t seg;       /* segment holding the bytes */
    uint64_t seg_off;   /* their offset in it (4 KiB aligned) */
    uint8_t *map;       /* the bytes while being scanned/hashed: the
                         * pool buffer, or a mapping of a large file */
    uint64_t    map_sz;
    bool        in_buf; /* map is a pool buffer (written by a WRITE job) */
    int         buf_class;
    _Atomic int jobs; /* outstanding jobs on this file */
    uint32_t    idx;
} adb_db_file_t;

/* Pool of reusable aligned buffers for account files being loaded: power
 * of two classes from 64 KiB to 256 MiB.  Reusing memory avoids faulting in
 * fresh pages for every file (the dominant cost of a naive load). */
#define ADB_DB_BUF_MIN_CLASS 16
#define ADB_DB_BUF_MAX_CLASS 28
#define ADB_DB_BUF_CLASSES   (ADB_DB_BUF_MAX_CLASS - ADB_DB_BUF_MIN_CLASS + 1)

typedef struct adb_db_buf {
    struct adb_db_buf *next;
} adb_db_buf_t;

#define ADB_DB_FILE_CHUNK      4096u
#define ADB_DB_FILE_CHUNKS_MAX 4096u /* 16.7 M files */

typedef struct adb_db_job {
    uint8_t  kind; /* JOB_SCAN, JOB_HASH, JOB_WRITE, JOB_LOSERS (off..end index losers) */
    uint32_t file;
    uint64_t off, end;
} adb_db_job_t;

typedef struct adb_db_loser {
    uint64_t slot, val;
} adb_db_loser_t;

/* Per-worker accumulators, merged when loading finishes. */
typedef struct adb_db_worker {
    adb_db_t       *db;
    pthread_t       thr;
    bool            started;
    acctdb_lthash_t sum;
    uint64_t        records, nonzero, lamports, data_len;
    /* Superseded versions read back by LOSERS jobs (subtracted at the end). */
    acctdb_lthash_t lose_sum;
    uint64_t        lose_cnt, lose_lamports, lose_data_len;
    uint8_t        *scratch; /* aligned read window for LOSERS jobs */
    adb_db_loser_t *losers;
    size_t          loser_cnt, loser_cap;
} adb_db_worker_t;

struct adb_db {
    char             dir[4096];
    int              dirfd;
    int              accdirfd;
    adb_db_seg_t    *segs; /* ADB_DB_SEGS_MAX entries */
    _Atomic uint32_t seg_cnt;
    adb_index_t     *ix;
    adb_db_file_t  **chunks; /* ADB_DB_FILE_CHUNKS_MAX pointers */
    _Atomic uint32_t file_cnt;
    int              hash_mode;

    /* workers and their queue */
    pthread_mutex_t  mu;
    pthread_cond_t   work_cv, idle_cv, room_cv;
    adb_db_job_t    *q;
    size_t           q_cap, q_head, q_cnt;
    size_t           pending;              /* jobs queued or running */
    uint64_t         backlog, backlog_max; /* bytes of files in flight */
    adb_db_loser_t  *losers;               /* all losers sorted by location (during totals) */
    adb_db_buf_t    *pool[ADB_DB_BUF_CLASSES];
    uint64_t         pool_sz;
    bool             stopping;
    unsigned         nworkers;
    adb_db_worker_t *workers;

    int       err_code; /* first error (under mu) */
    adb_err_t err;
};

static inline adb_db_file_t *
adb_db_file(adb_db_t const *db, uint32_t idx) {
    return &db->chunks[idx / ADB_DB_FILE_CHUNK][idx % ADB_DB_FILE_CHUNK];
}

static inline int
adb_db_file_fd(adb_db_t const *db, adb_db_file_t const *f) {
    return db->segs[f->seg].fd;
}

/* Maps a storage's bytes (PROT_READ); NULL with errno on failure. */
void *adb_db_file_map(adb_db_t const *db, adb_db_file_t const *f, uint64_t len);

/* Records the first error (thread-safe). */
int adb_db_fail(adb_db_t *db, int code, char const *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads the record at loc into *buf (grown as needed). */
int adb_db_read_rec(adb_db_t *db, uint64_t slot, uint64_t loc, adb_db_acct_t *out, uint8_t **buf,
                    size_t *buf_cap);

/* Frees the buffer pool (at close). */
void adb_db_pool_free(adb_db_t *db);

/* Allocates the db struct with its index and file table (no workers). */
int adb_db_alloc(adb_db_t **db_out, char const *dir, uint64_t expected, adb_err_t *err);

#endif
