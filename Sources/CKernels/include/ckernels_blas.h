#ifndef CKERNELS_BLAS_H
#define CKERNELS_BLAS_H

/// OpenBLAS, loaded with dlopen when first used rather than linked: OpenBLAS starts its worker threads as soon as
/// it is loaded, and they spin for about 0.1 s of CPU, which commands that never multiply matrices (inspect,
/// convert) should not pay. All functions are safe to call from any thread; the first call loads the library.

/// Loads `libopenblas.so.0` (or `libopenblas.so`) once, with `OPENBLAS_THREAD_TIMEOUT=4` unless set (blas.c).
/// Returns NULL when it is loaded, else why it is not (dlerror's text, or the missing symbol), the same text on
/// every call.
const char *ckernels_blas_load(void);

/// `cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
/// beta, c, ldc)`. Aborts with a message on stderr when OpenBLAS cannot be loaded: callers check
/// `ckernels_blas_load` first, where the failure can be reported as an error.
void ckernels_sgemm(int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc);

/// `cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
/// alpha, a, lda, b, ldb, beta, c, ldc)`: `ckernels_sgemm` with `A` optionally transposed (A stored `[k×m]`), for the
/// weight gradients of the backward pass. Aborts like `ckernels_sgemm` when OpenBLAS cannot be loaded.
void ckernels_sgemm_transposed(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                               const float *b, int ldb, float beta, float *c, int ldc);

/// `openblas_set_num_threads(n)` (loads OpenBLAS; aborts like `ckernels_sgemm` when it cannot).
void ckernels_blas_set_threads(int n);

/// `openblas_get_num_threads()` (loads OpenBLAS; aborts like `ckernels_sgemm` when it cannot).
int ckernels_blas_threads(void);
#endif
