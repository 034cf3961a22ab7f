// The numeric kernels of the forward pass: float32 GEMM through OpenBLAS (loaded on first use, CKernels' blas.c),
// bias + activation in CKernels, and the row-wise loops (residual, LayerNorm) over contiguous rows, on all threads.
import CKernels
import Foundation

/// Float32 kernels over row-major buffers. Dimension letters: M rows, N columns, K the reduced dimension.
public enum Kernels {
    /// `C[M×N] = alpha·A[M×K]·op(B) + beta·C`, where `op(B)` is `B[K×N]`, or `Bᵀ` for `B` stored `[N×K]` when
    /// `transposeB`. Leading dimensions (row strides) allow strided views such as one head of a packed QKV.
    /// - Precondition: `m·n > 0` implies `k > 0` (an empty reduction would leave C unwritten).
    public static func gemm(
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        ckernels_sgemm(
            transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `act(x[M×K] · w + b)` for a weight stored `[N×K]` (`nn.Linear`, `weightIsOutIn` true) or `[K×N]`
    /// (GPT-2 `Conv1D`); the bias and the activation are applied in one pass over the rows, on all threads.
    /// - Parameters:
    ///   - weight: `[N×K]` or `[K×N]`.
    ///   - bias: `[N]`, or nil.
    /// - Returns: `[M×N]`.
    public static func affine(
        _ x: [Float], rows m: Int, inputs k: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        outputs n: Int, weightIsOutIn: Bool, activation: ActivationFunction = .linear
    ) -> [Float] {
        // beta = 0: sgemm writes every element of C without reading it, so C needs no zeroing.
        [Float](unsafeUninitializedCapacity: m * n) { py, initialized in
            x.withUnsafeBufferPointer { px in
                gemm(
                    px.baseAddress!, lda: k, weight, ldb: weightIsOutIn ? k : n, transposeB: weightIsOutIn,
                    py.baseAddress!, ldc: n, m: m, n: n, k: k)
            }
            initialized = m * n
            guard m > 0, n > 0, bias != nil || activation != .linear else { return }
            let y = py.baseAddress!
            parallelRows(m) { rows in
                let start = y + rows.lowerBound * n
                switch activation {
                case .gelu: ckernels_bias_activation(start, rows.count, n, bias, Int32(CKERNELS_GELU_ERF))
                case .geluTanh: ckernels_bias_activation(start, rows.count, n, bias, Int32(CKERNELS_GELU_TANH))
                default:
                    ckernels_bias_activation(start, rows.count, n, bias, Int32(CKERNELS_IDENTITY))
                    activation.apply(UnsafeMutableBufferPointer(start: start, count: rows.count * n))
                }
            }
        }
    }

    /// `y += x`, elementwise (residual connections), on all threads.
    public static func add(_ x: [Float], to y: inout [Float]) {
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                let (src, dst) = (px.baseAddress!, py.baseAddress!)
                parallelRows(py.count, minimumRows: 1 << 16) { range in
                    for i in range { dst[i] += src[i] }
                }
            }
        }
    }

    /// LayerNorm over each row of `[rows × n]` in place (torch `layer_norm`: biased variance, `eps` inside
    /// the square root), then `· weight + bias`: the training kernel `layerNorm(_:rows:columns:…)` with the output
    /// over the input and the statistics dropped, so both give the same bits.
    public static func layerNorm(
        _ x: inout [Float], columns n: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float
    ) {
        guard n > 0 else { return }
        let rows = x.count / n
        var statistics = [Float](repeating: 0, count: 2 * rows)  // mean, rstd
        x.withUnsafeMutableBufferPointer { px in
            statistics.withUnsafeMutableBufferPointer { ps in
                let base = px.baseAddress!
                layerNorm(
                    base, rows: rows, columns: n, weight: weight, bias: bias, epsilon: epsilon, output: base,
                    mean: ps.baseAddress!, rstd: ps.baseAddress! + rows)
            }
        }
    }

    /// `tanh` of every element (BERT's pooler).
    public static func tanh(_ x: inout [Float]) {
        for i in x.indices { x[i] = Foundation.tanh(x[i]) }
    }
}
