/* src/net/fetch.h - the download client's parts (private to src/net, the
 * tests and the fuzz target).
 *
 *   fetch_parse.c  pure functions over untrusted bytes, no I/O: the HTTP
 *                  response head, the redirect Location, archive names,
 *                  getHighestSnapshotSlot answers, SLOT:HASH, peer URLs,
 *                  and the minimum-speed window.  fuzz/fuzz_fetch.c drives
 *                  every one of them.
 *   fetch_http.c   libcurl under them: one request (strict head checks as
 *                  the head arrives, body caps, connect / first-byte / idle
 *                  timeouts), archive downloads into tmp-snapshot-archive-*
 *                  (free space, length, zstd frame check, fsync, rename,
 *                  directory fsync), and adb_fetch_stream.
 *   fetch.c        acctdb_bootstrap: probe, choose, download, blacklist,
 *                  known hashes, create.
 *
 * libcurl only moves bytes: it follows no redirect, decodes no content,
 * and every response head passes adb_fetch_head_parse before a body byte
 * is accepted. */
#ifndef ADB_NET_FETCH_H
#define ADB_NET_FETCH_H

#include "net/net.h"
#include "snapshot/naming.h"

/* ======================================================================== */
/* Response heads (fetch_parse.c)                                            */
/* ======================================================================== */

#define ADB_FETCH_HEAD_MAX     (16u << 10)  /* the whole head, status line to blank line */
#define ADB_FETCH_HEADERS_MAX  100          /* header fields in one head */
#define ADB_FETCH_LOCATION_MAX 1024         /* bytes of a Location value */
#define ADB_FETCH_LENGTH_MAX   (1ull << 46) /* 64 TiB: larger Content-Lengths are refused */

typedef struct adb_fetch_head {
    int      status;     /* 100..599 */
    int      http_minor; /* HTTP/1.0 or HTTP/1.1 */
    bool     has_length; /* Content-Length (every copy equal) */
    uint64_t length;
    bool     chunked; /* Transfer-Encoding: chunked (never with Content-Length) */
    bool     has_location;
    char     location[ADB_FETCH_LOCATION_MAX + 1]; /* NUL-terminated */
    bool     has_range;                            /* Content-Range: bytes F-L/T */
    uint64_t range_first, range_last, range_total;
    uint32_t fields; /* header fields seen */
} adb_fetch_head_t;

/* adb_fetch_head_parse: one complete response head, p[0..n): the status
 * line, header fields, and the blank line that ends it (CRLF, or a bare LF
 * like most clients accept).  Strict: at most ADB_FETCH_HEAD_MAX bytes and
 * ADB_FETCH_HEADERS_MAX fields; HTTP/1.0 or 1.1 with a 3-digit status in
 * 100..599; field names are tokens followed directly by ':'; values hold no
 * control byte but HTAB (no NUL, no bare CR); no obsolete line folding; a
 * Content-Length is digits only, at most ADB_FETCH_LENGTH_MAX, and equal in
 * every copy; a Transfer-Encoding is exactly "chunked" and never comes with
 * a Content-Length; a Content-Encoding other than "identity" is refused
 * (nothing is decoded); at most one Location, at most
 * ADB_FETCH_LOCATION_MAX bytes; a Content-Range is "bytes F-L/T" with
 * F <= L < T.  Bytes after the blank line are an error.  Returns 0 or
 * ACCTDB_ERR_CORRUPT (why in err); *out is zeroed first. */
int adb_fetch_head_parse(char const *p, size_t n, adb_fetch_head_t *out, adb_err_t *err);

/* adb_fetch_location_parse: the Location of a 303 from /snapshot.tar.bz2
 * (incremental false) or /incremental-snapshot.tar.bz2 (true).  Accepted
 * only when relative: an absolute path ("/snapshot-...") or a bare name,
 * made of segments of [A-Za-z0-9._-] with no "." or ".." segment, no
 * scheme, authority ("//"), query, fragment, percent-encoding or
 * backslash, at most 4 segments; and whose last segment parses as an
 * archive name of the wanted kind (adb_snap_name_parse).  *name_out gets
 * the parsed name and path_out (path_max bytes) the absolute path to GET
 * ("/" prepended to a bare name).  Returns 0 or ACCTDB_ERR_CORRUPT. */
int adb_fetch_location_parse(char const *loc, size_t n, bool incremental, adb_snap_name_t *name_out,
                             char *path_out, size_t path_max, adb_err_t *err);

/* adb_fetch_highest_parse: the body of a getHighestSnapshotSlot answer
 * (JSON-RPC 2.0, id 1): {"full":u64,"incremental":u64|null}.  *has_out is
 * false for the NoSnapshot error (-32008); any other error or shape is
 * CORRUPT.  Strict JSON (json-c strict mode, depth <= 8, at most 64 KiB,
 * nothing after the value); slots are integers from 0 to 2^63 - 2 (no
 * fraction, exponent or sign; json-c saturates larger ones), incremental >
 * full when present. */
int adb_fetch_highest_parse(char const *body, size_t n, bool *has_out, uint64_t *full_out,
                            bool *has_inc_out, uint64_t *inc_out, adb_err_t *err);

/* adb_fetch_known_parse: "SLOT:HASH" (decimal slot, base58 32-byte hash).
 * Returns 0 or ACCTDB_ERR_INVALID. */
int adb_fetch_known_parse(char const *s, size_t n, uint64_t *slot_out, acctdb_hash_t *hash_out,
                          adb_err_t *err);

/* adb_fetch_peer_parse: a peer's base URL: "http://HOST[:PORT]" or
 * "https://...", HOST a name ([A-Za-z0-9.-]), an IPv4 address or a
 * bracketed IPv6 one, PORT 1..65535, at most one trailing "/", no
 * userinfo, path, query or fragment.  norm_out (norm_max bytes) gets it
 * without the trailing "/".  Returns 0 or ACCTDB_ERR_INVALID. */
int adb_fetch_peer_parse(char const *url, size_t n, char *norm_out, size_t norm_max,
                         adb_err_t *err);

/* ======================================================================== */
/* The minimum-speed window (fetch_parse.c)                                  */
/* ======================================================================== */

/* A download's progress is sampled (time, bytes) as it goes; from half a
 * window after the warm-up (counted from the first body byte) the rate
 * over the last window_ns (at most back to the warm-up's end) is checked
 * against min_rate, and a peer is dropped only after
 * the windowed rate has stayed below the minimum for grace_ns (hysteresis:
 * one slow moment inside a good window is not enough, nor is a window that
 * only just dips).  Value object: init, then feed; no allocation. */
#define ADB_FETCH_SPEED_SAMPLES 256

typedef struct adb_fetch_speed {
    uint64_t min_rate; /* bytes/s; 0: never slow */
    uint64_t window_ns, warmup_ns, grace_ns, step_ns;
    uint64_t t0;     /* first sample (first body byte) */
    bool     has_t0; /* ... taken */
    uint64_t below_since;
    bool     is_below;
    uint32_t head, cnt; /* ring of samples */
    uint64_t t[ADB_FETCH_SPEED_SAMPLES], b[ADB_FETCH_SPEED_SAMPLES];
    double   rate;    /* the last windowed rate (bytes/s), once there is one */
    uint64_t span_ns; /* ... and the span it was measured over */
    bool     has_rate;
} adb_fetch_speed_t;

/* window_s 0 means 5; the warm-up is 1 s, the grace window_s / 5 (at
 * least 1 s). */
void adb_fetch_speed_init(adb_fetch_speed_t *s, uint64_t min_rate, uint32_t window_s);

/* adb_fetch_speed_feed: bytes received in total by now_ns (monotonic, not
 * decreasing; bytes not decreasing).  Returns true when the peer is too
 * slow (s->rate then holds the windowed rate that condemned it). */
bool adb_fetch_speed_feed(adb_fetch_speed_t *s, uint64_t now_ns, uint64_t bytes);

/* ======================================================================== */
/* Requests (fetch_http.c)                                                   */
/* ======================================================================== */

/* Why a transfer failed, for the "discarded because" counters. */
typedef enum adb_fetch_why {
    ADB_FETCH_OK = 0,
    ADB_FETCH_UNREACHABLE, /* connect failed or timed out, DNS */
    ADB_FETCH_TIMEOUT,     /* no first byte, or idle, or past the deadline */
    ADB_FETCH_PROTOCOL,    /* a head or body that broke the rules above */
    ADB_FETCH_STATUS,      /* an unexpected HTTP status */
    ADB_FETCH_SLOW,        /* below the minimum speed */
    ADB_FETCH_CORRUPT,     /* the archive failed its stream check */
    ADB_FETCH_LOCAL,       /* our side: disk full, I/O, memory */
    ADB_FETCH_ABORTED,     /* the caller's callback stopped it */
} adb_fetch_why_t;

char const *adb_fetch_why_str(adb_fetch_why_t w);

typedef struct adb_fetch_req {
    /* in */
    char const *url;
    char const *method;        /* "GET" (default), "HEAD" or "POST" */
    char const *post;          /* POST body (JSON) */
    char const *range;         /* "0-262143" for a Range request, or NULL */
    uint32_t    connect_s;     /* connect timeout (default 10) */
    uint32_t    first_s;       /* from connect to the end of the head (default 10) */
    uint32_t    idle_s;        /* no body byte for this long (default 30) */
    uint32_t    total_s;       /* whole request, 0: none */
    size_t      body_max;      /* body bytes kept in body (small requests) */
    uint64_t    stop_after;    /* stop (successfully) after this many body bytes; 0: no */
    bool        need_length;   /* a 2xx without Content-Length is refused */
    bool        body_truncate; /* a body over body_max ends the request (kept: the
                                * first body_max bytes); else it is an error */
    /* a sink for 2xx bodies (instead of body): non-zero return aborts */
    int (*sink)(void *ctx, void const *p, size_t n);
    void *sink_ctx;
    /* called about every 100 ms and at the end: non-zero aborts (ABORTED,
     * or the why the callback sets in the request) */
    int (*tick)(void *ctx, uint64_t now_ns, uint64_t body_bytes);
    void *tick_ctx;
    /* the caller's stop flag (may be NULL), read as the tick: non-zero
     * ends the request (ABORTED, STOPPED) */
    volatile int const *stop;
    /* out */
    adb_fetch_head_t head;
    bool             has_head;
    char            *body; /* adb_malloc'ed, NUL-terminated, body_sz bytes */
    size_t           body_sz;
    uint64_t         body_bytes; /* every body byte received */
    uint64_t         t_start_ns, t_head_ns, t_end_ns;
    adb_fetch_why_t  why;
    int              sink_rc; /* the sink's or tick's non-zero return */
    adb_err_t        err;
} adb_fetch_req_t;

/* adb_fetch_run: performs r (one request, no redirect followed).  Returns
 * 0 when a complete response arrived (any status: check r->head.status),
 * else an error (r->why, r->err): IO for the network and protocol, the
 * sink's code when it aborted.  Free with adb_fetch_req_fini. */
int  adb_fetch_run(adb_fetch_req_t *r);
void adb_fetch_req_fini(adb_fetch_req_t *r);

/* adb_fetch_run_many: runs n requests at once (the probes). */
void adb_fetch_run_many(adb_fetch_req_t **rs, size_t n);

/* adb_fetch_now_ns: CLOCK_MONOTONIC. */
uint64_t adb_fetch_now_ns(void);

/* ======================================================================== */
/* Archive downloads (fetch_http.c)                                          */
/* ======================================================================== */

typedef struct adb_fetch_dl {
    /* in */
    char const         *url;         /* the archive's URL */
    char const         *dir;         /* archive directory (exists) */
    char const         *name;        /* the archive name to rename to */
    uint64_t            min_speed;   /* bytes/s, 0: none */
    uint32_t            window_s;    /* the speed window */
    uint32_t            connect_s;   /* connect and first-byte timeouts */
    bool                frame_check; /* decompress as it arrives (zstd/lz4 stream check) */
    acctdb_progress_fn  progress;
    void               *progress_ctx;
    volatile int const *stop; /* non-zero: ends it (ABORTED, STOPPED), nothing left */
    /* out */
    char            path[4096]; /* dir/name once renamed */
    uint64_t        length;     /* Content-Length */
    uint64_t        received;   /* body bytes */
    double          rate;       /* bytes/s over the download (or the window that dropped it) */
    double          seconds;
    adb_fetch_why_t why;
    adb_err_t       err;
} adb_fetch_dl_t;

/* adb_fetch_download: GET url into dir/tmp-snapshot-archive-<random>
 * (created O_EXCL and flock'ed as the snapshot writer does, so its sweep
 * leaves a live download alone), then fsync, rename to dir/name, fsync of
 * dir.  Requires a 200 with Content-Length; checks free space (statvfs)
 * before the first byte is written; aborts on the minimum speed, first-
 * byte and idle timeouts, a body longer or shorter than announced, or
 * (frame_check) a stream that does not decompress or ends mid-frame.  On
 * any failure the temporary file is removed and no file named name is
 * left by this call.  Returns 0, or IO / CORRUPT / FULL (why in d->why and
 * d->err). */
int adb_fetch_download(adb_fetch_dl_t *d);

/* adb_fetch_sweep: removes dir's tmp-snapshot-archive-* files whose flock
 * is free (writers and downloads that died); returns how many. */
unsigned adb_fetch_sweep(char const *dir);

#endif
