/* src/snapshot/naming.c - archive names and archive selection. */
#include "snapshot/naming.h"

#include "util/base58.h"

#include <dirent.h>
#include <stdio.h>

static bool
parse_u64(char const **p, uint64_t *out) {
    char const *s = *p;
    uint64_t    v = 0;
    size_t      n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        uint64_t d = (uint64_t)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
        n++;
    }
    if (n == 0) return false;
    *p = s + n;
    *out = v;
    return true;
}

int
adb_snap_name_parse(char const *name, adb_snap_name_t *out) {
    memset(out, 0, sizeof *out);
    char const *slash = strrchr(name, '/');
    char const *p = slash ? slash + 1 : name;
    if (!strncmp(p, "incremental-snapshot-", 21)) {
        out->is_incremental = true;
        p += 21;
        if (!parse_u64(&p, &out->base_slot) || *p++ != '-') return ACCTDB_ERR_INVALID;
    } else if (!strncmp(p, "snapshot-", 9)) {
        p += 9;
    } else {
        return ACCTDB_ERR_INVALID;
    }
    if (!parse_u64(&p, &out->slot) || *p++ != '-') return ACCTDB_ERR_INVALID;
    char const *h = p;
    while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        p++;
    size_t hl = (size_t)(p - h);
    if (hl == 0 || *p != '.') return ACCTDB_ERR_INVALID;
    if (strcmp(p, ".tar.zst") && strcmp(p, ".tar.lz4")) return ACCTDB_ERR_INVALID;
    if (adb_base58_decode_32(h, hl, out->hash.b)) return ACCTDB_ERR_INVALID;
    snprintf(out->ext, sizeof out->ext, "%s", p + 1);
    return 0;
}

char *
adb_snap_name_format(adb_snap_name_t const *n, char *buf, size_t buf_sz) {
    char h[ACCTDB_BASE58_32_SZ];
    adb_base58_encode_32(n->hash.b, h);
    if (n->is_incremental)
        snprintf(buf, buf_sz, "incremental-snapshot-%llu-%llu-%s.%s",
                 (unsigned long long)n->base_slot, (unsigned long long)n->slot, h,
                 n->ext[0] ? n->ext : "tar.zst");
    else
        snprintf(buf, buf_sz, "snapshot-%llu-%s.%s", (unsigned long long)n->slot, h,
                 n->ext[0] ? n->ext : "tar.zst");
    return buf;
}

typedef struct cand {
    adb_snap_name_t n;
    char            path[4096];
} cand_t;

static void
scan_dir(char const *dir, cand_t *full, bool *has_full, cand_t **incs, size_t *inc_cnt,
         size_t *inc_cap, size_t *seen, size_t *bad) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
        adb_snap_name_t n;
        (*seen)++;
        if (adb_snap_name_parse(e->d_name, &n)) {
            (*bad)++;
            continue;
        }
        cand_t c = {.n = n};
        if (snprintf(c.path, sizeof c.path, "%s/%s", dir, e->d_name) >= (int)sizeof c.path)
            continue;
        if (!n.is_incremental) {
            if (!*has_full || n.slot > full->n.slot) *full = c, *has_full = true;
        } else {
            if (*inc_cnt == *inc_cap) {
                size_t  ncap = *inc_cap ? *inc_cap * 2 : 16;
                cand_t *ni = adb_realloc(*incs, ncap * sizeof *ni);
                if (!ni) continue;
                *incs = ni;
                *inc_cap = ncap;
            }
            (*incs)[(*inc_cnt)++] = c;
        }
    }
    closedir(d);
}

int
adb_snap_find_in_dir(char const *dir, char **full_out, char **inc_out, adb_err_t *err) {
    *full_out = *inc_out = NULL;
    cand_t  full = {0};
    bool    has_full = false;
    cand_t *incs = NULL;
    size_t  inc_cnt = 0, inc_cap = 0, seen = 0, bad = 0;
    char    remote[4200];
    scan_dir(dir, &full, &has_full, &incs, &inc_cnt, &inc_cap, &seen, &bad);
    snprintf(remote, sizeof remote, "%s/remote", dir);
    scan_dir(remote, &full, &has_full, &incs, &inc_cnt, &inc_cap, &seen, &bad);
    if (!has_full) {
        adb_free(incs);
        return adb_err_set(err, ACCTDB_ERR_NOT_FOUND,
                           "no full snapshot archive in %s (or %s/remote): %zu files seen, %zu "
                           "not named snapshot-<slot>-<hash>.tar.zst|.tar.lz4, %zu incremental",
                           dir, dir, seen, bad, inc_cnt);
    }
    cand_t const *best = NULL;
    for (size_t i = 0; i < inc_cnt; i++)
        if (incs[i].n.base_slot == full.n.slot && (!best || incs[i].n.slot > best->n.slot))
            best = &incs[i];
    *full_out = adb_strdup(full.path);
    if (best) *inc_out = adb_strdup(best->path);
    adb_free(incs);
    if (!*full_out || (best && !*inc_out)) {
        adb_free(*full_out);
        adb_free(*inc_out);
        *full_out = *inc_out = NULL;
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    }
    return 0;
}
