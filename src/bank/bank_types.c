/* src/bank/bank_types.c - bincode of the fixed-size runtime types (see
 * bank_types.h). */
#include "bank/bank_types.h"

void
adb_bank_fee_rate_governor_read(adb_bc_rd_t *rd, adb_fee_rate_governor_t *out, char const *what) {
    out->target_lamports_per_signature = adb_bc_u64(rd, what);
    out->target_signatures_per_slot = adb_bc_u64(rd, what);
    out->min_lamports_per_signature = adb_bc_u64(rd, what);
    out->max_lamports_per_signature = adb_bc_u64(rd, what);
    out->burn_percent = adb_bc_u8(rd, what);
}

void
adb_bank_fee_rate_governor_write(adb_bc_wr_t *wr, adb_fee_rate_governor_t const *v) {
    adb_bc_put_u64(wr, v->target_lamports_per_signature);
    adb_bc_put_u64(wr, v->target_signatures_per_slot);
    adb_bc_put_u64(wr, v->min_lamports_per_signature);
    adb_bc_put_u64(wr, v->max_lamports_per_signature);
    adb_bc_put_u8(wr, v->burn_percent);
}

void
adb_bank_rent_read(adb_bc_rd_t *rd, adb_rent_t *out, char const *what) {
    out->lamports_per_byte_year = adb_bc_u64(rd, what);
    out->exemption_threshold = adb_bc_f64(rd, what);
    out->burn_percent = adb_bc_u8(rd, what);
}

void
adb_bank_rent_write(adb_bc_wr_t *wr, adb_rent_t const *v) {
    adb_bc_put_u64(wr, v->lamports_per_byte_year);
    adb_bc_put_f64(wr, v->exemption_threshold);
    adb_bc_put_u8(wr, v->burn_percent);
}

void
adb_bank_epoch_schedule_read(adb_bc_rd_t *rd, adb_epoch_schedule_t *out, char const *what) {
    out->slots_per_epoch = adb_bc_u64(rd, what);
    out->leader_schedule_slot_offset = adb_bc_u64(rd, what);
    out->warmup = adb_bc_bool(rd, what);
    out->first_normal_epoch = adb_bc_u64(rd, what);
    out->first_normal_slot = adb_bc_u64(rd, what);
}

void
adb_bank_epoch_schedule_write(adb_bc_wr_t *wr, adb_epoch_schedule_t const *v) {
    adb_bc_put_u64(wr, v->slots_per_epoch);
    adb_bc_put_u64(wr, v->leader_schedule_slot_offset);
    adb_bc_put_bool(wr, v->warmup);
    adb_bc_put_u64(wr, v->first_normal_epoch);
    adb_bc_put_u64(wr, v->first_normal_slot);
}

void
adb_bank_inflation_read(adb_bc_rd_t *rd, adb_inflation_t *out, char const *what) {
    out->initial = adb_bc_f64(rd, what);
    out->terminal = adb_bc_f64(rd, what);
    out->taper = adb_bc_f64(rd, what);
    out->foundation = adb_bc_f64(rd, what);
    out->foundation_term = adb_bc_f64(rd, what);
    out->unused = adb_bc_f64(rd, what);
}

void
adb_bank_inflation_write(adb_bc_wr_t *wr, adb_inflation_t const *v) {
    adb_bc_put_f64(wr, v->initial);
    adb_bc_put_f64(wr, v->terminal);
    adb_bc_put_f64(wr, v->taper);
    adb_bc_put_f64(wr, v->foundation);
    adb_bc_put_f64(wr, v->foundation_term);
    adb_bc_put_f64(wr, v->unused);
}
