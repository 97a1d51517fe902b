/* src/state/trie.c - the Avocado crit-bit Merkle trie (contract, hashes and
 * proof format in trie.h).
 *
 * A node reference is a uint32_t: LEAF_TAG | leaf index, an internal node
 * index, or NIL (the empty trie).  Leaf and node slots come from two arrays
 * that grow by half; freed slots go on a free list threaded through the
 * slot itself (the first 4 key bytes of a leaf, kid[0] of a node).
 *
 * Invariants:
 *   1. Split bits strictly increase from the root down; every internal node
 *      has two children; the keys under a node with split d agree on bits
 *      0..d-1 (crit-bit shape, so in-order = ascending keys).
 *   2. A node whose hash is stale is dirty, and every ancestor of a dirty
 *      node is dirty: root() descends only into dirty nodes.
 *   3. cnt leaves are in use and cnt - 1 internal nodes (none when empty).
 */
#include "state/trie.h"

#include "hash/blake3.h"

#include <sys/mman.h>

#define LEAF_TAG 0x80000000u
#define NIL      0xFFFFFFFFu
#define NODE_MAX ((uint32_t)ADB_TRIE_KEY_MAX) /* internal node indices: 31 bits too */

/* 97 bytes, byte-aligned: an array of them packs with no padding. */
typedef struct leaf {
    uint8_t key[32];
    uint8_t val[32];
    uint8_t hash[32];
    uint8_t is_dirty;
} leaf_t;

typedef struct node {
    uint32_t kid[2]; /* refs: kid[0] has bit d = 0 */
    uint8_t  bit;    /* split bit d */
    uint8_t  is_dirty;
    uint8_t  hash[32];
} node_t;

struct adb_trie {
    leaf_t  *leaf;
    node_t  *node;
    uint32_t leaf_cap, leaf_hw, leaf_free; /* capacity, slots ever used, free list */
    uint32_t node_cap, node_hw, node_free;
    uint32_t root;
    size_t   cnt;
};

_Static_assert(sizeof(leaf_t) == 97, "leaf packs to 97 bytes");
_Static_assert(sizeof(node_t) == 44, "node packs to 44 bytes");

/* ---- bits and hashes ------------------------------------------------------ */

static inline unsigned
bit_at(uint8_t const k[32], unsigned d) {
    return (unsigned)(k[d >> 3] >> (7 - (d & 7))) & 1u;
}

static inline uint64_t
load_be64(uint8_t const *p) {
    return __builtin_bswap64(adb_load_u64(p));
}

/* The first bit where a and b differ, 256 if equal. */
static inline unsigned
first_diff(uint8_t const a[32], uint8_t const b[32]) {
    for (unsigned i = 0; i < 32; i += 8) {
        uint64_t x = load_be64(a + i) ^ load_be64(b + i);
        if (x) return i * 8 + (unsigned)__builtin_clzll(x);
    }
    return 256;
}

static void
hash_leaf(uint8_t out[32], uint8_t const key[32], uint8_t const val[32]) {
    uint8_t m[65];
    m[0] = 0x00;
    memcpy(m + 1, key, 32);
    memcpy(m + 33, val, 32);
    adb_blake3_hash(m, sizeof m, out, 32);
}

static void
hash_node(uint8_t out[32], unsigned d, uint8_t const left[32], uint8_t const right[32]) {
    uint8_t m[66];
    m[0] = 0x01;
    m[1] = (uint8_t)d;
    memcpy(m + 2, left, 32);
    memcpy(m + 34, right, 32);
    adb_blake3_hash(m, sizeof m, out, 32);
}

/* ---- slots ---------------------------------------------------------------- */

static inline bool
is_leaf(uint32_t ref) {
    return (ref & LEAF_TAG) != 0;
}

static inline leaf_t *
leaf_of(adb_trie_t const *t, uint32_t ref) {
    return &t->leaf[ref & ~LEAF_TAG];
}

static inline uint8_t const *
hash_of(adb_trie_t const *t, uint32_t ref) {
    return is_leaf(ref) ? leaf_of(t, ref)->hash : t->node[ref].hash;
}

static uint32_t
grow_cap(uint32_t cap) {
    uint64_t c = (uint64_t)cap + cap / 2 + 64;
    return c > NODE_MAX ? NODE_MAX : (uint32_t)c;
}

/* Asks for transparent huge pages over the 2 MiB-aligned interior of a big
 * array: a descent touches ~log2(n) random lines, and with 4 KiB pages
 * each also misses the TLB.  Advice only: failure changes nothing. */
static void
advise_huge(void *p, size_t sz) {
    uintptr_t const huge = (uintptr_t)2 << 20;
    uintptr_t       lo = ADB_ALIGN_UP((uintptr_t)p, huge), hi = ((uintptr_t)p + sz) & ~(huge - 1);
    if (sz >= 2 * huge && hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/* Makes room for one more leaf and one more node; t unchanged on error. */
static int
reserve(adb_trie_t *t) {
    if (t->leaf_free == NIL && t->leaf_hw == t->leaf_cap) {
        if (t->leaf_cap >= NODE_MAX) return ACCTDB_ERR_NOMEM;
        uint32_t cap = grow_cap(t->leaf_cap);
        leaf_t  *l = adb_realloc(t->leaf, (size_t)cap * sizeof *l);
        if (!l) return ACCTDB_ERR_NOMEM;
        t->leaf = l, t->leaf_cap = cap;
        advise_huge(l, (size_t)cap * sizeof *l);
    }
    if (t->node_free == NIL && t->node_hw == t->node_cap) {
        if (t->node_cap >= NODE_MAX) return ACCTDB_ERR_NOMEM;
        uint32_t cap = grow_cap(t->node_cap);
        node_t  *n = adb_realloc(t->node, (size_t)cap * sizeof *n);
        if (!n) return ACCTDB_ERR_NOMEM;
        t->node = n, t->node_cap = cap;
        advise_huge(n, (size_t)cap * sizeof *n);
    }
    return 0;
}

/* A leaf slot (after reserve). */
static uint32_t
leaf_take(adb_trie_t *t) {
    uint32_t i = t->leaf_free;
    if (i != NIL)
        t->leaf_free = adb_load_u32(t->leaf[i].key);
    else
        i = t->leaf_hw++;
    return i;
}

static void
leaf_put(adb_trie_t *t, uint32_t i) {
    adb_store_u32(t->leaf[i].key, t->leaf_free);
    t->leaf_free = i;
}

static uint32_t
node_take(adb_trie_t *t) {
    uint32_t i = t->node_free;
    if (i != NIL)
        t->node_free = t->node[i].kid[0];
    else
        i = t->node_hw++;
    return i;
}

static void
node_put(adb_trie_t *t, uint32_t i) {
    t->node[i].kid[0] = t->node_free;
    t->node_free = i;
}

/* ---- open / close --------------------------------------------------------- */

int
adb_trie_open(adb_trie_t **t_out, size_t cnt_hint) {
    *t_out = NULL;
    adb_trie_t *t = adb_calloc(1, sizeof *t);
    if (!t) return ACCTDB_ERR_NOMEM;
    size_t cap = cnt_hint ? ADB_MIN(cnt_hint, ADB_TRIE_KEY_MAX) : 64;
    t->leaf_cap = t->node_cap = (uint32_t)cap;
    t->leaf_free = t->node_free = t->root = NIL;
    t->leaf = adb_malloc(cap * sizeof *t->leaf);
    t->node = adb_malloc(cap * sizeof *t->node);
    if (!t->leaf || !t->node) {
        adb_trie_close(t);
        return ACCTDB_ERR_NOMEM;
    }
    advise_huge(t->leaf, cap * sizeof *t->leaf);
    advise_huge(t->node, cap * sizeof *t->node);
    *t_out = t;
    return 0;
}

void
adb_trie_close(adb_trie_t *t) {
    if (!t) return;
    adb_free(t->leaf);
    adb_free(t->node);
    adb_free(t);
}

size_t
adb_trie_cnt(adb_trie_t const *t) {
    return t->cnt;
}

size_t
adb_trie_mem_sz(adb_trie_t const *t) {
    return sizeof *t + (size_t)t->leaf_cap * sizeof(leaf_t) + (size_t)t->node_cap * sizeof(node_t);
}

/* ---- lookups and updates -------------------------------------------------- */

/* The leaf a search for key ends at (root != NIL). */
static uint32_t
search(adb_trie_t const *t, uint8_t const key[32]) {
    uint32_t r = t->root;
    while (!is_leaf(r)) {
        node_t const *n = &t->node[r];
        r = n->kid[bit_at(key, n->bit)];
    }
    return r;
}

int
adb_trie_get(adb_trie_t const *t, uint8_t const key[32], uint8_t val_out[32]) {
    memset(val_out, 0, 32);
    if (t->root == NIL) return ACCTDB_ERR_NOT_FOUND;
    leaf_t const *l = leaf_of(t, search(t, key));
    if (memcmp(l->key, key, 32)) return ACCTDB_ERR_NOT_FOUND;
    memcpy(val_out, l->val, 32);
    return 0;
}

int
adb_trie_insert(adb_trie_t *t, uint8_t const key[32], uint8_t const val[32]) {
    /* One descent to the leaf a search for key ends at, keeping the path:
     * key's bits agree with that leaf's at every split on it, so the first
     * bit p where they differ is no split bit on the path. */
    uint32_t path[256];
    uint8_t  path_bit[256];
    unsigned depth = 0, p = 0;
    if (t->root != NIL) {
        uint32_t r = t->root;
        while (!is_leaf(r)) {
            node_t const *n = &t->node[r];
            path[depth] = r, path_bit[depth++] = n->bit;
            r = n->kid[bit_at(key, n->bit)];
        }
        leaf_t *l = leaf_of(t, r);
        p = first_diff(key, l->key);
        if (p == 256) {
            /* Replace: the leaf and its path become dirty. */
            if (!memcmp(l->val, val, 32)) return 0;
            memcpy(l->val, val, 32);
            l->is_dirty = 1;
            for (unsigned i = 0; i < depth; i++)
                t->node[path[i]].is_dirty = 1;
            return 0;
        }
    }
    if (t->cnt >= ADB_TRIE_KEY_MAX) return ACCTDB_ERR_NOMEM;
    ADB_TRY(reserve(t));

    uint32_t li = leaf_take(t);
    leaf_t  *l = &t->leaf[li];
    memcpy(l->key, key, 32);
    memcpy(l->val, val, 32);
    l->is_dirty = 1;
    t->cnt++;
    if (t->root == NIL) {
        t->root = li | LEAF_TAG;
        return 0;
    }
    /* The new node goes above the first node on the path whose split bit is
     * past p (or above the leaf); the nodes before it become dirty. */
    unsigned j = 0;
    while (j < depth && path_bit[j] < p)
        t->node[path[j++]].is_dirty = 1;
    uint32_t *slot = j ? &t->node[path[j - 1]].kid[bit_at(key, path_bit[j - 1])] : &t->root;
    uint32_t  ni = node_take(t);
    node_t   *n = &t->node[ni];
    unsigned  side = bit_at(key, p);
    n->bit = (uint8_t)p;
    n->is_dirty = 1;
    n->kid[side] = li | LEAF_TAG;
    n->kid[side ^ 1] = *slot;
    *slot = ni;
    return 0;
}

int
adb_trie_remove(adb_trie_t *t, uint8_t const key[32], uint8_t val_out[32]) {
    if (val_out) memset(val_out, 0, 32);
    if (t->root == NIL) return ACCTDB_ERR_NOT_FOUND;
    uint32_t  path[256];
    unsigned  depth = 0;
    uint32_t *slot = &t->root, *up = NULL; /* up: the slot holding the parent */
    while (!is_leaf(*slot)) {
        node_t *n = &t->node[*slot];
        path[depth++] = *slot;
        up = slot;
        slot = &n->kid[bit_at(key, n->bit)];
    }
    uint32_t li = *slot & ~LEAF_TAG;
    if (memcmp(t->leaf[li].key, key, 32)) return ACCTDB_ERR_NOT_FOUND;
    if (val_out) memcpy(val_out, t->leaf[li].val, 32);
    leaf_put(t, li);
    t->cnt--;
    if (!up) {
        t->root = NIL;
        return 0;
    }
    /* The parent goes; the sibling takes its place under the grandparent. */
    uint32_t pi = path[depth - 1];
    node_t  *pn = &t->node[pi];
    *up = pn->kid[bit_at(key, pn->bit) ^ 1];
    node_put(t, pi);
    for (unsigned i = 0; i + 1 < depth; i++)
        t->node[path[i]].is_dirty = 1;
    return 0;
}

/* ---- hashing -------------------------------------------------------------- */

/* Rehashes the dirty nodes under r (invariant 2).  Depth <= 257. */
static void
rehash(adb_trie_t *t, uint32_t r) {
    if (is_leaf(r)) {
        leaf_t *l = leaf_of(t, r);
        if (l->is_dirty) {
            hash_leaf(l->hash, l->key, l->val);
            l->is_dirty = 0;
        }
        return;
    }
    node_t *n = &t->node[r];
    if (!n->is_dirty) return;
    /* Both children's lines are wanted soon: start the misses together. */
    for (int i = 0; i < 2; i++)
        __builtin_prefetch(is_leaf(n->kid[i]) ? (void const *)leaf_of(t, n->kid[i])
                                              : (void const *)&t->node[n->kid[i]]);
    rehash(t, n->kid[0]);
    rehash(t, n->kid[1]);
    hash_node(n->hash, n->bit, hash_of(t, n->kid[0]), hash_of(t, n->kid[1]));
    n->is_dirty = 0;
}

void
adb_trie_root(adb_trie_t *t, uint8_t root_out[32]) {
    if (t->root == NIL) {
        memset(root_out, 0, 32);
        return;
    }
    rehash(t, t->root);
    memcpy(root_out, hash_of(t, t->root), 32);
}

/* ---- iteration ------------------------------------------------------------ */

int
adb_trie_foreach(adb_trie_t const *t,
                 int (*cb)(void *ctx, uint8_t const key[32], uint8_t const val[32]), void *ctx) {
    if (t->root == NIL) return 0;
    uint32_t stack[260]; /* a path of <= 256 nodes holds <= 256 pending right kids */
    size_t   top = 0;
    stack[top++] = t->root;
    while (top) {
        uint32_t r = stack[--top];
        while (!is_leaf(r)) {
            node_t const *n = &t->node[r];
            stack[top++] = n->kid[1];
            r = n->kid[0];
        }
        leaf_t const *l = leaf_of(t, r);
        int           rc = cb(ctx, l->key, l->val);
        if (rc) return rc;
    }
    return 0;
}

/* ---- proofs --------------------------------------------------------------- */

#define MEMBER_HDR_SZ (1 + 32 + 2)
#define ABSENT_HDR_SZ (1 + 64 + 2)
#define STEP_SZ       33

/* Writes the proof for key; absent_only refuses a present key. */
static int
prove(adb_trie_t *t, uint8_t const key[32], uint8_t *proof, size_t proof_max, size_t *len_out,
      bool *is_member_out, bool absent_only) {
    *len_out = 0;
    if (is_member_out) *is_member_out = false;
    if (t->root == NIL) {
        if (proof_max < 1) return ACCTDB_ERR_FULL;
        proof[0] = ADB_TRIE_PROOF_ABSENT_NONE;
        *len_out = 1;
        return 0;
    }
    uint32_t path[256];
    unsigned depth = 0;
    uint32_t r = t->root;
    while (!is_leaf(r)) {
        node_t const *n = &t->node[r];
        path[depth++] = r;
        r = n->kid[bit_at(key, n->bit)];
    }
    leaf_t const *l = leaf_of(t, r);
    bool          member = !memcmp(l->key, key, 32);
    if (member && absent_only) return ACCTDB_ERR_INVALID;
    size_t sz = (member ? MEMBER_HDR_SZ : ABSENT_HDR_SZ) + (size_t)depth * STEP_SZ;
    if (sz > proof_max) return ACCTDB_ERR_FULL;

    rehash(t, t->root);
    uint8_t *w = proof;
    *w++ = member ? ADB_TRIE_PROOF_MEMBER : ADB_TRIE_PROOF_ABSENT;
    if (!member) memcpy(w, l->key, 32), w += 32;
    memcpy(w, l->val, 32), w += 32;
    *w++ = (uint8_t)(depth & 0xFF);
    *w++ = (uint8_t)(depth >> 8);
    for (unsigned i = depth; i-- > 0;) {
        node_t const *n = &t->node[path[i]];
        *w++ = n->bit;
        memcpy(w, hash_of(t, n->kid[bit_at(l->key, n->bit) ^ 1]), 32), w += 32;
    }
    ADB_ASSERT((size_t)(w - proof) == sz);
    *len_out = sz;
    if (is_member_out) *is_member_out = member;
    return 0;
}

int
adb_trie_prove(adb_trie_t *t, uint8_t const key[32], uint8_t *proof, size_t proof_max,
               size_t *len_out, bool *is_member_out) {
    return prove(t, key, proof, proof_max, len_out, is_member_out, false);
}

int
adb_trie_prove_absent(adb_trie_t *t, uint8_t const key[32], uint8_t *proof, size_t proof_max,
                      size_t *len_out) {
    return prove(t, key, proof, proof_max, len_out, NULL, true);
}

int
adb_trie_verify(uint8_t const root[32], uint8_t const key[32], uint8_t const *proof, size_t len,
                bool *is_member_out, uint8_t val_out[32]) {
    if (is_member_out) *is_member_out = false;
    if (val_out) memset(val_out, 0, 32);
    if (!root || !key || !is_member_out || (!proof && len)) return ACCTDB_ERR_INVALID;
    if (len < 1) return ACCTDB_ERR_CORRUPT;

    /* Form: kind, exact length, strictly decreasing split bits. */
    uint8_t const kind = proof[0];
    size_t        hdr;
    if (kind == ADB_TRIE_PROOF_ABSENT_NONE) {
        if (len != 1) return ACCTDB_ERR_CORRUPT;
        static uint8_t const zero[32];
        return memcmp(root, zero, 32) ? ACCTDB_ERR_MISMATCH : 0;
    } else if (kind == ADB_TRIE_PROOF_MEMBER) {
        hdr = MEMBER_HDR_SZ;
    } else if (kind == ADB_TRIE_PROOF_ABSENT) {
        hdr = ABSENT_HDR_SZ;
    } else {
        return ACCTDB_ERR_CORRUPT;
    }
    if (len < hdr) return ACCTDB_ERR_CORRUPT;
    size_t step_cnt = (size_t)proof[hdr - 2] | (size_t)proof[hdr - 1] << 8;
    if (step_cnt > 256 || len != hdr + step_cnt * STEP_SZ) return ACCTDB_ERR_CORRUPT;
    uint8_t const *steps = proof + hdr;
    for (size_t i = 0, prev = 256; i < step_cnt; prev = steps[i * STEP_SZ], i++)
        if (steps[i * STEP_SZ] >= prev) return ACCTDB_ERR_CORRUPT;

    /* Statement: an exclusion leaf differs from key, and the path is key's
     * search path (key's bit = the leaf's bit at every split). */
    bool const     member = kind == ADB_TRIE_PROOF_MEMBER;
    uint8_t const *lkey = member ? key : proof + 1;
    uint8_t const *lval = member ? proof + 1 : proof + 33;
    if (!member) {
        if (!memcmp(lkey, key, 32)) return ACCTDB_ERR_MISMATCH;
        for (size_t i = 0; i < step_cnt; i++) {
            unsigned d = steps[i * STEP_SZ];
            if (bit_at(key, d) != bit_at(lkey, d)) return ACCTDB_ERR_MISMATCH;
        }
    }

    /* Hash: the leaf, then up the path. */
    uint8_t h[32];
    hash_leaf(h, lkey, lval);
    for (size_t i = 0; i < step_cnt; i++) {
        uint8_t const *s = steps + i * STEP_SZ;
        if (bit_at(lkey, s[0]))
            hash_node(h, s[0], s + 1, h);
        else
            hash_node(h, s[0], h, s + 1);
    }
    if (memcmp(h, root, 32)) return ACCTDB_ERR_MISMATCH;
    *is_member_out = member;
    if (member && val_out) memcpy(val_out, lval, 32);
    return 0;
}
