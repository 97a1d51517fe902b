/* src/util/json_out.h - a small streaming JSON writer (RFC 8259).
 *
 * The writer appends to an internal buffer: in buffer mode the caller takes
 * the text at the end; in FILE mode the buffer is flushed to the stream
 * whenever it passes 16 KiB and at adb_json_finish.  Commas and the colon
 * after a key are placed automatically: call adb_json_key before each value
 * inside an object, nothing before values inside an array.
 *
 *   adb_json_t j;
 *   adb_json_init_buf(&j);
 *   adb_json_obj_begin(&j);
 *   adb_json_key(&j, "slot"); adb_json_u64(&j, 100);
 *   adb_json_obj_end(&j);
 *   char *text; size_t sz;
 *   int rc = adb_json_take(&j, &text, &sz);    (NUL-terminated, adb_free)
 *
 * Values: u64/i64 are printed as exact integers (never through a double);
 * f64 with the fewest digits (up to 17) that read back as the same double,
 * and NaN/infinity, which JSON cannot express, as null.  Strings are
 * escaped per RFC 8259 section 7 (quote, backslash and control characters;
 * other bytes pass through); a byte sequence that is not valid UTF-8 is
 * replaced by U+FFFD per bad byte, so the output is always valid JSON.
 *
 * Errors are sticky: the first failure (ACCTDB_ERR_NOMEM, ACCTDB_ERR_IO for
 * a FILE write, ACCTDB_ERR_INVALID for misuse such as a value where a key is
 * due, unbalanced ends, or nesting deeper than ADB_JSON_DEPTH_MAX) makes
 * every later call a no-op; adb_json_finish / adb_json_take return it.
 * Not thread-safe; one writer per thread. */
#ifndef ADB_UTIL_JSON_OUT_H
#define ADB_UTIL_JSON_OUT_H

#include "util/util.h"

#include <stdio.h>

#define ADB_JSON_DEPTH_MAX 64

typedef struct adb_json {
    char    *buf;
    size_t   sz;
    size_t   cap;
    FILE    *f;   /* NULL: buffer mode */
    int      err; /* sticky */
    uint32_t depth;
    bool     pretty; /* newline + 2-space indent per level */
    bool     after_key;
    uint64_t in_obj;    /* bit d: level d+1 is an object */
    uint64_t has_items; /* bit d: level d+1 already holds an item */
} adb_json_t;

/* adb_json_init_buf / adb_json_init_file: start an empty document.  Cannot
 * fail; nothing is allocated until the first write.  f must stay open until
 * adb_json_finish. */
void adb_json_init_buf(adb_json_t *j);
void adb_json_init_file(adb_json_t *j, FILE *f);

/* adb_json_set_pretty: indent nested values (set before the first write). */
void adb_json_set_pretty(adb_json_t *j, bool pretty);

/* adb_json_fini: frees the buffer.  Safe after take/finish, and twice. */
void adb_json_fini(adb_json_t *j);

/* adb_json_finish: checks the document is complete (every object and array
 * closed), flushes FILE mode, and returns the sticky error (or 0).  Does not
 * close the FILE. */
int adb_json_finish(adb_json_t *j);

/* adb_json_take: like adb_json_finish, then hands the NUL-terminated text to
 * the caller (*text_out, free with adb_free; *sz_out excludes the NUL).
 * Buffer mode only.  On error *text_out is NULL and *sz_out 0. */
int adb_json_take(adb_json_t *j, char **text_out, size_t *sz_out);

void adb_json_obj_begin(adb_json_t *j);
void adb_json_obj_end(adb_json_t *j);
void adb_json_arr_begin(adb_json_t *j);
void adb_json_arr_end(adb_json_t *j);
/* The key of the next value in the current object (a NUL-terminated
 * string; escaped like any string). */
void adb_json_key(adb_json_t *j, char const *key);

void adb_json_str(adb_json_t *j, char const *s); /* NUL-terminated */
void adb_json_strn(adb_json_t *j, void const *s, size_t n);
void adb_json_u64(adb_json_t *j, uint64_t v);
void adb_json_i64(adb_json_t *j, int64_t v);
void adb_json_u128(adb_json_t *j, unsigned __int128 v);
void adb_json_f64(adb_json_t *j, double v);
void adb_json_bool(adb_json_t *j, bool v);
void adb_json_null(adb_json_t *j);
/* A string of lowercase hex digits of b[0..n). */
void adb_json_hex(adb_json_t *j, void const *b, size_t n);
/* A string holding the base58 text of 32 bytes (pubkeys, hashes). */
void adb_json_b58_32(adb_json_t *j, uint8_t const b[32]);

#endif
