// Reading .npz archives (docs/FORMATS.md §2.5): a ZIP of NPY members, stored or deflated.
import TensorCore

/// A `.npz` file: one tensor per `<key>.npy` member, keyed by the member name minus `.npy` (`/` kept).
///
/// Opening validates the ZIP directory and every member's NPY header (deflated members inflate only their
/// header). Stored members are returned as zero-copy views of the mapped file: their data is NOT aligned
/// (numpy places it at odd offsets such as 183). Deflated members are inflated straight into the tensor's
/// buffer, with the ZIP bomb checks of `ZipArchive`.
public final class NPZArchive: TensorArchive {
    public let path: String
    public var format: CheckpointFormat { .npz }
    public let tensorInfos: [TensorInfo]
    public let notes: [String]
    /// The underlying ZIP index.
    public let zip: ZipArchive
    private let members: [UTF8Key: (entry: ZipEntry, header: NPYHeader)]
    private let options: NPYReadOptions

    /// Opens and validates `path`.
    /// - Parameters:
    ///   - options: `voidAsBF16` reads `V2` arrays as bf16 (listed in `notes`); `verifyCRC` checks member CRCs.
    ///   - skipNonArrays: list members that are not NPY data in `notes` instead of failing.
    /// - Throws: `CheckpointError` naming the file and the member.
    public init(path: String, options: NPYReadOptions = NPYReadOptions(), skipNonArrays: Bool = false) throws {
        self.path = path
        self.options = options
        zip = try ZipArchive(path: path)
        if zip.entries.contains(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) {
            throw CheckpointError(
                .formatMismatch, file: path,
                "this zip is a PyTorch archive (it holds data.pkl), not an .npz; rename it to .bin or pass --format torch"
            )
        }
        var infos: [TensorInfo] = []
        var members: [UTF8Key: (entry: ZipEntry, header: NPYHeader)] = [:]
        var notes: [String] = []
        for entry in zip.entries {
            let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            if let problem = TensorNamePolicy.pathProblem(key) {
                throw CheckpointError(
                    .invalidName, file: path, tensor: key,
                    "member `\(escapedControlCharacters(entry.name))`: tensor name `\(escapedControlCharacters(key))` \(problem); `unzip` would write it outside its folder, so the archive is refused — rename the array and save again"
                )
            }
            guard let header = try NPZArchive.readHeader(entry, zip: zip, key: key, options: options) else {
                if skipNonArrays {
                    notes.append("member `\(entry.name)` is not an NPY array; skipped")
                    continue
                }
                throw CheckpointError(
                    .unsupportedContent, file: path, tensor: entry.name,
                    "member `\(entry.name)` is not an NPY array (no \\x93NUMPY magic); an .npz must hold only arrays")
            }
            guard members[UTF8Key(key)] == nil else {
                throw CheckpointError(
                    .duplicateKey, file: path, tensor: key,
                    "two members both give the key `\(key)`; keys must be unique")
            }
            let (end, overflow) = header.dataOffset.addingReportingOverflow(header.dataByteCount)
            guard !overflow, end <= entry.uncompressedSize else {
                throw CheckpointError(
                    .truncated, file: path, tensor: key,
                    "array `\(key)`: \(header.descr) \(header.shape) needs \(header.dataByteCount) bytes of data but member `\(entry.name)` holds \(entry.uncompressedSize - header.dataOffset); it is truncated"
                )
            }
            if header.voidDeclaredBF16 {
                notes.append("`\(key)`: void dtype '\(header.descr)' read as bf16, as requested")
            }
            if end < entry.uncompressedSize {  // numpy ignores them too (docs/FORMATS.md §2.2)
                notes.append(
                    "`\(key)`: \(entry.uncompressedSize - end) trailing bytes after the array data of member `\(entry.name)` ignored, as numpy does"
                )
            }
            members[UTF8Key(key)] = (entry, header)
            infos.append(TensorInfo(name: key, dtype: header.dtype, shape: header.shape))
        }
        self.members = members
        self.notes = notes
        tensorInfos = infos
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let (entry, header) = members[UTF8Key(name)] else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        let data: TensorStorage
        switch entry.compression {
        case .stored:
            if options.verifyCRC {
                let actual = ZipCRC32.checksum(UnsafeRawBufferPointer(rebasing: zip.file.bytes[entry.dataRange]))
                guard actual == entry.crc32 else { throw zip.crcError(entry, actual) }
            }
            let start = entry.dataRange.lowerBound + header.dataOffset
            data = TensorStorage(mapping: zip.file, range: start..<start + header.dataByteCount)
        case .deflate:
            let stream = try zip.stream(of: entry, verifyCRC: options.verifyCRC)
            var skipped = [UInt8](repeating: 0, count: header.dataOffset)
            try skipped.withUnsafeMutableBytes { try stream.read(into: $0) }
            data = try TensorStorage(count: header.dataByteCount) { try stream.read(into: $0) }
            try stream.finish()
        }
        return try header.tensor(from: data, file: path, tensor: name)
    }

    /// The NPY header of `entry`, or nil when the member does not start with the NPY magic.
    static func readHeader(_ entry: ZipEntry, zip: ZipArchive, key: String, options: NPYReadOptions) throws
        -> NPYHeader?
    {
        switch entry.compression {
        case .stored:
            let bytes = UnsafeRawBufferPointer(rebasing: zip.file.bytes[entry.dataRange])
            guard try NPYHeader.headerSize(prefix: bytes, file: zip.path, tensor: key) != nil else { return nil }
            return try NPYHeader.parse(bytes, file: zip.path, tensor: key, options: options)
        case .deflate:
            let stream = try zip.stream(of: entry, verifyCRC: false)
            var prefix = [UInt8](repeating: 0, count: min(12, entry.uncompressedSize))
            try prefix.withUnsafeMutableBytes { try stream.read(into: $0) }
            guard
                let size = try prefix.withUnsafeBytes({
                    try NPYHeader.headerSize(prefix: $0, file: zip.path, tensor: key)
                })
            else {
                return nil
            }
            var header = prefix + [UInt8](repeating: 0, count: max(0, min(size, entry.uncompressedSize) - prefix.count))
            try header.withUnsafeMutableBytes {
                try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[prefix.count...]))
            }
            return try header.withUnsafeBytes { try NPYHeader.parse($0, file: zip.path, tensor: key, options: options) }
        }
    }
}
