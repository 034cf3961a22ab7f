// What the RMT wrappers need from a backbone: RMT wraps an unchanged model, it does not fork it
// (docs/ARCHITECTURE.md). A backbone of another family is an extension conforming to one of these protocols.
//
// Dimensions: B batch, L rows of one segment (memory + tokens), H hidden, V vocabulary, C labels.
import Models

/// A causal language model (GPT-2) driven from input embeddings.
public protocol RMTDecoderBackbone: Sendable {
    var hiddenSize: Int { get }
    var vocabularySize: Int { get }
    /// Learned positions `P`; a segment's rows must fit.
    var maxPositions: Int { get }
    /// The token-embedding table `wte` `[V, H]`.
    var tokenEmbeddingTable: [Float] { get }
    /// `wte(ids)`: `[B, L]` → `[B, L, H]`.
    /// - Throws: `ModelError(.input)` for an id outside the vocabulary.
    func tokenEmbeddings(_ ids: SequenceTensor<Int>) throws -> Activations
    /// The final hidden states **after `ln_f`** `[B, L, H]` for embeddings `[B, L, H]` at `positionIds` `[B, L]`
    /// (nil: `0..L−1` in every row), under GPT-2's causal mask combined with `attentionMask` `[B, L]` (1 = real
    /// row) when given.
    func finalHiddenStates(
        _ embeddings: Activations, attentionMask: SequenceTensor<Float>?, positionIds: SequenceTensor<Int>?
    ) throws -> Activations
    /// The tied LM head: `[B, L, H]` → `[B, L, V]`.
    func logits(_ hiddenStates: Activations) -> Activations
}

/// A bidirectional encoder with a classification head (BERT for sequence classification), driven from
/// input embeddings.
public protocol RMTEncoderBackbone: Sendable {
    var hiddenSize: Int { get }
    /// The (grown) word-embedding table's row count `V + m`.
    var vocabularySize: Int { get }
    var labelCount: Int { get }
    /// Rows of the word-embedding table: `[B, L]` → `[B, L, H]`.
    /// - Throws: `ModelError(.input)` for an id outside the table.
    func wordEmbeddings(_ ids: SequenceTensor<Int>) throws -> Activations
    /// BERT's embedding module on `inputsEmbeds` `[B, L, H]` (positions `0..L−1`, token type 0, LayerNorm), the
    /// encoder under the padding mask `attentionMask` `[B, L]`, the pooler and the classifier.
    /// - Returns: the last layer's states `[B, L, H]` and the logits `[B, 1, C]`.
    func classify(_ inputsEmbeds: Activations, attentionMask: SequenceTensor<Float>) throws -> (
        lastHiddenState: Activations, logits: Activations
    )
}
