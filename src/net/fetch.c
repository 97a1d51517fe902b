/* src/net/fetch.c - acctdb_bootstrap (include/acctdb.h): a database from
 * the best peer's snapshots.
 *
 * States, each a function below:
 *
 *   CHECK    options, peers, known hashes (two that disagree: MISMATCH),
 *            DIR absent or empty, the archive directory  (check_opts)
 *   PROBE    every peer at once: HEAD /snapshot.tar.bz2, HEAD
 *            /incremental-snapshot.tar.bz2 (303 + a relative Location
 *            naming an archive), POST / getHighestSnapshotSlot; the
 *            discarded counted by reason  (probe)
 *   TRUST    every archive name a peer advertised against the known
 *            hashes: one disagreement stops everything  (trust)
 *   FULL     the highest full slot first, then the fastest peer (a short
 *            Range read measures it); download; a slow, corrupt or
 *            misbehaving peer is dropped for the run, a failing one gets
 *            one more try  (get_full)
 *   INC      fresh HEADs of the incremental path on the peers with the same
 *            full archive, TRUST again, newest incremental first  (get_inc)
 *   CREATE   acctdb_db_create from the two archives (every check of
 *            acctdb snapshot verify); an archive that fails is blamed on
 *            its peer (blacklisted, file removed) and FULL or INC runs
 *            again; the verified lattice checksum against the known hash
 *            (create)
 *   DONE
 *
 * Invariants:
 *   1. Bounded: every download attempt either drops its peer for the run
 *      or counts against it (ATTEMPTS_MAX), and every CREATE that fails on
 *      an archive drops the peer it came from, so the loop ends after at
 *      most peers x ATTEMPTS_MAX downloads.
 *   2. Fail closed: a known hash that disagrees with an advertised archive
 *      name, another known hash or the verified lattice checksum returns
 *      MISMATCH, and the call then leaves no database and removes the
 *      archives it downloaded.
 *   3. Only verified state is left behind: DIR holds a database only after
 *      acctdb_db_create verified it; archives are renamed into place only
 *      when complete (fetch_http.c). */
#include "net/fetch.h"

#include "snapshot/stream.h"
#include "util/base58.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEERS_MAX    256
#define KNOWN_MAX    4096
#define ATTEMPTS_MAX 3            /* downloads per peer per run */
#define FAILS_MAX    2            /* failed downloads before a peer is dropped */
#define SAMPLE_SZ    (256u << 10) /* the speed sample: a Range read of the full archive */
#define PROBE_BATCH  64
#define RPC_BODY     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHighestSnapshotSlot\"}"

typedef enum drop {
    D_NONE = 0,
    D_UNREACHABLE,
    D_NO_SNAPSHOT,
    D_BAD_REDIRECT,
    D_PROTOCOL,
    D_STATUS,
    D_SLOW,
    D_BAD_ARCHIVE,
    D_FAILED,
    D_CNT
} drop_t;

static char const *const g_drop_names[D_CNT] = {
    "",
    "unreachable or timed out",
    "no snapshot",
    "an invalid redirect",
    "broke the HTTP rules",
    "an unexpected HTTP status",
    "too slow",
    "served an archive that failed verification",
    "downloads kept failing",
};

typedef struct peer {
    char            url[512];
    bool            has_full, has_inc;
    adb_snap_name_t full, inc;
    char            full_path[ADB_FETCH_LOCATION_MAX + 2], inc_path[ADB_FETCH_LOCATION_MAX + 2];
    bool            rpc_ok, rpc_has, rpc_has_inc;
    uint64_t        rpc_full, rpc_inc;
    double          latency_s;
    bool            sampled;
    double          speed; /* bytes/s of the sample */
    uint64_t        full_sz;
    drop_t          drop;
    unsigned        attempts, fails;
} peer_t;

typedef struct known {
    uint64_t      slot;
    acctdb_hash_t hash;
} known_t;

typedef struct boot {
    acctdb_bootstrap_opts_t const *o;
    acctdb_bootstrap_result_t     *res;
    peer_t                        *peers;
    size_t                         peer_cnt;
    known_t                       *known;
    size_t                         known_cnt;
    char                           archive_dir[4096];
    bool                           made_archive_dir, dir_existed;
    uint32_t                       connect_s;
    uint64_t                       t0;
    /* the archives in hand */
    peer_t         *full_peer, *inc_peer;
    adb_snap_name_t full_name, inc_name;
    char            full_file[4096], inc_file[4096];
    char            msg[1024];
    adb_err_t       err;
} boot_t;

/* ---- small helpers ------------------------------------------------------- */

static void logf_(boot_t *b, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
logf_(boot_t *b, char const *fmt, ...) {
    if (!b->o->log) return;
    char    line[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    b->o->log(b->o->log_ctx, line);
}

static int bfail(boot_t *b, int code, char const *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bfail(boot_t *b, int code, char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    adb_err_vset(&b->err, code, fmt, ap);
    va_end(ap);
    return code;
}

/* The caller's stop flag (a signal): checked between steps and, through
 * the requests, in every transfer. */
static bool
stopped(boot_t const *b) {
    return b->o->stop && *b->o->stop;
}

static int
stop_check(boot_t *b, char const *where) {
    return stopped(b) ? bfail(b, ACCTDB_ERR_STOPPED, "stopped %s (interrupted)", where) : 0;
}

static char const *
mib(uint64_t sz, char *buf, size_t max) {
    snprintf(buf, max, "%.1f MiB", (double)sz / 1048576.0);
    return buf;
}

static char const *
name_of(adb_snap_name_t const *n, char *buf, size_t max) {
    return adb_snap_name_format(n, buf, max);
}

static void drop_peer(boot_t *b, peer_t *p, drop_t why, char const *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
drop_peer(boot_t *b, peer_t *p, drop_t why, char const *fmt, ...) {
    char    detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (!p->drop) {
        p->drop = why;
        if (p->attempts) b->res->peers_dropped++;
    }
    logf_(b, "%s %s: %s", why == D_BAD_ARCHIVE ? "blacklisting" : "dropping", p->url, detail);
}

static drop_t
drop_of(adb_fetch_why_t w) {
    switch (w) {
    case ADB_FETCH_UNREACHABLE:
    case ADB_FETCH_TIMEOUT:
        return D_UNREACHABLE;
    case ADB_FETCH_PROTOCOL:
        return D_PROTOCOL;
    case ADB_FETCH_STATUS:
        return D_STATUS;
    case ADB_FETCH_SLOW:
        return D_SLOW;
    case ADB_FETCH_CORRUPT:
        return D_BAD_ARCHIVE;
    default:
        return D_FAILED;
    }
}

/* "3 peers, 3 discarded: 1 unreachable or timed out, 2 too slow" */
static void
reasons(boot_t const *b, char *out, size_t max) {
    size_t cnt[D_CNT] = {0}, dropped = 0;
    for (size_t i = 0; i < b->peer_cnt; i++)
        if (b->peers[i].drop) cnt[b->peers[i].drop]++, dropped++;
    size_t      o = (size_t)snprintf(out, max, "%zu peer%s, %zu discarded", b->peer_cnt,
                                b->peer_cnt == 1 ? "" : "s", dropped);
    char const *sep = ": ";
    for (int d = 1; d < D_CNT && o < max; d++) {
        if (!cnt[d]) continue;
        o += (size_t)snprintf(out + o, max - o, "%s%zu %s", sep, cnt[d], g_drop_names[d]);
        sep = ", ";
    }
}

static known_t const *
known_for(boot_t const *b, uint64_t slot) {
    for (size_t i = 0; i < b->known_cnt; i++)
        if (b->known[i].slot == slot) return &b->known[i];
    return NULL;
}

static int
rm_cb(char const *path, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)sb;
    if (ftw->level == 0) return 0;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Removes the database DIR this call created (its contents; DIR itself
 * when it did not exist before). */
static void
remove_db(boot_t *b) {
    nftw(b->o->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    if (!b->dir_existed) rmdir(b->o->dir);
}

/* Fail closed: the archives this call downloaded go, and the archive
 * directory when this call made it (and it is empty).  The ones in hand
 * are all there are: a failed download leaves nothing, and a blamed
 * archive is removed when it is blamed. */
static void
remove_downloads(boot_t *b) {
    if (b->full_file[0]) unlink(b->full_file);
    if (b->inc_file[0]) unlink(b->inc_file);
    b->full_file[0] = b->inc_file[0] = 0;
    if (b->made_archive_dir) rmdir(b->archive_dir);
}

/* ---- CHECK --------------------------------------------------------------- */

static int
check_dir(boot_t *b) {
    char const *dir = b->o->dir;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT) return bfail(b, ACCTDB_ERR_IO, "%s: %s", dir, acctdb_strerror(-errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) return bfail(b, ACCTDB_ERR_INVALID, "%s is not a directory", dir);
    DIR *d = opendir(dir);
    if (!d) return bfail(b, ACCTDB_ERR_IO, "%s: %s", dir, acctdb_strerror(-errno));
    struct dirent *e;
    bool           empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = false;
    closedir(d);
    if (!empty)
        return bfail(b, ACCTDB_ERR_INVALID,
                     "%s is not empty: bootstrap creates a new database (remove it first)", dir);
    b->dir_existed = true;
    return 0;
}

static int
check_archive_dir(boot_t *b) {
    char const *ad = b->o->archive_dir;
    if (ad && *ad) {
        if (snprintf(b->archive_dir, sizeof b->archive_dir, "%s", ad) >= (int)sizeof b->archive_dir)
            return bfail(b, ACCTDB_ERR_INVALID, "archive directory path too long");
    } else {
        /* DIR/../DIR.archives: a sibling named after DIR */
        size_t n = strlen(b->o->dir);
        while (n > 1 && b->o->dir[n - 1] == '/')
            n--;
        char const *base = b->o->dir;
        for (size_t i = 0; i < n; i++)
            if (b->o->dir[i] == '/') base = b->o->dir + i + 1;
        size_t bl = n - (size_t)(base - b->o->dir);
        if (bl == 0 || (bl == 1 && base[0] == '.') || (bl == 2 && base[0] == '.' && base[1] == '.'))
            return bfail(b, ACCTDB_ERR_INVALID,
                         "cannot name an archive directory after '%s': give one", b->o->dir);
        if (snprintf(b->archive_dir, sizeof b->archive_dir, "%.*s.archives", (int)n, b->o->dir) >=
            (int)sizeof b->archive_dir)
            return bfail(b, ACCTDB_ERR_INVALID, "archive directory path too long");
    }
    struct stat st;
    if (stat(b->archive_dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return bfail(b, ACCTDB_ERR_INVALID, "%s is not a directory", b->archive_dir);
        return 0;
    }
    if (errno != ENOENT)
        return bfail(b, ACCTDB_ERR_IO, "%s: %s", b->archive_dir, acctdb_strerror(-errno));
    return 0; /* made when the first download starts */
}

static int
make_archive_dir(boot_t *b) {
    if (mkdir(b->archive_dir, 0755) == 0) {
        b->made_archive_dir = true;
    } else if (errno != EEXIST) {
        return bfail(b, ACCTDB_ERR_IO, "cannot create %s: %s", b->archive_dir,
                     acctdb_strerror(-errno));
    }
    /* The archives must not live inside the database directory. */
    char ra[PATH_MAX], rd[PATH_MAX];
    if (realpath(b->archive_dir, ra) && realpath(b->o->dir, rd)) {
        size_t n = strlen(rd);
        if (!strncmp(ra, rd, n) && (ra[n] == '/' || ra[n] == 0))
            return bfail(b, ACCTDB_ERR_INVALID, "the archive directory %s is inside %s",
                         b->archive_dir, b->o->dir);
    }
    unsigned swept = adb_fetch_sweep(b->archive_dir);
    if (swept)
        logf_(b, "removed %u stale temporary download%s in %s", swept, swept > 1 ? "s" : "",
              b->archive_dir);
    return 0;
}

static int
check_opts(boot_t *b) {
    acctdb_bootstrap_opts_t const *o = b->o;
    if (!o->dir || !*o->dir) return bfail(b, ACCTDB_ERR_INVALID, "no database directory");
    if (!o->peer_cnt || !o->peers) return bfail(b, ACCTDB_ERR_INVALID, "no peer given");
    if (o->peer_cnt > PEERS_MAX)
        return bfail(b, ACCTDB_ERR_INVALID, "%zu peers (at most %d)", o->peer_cnt, PEERS_MAX);
    if (o->known_hash_cnt > KNOWN_MAX || (o->known_hash_cnt && !o->known_hashes))
        return bfail(b, ACCTDB_ERR_INVALID, "%zu known hashes (at most %d)", o->known_hash_cnt,
                     KNOWN_MAX);
    b->connect_s = o->connect_timeout_s ? o->connect_timeout_s : 10;
    b->peers = adb_calloc(o->peer_cnt, sizeof *b->peers);
    b->known = adb_calloc(o->known_hash_cnt ? o->known_hash_cnt : 1, sizeof *b->known);
    if (!b->peers || !b->known) return bfail(b, ACCTDB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < o->peer_cnt; i++) {
        char norm[512];
        if (!o->peers[i]) return bfail(b, ACCTDB_ERR_INVALID, "peer %zu is NULL", i);
        ADB_TRY(adb_fetch_peer_parse(o->peers[i], strlen(o->peers[i]), norm, sizeof norm, &b->err));
        bool dup = false;
        for (size_t k = 0; k < b->peer_cnt; k++)
            if (!strcmp(b->peers[k].url, norm)) dup = true;
        if (dup) {
            logf_(b, "%s: given twice, probed once", norm);
            continue;
        }
        snprintf(b->peers[b->peer_cnt++].url, sizeof b->peers[0].url, "%s", norm);
    }
    for (size_t i = 0; i < o->known_hash_cnt; i++) {
        known_t k;
        if (!o->known_hashes[i]) return bfail(b, ACCTDB_ERR_INVALID, "known hash %zu is NULL", i);
        ADB_TRY(adb_fetch_known_parse(o->known_hashes[i], strlen(o->known_hashes[i]), &k.slot,
                                      &k.hash, &b->err));
        known_t const *prev = known_for(b, k.slot);
        if (prev && memcmp(prev->hash.b, k.hash.b, 32)) {
            char h1[ACCTDB_BASE58_32_SZ], h2[ACCTDB_BASE58_32_SZ];
            return bfail(b, ACCTDB_ERR_MISMATCH,
                         "the known hashes disagree for slot %llu: %s and %s (refusing to choose)",
                         (unsigned long long)k.slot, adb_base58_encode_32(prev->hash.b, h1),
                         adb_base58_encode_32(k.hash.b, h2));
        }
        if (!prev) b->known[b->known_cnt++] = k;
    }
    ADB_TRY(check_dir(b));
    return check_archive_dir(b);
}

/* ---- PROBE --------------------------------------------------------------- */

static void
url_of(char *out, size_t max, peer_t const *p, char const *path) {
    snprintf(out, max, "%s%s", p->url, path);
}

/* A redirect answer to one of the two HEADs: 0 with the name, 1 for "none"
 * (404), or a drop reason. */
static drop_t
eval_redirect(boot_t *b, peer_t *p, adb_fetch_req_t *r, int rc, bool inc, adb_snap_name_t *name,
              char *path, size_t path_max, bool *has) {
    char const *what = inc ? "/incremental-snapshot.tar.bz2" : "/snapshot.tar.bz2";
    *has = false;
    if (rc) {
        logf_(b, "%s: %s: %s", p->url, what, r->err.msg);
        return drop_of(r->why);
    }
    int st = r->head.status;
    if (st == 404) return D_NONE;
    if (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) {
        logf_(b, "%s: %s: HTTP %d, expected 303 See Other", p->url, what, st);
        return D_STATUS;
    }
    if (!r->head.has_location) {
        logf_(b, "%s: %s: HTTP %d without a Location", p->url, what, st);
        return D_BAD_REDIRECT;
    }
    adb_err_t e = {0};
    if (adb_fetch_location_parse(r->head.location, strlen(r->head.location), inc, name, path,
                                 path_max, &e)) {
        logf_(b, "%s: %s: %s", p->url, what, e.msg);
        return D_BAD_REDIRECT;
    }
    *has = true;
    return D_NONE;
}

static int
probe(boot_t *b) {
    size_t            n = b->peer_cnt;
    adb_fetch_req_t  *rq = adb_calloc(n * 3, sizeof *rq);
    adb_fetch_req_t **rp = adb_calloc(n * 3, sizeof *rp);
    char(*urls)[600] = adb_calloc(n * 3, sizeof *urls);
    if (!rq || !rp || !urls) {
        adb_free(rq);
        adb_free(rp);
        adb_free(urls);
        return bfail(b, ACCTDB_ERR_NOMEM, "out of memory");
    }
    logf_(b, "probing %zu peer%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        static char const *const paths[3] = {"/snapshot.tar.bz2", "/incremental-snapshot.tar.bz2",
                                             "/"};
        for (int k = 0; k < 3; k++) {
            adb_fetch_req_t *r = &rq[i * 3 + (size_t)k];
            url_of(urls[i * 3 + (size_t)k], sizeof urls[0], &b->peers[i], paths[k]);
            r->url = urls[i * 3 + (size_t)k];
            r->method = k < 2 ? "HEAD" : "POST";
            r->post = k == 2 ? RPC_BODY : NULL;
            r->connect_s = b->connect_s;
            r->first_s = ADB_MAX(b->connect_s, 10u);
            r->total_s = b->connect_s + ADB_MAX(b->connect_s, 10u);
            r->body_max = k == 2 ? 64u << 10 : 0;
            r->stop = b->o->stop;
            rp[i * 3 + (size_t)k] = r;
        }
    }
    /* At most PROBE_BATCH peers at once (three requests each), so the
     * probe's sockets stay well under the usual 1024 descriptors. */
    for (size_t i = 0; i < n; i += PROBE_BATCH)
        adb_fetch_run_many(rp + i * 3, ADB_MIN(PROBE_BATCH, n - i) * 3);
    for (size_t i = 0; i < n && !stopped(b); i++) { /* stopped: nothing to judge them by */
        peer_t          *p = &b->peers[i];
        adb_fetch_req_t *rf = &rq[i * 3], *ri = &rq[i * 3 + 1], *rr = &rq[i * 3 + 2];
        int              rcf = rf->why ? -1 : 0, rci = ri->why ? -1 : 0;
        p->latency_s = (double)(rf->t_end_ns - rf->t_start_ns) / 1e9;
        drop_t d = eval_redirect(b, p, rf, rcf, false, &p->full, p->full_path, sizeof p->full_path,
                                 &p->has_full);
        if (!d && !p->has_full) d = D_NO_SNAPSHOT;
        drop_t di = D_NONE;
        if (!d)
            di = eval_redirect(b, p, ri, rci, true, &p->inc, p->inc_path, sizeof p->inc_path,
                               &p->has_inc);
        if (!d && di == D_BAD_REDIRECT) d = di; /* a hostile redirect discards the peer */
        if (!d && p->has_inc && p->inc.base_slot != p->full.slot) {
            char nm[160];
            logf_(b, "%s: ignoring %s: its base is not the full slot %llu", p->url,
                  name_of(&p->inc, nm, sizeof nm), (unsigned long long)p->full.slot);
            p->has_inc = false;
        }
        /* getHighestSnapshotSlot: a cross-check, not a requirement */
        if (!rr->why && rr->has_head && rr->head.status == 200) {
            adb_err_t e = {0};
            if (adb_fetch_highest_parse(rr->body, rr->body_sz, &p->rpc_has, &p->rpc_full,
                                        &p->rpc_has_inc, &p->rpc_inc, &e) == 0)
                p->rpc_ok = true;
            else
                logf_(b, "%s: %s", p->url, e.msg);
        }
        if (d) {
            p->drop = d;
            logf_(b, "%s: discarded: %s", p->url, g_drop_names[d]);
            continue;
        }
        char nf[160], ni[160];
        if (p->rpc_ok && p->rpc_has && p->rpc_full != p->full.slot)
            logf_(b, "%s: getHighestSnapshotSlot says full %llu, the redirect %llu", p->url,
                  (unsigned long long)p->rpc_full, (unsigned long long)p->full.slot);
        logf_(b, "%s: %s%s%s (%.0f ms%s)", p->url, name_of(&p->full, nf, sizeof nf),
              p->has_inc ? " + " : "", p->has_inc ? name_of(&p->inc, ni, sizeof ni) : "",
              p->latency_s * 1000, p->rpc_ok ? "" : ", no getHighestSnapshotSlot");
    }
    for (size_t i = 0; i < n * 3; i++)
        adb_fetch_req_fini(&rq[i]);
    adb_free(rq);
    adb_free(rp);
    adb_free(urls);
    return 0;
}

/* ---- TRUST --------------------------------------------------------------- */

static int
trust_name(boot_t *b, peer_t const *p, adb_snap_name_t const *n) {
    known_t const *k = known_for(b, n->slot);
    if (!k || !memcmp(k->hash.b, n->hash.b, 32)) return 0;
    char nm[160], h[ACCTDB_BASE58_32_SZ];
    return bfail(b, ACCTDB_ERR_MISMATCH,
                 "%s advertises %s, but the known hash of slot %llu is %s: refusing to go on "
                 "(fail closed; nothing was created)",
                 p->url, name_of(n, nm, sizeof nm), (unsigned long long)n->slot,
                 adb_base58_encode_32(k->hash.b, h));
}

static int
trust(boot_t *b) {
    for (size_t i = 0; i < b->peer_cnt; i++) {
        peer_t const *p = &b->peers[i];
        if (p->has_full) ADB_TRY(trust_name(b, p, &p->full));
        if (p->has_inc) ADB_TRY(trust_name(b, p, &p->inc));
    }
    return 0;
}

/* ---- FULL ---------------------------------------------------------------- */

typedef struct sample_ctx {
    uint8_t head[4];
    size_t  n;
} sample_ctx_t;

static int
sample_sink(void *ctx, void const *p, size_t n) {
    sample_ctx_t *c = ctx;
    size_t        take = ADB_MIN(n, sizeof c->head - c->n);
    memcpy(c->head + c->n, p, take);
    c->n += take;
    return 0;
}

/* A short Range read of the full archive: its rate ranks the peers of one
 * slot (not a verdict on its own: the speed window is). */
static void
sample(boot_t *b, peer_t *p) {
    char         url[1600];
    sample_ctx_t c = {0};
    url_of(url, sizeof url, p, p->full_path);
    adb_fetch_req_t r = {
        .url = url,
        .range = "0-262143",
        .connect_s = b->connect_s,
        .first_s = ADB_MAX(b->connect_s, 10u),
        .idle_s = 10,
        .total_s = b->connect_s + ADB_MAX(b->connect_s, 10u),
        .need_length = true,
        .stop_after = SAMPLE_SZ,
        .body_max = 256,
        .body_truncate = true,
        .sink = sample_sink,
        .sink_ctx = &c,
        .stop = b->o->stop,
    };
    p->sampled = true;
    int rc = adb_fetch_run(&r);
    int st = r.has_head ? r.head.status : 0;
    if (!rc && st == 404) {
        drop_peer(b, p, D_NO_SNAPSHOT, "%s is gone (HTTP 404)", p->full_path + 1);
    } else if (!rc && st != 200 && st != 206) {
        drop_peer(b, p, D_STATUS, "HTTP %d for %s", st, p->full_path + 1);
    } else if (rc) {
        drop_peer(b, p, drop_of(r.why), "%s: %s", p->full_path + 1, r.err.msg);
    } else if (st == 206 && (!r.head.has_range || r.head.range_first != 0)) {
        drop_peer(b, p, D_PROTOCOL, "a 206 answer without the range asked for");
    } else if (c.n < 4 || adb_comp_detect(c.head, c.n, NULL) == ADB_COMP_UNKNOWN) {
        drop_peer(b, p, D_BAD_ARCHIVE, "%s does not start like a zstd or lz4 archive",
                  p->full_path + 1);
    } else {
        double el = (double)(r.t_end_ns - r.t_start_ns) / 1e9;
        p->speed = el > 0 ? (double)r.body_bytes / el : 0;
        p->full_sz = st == 206 ? r.head.range_total : r.head.length;
        char sz[32];
        logf_(b, "%s: %s, sample of %llu KiB at %.1f MiB/s", p->url, mib(p->full_sz, sz, sizeof sz),
              (unsigned long long)(r.body_bytes >> 10), p->speed / 1048576.0);
    }
    adb_fetch_req_fini(&r);
}

static bool
usable(peer_t const *p) {
    return !p->drop && p->attempts < ATTEMPTS_MAX;
}

/* Higher slot, then fewer failures, then the faster sample, then the
 * shorter probe. */
static bool
better(peer_t const *a, peer_t const *b, bool inc) {
    uint64_t sa = inc ? a->inc.slot : a->full.slot, sb = inc ? b->inc.slot : b->full.slot;
    if (sa != sb) return sa > sb;
    if (a->fails != b->fails) return a->fails < b->fails;
    if (a->speed != b->speed) return a->speed > b->speed;
    return a->latency_s < b->latency_s;
}

static peer_t *
pick_full(boot_t *b) {
    for (;;) {
        uint64_t top = 0;
        bool     any = false, sampled = false;
        for (size_t i = 0; i < b->peer_cnt; i++) {
            peer_t const *p = &b->peers[i];
            if (usable(p) && p->has_full && (!any || p->full.slot > top)) top = p->full.slot;
            if (usable(p) && p->has_full) any = true;
        }
        if (!any) return NULL;
        /* The peers of the top slot are measured before one is chosen. */
        for (size_t i = 0; i < b->peer_cnt; i++) {
            peer_t *p = &b->peers[i];
            if (usable(p) && p->has_full && p->full.slot == top && !p->sampled) {
                sample(b, p);
                sampled = true;
            }
        }
        if (sampled) continue; /* a sample may have dropped a peer */
        peer_t *best = NULL;
        for (size_t i = 0; i < b->peer_cnt; i++) {
            peer_t *p = &b->peers[i];
            if (usable(p) && p->has_full && (!best || better(p, best, false))) best = p;
        }
        return best;
    }
}

static peer_t *
pick_inc(boot_t *b) {
    peer_t *best = NULL;
    for (size_t i = 0; i < b->peer_cnt; i++) {
        peer_t *p = &b->peers[i];
        if (usable(p) && p->has_inc && (!best || better(p, best, true))) best = p;
    }
    return best;
}

/* One download from p.  Returns 0 (file_out names the archive), 1 (the
 * peer failed or was dropped: try the next), or an error that ends the
 * bootstrap (our disk, memory). */
static int
download(boot_t *b, peer_t *p, adb_snap_name_t const *n, char const *path, char *file_out) {
    acctdb_bootstrap_opts_t const *o = b->o;
    char                           nm[160], url[1600], sz[32], got[32];
    name_of(n, nm, sizeof nm);
    url_of(url, sizeof url, p, path);
    ADB_TRY(make_archive_dir(b));
    if (!p->attempts) b->res->peers_tried++;
    p->attempts++;
    if (!n->is_incremental && p->full_sz)
        logf_(b, "downloading %s (%s) from %s", nm, mib(p->full_sz, sz, sizeof sz), p->url);
    else
        logf_(b, "downloading %s from %s", nm, p->url);
    adb_fetch_dl_t d = {
        .url = url,
        .dir = b->archive_dir,
        .name = nm,
        .min_speed = o->min_speed,
        .window_s = o->min_speed_window_s,
        .connect_s = b->connect_s,
        .frame_check = true,
        .progress = o->progress,
        .progress_ctx = o->progress_ctx,
        .stop = o->stop,
    };
    int rc = adb_fetch_download(&d);
    b->res->bytes += d.received;
    if (rc && stopped(b))
        return bfail(b, ACCTDB_ERR_STOPPED, "stopped while downloading %s from %s (%s received)",
                     nm, p->url, mib(d.received, got, sizeof got));
    if (!rc) {
        logf_(b, "downloaded %s from %s: %s in %.1f s (%.1f MiB/s)", nm, p->url,
              mib(d.received, sz, sizeof sz), d.seconds, d.rate / 1048576.0);
        snprintf(file_out, 4096, "%s", d.path);
        return 0;
    }
    mib(d.received, got, sizeof got);
    mib(d.length, sz, sizeof sz);
    switch (d.why) {
    case ADB_FETCH_LOCAL:
        return bfail(b, rc, "%s", d.err.msg);
    case ADB_FETCH_SLOW:
        drop_peer(b, p, D_SLOW, "too slow: %s (%s, %s of %s received in %.1f s)", d.err.msg, nm,
                  got, sz, d.seconds);
        break;
    case ADB_FETCH_CORRUPT:
        drop_peer(b, p, D_BAD_ARCHIVE, "%s (after %s of %s)", d.err.msg, got, sz);
        break;
    case ADB_FETCH_PROTOCOL:
        drop_peer(b, p, D_PROTOCOL, "%s: %s", nm, d.err.msg);
        break;
    default:
        if (++p->fails >= FAILS_MAX)
            drop_peer(b, p, drop_of(d.why), "%s: %s (failed %u times)", nm, d.err.msg, p->fails);
        else
            logf_(b, "%s: %s: %s (may be tried once more)", p->url, nm, d.err.msg);
        break;
    }
    return 1;
}

static int
get_full(boot_t *b) {
    for (size_t guard = 0; guard <= b->peer_cnt * ATTEMPTS_MAX; guard++) {
        peer_t *p = pick_full(b);
        ADB_TRY(stop_check(b, "while choosing a peer for the full snapshot"));
        if (!p) break;
        int rc = download(b, p, &p->full, p->full_path, b->full_file);
        if (rc < 0) return rc;
        if (rc == 0) {
            b->full_peer = p;
            b->full_name = p->full;
            return 0;
        }
    }
    char r[512];
    reasons(b, r, sizeof r);
    return bfail(b, ACCTDB_ERR_NOT_FOUND, "no peer qualified for a full snapshot: %s", r);
}

/* INC: asked again now (the newest incremental on our full, as late as
 * possible), of the peers that serve the same full archive. */
static int
get_inc(boot_t *b) {
    size_t            n = 0;
    adb_fetch_req_t  *rq = adb_calloc(b->peer_cnt, sizeof *rq);
    adb_fetch_req_t **rp = adb_calloc(b->peer_cnt, sizeof *rp);
    peer_t          **who = adb_calloc(b->peer_cnt, sizeof *who);
    char(*urls)[600] = adb_calloc(b->peer_cnt, sizeof *urls);
    int rc = 0;
    if (!rq || !rp || !who || !urls) {
        rc = bfail(b, ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < b->peer_cnt; i++) {
        peer_t *p = &b->peers[i];
        p->has_inc = false;
        if (!usable(p) || !p->has_full || p->full.slot != b->full_name.slot ||
            memcmp(p->full.hash.b, b->full_name.hash.b, 32))
            continue;
        url_of(urls[n], sizeof urls[0], p, "/incremental-snapshot.tar.bz2");
        rq[n] = (adb_fetch_req_t){
            .url = urls[n],
            .method = "HEAD",
            .connect_s = b->connect_s,
            .first_s = ADB_MAX(b->connect_s, 10u),
            .total_s = b->connect_s + ADB_MAX(b->connect_s, 10u),
            .stop = b->o->stop,
        };
        rp[n] = &rq[n];
        who[n++] = p;
    }
    for (size_t i = 0; i < n; i += PROBE_BATCH * 3)
        adb_fetch_run_many(rp + i, ADB_MIN(PROBE_BATCH * 3, n - i));
    if ((rc = stop_check(b, "while asking for incremental snapshots")) != 0) goto cleanup;
    for (size_t i = 0; i < n; i++) {
        peer_t *p = who[i];
        drop_t  d = eval_redirect(b, p, &rq[i], rq[i].why ? -1 : 0, true, &p->inc, p->inc_path,
                                  sizeof p->inc_path, &p->has_inc);
        if (d == D_BAD_REDIRECT) {
            drop_peer(b, p, d, "an invalid redirect for the incremental snapshot");
            p->has_inc = false;
        }
        if (p->has_inc && p->inc.base_slot != b->full_name.slot) p->has_inc = false;
        if (p->has_inc && (rc = trust_name(b, p, &p->inc)) != 0) goto cleanup;
    }
    for (size_t guard = 0; guard <= b->peer_cnt * ATTEMPTS_MAX; guard++) {
        peer_t *p = pick_inc(b);
        if (!p) break;
        rc = download(b, p, &p->inc, p->inc_path, b->inc_file);
        if (rc < 0) goto cleanup;
        if (rc == 0) {
            b->inc_peer = p;
            b->inc_name = p->inc;
            goto cleanup;
        }
    }
    rc = 0;
    logf_(b, "no incremental snapshot on slot %llu: going on with the full snapshot alone",
          (unsigned long long)b->full_name.slot);
cleanup:
    for (size_t i = 0; i < n; i++)
        adb_fetch_req_fini(&rq[i]);
    adb_free(rq);
    adb_free(rp);
    adb_free(who);
    adb_free(urls);
    return rc;
}

/* ---- CREATE -------------------------------------------------------------- */

static bool
archive_error(int rc) {
    return rc == ACCTDB_ERR_MISMATCH || rc == ACCTDB_ERR_CORRUPT || rc == ACCTDB_ERR_UNSUPPORTED ||
           rc == ACCTDB_ERR_UNSUPPORTED_VERSION;
}

static int
create_db(boot_t *b, bool with_inc, acctdb_db_t **db, char *m, size_t mm) {
    char               f[160], i[160];
    acctdb_db_source_t src = {
        .full_path = b->full_file,
        .incremental_path = with_inc ? b->inc_file : NULL,
        .progress = b->o->progress,
        .progress_ctx = b->o->progress_ctx,
        .stop = b->o->stop,
    };
    logf_(b, "creating %s from %s%s%s (every check of acctdb snapshot verify)", b->o->dir,
          name_of(&b->full_name, f, sizeof f), with_inc ? " + " : "",
          with_inc ? name_of(&b->inc_name, i, sizeof i) : "");
    return acctdb_db_create(db, b->o->dir, &src, b->o->cfg, m, mm);
}

static void
forget_full(boot_t *b) {
    unlink(b->full_file);
    b->full_file[0] = 0;
    b->full_peer = NULL;
}

static void
forget_inc(boot_t *b) {
    if (b->inc_file[0]) unlink(b->inc_file);
    b->inc_file[0] = 0;
    b->inc_peer = NULL;
}

/* The verified root against the archive names and the known hashes. */
static int
check_root(boot_t *b, acctdb_db_t *db) {
    acctdb_bank_info_t info;
    uint64_t           root = acctdb_db_root_slot(db, NULL);
    int                rc = acctdb_db_bank_info(db, root, &info);
    if (rc) return bfail(b, rc, "reading the root bank of %s: %s", b->o->dir, acctdb_db_errmsg(db));
    adb_snap_name_t const *top = b->inc_peer ? &b->inc_name : &b->full_name;
    char                   h1[ACCTDB_BASE58_32_SZ], h2[ACCTDB_BASE58_32_SZ];
    adb_base58_encode_32(info.lt_checksum, h1);
    if (root != top->slot || memcmp(info.lt_checksum, top->hash.b, 32))
        return bfail(b, ACCTDB_ERR_MISMATCH,
                     "the new database's root (slot %llu, lattice checksum %s) is not the "
                     "archive's (slot %llu, %s)",
                     (unsigned long long)root, h1, (unsigned long long)top->slot,
                     adb_base58_encode_32(top->hash.b, h2));
    known_t const *k = known_for(b, root);
    if (k && memcmp(k->hash.b, info.lt_checksum, 32))
        return bfail(b, ACCTDB_ERR_MISMATCH,
                     "the verified lattice checksum of slot %llu is %s, the known hash %s",
                     (unsigned long long)root, h1, adb_base58_encode_32(k->hash.b, h2));
    logf_(b, "created %s: root slot %llu, lattice checksum %s%s", b->o->dir,
          (unsigned long long)root, h1, k ? " (equal to the known hash)" : "");
    return 0;
}

static int
create(boot_t *b) {
    bool inc_done = false;
    char m[1024], m2[1024], nm[160];
    for (size_t guard = 0; guard <= b->peer_cnt * ATTEMPTS_MAX + 2; guard++) {
        if (!b->full_peer) {
            ADB_TRY(get_full(b));
            inc_done = false;
        }
        if (!inc_done) {
            ADB_TRY(get_inc(b));
            inc_done = true;
        }
        ADB_TRY(stop_check(b, "before creating the database"));
        acctdb_db_t *db = NULL;
        int          rc = create_db(b, b->inc_peer != NULL, &db, m, sizeof m);
        if (rc == ACCTDB_ERR_STOPPED)
            return bfail(b, rc, "stopped while creating %s (interrupted): %s", b->o->dir, m);
        if (!rc) {
            rc = check_root(b, db);
            acctdb_db_close(db);
            if (rc) remove_db(b);
            return rc;
        }
        if (!archive_error(rc)) return bfail(b, rc, "creating %s: %s", b->o->dir, m);
        /* Which archive failed: the message names it, or the full one is
         * tried alone. */
        bool blame_inc = false;
        if (b->inc_peer && !strncmp(m, b->inc_file, strlen(b->inc_file))) {
            blame_inc = true;
        } else if (b->inc_peer && strncmp(m, b->full_file, strlen(b->full_file))) {
            int rc2 = create_db(b, false, &db, m2, sizeof m2);
            if (!rc2) {
                acctdb_db_close(db);
                remove_db(b);
                blame_inc = true;
            } else if (!archive_error(rc2)) {
                return bfail(b, rc2, "creating %s: %s", b->o->dir, m2);
            }
        }
        if (blame_inc) {
            drop_peer(b, b->inc_peer, D_BAD_ARCHIVE, "%s failed verification: %s",
                      name_of(&b->inc_name, nm, sizeof nm), m);
            forget_inc(b);
            inc_done = false;
        } else {
            drop_peer(b, b->full_peer, D_BAD_ARCHIVE, "%s failed verification: %s",
                      name_of(&b->full_name, nm, sizeof nm), m);
            forget_full(b);
            forget_inc(b);
        }
    }
    return bfail(b, ACCTDB_ERR_NOT_FOUND, "gave up after too many bad archives");
}

/* ---- the entry point ------------------------------------------------------ */

int
acctdb_bootstrap(acctdb_bootstrap_opts_t const *o, acctdb_bootstrap_result_t *out, char *msg_out,
                 size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (out) memset(out, 0, sizeof *out);
    if (!o || !out) return ACCTDB_ERR_INVALID;
    boot_t *b = adb_calloc(1, sizeof *b);
    if (!b) return ACCTDB_ERR_NOMEM;
    b->o = o;
    b->res = out;
    b->t0 = adb_fetch_now_ns();
    int rc = check_opts(b);
    if (!rc) rc = probe(b);
    if (!rc) rc = stop_check(b, "after probing the peers");
    if (!rc) rc = trust(b);
    if (!rc) rc = create(b);
    if (rc == ACCTDB_ERR_MISMATCH) remove_downloads(b);   /* fail closed */
    if (rc && b->made_archive_dir) rmdir(b->archive_dir); /* only if it stayed empty */
    if (!rc) {
        snprintf(out->peer, sizeof out->peer, "%s", b->full_peer->url);
        snprintf(out->full_path, sizeof out->full_path, "%s", b->full_file);
        snprintf(out->inc_path, sizeof out->inc_path, "%s", b->inc_file);
        out->full_slot = b->full_name.slot;
        out->inc_slot = b->inc_peer ? b->inc_name.slot : 0;
        if (b->inc_peer && b->inc_peer != b->full_peer)
            logf_(b, "the incremental snapshot came from %s", b->inc_peer->url);
    } else {
        if (!b->err.code) adb_err_set(&b->err, rc, "%s", acctdb_strerror(rc));
        if (msg_out && msg_max) snprintf(msg_out, msg_max, "%s", b->err.msg);
    }
    out->seconds = (double)(adb_fetch_now_ns() - b->t0) / 1e9;
    adb_free(b->peers);
    adb_free(b->known);
    adb_free(b);
    return rc;
}
