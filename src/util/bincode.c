/* src/util/bincode.c - bincode reader and writer (see bincode.h). */
#include "util/bincode.h"

#include "util/arena.h"

#include <stdio.h>
#include <stdlib.h>

void
adb_bc_rd_init(adb_bc_rd_t *rd, void const *buf, size_t sz, char const *ctx) {
    rd->buf = buf;
    rd->sz = buf ? sz : 0;
    rd->off = 0;
    rd->ctx = ctx ? ctx : "bincode";
    adb_err_clear(&rd->err);
}

int
adb_bc_fail(adb_bc_rd_t *rd, int code, char const *fmt, ...) {
    if (rd->err.code) return rd->err.code;
    char    what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return adb_err_set(&rd->err, code, "%s: offset %zu: %s", rd->ctx, rd->off, what);
}

/* Returns a pointer to n bytes and advances, or NULL (sticky error). */
static inline uint8_t const *
take(adb_bc_rd_t *rd, size_t n, char const *what) {
    if (ADB_UNLIKELY(rd->err.code)) return NULL;
    if (ADB_UNLIKELY(n > rd->sz - rd->off)) {
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT, "%s truncated (needs %zu bytes, %zu left)", what, n,
                    rd->sz - rd->off);
        return NULL;
    }
    uint8_t const *p = rd->buf + rd->off;
    rd->off += n;
    return p;
}

uint8_t
adb_bc_u8(adb_bc_rd_t *rd, char const *what) {
    uint8_t const *p = take(rd, 1, what);
    return p ? p[0] : 0;
}

uint16_t
adb_bc_u16(adb_bc_rd_t *rd, char const *what) {
    uint8_t const *p = take(rd, 2, what);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t
adb_bc_u32(adb_bc_rd_t *rd, char const *what) {
    uint8_t const *p = take(rd, 4, what);
    return p ? adb_load_u32(p) : 0;
}

uint64_t
adb_bc_u64(adb_bc_rd_t *rd, char const *what) {
    uint8_t const *p = take(rd, 8, what);
    return p ? adb_load_u64(p) : 0;
}

int64_t
adb_bc_i64(adb_bc_rd_t *rd, char const *what) {
    return (int64_t)adb_bc_u64(rd, what);
}

double
adb_bc_f64(adb_bc_rd_t *rd, char const *what) {
    uint64_t u = adb_bc_u64(rd, what);
    double   d;
    memcpy(&d, &u, 8);
    return d;
}

bool
adb_bc_bool(adb_bc_rd_t *rd, char const *what) {
    size_t  at = rd->off;
    uint8_t v = adb_bc_u8(rd, what);
    if (ADB_UNLIKELY(v > 1)) {
        rd->off = at;
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT, "%s: invalid bool byte 0x%02x", what, v);
        return false;
    }
    return v == 1;
}

bool
adb_bc_option(adb_bc_rd_t *rd, char const *what) {
    size_t  at = rd->off;
    uint8_t v = adb_bc_u8(rd, what);
    if (ADB_UNLIKELY(v > 1)) {
        rd->off = at;
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT, "%s: invalid Option tag %u", what, v);
        return false;
    }
    return v == 1;
}

uint32_t
adb_bc_variant(adb_bc_rd_t *rd, uint32_t max, char const *what) {
    size_t   at = rd->off;
    uint32_t v = adb_bc_u32(rd, what);
    if (ADB_UNLIKELY(v > max)) {
        rd->off = at;
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT, "%s: unknown enum variant %u (max %u)", what, v, max);
        return 0;
    }
    return v;
}

uint8_t const *
adb_bc_bytes(adb_bc_rd_t *rd, size_t n, char const *what) {
    return take(rd, n, what);
}

void
adb_bc_copy(adb_bc_rd_t *rd, void *dst, size_t n, char const *what) {
    uint8_t const *p = take(rd, n, what);
    if (p)
        memcpy(dst, p, n);
    else
        memset(dst, 0, n);
}

uint64_t
adb_bc_len(adb_bc_rd_t *rd, size_t min_elem_sz, char const *what) {
    size_t   at = rd->off;
    uint64_t n = adb_bc_u64(rd, what);
    if (ADB_UNLIKELY(rd->err.code)) return 0;
    size_t   left = rd->sz - rd->off;
    uint64_t need;
    if (min_elem_sz == 0) min_elem_sz = 1;
    if (__builtin_mul_overflow(n, (uint64_t)min_elem_sz, &need) || need > left) {
        rd->off = at;
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT,
                    "%s: length prefix %llu exceeds the %zu bytes that remain", what,
                    (unsigned long long)n, left);
        return 0;
    }
    return n;
}

uint8_t const *
adb_bc_str(adb_bc_rd_t *rd, size_t *len_out, char const *what) {
    uint64_t n = adb_bc_len(rd, 1, what);
    *len_out = 0;
    if (!adb_bc_ok(rd)) return NULL;
    uint8_t const *p = take(rd, (size_t)n, what);
    if (p) *len_out = (size_t)n;
    return p;
}

/* ---- writer ------------------------------------------------------------- */

void
adb_bc_wr_init(adb_bc_wr_t *wr, size_t max_sz) {
    memset(wr, 0, sizeof *wr);
    wr->max = max_sz ? max_sz : SIZE_MAX;
}

void
adb_bc_wr_fini(adb_bc_wr_t *wr) {
    adb_free(wr->buf);
    memset(wr, 0, sizeof *wr);
}

uint8_t *
adb_bc_wr_take(adb_bc_wr_t *wr, size_t *sz_out) {
    uint8_t *b = wr->buf;
    *sz_out = wr->sz;
    size_t max = wr->max;
    memset(wr, 0, sizeof *wr);
    wr->max = max;
    return b;
}

void
adb_bc_put_bytes(adb_bc_wr_t *wr, void const *p, size_t n) {
    if (wr->err || n == 0) return;
    if (n > wr->max - wr->sz) {
        wr->err = ACCTDB_ERR_FULL;
        return;
    }
    if (wr->sz + n > wr->cap) {
        size_t cap = wr->cap ? wr->cap : 256;
        while (cap < wr->sz + n)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        uint8_t *nb = adb_realloc(wr->buf, cap);
        if (!nb) {
            wr->err = ACCTDB_ERR_NOMEM;
            return;
        }
        wr->buf = nb;
        wr->cap = cap;
    }
    memcpy(wr->buf + wr->sz, p, n);
    wr->sz += n;
}

void
adb_bc_put_u8(adb_bc_wr_t *wr, uint8_t v) {
    adb_bc_put_bytes(wr, &v, 1);
}
void
adb_bc_put_u16(adb_bc_wr_t *wr, uint16_t v) {
    adb_bc_put_bytes(wr, &v, 2);
}
void
adb_bc_put_u32(adb_bc_wr_t *wr, uint32_t v) {
    adb_bc_put_bytes(wr, &v, 4);
}
void
adb_bc_put_u64(adb_bc_wr_t *wr, uint64_t v) {
    adb_bc_put_bytes(wr, &v, 8);
}
void
adb_bc_put_i64(adb_bc_wr_t *wr, int64_t v) {
    adb_bc_put_bytes(wr, &v, 8);
}
void
adb_bc_put_f64(adb_bc_wr_t *wr, double v) {
    adb_bc_put_bytes(wr, &v, 8);
}
void
adb_bc_put_bool(adb_bc_wr_t *wr, bool v) {
    adb_bc_put_u8(wr, v ? 1 : 0);
}
void
adb_bc_put_str(adb_bc_wr_t *wr, void const *p, size_t n) {
    adb_bc_put_u64(wr, (uint64_t)n);
    adb_bc_put_bytes(wr, p, n);
}

/* ---- reads into an arena ------------------------------------------------ */

void *
adb_bc_arr(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t cnt, size_t elem_sz, char const *what) {
    if (!adb_bc_ok(rd) || cnt == 0) return NULL;
    uint64_t tot;
    void    *p = NULL;
    if (!__builtin_mul_overflow(cnt, (uint64_t)elem_sz, &tot) && tot <= SIZE_MAX)
        p = adb_arena_alloc(mem, (size_t)tot);
    if (!p) {
        adb_bc_fail(rd, ACCTDB_ERR_NOMEM,
                    "%s: cannot allocate %llu entries of %zu bytes (%zu of the %zu-byte "
                    "budget in use, or out of memory)",
                    what, (unsigned long long)cnt, elem_sz, mem->used_sz, mem->max_sz);
    }
    return p;
}

uint8_t *
adb_bc_bytes_dup(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t *sz_out, char const *what) {
    *sz_out = 0;
    uint64_t n = adb_bc_len(rd, 1, what);
    uint8_t *p = adb_bc_arr(rd, mem, n, 1, what);
    if (!p) return NULL;
    adb_bc_copy(rd, p, (size_t)n, what);
    if (!adb_bc_ok(rd)) return NULL;
    *sz_out = n;
    return p;
}

bool
adb_utf8_valid(uint8_t const *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t   len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len > n - i) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

uint8_t *
adb_bc_string_dup(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t *sz_out, char const *what) {
    size_t   at = rd->off;
    uint8_t *p = adb_bc_bytes_dup(rd, mem, sz_out, what);
    if (p && !adb_utf8_valid(p, (size_t)*sz_out)) {
        rd->off = at;
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT, "%s: string of %llu bytes is not valid UTF-8", what,
                    (unsigned long long)*sz_out);
        *sz_out = 0;
        return NULL;
    }
    return p;
}

/* A Vec/HashMap length and its zeroed array: *cnt_out is set only once the
 * array exists, so counts never exceed what was allocated. */
void *
adb_bc_vec(adb_bc_rd_t *rd, struct adb_arena *mem, size_t min_wire, size_t elem_sz,
           uint64_t *cnt_out, char const *what) {
    *cnt_out = 0;
    uint64_t n = adb_bc_len(rd, min_wire, what);
    void    *p = adb_bc_arr(rd, mem, n, elem_sz, what);
    if (p) *cnt_out = n;
    return p;
}
