// From `config.json` + an archive to a runnable model: choosing the architecture, normalising keys, building,
// verifying that every key was used, and running with named outputs.
import Checkpoints
import TensorCore

/// The architectures this build runs, named as transformers names the classes.
public enum ModelArchitecture: String, Sendable, CaseIterable {
    case bertModel = "BertModel"
    case bertForMaskedLM = "BertForMaskedLM"
    case bertForSequenceClassification = "BertForSequenceClassification"
    case gpt2Model = "GPT2Model"
    case gpt2LMHeadModel = "GPT2LMHeadModel"

    /// `bert` or `gpt2`.
    public var modelType: String { isBert ? "bert" : "gpt2" }
    var isBert: Bool { self == .bertModel || self == .bertForMaskedLM || self == .bertForSequenceClassification }

    /// How this architecture's keys are named (FORMATS.md §4.1–4.2, §4.4).
    public var keyLayout: KeyLayout {
        switch self {
        case .bertModel:
            return KeyLayout(
                basePrefix: "bert", hasHeads: false, headPrefixes: ["cls.", "classifier."],
                ignoredPrefixes: ["cls.", "classifier."])
        case .bertForMaskedLM:
            return KeyLayout(
                basePrefix: "bert", hasHeads: true, headPrefixes: ["cls.", "classifier."],
                ignoredPrefixes: ["bert.pooler.", "cls.seq_relationship.", "classifier."])
        case .bertForSequenceClassification:
            return KeyLayout(
                basePrefix: "bert", hasHeads: true, headPrefixes: ["cls.", "classifier."], ignoredPrefixes: ["cls."])
        case .gpt2Model:
            return KeyLayout(
                basePrefix: "transformer", hasHeads: false,
                headPrefixes: ["lm_head.", "score.", "multiple_choice_head."],
                ignoredPrefixes: ["lm_head.", "score.", "multiple_choice_head."])
        case .gpt2LMHeadModel:
            return KeyLayout(
                basePrefix: "transformer", hasHeads: true,
                headPrefixes: ["lm_head.", "score.", "multiple_choice_head."],
                ignoredPrefixes: ["score.", "multiple_choice_head."])
        }
    }

    /// The architecture a config asks for: the first of `architectures` this build knows (BertForPreTraining
    /// runs as BertModel), else the base model of `model_type`.
    /// - Throws: `ModelError(.configuration)` for an unknown `model_type` or only unknown architectures.
    public static func inferred(from config: JSONValue, file: String) throws -> ModelArchitecture {
        let type = config["model_type"]?.stringValue
        var names: [String] = []
        if case .array(let list)? = config["architectures"] { names = list.compactMap(\.stringValue) }
        if let known = names.lazy.compactMap(ModelArchitecture.init(rawValue:)).first { return known }
        // The Hub's bert-base-* are BertForPreTraining (§4.1): run as the base model, as AutoModel does;
        // the pre-training heads' keys are dropped and listed.
        if names.contains("BertForPreTraining") { return .bertModel }
        if !names.isEmpty {
            throw ModelError(
                .configuration, file: file, field: "architectures",
                "`architectures` is \(names) and none of them is supported (\(allCases.map(\.rawValue).joined(separator: ", "))); pass --architecture"
            )
        }
        // Google's original bert_config.json has no model_type; GPT-2 configs are recognised by `n_embd`.
        let resolved = type ?? (config["n_embd"] != nil ? "gpt2" : config["hidden_size"] != nil ? "bert" : nil)
        switch resolved {
        case "bert": return .bertModel
        case "gpt2": return .gpt2Model
        default:
            throw ModelError(
                .configuration, file: file, field: "model_type",
                "`model_type` is \(type.map { "\"\($0)\"" } ?? "absent"); only bert and gpt2 are supported")
        }
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

/// A built, verified model of one of the supported architectures.
public enum LoadedModel: Sendable {
    case bert(BertModel)
    case bertForMaskedLM(BertForMaskedLM)
    case bertForSequenceClassification(BertForSequenceClassification)
    case gpt2(GPT2Model)
    case gpt2LMHead(GPT2LMHeadModel)

    /// The architecture built.
    public var architecture: ModelArchitecture {
        switch self {
        case .bert: return .bertModel
        case .bertForMaskedLM: return .bertForMaskedLM
        case .bertForSequenceClassification: return .bertForSequenceClassification
        case .gpt2: return .gpt2Model
        case .gpt2LMHead: return .gpt2LMHeadModel
        }
    }

    /// Runs the model and names its outputs as transformers does: `last_hidden_state` `[B, T, C]`,
    /// `pooler_output` `[B, C]` with a pooler, `logits` with a head (`[B, T, V]`, or `[B, L]` for
    /// classification), and with `hiddenStates` `hidden_states.0…L`.
    /// - Throws: `ModelError(.input)` for inputs outside the model's tables.
    public func run(_ inputs: ModelInputs, hiddenStates: Bool = false) throws -> [NamedOutput] {
        var outputs: [NamedOutput] = []
        func add(_ name: String, _ values: [Float], _ shape: [Int]) {
            outputs.append(NamedOutput(name: name, tensor: Tensor(values, shape: Shape(shape))))
        }
        func addBert(_ out: BertModelOutput) {
            add(
                "last_hidden_state", out.lastHiddenState.values,
                [inputs.batch, inputs.length, out.lastHiddenState.width])
            if let pooled = out.poolerOutput {
                add("pooler_output", pooled, [inputs.batch, out.lastHiddenState.width])
            }
        }
        var states: [Activations] = []
        switch self {
        case .bert(let model):
            let out = try model(inputs, outputHiddenStates: hiddenStates)
            addBert(out)
            states = out.hiddenStates
        case .bertForMaskedLM(let model):
            let out = try model.bert(inputs, outputHiddenStates: hiddenStates)
            addBert(out)
            outputs.append(NamedOutput(name: "logits", tensor: model.logits(out.lastHiddenState).tensor))
            states = out.hiddenStates
        case .bertForSequenceClassification(let model):
            let out = try model.bert(inputs, outputHiddenStates: hiddenStates)
            addBert(out)
            add(
                "logits", model.logits(pooled: out.poolerOutput ?? [], batch: inputs.batch),
                [inputs.batch, model.classifier.outputs])
            states = out.hiddenStates
        case .gpt2(let model):
            let out = try model(inputs, outputHiddenStates: hiddenStates)
            outputs.append(NamedOutput(name: "last_hidden_state", tensor: out.lastHiddenState.tensor))
            states = out.hiddenStates
        case .gpt2LMHead(let model):
            let out = try model.transformer(inputs, outputHiddenStates: hiddenStates)
            outputs.append(NamedOutput(name: "last_hidden_state", tensor: out.lastHiddenState.tensor))
            outputs.append(NamedOutput(name: "logits", tensor: model.logits(out.lastHiddenState).tensor))
            states = out.hiddenStates
        }
        for (i, s) in states.enumerated() { outputs.append(NamedOutput(name: "hidden_states.\(i)", tensor: s.tensor)) }
        return outputs
    }
}

/// What loading did besides building the model: renames, dropped buffers and ignored head keys.
public struct LoadReport: Sendable {
    public let architecture: ModelArchitecture
    public let notes: [String]
    public let droppedBuffers: [String]
    /// Keys of heads the architecture lacks (FORMATS.md §4.4 step 6), dropped.
    public let ignoredKeys: [String]
}

/// Builds models from a parsed `config.json` and a `TensorArchive`.
public enum ModelLoader {
    /// Loads `architecture` (or the one `config` names) from `archive`.
    /// - Parameters:
    ///   - config: the parsed `config.json`.
    ///   - configFile: its path, for error messages.
    /// - Throws: `ModelError(.configuration)` for a bad config; `ModelError(.weights)` listing every missing,
    ///   unexpected and mis-shaped key; `ModelError(.system)` without OpenBLAS; `CheckpointError` for unreadable data.
    public static func load(
        config: JSONValue, configFile: String, archive: any TensorArchive,
        architecture requested: ModelArchitecture? = nil
    ) throws -> (model: LoadedModel, report: LoadReport) {
        let architecture = try requested ?? ModelArchitecture.inferred(from: config, file: configFile)
        try Kernels.loadBLAS()
        let store = try WeightStore(archive: archive, layout: architecture.keyLayout)
        let root = store.root
        let model: LoadedModel
        if architecture.isBert {
            let c = try BertConfiguration.decoded(from: config, file: configFile)
            switch architecture {
            case .bertForMaskedLM: model = .bertForMaskedLM(try BertForMaskedLM(root, configuration: c))
            case .bertForSequenceClassification:
                model = .bertForSequenceClassification(try BertForSequenceClassification(root, configuration: c))
            default:
                // A bare BertModel keeps its pooler when the file has one (HF's default add_pooling_layer=True).
                model = .bert(
                    try BertModel(
                        root, configuration: c, addPoolingLayer: root["pooler"].exists || !root["embeddings"].exists))
            }
        } else {
            let c = try GPT2Configuration.decoded(from: config, file: configFile)
            model =
                architecture == .gpt2LMHeadModel
                ? .gpt2LMHead(try GPT2LMHeadModel(root, configuration: c))
                : .gpt2(try GPT2Model(root, configuration: c))
        }
        try store.verifyAllConsumed(model: architecture.rawValue)
        var notes = store.keys.notes
        if case .bert(let m) = model, m.pooler == nil {
            notes.append("the file has no pooler.dense weights: built without a pooler")
        }
        if !store.ignoredKeys.isEmpty {
            notes.append(
                "ignored \(store.ignoredKeys.count) keys of other heads: \(store.ignoredKeys.joined(separator: ", "))")
        }
        return (
            model,
            LoadReport(
                architecture: architecture, notes: notes, droppedBuffers: store.keys.droppedBuffers,
                ignoredKeys: store.ignoredKeys)
        )
    }
}
