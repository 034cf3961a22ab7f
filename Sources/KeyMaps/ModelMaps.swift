// The BERT and GPT-2 tables of FORMATS.md §3.2, §3.3 and §4.1–4.3, as rule lists.

extension KeyMap {
    /// BERT: the base model (`bert.` prefix) and the masked-LM, next-sentence and classification heads.
    public static func bert() -> KeyMap {
        var rules: [KeyRule] = [
            .map("bert.embeddings.word_embeddings.weight", "bert/embeddings/word_embeddings/weight:0"),
            .map("bert.embeddings.position_embeddings.weight", "bert/embeddings/position_embeddings/embeddings:0"),
            .map("bert.embeddings.token_type_embeddings.weight", "bert/embeddings/token_type_embeddings/embeddings:0"),
        ]
        rules += KeyRule.layerNorm("bert.embeddings.LayerNorm", "bert/embeddings/LayerNorm")
        let layer = ("bert.encoder.layer.{i}", "bert/encoder/layer_._{i}")
        for part in ["query", "key", "value"] {
            rules += KeyRule.linear("\(layer.0).attention.self.\(part)", "\(layer.1)/attention/self/\(part)")
        }
        rules += KeyRule.linear("\(layer.0).attention.output.dense", "\(layer.1)/attention/output/dense")
        rules += KeyRule.layerNorm("\(layer.0).attention.output.LayerNorm", "\(layer.1)/attention/output/LayerNorm")
        rules += KeyRule.linear("\(layer.0).intermediate.dense", "\(layer.1)/intermediate/dense")
        rules += KeyRule.linear("\(layer.0).output.dense", "\(layer.1)/output/dense")
        rules += KeyRule.layerNorm("\(layer.0).output.LayerNorm", "\(layer.1)/output/LayerNorm")
        rules += KeyRule.linear("bert.pooler.dense", "bert/pooler/dense")
        // Masked-LM head; its decoder reuses the word embeddings in TF.
        rules.append(.map("cls.predictions.bias", "mlm___cls/predictions/bias:0"))
        rules += KeyRule.linear("cls.predictions.transform.dense", "mlm___cls/predictions/transform/dense")
        rules += KeyRule.layerNorm("cls.predictions.transform.LayerNorm", "mlm___cls/predictions/transform/LayerNorm")
        rules.append(
            KeyRule(
                pytorch: "cls.predictions.decoder.weight", tf: nil,
                action: .tie(to: "bert.embeddings.word_embeddings.weight", when: "cls.predictions.bias")))
        rules.append(
            KeyRule(
                pytorch: "cls.predictions.decoder.bias", tf: nil,
                action: .tie(to: "cls.predictions.bias", when: "cls.predictions.bias")))
        // Next-sentence and sequence-classification heads.
        rules += KeyRule.linear("cls.seq_relationship", "nsp___cls/seq_relationship")
        rules += KeyRule.linear("classifier", "classifier")
        // Buffers some versions save (§4.3).
        rules.append(KeyRule(pytorch: "bert.embeddings.position_ids", tf: nil, action: .drop))
        rules.append(KeyRule(pytorch: "bert.embeddings.token_type_ids", tf: nil, action: .drop))
        return KeyMap(family: "bert", basePrefix: "bert.", headPrefixes: ["cls.", "classifier."], rules: rules)
    }

    /// GPT-2: the base model (`transformer.` prefix) and the tied LM head.
    public static func gpt2() -> KeyMap {
        var rules: [KeyRule] = [
            .map("transformer.wte.weight", "transformer/wte/weight:0"),
            .map("transformer.wte.weight", "transformer/wte/embeddings:0", readOnly: true),
            .map("transformer.wpe.weight", "transformer/wpe/embeddings:0"),
        ]
        let block = ("transformer.h.{i}", "transformer/h_._{i}")
        rules += KeyRule.layerNorm("\(block.0).ln_1", "\(block.1)/ln_1")
        rules += KeyRule.conv1D("\(block.0).attn.c_attn", "\(block.1)/attn/c_attn")
        rules += KeyRule.conv1D("\(block.0).attn.c_proj", "\(block.1)/attn/c_proj")
        rules += KeyRule.layerNorm("\(block.0).ln_2", "\(block.1)/ln_2")
        rules += KeyRule.conv1D("\(block.0).mlp.c_fc", "\(block.1)/mlp/c_fc")
        rules += KeyRule.conv1D("\(block.0).mlp.c_proj", "\(block.1)/mlp/c_proj")
        rules += KeyRule.layerNorm("transformer.ln_f", "transformer/ln_f")
        rules.append(
            KeyRule(pytorch: "lm_head.weight", tf: nil, action: .tie(to: "transformer.wte.weight", when: "lm_head")))
        // The causal-mask buffers of older files (§4.3).
        rules.append(KeyRule(pytorch: "\(block.0).attn.bias", tf: nil, action: .drop))
        rules.append(KeyRule(pytorch: "\(block.0).attn.masked_bias", tf: nil, action: .drop))
        return KeyMap(family: "gpt2", basePrefix: "transformer.", headPrefixes: ["lm_head."], rules: rules)
    }

    /// Both families.
    public static func all() -> [KeyMap] { [bert(), gpt2()] }
}

/// The Keras model classes `tf_model.h5` files come from, with their snake-case model names (§3.1).
public enum TFModelClass: String, Sendable, CaseIterable {
    case bertModel = "tf_bert_model"
    case bertForMaskedLM = "tf_bert_for_masked_lm"
    case bertForPreTraining = "tf_bert_for_pre_training"
    case bertForSequenceClassification = "tf_bert_for_sequence_classification"
    case gpt2Model = "tfgp_t2model"
    case gpt2LMHeadModel = "tfgp_t2lm_head_model"

    /// The class a set of normalized PyTorch keys belongs to, or nil when it is neither BERT nor GPT-2.
    public static func detect(pytorchKeys keys: Set<String>) -> TFModelClass? {
        if keys.contains(where: { $0.hasPrefix("bert.") }) {
            if keys.contains(where: { $0.hasPrefix("cls.seq_relationship.") }) { return .bertForPreTraining }
            if keys.contains(where: { $0.hasPrefix("cls.predictions.") }) { return .bertForMaskedLM }
            if keys.contains(where: { $0.hasPrefix("classifier.") }) { return .bertForSequenceClassification }
            return .bertModel
        }
        // The LM head adds only a tied weight, so every GPT-2 checkpoint can be written as the LM-head model.
        if keys.contains(where: { $0.hasPrefix("transformer.") }) { return .gpt2LMHeadModel }
        return nil
    }

    /// The family's map.
    public var keyMap: KeyMap { family == "bert" ? .bert() : .gpt2() }

    /// The weight-carrying Keras layers in model order (the `layer_names` a writer gives, §3.2/§3.3).
    public var layerNames: [String] {
        switch self {
        case .bertModel: return ["bert"]
        case .bertForMaskedLM: return ["bert", "mlm___cls"]
        case .bertForPreTraining: return ["bert", "nsp___cls", "mlm___cls"]
        case .bertForSequenceClassification: return ["bert", "classifier"]
        case .gpt2Model, .gpt2LMHeadModel: return ["transformer"]
        }
    }

    /// `bert` or `gpt2`.
    public var family: String { rawValue.hasPrefix("tf_bert") ? "bert" : "gpt2" }
}
