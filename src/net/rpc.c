/* src/net/rpc.c - the JSON-RPC 2.0 dispatcher (net.h, "JSON-RPC").
 *
 * One POST body in, one response body out:
 *
 *   body ─ size cap (413) ─ number check ─ json-c (strict, UTF-8, depth) ─┐
 *        ┌────────────────────────────────────────────────────────────────┘
 *        ├ object: one call          ─┐  each call: id (string, integer or
 *        ├ array: 1..max_batch calls ─┤  null; absent = notification, no
 *        └ else: Invalid request      ┘  answer), "jsonrpc":"2.0", method,
 *                                        params; the method writes its result
 *                                        into its own writer; the envelope
 *                                        {"jsonrpc","result"|"error","id"} is
 *                                        glued around it; the batch is capped
 *                                        at max_response_sz in total.
 *
 * Numbers.  json-c keeps integers exact (int64, and uint64 above 2^63) but
 * clamps integers past either end to the limit without a word, and accepts
 * NaN, Infinity and "1." even in strict mode.  So the body is first lexed
 * here: a number that is not RFC 8259 grammar or a bare word other than
 * true/false/null is a parse error; an integer outside [-2^63, 2^64-1] gets
 * ".0" appended, so json-c reads it as the double serde_json would, and a
 * u64 parameter rejects it ("Invalid params") like any double.
 *
 * Threads: nothing here is shared but the counters (atomics) and the
 * read-only options; json-c objects belong to one call. */
#include "net/rpc.h"

#include <stdio.h>
#include <zstd.h>

/* ---- errors a method raises ----------------------------------------------------- */

int
adb_rpc_fail(adb_rpc_call_t *c, int code, char const *fmt, ...) {
    if (c->err_code) return ADB_RPC_ERR;
    c->err_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
    va_end(ap);
    return ADB_RPC_ERR;
}

int
adb_rpc_db_fail(adb_rpc_call_t *c, int rc) {
    /* The slot this evaluation picked was rooted past, or its fork died. */
    if (c->has_slot &&
        (rc == ACCTDB_ERR_TOO_OLD || rc == ACCTDB_ERR_INVALID || rc == ACCTDB_ERR_NOT_FOUND))
        return ADB_RPC_RETRY;
    return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: %s", acctdb_strerror(rc));
}

int
adb_rpc_too_large(adb_rpc_call_t *c, char const *hint) {
    return adb_rpc_fail(c, ADB_RPC_SCAN_ERROR,
                        "Response too large: over the limit of %llu bytes; %s",
                        (unsigned long long)c->r->max_response_sz, hint);
}

/* ---- lifecycle -------------------------------------------------------------------- */

int
adb_rpc_new(adb_rpc_opts_t const *o, adb_rpc_t **out, adb_err_t *err) {
    *out = NULL;
    ADB_FAIL_IF(!o || !o->db, err, ACCTDB_ERR_INVALID, "rpc: no database");
    adb_rpc_t *r = adb_calloc(1, sizeof *r);
    ADB_FAIL_IF(!r, err, ACCTDB_ERR_NOMEM, "rpc: out of memory");
    r->db = o->db;
    r->has_genesis_hash = o->has_genesis_hash;
    r->genesis_hash = o->genesis_hash;
    r->max_body_sz = o->max_body_sz ? o->max_body_sz : 50u << 10;
    r->max_response_sz = o->max_response_sz ? o->max_response_sz : 64u << 20;
    r->max_batch = o->max_batch ? o->max_batch : 100;
    r->health = o->health;
    r->health_ctx = o->health_ctx;
    pthread_mutex_init(&r->zmu, NULL);
    if (o->snapshot_dir && !(r->snapshot_dir = adb_strdup(o->snapshot_dir))) {
        adb_free(r);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "rpc: out of memory");
    }
    *out = r;
    return 0;
}

void
adb_rpc_free(adb_rpc_t *r) {
    if (!r) return;
    for (size_t i = 0; i < r->zcnt; i++)
        ZSTD_freeCCtx(r->zpool[i]);
    pthread_mutex_destroy(&r->zmu);
    adb_free(r->snapshot_dir);
    adb_free(r);
}

void *
adb_rpc_zctx_get(adb_rpc_t *r) {
    void *z = NULL;
    pthread_mutex_lock(&r->zmu);
    if (r->zcnt) z = r->zpool[--r->zcnt];
    pthread_mutex_unlock(&r->zmu);
    return z ? z : ZSTD_createCCtx();
}

void
adb_rpc_zctx_put(adb_rpc_t *r, void *z) {
    if (!z) return;
    pthread_mutex_lock(&r->zmu);
    if (r->zcnt < ADB_RPC_ZPOOL) {
        r->zpool[r->zcnt++] = z;
        z = NULL;
    }
    pthread_mutex_unlock(&r->zmu);
    ZSTD_freeCCtx(z);
}

void
adb_rpc_stats(adb_rpc_t const *r, adb_rpc_stats_t *out) {
    memset(out, 0, sizeof *out);
    if (!r) return;
    out->calls = atomic_load_explicit(&r->calls, memory_order_relaxed);
    out->errors = atomic_load_explicit(&r->errors, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&r->bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&r->bytes_out, memory_order_relaxed);
}

/* ---- a growable byte buffer (the response) -------------------------------------------- */

typedef struct buf {
    char  *p;
    size_t n, cap;
    bool   oom;
} buf_t;

static void
put(buf_t *b, void const *s, size_t n) {
    if (b->oom) return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n)
            cap *= 2;
        char *np = adb_realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void
puts_(buf_t *b, char const *s) {
    put(b, s, strlen(s));
}

/* ---- the number check ------------------------------------------------------------------ */

/* Is digits[0..n) (no sign, no leading zero) above lim (same form)? */
static bool
digits_above(char const *digits, size_t n, char const *lim) {
    size_t ln = strlen(lim);
    if (n != ln) return n > ln;
    return memcmp(digits, lim, n) > 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
utf8_seq(uint8_t const *s, size_t n) {
    uint8_t  c = s[0];
    size_t   len;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0)
        len = 2, cp = c & 0x1fu, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, cp = c & 0x0fu, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, cp = c & 0x07u, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

static int
hex4(char const *p) {
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int  d = c >= '0' && c <= '9'   ? c - '0'
                 : c >= 'a' && c <= 'f' ? c - 'a' + 10
                 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                        : -1;
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

/* The offset just past the closing quote of the string whose contents
 * start at b[i], or 0 if it is not a valid JSON string as serde_json reads
 * one: no raw control characters, valid UTF-8, known escapes, \u escapes
 * with 4 hex digits and surrogates in pairs.  (json-c takes all of those.) */
static size_t
string_end(char const *b, size_t n, size_t i) {
    while (i < n) {
        uint8_t c = (uint8_t)b[i];
        if (c == '"') return i + 1;
        if (c < 0x20) return 0;
        if (c >= 0x80) {
            size_t l = utf8_seq((uint8_t const *)b + i, n - i);
            if (!l) return 0;
            i += l;
            continue;
        }
        if (c != '\\') {
            i++;
            continue;
        }
        if (++i >= n) return 0;
        switch (b[i]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            i++;
            continue;
        case 'u':
            break;
        default:
            return 0;
        }
        if (n - i < 5) return 0;
        int u = hex4(b + i + 1);
        if (u < 0 || (u >= 0xdc00 && u <= 0xdfff)) return 0; /* bad, or a lone low half */
        i += 5;
        if (u >= 0xd800 && u <= 0xdbff) { /* a high half: a low one must follow */
            if (n - i < 6 || b[i] != '\\' || b[i + 1] != 'u') return 0;
            int lo = hex4(b + i + 2);
            if (lo < 0xdc00 || lo > 0xdfff) return 0;
            i += 6;
        }
    }
    return 0;
}

/* Lexes body: 0 (valid so far; json-c checks the structure), -1 (a number
 * or a bare word JSON does not allow).  With wide_out set, the offsets just
 * after each integer outside the 64-bit ranges go to wide[] (its count to
 * *wide_cnt; the array grows). */
static int
lex(char const *b, size_t n, size_t **wide, size_t *wide_cnt, size_t *wide_cap) {
    size_t i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)b[i];
        if (ch == '"') {
            size_t e = string_end(b, n, i + 1);
            if (!e) return -1;
            i = e;
            continue;
        }
        if (ch >= 0x80) return -1;
        if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t s = i;
            bool   neg = ch == '-';
            if (neg) i++;
            size_t ds = i;
            if (i >= n || b[i] < '0' || b[i] > '9') return -1;
            if (b[i] == '0') {
                i++;
            } else {
                while (i < n && b[i] >= '0' && b[i] <= '9')
                    i++;
            }
            size_t de = i;
            bool   integer = true;
            if (i < n && b[i] == '.') {
                integer = false;
                i++;
                if (i >= n || b[i] < '0' || b[i] > '9') return -1;
                while (i < n && b[i] >= '0' && b[i] <= '9')
                    i++;
            }
            if (i < n && (b[i] == 'e' || b[i] == 'E')) {
                integer = false;
                i++;
                if (i < n && (b[i] == '+' || b[i] == '-')) i++;
                if (i >= n || b[i] < '0' || b[i] > '9') return -1;
                while (i < n && b[i] >= '0' && b[i] <= '9')
                    i++;
            }
            /* A digit right after "0" (leading zero) or a stray letter. */
            if (i < n &&
                ((b[i] >= '0' && b[i] <= '9') || b[i] == '.' || b[i] == '-' || b[i] == '+' ||
                 (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z')))
                return -1;
            (void)s;
            if (integer && digits_above(b + ds, de - ds,
                                        neg ? "9223372036854775808" : "18446744073709551615")) {
                if (*wide_cnt == *wide_cap) {
                    size_t  nc = *wide_cap ? 2 * *wide_cap : 8;
                    size_t *nw = adb_realloc(*wide, nc * sizeof *nw);
                    if (!nw) return -2;
                    *wide = nw;
                    *wide_cap = nc;
                }
                (*wide)[(*wide_cnt)++] = i;
            }
            continue;
        }
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
            size_t s = i;
            while (i < n && ((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z')))
                i++;
            size_t l = i - s;
            if (!((l == 4 && !memcmp(b + s, "true", 4)) || (l == 5 && !memcmp(b + s, "false", 5)) ||
                  (l == 4 && !memcmp(b + s, "null", 4))))
                return -1;
            continue;
        }
        if (ch == 0) return -1; /* json-c would stop at a NUL */
        i++;
    }
    return 0;
}

/* ---- the envelope ---------------------------------------------------------------------- */

typedef struct req_id {
    int         kind; /* 0 null, 1 string, 2 integer */
    char const *s;
    size_t      len;
    bool        neg;
    int64_t     i;
    uint64_t    u;
} req_id_t;

static void
put_json_value_str(buf_t *b, char const *s, size_t len) {
    adb_json_t j;
    adb_json_init_buf(&j);
    adb_json_strn(&j, s, len);
    char  *t;
    size_t tn;
    if (adb_json_take(&j, &t, &tn) == 0) {
        put(b, t, tn);
        adb_free(t);
    } else {
        b->oom = true;
    }
    adb_json_fini(&j);
}

static void
put_id(buf_t *b, req_id_t const *id) {
    char t[32];
    if (id->kind == 1) {
        put_json_value_str(b, id->s, id->len);
    } else if (id->kind == 2) {
        if (id->neg)
            snprintf(t, sizeof t, "%lld", (long long)id->i);
        else
            snprintf(t, sizeof t, "%llu", (unsigned long long)id->u);
        puts_(b, t);
    } else {
        puts_(b, "null");
    }
}

/* {"jsonrpc":"2.0","error":{"code":…,"message":…[,"data":…]},"id":…} */
static void
put_error(buf_t *b, req_id_t const *id, int code, char const *msg, int data_kind, uint64_t data) {
    char t[64];
    puts_(b, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":");
    snprintf(t, sizeof t, "%d", code);
    puts_(b, t);
    puts_(b, ",\"message\":");
    put_json_value_str(b, msg, strlen(msg));
    if (data_kind == 3) {
        puts_(b, ",\"data\":{\"numSlotsBehind\":null}");
    } else if (data_kind) {
        snprintf(t, sizeof t, ",\"data\":{\"%s\":%llu}",
                 data_kind == 1 ? "contextSlot" : "numSlotsBehind", (unsigned long long)data);
        puts_(b, t);
    }
    puts_(b, "},\"id\":");
    put_id(b, id);
    puts_(b, "}");
}

static req_id_t const g_null_id = {0};

/* ---- one call ------------------------------------------------------------------------ */

typedef struct batch {
    adb_rpc_t *r;
    buf_t      out;
    size_t     entries;
    uint64_t   errors;
} batch_t;

/* Starts an entry (a comma between entries). */
static void
entry_begin(batch_t *bt) {
    if (bt->entries++) put(&bt->out, ",", 1);
}

static void
entry_error(batch_t *bt, req_id_t const *id, int code, char const *msg) {
    entry_begin(bt);
    put_error(&bt->out, id, code, msg, 0, 0);
    bt->errors++;
}

static void
one_call(batch_t *bt, json_object *req) {
    adb_rpc_t *r = bt->r;
    atomic_fetch_add_explicit(&r->calls, 1, memory_order_relaxed);
    if (json_object_get_type(req) != json_type_object) {
        entry_error(bt, &g_null_id, ADB_RPC_INVALID_REQUEST, "Invalid request");
        return;
    }
    /* The id: a string, an integer or null; absent makes a notification. */
    req_id_t     id = {0};
    json_object *idv = NULL;
    bool         has_id = json_object_object_get_ex(req, "id", &idv);
    bool         id_ok = true;
    if (has_id) {
        switch (json_object_get_type(idv)) {
        case json_type_null:
            break;
        case json_type_string:
            id.kind = 1;
            id.s = json_object_get_string(idv);
            id.len = (size_t)json_object_get_string_len(idv);
            break;
        case json_type_int:
            id.kind = 2;
            id.i = json_object_get_int64(idv);
            id.neg = id.i < 0;
            id.u = json_object_get_uint64(idv);
            break;
        default:
            id_ok = false;
            break;
        }
    }
    json_object *ver = NULL, *meth = NULL, *params = NULL;
    bool         ver_ok = json_object_object_get_ex(req, "jsonrpc", &ver) &&
                  json_object_get_type(ver) == json_type_string &&
                  json_object_get_string_len(ver) == 3 &&
                  !memcmp(json_object_get_string(ver), "2.0", 3);
    bool meth_ok = json_object_object_get_ex(req, "method", &meth) &&
                   json_object_get_type(meth) == json_type_string;
    json_object_object_get_ex(req, "params", &params);
    if (!id_ok || !ver_ok || !meth_ok) {
        entry_error(bt, id_ok ? &id : &g_null_id, ADB_RPC_INVALID_REQUEST, "Invalid request");
        return;
    }
    if (!has_id) return; /* a notification: read methods have no effect, nothing to answer */

    adb_rpc_method_fn fn =
        adb_rpc_method(json_object_get_string(meth), (size_t)json_object_get_string_len(meth));
    if (!fn) {
        entry_error(bt, &id, ADB_RPC_METHOD_NOT_FOUND, "Method not found");
        return;
    }
    adb_rpc_call_t c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.params = params;
    int rc = ADB_RPC_RETRY;
    for (int tries = 0; rc == ADB_RPC_RETRY && tries < 8; tries++) {
        adb_json_fini(&c.out);
        adb_json_init_buf(&c.out);
        c.err_code = 0;
        c.err_msg[0] = 0;
        c.err_data = 0;
        c.has_slot = false;
        c.mint_cnt = 0;
        for (size_t i = 0; i < c.mint_cap; i++)
            c.mints[i].status = -1;
        rc = fn(&c);
    }
    if (rc == ADB_RPC_RETRY)
        adb_rpc_fail(&c, ADB_RPC_INTERNAL_ERROR,
                     "Internal error: the slot kept moving while the request was read");
    char  *res = NULL;
    size_t res_sz = 0;
    if (rc == ADB_RPC_OK) {
        int jr = adb_json_take(&c.out, &res, &res_sz);
        if (jr)
            adb_rpc_fail(&c, ADB_RPC_INTERNAL_ERROR, "Internal error: %s", acctdb_strerror(jr));
        else if (res_sz > r->max_response_sz || bt->out.n + res_sz > r->max_response_sz + 64)
            adb_rpc_too_large(&c, "split the batch, use dataSlice, filters or pagination");
    }
    entry_begin(bt);
    if (!c.err_code) {
        puts_(&bt->out, "{\"jsonrpc\":\"2.0\",\"result\":");
        put(&bt->out, res, res_sz);
        puts_(&bt->out, ",\"id\":");
        put_id(&bt->out, &id);
        puts_(&bt->out, "}");
    } else {
        put_error(&bt->out, &id, c.err_code, c.err_msg, c.err_data, c.err_data_u64);
        bt->errors++;
    }
    adb_free(res);
    adb_rpc_call_fini(&c);
}

/* ---- a body ---------------------------------------------------------------------------- */

static int
finish(adb_rpc_t *r, batch_t *bt, int status, char **resp_out, size_t *resp_sz_out) {
    atomic_fetch_add_explicit(&r->errors, bt->errors, memory_order_relaxed);
    if (bt->out.oom) {
        /* What can still be said without memory. */
        static char const oom[] =
            "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":\"Internal error: out of "
            "memory\"},\"id\":null}";
        adb_free(bt->out.p);
        char *p = adb_malloc(sizeof oom);
        if (!p) return 503;
        memcpy(p, oom, sizeof oom);
        *resp_out = p;
        *resp_sz_out = sizeof oom - 1;
        atomic_fetch_add_explicit(&r->bytes_out, *resp_sz_out, memory_order_relaxed);
        return 500;
    }
    if (bt->out.n == 0) {
        adb_free(bt->out.p);
        return status;
    }
    put(&bt->out, "", 1); /* NUL-terminated for the caller's convenience */
    if (bt->out.oom) return finish(r, bt, status, resp_out, resp_sz_out);
    *resp_out = bt->out.p;
    *resp_sz_out = bt->out.n - 1;
    atomic_fetch_add_explicit(&r->bytes_out, *resp_sz_out, memory_order_relaxed);
    return status;
}

static int
lone_error(adb_rpc_t *r, int status, int code, char const *msg, char **resp_out,
           size_t *resp_sz_out) {
    batch_t bt = {.r = r};
    entry_error(&bt, &g_null_id, code, msg);
    return finish(r, &bt, status, resp_out, resp_sz_out);
}

int
adb_rpc_handle(adb_rpc_t *r, char const *body, size_t len, char **resp_out, size_t *resp_sz_out) {
    *resp_out = NULL;
    *resp_sz_out = 0;
    atomic_fetch_add_explicit(&r->bytes_in, len, memory_order_relaxed);
    char msg[128];
    if (len > r->max_body_sz) {
        snprintf(msg, sizeof msg, "Request body too large; max %llu bytes",
                 (unsigned long long)r->max_body_sz);
        atomic_fetch_add_explicit(&r->calls, 1, memory_order_relaxed);
        return lone_error(r, 413, ADB_RPC_INVALID_REQUEST, msg, resp_out, resp_sz_out);
    }
    /* The number check, and the copy with wide integers made doubles. */
    size_t     *wide = NULL, wide_cnt = 0, wide_cap = 0;
    int         lr = lex(body ? body : "", body ? len : 0, &wide, &wide_cnt, &wide_cap);
    char       *copy = NULL;
    char const *text = body ? body : "";
    size_t      text_len = body ? len : 0;
    if (lr == 0 && wide_cnt) {
        copy = adb_malloc(len + 2 * wide_cnt + 1);
        if (copy) {
            size_t o = 0, prev = 0;
            for (size_t k = 0; k < wide_cnt; k++) {
                memcpy(copy + o, body + prev, wide[k] - prev);
                o += wide[k] - prev;
                memcpy(copy + o, ".0", 2);
                o += 2;
                prev = wide[k];
            }
            memcpy(copy + o, body + prev, len - prev);
            o += len - prev;
            copy[o] = 0;
            text = copy;
            text_len = o;
        } else {
            lr = -2;
        }
    }
    adb_free(wide);
    if (lr) {
        adb_free(copy);
        atomic_fetch_add_explicit(&r->calls, 1, memory_order_relaxed);
        return lone_error(r, 200, lr == -2 ? ADB_RPC_INTERNAL_ERROR : ADB_RPC_PARSE_ERROR,
                          lr == -2 ? "Internal error: out of memory" : "Parse error", resp_out,
                          resp_sz_out);
    }
    /* json-c: strict grammar, UTF-8 checked, nesting bounded.  The end of
     * input is signalled with a NUL so a lone number completes. */
    struct json_tokener *tok = json_tokener_new_ex(ADB_RPC_DEPTH_MAX);
    json_object         *root = NULL;
    bool                 ok = false;
    if (tok) {
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        root = text_len <= INT32_MAX ? json_tokener_parse_ex(tok, text, (int)text_len) : NULL;
        enum json_tokener_error e =
            text_len <= INT32_MAX ? json_tokener_get_error(tok) : json_tokener_error_size;
        bool at_end = false;
        if (!root && e == json_tokener_continue) {
            root = json_tokener_parse_ex(tok, "", 1);
            e = json_tokener_get_error(tok);
            at_end = true; /* the value ran to the end of the text */
        }
        ok = e == json_tokener_success;
        if (ok && !at_end) {
            /* Only whitespace may follow the value. */
            for (size_t i = json_tokener_get_parse_end(tok); i < text_len; i++) {
                char ch = text[i];
                if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
                    ok = false;
                    break;
                }
            }
        }
        json_tokener_free(tok);
    }
    adb_free(copy);
    if (!tok || !ok) {
        json_object_put(root);
        atomic_fetch_add_explicit(&r->calls, 1, memory_order_relaxed);
        return lone_error(r, 200, tok ? ADB_RPC_PARSE_ERROR : ADB_RPC_INTERNAL_ERROR,
                          tok ? "Parse error" : "Internal error: out of memory", resp_out,
                          resp_sz_out);
    }

    batch_t bt = {.r = r};
    int     status = 200;
    if (json_object_get_type(root) == json_type_array) {
        size_t n = json_object_array_length(root);
        if (n == 0) {
            atomic_fetch_add_explicit(&r->calls, 1, memory_order_relaxed);
            entry_error(&bt, &g_null_id, ADB_RPC_INVALID_REQUEST, "Invalid request");
        } else if (n > r->max_batch) {
            snprintf(msg, sizeof msg, "Too many requests in one batch; max %u", r->max_batch);
            atomic_fetch_add_explicit(&r->calls, 1, memory_order_relaxed);
            entry_error(&bt, &g_null_id, ADB_RPC_INVALID_REQUEST, msg);
        } else {
            put(&bt.out, "[", 1);
            for (size_t i = 0; i < n; i++)
                one_call(&bt, json_object_array_get_idx(root, i));
            if (bt.entries)
                put(&bt.out, "]", 1);
            else
                bt.out.n = 0; /* notifications only: nothing to answer */
        }
    } else {
        one_call(&bt, root);
    }
    json_object_put(root);
    return finish(r, &bt, status, resp_out, resp_sz_out);
}
