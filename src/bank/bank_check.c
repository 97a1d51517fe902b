/* src/bank/bank_check.c - the checks real loaders apply to a snapshot's
 * bank (see bank.h, adb_bank_check), each a named line.
 *
 * Sources of each rule (restated, not copied):
 *   Agave Bank::new_from_snapshot (2.x-4.x asserts against genesis, max tick
 *     height, epoch up to 3.x), Stakes::load_from_deserialized_delegations
 *     (the stakes cache against accounts-db), verify_epoch_stakes,
 *     serde_snapshot (legacy epoch stakes empty; lattice hash required);
 *   Sig BankFields.validate (max tick height, genesis fields), its stakes
 *     cache check and Rent sysvar requirement;
 *   Firedancer fd_ssmanifest_parser / fd_ssload_manifest_validate (epoch
 *     schedule self-consistency, blockhash queue structure, epoch stakes
 *     bounds, non-zero leader schedule stakes, block id, ancestors bound),
 *     fd_sysvar_cache_restore (present sysvars must be well formed).
 * Fields that Agave 4.1+ writes as unused (epoch, rent collector,
 * ancestors) are checked for the versions that read them and skipped, with
 * the reason, for a 4.1+ manifest (one that carries the block_id field).
 * Sysvars no loader compares (Clock, SlotHashes, EpochSchedule,
 * StakeHistory, RecentBlockhashes) are checked for consistency with the
 * manifest, as the next replayed bank would need them. */
#include "bank/bank.h"

#include "util/base58.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

char const *const adb_bank_check_names[ADB_BANK_CHECK_CNT] = {
    "max tick height",
    "tick height",
    "epoch schedule",
    "epoch",
    "genesis creation time",
    "ticks per slot",
    "ns per slot",
    "slots per year",
    "epoch schedule vs genesis",
    "rent collector",
    "ancestors",
    "legacy epoch stakes",
    "epoch stakes",
    "epoch stakes contents",
    "stakes cache",
    "blockhash queue",
    "block id",
    "Clock sysvar",
    "SlotHashes sysvar",
    "SlotHistory sysvar",
    "EpochSchedule sysvar",
    "Rent sysvar",
    "StakeHistory sysvar",
    "RecentBlockhashes sysvar",
};

typedef struct ck {
    adb_bank_check_in_t const *in;
    adb_bank_check_fn          fn;
    void                      *ctx;
    uint8_t                   *buf;
    size_t                     cap;
} ck_t;

static void report(ck_t *c, char const *name, int st, char const *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
report(ck_t *c, char const *name, int st, char const *fmt, ...) {
    char    d[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    c->fn(c->ctx, name, st, d);
}

#define PASS ADB_BANK_CHECK_PASS
#define FAIL ADB_BANK_CHECK_FAIL
#define SKIP ADB_BANK_CHECK_SKIP

static char *
b58(void const *p, char out[ACCTDB_BASE58_32_SZ]) {
    return adb_base58_encode_32(p, out);
}

static bool
is_zero(void const *p, size_t n) {
    uint8_t const *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

static bool
es_eq(adb_epoch_schedule_t const *a, adb_epoch_schedule_t const *b) {
    return a->slots_per_epoch == b->slots_per_epoch &&
           a->leader_schedule_slot_offset == b->leader_schedule_slot_offset &&
           a->warmup == b->warmup && a->first_normal_epoch == b->first_normal_epoch &&
           a->first_normal_slot == b->first_normal_slot;
}

static bool
rent_eq(adb_rent_t const *a, adb_rent_t const *b) {
    return a->lamports_per_byte_year == b->lamports_per_byte_year &&
           !memcmp(&a->exemption_threshold, &b->exemption_threshold, 8) &&
           a->burn_percent == b->burn_percent;
}

/* ---- heights, epochs, genesis ------------------------------------------------ */

static void
check_ticks(ck_t *c) {
    adb_bank_fields_t const *b = c->in->b;
    uint64_t                 want;
    if (__builtin_mul_overflow(b->slot + 1, b->ticks_per_slot, &want) || b->slot == UINT64_MAX)
        report(c, "max tick height", FAIL, "(slot + 1) * ticks_per_slot overflows");
    else if (b->max_tick_height != want)
        report(c, "max tick height", FAIL,
               "%llu, but (slot %llu + 1) * ticks_per_slot %llu = %llu (Agave and Sig refuse it)",
               (unsigned long long)b->max_tick_height, (unsigned long long)b->slot,
               (unsigned long long)b->ticks_per_slot, (unsigned long long)want);
    else
        report(c, "max tick height", PASS, "%llu == (slot + 1) * ticks_per_slot",
               (unsigned long long)want);
    if (b->tick_height == b->max_tick_height)
        report(c, "tick height", PASS, "%llu == max_tick_height: the bank is complete",
               (unsigned long long)b->tick_height);
    else
        report(c, "tick height", FAIL,
               "%llu, max_tick_height %llu: a snapshot bank must be complete (Agave snapshots "
               "only complete banks; the next slot's ticks start from it)",
               (unsigned long long)b->tick_height, (unsigned long long)b->max_tick_height);
}

static void
check_schedule(ck_t *c) {
    adb_epoch_schedule_t const *es = &c->in->b->epoch_schedule;
    adb_epoch_schedule_t        d =
        adb_epoch_schedule_custom(es->slots_per_epoch, es->leader_schedule_slot_offset, es->warmup);
    if (es->slots_per_epoch < ADB_MIN_SLOTS_PER_EPOCH)
        report(c, "epoch schedule", FAIL, "slots_per_epoch %llu is below 32",
               (unsigned long long)es->slots_per_epoch);
    else if (!es_eq(es, &d))
        report(c, "epoch schedule", FAIL,
               "first_normal_epoch %llu, first_normal_slot %llu, but (%llu slots, warmup %s) "
               "gives %llu and %llu (Firedancer refuses it)",
               (unsigned long long)es->first_normal_epoch,
               (unsigned long long)es->first_normal_slot, (unsigned long long)es->slots_per_epoch,
               es->warmup ? "on" : "off", (unsigned long long)d.first_normal_epoch,
               (unsigned long long)d.first_normal_slot);
    else
        report(c, "epoch schedule", PASS, "%llu slots per epoch, warmup %s: consistent",
               (unsigned long long)es->slots_per_epoch, es->warmup ? "on" : "off");
}

static void
check_epoch(ck_t *c) {
    adb_bank_fields_t const *b = c->in->b;
    uint64_t                 e = adb_epoch_of(&b->epoch_schedule, b->slot);
    if (b->epoch == e)
        report(c, "epoch", PASS, "%llu == the epoch of slot %llu", (unsigned long long)e,
               (unsigned long long)b->slot);
    else if (c->in->v41 && b->epoch == 0)
        report(c, "epoch", SKIP,
               "written 0 by Agave 4.1+ (#11135), which derives it: epoch %llu of slot %llu",
               (unsigned long long)e, (unsigned long long)b->slot);
    else
        report(c, "epoch", FAIL, "%llu, but slot %llu is in epoch %llu (Agave 3.x asserts it)",
               (unsigned long long)b->epoch, (unsigned long long)b->slot, (unsigned long long)e);
}

static void
check_genesis(ck_t *c) {
    adb_bank_fields_t const  *b = c->in->b;
    adb_bank_genesis_t const *g = c->in->genesis;
    char const *skip = "no genesis.bin to compare with (--genesis FILE): Agave and Sig compare "
                       "it with the cluster's genesis";
    if (!g) {
        report(c, "genesis creation time", SKIP, "%s", skip);
        report(c, "ticks per slot", SKIP, "%s", skip);
        report(c, "ns per slot", SKIP, "%s", skip);
        report(c, "slots per year", SKIP, "%s", skip);
        report(c, "epoch schedule vs genesis", SKIP, "%s", skip);
        return;
    }
    if (b->genesis_creation_time == g->creation_time)
        report(c, "genesis creation time", PASS, "%lld == genesis", (long long)g->creation_time);
    else
        report(c, "genesis creation time", FAIL, "%lld, genesis %lld",
               (long long)b->genesis_creation_time, (long long)g->creation_time);
    if (b->ticks_per_slot == g->ticks_per_slot)
        report(c, "ticks per slot", PASS, "%llu == genesis", (unsigned long long)g->ticks_per_slot);
    else
        report(c, "ticks per slot", FAIL, "%llu, genesis %llu",
               (unsigned long long)b->ticks_per_slot, (unsigned long long)g->ticks_per_slot);
    unsigned __int128 ns = (unsigned __int128)g->tick_ns * g->ticks_per_slot;
    if (b->ns_per_slot == ns)
        report(c, "ns per slot", PASS, "%llu == genesis tick %llu ns x %llu",
               (unsigned long long)ns, (unsigned long long)g->tick_ns,
               (unsigned long long)g->ticks_per_slot);
    else
        report(c, "ns per slot", FAIL, "%llu, genesis tick %llu ns x %llu ticks = %llu",
               (unsigned long long)b->ns_per_slot, (unsigned long long)g->tick_ns,
               (unsigned long long)g->ticks_per_slot, (unsigned long long)ns);
    double y = adb_years_as_slots(g->tick_ns, b->ticks_per_slot);
    if (!memcmp(&y, &b->slots_per_year, 8))
        report(c, "slots per year", PASS, "%.17g == years_as_slots(%llu ns, %llu), bit for bit", y,
               (unsigned long long)g->tick_ns, (unsigned long long)b->ticks_per_slot);
    else
        report(c, "slots per year", FAIL,
               "%.17g, but years_as_slots(%llu ns, %llu) = %.17g (an exact comparison in Agave "
               "and Sig)",
               b->slots_per_year, (unsigned long long)g->tick_ns,
               (unsigned long long)b->ticks_per_slot, y);
    if (es_eq(&b->epoch_schedule, &g->epoch_schedule))
        report(c, "epoch schedule vs genesis", PASS, "all five fields equal");
    else
        report(c, "epoch schedule vs genesis", FAIL, "the manifest's differs from genesis");
}

/* ---- fields 4.1+ writes unused ------------------------------------------------------ */

static int
get_sysvar(ck_t *c, adb_sysvar_t which, acctdb_account_t *a) {
    return c->in->src->get(c->in->src->ctx, adb_sysvar_id(which), a, &c->buf, &c->cap);
}

static void
check_rent_collector(ck_t *c) {
    adb_bank_fields_t const    *b = c->in->b;
    adb_rent_collector_t const *rc = &b->rent_collector;
    if (c->in->v41 && is_zero(rc, sizeof *rc)) {
        report(c, "rent collector", SKIP,
               "written zeroed by Agave 4.1+ (#11117); loaders read the Rent sysvar");
        return;
    }
    uint64_t e = adb_epoch_of(&b->epoch_schedule, b->slot);
    char     bad[200] = "";
    size_t   k = 0;
    if (rc->epoch != e)
        k += (size_t)snprintf(bad + k, sizeof bad - k, " epoch %llu (not %llu)",
                              (unsigned long long)rc->epoch, (unsigned long long)e);
    if (!es_eq(&rc->epoch_schedule, &b->epoch_schedule))
        k += (size_t)snprintf(bad + k, sizeof bad - k, " epoch_schedule");
    if (memcmp(&rc->slots_per_year, &b->slots_per_year, 8))
        k += (size_t)snprintf(bad + k, sizeof bad - k, " slots_per_year");
    acctdb_account_t a;
    adb_rent_t       r;
    if (!get_sysvar(c, ADB_SYSVAR_RENT, &a) &&
        !adb_sysvar_rent_decode(a.data, (size_t)a.data_len, &r, NULL) && !rent_eq(&r, &rc->rent))
        k += (size_t)snprintf(bad + k, sizeof bad - k, " rent (the Rent sysvar differs)");
    if (k)
        report(c, "rent collector", FAIL, "differs from the bank:%s (Agave 3.x takes rent from it)",
               bad);
    else
        report(c, "rent collector", PASS,
               "epoch, epoch schedule, slots_per_year and rent agree with the bank and the Rent "
               "sysvar");
}

static void
check_ancestors(ck_t *c) {
    adb_bank_fields_t const *b = c->in->b;
    if (b->ancestors_cnt > 8192) {
        report(c, "ancestors", FAIL, "%llu entries, more than 8192 (Firedancer refuses it)",
               (unsigned long long)b->ancestors_cnt);
        return;
    }
    bool self = false;
    for (uint64_t i = 0; i < b->ancestors_cnt; i++)
        if (b->ancestors[i].slot == b->slot) self = true;
    if (self)
        report(c, "ancestors", PASS, "%llu entries, the bank's own slot among them",
               (unsigned long long)b->ancestors_cnt);
    else if (!b->ancestors_cnt && c->in->v41)
        report(c, "ancestors", SKIP, "empty: ignored since Agave 4.0 (#10835)");
    else
        report(c, "ancestors", FAIL,
               "%llu entries without the bank's slot %llu (Agave 3.x reads accounts through them)",
               (unsigned long long)b->ancestors_cnt, (unsigned long long)b->slot);
}

/* ---- epoch stakes -------------------------------------------------------------------- */

static adb_epoch_stakes_t const *
find_es(ck_t *c, uint64_t epoch) {
    adb_extra_fields_t const *x = c->in->x;
    for (uint64_t i = 0; i < x->versioned_epoch_stakes_cnt; i++)
        if (x->versioned_epoch_stakes[i].epoch == epoch) return &x->versioned_epoch_stakes[i];
    if (c->in->merkle_era)
        for (uint64_t i = 0; i < c->in->b->epoch_stakes_cnt; i++)
            if (c->in->b->epoch_stakes[i].epoch == epoch) return &c->in->b->epoch_stakes[i];
    return NULL;
}

static void
check_epoch_stakes(ck_t *c) {
    adb_bank_fields_t const  *b = c->in->b;
    adb_extra_fields_t const *x = c->in->x;
    if (!c->in->merkle_era) {
        if (b->epoch_stakes_cnt)
            report(c, "legacy epoch stakes", FAIL,
                   "%llu entries: Agave 3.x+ and Firedancer refuse a non-empty legacy map",
                   (unsigned long long)b->epoch_stakes_cnt);
        else
            report(c, "legacy epoch stakes", PASS, "empty, as the lattice era requires");
    } else {
        report(c, "legacy epoch stakes", SKIP,
               "merkle era: the legacy map carried the epoch stakes (%llu entries)",
               (unsigned long long)b->epoch_stakes_cnt);
    }
    uint64_t e = adb_epoch_of(&b->epoch_schedule, b->slot);
    uint64_t lse = adb_epoch_leader_schedule(&b->epoch_schedule, b->slot);
    uint64_t n = x->versioned_epoch_stakes_cnt + (c->in->merkle_era ? b->epoch_stakes_cnt : 0);
    uint64_t lo = UINT64_MAX, hi = 0;
    char     why[300] = "";
    for (uint64_t i = 0; i < x->versioned_epoch_stakes_cnt; i++) {
        uint64_t k = x->versioned_epoch_stakes[i].epoch;
        lo = k < lo ? k : lo, hi = k > hi ? k : hi;
    }
    if (c->in->merkle_era)
        for (uint64_t i = 0; i < b->epoch_stakes_cnt; i++) {
            uint64_t k = b->epoch_stakes[i].epoch;
            lo = k < lo ? k : lo, hi = k > hi ? k : hi;
        }
    if (!n)
        snprintf(why, sizeof why, "none (Agave 4.x and Sig require some)");
    else if (hi > lse)
        snprintf(why, sizeof why,
                 "epoch %llu is above the leader schedule epoch %llu "
                 "(EpochGreaterThanMax)",
                 (unsigned long long)hi, (unsigned long long)lse);
    else if (n > 6)
        snprintf(why, sizeof why, "%llu entries, more than 6 (Firedancer refuses it)",
                 (unsigned long long)n);
    else {
        for (uint64_t k = e; k <= lse && !why[0]; k++)
            if (!find_es(c, k))
                snprintf(why, sizeof why,
                         "epoch %llu is missing: %llu .. %llu are required "
                         "(StakesNotFound)",
                         (unsigned long long)k, (unsigned long long)e, (unsigned long long)lse);
        for (uint64_t k = lo; k <= hi && !why[0]; k++)
            if (!find_es(c, k))
                snprintf(why, sizeof why,
                         "epochs %llu .. %llu have a gap at %llu (Sig inserts "
                         "them in order)",
                         (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)k);
    }
    if (why[0])
        report(c, "epoch stakes", FAIL, "%s", why);
    else
        report(c, "epoch stakes", PASS, "epochs %llu .. %llu; %llu .. %llu required",
               (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)e,
               (unsigned long long)lse);

    /* What EpochStakes::new makes of its vote accounts: total stake, the
     * node map, the authorized voters; Firedancer refuses a zero stake in
     * the leader schedule epoch's entry. */
    why[0] = 0;
    adb_vote_state_t *vs = adb_malloc(sizeof *vs);
    if (!vs) {
        report(c, "epoch stakes contents", FAIL, "out of memory");
        return;
    }
    uint64_t checked = 0;
    for (uint64_t i = 0; i < n && !why[0]; i++) {
        adb_epoch_stakes_t const *es = i < x->versioned_epoch_stakes_cnt
                                           ? &x->versioned_epoch_stakes[i]
                                           : &b->epoch_stakes[i - x->versioned_epoch_stakes_cnt];
        uint64_t                  total = 0, nodes_total = 0, with_stake = 0;
        for (uint64_t k = 0; k < es->stakes.vote_accounts_cnt; k++) {
            adb_vote_account_t const *v = &es->stakes.vote_accounts[k];
            total += v->stake;
            if (!v->stake) {
                if (es->epoch == lse)
                    snprintf(why, sizeof why,
                             "epoch %llu: vote account %s has no stake "
                             "(Firedancer refuses zero stakes in the leader schedule epoch)",
                             (unsigned long long)es->epoch, b58(v->vote_pubkey.b, (char[45]){0}));
                continue;
            }
            if (adb_vote_state_decode(v->account.data, (size_t)v->account.data_sz, vs, NULL))
                continue; /* loaders drop what does not decode */
            acctdb_pubkey_t voter;
            if (!adb_vote_authorized_voter(vs, es->epoch, &voter)) continue;
            with_stake++;
            nodes_total += v->stake;
            bool found = false;
            for (uint64_t a = 0; a < es->authorized_voters_cnt && !found; a++)
                found = !memcmp(es->authorized_voters[a].vote_pubkey.b, v->vote_pubkey.b, 32) &&
                        !memcmp(es->authorized_voters[a].voter.b, voter.b, 32);
            bool in_node = false;
            for (uint64_t a = 0; a < es->node_vote_accounts_cnt && !in_node; a++)
                if (!memcmp(es->node_vote_accounts[a].node_id.b, vs->node.b, 32))
                    for (uint64_t q = 0; q < es->node_vote_accounts[a].vote_pubkeys_cnt; q++)
                        if (!memcmp(es->node_vote_accounts[a].vote_pubkeys[q].b, v->vote_pubkey.b,
                                    32))
                            in_node = true;
            if (!why[0] && (!found || !in_node))
                snprintf(why, sizeof why,
                         "epoch %llu: vote account %s is not under its node "
                         "and authorized voter as its vote state names them",
                         (unsigned long long)es->epoch, b58(v->vote_pubkey.b, (char[45]){0}));
        }
        uint64_t nt = 0;
        for (uint64_t a = 0; a < es->node_vote_accounts_cnt; a++)
            nt += es->node_vote_accounts[a].total_stake;
        if (!why[0] && total != es->total_stake)
            snprintf(why, sizeof why, "epoch %llu: total_stake %llu, its vote accounts sum to %llu",
                     (unsigned long long)es->epoch, (unsigned long long)es->total_stake,
                     (unsigned long long)total);
        if (!why[0] && (nt != nodes_total || es->authorized_voters_cnt != with_stake))
            snprintf(why, sizeof why,
                     "epoch %llu: the node map or the authorized voters hold "
                     "other vote accounts than those with stake",
                     (unsigned long long)es->epoch);
        checked++;
    }
    adb_free(vs);
    if (why[0])
        report(c, "epoch stakes contents", FAIL, "%s", why);
    else
        report(c, "epoch stakes contents", PASS,
               "%llu entries: total stakes, node map and authorized voters agree with their vote "
               "accounts",
               (unsigned long long)checked);
}

/* ---- the stakes cache against the accounts ------------------------------------------ */

static bool
acct_eq(adb_bank_account_t const *m, acctdb_account_t const *a) {
    return m->lamports == a->lamports && m->data_sz == a->data_len &&
           !memcmp(m->owner.b, a->owner.b, 32) && m->executable == a->executable &&
           m->rent_epoch == a->rent_epoch &&
           (!a->data_len || !memcmp(m->data, a->data, a->data_len));
}

static void
check_stakes_cache(ck_t *c) {
    adb_stakes_t const   *st = &c->in->b->stakes;
    adb_bank_src_t const *src = c->in->src;
    char                  why[300] = "";
    char                  x[ACCTDB_BASE58_32_SZ];
    uint8_t              *vbuf = NULL;
    size_t                vcap = 0;
    /* Every cached vote account (that decodes: loaders drop the others)
     * equals its account. */
    uint64_t          votes = 0;
    adb_vote_state_t *vs = adb_malloc(sizeof *vs);
    if (!vs) {
        report(c, "stakes cache", FAIL, "out of memory");
        return;
    }
    for (uint64_t i = 0; i < st->vote_accounts_cnt && !why[0]; i++) {
        adb_vote_account_t const *v = &st->vote_accounts[i];
        if (memcmp(v->account.owner.b, adb_vote_program_id()->b, 32) ||
            adb_vote_state_decode(v->account.data, (size_t)v->account.data_sz, vs, NULL))
            continue;
        votes++;
        acctdb_account_t a;
        int              rc = src->get(src->ctx, &v->vote_pubkey, &a, &c->buf, &c->cap);
        if (rc)
            snprintf(why, sizeof why,
                     "vote account %s is cached but not in the accounts "
                     "(VoteAccountNotFound)",
                     b58(v->vote_pubkey.b, x));
        else if (!acct_eq(&v->account, &a))
            snprintf(why, sizeof why,
                     "vote account %s differs from its account "
                     "(VoteAccountMismatch)",
                     b58(v->vote_pubkey.b, x));
    }
    adb_free(vs);
    /* Every delegation is its stake account's, and its voter is cached
     * unless it is not a valid vote account. */
    for (uint64_t i = 0; i < st->delegations_cnt && !why[0]; i++) {
        adb_stake_delegation_t const *d = &st->delegations[i];
        acctdb_account_t              a;
        adb_delegation_t              got;
        int rc = src->get(src->ctx, &d->stake_pubkey, &a, &c->buf, &c->cap);
        if (rc) {
            snprintf(why, sizeof why,
                     "stake account %s is cached but not in the accounts "
                     "(StakeAccountNotFound)",
                     b58(d->stake_pubkey.b, x));
            break;
        }
        rc = adb_stake_delegation_decode(&a, &got, NULL);
        if (rc || memcmp(got.voter_pubkey.b, d->delegation.voter_pubkey.b, 32) ||
            got.stake != d->delegation.stake ||
            got.activation_epoch != d->delegation.activation_epoch ||
            got.deactivation_epoch != d->delegation.deactivation_epoch ||
            memcmp(&got.warmup_cooldown_rate, &d->delegation.warmup_cooldown_rate, 8)) {
            snprintf(why, sizeof why, "stake account %s: %s (InvalidDelegation)",
                     b58(d->stake_pubkey.b, x),
                     rc ? "not a delegated stake account" : "its delegation differs");
            break;
        }
        bool cached = false;
        for (uint64_t k = 0; k < st->vote_accounts_cnt && !cached; k++)
            cached = !memcmp(st->vote_accounts[k].vote_pubkey.b, got.voter_pubkey.b, 32);
        if (!cached && !src->get(src->ctx, &got.voter_pubkey, &a, &vbuf, &vcap) &&
            adb_vote_is_valid(&a))
            snprintf(why, sizeof why,
                     "stake account %s delegates to vote account %s, which is "
                     "valid but not cached (VoteAccountNotCached)",
                     b58(d->stake_pubkey.b, x),
                     b58(got.voter_pubkey.b, (char[ACCTDB_BASE58_32_SZ]){0}));
    }
    adb_free(vbuf);
    if (why[0])
        report(c, "stakes cache", FAIL, "%s; Agave refuses to load it", why);
    else
        report(c, "stakes cache", PASS,
               "%llu vote accounts and %llu delegations equal their accounts",
               (unsigned long long)votes, (unsigned long long)st->delegations_cnt);
}

/* ---- the blockhash queue, block id --------------------------------------------------- */

static int
cmp_u64(void const *a, void const *b) {
    uint64_t x = *(uint64_t const *)a, y = *(uint64_t const *)b;
    return x < y ? -1 : x > y;
}

static void
check_queue(ck_t *c) {
    adb_blockhash_queue_t const *q = &c->in->b->blockhash_queue;
    char                         why[300] = "";
    if (!q->has_last_hash)
        snprintf(why, sizeof why, "no last_hash (Agave panics on it, Firedancer refuses it)");
    else if (!q->ages_cnt || q->ages_cnt > 301)
        snprintf(why, sizeof why, "%llu entries, not 1 to 301 (Firedancer refuses it)",
                 (unsigned long long)q->ages_cnt);
    if (!why[0]) {
        uint64_t *idx = adb_malloc((size_t)q->ages_cnt * sizeof *idx);
        if (!idx) {
            report(c, "blockhash queue", FAIL, "out of memory");
            return;
        }
        uint64_t max_i = 0;
        for (uint64_t i = 0; i < q->ages_cnt; i++) {
            idx[i] = q->ages[i].hash_index;
            if (q->ages[i].hash_index >= q->ages[max_i].hash_index) max_i = i;
        }
        qsort(idx, (size_t)q->ages_cnt, sizeof *idx, cmp_u64);
        for (uint64_t i = 1; i < q->ages_cnt && !why[0]; i++)
            if (idx[i] != idx[i - 1] + 1)
                snprintf(why, sizeof why,
                         "hash indices %s at %llu (Firedancer requires them "
                         "unique and gapless)",
                         idx[i] == idx[i - 1] ? "repeat" : "have a gap",
                         (unsigned long long)idx[i]);
        if (!why[0] && idx[q->ages_cnt - 1] != q->last_hash_index)
            snprintf(why, sizeof why, "the newest index is %llu, last_hash_index %llu",
                     (unsigned long long)idx[q->ages_cnt - 1],
                     (unsigned long long)q->last_hash_index);
        if (!why[0] && memcmp(q->ages[max_i].hash.b, q->last_hash.b, 32))
            snprintf(why, sizeof why,
                     "last_hash is not the newest entry's hash (Agave and "
                     "Firedancer would compute different bank hashes)");
        for (uint64_t i = 0; i < q->ages_cnt && !why[0]; i++)
            for (uint64_t k = i + 1; k < q->ages_cnt && !why[0]; k++)
                if (!memcmp(q->ages[i].hash.b, q->ages[k].hash.b, 32))
                    snprintf(why, sizeof why, "a blockhash appears twice");
        adb_free(idx);
    }
    if (why[0])
        report(c, "blockhash queue", FAIL, "%s", why);
    else
        report(c, "blockhash queue", PASS,
               "%llu hashes, indices gapless up to last_hash_index %llu, last_hash the newest",
               (unsigned long long)q->ages_cnt, (unsigned long long)q->last_hash_index);
}

static void
check_block_id(ck_t *c) {
    adb_extra_fields_t const *x = c->in->x;
    if (!x->has_block_id)
        report(c, "block id", SKIP, "not carried (written since Agave 4.1; Sig v2 requires it)");
    else if (is_zero(x->block_id.b, 32))
        report(c, "block id", FAIL, "all zeros (Firedancer refuses it)");
    else
        report(c, "block id", PASS, "%s", b58(x->block_id.b, (char[ACCTDB_BASE58_32_SZ]){0}));
}

/* ---- sysvars -------------------------------------------------------------------------- */

/* The account of a sysvar: 1 found (and owned by Sysvar1111..., at its
 * size), 0 absent (reported SKIP), -1 reported FAIL. */
static int
sysvar_present(ck_t *c, char const *name, adb_sysvar_t which, size_t sz, acctdb_account_t *a,
               bool required) {
    int rc = get_sysvar(c, which, a);
    if (rc) {
        if (required)
            report(c, name, FAIL, "the archive has no %s account (Sig and Firedancer require it)",
                   adb_sysvar_name(which));
        else
            report(c, name, SKIP, "the archive has no %s account", adb_sysvar_name(which));
        return required ? -1 : 0;
    }
    if (memcmp(a->owner.b, adb_sysvar_id(ADB_SYSVAR_OWNER)->b, 32)) {
        report(c, name, FAIL, "not owned by the sysvar program");
        return -1;
    }
    if (sz && a->data_len != sz) {
        report(c, name, FAIL, "%llu bytes, not %zu", (unsigned long long)a->data_len, sz);
        return -1;
    }
    return 1;
}

static void
check_sysvars(ck_t *c) {
    adb_bank_fields_t const    *b = c->in->b;
    adb_epoch_schedule_t const *es = &b->epoch_schedule;
    acctdb_account_t            a;
    adb_err_t                   e = {0};
    char                        x[ACCTDB_BASE58_32_SZ], y[ACCTDB_BASE58_32_SZ];

    if (sysvar_present(c, "Clock sysvar", ADB_SYSVAR_CLOCK, 0, &a, false) == 1) {
        adb_clock_t ck;
        uint64_t    ep = adb_epoch_of(es, b->slot), lse = adb_epoch_leader_schedule(es, b->slot);
        if (adb_sysvar_clock_decode(a.data, (size_t)a.data_len, &ck, &e))
            report(c, "Clock sysvar", FAIL, "%s", e.msg);
        else if (ck.slot != b->slot || ck.epoch != ep || ck.leader_schedule_epoch != lse)
            report(c, "Clock sysvar", FAIL,
                   "slot %llu, epoch %llu, leader schedule epoch %llu; the bank: %llu, %llu, %llu",
                   (unsigned long long)ck.slot, (unsigned long long)ck.epoch,
                   (unsigned long long)ck.leader_schedule_epoch, (unsigned long long)b->slot,
                   (unsigned long long)ep, (unsigned long long)lse);
        else if (ck.unix_timestamp < ck.epoch_start_timestamp)
            report(c, "Clock sysvar", FAIL, "unix_timestamp is before epoch_start_timestamp");
        else
            report(c, "Clock sysvar", PASS, "slot %llu, epoch %llu, leader schedule epoch %llu",
                   (unsigned long long)ck.slot, (unsigned long long)ck.epoch,
                   (unsigned long long)ck.leader_schedule_epoch);
    }

    if (sysvar_present(c, "SlotHashes sysvar", ADB_SYSVAR_SLOT_HASHES, ADB_SYSVAR_SLOT_HASHES_SZ,
                       &a, false) == 1) {
        adb_slot_hashes_t *sh = adb_malloc(sizeof *sh);
        char               why[600] = "";
        if (!sh)
            snprintf(why, sizeof why, "out of memory");
        else if (adb_sysvar_slot_hashes_decode(a.data, (size_t)a.data_len, sh, &e))
            snprintf(why, sizeof why, "%s", e.msg);
        else {
            for (uint32_t i = 1; i < sh->cnt && !why[0]; i++)
                if (sh->e[i].slot >= sh->e[i - 1].slot)
                    snprintf(why, sizeof why, "slots are not newest first");
            if (!why[0] && b->slot != b->parent_slot &&
                (!sh->cnt || sh->e[0].slot != b->parent_slot ||
                 memcmp(sh->e[0].hash.b, b->parent_hash.b, 32)))
                snprintf(why, sizeof why,
                         "the newest entry is (%llu, %s), not the parent (%llu, %s)",
                         (unsigned long long)(sh->cnt ? sh->e[0].slot : 0),
                         sh->cnt ? b58(sh->e[0].hash.b, x) : "-",
                         (unsigned long long)b->parent_slot, b58(b->parent_hash.b, y));
        }
        if (why[0])
            report(c, "SlotHashes sysvar", FAIL, "%s", why);
        else
            report(c, "SlotHashes sysvar", PASS, "%u entries, the newest the parent %llu", sh->cnt,
                   (unsigned long long)b->parent_slot);
        adb_free(sh);
    }

    int p = sysvar_present(c, "SlotHistory sysvar", ADB_SYSVAR_SLOT_HISTORY,
                           ADB_SYSVAR_SLOT_HISTORY_SZ, &a, true);
    if (p == 1) {
        adb_slot_history_t sh;
        if (adb_sysvar_slot_history_decode(a.data, (size_t)a.data_len, &sh, &e))
            report(c, "SlotHistory sysvar", FAIL, "%s", e.msg);
        else if (sh.len != ADB_SLOT_HISTORY_MAX_ENTRIES)
            report(c, "SlotHistory sysvar", FAIL, "%llu bits, not 2^20 (Agave 3.1+ refuses it)",
                   (unsigned long long)sh.len);
        else if (adb_slot_history_newest(&sh) != b->slot)
            report(c, "SlotHistory sysvar", FAIL, "the newest slot is %llu, the bank's %llu",
                   (unsigned long long)adb_slot_history_newest(&sh), (unsigned long long)b->slot);
        else {
            /* A bank records its slot as it begins (Agave
             * update_slot_history), so the bank's own bit is set.  Its
             * ancestors are counted, not required: banks made by stores
             * alone (no bank_begin) are not recorded, and no loader reads
             * SlotHistory for them. */
            uint64_t found = 0;
            for (uint64_t i = 0; i < b->ancestors_cnt; i++)
                if (b->ancestors[i].slot != b->slot &&
                    adb_slot_history_check(&sh, b->ancestors[i].slot) == ADB_SLOT_FOUND)
                    found++;
            if (adb_slot_history_check(&sh, b->slot) != ADB_SLOT_FOUND)
                report(c, "SlotHistory sysvar", FAIL,
                       "the newest slot %llu is not recorded (its bit is clear)",
                       (unsigned long long)b->slot);
            else
                report(c, "SlotHistory sysvar", PASS,
                       "2^20 bits, the newest slot %llu recorded, %llu of its ancestors too",
                       (unsigned long long)b->slot, (unsigned long long)found);
        }
    }

    if (sysvar_present(c, "EpochSchedule sysvar", ADB_SYSVAR_EPOCH_SCHEDULE, 0, &a, false) == 1) {
        adb_epoch_schedule_t s;
        if (adb_sysvar_epoch_schedule_decode(a.data, (size_t)a.data_len, &s, &e))
            report(c, "EpochSchedule sysvar", FAIL, "%s", e.msg);
        else if (!es_eq(&s, es))
            report(c, "EpochSchedule sysvar", FAIL, "differs from the bank's epoch schedule");
        else
            report(c, "EpochSchedule sysvar", PASS, "equals the bank's epoch schedule");
    }

    if (sysvar_present(c, "Rent sysvar", ADB_SYSVAR_RENT, 0, &a, true) == 1) {
        adb_rent_t                  r;
        adb_rent_collector_t const *rc = &b->rent_collector;
        bool                        has_rc = !is_zero(rc, sizeof *rc); /* 4.1+ writes it zeroed */
        if (adb_sysvar_rent_decode(a.data, (size_t)a.data_len, &r, &e))
            report(c, "Rent sysvar", FAIL, "%s", e.msg);
        else if (!isfinite(r.exemption_threshold) || r.exemption_threshold < 0 ||
                 r.burn_percent > 100)
            report(c, "Rent sysvar", FAIL, "threshold %g or burn percent %u out of range",
                   r.exemption_threshold, r.burn_percent);
        else if (has_rc && (r.lamports_per_byte_year != rc->rent.lamports_per_byte_year ||
                            memcmp(&r.exemption_threshold, &rc->rent.exemption_threshold, 8) ||
                            r.burn_percent != rc->rent.burn_percent))
            report(c, "Rent sysvar", FAIL,
                   "%llu lamports per byte-year, threshold %g, burn %u%%; the rent collector "
                   "says %llu, %g, %u%%",
                   (unsigned long long)r.lamports_per_byte_year, r.exemption_threshold,
                   r.burn_percent, (unsigned long long)rc->rent.lamports_per_byte_year,
                   rc->rent.exemption_threshold, rc->rent.burn_percent);
        else
            report(c, "Rent sysvar", PASS, "%llu lamports per byte-year, threshold %g%s",
                   (unsigned long long)r.lamports_per_byte_year, r.exemption_threshold,
                   has_rc ? ", as the rent collector's" : "");
    }

    if (sysvar_present(c, "StakeHistory sysvar", ADB_SYSVAR_STAKE_HISTORY,
                       ADB_SYSVAR_STAKE_HISTORY_SZ, &a, false) == 1) {
        adb_stake_hist_t   *h = adb_malloc(sizeof *h);
        char                why[600] = "";
        adb_stakes_t const *st = &b->stakes;
        if (!h)
            snprintf(why, sizeof why, "out of memory");
        else if (adb_sysvar_stake_history_decode(a.data, (size_t)a.data_len, h, &e))
            snprintf(why, sizeof why, "%s", e.msg);
        else {
            uint64_t n = st->stake_history_cnt < ADB_STAKE_HISTORY_MAX ? st->stake_history_cnt
                                                                       : ADB_STAKE_HISTORY_MAX;
            if (h->cnt != n)
                snprintf(why, sizeof why, "%u entries, the bank's stakes %llu", h->cnt,
                         (unsigned long long)n);
            for (uint64_t i = 0; i < n && !why[0]; i++)
                if (memcmp(&h->e[i], &st->stake_history[i], sizeof h->e[i]))
                    snprintf(why, sizeof why, "entry %llu (epoch %llu) differs from the bank's",
                             (unsigned long long)i, (unsigned long long)h->e[i].epoch);
        }
        if (why[0])
            report(c, "StakeHistory sysvar", FAIL, "%s", why);
        else
            report(c, "StakeHistory sysvar", PASS, "%u entries equal the bank's stake history",
                   h->cnt);
        adb_free(h);
    }

    if (sysvar_present(c, "RecentBlockhashes sysvar", ADB_SYSVAR_RECENT_BLOCKHASHES,
                       ADB_SYSVAR_RECENT_BH_SZ, &a, false) == 1) {
        adb_recent_bhs_t *got = adb_malloc(sizeof *got), *want = adb_malloc(sizeof *want);
        char              why[600] = "";
        if (!got || !want)
            snprintf(why, sizeof why, "out of memory");
        else if (adb_sysvar_recent_bh_decode(a.data, (size_t)a.data_len, got, &e))
            snprintf(why, sizeof why, "%s", e.msg);
        else {
            adb_recent_bh_from_queue(&b->blockhash_queue, want);
            if (got->cnt != want->cnt)
                snprintf(why, sizeof why, "%u entries, the queue gives %u", got->cnt, want->cnt);
            for (uint32_t i = 0; i < got->cnt && !why[0]; i++)
                if (memcmp(&got->e[i].hash, &want->e[i].hash, 32) ||
                    got->e[i].lamports_per_signature != want->e[i].lamports_per_signature)
                    snprintf(why, sizeof why, "entry %u differs from the queue's", i);
        }
        if (why[0])
            report(c, "RecentBlockhashes sysvar", FAIL, "%s", why);
        else
            report(c, "RecentBlockhashes sysvar", PASS,
                   "%u entries equal the blockhash queue's newest", got->cnt);
        adb_free(got);
        adb_free(want);
    }
}

int
adb_bank_check(adb_bank_check_in_t const *in, adb_bank_check_fn fn, void *ctx) {
    ck_t c = {.in = in, .fn = fn, .ctx = ctx};
    check_ticks(&c);
    check_schedule(&c);
    check_epoch(&c);
    check_genesis(&c);
    check_rent_collector(&c);
    check_ancestors(&c);
    check_epoch_stakes(&c);
    check_stakes_cache(&c);
    check_queue(&c);
    check_block_id(&c);
    check_sysvars(&c);
    adb_free(c.buf);
    return 0;
}
