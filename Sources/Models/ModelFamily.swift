// What a model family is and what its models are. A family (BERT, GPT-2) is one folder: its names as data
// (a `KeyMap`), how it is recognised, its state-dict key lists and buffers, and the model types it builds. Nothing
// outside the folder knows a family's names; everything asks `ModelRegistry` (docs/ARCHITECTURE.md).
import Checkpoints
import KeyMaps
import TensorCore

/// A model family, registered by its `model_type` in `ModelRegistry.families`.
public protocol ModelFamily {
    /// `model_type` in `config.json` (`bert`, `gpt2`): the registry's key.
    static var modelType: String { get }
    /// The family's names as data: HF ↔ TF rules in state-dict order, base and head prefixes, buffers (drop rules),
    /// the names that identify it and its Keras classes. The converter (`convert --names`), HDF5 reading and model
    /// loading all use this one map, so what `run` reads and what `convert` writes cannot drift apart.
    static var keyMap: KeyMap { get }
    /// The transformers classes this build runs, the base model first.
    static var models: [any PretrainedModel.Type] { get }
    /// Classes this build runs as another (`BertForPreTraining` as `BertModel`, as `AutoModel` does).
    static var substitutes: [String: ModelArchitecture] { get }
    /// True when a `config.json` without `model_type` is this family's (Google's original `bert_config.json`).
    static func recognizes(config: JSONValue) -> Bool
    /// True when the buffer with key template `template` (a drop rule of `keyMap`) is saved by `profile`'s
    /// transformers version (docs/RMT.md §5.3).
    static func persists(buffer template: String, profile: StateDictProfile) -> Bool
    /// The value of a persistent buffer (`bert.embeddings.position_ids`, GPT-2's `attn.bias`) for a model with
    /// `positions` learned positions, or nil for a key that is not one.
    static func bufferValue(_ key: String, positions: Int) -> Tensor?
}

extension ModelFamily {
    public static var substitutes: [String: ModelArchitecture] { [:] }

    /// The state-dict keys of `model` with `layers` blocks in transformers' order, with the buffers `profile`
    /// saves: the family's rules expanded, restricted to the base model and the heads the class has.
    public static func stateDictKeys(
        of model: any PretrainedModel.Type, layers: Int, profile: StateDictProfile = .current
    ) -> [String] {
        let map = keyMap
        let layout = model.keyLayout
        let keys = map.expandedKeys(layers: layers) { rule in
            let key = rule.pytorch.template
            if layout.ignoredPrefixes.contains(where: { key.hasPrefix($0) }) { return false }
            if map.headPrefixes.contains(where: { key.hasPrefix($0) }), layout.basePrefix != .add { return false }
            return rule.action != .drop || persists(buffer: key, profile: profile)
        }
        guard layout.basePrefix == .strip else { return keys }
        return keys.map { $0.hasPrefix(map.basePrefix) ? String($0.dropFirst(map.basePrefix.count)) : $0 }
    }
}

/// How a model class names its keys within its family: with the base prefix (a model with a head) or without
/// (a bare base model), and the keys of other heads that loading drops with a note (docs/FORMATS.md §4.4 step 6).
public struct KeyLayout: Sendable, Equatable {
    public var basePrefix: BasePrefixRule
    /// Prefixes (after normalisation) of keys this class does not use: other heads, or a pooler it lacks.
    public var ignoredPrefixes: [String]

    public init(basePrefix: BasePrefixRule, ignoredPrefixes: [String]) {
        self.basePrefix = basePrefix
        self.ignoredPrefixes = ignoredPrefixes
    }
}

/// A `config.json` decoded for one family.
public protocol ModelConfiguration: Decodable, Sendable {
    /// Decodes a parsed `config.json`.
    /// - Throws: `ModelError(.configuration)` naming `file` and the field.
    /// - Parameter weights: the shapes of the weights the config is for: its sizes are checked against them
    ///   before anything else, so a config that does not belong to the weights is refused naming both numbers.
    /// - Throws: `ModelError(.configuration)` naming `file` and the field; `ModelError(.weights)` for a size on
    ///   which the config and the weights disagree.
    static func decoded(from json: JSONValue, file: String, weights: WeightShapes?) throws -> Self
    /// `max_position_embeddings` / `n_positions`.
    var maxPositions: Int { get }
    /// Every size the config names, with the most this build accepts and the tensor that shows it.
    var sizes: [ConfigurationSize] { get }
}

/// A model a caller runs without knowing its type: token ids in, outputs named as transformers names them.
public protocol RunnableModel: Sendable {
    /// The transformers class.
    var architecture: ModelArchitecture { get }
    /// Runs the model: `last_hidden_state` `[B, T, C]`, `pooler_output` `[B, C]` with a pooler, `logits` with a
    /// head, and with `hiddenStates` `hidden_states.0…L`.
    /// - Throws: `ModelError(.input)` for inputs outside the model's tables.
    func run(_ inputs: ModelInputs, hiddenStates: Bool) throws -> [NamedOutput]
    /// The transformer stack without its head.
    var base: any TransformerStack { get }
}

extension RunnableModel {
    /// Runs the model without hidden states.
    public func run(_ inputs: ModelInputs) throws -> [NamedOutput] { try run(inputs, hiddenStates: false) }
}

/// A transformers class this build loads: typed loading from a scoped weight store.
public protocol PretrainedModel: RunnableModel {
    associatedtype Configuration: ModelConfiguration
    /// The family the class belongs to.
    static var family: any ModelFamily.Type { get }
    /// The transformers class name.
    static var architecture: ModelArchitecture { get }
    /// How the class's keys are named within its family.
    static var keyLayout: KeyLayout { get }
    /// Builds the model from the checkpoint's root scope (the typed load): each layer asks for its own parameters
    /// by name and shape, as candle's `VarBuilder` does.
    /// - Throws: `ModelError(.weights)` for unreadable data; missing and mis-shaped keys are collected by the
    ///   store and reported together by `ModelLoader`.
    init(_ scope: ParameterScope, configuration: Configuration) throws
    /// What loading decided that the user should know (a `BertModel` built without a pooler).
    var loadNotes: [String] { get }
}

extension PretrainedModel {
    public var architecture: ModelArchitecture { Self.architecture }
    public var loadNotes: [String] { [] }
}

/// The embeddings and blocks of a family's base model (`BertModel`, `GPT2Model`), for benchmarks.
public protocol TransformerStack: Sendable {
    /// The number of blocks.
    var layerCount: Int { get }
    /// Rows of the token-embedding table.
    var vocabularySize: Int { get }
    /// The dense projections of one block, in order: their sizes give the block's FLOPs.
    var firstBlockProjections: [Linear] { get }
    /// The forward pass over token ids: the last layer's states `[B, T, C]`.
    func lastHiddenState(_ inputs: ModelInputs) throws -> Activations
}
