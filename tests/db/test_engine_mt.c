/* Concurrency of the engine: readers against a writer and the four
 * background services on their threads.  Part of the group the
 * ThreadSanitizer pass runs (the name contains "concurrency").
 *
 * A writer thread builds banks on two forks (one dies at each root),
 * stores accounts whose data repeats their pubkey and lamports (so a torn
 * or freed read shows), freezes and roots with a lag; four reader threads
 * each do 100,000 loads (single and batched) at the root or at live banks
 * and check every account they get; a scanner pages through an owner.
 * The services run with a 1 ms interval; the test ends when every reader
 * is done and every service has completed at least 100 passes.  Then the
 * engine's invariants and the durable root's lattice hash are checked. */
#include "../test.h"

#include "acctdb.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NKEYS      4096
#define LOADS_EACH 100000 /* fixed: the acceptance count, not scaled */
#define MIN_PASSES 100
#define MIN_SLOTS  200

typedef struct shared {
    acctdb_db_t     *db;
    acctdb_pubkey_t  keys[NKEYS];
    acctdb_pubkey_t  owner;
    _Atomic uint64_t newest; /* newest frozen slot on the surviving fork */
    _Atomic bool     stop;
    _Atomic uint64_t loads, found, too_old, dead, bad, scans, slots;
    uint64_t         seed;
} shared_t;

static void
fill_data(uint8_t *d, size_t len, acctdb_pubkey_t const *k, uint64_t lamports) {
    for (size_t i = 0; i < len; i++)
        d[i] = (uint8_t)(k->b[i % 32] ^ (uint8_t)(lamports >> (8 * (i % 8))));
}

static bool
data_ok(acctdb_account_t const *a) {
    if (a->data_len < 8 || a->data_len > 600) return false;
    for (size_t i = 0; i < a->data_len; i++)
        if (a->data[i] != (uint8_t)(a->pubkey.b[i % 32] ^ (uint8_t)(a->lamports >> (8 * (i % 8)))))
            return false;
    return true;
}

static void *
writer(void *arg) {
    shared_t      *s = arg;
    uint64_t       r = s->seed;
    uint64_t       root = acctdb_db_root_slot(s->db, NULL), parent = root, slot = root;
    uint64_t       lag[8] = {0};
    size_t         nlag = 0;
    static uint8_t data[64][600];
    while (!atomic_load(&s->stop)) {
        /* The surviving bank and a sibling that will die. */
        uint64_t live = ++slot, sib = ++slot;
        for (int f = 0; f < 2; f++) {
            uint64_t         b = f ? sib : live;
            acctdb_account_t a[64];
            size_t           n = 16 + adb_test_rand(&r) % 48;
            for (size_t i = 0; i < n; i++) {
                memset(&a[i], 0, sizeof a[i]);
                a[i].pubkey = s->keys[adb_test_rand(&r) % NKEYS];
                a[i].owner = s->owner;
                a[i].lamports = 1 + adb_test_rand(&r) % 1000000;
                if (adb_test_rand(&r) % 40 == 0) a[i].lamports = 0;
                a[i].data_len = 8 + adb_test_rand(&r) % 500;
                fill_data(data[i], (size_t)a[i].data_len, &a[i].pubkey, a[i].lamports);
                a[i].data = data[i];
            }
            acctdb_bank_meta_t m = {0};
            m.blockhash.b[0] = (uint8_t)b;
            m.signature_count = b;
            if (acctdb_db_store(s->db, b, parent, a, n) || acctdb_db_freeze(s->db, b, &m, NULL)) {
                fprintf(stderr, "writer: %s\n", acctdb_db_errmsg(s->db));
                atomic_fetch_add(&s->bad, 1);
                return NULL;
            }
        }
        atomic_store(&s->newest, live);
        lag[nlag++] = live;
        if (nlag == 4) {
            if (acctdb_db_root(s->db, lag[0])) {
                fprintf(stderr, "writer: root: %s\n", acctdb_db_errmsg(s->db));
                atomic_fetch_add(&s->bad, 1);
                return NULL;
            }
            memmove(lag, lag + 1, 3 * sizeof *lag);
            nlag = 3;
        }
        parent = live;
        atomic_fetch_add(&s->slots, 1);
    }
    return NULL;
}

static void *
reader(void *arg) {
    shared_t *s = arg;
    uint64_t  r = s->seed ^ (uint64_t)(uintptr_t)&r;
    uint8_t  *buf = malloc(64 * 600);
    if (!buf) return NULL;
    /* At least LOADS_EACH loads, and on until the writer has built
     * MIN_SLOTS slots, so reads overlap writes and services throughout. */
    for (size_t done = 0; done < LOADS_EACH || atomic_load(&s->slots) < MIN_SLOTS;) {
        if (atomic_load(&s->bad)) break;
        uint64_t slot =
            adb_test_rand(&r) % 2 ? atomic_load(&s->newest) : acctdb_db_root_slot(s->db, NULL);
        if (!slot) slot = acctdb_db_root_slot(s->db, NULL);
        if (adb_test_rand(&r) % 4 == 0) {
            acctdb_pubkey_t  k[32];
            acctdb_account_t a[32];
            int              rc[32];
            for (int i = 0; i < 32; i++)
                k[i] = s->keys[adb_test_rand(&r) % NKEYS];
            int res = acctdb_db_load_batch(s->db, slot, k, 32, a, buf, 64 * 600, rc);
            if (res == ACCTDB_ERR_TOO_OLD) {
                atomic_fetch_add(&s->too_old, 1);
                continue;
            }
            if (res) {
                atomic_fetch_add(&s->bad, 1);
                continue;
            }
            for (int i = 0; i < 32; i++) {
                if (rc[i] == 0) {
                    atomic_fetch_add(&s->found, 1);
                    if (!data_ok(&a[i]) || memcmp(a[i].pubkey.b, k[i].b, 32))
                        atomic_fetch_add(&s->bad, 1);
                } else if (rc[i] != ACCTDB_ERR_NOT_FOUND) {
                    atomic_fetch_add(&s->bad, 1);
                }
            }
            done += 32;
            atomic_fetch_add(&s->loads, 32);
        } else {
            acctdb_account_t a;
            acctdb_pubkey_t  k = s->keys[adb_test_rand(&r) % NKEYS];
            int              rc = acctdb_db_load(s->db, slot, &k, &a, buf, 600, NULL);
            if (rc == ACCTDB_ERR_TOO_OLD) {
                atomic_fetch_add(&s->too_old, 1);
                continue;
            }
            if (rc == ACCTDB_ERR_INVALID) { /* a slot that died meanwhile */
                atomic_fetch_add(&s->dead, 1);
                continue;
            }
            if (rc == 0) {
                atomic_fetch_add(&s->found, 1);
                if (!data_ok(&a) || memcmp(a.pubkey.b, k.b, 32)) atomic_fetch_add(&s->bad, 1);
            } else if (rc != ACCTDB_ERR_NOT_FOUND) {
                atomic_fetch_add(&s->bad, 1);
            }
            done++;
            atomic_fetch_add(&s->loads, 1);
        }
    }
    free(buf);
    return NULL;
}

typedef struct scan_ctx {
    shared_t *s;
    size_t    n;
} scan_ctx_t;

static int
scan_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    scan_ctx_t *c = ctx;
    (void)slot;
    if (!data_ok(a) || memcmp(a->owner.b, c->s->owner.b, 32)) atomic_fetch_add(&c->s->bad, 1);
    c->n++;
    return 0;
}

static void *
scanner(void *arg) {
    shared_t *s = arg;
    while (!atomic_load(&s->stop)) {
        acctdb_scan_filter_t f = {.owner = s->owner};
        acctdb_pubkey_t      cur, next;
        bool                 more = true, first = true;
        scan_ctx_t           c = {s, 0};
        uint64_t             slot = acctdb_db_root_slot(s->db, NULL);
        while (more) {
            int rc = acctdb_db_scan(s->db, slot, &f, first ? NULL : &cur, 500, scan_cb, &c, &next,
                                    &more);
            if (rc == ACCTDB_ERR_TOO_OLD) break;
            if (rc) {
                atomic_fetch_add(&s->bad, 1);
                break;
            }
            first = false;
            cur = next;
        }
        atomic_fetch_add(&s->scans, 1);
    }
    return NULL;
}

#define F3 "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define I3 "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"

static void
test_engine_readers_services(void **state) {
    (void)state;
    shared_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->seed = adb_test_seed();
    uint64_t r = s->seed;
    for (size_t i = 0; i < NKEYS; i++)
        adb_test_rng_fill(&(adb_test_rng_t){adb_test_rand(&r)}, s->keys[i].b, 32);
    adb_test_rng_fill(&(adb_test_rng_t){adb_test_rand(&r)}, s->owner.b, 32);
    char *tmp = adb_test_mkdtemp();
    char  dir[4096], msg[1024];
    snprintf(dir, sizeof dir, "%s/db", tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.service_interval_ms = 1;
    cfg.flush_max_delay_ms = 0; /* a flush pass at every wake-up */
    cfg.shrink_ratio = 0.9;
    cfg.owner_index = true;
    cfg.read_cache_max_sz = 256u << 10;
    cfg.write_cache_max_sz = 16u << 20;
    cfg.index_checkpoint_sz = 256u << 10; /* index checkpoints while readers and the writer run */
    acctdb_db_source_t src = {.full_path = adb_test_data(F3),
                              .incremental_path = adb_test_data(I3)};
    int                rc = acctdb_db_create(&s->db, dir, &src, &cfg, msg, sizeof msg);
    if (rc) print_message("create: %s\n", msg);
    assert_int_equal(rc, 0);

    pthread_t w, rd[4], sc;
    assert_int_equal(pthread_create(&w, NULL, writer, s), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&rd[i], NULL, reader, s), 0);
    assert_int_equal(pthread_create(&sc, NULL, scanner, s), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(rd[i], NULL);
    /* Every service completes its passes while the writer keeps going. */
    acctdb_db_stats_t st;
    for (;;) {
        assert_int_equal(acctdb_db_stats(s->db, &st), 0);
        bool enough = true;
        for (int k = 0; k < ACCTDB_SERVICE_CNT; k++)
            enough &= st.service_passes[k] >= MIN_PASSES;
        if (enough) break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&s->stop, true);
    pthread_join(w, NULL);
    pthread_join(sc, NULL);
    print_message(
        "engine concurrency: %llu loads (%llu found, %llu too old, %llu on dead forks), "
        "%llu scans, %llu slots written; passes flush %llu clean %llu shrink %llu purge "
        "%llu; flushed %llu B; ms in flush %llu clean %llu shrink %llu purge %llu\n",
        (unsigned long long)s->loads, (unsigned long long)s->found, (unsigned long long)s->too_old,
        (unsigned long long)s->dead, (unsigned long long)s->scans, (unsigned long long)s->slots,
        (unsigned long long)st.service_passes[0], (unsigned long long)st.service_passes[1],
        (unsigned long long)st.service_passes[2], (unsigned long long)st.service_passes[3],
        (unsigned long long)st.flushed_bytes, (unsigned long long)(st.service_ns[0] / 1000000),
        (unsigned long long)(st.service_ns[1] / 1000000),
        (unsigned long long)(st.service_ns[2] / 1000000),
        (unsigned long long)(st.service_ns[3] / 1000000));
    print_message("index checkpoints: %llu (%.1f ms)\n", (unsigned long long)st.index_checkpoints,
                  (double)st.index_checkpoint_ns / 1e6);
    assert_true(st.index_checkpoints > 0);
    assert_int_equal(st.service_errors, 0);
    assert_int_equal(s->bad, 0);
    assert_true(s->loads >= 4 * LOADS_EACH);
    assert_true(s->slots >= MIN_SLOTS);
    assert_true(s->found > 0);
    rc = acctdb_db_check(s->db, msg, sizeof msg);
    if (rc) print_message("check: %s\n", msg);
    assert_int_equal(rc, 0);
    acctdb_db_close(s->db); /* flushes the newest root */
    assert_int_equal(acctdb_db_open(&s->db, dir, &cfg, msg, sizeof msg), 0);
    rc = acctdb_db_verify(s->db, msg, sizeof msg);
    if (rc) print_message("verify: %s\n", msg);
    assert_int_equal(rc, 0);
    acctdb_db_close(s->db);
    adb_test_rmtree(tmp);
    free(tmp);
    free(s);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_engine_readers_services),
};

ADB_TEST_GROUP(concurrency_engine, tests);
