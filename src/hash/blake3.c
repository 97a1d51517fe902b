/* src/hash/blake3.c - the BLAKE3 hasher (chunks, tree, output), the choice
 * of kernel set, the 2048-byte batch driver, and the public acctdb_blake3_*
 * functions.  The compression kernels live in blake3_<isa>.c.
 *
 * TREE.  The input is cut into 1024-byte chunks; each chunk's chaining
 * value (CV) is a leaf, and a parent's CV is the compression of its two
 * children's CVs.  The tree is left-complete: every left subtree holds a
 * power of two chunks.  The hasher keeps the CVs of complete subtrees on a
 * stack, largest first, and merges the two on top only once it knows more
 * input follows (a merge done too early could be the root, which must be
 * compressed with ROOT instead).  Whenever the current chunk holds input,
 * the stack holds exactly popcount(chunk_ctr) entries, one per set bit of
 * the number of chunks before it.
 *
 *   chunks:   [0][1][2][3][4][5] [6: partial, in h->buf]
 *   stack:    CV(0..3) CV(4..5)
 *   final:    root = P(CV(0..3), P(CV(4..5), CV(6)))
 *
 * BULK.  When update() holds at least a chunk of input at a chunk boundary,
 * it hashes every whole chunk with hash_many, 32/16/8 chunks per pass, then
 * reduces them level by level with hash_many on adjacent pairs.  Nodes that
 * have no partner inside the piece (at its left edge, the right half of a
 * subtree begun earlier; at its right edge, the left half of one that
 * continues) are pushed in tree order, merging lazily as above.  The chunk
 * CV does not depend on what follows, so even the input's last chunk goes
 * this way when the input ends on a chunk boundary; the stack then ends
 * with at least two entries, which finalize or the next update merges.
 * The only chunk held back is a message's first when it is all there is
 * (it may be the root). */
#include "hash/blake3_private.h"

#include <pthread.h>
#include <time.h>

/* ======================================================================== */
/* Implementation choice                                                    */
/* ======================================================================== */

static adb_b3_ops_t const *const k_ops[ADB_BLAKE3_IMPL_CNT] = {
    &adb_blake3_ops_portable,
    &adb_blake3_ops_sse41,
    &adb_blake3_ops_avx2,
    &adb_blake3_ops_avx512,
};

static char const *const k_names[ADB_BLAKE3_IMPL_CNT + 1] = {"portable", "sse41", "avx2", "avx512",
                                                             "auto"};

/* Each implementation's kernels as used: a copy of k_ops[i] whose one-block
 * compressions may be the portable ones (see adb_blake3_one_set).  Filled
 * once, at the first use. */
static adb_b3_ops_t     g_tables[ADB_BLAKE3_IMPL_CNT];
static bool             g_simd_one_wins[ADB_BLAKE3_IMPL_CNT];
static adb_blake3_one_t g_one_mode = ADB_BLAKE3_ONE_AUTO;
static pthread_once_t   g_tables_once = PTHREAD_ONCE_INIT;

/* The table in use: NULL until the first use chooses; read and written
 * atomically so that concurrent first uses agree (they compute the same
 * value). */
static adb_b3_ops_t const *g_ops;

bool
adb_blake3_impl_supported(adb_blake3_impl_t impl) {
    __builtin_cpu_init();
    bool sse41 = __builtin_cpu_supports("sse4.1");
    bool avx2 = sse41 && __builtin_cpu_supports("avx2");
    switch (impl) {
    case ADB_BLAKE3_IMPL_PORTABLE:
    case ADB_BLAKE3_IMPL_AUTO:
        return true;
    case ADB_BLAKE3_IMPL_SSE41:
        return sse41;
    case ADB_BLAKE3_IMPL_AVX2:
        return avx2;
    case ADB_BLAKE3_IMPL_AVX512:
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw");
    }
    return false;
}

adb_blake3_impl_t
adb_blake3_impl_best(void) {
    for (int i = ADB_BLAKE3_IMPL_CNT - 1; i > 0; i--)
        if (adb_blake3_impl_supported((adb_blake3_impl_t)i)) return (adb_blake3_impl_t)i;
    return ADB_BLAKE3_IMPL_PORTABLE;
}

static double
now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* The best of a few timings of a chain of one-block compressions. */
static double
one_time(adb_b3_ops_t const *o) {
    uint8_t  blk[64];
    uint32_t cv[8];
    double   best = 1e300;
    memset(blk, 0x5A, sizeof blk);
    memcpy(cv, adb_blake3_iv, sizeof cv);
    for (int trial = 0; trial < 7; trial++) {
        double t0 = now_ns();
        for (int i = 0; i < 32; i++)
            o->compress_cv(cv, blk, (uint64_t)i, 64, 0);
        double t = now_ns() - t0;
        best = t < best ? t : best;
    }
    return best;
}

static void
tables_apply(void) {
    for (int i = 0; i < ADB_BLAKE3_IMPL_CNT; i++) {
        bool simd = g_one_mode == ADB_BLAKE3_ONE_SIMD ||
                    (g_one_mode == ADB_BLAKE3_ONE_AUTO && g_simd_one_wins[i]);
        adb_b3_ops_t const *one = simd ? k_ops[i] : &adb_blake3_ops_portable;
        g_tables[i].compress_cv = one->compress_cv;
        g_tables[i].compress_xof = one->compress_xof;
    }
}

/* Copies the kernel tables and times each SIMD implementation's one-block
 * compression against the portable one (about 0.1 ms, once). */
static void
tables_init(void) {
    double scalar = one_time(&adb_blake3_ops_portable);
    for (int i = 0; i < ADB_BLAKE3_IMPL_CNT; i++) {
        g_tables[i] = *k_ops[i];
        g_simd_one_wins[i] = i != ADB_BLAKE3_IMPL_PORTABLE &&
                             adb_blake3_impl_supported((adb_blake3_impl_t)i) &&
                             one_time(k_ops[i]) < scalar;
    }
    tables_apply();
}

static adb_b3_ops_t const *
table(adb_blake3_impl_t impl) {
    pthread_once(&g_tables_once, tables_init);
    return &g_tables[impl];
}

static adb_b3_ops_t const *
ops_choose(void) {
    adb_b3_ops_t const *o = table(adb_blake3_impl_best());
    __atomic_store_n(&g_ops, o, __ATOMIC_RELEASE);
    return o;
}

static inline adb_b3_ops_t const *
ops_get(void) {
    adb_b3_ops_t const *o = __atomic_load_n(&g_ops, __ATOMIC_ACQUIRE);
    return ADB_LIKELY(o != NULL) ? o : ops_choose();
}

int
adb_blake3_impl_set(adb_blake3_impl_t impl) {
    if ((unsigned)impl > ADB_BLAKE3_IMPL_AUTO) return ACCTDB_ERR_INVALID;
    if (!adb_blake3_impl_supported(impl)) return ACCTDB_ERR_UNSUPPORTED;
    if (impl == ADB_BLAKE3_IMPL_AUTO) impl = adb_blake3_impl_best();
    __atomic_store_n(&g_ops, table(impl), __ATOMIC_RELEASE);
    return 0;
}

adb_blake3_impl_t
adb_blake3_impl_get(void) {
    adb_b3_ops_t const *o = ops_get();
    return (adb_blake3_impl_t)(o - g_tables);
}

int
adb_blake3_one_set(adb_blake3_one_t mode) {
    if ((unsigned)mode > ADB_BLAKE3_ONE_SCALAR) return ACCTDB_ERR_INVALID;
    pthread_once(&g_tables_once, tables_init);
    g_one_mode = mode;
    tables_apply();
    return 0;
}

bool
adb_blake3_one_is_simd(adb_blake3_impl_t impl) {
    if ((unsigned)impl >= ADB_BLAKE3_IMPL_CNT || !adb_blake3_impl_supported(impl)) return false;
    adb_b3_ops_t const *o = table(impl);
    return impl != ADB_BLAKE3_IMPL_PORTABLE && o->compress_cv == k_ops[impl]->compress_cv;
}

char const *
adb_blake3_impl_name(adb_blake3_impl_t impl) {
    return (unsigned)impl <= ADB_BLAKE3_IMPL_AUTO ? k_names[impl] : "?";
}

int
adb_blake3_impl_from_name(char const *name, adb_blake3_impl_t *impl_out) {
    *impl_out = ADB_BLAKE3_IMPL_AUTO;
    if (!name) return ACCTDB_ERR_INVALID;
    for (int i = 0; i <= ADB_BLAKE3_IMPL_CNT; i++) {
        if (!strcmp(name, k_names[i])) {
            *impl_out = (adb_blake3_impl_t)i;
            return 0;
        }
    }
    return ACCTDB_ERR_INVALID;
}

/* ======================================================================== */
/* The hasher                                                               */
/* ======================================================================== */

#define BULK_CHUNK_MAX 256 /* chunks per bulk piece: 8 KiB of CVs */

static void
chunk_reset(adb_blake3_t *h) {
    memcpy(h->cv, h->key, sizeof h->cv);
    h->buf_sz = 0;
    h->blk_cnt = 0;
}

static inline bool
chunk_is_full(adb_blake3_t const *h) {
    return (size_t)h->blk_cnt * ADB_BLAKE3_BLOCK_SZ + h->buf_sz == ADB_BLAKE3_CHUNK_SZ;
}

static inline bool
chunk_is_empty(adb_blake3_t const *h) {
    return h->blk_cnt == 0 && h->buf_sz == 0;
}

static inline uint32_t
chunk_start_flag(adb_blake3_t const *h) {
    return h->blk_cnt == 0 ? ADB_B3_CHUNK_START : 0;
}

void
adb_blake3_init(adb_blake3_t *h) {
    memcpy(h->key, adb_blake3_iv, sizeof h->key);
    h->chunk_ctr = 0;
    h->flags = 0;
    h->stack_cnt = 0;
    memset(h->buf, 0, sizeof h->buf);
    chunk_reset(h);
}

/* Merges the top of the stack until it holds keep entries.  The two top
 * entries are adjacent in memory: together they are the parent's block. */
static void
stack_merge(adb_blake3_t *h, adb_b3_ops_t const *o, unsigned keep) {
    while (h->stack_cnt > keep) {
        uint8_t *left = h->stack[h->stack_cnt - 2];
        uint32_t cv[8];
        memcpy(cv, h->key, sizeof cv);
        o->compress_cv(cv, left, 0, ADB_BLAKE3_BLOCK_SZ, h->flags | ADB_B3_PARENT);
        memcpy(left, cv, 32);
        h->stack_cnt--;
    }
}

/* Pushes the CV of the complete subtree that starts at chunk start_chunk;
 * every chunk before it has been pushed already. */
static void
stack_push(adb_blake3_t *h, adb_b3_ops_t const *o, void const *cv, uint64_t start_chunk) {
    stack_merge(h, o, (unsigned)__builtin_popcountll(start_chunk));
    ADB_ASSERT(h->stack_cnt < ADB_BLAKE3_STACK_MAX);
    memcpy(h->stack[h->stack_cnt++], cv, 32);
}

/* The current chunk is full and more input follows: push its CV. */
static void
chunk_close(adb_blake3_t *h, adb_b3_ops_t const *o) {
    uint32_t cv[8];
    memcpy(cv, h->cv, sizeof cv);
    o->compress_cv(cv, h->buf, h->chunk_ctr, ADB_BLAKE3_BLOCK_SZ,
                   h->flags | chunk_start_flag(h) | ADB_B3_CHUNK_END);
    stack_push(h, o, cv, h->chunk_ctr);
    h->chunk_ctr++;
    chunk_reset(h);
}

/* Feeds input into the current chunk until the input ends or the chunk is
 * full.  The chunk's latest block stays in buf: only a block known not to
 * be the chunk's last is compressed. */
static void
chunk_absorb(adb_blake3_t *h, adb_b3_ops_t const *o, uint8_t const **pp, size_t *psz) {
    uint8_t const *p = *pp;
    size_t         sz = *psz;
    while (sz > 0 && !chunk_is_full(h)) {
        if (h->buf_sz == ADB_BLAKE3_BLOCK_SZ) {
            o->compress_cv(h->cv, h->buf, h->chunk_ctr, ADB_BLAKE3_BLOCK_SZ,
                           h->flags | chunk_start_flag(h));
            h->blk_cnt++;
            h->buf_sz = 0;
        }
        if (h->buf_sz == 0) {
            /* Whole blocks straight from the input, never the chunk's
             * 16th block nor the input's last. */
            while (sz > ADB_BLAKE3_BLOCK_SZ && h->blk_cnt < 15) {
                o->compress_cv(h->cv, p, h->chunk_ctr, ADB_BLAKE3_BLOCK_SZ,
                               h->flags | chunk_start_flag(h));
                h->blk_cnt++;
                p += ADB_BLAKE3_BLOCK_SZ;
                sz -= ADB_BLAKE3_BLOCK_SZ;
            }
        }
        size_t take = ADB_MIN((size_t)ADB_BLAKE3_BLOCK_SZ - h->buf_sz, sz);
        memcpy(h->buf + h->buf_sz, p, take);
        h->buf_sz = (uint8_t)(h->buf_sz + take);
        p += take;
        sz -= take;
    }
    *pp = p;
    *psz = sz;
}

/* Hashes chunk_cnt whole chunks at data, starting at h->chunk_ctr with an
 * empty chunk state, and pushes the resulting subtrees (see BULK above).
 * may_end: the message may end with these chunks, so no node may be merged
 * that could turn out to be the root (one covering every chunk from 0). */
static void
bulk(adb_blake3_t *h, adb_b3_ops_t const *o, uint8_t const *data, size_t chunk_cnt, bool may_end) {
    _Alignas(64) uint8_t cvs[BULK_CHUNK_MAX * 32];
    while (chunk_cnt > 0) {
        size_t   piece = ADB_MIN(chunk_cnt, (size_t)BULK_CHUNK_MAX);
        uint64_t c = h->chunk_ctr;
        if (may_end && c == 0 && piece == chunk_cnt && (piece & (piece - 1)) == 0)
            piece /= 2; /* two halves, merged only by finalize or more input */
        o->hash_many(data, ADB_BLAKE3_CHUNK_SZ, piece, ADB_BLAKE3_CHUNK_SZ / ADB_BLAKE3_BLOCK_SZ,
                     h->key, c, true, h->flags, ADB_B3_CHUNK_START, ADB_B3_CHUNK_END, cvs);

        /* Level lvl holds the CVs of nodes [a, b) (each 2^lvl chunks) at
         * cur.  Edge nodes without a partner are set aside. */
        uint8_t  left[64][32], right[64][32];
        uint64_t left_at[64], right_at[64];
        size_t   left_cnt = 0, right_cnt = 0;
        uint64_t a = c, b = c + piece;
        unsigned lvl = 0;
        uint8_t *cur = cvs;
        while (a < b) {
            if (a & 1) {
                memcpy(left[left_cnt], cur, 32);
                left_at[left_cnt++] = a << lvl;
                cur += 32;
                a++;
            }
            if (a == b) break;
            if ((b - a) & 1) {
                memcpy(right[right_cnt], cur + 32 * (b - 1 - a), 32);
                right_at[right_cnt++] = (b - 1) << lvl;
                b--;
            }
            if (a == b) break;
            o->hash_many(cur, 64, (size_t)(b - a) / 2, 1, h->key, 0, false,
                         h->flags | ADB_B3_PARENT, 0, 0, cvs);
            cur = cvs;
            a >>= 1;
            b >>= 1;
            lvl++;
        }
        for (size_t i = 0; i < left_cnt; i++)
            stack_push(h, o, left[i], left_at[i]);
        for (size_t i = right_cnt; i-- > 0;)
            stack_push(h, o, right[i], right_at[i]);
        h->chunk_ctr = c + piece;
        data += piece * ADB_BLAKE3_CHUNK_SZ;
        chunk_cnt -= piece;
    }
}

void
adb_blake3_update(adb_blake3_t *h, void const *data, size_t sz) {
    if (sz == 0) return;
    adb_b3_ops_t const *o = ops_get();
    uint8_t const      *p = data;
    while (sz > 0) {
        if (chunk_is_full(h)) chunk_close(h, o);
        if (chunk_is_empty(h) && sz >= ADB_BLAKE3_CHUNK_SZ) {
            /* Every whole chunk goes to the SIMD kernels, even the last one
             * when the input ends on a chunk boundary: a chunk's CV is the
             * same whether or not more input follows.  Only a message's
             * single chunk could be the root; that one waits in the chunk
             * state. */
            size_t n = sz / ADB_BLAKE3_CHUNK_SZ;
            bool   may_end = n * ADB_BLAKE3_CHUNK_SZ == sz;
            if (may_end && h->chunk_ctr + n < 2) n = 0;
            if (n) {
                bulk(h, o, p, n, may_end);
                p += n * ADB_BLAKE3_CHUNK_SZ;
                sz -= n * ADB_BLAKE3_CHUNK_SZ;
            }
        }
        chunk_absorb(h, o, &p, &sz);
    }
    /* If the current chunk holds input now, the subtrees before it are no
     * longer candidates for the root: merge them as far as they go. */
    if (!chunk_is_empty(h)) stack_merge(h, o, (unsigned)__builtin_popcountll(h->chunk_ctr));
}

/* The root node: its output blocks are compress(cv, blk, i, blk_sz,
 * flags) for output block i. */
typedef struct root {
    uint32_t cv[8];
    uint8_t  blk[64];
    uint32_t blk_sz;
    uint32_t flags;
} root_t;

static void
root_get(adb_blake3_t const *h, adb_b3_ops_t const *o, root_t *r) {
    size_t top = h->stack_cnt;
    if (!chunk_is_empty(h) || h->chunk_ctr == 0) {
        uint32_t chunk_flags = h->flags | chunk_start_flag(h) | ADB_B3_CHUNK_END;
        memcpy(r->cv, h->cv, sizeof r->cv);
        memcpy(r->blk, h->buf, h->buf_sz);
        memset(r->blk + h->buf_sz, 0, sizeof r->blk - h->buf_sz);
        r->blk_sz = h->buf_sz;
        r->flags = chunk_flags | ADB_B3_ROOT;
        if (top == 0) return; /* a single chunk (or the empty message) */
        o->compress_cv(r->cv, r->blk, h->chunk_ctr, h->buf_sz, chunk_flags);
    } else {
        /* The input ended on a chunk boundary and the bulk path took every
         * chunk: the last subtree on the stack plays the last chunk's role
         * (bulk() leaves at least two entries). */
        ADB_ASSERT(top >= 2);
        memcpy(r->cv, h->stack[--top], 32);
    }
    /* Fold r->cv into the stack from the top; the last parent is the
     * root. */
    for (size_t i = top; i-- > 0;) {
        memcpy(r->blk, h->stack[i], 32);
        memcpy(r->blk + 32, r->cv, 32);
        memcpy(r->cv, h->key, sizeof r->cv);
        if (i == 0) break;
        o->compress_cv(r->cv, r->blk, 0, ADB_BLAKE3_BLOCK_SZ, h->flags | ADB_B3_PARENT);
    }
    r->blk_sz = ADB_BLAKE3_BLOCK_SZ;
    r->flags = h->flags | ADB_B3_PARENT | ADB_B3_ROOT;
}

void
adb_blake3_finalize_seek(adb_blake3_t const *h, uint64_t off, void *out, size_t out_sz) {
    if (out_sz == 0) return;
    adb_b3_ops_t const *o = ops_get();
    root_t              r;
    root_get(h, o, &r);
    uint8_t *q = out;
    uint64_t blk = off / ADB_BLAKE3_BLOCK_SZ;
    size_t   skip = (size_t)(off % ADB_BLAKE3_BLOCK_SZ);
    uint8_t  tmp[64];
    if (skip) {
        size_t n = ADB_MIN((size_t)ADB_BLAKE3_BLOCK_SZ - skip, out_sz);
        o->compress_xof(r.cv, r.blk, blk, r.blk_sz, r.flags, tmp);
        memcpy(q, tmp + skip, n);
        q += n;
        out_sz -= n;
        blk++;
    }
    if (out_sz >= ADB_BLAKE3_BLOCK_SZ) {
        size_t n = out_sz / ADB_BLAKE3_BLOCK_SZ;
        o->xof_many(r.cv, r.blk, r.blk_sz, r.flags, blk, n, q);
        q += n * ADB_BLAKE3_BLOCK_SZ;
        out_sz -= n * ADB_BLAKE3_BLOCK_SZ;
        blk += n;
    }
    if (out_sz) {
        o->compress_xof(r.cv, r.blk, blk, r.blk_sz, r.flags, tmp);
        memcpy(q, tmp, out_sz);
    }
}

void
adb_blake3_finalize(adb_blake3_t const *h, void *out, size_t out_sz) {
    adb_blake3_finalize_seek(h, 0, out, out_sz);
}

void
adb_blake3_hash(void const *data, size_t sz, void *out, size_t out_sz) {
    adb_blake3_t h;
    adb_blake3_init(&h);
    adb_blake3_update(&h, data, sz);
    adb_blake3_finalize(&h, out, out_sz);
}

/* ======================================================================== */
/* Batches of 2048-byte outputs                                             */
/* ======================================================================== */

/* A message longer than a chunk, through the hasher. */
static void
xof2048_long(adb_blake3_msg_t const *m, uint16_t *sum, uint8_t *out) {
    adb_blake3_t h;
    adb_blake3_init(&h);
    for (size_t j = 0; j < m->part_cnt; j++)
        adb_blake3_update(&h, m->part[j].p, m->part[j].sz);
    if (sum) {
        uint8_t x[ADB_BLAKE3_XOF2048_SZ];
        adb_blake3_finalize(&h, x, sizeof x);
        adb_b3_add_u16(sum, x, sizeof x);
    } else {
        adb_blake3_finalize(&h, out, ADB_BLAKE3_XOF2048_SZ);
    }
}

/* Adds into sum (when sum != NULL) or writes to out.  Short messages are
 * gathered into lane buffers and handed to the kernel lane_cnt at a time;
 * the kernel's accumulator is converted into sum once, at the end. */
static void
xof2048_batch(adb_blake3_msg_t const *msgs, size_t msg_cnt, uint16_t *sum, uint8_t *out) {
    adb_b3_ops_t const   *o = ops_get();
    size_t const          lane_max = o->lane_cnt;
    _Alignas(64) uint8_t  bufs[ADB_B3_LANE_MAX][ADB_BLAKE3_CHUNK_SZ];
    _Alignas(64) uint16_t acc[ADB_BLAKE3_XOF2048_SZ / 2];
    adb_b3_lane_t         lanes[ADB_B3_LANE_MAX];
    uint8_t              *accp = sum ? (uint8_t *)acc : NULL;
    size_t                k = 0;
    if (sum) memset(acc, 0, sizeof acc);
    for (size_t i = 0; i < msg_cnt; i++) {
        adb_blake3_msg_t const *m = &msgs[i];
        size_t                  sz = adb_blake3_msg_sz(m);
        uint8_t                *dst = out ? out + ADB_BLAKE3_XOF2048_SZ * i : NULL;
        ADB_ASSERT(m->part_cnt <= ADB_BLAKE3_MSG_PART_MAX);
        if (sz > ADB_BLAKE3_CHUNK_SZ) {
            xof2048_long(m, sum, dst);
            continue;
        }
        uint8_t *b = bufs[k];
        size_t   at = 0;
        for (size_t j = 0; j < m->part_cnt; j++) {
            if (m->part[j].sz) memcpy(b + at, m->part[j].p, m->part[j].sz);
            at += m->part[j].sz;
        }
        uint32_t blk_cnt = sz ? (uint32_t)((sz + 63) / 64) : 1;
        memset(b + sz, 0, (size_t)blk_cnt * 64 - sz);
        lanes[k] = (adb_b3_lane_t){.buf = b,
                                   .out = dst,
                                   .blk_cnt = blk_cnt,
                                   .last_sz = (uint32_t)(sz - (blk_cnt - 1) * 64)};
        if (++k == lane_max) {
            o->lt_lanes(lanes, k, accp);
            k = 0;
        }
    }
    if (k) o->lt_lanes(lanes, k, accp);
    if (sum) o->lt_fold((uint8_t const *)acc, sum);
}

void
adb_blake3_xof2048_sum(adb_blake3_msg_t const *msgs, size_t msg_cnt, uint16_t sum[1024]) {
    if (msg_cnt) xof2048_batch(msgs, msg_cnt, sum, NULL);
}

void
adb_blake3_xof2048_each(adb_blake3_msg_t const *msgs, size_t msg_cnt, uint8_t *out) {
    if (msg_cnt) xof2048_batch(msgs, msg_cnt, NULL, out);
}

/* ======================================================================== */
/* Public API                                                               */
/* ======================================================================== */

_Static_assert(sizeof(adb_blake3_t) <= sizeof(acctdb_blake3_t),
               "acctdb_blake3_t must hold adb_blake3_t");
_Static_assert(_Alignof(adb_blake3_t) <= _Alignof(acctdb_blake3_t),
               "acctdb_blake3_t must be aligned for adb_blake3_t");

static inline adb_blake3_t *
pub(acctdb_blake3_t *h) {
    return (adb_blake3_t *)(void *)h;
}

void
acctdb_blake3_init(acctdb_blake3_t *h) {
    adb_blake3_init(pub(h));
}

void
acctdb_blake3_update(acctdb_blake3_t *h, void const *data, size_t sz) {
    adb_blake3_update(pub(h), data, sz);
}

void
acctdb_blake3_finalize(acctdb_blake3_t const *h, void *out, size_t out_sz) {
    adb_blake3_finalize((adb_blake3_t const *)(void const *)h, out, out_sz);
}

void
acctdb_blake3_finalize_seek(acctdb_blake3_t const *h, uint64_t off, void *out, size_t out_sz) {
    adb_blake3_finalize_seek((adb_blake3_t const *)(void const *)h, off, out, out_sz);
}

void
acctdb_blake3(void const *data, size_t sz, void *out, size_t out_sz) {
    adb_blake3_hash(data, sz, out, out_sz);
}

char const *
acctdb_blake3_impl(void) {
    return adb_blake3_impl_name(adb_blake3_impl_get());
}

int
acctdb_blake3_set_impl(char const *name) {
    adb_blake3_impl_t impl;
    ADB_TRY(adb_blake3_impl_from_name(name, &impl));
    return adb_blake3_impl_set(impl);
}
