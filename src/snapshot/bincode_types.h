/* src/snapshot/bincode_types.h - what the snapshot bincode codecs
 * (manifest, status cache, genesis) share: the allocation budget of one
 * decode.  The arena it bounds is util/arena.h; the runtime types the
 * codecs carry are src/bank's (bank_types.h).
 *
 * Readers take the adb_bc_rd_t of the surrounding decode and record their
 * failures in it (sticky, with the byte offset); `what` names the field in
 * messages.  Writers append to an adb_bc_wr_t and never fail by themselves
 * (the writer's sticky error reports NOMEM/FULL). */
#ifndef ADB_SNAPSHOT_BINCODE_TYPES_H
#define ADB_SNAPSHOT_BINCODE_TYPES_H

#include "bank/bank_types.h"
#include "util/arena.h"
#include "util/bincode.h"

/* Default allocation budget of one decode of sz input bytes. */
#define ADB_SNAP_BUDGET(sz)                                                                        \
    ((sz) > (SIZE_MAX - (1u << 20)) / 16 ? SIZE_MAX : 16 * (sz) + (1u << 20))

#endif
