# src/hash/module.mk - per-file flags of the hash module.  The SIMD kernel
# files get their instruction sets here and nowhere else: the rest of the
# library stays baseline x86-64, and blake3.c picks a kernel at run time.
CFLAGS_blake3_portable := -O3
CFLAGS_blake3_sse41    := -O3 -msse4.1
CFLAGS_blake3_avx2     := -O3 -mavx2
CFLAGS_blake3_avx512   := -O3 -mavx512f -mavx512vl -mavx512bw
CFLAGS_lthash          := -O3
