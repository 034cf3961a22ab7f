// `convert`: any readable checkpoint to any writable format, tensor by tensor.
import Checkpoints
import Foundation
import KeyMaps
import Models
import TensorCore

/// What `convert` should do; the CLI fills it from flags.
public struct ConvertOptions: Sendable {
    /// The output format; nil means from the destination's extension (or safetensors for a folder).
    public var format: CheckpointFormat?
    /// Cast floating-point tensors to this dtype; nil keeps every dtype.
    public var dtype: DType?
    /// Split output into shards of at most this many bytes (destination is then a folder).
    public var maxShardSize: Int?
    /// Compress where the format can.
    public var compress = false
    /// Overwrite existing outputs.
    public var force = false
    /// NPY / NPZ output: keep bf16 as raw `<V2` bits instead of widening it to `<f4`.
    public var keepBF16 = false
    /// Output names: as read, Hugging Face PyTorch keys, or TF weight names (`tf_model.h5` layout for HDF5).
    public var names: NameStyle = .keep

    public init(
        format: CheckpointFormat? = nil, dtype: DType? = nil, maxShardSize: Int? = nil, compress: Bool = false,
        force: Bool = false, keepBF16: Bool = false, names: NameStyle = .keep
    ) {
        self.names = names
        self.format = format
        self.dtype = dtype
        self.maxShardSize = maxShardSize
        self.compress = compress
        self.force = force
        self.keepBF16 = keepBF16
    }
}

/// What `convert` did.
public struct ConvertSummary: Encodable, Sendable {
    public let source: String
    public let outputs: [String]
    public let format: String
    public let tensorCount: Int
    public let bytesWritten: Int
    public let seconds: Double
    public let castTensors: Int
    public let copiedFiles: [String]
    /// `note: …` lines for the user (standard error), e.g. bf16 widened for NumPy; not part of the JSON.
    public var notes: [String] = []

    enum CodingKeys: String, CodingKey {
        case source, outputs, format, seconds
        case tensorCount = "tensor_count", bytesWritten = "bytes_written", castTensors = "cast_tensors", copiedFiles =
            "copied_files"
    }

    /// One line for humans.
    public var line: String {
        "converted \(tensorCount) tensors (\(formatBytes(bytesWritten))) to \(format) in \(String(format: "%.2f", seconds)) s: \(outputs.joined(separator: ", "))"
    }
}

/// Converts `source` to `destination`.
///
/// A destination that exists as a folder, or has no file extension while the source is a folder, or any
/// sharded output, is a folder: side files (config, tokenizer) are copied and the weights get the
/// conventional name. Tensors stream one at a time from the mapped source, so peak memory stays near the
/// size of the largest converted tensor.
/// - Parameter progress: told the bytes written.
/// - Throws: `CheckpointError`; nothing is left half-written.
public func convert(
    _ source: Checkpoint, to destination: String, options: ConvertOptions, progress: ProgressHandler? = nil
) throws -> ConvertSummary {
    let start = Date()
    var isDir: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: destination, isDirectory: &isDir)
    let extensionFormat = ArchiveOpener.format(forExtensionOf: destination)
    let toFolder =
        (exists && isDir.boolValue) || options.maxShardSize != nil || (source.isFolder && extensionFormat == nil)
    guard let format = options.format ?? (toFolder ? (extensionFormat ?? .safetensors) : extensionFormat) else {
        throw CheckpointError(
            .unknownFormat, file: destination,
            "cannot tell the output format from the extension; pass --format safetensors|npz|h5|torch")
    }
    let archive = source.archive
    if options.names == .tf, format == .hdf5, options.maxShardSize != nil {
        throw CheckpointError(
            .invalidArgument, file: destination,
            "sharded tf_model.h5 output is not supported; drop --max-shard-size or use --names keep")
    }
    let renamed = try renameSources(
        TensorSource.all(of: archive), to: options.names, maps: ModelRegistry.keyMaps, file: source.path)
    var sources = renamed.sources
    // Every writer refuses these names (TensorNamePolicy); say so against the input that holds them.
    try TensorNamePolicy.check(sources.map(\.info.name), file: source.path)
    var castCount = 0
    if let target = options.dtype {
        // After renaming, so the writers stream the cast chunk by chunk (casting commutes with the TF transposes).
        sources = sources.map { s in
            guard s.info.dtype.isCastableFloat, s.info.dtype != target else { return s }
            castCount += 1
            return s.converted(to: target)
        }
    }
    var writeOptions = WriteOptions(overwrite: options.force, compress: options.compress, keepBF16: options.keepBF16)
    var meta = archive.metadata.filter { $0.key != "format" }
    // Names compared by bytes: `é` and `e` + U+0301 are two tensors, and two aliases.
    let written = Set(sources.map { UTF8Key($0.info.name) })
    for (alias, target) in archive.aliases.sorted(by: { $0.key < $1.key })
    where !meta.contains(where: { UTF8Key($0.key) == alias }) {
        if options.names != .tf, written.contains(UTF8Key(target)) { meta.append((alias.string, target)) }
    }
    writeOptions.metadata = [("format", options.names == .tf ? "tf" : "pt")] + meta
    writeOptions.kerasModelName = renamed.tfModelClass?.name
    let totalBytes = sources.reduce(0) { $0 + $1.info.byteCount }
    progress?(.started(label: "convert", total: totalBytes, unit: .bytes))
    defer { progress?(.finished) }
    let advance: (Int) -> Void = { progress?(.advanced(done: $0)) }

    // Every file this run will write, checked before anything is written; on failure the ones it created go.
    let planned =
        toFolder
        ? plannedFolderOutputs(
            sources, source: source, format: format, folder: destination, maxShardSize: options.maxShardSize)
        : [destination]
    var outputs: [String] = []
    var copied: [String] = []
    var notes: [String] = []
    try writingOutputs(planned, force: options.force, folder: toFolder ? destination : nil) {
        if toFolder {
            if let maxShard = options.maxShardSize {
                (outputs, notes) = try writeShards(
                    sources, format: format, folder: destination, maxShardSize: maxShard, options: writeOptions,
                    progress: advance)
            } else {
                let path = "\(destination)/\(format.folderWeightsName)"
                notes = try ArchiveRegistry.write(
                    sources, format: format, to: path, options: writeOptions, progress: advance)
                outputs = [path]
            }
            if source.isFolder {
                let folder = source.path.hasSuffix("/") ? String(source.path.dropLast()) : source.path
                for name in source.sideFiles {
                    try copyFileAtomically(
                        from: "\(folder)/\(name)", to: "\(destination)/\(name)", overwrite: options.force)
                    copied.append(name)
                }
            }
        } else {
            notes = try ArchiveRegistry.write(
                sources, format: format, to: destination, options: writeOptions, progress: advance)
            outputs = [destination]
        }
    }
    return ConvertSummary(
        source: source.path, outputs: outputs, format: format.rawValue, tensorCount: sources.count,
        bytesWritten: totalBytes, seconds: Date().timeIntervalSince(start), castTensors: castCount,
        copiedFiles: copied, notes: source.configurationNotes.map { "note: \($0)" } + notes)
}

/// The files `convert` writes into the output folder `folder`: the weights (or shards and their index), then
/// the side files copied from a source folder.
func plannedFolderOutputs(
    _ sources: [TensorSource], source: Checkpoint, format: CheckpointFormat, folder: String,
    maxShardSize: Int?
) -> [String] {
    var paths: [String]
    if let maxShardSize {
        let plan = planShards(sources.map(\.info), maxShardSize: maxShardSize)
        let stem = format == .torch ? "pytorch_model" : "model"
        paths = plan.indices.map {
            "\(folder)/\(shardFileName(stem: stem, fileExtension: format.fileExtension, index: $0, count: plan.count))"
        }
        paths.append("\(folder)/\(format.folderWeightsName).index.json")
    } else {
        paths = ["\(folder)/\(format.folderWeightsName)"]
    }
    return paths + (source.isFolder ? source.sideFiles.map { "\(folder)/\($0)" } : [])
}

/// Writes shards and their index into `folder`; returns the paths written and the writers' notes.
func writeShards(
    _ sources: [TensorSource], format: CheckpointFormat, folder: String, maxShardSize: Int,
    options: WriteOptions, progress: @escaping (Int) -> Void
) throws -> (paths: [String], notes: [String]) {
    let plan = planShards(sources.map(\.info), maxShardSize: maxShardSize)
    let stem = format == .torch ? "pytorch_model" : "model"
    var weightMap: [(tensor: String, file: String)] = []
    var paths: [String] = []
    var notes: [String] = []
    var doneBytes = 0
    for (i, members) in plan.enumerated() {
        let name = shardFileName(stem: stem, fileExtension: format.fileExtension, index: i, count: plan.count)
        let shardSources = members.map { sources[$0] }
        let base = doneBytes
        notes += try ArchiveRegistry.write(shardSources, format: format, to: "\(folder)/\(name)", options: options) {
            progress(base + $0)
        }
        doneBytes += shardSources.reduce(0) { $0 + $1.info.byteCount }
        weightMap += shardSources.map { ($0.info.name, name) }
        paths.append("\(folder)/\(name)")
    }
    let indexPath = "\(folder)/\(format.folderWeightsName).index.json"
    let text = shardIndexText(totalSize: sources.reduce(0) { $0 + $1.info.byteCount }, weightMap: weightMap)
    let out = try AtomicFileWriter(destination: indexPath, overwrite: options.overwrite)
    try out.write(Array(text.utf8))
    try out.commit()
    return (paths + [indexPath], notes)
}
