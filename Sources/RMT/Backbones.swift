// What the RMT wrappers need from a backbone: RMT wraps an unchanged model, it does not fork it.
//
// Dimensions: B batch, L rows of one segment (memory + tokens), H hidden, V vocabulary, C labels.
// Every array is row-major float32.

/// A causal language model (GPT-2) driven from input embeddings.
public protocol RMTDecoderBackbone {
    var hiddenSize: Int { get }
    var vocabularySize: Int { get }
    /// Learned positions `P`; a segment's rows must fit.
    var maxPositions: Int { get }
    /// The token-embedding table `wte` `[V, H]`.
    var tokenEmbeddingTable: [Float] { get }
    /// Token embeddings for `ids` → `[ids.count, H]` (rows of `wte`).
    func tokenEmbeddings(_ ids: [Int]) throws -> [Float]
    /// Final hidden states **after `ln_f`** `[B, L, H]` for `embeddings` `[B, L, H]` at `positionIds` `[B, L]`
    /// (nil: `0..L−1` in every row), with GPT-2's causal mask combined with `attentionMask` `[B, L]`
    /// (1 = real row) when given.
    func finalHiddenStates(embeddings: [Float], batch: Int, length: Int, attentionMask: [Float]?, positionIds: [Int]?)
        throws -> [Float]
    /// Tied LM-head logits `[rows, V]` for hidden states `[rows, H]`.
    func logits(hiddenStates: [Float], rows: Int) throws -> [Float]
}

/// A bidirectional encoder with a classification head (BERT for sequence classification), driven from
/// input embeddings.
public protocol RMTEncoderBackbone {
    var hiddenSize: Int { get }
    /// The (grown) word-embedding table's row count `V + m`.
    var vocabularySize: Int { get }
    var labelCount: Int { get }
    /// Rows of the word-embedding table for `ids` → `[ids.count, H]`.
    func wordEmbeddings(_ ids: [Int]) throws -> [Float]
    /// Runs BERT's embedding module on `inputsEmbeds` `[B, L, H]` (adds positions `0..L−1` and token type 0, then
    /// LayerNorm), the encoder with padding mask `attentionMask` `[B, L]`, the pooler and the classifier.
    /// - Returns: the last layer's states `[B, L, H]` and the logits `[B, C]`.
    func classify(inputsEmbeds: [Float], batch: Int, length: Int, attentionMask: [Float]) throws -> (
        lastHiddenState: [Float], logits: [Float]
    )
}
