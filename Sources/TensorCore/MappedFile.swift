// A read-only memory map of a whole file, guarded against the file shrinking while it is mapped.
import CMappedFileGuard

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file mapped read-only into memory. Pages are read from disk only when touched, so opening a large
/// checkpoint costs no resident memory.
///
/// The file is opened through `InputFile.open` (regular files only, never blocking). If another process
/// truncates the file while it is mapped, reading a page past its new end would kill the process with SIGBUS;
/// every mapping is registered with a handler (`CMappedFileGuard`) that turns such pages into zeros and marks the
/// mapping instead, and `checkUnchanged()` turns the mark, or a smaller size on disk, into an error. Readers call
/// it after copying out of the mapping and before anything they produced is kept (`TensorSource`, the weight
/// loader), so a file truncated under rmt-convert gives a one-line error and no output. This costs one table entry
/// per mapping and one `stat` per check, nothing per byte.
///
/// Lifetime: `bytes` is valid as long as this object lives. Every `TensorStorage` view into it keeps a
/// strong reference, so tensors may outlive the archive that produced them.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// All bytes of the file; empty for an empty file.
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?
    private let guardSlot: Int32
    private let device: UInt64, inode: UInt64

    /// Maps `path` read-only.
    /// - Throws: `MappedFileError` naming the path and the system error, or the kind of file when it is not a
    ///   regular file.
    public init(path: String) throws {
        self.path = path
        let file = try InputFile.open(path)
        defer { close(file.descriptor) }
        device = file.device
        inode = file.inode
        let count = file.size
        if count == 0 {
            mapping = nil
            guardSlot = -1
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, file.descriptor, 0)
        guard let p, p != MAP_FAILED else {
            throw MappedFileError(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        mapped_file_guard_install()
        mapping = p
        guardSlot = mapped_file_guard_register(p, count)
        bytes = UnsafeRawBufferPointer(start: p, count: count)
    }

    /// The file size in bytes.
    public var count: Int { bytes.count }

    /// Throws when the file shrank since it was mapped: a read touched a page past its new end (those pages read
    /// as zeros), or the file on disk is now smaller than the mapping. A path that now names another file (the
    /// original was renamed or replaced) is not an error: the mapping still holds the original's bytes.
    /// - Throws: `MappedFileError` saying what changed.
    public func checkUnchanged() throws {
        guard count > 0 else { return }
        if mapped_file_guard_faulted(guardSlot) != 0 {
            throw MappedFileError(
                path: path,
                reason: "the file was truncated (or became unreadable) while it was being read",
                changedWhileReading: true)
        }
        var st = stat()
        if stat(path, &st) == 0, UInt64(st.st_dev) == device, UInt64(st.st_ino) == inode, Int(st.st_size) < count {
            throw MappedFileError(
                path: path,
                reason: "the file shrank from \(count) to \(st.st_size) bytes while it was being read",
                changedWhileReading: true)
        }
    }

    deinit {
        mapped_file_guard_unregister(guardSlot)
        if let mapping { munmap(mapping, bytes.count) }
    }
}

/// A file could not be opened or mapped, or changed while it was mapped.
public struct MappedFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    /// True for `checkUnchanged()` failures, false when the file could not be opened.
    public let changedWhileReading: Bool

    public init(path: String, reason: String, changedWhileReading: Bool = false) {
        self.path = path
        self.reason = reason
        self.changedWhileReading = changedWhileReading
    }

    public var description: String {
        changedWhileReading
            ? "\(path): \(reason); nothing was written — run the command again once the file is complete"
            : "\(path): cannot open: \(reason)"
    }
}
