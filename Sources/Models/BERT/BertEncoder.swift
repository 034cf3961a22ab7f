// BERT's embeddings, transformer layers and pooler (transformers `modeling_bert.py`).
// B batch, T sequence length, C hidden size, H heads, D = C / H, I intermediate size.

/// `BertEmbeddings`: word + token type + absolute position embeddings, then LayerNorm.
public struct BertEmbeddings: Sendable, ParameterContainer {
    public private(set) var wordEmbeddings: Embedding
    public private(set) var positionEmbeddings: Embedding
    public private(set) var tokenTypeEmbeddings: Embedding
    public private(set) var layerNorm: LayerNorm

    public init(_ scope: ParameterScope, _ config: BertConfiguration) throws {
        let c = config.hiddenSize
        wordEmbeddings = try Embedding(scope["word_embeddings"], count: config.vocabularySize, size: c)
        positionEmbeddings = try Embedding(scope["position_embeddings"], count: config.maxPositions, size: c)
        tokenTypeEmbeddings = try Embedding(scope["token_type_embeddings"], count: config.typeVocabularySize, size: c)
        layerNorm = try LayerNorm(scope["LayerNorm"], size: c, epsilon: config.layerNormEpsilon)
    }

    /// `BertEmbeddings.forward(inputs_embeds=…)`: `LN(x + type[tt] + pos[p])`.
    /// - Parameters:
    ///   - inputsEmbeds: `[B, T, C]`, e.g. word embeddings with memory tokens spliced in.
    ///   - tokenTypeIds: `[B·T]`, nil for all zeros.
    ///   - positionIds: `[B·T]`, nil for 0…T−1 in every row.
    /// - Throws: `ModelError(.input)` for positions beyond `max_position_embeddings` or a bad token type.
    public func callAsFunction(inputsEmbeds: Activations, tokenTypeIds: [Int]?, positionIds: [Int]? = nil) throws
        -> Activations
    {
        try forward(inputsEmbeds: inputsEmbeds, tokenTypeIds: tokenTypeIds, positionIds: positionIds, training: nil)
            .output
    }

    /// `callAsFunction(inputsEmbeds:…)` for inference (`training` nil) and training alike: with a pass it also
    /// returns what `backward` needs and applies dropout after the LayerNorm (`hidden_dropout_prob`).
    /// - Throws: `ModelError(.input)` as `callAsFunction(inputsEmbeds:…)`.
    public func forward(
        inputsEmbeds: Activations, tokenTypeIds: [Int]?, positionIds: [Int]? = nil, training: TrainingPass?
    ) throws -> (output: Activations, tape: BertEmbeddingsTape?) {
        let (B, T, C) = (inputsEmbeds.batch, inputsEmbeds.length, inputsEmbeds.width)
        guard C == layerNorm.size else {
            throw ModelError(
                .input, file: "inputs_embeds", "width \(C) differs from hidden_size \(layerNorm.size)")
        }
        guard positionIds != nil || T <= positionEmbeddings.count else {
            throw ModelError(
                .input, file: "input_ids",
                "sequence length \(T) exceeds max_position_embeddings \(positionEmbeddings.count); split the input into shorter sequences"
            )
        }
        var x = inputsEmbeds.values  // [B·T, C]
        let types = tokenTypeIds ?? [Int](repeating: 0, count: B * T)  // [B·T]
        try tokenTypeEmbeddings.gather(types, adding: &x, what: "token_type_ids")
        let positions = positionIds ?? (0..<B).flatMap { _ in 0..<T }  // [B·T]
        try positionEmbeddings.gather(positions, adding: &x, what: "position_ids")
        var (y, statistics) = layerNorm.forward(x)
        let keep = training?.dropout(&y, site: 0)
        let output = Activations(unchecked: y, batch: B, length: T, width: C)
        guard let training else { return (output, nil) }
        return (
            output,
            BertEmbeddingsTape(
                sum: x, statistics: statistics, tokenTypes: types, positions: positions, keep: keep,
                dropout: training.dropout)
        )
    }

    /// Word embeddings of `ids`: `[B, T, C]`, before positions, types and LayerNorm.
    public func wordEmbeddings(_ inputs: ModelInputs) throws -> Activations {
        Activations(
            unchecked: try wordEmbeddings(inputs.inputIds), batch: inputs.batch, length: inputs.length,
            width: wordEmbeddings.size)
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try wordEmbeddings.updateParameters(body)
        try positionEmbeddings.updateParameters(body)
        try tokenTypeEmbeddings.updateParameters(body)
        try layerNorm.updateParameters(body)
    }
}

/// `BertLayer`: self-attention and feed-forward, each followed by residual + LayerNorm (post-norm).
public struct BertLayer: Sendable, ParameterContainer {
    /// `attention.self.{query,key,value}` stacked: weight `[3C, C]`, output columns `[q | k | v]`, one GEMM. Its
    /// parameters hold the three state-dict tensors each (`Parameter.parts`).
    public private(set) var queryKeyValue: Linear
    public private(set) var attentionOutput: Linear
    public private(set) var attentionLayerNorm: LayerNorm
    public private(set) var intermediate: Linear
    public private(set) var output: Linear
    public private(set) var outputLayerNorm: LayerNorm
    let activation: ActivationFunction
    let heads: Int

    public init(_ scope: ParameterScope, _ config: BertConfiguration) throws {
        let (c, i, eps) = (config.hiddenSize, config.intermediateSize, config.layerNormEpsilon)
        let attention = scope["attention"]
        // [C, C] each
        let parts = try ["query", "key", "value"].map { try Linear(attention["self"][$0], inputs: c, outputs: c) }
        queryKeyValue = Linear(
            weight: Parameter(stacking: parts.map(\.weight)), bias: Parameter(stacking: parts.compactMap(\.bias)),
            inputs: c, outputs: 3 * c, layout: .outIn)  // [3C, C]
        attentionOutput = try Linear(attention["output"]["dense"], inputs: c, outputs: c)
        attentionLayerNorm = try LayerNorm(attention["output"]["LayerNorm"], size: c, epsilon: eps)
        intermediate = try Linear(scope["intermediate"]["dense"], inputs: c, outputs: i)  // [I, C]
        output = try Linear(scope["output"]["dense"], inputs: i, outputs: c)  // [C, I]
        outputLayerNorm = try LayerNorm(scope["output"]["LayerNorm"], size: c, epsilon: eps)
        activation = config.activation
        heads = config.headCount
    }

    /// `[B, T, C] → [B, T, C]`. `keyBias` is `[B·T]` (see `Kernels.keyBias(fromMask:)`), nil for no padding.
    public func callAsFunction(_ x: Activations, keyBias: [Float]?) -> Activations {
        forward(x, keyBias: keyBias, training: nil).output
    }

    /// The layer's forward, for inference (`training` nil) and training alike: with a pass it also returns what
    /// `backward` needs, and applies dropout (`hidden_dropout_prob`, before each residual sum) when the pass asks for
    /// it. Attention probabilities are not dropped out.
    public func forward(_ x: Activations, keyBias: [Float]?, training: TrainingPass?) -> (
        output: Activations, tape: BertLayerTape?
    ) {
        let (B, T, C) = (x.batch, x.length, x.width)
        let keep = training != nil
        let qkv = queryKeyValue(x.values, rows: B * T)  // [B·T, C] · [3C, C]ᵀ → [B·T, 3C]
        let shape = AttentionShape(
            batch: B, length: T, heads: heads, headSize: C / heads,
            scale: 1 / Float(C / heads).squareRoot(), causal: false)
        let (context, probabilities) = packedSelfAttention(
            qkv, shape: shape, keyBias: keyBias, keepingProbabilities: keep)  // [B·T, C]
        var a = attentionOutput(context, rows: B * T)  // [B·T, C]   BertSelfOutput
        let attentionKeep = training?.dropout(&a, site: 0)
        Kernels.add(x.values, to: &a)
        let (aN, attentionStatistics) = attentionLayerNorm.forward(a)
        // [B·T, I]   BertIntermediate
        let (h, u) = intermediate.forward(aN, rows: B * T, activation: activation, keepingPreActivation: keep)
        var y = output(h, rows: B * T)  // [B·T, C]   BertOutput
        let outputKeep = training?.dropout(&y, site: 1)
        Kernels.add(aN, to: &y)
        let (out, outputStatistics) = outputLayerNorm.forward(y)
        let result = Activations(unchecked: out, batch: B, length: T, width: C)
        guard let training, let probabilities else { return (result, nil) }
        return (
            result,
            BertLayerTape(
                shape: shape, input: x.values, qkv: qkv, probabilities: probabilities, context: context,
                attentionKeep: attentionKeep, attentionSum: a, attentionStatistics: attentionStatistics,
                attentionOutput: aN, preActivation: u, intermediateOutput: h, outputKeep: outputKeep, outputSum: y,
                outputStatistics: outputStatistics, dropout: training.dropout)
        )
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try queryKeyValue.updateParameters(body)
        try attentionOutput.updateParameters(body)
        try attentionLayerNorm.updateParameters(body)
        try intermediate.updateParameters(body)
        try output.updateParameters(body)
        try outputLayerNorm.updateParameters(body)
    }
}

/// `BertPooler`: `tanh(dense(hidden[:, 0]))`.
public struct BertPooler: Sendable, ParameterContainer {
    public private(set) var dense: Linear

    public init(_ scope: ParameterScope, _ config: BertConfiguration) throws {
        dense = try Linear(scope["dense"], inputs: config.hiddenSize, outputs: config.hiddenSize)
    }

    /// `[B, T, C] → [B, C]`.
    public func callAsFunction(_ x: Activations) -> [Float] { forward(x, keepingPreActivation: false).output }

    /// `[B, T, C] → [B, C]`, and with `keepingPreActivation` (training) the first rows `[B, C]` and
    /// `dense(first)` before the tanh, which the backward needs.
    public func forward(_ x: Activations, keepingPreActivation: Bool) -> (
        output: [Float], first: [Float], preActivation: [Float]?
    ) {
        let C = x.width
        let first = (0..<x.batch).flatMap { b in x.values[(b * x.length * C)..<(b * x.length * C + C)] }  // [B, C]
        let (y, u) = dense.forward(first, rows: x.batch, activation: .tanh, keepingPreActivation: keepingPreActivation)
        return (y, first, u)
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try dense.updateParameters(body)
    }
}
