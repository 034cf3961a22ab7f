// Backward of the dense layers (`nn.Linear` and GPT-2's `Conv1D`, Layers/Linear.swift): three GEMMs' worth of
// work in two GEMMs and a column sum. M rows, K inputs, N outputs.
import CKernels

extension Kernels {
    /// The gradients of `y = x·Wᵀ + b` (`nn.Linear`, W `[N, K]`, `weightIsOutIn`) or `y = x·W + b` (`Conv1D`,
    /// W `[K, N]`) from `dy = ∂L/∂y`; the forward keeps its input `x` (only when `weightGradient` is wanted).
    ///
    /// - `dx = dy·W` (`[M, N]·[N, K]`) or `dy·Wᵀ`: written, or added when `accumulateInputGradient` (a residual
    ///   stream that already holds a gradient).
    /// - `dW += dyᵀ·x` (`[N, K]`) or `xᵀ·dy` (`[K, N]`): **accumulates**, as parameter gradients do across segments
    ///   and batches; zero it before the first.
    /// - `db += Σ_rows dy` (`[N]`): **accumulates**.
    ///
    /// Pass nil for a gradient that is not needed (a frozen weight, an input that is not trained): its GEMM is
    /// skipped. The GEMMs use OpenBLAS's threads; the column sum is shared among the threads by columns, so every
    /// result is the same for any thread count.
    /// - Parameters:
    ///   - x: `[M, K]`, read only for `weightGradient`.
    ///   - dy: `[M, N]`.
    ///   - weight: `[N, K]` or `[K, N]`, read only for `inputGradient`.
    ///   - inputGradient: `[M, K]`.
    ///   - weightGradient: the layout of `weight`.
    ///   - biasGradient: `[N]`.
    public static func linearBackward(
        input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows m: Int, inputs k: Int, outputs n: Int, weightIsOutIn: Bool,
        inputGradient dx: UnsafeMutablePointer<Float>?, accumulateInputGradient: Bool = false,
        weightGradient dw: UnsafeMutablePointer<Float>?, biasGradient db: UnsafeMutablePointer<Float>?
    ) {
        guard m > 0, k > 0, n > 0 else { return }
        if let dx {
            // [M, N] · [N, K] → [M, K]   (Linear: W as stored; Conv1D: W [K, N] transposed)
            gemm(
                dy, lda: n, transposeA: false, weight, ldb: weightIsOutIn ? k : n, transposeB: !weightIsOutIn,
                dx, ldc: k, m: m, n: k, k: n, beta: accumulateInputGradient ? 1 : 0)
        }
        if let dw {
            if weightIsOutIn {
                // [N, M] · [M, K] → [N, K]
                gemm(dy, lda: n, transposeA: true, x, ldb: k, transposeB: false, dw, ldc: k, m: n, n: k, k: m, beta: 1)
            } else {
                // [K, M] · [M, N] → [K, N]
                gemm(x, lda: k, transposeA: true, dy, ldb: n, transposeB: false, dw, ldc: n, m: k, n: n, k: m, beta: 1)
            }
        }
        if let db { addColumnSums(dy, rows: m, columns: n, into: db) }
    }

    /// `sums[j] += Σ_r x[r, j]` over `[rows, n]` (bias gradients), rows in order; the columns are shared among the
    /// threads, so the result does not depend on the thread count.
    public static func addColumnSums(
        _ x: UnsafePointer<Float>, rows: Int, columns n: Int, into sums: UnsafeMutablePointer<Float>
    ) {
        parallelColumns(n, rows: rows) { columns in
            ckernels_add_column_sums(x + columns.lowerBound, rows, columns.count, n, sums + columns.lowerBound)
        }
    }

    /// Calls `body` on disjoint column ranges covering `0..<n` (multiples of 16 columns, a cache line of floats, so
    /// threads never write the same line), on up to `threadCount` threads; small inputs stay on the calling thread.
    static func parallelColumns(_ n: Int, rows: Int, _ body: (Range<Int>) -> Void) {
        let blocks = (n + 15) / 16
        parallelRows(blocks, minimumRows: max(1, (1 << 15) / max(1, 16 * rows))) { range in
            body(range.lowerBound * 16..<min(n, range.upperBound * 16))
        }
    }
}
