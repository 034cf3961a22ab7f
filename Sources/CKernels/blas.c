// OpenBLAS through dlopen on first use (see ckernels_blas.h for why).
#include "ckernels_blas.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// The CBLAS enum values (cblas.h): CblasRowMajor, CblasNoTrans, CblasTrans.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static sgemm_fn sgemm;
static void (*set_threads)(int);
static int (*get_threads)(void);
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    // OpenBLAS's workers spin for 2^28 cycles (~0.1 s) after each GEMM before they sleep. Between GEMMs the
    // forward pass runs its own loops (attention, LayerNorm, bias + activation) on Dispatch threads, and a
    // spinning worker takes a core from them. 2^4 cycles: the workers sleep at once, and waking them costs a futex
    // per GEMM (+8% to +25% tokens/s at 2 threads, BENCHMARKS.md). A user's own setting wins (overwrite 0); read
    // by OpenBLAS when it loads, so it is set just before dlopen.
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
    void *library = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "%s", why ? why : "libopenblas.so.0: cannot be opened");
        return;
    }
    const char *symbols[] = {"cblas_sgemm", "openblas_set_num_threads", "openblas_get_num_threads"};
    void *found[3];
    for (int i = 0; i < 3; i++) {
        found[i] = dlsym(library, symbols[i]);
        if (!found[i]) {
            snprintf(failure, sizeof failure, "libopenblas.so.0 has no %s", symbols[i]);
            return;
        }
    }
    set_threads = (void (*)(int))found[1];
    get_threads = (int (*)(void))found[2];
    sgemm = (sgemm_fn)found[0];   // last: its being set means everything is
}

const char *ckernels_blas_load(void) {
    pthread_once(&once, load);
    return sgemm ? NULL : failure;
}

static void require(void) {
    const char *why = ckernels_blas_load();
    if (why) {
        fprintf(stderr, "rmt-convert: OpenBLAS could not be loaded (%s); install libopenblas0 (make deps)\n", why);
        abort();
    }
}

void ckernels_sgemm(int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc) {
    require();
    sgemm(ROW_MAJOR, NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ckernels_sgemm_transposed(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                               const float *b, int ldb, float beta, float *c, int ldc) {
    require();
    sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c,
          ldc);
}

void ckernels_blas_set_threads(int n) {
    require();
    set_threads(n);
}

int ckernels_blas_threads(void) {
    require();
    return get_threads();
}
