// Reading ZIP archives (docs/FORMATS.md §2.6) over a memory map: the container of .npz and torch .bin files.
import TensorCore

/// How a ZIP member's data is stored.
public enum ZipCompression: UInt16, Sendable {
    /// Method 0: the bytes as they are.
    case stored = 0
    /// Method 8: raw deflate (no zlib header).
    case deflate = 8
}

/// One member of a ZIP archive, as its central directory entry describes it (sizes never come from the
/// local header).
public struct ZipEntry: Sendable, Equatable {
    /// The member name (UTF-8).
    public let name: String
    public let compression: ZipCompression
    /// The CRC-32 the archive claims for the uncompressed bytes.
    public let crc32: UInt32
    public let compressedSize: Int
    public let uncompressedSize: Int
    /// Where the local file header starts.
    public let localHeaderOffset: Int
    /// Where the member's (possibly compressed) data lies in the file; checked to be inside the file.
    public let dataRange: Range<Int>
}

/// A validated index of a ZIP file mapped read-only.
///
/// Opening checks the whole directory: the end records (including ZIP64), every central entry, every local
/// header's name and extra lengths, that each data range lies inside the file and that no two overlap,
/// and refuses encrypted members, methods other than stored and deflate, and duplicate names.
/// `contents(of:)` then returns a member's bytes: a zero-copy view for stored members (at any alignment),
/// an owned buffer of exactly the declared size for deflated ones.
public final class ZipArchive {
    /// The path the archive was opened from (used in errors).
    public let path: String
    /// The mapped file; views returned by `contents(of:)` keep it alive.
    public let file: MappedFile
    /// Every member, in central directory order.
    public let entries: [ZipEntry]
    /// Deflated members whose declared size exceeds this are refused before inflating.
    public var memoryLimit: Int

    /// Maps and indexes the file at `path`.
    /// - Throws: `CheckpointError` naming the file and the field or member that is wrong.
    public convenience init(path: String, memoryLimit: Int = Int.max) throws {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        try self.init(file: file, path: path, memoryLimit: memoryLimit)
    }

    /// Indexes an already mapped file.
    public init(file: MappedFile, path: String, memoryLimit: Int = Int.max) throws {
        self.path = path
        self.file = file
        self.memoryLimit = memoryLimit
        let directory = try ZipDirectory.locate(in: file.bytes, path: path)
        entries = try ZipDirectory.readEntries(directory, in: file.bytes, path: path)
        try ZipDirectory.checkNoOverlap(entries, path: path)
    }

    /// The member named `name`, if any.
    public func entry(named name: String) -> ZipEntry? { entries.first { $0.name.utf8.elementsEqual(name.utf8) } }

    /// The member's uncompressed bytes.
    ///
    /// Stored members are zero-copy views of the mapped file and are NOT aligned (use unaligned loads or copy).
    /// Deflated members are inflated into owned memory of exactly `uncompressedSize` bytes; a declared size
    /// above `1032 × compressed + 1 KiB` (more than deflate can expand) or above `memoryLimit` is refused
    /// before allocating, and a stream longer or shorter than declared fails.
    /// - Parameter verifyCRC: check the CRC-32 (zlib's, ~3 GB/s); pass false to skip it.
    public func contents(of entry: ZipEntry, verifyCRC: Bool = true) throws -> TensorStorage {
        let storage: TensorStorage
        switch entry.compression {
        case .stored:
            storage = TensorStorage(mapping: file, range: entry.dataRange)
        case .deflate:
            try checkInflatable(entry)
            let input = UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataRange])
            storage = try TensorStorage(count: entry.uncompressedSize) { out in
                do throws(InflateFailure) { try RawDeflate.inflate(input, into: out) } catch {
                    throw inflateError(error, entry)
                }
            }
        }
        if verifyCRC {
            let actual = ZipCRC32.checksum(storage.bytes)
            guard actual == entry.crc32 else { throw crcError(entry, actual) }
        }
        return storage
    }
}

extension ZipArchive {
    /// Refuses a deflated member whose declared size deflate cannot reach or that exceeds `memoryLimit`.
    func checkInflatable(_ entry: ZipEntry) throws {
        let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: 1032)
        if !overflow, entry.uncompressedSize > bound + 1024 {
            throw CheckpointError(
                .corrupt, file: path, tensor: entry.name,
                "member `\(entry.name)` claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed bytes, more than deflate can produce; the archive is corrupt or a zip bomb"
            )
        }
        if entry.uncompressedSize > memoryLimit {
            throw CheckpointError(
                .invalidArgument, file: path, tensor: entry.name,
                "member `\(entry.name)` would inflate to \(entry.uncompressedSize) bytes, above the limit of \(memoryLimit) bytes"
            )
        }
    }

    func inflateError(_ failure: InflateFailure, _ entry: ZipEntry) -> CheckpointError {
        let what: String
        switch failure {
        case .tooLong: what = "inflates to more than the declared \(entry.uncompressedSize) bytes"
        case .tooShort: what = "ends before the declared \(entry.uncompressedSize) bytes (truncated stream)"
        case .corrupt(let m): what = "is not a valid deflate stream (\(m))"
        }
        return CheckpointError(
            .corrupt, file: path, tensor: entry.name, "member `\(entry.name)` \(what); the archive is corrupt")
    }

    func crcError(_ entry: ZipEntry, _ actual: UInt32) -> CheckpointError {
        CheckpointError(
            .corrupt, file: path, tensor: entry.name,
            "member `\(entry.name)`: CRC-32 mismatch (stored \(hex(entry.crc32)), computed \(hex(actual))); the file is damaged, download or copy it again"
        )
    }

    /// A sequential reader of `entry`'s uncompressed bytes, for formats that decode a header before deciding
    /// where the rest goes (the NPZ reader inflates array data straight into the tensor's buffer).
    /// The same size and bomb checks as `contents(of:)` apply; `finish()` checks the length and the CRC-32.
    public func stream(of entry: ZipEntry, verifyCRC: Bool = true) throws -> ZipMemberStream {
        if entry.compression == .deflate { try checkInflatable(entry) }
        return try ZipMemberStream(archive: self, entry: entry, verifyCRC: verifyCRC)
    }
}

/// Reads one member's uncompressed bytes front to back (see `ZipArchive.stream(of:)`).
public final class ZipMemberStream {
    /// The member being read.
    public let entry: ZipEntry
    private let archive: ZipArchive
    private let inflater: RawInflater?
    private var crc = ZipCRC32()
    private let verifyCRC: Bool
    /// Uncompressed bytes not yet read.
    public private(set) var remaining: Int

    init(archive: ZipArchive, entry: ZipEntry, verifyCRC: Bool) throws {
        self.archive = archive
        self.entry = entry
        self.verifyCRC = verifyCRC
        remaining = entry.uncompressedSize
        let input = UnsafeRawBufferPointer(rebasing: archive.file.bytes[entry.dataRange])
        do { inflater = entry.compression == .deflate ? try RawInflater(input) : nil } catch {
            throw archive.inflateError(error, entry)
        }
    }

    /// Fills `output` with the next `output.count` bytes.
    /// - Throws: `CheckpointError` when fewer bytes remain or the stream is corrupt.
    public func read(into output: UnsafeMutableRawBufferPointer) throws {
        guard output.count <= remaining else {
            throw CheckpointError(
                .corrupt, file: archive.path, tensor: entry.name,
                "member `\(entry.name)` is \(entry.uncompressedSize) bytes, too short for the data its header describes"
            )
        }
        if let inflater {
            do { try inflater.read(into: output) } catch { throw archive.inflateError(error, entry) }
        } else if output.count > 0 {
            let start = entry.dataRange.lowerBound + (entry.uncompressedSize - remaining)
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: archive.file.bytes[start..<start + output.count]))
        }
        if verifyCRC { crc.update(UnsafeRawBufferPointer(output)) }
        remaining -= output.count
    }

    /// Reads and discards the rest of the member, then checks that the stream ends at the declared size and
    /// that the CRC-32 matches.
    public func finish() throws {
        var scratch = [UInt8](repeating: 0, count: min(remaining, 1 << 16))
        while remaining > 0 {
            let n = min(remaining, scratch.count)
            try scratch.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }
        }
        if let inflater {
            do { try inflater.finish() } catch { throw archive.inflateError(error, entry) }
        }
        if verifyCRC, crc.value != entry.crc32 { throw archive.crcError(entry, crc.value) }
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}
