/* fuzz/fuzz_xstate_log.c - the parser of acctdb's state log (the named
 * region of xstate-<g>.log, adb_xs_log_decode in src/db/db_xstate.c)
 * against arbitrary bytes.  Input: the region (the CRC-32C the commit names
 * is the caller's).  The decoder must return 0 or CORRUPT with a reason;
 * the record callback must see each record's header at the offset where
 * the previous one's entries ended, with its magic, and its entries must
 * follow it, each well formed and re-encoding to its very bytes; when it
 * accepts, the records fill the region exactly.  A callback failing at a
 * record or an entry (picked from the first byte) must stop the parse with
 * its own code, the reason untouched. */
#include "xstate_fuzz.h"

#include "db/db_xstate.h"
#include "store/acctfile.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define STOP_RC ACCTDB_ERR_FULL

typedef struct ctx {
    uint8_t const *buf;
    size_t         sz;
    size_t         at;   /* where the next entry or record must be */
    uint64_t       left; /* entries of the current record still due */
    uint64_t       n;    /* callbacks so far (records and entries) */
    uint64_t       stop; /* fail at this callback (UINT64_MAX: never) */
    uint64_t       recs; /* records seen */
    uint64_t       slot; /* the current record's */
} ctx_t;

static int
on_rec(void *vc, adb_xs_log_rec_t const *h) {
    ctx_t *c = vc;
    if (c->left || h->off != c->at || c->sz - c->at < ADB_XS_LOG_HDR_SZ) abort();
    uint8_t const *p = c->buf + c->at;
    if (memcmp(p, "XSL2", 4) || h->cnt != adb_load_u32(p + 4) || h->slot != adb_load_u64(p + 8) ||
        h->loaded != adb_load_u64(p + 16))
        abort();
    if (h->cnt > (c->sz - c->at - ADB_XS_LOG_HDR_SZ) / ADB_XS_ENT_SZ) abort(); /* checked first */
    c->at += ADB_XS_LOG_HDR_SZ;
    c->left = h->cnt;
    c->slot = h->slot;
    c->recs++;
    return c->n++ == c->stop ? STOP_RC : 0;
}

static int
on_ent(void *vc, uint8_t const key[32], adb_xrec_t *r) {
    ctx_t *c = vc;
    if (!c->left || c->sz - c->at < ADB_XS_ENT_SZ) abort();
    xs_fuzz_check_rec(r, true);
    uint8_t e[ADB_XS_ENT_SZ];
    adb_xs_ent_encode(e, key, r);
    if (memcmp(e, c->buf + c->at, ADB_XS_ENT_SZ)) abort();
    c->at += ADB_XS_ENT_SZ;
    c->left--;
    return c->n++ == c->stop ? STOP_RC : 0;
}

static uint64_t
run(uint8_t const *buf, size_t sz, uint64_t stop) {
    ctx_t c = {.buf = buf, .sz = sz, .stop = stop};
    char  why[128] = "untouched";
    int   rc = adb_xs_log_decode(buf, sz, on_rec, on_ent, &c, why, sizeof why);
    if (rc == STOP_RC) {
        if (c.n != stop + 1 || strcmp(why, "untouched")) abort();
        return 0;
    }
    if (rc) {
        if (rc != ACCTDB_ERR_CORRUPT || !memchr(why, 0, sizeof why) || !why[0] ||
            !strcmp(why, "untouched") || strncmp(why, "offset ", 7))
            abort();
        return 0;
    }
    if (c.at != sz || c.left) abort();
    if (sz == 0 && c.recs) abort();
    /* Without callbacks, the same. */
    if (adb_xs_log_decode(buf, sz, NULL, NULL, NULL, why, 0)) abort();
    return c.n;
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    uint64_t n = run(data, sz, UINT64_MAX);
    if (n) run(data, sz, data[0] % n);
    return 0;
}
