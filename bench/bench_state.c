/* bench/bench_state.c - the state module's figures on one core, next to the
 * physical limit measured in the same run.
 *
 *   build/release/bench_state [--keys N] [--accounts N] [--only SECTION]
 *                             [--seed S]
 *
 * Sections (all by default; --only runs one):
 *   trie   the Avocado crit-bit Merkle trie (src/state/trie.h) over N
 *          random 32-byte keys and values (default N = 1,000,000):
 *          inserts into a trie opened with N as its hint, the first full
 *          root, membership and exclusion proofs of random keys (their
 *          mean size and steps), their verification, rehashing after 1% of
 *          the values change, and the trie's allocated bytes.  The
 *          reference is BLAKE3 itself: one-shot hashes of 64-byte (one
 *          compression), 66-byte (the trie's node message, two) and 97-byte
 *          (two) messages, so a verify rate can be set against its limit
 *          of (steps + 1) node hashes.
 *   chilly the Chilly simulator (acctdb_sim.h, "Chilly simulation") on a
 *          generated skewed trace: --accounts accounts (default
 *          1,000,000), Zipf 1.0, sizes from the account mix, 600 blocks of
 *          1000 transactions of 1..16 loads (about 5 M loads), generated
 *          once into memory.  For CACHE_SIZE = 1%, 10% and 25% of the
 *          trace's distinct bytes: Chilly's hot rate, the hit rate of a
 *          true LRU of the same byte size, the gap in points against the
 *          issue's goal (Chilly within 5 points of the LRU), the smallest
 *          LRU that hits every load Chilly calls hot (searched with
 *          lru_extra_sz, next to the proven bound CACHE_SIZE + 2 x the
 *          largest transaction) and the LRU size whose hit rate equals
 *          Chilly's.  The simulator's rate is loads/s of Chilly and the
 *          LRU together, replaying the trace from memory.
 * Further sections (compression) go in the table in main().
 *
 * Trie keys are re-derived from (seed, i) with acctdb_rng_at, so none
 * are stored.  The last line is key=value pairs for scripts:
 *   trie_keys, trie_insert_per_s, trie_root_s, trie_prove_per_s,
 *   trie_verify_per_s, trie_prove_absent_per_s, trie_verify_absent_per_s,
 *   proof_bytes_mean, proof_steps_mean, proof_absent_bytes_mean,
 *   trie_update_root_s (1% of the values replaced, then the root),
 *   trie_mem_bytes, trie_mem_per_key, blake3_impl, blake3_64b_per_s,
 *   blake3_66b_per_s, blake3_97b_per_s, blake3_compress_per_s,
 *   trie_verify_limit_per_s (blake3_66b_per_s / (proof_steps_mean + 1)),
 *   trie_verify_vs_limit, trie_insert_cpu_s, trie_root_cpu_s (CPU seconds
 *   of the process over the same spans: wall time minus other jobs);
 *   chilly_accounts, chilly_loads, chilly_load_bytes,
 *   chilly_distinct_accounts, chilly_distinct_bytes, chilly_tx_load_max,
 *   and per cache size P (1, 10, 25 percent of the distinct bytes):
 *   chilly_P_cache_bytes, chilly_P_hot_rate, chilly_P_lru_rate,
 *   chilly_P_gap_pts, chilly_P_byte_gap_pts, chilly_P_goal_met (0/1),
 *   chilly_P_cover_extra_bytes (the LRU needs CACHE_SIZE + this),
 *   chilly_P_cover_bound_bytes, chilly_P_lru_equal_bytes (0: none below
 *   CACHE_SIZE); then chilly_sim_loads_per_s (wall clock),
 *   chilly_sim_cpu_loads_per_s (the process's CPU time), chilly_mem_bytes.
 * Benchmarks never assert: compare the figures with docs/PERFORMANCE.md. */
#include "acctdb.h"
#include "bench_util.h"
#include "hash/blake3.h"
#include "state/trie.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROOF_CNT_MAX 200000 /* proofs kept for the verify timing */

typedef struct opts {
    size_t      keys;
    uint64_t    accounts; /* chilly */
    uint64_t    seed;
    char const *only;
} opts_t;

static volatile uint8_t g_sink;
static char             g_kv[8192]; /* the last line, built by the sections */
static size_t           g_kv_len;

static void
kv(char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g_kv + g_kv_len, sizeof g_kv - g_kv_len, fmt, ap);
    va_end(ap);
    if (n > 0 && g_kv_len + (size_t)n < sizeof g_kv) g_kv_len += (size_t)n;
}

/* Seconds of CPU this process has used: with other jobs on the machine,
 * the wall-clock figures can be set against it. */
static double
cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void
die(char const *what, int rc) {
    fprintf(stderr, "bench_state: %s: %s\n", what, acctdb_strerror(rc));
    exit(1);
}

/* ---- the physical reference ------------------------------------------------ */

/* One-shot BLAKE3-256 hashes of sz-byte messages per second, for ~0.3 s. */
static double
blake3_rate(size_t sz) {
    uint8_t msg[128], out[32];
    memset(msg, 0x5A, sizeof msg);
    size_t n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 1024; i++) {
            msg[0] = (uint8_t)n;
            adb_blake3_hash(msg, sz, out, 32);
            g_sink ^= out[0];
            n++;
        }
        t = now_s() - t0;
    } while (t < 0.3);
    return (double)n / t;
}

/* ---- trie ------------------------------------------------------------------ */

static void
key_of(uint64_t seed, uint64_t i, uint8_t k[32], uint8_t v[32]) {
    acctdb_rng_t r = acctdb_rng_at(seed, i, 1);
    acctdb_rng_fill(&r, k, 32);
    if (v) acctdb_rng_fill(&r, v, 32);
}

static void
section_trie(opts_t const *o) {
    size_t const n = o->keys;
    size_t const pcnt = n < PROOF_CNT_MAX ? n : PROOF_CNT_MAX;
    uint8_t      k[32], v[32], root[32];
    adb_trie_t  *t;
    int          rc;
    acctdb_rng_t pick = acctdb_rng_seed(o->seed ^ 0x9E3779B97F4A7C15ull);

    double h64 = blake3_rate(64), h66 = blake3_rate(66), h97 = blake3_rate(97);
    printf("blake3 (%s), one-shot 32-byte hashes: 64 B %.2f M/s, 66 B %.2f M/s, 97 B %.2f M/s "
           "(%.2f M compressions/s)\n",
           adb_blake3_impl_name(adb_blake3_impl_get()), h64 / 1e6, h66 / 1e6, h97 / 1e6,
           2 * h97 / 1e6);

    if ((rc = adb_trie_open(&t, n))) die("adb_trie_open", rc);
    double t0 = now_s(), c0 = cpu_s();
    for (size_t i = 0; i < n; i++) {
        key_of(o->seed, i, k, v);
        if ((rc = adb_trie_insert(t, k, v))) die("adb_trie_insert", rc);
    }
    double t_ins = now_s() - t0, c_ins = cpu_s() - c0;
    t0 = now_s(), c0 = cpu_s();
    adb_trie_root(t, root);
    double t_root = now_s() - t0, c_root = cpu_s() - c0;
    printf("trie: %zu keys inserted in %.2f s (%.2f M/s; CPU %.2f s), first root %.2f s (%.2f M "
           "node hashes/s; CPU %.2f s), %.1f MB allocated (%.1f B/key)\n",
           n, t_ins, (double)n / t_ins / 1e6, c_ins, t_root, (double)(2 * n - 1) / t_root / 1e6,
           c_root, (double)adb_trie_mem_sz(t) / 1e6, (double)adb_trie_mem_sz(t) / (double)n);
    fflush(stdout);

    /* Proofs of random members, then of random (absent) keys; kept for the
     * verify timing. */
    uint8_t *buf = malloc(pcnt * (size_t)(ADB_TRIE_PROOF_MAX / 8)); /* ~1 KB each is plenty */
    size_t  *off = malloc((pcnt + 1) * sizeof *off);
    uint8_t *keys = malloc(pcnt * 32);
    size_t   buf_max = pcnt * (size_t)(ADB_TRIE_PROOF_MAX / 8);
    if (!buf || !off || !keys) die("malloc", ACCTDB_ERR_NOMEM);
    double stat[2][3] = {{0}}; /* [member, absent][prove s, verify s, bytes] */
    double steps_sum = 0;
    for (int absent = 0; absent < 2; absent++) {
        size_t at = 0;
        t0 = now_s();
        for (size_t j = 0; j < pcnt; j++) {
            size_t len;
            bool   m;
            if (absent)
                acctdb_rng_fill(&pick, keys + 32 * j, 32);
            else
                key_of(o->seed, acctdb_rng_below(&pick, n), keys + 32 * j, NULL);
            if (buf_max - at < ADB_TRIE_PROOF_MAX) die("proof buffer", ACCTDB_ERR_FULL);
            if ((rc = adb_trie_prove(t, keys + 32 * j, buf + at, ADB_TRIE_PROOF_MAX, &len, &m)))
                die("adb_trie_prove", rc);
            if (m == (bool)absent) die("prove: unexpected statement", ACCTDB_ERR_MISMATCH);
            off[j] = at;
            at += len;
            if (!absent) steps_sum += (double)((len - 35) / 33);
        }
        off[pcnt] = at;
        stat[absent][0] = now_s() - t0;
        stat[absent][2] = (double)at / (double)pcnt;
        t0 = now_s();
        for (size_t j = 0; j < pcnt; j++) {
            bool m;
            if ((rc = adb_trie_verify(root, keys + 32 * j, buf + off[j], off[j + 1] - off[j], &m,
                                      v)))
                die("adb_trie_verify", rc);
            g_sink ^= v[0];
        }
        stat[absent][1] = now_s() - t0;
    }
    double steps = steps_sum / (double)pcnt;
    double prove_rate = (double)pcnt / stat[0][0], verify_rate = (double)pcnt / stat[0][1];
    double limit = h66 / (steps + 1);
    printf("trie: membership proofs of %zu random keys: mean %.0f B (%.2f steps), prove %.0f k/s, "
           "verify %.0f k/s (limit %.0f k/s = 66 B hashes / (steps + 1): %.0f%%)\n",
           pcnt, stat[0][2], steps, prove_rate / 1e3, verify_rate / 1e3, limit / 1e3,
           100 * verify_rate / limit);
    printf("trie: exclusion proofs of %zu random keys: mean %.0f B, prove %.0f k/s, verify %.0f "
           "k/s\n",
           pcnt, stat[1][2], (double)pcnt / stat[1][0] / 1e3, (double)pcnt / stat[1][1] / 1e3);

    /* Lazy rehash: 1% of the values change, then the root. */
    size_t upd = n / 100 ? n / 100 : 1;
    for (size_t j = 0; j < upd; j++) {
        key_of(o->seed, acctdb_rng_below(&pick, n), k, NULL);
        acctdb_rng_fill(&pick, v, 32);
        if ((rc = adb_trie_insert(t, k, v))) die("adb_trie_insert", rc);
    }
    t0 = now_s();
    adb_trie_root(t, root);
    double t_upd = now_s() - t0;
    printf("trie: root after %zu value changes (1%%): %.3f s (first root %.2f s)\n", upd, t_upd,
           t_root);

    kv("trie_keys=%zu trie_insert_per_s=%.0f trie_root_s=%.3f trie_prove_per_s=%.0f "
       "trie_verify_per_s=%.0f trie_prove_absent_per_s=%.0f trie_verify_absent_per_s=%.0f "
       "proof_bytes_mean=%.1f proof_steps_mean=%.2f proof_absent_bytes_mean=%.1f "
       "trie_update_root_s=%.3f trie_mem_bytes=%zu trie_mem_per_key=%.1f blake3_impl=%s "
       "blake3_64b_per_s=%.0f blake3_66b_per_s=%.0f blake3_97b_per_s=%.0f "
       "blake3_compress_per_s=%.0f trie_verify_limit_per_s=%.0f trie_verify_vs_limit=%.2f "
       "trie_insert_cpu_s=%.3f trie_root_cpu_s=%.3f ",
       n, (double)n / t_ins, t_root, prove_rate, verify_rate, (double)pcnt / stat[1][0],
       (double)pcnt / stat[1][1], stat[0][2], steps, stat[1][2], t_upd, adb_trie_mem_sz(t),
       (double)adb_trie_mem_sz(t) / (double)n, adb_blake3_impl_name(adb_blake3_impl_get()), h64,
       h66, h97, 2 * h97, limit, verify_rate / limit, c_ins, c_root);
    adb_trie_close(t);
    free(keys);
    free(off);
    free(buf);
}

/* ---- chilly ---------------------------------------------------------------- */

#define CHILLY_BLOCKS    600
#define CHILLY_TXS       1000
#define CHILLY_LOADS_MAX 16
#define CHILLY_GOAL_PTS  5.0 /* the goal: Chilly within 5 points of the LRU */

static double g_chilly_cpu; /* CPU seconds of the timed replays */

/* The generated trace, kept in memory so that only the simulator is timed:
 * per load a key and a size, per transaction its load count. */
typedef struct ctrace {
    uint64_t  tx_cnt, load_cnt;
    uint64_t  first_slot;
    uint32_t  txs_per_block;
    uint8_t  *cnt;
    uint8_t  *keys;
    uint32_t *lens;
} ctrace_t;

static void
ctrace_gen(ctrace_t *t, acctdb_chilly_gen_opts_t const *g) {
    char                 msg[256];
    acctdb_chilly_gen_t *gen;
    acctdb_chilly_tx_t  *tx = malloc(sizeof *tx);
    uint64_t             tx_max = g->blocks * g->txs_per_block;
    uint64_t             load_max = tx_max * g->loads_max;
    memset(t, 0, sizeof *t);
    t->first_slot = g->first_slot;
    t->txs_per_block = g->txs_per_block;
    t->cnt = malloc(tx_max);
    t->keys = malloc(load_max * 32);
    t->lens = malloc(load_max * sizeof *t->lens);
    if (!tx || !t->cnt || !t->keys || !t->lens) die("malloc", ACCTDB_ERR_NOMEM);
    int rc = acctdb_chilly_gen_open(&gen, g, msg, sizeof msg);
    if (rc) die(msg, rc);
    while (acctdb_chilly_gen_next(gen, tx)) {
        t->cnt[t->tx_cnt++] = (uint8_t)tx->load_cnt;
        for (uint32_t i = 0; i < tx->load_cnt; i++, t->load_cnt++) {
            memcpy(t->keys + 32 * t->load_cnt, tx->key[i].b, 32);
            t->lens[t->load_cnt] = (uint32_t)tx->data_len[i];
        }
    }
    acctdb_chilly_gen_close(gen);
    free(tx);
}

static void
ctrace_free(ctrace_t *t) {
    free(t->cnt);
    free(t->keys);
    free(t->lens);
}

/* Replays the trace with cache_sz and lru_extra_sz into *r; returns the
 * seconds the simulator took, and adds its CPU seconds to g_chilly_cpu. */
static double
ctrace_run(ctrace_t const *t, uint64_t cache_sz, uint64_t lru_extra_sz, acctdb_chilly_report_t *r) {
    acctdb_chilly_sim_opts_t so;
    acctdb_chilly_sim_t     *sim;
    acctdb_chilly_tx_t      *tx = malloc(sizeof *tx);
    char                     msg[256];
    acctdb_chilly_sim_opts_default(&so);
    so.cache_sz = cache_sz;
    so.lru_extra_sz = lru_extra_sz;
    if (!tx) die("malloc", ACCTDB_ERR_NOMEM);
    int rc = acctdb_chilly_sim_open(&sim, &so, msg, sizeof msg);
    if (rc) die(msg, rc);
    double   t0 = now_s(), c0 = cpu_s();
    uint64_t at = 0;
    for (uint64_t i = 0; i < t->tx_cnt; i++) {
        tx->slot = t->first_slot + i / t->txs_per_block;
        tx->load_cnt = t->cnt[i];
        for (uint32_t j = 0; j < tx->load_cnt; j++, at++) {
            memcpy(tx->key[j].b, t->keys + 32 * at, 32);
            tx->data_len[j] = t->lens[at];
        }
        if ((rc = acctdb_chilly_sim_tx(sim, tx, NULL))) die(acctdb_chilly_sim_errmsg(sim), rc);
    }
    if ((rc = acctdb_chilly_sim_finish(sim, r))) die(acctdb_chilly_sim_errmsg(sim), rc);
    double dt = now_s() - t0;
    g_chilly_cpu += cpu_s() - c0;
    acctdb_chilly_sim_close(sim);
    free(tx);
    return dt;
}

static double
mb(uint64_t b) {
    return (double)b / 1e6;
}

/* The smallest x in (lo, hi] with pred(x) true, to within step, for a
 * monotone pred known false at lo and true at hi. */
typedef bool (*cpred_fn)(ctrace_t const *t, uint64_t c, uint64_t x, double target);

static uint64_t
bisect(cpred_fn pred, ctrace_t const *t, uint64_t c, double target, uint64_t lo, uint64_t hi,
       uint64_t step, uint64_t *runs) {
    while (hi - lo > step) {
        uint64_t mid = lo + (hi - lo) / 2;
        ++*runs;
        if (pred(t, c, mid, target))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* The LRU of c + x bytes hits every load Chilly (at c) calls hot.  The
 * LRU's inclusion property (a larger one always holds a superset) makes
 * this monotone in x. */
static bool
pred_cover(ctrace_t const *t, uint64_t c, uint64_t x, double target) {
    acctdb_chilly_report_t r;
    (void)target;
    ctrace_run(t, c, x, &r);
    return r.hot_lru_miss == 0;
}

/* An LRU of x bytes hits at least the target rate (the report's LRU with
 * cache_sz = x; c unused). */
static bool
pred_rate(ctrace_t const *t, uint64_t c, uint64_t x, double target) {
    acctdb_chilly_report_t r;
    (void)c;
    ctrace_run(t, x, 0, &r);
    return r.lru_rate >= target;
}

static void
section_chilly(opts_t const *o) {
    static unsigned const    k_pct[] = {1, 10, 25};
    acctdb_chilly_gen_opts_t g;
    acctdb_chilly_report_t   r, base;
    ctrace_t                 t;
    acctdb_chilly_gen_opts_default(&g);
    g.seed = o->seed;
    g.accounts = o->accounts;
    g.zipf = 1.0;
    g.blocks = CHILLY_BLOCKS;
    g.txs_per_block = CHILLY_TXS;
    g.loads_max = CHILLY_LOADS_MAX;

    double t0 = now_s();
    ctrace_gen(&t, &g);
    double t_gen = now_s() - t0;
    /* A first pass for the distinct bytes (they do not depend on the
     * cache size). */
    double         t_sum = ctrace_run(&t, 0, 0, &r), cpu_sum = g_chilly_cpu;
    uint64_t       timed = 1, runs = 1;
    uint64_t const distinct = r.distinct_bytes, tx_load_max = r.tx_load_max, loads = r.loads;
    uint64_t const accounts = r.accounts;
    uint64_t       mem = r.mem_sz;
    printf("chilly: %" PRIu64 " accounts (zipf %.1f, sizes from the mix), %u blocks x %u txs of "
           "1-%u loads: %" PRIu64 " loads, %.1f MB loaded; %" PRIu64 " distinct accounts, %.1f "
           "MB distinct; largest tx %.2f MB (generated in %.2f s, %.0f MB in RAM)\n",
           g.accounts, g.zipf, CHILLY_BLOCKS, CHILLY_TXS, CHILLY_LOADS_MAX, r.loads,
           mb(r.load_bytes), r.accounts, mb(distinct), mb(r.tx_load_max), t_gen,
           mb(t.load_cnt * 36 + t.tx_cnt));
    kv("chilly_accounts=%" PRIu64 " chilly_loads=%" PRIu64 " chilly_load_bytes=%" PRIu64
       " chilly_distinct_accounts=%" PRIu64 " chilly_distinct_bytes=%" PRIu64
       " chilly_tx_load_max=%" PRIu64 " ",
       g.accounts, r.loads, r.load_bytes, r.accounts, distinct, r.tx_load_max);
    printf("chilly: %5s %9s %8s %8s %8s %9s %-8s %12s %12s %14s\n", "cache", "MB", "hot", "lru hit",
           "gap pts", "byte gap", "goal", "cover MB", "bound MB", "LRU=Chilly MB");
    fflush(stdout);

    for (size_t i = 0; i < sizeof k_pct / sizeof k_pct[0]; i++) {
        unsigned const p = k_pct[i];
        uint64_t const c = distinct / 100 * p + distinct % 100 * p / 100;
        double const   c0 = g_chilly_cpu;
        double const   t_base = ctrace_run(&t, c, 0, &base);
        double const   cpu_base = g_chilly_cpu - c0;
        t_sum += t_base, cpu_sum += cpu_base, timed++, runs++;
        if (base.mem_sz > mem) mem = base.mem_sz;
        bool const met = base.gap_pts >= -CHILLY_GOAL_PTS;

        /* The LRU that covers Chilly: the proven bound first, then the
         * smallest extra below it. */
        uint64_t const bound = 2 * tx_load_max;
        ctrace_run(&t, c, bound, &r), runs++;
        bool const bound_ok = r.hot_lru_miss == 0;
        uint64_t   cover = 0;
        if (base.hot_lru_miss)
            cover = bisect(pred_cover, &t, c, 0, 0, bound, bound / 128 > 4096 ? bound / 128 : 4096,
                           &runs);

        /* The LRU size that hits as often as Chilly calls hot. */
        uint64_t equal = 0;
        if (base.lru_rate >= base.hot_rate)
            equal = bisect(pred_rate, &t, c, base.hot_rate, 0, c, c / 128 > 4096 ? c / 128 : 4096,
                           &runs);
        char eq[40];
        if (equal)
            snprintf(eq, sizeof eq, "%.2f (%.0f%%)", mb(equal), 100.0 * (double)equal / (double)c);
        else
            snprintf(eq, sizeof eq, "above C");
        printf("chilly: %4u%% %9.2f %7.2f%% %7.2f%% %+8.2f %+9.2f %-8s %12.2f %12.2f %14s\n", p,
               mb(c), 100.0 * base.hot_rate, 100.0 * base.lru_rate, base.gap_pts, base.byte_gap_pts,
               met ? "met" : "NOT met", mb(c + cover), mb(c + bound), eq);
        printf("chilly:        %.2f s (CPU %.2f s), %.2f M loads/s; byte rates %.2f%% vs %.2f%%; "
               "Chilly-hot "
               "loads the same-size LRU missed: %" PRIu64 ", at the bound: %" PRIu64
               "%s; cold bytes per block p99 %.2f MB, max %.2f MB\n",
               t_base, cpu_base, (double)loads / t_base / 1e6, 100.0 * base.hot_byte_rate,
               100.0 * base.lru_byte_rate, base.hot_lru_miss, r.hot_lru_miss,
               bound_ok ? "" : " (THE BOUND DOES NOT HOLD)", mb(base.cold_p99), mb(base.cold_max));
        fflush(stdout);
        kv("chilly_%u_cache_bytes=%" PRIu64 " chilly_%u_hot_rate=%.4f chilly_%u_lru_rate=%.4f "
           "chilly_%u_gap_pts=%.2f chilly_%u_byte_gap_pts=%.2f chilly_%u_goal_met=%d "
           "chilly_%u_cover_extra_bytes=%" PRIu64 " chilly_%u_cover_bound_bytes=%" PRIu64
           " chilly_%u_lru_equal_bytes=%" PRIu64 " ",
           p, c, p, base.hot_rate, p, base.lru_rate, p, base.gap_pts, p, base.byte_gap_pts, p,
           met ? 1 : 0, p, cover, p, bound, p, equal);
    }
    double const rate = (double)loads * (double)timed / t_sum;
    double const cpu_rate = (double)loads * (double)timed / cpu_sum;
    printf("chilly: simulator %.2f M loads/s wall, %.2f M loads/s of CPU time (Chilly and the "
           "LRU together, one core, over %" PRIu64 " timed replays; %" PRIu64
           " replays in all); %.1f MB held at most, %.0f B per distinct account\n",
           rate / 1e6, cpu_rate / 1e6, timed, runs, mb(mem), (double)mem / (double)accounts);
    kv("chilly_sim_loads_per_s=%.0f chilly_sim_cpu_loads_per_s=%.0f chilly_mem_bytes=%" PRIu64 " ",
       rate, cpu_rate, mem);
    ctrace_free(&t);
}

/* ---- compress: snapshot + sidecar before and after ------------------------
 *
 * A generated database of --accounts accounts (the account mix, over its
 * slots), its full snapshot; then the 75% of accounts idle longest are
 * compressed (acctdb_db_compress_idle with a limit) in one bank, rooted,
 * and a full snapshot again: archive + sidecar against the first archive.
 * The goal (the proposal's estimate): at least 50% smaller. */

static void
bfail(char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_state: compress: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t
file_sz(char const *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n < 0 ? 0 : (uint64_t)n;
}

static void
section_compress(opts_t const *o) {
    char  tmpl[] = "/tmp/bench_state.XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) bfail("mkdtemp");
    char gen[4200], dbd[4200], arch[4200], msg[1024];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(dbd, sizeof dbd, "%s/db", dir);
    snprintf(arch, sizeof arch, "%s/arch", dir);
    if (mkdir(gen, 0755) || mkdir(arch, 0755)) bfail("mkdir");
    acctdb_gen_opts_t   go = {.accounts = o->accounts, .seed = o->seed, .out_dir = gen};
    acctdb_gen_result_t gr;
    double              t0 = now_s();
    if (acctdb_snapshot_gen(&go, &gr, msg, sizeof msg)) bfail("snapshot gen: %s", msg);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.avocado = true;
    cfg.background = false;
    cfg.write_cache_max_sz = 8ull << 30; /* one bank compresses most accounts */
    acctdb_db_source_t src = {.full_path = gr.full_path};
    acctdb_db_t       *db;
    if (acctdb_db_create(&db, dbd, &src, &cfg, msg, sizeof msg)) bfail("create: %s", msg);
    char before[4096], after[4096];
    if (acctdb_db_snapshot(db, arch, false, before)) bfail("snapshot: %s", acctdb_db_errmsg(db));
    double                   t1 = now_s();
    uint64_t                 root = acctdb_db_root_slot(db, NULL), slot = root + 1;
    acctdb_compress_report_t rep;
    if (acctdb_db_bank_begin(db, slot, root, 0)) bfail("bank: %s", acctdb_db_errmsg(db));
    if (acctdb_db_compress_idle(db, slot, root, 0, gr.live * 3 / 4, &rep))
        bfail("compress: %s", acctdb_db_errmsg(db));
    acctdb_bank_meta_t m = {0};
    m.blockhash.b[0] = 1;
    if (acctdb_db_freeze(db, slot, &m, NULL) || acctdb_db_root(db, slot))
        bfail("root: %s", acctdb_db_errmsg(db));
    double t2 = now_s();
    if (acctdb_db_snapshot(db, arch, false, after)) bfail("snapshot: %s", acctdb_db_errmsg(db));
    char side[4200];
    snprintf(side, sizeof side, "%s.acctdb", after);
    uint64_t a0 = file_sz(before), a1 = file_sz(after), s1 = file_sz(side);
    double   saved = a0 ? 100.0 * (1.0 - (double)(a1 + s1) / (double)a0) : 0;
    printf("compress: %" PRIu64 " accounts (%" PRIu64 " live), generated in %.1f s\n", o->accounts,
           gr.live, t1 - t0);
    printf(
        "compress: %" PRIu64 " of %" PRIu64 " idle-longest candidates compressed (%" PRIu64
        " skipped: exempt, closed, small), data %.1f MB -> %.1f MB, in %.1f s (%.0f accounts/s)\n",
        rep.compressed, rep.candidates, rep.skipped, (double)rep.bytes_before / 1e6,
        (double)rep.bytes_after / 1e6, t2 - t1, (double)rep.compressed / (t2 - t1));
    printf("compress: snapshot %.1f MB before; after %.1f MB + sidecar %.1f MB = %.1f MB: %.1f%% "
           "smaller (goal 50%%: %s)\n",
           (double)a0 / 1e6, (double)a1 / 1e6, (double)s1 / 1e6, (double)(a1 + s1) / 1e6, saved,
           saved >= 50.0 ? "met" : "NOT met");
    kv("compress_accounts=%" PRIu64 " compress_compressed=%" PRIu64
       " snapshot_before_bytes=%" PRIu64 " snapshot_after_bytes=%" PRIu64 " sidecar_bytes=%" PRIu64
       " snapshot_saved_pct=%.1f ",
       o->accounts, rep.compressed, a0, a1, s1, saved);
    /* The trie of the compressed accounts: proofs from the database (random
     * keys: exclusion proofs, as long as a member's path), and a reopen,
     * which rebuilds it from acctdb's own state files. */
    acctdb_trie_info_t ti;
    if (acctdb_db_trie_info(db, &ti)) bfail("trie info");
    acctdb_trie_proof_t *pf = malloc(sizeof *pf);
    if (!pf) bfail("malloc");
    size_t const np = 200000;
    uint64_t     pbytes = 0;
    double       t3 = now_s();
    for (size_t i = 0; i < np; i++) {
        acctdb_pubkey_t k;
        uint8_t         v[32];
        key_of(o->seed ^ 0x7E57, i, k.b, v);
        if (acctdb_db_prove(db, &k, pf)) bfail("prove");
        pbytes += pf->len;
    }
    double t4 = now_s();
    acctdb_db_close(db);
    double t5 = now_s();
    if (acctdb_db_open(&db, dbd, &cfg, msg, sizeof msg)) bfail("reopen: %s", msg);
    double             t6 = now_s();
    acctdb_trie_info_t ti2;
    if (acctdb_db_trie_info(db, &ti2) || memcmp(&ti, &ti2, sizeof ti))
        bfail("the reopened trie differs");
    printf("compress: trie of %" PRIu64 " compressed accounts: %.0f proofs/s from the database "
           "(%.0f B each); reopen (trie rebuilt from the state files) %.1f s\n",
           ti.keys, (double)np / (t4 - t3), (double)pbytes / (double)np, t6 - t5);
    kv("db_trie_keys=%" PRIu64 " db_prove_per_s=%.0f db_reopen_s=%.2f ", ti.keys,
       (double)np / (t4 - t3), t6 - t5);
    free(pf);
    acctdb_db_close(db);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
}

/* ---- main ------------------------------------------------------------------ */

typedef struct section {
    char const *name;
    void (*run)(opts_t const *o);
} section_t;

static section_t const k_sections[] = {
    {"trie", section_trie},
    {"chilly", section_chilly},
    {"compress", section_compress},
};

static int
usage(void) {
    fprintf(stderr, "usage: bench_state [--keys N] [--accounts N] [--only SECTION] [--seed S]\n"
                    "  sections:");
    for (size_t i = 0; i < sizeof k_sections / sizeof k_sections[0]; i++)
        fprintf(stderr, " %s", k_sections[i].name);
    fprintf(stderr, "\n");
    return 2;
}

int
main(int argc, char **argv) {
    opts_t o = {.keys = 1000000, .accounts = 1000000, .seed = 0x5EED57A7Eull, .only = NULL};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--keys") && i + 1 < argc)
            o.keys = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--accounts") && i + 1 < argc)
            o.accounts = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            o.seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            o.only = argv[++i];
        else
            return usage();
    }
    if (o.keys < 1 || o.accounts < 1 || o.accounts > (1ull << 27)) return usage();
    bool found = !o.only;
    for (size_t i = 0; i < sizeof k_sections / sizeof k_sections[0]; i++)
        found |= o.only && !strcmp(o.only, k_sections[i].name);
    if (!found) return usage();

    /* Let the core reach its working clock before the first figure. */
    for (double t0 = now_s(); now_s() - t0 < 0.3;)
        g_sink ^= (uint8_t)t0;

    for (size_t i = 0; i < sizeof k_sections / sizeof k_sections[0]; i++) {
        if (o.only && strcmp(o.only, k_sections[i].name)) continue;
        k_sections[i].run(&o);
        fflush(stdout);
    }
    if (g_kv_len && g_kv[g_kv_len - 1] == ' ') g_kv[--g_kv_len] = 0;
    printf("%s\n", g_kv);
    return 0;
}
