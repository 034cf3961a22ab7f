// Vectorised loops of the backward pass (ckernels_backward.h): each body is a static inline function over plain
// loops, compiled twice (portable, and AVX2 + FMA via a target attribute) and chosen at run time, as in ckernels.c.
// Row reductions keep eight partial sums, so they vectorise without reassociation flags.
#include "ckernels_backward.h"
#include "ckernels.h"
#include "fastmath.h"

#define INLINE static inline __attribute__((always_inline))

/// d/dx of 0.5·x·(1 + erf(x/√2)): 0.5·(1 + erf(x/√2)) + x·e^{−x²/2}/√(2π).
INLINE float gelu_erf_derivative(float x) {
    float cdf = 0.5f * (1.0f + fast_erf(x * 0.70710678118654752f));
    return cdf + x * 0.39894228040143268f * fast_exp(-0.5f * x * x);
}

/// d/dx of 0.5·x·(1 + tanh(u)), u = k·(x + c·x³): 0.5·(1 + tanh u) + 0.5·x·(1 − tanh²u)·k·(1 + 3c·x²).
INLINE float gelu_tanh_derivative(float x) {
    float th = fast_tanh(GELU_TANH_K * (x + GELU_TANH_C * x * x * x));
    float du = GELU_TANH_K * (1.0f + 3.0f * GELU_TANH_C * x * x);
    return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
}

INLINE void activation_backward_body(const float *u, const float *dy, float *du, size_t n, int activation) {
    if (activation == CKERNELS_GELU_ERF) {
        for (size_t i = 0; i < n; i++) du[i] = dy[i] * gelu_erf_derivative(u[i]);
    } else if (activation == CKERNELS_GELU_TANH) {
        for (size_t i = 0; i < n; i++) du[i] = dy[i] * gelu_tanh_derivative(u[i]);
    } else if (du != dy) {
        memcpy(du, dy, n * sizeof(float));
    }
}

INLINE void column_sums_body(const float *x, size_t rows, size_t n, size_t ld, float *sums) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        for (size_t j = 0; j < n; j++) sums[j] += row[j];
    }
}

INLINE void layer_norm_backward_body(const float *x, const float *dy, const float *w, const float *mean,
                                     const float *rstd, float *dx, size_t rows, size_t n, int accumulate) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n, *gr = dy + r * n;
        float *dr = dx + r * n;
        float m = mean[r], s = rstd[r];
        // Σ g and Σ g·x̂ with g = dy·w
        float sg[8] = {0}, sgx[8] = {0};
        size_t j = 0;
        for (; j + 8 <= n; j += 8) {
            for (int l = 0; l < 8; l++) {
                float g = gr[j + l] * w[j + l];
                sg[l] += g;
                sgx[l] += g * ((xr[j + l] - m) * s);
            }
        }
        float a = 0, b = 0;
        for (int l = 0; l < 8; l++) { a += sg[l]; b += sgx[l]; }
        for (; j < n; j++) {
            float g = gr[j] * w[j];
            a += g;
            b += g * ((xr[j] - m) * s);
        }
        float meanG = a / (float)n, meanGX = b / (float)n;
        if (accumulate) {
            for (j = 0; j < n; j++) dr[j] += s * (gr[j] * w[j] - meanG - (xr[j] - m) * s * meanGX);
        } else {
            for (j = 0; j < n; j++) dr[j] = s * (gr[j] * w[j] - meanG - (xr[j] - m) * s * meanGX);
        }
    }
}

INLINE void layer_norm_parameters_body(const float *x, const float *dy, const float *mean, const float *rstd,
                                       size_t rows, size_t n, size_t ld, float *dweight, float *dbias) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ld, *gr = dy + r * ld;
        float m = mean[r], s = rstd[r];
        if (dweight) for (size_t j = 0; j < n; j++) dweight[j] += gr[j] * ((xr[j] - m) * s);
        if (dbias) for (size_t j = 0; j < n; j++) dbias[j] += gr[j];
    }
}

INLINE void softmax_backward_body(const float *p, size_t ldp, float *ds, size_t ldd, size_t rows, size_t n,
                                  long causal_first) {
    for (size_t r = 0; r < rows; r++) {
        const float *pr = p + r * ldp;
        float *dr = ds + r * ldd;
        size_t end = n;
        if (causal_first >= 0 && (size_t)causal_first + r + 1 < n) end = (size_t)causal_first + r + 1;
        float sm[8] = {0};
        size_t j = 0;
        for (; j + 8 <= end; j += 8) for (int l = 0; l < 8; l++) sm[l] += pr[j + l] * dr[j + l];
        float dot = 0;
        for (int l = 0; l < 8; l++) dot += sm[l];
        for (; j < end; j++) dot += pr[j] * dr[j];
        for (j = 0; j < end; j++) dr[j] = pr[j] * (dr[j] - dot);
        for (j = end; j < n; j++) dr[j] = 0.0f;
    }
}

INLINE void cross_entropy_body(const float *z, size_t rows, size_t v, const long *targets, float scale, float *dz,
                               double *losses) {
    for (size_t r = 0; r < rows; r++) {
        const float *zr = z + r * v;
        float *dr = dz ? dz + r * v : NULL;
        long t = targets[r];
        if (t < 0 || (size_t)t >= v) {
            losses[r] = 0;
            if (dr) memset(dr, 0, v * sizeof(float));
            continue;
        }
        float zt = zr[t];   // read before an in-place gradient overwrites the row
        float mx[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
        size_t j = 0;
        for (; j + 8 <= v; j += 8) for (int l = 0; l < 8; l++) mx[l] = zr[j + l] > mx[l] ? zr[j + l] : mx[l];
        float m = -INFINITY;
        for (int l = 0; l < 8; l++) m = mx[l] > m ? mx[l] : m;
        for (; j < v; j++) m = zr[j] > m ? zr[j] : m;
        double sm[8] = {0};
        double total = 0;
        if (dr) {
            for (j = 0; j + 8 <= v; j += 8) {
                for (int l = 0; l < 8; l++) { float e = fast_exp(zr[j + l] - m); dr[j + l] = e; sm[l] += (double)e; }
            }
            for (int l = 0; l < 8; l++) total += sm[l];
            for (; j < v; j++) { float e = fast_exp(zr[j] - m); dr[j] = e; total += (double)e; }
            float f = (float)((double)scale / total);
            for (j = 0; j < v; j++) dr[j] *= f;
            dr[t] -= scale;
        } else {
            for (j = 0; j + 8 <= v; j += 8) for (int l = 0; l < 8; l++) sm[l] += (double)fast_exp(zr[j + l] - m);
            for (int l = 0; l < 8; l++) total += sm[l];
            for (; j < v; j++) total += (double)fast_exp(zr[j] - m);
        }
        losses[r] = log(total) - ((double)zt - (double)m);
    }
}

// Each kernel twice: `name_portable` and `name_avx2`, the same body.
#define VARIANTS(name, params, args)                                      \
    static void name##_portable params { name##_body args; }              \
    __attribute__((target("avx2,fma"))) static void name##_avx2 params { name##_body args; }

VARIANTS(activation_backward, (const float *u, const float *dy, float *du, size_t n, int activation),
         (u, dy, du, n, activation))
VARIANTS(column_sums, (const float *x, size_t rows, size_t n, size_t ld, float *sums), (x, rows, n, ld, sums))
VARIANTS(layer_norm_backward,
         (const float *x, const float *dy, const float *w, const float *mean, const float *rstd, float *dx,
          size_t rows, size_t n, int accumulate),
         (x, dy, w, mean, rstd, dx, rows, n, accumulate))
VARIANTS(layer_norm_parameters,
         (const float *x, const float *dy, const float *mean, const float *rstd, size_t rows, size_t n, size_t ld,
          float *dweight, float *dbias),
         (x, dy, mean, rstd, rows, n, ld, dweight, dbias))
VARIANTS(softmax_backward,
         (const float *p, size_t ldp, float *ds, size_t ldd, size_t rows, size_t n, long causal_first),
         (p, ldp, ds, ldd, rows, n, causal_first))
VARIANTS(cross_entropy,
         (const float *z, size_t rows, size_t v, const long *targets, float scale, float *dz, double *losses),
         (z, rows, v, targets, scale, dz, losses))

#define DISPATCH(name, args) \
    if (ckernels_has_avx2()) name##_avx2 args; else name##_portable args;

void ckernels_activation_backward(const float *u, const float *dy, float *du, size_t n, int activation) {
    DISPATCH(activation_backward, (u, dy, du, n, activation))
}

void ckernels_add_column_sums(const float *x, size_t rows, size_t n, size_t ld, float *sums) {
    DISPATCH(column_sums, (x, rows, n, ld, sums))
}

void ckernels_layer_norm_backward(const float *x, const float *dy, const float *weight, const float *mean,
                                  const float *rstd, float *dx, size_t rows, size_t n, int accumulate) {
    if (n == 0) return;
    DISPATCH(layer_norm_backward, (x, dy, weight, mean, rstd, dx, rows, n, accumulate))
}

void ckernels_layer_norm_parameter_gradients(const float *x, const float *dy, const float *mean, const float *rstd,
                                             size_t rows, size_t n, size_t ld, float *dweight, float *dbias) {
    DISPATCH(layer_norm_parameters, (x, dy, mean, rstd, rows, n, ld, dweight, dbias))
}

void ckernels_softmax_backward_rows(const float *p, size_t ldp, float *ds, size_t ldd, size_t rows, size_t n,
                                    long causal_first) {
    DISPATCH(softmax_backward, (p, ldp, ds, ldd, rows, n, causal_first))
}

void ckernels_cross_entropy_rows(const float *z, size_t rows, size_t v, const long *targets, float scale, float *dz,
                                 double *losses) {
    DISPATCH(cross_entropy, (z, rows, v, targets, scale, dz, losses))
}
