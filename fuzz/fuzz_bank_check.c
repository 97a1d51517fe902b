/* fuzz/fuzz_bank_check.c - adb_bank_check, the loader checks, over a
 * manifest and accounts taken from the input, and the bank state a
 * manifest implies (adb_bank_state_from_origin) through its blob.
 *
 * Input: flags u8 (bit 0: a genesis made from the manifest's own fields;
 * bit 1: flip v41, bit 2: flip merkle_era, both otherwise derived as
 * src/snapshot/load.c derives them), u32 manifest size, the manifest, then
 * account records up to the end, each:
 *   key u8, owner u8   (0..7: adb_sysvar_id(k), 8: the vote program,
 *                       9: the stake program, else 32 bytes follow)
 *   lamports u64, rent_epoch u64, executable u8,
 *   data_len u32 (at most 1 MiB), head_len u32, tail_len u32, head, tail
 * where the data is head, zeros, tail (so a 131,097-byte SlotHistory fits
 * in a few hundred bytes).  A malformed record ends the list.  The source
 * serves the first record of a key; each_owned every record of an owner.
 *
 * Invariants: every one of the 24 checks reports exactly once, in the
 * documented order, with a status PASS/FAIL/SKIP and a non-empty detail;
 * a second run reports the same; the verdicts that follow directly from
 * the inputs hold (tick heights, epoch, genesis fields against a genesis
 * made from them, ancestors, legacy epoch stakes, queue size, block id,
 * absent and foreign-owned sysvars).  The origin bank state encodes,
 * decodes and encodes to the same bytes. */
#include "bank/bank.h"
#include "snapshot/manifest.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_bank_check: %s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- the accounts -------------------------------------------------------- */

#define REC_MAX      1024
#define REC_DATA_MAX ((uint32_t)1 << 20)
#define ALL_DATA_MAX ((size_t)32 << 20)

typedef struct rec {
    acctdb_account_t a;
    uint8_t         *data;
} rec_t;

typedef struct accts {
    rec_t  r[REC_MAX];
    size_t cnt;
} accts_t;

static accts_t g_accts;

typedef struct rd {
    uint8_t const *p;
    size_t         left;
} rd_t;

static bool
take(rd_t *r, void *dst, size_t n) {
    if (r->left < n) return false;
    if (dst) memcpy(dst, r->p, n);
    r->p += n, r->left -= n;
    return true;
}

static bool
take_key(rd_t *r, acctdb_pubkey_t *k) {
    uint8_t sel;
    if (!take(r, &sel, 1)) return false;
    if (sel < ADB_SYSVAR_CNT)
        *k = *adb_sysvar_id((adb_sysvar_t)sel);
    else if (sel == 8)
        *k = *adb_vote_program_id();
    else if (sel == 9)
        *k = *adb_stake_program_id();
    else
        return take(r, k->b, 32);
    return true;
}

static void
accts_parse(accts_t *as, rd_t *r) {
    size_t total = 0;
    as->cnt = 0;
    while (r->left && as->cnt < REC_MAX) {
        rec_t   *x = &as->r[as->cnt];
        uint8_t  exec;
        uint32_t len, head, tail;
        memset(x, 0, sizeof *x);
        if (!take_key(r, &x->a.pubkey) || !take_key(r, &x->a.owner) ||
            !take(r, &x->a.lamports, 8) || !take(r, &x->a.rent_epoch, 8) || !take(r, &exec, 1) ||
            !take(r, &len, 4) || !take(r, &head, 4) || !take(r, &tail, 4))
            break;
        if (len > REC_DATA_MAX || head > len || tail > len - head || head + tail > r->left ||
            total + len > ALL_DATA_MAX)
            break;
        x->data = malloc(len ? len : 1);
        CHECK(x->data);
        memset(x->data, 0, len);
        take(r, x->data, head);
        take(r, x->data + len - tail, tail);
        x->a.executable = exec & 1;
        x->a.data_len = len;
        x->a.data = x->data;
        total += len;
        as->cnt++;
    }
}

static void
accts_free(accts_t *as) {
    for (size_t i = 0; i < as->cnt; i++)
        free(as->r[i].data);
    as->cnt = 0;
}

static rec_t const *
accts_find(accts_t const *as, acctdb_pubkey_t const *key) {
    for (size_t i = 0; i < as->cnt; i++)
        if (!memcmp(as->r[i].a.pubkey.b, key->b, 32)) return &as->r[i];
    return NULL;
}

static int
src_get(void *ctx, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t **buf, size_t *cap) {
    rec_t const *x = accts_find(ctx, key);
    if (!x) return ACCTDB_ERR_NOT_FOUND;
    size_t n = (size_t)x->a.data_len;
    if (*cap < n || !*buf) {
        uint8_t *nb = adb_realloc(*buf, n ? n : 1);
        if (!nb) return ACCTDB_ERR_NOMEM;
        *buf = nb;
        *cap = n ? n : 1;
    }
    if (n) memcpy(*buf, x->data, n);
    *out = x->a;
    out->data = *buf;
    return 0;
}

static int
src_each(void *ctx, acctdb_pubkey_t const *owner, int (*fn)(void *, acctdb_account_t const *),
         void *fctx) {
    accts_t const *as = ctx;
    for (size_t i = 0; i < as->cnt; i++)
        if (!memcmp(as->r[i].a.owner.b, owner->b, 32)) {
            int rc = fn(fctx, &as->r[i].a);
            if (rc) return rc;
        }
    return 0;
}

/* ---- the reports --------------------------------------------------------- */

/* The documented order (bank.h); every run must report exactly these. */
#define g_names   adb_bank_check_names
#define CHECK_CNT ADB_BANK_CHECK_CNT

typedef struct reports {
    size_t cnt;
    int    status[CHECK_CNT];
    char   detail[CHECK_CNT][1024];
} reports_t;

static reports_t g_rep[2];

static void
on_report(void *ctx, char const *name, int status, char const *detail) {
    reports_t *r = ctx;
    CHECK(r->cnt < CHECK_CNT);
    CHECK(name && !strcmp(name, g_names[r->cnt]));
    CHECK(status == ADB_BANK_CHECK_PASS || status == ADB_BANK_CHECK_FAIL ||
          status == ADB_BANK_CHECK_SKIP);
    CHECK(detail && detail[0]);
    size_t n = strlen(detail);
    CHECK(n < sizeof r->detail[0]);
    r->status[r->cnt] = status;
    memcpy(r->detail[r->cnt], detail, n + 1);
    r->cnt++;
}

static int
status_of(char const *name) {
    for (size_t i = 0; i < CHECK_CNT; i++)
        if (!strcmp(name, g_names[i])) return g_rep[0].status[i];
    abort();
}

#define PASS ADB_BANK_CHECK_PASS
#define FAIL ADB_BANK_CHECK_FAIL
#define SKIP ADB_BANK_CHECK_SKIP

/* The verdicts that follow directly from the inputs. */
static void
check_verdicts(adb_bank_check_in_t const *in, accts_t const *as) {
    adb_bank_fields_t const  *b = in->b;
    adb_extra_fields_t const *x = in->x;

    uint64_t want;
    bool     ovf =
        __builtin_mul_overflow(b->slot + 1, b->ticks_per_slot, &want) || b->slot == UINT64_MAX;
    CHECK(status_of("max tick height") == (!ovf && b->max_tick_height == want ? PASS : FAIL));
    CHECK(status_of("tick height") == (b->tick_height == b->max_tick_height ? PASS : FAIL));

    uint64_t e = adb_epoch_of(&b->epoch_schedule, b->slot);
    CHECK(status_of("epoch") == (b->epoch == e ? PASS : in->v41 && b->epoch == 0 ? SKIP : FAIL));

    adb_bank_genesis_t const *g = in->genesis;
    if (!g) {
        for (size_t i = 4; i <= 8; i++)
            CHECK(g_rep[0].status[i] == SKIP);
    } else {
        CHECK(status_of("genesis creation time") == PASS);
        CHECK(status_of("ticks per slot") == PASS);
        CHECK(status_of("epoch schedule vs genesis") == PASS);
        CHECK(status_of("ns per slot") ==
              ((unsigned __int128)g->tick_ns * g->ticks_per_slot == b->ns_per_slot ? PASS : FAIL));
    }

    bool self = false;
    for (uint64_t i = 0; i < b->ancestors_cnt; i++)
        self |= b->ancestors[i].slot == b->slot;
    CHECK(status_of("ancestors") == (b->ancestors_cnt > 8192        ? FAIL
                                     : self                         ? PASS
                                     : !b->ancestors_cnt && in->v41 ? SKIP
                                                                    : FAIL));

    CHECK(status_of("legacy epoch stakes") == (in->merkle_era        ? SKIP
                                               : b->epoch_stakes_cnt ? FAIL
                                                                     : PASS));

    adb_blockhash_queue_t const *q = &b->blockhash_queue;
    if (!q->has_last_hash || !q->ages_cnt || q->ages_cnt > 301)
        CHECK(status_of("blockhash queue") == FAIL);

    static uint8_t const zero[32];
    CHECK(status_of("block id") == (!x->has_block_id                   ? SKIP
                                    : !memcmp(x->block_id.b, zero, 32) ? FAIL
                                                                       : PASS));

    /* Sysvars: absent is SKIP (FAIL for the two loaders require), present
     * with another owner is FAIL. */
    static struct {
        char const  *name;
        adb_sysvar_t which;
        bool         required;
    } const sv[] = {
        {"Clock sysvar", ADB_SYSVAR_CLOCK, false},
        {"SlotHashes sysvar", ADB_SYSVAR_SLOT_HASHES, false},
        {"SlotHistory sysvar", ADB_SYSVAR_SLOT_HISTORY, true},
        {"EpochSchedule sysvar", ADB_SYSVAR_EPOCH_SCHEDULE, false},
        {"Rent sysvar", ADB_SYSVAR_RENT, true},
        {"StakeHistory sysvar", ADB_SYSVAR_STAKE_HISTORY, false},
        {"RecentBlockhashes sysvar", ADB_SYSVAR_RECENT_BLOCKHASHES, false},
    };
    for (size_t i = 0; i < sizeof sv / sizeof sv[0]; i++) {
        rec_t const *r = accts_find(as, adb_sysvar_id(sv[i].which));
        int          st = status_of(sv[i].name);
        if (!r)
            CHECK(st == (sv[i].required ? FAIL : SKIP));
        else if (memcmp(r->a.owner.b, adb_sysvar_id(ADB_SYSVAR_OWNER)->b, 32))
            CHECK(st == FAIL);
        else
            CHECK(st != SKIP);
    }
}

/* The origin bank state through its blob. */
static void
check_origin_state(adb_manifest_t const *m) {
    adb_bank_state_t st;
    int              rc = adb_bank_state_from_origin(&m->bank, &m->extra, &st);
    if (rc) {
        CHECK(rc == ACCTDB_ERR_NOMEM);
        adb_bank_state_fini(&st);
        return;
    }
    CHECK(st.hist_cnt <= ADB_STAKE_HISTORY_MAX);
    CHECK(st.stakes_epoch == m->bank.stakes.epoch);
    for (uint64_t i = 1; i < st.hist_cnt; i++)
        CHECK(st.hist[i].epoch < st.hist[i - 1].epoch);
    for (uint64_t i = 1; i < st.es_cnt; i++)
        CHECK(st.es[i].epoch >= st.es[i - 1].epoch);
    uint8_t *o = NULL, *o2 = NULL;
    size_t   osz = 0, osz2 = 0;
    CHECK(adb_bank_state_encode(&st, &o, &osz) == 0);
    adb_bank_state_t st2;
    adb_err_t        e = {0};
    rc = adb_bank_state_decode(o, osz, &st2, &e);
    if (rc) fprintf(stderr, "fuzz_bank_check: origin state blob: %s\n", e.msg);
    CHECK(rc == 0);
    CHECK(st2.stakes_epoch == st.stakes_epoch && st2.hist_cnt == st.hist_cnt &&
          st2.es_cnt == st.es_cnt);
    CHECK(adb_bank_state_encode(&st2, &o2, &osz2) == 0);
    CHECK(osz2 == osz && !memcmp(o, o2, osz));
    adb_free(o);
    adb_free(o2);
    adb_bank_state_fini(&st2);
    adb_bank_state_fini(&st);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    rd_t     r = {data, sz};
    uint8_t  flags;
    uint32_t mlen;
    if (!take(&r, &flags, 1) || !take(&r, &mlen, 4)) return 0;
    if (mlen > r.left) mlen = (uint32_t)r.left;
    adb_manifest_t m;
    int            rc = adb_manifest_decode(r.p, mlen, 0, &m, NULL);
    take(&r, NULL, mlen);
    if (rc) return 0; /* fuzz_manifest covers the decoder */

    accts_t *as = &g_accts;
    accts_parse(as, &r);
    adb_bank_src_t           src = {src_get, src_each, as};
    adb_bank_genesis_t       gen = {0};
    adb_bank_fields_t const *b = &m.bank;
    gen.creation_time = b->genesis_creation_time;
    gen.ticks_per_slot = b->ticks_per_slot;
    gen.tick_ns = b->ticks_per_slot ? (uint64_t)(b->ns_per_slot / b->ticks_per_slot) : 0;
    gen.epoch_schedule = b->epoch_schedule;
    gen.rent = b->rent_collector.rent;
    gen.fee_rate_governor = b->fee_rate_governor;
    gen.inflation = b->inflation;
    adb_bank_check_in_t in = {
        .b = &m.bank,
        .x = &m.extra,
        .v41 = ADB_MANIFEST_HAS(&m, ADB_MANIFEST_F_BLOCK_ID) ^ !!(flags & 2),
        .merkle_era = !m.extra.has_accounts_lt_hash ^ !!(flags & 4),
        .genesis = flags & 1 ? &gen : NULL,
        .src = &src,
    };

    for (int run = 0; run < 2; run++) {
        memset(&g_rep[run], 0, sizeof g_rep[run]);
        CHECK(adb_bank_check(&in, on_report, &g_rep[run]) == 0);
        CHECK(g_rep[run].cnt == CHECK_CNT);
    }
    for (size_t i = 0; i < CHECK_CNT; i++)
        CHECK(g_rep[0].status[i] == g_rep[1].status[i] &&
              !strcmp(g_rep[0].detail[i], g_rep[1].detail[i]));
    check_verdicts(&in, as);
    check_origin_state(&m);

    accts_free(as);
    adb_manifest_fini(&m);
    return 0;
}
