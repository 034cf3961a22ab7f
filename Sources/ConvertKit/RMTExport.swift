// Writing RMT folders and exporting RMT checkpoints in the reference's layouts (RMT.md §5.7).
import Checkpoints
import Foundation
import Models
import RMT
import TensorCore

/// How an RMT checkpoint is written.
public struct RMTExportOptions: Sendable {
    /// `safetensors` (tied copies materialised) or `torch` (shared storage).
    public var format: CheckpointFormat = .safetensors
    /// Write `model_best.pth` holding `{'model_state_dict': …, 'iteration': 0, 'epoch': 0}` for the reference
    /// training scripts' `--model_cpt`.
    public var referencePth = false
    public var profile: StateDictProfile = .current
    public var force = false

    public init() {}
}

/// The weights file name for `options`.
func rmtWeightsName(_ options: RMTExportOptions) -> String {
    options.referencePth ? "model_best.pth" : folderWeightsName(options.format)
}

/// Writes `config.json`, `rmt_config.json`, the weights and the tokenizer files into `folder`.
/// - Returns: the file names written.
/// - Throws: `CheckpointError(.alreadyExists)` when a file exists and `force` is off; nothing half-written: on a
///   failure the files this call created, and the folder if it created it, are removed again.
func writeRMTFolder(
    _ checkpoint: RMTCheckpoint, configuration: RMTConfiguration, backboneConfig: JSONValue,
    sideFiles: [(name: String, path: String)], to folder: String, options: RMTExportOptions
) throws -> [String] {
    let weights = rmtWeightsName(options)
    let names = ["config.json", "rmt_config.json", weights] + sideFiles.map(\.name)
    try writingOutputs(names.map { "\(folder)/\($0)" }, force: options.force, folder: folder) {
        try writeRMTWeights(checkpoint, to: "\(folder)/\(weights)", options: options)
        try writeText(backboneConfig.prettyText(sortKeys: true), to: "\(folder)/config.json", overwrite: options.force)
        try writeText(
            String(decoding: try configuration.encoded(), as: UTF8.self), to: "\(folder)/rmt_config.json",
            overwrite: options.force)
        for (name, path) in sideFiles {
            try copyFileAtomically(from: path, to: "\(folder)/\(name)", overwrite: options.force)
        }
    }
    return names
}

/// Writes the reference state dict of `checkpoint` to `path`.
func writeRMTWeights(_ checkpoint: RMTCheckpoint, to path: String, options: RMTExportOptions) throws {
    let (tensors, aliases) = try checkpoint.stateDict(profile: options.profile)
    let sources = tensors.map { TensorSource(name: $0.name, tensor: $0.tensor) }
    if options.referencePth {
        try TorchWriter.write(
            sources.filter { aliases[$0.info.name] == nil }, aliases: aliases, to: path,
            nested: TorchWriter.modelStateDictCheckpoint(iteration: 0, epoch: 0), overwrite: options.force)
        return
    }
    if options.format == .torch {
        // torch shares storage between tied names, as torch.save does.
        var write = WriteOptions(overwrite: options.force)
        write.aliases = aliases
        try ArchiveRegistry.write(
            sources.filter { aliases[$0.info.name] == nil }, format: .torch, to: path, options: write)
    } else {
        // safetensors (and npz / h5) cannot overlap data: tied and aliased keys are full copies (RMT.md §5.7).
        try ArchiveRegistry.write(
            sources, format: options.format, to: path, options: WriteOptions(overwrite: options.force))
    }
}

/// Converts the RMT checkpoint at `source` (a project folder, a reference run directory or `model_best/`) to
/// the folder `destination`: the reference state dict in `options.format`, or `model_best.pth` with
/// `referencePth`; with `unwrap`, a plain backbone checkpoint plus `memory.safetensors` instead.
/// - Throws: `CheckpointError`, `RMTError` or `ModelError`; nothing is half-written.
public func exportRMT(_ source: String, to destination: String, options: RMTExportOptions, unwrap: Bool) throws
    -> ConvertSummary
{
    let start = Date()
    let rmt = try LoadedRMT.open(source)
    var configuration = rmt.configuration
    configuration.stateDictProfile = options.profile
    let files: [String]
    if unwrap {
        files = try writeUnwrapped(rmt, to: destination, options: options)
    } else {
        files = try writeRMTFolder(
            rmt.checkpoint, configuration: configuration, backboneConfig: rmt.backboneConfig,
            sideFiles: rmt.sideFiles, to: destination, options: options)
    }
    let written = files.map { "\(destination)/\($0)" }
    let bytes = written.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    return ConvertSummary(
        source: source, outputs: written,
        format: options.referencePth ? "torch (reference-pth)" : options.format.rawValue,
        tensorCount: try rmt.checkpoint.stateDict(profile: options.profile).tensors.count, bytesWritten: bytes,
        seconds: Date().timeIntervalSince(start), castTensors: 0, copiedFiles: rmt.sideFiles.map(\.name))
}

/// The backbone alone (RMT.md §5.7 "Unwrap"): decoder `memory_cell.model.` keys without the prefix; encoder
/// `model.` keys with word-embedding rows `0..V−1` and `vocab_size = V`. The memory `[m, H]` goes to
/// `memory.safetensors` as the tensor `memory`.
func writeUnwrapped(_ rmt: LoadedRMT, to folder: String, options: RMTExportOptions) throws -> [String] {
    let weights = folderWeightsName(options.format)
    let m = rmt.checkpoint.memoryTokens
    var tensors: [(name: String, tensor: Tensor)] = []
    let memory: Tensor
    var config = rmt.backboneConfig
    switch rmt.configuration.variant {
    case .decoder:
        memory = rmt.checkpoint.memory!
        // Hugging Face drops the tied lm_head.weight when saving; loaders re-tie it from wte.
        tensors = rmt.checkpoint.backbone.filter { $0.name != "lm_head.weight" }
    case .encoder:
        let V = rmt.configuration.backboneVocabSize
        let wordKey = "bert.embeddings.word_embeddings.weight"
        guard let table = rmt.checkpoint.tensor(wordKey), table.shape.rank == 2 else {
            throw CheckpointError(.corrupt, file: rmt.path, tensor: wordKey, "the encoder RMT has no word embeddings")
        }
        let H = table.shape[1]
        let rows = try table.floatValues()  // [V + m, H]
        tensors = rmt.checkpoint.backbone.map {
            $0.name == wordKey ? (wordKey, Tensor(Array(rows[0..<V * H]), shape: [V, H])) : $0
        }
        memory = Tensor(Array(rows[(V * H)..<((V + m) * H)]), shape: [m, H])
        config = config.setting("vocab_size", to: .number(String(V)))
    }
    let names =
        [weights, "memory.safetensors", "config.json"]
        + rmt.sideFiles.map(\.name).filter { $0 != "config.json" && $0 != "rmt_config.json" }
    try writingOutputs(names.map { "\(folder)/\($0)" }, force: options.force, folder: folder) {
        try ArchiveRegistry.write(
            tensors.map { TensorSource(name: $0.name, tensor: $0.tensor) }, format: options.format,
            to: "\(folder)/\(weights)", options: WriteOptions(overwrite: options.force))
        try SafetensorsWriter.write(
            [TensorSource(name: "memory", tensor: memory)], metadata: [("format", "pt")],
            to: "\(folder)/memory.safetensors", overwrite: options.force)
        try writeText(config.prettyText(sortKeys: true), to: "\(folder)/config.json", overwrite: options.force)
        for (name, path) in rmt.sideFiles {
            try copyFileAtomically(from: path, to: "\(folder)/\(name)", overwrite: options.force)
        }
    }
    return names
}
