#ifndef CKERNELS_ATTENTION_H
#define CKERNELS_ATTENTION_H
#include <stddef.h>

/// Fused attention of one head over one block of queries: scores, mask, softmax and the weighted sum of the
/// values in one pass over tiles of four queries, the scores of a tile staying in the L1 cache (no `[T, T]`
/// score matrix, no BLAS packing). AVX2 + FMA chosen at run time, portable loops otherwise.
///
/// For query row i < `queries` (a `[queries, d]` view with row stride `ld`) and key rows j < `keys` of `k` and
/// `v` (row stride `ld`):
/// `out[i, :] = Σ_j softmax_j(scale·q_i·k_j + bias[j]) · v[j, :]`, where, when `causal_first` ≥ 0, keys
/// j > causal_first + i are excluded (probability exactly 0); `bias` may be NULL. Rows whose scores are all
/// −inf give zeros. `out` has row stride `ldo`.
/// `scratch` must hold `ckernels_attention_scratch(keys, d)` floats.
void ckernels_attention_block(const float *q, const float *k, const float *v, size_t ld, float *out, size_t ldo,
                              size_t queries, size_t keys, size_t d, float scale, const float *bias,
                              long causal_first, float *scratch);

/// The same with the portable loops only (what machines without AVX2 + FMA run), for tests.
void ckernels_attention_block_portable(const float *q, const float *k, const float *v, size_t ld, float *out,
                                       size_t ldo, size_t queries, size_t keys, size_t d, float scale,
                                       const float *bias, long causal_first, float *scratch);

/// Floats of scratch `ckernels_attention_block` needs for `keys` keys of head size `d`.
size_t ckernels_attention_scratch(size_t keys, size_t d);
#endif
