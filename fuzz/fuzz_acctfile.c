/* fuzz/fuzz_acctfile.c - the account-file scanner (src/store/acctfile.h)
 * on arbitrary bytes, against a small independent model of FORMAT.md 2.3,
 * and the record writer on everything the scanner returns.  Checked:
 *   - every record lies inside the valid length, starts 8-aligned right
 *     where the previous one's stored size ends, has data_len <= 10 MiB, an
 *     executable byte of 0 or 1, and a zero-lamport record is a default
 *     account; its pointers point at its header fields;
 *   - the scanner and the model agree on the record count and on whether
 *     the file is accepted; a rejection has a message and ends iteration;
 *   - adb_acctfile_check agrees with the iterator;
 *   - adb_acct_rec_write re-encodes each record to its stored size with the
 *     same header fields and data, zeros in write_version, padding, hash
 *     and the data's tail, and adb_acct_rec_at reads it back unchanged.
 *
 * Input: 8 bytes (little-endian) choosing the valid length, reduced modulo
 * the file size + 1, then the file.  The file is copied to an exact-size
 * buffer so reads past it are caught. */
#include "store/acctfile.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

static bool
all_zero(uint8_t const *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* FORMAT.md 2.3 as a loop: the record count, and whether it is accepted. */
static bool
model(uint8_t const *f, uint64_t len, uint64_t file_sz, uint64_t *cnt_out) {
    *cnt_out = 0;
    if (file_sz == 0 || file_sz > ADB_ACCTFILE_MAX_SZ || len > file_sz) return false;
    uint64_t off = 0, cnt = 0;
    bool     zero_tail = false;
    while (off < len && len - off >= 136) {
        uint8_t const *h = f + off;
        uint64_t       dl = adb_load_u64(h + 8), lamports = adb_load_u64(h + 48);
        if (lamports == 0 && all_zero(h + 16, 32)) {
            zero_tail = true;
            break;
        }
        if (dl > len - off - 136) break;
        if (dl > (10u << 20)) return false;
        if (h[96] > 1) return false;
        if (lamports == 0 && (dl || h[96] || adb_load_u64(h + 56) || !all_zero(h + 64, 32)))
            return false;
        cnt++;
        off += (136 + dl + 7) / 8 * 8;
    }
    *cnt_out = cnt;
    return zero_tail || off == (len + 7) / 8 * 8;
}

static void
check_rewrite(adb_acct_rec_t const *r, uint8_t const *src) {
    acctdb_account_t a;
    adb_acct_rec_to_account(r, &a);
    uint64_t rs = adb_acct_rec_sz(r->data_len);
    uint8_t *dst = malloc((size_t)rs);
    if (!dst) abort();
    memset(dst, 0xEE, (size_t)rs);
    if (adb_acct_rec_write(dst, &a) != rs) abort();
    /* Header fields as in the source; the rest zero. */
    if (!all_zero(dst, 8)) abort();
    if (memcmp(dst + 8, src + 8, 8 + 32 + 8 + 8 + 32)) abort(); /* data_len..owner */
    if (dst[0x60] != src[0x60]) abort();
    if (!all_zero(dst + 0x61, 7 + 32)) abort();
    if (r->data_len && memcmp(dst + 136, r->data, (size_t)r->data_len)) abort();
    if (!all_zero(dst + 136 + r->data_len, (size_t)(rs - 136 - r->data_len))) abort();
    adb_acct_rec_t back;
    if (!adb_acct_rec_at(dst, rs, 0, &back)) abort();
    if (back.off != 0 || back.data_len != r->data_len || back.lamports != r->lamports ||
        back.rent_epoch != r->rent_epoch || back.executable != r->executable ||
        memcmp(back.pubkey, r->pubkey, 32) || memcmp(back.owner, r->owner, 32) ||
        back.data != dst + 136)
        abort();
    free(dst);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz < 8) return 0;
    uint64_t file_sz = sz - 8;
    uint64_t len = adb_load_u64(data) % (file_sz + 1);
    uint8_t *f = malloc(file_sz ? (size_t)file_sz : 1);
    if (!f) abort();
    memcpy(f, data + 8, (size_t)file_sz);

    adb_acctfile_iter_t it;
    adb_acct_rec_t      r;
    uint64_t            next = 0, cnt = 0;
    adb_acctfile_iter_init(&it, f, len, file_sz);
    while (adb_acctfile_iter_next(&it, &r)) {
        if (r.off != next || r.off % 8) abort();
        if (r.off > len || len - r.off < ADB_ACCT_HDR_SZ) abort();
        if (r.data_len > ADB_ACCT_MAX_DATA_SZ || r.data_len > len - r.off - ADB_ACCT_HDR_SZ)
            abort();
        uint8_t const *h = f + r.off;
        if (h[ADB_ACCT_OFF_EXEC] > 1 || r.executable != (h[ADB_ACCT_OFF_EXEC] == 1)) abort();
        if (r.pubkey != h + ADB_ACCT_OFF_PUBKEY || r.owner != h + ADB_ACCT_OFF_OWNER ||
            r.data != h + ADB_ACCT_HDR_SZ)
            abort();
        if (r.data_len != adb_load_u64(h + ADB_ACCT_OFF_DATA_LEN) ||
            r.lamports != adb_load_u64(h + ADB_ACCT_OFF_LAMPORTS) ||
            r.rent_epoch != adb_load_u64(h + ADB_ACCT_OFF_RENT_EPOCH))
            abort();
        if (r.lamports == 0 &&
            (r.data_len || r.executable || r.rent_epoch || !all_zero(r.owner, 32)))
            abort();
        check_rewrite(&r, h);
        next = r.off + adb_acct_rec_sz(r.data_len);
        cnt++;
        if (cnt != it.cnt) abort();
    }
    /* Done means done; an error has a message. */
    if (adb_acctfile_iter_next(&it, &r)) abort();
    if (it.err.code && (it.err.code != ACCTDB_ERR_CORRUPT || !it.err.msg[0])) abort();

    uint64_t mcnt;
    bool     ok = model(f, len, file_sz, &mcnt);
    if (ok != (it.err.code == 0)) abort();
    if (ok && mcnt != cnt) abort();

    uint64_t  ccnt;
    adb_err_t e = {0};
    int       rc = adb_acctfile_check(f, len, file_sz, &ccnt, &e);
    if (rc != it.err.code || ccnt != cnt) abort();
    free(f);
    return 0;
}
