/* src/net/rpc_encode.c - account objects and their data encodings
 * (Agave's account-decoder UiAccount, encode_ui_account, slice_data). */
#include "net/rpc.h"

#include "util/base58.h"

#include <zstd.h>

/* ---- base64 (RFC 4648, standard alphabet, padded) ------------------------------- */

static char const g_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
adb_rpc_b64_encode(void const *src, size_t n, char *dst) {
    uint8_t const *s = src;
    size_t         o = 0, i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        dst[o++] = g_b64[v >> 18];
        dst[o++] = g_b64[(v >> 12) & 63];
        dst[o++] = g_b64[(v >> 6) & 63];
        dst[o++] = g_b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        dst[o++] = g_b64[v >> 18];
        dst[o++] = g_b64[(v >> 12) & 63];
        dst[o++] = '=';
        dst[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        dst[o++] = g_b64[v >> 18];
        dst[o++] = g_b64[(v >> 12) & 63];
        dst[o++] = g_b64[(v >> 6) & 63];
        dst[o++] = '=';
    }
    dst[o] = 0;
    return o;
}

static int
b64_val(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

ssize_t
adb_rpc_b64_decode(char const *src, size_t n, uint8_t *dst, size_t max) {
    uint8_t const *s = (uint8_t const *)src;
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int  v[4];
        int  pad = 0;
        bool last = i + 4 == n;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad) return -1; /* a digit after padding */
            v[k] = b64_val(s[i + k]);
            if (v[k] < 0) return -1;
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* Non-canonical trailing bits are rejected, as Rust's base64 does. */
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))) return -1;
        size_t k = 3 - (size_t)pad;
        if (k > max - o) return -1;
        uint8_t b[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        memcpy(dst + o, b, k);
        o += k;
    }
    return (ssize_t)o;
}

/* ---- scratch ------------------------------------------------------------------ */

static bool
grow(void **p, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    void *np = adb_realloc(*p, nc);
    if (!np) return false;
    *p = np;
    *cap = nc;
    return true;
}

void
adb_rpc_call_fini(adb_rpc_call_t *c) {
    adb_json_fini(&c->out);
    adb_free(c->data);
    adb_free(c->text);
    adb_free(c->zbuf);
    adb_free(c->mints);
    if (c->zctx) adb_rpc_zctx_put(c->r, c->zctx);
    c->data = NULL;
    c->text = NULL;
    c->zbuf = NULL;
    c->mints = NULL;
    c->zctx = NULL;
    c->data_cap = c->text_cap = c->zbuf_cap = c->mint_cnt = c->mint_cap = 0;
}

/* ---- zstd ----------------------------------------------------------------------- */

int
adb_rpc_zstd(adb_rpc_call_t *c, void const *src, size_t n, size_t *sz_out) {
    *sz_out = 0;
    if (!c->zctx && !(c->zctx = adb_rpc_zctx_get(c->r))) return ACCTDB_ERR_NOMEM;
    ZSTD_CCtx *z = c->zctx;
    ZSTD_CCtx_reset(z, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3))) return ACCTDB_ERR_IO;
    size_t bound = ZSTD_compressBound(n) + 64;
    if (!grow((void **)&c->zbuf, &c->zbuf_cap, bound)) return ACCTDB_ERR_NOMEM;
    /* Streaming, as Rust's zstd::stream::write::Encoder: the input with
     * ZSTD_e_continue (no size is pledged, so the frame header carries a
     * window descriptor and no content size), then ZSTD_e_end. */
    ZSTD_inBuffer  in = {src, n, 0};
    ZSTD_outBuffer out = {c->zbuf, c->zbuf_cap, 0};
    while (in.pos < in.size) {
        size_t r = ZSTD_compressStream2(z, &out, &in, ZSTD_e_continue);
        if (ZSTD_isError(r) || out.pos == out.size) return ACCTDB_ERR_IO;
    }
    for (;;) {
        size_t r = ZSTD_compressStream2(z, &out, &in, ZSTD_e_end);
        if (ZSTD_isError(r)) return ACCTDB_ERR_IO;
        if (r == 0) break;
        if (out.pos == out.size) return ACCTDB_ERR_IO;
    }
    *sz_out = out.pos;
    return 0;
}

/* ---- slices and the account object ----------------------------------------------- */

void
adb_rpc_slice(adb_rpc_cfg_t const *cfg, size_t n, size_t *off_out, size_t *len_out) {
    *off_out = 0;
    *len_out = n;
    if (!cfg->has_slice) return;
    if (cfg->slice_off >= n) {
        *len_out = 0;
        return;
    }
    *off_out = (size_t)cfg->slice_off;
    *len_out = cfg->slice_len > n - cfg->slice_off ? n - (size_t)cfg->slice_off : cfg->slice_len;
}

int
adb_rpc_check_b58(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, acctdb_account_t const *a) {
    if (cfg->enc != ADB_RPC_ENC_BINARY && cfg->enc != ADB_RPC_ENC_BASE58) return ADB_RPC_OK;
    size_t off, len;
    adb_rpc_slice(cfg, (size_t)a->data_len, &off, &len);
    if (len <= ADB_RPC_MAX_BASE58_DATA) return ADB_RPC_OK;
    return adb_rpc_fail(c, ADB_RPC_INVALID_REQUEST,
                        "Encoded binary (base 58) data should be less than %d bytes, please use "
                        "Base64 encoding.",
                        ADB_RPC_MAX_BASE58_DATA);
}

/* [text, "encoding"] or, for legacy binary, the bare text. */
static int
w_binary(adb_rpc_call_t *c, adb_rpc_enc_t enc, uint8_t const *p, size_t n) {
    adb_json_t *j = &c->out;
    char const *tag = NULL;
    size_t      len = 0;
    switch (enc) {
    case ADB_RPC_ENC_BINARY:
    case ADB_RPC_ENC_BASE58: {
        if (ADB_NEVER(n > ADB_RPC_MAX_BASE58_DATA))
            return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error");
        if (!grow((void **)&c->text, &c->text_cap, 2 * n + 2))
            return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: out of memory");
        if (adb_base58_encode(p, n, c->text, c->text_cap, &len))
            return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: base58");
        tag = enc == ADB_RPC_ENC_BASE58 ? "base58" : NULL;
        break;
    }
    case ADB_RPC_ENC_BASE64_ZSTD: {
        size_t zn;
        if (adb_rpc_zstd(c, p, n, &zn) == 0) {
            if (!grow((void **)&c->text, &c->text_cap, zn / 3 * 4 + 8))
                return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: out of memory");
            len = adb_rpc_b64_encode(c->zbuf, zn, c->text);
            tag = "base64+zstd";
            break;
        }
        /* Agave falls back to plain base64 when compression fails. */
    }
        /* fall through */
    default:
        if ((n + 2) / 3 * 4 > c->r->max_response_sz)
            return adb_rpc_too_large(
                c,
                "use dataSlice (and for getProgramAccounts filters, or limit and paginationKey)");
        if (!grow((void **)&c->text, &c->text_cap, n / 3 * 4 + 8))
            return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: out of memory");
        len = adb_rpc_b64_encode(p, n, c->text);
        tag = "base64";
        break;
    }
    if (!tag) {
        adb_json_strn(j, c->text, len);
        return ADB_RPC_OK;
    }
    adb_json_arr_begin(j);
    adb_json_strn(j, c->text, len);
    adb_json_str(j, tag);
    adb_json_arr_end(j);
    return ADB_RPC_OK;
}

/* The cached mint status of key (looked up at the call's slot once). */
static int
mint_status(adb_rpc_call_t *c, acctdb_pubkey_t const *key, uint8_t *dec_out) {
    *dec_out = 0;
    if (!memcmp(key->b, adb_rpc_native_mint.b, 32)) {
        *dec_out = 9;
        return ADB_TOK_MINT_OK;
    }
    uint64_t h = adb_load_u64(key->b);
    if (c->mint_cap) {
        for (size_t i = h & (c->mint_cap - 1);; i = (i + 1) & (c->mint_cap - 1)) {
            adb_rpc_mint_t *m = &c->mints[i];
            if (m->status < 0) break;
            if (!memcmp(m->key.b, key->b, 32)) {
                *dec_out = m->decimals;
                return m->status;
            }
        }
    }
    /* Not cached: read it (into a buffer of its own: c->data holds the
     * account being encoded). */
    acctdb_account_t ma;
    uint8_t          small[512];
    int              rc = acctdb_db_load(c->r->db, c->slot, key, &ma, small, sizeof small, NULL);
    int              st = ADB_TOK_MINT_MISSING;
    uint8_t          dec = 0;
    if (rc == 0) {
        st = adb_rpc_tok_mint(ma.data, (size_t)ma.data_len, &dec);
    } else if (rc == ACCTDB_ERR_FULL) {
        size_t   need = (size_t)ma.data_len;
        uint8_t *big = adb_malloc(need ? need : 1);
        if (!big) return ACCTDB_ERR_NOMEM;
        rc = acctdb_db_load(c->r->db, c->slot, key, &ma, big, need, NULL);
        if (rc == 0) st = adb_rpc_tok_mint(ma.data, (size_t)ma.data_len, &dec);
        adb_free(big);
    }
    if (rc && rc != ACCTDB_ERR_NOT_FOUND) return rc < 0 ? rc : ACCTDB_ERR_IO;
    /* Remember it. */
    if (c->mint_cnt + 1 > c->mint_cap / 2) {
        size_t          ncap = c->mint_cap ? 2 * c->mint_cap : 64;
        adb_rpc_mint_t *nm = adb_malloc(ncap * sizeof *nm);
        if (nm) {
            for (size_t i = 0; i < ncap; i++)
                nm[i].status = -1;
            for (size_t i = 0; i < c->mint_cap; i++) {
                if (c->mints[i].status < 0) continue;
                size_t k = adb_load_u64(c->mints[i].key.b) & (ncap - 1);
                while (nm[k].status >= 0)
                    k = (k + 1) & (ncap - 1);
                nm[k] = c->mints[i];
            }
            adb_free(c->mints);
            c->mints = nm;
            c->mint_cap = ncap;
        }
    }
    if (c->mint_cnt + 1 <= c->mint_cap / 2) {
        size_t k = h & (c->mint_cap - 1);
        while (c->mints[k].status >= 0)
            k = (k + 1) & (c->mint_cap - 1);
        c->mints[k].key = *key;
        c->mints[k].status = st;
        c->mints[k].decimals = dec;
        c->mint_cnt++;
    }
    *dec_out = dec;
    return st;
}

int
adb_rpc_account_plan(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, acctdb_account_t const *a,
                     int parsed_mode, adb_rpc_plan_t *plan) {
    plan->how = ADB_RPC_HOW_SLICE;
    plan->decimals = 0;
    /* jsonParsed of a token account (Agave's get_parsed_token_account(s)):
     * what Agave cannot parse falls back to base64 of the whole data (a
     * lone account) or is left out (lists); what we do not render exactly
     * falls back to base64 of the whole data. */
    if (cfg->enc == ADB_RPC_ENC_JSON_PARSED && adb_rpc_is_token_program(&a->owner)) {
        acctdb_pubkey_t mint;
        int             kind = adb_rpc_tok_kind(a->data, (size_t)a->data_len, &mint);
        plan->how = ADB_RPC_HOW_PARSED;
        if (kind == ADB_TOK_NONE) {
            if (parsed_mode == ADB_RPC_PARSED_LIST) return ADB_RPC_SKIP;
            plan->how = ADB_RPC_HOW_WHOLE;
        } else if (kind == ADB_TOK_UNSUP) {
            plan->how = ADB_RPC_HOW_WHOLE;
        } else if (kind == ADB_TOK_ACCOUNT) {
            int st = mint_status(c, &mint, &plan->decimals);
            if (st < 0) return adb_rpc_db_fail(c, st);
            if (st == ADB_TOK_MINT_MISSING) {
                if (parsed_mode == ADB_RPC_PARSED_LIST) return ADB_RPC_SKIP;
                plan->how = ADB_RPC_HOW_WHOLE;
            } else if (st == ADB_TOK_MINT_UNSUP) {
                plan->how = ADB_RPC_HOW_WHOLE;
            }
        }
    }
    if (plan->how == ADB_RPC_HOW_SLICE) return adb_rpc_check_b58(c, cfg, a);
    return ADB_RPC_OK;
}

int
adb_rpc_account_emit(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, acctdb_account_t const *a,
                     adb_rpc_plan_t const *plan) {
    adb_json_t *j = &c->out;
    adb_json_obj_begin(j);
    adb_json_key(j, "data");
    if (plan->how == ADB_RPC_HOW_PARSED) {
        adb_rpc_tok_write(j, a, plan->decimals);
    } else {
        adb_rpc_enc_t enc = cfg->enc == ADB_RPC_ENC_JSON_PARSED ? ADB_RPC_ENC_BASE64 : cfg->enc;
        size_t        off = 0, len = (size_t)a->data_len;
        if (plan->how == ADB_RPC_HOW_SLICE) adb_rpc_slice(cfg, (size_t)a->data_len, &off, &len);
        int rc = w_binary(c, enc, a->data + off, len);
        if (rc) return rc;
    }
    adb_json_key(j, "executable");
    adb_json_bool(j, a->executable);
    adb_json_key(j, "lamports");
    adb_json_u64(j, a->lamports);
    adb_json_key(j, "owner");
    adb_json_b58_32(j, a->owner.b);
    adb_json_key(j, "rentEpoch");
    adb_json_u64(j, a->rent_epoch);
    adb_json_key(j, "space");
    adb_json_u64(j, a->data_len);
    adb_json_obj_end(j);
    return ADB_RPC_OK;
}

int
adb_rpc_load(adb_rpc_call_t *c, acctdb_pubkey_t const *key, acctdb_account_t *out,
             bool *found_out) {
    *found_out = false;
    if (!c->data && !grow((void **)&c->data, &c->data_cap, 64u << 10))
        return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: out of memory");
    for (int tries = 0; tries < 3; tries++) {
        int rc = acctdb_db_load(c->r->db, c->slot, key, out, c->data, c->data_cap, NULL);
        if (rc == 0) {
            *found_out = true;
            return ADB_RPC_OK;
        }
        if (rc == ACCTDB_ERR_NOT_FOUND) return ADB_RPC_OK;
        if (rc != ACCTDB_ERR_FULL) return adb_rpc_db_fail(c, rc);
        if (!grow((void **)&c->data, &c->data_cap, (size_t)out->data_len))
            return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR, "Internal error: out of memory");
    }
    return adb_rpc_db_fail(c, ACCTDB_ERR_FULL);
}
