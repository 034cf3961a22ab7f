// The backward kernels of Kernels/Backward against float64 central differences of naive forwards: dense layers,
// LayerNorm, activations, embeddings, dropout, and the transposed GEMM under them. Loss Σ r·y with a random r.
import Foundation
import Models
import Testing
import TestSupport

@Suite("Backward kernels")
struct BackwardKernelTests {
    @Test(
        "gemm with A transposed or not equals the naive product, in one call and in caller-thread pieces",
        arguments: [(false, false), (false, true), (true, false), (true, true)])
    func transposedGEMM(_ ta: Bool, _ tb: Bool) {
        var random = SeededNumbers(state: 7)
        // n·k = 70,000: caller-thread pieces of 3 rows (2^18 multiply-adds at most), 13 of them.
        let (m, n, k) = (37, 100, 700)
        let a = random.array(m * k), b = random.array(k * n), c0 = random.array(m * n)
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += Double(ta ? a[p * m + i] : a[i * k + p]) * Double(tb ? b[j * k + p] : b[p * n + j])
                }
                expected[i * n + j] = Float(0.5 * s + 2 * Double(c0[i * n + j]))
            }
        }
        for pieces in [false, true] {
            let (pa, pb, pc) = (Buffer(a), Buffer(b), Buffer(c0))
            Kernels.gemm(
                onCallingThread: pieces, pa.readable, lda: ta ? m : k, transposeA: ta, pb.readable, ldb: tb ? k : n,
                transposeB: tb, pc.pointer, ldc: n, m: m, n: n, k: k, alpha: 0.5, beta: 2)
            // Sums of 700 float32 products: relative to the values' scale (about 10).
            let error = (maxAbsError(pc.values, expected) ?? .infinity) / expected.map(abs).max()!
            #expect(error <= 1e-5, "max error \(error) of the values' scale (pieces: \(pieces))")
        }
    }

    @Test("gemm with an empty reduction scales C by beta: 1 keeps it, 0 zeroes it")
    func emptyReduction() {
        let (a, c) = (Buffer<Float>([]), Buffer<Float>([1, 2, 3, 4]))
        Kernels.gemm(
            a.readable, lda: 1, transposeA: true, a.readable, ldb: 2, transposeB: false, c.pointer, ldc: 2,
            m: 2, n: 2, k: 0, beta: 1)
        #expect(c.values == [1, 2, 3, 4])
        Kernels.gemm(
            a.readable, lda: 1, transposeA: true, a.readable, ldb: 2, transposeB: false, c.pointer, ldc: 2,
            m: 2, n: 2, k: 0, beta: 0)
        #expect(c.values == [0, 0, 0, 0])
    }

    @Test(
        "linear and Conv1D backward match finite differences; dW and db accumulate, dx is written or added",
        arguments: [(1, 1, 1), (5, 7, 3), (13, 17, 9), (40, 3, 33)], [true, false])
    func linear(_ shape: (Int, Int, Int), _ outIn: Bool) {
        let (m, k, n) = shape
        var random = SeededNumbers(state: UInt64(m * 100 + k * 10 + n))
        let x = random.array(m * k), w = random.array(n * k), b = random.array(n), r = random.array(m * n)
        func forward(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            var y = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = b[j]
                    for p in 0..<k { s += x[i * k + p] * (outIn ? w[j * k + p] : w[p * n + j]) }
                    y[i * n + j] = s
                }
            }
            return weightedSum(r, y)
        }
        let (xd, wd, bd) = (x.map(Double.init), w.map(Double.init), b.map(Double.init))
        // Gradients start from non-zero values: dW and db must come out as start + gradient.
        let dw0 = random.array(n * k), db0 = random.array(n), dxStart = random.array(m * k)
        let (px, pw, pr) = (Buffer(x), Buffer(w), Buffer(r))
        let (dx, dxAdded, dw, db) = (
            Buffer(repeating: Float.nan, count: m * k), Buffer(dxStart), Buffer(dw0), Buffer(db0)
        )
        Kernels.linearBackward(
            input: px.readable, outputGradient: pr.readable, weight: pw.readable, rows: m, inputs: k, outputs: n,
            weightIsOutIn: outIn, inputGradient: dx.pointer, weightGradient: dw.pointer, biasGradient: db.pointer)
        Kernels.linearBackward(
            input: px.readable, outputGradient: pr.readable, weight: pw.readable, rows: m, inputs: k, outputs: n,
            weightIsOutIn: outIn, inputGradient: dxAdded.pointer, accumulateInputGradient: true, weightGradient: nil,
            biasGradient: nil)
        let gw = zip(dw.values, dw0).map { $0 - $1 }, gb = zip(db.values, db0).map { $0 - $1 }
        let gxAdded = zip(dxAdded.values, dxStart).map { $0 - $1 }
        let ex = gradientError(dx.values, at: x, random: &random) { forward($0, wd, bd) }
        let exAdded = gradientError(gxAdded, at: x, random: &random) { forward($0, wd, bd) }
        let ew = gradientError(gw, at: w, random: &random) { forward(xd, $0, bd) }
        let eb = gradientError(gb, at: b, random: &random) { forward(xd, wd, $0) }
        // float32 GEMMs (sums of ≤ 40 products) against float64: ≤ 1e-4 of the gradient's scale.
        #expect(ex <= 1e-4, "dx relative error \(ex)")
        #expect(exAdded <= 1e-4, "dx (accumulated) relative error \(exAdded)")
        #expect(ew <= 1e-4, "dW relative error \(ew)")
        #expect(eb <= 1e-4, "db relative error \(eb)")
    }

    @Test(
        "LayerNorm backward matches finite differences; dweight and dbias accumulate",
        arguments: [(1, 1), (1, 5), (3, 8), (7, 33), (20, 130)], [false, true])
    func layerNorm(_ shape: (Int, Int), _ accumulate: Bool) {
        let (rows, n) = shape
        var random = SeededNumbers(state: UInt64(rows * 1000 + n))
        let x = random.array(rows * n).map { $0 * 2 + 0.3 }, w = random.array(n).map { $0 + 1.5 }, b = random.array(n)
        let r = random.array(rows * n), epsilon: Float = 1e-5
        func forward(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            var y = [Double](repeating: 0, count: rows * n)
            for i in 0..<rows {
                let row = x[(i * n)..<(i * n + n)]
                let mean = row.reduce(0, +) / Double(n)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
                for j in 0..<n {
                    y[i * n + j] = (x[i * n + j] - mean) / (variance + Double(epsilon)).squareRoot() * w[j] + b[j]
                }
            }
            return weightedSum(r, y)
        }
        let (px, pw, pb, pr) = (Buffer(x), Buffer(w), Buffer(b), Buffer(r))
        let (y, mean, rstd) = (
            Buffer(repeating: Float.nan, count: rows * n), Buffer(repeating: Float.nan, count: rows),
            Buffer(repeating: Float.nan, count: rows)
        )
        Kernels.layerNorm(
            px.readable, rows: rows, columns: n, weight: pw.readable, bias: pb.readable, epsilon: epsilon,
            output: y.pointer, mean: mean.pointer, rstd: rstd.pointer)
        let dxStart = accumulate ? random.array(rows * n) : [Float](repeating: .nan, count: rows * n)
        let dw0 = random.array(n), db0 = random.array(n)
        let (dx, dw, db) = (Buffer(dxStart), Buffer(dw0), Buffer(db0))
        Kernels.layerNormBackward(
            input: px.readable, outputGradient: pr.readable, rows: rows, columns: n, weight: pw.readable,
            mean: mean.readable, rstd: rstd.readable, inputGradient: dx.pointer, accumulateInputGradient: accumulate,
            weightGradient: dw.pointer, biasGradient: db.pointer)
        let gx = accumulate ? zip(dx.values, dxStart).map { $0 - $1 } : dx.values
        let gw = zip(dw.values, dw0).map { $0 - $1 }, gb = zip(db.values, db0).map { $0 - $1 }
        let (xd, wd, bd) = (x.map(Double.init), w.map(Double.init), b.map(Double.init))
        let ex = gradientError(gx, at: x, sample: 300, random: &random) { forward($0, wd, bd) }
        let ew = gradientError(gw, at: w, random: &random) { forward(xd, $0, bd) }
        let eb = gradientError(gb, at: b, random: &random) { forward(xd, wd, $0) }
        // With n = 1 the output is the bias alone: dx is exactly 0 and so are the differences.
        #expect(ex <= 1e-4, "dx relative error \(ex)")
        #expect(ew <= 1e-4, "dweight relative error \(ew)")
        #expect(eb <= 1e-4, "dbias relative error \(eb)")
    }

    @Test("the LayerNorm forward that keeps mean and rstd equals the existing one bit for bit")
    func layerNormForwardMatches() {
        var random = SeededNumbers(state: 11)
        let (rows, n) = (150, 384)
        let x = random.array(rows * n).map { $0 * 4 - 1 }, w = random.array(n), b = random.array(n)
        var expected = x
        Kernels.layerNorm(&expected, columns: n, weight: w, bias: b, epsilon: 1e-12)
        let (px, pw, pb) = (Buffer(x), Buffer(w), Buffer(b))
        let (y, mean, rstd) = (
            Buffer(repeating: Float.nan, count: rows * n), Buffer(repeating: Float.nan, count: rows),
            Buffer(repeating: Float.nan, count: rows)
        )
        Kernels.layerNorm(
            px.readable, rows: rows, columns: n, weight: pw.readable, bias: pb.readable, epsilon: 1e-12,
            output: y.pointer, mean: mean.pointer, rstd: rstd.pointer)
        #expect(y.values == expected)
        let row = x[0..<n].map(Double.init), m = row.reduce(0, +) / Double(n)
        #expect(abs(Double(mean.values[0]) - m) <= 1e-6)
        #expect(rstd.values.allSatisfy { $0.isFinite && $0 > 0 })
    }

    @Test(
        "activation backward matches finite differences of the exact formulas; db accumulates",
        arguments: ActivationFunction.allCases)
    func activation(_ activation: ActivationFunction) {
        let (rows, n) = (5, 19)
        var random = SeededNumbers(state: UInt64(activation.rawValue.utf8.count))
        // Pre-activations over [−4, 4], none within 1e-3 of relu's kink at 0.
        let z = random.array(rows * n).map { v -> Float in
            let u = v * 4; return abs(u) < 1e-3 ? 0.5 : u
        }
        let b = random.array(n).map { $0 * 0.01 }, r = random.array(rows * n)
        func act(_ x: Double) -> Double {
            switch activation {
            case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            case .geluTanh: return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            case .relu: return max(x, 0)
            case .silu: return x / (1 + exp(-x))
            case .quickGelu: return x / (1 + exp(-1.702 * x))
            case .tanh: return tanh(x)
            case .linear: return x
            }
        }
        func forward(_ z: [Double], _ b: [Double]) -> Double {
            weightedSum(r, z.indices.map { act(z[$0] + b[$0 % n]) })
        }
        let u = z.indices.map { z[$0] + b[$0 % n] }
        let db0 = random.array(n)
        let (pu, pr, du, db) = (Buffer(u), Buffer(r), Buffer(repeating: Float.nan, count: rows * n), Buffer(db0))
        Kernels.activationBackward(
            preActivation: pu.readable, outputGradient: pr.readable, rows: rows, columns: n, activation: activation,
            preActivationGradient: du.pointer, biasGradient: db.pointer)
        let gb = zip(db.values, db0).map { $0 - $1 }
        let ez = gradientError(du.values, at: z, random: &random) { forward($0, b.map(Double.init)) }
        let eb = gradientError(gb, at: b, random: &random) { forward(z.map(Double.init), $0) }
        // GELU's erf (A–S 7.1.26) and exp (Cephes) approximations are within 2e-7 of the exact formulas.
        #expect(ez <= 1e-4, "du relative error \(ez)")
        #expect(eb <= 1e-4, "db relative error \(eb)")
        // In place (du = dy) gives the same, and the out-of-place forward equals `apply`.
        let inPlace = Buffer(r)
        Kernels.activationBackward(
            preActivation: pu.readable, outputGradient: inPlace.readable, rows: rows, columns: n,
            activation: activation, preActivationGradient: inPlace.pointer, biasGradient: nil)
        #expect(inPlace.values == du.values)
        let y = Buffer(repeating: Float.nan, count: rows * n)
        Kernels.activate(pu.readable, count: rows * n, activation: activation, output: y.pointer)
        var expected = u
        activation.apply(&expected)
        #expect(y.values == expected)
    }

    @Test(
        "embedding backward adds rows at their ids, repeats accumulating, only inside the trainable range",
        arguments: [0..<10, 7..<10, 10..<10, 3..<4])
    func embedding(_ trainable: Range<Int>) {
        let (count, c) = (10, 37)
        let ids = [3, 9, 3, 0, 7, 7, 7, 8, 3]
        var random = SeededNumbers(state: UInt64(trainable.lowerBound * 10 + trainable.count))
        let table = random.array(count * c), r = random.array(ids.count * c)
        func forward(_ t: [Double]) -> Double {
            weightedSum(r, ids.flatMap { id in t[(id * c)..<(id * c + c)] })
        }
        // One extra row past the trainable ones: it must stay untouched.
        let start = random.array((trainable.count + 1) * c)
        let (pr, pids, gradient) = (Buffer(r), Buffer(ids), Buffer(start))
        Kernels.embeddingBackward(
            outputGradient: pr.readable, ids: pids.readable, rows: ids.count, columns: c, trainableRows: trainable,
            tableGradient: gradient.pointer)
        let added = zip(gradient.values, start).map { $0 - $1 }
        #expect(added[(trainable.count * c)...].allSatisfy { $0 == 0 }, "the row past the range is untouched")
        let numeric = centralDifferences(at: table.map(Double.init), indices: Array(table.indices), forward)
        let rangeIndices = Array((trainable.lowerBound * c)..<(trainable.upperBound * c))
        let inRange = rangeIndices.map { numeric[$0] }
        let error = relativeGradientError(
            added, inRange, indices: Array(0..<rangeIndices.count))
        // Sums of at most three float32 values: exact to rounding.
        #expect(error <= 1e-6, "relative error \(error)")
    }

    @Test("dropout scales kept elements by 1/(1 − p) forward and backward, from a seeded mask")
    func dropout() {
        var random = SeededNumbers(state: 5)
        let n = 1000, p: Float = 0.25
        let x = random.array(n), r = random.array(n)
        var g1 = TestGenerator(state: 42), g2 = TestGenerator(state: 42)
        let keep = Kernels.dropoutKeepMask(count: n, probability: p, using: &g1)
        #expect(keep == Kernels.dropoutKeepMask(count: n, probability: p, using: &g2), "the same seed, the same mask")
        let kept = keep.filter { $0 == 1 }.count
        #expect(kept > 650 && kept < 850, "about 3/4 kept: \(kept)")
        let (px, pk, y) = (Buffer(x), Buffer(keep), Buffer(repeating: Float.nan, count: n))
        Kernels.dropout(px.readable, keep: pk.readable, count: n, probability: p, output: y.pointer)
        #expect(y.values == x.indices.map { keep[$0] == 1 ? x[$0] * (1 / 0.75) : 0 })
        // Backward: the same map on dy; against differences of Σ r·dropout(x).
        let dx = Buffer(r)
        Kernels.dropout(dx.readable, keep: pk.readable, count: n, probability: p, output: dx.pointer)
        let error = gradientError(dx.values, at: x, random: &random) { x in
            weightedSum(r, x.indices.map { keep[$0] == 1 ? x[$0] / 0.75 : 0 })
        }
        #expect(error <= 1e-6, "relative error \(error)")
        let none = Buffer(repeating: Float.nan, count: n)
        Kernels.dropout(px.readable, keep: pk.readable, count: n, probability: 1, output: none.pointer)
        #expect(none.values.allSatisfy { $0 == 0 }, "p = 1 drops everything")
    }
}
