/* src/snapshot/tar.h - a streaming, hardened tar reader and a tar writer.
 *
 * READER.  Sans-I/O: the caller feeds bytes as they come out of the
 * decompressor and gets events back; the reader never buffers entry data
 * (DATA events point into the caller's input).  It enforces, for every
 * archive:
 *   - header checksums; ustar, GNU and old (v7) headers; octal and GNU
 *     base-256 sizes (files >= 8 GiB); GNU long names ('L') and pax 'x'
 *     path/size records, each bounded;
 *   - only regular files and directories: hard links, symlinks, devices,
 *     FIFOs, GNU sparse and unknown types are rejected;
 *   - paths: no absolute path, no '..' component, no empty component, no
 *     backslash or control byte, valid UTF-8, and a non-directory whose name
 *     ends in '/' is rejected;
 *   - limits: entry count, total stored bytes, largest entry;
 *   - the end-of-archive marker (two zero blocks) must be seen: a stream
 *     that ends before it is truncated.
 * Snapshot-specific admission (which paths a snapshot may hold) is
 * adb_snap_entry_classify(), applied by the loader to each ENTRY event.
 *
 * WRITER.  Appends ustar entries (header, data, zero padding) and the end
 * marker into an output callback. */
#ifndef ADB_SNAPSHOT_TAR_H
#define ADB_SNAPSHOT_TAR_H

#include "util/util.h"

#define ADB_TAR_BLOCK    512u
#define ADB_TAR_PATH_MAX 4096u

typedef struct adb_tar_limits {
    uint64_t max_entries;  /* Agave: 5,000,000 */
    uint64_t max_total_sz; /* sum of entry sizes; Agave: 4 TiB actual */
    uint64_t max_entry_sz; /* largest single entry */
} adb_tar_limits_t;

/* Agave's limits (NETWORK.md 4.2); entries up to 64 GiB. */
void adb_tar_limits_default(adb_tar_limits_t *l);

typedef enum adb_tar_ev_kind {
    ADB_TAR_EV_ENTRY = 1, /* a new entry: ev.path, ev.is_dir, ev.size */
    ADB_TAR_EV_DATA,      /* ev.data[0..ev.data_sz) of the current entry */
    ADB_TAR_EV_ENTRY_END, /* all of the current entry's data was delivered */
    ADB_TAR_EV_EOF,       /* the end-of-archive marker */
} adb_tar_ev_kind_t;

typedef struct adb_tar_ev {
    adb_tar_ev_kind_t kind;
    char const       *path; /* normalized: no "./" prefix, no trailing '/' */
    bool              is_dir;
    uint64_t          size;     /* entry size (ENTRY) */
    uint8_t const    *data;     /* DATA */
    size_t            data_sz;  /* DATA */
    uint64_t          data_off; /* DATA: offset of data within the entry */
} adb_tar_ev_t;

typedef struct adb_tar {
    int              state;
    adb_tar_limits_t lim;
    uint8_t          blk[ADB_TAR_BLOCK]; /* header being assembled */
    size_t           blk_have;
    uint64_t         remain; /* data bytes left in the current entry */
    uint64_t         entry_sz;
    uint32_t         pad;         /* padding bytes left after the data */
    int              zero_blocks; /* consecutive zero blocks seen */
    uint64_t         entry_cnt;
    uint64_t         total_sz;
    uint64_t         stream_off; /* bytes consumed so far (for messages) */
    uint64_t         hdr_off;    /* offset of the current header */
    /* Extended-header state ('L' long name, 'x' pax). */
    int       ext_kind; /* 0, 'L' or 'x' */
    char     *ext_buf;
    size_t    ext_have;
    char      pending_path[ADB_TAR_PATH_MAX + 1];
    bool      has_pending_path;
    uint64_t  pending_size;
    bool      has_pending_size;
    char      path[ADB_TAR_PATH_MAX + 1];
    adb_err_t err;
} adb_tar_t;

void adb_tar_init(adb_tar_t *t, adb_tar_limits_t const *lim);
void adb_tar_fini(adb_tar_t *t);

/* Consumes input from *in (advancing *in / *in_sz) until an event is ready.
 * Returns 1 with *ev filled, 0 when all input was consumed without an event
 * (feed more), or a negative error (sticky; t->err.msg says what and the
 * stream offset).  After EOF it returns 0 and ignores further bytes. */
int adb_tar_next(adb_tar_t *t, uint8_t const **in, size_t *in_sz, adb_tar_ev_t *ev);

/* True once the end-of-archive marker was seen. */
bool adb_tar_done(adb_tar_t const *t);

/* ---- snapshot entry admission (FORMAT.md 1.2) --------------------------- */
typedef enum adb_snap_entry_kind {
    ADB_SNAP_ENTRY_REJECT = 0,
    ADB_SNAP_ENTRY_VERSION,       /* version */
    ADB_SNAP_ENTRY_ACCOUNTS_DIR,  /* accounts */
    ADB_SNAP_ENTRY_ACCOUNT_FILE,  /* accounts/<slot>.<id> */
    ADB_SNAP_ENTRY_SNAPSHOTS_DIR, /* snapshots */
    ADB_SNAP_ENTRY_STATUS_CACHE,  /* snapshots/status_cache */
    ADB_SNAP_ENTRY_SLOT_DIR,      /* snapshots/<slot> */
    ADB_SNAP_ENTRY_MANIFEST,      /* snapshots/<slot>/<slot> */
} adb_snap_entry_kind_t;

/* Classifies an entry; slot_out/id_out get the numbers where the path has
 * them.  Numbers must be decimal digits that fit in u64. */
adb_snap_entry_kind_t adb_snap_entry_classify(char const *path, bool is_dir, uint64_t *slot_out,
                                              uint64_t *id_out);

/* ---- writer ------------------------------------------------------------- */
typedef int (*adb_tar_out_fn)(void *ctx, void const *p, size_t sz);

/* Writes a ustar header for a regular file (mode 0644) or directory (0755)
 * into hdr (512 bytes).  Sizes >= 8 GiB use base-256.  Returns
 * ACCTDB_ERR_INVALID if the path does not fit in the 100+155 name fields. */
int adb_tar_header(uint8_t hdr[ADB_TAR_BLOCK], char const *path, bool is_dir, uint64_t size,
                   uint64_t mtime);

/* Zero bytes needed after size bytes of data to reach a block boundary. */
static inline size_t
adb_tar_pad(uint64_t size) {
    return (size_t)((ADB_TAR_BLOCK - (size % ADB_TAR_BLOCK)) % ADB_TAR_BLOCK);
}

#endif
