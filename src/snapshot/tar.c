/* src/snapshot/tar.c - streaming hardened tar reader and ustar writer.
 *
 * States of the reader:
 *
 *   HDR --header--> DATA --all data--> (ENTRY_END) PAD --> HDR
 *    |  --'L'/'x'/'g'--> EXT --> PAD --> HDR (the next header uses it)
 *    |  --zero block, zero block--> DONE (EOF event)
 *
 * Invariants:
 *   1. No event is produced for an entry whose header failed any check.
 *   2. DATA events never exceed the entry's declared size, and the sum of
 *      declared sizes never exceeds lim.max_total_sz.
 *   3. An error is sticky: every later call returns it. */
#include "snapshot/tar.h"

#include <stdio.h>

enum { ST_HDR, ST_DATA, ST_PAD, ST_EXT, ST_DONE };

#define EXT_MAX_L   4096u
#define EXT_MAX_PAX 65536u

void
adb_tar_limits_default(adb_tar_limits_t *l) {
    l->max_entries = 5000000;
    l->max_total_sz = 4ull << 40;
    l->max_entry_sz = 64ull << 30;
}

void
adb_tar_init(adb_tar_t *t, adb_tar_limits_t const *lim) {
    memset(t, 0, sizeof *t);
    if (lim)
        t->lim = *lim;
    else
        adb_tar_limits_default(&t->lim);
    t->state = ST_HDR;
}

void
adb_tar_fini(adb_tar_t *t) {
    adb_free(t->ext_buf);
    t->ext_buf = NULL;
}

bool
adb_tar_done(adb_tar_t const *t) {
    return t->state == ST_DONE;
}

static int fail(adb_tar_t *t, int code, char const *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(adb_tar_t *t, int code, char const *fmt, ...) {
    if (t->err.code) return t->err.code;
    char    what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return adb_err_set(&t->err, code, "tar: header at offset %llu: %s",
                       (unsigned long long)t->hdr_off, what);
}

/* ---- header fields ------------------------------------------------------ */

static bool
parse_octal(uint8_t const *f, size_t n, uint64_t *out) {
    size_t i = 0;
    while (i < n && f[i] == ' ')
        i++;
    uint64_t v = 0;
    size_t   digits = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 61) return false;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != 0) return false;
    *out = v;
    return true;
}

static bool
parse_size(uint8_t const *f, uint64_t *out) {
    if (f[0] & 0x80) {
        if (f[0] != 0x80) return false; /* negative or unknown base-256 */
        for (int i = 1; i < 4; i++)
            if (f[i]) return false; /* > 64 bits */
        uint64_t v = 0;
        for (int i = 4; i < 12; i++)
            v = v << 8 | f[i];
        *out = v;
        return true;
    }
    return parse_octal(f, 12, out);
}

static bool
checksum_ok(uint8_t const *h) {
    uint64_t want;
    if (!parse_octal(h + 148, 8, &want)) return false;
    uint64_t usum = 0;
    int64_t  ssum = 0;
    for (int i = 0; i < 512; i++) {
        uint8_t c = (i >= 148 && i < 156) ? ' ' : h[i];
        usum += c;
        ssum += (int8_t)c;
    }
    return usum == want || (uint64_t)ssum == want;
}

static bool
all_zero(uint8_t const *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

/* Valid UTF-8, no control bytes, no backslash. */
static bool
path_bytes_ok(char const *p, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)p[i];
        if (c < 0x20 || c == 0x7f || c == '\\') return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n || (len == 2 && c < 0xC2)) return false;
        for (size_t k = 1; k < len; k++)
            if (((uint8_t)p[i + k] & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

/* Normalizes raw (n bytes) into t->path: drops "." components and a
 * trailing '/', rejects absolute paths, "..", empty components. */
static int
set_path(adb_tar_t *t, char const *raw, size_t n, bool is_dir) {
    if (n == 0) return fail(t, ACCTDB_ERR_CORRUPT, "empty entry name");
    if (n > ADB_TAR_PATH_MAX) return fail(t, ACCTDB_ERR_CORRUPT, "entry name too long");
    if (!path_bytes_ok(raw, n))
        return fail(t, ACCTDB_ERR_CORRUPT,
                    "entry name has a control byte, a backslash or invalid UTF-8");
    if (raw[0] == '/')
        return fail(t, ACCTDB_ERR_CORRUPT, "absolute path '%.*s' rejected", (int)ADB_MIN(n, 200),
                    raw);
    if (raw[n - 1] == '/' && !is_dir)
        return fail(t, ACCTDB_ERR_CORRUPT, "'%.*s' ends in '/' but is not a directory",
                    (int)ADB_MIN(n, 200), raw);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && raw[j] != '/')
            j++;
        size_t clen = j - i;
        if (clen == 0 && j < n)
            return fail(t, ACCTDB_ERR_CORRUPT, "empty path component in '%.*s'",
                        (int)ADB_MIN(n, 200), raw);
        if (clen == 2 && raw[i] == '.' && raw[i + 1] == '.')
            return fail(t, ACCTDB_ERR_CORRUPT, "'..' in path '%.*s' rejected", (int)ADB_MIN(n, 200),
                        raw);
        if (clen && !(clen == 1 && raw[i] == '.')) {
            if (o) t->path[o++] = '/';
            memcpy(t->path + o, raw + i, clen);
            o += clen;
        }
        i = j + 1;
    }
    t->path[o] = 0;
    if (o == 0) return fail(t, ACCTDB_ERR_CORRUPT, "entry name '.' has no component");
    return 0;
}

/* Parses the pax records in ext_buf for "path" and "size". */
static int
parse_pax(adb_tar_t *t) {
    char  *p = t->ext_buf;
    size_t n = t->ext_have;
    while (n) {
        size_t len = 0, i = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && i < 10)
            len = len * 10 + (size_t)(p[i++] - '0');
        if (i == 0 || i >= n || p[i] != ' ' || len <= i + 1 || len > n || p[len - 1] != '\n')
            return fail(t, ACCTDB_ERR_CORRUPT, "malformed pax extended header record");
        char  *kv = p + i + 1;
        size_t kvn = len - i - 2; /* without the newline */
        char  *eq = memchr(kv, '=', kvn);
        if (!eq) return fail(t, ACCTDB_ERR_CORRUPT, "pax record without '='");
        size_t klen = (size_t)(eq - kv), vlen = kvn - klen - 1;
        char  *val = eq + 1;
        if (klen == 4 && !memcmp(kv, "path", 4)) {
            if (vlen == 0 || vlen > ADB_TAR_PATH_MAX)
                return fail(t, ACCTDB_ERR_CORRUPT, "pax path length %zu out of range", vlen);
            memcpy(t->pending_path, val, vlen);
            t->pending_path[vlen] = 0;
            if (strlen(t->pending_path) != vlen)
                return fail(t, ACCTDB_ERR_CORRUPT, "pax path contains NUL");
            t->has_pending_path = true;
        } else if (klen == 4 && !memcmp(kv, "size", 4)) {
            uint64_t v = 0;
            if (vlen == 0 || vlen > 20) return fail(t, ACCTDB_ERR_CORRUPT, "bad pax size");
            for (size_t k = 0; k < vlen; k++) {
                if (val[k] < '0' || val[k] > '9' || v > (UINT64_MAX - 9) / 10)
                    return fail(t, ACCTDB_ERR_CORRUPT, "bad pax size");
                v = v * 10 + (uint64_t)(val[k] - '0');
            }
            t->pending_size = v;
            t->has_pending_size = true;
        }
        p += len;
        n -= len;
    }
    return 0;
}

static int
count_entry(adb_tar_t *t, uint64_t size) {
    if (++t->entry_cnt > t->lim.max_entries)
        return fail(t, ACCTDB_ERR_FULL, "more than %llu entries",
                    (unsigned long long)t->lim.max_entries);
    if (size > t->lim.max_entry_sz)
        return fail(t, ACCTDB_ERR_FULL, "entry size %llu exceeds the limit %llu",
                    (unsigned long long)size, (unsigned long long)t->lim.max_entry_sz);
    if (size > t->lim.max_total_sz - t->total_sz)
        return fail(t, ACCTDB_ERR_FULL, "archive contents exceed %llu bytes",
                    (unsigned long long)t->lim.max_total_sz);
    t->total_sz += size;
    return 0;
}

/* Handles a complete non-zero header block. Returns 1 with an ENTRY event,
 * 0 to continue (extended header), or an error. */
static int
on_header(adb_tar_t *t, adb_tar_ev_t *ev) {
    uint8_t const *h = t->blk;
    if (!checksum_ok(h)) return fail(t, ACCTDB_ERR_CORRUPT, "header checksum mismatch");
    bool     posix = !memcmp(h + 257, "ustar\0", 6);
    bool     gnu = !memcmp(h + 257, "ustar ", 6);
    char     type = (char)h[156];
    uint64_t size;
    if (!parse_size(h + 124, &size)) return fail(t, ACCTDB_ERR_CORRUPT, "malformed size field");

    switch (type) {
    case '0':
    case '\0':
    case '5':
        break;
    case 'L':
    case 'x':
    case 'g': {
        if ((type == 'L' && !gnu) || ((type == 'x' || type == 'g') && !posix && !gnu))
            return fail(t, ACCTDB_ERR_CORRUPT, "extended header '%c' in a non-ustar archive", type);
        size_t max = type == 'L' ? EXT_MAX_L + 1 : EXT_MAX_PAX;
        if (size == 0 || size > max)
            return fail(t, ACCTDB_ERR_CORRUPT, "extended header '%c' of %llu bytes", type,
                        (unsigned long long)size);
        ADB_TRY(count_entry(t, 0));
        if (!t->ext_buf && !(t->ext_buf = adb_malloc(EXT_MAX_PAX + 1)))
            return fail(t, ACCTDB_ERR_NOMEM, "no memory for an extended header");
        t->ext_kind = type;
        t->ext_have = 0;
        t->remain = size;
        t->pad = (uint32_t)adb_tar_pad(size);
        t->state = ST_EXT;
        return 0;
    }
    case '1':
        return fail(t, ACCTDB_ERR_CORRUPT, "hard link entries are not allowed");
    case '2':
        return fail(t, ACCTDB_ERR_CORRUPT, "symbolic link entries are not allowed");
    case '3':
    case '4':
        return fail(t, ACCTDB_ERR_CORRUPT, "device entries are not allowed");
    case '6':
        return fail(t, ACCTDB_ERR_CORRUPT, "FIFO entries are not allowed");
    case 'S':
        return fail(t, ACCTDB_ERR_UNSUPPORTED, "GNU sparse entries are not supported");
    case 'K':
        return fail(t, ACCTDB_ERR_CORRUPT, "long link names are not allowed");
    default:
        return fail(t, ACCTDB_ERR_CORRUPT, "entry type 0x%02x is not allowed", (uint8_t)type);
    }

    bool is_dir = type == '5';
    int  rc;
    if (t->has_pending_size) size = t->pending_size;
    if (t->has_pending_path) {
        rc = set_path(t, t->pending_path, strlen(t->pending_path), is_dir);
    } else {
        char   raw[256 + 1 + 100 + 1];
        size_t n = 0;
        if (posix && h[345]) {
            size_t pl = strnlen((char const *)h + 345, 155);
            memcpy(raw, h + 345, pl);
            n = pl;
            raw[n++] = '/';
        }
        size_t nl = strnlen((char const *)h, 100);
        memcpy(raw + n, h, nl);
        n += nl;
        rc = set_path(t, raw, n, is_dir);
    }
    t->has_pending_path = t->has_pending_size = false;
    if (rc) return rc;
    if (is_dir && size != 0)
        return fail(t, ACCTDB_ERR_CORRUPT, "directory '%s' has %llu bytes of data", t->path,
                    (unsigned long long)size);
    ADB_TRY(count_entry(t, size));
    t->entry_sz = t->remain = size;
    t->pad = (uint32_t)adb_tar_pad(size);
    t->state = ST_DATA;
    ev->kind = ADB_TAR_EV_ENTRY;
    ev->path = t->path;
    ev->is_dir = is_dir;
    ev->size = size;
    return 1;
}

static void
eat(adb_tar_t *t, uint8_t const **in, size_t *in_sz, size_t n) {
    *in += n;
    *in_sz -= n;
    t->stream_off += n;
}

int
adb_tar_next(adb_tar_t *t, uint8_t const **in, size_t *in_sz, adb_tar_ev_t *ev) {
    if (t->err.code) return t->err.code;
    memset(ev, 0, sizeof *ev);
    for (;;) {
        switch (t->state) {
        case ST_DONE:
            eat(t, in, in_sz, *in_sz);
            return 0;
        case ST_HDR: {
            if (*in_sz == 0) return 0;
            if (t->blk_have == 0) t->hdr_off = t->stream_off;
            size_t n = ADB_MIN(ADB_TAR_BLOCK - t->blk_have, *in_sz);
            memcpy(t->blk + t->blk_have, *in, n);
            t->blk_have += n;
            eat(t, in, in_sz, n);
            if (t->blk_have < ADB_TAR_BLOCK) return 0;
            t->blk_have = 0;
            if (all_zero(t->blk, ADB_TAR_BLOCK)) {
                if (t->has_pending_path || t->has_pending_size)
                    return fail(t, ACCTDB_ERR_CORRUPT, "extended header not followed by an entry");
                if (++t->zero_blocks == 2) {
                    t->state = ST_DONE;
                    ev->kind = ADB_TAR_EV_EOF;
                    return 1;
                }
                continue;
            }
            if (t->zero_blocks)
                return fail(t, ACCTDB_ERR_CORRUPT, "a lone zero block inside the archive");
            int rc = on_header(t, ev);
            if (rc) return rc;
            continue;
        }
        case ST_DATA: {
            if (t->remain == 0) {
                t->state = t->pad ? ST_PAD : ST_HDR;
                ev->kind = ADB_TAR_EV_ENTRY_END;
                ev->path = t->path;
                ev->size = t->entry_sz;
                return 1;
            }
            if (*in_sz == 0) return 0;
            size_t n = (size_t)ADB_MIN((uint64_t)*in_sz, t->remain);
            ev->kind = ADB_TAR_EV_DATA;
            ev->path = t->path;
            ev->data = *in;
            ev->data_sz = n;
            ev->data_off = t->entry_sz - t->remain;
            t->remain -= n;
            eat(t, in, in_sz, n);
            return 1;
        }
        case ST_PAD: {
            if (t->pad == 0) {
                t->state = ST_HDR;
                continue;
            }
            if (*in_sz == 0) return 0;
            size_t n = ADB_MIN((size_t)t->pad, *in_sz);
            t->pad -= (uint32_t)n;
            eat(t, in, in_sz, n);
            continue;
        }
        case ST_EXT: {
            if (t->remain) {
                if (*in_sz == 0) return 0;
                size_t n = (size_t)ADB_MIN((uint64_t)*in_sz, t->remain);
                memcpy(t->ext_buf + t->ext_have, *in, n);
                t->ext_have += n;
                t->remain -= n;
                eat(t, in, in_sz, n);
                if (t->remain) return 0;
            }
            if (t->ext_kind == 'L') {
                size_t n = strnlen(t->ext_buf, t->ext_have);
                if (n == 0 || n > ADB_TAR_PATH_MAX)
                    return fail(t, ACCTDB_ERR_CORRUPT, "GNU long name of %zu bytes", n);
                memcpy(t->pending_path, t->ext_buf, n);
                t->pending_path[n] = 0;
                t->has_pending_path = true;
            } else if (t->ext_kind == 'x') {
                int rc = parse_pax(t);
                if (rc) return rc;
            }
            t->state = t->pad ? ST_PAD : ST_HDR;
            continue;
        }
        default:
            return fail(t, ACCTDB_ERR_FATAL, "bad reader state");
        }
    }
}

/* ---- snapshot admission ------------------------------------------------- */

/* Parses exactly n decimal digits into *out (no overflow). */
static bool
digits(char const *s, size_t n, uint64_t *out) {
    if (n == 0 || n > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

adb_snap_entry_kind_t
adb_snap_entry_classify(char const *path, bool is_dir, uint64_t *slot_out, uint64_t *id_out) {
    *slot_out = *id_out = 0;
    if (!strcmp(path, "version")) return is_dir ? ADB_SNAP_ENTRY_REJECT : ADB_SNAP_ENTRY_VERSION;
    if (!strcmp(path, "accounts"))
        return is_dir ? ADB_SNAP_ENTRY_ACCOUNTS_DIR : ADB_SNAP_ENTRY_REJECT;
    if (!strcmp(path, "snapshots"))
        return is_dir ? ADB_SNAP_ENTRY_SNAPSHOTS_DIR : ADB_SNAP_ENTRY_REJECT;
    if (!strcmp(path, "snapshots/status_cache"))
        return is_dir ? ADB_SNAP_ENTRY_REJECT : ADB_SNAP_ENTRY_STATUS_CACHE;
    if (!strncmp(path, "accounts/", 9)) {
        char const *name = path + 9, *dot = strchr(name, '.');
        if (is_dir || !dot || strchr(dot + 1, '.') || strchr(name, '/'))
            return ADB_SNAP_ENTRY_REJECT;
        if (!digits(name, (size_t)(dot - name), slot_out) ||
            !digits(dot + 1, strlen(dot + 1), id_out))
            return ADB_SNAP_ENTRY_REJECT;
        return ADB_SNAP_ENTRY_ACCOUNT_FILE;
    }
    if (!strncmp(path, "snapshots/", 10)) {
        char const *a = path + 10, *slash = strchr(a, '/');
        if (!slash) {
            if (!is_dir || !digits(a, strlen(a), slot_out)) return ADB_SNAP_ENTRY_REJECT;
            return ADB_SNAP_ENTRY_SLOT_DIR;
        }
        uint64_t s2;
        if (is_dir || strchr(slash + 1, '/') || !digits(a, (size_t)(slash - a), slot_out) ||
            !digits(slash + 1, strlen(slash + 1), &s2) || s2 != *slot_out)
            return ADB_SNAP_ENTRY_REJECT;
        return ADB_SNAP_ENTRY_MANIFEST;
    }
    return ADB_SNAP_ENTRY_REJECT;
}

/* ---- writer ------------------------------------------------------------- */

static void
put_octal(uint8_t *f, size_t n, uint64_t v) {
    /* n-1 octal digits, NUL terminated. */
    f[n - 1] = 0;
    for (size_t i = n - 1; i-- > 0;) {
        f[i] = (uint8_t)('0' + (v & 7));
        v >>= 3;
    }
}

int
adb_tar_header(uint8_t hdr[ADB_TAR_BLOCK], char const *path, bool is_dir, uint64_t size,
               uint64_t mtime) {
    memset(hdr, 0, ADB_TAR_BLOCK);
    size_t n = strlen(path);
    char   full[ADB_TAR_PATH_MAX + 2];
    if (n == 0 || n + 2 > sizeof full) return ACCTDB_ERR_INVALID;
    memcpy(full, path, n);
    if (is_dir && full[n - 1] != '/') full[n++] = '/';
    if (n <= 100) {
        memcpy(hdr, full, n);
    } else {
        /* Split at a '/' so that prefix <= 155 and name <= 100. */
        size_t cut = n - 101;
        while (cut < n && full[cut] != '/')
            cut++;
        if (cut >= n || cut > 155 || cut == 0) return ACCTDB_ERR_INVALID;
        memcpy(hdr + 345, full, cut);
        memcpy(hdr, full + cut + 1, n - cut - 1);
    }
    put_octal(hdr + 100, 8, is_dir ? 0755 : 0644);
    put_octal(hdr + 108, 8, 0);
    put_octal(hdr + 116, 8, 0);
    if (size < (1ull << 33)) {
        put_octal(hdr + 124, 12, size);
    } else {
        hdr[124] = 0x80;
        for (int i = 11; i >= 4; i--, size >>= 8)
            hdr[124 + i] = (uint8_t)size;
    }
    put_octal(hdr + 136, 12, mtime & 077777777777ull);
    hdr[156] = is_dir ? '5' : '0';
    memcpy(hdr + 257,
           "ustar\0"
           "00",
           8);
    memset(hdr + 148, ' ', 8);
    uint64_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum += hdr[i];
    put_octal(hdr + 148, 7, sum); /* 6 digits + NUL, then the space */
    hdr[155] = ' ';
    return 0;
}
