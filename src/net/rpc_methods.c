/* src/net/rpc_methods.c - Solana's read methods (Agave rpc/src/rpc.rs
 * semantics) over the public database API.
 *
 * Each method checks its params in serde's order (types first, then the
 * values Agave verifies), picks the slot its commitment reads, and writes
 * its result into c->out.  The whole call reads that one slot; if the slot
 * was rooted past or died meanwhile (a live database), the method returns
 * ADB_RPC_RETRY and rpc.c evaluates it again from the start. */
#include "net/rpc.h"

#include <stdio.h>

/* ---- helpers ---------------------------------------------------------------- */

static int
expect_str(adb_rpc_call_t *c, json_object *v) {
    if (json_object_get_type(v) == json_type_string) return ADB_RPC_OK;
    /* adb_rpc_pubkey words the type error. */
    acctdb_pubkey_t k;
    return adb_rpc_pubkey(c, v, &k);
}

static void
ctx_begin(adb_rpc_call_t *c, uint64_t slot) {
    adb_json_t *j = &c->out;
    adb_json_obj_begin(j);
    adb_json_key(j, "context");
    adb_json_obj_begin(j);
    adb_json_key(j, "apiVersion");
    adb_json_str(j, acctdb_version());
    adb_json_key(j, "slot");
    adb_json_u64(j, slot);
    adb_json_obj_end(j);
    adb_json_key(j, "value");
}

static void
ctx_end(adb_rpc_call_t *c) {
    adb_json_obj_end(&c->out);
}

/* One {"account":…,"pubkey":…} entry; SKIP leaves nothing. */
static int
keyed_account(adb_rpc_call_t *c, adb_rpc_cfg_t const *cfg, acctdb_account_t const *a, int mode) {
    adb_rpc_plan_t plan;
    int            rc = adb_rpc_account_plan(c, cfg, a, mode, &plan);
    if (rc) return rc;
    adb_json_obj_begin(&c->out);
    adb_json_key(&c->out, "account");
    if ((rc = adb_rpc_account_emit(c, cfg, a, &plan))) return rc;
    adb_json_key(&c->out, "pubkey");
    adb_json_b58_32(&c->out, a->pubkey.b);
    adb_json_obj_end(&c->out);
    if (adb_rpc_over(c))
        return adb_rpc_too_large(c, "use filters, dataSlice, or limit and paginationKey");
    return ADB_RPC_OK;
}

/* ---- getAccountInfo, getMultipleAccounts, getBalance ------------------------------ */

/* The calls on one pubkey: [pubkey, config?] checked in Agave's order,
 * the context slot chosen, the account loaded (*found false: absent). */
static int
one_account(adb_rpc_call_t *c, unsigned cfg_kind, adb_rpc_cfg_t *cfg, uint64_t *slot,
            acctdb_account_t *a, bool *found) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 1, 2, &n))) return rc;
    json_object *pk = adb_rpc_param(c, 0);
    if ((rc = expect_str(c, pk))) return rc;
    if ((rc = adb_rpc_config(c, adb_rpc_param(c, 1), cfg_kind, cfg))) return rc;
    acctdb_pubkey_t key;
    if ((rc = adb_rpc_pubkey(c, pk, &key))) return rc;
    if ((rc = adb_rpc_ctx_slot(c, cfg, slot))) return rc;
    return adb_rpc_load(c, &key, a, found);
}

static int
m_get_account_info(adb_rpc_call_t *c) {
    adb_rpc_cfg_t    cfg;
    uint64_t         slot;
    acctdb_account_t a;
    bool             found;
    int              rc = one_account(c, ADB_RPC_CFG_ACCOUNT, &cfg, &slot, &a, &found);
    if (rc) return rc;
    adb_rpc_plan_t plan;
    if (found && (rc = adb_rpc_account_plan(c, &cfg, &a, ADB_RPC_PARSED_LONE, &plan))) return rc;
    ctx_begin(c, slot);
    if (!found)
        adb_json_null(&c->out);
    else if ((rc = adb_rpc_account_emit(c, &cfg, &a, &plan)))
        return rc;
    ctx_end(c);
    return adb_rpc_over(c) ? adb_rpc_too_large(c, "use dataSlice") : ADB_RPC_OK;
}

static int
m_get_multiple_accounts(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 1, 2, &n))) return rc;
    json_object *arr = adb_rpc_param(c, 0);
    if (json_object_get_type(arr) != json_type_array) {
        acctdb_pubkey_t k; /* words the type error */
        return adb_rpc_pubkey(c, arr, &k) ? ADB_RPC_ERR
                                          : adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                                         "Invalid params: expected a sequence.");
    }
    size_t cnt = json_object_array_length(arr);
    for (size_t i = 0; i < cnt; i++)
        if ((rc = expect_str(c, json_object_array_get_idx(arr, i)))) return rc;
    adb_rpc_cfg_t cfg;
    if ((rc = adb_rpc_config(c, adb_rpc_param(c, 1), ADB_RPC_CFG_ACCOUNT, &cfg))) return rc;
    if (cnt > ADB_RPC_MAX_MULTIPLE_ACCOUNTS)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Too many inputs provided; max %d",
                            ADB_RPC_MAX_MULTIPLE_ACCOUNTS);
    acctdb_pubkey_t keys[ADB_RPC_MAX_MULTIPLE_ACCOUNTS];
    for (size_t i = 0; i < cnt; i++)
        if ((rc = adb_rpc_pubkey(c, json_object_array_get_idx(arr, i), &keys[i]))) return rc;
    uint64_t slot;
    if ((rc = adb_rpc_ctx_slot(c, &cfg, &slot))) return rc;
    /* Every account is planned before anything is written, so an account
     * over the base58 limit fails the call (as Agave's collect does). */
    ctx_begin(c, slot);
    adb_json_arr_begin(&c->out);
    for (size_t i = 0; i < cnt; i++) {
        acctdb_account_t a;
        bool             found;
        if ((rc = adb_rpc_load(c, &keys[i], &a, &found))) return rc;
        if (!found) {
            adb_json_null(&c->out);
            continue;
        }
        adb_rpc_plan_t plan;
        if ((rc = adb_rpc_account_plan(c, &cfg, &a, ADB_RPC_PARSED_LONE, &plan))) return rc;
        if ((rc = adb_rpc_account_emit(c, &cfg, &a, &plan))) return rc;
        if (adb_rpc_over(c)) return adb_rpc_too_large(c, "use dataSlice or fewer pubkeys");
    }
    adb_json_arr_end(&c->out);
    ctx_end(c);
    return ADB_RPC_OK;
}

static int
m_get_balance(adb_rpc_call_t *c) {
    adb_rpc_cfg_t    cfg;
    uint64_t         slot;
    acctdb_account_t a;
    bool             found;
    int              rc = one_account(c, ADB_RPC_CFG_CONTEXT, &cfg, &slot, &a, &found);
    if (rc) return rc;
    ctx_begin(c, slot);
    adb_json_u64(&c->out, found ? a.lamports : 0);
    ctx_end(c);
    return ADB_RPC_OK;
}

/* ---- getProgramAccounts ------------------------------------------------------------ */

/* spl-token-2022's GenericTokenAccount::valid_account_data (the
 * tokenAccountState filter): an initialized or frozen account. */
static bool
valid_token_account(acctdb_account_t const *a) {
    size_t n = (size_t)a->data_len;
    if (n < 165 || a->data[108] == 0) return false;
    return n == 165 || (n != 355 && a->data[165] == 2);
}

static bool
filters_match(adb_rpc_cfg_t const *cfg, acctdb_account_t const *a) {
    for (size_t i = 0; i < cfg->filter_cnt; i++) {
        adb_rpc_filter_t const *f = &cfg->filters[i];
        if (f->kind == 1 && a->data_len != f->data_size) return false;
        if (f->kind == 2 && (f->offset > a->data_len || f->len > a->data_len - f->offset ||
                             memcmp(a->data + f->offset, f->bytes, f->len)))
            return false;
        if (f->kind == 3 && !valid_token_account(a)) return false;
    }
    return true;
}

typedef struct scan_ctx {
    adb_rpc_call_t      *c;
    adb_rpc_cfg_t const *cfg;
    int                  mode;    /* ADB_RPC_PARSED_* */
    bool                 all;     /* check every filter here (the token index path) */
    bool                 recheck; /* some filter the database scan cannot apply */
    acctdb_pubkey_t      mint;    /* getTokenAccountsByOwner's mint, when has_mint */
    bool                 has_mint;
    bool                 index; /* the token index answers: Agave's index holds only
                                 * valid_account_data accounts */
    int rc;                     /* why the scan was stopped */
} scan_ctx_t;

#define SCAN_STOP 1 /* a positive return ends the database's scan */

static int
scan_cb(void *ctx, acctdb_account_t const *a, uint64_t slot) {
    scan_ctx_t          *s = ctx;
    adb_rpc_cfg_t const *cfg = s->cfg;
    if (cfg->has_changed_since && slot < cfg->changed_since) return 0;
    if ((s->all || s->recheck) && !filters_match(cfg, a)) return 0;
    if (s->has_mint && memcmp(a->data, s->mint.b, 32)) return 0;
    if (s->index && !valid_token_account(a)) return 0;
    int rc = keyed_account(s->c, cfg, a, s->mode);
    if (rc == ADB_RPC_SKIP) return 0;
    if (rc) {
        s->rc = rc;
        return SCAN_STOP;
    }
    return 0;
}

/* A scan's failure: KeyExcludedFromSecondaryIndex without the owner
 * index (Agave's answer when the index a query needs is not kept). */
static int
scan_fail(adb_rpc_call_t *c, int rc, acctdb_pubkey_t const *key) {
    if (rc == ACCTDB_ERR_UNSUPPORTED) {
        char b58[ACCTDB_BASE58_32_SZ];
        return adb_rpc_fail(c, ADB_RPC_KEY_EXCLUDED,
                            "%s excluded from account secondary indexes; this RPC method "
                            "unavailable for key",
                            acctdb_base58_encode_32(key->b, b58));
    }
    if (rc == ACCTDB_ERR_TOO_OLD || rc == ACCTDB_ERR_INVALID || rc == ACCTDB_ERR_NOT_FOUND)
        return adb_rpc_db_fail(c, rc);
    return adb_rpc_fail(c, ADB_RPC_SCAN_ERROR, "Scan failed: %s", acctdb_strerror(rc));
}

/* Agave's get_spl_token_owner_filter / get_spl_token_mint_filter: a token
 * program query that the token indexes answer: a 32-byte memcmp at 32 (the
 * token owner) or at 0 (the mint), with dataSize 165, tokenAccountState or
 * the account type byte 2 at 165. */
static bool
token_index_query(adb_rpc_cfg_t const *cfg, acctdb_pubkey_t *key_out, bool *by_mint_out) {
    bool   shaped = false, has_owner = false, has_mint = false;
    size_t owner_i = 0, mint_i = 0;
    for (size_t i = 0; i < cfg->filter_cnt; i++) {
        adb_rpc_filter_t const *f = &cfg->filters[i];
        if ((f->kind == 1 && f->data_size == 165) || f->kind == 3 ||
            (f->kind == 2 && f->offset == 165 && f->len == 1 && f->bytes[0] == 2))
            shaped = true;
        if (f->kind == 2 && f->offset == 32 && f->len == 32) has_owner = true, owner_i = i;
        if (f->kind == 2 && f->offset == 0 && f->len == 32) has_mint = true, mint_i = i;
    }
    if (!shaped || !(has_owner || has_mint)) return false;
    *by_mint_out = !has_owner;
    memcpy(key_out->b, cfg->filters[has_owner ? owner_i : mint_i].bytes, 32);
    return true;
}

static int
program_accounts(adb_rpc_call_t *c, bool v2) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 1, 2, &n))) return rc;
    json_object  *pk = adb_rpc_param(c, 0);
    adb_rpc_cfg_t cfg;
    if ((rc = expect_str(c, pk))) return rc;
    if ((rc = adb_rpc_config(c, adb_rpc_param(c, 1), ADB_RPC_CFG_PROGRAM, &cfg))) return rc;
    acctdb_pubkey_t program;
    if ((rc = adb_rpc_pubkey(c, pk, &program))) return rc;
    uint64_t slot;
    if ((rc = adb_rpc_ctx_slot(c, &cfg, &slot))) return rc;

    bool   paged = v2 || cfg.has_limit || cfg.has_page_key;
    size_t limit = cfg.has_limit ? (size_t)cfg.limit : paged ? ADB_RPC_PAGE_DEFAULT : 0;
    bool   token = adb_rpc_is_token_program(&program);

    scan_ctx_t s = {
        .c = c,
        .cfg = &cfg,
        .mode = token ? ADB_RPC_PARSED_LIST : ADB_RPC_PARSED_LONE,
    };
    /* The database applies one dataSize and every memcmp; the rest (a
     * second dataSize, tokenAccountState) is checked here. */
    acctdb_scan_filter_t f = {.owner = program};
    for (size_t i = 0; i < cfg.filter_cnt; i++) {
        adb_rpc_filter_t const *x = &cfg.filters[i];
        if (x->kind == 1 && !f.has_data_size) {
            f.has_data_size = true;
            f.data_size = x->data_size;
        } else if (x->kind == 2) {
            acctdb_memcmp_t *m = &f.memcmp[f.memcmp_cnt++];
            m->offset = x->offset;
            m->bytes = x->bytes;
            m->len = x->len;
        } else {
            s.recheck = true;
        }
    }
    acctdb_pubkey_t ixkey;
    bool            by_mint = false;
    bool            use_ix = token && token_index_query(&cfg, &ixkey, &by_mint);
    s.all = s.index = use_ix;

    if (cfg.with_context) ctx_begin(c, slot);
    if (paged) {
        adb_json_obj_begin(&c->out);
        adb_json_key(&c->out, "accounts");
    }
    adb_json_arr_begin(&c->out);
    acctdb_pubkey_t        next;
    bool                   more = false;
    acctdb_pubkey_t const *cursor = cfg.has_page_key ? &cfg.page_key : NULL;
    if (use_ix)
        rc = acctdb_db_token_scan(c->r->db, slot, &ixkey, by_mint, &program, cursor, limit, scan_cb,
                                  &s, &next, &more);
    else
        rc = acctdb_db_scan(c->r->db, slot, &f, cursor, limit, scan_cb, &s, &next, &more);
    if (rc == SCAN_STOP) return s.rc;
    if (rc) return scan_fail(c, rc, &program);
    adb_json_arr_end(&c->out);
    if (paged) {
        adb_json_key(&c->out, "paginationKey");
        if (more)
            adb_json_b58_32(&c->out, next.b);
        else
            adb_json_null(&c->out);
        adb_json_obj_end(&c->out);
    }
    if (cfg.with_context) ctx_end(c);
    return ADB_RPC_OK;
}

static int
m_get_program_accounts(adb_rpc_call_t *c) {
    return program_accounts(c, false);
}

static int
m_get_program_accounts_v2(adb_rpc_call_t *c) {
    return program_accounts(c, true);
}

/* ---- getTokenAccountsByOwner ------------------------------------------------------- */

static int
m_get_token_accounts_by_owner(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 2, 3, &n))) return rc;
    json_object *pk = adb_rpc_param(c, 0), *flt = adb_rpc_param(c, 1);
    if ((rc = expect_str(c, pk))) return rc;
    /* RpcTokenAccountsFilter: {"mint": pubkey} or {"programId": pubkey}. */
    json_object *fv = NULL;
    bool         by_mint = false;
    if (json_object_get_type(flt) != json_type_object || json_object_object_length(flt) != 1)
        return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                            "Invalid params: expected {\"mint\": pubkey} or {\"programId\": "
                            "pubkey}.");
    json_object_object_foreach(flt, fk, fval) {
        if (!strcmp(fk, "mint"))
            by_mint = true;
        else if (strcmp(fk, "programId"))
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                "Invalid params: unknown variant, expected `mint` or `programId`.");
        fv = fval;
    }
    if ((rc = expect_str(c, fv))) return rc;
    adb_rpc_cfg_t cfg;
    if ((rc = adb_rpc_config(c, adb_rpc_param(c, 2), ADB_RPC_CFG_ACCOUNT, &cfg))) return rc;
    acctdb_pubkey_t owner, fkey;
    if ((rc = adb_rpc_pubkey(c, pk, &owner))) return rc;
    if ((rc = adb_rpc_pubkey(c, fv, &fkey))) return rc;
    uint64_t slot;
    if ((rc = adb_rpc_ctx_slot(c, &cfg, &slot))) return rc;

    /* Agave's get_token_program_id_and_mint. */
    acctdb_pubkey_t program;
    if (by_mint) {
        if (!memcmp(fkey.b, adb_rpc_native_mint.b, 32)) {
            program = adb_rpc_token_program;
        } else {
            acctdb_account_t m;
            bool             found;
            if ((rc = adb_rpc_load(c, &fkey, &m, &found))) return rc;
            uint8_t dec;
            if (!found)
                return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                    "Invalid param: could not find mint");
            if (adb_rpc_tok_mint(m.data, (size_t)m.data_len, &dec) == ADB_TOK_MINT_MISSING)
                return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                    "Invalid param: Token mint could not be unpacked");
            if (!adb_rpc_is_token_program(&m.owner))
                return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS, "Invalid param: not a Token mint");
            program = m.owner;
        }
    } else {
        if (!adb_rpc_is_token_program(&fkey))
            return adb_rpc_fail(c, ADB_RPC_INVALID_PARAMS,
                                "Invalid param: unrecognized Token program id");
        program = fkey;
    }
    scan_ctx_t s = {.c = c, .cfg = &cfg, .mode = ADB_RPC_PARSED_LIST, .index = true};
    if (by_mint) {
        s.has_mint = true;
        s.mint = fkey;
    }
    ctx_begin(c, slot);
    adb_json_arr_begin(&c->out);
    rc = acctdb_db_token_scan(c->r->db, slot, &owner, false, &program, NULL, 0, scan_cb, &s, NULL,
                              NULL);
    if (rc == SCAN_STOP) return s.rc;
    if (rc) return scan_fail(c, rc, &owner);
    adb_json_arr_end(&c->out);
    ctx_end(c);
    return ADB_RPC_OK;
}

/* ---- the rest ------------------------------------------------------------------------ */

static int
m_get_slot(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 0, 1, &n))) return rc;
    adb_rpc_cfg_t cfg;
    if ((rc = adb_rpc_config(c, adb_rpc_param(c, 0), ADB_RPC_CFG_CONTEXT, &cfg))) return rc;
    uint64_t slot;
    if ((rc = adb_rpc_ctx_slot(c, &cfg, &slot))) return rc;
    adb_json_u64(&c->out, slot);
    return ADB_RPC_OK;
}

static int
m_get_health(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 0, 0, &n))) return rc;
    /* The database is whole (created verified, reopened with its checks);
     * it follows no cluster, so "behind" means what the server's /health
     * says: its root stopped moving.  Agave's answer then: NodeUnhealthy
     * with numSlotsBehind null (no cluster slot to count from). */
    if (c->r->health && strcmp(c->r->health(c->r->health_ctx), "ok")) {
        c->err_data = 3;
        return adb_rpc_fail(c, ADB_RPC_NODE_UNHEALTHY, "Node is unhealthy");
    }
    adb_json_str(&c->out, "ok");
    return ADB_RPC_OK;
}

static int
m_get_version(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 0, 0, &n))) return rc;
    adb_json_obj_begin(&c->out);
    adb_json_key(&c->out, "feature-set");
    adb_json_u64(&c->out, 0);
    adb_json_key(&c->out, "solana-core");
    adb_json_str(&c->out, acctdb_version());
    adb_json_obj_end(&c->out);
    return ADB_RPC_OK;
}

static int
m_get_genesis_hash(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 0, 0, &n))) return rc;
    acctdb_hash_t h = c->r->genesis_hash;
    if (!c->r->has_genesis_hash) {
        acctdb_db_cluster_t cl;
        if (acctdb_db_cluster(c->r->db, &cl) || !cl.has_genesis_hash)
            return adb_rpc_fail(c, ADB_RPC_INTERNAL_ERROR,
                                "Internal error: the genesis hash is not known (serve with the "
                                "cluster's genesis file)");
        h = cl.genesis_hash;
    }
    adb_json_b58_32(&c->out, h.b);
    return ADB_RPC_OK;
}

/* The slot in an archive's name after prefix ("snapshot-" or
 * "incremental-snapshot-B-"). */
static bool
name_slot(char const *path, bool incremental, uint64_t *out) {
    char const *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char const *p = base + (incremental ? strlen("incremental-snapshot-") : strlen("snapshot-"));
    if (incremental) {
        if (strncmp(base, "incremental-snapshot-", 21)) return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p++ != '-') return false;
    } else if (strncmp(base, "snapshot-", 9)) {
        return false;
    }
    if (*p < '0' || *p > '9') return false;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return *p == '-';
}

static int
m_get_highest_snapshot_slot(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 0, 0, &n))) return rc;
    char     full[4096], inc[4096];
    uint64_t fs = 0, is = 0;
    if (!c->r->snapshot_dir ||
        acctdb_snapshot_find(c->r->snapshot_dir, full, sizeof full, inc, sizeof inc, NULL, 0) ||
        !name_slot(full, false, &fs))
        return adb_rpc_fail(c, ADB_RPC_NO_SNAPSHOT, "No snapshot");
    bool has_inc = inc[0] && name_slot(inc, true, &is);
    adb_json_obj_begin(&c->out);
    adb_json_key(&c->out, "full");
    adb_json_u64(&c->out, fs);
    adb_json_key(&c->out, "incremental");
    if (has_inc)
        adb_json_u64(&c->out, is);
    else
        adb_json_null(&c->out);
    adb_json_obj_end(&c->out);
    return ADB_RPC_OK;
}

static int
m_get_min_balance(adb_rpc_call_t *c) {
    size_t n;
    int    rc;
    if ((rc = adb_rpc_params(c, 1, 2, &n))) return rc;
    uint64_t len;
    if ((rc = adb_rpc_u64(c, adb_rpc_param(c, 0), "data length", &len))) return rc;
    adb_rpc_cfg_t cfg;
    if ((rc = adb_rpc_config(c, adb_rpc_param(c, 1), ADB_RPC_CFG_COMMITMENT, &cfg))) return rc;
    adb_json_u64(&c->out, acctdb_db_min_balance(c->r->db, len));
    return ADB_RPC_OK;
}

/* ---- the table ------------------------------------------------------------------------ */

typedef struct method {
    char const       *name;
    adb_rpc_method_fn fn;
} method_t;

static method_t const g_methods[] = {
    {"getAccountInfo", m_get_account_info},
    {"getBalance", m_get_balance},
    {"getGenesisHash", m_get_genesis_hash},
    {"getHealth", m_get_health},
    {"getHighestSnapshotSlot", m_get_highest_snapshot_slot},
    {"getMinimumBalanceForRentExemption", m_get_min_balance},
    {"getMultipleAccounts", m_get_multiple_accounts},
    {"getProgramAccounts", m_get_program_accounts},
    {"getProgramAccountsV2", m_get_program_accounts_v2},
    {"getSlot", m_get_slot},
    {"getTokenAccountsByOwner", m_get_token_accounts_by_owner},
    {"getVersion", m_get_version},
};

adb_rpc_method_fn
adb_rpc_method(char const *name, size_t len) {
    for (size_t i = 0; i < ADB_ARRAY_CNT(g_methods); i++)
        if (strlen(g_methods[i].name) == len && !memcmp(g_methods[i].name, name, len))
            return g_methods[i].fn;
    return NULL;
}
