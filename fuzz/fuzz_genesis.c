/* fuzz/fuzz_genesis.c - the genesis.bin decoder on arbitrary bytes: no
 * crash, no out-of-bounds read, no leak; an accepted input encodes back to
 * the same bytes and its JSON dump completes. */
#include "snapshot/genesis.h"
#include "util/json_out.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    adb_genesis_t g;
    adb_err_t     e;
    int           rc = adb_genesis_decode(data, sz, 0, &g, &e);
    if (rc) {
        if ((rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_NOMEM) || !e.msg[0] || g.mem.head)
            abort();
        return 0;
    }
    uint8_t *o;
    size_t   osz;
    if (adb_genesis_encode_buf(&g, &o, &osz) != 0) abort();
    if (osz != sz || memcmp(o, data, sz) != 0) abort();
    adb_free(o);
    adb_json_t j;
    adb_json_init_buf(&j);
    adb_genesis_json(&j, &g);
    char  *t;
    size_t tsz;
    if (adb_json_take(&j, &t, &tsz) != 0) abort();
    adb_free(t);
    adb_json_fini(&j);
    adb_genesis_fini(&g);
    return 0;
}
