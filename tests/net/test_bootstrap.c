/* Bootstrap from peers (src/net/fetch*.c, acctdb bootstrap), on loopback.
 *
 * Parts:
 *   1. the pure parsers of what peers send (heads, Location, archive names,
 *      getHighestSnapshotSlot, SLOT:HASH, peer URLs) and the speed window;
 *   2. the libcurl layer against a small server kept in this file that
 *      can misbehave on purpose (oversized heads, Content-Encoding, no
 *      Content-Length, folding, truncation, stalls, 503s, absolute
 *      redirects): strict refusals, timeouts, downloads that leave nothing
 *      behind, the follower's streaming GET, the temporary-file sweep;
 *   3. the acceptance runs of the tool: a bootstrapped directory equals
 *      the served database; a 1 MiB/s peer with a 64 MiB+ archive is
 *      dropped for a full-speed one under --min-speed 8MiB/s, well within
 *      30 s; corrupt archives are rejected and their peers blacklisted;
 *      known hashes fail closed; no usable peer gives a counted reason;
 *      SIGTERM at any moment leaves no database and no partial download.
 *
 * The peers of part 3 are `acctdb serve` (--snapshots, --max-send-rate,
 * --rpc-addr 127.0.0.1:0) when the tool has it, else this file's server,
 * which follows NETWORK.md 5.6 (303 redirects, exact names, Range,
 * getHighestSnapshotSlot); each test says which it used. */
#include "../test.h"

#include "net/fetch.h"
#include "util/base58.h"
#include "util/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_out[1 << 20];

static void
join(char *out, size_t max, char const *a, char const *b) {
    if (snprintf(out, max, "%s/%s", a, b) >= (int)max) fail_msg("path too long: %s/%s", a, b);
}

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ======================================================================== */
/* 1. Parsers                                                                */
/* ======================================================================== */

#define FULL1 "snapshot-1099-CzJZoo1DzCqz82K8ucu6VRmzVtmtnqFpvJpVJD9oU3Ks.tar.zst"
#define INC1  "incremental-snapshot-1099-1100-DzruLXxwxzppsThQXK8uvQXk9zhwgwKhaU7pKy9S9Ado.tar.zst"
#define HASH1 "CzJZoo1DzCqz82K8ucu6VRmzVtmtnqFpvJpVJD9oU3Ks"

static int
head(char const *s, adb_fetch_head_t *h) {
    adb_err_t e = {0};
    int       rc = adb_fetch_head_parse(s, strlen(s), h, &e);
    if (rc) assert_true(e.msg[0] != 0);
    return rc;
}

static void
test_head_parse(void **state) {
    (void)state;
    adb_fetch_head_t h;
    assert_int_equal(head("HTTP/1.1 303 See Other\r\nLocation: /" FULL1 "\r\n"
                          "Content-Length: 5\r\n\r\n",
                          &h),
                     0);
    assert_int_equal(h.status, 303);
    assert_true(h.has_location && !strcmp(h.location, "/" FULL1));
    assert_true(h.has_length && h.length == 5);
    assert_int_equal(head("HTTP/1.0 404 Not Found\n\n", &h), 0);
    assert_int_equal(h.status, 404);
    assert_int_equal(h.http_minor, 0);
    assert_int_equal(head("HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-9/100\r\n"
                          "content-length:  10 \r\nCONTENT-LENGTH: 10\r\n\r\n",
                          &h),
                     0);
    assert_true(h.has_range && h.range_first == 0 && h.range_last == 9 && h.range_total == 100);
    assert_int_equal(head("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", &h), 0);
    assert_true(h.chunked && !h.has_length);
    assert_int_equal(head("HTTP/1.1 200\r\nContent-Encoding: identity\r\n\r\n", &h), 0);

    static char const *const bad[] = {
        "HTTP/1.1 200 OK\r\n",                                             /* no blank line */
        "HTTP/1.1 200 OK\r\n\r\nX",                                        /* bytes after */
        "HTTP/2 200\r\n\r\n",                                              /* not 1.x */
        "HTTP/1.1 20 OK\r\n\r\n",                                          /* two digits */
        "HTTP/1.1 600 X\r\n\r\n",                                          /* out of range */
        "HTTP/1.1 200OK\r\n\r\n",                                          /* no SP */
        "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n",                         /* obs-fold */
        "HTTP/1.1 200 OK\r\nX-A : a\r\n\r\n",                              /* space before ':' */
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",                              /* no ':' */
        "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n",                            /* bare CR */
        "HTTP/1.1 200 OK\r\nX-A: a\x01\r\n\r\n",                           /* control byte */
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",                   /* sign */
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",                   /* junk */
        "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",                 /* list */
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", /* overflow */
        "HTTP/1.1 200 OK\r\nContent-Length: 70368744177665\r\n\r\n",       /* over 64 TiB */
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n\r\n",
        "HTTP/1.1 303 X\r\nLocation: /a\r\nLocation: /b\r\n\r\n",
        "HTTP/1.1 303 X\r\nLocation:\r\n\r\n",
        "HTTP/1.1 206 X\r\nContent-Range: bytes 5-4/10\r\n\r\n",
        "HTTP/1.1 206 X\r\nContent-Range: bytes 0-10/10\r\n\r\n",
        "HTTP/1.1 206 X\r\nContent-Range: bytes */10\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (head(bad[i], &h) != ACCTDB_ERR_CORRUPT) fail_msg("accepted: %s", bad[i]);

    /* 16 KiB at most; 100 fields at most */
    char *big = malloc(20000);
    assert_non_null(big);
    size_t o = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\n");
    while (o < 16300)
        o += (size_t)sprintf(big + o, "X-Pad: %060d\r\n", 0);
    sprintf(big + o, "\r\n");
    assert_int_equal(head(big, &h), ACCTDB_ERR_CORRUPT);
    o = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 101; i++)
        o += (size_t)sprintf(big + o, "X-%d: 1\r\n", i);
    sprintf(big + o, "\r\n");
    assert_int_equal(head(big, &h), ACCTDB_ERR_CORRUPT);
    free(big);
    /* a NUL inside is an error, not the end */
    char      nul[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";
    adb_err_t e = {0};
    assert_int_equal(adb_fetch_head_parse(nul, sizeof nul - 1, &h, &e), ACCTDB_ERR_CORRUPT);
}

static int
loc(char const *s, bool inc, char *path) {
    adb_snap_name_t n;
    adb_err_t       e = {0};
    char            p[1100];
    int             rc = adb_fetch_location_parse(s, strlen(s), inc, &n, p, sizeof p, &e);
    if (path) strcpy(path, p);
    return rc;
}

static void
test_location(void **state) {
    (void)state;
    char path[1100];
    assert_int_equal(loc("/" FULL1, false, path), 0);
    assert_string_equal(path, "/" FULL1);
    assert_int_equal(loc(FULL1, false, path), 0);
    assert_string_equal(path, "/" FULL1);
    assert_int_equal(loc("/remote/" FULL1, false, path), 0);
    assert_int_equal(loc("/" INC1, true, path), 0);
    assert_int_equal(
        loc("/snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.lz4", false, NULL), 0);
    static char const *const bad_full[] = {
        "http://evil.example/" FULL1,
        "HTTP://x/" FULL1,
        "//evil.example/" FULL1,
        "/../" FULL1,
        "/a/./" FULL1,
        "/a//" FULL1,
        "/" FULL1 "/",
        "/" FULL1 "?x=1",
        "/" FULL1 "#f",
        "/snapshot-1099-CzJZoo1DzCqz82K8ucu6VRmzVtmtnqFpvJpVJD9oU3K%73.tar.zst",
        "\\" FULL1,
        "/a/b/c/d/" FULL1,
        "/" INC1,                            /* wrong kind */
        "/snapshot-01099-" HASH1 ".tar.zst", /* not canonical */
        "/snapshot-1099-" HASH1 ".tar.gz",
        "/snapshot-1099-" HASH1 ".tar.bz2",
        "/snapshot.tar.bz2",
        "/tmp-snapshot-archive-1234",
        "/snapshot-1099-0OIl" HASH1 ".tar.zst",
        "/snapshot-18446744073709551616-" HASH1 ".tar.zst",
        "",
        "/",
        "/ " FULL1,
    };
    for (size_t i = 0; i < sizeof bad_full / sizeof bad_full[0]; i++)
        if (loc(bad_full[i], false, NULL) != ACCTDB_ERR_CORRUPT)
            fail_msg("accepted: %s", bad_full[i]);
    assert_int_equal(loc("/" FULL1, true, NULL), ACCTDB_ERR_CORRUPT);
    assert_int_equal(
        loc("/incremental-snapshot-1100-1100-DzruLXxwxzppsThQXK8uvQXk9zhwgwKhaU7pKy9S9Ado.tar.zst",
            true, NULL),
        ACCTDB_ERR_CORRUPT); /* slot not above base */
}

static int
highest(char const *s, bool *has, uint64_t *full, bool *has_inc, uint64_t *inc) {
    adb_err_t e = {0};
    return adb_fetch_highest_parse(s, strlen(s), has, full, has_inc, inc, &e);
}

static void
test_highest(void **state) {
    (void)state;
    bool     has, hi;
    uint64_t f, i;
    assert_int_equal(
        highest("{\"jsonrpc\":\"2.0\",\"result\":{\"full\":100,\"incremental\":150},\"id\":1}",
                &has, &f, &hi, &i),
        0);
    assert_true(has && hi && f == 100 && i == 150);
    assert_int_equal(
        highest(" {\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"full\":9223372036854775806,"
                "\"incremental\":null}}\r\n",
                &has, &f, &hi, &i),
        0);
    assert_true(has && !hi && f == INT64_MAX - 1);
    assert_int_equal(highest("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32008,\"message\":\"No "
                             "snapshot\"},\"id\":1}",
                             &has, &f, &hi, &i),
                     0);
    assert_false(has);
    static char const *const bad[] = {
        "",
        "{}",
        "[]",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":100},\"id\":2}",
        "{\"jsonrpc\":\"1.0\",\"result\":{\"full\":100},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":-1},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":1.5},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":1e3},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":\"100\"},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":100,\"incremental\":100},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":100,\"incremental\":99},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":99999999999999999999},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":18446744073709551615},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":9223372036854775807},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":-99999999999999999999},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":100},\"id\":1} x",
        "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":100},\"error\":{\"code\":1},\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601},\"id\":1}",
        "{'jsonrpc':'2.0'}",
        "{\"jsonrpc\":\"2.0\",\"result\":[[[[[[[[[[[[]]]]]]]]]]]],\"id\":1}",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc = highest(bad[k], &has, &f, &hi, &i);
        if (rc != ACCTDB_ERR_CORRUPT || has) fail_msg("accepted: %s", bad[k]);
    }
}

static void
test_known_and_peer(void **state) {
    (void)state;
    adb_err_t     e = {0};
    uint64_t      slot;
    acctdb_hash_t h;
    char const   *k = "1099:" HASH1;
    assert_int_equal(adb_fetch_known_parse(k, strlen(k), &slot, &h, &e), 0);
    assert_int_equal(slot, 1099);
    static char const *const bad_known[] = {
        "1099" HASH1, ":" HASH1,      "1099:",           "-1:" HASH1,
        "1x:" HASH1,  "1099: " HASH1, "1099:" HASH1 "1", "1099:0OIl" HASH1};
    for (size_t i = 0; i < sizeof bad_known / sizeof bad_known[0]; i++)
        assert_int_equal(adb_fetch_known_parse(bad_known[i], strlen(bad_known[i]), &slot, &h, &e),
                         ACCTDB_ERR_INVALID);

    char                     norm[512];
    static char const *const good[][2] = {
        {"http://127.0.0.1:8899", "http://127.0.0.1:8899"},
        {"http://127.0.0.1:8899/", "http://127.0.0.1:8899"},
        {"HTTP://Example.COM", "http://example.com"},
        {"https://[::1]:443", "https://[::1]:443"},
        {"http://rpc-1.example.org:80/", "http://rpc-1.example.org:80"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(
            adb_fetch_peer_parse(good[i][0], strlen(good[i][0]), norm, sizeof norm, &e), 0);
        assert_string_equal(norm, good[i][1]);
    }
    static char const *const bad_peer[] = {
        "127.0.0.1:8899", "ftp://x",     "http://",       "http://x:0",         "http://x:65536",
        "http://x:",      "http://u@x",  "http://x/path", "http://x?q",         "http://x#f",
        "http://x//",     "http://[::1", "http://x y",    "file:///etc/passwd", "http://.x",
        "http://x:80:80",
    };
    for (size_t i = 0; i < sizeof bad_peer / sizeof bad_peer[0]; i++)
        if (adb_fetch_peer_parse(bad_peer[i], strlen(bad_peer[i]), norm, sizeof norm, &e) !=
            ACCTDB_ERR_INVALID)
            fail_msg("accepted peer %s", bad_peer[i]);
}

#define SEC 1000000000ull

static void
test_speed_window(void **state) {
    (void)state;
    adb_fetch_speed_t s;
    /* 1 MiB/s against a minimum of 8 MiB/s, window 5 s: judged from the
     * 1 s warm-up plus half a window, dropped after the 1 s grace. */
    adb_fetch_speed_init(&s, 8u << 20, 5);
    uint64_t t = 10 * SEC, b = 0, dropped_at = 0;
    for (int i = 1; i <= 200 && !dropped_at; i++) {
        t += SEC / 20;
        b += (1u << 20) / 20;
        if (adb_fetch_speed_feed(&s, t, b)) dropped_at = t;
    }
    assert_true(dropped_at);
    double after = (double)(dropped_at - 10 * SEC) / 1e9;
    assert_true(after >= 4.4 && after <= 4.8);
    assert_true(s.rate > 0.9 * (1 << 20) && s.rate < 1.1 * (1 << 20));

    /* 100 MiB/s: never; nor without a minimum */
    adb_fetch_speed_init(&s, 8u << 20, 5);
    t = b = 0;
    for (int i = 0; i < 400; i++) {
        t += SEC / 20;
        b += (100u << 20) / 20;
        assert_false(adb_fetch_speed_feed(&s, t, b));
    }
    adb_fetch_speed_init(&s, 0, 5);
    for (int i = 0; i < 400; i++)
        assert_false(adb_fetch_speed_feed(&s, (uint64_t)i * SEC, 0));

    /* Hysteresis: a one-second stall in a fast transfer is not enough (the
     * window average stays high), and a dip that recovers within the grace
     * resets it. */
    adb_fetch_speed_init(&s, 8u << 20, 5);
    t = b = 0;
    for (int i = 0; i < 600; i++) {
        t += SEC / 20;
        bool stall = i >= 200 && i < 220;
        if (!stall) b += (20u << 20) / 20;
        assert_false(adb_fetch_speed_feed(&s, t, b));
    }
    adb_fetch_speed_init(&s, 8u << 20, 5);
    t = b = 0;
    int below = 0;
    for (int i = 0; i < 600; i++) {
        t += SEC / 20;
        /* 9 MiB/s with a 0.8 s stall (the window falls to about 7.6 MiB/s),
         * then a burst that catches up within the grace */
        if (i < 200 || i >= 216) b += (9u << 20) / 20;
        if (i == 230) b += (uint64_t)(0.8 * (9u << 20));
        assert_false(adb_fetch_speed_feed(&s, t, b));
        if (s.is_below) below++;
    }
    assert_true(below > 0); /* it did dip */
    /* time going backwards is ignored, not judged */
    assert_false(adb_fetch_speed_feed(&s, t - SEC, b));
}

/* ======================================================================== */
/* 2. A peer of our own, which can misbehave                                 */
/* ======================================================================== */

enum {
    M_ABS_LOCATION = 1 << 0,    /* Location: http://evil.example/... */
    M_NO_LENGTH = 1 << 1,       /* archives without Content-Length (close-delimited) */
    M_GZIP = 1 << 2,            /* Content-Encoding: gzip on archives */
    M_BIG_HEAD = 1 << 3,        /* 20 KiB of header fields on every answer */
    M_TRUNCATE = 1 << 4,        /* an archive's connection closes half-way */
    M_STALL = 1 << 5,           /* archives: the head and 64 KiB, then nothing */
    M_FOLD = 1 << 6,            /* an obs-fold line in every head */
    M_FAIL_503 = 1 << 7,        /* archive GETs answer 503 */
    M_RPC_BAD = 1 << 8,         /* getHighestSnapshotSlot answers garbage */
    M_FLIP = 1 << 9,            /* a byte in the middle of each archive flipped on the way */
    M_CHUNKED_STREAM = 1 << 10, /* GET /stream: a chunked body */
    M_SILENT = 1 << 11,         /* reads the request, never answers */
};

typedef struct srv {
    int         lfd;
    char        url[64];
    char        dir[4096];
    uint64_t    rate; /* bytes/s per transfer; 0: unlimited */
    unsigned    mode;
    atomic_int  stop, live;
    atomic_uint archive_gets, range_gets, heads, posts;
    pthread_t   th;
} srv_t;

typedef struct conn {
    srv_t *s;
    int    fd;
} conn_t;

static bool
send_all(int fd, void const *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p = (char const *)p + w;
        n -= (size_t)w;
    }
    return true;
}

static void
nap_ms(srv_t *s, int ms) {
    for (int i = 0; i < ms / 10 && !s->stop; i++)
        usleep(10000);
}

/* The newest full archive in s->dir and the newest incremental on it. */
static void
newest(srv_t *s, char *full, char *inc) {
    full[0] = inc[0] = 0;
    DIR *d = opendir(s->dir);
    if (!d) return;
    struct dirent  *e;
    adb_snap_name_t best = {0}, besti = {0}, n;
    bool            hf = false, hi = false;
    char            incs[64][256];
    size_t          ni = 0;
    while ((e = readdir(d)) != NULL) {
        if (adb_snap_name_parse(e->d_name, &n)) continue;
        if (!n.is_incremental && (!hf || n.slot > best.slot)) {
            best = n;
            hf = true;
            snprintf(full, 256, "%s", e->d_name);
        }
        if (n.is_incremental && ni < 64) snprintf(incs[ni++], 256, "%s", e->d_name);
    }
    closedir(d);
    for (size_t i = 0; hf && i < ni; i++) {
        adb_snap_name_parse(incs[i], &n);
        if (n.base_slot == best.slot && (!hi || n.slot > besti.slot)) {
            besti = n;
            hi = true;
            snprintf(inc, 256, "%s", incs[i]);
        }
    }
}

static void
answer(srv_t *s, int fd, int status, char const *extra, char const *body) {
    char h[1024];
    int n = snprintf(h, sizeof h, "HTTP/1.1 %d X\r\nConnection: close\r\n%sContent-Length: %zu\r\n",
                     status, extra ? extra : "", body ? strlen(body) : 0);
    send_all(fd, h, (size_t)n);
    if (s->mode & M_FOLD) send_all(fd, "X-Fold: a\r\n b\r\n", 15);
    if (s->mode & M_BIG_HEAD)
        for (int i = 0; i < 320; i++)
            send_all(fd, "X-Pad: 0000000000000000000000000000000000000000000000000000000\r\n", 64);
    send_all(fd, "\r\n", 2);
    if (body) send_all(fd, body, strlen(body));
}

static void
serve_file(srv_t *s, int fd, char const *name, char const *range, bool is_head) {
    char path[8192];
    join(path, sizeof path, s->dir, name);
    int ffd = open(path, O_RDONLY);
    if (ffd < 0) {
        answer(s, fd, 404, NULL, "not found");
        return;
    }
    struct stat st;
    fstat(ffd, &st);
    uint64_t sz = (uint64_t)st.st_size, a = 0, b = sz - 1;
    char     extra[512] = "";
    int      status = 200;
    if (!is_head) s->archive_gets++;
    if (range && sscanf(range, "bytes=%lu-%lu", &a, &b) >= 1) {
        if (b >= sz) b = sz - 1;
        status = 206;
        snprintf(extra, sizeof extra, "Content-Range: bytes %lu-%lu/%lu\r\n", a, b, sz);
        s->range_gets++;
        s->archive_gets -= !is_head;
    }
    if (!is_head && status == 200 && (s->mode & M_FAIL_503)) {
        close(ffd);
        answer(s, fd, 503, NULL, "busy");
        return;
    }
    char h[2048];
    int  n = snprintf(h, sizeof h, "HTTP/1.1 %d X\r\nConnection: close\r\n%s%s", status, extra,
                     s->mode & M_GZIP ? "Content-Encoding: gzip\r\n" : "");
    if (!(s->mode & M_NO_LENGTH))
        n += snprintf(h + n, sizeof h - (size_t)n, "Content-Length: %lu\r\n", b - a + 1);
    send_all(fd, h, (size_t)n);
    if (s->mode & M_FOLD) send_all(fd, "X-Fold: a\r\n b\r\n", 15);
    if (s->mode & M_BIG_HEAD)
        for (int i = 0; i < 320; i++)
            send_all(fd, "X-Pad: 0000000000000000000000000000000000000000000000000000000\r\n", 64);
    send_all(fd, "\r\n", 2);
    if (is_head) {
        close(ffd);
        return;
    }
    static _Thread_local uint8_t buf[64 << 10];
    uint64_t                     off = a, end = b + 1, sent = 0, stop_at = end;
    if (s->mode & M_TRUNCATE && status == 200) stop_at = a + (end - a) / 2;
    double t0 = now_s();
    while (off < end && !s->stop) {
        size_t  want = (size_t)ADB_MIN((uint64_t)sizeof buf, end - off);
        ssize_t r = pread(ffd, buf, want, (off_t)off);
        if (r <= 0) break;
        if ((s->mode & M_FLIP) && sz / 2 >= off && sz / 2 < off + (uint64_t)r)
            buf[sz / 2 - off] ^= 0x55;
        if (off + (uint64_t)r > stop_at) r = (ssize_t)(stop_at - off);
        if (r > 0 && !send_all(fd, buf, (size_t)r)) break;
        off += (uint64_t)r;
        sent += (uint64_t)r;
        if (off >= stop_at) break;
        if ((s->mode & M_STALL) && status == 200) {
            while (!s->stop)
                nap_ms(s, 50);
            break;
        }
        if (s->rate) {
            double ahead = (double)sent / (double)s->rate - (now_s() - t0);
            if (ahead > 0) nap_ms(s, (int)(ahead * 1000) + 1);
        }
    }
    close(ffd);
}

static void *
conn_main(void *arg) {
    conn_t *c = arg;
    srv_t  *s = c->s;
    int     fd = c->fd;
    free(c);
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char   req[16384];
    size_t got = 0;
    char  *end = NULL;
    while (!s->stop && got < sizeof req - 1) {
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) break;
        got += (size_t)r;
        req[got] = 0;
        if ((end = strstr(req, "\r\n\r\n")) != NULL) break;
    }
    if (!end) goto out;
    if (s->mode & M_SILENT) {
        while (!s->stop)
            nap_ms(s, 50);
        goto out;
    }
    char method[8] = "", path[1024] = "";
    sscanf(req, "%7s %1023s", method, path);
    char const *rg = strcasestr(req, "\r\nRange: ");
    char        range[128] = "";
    if (rg) sscanf(rg + 9, "%127[^\r]", range);
    bool is_head = !strcmp(method, "HEAD");
    if (is_head) s->heads++;
    if (!strcmp(method, "POST")) {
        s->posts++;
        char full[256], inc[256];
        newest(s, full, inc);
        char            body[512];
        adb_snap_name_t fn, in;
        if (s->mode & M_RPC_BAD)
            snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":-5},\"id\":1}");
        else if (!full[0])
            snprintf(body, sizeof body,
                     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32008,\"message\":\"No "
                     "snapshot\"},\"id\":1}");
        else if (!adb_snap_name_parse(full, &fn) && inc[0] && !adb_snap_name_parse(inc, &in))
            snprintf(body, sizeof body,
                     "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":%lu,\"incremental\":%lu},\"id\":1}",
                     fn.slot, in.slot);
        else
            snprintf(
                body, sizeof body,
                "{\"jsonrpc\":\"2.0\",\"result\":{\"full\":%lu,\"incremental\":null},\"id\":1}",
                fn.slot);
        answer(s, fd, 200, "Content-Type: application/json\r\n", body);
    } else if (!strcmp(path, "/snapshot.tar.bz2") ||
               !strcmp(path, "/incremental-snapshot.tar.bz2")) {
        char full[256], inc[256], extra[700];
        newest(s, full, inc);
        char const *name = path[1] == 's' ? full : inc;
        if (!name[0]) {
            answer(s, fd, 404, NULL, "none");
        } else {
            snprintf(extra, sizeof extra, "Location: %s/%s\r\n",
                     s->mode & M_ABS_LOCATION ? "http://evil.example" : "", name);
            answer(s, fd, 303, extra, is_head ? NULL : name);
        }
    } else if (!strcmp(path, "/stream")) {
        /* the follower's kind of answer: no Content-Length, sent over time */
        char const *h =
            s->mode & M_CHUNKED_STREAM
                ? "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
        send_all(fd, h, strlen(h));
        for (int i = 0; i < 5 && !s->stop; i++) {
            char line[64];
            int  n = snprintf(line, sizeof line, "line %d\n", i);
            if (s->mode & M_CHUNKED_STREAM) {
                char ch[96];
                int  m = snprintf(ch, sizeof ch, "%x\r\n%s\r\n", n, line);
                send_all(fd, ch, (size_t)m);
            } else {
                send_all(fd, line, (size_t)n);
            }
            nap_ms(s, 50);
        }
        if (s->mode & M_CHUNKED_STREAM) send_all(fd, "0\r\n\r\n", 5);
        if (s->mode & M_STALL)
            while (!s->stop)
                nap_ms(s, 50);
    } else if (!strcmp(path, "/gone")) {
        answer(s, fd, 410, NULL, "{\"error\":\"SlotTooOld\",\"oldest_slot\":42}");
    } else {
        adb_snap_name_t n;
        if (adb_snap_name_parse(path + 1, &n) || strchr(path + 1, '/'))
            answer(s, fd, 404, NULL, "not found");
        else
            serve_file(s, fd, path + 1, range[0] ? range : NULL, is_head);
    }
out:
    shutdown(fd, SHUT_WR);
    close(fd);
    s->live--;
    return NULL;
}

static void *
accept_main(void *arg) {
    srv_t *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        conn_t   *c = malloc(sizeof *c);
        pthread_t t;
        c->s = s;
        c->fd = fd;
        s->live++;
        if (pthread_create(&t, NULL, conn_main, c)) {
            s->live--;
            close(fd);
            free(c);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

static srv_t *
srv_start(char const *dir, uint64_t rate, unsigned mode) {
    srv_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    snprintf(s->dir, sizeof s->dir, "%s", dir ? dir : "/nonexistent");
    s->rate = rate;
    s->mode = mode;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 64), 0);
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    assert_int_equal(pthread_create(&s->th, NULL, accept_main, s), 0);
    return s;
}

static void
srv_stop(srv_t *s) {
    if (!s) return;
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (int i = 0; i < 500 && s->live; i++)
        usleep(10000);
    assert_int_equal(s->live, 0);
    free(s);
}

/* A loopback port nobody listens on. */
static unsigned
dead_port(void) {
    int                fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- fixtures --------------------------------------------------------------- */

/* acctdb snapshot gen into a new directory (slots decide the slot). */
static char *
gen(char const *tool, unsigned accounts, unsigned slots, unsigned inc) {
    char *d = adb_test_mkdtemp();
    assert_non_null(d);
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "'%s' snapshot gen --accounts %u --slots %u --incremental %u --seed 7 "
                         "--out '%s' 2>&1",
                         tool, accounts, slots, inc, d);
    if (rc) fail_msg("snapshot gen: %s", g_out);
    return d;
}

/* The names of dir's newest full archive and its incremental. */
static void
names(char const *dir, char *full, char *inc) {
    srv_t s = {0};
    snprintf(s.dir, sizeof s.dir, "%s", dir);
    newest(&s, full, inc);
    assert_true(full[0] != 0);
}

static void
copy_file(char const *from, char const *to) {
    assert_int_equal(adb_test_sh(NULL, 0, "cp '%s' '%s'", from, to), 0);
}

static size_t
count_tmp(char const *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t         n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, "tmp-snapshot-archive-", 21)) n++;
    closedir(d);
    return n;
}

static bool
exists(char const *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* ======================================================================== */
/* 2. The libcurl layer                                                      */
/* ======================================================================== */

#define DATA_FULL "snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst"

static char *
data_dir(void) {
    char *d = adb_test_mkdtemp();
    assert_non_null(d);
    char to[4200];
    join(to, sizeof to, d, DATA_FULL);
    copy_file(adb_test_data(DATA_FULL), to);
    return d;
}

/* GET s/name strictly (Content-Length required); returns rc, why in *why. */
static int
get(srv_t *s, char const *path, adb_fetch_why_t *why, char *msg, size_t msg_max) {
    char url[1200];
    snprintf(url, sizeof url, "%s%s", s->url, path);
    adb_fetch_req_t r = {.url = url, .need_length = true, .body_max = 1 << 20, .idle_s = 1};
    int             rc = adb_fetch_run(&r);
    *why = r.why;
    snprintf(msg, msg_max, "%s", r.err.msg);
    adb_fetch_req_fini(&r);
    return rc;
}

static void
test_http_strict(void **state) {
    (void)state;
    char *d = data_dir();
    struct {
        unsigned    mode;
        char const *says;
    } const cases[] = {
        {M_BIG_HEAD, "response head over 16384 bytes"},
        {M_GZIP, "Content-Encoding 'gzip' refused"},
        {M_FOLD, "obsolete line folding"},
        {M_NO_LENGTH, "without Content-Length"},
        {M_TRUNCATE, "body ended after"},
        {M_STALL, "no data for 1 s"},
    };
    char msg[600];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv_t          *s = srv_start(d, 0, cases[i].mode);
        adb_fetch_why_t why;
        double          t0 = now_s();
        int             rc = get(s, "/" DATA_FULL, &why, msg, sizeof msg);
        if (rc == 0 || !strstr(msg, cases[i].says))
            fail_msg("mode %#x: rc %d, '%s' (expected '%s')", cases[i].mode, rc, msg,
                     cases[i].says);
        assert_int_equal(why, cases[i].mode == M_STALL ? ADB_FETCH_TIMEOUT : ADB_FETCH_PROTOCOL);
        assert_true(now_s() - t0 < 5);
        srv_stop(s);
    }
    /* A good answer passes, 404 is an answer (not an error), and a body
     * over body_max is refused unless truncation was asked for. */
    srv_t          *s = srv_start(d, 0, 0);
    adb_fetch_why_t why;
    assert_int_equal(get(s, "/" DATA_FULL, &why, msg, sizeof msg), 0);
    char url[1200];
    join(url, sizeof url, s->url, DATA_FULL);
    adb_fetch_req_t r = {.url = url, .body_max = 1000};
    assert_int_not_equal(adb_fetch_run(&r), 0);
    assert_non_null(strstr(r.err.msg, "body over 1000 bytes"));
    adb_fetch_req_fini(&r);
    r = (adb_fetch_req_t){.url = url, .body_max = 1000, .body_truncate = true};
    assert_int_equal(adb_fetch_run(&r), 0);
    assert_int_equal(r.body_sz, 1000);
    adb_fetch_req_fini(&r);
    r = (adb_fetch_req_t){.url = url, .method = "HEAD"};
    assert_int_equal(adb_fetch_run(&r), 0);
    assert_int_equal(r.head.status, 200);
    assert_int_equal(r.head.length, 238008);
    adb_fetch_req_fini(&r);
    snprintf(url, sizeof url, "%s/snapshot-11-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst",
             s->url);
    r = (adb_fetch_req_t){.url = url, .body_max = 100};
    assert_int_equal(adb_fetch_run(&r), 0);
    assert_int_equal(r.head.status, 404);
    adb_fetch_req_fini(&r);
    /* the Range sample */
    join(url, sizeof url, s->url, DATA_FULL);
    r = (adb_fetch_req_t){.url = url, .range = "0-1023", .body_max = 4096};
    assert_int_equal(adb_fetch_run(&r), 0);
    assert_int_equal(r.head.status, 206);
    assert_true(r.head.has_range && r.head.range_total == 238008 && r.body_sz == 1024);
    adb_fetch_req_fini(&r);
    srv_stop(s);
    /* connected, but no answer: the first-byte timeout */
    s = srv_start(d, 0, M_SILENT);
    join(url, sizeof url, s->url, DATA_FULL);
    r = (adb_fetch_req_t){.url = url, .connect_s = 1, .first_s = 1};
    double t0 = now_s();
    assert_int_not_equal(adb_fetch_run(&r), 0);
    assert_int_equal(r.why, ADB_FETCH_TIMEOUT);
    assert_non_null(strstr(r.err.msg, "no response within 2 s"));
    assert_true(now_s() - t0 < 5);
    adb_fetch_req_fini(&r);
    srv_stop(s);
    /* nobody there */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", dead_port());
    r = (adb_fetch_req_t){.url = url, .connect_s = 2};
    assert_int_not_equal(adb_fetch_run(&r), 0);
    assert_int_equal(r.why, ADB_FETCH_UNREACHABLE);
    adb_fetch_req_fini(&r);
    adb_test_rmtree(d);
    free(d);
}

/* ---- downloads ----------------------------------------------------------- */

static int
dl(srv_t *s, char const *dir, char const *name, uint64_t min_speed, adb_fetch_dl_t *d) {
    static char url[1200];
    join(url, sizeof url, s->url, name);
    *d = (adb_fetch_dl_t){
        .url = url,
        .dir = dir,
        .name = name,
        .min_speed = min_speed,
        .window_s = 1,
        .connect_s = 2,
        .frame_check = true,
    };
    return adb_fetch_download(d);
}

static int      g_enospc;
static adb_io_t g_io;
static int
io_fallocate_full(void *ctx, int fd, uint64_t off, uint64_t sz, char const *site) {
    (void)ctx, (void)fd, (void)off, (void)sz, (void)site;
    return g_enospc ? -ENOSPC : 0;
}

static void
test_download(void **state) {
    (void)state;
    char const    *tool = adb_test_tool();
    char          *src = data_dir(), *dst = adb_test_mkdtemp(), *gsrc = NULL;
    char           path[8192], full[256], inc[256];
    srv_t         *s = srv_start(src, 0, 0);
    adb_fetch_dl_t d;
    assert_int_equal(dl(s, dst, DATA_FULL, 0, &d), 0);
    join(path, sizeof path, src, DATA_FULL);
    assert_int_equal(adb_test_sh(NULL, 0, "cmp -s '%s' '%s'", path, d.path), 0);
    assert_int_equal(d.received, 238008);
    assert_int_equal(count_tmp(dst), 0);
    unlink(d.path);
    srv_stop(s);

    /* Each failure leaves neither the archive nor a temporary file. */
    struct {
        unsigned        mode;
        uint64_t        rate, min;
        adb_fetch_why_t why;
        int             rc;
    } const cases[] = {
        {M_TRUNCATE, 0, 0, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO},
        {M_FAIL_503, 0, 0, ADB_FETCH_STATUS, ACCTDB_ERR_IO},
        {M_NO_LENGTH, 0, 0, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO},
        {M_STALL, 0, 256 << 10, ADB_FETCH_SLOW, ACCTDB_ERR_IO},
        {0, 32 << 10, 256 << 10, ADB_FETCH_SLOW, ACCTDB_ERR_IO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s = srv_start(src, cases[i].rate, cases[i].mode);
        double t0 = now_s();
        int    rc = dl(s, dst, DATA_FULL, cases[i].min, &d);
        if (rc != cases[i].rc || d.why != cases[i].why)
            fail_msg("case %zu: rc %d why %s: %s", i, rc, adb_fetch_why_str(d.why), d.err.msg);
        if (d.why == ADB_FETCH_SLOW) {
            /* judged after 1 s warm-up + the 1 s window + 1 s grace */
            assert_true(now_s() - t0 < 6);
            assert_non_null(strstr(d.err.msg, "below the minimum of 0.25 MiB/s"));
        }
        join(path, sizeof path, dst, DATA_FULL);
        assert_false(exists(path));
        assert_int_equal(count_tmp(dst), 0);
        srv_stop(s);
    }

    /* No space: the free-space check (through the I/O table's fallocate). */
    g_io = *adb_io_posix();
    g_io.fallocate = io_fallocate_full;
    g_enospc = 1;
    adb_io_set(&g_io);
    s = srv_start(src, 0, 0);
    int rc = dl(s, dst, DATA_FULL, 0, &d);
    adb_io_set(NULL);
    assert_int_equal(rc, ACCTDB_ERR_FULL);
    assert_int_equal(d.why, ADB_FETCH_LOCAL);
    assert_int_equal(count_tmp(dst), 0);
    srv_stop(s);

    /* A flipped byte is caught while downloading (our archives carry zstd
     * checksums), not after. */
    if (tool) {
        gsrc = gen(tool, 3000, 100, 0);
        names(gsrc, full, inc);
        s = srv_start(gsrc, 0, M_FLIP);
        rc = dl(s, dst, full, 0, &d);
        assert_int_equal(rc, ACCTDB_ERR_CORRUPT);
        assert_int_equal(d.why, ADB_FETCH_CORRUPT);
        assert_true(d.received < d.length + 1);
        assert_int_equal(count_tmp(dst), 0);
        join(path, sizeof path, dst, full);
        assert_false(exists(path));
        srv_stop(s);
        adb_test_rmtree(gsrc);
        free(gsrc);
    }
    adb_test_rmtree(src);
    adb_test_rmtree(dst);
    free(src);
    free(dst);
}

static void
test_sweep(void **state) {
    (void)state;
    char *d = adb_test_mkdtemp();
    char  p[8192];
    snprintf(p, sizeof p, "%s/tmp-snapshot-archive-dead", d);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    close(fd);
    snprintf(p, sizeof p, "%s/tmp-snapshot-archive-live", d);
    int live = open(p, O_CREAT | O_WRONLY, 0644);
    assert_int_equal(flock(live, LOCK_EX | LOCK_NB), 0);
    snprintf(p, sizeof p, "%s/keep.tar.zst", d);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    assert_int_equal(adb_fetch_sweep(d), 1);
    assert_int_equal(count_tmp(d), 1);
    assert_true(exists(p));
    close(live);
    assert_int_equal(adb_fetch_sweep(d), 1);
    assert_int_equal(count_tmp(d), 0);
    adb_test_rmtree(d);
    free(d);
}

/* ---- the follower's streaming GET ------------------------------------------ */

typedef struct sink {
    char   buf[4096];
    size_t n;
    int    calls, stop_after;
} sink_t;

static int
sink_fn(void *ctx, void const *p, size_t n) {
    sink_t *k = ctx;
    if (k->n + n < sizeof k->buf) {
        memcpy(k->buf + k->n, p, n);
        k->n += n;
        k->buf[k->n] = 0;
    }
    if (++k->calls == k->stop_after) return 7;
    return 0;
}

static void
test_stream(void **state) {
    (void)state;
    char      url[256], body[256];
    long      status;
    adb_err_t e = {0};
    for (int chunked = 0; chunked < 2; chunked++) {
        srv_t *s = srv_start(NULL, 0, chunked ? M_CHUNKED_STREAM : 0);
        sink_t k = {0};
        snprintf(url, sizeof url, "%s/stream", s->url);
        assert_int_equal(adb_fetch_stream(url, 2, 5, sink_fn, &k, &status, body, sizeof body, &e),
                         0);
        assert_int_equal(status, 200);
        assert_string_equal(k.buf, "line 0\nline 1\nline 2\nline 3\nline 4\n");
        /* fn's non-zero return ends it and comes back as is */
        k = (sink_t){.stop_after = 1};
        assert_int_equal(adb_fetch_stream(url, 2, 5, sink_fn, &k, &status, body, sizeof body, &e),
                         7);
        /* a non-2xx body goes to body, fn is not called */
        snprintf(url, sizeof url, "%s/gone", s->url);
        k = (sink_t){0};
        assert_int_equal(adb_fetch_stream(url, 2, 5, sink_fn, &k, &status, body, sizeof body, &e),
                         0);
        assert_int_equal(status, 410);
        assert_non_null(strstr(body, "SlotTooOld"));
        assert_int_equal(k.calls, 0);
        /* a small body buffer: cut, still NUL-terminated */
        char tiny[8];
        assert_int_equal(adb_fetch_stream(url, 2, 5, sink_fn, &k, &status, tiny, sizeof tiny, &e),
                         0);
        assert_int_equal(strlen(tiny), 7);
        srv_stop(s);
    }
    /* idle: no byte for idle_s */
    srv_t *s = srv_start(NULL, 0, M_STALL);
    sink_t k = {0};
    snprintf(url, sizeof url, "%s/stream", s->url);
    double t0 = now_s();
    adb_err_clear(&e);
    assert_int_equal(adb_fetch_stream(url, 2, 1, sink_fn, &k, &status, body, sizeof body, &e),
                     ACCTDB_ERR_IO);
    assert_non_null(strstr(e.msg, "no data for 1 s"));
    assert_true(now_s() - t0 < 5);
    srv_stop(s);
    /* nobody there */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/stream", dead_port());
    adb_err_clear(&e);
    assert_int_equal(adb_fetch_stream(url, 2, 1, sink_fn, &k, &status, body, sizeof body, &e),
                     ACCTDB_ERR_IO);
    assert_non_null(strstr(e.msg, "cannot connect"));
    assert_int_equal(status, 0);
}

/* ======================================================================== */
/* 3. acctdb bootstrap, end to end                                           */
/* ======================================================================== */

/* A peer: `acctdb serve` of a database made from the archives when the
 * tool has it, else this file's server (archives only). */
typedef struct peer {
    srv_t *srv;
    pid_t  pid;
    char   url[64];
    char  *db;
} peer_t;

static int g_serve = -1; /* does the tool have `serve`? */

static bool
have_serve(char const *tool) {
    if (g_serve < 0) {
        int rc = adb_test_sh(g_out, sizeof g_out, "'%s' serve --help 2>&1", tool);
        g_serve = rc == 0 && strstr(g_out, "--max-send-rate") && strstr(g_out, "--snapshots");
        printf("  peers: %s\n", g_serve ? "acctdb serve" : "the test's own server");
    }
    return g_serve == 1;
}

/* dir: the archives served; db_src (NULL: dir): the archives the served
 * database is made from (a peer serving bad archives still has a good
 * database). */
static void
peer_start(peer_t *p, char const *tool, char const *dir, char const *db_src, uint64_t rate,
           unsigned mode) {
    memset(p, 0, sizeof *p);
    p->pid = -1;
    if (mode || !have_serve(tool)) {
        p->srv = srv_start(dir, rate, mode);
        snprintf(p->url, sizeof p->url, "%s", p->srv->url);
        return;
    }
    /* the served database: made from the newest archives in dir */
    p->db = adb_test_mkdtemp();
    assert_non_null(p->db);
    if (adb_test_sh(g_out, sizeof g_out, "'%s' db create '%s/db' --from-dir '%s' --quiet 2>&1",
                    tool, p->db, db_src ? db_src : dir))
        fail_msg("db create for the peer: %s", g_out);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char rate_s[32], db[8192];
    snprintf(rate_s, sizeof rate_s, "%llu", (unsigned long long)rate);
    snprintf(db, sizeof db, "%s/db", p->db);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        if (rate)
            execl(tool, tool, "serve", db, "--rpc-addr", "127.0.0.1:0", "--snapshots", dir,
                  "--max-send-rate", rate_s, (char *)NULL);
        else
            execl(tool, tool, "serve", db, "--rpc-addr", "127.0.0.1:0", "--snapshots", dir,
                  (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char  line[256] = "";
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "listening: %63s", p->url) == 1) break;
    fclose(f);
    if (!p->url[0]) fail_msg("acctdb serve printed no 'listening:' line");
}

static void
peer_stop(peer_t *p) {
    if (p->srv) srv_stop(p->srv);
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
    }
    if (p->db) {
        adb_test_rmtree(p->db);
        free(p->db);
    }
    memset(p, 0, sizeof *p);
}

/* One field of `acctdb db info --json`. */
static void
info_field(char const *json, char const *key, char *out, size_t max) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    char const *p = strstr(json, k);
    if (!p) fail_msg("no %s in %s", key, json);
    p += strlen(k);
    if (*p == '"') p++;
    size_t n = strcspn(p, "\",\n");
    snprintf(out, max, "%.*s", (int)n, p);
}

static void
db_info(char const *tool, char const *dir, char *json, size_t max) {
    if (adb_test_sh(json, max, "'%s' db info '%s' --json 2>&1", tool, dir))
        fail_msg("db info %s: %s", dir, json);
}

static void
test_boot_equal(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *set = gen(tool, 20000, 300, 500), *w = adb_test_mkdtemp(), full[256], inc[256];
    names(set, full, inc);
    assert_true(inc[0] != 0);
    /* the served database, made from the same archives */
    char sdb[8192], cdb[8192], arch[8192];
    snprintf(sdb, sizeof sdb, "%s/served", w);
    snprintf(cdb, sizeof cdb, "%s/client", w);
    snprintf(arch, sizeof arch, "%s/client.archives", w);
    assert_int_equal(adb_test_sh(g_out, sizeof g_out,
                                 "'%s' db create '%s' --from-dir '%s' --quiet 2>&1", tool, sdb,
                                 set),
                     0);
    peer_t p;
    peer_start(&p, tool, set, NULL, 0, 0);
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' bootstrap --peer %s --dir '%s' 2>&1", tool,
                         p.url, cdb);
    if (rc) fail_msg("bootstrap: exit %d: %s", rc, g_out);
    assert_non_null(strstr(g_out, "incremental:    "));
    assert_non_null(strstr(g_out, inc));
    assert_non_null(strstr(g_out, "peers:          1 tried, 0 dropped"));
    /* the default archive directory is DIR.archives, holding both */
    char a[8192];
    join(a, sizeof a, arch, full);
    assert_true(exists(a));
    join(a, sizeof a, arch, inc);
    assert_true(exists(a));
    assert_int_equal(count_tmp(arch), 0);
    /* equal: root slot, lattice checksum, bank hash, capitalization, ...
     * of the served database (acctdb serve's, once it has stopped and let
     * go of it; else one made from the same archives) */
    static char js[1 << 16], jc[1 << 16];
    if (p.pid > 0) {
        kill(p.pid, SIGTERM);
        waitpid(p.pid, NULL, 0);
        p.pid = -1;
        join(sdb, sizeof sdb, p.db, "db");
    }
    db_info(tool, sdb, js, sizeof js);
    db_info(tool, cdb, jc, sizeof jc);
    static char const *const keys[] = {"root_slot",        "lt_checksum",       "bank_hash",
                                       "capitalization",   "accounts_data_len", "index_keys",
                                       "parent_bank_hash", "blockhash"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char vs[128], vc[128];
        info_field(js, keys[i], vs, sizeof vs);
        info_field(jc, keys[i], vc, sizeof vc);
        if (strcmp(vs, vc)) fail_msg("%s: served %s, bootstrapped %s", keys[i], vs, vc);
    }
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s' 2>&1", tool, cdb), 0);
    /* a second bootstrap into the now non-empty DIR refuses before
     * downloading anything */
    unsigned gets = p.srv ? p.srv->archive_gets : 0;
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' bootstrap --peer http://127.0.0.1:%u --dir '%s' 2>&1", tool, dead_port(),
                     cdb);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(g_out, "is not empty"));
    assert_null(strstr(g_out, "probing"));
    if (p.srv) assert_int_equal(p.srv->archive_gets, gets);
    peer_stop(&p);
    adb_test_rmtree(set);
    adb_test_rmtree(w);
    free(set);
    free(w);
}

/* The acceptance case: a 1 MiB/s peer with the newest (64 MiB+) archive
 * and a full-speed one with an older archive; --min-speed 8MiB/s. */
static void
test_boot_slow_peer(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    double      tg = now_s();
    char       *big = gen(tool, 380000, 2000, 0), *small = gen(tool, 20000, 1000, 100);
    char       *w = adb_test_mkdtemp(), bf[256], bi[256], sf[256], si[256], path[8192];
    names(big, bf, bi);
    names(small, sf, si);
    join(path, sizeof path, big, bf);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > (64 << 20));
    printf("  generated %.1f MiB and a small set in %.1f s\n", (double)st.st_size / 1048576.0,
           now_s() - tg);
    peer_t slow, fast;
    peer_start(&slow, tool, big, NULL, 1u << 20, 0);
    peer_start(&fast, tool, small, NULL, 0, 0);
    double t0 = now_s();
    int    rc = adb_test_sh(g_out, sizeof g_out,
                            "'%s' bootstrap --peer %s --peer %s --min-speed 8MiB/s --dir '%s/db' "
                               "2>&1",
                            tool, slow.url, fast.url, w);
    double el = now_s() - t0;
    printf("  bootstrap took %.1f s\n", el);
    if (rc) fail_msg("bootstrap: exit %d: %s", rc, g_out);
    /* the dropped peer is named with its measured rate */
    char want[256];
    snprintf(want, sizeof want, "dropping %s: too slow: ", slow.url);
    char const *drop = strstr(g_out, want);
    if (!drop) fail_msg("no '%s' in: %s", want, g_out);
    double rate = 0;
    assert_int_equal(sscanf(drop + strlen(want), "%lf MiB/s over the last", &rate), 1);
    assert_true(rate > 0.5 && rate < 2.0);
    /* within a few seconds of its download starting (4.5 s by the rule) */
    char const *in = strstr(drop, " received in ");
    double      drop_s = 0;
    assert_non_null(in);
    assert_int_equal(sscanf(in, " received in %lf s", &drop_s), 1);
    printf("  the slow peer dropped %.1f s into its download\n", drop_s);
    assert_true(drop_s > 3.0 && drop_s < 8.0);
    assert_non_null(strstr(g_out, sf));
    assert_non_null(strstr(g_out, "peers:          2 tried, 1 dropped"));
    assert_true(el < 30.0); /* the acceptance bound; typically about 8 s */
    peer_stop(&slow);
    peer_stop(&fast);
    adb_test_rmtree(big);
    adb_test_rmtree(small);
    adb_test_rmtree(w);
    free(big);
    free(small);
    free(w);
}

/* Flip the byte in the middle of a file. */
static void
flip(char const *path) {
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, n / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, n / 2, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
}

static void
test_boot_corrupt(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    /* four peers, in the order the client prefers them:
     *   A  a corrupted copy of the newest full archive under its own name
     *      (caught while downloading: the zstd checksum);
     *   B  a valid archive under a name whose hash is not its own (caught
     *      when the database is created: the name check);
     *   C  the good full archive of an older slot, and an incremental
     *      whose name claims a newer slot than its manifest (caught at
     *      creation, so C goes; the full stays);
     *   D  the same full archive and the good incremental. */
    char *s1 = gen(tool, 20000, 1000, 300), *s2 = gen(tool, 20000, 1200, 0),
         *s3 = gen(tool, 20000, 1400, 0);
    char *w = adb_test_mkdtemp(), f1[256], i1[256], f2[256], i2[256], f3[256], i3[256];
    names(s1, f1, i1);
    names(s2, f2, i2);
    names(s3, f3, i3);
    char da[8192], db_[8192], dc[8192], dd[8192], from[8192], to[8192];
    snprintf(da, sizeof da, "%s/a", w);
    snprintf(db_, sizeof db_, "%s/b", w);
    snprintf(dc, sizeof dc, "%s/c", w);
    snprintf(dd, sizeof dd, "%s/d", w);
    mkdir(da, 0755), mkdir(db_, 0755), mkdir(dc, 0755), mkdir(dd, 0755);
    join(from, sizeof from, s3, f3);
    join(to, sizeof to, da, f3);
    copy_file(from, to);
    flip(to);
    adb_snap_name_t n2, n1, ni;
    assert_int_equal(adb_snap_name_parse(f2, &n2), 0);
    assert_int_equal(adb_snap_name_parse(f1, &n1), 0);
    assert_int_equal(adb_snap_name_parse(i1, &ni), 0);
    char bad[256];
    n2.hash = n1.hash; /* someone else's hash */
    adb_snap_name_format(&n2, bad, sizeof bad);
    join(from, sizeof from, s2, f2);
    join(to, sizeof to, db_, bad);
    copy_file(from, to);
    join(from, sizeof from, s1, f1);
    join(to, sizeof to, dc, f1);
    copy_file(from, to);
    join(to, sizeof to, dd, f1);
    copy_file(from, to);
    ni.slot++; /* a newer slot than the archive holds */
    adb_snap_name_format(&ni, bad, sizeof bad);
    join(from, sizeof from, s1, i1);
    join(to, sizeof to, dc, bad);
    copy_file(from, to);
    join(to, sizeof to, dd, i1);
    copy_file(from, to);

    peer_t a, b, c, d;
    peer_start(&a, tool, da, s3, 0, 0);
    peer_start(&b, tool, db_, s2, 0, 0);
    peer_start(&c, tool, dc, s1, 0, 0);
    peer_start(&d, tool, dd, s1, 0, 0);
    int rc = adb_test_sh(g_out, sizeof g_out,
                         "'%s' bootstrap --peer %s --peer %s --peer %s --peer %s --dir '%s/db' "
                         "2>&1",
                         tool, a.url, b.url, c.url, d.url, w);
    if (rc || getenv("ADB_TEST_VERBOSE")) printf("%s\n", g_out);
    if (rc) fail_msg("bootstrap: exit %d (output above)", rc);
    char          want[256];
    peer_t const *bl[] = {&a, &b, &c};
    for (int i = 0; i < 3; i++) {
        snprintf(want, sizeof want, "blacklisting %s: ", bl[i]->url);
        if (!strstr(g_out, want)) fail_msg("no '%s' in: %s", want, g_out);
    }
    snprintf(want, sizeof want, "blacklisting %s: ", d.url);
    assert_null(strstr(g_out, want));
    assert_non_null(strstr(g_out, "peers:          4 tried, 3 dropped"));
    assert_non_null(strstr(g_out, i1));
    /* what was created is the good full + incremental */
    static char jc[1 << 16];
    char        v[128], h[ACCTDB_BASE58_32_SZ];
    adb_snap_name_parse(i1, &ni);
    snprintf(to, sizeof to, "%s/db", w);
    db_info(tool, to, jc, sizeof jc);
    info_field(jc, "lt_checksum", v, sizeof v);
    assert_string_equal(v, adb_base58_encode_32(ni.hash.b, h));
    /* the bad archives are gone from the archive directory */
    snprintf(to, sizeof to, "%s/db.archives/%s", w, f3);
    assert_false(exists(to));
    snprintf(to, sizeof to, "%s/db.archives/%s", w, bad);
    assert_false(exists(to));
    peer_stop(&a);
    peer_stop(&b);
    peer_stop(&c);
    peer_stop(&d);
    char *dirs[] = {s1, s2, s3, w};
    for (int i = 0; i < 4; i++) {
        adb_test_rmtree(dirs[i]);
        free(dirs[i]);
    }
}

/* Known hashes fail closed: exit 1, no database, no archives. */
static void
test_boot_known(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *set = gen(tool, 5000, 200, 100), *w = adb_test_mkdtemp(), full[256], inc[256];
    names(set, full, inc);
    adb_snap_name_t fn, in;
    assert_int_equal(adb_snap_name_parse(full, &fn), 0);
    assert_int_equal(adb_snap_name_parse(inc, &in), 0);
    char fh[ACCTDB_BASE58_32_SZ], ih[ACCTDB_BASE58_32_SZ], dir[4200], arch[4300];
    adb_base58_encode_32(fn.hash.b, fh);
    adb_base58_encode_32(in.hash.b, ih);
    snprintf(dir, sizeof dir, "%s/db", w);
    snprintf(arch, sizeof arch, "%s/db.archives", w);
    peer_t p;
    peer_start(&p, tool, set, NULL, 0, 0);
    struct {
        char known[256];
        int  exit;
        char says[64];
    } cases[4];
    snprintf(cases[0].known, 256, "--known-hash %llu:%s", (unsigned long long)fn.slot, ih);
    cases[0].exit = 1, strcpy(cases[0].says, "but the known hash of slot");
    snprintf(cases[1].known, 256, "--known-hash %llu:%s --known-hash %llu:%s",
             (unsigned long long)fn.slot, fh, (unsigned long long)fn.slot, ih);
    cases[1].exit = 1, strcpy(cases[1].says, "the known hashes disagree");
    snprintf(cases[2].known, 256, "--known-hash %llu:%s", (unsigned long long)in.slot, fh);
    cases[2].exit = 1, strcpy(cases[2].says, "but the known hash of slot");
    snprintf(cases[3].known, 256, "--known-hash %llu:%s --known-hash %llu:%s",
             (unsigned long long)fn.slot, fh, (unsigned long long)in.slot, ih);
    cases[3].exit = 0, strcpy(cases[3].says, "(equal to the known hash)");
    for (int i = 0; i < 4; i++) {
        int rc = adb_test_sh(g_out, sizeof g_out, "'%s' bootstrap --peer %s %s --dir '%s' 2>&1",
                             tool, p.url, cases[i].known, dir);
        if (rc != cases[i].exit || !strstr(g_out, cases[i].says))
            fail_msg("%s: exit %d: %s", cases[i].known, rc, g_out);
        if (cases[i].exit) {
            assert_false(exists(dir));
            assert_false(exists(arch));
        }
    }
    peer_stop(&p);
    adb_test_rmtree(set);
    adb_test_rmtree(w);
    free(set);
    free(w);
}

/* A disagreement found after the full archive came (the incremental
 * appears on the peer only then): the downloaded archive goes too. */
typedef struct late {
    char from[8192], to[8192];
    bool done;
} late_t;

static void
late_log(void *ctx, char const *line) {
    late_t *l = ctx;
    if (!l->done && !strncmp(line, "downloading snapshot-", 21)) {
        copy_file(l->from, l->to);
        l->done = true;
    }
}

static void
test_boot_known_late(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char *set = gen(tool, 5000, 200, 100), *w = adb_test_mkdtemp(), *srvdir = adb_test_mkdtemp();
    char  full[256], inc[256], from[8192], to[8192], dir[4200], arch[4300];
    names(set, full, inc);
    join(from, sizeof from, set, full);
    join(to, sizeof to, srvdir, full);
    copy_file(from, to);
    adb_snap_name_t in;
    assert_int_equal(adb_snap_name_parse(inc, &in), 0);
    late_t l = {.done = false};
    snprintf(l.from, sizeof l.from, "%s/%s", set, inc);
    snprintf(l.to, sizeof l.to, "%s/%s", srvdir, inc);
    srv_t *s = srv_start(srvdir, 0, 0);
    char   known[128], h[ACCTDB_BASE58_32_SZ];
    snprintf(known, sizeof known, "%llu:%s", (unsigned long long)in.slot,
             adb_base58_encode_32((uint8_t const[32]){1}, h));
    char const *peers[] = {s->url}, *knowns[] = {known};
    snprintf(dir, sizeof dir, "%s/db", w);
    snprintf(arch, sizeof arch, "%s/db.archives", w);
    acctdb_bootstrap_opts_t o = {
        .peers = peers,
        .peer_cnt = 1,
        .known_hashes = knowns,
        .known_hash_cnt = 1,
        .dir = dir,
        .log = late_log,
        .log_ctx = &l,
    };
    acctdb_bootstrap_result_t res;
    char                      msg[1024];
    assert_int_equal(acctdb_bootstrap(&o, &res, msg, sizeof msg), ACCTDB_ERR_MISMATCH);
    assert_true(l.done);
    assert_non_null(strstr(msg, "known hash"));
    assert_false(exists(dir));
    assert_false(exists(arch)); /* the full archive it had downloaded is gone */
    srv_stop(s);
    adb_test_rmtree(set);
    adb_test_rmtree(srvdir);
    adb_test_rmtree(w);
    free(set);
    free(srvdir);
    free(w);
}

/* No peer qualifies: the error counts the discarded by reason; a failing
 * peer is tried a bounded number of times. */
static void
test_boot_no_peer(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *set = gen(tool, 3000, 100, 0), *empty = adb_test_mkdtemp(), *w = adb_test_mkdtemp();
    char        dir[4200];
    snprintf(dir, sizeof dir, "%s/db", w);
    unsigned d1 = dead_port(), d2 = dead_port();
    int      rc = adb_test_sh(g_out, sizeof g_out,
                              "'%s' bootstrap --peer http://127.0.0.1:%u --peer http://127.0.0.1:%u "
                                   "--connect-timeout 2 --dir '%s' 2>&1",
                              tool, d1, d2, dir);
    assert_int_equal(rc, 2);
    if (!strstr(g_out,
                "no peer qualified for a full snapshot: 2 peers, 2 discarded: 2 unreachable"))
        fail_msg("%s", g_out);
    assert_false(exists(dir));

    /* many peers: probed in batches, every one counted */
    char        urls[70][64];
    char const *pp[70];
    for (int i = 0; i < 70; i++) {
        snprintf(urls[i], sizeof urls[i], "http://127.0.0.%d:%u", i + 1, d1);
        pp[i] = urls[i];
    }
    acctdb_bootstrap_opts_t   o = {.peers = pp, .peer_cnt = 70, .dir = dir, .connect_timeout_s = 2};
    acctdb_bootstrap_result_t res;
    char                      msg[1024];
    assert_int_equal(acctdb_bootstrap(&o, &res, msg, sizeof msg), ACCTDB_ERR_NOT_FOUND);
    assert_non_null(strstr(msg, "70 peers, 70 discarded: 70 unreachable or timed out"));
    assert_false(exists(dir));

    srv_t *none = srv_start(empty, 0, 0), *abs_ = srv_start(set, 0, M_ABS_LOCATION),
          *fold = srv_start(set, 0, M_FOLD), *trunc = srv_start(set, 0, M_TRUNCATE),
          *busy = srv_start(set, 0, M_FAIL_503), *rpc = srv_start(set, 0, M_RPC_BAD | M_STALL);
    rc = adb_test_sh(g_out, sizeof g_out,
                     "'%s' bootstrap --peer http://127.0.0.1:%u --peer %s --peer %s --peer %s "
                     "--peer %s --peer %s --peer %s --min-speed 64K --min-speed-window 1 "
                     "--connect-timeout 2 --dir '%s' 2>&1",
                     tool, d1, none->url, abs_->url, fold->url, trunc->url, busy->url, rpc->url,
                     dir);
    assert_int_equal(rc, 2);
    char const *want =
        "no peer qualified for a full snapshot: 7 peers, 7 discarded: 1 unreachable "
        "or timed out, 1 no snapshot, 1 an invalid redirect, 2 broke the HTTP rules, "
        "1 an unexpected HTTP status, 1 too slow";
    if (!strstr(g_out, want)) {
        printf("%s\n", g_out);
        fail_msg("expected '%s' in the output above", want);
    }
    assert_false(exists(dir));
    char arch[8192];
    join(arch, sizeof arch, w, "db.archives");
    assert_false(exists(arch)); /* made for the downloads, removed again: empty */
    /* bounded: the truncating peer was tried once (a protocol breach),
     * the 503 one twice, and the stalling one once (too slow) */
    assert_int_equal(trunc->archive_gets, 1);
    assert_int_equal(busy->archive_gets, 2);
    assert_int_equal(rpc->archive_gets, 1);
    srv_t *all[] = {none, abs_, fold, trunc, busy, rpc};
    for (int i = 0; i < 6; i++)
        srv_stop(all[i]);
    adb_test_rmtree(set);
    adb_test_rmtree(empty);
    adb_test_rmtree(w);
    free(set);
    free(empty);
    free(w);
}

/* Options: RATE forms, strict numbers, usage. */
static void
test_boot_cli(void **state) {
    (void)state;
    char const              *tool = adb_test_tool_or_skip();
    char                    *w = adb_test_mkdtemp();
    unsigned                 d = dead_port();
    static char const *const ok[] = {"8M",      "8MiB", "8MiB/s", "8m/s",
                                     "8388608", "0",    "1T",     "512KiB/s"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = adb_test_sh(g_out, sizeof g_out,
                             "'%s' bootstrap --peer http://127.0.0.1:%u --connect-timeout 1 "
                             "--min-speed '%s' --dir '%s/db' 2>&1",
                             tool, d, ok[i], w);
        if (rc != 2 || !strstr(g_out, "no peer qualified")) fail_msg("%s: %s", ok[i], g_out);
    }
    static char const *const bad[] = {"8MB",  "-1", "8 M", "/s",   "8iB",  "8MiB/s/s", "",
                                      "1.5M", "2T", "8Mi", "8M/S", "0x10", "8MiBs"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int  rc = adb_test_sh(g_out, sizeof g_out,
                              "'%s' bootstrap --peer http://127.0.0.1:%u --min-speed '%s' --dir "
                               "'%s/db' 2>&1",
                              tool, d, bad[i], w);
        char want[96];
        snprintf(want, sizeof want, "--min-speed: '%s' is not", bad[i]);
        if (rc != 2 || !strstr(g_out, want)) fail_msg("%s: exit %d: %s", bad[i], rc, g_out);
        assert_true(strchr(g_out, '\n') == g_out + strlen(g_out) - 1); /* one line */
    }
    static char const *const bad_other[] = {"--min-speed-window 0", "--min-speed-window 601",
                                            "--connect-timeout -1", "--threads 1025",
                                            "--connect-timeout 1x"};
    for (size_t i = 0; i < sizeof bad_other / sizeof bad_other[0]; i++) {
        int rc = adb_test_sh(g_out, sizeof g_out,
                             "'%s' bootstrap --peer http://127.0.0.1:%u %s --dir '%s/db' 2>&1",
                             tool, d, bad_other[i], w);
        if (rc != 2 || !strstr(g_out, "is not"))
            fail_msg("%s: exit %d: %s", bad_other[i], rc, g_out);
    }
    /* usage */
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' bootstrap --help", tool), 0);
    assert_non_null(strstr(g_out, "--min-speed RATE"));
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' bootstrap --dir x 2>&1", tool), 2);
    assert_non_null(strstr(g_out, "give at least one --peer"));
    assert_int_equal(
        adb_test_sh(g_out, sizeof g_out, "'%s' bootstrap --peer http://127.0.0.1:1 2>&1", tool), 2);
    assert_non_null(strstr(g_out, "give --dir"));
    assert_int_equal(adb_test_sh(g_out, sizeof g_out,
                                 "'%s' bootstrap --peer ftp://x --dir '%s/db' 2>&1", tool, w),
                     2);
    assert_non_null(strstr(g_out, "is not http://HOST[:PORT]"));
    assert_int_equal(adb_test_sh(g_out, sizeof g_out,
                                 "'%s' bootstrap --peer http://127.0.0.1:1 --known-hash 5:xyz "
                                 "--dir '%s/db' 2>&1",
                                 tool, w),
                     2);
    assert_non_null(strstr(g_out, "is not SLOT:HASH"));
    adb_test_rmtree(w);
    free(w);
}

/* SIGTERM at random moments of `acctdb bootstrap` from a peer sending at
 * 2 MiB/s (probe, speed sample, downloads, creation): a stopped run exits
 * 2 with its "stopped:" line, leaves no database directory and no
 * temporary download, only archives complete under their own names; a run
 * that finished first verifies.  Then a bootstrap with no signal succeeds
 * in the same places.  Delays from the test seed. */
static void
test_boot_sigterm(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *set = gen(tool, 20000, 300, 500), *w = adb_test_mkdtemp(), full[256], inc[256];
    names(set, full, inc);
    peer_t p;
    peer_start(&p, tool, set, NULL, 2u << 20, 0);
    char cdb[4096], arch[4200], out[4200], args[16384];
    join(cdb, sizeof cdb, w, "client");
    join(arch, sizeof arch, w, "client.archives");
    join(out, sizeof out, w, "out");
    snprintf(args, sizeof args, "bootstrap --peer %s --dir '%s' --quiet", p.url, cdb);
    adb_test_rng_t rng = {adb_test_seed() ^ 0xb0075};
    size_t const   runs = adb_test_scaled(5) > 3 ? adb_test_scaled(5) : 3;
    size_t         stopped = 0, done = 0;
    for (size_t i = 0; i < runs; i++) {
        double delay = 3.0 * (double)adb_test_rng_below(&rng, 1000000) / 1e6;
        int    st;
        char  *o = adb_test_sigterm_run(tool, args, out, delay, &st);
        if (st == 2 && strstr(o, "stopped:              by SIGTERM")) {
            stopped++;
            if (exists(cdb)) fail_msg("run %zu: %s exists after the stop:\n%s", i, cdb, o);
            if (count_tmp(arch)) fail_msg("run %zu: a temporary download was left:\n%s", i, o);
            DIR *d = opendir(arch);
            if (d) {
                struct dirent *e;
                while ((e = readdir(d)))
                    if (e->d_name[0] != '.' && strcmp(e->d_name, full) && strcmp(e->d_name, inc))
                        fail_msg("run %zu: %s/%s left after the stop:\n%s", i, arch, e->d_name, o);
                closedir(d);
            }
            char const *why = strstr(o, "acctdb bootstrap: ");
            printf("  bootstrap run %zu: SIGTERM after %.3f s -> %s", i, delay,
                   why ? why + 18 : "stopped\n");
        } else if (st == 0) {
            done++;
            if (adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s' 2>&1", tool, cdb))
                fail_msg("run %zu: the bootstrapped database does not verify: %s", i, g_out);
            printf("  bootstrap run %zu: SIGTERM after %.3f s -> finished first\n", i, delay);
            assert_int_equal(adb_test_sh(NULL, 0, "rm -rf '%s'", cdb), 0);
        } else {
            fail_msg("bootstrap run %zu (SIGTERM after %.3f s): exit %d:\n%s", i, delay, st, o);
        }
        free(o);
    }
    printf("  bootstrap: %zu stopped by SIGTERM, %zu finished first\n", stopped, done);
    assert_true(stopped > 0);
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' %s 2>&1", tool, args);
    if (rc) fail_msg("bootstrap after the stops: exit %d: %s", rc, g_out);
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' db verify '%s' 2>&1", tool, cdb), 0);
    peer_stop(&p);
    adb_test_rmtree(set);
    adb_test_rmtree(w);
    free(set);
    free(w);
}

static struct CMUnitTest const g_tests[] = {
    cmocka_unit_test(test_head_parse),      cmocka_unit_test(test_location),
    cmocka_unit_test(test_highest),         cmocka_unit_test(test_known_and_peer),
    cmocka_unit_test(test_speed_window),    cmocka_unit_test(test_http_strict),
    cmocka_unit_test(test_download),        cmocka_unit_test(test_sweep),
    cmocka_unit_test(test_stream),          cmocka_unit_test(test_boot_cli),
    cmocka_unit_test(test_boot_equal),      cmocka_unit_test(test_boot_known),
    cmocka_unit_test(test_boot_known_late), cmocka_unit_test(test_boot_no_peer),
    cmocka_unit_test(test_boot_corrupt),    cmocka_unit_test(test_boot_slow_peer),
    cmocka_unit_test(test_boot_sigterm),
};

ADB_TEST_GROUP(bootstrap, g_tests);
