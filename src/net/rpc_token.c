/* src/net/rpc_token.c - SPL Token and Token-2022 accounts as jsonParsed
 * (the shape of Agave's account-decoder, parse_token / parse_token_extension).
 *
 * Facts the parser follows (spl-token-2022's StateWithExtensions::unpack,
 * which Agave uses for both programs):
 *   - An account is tried first: at least 165 bytes and not 355 (the
 *     multisig size); the base must unpack (COption tags 0 or 1, state
 *     0..2) and be initialized; bytes after 165 must start with the account
 *     type byte 2 (Account).  Then a mint: at least 82 bytes, not 355, the
 *     base unpacks (bool 0/1) and is initialized; after it 83 zero bytes of
 *     padding and the type byte 1 (Mint).  Then a multisig: exactly 355
 *     bytes, initialized.  Anything else does not parse.
 *   - Extensions are TLV entries (u16 type, u16 length, value) after the
 *     type byte; the walk ends at type 0 or when fewer than 2 bytes are
 *     left.  A malformed walk gives no extensions (the account still
 *     parses).  A fixed-size extension whose length differs, or that
 *     belongs to the other account type, shows as "unparseableExtension".
 *   - A token account needs its mint's decimals; Agave reads the mint
 *     (the native mint is known: 9).
 *
 * What we do not render exactly is reported as ADB_TOK_UNSUP and the
 * caller falls back to base64: the confidential-transfer extensions, token
 * metadata, types this table does not know, and accounts of interest-
 * bearing or scaled-UI-amount mints (their UI amounts depend on the clock
 * and floating-point formatting we have not matched). */
#include "net/rpc.h"

#include <stdio.h>

/* TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA */
acctdb_pubkey_t const adb_rpc_token_program = {{0x06, 0xdd, 0xf6, 0xe1, 0xd7, 0x65, 0xa1, 0x93,
                                                0xd9, 0xcb, 0xe1, 0x46, 0xce, 0xeb, 0x79, 0xac,
                                                0x1c, 0xb4, 0x85, 0xed, 0x5f, 0x5b, 0x37, 0x91,
                                                0x3a, 0x8c, 0xf5, 0x85, 0x7e, 0xff, 0x00, 0xa9}};
/* TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb */
acctdb_pubkey_t const adb_rpc_token_2022_program = {
    {0x06, 0xdd, 0xf6, 0xe1, 0xee, 0x75, 0x8f, 0xde, 0x18, 0x42, 0x5d,
     0xbc, 0xe4, 0x6c, 0xcd, 0xda, 0xb6, 0x1a, 0xfc, 0x4d, 0x83, 0xb9,
     0x0d, 0x27, 0xfe, 0xbd, 0xf9, 0x28, 0xd8, 0xa1, 0x8b, 0xfc}};
/* So11111111111111111111111111111111111111112 */
acctdb_pubkey_t const adb_rpc_native_mint = {{0x06, 0x9b, 0x88, 0x57, 0xfe, 0xab, 0x81, 0x84,
                                              0xfb, 0x68, 0x7f, 0x63, 0x46, 0x18, 0xc0, 0x35,
                                              0xda, 0xc4, 0x39, 0xdc, 0x1a, 0xeb, 0x3b, 0x55,
                                              0x98, 0xa0, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x01}};

bool
adb_rpc_is_token_program(acctdb_pubkey_t const *p) {
    return !memcmp(p->b, adb_rpc_token_program.b, 32) ||
           !memcmp(p->b, adb_rpc_token_2022_program.b, 32);
}

#define ACCOUNT_SZ  165
#define MINT_SZ     82
#define MULTISIG_SZ 355
#define TYPE_MINT   1
#define TYPE_ACCT   2

/* ---- base states ---------------------------------------------------------- */

/* A COption tag (u32): 0 none, 1 some, -1 invalid. */
static int
coption(uint8_t const *p) {
    uint32_t t = adb_load_u32(p);
    return t == 0 ? 0 : t == 1 ? 1 : -1;
}

static bool
account_base_ok(uint8_t const *d) {
    return coption(d + 72) >= 0 && (d[108] == 1 || d[108] == 2) && coption(d + 109) >= 0 &&
           coption(d + 129) >= 0;
}

static bool
mint_base_ok(uint8_t const *d) {
    return coption(d) >= 0 && d[45] == 1 && coption(d + 46) >= 0;
}

/* The TLV area after a base of base_sz bytes with account type want, or
 * false if StateWithExtensions::unpack rejects the bytes after the base.
 * *tlv_out / *tlv_sz_out: the entries (empty when there are no extra
 * bytes). */
static bool
tlv_area(uint8_t const *d, size_t n, size_t base_sz, uint8_t want, size_t *tlv_out,
         size_t *tlv_sz_out) {
    *tlv_out = n;
    *tlv_sz_out = 0;
    if (n == base_sz) return true;
    size_t type_idx = ACCOUNT_SZ; /* the type byte sits at 165 for both */
    if (n < type_idx + 1) return false;
    for (size_t i = base_sz; i < type_idx; i++)
        if (d[i]) return false;
    if (d[type_idx] != want) return false;
    *tlv_out = type_idx + 1;
    *tlv_sz_out = n - type_idx - 1;
    return true;
}

/* ---- extensions ----------------------------------------------------------- */

typedef struct ext_info {
    char const *name;
    uint8_t     acct; /* TYPE_MINT or TYPE_ACCT */
    int16_t     sz;   /* -1: no value (rendered without reading it) */
} ext_info_t;

/* Indexed by type; a NULL name is a type we do not render. */
static ext_info_t const g_ext[] = {
    [1] = {"transferFeeConfig", TYPE_MINT, 108},
    [2] = {"transferFeeAmount", TYPE_ACCT, 8},
    [3] = {"mintCloseAuthority", TYPE_MINT, 32},
    [6] = {"defaultAccountState", TYPE_MINT, 1},
    [7] = {"immutableOwner", TYPE_ACCT, -1},
    [8] = {"memoTransfer", TYPE_ACCT, 1},
    [9] = {"nonTransferable", TYPE_MINT, -1},
    [10] = {"interestBearingConfig", TYPE_MINT, 52},
    [11] = {"cpiGuard", TYPE_ACCT, 1},
    [12] = {"permanentDelegate", TYPE_MINT, 32},
    [13] = {"nonTransferableAccount", TYPE_ACCT, -1},
    [14] = {"transferHook", TYPE_MINT, 64},
    [15] = {"transferHookAccount", TYPE_ACCT, 1},
    [18] = {"metadataPointer", TYPE_MINT, 64},
    [20] = {"groupPointer", TYPE_MINT, 64},
    [21] = {"tokenGroup", TYPE_MINT, 80},
    [22] = {"groupMemberPointer", TYPE_MINT, 64},
    [23] = {"tokenGroupMember", TYPE_MINT, 72},
};

#define WALK_OK        0
#define WALK_MALFORMED 1 /* Agave: no extensions */
#define WALK_UNSUP     2

/* Walks the entries of t[0..n): fn (may be NULL) is called for each.
 * Returns WALK_*. */
typedef void (*ext_fn)(void *ctx, uint16_t type, uint8_t const *v, size_t len);

static int
tlv_walk(uint8_t const *t, size_t n, ext_fn fn, void *ctx) {
    size_t i = 0;
    while (i < n) {
        if (n - i < 2) return WALK_OK; /* room left for a realloc */
        uint16_t type = (uint16_t)(t[i] | t[i + 1] << 8);
        if (type == 0) return WALK_OK;
        if (n - i < 4) return WALK_MALFORMED;
        size_t len = (size_t)(t[i + 2] | t[i + 3] << 8);
        if (len > n - i - 4) return WALK_MALFORMED;
        if (type >= ADB_ARRAY_CNT(g_ext) || !g_ext[type].name) return WALK_UNSUP;
        if (fn) fn(ctx, type, t + i + 4, len);
        i += 4 + len;
    }
    return WALK_OK;
}

/* The first entry of type in t[0..n) (the walk already succeeded). */
static uint8_t const *
tlv_find(uint8_t const *t, size_t n, uint16_t type, size_t *len_out) {
    size_t i = 0;
    while (n - i >= 4) {
        uint16_t ty = (uint16_t)(t[i] | t[i + 1] << 8);
        size_t   len = (size_t)(t[i + 2] | t[i + 3] << 8);
        if (ty == 0 || len > n - i - 4) break;
        if (ty == type) {
            *len_out = len;
            return t + i + 4;
        }
        i += 4 + len;
    }
    return NULL;
}

/* ---- what the bytes are ------------------------------------------------------ */

int
adb_rpc_tok_kind(uint8_t const *d, size_t n, acctdb_pubkey_t *mint_out) {
    size_t tlv, tlv_sz;
    if (n >= ACCOUNT_SZ && n != MULTISIG_SZ && account_base_ok(d) &&
        tlv_area(d, n, ACCOUNT_SZ, TYPE_ACCT, &tlv, &tlv_sz)) {
        if (mint_out) memcpy(mint_out->b, d, 32);
        return tlv_walk(d + tlv, tlv_sz, NULL, NULL) == WALK_UNSUP ? ADB_TOK_UNSUP
                                                                   : ADB_TOK_ACCOUNT;
    }
    if (n >= MINT_SZ && n != MULTISIG_SZ && mint_base_ok(d) &&
        tlv_area(d, n, MINT_SZ, TYPE_MINT, &tlv, &tlv_sz))
        return tlv_walk(d + tlv, tlv_sz, NULL, NULL) == WALK_UNSUP ? ADB_TOK_UNSUP : ADB_TOK_MINT;
    if (n == MULTISIG_SZ && (d[2] == 1)) return ADB_TOK_MULTISIG;
    return ADB_TOK_NONE;
}

int
adb_rpc_tok_mint(uint8_t const *d, size_t n, uint8_t *decimals_out) {
    size_t tlv, tlv_sz;
    *decimals_out = 0;
    if (n < MINT_SZ || n == MULTISIG_SZ || !mint_base_ok(d) ||
        !tlv_area(d, n, MINT_SZ, TYPE_MINT, &tlv, &tlv_sz))
        return ADB_TOK_MINT_MISSING;
    *decimals_out = d[44];
    /* Interest-bearing (10) and scaled UI amount (25) change what an
     * account's amount reads as. */
    uint8_t const *t = d + tlv;
    size_t         i = 0;
    while (tlv_sz - i >= 4) {
        uint16_t ty = (uint16_t)(t[i] | t[i + 1] << 8);
        size_t   len = (size_t)(t[i + 2] | t[i + 3] << 8);
        if (ty == 0 || len > tlv_sz - i - 4) break;
        if (ty == 10 || ty == 25) return ADB_TOK_MINT_UNSUP;
        i += 4 + len;
    }
    return ADB_TOK_MINT_OK;
}

/* ---- writing ----------------------------------------------------------------- */

/* An optional pubkey: COption at p (tag, then the key). */
static void
w_coption_pk(adb_json_t *j, uint8_t const *p) {
    if (coption(p) == 1)
        adb_json_b58_32(j, p + 4);
    else
        adb_json_null(j);
}

static bool
is_zero32(uint8_t const *p) {
    for (int i = 0; i < 32; i++)
        if (p[i]) return false;
    return true;
}

/* An OptionalNonZeroPubkey: all zeros is none. */
static void
w_opt_pk(adb_json_t *j, uint8_t const *p) {
    if (is_zero32(p))
        adb_json_null(j);
    else
        adb_json_b58_32(j, p);
}

/* Agave's real_number_string_trimmed. */
static void
amount_string(char *out, size_t max, uint64_t amount, uint8_t decimals) {
    char digits[32];
    int  n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)amount);
    if (decimals == 0) {
        snprintf(out, max, "%s", digits);
        return;
    }
    /* Left-pad to decimals + 1 digits, then the point before the last
     * decimals digits. */
    size_t width = (size_t)decimals + 1, len = (size_t)n, o = 0;
    char   buf[320];
    for (size_t i = len; i < width; i++)
        buf[o++] = '0';
    memcpy(buf + o, digits, len);
    o += len;
    size_t int_len = o - decimals;
    char   s[330];
    memcpy(s, buf, int_len);
    s[int_len] = '.';
    memcpy(s + int_len + 1, buf + int_len, decimals);
    size_t sl = int_len + 1 + decimals;
    while (sl > 0 && s[sl - 1] == '0')
        sl--;
    if (sl > 0 && s[sl - 1] == '.') sl--;
    s[sl] = 0;
    snprintf(out, max, "%s", s);
}

static void
w_token_amount(adb_json_t *j, uint64_t amount, uint8_t decimals) {
    char s[340];
    adb_json_obj_begin(j);
    adb_json_key(j, "amount");
    snprintf(s, sizeof s, "%llu", (unsigned long long)amount);
    adb_json_str(j, s);
    adb_json_key(j, "decimals");
    adb_json_u64(j, decimals);
    adb_json_key(j, "uiAmount");
    if (decimals <= 19) {
        uint64_t div = 1;
        for (uint8_t i = 0; i < decimals; i++)
            div *= 10;
        adb_json_f64(j, (double)amount / (double)div);
    } else {
        adb_json_null(j);
    }
    adb_json_key(j, "uiAmountString");
    amount_string(s, sizeof s, amount, decimals);
    adb_json_str(j, s);
    adb_json_obj_end(j);
}

static char const *
state_name(uint8_t s) {
    return s == 1 ? "initialized" : s == 2 ? "frozen" : "uninitialized";
}

static void
w_transfer_fee(adb_json_t *j, uint8_t const *p) {
    adb_json_obj_begin(j);
    adb_json_key(j, "epoch");
    adb_json_u64(j, adb_load_u64(p));
    adb_json_key(j, "maximumFee");
    adb_json_u64(j, adb_load_u64(p + 8));
    adb_json_key(j, "transferFeeBasisPoints");
    adb_json_u64(j, (uint16_t)(p[16] | p[17] << 8));
    adb_json_obj_end(j);
}

static void
w_two_pk(adb_json_t *j, char const *k1, char const *k2, uint8_t const *v) {
    adb_json_obj_begin(j);
    adb_json_key(j, k1);
    w_opt_pk(j, v);
    adb_json_key(j, k2);
    w_opt_pk(j, v + 32);
    adb_json_obj_end(j);
}

static int64_t
load_i64(uint8_t const *p) {
    return (int64_t)adb_load_u64(p);
}

static int16_t
load_i16(uint8_t const *p) {
    return (int16_t)(uint16_t)(p[0] | p[1] << 8);
}

/* The "state" of a fixed-size extension (its size already checked). */
static void
w_ext_state(adb_json_t *j, uint16_t type, uint8_t const *v) {
    adb_json_obj_begin(j);
    switch (type) {
    case 1:
        adb_json_key(j, "newerTransferFee");
        w_transfer_fee(j, v + 90);
        adb_json_key(j, "olderTransferFee");
        w_transfer_fee(j, v + 72);
        adb_json_key(j, "transferFeeConfigAuthority");
        w_opt_pk(j, v);
        adb_json_key(j, "withdrawWithheldAuthority");
        w_opt_pk(j, v + 32);
        adb_json_key(j, "withheldAmount");
        adb_json_u64(j, adb_load_u64(v + 64));
        break;
    case 2:
        adb_json_key(j, "withheldAmount");
        adb_json_u64(j, adb_load_u64(v));
        break;
    case 3:
        adb_json_key(j, "closeAuthority");
        w_opt_pk(j, v);
        break;
    case 6:
        adb_json_key(j, "accountState");
        adb_json_str(j, state_name(v[0] <= 2 ? v[0] : 0));
        break;
    case 8:
        adb_json_key(j, "requireIncomingTransferMemos");
        adb_json_bool(j, v[0] != 0);
        break;
    case 10:
        adb_json_key(j, "currentRate");
        adb_json_i64(j, load_i16(v + 50));
        adb_json_key(j, "initializationTimestamp");
        adb_json_i64(j, load_i64(v + 32));
        adb_json_key(j, "lastUpdateTimestamp");
        adb_json_i64(j, load_i64(v + 42));
        adb_json_key(j, "preUpdateAverageRate");
        adb_json_i64(j, load_i16(v + 40));
        adb_json_key(j, "rateAuthority");
        w_opt_pk(j, v);
        break;
    case 11:
        adb_json_key(j, "lockCpi");
        adb_json_bool(j, v[0] != 0);
        break;
    case 12:
        adb_json_key(j, "delegate");
        w_opt_pk(j, v);
        break;
    case 15:
        adb_json_key(j, "transferring");
        adb_json_bool(j, v[0] != 0);
        break;
    case 21:
        adb_json_key(j, "maxSize");
        adb_json_u64(j, adb_load_u64(v + 72));
        adb_json_key(j, "mint");
        adb_json_b58_32(j, v + 32);
        adb_json_key(j, "size");
        adb_json_u64(j, adb_load_u64(v + 64));
        adb_json_key(j, "updateAuthority");
        w_opt_pk(j, v);
        break;
    case 23:
        adb_json_key(j, "group");
        adb_json_b58_32(j, v + 32);
        adb_json_key(j, "memberNumber");
        adb_json_u64(j, adb_load_u64(v + 64));
        adb_json_key(j, "mint");
        adb_json_b58_32(j, v);
        break;
    default:
        break;
    }
    adb_json_obj_end(j);
}

typedef struct ext_ctx {
    adb_json_t    *j;
    uint8_t const *tlv;
    size_t         tlv_sz;
    uint8_t        acct; /* the account type being rendered */
} ext_ctx_t;

static void
w_ext(void *ctx, uint16_t type, uint8_t const *v0, size_t len0) {
    (void)v0;
    (void)len0;
    ext_ctx_t        *x = ctx;
    adb_json_t       *j = x->j;
    ext_info_t const *e = &g_ext[type];
    adb_json_obj_begin(j);
    adb_json_key(j, "extension");
    if (e->sz < 0) {
        adb_json_str(j, e->name);
        adb_json_obj_end(j);
        return;
    }
    /* get_extension reads the first entry of the type, of exactly its
     * size, and only from the account type it belongs to. */
    size_t         len = 0;
    uint8_t const *v = tlv_find(x->tlv, x->tlv_sz, type, &len);
    if (e->acct != x->acct || !v || len != (size_t)e->sz) {
        adb_json_str(j, "unparseableExtension");
        adb_json_obj_end(j);
        return;
    }
    adb_json_str(j, e->name);
    if (type == 14 || type == 18 || type == 20 || type == 22) {
        char const *k2 = type == 14   ? "programId"
                         : type == 18 ? "metadataAddress"
                         : type == 20 ? "groupAddress"
                                      : "memberAddress";
        adb_json_key(j, "state");
        w_two_pk(j, "authority", k2, v);
    } else {
        adb_json_key(j, "state");
        w_ext_state(j, type, v);
    }
    adb_json_obj_end(j);
}

static void
count_ext(void *ctx, uint16_t type, uint8_t const *v, size_t len) {
    (void)type;
    (void)v;
    (void)len;
    (*(size_t *)ctx)++;
}

/* "extensions" (only when the walk gives some; a malformed area gives
 * none). */
static void
w_extensions(adb_json_t *j, uint8_t const *tlv, size_t tlv_sz, uint8_t acct) {
    size_t cnt = 0;
    if (tlv_walk(tlv, tlv_sz, count_ext, &cnt) != WALK_OK || cnt == 0) return;
    ext_ctx_t x = {.j = j, .tlv = tlv, .tlv_sz = tlv_sz, .acct = acct};
    adb_json_key(j, "extensions");
    adb_json_arr_begin(j);
    tlv_walk(tlv, tlv_sz, w_ext, &x);
    adb_json_arr_end(j);
}

void
adb_rpc_tok_write(adb_json_t *j, acctdb_account_t const *a, uint8_t decimals) {
    uint8_t const *d = a->data;
    size_t         n = (size_t)a->data_len, tlv, tlv_sz;
    int            kind = adb_rpc_tok_kind(d, n, NULL);
    bool           is_2022 = !memcmp(a->owner.b, adb_rpc_token_2022_program.b, 32);

    adb_json_obj_begin(j);
    adb_json_key(j, "parsed");
    adb_json_obj_begin(j);
    adb_json_key(j, "info");
    adb_json_obj_begin(j);
    if (kind == ADB_TOK_ACCOUNT) {
        tlv_area(d, n, ACCOUNT_SZ, TYPE_ACCT, &tlv, &tlv_sz);
        bool has_delegate = coption(d + 72) == 1;
        if (coption(d + 129) == 1) {
            adb_json_key(j, "closeAuthority");
            adb_json_b58_32(j, d + 133);
        }
        if (has_delegate) {
            adb_json_key(j, "delegate");
            adb_json_b58_32(j, d + 76);
            adb_json_key(j, "delegatedAmount");
            w_token_amount(j, adb_load_u64(d + 121), decimals);
        }
        w_extensions(j, d + tlv, tlv_sz, TYPE_ACCT);
        adb_json_key(j, "isNative");
        adb_json_bool(j, coption(d + 109) == 1);
        adb_json_key(j, "mint");
        adb_json_b58_32(j, d);
        adb_json_key(j, "owner");
        adb_json_b58_32(j, d + 32);
        if (coption(d + 109) == 1) {
            adb_json_key(j, "rentExemptReserve");
            w_token_amount(j, adb_load_u64(d + 113), decimals);
        }
        adb_json_key(j, "state");
        adb_json_str(j, state_name(d[108]));
        adb_json_key(j, "tokenAmount");
        w_token_amount(j, adb_load_u64(d + 64), decimals);
    } else if (kind == ADB_TOK_MINT) {
        tlv_area(d, n, MINT_SZ, TYPE_MINT, &tlv, &tlv_sz);
        adb_json_key(j, "decimals");
        adb_json_u64(j, d[44]);
        w_extensions(j, d + tlv, tlv_sz, TYPE_MINT);
        adb_json_key(j, "freezeAuthority");
        w_coption_pk(j, d + 46);
        adb_json_key(j, "isInitialized");
        adb_json_bool(j, d[45] != 0);
        adb_json_key(j, "mintAuthority");
        w_coption_pk(j, d);
        adb_json_key(j, "supply");
        char s[32];
        snprintf(s, sizeof s, "%llu", (unsigned long long)adb_load_u64(d + 36));
        adb_json_str(j, s);
    } else {
        adb_json_key(j, "isInitialized");
        adb_json_bool(j, d[2] != 0);
        adb_json_key(j, "numRequiredSigners");
        adb_json_u64(j, d[0]);
        adb_json_key(j, "numValidSigners");
        adb_json_u64(j, d[1]);
        adb_json_key(j, "signers");
        adb_json_arr_begin(j);
        for (int i = 0; i < 11; i++)
            if (!is_zero32(d + 3 + 32 * i)) adb_json_b58_32(j, d + 3 + 32 * i);
        adb_json_arr_end(j);
    }
    adb_json_obj_end(j); /* info */
    adb_json_key(j, "type");
    adb_json_str(j, kind == ADB_TOK_ACCOUNT ? "account"
                    : kind == ADB_TOK_MINT  ? "mint"
                                            : "multisig");
    adb_json_obj_end(j); /* parsed */
    adb_json_key(j, "program");
    adb_json_str(j, is_2022 ? "spl-token-2022" : "spl-token");
    adb_json_key(j, "space");
    adb_json_u64(j, a->data_len);
    adb_json_obj_end(j);
}
