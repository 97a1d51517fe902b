/* src/snapshot/bincode_types.h - pieces shared by the snapshot bincode
 * codecs (manifest, status cache, genesis, sysvars): the memory a decoded
 * value owns, and the small runtime types that appear in more than one of
 * them (FORMAT.md 3.4.2, 3.4.4).
 *
 * MEMORY.  A decoded value owns one adb_arena_t: a list of blocks from
 * adb_malloc, freed together by adb_arena_fini.  It counts the bytes it
 * hands out against a budget fixed at init, so hostile input cannot make a
 * decoder allocate more than the budget even where every length prefix is
 * individually plausible.  Every array and byte string inside a decoded
 * value points into its mem (never into the input buffer).
 *
 * Readers take the adb_bc_rd_t of the surrounding decode and record their
 * failures in it (sticky, with the byte offset); `what` names the field in
 * messages.  Writers append to an adb_bc_wr_t and never fail by themselves
 * (the writer's sticky error reports NOMEM/FULL). */
#ifndef ADB_SNAPSHOT_BINCODE_TYPES_H
#define ADB_SNAPSHOT_BINCODE_TYPES_H

#include "bank/bank_types.h"
#include "util/bincode.h"

/* Default allocation budget of one decode of sz input bytes. */
#define ADB_SNAP_BUDGET(sz)                                                                        \
    ((sz) > (SIZE_MAX - (1u << 20)) / 16 ? SIZE_MAX : 16 * (sz) + (1u << 20))

/* adb_snap_arr_alloc: an array of cnt zeroed elements of elem_sz bytes from
 * mem, for a decode in progress: on overflow, budget or allocation failure
 * records ACCTDB_ERR_NOMEM in rd (naming `what`, the count and the budget)
 * and returns NULL.  cnt == 0 returns NULL without an error.  Does nothing
 * if rd already failed. */
void *adb_snap_arr_alloc(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t cnt, size_t elem_sz,
                         char const *what);

/* adb_snap_bytes_read: a Vec<u8>/serde_bytes value (u64 length + bytes)
 * copied into mem.  *sz_out gets the length; NULL when empty or on error. */
uint8_t *adb_snap_bytes_read(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t *sz_out,
                             char const *what);

/* adb_snap_string_read: like adb_snap_bytes_read for a Rust String: the
 * bytes must be valid UTF-8 (serde rejects anything else), else CORRUPT. */
uint8_t *adb_snap_string_read(adb_bc_rd_t *rd, adb_arena_t *mem, uint64_t *sz_out,
                              char const *what);

/* adb_snap_utf8_valid: true if b[0..n) is well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
bool adb_snap_utf8_valid(uint8_t const *b, size_t n);

void adb_snap_account_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_bank_account_t *out,
                           char const *what);
void adb_snap_account_write(adb_bc_wr_t *wr, adb_bank_account_t const *a);


#endif
