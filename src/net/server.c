/* src/net/server.c - acctdb_server_*: the network service's HTTP front on
 * libmicrohttpd, one thread per connection.
 *
 *   POST /                        JSON-RPC (rpc.c), at most o.threads at once
 *   GET|HEAD /snapshot.tar.bz2    303 to the newest full archive   (server_files.c)
 *   GET|HEAD /incremental-snapshot.tar.bz2   303 to the newest incremental on it
 *   GET|HEAD /<archive name>      the archive (Range, rate limit, deadline)
 *   GET|HEAD /health              "ok" | "behind"
 *   GET|HEAD /metrics             Prometheus text                  (server_metrics.c)
 *   GET /changes?from_slot=S      the change stream (changes.c)
 *   anything else                 404, or 405 for other methods
 *
 * A request's life (one connection thread runs all of it):
 *
 *   STARTED (listening thread): conn registered, receiving since now
 *     │
 *   on_request, first call: headers complete; POST: Content-Length over
 *     │ max_body_sz -> 413 at once (the body is never read: libmicrohttpd
 *     │ closes after the reply), other Content-Type -> 415
 *   on_request, body chunks: appended up to max_body_sz, then 413
 *     │
 *   on_request, last call: route -> queue the response; receiving ends
 *     │ (the watchdog's deadline for an archive starts)
 *   content readers (archives, change streams) run as the socket drains
 *     │
 *   on_completed: latency recorded, request freed, receiving again
 *     │
 *   CLOSED (listening thread): conn unlinked (before its socket closes)
 *
 * Invariants:
 *   1. A connection spends at most header_timeout receiving one request
 *      (headers and body), counted from its start or the previous
 *      response's end: the watchdog shuts the socket down otherwise
 *      (slowloris, half-open, dripping bodies).  idle_timeout_s
 *      (libmicrohttpd's) cuts a connection that makes no progress at all,
 *      sending included: a stalled reader of a stream or archive.
 *   2. No request body above max_body_sz is held: a declared length over
 *      it is refused before reading; an undeclared (chunked) one stops
 *      being kept at the limit.
 *   3. Memory per connection is bounded by libmicrohttpd's pool
 *      (CONN_MEMORY_SZ: the request's headers, and a change stream's
 *      chunks, which the reader writes into it directly), one response
 *      buffer (ADB_SRV_FILE_BLOCK_SZ for an archive, the JSON-RPC
 *      response, 1 KiB for a change stream) and the change reader's own
 *      state (at most 64 KiB, net.h).
 *   4. The root hook is installed only while the change window exists:
 *      set after adb_changes_new, removed before adb_changes_free. */
#include "net/server_private.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <semaphore.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* libmicrohttpd's per-connection pool: request headers must fit in it
 * (431 otherwise) and request bodies pass through it in chunks. */
#define CONN_MEMORY_SZ (32u << 10)
/* The watchdog's period. */
#define WATCHDOG_MS 100

uint64_t
adb_server_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

#define INC(x)    atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define DEC(x)    atomic_fetch_sub_explicit(&(x), 1, memory_order_relaxed)
#define ADD(x, n) atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)

/* ---- options ---------------------------------------------------------------- */

void
acctdb_server_opts_default(acctdb_server_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->addr = "127.0.0.1:8899";
    o->history_slots = 600;
    o->history_max_sz = 256ull << 20;
    o->threads = 4;
    o->max_connections = 1024;
    o->idle_timeout_s = 30;
    o->max_body_sz = 50u << 10;
    o->max_response_sz = 64ull << 20;
    o->max_batch = 100;
}

/* "IP:PORT" or "[IPv6]:PORT" into a socket address. */
static int
parse_addr(char const *addr, struct sockaddr_storage *ss, socklen_t *len, bool *v6, char *msg,
           size_t max) {
    char        host[64];
    char const *port;
    memset(ss, 0, sizeof *ss);
    if (addr[0] == '[') {
        char const *close = strchr(addr, ']');
        if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof host) goto bad;
        memcpy(host, addr + 1, (size_t)(close - addr - 1));
        host[close - addr - 1] = 0;
        port = close + 2;
        *v6 = true;
    } else {
        char const *colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof host) goto bad;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = 0;
        port = colon + 1;
        *v6 = false;
    }
    unsigned long p = 0;
    if (!*port || strlen(port) > 5) goto bad;
    for (char const *q = port; *q; q++) {
        if (*q < '0' || *q > '9') goto bad;
        p = p * 10 + (unsigned long)(*q - '0');
    }
    if (p > 65535) goto bad;
    if (*v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)p);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) goto bad;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)p);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) goto bad;
        *len = sizeof *a;
    }
    return 0;
bad:
    snprintf(msg, max, "server: address '%s' is not IP:PORT (or [IPv6]:PORT)", addr);
    return ACCTDB_ERR_INVALID;
}

static int
check_opts(acctdb_server_opts_t const *o, char *msg, size_t max) {
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(msg, max, __VA_ARGS__);                                                           \
        return ACCTDB_ERR_INVALID;                                                                 \
    } while (0)
    if (!o->addr) BAD("server: no address");
    if (o->history_slots == 0) BAD("server: history_slots must be at least 1");
    if (o->history_max_sz < (1u << 20)) BAD("server: history_max_sz must be at least 1 MiB");
    if (o->threads > 1024) BAD("server: threads %u is over 1024", o->threads);
    if (o->max_connections == 0 || o->max_connections > 65536)
        BAD("server: max_connections %u is not 1 to 65536", o->max_connections);
    if (o->idle_timeout_s == 0 || o->idle_timeout_s > 86400)
        BAD("server: idle_timeout_s %u is not 1 to 86400", o->idle_timeout_s);
    if (o->max_body_sz == 0 || o->max_body_sz > (64u << 20))
        BAD("server: max_body_sz %llu is not 1 to 64 MiB", (unsigned long long)o->max_body_sz);
    if (o->max_response_sz < 1024) BAD("server: max_response_sz must be at least 1 KiB");
    if (o->max_batch == 0) BAD("server: max_batch must be at least 1");
    return 0;
#undef BAD
}

/* ---- responses ------------------------------------------------------------------ */

void
adb_server_count_status(adb_srv_t *s, unsigned st) {
    unsigned k = st / 100;
    if (k >= 1 && k <= 5) INC(s->c.status[k]);
}

int
adb_server_reply_text(struct MHD_Connection *c, adb_srv_t *s, unsigned status,
                      char const *content_type, char const *body) {
    size_t               n = strlen(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    adb_server_count_status(s, status);
    ADD(s->c.bytes_out, n);
    return rc;
}

static adb_srv_conn_t *
conn_of(struct MHD_Connection *c) {
    union MHD_ConnectionInfo const *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (adb_srv_conn_t *)ci->socket_context : NULL;
}

/* The request is answered: the connection stops counting as receiving. */
static void
sending(adb_srv_conn_t *conn) {
    if (!conn) return;
    atomic_store_explicit(&conn->receiving, false, memory_order_relaxed);
}

/* ---- JSON-RPC ------------------------------------------------------------------- */

/* One request handed to a worker; the connection thread waits on done. */
typedef struct adb_srv_job {
    struct adb_srv_job *next;
    char const         *body;
    size_t              len;
    char               *resp;
    size_t              resp_sz;
    int                 st;
    sem_t               done;
} adb_srv_job_t;

static void
rpc_run(adb_srv_t *s, adb_srv_job_t *j) {
    INC(s->c.rpc_running);
    j->st = adb_rpc_handle(s->rpc, j->body, j->len, &j->resp, &j->resp_sz);
    DEC(s->c.rpc_running);
}

static void *
rpc_worker(void *arg) {
    adb_srv_t *s = arg;
    pthread_mutex_lock(&s->rpc_mu);
    for (;;) {
        while (!s->rpc_head && !s->rpc_stop)
            pthread_cond_wait(&s->rpc_cv, &s->rpc_mu);
        if (!s->rpc_head) break; /* stopping, and nothing left */
        adb_srv_job_t *j = s->rpc_head;
        s->rpc_head = j->next;
        if (!s->rpc_head) s->rpc_tail = NULL;
        pthread_mutex_unlock(&s->rpc_mu);
        DEC(s->c.rpc_waiting);
        rpc_run(s, j);
        sem_post(&j->done);
        pthread_mutex_lock(&s->rpc_mu);
    }
    pthread_mutex_unlock(&s->rpc_mu);
    return NULL;
}

/* Runs one request on a worker (or here, without workers). */
static void
rpc_call(adb_srv_t *s, adb_srv_job_t *j) {
    if (!s->rpc_worker_cnt) {
        rpc_run(s, j);
        return;
    }
    sem_init(&j->done, 0, 0);
    INC(s->c.rpc_waiting);
    pthread_mutex_lock(&s->rpc_mu);
    j->next = NULL;
    if (s->rpc_tail)
        s->rpc_tail->next = j;
    else
        s->rpc_head = j;
    s->rpc_tail = j;
    pthread_cond_signal(&s->rpc_cv);
    pthread_mutex_unlock(&s->rpc_mu);
    while (sem_wait(&j->done) && errno == EINTR) {
    }
    sem_destroy(&j->done);
}

static void
free_cb(void *p) {
    adb_free(p);
}

static int
serve_rpc(adb_srv_t *s, struct MHD_Connection *c, adb_srv_req_t *rq) {
    adb_srv_job_t j = {.body = rq->body ? rq->body : "", .len = rq->body_sz};
    rpc_call(s, &j);
    char  *resp = j.resp;
    size_t resp_sz = j.resp_sz;
    int    st = j.st;
    if (st < 100 || st > 599) st = MHD_HTTP_INTERNAL_SERVER_ERROR;
    struct MHD_Response *r =
        resp ? MHD_create_response_from_buffer_with_free_callback(resp_sz, resp, free_cb)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        adb_free(resp);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)st, r);
    MHD_destroy_response(r);
    adb_server_count_status(s, (unsigned)st);
    ADD(s->c.bytes_out, resp_sz);
    return rc;
}

/* The media type of a Content-Type value is application/json (any case,
 * parameters such as charset allowed). */
static bool
is_json_type(char const *v) {
    while (*v == ' ' || *v == '\t')
        v++;
    static char const want[] = "application/json";
    if (strncasecmp(v, want, sizeof want - 1)) return false;
    v += sizeof want - 1;
    while (*v == ' ' || *v == '\t')
        v++;
    return *v == 0 || *v == ';';
}

/* Strict decimal u64 (no sign, no space, at most 20 digits, no overflow). */
static bool
parse_u64(char const *p, uint64_t *out) {
    if (!p || !*p || strlen(p) > 20) return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* URL unescaping (libmicrohttpd calls it on the path and each query
 * argument): only escapes of unreserved characters (RFC 3986: letters,
 * digits, "-._~") are decoded; any other escape stays as written, so
 * "%00", "%2f" or "%5c" never become a NUL or a separator, and a path
 * holding one matches no route. */
static int
hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t
unescape(void *cls, struct MHD_Connection *c, char *s) {
    (void)cls, (void)c;
    char *w = s;
    for (char const *r = s; *r;) {
        int hi = r[0] == '%' ? hexval(r[1]) : -1, lo = hi >= 0 ? hexval(r[2]) : -1;
        if (lo >= 0) {
            char v = (char)(hi * 16 + lo);
            if ((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') ||
                v == '-' || v == '.' || v == '_' || v == '~') {
                *w++ = v;
                r += 3;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = 0;
    return (size_t)(w - s);
}

/* ---- the change stream ------------------------------------------------------------ */

typedef struct chg_stream {
    adb_srv_t            *s;
    adb_changes_reader_t *r;
} chg_stream_t;

static ssize_t
chg_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    chg_stream_t *cs = cls;
    if (atomic_load_explicit(&cs->s->shutting_down, memory_order_relaxed))
        return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = adb_changes_reader_read(cs->r, (uint8_t *)buf, max, 1000);
    if (n > 0) {
        ADD(cs->s->c.bytes_out, (uint64_t)n);
        ADD(cs->s->c.streams_bytes, (uint64_t)n);
        return n;
    }
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
chg_free(void *cls) {
    chg_stream_t *cs = cls;
    adb_changes_reader_close(cs->r);
    DEC(cs->s->c.streams_open);
    adb_free(cs);
}

static int
serve_changes(adb_srv_t *s, struct MHD_Connection *c) {
    char const *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from_slot");
    uint64_t    from = 0;
    if (!parse_u64(v, &from))
        return adb_server_reply_text(c, s, MHD_HTTP_BAD_REQUEST, "application/json",
                                     "{\"error\":\"from_slot must be a decimal slot number\"}");
    chg_stream_t *cs = adb_calloc(1, sizeof *cs);
    if (!cs)
        return adb_server_reply_text(c, s, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                                     "{\"error\":\"out of memory\"}");
    uint64_t oldest = 0;
    int      rc = adb_changes_reader_open(s->chg, from, &cs->r, &oldest);
    /* An empty window cannot say what it lacks; the database can: nothing
     * was rooted since the server started, so the slots after from_slot
     * up to the root will never be sent. */
    adb_changes_stats_t st;
    adb_changes_stats(s->chg, &st);
    uint64_t root = acctdb_db_root_slot(s->db, NULL);
    if (!rc && st.slots == 0 && from < root) {
        adb_changes_reader_close(cs->r);
        rc = ACCTDB_ERR_TOO_OLD;
        oldest = root + 1;
    }
    if (rc) {
        adb_free(cs);
        char body[128];
        if (rc == ACCTDB_ERR_TOO_OLD) {
            INC(s->c.streams_too_old);
            snprintf(body, sizeof body, "{\"error\":\"SlotTooOld\",\"oldest_slot\":%llu}",
                     (unsigned long long)oldest);
            return adb_server_reply_text(c, s, MHD_HTTP_GONE, "application/json", body);
        }
        snprintf(body, sizeof body, "{\"error\":\"%s\"}", acctdb_strerror(rc));
        return adb_server_reply_text(
            c, s, rc == ACCTDB_ERR_INVALID ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_SERVICE_UNAVAILABLE,
            "application/json", body);
    }
    cs->s = s;
    INC(s->c.streams_open);
    INC(s->c.streams_total);
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, ADB_SRV_CHG_BLOCK_SZ, chg_read, cs, chg_free);
    if (!r) {
        chg_free(cs);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r); /* chg_free runs when the stream ends */
    adb_server_count_status(s, MHD_HTTP_OK);
    return q;
}

/* ---- /health and /metrics --------------------------------------------------------- */

static void
root_hook(void *ctx, acctdb_slot_changes_t const *sc) {
    adb_srv_t *s = ctx;
    atomic_store_explicit(&s->root_slot, sc->slot, memory_order_relaxed);
    atomic_store_explicit(&s->root_moved_ns, adb_server_now_ns(), memory_order_relaxed);
    atomic_store_explicit(&s->root_moved, true, memory_order_relaxed);
    adb_changes_hook(s->chg, sc);
}

static char const *
server_health_cb(void *ctx) {
    return adb_server_health(ctx);
}

char const *
adb_server_health(adb_srv_t *s) {
    if (!atomic_load_explicit(&s->root_moved, memory_order_relaxed)) return "ok";
    uint64_t moved = atomic_load_explicit(&s->root_moved_ns, memory_order_relaxed);
    uint64_t now = adb_server_now_ns();
    return now - moved > (uint64_t)ADB_SRV_HEALTH_STALE_MS * 1000000ull ? "behind" : "ok";
}

static int
serve_metrics(adb_srv_t *s, struct MHD_Connection *c) {
    size_t len = 0;
    char  *text = adb_server_metrics(s, &len);
    if (!text)
        return adb_server_reply_text(c, s, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                                     "out of memory\n");
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, text, free_cb);
    if (!r) {
        adb_free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    adb_server_count_status(s, MHD_HTTP_OK);
    ADD(s->c.bytes_out, len);
    return rc;
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------- */

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
              enum MHD_ConnectionNotificationCode toe) {
    adb_srv_t *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        adb_srv_conn_t                 *conn = adb_calloc(1, sizeof *conn);
        union MHD_ConnectionInfo const *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        INC(s->c.conns_total);
        INC(s->c.conns_open);
        if (!conn || !ci) { /* not watched: libmicrohttpd's idle timeout still applies */
            adb_free(conn);
            *socket_ctx = NULL;
            return;
        }
        conn->fd = ci->connect_fd;
        conn->phase_ns = adb_server_now_ns();
        conn->receiving = true;
        pthread_mutex_lock(&s->mu);
        conn->next = s->conns;
        if (s->conns) s->conns->prev = conn;
        s->conns = conn;
        pthread_mutex_unlock(&s->mu);
        *socket_ctx = conn;
        return;
    }
    /* MHD_CONNECTION_NOTIFY_CLOSED: before libmicrohttpd closes the socket */
    DEC(s->c.conns_open);
    adb_srv_conn_t *conn = *socket_ctx;
    if (!conn) return;
    pthread_mutex_lock(&s->mu);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        s->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    pthread_mutex_unlock(&s->mu);
    *socket_ctx = NULL;
    adb_free(conn);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe) {
    (void)toe;
    adb_srv_t     *s = cls;
    adb_srv_req_t *rq = *con_cls;
    if (rq) {
        adb_server_lat_record(s, rq->route, adb_server_now_ns() - rq->t0_ns);
        adb_free(rq->body);
        adb_free(rq);
        *con_cls = NULL;
    }
    adb_srv_conn_t *conn = conn_of(c);
    if (conn) {
        atomic_store_explicit(&conn->deadline_ns, 0, memory_order_relaxed);
        atomic_store_explicit(&conn->phase_ns, adb_server_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&conn->receiving, true, memory_order_relaxed);
    }
}

/* Routes a complete request. */
static int
route(adb_srv_t *s, struct MHD_Connection *c, adb_srv_conn_t *conn, adb_srv_req_t *rq,
      char const *url, char const *method) {
    bool is_get = !strcmp(method, MHD_HTTP_METHOD_GET);
    bool is_head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
    if (!strcmp(method, MHD_HTTP_METHOD_POST)) {
        if (strcmp(url, "/")) {
            rq->route = ADB_SRV_R_OTHER;
            return adb_server_reply_text(c, s, MHD_HTTP_NOT_FOUND, "text/plain",
                                         "JSON-RPC is served at POST /\n");
        }
        if (rq->too_large) {
            rq->route = ADB_SRV_R_OTHER;
            INC(s->c.body_too_large);
            return adb_server_reply_text(c, s, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain",
                                         "request body too large\n");
        }
        rq->route = ADB_SRV_R_RPC;
        return serve_rpc(s, c, rq);
    }
    if (!is_get && !is_head) {
        rq->route = ADB_SRV_R_OTHER;
        return adb_server_reply_text(c, s, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                                     "method not allowed\n");
    }
    if (!strcmp(url, "/health")) {
        rq->route = ADB_SRV_R_HEALTH;
        return adb_server_reply_text(c, s, MHD_HTTP_OK, "text/plain", adb_server_health(s));
    }
    if (!strcmp(url, "/metrics")) {
        rq->route = ADB_SRV_R_METRICS;
        return serve_metrics(s, c);
    }
    if (!strcmp(url, "/changes")) {
        rq->route = ADB_SRV_R_CHANGES;
        if (!is_get)
            return adb_server_reply_text(c, s, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                                         "GET /changes?from_slot=S\n");
        return serve_changes(s, c);
    }
    int r = ADB_SRV_R_OTHER;
    int rc = adb_server_snapshot(s, c, conn, url, &r);
    rq->route = r;
    return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, char const *url, char const *method,
           char const *version, char const *upload, size_t *upload_sz, void **con_cls) {
    (void)version;
    adb_srv_t     *s = cls;
    adb_srv_req_t *rq = *con_cls;
    if (!rq) { /* first call: the headers are in */
        rq = adb_calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        rq->t0_ns = adb_server_now_ns();
        rq->route = ADB_SRV_R_OTHER;
        *con_cls = rq;
        bool        is_post = !strcmp(method, MHD_HTTP_METHOD_POST);
        char const *cl =
            is_post ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length") : NULL;
        char const *ct =
            is_post ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type") : NULL;
        uint64_t n = 0;
        if (is_post && cl && parse_u64(cl, &n) && n > s->o.max_body_sz) {
            /* Refused before a byte of the body is read (libmicrohttpd
             * discards the rest and closes after this reply). */
            rq->answered = true;
            INC(s->c.requests[ADB_SRV_R_OTHER]);
            INC(s->c.body_too_large);
            sending(conn_of(c));
            return adb_server_reply_text(c, s, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain",
                                         "request body too large\n");
        }
        if (is_post && ct && !is_json_type(ct) && !strcmp(url, "/")) {
            rq->answered = true;
            INC(s->c.requests[ADB_SRV_R_OTHER]);
            sending(conn_of(c));
            return adb_server_reply_text(c, s, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "text/plain",
                                         "Content-Type must be application/json\n");
        }
        if (is_post && n) { /* declared length within the limit: one buffer */
            rq->body = adb_malloc((size_t)n + 1);
            if (!rq->body) return MHD_NO;
            rq->body_cap = (size_t)n + 1;
        }
        return MHD_YES;
    }
    if (*upload_sz) { /* a body chunk */
        size_t k = *upload_sz;
        *upload_sz = 0;
        ADD(s->c.bytes_in, k);
        if (rq->answered || rq->too_large) return MHD_YES;
        if (rq->body_sz + k > s->o.max_body_sz) { /* stop keeping it; 413 at the end */
            rq->too_large = true;
            adb_free(rq->body);
            rq->body = NULL;
            rq->body_sz = rq->body_cap = 0;
            return MHD_YES;
        }
        if (rq->body_sz + k + 1 > rq->body_cap) {
            size_t cap = rq->body_cap ? rq->body_cap : 1024;
            while (cap < rq->body_sz + k + 1)
                cap *= 2;
            if (cap > s->o.max_body_sz + 1) cap = (size_t)s->o.max_body_sz + 1;
            char *nb = adb_realloc(rq->body, cap);
            if (!nb) return MHD_NO;
            rq->body = nb;
            rq->body_cap = cap;
        }
        memcpy(rq->body + rq->body_sz, upload, k);
        rq->body_sz += k;
        rq->body[rq->body_sz] = 0;
        return MHD_YES;
    }
    if (rq->answered) return MHD_YES;
    rq->answered = true;
    adb_srv_conn_t *conn = conn_of(c);
    sending(conn);
    int rc = route(s, c, conn, rq, url, method);
    INC(s->c.requests[rq->route]);
    return rc == MHD_YES ? MHD_YES : MHD_NO;
}

/* ---- the watchdog ----------------------------------------------------------------- */

static void *
watchdog_main(void *arg) {
    adb_srv_t *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCHDOG_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->stopping) break;
        uint64_t now = adb_server_now_ns();
        for (adb_srv_conn_t *conn = s->conns; conn; conn = conn->next) {
            if (conn->cut) continue;
            bool     rx = atomic_load_explicit(&conn->receiving, memory_order_relaxed);
            uint64_t ph = atomic_load_explicit(&conn->phase_ns, memory_order_relaxed);
            uint64_t dl = atomic_load_explicit(&conn->deadline_ns, memory_order_relaxed);
            if (rx && now > ph && now - ph > s->header_timeout_ns) {
                INC(s->c.cut_header);
            } else if (!rx && dl && now > dl) {
                INC(s->c.cut_deadline);
            } else {
                continue;
            }
            conn->cut = true;
            shutdown(conn->fd, SHUT_RDWR); /* its thread sees EOF and closes it */
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- start / stop ------------------------------------------------------------------ */

static int
listen_on(acctdb_server_t *s, char *msg, size_t max, bool *v6) {
    struct sockaddr_storage ss;
    socklen_t               len = 0;
    ADB_TRY(parse_addr(s->addr, &ss, &len, v6, msg, max));
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, max, "server: socket: %s", strerror(e));
        return ACCTDB_ERR_IO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (*v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024)) {
        int e = errno;
        close(fd);
        snprintf(msg, max, "server: listen on %s: %s", s->addr, strerror(e));
        return ACCTDB_ERR_IO;
    }
    struct sockaddr_storage got;
    socklen_t               gl = sizeof got;
    getsockname(fd, (struct sockaddr *)&got, &gl);
    s->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                              : ((struct sockaddr_in *)&got)->sin_port);
    return fd;
}

int
acctdb_server_start(acctdb_server_t **srv_out, acctdb_db_t *db, acctdb_server_opts_t const *o,
                    char *msg_out, size_t msg_max) {
    char   scratch[16];
    char  *msg = msg_out && msg_max ? msg_out : scratch;
    size_t max = msg_out && msg_max ? msg_max : sizeof scratch;
    msg[0] = 0;
    if (!srv_out) return ACCTDB_ERR_INVALID;
    *srv_out = NULL;
    if (!db || !o) {
        snprintf(msg, max, "server: no database or options");
        return ACCTDB_ERR_INVALID;
    }
    ADB_TRY(check_opts(o, msg, max));

    adb_srv_t *s = adb_calloc(1, sizeof *s);
    if (!s) return ACCTDB_ERR_NOMEM;
    s->db = db;
    s->o = *o;
    s->snap_dirfd = -1;
    s->start_ns = adb_server_now_ns();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->rpc_mu, NULL);
    pthread_cond_init(&s->rpc_cv, NULL);
    uint64_t ht = ADB_MIN((uint64_t)ADB_SRV_HEADER_TIMEOUT_S, (uint64_t)o->idle_timeout_s);
    s->header_timeout_ns = ht * 1000000000ull;
    s->root_slot = acctdb_db_root_slot(db, NULL);
    int  rc = 0;
    bool v6 = false;
    int  lfd = -1;

    s->addr = adb_strdup(o->addr);
    s->snapshot_dir = o->snapshot_dir ? adb_strdup(o->snapshot_dir) : NULL;
    s->genesis_path = o->genesis_path ? adb_strdup(o->genesis_path) : NULL;
    if (!s->addr || (o->snapshot_dir && !s->snapshot_dir) ||
        (o->genesis_path && !s->genesis_path)) {
        rc = ACCTDB_ERR_NOMEM;
        goto cleanup;
    }
    s->o.addr = s->addr;
    s->o.snapshot_dir = s->snapshot_dir;
    s->o.genesis_path = s->genesis_path;

    if (s->snapshot_dir) {
        s->snap_dirfd = open(s->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->snap_dirfd < 0) {
            snprintf(msg, max, "server: snapshot directory %s: %s", s->snapshot_dir,
                     strerror(errno));
            rc = ACCTDB_ERR_INVALID;
            goto cleanup;
        }
    }
    adb_rpc_opts_t ro = {
        .db = db,
        .snapshot_dir = s->snapshot_dir,
        .max_body_sz = o->max_body_sz,
        .max_response_sz = o->max_response_sz,
        .max_batch = o->max_batch,
        .health = server_health_cb,
    };
    ro.health_ctx = s;
    if (s->genesis_path) {
        acctdb_genesis_info_t gi;
        char                  gm[256] = "";
        rc = acctdb_genesis_info(s->genesis_path, &gi, gm, sizeof gm);
        if (rc) {
            snprintf(msg, max, "server: genesis %s: %s", s->genesis_path,
                     gm[0] ? gm : acctdb_strerror(rc));
            rc = rc == ACCTDB_ERR_NOMEM ? rc : ACCTDB_ERR_INVALID;
            goto cleanup;
        }
        ro.has_genesis_hash = true;
        ro.genesis_hash = gi.hash;
    }
    adb_err_t e = {0};
    if ((rc = adb_rpc_new(&ro, &s->rpc, &e))) {
        snprintf(msg, max, "server: %s", e.msg[0] ? e.msg : acctdb_strerror(rc));
        goto cleanup;
    }
    adb_err_clear(&e);
    if ((rc = adb_changes_new(o->history_slots, o->history_max_sz, &s->chg, &e))) {
        snprintf(msg, max, "server: %s", e.msg[0] ? e.msg : acctdb_strerror(rc));
        goto cleanup;
    }
    if ((rc = acctdb_db_set_root_hook(db, root_hook, s))) {
        snprintf(msg, max, "server: root hook: %s", acctdb_db_errmsg(db));
        goto cleanup;
    }
    s->hook_set = true;
    if (o->threads) {
        s->rpc_workers = adb_calloc(o->threads, sizeof *s->rpc_workers);
        if (!s->rpc_workers) {
            rc = ACCTDB_ERR_NOMEM;
            goto cleanup;
        }
        for (unsigned i = 0; i < o->threads; i++) {
            if (pthread_create(&s->rpc_workers[i], NULL, rpc_worker, s)) {
                snprintf(msg, max, "server: cannot start JSON-RPC worker %u", i);
                rc = ACCTDB_ERR_NOMEM;
                goto cleanup;
            }
            s->rpc_worker_cnt++;
        }
    }

    if ((lfd = listen_on(s, msg, max, &v6)) < 0) {
        rc = lfd;
        lfd = -1;
        goto cleanup;
    }
    unsigned per_ip = ADB_MAX(1u, o->max_connections / 4);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD;
    if (v6) flags |= MHD_USE_IPv6;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)o->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_SZ,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
        MHD_OPTION_END);
    if (!s->mhd) {
        close(lfd);
        snprintf(msg, max, "server: libmicrohttpd did not start on %s", s->addr);
        rc = ACCTDB_ERR_IO;
        goto cleanup;
    }
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s)) {
        snprintf(msg, max, "server: cannot start the watchdog thread");
        rc = ACCTDB_ERR_NOMEM;
        goto cleanup;
    }
    s->has_watchdog = true;
    *srv_out = s;
    return 0;
cleanup:
    acctdb_server_stop(s);
    return rc;
}

uint16_t
acctdb_server_port(acctdb_server_t const *srv) {
    return srv ? srv->port : 0;
}

void
acctdb_server_stop(acctdb_server_t *s) {
    if (!s) return;
    if (s->hook_set) acctdb_db_set_root_hook(s->db, NULL, NULL);
    s->hook_set = false;
    atomic_store(&s->shutting_down, true);
    if (s->chg) adb_changes_shutdown(s->chg);
    if (s->mhd) MHD_stop_daemon(s->mhd); /* ends every connection, joins their threads */
    s->mhd = NULL;
    pthread_mutex_lock(&s->rpc_mu); /* no connection is left to queue a request */
    s->rpc_stop = true;
    pthread_cond_broadcast(&s->rpc_cv);
    pthread_mutex_unlock(&s->rpc_mu);
    for (unsigned i = 0; i < s->rpc_worker_cnt; i++)
        pthread_join(s->rpc_workers[i], NULL);
    adb_free(s->rpc_workers);
    if (s->has_watchdog) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->watchdog, NULL);
    }
    adb_changes_free(s->chg);
    adb_rpc_free(s->rpc);
    if (s->snap_dirfd >= 0) close(s->snap_dirfd);
    adb_free(s->addr);
    adb_free(s->snapshot_dir);
    adb_free(s->genesis_path);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->rpc_mu);
    pthread_cond_destroy(&s->rpc_cv);
    adb_free(s);
}

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

int
acctdb_server_stats(acctdb_server_t const *srv, acctdb_server_stats_t *out) {
    if (!out) return ACCTDB_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (!srv) return ACCTDB_ERR_INVALID;
    adb_srv_t *s = (adb_srv_t *)srv; /* counters only */
    for (int r = 0; r < ADB_SRV_R_CNT; r++)
        out->requests += LD(s->c.requests[r]);
    adb_rpc_stats_t rs = {0};
    adb_rpc_stats(s->rpc, &rs);
    out->rpc_calls = rs.calls;
    out->rpc_errors = rs.errors;
    out->bytes_in = LD(s->c.bytes_in);
    out->bytes_out = LD(s->c.bytes_out);
    out->connections_open = LD(s->c.conns_open);
    out->streams_open = LD(s->c.streams_open);
    out->archives_sent = LD(s->c.archives_sent);
    adb_changes_stats_t cs = {0};
    adb_changes_stats(s->chg, &cs);
    out->history_slots = cs.slots;
    out->history_oldest_slot = cs.oldest_slot;
    out->history_sz = cs.bytes;
    return 0;
}
