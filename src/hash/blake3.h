/* src/hash/blake3.h - BLAKE3 for the other modules: an incremental hasher
 * with extendable output, the choice of SIMD implementation, and a batch
 * entry point that turns many messages into 2048-byte outputs at once (the
 * engine of the account lattice hash).
 *
 * Only the default (unkeyed) mode of BLAKE3 is offered.  Every
 * implementation gives the same bytes; they differ only in speed.
 *
 * THREADING MODEL
 *
 *   A hasher is a value object: one thread at a time.  The implementation
 *   choice is process-wide; it is made on first use (any function below)
 *   and may be changed with adb_blake3_impl_set, which must not race with
 *   hashing in other threads.  Everything else is reentrant.
 */
#ifndef ADB_HASH_BLAKE3_H
#define ADB_HASH_BLAKE3_H

#include "util/util.h"

#define ADB_BLAKE3_OUT_SZ     32   /* the default output length */
#define ADB_BLAKE3_BLOCK_SZ   64   /* compression block */
#define ADB_BLAKE3_CHUNK_SZ   1024 /* leaf of the tree */
#define ADB_BLAKE3_STACK_MAX  54   /* 2^54 chunks = 2^64 bytes */
#define ADB_BLAKE3_XOF2048_SZ 2048 /* the batch API's output per message */

/* ---- the incremental hasher --------------------------------------------- */

/* Caller-allocated; copy it to fork the state.  Fields are private to
 * src/hash/blake3*.c. */
typedef struct adb_blake3 {
    uint32_t key[8];                          /* IV in the default mode */
    uint32_t cv[8];                           /* chaining value of the current chunk */
    uint64_t chunk_ctr;                       /* index of the current chunk */
    uint8_t  buf[ADB_BLAKE3_BLOCK_SZ];        /* the block not yet compressed */
    uint8_t  buf_sz;                          /* bytes in buf */
    uint8_t  blk_cnt;                         /* blocks of the current chunk already compressed */
    uint8_t  flags;                           /* mode flags (0 in the default mode) */
    uint8_t  stack_cnt;                       /* entries in stack */
    uint8_t  stack[ADB_BLAKE3_STACK_MAX][32]; /* CVs of complete subtrees, largest first */
} adb_blake3_t;

/* adb_blake3_init: resets h to the empty message.  Cannot fail. */
void adb_blake3_init(adb_blake3_t *h);

/* adb_blake3_update: appends data[0..sz) to the message.  data may be NULL
 * when sz == 0.  Large inputs are hashed many chunks at a time with the
 * widest SIMD kernel, so one call with a big buffer is faster than many
 * small calls (keep calls >= 16 KiB where throughput matters). */
void adb_blake3_update(adb_blake3_t *h, void const *data, size_t sz);

/* adb_blake3_finalize: writes out_sz bytes of output (any length) from
 * output offset 0.  h is unchanged: input may continue afterwards. */
void adb_blake3_finalize(adb_blake3_t const *h, void *out, size_t out_sz);

/* adb_blake3_finalize_seek: like finalize, from output byte offset off.
 * off + out_sz may pass 2^64: the output simply continues (BLAKE3 defines
 * 2^64 blocks of 64 bytes). */
void adb_blake3_finalize_seek(adb_blake3_t const *h, uint64_t off, void *out, size_t out_sz);

/* adb_blake3_hash: one-shot hash of data[0..sz) into out[0..out_sz). */
void adb_blake3_hash(void const *data, size_t sz, void *out, size_t out_sz);

/* ---- implementation choice ---------------------------------------------- */

typedef enum adb_blake3_impl {
    ADB_BLAKE3_IMPL_PORTABLE = 0, /* plain C, one block at a time */
    ADB_BLAKE3_IMPL_SSE41 = 1,    /* 4 lanes */
    ADB_BLAKE3_IMPL_AVX2 = 2,     /* 8 lanes */
    ADB_BLAKE3_IMPL_AVX512 = 3,   /* 16 lanes; needs AVX-512 F, VL and BW */
    ADB_BLAKE3_IMPL_AUTO = 4,     /* the best the CPU supports */
} adb_blake3_impl_t;

#define ADB_BLAKE3_IMPL_CNT 4 /* concrete implementations (AUTO excluded) */

/* adb_blake3_impl_supported: true if this CPU (and OS) can run impl; AUTO
 * and PORTABLE are always supported, unknown values never. */
bool adb_blake3_impl_supported(adb_blake3_impl_t impl);

/* adb_blake3_impl_set: use impl from now on (AUTO: the CPU's best).
 * Errors: ACCTDB_ERR_INVALID for a value outside the enum,
 * ACCTDB_ERR_UNSUPPORTED if the CPU lacks the instructions (the choice is
 * then unchanged).  Not thread-safe against concurrent hashing. */
int adb_blake3_impl_set(adb_blake3_impl_t impl);

/* adb_blake3_impl_get: the implementation in use (never AUTO); makes the
 * first-use choice if nothing has hashed yet. */
adb_blake3_impl_t adb_blake3_impl_get(void);

/* adb_blake3_impl_best: the widest implementation this CPU supports. */
adb_blake3_impl_t adb_blake3_impl_best(void);

/* One-block compressions (the blocks of a single chunk, tree merges,
 * output blocks one at a time) run on a single dependency chain, so their
 * speed is set by instruction latency: the SIMD implementations' 4-row form
 * wins on CPUs with 1-cycle vector latency, the portable scalar one where
 * vector latency is 2 cycles (AMD Zen 5).  By default (AUTO) each SIMD
 * implementation times both once at first use (about 0.1 ms) and keeps the
 * faster; the output never depends on it. */
typedef enum adb_blake3_one {
    ADB_BLAKE3_ONE_AUTO = 0,   /* measured at first use */
    ADB_BLAKE3_ONE_SIMD = 1,   /* each implementation's own */
    ADB_BLAKE3_ONE_SCALAR = 2, /* the portable one everywhere */
} adb_blake3_one_t;

/* adb_blake3_one_set: forces the one-block form (tests and benchmarks).
 * Errors: ACCTDB_ERR_INVALID for a value outside the enum.  Not thread-safe
 * against concurrent hashing. */
int adb_blake3_one_set(adb_blake3_one_t mode);

/* adb_blake3_one_is_simd: true if impl currently uses its own SIMD one-block
 * compression (always false for PORTABLE and unknown values). */
bool adb_blake3_one_is_simd(adb_blake3_impl_t impl);

/* adb_blake3_impl_name: "portable", "sse41", "avx2", "avx512" or "auto";
 * "?" for a value outside the enum.  Static string. */
char const *adb_blake3_impl_name(adb_blake3_impl_t impl);

/* adb_blake3_impl_from_name: the enum value of one of the names above.
 * Errors: ACCTDB_ERR_INVALID for NULL or an unknown name (*impl_out is then
 * AUTO). */
int adb_blake3_impl_from_name(char const *name, adb_blake3_impl_t *impl_out);

/* ---- batches of 2048-byte outputs ----------------------------------------
 * A message is given as up to ADB_BLAKE3_MSG_PART_MAX byte strings that are
 * hashed as their concatenation, so callers need not copy fields into one
 * buffer.  Parts are only read during the call; a part with sz == 0 may
 * have p == NULL.
 *
 * Messages of at most one chunk (1024 bytes) are hashed one per SIMD lane
 * (16, 8 or 4 at a time) up to their last block; then each one's 32 output
 * blocks are computed as two interleaved passes of 16/8/4 lanes that share
 * the message and differ only in the counter.  Longer messages go through
 * the incremental hasher.  Results are identical to
 * adb_blake3_hash(msg, 2048 bytes) for each message. */

#define ADB_BLAKE3_MSG_PART_MAX 6

typedef struct adb_blake3_part {
    void const *p;
    size_t      sz;
} adb_blake3_part_t;

typedef struct adb_blake3_msg {
    adb_blake3_part_t part[ADB_BLAKE3_MSG_PART_MAX];
    size_t            part_cnt; /* <= ADB_BLAKE3_MSG_PART_MAX */
} adb_blake3_msg_t;

/* adb_blake3_msg_sz: the total length of m's parts. */
static inline size_t
adb_blake3_msg_sz(adb_blake3_msg_t const *m) {
    size_t sz = 0;
    for (size_t i = 0; i < m->part_cnt; i++)
        sz += m->part[i].sz;
    return sz;
}

/* adb_blake3_xof2048_sum: for each of msgs[0..msg_cnt), takes the first
 * 2048 output bytes as 1024 little-endian u16 and adds them lane-wise (mod
 * 2^16) into sum.  msg_cnt == 0 leaves sum unchanged. */
void adb_blake3_xof2048_sum(adb_blake3_msg_t const *msgs, size_t msg_cnt, uint16_t sum[1024]);

/* adb_blake3_xof2048_each: writes the first 2048 output bytes of msgs[i] to
 * out[2048*i .. 2048*i + 2048) for every i < msg_cnt.  out must not overlap
 * any part. */
void adb_blake3_xof2048_each(adb_blake3_msg_t const *msgs, size_t msg_cnt, uint8_t *out);

#endif
