// Softmax cross-entropy with its gradient, streaming over rows of logits: the language-model loss of the RMT
// decoder (docs/RMT.md §2.6: summed over the counted set C, scaled by 1/|C| of the whole sequence) and the mean
// classification loss of `BertForSequenceClassification` (torch `cross_entropy`, ignore_index −100).
import CKernels

extension Kernels {
    /// The target that is never scored (torch's `ignore_index`).
    public static let ignoredTarget = -100

    /// Summed softmax cross-entropy of `[R, V]` logits rows and, when `logitsGradient` is given, its gradient scaled
    /// by `scale`: for each row r with a target t ≠ −100,
    /// `loss += −log softmax(z[r])[t]` and `dz[r] = scale·(softmax(z[r]) − onehot(t))`; rows with target −100 get a
    /// zero gradient row. The gradient is **overwritten** (the logits' gradient of this call's rows), and may be the
    /// logits buffer itself (in place: the logits are then gone).
    ///
    /// For the decoder's shifted loss (docs/RMT.md §2.6) the caller builds the targets of a segment's rows: row
    /// (b, t) gets `labels[b, t+1]` when (b, t) is in the counted set C, else −100 (the last row of a segment
    /// predicts the first label of the next), and `scale` is `1/|C|` of the **whole** sequence, counted before the
    /// first segment runs; the returned sums then add up to `|C|·loss`. Nothing holds more than this call's rows, so
    /// `[B, T, V]` never exists. Rows are shared among the threads; the sum is taken over rows in order, in double
    /// (the max subtracted, the exponentials summed in double), so it does not depend on the thread count.
    /// - Parameters:
    ///   - logits: `[R, V]`.
    ///   - targets: `[R]`, each in `0..<V` or −100.
    ///   - logitsGradient: `[R, V]`, or nil for the loss alone.
    /// - Returns: the summed loss over the scored rows, and how many rows were scored.
    /// - Throws: `ModelError(.input)` naming `labels` for a target outside `0..<V` other than −100, before anything
    ///   is computed.
    public static func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, rows r: Int, classes v: Int, targets: UnsafePointer<Int>, scale: Float,
        logitsGradient: UnsafeMutablePointer<Float>?
    ) throws -> (loss: Double, count: Int) {
        var count = 0
        for i in 0..<r where targets[i] != ignoredTarget {
            guard targets[i] >= 0, targets[i] < v else {
                throw ModelError(
                    .input, file: "labels",
                    "target \(targets[i]) at row \(i) is outside the vocabulary 0..<\(v) and is not −100; fix the labels"
                )
            }
            count += 1
        }
        guard r > 0, v > 0 else { return (0, 0) }
        let losses = [Double](unsafeUninitializedCapacity: r) { pl, initialized in
            let out = pl.baseAddress!
            parallelRows(r, minimumRows: max(1, (1 << 15) / v)) { rows in
                let first = rows.lowerBound
                ckernels_cross_entropy_rows(
                    logits + first * v, rows.count, v, targets + first, scale, logitsGradient.map { $0 + first * v },
                    out + first)
            }
            initialized = r
        }
        return (losses.reduce(0, +), count)
    }

    /// Classification cross-entropy (`BertForSequenceClassification`, torch `cross_entropy` with mean reduction):
    /// the mean of `−log softmax(z[r])[label[r]]` over the rows whose label is not −100, and, when `logitsGradient`
    /// is given, its gradient `(softmax(z[r]) − onehot(label))/count` (**overwritten**; zero rows for −100; may be
    /// the logits buffer).
    /// - Parameters:
    ///   - logits: `[B, L]`.
    ///   - labels: `[B]`, each in `0..<L` or −100.
    ///   - logitsGradient: `[B, L]`, or nil.
    /// - Returns: the mean loss, or nil when every label is −100 (torch gives NaN; callers refuse it).
    /// - Throws: `ModelError(.input)` naming `labels` for a label outside `0..<L` other than −100.
    public static func classificationCrossEntropy(
        logits: UnsafePointer<Float>, rows b: Int, classes l: Int, labels: UnsafePointer<Int>,
        logitsGradient: UnsafeMutablePointer<Float>?
    ) throws -> Double? {
        var counted = 0
        for i in 0..<b where labels[i] != ignoredTarget { counted += 1 }
        let (sum, count) = try softmaxCrossEntropy(
            logits: logits, rows: b, classes: l, targets: labels, scale: 1 / Float(max(1, counted)),
            logitsGradient: logitsGradient)
        return count > 0 ? sum / Double(count) : nil
    }
}
