// The BERT family: its names (docs/FORMATS.md §3.2, §4.1, §4.3), how it is recognised, and its classes.
import Checkpoints
import KeyMaps
import TensorCore

/// BERT (`model_type` `bert`): `BertModel` and its masked-LM and sequence-classification heads.
public enum BertFamily: ModelFamily {
    public static let modelType = "bert"

    public static var models: [any PretrainedModel.Type] {
        [
            BertModel.self, BertForMaskedLM.self, BertForSequenceClassification.self,
        ]
    }

    /// The Hub's bert-base-* are `BertForPreTraining` (§4.1): run as the base model, as `AutoModel` does; the
    /// pre-training heads' keys are dropped and listed.
    public static var substitutes: [String: ModelArchitecture] { ["BertForPreTraining": .bertModel] }

    /// Google's original `bert_config.json` has no `model_type`; it has `hidden_size` (GPT-2's is `n_embd`).
    public static func recognizes(config: JSONValue) -> Bool {
        config["hidden_size"] != nil && config["n_embd"] == nil
    }

    /// transformers saved `embeddings.position_ids` up to 4.30; `token_type_ids` is never saved.
    public static func persists(buffer template: String, profile: StateDictProfile) -> Bool {
        template == "bert.embeddings.position_ids" && profile != .current
    }

    /// `embeddings.position_ids`: `arange(P)` as int64 `[1, P]`.
    public static func bufferValue(_ key: String, positions: Int) -> Tensor? {
        guard key.hasSuffix("embeddings.position_ids") else { return nil }
        return try? Tensor(
            dtype: .i64, shape: [1, positions],
            bytes: (0..<Int64(positions)).flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
    }

    /// The base model (`bert.` prefix), the masked-LM, next-sentence and classification heads, the buffers, in
    /// state-dict order (`position_ids` first among the embeddings, where the versions that save it put it).
    public static var keyMap: KeyMap {
        // Buffers some versions save (§4.3).
        var rules: [KeyRule] = [
            KeyRule(pytorch: "bert.embeddings.position_ids", tf: nil, action: .drop),
            .map("bert.embeddings.word_embeddings.weight", "bert/embeddings/word_embeddings/weight:0"),
            .map("bert.embeddings.position_embeddings.weight", "bert/embeddings/position_embeddings/embeddings:0"),
            .map("bert.embeddings.token_type_embeddings.weight", "bert/embeddings/token_type_embeddings/embeddings:0"),
        ]
        rules += KeyRule.layers([(.layerNorm, "LayerNorm")], pytorch: "bert.embeddings", tf: "bert/embeddings")
        rules += KeyRule.layers(
            [
                (.linear, "attention.self.query"), (.linear, "attention.self.key"), (.linear, "attention.self.value"),
                (.linear, "attention.output.dense"), (.layerNorm, "attention.output.LayerNorm"),
                (.linear, "intermediate.dense"), (.linear, "output.dense"), (.layerNorm, "output.LayerNorm"),
            ], pytorch: "bert.encoder.layer.{i}", tf: "bert/encoder/layer_._{i}")
        rules += KeyRule.layers([(.linear, "pooler.dense")], pytorch: "bert", tf: "bert")
        // Masked-LM head; its decoder reuses the word embeddings in TF.
        rules.append(.map("cls.predictions.bias", "mlm___cls/predictions/bias:0"))
        rules += KeyRule.layers(
            [(.linear, "transform.dense"), (.layerNorm, "transform.LayerNorm")], pytorch: "cls.predictions",
            tf: "mlm___cls/predictions")
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
        rules.append(KeyRule(pytorch: "bert.embeddings.token_type_ids", tf: nil, action: .drop))
        return KeyMap(
            family: modelType, basePrefix: "bert.", headPrefixes: ["cls.", "classifier."], rules: rules,
            signatureKeys: ["embeddings.word_embeddings.weight", "embeddings.word_embeddings.gamma"],
            tfRoots: ["bert", "mlm___cls"], kerasClasses: kerasClasses)
    }

    /// The Keras classes of `tf_model.h5` files (§3.1, §3.2), most specific first.
    static let kerasClasses = [
        KerasModelClass(
            name: "tf_bert_for_pre_training", layerNames: ["bert", "nsp___cls", "mlm___cls"],
            identifyingPrefix: "cls.seq_relationship."),
        KerasModelClass(
            name: "tf_bert_for_masked_lm", layerNames: ["bert", "mlm___cls"], identifyingPrefix: "cls.predictions."),
        KerasModelClass(
            name: "tf_bert_for_sequence_classification", layerNames: ["bert", "classifier"],
            identifyingPrefix: "classifier."),
        KerasModelClass(name: "tf_bert_model", layerNames: ["bert"], identifyingPrefix: nil),
    ]
}

extension ModelArchitecture {
    public static let bertModel = ModelArchitecture(declaring: "BertModel")
    public static let bertForMaskedLM = ModelArchitecture(declaring: "BertForMaskedLM")
    public static let bertForSequenceClassification = ModelArchitecture(declaring: "BertForSequenceClassification")
}
