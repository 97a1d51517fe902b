/* fuzz/fuzz_manifest.c - the manifest decoder on arbitrary bytes: it must
 * never crash, read out of bounds, leak or allocate past its budget; when
 * it accepts the input, encoding gives back exactly the same bytes, and the
 * checks, bank hash and JSON dump run on the result. */
#include "snapshot/manifest.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    adb_manifest_t m;
    adb_err_t      e;
    int            rc = adb_manifest_decode(data, sz, 0, &m, &e);
    if (rc) {
        /* Failures are CORRUPT (or NOMEM over budget) with a message, and
         * leave nothing behind. */
        if ((rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_NOMEM) || !e.msg[0] || m.mem.head)
            abort();
        return 0;
    }
    if (m.mem.used_sz > ADB_SNAP_BUDGET(sz)) abort();
    uint8_t *o;
    size_t   osz;
    if (adb_manifest_encode_buf(&m, &o, &osz) != 0) abort();
    if (osz != sz || memcmp(o, data, sz) != 0) abort();
    adb_free(o);

    (void)adb_manifest_check(&m, 0, NULL);
    (void)adb_manifest_check(&m, ADB_MANIFEST_CHECK_LATTICE, NULL);
    uint8_t h[32];
    rc = adb_manifest_bank_hash(&m, h);
    if (rc != 0 && rc != ACCTDB_ERR_UNSUPPORTED) abort();
    char  *t;
    size_t tsz;
    if (adb_manifest_to_json_buf(&m, false, &t, &tsz) != 0) abort();
    if (tsz == 0 || t[0] != '{' || t[tsz - 1] != '}') abort();
    adb_free(t);
    adb_manifest_fini(&m);
    return 0;
}
