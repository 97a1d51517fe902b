/* src/net/server_private.h - what server.c, server_files.c and
 * server_metrics.c share: the server object, its connections and requests,
 * and its counters.  Nothing outside these three files includes it (tests
 * may, to reach the pure helpers at the end).
 *
 * THREADING MODEL
 *   libmicrohttpd runs one listening thread and one thread per connection
 *   (MHD_USE_THREAD_PER_CONNECTION), so a slow transfer only ever holds
 *   its own thread.  Callbacks of one connection (access handler, content
 *   readers, completion) run on that connection's thread; STARTED and
 *   CLOSED notifications run on the listening thread.  The watchdog
 *   thread (server.c) walks the connection list under mu and shuts down
 *   sockets that overstay (header timeout, transfer deadline); CLOSED
 *   unlinks a connection under mu before libmicrohttpd closes its socket,
 *   so the watchdog never touches a reused descriptor.  Counters are
 *   relaxed atomics. */
#ifndef ADB_NET_SERVER_PRIVATE_H
#define ADB_NET_SERVER_PRIVATE_H

#include "net/net.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

struct MHD_Connection;
struct MHD_Daemon;

/* Request routes: the label of the latency histogram and the counters. */
enum {
    ADB_SRV_R_RPC,
    ADB_SRV_R_ARCHIVE,  /* an archive by name */
    ADB_SRV_R_REDIRECT, /* /snapshot.tar.bz2, /incremental-snapshot.tar.bz2 */
    ADB_SRV_R_CHANGES,
    ADB_SRV_R_HEALTH,
    ADB_SRV_R_METRICS,
    ADB_SRV_R_OTHER, /* 404, 405, 413, 415, malformed */
    ADB_SRV_R_CNT
};

/* Latency buckets (seconds, upper bounds; +Inf implied). */
#define ADB_SRV_LAT_BUCKETS 17

/* Response bodies of archive transfers are read in blocks of this size
 * (the content reader's buffer, one per transfer). */
#define ADB_SRV_FILE_BLOCK_SZ (1024u << 10)
/* Change streams: the response's own buffer.  Chunked (HTTP/1.1) replies
 * never use it: libmicrohttpd has the reader fill the connection's write
 * buffer (from its pool) directly; only an HTTP/1.0 reader goes through
 * it, in these small steps. */
#define ADB_SRV_CHG_BLOCK_SZ 1024
/* At most this many archive transfers at once (then 503). */
#define ADB_SRV_XFER_MAX 64
/* A request's headers and body must arrive within this long of the
 * connection opening or the previous response ending (slowloris), or
 * idle_timeout_s if that is shorter. */
#define ADB_SRV_HEADER_TIMEOUT_S 10
/* Per-transfer deadlines (Agave's TimeoutStream fallbacks). */
#define ADB_SRV_FULL_DEADLINE_S 12000
#define ADB_SRV_INC_DEADLINE_S  250
/* /health says "behind" when the root, having advanced since the server
 * started, has not for this long (Agave's 128-slot health distance at
 * 400 ms a slot). */
#define ADB_SRV_HEALTH_STALE_MS 51200

/* One TCP connection (libmicrohttpd's socket context). */
typedef struct adb_srv_conn {
    struct adb_srv_conn *prev, *next;
    int                  fd;
    bool                 cut;         /* the watchdog shut it down (under mu) */
    _Atomic bool         receiving;   /* waiting for a request's headers/body */
    _Atomic uint64_t     phase_ns;    /* when receiving began */
    _Atomic uint64_t     deadline_ns; /* sending: cut after this (0: none) */
} adb_srv_conn_t;

/* One request (libmicrohttpd's con_cls). */
typedef struct adb_srv_req {
    int      route;
    bool     answered;
    bool     too_large; /* body over max_body_sz: discarded, 413 */
    uint64_t t0_ns;
    char    *body;
    size_t   body_sz, body_cap;
} adb_srv_req_t;

typedef struct adb_srv_hist {
    _Atomic uint64_t b[ADB_SRV_LAT_BUCKETS + 1]; /* last: +Inf */
    _Atomic uint64_t cnt, sum_ns;
} adb_srv_hist_t;

typedef struct adb_srv_counters {
    _Atomic uint64_t requests[ADB_SRV_R_CNT];
    _Atomic uint64_t status[6]; /* by class: 1xx .. 5xx (index 1..5) */
    adb_srv_hist_t   lat[ADB_SRV_R_CNT];
    _Atomic uint64_t bytes_in, bytes_out;
    _Atomic uint64_t conns_open, conns_total, conns_refused;
    _Atomic uint64_t cut_header, cut_deadline;
    _Atomic uint64_t body_too_large;
    _Atomic uint64_t streams_open, streams_total, streams_too_old, streams_bytes;
    _Atomic uint64_t xfers_open, xfers_total, xfers_refused, archives_sent, archive_bytes;
    _Atomic uint64_t rpc_waiting, rpc_running;
} adb_srv_counters_t;

struct acctdb_server {
    acctdb_db_t         *db;
    acctdb_server_opts_t o;
    char                *addr, *snapshot_dir, *genesis_path; /* copies */
    int                  snap_dirfd;                         /* -1: no snapshot dir */
    uint16_t             port;
    struct MHD_Daemon   *mhd;
    adb_rpc_t           *rpc;
    adb_changes_t       *chg;
    bool                 hook_set;
    uint64_t             start_ns;
    uint64_t             header_timeout_ns;

    /* connections, for the watchdog */
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    adb_srv_conn_t *conns;
    bool            stopping;
    bool            has_watchdog;
    pthread_t       watchdog;
    _Atomic bool    shutting_down; /* content readers end early */

    /* The JSON-RPC workers (o.threads of them; none: connection threads
     * run their own requests): the database sees only these threads as
     * readers, however many connections are open. */
    pthread_mutex_t     rpc_mu;
    pthread_cond_t      rpc_cv;
    struct adb_srv_job *rpc_head, *rpc_tail;
    bool                rpc_stop;
    pthread_t          *rpc_workers;
    unsigned            rpc_worker_cnt;

    /* /health: the root and when it last moved */
    _Atomic uint64_t root_slot, root_moved_ns;
    _Atomic bool     root_moved;

    adb_srv_counters_t c;
};

typedef struct acctdb_server adb_srv_t;

uint64_t adb_server_now_ns(void);

/* Counts a response of status st (by class). */
void adb_server_count_status(adb_srv_t *s, unsigned st);

/* Queues a small text response (copied); returns libmicrohttpd's result. */
int adb_server_reply_text(struct MHD_Connection *c, adb_srv_t *s, unsigned status,
                          char const *content_type, char const *body);

/* ---- server_files.c ------------------------------------------------------ */

/* Serves GET/HEAD of a snapshot path (url starts with '/').  Returns
 * libmicrohttpd's result; *route_out the route it counts as. */
int adb_server_snapshot(adb_srv_t *s, struct MHD_Connection *c, adb_srv_conn_t *conn,
                        char const *url, int *route_out);

/* Whether url (without the leading '/') names an archive the way Agave's
 * regexes do:
 *   ^snapshot-\d+-[[:alnum:]]+\.(tar\.zst|tar\.lz4)$
 *   ^incremental-snapshot-\d+-\d+-[[:alnum:]]+\.(tar\.zst|tar\.lz4)$
 * (ASCII only, at most 255 bytes).  *is_inc_out (may be NULL) tells which. */
bool adb_server_archive_name_ok(char const *name, bool *is_inc_out);

/* A Range header against a body of size bytes: 0 when the header is
 * absent, malformed, or asks for several ranges (serve it all, 200); 1
 * with [*first_out, *last_out] (inclusive, clamped to the size) for one
 * satisfiable range (206); -1 when the one range is unsatisfiable (416). */
int adb_server_range_parse(char const *hdr, uint64_t size, uint64_t *first_out, uint64_t *last_out);

/* ---- server_metrics.c ---------------------------------------------------- */

/* The Prometheus text exposition of every counter (adb_malloc'ed,
 * *len_out bytes), or NULL when out of memory. */
char *adb_server_metrics(adb_srv_t *s, size_t *len_out);

/* "ok" or "behind" (see ADB_SRV_HEALTH_STALE_MS). */
char const *adb_server_health(adb_srv_t *s);

/* Records a latency of ns for route r. */
void adb_server_lat_record(adb_srv_t *s, int r, uint64_t ns);

#endif
