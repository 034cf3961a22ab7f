// GPT-2's backward pass, llm.c style: each block's training forward keeps exactly what this needs (the tapes
// below), and the backward walks the blocks in reverse, accumulating parameter gradients into a `GradientStore`.
// B batch, T sequence length, C = n_embd, H heads, F = n_inner, V vocabulary; N = B·T rows.

/// What `GPT2Block.forward` keeps for `backward`: the inputs of every LayerNorm and dense layer (the latter only
/// matter to weight gradients), the packed QKV and the softmax probabilities, the MLP's pre-activation, and the
/// dropout masks.
public struct GPT2BlockTape: Sendable {
    let shape: AttentionShape
    /// The block's input x `[N, C]` (ln_1's input).
    let input: [Float]
    let ln1: LayerNormStatistics
    /// ln_1(x) `[N, C]`, c_attn's input.
    let ln1Output: [Float]
    /// `[N, 3C]`.
    let qkv: [Float]
    /// `[B, H, T, T]`.
    let probabilities: [Float]
    /// The attention context `[N, C]`, c_proj's input.
    let context: [Float]
    let attentionKeep: [UInt8]?
    /// h = x + attention `[N, C]`, ln_2's input.
    let residual: [Float]
    let ln2: LayerNormStatistics
    /// ln_2(h) `[N, C]`, c_fc's input.
    let ln2Output: [Float]
    /// c_fc's output before the activation `[N, F]` (nil for a linear activation).
    let preActivation: [Float]?
    /// act(c_fc) `[N, F]`, the MLP's c_proj input.
    let activation: [Float]
    let mlpKeep: [UInt8]?
    let dropout: Float

    /// The bytes it holds.
    public var byteCount: Int {
        let floats =
            [input, ln1Output, qkv, probabilities, context, residual, ln2Output, activation]
            .reduce(0) { $0 + $1.count } + (preActivation?.count ?? 0) + 4 * ln1.mean.count
        return 4 * floats + (attentionKeep?.count ?? 0) + (mlpKeep?.count ?? 0)
    }
}

extension GPT2Block {
    /// The backward of `forward(_:keyBias:training:)`: `gradient` holds ∂L/∂output `[N, C]` on entry and ∂L/∂x on
    /// return; the parameters' gradients accumulate into `gradients` (none for frozen ones).
    public func backward(_ t: GPT2BlockTape, gradient: inout [Float], gradients: GradientStore) {
        let rows = t.input.count / ln1.size
        // y = h + drop(c_proj(act(c_fc(ln_2(h)))))
        let dA2: [Float]  // [N, C]
        do {  // the copies of `gradient` end here, so the in-place updates below copy nothing
            var dMLP = gradient
            dropoutBackward(&dMLP, keep: t.mlpKeep, probability: t.dropout)
            let dActivation = mlpProjection.backward(
                input: t.activation, outputGradient: dMLP, rows: rows, gradients: gradients)  // [N, F]
            dA2 = cFc.backward(
                input: t.ln2Output, outputGradient: dActivation, rows: rows, activation: activation,
                preActivation: t.preActivation, gradients: gradients)
        }
        ln2.backward(
            input: t.residual, statistics: t.ln2, outputGradient: dA2, inputGradient: &gradient, accumulate: true,
            gradients: gradients)  // gradient = ∂L/∂h
        // h = x + drop(c_proj(attention(c_attn(ln_1(x)))))
        let dA1: [Float]  // [N, C]
        do {
            var dProjection = gradient
            dropoutBackward(&dProjection, keep: t.attentionKeep, probability: t.dropout)
            let dContext = attnProjection.backward(
                input: t.context, outputGradient: dProjection, rows: rows, gradients: gradients)  // [N, C]
            let dQKV = packedSelfAttentionBackward(
                t.qkv, probabilities: t.probabilities, outputGradient: dContext, shape: t.shape)  // [N, 3C]
            dA1 = cAttn.backward(input: t.ln1Output, outputGradient: dQKV, rows: rows, gradients: gradients)
        }
        ln1.backward(
            input: t.input, statistics: t.ln1, outputGradient: dA1, inputGradient: &gradient, accumulate: true,
            gradients: gradients)  // gradient = ∂L/∂x
    }
}

/// What `GPT2Model.forward(inputsEmbeds:…training:)` keeps for `backward`: the position (and token-type) ids, the
/// embedding dropout mask, every block's tape, and `ln_f`'s input with its statistics.
public struct GPT2ModelTape: Sendable {
    /// `[N]`.
    let positions: [Int]
    let tokenTypeIds: [Int]?
    let embeddingKeep: [UInt8]?
    let dropout: Float
    let blocks: [GPT2BlockTape]
    /// The last block's output `[N, C]`.
    let finalInput: [Float]
    let finalStatistics: LayerNormStatistics

    /// The bytes it holds.
    public var byteCount: Int {
        blocks.reduce(0) { $0 + $1.byteCount } + 4 * finalInput.count + 8 * positions.count
            + 8 * finalStatistics.mean.count + (embeddingKeep?.count ?? 0)
    }
}

extension GPT2Model {
    /// The backward of `forward(inputsEmbeds:…training:)`: from ∂L/∂(final hidden states after `ln_f`) `[N, C]` to
    /// ∂L/∂`inputs_embeds` `[N, C]`; the gradients of `wpe` (and of `wte` through `token_type_ids`), the blocks and
    /// `ln_f` accumulate into `gradients`.
    public func backward(_ tape: GPT2ModelTape, outputGradient dy: [Float], gradients: GradientStore) -> [Float] {
        var gradient: [Float] = []  // [N, C]
        lnF.backward(
            input: tape.finalInput, statistics: tape.finalStatistics, outputGradient: dy, inputGradient: &gradient,
            accumulate: false, gradients: gradients)
        for (block, blockTape) in zip(blocks, tape.blocks).reversed() {
            block.backward(blockTape, gradient: &gradient, gradients: gradients)
        }
        dropoutBackward(&gradient, keep: tape.embeddingKeep, probability: tape.dropout)
        positionEmbeddings.backward(ids: tape.positions, outputGradient: gradient, gradients: gradients)
        if let ids = tape.tokenTypeIds {
            tokenEmbeddings.backward(ids: ids, outputGradient: gradient, gradients: gradients)
        }
        return gradient
    }
}

extension GPT2LMHeadModel {
    /// The backward of `logits(_:)` over `rows` rows: from ∂L/∂logits `[rows, V]` accumulates the head's gradient
    /// (`wte`'s when tied: one tensor, both uses) and returns ∂L/∂hidden `[rows, C]`.
    /// - Parameter hidden: the head's input `[rows, C]`.
    public func logitsBackward(hidden: [Float], logitsGradient: [Float], rows: Int, gradients: GradientStore)
        -> [Float]
    {
        let (v, c) = (transformer.configuration.vocabularySize, transformer.configuration.hiddenSize)
        let dw = gradients[lmHead]
        return [Float](unsafeUninitializedCapacity: rows * c) { dx, initialized in  // [rows, C]
            lmHead.withUnsafeBufferPointer { w in
                // [rows, V] · [V, C] → [rows, C];  dW [V, C] += dlogitsᵀ · hidden
                Kernels.linearBackward(
                    input: hidden, outputGradient: logitsGradient, weight: w.baseAddress!, rows: rows, inputs: c,
                    outputs: v, weightIsOutIn: true, inputGradient: dx.baseAddress!, weightGradient: dw?.pointer,
                    biasGradient: nil)
            }
            initialized = rows * c
        }
    }
}
