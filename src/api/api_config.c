/* src/api/api_config.c - the database configuration: defaults, the
 * "key = value" text of DIR/acctdb.conf, and reading that file.  The
 * engine (src/db) takes the struct as filled in here. */
#include "api/api_private.h"

#include "util/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
acctdb_db_config_default(acctdb_db_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->index_bins = 8192;
    cfg->write_cache_max_sz = 1ull << 30;
    cfg->read_cache_max_sz = 64ull << 20;
    cfg->shrink_ratio = 0.8;
    cfg->owner_index = false; /* like Agave's secondary indexes: opt in */
    cfg->background = true;
    cfg->service_interval_ms = 100;
    cfg->snapshot_keep_full = 2;
    cfg->snapshot_keep_incremental = 4;
    cfg->snapshot_max_sz = 0;
    cfg->threads = 0;
    cfg->mmap_reads = true;
    cfg->flush_min_sz = 64ull << 20;
    cfg->flush_max_delay_ms = 400;
    cfg->sync = true;
    cfg->write_cache_wait_ms = 2000;
}

static bool
parse_u64(char const *v, uint64_t *out) {
    char *end;
    errno = 0;
    if (*v == '-' || !*v) return false;
    unsigned long long x = strtoull(v, &end, 0);
    if (errno || end == v) return false;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1ull << 30, end++;
    else if (*end == 'T' || *end == 't')
        mul = 1ull << 40, end++;
    if (*end) return false;
    if (x > UINT64_MAX / mul) return false;
    *out = (uint64_t)x * mul;
    return true;
}

static bool
parse_bool(char const *v, bool *out) {
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "yes"))
        return *out = true, true;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "no"))
        return *out = false, true;
    return false;
}

/* One setting; returns NULL or what is wrong. */
static char const *
config_set(acctdb_db_config_t *cfg, char const *k, char const *v) {
    uint64_t x;
    if (!strcmp(k, "index_bins")) {
        if (!parse_u64(v, &x) || x < 1 || x > (1u << 20) || (x & (x - 1)))
            return "must be a power of two from 1 to 1048576";
        cfg->index_bins = (uint32_t)x;
    } else if (!strcmp(k, "write_cache_max_sz")) {
        if (!parse_u64(v, &x) || x < (1u << 20)) return "must be a size of at least 1M";
        cfg->write_cache_max_sz = x;
    } else if (!strcmp(k, "read_cache_max_sz")) {
        if (!parse_u64(v, &x)) return "must be a size (0 disables)";
        cfg->read_cache_max_sz = x;
    } else if (!strcmp(k, "shrink_ratio")) {
        char  *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d >= 0.0 && d <= 1.0)) return "must be a number from 0 to 1";
        cfg->shrink_ratio = d;
    } else if (!strcmp(k, "owner_index")) {
        if (!parse_bool(v, &cfg->owner_index)) return "must be true or false";
    } else if (!strcmp(k, "background")) {
        if (!parse_bool(v, &cfg->background)) return "must be true or false";
    } else if (!strcmp(k, "service_interval_ms")) {
        if (!parse_u64(v, &x) || x < 1 || x > 3600000) return "must be 1 to 3600000";
        cfg->service_interval_ms = (uint32_t)x;
    } else if (!strcmp(k, "snapshot_keep_full")) {
        if (!parse_u64(v, &x) || x < 1 || x > 1000) return "must be 1 to 1000";
        cfg->snapshot_keep_full = (uint32_t)x;
    } else if (!strcmp(k, "snapshot_keep_incremental")) {
        if (!parse_u64(v, &x) || x > 1000) return "must be 0 to 1000";
        cfg->snapshot_keep_incremental = (uint32_t)x;
    } else if (!strcmp(k, "snapshot_max_sz")) {
        if (!parse_u64(v, &x)) return "must be a size (0: no budget)";
        cfg->snapshot_max_sz = x;
    } else if (!strcmp(k, "shrink_per_file")) {
        if (!parse_bool(v, &cfg->shrink_per_file)) return "must be true or false";
    } else if (!strcmp(k, "mmap_reads")) {
        if (!parse_bool(v, &cfg->mmap_reads)) return "must be true or false";
    } else if (!strcmp(k, "sync")) {
        if (!parse_bool(v, &cfg->sync)) return "must be true or false";
    } else if (!strcmp(k, "flush_min_sz")) {
        if (!parse_u64(v, &x)) return "must be a size (0: flush every root)";
        cfg->flush_min_sz = x;
    } else if (!strcmp(k, "flush_max_delay_ms")) {
        if (!parse_u64(v, &x) || x > 3600000) return "must be 0 to 3600000";
        cfg->flush_max_delay_ms = (uint32_t)x;
    } else if (!strcmp(k, "write_cache_wait_ms")) {
        if (!parse_u64(v, &x) || x > 3600000) return "must be 0 to 3600000";
        cfg->write_cache_wait_ms = (uint32_t)x;
    } else if (!strcmp(k, "index_disk")) {
        if (!parse_bool(v, &cfg->index_disk)) return "must be true or false";
    } else if (!strcmp(k, "index_ram_bytes")) {
        if (!parse_u64(v, &x) || (x && x < (1u << 20))) return "must be 0 or a size of at least 1M";
        cfg->index_ram_bytes = x;
        if (x) cfg->index_disk = true;
    } else if (!strcmp(k, "index_checkpoint_sz")) {
        if (!strcmp(v, "never")) {
            cfg->index_checkpoint_sz = UINT64_MAX;
        } else {
            if (!parse_u64(v, &x)) return "must be a size (0: the default) or never";
            cfg->index_checkpoint_sz = x;
        }
    } else if (!strcmp(k, "chilly_cache_sz")) {
        if (!parse_u64(v, &x)) return "must be a size (0: off)";
        cfg->chilly_cache_sz = x;
    } else if (!strcmp(k, "chilly_load_limit")) {
        if (!parse_u64(v, &x)) return "must be a size (0: none)";
        cfg->chilly_load_limit = x;
    } else if (!strcmp(k, "lsr")) {
        if (!parse_bool(v, &cfg->lsr)) return "must be true or false";
    } else if (!strcmp(k, "avocado")) {
        if (!parse_bool(v, &cfg->avocado)) return "must be true or false";
    } else if (!strcmp(k, "threads")) {
        if (!parse_u64(v, &x) || x > 1024) return "must be 0 to 1024";
        cfg->threads = (unsigned)x;
    } else {
        return "unknown key";
    }
    return NULL;
}

static char *
trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

int
acctdb_db_config_parse(acctdb_db_config_t *cfg, char const *text, char *msg_out, size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!cfg || !text) return ACCTDB_ERR_INVALID;
    acctdb_db_config_t c = *cfg;
    unsigned           line = 0;
    for (char const *p = text; *p;) {
        char const *nl = strchr(p, '\n');
        size_t      n = nl ? (size_t)(nl - p) : strlen(p);
        char        buf[512];
        line++;
        if (n >= sizeof buf) {
            if (msg_out)
                snprintf(msg_out, msg_max, "line %u: longer than %zu bytes", line, sizeof buf - 1);
            return ACCTDB_ERR_INVALID;
        }
        memcpy(buf, p, n);
        buf[n] = 0;
        p += n + (nl ? 1 : 0);
        char *hash = strchr(buf, '#');
        if (hash) *hash = 0;
        char *s = trim(buf);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            if (msg_out) snprintf(msg_out, msg_max, "line %u: expected key = value", line);
            return ACCTDB_ERR_INVALID;
        }
        *eq = 0;
        char       *k = trim(s), *v = trim(eq + 1);
        char const *why = config_set(&c, k, v);
        if (why) {
            if (msg_out) snprintf(msg_out, msg_max, "line %u: %s = %s: %s", line, k, v, why);
            return ACCTDB_ERR_INVALID;
        }
    }
    *cfg = c;
    return 0;
}

int
acctdb_db_config_read(acctdb_db_config_t *cfg, char const *dir, char *msg_out, size_t msg_max) {
    return adb_api_config_read(cfg, dir, adb_io(), msg_out, msg_max);
}

int
adb_api_config_read(acctdb_db_config_t *cfg, char const *dir, adb_io_t const *io, char *msg_out,
                    size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!cfg || !dir) return ACCTDB_ERR_INVALID;
    int dfd = adb_io_openat(io, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0) return dfd == -ENOENT ? 0 : dfd;
    uint8_t *buf;
    size_t   sz;
    int      rc = adb_io_read_file(io, dfd, "acctdb.conf", 1u << 20, &buf, &sz);
    adb_io_close(io, dfd);
    if (rc == -ENOENT) return 0;
    if (rc) {
        if (msg_out) snprintf(msg_out, msg_max, "%s/acctdb.conf: %s", dir, acctdb_strerror(rc));
        return rc;
    }
    char *text = adb_malloc(sz + 1);
    if (!text) {
        adb_free(buf);
        return ACCTDB_ERR_NOMEM;
    }
    memcpy(text, buf, sz);
    text[sz] = 0;
    adb_free(buf);
    char m[256];
    rc = memchr(text, 0, sz) ? ACCTDB_ERR_INVALID : acctdb_db_config_parse(cfg, text, m, sizeof m);
    if (rc && msg_out)
        snprintf(msg_out, msg_max, "%s/acctdb.conf: %s", dir,
                 memchr(text, 0, sz) ? "holds a NUL byte" : m);
    adb_free(text);
    return rc;
}
