/* src/net/follow.c - acctdb_follow: keep a database in step with a peer's
 * change stream.
 *
 * One connection at a time, always from the database's own root: each
 * slot of the stream is stored, frozen with the stream's metadata and
 * checked against the lattice checksum, bank hash and capitalization the
 * stream closes it with, then rooted.  Anything else (a broken connection,
 * a slot that does not follow the root, a slot that does not verify) ends
 * the connection and drops the unrooted bank with the handle, so a slot's
 * accounts never come from two connections.  SlotTooOld (HTTP 410 at the
 * start, or a TOO_OLD frame) means the follower fell behind the server's
 * window: the database is discarded and bootstrapped again from a fresh
 * snapshot; if that snapshot is still not newer than what was refused, the
 * follower waits for a newer one instead of asking for the same slot again.
 * A slot that does not verify also rebuilds from a snapshot.  Bounded:
 * reconnects back off, and re-bootstraps that make no progress end in an
 * error. */
#include "net/net.h"

#include "db/db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH          256 /* accounts stored per acctdb_db_store */
#define RECONNECT_MAX  20  /* consecutive failed connections before giving up */
#define STALE_WAIT_MAX 60  /* re-bootstraps without a newer snapshot before giving up */
#define IDLE_TIMEOUT_S 15  /* the server sends a heartbeat every second */

typedef struct fl {
    acctdb_follow_opts_t const *o;
    acctdb_follow_result_t     *r;
    acctdb_db_t                *db;
    uint64_t                    root;
    double                      t0;
    /* the slot being applied */
    bool              in_slot;
    uint64_t          slot, parent;
    acctdb_account_t *acc;
    uint8_t         **data;
    size_t            cnt, cap;
    /* what ended the connection */
    enum { END_NONE, END_STOP, END_TOO_OLD, END_BAD } end;
    uint64_t oldest;
    char     why[512];
} fl_t;

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void logf_(fl_t *f, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
logf_(fl_t *f, char const *fmt, ...) {
    if (!f->o->log) return;
    char    line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->o->log(f->o->log_ctx, line);
}

static bool
stop_now(fl_t *f) {
    if (f->o->stop && *f->o->stop) return true;
    if (f->o->stop_after_slots && f->r->slots_applied >= f->o->stop_after_slots) return true;
    if (f->o->stop_after_s && now_s() - f->t0 >= f->o->stop_after_s) return true;
    return false;
}

static void
batch_clear(fl_t *f) {
    for (size_t i = 0; i < f->cnt; i++)
        adb_free(f->data[i]);
    f->cnt = 0;
}

static int
batch_flush(fl_t *f) {
    if (!f->cnt) return 0;
    int rc = acctdb_db_store(f->db, f->slot, f->parent, f->acc, f->cnt);
    if (rc) {
        snprintf(f->why, sizeof f->why, "storing slot %llu: %s", (unsigned long long)f->slot,
                 acctdb_db_errmsg(f->db));
        f->end = END_BAD;
    }
    batch_clear(f);
    return rc;
}

static int
on_ev(void *ctx, adb_changes_ev_t const *ev) {
    fl_t *f = ctx;
    switch (ev->type) {
    case 0:
        logf_(f, "stream from slot %llu (server %016llx)", (unsigned long long)ev->from_slot,
              (unsigned long long)ev->server_id);
        return 0;
    case ADB_CHG_SLOT:
        if (ev->parent_slot != f->root) {
            snprintf(f->why, sizeof f->why,
                     "slot %llu's parent is %llu, but this database's root is %llu",
                     (unsigned long long)ev->slot, (unsigned long long)ev->parent_slot,
                     (unsigned long long)f->root);
            f->end = END_BAD;
            return ACCTDB_ERR_MISMATCH;
        }
        f->in_slot = true;
        f->slot = ev->slot;
        f->parent = ev->parent_slot;
        /* The bank exists from its first store, even with no accounts. */
        if (acctdb_db_store(f->db, f->slot, f->parent, NULL, 0)) {
            snprintf(f->why, sizeof f->why, "slot %llu: %s", (unsigned long long)f->slot,
                     acctdb_db_errmsg(f->db));
            f->end = END_BAD;
            return ACCTDB_ERR_MISMATCH;
        }
        return 0;
    case ADB_CHG_ACCOUNT: {
        if (f->cnt == f->cap) {
            size_t            cap = f->cap ? f->cap * 2 : BATCH;
            acctdb_account_t *na = adb_realloc(f->acc, cap * sizeof *na);
            if (na) f->acc = na;
            uint8_t **nd = na ? adb_realloc(f->data, cap * sizeof *nd) : NULL;
            if (!na || !nd) return ACCTDB_ERR_NOMEM;
            f->data = nd;
            f->cap = cap;
        }
        acctdb_account_t a = ev->account;
        uint8_t         *d = adb_malloc(a.data_len ? (size_t)a.data_len : 1);
        if (!d) return ACCTDB_ERR_NOMEM;
        if (a.data_len) memcpy(d, a.data, (size_t)a.data_len);
        a.data = d;
        f->acc[f->cnt] = a;
        f->data[f->cnt++] = d;
        return f->cnt >= BATCH ? batch_flush(f) : 0;
    }
    case ADB_CHG_END: {
        int rc = batch_flush(f);
        if (rc) return rc;
        acctdb_bank_info_t in;
        rc = acctdb_db_freeze(f->db, f->slot, &ev->info.meta, &in);
        if (!rc && (memcmp(in.lt_checksum, ev->info.lt_checksum, 32) ||
                    memcmp(in.bank_hash.b, ev->info.bank_hash.b, 32) ||
                    in.capitalization != ev->info.capitalization)) {
            char a[ACCTDB_BASE58_32_SZ], b[ACCTDB_BASE58_32_SZ];
            snprintf(f->why, sizeof f->why,
                     "slot %llu does not verify: lattice checksum %s here, %s in the stream",
                     (unsigned long long)f->slot, acctdb_base58_encode_32(in.lt_checksum, a),
                     acctdb_base58_encode_32(ev->info.lt_checksum, b));
            f->end = END_BAD;
            return ACCTDB_ERR_MISMATCH;
        }
        if (!rc) rc = acctdb_db_root(f->db, f->slot);
        if (rc) {
            snprintf(f->why, sizeof f->why, "slot %llu: %s", (unsigned long long)f->slot,
                     acctdb_db_errmsg(f->db));
            f->end = END_BAD;
            return rc;
        }
        f->root = f->slot;
        f->in_slot = false;
        f->r->slots_applied++;
        f->r->last_slot = f->slot;
        memcpy(f->r->lt_checksum, in.lt_checksum, 32);
        if (stop_now(f)) {
            f->end = END_STOP;
            return ACCTDB_ERR_STOPPED;
        }
        return 0;
    }
    case ADB_CHG_HEARTBEAT:
        if (stop_now(f) && !f->in_slot) {
            f->end = END_STOP;
            return ACCTDB_ERR_STOPPED;
        }
        return 0;
    case ADB_CHG_TOO_OLD:
        f->end = END_TOO_OLD;
        f->oldest = ev->oldest_slot;
        return ACCTDB_ERR_TOO_OLD;
    }
    return 0;
}

typedef struct pump {
    adb_changes_dec_t *dec;
    adb_err_t          err;
} pump_t;

static int
pump_cb(void *ctx, void const *p, size_t n) {
    pump_t *pu = ctx;
    return adb_changes_dec_push(pu->dec, p, n, &pu->err);
}

/* ---- the database directory ----------------------------------------------------- */

static bool
is_db_dir(char const *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    bool yes = adb_db_is_database(fd);
    close(fd);
    return yes;
}

/* Removes a database directory the follower made (its accounts/ and the
 * files a database holds, as src/db names them, with the temporaries of
 * their atomic writes that a crash mid-commit leaves); refuses anything
 * that does not look like one. */
static int
remove_db_dir(char const *dir) {
    char p[4300];
    snprintf(p, sizeof p, "%s/accounts", dir);
    DIR *d = opendir(p);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (!strncmp(e->d_name, "seg-", 4)) {
                char q[8400];
                snprintf(q, sizeof q, "%s/%s", p, e->d_name);
                unlink(q);
            }
        closedir(d);
        rmdir(p);
    }
    d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (adb_db_own_file(e->d_name) || !strcmp(e->d_name, "acctdb.conf") ||
                !strcmp(e->d_name, ".tmp-acctdb.conf")) {
                char q[8400];
                snprintf(q, sizeof q, "%s/%s", dir, e->d_name);
                unlink(q);
            }
        closedir(d);
    }
    if (rmdir(dir) && errno != ENOENT) return -errno;
    return 0;
}

static int
bootstrap(fl_t *f, char *msg, size_t msg_max) {
    char const               *peers[1] = {f->o->peer};
    acctdb_bootstrap_opts_t   bo = {.peers = peers,
                                    .peer_cnt = 1,
                                    .min_speed = f->o->min_speed,
                                    .dir = f->o->dir,
                                    .cfg = f->o->cfg,
                                    .log = f->o->log,
                                    .log_ctx = f->o->log_ctx,
                                    .stop = f->o->stop};
    acctdb_bootstrap_result_t br;
    int                       rc = acctdb_bootstrap(&bo, &br, msg, msg_max);
    if (!rc) {
        f->r->bootstraps++;
        logf_(f, "bootstrapped from %s at slot %llu", br.peer,
              (unsigned long long)(br.inc_slot ? br.inc_slot : br.full_slot));
    }
    return rc;
}

/* ---- the loop ------------------------------------------------------------------------- */

int
acctdb_follow(acctdb_follow_opts_t const *o, acctdb_follow_result_t *out, char *msg_out,
              size_t msg_max) {
    char dummy[1];
    if (!msg_out || !msg_max) msg_out = dummy, msg_max = sizeof dummy;
    msg_out[0] = 0;
    if (out) memset(out, 0, sizeof *out);
    if (!o || !out || !o->peer || !o->dir) {
        snprintf(msg_out, msg_max, "follow: a peer and a directory are needed");
        return ACCTDB_ERR_INVALID;
    }
    fl_t     f = {.o = o, .r = out, .t0 = now_s()};
    int      rc = 0, failures = 0, stale = 0;
    uint64_t refused_from = UINT64_MAX, refused_oldest = 0; /* the last SlotTooOld */
    while (!rc) {
        if (o->stop && *o->stop) break;
        if (!is_db_dir(o->dir)) {
            rc = bootstrap(&f, msg_out, msg_max);
            if (rc == ACCTDB_ERR_STOPPED && o->stop && *o->stop) {
                logf_(&f, "%s; no database was created", msg_out); /* a stop, not a failure */
                msg_out[0] = 0;
                rc = 0;
                break;
            }
            if (rc) break;
        }
        acctdb_db_config_t cfg;
        if (o->cfg)
            cfg = *o->cfg;
        else
            acctdb_db_config_default(&cfg);
        rc = acctdb_db_open(&f.db, o->dir, &cfg, msg_out, msg_max);
        if (rc) break;
        f.root = acctdb_db_root_slot(f.db, NULL);
        /* Never ask again for what was just refused: wait for a snapshot
         * newer than the window's start. */
        if (refused_from != UINT64_MAX && f.root + 1 < refused_oldest) {
            acctdb_db_close(f.db);
            f.db = NULL;
            if (++stale > STALE_WAIT_MAX) {
                snprintf(msg_out, msg_max,
                         "the peer's newest snapshot (slot %llu) stays older than its change "
                         "stream's window (oldest slot %llu): no way to catch up",
                         (unsigned long long)f.root, (unsigned long long)refused_oldest);
                rc = ACCTDB_ERR_NOT_FOUND;
                break;
            }
            logf_(&f,
                  "snapshot at slot %llu is still behind the window (oldest %llu): waiting for "
                  "a newer one",
                  (unsigned long long)f.root, (unsigned long long)refused_oldest);
            sleep(1);
            if ((rc = remove_db_dir(o->dir)) != 0) {
                snprintf(msg_out, msg_max, "removing %s: %s", o->dir, acctdb_strerror(rc));
                break;
            }
            continue;
        }
        stale = 0;
        /* One connection, from the root. */
        char url[1200];
        snprintf(url, sizeof url, "%s/changes?from_slot=%llu", o->peer, (unsigned long long)f.root);
        pump_t pu = {0};
        rc = adb_changes_dec_new(on_ev, &f, &pu.dec);
        if (rc) break;
        f.end = END_NONE;
        f.in_slot = false;
        f.why[0] = 0;
        long      status = 0;
        char      body[512] = "";
        adb_err_t ferr = {0};
        uint64_t  applied0 = out->slots_applied;
        int       frc = adb_fetch_stream(url, 10, IDLE_TIMEOUT_S, pump_cb, &pu, &status, body,
                                         sizeof body, &ferr);
        adb_changes_dec_free(pu.dec);
        batch_clear(&f);
        /* Closing drops an unrooted, half-applied slot with the handle. */
        acctdb_db_close(f.db);
        f.db = NULL;
        if (f.end == END_STOP) break;
        uint64_t from = f.root;
        if (status == 410 || f.end == END_TOO_OLD) {
            char const *p = strstr(body, "\"oldest_slot\"");
            if (status == 410 && p) {
                p = strchr(p, ':');
                f.oldest = p ? strtoull(p + 1, NULL, 10) : 0;
            }
            logf_(&f,
                  "slot %llu is older than the peer's window (oldest %llu): starting over from "
                  "a fresh snapshot",
                  (unsigned long long)from, (unsigned long long)f.oldest);
            refused_from = from;
            refused_oldest = f.oldest;
            out->resets++;
            if ((rc = remove_db_dir(o->dir)) != 0) {
                snprintf(msg_out, msg_max, "removing %s: %s", o->dir, acctdb_strerror(rc));
                break;
            }
            failures = 0;
            continue;
        }
        if (f.end == END_BAD) {
            logf_(&f, "%s: starting over from a fresh snapshot", f.why);
            out->resets++;
            refused_from = UINT64_MAX;
            if ((rc = remove_db_dir(o->dir)) != 0) {
                snprintf(msg_out, msg_max, "removing %s: %s", o->dir, acctdb_strerror(rc));
                break;
            }
            failures = 0;
            continue;
        }
        /* A broken or refused connection: back off and reconnect from the
         * root (no partial slot survives). */
        if (frc == ACCTDB_ERR_NOMEM) {
            snprintf(msg_out, msg_max, "out of memory");
            rc = frc;
            break;
        }
        if (out->slots_applied != applied0) failures = 0; /* that connection made progress */
        if (++failures > RECONNECT_MAX) {
            snprintf(msg_out, msg_max, "%s: %s", url,
                     ferr.msg[0]     ? ferr.msg
                     : pu.err.msg[0] ? pu.err.msg
                                     : body);
            rc = frc ? frc : ACCTDB_ERR_IO;
            break;
        }
        logf_(&f, "stream ended (HTTP status %ld: %s); reconnecting from slot %llu", status,
              ferr.msg[0]     ? ferr.msg
              : pu.err.msg[0] ? pu.err.msg
              : body[0]       ? body
                              : "closed",
              (unsigned long long)from);
        struct timespec ts = {0, (long)ADB_MIN(failures, 10) * 100000000L};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < f.cnt; i++)
        adb_free(f.data[i]);
    adb_free(f.acc);
    adb_free(f.data);
    return rc;
}
