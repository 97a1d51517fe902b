/* src/bank/bank_state.c - the bank state that moves forward (see bank.h):
 * its blob, its origin, its advance at epoch boundaries; and the small
 * cluster formulas (years_as_slots, the derived fee). */
#include "bank/bank.h"

#include <stdlib.h>

#define STATE_MAGIC "ADBBANK1"

void
adb_bank_state_init(adb_bank_state_t *st) {
    memset(st, 0, sizeof *st);
    adb_arena_init(&st->mem, 0);
}

void
adb_bank_state_fini(adb_bank_state_t *st) {
    adb_arena_fini(&st->mem);
    memset(st, 0, sizeof *st);
}

static int
hist_alloc(adb_bank_state_t *st) {
    st->hist = adb_arena_alloc(&st->mem, ADB_STAKE_HISTORY_MAX * sizeof *st->hist);
    return st->hist ? 0 : ACCTDB_ERR_NOMEM;
}

static int
cmp_es(void const *a, void const *b) {
    uint64_t x = ((adb_epoch_stakes_t const *)a)->epoch, y = ((adb_epoch_stakes_t const *)b)->epoch;
    return x < y ? -1 : x > y;
}

int
adb_bank_state_from_origin(adb_bank_fields_t const *b, adb_extra_fields_t const *x,
                           adb_bank_state_t *out) {
    adb_bank_state_init(out);
    ADB_TRY(hist_alloc(out));
    out->stakes_epoch = b->stakes.epoch;
    for (uint64_t i = 0; i < b->stakes.stake_history_cnt; i++)
        adb_stake_history_add(out->hist, &out->hist_cnt, &b->stakes.stake_history[i]);
    uint64_t n = x->versioned_epoch_stakes_cnt + b->epoch_stakes_cnt;
    out->es = adb_arena_alloc(&out->mem, (size_t)(n ? n : 1) * sizeof *out->es);
    if (!out->es) return ACCTDB_ERR_NOMEM;
    for (uint64_t i = 0; i < x->versioned_epoch_stakes_cnt; i++)
        out->es[out->es_cnt++] = x->versioned_epoch_stakes[i];
    /* A merkle-era manifest carries its epochs in the legacy map. */
    for (uint64_t i = 0; i < b->epoch_stakes_cnt; i++)
        if (!adb_bank_state_epoch_stakes(out, b->epoch_stakes[i].epoch))
            out->es[out->es_cnt++] = b->epoch_stakes[i];
    /* From here on they are written as Agave writes them today: the Stake
     * form with the delegations left out. */
    for (uint64_t i = 0; i < out->es_cnt; i++) {
        adb_epoch_stakes_t *e = &out->es[i];
        e->variant = 0;
        e->stakes.is_stake_form = true;
        e->stakes.delegations = NULL;
        e->stakes.delegations_cnt = 0;
        e->stakes.unused = 0;
    }
    qsort(out->es, (size_t)out->es_cnt, sizeof *out->es, cmp_es);
    return 0;
}

adb_epoch_stakes_t const *
adb_bank_state_epoch_stakes(adb_bank_state_t const *st, uint64_t epoch) {
    for (uint64_t i = 0; i < st->es_cnt; i++)
        if (st->es[i].epoch == epoch) return &st->es[i];
    return NULL;
}

int
adb_bank_state_encode(adb_bank_state_t const *st, uint8_t **buf_out, size_t *sz_out) {
    *buf_out = NULL;
    *sz_out = 0;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    adb_bc_put_bytes(&wr, STATE_MAGIC, 8);
    adb_bc_put_u64(&wr, st->stakes_epoch);
    adb_bc_put_u64(&wr, st->hist_cnt);
    for (uint64_t i = 0; i < st->hist_cnt; i++) {
        adb_bc_put_u64(&wr, st->hist[i].epoch);
        adb_bc_put_u64(&wr, st->hist[i].effective);
        adb_bc_put_u64(&wr, st->hist[i].activating);
        adb_bc_put_u64(&wr, st->hist[i].deactivating);
    }
    adb_bc_put_u64(&wr, st->es_cnt);
    for (uint64_t i = 0; i < st->es_cnt; i++) {
        adb_bc_put_u64(&wr, st->es[i].epoch);
        adb_bank_epoch_stakes_body_write(&wr, &st->es[i]);
    }
    if (wr.err) {
        int rc = wr.err;
        adb_bc_wr_fini(&wr);
        return rc;
    }
    *buf_out = wr.buf;
    *sz_out = wr.sz;
    return 0;
}

int
adb_bank_state_decode(void const *p, size_t sz, adb_bank_state_t *out, adb_err_t *err) {
    adb_bank_state_init(out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, p, sz, "bank state");
    uint8_t magic[8];
    adb_bc_copy(&rd, magic, 8, "magic");
    if (adb_bc_ok(&rd) && memcmp(magic, STATE_MAGIC, 8))
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "not a bank state (magic)");
    out->stakes_epoch = adb_bc_u64(&rd, "stakes_epoch");
    uint64_t hn = adb_bc_len(&rd, 32, "stake_history");
    if (adb_bc_ok(&rd) && hn > ADB_STAKE_HISTORY_MAX)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%llu stake history entries", (unsigned long long)hn);
    if (adb_bc_ok(&rd) && hist_alloc(out)) adb_bc_fail(&rd, ACCTDB_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < hn && adb_bc_ok(&rd); i++) {
        adb_stake_history_entry_t *e = &out->hist[i];
        e->epoch = adb_bc_u64(&rd, "stake_history");
        e->effective = adb_bc_u64(&rd, "stake_history");
        e->activating = adb_bc_u64(&rd, "stake_history");
        e->deactivating = adb_bc_u64(&rd, "stake_history");
        out->hist_cnt = i + 1;
    }
    out->es =
        adb_bc_vec(&rd, &out->mem, 8 + 40 + 24, sizeof *out->es, &out->es_cnt, "epoch_stakes");
    for (uint64_t i = 0; i < out->es_cnt && adb_bc_ok(&rd); i++) {
        out->es[i].epoch = adb_bc_u64(&rd, "epoch_stakes.epoch");
        adb_bank_epoch_stakes_body_read(&rd, &out->mem, &out->es[i], true, "epoch_stakes");
    }
    if (!adb_bc_ok(&rd) || rd.off != rd.sz) {
        if (adb_bc_ok(&rd)) adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "trailing bytes");
        if (err) *err = rd.err;
        int rc = rd.err.code;
        adb_bank_state_fini(out);
        return rc;
    }
    return 0;
}

/* ---- the advance ------------------------------------------------------------- */

typedef struct sum_ctx {
    adb_bank_state_t const *st;
    uint64_t                nre;
    adb_stake_status_t      sum;
} sum_ctx_t;

static uint64_t
sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int
sum_stake(void *ctx, acctdb_account_t const *a) {
    sum_ctx_t       *c = ctx;
    adb_delegation_t d;
    if (adb_stake_delegation_decode(a, &d, NULL)) return 0;
    adb_stake_status_t s =
        adb_stake_status(&d, c->st->stakes_epoch, c->st->hist, (size_t)c->st->hist_cnt, c->nre);
    c->sum.effective = sat_add(c->sum.effective, s.effective);
    c->sum.activating = sat_add(c->sum.activating, s.activating);
    c->sum.deactivating = sat_add(c->sum.deactivating, s.deactivating);
    return 0;
}

int
adb_bank_state_advance(adb_bank_state_t *st, adb_bank_src_t const *src,
                       adb_epoch_schedule_t const *es, uint64_t slot, uint64_t nre,
                       bool *changed_out, bool *new_epoch_out) {
    *changed_out = *new_epoch_out = false;
    uint64_t epoch = adb_epoch_of(es, slot);
    if (epoch > st->stakes_epoch) {
        /* The finished epoch's entry: every delegation at the old epoch
         * with the old history (Agave calculate_activated_stake). */
        sum_ctx_t c = {.st = st, .nre = nre};
        ADB_TRY(src->each_owned(src->ctx, adb_stake_program_id(), sum_stake, &c));
        if (!st->hist) ADB_TRY(hist_alloc(st));
        adb_stake_history_entry_t e = {st->stakes_epoch, c.sum.effective, c.sum.activating,
                                       c.sum.deactivating};
        adb_stake_history_add(st->hist, &st->hist_cnt, &e);
        st->stakes_epoch = epoch;
        *changed_out = *new_epoch_out = true;
    }
    /* Every epoch from the slot's to its leader schedule epoch needs its
     * epoch stakes (a loader refuses the bank otherwise).  Agave inserts the
     * leader schedule epoch's as each bank is created; a chain that skipped
     * banks (stores without bank_begin, a warp) gets the ones it missed from
     * the same stakes. */
    uint64_t     lse = adb_epoch_leader_schedule(es, slot);
    bool         have_stakes = false;
    adb_stakes_t stakes;
    for (uint64_t want = epoch; want <= lse; want++) {
        if (adb_bank_state_epoch_stakes(st, want)) continue;
        if (!have_stakes) {
            ADB_TRY(adb_bank_stakes_compute(src, st->stakes_epoch, st->hist, (size_t)st->hist_cnt,
                                            nre, &st->mem, &stakes));
            have_stakes = true;
        }
        adb_epoch_stakes_t made;
        ADB_TRY(adb_bank_epoch_stakes_make(&stakes, want, &st->mem, &made));
        /* Keep lse-4 .. lse (MAX_LEADER_SCHEDULE_STAKES = 5). */
        uint64_t keep_from =
            lse >= ADB_EPOCH_STAKES_KEEP - 1 ? lse - (ADB_EPOCH_STAKES_KEEP - 1) : 0;
        adb_epoch_stakes_t *n = adb_arena_alloc(&st->mem, (size_t)(st->es_cnt + 1) * sizeof *n);
        if (!n) return ACCTDB_ERR_NOMEM;
        uint64_t k = 0;
        for (uint64_t i = 0; i < st->es_cnt; i++)
            if (st->es[i].epoch >= keep_from) n[k++] = st->es[i];
        n[k++] = made;
        st->es = n;
        st->es_cnt = k;
        qsort(st->es, (size_t)st->es_cnt, sizeof *st->es, cmp_es);
        *changed_out = true;
    }
    return 0;
}

/* ---- cluster formulas ---------------------------------------------------------- */

double
adb_years_as_slots(uint64_t tick_ns, uint64_t ticks_per_slot) {
    double const seconds_per_year = 365.242199 * 24.0 * 60.0 * 60.0;
    double const years = 1.0;
    return years * seconds_per_year * (1000000000.0 / (double)tick_ns) / (double)ticks_per_slot;
}

uint64_t
adb_fee_lps_derived(adb_fee_rate_governor_t const *g, uint64_t parent_lps, uint64_t sigs) {
    uint64_t target = g->target_lamports_per_signature;
    if (g->target_signatures_per_slot == 0) return target;
    uint64_t lo = target / 2 > 1 ? target / 2 : 1, hi = target * 10;
    uint64_t s = sigs < UINT32_MAX ? sigs : UINT32_MAX;
    uint64_t want = target * s / g->target_signatures_per_slot;
    if (want < lo) want = lo;
    if (want > hi) want = hi;
    if (want == parent_lps) return want;
    uint64_t step = target / 20 > 1 ? target / 20 : 1;
    uint64_t v =
        want > parent_lps ? parent_lps + step : (parent_lps > step ? parent_lps - step : 0);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return v;
}
