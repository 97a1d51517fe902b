/* Loading real and generated archives: every account record and the live
 * set of the 4.2 fixture against its JSON oracle, the real archives of
 * every era, archive selection from a directory, archives we write against
 * the independent Python reader (tests/oracle), the completion record, and
 * the CLI's outputs. */
#include "../test.h"

#include "db/db.h"
#include "hash/merkle.h"
#include "sim/sim.h"
#include "snapshot/load.h"
#include "snapshot/write.h"
#include "snapshot/status_cache.h"
#include "store/acctfile.h"
#include "util/base58.h"

#include <cjson/cJSON.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define F42     "test-snapshot-v4.2.0-beta.1.tar.zst"
#define J42     "test-snapshot-v4.2.0-beta.1.json"
#define V1_FULL "snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
#define V1_INC  "incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
#define M_FULL  "snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst"
#define M_INC   "incremental-snapshot-10-25-GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS.tar.zst"

static char *
slurp_text(char const *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

/* Opens full(+inc) into a fresh store; returns the handle (must succeed
 * iff want_ok). */
static acctdb_snapshot_t *
open_snap(char const *full, char const *inc, char **dir_out, bool want_ok) {
    char                  *dir = adb_test_mkdtemp();
    char                   store[4200];
    acctdb_snapshot_opts_t o = {0};
    snprintf(store, sizeof store, "%s/store", dir);
    o.store_dir = store;
    acctdb_snapshot_t *s = NULL;
    int                rc = acctdb_snapshot_open(&s, full, inc, &o);
    if ((rc == 0) != want_ok)
        fail_msg("open %s: rc %d: %s", full, rc, s ? acctdb_snapshot_errmsg(s) : "");
    *dir_out = dir;
    return s;
}

static void
close_snap(acctdb_snapshot_t *s, char *dir) {
    acctdb_snapshot_close(s);
    adb_test_rmtree(dir);
    free(dir);
}

static void
assert_all_checks_pass(acctdb_snapshot_t *s) {
    for (size_t i = 0; i < acctdb_snapshot_check_cnt(s); i++) {
        acctdb_check_t c;
        assert_int_equal(acctdb_snapshot_check(s, i, &c), 0);
        if (c.status == ACCTDB_CHECK_FAIL) fail_msg("%s: %s", c.name, c.detail);
    }
}

static acctdb_check_status_t
check_status(acctdb_snapshot_t *s, char const *name) {
    for (size_t i = 0; i < acctdb_snapshot_check_cnt(s); i++) {
        acctdb_check_t c;
        acctdb_snapshot_check(s, i, &c);
        if (!strcmp(c.name, name)) return c.status;
    }
    fail_msg("no check named '%s'", name);
    return ACCTDB_CHECK_FAIL;
}

/* ---- the 4.2 fixture: every record and the live set vs the JSON ------- */

typedef struct rec {
    uint64_t slot;
    uint8_t  pubkey[32], owner[32];
    uint64_t lamports, rent_epoch, data_len;
    bool     exec;
    uint8_t *data;
} rec_t;

/* Reads every record of every storage of the completed load in store. */
static size_t
read_store(char const *store, rec_t *out, size_t max) {
    adb_db_t     *db;
    adb_db_meta_t meta;
    adb_err_t     e = {0};
    assert_int_equal(adb_db_open_loaded(&db, store, &meta, &e), 0);
    size_t n = 0;
    for (uint32_t k = 0; k < adb_db_storage_cnt(db); k++) {
        adb_db_storage_t st;
        assert_int_equal(adb_db_storage_get(db, k, &st), 0);
        uint8_t *b = malloc(st.size + 1);
        assert_int_equal(adb_db_storage_read(db, k, 0, b, st.size), 0);
        adb_acctfile_iter_t it;
        adb_acct_rec_t      r;
        adb_acctfile_iter_init(&it, b, st.valid_len, st.size);
        while (adb_acctfile_iter_next(&it, &r) && n < max) {
            rec_t *o = &out[n++];
            o->slot = st.slot;
            memcpy(o->pubkey, r.pubkey, 32);
            memcpy(o->owner, r.owner, 32);
            o->lamports = r.lamports;
            o->rent_epoch = r.rent_epoch;
            o->data_len = r.data_len;
            o->exec = r.executable;
            o->data = malloc(r.data_len + 1);
            memcpy(o->data, r.data, r.data_len);
        }
        assert_int_equal(it.err.code, 0);
        free(b);
    }
    adb_db_close(db);
    return n;
}

static uint64_t
ju64(cJSON const *o, char const *k) {
    cJSON const *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(v));
    /* Exact for values < 2^53; rent_epoch u64::MAX does not occur here. */
    return (uint64_t)v->valuedouble;
}

/* The u64 value of "key": in a one-line JSON text, exact at any size
 * (cJSON keeps numbers as doubles). */
static uint64_t
jtext_u64(char const *json, char const *key) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    char const *p = strstr(json, pat);
    if (!p) fail_msg("no %s in %.200s", key, json);
    p += strlen(pat);
    while (*p == ' ')
        p++;
    char              *end;
    unsigned long long v = strtoull(p, &end, 10);
    assert_true(end > p);
    return (uint64_t)v;
}

typedef struct live_set {
    uint8_t  pubkey[16][32];
    uint64_t slot[16], lamports[16];
    size_t   n;
} live_set_t;

static int
collect_live(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    live_set_t *l = ctx;
    if (l->n == 16) return -1;
    memcpy(l->pubkey[l->n], a->pubkey.b, 32);
    l->slot[l->n] = slot;
    l->lamports[l->n++] = a->lamports;
    return 0;
}

static void
test_42_accounts_vs_json(void **state) {
    (void)state;
    char              *dir;
    acctdb_snapshot_t *s = open_snap(adb_test_data(F42), NULL, &dir, true);
    assert_all_checks_pass(s);
    assert_int_equal(check_status(s, "name"), ACCTDB_CHECK_SKIP); /* no hash in the name */
    acctdb_snapshot_info_t in;
    acctdb_snapshot_info(s, &in);
    assert_int_equal(in.slot, 100);
    assert_int_equal(in.live_accounts, 8);
    assert_int_equal(in.records, 9);
    assert_int_equal(in.capitalization, 92065762);

    char  *text = slurp_text(adb_test_data(J42));
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    cJSON const *accts = cJSON_GetObjectItemCaseSensitive(root, "accounts");
    cJSON const *ents = cJSON_GetObjectItemCaseSensitive(accts, "entries");
    char         store[4200];
    snprintf(store, sizeof store, "%s/store", dir);
    rec_t  recs[32];
    size_t n = read_store(store, recs, 32);
    assert_int_equal(n, (size_t)cJSON_GetArraySize(ents));
    assert_int_equal(n, ju64(accts, "count"));

    /* Each JSON record equals the record at the same position among the
     * records of its slot. */
    size_t fields = 0;
    for (int j = 0; j < cJSON_GetArraySize(ents); j++) {
        cJSON const *e = cJSON_GetArrayItem(ents, j);
        uint64_t     slot = ju64(e, "slot");
        int          pos = 0;
        for (int k = 0; k < j; k++)
            pos += ju64(cJSON_GetArrayItem(ents, k), "slot") == slot;
        rec_t *r = NULL;
        for (size_t i = 0; i < n && !r; i++)
            if (recs[i].slot == slot && pos-- == 0) r = &recs[i];
        assert_non_null(r);
        uint8_t pk[32], ow[32], data[200000];
        assert_int_equal(
            acctdb_base58_decode_32(cJSON_GetObjectItemCaseSensitive(e, "pubkey")->valuestring, pk),
            0);
        assert_int_equal(
            acctdb_base58_decode_32(cJSON_GetObjectItemCaseSensitive(e, "owner")->valuestring, ow),
            0);
        int dl = adb_test_unhex(data, sizeof data,
                                cJSON_GetObjectItemCaseSensitive(e, "data_hex")->valuestring);
        assert_memory_equal(r->pubkey, pk, 32);
        assert_memory_equal(r->owner, ow, 32);
        assert_true(r->lamports == ju64(e, "lamports"));
        assert_true(r->rent_epoch == ju64(e, "rent_epoch"));
        assert_int_equal(r->exec, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "executable")));
        assert_int_equal(r->data_len, ju64(e, "data_len"));
        assert_int_equal((uint64_t)dl, r->data_len);
        assert_memory_equal(r->data, data, r->data_len);
        fields += 8;
    }
    /* The live set equals the JSON's live_indices. */
    live_set_t live = {0};
    assert_int_equal(acctdb_snapshot_iterate(s, NULL, collect_live, &live), 0);
    cJSON const *li = cJSON_GetObjectItemCaseSensitive(accts, "live_indices");
    assert_int_equal(live.n, (size_t)cJSON_GetArraySize(li));
    assert_int_equal(live.n, ju64(accts, "live_count"));
    for (int k = 0; k < cJSON_GetArraySize(li); k++) {
        cJSON const *e = cJSON_GetArrayItem(ents, cJSON_GetArrayItem(li, k)->valueint);
        uint8_t      pk[32];
        acctdb_base58_decode_32(cJSON_GetObjectItemCaseSensitive(e, "pubkey")->valuestring, pk);
        bool found = false;
        for (size_t i = 0; i < live.n; i++)
            found |= !memcmp(live.pubkey[i], pk, 32) && live.slot[i] == ju64(e, "slot") &&
                     live.lamports[i] == ju64(e, "lamports");
        assert_true(found);
        fields += 3;
    }
    printf("  4.2 fixture: %zu account records and %zu live accounts compared (%zu fields)\n", n,
           live.n, fields);
    /* get: present, superseded-but-live, absent. */
    acctdb_account_t a;
    uint64_t         slot;
    acctdb_pubkey_t  pk;
    acctdb_base58_decode_32("29d2S7vB453rNYFdR5Ycwt7y9haRT5fwVwL9zTmBhfV2", pk.b);
    assert_int_equal(acctdb_snapshot_get(s, &pk, &a, &slot), 0);
    assert_int_equal(slot, 100); /* the slot-100 version wins over slot 98 */
    assert_int_equal(a.lamports, 1000000);
    memset(pk.b, 7, 32);
    assert_int_equal(acctdb_snapshot_get(s, &pk, &a, &slot), ACCTDB_ERR_NOT_FOUND);
    for (size_t i = 0; i < n; i++)
        free(recs[i].data);
    cJSON_Delete(root);
    close_snap(s, dir);
}

static void
test_42_renamed_with_hash(void **state) {
    (void)state;
    char *dir = adb_test_mkdtemp(), path[4200];
    snprintf(path, sizeof path,
             "%s/snapshot-100-7G3gw9TmwzT24jhJQyrPnH2QaKUZ7MHWGG9KW8XaPbDb.tar.zst", dir);
    assert_int_equal(adb_test_sh(NULL, 0, "cp '%s' '%s'", adb_test_data(F42), path), 0);
    char              *d2;
    acctdb_snapshot_t *s = open_snap(path, NULL, &d2, true);
    assert_all_checks_pass(s);
    assert_int_equal(check_status(s, "name"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "lattice hash"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "bank hash"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "status cache"), ACCTDB_CHECK_PASS);
    close_snap(s, d2);
    /* The same bytes under a wrong hash fail the name check. */
    snprintf(path, sizeof path, "%s/snapshot-100-11111111111111111111111111111111.tar.zst", dir);
    assert_int_equal(adb_test_sh(NULL, 0, "cp '%s' '%s'", adb_test_data(F42), path), 0);
    s = open_snap(path, NULL, &d2, false);
    assert_int_equal(check_status(s, "name"), ACCTDB_CHECK_FAIL);
    assert_non_null(strstr(acctdb_snapshot_errmsg(s), "name check failed"));
    close_snap(s, d2);
    /* --strict-name turns the skipped name check into an error. */
    acctdb_snapshot_opts_t o = {.strict_name = true};
    char                   store[4200];
    snprintf(store, sizeof store, "%s/strict", dir);
    o.store_dir = store;
    assert_int_equal(acctdb_snapshot_open(&s, adb_test_data(F42), NULL, &o), ACCTDB_ERR_MISMATCH);
    acctdb_snapshot_close(s);
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_v1_lattice_pair(void **state) {
    (void)state;
    char                  *dir;
    acctdb_snapshot_t     *s = open_snap(adb_test_data(V1_FULL), NULL, &dir, true);
    acctdb_snapshot_info_t in;
    acctdb_snapshot_info(s, &in);
    assert_int_equal(in.live_accounts, 21);
    char b[ACCTDB_BASE58_32_SZ];
    assert_string_equal(acctdb_base58_encode_32(in.lt_checksum, b),
                        "5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7");
    assert_int_equal(check_status(s, "name"), ACCTDB_CHECK_PASS);
    close_snap(s, dir);

    s = open_snap(adb_test_data(V1_FULL), adb_test_data(V1_INC), &dir, true);
    assert_all_checks_pass(s);
    acctdb_snapshot_info(s, &in);
    assert_int_equal(in.live_accounts, 21);
    assert_int_equal(in.slot, 4);
    assert_int_equal(in.base_slot, 1);
    assert_string_equal(in.era, "lattice");
    assert_string_equal(acctdb_base58_encode_32(in.lt_checksum, b),
                        "43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR");
    assert_int_equal(check_status(s, "full name"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "incremental name"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "incremental lattice hash"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "incremental bank hash"), ACCTDB_CHECK_PASS);
    close_snap(s, dir);
}

static void
test_merkle_pair(void **state) {
    (void)state;
    char              *dir;
    acctdb_snapshot_t *s = open_snap(adb_test_data(M_FULL), adb_test_data(M_INC), &dir, true);
    assert_all_checks_pass(s);
    acctdb_snapshot_info_t in;
    acctdb_snapshot_info(s, &in);
    assert_string_equal(in.era, "merkle");
    assert_int_equal(check_status(s, "full name"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "incremental name"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "incremental persistence"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(s, "status cache"), ACCTDB_CHECK_PASS);
    acctdb_check_t c;
    for (size_t i = 0; i < acctdb_snapshot_check_cnt(s); i++) {
        acctdb_snapshot_check(s, i, &c);
        if (!strcmp(c.name, "full name")) assert_non_null(strstr(c.detail, "over 211 accounts"));
        if (!strcmp(c.name, "incremental name"))
            assert_non_null(strstr(c.detail, "over 6 accounts"));
    }
    close_snap(s, dir);
    /* The full alone: its name is the merkle hash over 211 accounts. */
    s = open_snap(adb_test_data(M_FULL), NULL, &dir, true);
    acctdb_snapshot_info(s, &in);
    assert_int_equal(in.live_accounts, 211);
    close_snap(s, dir);
}

static void
test_dir_selection(void **state) {
    (void)state;
    char full[4096], inc[4096], msg[512];
    /* tests/data holds fulls 1 and 10 and incrementals 1-4 and 10-25. */
    assert_int_equal(
        acctdb_snapshot_find("tests/data", full, sizeof full, inc, sizeof inc, msg, sizeof msg), 0);
    assert_non_null(strstr(full, M_FULL));
    assert_non_null(strstr(inc, M_INC));
    /* A directory with only the slot-1 full and the slot-10 incremental:
     * no incremental matches. */
    char *dir = adb_test_mkdtemp();
    assert_int_equal(adb_test_sh(NULL, 0,
                                 "cp '%s' '%s' '%s/'; touch '%s/tmp-snapshot-99-x.tar.zst'",
                                 adb_test_data(V1_FULL), adb_test_data(M_INC), dir, dir),
                     0);
    assert_int_equal(acctdb_snapshot_find(dir, full, sizeof full, inc, sizeof inc, msg, sizeof msg),
                     0);
    assert_non_null(strstr(full, V1_FULL));
    assert_string_equal(inc, "");
    /* Incrementals in remote/ count too. */
    assert_int_equal(adb_test_sh(NULL, 0, "mkdir '%s/remote' && cp '%s' '%s/remote/'", dir,
                                 adb_test_data(V1_INC), dir),
                     0);
    assert_int_equal(acctdb_snapshot_find(dir, full, sizeof full, inc, sizeof inc, msg, sizeof msg),
                     0);
    assert_non_null(strstr(inc, V1_INC));
    adb_test_rmtree(dir);
    free(dir);
    /* No full at all. */
    dir = adb_test_mkdtemp();
    assert_int_equal(acctdb_snapshot_find(dir, full, sizeof full, inc, sizeof inc, msg, sizeof msg),
                     ACCTDB_ERR_NOT_FOUND);
    assert_non_null(strstr(msg, "no full snapshot archive"));
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- archives we write vs the oracle ------------------------------------ */

typedef struct lines {
    char  *buf;
    size_t n;
} lines_t;

static void
compare_with_oracle(char const *full, char const *inc, acctdb_snapshot_t *s) {
    char const *tool = adb_test_tool();
    assert_non_null(tool);
    static char ours[8 << 20], theirs[8 << 20];
    int rc = adb_test_sh(ours, sizeof ours, "'%s' snapshot ls --quiet '%s' %s%s%s", tool, full,
                         inc ? "'" : "", inc ? inc : "", inc ? "'" : "");
    assert_int_equal(rc, 0);
    rc = adb_test_sh(theirs, sizeof theirs,
                     "python3 tests/oracle/oracle.py --json --list '%s' %s%s%s", full,
                     inc ? "'" : "", inc ? inc : "", inc ? "'" : "");
    if (rc) fail_msg("oracle failed on %s: %.500s", full, theirs);
    /* Line 1 of the oracle: its summary. */
    char *nl = strchr(theirs, '\n');
    assert_non_null(nl);
    *nl = 0;
    cJSON *sum = cJSON_Parse(theirs);
    assert_non_null(sum);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "ok")));
    acctdb_snapshot_info_t in;
    acctdb_snapshot_info(s, &in);
    char b[ACCTDB_BASE58_32_SZ];
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sum, "lt_checksum")->valuestring,
                        acctdb_base58_encode_32(in.lt_checksum, b));
    assert_int_equal(jtext_u64(theirs, "live_count"), in.live_accounts);
    assert_int_equal(jtext_u64(theirs, "capitalization"), in.capitalization);
    assert_int_equal(jtext_u64(theirs, "accounts_data_len"), in.accounts_data_len);
    cJSON_Delete(sum);
    /* The account lists, line by line, field by field. */
    char  *p = ours, *q = nl + 1;
    size_t cnt = 0;
    while (*p && *q) {
        char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
        assert_non_null(pe);
        assert_non_null(qe);
        *pe = *qe = 0;
        cJSON *x = cJSON_Parse(p), *y = cJSON_Parse(q);
        assert_non_null(x);
        assert_non_null(y);
        char const *keys[] = {"pubkey", "owner", "data"};
        for (int k = 0; k < 3; k++)
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(x, keys[k])->valuestring,
                                cJSON_GetObjectItemCaseSensitive(y, keys[k])->valuestring);
        char const *nums[] = {"lamports", "data_len", "slot"};
        for (int k = 0; k < 3; k++)
            assert_true(ju64(x, nums[k]) == ju64(y, nums[k]));
        /* rent_epoch is often u64::MAX, beyond a double: compare the text. */
        char rp[32], rq[32];
        assert_int_equal(sscanf(strstr(p, "\"rent_epoch\":") + 13, " %31[0-9]", rp), 1);
        assert_int_equal(sscanf(strstr(q, "\"rent_epoch\":") + 13, " %31[0-9]", rq), 1);
        assert_string_equal(rp, rq);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "executable")),
                         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(y, "executable")));
        cJSON_Delete(x);
        cJSON_Delete(y);
        p = pe + 1;
        q = qe + 1;
        cnt++;
    }
    assert_true(*p == 0 && *q == 0);
    assert_int_equal(cnt, in.live_accounts);
}

static void
test_written_archives_vs_oracle(void **state) {
    (void)state;
    char const *tool = adb_test_tool();
    if (!tool) fail_msg("acctdb binary not built");
    size_t   rounds = adb_test_scaled(6);
    uint64_t seed = adb_test_seed();
    for (size_t r = 0; r < rounds; r++) {
        char    *dir = adb_test_mkdtemp();
        uint64_t n = 50 + (seed + r * 7919) % 950; /* up to 1,000 accounts */
        uint64_t m = 1 + (seed + r) % 200;
        assert_int_equal(adb_test_sh(NULL, 0,
                                     "'%s' snapshot gen --quiet --accounts %llu --slots %llu "
                                     "--incremental %llu --seed %llu --out '%s' >/dev/null",
                                     tool, (unsigned long long)n, (unsigned long long)(2 + r * 5),
                                     (unsigned long long)m, (unsigned long long)(seed + r), dir),
                         0);
        char full[4096], inc[4096], msg[256];
        assert_int_equal(
            acctdb_snapshot_find(dir, full, sizeof full, inc, sizeof inc, msg, sizeof msg), 0);
        char              *d2;
        acctdb_snapshot_t *s = open_snap(full, NULL, &d2, true);
        assert_all_checks_pass(s);
        compare_with_oracle(full, NULL, s);
        close_snap(s, d2);
        s = open_snap(full, inc, &d2, true);
        assert_all_checks_pass(s);
        compare_with_oracle(full, inc, s);
        close_snap(s, d2);
        /* The manifests and status caches we wrote decode and re-encode to
         * the same bytes. */
        adb_load_opts_t lo;
        adb_load_opts_default(&lo);
        lo.manifest_only = true;
        adb_snap_t *ms;
        assert_int_equal(adb_snap_load(&ms, full, inc, &lo), 0);
        for (int k = 0; k < 2; k++) {
            adb_archive_info_t const *ai = k ? &ms->inc : &ms->full;
            uint8_t                  *enc;
            size_t                    esz;
            assert_true(ai->has_manifest);
            assert_int_equal(adb_manifest_encode_buf(&ai->manifest, &enc, &esz), 0);
            assert_int_equal(esz, ai->manifest_raw_sz);
            assert_memory_equal(enc, ai->manifest_raw, esz);
            adb_free(enc);
            adb_status_cache_t sc;
            adb_err_t          e = {0};
            assert_int_equal(
                adb_status_cache_decode(ai->status_cache_raw, ai->status_cache_raw_sz, 0, &sc, &e),
                0);
            assert_int_equal(adb_status_cache_encode_buf(&sc, &enc, &esz), 0);
            assert_int_equal(esz, ai->status_cache_raw_sz);
            assert_memory_equal(enc, ai->status_cache_raw, esz);
            adb_free(enc);
            adb_status_cache_fini(&sc);
        }
        adb_snap_close(ms);
        /* GNU tar lists our archives. */
        assert_int_equal(adb_test_sh(NULL, 0, "zstd -dc '%s' | tar -t >/dev/null", full), 0);
        adb_test_rmtree(dir);
        free(dir);
    }
    printf("  %zu generated full+incremental pairs agree with tests/oracle\n", rounds);
}

static void
test_generator_deterministic(void **state) {
    (void)state;
    char const *tool = adb_test_tool();
    assert_non_null(tool);
    char *a = adb_test_mkdtemp(), *b = adb_test_mkdtemp();
    char  out[1024];
    for (int k = 0; k < 2; k++)
        assert_int_equal(adb_test_sh(NULL, 0,
                                     "'%s' snapshot gen --quiet --accounts 3000 --incremental 300 "
                                     "--seed 42 --threads %d --out '%s' >/dev/null",
                                     tool, k + 1, k ? b : a),
                         0);
    assert_int_equal(adb_test_sh(out, sizeof out,
                                 "cd '%s' && ls && sha256sum * | awk '{print $1}' > /tmp/h1.$$ && "
                                 "cd '%s' && sha256sum * | awk '{print $1}' | cmp - /tmp/h1.$$; "
                                 "r=$?; rm -f /tmp/h1.$$; exit $r",
                                 a, b),
                     0);
    /* --max-bytes refuses before writing anything. */
    char *c = adb_test_mkdtemp();
    assert_int_equal(adb_test_sh(out, sizeof out,
                                 "'%s' snapshot gen --accounts 100000 --max-bytes 1M --out '%s' "
                                 "2>&1; echo rc=$?; ls '%s' | wc -l",
                                 tool, c, c),
                     0);
    assert_non_null(strstr(out, "over --max-bytes"));
    assert_non_null(strstr(out, "rc=2\n0\n"));
    adb_test_rmtree(a), adb_test_rmtree(b), adb_test_rmtree(c);
    free(a), free(b), free(c);
}

/* ---- the transitional era (Agave ~2.1) ----------------------------------
 * No such archive is bundled, so one is built: a generated archive whose
 * manifest carries the lattice hash of the LEGACY per-account formula
 * (with rent_epoch), a non-zero accounts delta hash and the bank hash of
 * the 2.1 formula, and whose name is the merkle accounts hash, as the 2024
 * archives FORMAT.md 1.3 and 9 describe.  The expected bank hash is
 * computed here with OpenSSL directly, not with the library's code. */

/* SHA-256(parent || delta || sig || last), then SHA-256(h || lt hash). */
static void
bank_hash_21(adb_manifest_t const *m, uint8_t out[32]) {
    uint8_t p1[32 + 32 + 8 + 32], p2[32 + 2048];
    memcpy(p1, m->bank.parent_hash.b, 32);
    memcpy(p1 + 32, m->accounts_db.bank_hash_info.accounts_delta_hash.b, 32);
    for (int i = 0; i < 8; i++)
        p1[64 + i] = (uint8_t)(m->bank.signature_count >> (8 * i));
    memcpy(p1 + 72, m->bank.blockhash_queue.last_hash.b, 32);
    SHA256(p1, sizeof p1, p2);
    memcpy(p2 + 32, m->extra.accounts_lt_hash, 2048);
    SHA256(p2, sizeof p2, out);
}

typedef struct leaves {
    uint8_t *v;
    size_t   n, cap;
} leaves_t;

static int
leaf_cb(void *ctx, adb_db_acct_t const *a) {
    leaves_t *l = ctx;
    if (l->n == l->cap) l->v = realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 1024) * 32);
    adb_merkle_leaf(&a->a, l->v + 32 * l->n++);
    return 0;
}

typedef struct stor {
    uint8_t **bytes;
    uint64_t *sz;
} stor_t;

static int
emit_mem(void *ctx, size_t i, adb_snap_out_t *out) {
    stor_t *st = ctx;
    return adb_snap_out_data(out, st->bytes[i], st->sz[i]);
}

static void
test_transitional_era(void **state) {
    (void)state;
    char          *dir = adb_test_mkdtemp(), gdir[4200], store[4200], out[4200];
    adb_gen_opts_t go = {.accounts = 400, .slots = 12, .seed = adb_test_seed(), .threads = 1};
    snprintf(gdir, sizeof gdir, "%s/gen", dir);
    snprintf(store, sizeof store, "%s/store", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(mkdir(gdir, 0755) | mkdir(out, 0755), 0);
    go.out_dir = gdir;
    adb_gen_result_t gr;
    adb_err_t        e = {0};
    assert_int_equal(adb_gen_run(&go, &gr, &e), 0);

    adb_load_opts_t lo;
    adb_load_opts_default(&lo);
    lo.store_dir = store;
    adb_snap_t *s;
    assert_int_equal(adb_snap_load(&s, gr.full_path, NULL, &lo), 0);
    /* The legacy lattice hash and the merkle hash of the same live set. */
    acctdb_lthash_t legacy;
    assert_int_equal(adb_db_lthash_live(s->db, ACCTDB_LTHASH_LEGACY, &legacy), 0);
    leaves_t lv = {0};
    assert_int_equal(adb_db_visit_sorted(s->db, false, leaf_cb, &lv), 0);
    uint8_t merkle[32];
    assert_int_equal(adb_merkle_root(lv.v, lv.n, merkle), 0);
    free(lv.v);
    /* Rewrite the archive with that lattice hash in its manifest. */
    adb_manifest_t m;
    assert_int_equal(adb_manifest_decode(s->full.manifest_raw, s->full.manifest_raw_sz, 0, &m, &e),
                     0);
    memcpy(m.extra.accounts_lt_hash, legacy.v, sizeof legacy.v);
    for (int i = 0; i < 32; i++) /* a 2.1 bank still carried its accounts delta hash */
        m.accounts_db.bank_hash_info.accounts_delta_hash.b[i] = (uint8_t)(0x5a ^ i);
    uint8_t want_bh[32], lattice_bh[32];
    bank_hash_21(&m, want_bh);
    {
        adb_manifest_t l = m; /* the same fields under the lattice-era formula */
        memset(l.accounts_db.bank_hash_info.accounts_delta_hash.b, 0, 32);
        assert_int_equal(adb_manifest_bank_hash(&l, lattice_bh), 0);
    }
    uint32_t            n = adb_db_storage_cnt(s->db);
    adb_snap_storage_t *st = calloc(n, sizeof *st);
    stor_t              sb = {calloc(n, sizeof(uint8_t *)), calloc(n, sizeof(uint64_t))};
    for (uint32_t i = 0; i < n; i++) {
        adb_db_storage_t d;
        assert_int_equal(adb_db_storage_get(s->db, i, &d), 0);
        sb.bytes[i] = malloc(d.size);
        sb.sz[i] = d.size;
        assert_int_equal(adb_db_storage_read(s->db, i, 0, sb.bytes[i], d.size), 0);
        st[i] = (adb_snap_storage_t){d.slot, i + 1, d.size};
    }
    adb_snap_write_opts_t wo = {.workers = 1};
    char                  written[4096];
    assert_int_equal(adb_snap_write(out, &m, s->full.status_cache_raw, s->full.status_cache_raw_sz,
                                    st, n, emit_mem, &sb, &wo, written, NULL, &e),
                     0);
    /* ... and give it the merkle-era name. */
    char named[4400], b[ACCTDB_BASE58_32_SZ];
    snprintf(named, sizeof named, "%s/snapshot-%llu-%s.tar.zst", out,
             (unsigned long long)m.bank.slot, acctdb_base58_encode_32(merkle, b));
    assert_int_equal(rename(written, named), 0);
    for (uint32_t i = 0; i < n; i++)
        free(sb.bytes[i]);
    free(sb.bytes), free(sb.sz), free(st);
    adb_manifest_fini(&m);
    adb_snap_close(s);

    char                  *d2;
    acctdb_snapshot_t     *h = open_snap(named, NULL, &d2, true);
    acctdb_snapshot_info_t in;
    acctdb_snapshot_info(h, &in);
    assert_string_equal(in.era, "transitional");
    assert_string_equal(in.lt_formula, "legacy (with rent_epoch)");
    assert_int_equal(check_status(h, "name"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(h, "lattice hash"), ACCTDB_CHECK_PASS);
    assert_int_equal(check_status(h, "bank hash"), ACCTDB_CHECK_PASS);
    assert_all_checks_pass(h);
    /* The writer put the 2.1 bank hash in, as computed independently above;
     * the lattice-era formula (no delta hash) would give another value: the
     * false mismatch older verifiers reported. */
    assert_memory_equal(in.bank_hash.b, want_bh, 32);
    assert_memory_not_equal(lattice_bh, want_bh, 32);
    close_snap(h, d2);
    /* Under a name that is neither hash, the name check fails with values. */
    char wrong[4400];
    snprintf(wrong, sizeof wrong, "%s/snapshot-%llu-11111111111111111111111111111111.tar.zst", out,
             (unsigned long long)in.slot);
    assert_int_equal(rename(named, wrong), 0);
    h = open_snap(wrong, NULL, &d2, false);
    assert_int_equal(check_status(h, "name"), ACCTDB_CHECK_FAIL);
    close_snap(h, d2);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- completion record -------------------------------------------------- */

static void
test_completion_record(void **state) {
    (void)state;
    char                  *dir;
    acctdb_snapshot_t     *s = open_snap(adb_test_data(V1_FULL), adb_test_data(V1_INC), &dir, true);
    acctdb_snapshot_info_t in;
    acctdb_snapshot_info(s, &in);
    acctdb_snapshot_close(s);
    char store[4200];
    snprintf(store, sizeof store, "%s/store", dir);
    adb_db_t     *db;
    adb_db_meta_t meta;
    adb_err_t     e = {0};
    assert_int_equal(adb_db_open_loaded(&db, store, &meta, &e), 0);
    assert_int_equal(meta.slot, 4);
    assert_int_equal(meta.base_slot, 1);
    assert_int_equal(meta.totals.live_cnt, 21);
    assert_true(meta.totals.capitalization == in.capitalization);
    /* Reopened, the index answers the same. */
    acctdb_pubkey_t pk;
    acctdb_base58_decode_32("SysvarS1otHistory11111111111111111111111111", pk.b);
    adb_db_acct_t a;
    uint8_t      *buf = NULL;
    size_t        cap = 0;
    assert_int_equal(adb_db_get(db, pk.b, &a, &buf, &cap), 0);
    assert_int_equal(a.slot, 4);
    adb_free(buf);
    adb_db_close(db);
    /* A damaged record is refused: the load's commit record (gen 1, in
     * slot 1 of acctdb.commit) names catalog-1, whose checksum it holds. */
    char meta_path[4300], cat_path[4300];
    snprintf(meta_path, sizeof meta_path, "%s/acctdb.commit", store);
    snprintf(cat_path, sizeof cat_path, "%s/catalog-1", store);
    FILE *f = fopen(cat_path, "r+b");
    assert_non_null(f);
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
    memset(&e, 0, sizeof e);
    assert_int_equal(adb_db_open_loaded(&db, store, &meta, &e), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "checksum"));
    /* A newer format version is refused by name. */
    f = fopen(meta_path, "r+b");
    assert_non_null(f);
    fseek(f, 4096 + 8, SEEK_SET);
    fputc(99, f);
    fclose(f);
    memset(&e, 0, sizeof e);
    assert_int_equal(adb_db_open_loaded(&db, store, &meta, &e), ACCTDB_ERR_UNSUPPORTED_VERSION);
    assert_non_null(strstr(e.msg, "newer"));
    /* No record at all: an incomplete load. */
    unlink(meta_path);
    memset(&e, 0, sizeof e);
    assert_int_equal(adb_db_open_loaded(&db, store, &meta, &e), ACCTDB_ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "incomplete load"));
    /* A store directory that already holds a load is refused. */
    acctdb_snapshot_opts_t o = {.store_dir = store};
    assert_int_equal(acctdb_snapshot_open(&s, adb_test_data(V1_FULL), NULL, &o),
                     ACCTDB_ERR_INVALID);
    assert_non_null(strstr(acctdb_snapshot_errmsg(s), "use an empty directory"));
    acctdb_snapshot_close(s);
    adb_test_rmtree(dir);
    free(dir);
}

/* ---- genesis and the CLI ------------------------------------------------- */

static int
count_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)a;
    assert_int_equal(slot, 0);
    ++*(size_t *)ctx;
    return 0;
}

static void
test_genesis_as_slot0(void **state) {
    (void)state;
    acctdb_genesis_info_t gi;
    char                  msg[256];
    assert_int_equal(acctdb_genesis_info(adb_test_data("devnet_genesis.bin"), &gi, msg, sizeof msg),
                     0);
    char h[ACCTDB_BASE58_32_SZ];
    assert_string_equal(acctdb_base58_encode_32(gi.hash.b, h),
                        "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG");
    assert_int_equal(gi.cluster_type, 2);
    assert_int_equal(gi.accounts, 423);
    char                  *dir = adb_test_mkdtemp(), store[4200];
    acctdb_snapshot_opts_t o = {0};
    snprintf(store, sizeof store, "%s/g", dir);
    o.store_dir = store;
    acctdb_snapshot_t *s;
    assert_int_equal(acctdb_genesis_open(&s, adb_test_data("devnet_genesis.bin"), &o), 0);
    /* The 423 genesis accounts and the six sysvars of bank 0 (StakeHistory,
     * Clock, Rent, EpochSchedule, RecentBlockhashes, SlotHistory). */
    size_t n = 0;
    assert_int_equal(acctdb_snapshot_iterate(s, NULL, count_cb, &n), 0);
    assert_int_equal(n, 429);
    acctdb_snapshot_info_t in;
    acctdb_snapshot_info(s, &in);
    assert_true(in.capitalization > gi.capitalization); /* + the sysvars' rent (test_engine) */
    acctdb_snapshot_close(s);
    /* Malformed genesis: named error. */
    assert_int_equal(adb_test_sh(NULL, 0, "head -c 5000 '%s' > '%s/bad.bin'",
                                 adb_test_data("devnet_genesis.bin"), dir),
                     0);
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/bad.bin", dir);
    assert_int_equal(acctdb_genesis_info(bad, &gi, msg, sizeof msg), ACCTDB_ERR_CORRUPT);
    assert_non_null(strstr(msg, "offset"));
    adb_test_rmtree(dir);
    free(dir);
}

static void
test_cli_outputs(void **state) {
    (void)state;
    char const *tool = adb_test_tool();
    assert_non_null(tool);
    static char out[1 << 20];
    /* ls: one JSON object per live account. */
    assert_int_equal(
        adb_test_sh(out, sizeof out, "'%s' snapshot ls '%s' | wc -l", tool, adb_test_data(F42)), 0);
    assert_string_equal(out, "8\n");
    /* --owner filter: the two vote accounts. */
    assert_int_equal(
        adb_test_sh(out, sizeof out,
                    "'%s' snapshot ls --owner Vote111111111111111111111111111111111111111 "
                    "'%s' | wc -l",
                    tool, adb_test_data(F42)),
        0);
    assert_string_equal(out, "2\n");
    /* get: exact u64 and exit status 1 when absent. */
    assert_int_equal(adb_test_sh(out, sizeof out, "'%s' snapshot get '%s' %s", tool,
                                 adb_test_data(V1_FULL),
                                 "SysvarRent111111111111111111111111111111111"),
                     0);
    assert_non_null(strstr(out, "\"pubkey\":\"SysvarRent111111111111111111111111111111111\""));
    assert_int_equal(adb_test_sh(NULL, 0, "'%s' snapshot get '%s' %s 2>/dev/null", tool,
                                 adb_test_data(V1_FULL),
                                 "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"),
                     1);
    /* manifest --json parses and carries the slot. */
    assert_int_equal(adb_test_sh(out, sizeof out, "'%s' snapshot manifest --json '%s'", tool,
                                 adb_test_data(F42)),
                     0);
    cJSON *m = cJSON_Parse(out);
    assert_non_null(m);
    cJSON const *bank = cJSON_GetObjectItemCaseSensitive(m, "bank_fields");
    assert_int_equal(ju64(bank, "slot"), 100);
    cJSON_Delete(m);
    /* verify exit status: 0 all good, 1 on a mismatch. */
    assert_int_equal(adb_test_sh(NULL, 0, "'%s' snapshot verify --dir tests/data >/dev/null", tool),
                     0);
    /* info on the generated pair via --dir prints the era. */
    assert_int_equal(adb_test_sh(out, sizeof out, "'%s' snapshot info '%s' '%s'", tool,
                                 adb_test_data(V1_FULL), adb_test_data(V1_INC)),
                     0);
    assert_non_null(strstr(out, "live accounts:        21"));
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_42_accounts_vs_json),
    cmocka_unit_test(test_42_renamed_with_hash),
    cmocka_unit_test(test_v1_lattice_pair),
    cmocka_unit_test(test_merkle_pair),
    cmocka_unit_test(test_dir_selection),
    cmocka_unit_test(test_written_archives_vs_oracle),
    cmocka_unit_test(test_generator_deterministic),
    cmocka_unit_test(test_transitional_era),
    cmocka_unit_test(test_completion_record),
    cmocka_unit_test(test_genesis_as_slot0),
    cmocka_unit_test(test_cli_outputs),
};
ADB_TEST_GROUP(load, tests);
