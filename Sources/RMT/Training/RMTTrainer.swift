// The training engine (docs/RMT.md §8): an RMT held as a value the trainer owns alone, so its parameters are updated
// in place; gradients by parameter; one step = forward and backward with BPTT through the memory, clipping, the
// scheduled learning rate, and SGD or AdamW. docs/ARCHITECTURE.md §9 draws a step as it runs.
// B batch, T length, V vocabulary, C labels.
import Foundation
import Models

/// What one training step did.
public struct TrainingStepResult: Sendable, Equatable {
    /// The step's index: the number of updates before it (0 for the first).
    public let step: Int
    /// The batch's loss before the update, as `run --labels` defines it (docs/RMT.md §2.6, §3.5).
    public let loss: Double
    /// Encoder: each processed step's loss `loss_j`; nil for the decoder.
    public let segmentLosses: [Double]?
    /// The global L2 norm of the trained gradients before clipping.
    public let gradientNorm: Double
    /// The learning rate the update used (the schedule applied).
    public let learningRate: Double
    /// Input tokens of the batch, `B·T` (padding included).
    public let tokens: Int
    /// Decoder: the scored positions `|C|`; encoder: the samples.
    public let scored: Int
    /// Wall time of the step, forward to update.
    public let seconds: Double
    /// The most segment (step) tapes held at once, and their bytes: what BPTT kept alive (docs/RMT.md §8.2).
    public let peakTapes: Int
    public let peakTapeBytes: Int
}

/// The loss and accuracy of a batch, from the inference forward.
public struct EvaluationResult: Sendable, Equatable {
    /// The loss `run --labels` reports for the batch.
    public let loss: Double
    /// `correct / scored`.
    public let accuracy: Double
    /// Decoder: scored positions whose label is the first largest logit; encoder: samples classified right.
    public let correct: Int
    /// Decoder: the scored positions `|C|` (the answer tokens when labels cover only answers); encoder: the samples.
    public let scored: Int
}

/// Trains an RMT: SGD or AdamW with BPTT through the memory, exactly as PyTorch trains the reference classes
/// (fixtures/training). Create it from a loaded folder, call `step` per batch, `save(to:)` a checkpoint, and resume
/// with `init(resumingFrom:)`; `model` is the trained RMT, which every RMT command accepts.
///
/// Not thread-safe: one trainer is used from one thread at a time (the kernels use every core).
public final class RMTTrainer {
    /// The run's settings.
    public let options: TrainingOptions
    /// Updates done so far; the next `step` is step `completedSteps`.
    public internal(set) var completedSteps = 0
    /// The loaded model the trainer started from (settings, side files, export metadata).
    let base: RMTModel
    var decoder: DecoderRMT<GPT2LMHeadModel>?
    var encoder: EncoderRMT<BertForSequenceClassification>?
    let gradients = GradientStore()
    /// AdamW's moments by parameter key.
    var moments: [String: AdamMoments] = [:]
    private let rule: TruncationRule?
    private let backboneTrains: Bool

    /// Prepares to train `model` with `options`: every parameter trains, or with `freezeBackbone` only the memory.
    /// - Throws: `RMTError` naming a setting that is invalid or does not apply to this variant (a BPTT depth other
    ///   than −1 for the encoder, a `k2 ≥ 0` without `max_n_segments`).
    public init(model: RMTModel, options: TrainingOptions = TrainingOptions()) throws {
        try options.validate()
        self.options = options
        base = model
        let c = model.configuration
        switch model.network {
        case .decoder(let d):
            decoder = d
            rule = try TruncationRule(k2: options.bpttDepth ?? c.k2, maxSegments: c.maxNSegments)
        case .encoder(let e):
            if let depth = options.bpttDepth, depth != -1 {
                throw RMTError(
                    "bptt_depth", "the encoder RMT trains with full BPTT only (docs/RMT.md §3.6); leave it unset or −1")
            }
            encoder = e
            rule = nil
        }
        backboneTrains = !options.freezeBackbone
        if !options.freezeBackbone {
            for p in parameters { gradients.train(p) }
        } else if let d = decoder {
            gradients.train(d.memory)
        } else if let e = encoder {
            let first = e.segmentation.firstMemoryID
            gradients.train(e.backbone.wordEmbeddingTable, rows: first..<(first + e.segmentation.memoryTokens))
        }
        if options.optimizer == .adamw {
            for p in parameters { if let g = gradients[p] { moments[p.key] = AdamMoments(count: g.count) } }
        }
    }

    /// The variant trained.
    public var variant: RMTVariant { base.variant }

    /// Trains on one batch: forward and backward (BPTT as docs/RMT.md §8.2), clipping, then the update with the
    /// scheduled learning rate. Decoder labels default to the input ids; the encoder needs one class per sample.
    /// - Returns: the loss before the update, the gradient norm, the learning rate, and what the step held.
    /// - Throws: `RMTError` for refused inputs (the model is left as it was) and for a loss or gradient that is not
    ///   finite (nothing is updated); `ModelError` for ids outside the vocabulary.
    @discardableResult
    public func step(_ batch: RMTInputs) throws -> TrainingStepResult {
        let start = ContinuousClock.now
        let pass = try accumulate(batch)
        let trained = gradients.all
        let norm = Optimizer.globalNorm(trained)
        guard pass.loss.isFinite, norm.isFinite else {
            throw RMTError(
                "loss",
                "step \(completedSteps): the \(pass.loss.isFinite ? "gradient norm" : "loss") is not finite; nothing was updated (lower the learning rate or clip the gradients)"
            )
        }
        if let clipNorm = options.clipNorm { Optimizer.clip(trained, norm: norm, maxNorm: clipNorm) }
        let lr = options.learningRate(step: completedSteps)
        update(learningRate: lr, step: completedSteps + 1)
        completedSteps += 1
        return TrainingStepResult(
            step: completedSteps - 1, loss: pass.loss, segmentLosses: pass.stepLosses, gradientNorm: norm,
            learningRate: lr, tokens: batch.batch * batch.length, scored: pass.scored,
            seconds: seconds(since: start), peakTapes: pass.peakTapes, peakTapeBytes: pass.peakTapeBytes)
    }

    /// The loss of `batch` and the gradient of every trained parameter by state-dict name, without updating
    /// anything. A tied or aliased tensor appears once (docs/RMT.md §5.1–5.2: `…wte.weight`,
    /// `model.bert.embeddings.word_embeddings.weight`); with `freezeBackbone` the encoder's table gradient is zero
    /// outside the memory rows.
    /// - Throws: as `step`.
    public func gradients(for batch: RMTInputs) throws -> (loss: Double, gradients: [String: [Float]]) {
        let pass = try accumulate(batch)
        var out: [String: [Float]] = [:]
        for p in parameters {
            guard let g = gradients[p] else { continue }
            var full = [Float](repeating: 0, count: p.count)
            full.replaceSubrange(g.parameterOffset..<(g.parameterOffset + g.count), with: g.values)
            for part in p.parts { out[stateDictName(part.key)] = Array(full[part.offset..<(part.offset + part.count)]) }
        }
        return (pass.loss, out)
    }

    /// The loss and accuracy of `batch` with the current weights, from the inference forward (`run`): decoder —
    /// first-argmax accuracy over the scored positions; encoder — classification accuracy of the last step.
    /// - Throws: as `RMTModel.run`; `RMTError` without encoder labels or with an empty counted set.
    public func evaluate(_ batch: RMTInputs) throws -> EvaluationResult {
        let model = self.model
        var inputs = batch
        if let decoder {
            inputs.labels = batch.labels ?? batch.ids.values
            try inputs.validate()
            guard inputs.labels!.count == batch.batch * batch.length else {
                throw RMTError("labels", "must have the shape of input_ids [\(batch.batch), \(batch.length)]")
            }
            let (targets, count) = try decoder.shiftedTargets(
                labels: inputs.labels!, batch: batch.batch, length: batch.length, labelsMask: batch.labelsMask)
            var correct = 0
            let outputs = try model.run(
                inputs, keepLogits: false,
                onSegment: { segment in
                    let r = segment.positions!
                    for b in 0..<batch.batch {
                        for t in r where targets[b, t].first! != Kernels.ignoredTarget {
                            correct += firstArgmax(segment.logits[b, t - r.lowerBound]) == targets[b, t].first! ? 1 : 0
                        }
                    }
                })
            return EvaluationResult(
                loss: outputs.loss!, accuracy: Double(correct) / Double(max(1, count)), correct: correct,
                scored: count)
        }
        guard let labels = batch.labels else {
            throw RMTError("labels", "the encoder is scored against one class label per sample; give labels [B]")
        }
        let outputs = try model.run(inputs)
        let logits = outputs.logits!  // [B, 1, C] of the last step, every sample in it
        let correct = labels.indices.filter { firstArgmax(logits[$0, 0]) == labels[$0] }.count
        return EvaluationResult(
            loss: outputs.loss!, accuracy: Double(correct) / Double(labels.count), correct: correct,
            scored: labels.count)
    }

    /// Zeroes the gradients and runs forward and backward over `batch`.
    private func accumulate(_ batch: RMTInputs) throws -> GradientPass {
        try batch.validate()
        gradients.zero()
        let training = TrainingPass(dropout: Float(options.dropout), seed: options.seed).part(completedSteps)
        if let decoder, let rule {
            let labels = batch.labels ?? batch.ids.values
            guard labels.count == batch.batch * batch.length else {
                throw RMTError(
                    "labels",
                    "must have the shape of input_ids [\(batch.batch), \(batch.length)], got \(labels.count) values")
            }
            return try decoder.accumulateGradients(
                ids: batch.ids, mask: batch.attentionMask, labels: labels, labelsMask: batch.labelsMask, rule: rule,
                backboneTrains: backboneTrains, training: training, gradients: gradients)
        }
        guard let labels = batch.labels else {
            throw RMTError("labels", "the encoder trains on one class label per sample; give labels [B]")
        }
        return try encoder!.accumulateGradients(
            ids: batch.ids, labels: labels, sumLoss: base.configuration.sumLoss == true, training: training,
            gradients: gradients)
    }

    /// The optimiser's update of every trained parameter, in place.
    private func update(learningRate lr: Double, step t: Int) {
        updateParameters { p in
            guard let g = gradients[p] else { return }
            let moments = self.moments[p.key]
            p.withUnsafeMutableBufferPointer { values in
                let trained = values.baseAddress! + g.parameterOffset
                switch options.optimizer {
                case .sgd: Optimizer.sgd(trained, gradient: g.pointer, count: g.count, learningRate: lr)
                case .adamw:
                    Optimizer.adamw(
                        trained, gradient: g.pointer, moments: moments!, count: g.count, step: t, learningRate: lr,
                        options: options)
                }
            }
        }
    }

    /// Calls `body` with every parameter of the network in place.
    func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try decoder?.updateParameters(body)
        try encoder?.updateParameters(body)
    }

    /// Every parameter (copy-on-write values), state-dict order up to BERT's stacked query, key and value.
    var parameters: [Parameter] { decoder?.parameters ?? encoder!.parameters }

    /// The state-dict name of the tensor loaded under `key` (docs/RMT.md §5.1–5.2).
    func stateDictName(_ key: String) -> String {
        switch variant {
        case .decoder: return key == DecoderRMTFamily.memoryKey ? key : DecoderRMTFamily.backbonePrefix + key
        case .encoder: return EncoderRMTFamily.backbonePrefix + key
        }
    }

    /// Every distinct parameter's state-dict name, in state-dict order (tied and aliased tensors once).
    public var parameterNames: [String] {
        let names = parameters.flatMap { $0.parts.map { stateDictName($0.key) } }
        let order = Dictionary(uniqueKeysWithValues: stateDictKeys.enumerated().map { ($1, $0) })
        return names.sorted { (order[$0] ?? .max, $0) < (order[$1] ?? .max, $1) }
    }

    /// The names of the parameters that train (all of them, or the memory's with `freezeBackbone`).
    public var trainedParameterNames: [String] {
        let trained = Set(parameters.filter { gradients[$0] != nil }.flatMap { $0.parts.map { stateDictName($0.key) } })
        return parameterNames.filter(trained.contains)
    }

    /// The current values of the parameter named `name` (a state-dict name), or nil for an unknown name.
    public func parameter(named name: String) -> [Float]? {
        for p in parameters {
            if let part = p.parts.first(where: { stateDictName($0.key) == name }) { return Array(p.values(of: part)) }
        }
        return nil
    }

    /// The variant's state-dict keys, in order.
    private var stateDictKeys: [String] {
        let layers = decoder?.backbone.transformer.blocks.count ?? encoder!.backbone.bert.layers.count
        return variant == .decoder
            ? DecoderRMTFamily.stateDictKeys(layers: layers, profile: .current)
            : EncoderRMTFamily.stateDictKeys(layers: layers, profile: .current)
    }
}

/// Seconds from `start` to now.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
