/* src/util/hpa.h - a huge-page arena for large, long-lived tables (the
 * index's RAM tier).
 *
 * Requests round up to 512-byte units and are cut from 32 MiB chunks that
 * start on a 2 MiB boundary and are backed by huge pages: MAP_HUGETLB when
 * the system reserved such pages, else transparent huge pages asked for
 * with madvise(MADV_HUGEPAGE).  A request over 32 MiB gets a mapping of
 * its own, asked for the same way.  A random probe into a table then
 * costs one TLB entry per 2 MiB instead of per 4 KiB (bench_db measures
 * the difference as its physical limit).
 *
 * Bounded: a freed block merges with the free ranges beside it, and a chunk that is
 * wholly free again is unmapped unless it is the only one.  Memory is
 * counted by what is handed out (`used`) and what is mapped (`mapped`);
 * with transparent huge pages the resident size is the touched part of
 * `mapped`, rounded to 2 MiB.  Thread-safe (one mutex: the tables it
 * serves are allocated when they grow, not per operation). */
#ifndef ADB_UTIL_HPA_H
#define ADB_UTIL_HPA_H

#include "util/util.h"

typedef struct adb_hpa adb_hpa_t;

typedef struct adb_hpa_stats {
    uint64_t used;    /* bytes in blocks handed out */
    uint64_t mapped;  /* bytes mapped: chunks plus own mappings */
    uint32_t chunks;  /* 32 MiB chunks mapped */
    uint32_t hugetlb; /* of them, backed by MAP_HUGETLB pages */
} adb_hpa_stats_t;

/* adb_hpa_new: an empty arena (maps nothing yet); ACCTDB_ERR_NOMEM. */
int adb_hpa_new(adb_hpa_t **out);

/* adb_hpa_destroy: unmaps everything; every block is gone.  NULL is fine. */
void adb_hpa_destroy(adb_hpa_t *a);

/* adb_hpa_alloc: a block of at least sz bytes, 512-aligned, contents
 * undefined; *got gets its size (sz rounded up to 512 B, or to 2 MiB past
 * 32 MiB), which adb_hpa_free takes back.  NULL when no memory could be
 * mapped. */
void *adb_hpa_alloc(adb_hpa_t *a, size_t sz, size_t *got);

/* adb_hpa_size: the size adb_hpa_alloc gives for a request of sz bytes. */
size_t adb_hpa_size(size_t sz);

/* adb_hpa_free: returns p (from adb_hpa_alloc, with its *got).  NULL is
 * fine. */
void adb_hpa_free(adb_hpa_t *a, void *p, size_t got);

void adb_hpa_stats(adb_hpa_t *a, adb_hpa_stats_t *out);

#endif
