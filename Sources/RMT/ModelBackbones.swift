// The Swift models as RMT backbones: GPT2LMHeadModel for the decoder, BertForSequenceClassification for the
// encoder. Each call maps onto the Hugging Face forward the reference calls with `inputs_embeds`.
import Models

extension GPT2LMHeadModel: RMTDecoderBackbone {
    public var hiddenSize: Int { transformer.configuration.hiddenSize }
    public var vocabularySize: Int { transformer.configuration.vocabularySize }
    public var maxPositions: Int { transformer.configuration.maxPositions }
    public var tokenEmbeddingTable: [Float] { transformer.wordEmbeddingTable }

    public func tokenEmbeddings(_ ids: [Int]) throws -> [Float] {
        try transformer.tokenEmbeddings(ids)  // wte rows: [n, H]
    }

    public func finalHiddenStates(
        embeddings: [Float], batch: Int, length: Int, attentionMask: [Float]?, positionIds: [Int]?
    ) throws -> [Float] {
        let x = try Activations(values: embeddings, batch: batch, length: length, width: hiddenSize)
        return try transformer(inputsEmbeds: x, attentionMask: attentionMask, positionIds: positionIds).lastHiddenState
            .values  // after ln_f
    }

    public func logits(hiddenStates: [Float], rows: Int) throws -> [Float] {
        logits(try Activations(values: hiddenStates, batch: 1, length: rows, width: hiddenSize)).values  // [rows, V]
    }
}

extension BertForSequenceClassification: RMTEncoderBackbone {
    public var hiddenSize: Int { bert.configuration.hiddenSize }
    public var vocabularySize: Int { bert.configuration.vocabularySize }
    public var labelCount: Int { classifier.outputs }

    public func wordEmbeddings(_ ids: [Int]) throws -> [Float] {
        try bert.embeddings.wordEmbeddings(ids)  // raw table rows: [n, H]
    }

    public func classify(inputsEmbeds: [Float], batch: Int, length: Int, attentionMask: [Float]) throws -> (
        lastHiddenState: [Float], logits: [Float]
    ) {
        let x = try Activations(values: inputsEmbeds, batch: batch, length: length, width: hiddenSize)
        // embeddings module + encoder + pooler
        let out = try bert(inputsEmbeds: x, attentionMask: attentionMask, tokenTypeIds: nil)
        return (out.lastHiddenState.values, logits(pooled: out.poolerOutput ?? [], batch: batch))
    }
}
