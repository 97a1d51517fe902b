/* tools/acctdb/cmd_crashtest.c - `acctdb crashtest`: kill -9 a database at
 * random moments of a random workload, reopen it, and check it against a
 * reference, cycle after cycle on the same database.
 *
 *   parent                                  child (fork, one per cycle)
 *   ------                                  -----
 *   DIR/genesis.bin, DIR/db (created once)
 *   plan: delay, maybe a target point  -->  open DIR/db (services on, small
 *                                           caches); loop: workload chunks
 *                                           (forks, root lag), service steps,
 *                                           full and incremental snapshots
 *                                           into DIR/archives
 *                                      <--  shared pages: the reference of
 *                                           every rooted slot, every key ever
 *                                           rooted, the durable root each
 *                                           commit reported, the phases in
 *                                           progress (point hook)
 *   SIGKILL after the delay (or the child kills itself at its target point)
 *   reopen and check; next cycle on the same database
 *
 * The reference, without a model: the child's root hook records, for every
 * slot it roots and before the root call returns, the slot's lattice-hash
 * checksum and capitalization (what the engine computed at freeze, from
 * the write cache), and appends each pubkey the slot stored that was never
 * seen before.  A commit point naming a slot waits until that slot's
 * record is there (the engine runs the root hook just after marking banks
 * rooted, so a fast flush could otherwise commit a slot first).  After the
 * kill the parent reopens the database and checks:
 *   - the reopen succeeds, at a root >= the newest root a commit reported
 *     durable, and the root is durable;
 *   - the root's lattice checksum and capitalization are the record's;
 *   - every account: each pubkey ever rooted (and the genesis ones) is
 *     loaded at the root; the lattice hash of those found, summed from
 *     scratch, and their lamports equal the record's (a lost, stale,
 *     resurrected or altered account changes the sum);
 *   - acctdb_db_verify (the lattice hash recomputed from the account files
 *     equals the commit record's) and acctdb_db_check (index invariants);
 *   - every archive in DIR/archives not checked before loads and verifies
 *     (an incremental on its full), its lattice checksum and capitalization
 *     are the record's for its slot; a killed writer's temporary file never
 *     has an archive's name and acctdb_snapshot_find never picks one.
 *
 * Where it died: a point hook (acctdb_sim_set_point_hook) keeps the phases
 * in progress (flush, commit, shrink, clean, snapshot writing; open is the
 * child's own) in the shared page.  Every other cycle is phase-targeted:
 * the parent picks a phase (in turn, g_rotation) and one of its points at
 * random, and the child kills itself (SIGKILL, the same page-cache
 * semantics as an outside kill) the first time it reaches that point
 * after the delay, steering its workload towards that path once the delay
 * has passed; commits last microseconds, so outside kills alone would
 * almost never land in one.  A target not reached within 1 s of the delay
 * gets an outside kill (counted). */
#include "cmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char const USAGE[] =
    "usage: acctdb crashtest --cycles N --dir DIR [--seed X] [--verbose]\n"
    "\n"
    "Creates a small database in DIR/db (from a synthetic genesis, DIR/genesis.bin),\n"
    "then N times: a child process opens it with the background services on and\n"
    "small caches and runs a random workload (stores on forks, roots, flushes,\n"
    "clean, shrink, full and incremental snapshots into DIR/archives); it is\n"
    "killed with SIGKILL after a delay drawn uniformly from 20 ms to 2 s (half\n"
    "the cycles: at the first pass through a chosen point of flush, commit,\n"
    "shrink or snapshot writing after that delay); the database is reopened and\n"
    "checked against the reference the child recorded: the root is at least the\n"
    "last one reported durable, its lattice hash and capitalization, every\n"
    "account, the engine's verify and check, and every archive.  The next cycle\n"
    "continues on the same database.\n"
    "\n"
    "  --cycles N     kill-reopen-check cycles, 1 to 1000000\n"
    "  --dir DIR      empty or absent directory to work in (left for inspection)\n"
    "  --seed X       seed of every random choice (default: from the clock; printed)\n"
    "  --verbose      one line per cycle\n"
    "\n"
    "Prints cycles=N, the phases the kills landed in (a kill can land in several:\n"
    "the services run on their own threads), then corruptions=<n>.  Exit status:\n"
    "0 no corruption, 1 corruptions (or a child failed: its error is printed),\n"
    "2 usage or setup errors.\n";

#define DELAY_MIN_NS   20000000ull   /* 20 ms */
#define DELAY_MAX_NS   2000000000ull /* 2 s */
#define FALLBACK_NS    1000000000ull /* a targeted cycle's outside kill: delay + 1 s */
#define REF_WAIT_NS    20000000000ull
#define RING_SZ        (1u << 16)   /* slot references kept (rooted slots of a cycle) */
#define KEYS_MAX       (8ull << 20) /* distinct pubkeys the reference can hold */
#define LOAD_BATCH     256u
#define ARCH_MAX       4096u
#define TMP_PREFIX     "tmp-snapshot-archive-"
#define KNOWN_MAX      4096u
#define EXIT_CHILD_ERR 3

/* ---- phases and points --------------------------------------------------- */

enum { PH_FLUSH, PH_COMMIT, PH_SHRINK, PH_SNAPSHOT, PH_CLEAN, PH_OPEN, PH_CNT };
static char const *const g_phase_names[PH_CNT + 1] = {"flush", "commit", "shrink",  "snapshot",
                                                      "clean", "open",   "workload"};
#define PH_WORKLOAD PH_CNT /* no phase in progress: the foreground workload only */

/* The phases targeted cycles aim at, in turn, each equally: every other
 * cycle is targeted, so targeted kills alone put each of the four at 1/8 of
 * the kills (outside kills add more, flush's most), above the 10% the crash
 * test asks of each with no luck needed. */
static int const g_rotation[] = {PH_COMMIT, PH_SNAPSHOT, PH_SHRINK, PH_FLUSH};

#define B(p) (1u << (p))
enum { P_DURABLE = 1, P_WAITREF = 2 };

typedef struct point {
    char const *name;
    int         phase;  /* where a targeted kill at it counts; -1: not a target */
    unsigned    begins; /* phases it starts (before a kill at it) */
    unsigned    ends;   /* phases it ends (after a kill at it) */
    unsigned    flags;
} point_t;

/* The engine's points (acctdb_sim.h), in order along each path. */
static point_t const g_points[] = {
    {"flush.begin", PH_FLUSH, B(PH_FLUSH), 0, 0},
    {"segment.created", -1, 0, 0, 0},
    {"flush.written", PH_FLUSH, 0, 0, 0},
    {"flush.synced", PH_FLUSH, 0, 0, 0},
    {"flush.repointed", PH_FLUSH, 0, 0, 0},
    {"xstate.logged", -1, 0, 0, 0}, /* only with acctdb's own state */
    {"flush.commit", PH_COMMIT, B(PH_COMMIT), 0, P_WAITREF},
    {"flush.committed", PH_COMMIT, 0, B(PH_COMMIT) | B(PH_FLUSH), P_DURABLE},
    {"xstate.imaged", -1, 0, 0, 0},
    {"commit.catalog", PH_COMMIT, 0, 0, 0}, /* inside any commit record: */
    {"commit.slot", PH_COMMIT, 0, 0, 0},    /* catalog, then the slot */
    {"shrink.begin", PH_SHRINK, B(PH_SHRINK), 0, 0},
    {"shrink.copied", PH_SHRINK, 0, 0, 0},
    {"shrink.synced", PH_SHRINK, 0, 0, 0},
    {"shrink.repointed", PH_SHRINK, 0, 0, 0},
    {"shrink.commit", PH_COMMIT, B(PH_COMMIT), 0, P_WAITREF},
    {"shrink.committed", PH_COMMIT, 0, B(PH_COMMIT), P_DURABLE},
    {"shrink.end", PH_SHRINK, 0, B(PH_SHRINK), 0},
    {"punch.begin", -1, B(PH_SHRINK), 0, 0},
    {"punch.end", -1, 0, B(PH_SHRINK), 0},
    {"clean.begin", -1, B(PH_CLEAN), 0, 0},
    {"clean.end", -1, 0, B(PH_CLEAN), 0},
    {"snapshot.begin", PH_SNAPSHOT, B(PH_SNAPSHOT), 0, 0},
    {"snapshot.created", PH_SNAPSHOT, 0, 0, 0},
    {"snapshot.written", PH_SNAPSHOT, 0, 0, 0},
    {"snapshot.synced", PH_SNAPSHOT, 0, 0, 0},
    {"snapshot.companion", -1, 0, 0, 0}, /* only with acctdb's own state (a sidecar) */
    {"snapshot.renamed", PH_SNAPSHOT, 0, 0, 0},
    {"snapshot.dirsynced", PH_SNAPSHOT, 0, B(PH_SNAPSHOT), 0},
    {"snapshot.register", PH_COMMIT, B(PH_COMMIT), 0, P_WAITREF},
    {"snapshot.registered", PH_COMMIT, 0, B(PH_COMMIT), P_DURABLE},
};
#define POINT_CNT (sizeof g_points / sizeof g_points[0])

static int
point_find(char const *name) {
    for (size_t i = 0; i < POINT_CNT; i++)
        if (!strcmp(g_points[i].name, name)) return (int)i;
    return -1;
}

/* ---- the shared pages ------------------------------------------------------ */

/* The reference of one rooted slot.  slot1 = slot + 1 (0: empty), stored
 * last with release, so a reader that sees it sees the rest. */
typedef struct ref {
    _Atomic uint64_t slot1;
    uint64_t         cap;
    uint8_t          ck[32];
} ref_t;

typedef struct shm {
    /* the cycle's plan (parent, before the fork) */
    int      target;    /* point index, or -1 */
    uint64_t target_ns; /* CLOCK_MONOTONIC time from which it kills */
    /* the child */
    _Atomic uint64_t durable; /* newest slot a commit point reported durable */
    _Atomic int      active[PH_CNT];
    _Atomic int      last_point; /* index + 1; 0: none yet */
    _Atomic int      target_hit;
    _Atomic uint64_t keys_cnt;
    _Atomic uint64_t hits[POINT_CNT]; /* over all cycles */
    _Atomic uint64_t unknown_points;  /* points this tool does not know ... */
    char             unknown[64];     /* ... the first one's name */
    _Atomic uint64_t chunks, slots, steps, snaps_full, snaps_inc;
    char             err[1024]; /* why the child failed */
    ref_t            ring[RING_SZ];
} shm_t;

static shm_t           *g_sh;
static acctdb_pubkey_t *g_keys; /* KEYS_MAX, shared; [0, keys_cnt) published */

static uint64_t
now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void
sleep_ns(uint64_t ns) {
    struct timespec t = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&t, NULL);
}

static ref_t *
ref_of(uint64_t slot) {
    return &g_sh->ring[slot % RING_SZ];
}

static void
ref_put(uint64_t slot, uint8_t const ck[32], uint64_t cap) {
    ref_t *r = ref_of(slot);
    atomic_store_explicit(&r->slot1, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    r->cap = cap;
    memcpy(r->ck, ck, 32);
    atomic_store_explicit(&r->slot1, slot + 1, memory_order_release);
}

static ref_t const *
ref_get(uint64_t slot) {
    ref_t const *r = ref_of(slot);
    return atomic_load_explicit(&r->slot1, memory_order_acquire) == slot + 1 ? r : NULL;
}

/* ---- the set of pubkeys already listed ---------------------------------------
 * Open addressing over indexes into g_keys.  The parent keeps it in step
 * with the list after each cycle; a child inherits it (fork) and adds to
 * its own copy what it appends. */

typedef struct kset {
    uint32_t *slot; /* index + 1; 0 empty */
    uint64_t  cap, n;
} kset_t;

static kset_t g_kset;

static uint64_t
khash(acctdb_pubkey_t const *k) {
    uint64_t a, b;
    memcpy(&a, k->b, 8);
    memcpy(&b, k->b + 24, 8);
    uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 29);
}

static int
kset_grow(kset_t *s) {
    uint64_t  cap = s->cap ? s->cap * 2 : 1u << 16;
    uint32_t *ns = calloc(cap, sizeof *ns);
    if (!ns) return -ENOMEM;
    for (uint64_t i = 0; i < s->cap; i++) {
        if (!s->slot[i]) continue;
        uint64_t h = khash(&g_keys[s->slot[i] - 1]) & (cap - 1);
        while (ns[h])
            h = (h + 1) & (cap - 1);
        ns[h] = s->slot[i];
    }
    free(s->slot);
    s->slot = ns;
    s->cap = cap;
    return 0;
}

/* Appends k to the shared list (publishing the new count) unless it is
 * listed already.  Returns 0, or -ENOSPC / -ENOMEM. */
static int
key_add(kset_t *s, acctdb_pubkey_t const *k) {
    if ((s->n + 1) * 2 > s->cap && kset_grow(s)) return -ENOMEM;
    uint64_t h = khash(k) & (s->cap - 1);
    for (; s->slot[h]; h = (h + 1) & (s->cap - 1))
        if (!memcmp(g_keys[s->slot[h] - 1].b, k->b, 32)) return 0;
    uint64_t n = atomic_load_explicit(&g_sh->keys_cnt, memory_order_relaxed);
    if (n >= KEYS_MAX) return -ENOSPC;
    g_keys[n] = *k;
    atomic_store_explicit(&g_sh->keys_cnt, n + 1, memory_order_release);
    s->slot[h] = (uint32_t)(n + 1);
    s->n++;
    return 0;
}

/* The parent: takes in what a child listed (already distinct). */
static int
kset_catch_up(kset_t *s) {
    uint64_t n = atomic_load(&g_sh->keys_cnt);
    while (s->n < n) {
        if ((s->n + 1) * 2 > s->cap && kset_grow(s)) return -ENOMEM;
        uint64_t h = khash(&g_keys[s->n]) & (s->cap - 1);
        while (s->slot[h])
            h = (h + 1) & (s->cap - 1);
        s->slot[h] = (uint32_t)(s->n + 1);
        s->n++;
    }
    return 0;
}

/* ---- the child --------------------------------------------------------------- */

static void __attribute__((noreturn, format(printf, 1, 2))) child_fail(char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_sh->err, sizeof g_sh->err, fmt, ap);
    va_end(ap);
    _exit(EXIT_CHILD_ERR);
}

static void
point_hook(void *ctx, char const *name, uint64_t arg) {
    shm_t *sh = ctx;
    int    id = point_find(name);
    if (id < 0) { /* a point added since: only counted (its path's bracket still holds) */
        if (atomic_fetch_add(&sh->unknown_points, 1) == 0)
            snprintf(sh->unknown, sizeof sh->unknown, "%s", name);
        return;
    }
    point_t const *p = &g_points[id];
    for (int ph = 0; ph < PH_CNT; ph++)
        if (p->begins & B(ph)) atomic_fetch_add(&sh->active[ph], 1);
    if (p->flags & P_WAITREF) {
        /* The record of the slot this commit names is written by the root
         * hook, which the engine runs right after marking the banks rooted:
         * wait for it, so the reference exists before the slot can be
         * durable. */
        uint64_t t0 = now_ns();
        while (!ref_get(arg)) {
            if (now_ns() - t0 > REF_WAIT_NS)
                child_fail("%s: no root hook record of slot %llu after 20 s", name,
                           (unsigned long long)arg);
            sched_yield();
        }
    }
    if (p->flags & P_DURABLE) {
        uint64_t d = atomic_load(&sh->durable);
        while (arg > d && !atomic_compare_exchange_weak(&sh->durable, &d, arg)) {
        }
    }
    atomic_store(&sh->last_point, id + 1);
    atomic_fetch_add(&sh->hits[id], 1);
    if (id == sh->target && now_ns() >= sh->target_ns) {
        atomic_store(&sh->target_hit, 1);
        raise(SIGKILL);
    }
    for (int ph = 0; ph < PH_CNT; ph++)
        if (p->ends & B(ph)) atomic_fetch_sub(&sh->active[ph], 1);
}

static void
root_hook(void *ctx, acctdb_slot_changes_t const *c) {
    (void)ctx;
    for (size_t i = 0; i < c->cnt; i++) {
        int rc = key_add(&g_kset, &c->accounts[i].pubkey);
        if (rc == -ENOSPC)
            child_fail("more than %llu distinct accounts: the reference is full",
                       (unsigned long long)KEYS_MAX);
        if (rc) child_fail("root hook: out of memory");
    }
    ref_put(c->slot, c->info->lt_checksum, c->info->capitalization);
}

static void
blake(uint8_t out[32], char const *what, uint64_t a, uint64_t b) {
    acctdb_blake3_t h;
    acctdb_blake3_init(&h);
    acctdb_blake3_update(&h, what, strlen(what));
    acctdb_blake3_update(&h, &a, sizeof a);
    acctdb_blake3_update(&h, &b, sizeof b);
    acctdb_blake3_finalize(&h, out, 32);
}

/* One workload chunk, then a bank on the surviving tip rooted at once, so
 * the next chunk (which starts at the root) finds no slot in use above it. */
static void
child_chunk(acctdb_db_t *db, acctdb_rng_t *r, uint64_t seed) {
    acctdb_workload_opts_t o;
    acctdb_workload_opts_default(&o);
    o.slots = 4 + acctdb_rng_below(r, 40);
    o.forks = 1 + (uint32_t)acctdb_rng_below(r, 4);
    o.root_lag = (uint32_t)acctdb_rng_below(r, 17);
    o.stores_min = 5 + (uint32_t)acctdb_rng_below(r, 40);
    o.stores_max = o.stores_min + (uint32_t)acctdb_rng_below(r, 200);
    /* New accounts in one chunk of three (closures take the chunk's own),
     * and paced slots: the database stays small (every account is loaded
     * at each check, every storage is an entry of each archive) while the
     * services get plenty of rooted data, dead bytes and tombstones. */
    o.new_account_frac = acctdb_rng_below(r, 3) ? 0 : 0.002 + 0.006 * acctdb_rng_unit(r);
    o.close_frac = 0.002 + 0.008 * acctdb_rng_unit(r);
    o.slot_us = 4000 + (uint32_t)acctdb_rng_below(r, 16001); /* a slot takes 4 - 20 ms */
    o.fork_frac = 0.1 + 0.2 * acctdb_rng_unit(r);
    o.loads_per_store = acctdb_rng_below(r, 2);
    o.known_max = KNOWN_MAX;
    o.seed = seed;
    acctdb_workload_result_t w;
    if (acctdb_db_workload(db, &o, &w)) child_fail("%s", acctdb_db_errmsg(db));
    uint64_t s = w.last_slot + 1;
    int64_t  ts = w.tip_info.meta.unix_timestamp + 1;
    if (acctdb_db_bank_begin(db, s, w.tip_slot, ts))
        child_fail("bank_begin %llu: %s", (unsigned long long)s, acctdb_db_errmsg(db));
    acctdb_bank_meta_t m = {.transaction_count = w.tip_info.meta.transaction_count + 1,
                            .signature_count = 1,
                            .unix_timestamp = ts};
    blake(m.blockhash.b, "crashtest blockhash", seed, s);
    blake(m.block_id.b, "crashtest block id", seed, s);
    if (acctdb_db_freeze(db, s, &m, NULL))
        child_fail("freeze %llu: %s", (unsigned long long)s, acctdb_db_errmsg(db));
    if (acctdb_db_root(db, s))
        child_fail("root %llu: %s", (unsigned long long)s, acctdb_db_errmsg(db));
    atomic_fetch_add(&g_sh->chunks, 1);
    atomic_fetch_add(&g_sh->slots, s - w.start_root);
}

static void
child_snapshot(acctdb_db_t *db, acctdb_rng_t *r, char const *arch, bool full) {
    acctdb_db_stats_t st;
    if (acctdb_db_stats(db, &st)) child_fail("stats: %s", acctdb_db_errmsg(db));
    bool inc = !full && st.last_full_snapshot_slot != UINT64_MAX &&
               st.root_slot > st.last_full_snapshot_slot && acctdb_rng_below(r, 3) != 0;
    char path[4096];
    if (acctdb_db_snapshot(db, arch, inc, path))
        child_fail("%s snapshot: %s", inc ? "incremental" : "full", acctdb_db_errmsg(db));
    atomic_fetch_add(inc ? &g_sh->snaps_inc : &g_sh->snaps_full, 1);
}

static void __attribute__((noreturn))
child_main(char const *dbdir, char const *arch, uint64_t seed, uint64_t cycle) {
    acctdb_rng_t       r = acctdb_rng_at(seed, cycle, 0x636869);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = true;
    cfg.owner_index = true; /* the workload finds and updates older accounts */
    /* Room for the unrooted banks a chunk can hold (root lag up to 16,
     * about 0.5 MiB each with their maps): a store over the budget with
     * nothing rooted is refused (FULL), as it should be.  Small enough
     * that flushes stay frequent; flush_min_sz and the delay do the rest. */
    cfg.write_cache_max_sz = (12 + acctdb_rng_below(&r, 21)) << 20;
    cfg.read_cache_max_sz = acctdb_rng_below(&r, 2) ? 4u << 20 : 0;
    cfg.flush_min_sz = (1 + acctdb_rng_below(&r, 8)) << 20;
    cfg.flush_max_delay_ms = (uint32_t)acctdb_rng_below(&r, 401);
    cfg.service_interval_ms = 10 + (uint32_t)acctdb_rng_below(&r, 41);
    cfg.shrink_ratio = 0.6 + 0.3 * acctdb_rng_unit(&r);
    cfg.shrink_per_file = acctdb_rng_below(&r, 2);
    cfg.mmap_reads = acctdb_rng_below(&r, 2);
    cfg.threads = 1;
    cfg.snapshot_keep_full = 2;
    cfg.snapshot_keep_incremental = 3;
    acctdb_sim_set_point_hook(point_hook, g_sh);
    atomic_store(&g_sh->active[PH_OPEN], 1);
    acctdb_db_t *db = NULL;
    char         msg[1024];
    if (acctdb_db_open(&db, dbdir, &cfg, msg, sizeof msg)) child_fail("open: %s", msg);
    if (acctdb_db_set_root_hook(db, root_hook, NULL)) child_fail("set_root_hook failed");
    atomic_store(&g_sh->active[PH_OPEN], 0);
    for (;;) {
        if (g_sh->target >= 0 && now_ns() >= g_sh->target_ns) {
            /* Past a targeted cycle's delay: head for the target's path
             * (a service thread may get there first, just as well). */
            char const *t = g_points[g_sh->target].name;
            if (!strncmp(t, "snapshot.", 9)) {
                child_snapshot(db, &r, arch, strstr(t, "register") != NULL);
            } else {
                child_chunk(db, &r, acctdb_rng_next(&r));
                acctdb_service_t s =
                    strncmp(t, "shrink.", 7) ? ACCTDB_SERVICE_FLUSH : ACCTDB_SERVICE_SHRINK;
                if (acctdb_db_service_step(db, s) < 0)
                    child_fail("service step %d: %s", (int)s, acctdb_db_errmsg(db));
            }
            continue;
        }
        uint64_t a = acctdb_rng_below(&r, 100);
        if (a < 80) {
            child_chunk(db, &r, acctdb_rng_next(&r));
        } else if (a < 92) {
            acctdb_service_t s = (acctdb_service_t)acctdb_rng_below(&r, ACCTDB_SERVICE_CNT);
            if (acctdb_db_service_step(db, s) < 0)
                child_fail("service step %d: %s", (int)s, acctdb_db_errmsg(db));
            atomic_fetch_add(&g_sh->steps, 1);
        } else {
            child_snapshot(db, &r, arch, false);
        }
    }
}

/* ---- the parent's checks ---------------------------------------------------------- */

typedef struct arch_seen {
    char     name[256];
    uint64_t ino, size;
    int64_t  mtime_ns;
} arch_seen_t;

typedef struct run {
    char const       *dir;
    char              dbdir[4096], arch[4096], genesis[4096];
    uint64_t          seed, cycle;
    bool              verbose;
    uint64_t          root;       /* the root found at the last reopen */
    uint64_t          keys_found; /* live accounts found at the last reopen */
    arch_seen_t      *seen;
    size_t            seen_cnt;
    uint64_t          archives_verified, orphans, tmps_max;
    uint8_t          *big; /* ACCTDB_MIX_DATA_MAX: one large account */
    acctdb_pubkey_t  *bkeys;
    acctdb_account_t *bout;
    uint8_t          *bbuf;
    int              *brc;
    int               bad;                     /* failures of this cycle */
    uint64_t          check_ns, arch_ns;       /* time spent checking */
    uint64_t          storages, storage_bytes; /* at the last reopen */
} run_t;

static void __attribute__((format(printf, 2, 3))) bad(run_t *u, char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "acctdb crashtest: cycle %llu: ", (unsigned long long)u->cycle);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    u->bad++;
}

static char *
b58(uint8_t const b[32], char out[ACCTDB_BASE58_32_SZ]) {
    return acctdb_base58_encode_32(b, out);
}

/* Loads every listed pubkey at slot and sums what is there. */
static int
sum_accounts(run_t *u, acctdb_db_t *db, uint64_t slot, acctdb_lthash_t *lt, uint64_t *cap,
             uint64_t *found) {
    uint64_t n = atomic_load(&g_sh->keys_cnt);
    acctdb_lthash_zero(lt);
    *cap = *found = 0;
    size_t const bsz = 4u << 20;
    for (uint64_t i = 0; i < n; i += LOAD_BATCH) {
        size_t m = (size_t)(n - i < LOAD_BATCH ? n - i : LOAD_BATCH);
        memcpy(u->bkeys, g_keys + i, m * sizeof *u->bkeys);
        int rc = acctdb_db_load_batch(db, slot, u->bkeys, m, u->bout, u->bbuf, bsz, u->brc);
        if (rc) {
            bad(u, "load_batch at slot %llu: %s", (unsigned long long)slot, acctdb_db_errmsg(db));
            return rc;
        }
        for (size_t k = 0; k < m; k++) {
            acctdb_account_t a = u->bout[k];
            if (u->brc[k] == ACCTDB_ERR_NOT_FOUND) continue;
            if (u->brc[k] == ACCTDB_ERR_FULL) {
                rc = acctdb_db_load(db, slot, &u->bkeys[k], &a, u->big, ACCTDB_MIX_DATA_MAX, NULL);
                if (rc == ACCTDB_ERR_NOT_FOUND) continue;
            } else {
                rc = u->brc[k];
            }
            if (rc) {
                char k58[ACCTDB_BASE58_32_SZ];
                bad(u, "loading %s at slot %llu: %s", b58(u->bkeys[k].b, k58),
                    (unsigned long long)slot, acctdb_strerror(rc));
                return rc;
            }
            acctdb_lthash_add_accounts(lt, &a, 1, ACCTDB_LTHASH_CURRENT);
            *cap += a.lamports;
            (*found)++;
        }
    }
    return 0;
}

static bool
same_ck(uint8_t const a[32], uint8_t const b[32]) {
    return !memcmp(a, b, 32);
}

/* Reopen, and everything the database must be after a kill. */
static void
check_db(run_t *u) {
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.threads = 1;
    acctdb_db_t *db = NULL;
    char         msg[1024];
    int          rc = acctdb_db_open(&db, u->dbdir, &cfg, msg, sizeof msg);
    if (rc) {
        bad(u, "reopen failed: %s (%s)", msg, acctdb_strerror(rc));
        return;
    }
    uint64_t durable = 0, root = acctdb_db_root_slot(db, &durable);
    uint64_t reported = atomic_load(&g_sh->durable);
    u->root = root;
    if (root < reported)
        bad(u, "reopened at root %llu, below the root %llu a commit reported durable",
            (unsigned long long)root, (unsigned long long)reported);
    if (durable != root)
        bad(u, "reopened at root %llu but the durable root is %llu", (unsigned long long)root,
            (unsigned long long)durable);
    acctdb_bank_info_t info;
    ref_t const       *ref = ref_get(root);
    char               x[ACCTDB_BASE58_32_SZ], y[ACCTDB_BASE58_32_SZ];
    if ((rc = acctdb_db_bank_info(db, root, &info))) {
        bad(u, "bank_info of the root %llu: %s", (unsigned long long)root, acctdb_db_errmsg(db));
    } else if (!ref) {
        bad(u, "reopened at root %llu, a slot the child never rooted", (unsigned long long)root);
    } else {
        if (!same_ck(info.lt_checksum, ref->ck))
            bad(u, "root %llu: lattice checksum %s, but %s when it was rooted",
                (unsigned long long)root, b58(info.lt_checksum, x), b58(ref->ck, y));
        if (info.capitalization != ref->cap)
            bad(u, "root %llu: capitalization %llu, but %llu when it was rooted",
                (unsigned long long)root, (unsigned long long)info.capitalization,
                (unsigned long long)ref->cap);
    }
    if ((rc = acctdb_db_verify(db, msg, sizeof msg))) bad(u, "verify: %s", msg);
    if ((rc = acctdb_db_check(db, msg, sizeof msg))) bad(u, "check: %s", msg);
    if (ref) {
        acctdb_lthash_t lt;
        uint64_t        cap, found;
        if (!sum_accounts(u, db, root, &lt, &cap, &found)) {
            uint8_t ck[32];
            acctdb_lthash_checksum(&lt, ck);
            u->keys_found = found;
            if (!same_ck(ck, ref->ck))
                bad(u,
                    "root %llu: the %llu accounts loaded hash to %s, but the root's lattice "
                    "checksum when it was rooted is %s",
                    (unsigned long long)root, (unsigned long long)found, b58(ck, x),
                    b58(ref->ck, y));
            if (cap != ref->cap)
                bad(u,
                    "root %llu: the %llu accounts loaded hold %llu lamports, but %llu when "
                    "it was rooted",
                    (unsigned long long)root, (unsigned long long)found, (unsigned long long)cap,
                    (unsigned long long)ref->cap);
        }
    }
    acctdb_db_stats_t st;
    if (!acctdb_db_stats(db, &st)) {
        u->storages = st.storages;
        u->storage_bytes = st.storage_bytes;
    }
    acctdb_db_close(db);
}

typedef struct aname {
    bool     inc;
    uint64_t base, slot;
} aname_t;

/* snapshot-SLOT-HASH.tar.zst or incremental-snapshot-BASE-SLOT-HASH.tar.zst */
static bool
parse_name(char const *s, aname_t *n) {
    char               h[64];
    int                used = 0;
    unsigned long long a, b;
    memset(n, 0, sizeof *n);
    if (sscanf(s, "incremental-snapshot-%llu-%llu-%63[1-9A-HJ-NP-Za-km-z].tar.zst%n", &a, &b, h,
               &used) == 3 &&
        s[used] == 0) {
        n->inc = true;
        n->base = a;
        n->slot = b;
        return true;
    }
    used = 0;
    if (sscanf(s, "snapshot-%llu-%63[1-9A-HJ-NP-Za-km-z].tar.zst%n", &a, h, &used) == 2 &&
        s[used] == 0) {
        n->slot = a;
        return true;
    }
    return false;
}

static bool
seen_before(run_t *u, char const *name, struct stat const *st) {
    for (size_t i = 0; i < u->seen_cnt; i++) {
        arch_seen_t const *s = &u->seen[i];
        if (!strcmp(s->name, name))
            return s->ino == (uint64_t)st->st_ino && s->size == (uint64_t)st->st_size &&
                   s->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    }
    return false;
}

static void
remember(run_t *u, char const *name, struct stat const *st) {
    arch_seen_t *s = NULL;
    for (size_t i = 0; i < u->seen_cnt && !s; i++)
        if (!strcmp(u->seen[i].name, name)) s = &u->seen[i];
    if (!s) {
        if (u->seen_cnt == ARCH_MAX) u->seen_cnt = 0; /* forget all: they get checked again */
        s = &u->seen[u->seen_cnt++];
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    s->ino = (uint64_t)st->st_ino;
    s->size = (uint64_t)st->st_size;
    s->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Loads and verifies one archive (an incremental on its full). */
static void
check_archive(run_t *u, char const *name, aname_t const *n, char const *full_name) {
    char full[8192], inc[8192];
    snprintf(full, sizeof full, "%s/%s", u->arch, n->inc ? full_name : name);
    snprintf(inc, sizeof inc, "%s/%s", u->arch, name);
    acctdb_snapshot_opts_t o;
    memset(&o, 0, sizeof o);
    o.genesis_path = u->genesis;
    o.threads = 1;
    acctdb_snapshot_t     *s = NULL;
    int                    rc = acctdb_snapshot_open(&s, full, n->inc ? inc : NULL, &o);
    acctdb_snapshot_info_t in;
    if (rc) {
        bad(u, "archive %s does not load: %s (%s)", name, s ? acctdb_snapshot_errmsg(s) : "",
            acctdb_strerror(rc));
    } else if ((rc = acctdb_snapshot_info(s, &in)) || !in.verified || !in.has_lt_checksum) {
        bad(u, "archive %s: loaded but not verified", name);
    } else {
        ref_t const *ref = ref_get(n->slot);
        char         x[ACCTDB_BASE58_32_SZ], y[ACCTDB_BASE58_32_SZ];
        if (in.slot != n->slot)
            bad(u, "archive %s holds slot %llu", name, (unsigned long long)in.slot);
        else if (!ref)
            bad(u, "archive %s is of slot %llu, which was never a durable root", name,
                (unsigned long long)n->slot);
        else if (!same_ck(in.lt_checksum, ref->ck) || in.capitalization != ref->cap)
            bad(u, "archive %s: lattice checksum %s, capitalization %llu; the root had %s, %llu",
                name, b58(in.lt_checksum, x), (unsigned long long)in.capitalization,
                b58(ref->ck, y), (unsigned long long)ref->cap);
        else
            u->archives_verified++;
    }
    acctdb_snapshot_close(s);
}

static void
check_archives(run_t *u) {
    DIR *d = opendir(u->arch);
    if (!d) {
        bad(u, "cannot open %s: %s", u->arch, strerror(errno));
        return;
    }
    typedef struct ent {
        char        name[256];
        aname_t     n;
        struct stat st;
    } ent_t;
    ent_t         *e = malloc(ARCH_MAX * sizeof *e);
    size_t         ne = 0;
    uint64_t       tmps = 0;
    struct dirent *de;
    while (e && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
            tmps++; /* a killed writer's; the next writer sweeps it */
            continue;
        }
        if (ne == ARCH_MAX || strlen(de->d_name) >= sizeof e->name) {
            bad(u, "%s: too many entries or a long name: %s", u->arch, de->d_name);
            continue;
        }
        ent_t *x = &e[ne];
        snprintf(x->name, sizeof x->name, "%s", de->d_name);
        if (!parse_name(x->name, &x->n)) {
            bad(u, "%s/%s: neither an archive nor a writer's temporary file", u->arch, x->name);
            continue;
        }
        if (fstatat(dirfd(d), x->name, &x->st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(x->st.st_mode)) {
            bad(u, "%s/%s: not a regular file", u->arch, x->name);
            continue;
        }
        ne++;
    }
    closedir(d);
    if (!e) {
        bad(u, "out of memory");
        return;
    }
    if (tmps > u->tmps_max) u->tmps_max = tmps;
    for (size_t i = 0; i < ne; i++) {
        if (seen_before(u, e[i].name, &e[i].st)) continue;
        char const *full = NULL;
        if (e[i].n.inc) {
            for (size_t k = 0; k < ne && !full; k++)
                if (!e[k].n.inc && e[k].n.slot == e[i].n.base) full = e[k].name;
            if (!full) { /* its full went first in a retention the kill cut short */
                u->orphans++;
                continue;
            }
        }
        int before = u->bad;
        check_archive(u, e[i].name, &e[i].n, full);
        if (u->bad == before) remember(u, e[i].name, &e[i].st);
    }
    free(e);
    if (ne) {
        char full[4096], inc[4096], msg[512];
        int rc = acctdb_snapshot_find(u->arch, full, sizeof full, inc, sizeof inc, msg, sizeof msg);
        if (rc)
            bad(u, "acctdb_snapshot_find in %s: %s", u->arch, msg);
        else if (strstr(full, TMP_PREFIX) || strstr(inc, TMP_PREFIX))
            bad(u, "acctdb_snapshot_find took a temporary file: %s %s", full, inc);
    }
}

/* ---- setup -------------------------------------------------------------------------- */

static int
add_genesis_key(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    return key_add(ctx, &a->pubkey);
}

static int
setup(run_t *u) {
    if (mkdir(u->dir, 0755) && errno != EEXIST)
        return tool_fail(-errno, "crashtest: cannot create %s", u->dir);
    DIR *d = opendir(u->dir);
    if (!d) return tool_fail(-errno, "crashtest: cannot open %s", u->dir);
    struct dirent *de;
    bool           empty = true;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = false;
    closedir(d);
    if (!empty) return tool_fail(0, "crashtest: %s is not empty", u->dir);
    snprintf(u->dbdir, sizeof u->dbdir, "%s/db", u->dir);
    snprintf(u->arch, sizeof u->arch, "%s/archives", u->dir);
    snprintf(u->genesis, sizeof u->genesis, "%s/genesis.bin", u->dir);
    if (mkdir(u->arch, 0755)) return tool_fail(-errno, "crashtest: cannot create %s", u->arch);

    acctdb_cluster_opts_t co;
    acctdb_cluster_opts_default(&co);
    co.seed = u->seed;
    co.slots_per_epoch = 64; /* epoch boundaries every few chunks */
    char msg[1024];
    if (acctdb_cluster_genesis_write(&co, u->genesis, msg, sizeof msg))
        return tool_fail(0, "crashtest: genesis: %s", msg);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    cfg.threads = 1;
    acctdb_db_source_t src = {.genesis_path = u->genesis};
    acctdb_db_t       *db = NULL;
    if (acctdb_db_create(&db, u->dbdir, &src, &cfg, msg, sizeof msg))
        return tool_fail(0, "crashtest: creating %s: %s", u->dbdir, msg);
    uint64_t           root = acctdb_db_root_slot(db, NULL);
    acctdb_bank_info_t info;
    int                rc = acctdb_db_bank_info(db, root, &info);
    acctdb_db_close(db);
    if (rc) return tool_fail(rc, "crashtest: the new database's root");
    ref_put(root, info.lt_checksum, info.capitalization);
    atomic_store(&g_sh->durable, root);

    /* The genesis accounts start the list; the root hook adds the rest. */
    acctdb_snapshot_opts_t o;
    memset(&o, 0, sizeof o);
    o.threads = 1;
    acctdb_snapshot_t *g = NULL;
    rc = acctdb_genesis_open(&g, u->genesis, &o);
    if (!rc) rc = acctdb_snapshot_iterate(g, NULL, add_genesis_key, &g_kset);
    if (rc) {
        tool_fail(rc, "crashtest: reading the genesis accounts: %s",
                  g ? acctdb_snapshot_errmsg(g) : "");
        acctdb_snapshot_close(g);
        return 2;
    }
    acctdb_snapshot_close(g);
    /* The checks must hold before any kill: the reference is complete. */
    u->cycle = 0;
    check_db(u);
    if (u->bad) return tool_fail(0, "crashtest: the new database fails its own reference");
    return 0;
}

/* ---- the run ------------------------------------------------------------------------ */

typedef struct tally {
    uint64_t phase[PH_CNT + 1];
    uint64_t external, targeted, target_hits, corruptions, child_errors;
} tally_t;

static int
one_cycle(run_t *u, tally_t *t) {
    acctdb_rng_t r = acctdb_rng_at(u->seed, u->cycle, 0x706c616e);
    uint64_t     delay = DELAY_MIN_NS + acctdb_rng_below(&r, DELAY_MAX_NS - DELAY_MIN_NS + 1);
    bool         targeted = u->cycle % 2 == 0; /* every other cycle */
    int          target = -1;
    if (targeted) {
        int    ph = g_rotation[(u->cycle / 2) % (sizeof g_rotation / sizeof *g_rotation)];
        size_t cand[POINT_CNT], nc = 0;
        for (size_t i = 0; i < POINT_CNT; i++)
            if (g_points[i].phase == ph) cand[nc++] = i;
        target = (int)cand[acctdb_rng_below(&r, nc)];
    }
    uint64_t child_seed = acctdb_rng_next(&r);

    shm_t *sh = g_sh;
    for (int i = 0; i < PH_CNT; i++)
        atomic_store(&sh->active[i], 0);
    atomic_store(&sh->last_point, 0);
    atomic_store(&sh->target_hit, 0);
    sh->err[0] = 0;
    sh->durable = u->root;
    uint64_t t0 = now_ns();
    sh->target = target;
    sh->target_ns = t0 + delay;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return tool_fail(-errno, "crashtest: fork");
    if (pid == 0) child_main(u->dbdir, u->arch, child_seed, u->cycle);

    uint64_t deadline = t0 + delay + (targeted ? FALLBACK_NS : 0);
    int      st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return tool_fail(-errno, "crashtest: waitpid");
        uint64_t now = now_ns();
        if (now >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        uint64_t left = deadline - now;
        sleep_ns(left < 1000000 ? left : 1000000);
    }
    double life = (double)(now_ns() - t0) * 1e-9;
    bool   hit = atomic_load(&sh->target_hit) != 0;
    if (targeted) {
        t->targeted++;
        t->target_hits += hit;
    } else {
        t->external++;
    }
    bool by_kill = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
    if (!by_kill) {
        t->child_errors++;
        fprintf(stderr, "acctdb crashtest: cycle %llu: the child %s %d: %s\n",
                (unsigned long long)u->cycle, WIFSIGNALED(st) ? "died of signal" : "exited with",
                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
                sh->err[0] ? sh->err : "(no message)");
    }
    bool any = false;
    char where[128] = "";
    for (int i = 0; i < PH_CNT; i++) {
        if (atomic_load(&sh->active[i]) <= 0) continue;
        t->phase[i]++;
        snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s", any ? "+" : "",
                 g_phase_names[i]);
        any = true;
    }
    if (!any) {
        t->phase[PH_WORKLOAD]++;
        snprintf(where, sizeof where, "workload");
    }
    int ts = kset_catch_up(&g_kset);
    if (ts) return tool_fail(ts, "crashtest: the key set");

    uint64_t reported = atomic_load(&sh->durable);
    u->bad = 0;
    uint64_t tc = now_ns();
    check_db(u);
    uint64_t ta = now_ns();
    check_archives(u);
    u->check_ns += ta - tc;
    u->arch_ns += now_ns() - ta;
    if (u->bad) {
        t->corruptions++;
        fprintf(stderr,
                "acctdb crashtest: cycle %llu failed (seed %llu; killed in %s at %s after "
                "%.3f s)\n",
                (unsigned long long)u->cycle, (unsigned long long)u->seed, where,
                atomic_load(&sh->last_point) ? g_points[atomic_load(&sh->last_point) - 1].name
                                             : "no point yet",
                life);
    }
    /* Slots above the root are gone: the next child roots those numbers
     * again, with other contents. */
    for (uint32_t i = 0; i < RING_SZ; i++)
        if (atomic_load(&sh->ring[i].slot1) > u->root + 1) atomic_store(&sh->ring[i].slot1, 0);
    if (u->verbose) {
        int  lp = atomic_load(&sh->last_point);
        char how[128];
        if (targeted)
            snprintf(how, sizeof how, "kill at %s (from %.3f s)%s", g_points[target].name,
                     (double)delay * 1e-9, hit ? "" : " not reached: outside kill");
        else
            snprintf(how, sizeof how, "outside kill");
        printf("cycle %llu: %s after %.3f s, in %s (last point %s); reopened at %llu (durable "
               "reported %llu): %llu live accounts of %llu pubkeys, %llu storages, %.1f MiB%s\n",
               (unsigned long long)u->cycle, how, life, where, lp ? g_points[lp - 1].name : "-",
               (unsigned long long)u->root, (unsigned long long)reported,
               (unsigned long long)u->keys_found, (unsigned long long)atomic_load(&sh->keys_cnt),
               (unsigned long long)u->storages, (double)u->storage_bytes / 1048576.0,
               u->bad ? ": FAILED" : "");
        fflush(stdout);
    }
    return 0;
}

/* Setup, the cycles and the summary; the exit status. */
static int
run_all(run_t *u, uint64_t cycles) {
    printf("crashtest: %s, seed %llu, %llu cycles\n", u->dir, (unsigned long long)u->seed,
           (unsigned long long)cycles);
    fflush(stdout);
    uint64_t t0 = now_ns();
    int      rc = setup(u);
    if (rc) return rc;
    tally_t t;
    memset(&t, 0, sizeof t);
    for (u->cycle = 1; u->cycle <= cycles; u->cycle++)
        if ((rc = one_cycle(u, &t))) return rc;
    double secs = (double)(now_ns() - t0) * 1e-9;

    printf("cycles=%llu\n", (unsigned long long)cycles);
    printf("kills: %llu outside (uniform 20 ms - 2 s), %llu phase-targeted (%llu at their "
           "point, %llu killed outside 1 s later)\n",
           (unsigned long long)t.external, (unsigned long long)t.targeted,
           (unsigned long long)t.target_hits, (unsigned long long)(t.targeted - t.target_hits));
    printf("killed phases (of %llu kills; a kill can land in several, the services run on "
           "their own threads):\n",
           (unsigned long long)cycles);
    for (int i = 0; i <= PH_CNT; i++)
        printf("  %-9s %6llu %5.1f%%\n", g_phase_names[i], (unsigned long long)t.phase[i],
               100.0 * (double)t.phase[i] / (double)cycles);
    printf("child work: %llu workload chunks (%llu slots), %llu service steps, %llu full and "
           "%llu incremental snapshots completed\n",
           (unsigned long long)atomic_load(&g_sh->chunks),
           (unsigned long long)atomic_load(&g_sh->slots),
           (unsigned long long)atomic_load(&g_sh->steps),
           (unsigned long long)atomic_load(&g_sh->snaps_full),
           (unsigned long long)atomic_load(&g_sh->snaps_inc));
    printf("points reached:");
    for (size_t i = 0; i < POINT_CNT; i++)
        printf(" %s %llu%s", g_points[i].name, (unsigned long long)atomic_load(&g_sh->hits[i]),
               i + 1 < POINT_CNT ? "," : "\n");
    if (atomic_load(&g_sh->unknown_points))
        printf("points this tool does not know: %llu passes (the first: %s)\n",
               (unsigned long long)atomic_load(&g_sh->unknown_points), g_sh->unknown);
    printf("checked: root %llu at the last reopen, %llu live accounts of %llu pubkeys, %llu "
           "archives verified (%llu incrementals without their full skipped; at most %llu "
           "temporary files of killed writers at once)\n",
           (unsigned long long)u->root, (unsigned long long)u->keys_found,
           (unsigned long long)atomic_load(&g_sh->keys_cnt),
           (unsigned long long)u->archives_verified, (unsigned long long)u->orphans,
           (unsigned long long)u->tmps_max);
    printf("time: %.1f s (%.1f s reopening and checking the database, %.1f s verifying "
           "archives)\n",
           secs, (double)u->check_ns * 1e-9, (double)u->arch_ns * 1e-9);
    if (t.child_errors)
        printf("child errors: %llu (see above)\n", (unsigned long long)t.child_errors);
    printf("corruptions=%llu\n", (unsigned long long)t.corruptions);
    fflush(stdout);
    return t.corruptions || t.child_errors ? 1 : 0;
}

int
cmd_crashtest(int argc, char **argv) {
    enum { O_CYCLES = 1, O_DIR, O_SEED, O_VERBOSE, O_HELP };
    static struct option const lo[] = {
        {"cycles", required_argument, 0, O_CYCLES}, {"dir", required_argument, 0, O_DIR},
        {"seed", required_argument, 0, O_SEED},     {"verbose", no_argument, 0, O_VERBOSE},
        {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0}};
    run_t u;
    memset(&u, 0, sizeof u);
    uint64_t cycles = 0;
    bool     has_cycles = false, has_seed = false;
    int      c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
        int st = 0;
        switch (c) {
        case O_CYCLES:
            st = tool_arg_u64("--cycles", "a count", optarg, 1, 1000000, &cycles);
            has_cycles = true;
            break;
        case O_DIR:
            u.dir = optarg;
            break;
        case O_SEED:
            st = tool_arg_u64("--seed", "a number", optarg, 0, UINT64_MAX, &u.seed);
            has_seed = true;
            break;
        case 'v':
        case O_VERBOSE:
            u.verbose = true;
            break;
        case 'h':
        case O_HELP:
            fputs(USAGE, stdout);
            return 0;
        default:
            fputs(USAGE, stderr);
            return 2;
        }
        if (st) return st;
    }
    if (optind != argc || !has_cycles || !u.dir || !u.dir[0]) {
        fprintf(stderr, "acctdb crashtest: %s\n\n%s",
                optind != argc ? "unexpected argument" : "--cycles N and --dir DIR are required",
                USAGE);
        return 2;
    }
    if (!has_seed) u.seed = now_ns() ^ ((uint64_t)getpid() << 32);

    g_sh = mmap(NULL, sizeof *g_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    g_keys = mmap(NULL, KEYS_MAX * sizeof *g_keys, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    u.seen = calloc(ARCH_MAX, sizeof *u.seen);
    u.big = malloc(ACCTDB_MIX_DATA_MAX);
    u.bkeys = malloc(LOAD_BATCH * sizeof *u.bkeys);
    u.bout = malloc(LOAD_BATCH * sizeof *u.bout);
    u.brc = malloc(LOAD_BATCH * sizeof *u.brc);
    u.bbuf = malloc(4u << 20);
    int rc = g_sh == MAP_FAILED || g_keys == MAP_FAILED || !u.seen || !u.big || !u.bkeys ||
                     !u.bout || !u.brc || !u.bbuf
                 ? tool_fail(-ENOMEM, "crashtest")
                 : run_all(&u, cycles);
    if (g_sh != MAP_FAILED) munmap(g_sh, sizeof *g_sh);
    if (g_keys != MAP_FAILED) munmap(g_keys, KEYS_MAX * sizeof *g_keys);
    free(g_kset.slot);
    free(u.seen);
    free(u.big);
    free(u.bkeys);
    free(u.bout);
    free(u.brc);
    free(u.bbuf);
    return rc;
}
