/* src/bank/bank_stakes.c - vote and stake accounts, stake activation, the
 * stakes cache and epoch stakes (see bank.h).
 *
 * Facts (Agave runtime/src/stakes.rs, epoch_stakes.rs, stake_account.rs,
 * vote/src/vote_state_view.rs; solana-stake-interface state.rs; the
 * vote-interface layouts), restated in our words in bank.h.  Everything
 * here is a pure function of its inputs; the accounts come through an
 * adb_bank_src_t, so the same code serves the live engine, a loaded
 * archive and the tests. */
#include "bank/bank.h"

#include "util/base58.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

/* ---- program ids ----------------------------------------------------------- */

static acctdb_pubkey_t g_vote_id, g_stake_id;
static pthread_once_t  g_ids_once = PTHREAD_ONCE_INIT;

static void
ids_init(void) {
    adb_base58_decode_32(ADB_VOTE_PROGRAM_ID, strlen(ADB_VOTE_PROGRAM_ID), g_vote_id.b);
    adb_base58_decode_32(ADB_STAKE_PROGRAM_ID, strlen(ADB_STAKE_PROGRAM_ID), g_stake_id.b);
}

acctdb_pubkey_t const *
adb_vote_program_id(void) {
    pthread_once(&g_ids_once, ids_init);
    return &g_vote_id;
}

acctdb_pubkey_t const *
adb_stake_program_id(void) {
    pthread_once(&g_ids_once, ids_init);
    return &g_stake_id;
}

/* ---- vote accounts ------------------------------------------------------------ */

#define VOTE_V1_14_11_SZ 3731u
#define VOTE_V3_SZ       3762u
#define VOTE_V4_SZ       3762u
#define PRIOR_VOTERS_SZ  1545u /* 32 x (Pubkey, Epoch, Epoch) + idx u64 + is_empty bool */

static bool
all_zero(uint8_t const *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

int
adb_vote_state_decode(uint8_t const *data, size_t sz, adb_vote_state_t *out, adb_err_t *err) {
    memset(out, 0, sizeof *out);
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, data, sz, "vote state");
    uint32_t v = adb_bc_u32(&rd, "version");
    if (adb_bc_ok(&rd) && (v < 1 || v > 3))
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "version %u (1 V1_14_11, 2 V3, 3 V4 are valid)", v);
    out->version = v;
    adb_bc_copy(&rd, out->node.b, 32, "node_pubkey");
    (void)adb_bc_bytes(&rd, 32, "authorized_withdrawer");
    size_t vote_sz = v == 1 ? 12 : 13; /* Lockout, or LandedVote */
    if (v == 3) {
        (void)adb_bc_bytes(&rd, 32 + 32 + 2 + 2 + 8, "collectors and commissions");
        if (adb_bc_option(&rd, "bls_pubkey")) (void)adb_bc_bytes(&rd, 48, "bls_pubkey");
    } else {
        (void)adb_bc_bytes(&rd, 1, "commission");
    }
    uint64_t n = adb_bc_u64(&rd, "votes");
    if (adb_bc_ok(&rd) && n > 255)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%llu votes", (unsigned long long)n);
    (void)adb_bc_bytes(&rd, (size_t)(adb_bc_ok(&rd) ? n : 0) * vote_sz, "votes");
    if (adb_bc_option(&rd, "root_slot")) (void)adb_bc_bytes(&rd, 8, "root_slot");
    n = adb_bc_u64(&rd, "authorized_voters");
    if (adb_bc_ok(&rd) && n > ADB_VOTE_AUTH_MAX)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%llu authorized voters", (unsigned long long)n);
    for (uint64_t i = 0; adb_bc_ok(&rd) && i < n; i++) {
        out->voter_epoch[i] = adb_bc_u64(&rd, "authorized_voters.epoch");
        adb_bc_copy(&rd, out->voter[i].b, 32, "authorized_voters.pubkey");
        out->voters_cnt = (uint32_t)(i + 1);
    }
    if (v != 3) (void)adb_bc_bytes(&rd, PRIOR_VOTERS_SZ, "prior_voters");
    n = adb_bc_u64(&rd, "epoch_credits");
    if (adb_bc_ok(&rd) && n > 255)
        adb_bc_fail(&rd, ACCTDB_ERR_CORRUPT, "%llu epoch credits", (unsigned long long)n);
    out->credits_sane = true;
    uint64_t pe = 0, pc = 0;
    for (uint64_t i = 0; adb_bc_ok(&rd) && i < n; i++) {
        uint64_t e = adb_bc_u64(&rd, "epoch_credits"), c = adb_bc_u64(&rd, "epoch_credits"),
                 p = adb_bc_u64(&rd, "epoch_credits");
        if (p > c || (i && (e < pe || p != pc))) out->credits_sane = false;
        pe = e, pc = c;
        out->credits_cnt = (uint32_t)(i + 1);
    }
    out->last_ts_slot = adb_bc_u64(&rd, "last_timestamp.slot");
    out->last_ts = adb_bc_i64(&rd, "last_timestamp.timestamp");
    if (!adb_bc_ok(&rd)) {
        if (err) *err = rd.err;
        return rd.err.code ? rd.err.code : ACCTDB_ERR_CORRUPT;
    }
    return 0;
}

bool
adb_vote_is_valid(acctdb_account_t const *a) {
    if (!a->lamports || memcmp(a->owner.b, adb_vote_program_id()->b, 32)) return false;
    uint8_t const *d = a->data;
    uint64_t       n = a->data_len;
    bool           sized = (n == VOTE_V4_SZ && d[0] == 3 && d[1] == 0 && d[2] == 0 && d[3] == 0) ||
                 (n == VOTE_V3_SZ && !all_zero(d + 4, 114)) ||
                 (n == VOTE_V1_14_11_SZ && !all_zero(d + 4, 82));
    if (!sized) return false;
    adb_vote_state_t vs;
    return adb_vote_state_decode(d, (size_t)n, &vs, NULL) == 0;
}

bool
adb_vote_authorized_voter(adb_vote_state_t const *vs, uint64_t epoch, acctdb_pubkey_t *out) {
    for (uint32_t i = vs->voters_cnt; i-- > 0;)
        if (vs->voter_epoch[i] <= epoch) {
            *out = vs->voter[i];
            return true;
        }
    return false;
}

/* ---- stake accounts ------------------------------------------------------------- */

#define STAKE_STATE_STAKE 2u
#define STAKE_DELEG_OFF   124u /* tag 4 + Meta 120 */

int
adb_stake_delegation_decode(acctdb_account_t const *a, adb_delegation_t *d_out,
                            uint64_t *credits_out) {
    if (!a->lamports || memcmp(a->owner.b, adb_stake_program_id()->b, 32))
        return ACCTDB_ERR_NOT_FOUND;
    if (a->data_len < 4) return ACCTDB_ERR_CORRUPT;
    uint32_t tag = adb_load_u32(a->data);
    if (tag != STAKE_STATE_STAKE) return tag > 3 ? ACCTDB_ERR_CORRUPT : ACCTDB_ERR_NOT_FOUND;
    if (a->data_len < STAKE_DELEG_OFF + 72 + 1) return ACCTDB_ERR_CORRUPT; /* + StakeFlags */
    uint8_t const *p = a->data + STAKE_DELEG_OFF;
    memcpy(d_out->voter_pubkey.b, p, 32);
    d_out->stake = adb_load_u64(p + 32);
    d_out->activation_epoch = adb_load_u64(p + 40);
    d_out->deactivation_epoch = adb_load_u64(p + 48);
    memcpy(&d_out->warmup_cooldown_rate, p + 56, 8); /* raw bytes */
    if (credits_out) *credits_out = adb_load_u64(p + 64);
    return 0;
}

/* ---- activation (f64, as Agave's legacy Delegation methods) -------------------- */

static adb_stake_history_entry_t const *
hist_get(adb_stake_history_entry_t const *h, size_t n, uint64_t epoch) {
    /* Newest first, usually contiguous: try the index first. */
    if (n && h[0].epoch >= epoch && h[0].epoch - epoch < n && h[h[0].epoch - epoch].epoch == epoch)
        return &h[h[0].epoch - epoch];
    for (size_t i = 0; i < n; i++)
        if (h[i].epoch == epoch) return &h[i];
    return NULL;
}

static double
rate_at(uint64_t epoch, uint64_t new_rate_epoch) {
    return epoch < new_rate_epoch ? 0.25 : 0.09;
}

/* Rust's `f64 as u64`: truncation toward zero, saturating; NaN gives 0. */
static uint64_t
f64_to_u64(double v) {
    if (!(v > 0)) return 0;
    if (v >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)v;
}

/* (effective, activating) of the stake at target, before deactivation. */
static void
stake_and_activating(adb_delegation_t const *d, uint64_t target, adb_stake_history_entry_t const *h,
                     size_t hn, uint64_t nre, uint64_t *eff_out, uint64_t *act_out) {
    uint64_t const D = d->stake;
    if (d->activation_epoch == UINT64_MAX) { /* bootstrap: always fully effective */
        *eff_out = D, *act_out = 0;
        return;
    }
    if (d->activation_epoch == d->deactivation_epoch) { /* activated, deactivated at once */
        *eff_out = 0, *act_out = 0;
        return;
    }
    if (target == d->activation_epoch) {
        *eff_out = 0, *act_out = D;
        return;
    }
    if (target < d->activation_epoch) {
        *eff_out = 0, *act_out = 0;
        return;
    }
    adb_stake_history_entry_t const *prev = hist_get(h, hn, d->activation_epoch);
    if (!prev) { /* dropped out of history: assume fully effective */
        *eff_out = D, *act_out = 0;
        return;
    }
    uint64_t prev_epoch = d->activation_epoch, eff = 0;
    for (;;) {
        uint64_t cur = prev_epoch + 1;
        if (prev->activating == 0) break;
        uint64_t remaining = D - eff;
        double   weight = (double)remaining / (double)prev->activating;
        double   cluster_new = (double)prev->effective * rate_at(cur, nre);
        uint64_t newly = f64_to_u64(weight * cluster_new);
        if (newly < 1) newly = 1;
        eff += newly;
        if (eff >= D) {
            eff = D;
            break;
        }
        if (cur >= target || cur >= d->deactivation_epoch) break;
        adb_stake_history_entry_t const *next = hist_get(h, hn, cur);
        if (!next) break;
        prev_epoch = cur;
        prev = next;
    }
    *eff_out = eff, *act_out = D - eff;
}

adb_stake_status_t
adb_stake_status(adb_delegation_t const *d, uint64_t target, adb_stake_history_entry_t const *h,
                 size_t hn, uint64_t nre) {
    uint64_t eff, act;
    stake_and_activating(d, target, h, hn, nre, &eff, &act);
    if (target < d->deactivation_epoch) return (adb_stake_status_t){eff, act, 0};
    if (target == d->deactivation_epoch) return (adb_stake_status_t){eff, 0, eff};
    adb_stake_history_entry_t const *prev = hist_get(h, hn, d->deactivation_epoch);
    if (!prev) return (adb_stake_status_t){0, 0, 0};
    uint64_t prev_epoch = d->deactivation_epoch, cur_eff = eff;
    for (;;) {
        uint64_t cur = prev_epoch + 1;
        if (prev->deactivating == 0) break;
        double   weight = (double)cur_eff / (double)prev->deactivating;
        double   cluster_gone = (double)prev->effective * rate_at(cur, nre);
        uint64_t gone = f64_to_u64(weight * cluster_gone);
        if (gone < 1) gone = 1;
        cur_eff = cur_eff > gone ? cur_eff - gone : 0;
        if (cur_eff == 0) break;
        if (cur >= target) break;
        adb_stake_history_entry_t const *next = hist_get(h, hn, cur);
        if (!next) break;
        prev_epoch = cur;
        prev = next;
    }
    return (adb_stake_status_t){cur_eff, 0, cur_eff};
}

void
adb_stake_history_add(adb_stake_history_entry_t *h, uint64_t *cnt,
                      adb_stake_history_entry_t const *e) {
    uint64_t i = 0;
    while (i < *cnt && h[i].epoch > e->epoch)
        i++;
    if (i < *cnt && h[i].epoch == e->epoch) {
        h[i] = *e;
        return;
    }
    if (i >= ADB_STAKE_HISTORY_MAX) return;
    uint64_t keep = *cnt < ADB_STAKE_HISTORY_MAX ? *cnt : ADB_STAKE_HISTORY_MAX - 1;
    memmove(&h[i + 1], &h[i], (size_t)(keep - i) * sizeof *h);
    h[i] = *e;
    *cnt = keep + 1;
}

/* ---- the stakes cache ---------------------------------------------------------- */

typedef struct collect {
    adb_arena_t            *mem;
    adb_vote_account_t     *votes;
    uint64_t                votes_cnt, votes_cap;
    adb_stake_delegation_t *dels;
    uint64_t                dels_cnt, dels_cap;
    int                     rc;
} collect_t;

static void *
grow(adb_arena_t *mem, void *old, uint64_t cnt, uint64_t *cap, size_t elem) {
    uint64_t ncap = *cap ? *cap * 2 : 64;
    void    *p = adb_arena_alloc(mem, (size_t)(ncap * elem));
    if (!p) return NULL;
    if (cnt) memcpy(p, old, (size_t)(cnt * elem));
    *cap = ncap;
    return p;
}

static int
collect_vote(void *ctx, acctdb_account_t const *a) {
    collect_t *c = ctx;
    if (!adb_vote_is_valid(a)) return 0;
    if (c->votes_cnt == c->votes_cap) {
        void *p = grow(c->mem, c->votes, c->votes_cnt, &c->votes_cap, sizeof *c->votes);
        if (!p) return ACCTDB_ERR_NOMEM;
        c->votes = p;
    }
    adb_vote_account_t *v = &c->votes[c->votes_cnt];
    memset(v, 0, sizeof *v);
    v->vote_pubkey = a->pubkey;
    v->account = (adb_bank_account_t){.lamports = a->lamports,
                                      .data_sz = a->data_len,
                                      .owner = a->owner,
                                      .executable = a->executable,
                                      .rent_epoch = a->rent_epoch};
    if (a->data_len) {
        v->account.data = adb_arena_alloc(c->mem, (size_t)a->data_len);
        if (!v->account.data) return ACCTDB_ERR_NOMEM;
        memcpy(v->account.data, a->data, (size_t)a->data_len);
    }
    c->votes_cnt++;
    return 0;
}

static int
collect_stake(void *ctx, acctdb_account_t const *a) {
    collect_t             *c = ctx;
    adb_stake_delegation_t sd = {.stake_pubkey = a->pubkey};
    if (adb_stake_delegation_decode(a, &sd.delegation, &sd.credits_observed)) return 0;
    if (c->dels_cnt == c->dels_cap) {
        void *p = grow(c->mem, c->dels, c->dels_cnt, &c->dels_cap, sizeof *c->dels);
        if (!p) return ACCTDB_ERR_NOMEM;
        c->dels = p;
    }
    c->dels[c->dels_cnt++] = sd;
    return 0;
}

static int
cmp_vote(void const *a, void const *b) {
    return memcmp(((adb_vote_account_t const *)a)->vote_pubkey.b,
                  ((adb_vote_account_t const *)b)->vote_pubkey.b, 32);
}

static int
cmp_del(void const *a, void const *b) {
    return memcmp(((adb_stake_delegation_t const *)a)->stake_pubkey.b,
                  ((adb_stake_delegation_t const *)b)->stake_pubkey.b, 32);
}

static adb_vote_account_t *
vote_find(adb_vote_account_t *v, uint64_t n, acctdb_pubkey_t const *k) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int      c = memcmp(v[mid].vote_pubkey.b, k->b, 32);
        if (!c) return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int
adb_bank_stakes_compute(adb_bank_src_t const *src, uint64_t epoch,
                        adb_stake_history_entry_t const *hist, size_t hist_cnt,
                        uint64_t new_rate_epoch, adb_arena_t *mem, adb_stakes_t *out) {
    memset(out, 0, sizeof *out);
    collect_t c = {.mem = mem};
    int       rc = src->each_owned(src->ctx, adb_vote_program_id(), collect_vote, &c);
    if (!rc) rc = src->each_owned(src->ctx, adb_stake_program_id(), collect_stake, &c);
    if (rc) return rc;
    if (c.votes_cnt) qsort(c.votes, (size_t)c.votes_cnt, sizeof *c.votes, cmp_vote);
    if (c.dels_cnt) qsort(c.dels, (size_t)c.dels_cnt, sizeof *c.dels, cmp_del);
    for (uint64_t i = 0; i < c.dels_cnt; i++) {
        adb_vote_account_t *v = vote_find(c.votes, c.votes_cnt, &c.dels[i].delegation.voter_pubkey);
        if (!v) continue;
        adb_stake_status_t st =
            adb_stake_status(&c.dels[i].delegation, epoch, hist, hist_cnt, new_rate_epoch);
        v->stake += st.effective;
    }
    out->vote_accounts = c.votes;
    out->vote_accounts_cnt = c.votes_cnt;
    out->delegations = c.dels;
    out->delegations_cnt = c.dels_cnt;
    out->epoch = epoch;
    if (hist_cnt) {
        out->stake_history = adb_arena_alloc(mem, hist_cnt * sizeof *hist);
        if (!out->stake_history) return ACCTDB_ERR_NOMEM;
        memcpy(out->stake_history, hist, hist_cnt * sizeof *hist);
        out->stake_history_cnt = hist_cnt;
    }
    return 0;
}

/* ---- epoch stakes ----------------------------------------------------------------- */

static int
cmp_node(void const *a, void const *b) {
    return memcmp(((adb_node_vote_accounts_t const *)a)->node_id.b,
                  ((adb_node_vote_accounts_t const *)b)->node_id.b, 32);
}

static int
cmp_voter(void const *a, void const *b) {
    return memcmp(((adb_authorized_voter_t const *)a)->vote_pubkey.b,
                  ((adb_authorized_voter_t const *)b)->vote_pubkey.b, 32);
}

static int
cmp_stake_desc(void const *a, void const *b) {
    adb_vote_account_t const *x = a, *y = b;
    if (x->stake != y->stake) return x->stake > y->stake ? -1 : 1;
    return memcmp(x->vote_pubkey.b, y->vote_pubkey.b, 32);
}

int
adb_bank_epoch_stakes_make(adb_stakes_t const *in, uint64_t lse, adb_arena_t *mem,
                           adb_epoch_stakes_t *out) {
    memset(out, 0, sizeof *out);
    out->epoch = lse;
    out->variant = 0;
    out->stakes = *in;
    out->stakes.is_stake_form = true;
    out->stakes.delegations = NULL; /* written empty since Agave #11758 */
    out->stakes.delegations_cnt = 0;
    out->stakes.unused = 0;
    /* The staked vote accounts only, the 2,000 with the most stake: what
     * Agave keeps under the validator admission ticket (SIMD-0357) and what
     * Firedancer requires of the leader schedule epoch's entry. */
    adb_vote_account_t *kept = adb_arena_alloc(
        mem, (size_t)(in->vote_accounts_cnt ? in->vote_accounts_cnt : 1) * sizeof *kept);
    if (!kept) return ACCTDB_ERR_NOMEM;
    uint64_t n = 0;
    for (uint64_t i = 0; i < in->vote_accounts_cnt; i++)
        if (in->vote_accounts[i].stake) kept[n++] = in->vote_accounts[i];
    if (n > ADB_EPOCH_STAKES_VOTE_MAX) {
        qsort(kept, (size_t)n, sizeof *kept, cmp_stake_desc);
        n = ADB_EPOCH_STAKES_VOTE_MAX;
    }
    qsort(kept, (size_t)n, sizeof *kept, cmp_vote);
    out->stakes.vote_accounts = kept;
    out->stakes.vote_accounts_cnt = n;
    adb_stakes_t const *st = &out->stakes;
    if (!n) return 0;
    adb_node_vote_accounts_t *nodes = adb_arena_alloc(mem, (size_t)n * sizeof *nodes);
    adb_authorized_voter_t   *voters = adb_arena_alloc(mem, (size_t)n * sizeof *voters);
    acctdb_pubkey_t          *keys = adb_arena_alloc(mem, (size_t)n * sizeof *keys);
    adb_vote_state_t         *vs = adb_malloc(sizeof *vs);
    if (!nodes || !voters || !keys || !vs) {
        adb_free(vs);
        return ACCTDB_ERR_NOMEM;
    }
    uint64_t nn = 0, nv = 0;
    for (uint64_t i = 0; i < n; i++) {
        adb_vote_account_t const *v = &st->vote_accounts[i];
        out->total_stake += v->stake;
        if (!v->stake) continue;
        if (adb_vote_state_decode(v->account.data, (size_t)v->account.data_sz, vs, NULL)) {
            adb_free(vs);
            return ACCTDB_ERR_CORRUPT;
        }
        acctdb_pubkey_t voter;
        if (!adb_vote_authorized_voter(vs, lse, &voter)) continue;
        voters[nv++] = (adb_authorized_voter_t){v->vote_pubkey, voter};
        uint64_t k = 0;
        while (k < nn && memcmp(nodes[k].node_id.b, vs->node.b, 32))
            k++;
        if (k == nn) nodes[nn++] = (adb_node_vote_accounts_t){.node_id = vs->node};
        nodes[k].total_stake += v->stake;
        nodes[k].vote_pubkeys_cnt++;
    }
    adb_free(vs);
    /* The vote pubkeys of each node, in vote account order (pubkey). */
    uint64_t used = 0;
    for (uint64_t k = 0; k < nn; k++) {
        nodes[k].vote_pubkeys = keys + used;
        used += nodes[k].vote_pubkeys_cnt;
        nodes[k].vote_pubkeys_cnt = 0;
    }
    for (uint64_t i = 0; i < nv; i++) {
        adb_vote_account_t const *v = vote_find(st->vote_accounts, n, &voters[i].vote_pubkey);
        adb_vote_state_t          one;
        adb_vote_state_decode(v->account.data, (size_t)v->account.data_sz, &one, NULL);
        for (uint64_t k = 0; k < nn; k++)
            if (!memcmp(nodes[k].node_id.b, one.node.b, 32))
                nodes[k].vote_pubkeys[nodes[k].vote_pubkeys_cnt++] = v->vote_pubkey;
    }
    qsort(nodes, (size_t)nn, sizeof *nodes, cmp_node);
    qsort(voters, (size_t)nv, sizeof *voters, cmp_voter);
    out->node_vote_accounts = nodes;
    out->node_vote_accounts_cnt = nn;
    out->authorized_voters = voters;
    out->authorized_voters_cnt = nv;
    return 0;
}

/* ---- features ----------------------------------------------------------------------- */

uint64_t
adb_bank_new_rate_epoch(adb_bank_src_t const *src, adb_epoch_schedule_t const *es) {
    acctdb_pubkey_t  id, prog;
    acctdb_account_t a;
    uint8_t         *buf = NULL;
    size_t           cap = 0;
    uint64_t         epoch = UINT64_MAX;
    adb_base58_decode_32(ADB_FEATURE_NEW_WARMUP_RATE_ID, strlen(ADB_FEATURE_NEW_WARMUP_RATE_ID),
                         id.b);
    adb_base58_decode_32(ADB_FEATURE_PROGRAM_ID, strlen(ADB_FEATURE_PROGRAM_ID), prog.b);
    /* Feature { activated_at: Option<Slot> } */
    if (!src->get(src->ctx, &id, &a, &buf, &cap) && a.lamports && !memcmp(a.owner.b, prog.b, 32) &&
        a.data_len >= 9 && a.data[0] == 1)
        epoch = adb_epoch_of(es, adb_load_u64(a.data + 1));
    adb_free(buf);
    return epoch;
}
