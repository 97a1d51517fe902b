/* src/snapshot/bincode_types.c - shared pieces of the snapshot bincode
 * codecs (see bincode_types.h). */
#include "snapshot/bincode_types.h"

void *
adb_snap_arr_alloc(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t cnt, size_t elem_sz,
                   char const *what) {
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
adb_snap_bytes_read(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t *sz_out, char const *what) {
    *sz_out = 0;
    uint64_t n = adb_bc_len(rd, 1, what);
    uint8_t *p = adb_snap_arr_alloc(rd, mem, n, 1, what);
    if (!p) return NULL;
    adb_bc_copy(rd, p, (size_t)n, what);
    if (!adb_bc_ok(rd)) return NULL;
    *sz_out = n;
    return p;
}

bool
adb_snap_utf8_valid(uint8_t const *s, size_t n) {
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
adb_snap_string_read(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t *sz_out, char const *what) {
    size_t   at = rd->off;
    uint8_t *p = adb_snap_bytes_read(rd, mem, sz_out, what);
    if (p && !adb_snap_utf8_valid(p, (size_t)*sz_out)) {
        rd->off = at;
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT, "%s: string of %llu bytes is not valid UTF-8", what,
                    (unsigned long long)*sz_out);
        *sz_out = 0;
        return NULL;
    }
    return p;
}

void
adb_snap_account_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_bank_account_t *out,
                      char const *what) {
    out->lamports = adb_bc_u64(rd, what);
    out->data = adb_snap_bytes_read(rd, mem, &out->data_sz, what);
    adb_bc_copy(rd, out->owner.b, 32, what);
    out->executable = adb_bc_bool(rd, what);
    out->rent_epoch = adb_bc_u64(rd, what);
}

void
adb_snap_account_write(adb_bc_wr_t *wr, adb_bank_account_t const *a) {
    adb_bc_put_u64(wr, a->lamports);
    adb_bc_put_str(wr, a->data, (size_t)a->data_sz);
    adb_bc_put_bytes(wr, a->owner.b, 32);
    adb_bc_put_bool(wr, a->executable);
    adb_bc_put_u64(wr, a->rent_epoch);
}
