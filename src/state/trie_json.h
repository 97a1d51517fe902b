/* src/state/trie_json.h - the JSON form of a trie proof, as `acctdb state
 * prove` prints it and `acctdb state verify-proof` reads it.
 *
 *   {"statement": "member" | "absent",
 *    "key":   base58 of the 32-byte key the statement is about,
 *    "root":  base58 of the root the proof was made against,
 *    "value": base58 of the 32-byte leaf value (members only),
 *    "proof": lowercase hex of the binary proof (src/state/trie.h),
 *    "proof_bytes": its length, "steps": its step count (informational;
 *    checked against "proof" when present)}
 *
 * Reading is strict: an object with exactly these keys (unknown keys are
 * refused, so a typo is not silently ignored), each of its type, nesting
 * depth at most 4, at most ADB_TRIE_JSON_MAX bytes of text.  The reader
 * checks the form only; whether the proof holds under a root is
 * adb_trie_verify's business (a verifier trusts the root it is given, never
 * the one in the file).
 *
 * THREADING MODEL: reentrant; values are the caller's. */
#ifndef ADB_STATE_TRIE_JSON_H
#define ADB_STATE_TRIE_JSON_H

#include "state/trie.h"
#include "util/util.h"

#define ADB_TRIE_JSON_MAX (64u << 10)

typedef struct adb_trie_proof_doc {
    uint8_t key[32];
    uint8_t root[32];
    uint8_t value[32]; /* members only (zero otherwise) */
    bool    is_member;
    size_t  proof_len;
    uint8_t proof[ADB_TRIE_PROOF_MAX];
} adb_trie_proof_doc_t;

/* adb_trie_proof_steps: the step count a well-formed binary proof declares
 * (0 for a malformed one or the empty-trie form). */
size_t adb_trie_proof_steps(uint8_t const *proof, size_t len);

/* adb_trie_proof_json_write: d as a JSON document (NUL-terminated, with a
 * final newline) in *text_out (adb_free).  Errors: NOMEM, INVALID (a
 * proof longer than ADB_TRIE_PROOF_MAX). */
int adb_trie_proof_json_write(adb_trie_proof_doc_t const *d, char **text_out, size_t *sz_out);

/* adb_trie_proof_json_read: the document in text[0..len) into *d.
 * Errors: CORRUPT with err saying which field is wrong and why; NOMEM. */
int adb_trie_proof_json_read(char const *text, size_t len, adb_trie_proof_doc_t *d, adb_err_t *err);

#endif
