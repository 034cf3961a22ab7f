// The reference's exact state-dict key names for both variants (RMT.md §5.1–5.3).

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
    /// buffers (`attn.bias`, `attn.masked_bias` for `legacy`) between `ln_1.bias` and `attn.c_attn.weight`.
    public static func gpt2LMHeadKeys(layers: Int, profile: StateDictProfile) -> [String] {
        var keys = ["transformer.wte.weight", "transformer.wpe.weight"]
        for i in 0..<layers {
            let p = "transformer.h.\(i)."
            keys += [p + "ln_1.weight", p + "ln_1.bias"]
            if profile == .legacy { keys += [p + "attn.bias", p + "attn.masked_bias"] }
            keys += [
                p + "attn.c_attn.weight", p + "attn.c_attn.bias", p + "attn.c_proj.weight", p + "attn.c_proj.bias",
                p + "ln_2.weight", p + "ln_2.bias", p + "mlp.c_fc.weight", p + "mlp.c_fc.bias",
                p + "mlp.c_proj.weight", p + "mlp.c_proj.bias",
            ]
        }
        return keys + ["transformer.ln_f.weight", "transformer.ln_f.bias", "lm_head.weight"]
    }

    /// `BertForSequenceClassification` keys (without prefix), in state-dict order; `position_ids` first among the
    /// embeddings for the `4.30` and `legacy` profiles.
    public static func bertSequenceClassificationKeys(layers: Int, profile: StateDictProfile) -> [String] {
        var keys: [String] = []
        if profile != .current { keys.append("bert.embeddings.position_ids") }
        keys += [
            "bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
            "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
            "bert.embeddings.LayerNorm.bias",
        ]
        for i in 0..<layers {
            let p = "bert.encoder.layer.\(i)."
            for part in [
                "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm",
            ] {
                keys += [p + part + ".weight", p + part + ".bias"]
            }
        }
        return keys + ["bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"]
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
