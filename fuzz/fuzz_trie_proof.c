/* fuzz/fuzz_trie_proof.c - trie proof verification against arbitrary bytes.
 * Input: [key 32 bytes][proof bytes], verified under the root of a fixed
 * 64-key trie (built once from a fixed seed).  Verify must return 0,
 * CORRUPT or MISMATCH; when it accepts, the statement must be true of the
 * trie (present with that value, or absent), and the proof must be the
 * very bytes the prover makes for that key (proofs are canonical).  The
 * honest proof of the key must verify too.  Inputs shorter than a key use
 * the bytes as a key prefix and an empty proof. */
#include "acctdb_sim.h"
#include "state/trie.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define KEY_CNT 64

static adb_trie_t *g_trie;
static uint8_t     g_root[32];

static void
build(void) {
    acctdb_rng_t r = acctdb_rng_seed(0x7121E5EEDull);
    if (adb_trie_open(&g_trie, KEY_CNT)) abort();
    uint8_t k[32], v[32];
    for (size_t i = 0; i < KEY_CNT; i++) {
        /* Every eighth key is the one before with a late bit flipped (deep
         * splits); the rest are random. */
        if (i % 8 == 7)
            k[31] ^= (uint8_t)(1u << (i % 5));
        else
            acctdb_rng_fill(&r, k, 32);
        acctdb_rng_fill(&r, v, 32);
        if (adb_trie_insert(g_trie, k, v)) abort();
    }
    adb_trie_root(g_trie, g_root);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (!g_trie) build();
    uint8_t key[32] = {0};
    memcpy(key, data, sz < 32 ? sz : 32);
    uint8_t const *proof = sz > 32 ? data + 32 : NULL;
    size_t         len = sz > 32 ? sz - 32 : 0;

    bool    is_member = true;
    uint8_t val[32], want[32];
    int     rc = adb_trie_verify(g_root, key, proof, len, &is_member, val);
    bool    present = adb_trie_get(g_trie, key, want) == 0;
    if (rc != 0) {
        if (rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_MISMATCH) abort();
        if (is_member) abort();
    } else {
        if (is_member != present) abort();
        if (is_member && memcmp(val, want, 32)) abort();
    }

    /* The honest proof verifies and is the only one accepted. */
    uint8_t honest[ADB_TRIE_PROOF_MAX];
    size_t  hlen;
    bool    hm;
    if (adb_trie_prove(g_trie, key, honest, sizeof honest, &hlen, &hm)) abort();
    if (hm != present) abort();
    if (rc == 0 && (hlen != len || memcmp(honest, proof, len))) abort();
    if (adb_trie_verify(g_root, key, honest, hlen, &is_member, val) || is_member != present)
        abort();
    return 0;
}
