/* src/sim/sim_chilly.c - the public face of the Chilly simulator
 * (acctdb_sim.h, "Chilly simulation"): thin wrappers over
 * src/state/chilly_sim.h, the generator of skewed traces (it draws sizes
 * from the account mix, which src/state cannot see), and the trace file
 * reader and writer. */
#include "sim/sim.h"
#include "state/chilly_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

_Static_assert(ACCTDB_CHILLY_TX_LOADS_MAX == ADB_CHILLY_TX_LOADS_MAX, "loads per tx");
_Static_assert(ACCTDB_CHILLY_LINE_MAX == ADB_CHILLY_LINE_MAX, "line max");
_Static_assert(ACCTDB_CHILLY_DATA_MAX == ADB_CHILLY_DATA_MAX, "data max");
_Static_assert(ACCTDB_CHILLY_ACCOUNT_BASE_SZ == ADB_CHILLY_ACCOUNT_BASE_SZ, "base size");
_Static_assert(ACCTDB_CHILLY_FORMAT_MAX == ADB_CHILLY_FORMAT_MAX, "format max");
_Static_assert(ACCTDB_CHILLY_COLD == ADB_CHILLY_COLD && ACCTDB_CHILLY_LRU_HIT == ADB_CHILLY_LRU_HIT,
               "flags");

static void
msg_put(char *msg_out, size_t msg_max, char const *msg) {
    if (msg_out && msg_max) snprintf(msg_out, msg_max, "%s", msg);
}

/* ---- parsing and formatting ---------------------------------------------- */

void
acctdb_chilly_parser_init(acctdb_chilly_parser_t *p) {
    memset(p, 0, sizeof *p);
}

int
acctdb_chilly_trace_parse_line(acctdb_chilly_parser_t *p, char const *line, size_t len,
                               acctdb_chilly_tx_t *tx_out, char *msg_out, size_t msg_max) {
    msg_put(msg_out, msg_max, "");
    if (!p || (!line && len) || !tx_out) return ACCTDB_ERR_INVALID;
    adb_chilly_parser_t q = {p->line_no, p->slot, p->has_slot};
    adb_err_t           e;
    size_t              n = 0;
    adb_err_clear(&e);
    tx_out->load_cnt = 0;
    int rc = adb_chilly_parse_line(&q, line ? line : "", len, &tx_out->slot, tx_out->key,
                                   tx_out->data_len, &n, &e);
    p->line_no = q.line_no, p->slot = q.slot, p->has_slot = q.has_slot;
    if (rc) {
        msg_put(msg_out, msg_max, e.msg);
        return rc;
    }
    tx_out->load_cnt = (uint32_t)n;
    return 0;
}

int
acctdb_chilly_trace_format(acctdb_chilly_tx_t const *tx, char *buf, size_t max, size_t *len_out) {
    if (!tx || !buf || !len_out) return ACCTDB_ERR_INVALID;
    return adb_chilly_format_line(tx->slot, tx->key, tx->data_len, tx->load_cnt, buf, max, len_out);
}

/* ---- the generator ------------------------------------------------------------ */

#define GEN_KEY     1u /* adb_rng_at purposes under the seed */
#define GEN_SIZE    2u
#define GEN_STREAM  0x63686c7967656e31ull /* "chlygen1": the transaction stream */
#define GEN_RETRIES 8

struct acctdb_chilly_gen {
    acctdb_chilly_gen_opts_t o;
    double                  *cdf; /* cdf[i] = sum over j <= i of (j+1)^-zipf; NULL: uniform */
    adb_rng_t                r;
    uint64_t                 block; /* of the next transaction */
    uint32_t                 tx;    /* its index in the block */
};

void
acctdb_chilly_gen_opts_default(acctdb_chilly_gen_opts_t *o) {
    *o = (acctdb_chilly_gen_opts_t){.accounts = 1000000,
                                    .zipf = 1.0,
                                    .blocks = 1000,
                                    .txs_per_block = 1000,
                                    .loads_max = 16,
                                    .first_slot = 1};
}

static int
gen_check(acctdb_chilly_gen_opts_t const *o, adb_err_t *e) {
    ADB_FAIL_IF(!o, e, ACCTDB_ERR_INVALID, "chilly gen: no options");
    ADB_FAIL_IF(o->accounts < 1 || o->accounts > (1ull << 27), e, ACCTDB_ERR_INVALID,
                "chilly gen: accounts %llu not in 1 .. 2^27", (unsigned long long)o->accounts);
    ADB_FAIL_IF(!(o->zipf >= 0.0 && o->zipf <= 8.0), e, ACCTDB_ERR_INVALID,
                "chilly gen: zipf %g not in 0 .. 8", o->zipf);
    ADB_FAIL_IF(o->blocks < 1 || o->blocks > (1ull << 40), e, ACCTDB_ERR_INVALID,
                "chilly gen: blocks %llu not in 1 .. 2^40", (unsigned long long)o->blocks);
    ADB_FAIL_IF(o->txs_per_block < 1 || o->txs_per_block > (1u << 20), e, ACCTDB_ERR_INVALID,
                "chilly gen: txs_per_block %u not in 1 .. 2^20", o->txs_per_block);
    ADB_FAIL_IF(o->loads_max < 1 || o->loads_max > ADB_CHILLY_TX_LOADS_MAX, e, ACCTDB_ERR_INVALID,
                "chilly gen: loads_max %u not in 1 .. %u", o->loads_max, ADB_CHILLY_TX_LOADS_MAX);
    ADB_FAIL_IF(o->first_slot > UINT64_MAX - o->blocks, e, ACCTDB_ERR_INVALID,
                "chilly gen: first_slot %llu + blocks passes 2^64 - 1",
                (unsigned long long)o->first_slot);
    return 0;
}

static int
gen_open(acctdb_chilly_gen_t **gen_out, acctdb_chilly_gen_opts_t const *o, adb_err_t *e) {
    *gen_out = NULL;
    ADB_TRY(gen_check(o, e));
    acctdb_chilly_gen_t *g = adb_calloc(1, sizeof *g);
    ADB_FAIL_IF(!g, e, ACCTDB_ERR_NOMEM, "chilly gen: no memory");
    g->o = *o;
    g->r = adb_rng_seed(adb_rng_mix64(o->seed ^ GEN_STREAM));
    if (o->zipf > 0.0) {
        g->cdf = adb_calloc(o->accounts, sizeof *g->cdf);
        if (!g->cdf) {
            adb_free(g);
            return adb_err_set(e, ACCTDB_ERR_NOMEM, "chilly gen: no memory for a %llu-entry table",
                               (unsigned long long)o->accounts);
        }
        double sum = 0.0;
        for (uint64_t i = 0; i < o->accounts; i++)
            g->cdf[i] = sum += pow((double)(i + 1), -o->zipf);
    }
    *gen_out = g;
    return 0;
}

int
acctdb_chilly_gen_open(acctdb_chilly_gen_t **gen_out, acctdb_chilly_gen_opts_t const *o,
                       char *msg_out, size_t msg_max) {
    adb_err_t e;
    adb_err_clear(&e);
    msg_put(msg_out, msg_max, "");
    if (!gen_out) return ACCTDB_ERR_INVALID;
    int rc = gen_open(gen_out, o, &e);
    if (rc) msg_put(msg_out, msg_max, e.msg);
    return rc;
}

void
acctdb_chilly_gen_close(acctdb_chilly_gen_t *g) {
    if (!g) return;
    adb_free(g->cdf);
    adb_free(g);
}

/* The popularity draw: an account index. */
static uint64_t
gen_pick(acctdb_chilly_gen_t *g) {
    uint64_t n = g->o.accounts;
    if (!g->cdf) return adb_rng_below(&g->r, n);
    double   u = adb_rng_unit(&g->r) * g->cdf[n - 1];
    uint64_t lo = 0, hi = n - 1; /* the first i with cdf[i] > u, at most n - 1 */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

bool
acctdb_chilly_gen_next(acctdb_chilly_gen_t *g, acctdb_chilly_tx_t *tx) {
    tx->load_cnt = 0;
    if (g->block >= g->o.blocks) return false;
    tx->slot = g->o.first_slot + g->block;
    uint64_t want = 1 + adb_rng_below(&g->r, g->o.loads_max);
    uint64_t idx[ADB_CHILLY_TX_LOADS_MAX];
    if (want > g->o.accounts) want = g->o.accounts;
    for (uint32_t k = 0; k < want; k++) {
        uint64_t i = gen_pick(g);
        for (int tries = 0;; tries++) {
            bool dup = false;
            for (uint32_t j = 0; j < k && !dup; j++)
                dup = idx[j] == i;
            if (!dup) break;
            i = tries < GEN_RETRIES ? gen_pick(g) : (i + 1) % g->o.accounts;
        }
        idx[k] = i;
        adb_rng_t kr = adb_rng_at(g->o.seed, i, GEN_KEY);
        adb_rng_fill(&kr, tx->key[k].b, 32);
        acctdb_rng_t sr = {adb_rng_at(g->o.seed, i, GEN_SIZE).s};
        tx->data_len[k] = acctdb_mix_draw(&sr).data_len;
    }
    tx->load_cnt = (uint32_t)want;
    if (++g->tx == g->o.txs_per_block) g->tx = 0, g->block++;
    return true;
}

int
acctdb_chilly_gen_write(acctdb_chilly_gen_opts_t const *o, char const *path, char *msg_out,
                        size_t msg_max) {
    adb_err_t            e;
    acctdb_chilly_gen_t *g = NULL;
    acctdb_chilly_tx_t  *tx = NULL;
    FILE                *f = NULL;
    int                  rc;
    adb_err_clear(&e);
    msg_put(msg_out, msg_max, "");
    if (!path) return ACCTDB_ERR_INVALID;
    if ((rc = gen_open(&g, o, &e))) goto cleanup;
    tx = adb_malloc(sizeof *tx);
    if (!tx) {
        rc = adb_err_set(&e, ACCTDB_ERR_NOMEM, "chilly gen: no memory");
        goto cleanup;
    }
    f = fopen(path, "w");
    if (!f) {
        rc = -errno;
        adb_err_set(&e, rc, "%s: %s", path, acctdb_strerror(rc));
        goto cleanup;
    }
    fprintf(f,
            "# acctdb chilly trace: seed=%llu accounts=%llu zipf=%g blocks=%llu "
            "txs_per_block=%u loads_max=%u first_slot=%llu\n"
            "# <slot> <pubkey>:<data_len> ...   (one transaction per line; one block per slot)\n",
            (unsigned long long)o->seed, (unsigned long long)o->accounts, o->zipf,
            (unsigned long long)o->blocks, o->txs_per_block, o->loads_max,
            (unsigned long long)o->first_slot);
    char   line[ADB_CHILLY_FORMAT_MAX];
    size_t len;
    while (acctdb_chilly_gen_next(g, tx)) {
        rc = adb_chilly_format_line(tx->slot, tx->key, tx->data_len, tx->load_cnt, line,
                                    sizeof line, &len);
        ADB_ASSERT(rc == 0);
        line[len++] = '\n';
        if (fwrite(line, 1, len, f) != len) break;
    }
    if (ferror(f) | fflush(f)) {
        rc = errno ? -errno : ACCTDB_ERR_IO;
        adb_err_set(&e, rc, "%s: write: %s", path, acctdb_strerror(rc));
    }
cleanup:
    if (f && fclose(f) && !rc) {
        rc = errno ? -errno : ACCTDB_ERR_IO;
        adb_err_set(&e, rc, "%s: close: %s", path, acctdb_strerror(rc));
    }
    adb_free(tx);
    acctdb_chilly_gen_close(g);
    if (rc) msg_put(msg_out, msg_max, e.msg);
    return rc;
}

/* ---- the simulator ------------------------------------------------------------ */

struct acctdb_chilly_sim {
    adb_chilly_sim_t      *s;
    acctdb_chilly_block_fn fn;
    void                  *ctx;
};

void
acctdb_chilly_sim_opts_default(acctdb_chilly_sim_opts_t *o) {
    *o = (acctdb_chilly_sim_opts_t){.cache_sz = 256ull << 20, .load_limit = 64ull << 20};
}

static void
block_relay(void *ctx, adb_chilly_block_t const *b) {
    acctdb_chilly_sim_t  *w = ctx;
    acctdb_chilly_block_t pb = {
        .slot = b->slot,
        .txs = b->txs,
        .loads = b->loads,
        .load_bytes = b->load_bytes,
        .hot = b->hot,
        .hot_bytes = b->hot_bytes,
        .lru_hits = b->lru_hits,
        .lru_hit_bytes = b->lru_hit_bytes,
        .cold_bytes = b->cold_bytes,
        .charged_bytes = b->charged_bytes,
        .deferred = b->deferred,
        .loaded_bytes = b->loaded_bytes,
    };
    w->fn(w->ctx, &pb);
}

static void
report_copy(acctdb_chilly_report_t *o, adb_chilly_report_t const *r) {
    *o = (acctdb_chilly_report_t){
        .blocks = r->blocks,
        .txs = r->txs,
        .loads = r->loads,
        .load_bytes = r->load_bytes,
        .accounts = r->accounts,
        .distinct_bytes = r->distinct_bytes,
        .hot = r->hot,
        .hot_bytes = r->hot_bytes,
        .lru_hits = r->lru_hits,
        .lru_hit_bytes = r->lru_hit_bytes,
        .hot_lru_miss = r->hot_lru_miss,
        .lru_hit_cold = r->lru_hit_cold,
        .hot_rate = r->hot_rate,
        .hot_byte_rate = r->hot_byte_rate,
        .lru_rate = r->lru_rate,
        .lru_byte_rate = r->lru_byte_rate,
        .gap_pts = r->gap_pts,
        .byte_gap_pts = r->byte_gap_pts,
        .cold_bytes = r->cold_bytes,
        .cold_min = r->cold_min,
        .cold_p99 = r->cold_p99,
        .cold_max = r->cold_max,
        .cold_mean = r->cold_mean,
        .blocks_over = r->blocks_over,
        .deferred = r->deferred,
        .deferred_bytes = r->deferred_bytes,
        .charged_bytes = r->charged_bytes,
        .tx_load_max = r->tx_load_max,
        .load_sz_max = r->load_sz_max,
        .loaded_bytes = r->loaded_bytes,
        .lru_cap = r->lru_cap,
        .lru_resident_bytes = r->lru_resident_bytes,
        .mem_sz = r->mem_sz,
        .decision_hash = r->decision_hash,
    };
}

int
acctdb_chilly_sim_open(acctdb_chilly_sim_t **sim_out, acctdb_chilly_sim_opts_t const *o,
                       char *msg_out, size_t msg_max) {
    msg_put(msg_out, msg_max, "");
    if (!sim_out) return ACCTDB_ERR_INVALID;
    *sim_out = NULL;
    if (!o) return ACCTDB_ERR_INVALID;
    acctdb_chilly_sim_t *w = adb_calloc(1, sizeof *w);
    if (!w) {
        msg_put(msg_out, msg_max, "chilly sim: no memory");
        return ACCTDB_ERR_NOMEM;
    }
    w->fn = o->block_fn;
    w->ctx = o->block_ctx;
    adb_chilly_sim_cfg_t cfg = {.cache_sz = o->cache_sz,
                                .load_limit = o->load_limit,
                                .lru_extra_sz = o->lru_extra_sz,
                                .accounts_max = o->accounts_max,
                                .block_fn = o->block_fn ? block_relay : NULL,
                                .block_ctx = w};
    adb_err_t            e;
    adb_err_clear(&e);
    int rc = adb_chilly_sim_open(&w->s, &cfg, &e);
    if (rc) {
        msg_put(msg_out, msg_max, e.msg);
        adb_free(w);
        return rc;
    }
    *sim_out = w;
    return 0;
}

int
acctdb_chilly_sim_tx(acctdb_chilly_sim_t *w, acctdb_chilly_tx_t const *tx, uint8_t *flags_out) {
    if (!w || !tx) return ACCTDB_ERR_INVALID;
    return adb_chilly_sim_tx(w->s, tx->slot, tx->key, tx->data_len, tx->load_cnt, flags_out);
}

int
acctdb_chilly_sim_finish(acctdb_chilly_sim_t *w, acctdb_chilly_report_t *out) {
    if (!w || !out) return ACCTDB_ERR_INVALID;
    adb_chilly_report_t r;
    int                 rc = adb_chilly_sim_finish(w->s, &r);
    report_copy(out, &r);
    return rc;
}

char const *
acctdb_chilly_sim_errmsg(acctdb_chilly_sim_t const *w) {
    return w ? adb_chilly_sim_errmsg(w->s) : "";
}

void
acctdb_chilly_sim_close(acctdb_chilly_sim_t *w) {
    if (!w) return;
    adb_chilly_sim_close(w->s);
    adb_free(w);
}

/* Reads the next line of f into buf (ADB_CHILLY_LINE_MAX + 2 bytes: a line
 * may end in "\r"), without its '\n'.  Returns 1 with a line, 0 at the
 * end, -1 for a line too long (the rest of it is not read), -2 on a read
 * error. */
static int
line_read(FILE *f, char *buf, size_t *len_out) {
    size_t n = 0;
    int    c;
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n == ADB_CHILLY_LINE_MAX + 1) return -1;
        buf[n++] = (char)c;
    }
    *len_out = n;
    if (c == EOF && ferror(f)) return -2;
    return c == EOF && n == 0 ? 0 : 1;
}

int
acctdb_chilly_sim_file(char const *path, acctdb_chilly_sim_opts_t const *o,
                       acctdb_chilly_report_t *out, char *msg_out, size_t msg_max) {
    acctdb_chilly_sim_t   *w = NULL;
    acctdb_chilly_tx_t    *tx = NULL;
    char                  *buf = NULL, msg[ADB_ERRMSG_SZ] = "";
    acctdb_chilly_parser_t p;
    FILE                  *f = NULL;
    int                    rc;
    if (out) memset(out, 0, sizeof *out);
    msg_put(msg_out, msg_max, "");
    if (!path || !o || !out) return ACCTDB_ERR_INVALID;
    acctdb_chilly_parser_init(&p);
    if ((rc = acctdb_chilly_sim_open(&w, o, msg, sizeof msg))) goto cleanup;
    tx = adb_malloc(sizeof *tx);
    buf = adb_malloc(ADB_CHILLY_LINE_MAX + 2);
    if (!tx || !buf) {
        rc = ACCTDB_ERR_NOMEM;
        snprintf(msg, sizeof msg, "chilly sim: no memory");
        goto cleanup;
    }
    bool is_stdin = !strcmp(path, "-");
    f = is_stdin ? stdin : fopen(path, "r");
    if (!f) {
        rc = -errno;
        snprintf(msg, sizeof msg, "%s", acctdb_strerror(rc));
        goto cleanup;
    }
    for (;;) {
        size_t len;
        int    got = line_read(f, buf, &len);
        if (got == 0) break;
        if (got == -1) {
            rc = ACCTDB_ERR_CORRUPT;
            snprintf(msg, sizeof msg, "line %llu: longer than %u bytes",
                     (unsigned long long)p.line_no + 1, ADB_CHILLY_LINE_MAX);
            goto cleanup;
        }
        if (got == -2) {
            rc = errno ? -errno : ACCTDB_ERR_IO;
            snprintf(msg, sizeof msg, "read after line %llu: %s", (unsigned long long)p.line_no,
                     acctdb_strerror(rc));
            goto cleanup;
        }
        if ((rc = acctdb_chilly_trace_parse_line(&p, buf, len, tx, msg, sizeof msg))) goto cleanup;
        if (tx->load_cnt && (rc = acctdb_chilly_sim_tx(w, tx, NULL))) {
            snprintf(msg, sizeof msg, "line %llu: %s", (unsigned long long)p.line_no,
                     acctdb_chilly_sim_errmsg(w));
            goto cleanup;
        }
    }
    if ((rc = acctdb_chilly_sim_finish(w, out)))
        snprintf(msg, sizeof msg, "%s", acctdb_chilly_sim_errmsg(w));
cleanup:
    if (f && f != stdin) fclose(f);
    if (rc && msg_out && msg_max) snprintf(msg_out, msg_max, "%s: %s", path, msg);
    adb_free(buf);
    adb_free(tx);
    acctdb_chilly_sim_close(w);
    return rc;
}

int
acctdb_chilly_sim_gen(acctdb_chilly_gen_opts_t const *gen, acctdb_chilly_sim_opts_t const *o,
                      acctdb_chilly_report_t *out, char *msg_out, size_t msg_max) {
    acctdb_chilly_gen_t *g = NULL;
    acctdb_chilly_sim_t *w = NULL;
    acctdb_chilly_tx_t  *tx = NULL;
    int                  rc;
    if (out) memset(out, 0, sizeof *out);
    msg_put(msg_out, msg_max, "");
    if (!o || !out) return ACCTDB_ERR_INVALID;
    if ((rc = acctdb_chilly_gen_open(&g, gen, msg_out, msg_max))) goto cleanup;
    if ((rc = acctdb_chilly_sim_open(&w, o, msg_out, msg_max))) goto cleanup;
    tx = adb_malloc(sizeof *tx);
    if (!tx) {
        rc = ACCTDB_ERR_NOMEM;
        msg_put(msg_out, msg_max, "chilly sim: no memory");
        goto cleanup;
    }
    while (acctdb_chilly_gen_next(g, tx))
        if ((rc = acctdb_chilly_sim_tx(w, tx, NULL))) break;
    if (!rc) rc = acctdb_chilly_sim_finish(w, out);
    if (rc) msg_put(msg_out, msg_max, acctdb_chilly_sim_errmsg(w));
cleanup:
    adb_free(tx);
    acctdb_chilly_sim_close(w);
    acctdb_chilly_gen_close(g);
    return rc;
}
