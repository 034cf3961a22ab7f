// The training attention (forward keeping P, and its backward) against the fused forward, float64 central
// differences, and a float64 analytic backward where differences cannot see the gradient (queries whose keys are
// all padding).
import Foundation
import Models
import Testing
import TestSupport

@Suite("Attention backward")
struct AttentionBackwardTests {
    /// (B, T, H, D, packed QKV, causal, padded, extra scale divisor as GPT-2's inverse layer index, sampled coordinates)
    typealias Case = (Int, Int, Int, Int, Bool, Bool, Bool, Float, Int?)

    @Test(
        "dQ, dK, dV match finite differences of a float64 attention",
        arguments: [
            (1, 1, 1, 4, false, false, false, 1, nil), (1, 1, 4, 2, true, true, true, 1, nil),
            (2, 5, 1, 3, true, true, true, 1, nil), (2, 9, 4, 2, false, false, true, 1, nil),
            (1, 7, 4, 5, true, true, false, 3, nil), (3, 6, 2, 4, false, true, true, 2, nil),
            // Beyond one causal block (64 queries): keys of the first block receive gradient from the second.
            (2, 70, 2, 3, true, true, true, 1, 400), (1, 67, 4, 2, false, false, true, 1, 400),
        ] as [Case])
    func matchesDifferences(_ c: Case) {
        let (b, t, h, d, packed, causal, padded, divisor, sample) = c
        var random = SeededNumbers(state: UInt64(b * 1000 + t * 100 + h * 10 + d))
        let problem = AttentionProblem(
            batch: b, length: t, heads: h, headSize: d, packed: packed, causal: causal, divisor: divisor,
            padding: padded ? .right : .none, random: &random)
        let (gradient, output) = problem.analyticGradient()
        #expect(gradient.allSatisfy { $0.isFinite }, "every element of dQ, dK, dV is written")
        let reference = problem.referenceOutput(problem.operands.map(Double.init))
        let forwardError = zip(output, reference).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(forwardError <= 1e-5, "forward max abs error \(forwardError)")
        let error = gradientError(gradient, at: problem.operands, sample: sample, random: &random) {
            weightedSum(problem.outputGradient, problem.referenceOutput($0))
        }
        // float32 GEMMs and softmax against float64: ≤ 1e-4 of the gradient's scale.
        #expect(error <= 1e-4, "relative error \(error)")
    }

    @Test("queries that see only padding get torch's gradient of their uniform weights")
    func leftPadding() {
        // Causal with left padding: the first third of the keys of every other batch row are padding, so the first
        // queries of those rows attend only to padding (P uniform over their allowed keys, as transformers').
        // Differences cannot see that gradient (the scores vanish beside finfo.min); torch's autograd still
        // computes P∘(dP − rowsum(dP∘P)) there, and so does the kernel. Checked against that formula in float64.
        for (t, h, d) in [(9, 2, 3), (70, 1, 4)] {
            var random = SeededNumbers(state: UInt64(t))
            let problem = AttentionProblem(
                batch: 2, length: t, heads: h, headSize: d, packed: true, causal: true, divisor: 1, padding: .left,
                random: &random)
            let (gradient, _) = problem.analyticGradient()
            let expected = problem.referenceGradient()
            let scale = expected.map(abs).max() ?? 1
            let error = zip(gradient, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(error / scale <= 1e-4, "T \(t): relative error \(error / scale)")
        }
    }

    @Test(
        "the forward keeping P equals the fused attention kernel, with P's rows summing to 1",
        arguments: [
            (1, 1, 1, 4, false, false, false), (2, 7, 3, 5, false, false, true), (2, 9, 4, 8, true, true, true),
            (3, 16, 2, 16, true, true, false), (2, 300, 2, 4, true, true, true), (1, 130, 3, 32, true, false, true),
            (2, 67, 2, 64, true, true, true), (2, 18, 3, 13, false, false, true),
        ])
    func forwardMatchesFused(
        _ b: Int, _ t: Int, _ h: Int, _ d: Int, _ packed: Bool, _ causal: Bool, _ padded: Bool
    ) {
        var random = SeededNumbers(state: UInt64(b * 1000 + t * 100 + h * 10 + d))
        let problem = AttentionProblem(
            batch: b, length: t, heads: h, headSize: d, packed: packed, causal: causal, divisor: 1,
            padding: padded ? (causal ? .left : .right) : .none, random: &random, spread: 3)
        let (output, probabilities) = problem.forward()
        let fused = Buffer(repeating: Float.nan, count: b * t * h * d)
        let operands = Buffer(problem.operands)
        Kernels.attention(
            problem.attentionOperands(operands.readable), shape: problem.shape, keyBias: problem.keyBias,
            output: fused.pointer)
        let error = maxAbsError(output, fused.values) ?? .infinity
        #expect(error <= 1e-5, "max abs error against the fused kernel \(error)")
        var worstSum: Float = 0
        var upperNonZero = 0
        for row in 0..<(b * h * t) {
            let p = probabilities[(row * t)..<(row * t + t)]
            worstSum = max(worstSum, abs(p.reduce(0, +) - 1))
            if causal { upperNonZero += p.dropFirst(row % t + 1).filter { $0 != 0 }.count }
        }
        #expect(worstSum <= 1e-5, "rows of P sum to 1 within \(worstSum)")
        #expect(upperNonZero == 0, "causally masked entries of P are exactly 0")
    }
}

/// One attention problem: operands in either layout, a mask, a loss Σ r·out, and the kernels and references on it.
struct AttentionProblem {
    enum Padding { case none, right, left }

    let shape: AttentionShape
    let packed: Bool
    /// Q, K, V: one `[B·T, 3C]` buffer when packed, else three `[B·T, C]` buffers one after the other.
    let operands: [Float]
    let keyBias: [Float]?
    /// r, `[B·T, C]`.
    let outputGradient: [Float]

    init(
        batch b: Int, length t: Int, heads h: Int, headSize d: Int, packed: Bool, causal: Bool, divisor: Float,
        padding: Padding, random: inout SeededNumbers, spread: Float = 1.5
    ) {
        shape = AttentionShape(
            batch: b, length: t, heads: h, headSize: d, scale: 1 / Float(d).squareRoot() / divisor, causal: causal)
        self.packed = packed
        operands = random.array(3 * b * t * h * d).map { $0 * spread }
        outputGradient = random.array(b * t * h * d)
        // Every other batch row: the last third of the keys (every query keeps key 0), or the first third.
        var mask = [Float](repeating: 1, count: b * t)
        for row in stride(from: 0, to: b, by: 2) {
            for j in 0..<t {
                switch padding {
                case .none: break
                case .right: if j >= t - t / 3 { mask[row * t + j] = 0 }
                case .left: if j < t / 3 { mask[row * t + j] = 0 }
                }
            }
        }
        keyBias = padding == .none ? nil : Kernels.keyBias(fromMask: mask)
    }

    var rows: Int { shape.batch * shape.length }
    var width: Int { shape.heads * shape.headSize }
    var rowStride: Int { packed ? 3 * width : width }
    /// Where Q, K and V start in `operands`.
    var offsets: (Int, Int, Int) { packed ? (0, width, 2 * width) : (0, rows * width, 2 * rows * width) }

    func attentionOperands(_ base: UnsafePointer<Float>) -> AttentionOperands {
        AttentionOperands(query: base + offsets.0, key: base + offsets.1, value: base + offsets.2, rowStride: rowStride)
    }

    /// The forward keeping P: output `[B·T, C]` and P `[B, H, T, T]`.
    func forward() -> ([Float], [Float]) {
        let (_, out, p) = run()
        return (out.values, p.values)
    }

    /// The kernels' gradient of Σ r·out with respect to `operands` (NaN where nothing was written), and the output.
    func analyticGradient() -> ([Float], [Float]) {
        let (x, out, p) = run()
        let (r, g) = (Buffer(outputGradient), Buffer(repeating: Float.nan, count: operands.count))
        Kernels.attentionBackward(
            attentionOperands(x.readable), shape: shape, probabilities: p.readable, outputGradient: r.readable,
            gradients: AttentionGradients(
                query: g.pointer + offsets.0, key: g.pointer + offsets.1, value: g.pointer + offsets.2,
                rowStride: rowStride))
        return (g.values, out.values)
    }

    /// The forward keeping P, on buffers: the operands, the output and P.
    private func run() -> (Buffer<Float>, Buffer<Float>, Buffer<Float>) {
        let x = Buffer(operands)
        let out = Buffer(repeating: Float.nan, count: rows * width)
        let p = Buffer(repeating: Float.nan, count: shape.batch * shape.heads * shape.length * shape.length)
        Kernels.attention(
            attentionOperands(x.readable), shape: shape, keyBias: keyBias, output: out.pointer, probabilities: p.pointer
        )
        return (x, out, p)
    }

    /// P of one (b, h) in float64, `[T, T]`, from the operands.
    private func probabilities(_ a: [Double], _ b: Int, _ h: Int) -> [Double] {
        let (T, D, ld) = (shape.length, shape.headSize, rowStride)
        var p = [Double](repeating: 0, count: T * T)
        for i in 0..<T {
            var scores = [Double](repeating: -.infinity, count: T)
            for j in 0..<T where !shape.causal || j <= i {
                var dot = 0.0
                for c in 0..<D {
                    dot += a[offsets.0 + (b * T + i) * ld + h * D + c] * a[offsets.1 + (b * T + j) * ld + h * D + c]
                }
                scores[j] = dot * Double(shape.scale) + Double(keyBias?[b * T + j] ?? 0)
            }
            let m = scores.max()!
            let e = scores.map { $0 == -.infinity ? 0 : exp($0 - m) }
            let total = e.reduce(0, +)
            for j in 0..<T { p[i * T + j] = e[j] / total }
        }
        return p
    }

    /// The output `[B·T, C]` in float64.
    func referenceOutput(_ a: [Double]) -> [Double] {
        let (T, D, ld, C) = (shape.length, shape.headSize, rowStride, width)
        var out = [Double](repeating: 0, count: rows * C)
        for b in 0..<shape.batch {
            for h in 0..<shape.heads {
                let p = probabilities(a, b, h)
                for i in 0..<T {
                    for c in 0..<D {
                        var s = 0.0
                        for j in 0..<T { s += p[i * T + j] * a[offsets.2 + (b * T + j) * ld + h * D + c] }
                        out[(b * T + i) * C + h * D + c] = s
                    }
                }
            }
        }
        return out
    }

    /// The analytic gradient of Σ r·out in float64 (torch's formulas), laid out as `operands`.
    func referenceGradient() -> [Double] {
        let a = operands.map(Double.init)
        let (T, D, ld, C, scale) = (shape.length, shape.headSize, rowStride, width, Double(shape.scale))
        var g = [Double](repeating: 0, count: a.count)
        func at(_ o: Int, _ b: Int, _ i: Int, _ h: Int, _ c: Int) -> Int { o + (b * T + i) * ld + h * D + c }
        for b in 0..<shape.batch {
            for h in 0..<shape.heads {
                let p = probabilities(a, b, h)
                for i in 0..<T {
                    // dP[i, j] = dO[i]·V[j]; dS = P∘(dP − Σ P·dP)
                    let dp = (0..<T).map { j in
                        (0..<D).reduce(0.0) {
                            $0 + Double(outputGradient[(b * T + i) * C + h * D + $1]) * a[at(offsets.2, b, j, h, $1)]
                        }
                    }
                    let dot = (0..<T).reduce(0.0) { $0 + p[i * T + $1] * dp[$1] }
                    for j in 0..<T {
                        let ds = p[i * T + j] * (dp[j] - dot) * scale
                        for c in 0..<D {
                            g[at(offsets.0, b, i, h, c)] += ds * a[at(offsets.1, b, j, h, c)]
                            g[at(offsets.1, b, j, h, c)] += ds * a[at(offsets.0, b, i, h, c)]
                            g[at(offsets.2, b, j, h, c)] +=
                                p[i * T + j] * Double(outputGradient[(b * T + i) * C + h * D + c])
                        }
                    }
                }
            }
        }
        return g
    }
}
