// Vectorised pointwise and row-wise loops for the models: the bodies are plain loops over branch-free inline
// functions, compiled twice (portable, and AVX2 + FMA via a target attribute) and chosen at run time.
#include "ckernels.h"
#include "fastmath.h"

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
