/* Model-based test of the accounts database engine.
 *
 * Random operation sequences run against the engine and against a simple
 * in-memory reference model (a map per bank, a map for the root), and every
 * result is compared: each load and batched load, each frozen bank's
 * lattice hash, capitalization, data length and bank hash, each scan by
 * owner (paged with cursors, with data-size and memcmp filters), and after
 * every background pass the engine's own invariants (acctdb_db_check).
 * Periodically the root is snapshotted (full and incremental in turn), the
 * database is recreated from the archives (full + incremental), and every
 * key is compared again, closed accounts included: none may come back.
 *
 * Avocado compression is mixed in: compress (a compressed version is its
 * stored form, the data's hash, and loads report ACCTDB_ERR_COMPRESSED),
 * decompress (with the right data, or wrong data that must change nothing)
 * and stores that touch a compressed account (refused, nothing changes);
 * reloads from archives carry the compression through the sidecar.
 *
 * Mix: ~35% stores, loads and batched loads, freezes, roots (at least one
 * per 50 operations), scans, service passes (each service at least once per
 * 1,000 operations in the stepped run), reopen, snapshot + reload (at least
 * every 10,000).  Two runs: services stepped deterministically from the
 * test, and services on their own threads.  The seed is printed. */
#include "../test.h"

#include "acctdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS      1536
#define NOWNERS    5
#define MAX_LIVE   40
#define SNAP_EVERY 10000

typedef struct ver {
    uint64_t        lamports, rent_epoch;
    acctdb_pubkey_t owner;
    bool            exec;
    uint32_t        len;
    struct ver     *orig; /* compressed: the version it was compressed from (owned); data
                           * is then the BLAKE3 of orig's */
    uint8_t data[];
} ver_t;

static void
ver_free(ver_t *v) {
    if (v) free(v->orig);
    free(v);
}

enum { B_OPEN, B_FROZEN };

typedef struct mbank {
    uint64_t           slot, parent;
    int                state;
    ver_t            **w; /* NKEYS entries; NULL: not written */
    acctdb_bank_info_t info;
} mbank_t;

typedef struct model {
    acctdb_pubkey_t    keys[NKEYS + 64];
    size_t             nkeys;
    acctdb_pubkey_t    owners[NOWNERS];
    ver_t             *root[NKEYS + 64];
    bool               sysvar[NKEYS + 64]; /* written only by bank_begin */
    uint64_t           root_slot;
    acctdb_bank_info_t root_info; /* lattice hash, cap, data len, bank hash */
    mbank_t           *live[MAX_LIVE + 8];
    size_t             nlive;
    uint64_t           next_slot;
    /* the engine */
    acctdb_db_t       *db;
    acctdb_db_config_t cfg;
    char              *tmp;
    char               dbdir[4096], arch[4096];
    unsigned           gen; /* database directory generation */
    char               last_full[4096];
    bool               stepped;
    bool               tiered; /* the index's disk tier under a tiny RAM budget */
    uint64_t           reused; /* reopens that reused the disk tier */
    adb_test_rng_t     r;
    /* counters */
    uint64_t ops, store_ops, stores, loads, freezes, roots, scans, passes[ACCTDB_SERVICE_CNT],
        checks, snaps, reloads, reopens, scanned, closed_checked, compressed, decompressed, refused;
} model_t;

#define DB_OK(m, expr)                                                                             \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc) {                                                                                 \
            print_message("%s failed: %s (%d): %s [seed %llu, op %llu]\n", #expr,                  \
                          acctdb_strerror(_rc), _rc, acctdb_db_errmsg((m)->db),                    \
                          (unsigned long long)adb_test_seed(), (unsigned long long)(m)->ops);      \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void
fail_at(model_t const *m, char const *what) {
    print_message("model mismatch: %s [seed %llu, op %llu]\n", what,
                  (unsigned long long)adb_test_seed(), (unsigned long long)m->ops);
    fail();
}

/* ---- model views ---------------------------------------------------------- */

static mbank_t *
find_live(model_t *m, uint64_t slot) {
    for (size_t i = 0; i < m->nlive; i++)
        if (m->live[i]->slot == slot) return m->live[i];
    return NULL;
}

static ver_t const *
visible(model_t *m, uint64_t slot, size_t id) {
    while (slot != m->root_slot) {
        mbank_t *b = find_live(m, slot);
        assert_non_null(b);
        if (b->w[id]) return b->w[id];
        slot = b->parent;
    }
    return m->root[id];
}

static void
to_acct(model_t const *m, size_t id, ver_t const *v, acctdb_account_t *a) {
    memset(a, 0, sizeof *a);
    a->pubkey = m->keys[id];
    a->owner = v->owner;
    a->lamports = v->lamports;
    a->rent_epoch = v->rent_epoch;
    a->executable = v->exec;
    a->data_len = v->len;
    a->data = v->data;
}

static void
lt_of(model_t const *m, size_t id, ver_t const *v, acctdb_lthash_t *h) {
    acctdb_account_t a;
    to_acct(m, id, v, &a);
    acctdb_lthash_account(h, &a, ACCTDB_LTHASH_CURRENT);
}

static size_t
key_id(model_t const *m, acctdb_pubkey_t const *k) {
    for (size_t i = 0; i < m->nkeys; i++)
        if (!memcmp(m->keys[i].b, k->b, 32)) return i;
    return SIZE_MAX;
}

static void
bank_free(mbank_t *b) {
    for (size_t i = 0; i < NKEYS + 64; i++)
        ver_free(b->w[i]);
    free(b->w);
    free(b);
}

static void
drop_live(model_t *m) {
    for (size_t i = 0; i < m->nlive; i++)
        bank_free(m->live[i]);
    m->nlive = 0;
}

/* ---- comparing one account --------------------------------------------------- */

static void
cmp_account(model_t const *m, size_t id, ver_t const *v, int rc, acctdb_account_t const *a) {
    if (!v || v->lamports == 0) {
        if (rc != ACCTDB_ERR_NOT_FOUND) fail_at(m, "a closed or absent account loads");
        return;
    }
    if (v->orig) {
        if (rc != ACCTDB_ERR_COMPRESSED) {
            print_message("load rc %d for compressed key %zu\n", rc, id);
            fail_at(m, "a compressed account does not load as compressed");
        }
    } else if (rc) {
        print_message("load rc %d for key %zu\n", rc, id);
        fail_at(m, "a live account does not load");
    }
    if (a->lamports != v->lamports || a->rent_epoch != v->rent_epoch || a->executable != v->exec ||
        a->data_len != v->len || memcmp(a->owner.b, v->owner.b, 32) ||
        memcmp(a->pubkey.b, m->keys[id].b, 32) || (v->len && memcmp(a->data, v->data, v->len))) {
        print_message("key %zu: lamports %llu vs %llu, len %llu vs %u, rent_epoch %llu vs %llu, "
                      "exec %d vs %d, owner %s, data %s%s\n",
                      id, (unsigned long long)a->lamports, (unsigned long long)v->lamports,
                      (unsigned long long)a->data_len, v->len, (unsigned long long)a->rent_epoch,
                      (unsigned long long)v->rent_epoch, a->executable, v->exec,
                      memcmp(a->owner.b, v->owner.b, 32) ? "differs" : "same",
                      v->len && memcmp(a->data, v->data, v->len) ? "differs" : "same",
                      v->orig ? " (compressed)" : "");
        fail_at(m, "a loaded account differs from the model");
    }
}

static uint8_t g_buf[1 << 21];

static void
check_load(model_t *m, uint64_t slot, size_t id) {
    acctdb_account_t a;
    int              rc = acctdb_db_load(m->db, slot, &m->keys[id], &a, g_buf, sizeof g_buf, NULL);
    cmp_account(m, id, visible(m, slot, id), rc, &a);
    m->loads++;
}

static uint64_t
pick_slot(model_t *m) {
    size_t i = adb_test_rng_below(&m->r, m->nlive + 1);
    return i == m->nlive ? m->root_slot : m->live[i]->slot;
}

static void
op_load(model_t *m) {
    check_load(m, pick_slot(m), adb_test_rng_below(&m->r, m->nkeys));
}

static void
op_load_batch(model_t *m) {
    uint64_t         slot = pick_slot(m);
    size_t           n = 1 + adb_test_rng_below(&m->r, 24), id[24];
    acctdb_pubkey_t  k[24];
    acctdb_account_t a[24];
    int              rcs[24];
    for (size_t i = 0; i < n; i++) {
        id[i] = adb_test_rng_below(&m->r, m->nkeys);
        k[i] = m->keys[id[i]];
    }
    DB_OK(m, acctdb_db_load_batch(m->db, slot, k, n, a, g_buf, sizeof g_buf, rcs));
    for (size_t i = 0; i < n; i++)
        cmp_account(m, id[i], visible(m, slot, id[i]), rcs[i], &a[i]);
    m->loads += n;
}

/* ---- banks ------------------------------------------------------------------- */

static mbank_t *
new_bank(model_t *m, uint64_t parent) {
    mbank_t *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->w = calloc(NKEYS + 64, sizeof *b->w);
    assert_non_null(b->w);
    m->next_slot += 1 + adb_test_rng_below(&m->r, 3);
    b->slot = m->next_slot;
    b->parent = parent;
    b->state = B_OPEN;
    m->live[m->nlive++] = b;
    return b;
}

/* A parent for a new bank: the root or a frozen live bank. */
static uint64_t
pick_parent(model_t *m) {
    size_t cand[MAX_LIVE + 8], n = 0;
    for (size_t i = 0; i < m->nlive; i++)
        if (m->live[i]->state == B_FROZEN) cand[n++] = i;
    size_t i = adb_test_rng_below(&m->r, n + 1);
    return i == n ? m->root_slot : m->live[cand[i]]->slot;
}

static ver_t *
rand_ver(model_t *m) {
    uint64_t r = adb_test_rng_next(&m->r);
    uint32_t len = r % 100 < 3 ? (uint32_t)(r >> 20) % 20000 : (uint32_t)(r >> 20) % 300;
    if (r % 7 == 0) len = 165;
    ver_t *v = calloc(1, sizeof *v + len);
    assert_non_null(v);
    v->lamports = (r >> 8) % 50 == 0 ? 0 : 1 + (adb_test_rng_next(&m->r) >> 20);
    if (v->lamports) {
        v->rent_epoch = (r >> 40) % 3 == 0 ? UINT64_MAX : (r >> 42) % 500;
        v->owner = m->owners[(r >> 30) % NOWNERS];
        v->exec = (r >> 50) % 40 == 0;
        v->len = len;
        adb_test_rng_fill(&m->r, v->data, len);
        if (len >= 8 && (r >> 45) % 2) memcpy(v->data, "FILTERME", 8);
    }
    return v;
}

static void
op_store(model_t *m) {
    /* An open bank, or a new one. */
    mbank_t *b = NULL;
    size_t   open[MAX_LIVE + 8], no = 0;
    for (size_t i = 0; i < m->nlive; i++)
        if (m->live[i]->state == B_OPEN) open[no++] = i;
    if (no && (m->nlive >= MAX_LIVE || adb_test_rng_below(&m->r, 4)))
        b = m->live[open[adb_test_rng_below(&m->r, no)]];
    if (!b) {
        if (m->nlive >= MAX_LIVE) return;
        b = new_bank(m, pick_parent(m));
    }
    size_t           n = adb_test_rng_below(&m->r, 5);
    acctdb_account_t a[4];
    size_t           id[4];
    ver_t           *v[4];
    for (size_t i = 0; i < n; i++) {
        /* Mostly around compressed accounts (a store to one is refused). */
        for (;;) {
            id[i] = adb_test_rng_below(&m->r, adb_test_rng_below(&m->r, 4) ? 200 : m->nkeys);
            if (m->sysvar[id[i]]) continue;
            ver_t const *cur = visible(m, b->slot, id[i]);
            if (cur && cur->orig && adb_test_rng_below(&m->r, 16)) continue;
            break;
        }
        v[i] = rand_ver(m);
        static uint8_t const zero[32];
        if (!v[i]->lamports && !memcmp(m->keys[id[i]].b, zero, 32)) v[i]->lamports = 1;
        to_acct(m, id[i], v[i], &a[i]);
    }
    bool hits = false;
    for (size_t i = 0; i < n; i++) {
        ver_t const *cur = visible(m, b->slot, id[i]);
        hits |= cur && cur->orig;
    }
    if (hits) {
        /* A compressed account among them: refused, nothing changes. */
        int rc = acctdb_db_store(m->db, b->slot, b->parent, a, n);
        if (rc != ACCTDB_ERR_COMPRESSED) fail_at(m, "a store to a compressed account");
        for (size_t i = 0; i < n; i++)
            ver_free(v[i]);
        /* The refused store made nothing, not even a new bank: make it, as
         * the model has it. */
        DB_OK(m, acctdb_db_store(m->db, b->slot, b->parent, NULL, 0));
        m->refused++;
        return;
    }
    DB_OK(m, acctdb_db_store(m->db, b->slot, b->parent, a, n));
    for (size_t i = 0; i < n; i++) {
        ver_free(b->w[id[i]]);
        b->w[id[i]] = v[i];
    }
    m->stores += n;
    m->store_ops++;
}

/* ---- Avocado compression -------------------------------------------------------- */

/* docs/STATE.md's rule, written here from the document. */
static bool
compressible(ver_t const *v) {
    if (!v || !v->lamports || v->orig || v->len <= 32 || v->exec) return false;
    return !adb_test_avocado_exempt(v->owner.b);
}

/* An open bank to change, or a new one (NULL when no room). */
static mbank_t *
pick_open(model_t *m) {
    size_t open[MAX_LIVE + 8], no = 0;
    for (size_t i = 0; i < m->nlive; i++)
        if (m->live[i]->state == B_OPEN) open[no++] = i;
    if (no && (m->nlive >= MAX_LIVE || adb_test_rng_below(&m->r, 4)))
        return m->live[open[adb_test_rng_below(&m->r, no)]];
    if (m->nlive >= MAX_LIVE) return NULL;
    mbank_t *b = new_bank(m, pick_parent(m));
    DB_OK(m, acctdb_db_store(m->db, b->slot, b->parent, NULL, 0));
    return b;
}

static void
op_compress(model_t *m) {
    mbank_t *b = pick_open(m);
    if (!b) return;
    size_t          n = 1 + adb_test_rng_below(&m->r, 4), id[4];
    acctdb_pubkey_t k[4];
    int             rcs[4], want[4];
    for (size_t i = 0; i < n; i++) {
        id[i] = adb_test_rng_below(&m->r, adb_test_rng_below(&m->r, 4) ? 200 : m->nkeys);
        k[i] = m->keys[id[i]];
        ver_t const *v = visible(m, b->slot, id[i]);
        want[i] = !v || !v->lamports ? ACCTDB_ERR_NOT_FOUND
                  : v->orig          ? ACCTDB_ERR_COMPRESSED
                  : !compressible(v) ? ACCTDB_ERR_UNSUPPORTED
                                     : 0;
        for (size_t j = 0; j < i; j++)
            if (id[j] == id[i]) want[i] = ACCTDB_ERR_INVALID;
    }
    size_t done = 0, wdone = 0;
    DB_OK(m, acctdb_db_compress(m->db, b->slot, b->parent, k, n, rcs, &done));
    for (size_t i = 0; i < n; i++) {
        if (rcs[i] != want[i]) {
            print_message("compress key %zu: %d, model %d\n", id[i], rcs[i], want[i]);
            fail_at(m, "a compression result");
        }
        if (want[i]) continue;
        ver_t const *v = visible(m, b->slot, id[i]);
        ver_t       *orig = malloc(sizeof *v + v->len), *c = calloc(1, sizeof *c + 32);
        assert_non_null(orig);
        assert_non_null(c);
        memcpy(orig, v, sizeof *v + v->len);
        orig->orig = NULL;
        *c = *orig;
        c->len = 32;
        acctdb_blake3(orig->data, orig->len, c->data, 32);
        c->orig = orig;
        ver_free(b->w[id[i]]);
        b->w[id[i]] = c;
        wdone++;
    }
    if (done != wdone) fail_at(m, "the compressed count");
    m->compressed += done;
}

static void
op_decompress(model_t *m) {
    mbank_t *b = pick_open(m);
    if (!b) return;
    /* A compressed key visible at b, if any (a few tries). */
    size_t id = SIZE_MAX;
    for (int t = 0; t < 64 && id == SIZE_MAX; t++) {
        size_t       c = adb_test_rng_below(&m->r, adb_test_rng_below(&m->r, 4) ? 200 : m->nkeys);
        ver_t const *v = visible(m, b->slot, c);
        if (v && v->orig) id = c;
    }
    if (id == SIZE_MAX) return;
    ver_t const *v = visible(m, b->slot, id);
    ver_t       *o = v->orig;
    if (adb_test_rng_below(&m->r, 4) == 0) {
        /* Wrong data: MISMATCH, and the account stays compressed. */
        uint8_t *bad = malloc(o->len + 1);
        memcpy(bad, o->data, o->len);
        bad[adb_test_rng_below(&m->r, o->len)] ^= 0x40;
        int rc = acctdb_db_decompress(m->db, b->slot, b->parent, &m->keys[id], bad, o->len, 0);
        free(bad);
        if (rc != ACCTDB_ERR_MISMATCH) fail_at(m, "decompressing with wrong data");
        check_load(m, b->slot, id);
        return;
    }
    DB_OK(m, acctdb_db_decompress(m->db, b->slot, b->parent, &m->keys[id], o->data, o->len, 0));
    ver_t *nv = malloc(sizeof *o + o->len);
    assert_non_null(nv);
    memcpy(nv, o, sizeof *o + o->len);
    nv->orig = NULL;
    ver_free(b->w[id]);
    b->w[id] = nv;
    m->decompressed++;
    check_load(m, b->slot, id);
}

/* The sysvars the bank module wrote at b's slot (bank_begin: SlotHashes,
 * Clock, SlotHistory, StakeHistory at a new epoch; freeze:
 * RecentBlockhashes) become model versions: their content is the bank
 * module's to decide (tests/bank checks it); the model tracks them like any
 * account, so the lattice arithmetic, capitalization and reads still
 * compare. */
static void
track_sysvars(model_t *m, mbank_t *b) {
    static char const *const ids[] = {"SysvarS1otHistory11111111111111111111111111",
                                      "SysvarC1ock11111111111111111111111111111111",
                                      "SysvarS1otHashes111111111111111111111111111",
                                      "SysvarStakeHistory1111111111111111111111111",
                                      "SysvarRecentB1ockHashes11111111111111111111"};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        acctdb_pubkey_t pk;
        assert_int_equal(acctdb_base58_decode_32(ids[k], pk.b), 0);
        acctdb_account_t a;
        uint64_t         at;
        int              rc = acctdb_db_load(m->db, b->slot, &pk, &a, g_buf, sizeof g_buf, &at);
        if (rc == ACCTDB_ERR_NOT_FOUND || (!rc && at != b->slot)) continue;
        DB_OK(m, rc);
        size_t id = key_id(m, &pk);
        if (id == SIZE_MAX) {
            id = m->nkeys++;
            m->keys[id] = pk;
        }
        m->sysvar[id] = true;
        ver_t *v = calloc(1, sizeof *v + a.data_len);
        assert_non_null(v);
        v->lamports = a.lamports;
        v->rent_epoch = a.rent_epoch;
        v->owner = a.owner;
        v->exec = a.executable;
        v->len = (uint32_t)a.data_len;
        memcpy(v->data, a.data, a.data_len);
        ver_free(b->w[id]);
        b->w[id] = v;
    }
}

static void
bank_hash(acctdb_bank_info_t *in) {
    uint8_t p1[72], p2[32 + sizeof in->lt_hash.v], h[32];
    memcpy(p1, in->parent_bank_hash.b, 32);
    for (int i = 0; i < 8; i++)
        p1[32 + i] = (uint8_t)(in->meta.signature_count >> (8 * i));
    memcpy(p1 + 40, in->meta.blockhash.b, 32);
    assert_int_equal(acctdb_sha256(p1, sizeof p1, h), 0);
    memcpy(p2, h, 32);
    memcpy(p2 + 32, in->lt_hash.v, sizeof in->lt_hash.v);
    assert_int_equal(acctdb_sha256(p2, sizeof p2, in->bank_hash.b), 0);
}

static void
freeze(model_t *m, mbank_t *b) {
    acctdb_bank_info_t const *p =
        b->parent == m->root_slot ? &m->root_info : &find_live(m, b->parent)->info;
    acctdb_bank_meta_t meta = {0};
    adb_test_rng_fill(&m->r, meta.blockhash.b, 32);
    meta.signature_count = adb_test_rng_below(&m->r, 10000);
    meta.transaction_count = m->freezes * 3;
    meta.unix_timestamp = 1700000000 + (int64_t)b->slot;
    acctdb_bank_info_t got;
    DB_OK(m, acctdb_db_freeze(m->db, b->slot, &meta, &got));
    track_sysvars(m, b); /* RecentBlockhashes, when the bank was begun */
    acctdb_bank_info_t in = {0};
    in.lt_hash = p->lt_hash;
    in.capitalization = p->capitalization;
    in.accounts_data_len = p->accounts_data_len;
    in.parent_bank_hash = p->bank_hash;
    for (size_t id = 0; id < m->nkeys; id++) {
        if (!b->w[id]) continue;
        ver_t const    *old = visible(m, b->parent, id), *nv = b->w[id];
        acctdb_lthash_t h;
        if (old && old->lamports) {
            lt_of(m, id, old, &h);
            acctdb_lthash_sub(&in.lt_hash, &h);
            in.capitalization -= old->lamports;
            in.accounts_data_len -= old->len;
        }
        if (nv->lamports) {
            lt_of(m, id, nv, &h);
            acctdb_lthash_add(&in.lt_hash, &h);
            in.capitalization += nv->lamports;
            in.accounts_data_len += nv->len;
        }
    }
    in.meta = meta;
    bank_hash(&in);
    if (memcmp(got.lt_hash.v, in.lt_hash.v, sizeof in.lt_hash.v)) fail_at(m, "frozen lattice hash");
    if (got.capitalization != in.capitalization) fail_at(m, "frozen capitalization");
    if (got.accounts_data_len != in.accounts_data_len) fail_at(m, "frozen data length");
    if (memcmp(got.bank_hash.b, in.bank_hash.b, 32)) fail_at(m, "frozen bank hash");
    if (got.parent_slot != b->parent) fail_at(m, "frozen parent");
    b->info = got;
    b->state = B_FROZEN;
    m->freezes++;
}

static void
op_freeze(model_t *m) {
    size_t open[MAX_LIVE + 8], no = 0;
    for (size_t i = 0; i < m->nlive; i++)
        if (m->live[i]->state == B_OPEN) open[no++] = i;
    if (no) freeze(m, m->live[open[adb_test_rng_below(&m->r, no)]]);
}

static bool
descends(model_t *m, mbank_t const *b, uint64_t anc) {
    while (b) {
        if (b->slot == anc) return true;
        if (b->parent == anc) return true;
        b = find_live(m, b->parent);
    }
    return false;
}

/* Roots frozen bank x: the chain (root, x] merges into the root oldest
 * first; banks not descending from x die. */
static void
root_at(model_t *m, mbank_t *x) {
    DB_OK(m, acctdb_db_root(m->db, x->slot));
    mbank_t *chain[MAX_LIVE + 8];
    size_t   cn = 0;
    for (mbank_t *b = x; b; b = find_live(m, b->parent))
        chain[cn++] = b;
    for (size_t i = cn; i-- > 0;) {
        mbank_t *b = chain[i];
        for (size_t id = 0; id < m->nkeys; id++)
            if (b->w[id]) {
                ver_free(m->root[id]);
                m->root[id] = b->w[id];
                b->w[id] = NULL;
            }
    }
    m->root_info = x->info;
    uint64_t old_root = m->root_slot;
    (void)old_root;
    m->root_slot = x->slot;
    size_t   w = 0;
    mbank_t *keep[MAX_LIVE + 8];
    for (size_t i = 0; i < m->nlive; i++) {
        mbank_t *b = m->live[i];
        bool     in_chain = false;
        for (size_t k = 0; k < cn; k++)
            in_chain |= chain[k] == b;
        if (in_chain) continue;
        keep[w++] = b;
    }
    /* Of the rest, those descending from x live on (their chains end at x). */
    size_t   n2 = 0;
    mbank_t *dead[MAX_LIVE + 8];
    size_t   nd = 0;
    m->nlive = w;
    memcpy(m->live, keep, w * sizeof *keep);
    for (size_t i = 0; i < w; i++) {
        if (descends(m, keep[i], x->slot))
            keep[n2++] = keep[i];
        else
            dead[nd++] = keep[i];
    }
    for (size_t i = 0; i < cn; i++)
        bank_free(chain[i]);
    for (size_t i = 0; i < nd; i++)
        bank_free(dead[i]);
    m->nlive = n2;
    memcpy(m->live, keep, n2 * sizeof *keep);
    m->roots++;
}

static void
op_root(model_t *m) {
    size_t fz[MAX_LIVE + 8], n = 0;
    for (size_t i = 0; i < m->nlive; i++)
        if (m->live[i]->state == B_FROZEN) fz[n++] = i;
    if (!n) {
        /* Make something rootable: freeze an open bank, or begin one. */
        bool any_open = false;
        for (size_t i = 0; i < m->nlive; i++)
            any_open |= m->live[i]->state == B_OPEN;
        if (any_open)
            op_freeze(m);
        else
            op_store(m);
        return;
    }
    root_at(m, m->live[fz[adb_test_rng_below(&m->r, n)]]);
}

/* ---- scans ---------------------------------------------------------------------- */

typedef struct scan_ctx {
    model_t        *m;
    acctdb_pubkey_t got[NKEYS + 64];
    size_t          n;
    uint64_t        slot;
} scan_ctx_t;

static int
scan_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    scan_ctx_t *c = ctx;
    (void)slot;
    size_t id = key_id(c->m, &a->pubkey);
    if (id == SIZE_MAX) fail_at(c->m, "scan returned an unknown key");
    ver_t const *v = visible(c->m, c->slot, id);
    /* Scans skip compressed accounts (docs/STATE.md: as if they had left
     * the index). */
    if (v && v->orig) fail_at(c->m, "scan returned a compressed account");
    cmp_account(c->m, id, v, 0, a);
    if (c->n >= NKEYS + 64) fail_at(c->m, "scan returned too many keys");
    c->got[c->n++] = a->pubkey;
    return 0;
}

static int
cmp_key(void const *a, void const *b) {
    return memcmp(a, b, 32);
}

static void
op_scan(model_t *m) {
    acctdb_scan_filter_t f = {0};
    size_t               oi = adb_test_rng_below(&m->r, NOWNERS);
    f.owner = m->owners[oi];
    uint64_t r = adb_test_rng_next(&m->r);
    if (r % 4 == 0) f.has_data_size = true, f.data_size = 165;
    if (r % 5 == 0) {
        f.memcmp_cnt = 1;
        f.memcmp[0] = (acctdb_memcmp_t){0, (uint8_t const *)"FILTERME", 8};
    }
    static scan_ctx_t c;
    c.m = m;
    c.n = 0;
    c.slot = pick_slot(m);
    size_t          limit = r % 3 ? 1 + (r >> 10) % 40 : 0;
    acctdb_pubkey_t cur, next;
    bool            more = true, first = true;
    while (more) {
        DB_OK(m, acctdb_db_scan(m->db, c.slot, &f, first ? NULL : &cur, limit, scan_cb, &c, &next,
                                &more));
        first = false;
        cur = next;
        if (!limit) break;
    }
    /* The model's answer. */
    acctdb_pubkey_t want[NKEYS + 64];
    size_t          nw = 0;
    for (size_t id = 0; id < m->nkeys; id++) {
        ver_t const *v = visible(m, c.slot, id);
        if (!v || !v->lamports || v->orig || memcmp(v->owner.b, f.owner.b, 32)) continue;
        if (f.has_data_size && v->len != f.data_size) continue;
        if (f.memcmp_cnt && (v->len < 8 || memcmp(v->data, "FILTERME", 8))) continue;
        want[nw++] = m->keys[id];
    }
    qsort(want, nw, 32, cmp_key);
    if (nw != c.n) {
        print_message("scan: %zu keys, model %zu (limit %zu)\n", c.n, nw, limit);
        fail_at(m, "scan result size");
    }
    for (size_t i = 0; i < nw; i++)
        if (memcmp(want[i].b, c.got[i].b, 32)) fail_at(m, "scan keys or order");
    m->scans++;
    m->scanned += nw;
}

/* ---- services, checks --------------------------------------------------------------- */

static void
check(model_t *m) {
    char msg[512];
    int  rc = acctdb_db_check(m->db, msg, sizeof msg);
    if (rc) {
        print_message("invariant: %s\n", msg);
        fail_at(m, "an engine invariant broke");
    }
    m->checks++;
}

static void
op_service(model_t *m, int which) {
    int rc = acctdb_db_service_step(m->db, (acctdb_service_t)which);
    if (rc < 0) {
        print_message("service %d: %s\n", which, acctdb_db_errmsg(m->db));
        fail_at(m, "a service pass failed");
    }
    m->passes[which]++;
    check(m);
    /* No newest rooted version is lost (or resurrected): every key at the
     * root equals the model's root. */
    for (size_t id = 0; id < m->nkeys; id++) {
        acctdb_account_t a;
        int lr = acctdb_db_load(m->db, m->root_slot, &m->keys[id], &a, g_buf, sizeof g_buf, NULL);
        cmp_account(m, id, m->root[id], lr, &a);
    }
}

/* Root state against the model: every key, and the root bank. */
static void
check_root(model_t *m, acctdb_db_t *db) {
    acctdb_bank_info_t in;
    DB_OK(m, acctdb_db_bank_info(db, m->root_slot, &in));
    if (memcmp(in.lt_checksum, m->root_info.lt_checksum, 32)) fail_at(m, "root lattice checksum");
    if (in.capitalization != m->root_info.capitalization) fail_at(m, "root capitalization");
    if (in.accounts_data_len != m->root_info.accounts_data_len) fail_at(m, "root data length");
    acctdb_lthash_t sum;
    acctdb_lthash_zero(&sum);
    for (size_t id = 0; id < m->nkeys; id++) {
        acctdb_account_t a;
        int rc = acctdb_db_load(db, m->root_slot, &m->keys[id], &a, g_buf, sizeof g_buf, NULL);
        cmp_account(m, id, m->root[id], rc, &a);
        if (m->root[id] && m->root[id]->lamports) {
            acctdb_lthash_t h;
            lt_of(m, id, m->root[id], &h);
            acctdb_lthash_add(&sum, &h);
        } else if (m->root[id]) {
            m->closed_checked++;
        }
    }
    /* The model's own root state hashes to the root's lattice hash. */
    if (memcmp(sum.v, m->root_info.lt_hash.v, sizeof sum.v)) fail_at(m, "model root lattice hash");
}

/* Service passes of the database about to close, added to the totals. */
static void
add_passes(model_t *m) {
    acctdb_db_stats_t st;
    DB_OK(m, acctdb_db_stats(m->db, &st));
    if (!m->stepped)
        for (int k = 0; k < ACCTDB_SERVICE_CNT; k++)
            m->passes[k] += st.service_passes[k];
}

static void
open_db(model_t *m) {
    char msg[512];
    int  rc = acctdb_db_open(&m->db, m->dbdir, &m->cfg, msg, sizeof msg);
    if (rc) {
        print_message("reopen: %s\n", msg);
        fail_at(m, "reopen");
    }
}

static void
op_reopen(model_t *m) {
    add_passes(m);
    acctdb_db_close(m->db);
    m->db = NULL;
    drop_live(m);
    open_db(m);
    uint64_t durable;
    if (acctdb_db_root_slot(m->db, &durable) != m->root_slot || durable != m->root_slot)
        fail_at(m, "reopened root");
    check_root(m, m->db);
    check(m);
    m->reopens++;
    if (m->tiered) {
        acctdb_db_stats_t st;
        DB_OK(m, acctdb_db_stats(m->db, &st));
        if (!st.index_disk) fail_at(m, "no disk tier");
        if (!st.index_rebuilt) {
            if (!strstr(st.index_reason, "disk tier")) fail_at(m, st.index_reason);
            m->reused++;
        } else {
            print_message("reopen rebuilt the index: %s\n", st.index_reason);
        }
    }
}

/* Snapshot the root (after rooting a bank begun with its sysvars), then
 * recreate the database from the archives and compare everything. */
static void
op_snapshot(model_t *m) {
    bool     inc = m->snaps % 2 == 1;
    uint64_t parent = pick_parent(m);
    mbank_t *b = new_bank(m, parent);
    DB_OK(m, acctdb_db_bank_begin(m->db, b->slot, parent, 1700000000 + (int64_t)b->slot));
    track_sysvars(m, b);
    freeze(m, b);
    root_at(m, b);
    char path[4096];
    DB_OK(m, acctdb_db_snapshot(m->db, m->arch, inc, path));
    if (!inc) snprintf(m->last_full, sizeof m->last_full, "%s", path);
    acctdb_bank_info_t root;
    DB_OK(m, acctdb_db_bank_info(m->db, m->root_slot, &root));
    add_passes(m);
    acctdb_db_close(m->db);
    m->db = NULL;
    drop_live(m);

    /* Recreate from the archives. */
    char old[4096], msg[1024];
    snprintf(old, sizeof old, "%s", m->dbdir);
    snprintf(m->dbdir, sizeof m->dbdir, "%s/db%u", m->tmp, ++m->gen);
    acctdb_db_source_t src = {.full_path = m->last_full, .incremental_path = inc ? path : NULL};
    int                rc = acctdb_db_create(&m->db, m->dbdir, &src, &m->cfg, msg, sizeof msg);
    if (rc) {
        print_message("recreate from %s %s: %s\n", m->last_full, inc ? path : "", msg);
        fail_at(m, "recreate from snapshot");
    }
    adb_test_rmtree(old);
    if (acctdb_db_root_slot(m->db, NULL) != m->root_slot) fail_at(m, "restored root slot");
    acctdb_bank_info_t in;
    DB_OK(m, acctdb_db_bank_info(m->db, m->root_slot, &in));
    if (memcmp(in.bank_hash.b, root.bank_hash.b, 32)) fail_at(m, "restored bank hash");
    check_root(m, m->db);
    check(m);
    m->snaps++;
    m->reloads++;
}

/* ---- driver ------------------------------------------------------------------------ */

typedef struct init_ctx {
    model_t *m;
} init_ctx_t;

static int
init_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    model_t *m = ((init_ctx_t *)ctx)->m;
    (void)slot;
    size_t id = m->nkeys++;
    m->keys[id] = a->pubkey;
    ver_t *v = calloc(1, sizeof *v + a->data_len);
    assert_non_null(v);
    v->lamports = a->lamports;
    v->rent_epoch = a->rent_epoch;
    v->owner = a->owner;
    v->exec = a->executable;
    v->len = (uint32_t)a->data_len;
    if (a->data_len) memcpy(v->data, a->data, a->data_len);
    m->root[id] = v;
    return 0;
}

#define F3 "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define I3 "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"

static void
run_model(bool stepped, bool tiered) {
    model_t *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->stepped = stepped;
    m->tiered = tiered;
    m->r.s = adb_test_seed() ^ (stepped ? 0x5151 : 0xa3a3);
    m->tmp = adb_test_mkdtemp();
    snprintf(m->dbdir, sizeof m->dbdir, "%s/db0", m->tmp);
    snprintf(m->arch, sizeof m->arch, "%s/archives", m->tmp);
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir -p '%s'", m->arch), 0);
    snprintf(m->last_full, sizeof m->last_full, "%s", adb_test_data(F3));

    /* The model starts from the bundled Agave 3.x pair, read by the
     * snapshot reader (not the engine). */
    acctdb_snapshot_t     *s;
    acctdb_snapshot_opts_t so = {0};
    assert_int_equal(acctdb_snapshot_open(&s, adb_test_data(F3), adb_test_data(I3), &so), 0);
    init_ctx_t ic = {m};
    assert_int_equal(acctdb_snapshot_iterate(s, NULL, init_cb, &ic), 0);
    acctdb_snapshot_info_t si;
    assert_int_equal(acctdb_snapshot_info(s, &si), 0);
    acctdb_snapshot_close(s);
    size_t base = m->nkeys;
    for (size_t i = base; i < NKEYS; i++) {
        adb_test_rng_fill(&m->r, m->keys[i].b, 32);
        m->nkeys++;
    }
    /* Key ids below 200 get most writes: move some real keys there. */
    for (size_t i = 0; i < base; i++) {
        acctdb_pubkey_t t = m->keys[i];
        m->keys[i] = m->keys[base + i];
        m->keys[base + i] = t;
        ver_t *tv = m->root[i];
        m->root[i] = m->root[base + i];
        m->root[base + i] = tv;
    }
    for (size_t i = 0; i < m->nkeys; i++)
        m->sysvar[i] = !memcmp(m->keys[i].b, "\x06\xa7\xd5\x17", 4);
    for (size_t i = 0; i < NOWNERS; i++)
        adb_test_rng_fill(&m->r, m->owners[i].b, 32);
    /* One owner is a real one, so scans also meet the loaded accounts. */
    for (size_t i = 0; i < m->nkeys; i++)
        if (m->root[i] && m->root[i]->lamports) m->owners[0] = m->root[i]->owner;

    acctdb_db_config_default(&m->cfg);
    m->cfg.background = !stepped;
    m->cfg.service_interval_ms = 1;
    m->cfg.write_cache_max_sz = 64ull << 20;
    m->cfg.read_cache_max_sz = 1ull << 20; /* small: evictions happen */
    /* Stepped: every read through the read cache, every file under the
     * ratio shrunk.  Threaded: mapped reads, total-space shrink, flushes
     * gated by size and delay (small, so they still come often). */
    m->cfg.mmap_reads = !stepped;
    m->cfg.shrink_per_file = stepped;
    m->cfg.flush_min_sz = 256u << 10;
    m->cfg.flush_max_delay_ms = 2;
    m->cfg.index_bins = 64;
    m->cfg.owner_index = true;
    m->cfg.avocado = true;
    if (tiered) {
        /* So small that most lookups go to disk: the RAM tier's floor
         * (64 small tables and the disk bins' bookkeeping) is about 30 KiB. */
        m->cfg.index_disk = true;
        m->cfg.index_ram_bytes = 40u << 10;
    }
    acctdb_db_source_t src = {.full_path = adb_test_data(F3),
                              .incremental_path = adb_test_data(I3)};
    char               msg[1024];
    int                rc = acctdb_db_create(&m->db, m->dbdir, &src, &m->cfg, msg, sizeof msg);
    if (rc) print_message("create: %s\n", msg);
    assert_int_equal(rc, 0);
    m->root_slot = acctdb_db_root_slot(m->db, NULL);
    assert_int_equal(m->root_slot, si.slot);
    DB_OK(m, acctdb_db_bank_info(m->db, m->root_slot, &m->root_info));
    m->next_slot = m->root_slot;
    check_root(m, m->db);

    size_t   nops = adb_test_scaled(tiered ? 100000 : 300000);
    uint64_t since_root = 0;
    for (m->ops = 0; m->ops < nops; m->ops++) {
        uint64_t r = adb_test_rng_below(&m->r, 1000);
        if (since_root >= 40) r = 400; /* a root at least every 50 operations */
        if (r < 360) {
            op_store(m);
        } else if (r < 400) {
            op_freeze(m);
        } else if (r < 440) {
            size_t before = m->roots;
            op_root(m);
            if (m->roots != before) since_root = 0;
        } else if (r < 800) {
            op_load(m);
        } else if (r < 900) {
            op_load_batch(m);
        } else if (r < 920) {
            op_scan(m);
        } else if (r < 935) {
            op_compress(m);
        } else if (r < 945) {
            op_decompress(m);
        } else if (r < 960 && stepped) {
            op_service(m, (int)(r % ACCTDB_SERVICE_CNT));
        } else if (r == 999 && adb_test_rng_below(&m->r, 8) == 0) {
            op_reopen(m);
        } else {
            op_load(m);
        }
        since_root++;
        if (stepped && m->ops % 1000 == 999)
            for (int k = 0; k < ACCTDB_SERVICE_CNT; k++)
                op_service(m, k);
        if (!stepped && m->ops % 2000 == 1999) check(m);
        if (m->ops % SNAP_EVERY == SNAP_EVERY - 1) op_snapshot(m);
    }
    op_snapshot(m);
    char vmsg[512];
    DB_OK(m, acctdb_db_verify(m->db, vmsg, sizeof vmsg));
    add_passes(m);
    print_message("model (%s): %llu ops: %llu store calls (%.1f%%, %llu accounts), %llu loads, "
                  "%llu freezes, %llu roots, %llu "
                  "scans (%llu keys), %llu snapshots+reloads, %llu reopens, %llu invariant checks, "
                  "%llu closed keys confirmed absent; passes flush %llu clean %llu shrink %llu "
                  "purge %llu; %s\n",
                  stepped ? "stepped" : "threaded", (unsigned long long)m->ops,
                  (unsigned long long)m->store_ops, 100.0 * (double)m->store_ops / (double)m->ops,
                  (unsigned long long)m->stores, (unsigned long long)m->loads,
                  (unsigned long long)m->freezes, (unsigned long long)m->roots,
                  (unsigned long long)m->scans, (unsigned long long)m->scanned,
                  (unsigned long long)m->snaps, (unsigned long long)m->reopens,
                  (unsigned long long)m->checks, (unsigned long long)m->closed_checked,
                  (unsigned long long)m->passes[0], (unsigned long long)m->passes[1],
                  (unsigned long long)m->passes[2], (unsigned long long)m->passes[3], vmsg);
    if (tiered) {
        acctdb_db_stats_t st;
        DB_OK(m, acctdb_db_stats(m->db, &st));
        print_message(
            "model (tiered): index RAM %llu + %llu mapped of %llu B, %llu keys in RAM of "
            "%llu, disk %llu B; since the last open %llu hits, %llu misses, %llu "
            "promotions, %llu evictions; %llu of %llu reopens reused the disk tier\n",
            (unsigned long long)st.index_ram_heap, (unsigned long long)st.index_ram_mapped,
            (unsigned long long)st.index_ram_budget, (unsigned long long)st.index_ram_keys,
            (unsigned long long)st.index_keys, (unsigned long long)st.index_disk_bytes,
            (unsigned long long)st.index_hits, (unsigned long long)st.index_misses,
            (unsigned long long)st.index_promotions, (unsigned long long)st.index_evictions,
            (unsigned long long)m->reused, (unsigned long long)m->reopens);
        assert_true(st.index_disk);
        assert_true(st.index_misses > st.index_hits); /* most lookups went to disk */
        assert_true(st.index_evictions > 0);
        assert_true(m->reopens == 0 || m->reused * 2 >= m->reopens);
    }
    print_message("model (%s): %llu compressed, %llu decompressed, %llu stores refused as "
                  "compressed\n",
                  stepped ? "stepped" : "threaded", (unsigned long long)m->compressed,
                  (unsigned long long)m->decompressed, (unsigned long long)m->refused);
    assert_true(m->compressed > 0 && m->decompressed > 0);
    /* The acceptance mix. */
    assert_true(m->store_ops * 100 >= m->ops * 30);
    assert_true(m->reloads >= m->ops / 20000);
    if (stepped)
        for (int k = 0; k < ACCTDB_SERVICE_CNT; k++)
            assert_true(m->passes[k] >= m->ops / 1000);
    acctdb_db_close(m->db);
    drop_live(m);
    for (size_t i = 0; i < NKEYS + 64; i++)
        ver_free(m->root[i]);
    adb_test_rmtree(m->tmp);
    free(m->tmp);
    free(m);
}

static void
test_model_stepped(void **state) {
    (void)state;
    run_model(true, false);
}

static void
test_model_threaded(void **state) {
    (void)state;
    run_model(false, false);
}

/* The stepped run with the index's disk tier under a 40 KiB RAM budget. */
static void
test_model_tiered(void **state) {
    (void)state;
    run_model(true, true);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_model_stepped),
    cmocka_unit_test(test_model_threaded),
    cmocka_unit_test(test_model_tiered),
};

ADB_TEST_GROUP(db_model, tests);
