/* Tests for the manifest codec (src/snapshot/manifest.h): every field of
 * the 4.2 fixture against its JSON oracle (bank_fields, extra_fields and
 * status_cache), byte-identical round trips of all five bundled manifests
 * and of built ones, the bank hash of FORMAT.md 9, the merkle-era fields,
 * the semantic checks, and hostile input: truncation at every offset,
 * huge length prefixes, invalid tags, allocation budget and out-of-memory
 * injection. */
#include "snap_fixture.h"
#include "bank/bank.h"

#include "snapshot/manifest.h"
#include "snapshot/status_cache.h"
#include "util/json_out.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- helpers -------------------------------------------------------------- */

static void
decode_ok(uint8_t const *b, size_t sz, adb_manifest_t *m) {
    adb_err_t e;
    int       rc = adb_manifest_decode(b, sz, 0, m, &e);
    if (rc) fail_msg("decode failed (%d): %s", rc, e.msg);
}

static void
assert_roundtrip(adb_manifest_t const *m, uint8_t const *b, size_t sz) {
    uint8_t *o;
    size_t   osz;
    assert_int_equal(adb_manifest_encode_buf(m, &o, &osz), 0);
    assert_int_equal(osz, sz);
    assert_memory_equal(o, b, sz);
    adb_free(o);
}

static char *
b58(uint8_t const b[32], char out[ACCTDB_BASE58_32_SZ]) {
    return adb_base58_encode_32(b, out);
}

/* ---- the JSON oracle ----------------------------------------------------
 * cJSON keeps numbers as doubles, which cannot hold every u64, so the
 * oracle text is rewritten first: every integer token (no '.', 'e') becomes
 * a string holding its exact digits.  Floats stay numbers (Python writes
 * them with round-trip precision, so == on the double is exact). */
static char *
quote_ints(char const *s) {
    size_t n = strlen(s);
    char  *o = malloc(3 * n + 1), *p = o;
    assert_non_null(o);
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            *p++ = c;
            if (c == '\\' && i + 1 < n)
                *p++ = s[++i];
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
            *p++ = c;
        } else if (c == '-' || isdigit((unsigned char)c)) {
            size_t k = i;
            bool   is_int = true;
            while (k < n && strchr("0123456789+-.eE", s[k])) {
                if (strchr(".eE", s[k])) is_int = false;
                k++;
            }
            if (is_int) *p++ = '"';
            memcpy(p, s + i, k - i);
            p += k - i;
            if (is_int) *p++ = '"';
            i = k - 1;
        } else {
            *p++ = c;
        }
    }
    *p = 0;
    return o;
}

typedef struct ocmp {
    cJSON const **seen;
    size_t        seen_cnt;
    size_t        seen_cap;
    size_t        compared; /* oracle values equal to a decoded wire field */
    size_t        derived;  /* ... equal to a value derived from wire fields */
    size_t        excluded; /* ... never on the wire (FORMAT.md says so) */
} ocmp_t;

static void
mark(ocmp_t *c, cJSON const *it) {
    for (size_t i = 0; i < c->seen_cnt; i++)
        if (c->seen[i] == it) fail_msg("oracle value %s compared twice", it->string);
    if (c->seen_cnt == c->seen_cap) {
        c->seen_cap = c->seen_cap ? 2 * c->seen_cap : 256;
        c->seen = realloc(c->seen, c->seen_cap * sizeof *c->seen);
        assert_non_null(c->seen);
    }
    c->seen[c->seen_cnt++] = it;
}

static cJSON const *
jkey(cJSON const *o, char const *k) {
    cJSON const *it = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!it) fail_msg("oracle object has no key \"%s\"", k);
    return it;
}

static unsigned __int128
j_uint(cJSON const *it, char const *k) {
    if (!cJSON_IsString(it) || !it->valuestring[0]) fail_msg("oracle %s: not an integer", k);
    unsigned __int128 v = 0;
    for (char const *p = it->valuestring; *p; p++) {
        if (!isdigit((unsigned char)*p)) fail_msg("oracle %s: not an unsigned integer", k);
        v = v * 10 + (unsigned)(*p - '0');
    }
    return v;
}

static void
c_u128(ocmp_t *c, cJSON const *o, char const *k, unsigned __int128 v) {
    cJSON const      *it = jkey(o, k);
    unsigned __int128 x = j_uint(it, k);
    if (x != v)
        fail_msg("%s: oracle %llu, decoded %llu", k, (unsigned long long)x, (unsigned long long)v);
    mark(c, it);
    c->compared++;
}

static void
c_u64(ocmp_t *c, cJSON const *o, char const *k, uint64_t v) {
    c_u128(c, o, k, v);
}

static void
c_derived_u64(ocmp_t *c, cJSON const *o, char const *k, uint64_t v) {
    c_u128(c, o, k, v);
    c->compared--;
    c->derived++;
}

static void
c_i64(ocmp_t *c, cJSON const *o, char const *k, int64_t v) {
    cJSON const *it = jkey(o, k);
    assert_true(cJSON_IsString(it));
    char *end;
    errno = 0;
    long long x = strtoll(it->valuestring, &end, 10);
    assert_true(*end == 0 && errno == 0);
    if (x != v) fail_msg("%s: oracle %lld, decoded %lld", k, x, (long long)v);
    mark(c, it);
    c->compared++;
}

static void
c_f64(ocmp_t *c, cJSON const *o, char const *k, double v) {
    cJSON const *it = jkey(o, k);
    if (!cJSON_IsNumber(it)) fail_msg("oracle %s: not a float", k);
    if (it->valuedouble != v) fail_msg("%s: oracle %.17g, decoded %.17g", k, it->valuedouble, v);
    mark(c, it);
    c->compared++;
}

static void
c_bool(ocmp_t *c, cJSON const *o, char const *k, bool v) {
    cJSON const *it = jkey(o, k);
    if (!cJSON_IsBool(it)) fail_msg("oracle %s: not a bool", k);
    if (cJSON_IsTrue(it) != v) fail_msg("%s: oracle %d, decoded %d", k, cJSON_IsTrue(it), v);
    mark(c, it);
    c->compared++;
}

static void
c_str(ocmp_t *c, cJSON const *o, char const *k, char const *v) {
    cJSON const *it = jkey(o, k);
    if (!cJSON_IsString(it)) fail_msg("oracle %s: not a string", k);
    if (strcmp(it->valuestring, v) != 0)
        fail_msg("%s: oracle \"%s\", decoded \"%s\"", k, it->valuestring, v);
    mark(c, it);
    c->compared++;
}

static void
c_b58(ocmp_t *c, cJSON const *o, char const *k, uint8_t const b[32]) {
    char t[ACCTDB_BASE58_32_SZ];
    c_str(c, o, k, b58(b, t));
}

static void
c_derived_b58(ocmp_t *c, cJSON const *o, char const *k, uint8_t const b[32]) {
    c_b58(c, o, k, b);
    c->compared--;
    c->derived++;
}

static void
c_hex(ocmp_t *c, cJSON const *o, char const *k, void const *b, size_t n) {
    char *h = malloc(2 * n + 1);
    assert_non_null(h);
    adb_test_hex(h, b, n);
    c_str(c, o, k, h);
    free(h);
}

static void
c_null(ocmp_t *c, cJSON const *o, char const *k, bool is_none) {
    cJSON const *it = jkey(o, k);
    if (!cJSON_IsNull(it)) fail_msg("oracle %s is not null", k);
    if (!is_none) fail_msg("%s: oracle null, decoded Some", k);
    mark(c, it);
    c->compared++;
}

/* An array of n elements; an empty one is itself a compared value. */
static cJSON const *
c_arr(ocmp_t *c, cJSON const *o, char const *k, uint64_t n) {
    cJSON const *it = jkey(o, k);
    if (!cJSON_IsArray(it)) fail_msg("oracle %s: not an array", k);
    if ((uint64_t)cJSON_GetArraySize(it) != n)
        fail_msg("%s: oracle has %d entries, decoded %llu", k, cJSON_GetArraySize(it),
                 (unsigned long long)n);
    if (n == 0) {
        mark(c, it);
        c->compared++;
    }
    return it;
}

static size_t
leaf_cnt(cJSON const *it) {
    if ((cJSON_IsArray(it) || cJSON_IsObject(it)) && it->child) {
        size_t n = 0;
        for (cJSON const *ch = it->child; ch; ch = ch->next)
            n += leaf_cnt(ch);
        return n;
    }
    return 1;
}

static void
mark_all(ocmp_t *c, cJSON const *it) {
    if ((cJSON_IsArray(it) || cJSON_IsObject(it)) && it->child) {
        for (cJSON const *ch = it->child; ch; ch = ch->next)
            mark_all(c, ch);
        return;
    }
    mark(c, it);
}

/* A value the oracle lists that never reaches the wire: counted and shown
 * with the FORMAT.md section that says so. */
static void
c_exclude(ocmp_t *c, cJSON const *o, char const *k, char const *path, char const *why) {
    cJSON const *it = jkey(o, k);
    size_t       n = leaf_cnt(it);
    mark_all(c, it);
    c->excluded += n;
    static char const *printed[8];
    for (size_t i = 0; i < ADB_ARRAY_CNT(printed); i++) {
        if (printed[i] == path) return; /* once per kind of exclusion */
        if (!printed[i]) {
            printed[i] = path;
            break;
        }
    }
    printf("    excluded %s: %s\n", path, why);
}

/* Every leaf under it must have been marked; reports the first one not. */
static void
assert_all_seen(ocmp_t const *c, cJSON const *it, char *path, size_t len) {
    if ((cJSON_IsArray(it) || cJSON_IsObject(it)) && it->child) {
        int idx = 0;
        for (cJSON const *ch = it->child; ch; ch = ch->next, idx++) {
            size_t l = len;
            if (ch->string)
                l += (size_t)snprintf(path + len, 1024 - len, ".%s", ch->string);
            else
                l += (size_t)snprintf(path + len, 1024 - len, "[%d]", idx);
            assert_all_seen(c, ch, path, ADB_MIN(l, (size_t)1000));
            path[len] = 0;
        }
        return;
    }
    for (size_t i = 0; i < c->seen_cnt; i++)
        if (c->seen[i] == it) return;
    fail_msg("oracle value %s was not compared with the decoder's output", path);
}

static adb_vote_account_t const *
find_vote(adb_stakes_t const *st, char const *key) {
    char t[ACCTDB_BASE58_32_SZ];
    for (uint64_t i = 0; i < st->vote_accounts_cnt; i++)
        if (!strcmp(b58(st->vote_accounts[i].vote_pubkey.b, t), key)) return &st->vote_accounts[i];
    fail_msg("vote account %s not decoded", key);
    return NULL;
}

static void
cmp_vote_accounts(ocmp_t *c, cJSON const *arr, adb_stakes_t const *st, bool full) {
    cJSON const *v;
    cJSON_ArrayForEach(v, arr) {
        cJSON const              *k = jkey(v, "vote_pubkey");
        adb_vote_account_t const *va = find_vote(st, k->valuestring);
        if (!va) return;
        c_b58(c, v, "vote_pubkey", va->vote_pubkey.b);
        c_u64(c, v, "stake", va->stake);
        /* node_pubkey is not a manifest field: it is bytes 4..36 of the
         * vote account's data (VoteState: u32 version, then node_pubkey). */
        assert_true(va->account.data_sz >= 36);
        uint8_t node[32];
        memcpy(node, va->account.data + 4, 32);
        c_derived_b58(c, v, "node_pubkey", node);
        c_u64(c, v, "lamports", va->account.lamports);
        c_b58(c, v, "owner", va->account.owner.b);
        if (full) {
            c_bool(c, v, "executable", va->account.executable);
            c_u64(c, v, "rent_epoch", va->account.rent_epoch);
            c_u64(c, v, "vote_state_data_len", va->account.data_sz);
        }
    }
}

static void
cmp_bank(ocmp_t *c, cJSON const *bf, adb_manifest_t const *m) {
    adb_bank_fields_t const *b = &m->bank;
    char                     t[ACCTDB_BASE58_32_SZ];
    c_u64(c, bf, "slot", b->slot);
    /* FORMAT.md 3.3 row 19: written as 0 since ~4.0; the epoch comes from
     * the epoch schedule, so compare the oracle with the derived value. */
    assert_int_equal(b->epoch, 0);
    c_derived_u64(c, bf, "epoch", adb_epoch_of(&b->epoch_schedule, b->slot));
    c_u64(c, bf, "parent_slot", b->parent_slot);
    c_u64(c, bf, "block_height", b->block_height);
    c_b58(c, bf, "hash", b->hash.b);
    c_b58(c, bf, "parent_hash", b->parent_hash.b);
    c_b58(c, bf, "leader_id", b->leader_id.b);
    c_u64(c, bf, "transaction_count", b->transaction_count);
    c_u64(c, bf, "signature_count", b->signature_count);
    c_u64(c, bf, "tick_height", b->tick_height);
    c_u64(c, bf, "max_tick_height", b->max_tick_height);
    c_u64(c, bf, "ticks_per_slot", b->ticks_per_slot);
    assert_true(b->has_hashes_per_tick);
    c_u64(c, bf, "hashes_per_tick", b->hashes_per_tick);
    c_u128(c, bf, "ns_per_slot", b->ns_per_slot);
    c_f64(c, bf, "slots_per_year", b->slots_per_year);
    c_i64(c, bf, "genesis_creation_time", b->genesis_creation_time);
    c_u64(c, bf, "accounts_data_len", b->accounts_data_len);
    c_u64(c, bf, "capitalization", b->capitalization);
    c_bool(c, bf, "is_delta", b->is_delta);

    cJSON const                   *fr = jkey(bf, "fee_rate_governor");
    adb_fee_rate_governor_t const *g = &b->fee_rate_governor;
    c_exclude(c, fr, "lamports_per_signature",
              "bank_fields.fee_rate_governor.lamports_per_signature",
              "serde-skipped, comes from extra lamports_per_signature (FORMAT.md 3.4.2)");
    c_u64(c, fr, "target_lamports_per_signature", g->target_lamports_per_signature);
    c_u64(c, fr, "target_signatures_per_slot", g->target_signatures_per_slot);
    c_u64(c, fr, "min_lamports_per_signature", g->min_lamports_per_signature);
    c_u64(c, fr, "max_lamports_per_signature", g->max_lamports_per_signature);
    c_u64(c, fr, "burn_percent", g->burn_percent);

    cJSON const                *es = jkey(bf, "epoch_schedule");
    adb_epoch_schedule_t const *e = &b->epoch_schedule;
    c_u64(c, es, "slots_per_epoch", e->slots_per_epoch);
    c_u64(c, es, "leader_schedule_slot_offset", e->leader_schedule_slot_offset);
    c_bool(c, es, "warmup", e->warmup);
    c_u64(c, es, "first_normal_epoch", e->first_normal_epoch);
    c_u64(c, es, "first_normal_slot", e->first_normal_slot);

    cJSON const *in = jkey(bf, "inflation");
    c_f64(c, in, "initial", b->inflation.initial);
    c_f64(c, in, "terminal", b->inflation.terminal);
    c_f64(c, in, "taper", b->inflation.taper);
    c_f64(c, in, "foundation", b->inflation.foundation);
    c_f64(c, in, "foundation_term", b->inflation.foundation_term);

    cJSON const                 *bq = jkey(bf, "blockhash_queue");
    adb_blockhash_queue_t const *q = &b->blockhash_queue;
    c_u64(c, bq, "last_hash_index", q->last_hash_index);
    assert_true(q->has_last_hash);
    c_b58(c, bq, "last_hash", q->last_hash.b);
    c_u64(c, bq, "max_age", q->max_age);
    cJSON const *h;
    cJSON_ArrayForEach(h, c_arr(c, bq, "hashes", q->ages_cnt)) {
        adb_hash_age_t const *a = NULL;
        for (uint64_t i = 0; i < q->ages_cnt && !a; i++)
            if (!strcmp(b58(q->ages[i].hash.b, t), jkey(h, "hash")->valuestring)) a = &q->ages[i];
        if (!a) {
            fail_msg("oracle entry not found in the decoded manifest");
            return;
        }
        c_b58(c, h, "hash", a->hash.b);
        c_u64(c, h, "lamports_per_signature", a->lamports_per_signature);
        c_u64(c, h, "hash_index", a->hash_index);
        c_u64(c, h, "timestamp_ms", a->timestamp);
    }

    /* hard_forks is a Vec (sorted by slot): same order. */
    int i = 0;
    cJSON_ArrayForEach(h, c_arr(c, bf, "hard_forks", b->hard_forks_cnt)) {
        c_u64(c, h, "slot", b->hard_forks[i].slot);
        c_u64(c, h, "count", b->hard_forks[i].val);
        i++;
    }

    cJSON const        *sk = jkey(bf, "stakes");
    adb_stakes_t const *st = &b->stakes;
    c_u64(c, sk, "epoch", st->epoch);
    c_u64(c, sk, "unused", st->unused); /* really on the wire: 42 */
    cmp_vote_accounts(c, c_arr(c, sk, "vote_accounts", st->vote_accounts_cnt), st, true);
    cJSON_ArrayForEach(h, c_arr(c, sk, "stake_delegations", st->delegations_cnt)) {
        adb_stake_delegation_t const *sd = NULL;
        for (uint64_t k = 0; k < st->delegations_cnt && !sd; k++)
            if (!strcmp(b58(st->delegations[k].stake_pubkey.b, t),
                        jkey(h, "stake_pubkey")->valuestring))
                sd = &st->delegations[k];
        if (!sd) {
            fail_msg("oracle entry not found in the decoded manifest");
            return;
        }
        c_b58(c, h, "stake_pubkey", sd->stake_pubkey.b);
        c_b58(c, h, "voter_pubkey", sd->delegation.voter_pubkey.b);
        c_exclude(c, h, "authorized", "bank_fields.stakes.stake_delegations[].authorized",
                  "not part of Delegation (FORMAT.md 3.4.4): the staker lives in the stake "
                  "account");
        c_u64(c, h, "stake", sd->delegation.stake);
        c_u64(c, h, "activation_epoch", sd->delegation.activation_epoch);
        c_u64(c, h, "deactivation_epoch", sd->delegation.deactivation_epoch);
    }
    i = 0;
    cJSON_ArrayForEach(h, c_arr(c, sk, "stake_history", st->stake_history_cnt)) {
        c_u64(c, h, "epoch", st->stake_history[i].epoch);
        c_u64(c, h, "effective", st->stake_history[i].effective);
        c_u64(c, h, "activating", st->stake_history[i].activating);
        c_u64(c, h, "deactivating", st->stake_history[i].deactivating);
        i++;
    }
}

static void
cmp_extra(ocmp_t *c, cJSON const *xf, adb_manifest_t const *m) {
    adb_extra_fields_t const *x = &m->extra;
    char                      t[ACCTDB_BASE58_32_SZ];
    assert_int_equal(m->present_cnt, ADB_MANIFEST_F_ALL);
    c_u64(c, xf, "lamports_per_signature", x->lamports_per_signature);
    assert_true(x->has_block_id);
    c_b58(c, xf, "block_id", x->block_id.b);
    c_null(c, xf, "unused_incremental_snapshot_persistence", !x->has_incremental_persistence);
    c_null(c, xf, "unused_epoch_accounts_hash", !x->has_epoch_accounts_hash);
    assert_true(x->has_accounts_lt_hash);
    c_hex(c, xf, "accounts_lt_hash", x->accounts_lt_hash, ADB_LTHASH_SZ);

    cJSON const *ve;
    cJSON_ArrayForEach(ve, c_arr(c, xf, "versioned_epoch_stakes", x->versioned_epoch_stakes_cnt)) {
        uint64_t                  ep = (uint64_t)j_uint(jkey(ve, "epoch"), "epoch");
        adb_epoch_stakes_t const *es = NULL;
        for (uint64_t i = 0; i < x->versioned_epoch_stakes_cnt && !es; i++)
            if (x->versioned_epoch_stakes[i].epoch == ep) es = &x->versioned_epoch_stakes[i];
        if (!es) {
            fail_msg("oracle entry not found in the decoded manifest");
            return;
        }
        c_u64(c, ve, "epoch", es->epoch);
        assert_int_equal(es->variant, 0);
        c_str(c, ve, "variant", "Current");
        c_u64(c, ve, "total_stake", es->total_stake);
        cmp_vote_accounts(c, c_arr(c, ve, "vote_accounts", es->stakes.vote_accounts_cnt),
                          &es->stakes, false);
        /* FORMAT.md 3.6: written empty since PR #11758; the oracle lists the
         * generator's in-memory delegations. */
        assert_int_equal(es->stakes.delegations_cnt, 0);
        assert_true(es->stakes.is_stake_form);
        c_exclude(c, ve, "stake_delegations",
                  "extra_fields.versioned_epoch_stakes[].stake_delegations",
                  "written empty since PR #11758 (FORMAT.md 3.6); wire has 0 entries");
        cJSON const *nv;
        cJSON_ArrayForEach(nv,
                           c_arr(c, ve, "node_id_to_vote_accounts", es->node_vote_accounts_cnt)) {
            adb_node_vote_accounts_t const *n = NULL;
            for (uint64_t i = 0; i < es->node_vote_accounts_cnt && !n; i++)
                if (!strcmp(b58(es->node_vote_accounts[i].node_id.b, t),
                            jkey(nv, "node_id")->valuestring))
                    n = &es->node_vote_accounts[i];
            if (!n) {
                fail_msg("oracle entry not found in the decoded manifest");
                return;
            }
            c_b58(c, nv, "node_id", n->node_id.b);
            c_u64(c, nv, "total_stake", n->total_stake);
            cJSON const *vp;
            int          i = 0;
            cJSON_ArrayForEach(vp, c_arr(c, nv, "vote_pubkeys", n->vote_pubkeys_cnt)) {
                if (strcmp(vp->valuestring, b58(n->vote_pubkeys[i].b, t)))
                    fail_msg("vote_pubkeys[%d]: oracle %s, decoded %s", i, vp->valuestring, t);
                mark(c, vp);
                c->compared++;
                i++;
            }
        }
        cJSON const *av;
        cJSON_ArrayForEach(av, c_arr(c, ve, "epoch_authorized_voters", es->authorized_voters_cnt)) {
            adb_authorized_voter_t const *a = NULL;
            for (uint64_t i = 0; i < es->authorized_voters_cnt && !a; i++)
                if (!strcmp(b58(es->authorized_voters[i].vote_pubkey.b, t),
                            jkey(av, "vote_pubkey")->valuestring))
                    a = &es->authorized_voters[i];
            if (!a) {
                fail_msg("oracle entry not found in the decoded manifest");
                return;
            }
            c_b58(c, av, "vote_pubkey", a->vote_pubkey.b);
            c_b58(c, av, "authorized_voter", a->voter.b);
        }
    }
}

static void
cmp_status_cache(ocmp_t *c, cJSON const *so, adb_status_cache_t const *sc, size_t file_sz) {
    c_u64(c, so, "on_disk_size", file_sz);
    c_u64(c, so, "slot_deltas_count", sc->deltas_cnt);
    cJSON const *d;
    cJSON_ArrayForEach(d, c_arr(c, so, "slot_deltas", sc->deltas_cnt)) {
        uint64_t                idx = (uint64_t)j_uint(jkey(d, "index"), "index");
        adb_slot_delta_t const *sd = &sc->deltas[idx];
        c_u64(c, d, "index", idx);
        c_u64(c, d, "slot", sd->slot);
        c_bool(c, d, "is_root", sd->is_root);
        cJSON const *bk;
        cJSON_ArrayForEach(bk, c_arr(c, d, "buckets", sd->buckets_cnt)) {
            uint64_t                   bi = (uint64_t)j_uint(jkey(bk, "index"), "index");
            adb_status_bucket_t const *b = &sd->buckets[bi];
            c_u64(c, bk, "index", bi);
            c_hex(c, bk, "blockhash_hex", b->blockhash.b, 32);
            c_u64(c, bk, "fork_count", b->key_index); /* the key_index (FORMAT.md 4) */
            cJSON const *en;
            int          i = 0;
            cJSON_ArrayForEach(en, c_arr(c, bk, "entries", b->entries_cnt)) {
                adb_status_entry_t const *e = &b->entries[i++];
                c_hex(c, en, "key_slice_hex", e->key_slice, 20);
                cJSON const *r = jkey(en, "result");
                c_str(c, r, "type", e->result.is_err ? "Err" : "Ok");
                if (!e->result.is_err) continue;
                cJSON const *te = jkey(r, "transaction_error");
                c_str(c, te, "type", adb_tx_err_name(e->result.tx_err));
                if (e->result.tx_err != ADB_TX_ERR_INSTRUCTION_ERROR) continue;
                c_u64(c, te, "instruction_index", e->result.index);
                cJSON const *ie = jkey(te, "instruction_error");
                c_str(c, ie, "type", adb_ix_err_name(e->result.ix_err));
                if (e->result.ix_err == ADB_IX_ERR_CUSTOM)
                    c_u64(c, ie, "custom_code", e->result.custom);
            }
        }
    }
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_manifest_oracle_42(void **state) {
    (void)state;
    size_t   jsz, msz, ssz;
    uint8_t *jraw = snap_fx_read_path(adb_test_data("test-snapshot-v4.2.0-beta.1.json"), &jsz);
    assert_non_null(jraw);
    char *text = malloc(jsz + 1);
    memcpy(text, jraw, jsz);
    text[jsz] = 0;
    free(jraw);
    char *quoted = quote_ints(text);
    free(text);
    cJSON *root = cJSON_Parse(quoted);
    free(quoted);
    assert_non_null(root);

    uint8_t           *mb = snap_fx_manifest(0, &msz);
    uint8_t           *sb = snap_fx_status_cache(0, &ssz);
    adb_manifest_t     m;
    adb_status_cache_t sc;
    adb_err_t          e;
    decode_ok(mb, msz, &m);
    assert_int_equal(adb_status_cache_decode(sb, ssz, 0, &sc, &e), 0);

    ocmp_t c = {0};
    printf("  4.2 fixture vs its JSON oracle:\n");
    cJSON const *bf = jkey(root, "bank_fields");
    cJSON const *xf = jkey(root, "extra_fields");
    cJSON const *so = jkey(root, "status_cache");
    cmp_bank(&c, bf, &m);
    cmp_extra(&c, xf, &m);
    cmp_status_cache(&c, so, &sc, ssz);

    char path[1024];
    strcpy(path, "bank_fields");
    assert_all_seen(&c, bf, path, strlen(path));
    strcpy(path, "extra_fields");
    assert_all_seen(&c, xf, path, strlen(path));
    strcpy(path, "status_cache");
    assert_all_seen(&c, so, path, strlen(path));
    size_t total = leaf_cnt(bf) + leaf_cnt(xf) + leaf_cnt(so);
    assert_int_equal(c.compared + c.derived + c.excluded, total);
    assert_int_equal(c.seen_cnt, total);
    printf("  compared %zu oracle values: %zu equal to wire fields, %zu equal to values derived "
           "from them (bank epoch, vote node pubkeys), %zu excluded as never on the wire\n",
           total, c.compared, c.derived, c.excluded);

    free(c.seen);
    cJSON_Delete(root);
    adb_status_cache_fini(&sc);
    adb_manifest_fini(&m);
    free(mb);
    free(sb);
}

static void
test_manifest_roundtrip_all(void **state) {
    (void)state;
    for (size_t i = 0; i < SNAP_FX_CNT; i++) {
        size_t         sz;
        uint8_t       *b = snap_fx_manifest(i, &sz);
        adb_manifest_t m;
        decode_ok(b, sz, &m);
        assert_roundtrip(&m, b, sz);
        assert_int_equal(m.bank.slot, snap_fx_all[i].slot);
        assert_int_equal(m.trailing_sz, 0);
        adb_err_t e;
        int       rc =
            adb_manifest_check(&m, snap_fx_all[i].lattice ? ADB_MANIFEST_CHECK_LATTICE : 0, &e);
        if (rc) fail_msg("%s: check: %s", snap_fx_all[i].label, e.msg);
        printf("  %-19s %6zu bytes: round trip identical, %u default_on_eof fields present\n",
               snap_fx_all[i].label, sz, m.present_cnt);
        adb_manifest_fini(&m);
        free(b);
    }
}

static void
test_manifest_bank_hash(void **state) {
    (void)state;
    for (size_t i = 0; i < SNAP_FX_CNT; i++) {
        size_t         sz;
        uint8_t       *b = snap_fx_manifest(i, &sz);
        adb_manifest_t m;
        decode_ok(b, sz, &m);
        uint8_t h[32];
        /* Every bundled manifest's own hash recomputes, each by its era's
         * formula (the merkle pair's full is E2jkMCkS..., FORMAT.md 9). */
        assert_string_equal(adb_manifest_bank_hash_era(&m),
                            snap_fx_all[i].lattice ? "lattice" : "merkle");
        assert_int_equal(adb_manifest_bank_hash(&m, h), 0);
        assert_memory_equal(h, m.bank.hash.b, 32);
        /* A different signature count changes it. */
        m.bank.signature_count++;
        assert_int_equal(adb_manifest_bank_hash(&m, h), 0);
        assert_memory_not_equal(h, m.bank.hash.b, 32);
        m.bank.signature_count--;
        /* With neither a delta hash nor a lattice hash, no era applies. */
        memset(m.accounts_db.bank_hash_info.accounts_delta_hash.b, 0, 32);
        m.extra.has_accounts_lt_hash = false;
        assert_null(adb_manifest_bank_hash_era(&m));
        assert_int_equal(adb_manifest_bank_hash(&m, h), ACCTDB_ERR_UNSUPPORTED);
        adb_manifest_fini(&m);
        free(b);
    }
    /* The 4.2 fixture has hard forks at 10 and 50, outside (99, 100]: a
     * fork at the bank's own slot must change the hash. */
    size_t         sz;
    uint8_t       *b = snap_fx_manifest(0, &sz);
    adb_manifest_t m;
    decode_ok(b, sz, &m);
    assert_int_equal(m.bank.hard_forks_cnt, 2);
    uint8_t h[32];
    m.bank.hard_forks[1].slot = 100;
    assert_int_equal(adb_manifest_bank_hash(&m, h), 0);
    assert_memory_not_equal(h, m.bank.hash.b, 32);
    adb_manifest_fini(&m);
    free(b);
}

static void
test_manifest_merkle_era(void **state) {
    (void)state;
    char t[ACCTDB_BASE58_32_SZ];
    for (size_t i = 3; i < 5; i++) {
        size_t         sz;
        uint8_t       *b = snap_fx_manifest(i, &sz);
        adb_manifest_t m;
        decode_ok(b, sz, &m);
        /* Extra fields 1-3 present, versioned_epoch_stakes and later absent. */
        assert_int_equal(m.present_cnt, ADB_MANIFEST_F_EPOCH_ACCOUNTS_HASH);
        assert_false(m.extra.has_accounts_lt_hash);
        assert_false(m.extra.has_epoch_accounts_hash);
        assert_int_equal(m.extra.lamports_per_signature, 5000);
        /* Legacy epoch stakes populated (epochs 0 and 1), Stakes<Delegation>. */
        assert_int_equal(m.bank.epoch_stakes_cnt, 2);
        assert_false(m.bank.epoch_stakes[0].stakes.is_stake_form);
        assert_int_equal(m.bank.epoch_stakes[0].stakes.vote_accounts_cnt, 1);
        assert_int_equal(m.bank.stakes.vote_accounts_cnt, 1);
        assert_int_equal(m.bank.stakes.vote_accounts[0].account.data_sz, 3762);
        assert_int_equal(m.bank.stakes.delegations_cnt, 1);
        assert_true(m.bank.stakes.delegations[0].delegation.warmup_cooldown_rate == 0.25);
        assert_roundtrip(&m, b, sz);
        assert_int_equal(adb_manifest_check(&m, 0, NULL), 0);
        adb_err_t e;
        assert_int_equal(adb_manifest_check(&m, ADB_MANIFEST_CHECK_LATTICE, &e),
                         ACCTDB_ERR_CORRUPT);
        assert_non_null(strstr(e.msg, "bank.epoch_stakes: 2 legacy entries"));
        if (i == 3) {
            assert_false(m.extra.has_incremental_persistence);
            /* The full archive's name is the merkle accounts hash (FORMAT.md 6). */
            assert_string_equal(b58(m.accounts_db.bank_hash_info.accounts_hash.b, t),
                                "6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD");
        } else {
            assert_true(m.extra.has_incremental_persistence);
            adb_incremental_persistence_t const *p = &m.extra.incremental_persistence;
            assert_int_equal(p->full_slot, 10);
            assert_string_equal(b58(p->full_hash.b, t),
                                "6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD");
            assert_string_equal(b58(p->incremental_hash.b, t),
                                "GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS");
        }
        adb_manifest_fini(&m);
        free(b);
    }
}

/* Valid prefixes of the 4.2 manifest end exactly at a default_on_eof field
 * boundary (FORMAT.md 3.5/3.6: AccountsDbFields' bank_hash_info ends at
 * 1941, historical roots 1949/1957, then lamports_per_signature 1965,
 * incremental persistence 1966, EAH 1967, versioned_epoch_stakes 4315,
 * accounts_lt_hash 6364, block_id 6397). */
static void
test_manifest_truncation(void **state) {
    (void)state;
    static size_t const ends[] = {1941, 1949, 1957, 1965, 1966, 1967, 4315, 6364, 6397};
    size_t              sz;
    uint8_t            *b = snap_fx_manifest(0, &sz);
    assert_int_equal(sz, 6397);
    size_t ok_cnt = 0;
    for (size_t len = 0; len <= sz; len++) {
        /* An exact-size copy, so ASan sees any read past the end. */
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, b, len);
        adb_manifest_t m;
        adb_err_t      e;
        int            rc = adb_manifest_decode(p, len, 0, &m, &e);
        size_t         k = 0;
        while (k < ADB_ARRAY_CNT(ends) && ends[k] != len)
            k++;
        if (k < ADB_ARRAY_CNT(ends)) {
            if (rc) fail_msg("prefix %zu should decode: %s", len, e.msg);
            assert_int_equal(m.present_cnt, k);
            assert_roundtrip(&m, p, len);
            adb_manifest_fini(&m);
            ok_cnt++;
        } else {
            if (rc != ACCTDB_ERR_CORRUPT) fail_msg("prefix %zu: rc %d (%s)", len, rc, e.msg);
            char const *o = strstr(e.msg, "manifest: offset ");
            if (!o) fail_msg("prefix %zu: message without offset: %s", len, e.msg);
            unsigned long long at = strtoull(o + 17, NULL, 10);
            assert_true(at <= len);
            assert_true(strstr(e.msg, "truncated") || strstr(e.msg, "bytes that remain"));
            assert_null(m.bank.stakes.vote_accounts); /* failed decode leaves nothing */
        }
        free(p);
    }
    assert_int_equal(ok_cnt, ADB_ARRAY_CNT(ends));
    printf("  %zu prefixes: %zu valid older-format manifests, the rest CORRUPT with an offset\n",
           sz + 1, ok_cnt);
    free(b);
}

static void
expect_corrupt(uint8_t const *b, size_t sz, char const *want) {
    adb_manifest_t m;
    adb_err_t      e;
    int            rc = adb_manifest_decode(b, sz, 0, &m, &e);
    if (rc != ACCTDB_ERR_CORRUPT) fail_msg("rc %d (%s), want CORRUPT with '%s'", rc, e.msg, want);
    if (!strstr(e.msg, want)) fail_msg("message '%s' lacks '%s'", e.msg, want);
}

static void
test_manifest_hostile(void **state) {
    (void)state;
    size_t   sz;
    uint8_t *b = snap_fx_manifest(0, &sz);
    uint8_t *p = malloc(sz + 16);

    /* Length prefixes of 2^60 (FORMAT.md 3.3 offsets: ages at 41, vote
     * accounts at 646, versioned_epoch_stakes at 1967). */
    memcpy(p, b, sz);
    adb_store_u64(p + 646, 1ull << 60);
    expect_corrupt(p, sz,
                   "manifest: offset 646: bank.stakes.vote_accounts: length prefix "
                   "1152921504606846976 exceeds the 5743 bytes that remain");
    memcpy(p, b, sz);
    adb_store_u64(p + 41, 1ull << 60);
    expect_corrupt(p, sz,
                   "manifest: offset 41: bank.blockhash_queue.ages: length prefix "
                   "1152921504606846976 exceeds the 6348 bytes that remain");
    memcpy(p, b, sz);
    adb_store_u64(p + 1967, 1ull << 60);
    expect_corrupt(p, sz, "offset 1967: extra.versioned_epoch_stakes: length prefix");
    memcpy(p, b, sz);
    adb_store_u64(p + 1967, UINT64_MAX); /* count * min size overflows */
    expect_corrupt(p, sz, "length prefix 18446744073709551615 exceeds");

    /* Invalid bool, Option tag, enum variant. */
    memcpy(p, b, sz);
    p[1716] = 2;
    expect_corrupt(p, sz, "offset 1716: bank.is_delta: invalid bool byte 0x02");
    memcpy(p, b, sz);
    p[8] = 3;
    expect_corrupt(p, sz, "offset 8: bank.blockhash_queue.last_hash: invalid Option tag 3");
    memcpy(p, b, sz);
    p[6364] = 0xff;
    expect_corrupt(p, sz, "offset 6364: extra.block_id: invalid Option tag 255");
    memcpy(p, b, sz);
    p[1967 + 8 + 8] = 1; /* the first VersionedEpochStakes variant */
    expect_corrupt(p, sz, "extra.versioned_epoch_stakes.variant: unknown enum variant 1 (max 0)");
    memcpy(p, b, sz);
    p[565 + 16] = 7; /* epoch_schedule.warmup */
    expect_corrupt(p, sz, "offset 581: bank.epoch_schedule: invalid bool byte 0x07");

    /* Trailing bytes after block_id are kept and re-emitted. */
    memcpy(p, b, sz);
    memcpy(p + sz, "future-fields!!", 15);
    adb_manifest_t m;
    decode_ok(p, sz + 15, &m);
    assert_int_equal(m.trailing_sz, 15);
    assert_memory_equal(m.trailing, "future-fields!!", 15);
    assert_roundtrip(&m, p, sz + 15);
    adb_manifest_fini(&m);
    free(p);
    free(b);

    /* A merkle-era manifest followed by one stray byte: that byte starts
     * versioned_epoch_stakes, which is then cut inside: CORRUPT. */
    b = snap_fx_manifest(3, &sz);
    p = malloc(sz + 1);
    memcpy(p, b, sz);
    p[sz] = 0;
    expect_corrupt(p, sz + 1, "extra.versioned_epoch_stakes truncated");
    free(p);
    free(b);
}

static void
test_manifest_budget_oom(void **state) {
    (void)state;
    for (size_t i = 0; i < SNAP_FX_CNT; i += 3) { /* 4.2 and merkle full */
        size_t         sz;
        uint8_t       *b = snap_fx_manifest(i, &sz);
        adb_manifest_t m;
        adb_err_t      e;
        /* Over the allocation budget. */
        assert_int_equal(adb_manifest_decode(b, sz, 1000, &m, &e), ACCTDB_ERR_NOMEM);
        assert_non_null(strstr(e.msg, "budget"));

        /* Fail the Nth allocation for every N until decode succeeds: every
         * failure is NOMEM and frees everything (ASan checks the leaks). */
        uint64_t n;
        for (n = 1;; n++) {
            adb_alloc_fail_after(n);
            int rc = adb_manifest_decode(b, sz, 0, &m, &e);
            adb_alloc_fail_after(0);
            if (rc == 0) break;
            assert_int_equal(rc, ACCTDB_ERR_NOMEM);
            assert_non_null(strstr(e.msg, "cannot allocate"));
            assert_null(m.mem.head);
            assert_true(n < 1000);
        }
        /* Encode and the JSON dump under the same sweep. */
        uint64_t enc_n, js_n;
        for (enc_n = 1;; enc_n++) {
            uint8_t *o;
            size_t   osz;
            adb_alloc_fail_after(enc_n);
            int rc = adb_manifest_encode_buf(&m, &o, &osz);
            adb_alloc_fail_after(0);
            if (rc == 0) {
                assert_memory_equal(o, b, sz);
                adb_free(o);
                break;
            }
            assert_int_equal(rc, ACCTDB_ERR_NOMEM);
            assert_null(o);
        }
        for (js_n = 1;; js_n++) {
            char  *t;
            size_t tsz;
            adb_alloc_fail_after(js_n);
            int rc = adb_manifest_to_json_buf(&m, false, &t, &tsz);
            adb_alloc_fail_after(0);
            if (rc == 0) {
                adb_free(t);
                break;
            }
            assert_int_equal(rc, ACCTDB_ERR_NOMEM);
        }
        adb_alloc_fail_after(1);
        assert_int_equal(adb_manifest_check(&m, 0, &e),
                         m.accounts_db.storages_cnt > 1 ? ACCTDB_ERR_NOMEM : 0);
        adb_alloc_fail_after(0);
        printf("  %s: decode needed %llu allocations, encode %llu, JSON %llu; each failure "
               "point gives NOMEM\n",
               snap_fx_all[i].label, (unsigned long long)n, (unsigned long long)enc_n,
               (unsigned long long)js_n);
        adb_manifest_fini(&m);
        free(b);
    }
}

static void
fill_key(uint8_t *k, uint8_t seed) {
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(seed * 31 + i);
}

static void
fill_stakes(adb_manifest_t *m, adb_stakes_t *st, bool stake_form, uint8_t seed) {
    st->is_stake_form = stake_form;
    st->vote_accounts_cnt = 2;
    st->vote_accounts = adb_manifest_alloc(m, 2 * sizeof *st->vote_accounts);
    assert_non_null(st->vote_accounts);
    for (int i = 0; i < 2; i++) {
        adb_vote_account_t *va = &st->vote_accounts[i];
        fill_key(va->vote_pubkey.b, (uint8_t)(seed + i));
        va->stake = 1000u * (uint64_t)(i + 1);
        va->account.lamports = 42;
        va->account.data_sz = 100 + (uint64_t)i;
        va->account.data = adb_manifest_alloc(m, (size_t)va->account.data_sz);
        assert_non_null(va->account.data);
        memset(va->account.data, seed, (size_t)va->account.data_sz);
        fill_key(va->account.owner.b, 7);
        va->account.rent_epoch = UINT64_MAX;
    }
    st->delegations_cnt = 3;
    st->delegations = adb_manifest_alloc(m, 3 * sizeof *st->delegations);
    assert_non_null(st->delegations);
    for (int i = 0; i < 3; i++) {
        fill_key(st->delegations[i].stake_pubkey.b, (uint8_t)(seed + 10 + i));
        st->delegations[i].delegation.stake = 500;
        st->delegations[i].delegation.activation_epoch = UINT64_MAX;
        st->delegations[i].delegation.deactivation_epoch = UINT64_MAX;
        st->delegations[i].delegation.warmup_cooldown_rate = 0.25;
        st->delegations[i].credits_observed = 77;
    }
    st->epoch = seed;
}

static void
test_manifest_build(void **state) {
    (void)state;
    adb_manifest_t m;
    adb_manifest_init(&m);
    assert_int_equal(m.present_cnt, ADB_MANIFEST_F_ALL);
    assert_int_equal(m.bank.blockhash_queue.max_age, 300);
    m.bank.slot = 50;
    m.accounts_db.slot = 50;
    m.bank.parent_slot = 49;
    m.bank.signature_count = 3;
    m.bank.ns_per_slot = (unsigned __int128)1 << 100 | 400000000u; /* u128 keeps both halves */
    m.bank.slots_per_year = 78892314.98630138;
    m.bank.has_hashes_per_tick = true;
    m.bank.hashes_per_tick = 62500;
    m.bank.epoch_schedule = (adb_epoch_schedule_t){432000, 432000, true, 14, 524256};
    m.bank.blockhash_queue.has_last_hash = true;
    fill_key(m.bank.blockhash_queue.last_hash.b, 1);
    m.bank.blockhash_queue.ages_cnt = 1;
    m.bank.blockhash_queue.ages = adb_manifest_alloc(&m, sizeof(adb_hash_age_t));
    m.bank.blockhash_queue.ages[0].hash = m.bank.blockhash_queue.last_hash;
    m.bank.hard_forks_cnt = 1;
    m.bank.hard_forks = adb_manifest_alloc(&m, sizeof(adb_slot_u64_t));
    m.bank.hard_forks[0] = (adb_slot_u64_t){50, 2};
    fill_stakes(&m, &m.bank.stakes, false, 3);
    m.accounts_db.storages_cnt = 2;
    m.accounts_db.storages = adb_manifest_alloc(&m, 2 * sizeof(adb_storage_slot_t));
    for (int i = 0; i < 2; i++) {
        adb_storage_slot_t *s = &m.accounts_db.storages[i];
        s->slot = 49 + (uint64_t)i;
        s->entries_cnt = 1;
        s->entries = adb_manifest_alloc(&m, sizeof(adb_storage_entry_t));
        s->entries[0] = (adb_storage_entry_t){(uint64_t)i, 4096};
    }
    m.extra.lamports_per_signature = 5000;
    m.extra.versioned_epoch_stakes_cnt = 1;
    m.extra.versioned_epoch_stakes = adb_manifest_alloc(&m, sizeof(adb_epoch_stakes_t));
    adb_epoch_stakes_t *es = &m.extra.versioned_epoch_stakes[0];
    es->epoch = 1;
    fill_stakes(&m, &es->stakes, true, 9); /* Stakes<Stake>: credits_observed on the wire */
    es->total_stake = 3000;
    es->node_vote_accounts_cnt = 1;
    es->node_vote_accounts = adb_manifest_alloc(&m, sizeof(adb_node_vote_accounts_t));
    es->node_vote_accounts[0].vote_pubkeys_cnt = 2;
    es->node_vote_accounts[0].vote_pubkeys = adb_manifest_alloc(&m, 64);
    es->authorized_voters_cnt = 2;
    es->authorized_voters = adb_manifest_alloc(&m, 2 * sizeof(adb_authorized_voter_t));
    for (int i = 0; i < ADB_LTHASH_SZ; i++)
        m.extra.accounts_lt_hash[i] = (uint8_t)i;
    fill_key(m.extra.block_id.b, 99);
    assert_int_equal(adb_manifest_bank_hash(&m, m.bank.hash.b), 0);
    assert_int_equal(adb_manifest_check(&m, ADB_MANIFEST_CHECK_LATTICE, NULL), 0);

    uint8_t *o;
    size_t   osz;
    assert_int_equal(adb_manifest_encode_buf(&m, &o, &osz), 0);
    adb_manifest_t d;
    decode_ok(o, osz, &d);
    assert_roundtrip(&d, o, osz);
    assert_true(d.bank.ns_per_slot == m.bank.ns_per_slot);
    assert_int_equal(d.extra.versioned_epoch_stakes[0].stakes.delegations[2].credits_observed, 77);
    assert_true(d.extra.versioned_epoch_stakes[0].stakes.is_stake_form);
    assert_false(d.bank.stakes.is_stake_form);
    assert_memory_equal(d.bank.stakes.vote_accounts[1].account.data,
                        m.bank.stakes.vote_accounts[1].account.data, 101);
    uint8_t h[32];
    assert_int_equal(adb_manifest_bank_hash(&d, h), 0);
    assert_memory_equal(h, d.bank.hash.b, 32);
    assert_int_equal(adb_manifest_check(&d, ADB_MANIFEST_CHECK_LATTICE, NULL), 0);
    adb_manifest_fini(&d);

    /* Without block_id (a 3.x-era writer): one field fewer on the wire. */
    m.present_cnt = ADB_MANIFEST_F_ACCOUNTS_LT_HASH;
    uint8_t *o2;
    size_t   o2sz;
    assert_int_equal(adb_manifest_encode_buf(&m, &o2, &o2sz), 0);
    assert_int_equal(o2sz, osz - 33);
    assert_memory_equal(o2, o, o2sz);
    decode_ok(o2, o2sz, &d);
    assert_int_equal(d.present_cnt, ADB_MANIFEST_F_ACCOUNTS_LT_HASH);
    assert_false(d.extra.has_block_id);
    adb_manifest_fini(&d);
    adb_free(o2);
    /* Inconsistent requests write nothing. */
    m.present_cnt = ADB_MANIFEST_F_ALL + 1;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    assert_int_equal(adb_manifest_encode(&m, &wr), ACCTDB_ERR_INVALID);
    assert_int_equal(wr.sz, 0);
    adb_bc_wr_fini(&wr);

    adb_free(o);
    adb_manifest_fini(&m);
    adb_manifest_fini(&m); /* twice is fine */

    /* A fresh manifest with nothing filled in encodes and decodes too. */
    adb_manifest_init(&m);
    assert_int_equal(adb_manifest_encode_buf(&m, &o, &osz), 0);
    decode_ok(o, osz, &d);
    assert_roundtrip(&d, o, osz);
    assert_int_equal(d.present_cnt, ADB_MANIFEST_F_ALL);
    assert_int_equal(d.bank.blockhash_queue.max_age, 300);
    adb_manifest_fini(&d);
    adb_manifest_fini(&m);
    adb_free(o);
}

static void
expect_check_fail(adb_manifest_t const *m, uint32_t flags, char const *want) {
    adb_err_t e;
    int       rc = adb_manifest_check(m, flags, &e);
    if (rc != ACCTDB_ERR_CORRUPT) fail_msg("check rc %d, want CORRUPT '%s'", rc, want);
    if (!strstr(e.msg, want)) fail_msg("check message '%s' lacks '%s'", e.msg, want);
}

static void
test_manifest_check(void **state) {
    (void)state;
    size_t         sz;
    uint8_t       *b = snap_fx_manifest(0, &sz);
    adb_manifest_t m;
    decode_ok(b, sz, &m);
    assert_int_equal(adb_manifest_check(&m, ADB_MANIFEST_CHECK_LATTICE, NULL), 0);

    m.accounts_db.slot = 99;
    expect_check_fail(&m, 0, "accounts_db.slot 99 differs from the bank slot 100");
    m.accounts_db.slot = 100;

    adb_storage_slot_t *st = m.accounts_db.storages;
    assert_int_equal(m.accounts_db.storages_cnt, 3);
    st[1].entries_cnt = 2;
    expect_check_fail(&m, 0, "storages[1]: slot 99 has 2 storage entries (exactly 1 expected)");
    st[1].entries_cnt = 0;
    expect_check_fail(&m, 0, "slot 99 has 0 storage entries");
    st[1].entries_cnt = 1;
    st[2].slot = 101;
    expect_check_fail(&m, 0, "storages[2]: slot 101 is above the snapshot slot 100");
    st[2].slot = 98;
    expect_check_fail(&m, 0, "slot 98 listed twice");
    st[2].slot = 100;

    adb_epoch_stakes_t *ves = m.extra.versioned_epoch_stakes;
    uint64_t            e0 = ves[0].epoch;
    ves[0].epoch = ves[1].epoch;
    expect_check_fail(&m, 0, "extra.versioned_epoch_stakes: epoch");
    ves[0].epoch = e0;
    ves[0].variant = 1;
    expect_check_fail(&m, 0, "unknown variant 1");
    ves[0].variant = 0;

    /* Legacy epoch stakes: refused in the lattice era, merged otherwise. */
    m.bank.epoch_stakes = ves;
    m.bank.epoch_stakes_cnt = 1;
    expect_check_fail(&m, ADB_MANIFEST_CHECK_LATTICE, "bank.epoch_stakes: 1 legacy entries");
    expect_check_fail(&m, 0, "is in both bank.epoch_stakes and extra.versioned_epoch_stakes");
    m.bank.epoch_stakes_cnt = 0;
    m.extra.has_accounts_lt_hash = false;
    expect_check_fail(&m, ADB_MANIFEST_CHECK_LATTICE, "extra.accounts_lt_hash is missing");
    m.extra.has_accounts_lt_hash = true;
    assert_int_equal(adb_manifest_check(&m, ADB_MANIFEST_CHECK_LATTICE, NULL), 0);
    adb_manifest_fini(&m);
    free(b);
}

static void
test_manifest_json(void **state) {
    (void)state;
    for (size_t i = 0; i < SNAP_FX_CNT; i++) {
        size_t         sz;
        uint8_t       *b = snap_fx_manifest(i, &sz);
        adb_manifest_t m;
        decode_ok(b, sz, &m);
        char  *t, *tp;
        size_t tsz, tpsz;
        assert_int_equal(adb_manifest_to_json_buf(&m, false, &t, &tsz), 0);
        assert_int_equal(adb_manifest_to_json_buf(&m, true, &tp, &tpsz), 0);
        cJSON *a = cJSON_Parse(t), *p = cJSON_Parse(tp);
        if (!a) {
            fail_msg("oracle entry not found in the decoded manifest");
            return;
        }
        assert_non_null(p);
        assert_true(cJSON_Compare(a, p, true));
        /* The FILE path writes the same bytes. */
        FILE *f = tmpfile();
        assert_int_equal(adb_manifest_to_json(&m, f, false), 0);
        assert_int_equal((size_t)ftell(f), tsz);
        rewind(f);
        char *fb = malloc(tsz);
        assert_int_equal(fread(fb, 1, tsz, f), tsz);
        assert_memory_equal(fb, t, tsz);
        free(fb);
        fclose(f);
        cJSON const *bf = cJSON_GetObjectItem(a, "bank_fields");
        assert_non_null(bf);
        assert_int_equal(cJSON_GetObjectItem(bf, "slot")->valuedouble, (double)m.bank.slot);
        cJSON const *xf = cJSON_GetObjectItem(a, "extra_fields");
        /* Absent default_on_eof fields have no key. */
        assert_true(!cJSON_GetObjectItem(xf, "block_id") ==
                    !(m.present_cnt >= ADB_MANIFEST_F_BLOCK_ID));
        if (i == 0) {
            /* u64 max printed exactly, never as a double. */
            assert_non_null(strstr(t, "\"activation_epoch\":18446744073709551615"));
            assert_non_null(strstr(t, "\"slots_per_year\":78892314.98630138"));
            assert_non_null(strstr(t, "\"ns_per_slot\":400000000"));
            char hx[2 * ADB_LTHASH_SZ + 1];
            adb_test_hex(hx, m.extra.accounts_lt_hash, ADB_LTHASH_SZ);
            assert_string_equal(cJSON_GetObjectItem(xf, "accounts_lt_hash")->valuestring, hx);
            assert_string_equal(cJSON_GetObjectItem(xf, "block_id")->valuestring,
                                "4Ss5JMkXAD9Z7cktFEdrqeMuT6jGMF1pVozTyPHZ6zT4");
        }
        cJSON_Delete(a);
        cJSON_Delete(p);
        adb_free(t);
        adb_free(tp);
        adb_manifest_fini(&m);
        free(b);
    }
}

static struct CMUnitTest const manifest_tests[] = {
    cmocka_unit_test(test_manifest_oracle_42),  cmocka_unit_test(test_manifest_roundtrip_all),
    cmocka_unit_test(test_manifest_bank_hash),  cmocka_unit_test(test_manifest_merkle_era),
    cmocka_unit_test(test_manifest_truncation), cmocka_unit_test(test_manifest_hostile),
    cmocka_unit_test(test_manifest_budget_oom), cmocka_unit_test(test_manifest_build),
    cmocka_unit_test(test_manifest_check),      cmocka_unit_test(test_manifest_json),
};

ADB_TEST_GROUP(manifest, manifest_tests);
