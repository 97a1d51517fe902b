/* src/db/db_rcache.h - the read cache: accounts recently read from account
 * files, bounded in bytes (LRU per shard), keyed by their storage location
 * (which never names two different records: storage indexes are not
 * reused, so entries of moved or dead records simply age out). */
#ifndef ADB_DB_RCACHE_H
#define ADB_DB_RCACHE_H

#include "db/db_private.h"

int  adb_rcache_open(adb_rcache_t **rc_out, uint64_t max_sz);
void adb_rcache_close(adb_rcache_t *rc);

/* Reads the storage version (slot, val) into out / buf (buf_max bytes):
 * copied from the segment's mapping when cfg.mmap_reads and it is mapped
 * (the cache is not consulted: the page cache already holds the bytes),
 * otherwise with pread through the cache.  Returns 0, FULL (out->data_len says how much), or an
 * I/O error.  Caller is inside an epoch. */
int adb_rcache_read(adb_db_t *db, uint64_t slot, uint64_t val, acctdb_account_t *out, uint8_t *buf,
                    size_t buf_max);

/* Prefetches the header and first data bytes of the storage version val
 * when it is read from a mapping (a batch issues these for its records
 * before copying any, so their misses overlap).  Caller is inside an
 * epoch. */
void adb_rcache_prefetch(adb_db_t *db, uint64_t val);

void adb_rcache_stats(adb_rcache_t const *rc, uint64_t *sz, uint64_t *hits, uint64_t *misses);

#endif
