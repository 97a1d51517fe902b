/* tests/db/crash_wl.h - the workload and the oracle shared by the
 * power-loss test (test_powerloss.c) and the I/O-error sweep
 * (test_ioerr.c).
 *
 * The workload is seeded and single-threaded (services stepped): banks
 * begun with acctdb_db_bank_begin (so snapshots verify), each storing a few
 * of CWL_KEYS keys whose values derive from (key, slot) alone, frozen; one
 * bank in five on a fork (a sibling of the tip, which dies at the next
 * root); the main chain rooted CWL_LAG banks behind its tip; flush, clean,
 * shrink and purge stepped at random; full and incremental snapshots into
 * an archive directory.  A bank whose begin, store or freeze fails is left
 * for the next root to kill, so the model only follows calls that returned
 * 0.
 *
 * The oracle judges only by the public API and what the database reopens
 * to, never by its file format:
 *   - open succeeds, at root R == its durable root;
 *   - R >= the newest durable root the API reported before the crash or the
 *     error (acctdb_db_root_slot's durable_out, read after every call);
 *   - R was rooted, and its lattice checksum and capitalization equal what
 *     the root hook saw when it was rooted;
 *   - acctdb_db_verify and acctdb_db_check pass;
 *   - every key holds the value the model gives at R;
 *   - every file under an archive name verifies (an incremental with its
 *     full), and names the checksum the root hook saw for its slot. */
#ifndef ADB_TESTS_CRASH_WL_H
#define ADB_TESTS_CRASH_WL_H

#include "acctdb.h"

#include <stdbool.h>
#include <stdint.h>

#define CWL_KEYS      48
#define CWL_LAG       2
#define CWL_BANKS_MAX 256

typedef struct cwl_root {
    uint64_t slot;
    uint8_t  ck[32];
    uint64_t cap;
} cwl_root_t;

typedef struct cwl {
    /* setup */
    uint64_t   seed;
    uint32_t   banks;
    char       arch[4096];
    cwl_root_t base; /* the root the copy starts from */
    /* the model: the main chain of frozen banks, oldest first */
    uint64_t chain[CWL_BANKS_MAX], mask[CWL_BANKS_MAX];
    size_t   chain_len, rooted; /* chain[0 .. rooted) are rooted */
    uint64_t next;              /* the next slot number to use */
    uint32_t leg;               /* runs so far (each draws its own stream) */
    /* what the root hook saw */
    cwl_root_t hook[CWL_BANKS_MAX];
    size_t     hook_cnt;
    uint64_t   durable; /* the newest durable root the API reported */
    /* calls */
    uint64_t calls, errors, unclean;
    uint64_t fulls, incrementals, flushes, shrinks, cleans; /* that returned 0 (passes: work) */
    int      first_rc;
    char     first_call[48], first_msg[256], unclean_msg[256];
    /* ends the run early when it returns true (e.g. the table froze) */
    bool (*stop)(void *ctx);
    void *stop_ctx;
} cwl_t;

/* The stepped configuration both tests use. */
void cwl_config(acctdb_db_config_t *cfg, bool mmap_reads);

/* Creates the base database at dir from the bundled snapshot pair; *base
 * gets its root. */
void cwl_base_create(char const *dir, acctdb_db_config_t const *cfg, cwl_root_t *base);

void cwl_init(cwl_t *w, uint64_t seed, uint32_t banks, char const *arch_dir,
              cwl_root_t const *base);
/* Runs the workload on db (opened on a copy of the base): installs the
 * root hook first.  Every call's result is checked to be 0 or a clean
 * error code (w->unclean counts the others). */
void cwl_run(cwl_t *w, acctdb_db_t *db);
/* After a kill (the process stopped at some op, nothing undone) and a
 * reopen at root: the model goes back to that root, so a next cwl_run
 * continues from it.  False if root is not one the model knows. */
bool cwl_resume(cwl_t *w, uint64_t root);
/* Reopens dir (with whatever I/O table is the default: POSIX) and judges
 * it; prints each problem prefixed with tag; returns how many. */
int cwl_check(cwl_t const *w, char const *dir, acctdb_db_config_t const *cfg, char const *tag);

/* A copy of the directory tree src at dst (dst must not exist). */
void cwl_copy_tree(char const *src, char const *dst);

/* 0, an ACCTDB_ERR_* code or -errno. */
bool cwl_rc_is_clean(int rc);

#endif
