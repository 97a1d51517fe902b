/* tests/db/test_chilly_db.c - Chilly in the engine (docs/STATE.md):
 *
 *   determinism  databases fed the same trace make the same hot/cold
 *                decisions as each other and as the rule computed here
 *                from the document (a map of counters), and hold the same
 *                accounts in the Chilly cache, exactly the ones hot at the
 *                root; also after a restart of one of them and for a
 *                database made from a snapshot (with its sidecar) of one of
 *                them; the cache's loads return the accounts' bytes
 *   limit        LOAD_LIMIT: a transaction past the block's budget is
 *                refused and changes nothing */
#include "../test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NACC  300
#define CACHE (48u << 10)
#define NDB   3

typedef struct trace {
    acctdb_pubkey_t key[NACC];
    uint32_t        len[NACC];
    /* the rule, computed here */
    uint64_t ctr[NACC];
    uint64_t loaded;
    uint64_t root_loaded;
    uint64_t root_ctr[NACC];
} trace_t;

static acctdb_db_config_t
cfg_make(void) {
    acctdb_db_config_t c;
    acctdb_db_config_default(&c);
    c.background = false;
    c.chilly_cache_sz = CACHE;
    return c;
}

static void
step_all(acctdb_db_t *db) {
    for (int s = 0; s < ACCTDB_SERVICE_CNT; s++)
        assert_true(acctdb_db_service_step(db, (acctdb_service_t)s) >= 0);
}

/* The hot set at the root by the rule (keys ascending). */
static size_t
model_hot(trace_t const *t, acctdb_pubkey_t *out) {
    size_t n = 0;
    for (size_t i = 0; i < NACC; i++)
        if (t->root_ctr[i] && t->root_loaded - t->root_ctr[i] <= CACHE) out[n++] = t->key[i];
    for (size_t i = 1; i < n; i++) /* insertion sort: small */
        for (size_t j = i; j > 0 && memcmp(out[j - 1].b, out[j].b, 32) > 0; j--) {
            acctdb_pubkey_t x = out[j];
            out[j] = out[j - 1];
            out[j - 1] = x;
        }
    return n;
}

static void
check_cached(acctdb_db_t *db, trace_t const *t, char const *who) {
    acctdb_pubkey_t want[NACC], got[NACC];
    size_t          nw = model_hot(t, want), ng = 0;
    assert_int_equal(acctdb_db_chilly_cached(db, got, NACC, &ng), 0);
    if (ng != nw || memcmp(want, got, nw * sizeof *want))
        fail_msg("%s: the Chilly cache holds %zu accounts, the rule says %zu hot at the root", who,
                 ng, nw);
}

static void
test_determinism(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    char               p[NDB][4200], arch[4200];
    acctdb_db_config_t cfg = cfg_make();
    acctdb_db_t       *db[NDB] = {0};
    for (int i = 0; i < 2; i++) {
        snprintf(p[i], sizeof p[i], "%s/db%d", dir, i);
        db[i] = adb_test_create_pair(p[i], &cfg);
    }
    snprintf(p[2], sizeof p[2], "%s/db2", dir);
    snprintf(arch, sizeof arch, "%s/arch", dir);
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir -p '%s'", arch), 0);
    trace_t       *t = calloc(1, sizeof *t);
    adb_test_rng_t r = {adb_test_seed() ^ 0xc411};
    uint8_t       *data = calloc(1, 4096), *buf = malloc(4096);
    uint64_t       root = acctdb_db_root_slot(db[0], NULL);
    /* The accounts, created in one bank on both. */
    acctdb_account_t a[NACC];
    for (size_t i = 0; i < NACC; i++) {
        adb_test_rng_fill(&r, t->key[i].b, 32);
        t->len[i] = (uint32_t)adb_test_rng_below(&r, 2000);
        memset(&a[i], 0, sizeof a[i]);
        a[i].pubkey = t->key[i];
        a[i].owner.b[0] = 9;
        a[i].lamports = 1000000;
        a[i].data_len = t->len[i];
        a[i].data = data;
    }
    uint64_t const slots = adb_test_scaled(120) + 10;
    uint64_t       h[NDB] = {0}; /* hash of each database's decisions */
    for (uint64_t s = 1; s <= slots; s++) {
        uint64_t slot = root + s;
        int      live = db[2] ? 3 : 2;
        for (int i = 0; i < live; i++) {
            assert_int_equal(acctdb_db_bank_begin(db[i], slot, slot - 1, 1700000000), 0);
            if (s == 1) assert_int_equal(acctdb_db_store(db[i], slot, slot - 1, a, NACC), 0);
        }
        /* Transactions: 1..6 distinct loads, skewed to low ids. */
        size_t ntx = 1 + adb_test_rng_below(&r, 12);
        for (size_t x = 0; x < ntx; x++) {
            size_t          n = 1 + adb_test_rng_below(&r, 6), id[6];
            acctdb_pubkey_t k[6];
            for (size_t j = 0; j < n; j++) {
                bool dup;
                do {
                    uint64_t u = adb_test_rng_below(&r, 1000);
                    id[j] = (size_t)(u * u / 1000 * NACC / 1000);
                    dup = false;
                    for (size_t q = 0; q < j; q++)
                        dup |= id[q] == id[j];
                } while (dup);
                k[j] = t->key[id[j]];
            }
            /* The rule, here: judged against the total as the tx starts. */
            uint8_t  want[6];
            uint64_t sum = 0;
            for (size_t j = 0; j < n; j++) {
                want[j] = !t->ctr[id[j]] || t->loaded - t->ctr[id[j]] > CACHE;
                sum += t->len[id[j]] + 64u;
            }
            t->loaded += sum;
            for (size_t j = 0; j < n; j++)
                t->ctr[id[j]] = t->loaded;
            for (int i = 0; i < live; i++) {
                uint8_t  cold[6];
                uint64_t cb;
                int      rc = acctdb_db_touch(db[i], slot, k, n, false, cold, &cb);
                if (rc) fail_msg("touch: %s (%s)", acctdb_strerror(rc), acctdb_db_errmsg(db[i]));
                uint64_t wcb = 0;
                for (size_t j = 0; j < n; j++) {
                    if (cold[j] != want[j])
                        fail_msg("db %d slot %llu: account %zu is %s, the rule says %s", i,
                                 (unsigned long long)slot, id[j], cold[j] ? "cold" : "hot",
                                 want[j] ? "cold" : "hot");
                    if (want[j]) wcb += t->len[id[j]] + 64u;
                    h[i] = (h[i] ^ cold[j]) * 0x100000001b3ull;
                }
                assert_int_equal(cb, wcb);
            }
        }
        /* Sometimes a store changes a hot account (the cache refreshes). */
        if (adb_test_rng_below(&r, 3) == 0) {
            acctdb_account_t b = a[adb_test_rng_below(&r, 20)];
            b.lamports += s;
            for (int i = 0; i < live; i++)
                assert_int_equal(acctdb_db_store(db[i], slot, slot - 1, &b, 1), 0);
        }
        for (int i = 0; i < live; i++) {
            acctdb_bank_meta_t m = {0};
            m.blockhash.b[0] = (uint8_t)slot;
            m.blockhash.b[1] = (uint8_t)(slot >> 8);
            assert_int_equal(acctdb_db_freeze(db[i], slot, &m, NULL), 0);
            assert_int_equal(acctdb_db_root(db[i], slot), 0);
            uint64_t lb, cb;
            assert_int_equal(acctdb_db_chilly_bank(db[i], slot, &lb, &cb), 0);
            assert_int_equal(lb, t->loaded);
        }
        t->root_loaded = t->loaded;
        memcpy(t->root_ctr, t->ctr, sizeof t->ctr);
        for (int i = 0; i < live; i++) {
            char who[32];
            snprintf(who, sizeof who, "db %d slot %llu", i, (unsigned long long)slot);
            check_cached(db[i], t, who);
            if (s % 7 == 0) step_all(db[i]);
        }
        /* Every hot account reads back right (through the cache). */
        for (size_t i = 0; i < 20; i++) {
            acctdb_account_t got;
            assert_int_equal(acctdb_db_load(db[0], slot, &t->key[i], &got, buf, 4096, NULL), 0);
            assert_int_equal(got.data_len, t->len[i]);
        }
        if (s == slots / 3) {
            /* db 1 restarts. */
            acctdb_db_close(db[1]);
            assert_int_equal(acctdb_db_open(&db[1], p[1], &cfg, NULL, 0), 0);
            check_cached(db[1], t, "db 1 after a restart");
        }
        if (s == 2 * slots / 3) {
            /* db 2 from a snapshot of db 0, with its sidecar. */
            char path[4096], msg[512];
            assert_int_equal(acctdb_db_snapshot(db[0], arch, false, path), 0);
            acctdb_db_source_t src = {.full_path = path};
            int                rc = acctdb_db_create(&db[2], p[2], &src, &cfg, msg, sizeof msg);
            if (rc) fail_msg("create from %s: %s", path, msg);
            check_cached(db[2], t, "db 2 from the snapshot");
            h[2] = h[0];
        }
    }
    assert_true(h[0] == h[1] && h[0] == h[2]);
    acctdb_db_stats_t st;
    assert_int_equal(acctdb_db_stats(db[0], &st), 0);
    print_message("chilly: %llu slots, %llu loaded bytes; cache %llu accounts (%llu B of %u), "
                  "%llu hits, %llu misses\n",
                  (unsigned long long)slots, (unsigned long long)t->loaded,
                  (unsigned long long)st.chilly_cached, (unsigned long long)st.chilly_bytes, CACHE,
                  (unsigned long long)st.chilly_hits, (unsigned long long)st.chilly_misses);
    assert_true(st.chilly_hits > 0);
    for (int i = 0; i < NDB; i++)
        acctdb_db_close(db[i]);
    free(t);
    free(data);
    free(buf);
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_limit(void **state) {
    (void)state;
    char              *dir = adb_test_mkdtemp();
    acctdb_db_config_t cfg = cfg_make();
    cfg.chilly_load_limit = 3000;
    acctdb_db_t     *db = adb_test_create_pair(dir, &cfg);
    uint64_t         root = acctdb_db_root_slot(db, NULL);
    acctdb_account_t a[3];
    uint8_t          data[1000] = {0};
    for (int i = 0; i < 3; i++) {
        memset(&a[i], 0, sizeof a[i]);
        memset(a[i].pubkey.b, 0x40 + i, 32);
        a[i].lamports = 5;
        a[i].data_len = 1000;
        a[i].data = data;
    }
    assert_int_equal(acctdb_db_store(db, root + 1, root, a, 3), 0);
    uint8_t  cold[3];
    uint64_t cb, lb, bc;
    /* 2 x 1064 cold bytes fit in 3000; the third does not. */
    assert_int_equal(acctdb_db_touch(db, root + 1, &a[0].pubkey, 1, true, cold, &cb), 0);
    assert_int_equal(cb, 1064);
    assert_int_equal(acctdb_db_touch(db, root + 1, &a[1].pubkey, 1, true, cold, &cb), 0);
    assert_int_equal(acctdb_db_chilly_bank(db, root + 1, &lb, &bc), 0);
    assert_int_equal(bc, 2128);
    assert_int_equal(acctdb_db_touch(db, root + 1, &a[2].pubkey, 1, true, cold, &cb),
                     ACCTDB_ERR_FULL);
    assert_int_equal(acctdb_db_chilly_bank(db, root + 1, &lb, &bc), 0);
    assert_int_equal(bc, 2128);
    assert_int_equal(lb, 2128);
    /* Hot now (loaded 2128 ago or less): charged nothing, fits. */
    assert_int_equal(acctdb_db_touch(db, root + 1, &a[0].pubkey, 1, true, cold, &cb), 0);
    assert_int_equal(cold[0], 0);
    assert_int_equal(cb, 0);
    /* Without enforce the scheduler's watermark is not applied. */
    assert_int_equal(acctdb_db_touch(db, root + 1, &a[2].pubkey, 1, false, cold, &cb), 0);
    /* A key twice, a frozen bank. */
    acctdb_pubkey_t two[2] = {a[0].pubkey, a[0].pubkey};
    assert_int_equal(acctdb_db_touch(db, root + 1, two, 2, false, cold, &cb), ACCTDB_ERR_INVALID);
    acctdb_bank_meta_t m = {0};
    assert_int_equal(acctdb_db_freeze(db, root + 1, &m, NULL), 0);
    assert_int_equal(acctdb_db_touch(db, root + 1, &a[0].pubkey, 1, false, cold, &cb),
                     ACCTDB_ERR_INVALID);
    acctdb_db_close(db);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_determinism),
    cmocka_unit_test(test_limit),
};

ADB_TEST_GROUP(chilly_db, tests);
