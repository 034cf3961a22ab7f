// The update rules in float32 as torch computes them (docs/RMT.md §8.9, fixtures/training/README.md "Formulas"):
// plain SGD, `torch.optim.AdamW`'s single-tensor rule, and clipping by the global gradient norm.
import Foundation
import Models

/// AdamW's state for one parameter: the first and second moments over the values that train.
final class AdamMoments {
    /// `exp_avg`, `exp_avg_sq`: `[count]` each.
    var first: [Float]
    var second: [Float]

    init(count: Int) {
        first = [Float](repeating: 0, count: count)
        second = [Float](repeating: 0, count: count)
    }

    init(first: [Float], second: [Float]) {
        self.first = first
        self.second = second
    }
}

enum Optimizer {
    /// `sqrt(Σ g²)` over every gradient, accumulated in double.
    static func globalNorm(_ gradients: [GradientBuffer]) -> Double {
        var sum = 0.0
        for g in gradients {
            for i in 0..<g.count { sum += Double(g.pointer[i]) * Double(g.pointer[i]) }
        }
        return sum.squareRoot()
    }

    /// `torch.nn.utils.clip_grad_norm_`: every gradient times `min(1, maxNorm / (norm + 1e-6))`, in float32.
    static func clip(_ gradients: [GradientBuffer], norm: Double, maxNorm: Double) {
        let coefficient = Float(min(1, maxNorm / (norm + 1e-6)))
        for g in gradients {
            for i in 0..<g.count { g.pointer[i] *= coefficient }
        }
    }

    /// `p ← p − lr·g` over `count` values.
    static func sgd(
        _ p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int, learningRate: Double
    ) {
        let lr = Float(learningRate)
        for i in 0..<count { p[i] -= lr * g[i] }
    }

    /// One `torch.optim.AdamW` step (`_single_tensor_adam` with decoupled decay) over `count` values at step `t`
    /// (1-based), in the order torch computes it in float32:
    /// `p ← p·(1 − lr·wd)`; `m ← lerp(m, g, 1 − β1)`; `v ← v·β2 + (1 − β2)·g·g`;
    /// `p ← p − (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + eps)`. Scalars are computed in double, as Python does.
    static func adamw(
        _ p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, moments: AdamMoments, count: Int,
        step t: Int, learningRate lr: Double, options o: TrainingOptions
    ) {
        let decay = Float(1 - lr * o.weightDecay)
        let weight = Float(1 - o.beta1)  // lerp's weight
        let (beta2, oneMinusBeta2) = (Float(o.beta2), Float(1 - o.beta2))
        let stepSize = Float(-(lr / (1 - pow(o.beta1, Double(t)))))
        let correction = Float((1 - pow(o.beta2, Double(t))).squareRoot())
        let eps = Float(o.epsilon)
        moments.first.withUnsafeMutableBufferPointer { m in
            moments.second.withUnsafeMutableBufferPointer { v in
                for i in 0..<count {
                    if o.weightDecay != 0 { p[i] *= decay }
                    // torch's lerp: self + w·(end − self) for w < 0.5, else end − (end − self)·(1 − w)
                    m[i] = weight < 0.5 ? m[i] + weight * (g[i] - m[i]) : g[i] - (g[i] - m[i]) * (1 - weight)
                    v[i] = v[i] * beta2 + oneMinusBeta2 * g[i] * g[i]
                    let denominator = v[i].squareRoot() / correction + eps
                    p[i] = p[i] + stepSize * m[i] / denominator
                }
            }
        }
    }
}
