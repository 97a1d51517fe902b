/* fuzz/fuzz_chilly_trace.c - the Chilly trace parser and simulator on
 * arbitrary text.  Each line either parses or fails with CORRUPT and a
 * "line N: " message; a parsed transaction formats and parses back to
 * itself; the accepted prefix replays through the simulator (a small cache,
 * a small LOAD_LIMIT, few accounts allowed) and the report is consistent;
 * a second replay gives the same decisions, and an LRU of cache + 2 x the
 * largest transaction hits every load Chilly called hot. */
#include "acctdb_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

#define TX_MAX 128

static int
replay(acctdb_chilly_tx_t const *txs, size_t n, uint64_t extra, acctdb_chilly_report_t *rep) {
    acctdb_chilly_sim_opts_t o;
    acctdb_chilly_sim_t     *s;
    acctdb_chilly_sim_opts_default(&o);
    o.cache_sz = 4096;
    o.load_limit = 2000;
    o.lru_extra_sz = extra;
    o.accounts_max = 100;
    if (acctdb_chilly_sim_open(&s, &o, NULL, 0)) abort();
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t fl[ACCTDB_CHILLY_TX_LOADS_MAX];
        rc = acctdb_chilly_sim_tx(s, &txs[i], fl);
        for (uint32_t k = 0; !rc && k < txs[i].load_cnt; k++)
            if (fl[k] & ~3u) abort();
    }
    if (!rc) rc = acctdb_chilly_sim_finish(s, rep);
    if (rc && rc != ACCTDB_ERR_FULL) abort(); /* only too many accounts can fail */
    if (rc && !*acctdb_chilly_sim_errmsg(s)) abort();
    acctdb_chilly_sim_close(s);
    return rc;
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz > 1 << 20) return 0;
    acctdb_chilly_tx_t    *txs = malloc(TX_MAX * sizeof *txs), *back = malloc(sizeof *back);
    acctdb_chilly_parser_t p;
    char                   msg[512], line[ACCTDB_CHILLY_FORMAT_MAX];
    size_t                 n = 0;
    if (!txs || !back) abort();
    acctdb_chilly_parser_init(&p);
    for (size_t at = 0; at < sz && n < TX_MAX;) {
        uint8_t const         *nl = memchr(data + at, '\n', sz - at);
        size_t                 len = nl ? (size_t)(nl - (data + at)) : sz - at;
        acctdb_chilly_parser_t before = p;
        int rc = acctdb_chilly_trace_parse_line(&p, (char const *)data + at, len, &txs[n], msg,
                                                sizeof msg);
        at += len + (nl != NULL);
        if (p.line_no != before.line_no + 1) abort();
        if (rc) {
            if (rc != ACCTDB_ERR_CORRUPT || strncmp(msg, "line ", 5)) abort();
            if (p.slot != before.slot || p.has_slot != before.has_slot) abort();
            break; /* a reader stops at the first bad line */
        }
        if (!txs[n].load_cnt) continue;
        acctdb_chilly_tx_t const *t = &txs[n];
        if (t->load_cnt > ACCTDB_CHILLY_TX_LOADS_MAX) abort();
        if (before.has_slot && t->slot < before.slot) abort();
        /* format -> parse (from the same parser state) -> the same tx */
        size_t out_len;
        if (acctdb_chilly_trace_format(t, line, sizeof line, &out_len)) abort();
        acctdb_chilly_parser_t again = before;
        if (acctdb_chilly_trace_parse_line(&again, line, out_len, back, msg, sizeof msg)) abort();
        if (back->slot != t->slot || back->load_cnt != t->load_cnt ||
            memcmp(back->key, t->key, t->load_cnt * sizeof t->key[0]) ||
            memcmp(back->data_len, t->data_len, t->load_cnt * sizeof t->data_len[0]))
            abort();
        for (uint32_t k = 0; k < t->load_cnt; k++) {
            if (t->data_len[k] > ACCTDB_CHILLY_DATA_MAX) abort();
            for (uint32_t j = 0; j < k; j++)
                if (!memcmp(t->key[j].b, t->key[k].b, 32)) abort();
        }
        n++;
    }

    acctdb_chilly_report_t a, b, c;
    if (replay(txs, n, 0, &a) == 0) {
        if (a.txs != n || a.hot > a.loads || a.lru_hits > a.loads || a.hot_bytes > a.load_bytes ||
            a.blocks_over > a.blocks || a.deferred > a.txs ||
            a.charged_bytes + a.deferred_bytes != a.cold_bytes || a.cold_min > a.cold_p99 ||
            a.cold_p99 > a.cold_max || a.lru_resident_bytes > a.lru_cap || a.hot_lru_miss > a.hot ||
            a.lru_hit_cold > a.lru_hits)
            abort();
        if (replay(txs, n, 0, &b) || b.decision_hash != a.decision_hash || b.hot != a.hot ||
            b.lru_hits != a.lru_hits)
            abort();
        if (replay(txs, n, 2 * a.tx_load_max, &c) || c.hot_lru_miss != 0 || c.hot != a.hot) abort();
    }
    free(back);
    free(txs);
    return 0;
}
