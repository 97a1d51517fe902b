/* fuzz/fuzz_proof_json.c - a trie proof document (`acctdb state
 * verify-proof`): the JSON reader and the check against a root must
 * answer 0, CORRUPT or MISMATCH for any text, never crash or hang; an
 * accepted document must re-verify from its binary proof alone. */
#include "state/trie_json.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz > ADB_TRIE_JSON_MAX + 16) return 0;
    adb_trie_proof_doc_t *d = malloc(sizeof *d);
    if (!d) return 0;
    adb_err_t err = {0};
    int       rc = adb_trie_proof_json_read((char const *)data, sz, d, &err);
    if (rc == 0) {
        /* The root it names, trusted: the statement must hold or not,
         * consistently with the binary verifier. */
        acctdb_trie_statement_t st;
        char                    msg[256];
        int     r2 = acctdb_trie_verify_json(d->root, (char const *)data, sz, &st, msg, sizeof msg);
        bool    member;
        uint8_t val[32];
        int     r3 = adb_trie_verify(d->root, d->key, d->proof, d->proof_len, &member, val);
        if (r2 != 0 && r2 != ACCTDB_ERR_CORRUPT && r2 != ACCTDB_ERR_MISMATCH) abort();
        if (r2 == 0 && (r3 != 0 || member != d->is_member)) abort();
        if (r2 == 0 && member && memcmp(val, d->value, 32)) abort();
        /* Round trip through the writer. */
        char  *text;
        size_t tsz;
        if (adb_trie_proof_json_write(d, &text, &tsz) == 0) {
            adb_trie_proof_doc_t *e = malloc(sizeof *e);
            if (e && adb_trie_proof_json_read(text, tsz, e, &err) != 0) abort();
            if (e && (e->proof_len != d->proof_len || memcmp(e->proof, d->proof, d->proof_len) ||
                      memcmp(e->key, d->key, 32) || memcmp(e->root, d->root, 32)))
                abort();
            free(e);
            adb_free(text);
        }
    } else if (rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_NOMEM) {
        abort();
    }
    free(d);
    return 0;
}
