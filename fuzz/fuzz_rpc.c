/* fuzz/fuzz_rpc.c - the JSON-RPC dispatcher (src/net/rpc*.c): one POST
 * body per input, answered by a database made once from the bundled 4.2
 * archive plus token accounts (SPL Token, Token-2022 with extensions, a
 * multisig), a rooted slot and a frozen one above it.
 *
 * Input: the body.  A first byte 0x01 (never the start of JSON) selects a
 * dispatcher with small limits (body 512 B, response 4 KiB, batch 3) for
 * the rest.
 *
 * Invariants: the status is 200, or 413 exactly when the body is over the
 * limit; an answer is strict JSON and valid UTF-8, NUL-terminated at its
 * size, an object or a non-empty array of objects, each with "jsonrpc":
 * "2.0", an id, and exactly one of result and error (an error with an
 * integer code of the JSON-RPC or Solana ranges and a string message); the
 * same body gets the same bytes again.
 *
 * The data directory is ACCTDB_TEST_DATA or tests/data (run from the
 * repository root, as make test and make fuzz do). */
#include "net/rpc.h"

#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_rpc: %s:%d: check failed: %s\n", __FILE__, __LINE__, #c);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char         g_tmp[4096];
static acctdb_db_t *g_db;
static adb_rpc_t   *g_rpc, *g_small;

static int
rm_entry(char const *p, struct stat const *st, int flag, struct FTW *f) {
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void
cleanup(void) {
    adb_rpc_free(g_rpc);
    adb_rpc_free(g_small);
    acctdb_db_close(g_db);
    if (g_tmp[0]) nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static acctdb_pubkey_t
key_of(char const *tag) {
    acctdb_pubkey_t k;
    acctdb_blake3(tag, strlen(tag), k.b, 32);
    return k;
}

static void
store(uint64_t slot, acctdb_pubkey_t const *k, acctdb_pubkey_t const *owner, void const *d,
      size_t n) {
    acctdb_account_t a = {.pubkey = *k,
                          .owner = *owner,
                          .lamports = 2039280,
                          .rent_epoch = UINT64_MAX,
                          .data_len = n,
                          .data = d};
    CHECK(acctdb_db_store(g_db, slot, slot - 1, &a, 1) == 0);
}

/* The accounts the seed corpus names (base58 of key_of(tag)). */
static void
populate(void) {
    acctdb_pubkey_t tp = adb_rpc_token_program, tp22 = adb_rpc_token_2022_program;
    acctdb_pubkey_t mint = key_of("mint"), mint22 = key_of("mint22"), wallet = key_of("wallet");
    uint8_t         m[82] = {0};
    m[44] = 6, m[45] = 1;
    store(101, &mint, &tp, m, sizeof m);
    uint8_t d[165] = {0};
    memcpy(d, mint.b, 32);
    memcpy(d + 32, wallet.b, 32);
    d[64] = 77, d[108] = 1;
    acctdb_pubkey_t t1 = key_of("tok1");
    store(101, &t1, &tp, d, sizeof d);
    uint8_t m22[166 + 36 + 4 + 108] = {0};
    m22[45] = 1, m22[165] = 1;
    m22[166] = 3, m22[168] = 32;
    m22[202] = 1, m22[204] = 108;
    store(101, &mint22, &tp22, m22, sizeof m22);
    uint8_t t22[166 + 4 + 12] = {0};
    memcpy(t22, mint22.b, 32);
    memcpy(t22 + 32, wallet.b, 32);
    t22[108] = 2, t22[165] = 2, t22[166] = 7, t22[170] = 2, t22[172] = 8;
    acctdb_pubkey_t k22 = key_of("tok22");
    store(101, &k22, &tp22, t22, sizeof t22);
    uint8_t ms[355] = {0};
    ms[0] = 1, ms[1] = 2, ms[2] = 1, ms[3] = 9, ms[40] = 9;
    acctdb_pubkey_t kms = key_of("multisig");
    store(101, &kms, &tp, ms, sizeof ms);
    acctdb_bank_meta_t meta = {.unix_timestamp = 1700000000};
    CHECK(acctdb_db_freeze(g_db, 101, &meta, NULL) == 0);
    CHECK(acctdb_db_root(g_db, 101) == 0);
    acctdb_pubkey_t sys = {{0}};
    acctdb_pubkey_t td = key_of("testdata");
    store(102, &td, &sys, "test data", 9);
    CHECK(acctdb_db_freeze(g_db, 102, &meta, NULL) == 0);
}

static void
init(void) {
    char const *t = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/fuzz_rpc.XXXXXX", t ? t : "/tmp");
    CHECK(mkdtemp(g_tmp) != NULL);
    char dir[4200], archive[4200];
    snprintf(dir, sizeof dir, "%s/db", g_tmp);
    char const *data = getenv("ACCTDB_TEST_DATA");
    snprintf(archive, sizeof archive, "%s/test-snapshot-v4.2.0-beta.1.tar.zst",
             data ? data : "tests/data");
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    cfg.background = false;
    cfg.threads = 1;
    acctdb_db_source_t src = {.full_path = archive};
    char               msg[512];
    if (acctdb_db_create(&g_db, dir, &src, &cfg, msg, sizeof msg)) {
        fprintf(stderr, "fuzz_rpc: cannot create the database: %s\n", msg);
        abort();
    }
    populate();
    adb_err_t      e = {0};
    adb_rpc_opts_t o = {.db = g_db, .snapshot_dir = data ? data : "tests/data"};
    CHECK(adb_rpc_new(&o, &g_rpc, &e) == 0);
    o.max_body_sz = 512;
    o.max_response_sz = 4096;
    o.max_batch = 3;
    CHECK(adb_rpc_new(&o, &g_small, &e) == 0);
    atexit(cleanup);
}

static void
check_entry(json_object *e) {
    CHECK(json_object_get_type(e) == json_type_object);
    json_object *v = NULL, *res = NULL, *err = NULL;
    CHECK(json_object_object_get_ex(e, "jsonrpc", &v));
    CHECK(json_object_get_type(v) == json_type_string && !strcmp(json_object_get_string(v), "2.0"));
    CHECK(json_object_object_get_ex(e, "id", &v));
    bool has_res = json_object_object_get_ex(e, "result", &res);
    bool has_err = json_object_object_get_ex(e, "error", &err);
    CHECK(has_res != has_err);
    if (has_err) {
        json_object *code = NULL, *m = NULL;
        CHECK(json_object_object_get_ex(err, "code", &code));
        CHECK(json_object_get_type(code) == json_type_int);
        int64_t c = json_object_get_int64(code);
        CHECK((c <= -32600 && c >= -32700) || (c <= -32001 && c >= -32099));
        CHECK(json_object_object_get_ex(err, "message", &m));
        CHECK(json_object_get_type(m) == json_type_string);
    }
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (!g_db) init();
    adb_rpc_t *r = g_rpc;
    if (sz && data[0] == 0x01) {
        r = g_small;
        data++;
        sz--;
    }
    char  *resp = NULL, *again = NULL;
    size_t n = 0, n2 = 0;
    int    st = adb_rpc_handle(r, (char const *)data, sz, &resp, &n);
    CHECK(st == 200 || st == 413);
    CHECK((st == 413) == (sz > r->max_body_sz));
    if (resp) {
        CHECK(strlen(resp) == n);
        struct json_tokener *tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        json_object *j = json_tokener_parse_ex(tok, resp, (int)n);
        if (!j && json_tokener_get_error(tok) == json_tokener_continue)
            j = json_tokener_parse_ex(tok, "", 1);
        CHECK(j && json_tokener_get_error(tok) == json_tokener_success);
        json_tokener_free(tok);
        if (json_object_get_type(j) == json_type_array) {
            CHECK(json_object_array_length(j) > 0);
            for (size_t i = 0; i < json_object_array_length(j); i++)
                check_entry(json_object_array_get_idx(j, i));
        } else {
            check_entry(j);
        }
        json_object_put(j);
    } else {
        CHECK(n == 0 && st == 200);
    }
    /* The same body, the same answer. */
    int st2 = adb_rpc_handle(r, (char const *)data, sz, &again, &n2);
    CHECK(st2 == st && n2 == n && (!n || !memcmp(resp, again, n)));
    adb_free(resp);
    adb_free(again);
    return 0;
}
