/* tests/state/test_trie.c - the Avocado crit-bit Merkle trie: hand-built
 * roots and proofs, a model run against a sorted reference whose root is
 * rebuilt by an independent recursion, the acceptance run (every proof of
 * a 1,000,000-key trie, single-bit flips of proofs and roots, forged
 * exclusions), malformed proofs, and out-of-memory paths. */
#include "../test.h"

#include "hash/blake3.h"
#include "state/trie.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- an independent reference ---------------------------------------------
 * Bits and hashes written out again from the format in trie.h, so that the
 * trie is checked against the text of the contract, not against itself. */

typedef struct ent {
    uint8_t key[32];
    uint8_t val[32];
} ent_t;

static unsigned
ref_bit(uint8_t const *k, unsigned d) {
    return (k[d / 8] & (0x80u >> (d % 8))) ? 1u : 0u;
}

static unsigned
ref_diff(uint8_t const *a, uint8_t const *b) {
    for (unsigned d = 0; d < 256; d++)
        if (ref_bit(a, d) != ref_bit(b, d)) return d;
    return 256;
}

static void
ref_leaf(uint8_t out[32], uint8_t const *key, uint8_t const *val) {
    adb_blake3_t h;
    uint8_t      z = 0;
    adb_blake3_init(&h);
    adb_blake3_update(&h, &z, 1);
    adb_blake3_update(&h, key, 32);
    adb_blake3_update(&h, val, 32);
    adb_blake3_finalize(&h, out, 32);
}

static void
ref_node(uint8_t out[32], unsigned d, uint8_t const *l, uint8_t const *r) {
    adb_blake3_t h;
    uint8_t      pre[2] = {1, (uint8_t)d};
    adb_blake3_init(&h);
    adb_blake3_update(&h, pre, 2);
    adb_blake3_update(&h, l, 32);
    adb_blake3_update(&h, r, 32);
    adb_blake3_finalize(&h, out, 32);
}

/* The root of sorted, distinct e[lo..hi): the first and last key of a
 * sorted range differ first at the range's split bit. */
static void
ref_root_range(ent_t const *e, size_t lo, size_t hi, uint8_t out[32]) {
    if (hi - lo == 1) {
        ref_leaf(out, e[lo].key, e[lo].val);
        return;
    }
    unsigned d = ref_diff(e[lo].key, e[hi - 1].key);
    size_t   m = lo;
    while (!ref_bit(e[m].key, d))
        m++;
    uint8_t l[32], r[32];
    ref_root_range(e, lo, m, l);
    ref_root_range(e, m, hi, r);
    ref_node(out, d, l, r);
}

static void
ref_root(ent_t const *e, size_t n, uint8_t out[32]) {
    if (!n)
        memset(out, 0, 32);
    else
        ref_root_range(e, 0, n, out);
}

static int
ent_cmp(void const *a, void const *b) {
    return memcmp(((ent_t const *)a)->key, ((ent_t const *)b)->key, 32);
}

/* A sorted set of entries with room for cap. */
typedef struct model {
    ent_t *e;
    size_t cnt, cap;
} model_t;

static size_t
model_find(model_t const *m, uint8_t const key[32], bool *found) {
    size_t lo = 0, hi = m->cnt;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int    c = memcmp(m->e[mid].key, key, 32);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void
model_set(model_t *m, uint8_t const key[32], uint8_t const val[32]) {
    bool   f;
    size_t i = model_find(m, key, &f);
    if (!f) {
        assert_true(m->cnt < m->cap);
        memmove(&m->e[i + 1], &m->e[i], (m->cnt - i) * sizeof *m->e);
        memcpy(m->e[i].key, key, 32);
        m->cnt++;
    }
    memcpy(m->e[i].val, val, 32);
}

static bool
model_del(model_t *m, uint8_t const key[32]) {
    bool   f;
    size_t i = model_find(m, key, &f);
    if (f) {
        memmove(&m->e[i], &m->e[i + 1], (m->cnt - i - 1) * sizeof *m->e);
        m->cnt--;
    }
    return f;
}

/* ---- helpers -------------------------------------------------------------- */

static adb_trie_t *
trie_new(size_t hint) {
    adb_trie_t *t = NULL;
    assert_int_equal(adb_trie_open(&t, hint), 0);
    assert_non_null(t);
    return t;
}

/* A trie of e[0..n) inserted in a random order. */
static adb_trie_t *
trie_build_shuffled(adb_test_rng_t *r, ent_t const *e, size_t n) {
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    assert_non_null(ord);
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = adb_test_rng_below(r, i), x = ord[i - 1];
        ord[i - 1] = ord[j], ord[j] = x;
    }
    adb_trie_t *t = trie_new(adb_test_rng_below(r, 2) ? n : 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(adb_trie_insert(t, e[ord[i]].key, e[ord[i]].val), 0);
    free(ord);
    return t;
}

typedef struct collect {
    ent_t *e;
    size_t cnt, max;
    int    stop_at; /* return 7 at this call (0-based), -1 never */
} collect_t;

static int
collect_cb(void *ctx, uint8_t const key[32], uint8_t const val[32]) {
    collect_t *c = ctx;
    if (c->stop_at >= 0 && (size_t)c->stop_at == c->cnt) return 7;
    assert_true(c->cnt < c->max);
    memcpy(c->e[c->cnt].key, key, 32);
    memcpy(c->e[c->cnt].val, val, 32);
    c->cnt++;
    return 0;
}

/* Proves key, verifies under root, and checks the outcome; returns the
 * proof's length, its step count in *steps. */
static size_t
prove_check(adb_trie_t *t, uint8_t const root[32], uint8_t const key[32], bool want_member,
            uint8_t const *want_val, uint8_t *proof, size_t *steps) {
    size_t  len = 0;
    bool    is_member = !want_member, v_member = !want_member;
    uint8_t val[32];
    assert_int_equal(adb_trie_prove(t, key, proof, ADB_TRIE_PROOF_MAX, &len, &is_member), 0);
    assert_int_equal(is_member, want_member);
    int rc = adb_trie_verify(root, key, proof, len, &v_member, val);
    if (rc)
        fail_msg("honest %s proof of %zu bytes fails: %s", want_member ? "member" : "absent", len,
                 acctdb_strerror(rc));
    assert_int_equal(v_member, want_member);
    if (want_member)
        assert_memory_equal(val, want_val, 32);
    else {
        static uint8_t const zero[32];
        assert_memory_equal(val, zero, 32);
    }
    if (steps) {
        size_t hdr = proof[0] == ADB_TRIE_PROOF_MEMBER ? 35 : proof[0] == 2 ? 67 : len;
        *steps = len > 1 ? (size_t)proof[hdr - 2] | (size_t)proof[hdr - 1] << 8 : 0;
        assert_int_equal(len, hdr + *steps * 33);
    }
    return len;
}

static int
verify_rc(uint8_t const root[32], uint8_t const key[32], uint8_t const *p, size_t len) {
    bool    m = true;
    uint8_t v[32];
    int     rc = adb_trie_verify(root, key, p, len, &m, v);
    if (rc) {
        static uint8_t const zero[32];
        assert_false(m);
        assert_memory_equal(v, zero, 32);
    }
    return rc;
}

/* ---- 1. hand cases -------------------------------------------------------- */

static void
test_small(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x7A1Eull};
    uint8_t        zero[32] = {0}, root[32], want[32], val[32], proof[ADB_TRIE_PROOF_MAX];
    size_t         len;
    bool           m;

    /* Empty. */
    adb_trie_t *t = trie_new(0);
    assert_int_equal(adb_trie_cnt(t), 0);
    assert_true(adb_trie_mem_sz(t) > 0);
    adb_trie_root(t, root);
    assert_memory_equal(root, zero, 32);
    uint8_t k0[32] = {0}, v0[32], k1[32] = {0}, v1[32];
    memset(v0, 0xA0, 32);
    memset(v1, 0xB1, 32);
    assert_int_equal(adb_trie_get(t, k0, val), ACCTDB_ERR_NOT_FOUND);
    assert_int_equal(adb_trie_remove(t, k0, val), ACCTDB_ERR_NOT_FOUND);
    assert_int_equal(adb_trie_remove(t, k0, NULL), ACCTDB_ERR_NOT_FOUND);
    collect_t c = {malloc(4 * sizeof(ent_t)), 0, 4, -1};
    assert_int_equal(adb_trie_foreach(t, collect_cb, &c), 0);
    assert_int_equal(c.cnt, 0);
    assert_int_equal(adb_trie_prove(t, k0, proof, sizeof proof, &len, &m), 0);
    assert_int_equal(len, 1);
    assert_int_equal(proof[0], 3);
    assert_false(m);
    assert_int_equal(verify_rc(zero, k0, proof, 1), 0);
    assert_int_equal(adb_trie_prove_absent(t, k0, proof, sizeof proof, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(adb_trie_prove(t, k0, proof, 0, &len, &m), ACCTDB_ERR_FULL);
    assert_int_equal(len, 0);

    /* One key: the root is its leaf hash; proofs have no steps. */
    assert_int_equal(adb_trie_insert(t, k0, v0), 0);
    assert_int_equal(adb_trie_cnt(t), 1);
    adb_trie_root(t, root);
    ref_leaf(want, k0, v0);
    assert_memory_equal(root, want, 32);
    assert_int_equal(verify_rc(root, k0, (uint8_t const[]){3}, 1), ACCTDB_ERR_MISMATCH);
    assert_int_equal(adb_trie_prove(t, k0, proof, sizeof proof, &len, &m), 0);
    assert_true(m);
    assert_int_equal(len, 35);
    assert_int_equal(proof[0], 1);
    assert_memory_equal(proof + 1, v0, 32);
    assert_int_equal(proof[33], 0);
    assert_int_equal(proof[34], 0);
    k1[0] = 0x80; /* differs from k0 in bit 0 */
    assert_int_equal(adb_trie_prove(t, k1, proof, sizeof proof, &len, &m), 0);
    assert_false(m);
    assert_int_equal(len, 67);
    assert_int_equal(proof[0], 2);
    assert_memory_equal(proof + 1, k0, 32);
    assert_memory_equal(proof + 33, v0, 32);
    assert_int_equal(verify_rc(root, k1, proof, len), 0);
    assert_int_equal(adb_trie_prove_absent(t, k0, proof, sizeof proof, &len), ACCTDB_ERR_INVALID);
    assert_int_equal(len, 0);

    /* Two keys differing in bit 0, both insertion orders. */
    assert_int_equal(adb_trie_insert(t, k1, v1), 0);
    uint8_t l0[32], l1[32];
    ref_leaf(l0, k0, v0);
    ref_leaf(l1, k1, v1);
    ref_node(want, 0, l0, l1);
    adb_trie_root(t, root);
    assert_memory_equal(root, want, 32);
    adb_trie_t *u = trie_new(1);
    assert_int_equal(adb_trie_insert(u, k1, v1), 0);
    assert_int_equal(adb_trie_insert(u, k0, v0), 0);
    adb_trie_root(u, root);
    assert_memory_equal(root, want, 32);
    /* k1's membership proof: kind 1 | v1 | 1 step | d = 0 | leaf(k0). */
    assert_int_equal(adb_trie_prove(u, k1, proof, sizeof proof, &len, &m), 0);
    assert_true(m);
    assert_int_equal(len, 35 + 33);
    assert_int_equal(proof[33], 1);
    assert_int_equal(proof[34], 0);
    assert_int_equal(proof[35], 0);
    assert_memory_equal(proof + 36, l0, 32);
    assert_int_equal(verify_rc(root, k1, proof, len), 0);
    adb_trie_close(u);

    /* Remove back to empty; val_out gets the value. */
    assert_int_equal(adb_trie_remove(t, k1, val), 0);
    assert_memory_equal(val, v1, 32);
    adb_trie_root(t, root);
    ref_leaf(want, k0, v0);
    assert_memory_equal(root, want, 32);
    assert_int_equal(adb_trie_remove(t, k1, val), ACCTDB_ERR_NOT_FOUND);
    assert_memory_equal(val, zero, 32);
    assert_int_equal(adb_trie_remove(t, k0, NULL), 0);
    assert_int_equal(adb_trie_cnt(t), 0);
    adb_trie_root(t, root);
    assert_memory_equal(root, zero, 32);

    /* Two keys differing only in bit 255. */
    uint8_t a[32], b[32], la[32], lb[32];
    adb_test_rng_fill(&r, a, 32);
    memcpy(b, a, 32);
    a[31] &= 0xFE;
    b[31] |= 0x01;
    assert_int_equal(adb_trie_insert(t, b, v1), 0);
    assert_int_equal(adb_trie_insert(t, a, v0), 0);
    ref_leaf(la, a, v0);
    ref_leaf(lb, b, v1);
    ref_node(want, 255, la, lb);
    adb_trie_root(t, root);
    assert_memory_equal(root, want, 32);
    assert_int_equal(adb_trie_prove(t, a, proof, sizeof proof, &len, &m), 0);
    assert_true(m);
    assert_int_equal(proof[35], 255);
    assert_memory_equal(proof + 36, lb, 32);
    assert_int_equal(verify_rc(root, a, proof, len), 0);
    /* A key that differs from both earlier than bit 255 is absent; its
     * exclusion leaf is whichever side bit 255 of it picks. */
    uint8_t x[32];
    memcpy(x, a, 32);
    x[0] ^= 0x10;
    (void)prove_check(t, root, x, false, NULL, proof, NULL);
    assert_memory_equal(proof + 1, a, 32);
    x[31] |= 1;
    (void)prove_check(t, root, x, false, NULL, proof, NULL);
    assert_memory_equal(proof + 1, b, 32);
    assert_int_equal(adb_trie_remove(t, a, NULL), 0);
    assert_int_equal(adb_trie_remove(t, b, NULL), 0);

    /* Three keys: 00.., 40.., 80..: H(1|0| H(1|1|A|B) | C). */
    uint8_t ka[32] = {0x00}, kb[32] = {0x40}, kc[32] = {0x80}, lc[32], ab[32];
    assert_int_equal(adb_trie_insert(t, kc, v0), 0);
    assert_int_equal(adb_trie_insert(t, kb, v1), 0);
    assert_int_equal(adb_trie_insert(t, ka, v0), 0);
    ref_leaf(la, ka, v0);
    ref_leaf(lb, kb, v1);
    ref_leaf(lc, kc, v0);
    ref_node(ab, 1, la, lb);
    ref_node(want, 0, ab, lc);
    adb_trie_root(t, root);
    assert_memory_equal(root, want, 32);
    /* B's proof: steps d = 1 (sibling A), then d = 0 (sibling AB's peer C). */
    assert_int_equal(adb_trie_prove(t, kb, proof, sizeof proof, &len, &m), 0);
    assert_int_equal(len, 35 + 2 * 33);
    assert_int_equal(proof[35], 1);
    assert_memory_equal(proof + 36, la, 32);
    assert_int_equal(proof[68], 0);
    assert_memory_equal(proof + 69, lc, 32);
    /* FULL: one byte short fails and writes nothing; exact fits. */
    assert_int_equal(adb_trie_prove(t, kb, proof, len - 1, &len, &m), ACCTDB_ERR_FULL);
    assert_int_equal(len, 0);
    assert_false(m);
    assert_int_equal(adb_trie_prove(t, kb, proof, 101, &len, &m), 0);

    /* Replacing a value: same count, new root = a fresh build's; the same
     * value again changes nothing. */
    assert_int_equal(adb_trie_insert(t, kb, v0), 0);
    assert_int_equal(adb_trie_cnt(t), 3);
    assert_int_equal(adb_trie_get(t, kb, val), 0);
    assert_memory_equal(val, v0, 32);
    ref_leaf(lb, kb, v0);
    ref_node(ab, 1, la, lb);
    ref_node(want, 0, ab, lc);
    adb_trie_root(t, root);
    assert_memory_equal(root, want, 32);
    assert_int_equal(adb_trie_insert(t, kb, v0), 0);
    adb_trie_root(t, root);
    assert_memory_equal(root, want, 32);
    adb_trie_close(t);

    /* Order independence: keys with shared prefixes, many shuffles, and
     * removal of half equals a build of the other half. */
    enum { N = 300 };
    ent_t  *e = malloc(N * sizeof *e);
    uint8_t base[4][32];
    assert_non_null(e);
    for (int i = 0; i < 4; i++)
        adb_test_rng_fill(&r, base[i], 32);
    for (size_t i = 0; i < N; i++) {
        bool dup;
        do {
            memcpy(e[i].key, base[adb_test_rng_below(&r, 4)], 32);
            unsigned flips = 1 + (unsigned)adb_test_rng_below(&r, 3);
            for (unsigned f = 0; f < flips; f++) {
                unsigned d = (unsigned)adb_test_rng_below(&r, 256);
                e[i].key[d / 8] ^= (uint8_t)(0x80u >> (d % 8));
            }
            dup = false;
            for (size_t j = 0; j < i; j++)
                dup |= !memcmp(e[j].key, e[i].key, 32);
        } while (dup);
        adb_test_rng_fill(&r, e[i].val, 32);
    }
    qsort(e, N, sizeof *e, ent_cmp);
    ref_root(e, N, want);
    for (int rep = 0; rep < 8; rep++) {
        t = trie_build_shuffled(&r, e, N);
        adb_trie_root(t, root);
        assert_memory_equal(root, want, 32);
        assert_int_equal(adb_trie_cnt(t), N);
        if (rep == 0) {
            /* foreach: ascending, complete, and a non-zero return stops. */
            free(c.e);
            c = (collect_t){malloc(N * sizeof(ent_t)), 0, N, -1};
            assert_int_equal(adb_trie_foreach(t, collect_cb, &c), 0);
            assert_int_equal(c.cnt, N);
            assert_memory_equal(c.e, e, N * sizeof *e);
            c.cnt = 0, c.stop_at = 17;
            assert_int_equal(adb_trie_foreach(t, collect_cb, &c), 7);
            assert_int_equal(c.cnt, 17);
        }
        /* Remove the odd ones in a random order. */
        for (size_t k = 0; k < N; k++) {
            size_t i = (size_t)adb_test_rng_below(&r, N);
            if (i % 2 == 1) (void)adb_trie_remove(t, e[i].key, NULL);
        }
        for (size_t i = 1; i < N; i += 2)
            (void)adb_trie_remove(t, e[i].key, NULL);
        ent_t half[N / 2];
        for (size_t i = 0; i < N / 2; i++)
            half[i] = e[2 * i];
        uint8_t want_half[32];
        ref_root(half, N / 2, want_half);
        adb_trie_root(t, root);
        assert_memory_equal(root, want_half, 32);
        assert_int_equal(adb_trie_cnt(t), N / 2);
        adb_trie_close(t);
    }
    printf("  trie hand cases: empty, 1, 2 (bit 0, bit 255), 3 keys; %d keys x 8 orders\n", N);
    adb_trie_close(NULL);
    free(c.e);
    free(e);
}

/* ---- 2. model ------------------------------------------------------------- */

static void
test_model(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x30DEull};
    enum { POOL = 600 };
    ent_t  *pool = malloc(POOL * sizeof *pool);
    model_t mdl = {malloc(POOL * sizeof(ent_t)), 0, POOL};
    ent_t  *seen = malloc(POOL * sizeof(ent_t));
    uint8_t base[3][32], root[32], want[32], val[32], proof[ADB_TRIE_PROOF_MAX];
    assert_true(pool && mdl.e && seen);
    /* Keys: a third random, the rest near three bases (long shared
     * prefixes, splits anywhere up to bit 255). */
    for (int i = 0; i < 3; i++)
        adb_test_rng_fill(&r, base[i], 32);
    for (size_t i = 0; i < POOL; i++) {
        bool dup;
        do {
            if (i % 3 == 0)
                adb_test_rng_fill(&r, pool[i].key, 32);
            else {
                memcpy(pool[i].key, base[adb_test_rng_below(&r, 3)], 32);
                unsigned d = 128 + (unsigned)adb_test_rng_below(&r, 128);
                pool[i].key[d / 8] ^= (uint8_t)(0x80u >> (d % 8));
                d = (unsigned)adb_test_rng_below(&r, 256);
                if (adb_test_rng_below(&r, 2)) pool[i].key[d / 8] ^= (uint8_t)(0x80u >> (d % 8));
            }
            dup = false;
            for (size_t j = 0; j < i; j++)
                dup |= !memcmp(pool[j].key, pool[i].key, 32);
        } while (dup);
    }
    adb_trie_t *t = trie_new(adb_test_rng_below(&r, 2) ? 0 : POOL);
    size_t      ops = adb_test_scaled(40000), checks = 0, proofs = 0;
    size_t      ins = 0, rem = 0, rem_miss = 0, max_cnt = 0;
    for (size_t op = 0; op < ops; op++) {
        ent_t   *p = &pool[adb_test_rng_below(&r, POOL)];
        uint64_t what = adb_test_rng_below(&r, 10);
        bool     f;
        if (what < (uint64_t)(5 + (mdl.cnt < 50))) {
            adb_test_rng_fill(&r, val, 32);
            if (adb_test_rng_below(&r, 4) == 0) {
                size_t i = model_find(&mdl, p->key, &f);
                if (f) memcpy(val, mdl.e[i].val, 32); /* same value again */
            }
            assert_int_equal(adb_trie_insert(t, p->key, val), 0);
            model_set(&mdl, p->key, val);
            ins++;
        } else if (what < 8) {
            uint8_t got[32];
            int     rc = adb_trie_remove(t, p->key, adb_test_rng_below(&r, 2) ? got : NULL);
            size_t  i = model_find(&mdl, p->key, &f);
            if (f) {
                assert_int_equal(rc, 0);
                model_del(&mdl, p->key);
                (void)i;
                rem++;
            } else {
                assert_int_equal(rc, ACCTDB_ERR_NOT_FOUND);
                rem_miss++;
            }
        } else {
            size_t i = model_find(&mdl, p->key, &f);
            int    rc = adb_trie_get(t, p->key, val);
            assert_int_equal(rc, f ? 0 : ACCTDB_ERR_NOT_FOUND);
            if (f) assert_memory_equal(val, mdl.e[i].val, 32);
        }
        assert_int_equal(adb_trie_cnt(t), mdl.cnt);
        max_cnt = ADB_MAX(max_cnt, mdl.cnt);
        /* The root, sometimes after every op, sometimes after a run of
         * them (many dirty paths at once). */
        if (op % 7 == 0 || adb_test_rng_below(&r, 50) == 0) {
            adb_trie_root(t, root);
            ref_root(mdl.e, mdl.cnt, want);
            if (memcmp(root, want, 32))
                fail_msg("op %zu: root differs from the reference over %zu keys", op, mdl.cnt);
            checks++;
            /* A proof of a random pool key, and of a random key. */
            ent_t  *q = &pool[adb_test_rng_below(&r, POOL)];
            size_t  i = model_find(&mdl, q->key, &f);
            uint8_t rk[32];
            (void)prove_check(t, root, q->key, f, f ? mdl.e[i].val : NULL, proof, NULL);
            adb_test_rng_fill(&r, rk, 32);
            (void)prove_check(t, root, rk, false, NULL, proof, NULL);
            proofs += 2;
        }
        if (op % 997 == 0) {
            /* A from-scratch build of the same set, and foreach order. */
            adb_trie_t *u = trie_build_shuffled(&r, mdl.e, mdl.cnt);
            uint8_t     root_u[32];
            adb_trie_root(t, root);
            adb_trie_root(u, root_u);
            assert_memory_equal(root, root_u, 32);
            adb_trie_close(u);
            collect_t c = {seen, 0, POOL, -1};
            assert_int_equal(adb_trie_foreach(t, collect_cb, &c), 0);
            assert_int_equal(c.cnt, mdl.cnt);
            if (mdl.cnt) assert_memory_equal(seen, mdl.e, mdl.cnt * sizeof(ent_t));
        }
    }
    printf("  trie model: %zu ops (%zu inserts, %zu removes, %zu removes of absent keys), up to "
           "%zu keys, %zu root checks against the reference, %zu proofs\n",
           ops, ins, rem, rem_miss, max_cnt, checks, proofs);
    adb_trie_close(t);
    free(seen);
    free(mdl.e);
    free(pool);
}

/* ---- 3. acceptance -------------------------------------------------------- */

typedef struct proof_stats {
    double sz_sum, steps_sum;
    size_t sz_max, steps_max, cnt;
} proof_stats_t;

static void
stats_add(proof_stats_t *s, size_t sz, size_t steps) {
    s->sz_sum += (double)sz;
    s->steps_sum += (double)steps;
    s->sz_max = ADB_MAX(s->sz_max, sz);
    s->steps_max = ADB_MAX(s->steps_max, steps);
    s->cnt++;
}

/* Every single-bit flip of proof[0..len) fails; returns the flips made. */
static size_t
flip_all(uint8_t const root[32], uint8_t const key[32], uint8_t *proof, size_t len) {
    for (size_t b = 0; b < len * 8; b++) {
        proof[b / 8] ^= (uint8_t)(1u << (b % 8));
        int rc = verify_rc(root, key, proof, len);
        if (rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_MISMATCH)
            fail_msg("flip of bit %zu of a %zu-byte kind-%u proof: verify returned %d", b, len,
                     proof[0] ^ (b < 8 ? (1u << b) : 0), rc);
        proof[b / 8] ^= (uint8_t)(1u << (b % 8));
    }
    uint8_t bad[32];
    memcpy(bad, root, 32);
    for (size_t b = 0; b < 256; b++) {
        bad[b / 8] ^= (uint8_t)(1u << (b % 8));
        assert_int_equal(verify_rc(bad, key, proof, len), ACCTDB_ERR_MISMATCH);
        bad[b / 8] ^= (uint8_t)(1u << (b % 8));
    }
    assert_int_equal(verify_rc(root, key, proof, len), 0);
    return len * 8 + 256;
}

static void
flip_one(adb_test_rng_t *r, uint8_t const root[32], uint8_t const key[32], uint8_t *proof,
         size_t len) {
    size_t b = adb_test_rng_below(r, len * 8);
    proof[b / 8] ^= (uint8_t)(1u << (b % 8));
    int rc = verify_rc(root, key, proof, len);
    if (rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_MISMATCH)
        fail_msg("flip of bit %zu of a %zu-byte proof: verify returned %d", b, len, rc);
    proof[b / 8] ^= (uint8_t)(1u << (b % 8));
}

/* Mean and max proof sizes for the first n keys of e, absent keys from r. */
static void
size_row(adb_test_rng_t *r, ent_t const *e, size_t n, proof_stats_t *mem, proof_stats_t *abs) {
    adb_trie_t *t = trie_new(n);
    uint8_t     root[32], proof[ADB_TRIE_PROOF_MAX], k[32];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(adb_trie_insert(t, e[i].key, e[i].val), 0);
    adb_trie_root(t, root);
    for (size_t i = 0; i < n; i++) {
        size_t steps, len = prove_check(t, root, e[i].key, true, e[i].val, proof, &steps);
        stats_add(mem, len, steps);
        adb_test_rng_fill(r, k, 32);
        len = prove_check(t, root, k, false, NULL, proof, &steps);
        stats_add(abs, len, steps);
    }
    adb_trie_close(t);
}

static void
print_row(size_t n, proof_stats_t const *mem, proof_stats_t const *abs) {
    double lg = log2((double)n);
    printf("  trie: %zu keys, membership proof mean %.0f B (%.1f steps), max %zu B (%zu steps); "
           "exclusion proof mean %.0f B (%.1f steps), max %zu B (%zu steps); log2(n) = %.1f\n",
           n, mem->sz_sum / (double)mem->cnt, mem->steps_sum / (double)mem->cnt, mem->sz_max,
           mem->steps_max, abs->sz_sum / (double)abs->cnt, abs->steps_sum / (double)abs->cnt,
           abs->sz_max, abs->steps_max, lg);
    double ms = mem->steps_sum / (double)mem->cnt, as = abs->steps_sum / (double)abs->cnt;
    if (fabs(ms - lg) > 4 || fabs(as - lg) > 4)
        fail_msg("mean steps %.2f / %.2f not within log2(%zu) = %.2f +- 4", ms, as, n, lg);
}

static void
test_acceptance(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0xACCEull};
    size_t const   n = adb_test_scaled(1000000);
    size_t const   sample = ADB_MIN(adb_test_scaled(1000), n); /* exhaustive flips */
    size_t const   absent_sample = ADB_MIN((size_t)10000, n);
    ent_t         *e = malloc(n * sizeof *e);
    uint8_t       *proof = malloc(ADB_TRIE_PROOF_MAX), *forged = malloc(ADB_TRIE_PROOF_MAX);
    uint8_t        root[32], k[32], val[32];
    assert_true(e && proof && forged);
    for (size_t i = 0; i < n; i++) {
        adb_test_rng_fill(&r, e[i].key, 32);
        adb_test_rng_fill(&r, e[i].val, 32);
    }

    /* Proof sizes at 1k, 10k, 100k (log2 growth). */
    size_t const rows[] = {1000, 10000, 100000};
    for (size_t j = 0; j < ADB_ARRAY_CNT(rows) && rows[j] < n; j++) {
        proof_stats_t mem = {0}, abs = {0};
        size_row(&r, e, rows[j], &mem, &abs);
        print_row(rows[j], &mem, &abs);
    }

    adb_trie_t *t = trie_new(n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(adb_trie_insert(t, e[i].key, e[i].val), 0);
    assert_int_equal(adb_trie_cnt(t), n); /* random keys: no repeats */
    adb_trie_root(t, root);

    /* Membership: every key; the first sample/2 get every bit flipped, the
     * rest one random bit. */
    proof_stats_t mem = {0}, abs = {0};
    size_t        flips = 0;
    for (size_t i = 0; i < n; i++) {
        size_t steps, len = prove_check(t, root, e[i].key, true, e[i].val, proof, &steps);
        stats_add(&mem, len, steps);
        if (i < sample / 2)
            flips += flip_all(root, e[i].key, proof, len);
        else
            flip_one(&r, root, e[i].key, proof, len);
    }
    /* Exclusion: as many random absent keys. */
    for (size_t i = 0; i < n; i++) {
        uint8_t g[32];
        adb_test_rng_fill(&r, k, 32);
        if (adb_trie_get(t, k, g) == 0) continue; /* 2^-236: not absent */
        size_t steps, len = prove_check(t, root, k, false, NULL, proof, &steps);
        stats_add(&abs, len, steps);
        size_t len2 = 0;
        assert_int_equal(adb_trie_prove_absent(t, k, forged, ADB_TRIE_PROOF_MAX, &len2), 0);
        assert_int_equal(len2, len);
        assert_memory_equal(forged, proof, len);
        if (i < sample - sample / 2)
            flips += flip_all(root, k, proof, len);
        else
            flip_one(&r, root, k, proof, len);
    }

    /* Present keys: no exclusion proof; forged ones are refused. */
    collect_t c = {malloc(n * sizeof(ent_t)), 0, n, -1};
    assert_non_null(c.e);
    assert_int_equal(adb_trie_foreach(t, collect_cb, &c), 0);
    assert_int_equal(c.cnt, n);
    for (size_t i = 1; i < n; i++)
        assert_true(memcmp(c.e[i - 1].key, c.e[i].key, 32) < 0);
    size_t forged_cnt = 0;
    for (size_t s = 0; s < absent_sample; s++) {
        size_t i = adb_test_rng_below(&r, n), len = 7, len2;
        bool   m;
        assert_int_equal(adb_trie_prove_absent(t, c.e[i].key, proof, ADB_TRIE_PROOF_MAX, &len),
                         ACCTDB_ERR_INVALID);
        assert_int_equal(len, 0);
        /* The member's own path as an "exclusion": kind 2, leaf = the key. */
        assert_int_equal(adb_trie_prove(t, c.e[i].key, proof, ADB_TRIE_PROOF_MAX, &len, &m), 0);
        assert_true(m);
        forged[0] = ADB_TRIE_PROOF_ABSENT;
        memcpy(forged + 1, c.e[i].key, 32);
        memcpy(forged + 33, proof + 1, len - 1);
        assert_int_equal(verify_rc(root, c.e[i].key, forged, len + 32), ACCTDB_ERR_MISMATCH);
        /* Its neighbours' (and a random member's) real paths as exclusions
         * for it: they hash to the root but are not its search path. */
        size_t const others[3] = {i ? i - 1 : n - 1, i + 1 < n ? i + 1 : 0,
                                  adb_test_rng_below(&r, n)};
        for (size_t o = 0; o < 3; o++) {
            if (others[o] == i) continue;
            assert_int_equal(
                adb_trie_prove(t, c.e[others[o]].key, proof, ADB_TRIE_PROOF_MAX, &len2, &m), 0);
            forged[0] = ADB_TRIE_PROOF_ABSENT;
            memcpy(forged + 1, c.e[others[o]].key, 32);
            memcpy(forged + 33, proof + 1, len2 - 1);
            assert_int_equal(verify_rc(root, c.e[others[o]].key, proof, len2), 0);
            assert_int_equal(verify_rc(root, c.e[i].key, forged, len2 + 32), ACCTDB_ERR_MISMATCH);
            forged_cnt++;
        }
    }
    /* Not even the weaker rule (p not a split bit) is met by them: checked
     * for the nearest neighbour, whose path shares the most with the key. */
    for (size_t s = 0; s < ADB_MIN((size_t)1000, n - 1); s++) {
        size_t i = adb_test_rng_below(&r, n - 1), len2;
        bool   m;
        assert_int_equal(adb_trie_prove(t, c.e[i + 1].key, proof, ADB_TRIE_PROOF_MAX, &len2, &m),
                         0);
        unsigned p = ref_diff(c.e[i].key, c.e[i + 1].key), hits = 0;
        size_t   steps = (size_t)proof[33] | (size_t)proof[34] << 8;
        for (size_t j = 0; j < steps; j++)
            hits += proof[35 + j * 33] == p;
        assert_int_equal(hits, 1);
    }
    print_row(n, &mem, &abs);
    printf("  trie acceptance: %zu membership + %zu exclusion proofs verified; %zu sampled proofs "
           "x every bit and every root bit (%zu flips), one random flip of each other proof, all "
           "refused; %zu present keys refused by prove_absent, %zu forged exclusions refused\n",
           mem.cnt, abs.cnt, sample, flips, absent_sample, absent_sample + forged_cnt);
    /* Check the value round trip once more after the big run. */
    assert_int_equal(adb_trie_get(t, e[n / 2].key, val), 0);
    assert_memory_equal(val, e[n / 2].val, 32);
    adb_trie_close(t);
    free(c.e);
    free(forged);
    free(proof);
    free(e);
}

/* ---- 4. malformed proofs -------------------------------------------------- */

static void
test_malformed(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0xBAD0ull};
    size_t const   n = 1000;
    ent_t         *e = malloc(n * sizeof *e);
    uint8_t       *buf = malloc(ADB_TRIE_PROOF_MAX + 64);
    uint8_t        root[32], zero[32] = {0}, k[32];
    assert_true(e && buf);
    for (size_t i = 0; i < n; i++) {
        adb_test_rng_fill(&r, e[i].key, 32);
        adb_test_rng_fill(&r, e[i].val, 32);
    }
    adb_trie_t *t = trie_build_shuffled(&r, e, n);
    adb_trie_root(t, root);

    size_t truncs = 0, longs = 0;
    for (int kind = 0; kind < 2; kind++) {
        for (int rep = 0; rep < 20; rep++) {
            size_t len;
            bool   m;
            if (kind == 0)
                memcpy(k, e[adb_test_rng_below(&r, n)].key, 32);
            else
                adb_test_rng_fill(&r, k, 32);
            assert_int_equal(adb_trie_prove(t, k, buf, ADB_TRIE_PROOF_MAX, &len, &m), 0);
            assert_int_equal(m, kind == 0);
            assert_int_equal(verify_rc(root, k, buf, len), 0);
            /* Every truncation, including 0 bytes. */
            for (size_t l = 0; l < len; l++, truncs++)
                assert_int_equal(verify_rc(root, k, buf, l), ACCTDB_ERR_CORRUPT);
            /* Over-long by 1..64 bytes of anything. */
            for (size_t x = 1; x <= 64; x++, longs++) {
                buf[len + x - 1] = (uint8_t)adb_test_rng_next(&r);
                assert_int_equal(verify_rc(root, k, buf, len + x), ACCTDB_ERR_CORRUPT);
            }
            /* Split bits not strictly decreasing: a step's d copied to the
             * next one (equal), or the first two steps swapped. */
            size_t hdr = kind == 0 ? 35 : 67, steps = (len - hdr) / 33;
            if (steps >= 2) {
                uint8_t save = buf[hdr + 33];
                buf[hdr + 33] = buf[hdr];
                assert_int_equal(verify_rc(root, k, buf, len), ACCTDB_ERR_CORRUPT);
                buf[hdr + 33] = save;
                uint8_t tmp[33];
                memcpy(tmp, buf + hdr, 33);
                memcpy(buf + hdr, buf + hdr + 33, 33);
                memcpy(buf + hdr + 33, tmp, 33);
                assert_int_equal(verify_rc(root, k, buf, len), ACCTDB_ERR_CORRUPT);
            }
            /* A step count over 256 with a matching length. */
            buf[hdr - 2] = 1, buf[hdr - 1] = 1; /* 257 */
            memset(buf + hdr, 0, 257 * 33);
            for (size_t s = 0; s < 257; s++)
                buf[hdr + s * 33] = (uint8_t)(256 - s);
            assert_int_equal(verify_rc(root, k, buf, hdr + 257 * 33), ACCTDB_ERR_CORRUPT);
        }
    }
    /* Kinds: unknown ones are CORRUPT at any length; kind 3 is exactly 1
     * byte and only under the zero root. */
    for (int kind = 0; kind < 256; kind++) {
        if (kind >= 1 && kind <= 3) continue;
        buf[0] = (uint8_t)kind;
        for (size_t l = 1; l < 200; l += 33)
            assert_int_equal(verify_rc(root, k, buf, l), ACCTDB_ERR_CORRUPT);
    }
    buf[0] = 3;
    assert_int_equal(verify_rc(zero, k, buf, 1), 0);
    assert_int_equal(verify_rc(root, k, buf, 1), ACCTDB_ERR_MISMATCH);
    assert_int_equal(verify_rc(zero, k, buf, 2), ACCTDB_ERR_CORRUPT);
    /* An honest proof under the zero root is a mismatch. */
    size_t len;
    bool   m;
    assert_int_equal(adb_trie_prove(t, e[0].key, buf, ADB_TRIE_PROOF_MAX, &len, &m), 0);
    assert_int_equal(verify_rc(zero, e[0].key, buf, len), ACCTDB_ERR_MISMATCH);
    /* Bad arguments. */
    assert_int_equal(adb_trie_verify(root, e[0].key, buf, len, NULL, NULL), ACCTDB_ERR_INVALID);
    assert_int_equal(adb_trie_verify(NULL, e[0].key, buf, len, &m, NULL), ACCTDB_ERR_INVALID);
    assert_int_equal(adb_trie_verify(root, NULL, buf, len, &m, NULL), ACCTDB_ERR_INVALID);
    assert_int_equal(adb_trie_verify(root, e[0].key, NULL, 5, &m, NULL), ACCTDB_ERR_INVALID);
    assert_int_equal(adb_trie_verify(root, e[0].key, NULL, 0, &m, NULL), ACCTDB_ERR_CORRUPT);
    assert_int_equal(adb_trie_verify(root, e[0].key, buf, len, &m, NULL), 0);
    assert_true(m);
    printf("  trie malformed: %zu truncations and %zu over-long proofs CORRUPT; bad kinds, "
           "step order and counts refused\n",
           truncs, longs);
    adb_trie_close(t);
    free(buf);
    free(e);
}

/* ---- 5. out of memory ----------------------------------------------------- */

static void
test_nomem(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x0003ull};
    adb_trie_t    *t = (adb_trie_t *)&r;
    /* open makes three allocations: failing any one is a clean NOMEM. */
    for (uint64_t nth = 1; nth <= 3; nth++) {
        adb_alloc_fail_after(nth);
        int rc = adb_trie_open(&t, 100);
        adb_alloc_fail_after(0);
        assert_int_equal(rc, ACCTDB_ERR_NOMEM);
        assert_null(t);
    }
    enum { N = 5000 };
    ent_t  *e = malloc(N * sizeof *e);
    uint8_t root[32], want[32], v[32];
    size_t  fails = 0;
    assert_non_null(e);
    t = trie_new(1);
    for (size_t i = 0; i < N; i++) {
        adb_test_rng_fill(&r, e[i].key, 32);
        adb_test_rng_fill(&r, e[i].val, 32);
        size_t mem = adb_trie_mem_sz(t);
        adb_alloc_fail_after(1 + i % 2); /* the leaf array's growth, or the node array's */
        int rc = adb_trie_insert(t, e[i].key, e[i].val);
        adb_alloc_fail_after(0);
        if (rc) {
            assert_int_equal(rc, ACCTDB_ERR_NOMEM);
            assert_int_equal(adb_trie_cnt(t), i);
            assert_int_equal(adb_trie_get(t, e[i].key, v), ACCTDB_ERR_NOT_FOUND);
            fails++;
            if (fails % 2) { /* the trie is still whole */
                qsort(e, i, sizeof *e, ent_cmp);
                adb_trie_root(t, root);
                ref_root(e, i, want);
                assert_memory_equal(root, want, 32);
            }
            assert_int_equal(adb_trie_insert(t, e[i].key, e[i].val), 0);
            assert_true(adb_trie_mem_sz(t) > mem);
        }
    }
    qsort(e, N, sizeof *e, ent_cmp);
    adb_trie_root(t, root);
    ref_root(e, N, want);
    assert_memory_equal(root, want, 32);
    assert_true(fails >= 5);
    printf("  trie nomem: open fails cleanly; %zu failed growths left the trie whole, mem %zu B "
           "for %d keys\n",
           fails, adb_trie_mem_sz(t), N);
    adb_trie_close(t);
    free(e);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_small),      cmocka_unit_test(test_model),
    cmocka_unit_test(test_acceptance), cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_nomem),
};

ADB_TEST_GROUP(trie, tests);
