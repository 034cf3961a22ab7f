// The settings of one training forward pass: dropout with seeded keep masks. A pass holds no generator state: each
// dropout site seeds `SeededGenerator` from the pass's seed and the site's place, so a resumed run draws the same
// masks as an uninterrupted one.

extension SeededGenerator: RandomNumberGenerator {}

/// One training forward pass: whether the forward keeps what the backward needs is decided by passing one at all
/// (nil is inference); dropout is applied when `dropout > 0`.
public struct TrainingPass: Sendable {
    /// The drop probability of every dropout site the model has (0: off, as in inference).
    public let dropout: Float
    /// The seed of this pass's part of the network.
    public let seed: UInt64

    public init(dropout: Float = 0, seed: UInt64 = 0) {
        self.dropout = dropout
        self.seed = seed
    }

    /// The pass of part `index` (a step, a segment, a layer): its seed mixed from this one and `index`, so every
    /// dropout site of a run has its own stream whatever order the parts run in.
    public func part(_ index: Int) -> TrainingPass {
        var generator = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: index) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
        return TrainingPass(dropout: dropout, seed: generator.next())
    }

    /// Dropout at `site` of this part, in place over `x`: elements kept with probability `1 − dropout` and scaled by
    /// `1/(1 − dropout)` (`nn.Dropout` in training mode).
    /// - Returns: the keep mask the backward applies again, or nil when dropout is off.
    public func dropout(_ x: inout [Float], site: Int) -> [UInt8]? {
        guard dropout > 0, !x.isEmpty else { return nil }
        var generator = SeededGenerator(seed: part(site).seed)
        let keep = Kernels.dropoutKeepMask(count: x.count, probability: dropout, using: &generator)
        x.withUnsafeMutableBufferPointer { px in
            Kernels.dropout(px.baseAddress!, keep: keep, count: px.count, probability: dropout, output: px.baseAddress!)
        }
        return keep
    }
}

/// The backward of `TrainingPass.dropout`: `dy·keep/(1 − p)` in place; nothing when there was no mask.
func dropoutBackward(_ dy: inout [Float], keep: [UInt8]?, probability: Float) {
    guard let keep else { return }
    dy.withUnsafeMutableBufferPointer { p in
        Kernels.dropout(p.baseAddress!, keep: keep, count: p.count, probability: probability, output: p.baseAddress!)
    }
}
