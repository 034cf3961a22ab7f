#ifndef CKERNELS_BACKWARD_H
#define CKERNELS_BACKWARD_H
#include <stddef.h>

/// The pointwise and row-wise float32 loops of the backward pass (training), vectorised like ckernels.h (AVX2 + FMA
/// chosen at run time, portable loops otherwise), with the same exp, erf and tanh as the forward. Buffers are
/// row-major; row pointers may be unaligned. Nothing here allocates or keeps state.

/// `du[i] = dy[i]·act′(u[i])` for `n` elements, `act` one of the activation codes of ckernels.h, its derivative
/// taken from the same formula (and the same erf / tanh approximations) as `ckernels_bias_activation`.
/// `du` may equal `dy`.
void ckernels_activation_backward(const float *u, const float *dy, float *du, size_t n, int activation);

/// `sums[j] += Σ_r x[r·ld + j]` for j < n, over the rows in order (deterministic).
void ckernels_add_column_sums(const float *x, size_t rows, size_t n, size_t ld, float *sums);

/// LayerNorm's input gradient, row by row (torch `native_layer_norm_backward`): with x̂ = (x − mean[r])·rstd[r] and
/// g = dy·weight, `dx = rstd·(g − mean(g) − x̂·mean(g·x̂))`, written (`accumulate` 0) or added (`accumulate` 1)
/// into `dx`. `x`, `dy`, `dx` are `[rows, n]`; `mean`, `rstd` `[rows]`.
void ckernels_layer_norm_backward(const float *x, const float *dy, const float *weight, const float *mean,
                                  const float *rstd, float *dx, size_t rows, size_t n, int accumulate);

/// LayerNorm's parameter gradients over a slice of `n` columns of rows with row stride `ld` (x, dy point at the
/// slice's first column; dweight, dbias at its first element): `dweight[j] += Σ_r dy[r, j]·x̂[r, j]`,
/// `dbias[j] += Σ_r dy[r, j]`, rows in order. Either output may be NULL.
void ckernels_layer_norm_parameter_gradients(const float *x, const float *dy, const float *mean, const float *rstd,
                                             size_t rows, size_t n, size_t ld, float *dweight, float *dbias);

/// Softmax backward of attention rows, in place: on entry `ds` holds dP, on return
/// `dS[r, j] = P[r, j]·(dP[r, j] − Σ_k P[r, k]·dP[r, k])` for j < n (P and dS with row strides `ldp`, `ldd`).
/// When `causal_first` ≥ 0, columns j > causal_first + r are excluded and set to 0 (P is 0 there).
void ckernels_softmax_backward_rows(const float *p, size_t ldp, float *ds, size_t ldd, size_t rows, size_t n,
                                    long causal_first);

/// Softmax cross-entropy of `rows` rows of `v` logits: for a row whose target t is in `0..<v`,
/// `losses[r] = −log softmax(z[r])[t]` (the max subtracted, the sum of exponentials in double) and, when `dz` is
/// non-NULL, `dz[r, :] = scale·(softmax(z[r]) − onehot(t))`; a row whose target is negative (−100) gets loss 0
/// and, when `dz` is non-NULL, a zero gradient row; so does a target ≥ v (callers refuse those first).
/// `dz` may equal `z` (in place).
void ckernels_cross_entropy_rows(const float *z, size_t rows, size_t v, const long *targets, float scale, float *dz,
                                 double *losses);
#endif
