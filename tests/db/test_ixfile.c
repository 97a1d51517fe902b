/* The index file (src/db/db_ixfile.c): a graceful close writes index-<gen>
 * before its CLEAN commit, which names it; the next open loads it instead
 * of scanning every storage.  Services are stepped (cfg.background off).
 *
 *   load_same     a workload on forks (owner index on, closures, shrink,
 *                 clean) then close: the reopen loads the index file, and
 *                 holds exactly what the engine held before the close: every
 *                 key's storage versions (DEAD flags included), each
 *                 storage's alive counters, the owner, token and mint pairs,
 *                 the clean candidates; every account, owner and token scan
 *                 reads the same, check and verify pass.  A reopen with the
 *                 file removed rebuilds and reads the same accounts and
 *                 scans, and a rebuild by one thread holds exactly what one by
 *                 four holds.  The first commit after the load names no index
 *                 file, the one after it removes the file; stray index
 *                 files are swept at open
 *   damaged       the file with a flipped byte (in a key, in the middle, in
 *                 the header, in the checksum), truncated, or of another
 *                 commit: the open rebuilds saying why, the database reads
 *                 as before; its close writes a good file again
 *   killed        a process that opens, commits a root and is SIGKILLed:
 *                 the reopen rebuilds ("no clean shutdown") at that root;
 *                 one killed before any commit leaves the file valid: loaded
 *   write_fails   the handle's I/O table fails the index file at close: a
 *                 failed open or write (EIO, ENOSPC) leaves no file and a
 *                 CLEAN commit naming none (close returns 0); a failed
 *                 fdatasync is fatal: close reports it, no CLEAN commit; a
 *                 failed read at open rebuilds.  Each time the next open is
 *                 correct
 *   config        a file written without the owner index does not serve an
 *                 open that wants it (rebuilt), one written with it serves an
 *                 open without it (loaded, only the watched owners kept); a
 *                 change of index_bins rebuilds */
#include "../test.h"

#include "api/api_private.h"
#include "db/db.h"
#include "db/db_private.h"
#include "hash/blake3.h"
#include "index/owner.h"
#include "util/io.h"

#include "acctdb.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB_OK(db, expr)                                                                            \
    do {                                                                                           \
        int _rc = (expr);                                                                          \
        if (_rc < 0) {                                                                             \
            print_message("%s:%d: %s failed: %s (%d): %s\n", __FILE__, __LINE__, #expr,            \
                          acctdb_strerror(_rc), _rc, acctdb_db_errmsg(db));                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- helpers -------------------------------------------------------------------- */

static uint8_t g_data[11u << 20];

static void
cfg_stepped(acctdb_db_config_t *c, bool owner_index) {
    acctdb_db_config_default(c);
    c->background = false;
    c->index_bins = 64;
    c->threads = 2;
    c->owner_index = owner_index;
}

static void
join(char *out, char const *a, char const *b) {
    int n = snprintf(out, 4096, "%s/%s", a, b);
    assert_true(n > 0 && n < 4096);
}

static bool
exists(char const *dir, char const *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return lstat(p, &st) == 0;
}

static acctdb_db_t *
open_io(char const *dir, acctdb_db_config_t const *cfg, adb_io_t const *io) {
    acctdb_db_t *db = NULL;
    char         msg[1024];
    int          rc = adb_api_db_open_io(&db, dir, cfg, io ? io : adb_io(), msg, sizeof msg);
    if (rc) print_message("open %s: %s (%s)\n", dir, msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
    return db;
}

static acctdb_db_t *
open_ok(char const *dir, acctdb_db_config_t const *cfg) {
    return open_io(dir, cfg, NULL);
}

static void
close_ok(acctdb_db_t *db) {
    char msg[1024];
    int  rc = acctdb_db_shutdown(db, NULL, msg, sizeof msg);
    if (rc) print_message("close: %s (%s)\n", msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
}

static acctdb_db_stats_t
stats_of(acctdb_db_t *db) {
    acctdb_db_stats_t st;
    DB_OK(db, acctdb_db_stats(db, &st));
    return st;
}

/* The index was loaded from index-<gen>, or rebuilt for a reason holding
 * `why`. */
static void
expect_loaded(acctdb_db_t *db, uint64_t gen) {
    acctdb_db_stats_t st = stats_of(db);
    char              want[64];
    snprintf(want, sizeof want, "loaded from index-%llu", (unsigned long long)gen);
    if (st.index_rebuilt || strcmp(st.index_reason, want))
        print_message("index at open: rebuilt %d (%s), wanted %s\n", st.index_rebuilt,
                      st.index_reason, want);
    assert_false(st.index_rebuilt);
    assert_string_equal(st.index_reason, want);
}

static void
expect_rebuilt(acctdb_db_t *db, char const *why) {
    acctdb_db_stats_t st = stats_of(db);
    if (!st.index_rebuilt || !strstr(st.index_reason, why))
        print_message("index at open: rebuilt %d (%s), wanted a rebuild for \"%s\"\n",
                      st.index_rebuilt, st.index_reason, why);
    assert_true(st.index_rebuilt);
    assert_non_null(strstr(st.index_reason, why));
}

/* Loaded from the base index-<gen> and `storages` storages replayed
 * (UINT32_MAX: any number). */
static void
expect_replayed(acctdb_db_t *db, uint64_t gen, uint32_t storages) {
    acctdb_db_stats_t  st = stats_of(db);
    char               want[64];
    unsigned long long root;
    unsigned           n;
    snprintf(want, sizeof want, "loaded from index-%llu (root ", (unsigned long long)gen);
    bool ok =
        !st.index_rebuilt && !strncmp(st.index_reason, want, strlen(want)) &&
        sscanf(st.index_reason + strlen(want), "%llu) and %u storages replayed", &root, &n) == 2 &&
        (storages == UINT32_MAX || n == storages);
    if (!ok)
        print_message("index at open: rebuilt %d (%s), wanted %s...) and %u storages replayed\n",
                      st.index_rebuilt, st.index_reason, want, storages);
    assert_true(ok);
}

static adb_db_commit_info_t
peek(char const *dir) {
    adb_db_commit_info_t ci;
    adb_err_t            e = {0};
    int                  rc = adb_db_commit_peek(dir, &ci, &e);
    if (rc) print_message("peek %s: %s\n", dir, e.msg);
    assert_int_equal(rc, 0);
    return ci;
}

static void
check_verify(acctdb_db_t *db) {
    char msg[1024] = "";
    int  rc = acctdb_db_check(db, msg, sizeof msg);
    if (rc) print_message("acctdb_db_check: %s\n", msg);
    assert_int_equal(rc, 0);
    rc = acctdb_db_verify(db, msg, sizeof msg);
    if (rc) print_message("acctdb_db_verify: %s\n", msg);
    assert_int_equal(rc, 0);
}

/* A workload of `slots` banks on up to 3 forks (closures included),
 * every service stepped after every other root. */
static void
workload(acctdb_db_t *db, uint64_t slots, uint64_t seed) {
    acctdb_workload_opts_t o;
    acctdb_workload_opts_default(&o);
    o.slots = slots;
    o.forks = 3;
    o.fork_frac = 0.3;
    o.seed = seed;
    o.stores_min = 20;
    o.stores_max = 60;
    o.new_account_frac = 0.3;
    o.close_frac = 0.1;
    o.root_lag = 4;
    o.service_every = 2;
    acctdb_workload_result_t r;
    DB_OK(db, acctdb_db_workload(db, &o, &r));
    assert_true(r.closed > 0 && r.slots_rooted > 0);
}

/* A new root on the current one storing one account, then a flush (one
 * commit).  Returns the new root. */
static uint64_t
root_and_flush(acctdb_db_t *db, uint8_t k0) {
    uint64_t         root = acctdb_db_root_slot(db, NULL), s = root + 1;
    acctdb_account_t a;
    memset(&a, 0, sizeof a);
    a.pubkey.b[0] = k0;
    a.pubkey.b[1] = 0x1f;
    a.lamports = 1000000 + s;
    a.data = g_data;
    a.data_len = 40;
    DB_OK(db, acctdb_db_store(db, s, root, &a, 1));
    acctdb_bank_meta_t m = {0};
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
    DB_OK(db, acctdb_db_root(db, s));
    assert_true(acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH) >= 0);
    uint64_t durable = 0;
    assert_int_equal(acctdb_db_root_slot(db, &durable), s);
    assert_int_equal(durable, s);
    return s;
}

static void
copy_dir(char const *from, char const *to) {
    assert_int_equal(adb_test_sh(NULL, 0, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to), 0);
}

static void
ix_path(char *out, char const *dir, uint64_t gen) {
    snprintf(out, 4200, "%s/index-%llu", dir, (unsigned long long)gen);
}

/* ---- what the engine holds ---------------------------------------------------- */

typedef struct kdig {
    uint8_t key[32];
    uint8_t dig[32];
} kdig_t;

typedef struct pair {
    uint8_t a[32], b[32];
} pair_t;

typedef struct fileinfo {
    uint64_t slot, valid_len, alive_bytes, alive_cnt;
} fileinfo_t;

typedef struct state {
    kdig_t           *keys; /* every key: its storage versions (file numbers left out) */
    size_t            nkeys, capkeys;
    fileinfo_t        files[4096];
    size_t            nfiles;
    pair_t           *pairs[3]; /* owners, tokens, mints */
    size_t            npairs[3], cappairs[3];
    pair_t           *cands; /* b unused */
    size_t            ncands;
    pair_t           *spairs[3]; /* the pairs scans_digest picks owners from */
    size_t            nspairs[3];
    acctdb_db_stats_t st;
} state_t;

static int
cmp64(void const *a, void const *b) {
    return memcmp(a, b, 64);
}

static int
cmp32(void const *a, void const *b) {
    return memcmp(a, b, 32);
}

static int
cmp_file(void const *a, void const *b) {
    fileinfo_t const *x = a, *y = b;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int
key_cb(void *ctx, uint8_t const key[32], adb_index_ver_t const *v, size_t cnt) {
    state_t     *s = ctx;
    adb_blake3_t h;
    adb_blake3_init(&h);
    size_t n = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (adb_val_is_cache(v[i].val)) continue;
        /* The slot, the record's offset and the DEAD and zero-lamport
         * flags; the storage's number changes at reopen. */
        uint64_t x[2] = {v[i].slot, v[i].val & ~(0x3FFFFFFFull << 32)};
        adb_blake3_update(&h, x, sizeof x);
        n++;
    }
    if (!n) return 0;
    if (s->nkeys == s->capkeys) {
        s->capkeys = s->capkeys ? 2 * s->capkeys : 4096;
        s->keys = realloc(s->keys, s->capkeys * sizeof *s->keys);
        assert_non_null(s->keys);
    }
    memcpy(s->keys[s->nkeys].key, key, 32);
    adb_blake3_finalize(&h, s->keys[s->nkeys].dig, 32);
    s->nkeys++;
    return 0;
}

typedef struct pair_ctx {
    state_t *s;
    int      which;
} pair_ctx_t;

static int
pair_cb(void *ctx, acctdb_pubkey_t const *owner, acctdb_pubkey_t const *keys, size_t n) {
    pair_ctx_t *c = ctx;
    state_t    *s = c->s;
    int         w = c->which;
    for (size_t i = 0; i < n; i++) {
        if (s->npairs[w] == s->cappairs[w]) {
            s->cappairs[w] = s->cappairs[w] ? 2 * s->cappairs[w] : 4096;
            s->pairs[w] = realloc(s->pairs[w], s->cappairs[w] * sizeof(pair_t));
            assert_non_null(s->pairs[w]);
        }
        memcpy(s->pairs[w][s->npairs[w]].a, owner->b, 32);
        memcpy(s->pairs[w][s->npairs[w]].b, keys[i].b, 32);
        s->npairs[w]++;
    }
    return 0;
}

/* Everything the open rebuilds or loads, as the engine holds it now. */
static void
capture(acctdb_db_t *h, state_t *s) {
    memset(s, 0, sizeof *s);
    s->st = stats_of(h);
    adb_db_t  *db = h->db;
    adb_eng_t *e = db->eng;
    for (uint32_t b = 0; b < adb_index_bin_cnt(db->ix); b++)
        assert_int_equal(adb_index_bin_vvisit(db->ix, b, key_cb, s), 0);
    if (s->nkeys) qsort(s->keys, s->nkeys, sizeof *s->keys, cmp64);
    for (uint32_t i = 0; i < adb_db_file_cnt(db); i++) {
        adb_db_file_t const *f = adb_db_file(db, i);
        if (atomic_load(&f->replaced)) continue;
        assert_true(s->nfiles < 4096);
        s->files[s->nfiles++] = (fileinfo_t){f->slot, f->valid_len, atomic_load(&f->alive_bytes),
                                             atomic_load(&f->alive_cnt)};
    }
    qsort(s->files, s->nfiles, sizeof *s->files, cmp_file);
    adb_owner_ix_t *oix[3] = {e->owners, e->tokens, e->mints};
    for (int w = 0; w < 3; w++) {
        pair_ctx_t c = {s, w};
        if (oix[w]) assert_int_equal(adb_owner_visit(oix[w], pair_cb, &c), 0);
        if (s->npairs[w]) qsort(s->pairs[w], s->npairs[w], sizeof(pair_t), cmp64);
    }
    pthread_mutex_lock(&e->cand_mu);
    size_t n = e->cand_cnt + e->parked_cnt;
    s->cands = calloc(n ? n : 1, sizeof *s->cands);
    assert_non_null(s->cands);
    for (size_t i = 0; i < e->cand_cnt; i++)
        memcpy(s->cands[s->ncands++].a, e->cand[i].b, 32);
    for (size_t i = 0; i < e->parked_cnt; i++)
        memcpy(s->cands[s->ncands++].a, e->parked[i].key.b, 32);
    pthread_mutex_unlock(&e->cand_mu);
    qsort(s->cands, s->ncands, sizeof *s->cands, cmp32);
    size_t u = 0; /* as a set */
    for (size_t i = 0; i < s->ncands; i++)
        if (!u || memcmp(s->cands[u - 1].a, s->cands[i].a, 32)) s->cands[u++] = s->cands[i];
    s->ncands = u;
}

static void
state_fini(state_t *s) {
    free(s->keys);
    for (int w = 0; w < 3; w++) {
        free(s->pairs[w]);
        free(s->spairs[w]);
    }
    free(s->cands);
}

/* x and y hold the same index, counters, pairs and candidates. */
static void
expect_same_state(state_t const *x, state_t const *y) {
    assert_int_equal(x->nkeys, y->nkeys);
    assert_memory_equal(x->keys, y->keys, x->nkeys * sizeof *x->keys);
    assert_int_equal(x->nfiles, y->nfiles);
    assert_memory_equal(x->files, y->files, x->nfiles * sizeof *x->files);
    for (int w = 0; w < 3; w++) {
        assert_int_equal(x->npairs[w], y->npairs[w]);
        if (x->npairs[w])
            assert_memory_equal(x->pairs[w], y->pairs[w], x->npairs[w] * sizeof(pair_t));
    }
    assert_int_equal(x->ncands, y->ncands);
    if (x->ncands) assert_memory_equal(x->cands, y->cands, x->ncands * sizeof *x->cands);
    assert_int_equal(x->st.storages, y->st.storages);
    assert_int_equal(x->st.storage_bytes, y->st.storage_bytes);
    assert_int_equal(x->st.storage_alive_bytes, y->st.storage_alive_bytes);
    assert_int_equal(x->st.segments, y->st.segments);
    assert_int_equal(x->st.owner_index_keys, y->st.owner_index_keys);
}

/* ---- what reads see ------------------------------------------------------------ */

static void
acct_hash(adb_blake3_t *h, int rc, acctdb_account_t const *a, uint64_t slot) {
    adb_blake3_update(h, &rc, sizeof rc);
    if (rc) return;
    adb_blake3_update(h, a->pubkey.b, 32);
    adb_blake3_update(h, a->owner.b, 32);
    uint64_t f[4] = {a->lamports, a->rent_epoch, a->data_len, slot};
    adb_blake3_update(h, f, sizeof f);
    adb_blake3_update(h, &a->executable, 1);
    adb_blake3_update(h, a->data, a->data_len);
}

/* Every key of keys[] loaded at the root: one digest each into out. */
static void
load_all(acctdb_db_t *db, kdig_t const *keys, size_t n, uint8_t (*out)[32]) {
    uint64_t root = acctdb_db_root_slot(db, NULL);
    for (size_t i = 0; i < n; i++) {
        acctdb_pubkey_t  k;
        acctdb_account_t a;
        uint64_t         at = 0;
        memcpy(k.b, keys[i].key, 32);
        int rc = acctdb_db_load(db, root, &k, &a, g_data, sizeof g_data, &at);
        assert_true(rc == 0 || rc == ACCTDB_ERR_NOT_FOUND);
        adb_blake3_t h;
        adb_blake3_init(&h);
        acct_hash(&h, rc, &a, at);
        adb_blake3_finalize(&h, out[i], 32);
    }
}

static int
scan_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    acct_hash(ctx, 0, a, slot);
    return 0;
}

/* One digest of the owner scans of every owner in pairs (at most 24 of
 * them, the system program's first), and of the token scans by token owner
 * and by mint of up to 16 of each. */
static void
scans_digest(acctdb_db_t *db, state_t const *s, uint8_t out[32]) {
    uint64_t     root = acctdb_db_root_slot(db, NULL);
    adb_blake3_t h;
    adb_blake3_init(&h);
    size_t done = 0;
    for (size_t i = 0; i < s->nspairs[0] && done < 24; i++) {
        if (i && !memcmp(s->spairs[0][i].a, s->spairs[0][i - 1].a, 32)) continue;
        acctdb_scan_filter_t f;
        memset(&f, 0, sizeof f);
        memcpy(f.owner.b, s->spairs[0][i].a, 32);
        acctdb_pubkey_t next;
        bool            more;
        DB_OK(db, acctdb_db_scan(db, root, &f, NULL, 0, scan_cb, &h, &next, &more));
        assert_false(more);
        done++;
    }
    for (int w = 1; w < 3; w++)
        for (size_t i = 0, k = 0; i < s->nspairs[w] && k < 16; i++) {
            if (i && !memcmp(s->spairs[w][i].a, s->spairs[w][i - 1].a, 32)) continue;
            acctdb_pubkey_t key, next;
            bool            more;
            memcpy(key.b, s->spairs[w][i].a, 32);
            DB_OK(db, acctdb_db_token_scan(db, root, &key, w == 2, NULL, NULL, 0, scan_cb, &h,
                                           &next, &more));
            k++;
        }
    assert_true(done > 1);
    adb_blake3_finalize(&h, out, 32);
}

/* The reads of db equal those of the reference (ref: loads of its keys,
 * ref_scans: its scans). */
static void
expect_same_reads(acctdb_db_t *db, state_t const *keys, uint8_t (*ref)[32],
                  uint8_t const ref_scans[32]) {
    uint8_t(*got)[32] = malloc((keys->nkeys ? keys->nkeys : 1) * 32);
    assert_non_null(got);
    load_all(db, keys->keys, keys->nkeys, got);
    for (size_t i = 0; i < keys->nkeys; i++)
        if (memcmp(got[i], ref[i], 32)) {
            char hex[65];
            adb_test_hex(hex, keys->keys[i].key, 32);
            fail_msg("key %s reads differently", hex);
        }
    free(got);
    uint8_t sc[32];
    scans_digest(db, keys, sc);
    assert_memory_equal(sc, ref_scans, 32);
    check_verify(db);
}

/* ---- 1. load_same ------------------------------------------------------------------ */

/* A database at dir after a workload, closed; its state before the close
 * in *before, its reads in ref / ref_scans (malloc'ed). */
static void
make_base(char const *dir, state_t *before, uint8_t (**ref)[32], uint8_t ref_scans[32]) {
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);
    acctdb_db_t *db = adb_test_create_pair(dir, &cfg);
    workload(db, adb_test_scaled(400), adb_test_seed());
    /* Flushed now, so that the close's flush has nothing left to do; the
     * reads go first (loads add owner pairs, scans prune them), so that
     * the state captured last is the one the close writes. */
    assert_true(acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH) >= 0);
    state_t keys;
    capture(db, &keys);
    *ref = malloc((keys.nkeys ? keys.nkeys : 1) * 32);
    assert_non_null(*ref);
    load_all(db, keys.keys, keys.nkeys, *ref);
    for (int w = 0; w < 3; w++) {
        keys.spairs[w] = keys.pairs[w];
        keys.nspairs[w] = keys.npairs[w];
    }
    scans_digest(db, &keys, ref_scans);
    for (int w = 0; w < 3; w++)
        keys.spairs[w] = NULL;
    check_verify(db);
    capture(db, before);
    assert_int_equal(before->nkeys, keys.nkeys);
    assert_memory_equal(before->keys, keys.keys, keys.nkeys * sizeof *keys.keys);
    /* The scans pick their owners from the pairs seen first. */
    for (int w = 0; w < 3; w++) {
        before->spairs[w] = keys.pairs[w];
        before->nspairs[w] = keys.npairs[w];
        keys.pairs[w] = NULL;
    }
    state_fini(&keys);
    close_ok(db);
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.flags, ADB_DB_COMMIT_CLEAN);
    assert_int_equal(ci.index_gen, ci.gen);
    char p[4200];
    ix_path(p, dir, ci.gen);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    print_message("    index-%llu: %llu bytes: %zu keys, %zu storages, %zu + %zu + %zu owner, "
                  "token and mint pairs, %zu candidates\n",
                  (unsigned long long)ci.gen, (unsigned long long)st.st_size, before->nkeys,
                  before->nfiles, before->npairs[0], before->npairs[1], before->npairs[2],
                  before->ncands);
    assert_true(before->nkeys > 0 && before->npairs[0] > 0 && before->npairs[1] > 0 &&
                before->ncands > 0);
}

static void
test_load_same(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], copy[4096], p[4200];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(copy, tmp, "rebuilt");
    state_t before, after, rebuilt;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(dir, &before, &ref, ref_scans);
    uint64_t           g = peek(dir).gen;
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);

    /* Loaded: exactly what the engine held. */
    acctdb_db_t *db = open_ok(dir, &cfg);
    expect_loaded(db, g);
    capture(db, &after);
    expect_same_state(&before, &after);
    assert_int_equal(after.st.index_keys, before.nkeys); /* keys only unrooted banks had: gone */
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    assert_int_equal(peek(dir).gen, g); /* unchanged and loaded: nothing written */

    /* Rebuilt without the file: the same reads.  (Its index may hold more
     * keys: tombstones clean removed whose records are still in their
     * storages come back until shrink drops them.) */
    copy_dir(dir, copy);
    ix_path(p, copy, g);
    assert_int_equal(unlink(p), 0);
    db = open_ok(copy, &cfg);
    expect_rebuilt(db, "no index file");
    capture(db, &rebuilt);
    assert_true(rebuilt.st.index_keys >= after.st.index_keys);
    assert_int_equal(rebuilt.st.storages, after.st.storages);
    assert_int_equal(rebuilt.st.storage_bytes, after.st.storage_bytes);
    assert_int_equal(rebuilt.st.segments, after.st.segments);
    print_message(
        "    loaded: %llu keys, %llu alive bytes, %.1f ms; rebuilt: %llu keys, %llu "
        "alive bytes, %.1f ms\n",
        (unsigned long long)after.st.index_keys, (unsigned long long)after.st.storage_alive_bytes,
        after.st.index_open_ns / 1e6, (unsigned long long)rebuilt.st.index_keys,
        (unsigned long long)rebuilt.st.storage_alive_bytes, rebuilt.st.index_open_ns / 1e6);
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    /* A rebuild by one thread and by four (each taking a part of the key
     * space through every storage) give the same index, counters, pairs
     * and candidates. */
    {
        char    c1[4096], c4[4096];
        state_t s1, s4;
        join(c1, tmp, "rebuilt1");
        join(c4, tmp, "rebuilt4");
        acctdb_db_config_t cx = cfg;
        for (int k = 0; k < 2; k++) {
            char const *cd = k ? c4 : c1;
            copy_dir(dir, cd);
            ix_path(p, cd, g);
            assert_int_equal(unlink(p), 0);
            cx.threads = k ? 4 : 1;
            acctdb_db_t *dx = open_ok(cd, &cx);
            expect_rebuilt(dx, "no index file");
            capture(dx, k ? &s4 : &s1);
            acctdb_db_close(dx);
        }
        expect_same_state(&s1, &s4);
        assert_int_equal(s1.st.index_keys, rebuilt.st.index_keys);
        state_fini(&s1);
        state_fini(&s4);
    }
    /* That close wrote the file again (the open rebuilt). */
    db = open_ok(copy, &cfg);
    expect_loaded(db, g + 1);
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    state_fini(&rebuilt);
    state_fini(&after);

    /* The commits after the load name the file as their base (an open
     * after a kill replays from it), not as clean; the close's commit names
     * its own, and the base goes once no slot names it. */
    db = open_ok(dir, &cfg);
    expect_loaded(db, g);
    root_and_flush(db, 1);
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.gen, g + 1);
    assert_int_equal(ci.index_gen, g);
    assert_int_equal(ci.flags & ADB_DB_COMMIT_CLEAN, 0);
    ix_path(p, dir, g);
    assert_true(access(p, F_OK) == 0);
    root_and_flush(db, 2);
    assert_int_equal(peek(dir).gen, g + 2);
    assert_int_equal(peek(dir).index_gen, g);
    assert_true(access(p, F_OK) == 0);
    close_ok(db);
    ci = peek(dir);
    assert_int_equal(ci.gen, g + 3);
    assert_int_equal(ci.index_gen, g + 3);
    assert_true(access(p, F_OK) == 0); /* the other slot (g + 2) still names it */

    /* Index files no valid slot names are swept at open; the named one
     * stays. */
    for (uint64_t x = 1; x <= g + 4; x++) {
        ix_path(p, dir, x == g + 3 ? 999999 : x);
        FILE *f = fopen(p, "wx");
        if (f) fclose(f);
    }
    db = open_ok(dir, &cfg);
    expect_loaded(db, g + 3);
    for (uint64_t x = 1; x <= g + 4; x++) {
        char name[64];
        snprintf(name, sizeof name, "index-%llu", (unsigned long long)x);
        assert_true(exists(dir, name) == (x == g + 3 || x == g)); /* g: the other slot's */
    }
    assert_false(exists(dir, "index-999999"));
    check_verify(db);
    close_ok(db);
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 2. damaged ------------------------------------------------------------------ */

static void
flip(char const *path, uint64_t off) {
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
    close(fd);
}

static void
test_damaged(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], copy[4096], p[4200], old[4200];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(copy, tmp, "copy");
    state_t before;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(dir, &before, &ref, ref_scans);
    uint64_t g = peek(dir).gen;
    ix_path(p, dir, g);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    uint64_t const sz = (uint64_t)st.st_size;
    /* The first key starts after the header and the storage list. */
    uint64_t const     key0 = 256 + 48 * before.nfiles;
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);

    struct {
        char const *what;
        uint64_t    flip_at; /* UINT64_MAX: truncate to half instead */
        char const *why;
    } const cases[] = {
        {"a key's byte", key0 + 5, "index file damaged: index-"},
        {"the middle", sz / 2, "index file damaged: index-"},
        {"the checksum", sz - 7, "checksum mismatch"},
        {"the magic", 2, "bad magic"},
        {"the generation", 17, "index file of another commit"},
        {"the root slot", 25, "index file of another commit"},
        {"truncated", UINT64_MAX, "index file damaged: index-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_dir(dir, copy);
        ix_path(p, copy, g);
        if (cases[i].flip_at == UINT64_MAX)
            assert_int_equal(truncate(p, (off_t)(sz / 2)), 0);
        else
            flip(p, cases[i].flip_at);
        acctdb_db_t      *db = open_ok(copy, &cfg);
        acctdb_db_stats_t s = stats_of(db);
        print_message("    %-15s -> %s\n", cases[i].what, s.index_reason);
        expect_rebuilt(db, cases[i].why);
        expect_same_reads(db, &before, ref, ref_scans);
        close_ok(db);
        /* That close wrote a good file again. */
        db = open_ok(copy, &cfg);
        expect_loaded(db, g + 1);
        expect_same_reads(db, &before, ref, ref_scans);
        close_ok(db);
    }

    /* A whole file of another commit under the name the commit gives. */
    copy_dir(dir, copy);
    acctdb_db_t *db = open_ok(copy, &cfg);
    root_and_flush(db, 7);
    close_ok(db);
    adb_db_commit_info_t ci = peek(copy);
    assert_int_equal(ci.index_gen, g + 2);
    ix_path(p, copy, g + 2);
    ix_path(old, dir, g);
    assert_int_equal(adb_test_sh(NULL, 0, "cp '%s' '%s'", old, p), 0);
    db = open_ok(copy, &cfg);
    expect_rebuilt(db, "index file of another commit");
    check_verify(db);
    close_ok(db);
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 3. killed ------------------------------------------------------------------- */

/* In a child: opens dir, commits a new root (unless !commit: only stores),
 * writes the root to fd, then SIGKILLs itself. */
static uint64_t g_kill_index_ram; /* the killed child's index: 0 all in RAM, else two tiers */
static uint64_t g_kill_ckpt;      /* its index_checkpoint_sz */
static uint64_t g_kill_slots;     /* KILL_WORKLOAD: slots */

enum { KILL_STORE, KILL_COMMIT, KILL_WORKLOAD };

static void
killed_child(char const *dir, int what, int fd) {
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);
    if (g_kill_index_ram) cfg.index_ram_bytes = g_kill_index_ram;
    cfg.index_checkpoint_sz = g_kill_ckpt;
    acctdb_db_t *db = NULL;
    char         msg[1024];
    if (acctdb_db_open(&db, dir, &cfg, msg, sizeof msg)) _exit(3);
    uint64_t root = acctdb_db_root_slot(db, NULL);
    if (what == KILL_COMMIT) {
        root = root_and_flush(db, 9);
    } else if (what == KILL_WORKLOAD) {
        /* Flushes, cleans and shrinks (stepped every other root), then the
         * rest flushed: its root is durable. */
        workload(db, g_kill_slots, adb_test_seed() ^ 0x5eed);
        if (acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH) < 0) _exit(7);
        uint64_t durable = 0;
        root = acctdb_db_root_slot(db, &durable);
        if (durable != root) _exit(8);
    } else {
        acctdb_account_t a;
        memset(&a, 0, sizeof a);
        a.pubkey.b[0] = 0x77;
        a.lamports = 5;
        if (acctdb_db_store(db, root + 1, root, &a, 1)) _exit(4);
    }
    if (write(fd, &root, sizeof root) != sizeof root) _exit(5);
    raise(SIGKILL);
    _exit(6);
}

static uint64_t
run_killed(char const *dir, int what) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        killed_child(dir, what, fds[1]);
    }
    close(fds[1]);
    uint64_t root = 0;
    assert_int_equal(read(fds[0], &root, sizeof root), sizeof root);
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    return root;
}

static void
test_killed(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    state_t before;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(dir, &before, &ref, ref_scans);
    uint64_t           g = peek(dir).gen, root0;
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);
    acctdb_db_t *db = open_ok(dir, &cfg);
    root0 = acctdb_db_root_slot(db, NULL);
    close_ok(db);

    /* Killed before any commit: the clean commit and its file still hold. */
    assert_int_equal(run_killed(dir, KILL_STORE), root0);
    assert_int_equal(peek(dir).gen, g);
    db = open_ok(dir, &cfg);
    expect_loaded(db, g);
    assert_int_equal(acctdb_db_root_slot(db, NULL), root0);
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);

    /* Killed after a commit: the clean close's file is the base, the
     * storage committed since is replayed, at the root it committed. */
    uint64_t r = run_killed(dir, KILL_COMMIT);
    assert_true(r > root0);
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.flags & ADB_DB_COMMIT_CLEAN, 0);
    assert_int_equal(ci.index_gen, g);
    db = open_ok(dir, &cfg);
    expect_replayed(db, g, 1);
    uint64_t durable = 0;
    assert_int_equal(acctdb_db_root_slot(db, &durable), r);
    assert_int_equal(durable, r);
    check_verify(db);
    close_ok(db);
    db = open_ok(dir, &cfg);
    expect_loaded(db, peek(dir).gen);
    assert_int_equal(acctdb_db_root_slot(db, NULL), r);
    check_verify(db);
    close_ok(db);
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 3b. replayed ----------------------------------------------------------------- */

/* base (closed cleanly) copied to tmp/replay; a child runs a workload there
 * with index_checkpoint_sz ckpt (and two tiers under ram, unless 0) and is
 * killed.  The open replays from the base its last commit names and reads
 * exactly as a full scan of a copy without index files does. */
static void
replay_case(char const *tmp, char const *base, uint64_t ckpt, uint64_t ram, char const *what) {
    char dir[4096], scan[4096];
    join(dir, tmp, "replay");
    join(scan, tmp, "scan");
    copy_dir(base, dir);
    uint64_t g0 = peek(dir).gen;
    g_kill_ckpt = ckpt;
    g_kill_index_ram = ram;
    g_kill_slots = adb_test_scaled(160);
    uint64_t r = run_killed(dir, KILL_WORKLOAD);
    g_kill_ckpt = g_kill_index_ram = 0;
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.flags & ADB_DB_COMMIT_CLEAN, 0);
    assert_true(ci.gen > g0 + 2);
    if (ckpt == UINT64_MAX)
        assert_int_equal(ci.index_gen, g0); /* the clean close's file */
    else
        assert_true(ci.index_gen > g0); /* a checkpoint */
    copy_dir(dir, scan);
    assert_int_equal(adb_test_sh(NULL, 0, "rm -f '%s'/index-*", scan), 0);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);
    cfg.index_ram_bytes = ram;
    acctdb_db_t *ds = open_ok(scan, &cfg);
    expect_rebuilt(ds, "is missing");
    assert_int_equal(acctdb_db_root_slot(ds, NULL), r);
    state_t ss, sr;
    capture(ds, &ss);
    for (int w = 0; w < 3; w++) {
        ss.spairs[w] = ss.pairs[w];
        ss.nspairs[w] = ss.npairs[w];
    }
    uint8_t(*ref)[32] = malloc((ss.nkeys ? ss.nkeys : 1) * 32), ref_scans[32];
    assert_non_null(ref);
    load_all(ds, ss.keys, ss.nkeys, ref);
    scans_digest(ds, &ss, ref_scans);

    acctdb_db_t *db = open_ok(dir, &cfg);
    expect_replayed(db, ci.index_gen, UINT32_MAX);
    assert_int_equal(acctdb_db_root_slot(db, NULL), r);
    capture(db, &sr);
    print_message("    %s: %s: %.1f ms; a full scan: %.1f ms\n", what, sr.st.index_reason,
                  sr.st.index_open_ns / 1e6, ss.st.index_open_ns / 1e6);
    assert_int_equal(sr.st.storages, ss.st.storages);
    assert_int_equal(sr.st.storage_bytes, ss.st.storage_bytes);
    assert_int_equal(sr.st.segments, ss.st.segments);
    /* The scan may hold more: tombstones clean removed after the base was
     * written come back from their storages, as in any rebuild. */
    assert_true(sr.st.index_keys <= ss.st.index_keys);
    assert_true(sr.st.storage_alive_bytes <= ss.st.storage_alive_bytes);
    expect_same_reads(db, &ss, ref, ref_scans);
    close_ok(db);
    acctdb_db_close(ds);
    /* The close wrote a clean index file again. */
    db = open_ok(dir, &cfg);
    assert_false(stats_of(db).index_rebuilt);
    assert_int_equal(acctdb_db_root_slot(db, NULL), r);
    expect_same_reads(db, &ss, ref, ref_scans);
    close_ok(db);
    for (int w = 0; w < 3; w++)
        ss.spairs[w] = NULL;
    state_fini(&ss);
    state_fini(&sr);
    free(ref);
    adb_test_rmtree(dir);
    adb_test_rmtree(scan);
}

static void
test_replayed(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), base[4096];
    assert_non_null(tmp);
    join(base, tmp, "base");
    state_t before;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(base, &before, &ref, ref_scans);
    replay_case(tmp, base, UINT64_MAX, 0, "from the clean close's file");
    replay_case(tmp, base, 1, 0, "from a checkpoint");
    replay_case(tmp, base, 1, 1u << 20, "from a checkpoint, two tiers");
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 3c. format 1 ------------------------------------------------------------------ */

/* Rewrites index file p as format 1 wrote it: storages {slot, alive_bytes,
 * alive_cnt} matched by place, the checksum recomputed. */
static void
to_format1(char const *p) {
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    assert_true(sz > 256 + 32);
    rewind(f);
    uint8_t *in = malloc((size_t)sz), *out = malloc((size_t)sz);
    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(fread(in, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    assert_int_equal(adb_load_u32(in + 8), 2);
    uint64_t nf = adb_load_u64(in + 72);
    memcpy(out, in, 256);
    adb_store_u32(out + 8, 1);
    size_t o = 256;
    for (uint64_t i = 0; i < nf; i++, o += 24) {
        uint8_t const *e = in + 256 + 48 * i;
        memcpy(out + o, e, 8);           /* slot */
        memcpy(out + o + 8, e + 32, 16); /* alive_bytes, alive_cnt */
    }
    size_t rest = (size_t)sz - 256 - 48 * nf - 32;
    memcpy(out + o, in + 256 + 48 * nf, rest);
    o += rest;
    adb_blake3_hash(out, o, out + o, 32);
    o += 32;
    f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out, 1, o, f), o);
    fclose(f);
    free(in);
    free(out);
}

static void
test_format1(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], p[4200];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    state_t before, after;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(dir, &before, &ref, ref_scans);
    uint64_t g = peek(dir).gen;
    ix_path(p, dir, g);
    to_format1(p);
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);
    /* A clean close's format-1 file loads as before. */
    acctdb_db_t *db = open_ok(dir, &cfg);
    expect_loaded(db, g);
    capture(db, &after);
    expect_same_state(&before, &after);
    expect_same_reads(db, &before, ref, ref_scans);
    /* A commit after it names it as the base, but a kill then rebuilds:
     * format 1 names storages by place, which a later catalog moves. */
    root_and_flush(db, 4);
    acctdb_db_close(db); /* writes format 2 */
    ix_path(p, dir, peek(dir).gen);
    to_format1(p);
    uint64_t r = run_killed(dir, KILL_COMMIT);
    db = open_ok(dir, &cfg);
    expect_rebuilt(db, "cannot be replayed from: format 1");
    assert_int_equal(acctdb_db_root_slot(db, NULL), r);
    check_verify(db);
    close_ok(db);
    state_fini(&after);
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 4. write_fails ---------------------------------------------------------------- */

/* An I/O table over POSIX that fails one kind of call on index-* files. */
enum { FAIL_OPEN, FAIL_WRITE, FAIL_SYNC, FAIL_READ };

typedef struct ftab {
    adb_io_t        io;
    adb_io_t const *posix;
    int             mode, err;
    bool            ix_fd[65536];
    int             fired;
} ftab_t;

static ftab_t g_ft;

static bool
is_ix(char const *path) {
    char const *b = strrchr(path, '/');
    return !strncmp(b ? b + 1 : path, "index-", 6);
}

static bool
ix_fd(int fd) {
    return fd >= 0 && fd < 65536 && g_ft.ix_fd[fd];
}

static int
f_openat(void *ctx, int dirfd, char const *path, int flags, int mode, char const *site) {
    (void)ctx;
    if (is_ix(path) && g_ft.mode == FAIL_OPEN && (flags & O_CREAT)) {
        g_ft.fired++;
        return g_ft.err;
    }
    int fd = g_ft.posix->openat(g_ft.posix->ctx, dirfd, path, flags, mode, site);
    if (fd >= 0 && fd < 65536) g_ft.ix_fd[fd] = is_ix(path);
    return fd;
}

static int
f_close(void *ctx, int fd, char const *site) {
    (void)ctx;
    if (fd >= 0 && fd < 65536) g_ft.ix_fd[fd] = false;
    return g_ft.posix->close(g_ft.posix->ctx, fd, site);
}

static ssize_t
f_pread(void *ctx, int fd, void *buf, size_t sz, uint64_t off, char const *site) {
    (void)ctx;
    if (ix_fd(fd) && g_ft.mode == FAIL_READ) {
        g_ft.fired++;
        return g_ft.err;
    }
    return g_ft.posix->pread(g_ft.posix->ctx, fd, buf, sz, off, site);
}

static ssize_t
f_pwrite(void *ctx, int fd, void const *buf, size_t sz, uint64_t off, char const *site) {
    (void)ctx;
    if (ix_fd(fd) && g_ft.mode == FAIL_WRITE) {
        g_ft.fired++;
        return g_ft.err;
    }
    return g_ft.posix->pwrite(g_ft.posix->ctx, fd, buf, sz, off, site);
}

static ssize_t
f_write(void *ctx, int fd, void const *buf, size_t sz, char const *site) {
    (void)ctx;
    if (ix_fd(fd) && g_ft.mode == FAIL_WRITE) {
        g_ft.fired++;
        return g_ft.err;
    }
    return g_ft.posix->write(g_ft.posix->ctx, fd, buf, sz, site);
}

static int
f_fdatasync(void *ctx, int fd, char const *site) {
    (void)ctx;
    if (ix_fd(fd) && g_ft.mode == FAIL_SYNC) {
        g_ft.fired++;
        return g_ft.err;
    }
    return g_ft.posix->fdatasync(g_ft.posix->ctx, fd, site);
}

static adb_io_t const *
fail_table(int mode, int err) {
    memset(&g_ft, 0, sizeof g_ft);
    g_ft.posix = adb_io_posix();
    g_ft.io = *g_ft.posix; /* the other ops: POSIX's, with its context */
    g_ft.io.openat = f_openat;
    g_ft.io.close = f_close;
    g_ft.io.pread = f_pread;
    g_ft.io.pwrite = f_pwrite;
    g_ft.io.write = f_write;
    g_ft.io.fdatasync = f_fdatasync;
    g_ft.mode = mode;
    g_ft.err = err;
    return &g_ft.io;
}

static void
test_write_fails(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], copy[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(copy, tmp, "copy");
    state_t before;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(dir, &before, &ref, ref_scans);
    uint64_t const     g0 = peek(dir).gen;
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);
    struct {
        int         mode, err;
        char const *what;
    } const cases[] = {
        {FAIL_OPEN, -EACCES, "create EACCES"},
        {FAIL_WRITE, -EIO, "write EIO"},
        {FAIL_WRITE, -ENOSPC, "write ENOSPC"},
        {FAIL_SYNC, -EIO, "fdatasync EIO"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_dir(dir, copy);
        adb_io_t const *io = fail_table(cases[i].mode, cases[i].err);
        acctdb_db_t    *db = open_io(copy, &cfg, io);
        uint64_t        r = root_and_flush(db, 3); /* a commit: the close writes the file */
        uint64_t        g = peek(copy).gen;
        char            msg[1024] = "";
        int             rc = acctdb_db_shutdown(db, NULL, msg, sizeof msg);
        print_message("    %-14s -> close %s%s%s\n", cases[i].what, rc ? acctdb_strerror(rc) : "ok",
                      msg[0] ? ": " : "", msg);
        assert_true(g_ft.fired > 0);
        char name[64];
        snprintf(name, sizeof name, "index-%llu", (unsigned long long)(g + 1));
        assert_false(exists(copy, name));
        adb_db_commit_info_t ci = peek(copy);
        db = open_ok(copy, &cfg);
        if (cases[i].mode == FAIL_SYNC) {
            /* Fail-stop: the close says so and writes no CLEAN commit; the
             * last commit names the base it had, replayed from. */
            assert_int_equal(rc, ACCTDB_ERR_FATAL);
            assert_non_null(strstr(msg, "index file"));
            assert_int_equal(ci.gen, g);
            assert_int_equal(ci.index_gen, g0);
            expect_replayed(db, g0, 1);
        } else {
            assert_int_equal(ci.index_gen, 0);
            /* The root committed without an index file. */
            assert_int_equal(rc, 0);
            assert_int_equal(ci.gen, g + 1);
            assert_int_equal(ci.flags, ADB_DB_COMMIT_CLEAN);
            expect_rebuilt(db, "no index file");
        }
        uint64_t durable = 0;
        assert_int_equal(acctdb_db_root_slot(db, &durable), r);
        assert_int_equal(durable, r);
        check_verify(db);
        close_ok(db);
        db = open_ok(copy, &cfg);
        expect_loaded(db, peek(copy).gen);
        check_verify(db);
        close_ok(db);
    }

    /* A read error on the file at open: rebuilt, correct. */
    copy_dir(dir, copy);
    adb_io_t const *io = fail_table(FAIL_READ, -EIO);
    acctdb_db_t    *db = open_io(copy, &cfg, io);
    assert_true(g_ft.fired > 0);
    expect_rebuilt(db, "index file unreadable");
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 5. config ------------------------------------------------------------------- */

static void
test_config(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], copy[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(copy, tmp, "copy");
    state_t before;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(dir, &before, &ref, ref_scans);
    uint64_t g = peek(dir).gen;

    /* Written with the owner index, opened without: loaded, the watched
     * owners' pairs kept, as a rebuild without it has them. */
    acctdb_db_config_t off, on;
    cfg_stepped(&off, false);
    cfg_stepped(&on, true);
    copy_dir(dir, copy);
    acctdb_db_t *db = open_ok(copy, &off);
    expect_loaded(db, g);
    state_t a, b;
    capture(db, &a);
    check_verify(db);
    close_ok(db);
    assert_int_equal(peek(copy).gen, g);
    char p[4200];
    ix_path(p, copy, g);
    assert_int_equal(unlink(p), 0);
    db = open_ok(copy, &off);
    expect_rebuilt(db, "no index file");
    capture(db, &b);
    assert_true(a.npairs[0] < before.npairs[0]);
    assert_int_equal(a.npairs[0], b.npairs[0]);
    if (a.npairs[0]) assert_memory_equal(a.pairs[0], b.pairs[0], a.npairs[0] * sizeof(pair_t));
    assert_int_equal(a.npairs[1] + b.npairs[1], 0);
    state_fini(&a);
    state_fini(&b);
    close_ok(db);
    /* That close wrote a file without the owner index: an open with it
     * rebuilds, and scans as before. */
    db = open_ok(copy, &on);
    expect_rebuilt(db, "index file of another configuration");
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    db = open_ok(copy, &on);
    expect_loaded(db, g + 2);
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);

    /* Another index_bins: rebuilt. */
    on.index_bins = 256;
    db = open_ok(copy, &on);
    expect_rebuilt(db, "index file of another configuration");
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* ---- 6. disk tier ---------------------------------------------------------------- */

/* The index's disk tier under a tiny RAM budget: the first open converts an
 * index file of RAM keys (loaded into the tier), its close writes a file
 * whose keys are the tier and stamps the tier; the next opens reuse it as
 * it is (also after a close that changed nothing); a flipped byte in a
 * bucket file, a kill after a commit, or index_disk turned off rebuild; each
 * open reads the same and verifies. */
static void
test_disk_tier(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096], copy[4096], p[4200];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    join(copy, tmp, "copy");
    state_t before;
    uint8_t(*ref)[32], ref_scans[32];
    make_base(dir, &before, &ref, ref_scans);
    uint64_t const     g = peek(dir).gen;
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, true);
    cfg.index_disk = true;
    cfg.index_ram_bytes = 16u << 10; /* well under the promoted keys: evictions */

    /* An index file of RAM keys: loaded into a new tier. */
    acctdb_db_t *db = open_ok(dir, &cfg);
    expect_loaded(db, g);
    expect_same_reads(db, &before, ref, ref_scans);
    acctdb_db_stats_t s = stats_of(db);
    assert_true(s.index_disk && s.index_disk_keys > 0 && s.index_evictions > 0);
    assert_true(s.index_misses > s.index_hits);
    close_ok(db);
    adb_db_commit_info_t ci = peek(dir);
    assert_int_equal(ci.index_gen, g + 1); /* a new file: its keys are the tier */

    /* Reused, twice (the second close changed nothing: the tier is stamped
     * again for the same commit). */
    for (int round = 0; round < 2; round++) {
        db = open_ok(dir, &cfg);
        s = stats_of(db);
        print_message("    disk tier open %d: %s (%llu keys on disk, %llu B, %.3f s)\n", round,
                      s.index_reason, (unsigned long long)s.index_disk_keys,
                      (unsigned long long)s.index_disk_bytes, (double)s.index_open_ns / 1e9);
        assert_false(s.index_rebuilt);
        assert_non_null(strstr(s.index_reason, "and the disk tier"));
        assert_int_equal(s.index_disk_keys, before.nkeys);
        expect_same_reads(db, &before, ref, ref_scans);
        close_ok(db);
        assert_int_equal(peek(dir).index_gen, g + 1);
    }

    /* A flipped byte in a bucket file: rebuilt, the same reads, verified. */
    copy_dir(dir, copy);
    snprintf(p, sizeof p, "%s/index.d/b00005.ix", copy);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    flip(p, (uint64_t)st.st_size - 30);
    db = open_ok(copy, &cfg);
    s = stats_of(db);
    print_message("    flipped bucket byte -> %s\n", s.index_reason);
    expect_rebuilt(db, "checksum");
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    db = open_ok(copy, &cfg); /* that close stamped a good tier */
    assert_false(stats_of(db).index_rebuilt);
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);

    /* Killed after a commit: the tier was open, so rebuilt. */
    g_kill_index_ram = cfg.index_ram_bytes;
    uint64_t r = run_killed(copy, KILL_COMMIT);
    g_kill_index_ram = 0;
    db = open_ok(copy, &cfg);
    expect_rebuilt(db, "no clean shutdown");
    assert_int_equal(acctdb_db_root_slot(db, NULL), r);
    check_verify(db);
    close_ok(db);
    db = open_ok(copy, &cfg);
    assert_false(stats_of(db).index_rebuilt);
    assert_int_equal(acctdb_db_root_slot(db, NULL), r);
    check_verify(db);
    close_ok(db);

    /* index_disk off: the file's keys are in the tier, so rebuilt. */
    acctdb_db_config_t off;
    cfg_stepped(&off, true);
    db = open_ok(dir, &off);
    expect_rebuilt(db, "index_disk is off");
    expect_same_reads(db, &before, ref, ref_scans);
    close_ok(db);
    state_fini(&before);
    free(ref);
    adb_test_rmtree(tmp);
    free(tmp);
}

/* Stores a[0..n) at a new slot on the root, freezes and roots it, and steps
 * flush, clean and shrink; returns the new root. */
static uint64_t
root_batch(acctdb_db_t *db, acctdb_account_t const *a, size_t n) {
    uint64_t root = acctdb_db_root_slot(db, NULL), s = root + 1;
    DB_OK(db, acctdb_db_bank_begin(db, s, root, 1700000000 + (int64_t)s));
    for (size_t i = 0; i < n; i += 1000)
        DB_OK(db, acctdb_db_store(db, s, root, a + i, ADB_MIN((size_t)1000, n - i)));
    acctdb_bank_meta_t m = {0};
    DB_OK(db, acctdb_db_freeze(db, s, &m, NULL));
    DB_OK(db, acctdb_db_root(db, s));
    for (int k = 0; k < 3; k++) {
        assert_true(acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH) >= 0);
        assert_true(acctdb_db_service_step(db, ACCTDB_SERVICE_CLEAN) >= 0);
        assert_true(acctdb_db_service_step(db, ACCTDB_SERVICE_SHRINK) >= 0);
    }
    return s;
}

/* Through the engine: 40,000 new accounts, then half of them closed; once
 * clean has dropped them, the shrink pass gives back the disk tier's
 * space (at most 60% of it stays). */
static void
test_disk_tier_reclaim(void **state) {
    (void)state;
    char *tmp = adb_test_mkdtemp(), dir[4096];
    assert_non_null(tmp);
    join(dir, tmp, "db");
    acctdb_db_config_t cfg;
    cfg_stepped(&cfg, false);
    cfg.index_bins = 256;
    cfg.index_ram_bytes = 1u << 20;
    acctdb_db_t      *db = adb_test_create_pair(dir, &cfg);
    size_t const      N = 40000; /* not scaled: smaller bins are mostly header */
    acctdb_account_t *a = calloc(N, sizeof *a), *c = calloc(N / 2, sizeof *c);
    assert_true(a && c);
    for (size_t i = 0; i < N; i++) {
        uint64_t x = i * 0x9E3779B97F4A7C15ull + 99;
        for (int w = 0; w < 4; w++)
            adb_store_u64(a[i].pubkey.b + 8 * w, adb_test_rand(&x));
        a[i].lamports = 1000 + i;
    }
    root_batch(db, a, N);
    acctdb_db_stats_t s0 = stats_of(db);
    for (size_t i = 0; i < N / 2; i++) {
        c[i] = a[2 * i];
        c[i].lamports = 0; /* closed */
    }
    root_batch(db, c, N / 2);
    /* Clean drops a tombstone once it is the key's only version (shrink
     * dropped the older records) and a full snapshot holds it. */
    char arch[4096], path[4096];
    join(arch, tmp, "arch");
    assert_int_equal(mkdir(arch, 0755), 0);
    DB_OK(db, acctdb_db_snapshot(db, arch, false, path));
    root_batch(db, NULL, 0);
    root_batch(db, NULL, 0);
    acctdb_db_stats_t s1 = stats_of(db);
    print_message(
        "    disk tier: %llu keys, %llu B, %llu entries -> half closed: %llu keys, %llu B "
        "(%.1f%%), %llu entries\n",
        (unsigned long long)s0.index_disk_keys, (unsigned long long)s0.index_disk_bytes,
        (unsigned long long)s0.index_disk_entries, (unsigned long long)s1.index_disk_keys,
        (unsigned long long)s1.index_disk_bytes,
        100.0 * (double)s1.index_disk_bytes / (double)s0.index_disk_bytes,
        (unsigned long long)s1.index_disk_entries);
    assert_true(s1.index_disk_keys <= s0.index_disk_keys - N / 2);
    assert_true(s1.index_disk_bytes * 10 <= s0.index_disk_bytes * 6);
    for (size_t i = 0; i < N; i += 97) {
        acctdb_account_t got;
        int              rc =
            acctdb_db_load(db, acctdb_db_root_slot(db, NULL), &a[i].pubkey, &got, NULL, 0, NULL);
        assert_int_equal(rc, i % 2 ? 0 : ACCTDB_ERR_NOT_FOUND);
    }
    check_verify(db);
    close_ok(db);
    free(a);
    free(c);
    adb_test_rmtree(tmp);
    free(tmp);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_load_same),
    cmocka_unit_test(test_damaged),
    cmocka_unit_test(test_killed),
    cmocka_unit_test(test_replayed),
    cmocka_unit_test(test_format1),
    cmocka_unit_test(test_write_fails),
    cmocka_unit_test(test_config),
    cmocka_unit_test(test_disk_tier),
    cmocka_unit_test(test_disk_tier_reclaim),
};
ADB_TEST_GROUP(ixfile, tests);
