/* src/db/db_serve.c - what a read service needs of the engine: the slots
 * each commitment level reads, the confirmed mark, the token indexes'
 * upkeep, and the root hook that feeds a change stream.  (The token scans
 * are db_bank.c's candidate scan with the token predicate.) */
#include "db/db_private.h"

#include "index/owner.h"

#include <stdlib.h>

static uint8_t const k_token_program[32] = {
    0x06, 0xdd, 0xf6, 0xe1, 0xd7, 0x65, 0xa1, 0x93, 0xd9, 0xcb, 0xe1, 0x46, 0xce, 0xeb, 0x79, 0xac,
    0x1c, 0xb4, 0x85, 0xed, 0x5f, 0x5b, 0x37, 0x91, 0x3a, 0x8c, 0xf5, 0x85, 0x7e, 0xff, 0x00, 0xa9};
static uint8_t const k_token_2022_program[32] = {
    0x06, 0xdd, 0xf6, 0xe1, 0xee, 0x75, 0x8f, 0xde, 0x18, 0x42, 0x5d, 0xbc, 0xe4, 0x6c, 0xcd, 0xda,
    0xb6, 0x1a, 0xfc, 0x4d, 0x83, 0xb9, 0x0d, 0x27, 0xfe, 0xbd, 0xf9, 0x28, 0xd8, 0xa1, 0x8b, 0xfc};

bool
adb_eng_is_token_program(uint8_t const owner[32]) {
    return !memcmp(owner, k_token_program, 32) || !memcmp(owner, k_token_2022_program, 32);
}

void
adb_eng_token_note(adb_eng_t *e, uint8_t const owner[32], uint8_t const key[32],
                   uint8_t const *data, uint64_t data_len) {
    if (!e->tokens || data_len < ADB_TOKEN_ACCOUNT_SZ || !adb_eng_is_token_program(owner)) return;
    acctdb_pubkey_t k, mint, tok;
    memcpy(k.b, key, 32);
    memcpy(mint.b, data, 32);
    memcpy(tok.b, data + 32, 32);
    adb_owner_add(e->tokens, &tok, &k);
    adb_owner_add(e->mints, &mint, &k);
}

/* ---- commitment ---------------------------------------------------------------- */

int
adb_eng_slots(adb_db_t *db, acctdb_db_slots_t *out) {
    adb_eng_t *e = db->eng;
    pthread_rwlock_rdlock(&e->blk);
    uint64_t root = e->root, processed = root;
    for (uint32_t i = 0; i < e->banks_cap; i++) {
        adb_bank_t const *b = e->banks[i];
        /* Every live bank descends from the root (root kills the others). */
        if (b && b->state == ADB_BANK_FROZEN && b->slot > processed) processed = b->slot;
    }
    uint64_t confirmed = root;
    if (e->confirmed > root) {
        adb_bank_t const *b = adb_bank_find(e, e->confirmed);
        if (b && (b->state == ADB_BANK_FROZEN || b->state == ADB_BANK_ROOTED))
            confirmed = e->confirmed;
    }
    pthread_rwlock_unlock(&e->blk);
    out->processed = processed;
    out->confirmed = confirmed;
    out->finalized = root;
    return 0;
}

int
adb_eng_confirm(adb_db_t *db, uint64_t slot) {
    adb_eng_t *e = db->eng;
    pthread_rwlock_wrlock(&e->blk);
    int rc = 0;
    if (slot < e->root) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_TOO_OLD, "slot %llu is below the root %llu",
                         (unsigned long long)slot, (unsigned long long)e->root);
    } else if (slot > e->root) {
        adb_bank_t const *b = adb_bank_find(e, slot);
        if (!b || b->state == ADB_BANK_DEAD)
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is %s",
                             (unsigned long long)slot, b ? "on a dead fork" : "unknown");
        else if (b->state == ADB_BANK_OPEN)
            rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "slot %llu is not frozen",
                             (unsigned long long)slot);
    }
    if (!rc) e->confirmed = slot;
    pthread_rwlock_unlock(&e->blk);
    return rc;
}

/* ---- the root hook ----------------------------------------------------------- */

void
adb_eng_set_root_hook(adb_db_t *db, acctdb_root_hook_fn fn, void *ctx) {
    adb_eng_t *e = db->eng;
    pthread_mutex_lock(&e->wmu); /* root calls the hook under wmu */
    e->root_hook = fn;
    e->root_hook_ctx = fn ? ctx : NULL;
    pthread_mutex_unlock(&e->wmu);
}

static int
cmp_acct(void const *a, void const *b) {
    return memcmp(((acctdb_account_t const *)a)->pubkey.b, ((acctdb_account_t const *)b)->pubkey.b,
                  32);
}

void
adb_eng_root_hook_run(adb_eng_t *e, adb_bank_t *const *banks, size_t n) {
    acctdb_account_t *v = NULL;
    size_t            cap = 0;
    for (size_t k = 0; k < n; k++) {
        adb_bank_t const *b = banks[k];
        /* A frozen bank's map no longer changes: its final versions. */
        if (b->cnt > cap) {
            acctdb_account_t *nv = adb_realloc(v, (size_t)b->cnt * sizeof *v);
            if (!nv) {
                /* The stream would skip this slot's changes: a follower
                 * would then fail its lattice check and bootstrap again.
                 * Deliver what is known instead: nothing of this slot. */
                acctdb_slot_changes_t c = {b->slot, b->parent, &b->info, NULL, 0};
                e->root_hook(e->root_hook_ctx, &c);
                continue;
            }
            v = nv;
            cap = b->cnt;
        }
        size_t m = 0;
        for (uint32_t i = 0; i < b->cap && m < b->cnt; i++) {
            adb_cacct_t const *c = b->accts[i];
            if (!c) continue;
            adb_acct_rec_to_account_c(c, &v[m++]);
        }
        if (m > 1) qsort(v, m, sizeof *v, cmp_acct);
        acctdb_slot_changes_t c = {b->slot, b->parent, &b->info, v, m};
        e->root_hook(e->root_hook_ctx, &c);
    }
    adb_free(v);
}
