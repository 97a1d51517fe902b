/* src/bank/bank_genesis.c - the bank a genesis config implies (Agave
 * Bank::new_from_genesis): its sysvars and its bank fields (see bank.h).
 *
 * Bank 0 here is the genesis bank frozen as it is: no ticks of slot 0 are
 * replayed (acctdb has no PoH), so its blockhash queue holds the genesis
 * hash alone and its last blockhash is that hash.  Everything else follows
 * Agave: stakes from the genesis vote and stake accounts (bootstrap
 * delegations fully effective at epoch 0), epoch stakes for epochs 0 to the
 * leader schedule epoch of slot 0, the sysvars new_from_genesis writes
 * (StakeHistory, Clock, Rent, EpochSchedule, RecentBlockhashes) and
 * SlotHistory (bank 0's freeze records slot 0). */
#include "bank/bank.h"

#include "hash/bankhash.h"
#include "hash/lthash.h"

static void
sysvar(acctdb_account_t *out, adb_sysvar_t which, adb_rent_t const *rent, uint8_t const *data,
       size_t sz) {
    memset(out, 0, sizeof *out);
    out->pubkey = *adb_sysvar_id(which);
    out->owner = *adb_sysvar_id(ADB_SYSVAR_OWNER);
    uint64_t min = adb_rent_minimum_balance(rent, sz);
    out->lamports = min < 1 ? 1 : min;
    out->rent_epoch = 0; /* INITIAL_RENT_EPOCH */
    out->data = data;
    out->data_len = sz;
}

void
adb_bank_genesis_sysvars(adb_bank_genesis_t const *g, adb_bank_genesis_sysvars_t *out) {
    memset(out, 0, sizeof *out);
    adb_epoch_schedule_t const *es = &g->epoch_schedule;
    adb_clock_t                 c = {.slot = 0,
                                     .epoch_start_timestamp = g->creation_time,
                                     .epoch = 0,
                                     .leader_schedule_epoch = adb_epoch_leader_schedule(es, 0),
                                     .unix_timestamp = g->creation_time};
    adb_sysvar_clock_encode(&c, out->clock);
    adb_sysvar_rent_encode(&g->rent, out->rent);
    adb_sysvar_epoch_schedule_encode(es, out->epoch_schedule);
    adb_sysvar_stake_history_encode(NULL, 0, out->stake_history);
    adb_recent_bhs_t r = {.cnt = 1};
    r.e[0] = (adb_recent_bh_t){g->hash, 0}; /* lamports_per_signature is 0 at genesis */
    adb_sysvar_recent_bh_encode(&r, out->recent);
    adb_sysvar_slot_history_default(out->slot_history);
    size_t n = 0;
    sysvar(&out->a[n++], ADB_SYSVAR_STAKE_HISTORY, &g->rent, out->stake_history,
           sizeof out->stake_history);
    sysvar(&out->a[n++], ADB_SYSVAR_CLOCK, &g->rent, out->clock, sizeof out->clock);
    sysvar(&out->a[n++], ADB_SYSVAR_RENT, &g->rent, out->rent, sizeof out->rent);
    sysvar(&out->a[n++], ADB_SYSVAR_EPOCH_SCHEDULE, &g->rent, out->epoch_schedule,
           sizeof out->epoch_schedule);
    sysvar(&out->a[n++], ADB_SYSVAR_RECENT_BLOCKHASHES, &g->rent, out->recent, sizeof out->recent);
    sysvar(&out->a[n++], ADB_SYSVAR_SLOT_HISTORY, &g->rent, out->slot_history,
           sizeof out->slot_history);
    out->cnt = n;
}

/* The node of the vote account with the most stake (Agave's collector of
 * bank 0: highest_staked_node); zeros without stake. */
static acctdb_pubkey_t
highest_staked_node(adb_stakes_t const *st) {
    acctdb_pubkey_t best = {{0}};
    uint64_t        max = 0;
    for (uint64_t i = 0; i < st->vote_accounts_cnt; i++) {
        adb_vote_account_t const *v = &st->vote_accounts[i];
        adb_vote_state_t          vs;
        if (v->stake > max &&
            !adb_vote_state_decode(v->account.data, (size_t)v->account.data_sz, &vs, NULL)) {
            max = v->stake;
            best = vs.node;
        }
    }
    return best;
}

int
adb_bank_genesis_fields(adb_bank_genesis_t const *g, adb_bank_src_t const *src,
                        acctdb_lthash_t const *lt, uint64_t capitalization, uint64_t data_len,
                        adb_arena_t *mem, adb_bank_fields_t *b, adb_extra_fields_t *x) {
    memset(b, 0, sizeof *b);
    memset(x, 0, sizeof *x);
    adb_epoch_schedule_t const *es = &g->epoch_schedule;
    b->slot = 0;
    b->parent_slot = 0;
    b->block_height = 0;
    b->ticks_per_slot = g->ticks_per_slot;
    b->max_tick_height = g->ticks_per_slot;
    b->tick_height = b->max_tick_height;
    b->has_hashes_per_tick = g->has_hashes_per_tick;
    b->hashes_per_tick = g->hashes_per_tick;
    b->ns_per_slot = (unsigned __int128)g->tick_ns * g->ticks_per_slot;
    b->genesis_creation_time = g->creation_time;
    b->slots_per_year = adb_years_as_slots(g->tick_ns, g->ticks_per_slot);
    b->capitalization = capitalization;
    b->accounts_data_len = data_len;
    b->epoch = 0;
    b->fee_rate_governor = g->fee_rate_governor;
    b->rent_collector = (adb_rent_collector_t){0, *es, b->slots_per_year, g->rent};
    b->epoch_schedule = *es;
    b->inflation = g->inflation;
    b->is_delta = false;
    b->ancestors = adb_arena_alloc(mem, sizeof *b->ancestors);
    adb_hash_age_t *age = adb_arena_alloc(mem, sizeof *age);
    if (!b->ancestors || !age) return ACCTDB_ERR_NOMEM;
    b->ancestors[0] = (adb_slot_u64_t){0, 0};
    b->ancestors_cnt = 1;
    *age = (adb_hash_age_t){g->hash, 0, 0,
                            (uint64_t)(g->creation_time > 0 ? g->creation_time : 0) * 1000};
    b->blockhash_queue = (adb_blockhash_queue_t){0, true, g->hash, age, 1, 300};
    ADB_TRY(adb_bank_stakes_compute(src, 0, NULL, 0, UINT64_MAX, mem, &b->stakes));
    b->leader_id = highest_staked_node(&b->stakes);

    x->lamports_per_signature = 0;
    uint64_t lse = adb_epoch_leader_schedule(es, 0);
    x->versioned_epoch_stakes =
        adb_arena_alloc(mem, (size_t)(lse + 1) * sizeof(adb_epoch_stakes_t));
    if (!x->versioned_epoch_stakes) return ACCTDB_ERR_NOMEM;
    for (uint64_t e = 0; e <= lse; e++)
        ADB_TRY(adb_bank_epoch_stakes_make(&b->stakes, e, mem, &x->versioned_epoch_stakes[e]));
    x->versioned_epoch_stakes_cnt = lse + 1;
    x->has_accounts_lt_hash = true;
    memcpy(x->accounts_lt_hash, lt->v, sizeof lt->v);
    x->has_block_id = false;

    /* Bank 0's hash: no parent (zeros), no signatures, the genesis hash as
     * its last blockhash, its lattice hash. */
    static uint8_t const zero[32];
    adb_bankhash_in_t    in = {.parent_hash = zero,
                               .signature_count = 0,
                               .last_blockhash = g->hash.b,
                               .accounts_lt_hash = x->accounts_lt_hash};
    return adb_bankhash(&in, b->hash.b);
}
