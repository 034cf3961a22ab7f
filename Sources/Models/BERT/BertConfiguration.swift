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
        typealias Limits = ConfigurationLimits
        for (value, field, limit) in [
            (vocabularySize, "vocab_size", Limits.vocabulary), (hiddenSize, "hidden_size", Limits.hidden),
            (layerCount, "num_hidden_layers", Limits.layers), (headCount, "num_attention_heads", Limits.heads),
            (intermediateSize, "intermediate_size", Limits.intermediate),
            (maxPositions, "max_position_embeddings", Limits.positions),
            (typeVocabularySize, "type_vocab_size", Limits.tokenTypes), (labelCount, "num_labels", Limits.labels),
        ] {
            try ConfigurationCheck.size(value, field, limit: limit, file: file)
        }
        try ConfigurationCheck.divisible(
            hidden: hiddenSize, heads: headCount, hiddenField: "hidden_size",
            headsField: "num_attention_heads", file: file)
    }

    /// Decodes `json` (a parsed `config.json`).
    /// - Throws: `ModelError(.configuration)` naming `file` and the field.
    public static func decoded(from json: JSONValue, file: String) throws -> BertConfiguration {
        try decodeConfiguration(BertConfiguration.self, from: json, file: file)
    }
}
