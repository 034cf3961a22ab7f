#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>

/// The pointwise and row-wise float32 loops of the forward pass, vectorised (AVX2 + FMA chosen at run time,
/// portable loops otherwise). exp is Cephes' polynomial (relative error ≈ 1e-7); erf is Abramowitz–Stegun
/// 7.1.26 (absolute error ≤ 1.5e-7). Buffers are row-major; every row pointer may be unaligned.

/// Activation codes of `ckernels_bias_activation`.
enum {
    CKERNELS_IDENTITY = 0,
    CKERNELS_GELU_ERF = 1,   /* 0.5·x·(1 + erf(x/√2)) */
    CKERNELS_GELU_TANH = 2   /* 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) */
};

/// `y[r, :] = act(y[r, :] + bias)` for `rows` rows of `n` (`bias` may be NULL).
void ckernels_bias_activation(float *y, size_t rows, size_t n, const float *bias, int activation);

/// Softmax of `rows` rows of `n` in place (row stride `ld`), after adding `scale`-free key biases:
/// row r gets `bias[j]` added when `bias` is non-NULL, and, when `causal_first` ≥ 0, columns j > causal_first + r
/// are excluded (probability exactly 0). A row that is entirely −inf becomes zeros.
void ckernels_softmax_rows(float *x, size_t rows, size_t n, size_t ld, const float *bias, long causal_first);

/// Non-zero when the AVX2 + FMA paths are in use.
int ckernels_has_avx2(void);
#endif
