/* fuzz/fuzz_bincode.c - drives the bincode reader with a program taken from
 * the input, then re-encodes every value read with the writer and checks
 * the bytes equal what was consumed (decode then encode is the identity).
 *
 * Input: byte 0 = K (ops count, mod 33), then K op bytes, then the data. */
#include "util/bincode.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz) {
    if (sz < 1) return 0;
    size_t k = data[0] % 33;
    if (1 + k > sz) return 0;
    uint8_t const *ops = data + 1;
    uint8_t const *buf = data + 1 + k;
    size_t         bsz = sz - 1 - k;

    adb_bc_rd_t rd;
    adb_bc_wr_t wr;
    adb_bc_rd_init(&rd, buf, bsz, "fuzz");
    adb_bc_wr_init(&wr, 1 << 20);
    for (size_t i = 0; i < k && adb_bc_ok(&rd); i++) {
        size_t before = rd.off;
        switch (ops[i] % 11) {
        case 0: {
            uint8_t v = adb_bc_u8(&rd, "u8");
            if (adb_bc_ok(&rd)) adb_bc_put_u8(&wr, v);
            break;
        }
        case 1: {
            uint16_t v = adb_bc_u16(&rd, "u16");
            if (adb_bc_ok(&rd)) adb_bc_put_u16(&wr, v);
            break;
        }
        case 2: {
            uint32_t v = adb_bc_u32(&rd, "u32");
            if (adb_bc_ok(&rd)) adb_bc_put_u32(&wr, v);
            break;
        }
        case 3: {
            uint64_t v = adb_bc_u64(&rd, "u64");
            if (adb_bc_ok(&rd)) adb_bc_put_u64(&wr, v);
            break;
        }
        case 4: {
            double v = adb_bc_f64(&rd, "f64");
            if (adb_bc_ok(&rd)) adb_bc_put_f64(&wr, v);
            break;
        }
        case 5: {
            bool v = adb_bc_bool(&rd, "bool");
            if (adb_bc_ok(&rd)) adb_bc_put_bool(&wr, v);
            break;
        }
        case 6: {
            bool v = adb_bc_option(&rd, "opt");
            if (adb_bc_ok(&rd)) adb_bc_put_u8(&wr, v);
            break;
        }
        case 7: {
            uint32_t v = adb_bc_variant(&rd, ops[i] >> 4, "enum");
            if (adb_bc_ok(&rd)) adb_bc_put_u32(&wr, v);
            break;
        }
        case 8: {
            size_t   esz = 1 + (ops[i] >> 4);
            uint64_t n = adb_bc_len(&rd, esz, "vec");
            if (!adb_bc_ok(&rd)) break;
            if (n * esz > adb_bc_remaining(&rd)) abort(); /* the bound held */
            adb_bc_put_u64(&wr, n);
            uint8_t const *p = adb_bc_bytes(&rd, (size_t)(n * esz), "elems");
            if (!p) abort();
            adb_bc_put_bytes(&wr, p, (size_t)(n * esz));
            break;
        }
        case 9: {
            size_t         n;
            uint8_t const *p = adb_bc_str(&rd, &n, "str");
            if (adb_bc_ok(&rd)) adb_bc_put_str(&wr, p, n);
            break;
        }
        default: {
            uint8_t tmp[32];
            adb_bc_copy(&rd, tmp, ops[i] % 33, "arr");
            if (adb_bc_ok(&rd)) adb_bc_put_bytes(&wr, tmp, ops[i] % 33);
            break;
        }
        }
        if (rd.off > rd.sz) abort();
        if (!adb_bc_ok(&rd)) {
            /* A failed read does not move, and says where it failed. */
            if (rd.off != before || rd.err.msg[0] == 0) abort();
            if (adb_bc_u64(&rd, "after") != 0 || rd.off != before) abort();
        }
    }
    /* Decode then encode gives back exactly the consumed bytes. */
    if (wr.err == 0 && (wr.sz != rd.off || (wr.sz && memcmp(wr.buf, buf, wr.sz) != 0))) abort();
    adb_bc_wr_fini(&wr);
    return 0;
}
