// Running an RMT over inputs of any length, segment by segment, with memory carried between segments: the
// streaming forward pass, the loss policy of each variant, logit stitching, and greedy generation.
// B batch, T total length, S segments (steps), s a segment's tokens, m memory tokens, H hidden, V vocabulary,
// C labels.
import Models
import TensorCore

/// The inputs of an RMT run: one id type from file to kernel.
public struct RMTInputs: Sendable {
    /// `[B, T]` token ids.
    public var ids: SequenceTensor<Int>
    /// Decoder: `[B, T]` padding mask (1 = token); ignored by the encoder, as the reference does.
    public var attentionMask: SequenceTensor<Float>?
    /// Decoder: `[B·T]` labels (−100 ignored). Encoder: `[B]` class labels.
    public var labels: [Int]?
    /// Decoder: `[B, T]` `labels_mask`, indexed by the predicting position.
    public var labelsMask: SequenceTensor<Bool>?

    public var batch: Int { ids.batch }
    public var length: Int { ids.length }

    public init(
        ids: SequenceTensor<Int>, attentionMask: SequenceTensor<Float>? = nil, labels: [Int]? = nil,
        labelsMask: SequenceTensor<Bool>? = nil
    ) {
        self.ids = ids
        self.attentionMask = attentionMask
        self.labels = labels
        self.labelsMask = labelsMask
    }

    /// Inputs from flat row-major arrays.
    /// - Throws: `RMTError` when `ids` is not a non-empty `[B, T]` array or a mask has another shape.
    public init(
        ids: [Int], batch B: Int, length T: Int, attentionMask: [Float]? = nil, labels: [Int]? = nil,
        labelsMask: [Bool]? = nil
    ) throws {
        guard B > 0, T > 0, ids.count == B * T else { throw RMTError("input_ids", "must be a non-empty [B, T] array") }
        func shaped<E>(_ values: [E]?, _ name: String) throws -> SequenceTensor<E>? {
            guard let values else { return nil }
            guard values.count == B * T else {
                throw RMTError(name, "must have the shape of input_ids [\(B), \(T)], got \(values.count) values")
            }
            return SequenceTensor(unchecked: values, batch: B, length: T)
        }
        self.init(
            ids: SequenceTensor(unchecked: ids, batch: B, length: T),
            attentionMask: try shaped(attentionMask, "attention_mask"), labels: labels,
            labelsMask: try shaped(labelsMask, "labels_mask"))
    }

    /// Checks that the ids are a non-empty `[B, T]` array and the masks have their shape.
    /// - Throws: `RMTError` naming the input.
    public func validate() throws {
        let (B, T) = (batch, length)
        guard B > 0, T > 0, ids.width == 1 else { throw RMTError("input_ids", "must be a non-empty [B, T] array") }
        for (shape, count, name) in [
            (attentionMask?.shape, attentionMask?.values.count, "attention_mask"),
            (labelsMask?.shape, labelsMask?.values.count, "labels_mask"),
        ] {
            if let shape, shape != [B, T, 1] {
                throw RMTError(name, "must have the shape of input_ids [\(B), \(T)], got \(count ?? 0) values")
            }
        }
    }
}

/// One segment's (decoder) or step's (encoder) outputs, handed over as soon as they are computed.
public struct RMTSegmentOutput: Sendable {
    /// The segment's (step's) index.
    public let index: Int
    /// Decoder: the segment's positions in `[0, T)`; encoder: nil (samples are segmented one by one).
    public let positions: Range<Int>?
    /// The samples that had a segment (the decoder: all of them).
    public let samples: [Int]
    /// Decoder `[B, s, V]`; encoder `[A, 1, C]` for the `A` samples of `samples`.
    public let logits: Activations
    /// `[B, m, H]`: every sample's memory after this segment.
    public let memory: Activations
}

/// What an RMT run produced.
public struct RMTOutputs: Sendable {
    public let variant: RMTVariant
    /// Decoder `[B, T, V]` (the segments' logits stitched, nil when not kept); encoder `[B, 1, C]` of the last step.
    public var logits: Activations?
    /// One `[B, m, H]` per segment (step).
    public var memoryStates: [Activations]
    /// Decoder: the shifted cross-entropy over the whole sequence; encoder: the mean of `segmentLosses` with
    /// `sum_loss`, else the last one (the reference's policy, docs/RMT.md §3.5). Nil without labels.
    public var loss: Double?
    /// Encoder: the classification loss of each step, with labels.
    public var segmentLosses: [Double]?
    /// What the run left out (truncated samples).
    public var notes: [String]

    /// Segments (decoder) or processed steps (encoder).
    public var segments: Int { memoryStates.count }

    /// The outputs named as `run` writes them: `logits` (decoder `[B, T, V]`, encoder `[B, C]`), `memory_states`
    /// `[S, B, m, H]`, and with labels `losses` `[S]` (encoder) and `loss` (scalar), both float64.
    public func namedOutputs() throws -> [NamedOutput] {
        var outputs: [NamedOutput] = []
        if let logits {
            let shape = variant == .decoder ? logits.shape : [logits.batch, logits.width]
            outputs.append(NamedOutput(name: "logits", tensor: Tensor(logits.values, shape: Shape(shape))))
        }
        let first = memoryStates.first
        outputs.append(
            NamedOutput(
                name: "memory_states",
                tensor: Tensor(
                    Array(memoryStates.map(\.values).joined()),
                    shape: [segments, first?.batch ?? 0, first?.length ?? 0, first?.width ?? 0])))
        if let losses = segmentLosses {
            outputs.append(NamedOutput(name: "losses", tensor: try float64Tensor(losses, shape: [losses.count])))
        }
        if let loss { outputs.append(NamedOutput(name: "loss", tensor: try float64Tensor([loss], shape: []))) }
        return outputs
    }
}

extension RMTModel {
    /// The number of segments (steps) `inputs` gives.
    public func segmentCount(for inputs: RMTInputs) -> Int {
        switch network {
        case .decoder(let model): return model.segments(length: inputs.length).count
        case .encoder(let model):
            return (try? model.segmentation.steps(for: (0..<inputs.batch).map { inputs.ids.sequence($0) }).steps.count)
                ?? 0
        }
    }

    /// The streaming forward pass: runs every segment with memory carried between them and hands each
    /// segment's outputs to `onSegment`, keeping nothing (a million tokens never hold `[B, T, V]`).
    /// - Returns: notes on what was left out (encoder samples truncated to `segment_size × max_n_segments`).
    /// - Throws: `RMTError` for refused inputs (docs/RMT.md §2.9), `ModelError` for ids outside the vocabulary.
    @discardableResult
    public func forward(_ inputs: RMTInputs, onSegment: (RMTSegmentOutput) throws -> Void) throws -> [String] {
        try inputs.validate()
        switch network {
        case .decoder(let model):
            let samples = Array(0..<inputs.batch)
            try model.run(ids: inputs.ids, mask: inputs.attentionMask) { j, r, out in
                try onSegment(
                    RMTSegmentOutput(index: j, positions: r, samples: samples, logits: out.logits, memory: out.memory))
            }
            return []
        case .encoder(let model):
            let truncated = try model.run(ids: inputs.ids) { j, out in
                try onSegment(
                    RMTSegmentOutput(
                        index: j, positions: nil, samples: out.active, logits: out.logits, memory: out.memory))
            }
            return truncated.enumerated().filter { $0.element > 0 }.map {
                "sample \($0.offset): the last \($0.element) tokens exceed segment_size × max_n_segments and were dropped"
            }
        }
    }

    /// Runs the RMT on `inputs`: logits, every memory state and, with labels, the loss.
    /// - Parameters:
    ///   - keepLogits: keep the decoder's `[B, T, V]` logits (a million GPT-2 tokens would need ~200 GB; the loss
    ///     and memory states stream regardless).
    ///   - progress: called with (segments done, segments total).
    ///   - onSegment: also handed each segment's (step's) outputs as they are produced (e.g. to score predictions).
    /// - Throws: `RMTError` for refused inputs (docs/RMT.md §2.9), `ModelError` for ids outside the vocabulary.
    public func run(
        _ inputs: RMTInputs, keepLogits: Bool = true, progress: ((Int, Int) -> Void)? = nil,
        onSegment: ((RMTSegmentOutput) throws -> Void)? = nil
    ) throws -> RMTOutputs {
        try inputs.validate()
        let (B, T) = (inputs.batch, inputs.length)
        let total = segmentCount(for: inputs)
        var outputs = RMTOutputs(variant: variant, logits: nil, memoryStates: [], loss: nil, notes: [])
        switch network {
        case .decoder(let model):
            let V = model.backbone.vocabularySize
            if let labels = inputs.labels, labels.count != B * T {
                throw RMTError("labels", "must have the shape of input_ids [\(B), \(T)], got \(labels.count) values")
            }
            let labels = inputs.labels.map { SequenceTensor(unchecked: $0, batch: B, length: T) }
            var loss = labels.map { _ in ShiftedCrossEntropy(batch: B, vocabulary: V) }
            var logits = keepLogits ? Activations(repeating: 0, batch: B, length: T, width: V) : nil
            try forward(inputs) { segment in
                let r = segment.positions!
                logits?.replacePositions(r, with: segment.logits)  // columns r of [B, T, V]
                outputs.memoryStates.append(segment.memory)
                if let labels {
                    try loss?.add(
                        logits: segment.logits, labels: labels.positions(r), labelsMask: inputs.labelsMask?.positions(r)
                    )
                }
                try onSegment?(segment)
                progress?(segment.index + 1, total)
            }
            outputs.logits = logits
            if let loss {
                guard let mean = loss.mean else {
                    throw RMTError(
                        "labels", "no position is scored (every label is −100 or masked out); the loss would be NaN")
                }
                outputs.loss = mean
            }
        case .encoder:
            if let labels = inputs.labels, labels.count != B {
                throw RMTError(
                    "labels", "the encoder takes one class label per sample: [\(B)], got \(labels.count) values")
            }
            var losses: [Double] = []
            outputs.notes = try forward(inputs) { segment in
                outputs.memoryStates.append(segment.memory)
                outputs.logits = segment.logits
                if let labels = inputs.labels {
                    losses.append(
                        try classificationLoss(logits: segment.logits, labels: segment.samples.map { labels[$0] }))
                }
                try onSegment?(segment)
                progress?(segment.index + 1, total)
            }
            if !losses.isEmpty {
                outputs.segmentLosses = losses
                outputs.loss = configuration.sumLoss == true ? losses.reduce(0, +) / Double(losses.count) : losses.last!
            }
        }
        return outputs
    }

    /// The loss of `inputs` with labels, streamed (no logits kept).
    /// - Throws: `RMTError` without labels, and as `run`.
    public func loss(_ inputs: RMTInputs) throws -> Double {
        guard inputs.labels != nil, let loss = try run(inputs, keepLogits: false).loss else {
            throw RMTError("labels", "the loss needs labels")
        }
        return loss
    }

    /// Greedy generation with the decoder RMT (docs/RMT.md §2.8): the new tokens only, `[B, maxNewTokens]`.
    /// - Throws: `RMTError` for the encoder, empty inputs, or prompts that leave no room in `n_positions`.
    public func generate(_ inputs: RMTInputs, maxNewTokens: Int) throws -> SequenceTensor<Int> {
        guard case .decoder(let model) = network else {
            throw RMTError("generate", "only the decoder RMT generates text; this is an encoder RMT")
        }
        try inputs.validate()
        return try model.generate(ids: inputs.ids, mask: inputs.attentionMask, maxNewTokens: maxNewTokens)
    }
}

/// A float64 tensor holding `values`.
func float64Tensor(_ values: [Double], shape: Shape) throws -> Tensor {
    try Tensor(dtype: .f64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
}
