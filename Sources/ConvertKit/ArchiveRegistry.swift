// Choosing and confirming a file's format, and opening or writing it with the right codec.
import Checkpoints
import HDF5Codec
import Models
import TensorCore

/// Opens and writes checkpoint files by format. Checkpoints opens every format but HDF5; this is the one place
/// that adds HDF5 (HDF5Codec, given the model families' TF name maps) and knows every writer.
public enum ArchiveRegistry {
    /// An opener for every format: Checkpoints' readers plus HDF5 read through the families' name maps.
    public static func opener(readOptions: ReadOptions = ReadOptions()) -> ArchiveOpener {
        ArchiveOpener(readOptions: readOptions) { try HDF5Archive(path: $0, keyMaps: ModelRegistry.keyMaps) }
    }

    /// Opens the file at `path` as `format` (from the extension when nil), after confirming the content.
    /// - Throws: `CheckpointError` (`.unknownFormat`, `.formatMismatch`, `.gitLFSPointer`, or the codec's own).
    public static func open(_ path: String, format: CheckpointFormat? = nil, readOptions: ReadOptions = ReadOptions())
        throws -> any TensorArchive
    {
        try opener(readOptions: readOptions).open(path, format: format)
    }

    /// Writes `sources` as `format` to `path` (a file, or a folder for sharded output).
    /// - Returns: notes for the user (`note: …` lines, e.g. bf16 widened to float32 for NumPy).
    @discardableResult
    public static func write(
        _ sources: [TensorSource], format: CheckpointFormat, to path: String,
        options: WriteOptions, progress: ((Int) -> Void)? = nil
    ) throws -> [String] {
        switch format {
        case .safetensors:
            try SafetensorsWriter.write(
                sources, metadata: options.metadata, to: path, overwrite: options.overwrite, progress: progress)
            return []
        case .torch:
            let aliases = torchAliases(sources, metadata: options.metadata).merging(options.aliases) { _, given in given
            }
            try TorchWriter.write(
                sources, aliases: aliases, to: path,
                overwrite: options.overwrite, progress: progress)
            return []
        case .npz:
            return try NPZWriter.write(
                sources, to: path,
                options: NPZWriter.Options(
                    compress: options.compress, keepBF16: options.keepBF16,
                    overwrite: options.overwrite), progress: progress)
        case .npy:
            guard sources.count == 1 else {
                throw CheckpointError(
                    .invalidArgument, file: path,
                    "an .npy file holds exactly one array but there are \(sources.count) tensors; write .npz instead")
            }
            try NPYWriter.write(sources[0], to: path, overwrite: options.overwrite, keepBF16: options.keepBF16)
            progress?(sources[0].info.byteCount)
            guard sources[0].info.dtype == .bf16, !options.keepBF16 else { return [] }
            return [
                "note: bf16 tensor written as float32 ('<f4', exact) because numpy has no bfloat16; pass --keep-bf16 to store raw '<V2' bits instead"
            ]
        case .hdf5:
            if let model = options.kerasModelName {
                try HDF5Writer.writeKeras(
                    sources, modelName: model, to: path, overwrite: options.overwrite, progress: progress)
            } else {
                try HDF5Writer.write(
                    sources, metadata: options.metadata, to: path, overwrite: options.overwrite,
                    compress: options.compress, progress: progress)
            }
            return []
        }
    }
}

/// Tied names carried in metadata (`convert` records each alias as alias → target, the convention
/// `SafetensorsArchive` reads back): a key that is not a tensor being written whose value is one.
func torchAliases(_ sources: [TensorSource], metadata: [(key: String, value: String)]?) -> [UTF8Key: String] {
    let names = Set(sources.map { UTF8Key($0.info.name) })
    var aliases: [UTF8Key: String] = [:]
    for (key, value) in metadata ?? [] where !names.contains(UTF8Key(key)) && names.contains(UTF8Key(value)) {
        aliases[UTF8Key(key)] = value
    }
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
    /// itself must not be among the sources. Keyed by bytes, as the files key names.
    public var aliases: [UTF8Key: String] = [:]
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
