/* src/state/trie_json.c - the JSON form of a trie proof (trie_json.h). */
#include "state/trie_json.h"

#include "util/base58.h"
#include "util/json_out.h"

#include <json-c/json.h>
#include <string.h>

size_t
adb_trie_proof_steps(uint8_t const *proof, size_t len) {
    size_t at;
    if (len < 1) return 0;
    if (proof[0] == 1)
        at = 1 + 32;
    else if (proof[0] == 2)
        at = 1 + 64;
    else
        return 0;
    if (len < at + 2) return 0;
    return (size_t)proof[at] | (size_t)proof[at + 1] << 8;
}

int
adb_trie_proof_json_write(adb_trie_proof_doc_t const *d, char **text_out, size_t *sz_out) {
    *text_out = NULL;
    *sz_out = 0;
    if (d->proof_len > ADB_TRIE_PROOF_MAX) return ACCTDB_ERR_INVALID;
    char       b58[ACCTDB_BASE58_32_SZ];
    adb_json_t j;
    adb_json_init_buf(&j);
    adb_json_set_pretty(&j, true);
    adb_json_obj_begin(&j);
    adb_json_key(&j, "statement");
    adb_json_str(&j, d->is_member ? "member" : "absent");
    adb_json_key(&j, "key");
    adb_json_str(&j, adb_base58_encode_32(d->key, b58));
    adb_json_key(&j, "root");
    adb_json_str(&j, adb_base58_encode_32(d->root, b58));
    if (d->is_member) {
        adb_json_key(&j, "value");
        adb_json_str(&j, adb_base58_encode_32(d->value, b58));
    }
    adb_json_key(&j, "proof_bytes");
    adb_json_u64(&j, d->proof_len);
    adb_json_key(&j, "steps");
    adb_json_u64(&j, adb_trie_proof_steps(d->proof, d->proof_len));
    adb_json_key(&j, "proof");
    adb_json_hex(&j, d->proof, d->proof_len);
    adb_json_obj_end(&j);
    char  *text;
    size_t sz;
    int    rc = adb_json_take(&j, &text, &sz);
    adb_json_fini(&j);
    if (rc) return rc;
    /* The final newline: the text is a file's contents. */
    char *t2 = adb_realloc(text, sz + 2);
    if (!t2) {
        adb_free(text);
        return ACCTDB_ERR_NOMEM;
    }
    t2[sz] = '\n';
    t2[sz + 1] = 0;
    *text_out = t2;
    *sz_out = sz + 1;
    return 0;
}

static int
hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int
field_b58(json_object *v, char const *name, uint8_t out[32], adb_err_t *err) {
    if (!json_object_is_type(v, json_type_string))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: \"%s\" is not a string", name);
    char const *s = json_object_get_string(v);
    size_t      n = (size_t)json_object_get_string_len(v);
    if (adb_base58_decode_32(s, n, out))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "proof: \"%s\" is not the base58 text of 32 bytes", name);
    return 0;
}

static int
field_u64(json_object *v, char const *name, uint64_t *out, adb_err_t *err) {
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: \"%s\" is not a non-negative integer",
                           name);
    *out = (uint64_t)json_object_get_int64(v);
    return 0;
}

static int
read_obj(json_object *root, adb_trie_proof_doc_t *d, adb_err_t *err) {
    if (!json_object_is_type(root, json_type_object))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: the document is not a JSON object");
    bool has_stmt = false, has_key = false, has_root = false, has_val = false, has_proof = false,
         has_bytes = false, has_steps = false;
    uint64_t bytes = 0, steps = 0;
    json_object_object_foreach(root, k, v) {
        if (!strcmp(k, "statement")) {
            if (!json_object_is_type(v, json_type_string))
                return adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: \"statement\" is not a string");
            char const *s = json_object_get_string(v);
            if (!strcmp(s, "member"))
                d->is_member = true;
            else if (!strcmp(s, "absent"))
                d->is_member = false;
            else
                return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                   "proof: \"statement\" must be \"member\" or \"absent\"");
            has_stmt = true;
        } else if (!strcmp(k, "key")) {
            ADB_TRY(field_b58(v, "key", d->key, err));
            has_key = true;
        } else if (!strcmp(k, "root")) {
            ADB_TRY(field_b58(v, "root", d->root, err));
            has_root = true;
        } else if (!strcmp(k, "value")) {
            ADB_TRY(field_b58(v, "value", d->value, err));
            has_val = true;
        } else if (!strcmp(k, "proof_bytes")) {
            ADB_TRY(field_u64(v, "proof_bytes", &bytes, err));
            has_bytes = true;
        } else if (!strcmp(k, "steps")) {
            ADB_TRY(field_u64(v, "steps", &steps, err));
            has_steps = true;
        } else if (!strcmp(k, "proof")) {
            if (!json_object_is_type(v, json_type_string))
                return adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: \"proof\" is not a string");
            char const *s = json_object_get_string(v);
            size_t      n = (size_t)json_object_get_string_len(v);
            if (n % 2 || n / 2 > ADB_TRIE_PROOF_MAX || n == 0)
                return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                   "proof: \"proof\" must be 2 to %u hex digits, an even count",
                                   2 * (unsigned)ADB_TRIE_PROOF_MAX);
            for (size_t i = 0; i < n / 2; i++) {
                int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                    return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                       "proof: \"proof\" has a non-hex character at %zu",
                                       hi < 0 ? 2 * i : 2 * i + 1);
                d->proof[i] = (uint8_t)(hi << 4 | lo);
            }
            d->proof_len = n / 2;
            has_proof = true;
        } else {
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: unknown field \"%.40s\"", k);
        }
    }
    ADB_FAIL_IF(!has_stmt, err, ACCTDB_ERR_CORRUPT, "proof: \"statement\" is missing");
    ADB_FAIL_IF(!has_key, err, ACCTDB_ERR_CORRUPT, "proof: \"key\" is missing");
    ADB_FAIL_IF(!has_root, err, ACCTDB_ERR_CORRUPT, "proof: \"root\" is missing");
    ADB_FAIL_IF(!has_proof, err, ACCTDB_ERR_CORRUPT, "proof: \"proof\" is missing");
    ADB_FAIL_IF(d->is_member && !has_val, err, ACCTDB_ERR_CORRUPT,
                "proof: a \"member\" statement needs its \"value\"");
    ADB_FAIL_IF(!d->is_member && has_val, err, ACCTDB_ERR_CORRUPT,
                "proof: an \"absent\" statement has no \"value\"");
    ADB_FAIL_IF(has_bytes && bytes != d->proof_len, err, ACCTDB_ERR_CORRUPT,
                "proof: \"proof_bytes\" says %llu, the proof has %zu", (unsigned long long)bytes,
                d->proof_len);
    ADB_FAIL_IF(has_steps && steps != adb_trie_proof_steps(d->proof, d->proof_len), err,
                ACCTDB_ERR_CORRUPT, "proof: \"steps\" says %llu, the proof declares %zu",
                (unsigned long long)steps, adb_trie_proof_steps(d->proof, d->proof_len));
    return 0;
}

int
adb_trie_proof_json_read(char const *text, size_t len, adb_trie_proof_doc_t *d, adb_err_t *err) {
    memset(d, 0, sizeof *d);
    ADB_FAIL_IF(len == 0, err, ACCTDB_ERR_CORRUPT, "proof: empty document");
    ADB_FAIL_IF(len > ADB_TRIE_JSON_MAX, err, ACCTDB_ERR_CORRUPT,
                "proof: %zu bytes, more than the %u a proof document may have", len,
                ADB_TRIE_JSON_MAX);
    ADB_FAIL_IF(memchr(text, 0, len) != NULL, err, ACCTDB_ERR_CORRUPT,
                "proof: NUL byte in the text");
    json_tokener *tok = json_tokener_new_ex(4);
    if (!tok) return adb_err_set(err, ACCTDB_ERR_NOMEM, "proof: out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    int          rc = 0;
    if (!root || json_tokener_get_error(tok) != json_tokener_success) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: not JSON (%s)",
                         json_tokener_error_desc(json_tokener_get_error(tok)));
        goto cleanup;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
        if (!strchr(" \t\r\n", text[i])) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "proof: bytes after the JSON object");
            goto cleanup;
        }
    rc = read_obj(root, d, err);
cleanup:
    if (root) json_object_put(root);
    json_tokener_free(tok);
    if (rc) memset(d, 0, sizeof *d);
    return rc;
}
