// GPT-2's config.json (transformers `GPT2Config`), FORMATS.md §4.5.
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
    public init(vocabularySize: Int = 50257, hiddenSize: Int = 768, layerCount: Int = 12, headCount: Int = 12,
                innerSize: Int? = nil, activation: ActivationFunction = .geluTanh, maxPositions: Int = 1024,
                layerNormEpsilon: Float = 1e-5) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.innerSize = innerSize ?? 4 * hiddenSize
        self.activation = activation
        self.maxPositions = maxPositions
        self.layerNormEpsilon = layerNormEpsilon
    }

    public init(from decoder: any Decoder) throws {
        let file = decoder.configurationFile
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let modelType: String = try c.decode("model_type", default: "gpt2")
        guard modelType == "gpt2" else {
            throw ModelError(.configuration, file: file, field: "model_type",
                             "`model_type` is \"\(modelType)\" but a GPT-2 model was asked for")
        }
        vocabularySize = try c.decode("vocab_size", default: 50257)
        hiddenSize = try c.decode("n_embd", "hidden_size", default: 768)
        layerCount = try c.decode("n_layer", "num_hidden_layers", default: 12)
        headCount = try c.decode("n_head", "num_attention_heads", default: 12)
        innerSize = try c.decodeIfPresent(["n_inner"]) ?? 4 * hiddenSize
        activation = try ConfigurationCheck.activation(try c.decode("activation_function", default: "gelu_new"),
                                                       "activation_function", file: file)
        maxPositions = try c.decode("n_positions", "max_position_embeddings", "n_ctx", default: 1024)
        layerNormEpsilon = try c.decode("layer_norm_epsilon", default: 1e-5)
        scaleAttentionWeights = try c.decode("scale_attn_weights", default: true)
        scaleAttentionByInverseLayerIndex = try c.decode("scale_attn_by_inverse_layer_idx", default: false)
        reorderAndUpcastAttention = try c.decode("reorder_and_upcast_attn", default: false)
        tieWordEmbeddings = try c.decode("tie_word_embeddings", default: true)
        bosTokenId = try c.decode("bos_token_id", default: 50256)
        eosTokenId = try c.decode("eos_token_id", default: 50256)
        architectures = try c.decode("architectures", default: [])
        if try c.decode("add_cross_attention", default: false) {
            throw ModelError(.configuration, file: file, field: "add_cross_attention",
                             "`add_cross_attention` is true; GPT-2 with cross-attention layers is not supported")
        }
        for (value, field) in [(vocabularySize, "vocab_size"), (hiddenSize, "n_embd"), (layerCount, "n_layer"),
                               (headCount, "n_head"), (innerSize, "n_inner"), (maxPositions, "n_positions")] {
            try ConfigurationCheck.positive(value, field, file: file)
        }
        try ConfigurationCheck.divisible(hidden: hiddenSize, heads: headCount, hiddenField: "n_embd",
                                         headsField: "n_head", file: file)
    }

    /// Decodes `json` (a parsed `config.json`).
    /// - Throws: `ModelError(.configuration)` naming `file` and the field.
    public static func decoded(from json: JSONValue, file: String) throws -> GPT2Configuration {
        try decodeConfiguration(GPT2Configuration.self, from: json, file: file)
    }
}
