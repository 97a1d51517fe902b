/* src/db/db_meta.c - the root record (acctdb.meta) and reopening.
 *
 * acctdb.meta = "ACCTDBM1" | u32 format version | u32 0 | u64 body_sz |
 *               body | BLAKE3-256(everything before it)
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
 * Storages that shrink replaced are not listed (their extents may already
 * be holes).
 *
 * Seals.  Every storage carries the CRC-32C of its bytes and the end of its
 * last record as the scan that indexed it saw.  Reopening checks both (a
 * zeroed header or page, a flipped bit anywhere, rent_epoch included, is
 * a named error instead of older versions served in silence); verify and
 * snapshot writing check the CRC again.  A version 1 record has no seals:
 * they are taken at that open and written with the next record.
 *
 * Invariant: the record is written (tmp + fsync + rename + dir fsync) only
 * after every segment byte it names was fdatasync'ed. */
#include "db/db_private.h"

#include "hash/blake3.h"
#include "util/bincode.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/point.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAGIC  "ACCTDBM1"
#define META_HDR_SZ 24
#define HIST_MAX    4096

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

int
adb_db_write_meta(adb_db_t *db, adb_db_meta_t const *m) {
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    uint8_t hdr[META_HDR_SZ] = {0};
    adb_bc_put_bytes(&wr, hdr, sizeof hdr); /* patched below */
    adb_bc_put_u64(&wr, m->slot);
    adb_bc_put_u64(&wr, m->base_slot);
    adb_bc_put_u64(&wr, m->totals.records);
    adb_bc_put_u64(&wr, m->totals.live_cnt);
    adb_bc_put_u64(&wr, m->totals.capitalization);
    adb_bc_put_u64(&wr, m->totals.data_len);
    adb_bc_put_u64(&wr, m->totals.dup_cnt);
    adb_bc_put_u32(&wr, (uint32_t)m->totals.formula);
    adb_bc_put_bytes(&wr, m->totals.lthash.v, sizeof m->totals.lthash.v);
    put_info(&wr, &m->root, true);
    adb_bc_put_u64(&wr, m->last_full_slot);
    adb_bc_put_u64(&wr, m->origin_slot);
    adb_bc_put_u32(&wr, m->hist_cnt);
    for (uint32_t i = 0; i < m->hist_cnt; i++)
        put_info(&wr, &m->hist[i], false);
    uint32_t n = adb_db_file_cnt(db), live = 0;
    adb_bc_put_u32(&wr, atomic_load(&db->seg_cnt));
    for (uint32_t i = 0; i < n; i++)
        live += !atomic_load(&adb_db_file(db, i)->replaced);
    adb_bc_put_u64(&wr, live);
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced)) continue;
        adb_bc_put_u64(&wr, f->slot);
        adb_bc_put_u64(&wr, f->written);
        adb_bc_put_u64(&wr, f->valid_len);
        adb_bc_put_u32(&wr, f->seg);
        adb_bc_put_u64(&wr, f->seg_off);
        adb_bc_put_u32(&wr, f->crc);
        adb_bc_put_u64(&wr, f->scan_end);
    }
    adb_bc_put_u8(&wr, m->origin_has_ck);
    adb_bc_put_bytes(&wr, m->origin_ck, sizeof m->origin_ck);
    adb_bc_put_u64(&wr, m->ext_sz);
    if (m->ext_sz) adb_bc_put_bytes(&wr, m->ext, m->ext_sz);
    if (wr.err) {
        adb_bc_wr_fini(&wr);
        return adb_db_fail(db, ACCTDB_ERR_NOMEM, "out of memory");
    }
    memcpy(wr.buf, META_MAGIC, 8);
    adb_store_u32(wr.buf + 8, ADB_DB_FORMAT_VERSION);
    adb_store_u64(wr.buf + 16, wr.sz - META_HDR_SZ);
    uint8_t ck[32];
    adb_blake3_hash(wr.buf, wr.sz, ck, 32);
    adb_bc_put_bytes(&wr, ck, 32);
    int rc = wr.err
                 ? ACCTDB_ERR_NOMEM
                 : adb_io_write_file_atomic(adb_io(), db->dirfd, ADB_DB_META_NAME, wr.buf, wr.sz);
    adb_bc_wr_fini(&wr);
    if (rc)
        return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc,
                           "writing the root record %s/%s: %s", db->dir, ADB_DB_META_NAME,
                           acctdb_strerror(rc));
    return 0;
}

int
adb_db_commit_load(adb_db_t *db, adb_db_meta_t const *meta, void const *manifest,
                   size_t manifest_sz, void const *status_cache, size_t status_cache_sz) {
    ADB_TRY(adb_db_bulk_wait(db));
    uint32_t nseg = atomic_load(&db->seg_cnt);
    int      rc = 0;
    ADB_POINT("create.written");
    for (uint32_t i = 0; i < nseg && !rc; i++)
        rc = adb_io_fdatasync(adb_io(), db->segs[i].fd);
    if (!rc) rc = adb_io_fsync_dir(adb_io(), db->accdirfd);
    if (!rc) ADB_POINT("create.synced");
    if (!rc && manifest)
        rc = adb_io_write_file_atomic(adb_io(), db->dirfd, "manifest.bin", manifest, manifest_sz);
    if (!rc && manifest) ADB_POINT("create.manifest");
    if (!rc && status_cache)
        rc = adb_io_write_file_atomic(adb_io(), db->dirfd, "status_cache.bin", status_cache,
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
    ADB_POINT_ARG("create.commit", m.slot);
    rc = adb_db_write_meta(db, &m);
    if (!rc) ADB_POINT_ARG("create.committed", m.slot);
    return rc;
}

/* ---- reopen --------------------------------------------------------------- */

/* Adds every record of storage i as a version of its key: the newest slot
 * is alive, any older one DEAD.  Counts alive bytes as it goes (a later,
 * newer version of a key takes the bytes back from the older storage). */
static int
index_storage(adb_db_t *db, uint32_t i, uint8_t const *m, bool sealed, adb_err_t *err) {
    adb_db_file_t      *f = adb_db_file(db, i);
    adb_acctfile_iter_t it;
    adb_acct_rec_t      r;
    adb_acctfile_iter_init(&it, m, f->valid_len, f->written);
    int rc = 0;
    while (!rc && adb_acctfile_iter_next(&it, &r)) {
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
                 * (a zero-lamport record from an archive may carry data). */
                uint8_t h[16];
                if (pread(db->segs[o->seg].fd, h, 16,
                          (off_t)(o->seg_off + adb_db_loc_off(v[0].val))) != 16)
                    return adb_err_set(err, ACCTDB_ERR_IO, "re-reading a record header");
                uint64_t osz = adb_acct_rec_sz(adb_load_u64(h + 8));
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
    if (rc) return rc;
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

int
adb_db_open_loaded(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out, adb_err_t *err) {
    return adb_db_open_dir(db_out, dir, meta_out, NULL, NULL, 0, err);
}

int
adb_db_open_dir(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out, adb_db_rec_fn rec_fn,
                void *rec_ctx, uint32_t bin_bits, adb_err_t *err) {
    *db_out = NULL;
    memset(meta_out, 0, sizeof *meta_out);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return adb_err_set(err, -errno, "cannot open %s: %s", dir, acctdb_strerror(-errno));
    uint8_t *buf;
    size_t   sz;
    int      rc = adb_io_read_file(adb_io(), dfd, ADB_DB_META_NAME, 1u << 30, &buf, &sz);
    if (rc == -ENOENT) {
        close(dfd);
        return adb_err_set(err, ACCTDB_ERR_NOT_FOUND,
                           "%s: incomplete load: no root record (%s); the creation did not "
                           "finish or failed verification, so nothing here may be trusted",
                           dir, ADB_DB_META_NAME);
    }
    if (rc) {
        close(dfd);
        return adb_err_set(err, rc, "%s/%s: %s", dir, ADB_DB_META_NAME, acctdb_strerror(rc));
    }
    adb_db_t *db = NULL;
    uint8_t   ck[32];
    uint64_t *order = NULL;
    if (sz < META_HDR_SZ + 32 || memcmp(buf, META_MAGIC, 8)) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: not an acctdb root record", dir,
                         ADB_DB_META_NAME);
        goto done;
    }
    uint32_t version = adb_load_u32(buf + 8);
    if (version > ADB_DB_FORMAT_VERSION) {
        rc = adb_err_set(err, ACCTDB_ERR_UNSUPPORTED_VERSION,
                         "%s: format version %u is newer than this acctdb (%u)", dir, version,
                         ADB_DB_FORMAT_VERSION);
        goto done;
    }
    if (version == 0) {
        rc =
            adb_err_set(err, ACCTDB_ERR_CORRUPT,
                        "%s/%s: format version 0 (no acctdb ever wrote it)", dir, ADB_DB_META_NAME);
        goto done;
    }
    adb_blake3_hash(buf, sz - 32, ck, 32);
    if (memcmp(ck, buf + sz - 32, 32) || adb_load_u64(buf + 16) != sz - 32 - META_HDR_SZ) {
        rc =
            adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: checksum mismatch", dir, ADB_DB_META_NAME);
        goto done;
    }
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, buf + META_HDR_SZ, sz - 32 - META_HDR_SZ, ADB_DB_META_NAME);
    meta_out->version = version;
    meta_out->slot = adb_bc_u64(&rd, "slot");
    meta_out->base_slot = adb_bc_u64(&rd, "base_slot");
    meta_out->totals.records = adb_bc_u64(&rd, "records");
    meta_out->totals.live_cnt = adb_bc_u64(&rd, "live_cnt");
    meta_out->totals.capitalization = adb_bc_u64(&rd, "capitalization");
    meta_out->totals.data_len = adb_bc_u64(&rd, "data_len");
    meta_out->totals.dup_cnt = adb_bc_u64(&rd, "dup_cnt");
    meta_out->totals.formula = (int)adb_bc_u32(&rd, "formula");
    adb_bc_copy(&rd, meta_out->totals.lthash.v, sizeof meta_out->totals.lthash.v, "lthash");
    meta_out->totals.has_sums = true;
    get_info(&rd, &meta_out->root, true, version);
    meta_out->last_full_slot = adb_bc_u64(&rd, "last_full_slot");
    meta_out->origin_slot = adb_bc_u64(&rd, "origin_slot");
    uint32_t hc = adb_bc_u32(&rd, "hist_cnt");
    if (adb_bc_ok(&rd) && hc > HIST_MAX)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "history of %u banks", hc);
    if (adb_bc_ok(&rd) && hc) {
        meta_out->hist = adb_calloc(hc, sizeof *meta_out->hist);
        if (!meta_out->hist) {
            rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
            goto done;
        }
        meta_out->hist_cnt = hc;
        for (uint32_t i = 0; i < hc; i++)
            get_info(&rd, &meta_out->hist[i], false, version);
    }
    uint32_t nseg = adb_bc_u32(&rd, "seg_cnt");
    uint64_t n = adb_bc_len(&rd, version >= 2 ? 48 : 36, "files");
    if (!adb_bc_ok(&rd) || nseg > ADB_DB_SEGS_MAX) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: %s", dir, ADB_DB_META_NAME,
                         adb_bc_ok(&rd) ? "too many segments" : rd.err.msg);
        goto done;
    }
    rc =
        adb_db_alloc(&db, dir, meta_out->totals.live_cnt + meta_out->totals.dup_cnt, bin_bits, err);
    if (rc) goto done;
    db->rec_fn = rec_fn;
    db->rec_ctx = rec_ctx;
    db->dirfd = dfd;
    dfd = -1;
    db->accdirfd = openat(db->dirfd, "accounts", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (db->accdirfd < 0) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/accounts is missing", dir);
        goto done;
    }
    uint64_t *seg_sz = adb_calloc(nseg ? nseg : 1, sizeof *seg_sz);
    if (!seg_sz) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < nseg; k++) {
        char name[32];
        snprintf(name, sizeof name, "seg-%06u", k);
        /* Read-write: the engine appends new storages to the last one. */
        db->segs[k].fd = openat(db->accdirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        db->segs[k].dfd = -1;
        atomic_store(&db->seg_cnt, k + 1);
        struct stat st;
        if (db->segs[k].fd < 0 || fstat(db->segs[k].fd, &st)) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/accounts/%s is missing", dir, name);
            adb_free(seg_sz);
            goto done;
        }
        seg_sz[k] = (uint64_t)st.st_size;
        db->segs[k].tail = (seg_sz[k] + 4095) & ~4095ull;
        adb_db_seg_map(db, k);
    }
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint64_t slot = adb_bc_u64(&rd, "file.slot");
        uint64_t size = adb_bc_u64(&rd, "file.size");
        uint64_t vlen = adb_bc_u64(&rd, "file.valid_len");
        uint32_t seg = adb_bc_u32(&rd, "file.seg");
        uint64_t soff = adb_bc_u64(&rd, "file.seg_off");
        uint32_t crc = version >= 2 ? adb_bc_u32(&rd, "file.crc") : 0;
        uint64_t send = version >= 2 ? adb_bc_u64(&rd, "file.scan_end") : 0;
        if (!adb_bc_ok(&rd) || vlen > size || seg >= nseg || (soff & 4095) || soff > seg_sz[seg] ||
            size > seg_sz[seg] - soff || size > ADB_ACCTFILE_MAX_SZ) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                             "%s/%s: storage %llu (slot %llu) lies outside its segment", dir,
                             ADB_DB_META_NAME, (unsigned long long)i, (unsigned long long)slot);
            break;
        }
        adb_db_file_t **chunk = &db->chunks[i / ADB_DB_FILE_CHUNK];
        if (!*chunk && !(*chunk = adb_calloc(ADB_DB_FILE_CHUNK, sizeof(adb_db_file_t)))) {
            rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
            break;
        }
        adb_db_file_t *f = &(*chunk)[i % ADB_DB_FILE_CHUNK];
        *f = (adb_db_file_t){.slot = slot,
                             .size = size,
                             .written = size,
                             .valid_len = vlen,
                             .idx = (uint32_t)i,
                             .seg = seg,
                             .seg_off = soff,
                             .crc = crc,
                             .scan_end = send};
        atomic_store(&db->file_cnt, (uint32_t)i + 1);
    }
    adb_free(seg_sz);
    if (rc) goto done;
    if (version >= 2) {
        meta_out->origin_has_ck = adb_bc_u8(&rd, "origin_has_ck");
        adb_bc_copy(&rd, meta_out->origin_ck, sizeof meta_out->origin_ck, "origin_ck");
        uint64_t esz = adb_bc_len(&rd, 1, "bank state");
        if (adb_bc_ok(&rd) && esz) {
            uint8_t *x = adb_malloc((size_t)esz);
            if (!x) {
                rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
                goto done;
            }
            adb_bc_copy(&rd, x, (size_t)esz, "bank state");
            meta_out->ext = x;
            meta_out->ext_sz = (size_t)esz;
        }
        if (!adb_bc_ok(&rd)) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: %s", dir, ADB_DB_META_NAME,
                             rd.err.msg);
            goto done;
        }
    }
    /* Index the storages oldest slot first, so each record meets only older
     * versions of its key (which it kills). */
    order = adb_malloc((n ? n : 1) * 2 * sizeof *order);
    if (!order) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint64_t i = 0; i < n; i++)
        order[2 * i] = adb_db_file(db, (uint32_t)i)->slot, order[2 * i + 1] = i;
    qsort(order, n, 2 * sizeof *order, cmp_slot_idx);
    for (uint64_t k = 0; k < n && !rc; k++) {
        uint32_t       i = (uint32_t)order[2 * k + 1];
        adb_db_file_t *f = adb_db_file(db, i);
        if (!f->written) continue;
        void *m = adb_db_file_map(db, f, f->written);
        if (!m) {
            rc = adb_err_set(err, -errno, "mapping the storage of slot %llu in %s",
                             (unsigned long long)f->slot, dir);
            break;
        }
        rc = index_storage(db, i, m, meta_out->version >= 2, err);
        munmap(m, f->written);
    }
done:
    adb_free(order);
    adb_free(buf);
    if (dfd >= 0) close(dfd);
    if (rc) {
        adb_db_meta_fini(meta_out);
        adb_db_close(db);
        return rc;
    }
    *db_out = db;
    return 0;
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
