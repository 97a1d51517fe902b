/* src/api/api_state.c - the public acctdb_trie_* checks: thin wrappers
 * over the trie's verifier (src/state/trie.c) and its JSON form
 * (src/state/trie_json.c). */
#include "state/trie_json.h"
#include "util/base58.h"

#include <stdio.h>
#include <string.h>

int
acctdb_trie_verify(uint8_t const root[32], uint8_t const key[32], uint8_t const *proof, size_t len,
                   bool *is_member_out, uint8_t value_out[32]) {
    if (is_member_out) *is_member_out = false;
    if (value_out) memset(value_out, 0, 32);
    if (!root || !key || !is_member_out || (!proof && len)) return ACCTDB_ERR_INVALID;
    return adb_trie_verify(root, key, proof, len, is_member_out, value_out);
}

static int
msg(char *out, size_t max, int rc, char const *text) {
    if (out && max) snprintf(out, max, "%s", text);
    return rc;
}

/* Reads a proof document into a new *d_out (adb_free), or returns the
 * error with msg_out set. */
static int
doc_read(char const *text, size_t len, adb_trie_proof_doc_t **d_out, char *msg_out,
         size_t msg_max) {
    adb_trie_proof_doc_t *d = *d_out = adb_malloc(sizeof *d);
    if (!d) return msg(msg_out, msg_max, ACCTDB_ERR_NOMEM, "out of memory");
    adb_err_t err;
    adb_err_clear(&err);
    int rc = adb_trie_proof_json_read(text, len, d, &err);
    if (rc) msg(msg_out, msg_max, rc, err.msg);
    return rc;
}

int
acctdb_trie_verify_json(uint8_t const root[32], char const *text, size_t len,
                        acctdb_trie_statement_t *out, char *msg_out, size_t msg_max) {
    if (out) memset(out, 0, sizeof *out);
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!root || (!text && len)) return msg(msg_out, msg_max, ACCTDB_ERR_INVALID, "bad arguments");
    adb_trie_proof_doc_t *d;
    int                   rc = doc_read(text, len, &d, msg_out, msg_max);
    if (rc) goto cleanup;
    if (out) {
        out->is_member = d->is_member;
        memcpy(out->key.b, d->key, 32);
        memcpy(out->value.b, d->value, 32);
        memcpy(out->doc_root.b, d->root, 32);
        out->proof_bytes = d->proof_len;
        out->steps = adb_trie_proof_steps(d->proof, d->proof_len);
    }
    char a[ACCTDB_BASE58_32_SZ], b[ACCTDB_BASE58_32_SZ], m[256];
    if (memcmp(d->root, root, 32)) {
        snprintf(m, sizeof m, "the proof was made against root %s, not the trusted root %s",
                 adb_base58_encode_32(d->root, a), adb_base58_encode_32(root, b));
        rc = msg(msg_out, msg_max, ACCTDB_ERR_MISMATCH, m);
        goto cleanup;
    }
    bool    member;
    uint8_t val[32];
    rc = adb_trie_verify(root, d->key, d->proof, d->proof_len, &member, val);
    if (rc == ACCTDB_ERR_CORRUPT) {
        msg(msg_out, msg_max, rc,
            "proof: the binary proof is malformed (truncated, over-long "
            "or of an unknown kind)");
    } else if (rc) {
        snprintf(m, sizeof m, "the proof does not hash to root %s for key %s",
                 adb_base58_encode_32(root, a), adb_base58_encode_32(d->key, b));
        msg(msg_out, msg_max, rc, m);
    } else if (member != d->is_member) {
        snprintf(m, sizeof m, "the document states %s, the proof shows the key is %s",
                 d->is_member ? "member" : "absent", member ? "a member" : "absent");
        rc = msg(msg_out, msg_max, ACCTDB_ERR_MISMATCH, m);
    } else if (member && memcmp(val, d->value, 32)) {
        snprintf(m, sizeof m, "the document's value %s is not the member's value %s",
                 adb_base58_encode_32(d->value, a), adb_base58_encode_32(val, b));
        rc = msg(msg_out, msg_max, ACCTDB_ERR_MISMATCH, m);
    }
cleanup:
    adb_free(d);
    return rc;
}

int
acctdb_trie_proof_json(acctdb_trie_proof_t const *p, char **json_out, size_t *len_out) {
    if (json_out) *json_out = NULL;
    if (len_out) *len_out = 0;
    if (!p || !json_out || p->len > ACCTDB_TRIE_PROOF_MAX) return ACCTDB_ERR_INVALID;
    adb_trie_proof_doc_t *d = adb_calloc(1, sizeof *d);
    if (!d) return ACCTDB_ERR_NOMEM;
    memcpy(d->key, p->key.b, 32);
    memcpy(d->root, p->trie.root.b, 32);
    if (p->is_member) memcpy(d->value, p->value.b, 32);
    d->is_member = p->is_member;
    d->proof_len = p->len;
    memcpy(d->proof, p->proof, p->len);
    size_t sz = 0;
    int    rc = adb_trie_proof_json_write(d, json_out, &sz);
    if (!rc && len_out) *len_out = sz;
    adb_free(d);
    return rc;
}

int
acctdb_trie_proof_from_json(char const *text, size_t len, acctdb_trie_proof_t *out, char *msg_out,
                            size_t msg_max) {
    if (out) memset(out, 0, sizeof *out);
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!out || (!text && len)) return msg(msg_out, msg_max, ACCTDB_ERR_INVALID, "bad arguments");
    adb_trie_proof_doc_t *d;
    int                   rc = doc_read(text, len, &d, msg_out, msg_max);
    if (!rc) {
        memcpy(out->key.b, d->key, 32);
        memcpy(out->trie.root.b, d->root, 32);
        memcpy(out->value.b, d->value, 32);
        out->is_member = d->is_member;
        out->len = d->proof_len;
        memcpy(out->proof, d->proof, d->proof_len);
    }
    adb_free(d);
    return rc;
}
