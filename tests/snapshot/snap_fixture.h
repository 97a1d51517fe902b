/* tests/snapshot/snap_fixture.h - the bundled snapshot archives for the
 * codec tests: each archive is extracted once per process (zstd | tar into
 * a temporary directory removed at exit), and its manifest, status cache
 * and sysvar accounts are read from there.  Static functions only, so each
 * test file gets its own copy and no symbols clash. */
#ifndef ADB_TESTS_SNAP_FIXTURE_H
#define ADB_TESTS_SNAP_FIXTURE_H

#include "../test.h"

#include "util/base58.h"
#include "util/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct snap_fx {
    char const *archive;
    uint64_t    slot;
    bool        lattice; /* has an accounts_lt_hash (bank hash of FORMAT.md 9 applies) */
    char const *label;
} snap_fx_t;

static snap_fx_t const snap_fx_all[] = {
    {"test-snapshot-v4.2.0-beta.1.tar.zst", 100, true, "4.2 test"},
    {"snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst", 1, true, "v1 full"},
    {"incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst", 4, true,
     "v1 incremental"},
    {"snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst", 10, false, "merkle full"},
    {"incremental-snapshot-10-25-GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS.tar.zst", 25, false,
     "merkle incremental"},
};
#define SNAP_FX_CNT (sizeof snap_fx_all / sizeof snap_fx_all[0])

static char *snap_fx_dirs[SNAP_FX_CNT];

static void
snap_fx_cleanup(void) {
    for (size_t i = 0; i < SNAP_FX_CNT; i++) {
        adb_test_rmtree(snap_fx_dirs[i]);
        free(snap_fx_dirs[i]);
        snap_fx_dirs[i] = NULL;
    }
}

/* The directory the archive i was extracted into. */
static inline char const *
snap_fx_dir(size_t i) {
    static bool registered;
    if (snap_fx_dirs[i]) return snap_fx_dirs[i];
    if (!registered) {
        atexit(snap_fx_cleanup);
        registered = true;
    }
    char *d = adb_test_mkdtemp();
    assert_non_null(d);
    int rc = adb_test_sh(NULL, 0, "zstd -dc '%s' | tar -x -C '%s'",
                         adb_test_data(snap_fx_all[i].archive), d);
    assert_int_equal(rc, 0);
    snap_fx_dirs[i] = d;
    return d;
}

/* The whole file at path (malloc, exact size; NULL if absent). */
static inline uint8_t *
snap_fx_read_path(char const *path, size_t *sz_out) {
    *sz_out = 0;
    return access(path, R_OK) ? NULL : adb_test_read_file(path, sz_out);
}

/* A member of archive i, e.g. "snapshots/100/100" (malloc; asserted). */
static inline uint8_t *
snap_fx_member(size_t i, char const *member, size_t *sz_out) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", snap_fx_dir(i), member);
    uint8_t *b = snap_fx_read_path(p, sz_out);
    if (!b) fail_msg("%s has no member %s", snap_fx_all[i].archive, member);
    return b;
}

static inline uint8_t *
snap_fx_manifest(size_t i, size_t *sz_out) {
    char m[64];
    snprintf(m, sizeof m, "snapshots/%llu/%llu", (unsigned long long)snap_fx_all[i].slot,
             (unsigned long long)snap_fx_all[i].slot);
    return snap_fx_member(i, m, sz_out);
}

static inline uint8_t *
snap_fx_status_cache(size_t i, size_t *sz_out) {
    return snap_fx_member(i, "snapshots/status_cache", sz_out);
}

/* The data of the newest version of account `pubkey_b58` in archive i:
 * every accounts/<slot>.<id> file is walked record by record (136-byte
 * header, data, padding to 8; FORMAT.md 2.1) and the record from the
 * highest slot wins (the last one within a file).  malloc; NULL if absent. */
static inline uint8_t *
snap_fx_account_data(size_t i, char const *pubkey_b58, size_t *sz_out) {
    uint8_t key[32];
    assert_int_equal(adb_base58_decode_32(pubkey_b58, strlen(pubkey_b58), key), 0);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/accounts", snap_fx_dir(i));
    DIR *d = opendir(dir);
    assert_non_null(d);
    uint8_t       *best = NULL;
    size_t         best_sz = 0;
    uint64_t       best_slot = 0;
    struct dirent *e;
    *sz_out = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        uint64_t slot = strtoull(e->d_name, NULL, 10);
        char     p[8400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t   fsz;
        uint8_t *f = snap_fx_read_path(p, &fsz);
        assert_non_null(f);
        for (size_t off = 0; off + 136 <= fsz;) {
            uint64_t dl = adb_load_u64(f + off + 8);
            if (dl > fsz - off - 136) break;
            if (memcmp(f + off + 16, key, 32) == 0 && (!best || slot >= best_slot)) {
                free(best);
                best = malloc(dl ? dl : 1);
                assert_non_null(best);
                memcpy(best, f + off + 136, dl);
                best_sz = dl;
                best_slot = slot;
            }
            off += (136 + dl + 7) & ~(size_t)7;
        }
        free(f);
    }
    closedir(d);
    *sz_out = best_sz;
    return best;
}

#endif
