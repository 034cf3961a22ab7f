// The reference's exact state-dict key names for both variants (docs/RMT.md §5.1–5.3).
import Models

/// Key layouts of the reference RMT checkpoints, in state-dict order.
public enum RMTStateDict {
    /// Prefix of the decoder's backbone keys (`GPT2LMHeadModel` inside `MemoryCell`).
    public static let decoderBackbonePrefix = "memory_cell.model."
    /// The decoder's memory parameter.
    public static let decoderMemoryKey = "memory_cell.memory"
    /// Prefix of the encoder's backbone keys (`BertForSequenceClassification`).
    public static let encoderBackbonePrefix = "model."
    /// The encoder's alias of the word embeddings, registered again by the wrapper.
    public static let encoderAliasKey = "model.embeddings.weight"
    /// The encoder's word-embedding key, whose last `m` rows are the memory.
    public static let encoderWordEmbeddingsKey = "model.bert.embeddings.word_embeddings.weight"
    /// The encoder's int64 buffers.
    public static let encoderBuffers = ["cls_token", "sep_token", "mem_token_ids"]

    /// `GPT2LMHeadModel` keys (without prefix) for `layers` blocks, in state-dict order, with the profile's
    /// buffers, as the GPT-2 family lists them.
    public static func gpt2LMHeadKeys(layers: Int, profile: StateDictProfile) -> [String] {
        GPT2Family.stateDictKeys(of: GPT2LMHeadModel.self, layers: layers, profile: profile)
    }

    /// `BertForSequenceClassification` keys (without prefix), in state-dict order, as the BERT family lists them.
    public static func bertSequenceClassificationKeys(layers: Int, profile: StateDictProfile) -> [String] {
        BertFamily.stateDictKeys(of: BertForSequenceClassification.self, layers: layers, profile: profile)
    }

    /// The decoder wrapper's full key list: `12Λ + 6` keys for the current profile.
    public static func decoderKeys(layers: Int, profile: StateDictProfile) -> [String] {
        [decoderMemoryKey] + gpt2LMHeadKeys(layers: layers, profile: profile).map { decoderBackbonePrefix + $0 }
    }

    /// The encoder wrapper's full key list: `16Λ + 13` keys for the current profile.
    public static func encoderKeys(layers: Int, profile: StateDictProfile) -> [String] {
        encoderBuffers
            + bertSequenceClassificationKeys(layers: layers, profile: profile).map { encoderBackbonePrefix + $0 }
            + [encoderAliasKey]
    }
}
