/* src/hash/sha256.h - SHA-256 through OpenSSL's libcrypto (EVP). */
#ifndef ADB_HASH_SHA256_H
#define ADB_HASH_SHA256_H

#include "util/util.h"

/* One contiguous part of a message. */
typedef struct adb_iov {
    void const *p;
    size_t      sz;
} adb_iov_t;

/* out = SHA-256(parts[0] || ... || parts[n-1]).  Errors: ACCTDB_ERR_NOMEM,
 * ACCTDB_ERR_FATAL (libcrypto failed); out is zeroed on error. */
int adb_sha256_parts(uint8_t out[32], adb_iov_t const *parts, size_t n);
int adb_sha256(void const *data, size_t sz, uint8_t out[32]);

/* A reusable context for many small digests (merkle trees). */
typedef struct adb_sha256_ctx adb_sha256_ctx_t;
int                           adb_sha256_ctx_open(adb_sha256_ctx_t **ctx_out);
void                          adb_sha256_ctx_close(adb_sha256_ctx_t *ctx);
int adb_sha256_ctx_digest(adb_sha256_ctx_t *ctx, void const *data, size_t sz, uint8_t out[32]);

#endif
