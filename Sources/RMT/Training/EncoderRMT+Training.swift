// Training the encoder RMT (docs/RMT.md §3.6, §8.2): full BPTT only. Every processed step keeps its backbone's tape
// and the gradient of its logits (its loss weight is known before the first step: the last step's alone, or 1/S
// each with `sum_loss`); the backward then walks the steps in reverse, carrying each sample's memory gradient. A
// sample absent at a step passes its memory, and its gradient, straight through; the initial memory is rows
// `V..V+m−1` of the word-embedding table, which receive what reaches it.
// B batch, A samples active at a step, L = input_size rows, m memory tokens, H hidden, C labels.
import Models

/// What one encoder step keeps for its backward.
struct EncoderStepTape<BackboneTape: Sendable>: Sendable {
    /// The samples with a segment at this step.
    let active: [Int]
    /// `[A·L]` ids whose word-embedding rows the step used; −1 at the memory rows (overwritten by the memory, they
    /// receive no gradient there).
    let wordIds: [Int]
    let backbone: BackboneTape
    /// ∂L/∂logits `[A, C]`, nil when this step's loss has weight 0.
    let logitsGradient: [Float]?
}

extension EncoderRMT where Backbone: RMTTrainableEncoderBackbone {
    /// Forward and backward over a batch (docs/RMT.md §3.4–3.6), accumulating every trained parameter's gradient
    /// into `gradients`.
    /// - Parameters:
    ///   - labels: `[B]` class ids.
    ///   - sumLoss: the loss is the unweighted mean of the steps' losses; else the last step's.
    /// - Throws: `RMTError` for labels of another count or outside `0..<C` and for samples without content;
    ///   `ModelError` for ids outside the table.
    func accumulateGradients(
        ids: SequenceTensor<Int>, labels: [Int], sumLoss: Bool, training: TrainingPass, gradients: GradientStore
    ) throws -> GradientPass {
        let (B, m, start, C) = (ids.batch, segmentation.memoryTokens, segmentation.memoryStart, backbone.labelCount)
        guard ids.length > 0, B > 0 else { throw RMTError("input_ids", "is empty; give at least one token") }
        guard labels.count == B else {
            throw RMTError("labels", "the encoder takes one class label per sample: [\(B)], got \(labels.count) values")
        }
        if let (i, label) = labels.enumerated().first(where: { !(0..<C).contains($0.element) }) {
            throw RMTError(
                "labels", "label \(label) of sample \(i) is outside 0..<\(C); fix the labels or --num-labels")
        }
        let (steps, _) = try segmentation.steps(for: (0..<B).map { ids.sequence($0) })
        var memory = try initialMemory(batch: B)  // [B, m, H]
        var tapes: [EncoderStepTape<Backbone.Tape>] = []
        var pass = GradientPass(loss: 0, scored: B, stepLosses: [])
        for (j, step) in steps.enumerated() {
            let (active, segment, x, mask) = try stepInputs(step, memory: memory)
            let (h, logits, tape) = try backbone.trainingClassify(x, attentionMask: mask, training: training.part(j))
            memory.replaceSequences(active, with: h.positions(start..<(start + m)))
            // loss_j = mean cross-entropy over the step's samples, weighted in the batch's loss.
            let weight: Float = sumLoss ? 1 / Float(steps.count) : (j == steps.count - 1 ? 1 : 0)
            var dLogits = logits.values  // [A, C], then its gradient in place
            let stepLabels = active.map { labels[$0] }
            let sum = try dLogits.withUnsafeMutableBufferPointer { z in
                try Kernels.softmaxCrossEntropy(
                    logits: z.baseAddress!, rows: active.count, classes: C, targets: stepLabels,
                    scale: weight / Float(active.count), logitsGradient: weight > 0 ? z.baseAddress! : nil
                ).loss
            }
            pass.stepLosses!.append(sum / Double(active.count))
            var wordIds = segment.values  // [A, L]
            for a in active.indices {
                wordIds.replaceSubrange(
                    (a * segment.length + start)..<(a * segment.length + start + m), with: repeatElement(-1, count: m))
            }
            tapes.append(
                EncoderStepTape(
                    active: active, wordIds: wordIds, backbone: tape, logitsGradient: weight > 0 ? dLogits : nil))
            pass.peakTapes = tapes.count
            pass.peakTapeBytes = tapes.reduce(0) { $0 + Backbone.byteCount(of: $1.backbone) + 8 * $1.wordIds.count }
        }
        let losses = pass.stepLosses!
        pass.loss = sumLoss ? losses.reduce(0, +) / Double(losses.count) : losses.last!
        // Backward, last step first; dMemory [B, m, H] is ∂L/∂(each sample's memory after the step).
        let (L, H) = (segmentation.inputSize, backbone.hiddenSize)
        var dMemory = Activations(repeating: 0, batch: B, length: m, width: H)
        for t in tapes.reversed() {
            var dHidden = Activations(repeating: 0, batch: t.active.count, length: L, width: H)  // [A, L, H]
            dHidden.replacePositions(start..<(start + m), with: dMemory.sequences(t.active))
            let dEmbeddings = Activations(  // ∂L/∂inputs_embeds [A, L, H]
                unchecked: backbone.classifyBackward(
                    t.backbone, hiddenStateGradient: dHidden.values, logitsGradient: t.logitsGradient,
                    gradients: gradients),
                batch: t.active.count, length: L, width: H)
            backbone.wordEmbeddingsBackward(ids: t.wordIds, gradient: dEmbeddings.values, gradients: gradients)
            dMemory.replaceSequences(t.active, with: dEmbeddings.positions(start..<(start + m)))
        }
        // Every sample's initial memory is the table rows V..V+m−1.
        let first = segmentation.firstMemoryID
        backbone.wordEmbeddingsBackward(
            ids: (0..<B).flatMap { _ in first..<(first + m) }, gradient: dMemory.values, gradients: gradients)
        return pass
    }
}
