/* src/store/acctfile.c - account file scan and record writer. */
#include "store/acctfile.h"

void
adb_acctfile_iter_init(adb_acctfile_iter_t *it, void const *buf, uint64_t valid_len,
                       uint64_t file_sz) {
    memset(it, 0, sizeof *it);
    it->buf = buf;
    it->len = valid_len;
    if (file_sz == 0) {
        adb_err_set(&it->err, ACCTDB_ERR_CORRUPT, "account file is empty");
        it->done = true;
    } else if (file_sz > ADB_ACCTFILE_MAX_SZ) {
        adb_err_set(&it->err, ACCTDB_ERR_CORRUPT, "account file size %llu exceeds 16 GiB",
                    (unsigned long long)file_sz);
        it->done = true;
    } else if (valid_len > file_sz) {
        adb_err_set(&it->err, ACCTDB_ERR_CORRUPT, "valid length %llu exceeds the file size %llu",
                    (unsigned long long)valid_len, (unsigned long long)file_sz);
        it->done = true;
    }
}

static bool
finish(adb_acctfile_iter_t *it) {
    it->done = true;
    uint64_t want = (it->len + 7) & ~7ull;
    uint64_t end = it->off;
    if (end != want) {
        /* The walk stopped short of the valid length: a record overruns it
         * or garbage follows.  A zero-filled tail (the newer-Agave stop rule)
         * is accepted. */
        if (it->stop_on_zero) return false;
        adb_err_set(&it->err, ACCTDB_ERR_CORRUPT,
                    "offset %llu: records end at %llu but the valid length is %llu",
                    (unsigned long long)it->off, (unsigned long long)end,
                    (unsigned long long)it->len);
    }
    return false;
}

bool
adb_acctfile_iter_next(adb_acctfile_iter_t *it, adb_acct_rec_t *r) {
    if (it->done) return false;
    uint64_t off = it->off;
    if (off >= it->len || it->len - off < ADB_ACCT_HDR_SZ) return finish(it);
    uint8_t const       *h = it->buf + off;
    uint64_t             dl = adb_load_u64(h + ADB_ACCT_OFF_DATA_LEN);
    uint64_t             lamports = adb_load_u64(h + ADB_ACCT_OFF_LAMPORTS);
    static uint8_t const zero[32];
    if (lamports == 0 && !memcmp(h + ADB_ACCT_OFF_PUBKEY, zero, 32)) {
        /* Past the last useful account: zero-filled space. */
        it->stop_on_zero = true;
        return finish(it);
    }
    if (dl > it->len - off - ADB_ACCT_HDR_SZ) return finish(it);
    if (dl > ADB_ACCT_MAX_DATA_SZ) {
        adb_err_set(&it->err, ACCTDB_ERR_CORRUPT,
                    "offset %llu: data_len %llu exceeds the 10 MiB account limit",
                    (unsigned long long)off, (unsigned long long)dl);
        it->done = true;
        return false;
    }
    uint8_t exec = h[ADB_ACCT_OFF_EXEC];
    if (exec & 0xFE) {
        adb_err_set(&it->err, ACCTDB_ERR_CORRUPT, "offset %llu: executable byte is 0x%02x",
                    (unsigned long long)off, exec);
        it->done = true;
        return false;
    }
    if (lamports == 0 && (dl != 0 || exec != 0 || adb_load_u64(h + ADB_ACCT_OFF_RENT_EPOCH) != 0 ||
                          memcmp(h + ADB_ACCT_OFF_OWNER, zero, 32))) {
        adb_err_set(&it->err, ACCTDB_ERR_CORRUPT,
                    "offset %llu: zero-lamport record is not a default account "
                    "(data_len %llu, owner or rent_epoch set)",
                    (unsigned long long)off, (unsigned long long)dl);
        it->done = true;
        return false;
    }
    r->off = off;
    r->data_len = dl;
    r->lamports = lamports;
    r->rent_epoch = adb_load_u64(h + ADB_ACCT_OFF_RENT_EPOCH);
    r->pubkey = h + ADB_ACCT_OFF_PUBKEY;
    r->owner = h + ADB_ACCT_OFF_OWNER;
    r->executable = exec != 0;
    r->data = h + ADB_ACCT_HDR_SZ;
    it->off = off + adb_acct_rec_sz(dl);
    it->cnt++;
    return true;
}

int
adb_acctfile_check(void const *buf, uint64_t valid_len, uint64_t file_sz, uint64_t *cnt_out,
                   adb_err_t *err) {
    adb_acctfile_iter_t it;
    adb_acct_rec_t      r;
    *cnt_out = 0;
    adb_acctfile_iter_init(&it, buf, valid_len, file_sz);
    while (adb_acctfile_iter_next(&it, &r)) {
    }
    *cnt_out = it.cnt;
    if (it.err.code) return adb_err_set(err, it.err.code, "%s", it.err.msg);
    return 0;
}

uint64_t
adb_acct_rec_write(uint8_t *dst, acctdb_account_t const *a) {
    uint64_t sz = adb_acct_rec_sz(a->data_len);
    memset(dst, 0, ADB_ACCT_HDR_SZ);
    adb_store_u64(dst + ADB_ACCT_OFF_DATA_LEN, a->data_len);
    memcpy(dst + ADB_ACCT_OFF_PUBKEY, a->pubkey.b, 32);
    adb_store_u64(dst + ADB_ACCT_OFF_LAMPORTS, a->lamports);
    adb_store_u64(dst + ADB_ACCT_OFF_RENT_EPOCH, a->rent_epoch);
    memcpy(dst + ADB_ACCT_OFF_OWNER, a->owner.b, 32);
    dst[ADB_ACCT_OFF_EXEC] = a->executable ? 1 : 0;
    if (a->data_len) memcpy(dst + ADB_ACCT_HDR_SZ, a->data, (size_t)a->data_len);
    memset(dst + ADB_ACCT_HDR_SZ + a->data_len, 0, sz - ADB_ACCT_HDR_SZ - a->data_len);
    return sz;
}

uint64_t
adb_acct_rec_write_tombstone(uint8_t *dst, acctdb_pubkey_t const *pubkey) {
    acctdb_account_t a = {0};
    a.pubkey = *pubkey;
    return adb_acct_rec_write(dst, &a);
}
