// One entry point for a checkpoint given as a file or as a Hugging Face style folder.
import TensorCore
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A checkpoint: its tensors, plus, for a folder, its config and tokenizer files.
public struct Checkpoint {
    /// What the user passed.
    public let path: String
    /// True when `path` is a folder.
    public let isFolder: Bool
    /// The weights file inside the folder (or `path` itself).
    public let weightsPath: String
    /// The tensors.
    public let archive: any TensorArchive
    /// `config.json`, parsed, when the folder has one.
    public let config: JSONValue?
    /// `rmt_config.json`, parsed, when the folder has one.
    public let rmtConfig: JSONValue?
    /// Tokenizer and other side files to copy along on conversion (names relative to the folder).
    public let sideFiles: [String]

    /// Weight files looked for in a folder, in order of preference. safetensors wins over torch pickles
    /// because it needs no unpickling and maps zero-copy; a sharded index counts as its format.
    public static let weightFileNames = [
        "model.safetensors", "model.safetensors.index.json",
        "pytorch_model.bin", "pytorch_model.bin.index.json",
        "model.npz", "tf_model.h5", "tf_model.h5.index.json", "model.h5", "model_best.pth",
    ]

    /// Tokenizer files, copied into wrapped and converted folders.
    public static let tokenizerFileNames = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt",
        "added_tokens.json",
    ]

    /// Files copied unchanged between checkpoint folders.
    public static let sideFileNames = [
        "config.json", "rmt_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json", "generation_config.json",
    ]

    /// `path` without a trailing slash: the folder files are looked up in.
    public var folder: String { path.hasSuffix("/") ? String(path.dropLast()) : path }

    /// Parses a JSON file if it exists.
    /// - Throws: `CheckpointError` when it exists but cannot be read or is not valid JSON.
    public static func readJSON(_ path: String) throws -> JSONValue? {
        guard fileExists(path) else { return nil }
        let bytes = try readInputFile(path)  // regular files only, never blocking (InputFile)
        do { return try bytes.withUnsafeBytes { try JSONValue.parse($0) } } catch {
            throw CheckpointError(.configuration, file: path, "invalid JSON: \(error); fix or remove the file")
        }
    }
}

extension ArchiveOpener {
    /// Opens `path`, a weights file or a folder holding one (chosen by `Checkpoint.weightFileNames`).
    /// - Parameter format: overrides the format implied by the extension.
    /// - Throws: `CheckpointError`.
    public func openCheckpoint(_ path: String, format: CheckpointFormat? = nil) throws -> Checkpoint {
        guard fileExists(path) else { throw CheckpointError(.io, file: path, "no such file or folder") }
        guard isDirectory(path) else {
            return Checkpoint(
                path: path, isFolder: false, weightsPath: path, archive: try open(path, format: format), config: nil,
                rmtConfig: nil, sideFiles: [])
        }
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let weights = Checkpoint.weightFileNames.first(where: { fileExists("\(folder)/\($0)") }) else {
            throw CheckpointError(
                .io, file: path,
                "folder holds no weights file (looked for \(Checkpoint.weightFileNames.joined(separator: ", ")))")
        }
        let side = Checkpoint.sideFileNames.filter { fileExists("\(folder)/\($0)") }
        // Nothing is read from outside the folder through a symlink (InputFile.checkInside).
        for name in [weights] + side { try checkInsideFolder("\(folder)/\(name)", folder: folder) }
        let archive = try open("\(folder)/\(weights)", format: format)
        return Checkpoint(
            path: path, isFolder: true, weightsPath: "\(folder)/\(weights)", archive: archive,
            config: try Checkpoint.readJSON("\(folder)/config.json"),
            rmtConfig: try Checkpoint.readJSON("\(folder)/rmt_config.json"), sideFiles: side)
    }
}

/// Checks that `path`, with every symlink resolved, lies inside `folder` (`InputFile.checkInside`).
/// - Throws: `CheckpointError(.io)` naming the path and where it leads.
public func checkInsideFolder(_ path: String, folder: String) throws {
    do { try InputFile.checkInside(path, folder: folder) } catch let e as MappedFileError { throw CheckpointError(e) }
}

/// True when something exists at `path` (following links).
public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// True when `path` is a folder (following links).
public func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

extension CheckpointFormat {
    /// The weights file name inside a checkpoint folder (`model.safetensors`, `pytorch_model.bin`, …).
    public var folderWeightsName: String {
        switch self {
        case .safetensors: return "model.safetensors"
        case .torch: return "pytorch_model.bin"
        case .npz: return "model.npz"
        case .npy: return "model.npy"
        case .hdf5: return "tf_model.h5"
        }
    }
}
