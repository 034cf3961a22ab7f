// Atomic file output: a temporary file in the target folder, fsync, then rename.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import CKernels

/// Writes a file atomically. Bytes go to a hidden temporary file `.NAME.tmp-PID-XXXXXX` in the destination's
/// folder; `commit()` flushes, fsyncs and renames it into place. If the writer is dropped or `abort()`ed before
/// `commit()`, the temporary file is removed and any previous file at the destination is untouched. A process
/// that is killed cannot clean up: the next writer of the same destination removes temporary files whose
/// process no longer exists.
///
/// Every `writeBackInterval` bytes written, write-back of the range just written is started without waiting
/// (`sync_file_range`), so the disk works while the next bytes are produced and the final fsync has little left.
public final class AtomicFileWriter {
    /// The final path.
    public let destination: String
    /// The temporary path being written.
    public let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20
    private var finished = false
    /// Bytes written so far.
    public private(set) var bytesWritten = 0
    /// Bytes handed to the kernel so far, and how many of them have had write-back started.
    private var bytesFlushed = 0
    private var writeBackStarted = 0
    /// How many written bytes start a write-back of them.
    public static let writeBackInterval = 32 << 20

    /// Opens a temporary file beside `destination`.
    /// - Parameter overwrite: when false, an existing destination is an error (`.alreadyExists`).
    /// - Throws: `CheckpointError` naming the destination.
    public init(destination: String, overwrite: Bool) throws {
        self.destination = destination
        if !overwrite, access(destination, F_OK) == 0 {
            throw CheckpointError(
                .alreadyExists, file: destination,
                "output already exists; pass --force to overwrite it or choose another path")
        }
        let slash = destination.lastIndex(of: "/")
        let folder = slash.map { String(destination[..<$0]) } ?? "."
        let base = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        let directory = folder.isEmpty ? "/" : folder
        AtomicFileWriter.removeStaleTemporaries(in: directory, base: base)
        var template = Array("\(directory)/.\(base).tmp-\(getpid())-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw CheckpointError(
                .io, file: destination,
                "cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        buffer.reserveCapacity(bufferLimit)
    }

    /// Appends bytes. Large writes bypass the buffer.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += bytes.count
    }

    /// Appends bytes.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends `count` zero bytes.
    public func writeZeros(_ count: Int) throws {
        try write([UInt8](repeating: 0, count: count))
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes in pieces of at most `bufferLimit` (1 MiB): measured on a 500 MB checkpoint, single 8 MiB writes
    /// from a mapped source while write-back runs were sometimes several times slower.
    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        try writeFully(bytes, at: nil)
        noteWritten(bytes.count, appended: true)
    }

    /// `write`s (or, at `offset`, `pwrite`s) all of `bytes`, retrying on EINTR.
    private func writeFully(_ bytes: UnsafeRawBufferPointer, at offset: Int?) throws {
        var done = 0
        while done < bytes.count {
            let piece = min(bytes.count - done, bufferLimit)
            let n =
                offset.map { pwrite(fd, bytes.baseAddress! + done, piece, off_t($0 + done)) }
                ?? Glibc.write(fd, bytes.baseAddress! + done, piece)
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(.io, file: destination, "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Counts `count` more bytes handed to the kernel and, every `writeBackInterval` bytes, starts write-back:
    /// of the range just appended, or of the whole file when a library wrote wherever it chose.
    private func noteWritten(_ count: Int, appended: Bool) {
        bytesFlushed += count
        guard bytesFlushed - writeBackStarted >= AtomicFileWriter.writeBackInterval else { return }
        // Only a hint: a failure here surfaces at the final fsync. 0 bytes means to the end of the file.
        _ =
            appended
            ? ckernels_start_writeback(fd, Int64(writeBackStarted), Int64(bytesFlushed - writeBackStarted))
            : ckernels_start_writeback(fd, 0, 0)
        writeBackStarted = bytesFlushed
    }

    /// For writers whose library fills the temporary file through its own handle (HDF5): counts `count` more
    /// bytes written that way and, every `writeBackInterval` bytes, starts write-back of the whole file so far.
    public func noteLibraryWrite(_ count: Int) {
        noteWritten(count, appended: false)
    }

    /// For files a library lays out through its own handle (HDF5 leaves room for a dataset's data): writes `bytes`
    /// at `offset`, anywhere in the file, and counts them toward write-back like `noteLibraryWrite`.
    /// - Throws: `CheckpointError(.io)`, or `.invalidArgument` for a negative offset.
    public func writeRegion(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard offset >= 0 else {
            throw CheckpointError(.invalidArgument, file: destination, "cannot write at offset \(offset)")
        }
        try flush()
        try writeFully(bytes, at: offset)
        noteWritten(bytes.count, appended: false)
    }

    /// Replaces already written bytes at `offset` (e.g. a checksum in a header written before its data).
    /// - Throws: `CheckpointError(.io)`, or `.invalidArgument` when the range reaches past the bytes written.
    public func overwrite(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard offset >= 0, offset + bytes.count <= bytesWritten else {
            throw CheckpointError(
                .invalidArgument, file: destination,
                "cannot overwrite bytes \(offset)..<\(offset + bytes.count) of the \(bytesWritten) written")
        }
        try flush()
        try writeFully(bytes, at: offset)
    }

    /// Drops everything written after the first `offset` bytes; writing continues from there.
    /// - Throws: `CheckpointError(.io)`, or `.invalidArgument` when `offset` is past the bytes written.
    public func truncate(to offset: Int) throws {
        guard offset >= 0, offset <= bytesWritten else {
            throw CheckpointError(
                .invalidArgument, file: destination, "cannot truncate to \(offset) bytes of the \(bytesWritten) written"
            )
        }
        try flush()
        guard ftruncate(fd, off_t(offset)) == 0, lseek(fd, off_t(offset), SEEK_SET) >= 0 else {
            throw CheckpointError(.io, file: destination, "truncate failed: \(String(cString: strerror(errno)))")
        }
        bytesWritten = offset
        bytesFlushed = offset
        writeBackStarted = min(writeBackStarted, offset)
    }

    /// Fails cleanly, before anything is written, when `byteCount` bytes do not fit (disk full, file-size
    /// limit): for writers that hand the temporary file to a library that cannot recover from a failed write.
    /// Nothing stays reserved, and the temporary file is emptied (call it before writing).
    public func checkSpace(_ byteCount: Int) throws {
        buffer.removeAll(keepingCapacity: true)
        bytesWritten = 0
        bytesFlushed = 0
        writeBackStarted = 0
        let status = posix_fallocate(fd, 0, off_t(byteCount))
        _ = ftruncate(fd, 0)
        _ = lseek(fd, 0, SEEK_SET)
        guard status == 0 || status == EINVAL || status == EOPNOTSUPP else {
            throw CheckpointError(
                .io, file: destination,
                "no room to write \(byteCount) bytes: \(String(cString: strerror(status))); free some space or choose another folder"
            )
        }
    }

    /// Flushes, fsyncs and renames the temporary file into place.
    public func commit() throws {
        guard !finished else { return }
        do {
            try flush()
            guard fsync(fd) == 0 else {
                throw CheckpointError(.io, file: destination, "fsync failed: \(String(cString: strerror(errno)))")
            }
            close(fd)
            fd = -1
            fchmodTemporary()
            guard rename(temporaryPath, destination) == 0 else {
                throw CheckpointError(
                    .io, file: destination,
                    "cannot move the finished file into place: \(String(cString: strerror(errno)))")
            }
            finished = true
        } catch {
            abort()
            throw error
        }
    }

    /// mkstemp creates 0600 files; give the result the usual 0644 (less the umask).
    private func fchmodTemporary() {
        let mask = umask(0)
        umask(mask)
        chmod(temporaryPath, 0o666 & ~mask)
    }

    /// Discards the temporary file; the destination is untouched.
    public func abort() {
        guard !finished else { return }
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        finished = true
    }

    deinit { abort() }

    /// Removes `.BASE.tmp-PID-XXXXXX` files in `folder` whose process is gone: what a killed or crashed writer
    /// of the same destination left behind. Files of live processes (this one included) are kept.
    static func removeStaleTemporaries(in folder: String, base: String) {
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        let prefix = ".\(base).tmp-"
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.hasPrefix(prefix) else { continue }
            let rest = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard rest.count == 2, rest[1].utf8.count == 6, let pid = pid_t(rest[0]), pid > 0, pid != getpid() else {
                continue
            }
            if kill(pid, 0) != 0, errno == ESRCH { unlink("\(folder)/\(name)") }
        }
    }
}

/// Creates the folder `path` (and parents) if missing.
public func createDirectory(_ path: String) throws {
    var st = stat()
    if stat(path, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw CheckpointError(.io, file: path, "exists and is not a folder; choose another output path")
        }
        return
    }
    if let slash = path.dropLast().lastIndex(of: "/"), slash != path.startIndex {
        try createDirectory(String(path[..<slash]))
    }
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
        throw CheckpointError(.io, file: path, "cannot create folder: \(String(cString: strerror(errno)))")
    }
}
