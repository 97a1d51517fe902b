/* fuzz/fuzz_tar.c - the streaming tar reader (src/snapshot/tar.h) fed in
 * pieces whose sizes come from the input, with snapshot admission
 * (adb_snap_entry_classify) on every entry.  Invariants checked:
 *   - events come in order: ENTRY, DATA*, ENTRY_END, ..., at most one EOF;
 *   - DATA points into the piece just fed, its data_off is the number of
 *     bytes of the entry delivered so far, and the entry never gets more
 *     than its declared size; ENTRY_END comes exactly when it is all there;
 *   - paths are NUL-terminated within ADB_TAR_PATH_MAX, relative, have no
 *     '..', '.' or empty component, no trailing '/', no control byte or
 *     backslash; directories have no data;
 *   - entry count and sizes stay within the limits;
 *   - an error has a message and is sticky: every later call returns it;
 *   - after EOF every call returns 0 and consumes its input;
 *   - the reader consumes only what it was given.
 *
 * Input: byte 0 = flags (bit 7: tight limits; bits 0-3: K), then K bytes
 * of piece sizes used in turn (a byte b gives 1 + b bytes, 0 gives a whole
 * 512-byte block), then the tar stream. */
#include "snapshot/tar.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

static void
check_path(char const *p, bool is_dir, uint64_t size) {
    size_t n = strnlen(p, ADB_TAR_PATH_MAX + 1);
    if (n == 0 || n > ADB_TAR_PATH_MAX) abort();
    if (p[0] == '/' || p[n - 1] == '/') abort();
    if (is_dir && size != 0) abort();
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)p[i];
        if (c < 0x20 || c == 0x7f || c == '\\') abort();
    }
    /* Components: none empty, none "." or "..". */
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 0) abort();
        if (len == 1 && p[i] == '.') abort();
        if (len == 2 && p[i] == '.' && p[i + 1] == '.') abort();
        i = j + 1;
    }
}

/* The classifier's answers agree with the path. */
static void
check_classify(char const *p, bool is_dir) {
    uint64_t              slot = 1, id = 1;
    adb_snap_entry_kind_t k = adb_snap_entry_classify(p, is_dir, &slot, &id);
    switch (k) {
    case ADB_SNAP_ENTRY_REJECT:
        break;
    case ADB_SNAP_ENTRY_VERSION:
        if (is_dir || strcmp(p, "version")) abort();
        break;
    case ADB_SNAP_ENTRY_ACCOUNTS_DIR:
        if (!is_dir || strcmp(p, "accounts")) abort();
        break;
    case ADB_SNAP_ENTRY_SNAPSHOTS_DIR:
        if (!is_dir || strcmp(p, "snapshots")) abort();
        break;
    case ADB_SNAP_ENTRY_STATUS_CACHE:
        if (is_dir || strcmp(p, "snapshots/status_cache")) abort();
        break;
    case ADB_SNAP_ENTRY_ACCOUNT_FILE: {
        if (is_dir || strncmp(p, "accounts/", 9)) abort();
        /* Exactly digits '.' digits, and the numbers are those digits. */
        char const *s = p + 9;
        char       *end;
        if (*s < '0' || *s > '9') abort();
        if (strtoull(s, &end, 10) != slot || *end != '.') abort();
        if (end[1] < '0' || end[1] > '9') abort();
        char *end2;
        if (strtoull(end + 1, &end2, 10) != id || *end2 != 0) abort();
        break;
    }
    case ADB_SNAP_ENTRY_SLOT_DIR: {
        if (!is_dir || strncmp(p, "snapshots/", 10)) abort();
        if (strlen(p + 10) < 1 || strlen(p + 10) > 20) abort();
        /* Leading zeros are allowed: compare numerically. */
        char *end;
        if (strtoull(p + 10, &end, 10) != slot || *end) abort();
        break;
    }
    case ADB_SNAP_ENTRY_MANIFEST: {
        if (is_dir || strncmp(p, "snapshots/", 10)) abort();
        char *end;
        if (strtoull(p + 10, &end, 10) != slot || *end != '/') abort();
        char *end2;
        if (strtoull(end + 1, &end2, 10) != slot || *end2) abort();
        break;
    }
    default:
        abort();
    }
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz < 1) return 0;
    uint8_t flags = data[0];
    size_t  k = flags & 15;
    if (1 + k > sz) return 0;
    uint8_t const *sizes = data + 1;
    uint8_t const *in = data + 1 + k;
    size_t         in_sz = sz - 1 - k;

    adb_tar_limits_t lim;
    adb_tar_limits_default(&lim);
    if (flags & 0x80) {
        lim.max_entries = 6;
        lim.max_total_sz = 3000;
        lim.max_entry_sz = 1500;
    }
    adb_tar_t t;
    adb_tar_init(&t, &lim);

    bool     in_entry = false, seen_eof = false, is_dir = false;
    uint64_t entry_sz = 0, got = 0, entries = 0, total = 0;
    char     path[ADB_TAR_PATH_MAX + 1] = "";
    int      err = 0;
    size_t   pos = 0, turn = 0;

    while (pos < in_sz && !err) {
        size_t piece = k ? (sizes[turn % k] ? 1u + sizes[turn % k] : ADB_TAR_BLOCK) : in_sz;
        turn++;
        if (piece > in_sz - pos) piece = in_sz - pos;
        uint8_t const *p = in + pos, *const p0 = p, *const p_end = p + piece;
        size_t left = piece;
        for (;;) {
            adb_tar_ev_t ev;
            size_t       before = left;
            int          rc = adb_tar_next(&t, &p, &left, &ev);
            if (left > before || p != p_end - left) abort();
            if (rc < 0) {
                if (!t.err.msg[0] || t.err.code != rc) abort();
                err = rc;
                break;
            }
            if (rc == 0) {
                if (left != 0) abort(); /* 0 means all input was consumed */
                break;
            }
            if (rc != 1) abort();
            if (seen_eof) abort();
            switch (ev.kind) {
            case ADB_TAR_EV_ENTRY:
                if (in_entry) abort();
                check_path(ev.path, ev.is_dir, ev.size);
                check_classify(ev.path, ev.is_dir);
                if (ev.size > lim.max_entry_sz) abort();
                total += ev.size;
                if (total > lim.max_total_sz || ++entries > lim.max_entries) abort();
                snprintf(path, sizeof path, "%s", ev.path);
                in_entry = true;
                is_dir = ev.is_dir;
                entry_sz = ev.size;
                got = 0;
                break;
            case ADB_TAR_EV_DATA:
                if (!in_entry || is_dir || ev.data_sz == 0) abort();
                if (ev.data < p0 || ev.data + ev.data_sz > p_end) abort();
                if (ev.data_off != got || ev.data_sz > entry_sz - got) abort();
                if (strcmp(ev.path, path)) abort();
                got += ev.data_sz;
                break;
            case ADB_TAR_EV_ENTRY_END:
                if (!in_entry || got != entry_sz || ev.size != entry_sz) abort();
                if (strcmp(ev.path, path)) abort();
                in_entry = false;
                break;
            case ADB_TAR_EV_EOF:
                if (in_entry || !adb_tar_done(&t)) abort();
                seen_eof = true;
                break;
            default:
                abort();
            }
        }
        pos += piece;
    }
    if (err) {
        /* Sticky: with more input, with none, and again. */
        adb_tar_ev_t   ev;
        uint8_t const  more[3] = {1, 2, 3};
        uint8_t const *p = more;
        size_t         left = sizeof more;
        if (adb_tar_next(&t, &p, &left, &ev) != err) abort();
        left = 0;
        if (adb_tar_next(&t, &p, &left, &ev) != err) abort();
        if (adb_tar_done(&t)) abort();
    } else if (seen_eof) {
        /* After EOF: 0, and the input is swallowed. */
        adb_tar_ev_t   ev;
        uint8_t const  more[700] = {0};
        uint8_t const *p = more;
        size_t         left = sizeof more;
        if (adb_tar_next(&t, &p, &left, &ev) != 0 || left != 0) abort();
    } else if (adb_tar_done(&t)) {
        abort();
    }
    adb_tar_fini(&t);
    return 0;
}
