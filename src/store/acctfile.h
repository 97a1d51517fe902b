/* src/store/acctfile.h - account storage files ("AppendVec" layout,
 * FORMAT.md section 2): record codec, sanitizing scan, writer.
 *
 * A file is a sequence of records starting at offset 0, each 8-aligned:
 *
 *   0x00 u64 write_version (obsolete)   0x38 u64 rent_epoch
 *   0x08 u64 data_len                   0x40 [32] owner
 *   0x10 [32] pubkey                    0x60 u8 executable, 7 bytes garbage
 *   0x30 u64 lamports                   0x68 [32] obsolete hash
 *   0x88 data[data_len], zero padding to 8
 *
 * Every record's slot is the slot in the file's name. */
#ifndef ADB_STORE_ACCTFILE_H
#define ADB_STORE_ACCTFILE_H

#include "util/util.h"

#define ADB_ACCT_HDR_SZ      136u
#define ADB_ACCT_MAX_DATA_SZ (10ull << 20) /* MAX_PERMITTED_DATA_LENGTH */
#define ADB_ACCTFILE_MAX_SZ  (16ull << 30) /* MAXIMUM_APPEND_VEC_FILE_SIZE */

#define ADB_ACCT_OFF_DATA_LEN   0x08
#define ADB_ACCT_OFF_PUBKEY     0x10
#define ADB_ACCT_OFF_LAMPORTS   0x30
#define ADB_ACCT_OFF_RENT_EPOCH 0x38
#define ADB_ACCT_OFF_OWNER      0x40
#define ADB_ACCT_OFF_EXEC       0x60

/* Stored size of a record with data_len bytes of data. */
static inline uint64_t
adb_acct_rec_sz(uint64_t data_len) {
    return (ADB_ACCT_HDR_SZ + data_len + 7) & ~7ull;
}

/* A record seen in place: pointers into the file bytes. */
typedef struct adb_acct_rec {
    uint64_t       off; /* record offset in the file */
    uint64_t       data_len;
    uint64_t       lamports;
    uint64_t       rent_epoch;
    uint8_t const *pubkey; /* 32 bytes */
    uint8_t const *owner;  /* 32 bytes */
    uint8_t const *data;   /* data_len bytes */
    bool           executable;
} adb_acct_rec_t;

/* Fills an acctdb_account_t from a record (data points into the file). */
static inline void
adb_acct_rec_to_account(adb_acct_rec_t const *r, acctdb_account_t *a) {
    memcpy(a->pubkey.b, r->pubkey, 32);
    memcpy(a->owner.b, r->owner, 32);
    a->lamports = r->lamports;
    a->rent_epoch = r->rent_epoch;
    a->data_len = r->data_len;
    a->data = r->data;
    a->executable = r->executable;
}

/* The header fields of a record (h: ADB_ACCT_HDR_SZ bytes) into a; data is
 * left to the caller. */
static inline void
adb_acct_hdr_to_account(uint8_t const *h, acctdb_account_t *a) {
    memcpy(a->pubkey.b, h + ADB_ACCT_OFF_PUBKEY, 32);
    memcpy(a->owner.b, h + ADB_ACCT_OFF_OWNER, 32);
    a->lamports = adb_load_u64(h + ADB_ACCT_OFF_LAMPORTS);
    a->rent_epoch = adb_load_u64(h + ADB_ACCT_OFF_RENT_EPOCH);
    a->executable = h[ADB_ACCT_OFF_EXEC] != 0;
    a->data_len = adb_load_u64(h + ADB_ACCT_OFF_DATA_LEN);
}

/* Decodes the record at off in buf[0..len) without sanitizing beyond
 * bounds: returns false if it does not fit. */
static inline bool
adb_acct_rec_at(uint8_t const *buf, uint64_t len, uint64_t off, adb_acct_rec_t *r) {
    if (off > len || len - off < ADB_ACCT_HDR_SZ) return false;
    uint8_t const *h = buf + off;
    uint64_t       dl = adb_load_u64(h + ADB_ACCT_OFF_DATA_LEN);
    if (dl > len - off - ADB_ACCT_HDR_SZ) return false;
    r->off = off;
    r->data_len = dl;
    r->lamports = adb_load_u64(h + ADB_ACCT_OFF_LAMPORTS);
    r->rent_epoch = adb_load_u64(h + ADB_ACCT_OFF_RENT_EPOCH);
    r->pubkey = h + ADB_ACCT_OFF_PUBKEY;
    r->owner = h + ADB_ACCT_OFF_OWNER;
    r->executable = h[ADB_ACCT_OFF_EXEC] != 0;
    r->data = h + ADB_ACCT_HDR_SZ;
    return true;
}

/* ---- sanitizing scan ----------------------------------------------------
 * Walks buf[0..valid_len) as FORMAT.md 2.3 says: stops where a header or
 * its data would pass valid_len, or at a zero-lamport record with an
 * all-zero pubkey (zero-filled tail); rejects executable bytes other than
 * 0/1, zero-lamport records that are not default accounts, data_len over
 * 10 MiB; requires the walk to end at align8(valid_len) (an unaligned final
 * record is fine).  file_sz is the size of the file on disk or in the tar
 * (valid_len <= file_sz <= 16 GiB).
 *
 * Usage:
 *   adb_acctfile_iter_t it;
 *   adb_acctfile_iter_init(&it, buf, valid_len, file_sz);
 *   adb_acct_rec_t r;
 *   while (adb_acctfile_iter_next(&it, &r)) ...;
 *   if (it.err.code) ... it.err.msg names the offset and the rule ... */
typedef struct adb_acctfile_iter {
    uint8_t const *buf;
    uint64_t       len; /* valid length */
    uint64_t       off; /* next record */
    uint64_t       cnt; /* records returned */
    bool           done;
    bool           stop_on_zero; /* stopped at a zero-filled tail */
    adb_err_t      err;
} adb_acctfile_iter_t;

void adb_acctfile_iter_init(adb_acctfile_iter_t *it, void const *buf, uint64_t valid_len,
                            uint64_t file_sz);
bool adb_acctfile_iter_next(adb_acctfile_iter_t *it, adb_acct_rec_t *r);

/* Scans the whole file; returns 0 or ACCTDB_ERR_CORRUPT with err set, and
 * the number of records in *cnt_out. */
int adb_acctfile_check(void const *buf, uint64_t valid_len, uint64_t file_sz, uint64_t *cnt_out,
                       adb_err_t *err);

/* ---- writer --------------------------------------------------------------
 * Writes one record at dst (adb_acct_rec_sz(a->data_len) bytes): zero write
 * version, zero padding and hash, data padded with zeros.  Returns the
 * stored size. */
uint64_t adb_acct_rec_write(uint8_t *dst, acctdb_account_t const *a);

/* A tombstone (zero-lamport "default account") for pubkey. */
uint64_t adb_acct_rec_write_tombstone(uint8_t *dst, acctdb_pubkey_t const *pubkey);

#endif
