/* src/net/fetch_http.c - requests and archive downloads over libcurl (see
 * fetch.h).
 *
 * A request's states: CONNECT (curl, connect_s) -> HEAD (lines collected
 * by on_header into a 16 KiB buffer; at the blank line the whole head goes
 * through adb_fetch_head_parse, 1xx heads are skipped, at most 4) -> BODY
 * (on_body: never more than Content-Length; 2xx bodies to the sink, others
 * kept up to body_max) -> DONE.  on_progress, called by curl at least once
 * a second, enforces the first-byte, idle and total timeouts and calls the
 * tick.  Any rule broken ends the request at once with why and a message;
 * libcurl follows no redirect and decodes no content.
 *
 * A download (adb_fetch_download): TEMP (tmp-snapshot-archive-<random>,
 * O_EXCL, flock'ed; dl_temp) -> BEGIN at the first body byte (status 200,
 * Content-Length, free space, fallocate; dl_begin) -> BODY (written through
 * the I/O table, decompressed into a scratch buffer as it comes, speed
 * window; dl_sink, dl_tick) -> CHECK (length, frame) -> SYNC -> RENAME ->
 * DIRSYNC -> UNLOCK.
 *
 * Invariants:
 *   1. No body byte is accepted before its head passed the parser.
 *   2. A download leaves either dir/name complete and durable, or nothing
 *      of its own: every failure before RENAME unlinks the temporary file
 *      while still holding its lock.
 *   3. The temporary file is locked from creation to after DIRSYNC, so a
 *      sweep (ours or the snapshot writer's) never removes a live one. */
#include "net/fetch.h"

#include "snapshot/stream.h"
#include "snapshot/write.h"
#include "util/io.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define TMP_PREFIX    ADB_SNAP_TMP_PREFIX
#define TICK_NS       100000000ull
#define SPARE_SZ      (64ull << 20) /* free space kept beyond an archive */
#define FRAME_SCRATCH (1u << 20)
#define USER_AGENT    "acctdb/" ACCTDB_VERSION_STRING
#define INTERIM_MAX   4
#define TRAILER_MAX   ADB_FETCH_HEAD_MAX

uint64_t
adb_fetch_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode       g_init_rc;

static void
init_once(void) {
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- one request ------------------------------------------------------- */

typedef struct st {
    adb_fetch_req_t   *r;
    CURL              *h;
    struct curl_slist *hdrs;
    char               errbuf[CURL_ERROR_SIZE];
    char               head[ADB_FETCH_HEAD_MAX];
    size_t             head_len, trailer_sz;
    bool               head_done, stopped, failed, finished;
    unsigned           interim;
    uint64_t           last_byte_ns, last_tick_ns;
} st_t;

static int sfail(st_t *s, adb_fetch_why_t why, int code, char const *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
sfail(st_t *s, adb_fetch_why_t why, int code, char const *fmt, ...) {
    if (s->failed) return code;
    s->failed = true;
    if (!s->r->why) s->r->why = why;
    va_list ap;
    va_start(ap, fmt);
    adb_err_vset(&s->r->err, code, fmt, ap);
    va_end(ap);
    return code;
}

static bool
is_2xx(int status) {
    return status >= 200 && status < 300;
}

static size_t
on_header(char *p, size_t sz, size_t nm, void *ud) {
    st_t            *s = ud;
    adb_fetch_req_t *r = s->r;
    size_t           n = sz * nm;
    if (s->failed) return 0;
    if (s->head_done) { /* trailers of a chunked body: bounded, not read */
        s->trailer_sz += n;
        if (s->trailer_sz > TRAILER_MAX) {
            sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "trailers over %u bytes", TRAILER_MAX);
            return 0;
        }
        return n;
    }
    if (n > sizeof s->head - s->head_len) {
        sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "response head over %u bytes",
              ADB_FETCH_HEAD_MAX);
        return 0;
    }
    memcpy(s->head + s->head_len, p, n);
    s->head_len += n;
    bool blank = (n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n');
    if (!blank) return n;
    adb_err_t e = {0};
    if (adb_fetch_head_parse(s->head, s->head_len, &r->head, &e)) {
        sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "%s", e.msg);
        return 0;
    }
    s->head_len = 0;
    if (r->head.status < 200) {
        if (++s->interim > INTERIM_MAX) {
            sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "more than %d interim (1xx) responses",
                  INTERIM_MAX);
            return 0;
        }
        return n;
    }
    s->head_done = true;
    r->has_head = true;
    r->t_head_ns = s->last_byte_ns = adb_fetch_now_ns();
    if (is_2xx(r->head.status) && r->need_length && !r->head.has_length) {
        sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "HTTP %d without Content-Length",
              r->head.status);
        return 0;
    }
    return n;
}

static size_t
on_body(char *p, size_t sz, size_t nm, void *ud) {
    st_t            *s = ud;
    adb_fetch_req_t *r = s->r;
    size_t           n = sz * nm;
    if (s->failed || s->stopped) return 0;
    if (!s->head_done) {
        sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "body bytes before the response head");
        return 0;
    }
    s->last_byte_ns = adb_fetch_now_ns();
    if (r->head.has_length && n > r->head.length - r->body_bytes) {
        sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "body longer than its Content-Length %llu",
              (unsigned long long)r->head.length);
        return 0;
    }
    size_t use = n;
    if (r->stop_after && use > r->stop_after - r->body_bytes)
        use = (size_t)(r->stop_after - r->body_bytes);
    if (is_2xx(r->head.status) && r->sink) {
        r->body_bytes += use;
        int rc = r->sink(r->sink_ctx, p, use);
        if (rc) {
            r->sink_rc = rc;
            s->failed = true;
            if (!r->why) r->why = ADB_FETCH_ABORTED;
            return 0;
        }
    } else {
        size_t room = r->body_max - r->body_sz;
        if (use > room) {
            if (!r->body_truncate) {
                sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "body over %zu bytes", r->body_max);
                return 0;
            }
            use = room;
            s->stopped = true;
        }
        if (use) memcpy(r->body + r->body_sz, p, use);
        r->body_sz += use;
        r->body_bytes += use;
        if (s->stopped) return 0;
    }
    if (r->stop_after && r->body_bytes >= r->stop_after) {
        s->stopped = true;
        return 0;
    }
    return n;
}

static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    st_t            *s = ud;
    adb_fetch_req_t *r = s->r;
    if (s->failed) return 1;
    if (s->stopped) return 0;
    if (r->stop && *r->stop) {
        sfail(s, ADB_FETCH_ABORTED, ACCTDB_ERR_STOPPED, "stopped (interrupted) after %llu bytes",
              (unsigned long long)r->body_bytes);
        return 1;
    }
    uint64_t now = adb_fetch_now_ns(), el = now - r->t_start_ns;
    if (!s->head_done) {
        if (el > (uint64_t)(r->connect_s + r->first_s) * 1000000000ull) {
            sfail(s, ADB_FETCH_TIMEOUT, ACCTDB_ERR_IO, "no response within %u s",
                  r->connect_s + r->first_s);
            return 1;
        }
    } else if (now - s->last_byte_ns > (uint64_t)r->idle_s * 1000000000ull) {
        sfail(s, ADB_FETCH_TIMEOUT, ACCTDB_ERR_IO, "no data for %u s (after %llu body bytes)",
              r->idle_s, (unsigned long long)r->body_bytes);
        return 1;
    }
    if (r->total_s && el > (uint64_t)r->total_s * 1000000000ull) {
        sfail(s, ADB_FETCH_TIMEOUT, ACCTDB_ERR_IO, "not done within %u s", r->total_s);
        return 1;
    }
    if (r->tick && now - s->last_tick_ns >= TICK_NS) {
        s->last_tick_ns = now;
        int rc = r->tick(r->tick_ctx, now, r->body_bytes);
        if (rc) {
            r->sink_rc = rc;
            s->failed = true;
            if (!r->why) r->why = ADB_FETCH_ABORTED;
            return 1;
        }
    }
    return 0;
}

static int
setup(st_t *s, adb_fetch_req_t *r) {
    memset(s, 0, sizeof *s);
    s->r = r;
    r->why = ADB_FETCH_OK;
    adb_err_clear(&r->err);
    r->has_head = false;
    memset(&r->head, 0, sizeof r->head);
    r->body = NULL;
    r->body_sz = 0;
    r->body_bytes = 0;
    r->sink_rc = 0;
    if (!r->connect_s) r->connect_s = 10;
    if (!r->first_s) r->first_s = 10;
    if (!r->idle_s) r->idle_s = 30;
    r->t_start_ns = r->t_head_ns = r->t_end_ns = adb_fetch_now_ns();
    pthread_once(&g_once, init_once);
    if (g_init_rc != CURLE_OK)
        return sfail(s, ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "libcurl: %s",
                     curl_easy_strerror(g_init_rc));
    if (!r->url) return sfail(s, ADB_FETCH_LOCAL, ACCTDB_ERR_INVALID, "no URL");
    if (r->body_max) {
        r->body = adb_malloc(r->body_max + 1);
        if (!r->body) return sfail(s, ADB_FETCH_LOCAL, ACCTDB_ERR_NOMEM, "out of memory");
        r->body[0] = 0;
    }
    CURL *h = s->h = curl_easy_init();
    if (!h) return sfail(s, ADB_FETCH_LOCAL, ACCTDB_ERR_NOMEM, "libcurl: no handle");
    char const *m = r->method ? r->method : "GET";
    s->hdrs = curl_slist_append(NULL, "Accept-Encoding: identity");
    if (s->hdrs) s->hdrs = curl_slist_append(s->hdrs, "Expect:");
    if (s->hdrs && !strcmp(m, "POST"))
        s->hdrs = curl_slist_append(s->hdrs, "Content-Type: application/json");
    if (!s->hdrs) return sfail(s, ADB_FETCH_LOCAL, ACCTDB_ERR_NOMEM, "out of memory");
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, val);                                    \
    } while (0)
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
    SET(CURLOPT_CONNECTTIMEOUT, (long)r->connect_s);
    SET(CURLOPT_USERAGENT, USER_AGENT);
    SET(CURLOPT_HTTPHEADER, s->hdrs);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, s);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, s);
    SET(CURLOPT_ERRORBUFFER, s->errbuf);
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    if (!strcmp(m, "HEAD")) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (!strcmp(m, "POST")) {
        SET(CURLOPT_POSTFIELDS, r->post ? r->post : "");
        SET(CURLOPT_POSTFIELDSIZE, (long)(r->post ? strlen(r->post) : 0));
    } else if (strcmp(m, "GET")) {
        return sfail(s, ADB_FETCH_LOCAL, ACCTDB_ERR_INVALID, "method %s", m);
    }
    if (r->range) SET(CURLOPT_RANGE, r->range);
#undef SET
    if (cc != CURLE_OK)
        return sfail(s, ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "libcurl: %s", curl_easy_strerror(cc));
    /* A larger receive buffer for archives; not fatal if refused. */
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
    return 0;
}

/* The end of a request: curl's verdict and ours made into one. */
static int
finish(st_t *s, CURLcode cc) {
    adb_fetch_req_t *r = s->r;
    s->finished = true;
    r->t_end_ns = adb_fetch_now_ns();
    if (r->body) r->body[r->body_sz] = 0;
    if (s->stopped && !s->failed) return 0;
    if (s->failed) return r->sink_rc ? r->sink_rc : (r->err.code ? r->err.code : ACCTDB_ERR_IO);
    if (cc != CURLE_OK) {
        curl_off_t conn = 0;
        if (s->h) curl_easy_getinfo(s->h, CURLINFO_CONNECT_TIME_T, &conn);
        char const *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc);
        if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT ||
            (cc == CURLE_OPERATION_TIMEDOUT && conn == 0))
            return sfail(s, ADB_FETCH_UNREACHABLE, ACCTDB_ERR_IO, "cannot connect: %s", why);
        if (cc == CURLE_OPERATION_TIMEDOUT)
            return sfail(s, ADB_FETCH_TIMEOUT, ACCTDB_ERR_IO, "%s", why);
        if (cc == CURLE_PARTIAL_FILE)
            return sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO,
                         "body ended after %llu of %llu bytes", (unsigned long long)r->body_bytes,
                         (unsigned long long)r->head.length);
        return sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "%s", why);
    }
    if (!s->head_done) return sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "no response head");
    bool is_head = r->method && !strcmp(r->method, "HEAD");
    if (!is_head && r->head.has_length && r->body_bytes != r->head.length &&
        r->head.status != 204 && r->head.status != 304)
        return sfail(s, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "body ended after %llu of %llu bytes",
                     (unsigned long long)r->body_bytes, (unsigned long long)r->head.length);
    return 0;
}

static void
teardown(st_t *s) {
    if (s->h) curl_easy_cleanup(s->h);
    curl_slist_free_all(s->hdrs);
    s->h = NULL;
    s->hdrs = NULL;
}

int
adb_fetch_run(adb_fetch_req_t *r) {
    st_t *s = adb_malloc(sizeof *s); /* the 16 KiB head buffer: not on the stack */
    if (!s) {
        memset(&r->head, 0, sizeof r->head);
        r->body = NULL;
        r->why = ADB_FETCH_LOCAL;
        adb_err_clear(&r->err);
        return adb_err_set(&r->err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    int rc = setup(s, r);
    if (!rc) rc = finish(s, curl_easy_perform(s->h));
    teardown(s);
    adb_free(s);
    return rc;
}

void
adb_fetch_run_many(adb_fetch_req_t **rs, size_t n) {
    st_t  *ss = adb_calloc(n ? n : 1, sizeof *ss);
    CURLM *m = NULL;
    pthread_once(&g_once, init_once);
    if (ss && g_init_rc == CURLE_OK) m = curl_multi_init();
    if (!ss || !m) { /* one at a time, then */
        if (m) curl_multi_cleanup(m);
        adb_free(ss);
        for (size_t i = 0; i < n; i++)
            adb_fetch_run(rs[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (setup(&ss[i], rs[i]) || curl_multi_add_handle(m, ss[i].h) != CURLM_OK) {
            sfail(&ss[i], ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "libcurl: cannot start the request");
            finish(&ss[i], CURLE_FAILED_INIT);
        }
    }
    int running = 1;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) break;
        CURLMsg *msg;
        int      left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) continue;
            for (size_t i = 0; i < n; i++)
                if (ss[i].h == msg->easy_handle && !ss[i].finished)
                    finish(&ss[i], msg->data.result);
        }
        if (running && curl_multi_poll(m, NULL, 0, 200, NULL) != CURLM_OK) break;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ss[i].finished) {
            sfail(&ss[i], ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "libcurl: the request did not finish");
            finish(&ss[i], CURLE_FAILED_INIT);
        }
        if (ss[i].h) curl_multi_remove_handle(m, ss[i].h);
        teardown(&ss[i]);
    }
    curl_multi_cleanup(m);
    adb_free(ss);
}

void
adb_fetch_req_fini(adb_fetch_req_t *r) {
    if (!r) return;
    adb_free(r->body);
    r->body = NULL;
    r->body_sz = 0;
}

/* ---- adb_fetch_stream --------------------------------------------------- */

typedef struct stream_ctx {
    adb_fetch_data_fn fn;
    void             *ctx;
} stream_ctx_t;

static int
stream_sink(void *ctx, void const *p, size_t n) {
    stream_ctx_t *c = ctx;
    return c->fn(c->ctx, p, n);
}

int
adb_fetch_stream(char const *url, uint32_t connect_s, uint32_t idle_s, adb_fetch_data_fn fn,
                 void *ctx, long *status_out, char *body, size_t body_max, adb_err_t *err) {
    if (status_out) *status_out = 0;
    if (body && body_max) body[0] = 0;
    if (!url || !fn) return adb_err_set(err, ACCTDB_ERR_INVALID, "fetch: no URL or callback");
    stream_ctx_t    c = {fn, ctx};
    adb_fetch_req_t r = {
        .url = url,
        .connect_s = connect_s,
        .first_s = idle_s ? idle_s : 30, /* the head may wait for the first slot */
        .idle_s = idle_s,
        .body_max = body && body_max > 1 ? body_max - 1 : 0,
        .body_truncate = true,
        .sink = stream_sink,
        .sink_ctx = &c,
    };
    int rc = adb_fetch_run(&r);
    if (r.has_head && status_out) *status_out = r.head.status;
    if (r.has_head && !is_2xx(r.head.status) && body && body_max && r.body) {
        memcpy(body, r.body, r.body_sz);
        body[r.body_sz] = 0;
    }
    if (rc && r.why != ADB_FETCH_ABORTED)
        adb_err_set(err, rc == ACCTDB_ERR_NOMEM ? rc : ACCTDB_ERR_IO, "%s: %s", url, r.err.msg);
    if (rc && r.why != ADB_FETCH_ABORTED && rc != ACCTDB_ERR_NOMEM) rc = ACCTDB_ERR_IO;
    adb_fetch_req_fini(&r);
    return rc;
}

/* ---- archive downloads --------------------------------------------------- */

static bool
same_file(struct stat const *a, struct stat const *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

unsigned
adb_fetch_sweep(char const *dir) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return 0;
    unsigned n =
        adb_snap_sweep_tmps(dfd); /* the archive writer's sweep: the same names and locks */
    close(dfd);
    return n;
}

typedef struct dl_st {
    adb_fetch_dl_t   *d;
    adb_fetch_req_t  *r;
    int               dfd, fd, lockfd;
    char              tmp[64];
    bool              started;
    adb_decomp_t     *dec;
    uint8_t           pre[4];
    size_t            pre_n, last_made;
    uint8_t          *scratch;
    adb_fetch_speed_t speed;
    uint64_t          deadline_ns;
} dl_st_t;

static int dl_fail(dl_st_t *x, adb_fetch_why_t why, int code, char const *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
dl_fail(dl_st_t *x, adb_fetch_why_t why, int code, char const *fmt, ...) {
    adb_fetch_dl_t *d = x->d;
    if (!d->why) d->why = why;
    va_list ap;
    va_start(ap, fmt);
    adb_err_vset(&d->err, code, fmt, ap);
    va_end(ap);
    return code;
}

/* TEMP: as the snapshot writer's create_temp (src/snapshot/write.c). */
static int
dl_temp(dl_st_t *x) {
    int rc = -EEXIST;
    for (int attempt = 0; attempt < 16; attempt++) {
        uint64_t rnd;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
            rnd = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull + adb_fetch_now_ns();
        snprintf(x->tmp, sizeof x->tmp, TMP_PREFIX "%016llx", (unsigned long long)rnd);
        int fd =
            adb_io_openat(adb_io(), x->dfd, x->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
        if (fd == -EEXIST) continue;
        if (fd < 0) return fd;
        struct stat mine, now;
        if (flock(fd, LOCK_EX | LOCK_NB)) {
            if (errno == EWOULDBLOCK) {
                adb_io_close(adb_io(), fd);
                continue;
            }
        } else if (fstat(fd, &mine) || fstatat(x->dfd, x->tmp, &now, AT_SYMLINK_NOFOLLOW) ||
                   !same_file(&mine, &now)) {
            adb_io_close(adb_io(), fd);
            continue;
        }
        int lk = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (lk < 0) {
            rc = -errno;
            adb_io_close(adb_io(), fd);
            adb_io_unlinkat(adb_io(), x->dfd, x->tmp, 0);
            return rc;
        }
        x->fd = fd;
        x->lockfd = lk;
        return 0;
    }
    return rc;
}

/* BEGIN: the head is in; the first body byte is about to be written. */
static int
dl_begin(dl_st_t *x) {
    adb_fetch_dl_t  *d = x->d;
    adb_fetch_req_t *r = x->r;
    x->started = true;
    if (r->head.status != 200)
        return dl_fail(x, ADB_FETCH_STATUS, ACCTDB_ERR_IO, "HTTP %d, expected 200", r->head.status);
    d->length = r->head.length;
    struct statvfs sv;
    if (statvfs(d->dir, &sv) == 0) {
        uint64_t avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
        if (avail < d->length + SPARE_SZ)
            return dl_fail(x, ADB_FETCH_LOCAL, ACCTDB_ERR_FULL,
                           "%s: %.1f MiB free, the archive needs %.1f MiB (and 64 MiB to spare)",
                           d->dir, (double)avail / 1048576.0, (double)d->length / 1048576.0);
    }
    if (d->length) {
        adb_io_t const *io = adb_io();
        int             frc = adb_io_fallocate(io, x->fd, 0, d->length);
        if (frc == -ENOSPC)
            return dl_fail(x, ADB_FETCH_LOCAL, ACCTDB_ERR_FULL, "%s: no space for %llu bytes",
                           d->dir, (unsigned long long)d->length);
    }
    if (d->frame_check) {
        x->scratch = adb_malloc(FRAME_SCRATCH);
        if (!x->scratch) return dl_fail(x, ADB_FETCH_LOCAL, ACCTDB_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int
dl_decomp(dl_st_t *x, uint8_t const *p, size_t n) {
    while (n) {
        size_t used, made;
        int    rc = adb_decomp_run(x->dec, p, n, &used, x->scratch, FRAME_SCRATCH, &made);
        if (rc)
            return dl_fail(x, ADB_FETCH_CORRUPT, ACCTDB_ERR_CORRUPT, "%s: %s", x->d->name,
                           adb_decomp_errmsg(x->dec));
        x->last_made = made;
        p += used;
        n -= used;
        if (!used && !made) break;
    }
    return 0;
}

/* The stream check: the archive must decompress as it arrives. */
static int
dl_check(dl_st_t *x, uint8_t const *p, size_t n) {
    if (!x->dec) {
        if (x->pre_n + n < sizeof x->pre) {
            memcpy(x->pre + x->pre_n, p, n);
            x->pre_n += n;
            return 0;
        }
        uint8_t h[4];
        size_t  take = sizeof h - x->pre_n;
        memcpy(h, x->pre, x->pre_n);
        memcpy(h + x->pre_n, p, take);
        char const     *what;
        adb_comp_kind_t kind = adb_comp_detect(h, sizeof h, &what);
        if (kind == ADB_COMP_UNKNOWN)
            return dl_fail(x, ADB_FETCH_CORRUPT, ACCTDB_ERR_CORRUPT,
                           "%s: not a zstd or lz4 stream (%s)", x->d->name, what);
        adb_decomp_limits_t lim;
        adb_decomp_limits_default(&lim);
        int rc = adb_decomp_open(&x->dec, kind, &lim);
        if (rc) return dl_fail(x, ADB_FETCH_LOCAL, rc, "decompressor: %s", acctdb_strerror(rc));
        ADB_TRY(dl_decomp(x, x->pre, x->pre_n));
    }
    return dl_decomp(x, p, n);
}

static int
dl_sink(void *ctx, void const *p, size_t n) {
    dl_st_t *x = ctx;
    if (!x->started) ADB_TRY(dl_begin(x));
    int rc = adb_io_write_all(adb_io(), x->fd, p, n);
    if (rc)
        return dl_fail(x, ADB_FETCH_LOCAL, rc == -ENOSPC ? ACCTDB_ERR_FULL : ACCTDB_ERR_IO,
                       "writing %s/%s: %s", x->d->dir, x->tmp, acctdb_strerror(rc));
    x->d->received += n;
    if (x->d->frame_check) ADB_TRY(dl_check(x, p, n));
    return 0;
}

static int
dl_tick(void *ctx, uint64_t now_ns, uint64_t bytes) {
    dl_st_t        *x = ctx;
    adb_fetch_dl_t *d = x->d;
    if (d->progress && x->started) d->progress(d->progress_ctx, "download", bytes, d->length);
    if (adb_fetch_speed_feed(&x->speed, now_ns, bytes)) {
        d->rate = x->speed.rate;
        return dl_fail(x, ADB_FETCH_SLOW, ACCTDB_ERR_IO,
                       "%.2f MiB/s over the last %.1f s, below the minimum of %.2f MiB/s",
                       x->speed.rate / 1048576.0, (double)x->speed.span_ns / 1e9,
                       (double)d->min_speed / 1048576.0);
    }
    if (x->started && !x->deadline_ns) {
        /* The total deadline: a minute, plus the archive at half the
         * minimum speed (1 MiB/s without one). */
        uint64_t floor = d->min_speed ? ADB_MAX(d->min_speed / 2, 1) : (1u << 20);
        x->deadline_ns = now_ns + 60000000000ull + d->length / floor * 1000000000ull;
    }
    if (x->deadline_ns && now_ns > x->deadline_ns)
        return dl_fail(x, ADB_FETCH_TIMEOUT, ACCTDB_ERR_IO,
                       "not done by its deadline (%llu of %llu bytes)", (unsigned long long)bytes,
                       (unsigned long long)d->length);
    return 0;
}

int
adb_fetch_download(adb_fetch_dl_t *d) {
    d->path[0] = 0;
    d->length = d->received = 0;
    d->rate = d->seconds = 0;
    d->why = ADB_FETCH_OK;
    adb_err_clear(&d->err);
    dl_st_t x = {.d = d, .dfd = -1, .fd = -1, .lockfd = -1};
    adb_fetch_speed_init(&x.speed, d->min_speed, d->window_s);
    adb_fetch_req_t r = {
        .url = d->url,
        .connect_s = d->connect_s,
        .first_s = ADB_MAX(d->connect_s, 10u),
        .idle_s = ADB_MAX(30u, d->window_s ? d->window_s : 5),
        .need_length = true,
        .body_max = 512,
        .body_truncate = true,
        .sink = dl_sink,
        .sink_ctx = &x,
        .tick = dl_tick,
        .tick_ctx = &x,
        .stop = d->stop,
    };
    x.r = &r;
    int rc;
    if (snprintf(d->path, sizeof d->path, "%s/%s", d->dir, d->name) >= (int)sizeof d->path) {
        d->path[0] = 0;
        return dl_fail(&x, ADB_FETCH_LOCAL, ACCTDB_ERR_INVALID, "archive path too long");
    }
    d->path[0] = 0;
    x.dfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x.dfd < 0) {
        rc = -errno;
        return dl_fail(&x, ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "%s: %s", d->dir, acctdb_strerror(rc));
    }
    rc = dl_temp(&x);
    if (rc) {
        dl_fail(&x, ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "creating a temporary file in %s: %s", d->dir,
                acctdb_strerror(rc));
        rc = ACCTDB_ERR_IO;
        goto cleanup;
    }
    uint64_t t0 = adb_fetch_now_ns();
    rc = adb_fetch_run(&r);
    d->seconds = (double)(adb_fetch_now_ns() - t0) / 1e9;
    if (r.has_head && r.head.has_length) d->length = r.head.length;
    if (rc) {
        if (!d->why) d->why = r.why;
        if (r.err.msg[0]) adb_err_set(&d->err, rc, "%s", r.err.msg);
        if (d->why == ADB_FETCH_SLOW) d->rate = x.speed.rate;
        if (rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_FULL && rc != ACCTDB_ERR_NOMEM)
            rc = ACCTDB_ERR_IO;
        goto cleanup;
    }
    d->rate = d->seconds > 0 ? (double)d->received / d->seconds : 0;
    if (!r.has_head || r.head.status != 200) {
        rc = dl_fail(&x, ADB_FETCH_STATUS, ACCTDB_ERR_IO, "HTTP %d, expected 200",
                     r.has_head ? r.head.status : 0);
        goto cleanup;
    }
    if (!x.started) { /* an empty body: never an archive */
        rc = dl_fail(&x, ADB_FETCH_CORRUPT, ACCTDB_ERR_CORRUPT, "%s: empty", d->name);
        goto cleanup;
    }
    if (d->received != d->length) {
        rc = dl_fail(&x, ADB_FETCH_PROTOCOL, ACCTDB_ERR_IO, "%s: %llu of %llu bytes", d->name,
                     (unsigned long long)d->received, (unsigned long long)d->length);
        goto cleanup;
    }
    if (d->frame_check) {
        if (!x.dec) {
            rc = dl_fail(&x, ADB_FETCH_CORRUPT, ACCTDB_ERR_CORRUPT, "%s: %llu bytes, too short",
                         d->name, (unsigned long long)d->received);
            goto cleanup;
        }
        /* Only when the last call left room in the scratch buffer is
         * nothing held inside the decompressor: then "mid-frame" is real. */
        if (!adb_decomp_at_frame_end(x.dec) && x.last_made < FRAME_SCRATCH) {
            rc = dl_fail(&x, ADB_FETCH_CORRUPT, ACCTDB_ERR_CORRUPT,
                         "%s: the compressed stream ends inside a frame", d->name);
            goto cleanup;
        }
    }
    if (d->progress) d->progress(d->progress_ctx, "download", d->received, d->length);
    /* SYNC -> RENAME -> DIRSYNC */
    if ((rc = adb_io_fsync(adb_io(), x.fd)) != 0 || (rc = adb_io_close(adb_io(), x.fd)) != 0) {
        x.fd = -1;
        rc = dl_fail(&x, ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "syncing %s/%s: %s", d->dir, x.tmp,
                     acctdb_strerror(rc));
        goto cleanup;
    }
    x.fd = -1;
    if ((rc = adb_io_renameat(adb_io(), x.dfd, x.tmp, x.dfd, d->name)) != 0) {
        rc = dl_fail(&x, ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "renaming %s/%s to %s: %s", d->dir, x.tmp,
                     d->name, acctdb_strerror(rc));
        goto cleanup;
    }
    x.tmp[0] = 0; /* renamed: nothing to unlink */
    if ((rc = adb_io_fsync_dir(adb_io(), x.dfd)) != 0) {
        adb_io_unlinkat(adb_io(), x.dfd, d->name, 0);
        rc = dl_fail(&x, ADB_FETCH_LOCAL, ACCTDB_ERR_IO, "syncing %s: %s", d->dir,
                     acctdb_strerror(rc));
        goto cleanup;
    }
    snprintf(d->path, sizeof d->path, "%s/%s", d->dir, d->name);
    rc = 0;
cleanup:
    if (rc && !d->err.code) dl_fail(&x, ADB_FETCH_LOCAL, rc, "%s", acctdb_strerror(rc));
    if (x.fd >= 0) adb_io_close(adb_io(), x.fd);
    if (x.tmp[0] && x.dfd >= 0) adb_io_unlinkat(adb_io(), x.dfd, x.tmp, 0); /* still locked */
    if (x.lockfd >= 0) close(x.lockfd);
    if (x.dfd >= 0) close(x.dfd);
    adb_decomp_close(x.dec);
    adb_free(x.scratch);
    adb_fetch_req_fini(&r);
    return rc;
}
