/* src/snapshot/stream.h - the compression layer of snapshot archives.
 *
 * DECOMPRESSOR.  Sans-I/O: zstd (any number of concatenated frames, bounded
 * window) or LZ4 frames, detected from the first bytes.  It caps the total
 * output and the output/input ratio (a decompression bomb fails early with
 * a named error), and knows whether the input ended exactly at the end of a
 * frame, so a truncated archive is an error, never a short read.
 *
 * COMPRESSOR.  zstd with worker threads (ZSTD_c_nbWorkers), closing a frame
 * whenever the caller asks (the archive writer does so every ~32 MiB at a
 * tar entry boundary), so readers can decompress frames independently. */
#ifndef ADB_SNAPSHOT_STREAM_H
#define ADB_SNAPSHOT_STREAM_H

#include "util/util.h"

typedef enum adb_comp_kind {
    ADB_COMP_UNKNOWN = 0,
    ADB_COMP_ZSTD,
    ADB_COMP_LZ4,
} adb_comp_kind_t;

/* Detects the container from the first bytes (needs >= 4).  Returns
 * ADB_COMP_UNKNOWN with a message for gzip, bzip2, xz, a plain tar or
 * anything else. */
adb_comp_kind_t adb_comp_detect(uint8_t const *head, size_t sz, char const **what_out);

typedef struct adb_decomp_limits {
    uint32_t window_log_max; /* zstd: default 27 (128 MiB) */
    uint64_t max_out_sz;     /* total output cap; default 64 TiB */
    uint32_t max_ratio;      /* output/input cap past the first 256 MiB; default 2000 */
} adb_decomp_limits_t;

void adb_decomp_limits_default(adb_decomp_limits_t *l);

typedef struct adb_decomp adb_decomp_t;

int  adb_decomp_open(adb_decomp_t **d_out, adb_comp_kind_t kind, adb_decomp_limits_t const *lim);
void adb_decomp_close(adb_decomp_t *d);

/* Decompresses from in[0..in_sz) into out[0..out_max); *in_used_out and
 * *out_sz_out say how much was consumed and produced.  Errors: CORRUPT
 * (bad data, window too large), FULL (output cap or ratio), NOMEM; the
 * message is in adb_decomp_errmsg(d). */
int adb_decomp_run(adb_decomp_t *d, void const *in, size_t in_sz, size_t *in_used_out, void *out,
                   size_t out_max, size_t *out_sz_out);

/* Frame-parallel zstd: up to threads worker threads decompress whole
 * frames ahead of the caller, output still in stream order and errors as
 * the sequential decompressor words them.  Call before the first run; a
 * no-op for LZ4 or threads == 0.  Memory: up to threads + 2 frames of up to
 * 48 MiB in and 48 MiB out.  Errors: NOMEM. */
int adb_decomp_set_threads(adb_decomp_t *d, unsigned threads);

/* Says the input has ended (the caller then runs with no input until no
 * output comes): a parallel decompressor waits for its frames only now. */
void adb_decomp_end_input(adb_decomp_t *d);

/* True if every frame started so far has ended (call at end of input: a
 * false answer means the archive is truncated). */
bool adb_decomp_at_frame_end(adb_decomp_t const *d);

/* Total bytes in and out so far; frames completed. */
uint64_t    adb_decomp_in_total(adb_decomp_t const *d);
uint64_t    adb_decomp_out_total(adb_decomp_t const *d);
uint64_t    adb_decomp_frames(adb_decomp_t const *d);
char const *adb_decomp_errmsg(adb_decomp_t const *d);

/* ---- compressor --------------------------------------------------------- */
typedef struct adb_comp adb_comp_t;
typedef int (*adb_comp_out_fn)(void *ctx, void const *p, size_t sz);

/* level: zstd level (1 = fast); workers: 0 = single-threaded in the caller.
 * Compressed bytes go to out(ctx, ...) as they are produced. */
int  adb_comp_open(adb_comp_t **c_out, int level, unsigned workers, adb_comp_out_fn out, void *ctx);
void adb_comp_close(adb_comp_t *c);
/* Appends input. */
int adb_comp_write(adb_comp_t *c, void const *p, size_t sz);
/* Ends the current frame (the next write starts a new one). */
int      adb_comp_end_frame(adb_comp_t *c);
uint64_t adb_comp_in_total(adb_comp_t const *c);
uint64_t adb_comp_out_total(adb_comp_t const *c);

#endif
