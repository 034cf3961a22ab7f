// The softmax cross-entropy kernels against float64 references and central differences, and the decoder's shifted
// loss (docs/RMT.md §2.6) built from them over segments, against `ShiftedCrossEntropy`.
import Foundation
import Models
import RMT
import Testing
import TestSupport

@Suite("Cross-entropy kernels")
struct CrossEntropyTests {
    /// Σ_r scale·(logsumexp(z[r]) − z[r, t]) over rows with a target, in float64.
    private static func referenceLoss(_ z: [Double], classes v: Int, targets: [Int], scale: Double) -> Double {
        var total = 0.0
        for (r, t) in targets.enumerated() where t != Kernels.ignoredTarget {
            let row = z[(r * v)..<(r * v + v)], m = row.max()!
            total += scale * (log(row.reduce(0) { $0 + exp($1 - m) }) + m - row[r * v + t])
        }
        return total
    }

    @Test(
        "the summed loss and its scaled gradient match float64; ignored rows get zero gradient; in place equals out of place",
        arguments: [
            (7, 11, [3, -100, 10, 0, 3, -100, 5], Float(1)), (4, 1000, [999, 0, -100, 512], Float(10)),
            (1, 1, [0], Float(1)), (3, 5, [-100, -100, -100], Float(1)),
        ])
    func languageModel(_ r: Int, _ v: Int, _ targets: [Int], _ spread: Float) throws {
        var random = SeededNumbers(state: UInt64(r * 100 + v))
        let z = random.array(r * v).map { $0 * spread }
        let counted = targets.filter { $0 != Kernels.ignoredTarget }.count
        let scale: Float = 0.37 / Float(max(1, counted))
        let (pz, pt, dz) = (Buffer(z), Buffer(targets), Buffer(repeating: Float.nan, count: r * v))
        let (sum, count) = try Kernels.softmaxCrossEntropy(
            logits: pz.readable, rows: r, classes: v, targets: pt.readable, scale: scale, logitsGradient: dz.pointer)
        #expect(count == counted)
        let expected = Self.referenceLoss(z.map(Double.init), classes: v, targets: targets, scale: 1)
        #expect(abs(sum - expected) <= 1e-6 * max(1, abs(expected)), "loss \(sum) vs \(expected)")
        for (row, t) in targets.enumerated() where t == Kernels.ignoredTarget {
            #expect(dz.values[(row * v)..<(row * v + v)].allSatisfy { $0 == 0 }, "row \(row) is ignored")
        }
        let error = gradientError(dz.values, at: z, sample: v > 100 ? 300 : nil, random: &random) {
            Self.referenceLoss($0, classes: v, targets: targets, scale: Double(scale))
        }
        // fast_exp (relative error 1e-7) and a float32 division: ≤ 1e-4 of the gradient's scale.
        #expect(error <= 1e-4, "relative error \(error)")
        let inPlace = Buffer(z)
        let (sumInPlace, _) = try Kernels.softmaxCrossEntropy(
            logits: inPlace.readable, rows: r, classes: v, targets: pt.readable, scale: scale,
            logitsGradient: inPlace.pointer)
        #expect(inPlace.values == dz.values)
        #expect(sumInPlace == sum)
        let (lossOnly, _) = try Kernels.softmaxCrossEntropy(
            logits: pz.readable, rows: r, classes: v, targets: pt.readable, scale: scale, logitsGradient: nil)
        #expect(lossOnly == sum)
    }

    @Test("a target outside the vocabulary other than −100 is refused, naming labels, before anything is written")
    func badTarget() {
        let (z, dz) = (Buffer<Float>([0, 1, 2, 3, 4, 5]), Buffer(repeating: Float.nan, count: 6))
        for bad in [[1, 3], [-5, 0]] {
            let t = Buffer(bad)
            #expect(throws: ModelError.self) {
                _ = try Kernels.softmaxCrossEntropy(
                    logits: z.readable, rows: 2, classes: 3, targets: t.readable, scale: 1, logitsGradient: dz.pointer)
            }
            do {
                _ = try Kernels.softmaxCrossEntropy(
                    logits: z.readable, rows: 2, classes: 3, targets: t.readable, scale: 1, logitsGradient: dz.pointer)
            } catch let error as ModelError {
                #expect(error.kind == .input && error.file == "labels")
            } catch {}
            #expect(dz.values.allSatisfy { $0.isNaN })
        }
    }

    @Test("classification cross-entropy is the mean over labelled rows, with the gradient of that mean")
    func classification() throws {
        var random = SeededNumbers(state: 3)
        let (b, l) = (5, 3)
        let labels = [2, 0, -100, 1, 2]
        let z = random.array(b * l).map { $0 * 2 }
        let (pz, pl, dz) = (Buffer(z), Buffer(labels), Buffer(repeating: Float.nan, count: b * l))
        let loss = try #require(
            try Kernels.classificationCrossEntropy(
                logits: pz.readable, rows: b, classes: l, labels: pl.readable, logitsGradient: dz.pointer))
        let expected = Self.referenceLoss(z.map(Double.init), classes: l, targets: labels, scale: 1.0 / 4)
        #expect(abs(loss - expected) <= 1e-6, "loss \(loss) vs \(expected)")
        let error = gradientError(dz.values, at: z, random: &random) {
            Self.referenceLoss($0, classes: l, targets: labels, scale: 1.0 / 4)
        }
        #expect(error <= 1e-4, "relative error \(error)")
        let none = Buffer([Int](repeating: -100, count: b))
        let nothing = try Kernels.classificationCrossEntropy(
            logits: pz.readable, rows: b, classes: l, labels: none.readable, logitsGradient: dz.pointer)
        #expect(nothing == nil)
        #expect(dz.values.allSatisfy { $0 == 0 })
    }

    @Test("the decoder's shifted loss streamed over segments equals ShiftedCrossEntropy (docs/RMT.md §2.6)")
    func shiftedOverSegments() throws {
        // B 2, T 9 split into segments of 4, 4 and 1; labels with −100 and a labels_mask.
        var random = SeededNumbers(state: 9)
        let (b, t, v) = (2, 9, 6)
        let logits = random.array(b * t * v).map { $0 * 3 }  // [B, T, V]
        let labels: [Int] = [1, 2, -100, 4, 5, 0, 1, 2, 3, 5, -100, 3, 3, 2, 1, 0, -100, 4]  // [B, T]
        let labelsMask: [Bool] = (0..<(b * t)).map { $0 % 5 != 1 }
        // The counted set: (b, t) predicts labels[b, t+1].
        var targets = [Int](repeating: Kernels.ignoredTarget, count: b * t)
        for s in 0..<b {
            for p in 0..<(t - 1) where labels[s * t + p + 1] != -100 && labelsMask[s * t + p] {
                targets[s * t + p] = labels[s * t + p + 1]
            }
        }
        let counted = targets.filter { $0 != Kernels.ignoredTarget }.count
        var streamed = ShiftedCrossEntropy(batch: b, vocabulary: v)
        var sum = 0.0
        for (start, length) in [(0, 4), (4, 4), (8, 1)] {
            let rows = (0..<b).flatMap { s in (start..<(start + length)).map { s * t + $0 } }
            let segmentLogits = rows.flatMap { logits[($0 * v)..<($0 * v + v)] }
            let (pz, pt) = (Buffer(segmentLogits), Buffer(rows.map { targets[$0] }))
            let dz = Buffer(repeating: Float.nan, count: rows.count * v)
            sum += try Kernels.softmaxCrossEntropy(
                logits: pz.readable, rows: rows.count, classes: v, targets: pt.readable, scale: 1 / Float(counted),
                logitsGradient: dz.pointer
            ).loss
            try streamed.add(
                logits: Activations(unchecked: segmentLogits, batch: b, length: length, width: v),
                labels: SequenceTensor(unchecked: rows.map { labels[$0] }, batch: b, length: length),
                labelsMask: SequenceTensor(unchecked: rows.map { labelsMask[$0] }, batch: b, length: length))
        }
        #expect(streamed.count == counted)
        let mean = try #require(streamed.mean)
        #expect(abs(sum / Double(counted) - mean) <= 1e-6, "\(sum / Double(counted)) vs \(mean)")
    }
}
