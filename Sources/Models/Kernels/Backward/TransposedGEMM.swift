// The GEMM of the backward pass: `Kernels.gemm` with A optionally transposed (weight gradients are `dYᵀ·X`), and
// the same split into pieces small enough that OpenBLAS runs them on the calling thread (attention's per-head
// products, which run on all threads at once, one head per thread).
import CKernels

extension Kernels {
    /// `C[M×N] = alpha·op(A)·op(B) + beta·C`: `op(A)` is `A[M×K]`, or `Aᵀ` for `A` stored `[K×M]` when
    /// `transposeA`; `op(B)` is `B[K×N]`, or `Bᵀ` for `B` stored `[N×K]` when `transposeB`. Leading dimensions are
    /// the row strides of the stored matrices.
    ///
    /// An empty reduction (`k` 0) gives `C = beta·C`, so `beta: 1` accumulates nothing rather than leaving C
    /// unwritten; `beta: 0` zeroes it.
    public static func gemm(
        _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool, _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if beta != 1 {
                for i in 0..<m {
                    for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
                }
            }
            return
        }
        ckernels_sgemm_transposed(
            transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    /// The largest `m·n·k` OpenBLAS multiplies on the calling thread alone: 65536 × `GEMM_MULTITHREAD_THRESHOLD`
    /// (4 by default), `interface/gemm.c` of OpenBLAS 0.3. Larger products wake its worker threads.
    static let callerThreadProduct = 1 << 18

    /// `gemm(…transposeA:…)` issued as pieces of rows of C, each of at most `callerThreadProduct` multiply-adds
    /// when `onCallingThread`, so that OpenBLAS computes every piece on the calling thread. Kernels that already run
    /// one item per thread (attention, per head) use it: without it, two threads each asking OpenBLAS's one worker
    /// for help take turns and spin, on a 2-core machine. Row i of C depends only on row i of op(A), so the pieces
    /// give the same C as one call.
    package static func gemm(
        onCallingThread: Bool,
        _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool, _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        let piece = onCallingThread ? max(1, callerThreadProduct / max(1, n * k)) : m
        var i0 = 0
        while i0 < m {
            let rows = min(piece, m - i0)
            // Rows i0… of op(A): row i0 of A, or column i0 of A stored transposed.
            gemm(
                a + (transposeA ? i0 : i0 * lda), lda: lda, transposeA: transposeA, b, ldb: ldb, transposeB: transposeB,
                c + i0 * ldc, ldc: ldc, m: rows, n: n, k: k, alpha: alpha, beta: beta)
            i0 += rows
        }
    }
}
