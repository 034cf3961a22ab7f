// Replacing a whole folder in one step (a training checkpoint, docs/RMT.md §8.10): the new folder is written beside
// the old one and exchanged with it, so a process killed at any moment leaves at the path either the previous
// folder or the new one, never a mix; what a killed writer left beside it is removed by the next writer.
//
//   PARENT/NAME                         the folder readers open
//   PARENT/.NAME.checkpoint-PID-XXXXXX  the replacement being written; after the exchange, the previous folder
//   PARENT/.NAME.previous-PID-XXXXXX    only where the file system cannot exchange (see `replaceFolder`)
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import CKernels
import Foundation

/// A fresh, empty folder `PARENT/.NAME.LABEL-PID-XXXXXX` beside `destination` (on its file system, so it can
/// replace it), for writing a replacement into; its permissions are a new folder's (0777 less the umask), not
/// `mkdtemp`'s 0700.
/// - Throws: `CheckpointError(.io)` naming the parent folder.
public func makeTemporaryFolder(beside destination: String, label: String) throws -> String {
    let (parent, name) = splitPath(destination)
    var template = Array("\(parent)/.\(name).\(label)-\(getpid())-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw CheckpointError(
            .io, file: parent, "cannot create a temporary folder: \(String(cString: strerror(errno)))")
    }
    let path = String(cString: made)
    let mask = umask(0)
    umask(mask)
    chmod(path, 0o777 & ~mask)
    return path
}

/// Puts the folder `replacement` at `destination` in one step. When `destination` exists the two are exchanged
/// (`renameat2(RENAME_EXCHANGE)`), so the previous folder is then at `replacement`'s path; otherwise
/// `replacement` is renamed. Both must be on one file system (`makeTemporaryFolder(beside:)` gives such a path).
///
/// Where the file system cannot exchange (some network and FUSE file systems), the previous folder is renamed
/// aside to `.NAME.previous-PID-XXXXXX` and `replacement` into place: a process killed between those two renames
/// leaves `destination` missing, and `removeStaleTemporaryFolders(beside:)` moves the previous folder back.
/// - Parameter exchange: false forces that fallback (tests).
/// - Returns: where the previous folder now is, for the caller to remove (nil when there was none). Until it is
///   removed it is a stale temporary that `removeStaleTemporaryFolders(beside:)` would remove.
/// - Throws: `CheckpointError(.io)` naming `destination`; `destination` is then as it was.
@discardableResult
public func replaceFolder(_ destination: String, with replacement: String, exchange: Bool = true) throws -> String? {
    func failure(_ what: String, _ code: Int32) -> CheckpointError {
        CheckpointError(.io, file: destination, "\(what): \(String(cString: strerror(code)))")
    }
    guard access(destination, F_OK) == 0 else {
        guard rename(replacement, destination) == 0 else { throw failure("cannot move the new folder in", errno) }
        syncFolder(splitPath(destination).parent)
        return nil
    }
    let status = exchange ? ckernels_exchange_paths(replacement, destination) : EINVAL
    if status == 0 {
        syncFolder(splitPath(destination).parent)
        return replacement
    }
    guard status == EINVAL || status == ENOSYS || status == EOPNOTSUPP else {
        throw failure("cannot exchange it with the new folder", status)
    }
    let aside = try makeTemporaryFolder(beside: destination, label: "previous")
    guard rename(destination, aside) == 0 else {
        let code = errno
        rmdir(aside)
        throw failure("cannot move the previous folder aside", code)
    }
    guard rename(replacement, destination) == 0 else {
        let code = errno
        _ = rename(aside, destination)
        throw failure("cannot move the new folder in", code)
    }
    syncFolder(splitPath(destination).parent)
    return aside
}

/// Cleans up after writers of `destination` that were killed: removes every `.NAME.LABEL-PID-XXXXXX` folder
/// beside it whose process is gone, after moving a `previous` folder back to `destination` when `destination` is
/// missing (a fallback replacement cut between its two renames). Folders of live processes are kept.
/// - Returns: the paths removed or restored.
@discardableResult
public func removeStaleTemporaryFolders(beside destination: String) -> [String] {
    let (parent, name) = splitPath(destination)
    let prefix = ".\(name)."
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return [] }
    var handled: [String] = []
    for entry in entries.sorted() where entry.hasPrefix(prefix) {
        let parts = entry.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.last!.utf8.count == 6, let pid = pid_t(parts[parts.count - 2]), pid > 0,
            pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
        else { continue }
        let path = "\(parent)/\(entry)"
        if parts.first == "previous", access(destination, F_OK) != 0, rename(path, destination) == 0 {
            handled.append(path)
            continue
        }
        if (try? FileManager.default.removeItem(atPath: path)) != nil { handled.append(path) }
    }
    return handled
}

/// Flushes a folder's entries (new, renamed and removed names) to disk.
public func syncFolder(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
}

/// The parent folder (`.` for a bare name) and the last component of `path`, trailing slashes ignored.
func splitPath(_ path: String) -> (parent: String, name: String) {
    var trimmed = path
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return (".", trimmed) }
    let parent = String(trimmed[..<slash])
    return (parent.isEmpty ? "/" : parent, String(trimmed[trimmed.index(after: slash)...]))
}
