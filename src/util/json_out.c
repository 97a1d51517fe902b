/* src/util/json_out.c - streaming JSON writer (see json_out.h). */
#include "util/json_out.h"

#include "util/base58.h"

#include <math.h>
#include <stdlib.h>

#define FLUSH_AT (16u << 10)

void
adb_json_init_buf(adb_json_t *j) {
    memset(j, 0, sizeof *j);
}

void
adb_json_init_file(adb_json_t *j, FILE *f) {
    memset(j, 0, sizeof *j);
    j->f = f;
}

void
adb_json_set_pretty(adb_json_t *j, bool pretty) {
    j->pretty = pretty;
}

void
adb_json_fini(adb_json_t *j) {
    adb_free(j->buf);
    j->buf = NULL;
    j->sz = j->cap = 0;
}

static void
fail(adb_json_t *j, int code) {
    if (!j->err) j->err = code;
}

static void
flush(adb_json_t *j) {
    if (!j->f || j->sz == 0 || j->err) return;
    if (fwrite(j->buf, 1, j->sz, j->f) != j->sz) fail(j, ACCTDB_ERR_IO);
    j->sz = 0;
}

/* Makes room for n more bytes; false (and sticky NOMEM) if impossible. */
static bool
reserve(adb_json_t *j, size_t n) {
    if (j->err) return false;
    if (j->f && j->sz >= FLUSH_AT) {
        flush(j);
        if (j->err) return false;
    }
    if (n <= j->cap - j->sz) return true;
    size_t cap = j->cap ? j->cap : 1024;
    while (cap - j->sz < n) {
        if (cap > SIZE_MAX / 2) {
            fail(j, ACCTDB_ERR_NOMEM);
            return false;
        }
        cap *= 2;
    }
    char *nb = adb_realloc(j->buf, cap);
    if (!nb) {
        fail(j, ACCTDB_ERR_NOMEM);
        return false;
    }
    j->buf = nb;
    j->cap = cap;
    return true;
}

static inline void
put(adb_json_t *j, char const *s, size_t n) {
    if (reserve(j, n)) {
        memcpy(j->buf + j->sz, s, n);
        j->sz += n;
    }
}

static void
newline(adb_json_t *j) {
    if (!j->pretty) return;
    if (!reserve(j, 1 + 2 * (size_t)j->depth)) return;
    j->buf[j->sz++] = '\n';
    memset(j->buf + j->sz, ' ', 2 * (size_t)j->depth);
    j->sz += 2 * (size_t)j->depth;
}

/* Called before every value and key: places the comma / newline, and
 * rejects a value where a key is due (or a key where a value is due). */
static bool
pre(adb_json_t *j, bool is_key) {
    if (j->err) return false;
    if (j->depth == 0) {
        if (is_key || j->has_items & 1) { /* bit 0 marks "top value written" */
            fail(j, ACCTDB_ERR_INVALID);
            return false;
        }
        j->has_items |= 1;
        return true;
    }
    uint64_t bit = 1ull << j->depth;
    bool     obj = j->in_obj & bit;
    if (j->after_key) {
        if (is_key) {
            fail(j, ACCTDB_ERR_INVALID);
            return false;
        }
        j->after_key = false;
        return true;
    }
    if (obj && !is_key) {
        fail(j, ACCTDB_ERR_INVALID);
        return false;
    }
    if (!obj && is_key) {
        fail(j, ACCTDB_ERR_INVALID);
        return false;
    }
    if (j->has_items & bit) put(j, ",", 1);
    j->has_items |= bit;
    newline(j);
    return !j->err;
}

static void
open_level(adb_json_t *j, bool obj) {
    if (!pre(j, false)) return;
    if (j->depth + 1 >= ADB_JSON_DEPTH_MAX) {
        fail(j, ACCTDB_ERR_INVALID);
        return;
    }
    put(j, obj ? "{" : "[", 1);
    j->depth++;
    uint64_t bit = 1ull << j->depth;
    j->has_items &= ~bit;
    if (obj)
        j->in_obj |= bit;
    else
        j->in_obj &= ~bit;
}

static void
close_level(adb_json_t *j, bool obj) {
    if (j->err) return;
    uint64_t bit = 1ull << j->depth;
    if (j->depth == 0 || j->after_key || !(j->in_obj & bit) != !obj) {
        fail(j, ACCTDB_ERR_INVALID);
        return;
    }
    bool had = j->has_items & bit;
    j->depth--;
    if (had) newline(j);
    put(j, obj ? "}" : "]", 1);
}

void
adb_json_obj_begin(adb_json_t *j) {
    open_level(j, true);
}
void
adb_json_obj_end(adb_json_t *j) {
    close_level(j, true);
}
void
adb_json_arr_begin(adb_json_t *j) {
    open_level(j, false);
}
void
adb_json_arr_end(adb_json_t *j) {
    close_level(j, false);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
static size_t
utf8_len(uint8_t const *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t   len;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

static void
put_escaped(adb_json_t *j, uint8_t const *s, size_t n) {
    static char const hex[] = "0123456789abcdef";
    put(j, "\"", 1);
    size_t i = 0;
    while (i < n && !j->err) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] != '"' && s[run] != '\\' && s[run] < 0x80)
            run++;
        if (run > i) {
            put(j, (char const *)s + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s[i];
        if (c >= 0x80) {
            size_t l = utf8_len(s + i, n - i);
            if (l) {
                put(j, (char const *)s + i, l);
                i += l;
            } else {
                put(j, "\\ufffd", 6);
                i++;
            }
            continue;
        }
        char   esc[6] = {'\\', 0};
        size_t el = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
            break;
        }
        put(j, esc, el);
        i++;
    }
    put(j, "\"", 1);
}

void
adb_json_key(adb_json_t *j, char const *key) {
    if (!pre(j, true)) return;
    put_escaped(j, (uint8_t const *)key, strlen(key));
    put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
    j->after_key = true;
}

void
adb_json_strn(adb_json_t *j, void const *s, size_t n) {
    if (!pre(j, false)) return;
    put_escaped(j, s, n);
}

void
adb_json_str(adb_json_t *j, char const *s) {
    adb_json_strn(j, s, strlen(s));
}

/* Decimal digits of v, written backwards ending at end; returns the start. */
static char *
fmt_u128(char *end, unsigned __int128 v) {
    char *p = end;
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    return p;
}

void
adb_json_u128(adb_json_t *j, unsigned __int128 v) {
    if (!pre(j, false)) return;
    char  b[40];
    char *p = fmt_u128(b + sizeof b, v);
    put(j, p, (size_t)(b + sizeof b - p));
}

void
adb_json_u64(adb_json_t *j, uint64_t v) {
    adb_json_u128(j, v);
}

void
adb_json_i64(adb_json_t *j, int64_t v) {
    if (!pre(j, false)) return;
    char  b[24];
    bool  neg = v < 0;
    char *p = fmt_u128(b + sizeof b, neg ? (unsigned __int128)(-(v + 1)) + 1 : (uint64_t)v);
    if (neg) *--p = '-';
    put(j, p, (size_t)(b + sizeof b - p));
}

void
adb_json_f64(adb_json_t *j, double v) {
    if (!isfinite(v)) {
        adb_json_null(j);
        return;
    }
    if (!pre(j, false)) return;
    char b[40];
    int  n = 0;
    /* The shortest of %.15g..%.17g that reads back exactly (17 always does). */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(b, sizeof b, "%.*g", prec, v);
        if (prec == 17 || strtod(b, NULL) == v) break;
    }
    put(j, b, (size_t)n);
}

void
adb_json_bool(adb_json_t *j, bool v) {
    if (!pre(j, false)) return;
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void
adb_json_null(adb_json_t *j) {
    if (!pre(j, false)) return;
    put(j, "null", 4);
}

void
adb_json_hex(adb_json_t *j, void const *b, size_t n) {
    static char const hex[] = "0123456789abcdef";
    if (!pre(j, false)) return;
    put(j, "\"", 1);
    uint8_t const *s = b;
    char           chunk[256];
    size_t         i = 0;
    while (i < n && !j->err) {
        size_t k = ADB_MIN(n - i, sizeof chunk / 2);
        for (size_t t = 0; t < k; t++) {
            chunk[2 * t] = hex[s[i + t] >> 4];
            chunk[2 * t + 1] = hex[s[i + t] & 15];
        }
        put(j, chunk, 2 * k);
        i += k;
    }
    put(j, "\"", 1);
}

void
adb_json_b58_32(adb_json_t *j, uint8_t const b[32]) {
    if (!pre(j, false)) return;
    char t[ACCTDB_BASE58_32_SZ];
    adb_base58_encode_32(b, t);
    put(j, "\"", 1);
    put(j, t, strlen(t));
    put(j, "\"", 1);
}

int
adb_json_finish(adb_json_t *j) {
    if (!j->err && (j->depth != 0 || j->after_key || !(j->has_items & 1)))
        fail(j, ACCTDB_ERR_INVALID);
    if (!j->err && j->f) {
        flush(j);
        if (!j->err && fflush(j->f) != 0) fail(j, ACCTDB_ERR_IO);
    }
    return j->err;
}

int
adb_json_take(adb_json_t *j, char **text_out, size_t *sz_out) {
    *text_out = NULL;
    *sz_out = 0;
    if (j->f) fail(j, ACCTDB_ERR_INVALID);
    int rc = adb_json_finish(j);
    if (rc == 0 && reserve(j, 1)) {
        j->buf[j->sz] = 0;
        *text_out = j->buf;
        *sz_out = j->sz;
        j->buf = NULL;
        j->sz = j->cap = 0;
        return 0;
    }
    return j->err;
}
