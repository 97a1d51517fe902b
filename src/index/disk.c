/* src/index/disk.c - the disk tier: per-bin mapped index buckets and
 * power-of-two data buckets (layout in disk.h).
 *
 * Invariants (per bin):
 *   1. A key lies at or after its home h & (cap-1), cyclically, with no
 *      free entry between home and itself (linear probing; deletion shifts
 *      later entries back instead of leaving tombstones).
 *   2. cnt <= cap * 3/4, so every probe meets a free entry.
 *   3. A "many" entry's cell index is below its class file's used count,
 *      its count is in (2^(class-1), 2^class] (class 1: exactly 2), and no
 *      two entries share a cell; free cells form one list per class.
 *   4. The header's cnt equals the number of non-free states.
 * A reuse checks 2-4 on every entry before the tier is used, besides the
 * checksums, so even a file that matches its checksum by accident cannot
 * send a lookup out of bounds. */
#include "index/disk.h"

#include "util/crc32c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define PAGE       4096u
#define HDR        64u /* header bytes of both kinds of file (small bins stay small) */
#define IX_MAGIC   "ADBIXB1"
#define CL_MAGIC   "ADBIXC1"
#define META_MAGIC "ADBIXM1"
#define VERSION    1u
#define CAP_MIN    16u
#define CLS_N      24u /* classes 1..23: up to 2^23 versions of one key */
#define META_NAME  "index.meta"

enum { ST_FREE = 0, ST_ONE = 1, ST_MANY = 2 };
enum { META_OPEN = 1, META_CLEAN = 2 };

typedef struct dent {
    uint8_t  key[32];
    uint64_t a; /* ONE: slot; MANY: cell index */
    uint64_t b; /* ONE: value; MANY: class << 32 | count */
} dent_t;
_Static_assert(sizeof(dent_t) == 48, "48-byte disk entries");

typedef struct ixhdr {
    char     magic[8];
    uint32_t version, bin, bin_cnt, cap;
    uint64_t cnt;
    uint64_t seed;
} ixhdr_t;
_Static_assert(sizeof(ixhdr_t) <= HDR, "index bucket header fits");

typedef struct clhdr {
    char     magic[8];
    uint32_t version, bin, cls, pad;
    uint64_t cap;       /* cells the file holds */
    uint64_t used;      /* cells ever handed out (bump) */
    uint64_t free_head; /* first free cell + 1, 0 when none */
    uint64_t live;      /* cells in use */
} clhdr_t;
_Static_assert(sizeof(clhdr_t) <= HDR, "data bucket header fits");

typedef struct meta_bin {
    uint64_t cnt;
    uint32_t crc;
    uint32_t cls_mask; /* bit c: class c's file exists; bit 0: the index bucket's */
} meta_bin_t;
#define META_IX_FILE 1u

typedef struct meta_hdr {
    char     magic[8];
    uint32_t version, state, bin_cnt, pad;
    uint64_t seed, gen, root, keys;
} meta_hdr_t;

typedef struct dcls {
    uint8_t *map;
    size_t   map_sz;
    int      fd1; /* pread reads: descriptor + 1, 0 when none is open */
} dcls_t;

typedef struct dbin {
    uint8_t        *map;
    size_t          map_sz;
    int             fd1;      /* as dcls_t */
    uint32_t        cap;      /* the index bucket's capacity (its header's, kept here) */
    uint64_t        cnt;      /* and its count of keys (likewise) */
    uint64_t        resident; /* estimate, bytes */
    uint32_t        cls_mask;
    uint32_t        cls_n; /* entries of cls: up to the highest class used */
    dcls_t         *cls;
    pthread_mutex_t mu; /* several RAM bins share a disk bin */
} dbin_t;

struct adb_dtier {
    adb_io_t const  *io;
    int              dirfd;
    uint32_t         bin_cnt;
    uint64_t         seed;
    dbin_t          *bins;
    _Atomic uint64_t keys, entries, many, cells_live, cells_alloc, file_bytes, resident;
    _Atomic uint64_t grows, shrinks, heap;
    _Atomic bool     sealed; /* stamped clean: the next change marks it open first */
    bool             pread_reads;
    _Atomic int      fds, fds_max; /* descriptors kept for pread reads, and their cap */
    pthread_mutex_t  seal_mu;
};

static int meta_write(adb_dtier_t *dt, uint32_t state, adb_dtier_stamp_t const *st,
                      meta_bin_t const *mb);

/* Before a change to a stamped tier: its meta says open again. */
static int
unseal(adb_dtier_t *dt) {
    if (!atomic_load_explicit(&dt->sealed, memory_order_acquire)) return 0;
    pthread_mutex_lock(&dt->seal_mu);
    int rc = 0;
    if (atomic_load(&dt->sealed)) {
        rc = meta_write(dt, META_OPEN, NULL, NULL);
        if (!rc) atomic_store(&dt->sealed, false);
    }
    pthread_mutex_unlock(&dt->seal_mu);
    return rc;
}

/* ---- layout helpers ------------------------------------------------------ */

static inline size_t
bits_sz(uint32_t cap) {
    return ADB_ALIGN_UP((size_t)cap / 4, (size_t)64);
}
static inline size_t
ix_file_sz(uint32_t cap) {
    return HDR + bits_sz(cap) + (size_t)cap * sizeof(dent_t);
}
static inline ixhdr_t *
ix_hdr(dbin_t *b) {
    return (ixhdr_t *)b->map;
}
static inline uint64_t *
ix_bits(dbin_t *b) {
    return (uint64_t *)(b->map + HDR);
}
static inline dent_t *
ix_ents(dbin_t *b) {
    return (dent_t *)(b->map + HDR + bits_sz(ix_hdr(b)->cap));
}
static inline unsigned
st_get(uint64_t const *bits, uint64_t i) {
    return (unsigned)(bits[i >> 5] >> ((i & 31) * 2)) & 3u;
}
static inline void
st_set(uint64_t *bits, uint64_t i, unsigned s) {
    uint64_t sh = (i & 31) * 2;
    bits[i >> 5] = (bits[i >> 5] & ~(3ull << sh)) | ((uint64_t)s << sh);
}
static inline size_t
cell_sz(uint32_t cls) {
    return (size_t)sizeof(adb_index_ver_t) << cls;
}
static inline size_t
cl_file_sz(uint32_t cls, uint64_t cap) {
    return HDR + (size_t)cap * cell_sz(cls);
}
static inline clhdr_t *
cl_hdr(dcls_t *c) {
    return (clhdr_t *)c->map;
}
static inline adb_index_ver_t *
cl_cell(dcls_t *c, uint32_t cls, uint64_t i) {
    return (adb_index_ver_t *)(c->map + HDR + i * cell_sz(cls));
}
/* The smallest class whose cells hold cnt (>= 2) versions. */
static inline uint32_t
cls_of(size_t cnt) {
    uint32_t c = 1;
    while (((size_t)1 << c) < cnt)
        c++;
    return c;
}

static inline uint64_t
dmix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}
static inline uint64_t
dhash(adb_dtier_t const *dt, uint8_t const *k) {
    return dmix(adb_load_u64(k + 8) ^ dt->seed) ^ adb_load_u64(k + 16) ^ adb_load_u64(k + 24);
}

/* Counts b's mappings as resident from its first use since the last trim:
 * whatever an operation touches, the kernel may map more than it (fault
 * around, large folios), never more than the mappings. */
static void
touch(adb_dtier_t *dt, dbin_t *b) {
    uint64_t lim = ADB_ALIGN_UP((uint64_t)b->map_sz, PAGE); /* whole pages, as RSS counts */
    for (uint32_t c = 1; c < CLS_N && b->cls_mask; c++)
        if (b->cls_mask & (1u << c)) lim += ADB_ALIGN_UP((uint64_t)b->cls[c].map_sz, PAGE);
    if (lim != b->resident) {
        if (lim > b->resident)
            atomic_fetch_add_explicit(&dt->resident, lim - b->resident, memory_order_relaxed);
        else
            atomic_fetch_sub_explicit(&dt->resident, b->resident - lim, memory_order_relaxed);
    }
    b->resident = lim;
}

/* ---- files ---------------------------------------------------------------- */

static void
name_ix(char *out, size_t sz, uint32_t bin) {
    snprintf(out, sz, "b%05u.ix", bin);
}
static void
name_cl(char *out, size_t sz, uint32_t bin, uint32_t cls) {
    snprintf(out, sz, "b%05u.c%02u", bin, cls);
}

/* Creates (truncating) name at sz bytes, allocated so that writes through
 * the mapping cannot fault on a full disk, maps it read-write and closes
 * its descriptor (the mapping is all the tier keeps of a file). */
static int
file_make(adb_dtier_t *dt, char const *name, size_t sz, uint8_t **map_out) {
    int fd = adb_io_openat(dt->io, dt->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (fd < 0) return fd;
    int rc = adb_io_fallocate(dt->io, fd, 0, sz);
    if (rc == -EOPNOTSUPP) rc = adb_io_ftruncate(dt->io, fd, sz);
    if (rc == -ENOSPC) rc = ACCTDB_ERR_FULL;
    void *m = MAP_FAILED;
    if (!rc) {
        m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) rc = -errno;
    }
    adb_io_close(dt->io, fd);
    if (rc) {
        adb_io_unlinkat(dt->io, dt->dirfd, name, 0);
        return rc;
    }
    *map_out = m;
    atomic_fetch_add(&dt->file_bytes, sz);
    return 0;
}

static void
file_drop(adb_dtier_t *dt, uint8_t *map, size_t sz) {
    if (map) munmap(map, sz);
    atomic_fetch_sub(&dt->file_bytes, sz);
}

static void
untouch_all(adb_dtier_t *dt, dbin_t *b) {
    atomic_fetch_sub_explicit(&dt->resident, b->resident, memory_order_relaxed);
    b->resident = 0;
}

/* Closes a descriptor kept for pread reads. */
static void
fd_drop(adb_dtier_t *dt, int *fd1) {
    if (!*fd1) return;
    adb_io_close(dt->io, *fd1 - 1);
    *fd1 = 0;
    atomic_fetch_sub(&dt->fds, 1);
}

/* The descriptor of file name for pread reads, opened on first use and
 * kept (at most fds_max of them); -1 when none may be kept: the caller
 * then reads through the mapping. */
static int
fd_get(adb_dtier_t *dt, int *fd1, char const *name) {
    if (*fd1) return *fd1 - 1;
    if (atomic_fetch_add(&dt->fds, 1) >= atomic_load(&dt->fds_max)) {
        atomic_fetch_sub(&dt->fds, 1);
        return -1;
    }
    /* No access-time updates: each would dirty the inode (perf: 4% of a
     * budgeted run in touch_atime).  O_NOATIME needs the file's owner. */
    int fd = adb_io_openat(dt->io, dt->dirfd, name, O_RDWR | O_NOFOLLOW | O_NOATIME, 0);
    if (fd == -EPERM) fd = adb_io_openat(dt->io, dt->dirfd, name, O_RDWR | O_NOFOLLOW, 0);
    if (fd < 0) {
        atomic_fetch_sub(&dt->fds, 1);
        return -1;
    }
    *fd1 = fd + 1;
    return fd;
}

/* ---- index bucket ------------------------------------------------------- */

/* Resizes the mapped file name (of sz bytes at *map) to nsz, in place:
 * allocated (so writes through the mapping cannot fault on a full disk)
 * and remapped when it grows, truncated when it shrinks.  Creating a file
 * costs about half a millisecond here, so growth never makes one. */
static int
file_resize(adb_dtier_t *dt, char const *name, uint8_t **map, size_t sz, size_t nsz) {
    if (nsz == sz) return 0;
    int fd = adb_io_openat(dt->io, dt->dirfd, name, O_RDWR | O_NOFOLLOW, 0);
    if (fd < 0) return fd;
    int   rc = 0;
    void *m = MAP_FAILED;
    if (nsz > sz) {
        rc = adb_io_fallocate(dt->io, fd, 0, nsz);
        if (rc == -EOPNOTSUPP) rc = adb_io_ftruncate(dt->io, fd, nsz);
        if (rc == -ENOSPC) rc = ACCTDB_ERR_FULL;
        if (!rc && (m = mremap(*map, sz, nsz, MREMAP_MAYMOVE)) == MAP_FAILED) rc = -errno;
    } else {
        if ((m = mremap(*map, sz, nsz, 0)) == MAP_FAILED) rc = -errno;
        if (!rc) rc = adb_io_ftruncate(dt->io, fd, nsz); /* on failure the tail stays */
        rc = 0;
    }
    adb_io_close(dt->io, fd);
    if (rc) return rc;
    *map = m;
    if (nsz > sz)
        atomic_fetch_add(&dt->file_bytes, nsz - sz);
    else
        atomic_fetch_sub(&dt->file_bytes, sz - nsz);
    return 0;
}

/* Gives bin b an index bucket of cap entries holding its keys: a new file
 * for a new bin, else the same file resized and rehashed in place (its
 * entries copied out first). */
static int
ix_rebuild(adb_dtier_t *dt, uint32_t bin, dbin_t *b, uint32_t cap) {
    char name[32];
    name_ix(name, sizeof name, bin);
    typedef struct {
        dent_t   e;
        unsigned s;
    } kept_t;
    kept_t  *kept = NULL;
    uint64_t n = 0, ocap = 0;
    if (!b->map) {
        ADB_TRY(file_make(dt, name, ix_file_sz(cap), &b->map));
        b->map_sz = ix_file_sz(cap);
    } else {
        ocap = ix_hdr(b)->cap;
        kept = adb_malloc((ix_hdr(b)->cnt + 1) * sizeof *kept);
        if (!kept) return ACCTDB_ERR_NOMEM;
        uint64_t const *obits = ix_bits(b);
        dent_t const   *oents = ix_ents(b);
        for (uint64_t i = 0; i < ocap; i++) {
            unsigned st = st_get(obits, i);
            if (st != ST_FREE) kept[n++] = (kept_t){oents[i], st};
        }
        size_t nsz = ix_file_sz(cap);
        int    rc = nsz > b->map_sz ? file_resize(dt, name, &b->map, b->map_sz, nsz) : 0;
        if (rc) {
            adb_free(kept);
            return rc;
        }
        if (nsz > b->map_sz) b->map_sz = nsz;
    }
    ixhdr_t *h = ix_hdr(b);
    memcpy(h->magic, IX_MAGIC, 8);
    h->version = VERSION;
    h->bin = bin;
    h->bin_cnt = dt->bin_cnt;
    h->cap = cap;
    b->cap = cap;
    h->seed = dt->seed;
    uint64_t *bits = ix_bits(b);
    dent_t   *ents = ix_ents(b);
    uint64_t  mask = cap - 1;
    memset(bits, 0, bits_sz(cap));
    for (uint64_t k = 0; k < n; k++) {
        uint64_t p = dhash(dt, kept[k].e.key) & mask;
        while (st_get(bits, p) != ST_FREE)
            p = (p + 1) & mask;
        ents[p] = kept[k].e;
        st_set(bits, p, kept[k].s);
    }
    h->cnt = n;
    b->cnt = n;
    adb_free(kept);
    if (ix_file_sz(cap) < b->map_sz) { /* a shrink: the tail goes */
        if (!file_resize(dt, name, &b->map, b->map_sz, ix_file_sz(cap)))
            b->map_sz = ix_file_sz(cap);
    }
    atomic_fetch_add(&dt->entries, cap);
    atomic_fetch_sub(&dt->entries, ocap);
    /* Rewritten all over: count every mapped page. */
    untouch_all(dt, b);
    touch(dt, b);
    return 0;
}

/* Position of key in b, or -1; *ins gets the free entry ending its run. */
static int64_t
ix_find(adb_dtier_t const *dt, dbin_t *b, uint8_t const *key, uint64_t *ins) {
    if (!b->map) return -1;
    ixhdr_t const  *h = ix_hdr(b);
    uint64_t const *bits = ix_bits(b);
    dent_t const   *ents = ix_ents(b);
    uint64_t        mask = h->cap - 1, p = dhash(dt, key) & mask;
    for (;;) {
        if (st_get(bits, p) == ST_FREE) {
            if (ins) *ins = p;
            return -1;
        }
        if (!memcmp(ents[p].key, key, 32)) return (int64_t)p;
        p = (p + 1) & mask;
    }
}

/* Removes the entry at p, shifting later entries of its run back. */
static void
ix_erase(adb_dtier_t const *dt, dbin_t *b, uint64_t p) {
    ixhdr_t  *h = ix_hdr(b);
    uint64_t *bits = ix_bits(b);
    dent_t   *ents = ix_ents(b);
    uint64_t  mask = h->cap - 1, i = p, j = p;
    for (;;) {
        j = (j + 1) & mask;
        unsigned s = st_get(bits, j);
        if (s == ST_FREE) break;
        uint64_t k = dhash(dt, ents[j].key) & mask;
        /* j's entry may move to i iff its home is not cyclically in (i, j]. */
        bool stay = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stay) continue;
        ents[i] = ents[j];
        st_set(bits, i, s);
        i = j;
    }
    st_set(bits, i, ST_FREE);
    h->cnt--;
    b->cnt--;
}

/* ---- data buckets ------------------------------------------------------- */

/* Makes b->cls hold classes up to cls (grown as needed: most bins only
 * ever need class 1). */
static int
cls_arr(adb_dtier_t *dt, dbin_t *b, uint32_t cls) {
    if (cls < b->cls_n) return 0;
    dcls_t *n = adb_realloc(b->cls, (cls + 1) * sizeof *n);
    if (!n) return ACCTDB_ERR_NOMEM;
    for (uint32_t c = b->cls_n; c <= cls; c++)
        n[c] = (dcls_t){0};
    atomic_fetch_add(&dt->heap, (cls + 1 - b->cls_n) * sizeof *n);
    b->cls = n;
    b->cls_n = cls + 1;
    return 0;
}

static int
cl_open_new(adb_dtier_t *dt, uint32_t bin, dbin_t *b, uint32_t cls, uint64_t cap) {
    ADB_TRY(cls_arr(dt, b, cls));
    char name[32];
    name_cl(name, sizeof name, bin, cls);
    dcls_t *c = &b->cls[cls];
    ADB_TRY(file_make(dt, name, cl_file_sz(cls, cap), &c->map));
    c->map_sz = cl_file_sz(cls, cap);
    clhdr_t *h = cl_hdr(c);
    memcpy(h->magic, CL_MAGIC, 8);
    h->version = VERSION;
    h->bin = bin;
    h->cls = cls;
    h->cap = cap;
    b->cls_mask |= 1u << cls;
    atomic_fetch_add(&dt->cells_alloc, cap);
    return 0;
}

static int
cl_grow(adb_dtier_t *dt, uint32_t bin, dcls_t *c, uint32_t cls) {
    uint64_t ocap = cl_hdr(c)->cap, ncap = ocap * 2;
    size_t   nsz = cl_file_sz(cls, ncap);
    char     name[32];
    name_cl(name, sizeof name, bin, cls);
    ADB_TRY(file_resize(dt, name, &c->map, c->map_sz, nsz));
    c->map_sz = nsz;
    cl_hdr(c)->cap = ncap;
    atomic_fetch_add(&dt->cells_alloc, ncap - ocap);
    atomic_fetch_add(&dt->grows, 1);
    return 0;
}

static int
cl_alloc(adb_dtier_t *dt, uint32_t bin, dbin_t *b, uint32_t cls, uint64_t *idx) {
    if (!(b->cls_mask & (1u << cls))) ADB_TRY(cl_open_new(dt, bin, b, cls, 4));
    dcls_t  *c = &b->cls[cls];
    clhdr_t *h = cl_hdr(c);
    if (h->free_head) {
        *idx = h->free_head - 1;
        h->free_head = adb_load_u64(cl_cell(c, cls, *idx));
    } else {
        if (h->used == h->cap) {
            ADB_TRY(cl_grow(dt, bin, c, cls));
            h = cl_hdr(c);
        }
        *idx = h->used++;
    }
    h->live++;
    atomic_fetch_add_explicit(&dt->cells_live, 1, memory_order_relaxed);
    return 0;
}

static void
cl_free(adb_dtier_t *dt, dbin_t *b, uint32_t cls, uint64_t idx) {
    dcls_t  *c = &b->cls[cls];
    clhdr_t *h = cl_hdr(c);
    adb_store_u64(cl_cell(c, cls, idx), h->free_head);
    h->free_head = idx + 1;
    h->live--;
    atomic_fetch_sub_explicit(&dt->cells_live, 1, memory_order_relaxed);
}

static void
cl_close(adb_dtier_t *dt, dbin_t *b, uint32_t cls, bool unlink_too, uint32_t bin) {
    if (!(b->cls_mask & (1u << cls))) return;
    dcls_t *c = &b->cls[cls];
    atomic_fetch_sub(&dt->cells_alloc, cl_hdr(c)->cap);
    fd_drop(dt, &c->fd1);
    file_drop(dt, c->map, c->map_sz);
    if (unlink_too) {
        char name[32];
        name_cl(name, sizeof name, bin, cls);
        adb_io_unlinkat(dt->io, dt->dirfd, name, 0);
    }
    *c = (dcls_t){0};
    b->cls_mask &= ~(1u << cls);
}

/* Rewrites class cls of bin with only its live cells, densely, and points
 * the entries at their new places; removes the file when none is live. */
static int
cl_compact(adb_dtier_t *dt, uint32_t bin, dbin_t *b, uint32_t cls) {
    if (!(b->cls_mask & (1u << cls))) return 0;
    dcls_t  *c = &b->cls[cls];
    uint64_t live = cl_hdr(c)->live;
    if (live == 0) {
        cl_close(dt, b, cls, true, bin);
        atomic_fetch_add(&dt->shrinks, 1);
        return 0;
    }
    uint64_t cap = 4;
    while (cap < live)
        cap *= 2;
    if (cap >= cl_hdr(c)->cap) return 0; /* the free list reuses its holes */
    /* The live cells, in entry order, copied out, then written back densely
     * at the front and the file cut to cap cells. */
    size_t   csz = cell_sz(cls);
    uint8_t *buf = adb_malloc(live * csz);
    if (!buf) return ACCTDB_ERR_NOMEM;
    ixhdr_t const  *h = ix_hdr(b);
    uint64_t const *bits = ix_bits(b);
    dent_t         *ents = ix_ents(b);
    uint64_t        next = 0;
    for (uint64_t i = 0; i < h->cap; i++) {
        if (st_get(bits, i) != ST_MANY || ents[i].b >> 32 != cls) continue;
        memcpy(buf + next * csz, cl_cell(c, cls, ents[i].a), csz);
        ents[i].a = next++;
    }
    ADB_ASSERT(next == live);
    memcpy(cl_cell(c, cls, 0), buf, live * csz);
    adb_free(buf);
    clhdr_t *ch = cl_hdr(c);
    uint64_t ocap = ch->cap;
    ch->used = live;
    ch->free_head = 0;
    char name[32];
    name_cl(name, sizeof name, bin, cls);
    if (!file_resize(dt, name, &c->map, c->map_sz, cl_file_sz(cls, cap))) {
        c->map_sz = cl_file_sz(cls, cap);
        cl_hdr(c)->cap = cap;
        atomic_fetch_sub(&dt->cells_alloc, ocap - cap);
    }
    touch(dt, b);
    atomic_fetch_add(&dt->shrinks, 1);
    return 0;
}

/* ---- per-bin operations ------------------------------------------------- */

static size_t
copy_out(dbin_t *b, dent_t const *e, unsigned s, adb_index_ver_t *out, size_t max) {
    if (s == ST_ONE) {
        if (max) out[0] = (adb_index_ver_t){e->a, e->b};
        return 1;
    }
    uint32_t cls = (uint32_t)(e->b >> 32), n = (uint32_t)e->b;
    memcpy(out, cl_cell(&b->cls[cls], cls, e->a), ADB_MIN((size_t)n, max) * sizeof *out);
    return n;
}

/* The pread probe both pread paths share: walks key's run 16 entries (and
 * their state words) at a time from its home.  Returns 1 with *pos, *st
 * and *e when the key is there, 0 with *pos the free entry ending its run
 * and *word that entry's state word, -1 when a descriptor or a read
 * failed; *fd_out gets the bucket's descriptor. */
static int
probe_pread(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], int *fd_out, uint64_t *pos,
            unsigned *st, dent_t *e, uint64_t *word) {
    dbin_t *b = &dt->bins[bin];
    char    name[32];
    name_ix(name, sizeof name, bin);
    int fd = *fd_out = fd_get(dt, &b->fd1, name);
    if (fd < 0) return -1;
    enum { W = 16 };
    dent_t   ents[W];
    uint64_t bits[2];
    uint64_t cap = b->cap, mask = cap - 1, p = dhash(dt, key) & mask;
    size_t   ents_off = HDR + bits_sz(b->cap);
    for (uint64_t seen = 0; seen < cap;) {
        uint64_t n = ADB_MIN((uint64_t)W, cap - p), w0 = p >> 5, w1 = (p + n - 1) >> 5;
        if (adb_io_pread_all(dt->io, fd, bits, (size_t)(w1 - w0 + 1) * 8, HDR + w0 * 8) ||
            adb_io_pread_all(dt->io, fd, ents, (size_t)n * sizeof *ents, ents_off + p * 48))
            return -1;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t q = p + i, w = bits[(q >> 5) - w0];
            unsigned s = (unsigned)(w >> ((q & 31) * 2)) & 3u;
            if (s != ST_FREE && memcmp(ents[i].key, key, 32)) continue;
            *pos = q;
            *st = s;
            *word = w;
            *e = ents[i];
            return s != ST_FREE;
        }
        seen += n;
        p = (p + n) & mask;
    }
    return -1; /* a full bucket: invariant 2 says never */
}

/* get_locked with pread instead of the mapping: the probe reads 16 entries
 * and their states at a time, a "many" entry its cell.  Nothing becomes
 * resident in the mappings (a read fault maps 64 KiB of a file, which a
 * RAM budget would have to count and later trim).  Returns SIZE_MAX when a
 * read cannot be made (no descriptor, an I/O error): the caller then reads
 * through the mapping. */
static size_t
get_pread(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t *out, size_t max) {
    dbin_t *b = &dt->bins[bin];
    if (!b->map) return 0;
    int      fd;
    uint64_t q, word;
    unsigned st;
    dent_t   e;
    int      r = probe_pread(dt, bin, key, &fd, &q, &st, &e, &word);
    if (r <= 0) return r < 0 ? SIZE_MAX : 0;
    if (st == ST_ONE) {
        if (max) out[0] = (adb_index_ver_t){e.a, e.b};
        return 1;
    }
    uint32_t cls = (uint32_t)(e.b >> 32), cnt = (uint32_t)e.b;
    size_t   k = ADB_MIN((size_t)cnt, max);
    if (k) {
        char cname[32];
        name_cl(cname, sizeof cname, bin, cls);
        int cfd = cls < b->cls_n ? fd_get(dt, &b->cls[cls].fd1, cname) : -1;
        if (cfd < 0 ||
            adb_io_pread_all(dt->io, cfd, out, k * sizeof *out, HDR + e.a * cell_sz(cls)))
            return SIZE_MAX;
    }
    return cnt;
}

static size_t
get_locked(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t *out, size_t max) {
    dbin_t *b = &dt->bins[bin];
    if (dt->pread_reads) {
        size_t n = get_pread(dt, bin, key, out, max);
        if (n != SIZE_MAX) return n;
    }
    int64_t p = ix_find(dt, b, key, NULL);
    if (b->map) touch(dt, b);
    if (p < 0) return 0;
    dent_t const *e = &ix_ents(b)[p];
    unsigned      s = st_get(ix_bits(b), (uint64_t)p);
    if (s == ST_MANY) touch(dt, b);
    return copy_out(b, e, s, out, max);
}

static int set_inner(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t const *v,
                     size_t cnt);

size_t
adb_dtier_get(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t *out,
              size_t max) {
    pthread_mutex_lock(&dt->bins[bin].mu);
    size_t n = get_locked(dt, bin, key, out, max);
    pthread_mutex_unlock(&dt->bins[bin].mu);
    return n;
}

/* With pread reads (a RAM budget), the commonest changes are written with
 * pwrite: a new key with one version (no growth due) and one version
 * replacing one.  A write through a trimmed mapping would fault its page
 * back in (64 KiB of fault-around), have ext4 update the file's times
 * (page_mkwrite), and make the next trim shoot it down again.  Reads
 * (16 entries and their state words at a time) and writes go through the
 * page cache the mappings share, so both stay coherent.  Returns 1 when
 * the change is not one of those, or a descriptor or an I/O call failed
 * (the caller then makes it through the mapping, all of it: a pwrite that
 * failed changed nothing the mapping path does not rewrite), else 0. */
static int
set_pwrite(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t const *v) {
    dbin_t *b = &dt->bins[bin];
    if (!b->map) return 1;
    int      fd;
    uint64_t q, word;
    unsigned st;
    dent_t   e;
    int      r = probe_pread(dt, bin, key, &fd, &q, &st, &e, &word);
    if (r < 0 || (r && st != ST_ONE)) return 1;
    size_t ents_off = HDR + bits_sz(b->cap);
    if (r) { /* its one version replaced */
        if (unseal(dt)) return 1;
        uint64_t ab[2] = {v->slot, v->val};
        return adb_io_pwrite_all(dt->io, fd, ab, sizeof ab, ents_off + q * 48 + 32) ? 1 : 0;
    }
    /* A new key at q, unless the bucket must grow first. */
    if ((b->cnt + 1) * 4 > (uint64_t)b->cap * 3) return 1;
    if (unseal(dt)) return 1;
    uint64_t cnt = b->cnt + 1;
    e = (dent_t){.a = v->slot, .b = v->val};
    memcpy(e.key, key, 32);
    word |= (uint64_t)ST_ONE << ((q & 31) * 2);
    if (adb_io_pwrite_all(dt->io, fd, &e, sizeof e, ents_off + q * 48) ||
        adb_io_pwrite_all(dt->io, fd, &word, 8, HDR + (q >> 5) * 8))
        return 1;
    /* The key is in: its count must follow (invariant 4). */
    if (adb_io_pwrite_all(dt->io, fd, &cnt, 8, offsetof(ixhdr_t, cnt))) ix_hdr(b)->cnt = cnt;
    b->cnt = cnt;
    atomic_fetch_add_explicit(&dt->keys, 1, memory_order_relaxed);
    return 0;
}

int
adb_dtier_set(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t const *v,
              size_t cnt) {
    pthread_mutex_lock(&dt->bins[bin].mu);
    int rc = dt->pread_reads && cnt == 1 ? set_pwrite(dt, bin, key, v) : 1;
    if (rc > 0) {
        rc = set_inner(dt, bin, key, v, cnt);
        if (dt->bins[bin].map) touch(dt, &dt->bins[bin]); /* mappings may have grown */
    }
    pthread_mutex_unlock(&dt->bins[bin].mu);
    return rc;
}

static int
set_inner(adb_dtier_t *dt, uint32_t bin, uint8_t const key[32], adb_index_ver_t const *v,
          size_t cnt) {
    if (cnt > ((size_t)1 << (CLS_N - 1))) return ACCTDB_ERR_FULL;
    ADB_TRY(unseal(dt));
    dbin_t  *b = &dt->bins[bin];
    uint64_t ins = 0;
    int64_t  p = ix_find(dt, b, key, &ins);
    touch(dt, b);
    if (p < 0 && cnt == 0) return 0;
    if (p < 0) {
        /* A new key: make room first (invariant 2), then find its place. */
        if (!b->map || (ix_hdr(b)->cnt + 1) * 4 > (uint64_t)ix_hdr(b)->cap * 3) {
            uint32_t cap = !b->map ? CAP_MIN : ix_hdr(b)->cap * 2;
            if (b->map) atomic_fetch_add(&dt->grows, 1);
            ADB_TRY(ix_rebuild(dt, bin, b, cap));
            p = ix_find(dt, b, key, &ins);
            ADB_ASSERT(p < 0);
        }
        uint64_t cell = 0;
        uint32_t cls = cnt > 1 ? cls_of(cnt) : 0;
        if (cls) {
            ADB_TRY(cl_alloc(dt, bin, b, cls, &cell));
            memcpy(cl_cell(&b->cls[cls], cls, cell), v, cnt * sizeof *v);
            atomic_fetch_add_explicit(&dt->many, 1, memory_order_relaxed);
        }
        dent_t *e = &ix_ents(b)[ins];
        memcpy(e->key, key, 32);
        if (cls) {
            e->a = cell;
            e->b = (uint64_t)cls << 32 | cnt;
        } else {
            e->a = v[0].slot;
            e->b = v[0].val;
        }
        st_set(ix_bits(b), ins, cls ? ST_MANY : ST_ONE);
        ix_hdr(b)->cnt++;
        b->cnt++;
        atomic_fetch_add_explicit(&dt->keys, 1, memory_order_relaxed);
        return 0;
    }
    dent_t  *e = &ix_ents(b)[p];
    unsigned s = st_get(ix_bits(b), (uint64_t)p);
    uint32_t ocls = s == ST_MANY ? (uint32_t)(e->b >> 32) : 0;
    uint32_t ncls = cnt > 1 ? cls_of(cnt) : 0;
    if (ncls && ncls == ocls) { /* same cell, rewritten in place */
        memcpy(cl_cell(&b->cls[ncls], ncls, e->a), v, cnt * sizeof *v);
        e->b = (uint64_t)ncls << 32 | cnt;
        return 0;
    }
    uint64_t cell = 0;
    if (ncls) {
        ADB_TRY(cl_alloc(dt, bin, b, ncls, &cell));
        memcpy(cl_cell(&b->cls[ncls], ncls, cell), v, cnt * sizeof *v);
    }
    if (ocls) cl_free(dt, b, ocls, e->a);
    if (ocls && !ncls) atomic_fetch_sub_explicit(&dt->many, 1, memory_order_relaxed);
    if (!ocls && ncls) atomic_fetch_add_explicit(&dt->many, 1, memory_order_relaxed);
    if (cnt == 0) {
        ix_erase(dt, b, (uint64_t)p);
        atomic_fetch_sub_explicit(&dt->keys, 1, memory_order_relaxed);
        /* Shrink a bucket that fell to 1/8 of its capacity. */
        ixhdr_t const *h = ix_hdr(b);
        if (h->cap > 64 && h->cnt * 8 < h->cap) {
            uint32_t cap = h->cap;
            while (cap > CAP_MIN && h->cnt * 8 < cap)
                cap /= 2;
            ADB_TRY(ix_rebuild(dt, bin, b, ADB_MAX(cap, CAP_MIN)));
            atomic_fetch_add(&dt->shrinks, 1);
        }
        if (ocls) {
            clhdr_t const *ch = cl_hdr(&b->cls[ocls]);
            if (ch->live == 0 || (ch->cap > 64 && ch->live * 8 < ch->cap))
                ADB_TRY(cl_compact(dt, bin, b, ocls));
        }
        return 0;
    }
    if (ncls) {
        e->a = cell;
        e->b = (uint64_t)ncls << 32 | cnt;
        st_set(ix_bits(b), (uint64_t)p, ST_MANY);
    } else {
        e->a = v[0].slot;
        e->b = v[0].val;
        st_set(ix_bits(b), (uint64_t)p, ST_ONE);
    }
    return 0;
}

static int
visit_locked(adb_dtier_t *dt, uint32_t bin, adb_index_vvisit_fn fn, void *ctx) {
    dbin_t *b = &dt->bins[bin];
    if (!b->map) return 0;
    enum { VMAX = 64 };
    adb_index_ver_t small[VMAX];
    int             rc = 0;
    touch(dt, b);
    uint32_t cap = ix_hdr(b)->cap;
    for (uint64_t i = 0; i < cap && !rc; i++) {
        unsigned s = st_get(ix_bits(b), i);
        if (s == ST_FREE) continue;
        dent_t const *e = &ix_ents(b)[i];
        if (s == ST_ONE) {
            small[0] = (adb_index_ver_t){e->a, e->b};
            rc = fn(ctx, e->key, small, 1);
            continue;
        }
        /* Many: hand out the cell itself (valid until the next call on
         * this bin, which fn must not make). */
        uint32_t cls = (uint32_t)(e->b >> 32);
        rc = fn(ctx, e->key, cl_cell(&b->cls[cls], cls, e->a), (size_t)(uint32_t)e->b);
    }
    return rc;
}

int
adb_dtier_visit(adb_dtier_t *dt, uint32_t bin, adb_index_vvisit_fn fn, void *ctx) {
    pthread_mutex_lock(&dt->bins[bin].mu);
    int r = visit_locked(dt, bin, fn, ctx);
    pthread_mutex_unlock(&dt->bins[bin].mu);
    return r;
}

/* The capacity class cls of b would shrink to (its own when it would not). */
static uint64_t
cl_fit(dbin_t *b, uint32_t cls) {
    uint64_t live = cl_hdr(&b->cls[cls])->live, cap = 4;
    if (!live) return 0;
    while (cap < live)
        cap *= 2;
    return ADB_MIN(cap, cl_hdr(&b->cls[cls])->cap);
}

static int
reclaim_locked(adb_dtier_t *dt, uint32_t bin) {
    dbin_t *b = &dt->bins[bin];
    if (!b->map) return 0;
    uint64_t cnt = ix_hdr(b)->cnt;
    uint32_t cap = CAP_MIN;
    while ((uint64_t)cap * 3 < cnt * 4)
        cap *= 2;
    bool ix = cap < ix_hdr(b)->cap, any = ix;
    for (uint32_t c = 1; c < CLS_N && !any; c++)
        any = (b->cls_mask & (1u << c)) && cl_fit(b, c) < cl_hdr(&b->cls[c])->cap;
    if (!any) return 0;
    ADB_TRY(unseal(dt));
    if (ix) {
        ADB_TRY(ix_rebuild(dt, bin, b, cap));
        atomic_fetch_add(&dt->shrinks, 1);
    }
    for (uint32_t c = 1; c < CLS_N; c++)
        if ((b->cls_mask & (1u << c)) && cl_fit(b, c) < cl_hdr(&b->cls[c])->cap)
            ADB_TRY(cl_compact(dt, bin, b, c));
    return 0;
}

int
adb_dtier_reclaim(adb_dtier_t *dt, uint32_t bin) {
    pthread_mutex_lock(&dt->bins[bin].mu);
    int r = reclaim_locked(dt, bin);
    pthread_mutex_unlock(&dt->bins[bin].mu);
    return r;
}

static int
edit_vals_locked(adb_dtier_t *dt, uint32_t bin, adb_dtier_edit_fn fn, void *ctx) {
    dbin_t *b = &dt->bins[bin];
    if (!b->map) return 0;
    ADB_TRY(unseal(dt));
    touch(dt, b);
    uint32_t cap = ix_hdr(b)->cap;
    int      rc = 0;
    for (uint64_t i = 0; i < cap && !rc; i++) {
        unsigned s = st_get(ix_bits(b), i);
        if (s == ST_FREE) continue;
        dent_t *e = &ix_ents(b)[i];
        if (s == ST_ONE) {
            adb_index_ver_t one = {e->a, e->b};
            rc = fn(ctx, &one);
            e->b = one.val; /* the slot stays */
            continue;
        }
        uint32_t         cls = (uint32_t)(e->b >> 32), n = (uint32_t)e->b;
        adb_index_ver_t *v = cl_cell(&b->cls[cls], cls, e->a);
        for (uint32_t k = 0; k < n && !rc; k++) {
            uint64_t slot = v[k].slot;
            rc = fn(ctx, &v[k]);
            v[k].slot = slot;
        }
    }
    return rc;
}

int
adb_dtier_edit_vals(adb_dtier_t *dt, uint32_t bin, adb_dtier_edit_fn fn, void *ctx) {
    pthread_mutex_lock(&dt->bins[bin].mu);
    int r = edit_vals_locked(dt, bin, fn, ctx);
    pthread_mutex_unlock(&dt->bins[bin].mu);
    return r;
}

static bool
trim_locked(adb_dtier_t *dt, uint32_t bin) {
    dbin_t *b = &dt->bins[bin];
    if (!b->resident) return false;
    if (b->map) madvise(b->map, b->map_sz, MADV_DONTNEED);
    for (uint32_t c = 1; c < CLS_N; c++)
        if (b->cls_mask & (1u << c)) madvise(b->cls[c].map, b->cls[c].map_sz, MADV_DONTNEED);
    untouch_all(dt, b);
    return true;
}

bool
adb_dtier_trim(adb_dtier_t *dt, uint32_t bin) {
    pthread_mutex_lock(&dt->bins[bin].mu);
    bool r = trim_locked(dt, bin);
    pthread_mutex_unlock(&dt->bins[bin].mu);
    return r;
}

void
adb_dtier_set_pread_reads(adb_dtier_t *dt, bool on) {
    /* A quarter of the descriptors this process may open, the rest left
     * to the account files, sockets and everything else. */
    struct rlimit rl;
    int           cap = 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        cap = (int)ADB_MIN(rl.rlim_cur / 4, (rlim_t)1 << 20);
    else if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        cap = 1 << 20;
    atomic_store(&dt->fds_max, cap);
    dt->pread_reads = on;
}

void
adb_dtier_stats(adb_dtier_t *dt, adb_dtier_stats_t *o) {
    o->keys = atomic_load(&dt->keys);
    o->entries = atomic_load(&dt->entries);
    o->many = atomic_load(&dt->many);
    o->cells_live = atomic_load(&dt->cells_live);
    o->cells_alloc = atomic_load(&dt->cells_alloc);
    o->file_bytes = atomic_load(&dt->file_bytes);
    o->resident_est = atomic_load(&dt->resident);
    o->grows = atomic_load(&dt->grows);
    o->shrinks = atomic_load(&dt->shrinks);
    o->heap = atomic_load(&dt->heap);
}

uint64_t
adb_dtier_seed(adb_dtier_t const *dt) {
    return dt->seed;
}
uint32_t
adb_dtier_bin_cnt(adb_dtier_t const *dt) {
    return dt->bin_cnt;
}

/* ---- open, verify, close ------------------------------------------------ */

static adb_dtier_t *
dt_alloc(adb_io_t const *io, uint32_t bin_cnt, uint64_t seed) {
    adb_dtier_t *dt = adb_calloc(1, sizeof *dt);
    if (!dt) return NULL;
    dt->io = io ? io : adb_io();
    dt->dirfd = -1;
    dt->bin_cnt = bin_cnt;
    dt->seed = seed;
    dt->bins = adb_calloc(bin_cnt, sizeof(dbin_t));
    if (!dt->bins) {
        adb_free(dt);
        return NULL;
    }
    for (uint32_t i = 0; i < bin_cnt; i++)
        pthread_mutex_init(&dt->bins[i].mu, NULL);
    dt->heap = sizeof *dt + (uint64_t)bin_cnt * sizeof(dbin_t);
    pthread_mutex_init(&dt->seal_mu, NULL);
    return dt;
}

static void
dt_free(adb_dtier_t *dt) {
    if (!dt) return;
    for (uint32_t i = 0; dt->bins && i < dt->bin_cnt; i++) {
        dbin_t *b = &dt->bins[i];
        for (uint32_t c = 1; c < CLS_N; c++)
            if (b->cls_mask & (1u << c)) {
                fd_drop(dt, &b->cls[c].fd1);
                file_drop(dt, b->cls[c].map, b->cls[c].map_sz);
            }
        fd_drop(dt, &b->fd1);
        if (b->map) file_drop(dt, b->map, b->map_sz);
        adb_free(b->cls);
        pthread_mutex_destroy(&b->mu);
    }
    if (dt->dirfd >= 0) adb_io_close(dt->io, dt->dirfd);
    pthread_mutex_destroy(&dt->seal_mu);
    adb_free(dt->bins);
    adb_free(dt);
}

static size_t
meta_sz(uint32_t bin_cnt) {
    return sizeof(meta_hdr_t) + (size_t)bin_cnt * sizeof(meta_bin_t) + 4;
}

/* Writes the meta: state, stamp and per-bin crcs (NULL: zeros). */
static int
meta_write(adb_dtier_t *dt, uint32_t state, adb_dtier_stamp_t const *st, meta_bin_t const *mb) {
    size_t   sz = meta_sz(dt->bin_cnt);
    uint8_t *buf = adb_calloc(1, sz);
    if (!buf) return ACCTDB_ERR_NOMEM;
    meta_hdr_t h = {.version = VERSION, .state = state, .bin_cnt = dt->bin_cnt, .seed = dt->seed};
    memcpy(h.magic, META_MAGIC, 8);
    if (st) h.gen = st->gen, h.root = st->root;
    h.keys = atomic_load(&dt->keys);
    memcpy(buf, &h, sizeof h);
    if (mb) memcpy(buf + sizeof h, mb, (size_t)dt->bin_cnt * sizeof *mb);
    adb_store_u32(buf + sz - 4, adb_crc32c(0, buf, sz - 4));
    int rc = adb_io_write_file_atomic(dt->io, dt->dirfd, META_NAME, buf, sz);
    adb_free(buf);
    return rc;
}

static int
open_dir(adb_dtier_t *dt, char const *dir, bool make, adb_err_t *err) {
    if (make) {
        int rc = adb_io_mkdirat(dt->io, AT_FDCWD, dir, 0755);
        if (rc && rc != -EEXIST)
            return adb_err_set(err, rc, "index directory %s: %s", dir, acctdb_strerror(rc));
    }
    dt->dirfd = adb_io_openat(dt->io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (dt->dirfd < 0)
        return adb_err_set(err, dt->dirfd == -ENOENT ? ACCTDB_ERR_NOT_FOUND : dt->dirfd,
                           "index directory %s: %s", dir, acctdb_strerror(dt->dirfd));
    return 0;
}

/* Is name one of the tier's files (or a leftover temporary)? */
static bool
tier_file(char const *n) {
    if (!strcmp(n, META_NAME) || !strcmp(n, ".tmp-" META_NAME)) return true;
    if (n[0] != 'b' || strlen(n) < 9) return false;
    for (int i = 1; i < 6; i++)
        if (n[i] < '0' || n[i] > '9') return false;
    return !strncmp(n + 6, ".ix", 3) || !strncmp(n + 6, ".c", 2);
}

int
adb_dtier_create(adb_dtier_t **out, adb_io_t const *io, char const *dir, uint32_t bin_cnt,
                 uint64_t seed, adb_err_t *err) {
    *out = NULL;
    if (!bin_cnt || bin_cnt > (1u << 20))
        return adb_err_set(err, ACCTDB_ERR_INVALID, "index: %u bins", bin_cnt);
    adb_dtier_t *dt = dt_alloc(io, bin_cnt, seed);
    if (!dt) return adb_err_set(err, ACCTDB_ERR_NOMEM, "index: out of memory");
    int rc = open_dir(dt, dir, true, err);
    if (rc) {
        dt_free(dt);
        return rc;
    }
    /* The meta goes first, so no crash can leave old files looking clean. */
    rc = meta_write(dt, META_OPEN, NULL, NULL);
    DIR *d = rc ? NULL : fdopendir(dup(dt->dirfd));
    if (!rc && !d) rc = -errno;
    for (struct dirent *de; d && (de = readdir(d));)
        if (tier_file(de->d_name) && strcmp(de->d_name, META_NAME))
            adb_io_unlinkat(dt->io, dt->dirfd, de->d_name, 0);
    if (d) closedir(d);
    if (rc) {
        dt_free(dt);
        return adb_err_set(err, rc, "index directory %s: %s", dir, acctdb_strerror(rc));
    }
    *out = dt;
    return 0;
}

/* ---- reuse -------------------------------------------------------------- */

typedef struct vjob {
    adb_dtier_t      *dt;
    meta_bin_t const *mb;
    _Atomic uint32_t  next;
    _Atomic int       rc;
    pthread_mutex_t   mu;
    char              why[256];
} vjob_t;

static void
vfail(vjob_t *j, int rc, char const *fmt, uint32_t bin, char const *what) {
    pthread_mutex_lock(&j->mu);
    if (!atomic_load(&j->rc)) {
        snprintf(j->why, sizeof j->why, fmt, bin, what);
        atomic_store(&j->rc, rc);
    }
    pthread_mutex_unlock(&j->mu);
}

static int
map_existing(adb_dtier_t *dt, char const *name, size_t min, uint8_t **m_out, size_t *sz_out) {
    int fd = adb_io_openat(dt->io, dt->dirfd, name, O_RDWR | O_NOFOLLOW, 0);
    if (fd < 0) return fd;
    struct stat st;
    int         rc = adb_io_fstat(dt->io, fd, &st);
    if (!rc && (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < min)) rc = ACCTDB_ERR_CORRUPT;
    void *m = MAP_FAILED;
    if (!rc) {
        m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) rc = -errno;
    }
    if (rc) {
        adb_io_close(dt->io, fd);
        return rc;
    }
    adb_io_close(dt->io, fd);
    *m_out = m;
    *sz_out = (size_t)st.st_size;
    atomic_fetch_add(&dt->file_bytes, (uint64_t)st.st_size);
    return 0;
}

/* Maps and checks one bin against its meta record: sizes, headers, crc,
 * and invariants 2-4 over every entry. */
static int
verify_bin(vjob_t *j, uint32_t bin) {
    adb_dtier_t      *dt = j->dt;
    dbin_t           *b = &dt->bins[bin];
    meta_bin_t const *mb = &j->mb[bin];
    char              name[32];
    name_ix(name, sizeof name, bin);
    if (!mb->cnt && !mb->cls_mask) {
        if (faccessat(dt->dirfd, name, F_OK, 0) == 0) {
            vfail(j, ACCTDB_ERR_CORRUPT, "bin %u: %s present but recorded empty", bin, name);
            return -1;
        }
        return 0;
    }
    int rc = map_existing(dt, name, HDR, &b->map, &b->map_sz);
    if (rc) {
        vfail(j, ACCTDB_ERR_CORRUPT, "bin %u: %s", bin, acctdb_strerror(rc));
        return -1;
    }
    ixhdr_t const *h = ix_hdr(b);
    if (memcmp(h->magic, IX_MAGIC, 8) || h->version != VERSION || h->bin != bin ||
        h->bin_cnt != dt->bin_cnt || h->seed != dt->seed || h->cap < CAP_MIN ||
        (h->cap & (h->cap - 1)) || h->cap > (1u << 30) || b->map_sz != ix_file_sz(h->cap) ||
        h->cnt != mb->cnt || h->cnt * 4 > (uint64_t)h->cap * 3) {
        vfail(j, ACCTDB_ERR_CORRUPT, "bin %u: %s header does not match", bin, "index bucket");
        return -1;
    }
    b->cap = h->cap;
    b->cnt = h->cnt;
    uint32_t crc = adb_crc32c(0, b->map, b->map_sz);
    uint32_t mask = 0;
    uint32_t want = mb->cls_mask & ~META_IX_FILE;
    if (want && cls_arr(dt, b, 31 - (uint32_t)__builtin_clz(want))) {
        vfail(j, ACCTDB_ERR_NOMEM, "bin %u: %s", bin, "out of memory");
        return -1;
    }
    for (uint32_t c = 1; c < CLS_N; c++) {
        if (!(mb->cls_mask & (1u << c))) continue;
        name_cl(name, sizeof name, bin, c);
        dcls_t *dc = &b->cls[c];
        rc = map_existing(dt, name, HDR, &dc->map, &dc->map_sz);
        if (rc) {
            vfail(j, ACCTDB_ERR_CORRUPT, "bin %u: data bucket: %s", bin, acctdb_strerror(rc));
            return -1;
        }
        b->cls_mask |= 1u << c;
        clhdr_t const *ch = cl_hdr(dc);
        if (memcmp(ch->magic, CL_MAGIC, 8) || ch->version != VERSION || ch->bin != bin ||
            ch->cls != c || ch->cap > (1ull << 40) || dc->map_sz != cl_file_sz(c, ch->cap) ||
            ch->used > ch->cap || ch->live > ch->used || ch->free_head > ch->used) {
            vfail(j, ACCTDB_ERR_CORRUPT, "bin %u: %s header does not match", bin, "data bucket");
            return -1;
        }
        crc = adb_crc32c(crc, dc->map, dc->map_sz);
        mask |= 1u << c;
    }
    if (crc != mb->crc || mask != want) {
        vfail(j, ACCTDB_ERR_CORRUPT, "bin %u: %s checksum differs", bin, "index");
        return -1;
    }
    /* Invariants 2-4, with a bit per cell to catch shared cells. */
    uint64_t cnt = 0, many = 0, cells[CLS_N] = {0};
    uint8_t *seen[CLS_N] = {0};
    bool     bad = false;
    for (uint32_t c = 1; c < CLS_N && !bad; c++)
        if (mask & (1u << c)) {
            seen[c] = adb_calloc(cl_hdr(&b->cls[c])->used / 8 + 1, 1);
            bad = !seen[c];
        }
    for (uint64_t i = 0; i < h->cap && !bad; i++) {
        unsigned s = st_get(ix_bits(b), i);
        if (s == ST_FREE) continue;
        cnt++;
        if (s == ST_ONE) continue;
        dent_t const *e = &ix_ents(b)[i];
        uint32_t      c = (uint32_t)(e->b >> 32), n = (uint32_t)e->b;
        if (s != ST_MANY || c < 1 || c >= CLS_N || !(mask & (1u << c)) ||
            e->a >= cl_hdr(&b->cls[c])->used || n > (1u << c) || n <= (1u << (c - 1)) ||
            (seen[c][e->a / 8] & (1u << (e->a % 8)))) {
            bad = true;
            break;
        }
        seen[c][e->a / 8] |= (uint8_t)(1u << (e->a % 8));
        cells[c]++;
        many++;
    }
    for (uint32_t c = 1; c < CLS_N; c++) {
        if (!bad && (mask & (1u << c)) && cells[c] != cl_hdr(&b->cls[c])->live) bad = true;
        adb_free(seen[c]);
    }
    if (bad || cnt != h->cnt) {
        vfail(j, ACCTDB_ERR_CORRUPT, "bin %u: %s entries are inconsistent", bin, "index");
        return -1;
    }
    atomic_fetch_add(&dt->keys, cnt);
    atomic_fetch_add(&dt->many, many);
    atomic_fetch_add(&dt->entries, h->cap);
    for (uint32_t c = 1; c < CLS_N; c++)
        if (mask & (1u << c)) {
            atomic_fetch_add(&dt->cells_live, cl_hdr(&b->cls[c])->live);
            atomic_fetch_add(&dt->cells_alloc, cl_hdr(&b->cls[c])->cap);
        }
    /* Verified pages leave this process (the page cache keeps them). */
    madvise(b->map, b->map_sz, MADV_DONTNEED);
    for (uint32_t c = 1; c < CLS_N; c++)
        if (mask & (1u << c)) madvise(b->cls[c].map, b->cls[c].map_sz, MADV_DONTNEED);
    b->resident = 0;
    return 0;
}

static void *
verify_worker(void *arg) {
    vjob_t *j = arg;
    for (;;) {
        uint32_t bin = atomic_fetch_add(&j->next, 1);
        if (bin >= j->dt->bin_cnt || atomic_load(&j->rc)) break;
        if (verify_bin(j, bin)) break;
    }
    return NULL;
}

int
adb_dtier_reuse(adb_dtier_t **out, adb_io_t const *io, char const *dir, uint32_t bin_cnt,
                adb_dtier_stamp_t const *want, uint32_t threads, adb_err_t *err) {
    *out = NULL;
    adb_dtier_t *dt = dt_alloc(io, bin_cnt, 0);
    if (!dt) return adb_err_set(err, ACCTDB_ERR_NOMEM, "index: out of memory");
    int rc = open_dir(dt, dir, false, err);
    if (rc) {
        dt_free(dt);
        return rc;
    }
    uint8_t *buf = NULL;
    size_t   sz = 0;
    rc = adb_io_read_file(dt->io, dt->dirfd, META_NAME, meta_sz(1u << 20), &buf, &sz);
    meta_hdr_t h;
    char       why[300] = "";
    if (rc == -ENOENT) {
        rc = ACCTDB_ERR_NOT_FOUND;
        snprintf(why, sizeof why, "no %s", META_NAME);
    } else if (rc) {
        snprintf(why, sizeof why, "%s: %s", META_NAME, acctdb_strerror(rc));
    } else if (sz < sizeof h + 4 || adb_load_u32(buf + sz - 4) != adb_crc32c(0, buf, sz - 4)) {
        rc = ACCTDB_ERR_CORRUPT;
        snprintf(why, sizeof why, "%s is damaged (checksum)", META_NAME);
    } else {
        memcpy(&h, buf, sizeof h);
        if (memcmp(h.magic, META_MAGIC, 8) || h.version != VERSION) {
            rc = ACCTDB_ERR_CORRUPT;
            snprintf(why, sizeof why, "%s: unknown magic or version", META_NAME);
        } else if (h.bin_cnt != bin_cnt || sz != meta_sz(bin_cnt)) {
            rc = ACCTDB_ERR_MISMATCH;
            snprintf(why, sizeof why, "it has %u bins, %u wanted", h.bin_cnt, bin_cnt);
        } else if (h.state != META_CLEAN) {
            rc = ACCTDB_ERR_MISMATCH;
            snprintf(why, sizeof why, "it was not closed cleanly");
        } else if (h.gen != want->gen || h.root != want->root) {
            rc = ACCTDB_ERR_MISMATCH;
            snprintf(why, sizeof why,
                     "it matches generation %llu at root %llu, the database is at generation "
                     "%llu, root %llu",
                     (unsigned long long)h.gen, (unsigned long long)h.root,
                     (unsigned long long)want->gen, (unsigned long long)want->root);
        }
    }
    if (!rc) {
        dt->seed = h.seed;
        vjob_t j = {.dt = dt, .mb = (meta_bin_t const *)(buf + sizeof h)};
        pthread_mutex_init(&j.mu, NULL);
        uint32_t  nt = ADB_MAX(1u, ADB_MIN(threads, 64u));
        pthread_t th[64];
        uint32_t  started = 0;
        for (uint32_t i = 1; i < nt; i++)
            if (!pthread_create(&th[started], NULL, verify_worker, &j)) started++;
        verify_worker(&j);
        for (uint32_t i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_mutex_destroy(&j.mu);
        rc = atomic_load(&j.rc);
        if (rc) snprintf(why, sizeof why, "%s", j.why);
        if (!rc && atomic_load(&dt->keys) != h.keys) {
            rc = ACCTDB_ERR_CORRUPT;
            snprintf(why, sizeof why, "the bins hold %llu keys, the meta says %llu",
                     (unsigned long long)atomic_load(&dt->keys), (unsigned long long)h.keys);
        }
    }
    adb_free(buf);
    /* Before anything can change the files: mark them open. */
    if (!rc && (rc = meta_write(dt, META_OPEN, want, NULL)) != 0)
        snprintf(why, sizeof why, "cannot mark %s open: %s", META_NAME, acctdb_strerror(rc));
    if (rc) {
        dt_free(dt);
        return adb_err_set(err, rc, "index in %s not reused: %s", dir, why);
    }
    *out = dt;
    return 0;
}

int
adb_dtier_stamp(adb_dtier_t *dt, adb_dtier_stamp_t const *stamp, adb_err_t *err) {
    int         rc = 0;
    meta_bin_t *mb = adb_calloc(dt->bin_cnt, sizeof *mb);
    if (!mb) rc = ACCTDB_ERR_NOMEM;
    for (uint32_t i = 0; !rc && i < dt->bin_cnt; i++) {
        dbin_t *b = &dt->bins[i];
        pthread_mutex_lock(&b->mu);
        if (!b->map) {
            pthread_mutex_unlock(&b->mu);
            continue;
        }
        mb[i].cnt = ix_hdr(b)->cnt;
        mb[i].cls_mask = META_IX_FILE; /* a bin emptied since keeps its file */
        mb[i].crc = adb_crc32c(0, b->map, b->map_sz);
        for (uint32_t c = 1; c < CLS_N; c++) {
            if (!(b->cls_mask & (1u << c))) continue;
            mb[i].crc = adb_crc32c(mb[i].crc, b->cls[c].map, b->cls[c].map_sz);
            mb[i].cls_mask |= 1u << c;
        }
        pthread_mutex_unlock(&b->mu);
    }
    /* Every file's pages reach the disk before the meta says clean: one
     * syncfs for the whole directory (an msync per file cost a device
     * flush each: 4.5 s for 16,000 small files here).  A reuse checks
     * every byte against the checksums all the same. */
    if (!rc && syncfs(dt->dirfd)) rc = -errno;
    if (!rc) rc = adb_io_fsync_dir(dt->io, dt->dirfd);
    pthread_mutex_lock(&dt->seal_mu);
    if (!rc) rc = meta_write(dt, META_CLEAN, stamp, mb);
    if (!rc) atomic_store(&dt->sealed, true);
    pthread_mutex_unlock(&dt->seal_mu);
    adb_free(mb);
    if (rc) adb_err_set(err, rc, "index: stamping the disk tier failed: %s", acctdb_strerror(rc));
    return rc;
}

int
adb_dtier_close(adb_dtier_t *dt, adb_dtier_stamp_t const *clean, adb_err_t *err) {
    if (!dt) return 0;
    int rc = clean ? adb_dtier_stamp(dt, clean, err) : 0;
    dt_free(dt);
    return rc;
}
