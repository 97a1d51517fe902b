/* bench/bench_state.c - the state module's figures on one core, next to the
 * physical limit measured in the same run.
 *
 *   build/release/bench_state [--keys N] [--only SECTION] [--seed S]
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
 * Further sections (Chilly, compression) go in the table in main().
 *
 * Keys are re-derived from (seed, i) with acctdb_rng_at, so none are
 * stored.  The last line is key=value pairs for scripts:
 *   trie_keys, trie_insert_per_s, trie_root_s, trie_prove_per_s,
 *   trie_verify_per_s, trie_prove_absent_per_s, trie_verify_absent_per_s,
 *   proof_bytes_mean, proof_steps_mean, proof_absent_bytes_mean,
 *   trie_update_root_s (1% of the values replaced, then the root),
 *   trie_mem_bytes, trie_mem_per_key, blake3_impl, blake3_64b_per_s,
 *   blake3_66b_per_s, blake3_97b_per_s, blake3_compress_per_s,
 *   trie_verify_limit_per_s (blake3_66b_per_s / (proof_steps_mean + 1)),
 *   trie_verify_vs_limit, trie_insert_cpu_s, trie_root_cpu_s (CPU seconds
 *   of the process over the same spans: wall time minus other jobs).
 * Benchmarks never assert: compare the figures with docs/PERFORMANCE.md. */
#include "acctdb.h"
#include "bench_util.h"
#include "hash/blake3.h"
#include "state/trie.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROOF_CNT_MAX 200000 /* proofs kept for the verify timing */

typedef struct opts {
    size_t      keys;
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

/* ---- main ------------------------------------------------------------------ */

typedef struct section {
    char const *name;
    void (*run)(opts_t const *o);
} section_t;

static section_t const k_sections[] = {
    {"trie", section_trie},
};

static int
usage(void) {
    fprintf(stderr, "usage: bench_state [--keys N] [--only SECTION] [--seed S]\n  sections:");
    for (size_t i = 0; i < sizeof k_sections / sizeof k_sections[0]; i++)
        fprintf(stderr, " %s", k_sections[i].name);
    fprintf(stderr, "\n");
    return 2;
}

int
main(int argc, char **argv) {
    opts_t o = {.keys = 1000000, .seed = 0x5EED57A7Eull, .only = NULL};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--keys") && i + 1 < argc)
            o.keys = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            o.seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            o.only = argv[++i];
        else
            return usage();
    }
    if (o.keys < 1) return usage();
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
