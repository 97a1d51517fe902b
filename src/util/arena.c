/* src/util/arena.c - the byte-budgeted arena (see arena.h). */
#include "util/arena.h"

/* A block: header, then payload.  Small requests share blocks that start
 * at 4 KiB and double up to 1 MiB, so a small decode stays small and a big
 * one needs few blocks; a request larger than a quarter of the current
 * block size gets a block of its own, linked behind the head so the head's
 * free space stays usable. */
typedef struct adb_arena_block {
    struct adb_arena_block *next;
    size_t                  cap;
    size_t                  used;
    _Alignas(16) uint8_t data[];
} adb_arena_block_t;

#define BLOCK_MIN ((size_t)4 << 10)
#define BLOCK_MAX ((size_t)1 << 20)

void
adb_arena_init(adb_arena_t *mem, size_t max_sz) {
    mem->head = NULL;
    mem->used_sz = 0;
    mem->max_sz = max_sz ? max_sz : SIZE_MAX;
    mem->block_sz = BLOCK_MIN;
}

void *
adb_arena_alloc(adb_arena_t *mem, size_t sz) {
    size_t need = ADB_ALIGN_UP(sz ? sz : 1, (size_t)16);
    if (need < sz || need > mem->max_sz - mem->used_sz) return NULL;
    adb_arena_block_t *b = mem->head;
    if (!b || b->cap - b->used < need) {
        if (mem->block_sz < BLOCK_MIN) mem->block_sz = BLOCK_MIN; /* a zeroed mem */
        bool   own = need > mem->block_sz / 4;
        size_t cap = own ? need : mem->block_sz;
        if (cap > SIZE_MAX - sizeof(adb_arena_block_t)) return NULL;
        adb_arena_block_t *nb = adb_malloc(sizeof(adb_arena_block_t) + cap);
        if (!nb) return NULL;
        nb->cap = cap;
        nb->used = 0;
        if (own && b) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            mem->head = nb;
            if (!own && mem->block_sz < BLOCK_MAX) mem->block_sz *= 2;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    mem->used_sz += need;
    memset(p, 0, need);
    return p;
}

void
adb_arena_fini(adb_arena_t *mem) {
    adb_arena_block_t *b = mem->head;
    while (b) {
        adb_arena_block_t *n = b->next;
        adb_free(b);
        b = n;
    }
    mem->head = NULL;
    mem->used_sz = 0;
}
