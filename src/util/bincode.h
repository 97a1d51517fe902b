/* src/util/bincode.h - bincode 1.x ("fixint", little-endian) reader and
 * writer, the encoding of Agave manifests, status caches and genesis.
 *
 * READER.  Never reads past its buffer.  Every failure is sticky: the first
 * one records the byte offset and what was being read, and every later read
 * returns zero without moving, so a decoder can read a whole structure and
 * check once at the end (or at any point with adb_bc_ok).  Length prefixes
 * are bounded by the bytes that remain before the caller allocates:
 * adb_bc_rd_len(rd, min_elem_sz, what) fails unless len * min_elem_sz fits
 * in what is left.
 *
 * WRITER.  Appends into a growable buffer up to a byte limit; the first
 * failure (NOMEM, FULL) sticks and later writes do nothing. */
#ifndef ADB_UTIL_BINCODE_H
#define ADB_UTIL_BINCODE_H

#include "util/util.h"

typedef struct adb_bc_rd {
    uint8_t const *buf;
    size_t         sz;
    size_t         off;
    char const    *ctx; /* prefix for messages, e.g. "manifest" */
    adb_err_t      err;
} adb_bc_rd_t;

void adb_bc_rd_init(adb_bc_rd_t *rd, void const *buf, size_t sz, char const *ctx);

static inline bool
adb_bc_ok(adb_bc_rd_t const *rd) {
    return rd->err.code == 0;
}
static inline size_t
adb_bc_remaining(adb_bc_rd_t const *rd) {
    return rd->sz - rd->off;
}
/* True when no error and every byte is consumed (for default_on_eof). */
static inline bool
adb_bc_at_eof(adb_bc_rd_t const *rd) {
    return rd->err.code == 0 && rd->off == rd->sz;
}

/* Records a semantic error at the current offset (sticky like the rest). */
int adb_bc_fail(adb_bc_rd_t *rd, int code, char const *fmt, ...)
    __attribute__((format(printf, 3, 4)));

uint8_t  adb_bc_u8(adb_bc_rd_t *rd, char const *what);
uint16_t adb_bc_u16(adb_bc_rd_t *rd, char const *what);
uint32_t adb_bc_u32(adb_bc_rd_t *rd, char const *what);
uint64_t adb_bc_u64(adb_bc_rd_t *rd, char const *what);
int64_t  adb_bc_i64(adb_bc_rd_t *rd, char const *what);
double   adb_bc_f64(adb_bc_rd_t *rd, char const *what);
bool     adb_bc_bool(adb_bc_rd_t *rd, char const *what);   /* 0 or 1, else CORRUPT */
bool     adb_bc_option(adb_bc_rd_t *rd, char const *what); /* tag 0/1, else CORRUPT */
uint32_t adb_bc_variant(adb_bc_rd_t *rd, uint32_t max, char const *what); /* <= max */
/* n raw bytes in place (NULL on error; valid while buf is). */
uint8_t const *adb_bc_bytes(adb_bc_rd_t *rd, size_t n, char const *what);
void           adb_bc_copy(adb_bc_rd_t *rd, void *dst, size_t n, char const *what);
/* A u64 length prefix bounded by remaining / min_elem_sz (min_elem_sz >= 1
 * for element types that take bytes; pass 1 for strings). */
uint64_t adb_bc_len(adb_bc_rd_t *rd, size_t min_elem_sz, char const *what);
/* A string/bytes value: u64 length then bytes; *len_out gets the length. */
uint8_t const *adb_bc_str(adb_bc_rd_t *rd, size_t *len_out, char const *what);

/* ---- writer ------------------------------------------------------------- */
typedef struct adb_bc_wr {
    uint8_t *buf;
    size_t   sz;
    size_t   cap;
    size_t   max; /* hard byte limit */
    int      err; /* sticky: ACCTDB_ERR_NOMEM or ACCTDB_ERR_FULL */
} adb_bc_wr_t;

void adb_bc_wr_init(adb_bc_wr_t *wr, size_t max_sz);
void adb_bc_wr_fini(adb_bc_wr_t *wr);
/* Hands the buffer to the caller (free with adb_free); the writer is reset. */
uint8_t *adb_bc_wr_take(adb_bc_wr_t *wr, size_t *sz_out);

void adb_bc_put_bytes(adb_bc_wr_t *wr, void const *p, size_t n);
void adb_bc_put_u8(adb_bc_wr_t *wr, uint8_t v);
void adb_bc_put_u16(adb_bc_wr_t *wr, uint16_t v);
void adb_bc_put_u32(adb_bc_wr_t *wr, uint32_t v);
void adb_bc_put_u64(adb_bc_wr_t *wr, uint64_t v);
void adb_bc_put_i64(adb_bc_wr_t *wr, int64_t v);
void adb_bc_put_f64(adb_bc_wr_t *wr, double v);
void adb_bc_put_bool(adb_bc_wr_t *wr, bool v);
void adb_bc_put_str(adb_bc_wr_t *wr, void const *p, size_t n); /* u64 length + bytes */

/* ---- reads into an arena (util/arena.h) ---------------------------------- */

struct adb_arena;

/* adb_bc_arr: an array of cnt zeroed elements of elem_sz bytes from
 * mem, for a decode in progress: on overflow, budget or allocation failure
 * records ACCTDB_ERR_NOMEM in rd (naming `what`, the count and the budget)
 * and returns NULL.  cnt == 0 returns NULL without an error.  Does nothing
 * if rd already failed. */
void *adb_bc_arr(adb_bc_rd_t *rd, struct adb_arena *mem, uint64_t cnt, size_t elem_sz,
                 char const *what);

/* adb_bc_bytes_dup: a Vec<u8>/serde_bytes value (u64 length + bytes)
 * copied into mem.  *sz_out gets the length; NULL when empty or on error. */
uint8_t *adb_bc_bytes_dup(adb_bc_rd_t *rd, struct adb_arena *mem, uint64_t *sz_out,
                          char const *what);

/* adb_bc_string_dup: like adb_bc_bytes_dup for a Rust String: the
 * bytes must be valid UTF-8 (serde rejects anything else), else CORRUPT. */
uint8_t *adb_bc_string_dup(adb_bc_rd_t *rd, struct adb_arena *mem, uint64_t *sz_out,
                           char const *what);

/* adb_utf8_valid: true if b[0..n) is well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
bool adb_utf8_valid(uint8_t const *b, size_t n);

/* adb_bc_vec: a Vec/HashMap length (each element at least min_wire bytes on
 * the wire) and its zeroed array of elem_sz-byte elements from mem; *cnt_out
 * is set only once the array exists, so counts never exceed what was
 * allocated.  NULL for an empty collection or on error (recorded in rd). */
void *adb_bc_vec(adb_bc_rd_t *rd, struct adb_arena *mem, size_t min_wire, size_t elem_sz,
                 uint64_t *cnt_out, char const *what);

#endif
