/* src/api/api_db.c - the public acctdb_db_* functions.
 *
 * The engine lives in src/db; this layer adds what needs the snapshot
 * codecs: creating a database from archives or a genesis file (the loader
 * writes the first root record), the bank state a database carries
 * between snapshots (DIR/manifest.bin, DIR/status_cache.bin: the origin's,
 * decoded on open), the sysvars a bank records when it begins, and
 * snapshot writing (db_snapshot.c). */
#include "api/api_private.h"
#include "bank/bank.h"

#include "snapshot/genesis.h"
#include "bank/bank_sysvar.h"
#include "util/base58.h"
#include "util/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_MAX_SZ (1ull << 30)

char const *
acctdb_db_errmsg(acctdb_db_t const *db) {
    (void)db;
    return adb_eng_err()->msg;
}

static void
msg_set(char *out, size_t max, char const *msg) {
    if (out && max) snprintf(out, max, "%s", msg);
}

/* ---- the handle -------------------------------------------------------------- */

/* Loads DIR/manifest.bin and DIR/status_cache.bin (the origin's bank
 * state, which snapshots extend). */
static int
load_state(acctdb_db_t *h, char const *dir, adb_err_t *err) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return adb_err_set(err, -errno, "%s: %s", dir, acctdb_strerror(-errno));
    uint8_t *buf = NULL;
    size_t   sz = 0;
    int      rc = adb_io_read_file(dfd, "manifest.bin", MANIFEST_MAX_SZ, &buf, &sz);
    if (rc == -ENOENT) {
        rc = 0; /* a database made before bank state was kept: no snapshots */
    } else if (!rc) {
        adb_err_t e = {0};
        rc = adb_manifest_decode(buf, sz, 0, &h->man, &e);
        if (rc) rc = adb_err_set(err, rc, "%s/manifest.bin: %s", dir, e.msg);
        h->has_man = !rc;
        if (!rc) {
            adb_free(h->man_raw);
            h->man_raw = buf;
            h->man_raw_sz = sz;
            buf = NULL;
        }
    } else {
        rc = adb_err_set(err, rc, "%s/manifest.bin: %s", dir, acctdb_strerror(rc));
    }
    adb_free(buf);
    if (!rc) {
        rc = adb_io_read_file(dfd, "status_cache.bin", MANIFEST_MAX_SZ, &h->sc_raw, &h->sc_raw_sz);
        if (rc == -ENOENT) rc = 0;
        if (rc) rc = adb_err_set(err, rc, "%s/status_cache.bin: %s", dir, acctdb_strerror(rc));
    }
    close(dfd);
    return rc;
}

static int
open_handle(acctdb_db_t **db_out, char const *dir, acctdb_db_config_t const *cfg, char *msg_out,
            size_t msg_max) {
    *db_out = NULL;
    acctdb_db_t *h = adb_calloc(1, sizeof *h);
    if (!h) return ACCTDB_ERR_NOMEM;
    adb_manifest_init(&h->man);
    if (snprintf(h->dir, sizeof h->dir, "%s", dir) >= (int)sizeof h->dir) {
        adb_free(h);
        msg_set(msg_out, msg_max, "directory path too long");
        return ACCTDB_ERR_INVALID;
    }
    acctdb_db_config_t c;
    adb_err_t          e = {0};
    int                rc = 0;
    if (cfg) {
        c = *cfg;
    } else {
        acctdb_db_config_default(&c);
        rc = acctdb_db_config_read(&c, dir, e.msg, sizeof e.msg);
    }
    if (!rc) rc = adb_eng_open(&h->db, dir, -1, &c, &e);
    if (!rc) rc = load_state(h, dir, &e);
    if (rc) {
        msg_set(msg_out, msg_max, e.msg);
        acctdb_db_close(h);
        return rc;
    }
    *db_out = h;
    return 0;
}

int
acctdb_db_open(acctdb_db_t **db_out, char const *dir, acctdb_db_config_t const *cfg, char *msg_out,
               size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!db_out || !dir) return ACCTDB_ERR_INVALID;
    return open_handle(db_out, dir, cfg, msg_out, msg_max);
}

void
acctdb_db_close(acctdb_db_t *db) {
    if (!db) return;
    adb_eng_close(db->db);
    adb_manifest_fini(&db->man);
    adb_free(db->man_raw);
    adb_free(db->sc_raw);
    adb_free(db);
}

/* ---- create ------------------------------------------------------------------ */

static int
rm_cb(char const *p, struct stat const *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag;
    return ftw->level > 0 ? remove(p) : 0;
}

/* 1 if dir is absent (created), 0 if it exists and is empty, else error. */
static int
prepare_dir(char const *dir, adb_err_t *err) {
    if (mkdir(dir, 0755) == 0) return 1;
    if (errno != EEXIST)
        return adb_err_set(err, -errno, "cannot create %s: %s", dir, acctdb_strerror(-errno));
    DIR *d = opendir(dir);
    if (!d) return adb_err_set(err, -errno, "cannot open %s: %s", dir, acctdb_strerror(-errno));
    struct dirent *de;
    int            n = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    if (n)
        return adb_err_set(err, ACCTDB_ERR_INVALID,
                           "%s is not empty: a new database needs an empty or absent directory",
                           dir);
    return 0;
}

/* The bank state of a database made from a genesis file: what Agave's
 * first bank would carry (FORMAT.md 3.3, 8). */
static int
genesis_manifest(char const *path, adb_db_t *db, int dfd, adb_err_t *err) {
    uint8_t *raw;
    size_t   sz;
    int      rc = adb_io_read_file(AT_FDCWD, path, 1u << 30, &raw, &sz);
    if (rc) return adb_err_set(err, rc, "%s: %s", path, acctdb_strerror(rc));
    adb_genesis_t g;
    adb_err_t     e = {0};
    rc = adb_genesis_decode(raw, sz, 0, &g, &e);
    adb_free(raw);
    if (rc) return adb_err_set(err, rc, "%s: %s", path, e.msg);
    acctdb_bank_info_t root;
    rc = adb_eng_bank_info(db, 0, &root);
    adb_manifest_t m;
    adb_manifest_init(&m);
    adb_bank_fields_t *b = &m.bank;
    adb_hash_age_t    *age = adb_manifest_alloc(&m, sizeof *age);
    if (!rc && !age) rc = ACCTDB_ERR_NOMEM;
    if (!rc) {
        b->slot = 0;
        b->ticks_per_slot = g.ticks_per_slot;
        b->max_tick_height = g.ticks_per_slot;
        b->has_hashes_per_tick = g.poh_config.has_hashes_per_tick;
        b->hashes_per_tick = g.poh_config.hashes_per_tick;
        uint64_t tick_ns =
            g.poh_config.target_tick_secs * 1000000000ull + g.poh_config.target_tick_nanos;
        b->ns_per_slot = (unsigned __int128)tick_ns * g.ticks_per_slot;
        b->genesis_creation_time = g.creation_time;
        b->slots_per_year =
            b->ns_per_slot ? 365.242199 * 24 * 3600 * 1e9 / (double)b->ns_per_slot : 0;
        b->capitalization = root.capitalization;
        b->accounts_data_len = root.accounts_data_len;
        b->fee_rate_governor = g.fee_rate_governor;
        b->rent_collector.epoch_schedule = g.epoch_schedule;
        b->rent_collector.slots_per_year = b->slots_per_year;
        b->rent_collector.rent = g.rent;
        b->epoch_schedule = g.epoch_schedule;
        b->inflation = g.inflation;
        b->hash = g.hash;
        age->hash = g.hash;
        age->lamports_per_signature = g.fee_rate_governor.target_lamports_per_signature;
        age->hash_index = 0;
        age->timestamp = (uint64_t)g.creation_time * 1000;
        b->blockhash_queue.ages = age;
        b->blockhash_queue.ages_cnt = 1;
        b->blockhash_queue.has_last_hash = true;
        b->blockhash_queue.last_hash = g.hash;
        m.extra.lamports_per_signature = g.fee_rate_governor.target_lamports_per_signature;
        m.extra.has_accounts_lt_hash = true;
        memcpy(m.extra.accounts_lt_hash, root.lt_hash.v, sizeof root.lt_hash.v);
        uint8_t *enc;
        size_t   esz;
        rc = adb_manifest_encode_buf(&m, &enc, &esz);
        if (!rc) {
            rc = adb_io_write_file_atomic(dfd, "manifest.bin", enc, esz);
            adb_free(enc);
        }
    }
    adb_manifest_fini(&m);
    adb_genesis_fini(&g);
    if (rc) return adb_err_set(err, rc, "writing the genesis bank state: %s", acctdb_strerror(rc));
    return 0;
}

static void
progress_tramp(void *ctx, char const *what, uint64_t done, uint64_t total) {
    acctdb_db_source_t const *s = ctx;
    s->progress(s->progress_ctx, what, done, total);
}

int
acctdb_db_create(acctdb_db_t **db_out, char const *dir, acctdb_db_source_t const *src,
                 acctdb_db_config_t const *cfg, char *msg_out, size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!db_out || !dir || !src) return ACCTDB_ERR_INVALID;
    *db_out = NULL;
    adb_err_t e = {0};
    int       nsrc = !!src->full_path + !!src->archive_dir + !!src->genesis_path;
    if (nsrc != 1 || (src->incremental_path && !src->full_path)) {
        msg_set(msg_out, msg_max,
                "give exactly one source: a full archive (and its incremental), an archive "
                "directory, or a genesis file");
        return ACCTDB_ERR_INVALID;
    }
    int made = prepare_dir(dir, &e);
    if (made < 0) {
        msg_set(msg_out, msg_max, e.msg);
        return made;
    }
    char *full = NULL, *inc = NULL;
    int   rc = 0;
    if (src->archive_dir) rc = adb_snap_find_in_dir(src->archive_dir, &full, &inc, &e);
    adb_load_opts_t lo;
    adb_load_opts_default(&lo);
    lo.store_dir = dir;
    lo.verify = true;
    lo.engine_root = true;
    if (cfg) lo.threads = cfg->threads;
    if (src->progress) {
        lo.progress = progress_tramp;
        lo.progress_ctx = (void *)src;
    }
    adb_snap_t *s = NULL;
    if (!rc) {
        if (src->genesis_path)
            rc = adb_snap_load_genesis(&s, src->genesis_path, &lo);
        else
            rc = adb_snap_load(&s, full ? full : src->full_path, full ? inc : src->incremental_path,
                               &lo);
        if (rc) {
            if (s && s->err.msg[0]) {
                adb_err_set(&e, rc, "%s", s->err.msg);
            } else if (s) {
                /* A failed check: name the first one. */
                for (size_t i = 0; i < s->check_cnt; i++)
                    if (s->checks[i].status == ADB_CHECK_FAIL) {
                        adb_err_set(&e, rc, "verification failed: %s: %s", s->checks[i].name,
                                    s->checks[i].detail);
                        break;
                    }
            }
            if (!e.msg[0]) adb_err_set(&e, rc, "%s", acctdb_strerror(rc));
        }
    }
    adb_snap_close(s);
    adb_free(full);
    adb_free(inc);
    acctdb_db_t *h = NULL;
    if (!rc) rc = open_handle(&h, dir, cfg, e.msg, sizeof e.msg);
    if (!rc && src->genesis_path) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = dfd < 0 ? adb_err_set(&e, -errno, "%s: %s", dir, acctdb_strerror(-errno))
                     : genesis_manifest(src->genesis_path, h->db, dfd, &e);
        if (dfd >= 0) close(dfd);
        if (!rc) {
            adb_manifest_fini(&h->man);
            adb_manifest_init(&h->man);
            rc = load_state(h, dir, &e);
        }
    }
    if (rc) {
        acctdb_db_close(h);
        msg_set(msg_out, msg_max, e.msg);
        /* Nothing half-made stays behind: the directory's contents go (and
         * the directory itself if this call made it). */
        nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        if (made == 1) rmdir(dir);
        return rc;
    }
    *db_out = h;
    return 0;
}

/* ---- thin wrappers ----------------------------------------------------------- */

int
acctdb_db_store(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot, acctdb_account_t const *accts,
                size_t n) {
    if (!db || (n && !accts)) return ACCTDB_ERR_INVALID;
    return adb_eng_store(db->db, slot, parent_slot, accts, n);
}

int
acctdb_db_freeze(acctdb_db_t *db, uint64_t slot, acctdb_bank_meta_t const *meta,
                 acctdb_bank_info_t *info_out) {
    if (!db) return ACCTDB_ERR_INVALID;
    uint64_t parent = 0, forks = 0;
    if (db->has_man && !adb_eng_bank_parent(db->db, slot, &parent))
        forks = adb_bankhash_fork_cnt(db->man.bank.hard_forks, (size_t)db->man.bank.hard_forks_cnt,
                                      parent, slot);
    return adb_eng_freeze(db->db, slot, meta, forks, info_out);
}

int
acctdb_db_root(acctdb_db_t *db, uint64_t slot) {
    if (!db) return ACCTDB_ERR_INVALID;
    return adb_eng_root(db->db, slot);
}

int
acctdb_db_load(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *pubkey, acctdb_account_t *out,
               uint8_t *data_buf, size_t data_max, uint64_t *slot_out) {
    if (!db || !pubkey || !out || (data_max && !data_buf)) return ACCTDB_ERR_INVALID;
    return adb_eng_load(db->db, slot, pubkey->b, out, data_buf, data_max, slot_out);
}

int
acctdb_db_load_batch(acctdb_db_t *db, uint64_t slot, acctdb_pubkey_t const *pubkeys, size_t n,
                     acctdb_account_t *out, uint8_t *buf, size_t buf_sz, int *rc_out) {
    if (!db || (n && (!pubkeys || !out || !rc_out)) || (buf_sz && !buf)) return ACCTDB_ERR_INVALID;
    return adb_eng_load_batch(db->db, slot, pubkeys, n, out, buf, buf_sz, rc_out);
}

int
acctdb_db_scan(acctdb_db_t *db, uint64_t slot, acctdb_scan_filter_t const *filter,
               acctdb_pubkey_t const *cursor, size_t limit, acctdb_scan_fn fn, void *ctx,
               acctdb_pubkey_t *next_out, bool *more_out) {
    if (!db || !filter || !fn) return ACCTDB_ERR_INVALID;
    return adb_eng_scan(db->db, slot, filter, cursor, limit, fn, ctx, next_out, more_out);
}

int
acctdb_db_bank_info(acctdb_db_t *db, uint64_t slot, acctdb_bank_info_t *info_out) {
    if (!db || !info_out) return ACCTDB_ERR_INVALID;
    return adb_eng_bank_info(db->db, slot, info_out);
}

uint64_t
acctdb_db_root_slot(acctdb_db_t *db, uint64_t *durable_out) {
    if (!db) return 0;
    return adb_eng_root_slot(db->db, durable_out);
}

int
acctdb_db_service_step(acctdb_db_t *db, acctdb_service_t which) {
    if (!db) return ACCTDB_ERR_INVALID;
    return adb_eng_service_step(db->db, which);
}

int
acctdb_db_verify(acctdb_db_t *db, char *msg_out, size_t msg_max) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_err_t e = {0};
    int       rc = adb_eng_verify(db->db, &e);
    msg_set(msg_out, msg_max, e.msg);
    return rc;
}

int
acctdb_db_check(acctdb_db_t *db, char *msg_out, size_t msg_max) {
    if (!db) return ACCTDB_ERR_INVALID;
    adb_err_t e = {0};
    int       rc = adb_eng_check(db->db, &e);
    msg_set(msg_out, msg_max, rc ? e.msg : "");
    return rc;
}

int
acctdb_db_stats(acctdb_db_t *db, acctdb_db_stats_t *out) {
    if (!db || !out) return ACCTDB_ERR_INVALID;
    return adb_eng_stats(db->db, out);
}

/* ---- bank begin: the sysvars a new bank records --------------------------------- */

static acctdb_pubkey_t
sysvar_id(char const *b58) {
    acctdb_pubkey_t k;
    adb_base58_decode_32(b58, strlen(b58), k.b);
    return k;
}

static uint64_t
rent_min(acctdb_db_t const *h, uint64_t data_len) {
    adb_rent_t const *r = &h->man.bank.rent_collector.rent;
    if (!h->has_man || !r->lamports_per_byte_year) return 1;
    double v = (double)((128 + data_len) * r->lamports_per_byte_year) * r->exemption_threshold;
    return v < 1 ? 1 : (uint64_t)v;
}

int
acctdb_db_bank_begin(acctdb_db_t *db, uint64_t slot, uint64_t parent_slot, int64_t unix_timestamp) {
    if (!db) return ACCTDB_ERR_INVALID;
    acctdb_pubkey_t const sysvar_owner = sysvar_id("Sysvar1111111111111111111111111111111111111");
    acctdb_pubkey_t       sh_id = sysvar_id(ADB_SYSVAR_SLOT_HISTORY_ID);
    acctdb_pubkey_t       ck_id = sysvar_id(ADB_SYSVAR_CLOCK_ID);
    uint8_t              *sh = adb_malloc(ADB_SYSVAR_SLOT_HISTORY_SZ);
    if (!sh) return ACCTDB_ERR_NOMEM;
    acctdb_account_t a[2], prev;
    memset(a, 0, sizeof a);
    int rc =
        adb_eng_load(db->db, parent_slot, sh_id.b, &prev, sh, ADB_SYSVAR_SLOT_HISTORY_SZ, NULL);
    if (rc == ACCTDB_ERR_NOT_FOUND) {
        adb_sysvar_slot_history_default(sh);
        prev.lamports = rent_min(db, ADB_SYSVAR_SLOT_HISTORY_SZ);
        prev.rent_epoch = UINT64_MAX;
        prev.owner = sysvar_owner;
        rc = 0;
    } else if (!rc && prev.data_len != ADB_SYSVAR_SLOT_HISTORY_SZ) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_CORRUPT,
                         "the SlotHistory sysvar at slot %llu holds %llu bytes, not %u",
                         (unsigned long long)parent_slot, (unsigned long long)prev.data_len,
                         (unsigned)ADB_SYSVAR_SLOT_HISTORY_SZ);
    } else if (rc == ACCTDB_ERR_FULL) {
        rc = adb_err_set(adb_eng_err(), ACCTDB_ERR_CORRUPT,
                         "the SlotHistory sysvar at slot %llu is larger than %u bytes",
                         (unsigned long long)parent_slot, (unsigned)ADB_SYSVAR_SLOT_HISTORY_SZ);
    }
    if (!rc) {
        rc = adb_sysvar_slot_history_add(sh, slot);
        if (rc)
            rc = adb_err_set(adb_eng_err(), rc,
                             "the SlotHistory sysvar at slot %llu cannot record slot %llu: %s",
                             (unsigned long long)parent_slot, (unsigned long long)slot,
                             rc == ACCTDB_ERR_INVALID ? "it is not newer than the history"
                                                      : "malformed");
    }
    uint8_t ckd[ADB_SYSVAR_CLOCK_SZ];
    if (!rc) {
        a[0] = prev;
        a[0].pubkey = sh_id;
        a[0].data = sh;
        a[0].data_len = ADB_SYSVAR_SLOT_HISTORY_SZ;
        acctdb_account_t pc;
        uint8_t          pcd[64];
        adb_clock_t      clock = {0}, old = {0};
        int              r = adb_eng_load(db->db, parent_slot, ck_id.b, &pc, pcd, sizeof pcd, NULL);
        bool have_old = !r && !adb_sysvar_clock_decode(pcd, (size_t)pc.data_len, &old, NULL);
        adb_epoch_schedule_t const *es = &db->man.bank.epoch_schedule;
        clock.slot = slot;
        clock.epoch = db->has_man && es->slots_per_epoch ? adb_epoch_of(es, slot) : 0;
        clock.leader_schedule_epoch =
            db->has_man && es->slots_per_epoch
                ? adb_epoch_of(es, slot + es->leader_schedule_slot_offset)
                : clock.epoch;
        clock.epoch_start_timestamp =
            have_old && old.epoch == clock.epoch ? old.epoch_start_timestamp : unix_timestamp;
        clock.unix_timestamp = unix_timestamp;
        adb_sysvar_clock_encode(&clock, ckd);
        a[1].pubkey = ck_id;
        a[1].owner = sysvar_owner;
        a[1].lamports = have_old ? pc.lamports : rent_min(db, ADB_SYSVAR_CLOCK_SZ);
        a[1].rent_epoch = have_old ? pc.rent_epoch : UINT64_MAX;
        a[1].data = ckd;
        a[1].data_len = ADB_SYSVAR_CLOCK_SZ;
        rc = adb_eng_store(db->db, slot, parent_slot, a, 2);
    }
    adb_free(sh);
    return rc;
}
