/* src/hash/merkle.c - fanout-16 SHA-256 merkle root.
 *
 * Each level hashes consecutive groups of up to 16 children; the last group
 * may be short.  The leaf level is always hashed at least once, so a single
 * leaf gives SHA-256(leaf) and the empty set gives SHA-256(""). */
#include "hash/merkle.h"

#include "hash/blake3.h"
#include "hash/sha256.h"

void
adb_merkle_leaf(acctdb_account_t const *a, uint8_t out[32]) {
    if (a->lamports == 0) {
        memset(out, 0, 32);
        return;
    }
    adb_blake3_t h;
    uint8_t      num[16], exec = a->executable ? 1 : 0;
    adb_store_u64(num, a->lamports);
    adb_store_u64(num + 8, a->rent_epoch);
    adb_blake3_init(&h);
    adb_blake3_update(&h, num, 16);
    adb_blake3_update(&h, a->data, (size_t)a->data_len);
    adb_blake3_update(&h, &exec, 1);
    adb_blake3_update(&h, a->owner.b, 32);
    adb_blake3_update(&h, a->pubkey.b, 32);
    adb_blake3_finalize(&h, out, 32);
}

void
adb_merkle_leaf_zero_lamport(acctdb_pubkey_t const *pubkey, uint8_t out[32]) {
    adb_blake3_hash(pubkey->b, 32, out, 32);
}

int
adb_merkle_root(uint8_t const *leaves, size_t n, uint8_t out[32]) {
    memset(out, 0, 32);
    if (n == 0) return adb_sha256("", 0, out);
    if (!leaves) return ACCTDB_ERR_INVALID;

    adb_sha256_ctx_t *ctx = NULL;
    ADB_TRY(adb_sha256_ctx_open(&ctx));
    size_t   lvl_cnt = n;
    size_t   next_cnt = (n + ADB_MERKLE_FANOUT - 1) / ADB_MERKLE_FANOUT;
    uint8_t *buf = adb_malloc(next_cnt * 32);
    int      rc = 0;
    if (!buf) {
        rc = ACCTDB_ERR_NOMEM;
        goto cleanup;
    }
    uint8_t const *cur = leaves;
    for (;;) {
        next_cnt = (lvl_cnt + ADB_MERKLE_FANOUT - 1) / ADB_MERKLE_FANOUT;
        for (size_t i = 0; i < next_cnt; i++) {
            size_t kids = ADB_MIN(ADB_MERKLE_FANOUT, lvl_cnt - i * ADB_MERKLE_FANOUT);
            /* Writing node i only overwrites inputs of nodes < i (in place
             * after the first level): 32*i < 32*16*i. */
            uint8_t tmp[32];
            rc = adb_sha256_ctx_digest(ctx, cur + i * ADB_MERKLE_FANOUT * 32, kids * 32, tmp);
            if (rc) goto cleanup;
            memcpy(buf + i * 32, tmp, 32);
        }
        cur = buf;
        lvl_cnt = next_cnt;
        if (lvl_cnt == 1) break;
    }
    memcpy(out, buf, 32);
cleanup:
    adb_free(buf);
    adb_sha256_ctx_close(ctx);
    return rc;
}

/* ---- public wrappers ---------------------------------------------------- */

void
acctdb_merkle_leaf(acctdb_account_t const *a, uint8_t out[32]) {
    adb_merkle_leaf(a, out);
}

int
acctdb_merkle_root(uint8_t const *leaves, size_t n, uint8_t out[32]) {
    if (!out) return ACCTDB_ERR_INVALID;
    return adb_merkle_root(leaves, n, out);
}
