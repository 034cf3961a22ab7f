// `convert` of an RMT folder: the reference's layouts (written by `RMTModel.save`), or the backbone alone in any
// format this build writes ("unwrap", docs/RMT.md §5.7).
import Checkpoints
import Foundation
import RMT
import TensorCore

/// Converts the RMT checkpoint at `source` (a project folder, a reference run directory or `model_best/`) to
/// the folder `destination`: the reference state dict in `options.format`, or `model_best.pth` with
/// `referencePth`; with `unwrap`, a plain backbone checkpoint plus `memory.safetensors` instead.
/// - Throws: `CheckpointError`, `RMTError` or `ModelError`; nothing is half-written.
public func exportRMT(_ source: String, to destination: String, options: RMTExportOptions, unwrap: Bool) throws
    -> ConvertSummary
{
    let start = Date()
    let rmt = try RMTModel.load(folder: source)
    let files =
        unwrap
        ? try writeUnwrapped(rmt, to: destination, options: options) : try rmt.save(to: destination, options: options)
    let written = files.map { "\(destination)/\($0)" }
    let bytes = written.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    return ConvertSummary(
        source: source, outputs: written,
        format: options.referencePth ? "torch (reference-pth)" : options.format.rawValue,
        tensorCount: try rmt.checkpoint.stateDict(profile: options.profile).tensors.count, bytesWritten: bytes,
        seconds: Date().timeIntervalSince(start), castTensors: 0, copiedFiles: rmt.sideFiles.map(\.name))
}

/// Writes `RMTModel.unwrapped()`: the backbone in `options.format`, the memory `[m, H]` as the tensor `memory`
/// of `memory.safetensors`, `config.json` and the tokenizer files.
func writeUnwrapped(_ rmt: RMTModel, to folder: String, options: RMTExportOptions) throws -> [String] {
    let weights = options.format.folderWeightsName
    let (tensors, memory, config) = try rmt.unwrapped()
    let side = rmt.sideFiles.filter { $0.name != "config.json" && $0.name != "rmt_config.json" }
    let names = [weights, "memory.safetensors", "config.json"] + side.map(\.name)
    try writingOutputs(names.map { "\(folder)/\($0)" }, force: options.force, folder: folder) {
        try ArchiveRegistry.write(
            tensors.map { TensorSource(name: $0.name, tensor: $0.tensor) }, format: options.format,
            to: "\(folder)/\(weights)", options: WriteOptions(overwrite: options.force))
        try SafetensorsWriter.write(
            [TensorSource(name: "memory", tensor: memory)], metadata: [("format", "pt")],
            to: "\(folder)/memory.safetensors", overwrite: options.force)
        try writeText(config.prettyText(sortKeys: true), to: "\(folder)/config.json", overwrite: options.force)
        for (name, path) in side {
            try copyFileAtomically(from: path, to: "\(folder)/\(name)", overwrite: options.force)
        }
    }
    return names
}
