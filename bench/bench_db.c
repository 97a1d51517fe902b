/* bench/bench_db.c - the accounts database under one mainnet-like workload,
 * next to LMDB, RocksDB and SQLite on the same data and the same operation
 * trace, in the same run.
 *
 *   build/release/bench_db [--accounts N] [--slots S] [--seed X] [--dir D] [--keep]
 *                          [--only acctdb,lmdb,rocksdb,sqlite] [--threads T]
 *                          [--cache DIR]
 *
 * Setup.  A snapshot of N accounts (default 10,000,000) is generated with
 * acctdb_snapshot_gen (cached in DIR/snap-N[-sX], default bench/cache, the
 * one bench_snapshot uses for seed 1).  acctdb gets a database made from it
 * with acctdb_db_create (timed, in a child process); a second child reopens
 * it with acctdb_db_open and runs the trace, and its RssAnon growth over
 * that open, divided by the index's key count, is the RAM per indexed
 * account.  Each peer bulk-loads the same live accounts (pubkey ->
 * lamports, rent_epoch, owner, executable, data) in pubkey order, read with
 * acctdb_snapshot_iterate from one no-verify load of the same archive
 * (LMDB: MDB_APPEND in 1 M-record transactions; RocksDB: SstFileWriter
 * files ingested; SQLite: sorted inserts in 1 M-row transactions with the
 * journal off); those loads are printed, not compared.
 *
 * The trace, generated once from the seed and replayed identically on each
 * engine (every engine runs in its own child process):
 *   per slot, 2,000..5,000 stores: 80% to a hot 10% of the snapshot's keys,
 *   16.5% uniform over all keys, 3% new accounts, 0.5% closes (zero
 *   lamports; peers delete); an account keeps its owner and data size
 *   (accounts over 10 KiB are not written); a new account, and a closed
 *   key stored again, takes its size and owner from the account mix that
 *   made the snapshot (acctdb_mix_draw, redrawn above 10 KiB: 70% 165-byte
 *   token accounts, 15% empty system accounts, 15% 200 B - 2 KiB program
 *   accounts);
 *   then 20 loads per store, skewed the same way, at the newest slot;
 *   roots lag 32 slots.
 * acctdb: acctdb_db_bank_begin + acctdb_db_store (the slot's batch) +
 * acctdb_db_freeze, acctdb_db_root(slot - 32), default configuration
 * (background services on).  Peers have no forks: one keyspace, one write
 * transaction per slot, and durable at root: each slot roots one, so each
 * syncs once per slot (LMDB: MDB_NOSYNC env, mdb_env_sync(force) at root;
 * RocksDB: WriteBatch with sync=false, FlushWAL(sync) at root; SQLite: WAL
 * with synchronous=FULL, which syncs the WAL at each slot's commit).
 *
 * Measured: stores/s (accounts stored / seconds in the store, commit, sync,
 * and for acctdb bank_begin, freeze and root calls), loads/s (one thread,
 * one account per call, data copied out), p50/p99 load latency (every 16th
 * load timed alone); for acctdb also acctdb_db_load_batch (batches of
 * 64..256 keys, one thread) on 165-byte token accounts and on the mixed
 * stream, the flush service's throughput in the trace (flushed bytes /
 * service time) and its capacity (flush_gbps: the trace's slots replayed
 * and rooted with the services off, then one flush pass over that backlog:
 * cached bytes of rooted slots / pass time; an index checkpoint that pass
 * or the trace's flush service writes is timed apart), then that
 * capacity child is killed (SIGKILL) with its pass committed and a new one
 * reopens: acctdb_kill_reopen_s (the base index file its commit names,
 * the storages since replayed) against a reopen without index files (a
 * full scan of every storage), and RAM.  Every engine's loads must agree: found count and a
 * checksum of what was read.  The last line is key=value pairs.  Benchmarks never assert: compare
 * the figures with docs/PERFORMANCE.md. */
#include "acctdb_sim.h"
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <inttypes.h>
#include <lmdb.h>
#include <malloc.h>
#include <rocksdb/c.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --index-ram: UINT64_MAX the whole index in RAM (default); 0 the disk
 * tier without a limit; else its RAM budget in bytes. */
static uint64_t g_index_ram = UINT64_MAX;
static char     g_index_ram_name[32] = "ram"; /* as given: ram, disk or the budget */

static void
index_cfg(acctdb_db_config_t *cfg) {
    if (g_index_ram == UINT64_MAX) return;
    cfg->index_disk = true;
    cfg->index_ram_bytes = g_index_ram;
}

#define LAG          32    /* roots lag the newest slot */
#define LOAD_RATIO   20    /* loads per store */
#define HOT_PCT      10    /* hot set: 10% of the snapshot's keys */
#define STORE_MAX_SZ 10240 /* accounts above this are never written */
#define SAMPLE_EVERY 16    /* every 16th load is timed alone */
#define BATCH_MIN    64
#define BATCH_MAX    256
#define VAL_HDR      49 /* peer value: lamports, rent_epoch, owner, executable */
#define DATA_MAX     (10u << 20)
#define MAX_OWNERS   65535u

/* The purposes of the trace's generator streams (acctdb_rng_at). */
enum { RNG_TRACE = 1, RNG_DATA = 2, RNG_BATCH = 3 };

enum { E_ACCTDB, E_LMDB, E_ROCKSDB, E_SQLITE, E_CNT };
static char const *const k_names[E_CNT] = {"acctdb", "lmdb", "rocksdb", "sqlite"};

/* ---- small helpers -------------------------------------------------------- */

static void
die(char const *fmt, char const *arg) {
    fprintf(stderr, "bench_db: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static void *
xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%s)", "malloc");
    return p;
}

static void *
xcalloc(size_t n, size_t sz) {
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) die("out of memory (%s)", "calloc");
    return p;
}

static uint64_t g_du;
static int
du_cb(char const *p, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)p, (void)flag, (void)ftw;
    g_du += (uint64_t)sb->st_blocks * 512;
    return 0;
}

/* Bytes allocated on disk under p. */
static uint64_t
disk_usage(char const *p) {
    g_du = 0;
    nftw(p, du_cb, 64, FTW_PHYS);
    return g_du;
}

/* Reads every file under p once (into the page cache), so that every
 * engine starts its trace with its files cached, as the peers' freshly
 * written files are (acctdb writes its account files with O_DIRECT). */
static uint64_t g_warm;
static int
warm_cb(char const *p, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)ftw;
    if (flag != FTW_F) return 0;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    /* Only the allocated extents: LMDB's map file is sparse and far larger
     * than its data. */
    static char buf[1 << 20];
    off_t       end = sb->st_size, off = 0;
    while (off < end) {
        off_t d = lseek(fd, off, SEEK_DATA);
        if (d < 0) break;
        off_t h = lseek(fd, d, SEEK_HOLE);
        if (h < 0) h = end;
        for (off_t o = d; o < h;) {
            size_t  want = (size_t)(h - o < (off_t)sizeof buf ? h - o : (off_t)sizeof buf);
            ssize_t r = pread(fd, buf, want, o);
            if (r <= 0) break;
            g_warm += (uint64_t)r;
            o += r;
        }
        off = h;
    }
    close(fd);
    return 0;
}

static void
warm_dir(char const *who, char const *p) {
    g_warm = 0;
    double t0 = now_s();
    nftw(p, warm_cb, 64, FTW_PHYS);
    printf("%s: %.0f MB of files read into the page cache in %.1f s (not measured)\n", who,
           (double)g_warm / 1e6, now_s() - t0);
    fflush(stdout);
}

/* A field of /proc/self/status or /proc/meminfo, in KiB. */
static uint64_t
proc_kb(char const *file, char const *field) {
    FILE *f = fopen(file, "r");
    if (!f) return 0;
    char     line[256];
    uint64_t v = 0;
    size_t   fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = strtoull(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static uint64_t
rss_anon(void) {
    return proc_kb("/proc/self/status", "RssAnon") * 1024;
}

/* ---- the data: live accounts of the snapshot, and the trace -------------- */

/* One store of the trace. */
typedef struct sop {
    uint32_t key;      /* index into keys */
    uint32_t data_len; /* 0 for a close */
    uint64_t lamports; /* 0: close */
    uint16_t owner;    /* index into owners */
} sop_t;

typedef struct trace {
    /* keys: the snapshot's live accounts in pubkey order, then new ones */
    acctdb_pubkey_t *keys;
    uint32_t         n0, n_keys, n_hot;
    uint32_t        *klen;  /* current data size (generation state) */
    uint16_t        *kown;  /* current owner */
    uint8_t         *klive; /* live now (generation state) */
    acctdb_pubkey_t *owners;
    uint32_t         n_owners;
    /* per slot: stores st[st_off[s] .. st_off[s+1]), loads 20x as many in
     * each of three streams: l1 mixed singles, l2 165-byte batched, l3
     * mixed batched */
    uint32_t  slots;
    uint64_t *st_off;
    sop_t    *st;
    uint64_t *ld_off;
    uint32_t *l1, *l2, *l3;
    uint64_t  seed;
    /* where peers read the accounts from */
    acctdb_snapshot_t *snap;
    uint64_t           snap_slot, snap_tar_sz;
} trace_t;

static uint32_t *g_own_hash; /* owner dedup: open addressing, index+1 */
static uint32_t  g_own_cap;

static uint32_t
owner_id(trace_t *t, acctdb_pubkey_t const *o) {
    uint64_t h;
    memcpy(&h, o->b + 8, 8);
    h *= 0x9E3779B97F4A7C15ull;
    for (uint32_t i = (uint32_t)(h >> 40) & (g_own_cap - 1);; i = (i + 1) & (g_own_cap - 1)) {
        uint32_t v = g_own_hash[i];
        if (!v) {
            if (t->n_owners >= MAX_OWNERS) return 0; /* never with the generator */
            t->owners[t->n_owners] = *o;
            g_own_hash[i] = ++t->n_owners;
            return t->n_owners - 1;
        }
        if (!memcmp(t->owners[v - 1].b, o->b, 32)) return v - 1;
    }
}

typedef struct collect {
    trace_t        *t;
    uint64_t        cap;
    bool            sorted;
    acctdb_pubkey_t sysvar;
} collect_t;

static int
collect_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    collect_t *c = ctx;
    trace_t   *t = c->t;
    /* Sysvars are the runtime's (acctdb's bank_begin writes Clock and
     * SlotHistory each slot; the peers have no such thing): not in the trace. */
    if (!memcmp(a->owner.b, c->sysvar.b, 32)) return 0;
    if (t->n0 == c->cap) return 1;
    if (t->n0 && memcmp(t->keys[t->n0 - 1].b, a->pubkey.b, 32) >= 0) c->sorted = false;
    t->keys[t->n0] = a->pubkey;
    t->klen[t->n0] = a->data_len > UINT32_MAX ? UINT32_MAX : (uint32_t)a->data_len;
    t->kown[t->n0] = (uint16_t)owner_id(t, &a->owner);
    t->klive[t->n0] = 1;
    t->n0++;
    return 0;
}

/* The i-th member of the hot set: a stride permutation of the snapshot's
 * keys (4294967291 is prime and larger than n0, so coprime with it), so hot
 * keys are spread over the whole key space (no B-tree page locality). */
static inline uint32_t
hot_key(trace_t const *t, uint64_t j) {
    return (uint32_t)((j * 4294967291ull) % t->n0);
}

/* A key drawn from the skewed distribution: 80% hot, the rest uniform over
 * every key made so far. */
static inline uint32_t
draw_key(trace_t const *t, acctdb_rng_t *r) {
    uint64_t x = acctdb_rng_next(r);
    if (x % 1000 < 800) return hot_key(t, (x >> 16) % t->n_hot);
    return (uint32_t)((x >> 16) % t->n_keys);
}

/* Key `key` becomes a live account of the mix: data size and owner from
 * acctdb_mix_draw, redrawn while above STORE_MAX_SZ. */
static void
new_account(trace_t *t, uint32_t key, acctdb_rng_t *r) {
    acctdb_mix_shape_t m;
    do
        m = acctdb_mix_draw(r);
    while (m.data_len > STORE_MAX_SZ);
    acctdb_pubkey_t owner = acctdb_mix_owner(&m);
    t->klen[key] = m.data_len;
    t->kown[key] = (uint16_t)owner_id(t, &owner);
    t->klive[key] = 1;
}

static void
trace_gen(trace_t *t, uint32_t slots, uint64_t seed) {
    acctdb_rng_t r = acctdb_rng_at(seed, 0, RNG_TRACE);
    t->slots = slots;
    t->seed = seed;
    t->n_hot = t->n0 / (100 / HOT_PCT);
    if (!t->n_hot) t->n_hot = 1;
    t->n_keys = t->n0;
    uint64_t max_st = (uint64_t)slots * 5000;
    t->st_off = xcalloc(slots + 1, sizeof *t->st_off);
    t->ld_off = xcalloc(slots + 1, sizeof *t->ld_off);
    t->st = xcalloc(max_st, sizeof *t->st);
    t->l1 = xcalloc(max_st * LOAD_RATIO, sizeof *t->l1);
    t->l2 = xcalloc(max_st * LOAD_RATIO, sizeof *t->l2);
    t->l3 = xcalloc(max_st * LOAD_RATIO, sizeof *t->l3);
    uint64_t ns = 0, nl = 0;
    for (uint32_t s = 0; s < slots; s++) {
        t->st_off[s] = ns;
        uint32_t n = 2000 + (uint32_t)acctdb_rng_below(&r, 3001);
        for (uint32_t i = 0; i < n; i++) {
            sop_t   *o = &t->st[ns++];
            uint64_t k = acctdb_rng_below(&r, 1000);
            uint32_t key;
            if (k < 30) { /* a new account */
                key = t->n_keys++;
                acctdb_rng_fill(&r, t->keys[key].b, 32);
                new_account(t, key, &r);
            } else if (k < 35) { /* a close, of an account outside the hot set */
                key = (uint32_t)acctdb_rng_below(&r, t->n_keys);
                for (int tries = 0; tries < 16 && (!t->klive[key] || t->klen[key] > STORE_MAX_SZ);
                     tries++)
                    key = (uint32_t)acctdb_rng_below(&r, t->n_keys);
                if (t->klive[key] && t->klen[key] <= STORE_MAX_SZ) {
                    *o = (sop_t){key, 0, 0, t->kown[key]};
                    t->klive[key] = 0;
                    continue;
                }
            } else {
                key = draw_key(t, &r);
                for (int tries = 0; tries < 64 && t->klen[key] > STORE_MAX_SZ; tries++)
                    key = draw_key(t, &r);
                if (t->klen[key] > STORE_MAX_SZ) key = hot_key(t, 0), t->klen[key] = 165;
            }
            if (!t->klive[key]) new_account(t, key, &r); /* a closed key stored again */
            *o = (sop_t){key, t->klen[key], 890880 + acctdb_rng_below(&r, 100000000000ull),
                         t->kown[key]};
        }
        /* Loads at this slot, after its stores. */
        t->ld_off[s] = nl;
        for (uint64_t i = 0; i < (uint64_t)n * LOAD_RATIO; i++) {
            t->l1[nl + i] = draw_key(t, &r);
            t->l3[nl + i] = draw_key(t, &r);
            uint32_t k2 = draw_key(t, &r);
            for (int tries = 0; tries < 64 && !(t->klive[k2] && t->klen[k2] == 165); tries++)
                k2 = draw_key(t, &r);
            t->l2[nl + i] = k2;
        }
        nl += (uint64_t)n * LOAD_RATIO;
    }
    t->st_off[slots] = ns;
    t->ld_off[slots] = nl;
}

/* The accounts of slot s's stores: the same bytes for every engine. */
static size_t
slot_batch(trace_t const *t, uint32_t s, acctdb_account_t *a, uint8_t *arena) {
    size_t n = (size_t)(t->st_off[s + 1] - t->st_off[s]), used = 0;
    for (size_t i = 0; i < n; i++) {
        sop_t const *o = &t->st[t->st_off[s] + i];
        acctdb_rng_t r = acctdb_rng_at(t->seed, (uint64_t)s << 32 | i, RNG_DATA);
        a[i] = (acctdb_account_t){.pubkey = t->keys[o->key],
                                  .owner = t->owners[o->owner],
                                  .lamports = o->lamports,
                                  .rent_epoch = UINT64_MAX,
                                  .data_len = o->data_len,
                                  .data = arena + used,
                                  .executable = false};
        acctdb_rng_fill(&r, arena + used, o->data_len);
        used += o->data_len;
    }
    return n;
}

/* ---- results (shared with the children) ---------------------------------- */

typedef struct res {
    int      ran, ok;
    char     err[512];
    double   setup_s, setup_wall_s, setup2_s; /* create/bulk load; acctdb: reopen */
    uint64_t setup_accounts;
    double   store_s, sync_s; /* stores incl. commit and sync; the sync/root part */
    uint64_t stores;
    double   load_s;
    uint64_t loads, found, chk;
    double   p50_ns, p90_ns, p99_ns, p999_ns, max_ns;
    uint64_t disk_bytes;
    /* acctdb */
    double   begin_s, storecall_s, freeze_s, root_s;
    double   b165_s, bmix_s;
    uint64_t b165_n, b165_found, bmix_n, bmix_found;
    uint64_t rss_create_growth, rss_open_growth, rss_after_trace, rss_base;
    uint64_t index_keys, index_ram_sz, owner_keys, index_versions;
    uint64_t flushed_bytes, flush_ns, flush_work, flush_passes;
    uint64_t clean_work, shrink_work, purge_work, svc_ns[ACCTDB_SERVICE_CNT];
    uint64_t root_lag_end, write_cache_sz, read_cache_hits, read_cache_misses;
    double   drain_s, close_s;
    uint64_t storages, segments;
    uint64_t cap_slots, cap_accts, cap_cached, cap_written; /* flush capacity */
    double   cap_s;
    uint64_t ckpts, ckpt_ns;           /* index checkpoints in the trace (in the flush service) */
    uint64_t cap_ckpt_ns;              /* ... and in the capacity pass */
    double   kill_open_s, scan_open_s; /* reopen after the capacity run's kill; a full scan */
    uint64_t kill_replayed;
    int      kill_rebuilt;
    char     kill_reason[120];
    char     note[256];
} res_t;

static res_t *g_res; /* MAP_SHARED: E_CNT entries + 1 for the create child */

static void
fail(res_t *r, char const *what, char const *msg) {
    snprintf(r->err, sizeof r->err, "%.100s: %.400s", what, msg);
    fprintf(stderr, "bench_db: %s: %s\n", what, msg);
    r->ok = 0;
}

/* ---- engines: one interface for the trace ---------------------------------- */

typedef struct engine {
    void *h;
    /* The slot's stores, committed (peers: one transaction). */
    int (*slot_write)(struct engine *e, uint64_t slot, uint64_t parent, acctdb_account_t const *a,
                      size_t n, res_t *r);
    /* Durable at root (acctdb: acctdb_db_root). */
    int (*root)(struct engine *e, uint64_t slot, res_t *r);
    int (*read_begin)(struct engine *e);
    void (*read_end)(struct engine *e);
    /* 0 found, 1 absent, < 0 error. */
    int (*get)(struct engine *e, uint64_t slot, acctdb_pubkey_t const *k, acctdb_account_t *out,
               uint8_t *buf, size_t max);
    char errbuf[512];
} engine_t;

/* A cheap digest of a loaded account, summed (order-free). */
static inline uint64_t
acct_digest(acctdb_account_t const *a) {
    uint64_t d = a->lamports * 0x9E3779B97F4A7C15ull ^ a->data_len ^ (a->rent_epoch << 7);
    d ^= (uint64_t)a->owner.b[0] << 16 ^ (uint64_t)a->owner.b[31] << 24;
    if (a->data_len) {
        uint64_t x = 0;
        memcpy(&x, a->data, a->data_len < 8 ? (size_t)a->data_len : 8);
        d += x * 31 + a->data[a->data_len - 1];
    }
    return d;
}

static size_t
val_encode(uint8_t *v, acctdb_account_t const *a) {
    memcpy(v, &a->lamports, 8);
    memcpy(v + 8, &a->rent_epoch, 8);
    memcpy(v + 16, a->owner.b, 32);
    v[48] = a->executable;
    if (a->data_len) memcpy(v + VAL_HDR, a->data, (size_t)a->data_len);
    return VAL_HDR + (size_t)a->data_len;
}

static int
val_decode(uint8_t const *v, size_t sz, acctdb_pubkey_t const *k, acctdb_account_t *out,
           uint8_t *buf, size_t max) {
    if (sz < VAL_HDR || sz - VAL_HDR > max) return -1;
    out->pubkey = *k;
    memcpy(&out->lamports, v, 8);
    memcpy(&out->rent_epoch, v + 8, 8);
    memcpy(out->owner.b, v + 16, 32);
    out->executable = v[48];
    out->data_len = sz - VAL_HDR;
    memcpy(buf, v + VAL_HDR, sz - VAL_HDR);
    out->data = buf;
    return 0;
}

/* The trace on one engine: per slot, its stores (timed: the store/commit
 * calls and the root/sync), then its single loads (timed; every 16th
 * alone).  acctdb also runs the batched streams. */
typedef struct run_args {
    trace_t const *t;
    engine_t      *e;
    acctdb_db_t   *db; /* acctdb only: batched loads */
    uint64_t       first_slot;
    char const    *name;
} run_args_t;

static int
cmp_u64(void const *a, void const *b) {
    uint64_t x = *(uint64_t const *)a, y = *(uint64_t const *)b;
    return x < y ? -1 : x > y;
}

static void
run_trace(run_args_t const *ra, res_t *r) {
    trace_t const    *t = ra->t;
    engine_t         *e = ra->e;
    acctdb_account_t *batch = xcalloc(5000, sizeof *batch);
    uint8_t          *arena = xmalloc((size_t)5000 * STORE_MAX_SZ);
    uint8_t          *buf = xmalloc(DATA_MAX + 4096);
    uint64_t          nsamp = t->ld_off[t->slots] / SAMPLE_EVERY + t->slots + 1, ks = 0;
    uint64_t         *lat = xcalloc(nsamp, sizeof *lat);
    size_t const      bbuf_sz = 64u << 20;
    uint8_t          *bbuf = ra->db ? xmalloc(bbuf_sz) : NULL;
    acctdb_pubkey_t  *bkeys = xcalloc(BATCH_MAX, sizeof *bkeys);
    acctdb_account_t *bout = xcalloc(BATCH_MAX, sizeof *bout);
    int              *brc = xcalloc(BATCH_MAX, sizeof *brc);
    acctdb_rng_t      brng = acctdb_rng_at(t->seed, 0, RNG_BATCH);
    double            report = now_s();
    FILE             *dbg = NULL;
    if (getenv("BENCH_DB_TRACE_OUT")) {
        char p[4096];
        snprintf(p, sizeof p, "%s.%s", getenv("BENCH_DB_TRACE_OUT"), ra->name);
        dbg = fopen(p, "w");
    }
    r->ok = 1;
    for (uint32_t s = 0; s < t->slots && r->ok; s++) {
        uint64_t slot = ra->first_slot + s, parent = slot - 1; /* slot 0's: the snapshot's */
        size_t   n = slot_batch(t, s, batch, arena);
        double   t0 = now_s();
        int      rc = e->slot_write(e, slot, parent, batch, n, r);
        double   t1 = now_s();
        if (!rc && s >= LAG) rc = e->root(e, slot - LAG, r);
        double t2 = now_s();
        r->store_s += t2 - t0;
        r->sync_s += t2 - t1;
        r->stores += n;
        if (rc) {
            fail(r, "store", e->errbuf);
            break;
        }
        /* single loads */
        uint32_t const *l1 = t->l1 + t->ld_off[s];
        uint64_t        nl = t->ld_off[s + 1] - t->ld_off[s], found = 0, chk = 0;
        if (e->read_begin && e->read_begin(e)) {
            fail(r, "read", e->errbuf);
            break;
        }
        double lt0 = now_s();
        for (uint64_t i = 0; i < nl; i++) {
            acctdb_account_t a;
            int              g;
            if (i % SAMPLE_EVERY == 0) {
                uint64_t x = now_ns();
                g = e->get(e, slot, &t->keys[l1[i]], &a, buf, DATA_MAX);
                lat[ks++] = now_ns() - x;
            } else {
                g = e->get(e, slot, &t->keys[l1[i]], &a, buf, DATA_MAX);
            }
            if (dbg) {
                char b58[ACCTDB_BASE58_32_SZ];
                fprintf(dbg, "%u %llu %s %d %llu %llu %016llx\n", s, (unsigned long long)i,
                        acctdb_base58_encode_32(t->keys[l1[i]].b, b58), g,
                        (unsigned long long)(g ? 0 : a.lamports),
                        (unsigned long long)(g ? 0 : a.data_len),
                        (unsigned long long)(g ? 0 : acct_digest(&a)));
            }
            if (g == 0) {
                found++;
                chk += acct_digest(&a);
            } else if (g < 0) {
                fail(r, "load", e->errbuf);
                break;
            }
        }
        r->load_s += now_s() - lt0;
        if (e->read_end) e->read_end(e);
        r->loads += nl;
        r->found += found;
        r->chk += chk;
        /* batched loads (acctdb): the 165-byte stream, then the mixed one */
        for (int stream = 0; ra->db && stream < 2 && r->ok; stream++) {
            uint32_t const *lk = (stream ? t->l3 : t->l2) + t->ld_off[s];
            double          bt = 0;
            uint64_t        bf = 0;
            for (uint64_t i = 0; i < nl;) {
                size_t m = BATCH_MIN + (size_t)acctdb_rng_below(&brng, BATCH_MAX - BATCH_MIN + 1);
                if (m > nl - i) m = (size_t)(nl - i);
                for (size_t j = 0; j < m; j++)
                    bkeys[j] = t->keys[lk[i + j]];
                double x = now_s();
                int    brv = acctdb_db_load_batch(ra->db, slot, bkeys, m, bout, bbuf, bbuf_sz, brc);
                bt += now_s() - x;
                if (brv) {
                    fail(r, "load_batch", acctdb_strerror(brv));
                    break;
                }
                for (size_t j = 0; j < m; j++)
                    bf += brc[j] == 0;
                i += m;
            }
            if (stream) {
                r->bmix_s += bt, r->bmix_n += nl, r->bmix_found += bf;
            } else {
                r->b165_s += bt, r->b165_n += nl, r->b165_found += bf;
            }
        }
        if (now_s() - report > 10) {
            printf("  %s: slot %u/%u: %.0f stores/s, %.0f loads/s so far\n", ra->name, s + 1,
                   t->slots, (double)r->stores / r->store_s, (double)r->loads / r->load_s);
            fflush(stdout);
            report = now_s();
        }
    }
    if (ks) {
        qsort(lat, ks, sizeof *lat, cmp_u64);
        r->p50_ns = (double)lat[ks / 2];
        r->p90_ns = (double)lat[ks * 90 / 100];
        r->p99_ns = (double)lat[ks * 99 / 100];
        r->p999_ns = (double)lat[ks * 999 / 1000];
        r->max_ns = (double)lat[ks - 1];
    }
    free(lat);
    free(batch);
    free(arena);
    free(buf);
    free(bbuf);
    free(bkeys);
    free(bout);
    free(brc);
}

/* ---- acctdb ------------------------------------------------------------------ */

static void
adb_err(engine_t *e, acctdb_db_t *db, char const *what, int rc) {
    snprintf(e->errbuf, sizeof e->errbuf, "%s: %s: %s", what, acctdb_strerror(rc),
             acctdb_db_errmsg(db));
}

static int
adb_slot_write(engine_t *e, uint64_t slot, uint64_t parent, acctdb_account_t const *a, size_t n,
               res_t *r) {
    acctdb_db_t *db = e->h;
    double       t0 = now_s();
    int          rc = acctdb_db_bank_begin(db, slot, parent, 1700000000 + (int64_t)slot * 2 / 5);
    double       t1 = now_s();
    if (rc) {
        adb_err(e, db, "bank_begin", rc);
        return rc;
    }
    rc = acctdb_db_store(db, slot, parent, a, n);
    double t2 = now_s();
    if (rc) {
        adb_err(e, db, "store", rc);
        return rc;
    }
    acctdb_bank_meta_t m = {.signature_count = n, .unix_timestamp = 1700000000};
    acctdb_rng_t       x = acctdb_rng_seed(slot);
    acctdb_rng_fill(&x, m.blockhash.b, 32);
    rc = acctdb_db_freeze(db, slot, &m, NULL);
    double t3 = now_s();
    if (rc) adb_err(e, db, "freeze", rc);
    r->begin_s += t1 - t0;
    r->storecall_s += t2 - t1;
    r->freeze_s += t3 - t2;
    return rc;
}

static int
adb_root(engine_t *e, uint64_t slot, res_t *r) {
    double t0 = now_s();
    int    rc = acctdb_db_root(e->h, slot);
    r->root_s += now_s() - t0;
    if (rc) adb_err(e, e->h, "root", rc);
    return rc;
}

static int
adb_get(engine_t *e, uint64_t slot, acctdb_pubkey_t const *k, acctdb_account_t *out, uint8_t *buf,
        size_t max) {
    int rc = acctdb_db_load(e->h, slot, k, out, buf, max, NULL);
    if (rc == ACCTDB_ERR_NOT_FOUND) return 1;
    if (rc) adb_err(e, e->h, "load", rc);
    return rc;
}

static void
adb_stats(acctdb_db_t *db, acctdb_db_stats_t *st) {
    if (acctdb_db_stats(db, st)) memset(st, 0, sizeof *st);
}

/* Child: acctdb_db_create from the archive (timed), RssAnon growth. */
static void
acctdb_create(char const *archive, char const *dir, unsigned threads, res_t *r) {
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.threads = threads;
    index_cfg(&cfg);
    acctdb_db_source_t src = {.full_path = archive};
    char               msg[512] = "";
    acctdb_db_t       *db;
    uint64_t           r0 = rss_anon();
    double             t0 = now_s();
    int                rc = acctdb_db_create(&db, dir, &src, &cfg, msg, sizeof msg);
    r->setup_s = now_s() - t0;
    if (rc) {
        fail(r, "acctdb_db_create", msg[0] ? msg : acctdb_strerror(rc));
        return;
    }
    r->rss_create_growth = rss_anon() - r0;
    acctdb_db_stats_t st;
    adb_stats(db, &st);
    r->index_keys = st.index_keys;
    r->index_ram_sz = st.index_ram_sz;
    t0 = now_s();
    acctdb_db_close(db);
    r->close_s = now_s() - t0;
    r->ok = 1;
}

/* Flush capacity: the trace's slot batches replayed once more with the
 * service threads off, every slot rooted, then one flush pass over that
 * backlog, timed alone (the in-trace figure is bounded by how fast slots
 * root, and pays a sync per pass). */
static void
flush_capacity(trace_t const *t, char const *dir, unsigned threads, res_t *r) {
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.threads = threads;
    cfg.background = false;
    cfg.write_cache_max_sz = 16ull << 30;
    index_cfg(&cfg);
    char         msg[512] = "";
    acctdb_db_t *db;
    if (acctdb_db_open(&db, dir, &cfg, msg, sizeof msg)) {
        fail(r, "acctdb_db_open (flush capacity)", msg);
        return;
    }
    acctdb_account_t *a = xmalloc(5000 * sizeof *a);
    uint8_t          *arena = xmalloc((size_t)5000 * STORE_MAX_SZ);
    engine_t          e = {.h = db};
    res_t             scratch = {0};
    uint64_t          root = acctdb_db_root_slot(db, NULL), accts = 0;
    int               rc = 0;
    for (uint32_t s = 0; s < t->slots && !rc; s++) {
        size_t n = slot_batch(t, s, a, arena);
        rc = adb_slot_write(&e, root + 1, root, a, n, &scratch);
        if (!rc) rc = adb_root(&e, root + 1, &scratch);
        root++;
        accts += n;
    }
    acctdb_db_stats_t st0, st1;
    adb_stats(db, &st0);
    double t0 = now_s();
    int    frc = rc ? rc : acctdb_db_service_step(db, ACCTDB_SERVICE_FLUSH);
    double dt = now_s() - t0;
    adb_stats(db, &st1);
    if (rc || frc < 0) {
        fail(r, "flush capacity", e.errbuf[0] ? e.errbuf : acctdb_db_errmsg(db));
    } else {
        /* The pass may end with an index checkpoint (index_checkpoint_sz):
         * timed apart, not as flush. */
        r->cap_ckpt_ns = st1.index_checkpoint_ns - st0.index_checkpoint_ns;
        r->cap_slots = t->slots;
        r->cap_accts = accts;
        r->cap_cached = st0.write_cache_sz;
        r->cap_written = st1.flushed_bytes - st0.flushed_bytes;
        r->cap_s = dt - (double)r->cap_ckpt_ns / 1e9;
    }
    free(a);
    free(arena);
    /* Killed with that pass committed: the next child measures the reopen
     * (job_acctdb_killed). */
    fflush(stdout);
    fflush(stderr);
    raise(SIGKILL);
}

/* Child: reopen after the kill (the base the commit names, the storages
 * since replayed), close, then a reopen without index files (a full scan)
 * for comparison, and close (which writes the index file again). */
static void
acctdb_killed(char const *dir, unsigned threads, res_t *r) {
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.threads = threads;
    index_cfg(&cfg);
    char         msg[512] = "";
    acctdb_db_t *db;
    double       t0 = now_s();
    int          rc = acctdb_db_open(&db, dir, &cfg, msg, sizeof msg);
    r->kill_open_s = now_s() - t0;
    if (rc) {
        fail(r, "acctdb_db_open after a kill", msg[0] ? msg : acctdb_strerror(rc));
        return;
    }
    acctdb_db_stats_t st;
    adb_stats(db, &st);
    r->kill_replayed = st.index_replayed_storages;
    r->kill_rebuilt = st.index_rebuilt;
    snprintf(r->kill_reason, sizeof r->kill_reason, "%s", st.index_reason);
    printf("acctdb: reopened after a kill in %.2f s: index %s\n", r->kill_open_s, st.index_reason);
    fflush(stdout);
    acctdb_db_close(db);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/index-*", dir);
    if (system(cmd) != 0) {
        fail(r, "removing the index files", dir);
        return;
    }
    t0 = now_s();
    rc = acctdb_db_open(&db, dir, &cfg, msg, sizeof msg);
    r->scan_open_s = now_s() - t0;
    if (rc) {
        fail(r, "acctdb_db_open without index files", msg[0] ? msg : acctdb_strerror(rc));
        return;
    }
    adb_stats(db, &st);
    printf("acctdb: reopened without index files in %.2f s: index %s\n", r->scan_open_s,
           st.index_reason);
    fflush(stdout);
    acctdb_db_close(db);
}

/* Child: reopen (RAM per indexed account), then the trace. */
static void
acctdb_run(trace_t const *t, char const *dir, unsigned threads, res_t *r) {
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.threads = threads;
    index_cfg(&cfg);
    char         msg[512] = "";
    acctdb_db_t *db;
    r->rss_base = rss_anon();
    double t0 = now_s();
    int    rc = acctdb_db_open(&db, dir, &cfg, msg, sizeof msg);
    r->setup2_s = now_s() - t0;
    if (rc) {
        fail(r, "acctdb_db_open", msg[0] ? msg : acctdb_strerror(rc));
        return;
    }
    r->rss_open_growth = rss_anon() - r->rss_base;
    acctdb_db_stats_t st;
    adb_stats(db, &st);
    r->index_keys = st.index_keys;
    r->index_ram_sz = st.index_ram_sz;
    r->owner_keys = st.owner_index_keys;
    r->setup_accounts = st.index_keys;
    uint64_t root0 = acctdb_db_root_slot(db, NULL);
    printf("acctdb: reopened in %.2f s: %llu keys indexed, RssAnon +%.1f MiB (%.1f B/key); the "
           "index's own figure %.1f MiB (%.1f B/key); owner index %llu pairs\n",
           r->setup2_s, (unsigned long long)st.index_keys, (double)r->rss_open_growth / 1048576.0,
           (double)r->rss_open_growth / (double)(st.index_keys ? st.index_keys : 1),
           (double)st.index_ram_sz / 1048576.0,
           (double)st.index_ram_sz / (double)(st.index_keys ? st.index_keys : 1),
           (unsigned long long)st.owner_index_keys);
    fflush(stdout);

    warm_dir("acctdb", dir);
    engine_t   e = {.h = db, .slot_write = adb_slot_write, .root = adb_root, .get = adb_get};
    run_args_t ra = {t, &e, db, root0 + 1, "acctdb"};
    run_trace(&ra, r);

    adb_stats(db, &st);
    r->root_lag_end = st.root_slot - st.durable_root_slot;
    /* How long until the newest root is durable (the flusher catching up). */
    t0 = now_s();
    uint64_t durable = 0, root = acctdb_db_root_slot(db, &durable);
    while (durable < root && now_s() - t0 < 120) {
        usleep(1000);
        root = acctdb_db_root_slot(db, &durable);
    }
    r->drain_s = now_s() - t0;
    adb_stats(db, &st);
    r->rss_after_trace = rss_anon() - r->rss_base;
    if (st.index_disk) {
        uint64_t lk = st.index_hits + st.index_misses;
        printf("acctdb: index tiers after the trace: RAM %.1f MiB heap + %.1f MiB mapped "
               "(%.2f B/key) of a %.1f MiB budget, %llu of %llu keys resident; disk %.1f MiB; "
               "%llu lookups, %.1f%% from RAM; %llu promotions, %llu evictions\n",
               st.index_ram_heap / 1048576.0, st.index_ram_mapped / 1048576.0,
               (double)(st.index_ram_heap + st.index_ram_mapped) /
                   (double)(st.index_keys ? st.index_keys : 1),
               st.index_ram_budget / 1048576.0, (unsigned long long)st.index_ram_keys,
               (unsigned long long)st.index_keys, st.index_disk_bytes / 1048576.0,
               (unsigned long long)lk, lk ? 100.0 * (double)st.index_hits / (double)lk : 100.0,
               (unsigned long long)st.index_promotions, (unsigned long long)st.index_evictions);
        fflush(stdout);
    }
    r->flushed_bytes = st.flushed_bytes;
    r->flush_ns = st.service_ns[ACCTDB_SERVICE_FLUSH];
    r->flush_work = st.service_work[ACCTDB_SERVICE_FLUSH];
    r->flush_passes = st.service_passes[ACCTDB_SERVICE_FLUSH];
    r->clean_work = st.service_work[ACCTDB_SERVICE_CLEAN];
    r->shrink_work = st.service_work[ACCTDB_SERVICE_SHRINK];
    r->purge_work = st.service_work[ACCTDB_SERVICE_PURGE];
    for (int i = 0; i < ACCTDB_SERVICE_CNT; i++)
        r->svc_ns[i] = st.service_ns[i];
    r->write_cache_sz = st.write_cache_sz;
    r->read_cache_hits = st.read_cache_hits;
    r->read_cache_misses = st.read_cache_misses;
    r->index_versions = st.index_versions_listed;
    r->storages = st.storages;
    r->segments = st.segments;
    r->ckpts = st.index_checkpoints;
    r->ckpt_ns = st.index_checkpoint_ns;
    t0 = now_s();
    acctdb_db_close(db);
    r->close_s = now_s() - t0;
    r->disk_bytes = disk_usage(dir);
}

/* ---- LMDB -------------------------------------------------------------------- */

typedef struct lm {
    MDB_env *env;
    MDB_dbi  dbi;
    MDB_txn *txn, *rtxn;
    uint8_t *vbuf;
    uint64_t in_txn;
} lm_t;

static int
lm_err(engine_t *e, char const *what, int rc) {
    snprintf(e->errbuf, sizeof e->errbuf, "%s: %s", what, mdb_strerror(rc));
    return rc ? rc : -1;
}

static int
lm_open(engine_t *e, char const *dir, uint64_t map_sz) {
    lm_t *l = xcalloc(1, sizeof *l);
    e->h = l;
    l->vbuf = xmalloc(VAL_HDR + DATA_MAX);
    mkdir(dir, 0755);
    int rc = mdb_env_create(&l->env);
    if (!rc) rc = mdb_env_set_mapsize(l->env, (size_t)map_sz);
    if (rc) return lm_err(e, "mdb_env_create", rc);
    /* The setup validator teams use for speed: writes through the map,
     * syncs only when asked (at root), no read-ahead for point reads. */
    rc =
        mdb_env_open(l->env, dir, MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_NORDAHEAD, 0644);
    if (rc) return lm_err(e, "mdb_env_open", rc);
    MDB_txn *txn;
    rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (!rc) rc = mdb_dbi_open(txn, NULL, 0, &l->dbi);
    if (!rc) rc = mdb_txn_commit(txn);
    return rc ? lm_err(e, "mdb_dbi_open", rc) : 0;
}

static int
lm_bulk_put(engine_t *e, acctdb_account_t const *a) {
    lm_t *l = e->h;
    int   rc = 0;
    if (!l->txn) rc = mdb_txn_begin(l->env, NULL, 0, &l->txn);
    if (rc) return lm_err(e, "mdb_txn_begin", rc);
    MDB_val k = {32, (void *)a->pubkey.b}, v = {VAL_HDR + (size_t)a->data_len, NULL};
    rc = mdb_put(l->txn, l->dbi, &k, &v, MDB_APPEND | MDB_RESERVE);
    if (rc) return lm_err(e, "mdb_put(APPEND)", rc);
    val_encode(v.mv_data, a);
    if (++l->in_txn == 1000000) {
        rc = mdb_txn_commit(l->txn);
        l->txn = NULL;
        l->in_txn = 0;
        if (rc) return lm_err(e, "mdb_txn_commit", rc);
    }
    return 0;
}

static int
lm_bulk_end(engine_t *e) {
    lm_t *l = e->h;
    int   rc = l->txn ? mdb_txn_commit(l->txn) : 0;
    l->txn = NULL;
    if (!rc) rc = mdb_env_sync(l->env, 1);
    return rc ? lm_err(e, "bulk commit", rc) : 0;
}

static int
lm_slot_write(engine_t *e, uint64_t slot, uint64_t parent, acctdb_account_t const *a, size_t n,
              res_t *r) {
    (void)slot, (void)parent, (void)r;
    lm_t    *l = e->h;
    MDB_txn *txn;
    int      rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc) return lm_err(e, "mdb_txn_begin", rc);
    for (size_t i = 0; i < n && !rc; i++) {
        MDB_val k = {32, (void *)a[i].pubkey.b};
        if (!a[i].lamports) {
            rc = mdb_del(txn, l->dbi, &k, NULL);
            if (rc == MDB_NOTFOUND) rc = 0;
        } else {
            MDB_val v = {val_encode(l->vbuf, &a[i]), l->vbuf};
            rc = mdb_put(txn, l->dbi, &k, &v, 0);
        }
    }
    if (rc) {
        mdb_txn_abort(txn);
        return lm_err(e, "mdb_put", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc ? lm_err(e, "mdb_txn_commit", rc) : 0;
}

static int
lm_root(engine_t *e, uint64_t slot, res_t *r) {
    (void)slot, (void)r;
    lm_t *l = e->h;
    int   rc = mdb_env_sync(l->env, 1);
    return rc ? lm_err(e, "mdb_env_sync", rc) : 0;
}

static int
lm_read_begin(engine_t *e) {
    lm_t *l = e->h;
    int   rc = l->rtxn ? mdb_txn_renew(l->rtxn) : mdb_txn_begin(l->env, NULL, MDB_RDONLY, &l->rtxn);
    return rc ? lm_err(e, "read txn", rc) : 0;
}

static void
lm_read_end(engine_t *e) {
    lm_t *l = e->h;
    mdb_txn_reset(l->rtxn);
}

static int
lm_get(engine_t *e, uint64_t slot, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t *buf,
       size_t max) {
    (void)slot;
    lm_t   *l = e->h;
    MDB_val k = {32, (void *)key->b}, v;
    int     rc = mdb_get(l->rtxn, l->dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return 1;
    if (rc) {
        lm_err(e, "mdb_get", rc);
        return -1;
    }
    if (val_decode(v.mv_data, v.mv_size, key, out, buf, max)) {
        lm_err(e, "bad value", -1);
        return -1;
    }
    return 0;
}

static void
lm_close(engine_t *e) {
    lm_t *l = e->h;
    if (l->rtxn) mdb_txn_abort(l->rtxn);
    if (l->env) mdb_env_close(l->env);
    free(l->vbuf);
    free(l);
}

/* ---- RocksDB ------------------------------------------------------------------ */

typedef struct rk {
    rocksdb_t               *db;
    rocksdb_options_t       *o;
    rocksdb_writeoptions_t  *wo;
    rocksdb_readoptions_t   *ro;
    rocksdb_writebatch_t    *wb;
    rocksdb_envoptions_t    *eo;
    rocksdb_sstfilewriter_t *sw;
    char                     sstdir[4300];
    char                   **ssts;
    size_t                   nsst;
    uint64_t                 cur;
    uint8_t                 *vbuf;
} rk_t;

static int
rk_err(engine_t *e, char const *what, char *err) {
    snprintf(e->errbuf, sizeof e->errbuf, "%s: %s", what, err ? err : "failed");
    free(err);
    return -1;
}

static int
rk_open(engine_t *e, char const *dir, char const *sstdir, unsigned threads) {
    rk_t *k = xcalloc(1, sizeof *k);
    e->h = k;
    k->vbuf = xmalloc(VAL_HDR + DATA_MAX);
    snprintf(k->sstdir, sizeof k->sstdir, "%s", sstdir);
    mkdir(sstdir, 0755);
    k->o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(k->o, 1);
    rocksdb_options_increase_parallelism(k->o, (int)threads);
    /* Point lookups: bloom filters (10 bits/key), hash index in data
     * blocks, a 2 GiB block cache; no compression (account data is mostly
     * incompressible and reads stay cheap); large memtables. */
    rocksdb_options_optimize_for_point_lookup(k->o, 2048);
    rocksdb_options_set_compression(k->o, rocksdb_no_compression);
    rocksdb_options_set_write_buffer_size(k->o, 128u << 20);
    rocksdb_options_set_max_write_buffer_number(k->o, 4);
    rocksdb_options_set_max_open_files(k->o, -1);
    k->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(k->wo, 0);
    k->ro = rocksdb_readoptions_create();
    k->wb = rocksdb_writebatch_create();
    char *err = NULL;
    k->db = rocksdb_open(k->o, dir, &err);
    return err ? rk_err(e, "rocksdb_open", err) : 0;
}

static int
rk_sst_finish(engine_t *e) {
    rk_t *k = e->h;
    char *err = NULL;
    rocksdb_sstfilewriter_finish(k->sw, &err);
    rocksdb_sstfilewriter_destroy(k->sw);
    k->sw = NULL;
    return err ? rk_err(e, "sstfilewriter_finish", err) : 0;
}

static int
rk_bulk_put(engine_t *e, acctdb_account_t const *a) {
    rk_t *k = e->h;
    char *err = NULL;
    if (!k->sw) {
        if (!k->eo) k->eo = rocksdb_envoptions_create();
        k->sw = rocksdb_sstfilewriter_create(k->eo, k->o);
        k->ssts = realloc(k->ssts, (k->nsst + 1) * sizeof *k->ssts);
        k->ssts[k->nsst] = xmalloc(4400);
        snprintf(k->ssts[k->nsst], 4400, "%s/%05zu.sst", k->sstdir, k->nsst);
        rocksdb_sstfilewriter_open(k->sw, k->ssts[k->nsst++], &err);
        if (err) return rk_err(e, "sstfilewriter_open", err);
        k->cur = 0;
    }
    size_t vn = val_encode(k->vbuf, a);
    rocksdb_sstfilewriter_put(k->sw, (char const *)a->pubkey.b, 32, (char const *)k->vbuf, vn,
                              &err);
    if (err) return rk_err(e, "sstfilewriter_put", err);
    k->cur += vn + 32;
    if (k->cur >= (256u << 20)) return rk_sst_finish(e);
    return 0;
}

static int
rk_bulk_end(engine_t *e) {
    rk_t *k = e->h;
    if (k->sw && rk_sst_finish(e)) return -1;
    if (!k->nsst) return 0;
    rocksdb_ingestexternalfileoptions_t *io = rocksdb_ingestexternalfileoptions_create();
    rocksdb_ingestexternalfileoptions_set_move_files(io, 1);
    char *err = NULL;
    rocksdb_ingest_external_file(k->db, (char const *const *)k->ssts, k->nsst, io, &err);
    rocksdb_ingestexternalfileoptions_destroy(io);
    for (size_t i = 0; i < k->nsst; i++)
        free(k->ssts[i]);
    free(k->ssts);
    k->ssts = NULL;
    k->nsst = 0;
    return err ? rk_err(e, "ingest_external_file", err) : 0;
}

static int
rk_slot_write(engine_t *e, uint64_t slot, uint64_t parent, acctdb_account_t const *a, size_t n,
              res_t *r) {
    (void)slot, (void)parent, (void)r;
    rk_t *k = e->h;
    rocksdb_writebatch_clear(k->wb);
    for (size_t i = 0; i < n; i++) {
        if (!a[i].lamports) {
            rocksdb_writebatch_delete(k->wb, (char const *)a[i].pubkey.b, 32);
        } else {
            size_t vn = val_encode(k->vbuf, &a[i]);
            rocksdb_writebatch_put(k->wb, (char const *)a[i].pubkey.b, 32, (char const *)k->vbuf,
                                   vn);
        }
    }
    char *err = NULL;
    rocksdb_write(k->db, k->wo, k->wb, &err);
    return err ? rk_err(e, "rocksdb_write", err) : 0;
}

static int
rk_root(engine_t *e, uint64_t slot, res_t *r) {
    (void)slot, (void)r;
    rk_t *k = e->h;
    char *err = NULL;
    rocksdb_flush_wal(k->db, 1, &err);
    return err ? rk_err(e, "rocksdb_flush_wal", err) : 0;
}

static int
rk_get(engine_t *e, uint64_t slot, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t *buf,
       size_t max) {
    (void)slot;
    rk_t                    *k = e->h;
    char                    *err = NULL;
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned(k->db, k->ro, (char const *)key->b, 32, &err);
    if (err) return rk_err(e, "rocksdb_get_pinned", err);
    if (!p) return 1;
    size_t      vn;
    char const *v = rocksdb_pinnableslice_value(p, &vn);
    int         rc = val_decode((uint8_t const *)v, vn, key, out, buf, max);
    rocksdb_pinnableslice_destroy(p);
    if (rc) return rk_err(e, "bad value", NULL);
    return 0;
}

static void
rk_close(engine_t *e) {
    rk_t *k = e->h;
    if (k->db) rocksdb_close(k->db);
    rocksdb_writebatch_destroy(k->wb);
    rocksdb_readoptions_destroy(k->ro);
    rocksdb_writeoptions_destroy(k->wo);
    rocksdb_options_destroy(k->o);
    if (k->eo) rocksdb_envoptions_destroy(k->eo);
    free(k->vbuf);
    free(k);
}

/* ---- SQLite ------------------------------------------------------------------ */

typedef struct sq {
    sqlite3      *db;
    sqlite3_stmt *ins, *del, *get, *begin, *commit;
    uint64_t      in_txn;
    bool          txn;
    uint8_t      *vbuf;
} sq_t;

static int
sq_err(engine_t *e, char const *what) {
    sq_t *q = e->h;
    snprintf(e->errbuf, sizeof e->errbuf, "%s: %s", what, q->db ? sqlite3_errmsg(q->db) : "failed");
    return -1;
}

static int
sq_exec(engine_t *e, char const *sql) {
    sq_t *q = e->h;
    char *m = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &m) == SQLITE_OK) return 0;
    snprintf(e->errbuf, sizeof e->errbuf, "%s: %s", sql, m ? m : "failed");
    sqlite3_free(m);
    return -1;
}

static int
sq_step(engine_t *e, sqlite3_stmt *st, char const *what) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_err(e, what);
}

static int
sq_open(engine_t *e, char const *path) {
    sq_t *q = xcalloc(1, sizeof *q);
    e->h = q;
    q->vbuf = xmalloc(VAL_HDR + DATA_MAX);
    if (sqlite3_open_v2(path, &q->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return sq_err(e, "sqlite3_open");
    /* Bulk load with the journal off; the trace runs in WAL mode. */
    if (sq_exec(e, "PRAGMA page_size=4096; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                   "PRAGMA cache_size=-1048576; PRAGMA temp_store=MEMORY; "
                   "CREATE TABLE accounts(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"))
        return -1;
    if (sqlite3_prepare_v2(q->db, "INSERT OR REPLACE INTO accounts(k, v) VALUES(?1, ?2)", -1,
                           &q->ins, NULL) ||
        sqlite3_prepare_v2(q->db, "DELETE FROM accounts WHERE k = ?1", -1, &q->del, NULL) ||
        sqlite3_prepare_v2(q->db, "SELECT v FROM accounts WHERE k = ?1", -1, &q->get, NULL) ||
        sqlite3_prepare_v2(q->db, "BEGIN", -1, &q->begin, NULL) ||
        sqlite3_prepare_v2(q->db, "COMMIT", -1, &q->commit, NULL))
        return sq_err(e, "prepare");
    return 0;
}

static int
sq_put(engine_t *e, acctdb_account_t const *a) {
    sq_t  *q = e->h;
    size_t vn = val_encode(q->vbuf, a);
    sqlite3_bind_blob(q->ins, 1, a->pubkey.b, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q->ins, 2, q->vbuf, (int)vn, SQLITE_STATIC);
    return sq_step(e, q->ins, "insert");
}

static int
sq_bulk_put(engine_t *e, acctdb_account_t const *a) {
    sq_t *q = e->h;
    if (!q->txn && sq_step(e, q->begin, "BEGIN")) return -1;
    q->txn = true;
    if (sq_put(e, a)) return -1;
    if (++q->in_txn == 1000000) {
        q->in_txn = 0;
        q->txn = false;
        return sq_step(e, q->commit, "COMMIT");
    }
    return 0;
}

static char g_sq_mode[128];

static int
sq_bulk_end(engine_t *e) {
    sq_t *q = e->h;
    if (q->txn && sq_step(e, q->commit, "COMMIT")) return -1;
    q->txn = false;
    /* WAL, each commit durable (the WAL is synced at commit), a 1 GiB page
     * cache and reads through mmap. */
    if (sq_exec(e,
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA mmap_size=68719476736"))
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q->db, "PRAGMA mmap_size", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(g_sq_mode, sizeof g_sq_mode, "mmap_size %lld",
                     (long long)sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
    }
    return 0;
}

static int
sq_slot_write(engine_t *e, uint64_t slot, uint64_t parent, acctdb_account_t const *a, size_t n,
              res_t *r) {
    (void)slot, (void)parent, (void)r;
    sq_t *q = e->h;
    if (sq_step(e, q->begin, "BEGIN")) return -1;
    for (size_t i = 0; i < n; i++) {
        if (!a[i].lamports) {
            sqlite3_bind_blob(q->del, 1, a[i].pubkey.b, 32, SQLITE_STATIC);
            if (sq_step(e, q->del, "delete")) return -1;
        } else if (sq_put(e, &a[i])) {
            return -1;
        }
    }
    return sq_step(e, q->commit, "COMMIT");
}

static int
sq_root(engine_t *e, uint64_t slot, res_t *r) {
    (void)e, (void)slot, (void)r;
    return 0; /* synchronous=FULL: the slot's commit synced the WAL */
}

static int
sq_read_begin(engine_t *e) {
    sq_t *q = e->h;
    return sq_step(e, q->begin, "BEGIN");
}

static void
sq_read_end(engine_t *e) {
    sq_t *q = e->h;
    sq_step(e, q->commit, "COMMIT");
}

static int
sq_get(engine_t *e, uint64_t slot, acctdb_pubkey_t const *key, acctdb_account_t *out, uint8_t *buf,
       size_t max) {
    (void)slot;
    sq_t *q = e->h;
    sqlite3_bind_blob(q->get, 1, key->b, 32, SQLITE_STATIC);
    int rc = sqlite3_step(q->get);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(q->get);
        return 1;
    }
    if (rc != SQLITE_ROW) {
        sq_err(e, "select");
        sqlite3_reset(q->get);
        return -1;
    }
    uint8_t const *v = sqlite3_column_blob(q->get, 0);
    size_t         vn = (size_t)sqlite3_column_bytes(q->get, 0);
    rc = val_decode(v, vn, key, out, buf, max);
    sqlite3_reset(q->get);
    if (rc) return sq_err(e, "bad value");
    return 0;
}

static void
sq_close(engine_t *e) {
    sq_t *q = e->h;
    sqlite3_finalize(q->ins);
    sqlite3_finalize(q->del);
    sqlite3_finalize(q->get);
    sqlite3_finalize(q->begin);
    sqlite3_finalize(q->commit);
    sqlite3_close(q->db);
    free(q->vbuf);
    free(q);
}

/* ---- peers: bulk load from the snapshot, then the trace ---------------------- */

typedef struct bulk {
    engine_t *e;
    int (*put)(engine_t *e, acctdb_account_t const *a);
    double      in_calls;
    uint64_t    n;
    double      report, t0;
    char const *name;
} bulk_t;

static int
bulk_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    bulk_t  *b = ctx;
    uint64_t x = now_ns();
    int      rc = b->put(b->e, a);
    b->in_calls += (double)(now_ns() - x) * 1e-9;
    b->n++;
    if ((b->n & 0xFFFF) == 0 && now_s() - b->report > 10) {
        printf("  %s: bulk load %llu accounts, %.0f/s\n", b->name, (unsigned long long)b->n,
               (double)b->n / (now_s() - b->t0));
        fflush(stdout);
        b->report = now_s();
    }
    return rc ? 1 : 0;
}

static void
peer_run(int which, trace_t const *t, char const *work, unsigned threads, res_t *r) {
    engine_t e = {0};
    char     dir[4200], aux[4300];
    snprintf(dir, sizeof dir, "%s/%s", work, k_names[which]);
    int rc = 0;
    int (*put)(engine_t *, acctdb_account_t const *) = NULL;
    int (*end)(engine_t *) = NULL;
    void (*close_fn)(engine_t *) = NULL;
    switch (which) {
    case E_LMDB:
        rc = lm_open(&e, dir, t->snap_tar_sz * 4 + (8ull << 30));
        e.slot_write = lm_slot_write, e.root = lm_root, e.get = lm_get;
        e.read_begin = lm_read_begin, e.read_end = lm_read_end;
        put = lm_bulk_put, end = lm_bulk_end, close_fn = lm_close;
        snprintf(r->note, sizeof r->note,
                 "MDB_WRITEMAP|MDB_NOSYNC|MDB_NOMETASYNC|MDB_NORDAHEAD, mdb_env_sync at root");
        break;
    case E_ROCKSDB:
        snprintf(aux, sizeof aux, "%s/rocksdb-sst", work);
        rc = rk_open(&e, dir, aux, threads);
        e.slot_write = rk_slot_write, e.root = rk_root, e.get = rk_get;
        put = rk_bulk_put, end = rk_bulk_end, close_fn = rk_close;
        snprintf(r->note, sizeof r->note,
                 "WAL, sync=false writes, FlushWAL(sync) at root; bloom 10 b/key, 2 GiB block "
                 "cache, no compression");
        break;
    case E_SQLITE:
        mkdir(dir, 0755);
        snprintf(aux, sizeof aux, "%s/accounts.db", dir);
        rc = sq_open(&e, aux);
        e.slot_write = sq_slot_write, e.root = sq_root, e.get = sq_get;
        e.read_begin = sq_read_begin, e.read_end = sq_read_end;
        put = sq_bulk_put, end = sq_bulk_end, close_fn = sq_close;
        break;
    }
    if (rc) {
        fail(r, "open", e.errbuf);
        if (e.h) close_fn(&e);
        return;
    }
    bulk_t b = {&e, put, 0, 0, now_s(), now_s(), k_names[which]};
    double t0 = now_s();
    rc = acctdb_snapshot_iterate(t->snap, NULL, bulk_cb, &b);
    if (rc) {
        fail(r, "bulk load", e.errbuf[0] ? e.errbuf : acctdb_strerror(rc));
        close_fn(&e);
        return;
    }
    double t1 = now_s();
    rc = end(&e);
    double t2 = now_s();
    if (rc) {
        fail(r, "bulk load end", e.errbuf);
        close_fn(&e);
        return;
    }
    r->setup_s = b.in_calls + (t2 - t1);
    r->setup_wall_s = t2 - t0;
    r->setup_accounts = b.n;
    if (which == E_SQLITE)
        snprintf(r->note, sizeof r->note,
                 "WITHOUT ROWID table, WAL, synchronous=FULL (WAL synced at each slot's commit), "
                 "1 GiB cache, %s",
                 g_sq_mode);
    printf("%s: bulk load of %llu accounts: %.2f s in %s calls (%.0f/s), %.2f s wall with the "
           "snapshot reads; %.0f MB on disk\n",
           k_names[which], (unsigned long long)b.n, r->setup_s, k_names[which],
           (double)b.n / r->setup_s, r->setup_wall_s, (double)disk_usage(dir) / 1e6);
    fflush(stdout);
    warm_dir(k_names[which], dir);
    run_args_t ra = {t, &e, NULL, t->snap_slot + 1, k_names[which]};
    run_trace(&ra, r);
    double c0 = now_s();
    close_fn(&e);
    r->close_s = now_s() - c0;
    r->disk_bytes = disk_usage(dir);
}

/* ---- the machine --------------------------------------------------------------- */

static void
print_machine(char const *work) {
    char  model[256] = "?", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *p = strchr(line, ':');
            if (p) snprintf(model, sizeof model, "%s", p + 2);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    if (f) fclose(f);
    struct utsname u;
    uname(&u);
    struct statvfs vf;
    double         free_gb = 0, total_gb = 0;
    if (!statvfs(work, &vf)) {
        free_gb = (double)vf.f_bavail * (double)vf.f_frsize / 1e9;
        total_gb = (double)vf.f_blocks * (double)vf.f_frsize / 1e9;
    }
    printf("machine: %s, %ld cores online, %.1f GiB RAM, kernel %s\n", model,
           sysconf(_SC_NPROCESSORS_ONLN), (double)proc_kb("/proc/meminfo", "MemTotal") / 1048576.0,
           u.release);
    printf("disk: %s: %.1f GB free of %.1f GB\n", work, free_gb, total_gb);
    /* RocksDB's C API has no version call: ask the package manager. */
    char  rv[64] = "?";
    FILE *p = popen("dpkg-query -W -f='${Version}' librocksdb-dev 2>/dev/null", "r");
    if (p) {
        if (!fgets(rv, sizeof rv, p)) snprintf(rv, sizeof rv, "?");
        pclose(p);
    }
    printf("peers: %s, RocksDB %s (Debian package), SQLite %s\n", mdb_version(NULL, NULL, NULL), rv,
           sqlite3_libversion());
}

/* ---- main ---------------------------------------------------------------------- */

typedef struct job {
    trace_t const *t;
    char const    *work;
    char const    *archive;
    unsigned       threads;
    int            which;
} job_t;

static void
job_acctdb_create(job_t const *j) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/acctdb", j->work);
    acctdb_create(j->archive, dir, j->threads, &g_res[E_CNT]);
}

static void
job_acctdb_run(job_t const *j) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/acctdb", j->work);
    acctdb_run(j->t, dir, j->threads, &g_res[E_ACCTDB]);
}

static void
job_acctdb_capacity(job_t const *j) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/acctdb", j->work);
    flush_capacity(j->t, dir, j->threads, &g_res[E_ACCTDB]);
}

static void
job_acctdb_killed(job_t const *j) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/acctdb", j->work);
    acctdb_killed(dir, j->threads, &g_res[E_ACCTDB]);
}

static void
job_peer(job_t const *j) {
    peer_run(j->which, j->t, j->work, j->threads, &g_res[j->which]);
}

/* Runs fn in a child process (its memory and threads its own); 0 if it
 * exited normally. */
static int
in_child(void (*fn)(job_t const *), job_t const *j) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        fn(j);
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A key=value figure: "na" when it was not measured (0). */
static char const *
kv(char *buf, double v, int prec) {
    if (v == 0)
        snprintf(buf, 32, "na");
    else
        snprintf(buf, 32, "%.*f", prec, v);
    return buf;
}

/* The physical limit of one load: two dependent random reads (an index
 * slot, then the record it names) over a working set of ws bytes, as a
 * chain where each read's address comes from the previous read's value.
 * huge: the buffer asks for transparent huge pages (else it refuses them);
 * *huge_frac gets the share of it the kernel backed with 2 MiB pages. */
static double
two_read_limit_ns(uint64_t ws, bool huge, double *huge_frac) {
    *huge_frac = 0;
    size_t sz = (size_t)((ws + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1));
    void  *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 0;
    madvise(m, sz, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    uint64_t *w = m, nw = sz / 8, x = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < nw; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        w[i] = x;
    }
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f) {
        char     line[256];
        bool     ours = false;
        uint64_t kb;
        while (fgets(line, sizeof line, f)) {
            unsigned long lo, hi;
            if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
                ours = lo == (unsigned long)(uintptr_t)m;
            else if (ours && sscanf(line, "AnonHugePages: %" SCNu64 " kB", &kb) == 1)
                *huge_frac = (double)(kb << 10) / (double)sz;
        }
        fclose(f);
    }
    uint64_t const reads = 4000000;
    uint64_t       v = w[0], t0 = now_ns();
    for (uint64_t i = 0; i < reads; i++)
        v = w[(uint64_t)(((unsigned __int128)(v * 0xd6e8feb86659fd93ull) * nw) >> 64)] + i;
    double ns = (double)(now_ns() - t0) / (double)reads * 2;
    if (v == 42) fprintf(stderr, "(unlikely)\n"); /* keeps the chain */
    munmap(m, sz);
    return ns;
}

static double
rate(double n, double s) {
    return s > 0 ? n / s : 0;
}

static void
usage(void) {
    fprintf(stderr, "usage: bench_db [--accounts N] [--slots S] [--seed X] [--dir D] [--keep]\n"
                    "                [--only acctdb,lmdb,rocksdb,sqlite] [--threads T] "
                    "[--cache DIR]\n"
                    "                [--index-ram BYTES|disk]  (the index's disk tier with a RAM "
                    "budget; K/M/G suffixes)\n");
    exit(2);
}

int
main(int argc, char **argv) {
    uint64_t    n = 10000000, slots = 300, seed = 1;
    char const *dir = NULL;
    char const *cache = getenv("ACCTDB_BENCH_CACHE") ? getenv("ACCTDB_BENCH_CACHE") : "bench/cache";
    bool        keep = false;
    unsigned    only = (1u << E_CNT) - 1;
    long        ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned    threads = ncpu > 0 ? (unsigned)ncpu : 1;
    for (int i = 1; i < argc; i++) {
        char const *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--accounts") && v)
            n = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--slots") && v)
            slots = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--seed") && v)
            seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--dir") && v)
            dir = v, i++;
        else if (!strcmp(a, "--cache") && v)
            cache = v, i++;
        else if (!strcmp(a, "--threads") && v)
            threads = (unsigned)atoi(v), i++;
        else if (!strcmp(a, "--keep"))
            keep = true;
        else if (!strcmp(a, "--index-ram") && v) {
            char *end;
            snprintf(g_index_ram_name, sizeof g_index_ram_name, "%s", v);
            if (!strcmp(v, "disk")) {
                g_index_ram = 0;
            } else {
                g_index_ram = strtoull(v, &end, 10);
                if (*end == 'K' || *end == 'k') g_index_ram <<= 10;
                if (*end == 'M' || *end == 'm') g_index_ram <<= 20;
                if (*end == 'G' || *end == 'g') g_index_ram <<= 30;
                if (!g_index_ram) usage();
            }
            i++;
        } else if (!strcmp(a, "--only") && v) {
            only = 0;
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", v);
            for (char *tok = strtok(tmp, ","); tok; tok = strtok(NULL, ",")) {
                int k = 0;
                while (k < E_CNT && strcmp(tok, k_names[k]))
                    k++;
                if (k == E_CNT) usage();
                only |= 1u << k;
            }
            i++;
        } else
            usage();
    }
    if (n < 1000 || n >= (1ull << 30) || slots < 1 || slots > 100000 || threads < 1) usage();

    /* The work directory. */
    char work[4096];
    bool made_work = false;
    if (dir) {
        snprintf(work, sizeof work, "%s", dir);
        if (mkdir(work, 0755) == 0)
            made_work = true;
        else if (errno != EEXIST)
            die("cannot create the work directory: %s", strerror(errno));
    } else {
        char const *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(work, sizeof work, "%s/bench_db.XXXXXX", tmp);
        if (!mkdtemp(work)) die("mkdtemp: %s", strerror(errno));
        made_work = true;
    }
    char const *subs[] = {"snap", "acctdb", "lmdb", "rocksdb", "rocksdb-sst", "sqlite"};
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", work, subs[i]);
        if (!access(p, F_OK)) die("%s exists (an earlier --keep run?): remove it first", p);
    }
    print_machine(work);
    printf("work directory: %s%s\n", work, keep ? " (kept)" : " (removed at the end)");

    /* The snapshot: generated once per (N, seed), cached. */
    char gdir[4096], archive[4096] = "", inc[4096], msg[512], cmd[8300];
    if (seed == 1)
        snprintf(gdir, sizeof gdir, "%s/snap-%llu", cache, (unsigned long long)n);
    else
        snprintf(gdir, sizeof gdir, "%s/snap-%llu-s%llu", cache, (unsigned long long)n,
                 (unsigned long long)seed);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", gdir);
    if (system(cmd)) die("cannot create %s", gdir);
    if (acctdb_snapshot_find(gdir, archive, sizeof archive, inc, sizeof inc, msg, sizeof msg)) {
        printf("generating a %llu-account snapshot into %s (once)...\n", (unsigned long long)n,
               gdir);
        fflush(stdout);
        acctdb_gen_opts_t   go = {.accounts = n,
                                  .seed = seed,
                                  .out_dir = gdir,
                                  .threads = threads,
                                  .max_bytes = 64ull << 30};
        acctdb_gen_result_t gr;
        double              g0 = now_s();
        if (acctdb_snapshot_gen(&go, &gr, msg, sizeof msg)) die("snapshot gen: %s", msg);
        printf("generated in %.1f s\n", now_s() - g0);
        snprintf(archive, sizeof archive, "%s", gr.full_path);
    }
    struct stat ast;
    if (stat(archive, &ast)) die("cannot stat the archive %s", archive);

    /* One no-verify load of the same archive: the peers' data source. */
    trace_t                t = {0};
    char                   snapdir[4200];
    acctdb_snapshot_opts_t so = {.store_dir = snapdir, .no_verify = true, .threads = threads};
    snprintf(snapdir, sizeof snapdir, "%s/snap", work);
    double t0 = now_s();
    int    rc = acctdb_snapshot_open(&t.snap, archive, NULL, &so);
    if (rc) die("snapshot load: %s", t.snap ? acctdb_snapshot_errmsg(t.snap) : acctdb_strerror(rc));
    acctdb_snapshot_info_t si;
    acctdb_snapshot_info(t.snap, &si);
    t.snap_slot = si.slot;
    t.snap_tar_sz = si.uncompressed_sz;
    printf("archive: %s (%.0f MiB, %.0f MB of tar): slot %llu, %llu records, %llu live accounts; "
           "loaded (no verification) for the peers in %.1f s\n",
           archive, (double)ast.st_size / 1048576.0, (double)si.uncompressed_sz / 1e6,
           (unsigned long long)si.slot, (unsigned long long)si.records,
           (unsigned long long)si.live_accounts, now_s() - t0);

    /* The live keys, their sizes and owners; then the trace. */
    uint64_t cap = si.live_accounts + slots * 5000 + 16;
    if (cap >= UINT32_MAX) die("too many accounts (%s)", "2^32");
    t.keys = xcalloc(cap, sizeof *t.keys);
    t.klen = xcalloc(cap, sizeof *t.klen);
    t.kown = xcalloc(cap, sizeof *t.kown);
    t.klive = xcalloc(cap, 1);
    g_own_cap = 1u << 17;
    g_own_hash = xcalloc(g_own_cap, sizeof *g_own_hash);
    t.owners = xcalloc(MAX_OWNERS + 1, sizeof *t.owners);
    warm_dir("snapshot store", snapdir);
    collect_t cc = {&t, si.live_accounts, true, {{0}}};
    acctdb_base58_decode_32("Sysvar1111111111111111111111111111111111111", cc.sysvar.b);
    t0 = now_s();
    rc = acctdb_snapshot_iterate(t.snap, NULL, collect_cb, &cc);
    if (rc || !cc.sorted || t.n0 < 100)
        die("reading the snapshot's accounts: %s", rc           ? acctdb_strerror(rc)
                                                   : !cc.sorted ? "not in pubkey order"
                                                                : "too few accounts");
    double t_collect = now_s() - t0;
    t0 = now_s();
    trace_gen(&t, (uint32_t)slots, seed);
    uint64_t tot_st = t.st_off[slots], tot_ld = t.ld_off[slots], closes = 0, fresh = 0;
    uint64_t distinct = 0, small = 0;
    uint8_t *seen = xcalloc(t.n_keys / 8 + 1, 1);
    for (uint64_t i = 0; i < tot_st; i++) {
        sop_t const *o = &t.st[i];
        closes += o->lamports == 0;
        fresh += o->key >= t.n0;
        small += o->data_len == 165;
        if (!(seen[o->key / 8] & (1u << (o->key % 8)))) distinct++;
        seen[o->key / 8] |= (uint8_t)(1u << (o->key % 8));
    }
    free(seen);
    printf("trace (seed %llu, generated in %.1f s after %.1f s reading %u keys): %llu slots, "
           "%llu stores (%.0f per slot; %.1f%% 165-byte; %llu to new keys, %llu closes; %llu "
           "distinct keys), %llu loads per stream (20 per store), hot set %u keys, roots lag %d\n",
           (unsigned long long)seed, now_s() - t0, t_collect, t.n0, (unsigned long long)slots,
           (unsigned long long)tot_st, (double)tot_st / (double)slots,
           100.0 * (double)small / (double)tot_st, (unsigned long long)fresh,
           (unsigned long long)closes, (unsigned long long)distinct, (unsigned long long)tot_ld,
           t.n_hot, LAG);

    g_res = mmap(NULL, sizeof(res_t) * (E_CNT + 1), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_res == MAP_FAILED) die("mmap: %s", strerror(errno));
    memset(g_res, 0, sizeof(res_t) * (E_CNT + 1));
    job_t j = {&t, work, archive, threads, 0};
    for (int k = 0; k < E_CNT; k++) {
        if (!(only & (1u << k))) continue;
        char edir[4200];
        snprintf(edir, sizeof edir, "%s/%s", work, k_names[k]);
        printf("== %s\n", k_names[k]);
        g_res[k].ran = 1;
        if (k == E_ACCTDB) {
            res_t *c = &g_res[E_CNT];
            c->ran = 1;
            if (in_child(job_acctdb_create, &j) || !c->ok) {
                if (!c->err[0]) snprintf(c->err, sizeof c->err, "the create child died");
                snprintf(g_res[k].err, sizeof g_res[k].err, "%s", c->err);
                continue;
            }
            printf("acctdb: acctdb_db_create (full verification) in %.2f s: %.0f accounts/s, "
                   "RssAnon +%.1f MiB (%.1f B/key over %llu keys); close %.2f s\n",
                   c->setup_s, rate((double)c->index_keys, c->setup_s),
                   (double)c->rss_create_growth / 1048576.0,
                   (double)c->rss_create_growth / (double)(c->index_keys ? c->index_keys : 1),
                   (unsigned long long)c->index_keys, c->close_s);
            g_res[k].setup_s = c->setup_s;
            if (in_child(job_acctdb_run, &j) && !g_res[k].err[0])
                snprintf(g_res[k].err, sizeof g_res[k].err, "the run child died");
            /* The capacity child ends killed (SIGKILL) once it has its figure. */
            if (!g_res[k].err[0]) {
                in_child(job_acctdb_capacity, &j);
                if (!g_res[k].err[0] && !g_res[k].cap_s)
                    snprintf(g_res[k].err, sizeof g_res[k].err, "the capacity child died");
            }
            if (!g_res[k].err[0] && in_child(job_acctdb_killed, &j) && !g_res[k].err[0])
                snprintf(g_res[k].err, sizeof g_res[k].err, "the reopen-after-kill child died");
        } else {
            j.which = k;
            if (in_child(job_peer, &j) && !g_res[k].err[0])
                snprintf(g_res[k].err, sizeof g_res[k].err, "the run child died");
        }
        if (g_res[k].err[0]) g_res[k].ok = 0;
        if (!keep) rmtree(edir);
        if (k == E_ROCKSDB && !keep) {
            snprintf(edir, sizeof edir, "%s/rocksdb-sst", work);
            rmtree(edir);
        }
    }
    acctdb_snapshot_close(t.snap);

    /* ---- report ---- */
    res_t const *A = &g_res[E_ACCTDB];
    printf("\n== results: %llu accounts generated, %u live keys, %llu slots, %llu stores and "
           "%llu single loads per engine, one thread\n",
           (unsigned long long)n, t.n0, (unsigned long long)slots, (unsigned long long)tot_st,
           (unsigned long long)tot_ld);
    printf("%-8s %9s %11s %11s %8s %8s %9s %8s %9s %9s\n", "engine", "setup s", "stores/s",
           "loads/s", "p50 ns", "p99 ns", "p99.9 ns", "max ms", "found", "disk MB");
    double sps[E_CNT] = {0}, lps[E_CNT] = {0};
    bool   agree = true;
    int    ref = -1;
    for (int k = 0; k < E_CNT; k++) {
        res_t const *r = &g_res[k];
        if (!r->ran) continue;
        if (!r->ok) {
            printf("%-8s failed: %s\n", k_names[k], r->err);
            agree = false;
            continue;
        }
        sps[k] = rate((double)r->stores, r->store_s);
        lps[k] = rate((double)r->loads, r->load_s);
        printf("%-8s %9.2f %11.0f %11.0f %8.0f %8.0f %9.0f %8.2f %9llu %9.0f\n", k_names[k],
               r->setup_s, sps[k], lps[k], r->p50_ns, r->p99_ns, r->p999_ns, r->max_ns / 1e6,
               (unsigned long long)r->found, (double)r->disk_bytes / 1e6);
        if (ref < 0)
            ref = k;
        else if (r->found != g_res[ref].found || r->chk != g_res[ref].chk)
            agree = false;
    }
    printf("loads agree across engines (found count and a digest of every account read): %s\n",
           agree ? "yes" : "NO");
    printf("setup: acctdb = acctdb_db_create from the archive (verified); peers = bulk load of "
           "the live accounts in pubkey order (time in their calls)\n");
    for (int k = 1; k < E_CNT; k++)
        if (g_res[k].ran && g_res[k].ok)
            printf("%s: %s; stores %.2f s of which sync at root %.2f s; bulk load %.1f s wall\n",
                   k_names[k], g_res[k].note, g_res[k].store_s, g_res[k].sync_s,
                   g_res[k].setup_wall_s);

    double flush_gbps = 0, trace_gbps = 0, b165 = 0, bmix = 0, ram_b = 0, idx_b = 0, create_b = 0;
    if (A->ran && A->ok) {
        double keys = (double)(A->index_keys ? A->index_keys : 1);
        b165 = rate((double)A->b165_n, A->b165_s);
        bmix = rate((double)A->bmix_n, A->bmix_s);
        /* Index checkpoints run inside the flush service: not flush time. */
        trace_gbps = A->flush_ns > A->ckpt_ns
                         ? (double)A->flushed_bytes / (double)(A->flush_ns - A->ckpt_ns)
                         : 0;
        flush_gbps = A->cap_s > 0 ? (double)A->cap_cached / A->cap_s / 1e9 : 0;
        ram_b = (double)A->rss_open_growth / keys;
        idx_b = (double)A->index_ram_sz / keys;
        create_b = (double)g_res[E_CNT].rss_create_growth / keys;
        printf("acctdb stores: %.2f s = bank_begin %.2f + store %.2f + freeze %.2f + root %.2f "
               "(%.2f ms per slot)\n",
               A->store_s, A->begin_s, A->storecall_s, A->freeze_s, A->root_s,
               1e3 * A->store_s / (double)slots);
        printf("acctdb batched loads (acctdb_db_load_batch, 64..256 keys, one thread): 165-byte "
               "accounts %.0f/s (%llu of %llu found), mixed stream %.0f/s (%llu of %llu found)\n",
               b165, (unsigned long long)A->b165_found, (unsigned long long)A->b165_n, bmix,
               (unsigned long long)A->bmix_found, (unsigned long long)A->bmix_n);
        printf("acctdb flush service: %.1f MB in %llu passes (%llu accounts), %.2f s busy: %.2f "
               "GB/s; root - durable root at the end of the trace: %llu slots, drained in %.3f "
               "s; close %.2f s\n",
               (double)A->flushed_bytes / 1e6, (unsigned long long)A->flush_passes,
               (unsigned long long)A->flush_work, (double)A->flush_ns / 1e9, trace_gbps,
               (unsigned long long)A->root_lag_end, A->drain_s, A->close_s);
        printf("acctdb flush capacity: the trace's %llu slots replayed and rooted with the "
               "services off (%llu accounts, %.1f MB cached), then one flush pass: %.3f s, "
               "%.1f MB written (each pubkey once): %.2f GB/s of rooted slots, %.2f GB/s "
               "written\n",
               (unsigned long long)A->cap_slots, (unsigned long long)A->cap_accts,
               (double)A->cap_cached / 1e6, A->cap_s, (double)A->cap_written / 1e6, flush_gbps,
               A->cap_s > 0 ? (double)A->cap_written / A->cap_s / 1e9 : 0.0);
        printf("acctdb index checkpoints: %llu in the trace (%.2f s of the flush service's "
               "time, left out of its rate), %.2f s after the capacity pass\n",
               (unsigned long long)A->ckpts, (double)A->ckpt_ns / 1e9,
               (double)A->cap_ckpt_ns / 1e9);
        printf("acctdb reopen after a kill (the capacity pass committed, then SIGKILL): %.2f s "
               "(%s); without index files (a full scan): %.2f s; cold create %.2f s\n",
               A->kill_open_s, A->kill_reason, A->scan_open_s, A->setup_s);
        printf("acctdb other services: clean %llu (%.2f s), shrink %llu (%.2f s), purge %llu "
               "(%.2f s); %llu storages in %llu segments; read cache %llu hits, %llu misses\n",
               (unsigned long long)A->clean_work, (double)A->svc_ns[ACCTDB_SERVICE_CLEAN] / 1e9,
               (unsigned long long)A->shrink_work, (double)A->svc_ns[ACCTDB_SERVICE_SHRINK] / 1e9,
               (unsigned long long)A->purge_work, (double)A->svc_ns[ACCTDB_SERVICE_PURGE] / 1e9,
               (unsigned long long)A->storages, (unsigned long long)A->segments,
               (unsigned long long)A->read_cache_hits, (unsigned long long)A->read_cache_misses);
        printf("acctdb RAM: reopen RssAnon +%.1f MiB over %llu indexed keys = %.1f B/account "
               "(the index's own figure %.1f B/key; owner index %llu pairs); after "
               "acctdb_db_create %.1f B/account; after the trace +%.1f MiB (write and read "
               "caches, %llu keys)\n",
               (double)A->rss_open_growth / 1048576.0, (unsigned long long)A->index_keys, ram_b,
               idx_b, (unsigned long long)A->owner_keys, create_b,
               (double)A->rss_after_trace / 1048576.0, (unsigned long long)A->index_keys);
    }

#define RATIO(a, b)  ((a) > 0 && (b) > 0 ? (a) / (b) : 0)
#define RATIO0(a, b) RATIO((double)(a), (double)(b))
    /* The physical limit, measured now over the acctdb run's working set
     * (its files plus its index in RAM, at most 8 GiB). */
    double lim4k = 0, limhuge = 0, hfrac4k = 0, hfrac = 0;
    if (A->ran && A->ok) {
        uint64_t ws = A->disk_bytes + A->index_ram_sz;
        if (ws > (8ull << 30)) ws = 8ull << 30;
        lim4k = two_read_limit_ns(ws, false, &hfrac4k);
        limhuge = two_read_limit_ns(ws, true, &hfrac);
        printf("physical limit: two dependent random reads over %.0f MiB (acctdb's files plus its "
               "index): %.0f ns with 4 KiB pages, %.0f ns with huge pages (%.0f%% of the buffer "
               "in 2 MiB pages); acctdb load p50 %.0f ns = %.2fx the 4 KiB limit, %.2fx the "
               "huge-page one\n",
               (double)ws / 1048576.0, lim4k, limhuge, hfrac * 100, A->p50_ns,
               RATIO0(A->p50_ns, lim4k), RATIO0(A->p50_ns, limhuge));
    }

    printf("\ngoals:\n");
    char const *yes = "met", *no = "NOT met", *na = "not measured";
    double      lvl = RATIO(lps[E_ACCTDB], lps[E_LMDB]), svr = RATIO(sps[E_ACCTDB], sps[E_ROCKSDB]);
    printf("  loads >= 10x LMDB's:                       %.2fx  %s\n", lvl,
           !lvl        ? na
           : lvl >= 10 ? yes
                       : no);
    double lvlim = RATIO0(A->p50_ns, lim4k);
    printf("  load p50 <= 1.5x two dependent reads:      %.2fx  %s\n", lvlim,
           !lvlim         ? na
           : lvlim <= 1.5 ? yes
                          : no);
    printf("  batched loads >= 3,000,000 165-B accounts/s/core: %.0f  %s\n", b165,
           !b165         ? na
           : b165 >= 3e6 ? yes
                         : no);
    printf("  stores >= 3x RocksDB's:                    %.2fx  %s\n", svr,
           !svr       ? na
           : svr >= 3 ? yes
                      : no);
    printf("  flush of rooted slots >= 1.2 GB/s:         %.2f GB/s  %s\n", flush_gbps,
           !flush_gbps         ? na
           : flush_gbps >= 1.2 ? yes
                               : no);
    printf("  RAM per indexed account <= 64 B (aim 48):  %.1f B  %s\n", ram_b,
           !ram_b        ? na
           : ram_b <= 48 ? "met (and the 48 B aim)"
           : ram_b <= 64 ? yes
                         : no);

    char f[12][32];
    printf("\nload_vs_lmdb=%s store_vs_rocksdb=%s batch_load_per_s=%s ram_per_account_b=%s "
           "flush_gbps=%s batch_mixed_per_s=%s index_ram_per_key_b=%s create_ram_per_account_b=%s "
           "load_vs_rocksdb=%s load_vs_sqlite=%s store_vs_lmdb=%s store_vs_sqlite=%s "
           "flush_trace_gbps=%.2f load_p50_vs_limit=%.2f limit_4k_ns=%.0f limit_huge_ns=%.0f",
           kv(f[0], lvl, 2), kv(f[1], svr, 2), kv(f[2], b165, 0), kv(f[3], ram_b, 1),
           kv(f[4], flush_gbps, 2), kv(f[5], bmix, 0), kv(f[6], idx_b, 1), kv(f[7], create_b, 1),
           kv(f[8], RATIO(lps[E_ACCTDB], lps[E_ROCKSDB]), 2),
           kv(f[9], RATIO(lps[E_ACCTDB], lps[E_SQLITE]), 2),
           kv(f[10], RATIO(sps[E_ACCTDB], sps[E_LMDB]), 2),
           kv(f[11], RATIO(sps[E_ACCTDB], sps[E_SQLITE]), 2), trace_gbps, lvlim, lim4k, limhuge);
    for (int k = 0; k < E_CNT; k++)
        if (g_res[k].ran && g_res[k].ok)
            printf(" %s_stores_per_s=%.0f %s_loads_per_s=%.0f %s_p50_ns=%.0f %s_p99_ns=%.0f "
                   "%s_setup_s=%.2f",
                   k_names[k], sps[k], k_names[k], lps[k], k_names[k], g_res[k].p50_ns, k_names[k],
                   g_res[k].p99_ns, k_names[k], g_res[k].setup_s);
    printf(" acctdb_kill_reopen_s=%.2f kill_reopen_vs_scan=%.3f kill_replayed_storages=%llu "
           "kill_rebuilt=%d",
           A->kill_open_s, A->scan_open_s > 0 ? A->kill_open_s / A->scan_open_s : 0.0,
           (unsigned long long)A->kill_replayed, A->kill_rebuilt);
    printf(" acctdb_reopen_s=%.2f reopen_vs_cold_load=%.3f index_ram=%s accounts=%llu live=%u "
           "slots=%llu stores=%llu loads=%llu seed=%llu threads=%u results_agree=%d\n",
           A->setup2_s, A->setup_s > 0 ? A->setup2_s / A->setup_s : 0.0, g_index_ram_name,
           (unsigned long long)n, t.n0, (unsigned long long)slots, (unsigned long long)tot_st,
           (unsigned long long)tot_ld, (unsigned long long)seed, threads, agree ? 1 : 0);

    if (!keep) {
        rmtree(snapdir);
        if (made_work) rmdir(work);
    }
    return agree ? 0 : 1;
}
