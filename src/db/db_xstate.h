/* src/db/db_xstate.h - acctdb's own per-account state beside the accounts
 * (docs/STATE.md): Chilly load counters, creation slots, compression
 * records.  Internal to src/db.
 *
 * Where it lives:
 *   - per bank, a delta map (adb_bank_t.xd) of the records the bank
 *     changed, and the bank's Chilly loaded_bytes (adb_bank_t.xloaded,
 *     inherited from the parent);
 *   - the base map: the state at the durable root.  A flush merges the
 *     deltas of the banks it flushed into it, after the commit, before it
 *     unlinks them; so a read at a slot looks through the bank chain that
 *     is still linked (unrooted and rooted-but-unflushed banks), newest
 *     first, then the base, and sees every bank exactly once.
 *
 * Files (all named by the commit's catalog, never by a record in an
 * archive):
 *   DIR/xstate-<g>.img   the base as of some commit: "ACCTDBX1" | u32 2 |
 *                        u32 0 | u64 g | u64 cnt | u64 loaded_bytes |
 *                        u64 slot | u64 trie_last | cnt x entry |
 *                        BLAKE3-256 of all before
 *   DIR/xstate-<g>.log   the flushed banks' deltas since image g (g = 0:
 *                        since the empty state), appended by each flush
 *                        and fdatasynced before its commit: per bank
 *                        "XSL2" | u32 cnt | u64 slot | u64 loaded_bytes |
 *                        cnt x entry
 *   entry (ADB_XS_ENT_SZ bytes): key[32] | counter u64 | created u64 |
 *                        orig_len u32 | flags u8 | executable u8 |
 *                        hash[32] | owner[32] | lamports u64
 * A commit names (g, the log's length, CRC-32C of those bytes); bytes past
 * the length (a flush whose commit never happened) are ignored and cut.
 * An open loads image g and replays the log's named bytes.  Past a size
 * (max(64 MiB, the image's size)) a flush writes image g+1 from the base
 * (fdatasync, directory fsync) and starts log g+1; files of generations
 * neither commit slot names any more are removed.
 *
 * The trie (src/state/trie.h, Avocado index compression) holds every
 * account compressed at the durable root: key -> adb_avocado_leaf_value of
 * its record.  It is derived from the base, kept in step with it by every
 * change (open, merge, sidecar import), and never written itself; the
 * image keeps trie_last, the slot of the last key added (a log bank adds
 * keys at its slot), which a derived address's blockhash must be newer
 * than (adb_eng_check_create).
 *
 * Locks: xs->lk (rwlock) guards the base, the trie and every bank's delta map;
 * writers of deltas hold the engine's wmu, the base changes only under
 * smu (flush) and at open. */
#ifndef ADB_DB_XSTATE_H
#define ADB_DB_XSTATE_H

#include "db/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* adb_xrec_t.flags */
#define ADB_XREC_COMPRESSED 0x01u /* data replaced by hash (orig_len kept) */
#define ADB_XREC_BURNED                                                                            \
    0x02u /* compressed and its lamports burned: the account is a                                  \
           * tombstone; owner, executable, hash are kept here */

/* One account's side state.  All zero = none (not stored in the base). */
typedef struct adb_xrec {
    uint64_t counter;  /* Chilly load_counter; 0: never loaded */
    uint64_t created;  /* creation slot; 0: unknown */
    uint32_t orig_len; /* compressed: the original data length */
    uint8_t  flags;
    uint8_t  executable; /* burned: the flag the tombstone lost */
    uint8_t  hash[32];   /* compressed: BLAKE3-256 of the original data */
    uint8_t  owner[32];  /* compressed: the account's owner (burned: the one the
                          * tombstone lost) */
    uint64_t lamports;   /* compressed: its lamports (0 once burned); with owner,
                          * executable, orig_len and hash, its trie leaf's value */
} adb_xrec_t;

#define ADB_XS_ENT_SZ (32 + 8 + 8 + 4 + 1 + 1 + 32 + 32 + 8)

static inline bool
adb_xrec_is_empty(adb_xrec_t const *r) {
    static adb_xrec_t const z;
    return !memcmp(r, &z, sizeof z);
}

/* An open-addressing map pubkey -> record (linear probing, backward-shift
 * deletion). */
typedef struct adb_xent {
    uint8_t    key[32];
    adb_xrec_t r;
    uint8_t    used;
} adb_xent_t;

typedef struct adb_xmap {
    adb_xent_t *e;
    uint32_t    cap, cnt; /* cap: 0 or a power of two */
    uint64_t    seed;     /* of its hash, set when it first grows: each map its own,
                           * so copying one map into another in slot order does
                           * not pile the keys up (linear probing's worst case) */
} adb_xmap_t;

adb_xrec_t const *adb_xmap_get(adb_xmap_t const *m, uint8_t const key[32]);
/* adb_xmap_put: sets key's record (an empty one is stored as given: a
 * delta needs it to shadow the base).  Errors: NOMEM. */
int  adb_xmap_put(adb_xmap_t *m, uint8_t const key[32], adb_xrec_t const *r);
void adb_xmap_del(adb_xmap_t *m, uint8_t const key[32]);
void adb_xmap_fini(adb_xmap_t *m);

/* A bank's delta. */
typedef struct adb_xdelta {
    adb_xmap_t m;
} adb_xdelta_t;

/* What a bank's delta (NULL: none) adds to its charge on the write cache
 * budget (adb_bank_charge): adb_xs_put charges its growth as it happens. */
static inline uint64_t
adb_xs_delta_charge(adb_xdelta_t const *d) {
    return d ? sizeof *d + (uint64_t)d->m.cap * sizeof(adb_xent_t) : 0;
}

typedef struct adb_xs {
    pthread_rwlock_t lk;
    adb_xmap_t       base;
    uint64_t         base_loaded; /* loaded_bytes at the durable root */
    uint64_t         base_slot;   /* the slot the base is at */
    struct adb_trie *trie;        /* the base's compressed accounts (NULL: none yet) */
    uint64_t         trie_last;   /* the slot the last key was added to it at (0: never) */
    /* files (under smu) */
    uint64_t         gen;           /* image generation (0: none, the empty state) */
    uint64_t         img_sz;        /* its size */
    int              log_fd;        /* xstate-<gen>.log, or -1 */
    uint64_t         log_len;       /* bytes of it that are durable and named (or about to be) */
    uint32_t         log_crc;       /* CRC-32C of those bytes */
    uint64_t         named[2];      /* generation each commit slot names (+1; 0: none) */
    uint64_t         removed_below; /* files of generations below this are gone */
    bool             active;        /* ever used: commits carry the state */
    _Atomic bool     any_compressed;
    uint64_t         compact_min_sz; /* log size that triggers an image (tests lower it) */
    _Atomic uint64_t images, log_bytes;
} adb_xs_t;

struct adb_bank;

/* adb_xs_get: key's record as seen from bank b (NULL: the durable root):
 * b's delta, its linked ancestors' (newest first), then the base.  The
 * caller holds the engine's blk (read).  Returns false (and an empty *out)
 * when key has no state. */
bool adb_xs_get(adb_db_t *db, struct adb_bank const *b, uint8_t const key[32], adb_xrec_t *out);

/* adb_xs_get_at: adb_xs_get from the bank at slot (flushed: the base);
 * takes blk itself. */
bool adb_xs_get_at(adb_db_t *db, uint64_t slot, uint8_t const key[32], adb_xrec_t *out);

/* adb_xs_get_bank: adb_xs_get from bank b (which stays linked: the caller
 * holds wmu), taking blk itself. */
bool adb_xs_get_bank(adb_db_t *db, struct adb_bank const *b, uint8_t const key[32],
                     adb_xrec_t *out);

/* What the trie says (adb_xs_prove, adb_xs_trie_state). */
typedef struct adb_xs_trie_st {
    uint8_t  root[32];
    uint64_t slot; /* the durable root it is at */
    uint64_t last; /* the slot of its last insertion (0: never) */
    uint64_t keys;
} adb_xs_trie_st_t;

/* adb_xs_trie_state: the trie's root, slot, last insertion and size. */
void adb_xs_trie_state(adb_db_t *db, adb_xs_trie_st_t *st);

/* adb_xs_prove: a membership or exclusion proof for key against the trie
 * (at most ADB_TRIE_PROOF_MAX bytes into proof), its statement and the
 * trie's state at that moment; value_out gets a member's leaf value. */
void adb_xs_prove(adb_db_t *db, uint8_t const key[32], uint8_t *proof, size_t *len_out,
                  bool *is_member_out, uint8_t value_out[32], adb_xs_trie_st_t *st);

/* adb_xs_leaf_value: a compressed record's trie value. */
void adb_xs_leaf_value(adb_xrec_t const *r, uint8_t out[32]);

/* adb_xs_has_compressed: has any account ever been compressed here (a
 * cheap test that lets reads and stores skip the lookups)? */
bool adb_xs_has_compressed(adb_db_t const *db);

/* adb_xs_compressed_view: a load found key compressed per r: *out (the
 * stored form, or for a burned account the tombstone) becomes what a load
 * of a compressed account reports: lamports, owner, executable, and data =
 * the 32-byte hash, copied to buf (FULL when buf_max < 32). */
int adb_xs_compressed_view(uint8_t const key[32], adb_xrec_t const *r, acctdb_account_t *out,
                           uint8_t *buf, size_t buf_max);

/* adb_xs_put: key's record in open bank b becomes *r (the caller holds
 * wmu).  Errors: NOMEM. */
int adb_xs_put(adb_db_t *db, struct adb_bank *b, uint8_t const key[32], adb_xrec_t const *r);

/* adb_xs_parent_loaded: the Chilly loaded_bytes a new bank inherits from
 * parent (NULL: the durable root's, from the base).  blk held. */
uint64_t adb_xs_parent_loaded(adb_db_t *db, struct adb_bank const *parent);

/* adb_xs_delta_free: frees b's delta (bank teardown). */
void adb_xs_delta_free(struct adb_bank *b);

/* Flush, in order: adb_xs_flush_log before the commit (the deltas of the
 * banks flushed, oldest first, appended and fdatasynced: FATAL-worthy
 * errors returned with err set), adb_xs_flush_merge after it (into the
 * base), adb_xs_flush_compact at the end of the pass (an image past the
 * log's threshold; a failure is reported, the log goes on). */
int  adb_xs_flush_log(adb_db_t *db, struct adb_bank *const *banks, size_t nb, adb_err_t *err);
void adb_xs_flush_merge(adb_db_t *db, struct adb_bank *const *banks, size_t nb);
int  adb_xs_flush_compact(adb_db_t *db, adb_err_t *err);

/* The sidecar of a snapshot (<archive>.acctdb): acctdb's own state at
 * the archive's root.  adb_xs_sidecar_build: the file's bytes from the base
 * (the caller holds smu with the base at slot: a snapshot's pin); *out
 * NULL when the database has no such state.  Errors: NOMEM.
 * adb_xs_sidecar_import: the base becomes the sidecar's state, checked
 * to belong to the archive at slot with lattice checksum ck (compressed
 * accounts' stored forms read from the database), then written as a new
 * image that the next commit names.  Errors: CORRUPT, MISMATCH (another
 * archive's, or an account the archive does not hold compressed),
 * UNSUPPORTED_VERSION, NOMEM, the image's. */
int adb_xs_sidecar_build(adb_db_t *db, uint64_t slot, uint8_t const ck[32], uint8_t **out,
                         size_t *sz_out);
int adb_xs_sidecar_import(adb_db_t *db, uint8_t const *p, size_t sz, uint64_t slot,
                          uint8_t const ck[32], char const *name, adb_err_t *err);

/* ---- parsing the files (pure: bytes in, no database) -----------------------
 * Each decoder checks a whole file (or a log's named region) held in
 * memory and hands every entry, decoded and checked (flags, sizes, fields
 * a record of its kind leaves zero), to a callback in file order.  On an
 * error it writes a NUL-terminated reason into why[why_max] (when why_max
 * > 0), without the file's name (the caller prefixes it).  A callback's
 * nonzero return stops the parse and is returned as is, why untouched: the
 * callback says why.  Callbacks may be NULL. */

#define ADB_XS_IMG_HDR_SZ  56
#define ADB_XS_LOG_HDR_SZ  24
#define ADB_XS_SIDE_HDR_SZ 64

/* An entry's callback.  r may be changed (the sidecar's trie is built
 * from the record as the callback leaves it). */
typedef int adb_xs_ent_fn(void *ctx, uint8_t const key[32], adb_xrec_t *r);

/* adb_xs_ent_encode: key and r as an entry's ADB_XS_ENT_SZ bytes at p (the
 * form every decoder reads back to the same key and record). */
void adb_xs_ent_encode(uint8_t *p, uint8_t const key[32], adb_xrec_t const *r);

/* An image's header. */
typedef struct adb_xs_img_hdr {
    uint64_t gen, cnt;
    uint64_t loaded;    /* Chilly loaded_bytes of the base */
    uint64_t slot;      /* the slot the base is at */
    uint64_t trie_last; /* the slot of the trie's last insertion */
} adb_xs_img_hdr_t;

/* adb_xs_image_decode: image buf[sz] (xstate-<gen>.img): magic, version
 * and generation gen, BLAKE3, then cnt entries filling the rest exactly;
 * *hdr is set once the header holds (before the first entry), then each
 * entry (never an empty record) goes to ent.  Errors: CORRUPT ("bad
 * header", "fails its checksum", "N entries do not fill M bytes", "entry I
 * is malformed"), ent's. */
int adb_xs_image_decode(uint8_t const *buf, size_t sz, uint64_t gen, adb_xs_img_hdr_t *hdr,
                        adb_xs_ent_fn *ent, void *ctx, char *why, size_t why_max);

/* One bank's record in a log. */
typedef struct adb_xs_log_rec {
    uint64_t off; /* of its header in the region */
    uint64_t cnt, slot;
    uint64_t loaded; /* the bank's Chilly loaded_bytes */
} adb_xs_log_rec_t;

/* A log record's callback, before its entries. */
typedef int adb_xs_rec_fn(void *ctx, adb_xs_log_rec_t const *h);

/* adb_xs_log_decode: a log's named region buf[len] (the CRC-32C the commit
 * names is the caller's to check): records back to back, none cut short.
 * For each record rec(ctx, its header) first, then its entries (empty
 * records included: a delta's deletion) to ent.  Errors: CORRUPT ("offset
 * O: bad record header", "offset O: N entries overrun", "offset O:
 * malformed entry"), rec's, ent's. */
int adb_xs_log_decode(uint8_t const *buf, size_t len, adb_xs_rec_fn *rec, adb_xs_ent_fn *ent,
                      void *ctx, char *why, size_t why_max);

/* A sidecar's header and body header. */
typedef struct adb_xs_side_hdr {
    uint64_t slot;
    uint8_t  ck[32]; /* lattice checksum of the archive's root */
    uint64_t body_sz;
    uint64_t loaded, cnt, trie_last;
    uint8_t  root[32]; /* the trie root it names */
} adb_xs_side_hdr_t;

/* adb_xs_sidecar_decode: sidecar p[sz] (<archive>.acctdb), of the archive at
 * slot with lattice checksum ck: magic, version, BLAKE3, slot and ck, a
 * body of at most body_max bytes (checked before anything is allocated)
 * that is the one zstd frame's declared and actual size, its count, then
 * each entry (non-empty, keys strictly ascending) to ent, which may fill
 * in the hash of a compressed account the archive holds (zero in the
 * file), and from the records ent leaves, the trie, whose root must be the
 * one named.  *hdr is set as far as parsed.  On success the trie goes to
 * *trie_out (NULL: no compressed account; or closed when trie_out is
 * NULL).  Errors: CORRUPT, UNSUPPORTED_VERSION, MISMATCH (another
 * archive's), NOMEM, ent's. */
int adb_xs_sidecar_decode(uint8_t const *p, size_t sz, uint64_t slot, uint8_t const ck[32],
                          uint64_t body_max, adb_xs_side_hdr_t *hdr, adb_xs_ent_fn *ent, void *ctx,
                          struct adb_trie **trie_out, char *why, size_t why_max);

/* adb_xs_open: the state the chosen commit names (pos), loaded and
 * replayed; on a commit without state, empty.  Files of other
 * generations than pos->gen and pos->gen - 1 are removed.  Errors:
 * CORRUPT (a named file is missing, short, or fails its checksum: err
 * says which), NOMEM, IO. */
int  adb_xs_open(adb_db_t *db, adb_xs_pos_t const *pos, adb_err_t *err);
void adb_xs_close(adb_db_t *db);

/* adb_xs_commit_pos: what the next commit names; adb_xs_committed: a
 * commit naming pos went to slot (commit gen & 1): files no slot names
 * any more are removed. */
adb_xs_pos_t adb_xs_commit_pos(adb_db_t *db);
void         adb_xs_committed(adb_db_t *db, adb_xs_pos_t const *pos, uint64_t commit_gen);

#endif
