// The scalar math the vectorised loops of ckernels.c and backward.c share (a private header of the target):
// exp, erf, tanh and the two GELUs, as static inline functions that the AVX2 + FMA variants inline and vectorise.
#ifndef CKERNELS_FASTMATH_H
#define CKERNELS_FASTMATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float bits_f32(int32_t u) { float f; memcpy(&f, &u, 4); return f; }

/// e^x, Cephes expf: x = k·ln2 + r, e^r by a degree-6 polynomial, 2^k through the exponent bits.
/// Inputs below −87.3 (including −inf) give 0; above 88.7 give a large finite value.
static inline float fast_exp(float x) {
    const float lo = -87.3365478515625f, hi = 88.72283172607421875f;
    int under = x < lo;
    x = x < lo ? lo : (x > hi ? hi : x);
    float k = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    float scale = bits_f32(((int32_t)k + 127) << 23);
    return under ? 0.0f : e * scale;
}

/// erf(z), Abramowitz–Stegun 7.1.26 (absolute error ≤ 1.5e-7).
static inline float fast_erf(float z) {
    float a = fabsf(z);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    float erf_a = 1.0f - poly * fast_exp(-a * a);
    return z < 0 ? -erf_a : erf_a;
}

/// tanh(u) as 1 − 2/(e^{2u} + 1); the exp saturates to ±1 at the ends.
static inline float fast_tanh(float u) { return 1.0f - 2.0f / (fast_exp(2.0f * u) + 1.0f); }

/// √(2/π) and GELU-tanh's cubic coefficient.
#define GELU_TANH_K 0.7978845608028654f
#define GELU_TANH_C 0.044715f

/// 0.5·x·(1 + erf(x/√2)).
static inline float gelu_erf(float x) { return 0.5f * x * (1.0f + fast_erf(x * 0.70710678118654752f)); }

/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
static inline float gelu_tanh(float x) {
    float u = GELU_TANH_K * (x + GELU_TANH_C * x * x * x);
    return 0.5f * x * (1.0f + fast_tanh(u));
}
#endif
