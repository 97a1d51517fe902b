/* src/net/rpc_params.c - the params of a call, read the way Agave's serde
 * types read them: trailing optional params may be omitted or null, config
 * objects ignore fields they do not know, and an integer where a u64 is
 * expected must be a JSON integer from 0 to 2^64-1 (rpc.c turns integers
 * outside every 64-bit range into doubles before json-c sees them, so a
 * double is never mistaken for one). */
#include "net/rpc.h"

#include "util/base58.h"

#include <stdio.h>

/* What a value is, for messages ("integer `-1`", "a string"). */
static void
describe(json_object *v, char *out, size_t max) {
    switch (json_object_get_type(v)) {
    case json_type_null:
        snprintf(out, max, "null");
        break;
    case json_type_boolean:
        snprintf(out, max, "boolean `%s`", json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int:
        if (json_object_get_int64(v) < 0)
            snprintf(out, max, "integer `%lld`", (long long)json_object_get_int64(v));
        else
            snprintf(out, max, "integer `%llu`", (unsigned long long)json_object_get_uint64(v));
        break;
    case json_type_double:
        snprintf(out, max, "floating point `%.17g`", json_object_get_double(v));
        break;
    case json_type_string:
        snprintf(out, max, "a string");
        break;
    case json_type_array:
        snprintf(out, max, "a sequence");
        break;
    case json_type_object:
        snprintf(out, max, "a map");
        break;
    }
}

static int
bad_type(adb_rpc_call_t *c, json_object *v, char const *expected) {
    char d[96];
    describe(v, d, sizeof d);
    return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid params: invalid type: %s, expected %s.",
                        d, expected);
}

int
adb_rpc_params(adb_rpc_call_t *c, size_t min, size_t max, size_t *n_out) {
    *n_out = 0;
    json_object *p = c->params;
    if (p && json_object_get_type(p) != json_type_array) {
        if (max == 0)
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                "Invalid parameters: No parameters were expected");
        return bad_type(c, p, "an array of parameters");
    }
    size_t n = p ? json_object_array_length(p) : 0;
    /* Trailing nulls count as omitted optional params. */
    while (n > min && json_object_array_get_idx(p, n - 1) == NULL)
        n--;
    if (max == 0 && n)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                            "Invalid parameters: No parameters were expected");
    if (n < min)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                            "Invalid params: expected at least %zu parameter%s, got %zu.", min,
                            min == 1 ? "" : "s", n);
    if (n > max)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                            "Invalid params: expected at most %zu parameter%s, got %zu.", max,
                            max == 1 ? "" : "s", n);
    *n_out = n;
    return ADB_RPC_OK;
}

json_object *
adb_rpc_param(adb_rpc_call_t *c, size_t i) {
    if (!c->params || i >= json_object_array_length(c->params)) return NULL;
    return json_object_array_get_idx(c->params, i);
}

/* Agave's verify_pubkey (Pubkey::from_str): more than 44 characters or a
 * value that is not 32 bytes is WrongSize; a bad character (or more than 32
 * bytes) is Invalid. */
static int
pubkey_text(char const *s, size_t len, acctdb_pubkey_t *out) {
    if (len > 44) return 1;
    uint8_t b[32];
    size_t  sz = 0;
    int     rc = adb_base58_decode(s, len, b, sizeof b, &sz);
    if (rc) return 2;
    if (sz != 32) return 1;
    memcpy(out->b, b, 32);
    return 0;
}

int
adb_rpc_pubkey(adb_rpc_call_t *c, json_object *v, acctdb_pubkey_t *out) {
    if (json_object_get_type(v) != json_type_string) return bad_type(c, v, "a string");
    int e = pubkey_text(json_object_get_string(v), (size_t)json_object_get_string_len(v), out);
    if (e)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: %s",
                            e == 1 ? "WrongSize" : "Invalid");
    return ADB_RPC_OK;
}

int
adb_rpc_u64(adb_rpc_call_t *c, json_object *v, char const *what, uint64_t *out) {
    *out = 0;
    if (json_object_get_type(v) != json_type_int) {
        char d[96];
        describe(v, d, sizeof d);
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                            "Invalid params: invalid type: %s, expected u64 (%s).", d, what);
    }
    if (json_object_get_int64(v) < 0)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                            "Invalid params: invalid value: integer `%lld`, expected u64 (%s).",
                            (long long)json_object_get_int64(v), what);
    *out = json_object_get_uint64(v);
    return ADB_RPC_OK;
}

/* A string field against its allowed values; -1 if absent or null. */
static int
variant(adb_rpc_call_t *c, json_object *v, char const *const *names, size_t cnt,
        char const *expected, int *idx_out) {
    *idx_out = -1;
    if (!v) return ADB_RPC_OK;
    if (json_object_get_type(v) != json_type_string) return bad_type(c, v, expected);
    char const *s = json_object_get_string(v);
    size_t      len = (size_t)json_object_get_string_len(v);
    for (size_t i = 0; i < cnt; i++) {
        if (strlen(names[i]) == len && !memcmp(names[i], s, len)) {
            *idx_out = (int)i;
            return ADB_RPC_OK;
        }
    }
    /* The unknown value, shortened and kept printable. */
    char   shown[48];
    size_t k = 0;
    for (size_t i = 0; i < len && k < sizeof shown - 4; i++)
        shown[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (len > k) memcpy(shown + k, "...", 3), k += 3;
    shown[k] = 0;
    return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                        "Invalid params: unknown variant `%s`, expected %s.", shown, expected);
}

static int
opt_bool(adb_rpc_call_t *c, json_object *v, bool *out) {
    if (!v) return ADB_RPC_OK;
    if (json_object_get_type(v) != json_type_boolean) return bad_type(c, v, "a boolean");
    *out = json_object_get_boolean(v);
    return ADB_RPC_OK;
}

/* A field of o; NULL when absent or null. */
static json_object *
field(json_object *o, char const *k) {
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

#define MEMCMP_B58   0
#define MEMCMP_B64   1
#define MEMCMP_BYTES 2

/* One filter's shape (serde's pass); its bytes are decoded later. */
static int
filter_shape(adb_rpc_call_t *c, json_object *f, adb_rpc_filter_t *out, json_object **bytes_out,
             int *enc_out) {
    *bytes_out = NULL;
    *enc_out = MEMCMP_B58;
    memset(out, 0, sizeof *out);
    char const *expected = "one of `dataSize`, `memcmp`, `tokenAccountState`";
    if (json_object_get_type(f) == json_type_string) {
        if (!strcmp(json_object_get_string(f), "tokenAccountState") &&
            json_object_get_string_len(f) == 17) {
            out->kind = 3;
            return ADB_RPC_OK;
        }
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                            "Invalid params: unknown variant, expected %s.", expected);
    }
    if (json_object_get_type(f) != json_type_object || json_object_object_length(f) != 1)
        return bad_type(c, f,
                        "a filter: {\"dataSize\":N}, {\"memcmp\":{…}} or \"tokenAccountState\"");
    json_object_object_foreach(f, key, val) {
        if (!strcmp(key, "dataSize")) {
            out->kind = 1;
            return adb_rpc_u64(c, val, "dataSize", &out->data_size);
        }
        if (!strcmp(key, "tokenAccountState")) {
            if (val) return bad_type(c, val, "unit variant tokenAccountState");
            out->kind = 3;
            return ADB_RPC_OK;
        }
        if (strcmp(key, "memcmp"))
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                "Invalid params: unknown variant, expected %s.", expected);
        out->kind = 2;
        if (json_object_get_type(val) != json_type_object) return bad_type(c, val, "struct Memcmp");
        json_object *off = field(val, "offset"), *bytes = field(val, "bytes");
        if (!off)
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                "Invalid params: missing field `offset`.");
        if (!bytes)
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                "Invalid params: missing field `bytes`.");
        int rc = adb_rpc_u64(c, off, "memcmp.offset", &out->offset);
        if (rc) return rc;
        static char const *const encs[] = {"base58", "base64", "bytes", "binary"};
        int                      e;
        rc = variant(c, field(val, "encoding"), encs, 4, "one of `base58`, `base64`, `bytes`", &e);
        if (rc) return rc;
        if (json_object_get_type(bytes) == json_type_array) {
            size_t n = json_object_array_length(bytes);
            for (size_t i = 0; i < n; i++) {
                json_object *b = json_object_array_get_idx(bytes, i);
                if (json_object_get_type(b) != json_type_int || json_object_get_int64(b) < 0 ||
                    json_object_get_int64(b) > 255)
                    return bad_type(c, b, "u8");
            }
            *enc_out = MEMCMP_BYTES;
        } else if (json_object_get_type(bytes) == json_type_string) {
            *enc_out = e == 1 ? MEMCMP_B64 : MEMCMP_B58; /* "bytes"/"binary" text: base58 */
        } else {
            return bad_type(c, bytes, "a string or an array of u8");
        }
        *bytes_out = bytes;
        return ADB_RPC_OK;
    }
    return ADB_RPC_OK;
}

/* Agave's RpcFilterType::verify, then the bytes. */
static int
filter_bytes(adb_rpc_call_t *c, adb_rpc_filter_t *f, json_object *bytes, int enc) {
    if (enc == MEMCMP_BYTES) {
        size_t n = json_object_array_length(bytes);
        if (n > ADB_RPC_MAX_MEMCMP_SZ)
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: DataTooLarge");
        for (size_t i = 0; i < n; i++)
            f->bytes[i] = (uint8_t)json_object_get_int64(json_object_array_get_idx(bytes, i));
        f->len = n;
        return ADB_RPC_OK;
    }
    char const *s = json_object_get_string(bytes);
    size_t      len = (size_t)json_object_get_string_len(bytes);
    if (enc == MEMCMP_B58) {
        if (len > ADB_RPC_MAX_MEMCMP_B58)
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: DataTooLarge");
        size_t sz = 0;
        int    rc = adb_base58_decode(s, len, f->bytes, sizeof f->bytes, &sz);
        if (rc == ACCTDB_ERR_FULL)
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: DataTooLarge");
        if (rc) return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: Base58DecodeError");
        f->len = sz;
        return ADB_RPC_OK;
    }
    if (len > ADB_RPC_MAX_MEMCMP_B64)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: DataTooLarge");
    uint8_t tmp[ADB_RPC_MAX_MEMCMP_B64];
    ssize_t n = adb_rpc_b64_decode(s, len, tmp, sizeof tmp);
    if (n < 0) return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: Base64DecodeError");
    if ((size_t)n > ADB_RPC_MAX_MEMCMP_SZ)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: DataTooLarge");
    memcpy(f->bytes, tmp, (size_t)n);
    f->len = (size_t)n;
    return ADB_RPC_OK;
}

static int
filters(adb_rpc_call_t *c, json_object *v, adb_rpc_cfg_t *cfg) {
    if (!v) return ADB_RPC_OK;
    if (json_object_get_type(v) != json_type_array) return bad_type(c, v, "a sequence of filters");
    size_t       n = json_object_array_length(v);
    json_object *bytes[ADB_RPC_MAX_FILTERS];
    int          enc[ADB_RPC_MAX_FILTERS];
    for (size_t i = 0; i < n; i++) {
        adb_rpc_filter_t f;
        json_object     *b;
        int              e;
        int              rc = filter_shape(c, json_object_array_get_idx(v, i), &f, &b, &e);
        if (rc) return rc;
        if (i < ADB_RPC_MAX_FILTERS) {
            cfg->filters[i] = f;
            bytes[i] = b;
            enc[i] = e;
        }
    }
    if (n > ADB_RPC_MAX_FILTERS)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Too many filters provided; max %d",
                            ADB_RPC_MAX_FILTERS);
    cfg->filter_cnt = n;
    for (size_t i = 0; i < n; i++) {
        if (cfg->filters[i].kind != 2) continue;
        int rc = filter_bytes(c, &cfg->filters[i], bytes[i], enc[i]);
        if (rc) return rc;
    }
    return ADB_RPC_OK;
}

int
adb_rpc_config(adb_rpc_call_t *c, json_object *v, unsigned flags, adb_rpc_cfg_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->commitment = ADB_RPC_FINALIZED;
    cfg->enc = ADB_RPC_ENC_BINARY;
    cfg->sort_results = true;
    if (!v) return ADB_RPC_OK;
    if (json_object_get_type(v) != json_type_object) return bad_type(c, v, "a config object");
    int rc, idx;

    static char const *const commitments[] = {"finalized", "confirmed", "processed"};
    rc = variant(c, field(v, "commitment"), commitments, 3,
                 "one of `processed`, `confirmed`, `finalized`", &idx);
    if (rc) return rc;
    if (idx >= 0) cfg->commitment = (adb_rpc_commitment_t)idx;

    if (flags & (ADB_RPC_CFG_CONTEXT | ADB_RPC_CFG_ACCOUNT | ADB_RPC_CFG_PROGRAM)) {
        json_object *m = field(v, "minContextSlot");
        if (m) {
            rc = adb_rpc_u64(c, m, "minContextSlot", &cfg->min_ctx);
            if (rc) return rc;
            cfg->has_min_ctx = true;
        }
    }
    if (flags & (ADB_RPC_CFG_ACCOUNT | ADB_RPC_CFG_PROGRAM)) {
        static char const *const encs[] = {"binary", "base58", "base64", "base64+zstd",
                                           "jsonParsed"};
        rc = variant(c, field(v, "encoding"), encs, 5,
                     "one of `binary`, `base58`, `base64`, `jsonParsed`, `base64+zstd`", &idx);
        if (rc) return rc;
        if (idx >= 0) cfg->enc = (adb_rpc_enc_t)idx;
        json_object *s = field(v, "dataSlice");
        if (s) {
            if (json_object_get_type(s) != json_type_object)
                return bad_type(c, s, "struct UiDataSliceConfig");
            json_object *off = field(s, "offset"), *len = field(s, "length");
            if (!off)
                return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                    "Invalid params: missing field `offset`.");
            if (!len)
                return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                    "Invalid params: missing field `length`.");
            if ((rc = adb_rpc_u64(c, off, "dataSlice.offset", &cfg->slice_off))) return rc;
            if ((rc = adb_rpc_u64(c, len, "dataSlice.length", &cfg->slice_len))) return rc;
            cfg->has_slice = true;
        }
    }
    if (flags & ADB_RPC_CFG_PROGRAM) {
        if ((rc = opt_bool(c, field(v, "withContext"), &cfg->with_context))) return rc;
        if ((rc = opt_bool(c, field(v, "sortResults"), &cfg->sort_results))) return rc;
        json_object *l = field(v, "limit");
        if (l) {
            if ((rc = adb_rpc_u64(c, l, "limit", &cfg->limit))) return rc;
            if (cfg->limit < 1 || cfg->limit > ADB_RPC_PAGE_MAX)
                return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                    "Invalid params: limit must be between 1 and %d.",
                                    ADB_RPC_PAGE_MAX);
            cfg->has_limit = true;
        }
        json_object *k = field(v, "paginationKey");
        if (k) {
            if (json_object_get_type(k) != json_type_string) return bad_type(c, k, "a string");
            if (pubkey_text(json_object_get_string(k), (size_t)json_object_get_string_len(k),
                            &cfg->page_key))
                return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                    "Invalid params: paginationKey is not a pubkey.");
            cfg->has_page_key = true;
        }
        json_object *cs = field(v, "changedSinceSlot");
        if (cs) {
            if ((rc = adb_rpc_u64(c, cs, "changedSinceSlot", &cfg->changed_since))) return rc;
            cfg->has_changed_since = true;
        }
        if ((rc = filters(c, field(v, "filters"), cfg))) return rc;
    }
    return ADB_RPC_OK;
}

int
adb_rpc_ctx_slot(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, uint64_t *slot_out) {
    acctdb_db_slots_t s;
    int               rc = acctdb_db_slots(c->r->db, &s);
    if (rc)
        return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: %s", acctdb_strerror(rc));
    uint64_t slot = cfg->commitment == ADB_RPC_PROCESSED   ? s.processed
                    : cfg->commitment == ADB_RPC_CONFIRMED ? s.confirmed
                                                           : s.finalized;
    if (cfg->has_min_ctx && slot < cfg->min_ctx) {
        adb_rpc_fail(c, ADB_RPC_MIN_CONTEXT_SLOT, "Minimum context slot has not been reached");
        c->err_data = 1;
        c->err_data_u64 = slot;
        return ADB_RPC_ERR;
    }
    c->has_slot = true;
    c->slot = slot;
    *slot_out = slot;
    return ADB_RPC_OK;
}
