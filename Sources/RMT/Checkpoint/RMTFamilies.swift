// The RMT kinds as families over their backbones: the reference's exact state-dict names (docs/RMT.md §5.1–5.3),
// built from the backbone family's own key list, and how a state dict is recognised as one of them (§5.6).
import Checkpoints
import Models

/// The decoder RMT's checkpoint layout: `MemoryCell` around `GPT2LMHeadModel`, inside the recurrent wrapper.
public enum DecoderRMTFamily {
    /// The backbone class.
    public static var backbone: GPT2LMHeadModel.Type { GPT2LMHeadModel.self }
    /// The memory parameter `[m, H]`.
    public static let memoryKey = "memory_cell.memory"
    /// Prefix of the backbone's keys.
    public static let backbonePrefix = "memory_cell.model."
    /// The tied head, aliased to the token embeddings.
    public static let tiedHeadKey = backbonePrefix + "lm_head.weight"
    /// The legacy layout of the arXiv-era scripts (§5.6 rule 5): `memory` and `model.transformer.…`, plus the
    /// unused `eos_token` / `bos_token` buffers.
    static let legacyMemoryKey = "memory", legacyPrefix = "model.",
        legacyExtras: Set<UTF8Key> = ["eos_token", "bos_token"]

    /// True when `names` are a decoder RMT's, current or legacy.
    static func recognizes(_ names: Set<UTF8Key>) -> Bool {
        names.contains(UTF8Key(memoryKey)) || isLegacy(names)
    }

    static func isLegacy(_ names: Set<UTF8Key>) -> Bool {
        names.contains(UTF8Key(legacyMemoryKey))
            && names.contains { $0.string.hasPrefix(legacyPrefix + "transformer.") }
    }

    /// The wrapper's full key list, in state-dict order: `12Λ + 6` keys for the current profile.
    public static func stateDictKeys(layers: Int, profile: StateDictProfile) -> [String] {
        [memoryKey]
            + GPT2Family.stateDictKeys(of: backbone, layers: layers, profile: profile).map { backbonePrefix + $0 }
    }
}

/// The encoder RMT's checkpoint layout: the wrapper around `BertForSequenceClassification`.
public enum EncoderRMTFamily {
    /// The backbone class.
    public static var backbone: BertForSequenceClassification.Type { BertForSequenceClassification.self }
    /// Prefix of the backbone's keys.
    public static let backbonePrefix = "model."
    /// The word embeddings, whose last `m` rows are the memory.
    public static let wordEmbeddingsKey = backbonePrefix + "bert.embeddings.word_embeddings.weight"
    /// The wrapper's alias of the word embeddings, registered again by the reference.
    public static let aliasKey = "model.embeddings.weight"
    /// The int64 buffers, in state-dict order.
    public static let buffers = ["cls_token", "sep_token", "mem_token_ids"]
    /// Buffers of the reference that the wrapper ignores.
    static let ignoredBuffers: Set<UTF8Key> = ["eos_token", "bos_token"]

    /// True when `names` are an encoder RMT's.
    static func recognizes(_ names: Set<UTF8Key>) -> Bool {
        names.contains("mem_token_ids") && names.contains { $0.string.hasPrefix(backbonePrefix + "bert.") }
    }

    /// The wrapper's full key list, in state-dict order: `16Λ + 13` keys for the current profile.
    public static func stateDictKeys(layers: Int, profile: StateDictProfile) -> [String] {
        buffers
            + BertFamily.stateDictKeys(of: backbone, layers: layers, profile: profile).map { backbonePrefix + $0 }
            + [aliasKey]
    }
}
