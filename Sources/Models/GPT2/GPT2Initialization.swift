// A fresh GPT-2 language model, initialised as transformers initialises `GPT2LMHeadModel(GPT2Config(...))`
// (`GPT2PreTrainedModel._init_weights`, transformers 4.57.6), drawn from the seeded generator so the same seed
// gives the same bytes on every machine. `rmt-convert init-gpt2` writes it as a Hugging Face folder.
// Λ layers, H hidden, F inner, V vocabulary, P positions.
import Checkpoints
import TensorCore

/// The settings of a new GPT-2 and the tensors transformers' initialisation gives it.
///
/// `_init_weights` draws every Conv1D (`c_attn`, `c_proj`, `c_fc`) weight and both embeddings from
/// normal(0, `initializer_range`), sets biases to 0 and LayerNorm weights to 1 (biases 0), then redraws each
/// `c_proj.weight` (attention and MLP) from normal(0, `initializer_range / √(2Λ)`), GPT-2's scaling of the residual
/// projections. The LM head is tied to `wte` and saved without `lm_head.weight`, as `save_pretrained` saves it.
///
/// Draws: one `SeededGenerator(seed:)`, tensors in state-dict order (`wte`, `wpe`, then per block `c_attn`,
/// `attn.c_proj`, `c_fc`, `mlp.c_proj` weights), each filled row-major with `float32(std · z)`; constant tensors
/// draw nothing. Only the distributions match torch's (its generator is another), not the values.
public struct GPT2Initialization: Sendable, Equatable {
    /// `n_layer` (Λ).
    public var layers: Int
    /// `n_embd` (H).
    public var hidden: Int
    /// `n_head`.
    public var heads: Int
    /// `vocab_size` (V).
    public var vocabularySize: Int
    /// `n_positions` (P).
    public var positions: Int
    /// `n_inner` (F); nil writes `null`, which means 4H.
    public var inner: Int?
    /// `activation_function`, as `config.json` names it.
    public var activation = "gelu_new"
    /// `initializer_range`: σ of the normal draws.
    public var initializerRange = 0.02
    public var seed: UInt64 = 0

    public init(layers: Int, hidden: Int, heads: Int, vocabularySize: Int, positions: Int) {
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.vocabularySize = vocabularySize
        self.positions = positions
    }

    /// The `config.json` transformers' `save_pretrained` writes for `GPT2Config` with these fields: every other
    /// field at `GPT2Config`'s default (bos/eos 50256 included, although nothing here uses them), keys sorted,
    /// without `transformers_version` (transformers did not write it).
    public var configJSON: JSONValue {
        func number(_ value: Int) -> JSONValue { .number(String(value)) }
        let fields: [(String, JSONValue)] = [
            ("activation_function", .string(activation)), ("architectures", .array([.string("GPT2LMHeadModel")])),
            ("attn_pdrop", .number("0.1")), ("bos_token_id", number(50256)), ("dtype", .string("float32")),
            ("embd_pdrop", .number("0.1")), ("eos_token_id", number(50256)),
            ("initializer_range", .number("\(initializerRange)")), ("layer_norm_epsilon", .number("1e-05")),
            ("model_type", .string("gpt2")), ("n_embd", number(hidden)), ("n_head", number(heads)),
            ("n_inner", inner.map(number) ?? .null), ("n_layer", number(layers)), ("n_positions", number(positions)),
            ("reorder_and_upcast_attn", .bool(false)), ("resid_pdrop", .number("0.1")),
            ("scale_attn_by_inverse_layer_idx", .bool(false)), ("scale_attn_weights", .bool(true)),
            ("summary_activation", .null), ("summary_first_dropout", .number("0.1")),
            ("summary_proj_to_labels", .bool(true)), ("summary_type", .string("cls_index")),
            ("summary_use_proj", .bool(true)), ("use_cache", .bool(true)), ("vocab_size", number(vocabularySize)),
        ]
        return .object(fields.map { (key: $0.0, value: $0.1) })
    }

    /// The configuration the written `config.json` decodes to, with every check loading applies.
    /// - Throws: `ModelError(.configuration)` naming the field (a non-positive size, `n_embd` not divisible by
    ///   `n_head`, an activation this build lacks), a non-positive `initializer_range`, or a model over
    ///   `maxParameters`.
    public func configuration() throws -> GPT2Configuration {
        let file = "config.json"
        let c = try GPT2Configuration.decoded(from: configJSON, file: file)
        guard initializerRange > 0, initializerRange.isFinite else {
            throw ModelError(
                .configuration, file: file, field: "initializer_range",
                "`initializer_range` is \(initializerRange) but must be a positive number")
        }
        let (H, F, V, P, Λ) = (c.hiddenSize, c.innerSize, c.vocabularySize, c.maxPositions, c.layerCount)
        // Per block: ln_1 2H, c_attn 3H² + 3H, attn.c_proj H² + H, ln_2 2H, c_fc HF + F, mlp.c_proj FH + H; in
        // Double, so that absurd sizes cannot overflow before they are refused.
        let (h, f) = (Double(H), Double(F))
        let block = 4 * h * h + 2 * h * f + 9 * h + f
        let total = (Double(V) + Double(P)) * h + Double(Λ) * block + 2 * h
        guard total <= Double(GPT2Initialization.maxParameters) else {
            throw ModelError(
                .configuration, file: file, field: "n_embd",
                "the model would have \(Int(total)) parameters, more than the \(GPT2Initialization.maxParameters) a fresh model may have"
            )
        }
        return c
    }

    /// The most parameters a fresh model may have (GPT-2 XL has 1.56 billion).
    public static let maxParameters = 2_000_000_000

    /// σ of the normal draws of `key` (a GPT2LMHeadModel state-dict name), or nil for a constant tensor.
    public func standardDeviation(of key: String) -> Double? {
        if key.hasSuffix(".c_proj.weight") { return initializerRange / (2 * Double(layers)).squareRoot() }
        let drawn = ["wte.weight", "wpe.weight", ".c_attn.weight", ".c_fc.weight"]
        return drawn.contains(where: key.hasSuffix) ? initializerRange : nil
    }

    /// The initialised tensors, float32, in state-dict order, without the tied `lm_head.weight`.
    /// - Throws: as `configuration()`.
    public func weights() throws -> [(name: String, tensor: Tensor)] {
        let c = try configuration()
        let (H, F, V, P) = (c.hiddenSize, c.innerSize, c.vocabularySize, c.maxPositions)
        func shape(of key: String) -> Shape {
            let name = key.split(separator: ".").suffix(2).joined(separator: ".")
            switch name {
            case "wte.weight": return [V, H]
            case "wpe.weight": return [P, H]
            case "c_attn.weight": return [H, 3 * H]  // Conv1D: [in, out]
            case "c_attn.bias": return [3 * H]
            case "c_fc.weight": return [H, F]
            case "c_fc.bias": return [F]
            case "c_proj.weight": return key.contains(".mlp.") ? [F, H] : [H, H]
            default: return [H]  // c_proj.bias, LayerNorm weight and bias
            }
        }
        var generator = SeededGenerator(seed: seed)
        let keys = GPT2Family.stateDictKeys(of: GPT2LMHeadModel.self, layers: c.layerCount).filter {
            $0 != "lm_head.weight"
        }
        return keys.map { key in
            let s = shape(of: key)
            if let std = standardDeviation(of: key) {
                return (key, Tensor(generator.normals(count: s.elementCount, standardDeviation: std), shape: s))
            }
            let one = key.contains(".ln_") && key.hasSuffix(".weight")  // LayerNorm weight 1, every bias 0
            return (key, Tensor([Float](repeating: one ? 1 : 0, count: s.elementCount), shape: s))
        }
    }
}
