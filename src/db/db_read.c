/* src/db/db_read.c - queries over a loaded database, the completion record,
 * reopening, close. */
#include "db/db_private.h"

#include "hash/blake3.h"
#include "util/bincode.h"
#include "util/io.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- record reads ------------------------------------------------------- */

void *
adb_db_file_map(adb_db_t const *db, adb_db_file_t const *f, uint64_t len) {
    /* seg_off is 4 KiB aligned, as mmap wants. */
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, adb_db_file_fd(db, f), (off_t)f->seg_off);
    if (m == MAP_FAILED) return NULL;
    madvise(m, len, MADV_WILLNEED);
    return m;
}

uint32_t
adb_db_storage_cnt(adb_db_t const *db) {
    return adb_db_file_cnt(db);
}

int
adb_db_storage_get(adb_db_t const *db, uint32_t i, adb_db_storage_t *out) {
    memset(out, 0, sizeof *out);
    if (i >= adb_db_file_cnt(db)) return ACCTDB_ERR_INVALID;
    adb_db_file_t const *f = adb_db_file(db, i);
    *out = (adb_db_storage_t){f->slot, f->written, f->valid_len};
    return 0;
}

static int
pread_all(int fd, void *buf, size_t sz, uint64_t off) {
    uint8_t *p = buf;
    while (sz) {
        ssize_t r = pread(fd, p, sz, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        if (r == 0) return ACCTDB_ERR_CORRUPT;
        p += r;
        sz -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int
adb_db_read_rec(adb_db_t *db, uint64_t slot, uint64_t loc, adb_db_acct_t *out, uint8_t **buf,
                size_t *buf_cap) {
    memset(out, 0, sizeof *out);
    uint32_t fi = adb_db_loc_file(loc);
    if (fi >= adb_db_file_cnt(db)) return ACCTDB_ERR_CORRUPT;
    adb_db_file_t *f = adb_db_file(db, fi);
    uint64_t       off = adb_db_loc_off(loc);
    uint8_t        h[ADB_ACCT_HDR_SZ];
    if (off + ADB_ACCT_HDR_SZ > f->valid_len) return ACCTDB_ERR_CORRUPT;
    int fd = adb_db_file_fd(db, f);
    int rc = pread_all(fd, h, sizeof h, f->seg_off + off);
    if (rc)
        return adb_db_fail(db, rc, "reading the storage of slot %llu in %s",
                           (unsigned long long)f->slot, db->dir);
    uint64_t dl = adb_load_u64(h + ADB_ACCT_OFF_DATA_LEN);
    if (dl > ADB_ACCT_MAX_DATA_SZ || off + ADB_ACCT_HDR_SZ + dl > f->valid_len)
        return ACCTDB_ERR_CORRUPT;
    if (dl > *buf_cap) {
        uint8_t *nb = adb_realloc(*buf, (size_t)dl);
        if (!nb) return ACCTDB_ERR_NOMEM;
        *buf = nb;
        *buf_cap = (size_t)dl;
    }
    if (dl && (rc = pread_all(fd, *buf, (size_t)dl, f->seg_off + off + ADB_ACCT_HDR_SZ)) != 0)
        return rc;
    memcpy(out->a.pubkey.b, h + ADB_ACCT_OFF_PUBKEY, 32);
    memcpy(out->a.owner.b, h + ADB_ACCT_OFF_OWNER, 32);
    out->a.lamports = adb_load_u64(h + ADB_ACCT_OFF_LAMPORTS);
    out->a.rent_epoch = adb_load_u64(h + ADB_ACCT_OFF_RENT_EPOCH);
    out->a.executable = h[ADB_ACCT_OFF_EXEC] != 0;
    out->a.data_len = dl;
    out->a.data = dl ? *buf : NULL;
    out->slot = slot;
    return 0;
}

int
adb_db_storage_read(adb_db_t const *db, uint32_t i, uint64_t off, void *buf, size_t sz) {
    if (i >= adb_db_file_cnt(db)) return ACCTDB_ERR_INVALID;
    adb_db_file_t const *f = adb_db_file(db, i);
    if (off > f->written || sz > f->written - off) return ACCTDB_ERR_INVALID;
    return pread_all(adb_db_file_fd(db, f), buf, sz, f->seg_off + off);
}

int
adb_db_get(adb_db_t *db, uint8_t const pubkey[32], adb_db_acct_t *out, uint8_t **buf,
           size_t *buf_cap) {
    memset(out, 0, sizeof *out);
    uint64_t slot, val;
    if (!adb_index_get(db->ix, pubkey, &slot, &val) || adb_db_loc_is_zero(val))
        return ACCTDB_ERR_NOT_FOUND;
    return adb_db_read_rec(db, slot, val, out, buf, buf_cap);
}

typedef struct kv {
    uint8_t  key[32];
    uint64_t slot, val;
} kv_t;

typedef struct collect {
    kv_t  *v;
    size_t n, cap;
    bool   include_zero;
    int    err;
} collect_t;

static int
collect_cb(void *ctx, uint8_t const key[32], uint64_t slot, uint64_t val) {
    collect_t *c = ctx;
    if (!c->include_zero && adb_db_loc_is_zero(val)) return 0;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        kv_t  *nv = adb_realloc(c->v, ncap * sizeof *nv);
        if (!nv) return ACCTDB_ERR_NOMEM;
        c->v = nv;
        c->cap = ncap;
    }
    memcpy(c->v[c->n].key, key, 32);
    c->v[c->n].slot = slot;
    c->v[c->n].val = val;
    c->n++;
    return 0;
}

static int
cmp_kv(void const *a, void const *b) {
    return memcmp(((kv_t const *)a)->key, ((kv_t const *)b)->key, 32);
}

int
adb_db_visit_sorted(adb_db_t *db, bool include_zero, adb_db_visit_fn fn, void *ctx) {
    collect_t c = {.include_zero = include_zero};
    uint8_t  *buf = NULL;
    size_t    cap = 0;
    int       rc = 0;
    for (uint32_t b = 0; b < adb_index_bin_cnt(db->ix) && !rc; b++) {
        c.n = 0;
        rc = adb_index_bin_visit(db->ix, b, collect_cb, &c);
        if (rc) break;
        if (c.n) qsort(c.v, c.n, sizeof *c.v, cmp_kv);
        for (size_t i = 0; i < c.n && !rc; i++) {
            adb_db_acct_t a;
            rc = adb_db_read_rec(db, c.v[i].slot, c.v[i].val, &a, &buf, &cap);
            if (!rc) rc = fn(ctx, &a);
        }
    }
    adb_free(c.v);
    adb_free(buf);
    return rc;
}

/* Accounts are read into an arena and hashed a batch at a time. */
typedef struct lt_ctx {
    acctdb_lthash_t        *sum;
    acctdb_lthash_formula_t f;
    acctdb_account_t        batch[64];
    uint8_t                *arena;
    size_t                  arena_used, arena_cap;
    size_t                  n;
} lt_ctx_t;

static void
lt_flush(lt_ctx_t *c) {
    if (c->n) adb_lthash_add_accounts(c->sum, c->batch, c->n, c->f);
    c->n = 0;
    c->arena_used = 0;
}

static int
lt_cb(void *ctx, adb_db_acct_t const *a) {
    lt_ctx_t *c = ctx;
    size_t    len = (size_t)a->a.data_len;
    if (len > c->arena_cap) { /* cannot happen with a 12 MiB arena; be safe */
        adb_lthash_add_accounts(c->sum, &a->a, 1, c->f);
        return 0;
    }
    if (c->n == ADB_ARRAY_CNT(c->batch) || len > c->arena_cap - c->arena_used) lt_flush(c);
    acctdb_account_t *d = &c->batch[c->n++];
    *d = a->a;
    if (len) {
        memcpy(c->arena + c->arena_used, a->a.data, len);
        d->data = c->arena + c->arena_used;
        c->arena_used += len;
    }
    return 0;
}

int
adb_db_lthash_live(adb_db_t *db, acctdb_lthash_formula_t f, acctdb_lthash_t *out) {
    adb_lthash_zero(out);
    lt_ctx_t c = {.sum = out, .f = f, .arena_cap = 12u << 20};
    c.arena = adb_malloc(c.arena_cap);
    if (!c.arena) return ACCTDB_ERR_NOMEM;
    int rc = adb_db_visit_sorted(db, false, lt_cb, &c);
    if (!rc) lt_flush(&c);
    adb_free(c.arena);
    return rc;
}

/* ---- completion record --------------------------------------------------
 * acctdb.meta = "ACCTDBM1" | u32 version | u32 0 | u64 body_sz | body |
 *               BLAKE3-256(everything before it).
 * body (bincode) = slot, base_slot, totals, lthash[2048], seg_cnt u32,
 *                  file_cnt u64, file_cnt x {slot u64, size u64,
 *                  valid_len u64, seg u32, seg_off u64}. */

#define META_MAGIC  "ACCTDBM1"
#define META_HDR_SZ 24

int
adb_db_commit_load(adb_db_t *db, adb_db_meta_t const *meta, void const *manifest,
                   size_t manifest_sz, void const *status_cache, size_t status_cache_sz) {
    ADB_TRY(adb_db_bulk_wait(db));
    uint32_t n = adb_db_file_cnt(db), nseg = atomic_load(&db->seg_cnt);
    int      rc = 0;
    for (uint32_t i = 0; i < nseg && !rc; i++)
        rc = adb_io_fdatasync(db->segs[i].fd);
    if (!rc) rc = adb_io_fsync_dir(db->accdirfd);
    if (!rc && manifest)
        rc = adb_io_write_file_atomic(db->dirfd, "manifest.bin", manifest, manifest_sz);
    if (!rc && status_cache)
        rc = adb_io_write_file_atomic(db->dirfd, "status_cache.bin", status_cache, status_cache_sz);
    if (rc)
        return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc,
                           "making the load durable in %s: %s", db->dir, acctdb_strerror(rc));

    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    uint8_t hdr[META_HDR_SZ] = {0};
    adb_bc_put_bytes(&wr, hdr, sizeof hdr); /* patched below */
    adb_bc_put_u64(&wr, meta->slot);
    adb_bc_put_u64(&wr, meta->base_slot);
    adb_bc_put_u64(&wr, meta->totals.records);
    adb_bc_put_u64(&wr, meta->totals.live_cnt);
    adb_bc_put_u64(&wr, meta->totals.capitalization);
    adb_bc_put_u64(&wr, meta->totals.data_len);
    adb_bc_put_u64(&wr, meta->totals.dup_cnt);
    adb_bc_put_u32(&wr, (uint32_t)meta->totals.formula);
    adb_bc_put_bytes(&wr, meta->totals.lthash.v, sizeof meta->totals.lthash.v);
    adb_bc_put_u32(&wr, nseg);
    adb_bc_put_u64(&wr, n);
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        adb_bc_put_u64(&wr, f->slot);
        adb_bc_put_u64(&wr, f->size);
        adb_bc_put_u64(&wr, f->valid_len);
        adb_bc_put_u32(&wr, f->seg);
        adb_bc_put_u64(&wr, f->seg_off);
    }
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
    rc = wr.err ? ACCTDB_ERR_NOMEM
                : adb_io_write_file_atomic(db->dirfd, ADB_DB_META_NAME, wr.buf, wr.sz);
    adb_bc_wr_fini(&wr);
    if (rc)
        return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc,
                           "writing the completion record %s/%s: %s", db->dir, ADB_DB_META_NAME,
                           acctdb_strerror(rc));
    return 0;
}

int
adb_db_open_loaded(adb_db_t **db_out, char const *dir, adb_db_meta_t *meta_out, adb_err_t *err) {
    *db_out = NULL;
    memset(meta_out, 0, sizeof *meta_out);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return adb_err_set(err, -errno, "cannot open %s: %s", dir, acctdb_strerror(-errno));
    uint8_t *buf;
    size_t   sz;
    int      rc = adb_io_read_file(dfd, ADB_DB_META_NAME, 1u << 30, &buf, &sz);
    if (rc == -ENOENT) {
        close(dfd);
        return adb_err_set(err, ACCTDB_ERR_NOT_FOUND,
                           "%s: incomplete load: no completion record (%s); the load did not "
                           "finish or failed verification, so nothing here may be trusted",
                           dir, ADB_DB_META_NAME);
    }
    if (rc) {
        close(dfd);
        return adb_err_set(err, rc, "%s/%s: %s", dir, ADB_DB_META_NAME, acctdb_strerror(rc));
    }
    adb_db_t *db = NULL;
    uint8_t   ck[32];
    if (sz < META_HDR_SZ + 32 || memcmp(buf, META_MAGIC, 8)) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: not an acctdb completion record", dir,
                         ADB_DB_META_NAME);
        goto done;
    }
    if (adb_load_u32(buf + 8) > ADB_DB_FORMAT_VERSION) {
        rc = adb_err_set(err, ACCTDB_ERR_UNSUPPORTED_VERSION,
                         "%s: format version %u is newer than this acctdb (%u)", dir,
                         adb_load_u32(buf + 8), ADB_DB_FORMAT_VERSION);
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
    meta_out->slot = adb_bc_u64(&rd, "slot");
    meta_out->base_slot = adb_bc_u64(&rd, "base_slot");
    meta_out->totals.records = adb_bc_u64(&rd, "records");
    meta_out->totals.live_cnt = adb_bc_u64(&rd, "live_cnt");
    meta_out->totals.capitalization = adb_bc_u64(&rd, "capitalization");
    meta_out->totals.data_len = adb_bc_u64(&rd, "data_len");
    meta_out->totals.dup_cnt = adb_bc_u64(&rd, "dup_cnt");
    meta_out->totals.formula = (int)adb_bc_u32(&rd, "formula");
    adb_bc_copy(&rd, meta_out->totals.lthash.v, sizeof meta_out->totals.lthash.v, "lthash");
    uint32_t nseg = adb_bc_u32(&rd, "seg_cnt");
    uint64_t n = adb_bc_len(&rd, 36, "files");
    if (!adb_bc_ok(&rd) || nseg > ADB_DB_SEGS_MAX) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: %s", dir, ADB_DB_META_NAME,
                         adb_bc_ok(&rd) ? "too many segments" : rd.err.msg);
        goto done;
    }
    rc = adb_db_alloc(&db, dir, meta_out->totals.live_cnt + meta_out->totals.dup_cnt, err);
    if (rc) goto done;
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
        db->segs[k].fd = openat(db->accdirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        db->segs[k].dfd = -1;
        atomic_store(&db->seg_cnt, k + 1);
        struct stat st;
        if (db->segs[k].fd < 0 || fstat(db->segs[k].fd, &st)) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/accounts/%s is missing", dir, name);
            adb_free(seg_sz);
            goto done;
        }
        seg_sz[k] = (uint64_t)st.st_size;
    }
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint64_t slot = adb_bc_u64(&rd, "file.slot");
        uint64_t size = adb_bc_u64(&rd, "file.size");
        uint64_t vlen = adb_bc_u64(&rd, "file.valid_len");
        uint32_t seg = adb_bc_u32(&rd, "file.seg");
        uint64_t soff = adb_bc_u64(&rd, "file.seg_off");
        if (!adb_bc_ok(&rd) || vlen > size || seg >= nseg || (soff & 4095) || soff > seg_sz[seg] ||
            size > seg_sz[seg] - soff) {
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
                             .seg_off = soff};
        atomic_store(&db->file_cnt, (uint32_t)i + 1);
        if (!size) continue;
        void *m = adb_db_file_map(db, f, size);
        if (!m) {
            rc = adb_err_set(err, -errno, "mapping the storage of slot %llu in %s",
                             (unsigned long long)slot, dir);
            break;
        }
        adb_acctfile_iter_t it;
        adb_acct_rec_t      r;
        adb_acctfile_iter_init(&it, m, vlen, size);
        while (rc == 0 && adb_acctfile_iter_next(&it, &r)) {
            int u =
                adb_index_upsert_newer(db->ix, r.pubkey, slot,
                                       adb_db_loc((uint32_t)i, r.off, r.lamports == 0), NULL, NULL);
            if (u < 0) rc = adb_err_set(err, u, "index: %s", acctdb_strerror(u));
        }
        munmap(m, size);
        if (!rc && it.err.code)
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s: storage of slot %llu: %s", dir,
                             (unsigned long long)slot, it.err.msg);
    }
    adb_free(seg_sz);
done:
    adb_free(buf);
    if (dfd >= 0) close(dfd);
    if (rc) {
        adb_db_close(db);
        return rc;
    }
    *db_out = db;
    return 0;
}

void
adb_db_close(adb_db_t *db) {
    if (!db) return;
    if (db->workers) {
        pthread_mutex_lock(&db->mu);
        db->stopping = true;
        pthread_cond_broadcast(&db->work_cv);
        pthread_mutex_unlock(&db->mu);
        for (unsigned i = 0; i < db->nworkers; i++) {
            if (db->workers[i].started) pthread_join(db->workers[i].thr, NULL);
            adb_free(db->workers[i].losers);
            adb_aligned_free(db->workers[i].scratch);
        }
        adb_free(db->workers);
    }
    uint32_t n = adb_db_file_cnt(db);
    for (uint32_t i = 0; i < n; i++) {
        adb_db_file_t *f = adb_db_file(db, i);
        if (f->map && f->in_buf)
            adb_aligned_free(f->map);
        else if (f->map)
            munmap(f->map, f->map_sz);
    }
    for (uint32_t k = 0; db->segs && k < atomic_load(&db->seg_cnt); k++) {
        if (db->segs[k].fd >= 0) close(db->segs[k].fd);
        if (db->segs[k].dfd >= 0) close(db->segs[k].dfd);
    }
    adb_free(db->segs);
    adb_db_pool_free(db);
    if (db->chunks)
        for (uint32_t c = 0; c < ADB_DB_FILE_CHUNKS_MAX; c++)
            adb_free(db->chunks[c]);
    adb_free(db->chunks);
    adb_free(db->q);
    adb_index_close(db->ix);
    if (db->accdirfd >= 0) close(db->accdirfd);
    if (db->dirfd >= 0) close(db->dirfd);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->work_cv);
    pthread_cond_destroy(&db->idle_cv);
    pthread_cond_destroy(&db->room_cv);
    adb_free(db);
}
