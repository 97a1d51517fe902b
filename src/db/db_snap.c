/* src/db/db_snap.c - the engine's durable root as a whole: the storages a
 * snapshot is written from, deep verification and the invariant checker.
 *
 * All three run under the service lock (smu), so no flush, clean, shrink
 * or purge changes storages or storage versions meanwhile; stores, freezes
 * and roots go on (they only add cache versions and banks).
 *
 * Invariants the checker proves (tests run it after every service pass):
 *   I1. For every storage, alive_bytes / alive_cnt equal the sizes / count
 *       of the records the index holds alive in it; replaced storages have
 *       none.
 *   I2. Every storage version points inside its storage at a record of its
 *       own key.
 *   I3. A key has at most one alive storage version, and it is its newest
 *       storage version (no newest rooted version is lost, none older
 *       shadows it). */
#include "db/db_private.h"

#include "db/db_rcache.h"
#include "index/owner.h"
#include "util/base58.h"
#include "util/crc32c.h"
#include "util/point.h"

#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/mman.h>

/* ---- seals ------------------------------------------------------------------ */

/* Checks storage f (mapped at m, f->written bytes) against its seal: the
 * CRC-32C of every byte (db_meta.c). */
static int
seal_check(adb_db_t const *db, adb_db_file_t const *f, uint8_t const *m, adb_err_t *err) {
    uint32_t crc = adb_crc32c(0, m, (size_t)f->written);
    if (crc == f->crc) return 0;
    return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                       "%s: the storage of slot %llu fails its checksum (CRC-32C %08x, the root "
                       "record says %08x): its bytes changed after they were written",
                       db->dir, (unsigned long long)f->slot, crc, f->crc);
}

/* ---- snapshot support ------------------------------------------------------ */

static void
snap_free(adb_eng_snap_t *s) {
    adb_free(s->hist);
    adb_free(s->files);
    adb_free(s->sizes);
    adb_free(s->slots);
    adb_free(s->side);
    memset(s, 0, sizeof *s);
}

int
adb_eng_snap_begin(adb_db_t *db, uint64_t base_slot, adb_eng_snap_t *out, adb_err_t *err) {
    adb_eng_t *e = db->eng;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&e->snap_mu);
    pthread_mutex_lock(&e->smu);
    if (atomic_load(&e->fatal)) {
        pthread_mutex_unlock(&e->smu);
        pthread_mutex_unlock(&e->snap_mu);
        return adb_err_set(err, ACCTDB_ERR_FATAL,
                           "the database is in a fatal state since a durable write failed (%s); "
                           "reopen it",
                           adb_eng_fatal_msg(e));
    }
    atomic_fetch_add(&e->ix_gen, 1); /* see adb_eng_service_step */
    int rc = adb_eng_flush_pass(db);
    atomic_fetch_add(&e->ix_gen, 1);
    if (rc < 0) {
        pthread_mutex_unlock(&e->smu);
        pthread_mutex_unlock(&e->snap_mu);
        return adb_err_set(err, rc, "%s", adb_eng_err()->msg);
    }
    out->root = e->durable_info;
    out->last_full_slot = e->last_full_slot;
    out->origin_slot = e->origin_slot;
    out->hist = adb_malloc(ADB_HIST_KEEP * sizeof *out->hist);
    uint32_t n = adb_db_file_cnt(db);
    out->files = adb_malloc((n ? n : 1) * sizeof *out->files);
    out->sizes = adb_malloc((n ? n : 1) * sizeof *out->sizes);
    out->slots = adb_malloc((n ? n : 1) * sizeof *out->slots);
    if (!out->hist || !out->files || !out->sizes || !out->slots) {
        snap_free(out);
        pthread_mutex_unlock(&e->smu);
        pthread_mutex_unlock(&e->snap_mu);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    pthread_rwlock_rdlock(&e->blk);
    out->hist_cnt = adb_eng_hist_upto(e, out->root.slot, out->hist);
    pthread_rwlock_unlock(&e->blk);
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced) || !atomic_load(&f->alive_cnt)) continue;
        if (base_slot != UINT64_MAX && f->slot <= base_slot) continue;
        out->files[out->cnt] = i;
        out->sizes[out->cnt] = atomic_load(&f->alive_bytes);
        out->slots[out->cnt] = f->slot;
        out->cnt++;
    }
    /* acctdb's own state at the pinned root, for the archive's sidecar:
     * the base is at the durable root while smu is held. */
    if (adb_xs_sidecar_build(db, out->root.slot, out->root.lt_checksum, &out->side,
                             &out->side_sz)) {
        snap_free(out);
        pthread_mutex_unlock(&e->smu);
        pthread_mutex_unlock(&e->snap_mu);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory for the snapshot's sidecar");
    }
    /* The root is pinned: from here the services go on (flush, purge),
     * except clean and shrink, and reads of "the durable root" see the
     * versions of this slot. */
    e->snap_pin = out->root.slot;
    e->snap_ext = adb_eng_ext_ref(e->durable_ext);
    atomic_store(&e->snap_active, true);
    pthread_mutex_unlock(&e->smu);
    return 0; /* snap_mu stays held until adb_eng_snap_end */
}

int
adb_eng_snap_emit(adb_db_t *db, adb_eng_snap_t const *s, size_t i, adb_eng_bytes_fn fn, void *ctx) {
    uint32_t       idx = s->files[i];
    adb_db_file_t *f = adb_db_file(db, idx);
    if (!f->valid_len) return ACCTDB_ERR_CORRUPT;
    adb_db_view_t v;
    int           src = adb_db_view(db, f, f->written, &v);
    if (src)
        return adb_err_set(adb_eng_err(), src, "reading the storage of slot %llu: %s",
                           (unsigned long long)f->slot, acctdb_strerror(src));
    uint8_t const *m = v.p;
    if (!v.heap) madvise(v.p, f->written, MADV_SEQUENTIAL); /* a hint: raw */
    /* No archive is made from a storage whose bytes changed. */
    src = seal_check(db, f, m, adb_eng_err());
    if (src) {
        adb_db_unview(db, &v);
        return src;
    }
    adb_acctfile_iter_t it;
    adb_acct_rec_t      r;
    adb_acctfile_iter_init(&it, m, f->valid_len, f->valid_len);
    uint64_t run_start = 0, run_len = 0, total = 0;
    int      rc = 0;
    while (!rc && adb_acctfile_iter_next(&it, &r)) {
        uint64_t sz = adb_acct_rec_sz(r.data_len);
        if (!adb_eng_snap_rec_alive(db, r.pubkey, f->slot, adb_db_loc(idx, r.off, r.lamports == 0)))
            continue;
        if (run_len && run_start + run_len == r.off) {
            run_len += sz;
        } else {
            if (run_len) rc = fn(ctx, m + run_start, (size_t)run_len);
            run_start = r.off;
            run_len = sz;
        }
        total += sz;
        if (run_len >= (8u << 20) && !rc) {
            rc = fn(ctx, m + run_start, (size_t)run_len);
            run_len = 0;
        }
    }
    if (!rc && run_len) rc = fn(ctx, m + run_start, (size_t)run_len);
    if (!rc && it.err.code)
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_CORRUPT, "storage of slot %llu: %s",
                         (unsigned long long)f->slot, it.err.msg);
    if (!rc && total != s->sizes[i])
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_CORRUPT,
                         "storage of slot %llu: %llu alive bytes found, %llu accounted",
                         (unsigned long long)f->slot, (unsigned long long)total,
                         (unsigned long long)s->sizes[i]);
    adb_db_unview(db, &v);
    return rc;
}

/* The version of key in the pinned root: the newest stored (not cached)
 * one at or below the pin.  Its DEAD flag is ignored: a flush since the
 * pin may have superseded it by a newer slot.  1 found, 0 none, < 0 an
 * error. */
static int
ver_at_pin(adb_db_t *db, uint8_t const key[32], adb_index_ver_t *out) {
    adb_index_ver_t vb[ADB_DB_VERS_INLINE], *v;
    size_t          n;
    int             rc = adb_db_versions(db, key, vb, &v, &n);
    if (rc) return rc;
    uint64_t pin = db->eng->snap_pin;
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (adb_val_is_cache(v[i].val) || v[i].slot > pin) continue;
        *out = v[i];
        out->val &= ~ADB_VAL_DEAD;
        rc = 1;
        break;
    }
    adb_db_versions_free(v, vb);
    return rc;
}

bool
adb_eng_snap_rec_alive(adb_db_t *db, uint8_t const *key, uint64_t slot, uint64_t loc) {
    adb_index_ver_t v;
    return ver_at_pin(db, key, &v) == 1 && v.slot == slot && v.val == loc;
}

int
adb_eng_snap_get(adb_db_t *db, uint8_t const key[32], adb_db_acct_t *out, uint8_t **buf,
                 size_t *buf_cap) {
    adb_index_ver_t v;
    int             rc = ver_at_pin(db, key, &v);
    if (rc < 0) return rc;
    if (!rc || adb_db_loc_is_zero(v.val)) return ACCTDB_ERR_NOT_FOUND;
    rc = adb_db_read_rec(db, v.slot, v.val, out, buf, buf_cap);
    if (!rc && !out->a.lamports) rc = ACCTDB_ERR_NOT_FOUND;
    return rc;
}

int
adb_eng_snap_each_owned(adb_db_t *db, acctdb_pubkey_t const                   *owner,
                        int (*fn)(void *ctx, acctdb_account_t const *a), void *ctx) {
    adb_eng_t *e = db->eng;
    if (!e->owners || !adb_eng_owner_tracked(e, owner->b))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_UNSUPPORTED, "owner not indexed");
    enum { PAGE = 256 };
    acctdb_pubkey_t keys[PAGE], after;
    bool            has_after = false, more = true;
    uint8_t        *buf = NULL;
    size_t          cap = 0;
    int             rc = 0;
    while (!rc && more) {
        size_t n = adb_owner_page(e->owners, owner, has_after ? &after : NULL, keys, PAGE, &more);
        for (size_t i = 0; !rc && i < n; i++) {
            after = keys[i];
            has_after = true;
            adb_db_acct_t a;
            int           r = adb_eng_snap_get(db, keys[i].b, &a, &buf, &cap);
            if (r == ACCTDB_ERR_NOT_FOUND) continue;
            if (r) {
                rc = r;
                break;
            }
            if (a.a.lamports && !memcmp(a.a.owner.b, owner->b, 32)) rc = fn(ctx, &a.a);
        }
    }
    adb_free(buf);
    return rc;
}

adb_eng_ext_t *
adb_eng_snap_ext(adb_db_t *db) {
    return adb_eng_ext_ref(db->eng->snap_ext);
}

int
adb_eng_snap_end(adb_db_t *db, adb_eng_snap_t *s, uint64_t full_slot) {
    adb_eng_t *e = db->eng;
    int        rc = 0;
    pthread_mutex_lock(&e->smu);
    if (full_slot != UINT64_MAX) {
        uint64_t old = e->last_full_slot;
        e->last_full_slot = full_slot;
        ADB_POINT_ARG("snapshot.register", e->durable_info.slot);
        rc = adb_db_sync_seg_dir(db, "snapshot");
        if (!rc) rc = adb_eng_write_meta(db, &e->durable_info, e->durable_ext);
        if (rc && rc != ACCTDB_ERR_FATAL) {
            /* The record may be half-synced (an fsync failed inside the
             * write): nothing may retry it (the next flush would), so the
             * database goes fatal, as for a flush's record. */
            char why[256];
            snprintf(why, sizeof why, "snapshot: recording the full snapshot of slot %llu: %s",
                     (unsigned long long)full_slot, acctdb_strerror(rc));
            adb_eng_fatal(e, why);
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                             "%s; the database refuses writes until reopened", why);
        }
        if (rc) e->last_full_slot = old;
        if (!rc) ADB_POINT_ARG("snapshot.registered", e->durable_info.slot);
    }
    atomic_store(&e->snap_active, false);
    adb_eng_ext_unref(e->snap_ext);
    e->snap_ext = NULL;
    pthread_mutex_unlock(&e->smu);
    pthread_mutex_unlock(&e->snap_mu);
    snap_free(s);
    return rc;
}

/* ---- the invariant checker --------------------------------------------------- */

typedef struct loc_item {
    uint64_t val;
    uint8_t  key[32];
} loc_item_t;

typedef struct check_ctx {
    loc_item_t *items;
    size_t      n, cap;
    int         bad;
    char        msg[1000];
} check_ctx_t;

static int
check_bin_cb(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t cnt) {
    check_ctx_t *c = ctx;
    bool         first = true;
    for (size_t i = 0; i < cnt; i++) {
        if (i && v[i].slot >= v[i - 1].slot && !c->bad) {
            c->bad = 1;
            snprintf(c->msg, sizeof c->msg, "versions not sorted newest first");
        }
        if (adb_val_is_cache(v[i].val)) continue;
        if (!adb_val_is_dead(v[i].val)) {
            if (!first && !c->bad) {
                char k[48];
                adb_base58_encode_32(key, k);
                c->bad = 1;
                int o = snprintf(c->msg, sizeof c->msg,
                                 "I3: key %s has an alive storage version at slot %llu below a "
                                 "newer storage version; versions:",
                                 k, (unsigned long long)v[i].slot);
                for (size_t q = 0; q < cnt && o > 0 && (size_t)o < sizeof c->msg; q++)
                    o += snprintf(c->msg + o, sizeof c->msg - (size_t)o, " %llu%s",
                                  (unsigned long long)v[q].slot,
                                  adb_val_is_cache(v[q].val)  ? "(cache)"
                                  : adb_val_is_dead(v[q].val) ? "(dead)"
                                                              : "(alive)");
            }
            if (c->n == c->cap) {
                size_t      ncap = c->cap ? c->cap * 2 : 4096;
                loc_item_t *ni = adb_realloc(c->items, ncap * sizeof *ni);
                if (!ni) return ACCTDB_ERR_NOMEM;
                c->items = ni;
                c->cap = ncap;
            }
            c->items[c->n].val = v[i].val;
            memcpy(c->items[c->n].key, key, 32);
            c->n++;
        }
        first = false;
    }
    return 0;
}

static int
check_locked(adb_db_t *db, adb_err_t *err) {
    uint32_t    n = adb_db_file_cnt(db);
    uint64_t   *bytes = adb_calloc(n ? n : 1, sizeof *bytes);
    uint64_t   *cnt = adb_calloc(n ? n : 1, sizeof *cnt);
    int         rc = bytes && cnt ? 0 : adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    check_ctx_t c = {0};
    uint32_t    bins = adb_index_bin_cnt(db->ix);
    for (uint32_t b = 0; !rc && b < bins; b++) {
        c.n = 0;
        rc = adb_index_bin_vvisit(db->ix, b, check_bin_cb, &c);
        if (rc) {
            rc = adb_err_set(err, rc, "out of memory");
            break;
        }
        if (c.bad) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s", c.msg);
            break;
        }
        for (size_t i = 0; !rc && i < c.n; i++) {
            uint32_t fi = adb_db_loc_file(c.items[i].val);
            uint64_t off = adb_db_loc_off(c.items[i].val);
            if (fi >= n) {
                rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "I2: a version names storage %u of %u",
                                 fi, n);
                break;
            }
            adb_db_file_t const *f = adb_db_file(db, fi);
            uint8_t              h[ADB_ACCT_HDR_SZ];
            if (off + sizeof h > f->valid_len) {
                rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                 "I2: a version points outside storage %u (slot %llu)", fi,
                                 (unsigned long long)f->slot);
                break;
            }
            int hrc =
                adb_io_pread_all(db->io, adb_db_file_fd(db, f), h, sizeof h, f->seg_off + off);
            if (hrc) {
                rc = adb_err_set(err, hrc, "reading a record header of storage %u (slot %llu): %s",
                                 fi, (unsigned long long)f->slot, acctdb_strerror(hrc));
                break;
            }
            if (memcmp(h + ADB_ACCT_OFF_PUBKEY, c.items[i].key, 32) ||
                (adb_load_u64(h + ADB_ACCT_OFF_LAMPORTS) == 0) !=
                    adb_db_loc_is_zero(c.items[i].val)) {
                char k[48];
                adb_base58_encode_32(c.items[i].key, k);
                char o[48];
                adb_base58_encode_32(h + ADB_ACCT_OFF_PUBKEY, o);
                rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                 "I2: key %s's version in storage %u (slot %llu%s, %llu bytes) at "
                                 "%llu%s holds another record (%s, %llu lamports)",
                                 k, fi, (unsigned long long)f->slot,
                                 atomic_load(&f->replaced) ? ", replaced" : "",
                                 (unsigned long long)f->valid_len, (unsigned long long)off,
                                 adb_db_loc_is_zero(c.items[i].val) ? " (zero flag)" : "", o,
                                 (unsigned long long)adb_load_u64(h + ADB_ACCT_OFF_LAMPORTS));
                break;
            }
            bytes[fi] += adb_acct_rec_sz(adb_load_u64(h + ADB_ACCT_OFF_DATA_LEN));
            cnt[fi]++;
        }
    }
    for (uint32_t i = 0; !rc && i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        uint64_t             ab = atomic_load(&f->alive_bytes), ac = atomic_load(&f->alive_cnt);
        if (ab != bytes[i] || ac != cnt[i])
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                             "I1: storage %u (slot %llu%s): accounted %llu alive bytes in %llu "
                             "records, the index references %llu bytes in %llu",
                             i, (unsigned long long)f->slot,
                             atomic_load(&f->replaced) ? ", replaced" : "", (unsigned long long)ab,
                             (unsigned long long)ac, (unsigned long long)bytes[i],
                             (unsigned long long)cnt[i]);
    }
    adb_free(c.items);
    adb_free(bytes);
    adb_free(cnt);
    return rc;
}

int
adb_eng_check(adb_db_t *db, adb_err_t *err) {
    pthread_mutex_lock(&db->eng->smu);
    int rc = check_locked(db, err);
    pthread_mutex_unlock(&db->eng->smu);
    return rc;
}

/* ---- verify ---------------------------------------------------------------- */

int
adb_eng_verify(adb_db_t *db, adb_err_t *err) {
    adb_eng_t *e = db->eng;
    pthread_mutex_lock(&e->smu);
    int             rc = check_locked(db, err);
    acctdb_lthash_t lt;
    adb_lthash_zero(&lt);
    uint64_t cap = 0, dlen = 0, live = 0;
    uint32_t n = adb_db_file_cnt(db);
    enum { B = 64 };
    acctdb_account_t batch[B];
    size_t           nb = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
        adb_db_file_t *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced) || !atomic_load(&f->alive_cnt) || !f->valid_len) continue;
        adb_db_view_t v;
        if ((rc = adb_db_view(db, f, f->written, &v)) != 0) {
            rc = adb_err_set(err, rc, "reading the storage of slot %llu: %s",
                             (unsigned long long)f->slot, acctdb_strerror(rc));
            break;
        }
        uint8_t const *m = v.p;
        /* Every byte of every record, rent_epoch and padding included, is
         * under the seal; the lattice hash below covers only some fields. */
        if ((rc = seal_check(db, f, m, err))) {
            adb_db_unview(db, &v);
            break;
        }
        adb_acctfile_iter_t it;
        adb_acct_rec_t      r;
        adb_acctfile_iter_init(&it, m, f->valid_len, f->valid_len);
        while (adb_acctfile_iter_next(&it, &r)) {
            if (!r.lamports) continue;
            if (!adb_eng_rec_alive(db, r.pubkey, f->slot, adb_db_loc(i, r.off, false))) continue;
            cap += r.lamports;
            dlen += r.data_len;
            live++;
            adb_acct_rec_to_account(&r, &batch[nb++]);
            if (nb == B) {
                adb_lthash_add_accounts(&lt, batch, nb, ACCTDB_LTHASH_CURRENT);
                nb = 0;
            }
        }
        adb_lthash_add_accounts(&lt, batch, nb, ACCTDB_LTHASH_CURRENT);
        nb = 0;
        if (it.err.code)
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "storage of slot %llu: %s",
                             (unsigned long long)f->slot, it.err.msg);
        adb_db_unview(db, &v);
    }
    acctdb_bank_info_t root = e->durable_info;
    pthread_mutex_unlock(&e->smu);
    if (rc) return rc;
    uint8_t ck[32];
    adb_lthash_checksum(&lt, ck);
    char a[48], b[48];
    if (memcmp(ck, root.lt_checksum, 32)) {
        adb_base58_encode_32(root.lt_checksum, a);
        adb_base58_encode_32(ck, b);
        return adb_err_set(err, ACCTDB_ERR_MISMATCH,
                           "lattice hash of root %llu: root record %s, account files %s",
                           (unsigned long long)root.slot, a, b);
    }
    if (cap != root.capitalization)
        return adb_err_set(err, ACCTDB_ERR_MISMATCH,
                           "capitalization of root %llu: root record %llu, account files %llu",
                           (unsigned long long)root.slot, (unsigned long long)root.capitalization,
                           (unsigned long long)cap);
    if (dlen != root.accounts_data_len)
        return adb_err_set(err, ACCTDB_ERR_MISMATCH,
                           "accounts data length of root %llu: root record %llu, account files "
                           "%llu",
                           (unsigned long long)root.slot,
                           (unsigned long long)root.accounts_data_len, (unsigned long long)dlen);
    adb_base58_encode_32(ck, a);
    adb_err_set(err, 0,
                "root %llu: %llu live accounts, capitalization %llu, data %llu B, lattice "
                "hash %s",
                (unsigned long long)root.slot, (unsigned long long)live, (unsigned long long)cap,
                (unsigned long long)dlen, a);
    return 0;
}
