/* src/db/db_meta.c - the commit record (acctdb.commit and catalog-<gen>),
 * the single root record it replaced (acctdb.meta, still read), reopening.
 *
 * acctdb.commit: two slots of 4 KiB at offsets 0 and 4096; commit gen goes
 * to slot gen & 1, written in place (one pwrite, one fdatasync):
 *   "ACCTDBC1" | u32 format (3) | u32 rec_sz (200) | u64 gen | u64 root slot |
 *   root bank hash [32] | root lt_checksum [32] | u64 capitalization |
 *   u64 index_gen (index-<gen>, db_ixfile.c: the close's file, or the base a
 *   reopen after a kill replays from; 0: none) | u32 flags | u32 seg_cnt |
 *   u64 catalog gen | u64 catalog size | catalog BLAKE3 [32] |
 *   BLAKE3-256 of the rec_sz - 32 bytes before it; zeros to 4 KiB.
 * A record lies in one 4 KiB page, so a torn write leaves it old, new or
 * failing its checksum, never a valid mix; the other slot still holds the
 * previous commit.
 *
 * catalog-<gen> (immutable once named):
 *   "ACCTDBK1" | u32 format (3) | u32 0 | u64 gen | u64 body_sz | body |
 *   BLAKE3-256(everything before it)
 * acctdb.meta (formats 1 and 2, read; the first commit replaces it):
 *   "ACCTDBM1" | u32 format | u32 0 | u64 body_sz | body | BLAKE3-256(...)
 * body (bincode):
 *   slot, base_slot,
 *   totals: records, live_cnt, capitalization, data_len, dup_cnt, formula u32, lthash[2048]
 *   root bank info (with its lattice hash; v2: and lamports_per_signature)
 *   last_full_slot, origin_slot,
 *   hist_cnt u32, hist_cnt x bank info (without lattice hash; v2: with lps),
 *   seg_cnt u32,
 *   file_cnt u64, file_cnt x {slot, size, valid_len, seg u32, seg_off,
 *                             crc u32, scan_end}            (crc, scan_end: v2)
 *   v2: origin_has_ck u8, manifest.bin BLAKE3 [32], status_cache.bin BLAKE3 [32],
 *       ext_sz u64, ext bytes (the durable root's bank state, src/bank's blob)
 *   then optional sections, each a 4-byte tag:
 *       "XST1" u64 image gen | u64 log length | u32 log CRC-32C: acctdb's own
 *       per-account state (db_xstate.h); absent: none
 * Storages that shrink replaced are not listed (their extents may be
 * punched once the other slot no longer names them either).
 *
 * Seals.  Every storage carries the CRC-32C of its bytes and the end of its
 * last record as the scan that indexed it saw.  A reopen that scans checks
 * both (a zeroed header or page, a flipped bit anywhere, rent_epoch
 * included, is a named error instead of older versions served in silence);
 * a reopen that loads the index file a clean close wrote (db_ixfile.c)
 * reads no storage and checks neither: the price of not reading every
 * byte at open.  verify and snapshot writing check the CRC every time.  A version 1 record has no
 * seals: they are taken at that open and written with the next record.
 *
 * Invariants:
 *   1. A commit writes its catalog (create, write, fdatasync), fsyncs the
 *      directory, then writes its slot and fdatasyncs it, all after every
 *      segment byte the catalog names was fdatasync'ed and accounts/ was
 *      fsynced for segments created since the last commit: what a valid
 *      record names is durable.
 *   2. Both slots' catalogs and index files exist until a commit
 *      overwrites the slot that named one; then it is unlinked (an unlink a
 *      crash loses is swept at the next open).  A close's CLEAN commit
 *      names the index file it wrote; every other commit names the base an
 *      open after a kill replays from (db_ixfile.c), or none.
 *   3. An extent only the older slot names is punched only after the next
 *      commit (db_epoch.c); bytes neither valid slot names are given back
 *      at open, after the record chosen was made durable. */
#include "db/db_private.h"

#include "hash/blake3.h"
#include "util/bincode.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/point.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAGIC  "ACCTDBM1" /* acctdb.meta, formats 1 and 2 */
#define META_HDR_SZ 24
#define CAT_MAGIC   "ACCTDBK1"
#define CAT_HDR_SZ  32
#define SLOT_MAGIC  "ACCTDBC1"
#define XS_TAG      "XST1" /* the section of acctdb's own state (db_xstate.h) */
#define SLOT_SZ     4096u
#define SLOT_REC_SZ 200u
#define HIST_MAX    4096
#define CATALOG_MAX (1u << 30)

static void
put_info(adb_bc_wr_t *wr, acctdb_bank_info_t const *in, bool with_lt) {
    adb_bc_put_u64(wr, in->slot);
    adb_bc_put_u64(wr, in->parent_slot);
    adb_bc_put_u64(wr, in->block_height);
    adb_bc_put_u64(wr, in->capitalization);
    adb_bc_put_u64(wr, in->accounts_data_len);
    adb_bc_put_bytes(wr, in->bank_hash.b, 32);
    adb_bc_put_bytes(wr, in->parent_bank_hash.b, 32);
    adb_bc_put_bytes(wr, in->meta.blockhash.b, 32);
    adb_bc_put_u64(wr, in->meta.signature_count);
    adb_bc_put_u64(wr, in->meta.transaction_count);
    adb_bc_put_i64(wr, in->meta.unix_timestamp);
    adb_bc_put_bytes(wr, in->meta.block_id.b, 32);
    adb_bc_put_u64(wr, in->accounts_stored);
    adb_bc_put_bytes(wr, in->lt_checksum, 32);
    if (with_lt) adb_bc_put_bytes(wr, in->lt_hash.v, sizeof in->lt_hash.v);
    adb_bc_put_u64(wr, in->lamports_per_signature); /* v2 */
}

static void
get_info(adb_bc_rd_t *rd, acctdb_bank_info_t *in, bool with_lt, uint32_t version) {
    memset(in, 0, sizeof *in);
    in->slot = adb_bc_u64(rd, "bank.slot");
    in->parent_slot = adb_bc_u64(rd, "bank.parent_slot");
    in->block_height = adb_bc_u64(rd, "bank.block_height");
    in->capitalization = adb_bc_u64(rd, "bank.capitalization");
    in->accounts_data_len = adb_bc_u64(rd, "bank.accounts_data_len");
    adb_bc_copy(rd, in->bank_hash.b, 32, "bank.hash");
    adb_bc_copy(rd, in->parent_bank_hash.b, 32, "bank.parent_hash");
    adb_bc_copy(rd, in->meta.blockhash.b, 32, "bank.blockhash");
    in->meta.signature_count = adb_bc_u64(rd, "bank.signature_count");
    in->meta.transaction_count = adb_bc_u64(rd, "bank.transaction_count");
    in->meta.unix_timestamp = adb_bc_i64(rd, "bank.unix_timestamp");
    adb_bc_copy(rd, in->meta.block_id.b, 32, "bank.block_id");
    in->accounts_stored = adb_bc_u64(rd, "bank.accounts_stored");
    adb_bc_copy(rd, in->lt_checksum, 32, "bank.lt_checksum");
    if (with_lt) adb_bc_copy(rd, in->lt_hash.v, sizeof in->lt_hash.v, "bank.lt_hash");
    if (version >= 2) in->lamports_per_signature = adb_bc_u64(rd, "bank.lamports_per_signature");
}

/* The body: the durable state a commit names (db_meta.c header). */
static void
put_body(adb_bc_wr_t *wr, adb_db_t *db, adb_db_meta_t const *m, uint32_t seg_cnt) {
    adb_bc_put_u64(wr, m->slot);
    adb_bc_put_u64(wr, m->base_slot);
    adb_bc_put_u64(wr, m->totals.records);
    adb_bc_put_u64(wr, m->totals.live_cnt);
    adb_bc_put_u64(wr, m->totals.capitalization);
    adb_bc_put_u64(wr, m->totals.data_len);
    adb_bc_put_u64(wr, m->totals.dup_cnt);
    adb_bc_put_u32(wr, (uint32_t)m->totals.formula);
    adb_bc_put_bytes(wr, m->totals.lthash.v, sizeof m->totals.lthash.v);
    put_info(wr, &m->root, true);
    adb_bc_put_u64(wr, m->last_full_slot);
    adb_bc_put_u64(wr, m->origin_slot);
    adb_bc_put_u32(wr, m->hist_cnt);
    for (uint32_t i = 0; i < m->hist_cnt; i++)
        put_info(wr, &m->hist[i], false);
    uint32_t n = adb_db_file_cnt(db), live = 0;
    adb_bc_put_u32(wr, seg_cnt);
    for (uint32_t i = 0; i < n; i++)
        live += !atomic_load(&adb_db_file(db, i)->replaced);
    adb_bc_put_u64(wr, live);
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced)) continue;
        adb_bc_put_u64(wr, f->slot);
        adb_bc_put_u64(wr, f->written);
        adb_bc_put_u64(wr, f->valid_len);
        adb_bc_put_u32(wr, f->seg);
        adb_bc_put_u64(wr, f->seg_off);
        adb_bc_put_u32(wr, f->crc);
        adb_bc_put_u64(wr, f->scan_end);
    }
    adb_bc_put_u8(wr, m->origin_has_ck);
    adb_bc_put_bytes(wr, m->origin_ck, sizeof m->origin_ck);
    adb_bc_put_u64(wr, m->ext_sz);
    if (m->ext_sz) adb_bc_put_bytes(wr, m->ext, m->ext_sz);
    if (m->xs.has) {
        adb_bc_put_bytes(wr, XS_TAG, 4);
        adb_bc_put_u64(wr, m->xs.gen);
        adb_bc_put_u64(wr, m->xs.log_len);
        adb_bc_put_u32(wr, m->xs.log_crc);
    }
}

/* A whole record file into wr: header (with gen: a catalog's), body,
 * BLAKE3 of everything before it.  NOMEM on failure (wr freed). */
static int
build_file(adb_db_t *db, adb_db_meta_t const *m, uint32_t seg_cnt, bool catalog, uint64_t gen,
           adb_bc_wr_t *wr) {
    size_t hsz = catalog ? CAT_HDR_SZ : META_HDR_SZ;
    adb_bc_wr_init(wr, 0);
    uint8_t hdr[CAT_HDR_SZ] = {0};
    adb_bc_put_bytes(wr, hdr, hsz); /* patched below */
    put_body(wr, db, m, seg_cnt);
    if (!wr->err) {
        memcpy(wr->buf, catalog ? CAT_MAGIC : META_MAGIC, 8);
        adb_store_u32(wr->buf + 8, catalog ? ADB_DB_FORMAT_VERSION : 2u);
        if (catalog) adb_store_u64(wr->buf + 16, gen);
        adb_store_u64(wr->buf + hsz - 8, wr->sz - hsz);
        uint8_t ck[32];
        adb_blake3_hash(wr->buf, wr->sz, ck, 32);
        adb_bc_put_bytes(wr, ck, 32);
    }
    if (!wr->err) return 0;
    adb_bc_wr_fini(wr);
    return ACCTDB_ERR_NOMEM;
}

static void
cat_name(char out[32], uint64_t gen) {
    snprintf(out, 32, "catalog-%llu", (unsigned long long)gen);
}

int
adb_db_write_meta_v2(adb_db_t *db, adb_db_meta_t const *m) {
    adb_bc_wr_t wr;
    if (build_file(db, m, atomic_load(&db->seg_cnt), false, 0, &wr))
        return adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
    int rc = adb_io_write_file_atomic(db->io, db->dirfd, ADB_DB_META_NAME, wr.buf, wr.sz);
    adb_bc_wr_fini(&wr);
    if (rc)
        return adb_db_fail(db, rc, "writing %s/%s: %s", db->dir, ADB_DB_META_NAME,
                           acctdb_strerror(rc));
    return 0;
}

/* A new catalog: durable, and its directory entry too, before a slot
 * names it.  On error nothing is left under its name. */
static int
write_catalog(adb_db_t *db, char const *name, void const *buf, size_t sz) {
    adb_io_t const *io = db->io;
    int fd = adb_io_openat(io, db->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (fd < 0) return fd;
    int rc = adb_io_write_all(io, fd, buf, sz);
    if (!rc) rc = adb_db_sync(db, fd, ADB_DB_SYNC_DATA, "fdatasync of a new catalog");
    int crc = adb_io_close(io, fd);
    if (!rc) rc = crc;
    if (!rc) rc = adb_db_sync(db, db->dirfd, ADB_DB_SYNC_FULL, "fsync of the database directory");
    if (rc) adb_io_unlinkat(io, db->dirfd, name, 0);
    return rc;
}

/* The slot in place: one page, one pwrite, then fdatasync. */
static int
write_slot(adb_db_t *db, uint8_t const *rec, unsigned s) {
    adb_io_t const *io = db->io;
    int             fd = adb_io_openat(io, db->dirfd, ADB_DB_COMMIT_NAME, O_WRONLY | O_NOFOLLOW, 0);
    if (fd < 0) return fd;
    int rc = adb_io_pwrite_all(io, fd, rec, SLOT_SZ, (uint64_t)s * SLOT_SZ);
    if (!rc) rc = adb_db_sync(db, fd, ADB_DB_SYNC_DATA, "fdatasync of the commit record");
    int crc = adb_io_close(io, fd);
    return rc ? rc : crc;
}

static void
slot_encode(uint8_t *rec, uint64_t gen, adb_db_meta_t const *m, uint32_t seg_cnt, uint64_t cat_sz,
            uint8_t const cat_ck[32]) {
    memset(rec, 0, SLOT_SZ);
    memcpy(rec, SLOT_MAGIC, 8);
    adb_store_u32(rec + 8, ADB_DB_FORMAT_VERSION);
    adb_store_u32(rec + 12, SLOT_REC_SZ);
    adb_store_u64(rec + 16, gen);
    adb_store_u64(rec + 24, m->slot);
    memcpy(rec + 32, m->root.bank_hash.b, 32);
    memcpy(rec + 64, m->root.lt_checksum, 32);
    adb_store_u64(rec + 96, m->root.capitalization);
    adb_store_u64(rec + 104, m->index_gen);
    adb_store_u32(rec + 112, m->flags);
    adb_store_u32(rec + 116, seg_cnt);
    adb_store_u64(rec + 120, gen); /* the catalog: one per commit */
    adb_store_u64(rec + 128, cat_sz);
    memcpy(rec + 136, cat_ck, 32);
    adb_blake3_hash(rec, SLOT_REC_SZ - 32, rec + SLOT_REC_SZ - 32, 32);
}

int
adb_db_write_meta(adb_db_t *db, adb_db_meta_t const *m) {
    adb_io_t const *io = db->io;
    uint64_t        gen = atomic_load(&db->commit_gen) + 1;
    unsigned        s = (unsigned)(gen & 1);
    uint32_t        nseg = atomic_load(&db->seg_cnt);
    adb_bc_wr_t     wr;
    /* Segments created since the last commit: their directory entries
     * durable before a record names them (flush, shrink and snapshot
     * registration do it already; this covers every other writer). */
    int src = adb_db_sync_seg_dir(db, "commit");
    if (src) return adb_db_fail(db, src, "fsync of %s/accounts: %s", db->dir, acctdb_strerror(src));
    if (build_file(db, m, nseg, true, gen, &wr))
        return adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
    char cname[32];
    cat_name(cname, gen);
    uint8_t  cat_ck[32];
    uint64_t cat_sz = wr.sz;
    memcpy(cat_ck, wr.buf + wr.sz - 32, 32);
    int rc = write_catalog(db, cname, wr.buf, wr.sz);
    adb_bc_wr_fini(&wr);
    if (rc)
        return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc, "writing %s/%s: %s", db->dir,
                           cname, acctdb_strerror(rc));
    ADB_POINT("commit.catalog");
    uint8_t rec[SLOT_SZ];
    slot_encode(rec, gen, m, nseg, cat_sz, cat_ck);
    if (db->commit_file) {
        rc = write_slot(db, rec, s);
    } else {
        /* The first record (creation, or migration from acctdb.meta): the
         * whole file under a temporary name, renamed into place, so a
         * directory never holds an acctdb.commit without a valid slot. */
        uint8_t *file = adb_calloc(2, SLOT_SZ);
        if (!file) return adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
        memcpy(file + (size_t)s * SLOT_SZ, rec, SLOT_SZ);
        rc = adb_io_write_file_atomic(io, db->dirfd, ADB_DB_COMMIT_NAME, file, 2 * SLOT_SZ);
        adb_free(file);
    }
    /* A failed slot write leaves catalog-<gen> in place: the slot may have
     * reached the disk, and then it is valid only with its catalog (the
     * next open removes the catalog if no valid slot names it). */
    if (rc)
        return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc,
                           "writing the commit record %s/%s (slot %u, gen %llu): %s", db->dir,
                           ADB_DB_COMMIT_NAME, s, (unsigned long long)gen, acctdb_strerror(rc));
    ADB_POINT("commit.slot");
    uint64_t old = db->cat_gen[s], oix = db->ix_slot[s];
    db->cat_gen[s] = gen;
    db->ix_slot[s] = m->index_gen;
    db->commit_flags = m->flags;
    db->index_gen = m->index_gen;
    db->commit_file = true;
    db->commits++;
    atomic_store(&db->commit_gen, gen);
    /* The catalog the overwritten slot named, unless the other still does.
     * A failed or lost unlink leaves a file the next open sweeps. */
    if (old && old != db->cat_gen[s ^ 1]) {
        cat_name(cname, old);
        adb_io_unlinkat(io, db->dirfd, cname, 0);
    }
    /* The index file likewise: the first commit after an open names none
     * (index_gen 0: what it describes is no longer the newest state), the
     * one after it overwrites the last slot naming the file. */
    if (oix && oix != db->ix_slot[s ^ 1] && oix != m->index_gen) {
        snprintf(cname, sizeof cname, "index-%llu", (unsigned long long)oix);
        adb_io_unlinkat(io, db->dirfd, cname, 0);
    }
    /* Migration: acctdb.commit is durable (renamed, directory fsynced), so
     * the format-2 record can go.  Should the unlink fail, or its fsync
     * (nothing the records name depends on it), the stale file is
     * harmless: acctdb.commit wins at open, and the next commit tries
     * again. */
    if (db->legacy_meta) {
        int urc = adb_io_unlinkat(io, db->dirfd, ADB_DB_META_NAME, 0);
        if (!urc || urc == -ENOENT) {
            adb_io_fsync_dir(io, db->dirfd);
            db->legacy_meta = false;
        }
    }
    return 0;
}

uint64_t
adb_db_commit_gen(adb_db_t const *db, uint32_t *flags_out) {
    if (flags_out) *flags_out = db->commit_flags;
    return atomic_load(&db->commit_gen);
}

int
adb_db_commit_load(adb_db_t *db, adb_db_meta_t const *meta, void const *manifest,
                   size_t manifest_sz, void const *status_cache, size_t status_cache_sz) {
    ADB_TRY(adb_db_bulk_wait(db));
    adb_io_t const *io = db->io;
    uint32_t        nseg = atomic_load(&db->seg_cnt);
    int             rc = 0;
    char            what[64];
    ADB_POINT("create.written");
    for (uint32_t i = 0; i < nseg && !rc; i++) {
        snprintf(what, sizeof what, "fdatasync of accounts/seg-%06u", i);
        rc = adb_db_sync(db, db->segs[i].fd, ADB_DB_SYNC_DATA, what);
    }
    if (!rc) rc = adb_db_sync(db, db->accdirfd, ADB_DB_SYNC_FULL, "fsync of accounts/");
    if (!rc) db->seg_dir_dirty = false;
    if (!rc) ADB_POINT("create.synced");
    if (!rc && manifest)
        rc = adb_io_write_file_atomic(io, db->dirfd, "manifest.bin", manifest, manifest_sz);
    if (!rc && manifest) ADB_POINT("create.manifest");
    if (!rc && status_cache)
        rc = adb_io_write_file_atomic(io, db->dirfd, "status_cache.bin", status_cache,
                                      status_cache_sz);
    if (!rc && status_cache) ADB_POINT("create.status_cache");
    if (rc)
        return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc,
                           "making the load durable in %s: %s", db->dir, acctdb_strerror(rc));
    adb_db_meta_t m = *meta;
    if (manifest) {
        adb_blake3_hash(manifest, manifest_sz, m.origin_ck[0], 32);
        m.origin_has_ck |= 1;
    }
    if (status_cache) {
        adb_blake3_hash(status_cache, status_cache_sz, m.origin_ck[1], 32);
        m.origin_has_ck |= 2;
    }
    /* Nothing has the new database open: it is as a clean close left it. */
    m.flags = ADB_DB_COMMIT_CLEAN;
    m.index_gen = 0;
    ADB_POINT_ARG("create.commit", m.slot);
    rc = adb_db_write_meta(db, &m);
    if (!rc) ADB_POINT_ARG("create.committed", m.slot);
    return rc;
}

/* ---- the database's files ---------------------------------------------------- */

bool
adb_db_gen_name(char const *name, char const *prefix, uint64_t *gen_out) {
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl)) return false;
    char const *p = name + pl;
    uint64_t    g = 0;
    size_t      n = 0;
    for (; *p >= '0' && *p <= '9' && n < 20; p++, n++)
        g = g * 10 + (uint64_t)(*p - '0');
    if (!n || *p) return false;
    if (gen_out) *gen_out = g;
    return true;
}

bool
adb_db_own_file(char const *name) {
    static char const *const files[] = {ADB_DB_COMMIT_NAME, ADB_DB_META_NAME, "manifest.bin",
                                        "status_cache.bin"};
    if (!strncmp(name, ".tmp-", 5)) name += 5;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(name, files[i])) return true;
    return adb_db_gen_name(name, "catalog-", NULL) || adb_ixfile_name(name, NULL);
}

bool
adb_db_is_database(int dirfd) {
    return faccessat(dirfd, ADB_DB_COMMIT_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
           faccessat(dirfd, ADB_DB_META_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The part of the key space a key belongs to, of parts (the top bits of
 * its first word: keys are hashes, so the parts are even). */
static inline unsigned
key_part(uint8_t const key[32], unsigned parts) {
    return (unsigned)(((uint64_t)adb_load_u32(key) * parts) >> 32);
}

/* Adds every record of storage i whose key is in part (of parts) as a
 * version of its key: the newest slot is alive, any older one DEAD.  Counts
 * alive bytes as it goes (a later, newer version of a key takes the bytes
 * back from the older storage).  seal: this call also checks (or, format
 * 1, takes) the storage's seal; one of the parts does. */
static int
index_storage(adb_db_t *db, uint32_t i, uint8_t const *m, bool sealed, unsigned part,
              unsigned parts, bool seal, adb_db_view_t const *maps, adb_err_t *err) {
    adb_db_file_t      *f = adb_db_file(db, i);
    adb_acctfile_iter_t it;
    adb_acct_rec_t      r;
    adb_acctfile_iter_init(&it, m, f->valid_len, f->written);
    int rc = 0;
    while (!rc && adb_acctfile_iter_next(&it, &r)) {
        if (parts > 1 && key_part(r.pubkey, parts) != part) continue;
        uint64_t        val = adb_db_loc(i, r.off, r.lamports == 0);
        uint64_t        sz = adb_acct_rec_sz(r.data_len);
        adb_index_ver_t v[8];
        size_t          n = adb_index_vget(db->ix, r.pubkey, v, 8);
        /* Is there a newer version already?  Then this one is dead;
         * otherwise it is alive and the previous newest dies. */
        bool newer = n && v[0].slot > f->slot;
        if (newer) {
            rc = adb_index_vput(db->ix, r.pubkey, f->slot, val | ADB_VAL_DEAD);
        } else {
            if (n && !adb_val_is_dead(v[0].val)) {
                adb_db_file_t *o = adb_db_file(db, adb_db_loc_file(v[0].val));
                rc = adb_index_vput(db->ix, r.pubkey, v[0].slot, v[0].val | ADB_VAL_DEAD);
                /* The older record's size: read its header from its storage
                 * (a zero-lamport record from an archive may carry data):
                 * from the scan's mapping of it, else with a pread. */
                uint32_t       oi = adb_db_loc_file(v[0].val);
                uint64_t       ooff = adb_db_loc_off(v[0].val);
                uint8_t        h[16];
                uint8_t const *hp = h;
                if (maps && maps[oi].p && ooff + 16 <= maps[oi].len) {
                    hp = maps[oi].p + ooff;
                } else {
                    int hrc =
                        adb_io_pread_all(db->io, db->segs[o->seg].fd, h, 16, o->seg_off + ooff);
                    if (hrc)
                        return adb_err_set(err, hrc, "%s: re-reading a record header: %s", db->dir,
                                           acctdb_strerror(hrc));
                }
                uint64_t osz = adb_acct_rec_sz(adb_load_u64(hp + 8));
                atomic_fetch_sub(&o->alive_bytes, osz);
                atomic_fetch_sub(&o->alive_cnt, 1);
            }
            if (!rc) rc = adb_index_vput(db->ix, r.pubkey, f->slot, val);
            atomic_fetch_add(&f->alive_bytes, sz);
            atomic_fetch_add(&f->alive_cnt, 1);
        }
        if (rc)
            rc = adb_err_set(err, rc, "index: %s", acctdb_strerror(rc));
        else if (db->rec_fn)
            db->rec_fn(db->rec_ctx, &r);
    }
    if (!rc && it.err.code)
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s: storage of slot %llu: %s", db->dir,
                         (unsigned long long)f->slot, it.err.msg);
    if (rc || !seal) return rc;
    /* The seal: where the records end and the CRC of every byte. */
    uint32_t crc = adb_crc32c(0, m, (size_t)f->written);
    if (!sealed) {
        f->crc = crc;
        f->scan_end = it.off;
        return 0;
    }
    if (it.off < f->scan_end)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "%s: the storage of slot %llu ends early: its records stop at offset "
                           "%llu of the %llu the root record names (a zeroed header or page: the "
                           "file was damaged; older versions of its accounts would be served)",
                           db->dir, (unsigned long long)f->slot, (unsigned long long)it.off,
                           (unsigned long long)f->scan_end);
    if (crc != f->crc)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "%s: the storage of slot %llu fails its checksum (CRC-32C %08x, the "
                           "root record says %08x): its bytes changed after they were written",
                           db->dir, (unsigned long long)f->slot, crc, f->crc);
    return 0;
}

static int
cmp_slot_idx(void const *a, void const *b) {
    uint64_t const *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* ---- reading the records ------------------------------------------------------ */

/* One storage as a catalog lists it. */
typedef struct cat_ent {
    uint64_t slot, size, vlen, soff, send;
    uint32_t seg, crc;
} cat_ent_t;

/* One slot of acctdb.commit as read, with its catalog's bytes once checked. */
typedef struct slot_rd {
    bool     valid;
    uint32_t version, flags, seg_cnt;
    uint64_t gen, root_slot, cap, index_gen, cat_gen, cat_sz;
    uint8_t  bank_hash[32], lt_ck[32], cat_ck[32];
    uint8_t *cat; /* the catalog (adb_free) */
    char     why[160];
} slot_rd_t;

static void
slots_fini(slot_rd_t sl[2]) {
    for (int i = 0; i < 2; i++) {
        adb_free(sl[i].cat);
        sl[i].cat = NULL;
    }
}

/* Slot i from p[0..avail): valid (so far: its catalog is checked next),
 * or why not.  Returns UNSUPPORTED_VERSION for a newer format (why says
 * so), else 0. */
static int
parse_slot(uint8_t const *p, size_t avail, unsigned i, slot_rd_t *o) {
    memset(o, 0, sizeof *o);
    if (avail < SLOT_SZ) {
        snprintf(o->why, sizeof o->why, "the file ends before it (%zu of %u bytes)", avail,
                 SLOT_SZ);
        return 0;
    }
    size_t z = 0;
    while (z < SLOT_SZ && !p[z])
        z++;
    if (z == SLOT_SZ) {
        snprintf(o->why, sizeof o->why, "empty (never written, or zeroed)");
        return 0;
    }
    if (memcmp(p, SLOT_MAGIC, 8)) {
        snprintf(o->why, sizeof o->why, "not a commit record (bad magic)");
        return 0;
    }
    o->version = adb_load_u32(p + 8);
    if (o->version > ADB_DB_FORMAT_VERSION) {
        snprintf(o->why, sizeof o->why, "format version %u is newer than this acctdb (%u)",
                 o->version, ADB_DB_FORMAT_VERSION);
        return ACCTDB_ERR_UNSUPPORTED_VERSION;
    }
    if (o->version < 3) {
        snprintf(o->why, sizeof o->why,
                 o->version ? "format version %u (commit records start at 3)"
                            : "format version %u (no acctdb ever wrote it)",
                 o->version);
        return 0;
    }
    uint32_t rsz = adb_load_u32(p + 12);
    if (rsz < SLOT_REC_SZ || rsz > SLOT_SZ) {
        snprintf(o->why, sizeof o->why, "record size %u", rsz);
        return 0;
    }
    uint8_t ck[32];
    adb_blake3_hash(p, rsz - 32, ck, 32);
    if (memcmp(ck, p + rsz - 32, 32)) {
        snprintf(o->why, sizeof o->why, "checksum mismatch (a torn or damaged write)");
        return 0;
    }
    o->gen = adb_load_u64(p + 16);
    if (!o->gen || (o->gen & 1) != i) {
        snprintf(o->why, sizeof o->why, "generation %llu does not belong in slot %u",
                 (unsigned long long)o->gen, i);
        return 0;
    }
    o->root_slot = adb_load_u64(p + 24);
    memcpy(o->bank_hash, p + 32, 32);
    memcpy(o->lt_ck, p + 64, 32);
    o->cap = adb_load_u64(p + 96);
    o->index_gen = adb_load_u64(p + 104);
    o->flags = adb_load_u32(p + 112);
    o->seg_cnt = adb_load_u32(p + 116);
    o->cat_gen = adb_load_u64(p + 120);
    o->cat_sz = adb_load_u64(p + 128);
    memcpy(o->cat_ck, p + 136, 32);
    o->valid = true;
    return 0;
}

/* The catalog slot o names: present, of its size, its own generation and
 * BLAKE3 (which the slot also holds); else o becomes invalid, saying why.
 * Errors (other than those): reading it. */
static int
check_catalog(adb_io_t const *io, int dfd, char const *dir, slot_rd_t *o, adb_err_t *err) {
    char name[32];
    cat_name(name, o->cat_gen);
    uint8_t *buf = NULL;
    size_t   sz = 0;
    int      rc = adb_io_read_file(io, dfd, name, CATALOG_MAX, &buf, &sz);
    o->valid = false;
    if (rc == -ENOENT) {
        snprintf(o->why, sizeof o->why, "its catalog %s is missing", name);
        return 0;
    }
    if (rc == ACCTDB_ERR_FULL || rc == ACCTDB_ERR_CORRUPT) {
        snprintf(o->why, sizeof o->why, "its catalog %s is %s", name,
                 rc == ACCTDB_ERR_FULL ? "larger than 1 GiB" : "not a regular file");
        return 0;
    }
    if (rc) return adb_err_set(err, rc, "%s/%s: %s", dir, name, acctdb_strerror(rc));
    uint8_t ck[32];
    if (sz != o->cat_sz) {
        snprintf(o->why, sizeof o->why, "its catalog %s has %zu bytes, the record names %llu", name,
                 sz, (unsigned long long)o->cat_sz);
    } else if (sz < CAT_HDR_SZ + 32 || memcmp(buf, CAT_MAGIC, 8) ||
               adb_load_u32(buf + 8) != o->version || adb_load_u64(buf + 16) != o->cat_gen ||
               adb_load_u64(buf + 24) != sz - CAT_HDR_SZ - 32) {
        snprintf(o->why, sizeof o->why, "its catalog %s has a bad header", name);
    } else if (adb_blake3_hash(buf, sz - 32, ck, 32),
               memcmp(ck, buf + sz - 32, 32) || memcmp(ck, o->cat_ck, 32)) {
        snprintf(o->why, sizeof o->why, "its catalog %s fails its checksum", name);
    } else {
        o->valid = true;
        o->cat = buf;
        return 0;
    }
    adb_free(buf);
    return 0;
}

/* Both slots of DIR/acctdb.commit, their catalogs checked; *chosen: the
 * newest valid.  -ENOENT (no error set) when there is no acctdb.commit. */
static int
read_commit(adb_io_t const *io, int dfd, char const *dir, slot_rd_t sl[2], int *chosen,
            adb_err_t *err) {
    *chosen = -1;
    memset(sl, 0, 2 * sizeof *sl);
    uint8_t *buf;
    size_t   sz;
    int      rc = adb_io_read_file(io, dfd, ADB_DB_COMMIT_NAME, 1u << 20, &buf, &sz);
    if (rc == -ENOENT) return rc;
    if (rc)
        return adb_err_set(err, rc == ACCTDB_ERR_FULL ? ACCTDB_ERR_CORRUPT : rc, "%s/%s: %s", dir,
                           ADB_DB_COMMIT_NAME,
                           rc == ACCTDB_ERR_FULL ? "larger than 1 MiB" : acctdb_strerror(rc));
    int newer = -1;
    for (unsigned i = 0; i < 2; i++) {
        size_t at = (size_t)i * SLOT_SZ;
        if (parse_slot(buf + ADB_MIN(at, sz), sz > at ? sz - at : 0, i, &sl[i])) newer = (int)i;
    }
    adb_free(buf);
    if (newer >= 0)
        return adb_err_set(err, ACCTDB_ERR_UNSUPPORTED_VERSION, "%s/%s: slot %d: %s", dir,
                           ADB_DB_COMMIT_NAME, newer, sl[newer].why);
    for (int i = 0; i < 2 && !rc; i++)
        if (sl[i].valid) rc = check_catalog(io, dfd, dir, &sl[i], err);
    if (rc) {
        slots_fini(sl);
        return rc;
    }
    for (int i = 0; i < 2; i++)
        if (sl[i].valid && (*chosen < 0 || sl[i].gen > sl[*chosen].gen)) *chosen = i;
    if (*chosen < 0)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "%s/%s: both commit records are invalid: slot 0: %s; slot 1: %s", dir,
                           ADB_DB_COMMIT_NAME, sl[0].why, sl[1].why);
    return 0;
}

/* DIR/acctdb.meta (formats 1 and 2) into *buf_out; *version_out. */
static int
read_legacy(adb_io_t const *io, int dfd, char const *dir, uint8_t **buf_out, size_t *sz_out,
            uint32_t *version_out, adb_err_t *err) {
    uint8_t *buf;
    size_t   sz;
    int      rc = adb_io_read_file(io, dfd, ADB_DB_META_NAME, CATALOG_MAX, &buf, &sz);
    if (rc == -ENOENT)
        return adb_err_set(err, ACCTDB_ERR_NOT_FOUND,
                           "%s: incomplete load: no commit record (%s); the creation did not "
                           "finish or failed verification, so nothing here may be trusted",
                           dir, ADB_DB_COMMIT_NAME);
    if (rc) return adb_err_set(err, rc, "%s/%s: %s", dir, ADB_DB_META_NAME, acctdb_strerror(rc));
    uint8_t  ck[32];
    uint32_t version = sz >= META_HDR_SZ ? adb_load_u32(buf + 8) : 0;
    if (sz < META_HDR_SZ + 32 || memcmp(buf, META_MAGIC, 8))
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: not an acctdb root record", dir,
                         ADB_DB_META_NAME);
    else if (version > 2)
        rc = adb_err_set(err, ACCTDB_ERR_UNSUPPORTED_VERSION,
                         "%s/%s: format version %u is newer than this acctdb reads there (2; "
                         "format 3 and later are in %s)",
                         dir, ADB_DB_META_NAME, version, ADB_DB_COMMIT_NAME);
    else if (version == 0)
        rc =
            adb_err_set(err, ACCTDB_ERR_CORRUPT,
                        "%s/%s: format version 0 (no acctdb ever wrote it)", dir, ADB_DB_META_NAME);
    else if (adb_blake3_hash(buf, sz - 32, ck, 32),
             memcmp(ck, buf + sz - 32, 32) || adb_load_u64(buf + 16) != sz - 32 - META_HDR_SZ)
        rc =
            adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: checksum mismatch", dir, ADB_DB_META_NAME);
    if (rc) {
        adb_free(buf);
        return rc;
    }
    *buf_out = buf;
    *sz_out = sz;
    *version_out = version;
    return 0;
}

/* Decodes a body (name: the file, for messages) into m (hist and ext
 * allocated) and its storage list *ents_out (adb_free). */
static int
decode_body(uint8_t const *p, size_t sz, uint32_t version, char const *dir, char const *name,
            adb_db_meta_t *m, cat_ent_t **ents_out, uint64_t *n_out, uint32_t *nseg_out,
            adb_err_t *err) {
    *ents_out = NULL;
    *n_out = 0;
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, p, sz, name);
    m->version = version;
    m->slot = adb_bc_u64(&rd, "slot");
    m->base_slot = adb_bc_u64(&rd, "base_slot");
    m->totals.records = adb_bc_u64(&rd, "records");
    m->totals.live_cnt = adb_bc_u64(&rd, "live_cnt");
    m->totals.capitalization = adb_bc_u64(&rd, "capitalization");
    m->totals.data_len = adb_bc_u64(&rd, "data_len");
    m->totals.dup_cnt = adb_bc_u64(&rd, "dup_cnt");
    m->totals.formula = (int)adb_bc_u32(&rd, "formula");
    adb_bc_copy(&rd, m->totals.lthash.v, sizeof m->totals.lthash.v, "lthash");
    m->totals.has_sums = true;
    get_info(&rd, &m->root, true, version);
    m->last_full_slot = adb_bc_u64(&rd, "last_full_slot");
    m->origin_slot = adb_bc_u64(&rd, "origin_slot");
    uint32_t hc = adb_bc_u32(&rd, "hist_cnt");
    if (adb_bc_ok(&rd) && hc > HIST_MAX)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "history of %u banks", hc);
    if (adb_bc_ok(&rd) && hc) {
        m->hist = adb_calloc(hc, sizeof *m->hist);
        if (!m->hist) return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        m->hist_cnt = hc;
        for (uint32_t i = 0; i < hc; i++)
            get_info(&rd, &m->hist[i], false, version);
    }
    *nseg_out = adb_bc_u32(&rd, "seg_cnt");
    uint64_t n = adb_bc_len(&rd, version >= 2 ? 48 : 36, "files");
    if (!adb_bc_ok(&rd) || *nseg_out > ADB_DB_SEGS_MAX ||
        n > (uint64_t)ADB_DB_FILE_CHUNK * ADB_DB_FILE_CHUNKS_MAX)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: %s", dir, name,
                           !adb_bc_ok(&rd)               ? rd.err.msg
                           : *nseg_out > ADB_DB_SEGS_MAX ? "too many segments"
                                                         : "too many storages");
    cat_ent_t *e = adb_malloc((size_t)(n ? n : 1) * sizeof *e);
    if (!e) return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        e[i].slot = adb_bc_u64(&rd, "file.slot");
        e[i].size = adb_bc_u64(&rd, "file.size");
        e[i].vlen = adb_bc_u64(&rd, "file.valid_len");
        e[i].seg = adb_bc_u32(&rd, "file.seg");
        e[i].soff = adb_bc_u64(&rd, "file.seg_off");
        e[i].crc = version >= 2 ? adb_bc_u32(&rd, "file.crc") : 0;
        e[i].send = version >= 2 ? adb_bc_u64(&rd, "file.scan_end") : 0;
    }
    *ents_out = e;
    *n_out = n;
    if (version >= 2) {
        m->origin_has_ck = adb_bc_u8(&rd, "origin_has_ck");
        adb_bc_copy(&rd, m->origin_ck, sizeof m->origin_ck, "origin_ck");
        uint64_t esz = adb_bc_len(&rd, 1, "bank state");
        if (adb_bc_ok(&rd) && esz) {
            uint8_t *x = adb_malloc((size_t)esz);
            if (!x) return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
            adb_bc_copy(&rd, x, (size_t)esz, "bank state");
            m->ext = x;
            m->ext_sz = (size_t)esz;
        }
        /* Optional sections after the bank state. */
        if (adb_bc_ok(&rd) && !adb_bc_at_eof(&rd)) {
            uint8_t const *tag = adb_bc_bytes(&rd, 4, "section tag");
            if (tag && !memcmp(tag, XS_TAG, 4)) {
                m->xs.has = true;
                m->xs.gen = adb_bc_u64(&rd, "xstate gen");
                m->xs.log_len = adb_bc_u64(&rd, "xstate log length");
                m->xs.log_crc = adb_bc_u32(&rd, "xstate log crc");
            } else if (tag) {
                adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "unknown section");
            }
        }
        if (adb_bc_ok(&rd) && !adb_bc_at_eof(&rd))
            adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%zu bytes after the last section",
                        adb_bc_remaining(&rd));
    }
    if (!adb_bc_ok(&rd))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: %s", dir, name, rd.err.msg);
    return 0;
}

/* The chosen slot and its catalog must tell the same root. */
static int
cross_check(slot_rd_t const *o, adb_db_meta_t const *m, uint32_t nseg, char const *dir,
            adb_err_t *err) {
    char const *what = o->root_slot != m->slot                         ? "root slot"
                       : memcmp(o->bank_hash, m->root.bank_hash.b, 32) ? "bank hash"
                       : memcmp(o->lt_ck, m->root.lt_checksum, 32)     ? "lattice checksum"
                       : o->cap != m->root.capitalization              ? "capitalization"
                       : o->seg_cnt != nseg                            ? "segment count"
                                                                       : NULL;
    if (!what) return 0;
    char name[32];
    cat_name(name, o->cat_gen);
    return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                       "%s/%s: the %s differs from what commit record %llu says (both checksums "
                       "held: written inconsistently)",
                       dir, name, what, (unsigned long long)o->gen);
}

int
adb_db_commit_peek(char const *dir, adb_db_commit_info_t *out, adb_err_t *err) {
    memset(out, 0, sizeof *out);
    adb_io_t const *io = adb_io();
    int             dfd = adb_io_openat(io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0) return adb_err_set(err, dfd, "cannot open %s: %s", dir, acctdb_strerror(dfd));
    slot_rd_t sl[2];
    int       ch;
    int       rc = read_commit(io, dfd, dir, sl, &ch, err);
    adb_io_close(io, dfd);
    if (rc == -ENOENT)
        return adb_err_set(err, ACCTDB_ERR_NOT_FOUND, "%s: no %s", dir, ADB_DB_COMMIT_NAME);
    for (int i = 0; i < 2; i++) {
        out->valid[i] = sl[i].valid;
        snprintf(out->why[i], sizeof out->why[i], "%s", sl[i].valid ? "" : sl[i].why);
    }
    if (!rc) {
        slot_rd_t const *o = &sl[ch];
        out->gen = o->gen;
        out->root_slot = o->root_slot;
        out->capitalization = o->cap;
        out->index_gen = o->index_gen;
        out->catalog_gen = o->cat_gen;
        out->flags = o->flags;
        out->seg_cnt = o->seg_cnt;
        memcpy(out->bank_hash, o->bank_hash, 32);
        memcpy(out->lt_checksum, o->lt_ck, 32);
    }
    slots_fini(sl);
    return rc;
}

/* ---- giving back what no record names ----------------------------------------- */

typedef struct ext_key {
    uint32_t seg;
    uint64_t off;
} ext_key_t;

static int
cmp_ext_key(void const *a, void const *b) {
    ext_key_t const *x = a, *y = b;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static uint64_t
ext_end(cat_ent_t const *e) {
    return (e->soff + e->size + 4095) & ~4095ull;
}

/* Under the directory lock, after the chosen record was made durable:
 * truncates each segment after the last byte either valid record names,
 * unlinks segments past the last named one, catalogs and index files no
 * valid slot names and temporaries; lists in db->orphans the extents only the older record
 * names (seg_sz: the segments' sizes, updated). */
static int
reclaim_unnamed(adb_db_t *db, cat_ent_t const *ents, uint64_t n, uint32_t nseg,
                cat_ent_t const *oents, uint64_t on, uint32_t onseg, uint64_t *seg_sz,
                adb_err_t *err) {
    adb_io_t const *io = db->io;
    uint32_t        mseg = ADB_MAX(nseg, onseg);
    uint64_t       *end = adb_calloc(mseg ? mseg : 1, sizeof *end);
    ext_key_t      *keys = adb_malloc((size_t)(n ? n : 1) * sizeof *keys);
    int             rc = end && keys ? 0 : adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; !rc && i < n; i++) {
        if (ents[i].seg < mseg) end[ents[i].seg] = ADB_MAX(end[ents[i].seg], ext_end(&ents[i]));
        keys[i] = (ext_key_t){ents[i].seg, ents[i].soff};
    }
    for (uint64_t i = 0; !rc && i < on; i++)
        if (oents[i].seg < mseg) end[oents[i].seg] = ADB_MAX(end[oents[i].seg], ext_end(&oents[i]));
    /* A flush or shrink killed between its writes and its commit. */
    for (uint32_t k = 0; !rc && k < nseg; k++) {
        if (seg_sz[k] <= end[k]) continue;
        rc = adb_io_ftruncate(io, db->segs[k].fd, end[k]);
        if (rc)
            rc = adb_err_set(err, rc,
                             "%s/accounts/seg-%06u: giving back %llu bytes no record "
                             "names: %s",
                             db->dir, k, (unsigned long long)(seg_sz[k] - end[k]),
                             acctdb_strerror(rc));
        else
            seg_sz[k] = end[k];
    }
    for (uint32_t k = mseg; !rc && k < ADB_DB_SEGS_MAX; k++) {
        char name[32];
        snprintf(name, sizeof name, "seg-%06u", k);
        if (adb_io_unlinkat(io, db->accdirfd, name, 0)) break;
    }
    /* Extents shrink retired at the newer record: punched after the next
     * commit (db_epoch.c), when the older record is overwritten. */
    if (!rc && on) {
        qsort(keys, (size_t)n, sizeof *keys, cmp_ext_key);
        db->orphans = adb_calloc((size_t)on, sizeof *db->orphans);
        if (!db->orphans) rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        for (uint64_t i = 0; !rc && i < on; i++) {
            cat_ent_t const *o = &oents[i];
            ext_key_t        k = {o->seg, o->soff};
            if (o->seg >= nseg || o->soff >= seg_sz[o->seg] ||
                bsearch(&k, keys, (size_t)n, sizeof *keys, cmp_ext_key))
                continue;
            db->orphans[db->orphan_cnt++] =
                (adb_retired_t){.kind = ADB_RET_EXTENT,
                                .file = UINT32_MAX, /* no table entry */
                                .seg = o->seg,
                                .off = o->soff,
                                .len = ADB_MIN(ext_end(o), seg_sz[o->seg]) - o->soff,
                                .gen = atomic_load(&db->commit_gen)};
        }
    }
    adb_free(end);
    adb_free(keys);
    if (rc) return rc;
    /* Catalogs and index files no valid slot names (a close killed between
     * its index file and its commit, a lost unlink), and temporaries of
     * atomic writes. */
    int  fd = adb_io_openat(io, db->dirfd, ".", O_RDONLY | O_DIRECTORY, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        adb_io_close(io, fd);
        return 0; /* nothing is wrong, only not swept */
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t g;
        bool     tmp = !strncmp(de->d_name, ".tmp-", 5) && adb_db_own_file(de->d_name);
        if (tmp ||
            (adb_db_gen_name(de->d_name, "catalog-", &g) && g != db->cat_gen[0] &&
             g != db->cat_gen[1]) ||
            (adb_ixfile_name(de->d_name, &g) && g != db->ix_slot[0] && g != db->ix_slot[1]))
            adb_io_unlinkat(io, db->dirfd, de->d_name, 0);
    }
    closedir(d);
    return 0;
}

/* ---- reopen ------------------------------------------------------------------- */

int
adb_db_open_loaded(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out, adb_err_t *err) {
    return adb_db_open_dir(db_out, dir, meta_out, NULL, NULL, 0, 0, NULL, err);
}

int
adb_db_open_dir(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out, adb_db_rec_fn rec_fn,
                void *rec_ctx, uint32_t bin_bits, unsigned flags, adb_io_t const *io,
                adb_err_t *err) {
    *db_out = NULL;
    memset(meta_out, 0, sizeof *meta_out);
    if (!io) io = adb_io();
    int dfd = adb_io_openat(io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0) return adb_err_set(err, dfd, "cannot open %s: %s", dir, acctdb_strerror(dfd));
    slot_rd_t      sl[2];
    int            ch = -1;
    uint8_t       *legacy = NULL;
    uint8_t const *body;
    size_t         body_sz;
    uint32_t       version = 0, nseg = 0, onseg = 0;
    char           name[32] = ADB_DB_META_NAME;
    adb_db_t      *db = NULL;
    uint64_t      *seg_sz = NULL, n = 0, on = 0;
    cat_ent_t     *ents = NULL, *oents = NULL;
    int            rc = read_commit(io, dfd, dir, sl, &ch, err);
    if (rc == -ENOENT) {
        size_t lsz = 0;
        rc = read_legacy(io, dfd, dir, &legacy, &lsz, &version, err);
        if (rc) goto done;
        body = legacy + META_HDR_SZ;
        body_sz = lsz - META_HDR_SZ - 32;
    } else if (rc) {
        goto done;
    } else {
        version = sl[ch].version;
        body = sl[ch].cat + CAT_HDR_SZ;
        body_sz = sl[ch].cat_sz - CAT_HDR_SZ - 32;
        cat_name(name, sl[ch].cat_gen);
    }
    rc = decode_body(body, body_sz, version, dir, name, meta_out, &ents, &n, &nseg, err);
    if (!rc && ch >= 0) rc = cross_check(&sl[ch], meta_out, nseg, dir, err);
    if (!rc && ch >= 0 && sl[ch ^ 1].valid && (flags & ADB_DB_OPEN_RECLAIM)) {
        /* The older record's storages: what it names stays until the next
         * commit overwrites it. */
        adb_db_meta_t om = {0};
        char          oname[32];
        cat_name(oname, sl[ch ^ 1].cat_gen);
        rc = decode_body(sl[ch ^ 1].cat + CAT_HDR_SZ, sl[ch ^ 1].cat_sz - CAT_HDR_SZ - 32,
                         sl[ch ^ 1].version, dir, oname, &om, &oents, &on, &onseg, err);
        adb_db_meta_fini(&om);
    }
    if (rc) goto done;
    if (ch >= 0) {
        meta_out->gen = sl[ch].gen;
        meta_out->flags = sl[ch].flags;
        meta_out->index_gen = sl[ch].index_gen;
    }
    rc = adb_db_alloc(&db, dir, meta_out->totals.live_cnt + meta_out->totals.dup_cnt, bin_bits, io,
                      err);
    if (rc) goto done;
    io = db->io;
    db->rec_fn = rec_fn;
    db->rec_ctx = rec_ctx;
    db->dirfd = dfd;
    dfd = -1;
    atomic_store(&db->commit_gen, meta_out->gen);
    db->commit_flags = meta_out->flags;
    db->index_gen = meta_out->index_gen;
    for (int i = 0; i < 2; i++) {
        db->cat_gen[i] = ch >= 0 && sl[i].valid ? sl[i].cat_gen : 0;
        db->ix_slot[i] = ch >= 0 && sl[i].valid ? sl[i].index_gen : 0;
    }
    db->commit_file = ch >= 0;
    db->legacy_meta =
        ch < 0 || faccessat(db->dirfd, ADB_DB_META_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    if (flags & ADB_DB_OPEN_RECLAIM) {
        /* What a killed process wrote may still be only in the page cache:
         * the record chosen, and the directory entries it relies on, are
         * made durable before anything it does not name is given back. */
        if (ch >= 0) {
            int cfd = adb_io_openat(io, db->dirfd, ADB_DB_COMMIT_NAME, O_RDONLY | O_NOFOLLOW, 0);
            rc = cfd < 0 ? cfd
                         : adb_db_sync(db, cfd, ADB_DB_SYNC_DATA, "fdatasync of the commit record");
            adb_io_close(io, cfd);
        }
        if (!rc)
            rc = adb_db_sync(db, db->dirfd, ADB_DB_SYNC_FULL, "fsync of the database directory");
        if (rc) {
            rc = adb_err_set(err, rc, "%s: making the commit record durable: %s", dir,
                             acctdb_strerror(rc));
            goto done;
        }
    }
    db->accdirfd = adb_io_openat(io, db->dirfd, "accounts", O_RDONLY | O_DIRECTORY, 0);
    if (db->accdirfd < 0) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/accounts is missing", dir);
        goto done;
    }
    if (flags & ADB_DB_OPEN_RECLAIM) {
        /* The segments' entries too (a format-2 writer did not sync them). */
        rc = adb_db_sync(db, db->accdirfd, ADB_DB_SYNC_FULL, "fsync of accounts/");
        if (rc) {
            rc = adb_err_set(err, rc, "fsync of %s/accounts: %s", dir, acctdb_strerror(rc));
            goto done;
        }
    }
    seg_sz = adb_calloc(nseg ? nseg : 1, sizeof *seg_sz);
    if (!seg_sz) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < nseg; k++) {
        char sname[32];
        snprintf(sname, sizeof sname, "seg-%06u", k);
        /* Read-write: the engine appends new storages to the last one. */
        db->segs[k].fd = adb_io_openat(io, db->accdirfd, sname, O_RDWR | O_NOFOLLOW, 0);
        db->segs[k].dfd = -1;
        atomic_store(&db->seg_cnt, k + 1);
        struct stat st;
        if (db->segs[k].fd < 0 || adb_io_fstat(io, db->segs[k].fd, &st)) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/accounts/%s is missing", dir, sname);
            goto done;
        }
        seg_sz[k] = (uint64_t)st.st_size;
    }
    if (flags & ADB_DB_OPEN_RECLAIM) {
        rc = reclaim_unnamed(db, ents, n, nseg, oents, on, onseg, seg_sz, err);
        if (rc) goto done;
    }
    for (uint32_t k = 0; k < nseg; k++) {
        db->segs[k].tail = (seg_sz[k] + 4095) & ~4095ull;
        adb_db_seg_map(db, k);
    }
    for (uint64_t i = 0; i < n; i++) {
        cat_ent_t const *c = &ents[i];
        if (c->vlen > c->size || c->seg >= nseg || (c->soff & 4095) || c->soff > seg_sz[c->seg] ||
            c->size > seg_sz[c->seg] - c->soff || c->size > ADB_ACCTFILE_MAX_SZ) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                             "%s/%s: storage %llu (slot %llu) lies outside its segment", dir, name,
                             (unsigned long long)i, (unsigned long long)c->slot);
            goto done;
        }
        adb_db_file_t **chunk = &db->chunks[i / ADB_DB_FILE_CHUNK];
        if (!*chunk && !(*chunk = adb_calloc(ADB_DB_FILE_CHUNK, sizeof(adb_db_file_t)))) {
            rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
            goto done;
        }
        adb_db_file_t *f = &(*chunk)[i % ADB_DB_FILE_CHUNK];
        *f = (adb_db_file_t){.slot = c->slot,
                             .size = c->size,
                             .written = c->size,
                             .valid_len = c->vlen,
                             .idx = (uint32_t)i,
                             .seg = c->seg,
                             .seg_off = c->soff,
                             .crc = c->crc,
                             .scan_end = c->send};
        atomic_store(&db->file_cnt, (uint32_t)i + 1);
    }
    if (!(flags & ADB_DB_OPEN_NO_SCAN)) rc = adb_db_index_scan(db, meta_out, 1, err);
done:
    adb_free(seg_sz);
    adb_free(ents);
    adb_free(oents);
    adb_free(legacy);
    slots_fini(sl);
    adb_io_close(io, dfd);
    if (rc) {
        adb_db_meta_fini(meta_out);
        if (db) {
            adb_free(db->orphans);
            db->orphans = NULL;
        }
        adb_db_close(db);
        return rc;
    }
    *db_out = db;
    return 0;
}

#define SCAN_MAPS_MAX 16384

/* One part of a parallel index scan. */
typedef struct scan {
    adb_db_t            *db;
    adb_db_meta_t const *meta;
    uint64_t const      *order; /* (slot, storage) pairs, oldest first */
    uint32_t             n;
    unsigned             parts;
    adb_db_view_t       *maps; /* every storage mapped for the scan (p NULL: not mapped) */
    _Atomic bool         stop; /* a part failed: the others stop */
} scan_t;

typedef struct scan_part {
    scan_t   *s;
    unsigned  part;
    int       rc;
    adb_err_t err;
    pthread_t thr;
} scan_part_t;

static void *
scan_part(void *arg) {
    scan_part_t *p = arg;
    scan_t      *s = p->s;
    adb_db_t    *db = s->db;
    for (uint32_t k = 0; k < s->n && !p->rc && !atomic_load(&s->stop); k++) {
        uint32_t       i = (uint32_t)s->order[2 * k + 1];
        adb_db_file_t *f = adb_db_file(db, i);
        if (!f->written) continue;
        adb_db_view_t v = {0};
        if (!s->maps || !s->maps[i].p) {
            if ((p->rc = adb_db_view(db, f, f->written, &v)) != 0) {
                p->rc = adb_err_set(&p->err, p->rc, "reading the storage of slot %llu in %s: %s",
                                    (unsigned long long)f->slot, db->dir, acctdb_strerror(p->rc));
                break;
            }
        }
        p->rc = index_storage(db, i, v.p ? v.p : s->maps[i].p, s->meta->version >= 2, p->part,
                              s->parts, k % s->parts == p->part, s->maps, &p->err);
        adb_db_unview(db, &v);
    }
    if (p->rc) atomic_store(&s->stop, true);
    return NULL;
}

int
adb_db_index_scan(adb_db_t *db, adb_db_meta_t const *meta, unsigned threads, adb_err_t *err) {
    return adb_db_index_scan_some(db, meta, threads, NULL, adb_db_file_cnt(db), err);
}

int
adb_db_index_scan_some(adb_db_t *db, adb_db_meta_t const *meta, unsigned threads,
                       uint32_t const *which, uint32_t n, adb_err_t *err) {
    /* Index the storages oldest slot first, so each record meets only older
     * versions of its key (which it kills); a replay's may meet newer ones
     * the base holds, and are then DEAD from the start (index_storage). */
    uint64_t *order = adb_malloc((n ? n : 1) * 2 * sizeof *order);
    if (!order) return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = which ? which[k] : k;
        order[2 * k] = adb_db_file(db, i)->slot, order[2 * k + 1] = i;
    }
    qsort(order, n, 2 * sizeof *order, cmp_slot_idx);
    if (!threads) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
    if (threads > 16) threads = 16;
    if (threads > n / 2) threads = n / 2 ? n / 2 : 1; /* a few storages: not worth threads */
    scan_t       s = {.db = db, .meta = meta, .order = order, .n = n, .parts = threads};
    scan_part_t *p = adb_calloc(threads, sizeof *p);
    if (!p) {
        adb_free(order);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    /* Every storage mapped once for the whole scan (the parts share the
     * mappings, and a superseded version's header is read from them
     * instead of with a pread); one that cannot be mapped is read by each
     * part when it gets there, as before.  Never a heap copy of them all,
     * and at most SCAN_MAPS_MAX mappings (vm.max_map_count is 65,530 by
     * default; past it a mapping fails and the view would read a copy). */
    /* maps[] is by storage number: a replay's superseded versions lie in
     * storages it does not scan (read with a pread, never mapped here). */
    uint32_t nall = adb_db_file_cnt(db);
    s.maps = adb_calloc(nall ? nall : 1, sizeof *s.maps);
    for (uint32_t k = 0; s.maps && k < n && k < SCAN_MAPS_MAX; k++) {
        uint32_t       i = (uint32_t)order[2 * k + 1];
        adb_db_file_t *f = adb_db_file(db, i);
        if (!f->written || adb_db_view(db, f, f->written, &s.maps[i])) {
            s.maps[i] = (adb_db_view_t){0};
            continue;
        }
        if (s.maps[i].heap) adb_db_unview(db, &s.maps[i]);
    }
    unsigned started = 1;
    for (unsigned t = 0; t < threads; t++)
        p[t] = (scan_part_t){.s = &s, .part = t};
    /* Part 0 on this thread; a part whose thread cannot start runs here too. */
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&p[t].thr, NULL, scan_part, &p[t]) == 0)
            started = t + 1;
        else
            break;
    scan_part(&p[0]);
    for (unsigned t = 1; t < started; t++)
        pthread_join(p[t].thr, NULL);
    for (unsigned t = started; t < threads; t++)
        scan_part(&p[t]);
    int rc = 0;
    for (unsigned t = 0; t < threads && !rc; t++)
        if (p[t].rc) {
            rc = p[t].rc;
            adb_err_set(err, rc, "%s", p[t].err.msg);
        }
    for (uint32_t i = 0; s.maps && i < nall; i++)
        adb_db_unview(db, &s.maps[i]);
    adb_free(s.maps);
    adb_free(p);
    adb_free(order);
    return rc;
}

void
adb_db_meta_fini(adb_db_meta_t *m) {
    adb_free(m->hist);
    adb_free((void *)m->ext);
    m->hist = NULL;
    m->hist_cnt = 0;
    m->ext = NULL;
    m->ext_sz = 0;
}
