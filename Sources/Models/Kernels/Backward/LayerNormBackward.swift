// LayerNorm for training (torch `layer_norm`: biased variance, eps inside the square root): a forward that keeps
// each row's mean and 1/std, and its backward (torch `native_layer_norm_backward`).
import CKernels

extension Kernels {
    /// `y = (x − mean)·rstd·weight + bias` per row of `[rows, n]`, out of place, keeping `mean[r]` and
    /// `rstd[r] = 1/√(var + eps)` for `layerNormBackward`; the same arithmetic in the same order as
    /// `layerNorm(_:columns:weight:bias:epsilon:)`, so `y` equals its result bit for bit. Rows are shared among the
    /// threads.
    ///
    /// The backward needs `x`, `mean` and `rstd`: keep the input (for BERT's post-norm, the residual sum before the
    /// norm), not only the output.
    /// - Parameters:
    ///   - x: `[rows, n]`.
    ///   - weight, bias: `[n]`.
    ///   - y: `[rows, n]`, every element written; may equal `x` (then `x` is gone, and the backward cannot run).
    ///   - mean, rstd: `[rows]`, written.
    public static func layerNorm(
        _ x: UnsafePointer<Float>, rows: Int, columns n: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, epsilon: Float, output y: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    ) {
        guard n > 0 else { return }
        parallelRows(rows, minimumRows: 64) { range in
            for row in range {
                let r = x + row * n, out = y + row * n
                var sum: Float = 0
                for j in 0..<n { sum += r[j] }
                let m = sum / Float(n)
                var squares: Float = 0
                for j in 0..<n {
                    let d = r[j] - m
                    squares += d * d
                }
                let s = 1 / (squares / Float(n) + epsilon).squareRoot()
                for j in 0..<n { out[j] = (r[j] - m) * s * weight[j] + bias[j] }
                mean[row] = m
                rstd[row] = s
            }
        }
    }

    /// The backward of `layerNorm(_:rows:columns:…)` from `dy = ∂L/∂y`, with x̂ = (x − mean)·rstd:
    /// - `dweight += Σ_rows dy·x̂`, `dbias += Σ_rows dy` (`[n]`, **accumulate**; shared among the threads by columns,
    ///   rows in order, so the result does not depend on the thread count);
    /// - `dx = rstd·(g − mean(g) − x̂·mean(g·x̂))` with g = dy·weight (`[rows, n]`), **written**, or **added** when
    ///   `accumulateInputGradient` (GPT-2's pre-norm: the residual stream's gradient already in `dx`). The parameter
    ///   gradients are taken first, so `dx` may equal `dy` when it is written.
    ///
    /// Pass nil for gradients that are not needed.
    /// - Parameters:
    ///   - x: `[rows, n]`, the forward's input.
    ///   - dy: `[rows, n]`.
    ///   - weight: `[n]`.
    ///   - mean, rstd: `[rows]`, as the forward kept them.
    public static func layerNormBackward(
        input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, rows: Int, columns n: Int,
        weight: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        inputGradient dx: UnsafeMutablePointer<Float>?, accumulateInputGradient: Bool = false,
        weightGradient dweight: UnsafeMutablePointer<Float>?, biasGradient dbias: UnsafeMutablePointer<Float>?
    ) {
        guard rows > 0, n > 0 else { return }
        if dweight != nil || dbias != nil {
            parallelColumns(n, rows: rows) { c in
                ckernels_layer_norm_parameter_gradients(
                    x + c.lowerBound, dy + c.lowerBound, mean, rstd, rows, c.count, n,
                    dweight.map { $0 + c.lowerBound }, dbias.map { $0 + c.lowerBound })
            }
        }
        guard let dx else { return }
        parallelRows(rows, minimumRows: max(1, (1 << 14) / n)) { range in
            let offset = range.lowerBound * n
            ckernels_layer_norm_backward(
                x + offset, dy + offset, weight, mean + range.lowerBound, rstd + range.lowerBound, dx + offset,
                range.count, n, accumulateInputGradient ? 1 : 0)
        }
    }
}
