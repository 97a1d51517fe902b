/* src/net/server_metrics.c - GET /metrics (Prometheus text format 0.0.4)
 * and the latency histograms behind it.  Everything printed is a relaxed
 * read of a counter, so a scrape never blocks a request; the database's
 * and the change window's figures come from acctdb_db_stats and
 * adb_changes_stats. */
#include "net/server_private.h"

#include <stdio.h>

/* Upper bounds of the latency buckets, seconds. */
static double const g_lat_le[ADB_SRV_LAT_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                     1.0,    2.5,     5.0,    10.0,  60.0};

static char const *const g_route_name[ADB_SRV_R_CNT] = {"rpc",    "archive", "redirect", "changes",
                                                        "health", "metrics", "other"};

static char const *const g_service_name[ACCTDB_SERVICE_CNT] = {"flush", "clean", "shrink", "purge"};

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void
adb_server_lat_record(adb_srv_t *s, int r, uint64_t ns) {
    if (r < 0 || r >= ADB_SRV_R_CNT) r = ADB_SRV_R_OTHER;
    adb_srv_hist_t *h = &s->c.lat[r];
    double          sec = (double)ns * 1e-9;
    size_t          i = 0;
    while (i < ADB_SRV_LAT_BUCKETS && sec > g_lat_le[i])
        i++;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->cnt, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

typedef struct mbuf {
    char  *p;
    size_t n, cap;
    bool   oom;
} mbuf_t;

__attribute__((format(printf, 2, 3))) static void
put(mbuf_t *b, char const *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)k;
        char  *np = adb_realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* One metric without labels. */
static void
one(mbuf_t *b, char const *name, char const *type, char const *help, uint64_t v) {
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
        (unsigned long long)v);
}

static void
head(mbuf_t *b, char const *name, char const *type, char const *help) {
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *
adb_server_metrics(adb_srv_t *s, size_t *len_out) {
    *len_out = 0;
    mbuf_t b = {.cap = 16384};
    b.p = adb_malloc(b.cap);
    if (!b.p) return NULL;
    b.p[0] = 0;
    adb_srv_counters_t *c = &s->c;

    head(&b, "acctdb_http_requests_total", "counter", "HTTP requests answered, by route.");
    for (int r = 0; r < ADB_SRV_R_CNT; r++)
        put(&b, "acctdb_http_requests_total{route=\"%s\"} %llu\n", g_route_name[r],
            (unsigned long long)LD(c->requests[r]));
    head(&b, "acctdb_http_responses_total", "counter", "HTTP responses, by status class.");
    for (int k = 1; k <= 5; k++)
        put(&b, "acctdb_http_responses_total{code=\"%dxx\"} %llu\n", k,
            (unsigned long long)LD(c->status[k]));
    head(&b, "acctdb_http_request_duration_seconds", "histogram",
         "From a request's headers to the end of its response, by route.");
    for (int r = 0; r < ADB_SRV_R_CNT; r++) {
        adb_srv_hist_t *h = &c->lat[r];
        uint64_t        cum = 0;
        for (int i = 0; i <= ADB_SRV_LAT_BUCKETS; i++) {
            cum += LD(h->b[i]);
            if (i < ADB_SRV_LAT_BUCKETS)
                put(&b,
                    "acctdb_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    g_route_name[r], g_lat_le[i], (unsigned long long)cum);
            else
                put(&b,
                    "acctdb_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    g_route_name[r], (unsigned long long)cum);
        }
        put(&b, "acctdb_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", g_route_name[r],
            (double)LD(h->sum_ns) * 1e-9);
        put(&b, "acctdb_http_request_duration_seconds_count{route=\"%s\"} %llu\n", g_route_name[r],
            (unsigned long long)LD(h->cnt));
    }
    one(&b, "acctdb_http_received_bytes_total", "counter", "Request body bytes received.",
        LD(c->bytes_in));
    one(&b, "acctdb_http_sent_bytes_total", "counter", "Response body bytes produced.",
        LD(c->bytes_out));
    one(&b, "acctdb_http_connections_open", "gauge", "TCP connections open.", LD(c->conns_open));
    one(&b, "acctdb_http_connections_total", "counter", "TCP connections accepted.",
        LD(c->conns_total));
    head(&b, "acctdb_http_connections_cut_total", "counter",
         "Connections shut down by the watchdog, by reason.");
    put(&b, "acctdb_http_connections_cut_total{reason=\"header_timeout\"} %llu\n",
        (unsigned long long)LD(c->cut_header));
    put(&b, "acctdb_http_connections_cut_total{reason=\"deadline\"} %llu\n",
        (unsigned long long)LD(c->cut_deadline));
    one(&b, "acctdb_http_body_too_large_total", "counter", "Requests refused with 413.",
        LD(c->body_too_large));
    one(&b, "acctdb_server_uptime_seconds", "gauge", "Seconds since the server started.",
        (adb_server_now_ns() - s->start_ns) / 1000000000ull);
    one(&b, "acctdb_health_ok", "gauge", "1 if /health says ok.",
        !strcmp(adb_server_health(s), "ok"));

    one(&b, "acctdb_archive_transfers_open", "gauge", "Archive transfers in progress.",
        LD(c->xfers_open));
    one(&b, "acctdb_archive_transfers_total", "counter", "Archive transfers started (GET, HEAD).",
        LD(c->xfers_total));
    one(&b, "acctdb_archive_transfers_refused_total", "counter",
        "Archive transfers refused (503) at the concurrent-transfer cap.", LD(c->xfers_refused));
    one(&b, "acctdb_archives_sent_total", "counter", "Archive transfers sent to their end.",
        LD(c->archives_sent));
    one(&b, "acctdb_archive_sent_bytes_total", "counter", "Archive bytes sent.",
        LD(c->archive_bytes));

    one(&b, "acctdb_changes_streams_open", "gauge", "/changes streams open.", LD(c->streams_open));
    one(&b, "acctdb_changes_streams_total", "counter", "/changes streams opened.",
        LD(c->streams_total));
    one(&b, "acctdb_changes_streams_too_old_total", "counter",
        "/changes requests answered 410 SlotTooOld.", LD(c->streams_too_old));
    one(&b, "acctdb_changes_sent_bytes_total", "counter", "/changes bytes sent.",
        LD(c->streams_bytes));
    adb_changes_stats_t cs = {0};
    if (s->chg) adb_changes_stats(s->chg, &cs);
    one(&b, "acctdb_changes_window_slots", "gauge", "Rooted slots the change window holds.",
        cs.slots);
    one(&b, "acctdb_changes_window_oldest_slot", "gauge", "Oldest slot of the change window.",
        cs.oldest_slot);
    one(&b, "acctdb_changes_window_newest_slot", "gauge", "Newest slot of the change window.",
        cs.newest_slot);
    one(&b, "acctdb_changes_window_bytes", "gauge", "Bytes the change window holds.", cs.bytes);
    one(&b, "acctdb_changes_readers", "gauge", "Change readers open.", cs.readers);

    adb_rpc_stats_t rs = {0};
    if (s->rpc) adb_rpc_stats(s->rpc, &rs);
    one(&b, "acctdb_rpc_calls_total", "counter", "JSON-RPC calls (batch entries count one each).",
        rs.calls);
    one(&b, "acctdb_rpc_errors_total", "counter", "JSON-RPC calls answered with an error.",
        rs.errors);
    one(&b, "acctdb_rpc_received_bytes_total", "counter", "JSON-RPC request bytes.", rs.bytes_in);
    one(&b, "acctdb_rpc_sent_bytes_total", "counter", "JSON-RPC response bytes.", rs.bytes_out);
    one(&b, "acctdb_rpc_handlers_running", "gauge", "JSON-RPC handlers running.",
        LD(c->rpc_running));
    one(&b, "acctdb_rpc_handlers_waiting", "gauge", "JSON-RPC requests waiting for a handler.",
        LD(c->rpc_waiting));

    acctdb_db_stats_t ds;
    if (acctdb_db_stats(s->db, &ds) == 0) {
        one(&b, "acctdb_db_root_slot", "gauge", "The newest rooted slot.", ds.root_slot);
        one(&b, "acctdb_db_durable_root_slot", "gauge", "The newest flushed root.",
            ds.durable_root_slot);
        one(&b, "acctdb_db_last_full_snapshot_slot", "gauge",
            "Slot of the last full snapshot written.", ds.last_full_snapshot_slot);
        head(&b, "acctdb_db_banks", "gauge", "Banks in the write cache, by state.");
        put(&b, "acctdb_db_banks{state=\"open\"} %llu\n", (unsigned long long)ds.banks_open);
        put(&b, "acctdb_db_banks{state=\"frozen\"} %llu\n", (unsigned long long)ds.banks_frozen);
        put(&b, "acctdb_db_banks{state=\"rooted_unflushed\"} %llu\n",
            (unsigned long long)ds.banks_rooted_unflushed);
        put(&b, "acctdb_db_banks{state=\"dead\"} %llu\n", (unsigned long long)ds.banks_dead);
        one(&b, "acctdb_db_index_keys", "gauge", "Keys in the index.", ds.index_keys);
        one(&b, "acctdb_db_index_versions_listed", "gauge", "Index versions in overflow lists.",
            ds.index_versions_listed);
        one(&b, "acctdb_db_index_ram_bytes", "gauge", "RAM of the index.", ds.index_ram_sz);
        if (ds.index_disk) {
            one(&b, "acctdb_db_index_ram_heap_bytes", "gauge",
                "Heap of the index's RAM tier (with the disk tier's bookkeeping).",
                ds.index_ram_heap);
            one(&b, "acctdb_db_index_ram_mapped_bytes", "gauge",
                "Upper bound of the disk tier's resident mapped bytes.", ds.index_ram_mapped);
            one(&b, "acctdb_db_index_ram_budget_bytes", "gauge", "index_ram_bytes (0: no limit).",
                ds.index_ram_budget);
            one(&b, "acctdb_db_index_disk_bytes", "gauge", "Bytes of the index's disk tier.",
                ds.index_disk_bytes);
            one(&b, "acctdb_db_index_lookups_ram_total", "counter",
                "Index lookups answered from RAM since open.", ds.index_hits);
            one(&b, "acctdb_db_index_lookups_disk_total", "counter",
                "Index lookups that read the disk tier since open.", ds.index_misses);
            one(&b, "acctdb_db_index_evictions_total", "counter",
                "Keys evicted from the index's RAM tier since open.", ds.index_evictions);
        }
        one(&b, "acctdb_db_owner_index_keys", "gauge", "(owner, pubkey) pairs indexed.",
            ds.owner_index_keys);
        one(&b, "acctdb_db_storages", "gauge", "Account storages.", ds.storages);
        one(&b, "acctdb_db_storage_bytes", "gauge", "Bytes of account storages.", ds.storage_bytes);
        one(&b, "acctdb_db_storage_alive_bytes", "gauge", "Alive bytes of account storages.",
            ds.storage_alive_bytes);
        one(&b, "acctdb_db_segments", "gauge", "Segment files.", ds.segments);
        one(&b, "acctdb_db_write_cache_bytes", "gauge", "Bytes in the write cache.",
            ds.write_cache_sz);
        one(&b, "acctdb_db_write_cache_accounts", "gauge", "Accounts in the write cache.",
            ds.write_cache_accounts);
        one(&b, "acctdb_db_read_cache_bytes", "gauge", "Bytes in the read cache.",
            ds.read_cache_sz);
        one(&b, "acctdb_db_read_cache_hits_total", "counter", "Read cache hits.",
            ds.read_cache_hits);
        one(&b, "acctdb_db_read_cache_misses_total", "counter", "Read cache misses.",
            ds.read_cache_misses);
        one(&b, "acctdb_db_stores_total", "counter", "Accounts stored.", ds.stores);
        one(&b, "acctdb_db_loads_total", "counter", "Accounts loaded.", ds.loads);
        one(&b, "acctdb_db_freezes_total", "counter", "Banks frozen.", ds.freezes);
        one(&b, "acctdb_db_roots_total", "counter", "Roots set.", ds.roots);
        one(&b, "acctdb_db_flushed_bytes_total", "counter", "Bytes flushed to storages.",
            ds.flushed_bytes);
        one(&b, "acctdb_db_retired_pending", "gauge", "Objects waiting for readers to leave.",
            ds.retired_pending);
        head(&b, "acctdb_db_service_passes_total", "counter", "Background service passes.");
        for (int i = 0; i < ACCTDB_SERVICE_CNT; i++)
            put(&b, "acctdb_db_service_passes_total{service=\"%s\"} %llu\n", g_service_name[i],
                (unsigned long long)ds.service_passes[i]);
        head(&b, "acctdb_db_service_work_total", "counter",
             "Accounts flushed, cleaned, moved or purged, by service.");
        for (int i = 0; i < ACCTDB_SERVICE_CNT; i++)
            put(&b, "acctdb_db_service_work_total{service=\"%s\"} %llu\n", g_service_name[i],
                (unsigned long long)ds.service_work[i]);
        head(&b, "acctdb_db_service_seconds_total", "counter", "Time in background services.");
        for (int i = 0; i < ACCTDB_SERVICE_CNT; i++)
            put(&b, "acctdb_db_service_seconds_total{service=\"%s\"} %.6f\n", g_service_name[i],
                (double)ds.service_ns[i] * 1e-9);
    }
    if (b.oom) {
        adb_free(b.p);
        return NULL;
    }
    *len_out = b.n;
    return b.p;
}
