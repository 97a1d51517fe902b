/* src/net/net.h - the network service's parts and how they meet.
 *
 *   server.c   acctdb_server_*: libmicrohttpd, one thread per connection;
 *              routes POST / to rpc.c, GET/HEAD of the snapshot paths to
 *              the archive directory, GET /health, GET /metrics, and
 *              GET /changes to changes.c; timeouts, body limits, rates.
 *   rpc.c ...  the JSON-RPC 2.0 dispatcher and Solana's read methods over
 *              the public database API (json-c: integers exact).
 *   changes.c  the change stream: the rooted slots kept (a window within a
 *              byte budget, fed by the database's root hook), the wire
 *              format, readers, and the decoder followers use.
 *   fetch.c    acctdb_bootstrap: libcurl downloads from peers (probe,
 *              choose, minimum speed, blacklist, known hashes), and a
 *              streaming GET for the follower.
 *   follow.c   acctdb_follow: bootstrap, then apply the /changes stream.
 *
 * Only the public API of the database is used (include/acctdb.h), plus
 * util for buffers, base58/64 and errors; the net module adds no state to
 * the engine. */
#ifndef ADB_NET_NET_H
#define ADB_NET_NET_H

#include "acctdb.h"
#include "util/util.h"

#include <sys/types.h>

/* ======================================================================== */
/* JSON-RPC (rpc.c)                                                          */
/* ======================================================================== */

typedef struct adb_rpc_opts {
    acctdb_db_t  *db;
    char const   *snapshot_dir; /* getHighestSnapshotSlot; NULL: NoSnapshot */
    bool          has_genesis_hash;
    acctdb_hash_t genesis_hash;    /* getGenesisHash (else the database's, if it knows it) */
    uint64_t      max_body_sz;     /* default 50 KiB */
    uint64_t      max_response_sz; /* default 64 MiB */
    uint32_t      max_batch;       /* default 100 */
    /* getHealth: "ok", or anything else for NodeUnhealthy (the server's
     * /health verdict); NULL: always "ok" */
    char const *(*health)(void *ctx);
    void *health_ctx;
} adb_rpc_opts_t;

typedef struct adb_rpc adb_rpc_t;

typedef struct adb_rpc_stats {
    uint64_t calls, errors, bytes_in, bytes_out;
} adb_rpc_stats_t;

int  adb_rpc_new(adb_rpc_opts_t const *o, adb_rpc_t **out, adb_err_t *err);
void adb_rpc_free(adb_rpc_t *r);

/* adb_rpc_handle: one HTTP POST body in, the response body out (JSON,
 * adb_malloc'ed, *resp_out; NULL with *resp_sz_out 0 when the body held
 * only notifications).  Returns the HTTP status to send (200 for every
 * JSON-RPC answer, errors included; 413 for a body over max_body_sz).
 * Thread-safe: called from many connection threads at once. */
int adb_rpc_handle(adb_rpc_t *r, char const *body, size_t len, char **resp_out,
                   size_t *resp_sz_out);

void adb_rpc_stats(adb_rpc_t const *r, adb_rpc_stats_t *out);

/* ======================================================================== */
/* The change stream (changes.c)                                             */
/* ======================================================================== */

/* Wire format of GET /changes?from_slot=S (HTTP 200, application/octet-
 * stream, sent as the server produces it).  Little-endian throughout.
 *
 *   stream  = header frame*
 *   header  = "ADBCHG01" | u64 server_id | u64 from_slot
 *   frame   = u8 type | u32 len | payload[len] | u32 crc32c(type, len, payload)
 *   type 1  SLOT:    u64 slot | u64 parent_slot | u32 account_cnt
 *   type 2  ACCOUNT: pubkey[32] | u64 lamports | owner[32] | u8 executable |
 *                    u64 rent_epoch | u64 data_len | data[data_len]
 *   type 3  END:     the slot's bank info: u64 block_height | lt_checksum[32] |
 *                    u64 capitalization | u64 accounts_data_len |
 *                    bank_hash[32] | parent_bank_hash[32] | blockhash[32] |
 *                    u64 signature_count | u64 transaction_count |
 *                    i64 unix_timestamp | block_id[32] | u64 lamports_per_signature
 *   type 4  HEARTBEAT: u64 newest_slot (sent when nothing else is, at least
 *                    every second, so an idle stream still makes progress)
 *   type 5  TOO_OLD: u64 oldest_slot (the reader fell behind the window; the
 *                    stream ends after it)
 *
 * A slot's frames are SLOT, account_cnt ACCOUNTs (pubkey order), END; slots
 * follow in slot order, each the child of the one before (the rooted
 * chain).  A request whose from_slot is older than the window gets HTTP 410
 * and {"error":"SlotTooOld","oldest_slot":X}; from_slot newer than the
 * newest rooted slot waits for it. */
#define ADB_CHG_MAGIC         "ADBCHG01"
#define ADB_CHG_HEADER_SZ     24
#define ADB_CHG_SLOT          1
#define ADB_CHG_ACCOUNT       2
#define ADB_CHG_END           3
#define ADB_CHG_HEARTBEAT     4
#define ADB_CHG_TOO_OLD       5
#define ADB_CHG_FRAME_MAX     (16u << 20) /* an account of 10 MiB and its header fit */
#define ADB_CHG_READER_BUF_SZ (64u << 10) /* what one reader holds at most */

typedef struct adb_changes        adb_changes_t;
typedef struct adb_changes_reader adb_changes_reader_t;

typedef struct adb_changes_stats {
    uint64_t slots, oldest_slot, newest_slot, bytes, readers;
} adb_changes_stats_t;

int  adb_changes_new(uint32_t slots_max, uint64_t bytes_max, adb_changes_t **out, adb_err_t *err);
void adb_changes_free(adb_changes_t *c);

/* The database root hook (ctx: the adb_changes_t). */
void adb_changes_hook(void *ctx, acctdb_slot_changes_t const *sc);

/* adb_changes_shutdown: every reader's next read ends the stream. */
void adb_changes_shutdown(adb_changes_t *c);

void adb_changes_stats(adb_changes_t *c, adb_changes_stats_t *out);

/* adb_changes_reader_open: a reader of the slots after from_slot.  Errors:
 * TOO_OLD (*oldest_out: the oldest slot the window still holds, so
 * from_slot must be at least that slot's parent), NOMEM, STOPPED. */
int adb_changes_reader_open(adb_changes_t *c, uint64_t from_slot, adb_changes_reader_t **out,
                            uint64_t *oldest_out);

/* adb_changes_reader_read: the next bytes of the stream (at most max),
 * waiting up to wait_ms for a new slot (then a heartbeat frame is what it
 * returns).  Returns the byte count (> 0), 0 at the end of the stream
 * (after a TOO_OLD frame, or shut down).  A reader holds at most
 * ADB_CHG_READER_BUF_SZ bytes of its own; the window's slots are shared. */
ssize_t adb_changes_reader_read(adb_changes_reader_t *r, uint8_t *buf, size_t max, int wait_ms);

void adb_changes_reader_close(adb_changes_reader_t *r);

/* The decoder (followers, the fuzz target): push bytes, get events. */
typedef struct adb_changes_ev {
    int                type;                     /* ADB_CHG_* ; 0 = the header */
    uint64_t           server_id, from_slot;     /* header */
    uint64_t           slot, parent_slot;        /* SLOT */
    uint32_t           account_cnt;              /* SLOT */
    acctdb_account_t   account;                  /* ACCOUNT (data valid during the call) */
    acctdb_bank_info_t info;                     /* END (lt_hash not carried: zero) */
    uint64_t           newest_slot, oldest_slot; /* HEARTBEAT, TOO_OLD */
} adb_changes_ev_t;

typedef int (*adb_changes_ev_fn)(void *ctx, adb_changes_ev_t const *ev);

typedef struct adb_changes_dec adb_changes_dec_t;

int  adb_changes_dec_new(adb_changes_ev_fn fn, void *ctx, adb_changes_dec_t **out);
void adb_changes_dec_free(adb_changes_dec_t *d);

/* adb_changes_dec_push: feeds n bytes.  Errors: CORRUPT (bad magic, a
 * frame that fails its CRC, an unknown type, a length over
 * ADB_CHG_FRAME_MAX or inconsistent with its type, an ACCOUNT outside a
 * slot, more or fewer accounts than announced, a slot not after the one
 * before), with why in err; fn's non-zero return is returned as is. */
int adb_changes_dec_push(adb_changes_dec_t *d, void const *p, size_t n, adb_err_t *err);

/* ======================================================================== */
/* Fetching (fetch.c)                                                        */
/* ======================================================================== */

/* adb_fetch_stream: GET url, calling fn with the body as it arrives (a
 * non-zero return from fn aborts and is returned).  *status_out gets the
 * HTTP status; a non-2xx body's first bytes (up to body_max) go to body
 * (NUL-terminated) and fn is not called.  Connects within connect_s and
 * aborts when no byte arrives for idle_s.  Errors: IO (with why in err),
 * fn's. */
typedef int (*adb_fetch_data_fn)(void *ctx, void const *p, size_t n);
int adb_fetch_stream(char const *url, uint32_t connect_s, uint32_t idle_s, adb_fetch_data_fn fn,
                     void *ctx, long *status_out, char *body, size_t body_max, adb_err_t *err);

#endif
