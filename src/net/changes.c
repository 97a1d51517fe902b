/* src/net/changes.c - the change stream: the window of rooted slots a
 * server keeps for followers, its readers, and the decoder (the wire
 * format is in net.h).
 *
 * The window is a queue of slots, oldest first, each one immutable blob of
 * its encoded frames (SLOT, its ACCOUNTs, END), made once by the root hook.
 * It keeps at most slots_max slots and bytes_max bytes, dropping the
 * oldest; a slot larger than bytes_max on its own is never kept (nor one
 * whose blob could not be made): the window empties and remembers it as a
 * gap, so readers that still need it get TOO_OLD at once and the bytes
 * never pass bytes_max.  Readers hold no slot: a read copies what is due
 * under the lock straight into the caller's buffer (at most
 * ADB_CHG_READER_BUF_SZ), and
 * remembers a position (the slot and an offset in its blob).  A reader
 * whose slot was dropped meanwhile gets a TOO_OLD frame and the end of the
 * stream, so memory never depends on the number or speed of readers.
 *
 * THREADS: the hook runs on the database's writer thread; readers on any
 * thread; one mutex and a condition variable (new slot, shutdown). */
#include "net/net.h"

#include "util/crc32c.h"
#include "util/rng.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct chg_slot {
    uint64_t slot, parent;
    size_t   sz;
    uint8_t *bytes; /* SLOT ... END frames */
} chg_slot_t;

struct adb_changes {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    uint32_t        slots_max;
    uint64_t        bytes_max;
    uint64_t        server_id;
    chg_slot_t     *q; /* ring of slots_max */
    uint32_t        head, cnt;
    uint64_t        bytes;
    uint64_t        gap; /* newest slot it could not keep (0: none) */
    uint64_t        readers;
    bool            stop;
};

struct adb_changes_reader {
    adb_changes_t *c;
    uint64_t       done;      /* every slot <= done has been sent */
    uint64_t       cur;       /* the slot being sent (valid while in_slot) */
    size_t         off;       /* bytes of cur's blob sent */
    size_t         frame_end; /* where the frame holding byte off ends (off == it: between
                               * frames) */
    bool    in_slot;
    uint8_t head[ADB_CHG_HEADER_SZ + 32]; /* header, or a heartbeat/TOO_OLD frame */
    size_t  head_sz, head_off;
    bool    ending; /* after head: end of stream */
};

/* ---- frames --------------------------------------------------------------------- */

#define FRAME_OVERHEAD 9u /* type, len, crc */

static size_t
frame_put(uint8_t *p, uint8_t type, void const *payload, uint32_t len) {
    p[0] = type;
    adb_store_u32(p + 1, len);
    if (len) memcpy(p + 5, payload, len);
    adb_store_u32(p + 5 + len, adb_crc32c(0, p, 5 + (size_t)len));
    return FRAME_OVERHEAD + (size_t)len;
}

#define SLOT_PAYLOAD 20u
#define ACCT_FIXED   (32u + 8 + 32 + 1 + 8 + 8)
#define END_PAYLOAD  (8u + 32 + 8 + 8 + 32 + 32 + 32 + 8 + 8 + 8 + 32 + 8)

static uint8_t *
put_u64(uint8_t *p, uint64_t v) {
    adb_store_u64(p, v);
    return p + 8;
}

static uint8_t *
put_bytes(uint8_t *p, void const *v, size_t n) {
    memcpy(p, v, n);
    return p + n;
}

/* The size of one rooted slot's blob. */
static uint64_t
slot_size(acctdb_slot_changes_t const *sc) {
    uint64_t sz = FRAME_OVERHEAD + SLOT_PAYLOAD + FRAME_OVERHEAD + END_PAYLOAD;
    for (size_t i = 0; i < sc->cnt; i++)
        sz += FRAME_OVERHEAD + ACCT_FIXED + sc->accounts[i].data_len;
    return sz;
}

/* The blob of one rooted slot (sz bytes: slot_size). */
static uint8_t *
encode_slot(acctdb_slot_changes_t const *sc, size_t sz, size_t *sz_out) {
    uint8_t *b = adb_malloc(sz);
    if (!b) return NULL;
    uint8_t pl[END_PAYLOAD], *q;
    size_t  o = 0;
    q = put_u64(pl, sc->slot);
    q = put_u64(q, sc->parent_slot);
    adb_store_u32(q, (uint32_t)sc->cnt);
    o += frame_put(b + o, ADB_CHG_SLOT, pl, SLOT_PAYLOAD);
    for (size_t i = 0; i < sc->cnt; i++) {
        acctdb_account_t const *a = &sc->accounts[i];
        /* ACCOUNT frames are written in place (the data can be large). */
        uint8_t *f = b + o, *p = f + 5;
        uint32_t len = ACCT_FIXED + (uint32_t)a->data_len;
        f[0] = ADB_CHG_ACCOUNT;
        adb_store_u32(f + 1, len);
        p = put_bytes(p, a->pubkey.b, 32);
        p = put_u64(p, a->lamports);
        p = put_bytes(p, a->owner.b, 32);
        *p++ = a->executable ? 1 : 0;
        p = put_u64(p, a->rent_epoch);
        p = put_u64(p, a->data_len);
        if (a->data_len) p = put_bytes(p, a->data, (size_t)a->data_len);
        adb_store_u32(p, adb_crc32c(0, f, 5 + (size_t)len));
        o += FRAME_OVERHEAD + len;
    }
    acctdb_bank_info_t const *in = sc->info;
    q = put_u64(pl, in->block_height);
    q = put_bytes(q, in->lt_checksum, 32);
    q = put_u64(q, in->capitalization);
    q = put_u64(q, in->accounts_data_len);
    q = put_bytes(q, in->bank_hash.b, 32);
    q = put_bytes(q, in->parent_bank_hash.b, 32);
    q = put_bytes(q, in->meta.blockhash.b, 32);
    q = put_u64(q, in->meta.signature_count);
    q = put_u64(q, in->meta.transaction_count);
    q = put_u64(q, (uint64_t)in->meta.unix_timestamp);
    q = put_bytes(q, in->meta.block_id.b, 32);
    q = put_u64(q, in->lamports_per_signature);
    o += frame_put(b + o, ADB_CHG_END, pl, END_PAYLOAD);
    *sz_out = o;
    return b;
}

/* ---- the window ----------------------------------------------------------------- */

int
adb_changes_new(uint32_t slots_max, uint64_t bytes_max, adb_changes_t **out, adb_err_t *err) {
    *out = NULL;
    if (slots_max == 0 || slots_max > 1000000)
        return adb_err_set(err, ACCTDB_ERR_INVALID, "history slots must be 1 to 1000000");
    adb_changes_t *c = adb_calloc(1, sizeof *c);
    if (c) c->q = adb_calloc(slots_max, sizeof *c->q);
    if (!c || !c->q) {
        if (c) adb_free(c);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    c->slots_max = slots_max;
    c->bytes_max = bytes_max ? bytes_max : (256ull << 20);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    adb_rng_t r = adb_rng_seed((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                               ((uint64_t)getpid() << 16));
    c->server_id = adb_rng_next(&r);
    *out = c;
    return 0;
}

void
adb_changes_free(adb_changes_t *c) {
    if (!c) return;
    for (uint32_t i = 0; i < c->cnt; i++)
        adb_free(c->q[(c->head + i) % c->slots_max].bytes);
    adb_free(c->q);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    adb_free(c);
}

static void
drop_oldest(adb_changes_t *c) {
    chg_slot_t *s = &c->q[c->head];
    c->bytes -= s->sz;
    adb_free(s->bytes);
    memset(s, 0, sizeof *s);
    c->head = (c->head + 1) % c->slots_max;
    c->cnt--;
}

void
adb_changes_hook(void *ctx, acctdb_slot_changes_t const *sc) {
    adb_changes_t *c = ctx;
    uint64_t       need = slot_size(sc);
    size_t         sz = 0;
    /* Outside the lock; a slot over the budget is not even encoded. */
    uint8_t *b = need <= c->bytes_max ? encode_slot(sc, (size_t)need, &sz) : NULL;
    pthread_mutex_lock(&c->mu);
    if (!b) {
        /* A slot larger than the whole budget, or out of memory: the window
         * can no longer be gapless, so it starts over after this slot;
         * readers that have not sent it end with TOO_OLD. */
        while (c->cnt)
            drop_oldest(c);
        c->gap = sc->slot;
    } else {
        while (c->cnt && (c->cnt == c->slots_max || c->bytes + sz > c->bytes_max))
            drop_oldest(c);
        chg_slot_t *s = &c->q[(c->head + c->cnt) % c->slots_max];
        *s = (chg_slot_t){sc->slot, sc->parent_slot, sz, b};
        c->cnt++;
        c->bytes += sz;
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void
adb_changes_shutdown(adb_changes_t *c) {
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void
adb_changes_stats(adb_changes_t *c, adb_changes_stats_t *out) {
    pthread_mutex_lock(&c->mu);
    out->slots = c->cnt;
    out->oldest_slot = c->cnt ? c->q[c->head].slot : 0;
    out->newest_slot = c->cnt ? c->q[(c->head + c->cnt - 1) % c->slots_max].slot : 0;
    out->bytes = c->bytes;
    out->readers = c->readers;
    pthread_mutex_unlock(&c->mu);
}

/* The window's first slot whose number is > after (under mu); NULL if none. */
static chg_slot_t *
first_after(adb_changes_t *c, uint64_t after) {
    uint32_t lo = 0, hi = c->cnt;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->q[(c->head + mid) % c->slots_max].slot <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->cnt ? &c->q[(c->head + lo) % c->slots_max] : NULL;
}

/* The window no longer has what comes after `after`: its oldest slot's
 * parent is newer than after (a rooted chain: slot after's child was
 * dropped). */
static bool
too_old(adb_changes_t const *c, uint64_t after) {
    /* ... or after is older than a slot the window could not keep. */
    return (c->cnt && c->q[c->head].parent > after) || after < c->gap;
}

/* The oldest slot a reader can still start after (for TOO_OLD). */
static uint64_t
oldest_slot(adb_changes_t const *c) {
    return c->cnt ? c->q[c->head].slot : c->gap;
}

int
adb_changes_reader_open(adb_changes_t *c, uint64_t from_slot, adb_changes_reader_t **out,
                        uint64_t *oldest_out) {
    *out = NULL;
    if (oldest_out) *oldest_out = 0;
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    if (c->stop)
        rc = ACCTDB_ERR_STOPPED;
    else if (too_old(c, from_slot)) {
        rc = ACCTDB_ERR_TOO_OLD;
        if (oldest_out) *oldest_out = oldest_slot(c);
    }
    adb_changes_reader_t *r = NULL;
    if (!rc && !(r = adb_calloc(1, sizeof *r))) rc = ACCTDB_ERR_NOMEM;
    if (!rc) {
        r->c = c;
        r->done = from_slot;
        memcpy(r->head, ADB_CHG_MAGIC, 8);
        adb_store_u64(r->head + 8, c->server_id);
        adb_store_u64(r->head + 16, from_slot);
        r->head_sz = ADB_CHG_HEADER_SZ;
        c->readers++;
        *out = r;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void
adb_changes_reader_close(adb_changes_reader_t *r) {
    if (!r) return;
    pthread_mutex_lock(&r->c->mu);
    r->c->readers--;
    pthread_mutex_unlock(&r->c->mu);
    adb_free(r);
}

static void
reader_frame(adb_changes_reader_t *r, uint8_t type, uint64_t v) {
    uint8_t pl[8];
    adb_store_u64(pl, v);
    r->head_sz = frame_put(r->head, type, pl, 8);
    r->head_off = 0;
}

ssize_t
adb_changes_reader_read(adb_changes_reader_t *r, uint8_t *buf, size_t max, int wait_ms) {
    adb_changes_t *c = r->c;
    if (max > ADB_CHG_READER_BUF_SZ) max = ADB_CHG_READER_BUF_SZ;
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    bool waited = false;
    while (n < max) {
        /* A pending header or control frame first. */
        if (r->head_off < r->head_sz) {
            size_t k = ADB_MIN(max - n, r->head_sz - r->head_off);
            memcpy(buf + n, r->head + r->head_off, k);
            r->head_off += k;
            n += k;
            continue;
        }
        if (r->ending || c->stop) break;
        chg_slot_t *s = NULL;
        if (r->in_slot) {
            s = first_after(c, r->cur - 1);
            if (!s || s->slot != r->cur) s = NULL; /* dropped while being sent */
        } else if (too_old(c, r->done)) {
            s = NULL;
        } else {
            s = first_after(c, r->done);
            if (s) {
                r->cur = s->slot;
                r->off = 0;
                r->frame_end = 0;
                r->in_slot = true;
            }
        }
        if (!s && (r->in_slot || too_old(c, r->done))) {
            /* Fell behind the window: say so between frames, then end.  Cut
             * inside a frame, the stream just ends there (the follower sees
             * a broken stream, reconnects and is told SlotTooOld). */
            if (!r->in_slot || r->off == r->frame_end)
                reader_frame(r, ADB_CHG_TOO_OLD, oldest_slot(c));
            r->ending = true;
            continue;
        }
        if (s) {
            size_t k = ADB_MIN(max - n, s->sz - r->off);
            memcpy(buf + n, s->bytes + r->off, k);
            r->off += k;
            n += k;
            while (r->frame_end < r->off) /* the blob's frames are well formed */
                r->frame_end += FRAME_OVERHEAD + adb_load_u32(s->bytes + r->frame_end + 1);
            if (r->off == s->sz) {
                r->done = s->slot;
                r->in_slot = false;
            }
            continue;
        }
        /* Nothing due: return what there is, or wait once for a new slot,
         * then send a heartbeat so the stream still makes progress. */
        if (n) break;
        if (!waited) {
            waited = true;
            int w = 0;
            while (!c->stop && !first_after(c, r->done) && !too_old(c, r->done) && w != ETIMEDOUT)
                w = pthread_cond_timedwait(&c->cv, &c->mu, &deadline);
            continue;
        }
        uint64_t newest = c->cnt ? c->q[(c->head + c->cnt - 1) % c->slots_max].slot : r->done;
        reader_frame(r, ADB_CHG_HEARTBEAT, newest);
    }
    pthread_mutex_unlock(&c->mu);
    return (ssize_t)n;
}

/* ---- the decoder -------------------------------------------------------------------- */

struct adb_changes_dec {
    adb_changes_ev_fn fn;
    void             *ctx;
    bool              have_header;
    uint8_t          *buf; /* the frame being collected */
    size_t            have, need, cap;
    /* slot framing */
    bool     in_slot;
    uint64_t slot, last_slot;
    bool     any_slot;
    uint32_t left; /* accounts still due in the slot */
};

int
adb_changes_dec_new(adb_changes_ev_fn fn, void *ctx, adb_changes_dec_t **out) {
    adb_changes_dec_t *d = adb_calloc(1, sizeof *d);
    if (!d) return ACCTDB_ERR_NOMEM;
    d->fn = fn;
    d->ctx = ctx;
    d->need = ADB_CHG_HEADER_SZ;
    *out = d;
    return 0;
}

void
adb_changes_dec_free(adb_changes_dec_t *d) {
    if (!d) return;
    adb_free(d->buf);
    adb_free(d);
}

static int
dec_frame(adb_changes_dec_t *d, uint8_t const *f, size_t sz, adb_err_t *err) {
    uint8_t  type = f[0];
    uint32_t len = adb_load_u32(f + 1);
    if (adb_load_u32(f + 5 + len) != adb_crc32c(0, f, 5 + (size_t)len))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: a type %u frame fails its CRC",
                           type);
    uint8_t const   *p = f + 5;
    adb_changes_ev_t ev = {.type = type};
    (void)sz;
    switch (type) {
    case ADB_CHG_SLOT:
        if (len != SLOT_PAYLOAD)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: SLOT of %u bytes", len);
        if (d->in_slot)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "change stream: slot %llu begins before slot %llu ended",
                               (unsigned long long)adb_load_u64(p), (unsigned long long)d->slot);
        ev.slot = adb_load_u64(p);
        ev.parent_slot = adb_load_u64(p + 8);
        ev.account_cnt = adb_load_u32(p + 16);
        if (ev.parent_slot >= ev.slot || (d->any_slot && ev.slot <= d->last_slot))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "change stream: slot %llu (parent %llu) does not follow slot %llu",
                               (unsigned long long)ev.slot, (unsigned long long)ev.parent_slot,
                               (unsigned long long)d->last_slot);
        d->in_slot = true;
        d->slot = ev.slot;
        d->left = ev.account_cnt;
        break;
    case ADB_CHG_ACCOUNT: {
        if (!d->in_slot || !d->left)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: an account %s",
                               d->in_slot ? "beyond the slot's count" : "outside a slot");
        if (len < ACCT_FIXED || adb_load_u64(p + 32 + 8 + 32 + 1 + 8) != len - ACCT_FIXED)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                               "change stream: an account frame of %u bytes does not match its "
                               "data length",
                               len);
        acctdb_account_t *a = &ev.account;
        memcpy(a->pubkey.b, p, 32);
        a->lamports = adb_load_u64(p + 32);
        memcpy(a->owner.b, p + 40, 32);
        if (p[72] > 1)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: executable byte %u", p[72]);
        a->executable = p[72] == 1;
        a->rent_epoch = adb_load_u64(p + 73);
        a->data_len = adb_load_u64(p + 81);
        a->data = p + ACCT_FIXED;
        ev.slot = d->slot;
        d->left--;
        break;
    }
    case ADB_CHG_END: {
        if (len != END_PAYLOAD)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: END of %u bytes", len);
        if (!d->in_slot || d->left)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: END %s",
                               d->in_slot ? "before every announced account" : "outside a slot");
        acctdb_bank_info_t *in = &ev.info;
        in->slot = d->slot;
        in->block_height = adb_load_u64(p);
        memcpy(in->lt_checksum, p + 8, 32);
        in->capitalization = adb_load_u64(p + 40);
        in->accounts_data_len = adb_load_u64(p + 48);
        memcpy(in->bank_hash.b, p + 56, 32);
        memcpy(in->parent_bank_hash.b, p + 88, 32);
        memcpy(in->meta.blockhash.b, p + 120, 32);
        in->meta.signature_count = adb_load_u64(p + 152);
        in->meta.transaction_count = adb_load_u64(p + 160);
        in->meta.unix_timestamp = (int64_t)adb_load_u64(p + 168);
        memcpy(in->meta.block_id.b, p + 176, 32);
        in->lamports_per_signature = adb_load_u64(p + 208);
        ev.slot = d->slot;
        d->in_slot = false;
        d->any_slot = true;
        d->last_slot = d->slot;
        break;
    }
    case ADB_CHG_HEARTBEAT:
    case ADB_CHG_TOO_OLD:
        if (len != 8)
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: control frame of %u bytes",
                               len);
        if (type == ADB_CHG_HEARTBEAT)
            ev.newest_slot = adb_load_u64(p);
        else
            ev.oldest_slot = adb_load_u64(p);
        break;
    default:
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "change stream: unknown frame type %u", type);
    }
    return d->fn(d->ctx, &ev);
}

int
adb_changes_dec_push(adb_changes_dec_t *d, void const *p, size_t n, adb_err_t *err) {
    uint8_t const *s = p;
    while (n) {
        /* Collect what the current item needs: the header, a frame head
         * (type + len), then the rest of the frame. */
        size_t want = d->need - d->have;
        if (d->need > d->cap) {
            size_t   cap = d->need < 4096 ? 4096 : d->need;
            uint8_t *nb = adb_realloc(d->buf, cap);
            if (!nb) return adb_err_set(err, ACCTDB_ERR_NOMEM, "change stream: out of memory");
            d->buf = nb;
            d->cap = cap;
        }
        size_t k = ADB_MIN(want, n);
        memcpy(d->buf + d->have, s, k);
        d->have += k;
        s += k;
        n -= k;
        if (d->have < d->need) break;
        if (!d->have_header) {
            if (memcmp(d->buf, ADB_CHG_MAGIC, 8))
                return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                   "change stream: no ADBCHG01 header (not an acctdb change "
                                   "stream, or another version)");
            adb_changes_ev_t ev = {.type = 0,
                                   .server_id = adb_load_u64(d->buf + 8),
                                   .from_slot = adb_load_u64(d->buf + 16)};
            d->have_header = true;
            d->have = 0;
            d->need = 5;
            d->last_slot = ev.from_slot;
            d->any_slot = true;
            int rc = d->fn(d->ctx, &ev);
            if (rc) return rc;
            continue;
        }
        if (d->need == 5) {
            uint32_t len = adb_load_u32(d->buf + 1);
            if (len > ADB_CHG_FRAME_MAX)
                return adb_err_set(err, ACCTDB_ERR_CORRUPT,
                                   "change stream: a frame of %u bytes (the limit is %u)", len,
                                   ADB_CHG_FRAME_MAX);
            d->need = 5 + (size_t)len + 4;
            continue;
        }
        int rc = dec_frame(d, d->buf, d->have, err);
        d->have = 0;
        d->need = 5;
        if (rc) return rc;
    }
    return 0;
}
