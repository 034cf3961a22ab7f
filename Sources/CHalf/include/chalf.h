#ifndef CHALF_H
#define CHALF_H
#include <stddef.h>
#include <stdint.h>

/// Non-zero when the CPU has F16C (and AVX), checked at run time.
int chalf_has_f16c(void);

/// IEEE half → float, exact. Uses F16C when available, otherwise a bit-manipulation loop.
void chalf_f16_to_f32(const uint16_t *src, float *dst, size_t n);
/// float → IEEE half, round to nearest even, NaN stays NaN (quiet), overflow → ±inf.
void chalf_f32_to_f16(const float *src, uint16_t *dst, size_t n);
/// bfloat16 → float, exact (the 16 bits become the high half).
void chalf_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
/// float → bfloat16, round to nearest even, NaN stays NaN (quiet bit set).
void chalf_f32_to_bf16(const float *src, uint16_t *dst, size_t n);

/// Portable scalar paths, exposed so tests can compare them with the F16C paths.
void chalf_f16_to_f32_portable(const uint16_t *src, float *dst, size_t n);
void chalf_f32_to_f16_portable(const float *src, uint16_t *dst, size_t n);
#endif
