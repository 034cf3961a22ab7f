// GPT-2 (transformers `modeling_gpt2.py`): pre-norm blocks with Conv1D projections, causal attention, tied head.
// B batch, T sequence length, C = n_embd, H heads, D = C / H, F = n_inner, V vocabulary.

/// `GPT2Block`: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
public struct GPT2Block: Sendable, ParameterContainer {
    public private(set) var ln1: LayerNorm
    public private(set) var cAttn: Linear  // Conv1D [C, 3C]
    public private(set) var attnProjection: Linear  // Conv1D [C, C]
    public private(set) var ln2: LayerNorm
    public private(set) var cFc: Linear  // Conv1D [C, F]
    public private(set) var mlpProjection: Linear  // Conv1D [F, C]
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
        forward(x, keyBias: keyBias, training: nil).output
    }

    /// The block's forward, for inference (`training` nil) and training alike: with a pass it also returns what
    /// `backward` needs, and applies dropout (`resid_pdrop`'s two sites) when the pass asks for it. Attention
    /// probabilities are not dropped out.
    public func forward(_ x: Activations, keyBias: [Float]?, training: TrainingPass?) -> (
        output: Activations, tape: GPT2BlockTape?
    ) {
        let (B, T, C) = (x.batch, x.length, x.width)
        let keep = training != nil
        let (a1, ln1Statistics) = ln1.forward(x.values)  // [B·T, C]
        let qkv = cAttn(a1, rows: B * T)  // [B·T, C] · [C, 3C] → [B·T, 3C]
        let shape = AttentionShape(batch: B, length: T, heads: heads, headSize: C / heads, scale: scale, causal: true)
        let (context, probabilities) = packedSelfAttention(
            qkv, shape: shape, keyBias: keyBias, keepingProbabilities: keep)  // [B·T, C]
        var h = attnProjection(context, rows: B * T)  // [B·T, C]
        let attentionKeep = training?.dropout(&h, site: 0)
        Kernels.add(x.values, to: &h)
        let (a2, ln2Statistics) = ln2.forward(h)  // [B·T, C]
        let (m, u) = cFc.forward(a2, rows: B * T, activation: activation, keepingPreActivation: keep)  // [B·T, F]
        var y = mlpProjection(m, rows: B * T)  // [B·T, C]
        let mlpKeep = training?.dropout(&y, site: 1)
        Kernels.add(h, to: &y)
        let output = Activations(unchecked: y, batch: B, length: T, width: C)
        guard let training, let probabilities else { return (output, nil) }
        return (
            output,
            GPT2BlockTape(
                shape: shape, input: x.values, ln1: ln1Statistics, ln1Output: a1, qkv: qkv,
                probabilities: probabilities, context: context, attentionKeep: attentionKeep, residual: h,
                ln2: ln2Statistics, ln2Output: a2, preActivation: u, activation: m, mlpKeep: mlpKeep,
                dropout: training.dropout)
        )
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try ln1.updateParameters(body)
        try cAttn.updateParameters(body)
        try attnProjection.updateParameters(body)
        try ln2.updateParameters(body)
        try cFc.updateParameters(body)
        try mlpProjection.updateParameters(body)
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
public struct GPT2Model: Sendable, ParameterContainer {
    public let configuration: GPT2Configuration
    /// `wte`, `[V, C]`; also the tied LM head.
    public private(set) var tokenEmbeddings: Embedding
    /// `wpe`, `[P, C]`.
    public private(set) var positionEmbeddings: Embedding
    public private(set) var blocks: [GPT2Block]
    public private(set) var lnF: LayerNorm

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
    public var wordEmbeddingTable: Parameter { tokenEmbeddings.table }

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
        try forward(
            inputsEmbeds: inputsEmbeds, attentionMask: attentionMask, tokenTypeIds: tokenTypeIds,
            positionIds: positionIds, outputHiddenStates: outputHiddenStates, training: nil
        ).output
    }

    /// `callAsFunction(inputsEmbeds:…)` for inference (`training` nil) and training alike: with a pass it also
    /// returns what `backward` needs and applies dropout (`embd_pdrop` after the embeddings, and the blocks').
    /// - Throws: `ModelError(.input)` as `callAsFunction(inputsEmbeds:…)`.
    public func forward(
        inputsEmbeds: Activations, attentionMask: [Float]?, tokenTypeIds: [Int]? = nil, positionIds: [Int]? = nil,
        outputHiddenStates: Bool = false, training: TrainingPass?
    ) throws -> (output: GPT2ModelOutput, tape: GPT2ModelTape?) {
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
        let positions = positionIds ?? (0..<B).flatMap { _ in 0..<T }  // [B·T]
        try positionEmbeddings.gather(positions, adding: &x, what: "position_ids")
        if let tokenTypeIds { try tokenEmbeddings.gather(tokenTypeIds, adding: &x, what: "token_type_ids") }
        let embeddingKeep = training?.dropout(&x, site: 0)
        let bias = attentionMask.map(Kernels.keyBias(fromMask:))  // [B·T]
        var h = Activations(unchecked: x, batch: B, length: T, width: C)
        var states: [Activations] = []
        var tapes: [GPT2BlockTape] = []
        for (i, block) in blocks.enumerated() {
            if outputHiddenStates { states.append(h) }
            let (out, tape) = block.forward(h, keyBias: bias, training: training?.part(1 + i))
            h = out
            if let tape { tapes.append(tape) }
        }
        let finalInput = h.values  // [B·T, C]
        let (y, statistics) = lnF.forward(finalInput)
        h.values = y
        if outputHiddenStates { states.append(h) }
        let output = GPT2ModelOutput(lastHiddenState: h, hiddenStates: states)
        guard let training else { return (output, nil) }
        return (
            output,
            GPT2ModelTape(
                positions: positions, tokenTypeIds: tokenTypeIds, embeddingKeep: embeddingKeep,
                dropout: training.dropout, blocks: tapes, finalInput: finalInput, finalStatistics: statistics)
        )
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try tokenEmbeddings.updateParameters(body)
        try positionEmbeddings.updateParameters(body)
        for i in blocks.indices { try blocks[i].updateParameters(body) }
        try lnF.updateParameters(body)
    }
}

/// `GPT2LMHeadModel`: `GPT2Model` under `transformer.` and `lm_head` (no bias) tied to `wte`.
public struct GPT2LMHeadModel: Sendable, ParameterContainer {
    public private(set) var transformer: GPT2Model
    /// `lm_head.weight` `[V, C]` when `tie_word_embeddings` is false; nil when the head is `wte` itself.
    public private(set) var untiedHead: Parameter?

    /// Builds from the checkpoint root (keys `transformer.…` and `lm_head.weight`).
    public init(_ scope: ParameterScope, configuration c: GPT2Configuration) throws {
        transformer = try GPT2Model(scope["transformer"], configuration: c)
        let shape = [c.vocabularySize, c.hiddenSize]
        if c.tieWordEmbeddings {
            // A stored head must equal wte (reported otherwise); the model uses wte itself.
            _ = try scope["lm_head"].tiedTensor(
                "weight", to: transformer.wordEmbeddingTable.values, tiedKey: scope.key("transformer.wte.weight"),
                shape: shape, tie: true)
        } else {
            untiedHead = try scope["lm_head"].parameter("weight", shape: shape)
        }
    }

    /// `[V, C]`: `wte` when tied.
    public var lmHead: Parameter { untiedHead ?? transformer.wordEmbeddingTable }

    /// Next-token logits from hidden states after `ln_f`: `[B, T, C] · [V, C]ᵀ → [B, T, V]`.
    public func logits(_ hidden: Activations) -> Activations {
        let v = transformer.configuration.vocabularySize
        let y = lmHead.withUnsafeBufferPointer { w in
            Kernels.affine(
                hidden.values, rows: hidden.rows, inputs: hidden.width, weight: w.baseAddress!, bias: nil,
                outputs: v, weightIsOutIn: true)
        }
        return Activations(unchecked: y, batch: hidden.batch, length: hidden.length, width: v)
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try transformer.updateParameters(body)
        if untiedHead != nil { try body(&untiedHead!) }
    }
}
