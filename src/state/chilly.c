/* src/state/chilly.c - the Chilly rule, one transaction's loads and the
 * block watermark (chilly.h has the contract and the proofs). */
#include "state/chilly.h"

static inline uint64_t
sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

bool
adb_chilly_is_cold(uint64_t loaded_bytes, uint64_t load_counter, uint64_t cache_sz) {
    if (load_counter == 0) return true;
    if (load_counter > loaded_bytes) return false; /* another chain's counter: hot */
    return loaded_bytes - load_counter > cache_sz;
}

uint64_t
adb_chilly_touch(uint64_t *loaded_bytes, uint64_t cache_sz, uint64_t *counters,
                 uint64_t const *data_lens, size_t n, uint8_t *cold_out) {
    uint64_t const start = *loaded_bytes;
    uint64_t       end = start, cold = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t sz = adb_chilly_load_sz(data_lens[i]);
        bool     is_cold = adb_chilly_is_cold(start, counters[i], cache_sz);
        if (cold_out) cold_out[i] = is_cold;
        if (is_cold) cold = sat_add(cold, sz);
        end = sat_add(end, sz);
    }
    for (size_t i = 0; i < n; i++)
        counters[i] = end;
    *loaded_bytes = end;
    return cold;
}

bool
adb_chilly_fits(uint64_t block_cold_bytes, uint64_t tx_cold_bytes, uint64_t load_limit) {
    return block_cold_bytes <= load_limit && tx_cold_bytes <= load_limit - block_cold_bytes;
}

bool
adb_chilly_evictable(uint64_t loaded_bytes, uint64_t load_counter, uint64_t cache_sz) {
    return adb_chilly_is_cold(loaded_bytes, load_counter, cache_sz);
}
