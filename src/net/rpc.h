/* src/net/rpc.h - private to the JSON-RPC files (rpc*.c).
 *
 *   rpc.c         adb_rpc_new/free/handle/stats: the body's number check,
 *                 json-c parse, batches, ids, notifications, the envelope,
 *                 size caps, the method table, retries when a slot moved.
 *   rpc_params.c  params arrays and config objects (serde's rules: unknown
 *                 fields ignored, null = absent, integers exact), pubkeys,
 *                 commitment -> slot, minContextSlot.
 *   rpc_methods.c Solana's read methods over the public database API.
 *   rpc_encode.c  account data encodings (legacy binary, base58, base64,
 *                 base64+zstd byte-exact, jsonParsed) and the account
 *                 object; base64 codec.
 *   rpc_token.c   the SPL Token / Token-2022 parser behind jsonParsed.
 *
 * A call's answer is built in its own JSON writer (call->out: the result
 * value, or nothing when the call fails) and glued into the envelope by
 * rpc.c, so a failing method never leaves half a value behind.  All
 * objects of a result are written with their keys in alphabetical order,
 * as Agave's answers come out of serde_json::Value maps. */
#ifndef ADB_NET_RPC_H
#define ADB_NET_RPC_H

#include "net/net.h"
#include "util/json_out.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>

/* JSON-RPC 2.0 and Solana error codes (NETWORK.md 5.5). */
#define ADB_RPC_PARSE_ERROR      (-32700)
#define ADB_RPC_INVALID_REQUEST  (-32600)
#define ADB_RPC_METHOD_NOT_FOUND (-32601)
#define ADB_RPC_INVALID_PARAMS   (-32602)
#define ADB_RPC_INTERNAL_ERROR   (-32603)
#define ADB_RPC_NODE_UNHEALTHY   (-32005)
#define ADB_RPC_NO_SNAPSHOT      (-32008)
#define ADB_RPC_KEY_EXCLUDED     (-32010)
#define ADB_RPC_SCAN_ERROR       (-32012)
#define ADB_RPC_MIN_CONTEXT_SLOT (-32016)

/* Limits (NETWORK.md 4.8). */
#define ADB_RPC_MAX_MULTIPLE_ACCOUNTS 100
#define ADB_RPC_MAX_FILTERS           4
#define ADB_RPC_MAX_MEMCMP_SZ         128 /* decoded bytes */
#define ADB_RPC_MAX_MEMCMP_B58        175 /* characters */
#define ADB_RPC_MAX_MEMCMP_B64        172
#define ADB_RPC_MAX_BASE58_DATA       128 /* legacy binary / base58 account data */
#define ADB_RPC_PAGE_MAX              10000
#define ADB_RPC_PAGE_DEFAULT          1000 /* getProgramAccountsV2 without a limit */
#define ADB_RPC_DEPTH_MAX             32   /* JSON nesting of a request */
#define ADB_RPC_ZPOOL                 8    /* idle zstd contexts kept */

/* What a method returns. */
#define ADB_RPC_OK    0
#define ADB_RPC_ERR   1 /* call->err_* set */
#define ADB_RPC_RETRY 2 /* the slot it read was rooted past or died: evaluate again */

typedef enum adb_rpc_enc {
    ADB_RPC_ENC_BINARY = 0, /* legacy: a bare base58 string (the default) */
    ADB_RPC_ENC_BASE58,
    ADB_RPC_ENC_BASE64,
    ADB_RPC_ENC_BASE64_ZSTD,
    ADB_RPC_ENC_JSON_PARSED,
} adb_rpc_enc_t;

typedef enum adb_rpc_commitment {
    ADB_RPC_FINALIZED = 0, /* the default */
    ADB_RPC_CONFIRMED,
    ADB_RPC_PROCESSED,
} adb_rpc_commitment_t;

struct adb_rpc {
    acctdb_db_t  *db;
    char         *snapshot_dir; /* NULL: none */
    bool          has_genesis_hash;
    acctdb_hash_t genesis_hash;
    uint64_t      max_body_sz, max_response_sz;
    uint32_t      max_batch;
    char const *(*health)(void *ctx);
    void            *health_ctx;
    _Atomic uint64_t calls, errors, bytes_in, bytes_out;
    /* zstd compression contexts kept for reuse (a new one costs ~45 us
     * and 3.6 MiB for a level-3, 2 MiB-window stream): at most
     * ADB_RPC_ZPOOL idle ones. */
    pthread_mutex_t zmu;
    void           *zpool[ADB_RPC_ZPOOL];
    size_t          zcnt;
};

/* The mints a call has looked up (jsonParsed token accounts). */
typedef struct adb_rpc_mint {
    acctdb_pubkey_t key;
    int             status; /* ADB_TOK_MINT_* */
    uint8_t         decimals;
} adb_rpc_mint_t;

/* One JSON-RPC call being answered. */
typedef struct adb_rpc_call {
    adb_rpc_t   *r;
    json_object *params; /* NULL: absent or null */
    adb_json_t   out;    /* the result value */
    int          err_code;
    char         err_msg[512];
    int          err_data; /* 0 none, 1 {"contextSlot":N}, 2 {"numSlotsBehind":N},
                            * 3 {"numSlotsBehind":null} */
    uint64_t err_data_u64;
    bool     has_slot; /* the slot this evaluation reads (for retries) */
    uint64_t slot;
    /* scratch, kept across the call's accounts */
    uint8_t        *data; /* account data loads */
    size_t          data_cap;
    char           *text; /* encoded text */
    size_t          text_cap;
    uint8_t        *zbuf; /* zstd output */
    size_t          zbuf_cap;
    void           *zctx;  /* ZSTD_CCtx */
    adb_rpc_mint_t *mints; /* open addressing, mint_cap a power of two */
    size_t          mint_cnt, mint_cap;
} adb_rpc_call_t;

/* ---- rpc.c ------------------------------------------------------------------ */

/* adb_rpc_fail: sets the call's error (the first one sticks) and returns
 * ADB_RPC_ERR. */
int adb_rpc_fail(adb_rpc_call_t *c, int code, char const *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* adb_rpc_db_fail: a database error at the call's slot: RETRY when the slot
 * moved (TOO_OLD, INVALID, NOT_FOUND of a bank), else an internal error. */
int adb_rpc_db_fail(adb_rpc_call_t *c, int rc);

/* adb_rpc_zctx_get / _put: a zstd compression context from the pool (NULL
 * when none can be made) / back to it (freed when the pool is full). */
void *adb_rpc_zctx_get(adb_rpc_t *r);
void  adb_rpc_zctx_put(adb_rpc_t *r, void *z);

/* adb_rpc_too_large: the response would pass max_response_sz. */
int adb_rpc_too_large(adb_rpc_call_t *c, char const *hint);

/* adb_rpc_over: true when the result so far passes max_response_sz. */
static inline bool
adb_rpc_over(adb_rpc_call_t const *c) {
    return c->out.err == 0 && c->out.sz > c->r->max_response_sz;
}

/* ---- rpc_methods.c ---------------------------------------------------------- */

/* adb_rpc_method: the method called name (name[0..len)), or NULL. */
typedef int (*adb_rpc_method_fn)(adb_rpc_call_t *c);
adb_rpc_method_fn adb_rpc_method(char const *name, size_t len);

/* ---- rpc_params.c ----------------------------------------------------------- */

/* Which config fields a method takes. */
#define ADB_RPC_CFG_COMMITMENT 0x01u /* commitment */
#define ADB_RPC_CFG_CONTEXT    0x02u /* commitment, minContextSlot */
#define ADB_RPC_CFG_ACCOUNT    0x04u /* + encoding, dataSlice */
#define ADB_RPC_CFG_PROGRAM                                                                        \
    0x08u /* + filters, withContext, sortResults, limit,                                           \
           * paginationKey, changedSinceSlot */

typedef struct adb_rpc_filter {
    int      kind; /* 1 dataSize, 2 memcmp, 3 tokenAccountState */
    uint64_t data_size;
    uint64_t offset;
    uint8_t  bytes[ADB_RPC_MAX_MEMCMP_SZ];
    size_t   len;
} adb_rpc_filter_t;

typedef struct adb_rpc_cfg {
    adb_rpc_commitment_t commitment;
    bool                 has_min_ctx;
    uint64_t             min_ctx;
    adb_rpc_enc_t        enc;
    bool                 has_slice;
    uint64_t             slice_off, slice_len;
    /* getProgramAccounts */
    adb_rpc_filter_t filters[ADB_RPC_MAX_FILTERS];
    size_t           filter_cnt;
    bool             with_context, sort_results;
    bool             has_limit, has_page_key, has_changed_since;
    uint64_t         limit, changed_since;
    acctdb_pubkey_t  page_key;
} adb_rpc_cfg_t;

/* adb_rpc_params: checks params is absent, null or an array of min..max
 * elements; *n_out gets the element count. */
int adb_rpc_params(adb_rpc_call_t *c, size_t min, size_t max, size_t *n_out);

/* adb_rpc_param: element i of the params array (NULL for a JSON null or
 * past the end). */
json_object *adb_rpc_param(adb_rpc_call_t *c, size_t i);

/* adb_rpc_pubkey: a base58 pubkey string (Agave's verify_pubkey:
 * "Invalid param: WrongSize" / "Invalid param: Invalid"). */
int adb_rpc_pubkey(adb_rpc_call_t *c, json_object *v, acctdb_pubkey_t *out);

/* adb_rpc_u64: a JSON integer 0..2^64-1 (never a double); what names the
 * value in the message. */
int adb_rpc_u64(adb_rpc_call_t *c, json_object *v, char const *what, uint64_t *out);

/* adb_rpc_config: the config object v (NULL: defaults) of a method taking
 * the fields in flags. */
int adb_rpc_config(adb_rpc_call_t *c, json_object *v, unsigned flags, adb_rpc_cfg_t *cfg);

/* adb_rpc_ctx_slot: the slot cfg's commitment reads; fails with -32016
 * when it is below minContextSlot.  Sets c->slot. */
int adb_rpc_ctx_slot(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, uint64_t *slot_out);

/* ---- rpc_encode.c ----------------------------------------------------------- */

/* Standard base64 with padding into dst (4*ceil(n/3)+1 bytes); returns the
 * length.  adb_rpc_b64_decode: strict (padding required, no whitespace);
 * -1 if invalid or more than max bytes. */
size_t  adb_rpc_b64_encode(void const *src, size_t n, char *dst);
ssize_t adb_rpc_b64_decode(char const *src, size_t n, uint8_t *dst, size_t max);

/* adb_rpc_zstd: src as one zstd frame the way Agave's streaming encoder
 * writes it (level 3, no pledged size, no checksum) into c->zbuf;
 * *sz_out its size.  Errors: NOMEM, IO (zstd failed). */
int adb_rpc_zstd(adb_rpc_call_t *c, void const *src, size_t n, size_t *sz_out);

/* adb_rpc_slice: the bytes of data[0..n) dataSlice selects (Agave's
 * slice_data). */
void adb_rpc_slice(adb_rpc_cfg_t const *cfg, size_t n, size_t *off_out, size_t *len_out);

/* adb_rpc_check_b58: -32600 when binary/base58 data after slicing passes
 * 128 bytes (Agave's encode_account). */
int adb_rpc_check_b58(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, acctdb_account_t const *a);

/* How jsonParsed treats an account nothing parses: LONE falls back to
 * base64 (Agave's getAccountInfo: the whole data for token accounts, the
 * slice otherwise); LIST drops token accounts Agave cannot parse
 * (gPA/getTokenAccountsByOwner over a token program), base64 for others. */
#define ADB_RPC_PARSED_LONE 0
#define ADB_RPC_PARSED_LIST 1

/* What an account's "data" will be. */
#define ADB_RPC_HOW_SLICE  0 /* cfg's encoding of the dataSlice */
#define ADB_RPC_HOW_WHOLE  1 /* base64 of the whole data (token jsonParsed fallback) */
#define ADB_RPC_HOW_PARSED 2 /* the parsed token account */

typedef struct adb_rpc_plan {
    int     how;
    uint8_t decimals;
} adb_rpc_plan_t;

/* adb_rpc_account_plan: decides how a is encoded, before anything is
 * written (reads its mint for a parsed token account; checks the base58
 * limit).  Returns ADB_RPC_OK, ADB_RPC_ERR, ADB_RPC_RETRY, or ADB_RPC_SKIP
 * (LIST mode: Agave leaves this account out). */
#define ADB_RPC_SKIP 3
int adb_rpc_account_plan(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, acctdb_account_t const *a,
                         int parsed_mode, adb_rpc_plan_t *plan);

/* adb_rpc_account_emit: the UiAccount object of a (keys in order: data,
 * executable, lamports, owner, rentEpoch, space) as planned.  ADB_RPC_OK
 * or ADB_RPC_ERR (over the response cap, out of memory). */
int adb_rpc_account_emit(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, acctdb_account_t const *a,
                         adb_rpc_plan_t const *plan);

/* adb_rpc_load: the account at pubkey and the call's slot into c->data
 * (grown as needed); *found_out false when absent. */
int adb_rpc_load(adb_rpc_call_t *c, acctdb_pubkey_t const *key, acctdb_account_t *out,
                 bool *found_out);

/* adb_rpc_call_fini: frees the call's scratch. */
void adb_rpc_call_fini(adb_rpc_call_t *c);

/* ---- rpc_token.c ------------------------------------------------------------ */

extern acctdb_pubkey_t const adb_rpc_token_program;      /* Tokenkeg... */
extern acctdb_pubkey_t const adb_rpc_token_2022_program; /* TokenzQd... */
extern acctdb_pubkey_t const adb_rpc_native_mint;        /* So111...2 */

bool adb_rpc_is_token_program(acctdb_pubkey_t const *p);

#define ADB_TOK_NONE     0 /* Agave's parser fails */
#define ADB_TOK_ACCOUNT  1
#define ADB_TOK_MINT     2
#define ADB_TOK_MULTISIG 3
#define ADB_TOK_UNSUP    4 /* parses, but with something we do not render exactly */

/* adb_rpc_tok_kind: what parse_token makes of data; *mint_out the mint of
 * an ACCOUNT. */
int adb_rpc_tok_kind(uint8_t const *d, size_t n, acctdb_pubkey_t *mint_out);

#define ADB_TOK_MINT_OK      0
#define ADB_TOK_MINT_MISSING 1 /* absent or not a mint: Agave cannot parse the account */
#define ADB_TOK_MINT_UNSUP   2 /* an interest-bearing or scaled-UI-amount mint */

/* adb_rpc_tok_mint: the decimals of a mint account's data (Agave's
 * get_additional_mint_data). */
int adb_rpc_tok_mint(uint8_t const *d, size_t n, uint8_t *decimals_out);

/* adb_rpc_tok_write: the jsonParsed value ({"parsed":…,"program":…,
 * "space":…}) of token account a; decimals for an ACCOUNT.  Call only
 * after adb_rpc_tok_kind said ACCOUNT, MINT or MULTISIG. */
void adb_rpc_tok_write(adb_json_t *j, acctdb_account_t const *a, uint8_t decimals);

#endif
