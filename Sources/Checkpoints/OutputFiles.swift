// Writing a set of output files all or nothing, and the small atomic writes every folder writer needs.
import TensorCore
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the files `paths` with `body`, all or nothing: refuses, before anything is written, to replace any that
/// exists unless `force`; creates `folder` (when given) first; and when `body` throws, removes those of `paths`
/// that did not exist before, and `folder` if this call created it and it is empty again. Files replaced with
/// `force` before a later one failed stay replaced (each is written atomically on its own).
/// - Throws: `CheckpointError(.alreadyExists)`, or what `body` throws.
public func writingOutputs(_ paths: [String], force: Bool, folder: String? = nil, _ body: () throws -> Void) throws {
    let preexisting = Set(paths.filter(fileExists))
    try refuseExistingOutputs(paths, force: force)
    let createdFolder = folder.map { !fileExists($0) } ?? false
    do {
        if let folder { try createDirectory(folder) }
        try body()
    } catch {
        for path in paths where !preexisting.contains(path) { unlink(path) }
        if createdFolder, let folder { rmdir(folder) }  // only succeeds when empty
        throw error
    }
}

/// Refuses, before anything is written, to replace any of `paths` that exists, unless `force`.
/// - Throws: `CheckpointError(.alreadyExists)` naming the first existing path.
public func refuseExistingOutputs(_ paths: [String], force: Bool) throws {
    guard !force, let existing = paths.first(where: fileExists) else { return }
    throw CheckpointError(
        .alreadyExists, file: existing, "output already exists; pass --force to overwrite it or choose another path")
}

/// Copies a small side file (config, tokenizer) through `AtomicFileWriter`.
/// - Throws: `CheckpointError` naming the source or the destination.
public func copyFileAtomically(from source: String, to destination: String, overwrite: Bool) throws {
    let file: MappedFile
    do { file = try MappedFile(path: source) } catch let e as MappedFileError {
        throw CheckpointError(.io, file: source, "cannot open: \(e.reason)")
    }
    let out = try AtomicFileWriter(destination: destination, overwrite: overwrite)
    try out.write(file.bytes)
    try out.commit()
}

/// Writes `text` (UTF-8) atomically.
/// - Throws: `CheckpointError` naming `path`.
public func writeText(_ text: String, to path: String, overwrite: Bool) throws {
    let out = try AtomicFileWriter(destination: path, overwrite: overwrite)
    try out.write(Array(text.utf8))
    try out.commit()
}
