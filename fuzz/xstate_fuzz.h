/* fuzz/xstate_fuzz.h - what the xstate fuzz targets (fuzz_xstate_*.c)
 * demand of every record a decoder hands out: the rules of db_xstate.h's
 * adb_xrec_t, restated here rather than taken from the decoder, so a
 * decoder that lets a bad record through is caught. */
#ifndef ACCTDB_FUZZ_XSTATE_FUZZ_H
#define ACCTDB_FUZZ_XSTATE_FUZZ_H

#include "db/db_xstate.h"
#include "store/acctfile.h"

#include <stdlib.h>
#include <string.h>

/* Aborts unless r is a well-formed record (an empty one only when
 * allow_empty: a log's delta may shadow the base with one). */
static inline void
xs_fuzz_check_rec(adb_xrec_t const *r, bool allow_empty) {
    static uint8_t const z[32];
    if (!allow_empty && adb_xrec_is_empty(r)) abort();
    if (r->flags & ~(ADB_XREC_COMPRESSED | ADB_XREC_BURNED)) abort();
    if ((r->flags & ADB_XREC_BURNED) && (!(r->flags & ADB_XREC_COMPRESSED) || r->lamports)) abort();
    if (r->executable > 1 || r->orig_len > ADB_ACCT_MAX_DATA_SZ) abort();
    if (!(r->flags & ADB_XREC_COMPRESSED) && (r->orig_len || r->executable || r->lamports ||
                                              memcmp(r->hash, z, 32) || memcmp(r->owner, z, 32)))
        abort();
}

#endif
