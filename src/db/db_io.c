/* src/db/db_io.c - file operations of the database that take more than one
 * call of the I/O table (src/util/io.h).
 *
 * Fail-stop syncs.  Every fdatasync or fsync of database state goes through
 * adb_db_sync.  A failed sync of a live database makes the engine fatal
 * (adb_eng_fatal, with the file and the call in the message) and is never
 * retried: after a failed fsync the kernel may have dropped the dirty pages
 * and marked them clean, so a second fsync that "succeeds" proves nothing
 * (PostgreSQL's fsyncgate).  Only a reopen, which rebuilds everything from
 * the root record, clears the state.  A bulk load (no engine yet) records
 * the failure as the load's error; the loader then removes the directory.
 *
 * New segments.  Creating accounts/seg-N adds a directory entry, which only
 * an fsync of accounts/ makes durable; a root record naming a storage in a
 * segment whose entry a power loss dropped would not open ("seg-N is
 * missing").  place() marks the directory dirty; each pass that writes a
 * root record syncs it first (adb_db_sync_seg_dir), once per pass.
 *
 * Views.  Scanning, indexing, verifying and snapshot writing walk whole
 * storages in memory: a read-only mapping through the table, or, when the
 * mapping fails (ENOMEM, vm.max_map_count; a test table may refuse it), a
 * copy read with pread.  Readers of single records use the segment maps
 * (adb_db_seg_map) or pread. */
#include "db/db_private.h"

#include "util/io.h"

#include <stdio.h>
#include <sys/mman.h>

int
adb_db_sync_(adb_db_t *db, int fd, int how, char const *what, char const *site) {
    adb_eng_t *e = db->eng;
    if (e && atomic_load(&e->fatal))
        return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                           "%s: not attempted: the database is in a fatal state since a durable "
                           "write failed (%s); reopen it",
                           what, adb_eng_fatal_msg(e));
    adb_io_t const *io = db->io;
    int             rc =
        how == ADB_DB_SYNC_DATA ? adb_io_fdatasync_(io, fd, site) : adb_io_fsync_(io, fd, site);
    if (!rc) return 0;
    char why[256];
    snprintf(why, sizeof why, "%s: %s", what, acctdb_strerror(rc));
    if (!e) return adb_db_fail(db, rc == -ENOSPC ? ACCTDB_ERR_FULL : rc, "%s: %s", db->dir, why);
    adb_eng_fatal(e, why);
    return adb_err_set(adb_eng_err(), ACCTDB_ERR_FATAL,
                       "%s; the database refuses writes until reopened", why);
}

int
adb_db_sync_seg_dir_(adb_db_t *db, char const *pass, char const *site) {
    if (!db->seg_dir_dirty) return 0;
    char what[128];
    snprintf(what, sizeof what, "%s: fsync of accounts/ after creating a segment", pass);
    int rc = adb_db_sync_(db, db->accdirfd, ADB_DB_SYNC_FULL, what, site);
    if (!rc) db->seg_dir_dirty = false;
    return rc;
}

int
adb_db_view_(adb_db_t const *db, adb_db_file_t const *f, uint64_t len, adb_db_view_t *v,
             char const *site) {
    *v = (adb_db_view_t){NULL, len, false};
    int   fd = adb_db_file_fd(db, f);
    void *m;
    /* seg_off is 4 KiB aligned, as mmap wants. */
    if (!adb_io_mmap_(db->io, fd, f->seg_off, (size_t)len, &m, site)) {
        madvise(m, (size_t)len, MADV_WILLNEED); /* a hint: raw, its failure changes nothing */
        v->p = m;
        return 0;
    }
    uint8_t *b = adb_malloc(len ? (size_t)len : 1);
    if (!b) return ACCTDB_ERR_NOMEM;
    int rc = adb_io_pread_all_(db->io, fd, b, (size_t)len, f->seg_off, site);
    if (rc) {
        adb_free(b);
        return rc;
    }
    v->p = b;
    v->heap = true;
    return 0;
}

void
adb_db_unview_(adb_db_t const *db, adb_db_view_t *v, char const *site) {
    if (v->heap)
        adb_free(v->p);
    else if (v->p)
        adb_io_munmap_(db->io, v->p, (size_t)v->len, site);
    *v = (adb_db_view_t){0};
}
