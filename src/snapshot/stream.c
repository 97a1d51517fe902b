/* src/snapshot/stream.c - zstd / LZ4 decompression with limits, and zstd
 * multi-frame compression. */
#include "snapshot/stream.h"

#include <lz4frame.h>
#include <stdio.h>
#include <zstd.h>
#include <zstd_errors.h>

struct adb_decomp {
    adb_comp_kind_t     kind;
    adb_decomp_limits_t lim;
    ZSTD_DCtx          *zd;
    LZ4F_dctx          *ld;
    bool                in_frame; /* a frame has started and not ended */
    uint64_t            in_total, out_total, frames;
    adb_err_t           err;
};

adb_comp_kind_t
adb_comp_detect(uint8_t const *h, size_t sz, char const **what_out) {
    char const *dummy;
    if (!what_out) what_out = &dummy;
    *what_out = "unknown";
    if (sz < 4) {
        *what_out = "too short to be an archive";
        return ADB_COMP_UNKNOWN;
    }
    uint32_t m = adb_load_u32(h);
    if (m == 0xFD2FB528u) return (*what_out = "zstd", ADB_COMP_ZSTD);
    if (m == 0x184D2204u) return (*what_out = "lz4", ADB_COMP_LZ4);
    if (h[0] == 0x1f && h[1] == 0x8b)
        *what_out = "gzip (not accepted by current Agave)";
    else if (h[0] == 'B' && h[1] == 'Z' && h[2] == 'h')
        *what_out = "bzip2 (not accepted by current Agave)";
    else if (h[0] == 0xFD && h[1] == '7' && h[2] == 'z' && h[3] == 'X')
        *what_out = "xz";
    else if ((m & 0xFFFFFFF0u) == 0x184D2A50u)
        *what_out = "a zstd skippable frame first (not a snapshot)";
    else if (sz >= 263 && !memcmp(h + 257, "ustar", 5))
        *what_out = "an uncompressed tar (not accepted by current Agave)";
    return ADB_COMP_UNKNOWN;
}

void
adb_decomp_limits_default(adb_decomp_limits_t *l) {
    l->window_log_max = 27;
    l->max_out_sz = 64ull << 40;
    l->max_ratio = 2000;
}

int
adb_decomp_open(adb_decomp_t **d_out, adb_comp_kind_t kind, adb_decomp_limits_t const *lim) {
    *d_out = NULL;
    if (kind != ADB_COMP_ZSTD && kind != ADB_COMP_LZ4) return ACCTDB_ERR_INVALID;
    adb_decomp_t *d = adb_calloc(1, sizeof *d);
    if (!d) return ACCTDB_ERR_NOMEM;
    d->kind = kind;
    if (lim)
        d->lim = *lim;
    else
        adb_decomp_limits_default(&d->lim);
    if (kind == ADB_COMP_ZSTD) {
        d->zd = ZSTD_createDCtx();
        if (!d->zd || ZSTD_isError(ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax,
                                                          (int)d->lim.window_log_max))) {
            adb_decomp_close(d);
            return ACCTDB_ERR_NOMEM;
        }
    } else {
        if (LZ4F_isError(LZ4F_createDecompressionContext(&d->ld, LZ4F_VERSION))) {
            adb_decomp_close(d);
            return ACCTDB_ERR_NOMEM;
        }
    }
    *d_out = d;
    return 0;
}

void
adb_decomp_close(adb_decomp_t *d) {
    if (!d) return;
    ZSTD_freeDCtx(d->zd);
    if (d->ld) LZ4F_freeDecompressionContext(d->ld);
    adb_free(d);
}

int
adb_decomp_run(adb_decomp_t *d, void const *in, size_t in_sz, size_t *in_used_out, void *out,
               size_t out_max, size_t *out_sz_out) {
    *in_used_out = *out_sz_out = 0;
    if (d->err.code) return d->err.code;
    size_t used = 0, made = 0;
    if (d->kind == ADB_COMP_ZSTD) {
        ZSTD_inBuffer  ib = {in, in_sz, 0};
        ZSTD_outBuffer ob = {out, out_max, 0};
        /* Loop so that a frame boundary inside the input does not stop us
         * early; stop when input is used up or output is full. */
        while (ib.pos < ib.size && ob.pos < ob.size) {
            size_t before_in = ib.pos, before_out = ob.pos;
            size_t r = ZSTD_decompressStream(d->zd, &ob, &ib);
            if (ZSTD_isError(r)) {
                ZSTD_ErrorCode ec = ZSTD_getErrorCode(r);
                return adb_err_set(&d->err, ACCTDB_ERR_CORRUPT,
                                   "zstd: in the data after compressed offset %llu: %s%s",
                                   (unsigned long long)(d->in_total + ib.pos), ZSTD_getErrorName(r),
                                   ec == ZSTD_error_frameParameter_windowTooLarge
                                       ? " (window larger than the configured limit)"
                                       : "");
            }
            bool progress = ib.pos > before_in || ob.pos > before_out;
            if (!progress) break;
            d->in_frame = r != 0;
            if (r == 0) d->frames++;
        }
        used = ib.pos;
        made = ob.pos;
    } else {
        size_t isz = in_sz, osz = out_max;
        size_t r = LZ4F_decompress(d->ld, out, &osz, in, &isz, NULL);
        if (LZ4F_isError(r))
            return adb_err_set(&d->err, ACCTDB_ERR_CORRUPT,
                               "lz4: in the data after compressed offset %llu: %s",
                               (unsigned long long)d->in_total, LZ4F_getErrorName(r));
        if (isz || osz) d->in_frame = true;
        if (r == 0 && (isz || osz)) {
            d->in_frame = false;
            d->frames++;
        }
        used = isz;
        made = osz;
    }
    d->in_total += used;
    d->out_total += made;
    *in_used_out = used;
    *out_sz_out = made;
    if (d->out_total > d->lim.max_out_sz)
        return adb_err_set(&d->err, ACCTDB_ERR_FULL,
                           "decompressed size exceeds the limit of %llu bytes",
                           (unsigned long long)d->lim.max_out_sz);
    if (d->out_total > (256ull << 20) && d->in_total &&
        d->out_total / d->in_total > d->lim.max_ratio)
        return adb_err_set(&d->err, ACCTDB_ERR_FULL,
                           "decompression ratio over %u:1 (%llu bytes from %llu): refusing "
                           "a likely decompression bomb",
                           d->lim.max_ratio, (unsigned long long)d->out_total,
                           (unsigned long long)d->in_total);
    return 0;
}

bool
adb_decomp_at_frame_end(adb_decomp_t const *d) {
    return !d->in_frame && d->frames > 0;
}

uint64_t
adb_decomp_in_total(adb_decomp_t const *d) {
    return d->in_total;
}
uint64_t
adb_decomp_out_total(adb_decomp_t const *d) {
    return d->out_total;
}
uint64_t
adb_decomp_frames(adb_decomp_t const *d) {
    return d->frames;
}
char const *
adb_decomp_errmsg(adb_decomp_t const *d) {
    return d->err.msg;
}

/* ---- compressor --------------------------------------------------------- */

struct adb_comp {
    ZSTD_CCtx      *zc;
    adb_comp_out_fn out;
    void           *ctx;
    uint8_t        *buf;
    size_t          buf_sz;
    uint64_t        in_total, out_total;
};

int
adb_comp_open(adb_comp_t **c_out, int level, unsigned workers, adb_comp_out_fn out, void *ctx) {
    *c_out = NULL;
    adb_comp_t *c = adb_calloc(1, sizeof *c);
    if (!c) return ACCTDB_ERR_NOMEM;
    c->out = out;
    c->ctx = ctx;
    c->buf_sz = ZSTD_CStreamOutSize() * 4;
    c->buf = adb_malloc(c->buf_sz);
    c->zc = ZSTD_createCCtx();
    if (!c->buf || !c->zc) {
        adb_comp_close(c);
        return ACCTDB_ERR_NOMEM;
    }
    ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1);
    if (workers > 0) ZSTD_CCtx_setParameter(c->zc, ZSTD_c_nbWorkers, (int)workers);
    *c_out = c;
    return 0;
}

void
adb_comp_close(adb_comp_t *c) {
    if (!c) return;
    ZSTD_freeCCtx(c->zc);
    adb_free(c->buf);
    adb_free(c);
}

static int
pump(adb_comp_t *c, void const *p, size_t sz, ZSTD_EndDirective mode) {
    ZSTD_inBuffer ib = {p, sz, 0};
    for (;;) {
        ZSTD_outBuffer ob = {c->buf, c->buf_sz, 0};
        size_t         r = ZSTD_compressStream2(c->zc, &ob, &ib, mode);
        if (ZSTD_isError(r)) return ACCTDB_ERR_FATAL;
        if (ob.pos) {
            int rc = c->out(c->ctx, c->buf, ob.pos);
            if (rc) return rc;
            c->out_total += ob.pos;
        }
        bool done = mode == ZSTD_e_continue ? ib.pos == ib.size : r == 0;
        if (done) break;
    }
    c->in_total += sz;
    return 0;
}

int
adb_comp_write(adb_comp_t *c, void const *p, size_t sz) {
    return sz ? pump(c, p, sz, ZSTD_e_continue) : 0;
}

int
adb_comp_end_frame(adb_comp_t *c) {
    return pump(c, NULL, 0, ZSTD_e_end);
}

uint64_t
adb_comp_in_total(adb_comp_t const *c) {
    return c->in_total;
}
uint64_t
adb_comp_out_total(adb_comp_t const *c) {
    return c->out_total;
}
