/* tools/examples/lthash_from_json.c - the lattice hash of a snapshot's
 * accounts, recomputed from the decoded fields in Sig's JSON oracle of the
 * Agave 4.2 test snapshot (tests/data/test-snapshot-v4.2.0-beta.1.json).
 *
 * For every account record it computes the per-account LtHash with
 * libacctdb and compares it with the JSON's account_lt_hash_first_32_hex;
 * then it resolves the live set itself (highest slot wins, later record
 * wins within a slot, zero lamports means absent: FORMAT.md section 7),
 * checks it against the JSON's live_indices, sums the live hashes (batched
 * and one at a time) and compares the sum with the JSON's accounts_lt_hash
 * and its checksum with the one computed from the JSON value.
 *
 * An example of the public API: it includes only acctdb.h (and cJSON).
 * Exit status 0 only if everything matched. */
#include <acctdb.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
slurp(char const *path, size_t *sz_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = 0;
    *sz_out = b ? (size_t)n : 0;
    return b;
}

static int
unhex(uint8_t *dst, size_t dst_max, char const *hex, size_t *sz_out) {
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > dst_max) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        dst[i] = (uint8_t)v;
    }
    *sz_out = n / 2;
    return 0;
}

static void
hex(char *dst, uint8_t const *src, size_t n) {
    for (size_t i = 0; i < n; i++)
        sprintf(dst + 2 * i, "%02x", src[i]);
}

static char const *
jstr(cJSON const *o, char const *k) {
    cJSON const *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* u64 fields: cJSON keeps doubles, exact up to 2^53; reject anything else. */
static int
ju64(cJSON const *o, char const *k, uint64_t *out) {
    cJSON const *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0) return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

int
main(int argc, char **argv) {
    char const *path = argc > 1 ? argv[1] : "tests/data/test-snapshot-v4.2.0-beta.1.json";
    size_t      sz;
    char       *text = slurp(path, &sz);
    if (!text) {
        fprintf(stderr, "lthash-from-json: cannot read %s\n", path);
        return 2;
    }
    cJSON *root = cJSON_ParseWithLength(text, sz);
    free(text);
    if (!root) {
        fprintf(stderr, "lthash-from-json: %s is not valid JSON\n", path);
        return 2;
    }
    cJSON const *accounts = cJSON_GetObjectItemCaseSensitive(root, "accounts");
    cJSON const *entries = cJSON_GetObjectItemCaseSensitive(accounts, "entries");
    cJSON const *extra = cJSON_GetObjectItemCaseSensitive(root, "extra_fields");
    cJSON const *bank = cJSON_GetObjectItemCaseSensitive(root, "bank_fields");
    int          n = cJSON_GetArraySize(entries);
    if (!cJSON_IsArray(entries) || n <= 0 || n > 100000) {
        fprintf(stderr, "lthash-from-json: no accounts.entries array in %s\n", path);
        cJSON_Delete(root);
        return 2;
    }
    uint64_t bank_slot = 0;
    ju64(bank, "slot", &bank_slot);

    acctdb_account_t *acc = calloc((size_t)n, sizeof *acc);
    uint8_t         **data = calloc((size_t)n, sizeof *data);
    uint64_t         *slot = calloc((size_t)n, sizeof *slot);
    bool             *live = calloc((size_t)n, sizeof *live);
    int               bad = 0;

    printf("Agave 4.2 test snapshot, slot %llu: %d account records in %s\n"
           "(BLAKE3 implementation: %s)\n\n",
           (unsigned long long)bank_slot, n, path, acctdb_blake3_impl());
    printf("%2s %5s  %-44s %12s %6s  %-64s %s\n", "#", "slot", "pubkey", "lamports", "data",
           "lattice hash (first 32 of 2048 bytes)", "vs JSON");
    for (int i = 0; i < n; i++) {
        cJSON const *e = cJSON_GetArrayItem(entries, i);
        char const  *pk = jstr(e, "pubkey"), *ow = jstr(e, "owner"), *dh = jstr(e, "data_hex");
        char const  *want = jstr(e, "account_lt_hash_first_32_hex");
        uint64_t     dl;
        cJSON const *ex = cJSON_GetObjectItemCaseSensitive(e, "executable");
        if (!pk || !ow || !dh || !want || ju64(e, "slot", &slot[i]) ||
            ju64(e, "lamports", &acc[i].lamports) || ju64(e, "rent_epoch", &acc[i].rent_epoch) ||
            ju64(e, "data_len", &dl) || !cJSON_IsBool(ex) ||
            acctdb_base58_decode_32(pk, acc[i].pubkey.b) ||
            acctdb_base58_decode_32(ow, acc[i].owner.b)) {
            fprintf(stderr, "lthash-from-json: entry %d is malformed\n", i);
            bad = 1;
            continue;
        }
        data[i] = malloc(strlen(dh) / 2 + 1);
        size_t got;
        if (unhex(data[i], strlen(dh) / 2 + 1, dh, &got) || got != dl) {
            fprintf(stderr, "lthash-from-json: entry %d: data_hex does not match data_len\n", i);
            bad = 1;
            continue;
        }
        acc[i].data = data[i];
        acc[i].data_len = dl;
        acc[i].executable = cJSON_IsTrue(ex);

        acctdb_lthash_t h;
        acctdb_lthash_account(&h, &acc[i], ACCTDB_LTHASH_CURRENT);
        char hx[65];
        hex(hx, (uint8_t const *)h.v, 32);
        bool ok = strcmp(hx, want) == 0;
        bad |= !ok;
        printf("%2d %5llu  %-44s %12llu %6llu  %s %s\n", i, (unsigned long long)slot[i], pk,
               (unsigned long long)acc[i].lamports, (unsigned long long)dl, hx,
               ok ? "match" : "MISMATCH");
    }

    /* Live set: for each pubkey the record with the highest slot, the later
     * record within a slot; a zero-lamport winner means the account is gone. */
    int live_cnt = 0;
    for (int i = 0; i < n; i++) {
        bool newest = true;
        for (int j = 0; j < n; j++)
            if (j != i && !memcmp(acc[j].pubkey.b, acc[i].pubkey.b, 32) &&
                (slot[j] > slot[i] || (slot[j] == slot[i] && j > i)))
                newest = false;
        live[i] = newest && acc[i].lamports > 0;
        live_cnt += live[i];
    }
    cJSON const *li = cJSON_GetObjectItemCaseSensitive(accounts, "live_indices");
    bool         live_ok = cJSON_GetArraySize(li) == live_cnt;
    for (int k = 0; live_ok && k < cJSON_GetArraySize(li); k++) {
        int idx = cJSON_GetArrayItem(li, k)->valueint;
        live_ok = idx >= 0 && idx < n && live[idx];
    }
    bad |= !live_ok;
    printf("\nlive accounts: %d of %d records (newest version per pubkey, lamports > 0): %s "
           "the JSON's live_indices\n",
           live_cnt, n, live_ok ? "matches" : "DOES NOT MATCH");

    /* Sum the live ones: batched, and one at a time as a cross-check. */
    acctdb_account_t *lv = calloc((size_t)live_cnt + 1, sizeof *lv);
    int               m = 0;
    acctdb_lthash_t   serial, batched, one;
    acctdb_lthash_zero(&serial);
    acctdb_lthash_zero(&batched);
    for (int i = 0; i < n; i++) {
        if (!live[i]) continue;
        lv[m++] = acc[i];
        acctdb_lthash_account(&one, &acc[i], ACCTDB_LTHASH_CURRENT);
        acctdb_lthash_add(&serial, &one);
    }
    acctdb_lthash_add_accounts(&batched, lv, (size_t)m, ACCTDB_LTHASH_CURRENT);
    bool same = memcmp(&serial, &batched, sizeof serial) == 0;
    bad |= !same;

    char const     *want_hex = jstr(extra, "accounts_lt_hash");
    acctdb_lthash_t want;
    size_t          wsz = 0;
    bool            sum_ok = want_hex && !unhex((uint8_t *)want.v, sizeof want.v, want_hex, &wsz) &&
                  wsz == sizeof want.v && !memcmp(&want, &batched, sizeof want);
    bad |= !sum_ok;
    char hx[65];
    hex(hx, (uint8_t const *)batched.v, 32);
    printf("sum of the %d live hashes: %s... (2048 bytes; batched %s one-at-a-time): %s the "
           "JSON's accounts_lt_hash\n",
           m, hx, same ? "==" : "!=", sum_ok ? "matches" : "DOES NOT MATCH");

    uint8_t ck[32], ck_want[32];
    char    b58[ACCTDB_BASE58_32_SZ], b58_want[ACCTDB_BASE58_32_SZ];
    acctdb_lthash_checksum(&batched, ck);
    acctdb_base58_encode_32(ck, b58);
    if (wsz == sizeof want.v) {
        acctdb_lthash_checksum(&want, ck_want);
        acctdb_base58_encode_32(ck_want, b58_want);
    } else {
        strcpy(b58_want, "?");
    }
    bool ck_ok = !strcmp(b58, b58_want);
    bad |= !ck_ok;
    printf("checksum (BLAKE3 of the sum, base58): %s: %s the JSON's (%s)\n", b58,
           ck_ok ? "matches" : "DOES NOT MATCH", b58_want);
    printf("\n%s\n", bad ? "RESULT: MISMATCH" : "RESULT: all lattice hashes match");

    for (int i = 0; i < n; i++)
        free(data[i]);
    free(data), free(acc), free(slot), free(live), free(lv);
    cJSON_Delete(root);
    return bad ? 1 : 0;
}
