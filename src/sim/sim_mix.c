/* src/sim/sim_mix.c - the mainnet-like account mix (acctdb_sim.h).
 *
 * acctdb_mix_draw consumes a fixed number of draws per class (the class,
 * then the size, then for LARGE the executable coin, then the program), so
 * a caller's later draws from the same stream do not depend on anything
 * but the class.  The programs and mints are counter-based streams of a
 * fixed key: nothing is tabled, any of them is four splitmix64 steps. */
#include "sim/sim.h"

#include <math.h>

#define MIX_KEY      0x6163637464626d78ull /* "acctdbmx": programs and mints */
#define MIX_PROGRAM  1u
#define MIX_MINT     2u
#define MIX_RENT_SZ  6960u /* lamports per byte: 3480 per byte-year, 2 years */
#define MIX_RENT_HDR 128u  /* bytes rent counts for an account's header */

/* TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA */
static acctdb_pubkey_t const k_token_program = {{0x06, 0xdd, 0xf6, 0xe1, 0xd7, 0x65, 0xa1, 0x93,
                                                 0xd9, 0xcb, 0xe1, 0x46, 0xce, 0xeb, 0x79, 0xac,
                                                 0x1c, 0xb4, 0x85, 0xed, 0x5f, 0x5b, 0x37, 0x91,
                                                 0x3a, 0x8c, 0xf5, 0x85, 0x7e, 0xff, 0x00, 0xa9}};
/* BPFLoaderUpgradeab1e11111111111111111111111 */
static acctdb_pubkey_t const k_bpf_loader = {{0x02, 0xa8, 0xf6, 0x91, 0x4e, 0x88, 0xa1, 0xb0,
                                              0xe2, 0x10, 0x15, 0x3e, 0xf7, 0x63, 0xae, 0x2b,
                                              0x00, 0xc2, 0xb9, 0x3d, 0x16, 0xc1, 0x24, 0xd2,
                                              0xc0, 0x53, 0x7a, 0x10, 0x04, 0x80, 0x00, 0x00}};

static uint32_t
log_uniform(adb_rng_t *r, double lo, double hi) {
    return (uint32_t)(lo * exp(adb_rng_unit(r) * log(hi / lo)));
}

/* The public stream is util/rng.h's under another name (sim_rng.c); the
 * mix steps it inline. */
acctdb_mix_shape_t
acctdb_mix_draw(acctdb_rng_t *rp) {
    adb_rng_t          r = {rp->s};
    acctdb_mix_shape_t s = {0};
    uint64_t           u = adb_rng_below(&r, 1000000);
    if (u < 700000) {
        s.cls = ACCTDB_MIX_TOKEN, s.data_len = ACCTDB_MIX_TOKEN_SZ;
    } else if (u < 850000) {
        s.cls = ACCTDB_MIX_EMPTY;
    } else {
        if (u < 999499) {
            s.cls = ACCTDB_MIX_SMALL, s.data_len = log_uniform(&r, 200, 2048);
        } else if (u < 999999) {
            s.cls = ACCTDB_MIX_LARGE, s.data_len = log_uniform(&r, 2048, 1 << 20);
            s.executable = adb_rng_below(&r, 10) == 0;
        } else {
            s.cls = ACCTDB_MIX_HUGE, s.data_len = log_uniform(&r, 1 << 20, ACCTDB_MIX_DATA_MAX);
        }
        s.program = (uint16_t)adb_rng_below(&r, ACCTDB_MIX_PROGRAMS);
    }
    rp->s = r.s;
    return s;
}

static acctdb_pubkey_t
fixed_key(uint64_t k, uint64_t what) {
    acctdb_pubkey_t p;
    adb_rng_t       r = adb_rng_at(MIX_KEY, k, what);
    adb_rng_fill(&r, p.b, 32);
    return p;
}

acctdb_pubkey_t
acctdb_mix_owner(acctdb_mix_shape_t const *s) {
    switch (s->cls) {
    case ACCTDB_MIX_TOKEN:
        return k_token_program;
    case ACCTDB_MIX_EMPTY:
        return (acctdb_pubkey_t){{0}}; /* the system program */
    default:
        return s->executable ? k_bpf_loader : fixed_key(s->program, MIX_PROGRAM);
    }
}

void
acctdb_mix_account(acctdb_mix_shape_t const *s, acctdb_rng_t *rp, acctdb_account_t *a,
                   uint8_t *data_buf) {
    adb_rng_t r = {rp->s};
    a->owner = acctdb_mix_owner(s);
    a->lamports =
        (MIX_RENT_HDR + (uint64_t)s->data_len) * MIX_RENT_SZ + 1 + adb_rng_below(&r, 1000000000);
    a->rent_epoch = UINT64_MAX;
    a->executable = s->executable;
    a->data_len = s->data_len;
    a->data = data_buf;
    uint8_t *d = data_buf;
    switch (s->cls) {
    case ACCTDB_MIX_TOKEN: {
        /* SPL Token Account: mint, owner, amount, delegate (COption),
         * state, is_native (COption), delegated amount, close authority
         * (COption). */
        acctdb_pubkey_t mint = fixed_key(adb_rng_below(&r, ACCTDB_MIX_MINTS), MIX_MINT);
        memset(d, 0, ACCTDB_MIX_TOKEN_SZ);
        memcpy(d, mint.b, 32);
        adb_rng_fill(&r, d + 32, 32);
        adb_store_u64(d + 64, adb_rng_below(&r, 1000000000000ull));
        d[108] = 1; /* initialized */
        break;
    }
    case ACCTDB_MIX_EMPTY:
        break;
    default:
        for (uint32_t k = 0; k < s->data_len; k += 8) {
            uint64_t w = adb_rng_next(&r);
            uint64_t v = (k < 48 || w % 3 == 0) ? adb_rng_next(&r) : 0;
            memcpy(d + k, &v, ADB_MIN(8u, s->data_len - k));
        }
        break;
    }
    rp->s = r.s;
}
