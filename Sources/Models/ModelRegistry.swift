// The registry of model families, and the architectures (transformers class names) they build.
import Checkpoints
import KeyMaps
import TensorCore

/// Every family this build knows, by `model_type`. Adding a family is a folder plus one line here.
public enum ModelRegistry {
    /// The families, in the order detection tries them.
    public static var families: [any ModelFamily.Type] { [BertFamily.self, GPT2Family.self] }

    /// Every family's name map, for the converter and the HDF5 reader.
    public static var keyMaps: [KeyMap] { families.map { $0.keyMap } }

    /// The family whose `model_type` is `modelType`.
    public static func family(modelType: String) -> (any ModelFamily.Type)? {
        families.first { $0.modelType == modelType }
    }

    /// The family whose names `keys` are (PyTorch names, with or without prefixes), or nil.
    public static func family(recognizing keys: [String]) -> (any ModelFamily.Type)? {
        guard let map = KeyMap.recognizing(keys: keys, among: keyMaps) else { return nil }
        return family(modelType: map.family)
    }

    /// The error loading would give because `config` and the weights of `archive` disagree on a size
    /// (`num_hidden_layers` against the blocks present, `vocab_size` against the rows of the token embeddings, …),
    /// naming both numbers of each; nil when they agree, when no registered family is the config's or the weights',
    /// or when the config fails for another reason first (loading reports that). `inspect` and `convert` show it as
    /// a note; loading refuses it before allocating anything.
    public static func sizeDisagreement(config: JSONValue, configFile: String, archive: any TensorArchive)
        -> ModelError?
    {
        let type = config["model_type"]?.stringValue
        let family =
            type.flatMap(family(modelType:))
            ?? (type == nil
                ? families.first { $0.recognizes(config: config) } ?? family(recognizing: archive.tensorNames) : nil)
        guard let family else { return nil }
        let weights = WeightShapes(archive, family: family)
        func check<M: PretrainedModel>(_: M.Type) -> ModelError? {
            do {
                _ = try M.Configuration.decoded(from: config, file: configFile, weights: weights)
                return nil
            } catch let error as ModelError where error.kind == .weights {
                return error  // decoding gives `.weights` errors for disagreements only
            } catch {
                return nil
            }
        }
        return check(family.models[0])
    }

    /// The model type of `architecture`, or nil when no family builds it.
    static func model(named architecture: String) -> (any PretrainedModel.Type)? {
        for family in families {
            if let model = family.models.first(where: { $0.architecture.rawValue == architecture }) { return model }
        }
        return nil
    }
}

/// A transformers class this build runs (`BertForMaskedLM`, `GPT2LMHeadModel`): the registry's classes only.
public struct ModelArchitecture: RawRepresentable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The class name.
    public let rawValue: String

    /// The architecture named `rawValue`, or nil when no registered family builds it.
    public init?(rawValue: String) {
        guard ModelRegistry.model(named: rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    /// A family's own class, declared in its folder.
    init(declaring name: String) { rawValue = name }

    /// Every class of every family, in registry order.
    public static var allCases: [ModelArchitecture] {
        ModelRegistry.families.flatMap { $0.models.map { $0.architecture } }
    }

    public var description: String { rawValue }

    /// The Swift type that builds this class.
    public var model: any PretrainedModel.Type {
        guard let model = ModelRegistry.model(named: rawValue) else {
            preconditionFailure("\(rawValue) was declared without registering its family")
        }
        return model
    }

    /// The family (`bert`, `gpt2`).
    public var modelType: String { model.family.modelType }

    /// The architecture a config asks for: the first of `architectures` a family builds (or runs as a substitute,
    /// `BertForPreTraining` as `BertModel`), else the base model of `model_type`, else of the family that
    /// recognises a config without one.
    /// - Throws: `ModelError(.configuration)` for an unknown `model_type` or only unknown architectures.
    public static func inferred(from config: JSONValue, file: String) throws -> ModelArchitecture {
        var names: [String] = []
        if case .array(let list)? = config["architectures"] { names = list.compactMap(\.stringValue) }
        if let known = names.lazy.compactMap(ModelArchitecture.init(rawValue:)).first { return known }
        for name in names {
            if let substitute = ModelRegistry.families.lazy.compactMap({ $0.substitutes[name] }).first {
                return substitute
            }
        }
        if !names.isEmpty {
            throw ModelError(
                .configuration, file: file, field: "architectures",
                "`architectures` is \(names) and none of them is supported (\(allCases.map(\.rawValue).joined(separator: ", "))); pass --architecture"
            )
        }
        let type = config["model_type"]?.stringValue
        let family =
            type.flatMap(ModelRegistry.family(modelType:))
            ?? (type == nil ? ModelRegistry.families.first { $0.recognizes(config: config) } : nil)
        guard let family else {
            let known = ModelRegistry.families.map { $0.modelType }
            throw ModelError(
                .configuration, file: file, field: "model_type",
                "`model_type` is \(type.map { "\"\($0)\"" } ?? "absent"); only \(known.dropLast().joined(separator: ", ")) and \(known.last ?? "") are supported"
            )
        }
        return family.models[0].architecture
    }
}

/// One named output of a forward pass: `last_hidden_state`, `pooler_output`, `logits`, `hidden_states.{i}`.
public struct NamedOutput: Sendable {
    public let name: String
    public let tensor: Tensor

    public init(name: String, tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}

/// What loading did besides building the model: renames, dropped buffers and ignored head keys.
public struct LoadReport: Sendable {
    public let architecture: ModelArchitecture
    public let notes: [String]
    public let droppedBuffers: [String]
    /// Keys of heads the architecture lacks (docs/FORMATS.md §4.4 step 6), dropped.
    public let ignoredKeys: [String]
}

/// Builds models from a parsed `config.json` and a `TensorArchive`, through the class's family's names.
public enum ModelLoader {
    /// Loads the class `type` from `archive`: typed, for callers that know what they build.
    /// - Parameters:
    ///   - config: the parsed `config.json`.
    ///   - configFile: its path, for error messages.
    /// - Throws: `ModelError(.configuration)` for a bad config; `ModelError(.weights)` listing every missing,
    ///   unexpected and mis-shaped key; `ModelError(.system)` without OpenBLAS; `CheckpointError` for unreadable data.
    /// The config is checked against the shapes of the weights present before anything is allocated for it: a
    /// config naming 10⁶ layers beside weights holding 6 is refused at once, naming both numbers.
    public static func load<M: PretrainedModel>(
        _ type: M.Type, config: JSONValue, configFile: String, archive: any TensorArchive
    ) throws -> (model: M, report: LoadReport) {
        let store = try WeightStore(archive: archive, map: M.family.keyMap, layout: M.keyLayout)
        let configuration = try M.Configuration.decoded(
            from: config, file: configFile, weights: shapes(of: store, M.self))
        return try build(type, configuration: configuration, store: store)
    }

    /// Loads the class `type` with an already decoded configuration, checked against the weights' shapes first.
    /// - Throws: as `load(_:config:configFile:archive:)`; a disagreement names the weights file.
    public static func load<M: PretrainedModel>(
        _ type: M.Type, configuration: M.Configuration, archive: any TensorArchive
    ) throws -> (model: M, report: LoadReport) {
        let store = try WeightStore(archive: archive, map: M.family.keyMap, layout: M.keyLayout)
        try shapes(of: store, M.self).checkAgreement(with: configuration.sizes, file: archive.path)
        return try build(type, configuration: configuration, store: store)
    }

    /// The shapes of the tensors `M` reads (other heads left out).
    private static func shapes<M: PretrainedModel>(of store: WeightStore, _: M.Type) -> WeightShapes {
        WeightShapes(
            keys: store.keys.sources, archive: store.archive, map: M.family.keyMap,
            ignoring: M.keyLayout.ignoredPrefixes)
    }

    /// Builds `type` from `store`, then reports every missing, unexpected and mis-shaped key at once.
    private static func build<M: PretrainedModel>(
        _ type: M.Type, configuration: M.Configuration, store: WeightStore
    ) throws -> (model: M, report: LoadReport) {
        try Kernels.loadBLAS()
        let model = try M(store.root, configuration: configuration)
        try store.verifyAllConsumed(model: M.architecture.rawValue)
        var notes = store.keys.notes + model.loadNotes
        if !store.ignoredKeys.isEmpty {
            notes.append(
                "ignored \(store.ignoredKeys.count) keys of other heads: \(store.ignoredKeys.joined(separator: ", "))")
        }
        let report = LoadReport(
            architecture: M.architecture, notes: notes, droppedBuffers: store.keys.droppedBuffers,
            ignoredKeys: store.ignoredKeys)
        return (model, report)
    }

    /// Loads `architecture` (or the one `config` names) from `archive`, for callers that run whatever it is.
    /// - Throws: as `load(_:config:configFile:archive:)`.
    public static func load(
        config: JSONValue, configFile: String, archive: any TensorArchive,
        architecture requested: ModelArchitecture? = nil
    ) throws -> (model: any RunnableModel, report: LoadReport) {
        let architecture = try requested ?? ModelArchitecture.inferred(from: config, file: configFile)
        func build<M: PretrainedModel>(_ type: M.Type) throws -> (any RunnableModel, LoadReport) {
            let (model, report) = try load(type, config: config, configFile: configFile, archive: archive)
            return (model, report)
        }
        return try build(architecture.model)
    }
}
