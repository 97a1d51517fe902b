/* Bounded memory (issue 9, item 5): every cache and queue has a limit, the
 * write cache applies back-pressure instead of growing, and pruning never
 * waits on a counter that can stall.
 *
 *   frozen_root_stepped  no root for 20,000 slots of stores, services
 *   frozen_root_bg       stepped / on threads: stores fail with FULL and a
 *                        message naming the cause; the write cache's charge
 *                        and the process's RSS stay within the budget (+ a
 *                        stated slack); a FULL store changes nothing; once a
 *                        bank is rooted, stores go on
 *   full_after_wait      background on, rooted data flushable, no wait
 *                        allowed: FULL says what is flushable
 *   workload_full        acctdb_db_workload, stepped and never stepping: FULL
 *                        makes it step flush and purge and go on; with
 *                        unrooted banks over the budget it stops with the
 *                        engine's message
 *   retired_counted      versions flush retired stay charged while a reader
 *                        holds them; once it leaves, a store frees them
 *                        itself (no service pass needed)
 *   owner_pruned         owner index pairs of re-owned, closed and dead-fork
 *                        versions go at flush and purge, without any scan
 *   parked_retry         a tombstone blocked by a dead fork's version is
 *                        cleaned once the root moved on, with no snapshot
 *                        and no shrink
 *   file_table_reused    the storage table's entries of replaced storages are
 *                        reused (it holds the live storages, not every one
 *                        ever written) and reads through the read cache never
 *                        see an older storage's record at a reused location
 *   changes_oversize     a rooted slot larger than the change window's byte
 *                        budget is not kept; readers that need it get TOO_OLD
 *   soak                 forks, roots, loads over a fixed key space: RSS
 *                        after a 10% warm-up, at the middle and at the end
 *                        flat within 10% (ACCTDB_SOAK_SLOTS=N runs the full
 *                        soak: N slots over ACCTDB_SOAK_KEYS keys, default
 *                        1,000,000, with 64 MiB caches, and prints it)
 */
#include "../test.h"

#include "acctdb.h"
#include "api/api_private.h"
#include "db/db_private.h"
#include "net/net.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1 /* the allocator's quarantine makes RSS meaningless */
#else
#define SANITIZED 0
#endif

#define DB_OK(db, expr)                                                                            \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc) {                                                                                 \
            print_message("%s:%d: %s failed: %s (%d): %s\n", __FILE__, __LINE__, #expr,            \
                          acctdb_strerror(_rc), _rc, acctdb_db_errmsg(db));                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#define DB_RC(db, want, expr)                                                                      \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc != (want)) {                                                                       \
            print_message("%s:%d: %s returned %s (%d), want %s: %s\n", __FILE__, __LINE__, #expr,  \
                          acctdb_strerror(_rc), _rc, acctdb_strerror(want), acctdb_db_errmsg(db)); \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- helpers ---------------------------------------------------------------- */

static acctdb_pubkey_t
key_of(uint64_t tag) {
    acctdb_pubkey_t k;
    uint8_t         in[16] = "acctdb-bounds";
    memcpy(in + 8, &tag, 8);
    acctdb_blake3(in, sizeof in, k.b, 32);
    return k;
}

static acctdb_bank_meta_t
meta_of(uint64_t slot) {
    acctdb_bank_meta_t m;
    memset(&m, 0, sizeof m);
    acctdb_blake3(&slot, sizeof slot, m.blockhash.b, 32);
    m.signature_count = slot * 3 + 1;
    m.transaction_count = slot * 2;
    m.unix_timestamp = 1700000000 + (int64_t)slot;
    return m;
}

static acctdb_db_stats_t
stats(acctdb_db_t *db) {
    acctdb_db_stats_t st;
    DB_OK(db, acctdb_db_stats(db, &st));
    return st;
}

static int
step(acctdb_db_t *db, acctdb_service_t which) {
    int rc = acctdb_db_service_step(db, which);
    if (rc < 0)
        print_message("service %d: %s: %s\n", (int)which, acctdb_strerror(rc),
                      acctdb_db_errmsg(db));
    assert_true(rc >= 0);
    return rc;
}

static acctdb_db_t *
create_genesis(char const *dir, acctdb_db_config_t const *cfg) {
    acctdb_db_source_t src = {.genesis_path = adb_test_data("devnet_genesis.bin")};
    acctdb_db_t       *db = NULL;
    char               msg[1024];
    int                rc = acctdb_db_create(&db, dir, &src, cfg, msg, sizeof msg);
    if (rc) print_message("create %s: %s (%s)\n", dir, msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
    return db;
}

/* A directory for a database (the temporary directory's "db"). */
static void
db_path(char *out, size_t n, char const *tmp) {
    snprintf(out, n, "%s/db", tmp);
}

/* Anonymous resident memory of this process in bytes (RssAnon: the heap,
 * not the page cache's file pages a mapping shows), after giving freed
 * heap pages back so the figure is what is in use. */
static uint64_t
rss_anon(void) {
    malloc_trim(0);
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char     line[256];
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %llu kB", (unsigned long long *)&kb) == 1) break;
    fclose(f);
    assert_true(kb > 0);
    return kb << 10;
}

static double
now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* An account: data of len bytes from (tag, ver). */
static acctdb_account_t
mk(acctdb_pubkey_t const *k, acctdb_pubkey_t const *owner, uint64_t lamports, uint8_t *data,
   size_t len, uint64_t ver) {
    acctdb_account_t a;
    memset(&a, 0, sizeof a);
    a.pubkey = *k;
    if (owner) a.owner = *owner;
    a.lamports = lamports;
    a.rent_epoch = UINT64_MAX;
    a.data_len = len;
    a.data = len ? data : NULL;
    if (len) {
        uint64_t in[2] = {ver, len};
        acctdb_blake3(in, sizeof in, data, len);
    }
    return a;
}

/* ---- frozen root ---------------------------------------------------------------- */

#define FR_BUDGET (16ull << 20)
#define FR_SLACK  (24ull << 20) /* index, read cache, allocator: see the report */
#define FR_POOL   20000u        /* keys updated */
#define FR_DATA   160u

static void
frozen_root(bool background) {
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = background;
    cfg.index_bins = 64;
    cfg.write_cache_max_sz = FR_BUDGET;
    cfg.read_cache_max_sz = 1u << 20;
    acctdb_db_t *db = create_genesis(dir, &cfg);
    uint64_t     rss0 = rss_anon();

    /* 20,000 slots at scale 1: once the cache is full every store fails at
     * once, so the count of slots costs little; the stores per slot are
     * what scales. */
    size_t const      slots = 20000, per = adb_test_scaled(40);
    acctdb_pubkey_t   owner = key_of(~0ull);
    acctdb_account_t *a = calloc(per + 1, sizeof *a);
    uint8_t          *data = malloc((per + 1) * FR_DATA);
    assert_non_null(a);
    assert_non_null(data);
    uint64_t root = acctdb_db_root_slot(db, NULL), parent = root, frozen = 0;
    uint64_t full = 0, first_full = 0, max_charge = 0, max_rss = 0, seq = 1;
    char     msg[1024] = "";
    for (uint64_t s = root + 1; s <= root + slots; s++) {
        /* A fresh key first (never stored before: a FULL store must leave
         * it absent), then updates of the pool. */
        acctdb_pubkey_t fresh = key_of(1000000000ull + s);
        a[0] = mk(&fresh, &owner, 1000 + s, data, FR_DATA, s);
        for (size_t i = 1; i <= per; i++) {
            acctdb_pubkey_t k = key_of((s * 7919 + i * 104729) % FR_POOL);
            seq++;
            a[i] = mk(&k, &owner, seq, data + i * FR_DATA, FR_DATA / 2 + i % (FR_DATA / 2), seq);
        }
        acctdb_db_stats_t before = stats(db);
        int               rc = acctdb_db_store(db, s, parent, a, per + 1);
        acctdb_db_stats_t after = stats(db);
        max_charge = ADB_MAX(max_charge, after.write_cache_sz);
        if (rc == ACCTDB_ERR_FULL) {
            if (!full++) {
                first_full = s;
                snprintf(msg, sizeof msg, "%s", acctdb_db_errmsg(db));
            }
            /* Nothing changed: no bank, no account, no charge. */
            assert_int_equal(after.write_cache_sz, before.write_cache_sz);
            assert_int_equal(after.write_cache_accounts, before.write_cache_accounts);
            assert_int_equal(after.banks_open, before.banks_open);
            acctdb_bank_info_t bi;
            assert_int_equal(acctdb_db_bank_info(db, s, &bi), ACCTDB_ERR_NOT_FOUND);
            if (full % 4096 == 1) max_rss = ADB_MAX(max_rss, rss_anon());
            continue;
        }
        DB_OK(db, rc);
        acctdb_bank_meta_t m = meta_of(s);
        DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
        parent = frozen = s;
        if (background && s % 64 == 0) {
            /* The services may run meanwhile: nothing of theirs frees room. */
            step(db, ACCTDB_SERVICE_FLUSH);
            step(db, ACCTDB_SERVICE_PURGE);
        }
    }
    max_rss = ADB_MAX(max_rss, rss_anon());
    acctdb_db_stats_t st = stats(db);
    print_message("frozen root (%s): %zu stores/slot, %llu slots, first FULL at slot %llu, %llu "
                  "FULL; write cache charge max %llu of %llu; RSS +%.1f MiB (slack %llu MiB)\n"
                  "  message: %s\n",
                  background ? "background" : "stepped", per + 1, (unsigned long long)slots,
                  (unsigned long long)first_full, (unsigned long long)full,
                  (unsigned long long)max_charge, (unsigned long long)FR_BUDGET,
                  (double)(max_rss > rss0 ? max_rss - rss0 : 0) / (1 << 20),
                  (unsigned long long)(FR_SLACK >> 20), msg);
    assert_true(full > 0);
    assert_true(max_charge <= FR_BUDGET);
    assert_true(st.write_cache_sz <= FR_BUDGET);
    assert_non_null(strstr(msg, "write cache full"));
    assert_non_null(strstr(msg, "nothing rooted since slot"));
    assert_non_null(strstr(msg, "root or purge forks"));
    if (!SANITIZED) assert_true(max_rss <= rss0 + FR_BUDGET + FR_SLACK);

    /* Rooting lets stores go on: with background on the store waits for
     * the flusher; stepped, it says to step the services. */
    DB_OK(db, acctdb_db_root(db, frozen));
    uint64_t         s = root + slots + 1;
    acctdb_pubkey_t  k = key_of(42);
    acctdb_account_t one = mk(&k, &owner, 7, data, 10, 7);
    if (!background) {
        DB_RC(db, ACCTDB_ERR_FULL, acctdb_db_store(db, s, frozen, a, per + 1));
        assert_non_null(strstr(acctdb_db_errmsg(db), "step the flush and purge services"));
        step(db, ACCTDB_SERVICE_FLUSH);
    }
    /* (A FULL after waiting is back-pressure too: a slow disk.) */
    int rc, tries = 0;
    while ((rc = acctdb_db_store(db, s, frozen, a, per + 1)) == ACCTDB_ERR_FULL && background &&
           ++tries < 30)
        ;
    DB_OK(db, rc);
    DB_OK(db, acctdb_db_store(db, s, frozen, &one, 1));
    acctdb_account_t out;
    uint8_t          buf[64];
    DB_OK(db, acctdb_db_load(db, s, &k, &out, buf, sizeof buf, NULL));
    assert_int_equal(out.lamports, 7);
    assert_true(stats(db).write_cache_sz <= FR_BUDGET);
    acctdb_db_close(db);
    free(a);
    free(data);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_frozen_root_stepped(void **state) {
    (void)state;
    frozen_root(false);
}

static void
test_frozen_root_bg(void **state) {
    (void)state;
    frozen_root(true);
}

/* ---- FULL after a bounded wait ------------------------------------------------------ */

static void
test_full_after_wait(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = true;
    cfg.index_bins = 64;
    cfg.write_cache_max_sz = 2u << 20;
    cfg.write_cache_wait_ms = 300;
    acctdb_db_t *db = create_genesis(dir, &cfg);
    uint64_t     root = acctdb_db_root_slot(db, NULL);
    enum { N = 1000 };
    static acctdb_account_t a[N];
    static uint8_t          data[N][512];
    acctdb_pubkey_t         owner = key_of(5);
    /* A reader stays inside meanwhile: the flusher writes the rooted banks
     * out, but their memory cannot be freed, so the cache stays full. */
    assert_int_equal(adb_epoch_register(), 0);
    adb_epoch_enter();
    int      rc = 0;
    uint64_t parent = root, s = root + 1;
    for (; s < root + 64; s++) {
        for (size_t i = 0; i < N; i++) {
            acctdb_pubkey_t k = key_of(s * N + i);
            a[i] = mk(&k, &owner, 10, data[i], sizeof data[i], s);
        }
        if ((rc = acctdb_db_store(db, s, parent, a, N)) == ACCTDB_ERR_FULL) break;
        DB_OK(db, rc);
        acctdb_bank_meta_t m = meta_of(s);
        DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
        DB_OK(db, acctdb_db_root(db, s));
        parent = s;
    }
    char const *m = acctdb_db_errmsg(db);
    print_message("%s\n", m);
    assert_int_equal(rc, ACCTDB_ERR_FULL);
    assert_non_null(strstr(m, "write cache full"));
    assert_non_null(strstr(m, "after waiting 300 ms"));
    assert_non_null(strstr(m, "retired, freed when the readers"));
    assert_true(stats(db).write_cache_sz <= cfg.write_cache_max_sz);
    adb_epoch_exit();
    /* The reader left: the same store goes through. */
    DB_OK(db, acctdb_db_store(db, s, parent, a, N));
    assert_true(stats(db).write_cache_sz <= cfg.write_cache_max_sz);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- the workload under back-pressure ----------------------------------------------- */

static void
test_workload_full(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.index_bins = 64;
    cfg.write_cache_max_sz = 4u << 20;
    acctdb_db_t *db = create_genesis(dir, &cfg);
    /* Stepped, and never stepping on its own (service_every 0): the
     * rooted banks fill the cache, a store gets FULL, the workload steps
     * flush and purge and goes on. */
    acctdb_workload_opts_t o;
    acctdb_workload_opts_default(&o);
    o.slots = adb_test_scaled(300);
    o.stores_min = 100;
    o.stores_max = 300;
    o.root_lag = 4;
    o.forks = 3;
    acctdb_workload_result_t res;
    DB_OK(db, acctdb_db_workload(db, &o, &res));
    assert_int_equal(res.slots_created, o.slots);
    acctdb_db_stats_t st = stats(db);
    assert_true(st.service_passes[ACCTDB_SERVICE_FLUSH] > 0); /* it had to flush */
    assert_true(st.write_cache_sz <= cfg.write_cache_max_sz);
    /* Unrooted banks alone over the budget: the run stops with the
     * engine's message.  (Reopened: the first run left unrooted banks at
     * the slots a new run would use.) */
    acctdb_db_close(db);
    char msg[1024];
    int  orc = acctdb_db_open(&db, dir, &cfg, msg, sizeof msg);
    if (orc) print_message("open: %s\n", msg);
    assert_int_equal(orc, 0);
    o.root_lag = 100000;
    o.slots = 100000;
    o.stores_min = o.stores_max = 2000;
    int rc = acctdb_db_workload(db, &o, &res);
    print_message("%s\n", acctdb_db_errmsg(db));
    assert_int_equal(rc, ACCTDB_ERR_FULL);
    assert_non_null(strstr(acctdb_db_errmsg(db), "workload: "));
    assert_non_null(strstr(acctdb_db_errmsg(db), "nothing rooted since slot"));
    assert_true(res.slots_created < o.slots);
    assert_true(stats(db).write_cache_sz <= cfg.write_cache_max_sz);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- retired memory is charged until freed --------------------------------------------- */

static void
test_retired_counted(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.index_bins = 64;
    cfg.write_cache_max_sz = 3u << 19; /* holds one batch, not two */
    acctdb_db_t *db = create_genesis(dir, &cfg);
    uint64_t     root = acctdb_db_root_slot(db, NULL), s = root + 1;
    enum { N = 2000 };
    static acctdb_account_t a[N];
    static uint8_t          data[N][300];
    acctdb_pubkey_t         owner = key_of(6);
    for (size_t i = 0; i < N; i++) {
        acctdb_pubkey_t k = key_of(777000 + i);
        a[i] = mk(&k, &owner, 10 + i, data[i], sizeof data[i], i);
    }
    DB_OK(db, acctdb_db_store(db, s, root, a, N));
    uint64_t charged = stats(db).write_cache_sz;
    /* The charge is what the cache holds: more than the data alone. */
    assert_true(charged > (uint64_t)N * (sizeof data[0] + 32));
    acctdb_bank_meta_t m = meta_of(s);
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
    DB_OK(db, acctdb_db_root(db, s));

    /* A reader inside (what a long read does): flush retires the banks and
     * their accounts, but cannot free them, and they stay charged. */
    assert_int_equal(adb_epoch_register(), 0);
    adb_epoch_enter();
    step(db, ACCTDB_SERVICE_FLUSH);
    acctdb_db_stats_t st = stats(db);
    assert_int_equal(st.write_cache_accounts, 0);
    assert_true(st.retired_pending > 0);
    assert_int_equal(st.write_cache_sz, charged);
    /* The budget sees it: this batch fits only once they are freed. */
    for (size_t i = 0; i < N; i++)
        a[i].lamports++;
    DB_RC(db, ACCTDB_ERR_FULL, acctdb_db_store(db, s + 1, s, a, N));
    assert_non_null(strstr(acctdb_db_errmsg(db), "retired, freed when the readers"));
    adb_epoch_exit();
    /* The reader left: the store frees them itself (no service step). */
    DB_OK(db, acctdb_db_store(db, s + 1, s, a, N));
    st = stats(db);
    assert_int_equal(st.retired_pending, 0);
    assert_int_equal(st.write_cache_sz, charged);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- owner index pruning ----------------------------------------------------------- */

static uint64_t
owner_pairs(acctdb_db_t *db) {
    return stats(db).owner_index_keys;
}

/* Stores a[0..n) at s on parent, freezes it. */
static void
bank(acctdb_db_t *db, uint64_t s, uint64_t parent, acctdb_account_t const *a, size_t n) {
    DB_OK(db, acctdb_db_store(db, s, parent, a, n));
    acctdb_bank_meta_t m = meta_of(s);
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
}

static int
count_cb(void *ctx, acctdb_account_t const *acc, uint64_t slot) {
    (void)acc;
    (void)slot;
    ++*(size_t *)ctx;
    return 0;
}

static void
test_owner_pruned(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.index_bins = 64;
    cfg.owner_index = true;
    acctdb_db_t *db = create_genesis(dir, &cfg);
    uint64_t     r = acctdb_db_root_slot(db, NULL);
    uint64_t     p0 = owner_pairs(db);
    enum { N = 300 };
    static acctdb_account_t a[N];
    static uint8_t          data[N][40];
    acctdb_pubkey_t         o[5];
    for (int i = 0; i < 5; i++)
        o[i] = key_of(900 + (uint64_t)i);
    acctdb_pubkey_t keys[N];
    for (size_t i = 0; i < N; i++)
        keys[i] = key_of(50000 + i);

    /* N accounts of owner 0, rooted and flushed. */
    for (size_t i = 0; i < N; i++)
        a[i] = mk(&keys[i], &o[0], 100, data[i], sizeof data[i], 1);
    bank(db, r + 1, r, a, N);
    DB_OK(db, acctdb_db_root(db, r + 1));
    step(db, ACCTDB_SERVICE_FLUSH);
    assert_int_equal(owner_pairs(db), p0 + N);

    /* Re-owned (owner 1), rooted, flushed: owner 0's pairs go. */
    for (size_t i = 0; i < N; i++)
        a[i] = mk(&keys[i], &o[1], 100, data[i], sizeof data[i], 2);
    bank(db, r + 2, r + 1, a, N);
    DB_OK(db, acctdb_db_root(db, r + 2));
    assert_int_equal(owner_pairs(db), p0 + 2 * N); /* both until the flush */
    step(db, ACCTDB_SERVICE_FLUSH);
    assert_int_equal(owner_pairs(db), p0 + N);

    /* Two rooted banks flushed in one pass: owner 2 then owner 3; owner 1's
     * and owner 2's pairs go, owner 3's stay. */
    for (size_t i = 0; i < N; i++)
        a[i] = mk(&keys[i], &o[2], 100, data[i], sizeof data[i], 3);
    bank(db, r + 3, r + 2, a, N);
    for (size_t i = 0; i < N; i++)
        a[i] = mk(&keys[i], &o[3], 100, data[i], sizeof data[i], 4);
    bank(db, r + 4, r + 3, a, N);
    DB_OK(db, acctdb_db_root(db, r + 4));
    step(db, ACCTDB_SERVICE_FLUSH);
    assert_int_equal(owner_pairs(db), p0 + N);

    /* Two forks: A re-owns the first half (owner 4), B the second half
     * (owner 0); A is rooted: B's pairs go at purge, owner 3's of the first
     * half at flush. */
    for (size_t i = 0; i < N / 2; i++)
        a[i] = mk(&keys[i], &o[4], 100, data[i], sizeof data[i], 5);
    bank(db, r + 5, r + 4, a, N / 2);
    for (size_t i = N / 2; i < N; i++)
        a[i] = mk(&keys[i], &o[0], 100, data[i], sizeof data[i], 6);
    bank(db, r + 6, r + 4, a + N / 2, N - N / 2);
    assert_int_equal(owner_pairs(db), p0 + 2 * N);
    DB_OK(db, acctdb_db_root(db, r + 5));
    step(db, ACCTDB_SERVICE_PURGE);
    assert_int_equal(owner_pairs(db), p0 + N + N / 2);
    step(db, ACCTDB_SERVICE_FLUSH);
    assert_int_equal(owner_pairs(db), p0 + N);

    /* Closing the second half: their pairs go at flush. */
    for (size_t i = N / 2; i < N; i++)
        a[i] = mk(&keys[i], NULL, 0, NULL, 0, 7);
    bank(db, r + 7, r + 5, a + N / 2, N - N / 2);
    DB_OK(db, acctdb_db_root(db, r + 7));
    step(db, ACCTDB_SERVICE_FLUSH);
    assert_int_equal(owner_pairs(db), p0 + N / 2);

    /* Scans agree (they always did: each candidate is re-read). */
    size_t               found = 0;
    acctdb_scan_filter_t f;
    memset(&f, 0, sizeof f);
    f.owner = o[4];
    DB_OK(db, acctdb_db_scan(db, r + 7, &f, NULL, 0, count_cb, &found, NULL, NULL));
    assert_int_equal(found, N / 2);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- parked tombstones ------------------------------------------------------------- */

static void
test_parked_retry(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.index_bins = 64;
    acctdb_db_t *db = create_genesis(dir, &cfg);
    uint64_t     r = acctdb_db_root_slot(db, NULL);
    assert_int_equal(stats(db).last_full_snapshot_slot, UINT64_MAX); /* no snapshot blocks */
    acctdb_pubkey_t  k = key_of(4242), owner = key_of(1);
    uint8_t          d[8];
    acctdb_account_t live = mk(&k, &owner, 5, d, sizeof d, 1);
    acctdb_account_t dead = mk(&k, NULL, 0, NULL, 0, 2);
    /* Created at r + 1, closed at r + 2, flushed in one pass: the
     * tombstone is the key's only record.  A fork at r + 3 stores it
     * again before clean sees the tombstone. */
    bank(db, r + 1, r, &live, 1);
    bank(db, r + 2, r + 1, &dead, 1);
    DB_OK(db, acctdb_db_root(db, r + 2));
    live.lamports = 9;
    bank(db, r + 3, r + 2, &live, 1);
    step(db, ACCTDB_SERVICE_FLUSH);
    step(db, ACCTDB_SERVICE_CLEAN); /* blocked by the fork's version: parked */
    uint64_t keys0 = stats(db).index_keys;
    /* The fork dies (r + 4 on r + 2 is rooted) and is purged: only the
     * tombstone is left, but nothing a parked key waited on before moved
     * (no snapshot, no shrink). */
    bank(db, r + 4, r + 2, NULL, 0);
    DB_OK(db, acctdb_db_root(db, r + 4));
    step(db, ACCTDB_SERVICE_PURGE);
    step(db, ACCTDB_SERVICE_FLUSH);
    step(db, ACCTDB_SERVICE_CLEAN);
    assert_int_equal(stats(db).index_keys, keys0); /* still parked */
    /* The root moves on: once it is 64 slots further, the key goes. */
    uint64_t s = r + 4, gone_at = 0;
    for (int i = 0; i < 80 && !gone_at; i++, s++) {
        bank(db, s + 1, s, NULL, 0);
        DB_OK(db, acctdb_db_root(db, s + 1));
        step(db, ACCTDB_SERVICE_FLUSH);
        step(db, ACCTDB_SERVICE_CLEAN);
        if (stats(db).index_keys == keys0 - 1) gone_at = s + 1;
    }
    print_message("parked tombstone cleaned at root %llu (parked at %llu)\n",
                  (unsigned long long)gone_at, (unsigned long long)(r + 3));
    assert_true(gone_at > r + 4); /* not at the purge: by the rule */
    acctdb_account_t out;
    uint8_t          buf[16];
    assert_int_equal(acctdb_db_load(db, gone_at, &k, &out, buf, sizeof buf, NULL),
                     ACCTDB_ERR_NOT_FOUND);
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- the storage table ------------------------------------------------------------ */

static void
test_file_table_reused(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.index_bins = 64;
    cfg.mmap_reads = false; /* every read through the read cache */
    cfg.read_cache_max_sz = 4u << 20;
    acctdb_db_t *db = create_genesis(dir, &cfg);
    uint64_t     r = acctdb_db_root_slot(db, NULL);
    enum { N = 200 };
    static acctdb_account_t a[N];
    static uint8_t          data[N][64];
    acctdb_pubkey_t         keys[N], owner = key_of(3);
    for (size_t i = 0; i < N; i++)
        keys[i] = key_of(880000 + i);
    size_t const slots = ADB_MAX(adb_test_scaled(400), 50);
    uint64_t     rng = 99;
    for (uint64_t s = r + 1; s <= r + slots; s++) {
        /* Every key again: the previous slot's storage dies whole, shrink
         * replaces it, and the next flush's storage takes its entry,
         * records at the same offsets. */
        for (size_t i = 0; i < N; i++)
            a[i] = mk(&keys[i], &owner, s * 1000 + i, data[i], sizeof data[i], s);
        bank(db, s, s - 1, a, N);
        DB_OK(db, acctdb_db_root(db, s));
        step(db, ACCTDB_SERVICE_FLUSH);
        step(db, ACCTDB_SERVICE_SHRINK);
        /* Reads through the read cache see this slot's records, never an
         * older storage's at the same location. */
        for (int j = 0; j < 20; j++) {
            size_t           i = adb_test_rand(&rng) % N;
            acctdb_account_t out;
            uint8_t          buf[64];
            DB_OK(db, acctdb_db_load(db, s, &keys[i], &out, buf, sizeof buf, NULL));
            assert_int_equal(out.lamports, s * 1000 + i);
        }
    }
    acctdb_db_stats_t st = stats(db);
    uint32_t          files = adb_db_file_cnt(db->db);
    print_message("storage table: %u entries for %llu live storages after %zu slots\n", files,
                  (unsigned long long)st.storages, slots);
    assert_true(files <= st.storages + 16);
    char msg[1024] = "";
    DB_OK(db, acctdb_db_check(db, msg, sizeof msg));
    DB_OK(db, acctdb_db_verify(db, msg, sizeof msg));
    acctdb_db_close(db);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- change window ----------------------------------------------------------------- */

static void
test_changes_oversize(void **state) {
    (void)state;
    adb_changes_t *c;
    adb_err_t      err = {0};
    assert_int_equal(adb_changes_new(100, 16384, &c, &err), 0);
    static uint8_t     big[20000];
    acctdb_pubkey_t    k = key_of(1), o = key_of(2);
    acctdb_account_t   a = {.pubkey = k, .owner = o, .lamports = 1, .data = big};
    acctdb_bank_info_t in;
    memset(&in, 0, sizeof in);
    for (uint64_t s = 1; s <= 6; s++) {
        a.data_len = s == 4 ? sizeof big : 100; /* slot 4 alone is over the budget */
        in.slot = s;
        acctdb_slot_changes_t sc = {s, s - 1, &in, &a, 1};
        adb_changes_hook(c, &sc);
        adb_changes_stats_t st;
        adb_changes_stats(c, &st);
        assert_true(st.bytes <= 16384);
        if (s == 4) assert_int_equal(st.slots, 0);
    }
    adb_changes_stats_t st;
    adb_changes_stats(c, &st);
    assert_int_equal(st.slots, 2); /* 5 and 6 */
    assert_int_equal(st.oldest_slot, 5);
    /* A reader that still needs slot 4 is too old; one past it streams. */
    adb_changes_reader_t *r = NULL;
    uint64_t              oldest = 0;
    assert_int_equal(adb_changes_reader_open(c, 3, &r, &oldest), ACCTDB_ERR_TOO_OLD);
    assert_int_equal(oldest, 5);
    assert_int_equal(adb_changes_reader_open(c, 4, &r, &oldest), 0);
    adb_changes_reader_close(r);
    adb_changes_free(c);
}

/* ---- soak ------------------------------------------------------------------------- */

typedef struct soak_cfg {
    uint64_t slots, keys;
    uint32_t per_slot;
    uint64_t cache_sz; /* write and read caches */
    bool     report;   /* the full run: print every figure */
} soak_cfg_t;

/* Data length of key i (fixed: a key keeps its size). */
static size_t
soak_len(uint64_t i) {
    return (size_t)((i * 2654435761u) >> 7) % 201;
}

static void
soak(soak_cfg_t const *sc) {
    char *tmp = adb_test_mkdtemp(), dir[4096];
    db_path(dir, sizeof dir, tmp);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = true;
    cfg.owner_index = true; /* its pruning is part of what stays flat */
    cfg.mmap_reads = false; /* reads go through the read cache */
    cfg.write_cache_max_sz = sc->cache_sz;
    cfg.read_cache_max_sz = sc->cache_sz;
    cfg.flush_min_sz = sc->cache_sz / 4;
    acctdb_db_t *db = create_genesis(dir, &cfg);
    double       t0 = now_s();

    enum { OWNERS = 4, LAG = 8, LOADS = 64 };
    acctdb_pubkey_t owners[OWNERS];
    for (int i = 0; i < OWNERS; i++)
        owners[i] = key_of(77 + (uint64_t)i);
    uint32_t          batch = ADB_MAX(sc->per_slot, 10000u);
    acctdb_account_t *a = calloc(batch, sizeof *a);
    uint8_t          *data = malloc((size_t)batch * 256);
    acctdb_pubkey_t   lk[LOADS];
    acctdb_account_t  lo[LOADS];
    int               lrc[LOADS];
    static uint8_t    lbuf[LOADS * 256];
    assert_non_null(a);
    assert_non_null(data);
    uint64_t root = acctdb_db_root_slot(db, NULL), s = root;

    /* Prefill: every key once, 10,000 per rooted bank. */
    for (uint64_t k0 = 0; k0 < sc->keys; k0 += 10000) {
        uint32_t n = (uint32_t)ADB_MIN(10000u, sc->keys - k0);
        for (uint32_t i = 0; i < n; i++) {
            acctdb_pubkey_t k = key_of(k0 + i);
            a[i] = mk(&k, &owners[(k0 + i) % OWNERS], 1000 + k0 + i, data + (size_t)i * 256,
                      soak_len(k0 + i), k0 + i);
        }
        int rc;
        while ((rc = acctdb_db_store(db, s + 1, s, a, n)) == ACCTDB_ERR_FULL)
            step(db, ACCTDB_SERVICE_FLUSH);
        DB_OK(db, rc);
        acctdb_bank_meta_t m = meta_of(s + 1);
        DB_OK(db, acctdb_db_freeze(db, s + 1, &m, NULL));
        DB_OK(db, acctdb_db_root(db, s + 1));
        s++;
    }
    double t_fill = now_s() - t0;

    /* The run: a chain rooted LAG banks deep; one slot in 10 also starts a
     * sibling bank that dies at the next root; each bank stores per_slot
     * accounts drawn from the key space (1% closes, 5% owner changes),
     * loads 64 at its slot. */
    uint64_t chain[LAG + 1], rng = 12345, max_charge = 0, full_retries = 0;
    uint32_t clen = 0;
    uint64_t rss[3] = {0}, at[3] = {sc->slots / 10, sc->slots / 2, sc->slots};
    int      next_sample = 0;
    double   t_run = now_s();
    for (uint64_t i = 1; i <= sc->slots; i++) {
        uint64_t parent = clen ? chain[clen - 1] : acctdb_db_root_slot(db, NULL);
        bool     fork = clen >= 1 && adb_test_rand(&rng) % 10 == 0;
        uint64_t slot = ++s;
        if (fork) {
            /* The sibling: same parent as the tip, one fewer account. */
            uint64_t fp = clen >= 2 ? chain[clen - 2] : acctdb_db_root_slot(db, NULL);
            for (uint32_t j = 0; j < sc->per_slot / 4; j++) {
                uint64_t        ki = adb_test_rand(&rng) % sc->keys;
                acctdb_pubkey_t k = key_of(ki);
                a[j] = mk(&k, &owners[adb_test_rand(&rng) % OWNERS], 5, data + (size_t)j * 256,
                          soak_len(ki), slot);
            }
            int rc;
            while ((rc = acctdb_db_store(db, slot, fp, a, sc->per_slot / 4)) == ACCTDB_ERR_FULL) {
                full_retries++;
                step(db, ACCTDB_SERVICE_FLUSH);
                step(db, ACCTDB_SERVICE_PURGE);
            }
            DB_OK(db, rc);
            acctdb_bank_meta_t m = meta_of(slot);
            DB_OK(db, acctdb_db_freeze(db, slot, &m, NULL));
            slot = ++s;
        }
        for (uint32_t j = 0; j < sc->per_slot; j++) {
            uint64_t        ki = adb_test_rand(&rng) % sc->keys;
            uint64_t        r = adb_test_rand(&rng) % 100;
            acctdb_pubkey_t k = key_of(ki);
            if (r == 0)
                a[j] = mk(&k, NULL, 0, NULL, 0, 0);
            else
                a[j] = mk(&k, &owners[(ki + (r < 6 ? slot : 0)) % OWNERS], 1000 + slot,
                          data + (size_t)j * 256, soak_len(ki), slot);
        }
        int rc;
        while ((rc = acctdb_db_store(db, slot, parent, a, sc->per_slot)) == ACCTDB_ERR_FULL) {
            full_retries++;
            step(db, ACCTDB_SERVICE_FLUSH);
            step(db, ACCTDB_SERVICE_PURGE);
        }
        DB_OK(db, rc);
        acctdb_bank_meta_t m = meta_of(slot);
        DB_OK(db, acctdb_db_freeze(db, slot, &m, NULL));
        for (int j = 0; j < LOADS; j++)
            lk[j] = key_of(adb_test_rand(&rng) % sc->keys);
        DB_OK(db, acctdb_db_load_batch(db, slot, lk, LOADS, lo, lbuf, sizeof lbuf, lrc));
        chain[clen++] = slot;
        if (clen > LAG) {
            DB_OK(db, acctdb_db_root(db, chain[0]));
            memmove(chain, chain + 1, --clen * sizeof *chain);
        }
        max_charge = ADB_MAX(max_charge, stats(db).write_cache_sz);
        if (next_sample < 3 && i == at[next_sample]) {
            /* The same state at each sample: rooted data flushed, dead forks
             * purged, retired memory freed; then the heap's free pages given
             * back (malloc_trim in rss_anon). */
            step(db, ACCTDB_SERVICE_PURGE);
            step(db, ACCTDB_SERVICE_FLUSH);
            step(db, ACCTDB_SERVICE_CLEAN);
            rss[next_sample] = rss_anon();
            acctdb_db_stats_t st = stats(db);
            struct mallinfo2  mi = mallinfo2(); /* every arena: in use, and free inside */
            if (sc->report)
                print_message(
                    "  slot %llu (%.0f%%): RSS %.1f MiB (heap in use %.1f, free in it "
                    "%.1f), index %llu keys %llu versions listed %.1f MiB, owner pairs "
                    "%llu, write cache %.1f MiB, read cache %.1f MiB, storage %.0f MiB "
                    "(%.0f%% alive), %.0f s\n",
                    (unsigned long long)i, 100.0 * (double)i / (double)sc->slots,
                    (double)rss[next_sample] / (1 << 20),
                    (double)(mi.uordblks + mi.hblkhd) / (1 << 20), (double)mi.fordblks / (1 << 20),
                    (unsigned long long)st.index_keys, (unsigned long long)st.index_versions_listed,
                    (double)st.index_ram_sz / (1 << 20), (unsigned long long)st.owner_index_keys,
                    (double)st.write_cache_sz / (1 << 20), (double)st.read_cache_sz / (1 << 20),
                    (double)st.storage_bytes / (1 << 20),
                    st.storage_bytes
                        ? 100.0 * (double)st.storage_alive_bytes / (double)st.storage_bytes
                        : 0.0,
                    now_s() - t0);
            next_sample++;
        }
    }
    double   t_end = now_s();
    uint64_t lo_rss = ADB_MIN(rss[0], ADB_MIN(rss[1], rss[2]));
    uint64_t hi_rss = ADB_MAX(rss[0], ADB_MAX(rss[1], rss[2]));
    double   spread = (double)(hi_rss - lo_rss) / (double)lo_rss;
    print_message("soak: %llu slots x %u stores over %llu keys, caches %llu MiB: RSS %.1f / %.1f / "
                  "%.1f MiB at 10%% / 50%% / 100%% (spread %.1f%%); write cache max %.1f MiB; "
                  "%llu FULL retries; prefill %.1f s, run %.1f s (%.0f slots/s)\n",
                  (unsigned long long)sc->slots, sc->per_slot, (unsigned long long)sc->keys,
                  (unsigned long long)(sc->cache_sz >> 20), (double)rss[0] / (1 << 20),
                  (double)rss[1] / (1 << 20), (double)rss[2] / (1 << 20), 100 * spread,
                  (double)max_charge / (1 << 20), (unsigned long long)full_retries, t_fill,
                  t_end - t_run, (double)sc->slots / (t_end - t_run));
    assert_true(max_charge <= sc->cache_sz);
    if (!SANITIZED) assert_true(spread <= 0.10);
    acctdb_db_close(db);
    free(a);
    free(data);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_soak(void **state) {
    (void)state;
    char const *full = getenv("ACCTDB_SOAK_SLOTS");
    if (full && *full) {
        char const *keys = getenv("ACCTDB_SOAK_KEYS");
        soak_cfg_t  sc = {.slots = strtoull(full, NULL, 10),
                          .keys = keys && *keys ? strtoull(keys, NULL, 10) : 1000000,
                          .per_slot = 200,
                          .cache_sz = 64ull << 20,
                          .report = true};
        assert_true(sc.slots >= 10 && sc.keys >= 1000);
        soak(&sc);
        return;
    }
    /* CI: the same run scaled down, with caches small enough to fill
     * during the warm-up. */
    soak_cfg_t sc = {.slots = ADB_MAX(adb_test_scaled(3000), 100),
                     .keys = ADB_MAX(adb_test_scaled(50000), 5000),
                     .per_slot = 200,
                     .cache_sz = 8ull << 20,
                     .report = true};
    soak(&sc);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_frozen_root_stepped), cmocka_unit_test(test_frozen_root_bg),
    cmocka_unit_test(test_full_after_wait),     cmocka_unit_test(test_workload_full),
    cmocka_unit_test(test_retired_counted),     cmocka_unit_test(test_owner_pruned),
    cmocka_unit_test(test_parked_retry),        cmocka_unit_test(test_file_table_reused),
    cmocka_unit_test(test_changes_oversize),    cmocka_unit_test(test_soak),
};

ADB_TEST_GROUP(bounds, tests);
