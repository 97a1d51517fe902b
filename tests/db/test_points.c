/* Kill -9 between every pair of dependent writes.
 *
 * Each write path of the database is a chain of writes where the next one
 * relies on the one before being in place: account files, then their
 * fdatasync, then the index repoint, then the commit record; an archive's
 * temporary file, its fsync, the rename, the directory fsync, then the
 * commit record registering it; a new database's account files, manifest,
 * status cache, then its first commit record.  The engine marks each
 * boundary with a named point (src/util/point.h; the list is in
 * include/acctdb_sim.h).  For each boundary, enumerated in g_pairs below
 * with the two writes it separates, a child process runs a workload that
 * passes it and kills itself there with SIGKILL (the hook of
 * acctdb_sim_set_point_hook raises it), after recording that the point
 * fired.  The parent then reopens the database, without intervention, and
 * checks it as `acctdb crashtest` does:
 *   - the reopen succeeds (a creation killed before its first commit record
 *     is NOT_FOUND: no database), at a root no older than the newest one a
 *     commit point reported durable, and that root is durable;
 *   - the root's lattice checksum and capitalization are those the child's
 *     root hook recorded when it rooted the slot;
 *   - every account: each pubkey the child ever rooted (and the genesis
 *     ones) is loaded at the root; the lattice hash and lamports of those
 *     found, summed here from scratch, are the recorded ones;
 *   - acctdb_db_verify and acctdb_db_check pass;
 *   - every archive loads and verifies (an incremental on its full), with
 *     the recorded lattice checksum of its slot; no temporary file of a
 *     killed writer has an archive's name or is picked by
 *     acctdb_snapshot_find.
 * Any point that fires in these runs but is not enumerated fails the test,
 * so a new point comes with its pair.  Services are stepped
 * (cfg.background off): a run is deterministic. */
#include "../test.h"

#include "acctdb_sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum scenario {
    SC_CREATE,   /* acctdb_db_create from the bundled full + incremental archive pair */
    SC_FLUSH,    /* a workload with flush (and the other services) after every root */
    SC_SHRINK,   /* the same, shrinking every file below 95% live */
    SC_PUNCH,    /* the same, then close: the retired extents are punched */
    SC_SNAPSHOT, /* a workload, a full snapshot, more workload, an incremental, ... */
};

typedef struct pair {
    char const *point;  /* where the child dies ... */
    char const *first;  /* ... after this write ... */
    char const *second; /* ... and before this one */
    int         scenario;
    unsigned    nth; /* dies at the nth time the point fires */
} pair_t;

static pair_t const g_pairs[] = {
    /* a new database */
    {"segment.created", "segment file accounts/seg-000000 created", "account files written into it",
     SC_CREATE, 1},
    {"create.written", "account files of the load", "fdatasync of the segments, fsync of accounts/",
     SC_CREATE, 1},
    {"create.synced", "fdatasync of the segments, fsync of accounts/", "manifest.bin", SC_CREATE,
     1},
    {"create.manifest", "manifest.bin", "status_cache.bin", SC_CREATE, 1},
    {"create.status_cache", "status_cache.bin", "the first commit record", SC_CREATE, 1},
    {"create.commit", "status_cache.bin", "the first commit record (about to be written)",
     SC_CREATE, 1},
    {"create.committed", "the first commit record", "opening the engine", SC_CREATE, 1},
    /* flush */
    {"flush.begin", "the previous commit record", "account files of the rooted banks", SC_FLUSH, 3},
    {"flush.written", "account files of the rooted banks", "fdatasync of the segments", SC_FLUSH,
     3},
    {"flush.synced", "fdatasync of the segments", "index repoint", SC_FLUSH, 3},
    {"flush.repointed", "index repoint", "commit record", SC_FLUSH, 3},
    {"flush.commit", "index repoint", "commit record (about to be written)", SC_FLUSH, 3},
    {"flush.committed", "commit record", "the next flush's account files", SC_FLUSH, 3},
    /* an index checkpoint after a flush's commit (index_checkpoint_sz 1 in SC_FLUSH) */
    {"checkpoint.written", "index-<gen> of the commit just written (not synced)",
     "the next commit record, naming it as the base", SC_FLUSH, 2},
    /* inside a commit record (flush's third) */
    {"commit.catalog", "catalog-<gen> (written, fdatasynced, directory fsynced)",
     "the commit slot (pwrite, fdatasync)", SC_FLUSH, 3},
    {"commit.slot", "the commit slot (pwrite, fdatasync)",
     "unlink of the catalog the overwritten slot named", SC_FLUSH, 3},
    /* shrink */
    {"shrink.begin", "the previous commit record", "copies of the live records", SC_SHRINK, 2},
    {"shrink.copied", "copies of the live records", "fdatasync of the segments", SC_SHRINK, 2},
    {"shrink.synced", "fdatasync of the segments", "index repoint", SC_SHRINK, 2},
    {"shrink.repointed", "index repoint", "commit record", SC_SHRINK, 2},
    {"shrink.commit", "index repoint", "commit record (about to be written)", SC_SHRINK, 2},
    {"shrink.committed", "commit record no longer naming the old files", "retiring their extents",
     SC_SHRINK, 2},
    {"shrink.end", "old extents retired", "their holes punched", SC_SHRINK, 2},
    {"punch.begin", "commit record no longer naming the extents", "hole punch", SC_PUNCH, 1},
    {"punch.end", "hole punch", "the next commit record", SC_PUNCH, 1},
    /* snapshots: the full one, then (nth 2) the incremental */
    {"snapshot.begin", "flush of the root", "the temporary archive", SC_SNAPSHOT, 2},
    {"snapshot.created", "temporary archive created", "archive bytes", SC_SNAPSHOT, 1},
    {"snapshot.written", "archive bytes", "fsync of the archive", SC_SNAPSHOT, 2},
    {"snapshot.synced", "fsync of the archive", "rename to its final name", SC_SNAPSHOT, 1},
    {"snapshot.renamed", "rename to its final name", "fsync of the directory", SC_SNAPSHOT, 2},
    {"snapshot.dirsynced", "fsync of the directory", "the registration commit record", SC_SNAPSHOT,
     1},
    {"snapshot.register", "fsync of the directory",
     "the registration commit record (about to be written)", SC_SNAPSHOT, 1},
    {"snapshot.registered", "the registration commit record", "retention of older archives",
     SC_SNAPSHOT, 2},
};
#define PAIR_CNT (sizeof g_pairs / sizeof g_pairs[0])

/* Points that fire in these runs but mark no write boundary of their own. */
static char const *const g_other_points[] = {"clean.begin", "clean.end"};

#define SLOTS_MAX (1u << 14)
#define KEYS_MAX  (1u << 18)

/* The shared page: what the child records, read by the parent after the kill. */
typedef struct ref {
    uint64_t slot1; /* slot + 1; 0: not rooted */
    uint64_t cap;
    uint8_t  ck[32];
} ref_t;

typedef struct shm {
    int              target; /* index into g_pairs */
    _Atomic unsigned fired;  /* times the target fired */
    _Atomic uint64_t durable;
    _Atomic uint64_t keys_cnt;
    char             unknown[128]; /* a point not enumerated */
    char             err[512];
    ref_t            ref[SLOTS_MAX];
    acctdb_pubkey_t  keys[KEYS_MAX];
} shm_t;

static shm_t *g_sh;

/* ---- the child -------------------------------------------------------------- */

static void __attribute__((noreturn)) child_fail(char const *what, char const *msg) {
    snprintf(g_sh->err, sizeof g_sh->err, "%s: %s", what, msg);
    _exit(3);
}

static bool
known_point(char const *name) {
    for (size_t i = 0; i < PAIR_CNT; i++)
        if (!strcmp(g_pairs[i].point, name)) return true;
    for (size_t i = 0; i < sizeof g_other_points / sizeof *g_other_points; i++)
        if (!strcmp(g_other_points[i], name)) return true;
    return false;
}

static void
point_hook(void *ctx, char const *name, uint64_t arg) {
    shm_t *sh = ctx;
    if (!known_point(name) && !sh->unknown[0])
        snprintf(sh->unknown, sizeof sh->unknown, "%s", name);
    size_t n = strlen(name);
    if (n > 10 && !strcmp(name + n - 10, ".committed")) atomic_store(&sh->durable, arg);
    if (n > 11 && !strcmp(name + n - 11, ".registered")) atomic_store(&sh->durable, arg);
    pair_t const *p = &g_pairs[sh->target];
    if (!strcmp(name, p->point) && atomic_fetch_add(&sh->fired, 1) + 1 == p->nth) raise(SIGKILL);
}

/* Lists the pubkeys of each rooted slot (linear search is fine: the runs
 * are small) and records the slot's lattice checksum and capitalization. */
static void
root_hook(void *ctx, acctdb_slot_changes_t const *c) {
    shm_t *sh = ctx;
    for (size_t i = 0; i < c->cnt; i++) {
        uint64_t n = atomic_load(&sh->keys_cnt), k;
        for (k = 0; k < n && memcmp(sh->keys[k].b, c->accounts[i].pubkey.b, 32); k++) {
        }
        if (k < n) continue;
        if (n == KEYS_MAX) child_fail("root hook", "too many keys");
        sh->keys[n] = c->accounts[i].pubkey;
        atomic_store(&sh->keys_cnt, n + 1);
    }
    if (c->slot >= SLOTS_MAX) child_fail("root hook", "slot too large");
    ref_t *r = &sh->ref[c->slot];
    r->cap = c->info->capitalization;
    memcpy(r->ck, c->info->lt_checksum, 32);
    atomic_thread_fence(memory_order_release);
    r->slot1 = c->slot + 1;
}

static void
cfg_of(acctdb_db_config_t *cfg) {
    acctdb_db_config_default(cfg);
    cfg->background = false;
    cfg->owner_index = true;
    cfg->threads = 1;
    cfg->index_bins = 64;
    cfg->shrink_ratio = 0.95;
    cfg->shrink_per_file = true;
}

/* A workload chunk, then a bank on its surviving tip rooted at once, so the
 * next chunk (which starts at the root) finds no slot in use above it. */
static void
workload(acctdb_db_t *db, uint64_t slots, uint64_t seed) {
    acctdb_workload_opts_t o;
    acctdb_workload_opts_default(&o);
    o.slots = slots;
    o.forks = 2;
    o.fork_frac = 0.2;
    o.root_lag = 2;
    o.stores_min = 20;
    o.stores_max = 80;
    o.new_account_frac = 0.05;
    o.close_frac = 0.02;
    o.known_max = 512;
    o.service_every = 1;
    o.seed = seed;
    acctdb_workload_result_t w;
    if (acctdb_db_workload(db, &o, &w)) child_fail("workload", acctdb_db_errmsg(db));
    uint64_t           s = w.last_slot + 1;
    acctdb_bank_meta_t m = {.transaction_count = w.tip_info.meta.transaction_count + 1,
                            .signature_count = 1,
                            .unix_timestamp = w.tip_info.meta.unix_timestamp + 1};
    m.blockhash.b[0] = (uint8_t)s;
    m.blockhash.b[1] = (uint8_t)(s >> 8);
    m.blockhash.b[31] = 0x5e;
    if (acctdb_db_bank_begin(db, s, w.tip_slot, m.unix_timestamp) ||
        acctdb_db_freeze(db, s, &m, NULL) || acctdb_db_root(db, s))
        child_fail("sealing the chunk", acctdb_db_errmsg(db));
    for (int k = 0; k < ACCTDB_SERVICE_CNT; k++)
        if (acctdb_db_service_step(db, (acctdb_service_t)k) < 0)
            child_fail("service step", acctdb_db_errmsg(db));
}

#define FULL_NAME "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define INC_NAME  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"

static void __attribute__((noreturn))
child_main(int scenario, char const *genesis, char const *dbdir, char const *arch) {
    acctdb_db_config_t cfg;
    cfg_of(&cfg);
    char         msg[512];
    acctdb_db_t *db = NULL;
    acctdb_sim_set_point_hook(point_hook, g_sh);
    if (scenario == SC_CREATE) {
        acctdb_db_source_t src = {.full_path = adb_test_data(FULL_NAME),
                                  .incremental_path = adb_test_data(INC_NAME)};
        if (acctdb_db_create(&db, dbdir, &src, &cfg, msg, sizeof msg)) child_fail("create", msg);
        acctdb_db_close(db);
        _exit(0);
    }
    /* An index checkpoint after every flush: a kill replays from the newest;
     * in the other scenarios from the file the base's clean close wrote. */
    if (scenario == SC_FLUSH) cfg.index_checkpoint_sz = 1;
    if (acctdb_db_open(&db, dbdir, &cfg, msg, sizeof msg)) child_fail("open", msg);
    acctdb_db_set_root_hook(db, root_hook, g_sh);
    switch (scenario) {
    case SC_FLUSH:
    case SC_SHRINK:
        for (uint64_t i = 0; i < 4; i++)
            workload(db, 30, i);
        break;
    case SC_PUNCH:
        workload(db, 60, 1);
        acctdb_db_close(db); /* reclaims everything: the retired extents are punched */
        _exit(0);
    case SC_SNAPSHOT:
        for (uint64_t i = 0; i < 3; i++) {
            workload(db, 20, 10 + i);
            if (acctdb_db_snapshot(db, arch, i == 1, NULL))
                child_fail("snapshot", acctdb_db_errmsg(db));
        }
        break;
    }
    acctdb_db_close(db);
    _exit(0);
}

/* ---- the parent's checks --------------------------------------------------------- */

static uint8_t g_big[ACCTDB_MIX_DATA_MAX];

static ref_t const *
ref_of(uint64_t slot) {
    return slot < SLOTS_MAX && g_sh->ref[slot].slot1 == slot + 1 ? &g_sh->ref[slot] : NULL;
}

static void
check_accounts(acctdb_db_t *db, uint64_t root, ref_t const *ref) {
    acctdb_lthash_t lt;
    acctdb_lthash_zero(&lt);
    uint64_t cap = 0, n = atomic_load(&g_sh->keys_cnt);
    for (uint64_t i = 0; i < n; i++) {
        acctdb_account_t a;
        int rc = acctdb_db_load(db, root, &g_sh->keys[i], &a, g_big, sizeof g_big, NULL);
        if (rc == ACCTDB_ERR_NOT_FOUND) continue;
        if (rc)
            fail_msg("load at the root %llu: %s", (unsigned long long)root, acctdb_db_errmsg(db));
        acctdb_lthash_add_accounts(&lt, &a, 1, ACCTDB_LTHASH_CURRENT);
        cap += a.lamports;
    }
    uint8_t ck[32];
    acctdb_lthash_checksum(&lt, ck);
    if (memcmp(ck, ref->ck, 32))
        fail_msg("root %llu: the accounts loaded do not hash to the lattice checksum recorded "
                 "when it was rooted",
                 (unsigned long long)root);
    assert_true(cap == ref->cap);
}

static void
check_archives(char const *arch, char const *genesis) {
    DIR *d = opendir(arch);
    assert_non_null(d);
    char           names[64][256];
    size_t         n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (!strncmp(de->d_name, "tmp-snapshot-archive-", 21))
            continue; /* swept by the next writer */
        assert_true(n < 64 && strlen(de->d_name) < 256);
        snprintf(names[n++], 256, "%s", de->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        unsigned long long base = 0, slot = 0;
        char               full[8192] = "", inc[8192] = "";
        if (sscanf(names[i], "incremental-snapshot-%llu-%llu-", &base, &slot) == 2) {
            for (size_t k = 0; k < n && !full[0]; k++) {
                unsigned long long fs;
                if (!strncmp(names[k], "snapshot-", 9) &&
                    sscanf(names[k], "snapshot-%llu-", &fs) == 1 && fs == base)
                    snprintf(full, sizeof full, "%s/%s", arch, names[k]);
            }
            if (!full[0]) fail_msg("%s: an incremental without its full", names[i]);
            snprintf(inc, sizeof inc, "%s/%s", arch, names[i]);
        } else if (sscanf(names[i], "snapshot-%llu-", &slot) == 1) {
            snprintf(full, sizeof full, "%s/%s", arch, names[i]);
        } else {
            fail_msg("%s/%s: neither an archive nor a writer's temporary file", arch, names[i]);
        }
        acctdb_snapshot_opts_t o;
        memset(&o, 0, sizeof o);
        o.genesis_path = genesis;
        o.threads = 1;
        acctdb_snapshot_t *s = NULL;
        int                rc = acctdb_snapshot_open(&s, full, inc[0] ? inc : NULL, &o);
        if (rc) fail_msg("%s: %s", names[i], s ? acctdb_snapshot_errmsg(s) : acctdb_strerror(rc));
        acctdb_snapshot_info_t in;
        assert_int_equal(acctdb_snapshot_info(s, &in), 0);
        assert_true(in.verified && in.has_lt_checksum);
        assert_true(in.slot == slot);
        ref_t const *ref = ref_of(slot);
        if (!ref) fail_msg("%s: slot %llu was never rooted", names[i], slot);
        assert_memory_equal(in.lt_checksum, ref->ck, 32);
        assert_true(in.capitalization == ref->cap);
        acctdb_snapshot_close(s);
    }
    if (n) {
        char full[4096], inc[4096], msg[512];
        assert_int_equal(
            acctdb_snapshot_find(arch, full, sizeof full, inc, sizeof inc, msg, sizeof msg), 0);
        assert_null(strstr(full, "tmp-snapshot-archive-"));
        assert_null(strstr(inc, "tmp-snapshot-archive-"));
    }
}

static void
check_db(pair_t const *p, char const *dbdir, char const *arch, char const *genesis) {
    acctdb_db_config_t cfg;
    cfg_of(&cfg);
    acctdb_db_t *db = NULL;
    char         msg[512];
    int          rc = acctdb_db_open(&db, dbdir, &cfg, msg, sizeof msg);
    if (p->scenario == SC_CREATE && strcmp(p->point, "create.committed")) {
        /* No first commit record: no database, and open says so. */
        if (rc != ACCTDB_ERR_NOT_FOUND)
            fail_msg("open after a creation killed at %s: %s (%s), want NOT_FOUND", p->point,
                     acctdb_strerror(rc), msg);
        print_message("  %-20s %s | %s: not a database (%s)\n", p->point, p->first, p->second, msg);
        return;
    }
    if (rc) fail_msg("reopen after a kill at %s: %s (%s)", p->point, acctdb_strerror(rc), msg);
    uint64_t          durable = 0, root = acctdb_db_root_slot(db, &durable);
    acctdb_db_stats_t st;
    assert_int_equal(acctdb_db_stats(db, &st), 0);
    print_message("  %-20s %s | %s: reopened at root %llu (reported durable %llu); index %s\n",
                  p->point, p->first, p->second, (unsigned long long)root,
                  (unsigned long long)atomic_load(&g_sh->durable), st.index_reason);
    assert_true(root >= atomic_load(&g_sh->durable));
    assert_true(durable == root);
    ref_t const *ref = ref_of(root);
    if (!ref)
        fail_msg("reopened at root %llu, which the child never rooted", (unsigned long long)root);
    acctdb_bank_info_t info;
    assert_int_equal(acctdb_db_bank_info(db, root, &info), 0);
    assert_memory_equal(info.lt_checksum, ref->ck, 32);
    assert_true(info.capitalization == ref->cap);
    if (acctdb_db_verify(db, msg, sizeof msg)) fail_msg("verify: %s", msg);
    if (acctdb_db_check(db, msg, sizeof msg)) fail_msg("check: %s", msg);
    check_accounts(db, root, ref);
    acctdb_db_close(db);
    check_archives(arch, genesis);
}

/* The genesis accounts: the first keys of the list, and the reference of
 * slot 0 (a database created from the genesis holds exactly them). */
typedef struct gsum {
    acctdb_lthash_t lt;
    uint64_t        cap;
} gsum_t;

static int
add_key(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    gsum_t *g = ctx;
    g_sh->keys[g_sh->keys_cnt++] = a->pubkey;
    acctdb_lthash_add_accounts(&g->lt, a, 1, ACCTDB_LTHASH_CURRENT);
    g->cap += a->lamports;
    return 0;
}

static void
run_pair(size_t i) {
    pair_t const *p = &g_pairs[i];
    char         *tmp = adb_test_mkdtemp(), genesis[4200], dbdir[4200], arch[4200], msg[512];
    assert_non_null(tmp);
    snprintf(genesis, sizeof genesis, "%s/genesis.bin", tmp);
    snprintf(dbdir, sizeof dbdir, "%s/db", tmp);
    snprintf(arch, sizeof arch, "%s/archives", tmp);
    assert_int_equal(mkdir(arch, 0755), 0);
    memset(g_sh, 0, sizeof *g_sh);
    g_sh->target = (int)i;
    acctdb_cluster_opts_t co;
    acctdb_cluster_opts_default(&co);
    co.slots_per_epoch = 64;
    co.seed = adb_test_seed();
    if (acctdb_cluster_genesis_write(&co, genesis, msg, sizeof msg)) fail_msg("genesis: %s", msg);
    /* The reference of the database at creation: the genesis accounts. */
    acctdb_snapshot_opts_t so;
    memset(&so, 0, sizeof so);
    so.threads = 1;
    acctdb_snapshot_t *g = NULL;
    gsum_t             gs;
    acctdb_lthash_zero(&gs.lt);
    gs.cap = 0;
    int rc = p->scenario == SC_CREATE
                 ? acctdb_snapshot_open(&g, adb_test_data(FULL_NAME), adb_test_data(INC_NAME), &so)
                 : acctdb_genesis_open(&g, genesis, &so);
    if (rc) fail_msg("reference: %s", g ? acctdb_snapshot_errmsg(g) : acctdb_strerror(rc));
    acctdb_snapshot_info_t gi;
    assert_int_equal(acctdb_snapshot_info(g, &gi), 0);
    assert_int_equal(acctdb_snapshot_iterate(g, NULL, add_key, &gs), 0);
    acctdb_snapshot_close(g);
    uint64_t s0 = p->scenario == SC_CREATE ? gi.slot : 0;
    g_sh->ref[s0] = (ref_t){s0 + 1, gs.cap, {0}};
    acctdb_lthash_checksum(&gs.lt, g_sh->ref[s0].ck);
    if (p->scenario != SC_CREATE) {
        acctdb_db_config_t cfg;
        cfg_of(&cfg);
        acctdb_db_source_t src = {.genesis_path = genesis};
        acctdb_db_t       *db = NULL;
        if (acctdb_db_create(&db, dbdir, &src, &cfg, msg, sizeof msg)) fail_msg("create: %s", msg);
        acctdb_db_close(db);
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child_main(p->scenario, genesis, dbdir, arch);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (g_sh->unknown[0])
        fail_msg("point %s fired but is not enumerated in g_pairs (add its pair)", g_sh->unknown);
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
        fail_msg("%s: the child %s %d without dying there (fired %u times, wanted %u)%s%s",
                 p->point, WIFSIGNALED(st) ? "died of signal" : "exited with",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), atomic_load(&g_sh->fired),
                 p->nth, g_sh->err[0] ? ": " : "", g_sh->err);
    assert_true(atomic_load(&g_sh->fired) == p->nth); /* it died at the point, as recorded */
    check_db(p, dbdir, arch, genesis);
    adb_test_rmtree(tmp);
    free(tmp);
}

static void
test_dependent_writes(void **state) {
    (void)state;
    g_sh = mmap(NULL, sizeof *g_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(g_sh != MAP_FAILED);
    for (size_t i = 0; i < PAIR_CNT; i++)
        run_pair(i);
    munmap(g_sh, sizeof *g_sh);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_dependent_writes),
};

ADB_TEST_GROUP(points, tests);
