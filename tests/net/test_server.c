/* The HTTP server (src/net/server*.c) on loopback: the snapshot endpoints
 * (303 targets, HEAD, exact names, Range, what is refused: other names,
 * traversal, symlinks, FIFOs), request limits (413 before the body is
 * read, 415, 405, malformed requests, oversized headers), slow and
 * half-open connections cut while other clients are served, /health,
 * /metrics as Prometheus text, the rate limit, the change stream (410
 * SlotTooOld, frames decoded, 50 readers within 64 KiB each), stopping
 * with transfers open, the acceptance point (the workload keeps at least
 * half its store rate while a snapshot is written and another downloaded,
 * and RPC keeps answering), and `acctdb serve`.  No test asserts a tight
 * time: rates and timeouts are checked within generous bounds. */
#include "../test.h"

#include "net/server_private.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define F1  "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define I14 "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define F10 "snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst"
#define I10 "incremental-snapshot-10-25-GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS.tar.zst"

static double
now_s(void) {
    return (double)adb_server_now_ns() * 1e-9;
}

static void
init_once_fn(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
}

static void
init_once(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once_fn);
}

static void
sleep_ms(unsigned ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- fixture: a database, an archive directory, a server ------------------------------------ */

typedef struct fx {
    char            *tmp;
    char             dbdir[4200], adir[4200];
    acctdb_db_t     *db;
    acctdb_server_t *srv;
    uint16_t         port;
} fx_t;

static void
copy_file(char const *from, char const *to) {
    size_t   n = 0;
    uint8_t *b = adb_test_read_file(from, &n);
    FILE    *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    free(b);
}

/* A database from the bundled pair (root 4), the four bundled archives in
 * the archive directory, a server on a free port.  tune may change the
 * options. */
static void
fx_open(fx_t *f, bool background, void (*tune)(acctdb_server_opts_t *)) {
    memset(f, 0, sizeof *f);
    f->tmp = adb_test_mkdtemp();
    assert_non_null(f->tmp);
    snprintf(f->dbdir, sizeof f->dbdir, "%s/db", f->tmp);
    snprintf(f->adir, sizeof f->adir, "%s/archives", f->tmp);
    assert_int_equal(mkdir(f->adir, 0755), 0);
    char const *names[] = {F1, I14, F10, I10};
    for (size_t i = 0; i < 4; i++) {
        char to[4400];
        snprintf(to, sizeof to, "%s/%s", f->adir, names[i]);
        copy_file(adb_test_data(names[i]), to);
    }
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    cfg.background = background;
    acctdb_db_source_t src = {.full_path = adb_test_data(F1),
                              .incremental_path = adb_test_data(I14)};
    char               msg[1024];
    if (acctdb_db_create(&f->db, f->dbdir, &src, &cfg, msg, sizeof msg))
        fail_msg("create: %s", msg);
    acctdb_server_opts_t o;
    acctdb_server_opts_default(&o);
    o.addr = "127.0.0.1:0";
    o.snapshot_dir = f->adir;
    if (tune) tune(&o);
    if (acctdb_server_start(&f->srv, f->db, &o, msg, sizeof msg)) fail_msg("start: %s", msg);
    f->port = acctdb_server_port(f->srv);
    assert_true(f->port != 0);
}

static void
fx_close(fx_t *f) {
    acctdb_server_stop(f->srv);
    acctdb_db_close(f->db);
    adb_test_rmtree(f->tmp);
    free(f->tmp);
}

/* ---- a libcurl client ----------------------------------------------------------------------- */

typedef struct buf {
    char  *p;
    size_t n, cap;
    size_t max; /* 0: no limit */
} buf_t;

static size_t
buf_put(char *p, size_t sz, size_t nm, void *ctx) {
    buf_t *b = ctx;
    size_t k = sz * nm;
    if (b->max && b->n + k > b->max) return 0;
    if (b->n + k + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + k;
        b->p = realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, k);
    b->n += k;
    b->p[b->n] = 0;
    return k;
}

typedef struct resp {
    long   status;
    buf_t  hdr, body;
    double seconds;
    int    curl_rc;
} resp_t;

static void
resp_free(resp_t *r) {
    free(r->hdr.p);
    free(r->body.p);
    memset(r, 0, sizeof *r);
}

/* A header's value from the response (first match, case-insensitive), or
 * "" (static buffer). */
static char const *
resp_header(resp_t const *r, char const *name) {
    static char v[1024];
    v[0] = 0;
    size_t      nl = strlen(name);
    char const *p = r->hdr.p;
    while (p && *p) {
        char const *e = strstr(p, "\r\n");
        if (!e) break;
        if ((size_t)(e - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            char const *s = p + nl + 1;
            while (*s == ' ')
                s++;
            snprintf(v, sizeof v, "%.*s", (int)(e - s), s);
            return v;
        }
        p = e + 2;
    }
    return v;
}

/* method GET, HEAD or POST; extra_hdr one "Name: value" or NULL. */
static void
http(uint16_t port, char const *method, char const *path, char const *extra_hdr, char const *body,
     resp_t *r) {
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, buf_put);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_put);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *h = NULL;
    if (extra_hdr) h = curl_slist_append(h, extra_hdr);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        if (!extra_hdr) h = curl_slist_append(h, "Content-Type: application/json");
    } else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    if (h) curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    double t0 = now_s();
    r->curl_rc = (int)curl_easy_perform(c);
    r->seconds = now_s() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* ---- raw sockets ---------------------------------------------------------------------------- */

static int
tcp_connect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(0x7f000001);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void
send_str(int fd, char const *s) {
    size_t n = strlen(s);
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0) return; /* the server may have closed: the caller checks */
        s += k;
        n -= (size_t)k;
    }
}

/* Reads until the peer closes, max bytes arrive, or timeout_ms passes;
 * returns the byte count; *closed_out whether the peer closed. */
static size_t
recv_until(int fd, char *out, size_t max, int timeout_ms, bool *closed_out) {
    size_t n = 0;
    double end = now_s() + timeout_ms / 1000.0;
    *closed_out = false;
    while (n + 1 < max) {
        int left = (int)((end - now_s()) * 1000);
        if (left <= 0) break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, left) <= 0) break;
        ssize_t k = recv(fd, out + n, max - 1 - n, 0);
        if (k <= 0) {
            *closed_out = true;
            break;
        }
        n += (size_t)k;
    }
    out[n] = 0;
    return n;
}

static int
status_of(char const *raw) {
    int st = 0;
    if (sscanf(raw, "HTTP/1.%*d %d", &st) != 1) return 0;
    return st;
}

/* ---- 1. names and ranges -------------------------------------------------------------------- */

static void
t_names_ranges(void **state) {
    (void)state;
    init_once();
    bool inc = true;
    assert_true(adb_server_archive_name_ok(F10, &inc));
    assert_false(inc);
    assert_true(adb_server_archive_name_ok(I10, &inc));
    assert_true(inc);
    assert_true(adb_server_archive_name_ok("snapshot-0-a.tar.lz4", NULL));
    assert_true(adb_server_archive_name_ok("snapshot-12-0OIl.tar.zst", NULL)); /* [[:alnum:]] */
    char const *bad[] = {
        "",
        "snapshot.tar.bz2",
        "snapshot-1-abc.tar.gz",
        "snapshot-1-abc.tar.bz2",
        "snapshot-1-abc.tar",
        "snapshot--abc.tar.zst",
        "snapshot-x-abc.tar.zst",
        "snapshot-1-.tar.zst",
        "snapshot-1-ab_c.tar.zst",
        "snapshot-1-abc.tar.zst.tmp",
        "snapshot-1-abc.tar.zst/..",
        "../snapshot-1-abc.tar.zst",
        "snapshot-1-abc/../x.tar.zst",
        "snapshot-1-a.b.tar.zst",
        "incremental-snapshot-1-abc.tar.zst",
        "incremental-snapshot-1--2-abc.tar.zst",
        "tmp-snapshot-archive-1-abc.tar.zst",
        "Snapshot-1-abc.tar.zst",
        "snapshot-1-abc.TAR.ZST",
        "snapshot-+1-abc.tar.zst",
        "snapshot-1-abc.tar.zst\n",
        "snapshot-1-ab\xc3\xa9.tar.zst",
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(bad); i++)
        if (adb_server_archive_name_ok(bad[i], NULL)) fail_msg("accepted '%s'", bad[i]);
    char long_name[400] = "snapshot-1-";
    memset(long_name + 11, 'a', 300);
    strcpy(long_name + 311, ".tar.zst");
    assert_false(adb_server_archive_name_ok(long_name, NULL));

    uint64_t a, b;
    assert_int_equal(adb_server_range_parse(NULL, 100, &a, &b), 0);
    assert_int_equal(adb_server_range_parse("bytes=0-9", 100, &a, &b), 1);
    assert_true(a == 0 && b == 9);
    assert_int_equal(adb_server_range_parse("bytes=90-", 100, &a, &b), 1);
    assert_true(a == 90 && b == 99);
    assert_int_equal(adb_server_range_parse("bytes=90-1000", 100, &a, &b), 1);
    assert_true(a == 90 && b == 99);
    assert_int_equal(adb_server_range_parse("bytes=-10", 100, &a, &b), 1);
    assert_true(a == 90 && b == 99);
    assert_int_equal(adb_server_range_parse("bytes=-1000", 100, &a, &b), 1);
    assert_true(a == 0 && b == 99);
    assert_int_equal(adb_server_range_parse("BYTES= 5-5 ", 100, &a, &b), 1);
    assert_true(a == 5 && b == 5);
    assert_int_equal(adb_server_range_parse("bytes=100-", 100, &a, &b), -1);
    assert_int_equal(adb_server_range_parse("bytes=99999999999999999999999-", 100, &a, &b), -1);
    assert_int_equal(adb_server_range_parse("bytes=-0", 100, &a, &b), -1);
    assert_int_equal(adb_server_range_parse("bytes=0-", 0, &a, &b), -1);
    /* ignored: the whole body */
    char const *ign[] = {"bytes=0-1,5-6", "bytes=5-1", "bytes=-", "bytes=a-b", "items=0-1",
                         "bytes=1-2x",    "bytes 0-1", "",        "bytes=0--1"};
    for (size_t i = 0; i < ADB_ARRAY_CNT(ign); i++)
        if (adb_server_range_parse(ign[i], 100, &a, &b) != 0) fail_msg("used '%s'", ign[i]);
}

/* ---- 2. snapshot endpoints ------------------------------------------------------------------ */

static void
expect_redirect(uint16_t port, char const *method, char const *path, char const *want) {
    resp_t r;
    http(port, method, path, NULL, NULL, &r);
    assert_int_equal(r.curl_rc, 0);
    assert_int_equal(r.status, 303);
    assert_string_equal(resp_header(&r, "Location"), want);
    assert_int_equal(strtoull(resp_header(&r, "Content-Length"), NULL, 10), strlen(want));
    if (!strcmp(method, "GET"))
        assert_string_equal(r.body.p ? r.body.p : "", want);
    else
        assert_int_equal(r.body.n, 0);
    resp_free(&r);
}

static void
expect_status(uint16_t port, char const *method, char const *path, long want) {
    resp_t r;
    http(port, method, path, NULL, NULL, &r);
    assert_int_equal(r.curl_rc, 0);
    if (r.status != want) fail_msg("%s %s: %ld, expected %ld", method, path, r.status, want);
    resp_free(&r);
}

static void
t_snapshot_endpoints(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, NULL);
    expect_redirect(f.port, "GET", "/snapshot.tar.bz2", "/" F10);
    expect_redirect(f.port, "HEAD", "/snapshot.tar.bz2", "/" F10);
    expect_redirect(f.port, "GET", "/incremental-snapshot.tar.bz2", "/" I10);
    expect_redirect(f.port, "HEAD", "/incremental-snapshot.tar.bz2", "/" I10);

    /* The whole archive, and HEAD: the same length, no body. */
    size_t   n = 0;
    uint8_t *want = adb_test_read_file(adb_test_data(F10), &n);
    resp_t   r;
    http(f.port, "GET", "/" F10, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.n, n);
    assert_memory_equal(r.body.p, want, n);
    assert_int_equal(strtoull(resp_header(&r, "Content-Length"), NULL, 10), n);
    assert_string_equal(resp_header(&r, "Accept-Ranges"), "bytes");
    resp_free(&r);
    http(f.port, "HEAD", "/" F10, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.n, 0);
    assert_int_equal(strtoull(resp_header(&r, "Content-Length"), NULL, 10), n);
    resp_free(&r);

    /* Ranges: one satisfiable range, a suffix, past the end, several. */
    http(f.port, "GET", "/" F10, "Range: bytes=1000-1999", NULL, &r);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body.n, 1000);
    assert_memory_equal(r.body.p, want + 1000, 1000);
    char cr[128];
    snprintf(cr, sizeof cr, "bytes 1000-1999/%zu", n);
    assert_string_equal(resp_header(&r, "Content-Range"), cr);
    assert_int_equal(strtoull(resp_header(&r, "Content-Length"), NULL, 10), 1000);
    resp_free(&r);
    http(f.port, "GET", "/" F10, "Range: bytes=-100", NULL, &r);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body.n, 100);
    assert_memory_equal(r.body.p, want + n - 100, 100);
    resp_free(&r);
    char past[64];
    snprintf(past, sizeof past, "Range: bytes=%zu-", n);
    http(f.port, "GET", "/" F10, past, NULL, &r);
    assert_int_equal(r.status, 416);
    snprintf(cr, sizeof cr, "bytes */%zu", n);
    assert_string_equal(resp_header(&r, "Content-Range"), cr);
    resp_free(&r);
    http(f.port, "GET", "/" F10, "Range: bytes=0-1,5-6", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.n, n);
    resp_free(&r);

    /* The other archives by name. */
    expect_status(f.port, "GET", "/" F1, 200);
    expect_status(f.port, "HEAD", "/" I14, 200);
    expect_status(f.port, "GET", "/" I10, 200);

    /* Refused names: 404 before any file is opened. */
    char const *nf[] = {
        "/snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.gz",
        "/snapshot-11-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst", /* absent */
        "/" F10 ".tmp",
        "/foo",
        "/",
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/../../etc/passwd",
        "/snapshot-1-x.tar.zst/../..",
        "/snapshot-1-x.tar.zst/../../" F10,
        "/archives/" F10,
        "/remote/" F10,
        "/" F10 "%00",
        "/genesis.tar.bz2",
        "//" F10,
        "/%73napshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst%2f",
        "/" F10 "%2f..",
        "/%5c" F10,
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(nf); i++) {
        http(f.port, "GET", nf[i], NULL, NULL, &r);
        if (r.status != 404 && r.status != 400)
            fail_msg("GET %s: %ld, expected 404", nf[i], r.status);
        assert_true(r.body.n < 200);
        resp_free(&r);
    }

    /* Escapes of unreserved characters are decoded (RFC 3986 normalizing). */
    expect_status(f.port, "GET",
                  "/%73napshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD%2Etar.zst", 200);

    /* A symlink with an archive's name is refused (O_NOFOLLOW), even to a
     * real archive; a FIFO with one does not hang the server. */
    char path[4600], target[4600];
    snprintf(target, sizeof target, "%s/%s", f.adir, F10);
    snprintf(path, sizeof path, "%s/snapshot-99-AAAA.tar.zst", f.adir);
    assert_int_equal(symlink(target, path), 0);
    snprintf(path, sizeof path, "%s/snapshot-98-BBBB.tar.zst", f.adir);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/snapshot-97-CCCC.tar.zst", f.adir);
    assert_int_equal(mkfifo(path, 0644), 0);
    snprintf(path, sizeof path, "%s/snapshot-96-DDDD.tar.zst", f.adir);
    assert_int_equal(mkdir(path, 0755), 0);
    http(f.port, "GET", "/snapshot-99-AAAA.tar.zst", NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_true(r.body.n < 100);
    resp_free(&r);
    expect_status(f.port, "GET", "/snapshot-98-BBBB.tar.zst", 403);
    expect_status(f.port, "HEAD", "/snapshot-98-BBBB.tar.zst", 403);
    http(f.port, "GET", "/snapshot-97-CCCC.tar.zst", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_true(r.seconds < 5);
    resp_free(&r);
    expect_status(f.port, "GET", "/snapshot-96-DDDD.tar.zst", 404);
    /* The redirect never points at the symlinks (find skips them: not
     * regular files) ... */
    expect_redirect(f.port, "GET", "/snapshot.tar.bz2", "/" F10);

    /* ... and archives in remote/ are served by name; a newer full one
     * there becomes the redirect's target, with no incremental on it. */
    snprintf(path, sizeof path, "%s/remote", f.adir);
    assert_int_equal(mkdir(path, 0755), 0);
    char rname[] = "snapshot-30-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst";
    snprintf(path, sizeof path, "%s/remote/%s", f.adir, rname);
    copy_file(adb_test_data(F10), path);
    char loc[200];
    snprintf(loc, sizeof loc, "/%s", rname);
    http(f.port, "GET", loc, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.n, n);
    resp_free(&r);
    expect_redirect(f.port, "GET", "/snapshot.tar.bz2", loc);
    expect_status(f.port, "GET", "/incremental-snapshot.tar.bz2", 404);

    acctdb_server_stats_t st;
    assert_int_equal(acctdb_server_stats(f.srv, &st), 0);
    assert_true(st.archives_sent >= 5);
    assert_true(st.requests >= 30);
    free(want);
    fx_close(&f);

    /* Without a snapshot directory: the redirects and names are 404. */
    fx_t g;
    fx_open(&g, false, NULL);
    acctdb_server_stop(g.srv);
    acctdb_server_opts_t o;
    acctdb_server_opts_default(&o);
    o.addr = "127.0.0.1:0";
    char msg[256];
    assert_int_equal(acctdb_server_start(&g.srv, g.db, &o, msg, sizeof msg), 0);
    g.port = acctdb_server_port(g.srv);
    expect_status(g.port, "GET", "/snapshot.tar.bz2", 404);
    expect_status(g.port, "HEAD", "/incremental-snapshot.tar.bz2", 404);
    expect_status(g.port, "GET", "/" F10, 404);
    fx_close(&g);
}

/* ---- 3. request limits and malformed requests ----------------------------------------------- */

static void
t_limits(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, NULL);
    char buf[8192];
    bool closed;

    /* A declared body over 50 KiB: 413 at once, before any byte of it
     * is sent, and the connection closed. */
    int fd = tcp_connect(f.port);
    send_str(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 60000\r\n\r\n");
    recv_until(fd, buf, sizeof buf, 5000, &closed);
    assert_int_equal(status_of(buf), 413);
    assert_true(closed);
    close(fd);
    /* The same with Expect: 100-continue: no 100, a 413. */
    fd = tcp_connect(f.port);
    send_str(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 51201\r\nExpect: 100-continue\r\n\r\n");
    recv_until(fd, buf, sizeof buf, 5000, &closed);
    assert_int_equal(status_of(buf), 413);
    close(fd);
    /* Chunked, past the limit: not kept; 413 or the connection closed. */
    fd = tcp_connect(f.port);
    send_str(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
    char chunk[4200];
    memset(chunk, 0, sizeof chunk);
    snprintf(chunk, sizeof chunk, "1000\r\n");
    memset(chunk + 6, ' ', 4096);
    memcpy(chunk + 6 + 4096, "\r\n", 3);
    for (int i = 0; i < 14; i++) /* 56 KiB */
        send_str(fd, chunk);
    send_str(fd, "0\r\n\r\n");
    size_t got = recv_until(fd, buf, sizeof buf, 5000, &closed);
    assert_true(status_of(buf) == 413 || (got == 0 && closed));
    close(fd);
    /* Exactly at the limit is fine (the fake and the real dispatcher both
     * answer 200 with JSON). */
    char *big = malloc(50 * 1024 + 1);
    memset(big, ' ', 50 * 1024);
    memcpy(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}", 42);
    big[50 * 1024] = 0;
    resp_t r;
    http(f.port, "POST", "/", NULL, big, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(resp_header(&r, "Content-Type"), "application/json"));
    resp_free(&r);
    big[50 * 1024 - 1] = ' ';
    free(big);

    /* Content types, methods, paths. */
    http(f.port, "POST", "/", "Content-Type: text/plain",
         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}", &r);
    assert_int_equal(r.status, 415);
    resp_free(&r);
    http(f.port, "POST", "/", "Content-Type: application/json; charset=utf-8",
         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    http(f.port, "POST", "/other", NULL, "{}", &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    expect_status(f.port, "PUT", "/", 405);
    expect_status(f.port, "DELETE", "/" F10, 405);
    expect_status(f.port, "OPTIONS", "/", 405);
    expect_status(f.port, "HEAD", "/changes?from_slot=1", 405);

    /* Malformed requests: 400 (or a close), and the server goes on. */
    char const *junk[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET / HTTP/1.1\r\nHost x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n",
        "\x01\x02\x03\x04\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    for (size_t i = 0; i < ADB_ARRAY_CNT(junk); i++) {
        fd = tcp_connect(f.port);
        send_str(fd, junk[i]);
        got = recv_until(fd, buf, sizeof buf, 5000, &closed);
        int st = status_of(buf);
        if (!(closed || st >= 400)) fail_msg("junk %zu: status %d, not closed", i, st);
        if (st && st < 400 && st != 0) fail_msg("junk %zu answered %d", i, st);
        close(fd);
    }
    /* Headers larger than the connection's memory: refused. */
    fd = tcp_connect(f.port);
    send_str(fd, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
    char *hb = malloc(64 * 1024 + 1);
    memset(hb, 'a', 64 * 1024);
    hb[64 * 1024] = 0;
    send_str(fd, hb);
    send_str(fd, "\r\n\r\n");
    free(hb);
    got = recv_until(fd, buf, sizeof buf, 5000, &closed);
    assert_true(closed || status_of(buf) >= 400);
    if (got) assert_true(status_of(buf) == 431 || status_of(buf) == 400 || status_of(buf) == 413);
    close(fd);
    /* A long URI. */
    char *uri = malloc(70000);
    strcpy(uri, "/");
    memset(uri + 1, 'a', 65000);
    uri[65001] = 0;
    http(f.port, "GET", uri, NULL, NULL, &r);
    assert_true(r.status >= 400 || r.curl_rc != 0);
    resp_free(&r);
    free(uri);

    /* Pipelined requests on one connection are answered in order. */
    fd = tcp_connect(f.port);
    send_str(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n"
                 "Connection: close\r\n\r\n");
    got = recv_until(fd, buf, sizeof buf, 5000, &closed);
    assert_true(closed);
    char *second = strstr(buf + 1, "HTTP/1.1 200");
    assert_int_equal(status_of(buf), 200);
    assert_non_null(second);
    close(fd);

    expect_status(f.port, "GET", "/health", 200);
    fx_close(&f);
}

/* ---- 4. slow and half-open connections ------------------------------------------------------ */

static void
tune_short_timeout(acctdb_server_opts_t *o) {
    o->idle_timeout_s = 2;
}

typedef struct drip {
    uint16_t      port;
    int           fd;
    _Atomic bool  closed;
    _Atomic int   bytes_sent;
    double        closed_after;
    _Atomic bool *stop;
} drip_t;

/* Slowloris: a header byte every 200 ms, forever (until cut). */
static void *
drip_main(void *arg) {
    drip_t     *d = arg;
    char const *req = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    double      t0 = now_s();
    send_str(d->fd, req);
    while (!atomic_load(d->stop)) {
        sleep_ms(200);
        if (send(d->fd, "a", 1, MSG_NOSIGNAL) != 1) break;
        atomic_fetch_add(&d->bytes_sent, 1);
        char          c;
        struct pollfd p = {d->fd, POLLIN, 0};
        if (poll(&p, 1, 0) == 1 && recv(d->fd, &c, 1, MSG_DONTWAIT) <= 0) break;
    }
    d->closed_after = now_s() - t0;
    atomic_store(&d->closed, true);
    return NULL;
}

static void
t_slow_clients(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, tune_short_timeout); /* header timeout min(10, 2) = 2 s */
    _Atomic bool stop = false;
    drip_t       d[3];
    pthread_t    th[3];
    for (int i = 0; i < 3; i++) {
        d[i] = (drip_t){.port = f.port, .fd = tcp_connect(f.port), .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, drip_main, &d[i]), 0);
    }
    /* Silent (half-open: the peer says nothing and never closes), partial
     * headers then silence, partial headers then a half-close, and a body
     * that stops halfway. */
    int silent = tcp_connect(f.port);
    int partial = tcp_connect(f.port);
    send_str(partial, "GET /health HTTP/1.1\r\nHo");
    int halfclose = tcp_connect(f.port);
    send_str(halfclose, "GET /health HTTP/1.1\r\nHost: x\r\n");
    shutdown(halfclose, SHUT_WR);
    int body = tcp_connect(f.port);
    send_str(body, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 100\r\n\r\n{\"jsonrpc\":");

    /* Meanwhile others are served promptly. */
    double t0 = now_s();
    for (int i = 0; i < 20; i++) {
        resp_t r;
        http(f.port, "GET", "/health", NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_true(r.seconds < 2.0);
        resp_free(&r);
        http(f.port, "POST", "/", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}",
             &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
        sleep_ms(100);
    }
    /* Every slow one is cut within a few header timeouts. */
    char buf[1024];
    bool closed;
    int  fds[] = {silent, partial, halfclose, body};
    for (size_t i = 0; i < ADB_ARRAY_CNT(fds); i++) {
        recv_until(fds[i], buf, sizeof buf, 15000, &closed);
        if (!closed) fail_msg("slow connection %zu not cut", i);
        close(fds[i]);
    }
    for (int i = 0; i < 3; i++) {
        double end = now_s() + 15;
        while (!atomic_load(&d[i].closed) && now_s() < end)
            sleep_ms(50);
        if (!atomic_load(&d[i].closed)) {
            atomic_store(&stop, true);
            fail_msg("slowloris %d not cut after %.1f s", i, now_s() - t0);
        }
        pthread_join(th[i], NULL);
        assert_true(d[i].closed_after < 12.0);
        assert_true(atomic_load(&d[i].bytes_sent) >= 3); /* it did get going */
        close(d[i].fd);
    }
    resp_t r;
    http(f.port, "GET", "/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    char *p = strstr(r.body.p, "acctdb_http_connections_cut_total{reason=\"header_timeout\"} ");
    assert_non_null(p);
    unsigned long long cut = strtoull(strchr(p, '}') + 2, NULL, 10);
    assert_true(cut >= 3); /* the drips (the silent ones may meet the idle timeout first) */
    resp_free(&r);

    /* An idle keep-alive connection is closed too, and a client that
     * reads nothing of a big response is cut by the idle timeout. */
    int ka = tcp_connect(f.port);
    send_str(ka, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    size_t got = recv_until(ka, buf, sizeof buf, 1000, &closed);
    assert_true(got > 0);
    assert_int_equal(status_of(buf), 200);
    recv_until(ka, buf, sizeof buf, 15000, &closed);
    assert_true(closed);
    close(ka);
    fx_close(&f);
}

/* ---- 5. /health and /metrics ---------------------------------------------------------------- */

/* Checks Prometheus text: every sample line is NAME[{labels}] VALUE,
 * every sampled family was declared by # TYPE before, and nothing else. */
static void
check_prometheus(char const *text, size_t *samples_out) {
    char        declared[256][96];
    size_t      nd = 0, samples = 0;
    char const *p = text;
    while (*p) {
        char const *e = strchr(p, '\n');
        assert_non_null(e);
        char line[1024];
        assert_true((size_t)(e - p) < sizeof line);
        memcpy(line, p, (size_t)(e - p));
        line[e - p] = 0;
        p = e + 1;
        if (!strncmp(line, "# HELP ", 7)) continue;
        if (!strncmp(line, "# TYPE ", 7)) {
            char name[96], type[32];
            assert_int_equal(sscanf(line + 7, "%95s %31s", name, type), 2);
            assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
                        !strcmp(type, "histogram") || !strcmp(type, "summary"));
            assert_true(nd < 256);
            strcpy(declared[nd++], name);
            continue;
        }
        assert_true(line[0] != '#' && line[0] != 0);
        size_t i = 0;
        while ((line[i] >= 'a' && line[i] <= 'z') || (line[i] >= 'A' && line[i] <= 'Z') ||
               (line[i] >= '0' && line[i] <= '9') || line[i] == '_' || line[i] == ':')
            i++;
        assert_true(i > 0);
        char name[96];
        memcpy(name, line, i);
        name[i] = 0;
        if (line[i] == '{') {
            char const *close = strchr(line + i, '}');
            assert_non_null(close);
            /* labels: k="v"(,k="v")* */
            char const *q = line + i + 1;
            while (q < close) {
                char const *eq = strchr(q, '=');
                assert_true(eq && eq < close && eq[1] == '"');
                char const *endq = strchr(eq + 2, '"');
                assert_true(endq && endq < close);
                q = endq + 1;
                if (*q == ',') q++;
            }
            i = (size_t)(close - line) + 1;
        }
        assert_int_equal(line[i], ' ');
        char  *end;
        double v = strtod(line + i + 1, &end);
        assert_true(end != line + i + 1 && *end == 0);
        assert_true(v >= 0);
        bool ok = false;
        for (size_t k = 0; k < nd && !ok; k++) {
            size_t dl = strlen(declared[k]);
            ok = !strcmp(name, declared[k]) ||
                 (!strncmp(name, declared[k], dl) &&
                  (!strcmp(name + dl, "_bucket") || !strcmp(name + dl, "_sum") ||
                   !strcmp(name + dl, "_count")));
        }
        if (!ok) fail_msg("metric %s sampled without # TYPE", name);
        samples++;
    }
    *samples_out = samples;
}

static void
t_health_metrics(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, NULL);
    resp_t r;
    http(f.port, "GET", "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.p, "ok");
    resp_free(&r);
    http(f.port, "HEAD", "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.n, 0);
    resp_free(&r);
    for (int i = 0; i < 5; i++) {
        http(f.port, "POST", "/", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}",
             &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    http(f.port, "GET", "/" F1, NULL, NULL, &r);
    resp_free(&r);
    char const *must[] = {
        "acctdb_http_requests_total{route=\"rpc\"} 5\n",
        "acctdb_http_request_duration_seconds_count{route=\"rpc\"} 5\n",
        "acctdb_http_request_duration_seconds_bucket{route=\"rpc\",le=\"+Inf\"} 5\n",
        "acctdb_archives_sent_total 1\n",
        "acctdb_http_connections_open ",
        "acctdb_changes_streams_open 0\n",
        "acctdb_rpc_calls_total ",
        "acctdb_db_root_slot 4\n",
        "acctdb_db_owner_index_keys ",
        "acctdb_db_read_cache_hits_total ",
        "acctdb_db_service_passes_total{service=\"flush\"} ",
        "acctdb_changes_window_slots ",
        "acctdb_http_received_bytes_total ",
        "acctdb_http_sent_bytes_total ",
        "acctdb_health_ok 1\n",
    };
    /* A request's latency is recorded when the server hears it completed,
     * which can come just after the client has the whole response: ask
     * again (up to 5 s) until the counts have caught up. */
    for (int tries = 0;; tries++) {
        http(f.port, "GET", "/metrics", NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        bool all = true;
        for (size_t i = 0; i < ADB_ARRAY_CNT(must) && all; i++)
            all = strstr(r.body.p, must[i]) != NULL;
        if (all || tries == 100) break;
        resp_free(&r);
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    assert_non_null(strstr(resp_header(&r, "Content-Type"), "text/plain"));
    size_t samples = 0;
    check_prometheus(r.body.p, &samples);
    assert_true(samples > 100);
    for (size_t i = 0; i < ADB_ARRAY_CNT(must); i++)
        if (!strstr(r.body.p, must[i])) fail_msg("/metrics lacks '%s'", must[i]);
    resp_free(&r);
    fx_close(&f);
}

/* ---- 6. the rate limit ---------------------------------------------------------------------- */

static void
tune_rate(acctdb_server_opts_t *o) {
    o->max_send_rate = 100u << 10; /* 100 KiB/s */
}

typedef struct dl {
    uint16_t port;
    char     path[300];
    resp_t   r;
} dl_t;

static void *
dl_main(void *arg) {
    dl_t *d = arg;
    http(d->port, "GET", d->path, NULL, NULL, &d->r);
    return NULL;
}

static void
t_rate_limit(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, tune_rate);
    size_t   n = 0;
    uint8_t *want = adb_test_read_file(adb_test_data(F10), &n); /* 238 KB: about 2.3 s */
    double   expect = (double)n / (100 << 10);
    /* Two at once: each at the rate, not sharing it. */
    dl_t d[2] = {{.port = f.port}, {.port = f.port}};
    snprintf(d[0].path, sizeof d[0].path, "/%s", F10);
    snprintf(d[1].path, sizeof d[1].path, "/%s", F10);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, dl_main, &d[i]), 0);
    /* Meanwhile, RPC and health answer at once. */
    resp_t r;
    http(f.port, "GET", "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(r.seconds < 1.0);
    resp_free(&r);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(d[i].r.status, 200);
        assert_int_equal(d[i].r.body.n, n);
        assert_memory_equal(d[i].r.body.p, want, n);
        print_message("  %zu bytes at 100 KiB/s: %.2f s (size/rate %.2f s)\n", n, d[i].r.seconds,
                      expect);
        assert_true(d[i].r.seconds > 0.5 * expect);
        assert_true(d[i].r.seconds < 4.0 * expect + 2.0);
        resp_free(&d[i].r);
    }
    /* A range is paced too; a tiny file is not held up. */
    http(f.port, "GET", "/" F10, "Range: bytes=0-51199", NULL, &r);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body.n, 51200);
    assert_true(r.seconds > 0.2 && r.seconds < 4.0);
    resp_free(&r);
    free(want);
    fx_close(&f);
}

/* ---- 7. the change stream ------------------------------------------------------------------- */

/* Roots n slots after the root, each storing k accounts of dsz bytes. */
static void
root_slots(acctdb_db_t *db, uint64_t n, size_t k, size_t dsz, uint64_t seed) {
    adb_test_rng_t    rng = {seed};
    acctdb_account_t *acc = calloc(k, sizeof *acc);
    uint8_t          *data = calloc(k, dsz ? dsz : 1);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t parent = acctdb_db_root_slot(db, NULL), slot = parent + 1;
        assert_int_equal(acctdb_db_bank_begin(db, slot, parent, 1700000000 + (int64_t)slot), 0);
        for (size_t j = 0; j < k; j++) {
            adb_test_rng_fill(&rng, acc[j].pubkey.b, 32);
            adb_test_rng_fill(&rng, data + j * dsz, dsz);
            acc[j].lamports = 1000000 + j;
            acc[j].data_len = dsz;
            acc[j].data = data + j * dsz;
            acc[j].rent_epoch = UINT64_MAX;
        }
        assert_int_equal(acctdb_db_store(db, slot, parent, acc, k), 0);
        acctdb_bank_meta_t m = {.unix_timestamp = 1700000000 + (int64_t)slot};
        assert_int_equal(acctdb_db_freeze(db, slot, &m, NULL), 0);
        assert_int_equal(acctdb_db_root(db, slot), 0);
    }
    free(acc);
    free(data);
}

typedef struct chg_sink {
    adb_changes_dec_t *dec;
    adb_err_t          err;
    int                rc;
    uint64_t           from, server_id, last_slot;
    size_t             slots, accounts, heartbeats, want_slots;
    bool               header, in_order;
} chg_sink_t;

static int
chg_ev(void *ctx, adb_changes_ev_t const *ev) {
    chg_sink_t *s = ctx;
    switch (ev->type) {
    case 0:
        s->header = true;
        s->from = ev->from_slot;
        s->server_id = ev->server_id;
        break;
    case ADB_CHG_SLOT:
        if (s->last_slot && ev->parent_slot != s->last_slot) s->in_order = false;
        s->last_slot = ev->slot;
        break;
    case ADB_CHG_ACCOUNT:
        s->accounts++;
        break;
    case ADB_CHG_END:
        s->slots++;
        break;
    case ADB_CHG_HEARTBEAT:
        s->heartbeats++;
        break;
    }
    return 0;
}

static size_t
chg_write(char *p, size_t sz, size_t nm, void *ctx) {
    chg_sink_t *s = ctx;
    s->rc = adb_changes_dec_push(s->dec, p, sz * nm, &s->err);
    if (s->rc) return 0;
    if (s->slots >= s->want_slots && s->heartbeats > 0) return 0; /* enough */
    return sz * nm;
}

static void
t_changes(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, NULL);
    resp_t r;
    http(f.port, "GET", "/changes", NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    http(f.port, "GET", "/changes?from_slot=-1", NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    http(f.port, "GET", "/changes?from_slot=99999999999999999999", NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);

    /* Nothing rooted since the start: below the root is gone (410, the
     * next slot to come is the oldest), at the root waits for what follows. */
    http(f.port, "GET", "/changes?from_slot=3", NULL, NULL, &r);
    assert_int_equal(r.status, 410);
    assert_non_null(strstr(r.body.p, "\"oldest_slot\":5}"));
    resp_free(&r);
    int  fd = tcp_connect(f.port);
    char raw[512];
    bool closed;
    send_str(fd, "GET /changes?from_slot=4 HTTP/1.1\r\nHost: x\r\n\r\n");
    recv_until(fd, raw, sizeof raw, 1500, &closed);
    assert_int_equal(status_of(raw), 200);
    assert_non_null(strstr(raw, "ADBCHG01"));
    close(fd);

    root_slots(f.db, 20, 5, 100, 1); /* slots 5 .. 24 */

    /* The stream from slot 4: 20 slots, then heartbeats. */
    chg_sink_t s = {.want_slots = 20, .in_order = true};
    assert_int_equal(adb_changes_dec_new(chg_ev, &s, &s.dec), 0);
    CURL *c = curl_easy_init();
    char  url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/changes?from_slot=4", (unsigned)f.port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, chg_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    long     st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    adb_changes_dec_free(s.dec);
    if (s.rc) fail_msg("decode: %s", s.err.msg);
    assert_int_equal(cc, CURLE_WRITE_ERROR); /* we stopped it */
    assert_int_equal(st, 200);
    assert_true(s.header);
    assert_int_equal(s.from, 4);
    assert_int_equal(s.slots, 20);
    assert_true(s.accounts >= 20 * 5); /* ours, and each bank's sysvars */
    assert_true(s.in_order);
    assert_int_equal(s.last_slot, 24);

    /* Push the window past slot 4: TOO_OLD is 410 with the oldest slot. */
    acctdb_server_stop(f.srv);
    acctdb_server_opts_t o;
    acctdb_server_opts_default(&o);
    o.addr = "127.0.0.1:0";
    o.history_slots = 5;
    char msg[256];
    assert_int_equal(acctdb_server_start(&f.srv, f.db, &o, msg, sizeof msg), 0);
    f.port = acctdb_server_port(f.srv);
    root_slots(f.db, 10, 2, 10, 2); /* 25 .. 34: the window keeps 30 .. 34 */
    http(f.port, "GET", "/changes?from_slot=4", NULL, NULL, &r);
    assert_int_equal(r.status, 410);
    assert_non_null(strstr(r.body.p, "\"error\":\"SlotTooOld\""));
    char *os = strstr(r.body.p, "\"oldest_slot\":");
    assert_non_null(os);
    assert_int_equal(strtoull(os + 14, NULL, 10), 30);
    assert_non_null(strstr(resp_header(&r, "Content-Type"), "application/json"));
    resp_free(&r);
    acctdb_server_stats_t ss;
    assert_int_equal(acctdb_server_stats(f.srv, &ss), 0);
    assert_int_equal(ss.history_slots, 5);
    assert_int_equal(ss.history_oldest_slot, 30);
    assert_int_equal(ss.streams_open, 0);
    fx_close(&f);
}

typedef struct readers {
    uint16_t        port;
    int             fd[64];
    size_t          n;
    uint64_t        got[64];
    _Atomic bool    stop;
    pthread_mutex_t mu;
} readers_t;

/* One thread reads every reader's socket: fast ones (i % 3 == 0) drain,
 * slow ones (i % 3 == 1) take 512 bytes a second, the rest never read. */
static void *
readers_main(void *arg) {
    readers_t *rs = arg;
    char       buf[4096];
    double     last_slow = 0;
    while (!atomic_load(&rs->stop)) {
        struct pollfd p[64];
        pthread_mutex_lock(&rs->mu);
        size_t n = rs->n;
        for (size_t i = 0; i < n; i++)
            p[i] = (struct pollfd){i % 3 == 0 ? rs->fd[i] : -1, POLLIN, 0};
        pthread_mutex_unlock(&rs->mu);
        poll(p, n, 50);
        for (size_t i = 0; i < n; i++)
            if (i % 3 == 0 && (p[i].revents & POLLIN)) {
                ssize_t k = recv(rs->fd[i], buf, sizeof buf, MSG_DONTWAIT);
                if (k > 0) rs->got[i] += (uint64_t)k;
            }
        if (now_s() - last_slow >= 1.0) {
            last_slow = now_s();
            for (size_t i = 1; i < n; i += 3) {
                ssize_t k = recv(rs->fd[i], buf, 512, MSG_DONTWAIT);
                if (k > 0) rs->got[i] += (uint64_t)k;
            }
        }
    }
    return NULL;
}

static void
readers_add(readers_t *rs, uint64_t from) {
    int  fd = tcp_connect(rs->port);
    int  small = 16 << 10;
    char req[200];
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    snprintf(req, sizeof req, "GET /changes?from_slot=%llu HTTP/1.1\r\nHost: x\r\n\r\n",
             (unsigned long long)from);
    send_str(fd, req);
    pthread_mutex_lock(&rs->mu);
    rs->fd[rs->n++] = fd;
    pthread_mutex_unlock(&rs->mu);
}

static void
t_changes_readers(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, NULL);
    /* A window of 200 slots of 40 accounts of 200 bytes (about 2 MB of
     * stream) for every reader to read from its start. */
    root_slots(f.db, 200, 40, 200, 3);
    readers_t rs = {.port = f.port};
    pthread_mutex_init(&rs.mu, NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, readers_main, &rs), 0);
    for (int i = 0; i < 50; i++)
        readers_add(&rs, 4);
    sleep_ms(3000);
    acctdb_server_stats_t ss;
    assert_int_equal(acctdb_server_stats(f.srv, &ss), 0);
    /* Stopping the server ends every stream at once. */
    double t0 = now_s();
    acctdb_server_stop(f.srv);
    f.srv = NULL;
    double stop_s = now_s() - t0;
    atomic_store(&rs.stop, true);
    pthread_join(th, NULL);
    for (size_t i = 0; i < rs.n; i++)
        close(rs.fd[i]);
    pthread_mutex_destroy(&rs.mu);
    assert_int_equal(ss.streams_open, 50);
    for (size_t i = 0; i < 50; i += 3)
        if (rs.got[i] <= (1u << 20)) /* the fast ones got the window */
            fail_msg("reader %zu got %llu bytes", i, (unsigned long long)rs.got[i]);
    assert_true(stop_s < 5.0);
    fx_close(&f);
}

/* ---- 8. stopping with transfers open -------------------------------------------------------- */

static void
tune_slow_rate(acctdb_server_opts_t *o) {
    o->max_send_rate = 10u << 10;
}

static void
t_stop_busy(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, tune_slow_rate);
    dl_t      d = {.port = f.port};
    pthread_t th;
    snprintf(d.path, sizeof d.path, "/%s", F10); /* 23 s at 10 KiB/s */
    assert_int_equal(pthread_create(&th, NULL, dl_main, &d), 0);
    int  chg = tcp_connect(f.port);
    int  idle = tcp_connect(f.port);
    char buf[512];
    bool closed;
    send_str(chg, "GET /changes?from_slot=4 HTTP/1.1\r\nHost: x\r\n\r\n");
    recv_until(chg, buf, sizeof buf, 1500, &closed);
    assert_int_equal(status_of(buf), 200);
    sleep_ms(500);
    acctdb_server_stats_t ss;
    assert_int_equal(acctdb_server_stats(f.srv, &ss), 0);
    assert_int_equal(ss.streams_open, 1);
    assert_true(ss.connections_open >= 3);
    double t0 = now_s();
    acctdb_server_stop(f.srv);
    f.srv = NULL;
    double dt = now_s() - t0;
    print_message("  stop with a paced transfer, a stream and an idle connection: %.2f s\n", dt);
    assert_true(dt < 5.0);
    pthread_join(th, NULL);
    assert_true(d.r.curl_rc != 0 || d.r.body.n < 238008); /* cut short */
    resp_free(&d.r);
    recv_until(chg, buf, sizeof buf, 2000, &closed);
    assert_true(closed);
    recv_until(idle, buf, sizeof buf, 2000, &closed);
    assert_true(closed);
    close(chg);
    close(idle);
    /* The root hook is gone: rooting goes on without a server. */
    root_slots(f.db, 3, 1, 10, 9);
    fx_close(&f);
}

/* ---- 9. options ----------------------------------------------------------------------------- */

static void
t_options(void **state) {
    (void)state;
    init_once();
    fx_t f;
    fx_open(&f, false, NULL);
    acctdb_server_opts_t o;
    acctdb_server_t     *s = NULL;
    char                 msg[256];
    struct {
        char const *addr;
        char const *why;
    } const bad[] = {{"127.0.0.1", "IP:PORT"},    {"127.0.0.1:99999", "IP:PORT"},
                     {"localhost:80", "IP:PORT"}, {"[::1]80", "IP:PORT"},
                     {"127.0.0.1:-1", "IP:PORT"}, {"1.2.3.4.5:1", "IP:PORT"},
                     {"127.0.0.1:8x", "IP:PORT"}, {"", "IP:PORT"}};
    for (size_t i = 0; i < ADB_ARRAY_CNT(bad); i++) {
        acctdb_server_opts_default(&o);
        o.addr = bad[i].addr;
        assert_int_equal(acctdb_server_start(&s, f.db, &o, msg, sizeof msg), ACCTDB_ERR_INVALID);
        assert_null(s);
        if (!strstr(msg, bad[i].why)) fail_msg("'%s': %s", bad[i].addr, msg);
    }
    acctdb_server_opts_default(&o);
    o.addr = "127.0.0.1:0";
    o.max_connections = 0;
    assert_int_equal(acctdb_server_start(&s, f.db, &o, msg, sizeof msg), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, "max_connections"));
    acctdb_server_opts_default(&o);
    o.addr = "127.0.0.1:0";
    o.snapshot_dir = "/nonexistent/dir";
    assert_int_equal(acctdb_server_start(&s, f.db, &o, msg, sizeof msg), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, "/nonexistent/dir"));
    acctdb_server_opts_default(&o);
    o.addr = "127.0.0.1:0";
    o.genesis_path = "/nonexistent/genesis.bin";
    assert_true(acctdb_server_start(&s, f.db, &o, msg, sizeof msg) != 0);
    assert_non_null(strstr(msg, "genesis"));
    /* The port in use: IO, saying so. */
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)f.port);
    acctdb_server_opts_default(&o);
    o.addr = addr;
    assert_int_equal(acctdb_server_start(&s, f.db, &o, msg, sizeof msg), ACCTDB_ERR_IO);
    assert_non_null(strstr(msg, "in use"));
    /* IPv6 loopback, when the host has it. */
    acctdb_server_stop(f.srv);
    f.srv = NULL;
    acctdb_server_opts_default(&o);
    o.addr = "[::1]:0";
    if (acctdb_server_start(&s, f.db, &o, msg, sizeof msg) == 0) {
        assert_true(acctdb_server_port(s) != 0);
        acctdb_server_stop(s);
    }
    acctdb_server_stop(NULL);
    assert_int_equal(acctdb_server_port(NULL), 0);
    acctdb_server_stats_t ss;
    assert_int_equal(acctdb_server_stats(NULL, &ss), ACCTDB_ERR_INVALID);
    fx_close(&f);
}

/* ---- 10. the acceptance point --------------------------------------------------------------- */

#define PROG_MAX (1u << 20)

typedef struct accept_run {
    acctdb_db_t           *db;
    volatile int           stop;
    double                *t; /* time slot i completed */
    size_t                 n; /* slots completed */
    acctdb_workload_opts_t o;
    int                    rc;
    uint16_t               port;
    char                   archive[4300];
    _Atomic bool           clients_stop;
    uint64_t               rpc_ok, rpc_bad, dl_ok, dl_bad;
    double                 rpc_max_s;
} accept_run_t;

static void
accept_progress(void *ctx, char const *what, uint64_t done, uint64_t total) {
    (void)what, (void)total;
    accept_run_t *a = ctx;
    if (done <= PROG_MAX && a->n < PROG_MAX) a->t[a->n++] = now_s();
}

static void *
accept_workload(void *arg) {
    accept_run_t            *a = arg;
    acctdb_workload_result_t r;
    a->rc = acctdb_db_workload(a->db, &a->o, &r);
    return NULL;
}

/* Slots completed within [t0, t1), per second. */
static double
accept_rate(accept_run_t const *a, double t0, double t1) {
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++)
        k += a->t[i] >= t0 && a->t[i] < t1;
    return (double)k / (t1 - t0);
}

static void *
accept_rpc(void *arg) {
    accept_run_t *a = arg;
    while (!atomic_load(&a->clients_stop)) {
        resp_t r;
        http(a->port, "POST", "/", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}",
             &r);
        if (r.status == 200 && r.body.n)
            a->rpc_ok++;
        else
            a->rpc_bad++;
        if (r.seconds > a->rpc_max_s) a->rpc_max_s = r.seconds;
        resp_free(&r);
        sleep_ms(20);
    }
    return NULL;
}

static void *
accept_download(void *arg) {
    accept_run_t *a = arg;
    struct stat   st;
    stat(a->archive, &st);
    char const *base = strrchr(a->archive, '/');
    char        path[400];
    snprintf(path, sizeof path, "%s", base);
    while (!atomic_load(&a->clients_stop)) {
        resp_t r;
        http(a->port, "GET", path, NULL, NULL, &r);
        if (r.status == 200 && r.body.n == (size_t)st.st_size)
            a->dl_ok++;
        else
            a->dl_bad++;
        resp_free(&r);
    }
    return NULL;
}

static void
t_acceptance(void **state) {
    (void)state;
    init_once();
    char *tmp = adb_test_mkdtemp();
    char  gdir[4200], dbdir[4200], adir[4200], msg[1024];
    snprintf(gdir, sizeof gdir, "%s/gen", tmp);
    snprintf(dbdir, sizeof dbdir, "%s/db", tmp);
    snprintf(adir, sizeof adir, "%s/archives", tmp);
    assert_int_equal(mkdir(gdir, 0755), 0);
    assert_int_equal(mkdir(adir, 0755), 0);
    /* A database big enough that writing its snapshot takes a while. */
    acctdb_gen_opts_t   go = {.accounts = adb_test_scaled(400000), .seed = 7, .out_dir = gdir};
    acctdb_gen_result_t gr;
    if (acctdb_snapshot_gen(&go, &gr, msg, sizeof msg)) fail_msg("gen: %s", msg);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    acctdb_db_source_t src = {.full_path = gr.full_path};
    acctdb_db_t       *db = NULL;
    if (acctdb_db_create(&db, dbdir, &src, &cfg, msg, sizeof msg)) fail_msg("create: %s", msg);
    acctdb_server_opts_t so;
    acctdb_server_opts_default(&so);
    so.addr = "127.0.0.1:0";
    so.snapshot_dir = adir;
    acctdb_server_t *srv = NULL;
    if (acctdb_server_start(&srv, db, &so, msg, sizeof msg)) fail_msg("start: %s", msg);
    accept_run_t *a = calloc(1, sizeof *a);
    a->db = db;
    a->port = acctdb_server_port(srv);
    a->t = calloc(PROG_MAX, sizeof *a->t);
    /* The archive the client downloads while another is written. */
    double t0 = now_s();
    assert_int_equal(acctdb_db_snapshot(db, adir, false, a->archive), 0);
    double snap_alone = now_s() - t0;

    /* A paced validator: 20 ms slots of 300-600 stores. */
    acctdb_workload_opts_default(&a->o);
    a->o.slots = 1000000;
    a->o.slot_us = 20000;
    a->o.stores_min = 300;
    a->o.stores_max = 600;
    a->o.root_lag = 8;
    a->o.stop = &a->stop;
    a->o.progress = accept_progress;
    a->o.progress_ctx = a;
    pthread_t wl, rpc, dl;
    assert_int_equal(pthread_create(&wl, NULL, accept_workload, a), 0);
    assert_int_equal(pthread_create(&rpc, NULL, accept_rpc, a), 0);
    sleep_ms(1000);
    double b0 = now_s();
    sleep_ms(3000);
    double b1 = now_s();
    /* A snapshot written while a client downloads the other one. */
    assert_int_equal(pthread_create(&dl, NULL, accept_download, a), 0);
    double s0 = now_s();
    char   path[4096];
    int    rc = acctdb_db_snapshot(db, adir, false, path);
    double s1 = now_s();
    sleep_ms(500);
    atomic_store(&a->clients_stop, true);
    pthread_join(dl, NULL);
    pthread_join(rpc, NULL);
    a->stop = 1;
    pthread_join(wl, NULL);
    if (rc) fail_msg("snapshot: %s", acctdb_db_errmsg(db));
    assert_int_equal(a->rc, 0);
    double base = accept_rate(a, b0, b1), during = accept_rate(a, s0, s1);
    print_message("  %llu accounts: snapshot alone %.2f s, under load %.2f s; workload %.1f "
                  "slots/s before, %.1f during (%.2fx); RPC %llu ok / %llu bad (max %.0f ms); "
                  "downloads %llu ok / %llu bad\n",
                  (unsigned long long)go.accounts, snap_alone, s1 - s0, base, during,
                  base > 0 ? during / base : 0, (unsigned long long)a->rpc_ok,
                  (unsigned long long)a->rpc_bad, a->rpc_max_s * 1e3, (unsigned long long)a->dl_ok,
                  (unsigned long long)a->dl_bad);
    bool ok_rate = during >= 0.5 * base;
    assert_true(a->rpc_ok > 10);
    assert_int_equal(a->rpc_bad, 0);
    assert_true(a->dl_ok >= 1);
    assert_int_equal(a->dl_bad, 0);
    acctdb_server_stop(srv);
    acctdb_db_close(db);
    free(a->t);
    free(a);
    adb_test_rmtree(tmp);
    free(tmp);
    assert_true(base > 5);
#ifndef ADB_SANITIZE /* sanitizer builds are too slow to keep the pace at all */
    assert_true(ok_rate);
#else
    (void)ok_rate;
#endif
}

/* ---- 11. acctdb serve ----------------------------------------------------------------------- */

/* Starts `acctdb serve ARGS` with stdout on a pipe; returns its pid, the
 * port from its first line in *port. */
static pid_t
serve_spawn(char const *args, uint16_t *port, FILE **out) {
    char const *tool = adb_test_tool_or_skip();
    int         p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "exec %s serve %s", tool, args);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    *out = fdopen(p[0], "r");
    char line[512] = "";
    *port = 0;
    if (fgets(line, sizeof line, *out)) {
        char const *c = strrchr(line, ':');
        if (!strncmp(line, "listening: http://127.0.0.1:", 28) && c) *port = (uint16_t)atoi(c + 1);
    }
    return pid;
}

static int
wait_exit(pid_t pid, double timeout_s) {
    double end = now_s() + timeout_s;
    int    st;
    while (now_s() < end) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* RSS of process pid, bytes. */
static uint64_t
rss_of(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = strtoull(line + 6, NULL, 10);
    fclose(f);
    return kb << 10;
}

/* The memory of change readers, measured on `acctdb serve` (its own
 * process: the test binary's threads carry the other tests' thread-local
 * buffers): a window of 200 rooted slots written by its workload, then
 * one reader, then 49 more (a third draining, a third slow, a third never
 * reading); the server's RSS may grow by 64 KiB per added reader. */
static void
t_changes_rss(void **state) {
    (void)state;
    init_once();
    char const *tool = adb_test_tool_or_skip();
    char       *tmp = adb_test_mkdtemp();
    char        db[4200], args[9000], line[1024];
    snprintf(db, sizeof db, "%s/db", tmp);
    assert_int_equal(adb_test_sh(NULL, 0, "%s db create %s --from %s %s --quiet >/dev/null 2>&1",
                                 tool, db, adb_test_data(F1), adb_test_data(I14)),
                     0);
    snprintf(args, sizeof args,
             "%s --rpc-addr 127.0.0.1:0 --workload-slots 200 --slot-ms 0 --stores-min 40 "
             "--stores-max 40 --root-lag 0 --seed 5",
             db);
    uint16_t port = 0;
    FILE    *so = NULL;
    pid_t    pid = serve_spawn(args, &port, &so);
    assert_true(port != 0);
    bool done = false;
    while (!done && fgets(line, sizeof line, so))
        done = !strncmp(line, "workload: ", 10);
    assert_true(done);
    sleep_ms(1000); /* the last flush */
    readers_t rs = {.port = port};
    pthread_mutex_init(&rs.mu, NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, readers_main, &rs), 0);
    readers_add(&rs, 4);
    sleep_ms(1500);
    uint64_t rss1 = rss_of(pid);
    for (int i = 1; i < 50; i++)
        readers_add(&rs, 4);
    sleep_ms(3000); /* every stream fills its socket buffers and settles */
    uint64_t rss50 = rss_of(pid);
    resp_t   r;
    http(port, "GET", "/metrics", NULL, NULL, &r);
    char *p = r.body.p ? strstr(r.body.p, "\nacctdb_changes_streams_open ") : NULL;
    int   open_streams = p ? atoi(p + 29) : -1;
    resp_free(&r);
    atomic_store(&rs.stop, true);
    pthread_join(th, NULL);
    for (size_t i = 0; i < rs.n; i++)
        close(rs.fd[i]);
    pthread_mutex_destroy(&rs.mu);
    kill(pid, SIGTERM);
    int st = wait_exit(pid, 30);
    fclose(so);
    adb_test_rmtree(tmp);
    free(tmp);
    double per = ((double)rss50 - (double)rss1) / 49.0;
    print_message("  acctdb serve RSS: 1 reader %.1f MiB, 50 readers %.1f MiB: %.1f KiB per "
                  "added reader\n",
                  rss1 / 1048576.0, rss50 / 1048576.0, per / 1024.0);
    assert_int_equal(st, 0);
    assert_int_equal(open_streams, 50);
    for (size_t i = 0; i < 50; i += 3)
        if (rs.got[i] <= (1u << 20)) /* the fast ones got the window */
            fail_msg("reader %zu got %llu bytes", i, (unsigned long long)rs.got[i]);
#ifndef ADB_SANITIZE /* redzones and shadow stacks are not the server's */
    assert_true(rss50 <= rss1 + 49ull * (64u << 10));
#endif
}

static void
t_serve_cli(void **state) {
    (void)state;
    init_once();
    char const *tool = adb_test_tool_or_skip();
    char       *tmp = adb_test_mkdtemp();
    char        db[4200], adir[4200], args[9000], out[8192];
    snprintf(db, sizeof db, "%s/db", tmp);
    snprintf(adir, sizeof adir, "%s/archives", tmp);
    int rc = adb_test_sh(NULL, 0, "%s db create %s --from %s %s --quiet >/dev/null 2>&1", tool, db,
                         adb_test_data(F1), adb_test_data(I14));
    assert_int_equal(rc, 0);

    /* Usage errors: 2. */
    assert_int_equal(adb_test_sh(NULL, 0, "%s serve >/dev/null 2>&1", tool), 2);
    assert_int_equal(adb_test_sh(NULL, 0, "%s serve %s --slot-ms -1 >/dev/null 2>&1", tool, db), 2);
    assert_int_equal(
        adb_test_sh(NULL, 0, "%s serve %s --snapshot-every-slots 5 >/dev/null 2>&1", tool, db), 2);
    assert_int_equal(
        adb_test_sh(NULL, 0, "%s serve %s --rpc-addr nowhere >/dev/null 2>&1", tool, db), 2);
    assert_int_equal(adb_test_sh(NULL, 0, "%s serve %s --bogus >/dev/null 2>&1", tool, db), 2);
    assert_int_equal(adb_test_sh(out, sizeof out, "%s serve --help", tool), 0);
    assert_non_null(strstr(out, "--max-send-rate"));

    /* A paced workload with full and incremental snapshots, then exit. */
    snprintf(args, sizeof args,
             "%s --rpc-addr 127.0.0.1:0 --snapshots %s --workload-slots 60 --slot-ms 20 "
             "--stores-min 50 --stores-max 100 --root-lag 4 --snapshot-every-slots 20 "
             "--incremental-every-slots 5 --exit-after-workload --history-slots 100 "
             "--max-send-rate 10M",
             db, adir);
    uint16_t port = 0;
    FILE    *so = NULL;
    pid_t    pid = serve_spawn(args, &port, &so);
    assert_true(port != 0);
    resp_t r;
    http(port, "GET", "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* The database is in use meanwhile: 3. */
    assert_int_equal(
        adb_test_sh(NULL, 0, "%s serve %s --rpc-addr 127.0.0.1:0 >/dev/null 2>&1", tool, db), 3);
    int    st = wait_exit(pid, 120);
    char   line[1024];
    size_t fulls = 0, incs = 0;
    bool   stopped = false;
    while (fgets(line, sizeof line, so)) {
        fulls += !strncmp(line, "snapshot: full ", 15);
        incs += !strncmp(line, "snapshot: incremental ", 22);
        stopped |= !strncmp(line, "shutdown: ", 10);
    }
    fclose(so);
    assert_int_equal(st, 0);
    assert_true(stopped);
    print_message("  serve: %zu full and %zu incremental snapshots over 60 slots\n", fulls, incs);
    assert_true(fulls >= 2);
    assert_true(incs >= 2);

    /* Without a workload it serves until SIGTERM, its archives included. */
    snprintf(args, sizeof args, "%s --rpc-addr 127.0.0.1:0 --snapshots %s", db, adir);
    pid = serve_spawn(args, &port, &so);
    assert_true(port != 0);
    http(port, "GET", "/snapshot.tar.bz2", NULL, NULL, &r);
    assert_int_equal(r.status, 303);
    char loc[512];
    snprintf(loc, sizeof loc, "%s", resp_header(&r, "Location"));
    resp_free(&r);
    http(port, "GET", loc, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(r.body.n > 1000);
    resp_free(&r);
    http(port, "POST", "/", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\"}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit(pid, 30), 0);
    fclose(so);
    /* The database closed cleanly: it opens and verifies. */
    assert_int_equal(adb_test_sh(NULL, 0, "%s db verify %s >/dev/null 2>&1", tool, db), 0);
    adb_test_rmtree(tmp);
    free(tmp);
}

static struct CMUnitTest const g_tests[] = {
    cmocka_unit_test(t_names_ranges),   cmocka_unit_test(t_snapshot_endpoints),
    cmocka_unit_test(t_limits),         cmocka_unit_test(t_slow_clients),
    cmocka_unit_test(t_health_metrics), cmocka_unit_test(t_rate_limit),
    cmocka_unit_test(t_changes),        cmocka_unit_test(t_changes_readers),
    cmocka_unit_test(t_stop_busy),      cmocka_unit_test(t_options),
    cmocka_unit_test(t_acceptance),     cmocka_unit_test(t_serve_cli),
    cmocka_unit_test(t_changes_rss),
};

ADB_TEST_GROUP(server, g_tests);
