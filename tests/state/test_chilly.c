/* tests/state/test_chilly.c - Chilly (src/state/chilly.h) and its
 * simulator (src/state/chilly_sim.h, acctdb_chilly_* in acctdb_sim.h): the
 * rule at its edges, one transaction's semantics, the watermark, the
 * hot-set bound on random traces, the trace parser (every error with its
 * message), the simulator against a naive reference of both models,
 * determinism, Chilly against the LRU, and the hit rates on a skewed
 * trace. */
#include "../test.h"

#include "state/chilly.h"
#include "state/chilly_sim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE ADB_CHILLY_ACCOUNT_BASE_SZ

/* ---- the rule ------------------------------------------------------------------ */

static void
test_rule(void **state) {
    (void)state;
    /* New accounts are cold, whatever the totals and the cache. */
    assert_true(adb_chilly_is_cold(0, 0, 0));
    assert_true(adb_chilly_is_cold(12345, 0, UINT64_MAX));
    assert_true(adb_chilly_is_cold(UINT64_MAX, 0, UINT64_MAX));
    /* Exactly cache_sz apart is hot, one more is cold. */
    assert_false(adb_chilly_is_cold(1000, 900, 100));
    assert_true(adb_chilly_is_cold(1000, 899, 100));
    assert_false(adb_chilly_is_cold(1000, 1000, 100));
    /* cache 0: only the counter equal to the total is hot. */
    assert_false(adb_chilly_is_cold(1000, 1000, 0));
    assert_true(adb_chilly_is_cold(1000, 999, 0));
    /* An unbounded cache: every loaded account is hot. */
    assert_false(adb_chilly_is_cold(UINT64_MAX, 1, UINT64_MAX));
    assert_false(adb_chilly_is_cold(UINT64_MAX, 1, UINT64_MAX - 1));
    assert_true(adb_chilly_is_cold(UINT64_MAX, 1, UINT64_MAX - 2));
    /* A counter above the total (another chain's): hot, never an
     * underflowed huge distance. */
    assert_false(adb_chilly_is_cold(1000, 1001, 0));
    assert_false(adb_chilly_is_cold(0, UINT64_MAX, 0));
    /* Load sizes: the 64-byte base, saturating. */
    assert_int_equal(adb_chilly_load_sz(0), 64);
    assert_int_equal(adb_chilly_load_sz(165), 229);
    assert_true(adb_chilly_load_sz(UINT64_MAX - 65) == UINT64_MAX - 1);
    assert_true(adb_chilly_load_sz(UINT64_MAX - 64) == UINT64_MAX);
    assert_true(adb_chilly_load_sz(UINT64_MAX) == UINT64_MAX);
    /* evictable is is_cold. */
    adb_test_rng_t r = {adb_test_seed() ^ 0xC011ull};
    for (int i = 0; i < 100000; i++) {
        uint64_t l = adb_test_rng_next(&r) >> adb_test_rng_below(&r, 64);
        uint64_t c =
            adb_test_rng_below(&r, 4) ? l - adb_test_rng_below(&r, 1000) : adb_test_rng_next(&r);
        uint64_t cs = adb_test_rng_below(&r, 1200);
        assert_int_equal(adb_chilly_evictable(l, c, cs), adb_chilly_is_cold(l, c, cs));
    }
}

static void
test_touch(void **state) {
    (void)state;
    /* Verdicts against the start of the transaction, counters after it. */
    uint64_t lb = 1000, ctr[3] = {900, 899, 0}, lens[3] = {10, 20, 30};
    uint8_t  cold[3] = {9, 9, 9};
    uint64_t c = adb_chilly_touch(&lb, 100, ctr, lens, 3, cold);
    assert_int_equal(cold[0], 0); /* exactly 100 apart: hot, though the tx adds 252 */
    assert_int_equal(cold[1], 1);
    assert_int_equal(cold[2], 1);
    assert_int_equal(c, (20 + BASE) + (30 + BASE));
    assert_int_equal(lb, 1000 + 60 + 3 * BASE);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ctr[i], lb);
    /* The next transaction: all three 0 apart, hot. */
    c = adb_chilly_touch(&lb, 0, ctr, lens, 3, cold);
    assert_int_equal(c, 0);
    assert_true(!cold[0] && !cold[1] && !cold[2]);
    /* n == 0 changes nothing; cold_out may be NULL. */
    uint64_t before = lb;
    assert_int_equal(adb_chilly_touch(&lb, 0, ctr, lens, 0, NULL), 0);
    assert_int_equal(lb, before);
    ctr[0] = 0;
    assert_int_equal(adb_chilly_touch(&lb, 0, ctr, lens, 1, NULL), 10 + BASE);
    /* Saturation: loaded_bytes stops at UINT64_MAX, so do the cold bytes;
     * after that every loaded account reads as hot. */
    uint64_t big[2] = {UINT64_MAX / 2, UINT64_MAX / 2}, bc[2] = {0, 0};
    lb = 100;
    c = adb_chilly_touch(&lb, 0, bc, big, 2, cold);
    assert_true(c == UINT64_MAX);
    assert_true(lb == UINT64_MAX && bc[0] == UINT64_MAX && bc[1] == UINT64_MAX);
    uint64_t huge = UINT64_MAX;
    bc[0] = 0;
    c = adb_chilly_touch(&lb, 0, bc, &huge, 1, cold);
    assert_true(c == UINT64_MAX && lb == UINT64_MAX && cold[0] == 1);
    c = adb_chilly_touch(&lb, 0, bc, &huge, 1, cold);
    assert_true(c == 0 && cold[0] == 0);
}

static void
test_fits(void **state) {
    (void)state;
    assert_true(adb_chilly_fits(0, 0, 0));
    assert_false(adb_chilly_fits(0, 1, 0));
    assert_true(adb_chilly_fits(600, 400, 1000));
    assert_false(adb_chilly_fits(600, 401, 1000));
    assert_true(adb_chilly_fits(1000, 0, 1000));
    assert_false(adb_chilly_fits(1001, 0, 1000)); /* already over: nothing fits */
    assert_true(adb_chilly_fits(0, UINT64_MAX, UINT64_MAX));
    assert_true(adb_chilly_fits(UINT64_MAX - 1, 1, UINT64_MAX));
    assert_false(adb_chilly_fits(1, UINT64_MAX, UINT64_MAX)); /* the sum would wrap to 0 */
    assert_false(adb_chilly_fits(UINT64_MAX, UINT64_MAX, UINT64_MAX - 1));
    assert_false(adb_chilly_fits(2, UINT64_MAX - 1, 5));
}

/* ---- the hot-set bound ------------------------------------------------------------- */

/* A random trace over acct_cnt accounts through adb_chilly_touch; after
 * every transaction the hot set's load bytes must be at most cache_sz + the
 * largest transaction's load bytes (chilly.h has the proof), and, with one
 * load per transaction, at most cache_sz + the largest account. */
static void
hot_bound_run(adb_test_rng_t *r, size_t acct_cnt, size_t tx_cnt, uint32_t loads_max,
              uint64_t cache_sz, double *worst_out) {
    uint64_t *ctr = calloc(acct_cnt, sizeof *ctr), *last = calloc(acct_cnt, sizeof *last);
    uint64_t *size = calloc(acct_cnt, sizeof *size);
    assert_true(ctr && last && size);
    for (size_t i = 0; i < acct_cnt; i++)
        size[i] = adb_test_rng_below(r, 8) ? adb_test_rng_below(r, 400)
                                           : adb_test_rng_below(r, 4 * cache_sz + 1);
    uint64_t lb = 0, tx_max = 0, acct_max = 0;
    for (size_t t = 0; t < tx_cnt; t++) {
        size_t   n = 1 + adb_test_rng_below(r, loads_max), idx[64];
        uint64_t c[64], lens[64], tx_sz = 0;
        if (n > acct_cnt) n = acct_cnt;
        for (size_t k = 0; k < n; k++) {
            bool dup;
            do {
                idx[k] = adb_test_rng_below(r, 10) ? adb_test_rng_below(r, acct_cnt / 10 + 1)
                                                   : adb_test_rng_below(r, acct_cnt);
                dup = false;
                for (size_t j = 0; j < k; j++)
                    dup |= idx[j] == idx[k];
            } while (dup);
            c[k] = ctr[idx[k]];
            lens[k] = size[idx[k]];
            last[idx[k]] = adb_chilly_load_sz(lens[k]);
            tx_sz += last[idx[k]];
            acct_max = ADB_MAX(acct_max, last[idx[k]]);
        }
        tx_max = ADB_MAX(tx_max, tx_sz);
        adb_chilly_touch(&lb, cache_sz, c, lens, n, NULL);
        for (size_t k = 0; k < n; k++)
            ctr[idx[k]] = c[k];
        uint64_t hot = 0;
        for (size_t i = 0; i < acct_cnt; i++)
            if (!adb_chilly_evictable(lb, ctr[i], cache_sz)) hot += last[i];
        uint64_t bound = cache_sz + (loads_max == 1 ? acct_max : tx_max);
        if (hot > bound)
            fail_msg("hot set %" PRIu64 " bytes > %" PRIu64 " (cache %" PRIu64 ", tx max %" PRIu64
                     ", account max %" PRIu64 ") after tx %zu",
                     hot, bound, cache_sz, tx_max, acct_max, t);
        double q = (double)hot / (double)bound;
        if (q > *worst_out) *worst_out = q;
    }
    free(size);
    free(last);
    free(ctr);
}

static void
test_hot_set_bound(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x807ull};
    double         worst1 = 0, worstk = 0;
    size_t         runs = adb_test_scaled(12);
    for (size_t i = 0; i < runs; i++) {
        uint64_t cache = 64 + adb_test_rng_below(&r, 20000);
        hot_bound_run(&r, 1500, 1500, 1, cache, &worst1);
        hot_bound_run(&r, 1500, 1500, 1 + (uint32_t)adb_test_rng_below(&r, 64), cache, &worstk);
    }
    /* The bound is tight for transactions, not accounts: one transaction of
     * 64 accounts of cache_sz bytes each leaves 64 x that hot, far above
     * cache_sz + the largest account. */
    uint64_t const C = 10000;
    uint64_t       lb = 0, c[64] = {0}, lens[64];
    for (int i = 0; i < 64; i++)
        lens[i] = C - BASE;
    adb_chilly_touch(&lb, C, c, lens, 64, NULL);
    uint64_t hot = 0;
    for (int i = 0; i < 64; i++)
        hot += adb_chilly_evictable(lb, c[i], C) ? 0 : C;
    assert_true(hot == 64 * C);
    assert_true(hot > C + C);       /* cache + the largest account: exceeded */
    assert_true(hot <= C + 64 * C); /* cache + the largest transaction: holds */
    printf("  chilly hot set: at most %.3f of cache + largest account (1 load/tx), %.3f of "
           "cache + largest tx (1-64 loads/tx); one 64-load tx leaves %" PRIu64
           " hot bytes under a %" PRIu64 "-byte cache\n",
           worst1, worstk, hot, C);
}

/* ---- the trace parser ---------------------------------------------------------------- */

static void
key_of(uint64_t i, acctdb_pubkey_t *k) {
    acctdb_rng_t r = acctdb_rng_at(0xC4177ull, i, 1);
    acctdb_rng_fill(&r, k->b, 32);
}

static char const *
b58(uint64_t i, char out[ACCTDB_BASE58_32_SZ]) {
    acctdb_pubkey_t k;
    key_of(i, &k);
    return acctdb_base58_encode_32(k.b, out);
}

/* Parses text line by line with a fresh parser; returns the first error
 * (msg gets its message) or 0, *tx_cnt the transactions. */
static int
parse_text(char const *text, size_t *tx_cnt, char *msg, size_t msg_max) {
    acctdb_chilly_parser_t p;
    acctdb_chilly_tx_t    *tx = malloc(sizeof *tx);
    assert_non_null(tx);
    acctdb_chilly_parser_init(&p);
    *tx_cnt = 0;
    msg[0] = 0;
    int rc = 0;
    for (char const *s = text; *s && !rc;) {
        char const *e = strchr(s, '\n');
        size_t      len = e ? (size_t)(e - s) : strlen(s);
        rc = acctdb_chilly_trace_parse_line(&p, s, len, tx, msg, msg_max);
        if (!rc && tx->load_cnt) (*tx_cnt)++;
        s += len + (e != NULL);
    }
    free(tx);
    return rc;
}

static void
expect_error(char const *text, char const *want) {
    char   msg[512];
    size_t n;
    int    rc = parse_text(text, &n, msg, sizeof msg);
    if (rc != ACCTDB_ERR_CORRUPT) fail_msg("accepted (rc %d): %.80s", rc, text);
    if (!strstr(msg, want)) fail_msg("message '%s' lacks '%s'", msg, want);
}

static void
test_parser(void **state) {
    (void)state;
    char   k1[ACCTDB_BASE58_32_SZ], k2[ACCTDB_BASE58_32_SZ], k3[ACCTDB_BASE58_32_SZ];
    char  *t = malloc(64 * 1024), msg[512];
    size_t n;
    assert_non_null(t);
    b58(1, k1), b58(2, k2), b58(3, k3);

    /* A good trace: comments, blank lines, tabs, CRLF, repeated slots. */
    snprintf(t, 64 * 1024,
             "# a trace\n"
             "\n"
             "   # indented comment\n"
             "5 %s:0 %s:165\n"
             "5\t%s:10485760\t\r\n"
             "  7 %s:1\n"
             "7 %s:2 %s:3 %s:4",
             k1, k2, k3, k1, k1, k2, k3);
    assert_int_equal(parse_text(t, &n, msg, sizeof msg), 0);
    assert_int_equal(n, 4);
    /* The parsed values. */
    acctdb_chilly_parser_t p;
    acctdb_chilly_tx_t    *tx = malloc(sizeof *tx);
    assert_non_null(tx);
    acctdb_chilly_parser_init(&p);
    char line[256];
    int  len = snprintf(line, sizeof line, "18446744073709551615 %s:7 %s:10485760", k2, k1);
    assert_int_equal(acctdb_chilly_trace_parse_line(&p, line, (size_t)len, tx, msg, sizeof msg), 0);
    acctdb_pubkey_t want;
    assert_true(tx->slot == UINT64_MAX && tx->load_cnt == 2);
    key_of(2, &want);
    assert_memory_equal(tx->key[0].b, want.b, 32);
    key_of(1, &want);
    assert_memory_equal(tx->key[1].b, want.b, 32);
    assert_true(tx->data_len[0] == 7 && tx->data_len[1] == ACCTDB_CHILLY_DATA_MAX);
    assert_int_equal(p.line_no, 1);
    /* A comment line: load_cnt 0, line counted, slot kept. */
    assert_int_equal(acctdb_chilly_trace_parse_line(&p, "#x", 2, tx, msg, sizeof msg), 0);
    assert_true(tx->load_cnt == 0 && p.line_no == 2 && p.slot == UINT64_MAX);
    assert_int_equal(acctdb_chilly_trace_parse_line(&p, NULL, 0, tx, msg, sizeof msg), 0);
    assert_int_equal(acctdb_chilly_trace_parse_line(NULL, "", 0, tx, msg, sizeof msg),
                     ACCTDB_ERR_INVALID);

    /* Exactly 64 loads: fine; 65: refused. */
    size_t at = (size_t)snprintf(t, 64 * 1024, "1");
    for (uint64_t i = 0; i < 64; i++) {
        char k[ACCTDB_BASE58_32_SZ];
        at += (size_t)snprintf(t + at, 64 * 1024 - at, " %s:%" PRIu64, b58(100 + i, k), i);
    }
    assert_int_equal(parse_text(t, &n, msg, sizeof msg), 0);
    snprintf(t + at, 64 * 1024 - at, " %s:1", k1);
    expect_error(t, "line 1: more than 64 loads");

    /* Each error, with the line it is on. */
    snprintf(t, 64 * 1024, "# c\nx12 %s:1\n", k1);
    expect_error(t, "line 2: bad slot 'x12'");
    snprintf(t, 64 * 1024, "-1 %s:1\n", k1);
    expect_error(t, "line 1: bad slot '-1'");
    snprintf(t, 64 * 1024, "18446744073709551616 %s:1\n", k1);
    expect_error(t, "line 1: bad slot '18446744073709551616' (above 2^64 - 1)");
    snprintf(t, 64 * 1024, "5 %s:1\n5 %s:1\n4 %s:1\n", k1, k2, k3);
    expect_error(t, "line 3: slot 4 is below the previous slot 5");
    snprintf(t, 64 * 1024, "5 %s\n", k1);
    expect_error(t, "line 1: load 1: expected <pubkey>:<data_len>, got '");
    snprintf(t, 64 * 1024, "5 %s:1 0OIl%s:1\n", k1, k2 + 4);
    expect_error(t, "line 1: load 2: bad pubkey '0OIl");
    snprintf(t, 64 * 1024, "5 %.31s:1\n", k1); /* valid characters, too short */
    expect_error(t, "line 1: load 1: bad pubkey");
    snprintf(t, 64 * 1024, "5 1111111111111111111111111111111111111111111:1\n"); /* 43 zero bytes */
    expect_error(t, "not base58 of 32 bytes");
    snprintf(t, 64 * 1024, "5 :1\n");
    expect_error(t, "line 1: load 1: bad pubkey ''");
    snprintf(t, 64 * 1024, "5 %s:\n", k1);
    expect_error(t, "line 1: load 1: bad data_len ''");
    snprintf(t, 64 * 1024, "5 %s:1x\n", k1);
    expect_error(t, "line 1: load 1: bad data_len '1x'");
    snprintf(t, 64 * 1024, "5 %s:-1\n", k1);
    expect_error(t, "bad data_len '-1'");
    snprintf(t, 64 * 1024, "5 %s:99999999999999999999\n", k1);
    expect_error(t, "bad data_len '99999999999999999999' (above 2^64 - 1)");
    snprintf(t, 64 * 1024, "5 %s:10485761\n", k1);
    expect_error(t, "line 1: load 1: data_len 10485761 is above 10485760 (10 MiB)");
    snprintf(t, 64 * 1024, "5 %s:1 %s:2 %s:3\n", k1, k2, k1);
    expect_error(t, "line 1: load 3 repeats the pubkey of load 1");
    snprintf(t, 64 * 1024, "# c\n\n9\n");
    expect_error(t, "line 3: slot 9 has no loads");
    snprintf(t, 64 * 1024, "9 %s:1 # trailing comment\n", k1);
    expect_error(t, "line 1: load 2: expected <pubkey>:<data_len>, got '#'");
    /* Over 8 KiB: 8192 bytes pass (padding with spaces), 8193 do not. */
    len = snprintf(t, 64 * 1024, "3 %s:1", k1);
    memset(t + len, ' ', 8192 - (size_t)len);
    t[8192] = 0;
    assert_int_equal(parse_text(t, &n, msg, sizeof msg), 0);
    strcpy(t + 8192, " \n");
    expect_error(t, "line 1: longer than 8192 bytes (8193)");
    /* A NUL inside a line is junk, not an end. */
    acctdb_chilly_parser_init(&p);
    len = snprintf(line, sizeof line, "5 %s:12", k1);
    line[len - 1] = 0;
    assert_int_equal(acctdb_chilly_trace_parse_line(&p, line, (size_t)len, tx, msg, sizeof msg),
                     ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "bad data_len '1?'"));
    /* A refused line does not move the parser's slot. */
    assert_int_equal(p.has_slot, false);

    /* The file reader: a line over 8 KiB, and errors named with the path. */
    char *dir = adb_test_mkdtemp(), path[4200];
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/t.trace", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "1 %s:1\n2 %s:5\n", k1, k2);
    for (int i = 0; i < 9000; i++)
        fputc('9', f);
    fputc('\n', f);
    fclose(f);
    acctdb_chilly_sim_opts_t o;
    acctdb_chilly_report_t   rep;
    acctdb_chilly_sim_opts_default(&o);
    assert_int_equal(acctdb_chilly_sim_file(path, &o, &rep, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "t.trace: line 3: longer than 8192 bytes"));
    f = fopen(path, "w");
    fprintf(f, "1 %s:1\r\n2 %s:5\r\n2 %s:5", k1, k2, k1); /* CRLF, no final newline */
    fclose(f);
    assert_int_equal(acctdb_chilly_sim_file(path, &o, &rep, msg, sizeof msg), 0);
    assert_true(rep.blocks == 2 && rep.txs == 3 && rep.loads == 3 && rep.hot == 1);
    f = fopen(path, "w");
    fprintf(f, "1 %s:1\n\n2 %s:5 %s:6\n", k1, k2, k2);
    fclose(f);
    assert_int_equal(acctdb_chilly_sim_file(path, &o, &rep, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "t.trace: line 3: load 2 repeats the pubkey of load 1"));
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(acctdb_chilly_sim_file(path, &o, &rep, msg, sizeof msg), -ENOENT);
    assert_non_null(strstr(msg, "missing"));
    adb_test_rmtree(dir);
    free(dir);
    free(tx);
    free(t);
}

/* ---- the simulator against a naive reference -------------------------------------- */

/* Both models, the slow obvious way: counters in an array, the LRU as an
 * array in recency order. */
typedef struct ref {
    uint64_t  lb, cache, lru_cap, lru_total;
    uint64_t *ctr;
    uint32_t *order; /* account ids, most recent first */
    uint64_t *osz;
    size_t    cnt;
} ref_t;

static void
ref_tx(ref_t *m, uint32_t const *id, uint64_t const *lens, size_t n, uint8_t *flags) {
    uint64_t start = m->lb, sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t c = m->ctr[id[i]];
        bool     cold = c == 0 || (c <= start && start - c > m->cache);
        flags[i] = cold ? 1 : 0;
        sum += lens[i] + BASE;
    }
    m->lb = start + sum;
    for (size_t i = 0; i < n; i++)
        m->ctr[id[i]] = m->lb;
    for (size_t i = 0; i < n; i++) {
        size_t pos = m->cnt;
        for (size_t j = 0; j < m->cnt; j++)
            if (m->order[j] == id[i]) pos = j;
        if (pos < m->cnt) {
            flags[i] |= 2;
            m->lru_total -= m->osz[pos];
            memmove(m->order + pos, m->order + pos + 1, (m->cnt - pos - 1) * sizeof *m->order);
            memmove(m->osz + pos, m->osz + pos + 1, (m->cnt - pos - 1) * sizeof *m->osz);
            m->cnt--;
        }
        memmove(m->order + 1, m->order, m->cnt * sizeof *m->order);
        memmove(m->osz + 1, m->osz, m->cnt * sizeof *m->osz);
        m->order[0] = id[i];
        m->osz[0] = lens[i] + BASE;
        m->lru_total += lens[i] + BASE;
        m->cnt++;
        while (m->lru_total > m->lru_cap)
            m->lru_total -= m->osz[--m->cnt];
    }
}

typedef struct trace {
    size_t    tx_cnt;
    uint64_t *slot;
    uint32_t *n;
    uint32_t (*id)[64];
    uint64_t (*len)[64];
} trace_t;

/* A random trace over acct_cnt accounts: hot and cold subsets, some
 * resizes, 1 .. loads_max loads, slots advancing now and then. */
static void
trace_random(adb_test_rng_t *r, trace_t *t, size_t tx_cnt, uint32_t acct_cnt, uint32_t loads_max) {
    t->tx_cnt = tx_cnt;
    t->slot = malloc(tx_cnt * sizeof *t->slot);
    t->n = malloc(tx_cnt * sizeof *t->n);
    t->id = malloc(tx_cnt * sizeof *t->id);
    t->len = malloc(tx_cnt * sizeof *t->len);
    uint64_t *size = malloc(acct_cnt * sizeof *size);
    assert_true(t->slot && t->n && t->id && t->len && size);
    for (uint32_t i = 0; i < acct_cnt; i++)
        size[i] =
            adb_test_rng_below(r, 10) ? adb_test_rng_below(r, 600) : adb_test_rng_below(r, 20000);
    uint64_t slot = adb_test_rng_below(r, 100);
    for (size_t x = 0; x < tx_cnt; x++) {
        if (adb_test_rng_below(r, 20) == 0) slot += 1 + adb_test_rng_below(r, 3);
        uint32_t n = 1 + (uint32_t)adb_test_rng_below(r, loads_max);
        if (n > acct_cnt) n = acct_cnt;
        for (uint32_t k = 0; k < n; k++) {
            bool dup;
            do {
                t->id[x][k] =
                    (uint32_t)(adb_test_rng_below(r, 3) ? adb_test_rng_below(r, acct_cnt / 8 + 1)
                                                        : adb_test_rng_below(r, acct_cnt));
                dup = false;
                for (uint32_t j = 0; j < k; j++)
                    dup |= t->id[x][j] == t->id[x][k];
            } while (dup);
            if (adb_test_rng_below(r, 200) == 0) size[t->id[x][k]] = adb_test_rng_below(r, 3000);
            t->len[x][k] = size[t->id[x][k]];
        }
        t->n[x] = n;
        t->slot[x] = slot;
    }
    free(size);
}

static void
trace_free(trace_t *t) {
    free(t->slot);
    free(t->n);
    free(t->id);
    free(t->len);
}

static void
tx_of(trace_t const *t, size_t x, acctdb_chilly_tx_t *tx) {
    tx->slot = t->slot[x];
    tx->load_cnt = t->n[x];
    for (uint32_t k = 0; k < t->n[x]; k++) {
        key_of(t->id[x][k], &tx->key[k]);
        tx->data_len[k] = t->len[x][k];
    }
}

/* Replays t through the simulator; flags_all (may be NULL) gets every
 * load's flags in order. */
static void
sim_trace(trace_t const *t, acctdb_chilly_sim_opts_t const *o, acctdb_chilly_report_t *rep,
          uint8_t *flags_all) {
    acctdb_chilly_sim_t *s;
    acctdb_chilly_tx_t  *tx = malloc(sizeof *tx);
    char                 msg[256];
    assert_non_null(tx);
    assert_int_equal(acctdb_chilly_sim_open(&s, o, msg, sizeof msg), 0);
    size_t at = 0;
    for (size_t x = 0; x < t->tx_cnt; x++) {
        tx_of(t, x, tx);
        assert_int_equal(acctdb_chilly_sim_tx(s, tx, flags_all ? flags_all + at : NULL), 0);
        at += t->n[x];
    }
    assert_int_equal(acctdb_chilly_sim_finish(s, rep), 0);
    acctdb_chilly_sim_close(s);
    free(tx);
}

static void
test_sim_vs_reference(void **state) {
    (void)state;
    adb_test_rng_t r = {adb_test_seed() ^ 0x5EFull};
    size_t         runs = adb_test_scaled(16), loads_total = 0;
    for (size_t run = 0; run < runs; run++) {
        uint32_t acct_cnt = 50 + (uint32_t)adb_test_rng_below(&r, 1500);
        uint32_t loads_max = run % 4 == 0 ? 1 : 1 + (uint32_t)adb_test_rng_below(&r, 64);
        trace_t  t;
        trace_random(&r, &t, 1500, acct_cnt, loads_max);
        acctdb_chilly_sim_opts_t o;
        acctdb_chilly_sim_opts_default(&o);
        o.cache_sz = adb_test_rng_below(&r, 200000);
        o.lru_extra_sz = adb_test_rng_below(&r, 3) ? 0 : adb_test_rng_below(&r, 50000);
        o.load_limit = adb_test_rng_below(&r, 100000);
        size_t loads = 0;
        for (size_t x = 0; x < t.tx_cnt; x++)
            loads += t.n[x];
        uint8_t *got = malloc(loads), *want = malloc(loads);
        ref_t    m = {.cache = o.cache_sz, .lru_cap = o.cache_sz + o.lru_extra_sz};
        m.ctr = calloc(acct_cnt, sizeof *m.ctr);
        m.order = malloc(acct_cnt * sizeof *m.order);
        m.osz = malloc(acct_cnt * sizeof *m.osz);
        assert_true(got && want && m.ctr && m.order && m.osz);
        acctdb_chilly_report_t rep;
        sim_trace(&t, &o, &rep, got);
        size_t   at = 0;
        uint64_t hot = 0, hits = 0, cold_bytes = 0;
        for (size_t x = 0; x < t.tx_cnt; x++) {
            ref_tx(&m, t.id[x], t.len[x], t.n[x], want + at);
            for (uint32_t k = 0; k < t.n[x]; k++) {
                hot += !(want[at + k] & 1);
                hits += (want[at + k] & 2) != 0;
                cold_bytes += (want[at + k] & 1) ? t.len[x][k] + BASE : 0;
            }
            at += t.n[x];
        }
        for (size_t i = 0; i < loads; i++)
            if (got[i] != want[i])
                fail_msg("run %zu load %zu: simulator flags %u, reference %u", run, i, got[i],
                         want[i]);
        assert_int_equal(rep.loads, loads);
        assert_int_equal(rep.hot, hot);
        assert_int_equal(rep.lru_hits, hits);
        assert_int_equal(rep.cold_bytes, cold_bytes);
        assert_int_equal(rep.loaded_bytes, m.lb);
        assert_int_equal(rep.lru_resident_bytes, m.lru_total);
        assert_int_equal(rep.charged_bytes + rep.deferred_bytes, rep.cold_bytes);
        loads_total += loads;
        free(m.osz);
        free(m.order);
        free(m.ctr);
        free(want);
        free(got);
        trace_free(&t);
    }
    printf("  chilly sim: %zu loads, every verdict of both models equal to the naive reference\n",
           loads_total);
}

/* ---- blocks and the watermark ---------------------------------------------------------- */

typedef struct blocks {
    acctdb_chilly_block_t b[64];
    size_t                cnt;
} blocks_t;

static void
on_block(void *ctx, acctdb_chilly_block_t const *b) {
    blocks_t *bl = ctx;
    assert_true(bl->cnt < 64);
    bl->b[bl->cnt++] = *b;
}

static int
cmp_u64(void const *a, void const *b) {
    uint64_t x = *(uint64_t const *)a, y = *(uint64_t const *)b;
    return (x > y) - (x < y);
}

static void
test_watermark(void **state) {
    (void)state;
    blocks_t                 bl = {.cnt = 0};
    acctdb_chilly_sim_opts_t o = {
        .cache_sz = 10000, .load_limit = 1000, .block_fn = on_block, .block_ctx = &bl};
    acctdb_chilly_sim_t *s;
    acctdb_chilly_tx_t  *tx = calloc(1, sizeof *tx);
    assert_non_null(tx);
    assert_int_equal(acctdb_chilly_sim_open(&s, &o, NULL, 0), 0);
    /* Block 10: cold 600 (charged), 500 (deferred: 1100 > 1000), 400
     * (charged: exactly 1000), a hot reload (0: fits). */
    uint64_t const sizes[] = {600, 500, 400};
    for (int i = 0; i < 3; i++) {
        tx->slot = 10, tx->load_cnt = 1;
        key_of(1000 + (uint64_t)i, &tx->key[0]);
        tx->data_len[0] = sizes[i] - BASE;
        assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), 0);
    }
    key_of(1000, &tx->key[0]);
    tx->data_len[0] = 600 - BASE;
    uint8_t fl;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, &fl), 0);
    assert_int_equal(fl, ACCTDB_CHILLY_LRU_HIT); /* hot, and the LRU has it */
    assert_int_equal(bl.cnt, 0);                 /* block 10 is still open */
    /* Block 11: one transaction of 1001 cold bytes: over on its own. */
    tx->slot = 11;
    key_of(2000, &tx->key[0]);
    tx->data_len[0] = 1001 - BASE;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), 0);
    assert_int_equal(bl.cnt, 1);
    /* Block 12: under the limit. */
    tx->slot = 12;
    key_of(2001, &tx->key[0]);
    tx->data_len[0] = 0;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), 0);
    acctdb_chilly_report_t rep, rep2;
    assert_int_equal(acctdb_chilly_sim_finish(s, &rep), 0);
    assert_int_equal(bl.cnt, 3);
    acctdb_chilly_block_t const *b = bl.b;
    assert_true(b[0].slot == 10 && b[0].txs == 4 && b[0].loads == 4 && b[0].hot == 1);
    assert_true(b[0].cold_bytes == 1500 && b[0].charged_bytes == 1000 && b[0].deferred == 1);
    assert_true(b[0].load_bytes == 2100 && b[0].loaded_bytes == 2100);
    assert_true(b[1].slot == 11 && b[1].cold_bytes == 1001 && b[1].charged_bytes == 0 &&
                b[1].deferred == 1);
    assert_true(b[2].slot == 12 && b[2].cold_bytes == 64 && b[2].deferred == 0);
    assert_true(rep.blocks == 3 && rep.blocks_over == 2 && rep.deferred == 2);
    assert_true(rep.deferred_bytes == 500 + 1001 && rep.charged_bytes == 1064);
    assert_true(rep.cold_min == 64 && rep.cold_max == 1500 && rep.cold_p99 == 1500);
    assert_true(rep.cold_mean > 854.9 && rep.cold_mean < 855.1);
    assert_true(rep.hot_rate > 0.1666 && rep.hot_rate < 0.1667);
    /* finish again: the same report; transactions are refused (sticky). */
    assert_int_equal(acctdb_chilly_sim_finish(s, &rep2), 0);
    assert_memory_equal(&rep, &rep2, sizeof rep);
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(acctdb_chilly_sim_errmsg(s), "after finish"));
    acctdb_chilly_sim_close(s);

    /* On random traces: per-block values sum to the report; the charged
     * bytes never pass the limit; a block defers exactly when its cold
     * bytes pass the limit; min / p99 / max from the blocks. */
    adb_test_rng_t r = {adb_test_seed() ^ 0xB10Cull};
    for (int run = 0; run < 8; run++) {
        trace_t t;
        trace_random(&r, &t, 600, 300, 1 + (uint32_t)adb_test_rng_below(&r, 64));
        uint64_t first = t.slot[0];
        for (size_t x = 0; x < t.tx_cnt; x++) /* at most 64 blocks */
            t.slot[x] = first + (t.slot[x] - first) * 40 / (t.slot[t.tx_cnt - 1] - first + 1);
        bl.cnt = 0;
        o.cache_sz = adb_test_rng_below(&r, 50000);
        o.load_limit = adb_test_rng_below(&r, 200000);
        sim_trace(&t, &o, &rep, NULL);
        uint64_t txs = 0, loads = 0, hot = 0, hits = 0, cold = 0, charged = 0, deferred = 0;
        uint64_t over = 0, v[64];
        for (size_t i = 0; i < bl.cnt; i++) {
            b = &bl.b[i];
            txs += b->txs, loads += b->loads, hot += b->hot, hits += b->lru_hits;
            cold += b->cold_bytes, charged += b->charged_bytes, deferred += b->deferred;
            assert_true(b->charged_bytes <= o.load_limit);
            assert_int_equal(b->deferred > 0, b->cold_bytes > o.load_limit);
            over += b->deferred > 0;
            v[i] = b->cold_bytes;
            if (i) assert_true(b->slot > bl.b[i - 1].slot);
        }
        assert_int_equal(bl.cnt, rep.blocks);
        assert_true(txs == rep.txs && loads == rep.loads && hot == rep.hot && hits == rep.lru_hits);
        assert_true(cold == rep.cold_bytes && charged == rep.charged_bytes &&
                    deferred == rep.deferred && over == rep.blocks_over);
        qsort(v, bl.cnt, sizeof v[0], cmp_u64);
        assert_true(rep.cold_min == v[0] && rep.cold_max == v[bl.cnt - 1]);
        assert_true(rep.cold_p99 == v[(99 * bl.cnt + 99) / 100 - 1]);
        trace_free(&t);
    }
    free(tx);
}

static void
test_sim_errors(void **state) {
    (void)state;
    acctdb_chilly_sim_opts_t o;
    acctdb_chilly_sim_opts_default(&o);
    acctdb_chilly_sim_t   *s;
    acctdb_chilly_tx_t    *tx = calloc(1, sizeof *tx);
    acctdb_chilly_report_t rep;
    assert_non_null(tx);
    /* A repeated key: INVALID, sticky. */
    assert_int_equal(acctdb_chilly_sim_open(&s, &o, NULL, 0), 0);
    tx->slot = 3, tx->load_cnt = 2;
    key_of(1, &tx->key[0]);
    key_of(1, &tx->key[1]);
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(acctdb_chilly_sim_errmsg(s), "repeats"));
    key_of(2, &tx->key[1]);
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), ACCTDB_ERR_INVALID);
    assert_int_equal(acctdb_chilly_sim_finish(s, &rep), ACCTDB_ERR_INVALID);
    acctdb_chilly_sim_close(s);
    /* No loads, too many, a slot going back. */
    assert_int_equal(acctdb_chilly_sim_open(&s, &o, NULL, 0), 0);
    tx->load_cnt = 0;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), ACCTDB_ERR_INVALID);
    acctdb_chilly_sim_close(s);
    assert_int_equal(acctdb_chilly_sim_open(&s, &o, NULL, 0), 0);
    tx->load_cnt = 65;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), ACCTDB_ERR_INVALID);
    acctdb_chilly_sim_close(s);
    assert_int_equal(acctdb_chilly_sim_open(&s, &o, NULL, 0), 0);
    tx->load_cnt = 2;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), 0);
    tx->slot = 2;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(acctdb_chilly_sim_errmsg(s), "slot 2 after slot 3"));
    acctdb_chilly_sim_close(s);
    /* More accounts than accounts_max: FULL. */
    o.accounts_max = 3;
    assert_int_equal(acctdb_chilly_sim_open(&s, &o, NULL, 0), 0);
    tx->slot = 1, tx->load_cnt = 3;
    for (int i = 0; i < 3; i++)
        key_of((uint64_t)i, &tx->key[i]);
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), 0);
    key_of(3, &tx->key[2]);
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, NULL), ACCTDB_ERR_FULL);
    assert_non_null(strstr(acctdb_chilly_sim_errmsg(s), "more than 3 distinct accounts"));
    acctdb_chilly_sim_close(s);
    acctdb_chilly_sim_close(NULL);
    /* Generator options. */
    acctdb_chilly_gen_opts_t g;
    acctdb_chilly_gen_t     *gen;
    char                     msg[256];
    acctdb_chilly_gen_opts_default(&g);
    g.accounts = 0;
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, "accounts 0"));
    acctdb_chilly_gen_opts_default(&g);
    g.zipf = -0.5;
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, "zipf"));
    g.zipf = 0.0 / 0.0;
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), ACCTDB_ERR_INVALID);
    acctdb_chilly_gen_opts_default(&g);
    g.loads_max = 65;
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, "loads_max 65"));
    acctdb_chilly_gen_opts_default(&g);
    g.txs_per_block = 0;
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), ACCTDB_ERR_INVALID);
    acctdb_chilly_gen_opts_default(&g);
    g.first_slot = UINT64_MAX - 10;
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), ACCTDB_ERR_INVALID);
    assert_non_null(strstr(msg, "first_slot"));
    free(tx);
}

/* ---- the generator and determinism ------------------------------------------------------ */

static void
test_generator(void **state) {
    (void)state;
    acctdb_chilly_gen_opts_t g;
    acctdb_chilly_gen_opts_default(&g);
    g.seed = adb_test_seed();
    g.accounts = 2000, g.blocks = 30, g.txs_per_block = 50, g.loads_max = 64, g.first_slot = 77;
    acctdb_chilly_gen_t *gen;
    acctdb_chilly_tx_t  *tx = malloc(sizeof *tx), *back = malloc(sizeof *back);
    char                 line[ACCTDB_CHILLY_FORMAT_MAX], msg[256];
    assert_true(tx && back);
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), 0);
    acctdb_chilly_parser_t p;
    acctdb_chilly_parser_init(&p);
    size_t   cnt = 0, loads = 0, top = 0;
    uint64_t last_slot = 0;
    while (acctdb_chilly_gen_next(gen, tx)) {
        assert_true(tx->load_cnt >= 1 && tx->load_cnt <= 64);
        assert_true(tx->slot == 77 + cnt / 50);
        assert_true(tx->slot >= last_slot);
        last_slot = tx->slot;
        /* format -> parse gives the transaction back */
        size_t len;
        assert_int_equal(acctdb_chilly_trace_format(tx, line, sizeof line, &len), 0);
        assert_int_equal(strlen(line), len);
        assert_int_equal(acctdb_chilly_trace_parse_line(&p, line, len, back, msg, sizeof msg), 0);
        assert_true(back->slot == tx->slot && back->load_cnt == tx->load_cnt);
        assert_memory_equal(back->key, tx->key, tx->load_cnt * sizeof tx->key[0]);
        assert_memory_equal(back->data_len, tx->data_len, tx->load_cnt * sizeof tx->data_len[0]);
        for (uint32_t i = 0; i < tx->load_cnt; i++)
            assert_true(tx->data_len[i] <= ACCTDB_CHILLY_DATA_MAX);
        cnt++;
        loads += tx->load_cnt;
    }
    assert_int_equal(cnt, 30 * 50);
    assert_false(acctdb_chilly_gen_next(gen, tx));
    assert_int_equal(tx->load_cnt, 0);
    acctdb_chilly_gen_close(gen);
    /* Formatting needs the room. */
    size_t len;
    tx->load_cnt = 2;
    assert_int_equal(acctdb_chilly_trace_format(tx, line, 10, &len), ACCTDB_ERR_FULL);
    tx->load_cnt = 0;
    assert_int_equal(acctdb_chilly_trace_format(tx, line, sizeof line, &len), ACCTDB_ERR_INVALID);

    /* Skew: with zipf 1.0 over 2000 accounts the most popular account gets
     * about 1 / H(2000) = 12% of the draws. */
    g.loads_max = 1, g.blocks = 20, g.txs_per_block = 1000;
    size_t const draws = 20 * 1000;
    /* The top account is the most frequent key among the first 200 draws;
     * then count it over all of them. */
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), 0);
    acctdb_pubkey_t keys[200];
    size_t          kc = 0;
    while (kc < 200 && acctdb_chilly_gen_next(gen, tx))
        keys[kc++] = tx->key[0];
    acctdb_chilly_gen_close(gen);
    size_t best = 0, best_cnt = 0;
    for (size_t i = 0; i < kc; i++) {
        size_t c = 0;
        for (size_t j = 0; j < kc; j++)
            c += !memcmp(keys[i].b, keys[j].b, 32);
        if (c > best_cnt) best_cnt = c, best = i;
    }
    assert_int_equal(acctdb_chilly_gen_open(&gen, &g, msg, sizeof msg), 0);
    while (acctdb_chilly_gen_next(gen, tx))
        top += !memcmp(tx->key[0].b, keys[best].b, 32);
    acctdb_chilly_gen_close(gen);
    double share = (double)top / (double)draws;
    printf("  chilly gen: %zu txs, %zu loads; zipf 1.0 over 2000 accounts: top account %.1f%% "
           "of loads (1/H(2000) = 12.1%%)\n",
           cnt, loads, 100 * share);
    assert_true(share > 0.10 && share < 0.14);
    free(back);
    free(tx);
}

static void
test_determinism(void **state) {
    (void)state;
    acctdb_chilly_gen_opts_t g;
    acctdb_chilly_gen_opts_default(&g);
    g.seed = adb_test_seed();
    g.accounts = adb_test_scaled(20000), g.blocks = 40, g.txs_per_block = 200, g.loads_max = 16;
    acctdb_chilly_sim_opts_t o;
    acctdb_chilly_sim_opts_default(&o);
    o.cache_sz = 1 << 20, o.load_limit = 256 << 10;
    acctdb_chilly_report_t a, b, c, d;
    char                   msg[512];
    assert_int_equal(acctdb_chilly_sim_gen(&g, &o, &a, msg, sizeof msg), 0);
    assert_int_equal(acctdb_chilly_sim_gen(&g, &o, &b, msg, sizeof msg), 0);
    a.mem_sz = b.mem_sz = 0;
    assert_memory_equal(&a, &b, sizeof a);
    /* Through a file: the same decisions. */
    char *dir = adb_test_mkdtemp(), path[4200];
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/g.trace", dir);
    assert_int_equal(acctdb_chilly_gen_write(&g, path, msg, sizeof msg), 0);
    assert_int_equal(acctdb_chilly_sim_file(path, &o, &c, msg, sizeof msg), 0);
    c.mem_sz = 0;
    assert_memory_equal(&a, &c, sizeof a);
    /* Another seed: other decisions. */
    g.seed ^= 1;
    assert_int_equal(acctdb_chilly_sim_gen(&g, &o, &d, msg, sizeof msg), 0);
    assert_true(d.decision_hash != a.decision_hash);
    printf("  chilly determinism: %" PRIu64 " loads, decision hash %016" PRIx64
           " twice from the generator and once from the trace file\n",
           a.loads, a.decision_hash);
    /* gen_write to a directory that does not exist: -ENOENT, named. */
    snprintf(path, sizeof path, "%s/no/such.trace", dir);
    assert_int_equal(acctdb_chilly_gen_write(&g, path, msg, sizeof msg), -ENOENT);
    assert_non_null(strstr(msg, "no/such.trace"));
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- Chilly against the LRU ---------------------------------------------------------------- */

/* Why no "Chilly hot <= LRU hit" at the same size: Chilly's distance
 * (loaded_bytes - load_counter) counts only the transactions strictly
 * between the account's previous transaction t' and this one t, while an
 * LRU of capacity C' holds x as long as x itself, the loads after x in t',
 * the distinct accounts in between and the loads before x in t fit in C'.
 * Distinct bytes <= total bytes <= C for the part in between, so C' = C +
 * size(t') + size(t) - size(x) <= C + 2 x the largest transaction is
 * enough (chilly.h has the argument); C' = C is not.  Here: the witness at
 * C' = C, and hot_lru_miss == 0 at C + 2 x the largest transaction (C + the
 * largest account for one-load transactions) on random traces. */
static void
test_chilly_vs_lru(void **state) {
    (void)state;
    /* The witness: x (64 bytes), then exactly C = 1000 bytes of y, then x:
     * Chilly calls x hot (1000 apart), the 1000-byte LRU evicted it. */
    acctdb_chilly_sim_opts_t o = {.cache_sz = 1000, .load_limit = UINT64_MAX};
    acctdb_chilly_sim_t     *s;
    acctdb_chilly_tx_t      *tx = calloc(1, sizeof *tx);
    uint8_t                  fl[2];
    assert_non_null(tx);
    assert_int_equal(acctdb_chilly_sim_open(&s, &o, NULL, 0), 0);
    tx->slot = 1, tx->load_cnt = 1;
    key_of(1, &tx->key[0]), tx->data_len[0] = 0;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, fl), 0);
    key_of(2, &tx->key[0]), tx->data_len[0] = 1000 - BASE;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, fl), 0);
    key_of(1, &tx->key[0]), tx->data_len[0] = 0;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, fl), 0);
    assert_int_equal(fl[0], 0); /* Chilly hot, LRU miss */
    /* Inside one transaction: [z, big] then [z]: z is 0 apart for Chilly,
     * but big pushed it out of the LRU. */
    tx->load_cnt = 2;
    key_of(3, &tx->key[0]), tx->data_len[0] = 0;
    key_of(4, &tx->key[1]), tx->data_len[1] = 990 - BASE;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, fl), 0);
    tx->load_cnt = 1;
    assert_int_equal(acctdb_chilly_sim_tx(s, tx, fl), 0);
    assert_int_equal(fl[0], 0);
    acctdb_chilly_report_t rep;
    assert_int_equal(acctdb_chilly_sim_finish(s, &rep), 0);
    assert_int_equal(rep.hot_lru_miss, 2);
    acctdb_chilly_sim_close(s);

    /* Random traces: at the same size, print how often; at C + 2 x the
     * largest transaction, never. */
    adb_test_rng_t r = {adb_test_seed() ^ 0x1A0ull};
    size_t         runs = adb_test_scaled(24);
    uint64_t       loads = 0, hot = 0, hits = 0, miss_same = 0, hot_gt_hits = 0;
    for (size_t run = 0; run < runs; run++) {
        trace_t  t;
        uint32_t loads_max = run % 3 == 0 ? 1 : 1 + (uint32_t)adb_test_rng_below(&r, 64);
        trace_random(&r, &t, 3000, 100 + (uint32_t)adb_test_rng_below(&r, 3000), loads_max);
        acctdb_chilly_sim_opts_default(&o);
        o.cache_sz = 1000 + adb_test_rng_below(&r, 300000);
        acctdb_chilly_report_t same, big;
        sim_trace(&t, &o, &same, NULL);
        o.lru_extra_sz = loads_max == 1 ? same.load_sz_max : 2 * same.tx_load_max;
        sim_trace(&t, &o, &big, NULL);
        if (big.hot_lru_miss)
            fail_msg("run %zu: %" PRIu64 " Chilly-hot loads missed by an LRU of cache + %" PRIu64,
                     run, big.hot_lru_miss, o.lru_extra_sz);
        assert_true(big.lru_hits >= big.hot);
        assert_int_equal(big.hot, same.hot);
        assert_int_equal(big.decision_hash == same.decision_hash, big.lru_hits == same.lru_hits);
        loads += same.loads, hot += same.hot, hits += same.lru_hits;
        miss_same += same.hot_lru_miss;
        hot_gt_hits += same.hot > same.lru_hits;
        trace_free(&t);
    }
    printf("  chilly vs LRU on %zu random traces (%" PRIu64
           " loads): Chilly hot %.1f%%, LRU of the "
           "same size %.1f%%; Chilly-hot loads the same-size LRU missed: %" PRIu64
           " (%zu traces with more Chilly-hot loads than LRU hits); with the LRU at cache + 2 x "
           "the largest tx: none\n",
           runs, loads, 100.0 * (double)hot / (double)loads, 100.0 * (double)hits / (double)loads,
           miss_same, (size_t)hot_gt_hits);
    free(tx);
}

/* ---- the skewed trace ------------------------------------------------------------------------ */

static void
test_skewed(void **state) {
    (void)state;
    acctdb_chilly_gen_opts_t g;
    acctdb_chilly_gen_opts_default(&g); /* zipf 1.0, 1..16 loads per tx */
    g.seed = adb_test_seed();
    g.accounts = adb_test_scaled(200000);
    g.blocks = adb_test_scaled(100);
    g.txs_per_block = 1000;
    acctdb_chilly_sim_opts_t o;
    acctdb_chilly_sim_opts_default(&o);
    acctdb_chilly_report_t rep;
    char                   msg[512];
    /* A first pass for the distinct bytes. */
    o.cache_sz = 0;
    assert_int_equal(acctdb_chilly_sim_gen(&g, &o, &rep, msg, sizeof msg), 0);
    uint64_t const distinct = rep.distinct_bytes, accounts = rep.accounts;
    /* Memory: bounded by the distinct accounts (entries and table grow by
     * doubling: <= 144 bytes each), plus <= 16 bytes per block. */
    assert_true(rep.mem_sz <= 144 * accounts + 16 * rep.blocks + (256 << 10));
    printf("  chilly skewed trace: %" PRIu64 " accounts (zipf 1.0), %" PRIu64 " blocks x %u txs, "
           "%" PRIu64 " loads; %" PRIu64 " distinct accounts, %.1f MB distinct, sim memory %.1f "
           "MB\n",
           g.accounts, rep.blocks, g.txs_per_block, rep.loads, accounts, distinct / 1e6,
           rep.mem_sz / 1e6);
    unsigned const pct[] = {1, 10, 25};
    for (size_t i = 0; i < ADB_ARRAY_CNT(pct); i++) {
        o.cache_sz = distinct * pct[i] / 100;
        o.load_limit = 4 << 20;
        assert_int_equal(acctdb_chilly_sim_gen(&g, &o, &rep, msg, sizeof msg), 0);
        printf("    cache %2u%% (%.1f MB): Chilly hot %.2f%% (bytes %.2f%%), LRU hit %.2f%% (bytes "
               "%.2f%%): %+.2f pts (%+.2f pts bytes); cold/block min %.2f MB mean %.2f p99 %.2f "
               "max %.2f; over 4 MiB: %" PRIu64 " blocks, %" PRIu64 " txs deferred\n",
               pct[i], o.cache_sz / 1e6, 100 * rep.hot_rate, 100 * rep.hot_byte_rate,
               100 * rep.lru_rate, 100 * rep.lru_byte_rate, rep.gap_pts, rep.byte_gap_pts,
               rep.cold_min / 1e6, rep.cold_mean / 1e6, rep.cold_p99 / 1e6, rep.cold_max / 1e6,
               rep.blocks_over, rep.deferred);
        assert_true(rep.hot_rate >= 0 && rep.hot_rate <= 1 && rep.lru_rate >= 0 &&
                    rep.lru_rate <= 1);
        assert_int_equal(rep.accounts, accounts);
    }
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_rule),          cmocka_unit_test(test_touch),
    cmocka_unit_test(test_fits),          cmocka_unit_test(test_hot_set_bound),
    cmocka_unit_test(test_parser),        cmocka_unit_test(test_sim_vs_reference),
    cmocka_unit_test(test_watermark),     cmocka_unit_test(test_sim_errors),
    cmocka_unit_test(test_generator),     cmocka_unit_test(test_determinism),
    cmocka_unit_test(test_chilly_vs_lru), cmocka_unit_test(test_skewed),
};

ADB_TEST_GROUP(chilly, tests);
