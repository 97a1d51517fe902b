/* src/db/db_private.h - internals shared by the files of src/db. */
#ifndef ADB_DB_PRIVATE_H
#define ADB_DB_PRIVATE_H

#include "db/db.h"
#include "db/db_xstate.h"
#include "hash/lthash.h"
#include "store/acctfile.h"
#include "util/io.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

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
    uint8_t *map;  /* PROT_READ, MAP_SHARED view of [0, map_sz): readers copy
                    * records from it (no system call per read); NULL: pread */
    uint64_t map_sz;
} adb_db_seg_t;

/* Maps segment k (at least ADB_DB_SEG_MAX_SZ, or its tail if larger) unless
 * it already covers the tail; failure leaves reads on pread. */
void adb_db_seg_map(adb_db_t *db, uint32_t k);

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
    bool        in_buf;   /* map is a pool buffer (written by a WRITE job) */
    bool        map_heap; /* map is an adb_malloc'ed copy (the mapping failed) */
    int         buf_class;
    _Atomic int jobs; /* outstanding jobs on this file */
    uint32_t    idx;
    /* engine accounting: bytes and records of versions the index holds
     * alive here (exact; FORMAT-level "live bytes") */
    _Atomic uint64_t alive_bytes;
    _Atomic uint64_t alive_cnt;
    _Atomic bool     replaced; /* shrink moved its records elsewhere */
    /* seal: CRC-32C of the `written` bytes and the end of the last record
     * the scan saw, recorded in the root record and checked at open, by
     * verify and before a snapshot is written */
    uint32_t crc;
    uint64_t scan_end;
    uint32_t gen; /* +1 each time the engine reuses the entry for a new storage
                   * (db_epoch.c): read cache keys carry it */
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
    acctdb_lthash_t  lose_sum;
    uint64_t         lose_cnt, lose_lamports, lose_data_len;
    uint8_t         *scratch; /* aligned read window for LOSERS jobs */
    acctdb_pubkey_t *owned;   /* keys of records of a watched owner (any version) */
    size_t           owned_cnt, owned_cap;
    adb_db_loser_t  *losers;
    size_t           loser_cnt, loser_cap;
} adb_db_worker_t;

/* ---- engine -----------------------------------------------------------------
 * Index values: a storage location (adb_db_loc, bits 0..61) with the DEAD
 * flag when clean has superseded it (the record still exists physically
 * until shrink drops it), or a write-cache account (CACHE flag | pointer). */
#define ADB_VAL_CACHE (1ull << 63)
#define ADB_VAL_DEAD  (1ull << 62)

static inline bool
adb_val_is_cache(uint64_t v) {
    return v >> 63;
}
static inline bool
adb_val_is_dead(uint64_t v) {
    return !adb_val_is_cache(v) && (v & ADB_VAL_DEAD);
}

/* One version of one account in the write cache: immutable once indexed. */
typedef struct adb_cacct {
    uint64_t slot;
    uint64_t prev_slot;      /* version it supersedes, seen from the bank's parent
                              * (set at freeze); UINT64_MAX: none */
    uint64_t        prev_sz; /* that version's stored size */
    acctdb_pubkey_t pubkey;
    acctdb_pubkey_t owner;
    uint64_t        lamports, rent_epoch, data_len;
    bool            executable;
    bool            prev_moved; /* set at freeze: the version it supersedes has an owner
                                 * or token index pair this one lacks (a flush that
                                 * retires that version deletes the pair) */
    uint8_t data[];
} adb_cacct_t;

static inline adb_cacct_t *
adb_val_cacct(uint64_t v) {
    return (adb_cacct_t *)(uintptr_t)(v & ~ADB_VAL_CACHE);
}
static inline uint64_t
adb_cacct_val(adb_cacct_t const *c) {
    return (uint64_t)(uintptr_t)c | ADB_VAL_CACHE;
}

enum { ADB_BANK_OPEN, ADB_BANK_FROZEN, ADB_BANK_ROOTED, ADB_BANK_DEAD };

/* The state a layer above keeps per bank (src/bank: stake history, epoch
 * stakes): an immutable, reference-counted blob the engine never reads.  A
 * new bank shares its parent's; rooting carries it to the root; the root
 * record persists the durable root's. */
struct adb_eng_ext {
    _Atomic uint32_t refs;
    size_t           sz;
    uint8_t          data[];
};

typedef struct adb_bank {
    adb_eng_ext_t     *ext;     /* shared with its parent unless set; never NULL */
    struct adb_xdelta *xd;      /* acctdb's own state it changed (db_xstate.h); NULL: none */
    uint64_t           xloaded; /* Chilly loaded_bytes (from the parent, grown by loads) */
    uint64_t           xcold;   /* Chilly: cold bytes charged in this block (LOAD_LIMIT) */
    uint64_t           slot, parent;
    int                state;
    adb_cacct_t      **accts; /* open addressing by pubkey */
    uint32_t           cap, cnt;
    uint64_t           bytes; /* charge of the accounts in its map */
    acctdb_bank_info_t info;  /* valid once frozen */
} adb_bank_t;

/* Deferred frees (epoch-based reclamation). */
enum { ADB_RET_CACCT, ADB_RET_BANK, ADB_RET_EXTENT };
typedef struct adb_retired {
    uint64_t epoch;
    int      kind;
    uint32_t file; /* EXTENT: the replaced storage's entry, reused once freed */
    void    *p;
    uint32_t seg;
    uint64_t off, len;
    uint64_t gen; /* EXTENT: the first commit that no longer names it; the
                   * older slot still does until gen + 1 is durable */
} adb_retired_t;

/* What the write cache budget (cache_bytes) is charged for an account
 * version: its allocation as malloc sizes it (an 8-byte header, rounded up
 * to 16), its share of the index (a 16-byte version in a key's version
 * list, which grows by doubling: 32) and the entry it takes in the retired
 * list when flush or purge unlinks it (every version ends there, all of a
 * flush's at once).  Charged when stored, uncharged when the version is
 * freed (after readers left), not when flush or purge unlink it:
 * retired-but-held memory counts. */
#define ADB_CACHE_VER_CHARGE (32u + sizeof(adb_retired_t))
static inline uint64_t
adb_cacct_charge(uint64_t data_len) {
    return ((sizeof(adb_cacct_t) + data_len + 8 + 15) & ~15ull) + ADB_CACHE_VER_CHARGE;
}

/* A bank's own charge: the struct, its account map, its retired entry. */
static inline uint64_t
adb_bank_charge(adb_bank_t const *b) {
    return ((sizeof *b + 8 + 15) & ~15ull) + (uint64_t)b->cap * sizeof *b->accts +
           sizeof(adb_retired_t) + adb_xs_delta_charge(b->xd);
}

typedef struct adb_parked {
    acctdb_pubkey_t key;
    uint8_t         why; /* ADB_PARK_SNAP, ADB_PARK_VER (db_clean.c) */
} adb_parked_t;

typedef struct adb_owner_ix adb_owner_ix_t;
typedef struct adb_rcache   adb_rcache_t;

/* The rooted history (e->hist, oldest first).  A blockhash queue holds the
 * 301 newest banks at or below the root it describes (ADB_HIST_KEEP).  A
 * commit or a snapshot describes the durable root, which lags the root
 * while a flush pass runs (the roots made meanwhile), so the history keeps
 * the 300 banks below the durable root and every bank rooted since, at
 * most ADB_HIST_CAP (a durable root more than 4,096 roots behind would
 * lose the oldest: its archive's queue would be short, never gapped). */
#define ADB_HIST_KEEP     301
#define ADB_HIST_CAP      (ADB_HIST_KEEP + 4096)
#define ADB_ENG_WATCH_MAX 4 /* owners indexed even without cfg.owner_index */

/* Whether the owner index keeps accounts of this owner. */
struct adb_eng;
bool adb_eng_owner_tracked(
    struct adb_eng const *e,
    uint8_t const         owner[32]); /* rooted banks remembered (blockhash queue, status cache) */

typedef struct adb_eng {
    acctdb_db_config_t  cfg;
    adb_io_t const     *io; /* the database's (db->io), for lockfd */
    int                 lockfd;
    pthread_mutex_t     wmu;   /* API writers */
    pthread_mutex_t     smu;   /* one service pass at a time */
    pthread_rwlock_t    blk;   /* banks, root, states */
    adb_bank_t        **banks; /* open addressing by slot */
    uint32_t            banks_cap, banks_cnt;
    uint64_t            root;
    acctdb_bank_info_t  root_info;
    _Atomic uint64_t    durable_root;
    _Atomic uint64_t    durable_bh;       /* the durable root's block height (hist pruning) */
    uint64_t            last_full_slot;   /* UINT64_MAX: none */
    uint64_t            origin_slot;      /* slot the database was created at */
    adb_eng_ext_t      *root_ext;         /* the root bank's state */
    adb_eng_ext_t      *durable_ext;      /* the durable root's (in the root record) */
    uint8_t             origin_ck[2][32]; /* BLAKE3 of manifest.bin, status_cache.bin */
    uint8_t             origin_has_ck;    /* bit 0 manifest, bit 1 status cache */
    acctdb_bank_info_t *hist;             /* rooted banks, oldest first */
    uint32_t            hist_cnt;
    /* write cache: cache_bytes is the budget's charge (adb_cacct_charge,
     * adb_bank_charge) of every account version and bank stored and not
     * yet freed, retired ones included; cache_accts counts the versions
     * in banks' maps */
    _Atomic uint64_t cache_bytes, cache_accts;
    _Atomic uint64_t unflushed_since_ns; /* first root not yet flushed (0: none) */
    pthread_cond_t   room_cv;
    /* reclamation */
    pthread_mutex_t  ret_mu;
    adb_retired_t   *ret;
    size_t           ret_cnt, ret_cap;
    _Atomic uint64_t ret_bytes; /* charge of retired accounts and banks not yet freed */
    /* file-table entries of replaced storages no reader can reach any more,
     * for new storages (under ret_mu): the table stays as large as the
     * storages alive at once, not as all ever written */
    uint32_t *file_free;
    size_t    file_free_cnt, file_free_cap;
    /* clean: zero-lamport rooted keys to consider */
    pthread_mutex_t  cand_mu;
    acctdb_pubkey_t *cand;
    size_t           cand_cnt, cand_cap;
    /* services */
    pthread_t          thr[ACCTDB_SERVICE_CNT];
    bool               thr_started[ACCTDB_SERVICE_CNT];
    pthread_mutex_t    svc_mu;
    pthread_cond_t     svc_cv;
    bool               svc_stop;
    _Atomic uint64_t   passes[ACCTDB_SERVICE_CNT], work[ACCTDB_SERVICE_CNT], ns[ACCTDB_SERVICE_CNT];
    _Atomic uint64_t   stores, loads, freezes, roots, flushed_bytes;
    _Atomic int        fatal;          /* a durable write failed: writes refused (adb_eng_fatal) */
    char               fatal_msg[256]; /* why: written once, before fatal becomes 2 */
    adb_owner_ix_t    *owners;         /* every owner (cfg.owner_index), or only watch[] */
    acctdb_pubkey_t    watch[ADB_ENG_WATCH_MAX];
    uint32_t           watch_cnt;
    adb_rcache_t      *rcache;
    acctdb_bank_info_t durable_info;  /* the root the root record names */
    bool               cand_overflow; /* candidates dropped: clean walks the index */
    uint64_t           base_slot;     /* of the load that created the database */
    adb_db_totals_t    load_totals;
    struct adb_svc_arg {
        adb_db_t *db;
        int       which;
    } svc_arg[ACCTDB_SERVICE_CNT];
    /* Background failures (under svc_mu): service passes that failed and
     * space that could not be given back.  The last one's code and message,
     * how many so far, and whether the next public write call still has to
     * return it (adb_eng_svc_err_take: once). */
    struct {
        int      code;
        char     msg[480];
        uint64_t cnt;
        bool     pending;
    } svc_err;
    /* extents free of readers, punched in batches (under ret_mu) */
    adb_retired_t *punch;
    size_t         punch_cnt, punch_cap;
    uint64_t       punch_bytes;
    uint64_t       punch_errors, punch_err_bytes; /* failed punches (db_epoch.c: counted) */
    uint64_t       tombstones_cleaned, shrink_moved_bytes, purged_banks;
    /* clean: blocked tombstones (under smu), each with why: newer than the
     * last full snapshot (looked at again when it moves), or other
     * versions of the key exist (looked at again when shrink dropped
     * records, or once the root moved ADB_PARK_RETRY_SLOTS past
     * parked_root: flush and purge remove versions without moving the
     * other two counters) */
    struct adb_parked *parked;
    size_t             parked_cnt, parked_cap;
    uint64_t           parked_full, parked_gen, shrink_gen, parked_root;
    uint64_t           id;       /* unique per open engine (thread-local caches) */
    _Atomic uint64_t   view_gen; /* bumped (under blk) when a view could change:
                                  * root, dead forks, banks unlinked */
    _Atomic uint64_t ix_gen;     /* +1 as a service pass starts and as it ends
                                  * (odd while one runs): a read that spans a
                                  * change checks that its slot is still
                                  * readable (db_bank.c, read_stale) */
    /* a snapshot being written (db_snap.c): one at a time (snap_mu, held
     * from begin to end); while active, clean and shrink skip their passes
     * (flush goes on), and reads "of the durable root" see the versions at
     * snap_pin, however far flushing has moved since */
    pthread_mutex_t snap_mu;
    _Atomic bool    snap_active;
    uint64_t        snap_pin;
    adb_eng_ext_t  *snap_ext; /* the pinned root's bank state (a reference) */
    /* what a read service needs (db_serve.c) */
    adb_owner_ix_t     *tokens;    /* token owner -> SPL Token accounts (cfg.owner_index) */
    adb_owner_ix_t     *mints;     /* mint -> SPL Token accounts */
    uint64_t            confirmed; /* acctdb_db_confirm's slot (under blk); 0: none */
    acctdb_root_hook_fn root_hook; /* called by root for each newly rooted slot (under wmu) */
    void               *root_hook_ctx;
} adb_eng_t;

/* The SPL Token account layout's size, and whether owner is SPL Token or
 * Token-2022. */
#define ADB_TOKEN_ACCOUNT_SZ 165
bool adb_eng_is_token_program(uint8_t const owner[32]);

/* adb_eng_token_note: a stored or found account that may be an SPL Token
 * account: its token owner and mint pairs go into the token indexes. */
void adb_eng_token_note(adb_eng_t *e, uint8_t const owner[32], uint8_t const key[32],
                        uint8_t const *data, uint64_t data_len);

/* Owner and token index pairs of one account version: (owner, key) in
 * the owner index when the owner is tracked, (token owner, key) and (mint,
 * key) in the token indexes for an SPL Token account.  The indexes are
 * candidate sets (a scan re-reads each candidate); pairs no version holds
 * any more are deleted when the version leaves: a flush replaced it (the
 * storage version a flushed account supersedes, the older rooted versions
 * of the same pass) or purge dropped it (a dead fork's), so the indexes
 * never depend on scans to shrink (db_serve.c). */
typedef struct adb_pairs {
    uint8_t         has; /* ADB_PAIR_OWNER | ADB_PAIR_TOKEN */
    acctdb_pubkey_t owner, mint, tok;
} adb_pairs_t;
#define ADB_PAIR_OWNER 1u
#define ADB_PAIR_TOKEN 2u

void adb_eng_pairs_of(adb_eng_t const *e, uint8_t const owner[32], uint64_t lamports,
                      uint8_t const *data, uint64_t data_len, adb_pairs_t *out);
/* Whether every pair of a is one of b's. */
bool adb_eng_pairs_within(adb_pairs_t const *a, adb_pairs_t const *b);
/* After flush repointed a key to w, its version written, for each version
 * x of the pass's group (w itself, then the older rooted versions w
 * superseded): the pairs only x (if not w) and the version x replaced held
 * go (smu held). */
void adb_eng_pairs_flushed(adb_db_t *db, adb_cacct_t const *w, adb_cacct_t const *x);
/* After purge took c (a dead fork's version) out of the index (smu held,
 * c not yet retired). */
void adb_eng_pairs_dropped(adb_db_t *db, adb_cacct_t const *c);

/* adb_eng_root_hook_run: calls the root hook for banks[0..n) (rooted just
 * now, oldest first), with the caller inside an epoch. */
void adb_eng_root_hook_run(adb_eng_t *e, adb_bank_t *const *banks, size_t n);

/* adb_eng_svc_err_note: records a background failure (what: "flush",
 * "clean", "reclaim"...; msg its message): counted, kept as the last one,
 * and when pending, returned once by the next public write call
 * (adb_eng_svc_err_take).  A failure the caller already got (a stepped
 * pass) or that loses nothing (a punch) is noted without pending. */
void adb_eng_svc_err_note(adb_eng_t *e, char const *what, int code, char const *msg, bool pending);

/* adb_eng_fatal: puts the engine in the sticky fatal state (stores and
 * snapshots refused until reopen) and remembers why; the first cause wins.
 * fatal goes 0 -> 1 (claimed: writes refused from here on) -> 2 (fatal_msg
 * complete, never written again), so a reader that sees 2 reads the message
 * without a lock.  adb_eng_fatal_msg: that message ("" when not fatal). */
static inline void
adb_eng_fatal(adb_eng_t *e, char const *why) {
    int ok = 0;
    if (!atomic_compare_exchange_strong(&e->fatal, &ok, 1)) return;
    snprintf(e->fatal_msg, sizeof e->fatal_msg, "%s", why);
    atomic_store(&e->fatal, 2);
}

static inline char const *
adb_eng_fatal_msg(adb_eng_t *e) {
    int f = atomic_load(&e->fatal);
    return f == 2 ? e->fatal_msg : f ? "its cause is being recorded" : "";
}

struct adb_db {
    adb_io_t const *io; /* every file operation on the database's files */
    char            dir[4096];
    int             dirfd;
    int             accdirfd;
    uint64_t        seg_max_sz; /* a new segment starts past this (ADB_DB_SEG_MAX_SZ;
                                 * tests lower it to reach a second segment) */
    adb_db_seg_t    *segs;      /* ADB_DB_SEGS_MAX entries */
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

    int             err_code; /* first error (under mu) */
    adb_err_t       err;
    adb_eng_t      *eng;      /* the live engine, once opened */
    acctdb_pubkey_t watch[4]; /* owners whose keys the bulk scan notes (adb_db_bulk_watch) */
    uint32_t        watch_cnt;
    adb_db_rec_fn   rec_fn; /* called for each record indexed at reopen */
    void           *rec_ctx;
    bool            seg_dir_dirty; /* a segment was created since accounts/ was last
                                    * fsynced (adb_db_sync_seg_dir; producer or smu) */

    /* the commit record (db_meta.c; written under the engine's smu) */
    _Atomic uint64_t commit_gen;   /* newest durable commit; 0: none, or format 2 */
    uint32_t         commit_flags; /* its flags */
    uint64_t         index_gen;    /* its index generation */
    uint64_t         cat_gen[2];   /* catalog each slot names (0: none or invalid) */
    bool             commit_file;  /* acctdb.commit exists (else the next commit creates it) */
    bool             legacy_meta;  /* a format-2 acctdb.meta to remove after the next commit */
    uint64_t         commits;      /* commits since open */
    adb_retired_t   *orphans;      /* at open: extents only the older slot names */
    size_t           orphan_cnt;

    /* the index file (db_ixfile.c; under the engine's smu like the record) */
    uint64_t ix_slot[2]; /* index file each slot names (0: none or invalid slot) */
    uint64_t ix_next;    /* written by the close for its commit to name; 0: none */
    bool     ix_rebuilt; /* this open scanned every storage */
    /* the base: an index file with its keys (a clean close's without a disk
     * tier, or a checkpoint) that every commit names until a newer one; an
     * open after a kill loads it and replays the storages it lacks */
    uint64_t         ix_base;        /* 0: none */
    uint64_t         ix_since_bytes; /* bytes of storages written since the base */
    uint32_t        *ix_replay;      /* at open: storages the base lacks (adb_free) */
    uint32_t         ix_replay_cnt;
    _Atomic uint64_t ix_ckpts, ix_ckpt_ns; /* checkpoints written since open, their time */
    char             ix_reason[120];       /* why, or "loaded from index-N" */
    uint64_t         ix_open_ns;           /* what loading or rebuilding the index took */
    /* the index's disk tier (cfg.index_disk): how adb_db_index_make makes
     * db->ix; ix_disk false: RAM only */
    bool     ix_disk;
    bool     ix_file_disk; /* the index file loaded at open had its keys in the tier */
    uint64_t ix_ram_bytes;
    unsigned ix_threads;
    /* acctdb's own per-account state (db_xstate.c): always open with the
     * engine, files only once used */
    struct adb_xs *xs;
    /* the Chilly cache (db_chilly.c; cfg.chilly_cache_sz), or NULL */
    struct adb_chot *chot;
};

/* ---- the Chilly cache (db_chilly.c) --------------------------------------------
 * adb_chot_open: an empty cache of the rule's cache_sz.  adb_chot_warm:
 * the base's hot accounts (after open or a sidecar import).
 * adb_chot_rooted: banks[0..n) were just rooted (oldest first when
 * oldest_first, else newest first; wmu held, inside an epoch).
 * adb_chot_get: a load's visible version (key, its slot) from the cache:
 * true on a hit with *rc_out (0 or FULL).  adb_chot_keys: the cached keys,
 * ascending (FULL when more than max; *cnt_out has the count). */
typedef struct adb_chot adb_chot_t;
int                     adb_chot_open(adb_db_t *db, uint64_t cache_sz);
void                    adb_chot_close(adb_db_t *db);
int                     adb_chot_warm(adb_db_t *db);
int  adb_chot_rooted(adb_db_t *db, adb_bank_t *const *banks, size_t n, bool oldest_first);
bool adb_chot_get(adb_db_t *db, uint8_t const key[32], uint64_t vslot, acctdb_account_t *out,
                  uint8_t *buf, size_t buf_max, int *rc_out);
int  adb_chot_keys(adb_db_t *db, acctdb_pubkey_t *out, size_t max, size_t *cnt_out);
void adb_chot_stats(adb_db_t *db, uint64_t *cnt, uint64_t *bytes, uint64_t *hits, uint64_t *misses);

/* (Re)makes db->ix empty, or, with m naming a clean commit, two tiers that
 * reuse the disk tier it stamped if its checks pass (adb_index_reused).
 * Errors: the index's (NOMEM, the tier directory's). */
int adb_db_index_make(adb_db_t *db, adb_db_meta_t const *m);

static inline adb_db_file_t *
adb_db_file(adb_db_t const *db, uint32_t idx) {
    return &db->chunks[idx / ADB_DB_FILE_CHUNK][idx % ADB_DB_FILE_CHUNK];
}

static inline int
adb_db_file_fd(adb_db_t const *db, adb_db_file_t const *f) {
    return db->segs[f->seg].fd;
}

/* adb_db_view: the first len bytes of storage f in memory: mapped
 * (PROT_READ, through db->io), or, when the mapping fails (ENOMEM,
 * vm.max_map_count), read into an allocated copy.  Release with
 * adb_db_unview.  Errors: the read's, NOMEM. */
typedef struct adb_db_view {
    uint8_t *p;
    uint64_t len;
    bool     heap; /* a copy (adb_free), not a mapping */
} adb_db_view_t;
int  adb_db_view_(adb_db_t const *db, adb_db_file_t const *f, uint64_t len, adb_db_view_t *v,
                  char const *site);
void adb_db_unview_(adb_db_t const *db, adb_db_view_t *v, char const *site);
#define adb_db_view(db, f, len, v) adb_db_view_((db), (f), (len), (v), ADB_IO_SITE)
#define adb_db_unview(db, v)       adb_db_unview_((db), (v), ADB_IO_SITE)

/* adb_db_sync: fdatasync (ADB_DB_SYNC_DATA) or fsync (ADB_DB_SYNC_FULL:
 * directories) of fd, fail-stop (db_io.c): on failure a live database goes
 * fatal with "what: <errno text>" and ACCTDB_ERR_FATAL is returned (the
 * message in adb_eng_err()); a bulk load records it as its error and gets
 * the -errno (FULL for ENOSPC).  Never called again after a failure: with
 * the engine fatal it returns FATAL without syncing. */
enum { ADB_DB_SYNC_DATA, ADB_DB_SYNC_FULL };
int adb_db_sync_(adb_db_t *db, int fd, int how, char const *what, char const *site);
#define adb_db_sync(db, fd, how, what) adb_db_sync_((db), (fd), (how), (what), ADB_IO_SITE)
/* adb_db_sync_seg_dir: if a segment was created since the last call,
 * fsyncs accounts/ (adb_db_sync; pass names the caller in the message).
 * Every writer of a root record calls it before writing. */
int adb_db_sync_seg_dir_(adb_db_t *db, char const *pass, char const *site);
#define adb_db_sync_seg_dir(db, pass) adb_db_sync_seg_dir_((db), (pass), ADB_IO_SITE)

/* Records the first error (thread-safe). */
int adb_db_fail(adb_db_t *db, int code, char const *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads the record at loc into *buf (grown as needed). */
int adb_db_read_rec(adb_db_t *db, uint64_t slot, uint64_t loc, adb_db_acct_t *out, uint8_t **buf,
                    size_t *buf_cap);

/* Frees the buffer pool (at close). */
void adb_db_pool_free(adb_db_t *db);

/* Allocates the db struct with its index and file table (no workers);
 * io: its file operations (NULL: adb_io()). */
int adb_db_alloc(adb_db_t **db_out, char const *dir, uint64_t expected, uint32_t bin_bits,
                 adb_io_t const *io, adb_err_t *err);

/* ---- reader registry (db_epoch.c) -------------------------------------------
 * Readers bracket every access to write-cache accounts and storage extents
 * with enter/exit; objects unlinked by writers and services are retired
 * and freed only when no reader that could have seen them is inside. */
/* adb_epoch_register: gives the calling thread its reader slot (kept until
 * the thread exits); every engine entry that reads calls it before
 * adb_epoch_enter.  Errors: FULL (all 1,024 slots in use: the caller gets
 * an error instead of waiting). */
int  adb_epoch_register(void);
void adb_epoch_enter(void);
void adb_epoch_exit(void);
void adb_eng_retire(adb_db_t *db, int kind, void *p, uint32_t seg, uint64_t off, uint64_t len);
/* adb_eng_retire_storage: retires the extent of storage idx, which shrink
 * replaced and commit `gen` stopped naming (nothing points at it any
 * more); once readers left its file-table entry is reused
 * (adb_eng_file_take), and its space is punched once commit gen + 1 is
 * durable (until then the other slot of acctdb.commit, gen - 1, may still
 * name it and be the one a reopen takes). */
void adb_eng_retire_storage(adb_db_t *db, uint32_t idx, uint64_t gen);
/* A free file-table entry, if any (false: none, or no engine). */
bool adb_eng_file_take(adb_db_t *db, uint32_t *idx_out);
/* The same for n objects of one kind at once (one epoch, one lock). */
void   adb_eng_retire_many(adb_db_t *db, int kind, void *const *p, size_t n);
size_t adb_eng_reclaim(adb_db_t *db, bool all);

/* ---- engine internals ------------------------------------------------------ */

static inline void
adb_acct_rec_to_account_c(adb_cacct_t const *c, acctdb_account_t *a) {
    a->pubkey = c->pubkey;
    a->owner = c->owner;
    a->lamports = c->lamports;
    a->rent_epoch = c->rent_epoch;
    a->data_len = c->data_len;
    a->data = c->data;
    a->executable = c->executable;
}

/* db_bank.c */
adb_bank_t  *adb_bank_find(adb_eng_t const *e, uint64_t slot);
void         adb_bank_unlink(adb_eng_t *e, adb_bank_t *b);
adb_cacct_t *adb_bank_get(adb_bank_t const *b, uint8_t const *key);
void         adb_eng_hist_push(adb_eng_t *e, acctdb_bank_info_t const *in);
/* The newest ADB_HIST_KEEP history entries at or below slot, oldest first,
 * into out (ADB_HIST_KEEP entries); returns how many.  Caller holds blk. */
uint32_t adb_eng_hist_upto(adb_eng_t const *e, uint64_t slot, acctdb_bank_info_t *out);
/* Is bh the blockhash of one of those entries (*slot_out: whose)?  Caller
 * holds blk. */
bool adb_eng_hist_blockhash(adb_eng_t const *e, uint64_t slot, uint8_t const bh[32],
                            uint64_t *slot_out);

/* services (db_flush.c, db_clean.c, db_shrink.c): one pass each, called
 * with smu held; return the work done or an error. */
int adb_eng_flush_pass(adb_db_t *db);
/* Whether the service thread should flush now (cfg.flush_min_sz,
 * flush_max_delay_ms, half the write cache budget). */
bool adb_eng_flush_due(adb_db_t *db);

static inline uint64_t
adb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
int  adb_eng_clean_pass(adb_db_t *db);
int  adb_eng_purge_pass(adb_db_t *db);
int  adb_eng_shrink_pass(adb_db_t *db);
void adb_eng_cand_add(adb_eng_t *e, acctdb_pubkey_t const *key);
/* db_shrink.c: is key's record at (slot, loc) its alive version there? */
bool adb_eng_rec_alive(adb_db_t *db, uint8_t const *key, uint64_t slot, uint64_t loc);
/* The same in the root a snapshot being written pinned (db_snap.c). */
bool adb_eng_snap_rec_alive(adb_db_t *db, uint8_t const *key, uint64_t slot, uint64_t loc);

/* The commit record for the durable root `root` with its state ext: written
 * after everything it names is durable.  adb_eng_commit also takes the
 * record's flags (ADB_DB_COMMIT_CLEAN at close); adb_eng_write_meta writes
 * none. */
int adb_eng_commit(adb_db_t *db, acctdb_bank_info_t const *root, adb_eng_ext_t *ext,
                   uint32_t flags);
int adb_eng_write_meta(adb_db_t *db, acctdb_bank_info_t const *root, adb_eng_ext_t *ext);

/* Bank states (db_bank.c). */
adb_eng_ext_t *adb_eng_ext_new(void const *p, size_t sz); /* refs 1; NULL: no memory */
adb_eng_ext_t *adb_eng_ext_ref(adb_eng_ext_t *x);
/* adb_eng_ext_unref is public (db.h). */

/* ---- the index file (db_ixfile.c) ---------------------------------------------
 * index-<gen>: the account index, each storage's alive counters, the clean
 * candidates and the owner indexes as a graceful close left them, written
 * before the close's CLEAN commit <gen>, which names it (index_gen).  The
 * next open loads it instead of scanning every storage. */

/* adb_db_gen_name: is name prefix followed by a decimal generation (at
 * most 20 digits, nothing after; *gen_out, may be NULL, gets it)?  The
 * names of catalogs ("catalog-") and index files ("index-"). */
bool adb_db_gen_name(char const *name, char const *prefix, uint64_t *gen_out);
/* adb_ixfile_name: is name "index-<gen>" (*gen_out, may be NULL)? */
bool adb_ixfile_name(char const *name, uint64_t *gen_out);

/* adb_ixfile_write: writes DIR/index-<gen> for the commit gen about to be
 * written at root (the durable root: storages only, write-cache versions
 * left out), fdatasyncs it and fsyncs the directory (adb_db_sync).  Under
 * smu with the services stopped.  Returns 0 when it is durable; on any
 * error no file is left under the name: ACCTDB_ERR_FATAL (a sync failed:
 * the engine is fatal), or another code when it could not be written
 * (ENOSPC, EIO, an incomplete owner index...), the commit then names
 * none.  err: why. */
int adb_ixfile_write(adb_db_t *db, uint64_t gen, acctdb_bank_info_t const *root, bool checkpoint,
                     adb_err_t *err);

/* adb_ixfile_checkpoint: after a running commit (smu held), when the
 * storages written since the base pass the threshold, writes the index as
 * that commit left it to index-<commit gen> (unsynced: only a kill is
 * what it serves; a power loss fails its checks) and makes it the base the
 * next commits name.  A failure is noted, not fatal: the base stays. */
void adb_ixfile_checkpoint(adb_db_t *db);

/* adb_ixfile_load: at open (before the services start), loads the index,
 * the storages' alive counters, the candidates and the owner indexes of e
 * from the index file m (the commit chosen) names, when there is one that
 * fits (index_gen != 0, the file present with its magic, format,
 * generation, root, index bins, storages, owner index coverage and
 * BLAKE3; of that commit when it is CLEAN, else a base no later than it).
 * Returns 0 when loaded (why: "loaded from index-N", and for a base the
 * storages it lacks in db->ix_replay for the caller to scan), 1 when not
 * (why: the reason; everything it had loaded is undone, the caller scans),
 * or NOMEM when undoing failed. */
int adb_ixfile_load(adb_db_t *db, adb_eng_t *e, adb_db_meta_t const *m, char *why, size_t why_max);

/* Storage table growth for the engine (a new extent for slot, size bytes). */
int adb_db_storage_new(adb_db_t *db, uint64_t slot, uint64_t size, uint32_t *idx_out);
int adb_db_storage_write(adb_db_t *db, uint32_t idx, void const *p, uint64_t sz, bool direct);

#endif
