// The GPT-2 family: its names (docs/FORMATS.md §3.3, §4.2, §4.3), how it is recognised, and its classes.
import Checkpoints
import KeyMaps
import TensorCore

/// GPT-2 (`model_type` `gpt2`): `GPT2Model` and `GPT2LMHeadModel`.
public enum GPT2Family: ModelFamily {
    public static let modelType = "gpt2"

    public static var models: [any PretrainedModel.Type] { [GPT2Model.self, GPT2LMHeadModel.self] }

    /// GPT-2 configs are recognised by `n_embd` when they lack `model_type`.
    public static func recognizes(config: JSONValue) -> Bool { config["n_embd"] != nil }

    /// transformers ≈ 4.17 saved the causal-mask buffers `attn.bias` and `attn.masked_bias`.
    public static func persists(buffer template: String, profile: StateDictProfile) -> Bool {
        profile == .legacy && (template.hasSuffix(".attn.bias") || template.hasSuffix(".attn.masked_bias"))
    }

    /// `attn.bias`: the lower-triangular ones `[1, 1, P, P]` (f32); `attn.masked_bias`: −1e4.
    public static func bufferValue(_ key: String, positions P: Int) -> Tensor? {
        if key.hasSuffix("attn.masked_bias") { return Tensor([-1e4], shape: []) }
        guard key.hasSuffix("attn.bias") else { return nil }
        var v = [Float](repeating: 0, count: P * P)
        for i in 0..<P { for j in 0...i { v[i * P + j] = 1 } }
        return Tensor(v, shape: [1, 1, P, P])
    }

    /// The base model (`transformer.` prefix) and the tied LM head, in state-dict order: the causal-mask buffers of
    /// older files (§4.3) sit between `ln_1` and `attn.c_attn`, where those versions saved them.
    public static var keyMap: KeyMap {
        var rules: [KeyRule] = [
            .map("transformer.wte.weight", "transformer/wte/weight:0"),
            .map("transformer.wte.weight", "transformer/wte/embeddings:0", readOnly: true),
            .map("transformer.wpe.weight", "transformer/wpe/embeddings:0"),
        ]
        let (block, tfBlock) = ("transformer.h.{i}", "transformer/h_._{i}")
        rules += KeyRule.layers([(.layerNorm, "ln_1")], pytorch: block, tf: tfBlock)
        rules.append(KeyRule(pytorch: "\(block).attn.bias", tf: nil, action: .drop))
        rules.append(KeyRule(pytorch: "\(block).attn.masked_bias", tf: nil, action: .drop))
        rules += KeyRule.layers(
            [
                (.conv1D, "attn.c_attn"), (.conv1D, "attn.c_proj"), (.layerNorm, "ln_2"), (.conv1D, "mlp.c_fc"),
                (.conv1D, "mlp.c_proj"),
            ], pytorch: block, tf: tfBlock)
        rules += KeyRule.layers([(.layerNorm, "ln_f")], pytorch: "transformer", tf: "transformer")
        rules.append(
            KeyRule(pytorch: "lm_head.weight", tf: nil, action: .tie(to: "transformer.wte.weight", when: "lm_head")))
        return KeyMap(
            family: modelType, basePrefix: "transformer.",
            headPrefixes: ["lm_head.", "score.", "multiple_choice_head."],
            rules: rules, signatureKeys: ["wte.weight"], tfRoots: ["transformer"],
            // The LM head adds only a tied weight, so every GPT-2 checkpoint can be written as the LM-head model.
            kerasClasses: [
                KerasModelClass(name: "tfgp_t2lm_head_model", layerNames: ["transformer"], identifyingPrefix: nil)
            ])
    }
}

extension ModelArchitecture {
    public static let gpt2Model = ModelArchitecture(declaring: "GPT2Model")
    public static let gpt2LMHeadModel = ModelArchitecture(declaring: "GPT2LMHeadModel")
}

extension GPT2Configuration: ModelConfiguration {}

extension GPT2Model: PretrainedModel, TransformerStack {
    public static var family: any ModelFamily.Type { GPT2Family.self }
    public static var architecture: ModelArchitecture { .gpt2Model }
    public static var keyLayout: KeyLayout {
        KeyLayout(basePrefix: .strip, ignoredPrefixes: ["lm_head.", "score.", "multiple_choice_head."])
    }

    public func run(_ inputs: ModelInputs, hiddenStates: Bool) throws -> [NamedOutput] {
        let out = try self(inputs, outputHiddenStates: hiddenStates)
        return out.namedOutputs(head: [])
    }

    public var base: any TransformerStack { self }

    public var layerCount: Int { blocks.count }
    public var vocabularySize: Int { tokenEmbeddings.count }

    public var firstBlockProjections: [Linear] {
        blocks.first.map { [$0.cAttn, $0.attnProjection, $0.cFc, $0.mlpProjection] } ?? []
    }

    public func lastHiddenState(_ inputs: ModelInputs) throws -> Activations { try self(inputs).lastHiddenState }
}

extension GPT2LMHeadModel: PretrainedModel {
    public static var family: any ModelFamily.Type { GPT2Family.self }
    public static var architecture: ModelArchitecture { .gpt2LMHeadModel }
    public static var keyLayout: KeyLayout {
        KeyLayout(basePrefix: .add, ignoredPrefixes: ["score.", "multiple_choice_head."])
    }

    public func run(_ inputs: ModelInputs, hiddenStates: Bool) throws -> [NamedOutput] {
        let out = try transformer(inputs, outputHiddenStates: hiddenStates)
        return out.namedOutputs(head: [NamedOutput(name: "logits", tensor: logits(out.lastHiddenState).tensor)])
    }

    public var base: any TransformerStack { transformer }
}

extension GPT2ModelOutput {
    /// `last_hidden_state`, the head's outputs, then `hidden_states.{i}`.
    func namedOutputs(head: [NamedOutput]) -> [NamedOutput] {
        [NamedOutput(name: "last_hidden_state", tensor: lastHiddenState.tensor)] + head
            + hiddenStates.enumerated().map { NamedOutput(name: "hidden_states.\($0)", tensor: $1.tensor) }
    }
}
