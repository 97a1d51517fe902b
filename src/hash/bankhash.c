/* src/hash/bankhash.c - the bank hash of every era (see bankhash.h). */
#include "hash/bankhash.h"

#include "hash/sha256.h"

uint64_t
adb_bankhash_fork_cnt(adb_slot_u64_t const *f, size_t n, uint64_t parent_slot, uint64_t slot) {
    uint64_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].slot > parent_slot && f[i].slot <= slot) cnt += f[i].val;
    return cnt;
}

int
adb_bankhash(adb_bankhash_in_t const *in, uint8_t out[32]) {
    uint8_t   sig[8], h[32];
    adb_iov_t p[4];
    size_t    n = 0;
    adb_store_u64(sig, in->signature_count);
    p[n++] = (adb_iov_t){in->parent_hash, 32};
    if (in->accounts_delta_hash) p[n++] = (adb_iov_t){in->accounts_delta_hash, 32};
    p[n++] = (adb_iov_t){sig, 8};
    p[n++] = (adb_iov_t){in->last_blockhash, 32};
    int rc = adb_sha256_parts(h, p, n);
    if (!rc && in->accounts_lt_hash) {
        adb_iov_t q[2] = {{h, 32}, {in->accounts_lt_hash, 2048}};
        rc = adb_sha256_parts(h, q, 2);
    } else if (!rc && in->epoch_accounts_hash) {
        adb_iov_t q[2] = {{h, 32}, {in->epoch_accounts_hash, 32}};
        rc = adb_sha256_parts(h, q, 2);
    }
    if (!rc && in->hard_fork_cnt) {
        uint8_t nb[8];
        adb_store_u64(nb, in->hard_fork_cnt);
        adb_iov_t q[2] = {{h, 32}, {nb, 8}};
        rc = adb_sha256_parts(h, q, 2);
    }
    if (rc) {
        memset(out, 0, 32);
        return rc;
    }
    memcpy(out, h, 32);
    return 0;
}
