/* fuzz/fuzz_archive.c - the whole loader (decompress, tar, admission,
 * manifest, status cache, account files into db, verification) on one
 * archive built from the input.  Checked:
 *   - a failure has a message, writes no completion record, and leaves
 *     only store/accounts/ with regular files in it;
 *   - a success is verified and complete;
 *   - nothing is written next to the store directory.
 *
 * Input: byte 0 = flags, then the archive body.
 *   bit 0: the body is a tar, compressed here into one zstd frame (the
 *          common case, so the fuzzer works on tar structure); otherwise
 *          the body is the file as is (to reach the decompressors);
 *   bit 1: name the file snapshot-100-<zero hash>.tar.zst, so the name's
 *          slot and hash are checked too.
 * Limits are lowered (1 MiB metadata entries, 16 MiB of tar, 8 MiB per
 * entry) so no input allocates or writes much; everything lives in one
 * temporary directory per process, emptied after every input. */
#include "snapshot/load.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

static char g_dir[4096];

static int
rm_cb(char const *p, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void
cleanup(void) {
    if (g_dir[0]) nftw(g_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int
buf_out(void *ctx, void const *p, size_t sz) {
    FILE *f = ctx;
    return fwrite(p, 1, sz, f) == sz ? 0 : ACCTDB_ERR_IO;
}

/* Only `keep` (and what the caller allows under it) may be in dir. */
static void
expect_only(char const *dir, char const *keep1, char const *keep2) {
    DIR *d = opendir(dir);
    if (!d) abort();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strcmp(e->d_name, keep1) && (!keep2 || strcmp(e->d_name, keep2))) abort();
    }
    closedir(d);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz < 1) return 0;
    if (!g_dir[0]) {
        char const *t = getenv("TMPDIR");
        snprintf(g_dir, sizeof g_dir, "%s/acctdb-fuzz-archive-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(g_dir)) abort();
        atexit(cleanup);
    }
    uint8_t     flags = data[0];
    char const *name =
        flags & 2 ? "snapshot-100-11111111111111111111111111111111.tar.zst" : "fuzz.tar.zst";
    char path[4200], store[4200];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    snprintf(store, sizeof store, "%s/store", g_dir);

    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (flags & 1) {
        adb_comp_t *c;
        if (adb_comp_open(&c, 1, 0, buf_out, f)) abort();
        if (adb_comp_write(c, data + 1, sz - 1) || adb_comp_end_frame(c)) abort();
        adb_comp_close(c);
    } else if (fwrite(data + 1, 1, sz - 1, f) != sz - 1) {
        abort();
    }
    if (fclose(f)) abort();

    adb_load_opts_t o;
    adb_load_opts_default(&o);
    o.store_dir = store;
    o.threads = 1;
    o.max_meta_sz = 1u << 20;
    o.dlim.max_out_sz = 16u << 20;
    o.tlim.max_entries = 256;
    o.tlim.max_total_sz = 16u << 20;
    o.tlim.max_entry_sz = 8u << 20;
    adb_snap_t *s = NULL;
    int         rc = adb_snap_load(&s, path, NULL, &o);
    if (!s) abort();
    if (rc == 0) {
        if (!s->verified || !s->complete) abort();
    } else {
        if (!s->err.msg[0] || s->complete) abort();
        struct stat st;
        if (stat(store, &st) == 0) {
            expect_only(store, "accounts", NULL);
            char acc[4300];
            snprintf(acc, sizeof acc, "%s/accounts", store);
            DIR *d = opendir(acc);
            if (d) {
                struct dirent *e;
                while ((e = readdir(d))) {
                    if (e->d_name[0] == '.') continue;
                    char p[8600];
                    snprintf(p, sizeof p, "%s/%s", acc, e->d_name);
                    if (lstat(p, &st) || !S_ISREG(st.st_mode)) abort();
                }
                closedir(d);
            }
        }
    }
    adb_snap_close(s);
    expect_only(g_dir, name, "store");
    nftw(store, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    unlink(path);
    return 0;
}
