/* acctdb_sim.h - simulation for tools, benchmarks and tests: the seeded
 * generator, the mainnet-like account mix, the snapshot generator and the
 * synthetic validator workload.
 *
 * This is not the stable API of include/acctdb.h: what is declared here
 * may change between releases as the simulation follows mainnet.  It is
 * built into libacctdb (the acctdb tool, the benchmarks and the tests use
 * it) and its functions follow acctdb.h's conventions (errors, *_out,
 * reentrancy). */
#ifndef ACCTDB_SIM_H
#define ACCTDB_SIM_H

#include "acctdb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* The generator (splitmix64)                                               */
/* ======================================================================== */

/* One seeded stream.  Every synthetic thing in acctdb (snapshots, the
 * workload, benchmark traces, test data) draws from this generator, so a
 * seed means the same thing everywhere.  Not for secrets. */
typedef struct acctdb_rng {
    uint64_t s;
} acctdb_rng_t;

/* acctdb_rng_seed: a stream starting at seed. */
ACCTDB_API acctdb_rng_t acctdb_rng_seed(uint64_t seed);
/* acctdb_rng_at: the stream of item i for purpose `what` (any item can be
 * re-derived on its own). */
ACCTDB_API acctdb_rng_t acctdb_rng_at(uint64_t seed, uint64_t i, uint64_t what);
ACCTDB_API uint64_t     acctdb_rng_next(acctdb_rng_t *r);
/* Uniform in [0, n); 0 if n is 0. */
ACCTDB_API uint64_t acctdb_rng_below(acctdb_rng_t *r, uint64_t n);
/* Uniform in [0, 1). */
ACCTDB_API double acctdb_rng_unit(acctdb_rng_t *r);
/* n random bytes. */
ACCTDB_API void acctdb_rng_fill(acctdb_rng_t *r, void *p, size_t n);

/* ======================================================================== */
/* The account mix                                                          */
/* ======================================================================== */

/* The one mainnet-like mix of accounts.  The snapshot generator draws every
 * account from it, the workload its new accounts, bench_db the new
 * accounts of its trace.  Per account:
 *
 *   class   share       data size          owner, data
 *   TOKEN   70%         165 B              the SPL Token program; an SPL
 *                                          token account: one of 1024
 *                                          mints, a random wallet, an
 *                                          amount below 10^12, initialized
 *   EMPTY   15%         0 B                the system program
 *   SMALL   14.9499%    200 B - 2 KiB      one of 64 programs
 *   LARGE   0.05%       2 KiB - 1 MiB      one of 64 programs; one in ten
 *                                          is an executable program owned
 *                                          by BPFLoaderUpgradeab1e1111...
 *   HUGE    0.0001%     1 MiB - 10 MiB     one of 64 programs
 *
 * Sizes are log-uniform within a class (mean data about 320 bytes, mean
 * stored record 400-500 bytes).  Program data is 48 random bytes, then
 * 8-byte words of which about a third are random and the rest zero, so it
 * compresses like real program state rather than like noise.  Lamports:
 * the rent-exempt minimum ((128 + data size) x 6960) plus 1 to 10^9 (up to
 * 1 SOL more); rent_epoch is UINT64_MAX.  The 64 programs and 1024 mints
 * are fixed pubkeys, the same for every seed.  Everything else comes from
 * the caller's stream: the same stream gives the same account. */
typedef enum acctdb_mix_class {
    ACCTDB_MIX_TOKEN,
    ACCTDB_MIX_EMPTY,
    ACCTDB_MIX_SMALL,
    ACCTDB_MIX_LARGE,
    ACCTDB_MIX_HUGE,
} acctdb_mix_class_t;

#define ACCTDB_MIX_PROGRAMS 64u
#define ACCTDB_MIX_MINTS    1024u
#define ACCTDB_MIX_DATA_MAX (10u << 20) /* the largest data size drawn */
#define ACCTDB_MIX_TOKEN_SZ 165u

/* What acctdb_mix_draw decides: everything that stays the same across an
 * account's versions. */
typedef struct acctdb_mix_shape {
    uint32_t data_len;   /* <= ACCTDB_MIX_DATA_MAX */
    uint8_t  cls;        /* acctdb_mix_class_t */
    bool     executable; /* LARGE only */
    uint16_t program;    /* < ACCTDB_MIX_PROGRAMS: the owner of SMALL, LARGE
                          * (not executable) and HUGE accounts */
} acctdb_mix_shape_t;

/* acctdb_mix_draw: the class, data size and owner of one account, drawn
 * from r. */
ACCTDB_API acctdb_mix_shape_t acctdb_mix_draw(acctdb_rng_t *r);
/* acctdb_mix_owner: the owner of an account of shape s. */
ACCTDB_API acctdb_pubkey_t acctdb_mix_owner(acctdb_mix_shape_t const *s);
/* acctdb_mix_account: one version of an account of shape s, its contents
 * drawn from r: sets every field of *a but the pubkey (left as it is: the
 * caller names accounts); writes s->data_len bytes of data to data_buf,
 * which a->data then points to. */
ACCTDB_API void acctdb_mix_account(acctdb_mix_shape_t const *s, acctdb_rng_t *r,
                                   acctdb_account_t *a, uint8_t *data_buf);

/* ======================================================================== */
/* A synthetic cluster                                                      */
/* ======================================================================== */

/* Validators (an identity, a vote account and a stake account each) and a
 * faucet, under a chosen epoch schedule (leader schedule offset = one
 * epoch), 6.25 ms ticks, 64 per slot, mainnet's fee, rent and inflation
 * parameters.  Stakes move across epochs: the first half of the validators
 * have bootstrap delegations, the others delegations activated at epoch 0
 * (warming up), and with three or more validators the last one deactivates
 * at epoch 2.  Everything derives from the seed. */
typedef struct acctdb_cluster_opts {
    uint64_t seed;
    uint32_t validators;      /* 1 .. 64; default 4 */
    uint64_t slots_per_epoch; /* 32 .. 2^40; default 432000 */
    bool     warmup;          /* warmup epochs (32, 64, ... slots); default off */
    int64_t  creation_time;   /* default 1700000000 */
} acctdb_cluster_opts_t;

ACCTDB_API void acctdb_cluster_opts_default(acctdb_cluster_opts_t *o);

/* acctdb_cluster_genesis_write: writes the cluster's genesis.bin at path
 * (a database created from it starts the cluster at slot 0).  Errors:
 * INVALID (options; msg_out says which), -errno, NOMEM. */
ACCTDB_API int acctdb_cluster_genesis_write(acctdb_cluster_opts_t const *o, char const *path,
                                            char *msg_out, size_t msg_max);

/* ======================================================================== */
/* Generated snapshots                                                      */
/* ======================================================================== */

typedef struct acctdb_gen_opts {
    uint64_t    accounts; /* N, 1 .. 2^30-1 */
    uint64_t    slots;    /* S; 0 -> clamp(N / 1000, 10, 4000) */
    uint64_t    seed;
    uint64_t    incremental; /* M changed accounts; 0 -> no incremental */
    uint64_t    max_bytes;   /* refuse above this many account-file bytes; 0 -> 8 GiB */
    char const *out_dir;     /* existing directory */
    unsigned    threads;     /* 0 -> CPUs */
    /* The cluster (acctdb_cluster_opts_t; its seed is `seed`): */
    uint32_t           validators;      /* 0 -> 4 */
    uint64_t           slots_per_epoch; /* 0 -> 432000 */
    bool               warmup;
    acctdb_progress_fn progress;
    void              *progress_ctx;
} acctdb_gen_opts_t;

typedef struct acctdb_gen_result {
    char     genesis_path[4096]; /* the cluster's genesis.bin (out_dir/genesis.bin) */
    char     full_path[4096];
    char     inc_path[4096]; /* "" without an incremental */
    uint64_t full_slot, inc_slot;
    uint64_t records;        /* account records in the full archive */
    uint64_t live;           /* live accounts at the full slot */
    uint64_t account_bytes;  /* stored bytes of the full archive's account files */
    double   mean_record_sz; /* account_bytes / records */
    uint64_t compressed_sz;
    uint64_t inc_records, inc_live, inc_compressed_sz;
    uint64_t capitalization, inc_capitalization;
    double   gen_s, write_s; /* seconds planning + hashing, and writing */
} acctdb_gen_result_t;

/* acctdb_snapshot_gen: writes a valid, mainnet-like full snapshot (and an
 * incremental of opts->incremental changed accounts) into opts->out_dir;
 * deterministic for a seed.  Its N accounts are drawn from the account
 * mix (acctdb_mix_draw above: ~70% 165-byte token accounts, 15% empty,
 * 15% 200 B - 2 KiB, ~0.05% up to 1 MiB, one in a million up to 10 MiB),
 * an account's versions sharing its size and owner; older duplicate
 * versions and zero-lamport tombstones over S slots; the cluster's
 * validators, sysvars and a status cache so every load check passes.  Errors: INVALID (arguments),
 * FULL (over max_bytes: nothing is written), IO/-errno, NOMEM; msg_out (may be NULL) says which. */
ACCTDB_API int acctdb_snapshot_gen(acctdb_gen_opts_t const *opts, acctdb_gen_result_t *out,
                                   char *msg_out, size_t msg_max);

/* ======================================================================== */
/* Synthetic validator workload                                             */
/* ======================================================================== */

/* A realistic, deterministic validator load on an open database, for
 * benchmarks, demos and tests.  Starting at the root, each new slot is a
 * bank begun with acctdb_db_bank_begin (so SlotHistory and Clock record it
 * and snapshots of later roots verify), given a batch of stores, frozen
 * with deterministic metadata and, once it is root_lag banks deep on the
 * surviving fork, rooted:
 *
 *   bank_begin(slot, parent, ts) -> store(batch) -> freeze(meta)
 *     -> [load_batch at random live slots] -> root(the bank root_lag deep)
 *
 * Slots.  Every slot number from root + 1 to root + slots gets one bank,
 * so a run uses exactly `slots` slot numbers.  With forks > 1, a bank
 * sometimes (fork_frac) starts a sibling of the newest bank of the
 * surviving fork, on the same parent; a coin decides which of the two
 * keeps growing as the surviving fork; the other one grows for up to 3
 * more banks, then stops, and dies when the engine roots a bank above the
 * fork point.  At most `forks` forks are alive at once.  The last
 * root_lag banks of the surviving fork (and forks not yet decided) stay
 * unrooted at the end, like a real validator's; the database drops them
 * at close.
 *
 * Accounts.  The workload remembers up to known_max pubkeys in a ring:
 * first the system- and token-program accounts of the root (found with
 * acctdb_db_scan, in pubkey order, data up to 64 KiB, up to known_max / 2
 * per owner; only with cfg.owner_index, else the ring starts empty, which
 * changes what a seed gives), then the accounts it creates.  Each store of
 * a batch (stores_min..stores_max, uniform) is
 *   - a new account (new_account_frac) drawn from the account mix
 *     (acctdb_mix_draw and acctdb_mix_account above: 70% 165-byte SPL
 *     token accounts, 15% 0-byte system-program accounts, 15% 200 B -
 *     2 KiB program accounts, 0.05% up to 1 MiB, one in a million up to
 *     10 MiB);
 *   - a closure (close_frac: lamports 0) of an account the workload
 *     created, from the colder half of the ring, which forgets it (an
 *     account found in the database is updated instead);
 *   - else an update of a remembered account, picked with a steep power
 *     law (index = n * u^4: the oldest 1% of the ring gets ~30% of the
 *     updates, the oldest 10% ~56%): new lamports (system), a new amount
 *     (token: the same mint and wallet) or new data (programs); an
 *     account keeps its size and owner.
 * Sysvars, vote and stake accounts are never touched except by
 * acctdb_db_bank_begin.  Lamports are not conserved: new accounts bring
 * theirs (the mix's), closures take theirs, system accounts drift by up
 * to 1 SOL.
 *
 * Metadata.  blockhash and block_id are BLAKE3 of (seed, slot);
 * unix_timestamp is the root's Clock timestamp plus 0.4 s per slot
 * (rounded down to seconds); transaction_count is the parent's plus half
 * the batch; signature_count 9/8 of that.
 *
 * Determinism: the same database root, options and seed give the same
 * banks, the same accounts and the same lattice hashes, whatever the
 * background services do meanwhile.  Memory: about 48 bytes per remembered
 * pubkey plus one batch. */
typedef struct acctdb_workload_opts {
    uint64_t slots;              /* slot numbers to use (one bank each); 0 does nothing */
    uint32_t forks;              /* forks alive at most at once, 1 .. 64; default 1 */
    uint64_t seed;               /* default 0 */
    uint32_t stores_min;         /* accounts stored per bank, uniform in min .. max; */
    uint32_t stores_max;         /* default 2000 .. 5000; max <= 1000000 */
    double   new_account_frac;   /* default 0.1 */
    double   close_frac;         /* default 0.01; new + close <= 1 */
    double   fork_frac;          /* chance a bank starts a fork (forks > 1); default 0.1 */
    uint32_t root_lag;           /* banks between the root and the newest bank; 32;
                                  * <= 100000; 0 roots every bank (no forks) */
    uint64_t loads_per_store;    /* loads per stored account, in batches of 64 at
                                  * random live slots; default 0 */
    uint32_t known_max;          /* pubkeys remembered, 16 .. 2^26; default 262144 */
    uint32_t service_every;      /* if > 0: step every background service
                                  * (acctdb_db_service_step) after every
                                  * service_every roots, for databases opened
                                  * with cfg.background off; default 0 */
    uint32_t slot_us;            /* pace: each slot takes at least this many
                                  * microseconds (a validator's 400 ms is
                                  * 400000); default 0: as fast as it can */
    volatile int const *stop;    /* may be NULL: non-zero ends the run after the
                                  * current slot (read between slots) */
    acctdb_progress_fn progress; /* may be NULL: ("workload", slots done, slots) */
    void              *progress_ctx;
} acctdb_workload_opts_t;

typedef struct acctdb_workload_result {
    uint64_t           start_root;    /* the root when the workload began */
    uint64_t           first_slot;    /* start_root + 1 */
    uint64_t           last_slot;     /* the newest slot used */
    uint64_t           slots_created; /* banks begun (opts.slots unless stopped) */
    uint64_t           slots_rooted;  /* of them, rooted */
    uint64_t           slots_dead;    /* on forks that lost (killed by a root) */
    uint64_t           slots_pending; /* still unrooted and live at the end */
    uint64_t           forks_started;
    uint64_t           discovered; /* pubkeys found in the database at the start */
    uint64_t           stores;     /* accounts stored (bank_begin's sysvars excluded) */
    uint64_t           new_accounts, updates, closed;
    uint64_t           loads, load_misses; /* misses: absent or closed at that slot */
    uint64_t           root_slot;          /* the root at the end */
    uint64_t           tip_slot;           /* the newest bank of the surviving fork */
    double             seconds;
    acctdb_bank_info_t root_info; /* of root_slot */
    acctdb_bank_info_t tip_info;  /* of tip_slot */
} acctdb_workload_result_t;

/* acctdb_workload_opts_default: fills the defaults above (slots 0). */
ACCTDB_API void acctdb_workload_opts_default(acctdb_workload_opts_t *o);

/* acctdb_db_workload: runs the workload on db (see above); *out gets what
 * it did (also, as far as it got, on error).  db must not be written by
 * anyone else meanwhile (readers are fine).  Errors: INVALID (options: the
 * message names the field), any error of acctdb_db_bank_begin / _store /
 * _freeze / _root / _load_batch / _scan, NOMEM.  The first error stops the
 * run; acctdb_db_errmsg (on the calling thread) says which call failed, at
 * which slot, and why. */
ACCTDB_API int acctdb_db_workload(acctdb_db_t *db, acctdb_workload_opts_t const *o,
                                  acctdb_workload_result_t *out);

/* ======================================================================== */
/* Crash-test points                                                        */
/* ======================================================================== */

/* Named points on the durable write paths, between dependent writes.  A
 * crash test sets a hook, which each point calls on the thread that
 * reached it, with the point's name and argument: to record where the
 * process was when it died, or to kill it right there (raise(SIGKILL)).
 * Without a hook a point costs one relaxed atomic load.
 *
 * Names are "<path>.<step>"; arg is 0 except at the commit points (*.commit
 * before a commit record is written, *.committed after it is durable, and
 * snapshot.register / .registered), where it is the root slot the record
 * names.  In order along each path:
 *
 *   flush     flush.begin (rooted banks collected, nothing written yet)
 *             -> segment.created (if a new segment file was needed)
 *             -> flush.written (account files written, not yet synced)
 *             -> flush.synced (segments fdatasync'ed, index not repointed)
 *             -> flush.repointed (index repointed, no commit record yet)
 *             -> xstate.logged (with acctdb's own state: the banks'
 *             deltas appended to xstate-<g>.log and synced, no commit
 *             names them yet)
 *             -> flush.commit -> flush.committed (the root is durable)
 *             -> xstate.imaged (past its threshold: xstate-<g+1>.img
 *             written and synced, no commit names it yet)
 *             -> checkpoint.written (past index_checkpoint_sz: index-<gen>
 *             of that commit written, not yet named by a commit)
 *   shrink    shrink.begin -> shrink.copied (live records copied into new
 *             account files, not synced) -> shrink.synced ->
 *             shrink.repointed -> shrink.commit -> shrink.committed (the
 *             old files are no longer named; their extents are retired)
 *             -> shrink.end; later, once readers left: punch.begin ->
 *             punch.end (the retired extents' holes punched)
 *   clean     clean.begin -> clean.end (index only: nothing durable)
 *   snapshot  snapshot.begin -> snapshot.created (temporary archive) ->
 *             snapshot.written (not synced) -> snapshot.synced ->
 *             snapshot.companion (only with acctdb's own state: the
 *             sidecar <archive>.acctdb durable, the archive not yet
 *             named) -> snapshot.renamed (final name, directory not
 *             synced) ->
 *             snapshot.dirsynced; for a full snapshot then
 *             snapshot.register -> snapshot.registered (the commit record
 *             names it as the base of incrementals)
 *   create    create.written (account files of a new database written)
 *             -> create.synced (segments and accounts/ synced) ->
 *             create.manifest (manifest.bin) -> create.status_cache
 *             (status_cache.bin) -> create.commit -> create.committed (the
 *             first commit record: the database exists)
 *   inside every commit record, between *.commit and *.committed:
 *             commit.catalog (catalog-<gen> durable, no slot names it) ->
 *             commit.slot (the slot written and synced: durable; the
 *             catalog only the overwritten slot named not yet unlinked)
 *
 * The hook must not call into acctdb.  Set it while no database is open
 * (a point racing the change may see the new function with the old ctx);
 * NULL removes it.  Process-wide: every database in the process reaches
 * the same hook.  More points may be added between these. */
typedef void (*acctdb_point_fn)(void *ctx, char const *point, uint64_t arg);
ACCTDB_API void acctdb_sim_set_point_hook(acctdb_point_fn fn, void *ctx);

/* ======================================================================== */
/* Chilly simulation                                                        */
/* ======================================================================== */

/* Chilly (MISSION.md section 2; src/state/chilly.h has the rule and its
 * proofs) is a deterministic cache model: the bank keeps loaded_bytes, a
 * running total of load sizes (data_len + 64); each account keeps
 * load_counter, the total right after the transaction that last loaded
 * it; a load is cold if the account was never loaded or loaded_bytes -
 * load_counter > CACHE_SIZE, judged against loaded_bytes at the start of
 * the transaction.  A block charges at most LOAD_LIMIT cold bytes.  This
 * section replays a trace through Chilly and, side by side, through a true
 * byte-capacity LRU, and generates skewed traces.
 *
 * TRACE TEXT FORMAT, one transaction per line:
 *
 *   # a comment (the first non-blank character is '#'); blank lines skip
 *   <slot> <pubkey>:<data_len> [<pubkey>:<data_len> ...]
 *
 * slot: decimal u64, never decreasing; consecutive lines with one slot are
 * one block, a new slot starts the next.  pubkey: base58 of 32 bytes.
 * data_len: decimal, 0 .. ACCTDB_CHILLY_DATA_MAX (10 MiB).  Fields are
 * separated by spaces or tabs; a '\r' before the '\n' is dropped.  A
 * transaction loads 1 .. 64 distinct accounts; a line is at most
 * ACCTDB_CHILLY_LINE_MAX (8192) bytes without its terminator.  An account
 * may be loaded with different data_len on different lines (resized). */

#define ACCTDB_CHILLY_TX_LOADS_MAX    64u
#define ACCTDB_CHILLY_LINE_MAX        8192u
#define ACCTDB_CHILLY_DATA_MAX        (10u << 20)
#define ACCTDB_CHILLY_ACCOUNT_BASE_SZ 64u /* a load's size is data_len + this */
/* Longest line acctdb_chilly_trace_format writes, with its NUL. */
#define ACCTDB_CHILLY_FORMAT_MAX (20u + ACCTDB_CHILLY_TX_LOADS_MAX * 66u + 1u)

/* One transaction.  load_cnt 0 means "no transaction" (a blank or comment
 * line). */
typedef struct acctdb_chilly_tx {
    uint64_t        slot;
    uint32_t        load_cnt; /* 0 .. ACCTDB_CHILLY_TX_LOADS_MAX */
    acctdb_pubkey_t key[ACCTDB_CHILLY_TX_LOADS_MAX];
    uint64_t        data_len[ACCTDB_CHILLY_TX_LOADS_MAX];
} acctdb_chilly_tx_t;

/* A line parser (a value: init it, then feed it every line in order).
 * line_no: lines seen; slot: the last transaction's (once has_slot). */
typedef struct acctdb_chilly_parser {
    uint64_t line_no;
    uint64_t slot;
    bool     has_slot;
} acctdb_chilly_parser_t;

ACCTDB_API void acctdb_chilly_parser_init(acctdb_chilly_parser_t *p);

/* acctdb_chilly_trace_parse_line: the next line, line[0..len) without its
 * '\n' (need not be NUL-terminated).  On 0, *tx_out is the transaction, or
 * has load_cnt 0 for a blank or comment line.  Errors: ACCTDB_ERR_CORRUPT,
 * msg_out (may be NULL) saying "line N: " and what is wrong: a bad slot, a
 * slot below the previous one, more than 64 loads, a line over 8192 bytes,
 * a load not of the form pubkey:data_len, bad base58, data_len over 10
 * MiB, a pubkey repeated in the transaction, no loads.  INVALID for NULL
 * arguments. */
ACCTDB_API int acctdb_chilly_trace_parse_line(acctdb_chilly_parser_t *p, char const *line,
                                              size_t len, acctdb_chilly_tx_t *tx_out, char *msg_out,
                                              size_t msg_max);

/* acctdb_chilly_trace_format: tx's line (no '\n') and a NUL into
 * buf[0..max); *len_out its length.  The parser reads it back as tx.
 * Errors: INVALID (load_cnt not 1..64), FULL (max below what the line
 * needs; ACCTDB_CHILLY_FORMAT_MAX always suffices). */
ACCTDB_API int acctdb_chilly_trace_format(acctdb_chilly_tx_t const *tx, char *buf, size_t max,
                                          size_t *len_out);

/* ---- the generator of skewed traces ---------------------------------------
 * N accounts; account i has a fixed pubkey and data size drawn from the
 * account mix (acctdb_mix_draw), both from the seed and i alone.
 * Popularity is Zipf-like: a load picks account i (0-based) with weight
 * 1 / (i + 1)^zipf, through an inverse-CDF table (8 bytes per account;
 * none for zipf 0, uniform).  B blocks of T transactions each, block b at
 * slot first_slot + b; a transaction loads 1 .. loads_max distinct
 * accounts (uniform); a repeat within a transaction is redrawn up to 8
 * times, then the next free account is taken.  Deterministic for the
 * options (on one libm: the table uses pow()); the trace file is the
 * portable artifact. */
typedef struct acctdb_chilly_gen_opts {
    uint64_t seed;          /* default 0 */
    uint64_t accounts;      /* N, 1 .. 2^27; default 1000000 */
    double   zipf;          /* exponent, 0 .. 8 (0: uniform); default 1.0 */
    uint64_t blocks;        /* B, 1 .. 2^40; default 1000 */
    uint32_t txs_per_block; /* T, 1 .. 2^20; default 1000 */
    uint32_t loads_max;     /* 1 .. 64; default 16 */
    uint64_t first_slot;    /* default 1; + blocks must not pass 2^64 - 1 */
} acctdb_chilly_gen_opts_t;

ACCTDB_API void acctdb_chilly_gen_opts_default(acctdb_chilly_gen_opts_t *o);

typedef struct acctdb_chilly_gen acctdb_chilly_gen_t;

/* acctdb_chilly_gen_open: a generator positioned at the first transaction.
 * Errors: INVALID (options; msg_out says which), NOMEM. */
ACCTDB_API int acctdb_chilly_gen_open(acctdb_chilly_gen_t           **gen_out,
                                      acctdb_chilly_gen_opts_t const *o, char *msg_out,
                                      size_t msg_max);
/* acctdb_chilly_gen_next: the next transaction into *tx_out; false (and
 * load_cnt 0) after the last. */
ACCTDB_API bool acctdb_chilly_gen_next(acctdb_chilly_gen_t *gen, acctdb_chilly_tx_t *tx_out);
/* acctdb_chilly_gen_close: NULL is fine. */
ACCTDB_API void acctdb_chilly_gen_close(acctdb_chilly_gen_t *gen);

/* acctdb_chilly_gen_write: the whole generated trace into a new file at
 * path (replaced if it exists), in the text format, after comment lines
 * naming the options.  Errors: INVALID (options), -errno or IO (the file),
 * NOMEM; msg_out (may be NULL) says which. */
ACCTDB_API int acctdb_chilly_gen_write(acctdb_chilly_gen_opts_t const *o, char const *path,
                                       char *msg_out, size_t msg_max);

/* ---- the simulator ---------------------------------------------------------
 * Per transaction, in trace order:
 *   Chilly     every load judged against loaded_bytes at the transaction's
 *              start; then loaded_bytes and the loaded counters advance
 *   LRU        per load, in the transaction's order: a hit if the account
 *              is resident (it moves to the front); a miss inserts it;
 *              then accounts leave from the back until the resident load
 *              sizes total <= cache_sz + lru_extra_sz
 *   watermark  a transaction whose Chilly cold bytes fit the block's
 *              remaining LOAD_LIMIT is charged; one that does not is
 *              counted as deferred and not charged.  Nothing is reordered
 *              or dropped: a deferred transaction's loads still update
 *              both models, so both see the same access stream.
 * Hit rate = loads called hot (Chilly) or hits (LRU) / loads; byte rate
 * the same in load bytes.  Memory is bounded by the number of distinct
 * accounts (72 to 144 bytes each), plus 8 to 16 bytes per block (the exact
 * p99); nothing grows with transactions or loads.
 *
 * Chilly vs the LRU: neither dominates at the same size.  The LRU counts
 * distinct bytes since an account's last use, Chilly every load again, so
 * on skewed traces the LRU hits far more often.  But Chilly's window
 * leaves out the account itself and the other loads of its two
 * transactions, so it can call hot a load that an LRU of cache_sz misses;
 * an LRU of cache_sz + 2 x the largest transaction's load bytes
 * (lru_extra_sz) hits every load Chilly calls hot (hot_lru_miss = 0). */

/* Per-load flags of acctdb_chilly_sim_tx. */
#define ACCTDB_CHILLY_COLD    1u /* Chilly called the load cold */
#define ACCTDB_CHILLY_LRU_HIT 2u /* the LRU held the account */

/* One finished block. */
typedef struct acctdb_chilly_block {
    uint64_t slot;
    uint64_t txs, loads, load_bytes;
    uint64_t hot, hot_bytes;          /* Chilly: loads called hot */
    uint64_t lru_hits, lru_hit_bytes; /* the LRU: loads that hit */
    uint64_t cold_bytes;              /* Chilly cold bytes of all its transactions */
    uint64_t charged_bytes;           /* of them, charged under LOAD_LIMIT */
    uint64_t deferred;                /* transactions that did not fit */
    uint64_t loaded_bytes;            /* the bank's loaded_bytes at its end */
} acctdb_chilly_block_t;

typedef void (*acctdb_chilly_block_fn)(void *ctx, acctdb_chilly_block_t const *b);

typedef struct acctdb_chilly_sim_opts {
    uint64_t cache_sz;                   /* CACHE_SIZE, bytes; default 256 MiB */
    uint64_t load_limit;                 /* LOAD_LIMIT, cold bytes per block; default
                                          * 64 MiB (Agave's loaded-data limit of one
                                          * transaction) */
    uint64_t               lru_extra_sz; /* the LRU holds cache_sz + this; default 0 */
    uint64_t               accounts_max; /* distinct accounts; 0 (default) = 2^32 - 2 */
    acctdb_chilly_block_fn block_fn;     /* may be NULL: called as each block ends */
    void                  *block_ctx;
} acctdb_chilly_sim_opts_t;

ACCTDB_API void acctdb_chilly_sim_opts_default(acctdb_chilly_sim_opts_t *o);

typedef struct acctdb_chilly_report {
    uint64_t blocks, txs, loads, load_bytes;
    uint64_t accounts;       /* distinct accounts loaded */
    uint64_t distinct_bytes; /* their load sizes (each at its last load) */
    uint64_t hot, hot_bytes; /* Chilly */
    uint64_t lru_hits, lru_hit_bytes;
    uint64_t hot_lru_miss;                 /* loads Chilly called hot that the LRU missed */
    uint64_t lru_hit_cold;                 /* loads the LRU hit that Chilly called cold */
    double   hot_rate, hot_byte_rate;      /* Chilly, 0 .. 1 */
    double   lru_rate, lru_byte_rate;      /* the LRU, 0 .. 1 */
    double   gap_pts, byte_gap_pts;        /* 100 x (Chilly's rate - the LRU's), points */
    uint64_t cold_bytes;                   /* Chilly cold bytes of the whole trace */
    uint64_t cold_min, cold_p99, cold_max; /* cold bytes per block (p99: nearest rank) */
    double   cold_mean;
    uint64_t blocks_over;        /* blocks in which the watermark deferred transactions */
    uint64_t deferred;           /* transactions deferred */
    uint64_t deferred_bytes;     /* their cold bytes */
    uint64_t charged_bytes;      /* cold bytes charged */
    uint64_t tx_load_max;        /* the largest transaction's load bytes */
    uint64_t load_sz_max;        /* the largest load */
    uint64_t loaded_bytes;       /* the bank's loaded_bytes at the end */
    uint64_t lru_cap;            /* cache_sz + lru_extra_sz */
    uint64_t lru_resident_bytes; /* held by the LRU at the end */
    uint64_t mem_sz;             /* peak bytes the simulator held */
    uint64_t decision_hash;      /* of every load's flags, in order */
} acctdb_chilly_report_t;

typedef struct acctdb_chilly_sim acctdb_chilly_sim_t;

/* acctdb_chilly_sim_open: a simulator with nothing loaded.  Errors:
 * INVALID (NULL), NOMEM; msg_out (may be NULL) says why. */
ACCTDB_API int acctdb_chilly_sim_open(acctdb_chilly_sim_t           **sim_out,
                                      acctdb_chilly_sim_opts_t const *o, char *msg_out,
                                      size_t msg_max);
/* acctdb_chilly_sim_tx: replays one transaction (a slot other than the
 * current block's ends that block: block_fn runs).  flags_out (may be
 * NULL) gets load_cnt ACCTDB_CHILLY_* flags.  Errors, sticky (every later
 * call returns the first; acctdb_chilly_sim_errmsg says what): INVALID
 * (load_cnt not 1..64, a repeated key, a slot below the current block's, a
 * call after finish), FULL (more than accounts_max accounts), NOMEM. */
ACCTDB_API int acctdb_chilly_sim_tx(acctdb_chilly_sim_t *sim, acctdb_chilly_tx_t const *tx,
                                    uint8_t *flags_out);
/* acctdb_chilly_sim_finish: ends the last block and fills *out; later calls
 * give the same report.  Errors: the sticky error, NOMEM. */
ACCTDB_API int acctdb_chilly_sim_finish(acctdb_chilly_sim_t *sim, acctdb_chilly_report_t *out);
/* acctdb_chilly_sim_errmsg: the sticky error's message, "" if none. */
ACCTDB_API char const *acctdb_chilly_sim_errmsg(acctdb_chilly_sim_t const *sim);
/* acctdb_chilly_sim_close: NULL is fine. */
ACCTDB_API void acctdb_chilly_sim_close(acctdb_chilly_sim_t *sim);

/* acctdb_chilly_sim_file: replays the trace file at path ("-": standard
 * input) and fills *out.  Errors: CORRUPT (the trace; msg_out names the
 * line), -errno or IO (reading), the simulator's. */
ACCTDB_API int acctdb_chilly_sim_file(char const *path, acctdb_chilly_sim_opts_t const *o,
                                      acctdb_chilly_report_t *out, char *msg_out, size_t msg_max);
/* acctdb_chilly_sim_gen: replays the trace of gen straight from the
 * generator (no file).  Errors: the generator's and the simulator's. */
ACCTDB_API int acctdb_chilly_sim_gen(acctdb_chilly_gen_opts_t const *gen,
                                     acctdb_chilly_sim_opts_t const *o, acctdb_chilly_report_t *out,
                                     char *msg_out, size_t msg_max);
#ifdef __cplusplus
}
#endif

#endif /* ACCTDB_SIM_H */
