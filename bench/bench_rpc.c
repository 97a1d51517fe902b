/* bench/bench_rpc.c - the network service over loopback, next to the
 * ceilings measured in the same run.
 *
 *   build/release/bench_rpc [--accounts N] [--cache DIR] [--connections C]
 *                           [--seconds S] [--wrk-threads T] [--server-threads K]
 *
 * Generates (once, cached in DIR/snap-N, default bench/cache, shared with
 * bench_snapshot) an N-account snapshot (default 1,000,000), creates a
 * database from it in DIR/rpc-db, picks 4,096 token accounts and their
 * wallets, and starts `acctdb serve` (the binary next to this one) on it
 * with the archive directory.  Then, each with wrk (C connections, T
 * threads, S seconds, --latency; a Lua script cycling through the request
 * bodies):
 *   1. getAccountInfo of the token accounts (base64)
 *   2. getProgramAccounts of the Token program by wallet (dataSize 165 +
 *      memcmp at 32, base64): what wallets ask
 *   3. both again with the server restarted with --threads 0 (no worker
 *      pool: each connection thread runs its own requests)
 *   4. the ceiling: libmicrohttpd in this process with the server's
 *      threading (a thread per connection) answering every POST with a
 *      static 200-byte body, driven with the getAccountInfo bodies
 * and the snapshot archive downloaded with `curl -o /dev/null` (best of
 * 5, page cache warm) from acctdb serve, from libmicrohttpd's sendfile
 * response in this process, and as file:// (no HTTP at all).  The last
 * line is key=value pairs: rpc_vs_static (getAccountInfo with the default
 * pool / static; goal >= 0.5), inline_vs_static (the same without the
 * pool), snapshot_vs_sendfile (libmicrohttpd's sendfile time / ours) and
 * snapshot_vs_curl (curl file:// time / ours: no HTTP server can reach it
 * over loopback; printed for scale). */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYS  4096
#define TOKEN "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"

static void
die(char const *what) {
    fprintf(stderr, "bench_rpc: %s\n", what);
    exit(1);
}

/* ---- the keys ---------------------------------------------------------------- */

typedef struct keys {
    acctdb_pubkey_t acct[KEYS], wallet[KEYS];
    size_t          n;
} keys_t;

static int
key_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    keys_t *k = ctx;
    if (k->n < KEYS && a->data_len >= 64) {
        k->acct[k->n] = a->pubkey;
        memcpy(k->wallet[k->n].b, a->data + 32, 32);
        k->n++;
    }
    return 0;
}

/* ---- wrk ---------------------------------------------------------------------- */

typedef struct wrk_result {
    double rps, p50_ms, p99_ms;
    long   non2xx, errors;
} wrk_result_t;

/* A latency like "1.23ms", "456.00us", "1.01s" in ms. */
static double
lat_ms(char const *s) {
    char  *end;
    double v = strtod(s, &end);
    if (!strncmp(end, "us", 2)) return v / 1000.0;
    if (!strncmp(end, "ms", 2)) return v;
    if (*end == 's') return v * 1000.0;
    if (*end == 'm') return v * 60000.0;
    return v;
}

static wrk_result_t
run_wrk(char const *url, char const *lua, unsigned threads, unsigned conns, unsigned secs) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "wrk -t%u -c%u -d%us --latency -s '%s' '%s' 2>&1", threads, conns,
             secs, lua, url);
    FILE *p = popen(cmd, "r");
    if (!p) die("cannot run wrk (apt-get install wrk)");
    wrk_result_t r = {0};
    char         line[1024];
    while (fgets(line, sizeof line, p)) {
        char const *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!strncmp(s, "Requests/sec:", 13)) r.rps = strtod(s + 13, NULL);
        if (!strncmp(s, "50%", 3)) r.p50_ms = lat_ms(s + 3 + strspn(s + 3, " \t"));
        if (!strncmp(s, "99%", 3)) r.p99_ms = lat_ms(s + 3 + strspn(s + 3, " \t"));
        if (!strncmp(s, "Non-2xx or 3xx responses:", 26)) r.non2xx = atol(s + 26);
        if (!strncmp(s, "Socket errors:", 14)) r.errors = 1;
    }
    if (pclose(p) != 0 || r.rps <= 0) die("wrk failed");
    return r;
}

/* A Lua script that POSTs each body in turn. */
static void
write_lua(char const *path, char **bodies, size_t n) {
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write the Lua script");
    fprintf(f, "local b = {\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  [[%s]],\n", bodies[i]);
    fprintf(f, "}\nlocal i = 0\n"
               "local h = {[\"Content-Type\"] = \"application/json\"}\n"
               "request = function()\n"
               "  i = i %% #b + 1\n"
               "  return wrk.format(\"POST\", \"/\", h, b[i])\n"
               "end\n");
    fclose(f);
}

/* ---- the ceilings: libmicrohttpd in this process ------------------------------------ */

static char  g_static[201];
static int   g_file_fd = -1;
static off_t g_file_sz;

static enum MHD_Result
static_handler(void *cls, struct MHD_Connection *c, char const *url, char const *method,
               char const *version, char const *upload, size_t *upload_sz, void **con_cls) {
    (void)cls, (void)url, (void)version, (void)upload;
    if (!*con_cls) {
        *con_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_sz) {
        *upload_sz = 0;
        return MHD_YES;
    }
    struct MHD_Response *r;
    if (!strcmp(method, "GET") && g_file_fd >= 0)
        r = MHD_create_response_from_fd_at_offset64((uint64_t)g_file_sz, dup(g_file_fd), 0);
    else
        r = MHD_create_response_from_buffer(200, g_static, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---- curl downloads ---------------------------------------------------------------- */

static double
best_curl(char const *url, int n) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "curl -s -f -o /dev/null '%s'", url);
    double best = 1e9;
    for (int i = 0; i < n; i++) {
        double t0 = now_s();
        if (system(cmd) != 0) die("curl failed");
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* ---- acctdb serve --------------------------------------------------------------------- */

typedef struct serve {
    pid_t pid;
    FILE *out;
    char  url[600];
} serve_t;

static void
serve_start(serve_t *sv, char const *tool, char const *dbdir, char const *adir, unsigned threads) {
    int p[2];
    if (pipe(p)) die("pipe");
    sv->pid = fork();
    if (sv->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char thr[16];
        snprintf(thr, sizeof thr, "%u", threads);
        execl(tool, tool, "serve", dbdir, "--rpc-addr", "127.0.0.1:0", "--snapshots", adir,
              "--threads", thr, "--max-connections", "4096", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    sv->out = fdopen(p[0], "r");
    char line[512] = "";
    if (!fgets(line, sizeof line, sv->out) || strncmp(line, "listening: ", 11)) die("serve failed");
    line[strcspn(line, "\n")] = 0;
    snprintf(sv->url, sizeof sv->url, "%s/", line + 11);
}

static void
serve_stop(serve_t *sv) {
    int st;
    kill(sv->pid, SIGTERM);
    waitpid(sv->pid, &st, 0);
    fclose(sv->out);
}

/* ---- main ---------------------------------------------------------------------------- */

int
main(int argc, char **argv) {
    uint64_t    n = 1000000;
    char const *cache = getenv("ACCTDB_BENCH_CACHE") ? getenv("ACCTDB_BENCH_CACHE") : "bench/cache";
    unsigned    conns = 64, secs = 10, wthreads = 2, sthreads = 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--accounts") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
            cache = argv[++i];
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
            conns = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            secs = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--wrk-threads") && i + 1 < argc)
            wthreads = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--server-threads") && i + 1 < argc)
            sthreads = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_rpc [--accounts N] [--cache DIR] [--connections C] "
                            "[--seconds S] [--wrk-threads T] [--server-threads K]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    char    exe[4096], tool[4200];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) die("cannot find myself");
    exe[el] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(tool, sizeof tool, "%s/acctdb", exe);
    if (access(tool, X_OK)) die("build the acctdb tool first (make)");

    /* The archive (cached) and a database from it. */
    char gdir[4096], archive[4096] = "", inc[4096], msg[1024], cmd[16384];
    snprintf(gdir, sizeof gdir, "%s/snap-%llu", cache, (unsigned long long)n);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", gdir);
    if (system(cmd)) die("mkdir failed");
    if (acctdb_snapshot_find(gdir, archive, sizeof archive, inc, sizeof inc, msg, sizeof msg)) {
        printf("generating %llu accounts into %s (once)...\n", (unsigned long long)n, gdir);
        acctdb_gen_opts_t go = {
            .accounts = n, .seed = 1, .out_dir = gdir, .max_bytes = 64ull << 30};
        acctdb_gen_result_t gr;
        if (acctdb_snapshot_gen(&go, &gr, msg, sizeof msg)) die(msg);
        snprintf(archive, sizeof archive, "%s", gr.full_path);
    }
    struct stat ast;
    if (stat(archive, &ast)) die("no archive");
    char dbdir[4200];
    snprintf(dbdir, sizeof dbdir, "%s/rpc-db", cache);
    rmtree(dbdir);
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.owner_index = true;
    acctdb_db_source_t src = {.full_path = archive};
    acctdb_db_t       *db = NULL;
    double             t0 = now_s();
    if (acctdb_db_create(&db, dbdir, &src, &cfg, msg, sizeof msg)) die(msg);
    printf("archive: %s (%.1f MiB); database created in %.1f s\n", archive,
           (double)ast.st_size / 1048576.0, now_s() - t0);
    keys_t              *k = calloc(1, sizeof *k);
    acctdb_scan_filter_t f = {.has_data_size = true, .data_size = 165};
    acctdb_base58_decode_32(TOKEN, f.owner.b);
    acctdb_pubkey_t next;
    bool            more;
    if (acctdb_db_scan(db, acctdb_db_root_slot(db, NULL), &f, NULL, KEYS, key_cb, k, &next, &more))
        die(acctdb_db_errmsg(db));
    acctdb_db_close(db);
    if (k->n < 16) die("too few token accounts");

    serve_t sv;
    serve_start(&sv, tool, dbdir, gdir, sthreads);
    char const *url = sv.url;
    printf("acctdb serve at %s; wrk -t%u -c%u -d%us\n", url, wthreads, conns, secs);

    /* Request bodies. */
    size_t nb = k->n < 1000 ? k->n : 1000;
    char **gai = calloc(nb, sizeof *gai), **gpa = calloc(nb, sizeof *gpa);
    for (size_t i = 0; i < nb; i++) {
        char a[ACCTDB_BASE58_32_SZ], w[ACCTDB_BASE58_32_SZ];
        acctdb_base58_encode_32(k->acct[i].b, a);
        acctdb_base58_encode_32(k->wallet[i].b, w);
        gai[i] = malloc(512);
        gpa[i] = malloc(1024);
        snprintf(gai[i], 512,
                 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"getAccountInfo\",\"params\":[\"%s\","
                 "{\"encoding\":\"base64\"}]}",
                 i, a);
        snprintf(gpa[i], 1024,
                 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"getProgramAccounts\",\"params\":"
                 "[\"" TOKEN "\",{\"encoding\":\"base64\",\"filters\":[{\"dataSize\":165},"
                 "{\"memcmp\":{\"offset\":32,\"bytes\":\"%s\"}}]}]}",
                 i, w);
    }
    char lua_gai[4300], lua_gpa[4300];
    snprintf(lua_gai, sizeof lua_gai, "%s/rpc-gai.lua", cache);
    snprintf(lua_gpa, sizeof lua_gpa, "%s/rpc-gpa.lua", cache);
    write_lua(lua_gai, gai, nb);
    write_lua(lua_gpa, gpa, nb);
    /* One of each by hand: the answers hold the account. */
    snprintf(cmd, sizeof cmd,
             "curl -s -H 'Content-Type: application/json' -d '%s' %s | grep -q '\"owner\":\"" TOKEN
             "\"' && curl -s -H 'Content-Type: application/json' -d '%s' %s | grep -q '\"pubkey\"'",
             gai[0], url, gpa[0], url);
    if (system(cmd)) die("the server's answers do not hold the accounts asked for");

    wrk_result_t r_gai = run_wrk(url, lua_gai, wthreads, conns, secs);
    wrk_result_t r_gpa = run_wrk(url, lua_gpa, wthreads, conns, secs);

    /* The ceiling in this process. */
    memset(g_static, ' ', 200);
    memcpy(g_static, "{\"jsonrpc\":\"2.0\",\"result\":0,\"id\":1}", 35);
    g_file_fd = open(archive, O_RDONLY | O_CLOEXEC);
    g_file_sz = ast.st_size;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, static_handler,
        NULL, MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_END);
    if (!d) die("libmicrohttpd did not start");
    unsigned sport = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char     surl[128];
    snprintf(surl, sizeof surl, "http://127.0.0.1:%u/", sport);
    wrk_result_t r_st = run_wrk(surl, lua_gai, wthreads, conns, secs);

    /* Snapshot downloads. */
    char const *base = strrchr(archive, '/') + 1;
    char        a_ours[8192], a_send[8192], a_file[8192];
    snprintf(a_ours, sizeof a_ours, "%s%s", url, base);
    snprintf(a_send, sizeof a_send, "%s%s", surl, base);
    char real[4096];
    if (!realpath(archive, real)) die("realpath");
    snprintf(a_file, sizeof a_file, "file://%s", real);
    best_curl(a_file, 1); /* warm */
    double t_ours = best_curl(a_ours, 5);
    double t_send = best_curl(a_send, 5);
    double t_file = best_curl(a_file, 5);
    MHD_stop_daemon(d);
    close(g_file_fd);

    serve_stop(&sv);
    /* The same with no worker pool: each connection thread runs its own
     * requests (--threads 0). */
    serve_start(&sv, tool, dbdir, gdir, 0);
    wrk_result_t i_gai = run_wrk(sv.url, lua_gai, wthreads, conns, secs);
    wrk_result_t i_gpa = run_wrk(sv.url, lua_gpa, wthreads, conns, secs);
    serve_stop(&sv);
    rmtree(dbdir);

    double mb = (double)ast.st_size / 1e6;
    printf("\n| workload (%u connections, loopback) | requests/s | p50 ms | p99 ms |\n", conns);
    printf("|---|---:|---:|---:|\n");
    printf("| getAccountInfo (base64), %u workers | %.0f | %.2f | %.2f |\n", sthreads, r_gai.rps,
           r_gai.p50_ms, r_gai.p99_ms);
    printf("| getProgramAccounts (Token, by wallet), %u workers | %.0f | %.2f | %.2f |\n", sthreads,
           r_gpa.rps, r_gpa.p50_ms, r_gpa.p99_ms);
    printf("| getAccountInfo, no pool (--threads 0) | %.0f | %.2f | %.2f |\n", i_gai.rps,
           i_gai.p50_ms, i_gai.p99_ms);
    printf("| getProgramAccounts, no pool (--threads 0) | %.0f | %.2f | %.2f |\n", i_gpa.rps,
           i_gpa.p50_ms, i_gpa.p99_ms);
    printf("| libmicrohttpd static 200 bytes (ceiling) | %.0f | %.2f | %.2f |\n", r_st.rps,
           r_st.p50_ms, r_st.p99_ms);
    if (r_gai.non2xx || r_gpa.non2xx || i_gai.non2xx || i_gpa.non2xx || r_st.non2xx ||
        r_gai.errors || r_gpa.errors || i_gai.errors || i_gpa.errors)
        printf("(some answers were not 2xx, or wrk saw socket errors)\n");
    printf("\n| snapshot download, %.0f MB, curl -o /dev/null, best of 5 | s | MB/s |\n", mb);
    printf("|---|---:|---:|\n");
    printf("| acctdb serve | %.3f | %.0f |\n", t_ours, mb / t_ours);
    printf("| libmicrohttpd sendfile response | %.3f | %.0f |\n", t_send, mb / t_send);
    printf("| file:// (no HTTP) | %.3f | %.0f |\n", t_file, mb / t_file);
    printf("\nrpc_gai_rps=%.0f rpc_gai_p99_ms=%.2f rpc_gpa_rps=%.0f rpc_gpa_p99_ms=%.2f "
           "inline_gai_rps=%.0f inline_gai_p99_ms=%.2f inline_gpa_rps=%.0f static_rps=%.0f "
           "rpc_vs_static=%.2f inline_vs_static=%.2f snapshot_mbps=%.0f sendfile_mbps=%.0f "
           "file_mbps=%.0f snapshot_vs_sendfile=%.2f snapshot_vs_curl=%.2f\n",
           r_gai.rps, r_gai.p99_ms, r_gpa.rps, r_gpa.p99_ms, i_gai.rps, i_gai.p99_ms, i_gpa.rps,
           r_st.rps, r_gai.rps / r_st.rps, i_gai.rps / r_st.rps, mb / t_ours, mb / t_send,
           mb / t_file, t_send / t_ours, t_file / t_ours);
    return 0;
}
