/* What a read service needs of the database (include/acctdb.h, "what a
 * read service needs"): commitment slots and the confirmed mark, cluster
 * facts, the token indexes against a plain owner scan with the same
 * filter, and the root hook: every rooted slot once, in order, each the
 * child of the one before, its accounts those the slot stored. */
#include "../test.h"
#include "acctdb_sim.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FULL_NAME "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define INC_NAME  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define TOKEN     "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"

static acctdb_db_t *
make_db(char const *dir, bool background) {
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    cfg.background = background;
    acctdb_db_source_t src = {.full_path = adb_test_data(FULL_NAME),
                              .incremental_path = adb_test_data(INC_NAME)};
    char               msg[512];
    acctdb_db_t       *db = NULL;
    if (acctdb_db_create(&db, dir, &src, &cfg, msg, sizeof msg)) fail_msg("create: %s", msg);
    return db;
}

static void
t_slots_confirm(void **state) {
    (void)state;
    char *d = adb_test_mkdtemp(), dir[4200];
    snprintf(dir, sizeof dir, "%s/db", d);
    acctdb_db_t      *db = make_db(dir, false);
    acctdb_db_slots_t s;
    assert_int_equal(acctdb_db_slots(db, &s), 0);
    assert_int_equal(s.processed, 4);
    assert_int_equal(s.confirmed, 4);
    assert_int_equal(s.finalized, 4);
    /* 5 <- 6 frozen, 7 open on 6; 8 frozen on 5 (a fork) */
    acctdb_bank_meta_t m = {.unix_timestamp = 1};
    assert_int_equal(acctdb_db_bank_begin(db, 5, 4, 1), 0);
    assert_int_equal(acctdb_db_freeze(db, 5, &m, NULL), 0);
    assert_int_equal(acctdb_db_bank_begin(db, 6, 5, 1), 0);
    assert_int_equal(acctdb_db_freeze(db, 6, &m, NULL), 0);
    assert_int_equal(acctdb_db_bank_begin(db, 7, 6, 1), 0);
    assert_int_equal(acctdb_db_bank_begin(db, 8, 5, 1), 0);
    assert_int_equal(acctdb_db_freeze(db, 8, &m, NULL), 0);
    assert_int_equal(acctdb_db_slots(db, &s), 0);
    assert_int_equal(s.processed, 8); /* the newest frozen bank */
    assert_int_equal(s.confirmed, 4);
    assert_int_equal(acctdb_db_confirm(db, 7), ACCTDB_ERR_INVALID); /* open */
    assert_int_equal(acctdb_db_confirm(db, 99), ACCTDB_ERR_INVALID);
    assert_int_equal(acctdb_db_confirm(db, 3), ACCTDB_ERR_TOO_OLD);
    assert_int_equal(acctdb_db_confirm(db, 6), 0);
    assert_int_equal(acctdb_db_slots(db, &s), 0);
    assert_int_equal(s.confirmed, 6);
    /* Rooting 8 kills 6 and 7: confirmed falls back to the root. */
    assert_int_equal(acctdb_db_root(db, 8), 0);
    assert_int_equal(acctdb_db_slots(db, &s), 0);
    assert_int_equal(s.finalized, 8);
    assert_int_equal(s.confirmed, 8);
    assert_int_equal(s.processed, 8);
    acctdb_db_cluster_t c;
    assert_int_equal(acctdb_db_cluster(db, &c), 0);
    assert_false(c.has_genesis_hash); /* created from archives */
    assert_int_equal(c.slots_per_epoch, 432000);
    assert_true(c.lamports_per_byte_year > 0);
    /* Rent::minimum_balance under the archive's rent (3480, 2.0). */
    assert_int_equal(acctdb_db_min_balance(db, 0), 890880);
    assert_int_equal(acctdb_db_min_balance(db, 165), 2039280);
    acctdb_db_close(db);
    adb_test_rmtree(d);
    free(d);
}

/* ---- token indexes -------------------------------------------------------------- */

typedef struct keys {
    acctdb_pubkey_t *k;
    size_t           n, cap;
} keys_t;

static int
collect(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    keys_t *k = ctx;
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 64;
        k->k = realloc(k->k, k->cap * sizeof *k->k);
        assert_non_null(k->k);
    }
    k->k[k->n++] = a->pubkey;
    return 0;
}

static void
t_token_index(void **state) {
    (void)state;
    char *d = adb_test_mkdtemp(), dir[4200];
    snprintf(dir, sizeof dir, "%s/db", d);
    acctdb_db_t           *db = make_db(dir, true);
    acctdb_workload_opts_t wo;
    acctdb_workload_opts_default(&wo);
    /* at least 60 slots: enough token accounts (over 100) at any scale */
    wo.slots = (uint64_t)adb_test_scaled(200) < 60 ? 60 : (uint64_t)adb_test_scaled(200);
    wo.stores_min = 100;
    wo.stores_max = 300;
    wo.new_account_frac = 0.3;
    wo.seed = adb_test_seed();
    acctdb_workload_result_t wr;
    if (acctdb_db_workload(db, &wo, &wr)) fail_msg("workload: %s", acctdb_db_errmsg(db));
    acctdb_pubkey_t token;
    assert_int_equal(acctdb_base58_decode_32(TOKEN, token.b), 0);
    /* Every token account's owner and mint, from a plain scan. */
    acctdb_scan_filter_t f = {.owner = token, .has_data_size = true, .data_size = 165};
    keys_t               all = {0};
    for (int pass = 0; pass < 2; pass++) {
        uint64_t slot = pass ? wr.tip_slot : wr.root_slot;
        all.n = 0;
        assert_int_equal(acctdb_db_scan(db, slot, &f, NULL, 0, collect, &all, NULL, NULL), 0);
        if (all.n <= 100)
            fail_msg("only %zu token accounts at slot %llu", all.n, (unsigned long long)slot);
        size_t checked = 0;
        for (size_t i = 0; i < all.n && checked < 40; i += all.n / 40 + 1, checked++) {
            acctdb_account_t a;
            uint8_t          buf[256];
            assert_int_equal(acctdb_db_load(db, slot, &all.k[i], &a, buf, sizeof buf, NULL), 0);
            for (int by_mint = 0; by_mint < 2; by_mint++) {
                acctdb_pubkey_t key;
                memcpy(key.b, buf + (by_mint ? 0 : 32), 32);
                /* The reference: the owner scan with a memcmp on the key. */
                acctdb_scan_filter_t g = f;
                g.memcmp_cnt = 1;
                g.memcmp[0] =
                    (acctdb_memcmp_t){.offset = by_mint ? 0 : 32, .bytes = key.b, .len = 32};
                keys_t want = {0}, got = {0};
                assert_int_equal(acctdb_db_scan(db, slot, &g, NULL, 0, collect, &want, NULL, NULL),
                                 0);
                assert_int_equal(acctdb_db_token_scan(db, slot, &key, by_mint != 0, NULL, NULL, 0,
                                                      collect, &got, NULL, NULL),
                                 0);
                assert_int_equal(got.n, want.n);
                assert_memory_equal(got.k, want.k, got.n * sizeof *got.k);
                /* Paged by two, the same keys in the same order. */
                keys_t          paged = {0};
                acctdb_pubkey_t cur, next;
                bool            more = true, first = true;
                while (more) {
                    assert_int_equal(acctdb_db_token_scan(db, slot, &key, by_mint != 0, &token,
                                                          first ? NULL : &cur, 2, collect, &paged,
                                                          &next, &more),
                                     0);
                    cur = next;
                    first = false;
                }
                assert_int_equal(paged.n, want.n);
                assert_memory_equal(paged.k, want.k, paged.n * sizeof *paged.k);
                free(want.k);
                free(got.k);
                free(paged.k);
            }
        }
    }
    /* Only the token programs. */
    assert_int_equal(acctdb_db_token_scan(db, wr.root_slot, &token, false, &all.k[0], NULL, 0,
                                          collect, &all, NULL, NULL),
                     ACCTDB_ERR_INVALID);
    free(all.k);
    acctdb_db_close(db);
    adb_test_rmtree(d);
    free(d);
}

/* ---- the root hook ----------------------------------------------------------------- */

typedef struct hooked {
    acctdb_db_t *db;
    uint64_t     last, slots, accounts, mismatches;
} hooked_t;

static void
hook(void *ctx, acctdb_slot_changes_t const *c) {
    hooked_t *h = ctx;
    if (h->slots && c->parent_slot != h->last) h->mismatches++;
    if (c->slot <= h->last) h->mismatches++;
    if (c->info->slot != c->slot) h->mismatches++;
    for (size_t i = 1; i < c->cnt; i++)
        if (memcmp(c->accounts[i - 1].pubkey.b, c->accounts[i].pubkey.b, 32) >= 0) h->mismatches++;
    h->last = c->slot;
    h->slots++;
    h->accounts += c->cnt;
}

static void
t_root_hook(void **state) {
    (void)state;
    char *d = adb_test_mkdtemp(), dir[4200];
    snprintf(dir, sizeof dir, "%s/db", d);
    acctdb_db_t *db = make_db(dir, true);
    hooked_t     h = {.db = db, .last = acctdb_db_root_slot(db, NULL)};
    assert_int_equal(acctdb_db_set_root_hook(db, hook, &h), 0);
    acctdb_workload_opts_t wo;
    acctdb_workload_opts_default(&wo);
    wo.slots = (uint64_t)adb_test_scaled(300);
    wo.stores_min = 20;
    wo.stores_max = 60;
    wo.forks = 3;
    wo.seed = adb_test_seed();
    acctdb_workload_result_t wr;
    if (acctdb_db_workload(db, &wo, &wr)) fail_msg("workload: %s", acctdb_db_errmsg(db));
    assert_int_equal(h.mismatches, 0);
    assert_int_equal(h.last, wr.root_slot);
    /* Every rooted bank came through once: the rooted slots, and their
     * stores (the workload's plus bank_begin's sysvars). */
    assert_int_equal(h.slots, wr.slots_rooted);
    assert_true(h.accounts >= wr.slots_rooted);
    assert_int_equal(acctdb_db_set_root_hook(db, NULL, NULL), 0);
    acctdb_db_close(db);
    adb_test_rmtree(d);
    free(d);
}

/* ---- a snapshot while stores go on -------------------------------------------- */

typedef struct snapper {
    acctdb_db_t *db;
    char         out[4200];
    _Atomic int  stop;
    int          made, rc;
    char         paths[8][4096];
} snapper_t;

static void *
snap_main(void *arg) {
    snapper_t *s = arg;
    while (!atomic_load(&s->stop) && s->made < 8) {
        char path[4096];
        int  rc = acctdb_db_snapshot(s->db, s->out, false, path);
        if (rc) {
            s->rc = rc;
            break;
        }
        snprintf(s->paths[s->made++], sizeof s->paths[0], "%s", path);
    }
    return NULL;
}

/* Snapshots written from a second thread while the workload stores, freezes,
 * roots and flushes: each archive is the pinned root, whole (every check of
 * a full verification passes), though flushing went on during the write. */
static void
t_snapshot_while_storing(void **state) {
    (void)state;
    char *d = adb_test_mkdtemp(), dir[4200];
    snprintf(dir, sizeof dir, "%s/db", d);
    acctdb_db_t *db = make_db(dir, true);
    snapper_t    sn = {.db = db};
    snprintf(sn.out, sizeof sn.out, "%s/out", d);
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir -p '%s'", sn.out), 0);
    /* Something to snapshot first, with bank state. */
    acctdb_workload_opts_t wo;
    acctdb_workload_opts_default(&wo);
    wo.slots = 60;
    wo.stores_min = 200;
    wo.stores_max = 400;
    wo.root_lag = 8;
    wo.seed = adb_test_seed();
    acctdb_workload_result_t wr;
    if (acctdb_db_workload(db, &wo, &wr)) fail_msg("workload: %s", acctdb_db_errmsg(db));
    acctdb_db_close(db);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    cfg.flush_max_delay_ms = 0; /* flush every root: flushing overlaps the writes */
    char msg[512];
    assert_int_equal(acctdb_db_open(&db, dir, &cfg, msg, sizeof msg), 0);
    sn.db = db;
    snapper_t *sp = &sn;
    pthread_t  t;
    assert_int_equal(pthread_create(&t, NULL, snap_main, sp), 0);
    wo.slots = (uint64_t)adb_test_scaled(400);
    wo.seed += 1;
    int rc = acctdb_db_workload(db, &wo, &wr);
    atomic_store(&sn.stop, 1);
    pthread_join(t, NULL);
    if (rc) fail_msg("workload: %s", acctdb_db_errmsg(db));
    if (sn.rc) fail_msg("snapshot: %d: %s", sn.rc, acctdb_db_errmsg(db));
    assert_true(sn.made >= 1);
    acctdb_db_close(db);
    int verified = 0;
    for (int i = 0; i < sn.made; i++) {
        if (access(sn.paths[i], R_OK)) continue; /* retention removed it */
        verified++;
        acctdb_snapshot_opts_t o = {.threads = 2};
        acctdb_snapshot_t     *s = NULL;
        rc = acctdb_snapshot_open(&s, sn.paths[i], NULL, &o);
        if (rc) fail_msg("%s: %s", sn.paths[i], acctdb_snapshot_errmsg(s));
        acctdb_snapshot_close(s);
    }
    assert_true(verified >= 1);
    print_message("    %d snapshots written while the workload ran (%llu slots); the %d retention "
                  "kept verify\n",
                  sn.made, (unsigned long long)wr.slots_created, verified);
    adb_test_rmtree(d);
    free(d);
}

/* ---- more reading threads than reader slots ------------------------------------ */

typedef struct rd {
    acctdb_db_t       *db;
    pthread_barrier_t *hold;
    int                rc;
} rd_t;

static void *
rd_main(void *arg) {
    rd_t            *r = arg;
    acctdb_pubkey_t  k;
    acctdb_account_t a;
    uint8_t          buf[64];
    assert_int_equal(acctdb_base58_decode_32("SysvarRent111111111111111111111111111111111", k.b),
                     0);
    r->rc = acctdb_db_load(r->db, acctdb_db_root_slot(r->db, NULL), &k, &a, buf, sizeof buf, NULL);
    pthread_barrier_wait(r->hold); /* keep the slot until every thread tried */
    return NULL;
}

/* 1,100 threads read at once: the registry has 1,024 reader slots; those
 * left over get FULL at once (no thread waits or spins), the others read. */
static void
t_reader_slots(void **state) {
    (void)state;
    char *d = adb_test_mkdtemp(), dir[4200];
    snprintf(dir, sizeof dir, "%s/db", d);
    acctdb_db_t *db = make_db(dir, false);
    enum { N = 1100 };
    static rd_t       r[N];
    static pthread_t  t[N];
    pthread_barrier_t hold;
    assert_int_equal(pthread_barrier_init(&hold, NULL, N + 1), 0);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256u << 10);
    for (int i = 0; i < N; i++) {
        r[i] = (rd_t){.db = db, .hold = &hold, .rc = -1};
        assert_int_equal(pthread_create(&t[i], &at, rd_main, &r[i]), 0);
    }
    pthread_barrier_wait(&hold);
    int ok = 0, full = 0, other = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (r[i].rc == 0)
            ok++;
        else if (r[i].rc == ACCTDB_ERR_FULL)
            full++;
        else
            other++;
    }
    pthread_attr_destroy(&at);
    pthread_barrier_destroy(&hold);
    print_message("    %d threads read, %d were refused a reader slot (FULL)\n", ok, full);
    assert_int_equal(other, 0);
    assert_true(full >= N - 1024);
    assert_true(ok >= 1000);
    /* The slots came back as the threads exited. */
    acctdb_pubkey_t  k;
    acctdb_account_t a;
    uint8_t          buf[64];
    assert_int_equal(acctdb_base58_decode_32("SysvarRent111111111111111111111111111111111", k.b),
                     0);
    assert_int_equal(
        acctdb_db_load(db, acctdb_db_root_slot(db, NULL), &k, &a, buf, sizeof buf, NULL), 0);
    acctdb_db_close(db);
    adb_test_rmtree(d);
    free(d);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_reader_slots),  cmocka_unit_test(t_snapshot_while_storing),
    cmocka_unit_test(t_slots_confirm), cmocka_unit_test(t_token_index),
    cmocka_unit_test(t_root_hook),
};
ADB_TEST_GROUP(db_serve, tests);
