/* The change stream (src/net/changes.c): the window a server keeps, its
 * readers, the wire format through the decoder, falling behind the window
 * (SlotTooOld: at open and mid-stream), heartbeats, shutdown, and hostile
 * streams the decoder must refuse with a reason. */
#include "../test.h"

#include "net/net.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- synthetic slots ----------------------------------------------------------------- */

typedef struct fake_slot {
    acctdb_slot_changes_t sc;
    acctdb_bank_info_t    info;
    acctdb_account_t      acc[8];
    uint8_t               data[8][300];
} fake_slot_t;

static void
fake(fake_slot_t *f, uint64_t slot, uint64_t parent, uint64_t seed) {
    memset(f, 0, sizeof *f);
    adb_test_rng_t r = {seed};
    size_t         n = 1 + adb_test_rng_below(&r, 8);
    for (size_t i = 0; i < n; i++) {
        acctdb_account_t *a = &f->acc[i];
        adb_test_rng_fill(&r, a->pubkey.b, 32);
        a->pubkey.b[0] = (uint8_t)i; /* pubkey order */
        adb_test_rng_fill(&r, a->owner.b, 32);
        a->lamports = adb_test_rng_next(&r) % 1000; /* some zero: closed */
        a->rent_epoch = i % 2 ? UINT64_MAX : 0;
        a->executable = i == 3;
        a->data_len = adb_test_rng_below(&r, 300);
        adb_test_rng_fill(&r, f->data[i], (size_t)a->data_len);
        a->data = f->data[i];
    }
    f->info.slot = slot;
    f->info.parent_slot = parent;
    f->info.block_height = slot / 2;
    adb_test_rng_fill(&r, f->info.lt_checksum, 32);
    adb_test_rng_fill(&r, f->info.bank_hash.b, 32);
    adb_test_rng_fill(&r, f->info.meta.blockhash.b, 32);
    f->info.meta.signature_count = slot * 3;
    f->info.meta.unix_timestamp = -(int64_t)slot;
    f->info.lamports_per_signature = 5000;
    f->sc = (acctdb_slot_changes_t){slot, parent, &f->info, f->acc, n};
}

/* ---- a decoding sink --------------------------------------------------------------------- */

typedef struct sink {
    uint64_t    server_id, from_slot;
    uint64_t    slots[256];
    size_t      nslots, accounts, heartbeats;
    bool        too_old;
    uint64_t    oldest;
    uint64_t    seed_of_slot; /* 1000 + slot: the fake's seed, to compare */
    int         mismatches;
    fake_slot_t cur;
    size_t      acc_i;
} sink_t;

static int
on_ev(void *ctx, adb_changes_ev_t const *ev) {
    sink_t *s = ctx;
    switch (ev->type) {
    case 0:
        s->server_id = ev->server_id;
        s->from_slot = ev->from_slot;
        break;
    case ADB_CHG_SLOT:
        fake(&s->cur, ev->slot, ev->parent_slot, 1000 + ev->slot);
        if (ev->account_cnt != s->cur.sc.cnt) s->mismatches++;
        s->acc_i = 0;
        break;
    case ADB_CHG_ACCOUNT: {
        acctdb_account_t const *w = &s->cur.acc[s->acc_i++], *a = &ev->account;
        if (memcmp(w->pubkey.b, a->pubkey.b, 32) || memcmp(w->owner.b, a->owner.b, 32) ||
            w->lamports != a->lamports || w->rent_epoch != a->rent_epoch ||
            w->executable != a->executable || w->data_len != a->data_len ||
            memcmp(w->data, a->data, (size_t)a->data_len))
            s->mismatches++;
        s->accounts++;
        break;
    }
    case ADB_CHG_END:
        if (memcmp(ev->info.lt_checksum, s->cur.info.lt_checksum, 32) ||
            memcmp(ev->info.bank_hash.b, s->cur.info.bank_hash.b, 32) ||
            ev->info.meta.unix_timestamp != s->cur.info.meta.unix_timestamp ||
            ev->info.block_height != s->cur.info.block_height ||
            ev->info.lamports_per_signature != 5000)
            s->mismatches++;
        if (s->nslots < 256) s->slots[s->nslots++] = ev->slot;
        break;
    case ADB_CHG_HEARTBEAT:
        s->heartbeats++;
        break;
    case ADB_CHG_TOO_OLD:
        s->too_old = true;
        s->oldest = ev->oldest_slot;
        break;
    }
    return 0;
}

/* Reads the reader to its end (or until nothing but heartbeats come),
 * through buffers of `chunk` bytes, decoding. */
static void
drain(adb_changes_reader_t *r, sink_t *s, size_t chunk, int max_idle_reads) {
    adb_changes_dec_t *d;
    assert_int_equal(adb_changes_dec_new(on_ev, s, &d), 0);
    uint8_t *buf = malloc(chunk);
    for (;;) {
        ssize_t n = adb_changes_reader_read(r, buf, chunk, 20);
        if (n <= 0) break;
        adb_err_t err = {0};
        if (adb_changes_dec_push(d, buf, (size_t)n, &err)) fail_msg("decode: %s", err.msg);
        if ((int)s->heartbeats >= max_idle_reads) break; /* idle: nothing more is due */
    }
    free(buf);
    adb_changes_dec_free(d);
}

static void
push(adb_changes_t *c, uint64_t from, uint64_t to) {
    fake_slot_t *f = malloc(sizeof *f);
    for (uint64_t s = from; s <= to; s++) {
        fake(f, s, s - 1, 1000 + s);
        adb_changes_hook(c, &f->sc);
    }
    free(f);
}

static void
t_round_trip(void **state) {
    (void)state;
    adb_changes_t *c;
    adb_err_t      err;
    assert_int_equal(adb_changes_new(20, 0, &c, &err), 0);
    push(c, 11, 20);
    size_t const chunks[] = {1, 7, 100, 65536};
    for (size_t k = 0; k < 4; k++) {
        adb_changes_reader_t *r;
        assert_int_equal(adb_changes_reader_open(c, 10, &r, NULL), 0);
        sink_t *s = calloc(1, sizeof *s);
        drain(r, s, chunks[k], 3);
        assert_int_equal(s->mismatches, 0);
        assert_int_equal(s->nslots, 10);
        for (size_t i = 0; i < s->nslots; i++)
            assert_int_equal(s->slots[i], 11 + i);
        assert_int_equal(s->from_slot, 10);
        assert_true(s->heartbeats >= 1); /* idle after slot 20 */
        adb_changes_reader_close(r);
        free(s);
    }
    /* Starting mid-window: only the slots after it. */
    adb_changes_reader_t *r;
    assert_int_equal(adb_changes_reader_open(c, 15, &r, NULL), 0);
    sink_t *s = calloc(1, sizeof *s);
    drain(r, s, 4096, 2);
    assert_int_equal(s->nslots, 5);
    assert_int_equal(s->slots[0], 16);
    adb_changes_reader_close(r);
    free(s);
    adb_changes_stats_t st;
    adb_changes_stats(c, &st);
    assert_int_equal(st.slots, 10);
    assert_int_equal(st.oldest_slot, 11);
    assert_int_equal(st.newest_slot, 20);
    assert_int_equal(st.readers, 0);
    adb_changes_free(c);
}

static void
t_window(void **state) {
    (void)state;
    adb_changes_t *c;
    adb_err_t      err;
    assert_int_equal(adb_changes_new(20, 0, &c, &err), 0);
    push(c, 1, 50); /* keeps 31..50 */
    adb_changes_reader_t *r;
    uint64_t              oldest = 0;
    /* From 29: slot 30 is gone: SlotTooOld, naming the oldest kept. */
    assert_int_equal(adb_changes_reader_open(c, 29, &r, &oldest), ACCTDB_ERR_TOO_OLD);
    assert_int_equal(oldest, 31);
    /* From 30 (the oldest's parent): fine. */
    assert_int_equal(adb_changes_reader_open(c, 30, &r, NULL), 0);
    /* A slow reader, cut between frames: it read the header and slot 31's
     * SLOT frame when the window moved past slot 31: a TOO_OLD frame, then
     * the end. */
    sink_t            *s = calloc(1, sizeof *s);
    adb_changes_dec_t *d;
    assert_int_equal(adb_changes_dec_new(on_ev, s, &d), 0);
    uint8_t buf[300];
    ssize_t n = adb_changes_reader_read(r, buf, ADB_CHG_HEADER_SZ + 9 + 20, 10);
    assert_int_equal(n, ADB_CHG_HEADER_SZ + 29);
    assert_int_equal(adb_changes_dec_push(d, buf, (size_t)n, &err), 0);
    push(c, 51, 100); /* keeps 81..100: slot 31, being read, is gone */
    for (;;) {
        n = adb_changes_reader_read(r, buf, sizeof buf, 10);
        if (n <= 0) break;
        assert_int_equal(adb_changes_dec_push(d, buf, (size_t)n, &err), 0);
    }
    assert_true(s->too_old);
    assert_int_equal(s->oldest, 81);
    assert_int_equal(s->nslots, 0); /* slot 31 never completed */
    adb_changes_dec_free(d);
    adb_changes_reader_close(r);
    free(s);
    /* Cut inside a frame: the stream just ends there (a follower sees a
     * broken stream, reconnects, and is told SlotTooOld at once). */
    assert_int_equal(adb_changes_reader_open(c, 80, &r, NULL), 0);
    s = calloc(1, sizeof *s);
    assert_int_equal(adb_changes_dec_new(on_ev, s, &d), 0);
    n = adb_changes_reader_read(r, buf, ADB_CHG_HEADER_SZ + 40, 10); /* into an ACCOUNT */
    assert_int_equal(adb_changes_dec_push(d, buf, (size_t)n, &err), 0);
    push(c, 101, 130);
    size_t after = 0;
    for (;;) {
        n = adb_changes_reader_read(r, buf, sizeof buf, 10);
        if (n <= 0) break;
        after += (size_t)n;
    }
    assert_int_equal(after, 0);
    assert_false(s->too_old);
    assert_int_equal(s->nslots, 0);
    adb_changes_dec_free(d);
    adb_changes_reader_close(r);
    free(s);
    assert_int_equal(adb_changes_reader_open(c, 80, &r, &oldest), ACCTDB_ERR_TOO_OLD);
    assert_int_equal(oldest, 111);
    /* A byte budget drops slots too. */
    adb_changes_t *small;
    assert_int_equal(adb_changes_new(1000, 4000, &small, &err), 0);
    push(small, 1, 100);
    adb_changes_stats_t st;
    adb_changes_stats(small, &st);
    assert_true(st.bytes <= 4000);
    assert_true(st.slots < 100 && st.slots >= 1);
    assert_int_equal(st.newest_slot, 100);
    adb_changes_free(small);
    adb_changes_free(c);
}

typedef struct waiter {
    adb_changes_reader_t *r;
    ssize_t               last;
    int                   reads;
} waiter_t;

static void *
wait_main(void *arg) {
    waiter_t *w = arg;
    uint8_t   buf[1024];
    while ((w->last = adb_changes_reader_read(w->r, buf, sizeof buf, 200)) > 0)
        w->reads++;
    return NULL;
}

static void
t_shutdown(void **state) {
    (void)state;
    adb_changes_t *c;
    adb_err_t      err;
    assert_int_equal(adb_changes_new(10, 0, &c, &err), 0);
    waiter_t w = {0};
    assert_int_equal(adb_changes_reader_open(c, 0, &w.r, NULL), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
    push(c, 1, 3);
    adb_changes_shutdown(c);
    pthread_join(t, NULL);
    assert_int_equal(w.last, 0); /* the end of the stream */
    adb_changes_reader_close(w.r);
    adb_changes_reader_t *r;
    assert_int_equal(adb_changes_reader_open(c, 0, &r, NULL), ACCTDB_ERR_STOPPED);
    adb_changes_free(c);
}

/* ---- hostile streams ------------------------------------------------------------------- */

static int
count_ev(void *ctx, adb_changes_ev_t const *ev) {
    (void)ev;
    ++*(size_t *)ctx;
    return 0;
}

static size_t g_events;

static int
decode_all(uint8_t const *p, size_t n, char *why, size_t why_max) {
    adb_changes_dec_t *d;
    g_events = 0;
    assert_int_equal(adb_changes_dec_new(count_ev, &g_events, &d), 0);
    adb_err_t err = {0};
    int       rc = adb_changes_dec_push(d, p, n, &err);
    snprintf(why, why_max, "%s", err.msg);
    adb_changes_dec_free(d);
    return rc;
}

static void
t_hostile(void **state) {
    (void)state;
    adb_changes_t *c;
    adb_err_t      err;
    assert_int_equal(adb_changes_new(10, 0, &c, &err), 0);
    push(c, 1, 3);
    adb_changes_reader_t *r;
    assert_int_equal(adb_changes_reader_open(c, 0, &r, NULL), 0);
    uint8_t *good = malloc(1 << 16);
    size_t   n = 0;
    for (;;) {
        ssize_t k = adb_changes_reader_read(r, good + n, (1 << 16) - n, 10);
        if (k <= 0) break;
        bool idle = k == 17 && good[n] == ADB_CHG_HEARTBEAT; /* nothing more is due */
        n += (size_t)k;
        if (idle) break;
    }
    adb_changes_reader_close(r);
    char why[600];
    assert_int_equal(decode_all(good, n, why, sizeof why), 0);
    size_t all_events = g_events;
    /* Every single-byte flip past the header's server id and start slot is
     * refused with a reason, or (a flipped length) leaves the decoder
     * waiting for bytes that never come: fewer events, never other ones. */
    uint8_t *bad = malloc(n);
    size_t   refused = 0, stalled = 0;
    for (size_t i = 8; i < n; i++) {
        memcpy(bad, good, n);
        bad[i] ^= 0x40;
        if (decode_all(bad, n, why, sizeof why)) {
            refused++;
            assert_true(why[0] != 0);
        } else if (i >= ADB_CHG_HEADER_SZ) {
            if (g_events >= all_events) fail_msg("a flip at byte %zu went unnoticed", i);
            stalled++;
        }
    }
    print_message("    %zu flips refused, %zu left the decoder waiting\n", refused, stalled);
    /* Every truncation decodes what it holds and reports nothing bad. */
    for (size_t cut = 0; cut < n; cut += 7)
        if (decode_all(good, cut, why, sizeof why)) fail_msg("cut at %zu of %zu: %s", cut, n, why);
    /* A length past the limit. */
    memcpy(bad, good, n);
    adb_store_u32(bad + ADB_CHG_HEADER_SZ + 1, ADB_CHG_FRAME_MAX + 1);
    assert_int_equal(decode_all(bad, n, why, sizeof why), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(why, "limit"));
    /* Not a change stream. */
    char const *http = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    assert_int_equal(decode_all((uint8_t const *)http, strlen(http), why, sizeof why),
                     ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(why, "header"));
    free(bad);
    free(good);
    adb_changes_free(c);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_round_trip),
    cmocka_unit_test(t_window),
    cmocka_unit_test(t_shutdown),
    cmocka_unit_test(t_hostile),
};
ADB_TEST_GROUP(changes, tests);
