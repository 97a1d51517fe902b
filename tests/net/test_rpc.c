/* The JSON-RPC dispatcher (src/net/rpc*.c) driven directly, on databases
 * created from the bundled archives (owner index on):
 *
 *   v42   the Agave 4.2 fixture (slot 100), every account checked against
 *         the fixture's own JSON decoding;
 *   v3    the 3.x pair (full 1 + incremental 4), accounts with u64::MAX
 *         rent epochs, checked against acctdb_snapshot_* on the archives;
 *   live  the 4.2 fixture plus slots written here: token accounts (SPL
 *         Token, Token-2022 with extensions, a multisig), "test data"
 *         (zstd byte-exactness), unrooted slots (commitment levels).
 *
 * Every method, encoding, filter, pagination, commitment, error code, limit
 * and a list of hostile inputs, each with the error Agave gives; responses
 * are re-read with json-c (integers exact).  Also: many threads on one
 * handle, and a seeded mutation sweep (every answer is JSON). */
#include "../test.h"

#include "net/rpc.h"
#include "util/base58.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define V42_ARCHIVE "test-snapshot-v4.2.0-beta.1.tar.zst"
#define V42_JSON    "test-snapshot-v4.2.0-beta.1.json"
#define V3_FULL     "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define V3_INC      "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define SYSTEM      "11111111111111111111111111111111"
#define VOTE        "Vote111111111111111111111111111111111111111"
#define SYSVAR      "Sysvar1111111111111111111111111111111111111"
#define TOKEN       "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
#define TOKEN22     "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
#define SLOT_HIST   "SysvarS1otHistory11111111111111111111111111"
#define U64_MAX_S   "18446744073709551615"

/* ---- fixtures ---------------------------------------------------------------- */

typedef struct fx {
    char        *tmp;
    acctdb_db_t *v42, *v3, *live;
    adb_rpc_t   *r42, *r3, *rlive;
} fx_t;

static fx_t g_fx;

static acctdb_db_t *
create(char const *name, char const *full, char const *inc) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/%s", g_fx.tmp, name);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    cfg.background = false;
    cfg.threads = 2;
    acctdb_db_source_t src = {.full_path = adb_test_data(full),
                              .incremental_path = inc ? adb_test_data(inc) : NULL};
    acctdb_db_t       *db = NULL;
    char               msg[1024];
    int                rc = acctdb_db_create(&db, dir, &src, &cfg, msg, sizeof msg);
    if (rc) fail_msg("create %s: %s", name, msg);
    return db;
}

static adb_rpc_t *
rpc_on(acctdb_db_t *db, char const *snapshot_dir) {
    adb_rpc_opts_t o = {.db = db, .snapshot_dir = snapshot_dir};
    adb_rpc_t     *r = NULL;
    adb_err_t      e;
    adb_err_clear(&e);
    assert_int_equal(adb_rpc_new(&o, &r, &e), 0);
    return r;
}

static acctdb_pubkey_t
pk(char const *b58) {
    acctdb_pubkey_t k;
    if (acctdb_base58_decode_32(b58, k.b)) fail_msg("bad pubkey %s", b58);
    return k;
}

/* A deterministic key from a tag. */
static acctdb_pubkey_t
key_of(char const *tag) {
    acctdb_pubkey_t k;
    acctdb_blake3(tag, strlen(tag), k.b, 32);
    return k;
}

static char const *
b58(acctdb_pubkey_t const *k) {
    static char bufs[8][ACCTDB_BASE58_32_SZ];
    static int  next;
    char       *b = bufs[next++ & 7];
    return acctdb_base58_encode_32(k->b, b);
}

/* The live database's extra accounts (see live_setup). */
static acctdb_pubkey_t g_mint, g_mint22, g_wallet, g_tok1, g_tok2, g_tok3, g_tok22, g_multisig,
    g_uninit, g_orphan, g_testdata, g_changing, g_big;

static void
put_coption_pk(uint8_t *p, acctdb_pubkey_t const *k) {
    uint32_t one = 1;
    memcpy(p, &one, 4);
    memcpy(p + 4, k->b, 32);
}

/* A 165-byte SPL token account. */
static void
token_account(uint8_t *d, acctdb_pubkey_t const *mint, acctdb_pubkey_t const *owner,
              uint64_t amount, uint8_t state) {
    memset(d, 0, 165);
    memcpy(d, mint->b, 32);
    memcpy(d + 32, owner->b, 32);
    memcpy(d + 64, &amount, 8);
    d[108] = state;
}

static void
store1(acctdb_db_t *db, uint64_t slot, uint64_t parent, acctdb_pubkey_t const *k,
       acctdb_pubkey_t const *owner, uint64_t lamports, void const *data, size_t len) {
    acctdb_account_t a = {.pubkey = *k,
                          .owner = *owner,
                          .lamports = lamports,
                          .rent_epoch = UINT64_MAX,
                          .data_len = len,
                          .data = data};
    int              rc = acctdb_db_store(db, slot, parent, &a, 1);
    if (rc) fail_msg("store: %s", acctdb_db_errmsg(db));
}

static uint8_t g_big_data[200000];

/* Slot 101 (rooted): the token accounts, "test data", a big account.
 * Slot 102 (frozen, not rooted) changes g_changing. */
static void
live_setup(acctdb_db_t *db) {
    acctdb_pubkey_t tp = pk(TOKEN), tp22 = pk(TOKEN22), sys = pk(SYSTEM);
    g_mint = key_of("mint");
    g_mint22 = key_of("mint22");
    g_wallet = key_of("wallet");
    g_tok1 = key_of("tok1");
    g_tok2 = key_of("tok2");
    g_tok3 = key_of("tok3");
    g_tok22 = key_of("tok22");
    g_multisig = key_of("multisig");
    g_uninit = key_of("uninit");
    g_orphan = key_of("orphan");
    g_testdata = key_of("testdata");
    g_changing = key_of("changing");
    g_big = key_of("big");
    acctdb_pubkey_t auth = key_of("authority"), del = key_of("delegate");

    /* Mint: 82 bytes, authority set, supply 1000000000, 6 decimals. */
    uint8_t m[82] = {0};
    put_coption_pk(m, &auth);
    uint64_t supply = 1000000000;
    memcpy(m + 36, &supply, 8);
    m[44] = 6;
    m[45] = 1;
    store1(db, 101, 100, &g_mint, &tp, 1461600, m, sizeof m);

    uint8_t d[165];
    token_account(d, &g_mint, &g_wallet, 1234567, 1);
    store1(db, 101, 100, &g_tok1, &tp, 2039280, d, sizeof d);
    /* Delegated, frozen, native reserve, close authority. */
    token_account(d, &g_mint, &g_wallet, 42, 2);
    put_coption_pk(d + 72, &del);
    uint32_t one = 1;
    memcpy(d + 109, &one, 4);
    uint64_t reserve = 2039280, delegated = 7;
    memcpy(d + 113, &reserve, 8);
    memcpy(d + 121, &delegated, 8);
    put_coption_pk(d + 129, &auth);
    store1(db, 101, 100, &g_tok2, &tp, 2039280, d, sizeof d);
    /* Another owner. */
    acctdb_pubkey_t other = key_of("other wallet");
    token_account(d, &g_mint, &other, 5, 1);
    store1(db, 101, 100, &g_tok3, &tp, 2039280, d, sizeof d);
    /* Uninitialized (state 0): no parse. */
    token_account(d, &g_mint, &g_wallet, 0, 0);
    store1(db, 101, 100, &g_uninit, &tp, 2039280, d, sizeof d);
    /* A token account whose mint does not exist. */
    acctdb_pubkey_t nomint = key_of("no such mint");
    token_account(d, &nomint, &g_wallet, 9, 1);
    store1(db, 101, 100, &g_orphan, &tp, 2039280, d, sizeof d);

    /* Token-2022 mint with a mint close authority (type 3, 32 bytes) and a
     * transfer fee config of the wrong size (unparseable). */
    uint8_t m22[82 + 83 + 1 + 4 + 32 + 4 + 10] = {0};
    put_coption_pk(m22, &auth);
    m22[44] = 0;
    m22[45] = 1;
    m22[165] = 1; /* AccountType::Mint */
    size_t o = 166;
    m22[o] = 3, m22[o + 2] = 32;
    memcpy(m22 + o + 4, auth.b, 32);
    o += 36;
    m22[o] = 1, m22[o + 2] = 10;
    store1(db, 101, 100, &g_mint22, &tp22, 3000000, m22, sizeof m22);
    /* Token-2022 account with immutableOwner (0 bytes) and
     * transferFeeAmount (8 bytes). */
    uint8_t t22[165 + 1 + 4 + 4 + 8] = {0};
    token_account(t22, &g_mint22, &g_wallet, 77, 1);
    t22[165] = 2;
    t22[166] = 7;
    t22[170] = 2, t22[172] = 8;
    uint64_t withheld = 3;
    memcpy(t22 + 174, &withheld, 8);
    store1(db, 101, 100, &g_tok22, &tp22, 2500000, t22, sizeof t22);

    /* A Token-2022 account of 200 bytes without the account type byte:
     * initialized at 108 with the wallet at 32, but not a token account
     * to spl-token-2022 (valid_account_data), so no index holds it. */
    uint8_t odd[200] = {0};
    token_account(odd, &g_mint22, &g_wallet, 1, 1);
    acctdb_pubkey_t odd_key = key_of("odd22");
    store1(db, 101, 100, &odd_key, &tp22, 2500000, odd, sizeof odd);

    /* Multisig 2 of 3. */
    uint8_t ms[355] = {0};
    ms[0] = 2, ms[1] = 3, ms[2] = 1;
    memcpy(ms + 3, auth.b, 32);
    memcpy(ms + 35, del.b, 32);
    memcpy(ms + 67, other.b, 32);
    store1(db, 101, 100, &g_multisig, &tp, 3000000, ms, sizeof ms);

    store1(db, 101, 100, &g_testdata, &sys, 1000, "test data", 9);
    store1(db, 101, 100, &g_changing, &sys, 1, "v1", 2);
    for (size_t i = 0; i < sizeof g_big_data; i++)
        g_big_data[i] = (uint8_t)(i * 7 + (i >> 9));
    store1(db, 101, 100, &g_big, &sys, 99, g_big_data, sizeof g_big_data);
    acctdb_bank_meta_t meta = {.unix_timestamp = 1700000000};
    assert_int_equal(acctdb_db_freeze(db, 101, &meta, NULL), 0);
    assert_int_equal(acctdb_db_root(db, 101), 0);
    store1(db, 102, 101, &g_changing, &sys, 2, "v2", 2);
    assert_int_equal(acctdb_db_freeze(db, 102, &meta, NULL), 0);
}

static void
fx_need(void) {
    if (g_fx.tmp) return;
    g_fx.tmp = adb_test_mkdtemp();
    g_fx.v42 = create("v42", V42_ARCHIVE, NULL);
    g_fx.v3 = create("v3", V3_FULL, V3_INC);
    g_fx.live = create("live", V42_ARCHIVE, NULL);
    live_setup(g_fx.live);
    g_fx.r42 = rpc_on(g_fx.v42, NULL);
    g_fx.r3 = rpc_on(g_fx.v3, NULL);
    g_fx.rlive = rpc_on(g_fx.live, NULL);
}

static void
t_zz_cleanup(void **state) {
    (void)state;
    adb_rpc_free(g_fx.r42);
    adb_rpc_free(g_fx.r3);
    adb_rpc_free(g_fx.rlive);
    acctdb_db_close(g_fx.v42);
    acctdb_db_close(g_fx.v3);
    acctdb_db_close(g_fx.live);
    if (g_fx.tmp) adb_test_rmtree(g_fx.tmp);
    free(g_fx.tmp);
    memset(&g_fx, 0, sizeof g_fx);
}

/* ---- calling --------------------------------------------------------------------- */

typedef struct resp {
    int          status;
    char        *text; /* adb_free */
    size_t       sz;
    json_object *j; /* parsed (NULL when there was no body) */
} resp_t;

static json_object *
parse_exact(char const *text, size_t sz) {
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, text, (int)sz);
    if (!j || json_tokener_get_error(tok) != json_tokener_success)
        fail_msg("response is not JSON: %.*s", (int)ADB_MIN(sz, 2000), text);
    json_tokener_free(tok);
    return j;
}

static char const *g_last_body = ""; /* for failure messages */

static resp_t
call_raw(adb_rpc_t *r, char const *body, size_t len) {
    resp_t x = {0};
    g_last_body = body ? body : "";
    x.status = adb_rpc_handle(r, body, len, &x.text, &x.sz);
    if (x.text) {
        assert_int_equal(strlen(x.text), x.sz);
        x.j = parse_exact(x.text, x.sz);
    } else {
        assert_int_equal(x.sz, 0);
    }
    return x;
}

static resp_t call(adb_rpc_t *r, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

static char const *g_health = "behind";

static char const *
health_behind(void *ctx) {
    (void)ctx;
    return g_health;
}

static resp_t
call(adb_rpc_t *r, char const *fmt, ...) {
    static char body[1 << 20];
    va_list     ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof body);
    return call_raw(r, body, (size_t)n);
}

static void
resp_free(resp_t *x) {
    adb_free(x->text);
    json_object_put(x->j);
    memset(x, 0, sizeof *x);
}

/* The value at a dotted path ("result.value.0.lamports"); fails if absent
 * unless allow_missing. */
static json_object *
at(json_object *j, char const *path) {
    char p[256];
    snprintf(p, sizeof p, "%s", path);
    json_object *cur = j;
    for (char *save = NULL, *tok = strtok_r(p, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        if (json_object_get_type(cur) == json_type_array) {
            char  *end;
            size_t i = strtoul(tok, &end, 10);
            if (*end || i >= json_object_array_length(cur)) fail_msg("no %s in path %s", tok, path);
            cur = json_object_array_get_idx(cur, i);
        } else if (json_object_get_type(cur) == json_type_object) {
            if (!json_object_object_get_ex(cur, tok, &cur)) fail_msg("no %s in path %s", tok, path);
        } else {
            fail_msg("path %s: %s is not a container", path, tok);
        }
    }
    return cur;
}

static bool
has(json_object *j, char const *key) {
    return json_object_object_get_ex(j, key, NULL);
}

static uint64_t
u64_at(json_object *j, char const *path) {
    json_object *v = at(j, path);
    if (json_object_get_type(v) != json_type_int || json_object_get_int64(v) < 0)
        fail_msg("%s is not a u64: %s", path, json_object_to_json_string(v));
    return json_object_get_uint64(v);
}

static char const *
str_at(json_object *j, char const *path) {
    json_object *v = at(j, path);
    if (json_object_get_type(v) != json_type_string)
        fail_msg("%s is not a string: %s", path, json_object_to_json_string(v));
    return json_object_get_string(v);
}

/* An error response with code (and message, if not NULL). */
static void
expect_error(resp_t *x, int code, char const *msg) {
    if (!x->j || !has(x->j, "error"))
        fail_msg("expected error %d, got %s\nrequest: %.300s", code, x->text, g_last_body);
    int64_t got = json_object_get_int64(at(x->j, "error.code"));
    if (got != code)
        fail_msg("expected error %d, got %s\nrequest: %.300s", code, x->text, g_last_body);
    if (msg && strcmp(str_at(x->j, "error.message"), msg))
        fail_msg("expected message \"%s\", got %s\nrequest: %.300s", msg, x->text, g_last_body);
    assert_false(has(x->j, "result"));
    assert_string_equal(str_at(x->j, "jsonrpc"), "2.0");
}

/* Calls and expects an error, freeing the response. */
#define EXPECT_ERR(r, code, msg, ...)                                                              \
    do {                                                                                           \
        resp_t x_ = call((r), __VA_ARGS__);                                                        \
        expect_error(&x_, (code), (msg));                                                          \
        resp_free(&x_);                                                                            \
    } while (0)

static void
expect_ok(resp_t *x) {
    if (!x->j || !has(x->j, "result")) fail_msg("expected a result, got %s", x->text);
}

/* base64 decode (test side, independent of the server's). */
static size_t
unb64(char const *s, uint8_t *out, size_t max) {
    static int8_t tab[256];
    static bool   init;
    if (!init) {
        memset(tab, -1, sizeof tab);
        char const *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; i++)
            tab[(uint8_t)a[i]] = (int8_t)i;
        init = true;
    }
    size_t   n = strlen(s), o = 0;
    uint32_t acc = 0;
    int      bits = 0;
    assert_int_equal(n % 4, 0);
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = tab[(uint8_t)s[i]];
        if (v < 0) fail_msg("bad base64 %s", s);
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            assert_true(o < max);
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

/* The data of an account object in any binary encoding, decoded. */
static size_t
account_data(json_object *acct, uint8_t *out, size_t max) {
    json_object *d = at(acct, "data");
    if (json_object_get_type(d) == json_type_string) { /* legacy binary */
        size_t sz = 0;
        assert_int_equal(adb_base58_decode(json_object_get_string(d),
                                           (size_t)json_object_get_string_len(d), out, max, &sz),
                         0);
        return sz;
    }
    char const *enc = str_at(acct, "data.1"), *text = str_at(acct, "data.0");
    if (!strcmp(enc, "base58")) {
        size_t sz = 0;
        assert_int_equal(adb_base58_decode(text, strlen(text), out, max, &sz), 0);
        return sz;
    }
    if (!strcmp(enc, "base64")) return unb64(text, out, max);
    assert_string_equal(enc, "base64+zstd");
    static uint8_t z[1 << 20];
    size_t         zn = unb64(text, z, sizeof z);
    size_t         n = ZSTD_decompress(out, max, z, zn);
    assert_false(ZSTD_isError(n));
    return n;
}

/* ---- the envelope ------------------------------------------------------------------ */

static void
t_envelope(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.r42;
    /* A string id (what @solana/kit sends) comes back as a string, byte
     * for byte. */
    resp_t x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":\"0\",\"method\":\"getSlot\"}");
    assert_int_equal(x.status, 200);
    assert_string_equal(x.text, "{\"jsonrpc\":\"2.0\",\"result\":100,\"id\":\"0\"}");
    resp_free(&x);
    /* Numbers, u64::MAX, negative, null; params [] and null. */
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"getSlot\",\"params\":[]}");
    assert_string_equal(x.text, "{\"jsonrpc\":\"2.0\",\"result\":100,\"id\":7}");
    resp_free(&x);
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":" U64_MAX_S ",\"method\":\"getSlot\",\"params\":null}");
    assert_string_equal(x.text, "{\"jsonrpc\":\"2.0\",\"result\":100,\"id\":" U64_MAX_S "}");
    resp_free(&x);
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":-5,\"method\":\"getSlot\"}");
    assert_string_equal(x.text, "{\"jsonrpc\":\"2.0\",\"result\":100,\"id\":-5}");
    resp_free(&x);
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"getSlot\"}");
    assert_string_equal(x.text, "{\"jsonrpc\":\"2.0\",\"result\":100,\"id\":null}");
    resp_free(&x);
    /* An id with escapes and non-ASCII is echoed as the same string. */
    x = call(r, "{\"id\":\"a\\\"b\\u00e9\\n\",\"jsonrpc\":\"2.0\",\"method\":\"getSlot\"}");
    assert_string_equal(str_at(x.j, "id"), "a\"b\xc3\xa9\n");
    resp_free(&x);
    /* A notification (no id) gets no answer; nor does a batch of them. */
    x = call(r, "{\"jsonrpc\":\"2.0\",\"method\":\"getSlot\"}");
    assert_null(x.text);
    assert_int_equal(x.status, 200);
    x = call(r, "[{\"jsonrpc\":\"2.0\",\"method\":\"getSlot\"},{\"jsonrpc\":\"2.0\",\"method\":"
                "\"getHealth\"}]");
    assert_null(x.text);
    /* A batch: answers in order, notifications left out, errors in place. */
    x = call(r, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"getSlot\"},"
                "{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":\"nope\"},"
                "5,"
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"getHealth\"}]");
    assert_int_equal(json_object_array_length(x.j), 4);
    assert_int_equal(u64_at(x.j, "0.result"), 100);
    assert_int_equal(u64_at(x.j, "0.id"), 1);
    assert_int_equal(json_object_get_int(at(x.j, "1.error.code")), -32601);
    assert_string_equal(str_at(x.j, "1.error.message"), "Method not found");
    assert_string_equal(str_at(x.j, "1.id"), "b");
    assert_int_equal(json_object_get_int(at(x.j, "2.error.code")), -32600);
    assert_null(at(x.j, "2.id"));
    assert_string_equal(str_at(x.j, "3.result"), "ok");
    resp_free(&x);
    /* Invalid requests: wrong or missing jsonrpc, method not a string, an
     * id that is not a string, integer or null. */
    EXPECT_ERR(r, -32600, "Invalid request", "{\"id\":1,\"method\":\"getSlot\"}");
    EXPECT_ERR(r, -32600, "Invalid request",
               "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"getSlot\"}");
    EXPECT_ERR(r, -32600, "Invalid request", "{\"jsonrpc\":2,\"id\":1,\"method\":\"getSlot\"}");
    EXPECT_ERR(r, -32600, "Invalid request", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}");
    EXPECT_ERR(r, -32600, "Invalid request", "{\"jsonrpc\":\"2.0\",\"id\":1}");
    EXPECT_ERR(r, -32600, "Invalid request",
               "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"getSlot\"}");
    EXPECT_ERR(r, -32600, "Invalid request",
               "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"getSlot\"}");
    EXPECT_ERR(r, -32600, "Invalid request",
               "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"getSlot\"}");
    EXPECT_ERR(r, -32600, "Invalid request",
               "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"getSlot\"}");
    /* An id past 2^64 is a double (as serde reads it): invalid. */
    EXPECT_ERR(r, -32600, "Invalid request",
               "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,\"method\":\"getSlot\"}");
    /* A bare value, an empty batch. */
    EXPECT_ERR(r, -32600, "Invalid request", "5");
    EXPECT_ERR(r, -32600, "Invalid request", "\"getSlot\"");
    EXPECT_ERR(r, -32600, "Invalid request", "null");
    EXPECT_ERR(r, -32600, "Invalid request", "[]");
    EXPECT_ERR(r, -32600, "Invalid request", "  [ ]  ");
    /* The invalid request keeps a valid id. */
    x = call(r, "{\"jsonrpc\":\"3.0\",\"id\":\"x\",\"method\":\"getSlot\"}");
    assert_string_equal(str_at(x.j, "id"), "x");
    resp_free(&x);
    /* Method names are exact. */
    EXPECT_ERR(r, -32601, "Method not found",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getslot\"}");
    EXPECT_ERR(r, -32601, "Method not found",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\\u0000\"}");
    EXPECT_ERR(r, -32601, "Method not found", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}");
    /* Params that are not an array. */
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBalance\",\"params\":{\"a\":1}}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBalance\",\"params\":\"x\"}");
    EXPECT_ERR(r, -32602, "Invalid parameters: No parameters were expected",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHealth\",\"params\":[1]}");
    EXPECT_ERR(r, -32602, "Invalid parameters: No parameters were expected",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getVersion\",\"params\":{}}");
    /* Unknown top-level members are ignored; duplicate keys: the last. */
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"getSlot\",\"extra\":[1,2]}");
    assert_int_equal(u64_at(x.j, "id"), 2);
    resp_free(&x);
}

static void
t_parse_errors(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t        *r = g_fx.r42;
    char const *const bad[] = {
        "",
        "   ",
        "{",
        "[",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"",
        "[1,]",
        "{\"a\":1,}",
        "{'jsonrpc':'2.0'}",
        "{jsonrpc:\"2.0\"}",
        "NaN",
        "[Infinity]",
        "[-Infinity]",
        "[nan]",
        "01",
        "[01]",
        "1.",
        "[1.]",
        "[.5]",
        "[+1]",
        "[0x10]",
        "[1e]",
        "[1e+]",
        "[--1]",
        "[1-]",
        "[tru]",
        "[True]",
        "[nul]",
        "[undefined]",
        "{\"a\":1} x",
        "{\"a\":1}{\"b\":2}",
        "/* c */ {}",
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"\\u12\"}",
        "\"\xff\xfe\"",
        "\"\xc0\xaf\"",
        "{\"a\":\"\xed\xa0\x80\"}",
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(bad); i++) {
        resp_t x = call_raw(r, bad[i], strlen(bad[i]));
        if (!x.j) fail_msg("no answer to %s", bad[i]);
        if (json_object_get_int(at(x.j, "error.code")) != -32700)
            fail_msg("%s: %s", bad[i], x.text);
        assert_string_equal(str_at(x.j, "error.message"), "Parse error");
        assert_null(at(x.j, "id"));
        resp_free(&x);
    }
    /* An embedded NUL, inside a string and outside. */
    char const nul1[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}\0";
    resp_t     x = call_raw(r, nul1, sizeof nul1 - 1);
    expect_error(&x, -32700, "Parse error");
    resp_free(&x);
    char const nul2[] = "{\"jsonrpc\":\"2.0\",\"id\":\"a\0b\",\"method\":\"getSlot\"}";
    x = call_raw(r, nul2, sizeof nul2 - 1);
    expect_error(&x, -32700, "Parse error");
    resp_free(&x);
    /* A NULL body of length 0. */
    x = call_raw(r, NULL, 0);
    expect_error(&x, -32700, "Parse error");
    resp_free(&x);
    /* Nesting: 32 levels parse (and are an invalid request), 33 do not. */
    char deep[256];
    for (int depth = 31; depth <= 40; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            deep[n++] = '[';
        for (int i = 0; i < depth; i++)
            deep[n++] = ']';
        x = call_raw(r, deep, n);
        int code = json_object_get_int(
            at(x.j, depth <= ADB_RPC_DEPTH_MAX ? "0.error.code" : "error.code"));
        assert_int_equal(code, depth <= ADB_RPC_DEPTH_MAX ? -32600 : -32700);
        resp_free(&x);
    }
    /* Deep nesting inside params. */
    char   body[8192];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":");
    for (int i = 0; i < 2000; i++)
        body[n++] = '[';
    for (int i = 0; i < 2000; i++)
        body[n++] = ']';
    body[n++] = '}';
    x = call_raw(r, body, n);
    expect_error(&x, -32700, "Parse error");
    resp_free(&x);
    /* Big and tiny numbers are fine where no u64 is wanted (an ignored
     * member), and whitespace of every JSON kind is fine. */
    x = call(r, " \t\r\n{\"jsonrpc\":\"2.0\",\"x\":[1e400,-1e400,123456789012345678901234567890,"
                "-99999999999999999999,0.0,-0,1E-7],\"id\":1,\"method\":\"getSlot\"}\n ");
    expect_ok(&x);
    resp_free(&x);
}

static void
t_body_limit(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.r42;
    size_t     max = 50u << 10;
    char      *b = malloc(max + 2);
    /* Exactly the limit: answered. */
    int n = snprintf(b, max, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"pad\":\"");
    memset(b + n, 'x', max - (size_t)n - 2);
    memcpy(b + max - 2, "\"}", 2);
    resp_t x = call_raw(r, b, max);
    assert_int_equal(x.status, 200);
    assert_int_equal(u64_at(x.j, "result"), 100);
    resp_free(&x);
    /* One byte more: HTTP 413 with a JSON-RPC error body. */
    memcpy(b + max - 2, "x\"}", 3);
    x = call_raw(r, b, max + 1);
    assert_int_equal(x.status, 413);
    expect_error(&x, -32600, "Request body too large; max 51200 bytes");
    resp_free(&x);
    free(b);
    /* A smaller limit from the options. */
    adb_rpc_opts_t o = {.db = g_fx.v42, .max_body_sz = 62, .max_batch = 2};
    adb_rpc_t     *small = NULL;
    adb_err_t      e;
    adb_err_clear(&e);
    assert_int_equal(adb_rpc_new(&o, &small, &e), 0);
    char const *fits =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{\"a\":1}]}";
    assert_int_equal(strlen(fits), 62);
    x = call(small, "%s", fits);
    assert_int_equal(x.status, 200);
    resp_free(&x);
    x = call(small,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{\"a\":12}]}");
    assert_int_equal(x.status, 413);
    expect_error(&x, -32600, "Request body too large; max 62 bytes");
    resp_free(&x);
    /* max_batch 2: three requests are refused as a whole. */
    x = call(small, "[{\"id\":1},1,2]");
    expect_error(&x, -32600, "Too many requests in one batch; max 2");
    resp_free(&x);
    adb_rpc_free(small);
    /* getHealth follows the server's verdict: NodeUnhealthy when it is not
     * "ok", with numSlotsBehind null (Agave's shape without a cluster). */
    adb_rpc_opts_t ho = {.db = g_fx.v42, .health = health_behind};
    adb_rpc_t     *hr = NULL;
    assert_int_equal(adb_rpc_new(&ho, &hr, &e), 0);
    x = call(hr, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHealth\"}");
    assert_int_equal(x.status, 200);
    expect_error(&x, -32005, "Node is unhealthy");
    assert_non_null(strstr(x.text, "\"data\":{\"numSlotsBehind\":null}"));
    resp_free(&x);
    g_health = "ok";
    x = call(hr, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHealth\"}");
    assert_non_null(strstr(x.text, "\"result\":\"ok\""));
    resp_free(&x);
    adb_rpc_free(hr);
    /* The default batch cap: 100 answered, 101 refused. */
    size_t cap = 101 * 64 + 16;
    char  *bb = malloc(cap);
    for (int k = 100; k <= 101; k++) {
        size_t o2 = 0;
        bb[o2++] = '[';
        for (int i = 0; i < k; i++)
            o2 += (size_t)snprintf(bb + o2, cap - o2,
                                   "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"getSlot\"}",
                                   i ? "," : "", i);
        bb[o2++] = ']';
        x = call_raw(r, bb, o2);
        if (k == 100) {
            assert_int_equal(json_object_array_length(x.j), 100);
            assert_int_equal(u64_at(x.j, "99.id"), 99);
        } else {
            expect_error(&x, -32600, "Too many requests in one batch; max 100");
        }
        resp_free(&x);
    }
    free(bb);
    /* Bad options. */
    adb_rpc_opts_t none = {0};
    assert_int_equal(adb_rpc_new(&none, &small, &e), ACCTDB_ERR_INVALID);
    assert_null(small);
    adb_rpc_free(NULL);
}

/* ---- integers ------------------------------------------------------------------------ */

static void
t_u64_params(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.r3;
#define MINBAL(v)                                                                                  \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMinimumBalanceForRentExemption\",\"params\":"   \
    "[" v "]}"
    resp_t x = call(r, MINBAL("165"));
    assert_int_equal(u64_at(x.j, "result"), 2039280);
    resp_free(&x);
    x = call(r, MINBAL("0"));
    assert_int_equal(u64_at(x.j, "result"), 890880);
    resp_free(&x);
    /* u64::MAX is a u64 (the minimum saturates); one more is not. */
    x = call(r, MINBAL(U64_MAX_S));
    assert_int_equal(u64_at(x.j, "result"), UINT64_MAX);
    resp_free(&x);
    x = call(r, MINBAL("9223372036854775808"));
    expect_ok(&x);
    resp_free(&x);
    char const *const bad[] = {"18446744073709551616",
                               "99999999999999999999999999",
                               "-1",
                               "-9223372036854775808",
                               "-9223372036854775809",
                               "1.5",
                               "1e3",
                               "1.0",
                               "-0.0",
                               "\"5\"",
                               "true",
                               "null",
                               "[5]",
                               "{}"};
    for (size_t i = 0; i < ADB_ARRAY_CNT(bad); i++) {
        char body[256];
        snprintf(body, sizeof body, MINBAL("%s"), bad[i]);
        x = call_raw(r, body, strlen(body));
        if (!x.j || json_object_get_int(at(x.j, "error.code")) != -32602)
            fail_msg("%s: %s", bad[i], x.text);
        resp_free(&x);
    }
    x = call(r, MINBAL("-1"));
    assert_non_null(strstr(str_at(x.j, "error.message"), "invalid value: integer `-1`"));
    resp_free(&x);
    x = call(r, MINBAL("18446744073709551616"));
    assert_non_null(strstr(str_at(x.j, "error.message"), "floating point"));
    resp_free(&x);
    /* Missing and extra params. */
    EXPECT_ERR(r, -32602, NULL, MINBAL(""));
    EXPECT_ERR(r, -32602, NULL, MINBAL("1,{},3"));
    x = call(r, MINBAL("1,null"));
    expect_ok(&x);
    resp_free(&x);
    x = call(r, MINBAL("1,{\"commitment\":\"processed\",\"unknown\":[1]}"));
    expect_ok(&x);
    resp_free(&x);
    EXPECT_ERR(r, -32602, NULL, MINBAL("1,{\"commitment\":\"max\"}"));
    EXPECT_ERR(r, -32602, NULL, MINBAL("1,{\"commitment\":5}"));
    EXPECT_ERR(r, -32602, NULL, MINBAL("1,[]"));
#undef MINBAL
    /* dataSlice, minContextSlot: the same rules. */
    char const *const slices[] = {"{\"offset\":-1,\"length\":4}",
                                  "{\"offset\":0,\"length\":-4}",
                                  "{\"offset\":0.5,\"length\":4}",
                                  "{\"offset\":18446744073709551616,\"length\":4}",
                                  "{\"offset\":0}",
                                  "{\"length\":0}",
                                  "[0,4]",
                                  "\"0:4\""};
    for (size_t i = 0; i < ADB_ARRAY_CNT(slices); i++)
        EXPECT_ERR(r, -32602, NULL,
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                   "{\"encoding\":\"base64\",\"dataSlice\":%s}]}",
                   SYSTEM, slices[i]);
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{"
               "\"minContextSlot\":-1}]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{"
               "\"minContextSlot\":1e2}]}");
    /* A huge slice is fine: it saturates to the data. */
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
             "{\"encoding\":\"base64\",\"dataSlice\":{\"offset\":" U64_MAX_S
             ",\"length\":" U64_MAX_S "}}]}",
             SYSTEM);
    assert_string_equal(str_at(x.j, "result.value.data.0"), "");
    resp_free(&x);
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
             "{\"encoding\":\"base64\",\"dataSlice\":{\"offset\":7,\"length\":" U64_MAX_S "}}]}",
             SYSTEM);
    assert_string_equal(str_at(x.j, "result.value.data.0"), "cHJvZ3JhbQ=="); /* "program" */
    resp_free(&x);
}

/* ---- accounts: the 4.2 fixture against its JSON --------------------------------------- */

static json_object *
load_fixture_json(void) {
    size_t       sz;
    uint8_t     *t = adb_test_read_file(adb_test_data(V42_JSON), &sz);
    json_object *j = parse_exact((char const *)t, sz);
    free(t);
    return j;
}

static void
hex_to(char const *hex, uint8_t *out, size_t n) {
    assert_int_equal(strlen(hex), 2 * n);
    assert_int_equal(adb_test_unhex(out, n, hex), (int)n);
}

static uint8_t g_buf[1 << 20], g_buf2[1 << 20];

/* getAccountInfo of every live account of the 4.2 fixture, in every
 * encoding, against the fixture's JSON. */
static void
t_account_info_v42(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t   *r = g_fx.r42;
    json_object *fj = load_fixture_json();
    json_object *entries = at(fj, "accounts.entries"), *live = at(fj, "accounts.live_indices");
    size_t       checked = 0;
    for (size_t li = 0; li < json_object_array_length(live); li++) {
        json_object *e = json_object_array_get_idx(
            entries, (size_t)json_object_get_int(json_object_array_get_idx(live, li)));
        char const *key = str_at(e, "pubkey");
        size_t      len = (size_t)u64_at(e, "data_len");
        uint8_t    *want = malloc(len + 1);
        hex_to(str_at(e, "data_hex"), want, len);
        char const *const encs[] = {NULL,     "binary",      "base58",
                                    "base64", "base64+zstd", "jsonParsed"};
        for (size_t k = 0; k < ADB_ARRAY_CNT(encs); k++) {
            char cfg[128] = "";
            if (encs[k]) snprintf(cfg, sizeof cfg, ",{\"encoding\":\"%s\"}", encs[k]);
            resp_t x = call(r,
                            "{\"jsonrpc\":\"2.0\",\"id\":\"%zu\",\"method\":\"getAccountInfo\","
                            "\"params\":[\"%s\"%s]}",
                            k, key, cfg);
            bool   b58 = !encs[k] || !strcmp(encs[k], "binary") || !strcmp(encs[k], "base58");
            if (b58 && len > 128) {
                expect_error(&x, -32600,
                             "Encoded binary (base 58) data should be less than 128 bytes, please "
                             "use Base64 encoding.");
                resp_free(&x);
                continue;
            }
            expect_ok(&x);
            assert_int_equal(u64_at(x.j, "result.context.slot"), 100);
            assert_string_equal(str_at(x.j, "result.context.apiVersion"), acctdb_version());
            json_object *v = at(x.j, "result.value");
            assert_int_equal(u64_at(v, "lamports"), u64_at(e, "lamports"));
            assert_string_equal(str_at(v, "owner"), str_at(e, "owner"));
            assert_int_equal(json_object_get_boolean(at(v, "executable")),
                             json_object_get_boolean(at(e, "executable")));
            assert_int_equal(u64_at(v, "rentEpoch"), u64_at(e, "rent_epoch"));
            assert_int_equal(u64_at(v, "space"), len);
            /* Agave's key order, and the data's shape per encoding. */
            struct json_object_iterator it = json_object_iter_begin(v);
            char const *const           order[] = {"data",  "executable", "lamports",
                                                   "owner", "rentEpoch",  "space"};
            for (size_t o = 0; o < 6; o++, json_object_iter_next(&it))
                assert_string_equal(json_object_iter_peek_name(&it), order[o]);
            json_object *d = at(v, "data");
            if (!encs[k] || !strcmp(encs[k], "binary")) {
                assert_int_equal(json_object_get_type(d), json_type_string);
            } else {
                assert_int_equal(json_object_array_length(d), 2);
                char const *tag = str_at(v, "data.1");
                assert_string_equal(tag, !strcmp(encs[k], "jsonParsed") ? "base64" : encs[k]);
            }
            size_t got = account_data(v, g_buf, sizeof g_buf);
            assert_int_equal(got, len);
            assert_memory_equal(g_buf, want, len);
            resp_free(&x);
            checked++;
        }
        free(want);
    }
    assert_true(checked >= 8 * 3);
    /* The old version of 29d2… (slot 98) is not what is served. */
    resp_t x =
        call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":["
                "\"29d2S7vB453rNYFdR5Ycwt7y9haRT5fwVwL9zTmBhfV2\",{\"encoding\":\"base64\"}]}");
    assert_int_equal(u64_at(x.j, "result.value.lamports"), 1000000);
    assert_string_equal(str_at(x.j, "result.value.data.0"), "YWNjb3VudCBkYXRh");
    resp_free(&x);
    /* A missing account: value null, context kept. */
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\"]}",
             b58(&(acctdb_pubkey_t){{9}}));
    assert_string_equal(x.text,
                        "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"apiVersion\":\"0.1.0\","
                        "\"slot\":100},\"value\":null},\"id\":1}");
    resp_free(&x);
    /* Legacy binary: the bare base58 string. */
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":["
                "\"3JF3sEqM796hk5WFqA6EtmEwJQ9quALszsfJyvXNQKy3\"]}");
    assert_non_null(strstr(x.text, "\"data\":\"")); /* not an array */
    resp_free(&x);
    /* SlotHistory (131097 bytes) with a slice fits base58. */
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" SLOT_HIST
             "\",{\"encoding\":\"base58\",\"dataSlice\":{\"offset\":0,\"length\":128}}]}");
    assert_int_equal(account_data(at(x.j, "result.value"), g_buf, sizeof g_buf), 128);
    assert_int_equal(u64_at(x.j, "result.value.space"), 131097);
    resp_free(&x);
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" SLOT_HIST
             "\",{\"encoding\":\"base58\",\"dataSlice\":{\"offset\":131000,\"length\":1000}}]}");
    assert_int_equal(account_data(at(x.j, "result.value"), g_buf, sizeof g_buf), 97);
    resp_free(&x);
    EXPECT_ERR(
        r, -32600, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" SLOT_HIST
        "\",{\"dataSlice\":{\"offset\":0,\"length\":129}}]}");
    json_object_put(fj);
}

/* ---- accounts: the 3.x pair against the archives themselves --------------------------- */

typedef struct ref {
    acctdb_account_t a;
    uint8_t         *data;
} ref_t;

typedef struct refs {
    ref_t *v;
    size_t n, cap;
} refs_t;

static int
collect_ref(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    refs_t *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 32;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
    }
    ref_t *x = &r->v[r->n++];
    x->a = *a;
    x->data = malloc(a->data_len + 1);
    if (a->data_len) memcpy(x->data, a->data, a->data_len);
    x->a.data = x->data;
    return 0;
}

static void
refs_free(refs_t *r) {
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].data);
    free(r->v);
}

static int
ref_cmp(void const *a, void const *b) {
    return memcmp(((ref_t const *)a)->a.pubkey.b, ((ref_t const *)b)->a.pubkey.b, 32);
}

/* Every live account of the pair, read by the snapshot reader (not the
 * database), in pubkey order. */
static void
v3_refs(refs_t *out, acctdb_pubkey_t const *owner) {
    memset(out, 0, sizeof *out);
    acctdb_snapshot_t     *s = NULL;
    acctdb_snapshot_opts_t o = {.no_verify = true};
    assert_int_equal(acctdb_snapshot_open(&s, adb_test_data(V3_FULL), adb_test_data(V3_INC), &o),
                     0);
    assert_int_equal(acctdb_snapshot_iterate(s, owner, collect_ref, out), 0);
    acctdb_snapshot_close(s);
    qsort(out->v, out->n, sizeof *out->v, ref_cmp);
}

static void
check_account(json_object *v, acctdb_account_t const *a) {
    assert_int_equal(u64_at(v, "lamports"), a->lamports);
    assert_int_equal(u64_at(v, "rentEpoch"), a->rent_epoch);
    assert_int_equal(u64_at(v, "space"), a->data_len);
    assert_string_equal(str_at(v, "owner"), b58(&a->owner));
    assert_int_equal(json_object_get_boolean(at(v, "executable")), a->executable);
    size_t n = account_data(v, g_buf2, sizeof g_buf2);
    assert_int_equal(n, a->data_len);
    assert_memory_equal(g_buf2, a->data, n);
}

static void
t_account_info_v3(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.r3;
    refs_t     refs;
    v3_refs(&refs, NULL);
    assert_true(refs.n >= 21);
    size_t max_epochs = 0;
    for (size_t i = 0; i < refs.n; i++) {
        acctdb_account_t const *a = &refs.v[i].a;
        for (int e = 0; e < 2; e++) {
            resp_t x = call(
                r,
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                "{\"encoding\":\"%s\",\"commitment\":\"%s\"}]}",
                b58(&a->pubkey), e ? "base64+zstd" : "base64", e ? "processed" : "confirmed");
            expect_ok(&x);
            assert_int_equal(u64_at(x.j, "result.context.slot"), 4);
            check_account(at(x.j, "result.value"), a);
            resp_free(&x);
        }
        /* The exact text of u64::MAX. */
        if (a->rent_epoch == UINT64_MAX) {
            resp_t x = call(
                r,
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\"]}",
                b58(&a->pubkey));
            assert_non_null(strstr(x.text, "\"rentEpoch\":" U64_MAX_S ","));
            resp_free(&x);
            max_epochs++;
        }
        /* getBalance agrees. */
        resp_t x =
            call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBalance\",\"params\":[\"%s\"]}",
                 b58(&a->pubkey));
        assert_int_equal(u64_at(x.j, "result.value"), a->lamports);
        assert_int_equal(u64_at(x.j, "result.context.slot"), 4);
        resp_free(&x);
    }
    assert_true(max_epochs >= 6);
    /* getBalance of a missing account is 0. */
    resp_t x =
        call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBalance\",\"params\":[\"%s\"]}",
             b58(&(acctdb_pubkey_t){{1, 2, 3}}));
    assert_int_equal(u64_at(x.j, "result.value"), 0);
    resp_free(&x);
    /* getMultipleAccounts: request order, null where missing. */
    char   body[16384];
    size_t o = (size_t)snprintf(body, sizeof body,
                                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMultipleAccounts\","
                                "\"params\":[[");
    size_t want = 0;
    for (size_t i = refs.n; i-- > 0;) {
        o += (size_t)snprintf(body + o, sizeof body - o, "\"%s\",", b58(&refs.v[i].a.pubkey));
        want++;
        if (i == 3) {
            o += (size_t)snprintf(body + o, sizeof body - o, "\"%s\",",
                                  b58(&(acctdb_pubkey_t){{7}}));
            want++;
        }
    }
    o--; /* the last comma */
    o += (size_t)snprintf(body + o, sizeof body - o, "],{\"encoding\":\"base64\"}]}");
    x = call_raw(r, body, o);
    json_object *arr = at(x.j, "result.value");
    assert_int_equal(json_object_array_length(arr), want);
    for (size_t i = refs.n, k = 0; i-- > 0; k++) {
        check_account(json_object_array_get_idx(arr, k), &refs.v[i].a);
        if (i == 3) assert_null(json_object_array_get_idx(arr, ++k));
    }
    resp_free(&x);
    refs_free(&refs);
}

static void
t_multiple_accounts_limits(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.r42;
    char       body[16384];
    /* 100 keys (repeats allowed) answered; 101 refused. */
    for (int cnt = 100; cnt <= 101; cnt++) {
        size_t o =
            (size_t)snprintf(body, sizeof body,
                             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMultipleAccounts\","
                             "\"params\":[[");
        for (int i = 0; i < cnt; i++)
            o += (size_t)snprintf(body + o, sizeof body - o, "%s\"" VOTE "\"", i ? "," : "");
        o += (size_t)snprintf(body + o, sizeof body - o, "]]}");
        resp_t x = call_raw(r, body, o);
        if (cnt == 100)
            assert_int_equal(json_object_array_length(at(x.j, "result.value")), 100);
        else
            expect_error(&x, -32602, "Too many inputs provided; max 100");
        resp_free(&x);
    }
    /* Bad keys: Agave's ParsePubkeyError names. */
#define GMA(keys)                                                                                  \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMultipleAccounts\",\"params\":[[" keys "]]}"
    EXPECT_ERR(r, -32602, "Invalid param: WrongSize", GMA("\"" VOTE "\",\"abc\""));
    EXPECT_ERR(r, -32602, "Invalid param: Invalid", GMA("\"" VOTE "\",\"0OIl\""));
    EXPECT_ERR(r, -32602, "Invalid param: WrongSize", GMA("\"\""));
    EXPECT_ERR(r, -32602, "Invalid param: WrongSize",
               GMA("\"1111111111111111111111111111111111111111111111111\""));
    EXPECT_ERR(r, -32602, "Invalid param: Invalid",
               GMA("\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\""));
    EXPECT_ERR(r, -32602, NULL, GMA("1"));
    EXPECT_ERR(r, -32602, NULL, GMA("null"));
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMultipleAccounts\",\"params\":[\"" VOTE
        "\"]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMultipleAccounts\"}");
    /* Empty list: an empty value. */
    resp_t x = call(r, GMA(""));
    assert_int_equal(json_object_array_length(at(x.j, "result.value")), 0);
    resp_free(&x);
    /* One account over the base58 limit fails the whole call. */
    EXPECT_ERR(r, -32600, NULL, GMA("\"" VOTE "\",\"" SLOT_HIST "\""));
#undef GMA
    /* getAccountInfo's key checks. */
    EXPECT_ERR(r, -32602, "Invalid param: WrongSize",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"111\"]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[5]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[null]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" VOTE
               "\",{\"encoding\":\"hex\"}]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" VOTE
               "\",{\"encoding\":\"Base64\"}]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" VOTE
               "\",{},1]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" VOTE
               "\",\"base64\"]}");
}

/* ---- getProgramAccounts ------------------------------------------------------------- */

static resp_t
gpa(adb_rpc_t *r, char const *program, char const *cfg) {
    return call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"%s\"%s%s]}",
        program, cfg ? "," : "", cfg ? cfg : "");
}

/* The pubkeys of a gPA result array, checked sorted. */
static size_t
gpa_keys(json_object *arr, acctdb_pubkey_t *keys, size_t max) {
    size_t n = json_object_array_length(arr);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        json_object                *e = json_object_array_get_idx(arr, i);
        struct json_object_iterator it = json_object_iter_begin(e);
        assert_string_equal(json_object_iter_peek_name(&it), "account");
        keys[i] = pk(str_at(e, "pubkey"));
        if (i) assert_true(memcmp(keys[i - 1].b, keys[i].b, 32) < 0);
    }
    return n;
}

static void
t_program_accounts(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t      *r = g_fx.r42;
    acctdb_pubkey_t keys[64];
    /* Vote: two 274-byte accounts, in pubkey order, compared with the
     * fixture's bytes through base64. */
    resp_t x = gpa(r, VOTE, "{\"encoding\":\"base64\"}");
    assert_int_equal(gpa_keys(at(x.j, "result"), keys, 64), 2);
    assert_string_equal(b58(&keys[0]), "6yTd6MpgmwyaipCqe1Ny8wKRBLTjBrs43QtY7NoCEgtH");
    assert_string_equal(b58(&keys[1]), "Fe3xYB5NoFZftJ3zXZsXR16B32YPrtHcZBCgzeTUZhNc");
    assert_int_equal(u64_at(x.j, "result.0.account.space"), 274);
    assert_int_equal(u64_at(x.j, "result.1.account.lamports"), 42000000);
    resp_free(&x);
    /* No encoding: legacy binary, and 274 bytes are over the limit. */
    x = gpa(r, VOTE, NULL);
    expect_error(&x, -32600,
                 "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 "
                 "encoding.");
    resp_free(&x);
    /* ... unless sliced. */
    x = gpa(r, VOTE, "{\"dataSlice\":{\"offset\":0,\"length\":4}}");
    assert_string_equal(str_at(x.j, "result.0.account.data"), "5Sxr3"); /* 03 00 00 00 */
    resp_free(&x);
    /* System: the two small accounts, base58 and binary allowed. */
    x = gpa(r, SYSTEM, "{\"encoding\":\"base58\"}");
    assert_int_equal(json_object_array_length(at(x.j, "result")), 2);
    resp_free(&x);
    /* dataSize. */
    x = gpa(r, VOTE, "{\"encoding\":\"base64\",\"filters\":[{\"dataSize\":274}]}");
    assert_int_equal(json_object_array_length(at(x.j, "result")), 2);
    resp_free(&x);
    x = gpa(r, VOTE, "{\"encoding\":\"base64\",\"filters\":[{\"dataSize\":275}]}");
    assert_int_equal(json_object_array_length(at(x.j, "result")), 0);
    resp_free(&x);
    x = gpa(r, VOTE,
            "{\"encoding\":\"base64\",\"filters\":[{\"dataSize\":274},{\"dataSize\":273}]}");
    assert_int_equal(json_object_array_length(at(x.j, "result")), 0);
    resp_free(&x);
    /* memcmp: the two vote accounts differ at byte 4 (0x90 0x01 vs 0x90
     * 0x02); base58 (default), base64, raw bytes, "binary". */
    char const *const one[] = {
        "{\"memcmp\":{\"offset\":4,\"bytes\":\"3x1\"}}", /* base58 of 90 01? no: checked below */
        "{\"memcmp\":{\"offset\":4,\"bytes\":\"kAE=\",\"encoding\":\"base64\"}}",
        "{\"memcmp\":{\"offset\":4,\"bytes\":[144,1]}}",
        "{\"memcmp\":{\"offset\":4,\"bytes\":[144,1],\"encoding\":\"base64\"}}",
    };
    for (size_t i = 1; i < ADB_ARRAY_CNT(one); i++) {
        char cfg[256];
        snprintf(cfg, sizeof cfg, "{\"encoding\":\"base64\",\"filters\":[%s]}", one[i]);
        x = gpa(r, VOTE, cfg);
        assert_int_equal(gpa_keys(at(x.j, "result"), keys, 64), 1);
        assert_string_equal(b58(&keys[0]), "Fe3xYB5NoFZftJ3zXZsXR16B32YPrtHcZBCgzeTUZhNc");
        resp_free(&x);
    }
    char   enc58[64];
    size_t l58;
    assert_int_equal(adb_base58_encode("\x90\x01", 2, enc58, sizeof enc58, &l58), 0);
    char cfg[512];
    for (int e = 0; e < 3; e++) {
        snprintf(cfg, sizeof cfg,
                 "{\"encoding\":\"base64\",\"filters\":[{\"memcmp\":{\"offset\":4,\"bytes\":\"%s\"%"
                 "s}}]}",
                 enc58,
                 e == 0   ? ""
                 : e == 1 ? ",\"encoding\":\"base58\""
                          : ",\"encoding\":\"binary\"");
        x = gpa(r, VOTE, cfg);
        assert_int_equal(gpa_keys(at(x.j, "result"), keys, 64), 1);
        resp_free(&x);
    }
    /* Offsets at and past the end: an empty memcmp at the end matches, one
     * byte past it does not; offsets near 2^64 saturate (no match). */
    snprintf(cfg, sizeof cfg,
             "{\"encoding\":\"base64\",\"filters\":[{\"memcmp\":{\"offset\":274,\"bytes\":[]}}]}");
    x = gpa(r, VOTE, cfg);
    assert_int_equal(json_object_array_length(at(x.j, "result")), 2);
    resp_free(&x);
    char const *const none[] = {"275", "273,\"bytes\":[0,0", U64_MAX_S, "18446744073709551600"};
    for (size_t i = 0; i < ADB_ARRAY_CNT(none); i++) {
        snprintf(cfg, sizeof cfg,
                 "{\"encoding\":\"base64\",\"filters\":[{\"memcmp\":{\"offset\":%s%s]}}]}", none[i],
                 strchr(none[i], ',') ? "" : ",\"bytes\":[0");
        x = gpa(r, VOTE, cfg);
        assert_int_equal(json_object_array_length(at(x.j, "result")), 0);
        resp_free(&x);
    }
    /* tokenAccountState on a non-token program matches nothing; both
     * spellings parse. */
    x = gpa(r, VOTE, "{\"encoding\":\"base64\",\"filters\":[\"tokenAccountState\"]}");
    assert_int_equal(json_object_array_length(at(x.j, "result")), 0);
    resp_free(&x);
    x = gpa(r, VOTE, "{\"encoding\":\"base64\",\"filters\":[{\"tokenAccountState\":null}]}");
    assert_int_equal(json_object_array_length(at(x.j, "result")), 0);
    resp_free(&x);
    /* withContext wraps; sortResults false is accepted (still sorted). */
    x = gpa(r, VOTE, "{\"encoding\":\"base64\",\"withContext\":true,\"sortResults\":false}");
    assert_int_equal(u64_at(x.j, "result.context.slot"), 100);
    assert_int_equal(gpa_keys(at(x.j, "result.value"), keys, 64), 2);
    resp_free(&x);
    x = gpa(r, VOTE, "{\"encoding\":\"base64\",\"withContext\":false}");
    assert_int_equal(json_object_get_type(at(x.j, "result")), json_type_array);
    resp_free(&x);
    /* A program nobody owns by: empty. */
    x = gpa(r, TOKEN, "{\"encoding\":\"base64\"}");
    assert_int_equal(json_object_array_length(at(x.j, "result")), 0);
    resp_free(&x);

    /* Filter errors, in Agave's words. */
#define GPA_ERR(msg, filters)                                                                      \
    EXPECT_ERR(                                                                                    \
        r, -32602, msg,                                                                            \
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" VOTE      \
        "\",{\"filters\":" filters "}]}")
    GPA_ERR(
        "Too many filters provided; max 4",
        "[{\"dataSize\":1},{\"dataSize\":1},{\"dataSize\":1},{\"dataSize\":1},{\"dataSize\":1}]");
    GPA_ERR(NULL, "[{\"dataSize\":-1}]");
    GPA_ERR(NULL, "[{\"dataSize\":1.5}]");
    GPA_ERR(NULL, "[{\"dataSize\":18446744073709551616}]");
    GPA_ERR(NULL, "[{\"dataSize\":1,\"memcmp\":{}}]");
    GPA_ERR(NULL, "[{\"bogus\":1}]");
    GPA_ERR(NULL, "[\"bogus\"]");
    GPA_ERR(NULL, "[{}]");
    GPA_ERR(NULL, "[5]");
    GPA_ERR(NULL, "{\"dataSize\":1}");
    GPA_ERR(NULL, "[{\"memcmp\":{\"bytes\":\"1\"}}]");
    GPA_ERR(NULL, "[{\"memcmp\":{\"offset\":0}}]");
    GPA_ERR(NULL, "[{\"memcmp\":{\"offset\":-1,\"bytes\":\"1\"}}]");
    GPA_ERR(NULL, "[{\"memcmp\":{\"offset\":0,\"bytes\":5}}]");
    GPA_ERR(NULL, "[{\"memcmp\":{\"offset\":0,\"bytes\":[256]}}]");
    GPA_ERR(NULL, "[{\"memcmp\":{\"offset\":0,\"bytes\":[-1]}}]");
    GPA_ERR(NULL, "[{\"memcmp\":{\"offset\":0,\"bytes\":\"1\",\"encoding\":\"hex\"}}]");
    GPA_ERR("Invalid param: Base58DecodeError", "[{\"memcmp\":{\"offset\":0,\"bytes\":\"0OIl\"}}]");
    GPA_ERR("Invalid param: Base64DecodeError",
            "[{\"memcmp\":{\"offset\":0,\"bytes\":\"a\",\"encoding\":\"base64\"}}]");
    GPA_ERR("Invalid param: Base64DecodeError",
            "[{\"memcmp\":{\"offset\":0,\"bytes\":\"a b=\",\"encoding\":\"base64\"}}]");
    /* Even a bad filter after too many is a type error first; too many
     * before any bytes are decoded. */
    GPA_ERR("Too many filters provided; max 4",
            "[{\"dataSize\":1},{\"dataSize\":1},{\"dataSize\":1},{\"dataSize\":1},{\"memcmp\":{"
            "\"offset\":0,\"bytes\":\"0\"}}]");
#undef GPA_ERR
    /* memcmp sizes: 128 decoded bytes pass, 129 do not (base58 128 '1's
     * = 128 zero bytes; 175 chars max; base64 172 chars max; raw 128). */
    char *big = malloc(8192);
    for (int n = 128; n <= 129; n++) {
        size_t o = (size_t)snprintf(
            big, 8192,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" VOTE
            "\",{\"encoding\":\"base64\",\"filters\":[{\"memcmp\":{\"offset\":0,\"bytes\":\"");
        memset(big + o, '1', (size_t)n);
        o += (size_t)n;
        o += (size_t)snprintf(big + o, 8192 - o, "\"}}]}]}");
        x = call_raw(r, big, o);
        if (n == 128)
            assert_int_equal(json_object_array_length(at(x.j, "result")), 0);
        else
            expect_error(&x, -32602, "Invalid param: DataTooLarge");
        resp_free(&x);
        o = (size_t)snprintf(
            big, 8192,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" VOTE
            "\",{\"encoding\":\"base64\",\"filters\":[{\"memcmp\":{\"offset\":0,\"bytes\":[");
        for (int i = 0; i < n; i++)
            o += (size_t)snprintf(big + o, 8192 - o, "%s3", i ? "," : "");
        o += (size_t)snprintf(big + o, 8192 - o, "]}}]}]}");
        x = call_raw(r, big, o);
        if (n == 128)
            expect_ok(&x);
        else
            expect_error(&x, -32602, "Invalid param: DataTooLarge");
        resp_free(&x);
        /* base64 of n bytes. */
        uint8_t raw[129];
        memset(raw, 0xff, sizeof raw);
        char b64[200];
        adb_rpc_b64_encode(raw, (size_t)n, b64);
        x = call(
            r,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" VOTE
            "\",{\"encoding\":\"base64\",\"filters\":[{\"memcmp\":{\"offset\":0,\"bytes\":\"%s\","
            "\"encoding\":\"base64\"}}]}]}",
            b64);
        if (n == 128)
            expect_ok(&x);
        else
            expect_error(&x, -32602, "Invalid param: DataTooLarge");
        resp_free(&x);
    }
    /* 176 base58 characters are refused before decoding. */
    size_t o = (size_t)snprintf(
        big, 8192,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" VOTE
        "\",{\"filters\":[{\"memcmp\":{\"offset\":0,\"bytes\":\"");
    memset(big + o, 'z', 176);
    o += 176;
    o += (size_t)snprintf(big + o, 8192 - o, "\"}}]}]}");
    x = call_raw(r, big, o);
    expect_error(&x, -32602, "Invalid param: DataTooLarge");
    resp_free(&x);
    free(big);
    /* Bad program keys. */
    EXPECT_ERR(
        r, -32602, "Invalid param: WrongSize",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"abc\"]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" VOTE
               "\",{\"withContext\":1}]}");
}

/* Pagination: pages of `limit`, each starting after the last key of the
 * one before, until paginationKey is null; the pages add up to the whole
 * list.  Also getProgramAccountsV2 (a default limit). */
static void
t_program_accounts_pages(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t      *r = g_fx.r3;
    refs_t          refs;
    acctdb_pubkey_t sys = pk(SYSTEM);
    v3_refs(&refs, &sys);
    assert_true(refs.n >= 6);
    for (uint64_t limit = 1; limit <= refs.n + 1; limit++) {
        char   key[64] = "";
        size_t seen = 0;
        for (int page = 0; page < 64; page++) {
            char cfg[256];
            snprintf(cfg, sizeof cfg, "{\"encoding\":\"base64\",\"limit\":%llu%s%s%s%s}",
                     (unsigned long long)limit, key[0] ? ",\"paginationKey\":\"" : "", key,
                     key[0] ? "\"" : "", page & 1 ? ",\"withContext\":true" : "");
            resp_t       x = gpa(r, SYSTEM, cfg);
            json_object *v = at(x.j, page & 1 ? "result.value" : "result");
            if (page & 1) assert_int_equal(u64_at(x.j, "result.context.slot"), 4);
            json_object *accts = at(v, "accounts");
            size_t       n = json_object_array_length(accts);
            assert_true(n <= limit);
            for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(accts, i);
                assert_true(seen < refs.n);
                assert_string_equal(str_at(e, "pubkey"), b58(&refs.v[seen].a.pubkey));
                check_account(at(e, "account"), &refs.v[seen].a);
                seen++;
            }
            json_object *k = at(v, "paginationKey");
            if (!k) {
                resp_free(&x);
                break;
            }
            snprintf(key, sizeof key, "%s", json_object_get_string(k));
            assert_string_equal(key, b58(&refs.v[seen - 1].a.pubkey));
            resp_free(&x);
        }
        assert_int_equal(seen, refs.n);
    }
    /* getProgramAccountsV2: the paged shape without a limit. */
    resp_t x = call(
        r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccountsV2\",\"params\":[\"" SYSTEM
           "\",{\"encoding\":\"base64\"}]}");
    assert_int_equal(json_object_array_length(at(x.j, "result.accounts")), refs.n);
    assert_null(at(x.j, "result.paginationKey"));
    resp_free(&x);
    /* changedSinceSlot: only versions written at or after it. */
    x = call(
        r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccountsV2\",\"params\":[\"" SYSTEM
           "\",{\"encoding\":\"base64\",\"changedSinceSlot\":4}]}");
    size_t n4 = json_object_array_length(at(x.j, "result.accounts"));
    assert_true(n4 >= 1 && n4 < refs.n);
    resp_free(&x);
    /* Limits of the limit. */
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
        "\",{\"limit\":0}]}");
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
        "\",{\"limit\":10001}]}");
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
        "\",{\"limit\":-1}]}");
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
        "\",{\"paginationKey\":\"xyz\"}]}");
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
        "\",{\"paginationKey\":5}]}");
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
             "\",{\"encoding\":\"base64\",\"limit\":10000}]}");
    assert_int_equal(json_object_array_length(at(x.j, "result.accounts")), refs.n);
    resp_free(&x);
    refs_free(&refs);
}

/* ---- jsonParsed: SPL Token and Token-2022 ----------------------------------------- */

static resp_t
info_parsed(adb_rpc_t *r, acctdb_pubkey_t const *k) {
    return call(r,
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                "{\"encoding\":\"jsonParsed\"}]}",
                b58(k));
}

/* The "data" member's text of a getAccountInfo answer. */
static char const *
data_text(resp_t *x) {
    return json_object_to_json_string_ext(at(x->j, "result.value.data"), JSON_C_TO_STRING_PLAIN);
}

static void
t_token_parsed(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t      *r = g_fx.rlive;
    acctdb_pubkey_t auth = key_of("authority"), del = key_of("delegate"),
                    other = key_of("other wallet");
    char want[4096];
    /* The mint. */
    resp_t x = info_parsed(r, &g_mint);
    snprintf(
        want, sizeof want,
        "{\"parsed\":{\"info\":{\"decimals\":6,\"freezeAuthority\":null,\"isInitialized\":true,"
        "\"mintAuthority\":\"%s\",\"supply\":\"1000000000\"},\"type\":\"mint\"},\"program\":"
        "\"spl-token\",\"space\":82}",
        b58(&auth));
    assert_string_equal(data_text(&x), want);
    assert_int_equal(u64_at(x.j, "result.context.slot"), 101);
    resp_free(&x);
    /* A plain account: 1234567 at 6 decimals. */
    x = info_parsed(r, &g_tok1);
    snprintf(
        want, sizeof want,
        "{\"parsed\":{\"info\":{\"isNative\":false,\"mint\":\"%s\",\"owner\":\"%s\",\"state\":"
        "\"initialized\",\"tokenAmount\":{\"amount\":\"1234567\",\"decimals\":6,\"uiAmount\":1."
        "234567,\"uiAmountString\":\"1.234567\"}},\"type\":\"account\"},\"program\":"
        "\"spl-token\",\"space\":165}",
        b58(&g_mint), b58(&g_wallet));
    assert_string_equal(data_text(&x), want);
    /* The raw text keeps Agave's key order too. */
    assert_non_null(
        strstr(x.text, "{\"data\":{\"parsed\":{\"info\":{\"isNative\":false,\"mint\":"));
    resp_free(&x);
    /* Every optional member: delegate, delegated amount, native reserve,
     * close authority, frozen. */
    x = info_parsed(r, &g_tok2);
    snprintf(
        want, sizeof want,
        "{\"parsed\":{\"info\":{\"closeAuthority\":\"%s\",\"delegate\":\"%s\",\"delegatedAmount\":"
        "{\"amount\":\"7\",\"decimals\":6,\"uiAmount\":7e-06,\"uiAmountString\":\"0.000007\"},"
        "\"isNative\":true,\"mint\":\"%s\",\"owner\":\"%s\",\"rentExemptReserve\":{\"amount\":"
        "\"2039280\",\"decimals\":6,\"uiAmount\":2.03928,\"uiAmountString\":\"2.03928\"},\"state\":"
        "\"frozen\",\"tokenAmount\":{\"amount\":\"42\",\"decimals\":6,\"uiAmount\":4.2e-05,"
        "\"uiAmountString\":\"0.000042\"}},\"type\":\"account\"},\"program\":\"spl-token\","
        "\"space\":165}",
        b58(&auth), b58(&del), b58(&g_mint), b58(&g_wallet));
    assert_string_equal(data_text(&x), want);
    /* uiAmount is the same number Agave prints (7e-06 == 0.000007). */
    assert_true(json_object_get_double(
                    at(x.j, "result.value.data.parsed.info.delegatedAmount.uiAmount")) == 0.000007);
    resp_free(&x);
    /* The multisig. */
    x = info_parsed(r, &g_multisig);
    snprintf(want, sizeof want,
             "{\"parsed\":{\"info\":{\"isInitialized\":true,\"numRequiredSigners\":2,"
             "\"numValidSigners\":3,\"signers\":[\"%s\",\"%s\",\"%s\"]},\"type\":\"multisig\"},"
             "\"program\":\"spl-token\",\"space\":355}",
             b58(&auth), b58(&del), b58(&other));
    assert_string_equal(data_text(&x), want);
    resp_free(&x);
    /* Token-2022: a mint with one good and one malformed extension, an
     * account with immutableOwner and transferFeeAmount; decimals 0. */
    x = info_parsed(r, &g_mint22);
    snprintf(want, sizeof want,
             "{\"parsed\":{\"info\":{\"decimals\":0,\"extensions\":[{\"extension\":"
             "\"mintCloseAuthority\",\"state\":{\"closeAuthority\":\"%s\"}},{\"extension\":"
             "\"unparseableExtension\"}],\"freezeAuthority\":null,\"isInitialized\":true,"
             "\"mintAuthority\":\"%s\",\"supply\":\"0\"},\"type\":\"mint\"},\"program\":"
             "\"spl-token-2022\",\"space\":216}",
             b58(&auth), b58(&auth));
    assert_string_equal(data_text(&x), want);
    resp_free(&x);
    x = info_parsed(r, &g_tok22);
    snprintf(
        want, sizeof want,
        "{\"parsed\":{\"info\":{\"extensions\":[{\"extension\":\"immutableOwner\"},{\"extension\":"
        "\"transferFeeAmount\",\"state\":{\"withheldAmount\":3}}],\"isNative\":false,\"mint\":"
        "\"%s\",\"owner\":\"%s\",\"state\":\"initialized\",\"tokenAmount\":{\"amount\":\"77\","
        "\"decimals\":0,\"uiAmount\":77,\"uiAmountString\":\"77\"}},\"type\":\"account\"},"
        "\"program\":\"spl-token-2022\",\"space\":182}",
        b58(&g_mint22), b58(&g_wallet));
    assert_string_equal(data_text(&x), want);
    resp_free(&x);
    /* What Agave cannot parse falls back to base64 of the whole data, even
     * with a dataSlice: an uninitialized account, one whose mint is
     * missing. */
    acctdb_pubkey_t const *fallback[] = {&g_uninit, &g_orphan};
    for (int i = 0; i < 2; i++) {
        x = call(r,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                 "{\"encoding\":\"jsonParsed\",\"dataSlice\":{\"offset\":0,\"length\":3}}]}",
                 b58(fallback[i]));
        assert_string_equal(str_at(x.j, "result.value.data.1"), "base64");
        assert_int_equal(account_data(at(x.j, "result.value"), g_buf, sizeof g_buf), 165);
        resp_free(&x);
    }
    /* Non-token accounts: base64 of the slice. */
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
             "{\"encoding\":\"jsonParsed\",\"dataSlice\":{\"offset\":5,\"length\":100}}]}",
             b58(&g_testdata));
    assert_string_equal(str_at(x.j, "result.value.data.0"), "ZGF0YQ=="); /* "data" */
    assert_string_equal(str_at(x.j, "result.value.data.1"), "base64");
    resp_free(&x);

    /* getTokenAccountsByOwner: by mint and by program; jsonParsed leaves
     * out what does not parse. */
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"mint\":\"%s\"},{\"encoding\":\"jsonParsed\"}]}",
        b58(&g_wallet), b58(&g_mint));
    acctdb_pubkey_t keys[16];
    size_t          n = gpa_keys(at(x.j, "result.value"), keys, 16);
    assert_int_equal(n, 2); /* tok1, tok2 (uninit and the other owner's left out) */
    for (size_t i = 0; i < n; i++) {
        assert_true(!memcmp(keys[i].b, g_tok1.b, 32) || !memcmp(keys[i].b, g_tok2.b, 32));
        assert_string_equal(str_at(json_object_array_get_idx(at(x.j, "result.value"), i),
                                   "account.data.parsed.type"),
                            "account");
    }
    assert_int_equal(u64_at(x.j, "result.context.slot"), 101);
    resp_free(&x);
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"programId\":\"" TOKEN "\"},{\"encoding\":\"jsonParsed\"}]}",
        b58(&g_wallet));
    assert_int_equal(gpa_keys(at(x.j, "result.value"), keys, 16), 2); /* orphan left out */
    resp_free(&x);
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"programId\":\"" TOKEN "\"},{\"encoding\":\"base64\"}]}",
        b58(&g_wallet));
    assert_int_equal(gpa_keys(at(x.j, "result.value"), keys, 16), 3); /* with the orphan */
    resp_free(&x);
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"programId\":\"" TOKEN22 "\"},{\"encoding\":\"jsonParsed\"}]}",
        b58(&g_wallet));
    assert_int_equal(gpa_keys(at(x.j, "result.value"), keys, 16), 1);
    assert_string_equal(str_at(x.j, "result.value.0.account.data.program"), "spl-token-2022");
    resp_free(&x);
    /* ... and base64 leaves out what is not a valid token account (odd22). */
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"programId\":\"" TOKEN22 "\"},{\"encoding\":\"base64\"}]}",
        b58(&g_wallet));
    assert_int_equal(gpa_keys(at(x.j, "result.value"), keys, 16), 1);
    assert_memory_equal(keys[0].b, g_tok22.b, 32);
    resp_free(&x);
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"mint\":\"%s\"},{\"encoding\":\"base64\",\"dataSlice\":{\"offset\":64,\"length\":8}}]}",
        b58(&g_wallet), b58(&g_mint22));
    assert_int_equal(json_object_array_length(at(x.j, "result.value")), 1);
    assert_int_equal(account_data(at(x.j, "result.value.0.account"), g_buf, sizeof g_buf), 8);
    assert_int_equal(g_buf[0], 77);
    resp_free(&x);
    /* Default encoding is binary: 165 bytes are over the limit. */
    EXPECT_ERR(
        r, -32600, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"mint\":\"%s\"}]}",
        b58(&g_wallet), b58(&g_mint));
    /* An owner with nothing. */
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"programId\":\"" TOKEN "\"}]}",
        b58(&g_mint));
    assert_int_equal(json_object_array_length(at(x.j, "result.value")), 0);
    resp_free(&x);
    /* Agave's errors. */
#define TAO(filter)                                                                                \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%"         \
    "s\"," filter "]}"
    EXPECT_ERR(r, -32602, "Invalid param: could not find mint", TAO("{\"mint\":\"%s\"}"),
               b58(&g_wallet), b58(&(acctdb_pubkey_t){{5}}));
    EXPECT_ERR(r, -32602, "Invalid param: Token mint could not be unpacked",
               TAO("{\"mint\":\"%s\"}"), b58(&g_wallet), b58(&g_tok1));
    EXPECT_ERR(r, -32602, "Invalid param: unrecognized Token program id",
               TAO("{\"programId\":\"" SYSTEM "\"}"), b58(&g_wallet));
    EXPECT_ERR(r, -32602, NULL, TAO("{}"), b58(&g_wallet));
    EXPECT_ERR(r, -32602, NULL, TAO("{\"mint\":\"%s\",\"programId\":\"" TOKEN "\"}"),
               b58(&g_wallet), b58(&g_mint));
    EXPECT_ERR(r, -32602, NULL, TAO("{\"owner\":\"%s\"}"), b58(&g_wallet), b58(&g_mint));
    EXPECT_ERR(r, -32602, NULL, TAO("\"" TOKEN "\""), b58(&g_wallet));
    EXPECT_ERR(r, -32602, "Invalid param: WrongSize", TAO("{\"mint\":\"abc\"}"), b58(&g_wallet));
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\"]}",
        b58(&g_wallet));
#undef TAO
    /* A native-mint query needs no mint account. */
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"mint\":\"So11111111111111111111111111111111111111112\"},{\"encoding\":\"base64\"}]}",
        b58(&g_wallet));
    assert_int_equal(json_object_array_length(at(x.j, "result.value")), 0);
    resp_free(&x);

    /* getProgramAccounts over the token program: jsonParsed leaves out what
     * does not parse; the token index answers an owner query. */
    x = gpa(r, TOKEN, "{\"encoding\":\"jsonParsed\"}");
    n = gpa_keys(at(x.j, "result"), keys, 16);
    assert_int_equal(n, 5); /* mint, tok1, tok2, tok3, multisig */
    resp_free(&x);
    x = gpa(r, TOKEN, "{\"encoding\":\"base64\"}");
    assert_int_equal(gpa_keys(at(x.j, "result"), keys, 16), 7);
    resp_free(&x);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"encoding\":\"base64\",\"filters\":[{\"dataSize\":165},{\"memcmp\":{\"offset\":32,"
             "\"bytes\":\"%s\"}}]}",
             b58(&g_wallet));
    x = gpa(r, TOKEN, cfg);
    assert_int_equal(gpa_keys(at(x.j, "result"), keys, 16),
                     3); /* tok1 tok2 orphan (indexed: no uninit) */
    resp_free(&x);
    snprintf(
        cfg, sizeof cfg,
        "{\"encoding\":\"base64\",\"filters\":[\"tokenAccountState\",{\"memcmp\":{\"offset\":0,"
        "\"bytes\":\"%s\"}}]}",
        b58(&g_mint));
    x = gpa(r, TOKEN, cfg);
    assert_int_equal(gpa_keys(at(x.j, "result"), keys, 16), 3); /* tok1 tok2 tok3 */
    resp_free(&x);
    snprintf(cfg, sizeof cfg,
             "{\"encoding\":\"base64\",\"filters\":[{\"memcmp\":{\"offset\":0,\"bytes\":\"%s\"}}]}",
             b58(&g_mint));
    x = gpa(r, TOKEN, cfg);
    assert_int_equal(gpa_keys(at(x.j, "result"), keys, 16), 4); /* + uninit: no index shape */
    resp_free(&x);
    /* Token-2022 with the account type byte filter. */
    x = gpa(
        r, TOKEN22,
        "{\"encoding\":\"jsonParsed\",\"filters\":[{\"memcmp\":{\"offset\":165,\"bytes\":[2]}}]}");
    assert_int_equal(gpa_keys(at(x.j, "result"), keys, 16), 1);
    resp_free(&x);
}

/* ---- encodings: byte-exact zstd, big data ------------------------------------------ */

static void
t_encodings_exact(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.rlive;
    /* Kit's fixtures: "test data" in each encoding. */
    struct {
        char const *enc, *data;
    } const want[] = {
        {NULL, "\"2Uw1bpnsXxu3e\""},
        {"binary", "\"2Uw1bpnsXxu3e\""},
        {"base58", "[\"2Uw1bpnsXxu3e\",\"base58\"]"},
        {"base64", "[\"dGVzdCBkYXRh\",\"base64\"]"},
        {"base64+zstd", "[\"KLUv/QBYSQAAdGVzdCBkYXRh\",\"base64+zstd\"]"},
        {"jsonParsed", "[\"dGVzdCBkYXRh\",\"base64\"]"},
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(want); i++) {
        char cfg[64] = "";
        if (want[i].enc) snprintf(cfg, sizeof cfg, ",{\"encoding\":\"%s\"}", want[i].enc);
        resp_t x = call(
            r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\"%s]}",
            b58(&g_testdata), cfg);
        char exp[512];
        snprintf(
            exp, sizeof exp,
            "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"apiVersion\":\"%s\",\"slot\":101},"
            "\"value\":{\"data\":%s,\"executable\":false,\"lamports\":1000,\"owner\":\"" SYSTEM
            "\",\"rentEpoch\":" U64_MAX_S ",\"space\":9}},\"id\":1}",
            acctdb_version(), want[i].data);
        assert_string_equal(x.text, exp);
        resp_free(&x);
    }
    /* Sliced: "data" from offset 5. */
    resp_t x =
        call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
             "{\"encoding\":\"base64+zstd\",\"dataSlice\":{\"offset\":5,\"length\":4}}]}",
             b58(&g_testdata));
    assert_int_equal(account_data(at(x.j, "result.value"), g_buf, sizeof g_buf), 4);
    assert_memory_equal(g_buf, "data", 4);
    resp_free(&x);
    /* Zero bytes in each encoding. */
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
             "{\"encoding\":\"base64+zstd\",\"dataSlice\":{\"offset\":9,\"length\":4}}]}",
             b58(&g_testdata));
    assert_int_equal(account_data(at(x.j, "result.value"), g_buf, sizeof g_buf), 0);
    resp_free(&x);
    /* 200000 bytes through base64 and zstd, whole and sliced. */
    for (int e = 0; e < 2; e++) {
        x = call(r,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                 "{\"encoding\":\"%s\"}]}",
                 b58(&g_big), e ? "base64+zstd" : "base64");
        assert_int_equal(account_data(at(x.j, "result.value"), g_buf, sizeof g_buf),
                         sizeof g_big_data);
        assert_memory_equal(g_buf, g_big_data, sizeof g_big_data);
        resp_free(&x);
        x = call(r,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                 "{\"encoding\":\"%s\",\"dataSlice\":{\"offset\":100000,\"length\":65537}}]}",
                 b58(&g_big), e ? "base64+zstd" : "base64");
        assert_int_equal(account_data(at(x.j, "result.value"), g_buf, sizeof g_buf), 65537);
        assert_memory_equal(g_buf, g_big_data + 100000, 65537);
        resp_free(&x);
    }
    /* The zstd frame has no content size and no checksum, window 2 MiB. */
    adb_rpc_call_t c;
    memset(&c, 0, sizeof c);
    c.r = r;
    size_t zn;
    assert_int_equal(adb_rpc_zstd(&c, g_big_data, sizeof g_big_data, &zn), 0);
    assert_memory_equal(c.zbuf, "\x28\xb5\x2f\xfd\x00\x58", 6);
    adb_rpc_call_fini(&c);
    /* base64 codec edges. */
    char    t[16];
    uint8_t b[16];
    assert_int_equal(adb_rpc_b64_encode("", 0, t), 0);
    assert_int_equal(adb_rpc_b64_encode("f", 1, t), 4);
    assert_string_equal(t, "Zg==");
    assert_int_equal(adb_rpc_b64_encode("fo", 2, t), 4);
    assert_string_equal(t, "Zm8=");
    assert_int_equal(adb_rpc_b64_decode("Zm9v", 4, b, sizeof b), 3);
    assert_int_equal(adb_rpc_b64_decode("Zg==", 4, b, sizeof b), 1);
    assert_int_equal(adb_rpc_b64_decode("Zh==", 4, b, sizeof b), -1); /* trailing bits */
    assert_int_equal(adb_rpc_b64_decode("Zg=", 3, b, sizeof b), -1);
    assert_int_equal(adb_rpc_b64_decode("Z===", 4, b, sizeof b), -1);
    assert_int_equal(adb_rpc_b64_decode("=Zg=", 4, b, sizeof b), -1);
    assert_int_equal(adb_rpc_b64_decode("Zg==Zg==", 8, b, sizeof b), -1);
    assert_int_equal(adb_rpc_b64_decode("Zm9v", 4, b, 2), -1);
}

/* ---- commitment and minContextSlot ---------------------------------------------------- */

static void
t_commitment(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.rlive;
    /* Root 101; 102 frozen on it; confirmed = root until marked. */
    struct {
        char const *cfg;
        uint64_t    slot;
        char const *data;
    } const c1[] = {
        {"", 101, "v1"},
        {",{\"commitment\":\"finalized\"}", 101, "v1"},
        {",{\"commitment\":\"confirmed\"}", 101, "v1"},
        {",{\"commitment\":\"processed\"}", 102, "v2"},
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(c1); i++) {
        resp_t x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[%s]}",
                        c1[i].cfg[0] ? c1[i].cfg + 1 : "");
        assert_int_equal(u64_at(x.j, "result"), c1[i].slot);
        resp_free(&x);
        x = call(
            r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\"%s]}",
            b58(&g_changing), c1[i].cfg);
        assert_int_equal(u64_at(x.j, "result.context.slot"), c1[i].slot);
        assert_string_equal(str_at(x.j, "result.value.data"), c1[i].data[1] == '1' ? "9zg" : "9zh");
        resp_free(&x);
        x = call(r,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBalance\",\"params\":[\"%s\"%s]}",
                 b58(&g_changing), c1[i].cfg);
        assert_int_equal(u64_at(x.j, "result.value"), c1[i].data[1] == '1' ? 1 : 2);
        resp_free(&x);
    }
    assert_int_equal(acctdb_db_confirm(g_fx.live, 102), 0);
    resp_t x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{"
                       "\"commitment\":\"confirmed\"}]}");
    assert_int_equal(u64_at(x.j, "result"), 102);
    resp_free(&x);
    /* minContextSlot: a floor on the chosen slot. */
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{"
                "\"minContextSlot\":101}]}");
    assert_int_equal(u64_at(x.j, "result"), 101);
    resp_free(&x);
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":\"k\",\"method\":\"getAccountInfo\",\"params\":[\"%s\","
             "{\"minContextSlot\":102}]}",
             b58(&g_changing));
    assert_string_equal(x.text,
                        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32016,\"message\":\"Minimum "
                        "context slot has not been reached\",\"data\":{\"contextSlot\":101}},"
                        "\"id\":\"k\"}");
    resp_free(&x);
    char const *const methods[] = {"getSlot",
                                   "getBalance",
                                   "getAccountInfo",
                                   "getMultipleAccounts",
                                   "getProgramAccounts",
                                   "getTokenAccountsByOwner"};
    char const *const args[] = {
        "",          "\"%s\",",         "\"%s\",",
        "[\"%s\"],", "\"" SYSTEM "\",", "\"%s\",{\"programId\":\"" TOKEN "\"},"};
    for (size_t i = 0; i < ADB_ARRAY_CNT(methods); i++) {
        char a[256];
        snprintf(a, sizeof a, args[i], b58(&g_wallet));
        /* Kit's test value: 2^63 - 1. */
        x = call(r,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":[%s{\"commitment\":"
                 "\"processed\",\"minContextSlot\":9223372036854775807}]}",
                 methods[i], a);
        expect_error(&x, -32016, "Minimum context slot has not been reached");
        assert_int_equal(u64_at(x.j, "error.data.contextSlot"), 102);
        resp_free(&x);
    }
    /* Commitment spellings Agave no longer takes. */
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{\"commitment\":"
               "\"recent\"}]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{\"commitment\":"
               "\"Finalized\"}]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[1]}");
    EXPECT_ERR(r, -32602, NULL,
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{},{}]}");
}

/* ---- the other methods --------------------------------------------------------------- */

/* A copy of a bundled archive in dir (the finder takes regular files). */
static void
link_archive(char const *dir, char const *name) {
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    size_t   sz;
    uint8_t *d = adb_test_read_file(adb_test_data(name), &sz);
    FILE    *f = fopen(dst, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, sz, f), sz);
    fclose(f);
    free(d);
}

static void
t_other_methods(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.r3;
    resp_t     x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHealth\"}");
    assert_string_equal(x.text, "{\"jsonrpc\":\"2.0\",\"result\":\"ok\",\"id\":1}");
    resp_free(&x);
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getVersion\",\"params\":[]}");
    char want[256];
    snprintf(want, sizeof want,
             "{\"jsonrpc\":\"2.0\",\"result\":{\"feature-set\":0,\"solana-core\":\"%s\"},\"id\":1}",
             acctdb_version());
    assert_string_equal(x.text, want);
    resp_free(&x);
    /* Genesis hash: not known for a database made from archives ... */
    EXPECT_ERR(r, -32603, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getGenesisHash\"}");
    /* ... known from the options. */
    adb_rpc_opts_t o = {.db = g_fx.v3, .has_genesis_hash = true};
    memset(o.genesis_hash.b, 0x11, 32);
    adb_rpc_t *rg = NULL;
    adb_err_t  e;
    adb_err_clear(&e);
    assert_int_equal(adb_rpc_new(&o, &rg, &e), 0);
    x = call(rg, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getGenesisHash\"}");
    assert_string_equal(
        str_at(x.j, "result"),
        b58(&(acctdb_pubkey_t){{0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11}}));
    resp_free(&x);
    adb_rpc_free(rg);
    /* getHighestSnapshotSlot: none without a directory, -32008. */
    x = call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHighestSnapshotSlot\"}");
    assert_string_equal(x.text, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32008,\"message\":\"No "
                                "snapshot\"},\"id\":1}");
    resp_free(&x);
    char snaps[4200];
    snprintf(snaps, sizeof snaps, "%s/snaps", g_fx.tmp);
    assert_int_equal(mkdir(snaps, 0755), 0);
    adb_rpc_t *rs = rpc_on(g_fx.v3, snaps);
    EXPECT_ERR(rs, -32008, "No snapshot",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHighestSnapshotSlot\"}");
    link_archive(snaps, V3_FULL);
    x = call(rs, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHighestSnapshotSlot\"}");
    assert_string_equal(
        x.text, "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":1,\"incremental\":null},\"id\":1}");
    resp_free(&x);
    link_archive(snaps, V3_INC);
    x = call(rs,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHighestSnapshotSlot\",\"params\":[]}");
    assert_string_equal(x.text,
                        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":1,\"incremental\":4},\"id\":1}");
    resp_free(&x);
    /* A newer full (slot 10) whose incremental (25) is based on it. */
    link_archive(snaps, "snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst");
    link_archive(snaps,
                 "incremental-snapshot-10-25-GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS.tar.zst");
    x = call(rs, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHighestSnapshotSlot\"}");
    assert_int_equal(u64_at(x.j, "result.full"), 10);
    assert_int_equal(u64_at(x.j, "result.incremental"), 25);
    resp_free(&x);
    adb_rpc_free(rs);
    EXPECT_ERR(
        r, -32602, NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHighestSnapshotSlot\",\"params\":[1]}");
}

/* ---- the response cap ------------------------------------------------------------------- */

static void
t_response_cap(void **state) {
    (void)state;
    fx_need();
    adb_rpc_opts_t o = {.db = g_fx.v3, .max_response_sz = 4096};
    adb_rpc_t     *r = NULL;
    adb_err_t      e;
    adb_err_clear(&e);
    assert_int_equal(adb_rpc_new(&o, &r, &e), 0);
    /* The sysvars are well over 4 KiB: the answer points to pagination. */
    resp_t x = gpa(r, SYSVAR, "{\"encoding\":\"base64\"}");
    expect_error(&x, -32012, NULL);
    assert_non_null(strstr(str_at(x.j, "error.message"), "paginationKey"));
    resp_free(&x);
    /* ... and paging with a slice fits. */
    x = gpa(r, SYSVAR,
            "{\"encoding\":\"base64\",\"limit\":2,\"dataSlice\":{\"offset\":0,\"length\":8}}");
    assert_int_equal(json_object_array_length(at(x.j, "result.accounts")), 2);
    assert_non_null(at(x.j, "result.paginationKey"));
    resp_free(&x);
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" SLOT_HIST
             "\",{\"encoding\":\"base64\"}]}");
    expect_error(&x, -32012, NULL);
    assert_non_null(strstr(str_at(x.j, "error.message"), "dataSlice"));
    resp_free(&x);
    x = call(r,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"" SLOT_HIST
             "\",{\"encoding\":\"base64+zstd\"}]}");
    expect_ok(&x); /* 131 KB of mostly zeros compress well */
    resp_free(&x);
    x = call(
        r,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMultipleAccounts\",\"params\":[[\"" SLOT_HIST
        "\"],{\"encoding\":\"base64\"}]}");
    expect_error(&x, -32012, NULL);
    resp_free(&x);
    /* A batch whose answers add up past the cap: the later ones fail. */
    char   body[8192];
    size_t n = 0;
    body[n++] = '[';
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(
            body + n, sizeof body - n,
            "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"getAccountInfo\",\"params\":[\"" SYSTEM
            "\",{\"encoding\":\"base64\"}]}",
            i ? "," : "", i);
    body[n++] = ']';
    x = call_raw(r, body, n);
    assert_int_equal(json_object_array_length(x.j), 40);
    assert_true(has(at(x.j, "0"), "result"));
    assert_int_equal(json_object_get_int(at(x.j, "39.error.code")), -32012);
    assert_true(x.sz < 4096 + 40 * 200);
    resp_free(&x);
    adb_rpc_free(r);
}

/* ---- hostile input: a seeded mutation sweep ---------------------------------------------- */

static void
check_answer(resp_t *x) {
    assert_true(x->status == 200 || x->status == 413);
    if (!x->j) return;
    json_object *e = x->j;
    if (json_object_get_type(e) == json_type_array) {
        assert_true(json_object_array_length(e) > 0);
        e = json_object_array_get_idx(e, 0);
    }
    assert_int_equal(json_object_get_type(e), json_type_object);
    assert_string_equal(str_at(e, "jsonrpc"), "2.0");
    assert_true(has(e, "result") != has(e, "error"));
    assert_true(has(e, "id"));
}

static void
t_mutations(void **state) {
    (void)state;
    fx_need();
    char seeds[8][512];
    snprintf(seeds[0], 512,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\",{"
             "\"encoding\":\"jsonParsed\",\"dataSlice\":{\"offset\":1,\"length\":9}}]}",
             b58(&g_tok2));
    snprintf(
        seeds[1], 512,
        "{\"jsonrpc\":\"2.0\",\"id\":\"2\",\"method\":\"getProgramAccounts\",\"params\":[\"" TOKEN
        "\",{\"encoding\":\"base64+zstd\",\"filters\":[{\"dataSize\":165},{\"memcmp\":{\"offset\":"
        "32,\"bytes\":\"%s\"}}],\"withContext\":true}]}",
        b58(&g_wallet));
    snprintf(seeds[2], 512,
             "[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"getMultipleAccounts\",\"params\":[[\"%"
             "s\",\"%s\"],{\"encoding\":\"base58\",\"commitment\":\"processed\"}]},{\"jsonrpc\":"
             "\"2.0\",\"id\":4,\"method\":\"getSlot\"}]",
             b58(&g_testdata), b58(&g_mint));
    snprintf(seeds[3], 512,
             "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%"
             "s\",{\"mint\":\"%s\"},{\"encoding\":\"jsonParsed\",\"minContextSlot\":3}]}",
             b58(&g_wallet), b58(&g_mint));
    snprintf(seeds[4], 512,
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
             "\",{\"encoding\":\"base64\",\"limit\":2,\"paginationKey\":\"%s\",\"filters\":[{"
             "\"memcmp\":{\"offset\":0,\"bytes\":\"dGVzdA==\",\"encoding\":\"base64\"}}]}]}",
             b58(&g_testdata));
    snprintf(seeds[5], 512,
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"getMinimumBalanceForRentExemption\","
             "\"params\":[18446744073709551615,{\"commitment\":\"confirmed\"}]}");
    snprintf(seeds[6], 512,
             "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"getBalance\",\"params\":[\"%s\",{"
             "\"minContextSlot\":101}]}",
             b58(&g_changing));
    snprintf(
        seeds[7], 512,
        "[{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"getHighestSnapshotSlot\"},{\"jsonrpc\":\"2."
        "0\",\"method\":\"getHealth\"},{\"jsonrpc\":\"2.0\",\"id\":[],\"method\":\"getVersion\"}]");
    static char const alphabet[] =
        "{}[]\",:0123456789-+.eE truefalsnl\\u/abcdefABCDEF\x00\xff\xc3\xa9";
    adb_test_rng_t rng = {adb_test_seed() ^ 0x5250c1};
    size_t         iters = adb_test_scaled(20000);
    char           buf[2048];
    for (size_t it = 0; it < iters; it++) {
        char const *s = seeds[adb_test_rng_below(&rng, 8)];
        size_t      n = strlen(s);
        memcpy(buf, s, n);
        int edits = 1 + (int)adb_test_rng_below(&rng, 4);
        for (int k = 0; k < edits; k++) {
            size_t p = n ? adb_test_rng_below(&rng, n) : 0;
            switch (adb_test_rng_below(&rng, 6)) {
            case 0: /* replace */
                if (n) buf[p] = alphabet[adb_test_rng_below(&rng, sizeof alphabet - 1)];
                break;
            case 1: /* insert */
                if (n < sizeof buf - 1) {
                    memmove(buf + p + 1, buf + p, n - p);
                    buf[p] = alphabet[adb_test_rng_below(&rng, sizeof alphabet - 1)];
                    n++;
                }
                break;
            case 2: /* delete */
                if (n) {
                    memmove(buf + p, buf + p + 1, n - p - 1);
                    n--;
                }
                break;
            case 3: /* truncate */
                n = p;
                break;
            case 4: /* a digit run (big numbers) */
                for (int d = 0; d < 25 && n < sizeof buf - 1; d++) {
                    memmove(buf + p + 1, buf + p, n - p);
                    buf[p] = (char)('0' + adb_test_rng_below(&rng, 10));
                    n++;
                }
                break;
            default: /* flip a bit */
                if (n) buf[p] ^= (char)(1 << adb_test_rng_below(&rng, 8));
                break;
            }
        }
        resp_t x = call_raw(g_fx.rlive, buf, n);
        check_answer(&x);
        resp_free(&x);
    }
}

/* ---- many threads on one handle --------------------------------------------------------- */

typedef struct worker {
    adb_rpc_t *r;
    char     **bodies;
    char     **want;
    size_t     cnt, iters;
    int        bad;
} worker_t;

static void *
worker_main(void *arg) {
    worker_t *w = arg;
    for (size_t it = 0; it < w->iters; it++) {
        for (size_t i = 0; i < w->cnt; i++) {
            size_t k = (i + it) % w->cnt;
            char  *t = NULL;
            size_t sz = 0;
            int    st = adb_rpc_handle(w->r, w->bodies[k], strlen(w->bodies[k]), &t, &sz);
            if (st != 200 || !t || strcmp(t, w->want[k])) w->bad++;
            adb_free(t);
        }
    }
    return NULL;
}

static void
t_threads(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = g_fx.r3;
    refs_t     refs;
    v3_refs(&refs, NULL);
    size_t cnt = refs.n + 3;
    char **bodies = calloc(cnt, sizeof *bodies), **want = calloc(cnt, sizeof *want);
    for (size_t i = 0; i < refs.n; i++) {
        bodies[i] = malloc(512);
        snprintf(bodies[i], 512,
                 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                 "{\"encoding\":\"%s\"}]}",
                 i, b58(&refs.v[i].a.pubkey), i % 2 ? "base64+zstd" : "base64");
    }
    bodies[refs.n] = strdup(
        "{\"jsonrpc\":\"2.0\",\"id\":\"g\",\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
        "\",{\"encoding\":\"base64\"}]}");
    bodies[refs.n + 1] = strdup(
        "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"getProgramAccounts\",\"params\":[\"" SYSVAR
        "\",{\"encoding\":\"base64+zstd\",\"limit\":3}]}");
    bodies[refs.n + 2] =
        strdup("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"},{\"jsonrpc\":\"2.0\",\"id\":"
               "2,\"method\":\"getMinimumBalanceForRentExemption\",\"params\":[200]}]");
    for (size_t i = 0; i < cnt; i++) {
        resp_t x = call_raw(r, bodies[i], strlen(bodies[i]));
        want[i] = strdup(x.text);
        resp_free(&x);
    }
    enum { T = 8 };
    pthread_t th[T];
    worker_t  w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (worker_t){
            .r = r, .bodies = bodies, .want = want, .cnt = cnt, .iters = adb_test_scaled(20)};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    for (size_t i = 0; i < cnt; i++) {
        free(bodies[i]);
        free(want[i]);
    }
    free(bodies);
    free(want);
    refs_free(&refs);
}

/* Readers while a writer roots new slots: every answer is of one slot (the
 * writer stores lamports = slot), whatever the commitment. */
typedef struct live_reader {
    adb_rpc_t   *r;
    char         key[ACCTDB_BASE58_32_SZ]; /* g_changing (b58() is not thread-safe) */
    int          bad, answered;
    _Atomic int *stop;
    char         first_bad[2048]; /* the first wrong answer, for the failure message */
} live_reader_t;

static void *
live_reader_main(void *arg) {
    live_reader_t    *lr = arg;
    char              body[512];
    char const *const com[] = {"processed", "confirmed", "finalized"};
    for (int i = 0; !atomic_load(lr->stop); i++) {
        snprintf(
            body, sizeof body,
            "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAccountInfo\",\"params\":[\"%s\",{"
            "\"commitment\":\"%s\",\"encoding\":\"base64\"}]},"
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"getProgramAccounts\",\"params\":[\"" SYSTEM
            "\",{\"commitment\":\"%s\",\"encoding\":\"base64\",\"withContext\":true,\"filters\":[{"
            "\"dataSize\":2}]}]}]",
            lr->key, com[i % 3], com[(i + 1) % 3]);
        char  *t = NULL;
        size_t sz = 0;
        adb_rpc_handle(lr->r, body, strlen(body), &t, &sz);
        json_object *j = t ? json_tokener_parse(t) : NULL;
        json_object *a = j ? json_object_array_get_idx(j, 0) : NULL, *res = NULL, *v = NULL;
        if (!a || !json_object_object_get_ex(a, "result", &res)) {
            lr->bad++;
        } else {
            json_object *ctx = json_object_object_get(res, "context");
            uint64_t     slot = json_object_get_uint64(json_object_object_get(ctx, "slot"));
            v = json_object_object_get(res, "value");
            uint64_t lam = json_object_get_uint64(json_object_object_get(v, "lamports"));
            if (slot >= 103 && lam != slot) lr->bad++;
            json_object *b = json_object_array_get_idx(j, 1), *bres = NULL;
            if (!b || !json_object_object_get_ex(b, "result", &bres)) {
                lr->bad++;
            } else {
                uint64_t bslot = json_object_get_uint64(
                    json_object_object_get(json_object_object_get(bres, "context"), "slot"));
                json_object *arr = json_object_object_get(bres, "value");
                for (size_t k = 0; k < json_object_array_length(arr); k++) {
                    json_object *e = json_object_array_get_idx(arr, k);
                    json_object *acct = json_object_object_get(e, "account");
                    uint64_t l = json_object_get_uint64(json_object_object_get(acct, "lamports"));
                    if (bslot >= 103 &&
                        !strcmp(json_object_get_string(json_object_object_get(e, "pubkey")),
                                lr->key) &&
                        l != bslot)
                        lr->bad++;
                }
            }
            lr->answered++;
        }
        if (lr->bad && !lr->first_bad[0])
            snprintf(lr->first_bad, sizeof lr->first_bad, "%s", t ? t : "(no answer)");
        json_object_put(j);
        adb_free(t);
    }
    return NULL;
}

static void
t_live_writer(void **state) {
    (void)state;
    fx_need();
    acctdb_db_t    *db = g_fx.live;
    acctdb_pubkey_t sys = pk(SYSTEM);
    _Atomic int     stop = 0;
    enum { T = 4 };
    pthread_t     th[T];
    live_reader_t lr[T];
    for (int i = 0; i < T; i++) {
        lr[i] = (live_reader_t){.r = g_fx.rlive, .stop = &stop};
        acctdb_base58_encode_32(g_changing.b, lr[i].key);
        assert_int_equal(pthread_create(&th[i], NULL, live_reader_main, &lr[i]), 0);
    }
    acctdb_bank_meta_t meta = {.unix_timestamp = 1700000001};
    uint64_t           slots = adb_test_scaled(120);
    for (uint64_t s = 103; s < 103 + slots; s++) {
        char d[2] = {'v', 'x'};
        store1(db, s, s - 1, &g_changing, &sys, s, d, 2);
        assert_int_equal(acctdb_db_freeze(db, s, &meta, NULL), 0);
        if (s % 3 == 0) assert_int_equal(acctdb_db_confirm(db, s), 0);
        if (s % 2 == 0) assert_int_equal(acctdb_db_root(db, s), 0);
        if (s % 16 == 0) {
            for (int k = 0; k < ACCTDB_SERVICE_CNT; k++)
                acctdb_db_service_step(db, (acctdb_service_t)k);
        }
        usleep(200);
    }
    atomic_store(&stop, 1);
    int answered = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        if (lr[i].bad) fail_msg("%d wrong answers; the first: %s", lr[i].bad, lr[i].first_bad);
        answered += lr[i].answered;
    }
    assert_true(answered > 0);
}

/* Out of memory at every allocation of a few calls: no crash, no leak
 * (ASan), and an answer that is JSON or none (500/503). */
static void
t_oom(void **state) {
    (void)state;
    fx_need();
    char bodies[4][512];
    snprintf(
        bodies[0], 512,
        "[{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"getAccountInfo\",\"params\":[\"%s\","
        "{\"encoding\":\"jsonParsed\"}]},{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}]",
        b58(&g_tok2));
    snprintf(bodies[1], 512,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"getProgramAccounts\",\"params\":[\"" TOKEN
             "\",{\"encoding\":\"base64+zstd\",\"filters\":[{\"dataSize\":165}]}]}");
    snprintf(
        bodies[2], 512,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"getTokenAccountsByOwner\",\"params\":[\"%s\","
        "{\"mint\":\"%s\"},{\"encoding\":\"jsonParsed\"}]}",
        b58(&g_wallet), b58(&g_mint));
    snprintf(bodies[3], 512,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"getMultipleAccounts\",\"params\":[[\"%s\","
             "\"%s\"],{\"encoding\":\"base58\",\"minContextSlot\":12345678901234567890}]}",
             b58(&g_testdata), b58(&g_mint));
    for (int b = 0; b < 4; b++) {
        /* How many allocations a clean run makes. */
        adb_alloc_fail_after(0);
        resp_t   x = call_raw(g_fx.rlive, bodies[b], strlen(bodies[b]));
        uint64_t allocs = adb_alloc_fail_after(0);
        resp_free(&x);
        for (uint64_t n = 1; n <= allocs + 2; n++) {
            adb_alloc_fail_after(n);
            char  *t = NULL;
            size_t sz = 0;
            int    st = adb_rpc_handle(g_fx.rlive, bodies[b], strlen(bodies[b]), &t, &sz);
            adb_alloc_fail_after(0);
            assert_true(st == 200 || st == 500 || st == 503);
            if (t) {
                json_object *j = parse_exact(t, sz);
                json_object_put(j);
                adb_free(t);
            } else {
                assert_int_equal(st, 503);
            }
        }
    }
}

static void
t_stats(void **state) {
    (void)state;
    fx_need();
    adb_rpc_t *r = rpc_on(g_fx.v42, NULL);
    resp_t     x =
        call(r, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"},{\"jsonrpc\":\"2.0\","
                "\"id\":2,\"method\":\"nope\"},{\"jsonrpc\":\"2.0\",\"method\":\"getSlot\"}]");
    adb_rpc_stats_t s;
    adb_rpc_stats(r, &s);
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.bytes_out, x.sz);
    assert_true(s.bytes_in > 100);
    resp_free(&x);
    x = call(r, "{");
    adb_rpc_stats(r, &s);
    assert_int_equal(s.errors, 2);
    resp_free(&x);
    adb_rpc_free(r);
    adb_rpc_stats(NULL, &s);
    assert_int_equal(s.calls, 0);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_envelope),
    cmocka_unit_test(t_parse_errors),
    cmocka_unit_test(t_body_limit),
    cmocka_unit_test(t_u64_params),
    cmocka_unit_test(t_account_info_v42),
    cmocka_unit_test(t_account_info_v3),
    cmocka_unit_test(t_multiple_accounts_limits),
    cmocka_unit_test(t_program_accounts),
    cmocka_unit_test(t_program_accounts_pages),
    cmocka_unit_test(t_token_parsed),
    cmocka_unit_test(t_encodings_exact),
    cmocka_unit_test(t_other_methods),
    cmocka_unit_test(t_response_cap),
    cmocka_unit_test(t_commitment),
    cmocka_unit_test(t_mutations),
    cmocka_unit_test(t_threads),
    cmocka_unit_test(t_oom),
    cmocka_unit_test(t_live_writer),
    cmocka_unit_test(t_stats),
    cmocka_unit_test(t_zz_cleanup),
};

ADB_TEST_GROUP(rpc, tests);
