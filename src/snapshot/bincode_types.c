/* src/snapshot/bincode_types.c - shared pieces of the snapshot bincode
 * codecs (see bincode_types.h). */
#include "snapshot/bincode_types.h"

/* A block: header, then payload.  Small requests share blocks that start
 * at 4 KiB and double up to 1 MiB, so a small decode stays small and a big
 * one needs few blocks; a request larger than a quarter of the current
 * block size gets a block of its own, linked behind the head so the head's
 * free space stays usable. */
typedef struct adb_snap_block {
    struct adb_snap_block *next;
    size_t                 cap;
    size_t                 used;
    _Alignas(16) uint8_t data[];
} adb_snap_block_t;

#define BLOCK_MIN ((size_t)4 << 10)
#define BLOCK_MAX ((size_t)1 << 20)

void
adb_snap_mem_init(adb_snap_mem_t *mem, size_t max_sz) {
    mem->head = NULL;
    mem->used_sz = 0;
    mem->max_sz = max_sz ? max_sz : SIZE_MAX;
    mem->block_sz = BLOCK_MIN;
}

void *
adb_snap_mem_alloc(adb_snap_mem_t *mem, size_t sz) {
    size_t need = ADB_ALIGN_UP(sz ? sz : 1, (size_t)16);
    if (need < sz || need > mem->max_sz - mem->used_sz) return NULL;
    adb_snap_block_t *b = mem->head;
    if (!b || b->cap - b->used < need) {
        if (mem->block_sz < BLOCK_MIN) mem->block_sz = BLOCK_MIN; /* a zeroed mem */
        bool   own = need > mem->block_sz / 4;
        size_t cap = own ? need : mem->block_sz;
        if (cap > SIZE_MAX - sizeof(adb_snap_block_t)) return NULL;
        adb_snap_block_t *nb = adb_malloc(sizeof(adb_snap_block_t) + cap);
        if (!nb) return NULL;
        nb->cap = cap;
        nb->used = 0;
        if (own && b) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            mem->head = nb;
            if (!own && mem->block_sz < BLOCK_MAX) mem->block_sz *= 2;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    mem->used_sz += need;
    memset(p, 0, need);
    return p;
}

void
adb_snap_mem_fini(adb_snap_mem_t *mem) {
    adb_snap_block_t *b = mem->head;
    while (b) {
        adb_snap_block_t *n = b->next;
        adb_free(b);
        b = n;
    }
    mem->head = NULL;
    mem->used_sz = 0;
}

void *
adb_snap_arr_alloc(adb_bc_rd_t *rd, adb_snap_mem_t *mem, uint64_t cnt, size_t elem_sz,
                   char const *what) {
    if (!adb_bc_ok(rd) || cnt == 0) return NULL;
    uint64_t tot;
    void    *p = NULL;
    if (!__builtin_mul_overflow(cnt, (uint64_t)elem_sz, &tot) && tot <= SIZE_MAX)
        p = adb_snap_mem_alloc(mem, (size_t)tot);
    if (!p) {
        adb_bc_fail(rd, ACCTDB_ERR_NOMEM,
                    "%s: cannot allocate %llu entries of %zu bytes (%zu of the %zu-byte "
                    "budget in use, or out of memory)",
                    what, (unsigned long long)cnt, elem_sz, mem->used_sz, mem->max_sz);
    }
    return p;
}

uint8_t *
adb_snap_bytes_read(adb_bc_rd_t *rd, adb_snap_mem_t *mem, uint64_t *sz_out, char const *what) {
    *sz_out = 0;
    uint64_t n = adb_bc_len(rd, 1, what);
    uint8_t *p = adb_snap_arr_alloc(rd, mem, n, 1, what);
    if (!p) return NULL;
    adb_bc_copy(rd, p, (size_t)n, what);
    if (!adb_bc_ok(rd)) return NULL;
    *sz_out = n;
    return p;
}

bool
adb_snap_utf8_valid(uint8_t const *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t   len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len > n - i) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

uint8_t *
adb_snap_string_read(adb_bc_rd_t *rd, adb_snap_mem_t *mem, uint64_t *sz_out, char const *what) {
    size_t   at = rd->off;
    uint8_t *p = adb_snap_bytes_read(rd, mem, sz_out, what);
    if (p && !adb_snap_utf8_valid(p, (size_t)*sz_out)) {
        rd->off = at;
        adb_bc_fail(rd, ACCTDB_ERR_CORRUPT, "%s: string of %llu bytes is not valid UTF-8", what,
                    (unsigned long long)*sz_out);
        *sz_out = 0;
        return NULL;
    }
    return p;
}

void
adb_snap_account_read(adb_bc_rd_t *rd, adb_snap_mem_t *mem, adb_snap_account_t *out,
                      char const *what) {
    out->lamports = adb_bc_u64(rd, what);
    out->data = adb_snap_bytes_read(rd, mem, &out->data_sz, what);
    adb_bc_copy(rd, out->owner.b, 32, what);
    out->executable = adb_bc_bool(rd, what);
    out->rent_epoch = adb_bc_u64(rd, what);
}

void
adb_snap_account_write(adb_bc_wr_t *wr, adb_snap_account_t const *a) {
    adb_bc_put_u64(wr, a->lamports);
    adb_bc_put_str(wr, a->data, (size_t)a->data_sz);
    adb_bc_put_bytes(wr, a->owner.b, 32);
    adb_bc_put_bool(wr, a->executable);
    adb_bc_put_u64(wr, a->rent_epoch);
}

void
adb_snap_fee_rate_governor_read(adb_bc_rd_t *rd, adb_fee_rate_governor_t *out, char const *what) {
    out->target_lamports_per_signature = adb_bc_u64(rd, what);
    out->target_signatures_per_slot = adb_bc_u64(rd, what);
    out->min_lamports_per_signature = adb_bc_u64(rd, what);
    out->max_lamports_per_signature = adb_bc_u64(rd, what);
    out->burn_percent = adb_bc_u8(rd, what);
}

void
adb_snap_fee_rate_governor_write(adb_bc_wr_t *wr, adb_fee_rate_governor_t const *v) {
    adb_bc_put_u64(wr, v->target_lamports_per_signature);
    adb_bc_put_u64(wr, v->target_signatures_per_slot);
    adb_bc_put_u64(wr, v->min_lamports_per_signature);
    adb_bc_put_u64(wr, v->max_lamports_per_signature);
    adb_bc_put_u8(wr, v->burn_percent);
}

void
adb_snap_rent_read(adb_bc_rd_t *rd, adb_rent_t *out, char const *what) {
    out->lamports_per_byte_year = adb_bc_u64(rd, what);
    out->exemption_threshold = adb_bc_f64(rd, what);
    out->burn_percent = adb_bc_u8(rd, what);
}

void
adb_snap_rent_write(adb_bc_wr_t *wr, adb_rent_t const *v) {
    adb_bc_put_u64(wr, v->lamports_per_byte_year);
    adb_bc_put_f64(wr, v->exemption_threshold);
    adb_bc_put_u8(wr, v->burn_percent);
}

void
adb_snap_epoch_schedule_read(adb_bc_rd_t *rd, adb_epoch_schedule_t *out, char const *what) {
    out->slots_per_epoch = adb_bc_u64(rd, what);
    out->leader_schedule_slot_offset = adb_bc_u64(rd, what);
    out->warmup = adb_bc_bool(rd, what);
    out->first_normal_epoch = adb_bc_u64(rd, what);
    out->first_normal_slot = adb_bc_u64(rd, what);
}

void
adb_snap_epoch_schedule_write(adb_bc_wr_t *wr, adb_epoch_schedule_t const *v) {
    adb_bc_put_u64(wr, v->slots_per_epoch);
    adb_bc_put_u64(wr, v->leader_schedule_slot_offset);
    adb_bc_put_bool(wr, v->warmup);
    adb_bc_put_u64(wr, v->first_normal_epoch);
    adb_bc_put_u64(wr, v->first_normal_slot);
}

#define MIN_SLOTS_PER_EPOCH 32u /* warmup starts at 32 slots, doubling */

uint64_t
adb_epoch_schedule_epoch(adb_epoch_schedule_t const *es, uint64_t slot) {
    if (slot < es->first_normal_slot) {
        /* Epoch e of the warmup holds 32 << e slots and starts at slot
         * 32 * (2^e - 1), so e = log2(next_pow2(slot + 33)) - log2(32) - 1. */
        uint64_t x = slot + MIN_SLOTS_PER_EPOCH + 1;
        if (x < slot) return es->first_normal_epoch; /* cannot happen below first_normal_slot */
        unsigned lg = 64u - (unsigned)__builtin_clzll(x - 1); /* ceil(log2(x)) */
        return (uint64_t)lg - 5u - 1u;
    }
    if (es->slots_per_epoch == 0) return es->first_normal_epoch;
    return (slot - es->first_normal_slot) / es->slots_per_epoch + es->first_normal_epoch;
}

void
adb_snap_inflation_read(adb_bc_rd_t *rd, adb_inflation_t *out, char const *what) {
    out->initial = adb_bc_f64(rd, what);
    out->terminal = adb_bc_f64(rd, what);
    out->taper = adb_bc_f64(rd, what);
    out->foundation = adb_bc_f64(rd, what);
    out->foundation_term = adb_bc_f64(rd, what);
    out->unused = adb_bc_f64(rd, what);
}

void
adb_snap_inflation_write(adb_bc_wr_t *wr, adb_inflation_t const *v) {
    adb_bc_put_f64(wr, v->initial);
    adb_bc_put_f64(wr, v->terminal);
    adb_bc_put_f64(wr, v->taper);
    adb_bc_put_f64(wr, v->foundation);
    adb_bc_put_f64(wr, v->foundation_term);
    adb_bc_put_f64(wr, v->unused);
}
