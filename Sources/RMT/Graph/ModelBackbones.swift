// The Swift models as RMT backbones: GPT2LMHeadModel for the decoder, BertForSequenceClassification for the
// encoder. Each call maps onto the Hugging Face forward the reference calls with `inputs_embeds`.
import Models

extension GPT2LMHeadModel: RMTDecoderBackbone {
    public var hiddenSize: Int { transformer.configuration.hiddenSize }
    public var vocabularySize: Int { transformer.configuration.vocabularySize }
    public var maxPositions: Int { transformer.configuration.maxPositions }
    public var tokenEmbeddingTable: [Float] { transformer.wordEmbeddingTable }

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
}

extension BertForSequenceClassification: RMTEncoderBackbone {
    public var hiddenSize: Int { bert.configuration.hiddenSize }
    public var vocabularySize: Int { bert.configuration.vocabularySize }
    public var labelCount: Int { classifier.outputs }

    public func wordEmbeddings(_ ids: SequenceTensor<Int>) throws -> Activations {
        try bert.embeddings.wordEmbeddings(ModelInputs(ids: ids))  // raw table rows: [B, L, H]
    }

    public func classify(_ inputsEmbeds: Activations, attentionMask: SequenceTensor<Float>) throws -> (
        lastHiddenState: Activations, logits: Activations
    ) {
        // embeddings module + encoder + pooler
        let out = try bert(inputsEmbeds: inputsEmbeds, attentionMask: attentionMask.values, tokenTypeIds: nil)
        let B = inputsEmbeds.batch
        let logits = logits(pooled: out.poolerOutput ?? [], batch: B)  // [B, C]
        return (out.lastHiddenState, Activations(unchecked: logits, batch: B, length: 1, width: classifier.outputs))
    }
}
