/* src/snapshot/stream.c - zstd / LZ4 decompression with limits, and zstd
 * multi-frame compression. */
#include "snapshot/stream.h"

#include <lz4frame.h>
#include <pthread.h>
#include <stdio.h>
#include <zstd.h>
#include <zstd_errors.h>

typedef struct par par_t;

struct adb_decomp {
    adb_comp_kind_t     kind;
    adb_decomp_limits_t lim;
    ZSTD_DCtx          *zd;
    LZ4F_dctx          *ld;
    bool                in_frame; /* a frame has started and not ended */
    uint64_t            in_total, out_total, frames;
    uint64_t            seq_off; /* compressed offset of what zd gets next */
    par_t              *par;     /* frame-parallel zstd, or NULL */
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

static void par_free(par_t *p);

void
adb_decomp_close(adb_decomp_t *d) {
    if (!d) return;
    par_free(d->par);
    ZSTD_freeDCtx(d->zd);
    if (d->ld) LZ4F_freeDecompressionContext(d->ld);
    adb_free(d);
}

/* The message of zstd error r at compressed offset off (the sequential and
 * the frame-parallel paths word it alike). */
static void
zstd_errmsg(char *msg, size_t max, size_t r, uint64_t off) {
    snprintf(msg, max, "zstd: in the data after compressed offset %llu: %s%s",
             (unsigned long long)off, ZSTD_getErrorName(r),
             ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge
                 ? " (window larger than the configured limit)"
                 : "");
}

/* The limits on what came out so far. */
static int
check_limits(adb_decomp_t *d) {
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

/* One step of the sequential decompressor (counts *used and *made; the
 * caller adds them to the totals). */
static int
seq_run(adb_decomp_t *d, void const *in, size_t in_sz, size_t *used_out, void *out, size_t out_max,
        size_t *made_out) {
    *used_out = *made_out = 0;
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
                char msg[ADB_ERRMSG_SZ];
                zstd_errmsg(msg, sizeof msg, r, d->seq_off + ib.pos);
                return adb_err_set(&d->err, ACCTDB_ERR_CORRUPT, "%s", msg);
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
                               (unsigned long long)d->seq_off, LZ4F_getErrorName(r));
        if (isz || osz) d->in_frame = true;
        if (r == 0 && (isz || osz)) {
            d->in_frame = false;
            d->frames++;
        }
        used = isz;
        made = osz;
    }
    d->seq_off += used;
    *used_out = used;
    *made_out = made;
    return 0;
}

static int par_run(adb_decomp_t *d, void const *in, size_t in_sz, size_t *used, void *out,
                   size_t out_max, size_t *made);

int
adb_decomp_run(adb_decomp_t *d, void const *in, size_t in_sz, size_t *in_used_out, void *out,
               size_t out_max, size_t *out_sz_out) {
    *in_used_out = *out_sz_out = 0;
    if (d->err.code) return d->err.code;
    size_t used = 0, made = 0;
    int    rc = d->par ? par_run(d, in, in_sz, &used, out, out_max, &made)
                       : seq_run(d, in, in_sz, &used, out, out_max, &made);
    d->in_total += used;
    d->out_total += made;
    *in_used_out = used;
    *out_sz_out = made;
    if (rc) return rc;
    return check_limits(d);
}

/* ---- frame-parallel zstd ------------------------------------------------ */
/* The reader cuts the compressed stream at frame boundaries (the archive
 * writers close a frame every few tens of MiB) and hands whole frames to
 * worker threads, each decompressing its frame ahead into a buffer of its
 * own; the output is delivered in stream order.  Bounded: at most nj frames
 * in flight, a frame taken whole only up to PAR_ASM_CAP compressed bytes,
 * and a worker stops at PAR_OUT_CAP bytes of output (the reader then goes
 * on with that frame itself).  A frame larger than PAR_ASM_CAP, bytes that
 * are not a frame, and a truncated last frame go to the sequential
 * decompressor, once the frames before them are delivered, so every error
 * reads exactly as it does sequentially. */
#define PAR_ASM_CAP ((size_t)48 << 20)
#define PAR_OUT_CAP ((size_t)48 << 20)

enum { J_FREE = 0, J_QUEUED, J_RUNNING, J_DONE };

typedef struct pjob {
    int        state;
    uint8_t   *in; /* the whole frame */
    size_t     in_sz, in_pos;
    uint64_t   in_off; /* its compressed offset */
    ZSTD_DCtx *zd;
    uint8_t   *out;             /* PAR_OUT_CAP bytes, touched as written */
    size_t     out_sz, out_pos; /* made, delivered */
    bool       ended;
    int        err;
    char       msg[ADB_ERRMSG_SZ];
} pjob_t;

struct par {
    pthread_mutex_t mu;
    pthread_cond_t  cv_work, cv_done;
    pthread_t      *thr;
    unsigned        nthr, started;
    pjob_t         *jobs; /* a ring: head is delivered next, cnt in flight */
    unsigned        nj, head, cnt;
    bool            stop;
    uint8_t        *asm_buf; /* compressed bytes not yet cut into frames */
    size_t          asm_len, seq_fed;
    uint64_t        asm_off;
    bool            eof, to_seq, seq;
};

/* Decompresses j until its frame ends, its output buffer is full or an
 * error (outside the lock). */
static void
job_step(pjob_t *j) {
    ZSTD_inBuffer  ib = {j->in, j->in_sz, j->in_pos};
    ZSTD_outBuffer ob = {j->out, PAR_OUT_CAP, j->out_sz};
    while (ob.pos < ob.size && !j->ended) {
        size_t bi = ib.pos, bo = ob.pos;
        size_t r = ZSTD_decompressStream(j->zd, &ob, &ib);
        if (ZSTD_isError(r)) {
            j->err = ACCTDB_ERR_CORRUPT;
            zstd_errmsg(j->msg, sizeof j->msg, r, j->in_off + ib.pos);
            break;
        }
        if (r == 0) j->ended = true;
        if (!j->ended && ib.pos == bi && ob.pos == bo) { /* a whole frame cannot stall */
            j->err = ACCTDB_ERR_CORRUPT;
            snprintf(j->msg, sizeof j->msg,
                     "zstd: the frame at compressed offset %llu ends before its last block",
                     (unsigned long long)j->in_off);
            break;
        }
    }
    j->in_pos = ib.pos;
    j->out_sz = ob.pos;
}

static void *
par_worker(void *arg) {
    par_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        pjob_t *j = NULL;
        while (!p->stop) {
            for (unsigned k = 0; k < p->cnt && !j; k++) {
                pjob_t *c = &p->jobs[(p->head + k) % p->nj];
                if (c->state == J_QUEUED) j = c;
            }
            if (j) break;
            pthread_cond_wait(&p->cv_work, &p->mu);
        }
        if (p->stop) break;
        j->state = J_RUNNING;
        pthread_mutex_unlock(&p->mu);
        job_step(j);
        pthread_mutex_lock(&p->mu);
        j->state = J_DONE;
        pthread_cond_broadcast(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void
par_free(par_t *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->thr[i], NULL);
    for (unsigned i = 0; p->jobs && i < p->nj; i++) {
        adb_free(p->jobs[i].in);
        adb_free(p->jobs[i].out);
        ZSTD_freeDCtx(p->jobs[i].zd);
    }
    adb_free(p->jobs);
    adb_free(p->thr);
    adb_free(p->asm_buf);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    adb_free(p);
}

int
adb_decomp_set_threads(adb_decomp_t *d, unsigned threads) {
    if (d->kind != ADB_COMP_ZSTD || threads == 0 || d->par || d->in_total) return 0;
    par_t *p = adb_calloc(1, sizeof *p);
    if (!p) return ACCTDB_ERR_NOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    p->nthr = threads;
    p->nj = threads + 2;
    p->jobs = adb_calloc(p->nj, sizeof *p->jobs);
    p->thr = adb_calloc(threads, sizeof *p->thr);
    p->asm_buf = adb_malloc(PAR_ASM_CAP);
    bool ok = p->jobs && p->thr && p->asm_buf;
    for (unsigned i = 0; ok && i < p->nj; i++) {
        p->jobs[i].zd = ZSTD_createDCtx();
        p->jobs[i].out = adb_malloc(PAR_OUT_CAP);
        p->jobs[i].in = adb_malloc(PAR_ASM_CAP);
        ok = p->jobs[i].zd && p->jobs[i].out && p->jobs[i].in &&
             !ZSTD_isError(ZSTD_DCtx_setParameter(p->jobs[i].zd, ZSTD_d_windowLogMax,
                                                  (int)d->lim.window_log_max));
    }
    for (unsigned i = 0; ok && i < threads; i++) {
        ok = pthread_create(&p->thr[i], NULL, par_worker, p) == 0;
        if (ok) p->started++;
    }
    if (!ok) {
        par_free(p);
        return ACCTDB_ERR_NOMEM;
    }
    d->par = p;
    return 0;
}

void
adb_decomp_end_input(adb_decomp_t *d) {
    if (d->par) d->par->eof = true;
}

/* Cuts whole frames off the front of the assembled bytes into free job
 * slots (mutex not held: only the reader changes asm and free slots). */
static void
cut_frames(par_t *p) {
    while (!p->to_seq && p->asm_len) {
        size_t fs = ZSTD_findFrameCompressedSize(p->asm_buf, p->asm_len);
        if (ZSTD_isError(fs)) {
            /* Not a frame (the sequential path names what is wrong), a
             * frame too large to take whole, or a last frame cut short. */
            if (ZSTD_getErrorCode(fs) != ZSTD_error_srcSize_wrong || p->asm_len == PAR_ASM_CAP ||
                p->eof)
                p->to_seq = true;
            return;
        }
        pthread_mutex_lock(&p->mu);
        bool room = p->cnt < p->nj;
        pthread_mutex_unlock(&p->mu);
        if (!room) return;
        /* The job takes the buffer and gives its old one (already faulted
         * in), which gets what follows the frame (usually less than one
         * read). */
        pjob_t  *j = &p->jobs[(p->head + p->cnt) % p->nj];
        uint8_t *nb = j->in;
        memcpy(nb, p->asm_buf + fs, p->asm_len - fs);
        j->in = p->asm_buf;
        j->in_sz = fs;
        j->in_pos = 0;
        j->in_off = p->asm_off;
        j->out_sz = j->out_pos = 0;
        j->ended = false;
        j->err = 0;
        ZSTD_DCtx_reset(j->zd, ZSTD_reset_session_only);
        p->asm_buf = nb;
        p->asm_len -= fs;
        p->asm_off += fs;
        pthread_mutex_lock(&p->mu);
        j->state = J_QUEUED;
        p->cnt++;
        pthread_cond_signal(&p->cv_work);
        pthread_mutex_unlock(&p->mu);
    }
}

static int
par_run(adb_decomp_t *d, void const *in, size_t in_sz, size_t *used, void *out, size_t out_max,
        size_t *made) {
    par_t *p = d->par;
    *used = *made = 0;
    if (p->seq) {
        if (p->seq_fed < p->asm_len) { /* the bytes taken before the switch first */
            size_t u = 0;
            int rc = seq_run(d, p->asm_buf + p->seq_fed, p->asm_len - p->seq_fed, &u, out, out_max,
                             made);
            p->seq_fed += u;
            if (rc || *made || u) return rc;
        }
        return seq_run(d, in, in_sz, used, out, out_max, made);
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        pjob_t *h = p->cnt ? &p->jobs[p->head] : NULL;
        bool    ready = h && h->state == J_DONE;
        pthread_mutex_unlock(&p->mu);
        if (ready && h->out_pos < h->out_sz) {
            size_t n = ADB_MIN(out_max, h->out_sz - h->out_pos);
            memcpy(out, h->out + h->out_pos, n);
            h->out_pos += n;
            *made = n;
            return 0;
        }
        if (ready) { /* all of its output delivered */
            if (h->err) return adb_err_set(&d->err, h->err, "%s", h->msg);
            if (!h->ended) { /* past PAR_OUT_CAP: the reader goes on with it */
                h->out_sz = h->out_pos = 0;
                job_step(h);
                continue;
            }
            d->frames++;
            pthread_mutex_lock(&p->mu);
            h->state = J_FREE;
            p->head = (p->head + 1) % p->nj;
            p->cnt--;
            pthread_mutex_unlock(&p->mu);
            d->in_frame = p->cnt > 0;
            cut_frames(p);
            continue;
        }
        if (*used < in_sz && p->asm_len < PAR_ASM_CAP && !p->to_seq) {
            size_t n = ADB_MIN(in_sz - *used, PAR_ASM_CAP - p->asm_len);
            memcpy(p->asm_buf + p->asm_len, (uint8_t const *)in + *used, n);
            p->asm_len += n;
            *used += n;
            cut_frames(p);
            d->in_frame = p->cnt > 0 || p->asm_len > 0;
            continue;
        }
        if (*used) return 0; /* took input: the caller reads more */
        if (p->eof && !p->to_seq) cut_frames(p);
        if (p->cnt == 0) {
            if (!p->to_seq) return 0;
            /* Everything before is delivered: sequential from here. */
            p->seq = true;
            p->seq_fed = 0;
            d->seq_off = p->asm_off;
            d->in_frame = false;
            return par_run(d, in, in_sz, used, out, out_max, made);
        }
        if (!in_sz && !p->eof && !p->to_seq) return 0; /* more input may cut more frames */
        /* Nothing to take and nothing ready: wait for the next frame. */
        pthread_mutex_lock(&p->mu);
        while (p->jobs[p->head].state != J_DONE)
            pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
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
