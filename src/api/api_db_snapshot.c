/* src/api/api_db_snapshot.c - snapshots of a live database.
 *
 * acctdb_db_snapshot writes the durable root (the engine flushes every
 * rooted bank first) as a full archive, or as an incremental one with the
 * storages newer than the last full snapshot.  Steps:
 *
 *   BEGIN   the engine pins the durable root (flush goes on; clean and
 *           shrink skip their passes until END) and lists the storages with
 *           alive records (adb_eng_snap_begin)
 *   STATE   the bank module's fields of the root (src/bank
 *           adb_bank_manifest_fill: heights, counts, hashes, epoch, rent
 *           collector, stakes, epoch stakes, blockhash queue, ancestors);
 *           the status cache holds a delta for
 *           each of the newest 300 slots SlotHistory records (the origin's
 *           statuses where it had them, empty otherwise), which is what a
 *           loader checks it against
 *   WRITE   each storage streams only its alive records (write.c: tar,
 *           zstd frames, temporary name, fsync, rename, directory fsync)
 *   END     a full snapshot becomes the new base for incrementals (and
 *           lets clean drop tombstones up to its slot); services resume
 *   RETAIN  older archives go: the newest keep_full full snapshots stay,
 *           with at most keep_incremental incrementals on them, then the
 *           oldest go until the byte budget holds (never the newest full or
 *           the archive just written).
 *
 * Invariant: a tombstone newer than the last full snapshot is never
 * cleaned (db_clean.c), so every incremental carries the closures since
 * its base and a full + incremental restore cannot resurrect an account. */
#include "api/api_private.h"
#include "bank/bank.h"

#include "snapshot/status_cache.h"
#include "bank/bank_sysvar.h"
#include "snapshot/write.h"
#include "util/base58.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct emit_ctx {
    adb_db_t             *db;
    adb_eng_snap_t const *s;
    size_t const         *map;  /* archive storage i -> s->files index */
    _Atomic int const    *stop; /* acctdb_db_interrupt: stop before the next file */
} emit_ctx_t;

static int
out_tramp(void *ctx, void const *p, size_t sz) {
    return adb_snap_out_data(ctx, p, sz);
}

static int
emit_cb(void *ctx, size_t i, adb_snap_out_t *out) {
    emit_ctx_t *c = ctx;
    if (atomic_load_explicit(c->stop, memory_order_relaxed))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_STOPPED,
                           "stopped: the database was interrupted (after %zu account files)", i);
    return adb_eng_snap_emit(c->db, c->s, c->map[i], out_tramp, out);
}

/* Status cache: the newest 300 slots SlotHistory records, each with the
 * origin's delta if it had one. */
static int
build_status_cache(acctdb_db_t *h, adb_slot_history_t const *sh, uint8_t **out, size_t *out_sz,
                   adb_err_t *err) {
    adb_status_cache_t orig, sc;
    adb_status_cache_init(&orig);
    adb_status_cache_init(&sc);
    adb_err_t e = {0};
    int       rc = 0;
    if (h->sc_raw && (rc = adb_status_cache_decode(h->sc_raw, h->sc_raw_sz, 0, &orig, &e)))
        return adb_err_set(err, rc, "the database's status cache: %s", e.msg);
    adb_slot_delta_t *d = adb_status_cache_alloc(&sc, ADB_STATUS_CACHE_MAX_ENTRIES * sizeof *d);
    if (!d) rc = ACCTDB_ERR_NOMEM;
    uint64_t n = 0, oldest = adb_slot_history_oldest(sh);
    for (uint64_t s = adb_slot_history_newest(sh); !rc && n < ADB_STATUS_CACHE_MAX_ENTRIES;) {
        if (adb_slot_history_check(sh, s) == ADB_SLOT_FOUND) {
            d[n] = (adb_slot_delta_t){s, true, NULL, 0};
            for (uint64_t k = 0; k < orig.deltas_cnt; k++)
                if (orig.deltas[k].slot == s) d[n] = orig.deltas[k], d[n].is_root = true;
            n++;
        }
        if (s == oldest || s == 0) break;
        s--;
    }
    if (!rc) {
        sc.deltas = d;
        sc.deltas_cnt = n;
        rc = adb_status_cache_encode_buf(&sc, out, out_sz);
    }
    adb_status_cache_fini(&sc);
    adb_status_cache_fini(&orig);
    if (rc) return adb_err_set(err, rc, "building the status cache: %s", acctdb_strerror(rc));
    return 0;
}

/* ---- retention ------------------------------------------------------------- */

typedef struct arch {
    char            name[256];
    adb_snap_name_t n;
    uint64_t        sz;
    bool            del;
} arch_t;

static int
cmp_arch(void const *a, void const *b) {
    arch_t const *x = a, *y = b;
    if (x->n.slot != y->n.slot) return x->n.slot < y->n.slot ? 1 : -1; /* newest first */
    return 0;
}

/* Listing and sizing the archives (opendir, readdir, fstatat) is not in
 * the I/O table; the deletions are, through the handle's io. */
static void
retain(adb_io_t const *io, char const *dir, acctdb_db_config_t const *cfg, char const *keep_path) {
    DIR *d = opendir(dir);
    if (!d) return;
    arch_t        *a = NULL;
    size_t         n = 0, cap = 0;
    struct dirent *de;
    int            dfd = dirfd(d);
    while ((de = readdir(d))) {
        adb_snap_name_t nm;
        if (strlen(de->d_name) >= sizeof a->name || adb_snap_name_parse(de->d_name, &nm)) continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode)) continue;
        if (n == cap) {
            size_t  ncap = cap ? cap * 2 : 32;
            arch_t *na = adb_realloc(a, ncap * sizeof *na);
            if (!na) break;
            a = na;
            cap = ncap;
        }
        snprintf(a[n].name, sizeof a[n].name, "%s", de->d_name);
        a[n].n = nm;
        a[n].sz = (uint64_t)st.st_size;
        a[n].del = false;
        n++;
    }
    qsort(a, n, sizeof *a, cmp_arch);
    char const *keep = strrchr(keep_path, '/');
    keep = keep ? keep + 1 : keep_path;
    /* Full snapshots: the newest keep_full. */
    uint32_t fulls = 0;
    uint64_t newest_full = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (a[i].n.is_incremental) continue;
        if (newest_full == UINT64_MAX) newest_full = a[i].n.slot;
        if (++fulls > cfg->snapshot_keep_full) a[i].del = true;
    }
    /* Incrementals: on a kept full, the newest keep_incremental. */
    uint32_t incs = 0;
    for (size_t i = 0; i < n; i++) {
        if (!a[i].n.is_incremental) continue;
        bool base_kept = false;
        for (size_t k = 0; k < n; k++)
            if (!a[k].n.is_incremental && !a[k].del && a[k].n.slot == a[i].n.base_slot)
                base_kept = true;
        if (!base_kept || ++incs > cfg->snapshot_keep_incremental) a[i].del = true;
    }
    /* The byte budget: oldest first, incrementals before fulls. */
    if (cfg->snapshot_max_sz) {
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++)
            if (!a[i].del) total += a[i].sz;
        for (int pass = 0; pass < 2 && total > cfg->snapshot_max_sz; pass++)
            for (size_t i = n; i-- > 0 && total > cfg->snapshot_max_sz;) {
                if (a[i].del || a[i].n.is_incremental != (pass == 0) || !strcmp(a[i].name, keep))
                    continue;
                if (!a[i].n.is_incremental && a[i].n.slot == newest_full) continue;
                a[i].del = true;
                total -= a[i].sz;
            }
    }
    for (size_t i = 0; i < n; i++)
        if (a[i].del && strcmp(a[i].name, keep)) {
            char side[300];
            snprintf(side, sizeof side, "%s%s", a[i].name, ADB_SIDECAR_SUFFIX);
            adb_io_unlinkat(io, dfd, side, 0); /* its sidecar, if any, first */
            adb_io_unlinkat(io, dfd, a[i].name, 0);
        }
    closedir(d);
    adb_free(a);
}

/* ---- the snapshot ------------------------------------------------------------ */

int
acctdb_db_snapshot(acctdb_db_t *h, char const *archive_dir, bool incremental, char *path_out) {
    if (!h || !archive_dir) return ACCTDB_ERR_INVALID;
    if (path_out) path_out[0] = 0;
    adb_api_begin();
    adb_err_t *err = adb_eng_err();
    if (atomic_load_explicit(&h->interrupted, memory_order_relaxed))
        return adb_api_fail(h, ACCTDB_ERR_STOPPED,
                            "stopped: the database was interrupted; no snapshot started");
    if (!h->has_man)
        return adb_api_fail(h, ACCTDB_ERR_UNSUPPORTED,
                            "%s has no bank state (manifest.bin), so it cannot write snapshots",
                            h->dir);
    struct stat st;
    if (stat(archive_dir, &st) || !S_ISDIR(st.st_mode))
        return adb_api_fail(h, ACCTDB_ERR_INVALID, "%s is not a directory", archive_dir);
    int rc = adb_eng_svc_err_take(h->db);
    if (rc) return adb_api_done(h, rc);
    adb_eng_snap_t s;
    rc = adb_eng_snap_begin(h->db, UINT64_MAX, &s, err);
    if (rc) return adb_api_done(h, rc);
    uint64_t const root = s.root.slot;
    uint64_t const base = s.last_full_slot;
    adb_manifest_t m;
    adb_manifest_init(&m);
    uint8_t            *shbuf = NULL, *scb = NULL;
    size_t              shcap = 0, scsz = 0;
    size_t             *map = NULL;
    adb_snap_storage_t *st_arr = NULL;
    size_t              st_cnt = 0;
    char                path[4096] = "";

    if (incremental && base == UINT64_MAX) {
        rc = adb_err_set(err, ACCTDB_ERR_INVALID,
                         "no full snapshot yet: an incremental needs one as its base");
        goto done;
    }
    if (incremental && root <= base) {
        rc = adb_err_set(err, ACCTDB_ERR_INVALID,
                         "nothing is rooted after the last full snapshot (slot %llu)",
                         (unsigned long long)base);
        goto done;
    }
    /* SlotHistory at the root must name it (a bank records its slot as it
     * begins); the status cache is built from it. */
    acctdb_pubkey_t shid;
    adb_base58_decode_32(ADB_SYSVAR_SLOT_HISTORY_ID, strlen(ADB_SYSVAR_SLOT_HISTORY_ID), shid.b);
    adb_db_acct_t      sha;
    adb_slot_history_t sh;
    adb_err_t          e = {0};
    rc = adb_eng_snap_get(h->db, shid.b, &sha, &shbuf, &shcap);
    if (rc && rc != ACCTDB_ERR_NOT_FOUND) {
        rc = adb_err_set(err, rc, "root %llu: reading the SlotHistory sysvar: %s",
                         (unsigned long long)root, adb_eng_err()->msg);
        goto done;
    }
    if (rc) {
        rc = adb_err_set(err, ACCTDB_ERR_INVALID,
                         "root %llu has no SlotHistory sysvar: begin banks with "
                         "acctdb_db_bank_begin so snapshots can carry a status cache",
                         (unsigned long long)root);
        goto done;
    }
    rc = adb_sysvar_slot_history_decode(sha.a.data, (size_t)sha.a.data_len, &sh, &e);
    if (rc) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "root %llu: %s", (unsigned long long)root, e.msg);
        goto done;
    }
    if (adb_slot_history_newest(&sh) != root) {
        rc =
            adb_err_set(err, ACCTDB_ERR_INVALID,
                        "root %llu: its SlotHistory sysvar says the newest slot is %llu; banks "
                        "must record their slot (acctdb_db_bank_begin) for a snapshot to verify",
                        (unsigned long long)root, (unsigned long long)adb_slot_history_newest(&sh));
        goto done;
    }
    if ((rc = build_status_cache(h, &sh, &scb, &scsz, err))) goto done;

    /* Bank state: the bank module's fields of the root (stakes and epoch
     * stakes from its accounts and bank state, sysvar-consistent). */
    rc = adb_bank_manifest_fill(h->db, &h->origin, &s.root, s.hist, s.hist_cnt, &m.mem, &m.bank,
                                &m.extra);
    if (rc) {
        rc = adb_err_set(err, rc, "the bank state of root %llu: %s", (unsigned long long)root,
                         err->msg[0] ? err->msg : acctdb_strerror(rc));
        goto done;
    }
    m.present_cnt = m.extra.has_block_id ? ADB_MANIFEST_F_ALL : ADB_MANIFEST_F_ACCOUNTS_LT_HASH;
    m.accounts_db.slot = root;

    /* Storages: all of them, or those after the base. */
    map = adb_malloc((s.cnt ? s.cnt : 1) * sizeof *map);
    st_arr = adb_malloc((s.cnt ? s.cnt : 1) * sizeof *st_arr);
    if (!map || !st_arr) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s.cnt; i++) {
        if (incremental && s.slots[i] <= base) continue;
        map[st_cnt] = i;
        st_arr[st_cnt] = (adb_snap_storage_t){s.slots[i], s.files[i], s.sizes[i]};
        st_cnt++;
    }
    emit_ctx_t            ec = {h->db, &s, map, &h->interrupted};
    adb_snap_write_opts_t wo = {.incremental = incremental,
                                .base_slot = incremental ? base : 0,
                                .workers = adb_eng_config(h->db)->threads,
                                .io = h->io,
                                /* acctdb's own state beside the archive, never
                                 * inside it (docs/STATE.md), durable before the
                                 * archive has its name: an archive without it
                                 * would read its compressed accounts as plain */
                                .companion_suffix = s.side ? ADB_SIDECAR_SUFFIX : NULL,
                                .companion = s.side,
                                .companion_sz = s.side_sz};
    rc = adb_snap_write(archive_dir, &m, scb, scsz, st_arr, st_cnt, emit_cb, &ec, &wo, path, NULL,
                        &e);
    if (rc) {
        rc = adb_err_set(err, rc, "%s", e.msg);
        goto done;
    }
    if (path_out) snprintf(path_out, 4096, "%s", path);
done:;
    int erc = adb_eng_snap_end(h->db, &s, !rc && !incremental ? root : UINT64_MAX);
    if (!rc && erc) rc = erc;
    if (!rc) retain(h->io, archive_dir, adb_eng_config(h->db), path);
    adb_api_done(h, rc);
    adb_manifest_fini(&m);
    adb_free(shbuf);
    adb_free(scb);
    adb_free(map);
    adb_free(st_arr);
    return rc;
}
