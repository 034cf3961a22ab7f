// BertModel and its heads: masked LM (tied decoder) and sequence classification.
// B batch, T sequence length, C hidden size, V vocabulary, L labels.

/// What `BertModel` returns.
public struct BertModelOutput: Sendable {
    /// `[B, T, C]`, the last layer's output.
    public var lastHiddenState: Activations
    /// `[B, C]`, when the model has a pooler.
    public var poolerOutput: [Float]?
    /// The embeddings output, then each layer's output (`output_hidden_states`): L + 1 entries.
    public var hiddenStates: [Activations]
}

/// `BertModel`: embeddings, a stack of `BertLayer`s, and an optional pooler.
public struct BertModel: Sendable, ParameterContainer {
    public let configuration: BertConfiguration
    public private(set) var embeddings: BertEmbeddings
    public private(set) var layers: [BertLayer]
    public private(set) var pooler: BertPooler?

    /// Builds the model from `scope` (the base model's root: `""` or `bert`).
    /// - Parameter addPoolingLayer: read `pooler.dense`; BertForMaskedLM has none.
    public init(_ scope: ParameterScope, configuration: BertConfiguration, addPoolingLayer: Bool) throws {
        self.configuration = configuration
        embeddings = try BertEmbeddings(scope["embeddings"], configuration)
        layers = try (0..<configuration.layerCount).map { try BertLayer(scope["encoder"]["layer", $0], configuration) }
        pooler = addPoolingLayer ? try BertPooler(scope["pooler"], configuration) : nil
    }

    /// The `[V, C]` word-embedding table (tied to the masked-LM decoder).
    public var wordEmbeddingTable: Parameter { embeddings.wordEmbeddings.table }

    /// The forward pass over token ids.
    /// - Throws: `ModelError(.input)` for ids, token types or lengths outside the model's tables.
    public func callAsFunction(_ inputs: ModelInputs, outputHiddenStates: Bool = false) throws -> BertModelOutput {
        let words = try embeddings.wordEmbeddings(inputs)  // [B, T, C]
        return try callAsFunction(
            inputsEmbeds: words, attentionMask: inputs.attentionMask,
            tokenTypeIds: inputs.tokenTypeIds, positionIds: inputs.positionIds,
            outputHiddenStates: outputHiddenStates)
    }

    /// The forward pass from `inputs_embeds` (as `BertModel.forward(inputs_embeds=…)`): position and type
    /// embeddings and LayerNorm are added to them, then the encoder runs.
    /// - Parameters:
    ///   - inputsEmbeds: `[B, T, C]`.
    ///   - attentionMask: `[B·T]` of 0/1, nil for no padding.
    ///   - tokenTypeIds: `[B·T]`, nil for zeros.
    ///   - positionIds: `[B·T]`, nil for 0…T−1 in every row.
    public func callAsFunction(
        inputsEmbeds: Activations, attentionMask: [Float]?, tokenTypeIds: [Int]?,
        positionIds: [Int]? = nil, outputHiddenStates: Bool = false
    ) throws -> BertModelOutput {
        try forward(
            inputsEmbeds: inputsEmbeds, attentionMask: attentionMask, tokenTypeIds: tokenTypeIds,
            positionIds: positionIds, outputHiddenStates: outputHiddenStates, training: nil
        ).output
    }

    /// `callAsFunction(inputsEmbeds:…)` for inference (`training` nil) and training alike: with a pass it also
    /// returns what `backward` needs and applies dropout at BERT's sites. The pooler (unless `pooling` is false)
    /// runs as in inference; its backward belongs to the head that uses it (`BertForSequenceClassification`).
    /// - Throws: `ModelError(.input)` as `callAsFunction(inputsEmbeds:…)`.
    public func forward(
        inputsEmbeds: Activations, attentionMask: [Float]?, tokenTypeIds: [Int]?, positionIds: [Int]? = nil,
        outputHiddenStates: Bool = false, pooling: Bool = true, training: TrainingPass?
    ) throws -> (output: BertModelOutput, tape: BertModelTape?) {
        try checkMask(attentionMask, rows: inputsEmbeds.rows)
        if let positionIds, positionIds.count != inputsEmbeds.rows {
            throw ModelError(
                .input, file: "position_ids", "has \(positionIds.count) values for \(inputsEmbeds.rows) tokens")
        }
        let (x, embeddingsTape) = try embeddings.forward(
            inputsEmbeds: inputsEmbeds, tokenTypeIds: tokenTypeIds, positionIds: positionIds,
            training: training?.part(0))
        let bias = attentionMask.map(Kernels.keyBias(fromMask:))  // [B·T]: 0 or finfo.min
        var h = x
        var states = outputHiddenStates ? [x] : []
        var tapes: [BertLayerTape] = []
        for (i, layer) in layers.enumerated() {
            let (out, tape) = layer.forward(h, keyBias: bias, training: training?.part(1 + i))
            h = out
            if let tape { tapes.append(tape) }
            if outputHiddenStates { states.append(h) }
        }
        let pooled = pooling ? pooler.map { $0(h) } : nil
        let output = BertModelOutput(lastHiddenState: h, poolerOutput: pooled, hiddenStates: states)
        guard let embeddingsTape else { return (output, nil) }
        return (output, BertModelTape(embeddings: embeddingsTape, layers: tapes))
    }

    /// The encoder alone (`BertEncoder`) on already-embedded `[B, T, C]` input.
    /// - Returns: the last hidden state, and with `outputHiddenStates` the input followed by each layer's output.
    public func encode(_ x: Activations, attentionMask: [Float]?, outputHiddenStates: Bool = false) -> (
        Activations, [Activations]
    ) {
        let bias = attentionMask.map(Kernels.keyBias(fromMask:))  // [B·T]: 0 or finfo.min
        var h = x
        var states = outputHiddenStates ? [x] : []
        for layer in layers {
            h = layer(h, keyBias: bias)
            if outputHiddenStates { states.append(h) }
        }
        return (h, states)
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try embeddings.updateParameters(body)
        for i in layers.indices { try layers[i].updateParameters(body) }
        if pooler != nil { try pooler!.updateParameters(body) }
    }
}

func checkMask(_ mask: [Float]?, rows: Int) throws {
    if let mask, mask.count != rows {
        throw ModelError(.input, file: "attention_mask", "has \(mask.count) values for \(rows) tokens")
    }
}

/// `BertForMaskedLM`: `BertModel` without pooler, then `cls.predictions` (dense, activation, LayerNorm, and
/// a decoder tied to the word embeddings).
public struct BertForMaskedLM: Sendable {
    public let bert: BertModel
    public let transformDense: Linear
    public let transformLayerNorm: LayerNorm
    /// `[V, C]`: the word embeddings when tied.
    public let decoderWeight: Parameter
    /// `[V]`.
    public let decoderBias: Parameter

    /// Builds from the checkpoint root (keys `bert.…` and `cls.predictions.…`).
    public init(_ scope: ParameterScope, configuration c: BertConfiguration) throws {
        bert = try BertModel(scope["bert"], configuration: c, addPoolingLayer: false)
        let predictions = scope["cls"]["predictions"]
        transformDense = try Linear(predictions["transform"]["dense"], inputs: c.hiddenSize, outputs: c.hiddenSize)
        transformLayerNorm = try LayerNorm(
            predictions["transform"]["LayerNorm"], size: c.hiddenSize, epsilon: c.layerNormEpsilon)
        let decoder = predictions["decoder"]
        let vocabulary = [c.vocabularySize, c.hiddenSize]
        decoderWeight = Parameter(
            try decoder.tiedTensor(
                "weight", to: bert.wordEmbeddingTable.values,
                tiedKey: scope.key("bert.embeddings.word_embeddings.weight"), shape: vocabulary,
                tie: c.tieWordEmbeddings),
            key: decoder.key("weight"), shape: vocabulary)
        // `cls.predictions.bias` and `cls.predictions.decoder.bias` are one parameter: either may be stored.
        if !predictions.contains("bias"), decoder.contains("bias") {
            decoderBias = try decoder.parameter("bias", shape: [c.vocabularySize])
        } else {
            // reported as missing under its own name
            let bias = try predictions.tensor("bias", shape: [c.vocabularySize])
            decoderBias = Parameter(
                try decoder.tiedTensor(
                    "bias", to: bias, tiedKey: predictions.key("bias"), shape: [c.vocabularySize], tie: true),
                key: predictions.key("bias"), shape: [c.vocabularySize])
        }
    }

    /// Prediction scores from hidden states: `[B, T, C] → [B, T, V]`.
    public func logits(_ hidden: Activations) -> Activations {
        let (B, T, C) = (hidden.batch, hidden.length, hidden.width)
        var h = transformDense(hidden.values, rows: B * T)  // [B·T, C]
        bert.configuration.activation.apply(&h)
        transformLayerNorm.apply(&h)
        let v = decoderBias.count
        let y = decoderWeight.withUnsafeBufferPointer { w in
            decoderBias.withUnsafeBufferPointer { b in
                Kernels.affine(  // [B·T, V]
                    h, rows: B * T, inputs: C, weight: w.baseAddress!, bias: b.baseAddress!, outputs: v,
                    weightIsOutIn: true)
            }
        }
        return Activations(unchecked: y, batch: B, length: T, width: v)
    }
}

/// `BertForSequenceClassification`: `BertModel` with pooler, then `classifier` on the pooled output.
public struct BertForSequenceClassification: Sendable, ParameterContainer {
    public private(set) var bert: BertModel
    public private(set) var classifier: Linear

    public init(_ scope: ParameterScope, configuration c: BertConfiguration) throws {
        bert = try BertModel(scope["bert"], configuration: c, addPoolingLayer: true)
        classifier = try Linear(scope["classifier"], inputs: c.hiddenSize, outputs: c.labelCount)  // [L, C]
    }

    /// `[B, C]` pooled output → `[B, L]` logits.
    public func logits(pooled: [Float], batch: Int) -> [Float] {
        classifier(pooled, rows: batch)
    }

    /// The whole forward from `inputs_embeds` `[B, T, C]` for inference (`training` nil) and training alike:
    /// embeddings, encoder, pooler, dropout (training only, `hidden_dropout_prob`) and classifier.
    /// - Returns: the last layer's states `[B, T, C]`, the logits `[B, L]`, and with a pass what `backward` needs.
    /// - Throws: `ModelError(.input)` as `BertModel.callAsFunction(inputsEmbeds:…)`.
    public func forward(inputsEmbeds: Activations, attentionMask: [Float]?, training: TrainingPass?) throws -> (
        lastHiddenState: Activations, logits: [Float], tape: BertClassifierTape?
    ) {
        let (out, tape) = try bert.forward(  // pooled below, keeping what the backward needs
            inputsEmbeds: inputsEmbeds, attentionMask: attentionMask, tokenTypeIds: nil, pooling: false,
            training: training?.part(0))
        let B = inputsEmbeds.batch
        let (pooled, first, u) = bert.pooler!.forward(out.lastHiddenState, keepingPreActivation: training != nil)
        var input = pooled  // [B, C]
        let keep = training?.part(1).dropout(&input, site: 0)
        let logits = classifier(input, rows: B)  // [B, L]
        guard let training, let tape else { return (out.lastHiddenState, logits, nil) }
        return (
            out.lastHiddenState, logits,
            BertClassifierTape(
                bert: tape, batch: B, first: first, poolerPreActivation: u, classifierInput: input,
                classifierKeep: keep, dropout: training.dropout)
        )
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try bert.updateParameters(body)
        try classifier.updateParameters(body)
    }
}
