// The one way rmt-convert opens an input file: regular files only, without ever blocking.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opens input files (weights, configs, tokenizer and text files, NPY inputs) for reading.
///
/// Every input goes through `open(_:)`: the path is opened with `O_NONBLOCK` (so a named pipe without a writer
/// cannot block the open) and then checked with `fstat` on the descriptor, which describes what the path
/// resolves to after every symlink. Anything but a regular file (a FIFO, a device such as `/dev/zero`, a socket
/// or a directory) is refused with its kind named, before a byte is read.
public enum InputFile {
    /// An open regular file: its descriptor (the caller closes it) and its size.
    public struct Descriptor {
        public let descriptor: Int32
        public let size: Int
        /// Device and inode, which identify the file while the path may be renamed or replaced.
        public let device: UInt64, inode: UInt64
    }

    /// Opens `path` read-only and checks that it is a regular file.
    /// - Throws: `MappedFileError` naming the path and the system error or the kind of file found.
    public static func open(_ path: String) throws -> Descriptor {
        let fd = systemOpen(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw MappedFileError(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw MappedFileError(path: path, reason: reason)
        }
        if let kind = irregularKind(st.st_mode) {
            close(fd)
            throw MappedFileError(
                path: path,
                reason: kind == "a directory"
                    ? "is a directory" : "is \(kind), not a regular file; rmt-convert reads only regular files")
        }
        return Descriptor(
            descriptor: fd, size: Int(st.st_size), device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Checks that `path` is a regular file, for libraries that open files by path themselves (libhdf5).
    /// - Throws: `MappedFileError` as `open(_:)` does.
    public static func checkRegular(_ path: String) throws {
        close(try open(path).descriptor)
    }

    /// The whole contents of a (small) input file: JSON configs, tokenizer and text files.
    /// - Throws: `MappedFileError` as `open(_:)` does, or for a read error.
    public static func contents(_ path: String) throws -> [UInt8] {
        let file = try open(path)
        defer { close(file.descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(min(file.size, 1 << 24), 1 << 16))
        while true {
            let n = chunk.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw MappedFileError(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    /// Checks that `path`, once every symlink is resolved, lies inside `folder`, so that a checkpoint folder cannot
    /// make rmt-convert read (and copy into its output) a file from elsewhere through a symlink, as a cloned
    /// repository or an unpacked archive may hold. The one exception is the Hugging Face cache, whose snapshot
    /// folders `…/snapshots/<revision>/` link every file to the repository's `…/blobs/`. A path that does not
    /// exist passes (opening it reports that).
    /// - Throws: `MappedFileError` naming the path and where it leads.
    public static func checkInside(_ path: String, folder: String) throws {
        guard let target = resolved(path), let base = resolved(folder) else { return }
        if target.hasPrefix(base == "/" ? "/" : base + "/") { return }
        let parts = base.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 3, parts[parts.count - 2] == "snapshots",
            target.hasPrefix(parts.dropLast(2).joined(separator: "/") + "/blobs/")
        {
            return
        }
        throw MappedFileError(
            path: path,
            reason:
                "is a symbolic link to \(target), outside the checkpoint folder; rmt-convert reads nothing from outside the input folder — copy the file into the folder"
        )
    }

    /// `path` with every symlink resolved (`realpath`), or nil when it does not exist.
    static func resolved(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// What a non-regular file is, or nil for a regular file.
    static func irregularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }

    private static func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
        #if canImport(Glibc)
            return Glibc.open(path, flags)
        #else
            return Darwin.open(path, flags)
        #endif
    }
}
