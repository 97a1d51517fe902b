/* src/api/api_private.h - the public database handle, shared by the files
 * of src/api: api_db.c (create, open, close, the wrappers, bank begin),
 * api_config.c (configuration) and api_db_snapshot.c (snapshots of a
 * database). */
#ifndef ADB_API_PRIVATE_H
#define ADB_API_PRIVATE_H

#include "db/db.h"
#include "snapshot/load.h"
#include "snapshot/manifest.h"

#include <pthread.h>

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
