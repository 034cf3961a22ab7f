// Reading a safetensors file: map it, validate the header, hand out zero-copy views.
import TensorCore

/// A memory-mapped, validated safetensors file.
///
/// Opening reads only the header; tensor data is paged in when a returned tensor is touched.
public final class SafetensorsArchive: TensorArchive {
    public let path: String
    public var format: CheckpointFormat { .safetensors }
    public let header: SafetensorsHeader
    public let tensorInfos: [TensorInfo]
    public let aliases: [UTF8Key: String]
    public let notes: [String]
    private let file: MappedFile
    private let index: [UTF8Key: Int]

    /// Opens and validates `path`.
    /// - Throws: `CheckpointError` (official safetensors kinds for header problems, `.io` when unreadable).
    public init(path: String) throws {
        self.path = path
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        header = try SafetensorsHeader.parse(file.bytes, fileSize: file.count, path: path)
        tensorInfos = header.entries.map(\.info)
        var index: [UTF8Key: Int] = [:]
        for (i, e) in header.entries.enumerated() { index[UTF8Key(e.info.name)] = i }
        self.index = index
        // A metadata key that is not a tensor, whose value names a tensor, is an alias (HF tied-weight convention).
        var aliases: [UTF8Key: String] = [:]
        for (k, v) in header.metadata where index[UTF8Key(k)] == nil && index[UTF8Key(v)] != nil {
            aliases[UTF8Key(k)] = v
        }
        self.aliases = aliases
        notes = header.notes
    }

    public var metadata: [(key: String, value: String)] { header.metadata }

    public func tensor(named name: String) throws -> Tensor {
        guard let i = index[UTF8Key(name)] ?? aliases[UTF8Key(name)].flatMap({ index[UTF8Key($0)] }) else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        let e = header.entries[i]
        let start = 8 + header.headerLength
        let storage = TensorStorage(
            mapping: file, range: (start + e.dataRange.lowerBound)..<(start + e.dataRange.upperBound))
        return try Tensor(dtype: e.info.dtype, shape: e.info.shape, storage: storage)
    }
}
