// The encoder RMT (BERT for sequence classification): memory rows in the word embeddings, docs/RMT.md §3.4–3.5.
// B batch, A samples with a segment at a step, L = input_size rows, m memory tokens, H hidden, C labels.
import Models

/// The outputs of one processed step.
public struct EncoderStepOutput: Sendable {
    /// The batch indices that had a segment at this step, in batch order.
    public let active: [Int]
    /// `[A, 1, C]` classification logits.
    public let logits: Activations
    /// `[B, m, H]` memory of every sample after this step (absent samples repeat theirs).
    public let memory: Activations
    /// `[A, L, H]` last-layer states.
    public let lastHiddenState: Activations
}

/// BERT wrapped with `m` memory tokens whose embeddings are the table rows `V..V+m−1`.
public struct EncoderRMT<Backbone: RMTEncoderBackbone>: Sendable {
    public internal(set) var backbone: Backbone
    public let segmentation: EncoderSegmentation

    public init(backbone: Backbone, segmentation: EncoderSegmentation) throws {
        guard segmentation.firstMemoryID + segmentation.memoryTokens == backbone.vocabularySize else {
            throw RMTError(
                "mem_token_ids",
                "memory ids \(segmentation.firstMemoryID)..\(segmentation.firstMemoryID + segmentation.memoryTokens - 1) must be the last rows of the \(backbone.vocabularySize)-row word embeddings"
            )
        }
        self.backbone = backbone
        self.segmentation = segmentation
    }

    /// The same wrapper with another segment alignment.
    public func aligned(_ alignment: SegmentAlignment) throws -> EncoderRMT {
        let s = segmentation
        return try EncoderRMT(
            backbone: backbone,
            segmentation: try EncoderSegmentation(
                inputSize: s.inputSize, memoryTokens: s.memoryTokens, maxSegments: s.maxSegments,
                alignment: alignment, special: s.special, firstMemoryID: s.firstMemoryID))
    }

    /// Runs all steps for `ids` `[B, T]` (each sample's padding and special tokens are stripped), handing each
    /// processed step to `consume`.
    /// - Returns: the number of ids truncated per sample.
    public func run(ids: SequenceTensor<Int>, consume: (Int, EncoderStepOutput) throws -> Void) throws -> [Int] {
        let (m, start) = (segmentation.memoryTokens, segmentation.memoryStart)
        let (steps, truncated) = try segmentation.steps(for: (0..<ids.batch).map { ids.sequence($0) })
        var memory = try initialMemory(batch: ids.batch)  // [B, m, H]
        for (j, step) in steps.enumerated() {
            let (active, _, x, mask) = try stepInputs(step, memory: memory)
            let (h, logits) = try backbone.classify(x, attentionMask: mask)  // [A, L, H], [A, 1, C]
            memory.replaceSequences(active, with: h.positions(start..<(start + m)))
            try consume(j, EncoderStepOutput(active: active, logits: logits, memory: memory, lastHiddenState: h))
        }
        return truncated
    }

    /// The memory every sample starts with: the raw table rows `V..V+m−1`, `[B, m, H]` (docs/RMT.md §3.4).
    func initialMemory(batch: Int) throws -> Activations {
        let first = segmentation.firstMemoryID
        let ids = SequenceTensor(rows: [Array(first..<(first + segmentation.memoryTokens))])  // [1, m]
        return try backbone.wordEmbeddings(ids).repeated(batch: batch)
    }

    /// One step's backbone inputs (docs/RMT.md §3.4): the samples with a segment at this step (in batch order), their
    /// ids `[A, L]`, their word embeddings with rows `start..start+m−1` replaced by each sample's current memory
    /// `[A, L, H]` (re-embedded every step), and the padding mask rebuilt from the ids `[A, L]`.
    func stepInputs(_ step: EncoderSegmentation.Step, memory: Activations) throws -> (
        active: [Int], ids: SequenceTensor<Int>, embeddings: Activations, mask: SequenceTensor<Float>
    ) {
        let (m, start) = (segmentation.memoryTokens, segmentation.memoryStart)
        let active = step.indices.filter { step[$0] != nil }
        let segment = SequenceTensor(rows: active.map { step[$0]! })  // [A, L]
        var x = try backbone.wordEmbeddings(segment)  // [A, L, H]
        x.replacePositions(start..<(start + m), with: memory.sequences(active))
        let mask = segment.map { $0 == segmentation.special.pad ? Float(0) : 1 }  // [A, L]
        return (active, segment, x, mask)
    }
}

extension EncoderRMT: ParameterContainer where Backbone: ParameterContainer {
    /// The backbone's parameters (the memory is rows of its word embeddings).
    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try backbone.updateParameters(body)
    }
}
