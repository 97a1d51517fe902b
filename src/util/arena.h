/* src/util/arena.h - an allocation arena with a byte budget: many
 * allocations, freed together.  A decoded value (manifest, status cache,
 * genesis) owns one, so hostile input cannot make a decoder allocate more
 * than the budget even where every length prefix is plausible on its own.
 *
 * Small requests share blocks that start at 4 KiB and double up to 1 MiB;
 * a request larger than a quarter of the current block size gets a block
 * of its own.  Not thread-safe. */
#ifndef ADB_UTIL_ARENA_H
#define ADB_UTIL_ARENA_H

#include "util/util.h"

typedef struct adb_arena {
    struct adb_arena_block *head;
    size_t                  used_sz;  /* bytes handed out so far */
    size_t                  max_sz;   /* budget */
    size_t                  block_sz; /* size of the next shared block */
} adb_arena_t;

/* adb_arena_init: an empty arena with a budget of max_sz bytes (0 means
 * unlimited).  Allocates nothing. */
void adb_arena_init(adb_arena_t *mem, size_t max_sz);

/* adb_arena_alloc: sz zeroed bytes, 16-aligned, owned by mem.  NULL if
 * the budget would be exceeded or adb_malloc fails (sz == 0 also gives a
 * valid pointer). */
void *adb_arena_alloc(adb_arena_t *mem, size_t sz);

/* adb_arena_fini: frees every block; mem is empty again (budget kept).
 * Safe on a zeroed or already-finished mem. */
void adb_arena_fini(adb_arena_t *mem);

#endif
