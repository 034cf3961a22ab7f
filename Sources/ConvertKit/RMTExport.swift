// Writing RMT folders and exporting RMT checkpoints in the reference's layouts (RMT.md §5.7).
import Checkpoints
import Foundation
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
/// - Throws: `CheckpointError(.alreadyExists)` when a file exists and `force` is off; nothing half-written.
func writeRMTFolder(_ checkpoint: RMTCheckpoint, configuration: RMTConfiguration, backboneConfig: JSONValue,
                    sideFiles: [(name: String, path: String)], to folder: String, options: RMTExportOptions) throws -> [String] {
    try createDirectory(folder)
    let weights = rmtWeightsName(options)
    let names = ["config.json", "rmt_config.json", weights] + sideFiles.map(\.name)
    if !options.force, let existing = names.first(where: { FileManager.default.fileExists(atPath: "\(folder)/\($0)") }) {
        throw CheckpointError(.alreadyExists, file: "\(folder)/\(existing)", "output already exists; pass --force to overwrite it or choose another folder")
    }
    try writeRMTWeights(checkpoint, to: "\(folder)/\(weights)", options: options)
    try writeText(backboneConfig.prettyText(sortKeys: true), to: "\(folder)/config.json", overwrite: options.force)
    try writeText(String(decoding: try configuration.encoded(), as: UTF8.self), to: "\(folder)/rmt_config.json", overwrite: options.force)
    for (name, path) in sideFiles { try copyFileAtomically(from: path, to: "\(folder)/\(name)", overwrite: options.force) }
    return names
}

/// Writes the reference state dict of `checkpoint` to `path`.
func writeRMTWeights(_ checkpoint: RMTCheckpoint, to path: String, options: RMTExportOptions) throws {
    let (tensors, aliases) = try checkpoint.stateDict(profile: options.profile)
    let sources = tensors.map { TensorSource(name: $0.name, tensor: $0.tensor) }
    if options.referencePth {
        try TorchWriter.write(sources.filter { aliases[$0.info.name] == nil }, aliases: aliases, to: path,
                              nested: TorchWriter.modelStateDictCheckpoint(iteration: 0, epoch: 0), overwrite: options.force)
        return
    }
    switch options.format {
    case .safetensors:
        // safetensors forbids overlapping data: tied and aliased keys are full copies (RMT.md §5.7).
        try SafetensorsWriter.write(sources, metadata: [("format", "pt")], to: path, overwrite: options.force)
    default:
        var write = WriteOptions(overwrite: options.force)
        write.aliases = aliases
        try ArchiveRegistry.write(sources.filter { aliases[$0.info.name] == nil }, format: options.format, to: path, options: write)
    }
}

/// Writes text atomically.
func writeText(_ text: String, to path: String, overwrite: Bool) throws {
    let out = try AtomicFileWriter(destination: path, overwrite: overwrite)
    try out.write(Array(text.utf8))
    try out.commit()
}
