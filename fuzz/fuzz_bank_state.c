/* fuzz/fuzz_bank_state.c - the bank-state blob ("ADBBANK1", bank.h) on
 * arbitrary bytes: adb_bank_state_decode must never crash, read out of
 * bounds or leak.  A failure is CORRUPT or NOMEM with a message and leaves
 * nothing allocated.  An accepted blob has at most 512 stake history
 * entries, no more epoch stakes (nor vote accounts, delegations, nodes,
 * voters) than its bytes can hold, allocates at most a small multiple of
 * its size, encodes back to exactly its bytes, decodes again to the same,
 * and every epoch it lists is found by adb_bank_state_epoch_stakes. */
#include "bank/bank.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_bank_state: %s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Each listed element takes at least this many bytes of the blob. */
#define ES_MIN_WIRE    (8 + 40 + 24)
#define VOTE_MIN_WIRE  (32 + 8 + ADB_BANK_ACCOUNT_MIN_SZ)
#define STAKE_MIN_WIRE (32 + 72)

static void
check_counts(adb_bank_state_t const *st, size_t sz) {
    CHECK(st->hist_cnt <= ADB_STAKE_HISTORY_MAX);
    CHECK(st->hist_cnt == 0 || st->hist != NULL);
    CHECK(st->es_cnt <= sz / ES_MIN_WIRE);
    CHECK(st->es_cnt == 0 || st->es != NULL);
    uint64_t votes = 0, dels = 0, nodes = 0, voters = 0;
    for (uint64_t i = 0; i < st->es_cnt; i++) {
        adb_epoch_stakes_t const *es = &st->es[i];
        CHECK(es->stakes.is_stake_form);
        votes += es->stakes.vote_accounts_cnt;
        dels += es->stakes.delegations_cnt;
        nodes += es->node_vote_accounts_cnt;
        voters += es->authorized_voters_cnt;
        for (uint64_t k = 0; k < es->stakes.vote_accounts_cnt; k++) {
            adb_bank_account_t const *a = &es->stakes.vote_accounts[k].account;
            CHECK(a->data_sz <= sz && (a->data_sz == 0) == (a->data == NULL));
        }
        for (uint64_t k = 0; k < es->node_vote_accounts_cnt; k++)
            CHECK(es->node_vote_accounts[k].vote_pubkeys_cnt <= sz / 32);
    }
    CHECK(votes <= sz / VOTE_MIN_WIRE && dels <= sz / STAKE_MIN_WIRE && nodes <= sz / 48 &&
          voters <= sz / 64);
    /* Decoded arrays are at most about twice their wire size (the stake
     * history takes its fixed 16 KiB), so hostile lengths cannot make the
     * decoder allocate out of proportion to its input. */
    CHECK(st->mem.used_sz <= 4 * sz + (64u << 10));
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    adb_bank_state_t st;
    adb_err_t        e = {0};
    int              rc = adb_bank_state_decode(data, sz, &st, &e);
    if (rc) {
        CHECK(rc == ACCTDB_ERR_CORRUPT || rc == ACCTDB_ERR_NOMEM);
        CHECK(e.code == rc && e.msg[0] && memchr(e.msg, 0, sizeof e.msg));
        CHECK(st.mem.head == NULL && st.hist == NULL && st.es == NULL);
        return 0;
    }
    check_counts(&st, sz);
    for (uint64_t i = 0; i < st.es_cnt; i++) {
        adb_epoch_stakes_t const *f = adb_bank_state_epoch_stakes(&st, st.es[i].epoch);
        CHECK(f && f->epoch == st.es[i].epoch && f <= &st.es[i]);
    }

    uint8_t *o = NULL;
    size_t   osz = 0;
    CHECK(adb_bank_state_encode(&st, &o, &osz) == 0);
    CHECK(osz == sz && !memcmp(o, data, sz));

    adb_bank_state_t st2;
    CHECK(adb_bank_state_decode(o, osz, &st2, NULL) == 0);
    CHECK(st2.stakes_epoch == st.stakes_epoch && st2.hist_cnt == st.hist_cnt &&
          st2.es_cnt == st.es_cnt);
    CHECK(st.hist_cnt == 0 || !memcmp(st2.hist, st.hist, st.hist_cnt * sizeof st.hist[0]));
    uint8_t *o2 = NULL;
    size_t   osz2 = 0;
    CHECK(adb_bank_state_encode(&st2, &o2, &osz2) == 0);
    CHECK(osz2 == osz && !memcmp(o2, o, osz));
    adb_free(o2);
    adb_free(o);
    adb_bank_state_fini(&st2);
    adb_bank_state_fini(&st);
    return 0;
}
