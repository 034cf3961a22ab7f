// Helpers shared by the fuzz targets: the codecs that read files by path get the input through a scratch file.
#if canImport(Glibc)
    import Glibc
#endif

/// A per-process scratch file (in /dev/shm when available) holding the current input.
public enum ScratchFile {
    public static let path: String = {
        let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        return "\(folder)/rmt-convert-fuzz-\(getpid())"
    }()

    /// Replaces the scratch file's contents with `bytes` and returns its path.
    public static func write(_ bytes: UnsafeRawBufferPointer, suffix: String) -> String {
        replaceFile(path + suffix, with: bytes)
    }

    /// Replaces the file at `target` with `bytes` and returns `target`; the harness stops on failure.
    @discardableResult
    static func replaceFile(_ target: String, with bytes: UnsafeRawBufferPointer) -> String {
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("fuzz harness: cannot create \(target)") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { fatalError("fuzz harness: cannot write \(target)") }
            done += n
        }
        return target
    }
}

/// A per-process scratch folder (beside `ScratchFile`) holding copies of fixture files and the current input.
public enum ScratchFolder {
    nonisolated(unsafe) private static var prepared: [String: String] = [:]

    /// The folder holding the files of `source` whose names end with `suffix`, copied once per process.
    public static func withFiles(from source: String, suffix: String) -> String {
        if let folder = prepared[source] { return folder }
        let folder = ScratchFile.path + "-" + String(prepared.count) + ".d"
        mkdir(folder, 0o700)
        if let directory = opendir(source) {
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard name.hasSuffix(suffix), let bytes = contents(of: "\(source)/\(name)") else { continue }
                bytes.withUnsafeBytes { _ = write($0, named: name, in: folder) }
            }
        }
        prepared[source] = folder
        return folder
    }

    /// Replaces `folder/name` with `bytes` and returns its path.
    public static func write(_ bytes: UnsafeRawBufferPointer, named name: String, in folder: String) -> String {
        ScratchFile.replaceFile("\(folder)/\(name)", with: bytes)
    }

    private static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return n == 0 ? bytes : nil }
            bytes += chunk[0..<n]
        }
    }
}
