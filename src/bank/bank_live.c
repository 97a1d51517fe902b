/* src/bank/bank_live.c - banks of a live database (see bank.h): begin
 * (state advance, sysvars), freeze (fee, RecentBlockhashes, bank hash with
 * hard forks), the blockhash queue, and the bank fields of a snapshot.
 *
 * Order of a bank's life, as Agave's (Bank::new_from_parent, register_tick,
 * freeze):
 *
 *   begin   state: stake history / stakes epoch at a new epoch, epoch stakes
 *                  for a new leader schedule epoch
 *           sysvars: SlotHashes += (parent, parent hash); StakeHistory (new
 *                  epoch); Clock; SlotHistory += slot
 *   ...     the caller's stores
 *   freeze  fee from the parent's; RecentBlockhashes with this blockhash;
 *           lattice hash, bank hash (engine) */
#include "bank/bank.h"

#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sources over the engine ------------------------------------------------ */

static int
src_get(void *ctx, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t **buf, size_t *cap) {
    adb_bank_eng_src_t *c = ctx;
    if (c->durable) {
        adb_db_acct_t a;
        int           rc = adb_eng_snap_get(c->db, key->b, &a, buf, cap);
        if (!rc) *out = a.a;
        return rc;
    }
    for (;;) {
        int rc = adb_eng_load(c->db, c->slot, key->b, out, *buf, *cap, NULL);
        if (rc != ACCTDB_ERR_FULL) return rc;
        size_t   ncap = (size_t)out->data_len;
        uint8_t *nb = adb_realloc(*buf, ncap ? ncap : 1);
        if (!nb) return ACCTDB_ERR_NOMEM;
        *buf = nb;
        *cap = ncap;
    }
}

typedef struct scan_tramp {
    int (*fn)(void *fctx, acctdb_account_t const *a);
    void *fctx;
} scan_tramp_t;

static int
scan_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    scan_tramp_t *t = ctx;
    return t->fn(t->fctx, a);
}

static int
src_each(void *ctx, acctdb_pubkey_t const *owner, int (*fn)(void *, acctdb_account_t const *),
         void *fctx) {
    adb_bank_eng_src_t *c = ctx;
    if (c->durable) return adb_eng_snap_each_owned(c->db, owner, fn, fctx);
    acctdb_scan_filter_t f = {.owner = *owner};
    scan_tramp_t         t = {fn, fctx};
    return adb_eng_scan(c->db, c->slot, &f, NULL, 0, scan_cb, &t, NULL, NULL);
}

adb_bank_src_t
adb_bank_engine_src(adb_bank_eng_src_t *c) {
    return (adb_bank_src_t){src_get, src_each, c};
}

/* ---- the bank state of a bank ----------------------------------------------------- */

static int
state_of(adb_eng_ext_t *x, adb_bank_origin_t const *o, adb_bank_state_t *st) {
    size_t      sz;
    void const *p = adb_eng_ext_data(x, &sz);
    if (!sz) return adb_bank_state_from_origin(o->b, o->x, st);
    adb_err_t e = {0};
    int       rc = adb_bank_state_decode(p, sz, st, &e);
    if (rc) adb_err_set(adb_eng_err(), rc, "the bank state: %s", e.msg);
    return rc;
}

/* ---- sysvars ---------------------------------------------------------------------- */

/* The Rent a bank pays sysvars with: the Rent sysvar (Agave >= 4.0 reads
 * it), else the origin's rent collector. */
static adb_rent_t
rent_of(adb_bank_src_t const *src, adb_bank_origin_t const *o, uint8_t **buf, size_t *cap) {
    acctdb_account_t a;
    adb_rent_t       r;
    if (!src->get(src->ctx, adb_sysvar_id(ADB_SYSVAR_RENT), &a, buf, cap) &&
        !adb_sysvar_rent_decode(a.data, (size_t)a.data_len, &r, NULL))
        return r;
    return o->b->rent_collector.rent;
}

adb_rent_t
adb_bank_rent(struct adb_db *db, adb_bank_origin_t const *o, uint64_t slot) {
    adb_bank_eng_src_t es = {db, slot, false};
    adb_bank_src_t     src = adb_bank_engine_src(&es);
    uint8_t           *buf = NULL;
    size_t             cap = 0;
    adb_rent_t         r = rent_of(&src, o, &buf, &cap);
    adb_free(buf);
    return r;
}

/* Agave update_sysvar_account: the old lamports and rent_epoch (new: 1 and
 * 0), lamports raised to the rent-exempt minimum (at least 1). */
static void
sysvar_account(acctdb_account_t *out, adb_sysvar_t which, acctdb_account_t const *old,
               adb_rent_t const *rent, uint8_t const *data, size_t sz) {
    memset(out, 0, sizeof *out);
    out->pubkey = *adb_sysvar_id(which);
    out->owner = *adb_sysvar_id(ADB_SYSVAR_OWNER);
    out->lamports = old ? old->lamports : 1;
    out->rent_epoch = old ? old->rent_epoch : 0;
    uint64_t min = adb_rent_minimum_balance(rent, sz);
    if (min < 1) min = 1;
    if (out->lamports < min) out->lamports = min;
    out->data = data;
    out->data_len = sz;
}

typedef struct sysvar_bufs {
    uint8_t           slot_hashes[ADB_SYSVAR_SLOT_HASHES_SZ];
    uint8_t           stake_history[ADB_SYSVAR_STAKE_HISTORY_SZ];
    uint8_t           slot_history[ADB_SYSVAR_SLOT_HISTORY_SZ];
    uint8_t           clock[ADB_SYSVAR_CLOCK_SZ];
    uint8_t           recent[ADB_SYSVAR_RECENT_BH_SZ];
    adb_slot_hashes_t sh;
} sysvar_bufs_t;

static int
bad_sysvar(adb_sysvar_t which, uint64_t slot, char const *why) {
    return adb_err_set(adb_eng_err(), ACCTDB_ERR_CORRUPT, "the %s sysvar at slot %llu: %s",
                       adb_sysvar_name(which), (unsigned long long)slot, why);
}

int
adb_bank_begin(adb_db_t *db, adb_bank_origin_t const *o, uint64_t slot, uint64_t parent,
               int64_t unix_timestamp) {
    adb_epoch_schedule_t const *es = &o->b->epoch_schedule;
    acctdb_bank_info_t          pinfo;
    ADB_TRY(adb_eng_bank_info(db, parent, &pinfo));
    adb_bank_eng_src_t ps = {db, parent, false};
    adb_bank_src_t     src = adb_bank_engine_src(&ps);

    sysvar_bufs_t   *sb = adb_malloc(sizeof *sb);
    uint8_t         *buf = NULL, *state_buf = NULL;
    size_t           cap = 0, state_sz = 0;
    adb_eng_ext_t   *px = NULL;
    adb_bank_state_t st;
    adb_bank_state_init(&st);
    int rc = sb ? 0 : adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
    if (!rc) rc = adb_eng_ext_get(db, parent, &px);
    if (!rc) rc = state_of(px, o, &st);
    bool changed = false, new_epoch = false;
    if (!rc) {
        uint64_t nre = adb_bank_new_rate_epoch(&src, es);
        rc = adb_bank_state_advance(&st, &src, es, slot, nre, &changed, &new_epoch);
        if (rc && !adb_eng_err()->code)
            adb_err_set(adb_eng_err(), rc, "advancing the bank state at slot %llu: %s",
                        (unsigned long long)slot, acctdb_strerror(rc));
    }
    if (!rc && changed) rc = adb_bank_state_encode(&st, &state_buf, &state_sz);

    acctdb_account_t a[4], old;
    size_t           n = 0;
    adb_rent_t       rent = {0};
    if (!rc) rent = rent_of(&src, o, &buf, &cap);
    /* SlotHashes += (parent, parent's bank hash). */
    if (!rc) {
        int r = src.get(src.ctx, adb_sysvar_id(ADB_SYSVAR_SLOT_HASHES), &old, &buf, &cap);
        sb->sh.cnt = 0;
        if (!r && adb_sysvar_slot_hashes_decode(old.data, (size_t)old.data_len, &sb->sh, NULL))
            rc = bad_sysvar(ADB_SYSVAR_SLOT_HASHES, parent, "malformed");
        if (!rc) {
            adb_slot_hashes_add(&sb->sh, parent, &pinfo.bank_hash);
            adb_sysvar_slot_hashes_encode(&sb->sh, sb->slot_hashes);
            sysvar_account(&a[n++], ADB_SYSVAR_SLOT_HASHES, r ? NULL : &old, &rent, sb->slot_hashes,
                           sizeof sb->slot_hashes);
        }
    }
    /* StakeHistory, at a new epoch. */
    if (!rc && new_epoch) {
        int r = src.get(src.ctx, adb_sysvar_id(ADB_SYSVAR_STAKE_HISTORY), &old, &buf, &cap);
        adb_sysvar_stake_history_encode(st.hist, (size_t)st.hist_cnt, sb->stake_history);
        sysvar_account(&a[n++], ADB_SYSVAR_STAKE_HISTORY, r ? NULL : &old, &rent, sb->stake_history,
                       sizeof sb->stake_history);
    }
    /* Clock. */
    if (!rc) {
        adb_clock_t c = {0}, pc = {0};
        int         r = src.get(src.ctx, adb_sysvar_id(ADB_SYSVAR_CLOCK), &old, &buf, &cap);
        bool     have = !r && !adb_sysvar_clock_decode(old.data, (size_t)old.data_len, &pc, NULL);
        uint64_t epoch = adb_epoch_of(es, slot), pepoch = adb_epoch_of(es, parent);
        c.slot = slot;
        c.epoch = epoch;
        c.leader_schedule_epoch = adb_epoch_leader_schedule(es, slot);
        c.unix_timestamp =
            have && pc.unix_timestamp > unix_timestamp ? pc.unix_timestamp : unix_timestamp;
        c.epoch_start_timestamp =
            have && pepoch == epoch ? pc.epoch_start_timestamp : c.unix_timestamp;
        adb_sysvar_clock_encode(&c, sb->clock);
        sysvar_account(&a[n++], ADB_SYSVAR_CLOCK, r ? NULL : &old, &rent, sb->clock,
                       sizeof sb->clock);
    }
    /* SlotHistory += slot (Agave records it at freeze; nothing reads it in
     * between). */
    if (!rc) {
        int r = src.get(src.ctx, adb_sysvar_id(ADB_SYSVAR_SLOT_HISTORY), &old, &buf, &cap);
        if (r == ACCTDB_ERR_NOT_FOUND) {
            adb_sysvar_slot_history_default(sb->slot_history);
        } else if (r) {
            rc = r;
        } else if (old.data_len != ADB_SYSVAR_SLOT_HISTORY_SZ) {
            rc = bad_sysvar(ADB_SYSVAR_SLOT_HISTORY, parent, "not 131,097 bytes");
        } else {
            memcpy(sb->slot_history, old.data, ADB_SYSVAR_SLOT_HISTORY_SZ);
        }
        if (!rc && adb_sysvar_slot_history_add(sb->slot_history, slot))
            rc = bad_sysvar(ADB_SYSVAR_SLOT_HISTORY, parent,
                            "it cannot record the slot (malformed, or not newer than it)");
        if (!rc)
            sysvar_account(&a[n++], ADB_SYSVAR_SLOT_HISTORY, r ? NULL : &old, &rent,
                           sb->slot_history, sizeof sb->slot_history);
    }
    if (!rc) rc = adb_eng_store(db, slot, parent, a, n);
    if (!rc && changed) rc = adb_eng_ext_set(db, slot, state_buf, state_sz);
    adb_eng_ext_unref(px);
    adb_bank_state_fini(&st);
    adb_free(state_buf);
    adb_free(buf);
    adb_free(sb);
    return rc;
}

/* ---- the blockhash queue ------------------------------------------------------------ */

int
adb_bank_queue_make(adb_bank_origin_t const *o, acctdb_bank_info_t const *chain, size_t n,
                    adb_arena_t *mem, adb_blockhash_queue_t *out) {
    adb_blockhash_queue_t const *oq = &o->b->blockhash_queue;
    memset(out, 0, sizeof *out);
    out->max_age = oq->max_age ? oq->max_age : 300;
    uint64_t        obh = o->b->block_height;
    adb_hash_age_t *ages = adb_arena_alloc(mem, (n + oq->ages_cnt + 1) * sizeof *ages);
    if (!ages) return ACCTDB_ERR_NOMEM;
    uint64_t      k = 0, last = oq->last_hash_index;
    bool          has_last = oq->has_last_hash;
    acctdb_hash_t last_hash = oq->last_hash;
    /* chain[] newest first; engine banks are those above the origin. */
    size_t m = 0;
    while (m < n && chain[m].block_height > obh)
        m++;
    for (size_t i = m; i-- > 0;) {
        acctdb_bank_info_t const *c = &chain[i];
        uint64_t                  idx = oq->last_hash_index + (c->block_height - obh);
        ages[k++] = (adb_hash_age_t){
            c->meta.blockhash, c->lamports_per_signature, idx,
            (uint64_t)(c->meta.unix_timestamp > 0 ? c->meta.unix_timestamp : 0) * 1000};
        last = idx;
        last_hash = c->meta.blockhash;
        has_last = true;
    }
    /* The origin's entries, unless a newer bank registered the same hash. */
    for (uint64_t i = 0; i < oq->ages_cnt; i++) {
        bool dup = false;
        for (uint64_t j = 0; j < k && !dup; j++)
            dup = !memcmp(ages[j].hash.b, oq->ages[i].hash.b, 32);
        if (!dup) ages[k++] = oq->ages[i];
    }
    uint64_t w = 0;
    for (uint64_t i = 0; i < k; i++)
        if (ages[i].hash_index <= last && last - ages[i].hash_index <= out->max_age)
            ages[w++] = ages[i];
    /* Only the unbroken run of indices down from last: a hole (a bank the
     * history no longer holds, see ADB_HIST_CAP) is what Firedancer
     * refuses; a run cut short only loses the oldest blockhashes. */
    uint8_t *have = adb_arena_alloc(mem, w + 1);
    if (!have) return ACCTDB_ERR_NOMEM;
    memset(have, 0, w + 1);
    for (uint64_t i = 0; i < w; i++)
        if (last - ages[i].hash_index <= w) have[last - ages[i].hash_index] = 1;
    uint64_t run = 0; /* offsets 0..run are all present */
    while (run < w && have[run + 1])
        run++;
    uint64_t kept = 0;
    for (uint64_t i = 0; i < w; i++)
        if (last - ages[i].hash_index <= run) ages[kept++] = ages[i];
    w = kept;
    out->ages = ages;
    out->ages_cnt = w;
    out->last_hash_index = last;
    out->has_last_hash = has_last;
    out->last_hash = last_hash;
    return 0;
}

/* The frozen banks from slot's parent down to the root (newest first),
 * then the rooted history (newest first): at most cap. */
static int
chain_of(adb_db_t *db, uint64_t parent, acctdb_bank_info_t *chain, size_t cap, size_t *n_out) {
    size_t   n = 0;
    uint64_t root = adb_eng_root_slot(db, NULL), s = parent;
    while (n < cap && s > root) {
        ADB_TRY(adb_eng_bank_info(db, s, &chain[n]));
        s = chain[n++].parent_slot;
    }
    acctdb_bank_info_t *h = adb_malloc(ADB_ENG_HIST_MAX * sizeof *h);
    if (!h) return ACCTDB_ERR_NOMEM;
    uint32_t hn = adb_eng_hist(db, h);
    bool     have_root = hn && h[hn - 1].slot == root;
    if (!have_root && n < cap) {
        /* The root itself when the history does not hold it (the origin). */
        int rc = adb_eng_bank_info(db, root, &chain[n]);
        if (rc) {
            adb_free(h);
            return rc;
        }
        n++;
    }
    for (uint32_t i = hn; i-- > 0 && n < cap;)
        if (h[i].slot <= root) chain[n++] = h[i];
    adb_free(h);
    *n_out = n;
    return 0;
}

int
adb_bank_freeze(adb_db_t *db, adb_bank_origin_t const *o, uint64_t slot,
                acctdb_bank_meta_t const *meta, acctdb_bank_info_t *info_out) {
    if (info_out) memset(info_out, 0, sizeof *info_out);
    uint64_t parent;
    if (adb_eng_bank_parent(db, slot, &parent)) {
        /* Not a bank: the engine says why (dead fork, never stored). */
        adb_err_clear(adb_eng_err());
        return adb_eng_freeze(db, slot, meta, 0, 0, info_out);
    }
    acctdb_bank_info_t done;
    if (!adb_eng_bank_info(db, slot, &done)) { /* already frozen */
        if (info_out) *info_out = done;
        return 0;
    }
    adb_err_clear(adb_eng_err()); /* the probe's NOT_FOUND */
    enum { CHAIN_MAX = 302 };
    acctdb_bank_info_t *chain = adb_malloc(CHAIN_MAX * sizeof *chain);
    if (!chain) return adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "out of memory");
    size_t   n = 0;
    int      rc = chain_of(db, parent, chain + 1, CHAIN_MAX - 1, &n);
    uint64_t lps = 0;
    if (!rc) {
        acctdb_bank_info_t const *p = &chain[1];
        uint64_t                  plps = p->slot == o->b->slot && !p->lamports_per_signature
                                             ? o->x->lamports_per_signature
                                             : p->lamports_per_signature;
        lps = adb_fee_lps_derived(&o->b->fee_rate_governor, plps, p->meta.signature_count);
    }
    /* A bank begun by adb_bank_begin (its Clock names it) registers its
     * blockhash into RecentBlockhashes, as Agave's last tick does. */
    adb_bank_eng_src_t es = {db, slot, false};
    adb_bank_src_t     src = adb_bank_engine_src(&es);
    uint8_t           *buf = NULL;
    size_t             cap = 0;
    acctdb_account_t   ck, old;
    adb_clock_t        c;
    if (!rc && !src.get(src.ctx, adb_sysvar_id(ADB_SYSVAR_CLOCK), &ck, &buf, &cap) &&
        !adb_sysvar_clock_decode(ck.data, (size_t)ck.data_len, &c, NULL) && c.slot == slot) {
        chain[0] = (acctdb_bank_info_t){.slot = slot, .parent_slot = parent};
        chain[0].block_height = chain[1].block_height + 1;
        chain[0].lamports_per_signature = lps;
        if (meta) chain[0].meta = *meta;
        adb_arena_t mem;
        adb_arena_init(&mem, 0);
        adb_blockhash_queue_t q;
        adb_recent_bhs_t     *r = adb_malloc(sizeof *r);
        uint8_t              *data = adb_malloc(ADB_SYSVAR_RECENT_BH_SZ);
        rc = r && data ? adb_bank_queue_make(o, chain, n + 1, &mem, &q) : ACCTDB_ERR_NOMEM;
        if (!rc) {
            adb_recent_bh_from_queue(&q, r);
            adb_sysvar_recent_bh_encode(r, data);
            adb_rent_t rent = rent_of(&src, o, &buf, &cap);
            int        g =
                src.get(src.ctx, adb_sysvar_id(ADB_SYSVAR_RECENT_BLOCKHASHES), &old, &buf, &cap);
            acctdb_account_t a;
            sysvar_account(&a, ADB_SYSVAR_RECENT_BLOCKHASHES, g ? NULL : &old, &rent, data,
                           ADB_SYSVAR_RECENT_BH_SZ);
            rc = adb_eng_store(db, slot, parent, &a, 1);
        } else {
            adb_err_set(adb_eng_err(), rc, "out of memory");
        }
        adb_arena_fini(&mem);
        adb_free(r);
        adb_free(data);
    }
    adb_err_t *te = adb_eng_err();
    if (!rc && te->code == ACCTDB_ERR_NOT_FOUND) adb_err_clear(te); /* a probe above */
    adb_free(buf);
    adb_free(chain);
    if (rc) return rc;
    uint64_t forks =
        adb_bankhash_fork_cnt(o->b->hard_forks, (size_t)o->b->hard_forks_cnt, parent, slot);
    return adb_eng_freeze(db, slot, meta, forks, lps, info_out);
}

/* ---- a snapshot's bank fields ------------------------------------------------------- */

int
adb_bank_fields_make(adb_bank_origin_t const *o, acctdb_bank_info_t const *chain, size_t chain_cnt,
                     adb_bank_state_t const *st, adb_bank_src_t const *src, adb_arena_t *mem,
                     adb_bank_fields_t *b, adb_extra_fields_t *x) {
    adb_epoch_schedule_t const *es = &o->b->epoch_schedule;
    acctdb_bank_info_t const   *root = &chain[0];
    *b = *o->b; /* the cluster's fixed fields; the rest is set below */
    *x = *o->x;
    uint64_t slot = root->slot;
    b->slot = slot;
    b->parent_slot = root->parent_slot;
    b->block_height = root->block_height;
    b->parent_hash = root->parent_bank_hash;
    b->hash = root->bank_hash;
    b->transaction_count = root->meta.transaction_count;
    b->signature_count = root->meta.signature_count;
    b->capitalization = root->capitalization;
    b->accounts_data_len = root->accounts_data_len;
    b->max_tick_height = (slot + 1) * b->ticks_per_slot;
    b->tick_height = b->max_tick_height; /* a frozen bank is complete */
    b->epoch = adb_epoch_of(es, slot);
    b->collector_fees = 0;
    b->fee_calculator = 0;
    b->collected_rent = 0;
    b->is_delta = true;
    b->unused_accounts1_cnt = b->unused_accounts2_cnt = b->unused_accounts3_cnt = 0;
    b->epoch_stakes = NULL; /* the lattice era's loaders require it empty */
    b->epoch_stakes_cnt = 0;
    /* The derived fee governor's bounds (FeeRateGovernor::new_derived). */
    adb_fee_rate_governor_t *g = &b->fee_rate_governor;
    if (g->target_signatures_per_slot) {
        g->min_lamports_per_signature =
            g->target_lamports_per_signature / 2 > 1 ? g->target_lamports_per_signature / 2 : 1;
        g->max_lamports_per_signature = g->target_lamports_per_signature * 10;
    }
    ADB_TRY(adb_bank_queue_make(o, chain, chain_cnt, mem, &b->blockhash_queue));
    x->lamports_per_signature = slot == o->b->slot && !root->lamports_per_signature
                                    ? o->x->lamports_per_signature
                                    : root->lamports_per_signature;
    /* Ancestors: the bank and its rooted parents (Agave 3.x reads them). */
    size_t na = chain_cnt < 32 ? chain_cnt : 32;
    b->ancestors = adb_arena_alloc(mem, na * sizeof *b->ancestors);
    if (!b->ancestors) return ACCTDB_ERR_NOMEM;
    for (size_t i = 0; i < na; i++)
        b->ancestors[i] = (adb_slot_u64_t){chain[i].slot, 0};
    b->ancestors_cnt = na;

    /* Stakes from the accounts, epoch stakes from the bank state. */
    uint64_t nre = adb_bank_new_rate_epoch(src, es);
    ADB_TRY(adb_bank_stakes_compute(src, st->stakes_epoch, st->hist, (size_t)st->hist_cnt, nre, mem,
                                    &b->stakes));
    int rc = 0;
    x->versioned_epoch_stakes = NULL;
    x->versioned_epoch_stakes_cnt = 0;
    if (st->es_cnt) {
        /* Copy them into mem (st's arena is the caller's). */
        adb_bc_wr_t wr;
        adb_bc_wr_init(&wr, 0);
        for (uint64_t i = 0; i < st->es_cnt; i++)
            adb_bank_epoch_stakes_body_write(&wr, &st->es[i]);
        rc = wr.err;
        adb_epoch_stakes_t *v =
            rc ? NULL : adb_arena_alloc(mem, st->es_cnt * sizeof(adb_epoch_stakes_t));
        if (!rc && !v) rc = ACCTDB_ERR_NOMEM;
        adb_bc_rd_t rd;
        if (!rc) adb_bc_rd_init(&rd, wr.buf, wr.sz, "epoch stakes");
        for (uint64_t i = 0; !rc && i < st->es_cnt; i++) {
            v[i].epoch = st->es[i].epoch;
            adb_bank_epoch_stakes_body_read(&rd, mem, &v[i], true, "epoch stakes");
            if (!adb_bc_ok(&rd)) rc = rd.err.code;
        }
        if (!rc) {
            x->versioned_epoch_stakes = v;
            x->versioned_epoch_stakes_cnt = st->es_cnt;
        }
        adb_bc_wr_fini(&wr);
    }
    /* The rent collector of 3.x, consistent with the Rent sysvar. */
    uint8_t *buf = NULL;
    size_t   cap = 0;
    if (!rc) {
        b->rent_collector.epoch = b->epoch;
        b->rent_collector.epoch_schedule = *es;
        b->rent_collector.slots_per_year = b->slots_per_year;
        b->rent_collector.rent = rent_of(src, o, &buf, &cap);
    }
    adb_free(buf);
    if (rc) return rc;

    x->has_incremental_persistence = false;
    x->has_epoch_accounts_hash = false;
    x->has_accounts_lt_hash = true;
    memcpy(x->accounts_lt_hash, root->lt_hash.v, sizeof root->lt_hash.v);
    static uint8_t const zero[32];
    x->has_block_id = memcmp(root->meta.block_id.b, zero, 32) != 0;
    x->block_id = root->meta.block_id;
    return 0;
}

int
adb_bank_manifest_fill(adb_db_t *db, adb_bank_origin_t const *o, acctdb_bank_info_t const *root,
                       acctdb_bank_info_t const *hist, uint32_t hist_cnt, adb_arena_t *mem,
                       adb_bank_fields_t *b, adb_extra_fields_t *x) {
    /* The chain of rooted banks, newest first: the root, then history. */
    acctdb_bank_info_t *chain = adb_arena_alloc(mem, (hist_cnt + 1) * sizeof *chain);
    if (!chain) return ACCTDB_ERR_NOMEM;
    size_t n = 0;
    chain[n++] = *root;
    for (uint32_t i = hist_cnt; i-- > 0;)
        if (hist[i].slot < root->slot) chain[n++] = hist[i];
    adb_bank_eng_src_t ds = {db, root->slot, true};
    adb_bank_src_t     src = adb_bank_engine_src(&ds);
    adb_eng_ext_t     *ext = adb_eng_snap_ext(db);
    adb_bank_state_t   st;
    int                rc = state_of(ext, o, &st);
    adb_eng_ext_unref(ext);
    if (!rc) rc = adb_bank_fields_make(o, chain, n, &st, &src, mem, b, x);
    adb_bank_state_fini(&st);
    return rc;
}
