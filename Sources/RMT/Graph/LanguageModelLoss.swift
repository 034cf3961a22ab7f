// The losses of both variants: the decoder's shifted cross-entropy over the concatenated sequence
// (docs/RMT.md §2.6), in streaming form, and the encoder's classification loss (§3.5).
// B batch, s tokens of a segment, V vocabulary, N samples, C labels.
import Models

/// Accumulates `−log softmax(Z[b, t])[labels[b, t+1]]` over the counted set
/// `C = {(b, t) : t ≤ T−2, labels[b, t+1] ≠ −100, (labels_mask[b, t] when given)}` one segment at a time,
/// so `[B, T, V]` logits never need to exist at once.
///
/// Feed segments in order with `add(logits:labels:labelsMask:)`; each segment's last logits row is kept to score
/// the first label of the next segment (the loss crosses segment boundaries even though attention does not).
/// `labels_mask` is indexed by the predicting position `t`, as the reference does.
public struct ShiftedCrossEntropy: Sendable {
    /// The label value that is never scored.
    public static let ignoreIndex = -100

    private let batch: Int
    private let vocabulary: Int
    /// Per sample: the last logits row of the previous segment and whether the mask allowed it to predict.
    private var carried: [[Float]?]
    private var carriedMask: [Bool]
    /// The summed loss over the counted set so far.
    public private(set) var sum: Double = 0
    /// `|C|` so far.
    public private(set) var count = 0

    public init(batch: Int, vocabulary: Int) {
        self.batch = batch
        self.vocabulary = vocabulary
        carried = Array(repeating: nil, count: batch)
        carriedMask = Array(repeating: true, count: batch)
    }

    /// Adds one segment.
    /// - Parameters:
    ///   - logits: `[B, s, V]`.
    ///   - labels: `[B, s]`, this segment's positions of the full labels.
    ///   - labelsMask: `[B, s]` or nil.
    /// - Throws: `RMTError` for a label outside `0..<V` other than −100.
    public mutating func add(
        logits: Activations, labels: SequenceTensor<Int>, labelsMask: SequenceTensor<Bool>?
    ) throws {
        let (V, s) = (vocabulary, labels.length)
        for b in 0..<batch {
            for t in 0..<s {
                // The label at (b, t) is predicted by the previous position: the carried row when t == 0.
                let label = labels[b, t].first!
                let predictingAllowed = t == 0 ? carriedMask[b] : labelsMask?[b, t - 1].first! ?? true
                let row = t == 0 ? carried[b].map { $0[...] } : logits[b, t - 1]
                guard label != Self.ignoreIndex else { continue }
                guard label >= 0, label < V else {
                    throw RMTError(
                        "labels",
                        "label \(label) at sample \(b) is outside the vocabulary 0..<\(V) and is not −100; fix the labels"
                    )
                }
                guard let row, predictingAllowed else { continue }
                sum += Self.negativeLogSoftmax(row, at: label)
                count += 1
            }
            if s > 0 {
                carried[b] = Array(logits[b, s - 1])
                carriedMask[b] = labelsMask?[b, s - 1].first! ?? true
            }
        }
    }

    /// The mean loss, or nil when nothing was counted (the reference would give NaN; callers refuse it).
    public var mean: Double? { count > 0 ? sum / Double(count) : nil }

    /// `−log softmax(row)[index]` in float64 with the max subtracted.
    public static func negativeLogSoftmax(_ row: ArraySlice<Float>, at index: Int) -> Double {
        let m = Double(row.max() ?? 0)
        var total = 0.0
        for v in row { total += _exp(Double(v) - m) }
        return -(Double(row[row.startIndex + index]) - m - _logD(total))
    }
}

/// Mean cross-entropy of integer labels over `logits` `[N, 1, C]` (the backbone loss for `num_labels > 1`).
/// - Throws: `RMTError` for a label outside `0..<C`.
public func classificationLoss(logits: Activations, labels: [Int]) throws -> Double {
    var sum = 0.0
    for (i, label) in labels.enumerated() {
        guard label >= 0, label < logits.width else {
            throw RMTError(
                "labels", "label \(label) of sample \(i) is outside 0..<\(logits.width); fix the labels or --num-labels"
            )
        }
        sum += ShiftedCrossEntropy.negativeLogSoftmax(logits[i, 0], at: label)
    }
    return sum / Double(max(labels.count, 1))
}

#if canImport(Glibc)
    import Glibc
    @inline(__always) private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) private func _logD(_ x: Double) -> Double { Glibc.log(x) }
#else
    import Darwin
    @inline(__always) private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
    @inline(__always) private func _logD(_ x: Double) -> Double { Darwin.log(x) }
#endif
