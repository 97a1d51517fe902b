/* src/state/chilly_sim.c - the Chilly trace line parser and formatter, and
 * the simulator that replays a trace through Chilly and a byte LRU side by
 * side (chilly_sim.h has the format and the rules).
 *
 * One table serves both models: entries (key, Chilly counter, last load
 * size, LRU links) in a growable array indexed by uint32_t, found through
 * an open-addressing table of entry index + 1 (0 = empty), linear probing,
 * kept at most half full.  The LRU is a doubly linked list through the
 * entries, most recent at the head. */
#include "state/chilly_sim.h"

#include "util/base58.h"
#include "util/rng.h"

#include <stdio.h>
#include <stdlib.h>

#define NIL UINT32_MAX

/* ---- parsing ----------------------------------------------------------------- */

void
adb_chilly_parser_init(adb_chilly_parser_t *p) {
    memset(p, 0, sizeof *p);
}

static bool
is_ws(char c) {
    return c == ' ' || c == '\t';
}

/* A token for a message: at most 40 characters, unprintable ones as '?'. */
static char const *
show(char *buf, char const *s, size_t n) {
    size_t k = 0, lim = n > 40 ? 37 : n;
    for (size_t i = 0; i < lim; i++)
        buf[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (n > lim) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = 0;
    return buf;
}

/* Decimal digits only, no sign; false on junk, empty or overflow (*ovf). */
static bool
parse_u64(char const *s, size_t n, uint64_t *v_out, bool *ovf) {
    uint64_t v = 0;
    *ovf = false;
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *ovf = true;
            return false;
        }
        v = v * 10 + d;
    }
    *v_out = v;
    return true;
}

int
adb_chilly_parse_line(adb_chilly_parser_t *p, char const *line, size_t len, uint64_t *slot_out,
                      acctdb_pubkey_t *keys_out, uint64_t *lens_out, size_t *n_out,
                      adb_err_t *err) {
    unsigned long long const ln = (unsigned long long)++p->line_no;
    char                     tb[48];
    *n_out = 0;
    *slot_out = 0;
    if (len && line[len - 1] == '\r') len--;
    ADB_FAIL_IF(len > ADB_CHILLY_LINE_MAX, err, ACCTDB_ERR_CORRUPT,
                "line %llu: longer than %u bytes (%zu)", ln, ADB_CHILLY_LINE_MAX, len);
    size_t at = 0;
    while (at < len && is_ws(line[at]))
        at++;
    if (at == len || line[at] == '#') return 0;

    size_t tok = at;
    while (at < len && !is_ws(line[at]))
        at++;
    uint64_t slot;
    bool     ovf;
    if (!parse_u64(line + tok, at - tok, &slot, &ovf))
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "line %llu: bad slot '%s'%s", ln,
                           show(tb, line + tok, at - tok), ovf ? " (above 2^64 - 1)" : "");
    ADB_FAIL_IF(p->has_slot && slot < p->slot, err, ACCTDB_ERR_CORRUPT,
                "line %llu: slot %llu is below the previous slot %llu (slots never decrease)", ln,
                (unsigned long long)slot, (unsigned long long)p->slot);

    size_t n = 0;
    for (;;) {
        while (at < len && is_ws(line[at]))
            at++;
        if (at == len) break;
        tok = at;
        while (at < len && !is_ws(line[at]))
            at++;
        ADB_FAIL_IF(n == ADB_CHILLY_TX_LOADS_MAX, err, ACCTDB_ERR_CORRUPT,
                    "line %llu: more than %u loads in one transaction", ln,
                    ADB_CHILLY_TX_LOADS_MAX);
        char const *t = line + tok, *colon = memchr(t, ':', at - tok);
        ADB_FAIL_IF(!colon, err, ACCTDB_ERR_CORRUPT,
                    "line %llu: load %zu: expected <pubkey>:<data_len>, got '%s'", ln, n + 1,
                    show(tb, t, at - tok));
        size_t key_len = (size_t)(colon - t), num_len = at - tok - key_len - 1;
        ADB_FAIL_IF(adb_base58_decode_32(t, key_len, keys_out[n].b) != 0, err, ACCTDB_ERR_CORRUPT,
                    "line %llu: load %zu: bad pubkey '%s' (not base58 of 32 bytes)", ln, n + 1,
                    show(tb, t, key_len));
        uint64_t dl;
        if (!parse_u64(colon + 1, num_len, &dl, &ovf))
            return adb_err_set(err, ACCTDB_ERR_CORRUPT, "line %llu: load %zu: bad data_len '%s'%s",
                               ln, n + 1, show(tb, colon + 1, num_len),
                               ovf ? " (above 2^64 - 1)" : "");
        ADB_FAIL_IF(dl > ADB_CHILLY_DATA_MAX, err, ACCTDB_ERR_CORRUPT,
                    "line %llu: load %zu: data_len %llu is above %u (10 MiB)", ln, n + 1,
                    (unsigned long long)dl, ADB_CHILLY_DATA_MAX);
        for (size_t j = 0; j < n; j++)
            ADB_FAIL_IF(!memcmp(keys_out[j].b, keys_out[n].b, 32), err, ACCTDB_ERR_CORRUPT,
                        "line %llu: load %zu repeats the pubkey of load %zu (%s)", ln, n + 1, j + 1,
                        show(tb, t, key_len));
        lens_out[n++] = dl;
    }
    ADB_FAIL_IF(n == 0, err, ACCTDB_ERR_CORRUPT,
                "line %llu: slot %llu has no loads (a transaction loads 1 to %u accounts)", ln,
                (unsigned long long)slot, ADB_CHILLY_TX_LOADS_MAX);
    p->slot = slot;
    p->has_slot = true;
    *slot_out = slot;
    *n_out = n;
    return 0;
}

int
adb_chilly_format_line(uint64_t slot, acctdb_pubkey_t const *keys, uint64_t const *lens, size_t n,
                       char *buf, size_t max, size_t *len_out) {
    *len_out = 0;
    if (max) buf[0] = 0;
    if (n == 0 || n > ADB_CHILLY_TX_LOADS_MAX) return ACCTDB_ERR_INVALID;
    char   tmp[ADB_CHILLY_FORMAT_MAX];
    size_t at = (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)slot);
    for (size_t i = 0; i < n; i++) {
        char b58[ACCTDB_BASE58_32_SZ];
        at += (size_t)snprintf(tmp + at, sizeof tmp - at, " %s:%llu",
                               adb_base58_encode_32(keys[i].b, b58), (unsigned long long)lens[i]);
    }
    if (at + 1 > max) return ACCTDB_ERR_FULL;
    memcpy(buf, tmp, at + 1);
    *len_out = at;
    return 0;
}

/* ---- the simulator --------------------------------------------------------- */

typedef struct ent {
    acctdb_pubkey_t key;
    uint64_t        counter; /* Chilly load_counter */
    uint64_t        sz;      /* load size at the last load; 0 = not loaded yet */
    uint32_t        prev, next;
    bool            resident; /* in the LRU */
} ent_t;

struct adb_chilly_sim {
    adb_chilly_sim_cfg_t cfg;
    uint64_t             acct_max;
    ent_t               *ent;
    uint32_t             ent_cnt, ent_cap;
    uint32_t            *tab; /* entry index + 1; 0 = empty */
    size_t               tab_cap;
    uint32_t             head, tail; /* LRU: head = most recent */
    uint64_t             lru_total;
    uint64_t             loaded_bytes; /* Chilly: the bank's total */
    bool                 has_block, finished;
    adb_chilly_block_t   blk;
    uint64_t            *blk_cold; /* cold bytes per finished block */
    size_t               blk_cnt, blk_cap;
    adb_chilly_report_t  rep;
    uint64_t             mem_sz;
    adb_err_t            err;
};

static uint64_t
sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
mem_note(adb_chilly_sim_t *s) {
    uint64_t m = sizeof *s + (uint64_t)s->ent_cap * sizeof(ent_t) +
                 (uint64_t)s->tab_cap * sizeof(uint32_t) + (uint64_t)s->blk_cap * sizeof(uint64_t);
    if (m > s->mem_sz) s->mem_sz = m;
}

static size_t
key_hash(acctdb_pubkey_t const *k) {
    return (size_t)adb_rng_mix64(adb_load_u64(k->b) ^ adb_rng_mix64(adb_load_u64(k->b + 8)));
}

static int
tab_grow(adb_chilly_sim_t *s) {
    size_t    cap = s->tab_cap ? s->tab_cap * 2 : 1024;
    uint32_t *t = adb_calloc(cap, sizeof *t);
    if (!t)
        return adb_err_set(&s->err, ACCTDB_ERR_NOMEM, "chilly sim: no memory for %zu slots", cap);
    for (uint32_t i = 0; i < s->ent_cnt; i++) {
        size_t h = key_hash(&s->ent[i].key) & (cap - 1);
        while (t[h])
            h = (h + 1) & (cap - 1);
        t[h] = i + 1;
    }
    adb_free(s->tab);
    s->tab = t;
    s->tab_cap = cap;
    mem_note(s);
    return 0;
}

/* The entry of key, created (counter 0, not loaded, not resident) if new. */
static int
lookup(adb_chilly_sim_t *s, acctdb_pubkey_t const *key, uint32_t *idx_out) {
    size_t h = key_hash(key) & (s->tab_cap - 1);
    for (; s->tab[h]; h = (h + 1) & (s->tab_cap - 1)) {
        uint32_t i = s->tab[h] - 1;
        if (!memcmp(s->ent[i].key.b, key->b, 32)) {
            *idx_out = i;
            return 0;
        }
    }
    ADB_FAIL_IF(s->ent_cnt >= s->acct_max, &s->err, ACCTDB_ERR_FULL,
                "chilly sim: more than %llu distinct accounts (accounts_max)",
                (unsigned long long)s->acct_max);
    if (s->ent_cnt == s->ent_cap) {
        uint32_t cap =
            s->ent_cap ? (s->ent_cap > UINT32_MAX / 2 ? UINT32_MAX - 1 : s->ent_cap * 2) : 1024;
        ent_t *e = adb_realloc(s->ent, (size_t)cap * sizeof *e);
        ADB_FAIL_IF(!e, &s->err, ACCTDB_ERR_NOMEM, "chilly sim: no memory for %u accounts", cap);
        s->ent = e;
        s->ent_cap = cap;
        mem_note(s);
    }
    if ((size_t)(s->ent_cnt + 1) * 2 > s->tab_cap) {
        ADB_TRY(tab_grow(s));
        h = key_hash(key) & (s->tab_cap - 1);
        while (s->tab[h])
            h = (h + 1) & (s->tab_cap - 1);
    }
    uint32_t i = s->ent_cnt++;
    s->ent[i] = (ent_t){.key = *key, .prev = NIL, .next = NIL};
    s->tab[h] = i + 1;
    *idx_out = i;
    return 0;
}

static void
lru_unlink(adb_chilly_sim_t *s, uint32_t i) {
    ent_t *e = &s->ent[i];
    if (e->prev != NIL)
        s->ent[e->prev].next = e->next;
    else
        s->head = e->next;
    if (e->next != NIL)
        s->ent[e->next].prev = e->prev;
    else
        s->tail = e->prev;
    e->prev = e->next = NIL;
    e->resident = false;
    s->lru_total -= e->sz;
}

static void
lru_push(adb_chilly_sim_t *s, uint32_t i) {
    ent_t *e = &s->ent[i];
    e->prev = NIL;
    e->next = s->head;
    if (s->head != NIL)
        s->ent[s->head].prev = i;
    else
        s->tail = i;
    s->head = i;
    e->resident = true;
    s->lru_total += e->sz;
}

int
adb_chilly_sim_open(adb_chilly_sim_t **sim_out, adb_chilly_sim_cfg_t const *cfg, adb_err_t *err) {
    *sim_out = NULL;
    adb_chilly_sim_t *s = adb_calloc(1, sizeof *s);
    ADB_FAIL_IF(!s, err, ACCTDB_ERR_NOMEM, "chilly sim: no memory");
    s->cfg = *cfg;
    s->acct_max = cfg->accounts_max && cfg->accounts_max < UINT32_MAX - 1 ? cfg->accounts_max
                                                                          : UINT32_MAX - 2;
    s->head = s->tail = NIL;
    s->rep.lru_cap = sat_add(cfg->cache_sz, cfg->lru_extra_sz);
    if (tab_grow(s)) {
        adb_err_set(err, s->err.code, "%s", s->err.msg);
        adb_chilly_sim_close(s);
        return ACCTDB_ERR_NOMEM;
    }
    *sim_out = s;
    return 0;
}

/* Ends the block in progress: its cold bytes kept for the p99, the
 * callback, the block counts. */
static int
block_end(adb_chilly_sim_t *s) {
    if (!s->has_block) return 0;
    if (s->blk_cnt == s->blk_cap) {
        size_t    cap = s->blk_cap ? s->blk_cap * 2 : 256;
        uint64_t *b = adb_realloc(s->blk_cold, cap * sizeof *b);
        ADB_FAIL_IF(!b, &s->err, ACCTDB_ERR_NOMEM, "chilly sim: no memory for %zu blocks", cap);
        s->blk_cold = b;
        s->blk_cap = cap;
        mem_note(s);
    }
    s->blk.loaded_bytes = s->loaded_bytes;
    s->blk_cold[s->blk_cnt++] = s->blk.cold_bytes;
    adb_chilly_report_t      *r = &s->rep;
    adb_chilly_block_t const *b = &s->blk;
    r->blocks++;
    r->blocks_over += b->deferred > 0;
    r->txs += b->txs, r->loads += b->loads, r->load_bytes += b->load_bytes;
    r->hot += b->hot, r->hot_bytes += b->hot_bytes;
    r->lru_hits += b->lru_hits, r->lru_hit_bytes += b->lru_hit_bytes;
    r->cold_bytes = sat_add(r->cold_bytes, b->cold_bytes);
    r->charged_bytes = sat_add(r->charged_bytes, b->charged_bytes);
    r->deferred += b->deferred;
    if (s->cfg.block_fn) s->cfg.block_fn(s->cfg.block_ctx, &s->blk);
    s->has_block = false;
    return 0;
}

int
adb_chilly_sim_tx(adb_chilly_sim_t *s, uint64_t slot, acctdb_pubkey_t const *keys,
                  uint64_t const *lens, size_t n, uint8_t *flags_out) {
    if (s->err.code) return s->err.code;
    ADB_FAIL_IF(s->finished, &s->err, ACCTDB_ERR_INVALID, "chilly sim: a transaction after finish");
    ADB_FAIL_IF(n == 0 || n > ADB_CHILLY_TX_LOADS_MAX, &s->err, ACCTDB_ERR_INVALID,
                "chilly sim: a transaction of %zu loads (1 to %u)", n, ADB_CHILLY_TX_LOADS_MAX);
    ADB_FAIL_IF(s->has_block && slot < s->blk.slot, &s->err, ACCTDB_ERR_INVALID,
                "chilly sim: slot %llu after slot %llu (slots never decrease)",
                (unsigned long long)slot, (unsigned long long)s->blk.slot);
    uint32_t idx[ADB_CHILLY_TX_LOADS_MAX];
    for (size_t i = 0; i < n; i++) {
        /* An entry created here stays "not loaded" if the transaction is
         * refused below: both models ignore such entries. */
        ADB_TRY(lookup(s, &keys[i], &idx[i]));
        for (size_t j = 0; j < i; j++)
            ADB_FAIL_IF(idx[j] == idx[i], &s->err, ACCTDB_ERR_INVALID,
                        "chilly sim: slot %llu: load %zu repeats the account of load %zu",
                        (unsigned long long)slot, i + 1, j + 1);
    }
    if (s->has_block && slot != s->blk.slot) ADB_TRY(block_end(s));
    if (!s->has_block) {
        memset(&s->blk, 0, sizeof s->blk);
        s->blk.slot = slot;
        s->has_block = true;
    }

    /* Chilly: the whole transaction at once. */
    uint64_t counters[ADB_CHILLY_TX_LOADS_MAX];
    uint8_t  cold[ADB_CHILLY_TX_LOADS_MAX];
    for (size_t i = 0; i < n; i++)
        counters[i] = s->ent[idx[i]].counter;
    uint64_t tx_cold = adb_chilly_touch(&s->loaded_bytes, s->cfg.cache_sz, counters, lens, n, cold);

    /* The LRU, load by load; the tallies. */
    adb_chilly_report_t *r = &s->rep;
    adb_chilly_block_t  *b = &s->blk;
    uint64_t             tx_sz = 0;
    for (size_t i = 0; i < n; i++) {
        ent_t   *e = &s->ent[idx[i]];
        uint64_t sz = adb_chilly_load_sz(lens[i]);
        bool     hit = e->resident;
        e->counter = counters[i];
        if (hit) lru_unlink(s, idx[i]);
        if (e->sz == 0) r->accounts++;
        r->distinct_bytes = r->distinct_bytes - e->sz + sz;
        e->sz = sz;
        lru_push(s, idx[i]);
        while (s->lru_total > r->lru_cap)
            lru_unlink(s, s->tail);

        uint8_t f = (uint8_t)((cold[i] ? ADB_CHILLY_COLD : 0) | (hit ? ADB_CHILLY_LRU_HIT : 0));
        if (flags_out) flags_out[i] = f;
        r->decision_hash = adb_rng_mix64(r->decision_hash + ADB_RNG_GAMMA + f);
        tx_sz = sat_add(tx_sz, sz);
        b->loads++, b->load_bytes += sz;
        if (!cold[i]) b->hot++, b->hot_bytes += sz;
        if (hit) b->lru_hits++, b->lru_hit_bytes += sz;
        r->hot_lru_miss += !cold[i] && !hit;
        r->lru_hit_cold += cold[i] && hit;
        r->load_sz_max = ADB_MAX(r->load_sz_max, sz);
    }
    r->tx_load_max = ADB_MAX(r->tx_load_max, tx_sz);

    /* The watermark, in trace order. */
    b->txs++;
    b->cold_bytes = sat_add(b->cold_bytes, tx_cold);
    if (adb_chilly_fits(b->charged_bytes, tx_cold, s->cfg.load_limit)) {
        b->charged_bytes += tx_cold;
    } else {
        b->deferred++;
        r->deferred_bytes = sat_add(r->deferred_bytes, tx_cold);
    }
    return 0; /* the block's tallies join the report at block_end */
}

static int
cmp_u64(void const *a, void const *b) {
    uint64_t x = *(uint64_t const *)a, y = *(uint64_t const *)b;
    return (x > y) - (x < y);
}

static double
ratio(uint64_t a, uint64_t b) {
    return b ? (double)a / (double)b : 0.0;
}

int
adb_chilly_sim_finish(adb_chilly_sim_t *s, adb_chilly_report_t *out) {
    memset(out, 0, sizeof *out);
    if (s->err.code) return s->err.code;
    if (!s->finished) {
        ADB_TRY(block_end(s));
        s->finished = true;
        adb_chilly_report_t *r = &s->rep;
        if (s->blk_cnt) {
            qsort(s->blk_cold, s->blk_cnt, sizeof *s->blk_cold, cmp_u64);
            r->cold_min = s->blk_cold[0];
            r->cold_max = s->blk_cold[s->blk_cnt - 1];
            r->cold_p99 = s->blk_cold[(99 * s->blk_cnt + 99) / 100 - 1];
            r->cold_mean = (double)r->cold_bytes / (double)s->blk_cnt;
        }
        r->hot_rate = ratio(r->hot, r->loads);
        r->hot_byte_rate = ratio(r->hot_bytes, r->load_bytes);
        r->lru_rate = ratio(r->lru_hits, r->loads);
        r->lru_byte_rate = ratio(r->lru_hit_bytes, r->load_bytes);
        r->gap_pts = 100.0 * (r->hot_rate - r->lru_rate);
        r->byte_gap_pts = 100.0 * (r->hot_byte_rate - r->lru_byte_rate);
        r->loaded_bytes = s->loaded_bytes;
        r->lru_resident_bytes = s->lru_total;
    }
    s->rep.mem_sz = s->mem_sz;
    *out = s->rep;
    return 0;
}

char const *
adb_chilly_sim_errmsg(adb_chilly_sim_t const *s) {
    return s->err.msg;
}

void
adb_chilly_sim_close(adb_chilly_sim_t *s) {
    if (!s) return;
    adb_free(s->ent);
    adb_free(s->tab);
    adb_free(s->blk_cold);
    adb_free(s);
}
