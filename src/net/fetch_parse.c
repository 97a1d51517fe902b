/* src/net/fetch_parse.c - the download client's pure functions (see
 * fetch.h): everything that reads bytes a peer sent, with no I/O, so
 * fuzz/fuzz_fetch.c can drive each one alone.
 *
 * Invariants:
 *   1. Every input is (pointer, length); nothing reads past it or relies on
 *      a NUL, and every output string is NUL-terminated within its buffer.
 *   2. A parser either accepts its whole input or returns an error with
 *      why; there is no "best effort" reading of a malformed head.
 *   3. Numbers are decimal digits only and are checked for overflow before
 *      they are multiplied. */
#include "net/fetch.h"

#include "util/base58.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <strings.h>

/* ---- small helpers ----------------------------------------------------- */

static bool
is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field values and reason phrases: HTAB, SP, VCHAR, obs-text. */
static bool
is_vchar(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Decimal digits only, at least one, at most max; false on anything else
 * or overflow. */
static bool
parse_dec(char const *s, size_t n, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (n == 0 || n > 20) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (v > max) return false;
    *out = v;
    return true;
}

static bool
name_is(char const *name, size_t n, char const *want) {
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static bool
value_is(char const *v, size_t n, char const *want) {
    return strlen(want) == n && strncasecmp(v, want, n) == 0;
}

/* A printable, bounded copy of untrusted text for messages. */
static char const *
show(char const *p, size_t n, char *buf, size_t max) {
    size_t o = 0, i = 0;
    for (; i < n && o + 5 < max; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            buf[o++] = (char)c;
        } else {
            snprintf(buf + o, max - o, "\\x%02x", c);
            o += 4;
        }
    }
    buf[o] = 0;
    if (i < n && o >= 3) memcpy(buf + o - 3, "...", 3); /* cut */
    return buf;
}

/* ---- response heads ---------------------------------------------------- */

static int
parse_status(char const *l, size_t n, adb_fetch_head_t *out, adb_err_t *err) {
    char sh[80];
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (n < 12 || memcmp(l, "HTTP/1.", 7) || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
        l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
        (n > 12 && l[12] != ' '))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "bad HTTP status line '%s'",
                           show(l, n, sh, sizeof sh));
    for (size_t i = 13; i < n; i++)
        if (!is_vchar((unsigned char)l[i]))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "bad HTTP status line '%s': control byte in the reason",
                               show(l, n, sh, sizeof sh));
    out->http_minor = l[7] - '0';
    out->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    return 0;
}

static int
parse_range(char const *v, size_t n, adb_fetch_head_t *out, adb_err_t *err) {
    char        sh[96];
    char const *end = v + n, *p = v;
    if (n < 6 || memcmp(p, "bytes ", 6)) goto bad;
    p += 6;
    char const *dash = memchr(p, '-', (size_t)(end - p));
    if (!dash) goto bad;
    char const *slash = memchr(dash, '/', (size_t)(end - dash));
    if (!slash) goto bad;
    if (!parse_dec(p, (size_t)(dash - p), ADB_FETCH_LENGTH_MAX, &out->range_first) ||
        !parse_dec(dash + 1, (size_t)(slash - dash - 1), ADB_FETCH_LENGTH_MAX, &out->range_last) ||
        !parse_dec(slash + 1, (size_t)(end - slash - 1), ADB_FETCH_LENGTH_MAX, &out->range_total))
        goto bad;
    if (out->range_first > out->range_last || out->range_last >= out->range_total) goto bad;
    out->has_range = true;
    return 0;
bad:
    return adb_err_set(err, ACCTDB_ERR_CORRUPT, "bad Content-Range '%s'",
                       show(v, n, sh, sizeof sh));
}

static int
parse_field(char const *l, size_t n, adb_fetch_head_t *out, adb_err_t *err) {
    char   sh[96];
    size_t k = 0;
    while (k < n && is_tchar((unsigned char)l[k]))
        k++;
    if (k == 0 || k == n || l[k] != ':')
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "bad header field '%s'",
                           show(l, n, sh, sizeof sh));
    char const *name = l;
    size_t      nl = k;
    size_t      a = k + 1, b = n;
    for (size_t i = a; i < n; i++)
        if (!is_vchar((unsigned char)l[i]))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "header field '%s': control byte 0x%02x",
                               show(name, nl, sh, sizeof sh), (unsigned char)l[i]);
    while (a < b && (l[a] == ' ' || l[a] == '\t'))
        a++;
    while (b > a && (l[b - 1] == ' ' || l[b - 1] == '\t'))
        b--;
    char const *v = l + a;
    size_t      vn = b - a;
    if (++out->fields > ADB_FETCH_HEADERS_MAX)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "more than %d header fields",
                           ADB_FETCH_HEADERS_MAX);
    if (name_is(name, nl, "Content-Length")) {
        uint64_t len;
        if (!parse_dec(v, vn, ADB_FETCH_LENGTH_MAX, &len))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "bad Content-Length '%s'",
                               show(v, vn, sh, sizeof sh));
        if (out->has_length && out->length != len)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "two different Content-Lengths (%llu and %llu)",
                               (unsigned long long)out->length, (unsigned long long)len);
        out->has_length = true;
        out->length = len;
    } else if (name_is(name, nl, "Transfer-Encoding")) {
        if (!value_is(v, vn, "chunked") || out->chunked)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "Transfer-Encoding '%s' is not supported",
                               show(v, vn, sh, sizeof sh));
        out->chunked = true;
    } else if (name_is(name, nl, "Content-Encoding")) {
        if (!value_is(v, vn, "identity"))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "Content-Encoding '%s' refused (nothing is decoded)",
                               show(v, vn, sh, sizeof sh));
    } else if (name_is(name, nl, "Location")) {
        if (out->has_location)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "more than one Location");
        if (vn == 0 || vn > ADB_FETCH_LOCATION_MAX)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "Location of %zu bytes (1 to %d)", vn,
                               ADB_FETCH_LOCATION_MAX);
        memcpy(out->location, v, vn);
        out->location[vn] = 0;
        out->has_location = true;
    } else if (name_is(name, nl, "Content-Range")) {
        if (out->has_range) return adb_err_set(err, ACCTDB_ERR_CORRUPT, "two Content-Ranges");
        return parse_range(v, vn, out, err);
    }
    return 0;
}

int
adb_fetch_head_parse(char const *p, size_t n, adb_fetch_head_t *out, adb_err_t *err) {
    memset(out, 0, sizeof *out);
    if (n > ADB_FETCH_HEAD_MAX)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "response head of %zu bytes (at most %u)", n,
                           ADB_FETCH_HEAD_MAX);
    size_t pos = 0;
    bool   first = true;
    while (pos < n) {
        char const *nl = memchr(p + pos, '\n', n - pos);
        if (!nl) break;
        size_t end = (size_t)(nl - p), len = end - pos;
        if (len && p[end - 1] == '\r') len--;
        char const *l = p + pos;
        if (memchr(l, '\r', len) || memchr(l, 0, len))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "bare CR or NUL in the response head");
        pos = end + 1;
        if (first) {
            ADB_TRY(parse_status(l, len, out, err));
            first = false;
            continue;
        }
        if (len == 0) {
            if (pos != n)
                return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                   "%zu bytes after the end of the response head", n - pos);
            if (out->chunked && out->has_length)
                return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                   "both Transfer-Encoding and Content-Length");
            return 0;
        }
        if (l[0] == ' ' || l[0] == '\t')
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "obsolete line folding in the head");
        ADB_TRY(parse_field(l, len, out, err));
    }
    return adb_err_set(err, ACCTDB_ERR_CORRUPT, "response head not terminated by a blank line");
}

/* ---- Location ---------------------------------------------------------- */

int
adb_fetch_location_parse(char const *loc, size_t n, bool incremental, adb_snap_name_t *name_out,
                         char *path_out, size_t path_max, adb_err_t *err) {
    char sh[128];
    memset(name_out, 0, sizeof *name_out);
    if (path_max) path_out[0] = 0;
    if (n == 0 || n > ADB_FETCH_LOCATION_MAX)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "redirect Location of %zu bytes", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)loc[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '.' || c == '_' || c == '-' || c == '/')
            continue;
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           c == ':' ? "redirect to '%s' refused: only a relative Location is "
                                      "accepted"
                                    : "redirect to '%s' refused: a character outside "
                                      "[A-Za-z0-9._/-]",
                           show(loc, n, sh, sizeof sh));
    }
    if (n >= 2 && loc[0] == '/' && loc[1] == '/')
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "redirect to '%s' refused: a network-path reference names another host",
                           show(loc, n, sh, sizeof sh));
    /* Segments: non-empty, not "." or "..", at most 4. */
    size_t      i = loc[0] == '/' ? 1 : 0, segs = 0;
    char const *last = loc + i;
    size_t      last_n = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && loc[j] != '/')
            j++;
        size_t sn = j - i;
        if (sn == 0 || (sn == 1 && loc[i] == '.') ||
            (sn == 2 && loc[i] == '.' && loc[i + 1] == '.'))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "redirect to '%s' refused: empty, '.' or '..' path segment",
                               show(loc, n, sh, sizeof sh));
        if (++segs > 4)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "redirect to '%s' refused: more than 4 path segments",
                               show(loc, n, sh, sizeof sh));
        last = loc + i;
        last_n = sn;
        i = j + 1;
    }
    char base[ADB_FETCH_LOCATION_MAX + 1];
    memcpy(base, last, last_n);
    base[last_n] = 0;
    adb_snap_name_t nm;
    char            canon[160];
    if (adb_snap_name_parse(base, &nm) || nm.is_incremental != incremental)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "redirect to '%s' refused: '%s' is not %s archive name",
                           show(loc, n, sh, sizeof sh), base,
                           incremental ? "an incremental-snapshot-<base>-<slot>-<hash>.tar.zst"
                                       : "a snapshot-<slot>-<hash>.tar.zst");
    if (strcmp(adb_snap_name_format(&nm, canon, sizeof canon), base))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "redirect to '%s' refused: archive name not in canonical form "
                           "(expected %s)",
                           show(loc, n, sh, sizeof sh), canon);
    if (incremental && nm.base_slot >= nm.slot)
        return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                           "redirect to '%s' refused: incremental slot not above its base",
                           show(loc, n, sh, sizeof sh));
    size_t need = n + (loc[0] == '/' ? 0 : 1) + 1;
    if (need > path_max) return adb_err_set(err, ACCTDB_ERR_CORRUPT, "redirect path too long");
    snprintf(path_out, path_max, "%s%.*s", loc[0] == '/' ? "" : "/", (int)n, loc);
    *name_out = nm;
    return 0;
}

/* ---- getHighestSnapshotSlot -------------------------------------------- */

/* A non-negative integer below 2^63 - 1: json-c saturates what does not
 * fit (to INT64_MIN, INT64_MAX or UINT64_MAX) instead of failing, so the
 * top values are refused as possibly saturated. */
static bool
json_u64(json_object *o, uint64_t *out) {
    if (!o || json_object_get_type(o) != json_type_int) return false;
    if (json_object_get_int64(o) < 0) return false;
    uint64_t v = json_object_get_uint64(o);
    if (v >= (uint64_t)INT64_MAX) return false;
    *out = v;
    return true;
}

int
adb_fetch_highest_parse(char const *body, size_t n, bool *has_out, uint64_t *full_out,
                        bool *has_inc_out, uint64_t *inc_out, adb_err_t *err) {
    *has_out = *has_inc_out = false;
    *full_out = *inc_out = 0;
    if (n == 0 || n > (64u << 10))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "getHighestSnapshotSlot: answer of %zu bytes",
                           n);
    if (memchr(body, 0, n))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "getHighestSnapshotSlot: NUL in the answer");
    json_tokener *tok = json_tokener_new_ex(8);
    if (!tok) return adb_err_set(err, ACCTDB_ERR_NOMEM, "getHighestSnapshotSlot: out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, body, (int)n);
    int          rc = 0;
    if (!root || json_tokener_get_error(tok) != json_tokener_success) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "getHighestSnapshotSlot: not JSON (%s)",
                         json_tokener_error_desc(json_tokener_get_error(tok)));
        goto cleanup;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < n; i++)
        if (!strchr(" \t\r\n", body[i])) {
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                             "getHighestSnapshotSlot: bytes after the JSON value");
            goto cleanup;
        }
    json_object *ver, *id, *res, *er;
    uint64_t     idv;
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "jsonrpc", &ver) ||
        !json_object_is_type(ver, json_type_string) || strcmp(json_object_get_string(ver), "2.0") ||
        !json_object_object_get_ex(root, "id", &id) || !json_u64(id, &idv) || idv != 1) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                         "getHighestSnapshotSlot: not a JSON-RPC 2.0 answer to id 1");
        goto cleanup;
    }
    bool has_res = json_object_object_get_ex(root, "result", &res);
    bool has_er = json_object_object_get_ex(root, "error", &er);
    if (has_res == has_er) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                         "getHighestSnapshotSlot: the answer needs exactly one of result, error");
        goto cleanup;
    }
    if (has_er) {
        json_object *code;
        if (json_object_is_type(er, json_type_object) &&
            json_object_object_get_ex(er, "code", &code) &&
            json_object_is_type(code, json_type_int) && json_object_get_int64(code) == -32008)
            goto cleanup; /* NoSnapshot */
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT, "getHighestSnapshotSlot: error %s",
                         json_object_to_json_string_ext(er, JSON_C_TO_STRING_PLAIN));
        goto cleanup;
    }
    json_object *full, *inc;
    if (!json_object_is_type(res, json_type_object) ||
        !json_object_object_get_ex(res, "full", &full) || !json_u64(full, full_out)) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                         "getHighestSnapshotSlot: result.full is not a slot number");
        goto cleanup;
    }
    if (json_object_object_get_ex(res, "incremental", &inc) && inc) {
        if (!json_u64(inc, inc_out) || *inc_out <= *full_out) {
            *full_out = *inc_out = 0;
            rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                             "getHighestSnapshotSlot: result.incremental is not a slot above "
                             "full");
            goto cleanup;
        }
        *has_inc_out = true;
    }
    *has_out = true;
cleanup:
    if (root) json_object_put(root);
    json_tokener_free(tok);
    return rc;
}

/* ---- SLOT:HASH and peer URLs ------------------------------------------- */

int
adb_fetch_known_parse(char const *s, size_t n, uint64_t *slot_out, acctdb_hash_t *hash_out,
                      adb_err_t *err) {
    char        sh[128];
    char const *colon = memchr(s, ':', n);
    *slot_out = 0;
    memset(hash_out, 0, sizeof *hash_out);
    if (!colon || !parse_dec(s, (size_t)(colon - s), UINT64_MAX, slot_out) ||
        adb_base58_decode_32(colon + 1, n - (size_t)(colon - s) - 1, hash_out->b)) {
        *slot_out = 0;
        memset(hash_out, 0, sizeof *hash_out);
        return adb_err_set(err, ACCTDB_ERR_INVALID,
                           "known hash '%s' is not SLOT:HASH (a slot number, a base58 hash of "
                           "32 bytes)",
                           show(s, n, sh, sizeof sh));
    }
    return 0;
}

int
adb_fetch_peer_parse(char const *url, size_t n, char *norm_out, size_t norm_max, adb_err_t *err) {
    char   sh[128];
    size_t i;
    if (norm_max) norm_out[0] = 0;
    if (n >= 7 && !strncasecmp(url, "http://", 7))
        i = 7;
    else if (n >= 8 && !strncasecmp(url, "https://", 8))
        i = 8;
    else
        goto bad;
    size_t host = i;
    if (i < n && url[i] == '[') {
        i++;
        while (i < n && (isxdigit((unsigned char)url[i]) || url[i] == ':' || url[i] == '.'))
            i++;
        if (i >= n || url[i] != ']' || i - host < 3) goto bad;
        i++;
    } else {
        while (i < n && (isalnum((unsigned char)url[i]) || url[i] == '.' || url[i] == '-'))
            i++;
        if (i == host || i - host > 253 || url[host] == '.' || url[host] == '-') goto bad;
    }
    size_t host_end = i;
    if (i < n && url[i] == ':') {
        size_t   p0 = ++i;
        uint64_t port;
        while (i < n && url[i] >= '0' && url[i] <= '9')
            i++;
        if (!parse_dec(url + p0, i - p0, 65535, &port) || port == 0) goto bad;
    }
    size_t end = i;
    if (i < n && url[i] == '/') i++;
    if (i != n) goto bad;
    if (end + 1 > norm_max) goto bad;
    size_t sch = url[4] == ':' ? 7 : 8;
    snprintf(norm_out, norm_max, "%s%.*s", sch == 7 ? "http://" : "https://", (int)(end - sch),
             url + sch);
    for (size_t k = sch; k < host_end; k++) /* host names are case-insensitive */
        norm_out[k] = (char)tolower((unsigned char)norm_out[k]);
    return 0;
bad:
    return adb_err_set(err, ACCTDB_ERR_INVALID,
                       "peer '%s' is not http://HOST[:PORT] (no user, path, query or fragment)",
                       show(url, n, sh, sizeof sh));
}

/* ---- the minimum-speed window ------------------------------------------ */

void
adb_fetch_speed_init(adb_fetch_speed_t *s, uint64_t min_rate, uint32_t window_s) {
    memset(s, 0, sizeof *s);
    s->min_rate = min_rate;
    s->window_ns = (uint64_t)(window_s ? window_s : 5) * 1000000000ull;
    s->warmup_ns = 1000000000ull;
    s->grace_ns = ADB_MAX(1000000000ull, s->window_ns / 5);
    s->step_ns = ADB_MAX(10000000ull, s->window_ns / (ADB_FETCH_SPEED_SAMPLES / 2));
}

bool
adb_fetch_speed_feed(adb_fetch_speed_t *s, uint64_t now_ns, uint64_t bytes) {
    if (!s->has_t0) {
        if (bytes == 0) return false;
        s->has_t0 = true;
        s->t0 = now_ns;
    }
    /* Time and bytes only move forward; a caller's glitch is not a verdict. */
    uint32_t newest = (s->head + ADB_FETCH_SPEED_SAMPLES - 1) % ADB_FETCH_SPEED_SAMPLES;
    if (s->cnt && (now_ns < s->t[newest] || bytes < s->b[newest])) return false;
    if (!s->cnt || now_ns - s->t[newest] >= s->step_ns) {
        s->t[s->head] = now_ns;
        s->b[s->head] = bytes;
        s->head = (s->head + 1) % ADB_FETCH_SPEED_SAMPLES;
        if (s->cnt < ADB_FETCH_SPEED_SAMPLES) s->cnt++;
    }
    /* Judged from half a window after the warm-up, so a slow peer goes
     * within seconds; the rate never reaches back into the warm-up (a
     * connection's first burst fills socket buffers). */
    if (now_ns - s->t0 < s->warmup_ns + s->window_ns / 2) return false;
    /* The newest sample at least a window old, else the oldest one taken
     * after the warm-up. */
    uint32_t oldest = (s->head + ADB_FETCH_SPEED_SAMPLES - s->cnt) % ADB_FETCH_SPEED_SAMPLES;
    uint32_t pick = UINT32_MAX;
    for (uint32_t k = 0; k < s->cnt; k++) {
        uint32_t idx = (oldest + k) % ADB_FETCH_SPEED_SAMPLES;
        if (s->t[idx] - s->t0 < s->warmup_ns) continue;
        if (pick != UINT32_MAX && now_ns - s->t[idx] < s->window_ns) break;
        pick = idx;
    }
    if (pick == UINT32_MAX) return false;
    uint64_t span = now_ns - s->t[pick];
    if (span < s->window_ns / 2) return false;
    s->rate = (double)(bytes - s->b[pick]) * 1e9 / (double)span;
    s->span_ns = span;
    s->has_rate = true;
    if (!s->min_rate || s->rate >= (double)s->min_rate) {
        s->is_below = false;
        return false;
    }
    if (!s->is_below) {
        s->is_below = true;
        s->below_since = now_ns;
        return false;
    }
    return now_ns - s->below_since >= s->grace_ns;
}

char const *
adb_fetch_why_str(adb_fetch_why_t w) {
    switch (w) {
    case ADB_FETCH_OK:
        return "ok";
    case ADB_FETCH_UNREACHABLE:
        return "unreachable";
    case ADB_FETCH_TIMEOUT:
        return "timed out";
    case ADB_FETCH_PROTOCOL:
        return "broke the HTTP rules";
    case ADB_FETCH_STATUS:
        return "unexpected HTTP status";
    case ADB_FETCH_SLOW:
        return "too slow";
    case ADB_FETCH_CORRUPT:
        return "corrupt archive";
    case ADB_FETCH_LOCAL:
        return "local error";
    case ADB_FETCH_ABORTED:
        return "aborted";
    }
    return "?";
}
