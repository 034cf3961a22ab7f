// GPT-2 (transformers `modeling_gpt2.py`): pre-norm blocks with Conv1D projections, causal attention, tied head.
// B batch, T sequence length, C = n_embd, H heads, D = C / H, F = n_inner, V vocabulary.

/// `GPT2Block`: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
public struct GPT2Block: Sendable {
    public let ln1: LayerNorm
    public let cAttn: Linear  // Conv1D [C, 3C]
    public let attnProjection: Linear  // Conv1D [C, C]
    public let ln2: LayerNorm
    public let cFc: Linear  // Conv1D [C, F]
    public let mlpProjection: Linear  // Conv1D [F, C]
    let activation: ActivationFunction
    let heads: Int
    let scale: Float

    public init(_ scope: ParameterScope, _ config: GPT2Configuration, layerIndex: Int) throws {
        let (c, f, eps) = (config.hiddenSize, config.innerSize, config.layerNormEpsilon)
        ln1 = try LayerNorm(scope["ln_1"], size: c, epsilon: eps)
        cAttn = try Linear(scope["attn"]["c_attn"], inputs: c, outputs: 3 * c, layout: .inOut)
        attnProjection = try Linear(scope["attn"]["c_proj"], inputs: c, outputs: c, layout: .inOut)
        ln2 = try LayerNorm(scope["ln_2"], size: c, epsilon: eps)
        cFc = try Linear(scope["mlp"]["c_fc"], inputs: c, outputs: f, layout: .inOut)
        mlpProjection = try Linear(scope["mlp"]["c_proj"], inputs: f, outputs: c, layout: .inOut)
        activation = config.activation
        heads = config.headCount
        var s: Float = config.scaleAttentionWeights ? 1 / Float(config.headSize).squareRoot() : 1
        if config.scaleAttentionByInverseLayerIndex { s /= Float(layerIndex + 1) }
        scale = s
    }

    /// `[B, T, C] → [B, T, C]`; `keyBias` `[B·T]` from the padding mask, nil for none.
    public func callAsFunction(_ x: Activations, keyBias: [Float]?) -> Activations {
        let (B, T, C) = (x.batch, x.length, x.width)
        let qkv = cAttn(ln1(x.values), rows: B * T)  // [B·T, C] · [C, 3C] → [B·T, 3C]
        let shape = AttentionShape(batch: B, length: T, heads: heads, headSize: C / heads, scale: scale, causal: true)
        let context = packedSelfAttention(qkv, shape: shape, keyBias: keyBias)  // [B·T, C]
        var h = attnProjection(context, rows: B * T)  // [B·T, C]
        Kernels.add(x.values, to: &h)
        let m = cFc(ln2(h), rows: B * T, activation: activation)  // [B·T, F]
        var y = mlpProjection(m, rows: B * T)  // [B·T, C]
        Kernels.add(h, to: &y)
        return Activations(unchecked: y, batch: B, length: T, width: C)
    }
}

/// What `GPT2Model` returns.
public struct GPT2ModelOutput: Sendable {
    /// `[B, T, C]`, after the final LayerNorm `ln_f`.
    public var lastHiddenState: Activations
    /// The input of each block, then the output after `ln_f` (`output_hidden_states`): L + 1 entries.
    public var hiddenStates: [Activations]
}

/// `GPT2Model`: token + position embeddings, blocks, `ln_f`.
public struct GPT2Model: Sendable {
    public let configuration: GPT2Configuration
    /// `wte`, `[V, C]`; also the tied LM head.
    public let tokenEmbeddings: Embedding
    /// `wpe`, `[P, C]`.
    public let positionEmbeddings: Embedding
    public let blocks: [GPT2Block]
    public let lnF: LayerNorm

    /// Builds the model from `scope` (the base model's root: `""` or `transformer`).
    public init(_ scope: ParameterScope, configuration: GPT2Configuration) throws {
        self.configuration = configuration
        let c = configuration.hiddenSize
        tokenEmbeddings = try Embedding(scope["wte"], count: configuration.vocabularySize, size: c)
        positionEmbeddings = try Embedding(scope["wpe"], count: configuration.maxPositions, size: c)
        blocks = try (0..<configuration.layerCount).map { try GPT2Block(scope["h", $0], configuration, layerIndex: $0) }
        lnF = try LayerNorm(scope["ln_f"], size: c, epsilon: configuration.layerNormEpsilon)
    }

    /// The `[V, C]` token-embedding table.
    public var wordEmbeddingTable: [Float] { tokenEmbeddings.table }

    /// `wte(ids)`: `[B, T, C]`, before position embeddings.
    public func wordEmbeddings(_ inputs: ModelInputs) throws -> Activations {
        Activations(
            unchecked: try tokenEmbeddings(inputs.inputIds), batch: inputs.batch, length: inputs.length,
            width: tokenEmbeddings.size)
    }

    /// The forward pass over token ids (positions 0…T−1 in every row unless `inputs.positionIds` says otherwise).
    public func callAsFunction(_ inputs: ModelInputs, outputHiddenStates: Bool = false) throws -> GPT2ModelOutput {
        try callAsFunction(
            inputsEmbeds: try wordEmbeddings(inputs), attentionMask: inputs.attentionMask,
            tokenTypeIds: inputs.tokenTypeIds, positionIds: inputs.positionIds, outputHiddenStates: outputHiddenStates)
    }

    /// The forward pass from `inputs_embeds` `[B, T, C]`: position embeddings (and, as transformers does for
    /// `token_type_ids`, their rows of `wte`) are added, then the blocks run under the causal mask combined
    /// with the padding mask (`[B·T]` 0/1, nil for none). `positionIds` `[B·T]` replaces the default 0…T−1 in
    /// every row (generation with left padding derives them from the mask).
    /// - Throws: `ModelError(.input)` when a position exceeds `n_positions` or the width is not `n_embd`.
    public func callAsFunction(
        inputsEmbeds: Activations, attentionMask: [Float]?, tokenTypeIds: [Int]? = nil,
        positionIds: [Int]? = nil, outputHiddenStates: Bool = false
    ) throws -> GPT2ModelOutput {
        let (B, T, C) = (inputsEmbeds.batch, inputsEmbeds.length, inputsEmbeds.width)
        guard C == configuration.hiddenSize else {
            throw ModelError(
                .input, file: "inputs_embeds", "width \(C) differs from n_embd \(configuration.hiddenSize)")
        }
        guard positionIds != nil || T <= configuration.maxPositions else {
            throw ModelError(
                .input, file: "input_ids",
                "sequence length \(T) exceeds n_positions \(configuration.maxPositions); split the input into shorter sequences"
            )
        }
        try checkMask(attentionMask, rows: B * T)
        var x = inputsEmbeds.values  // [B·T, C]
        for (ids, name) in [(tokenTypeIds, "token_type_ids"), (positionIds, "position_ids")] {
            if let ids, ids.count != B * T {
                throw ModelError(.input, file: name, "has \(ids.count) values for \(B * T) tokens")
            }
        }
        try positionEmbeddings.gather(positionIds ?? (0..<B).flatMap { _ in 0..<T }, adding: &x, what: "position_ids")
        if let tokenTypeIds { try tokenEmbeddings.gather(tokenTypeIds, adding: &x, what: "token_type_ids") }
        let bias = attentionMask.map(Kernels.keyBias(fromMask:))  // [B·T]
        var h = Activations(unchecked: x, batch: B, length: T, width: C)
        var states: [Activations] = []
        for block in blocks {
            if outputHiddenStates { states.append(h) }
            h = block(h, keyBias: bias)
        }
        lnF.apply(&h.values)
        if outputHiddenStates { states.append(h) }
        return GPT2ModelOutput(lastHiddenState: h, hiddenStates: states)
    }
}

/// `GPT2LMHeadModel`: `GPT2Model` under `transformer.` and `lm_head` (no bias) tied to `wte`.
public struct GPT2LMHeadModel: Sendable {
    public let transformer: GPT2Model
    /// `[V, C]`: `wte` when tied.
    public let lmHead: [Float]

    /// Builds from the checkpoint root (keys `transformer.…` and `lm_head.weight`).
    public init(_ scope: ParameterScope, configuration c: GPT2Configuration) throws {
        transformer = try GPT2Model(scope["transformer"], configuration: c)
        lmHead = try scope["lm_head"].tiedTensor(
            "weight", to: transformer.wordEmbeddingTable, tiedKey: scope.key("transformer.wte.weight"),
            shape: [c.vocabularySize, c.hiddenSize], tie: c.tieWordEmbeddings)
    }

    /// Next-token logits from hidden states after `ln_f`: `[B, T, C] · [V, C]ᵀ → [B, T, V]`.
    public func logits(_ hidden: Activations) -> Activations {
        let v = transformer.configuration.vocabularySize
        let y = Kernels.affine(
            hidden.values, rows: hidden.rows, inputs: hidden.width, weight: lmHead, bias: nil,
            outputs: v, weightIsOutIn: true)
        return Activations(unchecked: y, batch: hidden.batch, length: hidden.length, width: v)
    }
}
