/* bench/bench_snapshot.c - snapshot load and write throughput, next to the
 * limits measured in the same run.
 *
 *   build/release/bench_snapshot [--accounts N] [--cache DIR] [--threads T]
 *
 * Generates (once, cached in DIR, default bench/cache) an N-account
 * snapshot (default 10,000,000) with `acctdb snapshot gen`'s generator, then
 * measures, with the archive in the page cache:
 *   1. zstd -dc ARCHIVE > /dev/null                      (decompression limit)
 *   2. zstd -dc ARCHIVE | tar -x -C scratch               (the untar baseline)
 *   3. our lattice hashing of the same account records alone, all threads
 *   4. our load without verification
 *   5. our load with full verification
 *   6. writing an archive from the loaded account files, next to
 *      zstd -T<threads> -1 compressing the same tar
 * Each load runs in a child process so its peak RSS is its own.  The last
 * line is key=value pairs. */
#include "bench_util.h"
#include "db/db.h"
#include "hash/lthash.h"
#include "sim/sim.h"
#include "snapshot/load.h"
#include "snapshot/write.h"
#include "store/acctfile.h"

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
sh_time(char const *cmd) {
    double t0 = now_s();
    int    rc = system(cmd);
    double dt = now_s() - t0;
    if (rc != 0) {
        fprintf(stderr, "bench: '%s' failed\n", cmd);
        exit(1);
    }
    return dt;
}

/* Runs fn in a child; returns its wall time, *rss_kb its peak RSS. */
typedef int (*child_fn)(void *ctx);
static double
in_child(child_fn fn, void *ctx, long *rss_kb) {
    double t0 = now_s();
    pid_t  pid = fork();
    if (pid == 0) _exit(fn(ctx) ? 1 : 0);
    int           st;
    struct rusage ru;
    wait4(pid, &st, 0, &ru);
    double dt = now_s() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        fprintf(stderr, "bench: child failed\n");
        exit(1);
    }
    *rss_kb = ru.ru_maxrss;
    return dt;
}

typedef struct load_ctx {
    char const *archive;
    char const *store;
    bool        verify;
    unsigned    threads;
} load_ctx_t;

static int
do_load(void *arg) {
    load_ctx_t     *c = arg;
    adb_load_opts_t o;
    adb_load_opts_default(&o);
    o.store_dir = c->store;
    o.verify = c->verify;
    o.threads = c->threads;
    adb_snap_t *s;
    int         rc = adb_snap_load(&s, c->archive, NULL, &o);
    if (rc) fprintf(stderr, "bench: load failed: %s\n", s ? s->err.msg : acctdb_strerror(rc));
    adb_snap_close(s);
    return rc;
}

/* ---- hashing alone over the loaded account files ----------------------- */

typedef struct hfile {
    uint8_t *map; /* a copy of the storage's bytes */
    uint64_t sz;
    uint64_t slot;
} hfile_t;

typedef struct hjob {
    hfile_t        *files;
    size_t          lo, hi;
    acctdb_lthash_t sum;
    uint64_t        n;
} hjob_t;

static void *
hash_main(void *arg) {
    hjob_t          *j = arg;
    acctdb_account_t b[64];
    size_t           n = 0;
    adb_lthash_zero(&j->sum);
    for (size_t f = j->lo; f < j->hi; f++) {
        adb_acctfile_iter_t it;
        adb_acct_rec_t      r;
        adb_acctfile_iter_init(&it, j->files[f].map, j->files[f].sz, j->files[f].sz);
        while (adb_acctfile_iter_next(&it, &r)) {
            if (!r.lamports) continue;
            adb_acct_rec_to_account(&r, &b[n++]);
            j->n++;
            if (n == 64) {
                adb_lthash_add_accounts(&j->sum, b, n, ACCTDB_LTHASH_CURRENT);
                n = 0;
            }
        }
    }
    if (n) adb_lthash_add_accounts(&j->sum, b, n, ACCTDB_LTHASH_CURRENT);
    return NULL;
}

/* Maps every storage of the completed load in store. */
static hfile_t *
map_store(char const *store, size_t *cnt, uint64_t *bytes) {
    adb_db_t     *db;
    adb_db_meta_t meta;
    adb_err_t     e = {0};
    if (adb_db_open_loaded(&db, store, &meta, &e)) {
        fprintf(stderr, "bench: %s\n", e.msg);
        exit(1);
    }
    size_t   n = adb_db_storage_cnt(db);
    hfile_t *v = calloc(n ? n : 1, sizeof *v);
    *bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        adb_db_storage_t st;
        adb_db_storage_get(db, i, &st);
        v[i].sz = st.size;
        v[i].slot = st.slot;
        v[i].map = malloc(st.size ? st.size : 1);
        if (adb_db_storage_read(db, i, 0, v[i].map, st.size)) exit(1);
        *bytes += st.size;
    }
    adb_db_close(db);
    *cnt = n;
    return v;
}

static double
hash_alone(char const *store, unsigned threads, uint64_t *accounts) {
    size_t   n;
    uint64_t bytes;
    hfile_t *f = map_store(store, &n, &bytes);
    if (!f) exit(1);
    hjob_t   *j = calloc(threads, sizeof *j);
    pthread_t th[64];
    /* Split files so each thread gets about the same bytes. */
    uint64_t per = bytes / threads + 1, acc = 0;
    size_t   start = 0;
    unsigned k = 0;
    for (size_t i = 0; i < n && k + 1 < threads; i++) {
        acc += f[i].sz;
        if (acc >= per * (k + 1)) {
            j[k] = (hjob_t){.files = f, .lo = start, .hi = i + 1};
            start = i + 1;
            k++;
        }
    }
    for (; k < threads; k++) {
        j[k] = (hjob_t){.files = f, .lo = start, .hi = n};
        start = n;
    }
    double t0 = now_s();
    for (k = 0; k < threads; k++)
        pthread_create(&th[k], NULL, hash_main, &j[k]);
    *accounts = 0;
    for (k = 0; k < threads; k++) {
        pthread_join(th[k], NULL);
        *accounts += j[k].n;
    }
    double dt = now_s() - t0;
    for (size_t i = 0; i < n; i++)
        free(f[i].map);
    free(f);
    free(j);
    return dt;
}

/* ---- writing from the account files ------------------------------------ */

typedef struct wctx {
    hfile_t *files;
} wctx_t;

static int
emit_file(void *ctx, size_t i, adb_snap_out_t *out) {
    wctx_t *w = ctx;
    return adb_snap_out_data(out, w->files[i].map, w->files[i].sz);
}

/* Writes an archive from the loaded storages (their bytes in memory, so
 * this measures the writer: tar framing, zstd frames on all threads, fsync,
 * rename), next to zstd on the same tar. */
static double
write_from_store(char const *archive, char const *store, char const *outdir, unsigned threads,
                 uint64_t *tar_sz) {
    adb_load_opts_t o;
    adb_load_opts_default(&o);
    o.manifest_only = true;
    adb_snap_t *s;
    if (adb_snap_load(&s, archive, NULL, &o)) exit(1);
    size_t              n;
    uint64_t            bytes;
    hfile_t            *f = map_store(store, &n, &bytes);
    adb_snap_storage_t *st = calloc(n ? n : 1, sizeof *st);
    for (size_t i = 0; i < n; i++)
        st[i] = (adb_snap_storage_t){f[i].slot, i + 1, f[i].sz};
    wctx_t                w = {f};
    adb_snap_write_opts_t wo = {.workers = threads};
    adb_err_t             err = {0};
    char                  path[4096];
    double                t0 = now_s();
    int                   rc =
        adb_snap_write(outdir, &s->full.manifest, s->full.status_cache_raw,
                       s->full.status_cache_raw_sz, st, n, emit_file, &w, &wo, path, NULL, &err);
    double dt = now_s() - t0;
    if (rc) {
        fprintf(stderr, "bench: write failed: %s\n", err.msg);
        exit(1);
    }
    adb_snap_write_stats_t ws;
    adb_snap_write_last_stats(&ws);
    *tar_sz = ws.tar_sz;
    for (size_t i = 0; i < n; i++)
        free(f[i].map);
    free(f);
    free(st);
    adb_snap_close(s);
    return dt;
}

int
main(int argc, char **argv) {
    uint64_t    n = 10000000;
    char const *cache = getenv("ACCTDB_BENCH_CACHE") ? getenv("ACCTDB_BENCH_CACHE") : "bench/cache";
    long        ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned    threads = ncpu > 0 ? (unsigned)ncpu : 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--accounts") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
            cache = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_snapshot [--accounts N] [--cache DIR] [--threads T]\n");
            return 2;
        }
    }
    char gdir[4096], archive[4096] = "", cmd[16384];
    snprintf(gdir, sizeof gdir, "%s/snap-%llu", cache, (unsigned long long)n);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", gdir);
    system(cmd);
    char inc[4096], msg[512];
    if (acctdb_snapshot_find(gdir, archive, sizeof archive, inc, sizeof inc, msg, sizeof msg)) {
        printf("generating %llu accounts into %s (once)...\n", (unsigned long long)n, gdir);
        adb_gen_opts_t   go = {.accounts = n,
                               .seed = 1,
                               .out_dir = gdir,
                               .threads = threads,
                               .max_bytes = 64ull << 30};
        adb_gen_result_t gr;
        adb_err_t        e = {0};
        if (adb_gen_run(&go, &gr, &e)) {
            fprintf(stderr, "bench: gen: %s\n", e.msg);
            return 1;
        }
        snprintf(archive, sizeof archive, "%s", gr.full_path);
    }
    struct stat ast;
    stat(archive, &ast);
    printf("archive: %s (%.1f MiB), %u threads\n", archive, (double)ast.st_size / 1048576.0,
           threads);
    /* Warm the page cache. */
    snprintf(cmd, sizeof cmd, "cat '%s' > /dev/null", archive);
    system(cmd);

    /* 1. decompression alone */
    snprintf(cmd, sizeof cmd, "zstd -q -dc -T1 '%s' > /dev/null", archive);
    double t_zstd = sh_time(cmd);
    /* 2. untar */
    char scratch[4200];
    snprintf(scratch, sizeof scratch, "%s/untar", cache);
    rmtree(scratch);
    mkdir(scratch, 0755);
    snprintf(cmd, sizeof cmd, "zstd -q -dc '%s' | tar -x -C '%s'", archive, scratch);
    double t_untar = sh_time(cmd);
    rmtree(scratch);
    /* 4. load without verification */
    char store[4200];
    snprintf(store, sizeof store, "%s/store", cache);
    rmtree(store);
    load_ctx_t lc = {archive, store, false, threads};
    long       rss_nv, rss_v;
    double     t_nv = in_child(do_load, &lc, &rss_nv);
    /* 3. hashing alone, over the files that load wrote */
    uint64_t hashed;
    double   t_hash = hash_alone(store, threads, &hashed);
    /* 6. writing from those files, and zstd on the same tar */
    char outdir[4200];
    snprintf(outdir, sizeof outdir, "%s/written", cache);
    rmtree(outdir);
    mkdir(outdir, 0755);
    uint64_t tar_sz;
    double   t_write = write_from_store(archive, store, outdir, threads, &tar_sz);
    rmtree(outdir);
    char tarf[4200];
    snprintf(tarf, sizeof tarf, "%s/plain.tar", cache);
    snprintf(cmd, sizeof cmd, "zstd -q -dc '%s' > '%s'", archive, tarf);
    system(cmd);
    snprintf(cmd, sizeof cmd, "zstd -q -T%u -1 -c '%s' > /dev/null", threads, tarf);
    double t_zcomp = sh_time(cmd);
    unlink(tarf);
    rmtree(store);
    /* 5. load with verification */
    lc.verify = true;
    double        t_v = in_child(do_load, &lc, &rss_v);
    adb_db_meta_t meta;
    adb_db_t     *db;
    adb_err_t     e = {0};
    uint64_t      live = 0;
    if (adb_db_open_loaded(&db, store, &meta, &e) == 0) {
        live = meta.totals.live_cnt;
        adb_db_close(db);
    }
    rmtree(store);

    double tar_mb = (double)tar_sz / 1e6;
    printf("\n%-44s %8s %10s %12s\n", "step", "seconds", "MB/s(tar)", "accounts/s");
    printf("%-44s %8.2f %10.0f\n", "zstd -dc ARCHIVE > /dev/null", t_zstd, tar_mb / t_zstd);
    printf("%-44s %8.2f %10.0f\n", "zstd -dc ARCHIVE | tar -x", t_untar, tar_mb / t_untar);
    printf("%-44s %8.2f %10.0f %12.0f\n", "lattice hash alone (records in page cache)", t_hash,
           tar_mb / t_hash, (double)hashed / t_hash);
    printf("%-44s %8.2f %10.0f %12.0f\n", "acctdb load, no verification", t_nv, tar_mb / t_nv,
           (double)hashed / t_nv);
    printf("%-44s %8.2f %10.0f %12.0f\n", "acctdb load + full verification", t_v, tar_mb / t_v,
           (double)hashed / t_v);
    printf("%-44s %8.2f %10.0f\n", "acctdb archive write (from account files)", t_write,
           tar_mb / t_write);
    printf("%-44s %8.2f %10.0f\n", "zstd -T -1 on the same tar", t_zcomp, tar_mb / t_zcomp);
    printf("peak RSS: load %ld KiB (%.1f B/account), load+verify %ld KiB (%.1f B/account)\n",
           rss_nv, (double)rss_nv * 1024 / (double)hashed, rss_v,
           (double)rss_v * 1024 / (double)hashed);
    double limit = t_hash > t_nv ? t_hash : t_nv;
    printf("\nload_accounts_per_s=%.0f load_vs_limit=%.2f load_noverify_vs_zstd=%.2f "
           "load_vs_untar=%.2f hash_alone_accounts_per_s=%.0f load_noverify_s=%.2f "
           "load_verify_s=%.2f zstd_s=%.2f untar_s=%.2f write_mbps=%.0f zstd_compress_mbps=%.0f "
           "write_vs_zstd=%.2f rss_per_account_b=%.1f accounts=%llu live=%llu tar_mb=%.0f "
           "threads=%u\n",
           (double)hashed / t_v, t_v / limit, t_zstd / t_nv, t_untar / t_v, (double)hashed / t_hash,
           t_nv, t_v, t_zstd, t_untar, tar_mb / t_write, tar_mb / t_zcomp, t_zcomp / t_write,
           (double)rss_v * 1024 / (double)hashed, (unsigned long long)hashed,
           (unsigned long long)live, tar_mb, threads);
    return 0;
}
