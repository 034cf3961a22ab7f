// A read-only memory map of a whole file.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file mapped read-only into memory. Pages are read from disk only when touched, so opening a large
/// checkpoint costs no resident memory.
///
/// Lifetime: `bytes` is valid as long as this object lives. Every `TensorStorage` view into it keeps a
/// strong reference, so tensors may outlive the archive that produced them.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// All bytes of the file; empty for an empty file.
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    /// Maps `path` read-only.
    /// - Throws: `MappedFileError` naming the path and the system error.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MappedFileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw MappedFileError(path: path, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw MappedFileError(path: path, reason: "is a directory") }
        let count = Int(st.st_size)
        if count == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw MappedFileError(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        mapping = p
        bytes = UnsafeRawBufferPointer(start: p, count: count)
    }

    /// The file size in bytes.
    public var count: Int { bytes.count }

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
    }
}

/// A file could not be opened or mapped.
public struct MappedFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): cannot open: \(reason)" }
}
