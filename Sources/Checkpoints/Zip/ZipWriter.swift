// Writing ZIP archives member by member, streamed and atomic: the container of .npz and torch .bin output.
import Dispatch

/// Writes a ZIP archive through `AtomicFileWriter` (docs/FORMATS.md §2.6, §2.7, §5.6).
///
/// Members are appended in order. Every local header carries the real CRC-32 and sizes (no data descriptor),
/// version needed 20 (45 with ZIP64), flag bit 11 only for non-ASCII names, and the fixed timestamp
/// 1980-01-01 00:00 (time `00 00`, date `21 00`), so output is reproducible. Stored members can carry the
/// alignment extra field `46 42 <u16 p> <p × 5A>` placing their data at a multiple of `alignment`.
/// ZIP64 fields appear only when a size or offset reaches `FFFFFFFF`, or with more than 65 534 members;
/// `alwaysWriteZip64End` adds the ZIP64 end record and locator regardless (torch writes them).
///
/// Nothing reaches `path` until `finish()`; dropping the writer or calling `abort()` leaves no file.
///
///     let zip = try ZipWriter(path: "out.npz", overwrite: false)
///     try zip.add(name: "w.npy", bytes: npyBytes, compression: .stored, align: true)
///     try zip.finish()
public final class ZipWriter {
    /// The final path.
    public let path: String
    /// The data alignment used for members added with `align: true` (64 by default).
    public let alignment: Int
    /// Always write the ZIP64 end record and locator (torch's habit); otherwise only when needed.
    public let alwaysWriteZip64End: Bool
    private let out: AtomicFileWriter
    private var central: [UInt8] = []
    private var memberCount = 0
    private var names = Set<UTF8Key>()
    private var finished = false

    /// Bytes written so far (the offset the next member's local header will get).
    public var bytesWritten: Int { out.bytesWritten }

    /// Opens a temporary file beside `path`.
    /// - Parameters:
    ///   - overwrite: replace an existing file (otherwise `.alreadyExists`).
    ///   - alignment: data alignment for aligned members; a power of two ≤ 4096.
    ///   - alwaysWriteZip64End: write the ZIP64 end record and locator even when not needed.
    public init(path: String, overwrite: Bool, alignment: Int = 64, alwaysWriteZip64End: Bool = false) throws {
        guard alignment > 0, alignment <= 4096, alignment & (alignment - 1) == 0 else {
            throw CheckpointError(
                .invalidArgument, file: path, "ZIP alignment \(alignment) must be a power of two up to 4096")
        }
        self.path = path
        self.alignment = alignment
        self.alwaysWriteZip64End = alwaysWriteZip64End
        out = try AtomicFileWriter(destination: path, overwrite: overwrite)
    }

    /// Appends a member holding `bytes`.
    /// - Parameters:
    ///   - compression: `.stored`, or `.deflate` (raw deflate, zlib level 6).
    ///   - align: add the `46 42` extra field so the data starts at a multiple of `alignment` (stored members;
    ///     ignored for deflated ones).
    public func add(
        name: String, bytes: UnsafeRawBufferPointer, compression: ZipCompression = .stored, align: Bool = false
    ) throws {
        try add(name: name, byteCount: bytes.count, compression: compression, align: align) { emit in try emit(bytes) }
    }

    /// Appends a member holding `bytes`.
    public func add(name: String, bytes: [UInt8], compression: ZipCompression = .stored, align: Bool = false) throws {
        try bytes.withUnsafeBytes { try add(name: name, bytes: $0, compression: compression, align: align) }
    }

    /// Appends a member whose `byteCount` bytes `produce` hands to `emit` in chunks, for large members
    /// that should not be assembled in memory.
    ///
    /// `produce` runs once. The CRC and sizes precede the data (no data descriptor): a stored member's local
    /// header goes out with its CRC zeroed, the data is checksummed (on a second thread) while it is written, and
    /// the CRC is then patched into the header in place. A deflated member's compressed bytes are held in memory
    /// until written.
    /// - Throws: `CheckpointError` when the chunks do not add up to `byteCount`, for a duplicate or empty name,
    ///   or on a write error (the archive is then abandoned). A stored member whose `produce` fails is cut off
    ///   again, so the archive holds only the members added before it.
    public func add(
        name: String, byteCount: Int, compression: ZipCompression = .stored, align: Bool = false,
        produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        guard !finished else { throw CheckpointError(.invalidArgument, file: path, "ZIP writer already finished") }
        guard !name.isEmpty, name.utf8.count <= 0xFFFF else {
            throw CheckpointError(.invalidName, file: path, tensor: name, "ZIP member name must have 1 to 65 535 bytes")
        }
        guard names.insert(UTF8Key(name)).inserted else {
            throw CheckpointError(
                .duplicateKey, file: path, tensor: name, "member `\(name)` was added twice; names must be unique")
        }
        var crc = ZipCRC32()
        var produced = 0
        let local = out.bytesWritten
        let compressedSize: Int
        switch compression {
        case .stored:
            let header = ZipRecords.localHeader(
                name: name, compression: compression, crc: 0, compressedSize: byteCount,
                uncompressedSize: byteCount, offset: local, alignment: align ? alignment : nil)
            do {
                try out.write(header)
                try produce { chunk in
                    try ZipWriter.write(chunk, checksummingInto: &crc) { try out.write($0) }
                    produced += chunk.count
                }
                try checkProduced(produced, byteCount, name)
            } catch {
                try? out.truncate(to: local)  // the archive stays as it was before this member
                throw error
            }
            try withUnsafeBytes(of: crc.value.littleEndian) {
                try out.overwrite($0, at: local + ZipRecords.localHeaderCRCOffset)
            }
            compressedSize = byteCount
        case .deflate:
            let compressor = try deflating { try RawDeflate.Compressor(level: 6) }
            try produce { chunk in
                crc.update(chunk)
                produced += chunk.count
                try deflating { try compressor.feed(chunk) }
            }
            try deflating { try compressor.feed(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) }
            try checkProduced(produced, byteCount, name)
            let compressed = compressor.output
            try out.write(
                ZipRecords.localHeader(
                    name: name, compression: compression, crc: crc.value, compressedSize: compressed.count,
                    uncompressedSize: byteCount, offset: local, alignment: nil))
            try out.write(compressed)
            compressedSize = compressed.count
        }
        central += ZipRecords.centralHeader(
            name: name, compression: compression, crc: crc.value,
            compressedSize: compressedSize, uncompressedSize: byteCount, offset: local)
        memberCount += 1
    }

    /// Writes the central directory and end records, then moves the file into place.
    public func finish() throws {
        guard !finished else { return }
        let directoryOffset = out.bytesWritten
        try out.write(central)
        let end = ZipRecords.endRecords(
            count: memberCount, directorySize: central.count, directoryOffset: directoryOffset,
            forceZip64: alwaysWriteZip64End)
        try out.write(end)
        try out.commit()
        finished = true
    }

    /// Discards everything written; `path` is untouched.
    public func abort() {
        finished = true
        out.abort()
    }

    /// Chunks from this size on are checksummed on a second thread while they are written.
    static let concurrentChecksumBytes = 1 << 20

    /// Hands `chunk` to `write` and feeds it to `crc`. A chunk of `concurrentChecksumBytes` or more is checksummed
    /// on another thread while `write` runs (two independent reads of the same bytes, so the CRC leaves the
    /// critical path); the call returns only when both are done, also when `write` throws.
    static func write(
        _ chunk: UnsafeRawBufferPointer, checksummingInto crc: inout ZipCRC32,
        _ write: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard chunk.count >= concurrentChecksumBytes else {
            crc.update(chunk)
            try write(chunk)
            return
        }
        try withUnsafeMutablePointer(to: &crc) { state in
            let job = UncheckedSendable((state, chunk))  // both outlive the job: it is waited for below
            let done = DispatchGroup()
            DispatchQueue.global().async(group: done) { job.value.0.pointee.update(job.value.1) }
            defer { done.wait() }
            try write(chunk)
        }
    }

    private func checkProduced(_ produced: Int, _ byteCount: Int, _ name: String) throws {
        guard produced == byteCount else {
            throw CheckpointError(
                .corrupt, file: path, tensor: name,
                "member `\(name)` produced \(produced) bytes but \(byteCount) were declared")
        }
    }

    private func deflating<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            throw CheckpointError(.io, file: path, "deflate failed: \(error)")
        }
    }
}
