/* src/db/db_ixfile.c - the index file: what scanning every storage at open
 * would rebuild (the account index, each storage's alive counters, the
 * clean candidates, the owner and token indexes), written by a graceful
 * close, and as a checkpoint after running commits, and loaded by the next
 * open instead of the scan.
 *
 * DIR/index-<gen> (little-endian; gen: the commit it describes; immutable
 * once named):
 *   header, 256 bytes:
 *     "ACCTDBX1" | u32 format (2; 1 still read) | u32 header size (256) |
 *     u64 gen | u64 root slot | root bank hash [32] | u32 index bin bits |
 *     u32 flags (1: the owner index holds every owner, cfg.owner_index;
 *                2: the token and mint indexes follow;
 *                4: clean candidates overflowed: clean walks the index;
 *                8: the keys are in the disk tier the close stamped;
 *               16: a checkpoint) |
 *     u64 storage count | u64 index keys (a pre-sizing hint) |
 *     u32 watched owner count (<= 4) | u32 0 | 4 x owner [32] | zeros
 *   storages, in catalog order: storage count x {u64 slot, u32 segment,
 *     u32 CRC-32C seal, u64 offset in the segment, u64 size, u64
 *     alive_bytes, u64 alive_cnt} (format 1: {slot, alive_bytes, alive_cnt})
 *   then five sections of groups {key [32], u32 n, n items}, each ended by
 *   a group with n = 0:
 *     keys        key, n versions {u64 slot, u64 value} newest first: the
 *                 index's storage versions (write-cache ones left out),
 *                 DEAD flags as they were, the storage number in a value
 *                 being its place in the list above
 *     candidates  (key unused) n pubkeys [32]
 *     owners      owner, n of its pubkeys in increasing order
 *     tokens      token owner, n SPL Token accounts    (flag 2 only)
 *     mints       mint, n SPL Token accounts           (flag 2 only)
 *   trailer: u64 keys | u64 versions | u64 candidates | u64 pairs |
 *     BLAKE3-256 of every byte before it.
 *
 * Written in one pass with a bounded buffer (1 MiB, hashed as it goes).
 * By the close: after its final flush and before its CLEAN commit,
 * fdatasync, fsync of the directory, then the commit names it.  On any
 * error no file is left under the name and the commit names none
 * (index_gen 0); a failed sync is fail-stop (adb_db_sync: the engine goes
 * fatal, the close reports it and writes no CLEAN commit).
 *
 * The base.  Every later commit names the newest index file that holds its
 * keys (index_gen without the CLEAN flag): the clean close's (without a
 * disk tier), or a checkpoint.  A flush pass writes a checkpoint after its
 * commit, under smu (no other service pass runs; write-cache versions are
 * left out as at a close), once the storages written since the base pass
 * index_checkpoint_sz (default max(256 MiB, a quarter of the stored
 * bytes)), as index-<that commit's gen>; the next commit names it.  It is
 * not synced: a kill leaves it in the page cache, and one a power loss
 * tore fails its checks (then the open scans).  The commit record's slots
 * keep a file until neither names it (db_meta.c).
 *
 * Loaded at open in one pass, applying as it goes; a failure anywhere (the
 * checksum at the end included) undoes everything and falls back to the
 * scan, the reason kept (adb_db_t.ix_reason, stats.index_reason):
 *   - CLEAN commit: the file must be of that commit (generation, root slot,
 *     bank hash, the same storages), with the same index bins, covering
 *     the owners the opener indexes.
 *   - Otherwise (a kill, or a fail-stop close): the base, replayed.  Its
 *     storages are matched to the catalog's by segment, offset, slot, size
 *     and seal (extents are reused, so the place alone is not enough);
 *     versions in storages that are gone (shrink replaced them; what
 *     survived is in the new ones) are left out, and the storages it does
 *     not list are scanned after it (db_eng.c, adb_db_index_scan_some),
 *     which kills the versions they supersede as a full scan would.  The
 *     open then takes time proportional to the storages committed since the
 *     base, plus reading the base; the result reads exactly as a full scan
 *     (tombstones clean removed after the base may come back, as in any
 *     rebuild, until clean takes them again).
 *
 * What loading does not do: the scan checks every storage's seals (where
 * its records end and the CRC-32C of its bytes, db_meta.c) as it indexes
 * it; loading reads no storage it does not replay, so one damaged since
 * is not noticed at open.  `acctdb db verify` (adb_eng_verify) and the
 * snapshot writer still check the seals; the index file trades that
 * open-time check for not reading every byte of the database. */
#include "db/db_private.h"

#include "hash/blake3.h"
#include "index/disk.h"
#include "index/owner.h"
#include "util/io.h"
#include "util/point.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define IX_MAGIC      "ACCTDBX1"
#define IX_VERSION    2u /* 1: storages {slot, alive_bytes, alive_cnt}, matched by place */
#define IX_STOR1_SZ   24u
#define IX_STOR2_SZ   48u
#define IX_HDR_SZ     256u
#define IX_TRAILER_SZ 64u /* four counts and the checksum */
#define IX_BUF_SZ     (1u << 20)
#define IX_GROUP_MAX  4096u      /* pubkeys in one group (the writer makes <= 256) */
#define IX_VERS_MAX   (1u << 24) /* versions of one key: far more than forks make */

enum {
    IX_F_OWNERS_ALL = 1,
    IX_F_TOKENS = 2,
    IX_F_OVERFLOW = 4,
    IX_F_DISK = 8,       /* the keys are in the disk tier the close stamped */
    IX_F_CHECKPOINT = 16 /* written after a running commit (a base to replay from) */
};

static uint32_t bin_bits_of(adb_index_t const *ix);

#define IX_DISK_DIR "index.d"

int
adb_db_index_make(adb_db_t *db, adb_db_meta_t const *m) {
    uint32_t          bits = bin_bits_of(db->ix);
    adb_index_cfg_t   icfg = {.bin_bits = bits};
    char              dir[sizeof db->dir + 16];
    adb_dtier_stamp_t st = {0};
    if (db->ix_disk) {
        snprintf(dir, sizeof dir, "%s/%s", db->dir, IX_DISK_DIR);
        icfg.disk_dir = dir;
        icfg.io = db->io;
        icfg.ram_bytes = db->ix_ram_bytes;
        icfg.pin_mask = ADB_VAL_CACHE;
        icfg.threads = db->ix_threads ? db->ix_threads : 1;
        if (m && m->gen && (m->flags & ADB_DB_COMMIT_CLEAN) && m->index_gen) {
            st.gen = m->index_gen;
            st.root = m->slot;
            icfg.reuse = true;
            icfg.stamp = &st;
        }
    }
    adb_index_close(db->ix);
    db->ix = NULL;
    return adb_index_open(&db->ix, &icfg);
}

bool
adb_ixfile_name(char const *name, uint64_t *gen_out) {
    return adb_db_gen_name(name, "index-", gen_out);
}

static void
ix_name(char out[32], uint64_t gen) {
    snprintf(out, 32, "index-%llu", (unsigned long long)gen);
}

static uint32_t
bin_bits_of(adb_index_t const *ix) {
    uint32_t bits = 0;
    while ((1u << bits) < adb_index_bin_cnt(ix))
        bits++;
    return bits;
}

/* ---- writing ----------------------------------------------------------------- */

typedef struct ixw {
    adb_db_t const *db;
    int             fd;
    uint8_t        *buf;
    size_t          n;
    adb_blake3_t    h;
    int             err; /* first error: nothing more is written */
    char            why[160];
    uint64_t        keys, vers, cands, pairs;
    uint32_t       *rank; /* storage number -> place in the catalog (UINT32_MAX: replaced) */
    uint32_t        nall;
} ixw_t;

static void
w_flush(ixw_t *w) {
    if (w->err || !w->n) return;
    adb_blake3_update(&w->h, w->buf, w->n);
    w->err = adb_io_write_all(w->db->io, w->fd, w->buf, w->n);
    w->n = 0;
}

static void
w_put(ixw_t *w, void const *p, size_t sz) {
    uint8_t const *s = p;
    while (sz && !w->err) {
        if (w->n == IX_BUF_SZ) w_flush(w);
        size_t k = ADB_MIN(sz, IX_BUF_SZ - w->n);
        memcpy(w->buf + w->n, s, k);
        w->n += k, s += k, sz -= k;
    }
}

static void
w_u32(ixw_t *w, uint32_t v) {
    uint8_t b[4];
    adb_store_u32(b, v);
    w_put(w, b, 4);
}

static void
w_u64(ixw_t *w, uint64_t v) {
    uint8_t b[8];
    adb_store_u64(b, v);
    w_put(w, b, 8);
}

static void
w_group(ixw_t *w, uint8_t const key[32], uint32_t n) {
    static uint8_t const zero[32];
    w_put(w, key ? key : zero, 32);
    w_u32(w, n);
}

/* The bin visit holds the bin's lock while the buffer goes to the file:
 * at a close nothing else takes it (services stopped, callers gone). */
static int
w_key(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t cnt) {
    ixw_t   *w = ctx;
    uint32_t n = 0;
    for (size_t i = 0; i < cnt; i++)
        n += !adb_val_is_cache(v[i].val);
    if (!n) return 0;
    w_group(w, key, n);
    for (size_t i = 0; i < cnt; i++) {
        if (adb_val_is_cache(v[i].val)) continue;
        uint64_t dead = v[i].val & ADB_VAL_DEAD, loc = v[i].val & ~ADB_VAL_DEAD;
        uint32_t f = adb_db_loc_file(loc);
        if (f >= w->nall || w->rank[f] == UINT32_MAX) {
            /* Shrink repoints every version before it replaces a storage:
             * this would be an engine bug; the file is not written. */
            snprintf(w->why, sizeof w->why,
                     "a version of slot %llu names storage %u, which the catalog does not list",
                     (unsigned long long)v[i].slot, f);
            return w->err = ACCTDB_ERR_CORRUPT;
        }
        w_u64(w, v[i].slot);
        w_u64(w, (uint64_t)w->rank[f] << 32 | (loc & 0xFFFFFFFFu) | dead);
    }
    w->keys++;
    w->vers += n;
    return w->err;
}

static int
w_pairs(void *ctx, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *keys, size_t n) {
    ixw_t *w = ctx;
    w_group(w, owner->b, (uint32_t)n);
    w_put(w, keys, n * sizeof *keys);
    w->pairs += n;
    return w->err;
}

static void
w_owner_section(ixw_t *w, adb_owner_ix_t *o) {
    if (o && !w->err) adb_owner_visit(o, w_pairs, w);
    w_group(w, NULL, 0);
}

/* Two tiers: the disk tier's values name storages by their place in the
 * catalog, as the next open numbers them (the file's keys would). */
static int
remap_cb(void *ctx, adb_index_ver_t *v) {
    ixw_t   *w = ctx;
    uint64_t dead = v->val & ADB_VAL_DEAD, loc = v->val & ~ADB_VAL_DEAD;
    uint32_t f = adb_db_loc_file(loc);
    if (f >= w->nall || w->rank[f] == UINT32_MAX) {
        snprintf(w->why, sizeof w->why,
                 "a version of slot %llu names storage %u, which the catalog does not list",
                 (unsigned long long)v->slot, f);
        return w->err = ACCTDB_ERR_CORRUPT;
    }
    v->val = (uint64_t)w->rank[f] << 32 | (loc & 0xFFFFFFFFu) | dead;
    return 0;
}

/* Everything after the header: storages, the five sections, the trailer. */
static void
w_body(ixw_t *w, adb_db_t *db, adb_eng_t *e, bool keys) {
    for (uint32_t i = 0; i < w->nall; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (w->rank[i] == UINT32_MAX) continue;
        w_u64(w, f->slot);
        w_u32(w, f->seg);
        w_u32(w, f->crc);
        w_u64(w, f->seg_off);
        w_u64(w, f->written);
        w_u64(w, atomic_load(&f->alive_bytes));
        w_u64(w, atomic_load(&f->alive_cnt));
    }
    uint32_t bins = adb_index_bin_cnt(db->ix);
    for (uint32_t b = 0; b < bins && !w->err && keys; b++)
        adb_index_bin_vvisit(db->ix, b, w_key, w);
    w_group(w, NULL, 0);
    /* Candidates: those queued and those parked (blocked); at reopen all
     * are candidates again, as after a scan. */
    pthread_mutex_lock(&e->cand_mu);
    for (size_t i = 0; i < e->cand_cnt && !w->err; i += 256) {
        size_t k = ADB_MIN((size_t)256, e->cand_cnt - i);
        w_group(w, NULL, (uint32_t)k);
        w_put(w, e->cand + i, k * sizeof *e->cand);
        w->cands += k;
    }
    /* Parked keys without why they wait: a reopen tries them again. */
    for (size_t i = 0; i < e->parked_cnt && !w->err; i += 256) {
        size_t k = ADB_MIN((size_t)256, e->parked_cnt - i);
        w_group(w, NULL, (uint32_t)k);
        for (size_t j = 0; j < k; j++)
            w_put(w, &e->parked[i + j].key, sizeof e->parked[i + j].key);
        w->cands += k;
    }
    pthread_mutex_unlock(&e->cand_mu);
    w_group(w, NULL, 0);
    w_owner_section(w, e->owners);
    if (e->tokens && e->mints) {
        w_owner_section(w, e->tokens);
        w_owner_section(w, e->mints);
    }
    w_u64(w, w->keys);
    w_u64(w, w->vers);
    w_u64(w, w->cands);
    w_u64(w, w->pairs);
    w_flush(w);
    if (!w->err) {
        uint8_t ck[32];
        adb_blake3_finalize(&w->h, ck, 32);
        w->err = adb_io_write_all(db->io, w->fd, ck, 32);
    }
}

int
adb_ixfile_write(adb_db_t *db, uint64_t gen, acctdb_bank_info_t const *root, bool checkpoint,
                 adb_err_t *err) {
    adb_eng_t      *e = db->eng;
    adb_io_t const *io = db->io;
    char            name[32];
    ix_name(name, gen);
    /* An owner index that missed pairs (out of memory) is incomplete; a
     * scan would rebuild it whole. */
    adb_owner_ix_t *const oixs[3] = {e->owners, e->tokens, e->mints};
    for (int i = 0; i < 3; i++)
        if (oixs[i] && adb_owner_misses(oixs[i]))
            return adb_err_set(err, ACCTDB_ERR_NOMEM,
                               "%s/%s not written: an owner index missed pairs (out of memory); "
                               "the next open rebuilds it",
                               db->dir, name);
    ixw_t w = {.db = db, .fd = -1, .nall = adb_db_file_cnt(db)};
    w.buf = adb_malloc(IX_BUF_SZ);
    w.rank = adb_malloc((w.nall ? w.nall : 1) * sizeof *w.rank);
    if (!w.buf || !w.rank) {
        adb_free(w.buf);
        adb_free(w.rank);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "%s/%s not written: out of memory", db->dir,
                           name);
    }
    uint32_t live = 0;
    bool     moved = false;
    for (uint32_t i = 0; i < w.nall; i++) {
        w.rank[i] = atomic_load(&adb_db_file(db, i)->replaced) ? UINT32_MAX : live++;
        moved |= w.rank[i] != i;
    }
    adb_blake3_init(&w.h);
    int rc = 0;
    /* A close with a disk tier leaves the keys in it (remapped to catalog
     * places and stamped); a checkpoint writes them, as without one. */
    bool two = adb_index_two_tier(db->ix) && !checkpoint;
    if (two && moved && adb_index_remap_disk(db->ix, remap_cb, &w)) {
        rc = adb_err_set(err, w.err, "%s/%s not written: %s", db->dir, name, w.why);
        adb_free(w.buf);
        adb_free(w.rank);
        return rc;
    }
    w.fd = adb_io_openat(io, db->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (w.fd < 0) {
        rc = adb_err_set(err, w.fd, "creating %s/%s: %s", db->dir, name, acctdb_strerror(w.fd));
        goto out;
    }
    uint8_t hdr[IX_HDR_SZ] = {0};
    memcpy(hdr, IX_MAGIC, 8);
    adb_store_u32(hdr + 8, IX_VERSION);
    adb_store_u32(hdr + 12, IX_HDR_SZ);
    adb_store_u64(hdr + 16, gen);
    adb_store_u64(hdr + 24, root->slot);
    memcpy(hdr + 32, root->bank_hash.b, 32);
    adb_store_u32(hdr + 64, bin_bits_of(db->ix));
    pthread_mutex_lock(&e->cand_mu);
    bool overflow = e->cand_overflow;
    pthread_mutex_unlock(&e->cand_mu);
    adb_store_u32(hdr + 68, (e->cfg.owner_index ? IX_F_OWNERS_ALL : 0u) |
                                (e->tokens && e->mints ? IX_F_TOKENS : 0u) |
                                (overflow ? IX_F_OVERFLOW : 0u) | (two ? IX_F_DISK : 0u) |
                                (checkpoint ? IX_F_CHECKPOINT : 0u));
    adb_store_u64(hdr + 72, live);
    adb_store_u64(hdr + 80, adb_index_cnt(db->ix));
    uint32_t wc = e->owners ? e->watch_cnt : 0;
    adb_store_u32(hdr + 88, wc);
    for (uint32_t i = 0; i < wc; i++)
        memcpy(hdr + 96 + 32 * i, e->watch[i].b, 32);
    w_put(&w, hdr, sizeof hdr);
    w_body(&w, db, e, !two);
    if (w.err) {
        rc = adb_err_set(err, w.err == -ENOSPC ? ACCTDB_ERR_FULL : w.err, "writing %s/%s: %s",
                         db->dir, name, w.why[0] ? w.why : acctdb_strerror(w.err));
        goto out;
    }
    if (checkpoint) {
        /* Not synced: a kill -9 leaves it in the page cache; a power loss
         * may lose or tear it, and then its checks fail and the open scans
         * (what it was written to avoid, never a wrong index). */
        rc = adb_io_close(io, w.fd);
        w.fd = -1;
        if (rc) adb_err_set(err, rc, "closing %s/%s: %s", db->dir, name, acctdb_strerror(rc));
        goto out;
    }
    char what[96];
    snprintf(what, sizeof what, "fdatasync of %s", name);
    rc = adb_db_sync(db, w.fd, ADB_DB_SYNC_DATA, what);
    if (!rc) {
        rc = adb_io_close(io, w.fd);
        w.fd = -1;
        if (rc) adb_err_set(err, rc, "closing %s/%s: %s", db->dir, name, acctdb_strerror(rc));
    }
    if (!rc) rc = adb_db_sync(db, db->dirfd, ADB_DB_SYNC_FULL, "fsync of the database directory");
    if (rc == ACCTDB_ERR_FATAL) adb_err_set(err, rc, "%s", adb_eng_err()->msg);
    /* The keys are in the disk tier: stamped with this generation and root
     * (synced) before the commit that names the file. */
    adb_dtier_stamp_t st = {.gen = gen, .root = root->slot};
    if (!rc && two) rc = adb_index_stamp(db->ix, &st, err);
out:
    if (w.fd >= 0) adb_io_close(io, w.fd);
    if (rc) adb_io_unlinkat(io, db->dirfd, name, 0);
    adb_free(w.buf);
    adb_free(w.rank);
    return rc;
}

/* ---- checkpoints ------------------------------------------------------------- */

#define CKPT_MIN_SZ (256ull << 20)

void
adb_ixfile_checkpoint(adb_db_t *db) {
    adb_eng_t *e = db->eng;
    uint64_t   th = e->cfg.index_checkpoint_sz;
    if (th == UINT64_MAX || atomic_load(&e->fatal)) return;
    pthread_mutex_lock(&e->svc_mu);
    bool closing = e->svc_stop; /* the close writes its own index file */
    pthread_mutex_unlock(&e->svc_mu);
    if (closing) return;
    uint64_t total = 0;
    for (uint32_t i = 0; i < adb_db_file_cnt(db); i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (!atomic_load(&f->replaced)) total += f->written;
    }
    /* Without a base an open after a kill scans everything. */
    uint64_t since = db->ix_base ? db->ix_since_bytes : total;
    if (!th) th = ADB_MAX(CKPT_MIN_SZ, total / 4);
    if (since < th) return;
    uint32_t  cflags;
    uint64_t  gen = adb_db_commit_gen(db, &cflags);
    adb_err_t err = {0};
    if (!gen || gen == db->ix_base) return;
    uint64_t t0 = adb_now_ns();
    int      rc = adb_ixfile_write(db, gen, &e->durable_info, true, &err);
    if (rc) {
        adb_eng_svc_err_note(e, "index checkpoint", err.code ? err.code : rc, err.msg, false);
        return;
    }
    ADB_POINT("checkpoint.written");
    db->ix_base = gen;
    db->ix_since_bytes = 0;
    atomic_fetch_add(&db->ix_ckpts, 1);
    atomic_fetch_add(&db->ix_ckpt_ns, adb_now_ns() - t0);
}

/* ---- loading ----------------------------------------------------------------- */

typedef struct ixr {
    adb_db_t    *db;
    int          fd;
    uint8_t     *buf;
    size_t       pos, len;
    uint64_t     off;  /* file offset of buf[len] */
    uint64_t     size; /* of the file */
    adb_blake3_t h;    /* of the bytes before the checksum, as read */
    int          ioerr;
} ixr_t;

/* The next sz (<= IX_BUF_SZ) bytes, or NULL at the end of the file or on a
 * read error (r->ioerr). */
static inline uint8_t const *
r_need(ixr_t *r, size_t sz) {
    if (r->len - r->pos < sz) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
        uint64_t body_end = r->size - 32;
        while (r->len < sz) {
            if (r->off >= r->size) return NULL;
            size_t  want = (size_t)ADB_MIN((uint64_t)(IX_BUF_SZ - r->len), r->size - r->off);
            ssize_t k = adb_io_pread(r->db->io, r->fd, r->buf + r->len, want, r->off);
            if (k <= 0) {
                r->ioerr = k < 0 ? (int)k : 0;
                return NULL;
            }
            if (r->off < body_end)
                adb_blake3_update(&r->h, r->buf + r->len,
                                  (size_t)ADB_MIN((uint64_t)k, body_end - r->off));
            r->len += (size_t)k;
            r->off += (uint64_t)k;
        }
    }
    uint8_t const *p = r->buf + r->pos;
    r->pos += sz;
    return p;
}

/* Where the next byte comes from. */
static uint64_t
r_at(ixr_t const *r) {
    return r->off - (r->len - r->pos);
}

typedef struct ixload {
    ixr_t      r;
    adb_db_t  *db;
    adb_eng_t *e;
    uint32_t   flags, nfiles, version;
    bool       replay; /* the commit is later than the file: storages are matched by
                        * identity, those it lacks replayed, versions of those gone
                        * left out */
    uint64_t  nstor;   /* storages the file lists */
    uint64_t  root;    /* the root slot it was written at */
    uint32_t *map;     /* the file's storage place -> this open's number (UINT32_MAX: gone) */
    uint8_t  *seen;    /* per storage of this open: the file lists it */
    uint64_t  keys, vers, cands, pairs, skipped;
    char     *why;
    size_t    why_max;
    int       nomem; /* applying ran out of memory */
    char      name[32];
} ixload_t;

static int damaged(ixload_t *L, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "index file damaged: index-N: what" (or unreadable), returns 1. */
static int
damaged(ixload_t *L, char const *fmt, ...) {
    char    m[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (L->r.ioerr)
        snprintf(L->why, L->why_max, "index file unreadable: %s: %s", L->name,
                 acctdb_strerror(L->r.ioerr));
    else if (L->nomem)
        snprintf(L->why, L->why_max, "out of memory loading %s", L->name);
    else
        snprintf(L->why, L->why_max, "index file damaged: %s: %s", L->name, m);
    return 1;
}

/* A group's header: key into *key_out (may be NULL), n into *n_out. */
static bool
r_group(ixload_t *L, uint8_t const **key_out, uint32_t *n_out) {
    uint8_t const *p = r_need(&L->r, 36);
    if (!p) return false;
    if (key_out) *key_out = p; /* valid until the next r_need */
    *n_out = adb_load_u32(p + 32);
    return true;
}

static int
load_keys(ixload_t *L) {
    adb_db_t *db = L->db;
    uint8_t   key[32];
    for (;;) {
        uint8_t const *k;
        uint32_t       n;
        if (!r_group(L, &k, &n)) return damaged(L, "it ends inside the index keys");
        if (!n) return 0;
        if (n > IX_VERS_MAX) return damaged(L, "a key with %u versions", n);
        memcpy(key, k, 32);
        uint64_t prev = UINT64_MAX;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t const *p = r_need(&L->r, 16);
            if (!p) return damaged(L, "it ends inside a key's versions");
            uint64_t slot = adb_load_u64(p), val = adb_load_u64(p + 8);
            uint64_t loc = val & ~ADB_VAL_DEAD;
            uint32_t f = adb_db_loc_file(loc);
            if (adb_val_is_cache(val) || f >= L->nstor || slot >= prev)
                return damaged(L, "a version out of order or of no storage (slot %llu)",
                               (unsigned long long)slot);
            prev = slot;
            if (L->map[f] == UINT32_MAX) {
                /* Its storage was replaced (or dropped) after the file was
                 * written: what survived of it is in a storage replayed. */
                L->skipped++;
                continue;
            }
            f = L->map[f];
            val = (uint64_t)f << 32 | (val & 0xFFFFFFFFu) | (val & ADB_VAL_DEAD);
            loc = val & ~ADB_VAL_DEAD;
            adb_db_file_t const *sf = adb_db_file(db, f);
            if (sf->slot != slot || adb_db_loc_off(loc) >= sf->written)
                return damaged(L, "a version of slot %llu outside its storage",
                               (unsigned long long)slot);
            int vrc = adb_index_vput(db->ix, key, slot, val);
            if (vrc) {
                L->nomem = vrc == ACCTDB_ERR_NOMEM;
                return damaged(L, "a version of slot %llu the index refuses",
                               (unsigned long long)slot);
            }
        }
        L->keys++;
        L->vers += n;
    }
}

/* A section of pubkey groups into ix (NULL: read and skipped); cands: the
 * clean candidates instead; owners: only owners the engine indexes. */
static int
load_pairs(ixload_t *L, adb_owner_ix_t *ix, bool cands, bool owners, char const *what) {
    acctdb_pubkey_t gk;
    for (;;) {
        uint8_t const *k;
        uint32_t       n;
        if (!r_group(L, &k, &n)) return damaged(L, "it ends inside the %s", what);
        if (!n) return 0;
        if (n > IX_GROUP_MAX) return damaged(L, "a group of %u %s", n, what);
        memcpy(gk.b, k, 32);
        uint8_t const *p = r_need(&L->r, (size_t)n * 32);
        if (!p) return damaged(L, "it ends inside the %s", what);
        if (cands) {
            L->cands += n;
            for (uint32_t i = 0; i < n; i++) {
                acctdb_pubkey_t c;
                memcpy(c.b, p + 32 * i, 32);
                adb_eng_cand_add(L->e, &c);
            }
            continue;
        }
        L->pairs += n;
        if (!ix || (owners && !adb_eng_owner_tracked(L->e, gk.b))) continue;
        /* A pubkey is 32 bytes of alignment 1: the buffer's bytes are keys. */
        if (adb_owner_add_sorted(ix, &gk, (acctdb_pubkey_t const *)p, n)) {
            L->nomem = 1;
            return damaged(L, "out of memory");
        }
    }
}

/* Undoes what a failed load applied: an empty index, zero counters, no
 * candidates, empty owner indexes.  Errors: NOMEM. */
static int
undo(adb_db_t *db, adb_eng_t *e, uint64_t expected) {
    int rc;
    if (db->ix_disk) {
        rc = adb_db_index_make(db, NULL); /* a fresh disk tier */
    } else {
        adb_index_cfg_t icfg = {.bin_bits = bin_bits_of(db->ix), .expected_keys = expected};
        adb_index_close(db->ix);
        db->ix = NULL;
        rc = adb_index_open(&db->ix, &icfg);
    }
    for (uint32_t i = 0; i < adb_db_file_cnt(db); i++) {
        adb_db_file_t *f = adb_db_file(db, i);
        atomic_store(&f->alive_bytes, 0);
        atomic_store(&f->alive_cnt, 0);
    }
    pthread_mutex_lock(&e->cand_mu);
    adb_free(e->cand);
    e->cand = NULL;
    e->cand_cnt = e->cand_cap = 0;
    e->cand_overflow = false;
    pthread_mutex_unlock(&e->cand_mu);
    adb_owner_ix_t **oixs[3] = {&e->owners, &e->tokens, &e->mints};
    for (int i = 0; i < 3; i++) {
        if (!*oixs[i]) continue;
        adb_owner_close(*oixs[i]);
        *oixs[i] = NULL;
        if (!rc) rc = adb_owner_open(oixs[i]);
    }
    return rc;
}

/* Header checks; 0 when the file fits, else 1 with why set. */
static int
check_header(ixload_t *L, uint8_t const *h, adb_db_meta_t const *m) {
    adb_eng_t *e = L->e;
    if (memcmp(h, IX_MAGIC, 8)) return damaged(L, "bad magic");
    L->version = adb_load_u32(h + 8);
    if (L->version < 1 || L->version > IX_VERSION || adb_load_u32(h + 12) != IX_HDR_SZ)
        return damaged(L, "format %u (this acctdb reads 1 to %u)", L->version, IX_VERSION);
    uint64_t gen = adb_load_u64(h + 16), root = adb_load_u64(h + 24), nf = adb_load_u64(h + 72);
    L->flags = adb_load_u32(h + 68);
    L->nstor = nf;
    L->root = root;
    if (L->replay) {
        /* A base for the commits after it: its own generation, a root no
         * later than the commit's, its keys in it, storages named by
         * identity (format 2). */
        if (gen != m->index_gen || root > m->slot) {
            snprintf(L->why, L->why_max,
                     "index file of another commit (%s: gen %llu, root %llu; the commit names "
                     "gen %llu at root %llu)",
                     L->name, (unsigned long long)gen, (unsigned long long)root,
                     (unsigned long long)m->index_gen, (unsigned long long)m->slot);
            return 1;
        }
        if ((L->flags & IX_F_DISK) || L->version < 2) {
            snprintf(L->why, L->why_max, "no clean shutdown (%s cannot be replayed from: %s)",
                     L->name, L->version < 2 ? "format 1" : "its keys were in the disk tier");
            return 1;
        }
        if (nf > (L->r.size - IX_HDR_SZ) / IX_STOR2_SZ)
            return damaged(L, "%llu storages in a file of %llu bytes", (unsigned long long)nf,
                           (unsigned long long)L->r.size);
    } else if (gen != m->index_gen || root != m->slot || memcmp(h + 32, m->root.bank_hash.b, 32) ||
               nf != L->nfiles) {
        snprintf(L->why, L->why_max,
                 "index file of another commit (%s: gen %llu, root %llu, %llu storages; the "
                 "commit: gen %llu, root %llu, %u storages)",
                 L->name, (unsigned long long)gen, (unsigned long long)root, (unsigned long long)nf,
                 (unsigned long long)m->index_gen, (unsigned long long)m->slot, L->nfiles);
        return 1;
    }
    uint32_t bits = adb_load_u32(h + 64), want = bin_bits_of(L->db->ix);
    if (bits != want) {
        snprintf(L->why, L->why_max,
                 "index file of another configuration (%u index bins; index_bins is %u)",
                 1u << (bits & 31), 1u << want);
        return 1;
    }
    if ((L->flags & IX_F_DISK) && !adb_index_two_tier(L->db->ix)) {
        snprintf(L->why, L->why_max,
                 "index file of another configuration (its keys are in the disk tier; "
                 "index_disk is off)");
        return 1;
    }
    char const *dwhy = NULL;
    if ((L->flags & IX_F_DISK) && !adb_index_reused(L->db->ix, &dwhy)) {
        snprintf(L->why, L->why_max, "%s", dwhy && dwhy[0] ? dwhy : "disk tier not reused");
        return 1;
    }
    uint32_t wc = adb_load_u32(h + 88);
    if (wc > ADB_ENG_WATCH_MAX) return damaged(L, "%u watched owners", wc);
    bool all = L->flags & IX_F_OWNERS_ALL;
    if ((e->cfg.owner_index && !all) || (e->tokens && !(L->flags & IX_F_TOKENS))) {
        snprintf(L->why, L->why_max,
                 "index file of another configuration (written without the owner index)");
        return 1;
    }
    for (uint32_t i = 0; e->owners && !all && i < e->watch_cnt; i++) {
        bool has = false;
        for (uint32_t j = 0; j < wc && !has; j++)
            has = !memcmp(h + 96 + 32 * j, e->watch[i].b, 32);
        if (!has) {
            snprintf(L->why, L->why_max,
                     "index file of another configuration (an owner watched now was not)");
            return 1;
        }
    }
    return 0;
}

/* This open's storages ordered by where they lie, for matching. */
typedef struct stor_at {
    uint64_t at; /* seg << 40 | seg_off >> 12 (offsets are 4 KiB aligned, < 2^52) */
    uint32_t idx;
} stor_at_t;

static int
cmp_stor_at(void const *a, void const *b) {
    uint64_t x = ((stor_at_t const *)a)->at, y = ((stor_at_t const *)b)->at;
    return x < y ? -1 : x > y;
}

/* The storage list: format 1 by place (every storage, in catalog order);
 * format 2 by identity (segment, offset, slot, size, CRC-32C), so a base
 * written before later commits finds the storages that still exist. */
static int
load_storages(ixload_t *L) {
    adb_db_t  *db = L->db;
    size_t     esz = L->version >= 2 ? IX_STOR2_SZ : IX_STOR1_SZ;
    stor_at_t *at = NULL;
    L->map = adb_malloc((L->nstor ? L->nstor : 1) * sizeof *L->map);
    L->seen = adb_calloc(L->nfiles ? L->nfiles : 1, 1);
    if (L->version >= 2) at = adb_malloc((L->nfiles ? L->nfiles : 1) * sizeof *at);
    if (!L->map || !L->seen || (L->version >= 2 && !at)) {
        adb_free(at);
        L->nomem = 1;
        return damaged(L, "out of memory");
    }
    for (uint32_t i = 0; at && i < L->nfiles; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        at[i] = (stor_at_t){(uint64_t)f->seg << 40 | f->seg_off >> 12, i};
    }
    if (at) qsort(at, L->nfiles, sizeof *at, cmp_stor_at);
    int rc = 0;
    for (uint64_t r = 0; r < L->nstor && !rc; r++) {
        uint8_t const *p = r_need(&L->r, esz);
        if (!p) {
            rc = damaged(L, "it ends inside the storage list");
            break;
        }
        uint64_t slot = adb_load_u64(p);
        uint32_t cur = UINT32_MAX;
        if (esz == IX_STOR1_SZ) {
            cur = (uint32_t)r; /* the header check made the counts equal */
        } else {
            uint32_t   seg = adb_load_u32(p + 8), crc = adb_load_u32(p + 12);
            uint64_t   off = adb_load_u64(p + 16), sz = adb_load_u64(p + 24);
            stor_at_t  k = {(uint64_t)seg << 40 | off >> 12, 0};
            stor_at_t *hit = (off & 4095) || seg >= (1u << 24)
                                 ? NULL
                                 : bsearch(&k, at, L->nfiles, sizeof *at, cmp_stor_at);
            if (hit) {
                adb_db_file_t const *f = adb_db_file(db, hit->idx);
                if (f->slot == slot && f->written == sz && f->crc == crc && !L->seen[hit->idx])
                    cur = hit->idx;
            }
        }
        if (cur != UINT32_MAX && adb_db_file(db, cur)->slot != slot) cur = UINT32_MAX;
        L->map[r] = cur;
        if (cur == UINT32_MAX) {
            if (!L->replay) {
                snprintf(L->why, L->why_max,
                         "index file of another commit (%s: its storage %llu of slot %llu is "
                         "not in the catalog)",
                         L->name, (unsigned long long)r, (unsigned long long)slot);
                rc = 1;
            }
            continue;
        }
        L->seen[cur] = 1;
        adb_db_file_t *f = adb_db_file(db, cur);
        atomic_store(&f->alive_bytes, adb_load_u64(p + esz - 16));
        atomic_store(&f->alive_cnt, adb_load_u64(p + esz - 8));
    }
    adb_free(at);
    return rc;
}

static int
load_body(ixload_t *L) {
    int rc0 = load_storages(L);
    if (rc0) return rc0;
    adb_eng_t *e = L->e;
    int        rc = load_keys(L);
    if (!rc) rc = load_pairs(L, NULL, true, false, "clean candidates");
    if (!rc) rc = load_pairs(L, e->owners, false, true, "owner index");
    if (!rc && (L->flags & IX_F_TOKENS)) rc = load_pairs(L, e->tokens, false, false, "token index");
    if (!rc && (L->flags & IX_F_TOKENS)) rc = load_pairs(L, e->mints, false, false, "mint index");
    if (rc) return rc;
    if (L->flags & IX_F_OVERFLOW) {
        pthread_mutex_lock(&e->cand_mu);
        e->cand_overflow = true;
        pthread_mutex_unlock(&e->cand_mu);
    }
    uint8_t const *t = r_need(&L->r, 32);
    if (!t) return damaged(L, "it ends inside the trailer");
    if (adb_load_u64(t) != L->keys || adb_load_u64(t + 8) != L->vers ||
        adb_load_u64(t + 16) != L->cands || adb_load_u64(t + 24) != L->pairs)
        return damaged(L, "the trailer's counts differ from the file's");
    if (r_at(&L->r) != L->r.size - 32)
        return damaged(L, "%llu bytes after the trailer",
                       (unsigned long long)(L->r.size - 32 - r_at(&L->r)));
    uint8_t        ck[32];
    uint8_t const *c = r_need(&L->r, 32);
    adb_blake3_finalize(&L->r.h, ck, 32);
    if (!c || memcmp(ck, c, 32)) return damaged(L, "checksum mismatch");
    return 0;
}

int
adb_ixfile_load(adb_db_t *db, adb_eng_t *e, adb_db_meta_t const *m, char *why, size_t why_max) {
    if (!m->gen) {
        snprintf(why, why_max, "format %u database", m->version);
        return 1;
    }
    bool replay = !(m->flags & ADB_DB_COMMIT_CLEAN);
    if (!m->index_gen) {
        snprintf(why, why_max,
                 replay ? "no clean shutdown and no index checkpoint" : "no index file");
        return 1;
    }
    adb_io_t const *io = db->io;
    ixload_t L = {.db = db, .e = e, .why = why, .why_max = why_max, .r.fd = -1, .replay = replay};
    L.nfiles = adb_db_file_cnt(db);
    L.r.db = db;
    ix_name(L.name, m->index_gen);
    L.r.fd = adb_io_openat(io, db->dirfd, L.name, O_RDONLY | O_NOFOLLOW, 0);
    if (L.r.fd < 0) {
        if (L.r.fd == -ENOENT)
            snprintf(why, why_max, "no index file (%s is missing)", L.name);
        else
            snprintf(why, why_max, "index file unreadable: %s: %s", L.name,
                     acctdb_strerror(L.r.fd));
        return 1;
    }
    struct stat st;
    int         rc = adb_io_fstat(io, L.r.fd, &st);
    if (rc) {
        L.r.ioerr = rc;
        rc = damaged(&L, "fstat");
    } else if (!S_ISREG(st.st_mode)) {
        rc = damaged(&L, "not a regular file");
    } else if ((uint64_t)st.st_size < IX_HDR_SZ + 3u * 36 + IX_TRAILER_SZ) {
        rc = damaged(&L, "truncated (%llu bytes)", (unsigned long long)st.st_size);
    }
    if (rc) {
        adb_io_close(io, L.r.fd);
        return rc;
    }
    L.r.size = (uint64_t)st.st_size;
    L.r.buf = adb_malloc(IX_BUF_SZ);
    if (!L.r.buf) {
        adb_io_close(io, L.r.fd);
        snprintf(why, why_max, "out of memory loading %s", L.name);
        return 1;
    }
    adb_blake3_init(&L.r.h);
    uint8_t const *h = r_need(&L.r, IX_HDR_SZ);
    rc = h ? check_header(&L, h, m) : damaged(&L, "truncated header");
    bool applied = false;
    if (!rc) {
        /* Pre-size the index for the keys it held (bounded by what the
         * file can hold: at least 52 bytes a key). */
        uint64_t hint = ADB_MIN(adb_load_u64(h + 80), L.r.size / 52);
        if (adb_index_reserve(db->ix, hint)) {
            snprintf(why, why_max, "out of memory loading %s", L.name);
            rc = 1;
        }
    }
    if (!rc) {
        applied = true;
        rc = load_body(&L);
    }
    adb_io_close(io, L.r.fd);
    adb_free(L.r.buf);
    if (!rc) {
        /* What the file does not list is replayed (db_eng.c scans it). */
        uint32_t n = 0;
        for (uint32_t i = 0; i < L.nfiles; i++)
            n += !L.seen[i] && adb_db_file(db, i)->written;
        db->ix_replay = n ? adb_malloc(n * sizeof *db->ix_replay) : NULL;
        if (n && !db->ix_replay) {
            L.nomem = 1;
            rc = damaged(&L, "out of memory");
        }
    }
    if (!rc) {
        uint64_t bytes = 0;
        db->ix_replay_cnt = 0;
        for (uint32_t i = 0; i < L.nfiles; i++) {
            adb_db_file_t const *f = adb_db_file(db, i);
            if (L.seen[i] || !f->written) continue;
            db->ix_replay[db->ix_replay_cnt++] = i;
            bytes += f->written;
        }
        db->ix_file_disk = (L.flags & IX_F_DISK) != 0;
        db->ix_base = db->ix_file_disk ? 0 : m->index_gen;
        db->ix_since_bytes = bytes;
        if (replay)
            snprintf(why, why_max,
                     "loaded from %s (root %llu) and %u storages replayed (%llu bytes; no clean "
                     "shutdown)",
                     L.name, (unsigned long long)L.root, db->ix_replay_cnt,
                     (unsigned long long)bytes);
        else
            snprintf(why, why_max, "loaded from %s%s", L.name,
                     (L.flags & IX_F_DISK) ? " and the disk tier" : "");
    }
    adb_free(L.map);
    adb_free(L.seen);
    if (!rc) return 0;
    adb_free(db->ix_replay);
    db->ix_replay = NULL;
    db->ix_replay_cnt = 0;
    if (applied && undo(db, e, m->totals.live_cnt + m->totals.dup_cnt)) return ACCTDB_ERR_NOMEM;
    return 1;
}
