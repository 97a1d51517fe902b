/* src/db/db_serve.c - what a read service needs of the engine: the slots
 * each commitment level reads, the confirmed mark, the token indexes'
 * upkeep, and the root hook that feeds a change stream.  (The token scans
 * are db_bank.c's candidate scan with the token predicate.) */
#include "db/db_private.h"

#include "db/db_rcache.h"
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

/* ---- owner and token pairs: pruned when versions leave ------------------------ */

void
adb_eng_pairs_of(adb_eng_t const *e, uint8_t const owner[32], uint64_t lamports,
                 uint8_t const *data, uint64_t data_len, adb_pairs_t *out) {
    out->has = 0;
    if (!lamports) return; /* a tombstone is in no index */
    if (e->owners && adb_eng_owner_tracked(e, owner)) {
        out->has |= ADB_PAIR_OWNER;
        memcpy(out->owner.b, owner, 32);
    }
    if (e->tokens && data_len >= ADB_TOKEN_ACCOUNT_SZ && adb_eng_is_token_program(owner)) {
        out->has |= ADB_PAIR_TOKEN;
        memcpy(out->mint.b, data, 32);
        memcpy(out->tok.b, data + 32, 32);
    }
}

bool
adb_eng_pairs_within(adb_pairs_t const *a, adb_pairs_t const *b) {
    if ((a->has & ADB_PAIR_OWNER) &&
        (!(b->has & ADB_PAIR_OWNER) || memcmp(a->owner.b, b->owner.b, 32)))
        return false;
    if ((a->has & ADB_PAIR_TOKEN) &&
        (!(b->has & ADB_PAIR_TOKEN) || memcmp(a->mint.b, b->mint.b, 32) ||
         memcmp(a->tok.b, b->tok.b, 32)))
        return false;
    return true;
}

#define PAIRS_MAX 32 /* versions looked at per key; a key with more keeps its pairs */

typedef struct pairs_set {
    adb_pairs_t p[PAIRS_MAX];
    size_t      n;
    bool        overflow; /* some version was not looked at: delete nothing */
} pairs_set_t;

static void
pairs_push(pairs_set_t *s, adb_pairs_t const *p) {
    if (!p->has) return;
    if (s->n == PAIRS_MAX) {
        s->overflow = true;
        return;
    }
    s->p[s->n++] = *p;
}

static bool
cacct_pairs(adb_eng_t const *e, adb_cacct_t const *c, adb_pairs_t *out) {
    adb_eng_pairs_of(e, c->owner.b, c->lamports, c->data, c->data_len, out);
    return out->has != 0;
}

/* The pairs of the storage version (slot, val): read from its record (smu
 * held: no extent goes away).  false on a read error. */
static bool
stored_pairs(adb_db_t *db, uint64_t slot, uint64_t val, adb_pairs_t *out) {
    uint8_t          small[256];
    acctdb_account_t a;
    int              rc = adb_rcache_read(db, slot, val, &a, small, sizeof small);
    if (rc == ACCTDB_ERR_FULL) {
        /* Only a token account's first 64 bytes matter, but the read
         * copies all or nothing. */
        uint8_t *big = adb_malloc((size_t)a.data_len);
        rc = big ? adb_rcache_read(db, slot, val, &a, big, (size_t)a.data_len) : ACCTDB_ERR_NOMEM;
        if (!rc) adb_eng_pairs_of(db->eng, a.owner.b, a.lamports, a.data, a.data_len, out);
        adb_free(big);
        return rc == 0;
    }
    if (rc) return false;
    adb_eng_pairs_of(db->eng, a.owner.b, a.lamports, a.data, a.data_len, out);
    return true;
}

/* The key's versions now in the index (inside an epoch: cache versions
 * are read through their pointers). */
static size_t
key_versions(adb_db_t *db, uint8_t const key[32], adb_index_ver_t *v, bool *overflow) {
    size_t n = adb_index_vget(db->ix, key, v, PAIRS_MAX);
    if (n > PAIRS_MAX) {
        *overflow = true;
        n = PAIRS_MAX;
    }
    return n;
}

/* Deletes the pairs of key in leave that no version in keep holds; the
 * deleted ones go to *gone (for pairs_recheck). */
static void
pairs_prune(adb_eng_t *e, uint8_t const key[32], pairs_set_t const *leave, pairs_set_t const *keep,
            pairs_set_t *gone) {
    gone->n = 0;
    gone->overflow = false;
    if (keep->overflow) return;
    acctdb_pubkey_t k;
    memcpy(k.b, key, 32);
    for (size_t i = 0; i < leave->n; i++) {
        adb_pairs_t const *l = &leave->p[i];
        bool own = (l->has & ADB_PAIR_OWNER) != 0, mint = (l->has & ADB_PAIR_TOKEN) != 0,
             tok = mint;
        for (size_t j = 0; j < keep->n && (own || mint || tok); j++) {
            adb_pairs_t const *x = &keep->p[j];
            if (own && (x->has & ADB_PAIR_OWNER) && !memcmp(x->owner.b, l->owner.b, 32))
                own = false;
            if (mint && (x->has & ADB_PAIR_TOKEN) && !memcmp(x->mint.b, l->mint.b, 32))
                mint = false;
            if (tok && (x->has & ADB_PAIR_TOKEN) && !memcmp(x->tok.b, l->tok.b, 32)) tok = false;
        }
        if (own) adb_owner_del(e->owners, &l->owner, &k);
        if (mint) adb_owner_del(e->mints, &l->mint, &k);
        if (tok) adb_owner_del(e->tokens, &l->tok, &k);
        adb_pairs_t d = {
            .has = (uint8_t)((own ? ADB_PAIR_OWNER : 0) | (mint || tok ? ADB_PAIR_TOKEN : 0)),
            .owner = l->owner,
            .mint = l->mint,
            .tok = l->tok};
        pairs_push(gone, &d);
    }
}

/* A store runs beside flush and purge: its new version enters the index
 * first, then its pairs are added.  A version that entered after the
 * versions were looked at may hold a pair just deleted: look again, and
 * put back what one holds (adding is idempotent).  After this, a pair is
 * missing only if no version in the index holds it. */
static void
pairs_recheck(adb_db_t *db, uint8_t const key[32], pairs_set_t const *gone) {
    if (!gone->n) return;
    adb_eng_t      *e = db->eng;
    adb_index_ver_t v[PAIRS_MAX];
    bool            over = false;
    acctdb_pubkey_t k;
    memcpy(k.b, key, 32);
    adb_epoch_enter();
    size_t n = key_versions(db, key, v, &over);
    for (size_t i = 0; i < n; i++) {
        adb_pairs_t y;
        if (!adb_val_is_cache(v[i].val) || !cacct_pairs(e, adb_val_cacct(v[i].val), &y)) continue;
        for (size_t j = 0; j < gone->n; j++) {
            adb_pairs_t const *d = &gone->p[j];
            if ((d->has & y.has & ADB_PAIR_OWNER) && !memcmp(d->owner.b, y.owner.b, 32))
                adb_owner_add(e->owners, &d->owner, &k);
            if ((d->has & y.has & ADB_PAIR_TOKEN) && !memcmp(d->mint.b, y.mint.b, 32))
                adb_owner_add(e->mints, &d->mint, &k);
            if ((d->has & y.has & ADB_PAIR_TOKEN) && !memcmp(d->tok.b, y.tok.b, 32))
                adb_owner_add(e->tokens, &d->tok, &k);
        }
    }
    adb_epoch_exit();
}

/* Whether every pair in leave is held by some version in keep. */
static bool
pairs_covered(pairs_set_t const *leave, pairs_set_t const *keep) {
    for (size_t i = 0; i < leave->n; i++) {
        adb_pairs_t const *l = &leave->p[i];
        adb_pairs_t        o = {.has = l->has & ADB_PAIR_OWNER, .owner = l->owner};
        adb_pairs_t        t = {.has = l->has & ADB_PAIR_TOKEN, .mint = l->mint, .tok = l->tok};
        bool               own = !o.has, tok_m = !t.has, tok_t = !t.has;
        for (size_t j = 0; j < keep->n; j++) {
            adb_pairs_t const *x = &keep->p[j];
            if (!own && adb_eng_pairs_within(&o, x)) own = true;
            if (t.has && (x->has & ADB_PAIR_TOKEN)) {
                tok_m = tok_m || !memcmp(x->mint.b, l->mint.b, 32);
                tok_t = tok_t || !memcmp(x->tok.b, l->tok.b, 32);
            }
        }
        if (!own || !tok_m || !tok_t) return false;
    }
    return true;
}

void
adb_eng_pairs_flushed(adb_db_t *db, adb_cacct_t const *w, adb_cacct_t const *x) {
    adb_eng_t *e = db->eng;
    if (!e->owners && !e->tokens) return;
    /* The common case leaves nothing behind: x and its predecessor held
     * only pairs the written version holds. */
    adb_pairs_t pw, px;
    adb_eng_pairs_of(e, w->owner.b, w->lamports, w->data, w->data_len, &pw);
    bool x_goes = x != w && cacct_pairs(e, x, &px) && !adb_eng_pairs_within(&px, &pw);
    if ((!x_goes && !x->prev_moved) || adb_epoch_register()) return;
    /* on the stack: thread-local storage would cost every thread */
    pairs_set_t leave, keep, gone;
    leave.n = keep.n = 0;
    leave.overflow = keep.overflow = false;
    pairs_push(&keep, &pw);
    if (x_goes) pairs_push(&leave, &px);
    adb_index_ver_t v[PAIRS_MAX];
    adb_epoch_enter();
    size_t n = key_versions(db, w->pubkey.b, v, &keep.overflow);
    for (size_t i = 0; i < n; i++) {
        if (adb_val_is_cache(v[i].val)) {
            /* a live (or not yet purged) fork's version */
            if (cacct_pairs(e, adb_val_cacct(v[i].val), &px)) pairs_push(&keep, &px);
        } else if (x->prev_moved && v[i].slot == x->prev_slot && adb_val_is_dead(v[i].val)) {
            /* x's predecessor, a storage version flush just marked DEAD (a
             * predecessor in the cache is one of the group: its own call) */
            if (stored_pairs(db, v[i].slot, v[i].val & ~ADB_VAL_DEAD, &px)) pairs_push(&leave, &px);
        }
    }
    adb_epoch_exit();
    pairs_prune(e, w->pubkey.b, &leave, &keep, &gone);
    pairs_recheck(db, w->pubkey.b, &gone);
}

void
adb_eng_pairs_dropped(adb_db_t *db, adb_cacct_t const *c) {
    adb_eng_t *e = db->eng;
    if (!e->owners && !e->tokens) return;
    /* on the stack: thread-local storage would cost every thread */
    pairs_set_t leave, keep, gone;
    leave.n = keep.n = 0;
    leave.overflow = keep.overflow = false;
    adb_pairs_t x;
    if (!cacct_pairs(e, c, &x) || adb_epoch_register()) return;
    pairs_push(&leave, &x);
    adb_index_ver_t v[PAIRS_MAX];
    adb_epoch_enter();
    size_t n = key_versions(db, c->pubkey.b, v, &keep.overflow);
    size_t st = SIZE_MAX; /* the newest live storage version */
    for (size_t i = 0; i < n; i++) {
        adb_pairs_t y;
        if (adb_val_is_cache(v[i].val)) {
            if (cacct_pairs(e, adb_val_cacct(v[i].val), &y)) pairs_push(&keep, &y);
        } else if (!adb_val_is_dead(v[i].val) && st == SIZE_MAX) {
            st = i;
        }
    }
    /* The storage version is read only if the cache versions left do not
     * already hold every pair. */
    if (st != SIZE_MAX && !pairs_covered(&leave, &keep)) {
        adb_pairs_t y;
        if (stored_pairs(db, v[st].slot, v[st].val, &y))
            pairs_push(&keep, &y);
        else
            keep.overflow = true; /* unknown: keep the pairs */
    }
    adb_epoch_exit();
    pairs_prune(e, c->pubkey.b, &leave, &keep, &gone);
    pairs_recheck(db, c->pubkey.b, &gone);
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
