// Vectorised pointwise and row-wise loops for the models: the bodies are plain loops over branch-free inline
// functions, compiled twice (portable, and AVX2 + FMA via a target attribute) and chosen at run time.
#include "ckernels.h"
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

static inline float gelu_erf(float x) {
    float z = x * 0.70710678118654752f, a = fabsf(z);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    float erf_a = 1.0f - poly * fast_exp(-a * a);
    float erf_z = z < 0 ? -erf_a : erf_a;
    return 0.5f * x * (1.0f + erf_z);
}

static inline float gelu_tanh(float x) {
    float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    float th = 1.0f - 2.0f / (fast_exp(2.0f * u) + 1.0f);   /* tanh(u); exp saturates to ±1 at the ends */
    return 0.5f * x * (1.0f + th);
}

#define BIAS_ACTIVATION_BODY                                                              \
    for (size_t r = 0; r < rows; r++) {                                                   \
        float *row = y + r * n;                                                           \
        if (bias) for (size_t j = 0; j < n; j++) row[j] += bias[j];                       \
        if (activation == CKERNELS_GELU_ERF) for (size_t j = 0; j < n; j++) row[j] = gelu_erf(row[j]);   \
        else if (activation == CKERNELS_GELU_TANH) for (size_t j = 0; j < n; j++) row[j] = gelu_tanh(row[j]); \
    }

/// Max, then exp and sum with eight partial sums (vectorisable without reassociation flags).
#define SOFTMAX_BODY                                                                      \
    for (size_t r = 0; r < rows; r++) {                                                   \
        float *row = x + r * ld;                                                          \
        size_t end = n;                                                                   \
        if (causal_first >= 0 && (size_t)causal_first + r + 1 < n) end = (size_t)causal_first + r + 1; \
        if (bias) for (size_t j = 0; j < end; j++) row[j] += bias[j];                     \
        float mx[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY}; \
        size_t j = 0;                                                                     \
        for (; j + 8 <= end; j += 8) for (int l = 0; l < 8; l++) mx[l] = row[j + l] > mx[l] ? row[j + l] : mx[l]; \
        float m = -INFINITY;                                                              \
        for (int l = 0; l < 8; l++) m = mx[l] > m ? mx[l] : m;                            \
        for (; j < end; j++) m = row[j] > m ? row[j] : m;                                 \
        if (m == -INFINITY) { memset(row, 0, n * sizeof(float)); continue; }              \
        float sm[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                           \
        for (j = 0; j + 8 <= end; j += 8) for (int l = 0; l < 8; l++) { float e = fast_exp(row[j + l] - m); row[j + l] = e; sm[l] += e; } \
        float s = 0;                                                                      \
        for (int l = 0; l < 8; l++) s += sm[l];                                           \
        for (; j < end; j++) { float e = fast_exp(row[j] - m); row[j] = e; s += e; }      \
        float inv = 1.0f / s;                                                             \
        for (j = 0; j < end; j++) row[j] *= inv;                                          \
        for (j = end; j < n; j++) row[j] = 0.0f;                                          \
    }

static void bias_activation_portable(float *y, size_t rows, size_t n, const float *bias, int activation) { BIAS_ACTIVATION_BODY }
__attribute__((target("avx2,fma")))
static void bias_activation_avx2(float *y, size_t rows, size_t n, const float *bias, int activation) { BIAS_ACTIVATION_BODY }

static void softmax_portable(float *x, size_t rows, size_t n, size_t ld, const float *bias, long causal_first) { SOFTMAX_BODY }
__attribute__((target("avx2,fma")))
static void softmax_avx2(float *x, size_t rows, size_t n, size_t ld, const float *bias, long causal_first) { SOFTMAX_BODY }

int ckernels_has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

void ckernels_bias_activation(float *y, size_t rows, size_t n, const float *bias, int activation) {
    if (ckernels_has_avx2()) bias_activation_avx2(y, rows, n, bias, activation);
    else bias_activation_portable(y, rows, n, bias, activation);
}

void ckernels_softmax_rows(float *x, size_t rows, size_t n, size_t ld, const float *bias, long causal_first) {
    if (ckernels_has_avx2()) softmax_avx2(x, rows, n, ld, bias, causal_first);
    else softmax_portable(x, rows, n, ld, bias, causal_first);
}
