/* src/net/server_files.c - the snapshot HTTP endpoints (NETWORK.md 4.7,
 * 5.6): the two redirects to the newest archives, and archives by exact
 * name from the snapshot directory (or its remote/ subdirectory).
 *
 * Invariants:
 *   1. Only names matching Agave's archive regexes are opened: no '/', no
 *      "..", nothing but [A-Za-z0-9.-]; everything else is 404 before any
 *      file system call.
 *   2. Files are opened relative to the directory opened at start, with
 *      O_NOFOLLOW (a symlink is refused: 403) and O_NONBLOCK (a FIFO named
 *      like an archive cannot block the thread), and served only if
 *      regular.
 *   3. An archive is never read whole: its content reader preads one block
 *      (ADB_SRV_FILE_BLOCK_SZ at most) per call into libmicrohttpd's
 *      buffer; the descriptor stays open until the response is freed, so
 *      retention deleting the file meanwhile does not cut the transfer.
 *   4. Content-Length is always sent (the size is known); a rate limit
 *      paces the reader so that byte k leaves no earlier than k / rate
 *      seconds after the first (one block of burst); the watchdog ends a
 *      transfer past its deadline. */
#include "net/server_private.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INC(x)    atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define DEC(x)    atomic_fetch_sub_explicit(&(x), 1, memory_order_relaxed)
#define ADD(x, n) atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)

/* ---- names and ranges ---------------------------------------------------------- */

static bool
is_digit(char c) {
    return c >= '0' && c <= '9';
}

static bool
is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Skips \d+ then the literal '-'. */
static bool
digits_dash(char const **p) {
    char const *s = *p;
    if (!is_digit(*s)) return false;
    while (is_digit(*s))
        s++;
    if (*s != '-') return false;
    *p = s + 1;
    return true;
}

bool
adb_server_archive_name_ok(char const *name, bool *is_inc_out) {
    if (is_inc_out) *is_inc_out = false;
    if (!name || strnlen(name, 256) > 255) return false;
    char const *p = name;
    bool        inc = false;
    if (!strncmp(p, "incremental-snapshot-", 21)) {
        p += 21;
        inc = true;
        if (!digits_dash(&p)) return false;
    } else if (!strncmp(p, "snapshot-", 9)) {
        p += 9;
    } else {
        return false;
    }
    if (!digits_dash(&p)) return false;
    if (!is_alnum(*p)) return false;
    while (is_alnum(*p))
        p++;
    if (strcmp(p, ".tar.zst") && strcmp(p, ".tar.lz4")) return false;
    if (is_inc_out) *is_inc_out = inc;
    return true;
}

/* Decimal digits at *p (saturating at UINT64_MAX); false if none. */
static bool
range_num(char const **p, uint64_t *out) {
    char const *s = *p;
    uint64_t    v = 0;
    if (!is_digit(*s)) return false;
    for (; is_digit(*s); s++) {
        uint64_t d = (uint64_t)(*s - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *p = s;
    *out = v;
    return true;
}

int
adb_server_range_parse(char const *h, uint64_t size, uint64_t *first_out, uint64_t *last_out) {
    *first_out = *last_out = 0;
    if (!h) return 0;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "bytes=", 6)) return 0;
    char const *p = h + 6;
    if (strchr(p, ',')) return 0; /* several ranges: the whole body instead */
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t a = 0, b = 0;
    bool     has_a = range_num(&p, &a);
    if (*p++ != '-') return 0;
    bool has_b = range_num(&p, &b);
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p || (!has_a && !has_b)) return 0;
    if (!has_a) { /* the last b bytes */
        if (b == 0 || size == 0) return -1;
        *first_out = b >= size ? 0 : size - b;
        *last_out = size - 1;
        return 1;
    }
    if (has_b && b < a) return 0; /* invalid: ignored */
    if (a >= size) return -1;
    *first_out = a;
    *last_out = has_b && b < size - 1 ? b : size - 1;
    return 1;
}

/* ---- redirects -------------------------------------------------------------------- */

static int
redirect(adb_srv_t *s, struct MHD_Connection *c, bool inc) {
    char full[4096], incp[4096];
    if (!s->snapshot_dir ||
        acctdb_snapshot_find(s->snapshot_dir, full, sizeof full, incp, sizeof incp, NULL, 0))
        return adb_server_reply_text(c, s, MHD_HTTP_NOT_FOUND, "text/plain",
                                     "no snapshot archive\n");
    char const *p = inc ? incp : full;
    if (!p[0])
        return adb_server_reply_text(c, s, MHD_HTTP_NOT_FOUND, "text/plain",
                                     "no incremental snapshot archive on the newest full one\n");
    char const *base = strrchr(p, '/');
    base = base ? base + 1 : p;
    char loc[512];
    if (snprintf(loc, sizeof loc, "/%s", base) >= (int)sizeof loc)
        return adb_server_reply_text(c, s, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                                     "archive name too long\n");
    size_t               n = strlen(loc);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, loc, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
    MHD_destroy_response(r);
    adb_server_count_status(s, MHD_HTTP_SEE_OTHER);
    ADD(s->c.bytes_out, n);
    return rc;
}

/* ---- archives ---------------------------------------------------------------------- */

typedef struct xfer {
    adb_srv_t *s;
    int        fd;
    uint64_t   off, len; /* the byte range of the file served */
    uint64_t   rate;     /* bytes/s; 0: unlimited */
    uint64_t   t0_ns;    /* the first read */
    bool       started;
} xfer_t;

/* Sleeps until ns (monotonic) in steps of at most 100 ms; false if the
 * server is stopping. */
static bool
sleep_until(adb_srv_t *s, uint64_t ns) {
    for (;;) {
        if (atomic_load_explicit(&s->shutting_down, memory_order_relaxed)) return false;
        uint64_t now = adb_server_now_ns();
        if (now >= ns) return true;
        uint64_t        d = ADB_MIN(ns - now, 100000000ull);
        struct timespec ts = {(time_t)(d / 1000000000ull), (long)(d % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
}

static ssize_t
xfer_read(void *cls, uint64_t pos, char *buf, size_t max) {
    xfer_t    *x = cls;
    adb_srv_t *s = x->s;
    if (atomic_load_explicit(&s->shutting_down, memory_order_relaxed))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (pos >= x->len) return MHD_CONTENT_READER_END_OF_STREAM;
    if (!x->started) {
        x->started = true;
        x->t0_ns = adb_server_now_ns();
    }
    size_t want = (size_t)ADB_MIN((uint64_t)max, x->len - pos);
    if (x->rate) {
        /* One chunk is 50 ms of the rate: the first goes at once, each
         * later one when the total so far is due. */
        uint64_t chunk = ADB_MAX(x->rate / 20, (uint64_t)1024);
        if (want > chunk) want = (size_t)chunk;
        uint64_t upto = pos + want;
        if (upto > chunk) {
            double due_s = (double)(upto - chunk) / (double)x->rate;
            if (!sleep_until(s, x->t0_ns + (uint64_t)(due_s * 1e9)))
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    ssize_t n;
    do {
        n = pread(x->fd, buf, want, (off_t)(x->off + pos));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return MHD_CONTENT_READER_END_WITH_ERROR; /* shorter than its length */
    ADD(s->c.bytes_out, (uint64_t)n);
    ADD(s->c.archive_bytes, (uint64_t)n);
    if (pos + (uint64_t)n == x->len) INC(s->c.archives_sent);
    return n;
}

static void
xfer_free(void *cls) {
    xfer_t *x = cls;
    close(x->fd);
    DEC(x->s->c.xfers_open);
    adb_free(x);
}

/* Opens name in dirfd: a regular file, not through a symlink.  Returns
 * the fd or -errno (-ENOENT also for anything not regular). */
static int
open_regular(int dirfd, char const *name) {
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOENT;
    }
    return fd;
}

static int
open_archive(adb_srv_t *s, char const *name) {
    int fd = open_regular(s->snap_dirfd, name);
    if (fd != -ENOENT) return fd;
    int rd = openat(s->snap_dirfd, "remote", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rd < 0) return -ENOENT;
    fd = open_regular(rd, name);
    close(rd);
    return fd;
}

static int
serve_archive(adb_srv_t *s, struct MHD_Connection *c, adb_srv_conn_t *conn, char const *name,
              bool inc) {
    int fd = open_archive(s, name);
    if (fd == -ELOOP)
        return adb_server_reply_text(c, s, MHD_HTTP_FORBIDDEN, "text/plain",
                                     "not served: a symbolic link\n");
    if (fd == -ENOENT || fd == -ENOTDIR)
        return adb_server_reply_text(c, s, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
    if (fd < 0)
        return adb_server_reply_text(c, s, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                                     "cannot open the archive\n");
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return adb_server_reply_text(c, s, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                                     "cannot read the archive\n");
    }
    uint64_t    size = (uint64_t)st.st_size, first = 0, last = 0;
    char const *rh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    int         rr = adb_server_range_parse(rh, size, &first, &last);
    char        cr[96];
    if (rr < 0) {
        close(fd);
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        char const          *body = "range not satisfiable\n";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
        MHD_destroy_response(r);
        adb_server_count_status(s, MHD_HTTP_RANGE_NOT_SATISFIABLE);
        return q;
    }
    if (atomic_fetch_add_explicit(&s->c.xfers_open, 1, memory_order_relaxed) >= ADB_SRV_XFER_MAX) {
        DEC(s->c.xfers_open);
        INC(s->c.xfers_refused);
        close(fd);
        return adb_server_reply_text(c, s, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                                     "too many archive transfers; retry later\n");
    }
    xfer_t *x = adb_calloc(1, sizeof *x);
    if (!x) {
        DEC(s->c.xfers_open);
        close(fd);
        return MHD_NO;
    }
    x->s = s;
    x->fd = fd;
    x->off = rr ? first : 0;
    x->len = rr ? last - first + 1 : size;
    x->rate = s->o.max_send_rate;
    INC(s->c.xfers_total);
    size_t block = ADB_SRV_FILE_BLOCK_SZ;
    if (x->rate && x->rate / 20 < block) block = (size_t)ADB_MAX(x->rate / 20, (uint64_t)1024);
    if (x->len && x->len < block) block = (size_t)x->len;
    struct MHD_Response *r =
        MHD_create_response_from_callback(x->len, block ? block : 1, xfer_read, x, xfer_free);
    if (!r) {
        xfer_free(x);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (rr) {
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)first,
                 (unsigned long long)last, (unsigned long long)size);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    }
    if (conn) {
        uint64_t d = inc ? ADB_SRV_INC_DEADLINE_S : ADB_SRV_FULL_DEADLINE_S;
        atomic_store_explicit(&conn->deadline_ns, adb_server_now_ns() + d * 1000000000ull,
                              memory_order_relaxed);
    }
    unsigned        st_code = rr ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK;
    enum MHD_Result q = MHD_queue_response(c, st_code, r);
    MHD_destroy_response(r); /* xfer_free runs when the transfer ends */
    adb_server_count_status(s, st_code);
    return q;
}

int
adb_server_snapshot(adb_srv_t *s, struct MHD_Connection *c, adb_srv_conn_t *conn, char const *url,
                    int *route_out) {
    *route_out = ADB_SRV_R_OTHER;
    char const *name = url[0] == '/' ? url + 1 : url;
    if (!strcmp(name, "snapshot.tar.bz2") || !strcmp(name, "incremental-snapshot.tar.bz2")) {
        *route_out = ADB_SRV_R_REDIRECT;
        return redirect(s, c, name[0] == 'i');
    }
    bool inc = false;
    if (url[0] != '/' || !adb_server_archive_name_ok(name, &inc) || s->snap_dirfd < 0)
        return adb_server_reply_text(c, s, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
    *route_out = ADB_SRV_R_ARCHIVE;
    return serve_archive(s, c, conn, name, inc);
}
