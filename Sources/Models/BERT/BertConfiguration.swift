// BERT's config.json (transformers `BertConfig`), docs/FORMATS.md §4.5.
import Checkpoints

/// The fields of a BERT `config.json` the forward pass needs, with transformers' class defaults.
///
/// Decoding validates: `hidden_size` divisible by `num_attention_heads`, absolute position embeddings only,
/// no decoder / cross-attention variants, a known activation.
public struct BertConfiguration: Decodable, Sendable, Equatable {
    public var vocabularySize = 30522
    public var hiddenSize = 768
    public var layerCount = 12
    public var headCount = 12
    public var intermediateSize = 3072
    public var activation = ActivationFunction.gelu
    public var maxPositions = 512
    public var typeVocabularySize = 2
    public var layerNormEpsilon: Float = 1e-12
    public var padTokenId = 0
    /// `len(id2label)`, else `num_labels`, else 2.
    public var labelCount = 2
    public var tieWordEmbeddings = true
    /// `architectures` (e.g. `["BertForMaskedLM"]`); empty when absent.
    public var architectures: [String] = []

    /// The size of one attention head.
    public var headSize: Int { hiddenSize / headCount }

    /// A configuration with the given sizes and defaults elsewhere (for tests and programmatic models).
    public init(
        vocabularySize: Int = 30522, hiddenSize: Int = 768, layerCount: Int = 12, headCount: Int = 12,
        intermediateSize: Int = 3072, activation: ActivationFunction = .gelu, maxPositions: Int = 512,
        typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12, labelCount: Int = 2
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.activation = activation
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.labelCount = labelCount
    }

    /// The `config.json` field names.
    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps"
        case padTokenId = "pad_token_id"
        case tieWordEmbeddings = "tie_word_embeddings"
        case architectures
        case id2label
        case numLabels = "num_labels"
        case positionEmbeddingType = "position_embedding_type"
        case isDecoder = "is_decoder"
        case addCrossAttention = "add_cross_attention"
    }

    public init(from decoder: any Decoder) throws {
        let file = decoder.configurationFile
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try ConfigurationCheck.modelType(try c.decode(.modelType, default: "bert"), is: "bert", "BERT", file: file)
        vocabularySize = try c.decode(.vocabSize, default: 30522)
        hiddenSize = try c.decode(.hiddenSize, default: 768)
        layerCount = try c.decode(.numHiddenLayers, default: 12)
        headCount = try c.decode(.numAttentionHeads, default: 12)
        intermediateSize = try c.decode(.intermediateSize, default: 3072)
        activation = try ConfigurationCheck.activation(
            try c.decode(.hiddenAct, default: "gelu"), "hidden_act", file: file)
        maxPositions = try c.decode(.maxPositionEmbeddings, default: 512)
        typeVocabularySize = try c.decode(.typeVocabSize, default: 2)
        layerNormEpsilon = try ConfigurationCheck.epsilon(
            try c.decode(.layerNormEps, default: 1e-12), "layer_norm_eps", file: file)
        padTokenId = try c.decode(.padTokenId, default: 0)
        tieWordEmbeddings = try c.decode(.tieWordEmbeddings, default: true)
        architectures = try c.decode(.architectures, default: [])
        let labels: [String: String]? = try c.firstPresent([.id2label])
        labelCount =
            try ConfigurationCheck.distinctKeyCount(decoder.configurationJSON, "id2label") ?? labels?.count
            ?? c.decode(.numLabels, default: 2)

        let positions: String = try c.decode(.positionEmbeddingType, default: "absolute")
        guard positions == "absolute" else {
            throw ModelError(
                .configuration, file: file, field: "position_embedding_type",
                "`position_embedding_type` is \"\(positions)\"; only \"absolute\" position embeddings are supported")
        }
        if try c.decode(.isDecoder, default: false) {
            throw ModelError(
                .configuration, file: file, field: "is_decoder",
                "`is_decoder` is true; BERT as a causal decoder is not supported")
        }
        if try c.decode(.addCrossAttention, default: false) {
            throw ModelError(
                .configuration, file: file, field: "add_cross_attention",
                "`add_cross_attention` is true; cross-attention layers are not supported")
        }
        try ConfigurationCheck.sizes(sizes, weights: decoder.weightShapes, file: file)
        try ConfigurationCheck.divisible(
            hidden: hiddenSize, heads: headCount, hiddenField: "hidden_size",
            headsField: "num_attention_heads", file: file)
    }

    /// Decodes `json` (a parsed `config.json`).
    /// - Parameter weights: the shapes of the weights the config is for; its sizes are checked against them before
    ///   anything else is.
    /// - Throws: `ModelError(.configuration)` naming `file` and the field; `ModelError(.weights)` when the config
    ///   and the weights disagree on a size.
    public static func decoded(from json: JSONValue, file: String, weights: WeightShapes? = nil) throws
        -> BertConfiguration
    {
        try decodeConfiguration(BertConfiguration.self, from: json, file: file, weights: weights)
    }
}

extension BertConfiguration {
    /// The largest size each field may name: far above every released BERT (and most larger models), so that no
    /// product of sizes overflows and a config cannot ask for absurd allocations.
    public enum Limits {
        /// `num_hidden_layers`; the largest models have about 130.
        public static let layers = 1024
        /// `num_attention_heads`.
        public static let heads = 4096
        /// `hidden_size`; the largest models use about 25 000.
        public static let hidden = 1 << 20
        /// `intermediate_size`.
        public static let intermediate = 1 << 22
        /// `vocab_size`; the largest use about 260 000.
        public static let vocabulary = 1 << 24
        /// `max_position_embeddings`.
        public static let positions = 1 << 24
        /// `type_vocab_size`; BERT uses 2.
        public static let tokenTypes = 1024
        /// `num_labels` (or the keys of `id2label`).
        public static let labels = 1 << 20
    }

    /// Every size the config names, with its limit and the tensor that shows it (docs/FORMATS.md §4.1): the token
    /// embeddings `[vocab_size, hidden_size]`, the blocks `encoder.layer.{i}`, the first block's intermediate
    /// dense `[intermediate_size, hidden_size]`, the position and token-type tables, the classifier `[labels, H]`.
    public var sizes: [ConfigurationSize] {
        let words = "embeddings.word_embeddings.weight"
        return [
            ConfigurationSize(
                "vocab_size", vocabularySize, limit: Limits.vocabulary, measure: .dimension(words, axis: 0)),
            ConfigurationSize("hidden_size", hiddenSize, limit: Limits.hidden, measure: .dimension(words, axis: 1)),
            ConfigurationSize("num_hidden_layers", layerCount, limit: Limits.layers, measure: .blocks),
            ConfigurationSize("num_attention_heads", headCount, limit: Limits.heads, measure: nil),
            ConfigurationSize(
                "intermediate_size", intermediateSize, limit: Limits.intermediate,
                measure: .dimension("encoder.layer.0.intermediate.dense.weight", axis: 0)),
            ConfigurationSize(
                "max_position_embeddings", maxPositions, limit: Limits.positions,
                measure: .dimension("embeddings.position_embeddings.weight", axis: 0)),
            ConfigurationSize(
                "type_vocab_size", typeVocabularySize, limit: Limits.tokenTypes,
                measure: .dimension("embeddings.token_type_embeddings.weight", axis: 0)),
            ConfigurationSize(
                "num_labels", labelCount, limit: Limits.labels, measure: .dimension("classifier.weight", axis: 0)),
        ]
    }
}
