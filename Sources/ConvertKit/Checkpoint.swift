// One entry point for a checkpoint given as a file or as a Hugging Face style folder.
import Checkpoints
import Foundation
import TensorCore

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

    /// Opens `path` (a weights file or a folder holding one).
    /// - Parameters:
    ///   - format: overrides the format implied by the extension.
    ///   - readOptions: reader choices such as reading NPY `V2` arrays as bf16.
    /// - Throws: `CheckpointError`.
    public static func open(_ path: String, format: CheckpointFormat? = nil, readOptions: ReadOptions = ReadOptions())
        throws -> Checkpoint
    {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CheckpointError(.io, file: path, "no such file or folder")
        }
        guard isDir.boolValue else {
            let archive = try ArchiveRegistry.open(path, format: format, readOptions: readOptions)
            return Checkpoint(
                path: path, isFolder: false, weightsPath: path, archive: archive, config: nil, rmtConfig: nil,
                sideFiles: [])
        }
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let weights = weightFileNames.first(where: { FileManager.default.fileExists(atPath: "\(folder)/\($0)") })
        else {
            throw CheckpointError(
                .io, file: path, "folder holds no weights file (looked for \(weightFileNames.joined(separator: ", ")))")
        }
        let side = sideFileNames.filter { FileManager.default.fileExists(atPath: "\(folder)/\($0)") }
        // Nothing is read from outside the folder through a symlink (InputFile.checkInside).
        for name in [weights] + side {
            do { try InputFile.checkInside("\(folder)/\(name)", folder: folder) } catch let e as MappedFileError {
                throw CheckpointError(e)
            }
        }
        let archive = try ArchiveRegistry.open("\(folder)/\(weights)", format: format, readOptions: readOptions)
        return Checkpoint(
            path: path, isFolder: true, weightsPath: "\(folder)/\(weights)", archive: archive,
            config: try readJSON("\(folder)/config.json"), rmtConfig: try readJSON("\(folder)/rmt_config.json"),
            sideFiles: side)
    }

    /// Parses a JSON file if it exists.
    static func readJSON(_ path: String) throws -> JSONValue? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        do { return try JSONValue.parse(file.bytes) } catch {
            throw CheckpointError(.configuration, file: path, "invalid JSON: \(error); fix or remove the file")
        }
    }

    /// The model family: `rmt` when the folder has `rmt_config.json`, else `model_type` of `config.json`
    /// (`bert`, `gpt2`, …), else a guess from the tensor names, else nil.
    public var architecture: String? {
        if rmtConfig != nil { return "rmt" }
        if let t = config?["model_type"]?.stringValue { return t }
        return Checkpoint.guessArchitecture(names: archive.tensorNames)
    }

    /// How `architecture` was decided: `rmt_config.json`, `config.json` or `tensor names`.
    public var architectureSource: String? {
        if rmtConfig != nil { return "rmt_config.json" }
        if config?["model_type"]?.stringValue != nil { return "config.json" }
        return Checkpoint.guessArchitecture(names: archive.tensorNames) == nil ? nil : "tensor names"
    }

    /// Recognises BERT, GPT-2 and RMT key layouts by characteristic names.
    public static func guessArchitecture(names: [String]) -> String? {
        let set = Set(names)
        if set.contains("memory_cell.memory") || set.contains("mem_token_ids") { return "rmt" }
        if names.contains(where: { $0.hasSuffix("embeddings.word_embeddings.weight") }) { return "bert" }
        if names.contains(where: { $0 == "wte.weight" || $0.hasSuffix(".wte.weight") }) { return "gpt2" }
        return nil
    }
}
