/* src/bank/bank_types.c - bincode of the fixed-size runtime types (see
 * bank_types.h). */
#include "bank/bank_types.h"

#include <stdio.h>

void
adb_bank_fee_rate_governor_read(adb_bc_rd_t *rd, adb_fee_rate_governor_t *out, char const *what) {
    out->target_lamports_per_signature = adb_bc_u64(rd, what);
    out->target_signatures_per_slot = adb_bc_u64(rd, what);
    out->min_lamports_per_signature = adb_bc_u64(rd, what);
    out->max_lamports_per_signature = adb_bc_u64(rd, what);
    out->burn_percent = adb_bc_u8(rd, what);
}

void
adb_bank_fee_rate_governor_write(adb_bc_wr_t *wr, adb_fee_rate_governor_t const *v) {
    adb_bc_put_u64(wr, v->target_lamports_per_signature);
    adb_bc_put_u64(wr, v->target_signatures_per_slot);
    adb_bc_put_u64(wr, v->min_lamports_per_signature);
    adb_bc_put_u64(wr, v->max_lamports_per_signature);
    adb_bc_put_u8(wr, v->burn_percent);
}

void
adb_bank_rent_read(adb_bc_rd_t *rd, adb_rent_t *out, char const *what) {
    out->lamports_per_byte_year = adb_bc_u64(rd, what);
    out->exemption_threshold = adb_bc_f64(rd, what);
    out->burn_percent = adb_bc_u8(rd, what);
}

void
adb_bank_rent_write(adb_bc_wr_t *wr, adb_rent_t const *v) {
    adb_bc_put_u64(wr, v->lamports_per_byte_year);
    adb_bc_put_f64(wr, v->exemption_threshold);
    adb_bc_put_u8(wr, v->burn_percent);
}

void
adb_bank_epoch_schedule_read(adb_bc_rd_t *rd, adb_epoch_schedule_t *out, char const *what) {
    out->slots_per_epoch = adb_bc_u64(rd, what);
    out->leader_schedule_slot_offset = adb_bc_u64(rd, what);
    out->warmup = adb_bc_bool(rd, what);
    out->first_normal_epoch = adb_bc_u64(rd, what);
    out->first_normal_slot = adb_bc_u64(rd, what);
}

void
adb_bank_epoch_schedule_write(adb_bc_wr_t *wr, adb_epoch_schedule_t const *v) {
    adb_bc_put_u64(wr, v->slots_per_epoch);
    adb_bc_put_u64(wr, v->leader_schedule_slot_offset);
    adb_bc_put_bool(wr, v->warmup);
    adb_bc_put_u64(wr, v->first_normal_epoch);
    adb_bc_put_u64(wr, v->first_normal_slot);
}

void
adb_bank_inflation_read(adb_bc_rd_t *rd, adb_inflation_t *out, char const *what) {
    out->initial = adb_bc_f64(rd, what);
    out->terminal = adb_bc_f64(rd, what);
    out->taper = adb_bc_f64(rd, what);
    out->foundation = adb_bc_f64(rd, what);
    out->foundation_term = adb_bc_f64(rd, what);
    out->unused = adb_bc_f64(rd, what);
}

void
adb_bank_inflation_write(adb_bc_wr_t *wr, adb_inflation_t const *v) {
    adb_bc_put_f64(wr, v->initial);
    adb_bc_put_f64(wr, v->terminal);
    adb_bc_put_f64(wr, v->taper);
    adb_bc_put_f64(wr, v->foundation);
    adb_bc_put_f64(wr, v->foundation_term);
    adb_bc_put_f64(wr, v->unused);
}

void
adb_bank_account_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_bank_account_t *out,
                      char const *what) {
    out->lamports = adb_bc_u64(rd, what);
    out->data = adb_bc_bytes_dup(rd, mem, &out->data_sz, what);
    adb_bc_copy(rd, out->owner.b, 32, what);
    out->executable = adb_bc_bool(rd, what);
    out->rent_epoch = adb_bc_u64(rd, what);
}

void
adb_bank_account_write(adb_bc_wr_t *wr, adb_bank_account_t const *a) {
    adb_bc_put_u64(wr, a->lamports);
    adb_bc_put_str(wr, a->data, (size_t)a->data_sz);
    adb_bc_put_bytes(wr, a->owner.b, 32);
    adb_bc_put_bool(wr, a->executable);
    adb_bc_put_u64(wr, a->rent_epoch);
}

/* ---- stakes and epoch stakes (FORMAT.md 3.4.4, 3.4.5, 3.6) ---------------- */

#define NM 128 /* room for a field path */

/* Minimum wire sizes of map/vec elements, for adb_bc_len. */
#define VOTE_ACCOUNT_MIN       (32 + 8 + ADB_BANK_ACCOUNT_MIN_SZ)
#define DELEGATION_MIN         (32 + 64) /* Pubkey + Delegation */
#define STAKE_MIN              (32 + 72) /* Pubkey + Stake */
#define STAKE_HISTORY_MIN      32
#define NODE_VOTE_ACCOUNTS_MIN (32 + 8 + 8)
#define AUTHORIZED_VOTER_MIN   64

static char const *
nm(char *buf, char const *p, char const *f) {
    snprintf(buf, NM, "%s.%s", p, f);
    return buf;
}

void
adb_bank_pubkeys_read(adb_bc_rd_t *rd, adb_arena_t *mem, acctdb_pubkey_t **arr, uint64_t *cnt,
                      char const *what) {
    *arr = adb_bc_vec(rd, mem, 32, sizeof **arr, cnt, what);
    if (*cnt) adb_bc_copy(rd, *arr, (size_t)*cnt * 32, what);
}

void
adb_bank_delegation_read(adb_bc_rd_t *rd, adb_delegation_t *d, char const *what) {
    adb_bc_copy(rd, d->voter_pubkey.b, 32, what);
    d->stake = adb_bc_u64(rd, what);
    d->activation_epoch = adb_bc_u64(rd, what);
    d->deactivation_epoch = adb_bc_u64(rd, what);
    d->warmup_cooldown_rate = adb_bc_f64(rd, what);
}

void
adb_bank_stakes_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_stakes_t *st, bool stake_form,
                     char const *p) {
    char n1[NM], n2[NM];
    st->is_stake_form = stake_form;

    st->vote_accounts = adb_bc_vec(rd, mem, VOTE_ACCOUNT_MIN, sizeof *st->vote_accounts,
                                   &st->vote_accounts_cnt, nm(n1, p, "vote_accounts"));
    nm(n2, p, "vote_accounts.account");
    for (uint64_t i = 0; i < st->vote_accounts_cnt && adb_bc_ok(rd); i++) {
        adb_vote_account_t *va = &st->vote_accounts[i];
        adb_bc_copy(rd, va->vote_pubkey.b, 32, n1);
        va->stake = adb_bc_u64(rd, n1);
        adb_bank_account_read(rd, mem, &va->account, n2);
    }

    st->delegations =
        adb_bc_vec(rd, mem, stake_form ? STAKE_MIN : DELEGATION_MIN, sizeof *st->delegations,
                   &st->delegations_cnt, nm(n1, p, "stake_delegations"));
    for (uint64_t i = 0; i < st->delegations_cnt && adb_bc_ok(rd); i++) {
        adb_stake_delegation_t *sd = &st->delegations[i];
        adb_bc_copy(rd, sd->stake_pubkey.b, 32, n1);
        adb_bank_delegation_read(rd, &sd->delegation, n1);
        if (stake_form) sd->credits_observed = adb_bc_u64(rd, n1);
    }

    st->unused = adb_bc_u64(rd, nm(n1, p, "unused"));
    st->epoch = adb_bc_u64(rd, nm(n1, p, "epoch"));

    st->stake_history = adb_bc_vec(rd, mem, STAKE_HISTORY_MIN, sizeof *st->stake_history,
                                   &st->stake_history_cnt, nm(n1, p, "stake_history"));
    for (uint64_t i = 0; i < st->stake_history_cnt && adb_bc_ok(rd); i++) {
        adb_stake_history_entry_t *e = &st->stake_history[i];
        e->epoch = adb_bc_u64(rd, n1);
        e->effective = adb_bc_u64(rd, n1);
        e->activating = adb_bc_u64(rd, n1);
        e->deactivating = adb_bc_u64(rd, n1);
    }
}

/* The part of EpochStakes after the map key (and, for the versioned form,
 * after the variant): stakes, total_stake, node_id_to_vote_accounts,
 * epoch_authorized_voters. */
void
adb_bank_epoch_stakes_body_read(adb_bc_rd_t *rd, adb_arena_t *mem, adb_epoch_stakes_t *es,
                                bool stake_form, char const *p) {
    char n1[NM], n2[NM];
    adb_bank_stakes_read(rd, mem, &es->stakes, stake_form, nm(n1, p, "stakes"));
    es->total_stake = adb_bc_u64(rd, nm(n1, p, "total_stake"));

    es->node_vote_accounts =
        adb_bc_vec(rd, mem, NODE_VOTE_ACCOUNTS_MIN, sizeof *es->node_vote_accounts,
                   &es->node_vote_accounts_cnt, nm(n1, p, "node_id_to_vote_accounts"));
    nm(n2, p, "node_id_to_vote_accounts.vote_accounts");
    for (uint64_t i = 0; i < es->node_vote_accounts_cnt && adb_bc_ok(rd); i++) {
        adb_node_vote_accounts_t *nv = &es->node_vote_accounts[i];
        adb_bc_copy(rd, nv->node_id.b, 32, n1);
        adb_bank_pubkeys_read(rd, mem, &nv->vote_pubkeys, &nv->vote_pubkeys_cnt, n2);
        nv->total_stake = adb_bc_u64(rd, n1);
    }

    es->authorized_voters =
        adb_bc_vec(rd, mem, AUTHORIZED_VOTER_MIN, sizeof *es->authorized_voters,
                   &es->authorized_voters_cnt, nm(n1, p, "epoch_authorized_voters"));
    if (es->authorized_voters_cnt)
        adb_bc_copy(rd, es->authorized_voters, (size_t)es->authorized_voters_cnt * 64, n1);
}

void
adb_bank_pubkeys_write(adb_bc_wr_t *wr, acctdb_pubkey_t const *a, uint64_t n) {
    adb_bc_put_u64(wr, n);
    if (n) adb_bc_put_bytes(wr, a, (size_t)n * 32);
}

void
adb_bank_stakes_write(adb_bc_wr_t *wr, adb_stakes_t const *st) {
    adb_bc_put_u64(wr, st->vote_accounts_cnt);
    for (uint64_t i = 0; i < st->vote_accounts_cnt; i++) {
        adb_vote_account_t const *va = &st->vote_accounts[i];
        adb_bc_put_bytes(wr, va->vote_pubkey.b, 32);
        adb_bc_put_u64(wr, va->stake);
        adb_bank_account_write(wr, &va->account);
    }
    adb_bc_put_u64(wr, st->delegations_cnt);
    for (uint64_t i = 0; i < st->delegations_cnt; i++) {
        adb_stake_delegation_t const *sd = &st->delegations[i];
        adb_bc_put_bytes(wr, sd->stake_pubkey.b, 32);
        adb_bc_put_bytes(wr, sd->delegation.voter_pubkey.b, 32);
        adb_bc_put_u64(wr, sd->delegation.stake);
        adb_bc_put_u64(wr, sd->delegation.activation_epoch);
        adb_bc_put_u64(wr, sd->delegation.deactivation_epoch);
        adb_bc_put_f64(wr, sd->delegation.warmup_cooldown_rate);
        if (st->is_stake_form) adb_bc_put_u64(wr, sd->credits_observed);
    }
    adb_bc_put_u64(wr, st->unused);
    adb_bc_put_u64(wr, st->epoch);
    adb_bc_put_u64(wr, st->stake_history_cnt);
    for (uint64_t i = 0; i < st->stake_history_cnt; i++) {
        adb_stake_history_entry_t const *e = &st->stake_history[i];
        adb_bc_put_u64(wr, e->epoch);
        adb_bc_put_u64(wr, e->effective);
        adb_bc_put_u64(wr, e->activating);
        adb_bc_put_u64(wr, e->deactivating);
    }
}

void
adb_bank_epoch_stakes_body_write(adb_bc_wr_t *wr, adb_epoch_stakes_t const *es) {
    adb_bank_stakes_write(wr, &es->stakes);
    adb_bc_put_u64(wr, es->total_stake);
    adb_bc_put_u64(wr, es->node_vote_accounts_cnt);
    for (uint64_t i = 0; i < es->node_vote_accounts_cnt; i++) {
        adb_node_vote_accounts_t const *nv = &es->node_vote_accounts[i];
        adb_bc_put_bytes(wr, nv->node_id.b, 32);
        adb_bank_pubkeys_write(wr, nv->vote_pubkeys, nv->vote_pubkeys_cnt);
        adb_bc_put_u64(wr, nv->total_stake);
    }
    adb_bc_put_u64(wr, es->authorized_voters_cnt);
    for (uint64_t i = 0; i < es->authorized_voters_cnt; i++) {
        adb_bc_put_bytes(wr, es->authorized_voters[i].vote_pubkey.b, 32);
        adb_bc_put_bytes(wr, es->authorized_voters[i].voter.b, 32);
    }
}
