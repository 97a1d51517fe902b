/* src/snapshot/naming.h - snapshot archive file names (FORMAT.md 1.3, 1.4):
 *
 *   snapshot-<SLOT>-<HASH>.tar.zst|.tar.lz4
 *   incremental-snapshot-<BASE>-<SLOT>-<HASH>.tar.zst|.tar.lz4
 *
 * and choosing what to load from a directory of archives: the full
 * snapshot with the highest slot, then among incrementals whose base is
 * that slot, the highest.  Temporary names (tmp-*, .tmp-*) never match. */
#ifndef ADB_SNAPSHOT_NAMING_H
#define ADB_SNAPSHOT_NAMING_H

#include "util/util.h"

typedef struct adb_snap_name {
    bool          is_incremental;
    uint64_t      slot;
    uint64_t      base_slot; /* incremental only */
    acctdb_hash_t hash;      /* the base58 hash decoded to 32 bytes */
    char          ext[8];    /* "tar.zst" or "tar.lz4" */
} adb_snap_name_t;

/* Parses a file name (no directory part; a leading directory is skipped).
 * Returns 0, or ACCTDB_ERR_INVALID if it does not follow the pattern (the
 * hash must be 32-44 base58 characters decoding to exactly 32 bytes). */
int adb_snap_name_parse(char const *name, adb_snap_name_t *out);

/* Formats a name into buf (>= 128 bytes); returns buf. */
char *adb_snap_name_format(adb_snap_name_t const *n, char *buf, size_t buf_sz);

/* Finds the newest full snapshot in dir (and dir/remote) and its newest
 * matching incremental.  full_out/inc_out get malloc'd paths (adb_free);
 * *inc_out is NULL when there is none.  Errors: NOT_FOUND with a message
 * that says how many names were seen and why they did not qualify. */
int adb_snap_find_in_dir(char const *dir, char **full_out, char **inc_out, adb_err_t *err);

#endif
