/* src/hash/sha256.c - SHA-256 via libcrypto's EVP interface.  The digest
 * method is fetched once (OpenSSL 3 would otherwise look it up on every
 * init); SHA-NI is used by libcrypto when the CPU has it. */
#include "hash/sha256.h"

#include <openssl/evp.h>
#include <pthread.h>

struct adb_sha256_ctx {
    EVP_MD_CTX *md;
};

static EVP_MD const  *g_md;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void
fetch_md(void) {
    g_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!g_md) g_md = EVP_sha256();
}

static EVP_MD const *
md(void) {
    pthread_once(&g_once, fetch_md);
    return g_md;
}

static int
digest_parts(EVP_MD_CTX *c, uint8_t out[32], adb_iov_t const *parts, size_t n) {
    unsigned int len = 0;
    if (EVP_DigestInit_ex(c, md(), NULL) != 1) goto fail;
    for (size_t i = 0; i < n; i++)
        if (parts[i].sz && EVP_DigestUpdate(c, parts[i].p, parts[i].sz) != 1) goto fail;
    if (EVP_DigestFinal_ex(c, out, &len) != 1 || len != 32) goto fail;
    return 0;
fail:
    memset(out, 0, 32);
    return ACCTDB_ERR_FATAL;
}

int
adb_sha256_parts(uint8_t out[32], adb_iov_t const *parts, size_t n) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) {
        memset(out, 0, 32);
        return ACCTDB_ERR_NOMEM;
    }
    int rc = digest_parts(c, out, parts, n);
    EVP_MD_CTX_free(c);
    return rc;
}

int
adb_sha256(void const *data, size_t sz, uint8_t out[32]) {
    adb_iov_t part = {data, sz};
    return adb_sha256_parts(out, &part, 1);
}

int
adb_sha256_ctx_open(adb_sha256_ctx_t **ctx_out) {
    *ctx_out = NULL;
    adb_sha256_ctx_t *c = adb_calloc(1, sizeof *c);
    if (!c) return ACCTDB_ERR_NOMEM;
    c->md = EVP_MD_CTX_new();
    if (!c->md) {
        adb_free(c);
        return ACCTDB_ERR_NOMEM;
    }
    *ctx_out = c;
    return 0;
}

void
adb_sha256_ctx_close(adb_sha256_ctx_t *ctx) {
    if (!ctx) return;
    EVP_MD_CTX_free(ctx->md);
    adb_free(ctx);
}

int
adb_sha256_ctx_digest(adb_sha256_ctx_t *ctx, void const *data, size_t sz, uint8_t out[32]) {
    adb_iov_t part = {data, sz};
    return digest_parts(ctx->md, out, &part, 1);
}

int
acctdb_sha256(void const *data, size_t sz, uint8_t out[32]) {
    if (!out || (!data && sz)) return ACCTDB_ERR_INVALID;
    return adb_sha256(data, sz, out);
}
