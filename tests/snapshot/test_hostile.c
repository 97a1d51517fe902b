/* Acceptance tests for hostile snapshot archives: every malformed input the
 * loader can meet on the way from a peer (NETWORK.md 4.2-4.4) must end in a
 * named error, a non-zero return, no crash or hang, nothing written outside
 * the target directory, and a target that refuses to open afterwards.
 *
 * Every load goes through load_confined(): a fresh sandbox directory holds
 * the target directory (sandbox/target) and nothing else; after a failed
 * load the sandbox must still hold only the target, the target only
 * accounts/ with regular files in it (no completion record), and
 * adb_db_open_loaded must refuse it with NOT_FOUND "incomplete load".
 *
 * Cases (each prints one summary line with its variant count):
 *   1. the tar cut at every 512-byte block (4.2 fixture, 3.x full);
 *   2. the compressed file cut at random offsets (and at frame ends);
 *   3. flipped bits: compressed stream (our writer, with checksums), tar
 *      headers, manifest fields, account-file fields;
 *   4. missing / duplicate / wrong-version metadata entries;
 *   5. entry names and types: '..', absolute, links, devices, FIFOs, GNU
 *      long names and pax paths, malformed headers;
 *   6. 2^60 length prefixes in the manifest and the status cache;
 *   7. incrementals on the wrong base (by name and by content);
 *   8. containers other than zstd / lz4 (and lz4, which must load);
 *   9. a decompression bomb.
 *
 * The counts scale with ACCTDB_TEST_SCALE; random choices come from the
 * run's seed (adb_test_seed).  ACCTDB_HOSTILE_VERBOSE=1 prints every
 * variant with the error it got. */
#include "../test.h"
#include "acctdb_sim.h"

#include "db/db.h"
#include "snapshot/load.h"
#include "snapshot/manifest.h"
#include "snapshot/stream.h"
#include "snapshot/tar.h"
#include "store/acctfile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define F42 "test-snapshot-v4.2.0-beta.1.tar.zst"
#define FV1 "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define IV1 "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"

/* ---- small utilities ------------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t   n, cap;
} buf_t;

/* Appends n bytes of p (zeros if p is NULL). */
static void
buf_put(buf_t *b, void const *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n)
            nc *= 2;
        b->p = realloc(b->p, nc);
        assert_non_null(b->p);
        b->cap = nc;
    }
    if (n) {
        if (p)
            memcpy(b->p + b->n, p, n);
        else
            memset(b->p + b->n, 0, n);
    }
    b->n += n;
}

static void
buf_free(buf_t *b) {
    free(b->p);
    *b = (buf_t){0};
}

static void
buf_copy(buf_t *dst, uint8_t const *p, size_t n) {
    dst->n = 0;
    buf_put(dst, p, n);
}

/* The stream for one case: the run's seed and the case's name. */
static acctdb_rng_t
rng_for(char const *what) {
    uint64_t h = 1469598103934665603ull;
    for (char const *p = what; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return acctdb_rng_seed(adb_test_seed() ^ h);
}

static double
now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
write_all(char const *path, void const *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot create %s", path);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The directory holding the archives the tests write (removed at exit). */
static char *g_work;

static void
work_cleanup(void) {
    adb_test_rmtree(g_work);
    free(g_work);
    g_work = NULL;
}

static char const *
work_dir(void) {
    if (!g_work) {
        g_work = adb_test_mkdtemp();
        assert_non_null(g_work);
        atexit(work_cleanup);
    }
    return g_work;
}

/* path_out = work_dir()/name (PATH_MAX bytes). */
static char *
work_path(char *path_out, char const *name) {
    snprintf(path_out, 4096, "%s/%s", work_dir(), name);
    return path_out;
}

/* True if msg contains one of the '|'-separated alternatives (any case). */
static bool
has_any(char const *msg, char const *alts) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", alts);
    for (char *save = NULL, *t = strtok_r(tmp, "|", &save); t; t = strtok_r(NULL, "|", &save))
        if (strcasestr(msg, t)) return true;
    return false;
}

/* ---- compression ---------------------------------------------------------- */

static int
buf_out_cb(void *ctx, void const *p, size_t sz) {
    buf_put(ctx, p, sz);
    return 0;
}

/* out = one zstd frame (content checksum on) of p[0..n). */
static void
zstd_of(void const *p, size_t n, buf_t *out) {
    adb_comp_t *c;
    out->n = 0;
    assert_int_equal(adb_comp_open(&c, 1, 0, buf_out_cb, out), 0);
    assert_int_equal(adb_comp_write(c, p, n), 0);
    assert_int_equal(adb_comp_end_frame(c), 0);
    adb_comp_close(c);
}

/* Decompresses a whole .tar.zst / .tar.lz4 image into out with the
 * loader's own decompressor; returns 0 or its error (msg says which). */
static int
decompress(uint8_t const *p, size_t n, buf_t *out, char *msg, size_t msg_max) {
    out->n = 0;
    msg[0] = 0;
    adb_comp_kind_t k = adb_comp_detect(p, n, NULL);
    if (k == ADB_COMP_UNKNOWN) {
        snprintf(msg, msg_max, "unknown container");
        return ACCTDB_ERR_UNSUPPORTED;
    }
    adb_decomp_t *d;
    assert_int_equal(adb_decomp_open(&d, k, NULL), 0);
    uint8_t chunk[1 << 16];
    size_t  off = 0;
    int     rc = 0;
    for (;;) {
        size_t used, made;
        rc = adb_decomp_run(d, p + off, n - off, &used, chunk, sizeof chunk, &made);
        if (rc) {
            snprintf(msg, msg_max, "%s", adb_decomp_errmsg(d));
            break;
        }
        off += used;
        buf_put(out, chunk, made);
        if (!used && !made) break;
    }
    if (!rc && !adb_decomp_at_frame_end(d)) {
        snprintf(msg, msg_max, "ends inside a frame");
        rc = ACCTDB_ERR_CORRUPT;
    }
    adb_decomp_close(d);
    return rc;
}

/* ---- tar images ----------------------------------------------------------- */

/* One entry of a parsed tar image. */
typedef struct ent {
    char     path[ADB_TAR_PATH_MAX + 1];
    bool     is_dir;
    uint64_t size;
    size_t   hdr_off;  /* offset of its header in the image */
    size_t   data_off; /* offset of its data in the image */
} ent_t;

#define ENTS_MAX 32

/* A bundled archive, decompressed once and parsed. */
typedef struct fx {
    char const *name;
    buf_t       zst; /* the archive as bundled */
    buf_t       tar;
    ent_t       e[ENTS_MAX];
    size_t      n;
} fx_t;

static void
fx_parse(fx_t *x) {
    adb_tar_t t;
    adb_tar_init(&t, NULL);
    uint8_t const *p = x->tar.p;
    size_t         left = x->tar.n;
    x->n = 0;
    for (;;) {
        adb_tar_ev_t ev;
        int          rc = adb_tar_next(&t, &p, &left, &ev);
        if (rc < 0) fail_msg("%s: %s", x->name, t.err.msg);
        if (rc == 0) break;
        if (ev.kind == ADB_TAR_EV_ENTRY) {
            assert_true(x->n < ENTS_MAX);
            ent_t *e = &x->e[x->n++];
            snprintf(e->path, sizeof e->path, "%s", ev.path);
            e->is_dir = ev.is_dir;
            e->size = ev.size;
            e->hdr_off = (size_t)t.hdr_off;
            e->data_off = e->hdr_off + ADB_TAR_BLOCK;
        } else if (ev.kind == ADB_TAR_EV_DATA) {
            /* Plain headers only: the data follows its header. */
            assert_ptr_equal(ev.data, x->tar.p + x->e[x->n - 1].data_off + ev.data_off);
        } else if (ev.kind == ADB_TAR_EV_EOF) {
            break;
        }
    }
    assert_true(adb_tar_done(&t));
    adb_tar_fini(&t);
}

static fx_t g_fx[3] = {{.name = F42}, {.name = FV1}, {.name = IV1}};

static void
fx_cleanup(void) {
    for (size_t i = 0; i < 3; i++) {
        buf_free(&g_fx[i].zst);
        buf_free(&g_fx[i].tar);
    }
}

/* i: 0 = the 4.2 fixture, 1 = the 3.x full, 2 = the 3.x incremental. */
static fx_t *
fx(size_t i) {
    static bool registered;
    fx_t       *x = &g_fx[i];
    if (x->tar.n) return x;
    if (!registered) {
        atexit(fx_cleanup);
        registered = true;
    }
    size_t   sz;
    uint8_t *z = adb_test_read_file(adb_test_data(x->name), &sz);
    buf_copy(&x->zst, z, sz);
    free(z);
    char msg[600];
    int  rc = decompress(x->zst.p, x->zst.n, &x->tar, msg, sizeof msg);
    if (rc) fail_msg("%s: %s", x->name, msg);
    fx_parse(x);
    return x;
}

static ent_t const *
fx_ent(fx_t const *x, char const *path) {
    for (size_t i = 0; i < x->n; i++)
        if (!strcmp(x->e[i].path, path)) return &x->e[i];
    fail_msg("%s has no entry %s", x->name, path);
    return NULL;
}

/* Header checksum (bytes 148..155 as spaces), written as 6 octal digits,
 * NUL, space. */
static void
hdr_fix_cksum(uint8_t h[ADB_TAR_BLOCK]) {
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    char tmp[8];
    snprintf(tmp, sizeof tmp, "%06o", sum & 0777777);
    memcpy(h + 148, tmp, 7);
    h[155] = ' ';
}

/* A ustar header with typeflag type ('0' file, '5' directory, or anything:
 * the flag is set after adb_tar_header and the checksum recomputed). */
static void
hdr_make(uint8_t h[ADB_TAR_BLOCK], char const *path, char type, uint64_t size) {
    /* adb_tar_header refuses names that do not fit; hostile names do. */
    if (adb_tar_header(h, strlen(path) ? path : "x", type == '5', size, 0) != 0)
        fail_msg("adb_tar_header refused '%s'", path);
    size_t n = strlen(path);
    if (n <= 99) {
        /* The name exactly as given (a directory gets its '/'). */
        memset(h, 0, 100);
        memset(h + 345, 0, 155);
        memcpy(h, path, n);
        if (type == '5' && n && path[n - 1] != '/') h[n] = '/';
    }
    h[156] = (uint8_t)type;
    hdr_fix_cksum(h);
}

/* Switches h to GNU format (magic "ustar " version " \0"). */
static void
hdr_gnu(uint8_t h[ADB_TAR_BLOCK]) {
    memcpy(h + 257, "ustar  \0", 8);
    hdr_fix_cksum(h);
}

/* A planned entry of a tar image to build: a header (made from path/type/
 * size unless raw is set) and size bytes of data. */
typedef struct pent {
    char           path[300];
    char           type;
    uint8_t const *data;
    uint64_t       size;
    uint8_t        raw[ADB_TAR_BLOCK];
    bool           has_raw;
} pent_t;

typedef struct plan {
    pent_t v[ENTS_MAX];
    size_t n;
} plan_t;

/* The entries of fixture x, data pointing into its tar image. */
static void
plan_from(plan_t *pl, fx_t const *x) {
    pl->n = 0;
    for (size_t i = 0; i < x->n; i++) {
        pent_t *p = &pl->v[pl->n++];
        memset(p, 0, sizeof *p);
        snprintf(p->path, sizeof p->path, "%s", x->e[i].path);
        p->type = x->e[i].is_dir ? '5' : '0';
        p->data = x->tar.p + x->e[i].data_off;
        p->size = x->e[i].size;
    }
}

static size_t
plan_find(plan_t const *pl, char const *path) {
    for (size_t i = 0; i < pl->n; i++)
        if (!strcmp(pl->v[i].path, path)) return i;
    fail_msg("plan has no entry %s", path);
    return 0;
}

static void
plan_insert(plan_t *pl, size_t at, pent_t const *e) {
    assert_true(pl->n < ENTS_MAX && at <= pl->n);
    memmove(&pl->v[at + 1], &pl->v[at], (pl->n - at) * sizeof *e);
    pl->v[at] = *e;
    pl->n++;
}

static void
plan_remove(plan_t *pl, size_t at) {
    assert_true(at < pl->n);
    memmove(&pl->v[at], &pl->v[at + 1], (pl->n - at - 1) * sizeof pl->v[0]);
    pl->n--;
}

static pent_t
pent(char const *path, char type, void const *data, uint64_t size) {
    pent_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.path, sizeof e.path, "%s", path);
    e.type = type;
    e.data = data;
    e.size = size;
    return e;
}

/* A raw-header entry (the header is used as is; size bytes of data follow). */
static pent_t
pent_raw(uint8_t const h[ADB_TAR_BLOCK], void const *data, uint64_t size) {
    pent_t e = pent("(raw)", 0, data, size);
    memcpy(e.raw, h, ADB_TAR_BLOCK);
    e.has_raw = true;
    return e;
}

static void
plan_tar(plan_t const *pl, buf_t *tar) {
    tar->n = 0;
    for (size_t i = 0; i < pl->n; i++) {
        pent_t const *e = &pl->v[i];
        uint8_t       h[ADB_TAR_BLOCK];
        if (e->has_raw)
            memcpy(h, e->raw, sizeof h);
        else
            hdr_make(h, e->path, e->type, e->size);
        buf_put(tar, h, sizeof h);
        buf_put(tar, e->data, (size_t)e->size);
        buf_put(tar, NULL, adb_tar_pad(e->size));
    }
    buf_put(tar, NULL, 2 * ADB_TAR_BLOCK);
}

/* Compresses tar into work_dir()/name; path_out gets the path. */
static char *
write_zst(char *path_out, char const *name, uint8_t const *tar, size_t n) {
    buf_t z = {0};
    zstd_of(tar, n, &z);
    write_all(work_path(path_out, name), z.p, z.n);
    buf_free(&z);
    return path_out;
}

static char *
write_plan(char *path_out, char const *name, plan_t const *pl) {
    buf_t tar = {0};
    plan_tar(pl, &tar);
    write_zst(path_out, name, tar.p, tar.n);
    buf_free(&tar);
    return path_out;
}

/* ---- confined loads ------------------------------------------------------- */

typedef struct res {
    int      rc;
    char     msg[2048];
    char     failed[400]; /* names of the failed checks */
    bool     verified;    /* rc == 0: every check passed, record written */
    uint64_t store_sz;    /* bytes of account files left (apparent) */
    uint64_t store_disk;  /* bytes allocated on disk for them */
} res_t;

static uint64_t g_loads;

/* Checks what a failed load may leave: sandbox/ holds only target/, which
 * holds only accounts/ with regular files in it; sums their sizes.  Returns
 * false with the reason in why. */
static bool
confined(char const *sandbox, char const *target, res_t *r, char *why, size_t why_max) {
    bool           ok = true;
    struct stat    st;
    struct dirent *e;
    DIR           *d = opendir(sandbox);
    while (d && ok && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "target"))
            continue;
        snprintf(why, why_max, "the load wrote '%s' next to the target directory", e->d_name);
        ok = false;
    }
    if (d) closedir(d);
    if (!ok) return false;
    if (lstat(target, &st) || !S_ISDIR(st.st_mode) || !(d = opendir(target))) {
        snprintf(why, why_max, "the target directory is missing");
        return false;
    }
    while (ok && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "accounts"))
            continue;
        snprintf(why, why_max, "the target holds '%s' after a failed load (only accounts/)",
                 e->d_name);
        ok = false;
    }
    closedir(d);
    if (!ok) return false;
    char acc[4200];
    snprintf(acc, sizeof acc, "%s/accounts", target);
    if (lstat(acc, &st) || !S_ISDIR(st.st_mode) || !(d = opendir(acc))) {
        snprintf(why, why_max, "target/accounts is missing");
        return false;
    }
    while (ok && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[8400];
        snprintf(p, sizeof p, "%s/%s", acc, e->d_name);
        if (lstat(p, &st) || !S_ISREG(st.st_mode)) {
            snprintf(why, why_max, "target/accounts/%s is not a regular file", e->d_name);
            ok = false;
            break;
        }
        if (getenv("ACCTDB_HOSTILE_VERBOSE"))
            printf("    left accounts/%s: %lld bytes\n", e->d_name, (long long)st.st_size);
        r->store_sz += (uint64_t)st.st_size;
        r->store_disk += (uint64_t)st.st_blocks * 512;
    }
    closedir(d);
    return ok;
}

/* A "Vm...:" line of /proc/self/status, in bytes (0 if absent). */
static uint64_t
proc_status(char const *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char               line[256], fmt[64];
    unsigned long long kb = 0;
    snprintf(fmt, sizeof fmt, "%s: %%llu kB", key);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb << 10;
}

/* Resets the peak resident size (VmHWM) to the current one; false if the
 * kernel does not allow it. */
static bool
peak_rss_reset(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* A hostile archive may not make a load hold more memory than this (the
 * largest legitimate load here needs a few MiB). */
#define LOAD_RSS_MAX (512ull << 20)

/* Release builds run each load under an address-space cap of 4 GiB above
 * what the process already maps (a normal load here needs ~200 MiB), so a
 * load that allocates from an attacker's numbers fails as a test failure
 * instead of taking the machine down.  The sanitizers map terabytes of
 * shadow memory and cannot run under such a cap. */
#define LOAD_AS_HEADROOM (4ull << 30)

static void
as_cap(struct rlimit *saved) {
#ifndef ADB_SANITIZE
    getrlimit(RLIMIT_AS, saved);
    struct rlimit cap = *saved;
    uint64_t      want = proc_status("VmSize") + LOAD_AS_HEADROOM;
    if (cap.rlim_cur == RLIM_INFINITY || cap.rlim_cur > want) cap.rlim_cur = want;
    if (cap.rlim_max != RLIM_INFINITY && cap.rlim_cur > cap.rlim_max) cap.rlim_cur = cap.rlim_max;
    setrlimit(RLIMIT_AS, &cap);
#else
    (void)saved;
#endif
}

static void
as_restore(struct rlimit const *saved) {
#ifndef ADB_SANITIZE
    setrlimit(RLIMIT_AS, saved);
#else
    (void)saved;
#endif
}

/* Loads full (+ inc) into a fresh sandbox with the public API and checks
 * what every load must satisfy: its peak memory stays under LOAD_RSS_MAX,
 * and a failure has a message, is not a plain allocation failure (a
 * decoder's bounded budget is fine), leaves only target/accounts/ and a
 * target that adb_db_open_loaded refuses with NOT_FOUND "incomplete load".
 * The sandbox is removed before any failure is reported. */
static void
load_confined(char const *full, char const *inc, res_t *r, char const *label) {
    memset(r, 0, sizeof *r);
    char *sandbox = adb_test_mkdtemp();
    assert_non_null(sandbox);
    char target[4200], why[3000] = "";
    snprintf(target, sizeof target, "%s/target", sandbox);

    acctdb_snapshot_opts_t o = {.store_dir = target, .threads = 1};
    acctdb_snapshot_t     *s = NULL;
    struct rlimit          saved;
    bool                   peak = peak_rss_reset();
    uint64_t               rss0 = proc_status("VmRSS");
    as_cap(&saved);
    r->rc = acctdb_snapshot_open(&s, full, inc, &o);
    as_restore(&saved);
    uint64_t hwm = peak ? proc_status("VmHWM") : 0;
    g_loads++;
    if (s) {
        snprintf(r->msg, sizeof r->msg, "%s", acctdb_snapshot_errmsg(s));
        size_t fl = 0;
        for (size_t i = 0; i < acctdb_snapshot_check_cnt(s); i++) {
            acctdb_check_t c;
            if (acctdb_snapshot_check(s, i, &c) == 0 && c.status == ACCTDB_CHECK_FAIL &&
                fl + strlen(c.name) + 3 < sizeof r->failed)
                fl += (size_t)snprintf(r->failed + fl, sizeof r->failed - fl, "%s%s",
                                       fl ? ", " : "", c.name);
        }
        acctdb_snapshot_info_t info;
        r->verified = acctdb_snapshot_info(s, &info) == 0 && info.verified && info.complete;
        acctdb_snapshot_close(s);
    }
    if (getenv("ACCTDB_HOSTILE_VERBOSE"))
        printf("  [%s] %d %s\n", label, r->rc, r->rc ? r->msg : "(loaded, verified)");

    if (!s) {
        snprintf(why, sizeof why, "no snapshot handle (rc %d)", r->rc);
    } else if (hwm > rss0 + LOAD_RSS_MAX) {
        snprintf(why, sizeof why, "the load's resident memory grew by %llu MiB (limit %llu MiB)",
                 (unsigned long long)((hwm - rss0) >> 20),
                 (unsigned long long)(LOAD_RSS_MAX >> 20));
    } else if (r->rc != 0) {
        adb_db_t     *db = NULL;
        adb_db_meta_t meta;
        adb_err_t     err = {0};
        if (r->verified) {
            snprintf(why, sizeof why, "failed but claims to be verified");
        } else if (!r->msg[0]) {
            snprintf(why, sizeof why, "no message");
        } else if (r->rc == ACCTDB_ERR_NOMEM && !strstr(r->msg, "budget")) {
            snprintf(why, sizeof why, "ran out of memory instead of refusing the input");
        } else if (confined(sandbox, target, r, why, sizeof why)) {
            int orc = adb_db_open_loaded(&db, target, &meta, &err);
            adb_db_close(db);
            if (orc != ACCTDB_ERR_NOT_FOUND || !strstr(err.msg, "incomplete load"))
                snprintf(why, sizeof why,
                         "opening the target after the failed load gave %d '%s' (expected "
                         "NOT_FOUND, incomplete load)",
                         orc, err.msg);
        }
    }
    adb_test_rmtree(sandbox);
    free(sandbox);
    if (why[0])
        fail_msg("%s: %s; rc %d (%s): %s", label, why, r->rc, acctdb_strerror(r->rc), r->msg);
}

/* The load must fail (with code, unless 0) and its message mention one of
 * the '|'-separated alternatives in want. */
static void
expect_fail_code(char const *label, char const *full, char const *inc, int code, char const *want,
                 res_t *r_out) {
    res_t r;
    load_confined(full, inc, &r, label);
    if (r.rc == 0)
        fail_msg("%s: loaded and verified; expected an error mentioning %s", label, want);
    if (code && r.rc != code)
        fail_msg("%s: error %d (%s), expected %d (%s): %s", label, r.rc, acctdb_strerror(r.rc),
                 code, acctdb_strerror(code), r.msg);
    if (!has_any(r.msg, want))
        fail_msg("%s: error %d (%s) '%s' does not mention %s", label, r.rc, acctdb_strerror(r.rc),
                 r.msg, want);
    if (r_out) *r_out = r;
}

static void
expect_fail(char const *label, char const *full, char const *inc, char const *want) {
    expect_fail_code(label, full, inc, 0, want, NULL);
}

static void
expect_ok(char const *label, char const *full, char const *inc) {
    res_t r;
    load_confined(full, inc, &r, label);
    if (r.rc != 0 || !r.verified)
        fail_msg("%s: expected a verified load, got %d (%s): %s", label, r.rc,
                 acctdb_strerror(r.rc), r.msg);
}

/* Every k-th of n items when the scale is below 1 (always the first and
 * the last three), all of them otherwise. */
static bool
sampled(size_t k, size_t n) {
    size_t stride = (size_t)(1.0 / adb_test_scale() + 0.5);
    if (stride <= 1) return true;
    return k % stride == 0 || k + 3 >= n;
}

/* ---- generated archives (our writer: zstd content checksums) ------------ */

typedef struct gen {
    char     dir[4096];
    char     full[4096], inc[4096];
    uint64_t full_slot, inc_slot;
} gen_t;

static gen_t g_gen[3];

/* 0: seed 1, 10 slots; 1: seed 2, 20 slots; 2: seed 3, 10 slots (same slot
 * numbers as 0, different content).  200 accounts, 20 in the incremental. */
static gen_t const *
gen(size_t i) {
    static uint64_t const seeds[3] = {1, 2, 3}, slots[3] = {10, 20, 10};
    gen_t                *g = &g_gen[i];
    if (g->full[0]) return g;
    char name[32];
    snprintf(name, sizeof name, "gen%zu", i);
    work_path(g->dir, name);
    assert_int_equal(mkdir(g->dir, 0755), 0);
    acctdb_gen_opts_t   o = {.accounts = 200,
                             .slots = slots[i],
                             .seed = seeds[i],
                             .incremental = 20,
                             .out_dir = g->dir,
                             .threads = 1};
    acctdb_gen_result_t out;
    char                msg[512] = "";
    int                 rc = acctdb_snapshot_gen(&o, &out, msg, sizeof msg);
    if (rc) fail_msg("snapshot gen: %d %s", rc, msg);
    snprintf(g->full, sizeof g->full, "%s", out.full_path);
    snprintf(g->inc, sizeof g->inc, "%s", out.inc_path);
    g->full_slot = out.full_slot;
    g->inc_slot = out.inc_slot;
    return g;
}

/* ======================================================================== */
/* 1. truncation at every tar block                                          */
/* ======================================================================== */

static size_t
truncate_blocks(size_t fi, char const *inc) {
    fx_t  *x = fx(fi);
    size_t blocks = x->tar.n / ADB_TAR_BLOCK, tried = 0;
    assert_int_equal(x->tar.n % ADB_TAR_BLOCK, 0);
    char path[4096], label[200];
    for (size_t k = 0; k < blocks; k++) {
        if (!sampled(k, blocks)) continue;
        /* Keep the archive's own name so name checks still apply. */
        char sub[64];
        snprintf(sub, sizeof sub, "trunc%zu", fi);
        char dir[4096];
        work_path(dir, sub);
        mkdir(dir, 0755);
        snprintf(label, sizeof label, "%s/%s", sub, x->name);
        write_zst(path, label, x->tar.p, k * ADB_TAR_BLOCK);
        snprintf(label, sizeof label, "%s cut after %zu of %zu tar blocks", x->name, k, blocks);
        if (fi == 2)
            expect_fail(label, adb_test_data(FV1), path, "truncated");
        else
            expect_fail(label, path, inc, "truncated");
        tried++;
    }
    return tried;
}

static void
test_hostile_truncate_tar(void **state) {
    (void)state;
    double t0 = now_s();
    assert_int_equal(fx(0)->tar.n, 147456);
    size_t n42 = truncate_blocks(0, NULL);
    size_t nv1 = truncate_blocks(1, NULL);
    size_t ninc = truncate_blocks(2, NULL);
    printf("hostile: tar cut at every block: %zu of 288 (4.2), %zu of %zu (3.x full), %zu of %zu "
           "(3.x incremental on its full): all 'truncated' (%.1fs)\n",
           n42, nv1, fx(1)->tar.n / 512, ninc, fx(2)->tar.n / 512, now_s() - t0);
}

/* ======================================================================== */
/* 2. truncation of the compressed file                                      */
/* ======================================================================== */

/* Offsets where zstd frames end inside z (excluding the end). */
static size_t
frame_ends(uint8_t const *z, size_t n, size_t *ends, size_t max) {
    size_t cnt = 0, off = 0;
    while (off < n && cnt < max) {
        size_t fsz = ZSTD_findFrameCompressedSize(z + off, n - off);
        assert_false(ZSTD_isError(fsz));
        off += fsz;
        if (off < n) ends[cnt++] = off;
    }
    return cnt;
}

static char const *
cut_want(size_t off) {
    return off == 0 ? "empty" : off < 4 ? "too short" : "truncated|zstd";
}

static void
test_hostile_truncate_compressed(void **state) {
    (void)state;
    double       t0 = now_s();
    acctdb_rng_t rng = rng_for("truncate_compressed");
    size_t       n = adb_test_scaled(200), tried = 0, frames_cut = 0;
    struct {
        char const *src;
        char const *name;
    } arcs[2] = {{adb_test_data(F42), F42}, {gen(0)->full, strrchr(gen(0)->full, '/') + 1}};
    char path[4096], label[300], sub[4096];
    work_path(sub, "cutz");
    mkdir(sub, 0755);
    for (size_t a = 0; a < 2; a++) {
        size_t          sz;
        static uint8_t *z;
        z = adb_test_read_file(arcs[a].src, &sz);
        char name[600];
        snprintf(name, sizeof name, "cutz/%s", arcs[a].name);
        work_path(path, name);
        /* Random offsets, then the fixed ones: inside the 4-byte checksum,
         * one byte short, the first bytes, every frame end. */
        size_t offs[400], cnt = 0;
        for (size_t i = 0; i < ADB_MIN(n / 2, 380); i++)
            offs[cnt++] = (size_t)acctdb_rng_below(&rng, sz);
        offs[cnt++] = sz - 1;
        offs[cnt++] = sz - 3;
        offs[cnt++] = 0;
        offs[cnt++] = 2;
        offs[cnt++] = 4;
        size_t ends[16], ne = frame_ends(z, sz, ends, 16);
        for (size_t i = 0; i < ne; i++)
            offs[cnt++] = ends[i];
        frames_cut += ne;
        for (size_t i = 0; i < cnt; i++) {
            write_all(path, z, offs[i]);
            snprintf(label, sizeof label, "%s cut at compressed byte %zu of %zu", arcs[a].name,
                     offs[i], sz);
            expect_fail(label, path, NULL, cut_want(offs[i]));
            tried++;
        }
        free(z);
    }
    printf("hostile: compressed file cut: %zu offsets (%zu random, %zu at frame ends) in the 4.2 "
           "fixture and a generated archive: all fail (%.1fs)\n",
           tried, 2 * (n / 2), frames_cut, now_s() - t0);
}

/* ======================================================================== */
/* 3. flipped bits                                                           */
/* ======================================================================== */

/* 3a: in the compressed stream of an archive written by our writer (zstd
 * content checksums).  A load may succeed only if the flipped file still
 * decompresses to exactly the original tar, which makes the flip harmless
 * by construction: the loader sees nothing but those bytes (in practice,
 * window-size bits of a frame header, when the window still covers the
 * frame). */
static void
test_hostile_flip_compressed(void **state) {
    (void)state;
    double          t0 = now_s();
    acctdb_rng_t    rng = rng_for("flip_compressed");
    gen_t const    *g = gen(0);
    size_t          sz;
    static uint8_t *z;
    z = adb_test_read_file(g->full, &sz);
    static buf_t orig, got;
    char         msg[600];
    assert_int_equal(decompress(z, sz, &orig, msg, sizeof msg), 0);
    char path[8300], sub[4096], label[300];
    work_path(sub, "flipz");
    mkdir(sub, 0755);
    snprintf(path, sizeof path, "%s/%s", sub, strrchr(g->full, '/') + 1);
    size_t n = adb_test_scaled(200), failed = 0, harmless = 0, by_zstd = 0;
    char   harmless_at[300] = "";
    for (size_t i = 0; i < n; i++) {
        size_t  pos = (size_t)acctdb_rng_below(&rng, sz);
        uint8_t bit = (uint8_t)(1u << acctdb_rng_below(&rng, 8));
        z[pos] ^= bit;
        write_all(path, z, sz);
        snprintf(label, sizeof label, "generated full, compressed byte %zu ^= 0x%02x", pos, bit);
        res_t r;
        load_confined(path, NULL, &r, label);
        if (r.rc) {
            failed++;
            by_zstd += has_any(r.msg, "zstd") ? 1 : 0;
        } else {
            int drc = decompress(z, sz, &got, msg, sizeof msg);
            if (drc || got.n != orig.n || memcmp(got.p, orig.p, orig.n))
                fail_msg("%s: loaded and verified although the content changed", label);
            harmless++;
            size_t l = strlen(harmless_at);
            if (l + 24 < sizeof harmless_at)
                snprintf(harmless_at + l, sizeof harmless_at - l, " %zu^%02x", pos, bit);
        }
        z[pos] ^= bit;
    }
    printf("hostile: compressed bit flips: %zu (generated archive, %zu bytes): %zu fail (%zu in "
           "zstd), %zu harmless (same tar after decompression:%s) (%.1fs)\n",
           n, sz, failed, by_zstd, harmless, harmless ? harmless_at : " none", now_s() - t0);
    free(z);
    buf_free(&orig);
    buf_free(&got);
}

/* 3b: in tar headers (checksum mismatch) and in the end-of-archive blocks. */
static void
test_hostile_flip_tar_header(void **state) {
    (void)state;
    double       t0 = now_s();
    acctdb_rng_t rng = rng_for("flip_tar_header");
    fx_t        *x = fx(0);
    static buf_t tar;
    buf_copy(&tar, x->tar.p, x->tar.n);
    char   path[4096], label[300];
    size_t per = adb_test_scaled(12), tried = 0;
    size_t end0 = x->tar.n - 2 * ADB_TAR_BLOCK;
    for (size_t h = 0; h <= x->n + 1; h++) {
        size_t      hoff = h < x->n ? x->e[h].hdr_off : end0 + (h - x->n) * ADB_TAR_BLOCK;
        char const *what = h < x->n ? x->e[h].path : h == x->n ? "end block 1" : "end block 2";
        char const *want = h <= x->n ? "checksum mismatch" : "zero block";
        for (size_t i = 0; i <= per; i++) {
            /* Random bytes outside the checksum field, then (i == per) the
             * checksum's last digit itself. */
            size_t pos;
            do
                pos = (size_t)acctdb_rng_below(&rng, ADB_TAR_BLOCK);
            while (pos >= 148 && pos < 156);
            uint8_t bit = (uint8_t)(1u << acctdb_rng_below(&rng, 8));
            if (i == per) {
                if (h >= x->n) continue;
                pos = 153;
                bit = 1;
            }
            tar.p[hoff + pos] ^= bit;
            write_zst(path, "flip-hdr.tar.zst", tar.p, tar.n);
            snprintf(label, sizeof label, "header of '%s', byte %zu ^= 0x%02x", what, pos, bit);
            expect_fail(label, path, NULL, want);
            tar.p[hoff + pos] ^= bit;
            tried++;
        }
    }
    printf("hostile: tar header bit flips: %zu over %zu headers and the 2 end blocks: all fail "
           "('checksum mismatch' / 'zero block') (%.1fs)\n",
           tried, x->n, now_s() - t0);
    buf_free(&tar);
}

/* 3c: in the manifest.  Fields the load verifies are flipped on purpose
 * (the byte is found by re-encoding the decoded manifest with the field
 * changed); random flips elsewhere must either fail or have hit a field no
 * check covers, which is then shown by decoding the flipped manifest: every
 * verified field is unchanged. */
typedef enum mfield {
    MF_CAPITALIZATION,
    MF_DATA_LEN,
    MF_SLOT,
    MF_DB_SLOT,
    MF_HASH,
    MF_PARENT_HASH,
    MF_SIGNATURE_COUNT,
    MF_LAST_HASH,
    MF_LT_FIRST,
    MF_LT_LAST,
    MF_CURRENT_LEN,
    MF_STORAGE_SLOT,
    MF_CURRENT_LEN_HUGE,
    MF_CURRENT_LEN_DISK,
    MF_CNT
} mfield_t;

static struct {
    char const *name, *want;
} const mf_info[MF_CNT] = {
    [MF_CAPITALIZATION] = {"capitalization", "capitalization check failed"},
    [MF_DATA_LEN] = {"accounts_data_len", "accounts_data_len check failed"},
    [MF_SLOT] = {"bank slot", "slot"},
    [MF_DB_SLOT] = {"accounts_db slot", "slot"},
    [MF_HASH] = {"bank hash", "bank hash check failed"},
    [MF_PARENT_HASH] = {"parent_hash", "bank hash check failed"},
    [MF_SIGNATURE_COUNT] = {"signature_count", "bank hash check failed"},
    [MF_LAST_HASH] = {"blockhash_queue.last_hash", "bank hash check failed"},
    [MF_LT_FIRST] = {"accounts_lt_hash[0]", "lattice hash check failed"},
    [MF_LT_LAST] = {"accounts_lt_hash[2047]", "lattice hash check failed"},
    [MF_CURRENT_LEN] = {"storages[0].current_len", "current_len|records end|check failed"},
    [MF_STORAGE_SLOT] = {"storages[0].slot", "storage|slot|check failed"},
    [MF_CURRENT_LEN_HUGE] = {"storages[last].current_len + 2^44",
                             "bytes free|exceeds the archived"},
    [MF_CURRENT_LEN_DISK] = {"storages[last].current_len + 2^34",
                             "bytes free|exceeds the archived"},
};

static void
mf_flip(adb_manifest_t *m, mfield_t f) {
    switch (f) {
    case MF_CAPITALIZATION:
        m->bank.capitalization ^= 1;
        break;
    case MF_DATA_LEN:
        m->bank.accounts_data_len ^= 1;
        break;
    case MF_SLOT:
        m->bank.slot ^= 1;
        break;
    case MF_DB_SLOT:
        m->accounts_db.slot ^= 1;
        break;
    case MF_HASH:
        m->bank.hash.b[7] ^= 1;
        break;
    case MF_PARENT_HASH:
        m->bank.parent_hash.b[0] ^= 0x80;
        break;
    case MF_SIGNATURE_COUNT:
        m->bank.signature_count ^= 1;
        break;
    case MF_LAST_HASH:
        m->bank.blockhash_queue.last_hash.b[31] ^= 1;
        break;
    case MF_LT_FIRST:
        m->extra.accounts_lt_hash[0] ^= 1;
        break;
    case MF_LT_LAST:
        m->extra.accounts_lt_hash[ADB_LTHASH_SZ - 1] ^= 0x40;
        break;
    case MF_CURRENT_LEN:
        m->accounts_db.storages[0].entries[0].current_len ^= 8;
        break;
    case MF_STORAGE_SLOT:
        m->accounts_db.storages[0].slot ^= 2;
        break;
    case MF_CURRENT_LEN_HUGE: /* more than any disk */
        m->accounts_db.storages[m->accounts_db.storages_cnt - 1].entries[0].current_len ^= 1ull
                                                                                           << 44;
        break;
    case MF_CURRENT_LEN_DISK: /* 16 GiB more: fits most disks */
        m->accounts_db.storages[m->accounts_db.storages_cnt - 1].entries[0].current_len ^= 1ull
                                                                                           << 34;
        break;
    default:
        break;
    }
}

/* The hard-fork count the bank hash mixes in: forks in (parent_slot, slot]
 * (FORMAT.md 9); forks elsewhere feed no check. */
static uint64_t
mf_forks(adb_manifest_t const *m) {
    uint64_t n = 0;
    for (uint64_t i = 0; i < m->bank.hard_forks_cnt; i++)
        if (m->bank.hard_forks[i].slot > m->bank.parent_slot &&
            m->bank.hard_forks[i].slot <= m->bank.slot)
            n += m->bank.hard_forks[i].val;
    return n;
}

/* Every field a successful load has verified is equal in a and b. */
static bool
mf_verified_equal(adb_manifest_t const *a, adb_manifest_t const *b) {
    if (a->bank.slot != b->bank.slot || a->accounts_db.slot != b->accounts_db.slot ||
        a->bank.capitalization != b->bank.capitalization ||
        a->bank.accounts_data_len != b->bank.accounts_data_len ||
        memcmp(&a->bank.hash, &b->bank.hash, 32) ||
        memcmp(&a->bank.parent_hash, &b->bank.parent_hash, 32) ||
        a->bank.signature_count != b->bank.signature_count ||
        a->bank.blockhash_queue.has_last_hash != b->bank.blockhash_queue.has_last_hash ||
        memcmp(&a->bank.blockhash_queue.last_hash, &b->bank.blockhash_queue.last_hash, 32) ||
        a->extra.has_accounts_lt_hash != b->extra.has_accounts_lt_hash ||
        memcmp(a->extra.accounts_lt_hash, b->extra.accounts_lt_hash, ADB_LTHASH_SZ) ||
        mf_forks(a) != mf_forks(b) || a->accounts_db.storages_cnt != b->accounts_db.storages_cnt)
        return false;
    for (uint64_t i = 0; i < a->accounts_db.storages_cnt; i++) {
        adb_storage_slot_t const *x = &a->accounts_db.storages[i], *y = &b->accounts_db.storages[i];
        if (x->slot != y->slot || x->entries_cnt != y->entries_cnt) return false;
        for (uint64_t k = 0; k < x->entries_cnt; k++)
            if (x->entries[k].current_len != y->entries[k].current_len) return false;
    }
    return true;
}

static void
test_hostile_flip_manifest(void **state) {
    (void)state;
    double       t0 = now_s();
    acctdb_rng_t rng = rng_for("flip_manifest");
    fx_t        *x = fx(0);
    ent_t const *me = fx_ent(x, "snapshots/100/100");
    uint8_t     *mraw = x->tar.p + me->data_off;
    size_t       msz = (size_t)me->size;
    static buf_t tar;
    buf_copy(&tar, x->tar.p, x->tar.n);
    uint8_t *mt = tar.p + me->data_off;
    char     path[4096], label[300];

    /* Targeted: one byte of each verified field. */
    static adb_manifest_t m;
    adb_err_t             e;
    assert_int_equal(adb_manifest_decode(mraw, msz, 0, &m, &e), 0);
    for (int f = 0; f < MF_CNT; f++) {
        mf_flip(&m, (mfield_t)f);
        uint8_t *enc;
        size_t   esz;
        assert_int_equal(adb_manifest_encode_buf(&m, &enc, &esz), 0);
        mf_flip(&m, (mfield_t)f);
        assert_int_equal(esz, msz);
        size_t at = SIZE_MAX, diffs = 0;
        for (size_t i = 0; i < msz; i++)
            if (enc[i] != mraw[i]) at = i, diffs++;
        assert_int_equal(diffs, 1);
        mt[at] = enc[at];
        adb_free(enc);
        write_zst(path, "flip-manifest.tar.zst", tar.p, tar.n);
        snprintf(label, sizeof label, "manifest %s (byte %zu)", mf_info[f].name, at);
        expect_fail(label, path, NULL, mf_info[f].want);
        mt[at] = mraw[at];
    }

    /* Random flips anywhere in the manifest. */
    size_t n = adb_test_scaled(150), failed = 0, undetected = 0, decode_err = 0, check_err = 0;
    for (size_t i = 0; i < n; i++) {
        size_t  pos = (size_t)acctdb_rng_below(&rng, msz);
        uint8_t bit = (uint8_t)(1u << acctdb_rng_below(&rng, 8));
        mt[pos] ^= bit;
        write_zst(path, "flip-manifest.tar.zst", tar.p, tar.n);
        snprintf(label, sizeof label, "manifest byte %zu ^= 0x%02x", pos, bit);
        res_t r;
        load_confined(path, NULL, &r, label);
        if (r.rc) {
            failed++;
            if (strstr(r.msg, "manifest: offset")) decode_err++;
            if (strstr(r.msg, "check failed")) check_err++;
        } else {
            static adb_manifest_t m2;
            if (adb_manifest_decode(mt, msz, 0, &m2, &e))
                fail_msg("%s: loaded although the manifest does not decode: %s", label, e.msg);
            if (!mf_verified_equal(&m, &m2))
                fail_msg("%s: loaded although a verified manifest field changed", label);
            adb_manifest_fini(&m2);
            undetected++;
        }
        mt[pos] ^= bit;
    }
    adb_manifest_fini(&m);
    printf("hostile: manifest bit flips: %d targeted (each verified field: named check fails) + "
           "%zu random: %zu fail (%zu decode errors, %zu failed checks), %zu load with every "
           "verified field intact (the flip hit a field no check covers: fee/rent/epoch "
           "parameters, stakes, ancestors, hard forks outside (parent, slot], ...) "
           "(%.1fs)\n",
           MF_CNT, n, failed, decode_err, check_err, undetected, now_s() - t0);
    buf_free(&tar);
}

/* 3d: in account files.  For every record of the 4.2 fixture: lamports,
 * data, pubkey and owner (the live set's lattice hash or capitalization no
 * longer match, unless the record is a superseded older version, which is
 * not part of the state: then the load succeeds), the executable byte set
 * to 2 and data_len made huge (sanitizer errors), and bytes every reader
 * ignores (write_version, the 7 padding bytes, the obsolete hash: the load
 * must still succeed, as in Agave). */
typedef struct rec {
    size_t   file_off; /* in the tar image */
    uint64_t slot, data_len, lamports;
    uint8_t  pubkey[32];
    bool     live;
} rec_t;

static size_t
fx_records(fx_t const *x, rec_t *out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < x->n; i++) {
        uint64_t slot, id;
        if (adb_snap_entry_classify(x->e[i].path, x->e[i].is_dir, &slot, &id) !=
            ADB_SNAP_ENTRY_ACCOUNT_FILE)
            continue;
        adb_acctfile_iter_t it;
        adb_acct_rec_t      r;
        adb_acctfile_iter_init(&it, x->tar.p + x->e[i].data_off, x->e[i].size, x->e[i].size);
        while (adb_acctfile_iter_next(&it, &r)) {
            assert_true(n < max);
            rec_t *o = &out[n++];
            o->file_off = x->e[i].data_off + (size_t)r.off;
            o->slot = slot;
            o->data_len = r.data_len;
            o->lamports = r.lamports;
            memcpy(o->pubkey, r.pubkey, 32);
        }
        assert_int_equal(it.err.code, 0);
    }
    /* Live: no record of the same pubkey in a newer slot, nor later in the
     * same file. */
    for (size_t i = 0; i < n; i++) {
        out[i].live = true;
        for (size_t k = 0; k < n; k++)
            if (k != i && !memcmp(out[k].pubkey, out[i].pubkey, 32) &&
                (out[k].slot > out[i].slot || (out[k].slot == out[i].slot && k > i)))
                out[i].live = false;
    }
    return n;
}

static void
test_hostile_flip_account_file(void **state) {
    (void)state;
    double       t0 = now_s();
    acctdb_rng_t rng = rng_for("flip_account_file");
    fx_t        *x = fx(0);
    rec_t        recs[64];
    size_t       nrec = fx_records(x, recs, 64), live = 0;
    for (size_t i = 0; i < nrec; i++)
        live += recs[i].live;
    assert_int_equal(nrec, 9);
    assert_int_equal(live, 8);
    static buf_t tar;
    buf_copy(&tar, x->tar.p, x->tar.n);
    char   path[4096], label[300];
    size_t tried = 0, superseded_ok = 0, ignored_ok = 0;
    enum { K_LAMPORTS, K_DATA, K_PUBKEY, K_OWNER, K_EXEC, K_DATA_LEN, K_IGNORED, K_CNT };
    static char const *const kname[K_CNT] = {
        "lamports", "data", "pubkey", "owner", "executable=2", "data_len=2^40", "ignored byte"};
    for (size_t i = 0; i < nrec; i++) {
        rec_t const *rc = &recs[i];
        for (int k = 0; k < K_CNT; k++) {
            if (k == K_DATA && rc->data_len == 0) continue;
            uint8_t  save[ADB_ACCT_HDR_SZ + 8];
            uint8_t *h = tar.p + rc->file_off;
            memcpy(save, h, sizeof save);
            size_t where = 0;
            switch (k) {
            case K_LAMPORTS:
                h[ADB_ACCT_OFF_LAMPORTS + (where = acctdb_rng_below(&rng, 4))] ^= 0x10;
                break;
            case K_DATA:
                where = ADB_ACCT_HDR_SZ + (size_t)acctdb_rng_below(&rng, ADB_MIN(rc->data_len, 8));
                h[where] ^= 0x01;
                break;
            case K_PUBKEY:
                h[ADB_ACCT_OFF_PUBKEY + (where = acctdb_rng_below(&rng, 32))] ^= 0x04;
                break;
            case K_OWNER:
                h[ADB_ACCT_OFF_OWNER + (where = acctdb_rng_below(&rng, 32))] ^= 0x20;
                break;
            case K_EXEC:
                h[ADB_ACCT_OFF_EXEC] = 2;
                break;
            case K_DATA_LEN:
                adb_store_u64(h + ADB_ACCT_OFF_DATA_LEN, 1ull << 40);
                break;
            case K_IGNORED: {
                /* write_version (0..7), padding (0x61..0x67), obsolete hash
                 * (0x68..0x87). */
                static uint8_t const spots[] = {0, 5, 0x61, 0x64, 0x67, 0x68, 0x77, 0x87};
                where = spots[acctdb_rng_below(&rng, sizeof spots)];
                h[where] ^= 0xA5;
                break;
            }
            }
            write_zst(path, "flip-acct.tar.zst", tar.p, tar.n);
            snprintf(label, sizeof label, "accounts record %zu (slot %llu, %s, %s), %s at +%zu", i,
                     (unsigned long long)rc->slot, rc->live ? "live" : "superseded",
                     rc->lamports ? "funded" : "zero lamports", kname[k], where);
            tried++;
            if (k == K_EXEC) {
                expect_fail_code(label, path, NULL, ACCTDB_ERR_CORRUPT, "executable byte is 0x02",
                                 NULL);
            } else if (k == K_DATA_LEN) {
                expect_fail_code(label, path, NULL, ACCTDB_ERR_CORRUPT, "records end|10 MiB", NULL);
            } else if (k == K_IGNORED) {
                expect_ok(label, path, NULL);
                ignored_ok++;
            } else if (rc->live || k == K_PUBKEY) {
                /* A changed pubkey makes even a superseded record live. */
                expect_fail(label, path, NULL,
                            "lattice hash check failed|capitalization check failed|zero-lamport");
            } else {
                /* An older version the newest one supersedes: not state. */
                res_t r;
                load_confined(path, NULL, &r, label);
                if (r.rc && !has_any(r.msg, "zero-lamport")) fail_msg("%s: %s", label, r.msg);
                superseded_ok += r.rc == 0;
            }
            memcpy(h, save, sizeof save);
        }
    }
    printf("hostile: account-file flips: %zu over %zu records (%zu live): every live lamports/data/"
           "pubkey/owner change fails a hash check, executable=2 and huge data_len fail the "
           "sanitizer; %zu flips in ignored bytes and %zu in the superseded version load, as in "
           "Agave (%.1fs)\n",
           tried, nrec, live, ignored_ok, superseded_ok, now_s() - t0);
    buf_free(&tar);
}

/* ======================================================================== */
/* 4. metadata entries                                                       */
/* ======================================================================== */

static void
test_hostile_meta_entries(void **state) {
    (void)state;
    double t0 = now_s();
    fx_t  *x = fx(0);
    plan_t pl;
    char   path[4096];
    size_t tried = 0;
    pent_t dup;

#define RUN_FAIL(label, want)                                                                      \
    do {                                                                                           \
        write_plan(path, "meta.tar.zst", &pl);                                                     \
        expect_fail(label, path, NULL, want);                                                      \
        tried++;                                                                                   \
    } while (0)

    plan_from(&pl, x);
    plan_remove(&pl, plan_find(&pl, "snapshots/100/100"));
    RUN_FAIL("no manifest", "no manifest");

    plan_from(&pl, x);
    plan_remove(&pl, plan_find(&pl, "snapshots/100/100"));
    plan_remove(&pl, plan_find(&pl, "snapshots/100"));
    RUN_FAIL("no manifest nor slot directory", "no manifest");

    plan_from(&pl, x);
    plan_remove(&pl, plan_find(&pl, "version"));
    RUN_FAIL("no version", "no 'version' entry");

    plan_from(&pl, x);
    plan_remove(&pl, plan_find(&pl, "snapshots/status_cache"));
    RUN_FAIL("no status cache", "no status cache");

    plan_from(&pl, x);
    plan_remove(&pl, plan_find(&pl, "accounts/99.2"));
    RUN_FAIL("a storage the manifest lists is missing", "lists a storage for slot 99");

    static struct {
        char const *text;
        size_t      len;
        char const *want;
    } const versions[] = {
        {"1.3.0", 5, "version '1.3.0' is not supported"},
        {"1.2.1", 5, "version '1.2.1' is not supported"},
        {"1.2.0\x00", 6, "not supported"},
        {"\xff\xfe\x01\x02", 4, "version '\\xff\\xfe\\x01\\x02' is not supported"},
        {"", 0, "version '' is not supported"},
        {"1.2.0.0.0", 9, "'version' entry has 9 bytes"},
        {"1.2.0    ", 9, "'version' entry has 9 bytes"},
        {"2", 1, "version '2' is not supported"},
    };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        plan_from(&pl, x);
        size_t v = plan_find(&pl, "version");
        pl.v[v].data = (uint8_t const *)versions[i].text;
        pl.v[v].size = versions[i].len;
        char label[100];
        snprintf(label, sizeof label, "version entry #%zu", i);
        RUN_FAIL(label, versions[i].want);
    }
    /* Agave trims whitespace around the version: these load. */
    static char const *const ok_versions[] = {"1.2.0\n", " 1.2.0\t"};
    for (size_t i = 0; i < 2; i++) {
        plan_from(&pl, x);
        size_t v = plan_find(&pl, "version");
        pl.v[v].data = (uint8_t const *)ok_versions[i];
        pl.v[v].size = strlen(ok_versions[i]);
        write_plan(path, "meta.tar.zst", &pl);
        expect_ok("version with whitespace", path, NULL);
        tried++;
    }

    /* Duplicates: of each metadata entry, of an account file, and a second
     * manifest under another slot. */
    static char const *const dups[] = {"snapshots/100/100", "version", "snapshots/status_cache",
                                       "accounts/98.1"};
    static char const *const dup_want[] = {"a second manifest", "a second 'version'",
                                           "a second status cache", "a second account file"};
    for (size_t i = 0; i < 4; i++) {
        for (int where = 0; where < 2; where++) {
            plan_from(&pl, x);
            dup = pl.v[plan_find(&pl, dups[i])];
            plan_insert(&pl, where ? pl.n : plan_find(&pl, dups[i]) + 1, &dup);
            char label[100];
            snprintf(label, sizeof label, "duplicate %s (%s)", dups[i],
                     where ? "at the end" : "next");
            RUN_FAIL(label, dup_want[i]);
        }
    }
    plan_from(&pl, x);
    dup = pl.v[plan_find(&pl, "snapshots/100/100")];
    snprintf(dup.path, sizeof dup.path, "snapshots/101/101");
    plan_insert(&pl, pl.n, &dup);
    RUN_FAIL("a second manifest under snapshots/101", "a second manifest");

    /* The manifest under a path that does not name its slot. */
    plan_from(&pl, x);
    snprintf(pl.v[plan_find(&pl, "snapshots/100/100")].path, 300, "snapshots/101/101");
    snprintf(pl.v[plan_find(&pl, "snapshots/100")].path, 300, "snapshots/101");
    RUN_FAIL("manifest at snapshots/101/101", "manifest path says slot 101");

    /* Order is free: the manifest after the account files still loads. */
    plan_from(&pl, x);
    size_t mi = plan_find(&pl, "snapshots/100/100");
    dup = pl.v[mi];
    plan_remove(&pl, mi);
    plan_insert(&pl, pl.n, &dup);
    write_plan(path, "meta.tar.zst", &pl);
    expect_ok("manifest after the account files", path, NULL);
    tried++;
#undef RUN_FAIL
    printf("hostile: metadata entries: %zu variants (missing manifest/version/status cache/"
           "storage, 8 bad versions, duplicates of each entry kind; 3 valid reorderings load) "
           "(%.1fs)\n",
           tried, now_s() - t0);
}

/* ======================================================================== */
/* 5. entry names and types                                                  */
/* ======================================================================== */

typedef struct bad_ent {
    char const *label;
    char const *want;
    pent_t      e[2]; /* one or two headers (an extended header first) */
    size_t      n;
} bad_ent_t;

static void
test_hostile_entry_names(void **state) {
    (void)state;
    double               t0 = now_s();
    fx_t                *x = fx(0);
    static uint8_t const junk[700] = {1, 2, 3};
    bad_ent_t            b[64];
    size_t               nb = 0;
    uint8_t              h[ADB_TAR_BLOCK];

#define BAD1(lbl, w, path, type, size)                                                             \
    do {                                                                                           \
        b[nb] = (bad_ent_t){.label = lbl, .want = w, .n = 1};                                      \
        b[nb].e[0] = pent(path, type, junk, size);                                                 \
        nb++;                                                                                      \
    } while (0)

    BAD1("'..' component", "'..' in path", "../evil", '0', 10);
    BAD1("accounts/../x", "'..' in path", "accounts/../x", '0', 10);
    BAD1("'..' behind '.'", "'..' in path", "./../x", '0', 10);
    BAD1("deep '..'", "'..' in path", "snapshots/100/../../../../etc/passwd", '0', 10);
    BAD1("absolute path", "absolute path", "/etc/passwd", '0', 10);
    BAD1("absolute account path", "absolute path", "/accounts/1.1", '0', 10);
    BAD1("symbolic link", "symbolic link", "accounts/7.7", '2', 0);
    BAD1("hard link", "hard link", "accounts/7.7", '1', 0);
    BAD1("character device", "device", "accounts/7.7", '3', 0);
    BAD1("block device", "device", "accounts/7.7", '4', 0);
    BAD1("FIFO", "FIFO", "accounts/7.7", '6', 0);
    BAD1("GNU sparse", "sparse", "accounts/7.7", 'S', 10);
    BAD1("contiguous file type", "entry type 0x37", "accounts/7.7", '7', 10);
    BAD1("unknown type", "entry type 0x5a", "accounts/7.7", 'Z', 10);
    BAD1("unexpected name 'evil'", "extra entry found", "evil", '0', 10);
    BAD1("snapshots/100/99", "extra entry found", "snapshots/100/99", '0', 10);
    BAD1("accounts/1 (no id)", "extra entry found", "accounts/1", '0', 10);
    BAD1("accounts/1.2.3", "extra entry found", "accounts/1.2.3", '0', 10);
    BAD1("accounts/x.1", "extra entry found", "accounts/x.1", '0', 10);
    BAD1("slot over u64", "extra entry found", "accounts/99999999999999999999.1", '0', 10);
    BAD1("accounts/sub/1.1", "extra entry found", "accounts/sub/1.1", '0', 10);
    BAD1("rocksdb entry", "extra entry found", "rocksdb/CURRENT", '0', 10);
    BAD1("version as a directory", "extra entry found", "version", '5', 0);
    BAD1("a directory evil/", "extra entry found", "evil", '5', 0);
    BAD1("manifest as a directory", "extra entry found", "snapshots/7/7", '5', 0);
    BAD1("directory with data", "has 100 bytes of data", "snapshots", '5', 100);
    BAD1("file named like a directory", "ends in '/'", "accounts/5.5/", '0', 10);
    BAD1("backslash", "backslash", "accounts\\..\\x", '0', 10);
    BAD1("control byte", "control byte", "accounts/1.1\x01", '0', 10);
    BAD1("invalid UTF-8", "UTF-8", "accounts/\xff\xfe", '0', 10);
    BAD1("overlong UTF-8 '/'", "UTF-8", "x\xc0\xafy", '0', 10);
    BAD1("empty name", "empty entry name", "", '0', 10);
    BAD1("empty component", "empty path component", "accounts//1.1", '0', 10);
    BAD1("name '.'", "no component", ".", '5', 0);

    /* Headers with bad numeric fields. */
    b[nb] = (bad_ent_t){.label = "malformed size", .want = "malformed size field", .n = 1};
    hdr_make(h, "accounts/7.7", '0', 10);
    memcpy(h + 124, "0000000001x", 11);
    hdr_fix_cksum(h);
    b[nb++].e[0] = pent_raw(h, junk, 10);
    b[nb] = (bad_ent_t){.label = "negative base-256 size", .want = "malformed size field", .n = 1};
    hdr_make(h, "accounts/7.7", '0', 10);
    memset(h + 124, 0xff, 12);
    hdr_fix_cksum(h);
    b[nb++].e[0] = pent_raw(h, junk, 0);
    b[nb] = (bad_ent_t){.label = "base-256 size of 2^62", .want = "exceeds the limit", .n = 1};
    hdr_make(h, "accounts/7.7", '0', 10);
    memset(h + 124, 0, 12);
    h[124] = 0x80;
    h[128] = 0x40;
    hdr_fix_cksum(h);
    b[nb++].e[0] = pent_raw(h, junk, 0);
    b[nb] =
        (bad_ent_t){.label = "base-256 size over 64 bits", .want = "malformed size field", .n = 1};
    hdr_make(h, "accounts/7.7", '0', 10);
    memset(h + 124, 0, 12);
    h[124] = 0x80;
    h[127] = 1;
    hdr_fix_cksum(h);
    b[nb++].e[0] = pent_raw(h, junk, 0);
    b[nb] =
        (bad_ent_t){.label = "old-style '/' name typed as a file", .want = "ends in '/'", .n = 1};
    hdr_make(h, "accounts/", '0', 0);
    memset(h + 257, 0, 8); /* v7 header: no magic */
    hdr_fix_cksum(h);
    b[nb++].e[0] = pent_raw(h, junk, 0);

    /* GNU long names and pax paths carrying what the short name cannot. */
    static char const *const longs[][2] = {
        {"../../etc/passwd", "'..' in path"},
        {"/etc/passwd", "absolute path"},
        {"accounts/../../../../../../../../../../../../../../../../../../../../../../../../../../"
         "../../../../../../../../../../../../tmp/x",
         "'..' in path"},
        {"evil-with-a-long-name-evil-with-a-long-name-evil-with-a-long-name-evil-with-a-long-name-"
         "evil-with-a-long-name",
         "extra entry found"},
    };
    for (size_t i = 0; i < 4; i++) {
        char const *nm = longs[i][0];
        b[nb] = (bad_ent_t){.label = "GNU long name", .want = longs[i][1], .n = 2};
        hdr_make(h, "././@LongLink", 'L', strlen(nm) + 1);
        hdr_gnu(h);
        b[nb].e[0] = pent_raw(h, nm, strlen(nm) + 1);
        hdr_make(h, "accounts/7.7", '0', 10);
        hdr_gnu(h);
        b[nb].e[1] = pent_raw(h, junk, 10);
        nb++;
    }
    static char              pax[4][200];
    static char const *const pax_paths[][2] = {
        {"../../etc/passwd", "'..' in path"},
        {"/etc/shadow", "absolute path"},
        {"accounts/1.1/../../x", "'..' in path"},
    };
    for (size_t i = 0; i < 3; i++) {
        char rec[150];
        int  body = snprintf(rec, sizeof rec, " path=%s\n", pax_paths[i][0]);
        int  len = body + 2; /* two digits of length */
        snprintf(pax[i], sizeof pax[i], "%d%s", len, rec);
        assert_int_equal((int)strlen(pax[i]), len);
        b[nb] = (bad_ent_t){.label = "pax path", .want = pax_paths[i][1], .n = 2};
        hdr_make(h, "PaxHeaders/x", 'x', (uint64_t)len);
        b[nb].e[0] = pent_raw(h, pax[i], (uint64_t)len);
        hdr_make(h, "accounts/7.7", '0', 10);
        b[nb].e[1] = pent_raw(h, junk, 10);
        nb++;
    }
    /* pax path with a NUL inside: "path=ab\0/../x" */
    {
        static char const nulrec[] = "17 path=ab\0/../x\n";
        b[nb] = (bad_ent_t){.label = "pax path with NUL", .want = "NUL", .n = 2};
        hdr_make(h, "PaxHeaders/x", 'x', 17);
        b[nb].e[0] = pent_raw(h, nulrec, 17);
        hdr_make(h, "accounts/7.7", '0', 10);
        b[nb].e[1] = pent_raw(h, junk, 10);
        nb++;
    }
    /* pax size that disagrees with the data that follows. */
    {
        static char const szrec[] = "20 size=99999999999\n";
        b[nb] = (bad_ent_t){
            .label = "pax size of 93 GiB", .want = "exceeds the limit|truncated", .n = 2};
        hdr_make(h, "PaxHeaders/x", 'x', 20);
        b[nb].e[0] = pent_raw(h, szrec, 20);
        hdr_make(h, "accounts/7.7", '0', 10);
        b[nb].e[1] = pent_raw(h, junk, 10);
        nb++;
    }
    b[nb] = (bad_ent_t){.label = "GNU 'L' in a POSIX header", .want = "non-ustar", .n = 1};
    b[nb++].e[0] = pent("././@LongLink", 'L', "evil", 5);
    b[nb] = (bad_ent_t){.label = "GNU long link name", .want = "long link", .n = 1};
    hdr_make(h, "././@LongLink", 'K', 5);
    hdr_gnu(h);
    b[nb++].e[0] = pent_raw(h, "evil", 5);
    b[nb] =
        (bad_ent_t){.label = "long name of 5000 bytes", .want = "extended header 'L' of", .n = 1};
    hdr_make(h, "././@LongLink", 'L', 5000);
    hdr_gnu(h);
    {
        static char big[5000];
        memset(big, 'a', sizeof big);
        b[nb++].e[0] = pent_raw(h, big, sizeof big);
    }
    b[nb] = (bad_ent_t){.label = "long name not followed by an entry",
                        .want = "not followed by an entry|extra entry found",
                        .n = 1};
    hdr_make(h, "././@LongLink", 'L', 5);
    hdr_gnu(h);
    b[nb++].e[0] = pent_raw(h, "evil", 5);
    assert_true(nb <= 64);
#undef BAD1

    /* Each at the start, after the metadata and at the end of the 4.2
     * archive. */
    char   path[4096], label[300];
    size_t tried = 0;
    for (size_t i = 0; i < nb; i++) {
        for (int where = 0; where < 3; where++) {
            plan_t pl;
            plan_from(&pl, x);
            size_t at = where == 0   ? 0
                        : where == 1 ? plan_find(&pl, "snapshots/100/100") + 1
                                     : pl.n;
            for (size_t k = 0; k < b[i].n; k++)
                plan_insert(&pl, at + k, &b[i].e[k]);
            write_plan(path, "names.tar.zst", &pl);
            snprintf(label, sizeof label, "%s (entry '%.80s', %s)", b[i].label,
                     b[i].e[b[i].n - 1].has_raw ? "(raw header)" : b[i].e[0].path,
                     where == 0   ? "first"
                     : where == 1 ? "after the manifest"
                                  : "last");
            expect_fail(label, path, NULL, b[i].want);
            tried++;
        }
    }
    printf("hostile: entry names and types: %zu kinds x 3 positions = %zu archives: all rejected "
           "by name (%.1fs)\n",
           nb, tried, now_s() - t0);
}

/* ======================================================================== */
/* 6. huge length prefixes                                                   */
/* ======================================================================== */

static void
test_hostile_length_prefix(void **state) {
    (void)state;
    double                t0 = now_s();
    fx_t                 *x = fx(0);
    ent_t const          *me = fx_ent(x, "snapshots/100/100");
    ent_t const          *se = fx_ent(x, "snapshots/status_cache");
    uint8_t const        *mraw = x->tar.p + me->data_off;
    static adb_manifest_t m;
    adb_err_t             e;
    assert_int_equal(adb_manifest_decode(mraw, (size_t)me->size, 0, &m, &e), 0);

    /* Offsets of three length prefixes, from the layout (FORMAT.md 3.3,
     * 3.4.1): last_hash_index u64, Option<Hash>, then ages. */
    assert_true(m.bank.blockhash_queue.has_last_hash);
    size_t ages_off = 8 + 1 + 32;
    size_t anc_off = ages_off + 8 + (size_t)m.bank.blockhash_queue.ages_cnt * 56 + 8;
    size_t hf_off = anc_off + 8 + (size_t)m.bank.ancestors_cnt * 16 + 32 + 32 + 8;
    assert_int_equal(adb_load_u64(mraw + ages_off), m.bank.blockhash_queue.ages_cnt);
    assert_int_equal(adb_load_u64(mraw + anc_off), m.bank.ancestors_cnt);
    assert_int_equal(adb_load_u64(mraw + hf_off), m.bank.hard_forks_cnt);
    adb_manifest_fini(&m);

    struct {
        char const *label;
        size_t      off;
        uint64_t    val;
    } const cases[] = {
        {"manifest blockhash_queue.ages = 2^60", me->data_off + ages_off, 1ull << 60},
        {"manifest blockhash_queue.ages = 2^64-1", me->data_off + ages_off, UINT64_MAX},
        {"manifest ancestors = 2^60", me->data_off + anc_off, 1ull << 60},
        {"manifest hard_forks = 2^60", me->data_off + hf_off, 1ull << 60},
        {"manifest hard_forks = 2^60+1 (x16 wraps to 16)", me->data_off + hf_off, (1ull << 60) + 1},
        {"status cache slot deltas = 2^60", se->data_off, 1ull << 60},
    };
    static buf_t tar;
    char         path[4096];
    size_t       n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        buf_copy(&tar, x->tar.p, x->tar.n);
        adb_store_u64(tar.p + cases[i].off, cases[i].val);
        write_zst(path, "lenpfx.tar.zst", tar.p, tar.n);
        expect_fail(cases[i].label, path, NULL, "length prefix");
    }
    /* An Option tag of 2 where the last hash is. */
    buf_copy(&tar, x->tar.p, x->tar.n);
    tar.p[me->data_off + 8] = 2;
    write_zst(path, "lenpfx.tar.zst", tar.p, tar.n);
    expect_fail("manifest Option tag 2", path, NULL, "manifest: offset 8");
    buf_free(&tar);
    printf("hostile: length prefixes of 2^60 and more: %zu (manifest ages/ancestors/hard_forks, "
           "status cache) + 1 bad Option tag: all 'length prefix' errors (%.1fs)\n",
           n, now_s() - t0);
}

/* ======================================================================== */
/* 7. incrementals on the wrong base                                         */
/* ======================================================================== */

static void
test_hostile_incremental_base(void **state) {
    (void)state;
    double       t0 = now_s();
    gen_t const *a = gen(0), *bb = gen(1), *c = gen(2);
    assert_int_not_equal(a->full_slot, bb->full_slot);
    assert_int_equal(a->full_slot, c->full_slot);
    expect_ok("generated full + its incremental", a->full, a->inc);

    /* By name: B's incremental is based on B's full slot. */
    res_t r;
    expect_fail_code("full A + incremental of B", a->full, bb->inc, ACCTDB_ERR_MISMATCH,
                     "is based on slot", &r);
    if (!strstr(r.failed, "base slot")) fail_msg("the base slot check did not fail: %s", r.failed);

    /* Renamed so that its name claims A's slot as the base. */
    char ren[4096], name[600];
    snprintf(name, sizeof name, "incremental-snapshot-%llu-%s", (unsigned long long)a->full_slot,
             strchr(strrchr(bb->inc, '/') + strlen("/incremental-snapshot-"), '-') + 1);
    work_path(ren, name);
    size_t          sz;
    static uint8_t *z;
    z = adb_test_read_file(bb->inc, &sz);
    write_all(ren, z, sz);
    free(z);
    expect_fail("full A + incremental of B renamed to base A", a->full, ren,
                "lists a storage|check failed");

    /* Same slots, other content (seed): names agree, hashes do not. */
    expect_fail_code("full A + incremental of C (same slots)", a->full, c->inc, ACCTDB_ERR_MISMATCH,
                     "incremental lattice hash check failed", NULL);
    expect_fail_code("full C + incremental of A (same slots)", c->full, a->inc, ACCTDB_ERR_MISMATCH,
                     "incremental lattice hash check failed", NULL);

    /* Roles swapped. */
    expect_fail_code("incremental given as the full", a->inc, NULL, ACCTDB_ERR_INVALID,
                     "given as the full", NULL);
    expect_fail_code("full given as the incremental", a->full, c->full, ACCTDB_ERR_INVALID,
                     "given as the incremental", NULL);
    /* The bundled pair, crossed with the generated one. */
    expect_fail("3.x full + generated incremental", adb_test_data(FV1), a->inc, "is based on slot");
    printf("hostile: incremental base: 7 wrong pairings (base by name, renamed, same slots "
           "different content, roles swapped): all fail (%.1fs)\n",
           now_s() - t0);
}

/* ======================================================================== */
/* 8. containers                                                             */
/* ======================================================================== */

static void
test_hostile_compression_kinds(void **state) {
    (void)state;
    double t0 = now_s();
    fx_t  *x = fx(0);
    char   tarp[4096], path[4096];
    write_all(work_path(tarp, "plain.tar"), x->tar.p, x->tar.n);
    size_t tried = 0;

    struct {
        char const *name, *cmd, *want;
    } const kinds[] = {
        {"c.tar.gz", "gzip -c", "unsupported archive compression: gzip"},
        {"c.tar.bz2", "bzip2 -c", "unsupported archive compression: bzip2"},
        {"c.tar.xz", "xz -c", "unsupported archive compression: xz"},
        {"c.tar", "cat", "unsupported archive compression: an uncompressed tar"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        work_path(path, kinds[i].name);
        if (adb_test_sh(NULL, 0, "%s '%s' > '%s' 2>/dev/null", kinds[i].cmd, tarp, path) != 0) {
            printf("hostile: %s not available, skipped\n", kinds[i].cmd);
            continue;
        }
        expect_fail_code(kinds[i].name, path, NULL, ACCTDB_ERR_UNSUPPORTED, kinds[i].want, NULL);
        tried++;
    }
    /* Empty, tiny, random, and a skippable frame first. */
    work_path(path, "empty.tar.zst");
    write_all(path, "", 0);
    expect_fail("empty file", path, NULL, "the archive is empty");
    write_all(path, "\x28\xb5", 2);
    expect_fail_code("2-byte file", path, NULL, ACCTDB_ERR_UNSUPPORTED, "too short", NULL);
    acctdb_rng_t rng = rng_for("random bytes");
    uint8_t      rnd[4096];
    size_t       nr = adb_test_scaled(10);
    for (size_t i = 0; i < nr; i++) {
        for (size_t k = 0; k < sizeof rnd; k++)
            rnd[k] = (uint8_t)acctdb_rng_next(&rng);
        if (i == 0) memcpy(rnd, "\x28\xb5\x2f\xfd", 4); /* zstd magic, garbage after */
        if (i == 1) memcpy(rnd, "\x04\x22\x4d\x18", 4); /* lz4 magic, garbage after */
        write_all(path, rnd, sizeof rnd);
        expect_fail(i == 0   ? "zstd magic then random"
                    : i == 1 ? "lz4 magic then random"
                             : "random bytes",
                    path, NULL,
                    i == 0   ? "zstd|truncated"
                    : i == 1 ? "lz4|truncated"
                             : "unsupported archive compression: unknown");
    }
    tried += 2 + nr;
    {
        static buf_t z;
        zstd_of(x->tar.p, x->tar.n, &z);
        static buf_t s;
        buf_put(&s,
                "\x50\x2a\x4d\x18\x04\x00\x00\x00"
                "abcd",
                12);
        buf_put(&s, z.p, z.n);
        write_all(path, s.p, s.n);
        expect_fail_code("skippable frame first", path, NULL, ACCTDB_ERR_UNSUPPORTED,
                         "skippable frame", NULL);
        /* zstd content under a .tar.lz4 snapshot name. */
        work_path(path, "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.lz4");
        size_t          vsz;
        static uint8_t *v;
        v = adb_test_read_file(adb_test_data(FV1), &vsz);
        write_all(path, v, vsz);
        free(v);
        expect_fail("zstd named .tar.lz4", path, NULL, "named .tar.lz4 but its content is zstd");
        buf_free(&z);
        buf_free(&s);
        tried += 2;
    }

    /* LZ4 archives load and verify (Agave accepts .tar.lz4), and their
     * truncations fail. */
    size_t lz4_ok = 0, lz4_cut = 0;
    if (adb_test_sh(NULL, 0, "lz4 --version >/dev/null 2>&1") == 0) {
        work_path(path, "test-snapshot-v4.2.0-beta.1.tar.lz4");
        assert_int_equal(adb_test_sh(NULL, 0, "lz4 -q -c '%s' > '%s'", tarp, path), 0);
        expect_ok("4.2 fixture as .tar.lz4", path, NULL);
        size_t          lsz;
        static uint8_t *l;
        l = adb_test_read_file(path, &lsz);
        acctdb_rng_t r2 = rng_for("lz4 cut");
        char         cut[4096];
        work_path(cut, "cut.tar.lz4");
        size_t ncut = adb_test_scaled(20);
        for (size_t i = 0; i < ncut; i++) {
            size_t off = i == 0   ? lsz - 1
                         : i == 1 ? lsz - 4
                                  : 4 + (size_t)acctdb_rng_below(&r2, lsz - 4);
            write_all(cut, l, off);
            char label[100];
            snprintf(label, sizeof label, "lz4 cut at %zu of %zu", off, lsz);
            expect_fail(label, cut, NULL, "truncated|lz4");
            lz4_cut++;
        }
        free(l);
        /* The 3.x pair, with its real names, as lz4. */
        char full[4096], inc[4096], t1[4096], t2[4096];
        work_path(full, "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.lz4");
        work_path(inc,
                  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.lz4");
        write_all(work_path(t1, "v1.tar"), fx(1)->tar.p, fx(1)->tar.n);
        write_all(work_path(t2, "v1i.tar"), fx(2)->tar.p, fx(2)->tar.n);
        assert_int_equal(adb_test_sh(NULL, 0, "lz4 -q -c '%s' > '%s'", t1, full), 0);
        assert_int_equal(adb_test_sh(NULL, 0, "lz4 -q -c '%s' > '%s'", t2, inc), 0);
        expect_ok("3.x full + incremental as .tar.lz4", full, inc);
        lz4_ok = 2;
    } else {
        printf("hostile: lz4 CLI not available, lz4 cases skipped\n");
    }
    printf("hostile: containers: %zu rejected (gzip, bzip2, xz, plain tar, empty, short, random, "
           "skippable, misnamed); lz4: %zu archives load and verify, %zu cuts fail (%.1fs)\n",
           tried, lz4_ok, lz4_cut, now_s() - t0);
}

/* ======================================================================== */
/* 9. decompression bomb                                                     */
/* ======================================================================== */

/* Writes a .tar.zst: plan entries, then an entry `path` of bomb_sz zero
 * bytes, then the end blocks, streamed through the compressor. */
static void
write_bomb(char const *out_path, plan_t const *pl, char const *path, uint64_t bomb_sz) {
    static buf_t tar, z;
    plan_tar(pl, &tar);
    tar.n -= 2 * ADB_TAR_BLOCK; /* drop the end blocks */
    uint8_t h[ADB_TAR_BLOCK];
    hdr_make(h, path, '0', bomb_sz);
    buf_put(&tar, h, sizeof h);
    adb_comp_t *c;
    assert_int_equal(adb_comp_open(&c, 3, 0, buf_out_cb, &z), 0);
    assert_int_equal(adb_comp_write(c, tar.p, tar.n), 0);
    static uint8_t const zeros[1 << 20];
    for (uint64_t left = bomb_sz; left;) {
        size_t n = (size_t)ADB_MIN(left, sizeof zeros);
        assert_int_equal(adb_comp_write(c, zeros, n), 0);
        left -= n;
    }
    assert_int_equal(adb_comp_write(c, zeros, adb_tar_pad(bomb_sz) + 2 * ADB_TAR_BLOCK), 0);
    assert_int_equal(adb_comp_end_frame(c), 0);
    adb_comp_close(c);
    write_all(out_path, z.p, z.n);
    buf_free(&tar);
    buf_free(&z);
}

static void
test_hostile_bomb(void **state) {
    (void)state;
    double              t0 = now_s();
    fx_t               *x = fx(0);
    plan_t              pl;
    char                path[4096];
    adb_decomp_limits_t lim;
    adb_decomp_limits_default(&lim);
    assert_int_equal(lim.max_ratio, 2000);

    /* 300 MiB of zeros as an account file the manifest (already read)
     * declares as 152 bytes: only those reach the disk; the ratio limit
     * stops the stream after 256 MiB. */
    uint64_t const bomb = 300ull << 20;
    plan_from(&pl, x);
    plan_remove(&pl, plan_find(&pl, "accounts/98.1"));
    work_path(path, "bomb.tar.zst");
    write_bomb(path, &pl, "accounts/98.1", bomb);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    res_t r;
    expect_fail_code("300 MiB zero account file after the manifest", path, NULL, ACCTDB_ERR_FULL,
                     "decompression ratio over 2000:1", &r);
    if (r.store_sz > (1u << 20))
        fail_msg("the bomb left %llu bytes in the target", (unsigned long long)r.store_sz);
    uint64_t small_sz = r.store_sz;

    /* Before the manifest, account bytes have a budget (64 MiB by default;
     * Agave writes the manifest first), so the bomb stops there. */
    plan_from(&pl, x);
    plan_remove(&pl, plan_find(&pl, "accounts/98.1"));
    plan_remove(&pl, plan_find(&pl, "snapshots/100/100"));
    plan_remove(&pl, plan_find(&pl, "snapshots/status_cache"));
    char path2[4096];
    work_path(path2, "bomb2.tar.zst");
    write_bomb(path2, &pl, "accounts/98.1", bomb);
    double t1 = now_s();
    expect_fail_code("300 MiB zero account file before the manifest", path2, NULL, ACCTDB_ERR_FULL,
                     "before the manifest", &r);
    if (r.store_sz > (64ull << 20) + (8ull << 20))
        fail_msg("the bomb before the manifest left %llu bytes", (unsigned long long)r.store_sz);
    printf("hostile: bomb before the manifest: %llu bytes (%llu on disk) left in the target "
           "(%.1fs)\n",
           (unsigned long long)r.store_sz, (unsigned long long)r.store_disk, now_s() - t1);

    /* The same stream with a lower absolute cap (internal API): the size
     * limit names itself. */
    {
        char *sandbox = adb_test_mkdtemp(), target[4200];
        snprintf(target, sizeof target, "%s/target", sandbox);
        adb_load_opts_t o;
        adb_load_opts_default(&o);
        o.store_dir = target;
        o.threads = 1;
        o.dlim.max_out_sz = 64ull << 20;
        adb_snap_t *s;
        int         rc = adb_snap_load(&s, path, NULL, &o);
        char        msg[ADB_ERRMSG_SZ], why[600] = "";
        snprintf(msg, sizeof msg, "%s", s ? s->err.msg : "");
        adb_snap_close(s);
        res_t r2 = {0};
        bool  ok = confined(sandbox, target, &r2, why, sizeof why);
        adb_test_rmtree(sandbox);
        free(sandbox);
        if (rc != ACCTDB_ERR_FULL || !strstr(msg, "decompressed size exceeds the limit"))
            fail_msg("64 MiB output cap: %d %s", rc, msg);
        if (!ok) fail_msg("64 MiB output cap: %s", why);
    }
    printf("hostile: decompression bomb: %llu MiB of zeros in %lld compressed bytes: fails with "
           "the 2000:1 ratio limit after 256 MiB, %llu bytes left in the target; with a 64 MiB "
           "output cap, 'decompressed size exceeds the limit' (%.1fs)\n",
           (unsigned long long)(bomb >> 20), (long long)st.st_size, (unsigned long long)small_sz,
           now_s() - t0);
}

/* ---- summary ---------------------------------------------------------------- */

static void
test_hostile_summary(void **state) {
    (void)state;
    printf("hostile: %llu confined loads in all\n", (unsigned long long)g_loads);
}

static struct CMUnitTest const hostile_tests[] = {
    cmocka_unit_test(test_hostile_truncate_tar),
    cmocka_unit_test(test_hostile_truncate_compressed),
    cmocka_unit_test(test_hostile_flip_compressed),
    cmocka_unit_test(test_hostile_flip_tar_header),
    cmocka_unit_test(test_hostile_flip_manifest),
    cmocka_unit_test(test_hostile_flip_account_file),
    cmocka_unit_test(test_hostile_meta_entries),
    cmocka_unit_test(test_hostile_entry_names),
    cmocka_unit_test(test_hostile_length_prefix),
    cmocka_unit_test(test_hostile_incremental_base),
    cmocka_unit_test(test_hostile_compression_kinds),
    cmocka_unit_test(test_hostile_bomb),
    cmocka_unit_test(test_hostile_summary),
};

ADB_TEST_GROUP(hostile, hostile_tests);
