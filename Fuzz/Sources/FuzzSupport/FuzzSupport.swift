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
        let target = path + suffix
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
