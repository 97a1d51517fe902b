/* src/util/base58.h - base58 (Bitcoin alphabet) codec.  The public
 * acctdb_base58_* functions are thin wrappers over these. */
#ifndef ADB_UTIL_BASE58_H
#define ADB_UTIL_BASE58_H

#include "util/util.h"

#define ADB_BASE58_MAX_BIN_SZ  (1u << 20) /* encode input limit */
#define ADB_BASE58_MAX_TEXT_SZ (2u << 20) /* decode input limit */

int adb_base58_encode(void const *src, size_t src_sz, char *dst, size_t dst_max, size_t *len_out);
int adb_base58_decode(char const *text, size_t text_len, void *dst, size_t dst_max, size_t *sz_out);
/* Exactly 32 bytes; text_len characters (no NUL needed). */
int   adb_base58_decode_32(char const *text, size_t text_len, uint8_t out[32]);
char *adb_base58_encode_32(uint8_t const in[32], char out[ACCTDB_BASE58_32_SZ]);

#endif
