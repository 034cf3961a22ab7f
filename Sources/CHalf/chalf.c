// Half-precision conversions. Swift's Float(Float16) compiles to a libcall per element on the x86-64
// baseline, so the conversions live here: F16C with run-time dispatch, and portable loops that the
// compiler vectorises. All source and destination pointers may be unaligned.
#include "chalf.h"
#include <string.h>

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    if (exp == 0x1F) return bits_f32(sign | 0x7F800000u | (mant << 13) | (mant ? 0x00400000u : 0));
    if (exp == 0) {
        if (mant == 0) return bits_f32(sign);
        // subnormal: value = mant * 2^-24, exact in float
        float v = (float)mant * 5.9604644775390625e-08f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

static inline uint16_t float_to_half(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return sign | 0x7E00 | (uint16_t)((ax >> 13) & 0x3FF);   // NaN, quiet
    if (ax >= 0x477FF000u) return sign | 0x7C00;                                    // overflow → inf
    if (ax < 0x38800000u) {                                                          // subnormal or zero
        // half subnormal step is 2^-24; round to nearest even by adding in float arithmetic
        float v = bits_f32(ax) + 0.5f;        // 0.5 = 2^-1: ulp at 0.5 is 2^-24
        return sign | (uint16_t)(f32_bits(v) - 0x3F000000u);
    }
    uint32_t mant_odd = (ax >> 13) & 1;
    ax += 0xC8000FFFu + mant_odd;             // rebias (−112 << 23) and round to nearest even
    return sign | (uint16_t)(ax >> 13);
}

void chalf_f16_to_f32_portable(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, src + i, 2); float f = half_to_float(h); memcpy(dst + i, &f, 4); }
}
void chalf_f32_to_f16_portable(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) { float f; memcpy(&f, src + i, 4); uint16_t h = float_to_half(f); memcpy(dst + i, &h, 2); }
}

void chalf_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint16_t h; memcpy(&h, src + i, 2);
        uint32_t u = (uint32_t)h << 16; memcpy(dst + i, &u, 4);
    }
}
void chalf_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u; memcpy(&u, src + i, 4);
        uint16_t r;
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) r = (uint16_t)((u >> 16) | 0x0040);      // NaN stays NaN
        else r = (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1)) >> 16);                   // nearest even
        memcpy(dst + i, &r, 2);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
int chalf_has_f16c(void) { return __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx"); }

__attribute__((target("avx,f16c")))
static void f16c_to_f32(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    chalf_f16_to_f32_portable(src + i, dst + i, n - i);
}
__attribute__((target("avx,f16c")))
static void f16c_from_f32(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    chalf_f32_to_f16_portable(src + i, dst + i, n - i);
}
void chalf_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    if (chalf_has_f16c()) f16c_to_f32(src, dst, n); else chalf_f16_to_f32_portable(src, dst, n);
}
void chalf_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    if (chalf_has_f16c()) f16c_from_f32(src, dst, n); else chalf_f32_to_f16_portable(src, dst, n);
}
#else
int chalf_has_f16c(void) { return 0; }
void chalf_f16_to_f32(const uint16_t *src, float *dst, size_t n) { chalf_f16_to_f32_portable(src, dst, n); }
void chalf_f32_to_f16(const float *src, uint16_t *dst, size_t n) { chalf_f32_to_f16_portable(src, dst, n); }
#endif
