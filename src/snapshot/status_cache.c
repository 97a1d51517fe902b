/* src/snapshot/status_cache.c - status cache codec and verify_slot_deltas
 * (see status_cache.h; FORMAT.md section 4). */
#include "snapshot/status_cache.h"

#include "util/json_out.h"

#define SLOT_DELTA_MIN 17 /* slot + is_root + empty map */
#define BUCKET_MIN     48 /* Hash + key_index + empty Vec */
#define ENTRY_MIN      24 /* KeySlice + Result tag */

static char const *const tx_names[ADB_TX_ERR_MAX + 1] = {
    "AccountInUse",
    "AccountLoadedTwice",
    "AccountNotFound",
    "ProgramAccountNotFound",
    "InsufficientFundsForFee",
    "InvalidAccountForFee",
    "AlreadyProcessed",
    "BlockhashNotFound",
    "InstructionError",
    "CallChainTooDeep",
    "MissingSignatureForFee",
    "InvalidAccountIndex",
    "SignatureFailure",
    "InvalidProgramForExecution",
    "SanitizeFailure",
    "ClusterMaintenance",
    "AccountBorrowOutstanding",
    "WouldExceedMaxBlockCostLimit",
    "UnsupportedVersion",
    "InvalidWritableAccount",
    "WouldExceedMaxAccountCostLimit",
    "WouldExceedAccountDataBlockLimit",
    "TooManyAccountLocks",
    "AddressLookupTableNotFound",
    "InvalidAddressLookupTableOwner",
    "InvalidAddressLookupTableData",
    "InvalidAddressLookupTableIndex",
    "InvalidRentPayingAccount",
    "WouldExceedMaxVoteCostLimit",
    "WouldExceedAccountDataTotalLimit",
    "DuplicateInstruction",
    "InsufficientFundsForRent",
    "MaxLoadedAccountsDataSizeExceeded",
    "InvalidLoadedAccountsDataSizeLimit",
    "ResanitizationNeeded",
    "ProgramExecutionTemporarilyRestricted",
    "UnbalancedTransaction",
    "ProgramCacheHitMaxLimit",
    "CommitCancelled",
};

static char const *const ix_names[ADB_IX_ERR_MAX + 1] = {
    "GenericError",
    "InvalidArgument",
    "InvalidInstructionData",
    "InvalidAccountData",
    "AccountDataTooSmall",
    "InsufficientFunds",
    "IncorrectProgramId",
    "MissingRequiredSignature",
    "AccountAlreadyInitialized",
    "UninitializedAccount",
    "UnbalancedInstruction",
    "ModifiedProgramId",
    "ExternalAccountLamportSpend",
    "ExternalAccountDataModified",
    "ReadonlyLamportChange",
    "ReadonlyDataModified",
    "DuplicateAccountIndex",
    "ExecutableModified",
    "RentEpochModified",
    "NotEnoughAccountKeys",
    "AccountDataSizeChanged",
    "AccountNotExecutable",
    "AccountBorrowFailed",
    "AccountBorrowOutstanding",
    "DuplicateAccountOutOfSync",
    "Custom",
    "InvalidError",
    "ExecutableDataModified",
    "ExecutableLamportChange",
    "ExecutableAccountNotRentExempt",
    "UnsupportedProgramId",
    "CallDepth",
    "MissingAccount",
    "ReentrancyNotAllowed",
    "MaxSeedLengthExceeded",
    "InvalidSeeds",
    "InvalidRealloc",
    "ComputationalBudgetExceeded",
    "PrivilegeEscalation",
    "ProgramEnvironmentSetupFailure",
    "ProgramFailedToComplete",
    "ProgramFailedToCompile",
    "Immutable",
    "IncorrectAuthority",
    "BorshIoError",
    "AccountNotRentExempt",
    "InvalidAccountOwner",
    "ArithmeticOverflow",
    "UnsupportedSysvar",
    "IllegalOwner",
    "MaxAccountsDataAllocationsExceeded",
    "MaxAccountsExceeded",
    "MaxInstructionTraceLengthExceeded",
    "BuiltinProgramsMustConsumeComputeUnits",
};

char const *
adb_tx_err_name(uint32_t v) {
    return v <= ADB_TX_ERR_MAX ? tx_names[v] : "?";
}

char const *
adb_ix_err_name(uint32_t v) {
    return v <= ADB_IX_ERR_MAX ? ix_names[v] : "?";
}

static bool
tx_has_u8(uint32_t v) {
    return v == ADB_TX_ERR_INSTRUCTION_ERROR || v == ADB_TX_ERR_DUPLICATE_INSTRUCTION ||
           v == ADB_TX_ERR_INSUFFICIENT_FUNDS_FOR_RENT ||
           v == ADB_TX_ERR_PROGRAM_EXECUTION_RESTRICTED;
}

void
adb_status_cache_init(adb_status_cache_t *sc) {
    memset(sc, 0, sizeof *sc);
    adb_arena_init(&sc->mem, 0);
}

void
adb_status_cache_fini(adb_status_cache_t *sc) {
    adb_arena_fini(&sc->mem);
    memset(sc, 0, sizeof *sc);
}

void *
adb_status_cache_alloc(adb_status_cache_t *sc, size_t sz) {
    return adb_arena_alloc(&sc->mem, sz);
}

static void
rd_result(adb_bc_rd_t *rd, adb_arena_t *mem, adb_tx_result_t *r) {
    r->is_err = adb_bc_variant(rd, 1, "status.entries.result") == 1;
    if (!r->is_err) return;
    r->tx_err = adb_bc_variant(rd, ADB_TX_ERR_MAX, "status.entries.result.transaction_error");
    if (!tx_has_u8(r->tx_err)) return;
    r->index = adb_bc_u8(rd, "status.entries.result.transaction_error");
    if (r->tx_err != ADB_TX_ERR_INSTRUCTION_ERROR) return;
    r->ix_err = adb_bc_variant(rd, ADB_IX_ERR_MAX, "status.entries.result.instruction_error");
    if (r->ix_err == ADB_IX_ERR_CUSTOM) {
        r->custom = adb_bc_u32(rd, "status.entries.result.instruction_error.custom");
    } else if (r->ix_err == ADB_IX_ERR_BORSH_IO_ERROR) {
        r->borsh = adb_bc_string_dup(rd, mem, &r->borsh_sz,
                                     "status.entries.result.instruction_error.borsh_io_error");
    }
}

int
adb_status_cache_decode(void const *buf, size_t sz, size_t alloc_max, adb_status_cache_t *sc_out,
                        adb_err_t *err_out) {
    memset(sc_out, 0, sizeof *sc_out);
    if (err_out) adb_err_clear(err_out);
    if (!buf && sz) return adb_err_set(err_out, ACCTDB_ERR_INVALID, "status_cache: NULL buffer");
    adb_arena_t *mem = &sc_out->mem;
    adb_arena_init(mem, alloc_max ? alloc_max : ADB_SNAP_BUDGET(sz));
    adb_bc_rd_t rd;
    adb_bc_rd_init(&rd, buf, sz, "status_cache");

    uint64_t n = adb_bc_len(&rd, SLOT_DELTA_MIN, "slot_deltas");
    sc_out->deltas = adb_bc_arr(&rd, mem, n, sizeof *sc_out->deltas, "slot_deltas");
    if (sc_out->deltas) sc_out->deltas_cnt = n;
    for (uint64_t i = 0; i < sc_out->deltas_cnt && adb_bc_ok(&rd); i++) {
        adb_slot_delta_t *d = &sc_out->deltas[i];
        d->slot = adb_bc_u64(&rd, "slot_deltas.slot");
        d->is_root = adb_bc_bool(&rd, "slot_deltas.is_root");
        uint64_t nb = adb_bc_len(&rd, BUCKET_MIN, "status");
        d->buckets = adb_bc_arr(&rd, mem, nb, sizeof *d->buckets, "status");
        if (d->buckets) d->buckets_cnt = nb;
        for (uint64_t k = 0; k < d->buckets_cnt && adb_bc_ok(&rd); k++) {
            adb_status_bucket_t *b = &d->buckets[k];
            adb_bc_copy(&rd, b->blockhash.b, 32, "status.blockhash");
            b->key_index = adb_bc_u64(&rd, "status.key_index");
            uint64_t ne = adb_bc_len(&rd, ENTRY_MIN, "status.entries");
            b->entries = adb_bc_arr(&rd, mem, ne, sizeof *b->entries, "status.entries");
            if (b->entries) b->entries_cnt = ne;
            for (uint64_t e = 0; e < b->entries_cnt && adb_bc_ok(&rd); e++) {
                adb_bc_copy(&rd, b->entries[e].key_slice, 20, "status.entries.key_slice");
                rd_result(&rd, mem, &b->entries[e].result);
            }
        }
    }
    if (adb_bc_ok(&rd) && adb_bc_remaining(&rd) > 0) {
        uint64_t t = adb_bc_remaining(&rd);
        sc_out->trailing = adb_bc_arr(&rd, mem, t, 1, "trailing bytes");
        if (sc_out->trailing) {
            adb_bc_copy(&rd, sc_out->trailing, (size_t)t, "trailing bytes");
            sc_out->trailing_sz = t;
        }
    }
    if (!adb_bc_ok(&rd)) {
        int rc = rd.err.code;
        if (err_out) *err_out = rd.err;
        adb_status_cache_fini(sc_out);
        return rc;
    }
    return 0;
}

static bool
result_valid(adb_tx_result_t const *r) {
    if (!r->is_err) return true;
    if (r->tx_err > ADB_TX_ERR_MAX) return false;
    return r->tx_err != ADB_TX_ERR_INSTRUCTION_ERROR || r->ix_err <= ADB_IX_ERR_MAX;
}

int
adb_status_cache_encode(adb_status_cache_t const *sc, adb_bc_wr_t *wr) {
    /* Validate first so an invalid cache writes nothing. */
    for (uint64_t i = 0; i < sc->deltas_cnt; i++)
        for (uint64_t k = 0; k < sc->deltas[i].buckets_cnt; k++)
            for (uint64_t e = 0; e < sc->deltas[i].buckets[k].entries_cnt; e++)
                if (!result_valid(&sc->deltas[i].buckets[k].entries[e].result))
                    return ACCTDB_ERR_INVALID;
    adb_bc_put_u64(wr, sc->deltas_cnt);
    for (uint64_t i = 0; i < sc->deltas_cnt; i++) {
        adb_slot_delta_t const *d = &sc->deltas[i];
        adb_bc_put_u64(wr, d->slot);
        adb_bc_put_bool(wr, d->is_root);
        adb_bc_put_u64(wr, d->buckets_cnt);
        for (uint64_t k = 0; k < d->buckets_cnt; k++) {
            adb_status_bucket_t const *b = &d->buckets[k];
            adb_bc_put_bytes(wr, b->blockhash.b, 32);
            adb_bc_put_u64(wr, b->key_index);
            adb_bc_put_u64(wr, b->entries_cnt);
            for (uint64_t e = 0; e < b->entries_cnt; e++) {
                adb_tx_result_t const *r = &b->entries[e].result;
                adb_bc_put_bytes(wr, b->entries[e].key_slice, 20);
                adb_bc_put_u32(wr, r->is_err ? 1 : 0);
                if (!r->is_err) continue;
                adb_bc_put_u32(wr, r->tx_err);
                if (!tx_has_u8(r->tx_err)) continue;
                adb_bc_put_u8(wr, r->index);
                if (r->tx_err != ADB_TX_ERR_INSTRUCTION_ERROR) continue;
                adb_bc_put_u32(wr, r->ix_err);
                if (r->ix_err == ADB_IX_ERR_CUSTOM)
                    adb_bc_put_u32(wr, r->custom);
                else if (r->ix_err == ADB_IX_ERR_BORSH_IO_ERROR)
                    adb_bc_put_str(wr, r->borsh, (size_t)r->borsh_sz);
            }
        }
    }
    if (sc->trailing_sz) adb_bc_put_bytes(wr, sc->trailing, (size_t)sc->trailing_sz);
    return wr->err;
}

int
adb_status_cache_encode_buf(adb_status_cache_t const *sc, uint8_t **buf_out, size_t *sz_out) {
    *buf_out = NULL;
    *sz_out = 0;
    adb_bc_wr_t wr;
    adb_bc_wr_init(&wr, 0);
    int rc = adb_status_cache_encode(sc, &wr);
    if (rc == 0) {
        *buf_out = adb_bc_wr_take(&wr, sz_out);
        if (!*buf_out) rc = ACCTDB_ERR_NOMEM;
    }
    adb_bc_wr_fini(&wr);
    return rc;
}

int
adb_status_cache_verify(adb_status_cache_t const *sc, uint64_t bank_slot,
                        adb_slot_history_t const *sh, adb_err_t *err_out) {
    adb_err_t  scratch;
    adb_err_t *err = err_out ? err_out : &scratch;
    adb_err_clear(err);
    uint64_t                n = sc->deltas_cnt;
    adb_slot_delta_t const *d = sc->deltas;

    ADB_FAIL_IF(n > ADB_STATUS_CACHE_MAX_ENTRIES, err, ACCTDB_ERR_CORRUPT,
                "status_cache: %llu slot deltas, more than the %u allowed", (unsigned long long)n,
                ADB_STATUS_CACHE_MAX_ENTRIES);
    for (uint64_t i = 0; i < n; i++) {
        ADB_FAIL_IF(!d[i].is_root, err, ACCTDB_ERR_CORRUPT,
                    "status_cache: slot_deltas[%llu]: slot %llu is not a root",
                    (unsigned long long)i, (unsigned long long)d[i].slot);
        ADB_FAIL_IF(d[i].slot > bank_slot, err, ACCTDB_ERR_CORRUPT,
                    "status_cache: slot_deltas[%llu]: slot %llu is above the bank slot %llu",
                    (unsigned long long)i, (unsigned long long)d[i].slot,
                    (unsigned long long)bank_slot);
        for (uint64_t k = 0; k < i; k++) /* n <= 300 */
            ADB_FAIL_IF(d[k].slot == d[i].slot, err, ACCTDB_ERR_CORRUPT,
                        "status_cache: slot %llu has more than one entry (slot_deltas[%llu] and "
                        "[%llu])",
                        (unsigned long long)d[i].slot, (unsigned long long)k,
                        (unsigned long long)i);
    }

    uint64_t newest = adb_slot_history_newest(sh);
    ADB_FAIL_IF(newest != bank_slot, err, ACCTDB_ERR_CORRUPT,
                "status_cache: SlotHistory's newest slot %llu is not the bank slot %llu",
                (unsigned long long)newest, (unsigned long long)bank_slot);
    for (uint64_t i = 0; i < n; i++)
        ADB_FAIL_IF(adb_slot_history_check(sh, d[i].slot) != ADB_SLOT_FOUND, err,
                    ACCTDB_ERR_CORRUPT, "status_cache: slot %llu is not found in SlotHistory",
                    (unsigned long long)d[i].slot);

    /* The most recent MAX_ENTRIES slots found in the history, newest first,
     * must each have a delta.  Walks down from newest to oldest, skipping
     * the rest of a 64-bit word at once when no bit at or below the current
     * one is set (a young chain's 2^20-bit history is mostly zeros). */
    uint64_t found = 0, oldest = adb_slot_history_oldest(sh);
    if (sh->len == 0 || sh->next_slot == 0) return 0; /* nothing can be found */
    for (uint64_t s = newest;;) {
        uint64_t bit = s % sh->len, in_word = bit % 64;
        uint64_t w = adb_load_u64(sh->bits + (bit / 64) * 8);
        uint64_t below = in_word == 63 ? w : w & ((2ull << in_word) - 1);
        if (below == 0) { /* slots s - in_word .. s are all absent */
            if (s - oldest <= in_word) break;
            s -= in_word + 1;
            continue;
        }
        if (w >> in_word & 1) {
            bool have = false;
            for (uint64_t i = 0; i < n && !have; i++)
                have = d[i].slot == s;
            ADB_FAIL_IF(!have, err, ACCTDB_ERR_CORRUPT,
                        "status_cache: slot %llu is in SlotHistory (one of its %u most recent "
                        "slots) but has no slot delta",
                        (unsigned long long)s, ADB_STATUS_CACHE_MAX_ENTRIES);
            if (++found == ADB_STATUS_CACHE_MAX_ENTRIES) break;
        }
        if (s == oldest) break;
        s--;
    }
    return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static void
js_result(adb_json_t *j, adb_tx_result_t const *r) {
    adb_json_obj_begin(j);
    adb_json_key(j, "type");
    adb_json_str(j, r->is_err ? "Err" : "Ok");
    if (r->is_err) {
        adb_json_key(j, "transaction_error");
        adb_json_obj_begin(j);
        adb_json_key(j, "type");
        adb_json_str(j, adb_tx_err_name(r->tx_err));
        adb_json_key(j, "variant");
        adb_json_u64(j, r->tx_err);
        if (tx_has_u8(r->tx_err)) {
            adb_json_key(j, r->tx_err == ADB_TX_ERR_INSTRUCTION_ERROR       ? "instruction_index"
                            : r->tx_err == ADB_TX_ERR_DUPLICATE_INSTRUCTION ? "index"
                                                                            : "account_index");
            adb_json_u64(j, r->index);
        }
        if (r->tx_err == ADB_TX_ERR_INSTRUCTION_ERROR) {
            adb_json_key(j, "instruction_error");
            adb_json_obj_begin(j);
            adb_json_key(j, "type");
            adb_json_str(j, adb_ix_err_name(r->ix_err));
            adb_json_key(j, "variant");
            adb_json_u64(j, r->ix_err);
            if (r->ix_err == ADB_IX_ERR_CUSTOM) {
                adb_json_key(j, "custom_code");
                adb_json_u64(j, r->custom);
            } else if (r->ix_err == ADB_IX_ERR_BORSH_IO_ERROR) {
                adb_json_key(j, "message");
                adb_json_strn(j, r->borsh, (size_t)r->borsh_sz);
            }
            adb_json_obj_end(j);
        }
        adb_json_obj_end(j);
    }
    adb_json_obj_end(j);
}

void
adb_status_cache_json(adb_json_t *j, adb_status_cache_t const *sc) {
    adb_json_obj_begin(j);
    adb_json_key(j, "slot_deltas");
    adb_json_arr_begin(j);
    for (uint64_t i = 0; i < sc->deltas_cnt; i++) {
        adb_slot_delta_t const *d = &sc->deltas[i];
        adb_json_obj_begin(j);
        adb_json_key(j, "slot");
        adb_json_u64(j, d->slot);
        adb_json_key(j, "is_root");
        adb_json_bool(j, d->is_root);
        adb_json_key(j, "status");
        adb_json_arr_begin(j);
        for (uint64_t k = 0; k < d->buckets_cnt; k++) {
            adb_status_bucket_t const *b = &d->buckets[k];
            adb_json_obj_begin(j);
            adb_json_key(j, "blockhash_hex");
            adb_json_hex(j, b->blockhash.b, 32);
            adb_json_key(j, "key_index");
            adb_json_u64(j, b->key_index);
            adb_json_key(j, "entries");
            adb_json_arr_begin(j);
            for (uint64_t e = 0; e < b->entries_cnt; e++) {
                adb_json_obj_begin(j);
                adb_json_key(j, "key_slice_hex");
                adb_json_hex(j, b->entries[e].key_slice, 20);
                adb_json_key(j, "result");
                js_result(j, &b->entries[e].result);
                adb_json_obj_end(j);
            }
            adb_json_arr_end(j);
            adb_json_obj_end(j);
        }
        adb_json_arr_end(j);
        adb_json_obj_end(j);
    }
    adb_json_arr_end(j);
    adb_json_key(j, "trailing_hex");
    adb_json_hex(j, sc->trailing, (size_t)sc->trailing_sz);
    adb_json_obj_end(j);
}
