/* fuzz/fuzz_status_cache.c - the status cache decoder and the sysvar
 * decoders on arbitrary bytes.  An accepted status cache encodes back to
 * the same bytes; if it is a plausible cache (at most 300 root deltas with
 * distinct slots inside one SlotHistory window), verify_slot_deltas must
 * accept it against a SlotHistory built from its own slots.  The same bytes
 * are also read as SlotHistory, Clock, Rent and EpochSchedule data. */
#include "snapshot/status_cache.h"
#include "bank/bank_sysvar.h"
#include "util/json_out.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

static uint8_t g_hist[ADB_SYSVAR_SLOT_HISTORY_SZ];

static void
check_plausible(adb_status_cache_t const *sc) {
    uint64_t n = sc->deltas_cnt;
    if (n == 0 || n > ADB_STATUS_CACHE_MAX_ENTRIES) return;
    uint64_t slots[ADB_STATUS_CACHE_MAX_ENTRIES], lo = UINT64_MAX, hi = 0;
    for (uint64_t i = 0; i < n; i++) {
        adb_slot_delta_t const *d = &sc->deltas[i];
        if (!d->is_root || d->slot == UINT64_MAX) return;
        for (uint64_t k = 0; k < i; k++)
            if (slots[k] == d->slot) return;
        slots[i] = d->slot;
        lo = ADB_MIN(lo, d->slot);
        hi = ADB_MAX(hi, d->slot);
    }
    if (hi - lo >= ADB_SLOT_HISTORY_MAX_ENTRIES) return;
    if (adb_sysvar_slot_history_write(slots, n, hi + 1, g_hist) != 0) abort();
    adb_slot_history_t sh;
    if (adb_sysvar_slot_history_decode(g_hist, sizeof g_hist, &sh, NULL) != 0) abort();
    if (adb_status_cache_verify(sc, hi, &sh, NULL) != 0) abort();
    /* One more recent root in the history than in the cache is caught. */
    if (hi < UINT64_MAX - 2) {
        uint64_t extra[ADB_STATUS_CACHE_MAX_ENTRIES + 1];
        memcpy(extra, slots, n * sizeof *slots);
        extra[n] = hi + 1;
        if (adb_sysvar_slot_history_write(extra, n + 1, hi + 2, g_hist) != 0) abort();
        if (adb_sysvar_slot_history_decode(g_hist, sizeof g_hist, &sh, NULL) != 0) abort();
        if (adb_status_cache_verify(sc, hi + 1, &sh, NULL) != ACCTDB_ERR_CORRUPT) abort();
    }
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    adb_status_cache_t sc;
    adb_err_t          e;
    int                rc = adb_status_cache_decode(data, sz, 0, &sc, &e);
    if (rc) {
        if ((rc != ACCTDB_ERR_CORRUPT && rc != ACCTDB_ERR_NOMEM) || !e.msg[0] || sc.mem.head)
            abort();
    } else {
        uint8_t *o;
        size_t   osz;
        if (adb_status_cache_encode_buf(&sc, &o, &osz) != 0) abort();
        if (osz != sz || memcmp(o, data, sz) != 0) abort();
        adb_free(o);
        adb_json_t j;
        adb_json_init_buf(&j);
        adb_status_cache_json(&j, &sc);
        char  *t;
        size_t tsz;
        if (adb_json_take(&j, &t, &tsz) != 0) abort();
        adb_free(t);
        adb_json_fini(&j);
        check_plausible(&sc);
        adb_status_cache_fini(&sc);
    }

    /* The same bytes as sysvar data. */
    adb_slot_history_t sh;
    if (adb_sysvar_slot_history_decode(data, sz, &sh, NULL) == 0) {
        uint64_t probes[] = {0,      sh.next_slot, sh.next_slot - 1, adb_slot_history_oldest(&sh),
                             sh.len, UINT64_MAX};
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
            (void)adb_slot_history_check(&sh, probes[i]);
    }
    uint8_t              out[64];
    adb_clock_t          c;
    adb_rent_t           r;
    adb_epoch_schedule_t es;
    if (adb_sysvar_clock_decode(data, sz, &c, NULL) == 0) {
        adb_sysvar_clock_encode(&c, out);
        if (memcmp(out, data, ADB_SYSVAR_CLOCK_SZ) != 0) abort();
    }
    if (adb_sysvar_rent_decode(data, sz, &r, NULL) == 0) {
        adb_sysvar_rent_encode(&r, out);
        if (memcmp(out, data, ADB_BANK_RENT_SZ) != 0) abort();
    }
    if (adb_sysvar_epoch_schedule_decode(data, sz, &es, NULL) == 0) {
        adb_sysvar_epoch_schedule_encode(&es, out);
        if (memcmp(out, data, ADB_BANK_EPOCH_SCHEDULE_SZ) != 0) abort();
    }
    return 0;
}
