/* src/sim/sim_cluster.c - a synthetic cluster: its validators (identity,
 * vote account, stake account each) and its genesis.bin (see
 * acctdb_sim.h).
 *
 * Stakes move across epochs: the first half of the validators have
 * bootstrap delegations (effective from epoch 0), the others delegations
 * activated at epoch 0 that warm up at 25% of the cluster's effective stake
 * per epoch, and the last one (with 3 or more validators) deactivates at
 * epoch 2, so stake history, vote stakes and epoch stakes all change over
 * the first epochs.  Everything derives from the seed. */
#include "sim/sim.h"

#include "bank/bank.h"
#include "hash/blake3.h"
#include "snapshot/genesis.h"
#include "util/io.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define VOTE_V3_SZ 3762u
#define STAKE_SZ   200u
#define FAUCET_SOL 500000000ull /* lamports: 0.5 billion SOL */
#define SOL        1000000000ull

void
acctdb_cluster_opts_default(acctdb_cluster_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->validators = 4;
    o->slots_per_epoch = 432000;
    o->warmup = false;
    o->creation_time = 1700000000;
}

int
adb_sim_cluster_check(acctdb_cluster_opts_t const *o, adb_err_t *err) {
    if (o->validators < 1 || o->validators > ADB_SIM_VALIDATORS_MAX)
        return adb_err_set(err, ACCTDB_ERR_INVALID, "validators must be 1 to %u",
                           ADB_SIM_VALIDATORS_MAX);
    if (o->slots_per_epoch < ADB_MIN_SLOTS_PER_EPOCH || o->slots_per_epoch > (1ull << 40))
        return adb_err_set(err, ACCTDB_ERR_INVALID, "slots per epoch must be 32 to 2^40");
    return 0;
}

adb_epoch_schedule_t
adb_sim_cluster_schedule(acctdb_cluster_opts_t const *o) {
    return adb_epoch_schedule_custom(o->slots_per_epoch, o->slots_per_epoch, o->warmup);
}

adb_rent_t
adb_sim_cluster_rent(void) {
    return (adb_rent_t){3480, 2.0, 50};
}

size_t
adb_sim_cluster_cnt(acctdb_cluster_opts_t const *o) {
    return 3 * (size_t)o->validators + 1;
}

static void
key_of(acctdb_cluster_opts_t const *o, char const *what, uint64_t i, acctdb_pubkey_t *out) {
    adb_blake3_t h;
    adb_blake3_init(&h);
    adb_blake3_update(&h, "acctdb cluster ", 15);
    adb_blake3_update(&h, what, strlen(what));
    uint8_t n[16];
    adb_store_u64(n, o->seed);
    adb_store_u64(n + 8, i);
    adb_blake3_update(&h, n, sizeof n);
    adb_blake3_finalize(&h, out->b, 32);
}

/* Account i: identities 0..V-1, vote accounts V..2V-1, stake accounts
 * 2V..3V-1, the faucet 3V.  Data into buf (VOTE_V3_SZ bytes). */
void
adb_sim_cluster_account(acctdb_cluster_opts_t const *o, size_t i, acctdb_account_t *a,
                        uint8_t buf[ADB_SIM_CLUSTER_DATA_MAX]) {
    uint32_t const V = o->validators;
    adb_rent_t     rent = adb_sim_cluster_rent();
    memset(a, 0, sizeof *a);
    a->rent_epoch = 0;
    size_t          v = i % V;
    acctdb_pubkey_t identity, vote;
    key_of(o, "identity", v, &identity);
    key_of(o, "vote", v, &vote);
    if (i < V) { /* identity: a system account paying for votes */
        a->pubkey = identity;
        a->lamports = 500 * SOL + v;
    } else if (i < 2u * V) { /* vote account, VoteState V3 */
        a->pubkey = vote;
        a->owner = *adb_vote_program_id();
        a->lamports = adb_rent_minimum_balance(&rent, VOTE_V3_SZ);
        memset(buf, 0, VOTE_V3_SZ);
        adb_store_u32(buf, 2);
        memcpy(buf + 4, identity.b, 32);  /* node */
        memcpy(buf + 36, identity.b, 32); /* authorized withdrawer */
        buf[68] = 10;                     /* commission */
        /* votes: 0 (69), root_slot: None (77), authorized_voters: 1 */
        adb_store_u64(buf + 78, 1);
        adb_store_u64(buf + 86, 0);       /* from epoch 0 ... */
        memcpy(buf + 94, identity.b, 32); /* ... the identity votes */
        /* prior_voters: 32 empty entries (126 .. 1662), idx 31, is_empty */
        adb_store_u64(buf + 1662, 31);
        buf[1670] = 1;
        /* epoch_credits: 0 (1671), last_timestamp (0, 0) (1679) */
        a->data = buf;
        a->data_len = VOTE_V3_SZ;
    } else if (i < 3u * V) { /* stake account, StakeStateV2::Stake */
        acctdb_pubkey_t stake;
        key_of(o, "stake", v, &stake);
        uint64_t reserve = adb_rent_minimum_balance(&rent, STAKE_SZ);
        uint64_t amount = (1000 + 250 * (uint64_t)v) * SOL;
        a->pubkey = stake;
        a->owner = *adb_stake_program_id();
        a->lamports = amount + reserve;
        memset(buf, 0, STAKE_SZ);
        adb_store_u32(buf, 2);
        adb_store_u64(buf + 4, reserve);
        memcpy(buf + 12, identity.b, 32); /* staker */
        memcpy(buf + 44, identity.b, 32); /* withdrawer */
        memcpy(buf + 124, vote.b, 32);    /* voter */
        adb_store_u64(buf + 156, amount);
        bool bootstrap = v < (V + 1) / 2;
        adb_store_u64(buf + 164, bootstrap ? UINT64_MAX : 0);            /* activation */
        adb_store_u64(buf + 172, V >= 3 && v == V - 1 ? 2 : UINT64_MAX); /* deactivation */
        /* warmup_cooldown_rate bytes: zero, as stake program v4+ writes them */
        a->data = buf;
        a->data_len = STAKE_SZ;
    } else { /* the faucet */
        key_of(o, "faucet", 0, &a->pubkey);
        a->lamports = FAUCET_SOL * SOL;
    }
}

int
acctdb_cluster_genesis_write(acctdb_cluster_opts_t const *o, char const *path, char *msg_out,
                             size_t msg_max) {
    if (msg_out && msg_max) msg_out[0] = 0;
    if (!o || !path) return ACCTDB_ERR_INVALID;
    adb_err_t e = {0};
    int       rc = adb_sim_cluster_check(o, &e);
    if (rc) {
        if (msg_out) snprintf(msg_out, msg_max, "%s", e.msg);
        return rc;
    }
    adb_genesis_t g;
    adb_genesis_init(&g);
    size_t   n = adb_sim_cluster_cnt(o);
    uint8_t *enc = NULL;
    size_t   esz = 0;
    g.accounts = adb_genesis_alloc(&g, n * sizeof *g.accounts);
    rc = g.accounts ? 0 : ACCTDB_ERR_NOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        uint8_t          buf[ADB_SIM_CLUSTER_DATA_MAX];
        acctdb_account_t a;
        adb_sim_cluster_account(o, i, &a, buf);
        adb_genesis_account_t *ga = &g.accounts[i];
        ga->pubkey = a.pubkey;
        ga->account = (adb_bank_account_t){.lamports = a.lamports,
                                           .data_sz = a.data_len,
                                           .owner = a.owner,
                                           .executable = a.executable,
                                           .rent_epoch = a.rent_epoch};
        if (a.data_len) {
            ga->account.data = adb_genesis_alloc(&g, (size_t)a.data_len);
            if (!ga->account.data)
                rc = ACCTDB_ERR_NOMEM;
            else
                memcpy(ga->account.data, a.data, (size_t)a.data_len);
        }
    }
    if (!rc) {
        g.accounts_cnt = n;
        g.creation_time = o->creation_time;
        g.ticks_per_slot = 64;
        g.unused = 1024;
        g.poh_config = (adb_poh_config_t){.target_tick_secs = 0,
                                          .target_tick_nanos = 6250000,
                                          .has_hashes_per_tick = true,
                                          .hashes_per_tick = 62500};
        g.fee_rate_governor = (adb_fee_rate_governor_t){10000, 20000, 5000, 100000, 50};
        g.rent = adb_sim_cluster_rent();
        g.inflation = (adb_inflation_t){0.08, 0.015, 0.15, 0.05, 7.0, 0.0};
        g.epoch_schedule = adb_sim_cluster_schedule(o);
        g.cluster_type = 3; /* Development */
        rc = adb_genesis_encode_buf(&g, &enc, &esz);
    }
    if (!rc) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            rc = -errno;
        } else {
            rc = adb_io_write_all(adb_io(), fd, enc, esz);
            if (!rc) rc = adb_io_fsync(adb_io(), fd);
            close(fd);
        }
    }
    if (rc && msg_out) snprintf(msg_out, msg_max, "%s: %s", path, acctdb_strerror(rc));
    adb_free(enc);
    adb_genesis_fini(&g);
    return rc;
}
