/* tests/db/crash_wl.c - the workload and oracle of crash_wl.h. */
#include "crash_wl.h"

#include "../test.h"
#include "snapshot/naming.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define F3 "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define I3 "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"

#define DATA_MAX (16u << 10)

/* ---- values ------------------------------------------------------------------------------ */

static acctdb_pubkey_t
key_of(uint32_t i) {
    acctdb_pubkey_t k;
    uint8_t         in[24] = "acctdb-crash-wl-key";
    memcpy(in + 20, &i, 4);
    acctdb_blake3(in, sizeof in, k.b, 32);
    return k;
}

static uint64_t
mix(uint64_t a, uint64_t b) {
    acctdb_rng_t r = acctdb_rng_at(a, b, 0xC2A5);
    return acctdb_rng_next(&r);
}

/* Key i's value as stored at slot (lamports 0: closed).  Some values span
 * several 4 KiB sectors, so torn writes cut through records. */
static void
value_of(uint64_t slot, uint32_t i, acctdb_account_t *a, uint8_t *d) {
    uint64_t h = mix(slot, i);
    memset(a, 0, sizeof *a);
    a->pubkey = key_of(i);
    a->rent_epoch = UINT64_MAX;
    if (h % 16 == 0) return; /* closed */
    static acctdb_pubkey_t own;
    if (!own.b[0]) own = key_of(0xFFFFu), own.b[0] |= 1;
    a->owner = own;
    a->lamports = slot * 1000 + i + 1;
    size_t len =
        (h >> 8) % 16 == 0 ? 4000 + (size_t)((h >> 12) % 12000) : (size_t)((h >> 12) % 400);
    if (len) {
        uint64_t tag[2] = {slot, i};
        acctdb_blake3(tag, sizeof tag, d, len);
    }
    a->data_len = len;
    a->data = len ? d : NULL;
}

static acctdb_bank_meta_t
meta_of(uint64_t slot) {
    acctdb_bank_meta_t m;
    memset(&m, 0, sizeof m);
    acctdb_blake3(&slot, sizeof slot, m.blockhash.b, 32);
    m.signature_count = slot * 3 + 1;
    m.transaction_count = slot * 2;
    m.unix_timestamp = 1700000000 + (int64_t)slot;
    return m;
}

/* ---- setup ------------------------------------------------------------------------------- */

void
cwl_config(acctdb_db_config_t *cfg, bool mmap_reads) {
    acctdb_db_config_default(cfg);
    cfg->background = false;
    cfg->index_bins = 64;
    cfg->threads = 1;
    cfg->shrink_per_file = true; /* more shrinking: every sparse file goes */
    cfg->mmap_reads = mmap_reads;
    cfg->snapshot_keep_full = 2;
    cfg->snapshot_keep_incremental = 2;
}

void
cwl_base_create(char const *dir, acctdb_db_config_t const *cfg, cwl_root_t *base) {
    acctdb_db_source_t src = {.full_path = adb_test_data(F3),
                              .incremental_path = adb_test_data(I3)};
    acctdb_db_t       *db = NULL;
    char               msg[1024];
    int                rc = acctdb_db_create(&db, dir, &src, cfg, msg, sizeof msg);
    if (rc) print_message("create %s: %s (%s)\n", dir, msg, acctdb_strerror(rc));
    assert_int_equal(rc, 0);
    acctdb_bank_info_t bi;
    base->slot = acctdb_db_root_slot(db, NULL);
    assert_int_equal(acctdb_db_bank_info(db, base->slot, &bi), 0);
    memcpy(base->ck, bi.lt_checksum, 32);
    base->cap = bi.capitalization;
    acctdb_db_close(db);
}

void
cwl_copy_tree(char const *src, char const *dst) {
    assert_int_equal(mkdir(dst, 0755), 0);
    DIR *d = opendir(src);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char s[4096], t[4096];
        snprintf(s, sizeof s, "%s/%s", src, de->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, de->d_name);
        struct stat st;
        assert_int_equal(lstat(s, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            cwl_copy_tree(s, t);
            continue;
        }
        int in = open(s, O_RDONLY | O_CLOEXEC),
            out = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(in >= 0 && out >= 0);
        off_t left = st.st_size;
        while (left > 0) {
            ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
            assert_true(n > 0);
            left -= n;
        }
        close(in);
        close(out);
    }
    closedir(d);
}

bool
cwl_rc_is_clean(int rc) {
    return rc == 0 || (rc <= ACCTDB_ERR_INVALID && rc >= ACCTDB_ERR_UNSUPPORTED) ||
           (rc < 0 && rc >= -4095);
}

void
cwl_init(cwl_t *w, uint64_t seed, uint32_t banks, char const *arch_dir, cwl_root_t const *base) {
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->banks = banks < CWL_BANKS_MAX ? banks : CWL_BANKS_MAX;
    snprintf(w->arch, sizeof w->arch, "%s", arch_dir);
    w->base = *base;
    w->durable = base->slot;
    w->next = base->slot + 1;
}

bool
cwl_resume(cwl_t *w, uint64_t root) {
    if (root == w->base.slot) {
        w->chain_len = w->rooted = 0;
        return true;
    }
    for (size_t i = 0; i < w->rooted; i++)
        if (w->chain[i] == root) {
            w->chain_len = w->rooted = i + 1;
            return true;
        }
    return false;
}

/* ---- the run ----------------------------------------------------------------------------- */

static void
hook(void *ctx, acctdb_slot_changes_t const *c) {
    cwl_t *w = ctx;
    if (w->hook_cnt == CWL_BANKS_MAX) return;
    cwl_root_t *r = &w->hook[w->hook_cnt++];
    r->slot = c->slot;
    memcpy(r->ck, c->info->lt_checksum, 32);
    r->cap = c->info->capitalization;
}

/* Checks one call's result and notes the durable root the API reports
 * after it.  Returns rc (service steps: 0 for any amount of work). */
static int
call(cwl_t *w, acctdb_db_t *db, char const *what, int rc) {
    w->calls++;
    uint64_t d = 0;
    acctdb_db_root_slot(db, &d);
    if (d > w->durable) w->durable = d;
    if (!rc) return 0;
    if (!cwl_rc_is_clean(rc)) {
        if (!w->unclean++)
            snprintf(w->unclean_msg, sizeof w->unclean_msg, "%s returned %d: %s", what, rc,
                     acctdb_db_errmsg(db));
        return rc;
    }
    if (!w->errors++) {
        w->first_rc = rc;
        snprintf(w->first_call, sizeof w->first_call, "%s", what);
        snprintf(w->first_msg, sizeof w->first_msg, "%s", acctdb_db_errmsg(db));
    }
    return rc;
}

static int
step(cwl_t *w, acctdb_db_t *db, acctdb_service_t s, char const *what) {
    int rc = acctdb_db_service_step(db, s);
    if (rc > 0) {
        w->flushes += s == ACCTDB_SERVICE_FLUSH;
        w->shrinks += s == ACCTDB_SERVICE_SHRINK;
        w->cleans += s == ACCTDB_SERVICE_CLEAN;
    }
    return call(w, db, what, rc > 0 ? 0 : rc);
}

void
cwl_run(cwl_t *w, acctdb_db_t *db) {
    static uint8_t   data[CWL_KEYS][DATA_MAX];
    acctdb_account_t accts[CWL_KEYS];
    acctdb_rng_t     r = acctdb_rng_at(w->seed, w->leg++, 0xC3A1);
    call(w, db, "set_root_hook", acctdb_db_set_root_hook(db, hook, w));
    /* Incrementals only on a full this test wrote (the base's origin full
     * is not in the archive directory). */
    acctdb_db_stats_t st;
    uint64_t          last_full = 0;
    if (!acctdb_db_stats(db, &st) && st.last_full_snapshot_slot > w->base.slot)
        last_full = st.last_full_snapshot_slot;
    for (uint32_t b = 0; b < w->banks && w->chain_len < CWL_BANKS_MAX; b++) {
        if (w->stop && w->stop(w->stop_ctx)) break;
        uint64_t s = w->next++;
        /* A fork: a sibling of the tip (on the tip's parent, at or above
         * the root), dead at the next root. */
        bool     fork = w->chain_len > w->rooted && acctdb_rng_below(&r, 5) == 0;
        size_t   pi = fork ? w->chain_len - 1 : w->chain_len; /* parent = chain[pi - 1] */
        uint64_t parent = pi ? w->chain[pi - 1] : w->base.slot;
        uint64_t mask = 0;
        size_t   n = 0;
        for (uint64_t j = 1 + acctdb_rng_below(&r, 10); j; j--)
            mask |= 1ull << acctdb_rng_below(&r, CWL_KEYS);
        for (uint32_t i = 0; i < CWL_KEYS; i++)
            if (mask >> i & 1) value_of(s, i, &accts[n], data[n]), n++;
        int rc =
            call(w, db, "bank_begin", acctdb_db_bank_begin(db, s, parent, 1700000000 + (int64_t)s));
        if (!rc) rc = call(w, db, "store", acctdb_db_store(db, s, parent, accts, n));
        acctdb_bank_meta_t m = meta_of(s);
        if (!rc) rc = call(w, db, "freeze", acctdb_db_freeze(db, s, &m, NULL));
        if (!rc && !fork) {
            w->chain[w->chain_len] = s;
            w->mask[w->chain_len++] = mask;
        }
        if (w->chain_len > w->rooted + CWL_LAG) {
            size_t ri = w->chain_len - 1 - CWL_LAG;
            if (!call(w, db, "root", acctdb_db_root(db, w->chain[ri]))) w->rooted = ri + 1;
        }
        if (acctdb_rng_below(&r, 2) == 0) step(w, db, ACCTDB_SERVICE_FLUSH, "flush");
        if (acctdb_rng_below(&r, 3) == 0) step(w, db, ACCTDB_SERVICE_CLEAN, "clean");
        if (acctdb_rng_below(&r, 3) == 0) step(w, db, ACCTDB_SERVICE_SHRINK, "shrink");
        if (acctdb_rng_below(&r, 3) == 0) step(w, db, ACCTDB_SERVICE_PURGE, "purge");
        uint64_t root = w->rooted ? w->chain[w->rooted - 1] : w->base.slot;
        uint32_t sn = (uint32_t)acctdb_rng_below(&r, 10);
        if (w->rooted && sn == 0) {
            if (!call(w, db, "snapshot full", acctdb_db_snapshot(db, w->arch, false, NULL))) {
                last_full = root;
                w->fulls++;
            }
        } else if (last_full && root > last_full && sn == 1) {
            if (!call(w, db, "snapshot incremental", acctdb_db_snapshot(db, w->arch, true, NULL)))
                w->incrementals++;
        }
    }
}

/* ---- the oracle ---------------------------------------------------------------------------- */

#define PROBLEM(...)                                                                               \
    do {                                                                                           \
        if (problems++ < 4) {                                                                      \
            print_message("%s: ", tag);                                                            \
            print_message(__VA_ARGS__);                                                            \
            print_message("\n");                                                                   \
        }                                                                                          \
    } while (0)

static cwl_root_t const *
seen_root(cwl_t const *w, uint64_t slot) {
    if (slot == w->base.slot) return &w->base;
    for (size_t i = 0; i < w->hook_cnt; i++)
        if (w->hook[i].slot == slot) return &w->hook[i];
    return NULL;
}

/* Archives that verified, by the BLAKE3 of their bytes (and their full's):
 * the same state gives the same archive, so most are seen again. */
static uint8_t g_ok[512][32];
static size_t  g_ok_cnt;

static void
file_hash(acctdb_blake3_t *h, char const *path) {
    size_t   sz;
    uint8_t *p = adb_test_read_file(path, &sz);
    acctdb_blake3_update(h, &sz, sizeof sz);
    acctdb_blake3_update(h, p, sz);
    free(p);
}

/* 0 if full (+ inc) verifies; else a problem was printed by the caller. */
static int
archive_verify(char const *full, char const *inc, char *msg, size_t msg_max) {
    uint8_t         key[32];
    acctdb_blake3_t h;
    acctdb_blake3_init(&h);
    file_hash(&h, full);
    if (inc) file_hash(&h, inc);
    acctdb_blake3_finalize(&h, key, 32);
    for (size_t i = 0; i < g_ok_cnt; i++)
        if (!memcmp(g_ok[i], key, 32)) return 0;
    acctdb_snapshot_t     *snap = NULL;
    acctdb_snapshot_opts_t so = {0};
    so.threads = 1;
    int                    rc = acctdb_snapshot_open(&snap, full, inc, &so);
    acctdb_snapshot_info_t info;
    if (!rc && (acctdb_snapshot_info(snap, &info) || !info.verified)) rc = ACCTDB_ERR_MISMATCH;
    if (rc) snprintf(msg, msg_max, "%s", snap ? acctdb_snapshot_errmsg(snap) : "no memory");
    acctdb_snapshot_close(snap);
    if (!rc && g_ok_cnt < 512) memcpy(g_ok[g_ok_cnt++], key, 32);
    return rc;
}

static int
check_archives(cwl_t const *w, char const *tag) {
    int  problems = 0;
    DIR *d = opendir(w->arch);
    if (!d) return 0; /* never made (or its mkdir lost) */
    struct dirent *de;
    while ((de = readdir(d))) {
        adb_snap_name_t nm;
        if (adb_snap_name_parse(de->d_name, &nm)) continue;
        char path[4400], base[4400] = "", msg[512] = "";
        snprintf(path, sizeof path, "%s/%s", w->arch, de->d_name);
        cwl_root_t const *r = seen_root(w, nm.slot);
        if (!r || nm.slot == w->base.slot) {
            PROBLEM("archive %s: slot %llu was never rooted by this run", de->d_name,
                    (unsigned long long)nm.slot);
            continue;
        }
        if (memcmp(nm.hash.b, r->ck, 32))
            PROBLEM("archive %s: its name's checksum is not the root hook's for slot %llu",
                    de->d_name, (unsigned long long)nm.slot);
        if (nm.is_incremental) {
            /* Verified with its full, when the full is there (retention
             * drops incrementals whose full it dropped). */
            DIR           *d2 = opendir(w->arch);
            struct dirent *e2;
            while (d2 && (e2 = readdir(d2))) {
                adb_snap_name_t fn;
                if (!adb_snap_name_parse(e2->d_name, &fn) && !fn.is_incremental &&
                    fn.slot == nm.base_slot)
                    snprintf(base, sizeof base, "%s/%s", w->arch, e2->d_name);
            }
            if (d2) closedir(d2);
            if (!base[0]) continue;
        }
        int rc = nm.is_incremental ? archive_verify(base, path, msg, sizeof msg)
                                   : archive_verify(path, NULL, msg, sizeof msg);
        if (rc)
            PROBLEM("archive %s does not verify: %s (%s)", de->d_name, msg, acctdb_strerror(rc));
    }
    closedir(d);
    return problems;
}

int
cwl_check(cwl_t const *w, char const *dir, acctdb_db_config_t const *cfg, char const *tag) {
    int          problems = 0;
    acctdb_db_t *db = NULL;
    char         msg[1024] = "";
    int          rc = acctdb_db_open(&db, dir, cfg, msg, sizeof msg);
    if (rc) {
        PROBLEM("reopen failed: %s (%s)", msg, acctdb_strerror(rc));
        return problems + check_archives(w, tag);
    }
    uint64_t durable = 0, root = acctdb_db_root_slot(db, &durable);
    if (durable != root)
        PROBLEM("reopened at root %llu but durable %llu", (unsigned long long)root,
                (unsigned long long)durable);
    if (root < w->durable)
        PROBLEM("reopened at root %llu, older than the durable root %llu the API reported",
                (unsigned long long)root, (unsigned long long)w->durable);
    cwl_root_t const  *seen = seen_root(w, root);
    acctdb_bank_info_t bi;
    if (!seen) {
        PROBLEM("reopened at root %llu, which was never rooted", (unsigned long long)root);
    } else if ((rc = acctdb_db_bank_info(db, root, &bi))) {
        PROBLEM("bank_info(%llu): %s", (unsigned long long)root, acctdb_strerror(rc));
    } else {
        if (memcmp(bi.lt_checksum, seen->ck, 32))
            PROBLEM("root %llu: lattice checksum differs from the root hook's",
                    (unsigned long long)root);
        if (bi.capitalization != seen->cap)
            PROBLEM("root %llu: capitalization %llu, the root hook saw %llu",
                    (unsigned long long)root, (unsigned long long)bi.capitalization,
                    (unsigned long long)seen->cap);
    }
    if ((rc = acctdb_db_verify(db, msg, sizeof msg)))
        PROBLEM("acctdb_db_verify: %s (%s)", msg, acctdb_strerror(rc));
    if ((rc = acctdb_db_check(db, msg, sizeof msg)))
        PROBLEM("acctdb_db_check: %s (%s)", msg, acctdb_strerror(rc));

    /* Every key at the root: the newest value the chain up to it stored. */
    size_t ri = SIZE_MAX; /* root = chain[ri], or the base */
    for (size_t i = 0; i < w->chain_len; i++)
        if (w->chain[i] == root) ri = i;
    if (root != w->base.slot && ri == SIZE_MAX) {
        PROBLEM("root %llu is not on the main chain", (unsigned long long)root);
    } else {
        static uint8_t want_d[DATA_MAX], got_d[DATA_MAX];
        for (uint32_t k = 0; k < CWL_KEYS; k++) {
            uint64_t from = 0;
            for (size_t i = ri == SIZE_MAX ? 0 : ri + 1; i-- > 0;)
                if (w->mask[i] >> k & 1) {
                    from = w->chain[i];
                    break;
                }
            acctdb_account_t want, got;
            if (from) value_of(from, k, &want, want_d);
            acctdb_pubkey_t key = key_of(k);
            uint64_t        at = 0;
            rc = acctdb_db_load(db, root, &key, &got, got_d, sizeof got_d, &at);
            bool absent = !from || !want.lamports;
            if (absent ? rc != ACCTDB_ERR_NOT_FOUND
                       : rc || got.lamports != want.lamports || got.data_len != want.data_len ||
                             memcmp(got.owner.b, want.owner.b, 32) ||
                             (want.data_len && memcmp(got.data, want.data, want.data_len)))
                PROBLEM("key %u at root %llu: want %s (from slot %llu), got rc %d lamports %llu "
                        "(version of slot %llu)",
                        k, (unsigned long long)root, absent ? "absent" : "a value",
                        (unsigned long long)from, rc, rc ? 0ull : (unsigned long long)got.lamports,
                        (unsigned long long)at);
        }
    }
    acctdb_db_close(db);
    return problems + check_archives(w, tag);
}
