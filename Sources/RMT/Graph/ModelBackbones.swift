// The Swift models as RMT backbones: GPT2LMHeadModel for the decoder, BertForSequenceClassification for the
// encoder. Each call maps onto the Hugging Face forward the reference calls with `inputs_embeds`; inference and
// training run the same forward (training keeps a tape).
import Models

extension GPT2LMHeadModel: RMTTrainableDecoderBackbone {
    public var hiddenSize: Int { transformer.configuration.hiddenSize }
    public var vocabularySize: Int { transformer.configuration.vocabularySize }
    public var maxPositions: Int { transformer.configuration.maxPositions }

    public func tokenEmbeddings(_ ids: SequenceTensor<Int>) throws -> Activations {
        try transformer.wordEmbeddings(ModelInputs(ids: ids))  // wte rows: [B, L, H]
    }

    public func finalHiddenStates(
        _ embeddings: Activations, attentionMask: SequenceTensor<Float>?, positionIds: SequenceTensor<Int>?
    ) throws -> Activations {
        try transformer(
            inputsEmbeds: embeddings, attentionMask: attentionMask?.values, positionIds: positionIds?.values
        )
        .lastHiddenState  // after ln_f
    }

    public func trainingHiddenStates(
        _ embeddings: Activations, attentionMask: SequenceTensor<Float>?, training: TrainingPass
    ) throws -> (hiddenStates: Activations, tape: GPT2ModelTape) {
        let (out, tape) = try transformer.forward(
            inputsEmbeds: embeddings, attentionMask: attentionMask?.values, training: training)
        return (out.lastHiddenState, tape!)
    }

    public func backward(_ tape: GPT2ModelTape, hiddenStateGradient: [Float], gradients: GradientStore) -> [Float] {
        transformer.backward(tape, outputGradient: hiddenStateGradient, gradients: gradients)
    }

    public func logitsBackward(hiddenStates: [Float], logitsGradient: [Float], rows: Int, gradients: GradientStore)
        -> [Float]
    {
        logitsBackward(hidden: hiddenStates, logitsGradient: logitsGradient, rows: rows, gradients: gradients)
    }

    public func tokenEmbeddingsBackward(ids: [Int], gradient: [Float], gradients: GradientStore) {
        transformer.tokenEmbeddings.backward(ids: ids, outputGradient: gradient, gradients: gradients)
    }

    public static func byteCount(of tape: GPT2ModelTape) -> Int { tape.byteCount }
}

extension BertForSequenceClassification: RMTTrainableEncoderBackbone {
    public var hiddenSize: Int { bert.configuration.hiddenSize }
    public var vocabularySize: Int { bert.configuration.vocabularySize }
    public var labelCount: Int { classifier.outputs }
    public var wordEmbeddingTable: Parameter { bert.wordEmbeddingTable }

    public func wordEmbeddings(_ ids: SequenceTensor<Int>) throws -> Activations {
        try bert.embeddings.wordEmbeddings(ModelInputs(ids: ids))  // raw table rows: [B, L, H]
    }

    public func classify(_ inputsEmbeds: Activations, attentionMask: SequenceTensor<Float>) throws -> (
        lastHiddenState: Activations, logits: Activations
    ) {
        let (h, logits, _) = try forward(inputsEmbeds: inputsEmbeds, attentionMask: attentionMask.values, training: nil)
        return (h, Activations(unchecked: logits, batch: inputsEmbeds.batch, length: 1, width: classifier.outputs))
    }

    public func trainingClassify(
        _ inputsEmbeds: Activations, attentionMask: SequenceTensor<Float>, training: TrainingPass
    )
        throws -> (lastHiddenState: Activations, logits: Activations, tape: BertClassifierTape)
    {
        let (h, logits, tape) = try forward(
            inputsEmbeds: inputsEmbeds, attentionMask: attentionMask.values, training: training)
        let shaped = Activations(unchecked: logits, batch: inputsEmbeds.batch, length: 1, width: classifier.outputs)
        return (h, shaped, tape!)
    }

    public func classifyBackward(
        _ tape: BertClassifierTape, hiddenStateGradient: [Float], logitsGradient: [Float]?, gradients: GradientStore
    ) -> [Float] {
        backward(
            tape, hiddenStateGradient: hiddenStateGradient, logitsGradient: logitsGradient, gradients: gradients)
    }

    public func wordEmbeddingsBackward(ids: [Int], gradient: [Float], gradients: GradientStore) {
        bert.embeddings.wordEmbeddings.backward(ids: ids, outputGradient: gradient, gradients: gradients)
    }

    public static func byteCount(of tape: BertClassifierTape) -> Int { tape.byteCount }
}
