/* fuzz/fuzz_xstate_image.c - the parser of acctdb's state image
 * (xstate-<g>.img, adb_xs_image_decode in src/db/db_xstate.c) against
 * arbitrary bytes.  Input: an image file, decoded as the generation its own
 * header names (so any generation gets past the header), first as given,
 * then with its trailing BLAKE3 recomputed (so mutations reach the
 * entries).  The decoder must return 0 or CORRUPT with a reason; when it
 * accepts, the file is exactly header, cnt entries and hash, each record is
 * a well-formed non-empty one, and each entry re-encodes to its very bytes.
 * A callback failing at an entry (picked from the first byte) must stop
 * the parse with its own code, the reason untouched. */
#include "xstate_fuzz.h"

#include "db/db_xstate.h"
#include "hash/blake3.h"
#include "store/acctfile.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define STOP_RC ACCTDB_ERR_FULL

typedef struct ctx {
    uint8_t const *buf;
    size_t         sz;
    uint64_t       i, stop; /* entries seen; fail at this one (UINT64_MAX: never) */
} ctx_t;

static int
on_ent(void *vc, uint8_t const key[32], adb_xrec_t *r) {
    ctx_t *c = vc;
    xs_fuzz_check_rec(r, false);
    size_t off = ADB_XS_IMG_HDR_SZ + (size_t)c->i * ADB_XS_ENT_SZ;
    if (c->sz < 32 || off + ADB_XS_ENT_SZ > c->sz - 32) abort();
    uint8_t e[ADB_XS_ENT_SZ];
    adb_xs_ent_encode(e, key, r);
    if (memcmp(e, c->buf + off, ADB_XS_ENT_SZ)) abort();
    return c->i++ == c->stop ? STOP_RC : 0;
}

/* One decode of buf[sz], checked; returns 1 + the entries when it accepts,
 * else 0. */
static uint64_t
run(uint8_t const *buf, size_t sz, uint64_t stop) {
    uint64_t         gen = sz >= 24 ? adb_load_u64(buf + 16) : 0;
    adb_xs_img_hdr_t h;
    ctx_t            c = {.buf = buf, .sz = sz, .stop = stop};
    char             why[128] = "untouched";
    int              rc = adb_xs_image_decode(buf, sz, gen, &h, on_ent, &c, why, sizeof why);
    if (rc == STOP_RC) {
        if (c.i != stop + 1 || strcmp(why, "untouched")) abort();
    } else if (rc) {
        if (rc != ACCTDB_ERR_CORRUPT || !why[0] || !memchr(why, 0, sizeof why)) abort();
        if (!strcmp(why, "untouched")) abort();
    } else {
        if (c.i != h.cnt || h.gen != gen) abort();
        if (sz != ADB_XS_IMG_HDR_SZ + h.cnt * ADB_XS_ENT_SZ + 32) abort();
        if (h.loaded != adb_load_u64(buf + 32) || h.slot != adb_load_u64(buf + 40) ||
            h.trie_last != adb_load_u64(buf + 48))
            abort();
        /* Without a callback, and with a tiny reason buffer, the same. */
        adb_xs_img_hdr_t h2;
        if (adb_xs_image_decode(buf, sz, gen, &h2, NULL, NULL, why, 0) || memcmp(&h, &h2, sizeof h))
            abort();
        /* Another generation is a bad header. */
        if (adb_xs_image_decode(buf, sz, gen + 1, &h2, NULL, NULL, why, 1) != ACCTDB_ERR_CORRUPT ||
            why[0])
            abort();
    }
    return rc == 0 ? c.i + 1 : 0;
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    run(data, sz, UINT64_MAX);
    if (sz < 32) return 0;
    uint8_t *cp = malloc(sz);
    if (!cp) return 0;
    memcpy(cp, data, sz);
    adb_blake3_hash(cp, sz - 32, cp + sz - 32, 32);
    uint64_t n = run(cp, sz, UINT64_MAX);
    if (n > 1) /* accepted with entries: stop at one of them */
        run(cp, sz, data[0] % (n - 1));
    free(cp);
    return 0;
}
