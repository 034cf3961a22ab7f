// Choosing and confirming a file's format, and opening or writing it with the right codec.
import Checkpoints
import Foundation
import HDF5Codec
import TensorCore

/// Opens and writes checkpoint files by format. This is the one place that knows every codec.
public enum ArchiveRegistry {
    /// The format implied by a file name's extension, or nil.
    ///
    /// `.bin`, `.pt` and `.pth` are torch only when the content says so (checked by `sniff`); we don't infer a
    /// format from `.bin` alone, as it is also used for GGML and raw dumps.
    public static func format(forExtensionOf path: String) -> CheckpointFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".safetensors") || lower.hasSuffix(".safetensors.index.json") { return .safetensors }
        if lower.hasSuffix(".npz") { return .npz }
        if lower.hasSuffix(".npy") { return .npy }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") || lower.hasSuffix(".h5.index.json") { return .hdf5 }
        if lower.hasSuffix(".bin") || lower.hasSuffix(".pt") || lower.hasSuffix(".pth")
            || lower.hasSuffix(".bin.index.json")
        {
            return .torch
        }
        return nil
    }

    /// What the first bytes of a file say it is (FORMATS.md §0.4), or nil when they match no signature.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> String? {
        func starts(_ sig: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + sig.count && zip(sig, bytes[offset..<offset + sig.count]).allSatisfy { $0 == $1 }
        }
        if isGitLFSPointer(bytes) { return "git-lfs" }
        if starts([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return "npy" }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return "zip" }
        for offset in [0, 512, 1024, 2048] where starts([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A], at: offset) {
            return "hdf5"
        }
        if starts(Array("GGUF".utf8)) { return "gguf" }
        if starts([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]) {
            return "torch-legacy"
        }
        if starts(Array("ustar".utf8), at: 257) { return "tar" }
        if bytes.count >= 9 {
            var i = 8
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
            if i < bytes.count, bytes[i] == UInt8(ascii: "{") { return "safetensors" }
        }
        return nil
    }

    /// Opens the file at `path` as `format` (from the extension when nil), after confirming the content.
    /// - Throws: `CheckpointError` (`.unknownFormat`, `.formatMismatch`, `.gitLFSPointer`, or the codec's own).
    public static func open(_ path: String, format: CheckpointFormat? = nil, readOptions: ReadOptions = ReadOptions())
        throws -> any TensorArchive
    {
        if path.hasSuffix(".index.json") {
            let shardFormat = format ?? self.format(forExtensionOf: path)
            return try ShardedArchive(indexPath: path) { try open($0, format: shardFormat, readOptions: readOptions) }
        }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        let found = sniff(UnsafeRawBufferPointer(rebasing: file.bytes.prefix(4096)))
        if found == "git-lfs" {
            throw CheckpointError(
                .gitLFSPointer, file: path,
                "is a Git LFS pointer file, not the weights; run `git lfs pull` (or download the real file) and try again"
            )
        }
        guard let chosen = format ?? self.format(forExtensionOf: path) else {
            throw CheckpointError(
                .unknownFormat, file: path,
                "cannot tell the format from the extension (content looks like \(found ?? "nothing known")); pass --format"
            )
        }
        switch chosen {
        case .safetensors:
            if let found, found != "safetensors" {
                throw CheckpointError(
                    .formatMismatch, file: path,
                    "expected safetensors but the content is \(found); pass --format or rename the file")
            }
            return try SafetensorsArchive(path: path)
        case .torch:
            // A torch zip (a member ending in /data.pkl, checked by TorchArchive), a legacy torch pickle, or a
            // tar (refused by TorchArchive with its own message); GGML files and raw dumps are refused here.
            guard let found, ["zip", "torch-legacy", "tar"].contains(found) else {
                throw CheckpointError(
                    .formatMismatch, file: path,
                    "expected a torch checkpoint (zip or legacy pickle) but the content is \(found ?? "not a known format"); pass --format if it is another format"
                )
            }
            return try TorchArchive(path: path)
        case .npz:
            if let found, found != "zip" {
                throw CheckpointError(
                    .formatMismatch, file: path,
                    "expected an .npz (zip) archive but the content is \(found); pass --format or rename the file")
            }
            return try NPZArchive(path: path, options: NPYReadOptions(voidAsBF16: readOptions.keepBF16))
        case .npy:
            if let found, found != "npy" {
                throw CheckpointError(
                    .formatMismatch, file: path,
                    "expected an .npy file but the content is \(found); pass --format or rename the file")
            }
            return try NPYArchive(path: path, options: NPYReadOptions(voidAsBF16: readOptions.keepBF16))
        case .hdf5:
            if let found, found != "hdf5" {
                throw CheckpointError(
                    .formatMismatch, file: path,
                    "expected HDF5 but the content is \(found); pass --format or rename the file")
            }
            return try HDF5Archive(path: path)
        }
    }

    /// Writes `sources` as `format` to `path` (a file, or a folder for sharded output).
    public static func write(
        _ sources: [TensorSource], format: CheckpointFormat, to path: String,
        options: WriteOptions, progress: ((Int) -> Void)? = nil
    ) throws {
        switch format {
        case .safetensors:
            try SafetensorsWriter.write(
                sources, metadata: options.metadata, to: path, overwrite: options.overwrite, progress: progress)
        case .torch:
            let aliases = torchAliases(sources, metadata: options.metadata).merging(options.aliases) { _, given in given
            }
            try TorchWriter.write(
                sources, aliases: aliases, to: path,
                overwrite: options.overwrite, progress: progress)
        case .npz:
            let notes = try NPZWriter.write(
                sources, to: path,
                options: NPZWriter.Options(
                    compress: options.compress, keepBF16: options.keepBF16,
                    overwrite: options.overwrite), progress: progress)
            for note in notes { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        case .npy:
            guard sources.count == 1 else {
                throw CheckpointError(
                    .invalidArgument, file: path,
                    "an .npy file holds exactly one array but there are \(sources.count) tensors; write .npz instead")
            }
            if sources[0].info.dtype == .bf16, !options.keepBF16 {
                FileHandle.standardError.write(
                    Data(
                        "note: bf16 tensor written as float32 ('<f4', exact) because numpy has no bfloat16; pass --keep-bf16 to store raw '<V2' bits instead\n"
                            .utf8))
            }
            try NPYWriter.write(sources[0], to: path, overwrite: options.overwrite, keepBF16: options.keepBF16)
            progress?(sources[0].info.byteCount)
        case .hdf5:
            if let model = options.kerasModelName {
                try HDF5Writer.writeKeras(
                    sources, modelName: model, to: path, overwrite: options.overwrite, progress: progress)
            } else {
                try HDF5Writer.write(
                    sources, metadata: options.metadata, to: path, overwrite: options.overwrite,
                    compress: options.compress, progress: progress)
            }
        }
    }
}

/// Tied names carried in metadata (`convert` records each alias as alias → target, the convention
/// `SafetensorsArchive` reads back): a key that is not a tensor being written whose value is one.
func torchAliases(_ sources: [TensorSource], metadata: [(key: String, value: String)]?) -> [String: String] {
    let names = Set(sources.map(\.info.name))
    var aliases: [String: String] = [:]
    for (key, value) in metadata ?? [] where !names.contains(key) && names.contains(value) { aliases[key] = value }
    return aliases
}

/// Options every writer understands; codecs ignore what does not apply to them.
public struct WriteOptions: Sendable {
    /// Replace existing outputs.
    public var overwrite = false
    /// String metadata (safetensors `__metadata__`).
    public var metadata: [(key: String, value: String)]? = [("format", "pt")]
    /// Compress where the format can (npz deflate, HDF5 gzip).
    public var compress = false
    /// Tied names: alias → stored name. Formats with shared storage (torch) store the data once; the alias
    /// itself must not be among the sources.
    public var aliases: [String: String] = [:]
    /// NPY / NPZ: write bf16 as raw `<V2` bits instead of widening it to `<f4`.
    public var keepBF16 = false
    /// HDF5 only: write the Keras `tf_model.h5` layout for this model name (sources carry TF names).
    public var kerasModelName: String? = nil

    public init(
        overwrite: Bool = false, metadata: [(key: String, value: String)]? = [("format", "pt")], compress: Bool = false,
        keepBF16: Bool = false
    ) {
        self.overwrite = overwrite
        self.metadata = metadata
        self.compress = compress
        self.keepBF16 = keepBF16
    }
}

/// Options readers understand; codecs ignore what does not apply to them.
public struct ReadOptions: Sendable {
    /// NPY / NPZ: read 2-byte void arrays (`<V2`, `|V2`, how ml_dtypes saves bfloat16) as bf16 instead of
    /// refusing them; the archive's notes then say so.
    public var keepBF16 = false

    public init(keepBF16: Bool = false) { self.keepBF16 = keepBF16 }
}
