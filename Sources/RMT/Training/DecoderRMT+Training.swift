// Training the decoder RMT (docs/RMT.md §2.7, §8.2): each segment's forward keeps its backbone's tape, the loss of
// its token rows is differentiated at once (the targets of the shifted loss are all known before the first
// segment), and backpropagation through the memory runs by groups: a group ends where the k2 rule detaches the
// memory (or at the last segment), its backward runs as soon as its forward is done, and its tapes are freed before
// the next segment runs. Memory during training therefore grows with the BPTT depth, not with the input.
// B batch, T length, s a segment's tokens, m memory tokens, L = 2m + s rows, H hidden, V vocabulary.
import Models

/// What one decoder segment keeps for its backward.
struct DecoderSegmentTape<BackboneTape: Sendable>: Sendable {
    /// `[B·s]` token ids.
    let ids: [Int]
    let batch: Int
    let tokens: Int
    let backbone: BackboneTape
    /// ∂L/∂(final hidden states of the token rows) `[B, s, H]` from the head; nil when no row is scored.
    let tokenGradient: Activations?
}

/// What one pass of forward and backward over a batch produced.
struct GradientPass: Sendable {
    /// The batch's loss, as `run --labels` defines it.
    var loss: Double
    /// Decoder: `|C|`, the scored positions; encoder: the samples.
    var scored: Int
    /// Encoder: `loss_j` of every processed step.
    var stepLosses: [Double]? = nil
    /// The most segment tapes held at once, and their bytes.
    var peakTapes = 0
    var peakTapeBytes = 0
}

extension DecoderRMT where Backbone: RMTTrainableDecoderBackbone {
    /// The targets of the shifted loss (docs/RMT.md §2.6), indexed by the predicting position: `labels[b, t+1]` at
    /// `(b, t)` when that position is counted, else −100; and `|C|`.
    /// - Throws: `RMTError` for a label outside `0..<V` other than −100, wherever it stands.
    func shiftedTargets(labels: [Int], batch B: Int, length T: Int, labelsMask: SequenceTensor<Bool>?) throws -> (
        targets: SequenceTensor<Int>, count: Int
    ) {
        let V = backbone.vocabularySize
        var targets = [Int](repeating: Kernels.ignoredTarget, count: B * T)  // [B, T]
        var count = 0
        for b in 0..<B {
            for t in 0..<T {
                let label = labels[b * T + t]
                guard label == Kernels.ignoredTarget || (0..<V).contains(label) else {
                    throw RMTError(
                        "labels",
                        "label \(label) at sample \(b) is outside the vocabulary 0..<\(V) and is not −100; fix the labels"
                    )
                }
                guard t >= 1, label != Kernels.ignoredTarget, labelsMask?[b, t - 1].first! ?? true else { continue }
                targets[b * T + t - 1] = label
                count += 1
            }
        }
        return (SequenceTensor(unchecked: targets, batch: B, length: T), count)
    }

    /// One segment's training forward (docs/RMT.md §2.4): the backbone keeps its tape, and the segment's share of
    /// the loss is differentiated right away (its targets are known), through the tied head.
    /// - Parameters:
    ///   - targets: `[B, s]`, this segment's positions of `shiftedTargets`.
    ///   - scale: `1/|C|` of the whole batch.
    /// - Returns: the next memory `[B, m, H]`, the tape, and the summed loss of the scored rows.
    func trainingSegment(
        ids: SequenceTensor<Int>, mask: SequenceTensor<Float>?, state: Activations, targets: SequenceTensor<Int>,
        scale: Float, training: TrainingPass, gradients: GradientStore
    ) throws -> (memory: Activations, tape: DecoderSegmentTape<Backbone.Tape>, loss: Double) {
        let (B, m, s) = (ids.batch, memoryTokens, ids.length)
        let (x, rowMask) = try segmentInputs(ids: ids, mask: mask, state: state)
        let (h, backboneTape) = try backbone.trainingHiddenStates(x, attentionMask: rowMask, training: training)
        let hidden = h.positions(m..<(m + s))  // [B, s, H]: the token rows
        var loss = 0.0
        var tokenGradient: Activations? = nil
        if targets.values.contains(where: { $0 != Kernels.ignoredTarget }) {
            var logits = backbone.logits(hidden).values  // [B·s, V], then ∂L/∂logits in place
            loss = try logits.withUnsafeMutableBufferPointer { z in
                try Kernels.softmaxCrossEntropy(
                    logits: z.baseAddress!, rows: B * s, classes: backbone.vocabularySize, targets: targets.values,
                    scale: scale, logitsGradient: z.baseAddress!
                ).loss
            }
            let dHidden = backbone.logitsBackward(  // [B·s, H]
                hiddenStates: hidden.values, logitsGradient: logits, rows: B * s, gradients: gradients)
            tokenGradient = Activations(unchecked: dHidden, batch: B, length: s, width: backbone.hiddenSize)
        }
        let tape = DecoderSegmentTape(
            ids: ids.values, batch: B, tokens: s, backbone: backboneTape, tokenGradient: tokenGradient)
        return (h.lastPositions(m), tape, loss)
    }

    /// One segment's backward: from the gradient of its next memory `[B, m, H]` (nil when `M_j` is detached or it is
    /// the last segment) and of its token rows (on the tape) to that of its input memory `[B, m, H]`: the sum of
    /// the read and the write block's gradients (one tensor fills both, docs/RMT.md §8.2); nil when no gradient
    /// reaches the segment. `wte` receives the token rows' gradient.
    func segmentBackward(
        _ tape: DecoderSegmentTape<Backbone.Tape>, memoryGradient: Activations?, gradients: GradientStore
    ) -> Activations? {
        let (B, m, s, H) = (tape.batch, memoryTokens, tape.tokens, backbone.hiddenSize)
        let zeros = { (length: Int) in Activations(repeating: 0, batch: B, length: length, width: H) }
        // Nothing reaches this segment: every gradient it would pass on is 0 (nil).
        guard tape.tokenGradient != nil || memoryGradient != nil else { return nil }
        let dY = Activations.concatenated([  // ∂L/∂(final hidden states) [B, L, H]: read rows get none
            zeros(m), tape.tokenGradient ?? zeros(s), memoryGradient ?? zeros(m),
        ])
        let dX = Activations(  // ∂L/∂embeddings [B, L, H]
            unchecked: backbone.backward(tape.backbone, hiddenStateGradient: dY.values, gradients: gradients),
            batch: B, length: 2 * m + s, width: H)
        backbone.tokenEmbeddingsBackward(
            ids: tape.ids, gradient: dX.positions(m..<(m + s)).values, gradients: gradients)
        var dMemory = dX.positions(0..<m)
        Kernels.add(dX.lastPositions(m).values, to: &dMemory.values)
        return dMemory
    }

    /// Forward and backward over a batch with BPTT through the memory (docs/RMT.md §8.2), accumulating every
    /// trained parameter's gradient into `gradients`.
    /// - Parameters:
    ///   - labels: `[B·T]`, −100 ignored.
    ///   - rule: which memories are detached.
    ///   - backboneTrains: false when only the memory trains: a group that cannot reach it then skips its backward.
    /// - Throws: `RMTError` for an empty input, labels outside the vocabulary or an empty counted set; `ModelError`
    ///   for ids outside the vocabulary.
    func accumulateGradients(
        ids: SequenceTensor<Int>, mask: SequenceTensor<Float>?, labels: [Int], labelsMask: SequenceTensor<Bool>?,
        rule: TruncationRule, backboneTrains: Bool, training: TrainingPass, gradients: GradientStore
    ) throws -> GradientPass {
        let (B, T) = (ids.batch, ids.length)
        guard T > 0, B > 0 else { throw RMTError("input_ids", "is empty; give at least one token") }
        let (targets, count) = try shiftedTargets(labels: labels, batch: B, length: T, labelsMask: labelsMask)
        guard count > 0 else {
            throw RMTError("labels", "no position is scored (every label is −100 or masked out); the loss would be NaN")
        }
        let segments = segments(length: T)
        var pass = GradientPass(loss: 0, scored: count)
        var state = initialMemory(batch: B)
        var group: [DecoderSegmentTape<Backbone.Tape>] = []
        var groupStart = 0
        var lossSum = 0.0
        for (j, r) in segments.enumerated() {
            let (memory, tape, loss) = try trainingSegment(
                ids: ids.positions(r), mask: mask?.positions(r), state: state, targets: targets.positions(r),
                scale: 1 / Float(count), training: training.part(j), gradients: gradients)
            lossSum += loss
            state = memory
            // A group that does not start at segment 0 reaches only the backbone.
            if groupStart == 0 || backboneTrains { group.append(tape) }
            pass.peakTapes = max(pass.peakTapes, group.count)
            pass.peakTapeBytes = max(pass.peakTapeBytes, group.reduce(0) { $0 + byteCount($1) })
            guard rule.detaches(j) || j == segments.count - 1 else { continue }
            var memoryGradient: Activations? = nil
            for tape in group.reversed() {
                memoryGradient = segmentBackward(tape, memoryGradient: memoryGradient, gradients: gradients)
            }
            if groupStart == 0, let dMemory = memoryGradient, let g = gradients[self.memory] {
                // M_{-1} is `memory` broadcast over the batch: its gradient is the sum over the batch.
                Kernels.addColumnSums(
                    dMemory.values, rows: B, columns: memoryTokens * backbone.hiddenSize, into: g.pointer)
            }
            group.removeAll()
            groupStart = j + 1
        }
        pass.loss = lossSum / Double(count)
        return pass
    }

    private func byteCount(_ tape: DecoderSegmentTape<Backbone.Tape>) -> Int {
        Backbone.byteCount(of: tape.backbone) + 4 * (tape.tokenGradient?.values.count ?? 0) + 8 * tape.ids.count
    }
}
