// BERT's backward pass for `BertForSequenceClassification`, llm.c style: each training forward keeps exactly what
// this needs (the tapes below); post-norm layers keep the residual sums their LayerNorms normalised.
// B batch, T sequence length, C hidden size, H heads, I intermediate size, L labels; N = B·T rows.

/// What `BertEmbeddings.forward(…training:)` keeps: the sum its LayerNorm normalised, the statistics, the ids of
/// the type and position tables, and the dropout mask.
public struct BertEmbeddingsTape: Sendable {
    /// `inputs_embeds + type + position`, `[N, C]`.
    let sum: [Float]
    let statistics: LayerNormStatistics
    let tokenTypes: [Int]
    let positions: [Int]
    let keep: [UInt8]?
    let dropout: Float

    var byteCount: Int { 4 * sum.count + 8 * statistics.mean.count + 16 * positions.count + (keep?.count ?? 0) }
}

/// What `BertLayer.forward` keeps: the layer's input (the packed QKV projection's), QKV and the softmax
/// probabilities, the attention context, both residual sums with their LayerNorm statistics and outputs, the
/// feed-forward pre-activation and output, and the dropout masks.
public struct BertLayerTape: Sendable {
    let shape: AttentionShape
    /// `[N, C]`.
    let input: [Float]
    /// `[N, 3C]`.
    let qkv: [Float]
    /// `[B, H, T, T]`.
    let probabilities: [Float]
    /// `[N, C]`.
    let context: [Float]
    let attentionKeep: [UInt8]?
    /// x + attention, `[N, C]` (the attention LayerNorm's input).
    let attentionSum: [Float]
    let attentionStatistics: LayerNormStatistics
    /// LN(x + attention), `[N, C]`.
    let attentionOutput: [Float]
    /// `[N, I]`, nil for a linear activation.
    let preActivation: [Float]?
    /// `[N, I]`.
    let intermediateOutput: [Float]
    let outputKeep: [UInt8]?
    /// attention output + feed-forward, `[N, C]` (the output LayerNorm's input).
    let outputSum: [Float]
    let outputStatistics: LayerNormStatistics
    let dropout: Float

    var byteCount: Int {
        let floats =
            [input, qkv, probabilities, context, attentionSum, attentionOutput, intermediateOutput, outputSum]
            .reduce(0) { $0 + $1.count } + (preActivation?.count ?? 0) + 4 * attentionStatistics.mean.count
        return 4 * floats + (attentionKeep?.count ?? 0) + (outputKeep?.count ?? 0)
    }
}

/// What `BertModel.forward(…training:)` keeps.
public struct BertModelTape: Sendable {
    let embeddings: BertEmbeddingsTape
    let layers: [BertLayerTape]

    var byteCount: Int { layers.reduce(embeddings.byteCount) { $0 + $1.byteCount } }
}

/// What `BertForSequenceClassification.forward(…training:)` keeps: BERT's tape, and the pooler's and classifier's
/// inputs.
public struct BertClassifierTape: Sendable {
    let bert: BertModelTape
    let batch: Int
    /// The first row of every sequence `[B, C]` (the pooler's input).
    let first: [Float]
    /// The pooler's dense output before the tanh `[B, C]`.
    let poolerPreActivation: [Float]?
    /// The pooled output after dropout `[B, C]` (the classifier's input).
    let classifierInput: [Float]
    let classifierKeep: [UInt8]?
    let dropout: Float

    /// The bytes it holds.
    public var byteCount: Int {
        bert.byteCount + 4 * (first.count + (poolerPreActivation?.count ?? 0) + classifierInput.count)
    }
}

extension BertLayer {
    /// The backward of `forward(_:keyBias:training:)`: `gradient` holds ∂L/∂output `[N, C]` on entry and ∂L/∂x on
    /// return; the parameters' gradients accumulate into `gradients`.
    public func backward(_ t: BertLayerTape, gradient: inout [Float], gradients: GradientStore) {
        let rows = t.input.count / attentionLayerNorm.size
        // out = LN(y), y = a + drop(output(act(intermediate(a)))), a = LN(x + drop(attention_output(attention(x))))
        var dSum: [Float] = []  // ∂L/∂y [N, C]
        outputLayerNorm.backward(
            input: t.outputSum, statistics: t.outputStatistics, outputGradient: gradient, inputGradient: &dSum,
            accumulate: false, gradients: gradients)
        var dA: [Float]  // ∂L/∂a [N, C]
        do {  // the copies of `dSum` end here
            var dOutput = dSum
            dropoutBackward(&dOutput, keep: t.outputKeep, probability: t.dropout)
            let dIntermediate = output.backward(
                input: t.intermediateOutput, outputGradient: dOutput, rows: rows, gradients: gradients)  // [N, I]
            dA = intermediate.backward(
                input: t.attentionOutput, outputGradient: dIntermediate, rows: rows, activation: activation,
                preActivation: t.preActivation, gradients: gradients)
        }
        Kernels.add(dSum, to: &dA)  // the residual
        var dAttentionSum: [Float] = []  // ∂L/∂(x + attention) [N, C]
        attentionLayerNorm.backward(
            input: t.attentionSum, statistics: t.attentionStatistics, outputGradient: dA,
            inputGradient: &dAttentionSum, accumulate: false, gradients: gradients)
        do {
            var dProjection = dAttentionSum
            dropoutBackward(&dProjection, keep: t.attentionKeep, probability: t.dropout)
            let dContext = attentionOutput.backward(
                input: t.context, outputGradient: dProjection, rows: rows, gradients: gradients)  // [N, C]
            let dQKV = packedSelfAttentionBackward(
                t.qkv, probabilities: t.probabilities, outputGradient: dContext, shape: t.shape)  // [N, 3C]
            gradient = queryKeyValue.backward(input: t.input, outputGradient: dQKV, rows: rows, gradients: gradients)
        }
        Kernels.add(dAttentionSum, to: &gradient)  // the residual
    }
}

extension BertEmbeddings {
    /// The backward of `forward(inputsEmbeds:…training:)`: from ∂L/∂output `[N, C]` to ∂L/∂`inputs_embeds`; the
    /// LayerNorm, position and token-type gradients accumulate into `gradients`.
    public func backward(_ t: BertEmbeddingsTape, outputGradient dy: [Float], gradients: GradientStore) -> [Float] {
        var gradient = dy
        dropoutBackward(&gradient, keep: t.keep, probability: t.dropout)
        var dx: [Float] = []  // [N, C]
        layerNorm.backward(
            input: t.sum, statistics: t.statistics, outputGradient: gradient, inputGradient: &dx, accumulate: false,
            gradients: gradients)
        tokenTypeEmbeddings.backward(ids: t.tokenTypes, outputGradient: dx, gradients: gradients)
        positionEmbeddings.backward(ids: t.positions, outputGradient: dx, gradients: gradients)
        return dx
    }
}

extension BertModel {
    /// The backward of `forward(…training:)` without the pooler: from ∂L/∂last hidden state `[N, C]` to
    /// ∂L/∂`inputs_embeds` `[N, C]`.
    public func backward(_ tape: BertModelTape, outputGradient dy: [Float], gradients: GradientStore) -> [Float] {
        var gradient = dy
        for (layer, layerTape) in zip(layers, tape.layers).reversed() {
            layer.backward(layerTape, gradient: &gradient, gradients: gradients)
        }
        return embeddings.backward(tape.embeddings, outputGradient: gradient, gradients: gradients)
    }
}

extension BertForSequenceClassification {
    /// The backward of `forward(inputsEmbeds:attentionMask:training:)`: from ∂L/∂logits `[B, L]` (nil when this
    /// pass's logits are not in the loss) and ∂L/∂last hidden state `[N, C]` (nil for none) to ∂L/∂`inputs_embeds`
    /// `[N, C]`; every parameter's gradient accumulates into `gradients`.
    public func backward(
        _ t: BertClassifierTape, hiddenStateGradient: [Float]?, logitsGradient: [Float]?, gradients: GradientStore
    ) -> [Float] {
        let C = bert.configuration.hiddenSize
        let rows = t.bert.embeddings.positions.count
        var dHidden = hiddenStateGradient ?? [Float](repeating: 0, count: rows * C)  // [N, C]
        if let logitsGradient, let pooler = bert.pooler {
            var dPooled = classifier.backward(  // [B, C]
                input: t.classifierInput, outputGradient: logitsGradient, rows: t.batch, gradients: gradients)
            dropoutBackward(&dPooled, keep: t.classifierKeep, probability: t.dropout)
            let dFirst = pooler.dense.backward(
                input: t.first, outputGradient: dPooled, rows: t.batch, activation: .tanh,
                preActivation: t.poolerPreActivation, gradients: gradients)  // [B, C]
            let T = rows / t.batch
            for b in 0..<t.batch {  // row 0 of every sequence
                for j in 0..<C { dHidden[b * T * C + j] += dFirst[b * C + j] }
            }
        }
        return bert.backward(t.bert, outputGradient: dHidden, gradients: gradients)
    }
}
