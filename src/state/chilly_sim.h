/* src/state/chilly_sim.h - the Chilly trace parser and simulator: replays a
 * trace of transactions through the Chilly model (state/chilly.h) and,
 * side by side, through a true byte-capacity LRU, and reports how often
 * each calls a load hot.  The public face is include/acctdb_sim.h
 * (acctdb_chilly_*, src/sim/sim_chilly.c), which also has the generator of
 * skewed traces (it needs the account mix, which lives above this layer).
 *
 * TRACE TEXT FORMAT (one transaction per line):
 *
 *   # a comment (the first non-blank character is '#')
 *   <slot> <pubkey>:<data_len> [<pubkey>:<data_len> ...]
 *
 *   slot      decimal u64; slots never decrease; consecutive lines with
 *             the same slot are one block, a new slot starts a new block
 *   pubkey    base58 of exactly 32 bytes
 *   data_len  decimal, 0 .. ADB_CHILLY_DATA_MAX (10 MiB)
 *
 * Fields are separated by spaces or tabs (any number; leading and trailing
 * ones are ignored); a line ends at '\n', and one '\r' before it is
 * dropped.  A transaction loads 1 .. 64 distinct accounts, and a line is at
 * most ADB_CHILLY_LINE_MAX (8192) bytes without its terminator.  Blank
 * lines are skipped.  An account's data_len may differ between lines (the
 * account was resized); each load counts the size it names.
 *
 * THE SIMULATOR.  Per transaction, in trace order:
 *   Chilly    adb_chilly_touch with cache_sz: every verdict against the
 *             bank's loaded_bytes at the start of the transaction
 *   LRU       per load, in the line's order: a hit if the account is
 *             resident (it moves to the front); a miss inserts it at the
 *             front; then accounts leave from the back until the resident
 *             load sizes total <= cache_sz + lru_extra_sz (an account
 *             larger than that is never resident)
 *   watermark a block's charged cold bytes start at 0; a transaction whose
 *             Chilly cold bytes fit (adb_chilly_fits with load_limit) is
 *             charged; one that does not is counted as deferred and not
 *             charged.  The replay never reorders or drops: a deferred
 *             transaction's loads still update both models, so both see
 *             the same access stream.
 * Hit rate = loads the model calls hot / loads; byte rate = their load
 * bytes / load bytes.
 *
 * MEMORY is bounded by the number of distinct accounts: one 64-byte entry
 * per account (key, Chilly counter, LRU links and size) plus a hash table
 * of 4-byte slots at most half full; both grow by doubling, so 72 to 144
 * bytes per distinct account in all.  Plus 8 (up to 16) bytes per block
 * for the exact p99 of the per-block cold bytes.  Nothing grows with the
 * number of transactions or loads (report.mem_sz is the peak).
 *
 * THREADING MODEL: a simulator or a parser is used by one thread at a
 * time; different ones are independent.
 */
#ifndef ADB_STATE_CHILLY_SIM_H
#define ADB_STATE_CHILLY_SIM_H

#include "state/chilly.h"

#define ADB_CHILLY_TX_LOADS_MAX 64u
#define ADB_CHILLY_LINE_MAX     8192u
#define ADB_CHILLY_DATA_MAX     (10u << 20)
/* The longest line adb_chilly_format_line writes (u64 data_len). */
#define ADB_CHILLY_FORMAT_MAX (20u + ADB_CHILLY_TX_LOADS_MAX * (1u + 44u + 1u + 20u) + 1u)

/* ---- parsing and formatting ---------------------------------------------- */

/* A line parser: line_no counts the lines seen (so errors name the line),
 * slot is the last transaction's slot (valid once has_slot). */
typedef struct adb_chilly_parser {
    uint64_t line_no;
    uint64_t slot;
    bool     has_slot;
} adb_chilly_parser_t;

void adb_chilly_parser_init(adb_chilly_parser_t *p);

/* adb_chilly_parse_line: parses the next line, line[0..len) without its
 * '\n' (need not be NUL-terminated).  On 0, *n_out = 0 for a blank or
 * comment line; otherwise *slot_out, keys_out[0..*n_out) and
 * lens_out[0..*n_out) are the transaction (arrays of
 * ADB_CHILLY_TX_LOADS_MAX).  Errors: ACCTDB_ERR_CORRUPT with err saying
 * "line N: " and what is wrong (a bad slot, a slot below the previous one,
 * more than 64 loads, a line over 8192 bytes, a load not of the form
 * pubkey:data_len, bad base58, a data_len over 10 MiB, a pubkey repeated in
 * the transaction, no loads).  The parser's slot moves only on success. */
int adb_chilly_parse_line(adb_chilly_parser_t *p, char const *line, size_t len, uint64_t *slot_out,
                          acctdb_pubkey_t *keys_out, uint64_t *lens_out, size_t *n_out,
                          adb_err_t *err);

/* adb_chilly_format_line: writes the line of a transaction (no '\n') and a
 * NUL into buf[0..max); *len_out gets its length.  ADB_CHILLY_FORMAT_MAX
 * bytes always suffice.  Errors: INVALID (n not 1..64), FULL (buf too
 * small).  The parser reads back what this writes when the transaction is
 * valid (distinct keys, data_len <= 10 MiB). */
int adb_chilly_format_line(uint64_t slot, acctdb_pubkey_t const *keys, uint64_t const *lens,
                           size_t n, char *buf, size_t max, size_t *len_out);

/* ---- the simulator --------------------------------------------------------- */

/* One finished block (passed to the block callback). */
typedef struct adb_chilly_block {
    uint64_t slot;
    uint64_t txs, loads, load_bytes;
    uint64_t hot, hot_bytes;          /* Chilly: loads called hot */
    uint64_t lru_hits, lru_hit_bytes; /* the LRU: loads that hit */
    uint64_t cold_bytes;              /* Chilly cold bytes of all its transactions */
    uint64_t charged_bytes, deferred; /* under the watermark: charged; txs deferred */
    uint64_t loaded_bytes;            /* the bank's loaded_bytes at the block's end */
} adb_chilly_block_t;

typedef void (*adb_chilly_block_fn)(void *ctx, adb_chilly_block_t const *b);

typedef struct adb_chilly_sim_cfg {
    uint64_t            cache_sz;     /* CACHE_SIZE, bytes */
    uint64_t            load_limit;   /* LOAD_LIMIT, cold bytes per block */
    uint64_t            lru_extra_sz; /* the LRU holds cache_sz + this (saturating) */
    uint64_t            accounts_max; /* distinct accounts allowed; 0 = 2^32 - 2 */
    adb_chilly_block_fn block_fn;     /* may be NULL; called as each block ends */
    void               *block_ctx;
} adb_chilly_sim_cfg_t;

typedef struct adb_chilly_report {
    uint64_t blocks, txs, loads, load_bytes;
    uint64_t accounts;       /* distinct accounts loaded */
    uint64_t distinct_bytes; /* their load sizes (each at its last load) */
    uint64_t hot, hot_bytes;
    uint64_t lru_hits, lru_hit_bytes;
    uint64_t hot_lru_miss;                 /* loads Chilly called hot that the LRU missed */
    uint64_t lru_hit_cold;                 /* loads the LRU hit that Chilly called cold */
    double   hot_rate, hot_byte_rate;      /* Chilly: hot / loads, hot bytes / load bytes */
    double   lru_rate, lru_byte_rate;      /* LRU: hits / loads, hit bytes / load bytes */
    double   gap_pts, byte_gap_pts;        /* 100 * (Chilly's rate - the LRU's) */
    uint64_t cold_bytes;                   /* Chilly cold bytes of the whole trace */
    uint64_t cold_min, cold_p99, cold_max; /* per block (p99: nearest rank) */
    double   cold_mean;
    uint64_t blocks_over;                 /* blocks where the watermark deferred transactions */
    uint64_t deferred;                    /* transactions deferred */
    uint64_t deferred_bytes;              /* their cold bytes */
    uint64_t charged_bytes;               /* cold bytes charged under the watermark */
    uint64_t tx_load_max;                 /* the largest transaction's load bytes */
    uint64_t load_sz_max;                 /* the largest single load */
    uint64_t loaded_bytes;                /* the bank's loaded_bytes at the end */
    uint64_t lru_cap, lru_resident_bytes; /* the LRU's capacity; held at the end */
    uint64_t mem_sz;                      /* peak bytes the simulator held */
    uint64_t decision_hash;               /* of every load's (Chilly cold, LRU hit), in order */
} adb_chilly_report_t;

typedef struct adb_chilly_sim adb_chilly_sim_t;

/* Per-load flags of adb_chilly_sim_tx. */
#define ADB_CHILLY_COLD    1u /* Chilly called the load cold */
#define ADB_CHILLY_LRU_HIT 2u /* the LRU had the account */

/* adb_chilly_sim_open: a simulator with nothing loaded (loaded_bytes 0).
 * Errors: NOMEM. */
int adb_chilly_sim_open(adb_chilly_sim_t **sim_out, adb_chilly_sim_cfg_t const *cfg,
                        adb_err_t *err);

/* adb_chilly_sim_tx: replays one transaction at slot loading keys[0..n)
 * with data sizes lens[0..n).  A slot other than the current block's ends
 * that block (block_fn runs) and starts one.  flags_out (may be NULL) gets
 * n per-load ADB_CHILLY_* flags.  Errors (sticky: every later call returns
 * the first; the message is adb_chilly_sim_errmsg): INVALID (n not 1..64, a
 * repeated key, a slot below the current block's, after finish), FULL (more
 * distinct accounts than accounts_max), NOMEM. */
int adb_chilly_sim_tx(adb_chilly_sim_t *sim, uint64_t slot, acctdb_pubkey_t const *keys,
                      uint64_t const *lens, size_t n, uint8_t *flags_out);

/* adb_chilly_sim_finish: ends the last block (block_fn runs) and fills
 * *out.  Later calls return the same report; transactions are refused.
 * Errors: the sticky error, NOMEM. */
int adb_chilly_sim_finish(adb_chilly_sim_t *sim, adb_chilly_report_t *out);

/* adb_chilly_sim_errmsg: the message of the sticky error ("" if none);
 * valid until the simulator is closed. */
char const *adb_chilly_sim_errmsg(adb_chilly_sim_t const *sim);

/* adb_chilly_sim_close: frees sim; NULL is fine. */
void adb_chilly_sim_close(adb_chilly_sim_t *sim);

#endif
