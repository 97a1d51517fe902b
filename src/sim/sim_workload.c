/* src/sim/sim_workload.c - acctdb_db_workload: a synthetic validator load.
 *
 * Built on the public acctdb_db_* calls only (what a validator would use);
 * the internals it touches are the per-thread message of a failed call,
 * which it prefixes with the call and slot, and the handle's last error
 * (acctdb_db_errmsg), where that message ends up.
 *
 * State of a run:
 *
 *   root ── chain[0] ── chain[1] ── ... ── chain[len-1]   the surviving fork
 *     (a fork point P)  \
 *                        side[k]: tip, fork point P, banks, more to grow
 *
 *   each slot s = root0 + 1, root0 + 2, ...:
 *     pick a parent:  FORK  sibling of chain[len-1] (parent chain[len-2] or
 *                           the root); a coin says which one survives
 *                     SIDE  extend a side fork that may still grow
 *                     MAIN  extend chain[len-1] (or the root)
 *     bank_begin -> store(batch) -> freeze -> loads
 *     if s is on the surviving fork and len > root_lag: root
 *       chain[len-1-root_lag]; side forks whose fork point is now below the
 *       root are dead (the engine killed them), their banks counted.
 *
 * Invariants:
 *   1. chain[] holds the frozen, unrooted banks of the surviving fork in
 *      slot order; chain[0]'s parent is the root.
 *   2. A side fork's fork point P is the root or in chain[]; it is alive
 *      exactly while P >= root.
 *   3. Every random choice comes from one stream (acctdb_rng_t) seeded by
 *      opts.seed, consumed in a fixed order, except a token account's mint
 *      and wallet, which come from a stream of its pubkey: the same root,
 *      options and seed give the same banks.
 *
 * New accounts are drawn from the account mix (acctdb_mix_draw); an
 * account's next versions keep its shape (size, owner) and get contents
 * from acctdb_mix_account. */
#include "sim/sim.h"

#include "api/api_private.h"
#include "db/db.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define WL_FORKS_MAX     64u
#define WL_STORES_MAX    1000000u
#define WL_LAG_MAX       100000u
#define WL_KNOWN_MAX     (1u << 26)
#define WL_DISCOVER_DATA (64u << 10) /* discovered accounts' data at most */
#define WL_LOAD_BATCH    64u

void
acctdb_workload_opts_default(acctdb_workload_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->forks = 1;
    o->stores_min = 2000;
    o->stores_max = 5000;
    o->new_account_frac = 0.1;
    o->close_frac = 0.01;
    o->fork_frac = 0.1;
    o->root_lag = 32;
    o->known_max = 262144;
}

/* ---- helpers ------------------------------------------------------------- */

/* BLAKE3(label, a, b) as 32 bytes: pubkeys and hashes of the workload. */
static void
derive(uint8_t out[32], char const *label, uint64_t a, uint64_t b) {
    acctdb_blake3_t h;
    acctdb_blake3_init(&h);
    acctdb_blake3_update(&h, label, strlen(label));
    acctdb_blake3_update(&h, &a, sizeof a);
    acctdb_blake3_update(&h, &b, sizeof b);
    acctdb_blake3_finalize(&h, out, 32);
}

/* ---- the run -------------------------------------------------------------- */

#define K_FOUND 0x1 /* found in the database, never closed */
#define K_EXEC  0x2 /* the mix shape's executable */

/* A remembered account: enough to write a plausible next version.  Its
 * mix shape is (data_len, cls, flags & K_EXEC, program); an account found
 * in the database is TOKEN (owned by the token program) or EMPTY (by the
 * system program), whatever its size. */
typedef struct known {
    acctdb_pubkey_t pubkey;
    uint64_t        lamports;
    uint32_t        data_len;
    uint8_t         cls; /* acctdb_mix_class_t */
    uint8_t         program;
    uint8_t         flags; /* K_* */
} known_t;

typedef struct side {
    uint64_t tip, point; /* newest bank; the fork point on the surviving fork */
    uint64_t banks;      /* banks on this fork */
    uint32_t more;       /* banks it may still grow */
} side_t;

typedef struct wl {
    acctdb_db_t                  *db;
    acctdb_workload_opts_t const *o;
    acctdb_workload_result_t     *r;
    acctdb_rng_t                  rng;
    uint64_t                      root;
    uint64_t                     *chain;
    uint32_t                      chain_len;
    side_t                        side[WL_FORKS_MAX];
    uint32_t                      side_cnt;
    known_t                      *known;
    uint32_t                      known_cnt;
    uint64_t                      new_seq;
    int64_t                       ts0; /* Clock timestamp of the starting root */
    acctdb_pubkey_t               token_program;
    /* one batch */
    acctdb_account_t *batch;
    uint64_t         *data_off;
    uint8_t          *arena;
    size_t            arena_cap;
    /* loads */
    acctdb_pubkey_t  *lkeys;
    acctdb_account_t *lout;
    int              *lrc;
    uint8_t          *lbuf;
    size_t            lbuf_sz;
    uint64_t          roots_since_service;
} wl_t;

/* Prefixes the engine's message of a failed call (this thread's).  The
 * engine's message is first-error-sticky and never cleared by the calls
 * themselves, so the run clears it when it starts and here. */
static int
fail(acctdb_db_t *db, int rc, char const *what, uint64_t slot) {
    adb_err_t  *e = adb_eng_err();
    char        m[sizeof e->msg];
    char const *hm = acctdb_db_errmsg(db); /* a public call's message is the handle's */
    snprintf(m, sizeof m, "%s",
             e->code && e->msg[0] ? e->msg
             : hm && hm[0]        ? hm
                                  : acctdb_strerror(rc));
    adb_err_clear(e);
    return adb_err_set(e, rc, "workload: %s at slot %llu: %s", what, (unsigned long long)slot, m);
}

static int
bad_opt(char const *what) {
    adb_err_clear(adb_eng_err());
    return adb_err_set(adb_eng_err(), ACCTDB_ERR_INVALID, "workload: %s", what);
}

static int
oom(void) {
    adb_err_clear(adb_eng_err());
    return adb_err_set(adb_eng_err(), ACCTDB_ERR_NOMEM, "workload: out of memory");
}

static int
check_opts(acctdb_workload_opts_t const *o) {
    if (o->forks < 1 || o->forks > WL_FORKS_MAX) return bad_opt("forks must be 1 to 64");
    if (o->stores_min > o->stores_max) return bad_opt("stores_min is above stores_max");
    if (o->stores_max > WL_STORES_MAX) return bad_opt("stores_max must be at most 1000000");
    if (!(o->new_account_frac >= 0 && o->new_account_frac <= 1))
        return bad_opt("new_account_frac must be from 0 to 1");
    if (!(o->close_frac >= 0 && o->close_frac <= 1))
        return bad_opt("close_frac must be from 0 to 1");
    if (o->new_account_frac + o->close_frac > 1)
        return bad_opt("new_account_frac + close_frac must be at most 1");
    if (!(o->fork_frac >= 0 && o->fork_frac <= 1)) return bad_opt("fork_frac must be from 0 to 1");
    if (o->root_lag > WL_LAG_MAX) return bad_opt("root_lag must be at most 100000");
    if (o->known_max < 16 || o->known_max > WL_KNOWN_MAX)
        return bad_opt("known_max must be from 16 to 67108864");
    if (o->loads_per_store > 1000) return bad_opt("loads_per_store must be at most 1000");
    if (o->slots > UINT64_MAX / 4) return bad_opt("slots is too large");
    return 0;
}

/* ---- back-pressure ----------------------------------------------------------- */

/* A store the write cache had no room for (FULL): the flush and purge
 * services run once here (with background off that is the workload's job
 * anyway; with it on, it frees what the threads had not reached within
 * write_cache_wait_ms), and the caller retries once.  A second FULL stops
 * the run with the engine's message (say, root_lag banks that do not fit
 * the cache: nothing rooted to flush). */
static int
make_room(wl_t *w, uint64_t slot) {
    static acctdb_service_t const svc[] = {ACCTDB_SERVICE_PURGE, ACCTDB_SERVICE_FLUSH};
    for (size_t i = 0; i < sizeof svc / sizeof svc[0]; i++) {
        int rc = acctdb_db_service_step(w->db, svc[i]);
        if (rc < 0) return fail(w->db, rc, "service step (the write cache was full)", slot);
    }
    return 0;
}

/* ---- remembered accounts --------------------------------------------------- */

static void
remember(wl_t *w, known_t const *x) {
    if (x->flags & K_FOUND) w->r->discovered++;
    if (w->known_cnt < w->o->known_max) {
        w->known[w->known_cnt++] = *x;
        return;
    }
    /* Full: forget a cold one (the hot, older half stays). */
    uint32_t half = w->known_cnt / 2;
    w->known[half + acctdb_rng_below(&w->rng, w->known_cnt - half)] = *x;
}

typedef struct disc_ctx {
    wl_t   *w;
    uint8_t cls;
} disc_ctx_t;

static int
disc_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    disc_ctx_t *c = ctx;
    if (a->data_len <= WL_DISCOVER_DATA && !a->executable && c->w->known_cnt < c->w->o->known_max) {
        known_t x = {a->pubkey, a->lamports, (uint32_t)a->data_len, c->cls, 0, K_FOUND};
        remember(c->w, &x);
    }
    return 0;
}

/* The system- and token-program accounts of the root, in pubkey order, up
 * to half the ring each. */
static int
discover(wl_t *w) {
    acctdb_pubkey_t const owners[2] = {{{0}}, w->token_program};
    for (int i = 0; i < 2; i++) {
        acctdb_scan_filter_t f = {.owner = owners[i]};
        disc_ctx_t           c = {w, i == 0 ? ACCTDB_MIX_EMPTY : ACCTDB_MIX_TOKEN};
        acctdb_pubkey_t      next;
        bool                 more;
        int rc = acctdb_db_scan(w->db, w->root, &f, NULL, w->o->known_max / 2, disc_cb, &c, &next,
                                &more);
        if (rc == ACCTDB_ERR_UNSUPPORTED) { /* no owner index: start empty */
            adb_err_clear(adb_eng_err());
            return 0;
        }
        if (rc) return fail(w->db, rc, "scan", w->root);
    }
    return 0;
}

/* Index of an account to update: a steep power law over the ring (older
 * entries, at low indices, are the hot ones). */
static uint32_t
pick_hot(wl_t *w) {
    double u = acctdb_rng_unit(&w->rng);
    u = u * u;
    u = u * u;
    uint32_t i = (uint32_t)(u * (double)w->known_cnt);
    return i < w->known_cnt ? i : w->known_cnt - 1;
}

/* ---- one batch ------------------------------------------------------------- */

static uint8_t *
arena_take(wl_t *w, size_t *used, size_t n, uint64_t *off_out) {
    if (*used + n > w->arena_cap) {
        size_t cap = w->arena_cap ? w->arena_cap : (1u << 20);
        while (cap < *used + n)
            cap *= 2;
        uint8_t *a = adb_realloc(w->arena, cap);
        if (!a) return NULL;
        w->arena = a;
        w->arena_cap = cap;
    }
    *off_out = *used;
    *used += n;
    return w->arena + *off_out;
}

/* Fills one store of account x (data in the arena): its mix shape, with
 * contents from acctdb_mix_account.  A token account's mint and wallet
 * stay (a stream of its pubkey), its amount is new; program data is new;
 * data of a found account the mix would not make (a system account with
 * data, a token-program account of another size) is random.  fresh: x is
 * new and takes the mix's lamports; else the store has x's. */
static int
fill(wl_t *w, acctdb_account_t *a, known_t *x, bool fresh, size_t *used, uint64_t *off,
     uint64_t slot) {
    acctdb_mix_shape_t m = {x->data_len, x->cls, (x->flags & K_EXEC) != 0, x->program};
    uint8_t           *d = NULL;
    *off = UINT64_MAX;
    if (x->data_len && !(d = arena_take(w, used, x->data_len, off))) return oom();
    uint64_t ks;
    memcpy(&ks, x->pubkey.b, 8);
    bool         mix_sized = x->cls == ACCTDB_MIX_TOKEN   ? x->data_len == ACCTDB_MIX_TOKEN_SZ
                             : x->cls == ACCTDB_MIX_EMPTY ? x->data_len == 0
                                                          : true;
    acctdb_rng_t s = x->cls == ACCTDB_MIX_TOKEN
                         ? acctdb_rng_seed(ks ^ 0x6f776e6572ull) /* mint and wallet: fixed */
                         : acctdb_rng_seed(slot ^ acctdb_rng_next(&w->rng));
    if (mix_sized) {
        acctdb_mix_account(&m, &s, a, d);
    } else {
        memset(a, 0, sizeof *a);
        a->owner = acctdb_mix_owner(&m);
        a->rent_epoch = UINT64_MAX;
        a->data_len = x->data_len;
        a->data = d;
        acctdb_rng_fill(&s, d, x->data_len);
    }
    a->pubkey = x->pubkey;
    if (x->cls == ACCTDB_MIX_TOKEN && mix_sized)
        adb_store_u64(d + 64, acctdb_rng_below(&w->rng, 1000000000000ull)); /* amount */
    if (fresh)
        x->lamports = a->lamports;
    else
        a->lamports = x->lamports;
    return 0;
}

/* A new account of the mix. */
static void
new_account(wl_t *w, known_t *x) {
    memset(x, 0, sizeof *x);
    derive(x->pubkey.b, "acctdb workload account", w->o->seed ^ (w->r->start_root << 20),
           w->new_seq++);
    acctdb_mix_shape_t m = acctdb_mix_draw(&w->rng);
    x->data_len = m.data_len;
    x->cls = m.cls;
    x->program = (uint8_t)m.program;
    x->flags = m.executable ? K_EXEC : 0;
}

/* Builds and stores slot's batch (the bank exists: bank_begin). */
static int
store_batch(wl_t *w, uint64_t slot, uint64_t parent, uint32_t *n_out) {
    acctdb_workload_opts_t const *o = w->o;
    uint32_t                      n =
        o->stores_min + (uint32_t)acctdb_rng_below(&w->rng, o->stores_max - o->stores_min + 1ull);
    size_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        double   u = acctdb_rng_unit(&w->rng);
        known_t  x;
        uint64_t off;
        int      rc;
        if (!w->known_cnt || u < o->new_account_frac) {
            new_account(w, &x);
            rc = fill(w, &w->batch[i], &x, true, &used, &off, slot);
            remember(w, &x);
            w->r->new_accounts++;
        } else {
            known_t *k = NULL;
            if (u < o->new_account_frac + o->close_frac && w->known_cnt > 1) {
                /* A cold account is closed and forgotten (one found in the
                 * database is updated instead: its lamports stay). */
                uint32_t half = w->known_cnt / 2;
                uint32_t c = half + (uint32_t)acctdb_rng_below(&w->rng, w->known_cnt - half);
                k = &w->known[c];
                if (!(k->flags & K_FOUND)) {
                    memset(&w->batch[i], 0, sizeof w->batch[i]);
                    w->batch[i].pubkey = k->pubkey;
                    w->data_off[i] = UINT64_MAX;
                    *k = w->known[--w->known_cnt];
                    w->r->closed++;
                    continue;
                }
            }
            if (!k) k = &w->known[pick_hot(w)];
            if (k->cls == ACCTDB_MIX_EMPTY) {
                /* lamports move: +-1 SOL at most, never below 0.001 SOL */
                uint64_t d = acctdb_rng_below(&w->rng, 1000000000ull);
                k->lamports = acctdb_rng_next(&w->rng) & 1 || k->lamports < 1000000 + d
                                  ? k->lamports + d
                                  : k->lamports - d;
            }
            rc = fill(w, &w->batch[i], k, false, &used, &off, slot);
            w->r->updates++;
        }
        if (rc) return rc;
        w->data_off[i] = off;
    }
    for (uint32_t i = 0; i < n; i++)
        if (w->data_off[i] != UINT64_MAX) w->batch[i].data = w->arena + w->data_off[i];
    int rc = acctdb_db_store(w->db, slot, parent, w->batch, n);
    if (rc == ACCTDB_ERR_FULL) { /* nothing was stored: again, after making room */
        if ((rc = make_room(w, slot)) != 0) return rc;
        rc = acctdb_db_store(w->db, slot, parent, w->batch, n);
    }
    if (rc) return fail(w->db, rc, "store", slot);
    w->r->stores += n;
    *n_out = n;
    return 0;
}

/* ---- loads ----------------------------------------------------------------- */

/* A live slot at random: the root, a bank of the surviving fork, or the
 * tip of a live side fork. */
static uint64_t
live_slot(wl_t *w) {
    uint64_t c = acctdb_rng_below(&w->rng, 1ull + w->chain_len + w->side_cnt);
    if (c == 0) return w->root;
    if (c <= w->chain_len) return w->chain[c - 1];
    return w->side[c - 1 - w->chain_len].tip;
}

static int
do_loads(wl_t *w, uint64_t total) {
    while (total && w->known_cnt) {
        uint32_t n = total < WL_LOAD_BATCH ? (uint32_t)total : WL_LOAD_BATCH;
        uint64_t slot = live_slot(w);
        for (uint32_t i = 0; i < n; i++)
            w->lkeys[i] = w->known[pick_hot(w)].pubkey;
        int rc =
            acctdb_db_load_batch(w->db, slot, w->lkeys, n, w->lout, w->lbuf, w->lbuf_sz, w->lrc);
        if (rc) return fail(w->db, rc, "load_batch", slot);
        for (uint32_t i = 0; i < n; i++) {
            if (w->lrc[i] == ACCTDB_ERR_NOT_FOUND) {
                w->r->load_misses++;
            } else if (w->lrc[i] == ACCTDB_ERR_FULL) {
                /* Bigger than the batch buffer left: one load of its own. */
                size_t   sz = (size_t)w->lout[i].data_len;
                uint8_t *b = adb_malloc(sz ? sz : 1);
                if (!b) return oom();
                acctdb_account_t a;
                rc = acctdb_db_load(w->db, slot, &w->lkeys[i], &a, b, sz, NULL);
                adb_free(b);
                if (rc == ACCTDB_ERR_NOT_FOUND)
                    w->r->load_misses++;
                else if (rc)
                    return fail(w->db, rc, "load", slot);
            } else if (w->lrc[i]) {
                return fail(w->db, w->lrc[i], "load_batch", slot);
            }
        }
        w->r->loads += n;
        total -= n;
    }
    return 0;
}

/* ---- forks and roots ------------------------------------------------------- */

/* Drops side forks the root has passed (the engine killed them). */
static void
prune_sides(wl_t *w) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < w->side_cnt; i++) {
        if (w->side[i].point < w->root)
            w->r->slots_dead += w->side[i].banks;
        else
            w->side[k++] = w->side[i];
    }
    w->side_cnt = k;
}

static int
root_to(wl_t *w, uint32_t idx) {
    uint64_t slot = w->chain[idx];
    int      rc = acctdb_db_root(w->db, slot);
    if (rc) return fail(w->db, rc, "root", slot);
    w->root = slot;
    w->r->slots_rooted += idx + 1;
    memmove(w->chain, w->chain + idx + 1, (w->chain_len - idx - 1) * sizeof *w->chain);
    w->chain_len -= idx + 1;
    prune_sides(w);
    if (w->o->service_every && ++w->roots_since_service >= w->o->service_every) {
        w->roots_since_service = 0;
        for (int s = 0; s < ACCTDB_SERVICE_CNT; s++) {
            rc = acctdb_db_service_step(w->db, (acctdb_service_t)s);
            if (rc < 0) return fail(w->db, rc, "service step", slot);
        }
    }
    return 0;
}

static int
freeze(wl_t *w, uint64_t slot, uint64_t parent, uint32_t n) {
    acctdb_bank_info_t pi;
    int                rc = acctdb_db_bank_info(w->db, parent, &pi);
    if (rc) return fail(w->db, rc, "bank_info of the parent", slot);
    acctdb_bank_meta_t m = {0};
    derive(m.blockhash.b, "acctdb workload blockhash", w->o->seed, slot);
    derive(m.block_id.b, "acctdb workload block id", w->o->seed, slot);
    uint64_t txs = n / 2 + 1;
    m.transaction_count = pi.meta.transaction_count + txs;
    m.signature_count = txs + txs / 8;
    m.unix_timestamp = w->ts0 + (int64_t)((slot - w->r->start_root) * 2 / 5);
    rc = acctdb_db_freeze(w->db, slot, &m, NULL);
    return rc ? fail(w->db, rc, "freeze", slot) : 0;
}

static int
one_slot(wl_t *w, uint64_t slot) {
    acctdb_workload_opts_t const *o = w->o;
    uint64_t                      tip = w->chain_len ? w->chain[w->chain_len - 1] : w->root;
    uint64_t                      parent = tip;
    int                           where = 0; /* 0 main, 1 new side fork, 2 side fork k */
    uint32_t                      k = 0;
    bool                          fork_wins = false;
    if (o->forks > 1 && w->chain_len && w->side_cnt + 1 < o->forks &&
        acctdb_rng_unit(&w->rng) < o->fork_frac) {
        where = 1;
        parent = w->chain_len >= 2 ? w->chain[w->chain_len - 2] : w->root;
        fork_wins = acctdb_rng_next(&w->rng) & 1;
    } else if (w->side_cnt) {
        uint32_t growing = 0;
        for (uint32_t i = 0; i < w->side_cnt; i++)
            growing += w->side[i].more > 0;
        if (growing && acctdb_rng_next(&w->rng) & 1) {
            uint32_t pick = (uint32_t)acctdb_rng_below(&w->rng, growing);
            for (k = 0; k < w->side_cnt; k++)
                if (w->side[k].more && !pick--) break;
            where = 2;
            parent = w->side[k].tip;
        }
    }
    int64_t ts = w->ts0 + (int64_t)((slot - w->r->start_root) * 2 / 5);
    int     rc = acctdb_db_bank_begin(w->db, slot, parent, ts);
    if (rc == ACCTDB_ERR_FULL) {
        if ((rc = make_room(w, slot)) != 0) return rc;
        rc = acctdb_db_bank_begin(w->db, slot, parent, ts);
    }
    if (rc) return fail(w->db, rc, "bank_begin", slot);
    w->r->slots_created++;
    w->r->last_slot = slot;
    uint32_t n = 0;
    if ((rc = store_batch(w, slot, parent, &n)) || (rc = freeze(w, slot, parent, n))) return rc;

    bool on_main = where == 0;
    if (where == 1) {
        w->r->forks_started++;
        side_t *s = &w->side[w->side_cnt++];
        s->point = parent;
        s->banks = 1;
        s->more = (uint32_t)acctdb_rng_below(&w->rng, 4);
        if (fork_wins) {
            /* The new sibling takes over the tip; the old tip loses. */
            s->tip = tip;
            w->chain[w->chain_len - 1] = slot;
        } else {
            s->tip = slot;
        }
    } else if (where == 2) {
        w->side[k].tip = slot;
        w->side[k].banks++;
        w->side[k].more--;
    } else {
        w->chain[w->chain_len++] = slot;
    }
    if ((rc = do_loads(w, o->loads_per_store * n))) return rc;
    if (on_main && w->chain_len > o->root_lag) return root_to(w, w->chain_len - 1 - o->root_lag);
    return 0;
}

/* The Clock sysvar's unix_timestamp at the root (0 if there is none). */
static int64_t
root_timestamp(wl_t *w) {
    acctdb_pubkey_t  ck;
    acctdb_account_t a;
    uint8_t          d[64];
    acctdb_base58_decode_32("SysvarC1ock11111111111111111111111111111111", ck.b);
    if (acctdb_db_load(w->db, w->root, &ck, &a, d, sizeof d, NULL) || a.data_len < 40) return 0;
    int64_t t;
    memcpy(&t, d + 32, 8);
    return t;
}

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int
acctdb_db_workload(acctdb_db_t *db, acctdb_workload_opts_t const *o,
                   acctdb_workload_result_t *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!db || !o || !out) return ACCTDB_ERR_INVALID;
    adb_err_clear(adb_eng_err());
    int rc = check_opts(o);
    if (rc) return adb_api_fail(db, rc, "%s", adb_eng_err()->msg);
    double t0 = now_s();
    wl_t   w = {.db = db, .o = o, .r = out, .rng = {o->seed ^ 0x776f726b6c6f6164ull}};
    w.root = acctdb_db_root_slot(db, NULL);
    if (w.root > UINT64_MAX - o->slots - 1) return bad_opt("slots would pass the largest slot");
    out->start_root = w.root;
    out->first_slot = w.root + 1;
    out->last_slot = w.root;
    acctdb_base58_decode_32("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", w.token_program.b);
    w.chain = adb_malloc(((size_t)o->root_lag + 2) * sizeof *w.chain);
    w.known = adb_malloc((size_t)o->known_max * sizeof *w.known);
    w.batch = adb_malloc(((size_t)o->stores_max + 1) * sizeof *w.batch);
    w.data_off = adb_malloc(((size_t)o->stores_max + 1) * sizeof *w.data_off);
    w.lkeys = adb_malloc(WL_LOAD_BATCH * sizeof *w.lkeys);
    w.lout = adb_malloc(WL_LOAD_BATCH * sizeof *w.lout);
    w.lrc = adb_malloc(WL_LOAD_BATCH * sizeof *w.lrc);
    w.lbuf_sz = (size_t)WL_LOAD_BATCH * 4096;
    w.lbuf = adb_malloc(w.lbuf_sz);
    if (!w.chain || !w.known || !w.batch || !w.data_off || !w.lkeys || !w.lout || !w.lrc || !w.lbuf)
        rc = oom();
    if (!rc) {
        w.ts0 = root_timestamp(&w);
        rc = discover(&w);
    }
    double t_slot = now_s();
    for (uint64_t i = 0; !rc && i < o->slots && !(o->stop && *o->stop); i++) {
        rc = one_slot(&w, out->first_slot + i);
        if (!rc && o->progress) o->progress(o->progress_ctx, "workload", i + 1, o->slots);
        if (!rc && o->slot_us) { /* pace: the slot takes at least slot_us */
            t_slot += o->slot_us * 1e-6;
            double left = t_slot - now_s();
            if (left > 0) {
                struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
                nanosleep(&ts, NULL);
            } else {
                t_slot = now_s(); /* behind: no catching up in a burst */
            }
        }
    }
    /* The failure's message, before the public calls below clear it. */
    char msg[sizeof adb_eng_err()->msg] = "";
    if (rc)
        snprintf(msg, sizeof msg, "%s",
                 adb_eng_err()->msg[0] ? adb_eng_err()->msg : acctdb_strerror(rc));
    out->root_slot = w.root;
    out->tip_slot = w.chain_len ? w.chain[w.chain_len - 1] : w.root;
    out->slots_pending = w.chain_len;
    for (uint32_t i = 0; i < w.side_cnt; i++)
        out->slots_pending += w.side[i].banks;
    if (!rc && acctdb_db_bank_info(db, out->root_slot, &out->root_info)) {
        rc = fail(db, ACCTDB_ERR_INVALID, "bank_info of the root", out->root_slot);
        snprintf(msg, sizeof msg, "%s", adb_eng_err()->msg);
    }
    if (!rc && acctdb_db_bank_info(db, out->tip_slot, &out->tip_info)) {
        rc = fail(db, ACCTDB_ERR_INVALID, "bank_info of the tip", out->tip_slot);
        snprintf(msg, sizeof msg, "%s", adb_eng_err()->msg);
    }
    out->seconds = now_s() - t0;
    adb_free(w.chain);
    adb_free(w.known);
    adb_free(w.batch);
    adb_free(w.data_off);
    adb_free(w.arena);
    adb_free(w.lkeys);
    adb_free(w.lout);
    adb_free(w.lrc);
    adb_free(w.lbuf);
    if (rc) adb_api_fail(db, rc, "%s", msg);
    return rc;
}
