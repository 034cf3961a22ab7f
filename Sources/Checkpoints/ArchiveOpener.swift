// Choosing and confirming a weights file's format (docs/FORMATS.md §0.4) and opening it with the right reader.
// Every format this target reads is built in; HDF5, which links libhdf5, is plugged in by ConvertKit.
import TensorCore

/// Options readers understand; readers ignore what does not apply to them.
public struct ReadOptions: Sendable {
    /// NPY / NPZ: read 2-byte void arrays (`<V2`, `|V2`, how ml_dtypes saves bfloat16) as bf16 instead of
    /// refusing them; the archive's notes then say so.
    public var keepBF16 = false

    public init(keepBF16: Bool = false) { self.keepBF16 = keepBF16 }
}

/// Opens weight files by format: extension first, content confirming it, shards through their index.
///
/// Readers for formats outside this target are plugged in (`hdf5`), so a caller that never meets them (RMT
/// opens its folders, which are never HDF5) needs nothing above Checkpoints.
public struct ArchiveOpener: Sendable {
    /// Opens an HDF5 file at a path; nil refuses HDF5 files with a message saying where they are read.
    public typealias HDF5Reader = @Sendable (String) throws -> any TensorArchive

    public var readOptions: ReadOptions
    public var hdf5: HDF5Reader?

    public init(readOptions: ReadOptions = ReadOptions(), hdf5: HDF5Reader? = nil) {
        self.readOptions = readOptions
        self.hdf5 = hdf5
    }

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

    /// What the first bytes of a file say it is (docs/FORMATS.md §0.4), or nil when they match no signature.
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
    /// - Throws: `CheckpointError` (`.unknownFormat`, `.formatMismatch`, `.gitLFSPointer`, or the reader's own).
    public func open(_ path: String, format: CheckpointFormat? = nil) throws -> any TensorArchive {
        if path.hasSuffix(".index.json") {
            let shardFormat = format ?? Self.format(forExtensionOf: path)
            return try ShardedArchive(indexPath: path) { try open($0, format: shardFormat) }
        }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        let found = Self.sniff(UnsafeRawBufferPointer(rebasing: file.bytes.prefix(4096)))
        if found == "git-lfs" {
            throw CheckpointError(
                .gitLFSPointer, file: path,
                "is a Git LFS pointer file, not the weights; run `git lfs pull` (or download the real file) and try again"
            )
        }
        guard let chosen = format ?? Self.format(forExtensionOf: path) else {
            throw CheckpointError(
                .unknownFormat, file: path,
                "cannot tell the format from the extension (content looks like \(found ?? "nothing known")); pass --format"
            )
        }
        func confirm(_ expected: String, _ what: String) throws {
            if let found, found != expected {
                throw CheckpointError(
                    .formatMismatch, file: path,
                    "expected \(what) but the content is \(found); pass --format or rename the file")
            }
        }
        let numpy = NPYReadOptions(voidAsBF16: readOptions.keepBF16)
        switch chosen {
        case .safetensors:
            try confirm("safetensors", "safetensors")
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
            try confirm("zip", "an .npz (zip) archive")
            return try NPZArchive(path: path, options: numpy)
        case .npy:
            try confirm("npy", "an .npy file")
            return try NPYArchive(path: path, options: numpy)
        case .hdf5:
            try confirm("hdf5", "HDF5")
            guard let hdf5 else {
                throw CheckpointError(
                    .unsupportedContent, file: path,
                    "HDF5 files are read through ConvertKit (HDF5Codec); convert it to safetensors with `rmt-convert convert` first"
                )
            }
            return try hdf5(path)
        }
    }
}
