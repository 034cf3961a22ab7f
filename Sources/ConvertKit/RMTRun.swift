// Running an RMT over inputs of any length, segment by segment, with memory carried between segments.
import Checkpoints
import Foundation
import Models
import RMT
import TensorCore

/// Inputs of an RMT run. Dimensions: B batch, T total length.
public struct RMTInputs {
    /// `[B, T]` token ids.
    public var ids: [Int64]
    public var batch: Int
    public var length: Int
    /// Decoder: `[B, T]` padding mask (1 = token); ignored by the encoder, as the reference does.
    public var attentionMask: [Float]?
    /// Decoder: `[B, T]` labels (−100 ignored). Encoder: `[B]` class labels.
    public var labels: [Int64]?
    /// Decoder: `[B, T]` `labels_mask`, indexed by the predicting position.
    public var labelsMask: [Bool]?

    public init(
        ids: [Int64], batch: Int, length: Int, attentionMask: [Float]? = nil, labels: [Int64]? = nil,
        labelsMask: [Bool]? = nil
    ) {
        self.ids = ids
        self.batch = batch
        self.length = length
        self.attentionMask = attentionMask
        self.labels = labels
        self.labelsMask = labelsMask
    }
}

/// What an RMT run produced.
public struct RMTRunResult {
    /// `logits` (decoder `[B, T, V]` unless dropped; encoder `[B, C]`), `memory_states` `[S, B, m, H]`,
    /// `loss` (scalar, f64) with labels, `losses` `[S]` for the encoder.
    public var outputs: [NamedOutput]
    /// Segments (decoder) or processed steps (encoder).
    public var segments: Int
    public var notes: [String]
}

/// Runs `rmt` on `inputs`.
/// - Parameters:
///   - keepLogits: keep the decoder's `[B, T, V]` logits (a million GPT-2 tokens would need ~200 GB; the loss and
///     memory states stream regardless).
///   - progress: called with (segments done, segments total).
/// - Throws: `RMTError` for refused inputs (RMT.md §2.9), `ModelError` for ids outside the vocabulary.
public func runRMT(
    _ rmt: LoadedRMT, inputs: RMTInputs, keepLogits: Bool = true,
    progress: ((Int, Int) -> Void)? = nil
) throws -> RMTRunResult {
    let B = inputs.batch, T = inputs.length
    guard B > 0, T > 0, inputs.ids.count == B * T else {
        throw RMTError("input_ids", "must be a non-empty [B, T] array")
    }
    switch rmt.wrapper {
    case .decoder(let model):
        if let labels = inputs.labels, labels.count != B * T {
            throw RMTError("labels", "must have the shape of input_ids [\(B), \(T)], got \(labels.count) values")
        }
        if let mask = inputs.labelsMask, mask.count != B * T {
            throw RMTError("labels_mask", "must have the shape of input_ids [\(B), \(T)], got \(mask.count) values")
        }
        if let mask = inputs.attentionMask, mask.count != B * T {
            throw RMTError("attention_mask", "must have the shape of input_ids [\(B), \(T)], got \(mask.count) values")
        }
        let V = model.backbone.vocabularySize, m = model.memoryTokens, H = model.backbone.hiddenSize
        let total = Segmenter.ranges(length: T, segmentSize: model.segmentSize, alignment: model.alignment).count
        var logits = keepLogits ? [Float](repeating: 0, count: B * T * V) : []
        var states: [Float] = []
        var loss = inputs.labels.map { _ in ShiftedCrossEntropy(batch: B, vocabulary: V) }
        try model.run(ids: inputs.ids.map(Int.init), batch: B, length: T, mask: inputs.attentionMask) { j, r, out in
            let s = r.count
            if keepLogits {
                for b in 0..<B {  // segment [B, s, V] into columns r of [B, T, V]
                    logits.replaceSubrange(
                        ((b * T + r.lowerBound) * V)..<((b * T + r.upperBound) * V),
                        with: out.logits[(b * s * V)..<((b + 1) * s * V)])
                }
            }
            states += out.memory
            if let labels = inputs.labels {
                var segLabels: [Int64] = [], segMask: [Bool]? = inputs.labelsMask == nil ? nil : []
                for b in 0..<B {
                    segLabels += labels[(b * T + r.lowerBound)..<(b * T + r.upperBound)]
                    segMask? += inputs.labelsMask![(b * T + r.lowerBound)..<(b * T + r.upperBound)]
                }
                try loss?.add(logits: out.logits, labels: segLabels, labelsMask: segMask, segmentLength: s)
            }
            progress?(j + 1, total)
        }
        var outputs: [NamedOutput] = []
        if keepLogits { outputs.append(NamedOutput(name: "logits", tensor: Tensor(logits, shape: [B, T, V]))) }
        outputs.append(NamedOutput(name: "memory_states", tensor: Tensor(states, shape: [total, B, m, H])))
        if let loss {
            guard let mean = loss.mean else {
                throw RMTError(
                    "labels", "no position is scored (every label is −100 or masked out); the loss would be NaN")
            }
            outputs.append(
                NamedOutput(
                    name: "loss",
                    tensor: try Tensor(dtype: .f64, shape: [], bytes: withUnsafeBytes(of: mean) { Array($0) })))
        }
        return RMTRunResult(outputs: outputs, segments: total, notes: [])
    case .encoder(let model):
        let m = model.segmentation.memoryTokens, H = model.backbone.hiddenSize, C = model.backbone.labelCount
        if let labels = inputs.labels, labels.count != B {
            throw RMTError("labels", "the encoder takes one class label per sample: [\(B)], got \(labels.count) values")
        }
        let rows = (0..<B).map { Array(inputs.ids[($0 * T)..<(($0 + 1) * T)]) }
        var states: [Float] = [], losses: [Double] = [], last: [Float] = [], steps = 0
        let expected = (try? model.segmentation.steps(for: rows).steps.count) ?? 0
        let truncated = try model.run(ids: rows) { j, out in
            states += out.memory
            last = out.logits
            steps += 1
            if let labels = inputs.labels {
                losses.append(
                    try classificationLoss(logits: out.logits, labels: out.active.map { labels[$0] }, classes: C))
            }
            progress?(j + 1, expected)
        }
        var outputs = [
            NamedOutput(name: "logits", tensor: Tensor(last, shape: [B, C])),
            NamedOutput(name: "memory_states", tensor: Tensor(states, shape: [steps, B, m, H])),
        ]
        if !losses.isEmpty {
            let loss = rmt.configuration.sumLoss == true ? losses.reduce(0, +) / Double(losses.count) : losses.last!
            outputs.append(
                NamedOutput(
                    name: "losses",
                    tensor: try Tensor(dtype: .f64, shape: [losses.count], bytes: losses.withUnsafeBytes { Array($0) }))
            )
            outputs.append(
                NamedOutput(
                    name: "loss",
                    tensor: try Tensor(dtype: .f64, shape: [], bytes: withUnsafeBytes(of: loss) { Array($0) })))
        }
        let notes = truncated.enumerated().filter { $0.element > 0 }.map {
            "sample \($0.offset): the last \($0.element) tokens exceed segment_size × max_n_segments and were dropped"
        }
        return RMTRunResult(outputs: outputs, segments: steps, notes: notes)
    }
}

/// Greedy generation with the decoder RMT (RMT.md §2.8): `generated_ids` `[B, maxNewTokens]`, new tokens only.
/// - Throws: `RMTError` for the encoder, empty inputs, or prompts that leave no room in `n_positions`.
public func generateRMT(_ rmt: LoadedRMT, inputs: RMTInputs, maxNewTokens: Int) throws -> NamedOutput {
    guard case .decoder(let model) = rmt.wrapper else {
        throw RMTError("generate", "only the decoder RMT generates text; this is an encoder RMT")
    }
    let ids = try model.generate(
        ids: inputs.ids.map(Int.init), batch: inputs.batch, length: inputs.length,
        mask: inputs.attentionMask, maxNewTokens: maxNewTokens)
    return NamedOutput(
        name: "generated_ids", tensor: try int64Tensor(ids.map(Int64.init), shape: [inputs.batch, maxNewTokens]))
}
