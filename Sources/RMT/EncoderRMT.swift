// The encoder RMT (BERT for sequence classification): memory rows in the word embeddings, RMT.md §3.4–3.5.

/// The outputs of one processed step.
public struct EncoderStepOutput: Sendable {
    /// The batch indices that had a segment at this step, in batch order.
    public let active: [Int]
    /// `[|active|, C]` classification logits.
    public let logits: [Float]
    /// `[B, m, H]` memory of every sample after this step (absent samples repeat theirs).
    public let memory: [Float]
    /// `[|active|, input_size, H]` last-layer states.
    public let lastHiddenState: [Float]
}

/// BERT wrapped with `m` memory tokens whose embeddings are the table rows `V..V+m−1`.
public struct EncoderRMT<Backbone: RMTEncoderBackbone> {
    public let backbone: Backbone
    public let segmentation: EncoderSegmentation

    public init(backbone: Backbone, segmentation: EncoderSegmentation) throws {
        guard Int(segmentation.firstMemoryID) + segmentation.memoryTokens == backbone.vocabularySize else {
            throw RMTError(
                "mem_token_ids",
                "memory ids \(segmentation.firstMemoryID)..\(Int(segmentation.firstMemoryID) + segmentation.memoryTokens - 1) must be the last rows of the \(backbone.vocabularySize)-row word embeddings"
            )
        }
        self.backbone = backbone
        self.segmentation = segmentation
    }

    /// Runs all steps for `ids` (one list per sample), handing each processed step to `consume`.
    /// - Returns: the number of ids truncated per sample.
    public func run(ids: [[Int64]], consume: (Int, EncoderStepOutput) throws -> Void) throws -> [Int] {
        let B = ids.count, m = segmentation.memoryTokens, H = backbone.hiddenSize
        let L = segmentation.inputSize, start = segmentation.memoryStart
        let (steps, truncated) = try segmentation.steps(for: ids)
        let memoryIds = (0..<m).map { Int(segmentation.firstMemoryID) + $0 }
        let initial = try backbone.wordEmbeddings(memoryIds)  // [m, H]: raw table rows
        var memory = Array([[Float]](repeating: initial, count: B).joined())  // [B, m, H]
        for (j, step) in steps.enumerated() {
            let active = step.indices.filter { step[$0] != nil }
            let rows = active.map { step[$0]! }
            let A = active.count
            var x = try backbone.wordEmbeddings(rows.flatMap { $0.map(Int.init) })  // [A, L, H]
            var mask = [Float](repeating: 0, count: A * L)
            for (a, b) in active.enumerated() {
                // Rows start..start+m−1 take this sample's current memory (re-embedded every step).
                x.replaceSubrange(
                    ((a * L + start) * H)..<((a * L + start + m) * H), with: memory[(b * m * H)..<((b + 1) * m * H)])
                for r in 0..<L where rows[a][r] != segmentation.special.pad { mask[a * L + r] = 1 }
            }
            let (hidden, logits) = try backbone.classify(inputsEmbeds: x, batch: A, length: L, attentionMask: mask)
            for (a, b) in active.enumerated() {
                memory.replaceSubrange(
                    (b * m * H)..<((b + 1) * m * H), with: hidden[((a * L + start) * H)..<((a * L + start + m) * H)])
            }
            try consume(j, EncoderStepOutput(active: active, logits: logits, memory: memory, lastHiddenState: hidden))
        }
        return truncated
    }
}

/// Mean cross-entropy of integer labels over `logits` `[N, C]` (the backbone loss for `num_labels > 1`).
public func classificationLoss(logits: [Float], labels: [Int64], classes C: Int) throws -> Double {
    var sum = 0.0
    for (i, label) in labels.enumerated() {
        guard label >= 0, label < Int64(C) else {
            throw RMTError(
                "labels", "label \(label) of sample \(i) is outside 0..<\(C); fix the labels or --num-labels")
        }
        sum += ShiftedCrossEntropy.negativeLogSoftmax(logits[(i * C)..<((i + 1) * C)], at: Int(label))
    }
    return sum / Double(max(labels.count, 1))
}
