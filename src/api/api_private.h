/* src/api/api_private.h - the public database handle, shared by the files
 * of src/api: api_db.c (create, open, close, the wrappers, banks),
 * api_config.c (configuration) and api_db_snapshot.c (snapshots of a
 * database). */
#ifndef ADB_API_PRIVATE_H
#define ADB_API_PRIVATE_H

#include "bank/bank.h"
#include "db/db.h"
#include "snapshot/load.h"
#include "snapshot/manifest.h"
#include "util/io.h"

#include <pthread.h>
#include <stdatomic.h>

struct acctdb_db {
    adb_db_t         *db;
    adb_io_t const   *io;     /* the database's file operations (adb_io() at open, or a test's) */
    adb_io_t          nosync; /* io without syncs (config sync = false): io then points here */
    char              dir[4096];
    adb_manifest_t    man; /* DIR/manifest.bin: the origin's bank state */
    bool              has_man;
    adb_bank_origin_t origin;  /* &man.bank, &man.extra when has_man */
    uint8_t          *man_raw; /* its bytes (each snapshot decodes a fresh copy) */
    size_t            man_raw_sz;
    uint8_t          *sc_raw; /* DIR/status_cache.bin */
    size_t            sc_raw_sz;
    pthread_mutex_t   err_mu;
    char              err[ADB_ERRMSG_SZ]; /* the handle's last error (acctdb_db_errmsg) */
    _Atomic int       interrupted;        /* acctdb_db_interrupt (from a signal handler) */
};

/* adb_api_begin: what every public call on a handle does first: the calling
 * thread's engine message is cleared, so the message a failure leaves is
 * this call's. */
static inline void
adb_api_begin(void) {
    adb_err_clear(adb_eng_err());
}

/* adb_api_done: what every public call on a handle returns through: on
 * failure, the handle's last error becomes this call's message (the
 * thread's engine message, or the code's description); returns rc. */
int adb_api_done(acctdb_db_t *h, int rc);

/* adb_api_fail: sets the handle's last error from fmt and returns rc. */
int adb_api_fail(acctdb_db_t *h, int rc, char const *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Test-only entry points: acctdb_db_open / acctdb_db_create with every file
 * operation of the database (its state files, the archives it writes, its
 * lock) through io instead of the process default adb_io() (input archives
 * are read through adb_io()).  acctdb_db_config_t stays free of pointers:
 * a table is not configuration. */
int adb_api_db_open_io(acctdb_db_t **db_out, char const *dir, acctdb_db_config_t const *cfg,
                       adb_io_t const *io, char *msg_out, size_t msg_max);
int adb_api_db_create_io(acctdb_db_t **db_out, char const *dir, acctdb_db_source_t const *src,
                         acctdb_db_config_t const *cfg, adb_io_t const *io, char *msg_out,
                         size_t msg_max);

/* acctdb_db_config_read through io (api_config.c). */
int adb_api_config_read(acctdb_db_config_t *cfg, char const *dir, adb_io_t const *io, char *msg_out,
                        size_t msg_max);

#endif
