/* acctdb.h - the public interface of libacctdb, and its manual.
 *
 * acctdb is an accounts database for Solana-style validators: it holds every
 * account across forks, makes finalized state durable, and reads and writes
 * Agave-compatible snapshots.  This header is the only one a user includes;
 * every function is documented here, next to its declaration, and nowhere
 * else.
 *
 * CONVENTIONS
 *
 *   Errors.  Functions that can fail return int: 0 on success, a negative
 *   ACCTDB_ERR_* code (in a reserved range starting at -30900), or -errno for
 *   a system error (always > -4096).  acctdb_strerror() maps any of them to a
 *   static string.  Objects that parse or own resources also keep a message
 *   with the context of the failure (byte offset, field, both values of a
 *   mismatch); each object's section says how to read it.
 *
 *   Out-parameters come last, are named *_out, and are zeroed (or set to an
 *   empty value) on entry, so a failed call never leaves stale results.
 *
 *   Value objects (hashers, lattice hashes) are caller-allocated; their init
 *   functions cannot fail and allocate nothing.  Resource objects come in
 *   open/close pairs; close accepts NULL.
 *
 *   Byte strings are (pointer, size) pairs; sizes are size_t and named *_sz.
 *   Pubkeys and hashes are 32 raw bytes wrapped in one-field structs.
 *
 * THREADING MODEL
 *
 *   Everything in this header is reentrant: functions keep no hidden mutable
 *   state except the BLAKE3 implementation choice (acctdb_blake3_set_impl),
 *   which is process-wide and must be set before other threads hash.  A value
 *   object may be used by one thread at a time.
 */
#ifndef ACCTDB_H
#define ACCTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ACCTDB_API __attribute__((visibility("default")))
#else
#define ACCTDB_API
#endif

#define ACCTDB_VERSION_MAJOR  0
#define ACCTDB_VERSION_MINOR  1
#define ACCTDB_VERSION_PATCH  0
#define ACCTDB_VERSION_STRING "0.1.0"

/* ======================================================================== */
/* Errors                                                                   */
/* ======================================================================== */

#define ACCTDB_OK                      0
#define ACCTDB_ERR_INVALID             (-30900) /* bad argument or malformed request  */
#define ACCTDB_ERR_CORRUPT             (-30901) /* input or stored data is malformed  */
#define ACCTDB_ERR_IO                  (-30902) /* I/O failed (see the message)       */
#define ACCTDB_ERR_NOMEM               (-30903) /* allocation failed or over budget   */
#define ACCTDB_ERR_FULL                (-30904) /* a size limit or the disk is full   */
#define ACCTDB_ERR_NOT_FOUND           (-30905) /* no such account, file or entry     */
#define ACCTDB_ERR_AGAIN               (-30906) /* needs more input; call again       */
#define ACCTDB_ERR_TOO_OLD             (-30907) /* slot is older than what is kept    */
#define ACCTDB_ERR_STOPPED             (-30908) /* the object is shutting down        */
#define ACCTDB_ERR_UNSUPPORTED_VERSION (-30909) /* format newer than we know  */
#define ACCTDB_ERR_FATAL               (-30910) /* a durable write failed; reopen     */
#define ACCTDB_ERR_BUSY                (-30911) /* database in use by another opener  */
#define ACCTDB_ERR_MISMATCH            (-30912) /* verification found a difference    */
#define ACCTDB_ERR_UNSUPPORTED         (-30913) /* valid input we do not handle       */
#define ACCTDB_ERR_COMPRESSED          (-30914) /* the account is compressed (Avocado) */

/* acctdb_strerror: a static, never-NULL description of err (an ACCTDB_ERR_*
 * code, 0, or -errno).  Thread-safe. */
ACCTDB_API char const *acctdb_strerror(int err);

/* acctdb_version: the library's version string, e.g. "0.1.0". */
ACCTDB_API char const *acctdb_version(void);

/* ======================================================================== */
/* Basic types                                                              */
/* ======================================================================== */

typedef struct acctdb_pubkey {
    uint8_t b[32];
} acctdb_pubkey_t;

typedef struct acctdb_hash {
    uint8_t b[32];
} acctdb_hash_t;

/* One account, as the runtime sees it.  data points to data_len bytes owned
 * by whoever filled the struct; functions that take an acctdb_account_t
 * only read it during the call. */
typedef struct acctdb_account {
    acctdb_pubkey_t pubkey;
    acctdb_pubkey_t owner;
    uint64_t        lamports;
    uint64_t        rent_epoch;
    uint64_t        data_len;
    uint8_t const  *data;
    bool            executable;
} acctdb_account_t;

/* ======================================================================== */
/* base58 (Bitcoin alphabet)                                                */
/* ======================================================================== */

/* Longest base58 text of a 32-byte value (44) plus a NUL. */
#define ACCTDB_BASE58_32_SZ 45

/* acctdb_base58_encode: writes the base58 text of src[0..src_sz) and a NUL
 * into dst (dst_max bytes).  Leading zero bytes become '1'.  *len_out gets
 * the text length without the NUL.  Errors: ACCTDB_ERR_FULL if dst is too
 * small (dst is then an empty string); ACCTDB_ERR_INVALID for NULL args or
 * src_sz > 1 MiB. */
ACCTDB_API int acctdb_base58_encode(void const *src, size_t src_sz, char *dst, size_t dst_max,
                                    size_t *len_out);

/* acctdb_base58_decode: decodes text[0..text_len) into dst (dst_max bytes);
 * *sz_out gets the number of bytes.  Errors: ACCTDB_ERR_INVALID for a
 * character outside the alphabet (including whitespace) or text_len > 2 MiB;
 * ACCTDB_ERR_FULL if the value does not fit in dst_max bytes. */
ACCTDB_API int acctdb_base58_decode(char const *text, size_t text_len, void *dst, size_t dst_max,
                                    size_t *sz_out);

/* acctdb_base58_decode_32: decodes a NUL-terminated pubkey or hash; the
 * text must decode to exactly 32 bytes (ACCTDB_ERR_INVALID otherwise). */
ACCTDB_API int acctdb_base58_decode_32(char const *text, uint8_t out[32]);

/* acctdb_base58_encode_32: writes the base58 text of 32 bytes into out
 * (ACCTDB_BASE58_32_SZ bytes) and returns out.  Cannot fail. */
ACCTDB_API char *acctdb_base58_encode_32(uint8_t const in[32], char out[ACCTDB_BASE58_32_SZ]);

/* ======================================================================== */
/* BLAKE3                                                                   */
/* ======================================================================== */

/* An incremental BLAKE3 hasher (unkeyed, default mode).  Caller-allocated;
 * copy it to fork the state.  Contents are private. */
typedef struct acctdb_blake3 {
    _Alignas(64) uint8_t opaque[1984];
} acctdb_blake3_t;

/* acctdb_blake3_init: resets h to the empty message. */
ACCTDB_API void acctdb_blake3_init(acctdb_blake3_t *h);

/* acctdb_blake3_update: appends data[0..sz) to the message. */
ACCTDB_API void acctdb_blake3_update(acctdb_blake3_t *h, void const *data, size_t sz);

/* acctdb_blake3_finalize: writes out_sz bytes of output (any length: the
 * extendable output, XOF) starting at output offset 0.  h is not changed, so
 * more input may follow and finalize may be called again. */
ACCTDB_API void acctdb_blake3_finalize(acctdb_blake3_t const *h, void *out, size_t out_sz);

/* acctdb_blake3_finalize_seek: like finalize, from output byte offset off. */
ACCTDB_API void acctdb_blake3_finalize_seek(acctdb_blake3_t const *h, uint64_t off, void *out,
                                            size_t out_sz);

/* acctdb_blake3: one-shot hash of data[0..sz) into out[0..out_sz). */
ACCTDB_API void acctdb_blake3(void const *data, size_t sz, void *out, size_t out_sz);

/* acctdb_blake3_impl: the name of the implementation in use: "portable",
 * "sse41", "avx2" or "avx512".  The best one the CPU supports is chosen at
 * the first use. */
ACCTDB_API char const *acctdb_blake3_impl(void);

/* acctdb_blake3_set_impl: forces an implementation by name ("auto" restores
 * the CPU's best).  Errors: ACCTDB_ERR_INVALID for an unknown name,
 * ACCTDB_ERR_UNSUPPORTED if this CPU lacks the instructions.  Every
 * implementation gives identical output.  Process-wide; not thread-safe
 * against concurrent hashing. */
ACCTDB_API int acctdb_blake3_set_impl(char const *name);

/* ======================================================================== */
/* SHA-256 (OpenSSL libcrypto)                                              */
/* ======================================================================== */

/* acctdb_sha256: out = SHA-256(data[0..sz)).  Errors: ACCTDB_ERR_NOMEM or
 * ACCTDB_ERR_FATAL if libcrypto fails (out is then zeroed). */
ACCTDB_API int acctdb_sha256(void const *data, size_t sz, uint8_t out[32]);

/* ======================================================================== */
/* Account lattice hash (LtHash)                                            */
/* ======================================================================== */

/* A lattice hash: 1024 u16 lanes (2048 bytes, little-endian on the wire).
 * The sum of the per-account hashes of every live account is the bank's
 * accounts_lt_hash; its BLAKE3-256 is the checksum that names snapshot
 * archives.  Plain 2-byte alignment, so structs holding one (such as
 * acctdb_bank_info_t) can live in malloc'ed arrays. */
typedef struct acctdb_lthash {
    uint16_t v[1024];
} acctdb_lthash_t;

/* Which per-account formula: CURRENT (Agave >= 2.2: lamports, data,
 * executable, owner, pubkey) or LEGACY (Agave ~2.1 transitional archives,
 * which also fed rent_epoch after lamports). */
typedef enum acctdb_lthash_formula {
    ACCTDB_LTHASH_CURRENT = 0,
    ACCTDB_LTHASH_LEGACY = 1,
} acctdb_lthash_formula_t;

/* acctdb_lthash_zero: sets h to the identity (all lanes zero). */
ACCTDB_API void acctdb_lthash_zero(acctdb_lthash_t *h);

/* acctdb_lthash_add / _sub: a += b, a -= b, lane-wise mod 2^16. */
ACCTDB_API void acctdb_lthash_add(acctdb_lthash_t *a, acctdb_lthash_t const *b);
ACCTDB_API void acctdb_lthash_sub(acctdb_lthash_t *a, acctdb_lthash_t const *b);

/* acctdb_lthash_is_zero: true if h is the identity. */
ACCTDB_API bool acctdb_lthash_is_zero(acctdb_lthash_t const *h);

/* acctdb_lthash_account: the per-account hash of a; the identity if
 * a->lamports == 0. */
ACCTDB_API void acctdb_lthash_account(acctdb_lthash_t *out, acctdb_account_t const *a,
                                      acctdb_lthash_formula_t formula);

/* acctdb_lthash_add_accounts: sum += the per-account hashes of a[0..n),
 * computed many at a time (one account per SIMD lane).  Same result as n
 * calls of acctdb_lthash_account + acctdb_lthash_add, only faster. */
ACCTDB_API void acctdb_lthash_add_accounts(acctdb_lthash_t *sum, acctdb_account_t const *a,
                                           size_t n, acctdb_lthash_formula_t formula);

/* acctdb_lthash_checksum: out = BLAKE3-256 of h's 2048 bytes. */
ACCTDB_API void acctdb_lthash_checksum(acctdb_lthash_t const *h, uint8_t out[32]);

/* ======================================================================== */
/* Merkle-era accounts hash (Agave <= 2.1)                                  */
/* ======================================================================== */

/* acctdb_merkle_leaf: the per-account hash of the merkle era: BLAKE3-256 of
 * lamports, rent_epoch, data, executable, owner, pubkey; 32 zero bytes when
 * lamports == 0. */
ACCTDB_API void acctdb_merkle_leaf(acctdb_account_t const *a, uint8_t out[32]);

/* acctdb_merkle_root: the fanout-16 SHA-256 tree over n 32-byte leaves given
 * in pubkey order (leaves[32*i .. 32*i+32)).  n == 0 gives SHA-256 of the
 * empty string.  Errors: as acctdb_sha256, or ACCTDB_ERR_NOMEM. */
ACCTDB_API int acctdb_merkle_root(uint8_t const *leaves, size_t n, uint8_t out[32]);

/* ======================================================================== */
/* Avocado index-compression trie: stateless proof checks                   */
/* ======================================================================== */

/* The trie that holds compressed accounts moved out of the index is a
 * binary Patricia Merkle trie over 32-byte keys (src/state/README.md has
 * the hashes and the proof layout).  A verifier needs only a trusted
 * 32-byte root: a membership proof shows key -> value is in the trie, an
 * exclusion proof that key is not. */

/* acctdb_trie_verify: checks the binary proof[0..len) about key under
 * root.  On 0, *is_member_out says which statement it proves and value_out
 * (may be NULL) gets a member's 32-byte value (zeros for an absent key).
 * Errors: ACCTDB_ERR_CORRUPT (malformed, truncated or over-long proof),
 * ACCTDB_ERR_MISMATCH (well formed, but it does not hash to root or does
 * not prove its statement). */
ACCTDB_API int acctdb_trie_verify(uint8_t const root[32], uint8_t const key[32],
                                  uint8_t const *proof, size_t len, bool *is_member_out,
                                  uint8_t value_out[32]);

/* What a JSON proof document states (acctdb_trie_verify_json). */
typedef struct acctdb_trie_statement {
    bool            is_member;   /* "member" (true) or "absent" */
    acctdb_pubkey_t key;         /* the key it is about */
    acctdb_hash_t   value;       /* a member's value */
    acctdb_hash_t   doc_root;    /* the root the document names */
    size_t          proof_bytes; /* the binary proof's length */
    size_t          steps;       /* its steps (about log2 of the trie's keys) */
} acctdb_trie_statement_t;

/* acctdb_trie_verify_json: checks a proof document (the JSON that `acctdb
 * state prove` prints) against the trusted root: the document's own root
 * must equal it, and the proof must prove exactly the document's statement
 * (a member's value included).  *out (may be NULL) gets the statement,
 * also on MISMATCH.  Errors: CORRUPT (not a proof document: msg_out says
 * which field), MISMATCH (msg_out says what differs), NOMEM. */
ACCTDB_API int acctdb_trie_verify_json(uint8_t const root[32], char const *text, size_t len,
                                       acctdb_trie_statement_t *out, char *msg_out, size_t msg_max);

/* ======================================================================== */
/* Snapshot archives                                                        */
/* ======================================================================== */

/* A loaded snapshot: a full archive, optionally overlaid by an incremental
 * one, streamed into a store directory, indexed and verified.  Opaque. */
typedef struct acctdb_snapshot acctdb_snapshot_t;

/* Progress of long work: done of total units (bytes of the archive read). */
typedef void (*acctdb_progress_fn)(void *ctx, char const *what, uint64_t done, uint64_t total);

typedef struct acctdb_snapshot_opts {
    /* Where account files are written (created; must be empty).  NULL: a
     * private temporary directory under $TMPDIR, removed by close. */
    char const *store_dir;
    bool        no_verify;       /* skip hash recomputation and comparisons */
    bool        strict_name;     /* a non-conforming archive name is an error */
    bool        manifest_only;   /* read only up to the manifest */
    char const *genesis_path;    /* the cluster's genesis.bin: the bank's genesis
                                  * fields (creation time, ticks, ns per slot,
                                  * slots per year, epoch schedule) are checked
                                  * against it, as Agave and Sig do; NULL: those
                                  * checks are skipped */
    unsigned           threads;  /* worker threads; 0 = number of CPUs */
    acctdb_progress_fn progress; /* may be NULL */
    void              *progress_ctx;
} acctdb_snapshot_opts_t;

/* acctdb_snapshot_open: loads full_path and, if incremental_path is not
 * NULL, overlays it (its base slot must equal the full snapshot's slot).
 * Verification (unless opts->no_verify) recomputes what the archive names
 * and manifests claim: the lattice hash or the merkle accounts hash, the
 * capitalization, accounts_data_len, the bank hash and the status cache
 * against the SlotHistory sysvar; each is a check (acctdb_snapshot_check).
 * On success the store directory holds a completion record; after any
 * failure it does not, and acctdb_db-style opens of it fail.
 *
 * *snap_out is set even when an error is returned (unless memory ran out),
 * so the checks and acctdb_snapshot_errmsg can be read; close it.
 * Errors: ACCTDB_ERR_MISMATCH (a check failed), CORRUPT (malformed archive,
 * manifest, account file; truncation), UNSUPPORTED(_VERSION), FULL (limits,
 * disk space), NOMEM, -errno.  Not thread-safe per object. */
ACCTDB_API int acctdb_snapshot_open(acctdb_snapshot_t **snap_out, char const *full_path,
                                    char const                   *incremental_path,
                                    acctdb_snapshot_opts_t const *opts);

/* acctdb_snapshot_find: the newest full snapshot in dir (or dir/remote) and
 * the newest incremental based on it (FORMAT.md 1.4).  Paths are written to
 * full_out / inc_out (inc_out[0] = 0 when there is none).  Errors:
 * ACCTDB_ERR_NOT_FOUND (msg_out says why nothing qualified), FULL (a
 * buffer is too small).  msg_out may be NULL. */
ACCTDB_API int acctdb_snapshot_find(char const *dir, char *full_out, size_t full_max, char *inc_out,
                                    size_t inc_max, char *msg_out, size_t msg_max);

/* acctdb_snapshot_errmsg: what went wrong, with context; "" if nothing. */
ACCTDB_API char const *acctdb_snapshot_errmsg(acctdb_snapshot_t const *s);

/* acctdb_snapshot_close: releases everything (and the temporary store).
 * NULL is fine. */
ACCTDB_API void acctdb_snapshot_close(acctdb_snapshot_t *s);

typedef struct acctdb_snapshot_info {
    uint64_t      slot;      /* of the newest manifest */
    uint64_t      base_slot; /* full slot when an incremental was loaded */
    bool          has_incremental;
    char const   *era;        /* "lattice", "merkle" or "transitional" */
    char const   *lt_formula; /* "current", "legacy (with rent_epoch)" or NULL */
    char const   *store_dir;
    uint64_t      account_files;
    uint64_t      records; /* account records scanned */
    uint64_t      live_accounts;
    uint64_t      duplicates;        /* older versions superseded by newer ones */
    bool          has_sums;          /* the next two were recomputed (verification on) */
    uint64_t      capitalization;    /* recomputed lamports of the live set */
    uint64_t      accounts_data_len; /* recomputed data bytes of the live set */
    uint64_t      manifest_capitalization;
    uint64_t      manifest_accounts_data_len;
    uint64_t      epoch; /* derived from the epoch schedule */
    uint64_t      parent_slot;
    uint64_t      block_height;
    bool          has_lt_checksum;
    uint8_t       lt_checksum[32]; /* of the manifest's accounts_lt_hash */
    acctdb_hash_t bank_hash;
    acctdb_hash_t parent_bank_hash;
    acctdb_hash_t archive_hash; /* the hash in the (newest) archive's name */
    bool          has_archive_hash;
    uint64_t      compressed_sz;   /* both archives */
    uint64_t      uncompressed_sz; /* tar bytes, both archives */
    uint64_t      zstd_frames;
    uint64_t      manifest_sz;
    uint64_t      status_cache_sz;
    bool          verified; /* every check passed */
    bool          complete; /* completion record written */
} acctdb_snapshot_info_t;

/* acctdb_snapshot_info: a summary of what was loaded.  Pointers inside are
 * valid until close. */
ACCTDB_API int acctdb_snapshot_info(acctdb_snapshot_t const *s, acctdb_snapshot_info_t *out);

typedef enum acctdb_check_status {
    ACCTDB_CHECK_PASS = 0,
    ACCTDB_CHECK_FAIL = 1,
    ACCTDB_CHECK_SKIP = 2,
} acctdb_check_status_t;

typedef struct acctdb_check {
    char const           *name; /* e.g. "lattice hash", "incremental capitalization" */
    acctdb_check_status_t status;
    char const           *detail; /* both values when they differ */
} acctdb_check_t;

/* acctdb_snapshot_check_cnt / _check: the checks made, in order.  Strings
 * are valid until close.  Errors: ACCTDB_ERR_INVALID for i out of range. */
ACCTDB_API size_t acctdb_snapshot_check_cnt(acctdb_snapshot_t const *s);
ACCTDB_API int    acctdb_snapshot_check(acctdb_snapshot_t const *s, size_t i, acctdb_check_t *out);

/* acctdb_snapshot_get: the live account at pubkey; *slot_out (may be NULL)
 * gets the slot of its newest version.  out->data points into a buffer the
 * snapshot owns, valid until the next get or close.  Errors:
 * ACCTDB_ERR_NOT_FOUND (absent or closed), CORRUPT, -errno. */
ACCTDB_API int acctdb_snapshot_get(acctdb_snapshot_t *s, acctdb_pubkey_t const *pubkey,
                                   acctdb_account_t *out, uint64_t *slot_out);

/* acctdb_snapshot_iterate: calls fn for every live account in pubkey order
 * (only those owned by *owner if owner is not NULL).  a->data is valid
 * during the call.  A non-zero return from fn stops and is returned. */
typedef int (*acctdb_account_fn)(void *ctx, acctdb_account_t const *a, uint64_t slot);
ACCTDB_API int acctdb_snapshot_iterate(acctdb_snapshot_t *s, acctdb_pubkey_t const *owner,
                                       acctdb_account_fn fn, void *ctx);

/* acctdb_snapshot_manifest_json: every decoded field of the newest
 * manifest as JSON (u64 values exact) in a new NUL-terminated string
 * (*json_out, free with acctdb_free).  Works after opening with
 * manifest_only. */
ACCTDB_API int acctdb_snapshot_manifest_json(acctdb_snapshot_t const *s, bool pretty,
                                             char **json_out, size_t *sz_out);

/* acctdb_free: frees memory the library returned to the caller. */
ACCTDB_API void acctdb_free(void *p);

/* ======================================================================== */
/* Genesis                                                                  */
/* ======================================================================== */

typedef struct acctdb_genesis_info {
    acctdb_hash_t hash;          /* SHA-256 of the file: the genesis hash */
    int64_t       creation_time; /* unix seconds */
    uint32_t      cluster_type;  /* 0 Testnet, 1 MainnetBeta, 2 Devnet, 3 Development */
    char const   *cluster_name;  /* static string */
    uint64_t      accounts;
    uint64_t      rewards_pools;
    uint64_t      native_programs;
    uint64_t      capitalization; /* lamports of all accounts */
    uint64_t      ticks_per_slot;
    uint64_t      slots_per_epoch;
    uint64_t      file_sz;
} acctdb_genesis_info_t;

/* acctdb_genesis_info: decodes a genesis.bin file.  Errors: CORRUPT
 * (malformed; msg_out says where), -errno, NOMEM. */
ACCTDB_API int acctdb_genesis_info(char const *path, acctdb_genesis_info_t *out, char *msg_out,
                                   size_t msg_max);

/* acctdb_genesis_open: opens a genesis file as the state at slot 0: its
 * accounts are written to opts->store_dir (or a temporary directory) and
 * indexed, and can be read with acctdb_snapshot_get / _iterate / _info. */
ACCTDB_API int acctdb_genesis_open(acctdb_snapshot_t **snap_out, char const *path,
                                   acctdb_snapshot_opts_t const *opts);

/* ======================================================================== */
/* The accounts database                                                    */
/* ======================================================================== */

/* A database directory: every account across forks.  New state for a slot
 * ("bank") goes into a write cache, keyed by slot, on top of its parent;
 * reads name a slot and see its fork; rooting a slot makes it and its
 * ancestors final and kills the sibling forks.  Background services flush
 * rooted slots into account files, clean superseded versions, shrink files
 * that are mostly dead and purge dead forks; after each flush one
 * checksummed root record names the durable root, which a reopen starts
 * from.  Unrooted state is not durable.
 *
 * THREADING MODEL
 *   Writers: acctdb_db_store / _freeze / _root / _snapshot are serialized
 *   by the database (call them from any thread; one runs at a time).
 *   Readers: acctdb_db_load / _load_batch / _scan / _bank_info / _stats may
 *   run on any number of threads at once and concurrently with writers and
 *   the background services; a reader never sees a half-applied store and
 *   never reads memory or file extents that have been freed (an epoch-based
 *   reader registry defers reclamation).
 *   Background: with cfg.background, four service threads (flush, clean,
 *   shrink, purge); without it, the caller steps them with
 *   acctdb_db_service_step (deterministic tests). */
typedef struct acctdb_db acctdb_db_t;

typedef enum acctdb_service {
    ACCTDB_SERVICE_FLUSH = 0,
    ACCTDB_SERVICE_CLEAN = 1,
    ACCTDB_SERVICE_SHRINK = 2,
    ACCTDB_SERVICE_PURGE = 3,
} acctdb_service_t;
#define ACCTDB_SERVICE_CNT 4

/* Budgets and switches.  acctdb_db_config_default fills the defaults;
 * DIR/acctdb.conf (key = value lines, '#' comments) and CLI flags override
 * them.  Keys are the field names. */
typedef struct acctdb_db_config {
    uint32_t index_bins;                /* power of two; default 8192 */
    uint64_t write_cache_max_sz;        /* the write cache's budget: bytes of unflushed
                                         * accounts (with their index and bank overhead,
                                         * and versions retired but not yet freed).  A
                                         * store that does not fit waits for the
                                         * services (write_cache_wait_ms), then fails
                                         * with FULL; only rooted data can be flushed.
                                         * Default 1 GiB */
    uint64_t read_cache_max_sz;         /* bytes of accounts read from files kept
                                         * in RAM; default 64 MiB; 0 disables */
    double shrink_ratio;                /* when live/total bytes of all account files
                                         * falls below (default 0.8), shrink rewrites
                                         * the sparsest files (each under the ratio)
                                         * until it is back above; 0 disables */
    bool shrink_per_file;               /* shrink every file under shrink_ratio,
                                         * whatever the total (more rewriting);
                                         * default off */
    bool owner_index;                   /* owner -> pubkeys, for scans; default off
                                         * (about 45 B of RAM per account; rebuilt
                                         * at every open, so a scan-only opener can
                                         * turn it on) */
    bool     background;                /* service threads; default on */
    uint32_t service_interval_ms;       /* each service's idle wake-up; default 100 */
    uint32_t snapshot_keep_full;        /* archives kept by acctdb_db_snapshot; 2 */
    uint32_t snapshot_keep_incremental; /* per full; 4 */
    uint64_t snapshot_max_sz;           /* byte budget for kept archives; 0 = none */
    unsigned threads;                   /* load workers; 0 = CPUs */
    bool     mmap_reads;                /* reads copy records from read-only mappings
                                         * of the account files (the page cache is
                                         * the cache; default on); off: every read is
                                         * a pread through the read cache, which then
                                         * keeps hot accounts compactly instead of
                                         * whole 4 KiB pages (account files larger
                                         * than RAM) */
    uint64_t flush_min_sz;              /* service threads: a flush waits until this
                                         * many rooted bytes are cached ... */
    uint32_t flush_max_delay_ms;        /* ... or the oldest unflushed root is this
                                         * old (defaults 64 MiB, 400 ms; 0 flushes
                                         * every root).  The write cache budget and
                                         * close always flush; stepped passes flush
                                         * everything rooted */
    bool sync;                          /* default on: every commit is fsynced after
                                         * what it names (durable roots).  Off: no
                                         * fsync or fdatasync at all (LMDB's
                                         * MDB_NOSYNC): for benchmarks and throwaway
                                         * copies only; a kill -9 still reopens at
                                         * the last commit, a power loss or OS crash
                                         * may lose or damage the database */
    uint32_t write_cache_wait_ms;       /* how long a store over the write cache
                                         * budget waits for the flush and purge
                                         * services to make room before it fails with
                                         * FULL (only while they can: something is
                                         * rooted or dead, and background is on);
                                         * default 2000 */
    bool index_disk;                    /* the index's disk tier (DIR/index.d): every
                                         * key's stored versions in mapped bucket
                                         * files, RAM a cache of whole keys under
                                         * index_ram_bytes (unflushed versions always
                                         * in RAM).  A clean close stamps it and the
                                         * next open uses it as it is (checksums
                                         * checked); otherwise it is rebuilt from
                                         * the account files.  Default off: the
                                         * whole index in RAM */
    uint64_t index_ram_bytes;           /* with index_disk: the RAM tier's budget,
                                         * its heap plus the resident pages of the
                                         * tier's mappings; least recently used keys
                                         * leave RAM past it.  0: no limit.  Setting
                                         * it turns index_disk on */
    uint64_t index_checkpoint_sz;       /* after a commit, once this many bytes of
                                         * account files were written since the
                                         * last index checkpoint (or there is
                                         * none), the index as that commit left it
                                         * is written to DIR/index-<gen>: an open
                                         * after a kill loads it and scans only
                                         * the files committed since.  0 (default):
                                         * max(256 MiB, a quarter of the stored
                                         * bytes); UINT64_MAX: never (a kill then
                                         * means a full scan) */
    bool avocado;                       /* Avocado state compression
                                         * (acctdb_db_compress, docs/STATE.md);
                                         * default off.  Compressed accounts stay
                                         * compressed whatever the switch: it only
                                         * allows compressing more */
    uint64_t chilly_cache_sz;           /* Chilly (acctdb_db_touch, docs/STATE.md):
                                         * CACHE_SIZE of the rule; the Chilly cache
                                         * then keeps the accounts hot at the root in
                                         * RAM (at most this plus the largest
                                         * transaction).  0 (default): off */
    uint64_t chilly_load_limit;         /* Chilly: a block's LOAD_LIMIT of cold
                                         * bytes (acctdb_db_touch with enforce);
                                         * 0: none */
    bool lsr;                           /* LSR rent: record each new account's
                                         * creation slot (acctdb's own state) for
                                         * acctdb_db_rent_sweep; default off (an
                                         * account without one counts as created
                                         * at the slot the database was loaded at) */
} acctdb_db_config_t;

ACCTDB_API void acctdb_db_config_default(acctdb_db_config_t *cfg);

/* acctdb_db_config_parse: applies "key = value" settings from text (one
 * per line, '#' comments).  Errors: ACCTDB_ERR_INVALID with the line and
 * key in msg_out. */
ACCTDB_API int acctdb_db_config_parse(acctdb_db_config_t *cfg, char const *text, char *msg_out,
                                      size_t msg_max);

/* acctdb_db_config_read: applies DIR/acctdb.conf to cfg if the file
 * exists (absent is fine).  Errors: INVALID (msg_out names the line), IO. */
ACCTDB_API int acctdb_db_config_read(acctdb_db_config_t *cfg, char const *dir, char *msg_out,
                                     size_t msg_max);

/* Where a new database comes from (exactly one). */
typedef struct acctdb_db_source {
    char const         *full_path;        /* a full snapshot archive ... */
    char const         *incremental_path; /* ... and optionally its incremental */
    char const         *archive_dir;      /* or: the newest full + incremental in a directory */
    char const         *genesis_path;     /* or: a genesis.bin (state at slot 0) */
    acctdb_progress_fn  progress;         /* optional: loading progress */
    void               *progress_ctx;
    volatile int const *stop; /* may be NULL: non-zero stops the creation (read between
                               * chunks of the archive and between verification steps;
                               * a signal handler may set it): STOPPED, nothing left */
} acctdb_db_source_t;

/* acctdb_db_create: creates DIR (must be empty or absent) from src,
 * verifying the archives fully, and opens it.  cfg NULL: defaults then
 * DIR/acctdb.conf if present.  Errors: as acctdb_snapshot_open, BUSY,
 * STOPPED (src->stop); msg_out says what.  *db_out is NULL on error, and
 * then DIR holds nothing the call made (removed if the call created it). */
ACCTDB_API int acctdb_db_create(acctdb_db_t **db_out, char const *dir,
                                acctdb_db_source_t const *src, acctdb_db_config_t const *cfg,
                                char *msg_out, size_t msg_max);

/* acctdb_db_open: reopens DIR at its durable root.  Errors: BUSY
 * ("database in use": another process or handle holds DIR/LOCK),
 * UNSUPPORTED_VERSION (written by a newer acctdb), NOT_FOUND (no root
 * record: not a database, or a creation that never finished), CORRUPT. */
ACCTDB_API int acctdb_db_open(acctdb_db_t **db_out, char const *dir, acctdb_db_config_t const *cfg,
                              char *msg_out, size_t msg_max);

/* acctdb_db_close: stops the services (letting in-flight work finish),
 * flushes the rooted banks still cached (so the newest root is durable),
 * drops every unrooted bank and releases everything, the lock last.  NULL
 * is fine. */
ACCTDB_API void acctdb_db_close(acctdb_db_t *db);

/* What a graceful shutdown did (acctdb_db_shutdown). */
typedef struct acctdb_shutdown_report {
    uint64_t root_slot;     /* the newest root at shutdown */
    uint64_t durable_slot;  /* the root the last commit names: a reopen comes back here */
    uint64_t flushed_bytes; /* account bytes the final flush wrote */
    uint64_t dropped_banks; /* unrooted banks dropped (their slots are gone) */
    double   wait_s;        /* waiting for the service passes in flight */
    double   flush_s;       /* the final flush and the final (clean) commit */
    double   total_s;       /* the whole shutdown */
    bool     clean;         /* the newest root is durable and the shutdown recorded */
} acctdb_shutdown_report_t;

/* acctdb_db_shutdown: acctdb_db_close, reporting what it did and whether
 * the newest root became durable.  It never interrupts an atomic step: a
 * service pass in flight finishes (a flush writes at most the write cache,
 * a shrink at most its per-pass budget), then the final flush commits the
 * newest root.  rep and msg_out may be NULL.  The handle is released
 * whatever the result.  Returns 0, or the final flush's error (FATAL, IO,
 * FULL: msg_out says why; the database then reopens at rep->durable_slot). */
ACCTDB_API int acctdb_db_shutdown(acctdb_db_t *db, acctdb_shutdown_report_t *rep, char *msg_out,
                                  size_t msg_max);

/* acctdb_db_interrupt: asks the long calls on db to stop at their next
 * atomic step, for a SIGINT or SIGTERM handler (it only stores to an atomic
 * flag, so it is async-signal-safe).  acctdb_db_snapshot then returns
 * ACCTDB_ERR_STOPPED between two account files, its temporary archive
 * removed and nothing registered, and so does every later call of it on
 * this handle.  Stores, roots, reads and acctdb_db_shutdown still work, so
 * the caller can finish its slot and shut down. */
ACCTDB_API void acctdb_db_interrupt(acctdb_db_t *db);

/* acctdb_db_errmsg: the last error's message (per handle; not
 * thread-local: read it from the thread that got the error). */
ACCTDB_API char const *acctdb_db_errmsg(acctdb_db_t const *db);

/* The metadata a bank is frozen with (FORMAT.md 3 and 9). */
typedef struct acctdb_bank_meta {
    acctdb_hash_t blockhash;         /* the slot's last blockhash */
    uint64_t      signature_count;   /* signatures in this slot */
    uint64_t      transaction_count; /* running total */
    int64_t       unix_timestamp;    /* seconds */
    acctdb_hash_t block_id;          /* optional; zeros if unknown */
} acctdb_bank_meta_t;

/* A frozen bank. */
typedef struct acctdb_bank_info {
    uint64_t           slot;
    uint64_t           parent_slot;
    uint64_t           block_height;
    acctdb_lthash_t    lt_hash; /* accounts lattice hash */
    uint8_t            lt_checksum[32];
    uint64_t           capitalization;
    uint64_t           accounts_data_len;
    acctdb_hash_t      bank_hash; /* FORMAT.md 9 */
    acctdb_hash_t      parent_bank_hash;
    acctdb_bank_meta_t meta;
    uint64_t           accounts_stored;        /* distinct accounts written in the slot */
    uint64_t           lamports_per_signature; /* the fee its blockhash is registered with
                                                * (derived from the parent's, as Agave's
                                                * FeeRateGovernor::new_derived) */
} acctdb_bank_info_t;

/* acctdb_db_store: writes accounts at slot, whose parent is parent_slot.
 * The first store at a slot creates its bank: the parent must be the root
 * or a frozen, live bank descending from it, and slot > parent_slot.  Later
 * stores at the same (open) slot add or replace accounts (last write
 * wins).  n == 0 only creates the bank.  Zero lamports closes an account:
 * it is kept as a bare tombstone (owner, data and flags dropped) until
 * clean may remove it (the all-zero pubkey cannot be closed: account files
 * cannot tell its tombstone from zero padding).  Data is copied.
 *
 * Back-pressure: a store that would take the write cache over
 * write_cache_max_sz changes nothing and, with background on and rooted
 * banks to flush or dead forks to purge, wakes the services and waits up
 * to write_cache_wait_ms for room; it then returns FULL, as it does at once
 * when waiting cannot help (nothing rooted: the cache holds only unrooted
 * banks, so root a bank or let forks die) or background is off (step the
 * flush and purge services, then store again).  The message says how full
 * the cache is and what holds it.  A FULL store leaves the database as it
 * was (a new bank is not even created), so the caller can retry the same
 * call.
 *
 * Errors: INVALID (slot frozen or dead, parent unknown, wrong parent, slot
 * <= root), TOO_OLD, NOMEM, FULL (as above), FATAL. */
ACCTDB_API int acctdb_db_store(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                               acctdb_account_t const *accts, size_t n);

/* acctdb_db_bank_begin: creates the bank at slot on parent_slot the way a
 * validator's bank starts: it stores the SlotHistory sysvar with slot
 * recorded (skipped slots cleared) and the Clock sysvar (slot, epoch from
 * the database's epoch schedule, unix_timestamp).  Snapshots need it: the
 * status cache an archive carries must agree with SlotHistory, so
 * acctdb_db_snapshot refuses a root whose SlotHistory does not name it.
 * Errors: as acctdb_db_store; CORRUPT if the parent's SlotHistory is
 * malformed. */
ACCTDB_API int acctdb_db_bank_begin(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                                    int64_t unix_timestamp);

/* acctdb_db_freeze: freezes slot's bank: its lattice hash (the parent's,
 * plus each account's final version, minus the version it replaces),
 * capitalization, data length and bank hash go to *info_out (may be NULL).
 * Freezing an already frozen bank returns its info.  Errors: INVALID (no
 * such bank, parent not frozen, dead), NOMEM, IO. */
ACCTDB_API int acctdb_db_freeze(acctdb_db_t *db, uint64_t slot, acctdb_bank_meta_t const *meta,
                                acctdb_bank_info_t *info_out);

/* acctdb_db_root: roots slot (frozen, descending from the root): it and
 * its ancestors become final, every other fork is dead.  Errors: INVALID,
 * TOO_OLD (slot is at or below the root). */
ACCTDB_API int acctdb_db_root(acctdb_db_t *db, uint64_t slot);

/* acctdb_db_load: the account at pubkey as seen from slot (the root or a
 * live bank descending from it).  The data is copied into data_buf
 * (data_max bytes); out->data points there.  Errors: NOT_FOUND (absent or
 * closed), FULL (data_max too small: out->data_len says how much is
 * needed), TOO_OLD (slot below the root), INVALID (unknown or dead slot),
 * IO.  slot_out (may be NULL) gets the slot of the version read. */
ACCTDB_API int acctdb_db_load(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *pubkey,
                              acctdb_account_t *out, uint8_t *data_buf, size_t data_max,
                              uint64_t *slot_out);

/* ---- Avocado state compression (docs/STATE.md; cfg.avocado) ----------------
 *
 * A compressed account keeps its key, lamports, owner, executable flag and
 * rent epoch; its data becomes the 32-byte BLAKE3 of the data, and its
 * original length is kept in acctdb's own state (never inside an
 * archive).  It enters the lattice hash as that stored form, so
 * compressing and decompressing are ordinary changes of the bank and a
 * round trip restores the lattice hash exactly.  Loads of it return
 * ACCTDB_ERR_COMPRESSED with out->lamports, owner, executable and the
 * 32-byte hash as its data (data_len 32; acctdb_db_compressed_info gives
 * the original length); stores to it fail with ACCTDB_ERR_COMPRESSED and
 * change nothing. */

/* acctdb_db_compress: compresses keys[0..n) at slot (parent_slot: as
 * acctdb_db_store).  rc_out[i] (n entries) gets 0 (compressed),
 * ACCTDB_ERR_COMPRESSED (already), NOT_FOUND, UNSUPPORTED (never
 * compressed: no lamports, 32 data bytes or fewer, executable, or owned
 * by a loader, the Sysvar, Vote, Stake, Config or Feature program) or
 * INVALID (the key twice in the call).  *done_out (may be NULL) gets the
 * count compressed.  Errors of the whole call, which then changed
 * nothing: UNSUPPORTED (cfg.avocado off), those of acctdb_db_store. */
ACCTDB_API int acctdb_db_compress(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                                  acctdb_pubkey_t const *keys, size_t n, int *rc_out,
                                  size_t *done_out);

/* What acctdb_db_compress_idle did. */
typedef struct acctdb_compress_report {
    uint64_t candidates;   /* accounts idle long enough */
    uint64_t compressed;   /* of them, compressed now */
    uint64_t skipped;      /* never compressed (see acctdb_db_compress), closed, or
                            * compressed already */
    uint64_t bytes_before; /* data bytes of the compressed accounts before ... */
    uint64_t bytes_after;  /* ... and after (32 each) */
} acctdb_compress_report_t;

/* acctdb_db_compress_idle: compresses, at slot on the root (parent_slot
 * must be the root), the accounts whose newest rooted version is at least
 * idle_slots older than slot: the longest idle first (ties by pubkey), at
 * most limit of them (0: all).  Does not freeze the bank.  rep (may be
 * NULL) says what it did.  Errors: UNSUPPORTED (cfg.avocado off), INVALID,
 * those of acctdb_db_store. */
ACCTDB_API int acctdb_db_compress_idle(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                                       uint64_t idle_slots, uint64_t limit,
                                       acctdb_compress_report_t *rep);

/* ---- Chilly (docs/STATE.md; cfg.chilly_cache_sz) -----------------------------
 *
 * acctdb_db_touch: one transaction's loads of keys[0..n) (distinct, at most
 * 256) at open bank slot, judged together against the bank's loaded_bytes
 * as the transaction starts: cold_out[i] (n flags, may be NULL) gets 1 for
 * a cold account (never loaded, or loaded more than chilly_cache_sz loaded
 * bytes ago); *cold_bytes_out the cold bytes charged (data_len + 64
 * each).  Then loaded_bytes grows by every load's size and each existing
 * account's counter becomes it (an absent account is charged and keeps no
 * state).  With enforce and cfg.chilly_load_limit, a transaction that would
 * take the block past its LOAD_LIMIT changes nothing and returns FULL (a
 * scheduler defers it).  Counters are fork-aware state, durable with the
 * root, and carried by snapshots' sidecars.  Errors: UNSUPPORTED (Chilly
 * off), INVALID (slot not an open bank, a key twice, n > 256), COMPRESSED
 * (a transaction loading a compressed account fails; nothing changes),
 * FULL, NOMEM. */
ACCTDB_API int acctdb_db_touch(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *keys,
                               size_t n, bool enforce, uint8_t *cold_out, uint64_t *cold_bytes_out);

/* acctdb_db_chilly_bank: a bank's loaded_bytes and the cold bytes its
 * block has charged (the root once flushed: its loaded_bytes, 0). */
ACCTDB_API int acctdb_db_chilly_bank(acctdb_db_t *db, uint64_t slot, uint64_t *loaded_bytes_out,
                                     uint64_t *cold_bytes_out);

/* acctdb_db_chilly_cached: the accounts the Chilly cache holds (exactly
 * those hot at the root), ascending, at most max into keys_out; *cnt_out
 * the count.  Errors: UNSUPPORTED (off), FULL (more than max). */
ACCTDB_API int acctdb_db_chilly_cached(acctdb_db_t *db, acctdb_pubkey_t *keys_out, size_t max,
                                       size_t *cnt_out);

/* What acctdb_db_rent_sweep did. */
typedef struct acctdb_rent_report {
    uint64_t accounts;         /* live accounts at the root (compressed ones included) */
    uint64_t state_size;       /* the sum of their sizes, data_len + 128 (a compressed
                                * account's stored form counts 32) */
    uint64_t exempt;           /* never swept: executable, or owned by a loader, the
                                * Sysvar, Vote, Stake, Config or Feature program */
    uint64_t swept;            /* compacted: compressed, lamports burned */
    uint64_t lamports_burned;  /* capitalization falls by exactly this */
    uint64_t data_bytes_freed; /* data bytes the swept accounts no longer store */
} acctdb_rent_report_t;

/* acctdb_db_rent_sweep: LSR rent at slot on the root (parent_slot must be
 * the root): RentRate = K * state_size^N lamports per byte per slot (K a
 * non-negative decimal as text, e.g. "1e-18"; N from 0 to 16); every
 * account with (slot - creation_slot) * RentRate * size > lamports, size =
 * data_len + 128, is compacted: compressed and its lamports burned (it
 * becomes a tombstone in the store and in archives; acctdb's own state keeps
 * its owner, length and data hash, so it can be decompressed with new
 * lamports).  The arithmetic is exact (docs/STATE.md).  Creation slots come
 * from cfg.lsr; an account without one counts as created at the slot the
 * database was loaded at.  Does not freeze the bank.  Errors: INVALID (K,
 * N, slots), those of acctdb_db_store. */
ACCTDB_API int acctdb_db_rent_sweep(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                                    char const *k, uint32_t n, acctdb_rent_report_t *rep);

/* acctdb_db_decompress: restores the account at key from its data at slot.
 * data must be what it was compressed from (its length and hash), else
 * MISMATCH and nothing changes.  lamports: 0 keeps the account's own; an
 * account whose lamports a rent sweep burned needs lamports > 0 (the
 * caller debits them from a payer in the same slot).  Errors: INVALID
 * (not compressed, lamports wrong), MISMATCH, those of acctdb_db_store. */
ACCTDB_API int acctdb_db_decompress(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot,
                                    acctdb_pubkey_t const *key, uint8_t const *data, size_t len,
                                    uint64_t lamports);

/* What acctdb keeps of a compressed account. */
typedef struct acctdb_compressed {
    uint64_t        orig_len;  /* the data's original length */
    acctdb_hash_t   data_hash; /* BLAKE3-256 of the original data */
    bool            burned;    /* its lamports were burned (a rent sweep) */
    acctdb_pubkey_t owner;
    bool            executable;
} acctdb_compressed_t;

/* acctdb_db_compressed_info: the compression record of key as seen from
 * slot.  Errors: NOT_FOUND (not compressed), TOO_OLD, INVALID (slot). */
ACCTDB_API int acctdb_db_compressed_info(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key,
                                         acctdb_compressed_t *out);

/* Avocado index compression (docs/STATE.md): a binary Patricia Merkle trie
 * of every account compressed at the durable root, keyed by pubkey, valued
 * adb_avocado_leaf_value (BLAKE3 of lamports, executable, owner, original
 * length and data hash).  A membership proof shows what a compressed
 * account holds; an exclusion proof shows a key is not in it.  Both check
 * with acctdb_trie_verify against the 32-byte root alone. */

/* The largest binary proof (an exclusion proof 256 steps deep). */
#define ACCTDB_TRIE_PROOF_MAX (1 + 64 + 2 + 256 * 33)

/* The trie's state. */
typedef struct acctdb_trie_info {
    acctdb_hash_t root;             /* 32 zero bytes when empty */
    uint64_t      slot;             /* the durable root it describes */
    uint64_t      last_insert_slot; /* when its newest key was added (0: never) */
    uint64_t      keys;
} acctdb_trie_info_t;

/* A proof about one key, and the trie it was made against. */
typedef struct acctdb_trie_proof {
    acctdb_trie_info_t trie;
    acctdb_pubkey_t    key;
    bool               is_member;
    acctdb_hash_t      value; /* a member's leaf value (zeros otherwise) */
    size_t             len;
    uint8_t            proof[ACCTDB_TRIE_PROOF_MAX];
} acctdb_trie_proof_t;

/* acctdb_db_trie_info: the trie's state now. */
ACCTDB_API int acctdb_db_trie_info(acctdb_db_t *db, acctdb_trie_info_t *out);

/* acctdb_db_prove: a membership proof of key (compressed at the durable
 * root) or an exclusion proof (not in the trie), against the trie's root
 * at that moment (out->trie). */
ACCTDB_API int acctdb_db_prove(acctdb_db_t *db, acctdb_pubkey_t const *key,
                               acctdb_trie_proof_t *out);

/* acctdb_trie_proof_json: *p as the JSON proof document `acctdb state
 * prove` prints and acctdb_trie_verify_json reads (*json_out: NUL-
 * terminated, free with acctdb_free).  Errors: NOMEM, INVALID. */
ACCTDB_API int acctdb_trie_proof_json(acctdb_trie_proof_t const *p, char **json_out,
                                      size_t *len_out);

/* acctdb_trie_proof_from_json: a proof document's statement and binary
 * proof into *out (out->trie: only its root, the document's).  Checks the
 * form only, not the proof.  Errors: CORRUPT (msg_out says which field),
 * NOMEM. */
ACCTDB_API int acctdb_trie_proof_from_json(char const *text, size_t len, acctdb_trie_proof_t *out,
                                           char *msg_out, size_t msg_max);

/* What may create an account whose key is not in the database: either an
 * exclusion proof against the trie's current root, or (blockhash, seed)
 * with key = BLAKE3-256(blockhash | seed), the blockhash one of the 301
 * newest rooted banks' and newer than the trie's last insertion (so no
 * key in the trie can equal the address). */
typedef struct acctdb_create_cred {
    uint8_t const         *proof; /* a binary exclusion proof ... */
    size_t                 proof_len;
    acctdb_hash_t const   *blockhash; /* ... or a recent blockhash and */
    acctdb_pubkey_t const *seed;      /* the public key the address derives from */
} acctdb_create_cred_t;

/* acctdb_db_check_create: may a transaction at slot create key?  0 when
 * key is live at slot (not a creation) or cred proves key new.  Errors:
 * COMPRESSED (key is compressed as seen from slot: decompress it instead),
 * MISMATCH (the proof does not prove key absent under the current root:
 * stale, forged or of a member; or key is not the address derived from
 * blockhash and seed; or the blockhash is not newer than the trie's last
 * insertion), NOT_FOUND (the blockhash is not a recent rooted bank's),
 * CORRUPT (a malformed proof), INVALID (no credential, or slot), TOO_OLD.
 * The message says which. */
ACCTDB_API int acctdb_db_check_create(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key,
                                      acctdb_create_cred_t const *cred);

/* acctdb_db_load_batch: n loads at slot, with prefetched index probes.
 * Account i goes to out[i] (data inside buf, packed; buf_sz bytes) and its
 * result to rc_out[i] (0, NOT_FOUND, or FULL if buf ran out).  Returns 0 or
 * an error that applies to the whole call (slot, IO). */
ACCTDB_API int acctdb_db_load_batch(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *pubkeys,
                                    size_t n, acctdb_account_t *out, uint8_t *buf, size_t buf_sz,
                                    int *rc_out);

/* Filters of a scan by owner (getProgramAccounts). */
typedef struct acctdb_memcmp {
    uint64_t       offset;
    uint8_t const *bytes;
    size_t         len;
} acctdb_memcmp_t;

typedef struct acctdb_scan_filter {
    acctdb_pubkey_t owner;
    bool            has_data_size;
    uint64_t        data_size;
    size_t          memcmp_cnt; /* <= 4 */
    acctdb_memcmp_t memcmp[4];
} acctdb_scan_filter_t;

/* acctdb_db_scan: accounts owned by filter->owner (and matching the data
 * size and memcmp filters) as seen from slot, in pubkey order, after
 * *cursor (NULL: from the start), at most limit of them (0: no limit).
 * fn's account data is valid during the call.  *next_out gets the cursor
 * to continue with and *more_out whether more may follow.  Needs
 * cfg.owner_index (else UNSUPPORTED).  Consistent at slot: versions of
 * other forks are never returned. */
typedef int (*acctdb_scan_fn)(void *ctx, acctdb_account_t const *a, uint64_t slot);
ACCTDB_API int acctdb_db_scan(acctdb_db_t *db, uint64_t slot, acctdb_scan_filter_t const *filter,
                              acctdb_pubkey_t const *cursor, size_t limit, acctdb_scan_fn fn,
                              void *ctx, acctdb_pubkey_t *next_out, bool *more_out);

/* acctdb_db_snapshot: writes a full snapshot of the root, or (incremental)
 * one of what changed since the last full snapshot, into archive_dir, then
 * applies retention (cfg.snapshot_keep_*, snapshot_max_sz).  The root is
 * flushed first.  path_out (>= 4096 bytes, may be NULL) gets the archive.
 * Errors: INVALID (incremental without a full), IO, FULL, NOMEM. */
ACCTDB_API int acctdb_db_snapshot(acctdb_db_t *db, char const *archive_dir, bool incremental,
                                  char *path_out);

/* acctdb_db_bank_info: a frozen bank's info (slot live, or the root). */
ACCTDB_API int acctdb_db_bank_info(acctdb_db_t *db, uint64_t slot, acctdb_bank_info_t *info_out);

/* acctdb_db_root_slot: the newest rooted slot; *durable_out (may be NULL)
 * the newest flushed (durable) root. */
ACCTDB_API uint64_t acctdb_db_root_slot(acctdb_db_t *db, uint64_t *durable_out);

/* acctdb_db_service_step: runs one pass of a background service now (the
 * way tests drive them deterministically when cfg.background is off).
 * Returns the amount of work done (>= 0) or an error. */
ACCTDB_API int acctdb_db_service_step(acctdb_db_t *db, acctdb_service_t which);

/* acctdb_db_verify: recomputes the lattice hash of the durable root from
 * the account files and compares it with the root record.  Errors:
 * MISMATCH (msg says both checksums), IO. */
ACCTDB_API int acctdb_db_verify(acctdb_db_t *db, char *msg_out, size_t msg_max);

/* acctdb_db_check: checks the engine's invariants (the alive bytes of
 * every account file equal what the index references; every indexed
 * location holds a record of its key; no key has an alive version older
 * than its newest rooted one).  Holds off the services while it runs.
 * Errors: CORRUPT with what broke in msg_out. */
ACCTDB_API int acctdb_db_check(acctdb_db_t *db, char *msg_out, size_t msg_max);

typedef struct acctdb_db_stats {
    uint64_t root_slot, durable_root_slot, last_full_snapshot_slot;
    uint64_t banks_open, banks_frozen, banks_rooted_unflushed, banks_dead;
    uint64_t index_keys, index_versions_listed, index_ram_sz;
    uint64_t storages, storage_bytes, storage_alive_bytes, segments;
    uint64_t write_cache_sz;       /* charged against write_cache_max_sz (overhead
                                    * and retired-but-held versions included) */
    uint64_t write_cache_accounts; /* versions in live banks */
    uint64_t read_cache_sz, read_cache_hits, read_cache_misses;
    uint64_t owner_index_keys;
    uint64_t stores, loads, freezes, roots;
    uint64_t service_passes[ACCTDB_SERVICE_CNT];
    uint64_t service_work[ACCTDB_SERVICE_CNT]; /* accounts flushed/cleaned/moved/purged */
    uint64_t service_ns[ACCTDB_SERVICE_CNT];
    uint64_t flushed_bytes;
    uint64_t retired_pending; /* objects waiting for readers to leave */
    uint64_t service_errors;  /* background failures since open (acctdb_db_service_error) */
    /* The index at open: loaded from the index file the last clean close
     * wrote (index_rebuilt false, index_reason "loaded from index-N"); after
     * a kill, loaded from the newest index file a commit names as its base
     * (the clean close's or a checkpoint, index_checkpoint_sz) with the
     * account files committed since scanned ("loaded from index-N (root R)
     * and K storages replayed ..."); or rebuilt by scanning every account
     * file, index_reason saying why ("no clean shutdown and no index
     * checkpoint", "no index file", "index file damaged: ...", "index file
     * of another commit ...", "format 2 database", ...).  A load does not
     * check the seals (CRC-32C) of the account files it does not scan, as
     * a rebuild does; acctdb_db_verify and snapshot writing still do. */
    bool     index_rebuilt;
    char     index_reason[120];
    uint64_t index_open_ns;           /* what loading or rebuilding the index took */
    uint64_t index_replayed_storages; /* account files the open scanned on top of a base */
    uint64_t index_checkpoints;       /* index checkpoints written since open ... */
    uint64_t index_checkpoint_ns;     /* ... and the time they took */
    /* Chilly's cache (chilly_cache_sz): accounts and their load bytes held,
     * loads it answered and loads it did not; acctdb's own state: images
     * and log bytes written since open. */
    uint64_t chilly_cached, chilly_bytes, chilly_hits, chilly_misses;
    uint64_t xstate_images, xstate_log_bytes;
    /* The index's tiers (index_disk; else all zero but index_ram_heap).
     * RAM: heap (tables, version lists, the disk tier's bookkeeping) and an
     * upper bound of the disk tier's resident mapped bytes, against
     * index_ram_budget; keys resident in RAM.  Disk: file bytes, keys with
     * stored versions, entries allocated (live/allocated = its load).
     * Lookups answered from RAM (hits) or from disk (misses, each then
     * promoted into RAM); keys evicted from RAM since open. */
    bool     index_disk;
    uint64_t index_ram_budget, index_ram_heap, index_ram_mapped, index_ram_keys;
    uint64_t index_disk_bytes, index_disk_keys, index_disk_entries;
    uint64_t index_hits, index_misses, index_promotions, index_evictions;
} acctdb_db_stats_t;

ACCTDB_API int acctdb_db_stats(acctdb_db_t *db, acctdb_db_stats_t *out);

/* acctdb_db_service_error: how many background failures there were since
 * open (stats.service_errors): service passes that failed (on the service
 * threads, or stepped) and space the reclaimer could not give back (a
 * punch; no data is lost).  msg_out (may be NULL) gets the last one's
 * message, "" if none.  A pass that failed on a service thread is also
 * returned once, as its error code with its message, by the next call of
 * acctdb_db_store, acctdb_db_bank_begin, acctdb_db_root,
 * acctdb_db_service_step or acctdb_db_snapshot, which then does nothing
 * else (retry it).  A failed durable write (FATAL) stays until reopen. */
ACCTDB_API uint64_t acctdb_db_service_error(acctdb_db_t *db, char *msg_out, size_t msg_max);

/* ---- what a read service needs ------------------------------------------- */

/* The slots each commitment level reads (JSON-RPC "commitment"):
 * processed, the newest frozen bank of the surviving fork (the newest
 * frozen descendant of the root; the root if none); confirmed, the slot
 * last marked with acctdb_db_confirm if it is still live and at or above
 * the root, else the root; finalized, the root. */
typedef struct acctdb_db_slots {
    uint64_t processed, confirmed, finalized;
} acctdb_db_slots_t;

ACCTDB_API int acctdb_db_slots(acctdb_db_t *db, acctdb_db_slots_t *out);

/* acctdb_db_confirm: marks slot (frozen, live, descending from the root)
 * as the confirmed one.  Errors: INVALID (unknown, not frozen or dead),
 * TOO_OLD (below the root). */
ACCTDB_API int acctdb_db_confirm(acctdb_db_t *db, uint64_t slot);

/* What a database knows of its cluster: the genesis hash (when it was
 * created from a genesis file: bank 0's only blockhash), the rent (the
 * root's Rent sysvar) and the epoch schedule of its origin.  Errors:
 * UNSUPPORTED (a database without bank state). */
typedef struct acctdb_db_cluster {
    bool          has_genesis_hash;
    acctdb_hash_t genesis_hash;
    uint64_t      lamports_per_byte_year;
    double        exemption_threshold;
    uint64_t      slots_per_epoch;
    uint64_t      first_normal_epoch, first_normal_slot;
    bool          warmup;
} acctdb_db_cluster_t;

ACCTDB_API int acctdb_db_cluster(acctdb_db_t *db, acctdb_db_cluster_t *out);

/* acctdb_db_min_balance: Rent::minimum_balance(data_len) under the
 * database's rent (getMinimumBalanceForRentExemption). */
ACCTDB_API uint64_t acctdb_db_min_balance(acctdb_db_t *db, uint64_t data_len);

/* acctdb_db_token_scan: SPL Token and Token-2022 accounts (owned by either
 * program, at least 165 bytes of data, initialized or frozen) whose token
 * owner (data offset 32) is *key, or whose mint (offset 0) is *key when
 * by_mint, as seen from slot, in pubkey order after *cursor (NULL: from
 * the start), at most limit (0: no limit); program (may be NULL) keeps
 * only one of the two token programs.  A secondary index kept with the
 * owner index (cfg.owner_index, else UNSUPPORTED).  fn, next_out and
 * more_out as acctdb_db_scan. */
ACCTDB_API int acctdb_db_token_scan(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *key,
                                    bool by_mint, acctdb_pubkey_t const *program,
                                    acctdb_pubkey_t const *cursor, size_t limit, acctdb_scan_fn fn,
                                    void *ctx, acctdb_pubkey_t *next_out, bool *more_out);

/* The accounts a slot changed, as it is rooted: its final version of each
 * account it stored (closed ones with zero lamports), in pubkey order, and
 * the bank's info (lattice hash, bank hash, metadata). */
typedef struct acctdb_slot_changes {
    uint64_t                  slot;
    uint64_t                  parent_slot;
    acctdb_bank_info_t const *info;
    acctdb_account_t const   *accounts;
    size_t                    cnt;
} acctdb_slot_changes_t;

/* acctdb_db_set_root_hook: fn is called for every slot a root makes final,
 * in slot order (each slot's parent before it), on the thread that called
 * acctdb_db_root, before that call returns; the pointers are valid during
 * the call only.  fn must not call back into db.  NULL removes the hook.
 * One hook per handle. */
typedef void (*acctdb_root_hook_fn)(void *ctx, acctdb_slot_changes_t const *c);
ACCTDB_API int acctdb_db_set_root_hook(acctdb_db_t *db, acctdb_root_hook_fn fn, void *ctx);

/* ======================================================================== */
/* The network service                                                      */
/* ======================================================================== */

/* A running server: JSON-RPC 2.0 (Solana's read methods), the snapshot
 * HTTP endpoints, /health, /metrics and the /changes stream, on one
 * database handle the caller keeps (and may keep writing to: stores,
 * roots and snapshots go on while it serves).  Opaque. */
typedef struct acctdb_server acctdb_server_t;

typedef struct acctdb_server_opts {
    char const *addr;         /* "IP:PORT" to listen on; default "127.0.0.1:8899"; port 0
                               * picks a free one (acctdb_server_port tells which) */
    char const *snapshot_dir; /* archives to serve (and getHighestSnapshotSlot); NULL: none */
    char const *genesis_path; /* the cluster's genesis.bin (getGenesisHash);
                               * NULL: what the database knows */
    uint64_t max_send_rate;   /* bytes/s per archive transfer; 0: unlimited */
    uint32_t history_slots;   /* rooted slots the change stream keeps; default 600 */
    uint64_t history_max_sz;  /* their byte budget; default 256 MiB */
    unsigned threads;         /* JSON-RPC workers; default 4 (0: each connection's
                               * thread runs its own calls) */
    uint32_t max_connections; /* default 1024 */
    uint32_t idle_timeout_s;  /* a connection idle this long is cut; default 30 */
    uint64_t max_body_sz;     /* request body limit; default 50 KiB */
    uint64_t max_response_sz; /* JSON-RPC response limit; default 64 MiB */
    uint32_t max_batch;       /* requests per JSON-RPC batch; default 100 */
} acctdb_server_opts_t;

ACCTDB_API void acctdb_server_opts_default(acctdb_server_opts_t *o);

/* acctdb_server_start: starts serving db (which must outlive the server;
 * cfg.owner_index on for getProgramAccounts and token queries).  It installs
 * db's root hook for the change stream.  Errors: INVALID (options; msg_out
 * says which), IO (address in use ...), NOMEM. */
ACCTDB_API int acctdb_server_start(acctdb_server_t **srv_out, acctdb_db_t *db,
                                   acctdb_server_opts_t const *o, char *msg_out, size_t msg_max);

/* acctdb_server_port: the port it listens on. */
ACCTDB_API uint16_t acctdb_server_port(acctdb_server_t const *srv);

/* acctdb_server_stop: stops accepting, ends every connection, removes the
 * root hook and frees the server.  NULL is fine. */
ACCTDB_API void acctdb_server_stop(acctdb_server_t *srv);

/* Counters (the ones /metrics prints). */
typedef struct acctdb_server_stats {
    uint64_t requests, rpc_calls, rpc_errors, bytes_in, bytes_out;
    uint64_t connections_open, streams_open, archives_sent;
    uint64_t history_slots, history_oldest_slot, history_sz;
} acctdb_server_stats_t;

ACCTDB_API int acctdb_server_stats(acctdb_server_t const *srv, acctdb_server_stats_t *out);

/* ---- fetching state from peers --------------------------------------------- */

typedef struct acctdb_bootstrap_opts {
    char const *const *peers; /* base URLs, "http://HOST:PORT" */
    size_t             peer_cnt;
    char const *const *known_hashes; /* "SLOT:HASH" (base58), checked against every archive
                                      * of that slot; a disagreement stops the bootstrap */
    size_t   known_hash_cnt;
    uint64_t min_speed;             /* bytes/s over a sliding window after warm-up; a slower
                                     * peer is dropped; 0: none */
    uint32_t    min_speed_window_s; /* default 5 */
    uint32_t    connect_timeout_s;  /* default 10 */
    char const *dir;                /* the database directory to create */
    char const *archive_dir;        /* where archives are downloaded; default DIR/../DIR.archives */
    acctdb_db_config_t const *cfg;  /* NULL: defaults */
    acctdb_progress_fn        progress; /* ("download", bytes, total) and the load's */
    void                     *progress_ctx;
    void (*log)(void *ctx, char const *line); /* what happened, a line each; may be NULL */
    void               *log_ctx;
    volatile int const *stop; /* may be NULL: non-zero stops it (read at least every
                               * 100 ms in transfers, and between steps; a signal
                               * handler may set it): STOPPED, no database; archives
                               * already complete stay in archive_dir */
} acctdb_bootstrap_opts_t;

typedef struct acctdb_bootstrap_result {
    char     peer[512]; /* the peer the archives came from */
    char     full_path[4096], inc_path[4096];
    uint64_t full_slot, inc_slot; /* inc_slot 0 without an incremental */
    uint64_t bytes, peers_tried, peers_dropped;
    double   seconds;
} acctdb_bootstrap_result_t;

/* acctdb_bootstrap: probes the peers (HEAD of the snapshot endpoints and
 * getHighestSnapshotSlot), prefers the highest full snapshot and then the
 * fastest peer, downloads the full archive and then the newest incremental
 * on it (to a temporary name in archive_dir: length-checked, fsynced,
 * renamed), drops a peer slower than min_speed or one that served a bad
 * archive (for this run), and creates the database at dir from the
 * archives, verified by every check of acctdb_snapshot_open.  Errors:
 * NOT_FOUND (no peer qualified: msg_out says how many were discarded and
 * why), MISMATCH (a known hash disagrees: nothing is created), FULL (disk
 * space), IO, INVALID, STOPPED (o->stop: no database, no partial file). */
ACCTDB_API int acctdb_bootstrap(acctdb_bootstrap_opts_t const *o, acctdb_bootstrap_result_t *out,
                                char *msg_out, size_t msg_max);

typedef struct acctdb_follow_opts {
    char const               *peer; /* base URL of the server */
    char const               *dir;  /* the follower's database (created by bootstrap if absent) */
    acctdb_db_config_t const *cfg;
    uint64_t stop_after_slots; /* return after applying this many slots; 0: never */
    uint32_t stop_after_s;     /* return after this many seconds; 0: never */
    uint64_t min_speed;        /* for re-bootstraps (acctdb_bootstrap_opts_t) */
    void (*log)(void *ctx, char const *line);
    void               *log_ctx;
    volatile int const *stop; /* may be NULL: non-zero makes it return (read
                               * between slots; a signal handler may set it) */
} acctdb_follow_opts_t;

typedef struct acctdb_follow_result {
    uint64_t slots_applied, bootstraps, resets;
    uint64_t last_slot;
    uint8_t  lt_checksum[32]; /* of last_slot */
} acctdb_follow_result_t;

/* acctdb_follow: applies the peer's /changes stream to the database at dir
 * (bootstrapping it first when absent), slot by slot, each checked against
 * the lattice hash the stream closes it with.  On SlotTooOld (the follower
 * fell behind the server's window) or a slot that does not verify, it
 * discards all partial state, bootstraps again from a fresh snapshot and
 * resumes; it never asks for the same slot twice in a row after a reset
 * and never mixes two servers or two connections.  Errors: as
 * acctdb_bootstrap, IO, MISMATCH. */
ACCTDB_API int acctdb_follow(acctdb_follow_opts_t const *o, acctdb_follow_result_t *out,
                             char *msg_out, size_t msg_max);

#ifdef __cplusplus
}
#endif

#endif /* ACCTDB_H */
