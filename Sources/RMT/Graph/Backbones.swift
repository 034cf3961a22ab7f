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

/// A decoder backbone that trains (docs/RMT.md §8): a training forward that keeps a tape, and the backward passes
/// of the layers, the tied head and the token embeddings. Gradients accumulate into a `GradientStore`, keyed by the
/// backbone's parameters (`ParameterContainer`); frozen parameters have no gradient there and cost no gradient work.
public protocol RMTTrainableDecoderBackbone: RMTDecoderBackbone, ParameterContainer {
    /// What the training forward keeps.
    associatedtype Tape: Sendable
    /// `finalHiddenStates` (positions `0..L−1`) keeping what `backward` needs, with `training`'s dropout.
    /// - Returns: the final hidden states `[B, L, H]` after `ln_f`, and the tape.
    func trainingHiddenStates(
        _ embeddings: Activations, attentionMask: SequenceTensor<Float>?, training: TrainingPass
    ) throws -> (hiddenStates: Activations, tape: Tape)
    /// From ∂L/∂(final hidden states) `[B·L, H]` to ∂L/∂embeddings `[B·L, H]`.
    func backward(_ tape: Tape, hiddenStateGradient: [Float], gradients: GradientStore) -> [Float]
    /// The head's backward over `rows` rows: ∂L/∂logits `[rows, V]` → ∂L/∂hidden `[rows, H]`.
    /// - Parameter hiddenStates: the head's input `[rows, H]`.
    func logitsBackward(hiddenStates: [Float], logitsGradient: [Float], rows: Int, gradients: GradientStore)
        -> [Float]
    /// The backward of `tokenEmbeddings`: ∂L/∂wte(ids) `[ids.count, H]` into the table's gradient.
    func tokenEmbeddingsBackward(ids: [Int], gradient: [Float], gradients: GradientStore)
    /// The bytes a tape holds.
    static func byteCount(of tape: Tape) -> Int
}

/// An encoder backbone that trains (docs/RMT.md §8): as `RMTTrainableDecoderBackbone`, for `classify`.
public protocol RMTTrainableEncoderBackbone: RMTEncoderBackbone, ParameterContainer {
    /// What the training forward keeps.
    associatedtype Tape: Sendable
    /// The word-embedding table `[V + m, H]`; its last `m` rows are the memory.
    var wordEmbeddingTable: Parameter { get }
    /// `classify` keeping what `classifyBackward` needs, with `training`'s dropout.
    func trainingClassify(_ inputsEmbeds: Activations, attentionMask: SequenceTensor<Float>, training: TrainingPass)
        throws -> (lastHiddenState: Activations, logits: Activations, tape: Tape)
    /// From ∂L/∂last hidden state `[B·L, H]` and ∂L/∂logits `[B, C]` (nil: not in the loss) to ∂L/∂`inputsEmbeds`
    /// `[B·L, H]`.
    func classifyBackward(
        _ tape: Tape, hiddenStateGradient: [Float], logitsGradient: [Float]?, gradients: GradientStore
    ) -> [Float]
    /// The backward of `wordEmbeddings`: ∂L/∂rows `[ids.count, H]` into the table's gradient; negative ids are
    /// skipped.
    func wordEmbeddingsBackward(ids: [Int], gradient: [Float], gradients: GradientStore)
    /// The bytes a tape holds.
    static func byteCount(of tape: Tape) -> Int
}
