// `wrap`: a pretrained GPT-2 becomes the decoder RMT, a BERT the encoder RMT, in memory; `save(to:options:)`
// writes it in the reference's layout (docs/RMT.md §5.7).
import Checkpoints
import KeyMaps
import Models
import TensorCore

/// What `wrap` should build.
public struct WrapOptions: Sendable {
    /// `m`, the number of memory tokens.
    public var memoryTokens: Int
    /// nil: decoder for GPT-2, encoder for BERT.
    public var variant: RMTVariant?
    /// Decoder: tokens per segment (default `n_positions − 2m`).
    public var segmentSize: Int?
    /// Rows per segment: decoder `n + 2m`; encoder default `min(512, max_position_embeddings)`.
    public var inputSize: Int?
    /// `K`: required for the encoder; the decoder uses it only for `k2`.
    public var maxSegments: Int?
    /// Encoder: classifier labels when the backbone has no classifier (default: the config's, else 2).
    public var numLabels: Int?
    public var alignment: SegmentAlignment?
    /// Decoder BPTT truncation (−1 = full).
    public var k2 = -1
    /// Seeds the memory (and any initialised head) through `SeededGenerator`: same seed, same bytes.
    public var seed: UInt64 = 0
    /// How the folder is written (its state-dict profile is recorded in `rmt_config.json`).
    public var export = RMTExportOptions()

    public init(memoryTokens: Int) { self.memoryTokens = memoryTokens }
}

extension RMTModel {
    /// Wraps the backbone checkpoint folder `backbone` (GPT-2 → decoder, BERT → encoder) into an RMT that will be
    /// saved to `output`: memory initialised from the seed, heads added where the reference needs them, the
    /// network built once to check every tensor.
    /// - Throws: `CheckpointError`, `ModelError` or `RMTError` naming the file or setting.
    public static func wrap(_ backbone: Checkpoint, output: String, options: WrapOptions) throws -> RMTModel {
        guard let config = backbone.config, backbone.isFolder else {
            throw CheckpointError(
                .configuration, file: backbone.path,
                "wrap needs a checkpoint folder with config.json (the backbone's Hugging Face config)")
        }
        let configFile = "\(backbone.folder)/config.json"
        let modelType =
            config["model_type"]?.stringValue ?? ModelRegistry.family(recognizing: backbone.archive.tensorNames)?
            .modelType ?? "?"
        let variant = options.variant ?? (modelType == "gpt2" ? .decoder : modelType == "bert" ? .encoder : nil)
        guard let variant, (variant == .decoder && modelType == "gpt2") || (variant == .encoder && modelType == "bert")
        else {
            throw CheckpointError(
                .configuration, file: configFile, tensor: "model_type",
                "model_type \"\(modelType)\" cannot be wrapped as \(options.variant?.rawValue ?? "an RMT"): the decoder wraps gpt2, the encoder bert"
            )
        }
        guard options.memoryTokens >= 1 else {
            throw RMTError("memory-tokens", "must be at least 1, got \(options.memoryTokens)")
        }
        let wrapped =
            variant == .decoder
            ? try wrapDecoder(backbone, config: config, configFile: configFile, options: options)
            : try wrapEncoder(backbone, config: config, configFile: configFile, options: options)
        let side = Checkpoint.tokenizerFileNames.map { ($0, "\(backbone.folder)/\($0)") }.filter { fileExists($0.1) }
        return try RMTModel(
            path: output, configuration: wrapped.configuration, checkpoint: wrapped.checkpoint,
            backboneConfig: wrapped.backboneConfig, configFile: configFile, rmtFile: "\(output)/rmt_config.json",
            sideFiles: side)
    }

    /// The backbone's tensors under the names `model` uses (its family's normalisation), float ones as float32;
    /// keyed by bytes, as the file keys them.
    static func normalizedBackbone(_ backbone: Checkpoint, as model: any PretrainedModel.Type) throws -> (
        tensors: [UTF8Key: Tensor], notes: [String]
    ) {
        let keys = KeySanitizer(map: model.family.keyMap, basePrefix: model.keyLayout.basePrefix)
            .sanitize(backbone.archive.tensorNames)
        guard keys.collisions.isEmpty else {
            throw ModelError(
                .weights, file: backbone.weightsPath, field: keys.collisions.first,
                "key names collide after normalisation: \(keys.collisions.joined(separator: "; ")); remove one of each pair"
            )
        }
        var tensors: [UTF8Key: Tensor] = [:]
        for (name, original) in keys.sources {
            let t = try backbone.archive.tensor(named: original)
            tensors[name] = t.dtype.isCastableFloat ? try t.converted(to: .f32) : t
        }
        var notes = keys.notes
        let halves = backbone.archive.tensorInfos.filter { $0.dtype == .f16 || $0.dtype == .bf16 }.count
        if halves > 0 { notes.append("converted \(halves) f16/bf16 tensors to float32") }
        return (tensors, notes)
    }

    static func wrapDecoder(_ backbone: Checkpoint, config: JSONValue, configFile: String, options: WrapOptions) throws
        -> WrappedBackbone
    {
        let model = DecoderRMTFamily.backbone
        // Checked against the weights' shapes first: nothing (the memory [m, n_embd]) is allocated for sizes the
        // weights do not have.
        let gpt2 = try GPT2Configuration.decoded(
            from: config, file: configFile,
            weights: WeightShapes(backbone.archive, family: model.family, layout: model.keyLayout))
        let m = options.memoryTokens, H = gpt2.hiddenSize, P = gpt2.maxPositions
        let n = options.segmentSize ?? (options.inputSize.map { $0 - 2 * m } ?? P - 2 * m)
        if let input = options.inputSize, input != n + 2 * m {
            throw RMTError(
                "input-size",
                "the decoder's input_size is segment_size + 2m = \(n + 2 * m), not \(input); pass only one of --segment-size / --input-size"
            )
        }
        var (tensors, notes) = try normalizedBackbone(backbone, as: model)
        guard let wte = tensors["transformer.wte.weight"] else {
            throw CheckpointError(
                .corrupt, file: backbone.weightsPath, tensor: "transformer.wte.weight",
                "the GPT-2 checkpoint has no token embeddings")
        }
        if tensors["lm_head.weight"] == nil { tensors["lm_head.weight"] = wte }
        let order = GPT2Family.stateDictKeys(of: model, layers: gpt2.layerCount)
        let known = Set(order.map { UTF8Key($0) })
        let unexpected = tensors.keys.filter { !known.contains($0) }.sorted().map(\.string)
        if !unexpected.isEmpty {
            notes.append("left out keys GPT2LMHeadModel does not have: \(unexpected.joined(separator: ", "))")
        }
        let (memory, record) = MemoryInit.decoderMemory(
            tokenEmbeddings: try wte.floatValues(), count: m * H, seed: options.seed)
        var configuration = RMTConfiguration(
            variant: .decoder, numMemTokens: m, segmentSize: n, inputSize: n + 2 * m,
            maxNSegments: options.maxSegments, segmentAlignment: options.alignment ?? .left,
            backboneModelType: "gpt2", backboneArchitecture: "GPT2LMHeadModel",
            backboneVocabSize: gpt2.vocabularySize, stateDictProfile: options.export.profile,
            writtenBy: "rmt-convert \(rmtConvertVersion)")
        configuration.k2 = options.k2
        configuration.memoryInit = record
        return try WrappedBackbone(
            configuration: configuration, tensors: tensors, order: order, file: backbone.weightsPath,
            memory: Tensor(memory, shape: [m, H]), notes: notes, backboneConfig: config)
    }
}

/// A wrapped backbone before its network is built.
struct WrappedBackbone {
    let checkpoint: RMTCheckpoint
    let configuration: RMTConfiguration
    let backboneConfig: JSONValue

    /// Checks `configuration` and gathers the backbone's `tensors` in the state-dict `order`.
    /// - Throws: `RMTError` for a configuration that breaks the invariants of docs/RMT.md §5.7.
    init(
        configuration: RMTConfiguration, tensors: [UTF8Key: Tensor], order: [String], file: String, memory: Tensor?,
        special: SpecialTokenIDs? = nil, notes: [String], backboneConfig: JSONValue
    ) throws {
        try configuration.validate()
        checkpoint = RMTCheckpoint(
            variant: configuration.variant, memoryTokens: configuration.numMemTokens,
            backbone: MemoryArchive(order.compactMap { key in tensors[UTF8Key(key)].map { (key, $0) } }, path: file),
            memory: memory, clsID: special?.cls, sepID: special?.sep, notes: notes)
        self.configuration = configuration
        self.backboneConfig = backboneConfig
    }
}

/// The rmt-convert version, written into exported checkpoints (`written_by` of `rmt_config.json`).
public let rmtConvertVersion = "0.1.0"
