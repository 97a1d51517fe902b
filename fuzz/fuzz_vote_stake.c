/* fuzz/fuzz_vote_stake.c - the vote and stake account decoders of
 * src/bank on arbitrary bytes.  The first input byte picks the decoder:
 *
 *   even: adb_vote_state_decode on the rest.  It succeeds exactly when an
 *     independent reading of the three layouts (V1_14_11, V3, V4; every
 *     count at most 255) does, and gives the same node, voters, credits
 *     count and sanity, and last timestamp.  A failure is CORRUPT with a
 *     message; a success has version 1..3 (the input's first u32), at most
 *     255 authorized voters and epoch credits, and decodes the same again
 *     and with bytes appended (trailing bytes are accepted).
 *     adb_vote_is_valid agrees: valid only for a decoded state of a
 *     correct size, owned by the vote program, with lamports;
 *     adb_vote_authorized_voter on ascending voters gives the entry with
 *     the largest epoch not above the one asked for.
 *   odd: adb_stake_delegation_decode.  Input: flags u8 (bit 0: another
 *     owner, bit 1: no lamports), data length u16, the data, then target
 *     epoch u64, new-rate epoch u64 and stake history entries (32 bytes
 *     each).  The result equals an independent reading of the layout
 *     (NOT_FOUND, CORRUPT or the delegation at offset 124), and
 *     adb_stake_status of the delegation never shows more stake than is
 *     delegated, activating only before deactivation, and the effective
 *     stake as deactivating from the deactivation epoch on. */
#include "bank/bank.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_vote_stake: %s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define VOTE_V1_14_11_SZ 3731u
#define VOTE_V3_SZ       3762u

static uint64_t
ld64(uint8_t const *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static bool
vote_eq(adb_vote_state_t const *a, adb_vote_state_t const *b) {
    return a->version == b->version && !memcmp(a->node.b, b->node.b, 32) &&
           a->voters_cnt == b->voters_cnt &&
           !memcmp(a->voter_epoch, b->voter_epoch, a->voters_cnt * sizeof a->voter_epoch[0]) &&
           !memcmp(a->voter, b->voter, a->voters_cnt * sizeof a->voter[0]) &&
           a->credits_cnt == b->credits_cnt && a->credits_sane == b->credits_sane &&
           a->last_ts_slot == b->last_ts_slot && a->last_ts == b->last_ts;
}

/* An independent reading of the three layouts (Agave VoteState1_14_11,
 * VoteStateV3, VoteStateV4), with the decoder's bound of 255 on every
 * count: true iff the data is well formed, filling *out as the decoder
 * should. */
typedef struct cur {
    uint8_t const *p;
    size_t         left;
    bool           ok;
} cur_t;

static uint8_t const *
skip(cur_t *c, uint64_t n) {
    if (!c->ok || n > c->left) {
        c->ok = false;
        return NULL;
    }
    uint8_t const *at = c->p;
    c->p += n, c->left -= (size_t)n;
    return at;
}

static uint64_t
u64_at(cur_t *c) {
    uint8_t const *at = skip(c, 8);
    return at ? ld64(at) : 0;
}

static bool
option_at(cur_t *c) {
    uint8_t const *at = skip(c, 1);
    if (at && *at > 1) c->ok = false;
    return at && *at == 1;
}

static uint64_t
count_at(cur_t *c) {
    uint64_t n = u64_at(c);
    if (n > 255) c->ok = false;
    return c->ok ? n : 0;
}

static bool
ref_vote(uint8_t const *p, size_t n, adb_vote_state_t *out) {
    memset(out, 0, sizeof *out);
    cur_t          c = {p, n, true};
    uint8_t const *v = skip(&c, 4);
    uint32_t       version = 0;
    if (v) memcpy(&version, v, 4);
    if (version < 1 || version > 3) return false;
    out->version = version;
    uint8_t const *node = skip(&c, 32);
    if (node) memcpy(out->node.b, node, 32);
    skip(&c, 32); /* authorized_withdrawer */
    if (version == 3) {
        skip(&c, 32 + 32);               /* inflation rewards and block revenue collectors */
        skip(&c, 2 + 2);                 /* their commissions, in basis points */
        skip(&c, 8);                     /* pending_delegator_rewards */
        if (option_at(&c)) skip(&c, 48); /* bls_pubkey_compressed */
    } else {
        skip(&c, 1); /* commission */
    }
    skip(&c, count_at(&c) * (version == 1 ? 12 : 13)); /* Lockout or LandedVote */
    if (option_at(&c)) skip(&c, 8);                    /* root_slot */
    uint64_t voters = count_at(&c);
    for (uint64_t i = 0; i < voters && c.ok; i++) {
        out->voter_epoch[i] = u64_at(&c);
        uint8_t const *k = skip(&c, 32);
        if (k) memcpy(out->voter[i].b, k, 32);
    }
    out->voters_cnt = (uint32_t)voters;
    if (version != 3) skip(&c, 32 * (32 + 8 + 8) + 8 + 1); /* prior_voters */
    uint64_t credits = count_at(&c), last_e = 0, last_c = 0;
    out->credits_sane = true;
    for (uint64_t i = 0; i < credits && c.ok; i++) {
        uint64_t e = u64_at(&c), cr = u64_at(&c), prev = u64_at(&c);
        if (prev > cr || (i && (e < last_e || prev != last_c))) out->credits_sane = false;
        last_e = e, last_c = cr;
    }
    out->credits_cnt = (uint32_t)credits;
    out->last_ts_slot = u64_at(&c);
    out->last_ts = (int64_t)u64_at(&c);
    return c.ok;
}

/* adb_vote_authorized_voter's contract on ascending voters. */
static void
check_voter(adb_vote_state_t const *vs, uint64_t epoch) {
    acctdb_pubkey_t got;
    bool            has = adb_vote_authorized_voter(vs, epoch, &got);
    int64_t         want = -1;
    for (uint32_t i = 0; i < vs->voters_cnt; i++)
        if (vs->voter_epoch[i] <= epoch) want = i;
    CHECK(has == (want >= 0));
    if (has) CHECK(!memcmp(got.b, vs->voter[want].b, 32));
}

static void
fuzz_vote(uint8_t const *p, size_t n) {
    static adb_vote_state_t vs, vs2;
    adb_err_t               e = {0};
    int                     rc = adb_vote_state_decode(p, n, &vs, &e);
    acctdb_account_t        a = {.lamports = 1, .data = p, .data_len = n};
    a.owner = *adb_vote_program_id();
    bool valid = adb_vote_is_valid(&a);
    bool want = ref_vote(p, n, &vs2);
    CHECK((rc == 0) == want);
    if (rc) {
        CHECK(rc == ACCTDB_ERR_CORRUPT);
        CHECK(e.code == rc && e.msg[0] && memchr(e.msg, 0, sizeof e.msg));
        CHECK(!valid);
        return;
    }
    uint32_t version;
    memcpy(&version, p, 4);
    CHECK(vs.version >= 1 && vs.version <= 3 && vs.version == version);
    CHECK(!memcmp(vs.node.b, p + 4, 32));
    CHECK(vs.voters_cnt <= ADB_VOTE_AUTH_MAX && vs.credits_cnt <= 255);
    CHECK(vote_eq(&vs, &vs2));
    /* The same with trailing bytes. */
    uint8_t *q = malloc(n + 9);
    CHECK(q);
    memcpy(q, p, n);
    memset(q + n, 0xa5, 9);
    CHECK(adb_vote_state_decode(q, n + 9, &vs2, NULL) == 0 && vote_eq(&vs, &vs2));
    free(q);
    /* The same again (a decode depends on nothing else). */
    CHECK(adb_vote_state_decode(p, n, &vs2, NULL) == 0 && vote_eq(&vs, &vs2));
    /* Validity: the sizes and owner the stakes cache requires. */
    if (valid) CHECK(n == VOTE_V1_14_11_SZ || n == VOTE_V3_SZ);
    a.lamports = 0;
    CHECK(!adb_vote_is_valid(&a));
    a.lamports = 1;
    a.owner = *adb_stake_program_id();
    CHECK(!adb_vote_is_valid(&a));

    bool ascending = true;
    for (uint32_t i = 1; i < vs.voters_cnt; i++)
        ascending &= vs.voter_epoch[i] > vs.voter_epoch[i - 1];
    if (!ascending) return;
    check_voter(&vs, 0);
    check_voter(&vs, UINT64_MAX);
    for (uint32_t i = 0; i < vs.voters_cnt; i++) {
        check_voter(&vs, vs.voter_epoch[i]);
        check_voter(&vs, vs.voter_epoch[i] - 1);
        check_voter(&vs, vs.voter_epoch[i] + 1);
    }
}

/* ---- stake accounts ------------------------------------------------------ */

#define STAKE_DELEG_OFF 124u

static void
check_status(adb_delegation_t const *d, uint64_t target, adb_stake_history_entry_t const *h,
             size_t hn, uint64_t nre) {
    adb_stake_status_t s = adb_stake_status(d, target, h, hn, nre);
    CHECK(s.effective <= d->stake);
    CHECK(s.activating <= d->stake - s.effective);
    if (target < d->deactivation_epoch) {
        CHECK(s.deactivating == 0);
        if (d->activation_epoch == UINT64_MAX) CHECK(s.effective == d->stake && !s.activating);
        if (target < d->activation_epoch || d->activation_epoch == d->deactivation_epoch)
            CHECK(d->activation_epoch == UINT64_MAX || (!s.effective && !s.activating));
    } else {
        CHECK(s.activating == 0 && s.deactivating == s.effective);
    }
    adb_stake_status_t t = adb_stake_status(d, target, h, hn, nre);
    CHECK(!memcmp(&s, &t, sizeof s));
}

static void
fuzz_stake(uint8_t const *p, size_t n) {
    if (n < 3) return;
    uint8_t        flags = p[0];
    size_t         dlen = (size_t)(p[1] | p[2] << 8);
    uint8_t const *rest = p + 3;
    size_t         left = n - 3;
    dlen = dlen < left ? dlen : left;
    /* An exact-size copy, so reads past the account's data are caught. */
    uint8_t *data = malloc(dlen ? dlen : 1);
    CHECK(data);
    memcpy(data, rest, dlen);
    rest += dlen, left -= dlen;

    acctdb_account_t a = {
        .lamports = flags & 2 ? 0 : 1 + (flags >> 2), .data = data, .data_len = dlen};
    a.owner = flags & 1 ? *adb_vote_program_id() : *adb_stake_program_id();
    adb_delegation_t d;
    uint64_t         credits = 0;
    int              rc = adb_stake_delegation_decode(&a, &d, &credits);

    int want;
    if (flags & 3)
        want = ACCTDB_ERR_NOT_FOUND;
    else if (dlen < 4)
        want = ACCTDB_ERR_CORRUPT;
    else {
        uint32_t tag;
        memcpy(&tag, data, 4);
        if (tag != 2)
            want = tag > 3 ? ACCTDB_ERR_CORRUPT : ACCTDB_ERR_NOT_FOUND;
        else
            want = dlen < STAKE_DELEG_OFF + 72 + 1 ? ACCTDB_ERR_CORRUPT : 0;
    }
    CHECK(rc == want);
    if (rc) {
        free(data);
        return;
    }
    uint8_t const *q = data + STAKE_DELEG_OFF;
    CHECK(!memcmp(d.voter_pubkey.b, q, 32));
    CHECK(d.stake == ld64(q + 32) && d.activation_epoch == ld64(q + 40) &&
          d.deactivation_epoch == ld64(q + 48) && !memcmp(&d.warmup_cooldown_rate, q + 56, 8) &&
          credits == ld64(q + 64));
    adb_delegation_t d2;
    CHECK(adb_stake_delegation_decode(&a, &d2, NULL) == 0 && !memcmp(&d, &d2, sizeof d));
    free(data);

    /* Activation and deactivation against the history in the input. */
    uint64_t target = left >= 8 ? ld64(rest) : d.activation_epoch + 1;
    uint64_t nre = left >= 16 ? ld64(rest + 8) : UINT64_MAX;
    size_t   hn = left > 16 ? (left - 16) / 32 : 0;
    hn = hn < ADB_STAKE_HISTORY_MAX ? hn : ADB_STAKE_HISTORY_MAX;
    adb_stake_history_entry_t *h = malloc((hn ? hn : 1) * sizeof *h);
    CHECK(h);
    if (hn) memcpy(h, rest + 16, hn * sizeof *h);
    check_status(&d, target, h, hn, nre);
    check_status(&d, d.activation_epoch, h, hn, nre);
    check_status(&d, d.deactivation_epoch, h, hn, nre);
    if (hn) check_status(&d, h[0].epoch, h, hn, nre);
    free(h);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz == 0) return 0;
    if (data[0] % 2 == 0)
        fuzz_vote(data + 1, sz - 1);
    else
        fuzz_stake(data + 1, sz - 1);
    return 0;
}
