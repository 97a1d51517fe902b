/* fuzz/fuzz_changes.c - the /changes stream decoder (src/net/changes.c) on
 * arbitrary bytes, pushed in pieces whose sizes come from the input.
 * Invariants: no crash; an error comes with a message; events obey the
 * framing the decoder promises (the header first; a slot's accounts only
 * between its SLOT and END, as many as announced, data inside the input's
 * bounds; slots increasing); the same bytes pushed whole or in pieces give
 * the same events and the same verdict. */
#include "net/net.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

typedef struct trace {
    uint64_t h; /* a digest of the events */
    size_t   n;
    bool     header, in_slot;
    uint32_t left;
    uint64_t last_slot;
} trace_t;

static void
mix(trace_t *t, uint64_t v) {
    t->h = (t->h ^ v) * 0x100000001b3ull;
}

static int
on_ev(void *ctx, adb_changes_ev_t const *ev) {
    trace_t *t = ctx;
    t->n++;
    mix(t, (uint64_t)ev->type);
    switch (ev->type) {
    case 0:
        if (t->header) abort();
        t->header = true;
        t->last_slot = ev->from_slot;
        break;
    case ADB_CHG_SLOT:
        if (!t->header || t->in_slot || ev->slot <= t->last_slot || ev->parent_slot >= ev->slot)
            abort();
        t->in_slot = true;
        t->left = ev->account_cnt;
        mix(t, ev->slot);
        break;
    case ADB_CHG_ACCOUNT: {
        if (!t->in_slot || !t->left) abort();
        t->left--;
        acctdb_account_t const *a = &ev->account;
        uint64_t                s = 0;
        for (uint64_t i = 0; i < a->data_len; i++)
            s += a->data[i]; /* ASan: in bounds */
        mix(t, s ^ a->lamports ^ a->data_len);
        break;
    }
    case ADB_CHG_END:
        if (!t->in_slot || t->left) abort();
        t->in_slot = false;
        t->last_slot = ev->slot;
        mix(t, ev->info.capitalization);
        break;
    case ADB_CHG_HEARTBEAT:
    case ADB_CHG_TOO_OLD:
        if (!t->header) abort();
        mix(t, ev->newest_slot ^ ev->oldest_slot);
        break;
    default:
        abort();
    }
    return 0;
}

static int
run(uint8_t const *p, size_t n, size_t const *cuts, size_t ncuts, trace_t *t) {
    adb_changes_dec_t *d;
    if (adb_changes_dec_new(on_ev, t, &d)) return -1;
    adb_err_t err = {0};
    int       rc = 0;
    size_t    at = 0;
    for (size_t i = 0; i <= ncuts && !rc; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (end < at) end = at;
        if (end > n) end = n;
        rc = adb_changes_dec_push(d, p + at, end - at, &err);
        at = end;
    }
    if (rc && !err.msg[0]) abort();
    adb_changes_dec_free(d);
    return rc;
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz < 1) return 0;
    /* First byte: how many pieces; the piece ends derive from it. */
    size_t         ncuts = data[0] % 8, cuts[8];
    uint8_t const *p = data + 1;
    size_t         n = sz - 1;
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = n ? (n * (i + 1) * 37 / 41) % (n + 1) : 0;
    for (size_t i = 1; i < ncuts; i++)
        if (cuts[i] < cuts[i - 1]) cuts[i] = cuts[i - 1];
    trace_t whole = {.h = 1469598103934665603ull}, pieces = whole;
    int     a = run(p, n, NULL, 0, &whole);
    int     b = run(p, n, cuts, ncuts, &pieces);
    if (a != b || whole.h != pieces.h || whole.n != pieces.n) abort();
    return 0;
}
