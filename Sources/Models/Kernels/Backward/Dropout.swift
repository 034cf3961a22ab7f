// Dropout (`nn.Dropout` in training mode) given a keep mask: the random draw belongs to the caller, so a seeded
// generator makes a run reproducible and the backward reuses the forward's mask.

extension Kernels {
    /// `y = x·keep/(1 − p)` elementwise (`keep` 1 to keep, 0 to drop); p = 1 gives zeros, as torch does. `y` may
    /// equal `x`. The backward is the same function applied to the output's gradient with the same mask
    /// (`dx = dy·keep/(1 − p)`, **overwritten**): the forward keeps the mask, not its input.
    /// - Parameters:
    ///   - x: `[count]`.
    ///   - keep: `[count]` of 0 / 1, e.g. from `dropoutKeepMask`.
    ///   - probability: the drop probability p, in `0...1`.
    ///   - y: `[count]`, every element written.
    public static func dropout(
        _ x: UnsafePointer<Float>, keep: UnsafePointer<UInt8>, count: Int, probability p: Float,
        output y: UnsafeMutablePointer<Float>
    ) {
        let factor: Float = p < 1 ? 1 / (1 - p) : 0
        parallelRows(count, minimumRows: 1 << 15) { range in
            for i in range { y[i] = keep[i] != 0 ? x[i] * factor : 0 }
        }
    }

    /// A keep mask for `dropout`: element i is kept (1) when a uniform draw in [0, 1) from `generator` is ≥ p,
    /// one draw per element in order, so a seeded generator gives the same mask on every run.
    public static func dropoutKeepMask<G: RandomNumberGenerator>(
        count: Int, probability p: Float, using generator: inout G
    ) -> [UInt8] {
        (0..<count).map { _ in Float.random(in: 0..<1, using: &generator) >= p ? 1 : 0 }
    }
}
