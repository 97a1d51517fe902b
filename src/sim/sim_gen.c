/* src/sim/sim_gen.c - the synthetic snapshot generator (see sim.h).
 *
 * Every property of account i comes from a counter-based generator keyed
 * by (seed, i, what), so any account can be re-derived at any time: the
 * planning pass sizes the storages and hashes the live set (on all
 * threads), the writing pass re-derives each record as its storage is
 * streamed into the archive.  Nothing but the per-slot record lists (4
 * bytes per record) is kept in memory. */
#include "sim/sim.h"
#include "bank/bank.h"

#include "hash/blake3.h"
#include "hash/lthash.h"
#include "snapshot/bincode_types.h"
#include "snapshot/manifest.h"
#include "snapshot/status_cache.h"
#include "bank/bank_sysvar.h"
#include "snapshot/write.h"
#include "store/acctfile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SLOT0      1000u /* first slot of generated history */
#define OLD_PCT    10    /* accounts with an older version */
#define CLOSED_PCT 2     /* accounts closed by a tombstone */
#define REC_NONE   UINT32_MAX

/* ---- account plan ------------------------------------------------------- */

/* An account's plan: its shape in the account mix (acctdb_mix_draw from
 * stream (i, 1)) and where its versions go. */
typedef struct plan {
    acctdb_mix_shape_t m;
    uint32_t           data_len; /* m.data_len */
    uint32_t           f;        /* slot offset of the newest version */
    uint32_t           o;        /* slot offset of an older version, or REC_NONE */
    bool               closed;
} plan_t;

typedef struct gen {
    adb_gen_opts_t        o;
    acctdb_cluster_opts_t cl; /* the cluster: validators, epoch schedule */
    adb_epoch_schedule_t  es;
    uint64_t              n; /* accounts */
    uint32_t              s; /* slots */
    uint64_t              full_slot;
} gen_t;

static void
plan(gen_t const *g, uint64_t i, plan_t *p) {
    acctdb_rng_t r = acctdb_rng_at(g->o.seed, i, 1);
    memset(p, 0, sizeof *p);
    p->m = acctdb_mix_draw(&r);
    p->data_len = p->m.data_len;
    /* Idle age drawn independently of the size. */
    adb_rng_t a = adb_rng_at(g->o.seed, i, 2);
    p->f = (uint32_t)(adb_rng_next(&a) % g->s);
    p->o = REC_NONE;
    uint64_t v = adb_rng_next(&a) % 100;
    if (p->f > 0 && v < OLD_PCT + CLOSED_PCT) {
        p->o = (uint32_t)(adb_rng_next(&a) % p->f);
        p->closed = v < CLOSED_PCT;
    }
}

static void
pubkey_of(gen_t const *g, uint64_t i, uint8_t out[32]) {
    adb_rng_t r = adb_rng_at(g->o.seed, i, 3);
    adb_rng_fill(&r, out, 32);
}

/* Fills a (owner, lamports, data: acctdb_mix_account from stream
 * (i, 100 + tag)) for version tag of account i; data goes into buf
 * (p->data_len bytes). */
static void
version_of(gen_t const *g, uint64_t i, plan_t const *p, uint64_t tag, acctdb_account_t *a,
           uint8_t *buf) {
    acctdb_rng_t r = acctdb_rng_at(g->o.seed, i, 100 + tag);
    memset(a, 0, sizeof *a);
    pubkey_of(g, i, a->pubkey.b);
    acctdb_mix_account(&p->m, &r, a, buf);
}

/* ---- the bank: sysvars, the cluster's accounts, its state ------------------
 * The newest slot of an archive holds the sysvars of its bank and (in the
 * full archive) the cluster's validators and faucet (sim_cluster.c); the
 * manifest's stakes, epoch stakes and stake history follow from them as
 * the bank module computes them (src/bank), the cluster having run every
 * epoch since genesis.  The chain of the newest GEN_CHAIN banks (their
 * blockhashes, timestamps, parents) is synthetic and derived from the seed:
 * block height = slot - 500, bank hash of slot s = hash_of("ph", s). */

#define GEN_CHAIN   16
#define GEN_SYSVARS 7 /* the first 5 change every slot (the incremental's) */
#define GEN_TS(s)   (1700000000 + (int64_t)((s)*2 / 5))

typedef struct sysvars {
    uint8_t          slot_history[ADB_SYSVAR_SLOT_HISTORY_SZ];
    uint8_t          clock[ADB_SYSVAR_CLOCK_SZ];
    uint8_t          slot_hashes[ADB_SYSVAR_SLOT_HASHES_SZ];
    uint8_t          recent[ADB_SYSVAR_RECENT_BH_SZ];
    uint8_t          stake_history[ADB_SYSVAR_STAKE_HISTORY_SZ];
    uint8_t          rent[ADB_BANK_RENT_SZ];
    uint8_t          epoch_schedule[ADB_BANK_EPOCH_SCHEDULE_SZ];
    uint8_t          cluster[3 * ADB_SIM_VALIDATORS_MAX + 1][ADB_SIM_CLUSTER_DATA_MAX];
    acctdb_account_t acct[GEN_SYSVARS + 3 * ADB_SIM_VALIDATORS_MAX + 1];
    int              cnt;     /* how many of acct[] go into the archive */
    int              all_cnt; /* sysvars and cluster accounts */
    /* the bank */
    adb_bank_state_t   st;
    acctdb_bank_info_t chain[GEN_CHAIN]; /* the newest banks, newest first */
} sysvars_t;

static adb_rent_t const g_rent = {3480, 2.0, 50};

static void
hash_of(gen_t const *g, char const *what, uint64_t slot, uint8_t out[32]) {
    adb_rng_t r =
        adb_rng_at(g->o.seed ^ (uint64_t)what[0] << 56 ^ (uint64_t)what[1] << 48, slot, 9);
    adb_rng_fill(&r, out, 32);
}

/* The cluster's fixed fields and the queue's anchor (index = block height). */
static void
gen_origin(gen_t const *g, adb_bank_fields_t *b, adb_extra_fields_t *x) {
    memset(b, 0, sizeof *b);
    memset(x, 0, sizeof *x);
    b->ticks_per_slot = 64;
    b->has_hashes_per_tick = true;
    b->hashes_per_tick = 62500;
    b->ns_per_slot = 400000000;
    b->genesis_creation_time = g->cl.creation_time;
    b->slots_per_year = adb_years_as_slots(6250000, 64);
    b->fee_rate_governor = (adb_fee_rate_governor_t){10000, 20000, 5000, 100000, 50};
    b->rent_collector.rent = g_rent;
    b->epoch_schedule = g->es;
    b->inflation = (adb_inflation_t){0.08, 0.015, 0.15, 0.05, 7.0, 0.0};
    b->blockhash_queue.max_age = 300;
    b->slot = UINT64_MAX; /* never a bank of the chain */
    x->lamports_per_signature = 5000;
}

static int
sv_get(void *ctx, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t **buf, size_t *cap) {
    (void)buf, (void)cap;
    sysvars_t const *sv = ctx;
    for (int i = 0; i < sv->all_cnt; i++)
        if (!memcmp(sv->acct[i].pubkey.b, key->b, 32)) {
            *out = sv->acct[i];
            return 0;
        }
    return ACCTDB_ERR_NOT_FOUND;
}

static int
sv_each(void *ctx, acctdb_pubkey_t const *owner, int (*fn)(void *, acctdb_account_t const *),
        void *fctx) {
    sysvars_t const *sv = ctx;
    for (int i = GEN_SYSVARS; i < sv->all_cnt; i++)
        if (sv->acct[i].lamports && !memcmp(sv->acct[i].owner.b, owner->b, 32))
            ADB_TRY(fn(fctx, &sv->acct[i]));
    return 0;
}

static void
sysvar_acct(acctdb_account_t *a, adb_sysvar_t which, uint8_t const *data, size_t sz) {
    memset(a, 0, sizeof *a);
    a->pubkey = *adb_sysvar_id(which);
    a->owner = *adb_sysvar_id(ADB_SYSVAR_OWNER);
    uint64_t min = adb_rent_minimum_balance(&g_rent, sz);
    a->lamports = min ? min : 1;
    a->rent_epoch = 0;
    a->data = data;
    a->data_len = sz;
}

static int
sysvars_build(gen_t const *g, uint64_t slot, sysvars_t *sv) {
    adb_bank_state_fini(&sv->st);
    adb_bank_state_init(&sv->st);
    /* The cluster's accounts (after the sysvars). */
    size_t nc = adb_sim_cluster_cnt(&g->cl);
    for (size_t i = 0; i < nc; i++)
        adb_sim_cluster_account(&g->cl, i, &sv->acct[GEN_SYSVARS + i], sv->cluster[i]);
    sv->all_cnt = GEN_SYSVARS + (int)nc;
    adb_bank_src_t src = {sv_get, sv_each, sv};

    /* The bank state: genesis (epoch stakes 0 .. the leader schedule
     * epoch of slot 0), then every epoch boundary up to slot. */
    adb_bank_state_t *st = &sv->st;
    adb_stakes_t      stakes;
    uint64_t          lse0 = adb_epoch_leader_schedule(&g->es, 0);
    int               rc = adb_bank_stakes_compute(&src, 0, NULL, 0, UINT64_MAX, &st->mem, &stakes);
    st->hist = adb_arena_alloc(&st->mem, ADB_STAKE_HISTORY_MAX * sizeof *st->hist);
    st->es = adb_arena_alloc(&st->mem, (size_t)(lse0 + 1) * sizeof *st->es);
    if (!rc && (!st->hist || !st->es)) rc = ACCTDB_ERR_NOMEM;
    for (uint64_t e = 0; !rc && e <= lse0; e++)
        rc = adb_bank_epoch_stakes_make(&stakes, e, &st->mem, &st->es[st->es_cnt++]);
    uint64_t epoch = adb_epoch_of(&g->es, slot);
    bool     changed, new_epoch;
    for (uint64_t e = 1; !rc && e <= epoch; e++)
        rc = adb_bank_state_advance(st, &src, &g->es, adb_epoch_first_slot(&g->es, e), UINT64_MAX,
                                    &changed, &new_epoch);
    if (!rc) rc = adb_bank_state_advance(st, &src, &g->es, slot, UINT64_MAX, &changed, &new_epoch);
    if (rc) return rc;

    /* The chain of the newest banks. */
    for (uint64_t k = 0; k < GEN_CHAIN; k++) {
        acctdb_bank_info_t *c = &sv->chain[k];
        uint64_t            s = slot - k;
        memset(c, 0, sizeof *c);
        c->slot = s;
        c->parent_slot = s - 1;
        c->block_height = s - SLOT0 / 2;
        hash_of(g, "ph", s, c->bank_hash.b);
        hash_of(g, "ph", s - 1, c->parent_bank_hash.b);
        hash_of(g, "bh", s, c->meta.blockhash.b);
        hash_of(g, "id", s, c->meta.block_id.b);
        c->meta.signature_count = 1000 + s % 1000;
        c->meta.transaction_count = s * 1000;
        c->meta.unix_timestamp = GEN_TS(s);
        c->lamports_per_signature = 5000;
    }

    /* Every slot from 0 to slot is rooted (the window keeps the last 2^20). */
    uint64_t  lo = slot + 1 > (1u << 20) ? slot + 1 - (1u << 20) : 0;
    uint64_t  cnt = slot + 1 - lo;
    uint64_t *slots = adb_malloc(cnt * sizeof *slots);
    if (!slots) return ACCTDB_ERR_NOMEM;
    for (uint64_t k = 0; k < cnt; k++)
        slots[k] = lo + k;
    rc = adb_sysvar_slot_history_write(slots, cnt, slot + 1, sv->slot_history);
    adb_free(slots);
    if (rc) return rc;
    adb_clock_t c = {.slot = slot,
                     .epoch_start_timestamp = GEN_TS(adb_epoch_first_slot(&g->es, epoch)),
                     .epoch = epoch,
                     .leader_schedule_epoch = adb_epoch_leader_schedule(&g->es, slot),
                     .unix_timestamp = GEN_TS(slot)};
    adb_sysvar_clock_encode(&c, sv->clock);
    adb_slot_hashes_t *sh = adb_malloc(sizeof *sh);
    adb_recent_bhs_t  *rb = adb_malloc(sizeof *rb);
    adb_arena_t        mem;
    adb_arena_init(&mem, 0);
    adb_bank_fields_t     ob;
    adb_extra_fields_t    ox;
    adb_blockhash_queue_t q;
    gen_origin(g, &ob, &ox);
    adb_bank_origin_t o = {&ob, &ox};
    rc = sh && rb ? adb_bank_queue_make(&o, sv->chain, GEN_CHAIN, &mem, &q) : ACCTDB_ERR_NOMEM;
    if (!rc) {
        sh->cnt = 0;
        for (uint64_t k = 1; k <= ADB_SLOT_HASHES_MAX && k <= slot; k++) {
            acctdb_hash_t h;
            hash_of(g, "ph", slot - k, h.b);
            sh->e[sh->cnt++] = (adb_slot_hash_t){slot - k, h};
        }
        adb_sysvar_slot_hashes_encode(sh, sv->slot_hashes);
        adb_recent_bh_from_queue(&q, rb);
        adb_sysvar_recent_bh_encode(rb, sv->recent);
    }
    adb_arena_fini(&mem);
    adb_free(sh);
    adb_free(rb);
    if (rc) return rc;
    adb_sysvar_stake_history_encode(st->hist, (size_t)st->hist_cnt, sv->stake_history);
    adb_sysvar_rent_encode(&g_rent, sv->rent);
    adb_sysvar_epoch_schedule_encode(&g->es, sv->epoch_schedule);
    sysvar_acct(&sv->acct[0], ADB_SYSVAR_SLOT_HISTORY, sv->slot_history, sizeof sv->slot_history);
    sysvar_acct(&sv->acct[1], ADB_SYSVAR_CLOCK, sv->clock, sizeof sv->clock);
    sysvar_acct(&sv->acct[2], ADB_SYSVAR_SLOT_HASHES, sv->slot_hashes, sizeof sv->slot_hashes);
    sysvar_acct(&sv->acct[3], ADB_SYSVAR_RECENT_BLOCKHASHES, sv->recent, sizeof sv->recent);
    sysvar_acct(&sv->acct[4], ADB_SYSVAR_STAKE_HISTORY, sv->stake_history,
                sizeof sv->stake_history);
    sysvar_acct(&sv->acct[5], ADB_SYSVAR_RENT, sv->rent, sizeof sv->rent);
    sysvar_acct(&sv->acct[6], ADB_SYSVAR_EPOCH_SCHEDULE, sv->epoch_schedule,
                sizeof sv->epoch_schedule);
    sv->cnt = sv->all_cnt;
    return 0;
}

static uint64_t
sysvars_bytes(sysvars_t const *sv) {
    uint64_t b = 0;
    for (int k = 0; k < sv->cnt; k++)
        b += adb_acct_rec_sz(sv->acct[k].data_len);
    return b;
}

/* ---- planning: sizes and the lattice hash ------------------------------- */

typedef struct totals {
    acctdb_lthash_t lt;
    uint64_t        live, lamports, data_len;
} totals_t;

static void
totals_add(totals_t *t, acctdb_account_t const *a) {
    if (!a->lamports) return;
    t->live++;
    t->lamports += a->lamports;
    t->data_len += a->data_len;
}

static void
totals_sub(totals_t *t, acctdb_account_t const *a) {
    if (!a->lamports) return;
    t->live--;
    t->lamports -= a->lamports;
    t->data_len -= a->data_len;
}

typedef struct hash_job {
    gen_t const *g;
    uint64_t     lo, hi;
    totals_t     t;
    int          rc;
} hash_job_t;

static void *
hash_main(void *arg) {
    hash_job_t *j = arg;
    enum { B = 32 };
    acctdb_account_t batch[B];
    uint8_t         *bufs = adb_malloc((size_t)B * 2048);
    uint8_t         *big = NULL;
    size_t           n = 0;
    if (!bufs) {
        j->rc = ACCTDB_ERR_NOMEM;
        return NULL;
    }
    adb_lthash_zero(&j->t.lt);
    for (uint64_t i = j->lo; i < j->hi; i++) {
        plan_t p;
        plan(j->g, i, &p);
        if (p.closed) continue;
        if (p.data_len > 2048) {
            /* Rare large account: hash it alone. */
            uint8_t *nb = adb_realloc(big, p.data_len);
            if (!nb) {
                j->rc = ACCTDB_ERR_NOMEM;
                break;
            }
            big = nb;
            acctdb_account_t a;
            version_of(j->g, i, &p, 0, &a, big);
            adb_lthash_add_accounts(&j->t.lt, &a, 1, ACCTDB_LTHASH_CURRENT);
            totals_add(&j->t, &a);
            continue;
        }
        version_of(j->g, i, &p, 0, &batch[n], bufs + n * 2048);
        totals_add(&j->t, &batch[n]);
        if (++n == B) {
            adb_lthash_add_accounts(&j->t.lt, batch, n, ACCTDB_LTHASH_CURRENT);
            n = 0;
        }
    }
    if (n) adb_lthash_add_accounts(&j->t.lt, batch, n, ACCTDB_LTHASH_CURRENT);
    adb_free(bufs);
    adb_free(big);
    return NULL;
}

static int
hash_live(gen_t const *g, unsigned threads, totals_t *out) {
    hash_job_t *jobs = adb_calloc(threads, sizeof *jobs);
    pthread_t  *th = adb_calloc(threads, sizeof *th);
    int         rc = 0;
    if (!jobs || !th) rc = ACCTDB_ERR_NOMEM;
    unsigned started = 0;
    for (unsigned k = 0; !rc && k < threads; k++) {
        jobs[k] =
            (hash_job_t){g, g->n * k / threads, g->n * (k + 1) / threads, {{{0}}, 0, 0, 0}, 0};
        if (pthread_create(&th[k], NULL, hash_main, &jobs[k]))
            rc = ACCTDB_ERR_NOMEM;
        else
            started++;
    }
    memset(out, 0, sizeof *out);
    for (unsigned k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        if (jobs[k].rc) rc = jobs[k].rc;
        adb_lthash_add(&out->lt, &jobs[k].t.lt);
        out->live += jobs[k].t.live;
        out->lamports += jobs[k].t.lamports;
        out->data_len += jobs[k].t.data_len;
    }
    adb_free(jobs);
    adb_free(th);
    return rc;
}

/* ---- storages: per-slot record lists ------------------------------------ */

/* A record: account index * 4 + version kind. */
enum { V_FINAL = 0, V_OLD = 1, V_INC = 2, V_SYSVAR = 3 };

typedef struct layout {
    uint32_t           *rec;   /* records, grouped by slot */
    uint64_t           *start; /* slot k's records: rec[start[k] .. start[k+1]) */
    uint64_t           *bytes; /* stored bytes per slot */
    uint32_t            slots;
    uint64_t            first_slot;
    adb_snap_storage_t *st;
    uint32_t           *st_slot; /* storage -> slot offset */
    size_t              st_cnt;
} layout_t;

static void
layout_fini(layout_t *l) {
    adb_free(l->rec);
    adb_free(l->start);
    adb_free(l->bytes);
    adb_free(l->st);
    adb_free(l->st_slot);
    memset(l, 0, sizeof *l);
}

static int
layout_storages(layout_t *l, sysvars_t const *sv) {
    l->st = adb_calloc(l->slots, sizeof *l->st);
    l->st_slot = adb_calloc(l->slots, sizeof *l->st_slot);
    if (!l->st || !l->st_slot) return ACCTDB_ERR_NOMEM;
    l->bytes[l->slots - 1] += sysvars_bytes(sv);
    for (uint32_t k = 0; k < l->slots; k++) {
        if (!l->bytes[k]) continue; /* never an empty account file */
        l->st[l->st_cnt] = (adb_snap_storage_t){l->first_slot + k, l->st_cnt + 1, l->bytes[k]};
        l->st_slot[l->st_cnt++] = k;
    }
    return 0;
}

/* Full archive: final versions at f, old versions at o. */
static int
layout_full(gen_t const *g, layout_t *l, uint64_t *records_out) {
    memset(l, 0, sizeof *l);
    l->slots = g->s;
    l->first_slot = SLOT0;
    l->start = adb_calloc((size_t)g->s + 1, sizeof *l->start);
    l->bytes = adb_calloc(g->s, sizeof *l->bytes);
    if (!l->start || !l->bytes) return ACCTDB_ERR_NOMEM;
    uint64_t total = 0;
    for (uint64_t i = 0; i < g->n; i++) {
        plan_t p;
        plan(g, i, &p);
        l->start[p.f + 1]++;
        l->bytes[p.f] += adb_acct_rec_sz(p.closed ? 0 : p.data_len);
        total++;
        if (p.o != REC_NONE) {
            l->start[p.o + 1]++;
            l->bytes[p.o] += adb_acct_rec_sz(p.data_len);
            total++;
        }
    }
    for (uint32_t k = 0; k < g->s; k++)
        l->start[k + 1] += l->start[k];
    l->rec = adb_malloc((total ? total : 1) * sizeof *l->rec);
    uint64_t *fill = adb_malloc((size_t)g->s * sizeof *fill);
    if (!l->rec || !fill) {
        adb_free(fill);
        return ACCTDB_ERR_NOMEM;
    }
    memcpy(fill, l->start, (size_t)g->s * sizeof *fill);
    for (uint64_t i = 0; i < g->n; i++) {
        plan_t p;
        plan(g, i, &p);
        if (p.o != REC_NONE) l->rec[fill[p.o]++] = (uint32_t)(i * 4 + V_OLD);
        l->rec[fill[p.f]++] = (uint32_t)(i * 4 + V_FINAL);
    }
    adb_free(fill);
    *records_out = total;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct emit_ctx {
    gen_t const     *g;
    layout_t const  *l;
    sysvars_t const *sv;
    uint8_t         *buf;
    size_t           cap, used;
    uint8_t         *data;
    size_t           data_cap;
    uint64_t         done, total;
} emit_ctx_t;

static int
emit_rec(emit_ctx_t *c, adb_snap_out_t *out, acctdb_account_t const *a) {
    uint64_t sz = adb_acct_rec_sz(a->data_len);
    if (sz > c->cap - c->used) {
        ADB_TRY(adb_snap_out_data(out, c->buf, c->used));
        c->used = 0;
    }
    if (sz > c->cap) {
        uint8_t *nb = adb_realloc(c->buf, (size_t)sz);
        if (!nb) return ACCTDB_ERR_NOMEM;
        c->buf = nb;
        c->cap = (size_t)sz;
    }
    c->used += (size_t)adb_acct_rec_write(c->buf + c->used, a);
    return 0;
}

static int
ensure_data(emit_ctx_t *c, size_t n) {
    if (n <= c->data_cap) return 0;
    uint8_t *nb = adb_realloc(c->data, n);
    if (!nb) return ACCTDB_ERR_NOMEM;
    c->data = nb;
    c->data_cap = n;
    return 0;
}

/* The account written for record r (index*4 + kind) of the full archive or
 * the incremental one. */
static int
record_account(emit_ctx_t *c, uint32_t r, acctdb_account_t *a) {
    uint64_t i = r / 4;
    unsigned kind = r % 4;
    plan_t   p;
    plan(c->g, i, &p);
    if (kind == V_INC) {
        /* Incremental change: the plan's class, tag 2; a change may close. */
        adb_rng_t x = adb_rng_at(c->g->o.seed, i, 7);
        if (i < c->g->n && adb_rng_next(&x) % 100 < 5) {
            memset(a, 0, sizeof *a);
            pubkey_of(c->g, i, a->pubkey.b);
            return 0;
        }
        ADB_TRY(ensure_data(c, p.data_len));
        version_of(c->g, i, &p, 2, a, c->data);
        return 0;
    }
    if (kind == V_FINAL && p.closed) {
        memset(a, 0, sizeof *a);
        pubkey_of(c->g, i, a->pubkey.b);
        return 0;
    }
    ADB_TRY(ensure_data(c, p.data_len));
    version_of(c->g, i, &p, kind == V_OLD ? 1 : 0, a, c->data);
    return 0;
}

static int
emit_storage(void *ctx, size_t i, adb_snap_out_t *out) {
    emit_ctx_t     *c = ctx;
    layout_t const *l = c->l;
    uint32_t        k = l->st_slot[i];
    c->used = 0;
    for (uint64_t r = l->start[k]; r < l->start[k + 1]; r++) {
        acctdb_account_t a;
        ADB_TRY(record_account(c, l->rec[r], &a));
        ADB_TRY(emit_rec(c, out, &a));
    }
    if (k == l->slots - 1)
        for (int s = 0; s < c->sv->cnt; s++)
            ADB_TRY(emit_rec(c, out, &c->sv->acct[s]));
    ADB_TRY(adb_snap_out_data(out, c->buf, c->used));
    c->done += l->st[i].size;
    if (c->g->o.progress) c->g->o.progress(c->g->o.progress_ctx, "writing", c->done, c->total);
    return 0;
}

/* ---- bank state: manifest and status cache ------------------------------ */

static int
build_manifest(gen_t const *g, uint64_t slot, totals_t const *t, sysvars_t *sv, adb_manifest_t *m) {
    adb_manifest_init(m);
    adb_bank_fields_t  ob;
    adb_extra_fields_t ox;
    gen_origin(g, &ob, &ox);
    adb_bank_origin_t   o = {&ob, &ox};
    acctdb_bank_info_t *root = &sv->chain[0];
    memcpy(root->lt_hash.v, t->lt.v, sizeof t->lt.v);
    root->capitalization = t->lamports;
    root->accounts_data_len = t->data_len;
    adb_bank_src_t src = {sv_get, sv_each, sv};
    ADB_TRY(adb_bank_fields_make(&o, sv->chain, GEN_CHAIN, &sv->st, &src, &m->mem, &m->bank,
                                 &m->extra));
    hash_of(g, "ld", slot, m->bank.leader_id.b);
    m->present_cnt = ADB_MANIFEST_F_ALL;
    m->accounts_db.slot = slot;
    return 0;
}

/* Deltas for the 300 most recent slots (all rooted, all in SlotHistory). */
static int
build_status_cache(gen_t const *g, uint64_t slot, uint8_t **buf_out, size_t *sz_out) {
    adb_status_cache_t sc;
    adb_status_cache_init(&sc);
    uint64_t             n = ADB_MIN(slot + 1, (uint64_t)ADB_STATUS_CACHE_MAX_ENTRIES);
    adb_slot_delta_t    *d = adb_status_cache_alloc(&sc, n * sizeof *d);
    adb_status_bucket_t *bk = adb_status_cache_alloc(&sc, n * sizeof *bk);
    adb_status_entry_t  *en = adb_status_cache_alloc(&sc, n * 2 * sizeof *en);
    int                  rc = ACCTDB_ERR_NOMEM;
    if (d && bk && en) {
        for (uint64_t k = 0; k < n; k++) {
            uint64_t  s = slot - k;
            adb_rng_t r = adb_rng_at(g->o.seed, s, 11);
            hash_of(g, "bh", s, bk[k].blockhash.b);
            bk[k].key_index = adb_rng_next(&r) % 12;
            bk[k].entries = &en[2 * k];
            bk[k].entries_cnt = 2;
            adb_rng_fill(&r, en[2 * k].key_slice, 20);
            adb_rng_fill(&r, en[2 * k + 1].key_slice, 20);
            en[2 * k + 1].result = (adb_tx_result_t){.is_err = true,
                                                     .tx_err = ADB_TX_ERR_INSTRUCTION_ERROR,
                                                     .index = 0,
                                                     .ix_err = ADB_IX_ERR_CUSTOM,
                                                     .custom = (uint32_t)(adb_rng_next(&r) % 100)};
            d[k] = (adb_slot_delta_t){s, true, &bk[k], 1};
        }
        sc.deltas = d;
        sc.deltas_cnt = n;
        rc = adb_status_cache_encode_buf(&sc, buf_out, sz_out);
    }
    adb_status_cache_fini(&sc);
    return rc;
}

/* ---- driver ------------------------------------------------------------- */

static int
gen_init(gen_t *g, adb_gen_opts_t const *o, adb_err_t *err) {
    memset(g, 0, sizeof *g);
    g->o = *o;
    g->n = o->accounts;
    if (g->n == 0 || g->n >= (1ull << 30))
        return adb_err_set(err, ACCTDB_ERR_INVALID, "--accounts must be 1 .. 2^30-1");
    uint64_t s = o->slots ? o->slots : ADB_MIN(ADB_MAX(g->n / 1000, 10u), 4000u);
    if (s > 1000000) return adb_err_set(err, ACCTDB_ERR_INVALID, "--slots must be <= 1000000");
    g->s = (uint32_t)s;
    g->full_slot = SLOT0 + s - 1;
    if (!g->o.max_bytes) g->o.max_bytes = 8ull << 30;
    acctdb_cluster_opts_default(&g->cl);
    g->cl.seed = o->seed;
    if (o->validators) g->cl.validators = o->validators;
    if (o->slots_per_epoch) g->cl.slots_per_epoch = o->slots_per_epoch;
    g->cl.warmup = o->warmup;
    ADB_TRY(adb_sim_cluster_check(&g->cl, err));
    g->es = adb_sim_cluster_schedule(&g->cl);
    if (!g->o.threads) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        g->o.threads = c > 0 ? (unsigned)c : 1;
    }
    return 0;
}

int
adb_gen_estimate(adb_gen_opts_t const *o, uint64_t *bytes_out, uint64_t *records_out) {
    gen_t    *g = adb_malloc(sizeof *g);
    adb_err_t e = {0};
    if (!g) return ACCTDB_ERR_NOMEM;
    int rc = gen_init(g, o, &e);
    *bytes_out = *records_out = 0;
    for (uint64_t i = 0; !rc && i < g->n; i++) {
        plan_t p;
        plan(g, i, &p);
        *bytes_out += adb_acct_rec_sz(p.closed ? 0 : p.data_len);
        ++*records_out;
        if (p.o != REC_NONE) {
            *bytes_out += adb_acct_rec_sz(p.data_len);
            ++*records_out;
        }
    }
    adb_free(g);
    return rc;
}

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Incremental: changes[0..m) as account indices (new accounts >= n), each
 * at a slot offset in [0, k). */
typedef struct change {
    uint64_t i;
    uint32_t at;
} change_t;

static int
cmp_change(void const *a, void const *b) {
    change_t const *x = a, *y = b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int
run_incremental(gen_t *g, totals_t const *full_t, sysvars_t const *full_sv, adb_gen_result_t *out,
                adb_err_t *err) {
    uint64_t       m = g->o.incremental;
    uint32_t       k = (uint32_t)ADB_MIN(ADB_MAX(m / 1000, 1u), 100u);
    uint64_t       base = g->full_slot, slot = base + k;
    change_t      *ch = adb_malloc((size_t)m * sizeof *ch);
    uint8_t       *seen = adb_calloc((size_t)(g->n + 7) / 8, 1);
    sysvars_t     *sv = adb_calloc(1, sizeof *sv);
    emit_ctx_t     ec = {.g = g, .sv = sv};
    layout_t       l = {0};
    adb_manifest_t man;
    uint8_t       *scb = NULL;
    size_t         scsz = 0;
    int            rc = 0;
    adb_manifest_init(&man);
    if (!ch || !seen || !sv) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    uint64_t cnt = 0, fresh = 0;
    for (uint64_t c = 0; c < m; c++) {
        adb_rng_t r = adb_rng_at(g->o.seed, c, 8);
        uint64_t  i;
        if (adb_rng_next(&r) % 100 < 5) {
            i = g->n + fresh++;
        } else {
            int tries = 0;
            do
                i = adb_rng_next(&r) % g->n;
            while ((seen[i / 8] >> (i % 8) & 1) && ++tries < 16);
            if (seen[i / 8] >> (i % 8) & 1) continue;
            seen[i / 8] |= (uint8_t)(1u << (i % 8));
        }
        ch[cnt++] = (change_t){i, (uint32_t)(adb_rng_next(&r) % k)};
    }
    qsort(ch, cnt, sizeof *ch, cmp_change);

    /* State after the changes: mix out the previous live version of each
     * changed account, mix in the new one, and the same for the sysvars. */
    totals_t t = *full_t;
    if ((rc = sysvars_build(g, slot, sv))) goto cleanup;
    for (int s = 0; s < 5; s++) { /* SlotHistory, Clock, SlotHashes, RecentBlockhashes,
                                   * StakeHistory: what a new bank rewrites */
        totals_sub(&t, &full_sv->acct[s]);
        adb_lthash_sub_accounts(&t.lt, &full_sv->acct[s], 1, ACCTDB_LTHASH_CURRENT);
        totals_add(&t, &sv->acct[s]);
        adb_lthash_add_accounts(&t.lt, &sv->acct[s], 1, ACCTDB_LTHASH_CURRENT);
    }
    l.slots = k;
    l.first_slot = base + 1;
    l.start = adb_calloc((size_t)k + 1, sizeof *l.start);
    l.bytes = adb_calloc(k, sizeof *l.bytes);
    l.rec = adb_malloc((cnt ? cnt : 1) * sizeof *l.rec);
    if (!l.start || !l.bytes || !l.rec) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (uint64_t c = 0; c < cnt; c++) {
        uint64_t i = ch[c].i;
        plan_t   p;
        plan(g, i, &p);
        acctdb_account_t a;
        if (i < g->n && !p.closed) { /* the live version it replaces */
            if ((rc = ensure_data(&ec, p.data_len))) goto cleanup;
            version_of(g, i, &p, 0, &a, ec.data);
            totals_sub(&t, &a);
            adb_lthash_sub_accounts(&t.lt, &a, 1, ACCTDB_LTHASH_CURRENT);
        }
        l.rec[c] = (uint32_t)(i * 4 + V_INC);
        if ((rc = record_account(&ec, l.rec[c], &a))) goto cleanup;
        totals_add(&t, &a);
        if (a.lamports) adb_lthash_add_accounts(&t.lt, &a, 1, ACCTDB_LTHASH_CURRENT);
        l.start[ch[c].at + 1]++;
        l.bytes[ch[c].at] += adb_acct_rec_sz(a.data_len);
    }
    for (uint32_t s = 0; s < k; s++)
        l.start[s + 1] += l.start[s];
    /* Only those five change; they go into the last slot. */
    sv->cnt = 5;
    if ((rc = layout_storages(&l, sv))) goto cleanup;

    if ((rc = build_manifest(g, slot, &t, sv, &man)) ||
        (rc = build_status_cache(g, slot, &scb, &scsz))) {
        adb_err_set(err, rc, "building the incremental bank state: %s", acctdb_strerror(rc));
        goto cleanup;
    }
    ec.l = &l;
    ec.cap = 4u << 20;
    ec.buf = adb_malloc(ec.cap);
    ec.total = 0;
    for (size_t s = 0; s < l.st_cnt; s++)
        ec.total += l.st[s].size;
    if (!ec.buf) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    adb_snap_write_opts_t wo = {.workers = g->o.threads, .incremental = true, .base_slot = base};
    rc = adb_snap_write(g->o.out_dir, &man, scb, scsz, l.st, l.st_cnt, emit_storage, &ec, &wo,
                        out->inc_path, NULL, err);
    if (rc) goto cleanup;
    adb_snap_write_stats_t ws;
    adb_snap_write_last_stats(&ws);
    out->inc_slot = slot;
    out->inc_records = cnt + 5;
    out->inc_live = t.live;
    out->inc_capitalization = t.lamports;
    out->inc_compressed_sz = ws.compressed_sz;
cleanup:
    adb_free(ec.buf);
    adb_free(ec.data);
    adb_free(ch);
    adb_free(seen);
    if (sv) adb_bank_state_fini(&sv->st);
    adb_free(sv);
    adb_free(scb);
    layout_fini(&l);
    adb_manifest_fini(&man);
    return rc;
}

int
adb_gen_run(adb_gen_opts_t const *o, adb_gen_result_t *out, adb_err_t *err) {
    memset(out, 0, sizeof *out);
    if (!o || !o->out_dir) return adb_err_set(err, ACCTDB_ERR_INVALID, "no output directory");
    gen_t         *g = adb_malloc(sizeof *g);
    sysvars_t     *sv = adb_calloc(1, sizeof *sv);
    layout_t       l = {0};
    emit_ctx_t     ec = {0};
    adb_manifest_t man;
    uint8_t       *scb = NULL;
    size_t         scsz = 0;
    totals_t       t;
    int            rc;
    adb_manifest_init(&man);
    if (!g || !sv) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = gen_init(g, o, err))) goto cleanup;
    double   t0 = now_s();
    uint64_t records;
    if ((rc = layout_full(g, &l, &records)) || (rc = sysvars_build(g, g->full_slot, sv)) ||
        (rc = layout_storages(&l, sv))) {
        adb_err_set(err, rc, "planning: %s", acctdb_strerror(rc));
        goto cleanup;
    }
    uint64_t bytes = 0;
    for (size_t s = 0; s < l.st_cnt; s++)
        bytes += l.st[s].size;
    out->records = records + (uint64_t)sv->cnt;
    out->account_bytes = bytes;
    out->mean_record_sz = (double)bytes / (double)out->records;
    if (bytes > g->o.max_bytes) {
        rc = adb_err_set(err, ACCTDB_ERR_FULL,
                         "the account files would take %llu bytes, over --max-bytes %llu; "
                         "nothing was written",
                         (unsigned long long)bytes, (unsigned long long)g->o.max_bytes);
        goto cleanup;
    }
    if ((rc = hash_live(g, g->o.threads, &t))) {
        adb_err_set(err, rc, "hashing: %s", acctdb_strerror(rc));
        goto cleanup;
    }
    for (int s = 0; s < sv->cnt; s++) {
        totals_add(&t, &sv->acct[s]);
        adb_lthash_add_accounts(&t.lt, &sv->acct[s], 1, ACCTDB_LTHASH_CURRENT);
    }
    out->live = t.live;
    out->capitalization = t.lamports;
    /* The cluster's genesis, which the archives' genesis fields match. */
    snprintf(out->genesis_path, sizeof out->genesis_path, "%s/genesis.bin", g->o.out_dir);
    {
        char m[512];
        if ((rc = acctdb_cluster_genesis_write(&g->cl, out->genesis_path, m, sizeof m))) {
            adb_err_set(err, rc, "%s", m);
            goto cleanup;
        }
    }
    if ((rc = build_manifest(g, g->full_slot, &t, sv, &man)) ||
        (rc = build_status_cache(g, g->full_slot, &scb, &scsz))) {
        adb_err_set(err, rc, "building the bank state: %s", acctdb_strerror(rc));
        goto cleanup;
    }
    out->gen_s = now_s() - t0;
    t0 = now_s();
    ec = (emit_ctx_t){.g = g, .l = &l, .sv = sv, .cap = 4u << 20, .total = bytes};
    ec.buf = adb_malloc(ec.cap);
    if (!ec.buf) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    adb_snap_write_opts_t wo = {.workers = g->o.threads};
    rc = adb_snap_write(g->o.out_dir, &man, scb, scsz, l.st, l.st_cnt, emit_storage, &ec, &wo,
                        out->full_path, NULL, err);
    if (rc) goto cleanup;
    adb_snap_write_stats_t ws;
    adb_snap_write_last_stats(&ws);
    out->compressed_sz = ws.compressed_sz;
    out->full_slot = g->full_slot;
    if (g->o.incremental) rc = run_incremental(g, &t, sv, out, err);
    out->write_s = now_s() - t0;
cleanup:
    adb_free(ec.buf);
    adb_free(ec.data);
    layout_fini(&l);
    adb_manifest_fini(&man);
    adb_free(scb);
    if (sv) adb_bank_state_fini(&sv->st);
    adb_free(sv);
    adb_free(g);
    return rc;
}

int
acctdb_snapshot_gen(acctdb_gen_opts_t const *opts, acctdb_gen_result_t *out, char *msg_out,
                    size_t msg_max) {
    if (!opts || !out) return ACCTDB_ERR_INVALID;
    adb_err_t e = {0};
    int       rc = adb_gen_run(opts, out, &e);
    if (msg_out && msg_max) snprintf(msg_out, msg_max, "%s", rc ? e.msg : "");
    return rc;
}
