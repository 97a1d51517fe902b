/* `acctdb state ...` end to end on the bundled 1.17-era pair (the one with compressible accounts)
 * (docs/STATE.md): compress the idle accounts, see them compressed
 * (`db get`), write a snapshot and check it by `acctdb snapshot verify` and
 * the Python oracle (Agave's rules: a compressed account is an ordinary
 * account whose data is its hash), create a database from that archive
 * (its sidecar carries the compression and the trie's root), prove a
 * compressed and an absent key and check the proofs (`state prove`,
 * `verify-proof`, `check-create`), decompress with wrong data (exit
 * 1, nothing changes) and with the right data (the original account
 * back); a sidecar of another archive and a damaged one fail the creation
 * and leave nothing. */
#include "../test.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FULL_NAME "snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst"
#define INC_NAME  "incremental-snapshot-10-25-GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS.tar.zst"
#define KEYS_MAX  64

static char g_out[1 << 20];

typedef struct found {
    acctdb_db_t    *db;
    uint64_t        slot;
    acctdb_pubkey_t keys[KEYS_MAX];
    uint8_t        *data[KEYS_MAX];
    size_t          len[KEYS_MAX];
    size_t          n;
} found_t;

/* Every account of the original pair that the database holds compressed,
 * with its original data. */
static int
find_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    (void)slot;
    found_t            *f = ctx;
    acctdb_compressed_t ci;
    if (f->n == KEYS_MAX || acctdb_db_compressed_info(f->db, f->slot, &a->pubkey, &ci)) return 0;
    assert_int_equal(ci.orig_len, a->data_len);
    uint8_t h[32];
    acctdb_blake3(a->data, (size_t)a->data_len, h, 32);
    assert_memory_equal(ci.data_hash.b, h, 32);
    f->keys[f->n] = a->pubkey;
    f->data[f->n] = malloc((size_t)a->data_len);
    memcpy(f->data[f->n], a->data, (size_t)a->data_len);
    f->len[f->n] = (size_t)a->data_len;
    f->n++;
    return 0;
}

static void
write_file(char const *path, void const *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static cJSON *
get_json(char const *tool, char const *db, char const *key) {
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db get '%s' %s", tool, db, key);
    if (rc) fail_msg("db get %s: exit %d: %s", key, rc, g_out);
    cJSON *j = cJSON_Parse(g_out);
    if (!j) fail_msg("db get: not JSON: %s", g_out);
    return j;
}

static cJSON *
get_json_file(char const *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(g_out, 1, sizeof g_out - 1, fp);
    fclose(fp);
    g_out[n] = 0;
    cJSON *j = cJSON_Parse(g_out);
    if (!j) fail_msg("%s is not JSON: %s", path, g_out);
    return j;
}

static void
test_cli_state(void **state) {
    (void)state;
    char const *tool = adb_test_tool_or_skip();
    char       *dir = adb_test_mkdtemp();
    char        db[4200], db2[4200], arch[4200], path[4400], k58[ACCTDB_BASE58_32_SZ];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(db2, sizeof db2, "%s/db2", dir);
    snprintf(arch, sizeof arch, "%s/arch", dir);
    int rc = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s' --from '%s' '%s' 2>&1",
                         tool, db, adb_test_data(FULL_NAME), adb_test_data(INC_NAME));
    if (rc) fail_msg("db create: exit %d: %s", rc, g_out);

    /* Usage errors. */
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' state compress '%s' 2>&1", tool, db),
                     2);
    assert_non_null(strstr(g_out, "--idle-slots"));
    assert_int_equal(
        adb_test_sh(g_out, sizeof g_out, "'%s' state compress '%s' --idle-slots x 2>&1", tool, db),
        2);
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "'%s' state frobnicate 2>&1", tool), 2);

    /* Compress everything idle for a slot or more. */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state compress '%s' --idle-slots 1 2>&1", tool, db);
    if (rc) fail_msg("state compress: exit %d: %s", rc, g_out);
    unsigned long long cand = 0, comp = 0;
    char const        *p = strstr(g_out, "accounts idle");
    assert_non_null(p);
    assert_int_equal(sscanf(strstr(g_out, ": ") + 2, "%llu accounts idle", &cand), 1);
    p = strstr(g_out, " slots or more, ");
    assert_non_null(p);
    assert_int_equal(sscanf(p + 16, "%llu compressed", &comp), 1);
    assert_true(comp >= 1 && comp <= cand);

    /* Which ones: the original pair's accounts the database holds
     * compressed. */
    acctdb_db_config_t cfg;
    acctdb_db_config_default(&cfg);
    cfg.background = false;
    found_t f = {0};
    assert_int_equal(acctdb_db_open(&f.db, db, &cfg, NULL, 0), 0);
    f.slot = acctdb_db_root_slot(f.db, NULL);
    acctdb_snapshot_t *s;
    assert_int_equal(
        acctdb_snapshot_open(&s, adb_test_data(FULL_NAME), adb_test_data(INC_NAME), NULL), 0);
    assert_int_equal(acctdb_snapshot_iterate(s, NULL, find_cb, &f), 0);
    acctdb_snapshot_close(s);
    acctdb_db_close(f.db);
    assert_int_equal(f.n, comp);
    acctdb_base58_encode_32(f.keys[0].b, k58);
    cJSON *j = get_json(tool, db, k58);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "compressed")));
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "orig_len")->valuedouble, f.len[0]);
    cJSON_Delete(j);

    /* The archive: Agave's rules hold (our verifier, the oracle). */
    assert_int_equal(adb_test_sh(g_out, sizeof g_out, "mkdir -p '%s'", arch), 0);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' db snapshot '%s' --out '%s' 2>&1", tool, db, arch);
    if (rc) fail_msg("db snapshot: exit %d: %s", rc, g_out);
    rc = adb_test_sh(g_out, sizeof g_out, "ls '%s'/snapshot-*.tar.zst", arch);
    assert_int_equal(rc, 0);
    char archive[4200];
    snprintf(archive, sizeof archive, "%.*s", (int)strcspn(g_out, "\n"), g_out);
    snprintf(path, sizeof path, "%s.acctdb", archive);
    assert_int_equal(access(path, F_OK), 0);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' snapshot verify '%s' 2>&1", tool, archive);
    if (rc || !strstr(g_out, "verified: every check matches"))
        fail_msg("snapshot verify: exit %d: %s", rc, g_out);
    rc = adb_test_sh(g_out, sizeof g_out, "python3 tests/oracle/oracle.py '%s' 2>&1", archive);
    if (rc || !strstr(g_out, "RESULT: OK")) fail_msg("oracle: exit %d: %s", rc, g_out);

    /* A database from the archive: its sidecar brings the compression. */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s' --from '%s' 2>&1", tool, db2,
                     archive);
    if (rc) fail_msg("db create from our archive: exit %d: %s", rc, g_out);
    for (size_t i = 0; i < f.n; i++) {
        j = get_json(tool, db2, acctdb_base58_encode_32(f.keys[i].b, k58));
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "compressed")));
        cJSON_Delete(j);
    }

    /* The trie: the same root in both databases (the sidecar carries it);
     * a member's and an absent key's proofs hold under it (verify-proof),
     * and not under another root; the absent key may be created with its
     * proof, the compressed one may not. */
    char pf[4400], pa[4400], root[2][64], ka[ACCTDB_BASE58_32_SZ];
    snprintf(pf, sizeof pf, "%s/member.json", dir);
    snprintf(pa, sizeof pa, "%s/absent.json", dir);
    acctdb_base58_encode_32(f.keys[0].b, k58);
    for (int d = 0; d < 2; d++) {
        rc = adb_test_sh(g_out, sizeof g_out, "'%s' state prove '%s' %s 2>&1 > '%s'", tool,
                         d ? db2 : db, k58, pf);
        if (rc || !strstr(g_out, "is in it")) fail_msg("state prove: exit %d: %s", rc, g_out);
        j = get_json_file(pf);
        assert_string_equal(cJSON_GetObjectItem(j, "statement")->valuestring, "member");
        snprintf(root[d], sizeof root[d], "%s", cJSON_GetObjectItem(j, "root")->valuestring);
        cJSON_Delete(j);
    }
    assert_string_equal(root[0], root[1]);
    rc =
        adb_test_sh(g_out, sizeof g_out, "'%s' state verify-proof %s '%s' 2>&1", tool, root[0], pf);
    if (rc || !strstr(g_out, "holds: ") || !strstr(g_out, "is in the trie"))
        fail_msg("verify-proof (member): exit %d: %s", rc, g_out);
    uint8_t kb[32];
    memset(kb, 0x42, 32);
    acctdb_base58_encode_32(kb, ka);
    rc =
        adb_test_sh(g_out, sizeof g_out, "'%s' state prove '%s' %s 2>&1 > '%s'", tool, db2, ka, pa);
    if (rc || !strstr(g_out, "is not in it")) fail_msg("state prove: exit %d: %s", rc, g_out);
    rc =
        adb_test_sh(g_out, sizeof g_out, "'%s' state verify-proof %s '%s' 2>&1", tool, root[0], pa);
    if (rc || !strstr(g_out, "is not in the trie"))
        fail_msg("verify-proof (absent): exit %d: %s", rc, g_out);
    uint8_t rb[32];
    assert_int_equal(acctdb_base58_decode_32(root[0], rb), 0);
    rb[5] ^= 0x10;
    char rx[ACCTDB_BASE58_32_SZ];
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state verify-proof %s '%s' 2>&1", tool,
                     acctdb_base58_encode_32(rb, rx), pa);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(g_out, "does not hold"));
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state check-create '%s' %s --proof '%s' 2>&1", tool,
                     db2, ka, pa);
    if (rc || !strstr(g_out, "may create")) fail_msg("check-create: exit %d: %s", rc, g_out);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state check-create '%s' %s --proof '%s' 2>&1", tool,
                     db2, k58, pf);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(g_out, "is compressed"));
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state check-create '%s' %s --proof '%s' 2>&1", tool,
                     db2, ka, pf);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(g_out, "another key"));
    assert_int_equal(
        adb_test_sh(g_out, sizeof g_out, "'%s' state check-create '%s' %s 2>&1", tool, db2, ka), 2);

    /* Decompress: wrong data first (exit 1, nothing changes). */
    acctdb_base58_encode_32(f.keys[0].b, k58);
    snprintf(path, sizeof path, "%s/data", dir);
    f.data[0][0] ^= 1;
    write_file(path, f.data[0], f.len[0]);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state decompress '%s' %s '%s' 2>&1", tool, db2, k58,
                     path);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(g_out, "nothing changed"));
    j = get_json(tool, db2, k58);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "compressed")));
    cJSON_Delete(j);
    f.data[0][0] ^= 1;
    write_file(path, f.data[0], f.len[0]);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state decompress '%s' %s '%s' 2>&1", tool, db2, k58,
                     path);
    if (rc) fail_msg("state decompress: exit %d: %s", rc, g_out);
    j = get_json(tool, db2, k58);
    assert_null(cJSON_GetObjectItem(j, "compressed"));
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "data_len")->valuedouble, f.len[0]);
    cJSON_Delete(j);
    /* Not compressed any more: exit 1. */
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' state decompress '%s' %s '%s' 2>&1", tool, db2, k58,
                     path);
    assert_int_equal(rc, 1);

    /* A sidecar that belongs to another archive, and a damaged one: the
     * creation fails, naming it, and leaves nothing. */
    char other[4200];
    snprintf(other, sizeof other, "%s/other", dir);
    rc = adb_test_sh(g_out, sizeof g_out,
                     "mkdir -p '%s' && cp '%s' '%s/' && cp '%s.acctdb' '%s/%s.acctdb'", other,
                     adb_test_data(FULL_NAME), other, archive, other, FULL_NAME);
    assert_int_equal(rc, 0);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s/db3' --from '%s/%s' 2>&1",
                     tool, dir, other, FULL_NAME);
    assert_int_equal(rc, 1); /* a check failed: MISMATCH */
    assert_non_null(strstr(g_out, "belongs to another archive"));
    snprintf(path, sizeof path, "%s/db3", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    char const *an = strrchr(archive, '/') + 1;
    rc = adb_test_sh(g_out, sizeof g_out,
                     "cp '%s' '%s.acctdb' '%s/' && printf 'X' | dd of='%s/%s.acctdb' bs=1 "
                     "seek=70 conv=notrunc 2>/dev/null",
                     archive, archive, other, other, an);
    assert_int_equal(rc, 0);
    rc = adb_test_sh(g_out, sizeof g_out, "'%s' db create --quiet '%s/db4' --from '%s/%s' 2>&1",
                     tool, dir, other, an);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(g_out, "fails its checksum"));
    for (size_t i = 0; i < f.n; i++)
        free(f.data[i]);
    adb_test_rmtree(dir);
    free(dir);
}

static struct CMUnitTest const tests[] = {
    cmocka_unit_test(test_cli_state),
};

ADB_TEST_GROUP(cli_state, tests);
