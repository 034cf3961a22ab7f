import Models
import Testing
@testable import RMT

@Suite("shifted cross-entropy and the seeded generator's statistics")
struct LossAndGeneratorTests {
    /// The loss computed the plain way over the whole `[B, T, V]` tensor.
    func directLoss(_ logits: [Float], _ labels: [Int], _ mask: [Bool]?, B: Int, T: Int, V: Int) -> Double {
        var sum = 0.0, count = 0
        for b in 0..<B {
            for t in 0..<(T - 1) where labels[b * T + t + 1] != -100 && (mask?[b * T + t] ?? true) {
                let row = logits[(b * T + t) * V..<(b * T + t + 1) * V]
                sum += ShiftedCrossEntropy.negativeLogSoftmax(row, at: labels[b * T + t + 1])
                count += 1
            }
        }
        return sum / Double(count)
    }

    @Test(
        "streaming over uneven segments equals the loss over the concatenated logits, labels_mask by predicting position"
    )
    func streaming() throws {
        var g = SeededGenerator(seed: 3)
        let B = 2, T = 11, V = 7
        let logits = g.normals(count: B * T * V, standardDeviation: 2)
        var labels = (0..<B * T).map { _ in Int(g.next() % UInt64(V)) }
        labels[3] = -100
        labels[T + 5] = -100
        let mask = (0..<B * T).map { $0 % T >= 4 }
        for useMask in [false, true] {
            var loss = ShiftedCrossEntropy(batch: B, vocabulary: V)
            for r in Segmenter.ranges(length: T, segmentSize: 4, alignment: .right) {
                var segLogits: [Float] = [], segLabels: [Int] = [], segMask: [Bool] = []
                for b in 0..<B {
                    segLogits += logits[(b * T + r.lowerBound) * V..<(b * T + r.upperBound) * V]
                    segLabels += labels[b * T + r.lowerBound..<b * T + r.upperBound]
                    segMask += mask[b * T + r.lowerBound..<b * T + r.upperBound]
                }
                try loss.add(
                    logits: Activations(unchecked: segLogits, batch: B, length: r.count, width: V),
                    labels: SequenceTensor(unchecked: segLabels, batch: B, length: r.count),
                    labelsMask: useMask ? SequenceTensor(unchecked: segMask, batch: B, length: r.count) : nil)
            }
            let expected = directLoss(logits, labels, useMask ? mask : nil, B: B, T: T, V: V)
            #expect(abs((loss.mean ?? .nan) - expected) < 1e-12)
        }
    }

    @Test("an empty counted set gives no loss, and a label outside the vocabulary is refused")
    func edges() throws {
        var loss = ShiftedCrossEntropy(batch: 1, vocabulary: 3)
        try loss.add(
            logits: Activations(repeating: 0, batch: 1, length: 2, width: 3),
            labels: SequenceTensor(unchecked: [1, -100], batch: 1, length: 2), labelsMask: nil)
        #expect(loss.mean == nil)
        #expect(throws: RMTError.self) {
            try loss.add(
                logits: Activations(repeating: 0, batch: 1, length: 1, width: 3),
                labels: SequenceTensor(unchecked: [5], batch: 1, length: 1), labelsMask: nil)
        }
    }

    @Test("normals have mean 0 and standard deviation 1 within sampling error")
    func normalStatistics() {
        var g = SeededGenerator(seed: 7)
        let n = 200_000
        let v = (0..<n).map { _ in g.nextNormal() }
        let mean = v.reduce(0, +) / Double(n)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        #expect(abs(mean) < 0.01)  // 4.5 standard errors
        #expect(abs(variance - 1) < 0.015)
        let u = (0..<n).map { _ in g.nextUniform() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
    }
}
