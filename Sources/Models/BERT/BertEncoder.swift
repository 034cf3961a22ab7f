// BERT's embeddings, transformer layers and pooler (transformers `modeling_bert.py`).
// B batch, T sequence length, C hidden size, H heads, D = C / H, I intermediate size.

/// `BertEmbeddings`: word + token type + absolute position embeddings, then LayerNorm.
public struct BertEmbeddings: Sendable {
    public let wordEmbeddings: Embedding
    public let positionEmbeddings: Embedding
    public let tokenTypeEmbeddings: Embedding
    public let layerNorm: LayerNorm

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
        let (B, T, C) = (inputsEmbeds.batch, inputsEmbeds.length, inputsEmbeds.width)
        guard C == layerNorm.weight.count else {
            throw ModelError(
                .input, file: "inputs_embeds", "width \(C) differs from hidden_size \(layerNorm.weight.count)")
        }
        guard positionIds != nil || T <= positionEmbeddings.count else {
            throw ModelError(
                .input, file: "input_ids",
                "sequence length \(T) exceeds max_position_embeddings \(positionEmbeddings.count); split the input into shorter sequences"
            )
        }
        var x = inputsEmbeds.values  // [B·T, C]
        try tokenTypeEmbeddings.gather(
            tokenTypeIds ?? [Int](repeating: 0, count: B * T), adding: &x, what: "token_type_ids")
        let positions = positionIds ?? (0..<B).flatMap { _ in 0..<T }  // [B·T]
        try positionEmbeddings.gather(positions, adding: &x, what: "position_ids")
        layerNorm.apply(&x)
        return Activations(unchecked: x, batch: B, length: T, width: C)
    }

    /// Word embeddings of `ids`: `[B, T, C]`, before positions, types and LayerNorm.
    public func wordEmbeddings(_ inputs: ModelInputs) throws -> Activations {
        Activations(
            unchecked: try wordEmbeddings(inputs.inputIds), batch: inputs.batch, length: inputs.length,
            width: wordEmbeddings.size)
    }
}

/// `BertLayer`: self-attention and feed-forward, each followed by residual + LayerNorm (post-norm).
public struct BertLayer: Sendable {
    /// `attention.self.{query,key,value}` stacked: weight `[3C, C]`, output columns `[q | k | v]`, one GEMM.
    public let queryKeyValue: Linear
    public let attentionOutput: Linear
    public let attentionLayerNorm: LayerNorm
    public let intermediate: Linear
    public let output: Linear
    public let outputLayerNorm: LayerNorm
    let activation: ActivationFunction
    let heads: Int

    public init(_ scope: ParameterScope, _ config: BertConfiguration) throws {
        let (c, i, eps) = (config.hiddenSize, config.intermediateSize, config.layerNormEpsilon)
        let attention = scope["attention"]
        // [C, C] each
        let parts = try ["query", "key", "value"].map { try Linear(attention["self"][$0], inputs: c, outputs: c) }
        queryKeyValue = Linear(
            weight: parts.flatMap(\.weight), bias: parts.flatMap { $0.bias ?? [] },
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
        let (B, T, C) = (x.batch, x.length, x.width)
        let qkv = queryKeyValue(x.values, rows: B * T)  // [B·T, C] · [3C, C]ᵀ → [B·T, 3C]
        let shape = AttentionShape(
            batch: B, length: T, heads: heads, headSize: C / heads,
            scale: 1 / Float(C / heads).squareRoot(), causal: false)
        let context = packedSelfAttention(qkv, shape: shape, keyBias: keyBias)  // [B·T, C]
        var a = attentionOutput(context, rows: B * T)  // [B·T, C]   BertSelfOutput
        Kernels.add(x.values, to: &a)
        attentionLayerNorm.apply(&a)
        let h = intermediate(a, rows: B * T, activation: activation)  // [B·T, I]   BertIntermediate
        var y = output(h, rows: B * T)  // [B·T, C]   BertOutput
        Kernels.add(a, to: &y)
        outputLayerNorm.apply(&y)
        return Activations(unchecked: y, batch: B, length: T, width: C)
    }
}

/// `BertPooler`: `tanh(dense(hidden[:, 0]))`.
public struct BertPooler: Sendable {
    public let dense: Linear

    public init(_ scope: ParameterScope, _ config: BertConfiguration) throws {
        dense = try Linear(scope["dense"], inputs: config.hiddenSize, outputs: config.hiddenSize)
    }

    /// `[B, T, C] → [B, C]`.
    public func callAsFunction(_ x: Activations) -> [Float] {
        let C = x.width
        let first = (0..<x.batch).flatMap { b in x.values[(b * x.length * C)..<(b * x.length * C + C)] }  // [B, C]
        var y = dense(first, rows: x.batch)
        Kernels.tanh(&y)
        return y
    }
}
