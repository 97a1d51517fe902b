/* Loader checks on the archives acctdb writes (issue 7): every archive our
 * writers make must pass every check a real loader applies (Agave's
 * new_from_snapshot and stakes cache load, Sig's bank validation,
 * Firedancer's manifest validation; src/bank/bank_check.c), and each check
 * must catch what it is for.
 *
 * Archives under test:
 *   - `snapshot gen` (acctdb_snapshot_gen): 64-slot epochs with an
 *     incremental, and warmup epochs;
 *   - a database created from a genesis (acctdb_cluster_genesis_write), as
 *     created (slot 0), and after a workload crossing at least three epoch
 *     boundaries: a warmup schedule (boundaries 32, 96, 224) and a short
 *     non-warmup one (64 slots);
 *   - a database created from the 3.x pair after a workload (no genesis:
 *     the genesis checks are skipped, everything else passes);
 *   - the bundled Agave archives: no check fails, and the 1.17 pair's bank
 *     hash (merkle formula) is recomputed and passes.
 *
 * Then for each bank check an altered copy of an archive: the manifest
 * field or the account the check reads is changed, everything else kept
 * consistent (an account change appended as a newer record in the bank's
 * own storage with the lattice hash, the archive name and the bank hash
 * recomputed), and the check must fail, by name. */
#include "../test.h"
#include "acctdb_sim.h"

#include "bank/bank.h"
#include "snapshot/manifest.h"
#include "store/acctfile.h"
#include "util/bincode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FV1 "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define IV1 "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define F42 "test-snapshot-v4.2.0-beta.1.tar.zst"
#define F17 "snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst"
#define I17 "incremental-snapshot-10-25-GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS.tar.zst"

/* The bank checks, in the order adb_bank_check makes them (which
 * assert_all_pass requires of every load). */
#define k_bank_checks  adb_bank_check_names
#define BANK_CHECK_CNT ADB_BANK_CHECK_CNT

/* ---- the checks of one load --------------------------------------------------- */

typedef struct verdicts {
    size_t cnt;
    char   name[64][48];
    int    status[64];
    char   detail[64][240];
    int    rc;
    char   err[512];
} verdicts_t;

static void
load(char const *full, char const *inc, char const *genesis, verdicts_t *v) {
    memset(v, 0, sizeof *v);
    acctdb_snapshot_opts_t o = {.genesis_path = genesis, .threads = 2};
    acctdb_snapshot_t     *s = NULL;
    v->rc = acctdb_snapshot_open(&s, full, inc, &o);
    assert_non_null(s);
    snprintf(v->err, sizeof v->err, "%s", acctdb_snapshot_errmsg(s));
    size_t n = acctdb_snapshot_check_cnt(s);
    for (size_t i = 0; i < n && v->cnt < 64; i++) {
        acctdb_check_t c;
        assert_int_equal(acctdb_snapshot_check(s, i, &c), 0);
        snprintf(v->name[v->cnt], sizeof v->name[0], "%s", c.name);
        v->status[v->cnt] = (int)c.status;
        snprintf(v->detail[v->cnt], sizeof v->detail[0], "%s", c.detail ? c.detail : "");
        v->cnt++;
    }
    acctdb_snapshot_close(s);
}

static int
verdict(verdicts_t const *v, char const *name) {
    for (size_t i = 0; i < v->cnt; i++)
        if (!strcmp(v->name[i], name)) return v->status[i];
    return -1;
}

static char const *
verdict_detail(verdicts_t const *v, char const *name) {
    for (size_t i = 0; i < v->cnt; i++)
        if (!strcmp(v->name[i], name)) return v->detail[i];
    return "";
}

static void
print_fails(verdicts_t const *v) {
    for (size_t i = 0; i < v->cnt; i++)
        if (v->status[i] == ACCTDB_CHECK_FAIL)
            print_message("      FAIL %s: %s\n", v->name[i], v->detail[i]);
}

/* Every check passes (skips only for the genesis checks when no genesis is
 * given, and the merkle era's). */
/* Every check passes; with a genesis nothing is skipped but the checks
 * named in allowed_skips ("a|b"). */
static void
assert_all_pass_but(char const *label, char const *full, char const *inc, char const *genesis,
                    char const *allowed_skips) {
    verdicts_t *v = calloc(1, sizeof *v);
    assert_non_null(v);
    load(full, inc, genesis, v);
    size_t fails = 0, skips = 0;
    for (size_t i = 0; i < v->cnt; i++) {
        if (v->status[i] == ACCTDB_CHECK_FAIL) fails++;
        if (v->status[i] == ACCTDB_CHECK_SKIP) {
            skips++;
            if (!genesis) continue;
            char want[64];
            snprintf(want, sizeof want, "|%s|", v->name[i]);
            char all[400];
            snprintf(all, sizeof all, "|%s|", allowed_skips ? allowed_skips : "");
            if (!strstr(all, want)) fail_msg("%s: %s skipped: %s", label, v->name[i], v->detail[i]);
        }
    }
    if (fails || v->rc) {
        print_fails(v);
        fail_msg("%s: %zu checks failed (rc %d: %s)", label, fails, v->rc, v->err);
    }
    /* Every bank check was made, once, in the documented order. */
    size_t at = 0;
    for (size_t k = 0; k < BANK_CHECK_CNT; k++) {
        while (at < v->cnt && strcmp(v->name[at], k_bank_checks[k]))
            at++;
        if (at == v->cnt)
            fail_msg("%s: no %s check after the previous one", label, k_bank_checks[k]);
        for (size_t i = at + 1; i < v->cnt; i++)
            if (!strcmp(v->name[i], k_bank_checks[k]))
                fail_msg("%s: %s reported twice", label, k_bank_checks[k]);
    }
    print_message("    %s: %zu checks pass (%zu skipped)\n", label, v->cnt - skips, skips);
    free(v);
}

static void
assert_all_pass(char const *label, char const *full, char const *inc, char const *genesis) {
    assert_all_pass_but(label, full, inc, genesis, NULL);
}

/* ---- an archive in memory: its tar entries -------------------------------------- */

typedef struct ent {
    char     name[320];
    uint8_t  hdr[512];
    uint8_t *data;
    size_t   sz;
} ent_t;

typedef struct arch {
    ent_t *e;
    size_t n;
    char   dir[4096]; /* a scratch directory */
} arch_t;

static uint64_t
octal(uint8_t const *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(p[i] - '0');
    return v;
}

static void
arch_read(arch_t *a, char const *zst, char const *scratch) {
    memset(a, 0, sizeof *a);
    snprintf(a->dir, sizeof a->dir, "%s", scratch);
    assert_int_equal(adb_test_sh(NULL, 0, "zstd -q -dc '%s' > '%s/a.tar'", zst, scratch), 0);
    char p[4200];
    snprintf(p, sizeof p, "%s/a.tar", scratch);
    size_t   sz = 0;
    uint8_t *t = adb_test_read_file(p, &sz);
    assert_non_null(t);
    for (size_t off = 0; off + 512 <= sz;) {
        uint8_t const *h = t + off;
        if (!h[0]) break;
        a->e = realloc(a->e, (a->n + 1) * sizeof *a->e);
        assert_non_null(a->e);
        ent_t *e = &a->e[a->n++];
        memset(e, 0, sizeof *e);
        memcpy(e->hdr, h, 512);
        /* ustar: prefix (345, 155) / name (0, 100) */
        char name[101] = {0}, prefix[156] = {0};
        memcpy(name, h, 100);
        memcpy(prefix, h + 345, 155);
        snprintf(e->name, sizeof e->name, "%s%s%s", prefix, prefix[0] ? "/" : "", name);
        e->sz = (size_t)octal(h + 124, 12);
        e->data = malloc(e->sz ? e->sz : 1);
        assert_non_null(e->data);
        memcpy(e->data, t + off + 512, e->sz);
        off += 512 + ((e->sz + 511) & ~(size_t)511);
    }
    free(t);
}

static void
arch_free(arch_t *a) {
    for (size_t i = 0; i < a->n; i++)
        free(a->e[i].data);
    free(a->e);
    memset(a, 0, sizeof *a);
}

static ent_t *
arch_find(arch_t *a, char const *name) {
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->e[i].name, name)) return &a->e[i];
    return NULL;
}

/* Writes the entries as a tar (sizes and header checksums rewritten) and
 * compresses it to out. */
static void
arch_write(arch_t const *a, char const *out) {
    char p[4200];
    snprintf(p, sizeof p, "%s/b.tar", a->dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    static uint8_t const zero[1024];
    for (size_t i = 0; i < a->n; i++) {
        ent_t const *e = &a->e[i];
        uint8_t      h[512];
        memcpy(h, e->hdr, 512);
        snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)e->sz);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t k = 0; k < 512; k++)
            sum += h[k];
        snprintf((char *)h + 148, 8, "%06o", sum);
        h[155] = ' ';
        assert_int_equal(fwrite(h, 1, 512, f), 512);
        assert_int_equal(fwrite(e->data, 1, e->sz, f), e->sz);
        size_t pad = (512 - e->sz % 512) % 512;
        assert_int_equal(fwrite(zero, 1, pad, f), pad);
    }
    assert_int_equal(fwrite(zero, 1, 1024, f), 1024);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(adb_test_sh(NULL, 0, "zstd -q -1 -f '%s' -o '%s'", p, out), 0);
}

/* ---- the manifest of an archive --------------------------------------------------- */

static ent_t *
manifest_ent(arch_t *a, uint64_t slot) {
    char n[64];
    snprintf(n, sizeof n, "snapshots/%llu/%llu", (unsigned long long)slot,
             (unsigned long long)slot);
    ent_t *e = arch_find(a, n);
    if (!e) fail_msg("no member %s", n);
    return e;
}

static void
manifest_get(arch_t *a, uint64_t slot, adb_manifest_t *m) {
    ent_t    *e = manifest_ent(a, slot);
    adb_err_t err;
    if (adb_manifest_decode(e->data, e->sz, 0, m, &err)) fail_msg("manifest: %s", err.msg);
}

static void
manifest_put(arch_t *a, uint64_t slot, adb_manifest_t const *m, bool reseal) {
    adb_manifest_t *mm = (adb_manifest_t *)m;
    if (reseal) assert_int_equal(adb_manifest_bank_hash(mm, mm->bank.hash.b), 0);
    ent_t   *e = manifest_ent(a, slot);
    uint8_t *buf;
    size_t   sz;
    assert_int_equal(adb_manifest_encode_buf(m, &buf, &sz), 0);
    free(e->data);
    e->data = buf;
    e->sz = sz;
}

/* Replaces the live version of account *acc (its old version old, or NULL
 * when new) by appending a record to the bank slot's storage (created when
 * the slot has none), and keeps the manifest consistent: the storage's
 * length, the lattice hash, capitalization and data length. */
static void
account_put(arch_t *a, adb_manifest_t *m, acctdb_account_t const *old,
            acctdb_account_t const *acc) {
    uint64_t             slot = m->bank.slot;
    adb_storage_entry_t *se = NULL;
    for (uint64_t i = 0; i < m->accounts_db.storages_cnt; i++)
        if (m->accounts_db.storages[i].slot == slot) se = &m->accounts_db.storages[i].entries[0];
    if (!se) fail_msg("the bank's slot %llu has no storage", (unsigned long long)slot);
    char n[96];
    snprintf(n, sizeof n, "accounts/%llu.%llu", (unsigned long long)slot,
             (unsigned long long)se->id);
    ent_t *e = arch_find(a, n);
    if (!e) fail_msg("no member %s", n);
    size_t   rsz = adb_acct_rec_sz(acc->data_len);
    size_t   at = (size_t)se->current_len;
    uint8_t *d = realloc(e->data, at + rsz);
    assert_non_null(d);
    e->data = d;
    assert_int_equal(adb_acct_rec_write(d + at, acc), rsz);
    e->sz = at + rsz;
    se->current_len = at + rsz;
    acctdb_lthash_t lt, h;
    memcpy(lt.v, m->extra.accounts_lt_hash, sizeof lt.v);
    if (old) {
        acctdb_lthash_account(&h, old, ACCTDB_LTHASH_CURRENT);
        acctdb_lthash_sub(&lt, &h);
        m->bank.capitalization -= old->lamports;
        m->bank.accounts_data_len -= old->data_len;
    }
    acctdb_lthash_account(&h, acc, ACCTDB_LTHASH_CURRENT);
    acctdb_lthash_add(&lt, &h);
    memcpy(m->extra.accounts_lt_hash, lt.v, sizeof lt.v);
    m->bank.capitalization += acc->lamports;
    m->bank.accounts_data_len += acc->data_len;
}

/* The archive's name for the manifest's lattice hash. */
static void
arch_name(char *out, size_t max, char const *dir, adb_manifest_t const *m) {
    acctdb_lthash_t lt;
    memcpy(lt.v, m->extra.accounts_lt_hash, sizeof lt.v);
    uint8_t ck[32];
    acctdb_lthash_checksum(&lt, ck);
    char b58[ACCTDB_BASE58_32_SZ];
    acctdb_base58_encode_32(ck, b58);
    snprintf(out, max, "%s/snapshot-%llu-%s.tar.zst", dir, (unsigned long long)m->bank.slot, b58);
}

/* ---- the mutations ---------------------------------------------------------------- */

typedef struct mut_ctx {
    acctdb_snapshot_t *base; /* the unaltered archive, loaded */
    adb_manifest_t    *m;
    arch_t            *a;
    uint8_t           *buf; /* account data copies */
} mut_ctx_t;

/* The live account of a sysvar in the unaltered archive, data copied to
 * c->buf (malloc) so it can be changed. */
static void
sysvar_get(mut_ctx_t *c, adb_sysvar_t which, acctdb_account_t *old, acctdb_account_t *acc) {
    int rc = acctdb_snapshot_get(c->base, adb_sysvar_id(which), old, NULL);
    if (rc) fail_msg("the archive has no %s", adb_sysvar_name(which));
    free(c->buf);
    c->buf = malloc(old->data_len ? old->data_len : 1);
    assert_non_null(c->buf);
    memcpy(c->buf, old->data, old->data_len);
    *acc = *old;
    acc->data = c->buf;
}

static void
put_sysvar(mut_ctx_t *c, acctdb_account_t const *old, acctdb_account_t const *acc) {
    account_put(c->a, c->m, old, acc);
}

static void
mut_max_tick(mut_ctx_t *c) {
    c->m->bank.max_tick_height += 1;
}
static void
mut_tick(mut_ctx_t *c) {
    c->m->bank.tick_height -= 1;
}
static void
mut_schedule(mut_ctx_t *c) {
    c->m->bank.epoch_schedule.first_normal_slot += 32;
}
static void
mut_epoch(mut_ctx_t *c) {
    c->m->bank.epoch = adb_epoch_of(&c->m->bank.epoch_schedule, c->m->bank.slot) + 1;
}
static void
mut_creation(mut_ctx_t *c) {
    c->m->bank.genesis_creation_time += 1;
}
static void
mut_ticks_per_slot(mut_ctx_t *c) {
    c->m->bank.ticks_per_slot += 1;
}
static void
mut_ns(mut_ctx_t *c) {
    c->m->bank.ns_per_slot += 1;
}
static void
mut_spy(mut_ctx_t *c) {
    /* one ulp: the check is bit for bit */
    c->m->bank.slots_per_year = nextafter(c->m->bank.slots_per_year, INFINITY);
    c->m->bank.rent_collector.slots_per_year = c->m->bank.slots_per_year;
}
static void
mut_schedule_genesis(mut_ctx_t *c) {
    c->m->bank.epoch_schedule.leader_schedule_slot_offset += 1;
    c->m->bank.rent_collector.epoch_schedule = c->m->bank.epoch_schedule;
}
static void
mut_rent_collector(mut_ctx_t *c) {
    c->m->bank.rent_collector.epoch += 1;
}
static void
mut_ancestors(mut_ctx_t *c) {
    for (uint64_t i = 0; i < c->m->bank.ancestors_cnt; i++)
        if (c->m->bank.ancestors[i].slot == c->m->bank.slot) c->m->bank.ancestors[i].slot += 1;
}
static void
mut_legacy_es(mut_ctx_t *c) {
    /* a legacy entry (for an epoch the versioned map lacks) in the lattice
     * era, which writes none */
    uint64_t n = c->m->extra.versioned_epoch_stakes_cnt, hi = 0;
    assert_true(n > 0);
    for (uint64_t i = 0; i < n; i++)
        if (c->m->extra.versioned_epoch_stakes[i].epoch > hi)
            hi = c->m->extra.versioned_epoch_stakes[i].epoch;
    adb_epoch_stakes_t *e = adb_manifest_alloc(c->m, sizeof *e);
    assert_non_null(e);
    *e = c->m->extra.versioned_epoch_stakes[0];
    e->epoch = hi + 1;
    e->stakes.is_stake_form = false;
    e->stakes.delegations_cnt = 0;
    c->m->bank.epoch_stakes = e;
    c->m->bank.epoch_stakes_cnt = 1;
}
static void
mut_es(mut_ctx_t *c) {
    /* drop the leader schedule epoch's entry (the newest) */
    adb_epoch_stakes_t *es = c->m->extra.versioned_epoch_stakes;
    uint64_t            n = c->m->extra.versioned_epoch_stakes_cnt, hi = 0;
    assert_true(n > 0);
    for (uint64_t i = 1; i < n; i++)
        if (es[i].epoch > es[hi].epoch) hi = i;
    es[hi] = es[n - 1];
    c->m->extra.versioned_epoch_stakes_cnt = n - 1;
}
static void
mut_es_contents(mut_ctx_t *c) {
    assert_true(c->m->extra.versioned_epoch_stakes_cnt > 0);
    c->m->extra.versioned_epoch_stakes[0].total_stake += 1;
}
static void
mut_stakes_cache(mut_ctx_t *c) {
    assert_true(c->m->bank.stakes.delegations_cnt > 0);
    c->m->bank.stakes.delegations[0].delegation.stake += 1;
}
static void
mut_queue(mut_ctx_t *c) {
    /* two entries with the same index: not gapless */
    adb_blockhash_queue_t *q = &c->m->bank.blockhash_queue;
    assert_true(q->ages_cnt >= 2);
    for (uint64_t i = 0; i < q->ages_cnt; i++)
        if (q->ages[i].hash_index + 1 == q->last_hash_index) q->ages[i].hash_index -= 1;
}
static void
mut_block_id(mut_ctx_t *c) {
    memset(c->m->extra.block_id.b, 0, 32);
}
static void
mut_clock(mut_ctx_t *c) {
    acctdb_account_t old, acc;
    sysvar_get(c, ADB_SYSVAR_CLOCK, &old, &acc);
    adb_clock_t k;
    assert_int_equal(adb_sysvar_clock_decode(acc.data, acc.data_len, &k, NULL), 0);
    k.leader_schedule_epoch += 1;
    adb_sysvar_clock_encode(&k, c->buf);
    put_sysvar(c, &old, &acc);
}
static void
mut_slot_hashes(mut_ctx_t *c) {
    acctdb_account_t old, acc;
    sysvar_get(c, ADB_SYSVAR_SLOT_HASHES, &old, &acc);
    c->buf[8 + 8] ^= 1; /* the newest entry's hash */
    put_sysvar(c, &old, &acc);
}
static void
mut_slot_history(mut_ctx_t *c) {
    acctdb_account_t old, acc;
    sysvar_get(c, ADB_SYSVAR_SLOT_HISTORY, &old, &acc);
    uint64_t s = c->m->bank.slot % ADB_SLOT_HISTORY_MAX_ENTRIES;
    c->buf[9 + s / 8] ^= (uint8_t)(1u << (s % 8)); /* the bank's own slot */
    put_sysvar(c, &old, &acc);
}
static void
mut_schedule_sysvar(mut_ctx_t *c) {
    acctdb_account_t old, acc;
    sysvar_get(c, ADB_SYSVAR_EPOCH_SCHEDULE, &old, &acc);
    c->buf[0] ^= 1; /* slots_per_epoch */
    put_sysvar(c, &old, &acc);
}
static void
mut_rent_sysvar(mut_ctx_t *c) {
    acctdb_account_t old, acc;
    sysvar_get(c, ADB_SYSVAR_RENT, &old, &acc);
    c->buf[0] ^= 1; /* lamports_per_byte_year */
    put_sysvar(c, &old, &acc);
}
static void
mut_stake_history(mut_ctx_t *c) {
    acctdb_account_t old, acc;
    sysvar_get(c, ADB_SYSVAR_STAKE_HISTORY, &old, &acc);
    assert_true(adb_load_u64(c->buf) > 0);
    c->buf[8 + 8] ^= 1; /* the newest entry's effective stake */
    put_sysvar(c, &old, &acc);
}
static void
mut_recent(mut_ctx_t *c) {
    acctdb_account_t old, acc;
    sysvar_get(c, ADB_SYSVAR_RECENT_BLOCKHASHES, &old, &acc);
    c->buf[8] ^= 1; /* the newest hash */
    put_sysvar(c, &old, &acc);
}

typedef struct mutation {
    char const *check;
    void (*fn)(mut_ctx_t *c);
    bool needs_genesis;
    bool needs_stake_history; /* an archive past its first epoch boundary */
} mutation_t;

static mutation_t const k_mutations[] = {
    {"max tick height", mut_max_tick, false, false},
    {"tick height", mut_tick, false, false},
    {"epoch schedule", mut_schedule, false, false},
    {"epoch", mut_epoch, false, false},
    {"genesis creation time", mut_creation, true, false},
    {"ticks per slot", mut_ticks_per_slot, true, false},
    {"ns per slot", mut_ns, true, false},
    {"slots per year", mut_spy, true, false},
    {"epoch schedule vs genesis", mut_schedule_genesis, true, false},
    {"rent collector", mut_rent_collector, false, false},
    {"ancestors", mut_ancestors, false, false},
    {"legacy epoch stakes", mut_legacy_es, false, false},
    {"epoch stakes", mut_es, false, false},
    {"epoch stakes contents", mut_es_contents, false, false},
    {"stakes cache", mut_stakes_cache, false, false},
    {"blockhash queue", mut_queue, false, false},
    {"block id", mut_block_id, false, false},
    {"Clock sysvar", mut_clock, false, false},
    {"SlotHashes sysvar", mut_slot_hashes, false, false},
    {"SlotHistory sysvar", mut_slot_history, false, false},
    {"EpochSchedule sysvar", mut_schedule_sysvar, false, false},
    {"Rent sysvar", mut_rent_sysvar, false, false},
    {"StakeHistory sysvar", mut_stake_history, false, true},
    {"RecentBlockhashes sysvar", mut_recent, false, false},
};
#define MUTATION_CNT (sizeof k_mutations / sizeof k_mutations[0])

/* For each mutation: alter a copy of full (a lattice-era archive whose
 * checks all pass), load it, and require the named check to fail.  The
 * other checks that failed with it are printed. */
static void
assert_each_check_catches(char const *label, char const *full, char const *genesis) {
    char *scratch = adb_test_mkdtemp();
    assert_non_null(scratch);
    acctdb_snapshot_opts_t o = {.threads = 2};
    acctdb_snapshot_t     *base = NULL;
    assert_int_equal(acctdb_snapshot_open(&base, full, NULL, &o), 0);
    acctdb_snapshot_info_t info;
    assert_int_equal(acctdb_snapshot_info(base, &info), 0);
    verdicts_t *v = calloc(1, sizeof *v);
    assert_non_null(v);
    size_t caught = 0;
    for (size_t k = 0; k < MUTATION_CNT; k++) {
        mutation_t const *mu = &k_mutations[k];
        arch_t            a;
        arch_read(&a, full, scratch);
        adb_manifest_t m;
        manifest_get(&a, info.slot, &m);
        if (mu->needs_stake_history && !m.bank.stakes.stake_history_cnt) {
            print_message("      (%s: no stake history yet, not altered)\n", mu->check);
            adb_manifest_fini(&m);
            arch_free(&a);
            continue;
        }
        mut_ctx_t c = {.base = base, .m = &m, .a = &a};
        mu->fn(&c);
        manifest_put(&a, info.slot, &m, true);
        char out[4400];
        arch_name(out, sizeof out, scratch, &m);
        arch_write(&a, out);
        free(c.buf);
        adb_manifest_fini(&m);
        arch_free(&a);

        load(out, NULL, genesis, v);
        int st = verdict(v, mu->check);
        if (st != ACCTDB_CHECK_FAIL) {
            print_fails(v);
            print_message("      load: rc %d: %s\n", v->rc, v->err);
            fail_msg("%s: altered for the %s check, which %s (%s)", label, mu->check,
                     st < 0                    ? "was not made"
                     : st == ACCTDB_CHECK_PASS ? "passed"
                                               : "was skipped",
                     verdict_detail(v, mu->check));
        }
        if (v->rc != ACCTDB_ERR_MISMATCH)
            fail_msg("%s: %s: load returned %d, not MISMATCH (%s)", label, mu->check, v->rc,
                     v->err);
        /* The checks the alteration did not touch still pass: the bank
         * hash and lattice hash were kept consistent. */
        assert_int_equal(verdict(v, "lattice hash"), ACCTDB_CHECK_PASS);
        assert_int_equal(verdict(v, "bank hash"), ACCTDB_CHECK_PASS);
        assert_int_equal(verdict(v, "name"), ACCTDB_CHECK_PASS);
        size_t others = 0;
        char   list[600] = "";
        size_t ll = 0;
        for (size_t i = 0; i < v->cnt; i++)
            if (v->status[i] == ACCTDB_CHECK_FAIL && strcmp(v->name[i], mu->check)) {
                others++;
                ll += (size_t)snprintf(list + ll, ll < sizeof list ? sizeof list - ll : 0, "%s%s",
                                       others > 1 ? ", " : "", v->name[i]);
            }
        if (getenv("ACCTDB_CHECKS_VERBOSE"))
            print_message("      %s: fails: %s%s%s\n", mu->check, verdict_detail(v, mu->check),
                          others ? "; also: " : "", others ? list : "");
        caught++;
    }
    print_message("    %s: %zu alterations, each caught by its check\n", label, caught);
    assert_true(caught >= MUTATION_CNT - 1);
    free(v);
    acctdb_snapshot_close(base);
    adb_test_rmtree(scratch);
    free(scratch);
}

/* ---- archives our writers make ------------------------------------------------------- */

static void
gen_archive(char const *dir, uint64_t spe, bool warmup, uint64_t slots, bool incremental,
            acctdb_gen_result_t *r) {
    acctdb_gen_opts_t o = {.accounts = 3000,
                           .slots = slots,
                           .seed = adb_test_seed(),
                           .incremental = incremental ? 200 : 0,
                           .out_dir = dir,
                           .threads = 2,
                           .validators = 5,
                           .slots_per_epoch = spe,
                           .warmup = warmup};
    char              msg[512] = "";
    int               rc = acctdb_snapshot_gen(&o, r, msg, sizeof msg);
    if (rc) fail_msg("snapshot gen: %d: %s", rc, msg);
}

static void
t_gen_archives(void **state) {
    (void)state;
    char               *d = adb_test_mkdtemp();
    acctdb_gen_result_t r;
    gen_archive(d, 64, false, 700, true, &r);
    assert_all_pass("gen, 64-slot epochs (full)", r.full_path, NULL, r.genesis_path);
    assert_all_pass("gen, 64-slot epochs (full + incremental)", r.full_path, r.inc_path,
                    r.genesis_path);
    assert_each_check_catches("gen, 64-slot epochs", r.full_path, r.genesis_path);
    adb_test_rmtree(d);
    free(d);

    d = adb_test_mkdtemp();
    gen_archive(d, 256, true, 400, false, &r);
    assert_all_pass("gen, warmup (256-slot epochs)", r.full_path, NULL, r.genesis_path);
    adb_test_rmtree(d);
    free(d);
}

/* A database created from a cluster's genesis, snapshotted as created and
 * after a workload of `slots` slots. */
static void
genesis_db_case(char const *label, uint64_t spe, bool warmup, uint64_t slots, bool alter) {
    char                 *d = adb_test_mkdtemp();
    char                  gen[4200], db_dir[4200], out[4200], path[4096];
    acctdb_cluster_opts_t co;
    acctdb_cluster_opts_default(&co);
    co.seed = adb_test_seed();
    co.validators = 5;
    co.slots_per_epoch = spe;
    co.warmup = warmup;
    snprintf(gen, sizeof gen, "%s/genesis.bin", d);
    snprintf(db_dir, sizeof db_dir, "%s/db", d);
    snprintf(out, sizeof out, "%s/out", d);
    assert_int_equal(mkdir(out, 0755), 0);
    char msg[512] = "";
    if (acctdb_cluster_genesis_write(&co, gen, msg, sizeof msg)) fail_msg("genesis: %s", msg);

    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = true;
    cfg.owner_index = true;
    cfg.threads = 2;
    acctdb_db_source_t src = {.genesis_path = gen};
    acctdb_db_t       *db = NULL;
    if (acctdb_db_create(&db, db_dir, &src, &cfg, msg, sizeof msg))
        fail_msg("create from genesis: %s", msg);

    /* As created: the genesis bank. */
    assert_int_equal(acctdb_db_snapshot(db, out, false, path), 0);
    char lbl[200];
    snprintf(lbl, sizeof lbl, "%s, as created (slot 0)", label);
    /* The genesis bank has no block id (Agave's bank 0 has none) and no
     * SlotHashes yet (slot 1 creates it). */
    assert_all_pass_but(lbl, path, NULL, gen, "block id|SlotHashes sysvar");

    acctdb_workload_opts_t wo;
    acctdb_workload_opts_default(&wo);
    wo.slots = slots;
    wo.seed = adb_test_seed();
    wo.stores_min = 10;
    wo.stores_max = 40;
    wo.forks = 2;
    wo.root_lag = 16;
    wo.service_every = 0;
    acctdb_workload_result_t wr;
    int                      rc = acctdb_db_workload(db, &wo, &wr);
    if (rc) fail_msg("workload: %d: %s", rc, acctdb_db_errmsg(db));
    adb_epoch_schedule_t es = adb_epoch_schedule_custom(spe, spe, warmup);
    uint64_t             boundaries = adb_epoch_of(&es, wr.root_slot);
    assert_true(boundaries >= 3);

    assert_int_equal(acctdb_db_snapshot(db, out, false, path), 0);
    snprintf(lbl, sizeof lbl, "%s, root %llu after %llu epoch boundaries", label,
             (unsigned long long)wr.root_slot, (unsigned long long)boundaries);
    assert_all_pass(lbl, path, NULL, gen);
    if (alter) assert_each_check_catches(label, path, gen);

    /* An incremental on top, after more slots (reopened: the workload
     * starts at the root, and close drops the unrooted banks). */
    acctdb_db_close(db);
    db = NULL;
    if (acctdb_db_open(&db, db_dir, &cfg, msg, sizeof msg)) fail_msg("reopen: %s", msg);
    wo.slots = 40;
    wo.seed += 1;
    rc = acctdb_db_workload(db, &wo, &wr);
    if (rc) fail_msg("workload: %d: %s", rc, acctdb_db_errmsg(db));
    char inc[4096];
    assert_int_equal(acctdb_db_snapshot(db, out, true, inc), 0);
    snprintf(lbl, sizeof lbl, "%s, incremental at root %llu", label,
             (unsigned long long)wr.root_slot);
    assert_all_pass(lbl, path, inc, gen);

    acctdb_db_close(db);
    adb_test_rmtree(d);
    free(d);
}

static void
t_genesis_db_warmup(void **state) {
    (void)state;
    /* 256-slot epochs with warmup: boundaries at 32, 96, 224. */
    genesis_db_case("genesis db, warmup", 256, true, 300, true);
}

static void
t_genesis_db_short(void **state) {
    (void)state;
    /* 64-slot epochs, no warmup: boundaries at 64, 128, 192, 256. */
    genesis_db_case("genesis db, 64-slot epochs", 64, false, 300, false);
}

/* A database created from the 3.x pair (a real Agave origin), after a
 * workload crossing its warmup boundaries; no genesis of that cluster is
 * bundled, so the genesis checks are skipped. */
static void
t_real_origin_db(void **state) {
    (void)state;
    char *d = adb_test_mkdtemp();
    char  db_dir[4200], out[4200], path[4096], full[4096], inc[4096];
    snprintf(db_dir, sizeof db_dir, "%s/db", d);
    snprintf(out, sizeof out, "%s/out", d);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(full, sizeof full, "%s", adb_test_data(FV1));
    snprintf(inc, sizeof inc, "%s", adb_test_data(IV1));
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = true;
    cfg.owner_index = true;
    cfg.threads = 2;
    acctdb_db_source_t src = {.full_path = full, .incremental_path = inc};
    acctdb_db_t       *db = NULL;
    char               msg[512];
    if (acctdb_db_create(&db, db_dir, &src, &cfg, msg, sizeof msg)) fail_msg("create: %s", msg);
    acctdb_workload_opts_t wo;
    acctdb_workload_opts_default(&wo);
    wo.slots = 260;
    wo.seed = adb_test_seed();
    wo.stores_min = 10;
    wo.stores_max = 40;
    wo.root_lag = 16;
    wo.service_every = 0;
    acctdb_workload_result_t wr;
    if (acctdb_db_workload(db, &wo, &wr)) fail_msg("workload: %s", acctdb_db_errmsg(db));
    if (acctdb_db_snapshot(db, out, false, path)) fail_msg("snapshot: %s", acctdb_db_errmsg(db));
    assert_all_pass("3.x pair + workload", path, NULL, NULL);
    acctdb_db_close(db);
    adb_test_rmtree(d);
    free(d);
}

/* The bundled Agave archives: nothing fails; the 1.17 pair's bank hash is
 * recomputed (merkle formula) and passes. */
static void
t_agave_archives(void **state) {
    (void)state;
    verdicts_t *v = calloc(1, sizeof *v);
    struct {
        char const *full, *inc, *label;
    } const cases[] = {
        {F42, NULL, "4.2 fixture"},
        {FV1, IV1, "3.x pair"},
        {F17, NULL, "1.17 full"},
        {F17, I17, "1.17 pair"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char full[4096], inc[4096];
        snprintf(full, sizeof full, "%s", adb_test_data(cases[i].full));
        if (cases[i].inc) snprintf(inc, sizeof inc, "%s", adb_test_data(cases[i].inc));
        load(full, cases[i].inc ? inc : NULL, NULL, v);
        for (size_t k = 0; k < v->cnt; k++)
            if (v->status[k] == ACCTDB_CHECK_FAIL)
                fail_msg("%s: %s failed: %s", cases[i].label, v->name[k], v->detail[k]);
        assert_int_equal(v->rc, 0);
        /* With an incremental, both manifests' bank hashes are checked. */
        char const *names[2] = {"bank hash", NULL};
        if (cases[i].inc) {
            names[0] = "full bank hash";
            names[1] = "incremental bank hash";
        }
        for (size_t k = 0; k < 2 && names[k]; k++) {
            int st = verdict(v, names[k]);
            if (st != ACCTDB_CHECK_PASS)
                fail_msg("%s: %s %d: %s", cases[i].label, names[k], st,
                         verdict_detail(v, names[k]));
            print_message("    %s: %zu checks, none fails; %s: %s\n", cases[i].label, v->cnt,
                          names[k], verdict_detail(v, names[k]));
        }
    }
    free(v);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(t_agave_archives),    cmocka_unit_test(t_gen_archives),
    cmocka_unit_test(t_genesis_db_warmup), cmocka_unit_test(t_genesis_db_short),
    cmocka_unit_test(t_real_origin_db),
};
ADB_TEST_GROUP(loader_checks, tests);
