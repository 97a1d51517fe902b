/* src/snapshot/db_api.h - the public database handle, shared by
 * db_api.c (open, create, wrappers, bank sysvars) and db_snapshot.c
 * (writing snapshots of a database). */
#ifndef ADB_SNAPSHOT_DB_API_H
#define ADB_SNAPSHOT_DB_API_H

#include "db/db.h"
#include "snapshot/load.h"
#include "snapshot/manifest.h"

struct acctdb_db {
    adb_db_t      *db;
    char           dir[4096];
    adb_manifest_t man; /* DIR/manifest.bin: the origin's bank state */
    bool           has_man;
    uint8_t       *man_raw; /* its bytes (each snapshot decodes a fresh copy) */
    size_t         man_raw_sz;
    uint8_t       *sc_raw; /* DIR/status_cache.bin */
    size_t         sc_raw_sz;
};

#endif
