/* src/db/db_compress.c - Avocado state compression in the engine
 * (docs/STATE.md): compress and decompress accounts at a bank.
 *
 * A compression is a store: the account's stored form (data = the 32-byte
 * hash of the data) replaces it at the bank, and the bank's delta of
 * acctdb's own state (db_xstate.h) records the original length and the
 * hash.  Decompression stores the original again and clears the record.
 * The lattice hash follows from the stores (freeze: parent + new -
 * replaced), so a round trip brings it back exactly.
 *
 * Order, so that a failure leaves no account half compressed: the bank is
 * created first (a store of nothing), the records are put, then the
 * stored forms are stored; if that store fails the records are put back
 * as they were (in place: no allocation can fail). */
#include "db/db_private.h"

#include "state/avocado.h"
#include "state/lsr.h"
#include "state/trie.h"

#include <stdio.h>
#include <stdlib.h>

/* The slot to read the current version at: slot's bank once it exists,
 * else its parent (the store creates the bank). */
static uint64_t
read_slot(adb_db_t *db, uint64_t slot, uint64_t parent) {
    pthread_rwlock_rdlock(&db->eng->blk);
    bool has = adb_bank_find(db->eng, slot) != NULL;
    pthread_rwlock_unlock(&db->eng->blk);
    return has ? slot : parent;
}

static adb_bank_t *
open_bank(adb_db_t *db, uint64_t slot) {
    pthread_rwlock_rdlock(&db->eng->blk);
    adb_bank_t *b = adb_bank_find(db->eng, slot);
    pthread_rwlock_unlock(&db->eng->blk);
    return b;
}

int
adb_eng_compress(adb_db_t *db, uint64_t slot, uint64_t parent, acctdb_pubkey_t const *keys,
                 size_t n, int *rc_out, size_t *done_out, uint64_t *bytes_out) {
    *done_out = 0;
    if (bytes_out) *bytes_out = 0;
    for (size_t i = 0; i < n; i++)
        rc_out[i] = 0;
    if (!db->xs) return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "no state");
    if (!db->eng->cfg.avocado)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_UNSUPPORTED,
                           "state compression is off (set avocado = true in acctdb.conf or the "
                           "config)");
    /* The bank, created now if it is new (checks slot and parent). */
    ADB_TRY(adb_eng_store(db, slot, parent, NULL, 0));
    adb_eng_t        *e = db->eng;
    uint8_t          *data = adb_malloc(ADB_ACCT_MAX_DATA_SZ);
    acctdb_account_t *acc = adb_calloc(n ? n : 1, sizeof *acc);
    uint8_t(*hashes)[32] = adb_malloc((n ? n : 1) * 32);
    adb_xrec_t *old = adb_calloc(n ? n : 1, sizeof *old);
    size_t     *idx = adb_calloc(n ? n : 1, sizeof *idx);
    uint64_t    orig_bytes = 0;
    int         rc = 0;
    if (!data || !acc || !hashes || !old || !idx) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    pthread_mutex_lock(&e->wmu); /* no other writer between the reads and the store */
    adb_bank_t *b = open_bank(db, slot);
    size_t      m = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (!memcmp(keys[j].b, keys[i].b, 32)) {
                rc_out[i] = ACCTDB_ERR_INVALID; /* twice in one call */
                break;
            }
        if (rc_out[i]) continue;
        adb_xrec_t xr;
        if (adb_xs_get_bank(db, b, keys[i].b, &xr) && (xr.flags & ADB_XREC_COMPRESSED)) {
            rc_out[i] = ACCTDB_ERR_COMPRESSED;
            continue;
        }
        acctdb_account_t a;
        int r = adb_eng_load(db, slot, keys[i].b, &a, data, ADB_ACCT_MAX_DATA_SZ, NULL);
        if (r == ACCTDB_ERR_NOT_FOUND || r == ACCTDB_ERR_COMPRESSED) {
            rc_out[i] = r;
            continue;
        }
        if (r) {
            rc = r;
            break;
        }
        if (!adb_avocado_compressible(a.owner.b, a.executable, a.lamports, a.data_len, NULL)) {
            rc_out[i] = ACCTDB_ERR_UNSUPPORTED;
            continue;
        }
        adb_avocado_data_hash(a.data, (size_t)a.data_len, hashes[m]);
        orig_bytes += a.data_len;
        old[m] = xr;
        idx[m] = i;
        acc[m] = a;
        acc[m].data_len = 32;
        acc[m].data = hashes[m];
        xr.flags = ADB_XREC_COMPRESSED;
        xr.orig_len = (uint32_t)a.data_len;
        memcpy(xr.hash, hashes[m], 32);
        memcpy(xr.owner, a.owner.b, 32);
        xr.executable = a.executable;
        xr.lamports = a.lamports;
        if ((r = adb_xs_put(db, b, keys[i].b, &xr))) {
            rc = adb_err_set(adb_eng_err(), r, "out of memory for the compression records");
            break;
        }
        m++;
    }
    if (!rc && m) {
        rc = adb_eng_store_ex(db, slot, parent, acc, m, ADB_STORE_COMPRESSED_OK | ADB_STORE_LOCKED);
    }
    if (rc) { /* put the records back: the stores did not happen */
        for (size_t j = 0; j < m; j++)
            adb_xs_put(db, b, acc[j].pubkey.b, &old[j]);
    } else {
        *done_out = m;
        if (bytes_out) *bytes_out = orig_bytes;
    }
    pthread_mutex_unlock(&e->wmu);
    (void)idx;
cleanup:
    adb_free(data);
    adb_free(acc);
    adb_free(hashes);
    adb_free(old);
    adb_free(idx);
    return rc;
}

int
adb_eng_decompress(adb_db_t *db, uint64_t slot, uint64_t parent, uint8_t const key[32],
                   uint8_t const *data, size_t len, uint64_t lamports) {
    if (!db->xs) return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "no state");
    adb_eng_t *e = db->eng;
    char       k58[ACCTDB_BASE58_32_SZ];
    acctdb_base58_encode_32(key, k58);
    adb_xrec_t xr;
    if (!adb_xs_get_at(db, read_slot(db, slot, parent), key, &xr) ||
        !(xr.flags & ADB_XREC_COMPRESSED))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "%s is not compressed", k58);
    uint8_t h[32];
    adb_avocado_data_hash(data, len, h);
    if (len != xr.orig_len || memcmp(h, xr.hash, 32))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_MISMATCH,
                           "%s: the data given (%zu bytes) is not the data it was compressed from "
                           "(%u bytes, another hash); nothing changed",
                           k58, len, xr.orig_len);
    bool burned = xr.flags & ADB_XREC_BURNED;
    if (burned && !lamports)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "%s: its lamports were burned; decompressing it needs lamports", k58);
    if (!burned && lamports)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "%s: it still holds its lamports; give 0 to keep them", k58);
    ADB_TRY(adb_eng_store(db, slot, parent, NULL, 0));
    pthread_mutex_lock(&e->wmu);
    adb_bank_t      *b = open_bank(db, slot);
    acctdb_account_t a;
    uint8_t          hb[32];
    int              rc = adb_eng_load(db, slot, key, &a, hb, sizeof hb, NULL);
    if (rc == ACCTDB_ERR_COMPRESSED) rc = 0;
    /* Recheck under wmu: another writer may have decompressed it. */
    adb_xrec_t now;
    pthread_rwlock_rdlock(&e->blk);
    bool still = adb_xs_get(db, b, key, &now) && (now.flags & ADB_XREC_COMPRESSED) &&
                 !memcmp(&now, &xr, sizeof now);
    pthread_rwlock_unlock(&e->blk);
    if (!rc && !still)
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_AGAIN,
                         "%s changed while it was being decompressed; try again", k58);
    if (!rc) {
        acctdb_account_t o = a;
        if (burned) {
            memcpy(o.owner.b, xr.owner, 32);
            o.executable = xr.executable;
            o.lamports = lamports;
            o.rent_epoch = UINT64_MAX;
        }
        o.data = data;
        o.data_len = len;
        /* Only what is not about compression stays. */
        adb_xrec_t cleared = {.counter = xr.counter, .created = xr.created};
        rc = adb_xs_put(db, b, key, &cleared);
        if (rc)
            rc = adb_err_set(adb_eng_err(), rc, "out of memory");
        else if ((rc = adb_eng_store_ex(db, slot, parent, &o, 1,
                                        ADB_STORE_COMPRESSED_OK | ADB_STORE_LOCKED)))
            adb_xs_put(db, b, key, &xr);
    }
    pthread_mutex_unlock(&e->wmu);
    return rc;
}

int
adb_eng_compressed_info(adb_db_t *db, uint64_t slot, uint8_t const key[32],
                        acctdb_compressed_t *out) {
    memset(out, 0, sizeof *out);
    adb_xrec_t xr;
    if (!adb_xs_get_at(db, slot, key, &xr) || !(xr.flags & ADB_XREC_COMPRESSED))
        return ACCTDB_ERR_NOT_FOUND;
    out->orig_len = xr.orig_len;
    memcpy(out->data_hash.b, xr.hash, 32);
    out->burned = xr.flags & ADB_XREC_BURNED;
    memcpy(out->owner.b, xr.owner, 32);
    out->executable = xr.executable;
    return 0;
}

/* ---- compressing what has been idle ------------------------------------------ */

typedef struct idle_ent {
    uint64_t        slot; /* of its newest rooted version */
    acctdb_pubkey_t key;
} idle_ent_t;

typedef struct idle_ctx {
    uint64_t    root, upto; /* versions at or below root; idle if newest <= upto */
    idle_ent_t *v;
    size_t      n, cap;
    int         err;
} idle_ctx_t;

static int
idle_visit(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t cnt) {
    idle_ctx_t *c = ctx;
    for (size_t i = 0; i < cnt; i++) { /* newest first */
        if (v[i].slot > c->root || adb_val_is_dead(v[i].val)) continue;
        if (v[i].slot > c->upto) return 0;
        if (c->n == c->cap) {
            size_t      ncap = c->cap ? 2 * c->cap : 4096;
            idle_ent_t *nv = adb_realloc(c->v, ncap * sizeof *nv);
            if (!nv) return c->err = ACCTDB_ERR_NOMEM;
            c->v = nv;
            c->cap = ncap;
        }
        c->v[c->n].slot = v[i].slot;
        memcpy(c->v[c->n].key.b, key, 32);
        c->n++;
        return 0;
    }
    return 0;
}

static int
idle_cmp(void const *a, void const *b) {
    idle_ent_t const *x = a, *y = b;
    if (x->slot != y->slot) return x->slot < y->slot ? -1 : 1;
    return memcmp(x->key.b, y->key.b, 32);
}

int
adb_eng_compress_idle(adb_db_t *db, uint64_t slot, uint64_t parent, uint64_t idle_slots,
                      uint64_t limit, acctdb_compress_report_t *rep) {
    memset(rep, 0, sizeof *rep);
    adb_eng_t *e = db->eng;
    if (!e->cfg.avocado)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_UNSUPPORTED,
                           "state compression is off (set avocado = true in acctdb.conf or the "
                           "config)");
    if (parent != e->root)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "idle accounts are compressed on the root (%llu), not on slot %llu",
                           (unsigned long long)e->root, (unsigned long long)parent);
    if (slot <= parent || slot - parent > UINT64_MAX / 2)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is not above the root",
                           (unsigned long long)slot);
    idle_ctx_t c = {.root = parent, .upto = idle_slots > slot ? 0 : slot - idle_slots};
    if (idle_slots > slot) return 0; /* nothing can have been idle that long */
    uint32_t nb = adb_index_bin_cnt(db->ix);
    for (uint32_t bin = 0; bin < nb && !c.err; bin++)
        adb_index_bin_vvisit(db->ix, bin, idle_visit, &c);
    if (c.err) {
        adb_free(c.v);
        return adb_err_set(adb_eng_err(), c.err, "out of memory listing idle accounts");
    }
    /* The longest idle first; ties by key, so the choice is deterministic. */
    qsort(c.v, c.n, sizeof *c.v, idle_cmp);
    size_t take = limit && limit < c.n ? (size_t)limit : c.n;
    rep->candidates = c.n;
    enum { B = 4096 };
    acctdb_pubkey_t *keys = adb_malloc(B * sizeof *keys);
    int             *rcs = adb_malloc(B * sizeof *rcs);
    int              rc = (!keys || !rcs) ? ACCTDB_ERR_NOMEM : 0;
    if (rc) rc = adb_err_set(adb_eng_err(), rc, "out of memory");
    for (size_t at = 0; !rc && at < take; at += B) {
        size_t m = ADB_MIN((size_t)B, take - at);
        for (size_t i = 0; i < m; i++)
            keys[i] = c.v[at + i].key;
        size_t   done;
        uint64_t bytes;
        rc = adb_eng_compress(db, slot, parent, keys, m, rcs, &done, &bytes);
        if (rc) break;
        rep->compressed += done;
        rep->skipped += m - done;
        rep->bytes_before += bytes;
        rep->bytes_after += (uint64_t)done * 32;
    }
    adb_free(keys);
    adb_free(rcs);
    adb_free(c.v);
    return rc;
}

int
adb_eng_import_sidecar(adb_db_t *db, uint8_t const *p, size_t sz, char const *name,
                       adb_err_t *err) {
    adb_eng_t *e = db->eng;
    pthread_mutex_lock(&e->smu);
    acctdb_bank_info_t root = e->durable_info;
    int rc = adb_xs_sidecar_import(db, p, sz, root.slot, root.lt_checksum, name, err);
    if (!rc && (rc = adb_eng_commit(db, &root, e->durable_ext, 0)))
        rc = adb_err_set(err, rc, "%s: committing its state: %s", name, adb_eng_err()->msg);
    pthread_mutex_unlock(&e->smu);
    /* The Chilly cache from the imported counters. */
    if (!rc && db->chot && (rc = adb_chot_warm(db)))
        rc = adb_err_set(err, rc, "%s: warming the Chilly cache: %s", name, acctdb_strerror(rc));
    return rc;
}

/* ---- LSR rent ---------------------------------------------------------------------- */

typedef struct rent_ent {
    acctdb_pubkey_t key;
    uint64_t        lamports, size, created;
} rent_ent_t;

typedef struct keys_ctx {
    uint64_t         root;
    acctdb_pubkey_t *v;
    size_t           n, cap;
    int              err;
} keys_ctx_t;

/* Every key with a live-looking rooted version (tombstones are weeded out
 * by the loads). */
static int
keys_visit(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t cnt) {
    keys_ctx_t *c = ctx;
    for (size_t i = 0; i < cnt; i++) {
        if (v[i].slot > c->root || adb_val_is_dead(v[i].val)) continue;
        if (c->n == c->cap) {
            size_t           ncap = c->cap ? 2 * c->cap : 4096;
            acctdb_pubkey_t *nv = adb_realloc(c->v, ncap * sizeof *nv);
            if (!nv) return c->err = ACCTDB_ERR_NOMEM;
            c->v = nv;
            c->cap = ncap;
        }
        memcpy(c->v[c->n++].b, key, 32);
        return 0;
    }
    return 0;
}

/* Compacts the accounts es[0..n) at slot: each becomes a tombstone, its
 * record compressed and burned.  wmu held. */
static int
sweep_batch(adb_db_t *db, adb_bank_t *b, uint64_t slot, uint64_t parent, rent_ent_t const *es,
            size_t n, uint8_t *data, acctdb_rent_report_t *rep) {
    acctdb_account_t *tomb = adb_calloc(n ? n : 1, sizeof *tomb);
    adb_xrec_t       *old = adb_calloc(n ? n : 1, sizeof *old);
    int               rc = (!tomb || !old) ? ACCTDB_ERR_NOMEM : 0;
    if (rc) rc = adb_err_set(adb_eng_err(), rc, "out of memory");
    size_t   m = 0;
    uint64_t burned = 0, freed = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        acctdb_account_t a;
        adb_xrec_t       xr;
        int r = adb_eng_load(db, slot, es[i].key.b, &a, data, ADB_ACCT_MAX_DATA_SZ, NULL);
        adb_xs_get_bank(db, b, es[i].key.b, &xr);
        old[m] = xr;
        if (r == ACCTDB_ERR_COMPRESSED) {
            /* Compressed already: the stored form's hash and owner stay. */
            xr.flags |= ADB_XREC_BURNED;
            memcpy(xr.owner, a.owner.b, 32);
            xr.executable = a.executable;
            xr.lamports = 0;
            freed += 32;
        } else if (r == 0) {
            xr.flags = ADB_XREC_COMPRESSED | ADB_XREC_BURNED;
            xr.orig_len = (uint32_t)a.data_len;
            adb_avocado_data_hash(a.data, (size_t)a.data_len, xr.hash);
            memcpy(xr.owner, a.owner.b, 32);
            xr.executable = a.executable;
            xr.lamports = 0;
            freed += a.data_len;
        } else {
            rc = r;
            break;
        }
        if ((r = adb_xs_put(db, b, es[i].key.b, &xr))) {
            rc = adb_err_set(adb_eng_err(), r, "out of memory for the sweep's records");
            break;
        }
        burned += a.lamports;
        tomb[m].pubkey = es[i].key;
        tomb[m].lamports = 0;
        m++;
    }
    if (!rc && m)
        rc =
            adb_eng_store_ex(db, slot, parent, tomb, m, ADB_STORE_COMPRESSED_OK | ADB_STORE_LOCKED);
    if (rc) {
        for (size_t j = 0; j < m; j++)
            adb_xs_put(db, b, tomb[j].pubkey.b, &old[j]);
    } else {
        rep->swept += m;
        rep->lamports_burned += burned;
        rep->data_bytes_freed += freed;
    }
    adb_free(tomb);
    adb_free(old);
    return rc;
}

int
adb_eng_rent_sweep(adb_db_t *db, uint64_t slot, uint64_t parent, char const *ktext, uint32_t n,
                   acctdb_rent_report_t *rep) {
    memset(rep, 0, sizeof *rep);
    adb_eng_t  *e = db->eng;
    adb_lsr_k_t k;
    if (!db->xs) return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "no state");
    if (adb_lsr_k_parse(ktext, &k))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "K '%.40s' is not a non-negative decimal (e.g. 1e-18, 0.000003)", ktext);
    if (n > ADB_LSR_N_MAX)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "N %u is not from 0 to %u", n,
                           ADB_LSR_N_MAX);
    if (parent != e->root)
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID,
                           "the sweep runs on the root (%llu), not on slot %llu",
                           (unsigned long long)e->root, (unsigned long long)parent);
    /* The bank (checks slot and parent). */
    ADB_TRY(adb_eng_store(db, slot, parent, NULL, 0));
    keys_ctx_t kc = {.root = parent};
    uint32_t   nb = adb_index_bin_cnt(db->ix);
    for (uint32_t bin = 0; bin < nb && !kc.err; bin++)
        adb_index_bin_vvisit(db->ix, bin, keys_visit, &kc);
    rent_ent_t *es = kc.err ? NULL : adb_malloc((kc.n ? kc.n : 1) * sizeof *es);
    uint8_t    *data = adb_malloc(ADB_ACCT_MAX_DATA_SZ);
    int         rc = (kc.err || !es || !data) ? ACCTDB_ERR_NOMEM : 0;
    if (rc) rc = adb_err_set(adb_eng_err(), rc, "out of memory listing the accounts");
    size_t ne = 0;
    pthread_mutex_lock(&e->wmu);
    adb_bank_t *b = open_bank(db, slot);
    /* Pass 1: every live account, its size, lamports and creation slot;
     * the state size. */
    for (size_t i = 0; !rc && i < kc.n; i++) {
        acctdb_account_t a;
        int r = adb_eng_load(db, parent, kc.v[i].b, &a, data, ADB_ACCT_MAX_DATA_SZ, NULL);
        if (r == ACCTDB_ERR_NOT_FOUND) continue;
        if (r == ACCTDB_ERR_COMPRESSED && a.lamports == 0) continue; /* burned already */
        if (r && r != ACCTDB_ERR_COMPRESSED) {
            rc = r;
            break;
        }
        uint64_t size = adb_lsr_account_sz(a.data_len);
        rep->accounts++;
        rep->state_size = rep->state_size > UINT64_MAX - size ? UINT64_MAX : rep->state_size + size;
        if (!adb_avocado_sweepable(a.owner.b, a.executable, a.lamports)) {
            rep->exempt++;
            continue;
        }
        adb_xrec_t xr;
        adb_xs_get_bank(db, b, kc.v[i].b, &xr);
        es[ne++] =
            (rent_ent_t){kc.v[i], a.lamports, size, xr.created ? xr.created : e->origin_slot};
    }
    /* Pass 2: the formula, then compaction in batches. */
    size_t w = 0;
    for (size_t i = 0; !rc && i < ne; i++)
        if (adb_lsr_should_compact(k, n, rep->state_size, es[i].size, es[i].created, slot,
                                   es[i].lamports))
            es[w++] = es[i];
    for (size_t at = 0; !rc && at < w; at += 4096)
        rc = sweep_batch(db, b, slot, parent, es + at, ADB_MIN((size_t)4096, w - at), data, rep);
    pthread_mutex_unlock(&e->wmu);
    adb_free(kc.v);
    adb_free(es);
    adb_free(data);
    return rc;
}

/* ---- the trie: proofs and the creation check ---------------------------------- */

static void
trie_info(adb_xs_trie_st_t const *st, acctdb_trie_info_t *out) {
    memcpy(out->root.b, st->root, 32);
    out->slot = st->slot;
    out->last_insert_slot = st->last;
    out->keys = st->keys;
}

void
adb_eng_trie_info(adb_db_t *db, acctdb_trie_info_t *out) {
    adb_xs_trie_st_t st;
    adb_xs_trie_state(db, &st);
    trie_info(&st, out);
}

void
adb_eng_prove(adb_db_t *db, uint8_t const key[32], acctdb_trie_proof_t *out) {
    adb_xs_trie_st_t st;
    memset(out, 0, sizeof *out);
    memcpy(out->key.b, key, 32);
    adb_xs_prove(db, key, out->proof, &out->len, &out->is_member, out->value.b, &st);
    trie_info(&st, &out->trie);
}

int
adb_eng_check_create(adb_db_t *db, uint64_t slot, uint8_t const key[32],
                     acctdb_create_cred_t const *cred) {
    adb_err_t *err = adb_eng_err();
    char       k58[ACCTDB_BASE58_32_SZ], r58[ACCTDB_BASE58_32_SZ];
    acctdb_base58_encode_32(key, k58);
    acctdb_account_t a;
    uint8_t          h[32];
    int              rc = adb_eng_load(db, slot, key, &a, h, sizeof h, NULL);
    if (rc == ACCTDB_ERR_COMPRESSED)
        return adb_err_set(err, rc,
                           "%s is compressed (in the trie, or about to be) as seen from "
                           "slot %llu: decompress it instead of creating it",
                           k58, (unsigned long long)slot);
    if (rc == 0 || rc == ACCTDB_ERR_FULL) return 0; /* live: not a creation */
    if (rc != ACCTDB_ERR_NOT_FOUND) return rc;
    bool by_proof = cred && cred->proof && cred->proof_len;
    bool by_addr = cred && cred->blockhash && cred->seed;
    ADB_FAIL_IF(!by_proof && !by_addr, err, ACCTDB_ERR_INVALID,
                "creating %s needs an exclusion proof against the trie's root or an address "
                "derived from a recent blockhash",
                k58);
    ADB_FAIL_IF(by_proof && by_addr, err, ACCTDB_ERR_INVALID,
                "creating %s: give an exclusion proof or a derived address, not both", k58);
    adb_xs_trie_st_t st;
    adb_xs_trie_state(db, &st);
    acctdb_base58_encode_32(st.root, r58);
    if (by_proof) {
        bool    member = false;
        uint8_t v[32];
        rc = adb_trie_verify(st.root, key, cred->proof, cred->proof_len, &member, v);
        ADB_FAIL_IF(rc == ACCTDB_ERR_CORRUPT, err, rc, "creating %s: the proof is malformed", k58);
        ADB_FAIL_IF(rc, err, ACCTDB_ERR_MISMATCH,
                    "creating %s: the proof does not hold under the trie's root %s (slot %llu): "
                    "made against another root, or forged",
                    k58, r58, (unsigned long long)st.slot);
        ADB_FAIL_IF(member, err, ACCTDB_ERR_MISMATCH,
                    "creating %s: the proof shows it IS in the trie (compressed)", k58);
        return 0;
    }
    uint8_t d[32];
    adb_avocado_derived_address(cred->blockhash->b, cred->seed->b, d);
    ADB_FAIL_IF(memcmp(d, key, 32), err, ACCTDB_ERR_MISMATCH,
                "creating %s: it is not BLAKE3(blockhash | seed) of the blockhash and seed given",
                k58);
    char     b58[ACCTDB_BASE58_32_SZ];
    uint64_t bs = 0;
    pthread_rwlock_rdlock(&db->eng->blk);
    bool recent = adb_eng_hist_blockhash(db->eng, db->eng->root, cred->blockhash->b, &bs);
    pthread_rwlock_unlock(&db->eng->blk);
    ADB_FAIL_IF(!recent, err, ACCTDB_ERR_NOT_FOUND,
                "creating %s: blockhash %s is not one of the %d newest rooted banks'", k58,
                acctdb_base58_encode_32(cred->blockhash->b, b58), ADB_HIST_KEEP);
    ADB_FAIL_IF(st.keys && bs <= st.last, err, ACCTDB_ERR_MISMATCH,
                "creating %s: blockhash %s is slot %llu's, not newer than the trie's last "
                "insertion (slot %llu): a key in the trie could equal the address",
                k58, acctdb_base58_encode_32(cred->blockhash->b, b58), (unsigned long long)bs,
                (unsigned long long)st.last);
    return 0;
}
