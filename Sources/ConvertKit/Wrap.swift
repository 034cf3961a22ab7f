// `wrap`: a pretrained BERT or GPT-2 becomes an RMT checkpoint the reference PyTorch code loads strictly.
import Checkpoints
import Foundation
import KeyMaps
import Models
import RMT
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
    public var export = RMTExportOptions()

    public init(memoryTokens: Int) { self.memoryTokens = memoryTokens }
}

/// What `wrap` wrote.
public struct WrapSummary: Encodable, Sendable {
    public let output: String
    public let variant: String
    public let memoryTokens: Int
    public let segmentSize: Int
    public let inputSize: Int
    public let tensorCount: Int
    public let files: [String]
    public let memoryInit: MemoryInit
    public let initialisedTensors: [String]
    public let notes: [String]

    enum CodingKeys: String, CodingKey {
        case output, variant, files, notes
        case memoryTokens = "memory_tokens", segmentSize = "segment_size", inputSize = "input_size"
        case tensorCount = "tensor_count", memoryInit = "memory_init", initialisedTensors = "initialised_tensors"
    }

    public var text: String {
        var lines = [
            "wrapped as the \(variant) RMT with \(memoryTokens) memory tokens: segment_size \(segmentSize), input_size \(inputSize), \(tensorCount) tensors"
        ]
        lines.append(
            "memory: \(memoryInit.method)\(memoryInit.std.map { String(format: ", std %.6f", $0) } ?? ""), seed \(memoryInit.seed)"
        )
        if !initialisedTensors.isEmpty { lines.append("initialised: \(initialisedTensors.joined(separator: ", "))") }
        lines += notes.map { "note: \($0)" }
        lines.append("wrote \(output): \(files.joined(separator: ", "))")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Wraps the backbone checkpoint folder `backbone` and writes the RMT folder `output`.
/// - Throws: `CheckpointError`, `ModelError` or `RMTError` naming the file or setting; nothing is left behind.
public func wrap(_ backbone: Checkpoint, output: String, options: WrapOptions) throws -> WrapSummary {
    guard let config = backbone.config, backbone.isFolder else {
        throw CheckpointError(
            .configuration, file: backbone.path,
            "wrap needs a checkpoint folder with config.json (the backbone's Hugging Face config)")
    }
    let configFile = "\(backbone.path)/config.json"
    let modelType = config["model_type"]?.stringValue ?? backbone.architecture ?? "?"
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
    let built =
        variant == .decoder
        ? try wrapDecoder(backbone, config: config, configFile: configFile, options: options)
        : try wrapEncoder(backbone, config: config, configFile: configFile, options: options)
    let files = try writeRMTFolder(
        built.checkpoint, configuration: built.configuration, backboneConfig: built.backboneConfig,
        sideFiles: Checkpoint.tokenizerFileNames.map { ($0, "\(backbone.path)/\($0)") }
            .filter { FileManager.default.fileExists(atPath: $0.1) },
        to: output, options: options.export)
    return WrapSummary(
        output: output, variant: variant.rawValue, memoryTokens: options.memoryTokens,
        segmentSize: built.configuration.segmentSize, inputSize: built.configuration.inputSize,
        tensorCount: try built.checkpoint.stateDict(profile: options.export.profile).tensors.count, files: files,
        memoryInit: built.configuration.memoryInit!, initialisedTensors: built.configuration.initialisedTensors ?? [],
        notes: built.checkpoint.notes)
}

/// A wrapped checkpoint before it is written.
struct WrappedRMT {
    let checkpoint: RMTCheckpoint
    let configuration: RMTConfiguration
    let backboneConfig: JSONValue
}

/// The backbone's tensors under the names `model` uses (its family's normalisation), as float32.
func normalizedBackbone(_ backbone: Checkpoint, as model: any PretrainedModel.Type) throws -> (
    tensors: [String: Tensor], notes: [String]
) {
    let keys = KeySanitizer(map: model.family.keyMap, basePrefix: model.keyLayout.basePrefix)
        .sanitize(backbone.archive.tensorNames)
    guard keys.collisions.isEmpty else {
        throw ModelError(
            .weights, file: backbone.weightsPath, field: keys.collisions.first,
            "key names collide after normalisation: \(keys.collisions.joined(separator: "; ")); remove one of each pair"
        )
    }
    var tensors: [String: Tensor] = [:]
    for (name, original) in keys.sources {
        let t = try backbone.archive.tensor(named: original)
        tensors[name] = t.dtype.isCastableFloat ? try t.converted(to: .f32) : t
    }
    var notes = keys.notes
    let halves = backbone.archive.tensorInfos.filter { $0.dtype == .f16 || $0.dtype == .bf16 }.count
    if halves > 0 { notes.append("converted \(halves) f16/bf16 tensors to float32") }
    return (tensors, notes)
}

func wrapDecoder(_ backbone: Checkpoint, config: JSONValue, configFile: String, options: WrapOptions) throws
    -> WrappedRMT
{
    let gpt2 = try GPT2Configuration.decoded(from: config, file: configFile)
    var (tensors, notes) = try normalizedBackbone(backbone, as: GPT2LMHeadModel.self)
    let m = options.memoryTokens, H = gpt2.hiddenSize, P = gpt2.maxPositions
    let n = options.segmentSize ?? (options.inputSize.map { $0 - 2 * m } ?? P - 2 * m)
    if let input = options.inputSize, input != n + 2 * m {
        throw RMTError(
            "input-size",
            "the decoder's input_size is segment_size + 2m = \(n + 2 * m), not \(input); pass only one of --segment-size / --input-size"
        )
    }
    guard let wte = tensors["transformer.wte.weight"] else {
        throw CheckpointError(
            .corrupt, file: backbone.weightsPath, tensor: "transformer.wte.weight",
            "the GPT-2 checkpoint has no token embeddings")
    }
    if tensors["lm_head.weight"] == nil { tensors["lm_head.weight"] = wte }
    let order = RMTStateDict.gpt2LMHeadKeys(layers: gpt2.layerCount, profile: .current)
    let unexpected = tensors.keys.filter { !order.contains($0) }.sorted()
    if !unexpected.isEmpty {
        notes.append("left out keys GPT2LMHeadModel does not have: \(unexpected.joined(separator: ", "))")
    }
    let backboneTensors = order.compactMap { key in tensors[key].map { (key, $0) } }
    // Build the model once: every key present with the right shape, ties consistent, n + 2m ≤ P.
    let (lm, _) = try ModelLoader.load(
        GPT2LMHeadModel.self, config: config, configFile: configFile,
        archive: MemoryArchive(backboneTensors, path: backbone.weightsPath))
    let std = standardDeviation(lm.tokenEmbeddingTable)
    var generator = SeededGenerator(seed: options.seed)
    let memory = generator.normals(count: m * H, standardDeviation: std)
    _ = try DecoderRMT(
        backbone: lm, memory: memory, memoryTokens: m, segmentSize: n, alignment: options.alignment ?? .left)
    var configuration = RMTConfiguration(
        variant: .decoder, numMemTokens: m, segmentSize: n, inputSize: n + 2 * m,
        maxNSegments: options.maxSegments, segmentAlignment: options.alignment ?? .left,
        backboneModelType: "gpt2", backboneArchitecture: "GPT2LMHeadModel",
        backboneVocabSize: gpt2.vocabularySize, stateDictProfile: options.export.profile,
        writtenBy: "rmt-convert \(rmtConvertVersion)")
    configuration.k2 = options.k2
    configuration.memoryInit = MemoryInit(method: "randn_x_wte_std", std: std, seed: options.seed)
    try configuration.validate()
    let checkpoint = RMTCheckpoint(
        variant: .decoder, memoryTokens: m, backbone: backboneTensors,
        memory: Tensor(memory, shape: [m, H]), clsID: nil, sepID: nil, notes: notes)
    return WrappedRMT(checkpoint: checkpoint, configuration: configuration, backboneConfig: config)
}
