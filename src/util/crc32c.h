/* src/util/crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78),
 * the checksum of every storage in the root record.  SSE4.2's crc32
 * instruction when the CPU has it (three interleaved streams), a table
 * otherwise; both give the same value (check: "123456789" -> 0xE3069283). */
#ifndef ADB_UTIL_CRC32C_H
#define ADB_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* adb_crc32c: extends crc (0 for a new message) with p[0..sz). */
uint32_t adb_crc32c(uint32_t crc, void const *p, size_t sz);

/* adb_crc32c_portable: the table path alone (tests compare the two). */
uint32_t adb_crc32c_portable(uint32_t crc, void const *p, size_t sz);

#endif
