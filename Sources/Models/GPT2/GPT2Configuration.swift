// GPT-2's config.json (transformers `GPT2Config`), docs/FORMATS.md §4.5.
import Checkpoints

/// The fields of a GPT-2 `config.json` the forward pass needs, with transformers' class defaults.
///
/// Reads the alternate names transformers maps onto GPT-2's own (`hidden_size` → `n_embd`,
/// `num_hidden_layers` → `n_layer`, `num_attention_heads` → `n_head`, `max_position_embeddings` and the
/// old `n_ctx` → `n_positions`). Rejects cross-attention and a hidden size not divisible by the head count.
public struct GPT2Configuration: Decodable, Sendable, Equatable {
    public var vocabularySize = 50257
    public var hiddenSize = 768
    public var layerCount = 12
    public var headCount = 12
    /// `n_inner`; null or absent means 4·`n_embd`.
    public var innerSize = 3072
    public var activation = ActivationFunction.geluTanh
    public var maxPositions = 1024
    public var layerNormEpsilon: Float = 1e-5
    public var scaleAttentionWeights = true
    public var scaleAttentionByInverseLayerIndex = false
    /// Accepted and ignored: in float32 the reordered, upcast attention computes the same values.
    public var reorderAndUpcastAttention = false
    public var tieWordEmbeddings = true
    public var bosTokenId = 50256
    public var eosTokenId = 50256
    public var architectures: [String] = []

    /// The size of one attention head.
    public var headSize: Int { hiddenSize / headCount }

    /// A configuration with the given sizes and defaults elsewhere (for tests and programmatic models).
    public init(
        vocabularySize: Int = 50257, hiddenSize: Int = 768, layerCount: Int = 12, headCount: Int = 12,
        innerSize: Int? = nil, activation: ActivationFunction = .geluTanh, maxPositions: Int = 1024,
        layerNormEpsilon: Float = 1e-5
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.innerSize = innerSize ?? 4 * hiddenSize
        self.activation = activation
        self.maxPositions = maxPositions
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// The `config.json` field names, alternates included.
    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabSize = "vocab_size"
        case nEmbd = "n_embd"
        case hiddenSize = "hidden_size"
        case nLayer = "n_layer"
        case numHiddenLayers = "num_hidden_layers"
        case nHead = "n_head"
        case numAttentionHeads = "num_attention_heads"
        case nInner = "n_inner"
        case activationFunction = "activation_function"
        case nPositions = "n_positions"
        case maxPositionEmbeddings = "max_position_embeddings"
        case nCtx = "n_ctx"
        case layerNormEpsilon = "layer_norm_epsilon"
        case scaleAttnWeights = "scale_attn_weights"
        case scaleAttnByInverseLayerIdx = "scale_attn_by_inverse_layer_idx"
        case reorderAndUpcastAttn = "reorder_and_upcast_attn"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case architectures
        case addCrossAttention = "add_cross_attention"
    }

    public init(from decoder: any Decoder) throws {
        let file = decoder.configurationFile
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try ConfigurationCheck.modelType(try c.decode(.modelType, default: "gpt2"), is: "gpt2", "GPT-2", file: file)
        vocabularySize = try c.decode(.vocabSize, default: 50257)
        hiddenSize = try c.decode(.nEmbd, .hiddenSize, default: 768)
        layerCount = try c.decode(.nLayer, .numHiddenLayers, default: 12)
        headCount = try c.decode(.nHead, .numAttentionHeads, default: 12)
        let (fourTimesHidden, overflow) = hiddenSize.multipliedReportingOverflow(by: 4)
        innerSize = try c.firstPresent([.nInner]) ?? (overflow ? Int.max : fourTimesHidden)
        activation = try ConfigurationCheck.activation(
            try c.decode(.activationFunction, default: "gelu_new"),
            "activation_function", file: file)
        maxPositions = try c.decode(.nPositions, .maxPositionEmbeddings, .nCtx, default: 1024)
        layerNormEpsilon = try ConfigurationCheck.epsilon(
            try c.decode(.layerNormEpsilon, default: 1e-5), "layer_norm_epsilon", file: file)
        scaleAttentionWeights = try c.decode(.scaleAttnWeights, default: true)
        scaleAttentionByInverseLayerIndex = try c.decode(.scaleAttnByInverseLayerIdx, default: false)
        reorderAndUpcastAttention = try c.decode(.reorderAndUpcastAttn, default: false)
        tieWordEmbeddings = try c.decode(.tieWordEmbeddings, default: true)
        bosTokenId = try c.decode(.bosTokenId, default: 50256)
        eosTokenId = try c.decode(.eosTokenId, default: 50256)
        architectures = try c.decode(.architectures, default: [])
        if try c.decode(.addCrossAttention, default: false) {
            throw ModelError(
                .configuration, file: file, field: "add_cross_attention",
                "`add_cross_attention` is true; GPT-2 with cross-attention layers is not supported")
        }
        try ConfigurationCheck.sizes(sizes, weights: decoder.weightShapes, file: file)
        try ConfigurationCheck.divisible(
            hidden: hiddenSize, heads: headCount, hiddenField: "n_embd",
            headsField: "n_head", file: file)
    }

    /// Decodes `json` (a parsed `config.json`).
    /// - Parameter weights: the shapes of the weights the config is for; its sizes are checked against them before
    ///   anything else is.
    /// - Throws: `ModelError(.configuration)` naming `file` and the field; `ModelError(.weights)` when the config
    ///   and the weights disagree on a size.
    public static func decoded(from json: JSONValue, file: String, weights: WeightShapes? = nil) throws
        -> GPT2Configuration
    {
        try decodeConfiguration(GPT2Configuration.self, from: json, file: file, weights: weights)
    }
}

extension GPT2Configuration {
    /// The largest size each field may name: far above every released GPT-2 (and most larger models), so that no
    /// product of sizes overflows and a config cannot ask for absurd allocations.
    public enum Limits {
        /// `n_layer`; the largest models have about 130.
        public static let layers = 1024
        /// `n_head`.
        public static let heads = 4096
        /// `n_embd`; the largest models use about 25 000.
        public static let hidden = 1 << 20
        /// `n_inner`.
        public static let inner = 1 << 22
        /// `vocab_size`; the largest use about 260 000.
        public static let vocabulary = 1 << 24
        /// `n_positions`.
        public static let positions = 1 << 24
    }

    /// Every size the config names, with its limit and the tensor that shows it (docs/FORMATS.md §4.2): the token
    /// embeddings `wte` `[vocab_size, n_embd]`, the blocks `h.{i}`, the first block's `mlp.c_fc` `[n_embd, n_inner]`
    /// (Conv1D), the positions `wpe` `[n_positions, n_embd]`.
    public var sizes: [ConfigurationSize] {
        [
            ConfigurationSize(
                "vocab_size", vocabularySize, limit: Limits.vocabulary, measure: .dimension("wte.weight", axis: 0)),
            ConfigurationSize("n_embd", hiddenSize, limit: Limits.hidden, measure: .dimension("wte.weight", axis: 1)),
            ConfigurationSize("n_layer", layerCount, limit: Limits.layers, measure: .blocks),
            ConfigurationSize("n_head", headCount, limit: Limits.heads, measure: nil),
            ConfigurationSize(
                "n_inner", innerSize, limit: Limits.inner, measure: .dimension("h.0.mlp.c_fc.weight", axis: 1)),
            ConfigurationSize(
                "n_positions", maxPositions, limit: Limits.positions, measure: .dimension("wpe.weight", axis: 0)),
        ]
    }
}
