/* src/db/db_xstate.c - acctdb's own per-account state (db_xstate.h). */
#include "db/db_private.h"

#include "hash/blake3.h"
#include "state/avocado.h"
#include "state/trie.h"
#include "store/acctfile.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/point.h"
#include "util/rng.h"

#include <dirent.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#define IMG_MAGIC     "ACCTDBX1"
#define IMG_VERSION   2u
#define IMG_HDR_SZ    ADB_XS_IMG_HDR_SZ
#define LOG_MAGIC     "XSL2"
#define LOG_HDR_SZ    ADB_XS_LOG_HDR_SZ
#define XS_COMPACT_SZ (64ull << 20)
#define XS_MAP_MAX    (1u << 31) /* entries (cap) */

/* ---- the map ------------------------------------------------------------------- */

/* All 32 bytes: keys that share a prefix or a suffix (generated, vanity,
 * derived) must not share a home. */
static inline uint32_t
key_home(uint8_t const *k, uint64_t seed, uint32_t cap) {
    uint64_t h = adb_rng_mix64(adb_load_u64(k) ^ adb_rng_mix64(adb_load_u64(k + 8) ^ seed));
    h = adb_rng_mix64(h ^ adb_load_u64(k + 16) ^ adb_rng_mix64(adb_load_u64(k + 24)));
    return (uint32_t)h & (cap - 1);
}

static uint32_t
find(adb_xmap_t const *m, uint8_t const *key) {
    if (!m->cap) return UINT32_MAX;
    for (uint32_t h = key_home(key, m->seed, m->cap);; h = (h + 1) & (m->cap - 1)) {
        adb_xent_t const *e = &m->e[h];
        if (!e->used) return UINT32_MAX;
        if (!memcmp(e->key, key, 32)) return h;
    }
}

adb_xrec_t const *
adb_xmap_get(adb_xmap_t const *m, uint8_t const key[32]) {
    uint32_t h = find(m, key);
    return h == UINT32_MAX ? NULL : &m->e[h].r;
}

static _Atomic uint64_t g_map_seeds;

static int
grow_to(adb_xmap_t *m, uint32_t ncap) {
    if (!m->cap && !m->seed)
        m->seed = adb_rng_mix64((atomic_fetch_add(&g_map_seeds, 1) + 0x5eed) ^ (uintptr_t)m) | 1;
    if (ncap > XS_MAP_MAX || ncap <= m->cap) return ACCTDB_ERR_NOMEM;
    adb_xent_t *ne = adb_calloc(ncap, sizeof *ne);
    if (!ne) return ACCTDB_ERR_NOMEM;
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->e[i].used) continue;
        uint32_t h = key_home(m->e[i].key, m->seed, ncap);
        while (ne[h].used)
            h = (h + 1) & (ncap - 1);
        ne[h] = m->e[i];
    }
    adb_free(m->e);
    m->e = ne;
    m->cap = ncap;
    return 0;
}

static int
grow(adb_xmap_t *m) {
    return grow_to(m, m->cap ? m->cap * 2 : 64);
}

int
adb_xmap_put(adb_xmap_t *m, uint8_t const key[32], adb_xrec_t const *r) {
    uint32_t h = find(m, key);
    if (h != UINT32_MAX) {
        m->e[h].r = *r;
        return 0;
    }
    if ((uint64_t)(m->cnt + 1) * 4 > (uint64_t)m->cap * 3) ADB_TRY(grow(m));
    for (h = key_home(key, m->seed, m->cap); m->e[h].used; h = (h + 1) & (m->cap - 1))
        ;
    memcpy(m->e[h].key, key, 32);
    m->e[h].r = *r;
    m->e[h].used = 1;
    m->cnt++;
    return 0;
}

void
adb_xmap_del(adb_xmap_t *m, uint8_t const key[32]) {
    uint32_t h = find(m, key);
    if (h == UINT32_MAX) return;
    /* Backward shift: pull later entries of the run into the hole when
     * their home is not between the hole and them. */
    uint32_t mask = m->cap - 1;
    for (uint32_t j = (h + 1) & mask;; j = (j + 1) & mask) {
        if (!m->e[j].used) break;
        uint32_t home = key_home(m->e[j].key, m->seed, m->cap);
        bool     stays = (h <= j) ? (h < home && home <= j) : (h < home || home <= j);
        if (stays) continue;
        m->e[h] = m->e[j];
        h = j;
    }
    memset(&m->e[h], 0, sizeof m->e[h]);
    m->cnt--;
}

void
adb_xmap_fini(adb_xmap_t *m) {
    adb_free(m->e);
    memset(m, 0, sizeof *m);
}

/* ---- entries on disk -------------------------------------------------------------- */

void
adb_xs_ent_encode(uint8_t *p, uint8_t const key[32], adb_xrec_t const *r) {
    memcpy(p, key, 32);
    adb_store_u64(p + 32, r->counter);
    adb_store_u64(p + 40, r->created);
    adb_store_u32(p + 48, r->orig_len);
    p[52] = r->flags;
    p[53] = r->executable;
    memcpy(p + 54, r->hash, 32);
    memcpy(p + 86, r->owner, 32);
    adb_store_u64(p + 118, r->lamports);
}

/* Decodes one entry; false if its fields are impossible. */
static bool
ent_decode(uint8_t const *p, uint8_t key[32], adb_xrec_t *r) {
    memset(r, 0, sizeof *r);
    memcpy(key, p, 32);
    r->counter = adb_load_u64(p + 32);
    r->created = adb_load_u64(p + 40);
    r->orig_len = adb_load_u32(p + 48);
    r->flags = p[52];
    r->executable = p[53];
    memcpy(r->hash, p + 54, 32);
    memcpy(r->owner, p + 86, 32);
    r->lamports = adb_load_u64(p + 118);
    if (r->flags & ~(ADB_XREC_COMPRESSED | ADB_XREC_BURNED)) return false;
    if ((r->flags & ADB_XREC_BURNED) && !(r->flags & ADB_XREC_COMPRESSED)) return false;
    if (r->executable > 1) return false;
    if (r->orig_len > ADB_ACCT_MAX_DATA_SZ) return false;
    if (!(r->flags & ADB_XREC_COMPRESSED)) { /* only the counter and creation slot */
        static uint8_t const z[32];
        if (r->orig_len || r->executable || r->lamports || memcmp(r->hash, z, 32) ||
            memcmp(r->owner, z, 32))
            return false;
    }
    if ((r->flags & ADB_XREC_BURNED) && r->lamports) return false;
    return true;
}

void
adb_xs_leaf_value(adb_xrec_t const *r, uint8_t out[32]) {
    adb_avocado_leaf_value(r->lamports, r->executable, r->owner, r->orig_len, r->hash, out);
}

/* Keeps trie t in step with key's record becoming r (was: it was
 * compressed before); a key added counts as an insertion at slot. */
static int
trie_apply(adb_trie_t **t, uint64_t *last, uint8_t const key[32], bool was, adb_xrec_t const *r,
           uint64_t slot) {
    if (r->flags & ADB_XREC_COMPRESSED) {
        if (!*t) ADB_TRY(adb_trie_open(t, 0));
        uint8_t v[32];
        adb_xs_leaf_value(r, v);
        ADB_TRY(adb_trie_insert(*t, key, v));
        if (!was) *last = slot;
    } else if (was && *t) {
        adb_trie_remove(*t, key, NULL);
    }
    return 0;
}

/* A record into the base (an empty one removes the key) and the trie,
 * at slot. */
static int
base_apply(adb_xs_t *xs, uint8_t const key[32], adb_xrec_t const *r, uint64_t slot) {
    adb_xrec_t const *old = adb_xmap_get(&xs->base, key);
    bool              was = old && (old->flags & ADB_XREC_COMPRESSED);
    ADB_TRY(trie_apply(&xs->trie, &xs->trie_last, key, was, r, slot));
    if (adb_xrec_is_empty(r)) {
        adb_xmap_del(&xs->base, key);
        return 0;
    }
    return adb_xmap_put(&xs->base, key, r);
}

static void
file_name(char out[64], uint64_t gen, bool img) {
    snprintf(out, 64, "xstate-%llu.%s", (unsigned long long)gen, img ? "img" : "log");
}

/* Is name an xstate file (*gen_out, *img_out)? */
static bool
parse_name(char const *name, uint64_t *gen_out, bool *img_out) {
    if (strncmp(name, "xstate-", 7)) return false;
    char const *p = name + 7;
    uint64_t    g = 0;
    size_t      nd = 0;
    for (; *p >= '0' && *p <= '9' && nd < 20; p++, nd++) {
        if (g > (UINT64_MAX - 9) / 10) return false;
        g = g * 10 + (uint64_t)(*p - '0');
    }
    if (!nd) return false;
    if (!strcmp(p, ".img"))
        *img_out = true;
    else if (!strcmp(p, ".log"))
        *img_out = false;
    else
        return false;
    *gen_out = g;
    return true;
}

/* ---- parsing the files ----------------------------------------------------------- */

static int __attribute__((format(printf, 4, 5)))
why_set(char *why, size_t why_max, int code, char const *fmt, ...) {
    if (why_max) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_max, fmt, ap);
        va_end(ap);
    }
    return code;
}

int
adb_xs_image_decode(uint8_t const *buf, size_t sz, uint64_t gen, adb_xs_img_hdr_t *hdr,
                    adb_xs_ent_fn *ent, void *ctx, char *why, size_t why_max) {
    memset(hdr, 0, sizeof *hdr);
    if (sz < IMG_HDR_SZ + 32 || memcmp(buf, IMG_MAGIC, 8) || adb_load_u32(buf + 8) != IMG_VERSION ||
        adb_load_u32(buf + 12) != 0 || adb_load_u64(buf + 16) != gen)
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "bad header");
    uint8_t ck[32];
    adb_blake3_hash(buf, sz - 32, ck, 32);
    if (memcmp(ck, buf + sz - 32, 32))
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "fails its checksum");
    uint64_t cnt = adb_load_u64(buf + 24);
    if (cnt != (sz - IMG_HDR_SZ - 32) / ADB_XS_ENT_SZ || (sz - IMG_HDR_SZ - 32) % ADB_XS_ENT_SZ)
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "%llu entries do not fill %zu bytes",
                       (unsigned long long)cnt, sz);
    hdr->gen = gen;
    hdr->cnt = cnt;
    hdr->loaded = adb_load_u64(buf + 32);
    hdr->slot = adb_load_u64(buf + 40);
    hdr->trie_last = adb_load_u64(buf + 48);
    for (uint64_t i = 0; i < cnt; i++) {
        uint8_t    key[32];
        adb_xrec_t r;
        if (!ent_decode(buf + IMG_HDR_SZ + i * ADB_XS_ENT_SZ, key, &r) || adb_xrec_is_empty(&r))
            return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "entry %llu is malformed",
                           (unsigned long long)i);
        int rc = ent ? ent(ctx, key, &r) : 0;
        if (rc) return rc;
    }
    return 0;
}

int
adb_xs_log_decode(uint8_t const *buf, size_t len, adb_xs_rec_fn *rec, adb_xs_ent_fn *ent, void *ctx,
                  char *why, size_t why_max) {
    for (size_t at = 0; at < len;) {
        if (len - at < LOG_HDR_SZ || memcmp(buf + at, LOG_MAGIC, 4))
            return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "offset %llu: bad record header",
                           (unsigned long long)at);
        adb_xs_log_rec_t h = {.off = at,
                              .cnt = adb_load_u32(buf + at + 4),
                              .slot = adb_load_u64(buf + at + 8),
                              .loaded = adb_load_u64(buf + at + 16)};
        at += LOG_HDR_SZ;
        if (h.cnt > (len - at) / ADB_XS_ENT_SZ)
            return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "offset %llu: %llu entries overrun",
                           (unsigned long long)at, (unsigned long long)h.cnt);
        int rc = rec ? rec(ctx, &h) : 0;
        if (rc) return rc;
        for (uint64_t i = 0; i < h.cnt; i++, at += ADB_XS_ENT_SZ) {
            uint8_t    key[32];
            adb_xrec_t r;
            if (!ent_decode(buf + at, key, &r))
                return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "offset %llu: malformed entry",
                               (unsigned long long)at);
            if (ent && (rc = ent(ctx, key, &r))) return rc;
        }
    }
    return 0;
}

/* ---- open: image + log ------------------------------------------------------------ */

/* Applies the entries of an image or a log to the base. */
typedef struct load_ctx {
    adb_xs_t *xs;
    uint64_t  slot; /* the record's (0: an image) */
    int       rc;   /* a failure of base_apply */
} load_ctx_t;

static int
load_ent(void *vc, uint8_t const key[32], adb_xrec_t *r) {
    load_ctx_t *c = vc;
    if (r->flags & ADB_XREC_COMPRESSED) atomic_store(&c->xs->any_compressed, true);
    return c->rc = base_apply(c->xs, key, r, c->slot);
}

static int
load_rec(void *vc, adb_xs_log_rec_t const *h) {
    load_ctx_t *c = vc;
    c->slot = h->slot;
    c->xs->base_slot = h->slot;
    c->xs->base_loaded = h->loaded;
    return 0;
}

static int
load_image(adb_db_t *db, uint64_t gen, adb_err_t *err) {
    adb_xs_t *xs = db->xs;
    char      name[64];
    file_name(name, gen, true);
    uint8_t *buf = NULL;
    size_t   sz = 0;
    int      rc = adb_io_read_file(db->io, db->dirfd, name, (size_t)16 << 30, &buf, &sz);
    if (rc)
        return adb_err_set(err, rc == -ENOENT ? ACCTDB_ERR_CORRUPT : rc,
                           "%s/%s: the commit names it but it cannot be read: %s", db->dir, name,
                           acctdb_strerror(rc));
    adb_xs_img_hdr_t h;
    load_ctx_t       c = {.xs = xs};
    char             why[256];
    rc = adb_xs_image_decode(buf, sz, gen, &h, load_ent, &c, why, sizeof why);
    adb_free(buf);
    if (rc && c.rc) return adb_err_set(err, rc, "%s/%s: out of memory", db->dir, name);
    if (rc) return adb_err_set(err, rc, "%s/%s: %s", db->dir, name, why);
    if (xs->base.cnt != h.cnt) /* a key twice: the writer writes each once */
        return adb_err_set(err, ACCTDB_ERR_CORRUPT, "%s/%s: %llu entries name %u keys", db->dir,
                           name, (unsigned long long)h.cnt, xs->base.cnt);
    xs->base_loaded = h.loaded;
    xs->base_slot = h.slot;
    xs->trie_last = h.trie_last;
    xs->img_sz = sz;
    return 0;
}

/* Replays log gen's first len bytes (their CRC-32C must be crc) and cuts
 * what follows. */
static int
replay_log(adb_db_t *db, uint64_t gen, uint64_t len, uint32_t crc, adb_err_t *err) {
    adb_xs_t *xs = db->xs;
    char      name[64];
    file_name(name, gen, false);
    int fd = adb_io_openat(db->io, db->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
        if (len == 0 && fd == -ENOENT) return 0;
        return adb_err_set(err, fd == -ENOENT ? ACCTDB_ERR_CORRUPT : fd,
                           "%s/%s: the commit names %llu bytes of it but it cannot be opened: %s",
                           db->dir, name, (unsigned long long)len, acctdb_strerror(fd));
    }
    uint8_t *buf = len ? adb_malloc((size_t)len) : NULL;
    int      rc = 0;
    if (len && !buf) {
        rc = adb_err_set(err, ACCTDB_ERR_NOMEM, "%s/%s: out of memory", db->dir, name);
        goto cleanup;
    }
    if (len && (rc = adb_io_pread_all(db->io, fd, buf, (size_t)len, 0))) {
        rc = adb_err_set(err, rc == -EIO ? ACCTDB_ERR_IO : ACCTDB_ERR_CORRUPT,
                         "%s/%s: the commit names %llu bytes: %s", db->dir, name,
                         (unsigned long long)len, acctdb_strerror(rc));
        goto cleanup;
    }
    if (adb_crc32c(0, buf, (size_t)len) != crc) {
        rc = adb_err_set(err, ACCTDB_ERR_CORRUPT,
                         "%s/%s: its first %llu bytes fail the CRC-32C the commit names", db->dir,
                         name, (unsigned long long)len);
        goto cleanup;
    }
    load_ctx_t c = {.xs = xs};
    char       why[256];
    if ((rc = adb_xs_log_decode(buf, (size_t)len, load_rec, load_ent, &c, why, sizeof why))) {
        if (c.rc)
            rc = adb_err_set(err, rc, "%s/%s: out of memory", db->dir, name);
        else
            rc = adb_err_set(err, rc, "%s/%s: %s", db->dir, name, why);
        goto cleanup;
    }
    /* A flush whose commit never came may have appended more: cut it. */
    struct stat st;
    if (!adb_io_fstat(db->io, fd, &st) && (uint64_t)st.st_size > len)
        adb_io_ftruncate(db->io, fd, len);
    xs->log_fd = fd;
    fd = -1;
cleanup:
    adb_free(buf);
    if (fd >= 0) adb_io_close(db->io, fd);
    return rc;
}

/* Removes xstate files of generations other than keep_a and keep_b. */
static void
sweep(adb_db_t *db, uint64_t keep_a, uint64_t keep_b) {
    int dfd = dup(db->dirfd);
    if (dfd < 0) return;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t g;
        bool     img;
        if (parse_name(de->d_name, &g, &img) && g != keep_a && g != keep_b)
            adb_io_unlinkat(db->io, db->dirfd, de->d_name, 0);
    }
    closedir(d);
}

int
adb_xs_open(adb_db_t *db, adb_xs_pos_t const *pos, adb_err_t *err) {
    adb_xs_t *xs = adb_calloc(1, sizeof *xs);
    if (!xs) return adb_err_set(err, ACCTDB_ERR_NOMEM, "out of memory");
    pthread_rwlock_init(&xs->lk, NULL);
    xs->log_fd = -1;
    xs->compact_min_sz = XS_COMPACT_SZ;
    db->xs = xs;
    int rc = 0;
    if (pos && pos->has) {
        xs->active = true;
        xs->gen = pos->gen;
        if (pos->gen) rc = load_image(db, pos->gen, err);
        if (!rc) rc = replay_log(db, pos->gen, pos->log_len, pos->log_crc, err);
        if (!rc) {
            xs->log_len = pos->log_len;
            xs->log_crc = pos->log_crc;
        }
    }
    if (rc) {
        adb_xs_close(db);
        return rc;
    }
    /* The other commit slot may name the previous generation. */
    uint64_t g = pos && pos->has ? pos->gen : 0;
    sweep(db, g, g ? g - 1 : UINT64_MAX);
    /* As if both slots named g - 1: its files go once two commits name
     * newer ones. */
    xs->named[0] = xs->named[1] = g ? g : 1;
    xs->removed_below = g ? g - 1 : 0;
    return 0;
}

void
adb_xs_close(adb_db_t *db) {
    adb_xs_t *xs = db->xs;
    if (!xs) return;
    if (xs->log_fd >= 0) adb_io_close(db->io, xs->log_fd);
    adb_xmap_fini(&xs->base);
    adb_trie_close(xs->trie);
    pthread_rwlock_destroy(&xs->lk);
    adb_free(xs);
    db->xs = NULL;
}

/* ---- reads and writes at banks ---------------------------------------------------- */

bool
adb_xs_get(adb_db_t *db, adb_bank_t const *b, uint8_t const key[32], adb_xrec_t *out) {
    adb_xs_t *xs = db->xs;
    memset(out, 0, sizeof *out);
    if (!xs || !xs->active) return false;
    adb_xrec_t const *r = NULL;
    pthread_rwlock_rdlock(&xs->lk);
    for (adb_bank_t const *x = b; x && !r; x = adb_bank_find(db->eng, x->parent))
        if (x->xd) r = adb_xmap_get(&x->xd->m, key);
    if (!r) r = adb_xmap_get(&xs->base, key);
    if (r) *out = *r;
    pthread_rwlock_unlock(&xs->lk);
    return r && !adb_xrec_is_empty(out);
}

bool
adb_xs_get_at(adb_db_t *db, uint64_t slot, uint8_t const key[32], adb_xrec_t *out) {
    pthread_rwlock_rdlock(&db->eng->blk);
    bool found = adb_xs_get(db, adb_bank_find(db->eng, slot), key, out);
    pthread_rwlock_unlock(&db->eng->blk);
    return found;
}

bool
adb_xs_get_bank(adb_db_t *db, adb_bank_t const *b, uint8_t const key[32], adb_xrec_t *out) {
    pthread_rwlock_rdlock(&db->eng->blk);
    bool found = adb_xs_get(db, b, key, out);
    pthread_rwlock_unlock(&db->eng->blk);
    return found;
}

/* ---- the trie --------------------------------------------------------------------- */

static void
trie_state(adb_xs_t *xs, adb_xs_trie_st_t *st) { /* xs->lk held for writing */
    memset(st, 0, sizeof *st);
    if (xs->trie) adb_trie_root(xs->trie, st->root);
    st->slot = xs->base_slot;
    st->last = xs->trie_last;
    st->keys = xs->trie ? adb_trie_cnt(xs->trie) : 0;
}

void
adb_xs_trie_state(adb_db_t *db, adb_xs_trie_st_t *st) {
    adb_xs_t *xs = db->xs;
    memset(st, 0, sizeof *st);
    if (!xs) return;
    /* The trie rehashes on demand: one owner at a time. */
    pthread_rwlock_wrlock(&xs->lk);
    trie_state(xs, st);
    pthread_rwlock_unlock(&xs->lk);
}

void
adb_xs_prove(adb_db_t *db, uint8_t const key[32], uint8_t *proof, size_t *len_out,
             bool *is_member_out, uint8_t value_out[32], adb_xs_trie_st_t *st) {
    adb_xs_t *xs = db->xs;
    memset(value_out, 0, 32);
    *is_member_out = false;
    *len_out = 0;
    if (!xs) {
        memset(st, 0, sizeof *st);
        proof[0] = ADB_TRIE_PROOF_ABSENT_NONE;
        *len_out = 1;
        return;
    }
    pthread_rwlock_wrlock(&xs->lk);
    trie_state(xs, st);
    if (!xs->trie) {
        proof[0] = ADB_TRIE_PROOF_ABSENT_NONE;
        *len_out = 1;
    } else {
        /* Cannot fail: the buffer holds the largest proof. */
        adb_trie_prove(xs->trie, key, proof, ADB_TRIE_PROOF_MAX, len_out, is_member_out);
        if (*is_member_out) adb_trie_get(xs->trie, key, value_out);
    }
    pthread_rwlock_unlock(&xs->lk);
}

bool
adb_xs_has_compressed(adb_db_t const *db) {
    return db->xs && atomic_load_explicit(&db->xs->any_compressed, memory_order_acquire);
}

int
adb_xs_compressed_view(uint8_t const key[32], adb_xrec_t const *r, acctdb_account_t *out,
                       uint8_t *buf, size_t buf_max) {
    if (r->flags & ADB_XREC_BURNED) {
        memset(out, 0, sizeof *out);
        memcpy(out->owner.b, r->owner, 32);
        out->executable = r->executable;
    }
    memcpy(out->pubkey.b, key, 32);
    out->data_len = 32;
    out->data = NULL;
    if (buf_max < 32) return ACCTDB_ERR_FULL;
    memcpy(buf, r->hash, 32);
    out->data = buf;
    return ACCTDB_ERR_COMPRESSED;
}

int
adb_xs_put(adb_db_t *db, adb_bank_t *b, uint8_t const key[32], adb_xrec_t const *r) {
    adb_xs_t *xs = db->xs;
    if (!xs) return ACCTDB_ERR_INVALID;
    pthread_rwlock_wrlock(&xs->lk);
    int      rc = 0;
    uint64_t was = adb_xs_delta_charge(b->xd);
    if (!b->xd && !(b->xd = adb_calloc(1, sizeof *b->xd))) rc = ACCTDB_ERR_NOMEM;
    if (!rc) rc = adb_xmap_put(&b->xd->m, key, r);
    /* The write cache budget pays for deltas as for accounts (the bank's
     * charge, adb_bank_charge, includes them when it is freed). */
    uint64_t now = adb_xs_delta_charge(b->xd);
    if (now != was) atomic_fetch_add(&db->eng->cache_bytes, now - was);
    if (!rc) xs->active = true;
    if (!rc && (r->flags & ADB_XREC_COMPRESSED))
        atomic_store_explicit(&xs->any_compressed, true, memory_order_release);
    pthread_rwlock_unlock(&xs->lk);
    return rc;
}

uint64_t
adb_xs_parent_loaded(adb_db_t *db, adb_bank_t const *parent) {
    if (parent) return parent->xloaded;
    adb_bank_t const *rb = adb_bank_find(db->eng, db->eng->root);
    if (rb) return rb->xloaded;
    return db->xs ? db->xs->base_loaded : 0;
}

void
adb_xs_delta_free(adb_bank_t *b) {
    if (!b->xd) return;
    adb_xmap_fini(&b->xd->m);
    adb_free(b->xd);
    b->xd = NULL;
}

/* ---- flush ------------------------------------------------------------------------ */

/* banks[] comes newest first; the log gets them oldest first. */
int
adb_xs_flush_log(adb_db_t *db, adb_bank_t *const *banks, size_t nb, adb_err_t *err) {
    adb_xs_t *xs = db->xs;
    if (!xs || !xs->active) return 0;
    size_t sz = 0;
    for (size_t i = 0; i < nb; i++)
        sz += LOG_HDR_SZ + (size_t)(banks[i]->xd ? banks[i]->xd->m.cnt : 0) * ADB_XS_ENT_SZ;
    uint8_t *buf = adb_malloc(sz);
    if (!buf) return adb_err_set(err, ACCTDB_ERR_NOMEM, "xstate: out of memory");
    size_t at = 0;
    pthread_rwlock_rdlock(&xs->lk);
    for (size_t i = nb; i-- > 0;) {
        adb_bank_t const *b = banks[i];
        adb_xmap_t const *m = b->xd ? &b->xd->m : NULL;
        memcpy(buf + at, LOG_MAGIC, 4);
        adb_store_u32(buf + at + 4, m ? m->cnt : 0);
        adb_store_u64(buf + at + 8, b->slot);
        adb_store_u64(buf + at + 16, b->xloaded);
        at += LOG_HDR_SZ;
        for (uint32_t j = 0; m && j < m->cap; j++) {
            if (!m->e[j].used) continue;
            adb_xs_ent_encode(buf + at, m->e[j].key, &m->e[j].r);
            at += ADB_XS_ENT_SZ;
        }
    }
    pthread_rwlock_unlock(&xs->lk);
    int  rc = 0;
    char name[64];
    file_name(name, xs->gen, false);
    if (xs->log_fd < 0) {
        xs->log_fd =
            adb_io_openat(db->io, db->dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (xs->log_fd < 0) {
            rc = xs->log_fd;
            xs->log_fd = -1;
            adb_free(buf);
            return adb_err_set(err, rc, "xstate: creating %s/%s: %s", db->dir, name,
                               acctdb_strerror(rc));
        }
        /* Its directory entry is durable before a commit names it. */
        if (xs->log_len == 0 && (rc = adb_db_sync(db, db->dirfd, ADB_DB_SYNC_FULL,
                                                  "fsync of the database directory"))) {
            adb_free(buf);
            return adb_err_set(err, rc, "xstate: %s", adb_eng_err()->msg);
        }
    }
    rc = adb_io_pwrite_all(db->io, xs->log_fd, buf, at, xs->log_len);
    if (!rc) rc = adb_db_sync(db, xs->log_fd, ADB_DB_SYNC_DATA, "fdatasync of the xstate log");
    if (rc) {
        adb_free(buf);
        return adb_err_set(err, rc, "xstate: appending %zu bytes to %s/%s: %s", at, db->dir, name,
                           acctdb_strerror(rc));
    }
    xs->log_crc = adb_crc32c(xs->log_crc, buf, at);
    xs->log_len += at;
    atomic_fetch_add(&xs->log_bytes, at);
    ADB_POINT("xstate.logged"); /* durable, named by no commit yet */
    adb_free(buf);
    return 0;
}

void
adb_xs_flush_merge(adb_db_t *db, adb_bank_t *const *banks, size_t nb) {
    adb_xs_t *xs = db->xs;
    if (!xs) return;
    pthread_rwlock_wrlock(&xs->lk);
    for (size_t i = nb; i-- > 0;) {
        adb_bank_t const *b = banks[i];
        adb_xmap_t const *m = b->xd ? &b->xd->m : NULL;
        for (uint32_t j = 0; m && j < m->cap; j++)
            if (m->e[j].used && base_apply(xs, m->e[j].key, &m->e[j].r, b->slot))
                /* Out of memory mid-merge: the log (durable) has the bank;
                 * the engine goes fatal, and a reopen replays it. */
                adb_eng_fatal(db->eng, "xstate: out of memory merging a flushed bank");
        xs->base_slot = b->slot;
        xs->base_loaded = b->xloaded;
    }
    if (xs->trie) { /* rehash now: proofs then find it clean */
        uint8_t root[32];
        adb_trie_root(xs->trie, root);
    }
    pthread_rwlock_unlock(&xs->lk);
}

/* Writes image gen from the base (durable, directory entry too). */
static int
write_image(adb_db_t *db, uint64_t gen, uint64_t *sz_out, adb_err_t *err) {
    adb_xs_t *xs = db->xs;
    pthread_rwlock_rdlock(&xs->lk);
    size_t   sz = IMG_HDR_SZ + (size_t)xs->base.cnt * ADB_XS_ENT_SZ + 32;
    uint8_t *buf = adb_malloc(sz);
    if (!buf) {
        pthread_rwlock_unlock(&xs->lk);
        return adb_err_set(err, ACCTDB_ERR_NOMEM, "xstate: out of memory for an image");
    }
    memset(buf, 0, IMG_HDR_SZ);
    memcpy(buf, IMG_MAGIC, 8);
    adb_store_u32(buf + 8, IMG_VERSION);
    adb_store_u64(buf + 16, gen);
    adb_store_u64(buf + 24, xs->base.cnt);
    adb_store_u64(buf + 32, xs->base_loaded);
    adb_store_u64(buf + 40, xs->base_slot);
    adb_store_u64(buf + 48, xs->trie_last);
    size_t at = IMG_HDR_SZ;
    for (uint32_t j = 0; j < xs->base.cap; j++) {
        if (!xs->base.e[j].used) continue;
        adb_xs_ent_encode(buf + at, xs->base.e[j].key, &xs->base.e[j].r);
        at += ADB_XS_ENT_SZ;
    }
    pthread_rwlock_unlock(&xs->lk);
    adb_blake3_hash(buf, at, buf + at, 32);
    char name[64];
    file_name(name, gen, true);
    int fd = adb_io_openat(db->io, db->dirfd, name,
                           O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    int rc = fd < 0 ? fd : 0;
    if (!rc) rc = adb_io_write_all(db->io, fd, buf, sz);
    if (!rc) rc = adb_db_sync(db, fd, ADB_DB_SYNC_DATA, "fdatasync of an xstate image");
    if (fd >= 0) {
        int crc = adb_io_close(db->io, fd);
        if (!rc) rc = crc;
    }
    if (!rc) rc = adb_db_sync(db, db->dirfd, ADB_DB_SYNC_FULL, "fsync of the database directory");
    adb_free(buf);
    if (rc) {
        adb_io_unlinkat(db->io, db->dirfd, name, 0);
        return adb_err_set(err, rc, "xstate: writing %s/%s: %s", db->dir, name,
                           acctdb_strerror(rc));
    }
    *sz_out = sz;
    return 0;
}

int
adb_xs_flush_compact(adb_db_t *db, adb_err_t *err) {
    adb_xs_t *xs = db->xs;
    if (!xs || !xs->active) return 0;
    /* Due once the log outgrows the image (and the floor); a floor of 0
     * (tests) makes every flush write one. */
    uint64_t due = xs->compact_min_sz ? ADB_MAX(xs->compact_min_sz, xs->img_sz) : 0;
    if (xs->log_len < due || (due == 0 && xs->log_len == 0)) return 0;
    /* A snapshot being written reads the files its pin names. */
    if (atomic_load(&db->eng->snap_active)) return 0;
    uint64_t sz = 0;
    ADB_TRY(write_image(db, xs->gen + 1, &sz, err));
    ADB_POINT("xstate.imaged"); /* durable, named by no commit yet */
    if (xs->log_fd >= 0) adb_io_close(db->io, xs->log_fd);
    xs->log_fd = -1;
    xs->gen++;
    xs->img_sz = sz;
    xs->log_len = 0;
    xs->log_crc = 0;
    atomic_fetch_add(&xs->images, 1);
    return 0;
}

/* ---- commits -------------------------------------------------------------------- */

adb_xs_pos_t
adb_xs_commit_pos(adb_db_t *db) {
    adb_xs_t *xs = db->xs;
    if (!xs || !xs->active) return (adb_xs_pos_t){0};
    return (adb_xs_pos_t){
        .has = true, .gen = xs->gen, .log_len = xs->log_len, .log_crc = xs->log_crc};
}

void
adb_xs_committed(adb_db_t *db, adb_xs_pos_t const *pos, uint64_t commit_gen) {
    adb_xs_t *xs = db->xs;
    if (!xs || !pos->has) return;
    xs->named[commit_gen & 1] = pos->gen + 1;
    uint64_t lo = ADB_MIN(xs->named[0], xs->named[1]);
    if (!lo) return;
    /* Generations below both slots' are named by neither. */
    for (uint64_t g = xs->removed_below; g + 1 < lo; g++) {
        char name[64];
        file_name(name, g, true);
        adb_io_unlinkat(db->io, db->dirfd, name, 0);
        file_name(name, g, false);
        adb_io_unlinkat(db->io, db->dirfd, name, 0);
    }
    if (lo - 1 > xs->removed_below) xs->removed_below = lo - 1;
}

/* ---- the sidecar of a snapshot ----------------------------------------------------
 *
 * <archive>.acctdb: "ACCTDBS1" | u32 version (2) | u32 0 | u64 slot |
 * lattice checksum [32] of the archive's root | u64 body size | zstd frame of
 * the body | BLAKE3-256 of everything before.  Body: u64 loaded_bytes |
 * u64 cnt | u64 trie_last | trie root [32] | cnt entries (ADB_XS_ENT_SZ,
 * ascending keys).  A compressed account that still has its lamports
 * carries a zero hash, owner, lamports and flag: the archive holds them
 * (its stored form: the hash as data), and the importer takes them from
 * there.  The importer rebuilds the trie from the entries so completed;
 * its root must be the one named. */

#define SIDE_MAGIC    "ACCTDBS1"
#define SIDE_VERSION  2u
#define SIDE_HDR_SZ   ADB_XS_SIDE_HDR_SZ
#define SIDE_BODY_HDR 56
#define SIDE_BODY_MAX (64ull << 30)

static int
ent_cmp(void const *a, void const *b) {
    return memcmp(a, b, 32);
}

int
adb_xs_sidecar_build(adb_db_t *db, uint64_t slot, uint8_t const ck[32], uint8_t **out,
                     size_t *sz_out) {
    *out = NULL;
    *sz_out = 0;
    adb_xs_t *xs = db->xs;
    if (!xs || !xs->active) return 0;
    adb_xs_trie_st_t st;
    adb_xs_trie_state(db, &st); /* the base cannot change: smu is held */
    pthread_rwlock_rdlock(&xs->lk);
    size_t   cnt = xs->base.cnt, bsz = SIDE_BODY_HDR + cnt * ADB_XS_ENT_SZ;
    uint8_t *body = adb_malloc(bsz);
    if (!body) {
        pthread_rwlock_unlock(&xs->lk);
        return ACCTDB_ERR_NOMEM;
    }
    adb_store_u64(body, xs->base_loaded);
    adb_store_u64(body + 8, cnt);
    adb_store_u64(body + 16, st.last);
    memcpy(body + 24, st.root, 32);
    size_t at = SIDE_BODY_HDR;
    for (uint32_t j = 0; j < xs->base.cap; j++) {
        adb_xent_t const *e = &xs->base.e[j];
        if (!e->used) continue;
        adb_xrec_t r = e->r;
        if ((r.flags & ADB_XREC_COMPRESSED) && !(r.flags & ADB_XREC_BURNED)) {
            /* The archive holds them: its stored form's data, lamports,
             * owner and flag (the importer takes them from there). */
            memset(r.hash, 0, 32);
            memset(r.owner, 0, 32);
            r.lamports = 0;
            r.executable = 0;
        }
        adb_xs_ent_encode(body + at, e->key, &r);
        at += ADB_XS_ENT_SZ;
    }
    pthread_rwlock_unlock(&xs->lk);
    qsort(body + SIDE_BODY_HDR, cnt, ADB_XS_ENT_SZ, ent_cmp);
    size_t   bound = ZSTD_compressBound(bsz);
    uint8_t *f = adb_malloc(SIDE_HDR_SZ + bound + 32);
    if (!f) {
        adb_free(body);
        return ACCTDB_ERR_NOMEM;
    }
    size_t z = ZSTD_compress(f + SIDE_HDR_SZ, bound, body, bsz, 3);
    adb_free(body);
    if (ZSTD_isError(z)) {
        adb_free(f);
        return ACCTDB_ERR_NOMEM;
    }
    memset(f, 0, SIDE_HDR_SZ);
    memcpy(f, SIDE_MAGIC, 8);
    adb_store_u32(f + 8, SIDE_VERSION);
    adb_store_u64(f + 16, slot);
    memcpy(f + 24, ck, 32);
    adb_store_u64(f + 56, bsz);
    adb_blake3_hash(f, SIDE_HDR_SZ + z, f + SIDE_HDR_SZ + z, 32);
    *out = f;
    *sz_out = SIDE_HDR_SZ + z + 32;
    return 0;
}

int
adb_xs_sidecar_decode(uint8_t const *p, size_t sz, uint64_t slot, uint8_t const ck[32],
                      uint64_t body_max, adb_xs_side_hdr_t *hdr, adb_xs_ent_fn *ent, void *ctx,
                      adb_trie_t **trie_out, char *why, size_t why_max) {
    memset(hdr, 0, sizeof *hdr);
    if (trie_out) *trie_out = NULL;
    if (sz < SIDE_HDR_SZ + 32 || memcmp(p, SIDE_MAGIC, 8))
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "not an acctdb sidecar");
    if (adb_load_u32(p + 12) != 0)
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "a reserved header field is not 0");
    if (adb_load_u32(p + 8) != SIDE_VERSION)
        return why_set(why, why_max, ACCTDB_ERR_UNSUPPORTED_VERSION,
                       "sidecar version %u (this acctdb reads %u)", adb_load_u32(p + 8),
                       SIDE_VERSION);
    uint8_t h[32];
    adb_blake3_hash(p, sz - 32, h, 32);
    if (memcmp(h, p + sz - 32, 32))
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "fails its checksum");
    hdr->slot = adb_load_u64(p + 16);
    memcpy(hdr->ck, p + 24, 32);
    if (hdr->slot != slot || memcmp(hdr->ck, ck, 32))
        return why_set(why, why_max, ACCTDB_ERR_MISMATCH,
                       "it belongs to another archive (slot %llu, another lattice checksum), not "
                       "to slot %llu",
                       (unsigned long long)hdr->slot, (unsigned long long)slot);
    uint64_t bsz = hdr->body_sz = adb_load_u64(p + 56);
    if (bsz < SIDE_BODY_HDR || bsz > body_max || (bsz - SIDE_BODY_HDR) % ADB_XS_ENT_SZ)
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "body of %llu bytes",
                       (unsigned long long)bsz);
    size_t             zsz = sz - SIDE_HDR_SZ - 32;
    unsigned long long fsz = ZSTD_getFrameContentSize(p + SIDE_HDR_SZ, zsz);
    if (fsz != bsz)
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT,
                       "the zstd frame does not say the body's size");
    /* One frame, filling the space exactly; and no more body than such a
     * frame can honestly hold (entries are mostly random keys and hashes,
     * a few to one at best), so a tiny crafted file cannot make the
     * importer allocate gigabytes before it finds out. */
    if (ZSTD_findFrameCompressedSize(p + SIDE_HDR_SZ, zsz) != zsz)
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT, "the body is not exactly one zstd frame");
    if (bsz / 64 > zsz + 4096)
        return why_set(why, why_max, ACCTDB_ERR_CORRUPT,
                       "a body of %llu bytes cannot come from a frame of %zu bytes",
                       (unsigned long long)bsz, zsz);
    uint8_t *body = adb_malloc((size_t)bsz);
    if (!body) return why_set(why, why_max, ACCTDB_ERR_NOMEM, "out of memory");
    adb_trie_t *t = NULL;
    int         rc = 0;
    size_t      got = ZSTD_decompress(body, (size_t)bsz, p + SIDE_HDR_SZ, sz - SIDE_HDR_SZ - 32);
    if (ZSTD_isError(got) || got != bsz) {
        rc = why_set(why, why_max, ACCTDB_ERR_CORRUPT, "the body does not decompress");
        goto cleanup;
    }
    uint64_t cnt = hdr->cnt = adb_load_u64(body + 8);
    hdr->loaded = adb_load_u64(body);
    hdr->trie_last = adb_load_u64(body + 16);
    memcpy(hdr->root, body + 24, 32);
    if (cnt != (bsz - SIDE_BODY_HDR) / ADB_XS_ENT_SZ) {
        rc = why_set(why, why_max, ACCTDB_ERR_CORRUPT, "%llu entries in %llu bytes",
                     (unsigned long long)cnt, (unsigned long long)bsz);
        goto cleanup;
    }
    uint64_t t_last = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        uint8_t const       *e = body + SIDE_BODY_HDR + i * ADB_XS_ENT_SZ;
        uint8_t              key[32];
        adb_xrec_t           r;
        static uint8_t const z[32];
        if (!ent_decode(e, key, &r) || adb_xrec_is_empty(&r) ||
            (i && memcmp(e - ADB_XS_ENT_SZ, e, 32) >= 0) ||
            /* a live compressed account's hash, lamports, owner and flag
             * are the archive's */
            ((r.flags & ADB_XREC_COMPRESSED) && !(r.flags & ADB_XREC_BURNED) &&
             (memcmp(r.hash, z, 32) || memcmp(r.owner, z, 32) || r.lamports || r.executable))) {
            rc = why_set(why, why_max, ACCTDB_ERR_CORRUPT,
                         "entry %llu is malformed or out of order", (unsigned long long)i);
            goto cleanup;
        }
        if (ent && (rc = ent(ctx, key, &r))) goto cleanup;
        if (trie_apply(&t, &t_last, key, false, &r, 0)) {
            rc = why_set(why, why_max, ACCTDB_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    uint8_t root[32] = {0};
    if (t) adb_trie_root(t, root);
    if (memcmp(root, hdr->root, 32)) {
        rc = why_set(why, why_max, ACCTDB_ERR_CORRUPT,
                     "its compressed accounts make another trie root than it names");
        goto cleanup;
    }
    if (trie_out) {
        *trie_out = t;
        t = NULL;
    }
cleanup:
    adb_trie_close(t);
    adb_free(body);
    return rc;
}

/* Checks each entry of an imported sidecar against the archive and
 * collects it. */
typedef struct side_ctx {
    adb_db_t   *db;
    uint64_t    slot;
    char const *name;
    adb_err_t  *err;
    adb_xmap_t  m;
    int         rc; /* a failure here (err set) */
} side_ctx_t;

static int
side_ent(void *vc, uint8_t const key[32], adb_xrec_t *r) {
    side_ctx_t *c = vc;
    if ((r->flags & ADB_XREC_COMPRESSED) && !(r->flags & ADB_XREC_BURNED)) {
        /* The hash is the account's data in the archive; its lamports,
         * owner and flag are the stored form's. */
        acctdb_account_t a;
        int              lr = adb_eng_load(c->db, c->slot, key, &a, r->hash, 32, NULL);
        char const      *bad = lr                 ? acctdb_strerror(lr)
                               : a.data_len != 32 ? "not 32 bytes of data"
                               : !a.lamports      ? "without lamports"
                                                  : NULL;
        if (!bad) {
            r->lamports = a.lamports;
            memcpy(r->owner, a.owner.b, 32);
            r->executable = a.executable;
        }
        if (bad) {
            char k58[ACCTDB_BASE58_32_SZ];
            return c->rc =
                       adb_err_set(c->err, ACCTDB_ERR_MISMATCH,
                                   "%s: %s is compressed by it, but the archive's account is %s",
                                   c->name, acctdb_base58_encode_32(key, k58), bad);
        }
    }
    if (r->flags & ADB_XREC_COMPRESSED) atomic_store(&c->db->xs->any_compressed, true);
    if (adb_xmap_put(&c->m, key, r))
        return c->rc = adb_err_set(c->err, ACCTDB_ERR_NOMEM, "out of memory");
    return 0;
}

int
adb_xs_sidecar_import(adb_db_t *db, uint8_t const *p, size_t sz, uint64_t slot,
                      uint8_t const ck[32], char const *name, adb_err_t *err) {
    adb_xs_t *xs = db->xs;
    ADB_FAIL_IF(!xs, err, ACCTDB_ERR_INVALID, "no state");
    side_ctx_t        c = {.db = db, .slot = slot, .name = name, .err = err};
    adb_xs_side_hdr_t h;
    adb_trie_t       *t = NULL;
    char              why[256];
    int rc = adb_xs_sidecar_decode(p, sz, slot, ck, SIDE_BODY_MAX, &h, side_ent, &c, &t, why,
                                   sizeof why);
    if (rc) {
        adb_xmap_fini(&c.m);
        return c.rc ? rc : adb_err_set(err, rc, "%s: %s", name, why);
    }
    pthread_rwlock_wrlock(&xs->lk);
    adb_xmap_fini(&xs->base);
    adb_trie_close(xs->trie);
    xs->base = c.m;
    xs->trie = t;
    xs->trie_last = h.trie_last;
    xs->base_loaded = h.loaded;
    xs->base_slot = slot;
    xs->active = true;
    pthread_rwlock_unlock(&xs->lk);
    /* Durable as an image the next commit names. */
    uint64_t isz = 0;
    if ((rc = write_image(db, xs->gen + 1, &isz, err))) return rc;
    if (xs->log_fd >= 0) adb_io_close(db->io, xs->log_fd);
    xs->log_fd = -1;
    xs->gen++;
    xs->img_sz = isz;
    xs->log_len = 0;
    xs->log_crc = 0;
    return 0;
}
