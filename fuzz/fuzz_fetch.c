/* fuzz/fuzz_fetch.c - the download client's handling of what peers send
 * (src/net/fetch_parse.c): the first byte picks the parser, the rest is
 * its input.
 *
 *   0  a response head (adb_fetch_head_parse), then its Location
 *   1  a redirect Location (bit 0x80 of the first byte: incremental)
 *   2  a getHighestSnapshotSlot answer
 *   3  a SLOT:HASH known hash
 *   4  a peer URL
 *   5  the minimum-speed window fed (dt, bytes) steps
 *
 * Each accepted input must satisfy what its parser promises (fetch.h);
 * anything else must be refused with an error, never a crash. */
#include "net/fetch.h"

#include "util/base58.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

static void
check_location(char const *loc, size_t n, bool inc) {
    adb_snap_name_t nm;
    char            path[ADB_FETCH_LOCATION_MAX + 2];
    adb_err_t       e = {0};
    int             rc = adb_fetch_location_parse(loc, n, inc, &nm, path, sizeof path, &e);
    if (rc) {
        if (rc != ACCTDB_ERR_CORRUPT || !e.msg[0]) abort();
        return;
    }
    /* An absolute path of safe characters, no "//", "..", query or
     * scheme, ending in the canonical archive name of the wanted kind. */
    size_t pl = strlen(path);
    if (path[0] != '/' || strstr(path, "//") || strstr(path, "/../") || strstr(path, "/./") ||
        strpbrk(path, ":?#%\\ ") || pl > ADB_FETCH_LOCATION_MAX + 1)
        abort();
    if (nm.is_incremental != inc || (inc && nm.base_slot >= nm.slot)) abort();
    char canon[160];
    adb_snap_name_format(&nm, canon, sizeof canon);
    size_t cl = strlen(canon);
    if (cl > pl || strcmp(path + pl - cl, canon) || path[pl - cl - 1] != '/') abort();
    adb_snap_name_t again;
    if (adb_snap_name_parse(canon, &again) || memcmp(&again, &nm, sizeof nm)) abort();
}

static void
check_head(char const *p, size_t n) {
    adb_fetch_head_t h;
    adb_err_t        e = {0};
    int              rc = adb_fetch_head_parse(p, n, &h, &e);
    if (rc) {
        if (rc != ACCTDB_ERR_CORRUPT || !e.msg[0]) abort();
        return;
    }
    if (n > ADB_FETCH_HEAD_MAX || h.status < 100 || h.status > 599 || h.http_minor > 1) abort();
    if (h.chunked && h.has_length) abort();
    if (h.has_length && h.length > ADB_FETCH_LENGTH_MAX) abort();
    if (h.has_range && (h.range_first > h.range_last || h.range_last >= h.range_total)) abort();
    if (h.fields > ADB_FETCH_HEADERS_MAX) abort();
    /* The head ends with its blank line, and nothing follows it. */
    if (n < 2 || p[n - 1] != '\n') abort();
    if (h.has_location) {
        size_t ln = strlen(h.location);
        if (ln == 0 || ln > ADB_FETCH_LOCATION_MAX) abort();
        check_location(h.location, ln, false);
        check_location(h.location, ln, true);
    }
}

static void
check_highest(char const *p, size_t n) {
    bool      has, has_inc;
    uint64_t  full, inc;
    adb_err_t e = {0};
    int       rc = adb_fetch_highest_parse(p, n, &has, &full, &has_inc, &inc, &e);
    if (rc) {
        if ((rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_NOMEM) || has || has_inc) abort();
        return;
    }
    if (!has && (has_inc || full || inc)) abort();
    if (has_inc && inc <= full) abort();
}

static void
check_known(char const *p, size_t n) {
    uint64_t      slot;
    acctdb_hash_t h;
    adb_err_t     e = {0};
    if (adb_fetch_known_parse(p, n, &slot, &h, &e)) return;
    char          b58[ACCTDB_BASE58_32_SZ], txt[96];
    int           tn = snprintf(txt, sizeof txt, "%llu:%s", (unsigned long long)slot,
                                adb_base58_encode_32(h.b, b58));
    uint64_t      slot2;
    acctdb_hash_t h2;
    if (adb_fetch_known_parse(txt, (size_t)tn, &slot2, &h2, &e) || slot2 != slot ||
        memcmp(h.b, h2.b, 32))
        abort();
}

static void
check_peer(char const *p, size_t n) {
    char      norm[512], again[512];
    adb_err_t e = {0};
    if (adb_fetch_peer_parse(p, n, norm, sizeof norm, &e)) return;
    size_t nl = strlen(norm);
    if (nl == 0 || norm[nl - 1] == '/' || strpbrk(norm, "@?#\\ ")) abort();
    if (strncmp(norm, "http://", 7) && strncmp(norm, "https://", 8)) abort();
    /* Normal form is a fixed point. */
    if (adb_fetch_peer_parse(norm, nl, again, sizeof again, &e) || strcmp(norm, again)) abort();
}

static void
check_speed(uint8_t const *p, size_t n) {
    if (n < 5) return;
    adb_fetch_speed_t s;
    uint64_t          min = (uint64_t)adb_load_u32(p) << 4;
    adb_fetch_speed_init(&s, min, p[4] % 8);
    uint64_t t = 1000, b = 0;
    for (size_t i = 5; i + 3 < n; i += 4) {
        t += (uint64_t)(p[i] | p[i + 1] << 8) * 1000000ull; /* up to ~65 s a step */
        b += (uint64_t)(p[i + 2] | p[i + 3] << 8) << 8;
        bool slow = adb_fetch_speed_feed(&s, t, b);
        if (s.has_rate && !(s.rate >= 0)) abort();
        if (slow && (!s.has_rate || !min || s.rate >= (double)min)) abort();
    }
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz < 1 || sz > (64u << 10)) return 0;
    uint8_t     sel = data[0];
    char const *p = (char const *)data + 1;
    size_t      n = sz - 1;
    switch ((sel & 0x7f) % 6) {
    case 0:
        check_head(p, n);
        break;
    case 1:
        check_location(p, n, (sel & 0x80) != 0);
        break;
    case 2:
        check_highest(p, n);
        break;
    case 3:
        check_known(p, n);
        break;
    case 4:
        check_peer(p, n);
        break;
    case 5:
        check_speed(data + 1, n);
        break;
    }
    return 0;
}
