/* fuzz/fuzz_xstate_sidecar.c - the parser of a snapshot's sidecar
 * (<archive>.acctdb, adb_xs_sidecar_decode in src/db/db_xstate.c) against
 * arbitrary bytes, with the body capped at BODY_MAX (1 MiB) bytes.  Input,
 * either:
 *   - a sidecar file, decoded for the slot and lattice checksum its own
 *     header names, first as given, then with its trailing BLAKE3
 *     recomputed (so mutations reach the zstd frame); or
 *   - "BODY" then a body (loaded_bytes, cnt, trie_last, root, entries),
 *     which is compressed and wrapped in a valid header and hash here (so
 *     mutations reach the entries and the trie).
 * The decoder must return 0, CORRUPT, UNSUPPORTED_VERSION or MISMATCH (NOMEM
 * never: the cap holds) with a reason; entries come well formed, non-empty
 * and strictly ascending; when it accepts, their count is the one named,
 * the trie holds exactly the compressed ones and has the root named, and
 * another slot is a MISMATCH.  The callback leaves the hash a compressed
 * account carries as it is (the importer fills in the archive's), and
 * fails at an entry picked from the first byte: the parse must stop with
 * its code, the reason untouched, nothing leaked. */
#include "xstate_fuzz.h"

#include "db/db_xstate.h"
#include "hash/blake3.h"
#include "state/trie.h"
#include "store/acctfile.h"

#include <stdlib.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define STOP_RC  ACCTDB_ERR_FULL
#define BODY_MAX (1ull << 20)

typedef struct ctx {
    uint64_t i, stop, compressed;
    uint8_t  prev[32];
} ctx_t;

static int
on_ent(void *vc, uint8_t const key[32], adb_xrec_t *r) {
    ctx_t *c = vc;
    xs_fuzz_check_rec(r, false);
    if (c->i && memcmp(c->prev, key, 32) >= 0) abort();
    memcpy(c->prev, key, 32);
    if (r->flags & ADB_XREC_COMPRESSED) c->compressed++;
    return c->i++ == c->stop ? STOP_RC : 0;
}

static uint64_t
run(uint8_t const *p, size_t sz, uint64_t stop) {
    uint64_t slot = sz >= 24 ? adb_load_u64(p + 16) : 0;
    uint8_t  ck[32] = {0};
    if (sz >= 56) memcpy(ck, p + 24, 32);
    adb_xs_side_hdr_t h;
    adb_trie_t       *t = (adb_trie_t *)&h; /* must be reset */
    ctx_t             c = {.stop = stop};
    char              why[256] = "untouched";
    int rc = adb_xs_sidecar_decode(p, sz, slot, ck, BODY_MAX, &h, on_ent, &c, &t, why, sizeof why);
    if (rc) {
        if (t) abort();
        if (rc == STOP_RC) {
            if (c.i != stop + 1 || strcmp(why, "untouched")) abort();
        } else if (rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_UNSUPPORTED_VERSION &&
                   rc != ACCTDB_ERR_MISMATCH) {
            abort();
        } else if (!memchr(why, 0, sizeof why) || !why[0] || !strcmp(why, "untouched")) {
            abort();
        }
        if (rc == ACCTDB_ERR_MISMATCH) abort(); /* slot and checksum are its own */
        return 0;
    }
    if (c.i != h.cnt || h.body_sz != 56 + h.cnt * ADB_XS_ENT_SZ || h.body_sz > BODY_MAX) abort();
    if (h.slot != slot || memcmp(h.ck, ck, 32)) abort();
    uint8_t root[32] = {0};
    if (t) {
        adb_trie_root(t, root);
        if (adb_trie_cnt(t) != c.compressed || !c.compressed) abort();
        adb_trie_close(t);
    } else if (c.compressed) {
        abort();
    }
    if (memcmp(root, h.root, 32)) abort();
    /* Without a callback or a trie out, the same; another slot is another archive's. */
    adb_xs_side_hdr_t h2;
    if (adb_xs_sidecar_decode(p, sz, slot, ck, BODY_MAX, &h2, NULL, NULL, NULL, why, 0) ||
        memcmp(&h, &h2, sizeof h))
        abort();
    if (adb_xs_sidecar_decode(p, sz, slot + 1, ck, BODY_MAX, &h2, NULL, NULL, NULL, why, 1) !=
            ACCTDB_ERR_MISMATCH ||
        why[0])
        abort();
    /* A cap below the body refuses it before allocating. */
    if (adb_xs_sidecar_decode(p, sz, slot, ck, h.body_sz - 1, &h2, NULL, NULL, NULL, why,
                              sizeof why) != ACCTDB_ERR_CORRUPT)
        abort();
    return c.i + 1;
}

/* "BODY" + body: a sidecar around it. */
static void
run_body(uint8_t const *b, size_t bsz) {
    size_t   bound = ZSTD_compressBound(bsz);
    uint8_t *f = malloc(ADB_XS_SIDE_HDR_SZ + bound + 32);
    if (!f) return;
    size_t z = ZSTD_compress(f + ADB_XS_SIDE_HDR_SZ, bound, b, bsz, 1);
    if (ZSTD_isError(z)) abort();
    memset(f, 0, ADB_XS_SIDE_HDR_SZ);
    memcpy(f, "ACCTDBS1", 8);
    adb_store_u32(f + 8, 2);
    adb_store_u64(f + 16, 1000);
    memset(f + 24, 0xC5, 32);
    adb_store_u64(f + 56, bsz);
    adb_blake3_hash(f, ADB_XS_SIDE_HDR_SZ + z, f + ADB_XS_SIDE_HDR_SZ + z, 32);
    size_t   fsz = ADB_XS_SIDE_HDR_SZ + z + 32;
    uint64_t n = run(f, fsz, UINT64_MAX);
    if (n > 1) run(f, fsz, (bsz ? b[bsz - 1] : 0) % (n - 1));
    free(f);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz >= 4 && !memcmp(data, "BODY", 4)) {
        run_body(data + 4, sz - 4);
        return 0;
    }
    run(data, sz, UINT64_MAX);
    if (sz < 32) return 0;
    uint8_t *cp = malloc(sz);
    if (!cp) return 0;
    memcpy(cp, data, sz);
    adb_blake3_hash(cp, sz - 32, cp + sz - 32, 32);
    uint64_t n = run(cp, sz, UINT64_MAX);
    if (n > 1) run(cp, sz, data[0] % (n - 1));
    free(cp);
    return 0;
}
