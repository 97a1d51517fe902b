/* src/snapshot/load.c - one-pass archive loading and verification.
 *
 * States of one archive load:
 *
 *   OPEN -> STREAM (read, decompress, tar events) -> EOF checks -> WAIT
 *   (db workers drain) -> VERIFY (this archive's checks) -> next archive or
 *   COMMIT (completion record) -> DONE
 *
 * Any error stops the machine where it is; nothing after it runs, and the
 * completion record is written only from COMMIT.
 *
 * Invariants:
 *   1. Nothing is written outside opts.store_dir: account files are created
 *      by db under store_dir/accounts with names we format from numbers.
 *   2. An account file's on-disk bytes never exceed the archive's entry
 *      size nor, when the manifest lists it, its current_len.
 *   3. Each tar entry kind (version, manifest, status cache, one file per
 *      slot) is accepted at most once per archive. */
#include "snapshot/load.h"

#include "hash/lthash.h"
#include "hash/merkle.h"
#include "hash/sha256.h"
#include "snapshot/status_cache.h"
#include "bank/bank_sysvar.h"
#include "util/base58.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define IO_CHUNK (4u << 20)

void
adb_load_opts_default(adb_load_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->verify = true;
    adb_decomp_limits_default(&o->dlim);
    adb_tar_limits_default(&o->tlim);
    o->max_meta_sz = 4ull << 30;
    o->max_early_sz = 64ull << 20;
}

/* ---- checks ------------------------------------------------------------- */

static adb_check_t *check_add(adb_snap_t *s, char const *name, adb_check_status_t st,
                              char const *fmt, ...) __attribute__((format(printf, 4, 5)));

static adb_check_t *
check_add(adb_snap_t *s, char const *name, adb_check_status_t st, char const *fmt, ...) {
    if (s->check_cnt == ADB_CHECKS_MAX) return &s->checks[ADB_CHECKS_MAX - 1];
    adb_check_t *c = &s->checks[s->check_cnt++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    if (st == ADB_CHECK_FAIL && !s->err.code)
        adb_err_set(&s->err, ACCTDB_ERR_MISMATCH, "%s check failed: %s", name, c->detail);
    return c;
}

static char *
b58(uint8_t const h[32], char out[ACCTDB_BASE58_32_SZ]) {
    return adb_base58_encode_32(h, out);
}

/* ---- per-archive streaming state ---------------------------------------- */

typedef struct afile {
    uint64_t slot, id, tar_sz, store_sz;
    uint32_t file;
    bool     ended;  /* tar entry complete */
    bool     queued; /* handed to db */
} afile_t;

typedef struct ld {
    adb_snap_t         *s;
    adb_archive_info_t *ai;
    char const         *label; /* "full" / "incremental" */
    bool                is_inc;
    uint64_t            base_slot;
    adb_tar_t           tar;
    /* current entry */
    adb_snap_entry_kind_t kind;
    uint64_t              slot, id, size;
    afile_t              *cur;
    uint8_t              *buf;
    size_t                buf_have, buf_cap;
    uint64_t              early_sz; /* account bytes received before the manifest */
    uint8_t               version[8];
    size_t                version_sz;
    bool                  seen_version, seen_status, seen_manifest, manifest_decoded;
    bool                  status_done;
    bool                  stop; /* manifest_only: metadata read, stop streaming */
    afile_t              *files;
    size_t                file_cnt, file_cap;
} ld_t;

static int lfail(ld_t *l, int code, char const *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
lfail(ld_t *l, int code, char const *fmt, ...) {
    if (l->s->err.code) return l->s->err.code;
    char    what[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return adb_err_set(&l->s->err, code, "%s: %s", l->ai->path, what);
}

/* The manifest's storage entry for slot, or NULL. */
static adb_storage_slot_t const *
map_find(adb_manifest_t const *m, uint64_t slot) {
    for (uint64_t i = 0; i < m->accounts_db.storages_cnt; i++)
        if (m->accounts_db.storages[i].slot == slot) return &m->accounts_db.storages[i];
    return NULL;
}

/* Bytes of an account file worth keeping: FORMAT.md 2.2. */
static int
valid_len(ld_t *l, afile_t const *f, uint64_t *len_out) {
    *len_out = f->tar_sz;
    adb_storage_slot_t const *e = map_find(&l->ai->manifest, f->slot);
    if (!e || e->entries_cnt == 0) return 0;
    uint64_t cl = e->entries[0].current_len;
    if (cl > f->tar_sz)
        return lfail(l, ACCTDB_ERR_CORRUPT,
                     "accounts/%llu.%llu: manifest current_len %llu exceeds the archived size "
                     "%llu",
                     (unsigned long long)f->slot, (unsigned long long)f->id, (unsigned long long)cl,
                     (unsigned long long)f->tar_sz);
    *len_out = cl;
    return 0;
}

static int
queue_file(ld_t *l, afile_t *f) {
    uint64_t vl;
    ADB_TRY(valid_len(l, f, &vl));
    f->queued = true;
    int rc = adb_db_bulk_file_end(l->s->db, f->file, ADB_MIN(vl, f->store_sz));
    if (rc) return lfail(l, rc, "%s", adb_db_errmsg(l->s->db));
    return 0;
}

/* The storage bytes the manifest declares must fit on the disk; only then
 * is the index sized from them, and never past a quarter of the RAM (the
 * claim is unverified until the files arrive). */
static int
check_free_space(ld_t *l) {
    adb_manifest_t const *m = &l->ai->manifest;
    uint64_t              need = 0;
    for (uint64_t i = 0; i < m->accounts_db.storages_cnt; i++) {
        adb_storage_slot_t const *e = &m->accounts_db.storages[i];
        if (l->is_inc && e->slot <= l->base_slot) continue;
        for (uint64_t k = 0; k < e->entries_cnt; k++)
            if (__builtin_add_overflow(need, e->entries[k].current_len, &need)) need = UINT64_MAX;
    }
    struct statvfs sv;
    if (statvfs(l->s->opts.store_dir, &sv) == 0) {
        uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        if (need > avail)
            return lfail(l, ACCTDB_ERR_FULL,
                         "the manifest declares %llu bytes of account files but %s has only "
                         "%llu bytes free",
                         (unsigned long long)need, l->s->opts.store_dir, (unsigned long long)avail);
    }
    /* Size the index from facts, not the claim alone: a mean stored record
     * of ~400 bytes (mainnet), and no more account bytes than the archive's
     * compressed size can plausibly hold (4:1; a larger ratio only means the
     * index grows as it fills).  Never past a quarter of the RAM. */
    long     pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t cap = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 4 / 64 : (1u << 24);
    uint64_t plausible =
        l->ai->compressed_sz > UINT64_MAX / 4 ? UINT64_MAX : l->ai->compressed_sz * 4;
    int rc = adb_db_bulk_reserve(l->s->db, ADB_MIN(ADB_MIN(need, plausible) / 400, cap));
    if (rc) return lfail(l, rc, "%s", adb_db_errmsg(l->s->db));
    return 0;
}

static int
on_manifest(ld_t *l) {
    adb_archive_info_t *ai = l->ai;
    adb_err_t           e = {0};
    int rc = adb_manifest_decode(ai->manifest_raw, ai->manifest_raw_sz, 0, &ai->manifest, &e);
    if (rc)
        return lfail(l, rc, "snapshots/%llu/%llu: %s", (unsigned long long)l->slot,
                     (unsigned long long)l->slot, e.msg);
    ai->has_manifest = true;
    l->manifest_decoded = true;
    if ((rc = adb_manifest_check(&ai->manifest, 0, &e)) != 0) return lfail(l, rc, "%s", e.msg);
    uint64_t ms = ai->manifest.bank.slot;
    ai->manifest_slot = ms;
    if (ms != l->slot)
        return lfail(l, ACCTDB_ERR_CORRUPT,
                     "manifest path says slot %llu but the manifest is for slot %llu",
                     (unsigned long long)l->slot, (unsigned long long)ms);
    if (ai->name_ok && ai->name.slot != ms)
        return lfail(l, ACCTDB_ERR_MISMATCH,
                     "archive name says slot %llu but the manifest is for slot %llu",
                     (unsigned long long)ai->name.slot, (unsigned long long)ms);
    if (l->is_inc && ms <= l->base_slot)
        return lfail(l, ACCTDB_ERR_MISMATCH,
                     "incremental snapshot slot %llu is not above its base slot %llu",
                     (unsigned long long)ms, (unsigned long long)l->base_slot);
    if (l->s->opts.manifest_only) return 0;
    ADB_TRY(check_free_space(l));
    /* Hash while loading when there is a lattice hash to check. */
    if (!l->is_inc)
        adb_db_bulk_set_hash(l->s->db, l->s->opts.verify && ai->manifest.extra.has_accounts_lt_hash
                                           ? ADB_DB_HASH_CURRENT
                                           : ADB_DB_HASH_NONE);
    /* Files that arrived before the manifest. */
    for (size_t i = 0; i < l->file_cnt; i++)
        if (l->files[i].ended && !l->files[i].queued) ADB_TRY(queue_file(l, &l->files[i]));
    return 0;
}

static int
on_entry(ld_t *l, adb_tar_ev_t const *ev) {
    l->kind = adb_snap_entry_classify(ev->path, ev->is_dir, &l->slot, &l->id);
    l->size = ev->size;
    l->buf_have = 0;
    l->cur = NULL;
    l->ai->entries++;
    switch (l->kind) {
    case ADB_SNAP_ENTRY_REJECT:
        return lfail(l, ACCTDB_ERR_CORRUPT, "extra entry found: '%s'%s is not part of a snapshot",
                     ev->path, ev->is_dir ? " (directory)" : "");
    case ADB_SNAP_ENTRY_ACCOUNTS_DIR:
    case ADB_SNAP_ENTRY_SNAPSHOTS_DIR:
    case ADB_SNAP_ENTRY_SLOT_DIR:
        return 0;
    case ADB_SNAP_ENTRY_VERSION:
        if (l->seen_version) return lfail(l, ACCTDB_ERR_CORRUPT, "a second 'version' entry");
        if (ev->size > 8)
            return lfail(l, ACCTDB_ERR_CORRUPT, "'version' entry has %llu bytes (at most 8)",
                         (unsigned long long)ev->size);
        l->seen_version = true;
        l->version_sz = 0;
        return 0;
    case ADB_SNAP_ENTRY_MANIFEST:
    case ADB_SNAP_ENTRY_STATUS_CACHE: {
        bool man = l->kind == ADB_SNAP_ENTRY_MANIFEST;
        if (man ? l->seen_manifest : l->seen_status)
            return lfail(l, ACCTDB_ERR_CORRUPT, "a second %s entry ('%s')",
                         man ? "manifest" : "status cache", ev->path);
        if (ev->size > l->s->opts.max_meta_sz)
            return lfail(l, ACCTDB_ERR_FULL, "'%s' has %llu bytes (limit %llu)", ev->path,
                         (unsigned long long)ev->size, (unsigned long long)l->s->opts.max_meta_sz);
        /* The buffer grows as bytes arrive: the header's size is a claim. */
        size_t   cap = (size_t)ADB_MIN(ev->size ? ev->size : 1, (uint64_t)(1u << 20));
        uint8_t *b = adb_malloc(cap);
        if (!b) return lfail(l, ACCTDB_ERR_NOMEM, "no memory for '%s'", ev->path);
        if (man) {
            l->seen_manifest = true;
            l->ai->manifest_raw = b;
        } else {
            l->seen_status = true;
            l->ai->status_cache_raw = b;
        }
        l->buf = b;
        l->buf_cap = cap;
        return 0;
    }
    case ADB_SNAP_ENTRY_ACCOUNT_FILE: {
        if (l->s->opts.manifest_only) {
            l->stop = l->manifest_decoded; /* metadata comes first; stop here */
            return 0;
        }
        if (l->is_inc && l->slot <= l->base_slot)
            return lfail(l, ACCTDB_ERR_CORRUPT,
                         "incremental archive holds accounts/%llu.%llu, at or below its base "
                         "slot %llu",
                         (unsigned long long)l->slot, (unsigned long long)l->id,
                         (unsigned long long)l->base_slot);
        if (ev->size == 0)
            return lfail(l, ACCTDB_ERR_CORRUPT, "accounts/%llu.%llu is empty",
                         (unsigned long long)l->slot, (unsigned long long)l->id);
        if (l->file_cnt == l->file_cap) {
            size_t   ncap = l->file_cap ? l->file_cap * 2 : 64;
            afile_t *nf = adb_realloc(l->files, ncap * sizeof *nf);
            if (!nf) return lfail(l, ACCTDB_ERR_NOMEM, "out of memory");
            l->files = nf;
            l->file_cap = ncap;
        }
        afile_t *f = &l->files[l->file_cnt++];
        *f = (afile_t){.slot = l->slot, .id = l->id, .tar_sz = ev->size, .store_sz = ev->size};
        /* With the manifest known, keep only the declared bytes. */
        if (l->manifest_decoded) {
            uint64_t vl;
            ADB_TRY(valid_len(l, f, &vl));
            f->store_sz = vl;
        }
        int rc = adb_db_bulk_file_begin(l->s->db, f->slot, f->store_sz, &f->file);
        if (rc) return lfail(l, rc, "%s", adb_db_errmsg(l->s->db));
        l->cur = f;
        l->ai->account_files++;
        l->ai->account_bytes += ev->size;
        return 0;
    }
    }
    return 0;
}

static int
on_data(ld_t *l, adb_tar_ev_t const *ev) {
    switch (l->kind) {
    case ADB_SNAP_ENTRY_VERSION:
        memcpy(l->version + l->version_sz, ev->data, ev->data_sz);
        l->version_sz += ev->data_sz;
        return 0;
    case ADB_SNAP_ENTRY_MANIFEST:
    case ADB_SNAP_ENTRY_STATUS_CACHE: {
        if (ev->data_sz > l->buf_cap - l->buf_have) {
            size_t cap = l->buf_cap;
            while (cap - l->buf_have < ev->data_sz)
                cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            cap = (size_t)ADB_MIN((uint64_t)cap, l->size);
            uint8_t *nb = adb_realloc(l->buf, cap);
            if (!nb)
                return lfail(l, ACCTDB_ERR_NOMEM, "no memory for a %llu-byte metadata entry",
                             (unsigned long long)l->size);
            l->buf = nb;
            l->buf_cap = cap;
            if (l->kind == ADB_SNAP_ENTRY_MANIFEST)
                l->ai->manifest_raw = nb;
            else
                l->ai->status_cache_raw = nb;
        }
        memcpy(l->buf + l->buf_have, ev->data, ev->data_sz);
        l->buf_have += ev->data_sz;
        if (l->kind == ADB_SNAP_ENTRY_MANIFEST)
            l->ai->manifest_raw_sz = l->buf_have;
        else
            l->ai->status_cache_raw_sz = l->buf_have;
        return 0;
    }
    case ADB_SNAP_ENTRY_ACCOUNT_FILE: {
        afile_t *f = l->cur;
        if (!f) return 0;
        uint64_t off = ev->data_off;
        if (off >= f->store_sz) return 0;
        size_t n = (size_t)ADB_MIN((uint64_t)ev->data_sz, f->store_sz - off);
        if (!l->manifest_decoded && (l->early_sz += n) > l->s->opts.max_early_sz)
            return lfail(l, ACCTDB_ERR_FULL,
                         "more than %llu bytes of account files before the manifest (Agave "
                         "writes the manifest first); refusing to store unverifiable data",
                         (unsigned long long)l->s->opts.max_early_sz);
        int rc = adb_db_bulk_file_append(l->s->db, f->file, ev->data, n);
        if (rc) return lfail(l, rc, "%s", adb_db_errmsg(l->s->db));
        return 0;
    }
    default:
        return 0;
    }
}

static int
on_entry_end(ld_t *l) {
    switch (l->kind) {
    case ADB_SNAP_ENTRY_VERSION: {
        size_t a = 0, b = l->version_sz;
        while (a < b && (l->version[a] == ' ' || (l->version[a] >= '\t' && l->version[a] <= '\r')))
            a++;
        while (b > a && (l->version[b - 1] == ' ' ||
                         (l->version[b - 1] >= '\t' && l->version[b - 1] <= '\r')))
            b--;
        if (b - a != 5 || memcmp(l->version + a, "1.2.0", 5)) {
            char   shown[40];
            size_t k = 0;
            for (size_t i = a; i < b && k + 4 < sizeof shown; i++)
                k += (size_t)snprintf(shown + k, sizeof shown - k,
                                      l->version[i] >= 0x20 && l->version[i] < 0x7f ? "%c"
                                                                                    : "\\x%02x",
                                      l->version[i]);
            shown[k] = 0;
            return lfail(l, ACCTDB_ERR_UNSUPPORTED_VERSION,
                         "snapshot version '%s' is not supported (only 1.2.0 exists)", shown);
        }
        return 0;
    }
    case ADB_SNAP_ENTRY_MANIFEST:
        ADB_TRY(on_manifest(l));
        l->stop = l->s->opts.manifest_only && l->status_done;
        return 0;
    case ADB_SNAP_ENTRY_STATUS_CACHE:
        l->status_done = true;
        l->stop = l->s->opts.manifest_only && l->manifest_decoded;
        return 0;
    case ADB_SNAP_ENTRY_ACCOUNT_FILE: {
        afile_t *f = l->cur;
        if (!f) return 0;
        f->ended = true;
        l->cur = NULL;
        return l->manifest_decoded ? queue_file(l, f) : 0;
    }
    default:
        return 0;
    }
}

static int
feed_tar(ld_t *l, uint8_t const *p, size_t n) {
    for (;;) {
        adb_tar_ev_t ev;
        int          rc = adb_tar_next(&l->tar, &p, &n, &ev);
        if (rc < 0) return lfail(l, rc, "%s", l->tar.err.msg);
        if (rc == 0) return 0;
        switch (ev.kind) {
        case ADB_TAR_EV_ENTRY:
            ADB_TRY(on_entry(l, &ev));
            break;
        case ADB_TAR_EV_DATA:
            ADB_TRY(on_data(l, &ev));
            break;
        case ADB_TAR_EV_ENTRY_END:
            ADB_TRY(on_entry_end(l));
            break;
        case ADB_TAR_EV_EOF:
            break;
        }
        if (l->stop) return 0;
    }
}

/* Frame-parallel decompression threads: as many as the bulk loader's
 * workers (0: the CPUs), at most 8 (each holds up to two 48 MiB buffers). */
static unsigned
dec_threads(unsigned threads) {
    long     ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned t = threads ? threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    return t > 8 ? 8 : t;
}

/* Streams one archive into the db. */
static int
load_archive(adb_snap_t *s, adb_archive_info_t *ai, char const *path, bool is_inc,
             uint64_t base_slot) {
    ld_t l = {.s = s,
              .ai = ai,
              .is_inc = is_inc,
              .base_slot = base_slot,
              .label = is_inc ? "incremental" : "full"};
    snprintf(ai->path, sizeof ai->path, "%s", path);
    ai->name_ok = adb_snap_name_parse(path, &ai->name) == 0;
    if (ai->name_ok && ai->name.is_incremental != is_inc)
        return lfail(&l, ACCTDB_ERR_INVALID, "this is %s snapshot archive, given as the %s one",
                     is_inc ? "a full" : "an incremental", l.label);
    if (is_inc && ai->name_ok && ai->name.base_slot != base_slot)
        return lfail(&l, ACCTDB_ERR_MISMATCH,
                     "incremental snapshot is based on slot %llu but the full snapshot is for "
                     "slot %llu",
                     (unsigned long long)ai->name.base_slot, (unsigned long long)base_slot);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lfail(&l, -errno, "cannot open: %s", acctdb_strerror(-errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return lfail(&l, ACCTDB_ERR_INVALID, "not a regular file");
    }
    ai->compressed_sz = (uint64_t)st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    uint8_t      *in = adb_malloc(IO_CHUNK), *out = adb_malloc(IO_CHUNK);
    adb_decomp_t *d = NULL;
    int           rc = 0;
    bool          eof = false;
    uint64_t      done = 0;
    adb_tar_init(&l.tar, &s->opts.tlim);
    if (!in || !out) {
        rc = lfail(&l, ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    while (!rc && !eof) {
        if (s->opts.stop && *s->opts.stop) {
            rc = lfail(&l, ACCTDB_ERR_STOPPED, "stopped after %llu bytes (interrupted)",
                       (unsigned long long)done);
            break;
        }
        ssize_t got = read(fd, in, IO_CHUNK);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            rc = lfail(&l, -errno, "read error: %s", acctdb_strerror(-errno));
            break;
        }
        if (got == 0) eof = true;
        if (!d && got > 0) {
            char const     *what;
            adb_comp_kind_t k = adb_comp_detect(in, (size_t)got, &what);
            if (k == ADB_COMP_UNKNOWN) {
                rc =
                    lfail(&l, ACCTDB_ERR_UNSUPPORTED,
                          "unsupported archive compression: %s (only .tar.zst and .tar.lz4)", what);
                break;
            }
            if (ai->name_ok && strcmp(ai->name.ext, k == ADB_COMP_ZSTD ? "tar.zst" : "tar.lz4")) {
                rc = lfail(&l, ACCTDB_ERR_CORRUPT, "named .%s but its content is %s", ai->name.ext,
                           what);
                break;
            }
            ai->comp = k;
            if ((rc = adb_decomp_open(&d, k, &s->opts.dlim)) != 0 ||
                (rc = adb_decomp_set_threads(d, dec_threads(s->opts.threads))) != 0) {
                rc = lfail(&l, rc, "cannot start the decompressor");
                break;
            }
        }
        if (!d) {
            rc = lfail(&l, ACCTDB_ERR_CORRUPT, "the archive is empty");
            break;
        }
        if (eof) adb_decomp_end_input(d);
        uint8_t const *p = in;
        size_t         left = (size_t)got;
        /* Decompress everything read; with empty input, drain what is
         * buffered inside the decompressor. */
        for (;;) {
            size_t used, made;
            rc = adb_decomp_run(d, p, left, &used, out, IO_CHUNK, &made);
            if (rc) {
                rc = lfail(&l, rc, "%s", adb_decomp_errmsg(d));
                break;
            }
            p += used;
            left -= used;
            if (made && (rc = feed_tar(&l, out, made)) != 0) break;
            if (l.stop) break;
            if (!used && !made) break;
        }
        done += (uint64_t)got;
        if (s->opts.progress) s->opts.progress(s->opts.progress_ctx, path, done, ai->compressed_sz);
        if (l.stop) break;
    }
    if (rc) goto cleanup;
    if (s->opts.manifest_only) {
        if (!l.manifest_decoded)
            rc = lfail(&l, ACCTDB_ERR_CORRUPT, "no manifest (snapshots/<slot>/<slot>) found");
        goto cleanup;
    }
    ai->tar_sz = adb_decomp_out_total(d);
    ai->frames = adb_decomp_frames(d);
    if (!adb_decomp_at_frame_end(d)) {
        rc = lfail(&l, ACCTDB_ERR_CORRUPT,
                   "truncated archive: the compressed stream ends inside a frame after %llu "
                   "bytes",
                   (unsigned long long)adb_decomp_in_total(d));
        goto cleanup;
    }
    if (!adb_tar_done(&l.tar)) {
        rc = lfail(&l, ACCTDB_ERR_CORRUPT,
                   "truncated archive: the tar stream ends after %llu bytes without its "
                   "end-of-archive marker",
                   (unsigned long long)ai->tar_sz);
        goto cleanup;
    }
    if (!l.seen_version) {
        rc = lfail(&l, ACCTDB_ERR_CORRUPT, "no 'version' entry");
        goto cleanup;
    }
    if (!l.seen_manifest) {
        rc = lfail(&l, ACCTDB_ERR_CORRUPT, "no manifest (snapshots/<slot>/<slot>) in the archive");
        goto cleanup;
    }
    if (!l.seen_status) {
        rc = lfail(&l, ACCTDB_ERR_CORRUPT, "no status cache (snapshots/status_cache)");
        goto cleanup;
    }
    /* Every storage the manifest lists for this archive must be in it. */
    adb_manifest_t const *m = &ai->manifest;
    for (uint64_t i = 0; i < m->accounts_db.storages_cnt; i++) {
        adb_storage_slot_t const *e = &m->accounts_db.storages[i];
        if (is_inc && e->slot <= base_slot) continue; /* lives in the full (FORMAT.md 3.7) */
        bool found = false;
        for (size_t k = 0; k < l.file_cnt && !found; k++)
            found = l.files[k].slot == e->slot;
        if (!found) {
            rc = lfail(&l, ACCTDB_ERR_CORRUPT,
                       "the manifest lists a storage for slot %llu (id %llu) but the archive "
                       "has no accounts/%llu.* file",
                       (unsigned long long)e->slot,
                       (unsigned long long)(e->entries_cnt ? e->entries[0].id : 0),
                       (unsigned long long)e->slot);
            goto cleanup;
        }
    }
    rc = adb_db_bulk_wait(s->db);
    if (rc) rc = lfail(&l, rc, "%s", adb_db_errmsg(s->db));
cleanup:
    adb_decomp_close(d);
    adb_tar_fini(&l.tar);
    adb_free(in);
    adb_free(out);
    adb_free(l.files);
    close(fd);
    return rc;
}

/* The root bank a database created from this manifest starts at. */
void
adb_snap_root_info(adb_manifest_t const *m, acctdb_bank_info_t *in) {
    memset(in, 0, sizeof *in);
    adb_bank_fields_t const *b = &m->bank;
    in->slot = b->slot;
    in->parent_slot = b->parent_slot;
    in->block_height = b->block_height;
    if (m->extra.has_accounts_lt_hash) {
        memcpy(in->lt_hash.v, m->extra.accounts_lt_hash, sizeof in->lt_hash.v);
        adb_lthash_checksum(&in->lt_hash, in->lt_checksum);
    }
    in->capitalization = b->capitalization;
    in->accounts_data_len = b->accounts_data_len;
    in->bank_hash = b->hash;
    in->parent_bank_hash = b->parent_hash;
    if (b->blockhash_queue.has_last_hash) in->meta.blockhash = b->blockhash_queue.last_hash;
    in->meta.signature_count = b->signature_count;
    in->meta.transaction_count = b->transaction_count;
    for (uint64_t i = 0; i < b->blockhash_queue.ages_cnt; i++)
        if (b->blockhash_queue.ages[i].hash_index == b->blockhash_queue.last_hash_index)
            in->meta.unix_timestamp = (int64_t)(b->blockhash_queue.ages[i].timestamp / 1000);
    if (m->extra.has_block_id) in->meta.block_id = m->extra.block_id;
    in->lamports_per_signature = m->extra.lamports_per_signature;
}

/* ---- verification ------------------------------------------------------- */

typedef struct merkle_ctx {
    uint8_t *leaves;
    size_t   n, cap;
    uint64_t lamports; /* of the accounts in the set */
    uint64_t min_slot; /* only accounts stored after this slot (incremental) */
    bool     incremental;
} merkle_ctx_t;

static int
merkle_cb(void *ctx, adb_db_acct_t const *a) {
    merkle_ctx_t *c = ctx;
    if (c->incremental ? a->slot <= c->min_slot : a->a.lamports == 0) return 0;
    if (c->n == c->cap) {
        size_t   ncap = c->cap ? c->cap * 2 : 4096;
        uint8_t *nl = adb_realloc(c->leaves, ncap * 32);
        if (!nl) return ACCTDB_ERR_NOMEM;
        c->leaves = nl;
        c->cap = ncap;
    }
    uint8_t *leaf = c->leaves + 32 * c->n++;
    c->lamports += a->a.lamports;
    if (a->a.lamports == 0)
        adb_merkle_leaf_zero_lamport(&a->a.pubkey, leaf);
    else
        adb_merkle_leaf(&a->a, leaf);
    return 0;
}

/* Full (incremental=false) or incremental merkle accounts hash of the
 * current state; *cnt_out = leaves. */
static int
merkle_hash(adb_snap_t *s, bool incremental, uint64_t base, uint8_t out[32], size_t *cnt_out,
            uint64_t *lamports_out) {
    merkle_ctx_t c = {.incremental = incremental, .min_slot = base};
    int          rc = adb_db_visit_sorted(s->db, incremental, merkle_cb, &c);
    if (!rc) rc = adb_merkle_root(c.leaves, c.n, out);
    *cnt_out = c.n;
    *lamports_out = c.lamports;
    adb_free(c.leaves);
    return rc;
}

/* The name hash a merkle-era archive carries: the accounts hash, mixed with
 * the epoch accounts hash when the manifest serialized one (FORMAT.md 1.3). */
static int
merkle_name_hash(adb_manifest_t const *m, uint8_t const acc[32], uint8_t out[32]) {
    if (!m->extra.has_epoch_accounts_hash) {
        memcpy(out, acc, 32);
        return 0;
    }
    adb_iov_t parts[2] = {{acc, 32}, {m->extra.epoch_accounts_hash.b, 32}};
    return adb_sha256_parts(out, parts, 2);
}

static void
check_u64(adb_snap_t *s, char const *name, uint64_t manifest, uint64_t computed) {
    if (manifest == computed)
        check_add(s, name, ADB_CHECK_PASS, "%llu (manifest) == %llu (computed)",
                  (unsigned long long)manifest, (unsigned long long)computed);
    else
        check_add(s, name, ADB_CHECK_FAIL, "manifest %llu, computed %llu",
                  (unsigned long long)manifest, (unsigned long long)computed);
}

/* Checks one archive's claims against the state loaded so far. */
static int
verify_archive(adb_snap_t *s, adb_archive_info_t *ai, bool is_inc, uint64_t base) {
    adb_manifest_t const *m = &ai->manifest;
    char                  pfx[16], nm[64], x[ACCTDB_BASE58_32_SZ], y[ACCTDB_BASE58_32_SZ];
    snprintf(pfx, sizeof pfx, "%s", is_inc ? "incremental " : s->has_inc ? "full " : "");
    adb_db_totals_t t;
    int             rc = adb_db_bulk_totals(s->db, s->opts.verify, &t);
    if (rc) return adb_err_set(&s->err, rc, "%s", adb_db_errmsg(s->db));
    s->totals = t;

    bool            has_lt = m->extra.has_accounts_lt_hash;
    uint8_t         man_ck[32] = {0};
    acctdb_lthash_t man_lt;
    if (has_lt) {
        memcpy(man_lt.v, m->extra.accounts_lt_hash, sizeof man_lt.v);
        adb_lthash_checksum(&man_lt, man_ck);
    }
    /* Era, from the name's hash (FORMAT.md 1.3). */
    char const *era = has_lt ? "lattice" : "merkle";
    uint8_t     merkle[32], merkle_named[32];
    size_t      merkle_cnt = 0;
    uint64_t    merkle_lamports = 0;
    bool        have_merkle = false;
    bool        persist = is_inc && m->extra.has_incremental_persistence;
    if (!has_lt || persist || (ai->name_ok && memcmp(ai->name.hash.b, man_ck, 32))) {
        rc = merkle_hash(s, is_inc, base, merkle, &merkle_cnt, &merkle_lamports);
        if (!rc) rc = merkle_name_hash(m, merkle, merkle_named);
        if (rc)
            return adb_err_set(&s->err, rc, "computing the merkle hash: %s", acctdb_strerror(rc));
        have_merkle = true;
        if (has_lt && ai->name_ok && !memcmp(ai->name.hash.b, merkle_named, 32))
            era = "transitional";
        if (!is_inc) {
            memcpy(s->full_merkle, merkle, 32);
            s->has_full_merkle = true;
        }
    }
    if (!is_inc) s->full_capitalization = t.capitalization;
    s->era = era;

    /* Merkle-era incrementals restate the full's hash and capitalization and
     * their own (ExtraFields 2, FORMAT.md 3.6). */
    if (persist && s->opts.verify) {
        adb_incremental_persistence_t const *p = &m->extra.incremental_persistence;
        char                                 bad[200] = "";
        size_t                               k = 0;
        if (p->full_slot != base) k += (size_t)snprintf(bad + k, sizeof bad - k, " full_slot");
        if (!s->has_full_merkle || memcmp(p->full_hash.b, s->full_merkle, 32))
            k += (size_t)snprintf(bad + k, sizeof bad - k, " full_hash");
        if (p->full_capitalization != s->full_capitalization)
            k += (size_t)snprintf(bad + k, sizeof bad - k, " full_capitalization");
        if (memcmp(p->incremental_hash.b, merkle, 32))
            k += (size_t)snprintf(bad + k, sizeof bad - k, " incremental_hash");
        if (p->incremental_capitalization != merkle_lamports)
            k += (size_t)snprintf(bad + k, sizeof bad - k, " incremental_capitalization");
        if (!k)
            check_add(s, "incremental persistence", ADB_CHECK_PASS,
                      "full slot %llu, full hash %s, capitalizations %llu / %llu and the "
                      "incremental hash match what was loaded",
                      (unsigned long long)p->full_slot, b58(p->full_hash.b, x),
                      (unsigned long long)p->full_capitalization,
                      (unsigned long long)p->incremental_capitalization);
        else
            check_add(s, "incremental persistence", ADB_CHECK_FAIL,
                      "incremental_snapshot_persistence differs from what was loaded in:%s", bad);
    }

    snprintf(nm, sizeof nm, "%sname", pfx);
    if (!ai->name_ok) {
        if (s->opts.strict_name)
            check_add(s, nm, ADB_CHECK_FAIL, "'%s' does not follow the snapshot naming pattern",
                      ai->path);
        else
            check_add(s, nm, ADB_CHECK_SKIP,
                      "'%s' does not follow [incremental-]snapshot-<slot>-<hash>.tar.zst "
                      "(--strict-name makes this an error)",
                      strrchr(ai->path, '/') ? strrchr(ai->path, '/') + 1 : ai->path);
    } else if (!strcmp(era, "lattice")) {
        if (!memcmp(ai->name.hash.b, man_ck, 32))
            check_add(s, nm, ADB_CHECK_PASS,
                      "slot %llu, hash %s == lattice checksum of the manifest's accounts_lt_hash",
                      (unsigned long long)ai->name.slot, b58(ai->name.hash.b, x));
        else
            check_add(s, nm, ADB_CHECK_FAIL,
                      "name hash %s, but the manifest's lattice checksum is %s%s%s",
                      b58(ai->name.hash.b, x), b58(man_ck, y),
                      have_merkle ? " and the merkle hash is " : "",
                      have_merkle ? b58(merkle_named, (char[ACCTDB_BASE58_32_SZ]){0}) : "");
    } else {
        if (!memcmp(ai->name.hash.b, merkle_named, 32))
            check_add(s, nm, ADB_CHECK_PASS,
                      "slot %llu, hash %s == %s merkle accounts hash over %zu accounts%s",
                      (unsigned long long)ai->name.slot, b58(ai->name.hash.b, x),
                      is_inc ? "incremental" : "full", merkle_cnt,
                      m->extra.has_epoch_accounts_hash ? " (mixed with the epoch accounts hash)"
                                                       : "");
        else
            check_add(s, nm, ADB_CHECK_FAIL,
                      "name hash %s, computed %s merkle accounts hash %s over %zu accounts",
                      b58(ai->name.hash.b, x), is_inc ? "incremental" : "full",
                      b58(merkle_named, y), merkle_cnt);
    }

    if (s->opts.verify && has_lt) {
        snprintf(nm, sizeof nm, "%slattice hash", pfx);
        acctdb_lthash_t got = t.lthash;
        int             formula = t.formula;
        if (formula != ADB_DB_HASH_CURRENT) {
            rc = adb_db_lthash_live(s->db, ACCTDB_LTHASH_CURRENT, &got);
            if (rc) return adb_err_set(&s->err, rc, "hashing: %s", acctdb_strerror(rc));
            formula = ADB_DB_HASH_CURRENT;
        }
        bool ok = adb_lthash_eq(&got, &man_lt);
        if (!ok && strcmp(era, "lattice")) {
            rc = adb_db_lthash_live(s->db, ACCTDB_LTHASH_LEGACY, &got);
            if (rc) return adb_err_set(&s->err, rc, "hashing: %s", acctdb_strerror(rc));
            formula = ADB_DB_HASH_LEGACY;
            ok = adb_lthash_eq(&got, &man_lt);
        }
        uint8_t ck[32];
        adb_lthash_checksum(&got, ck);
        memcpy(s->lt_checksum, ck, 32);
        s->has_lt_checksum = true;
        s->formula = formula == ADB_DB_HASH_LEGACY ? "legacy (with rent_epoch)" : "current";
        if (ok)
            check_add(s, nm, ADB_CHECK_PASS,
                      "recomputed over %llu live accounts (%s formula): checksum %s == manifest",
                      (unsigned long long)t.live_cnt, s->formula, b58(ck, x));
        else
            check_add(s, nm, ADB_CHECK_FAIL,
                      "manifest accounts_lt_hash has checksum %s, recomputed over %llu live "
                      "accounts: %s",
                      b58(man_ck, x), (unsigned long long)t.live_cnt, b58(ck, y));
    } else if (has_lt) {
        memcpy(s->lt_checksum, man_ck, 32);
        s->has_lt_checksum = true;
    }
    if (s->opts.verify) {
        snprintf(nm, sizeof nm, "%scapitalization", pfx);
        check_u64(s, nm, m->bank.capitalization, t.capitalization);
        snprintf(nm, sizeof nm, "%saccounts_data_len", pfx);
        check_u64(s, nm, m->bank.accounts_data_len, t.data_len);
    }
    snprintf(nm, sizeof nm, "%sbank hash", pfx);
    char const *bh_era = adb_manifest_bank_hash_era(m);
    if (bh_era) {
        uint8_t bh[32];
        rc = adb_manifest_bank_hash(m, bh);
        if (rc) return adb_err_set(&s->err, rc, "bank hash: %s", acctdb_strerror(rc));
        if (!memcmp(bh, m->bank.hash.b, 32))
            check_add(s, nm, ADB_CHECK_PASS, "%s == manifest (%s formula)", b58(bh, x), bh_era);
        else
            check_add(s, nm, ADB_CHECK_FAIL, "manifest %s, computed %s (%s formula)",
                      b58(m->bank.hash.b, x), b58(bh, y), bh_era);
    } else {
        check_add(s, nm, ADB_CHECK_FAIL,
                  "the manifest carries neither an accounts delta hash nor a lattice hash, "
                  "so no era's bank hash can be computed");
    }
    return 0;
}

/* Status cache against the SlotHistory sysvar of the final state. */
static void
verify_status_cache(adb_snap_t *s, adb_archive_info_t *ai) {
    adb_status_cache_t sc;
    adb_err_t          e = {0};
    int rc = adb_status_cache_decode(ai->status_cache_raw, ai->status_cache_raw_sz, 0, &sc, &e);
    if (rc) {
        check_add(s, "status cache", ADB_CHECK_FAIL, "%s", e.msg);
        return;
    }
    uint8_t slot_history_id[32];
    adb_base58_decode_32(ADB_SYSVAR_SLOT_HISTORY_ID, strlen(ADB_SYSVAR_SLOT_HISTORY_ID),
                         slot_history_id);
    adb_db_acct_t a;
    uint8_t      *buf = NULL;
    size_t        cap = 0;
    rc = adb_db_get(s->db, slot_history_id, &a, &buf, &cap);
    if (rc) {
        check_add(s, "status cache", ADB_CHECK_FAIL,
                  "%llu slot deltas, but the SlotHistory sysvar account is missing",
                  (unsigned long long)sc.deltas_cnt);
    } else {
        adb_slot_history_t sh;
        rc = adb_sysvar_slot_history_decode(a.a.data, (size_t)a.a.data_len, &sh, &e);
        if (!rc) rc = adb_status_cache_verify(&sc, ai->manifest.bank.slot, &sh, &e);
        if (rc)
            check_add(s, "status cache", ADB_CHECK_FAIL, "%s", e.msg);
        else
            check_add(s, "status cache", ADB_CHECK_PASS,
                      "%llu slot deltas, all rooted and found in SlotHistory (newest %llu)",
                      (unsigned long long)sc.deltas_cnt,
                      (unsigned long long)adb_slot_history_newest(&sh));
    }
    adb_free(buf);
    adb_status_cache_fini(&sc);
}

/* ---- the bank checks (src/bank) ------------------------------------------------- */

static int
bulk_get(void *ctx, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t **buf, size_t *cap) {
    adb_db_acct_t a;
    int           rc = adb_db_get(ctx, key->b, &a, buf, cap);
    if (!rc) *out = a.a;
    return rc;
}

static int
bulk_each(void *ctx, acctdb_pubkey_t const *owner, int (*fn)(void *, acctdb_account_t const *),
          void *fctx) {
    return adb_db_owned_each(ctx, owner, fn, fctx);
}

static void
bank_check_cb(void *ctx, char const *name, int status, char const *detail) {
    check_add(ctx, name,
              status == ADB_BANK_CHECK_PASS   ? ADB_CHECK_PASS
              : status == ADB_BANK_CHECK_FAIL ? ADB_CHECK_FAIL
                                              : ADB_CHECK_SKIP,
              "%s", detail);
}

/* What loaders check of the final bank (bank.h, adb_bank_check). */
static void
verify_bank(adb_snap_t *s, adb_archive_info_t *ai) {
    adb_manifest_t const *m = &ai->manifest;
    adb_bank_src_t        src = {bulk_get, bulk_each, s->db};
    adb_bank_check_in_t   in = {
          .b = &m->bank,
          .x = &m->extra,
          .v41 = ADB_MANIFEST_HAS(m, ADB_MANIFEST_F_BLOCK_ID),
          .merkle_era = !m->extra.has_accounts_lt_hash,
          .genesis = s->opts.genesis,
          .src = &src,
    };
    adb_bank_check(&in, bank_check_cb, s);
}

static bool
all_pass(adb_snap_t const *s) {
    for (size_t i = 0; i < s->check_cnt; i++)
        if (s->checks[i].status == ADB_CHECK_FAIL) return false;
    return true;
}

/* The caller's stop flag, read between the steps of a load. */
static int
stop_check(adb_snap_t *s, char const *before) {
    if (!s->opts.stop || !*s->opts.stop) return 0;
    return adb_err_set(&s->err, ACCTDB_ERR_STOPPED, "stopped before %s (interrupted)", before);
}

int
adb_snap_load(adb_snap_t **snap_out, char const *full, char const *inc,
              adb_load_opts_t const *opts) {
    *snap_out = NULL;
    adb_snap_t *s = adb_calloc(1, sizeof *s);
    if (!s) return ACCTDB_ERR_NOMEM;
    *snap_out = s;
    if (opts)
        s->opts = *opts;
    else
        adb_load_opts_default(&s->opts);
    s->has_inc = inc != NULL;
    if (!s->opts.store_dir && !s->opts.manifest_only)
        return adb_err_set(&s->err, ACCTDB_ERR_INVALID, "no store directory given");

    adb_db_cfg_t cfg = {.dir = s->opts.store_dir, .threads = s->opts.threads, .io = s->opts.io};
    int          rc = 0;
    if (!s->opts.manifest_only) {
        rc = adb_db_bulk_create(&s->db, &cfg, &s->err);
        if (rc) return rc;
        /* The bank checks read vote and stake accounts by owner. */
        acctdb_pubkey_t const watch[2] = {*adb_vote_program_id(), *adb_stake_program_id()};
        adb_db_bulk_watch(s->db, watch, 2);
    }
    rc = load_archive(s, &s->full, full, false, 0);
    if (!rc && !s->opts.manifest_only) rc = stop_check(s, "verifying the full archive");
    if (!rc && s->opts.manifest_only && inc)
        rc = load_archive(s, &s->inc, inc, true, s->full.manifest.bank.slot);
    if (rc || s->opts.manifest_only) return rc;
    rc = verify_archive(s, &s->full, false, 0);
    if (rc) return rc;
    uint64_t full_slot = s->full.manifest.bank.slot;
    if (inc) {
        ADB_TRY(stop_check(s, "loading the incremental archive"));
        check_add(s, "base slot", ADB_CHECK_PASS,
                  "incremental base %llu == full snapshot slot %llu", (unsigned long long)full_slot,
                  (unsigned long long)full_slot);
        rc = load_archive(s, &s->inc, inc, true, full_slot);
        if (rc) {
            /* A base mismatch is a failed check too, so `verify` shows it. */
            if (rc == ACCTDB_ERR_MISMATCH) s->checks[s->check_cnt - 1].status = ADB_CHECK_FAIL;
            return rc;
        }
        ADB_TRY(stop_check(s, "verifying the incremental archive"));
        rc = verify_archive(s, &s->inc, true, full_slot);
        if (rc) return rc;
    }
    ADB_TRY(stop_check(s, "the bank checks"));
    adb_archive_info_t *last = inc ? &s->inc : &s->full;
    if (s->opts.verify) {
        verify_status_cache(s, last);
        verify_bank(s, last);
    }
    s->verified = all_pass(s);
    if (!s->verified) return s->err.code ? s->err.code : ACCTDB_ERR_MISMATCH;
    ADB_TRY(stop_check(s, "writing the root record"));

    adb_db_meta_t meta = {.slot = last->manifest.bank.slot,
                          .base_slot = inc ? full_slot : UINT64_MAX,
                          .totals = s->totals,
                          .last_full_slot = full_slot,
                          .origin_slot = last->manifest.bank.slot};
    adb_snap_root_info(&last->manifest, &meta.root);
    bool current =
        last->manifest.extra.has_accounts_lt_hash && s->formula && !strcmp(s->formula, "current");
    if (s->opts.engine_root && !current) {
        rc = adb_db_lthash_live(s->db, ACCTDB_LTHASH_CURRENT, &meta.root.lt_hash);
        if (rc) return adb_err_set(&s->err, rc, "%s", adb_db_errmsg(s->db));
        adb_lthash_checksum(&meta.root.lt_hash, meta.root.lt_checksum);
    }
    rc = adb_db_commit_load(s->db, &meta, last->manifest_raw, last->manifest_raw_sz,
                            last->status_cache_raw, last->status_cache_raw_sz);
    if (rc) return adb_err_set(&s->err, rc, "%s", adb_db_errmsg(s->db));
    s->complete = true;
    return 0;
}

static void
archive_fini(adb_archive_info_t *ai) {
    adb_manifest_fini(&ai->manifest);
    adb_free(ai->manifest_raw);
    adb_free(ai->status_cache_raw);
}

void
adb_snap_close(adb_snap_t *s) {
    if (!s) return;
    adb_db_close(s->db);
    archive_fini(&s->full);
    archive_fini(&s->inc);
    adb_free(s);
}
