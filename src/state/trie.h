/* src/state/trie.h - the Avocado index-compression trie: a binary Patricia
 * (crit-bit) Merkle trie over 32-byte keys with 32-byte values, held in
 * memory, that proves a key present (with its value) or absent against
 * its 32-byte root.
 *
 * SHAPE.  Bits are numbered 0..255 from the most significant bit of key
 * byte 0.  An internal node with split bit d has two non-empty subtrees
 * whose keys agree on bits 0..d-1 and differ at d (left: bit d = 0).  Split
 * bits strictly increase from the root down, so a path has at most 256
 * internal nodes.  The shape depends only on the key set, so the root is a
 * function of the (key, value) set alone, whatever the order of inserts and
 * removes.
 *
 * HASHES (BLAKE3-256, src/hash/blake3.h):
 *   leaf      H(0x00 | key[32] | value[32])                    65 bytes
 *   internal  H(0x01 | d (1 byte) | left[32] | right[32])      66 bytes
 *   root      32 zero bytes when empty; else the top node's hash (the
 *             leaf's hash for one key)
 *
 * PROOF ENCODING.  The key is not in the proof: the verifier is given it.
 *   byte 0 kind: 1 member, 2 absent, 3 absent from the empty trie
 *   kind 1: kind | value[32] | step_cnt u16 LE | steps
 *   kind 2: kind | leaf_key[32] | leaf_value[32] | step_cnt u16 LE | steps
 *   kind 3: kind                       (exactly 1 byte; root must be zero)
 *   step:   d (u8) | sibling hash[32]
 * Steps run from the leaf up to the root, so d strictly decreases; the
 * side at each step is the bit of the proven leaf's key at d (the verifier's
 * key for kind 1, leaf_key for kind 2).  The length must be exactly the one
 * the header declares; the largest proof is ADB_TRIE_PROOF_MAX bytes.
 *
 * The exclusion leaf L of an absent key k is where a search for k ends:
 * from the root, at each split bit d go to the side of k's bit d.  Its
 * proof is L's path.  The verifier accepts it when (1) the path hashes to
 * the root, (2) L.key != k, and (3) k's bit equals L.key's bit at every split
 * bit on the path, i.e. the path is k's search path.  (3) implies the rule
 * "p = the first bit where k and L.key differ is no split bit on the path",
 * which is what soundness needs; checking all of (3) makes the proof of an
 * absent key unique, so a verifier and a prover agree byte for byte.
 *
 * WHY IT IS SOUND (given a root from an honest trie of this shape):
 *   - Binding.  Leaves and internal nodes hash distinct messages (prefix
 *     byte 0x00 vs 0x01, 65 vs 66 bytes) and d is hashed, so a proof that
 *     hashes to the root names, short of a BLAKE3 collision, a real leaf
 *     (key', value') and the real split bits and sibling hashes on its path.
 *   - Membership.  The bottom leaf is H(0 | k | value) with the verifier's
 *     own k: k is present with that value.  No L.key == k case can arise
 *     because the proof does not carry a key.
 *   - Exclusion.  Suppose k were present, in leaf K != L.  Take the deepest
 *     node N on L's path whose subtree holds K (the root does).  K and L
 *     lie on different sides of N, so they differ at N's split bit d_N and
 *     agree on every bit before it (the keys of a subtree share the bits
 *     above its split).  So p = d_N, a split bit on the path: rejected.
 *     Hence an accepted exclusion proof means k is absent.
 *   - Order.  An honest path has strictly decreasing d from leaf to root
 *     (and so at most 256 steps); anything else is refused as malformed
 *     before any hashing.
 *   - Empty.  Kind 3 holds only under the all-zero root; a non-empty trie's
 *     root is a BLAKE3 output, zero only with probability 2^-256.
 * The verifier trusts its root: a root built by a dishonest party (another
 * shape, duplicate keys) can "prove" anything.
 *
 * STORAGE.  Leaves (key, value, hash: 97 bytes) and internal nodes (children,
 * split bit, hash: 44 bytes) live in two growable arrays indexed by
 * uint32_t, with free lists; no allocation per node.  10,000,000 keys take
 * about 1.4 GB.  Hashes are cached per node; insert and remove mark the path
 * they change dirty, and adb_trie_root (or a prove) rehashes only dirty nodes.
 *
 * THREADING MODEL: not thread-safe; one owner thread at a time per trie,
 * including for the const functions (nothing is shared between tries).
 * adb_trie_verify is stateless and reentrant.
 */
#ifndef ADB_STATE_TRIE_H
#define ADB_STATE_TRIE_H

#include "util/util.h"

typedef struct adb_trie adb_trie_t;

/* The largest proof: an exclusion proof with 256 steps (8515 bytes). */
#define ADB_TRIE_PROOF_MAX (1 + 64 + 2 + 256 * 33)

#define ADB_TRIE_PROOF_MEMBER      1 /* kind byte: membership */
#define ADB_TRIE_PROOF_ABSENT      2 /* kind byte: exclusion */
#define ADB_TRIE_PROOF_ABSENT_NONE 3 /* kind byte: exclusion from the empty trie */

/* The most keys a trie holds (leaf indices are 31 bits). */
#define ADB_TRIE_KEY_MAX ((size_t)0x7FFFFFFE)

/* adb_trie_open: a new empty trie in *t_out, with room for cnt_hint keys
 * before its arrays grow (0: a small default; a hint above ADB_TRIE_KEY_MAX
 * is clamped).  Errors: ACCTDB_ERR_NOMEM (*t_out is then NULL).  Close it
 * with adb_trie_close. */
int adb_trie_open(adb_trie_t **t_out, size_t cnt_hint);

/* adb_trie_close: frees t and everything in it.  NULL is a no-op. */
void adb_trie_close(adb_trie_t *t);

/* adb_trie_cnt: the number of keys in t. */
size_t adb_trie_cnt(adb_trie_t const *t);

/* adb_trie_mem_sz: bytes allocated for t (arrays at their capacity, plus
 * the handle). */
size_t adb_trie_mem_sz(adb_trie_t const *t);

/* adb_trie_insert: sets key's value to val, adding key if absent and
 * replacing the value if present.  key and val are copied.  Errors:
 * ACCTDB_ERR_NOMEM if the arrays cannot grow or t already holds
 * ADB_TRIE_KEY_MAX keys; t is then unchanged. */
int adb_trie_insert(adb_trie_t *t, uint8_t const key[32], uint8_t const val[32]);

/* adb_trie_remove: removes key; its value goes to val_out when val_out is
 * not NULL.  Never allocates.  Errors: ACCTDB_ERR_NOT_FOUND if key is
 * absent (t unchanged, val_out zeroed). */
int adb_trie_remove(adb_trie_t *t, uint8_t const key[32], uint8_t val_out[32]);

/* adb_trie_get: key's value into val_out.  Errors: ACCTDB_ERR_NOT_FOUND
 * (val_out zeroed). */
int adb_trie_get(adb_trie_t const *t, uint8_t const key[32], uint8_t val_out[32]);

/* adb_trie_root: the root hash of t's current contents into root_out (32
 * zero bytes when empty), rehashing the nodes changed since the last call.
 * Cannot fail. */
void adb_trie_root(adb_trie_t *t, uint8_t root_out[32]);

/* adb_trie_foreach: calls cb(ctx, key, value) for every key in ascending
 * key order (memcmp order) and returns 0; stops at the first non-zero
 * return of cb and returns that value.  key and value point into t and
 * are valid during the call only; cb must not modify t. */
int adb_trie_foreach(adb_trie_t const *t,
                     int (*cb)(void *ctx, uint8_t const key[32], uint8_t const val[32]), void *ctx);

/* adb_trie_prove: writes to proof[0..*len_out) whichever proof holds for
 * key under the current root (adb_trie_root's value): a membership proof
 * when key is present (*is_member_out = true), else an exclusion proof
 * (kind 2, or kind 3 when t is empty).  Rehashes dirty nodes first.  At
 * most ADB_TRIE_PROOF_MAX bytes.  Errors: ACCTDB_ERR_FULL if the proof
 * needs more than proof_max bytes (nothing written, *len_out = 0). */
int adb_trie_prove(adb_trie_t *t, uint8_t const key[32], uint8_t *proof, size_t proof_max,
                   size_t *len_out, bool *is_member_out);

/* adb_trie_prove_absent: like adb_trie_prove, but only an exclusion proof.
 * Errors: ACCTDB_ERR_INVALID if key is present (no exclusion proof exists
 * for a present key; nothing written, *len_out = 0); ACCTDB_ERR_FULL as
 * adb_trie_prove. */
int adb_trie_prove_absent(adb_trie_t *t, uint8_t const key[32], uint8_t *proof, size_t proof_max,
                          size_t *len_out);

/* adb_trie_verify: checks proof[0..len) for key against root alone (no
 * trie needed).  Returns 0 when the proof is well formed and proves key
 * present (*is_member_out = true, its value into val_out) or absent
 * (*is_member_out = false, val_out zeroed) under root.  val_out may be
 * NULL.  Outputs are zeroed on entry and stay so on any error.  Errors:
 *   ACCTDB_ERR_CORRUPT   malformed: empty, unknown kind, truncated or
 *                        over-long (the length must match the step count
 *                        exactly), more than 256 steps, split bits not
 *                        strictly decreasing, kind 3 longer than 1 byte;
 *   ACCTDB_ERR_MISMATCH  well formed, but it does not hash to root, or it
 *                        does not prove the statement (an exclusion leaf
 *                        equal to key or off key's search path; kind 3
 *                        under a non-zero root);
 *   ACCTDB_ERR_INVALID   root, key or is_member_out is NULL, or proof is
 *                        NULL with len > 0.
 * Reentrant. */
int adb_trie_verify(uint8_t const root[32], uint8_t const key[32], uint8_t const *proof, size_t len,
                    bool *is_member_out, uint8_t val_out[32]);

#endif
