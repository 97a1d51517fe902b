/* fuzz/fuzz_base58.c - base58 decode of arbitrary text must either fail
 * cleanly or round-trip; encode of arbitrary bytes must round-trip. */
#include "util/base58.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz > 4096) return 0;
    /* Decode direction. */
    uint8_t bin[4096];
    size_t  n = 0;
    int     rc = adb_base58_decode((char const *)data, sz, bin, sizeof bin, &n);
    if (rc == 0) {
        char   txt[8192];
        size_t len;
        if (adb_base58_encode(bin, n, txt, sizeof txt, &len) != 0) abort();
        if (len != sz || memcmp(txt, data, sz) != 0) abort();
    } else if (rc != ACCTDB_ERR_INVALID && rc != ACCTDB_ERR_FULL && rc != ACCTDB_ERR_NOMEM) {
        abort();
    }
    /* 32-byte fixed decode agrees with the general one. */
    uint8_t k[32];
    rc = adb_base58_decode_32((char const *)data, sz, k);
    if (rc == 0 && (n != 32 || memcmp(k, bin, 32) != 0)) abort();

    /* Encode direction. */
    char   txt[8192];
    size_t len;
    if (adb_base58_encode(data, sz, txt, sizeof txt, &len) != 0) abort();
    uint8_t back[4096];
    if (adb_base58_decode(txt, len, back, sizeof back, &n) != 0) abort();
    if (n != sz || memcmp(back, data, sz) != 0) abort();
    /* A too-small output buffer is an error, never an overflow. */
    if (len > 0) {
        char small[64];
        int  r2 = adb_base58_encode(data, sz, small, len < 64 ? len : 64, &n);
        if (r2 != ACCTDB_ERR_FULL) abort();
    }
    return 0;
}
