// The activations of ActivationFunction.swift out of place (so the forward can keep the pre-activation), and their
// derivatives: GELU (erf and tanh) vectorised in CKernels with the forward's own erf / tanh, the rest here.
import CKernels
import Foundation

extension Kernels {
    /// `y = act(u)` elementwise, out of place (`y` may equal `u`), on all threads. With `Kernels.affine(…,
    /// activation: .linear)` computing `u = x·W + b`, this is the training forward of a bias + activation layer: it
    /// keeps `u` for `activationBackward`, and `y` for the next layer's weight gradient.
    /// - Parameters:
    ///   - u: `[count]`, the pre-activation.
    ///   - y: `[count]`, every element written.
    public static func activate(
        _ u: UnsafePointer<Float>, count: Int, activation: ActivationFunction, output y: UnsafeMutablePointer<Float>
    ) {
        parallelRows(count, minimumRows: 1 << 14) { range in
            let out = y + range.lowerBound
            if out != UnsafeMutablePointer(mutating: u + range.lowerBound) {
                out.update(from: u + range.lowerBound, count: range.count)
            }
            activation.apply(UnsafeMutableBufferPointer(start: out, count: range.count))
        }
    }

    /// The backward of `y = act(u + b)` over `[rows, n]`: `du = dy · act′(u)` (**overwritten**; `du` may equal
    /// `dy`), and `db += Σ_rows du` (**accumulates**) when `biasGradient` is given. The forward keeps `u`, the
    /// pre-activation with the bias added (`activate`'s input). Then `linearBackward` with `du` as its output
    /// gradient (and no bias gradient, given here) completes the layer.
    ///
    /// Derivatives: GELU exact (`gelu`) `Φ(u) + u·φ(u)` and GELU tanh (`gelu_new`) from the forward's formulas in
    /// CKernels (same erf / tanh approximations); `relu` 0 at u ≤ 0 (as torch); `silu` `σ(u)·(1 + u·(1 − σ(u)))`;
    /// `quick_gelu` `σ(au) + a·u·σ(au)·(1 − σ(au))`, a = 1.702; `tanh` `1 − tanh²(u)`; `linear` 1.
    /// - Parameters:
    ///   - u: `[rows, n]`.
    ///   - dy: `[rows, n]`, the gradient of the activation's output.
    ///   - du: `[rows, n]`.
    ///   - db: `[n]`.
    public static func activationBackward(
        preActivation u: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, rows: Int, columns n: Int,
        activation: ActivationFunction, preActivationGradient du: UnsafeMutablePointer<Float>,
        biasGradient db: UnsafeMutablePointer<Float>?
    ) {
        guard rows > 0, n > 0 else { return }
        parallelRows(rows, minimumRows: max(1, (1 << 14) / n)) { range in
            let offset = range.lowerBound * n
            activation.backward(u + offset, dy + offset, du + offset, count: range.count * n)
        }
        if let db { addColumnSums(UnsafePointer(du), rows: rows, columns: n, into: db) }
    }
}

extension ActivationFunction {
    /// `du[i] = dy[i]·act′(u[i])` for `count` elements on the calling thread (`du` may equal `dy`).
    func backward(
        _ u: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ du: UnsafeMutablePointer<Float>, count: Int
    ) {
        switch self {
        case .gelu: ckernels_activation_backward(u, dy, du, count, Int32(CKERNELS_GELU_ERF))
        case .geluTanh: ckernels_activation_backward(u, dy, du, count, Int32(CKERNELS_GELU_TANH))
        case .linear: ckernels_activation_backward(u, dy, du, count, Int32(CKERNELS_IDENTITY))
        case .relu:
            for i in 0..<count { du[i] = u[i] > 0 ? dy[i] : 0 }
        case .silu:
            for i in 0..<count {
                let s = 1 / (1 + exp(-u[i]))
                du[i] = dy[i] * s * (1 + u[i] * (1 - s))
            }
        case .quickGelu:
            for i in 0..<count {
                let s = 1 / (1 + exp(-1.702 * u[i]))
                du[i] = dy[i] * (s + 1.702 * u[i] * s * (1 - s))
            }
        case .tanh:
            for i in 0..<count {
                let t = Foundation.tanh(u[i])
                du[i] = dy[i] * (1 - t * t)
            }
        }
    }
}
