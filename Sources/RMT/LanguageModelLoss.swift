// The decoder's shifted cross-entropy over the concatenated sequence (RMT.md §2.6), in streaming form.

/// Accumulates `−log softmax(Z[b, t])[labels[b, t+1]]` over the counted set
/// `C = {(b, t) : t ≤ T−2, labels[b, t+1] ≠ −100, (labels_mask[b, t] when given)}` one segment at a time,
/// so `[B, T, V]` logits never need to exist at once.
///
/// Feed segments in order with `add(logits:labels:…)`; each segment's last logits row is kept to score the
/// first label of the next segment (the loss crosses segment boundaries even though attention does not).
/// `labels_mask` is indexed by the predicting position `t`, as the reference does.
public struct ShiftedCrossEntropy: Sendable {
    /// The label value that is never scored.
    public static let ignoreIndex: Int64 = -100

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
    ///   - logits: `[B, s, V]` row-major.
    ///   - labels: `[B, s]`, this segment's columns of the full labels.
    ///   - labelsMask: `[B, s]` or nil.
    /// - Throws: `RMTError` for a label outside `0..<V` other than −100.
    public mutating func add(logits: [Float], labels: [Int64], labelsMask: [Bool]?, segmentLength s: Int) throws {
        let V = vocabulary
        for b in 0..<batch {
            for t in 0..<s {
                // The label at (b, t) is predicted by the previous position: the carried row when t == 0.
                let label = labels[b * s + t]
                let predictingAllowed: Bool
                let row: ArraySlice<Float>?
                if t == 0 {
                    predictingAllowed = carriedMask[b]
                    row = carried[b].map { $0[...] }
                } else {
                    predictingAllowed = labelsMask?[b * s + t - 1] ?? true
                    let start = (b * s + t - 1) * V
                    row = logits[start..<start + V]
                }
                guard label != Self.ignoreIndex else { continue }
                guard label >= 0, label < Int64(V) else {
                    throw RMTError(
                        "labels",
                        "label \(label) at sample \(b) is outside the vocabulary 0..<\(V) and is not −100; fix the labels"
                    )
                }
                guard let row, predictingAllowed else { continue }
                sum += Self.negativeLogSoftmax(row, at: Int(label))
                count += 1
            }
            if s > 0 {
                let start = (b * s + s - 1) * V
                carried[b] = Array(logits[start..<start + V])
                carriedMask[b] = labelsMask?[b * s + s - 1] ?? true
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

#if canImport(Glibc)
    import Glibc
    @inline(__always) private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) private func _logD(_ x: Double) -> Double { Glibc.log(x) }
#else
    import Darwin
    @inline(__always) private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
    @inline(__always) private func _logD(_ x: Double) -> Double { Darwin.log(x) }
#endif
