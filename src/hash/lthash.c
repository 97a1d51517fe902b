/* src/hash/lthash.c - the account lattice hash: message layout, lane-wise
 * arithmetic, batching into the BLAKE3 kernel, and the public acctdb_lthash_*
 * functions.  The heavy lifting is adb_blake3_xof2048_sum (blake3.c), which
 * hashes one account per SIMD lane. */
#include "hash/lthash.h"

/* Accounts handed to the kernel per call: bounds the message array on the
 * stack (about 13 KiB) while amortizing the kernel's final fold. */
#define LT_BATCH_MAX 128

static uint8_t const k_exec_byte[2] = {0, 1};

void
adb_lthash_zero(acctdb_lthash_t *h) {
    memset(h->v, 0, sizeof h->v);
}

void
adb_lthash_add(acctdb_lthash_t *a, acctdb_lthash_t const *b) {
    for (size_t i = 0; i < ADB_LTHASH_LANE_CNT; i++)
        a->v[i] = (uint16_t)(a->v[i] + b->v[i]);
}

void
adb_lthash_sub(acctdb_lthash_t *a, acctdb_lthash_t const *b) {
    for (size_t i = 0; i < ADB_LTHASH_LANE_CNT; i++)
        a->v[i] = (uint16_t)(a->v[i] - b->v[i]);
}

bool
adb_lthash_is_zero(acctdb_lthash_t const *h) {
    uint16_t any = 0;
    for (size_t i = 0; i < ADB_LTHASH_LANE_CNT; i++)
        any |= h->v[i];
    return any == 0;
}

bool
adb_lthash_eq(acctdb_lthash_t const *a, acctdb_lthash_t const *b) {
    return memcmp(a->v, b->v, sizeof a->v) == 0;
}

void
adb_lthash_checksum(acctdb_lthash_t const *h, uint8_t out[32]) {
    /* The lanes are little-endian in memory already (util.h asserts it). */
    adb_blake3_hash(h->v, sizeof h->v, out, 32);
}

void
adb_lthash_msg(adb_blake3_msg_t *m, acctdb_account_t const *a, acctdb_lthash_formula_t f) {
    size_t k = 0;
    m->part[k++] = (adb_blake3_part_t){&a->lamports, 8};
    if (f == ACCTDB_LTHASH_LEGACY) m->part[k++] = (adb_blake3_part_t){&a->rent_epoch, 8};
    m->part[k++] = (adb_blake3_part_t){a->data, (size_t)a->data_len};
    m->part[k++] = (adb_blake3_part_t){&k_exec_byte[a->executable ? 1 : 0], 1};
    m->part[k++] = (adb_blake3_part_t){a->owner.b, 32};
    m->part[k++] = (adb_blake3_part_t){a->pubkey.b, 32};
    m->part_cnt = k;
}

void
adb_lthash_account(acctdb_lthash_t *out, acctdb_account_t const *a, acctdb_lthash_formula_t f) {
    if (a->lamports == 0) {
        adb_lthash_zero(out);
        return;
    }
    adb_blake3_msg_t m;
    adb_blake3_t     h;
    adb_lthash_msg(&m, a, f);
    adb_blake3_init(&h);
    for (size_t i = 0; i < m.part_cnt; i++)
        adb_blake3_update(&h, m.part[i].p, m.part[i].sz);
    adb_blake3_finalize(&h, out->v, sizeof out->v);
}

/* sum += hashes of the accounts a[i] (arr != NULL) or *ptrs[i]. */
static void
add_many(uint16_t sum[1024], acctdb_account_t const *arr, acctdb_account_t const *const *ptrs,
         size_t n, acctdb_lthash_formula_t f) {
    adb_blake3_msg_t msgs[LT_BATCH_MAX];
    size_t           k = 0;
    for (size_t i = 0; i < n; i++) {
        acctdb_account_t const *a = arr ? &arr[i] : ptrs[i];
        if (a->lamports == 0) continue;
        adb_lthash_msg(&msgs[k++], a, f);
        if (k == LT_BATCH_MAX) {
            adb_blake3_xof2048_sum(msgs, k, sum);
            k = 0;
        }
    }
    adb_blake3_xof2048_sum(msgs, k, sum);
}

void
adb_lthash_add_accounts(acctdb_lthash_t *sum, acctdb_account_t const *a, size_t n,
                        acctdb_lthash_formula_t f) {
    add_many(sum->v, a, NULL, n, f);
}

void
adb_lthash_sub_accounts(acctdb_lthash_t *sum, acctdb_account_t const *a, size_t n,
                        acctdb_lthash_formula_t f) {
    acctdb_lthash_t t;
    adb_lthash_zero(&t);
    add_many(t.v, a, NULL, n, f);
    adb_lthash_sub(sum, &t);
}

void
adb_lthash_add_account_ptrs(acctdb_lthash_t *sum, acctdb_account_t const *const *a, size_t n,
                            acctdb_lthash_formula_t f) {
    add_many(sum->v, NULL, a, n, f);
}

/* ---- public API ---------------------------------------------------------- */

void
acctdb_lthash_zero(acctdb_lthash_t *h) {
    adb_lthash_zero(h);
}

void
acctdb_lthash_add(acctdb_lthash_t *a, acctdb_lthash_t const *b) {
    adb_lthash_add(a, b);
}

void
acctdb_lthash_sub(acctdb_lthash_t *a, acctdb_lthash_t const *b) {
    adb_lthash_sub(a, b);
}

bool
acctdb_lthash_is_zero(acctdb_lthash_t const *h) {
    return adb_lthash_is_zero(h);
}

void
acctdb_lthash_account(acctdb_lthash_t *out, acctdb_account_t const *a,
                      acctdb_lthash_formula_t formula) {
    adb_lthash_account(out, a, formula);
}

void
acctdb_lthash_add_accounts(acctdb_lthash_t *sum, acctdb_account_t const *a, size_t n,
                           acctdb_lthash_formula_t formula) {
    adb_lthash_add_accounts(sum, a, n, formula);
}

void
acctdb_lthash_checksum(acctdb_lthash_t const *h, uint8_t out[32]) {
    adb_lthash_checksum(h, out);
}
