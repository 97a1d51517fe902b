/* Tests for frame-parallel zstd decompression: on valid multi-frame
 * streams, truncated ones, corrupted frames and trailing garbage, fed in
 * random read sizes, it must produce what the sequential decompressor
 * produces (the same bytes, the same frame count, an error exactly when the
 * sequential one errs, and the same verdict at the end of input). */
#include "../test.h"

#include "snapshot/stream.h"
#include "util/rng.h"

#include <stdlib.h>

typedef struct obuf {
    uint8_t *p;
    size_t   n, cap;
} obuf_t;

static void
ob_put(obuf_t *b, void const *p, size_t n) {
    if (!n) return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static int
to_obuf(void *ctx, void const *p, size_t sz) {
    ob_put(ctx, p, sz);
    return 0;
}

typedef struct res {
    obuf_t   out;
    int      rc;
    bool     at_end;
    uint64_t frames;
} res_t;

/* Runs the loader's loop over stream s (n bytes) in reads of random size,
 * with threads decompression threads (0: sequential). */
static void
run(uint8_t const *s, size_t n, unsigned threads, uint64_t seed, res_t *r) {
    memset(r, 0, sizeof *r);
    adb_decomp_t *d;
    assert_int_equal(adb_decomp_open(&d, ADB_COMP_ZSTD, NULL), 0);
    assert_int_equal(adb_decomp_set_threads(d, threads), 0);
    adb_rng_t rng = adb_rng_seed(seed);
    size_t    off = 0;
    uint8_t  *chunk = malloc(1 << 20);
    bool      eof = false;
    while (!r->rc && !eof) {
        size_t want = 1 + (size_t)adb_rng_below(&rng, 3u << 20); /* ADB_MIN evaluates twice */
        size_t got = ADB_MIN(n - off, want);
        if (got == 0) {
            eof = true;
            adb_decomp_end_input(d);
        }
        uint8_t const *p = s + off;
        size_t         left = got;
        for (;;) {
            size_t used, made;
            r->rc = adb_decomp_run(d, p, left, &used, chunk, 1 << 20, &made);
            if (r->rc) break;
            p += used;
            left -= used;
            ob_put(&r->out, chunk, made);
            if (!used && !made) break;
        }
        assert_true(r->rc || left == 0);
        off += got;
    }
    r->at_end = adb_decomp_at_frame_end(d);
    r->frames = adb_decomp_frames(d);
    free(chunk);
    adb_decomp_close(d);
}

/* A stream of nf frames of varied, partly compressible data. */
static void
make_stream(obuf_t *plain, obuf_t *z, int nf, uint64_t seed) {
    adb_comp_t *c;
    assert_int_equal(adb_comp_open(&c, 1, 0, to_obuf, z), 0);
    adb_rng_t rng = adb_rng_seed(seed);
    uint8_t  *tmp = malloc(4u << 20);
    for (int f = 0; f < nf; f++) {
        size_t sz = adb_rng_below(&rng, 4u << 20);
        for (size_t i = 0; i < sz; i += 64) {
            size_t k = ADB_MIN((size_t)64, sz - i);
            if (adb_rng_below(&rng, 3) == 0)
                adb_rng_fill(&rng, tmp + i, k);
            else
                memset(tmp + i, (int)(i >> 12), k);
        }
        ob_put(plain, tmp, sz);
        assert_int_equal(adb_comp_write(c, tmp, sz), 0);
        assert_int_equal(adb_comp_end_frame(c), 0);
    }
    adb_comp_close(c);
    free(tmp);
}

static void
same(res_t const *a, res_t const *b) {
    assert_int_equal(a->rc != 0, b->rc != 0);
    if (!a->rc) {
        assert_int_equal(a->out.n, b->out.n);
        assert_memory_equal(a->out.p, b->out.p, a->out.n);
        assert_int_equal(a->frames, b->frames);
        assert_int_equal(a->at_end, b->at_end);
    } else {
        /* Both stop at the bad frame: what came before is the same. */
        size_t m = ADB_MIN(a->out.n, b->out.n);
        assert_memory_equal(a->out.p, b->out.p, m);
    }
}

static void
test_matches_sequential(void **state) {
    (void)state;
    obuf_t plain = {0}, z = {0};
    make_stream(&plain, &z, 12, 3);
    res_t seq, par;
    run(z.p, z.n, 0, 1, &seq);
    assert_int_equal(seq.rc, 0);
    assert_true(seq.at_end);
    assert_int_equal(seq.out.n, plain.n);
    assert_memory_equal(seq.out.p, plain.p, plain.n);
    for (unsigned t = 1; t <= 3; t++) {
        run(z.p, z.n, t, 100 + t, &par);
        same(&seq, &par);
        assert_int_equal(par.frames, 12);
        free(par.out.p);
    }
    free(seq.out.p);

    /* Cut short at random points: the end-of-input verdict agrees. */
    adb_rng_t rng = adb_rng_seed(9);
    size_t    cuts = adb_test_scaled(12);
    for (size_t k = 0; k < cuts; k++) {
        size_t n = adb_rng_below(&rng, z.n);
        run(z.p, n, 0, k, &seq);
        run(z.p, n, 2, k + 1, &par);
        same(&seq, &par);
        assert_false(par.rc == 0 && par.at_end && n < z.n && par.out.n == plain.n);
        free(seq.out.p);
        free(par.out.p);
    }

    /* A flipped byte somewhere: both fail, or both give the same bytes
     * (zstd's frame checksum catches a flip in the data). */
    for (size_t k = 0; k < cuts; k++) {
        uint8_t *bad = malloc(z.n);
        memcpy(bad, z.p, z.n);
        bad[adb_rng_below(&rng, z.n)] ^= (uint8_t)(1u << adb_rng_below(&rng, 8));
        run(bad, z.n, 0, k, &seq);
        run(bad, z.n, 2, k + 7, &par);
        same(&seq, &par);
        free(seq.out.p);
        free(par.out.p);
        free(bad);
    }

    /* Garbage after the last frame: both name the same error. */
    obuf_t g = {0};
    ob_put(&g, z.p, z.n);
    ob_put(&g, "not a zstd frame at all", 23);
    run(g.p, g.n, 0, 1, &seq);
    run(g.p, g.n, 2, 2, &par);
    assert_int_not_equal(seq.rc, 0);
    same(&seq, &par);
    free(seq.out.p);
    free(par.out.p);
    free(g.p);
    free(plain.p);
    free(z.p);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_matches_sequential),
};
ADB_TEST_GROUP(pdecomp_concurrency, tests);
