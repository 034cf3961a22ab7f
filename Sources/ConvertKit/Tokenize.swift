// `tokenize`: text to token ids with a checkpoint folder's own tokenizer files.
import TextTokenizers
import Checkpoints
import Foundation

/// The tokenizer files of a checkpoint folder, in the order they are tried.
///
/// tokenizer.json wins because it states every option (normaliser, model, special tokens) and is what
/// transformers' fast tokenizers load; vocab.txt (BERT) and vocab.json + merges.txt (GPT-2) are the older
/// files, read with the options of tokenizer_config.json / special_tokens_map.json when present. A folder with
/// both older kinds is refused rather than guessed.
public enum TokenizerSource: Equatable, Sendable {
    case tokenizerJSON(String)
    case bertVocabulary(String)
    case gpt2Vocabulary(vocabulary: String, merges: String)

    /// Finds the tokenizer files in `folder`.
    /// - Throws: `CheckpointError` when the folder is missing or holds no usable tokenizer files.
    public static func find(in folder: String) throws -> TokenizerSource {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw CheckpointError(.io, file: folder, "no such folder; pass a checkpoint folder holding tokenizer files")
        }
        guard isFolder.boolValue else {
            throw CheckpointError(
                .invalidArgument, file: folder,
                "is a file; pass the checkpoint folder that holds tokenizer.json or vocab.txt")
        }
        let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        func has(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "\(base)/\(name)") }
        if has("tokenizer.json") { return .tokenizerJSON("\(base)/tokenizer.json") }
        let bert = has("vocab.txt"), gpt2 = has("vocab.json")
        if bert && gpt2 {
            throw CheckpointError(
                .unsupportedContent, file: folder,
                "holds both vocab.txt (BERT) and vocab.json (GPT-2) but no tokenizer.json; remove the one that does not belong to the model"
            )
        }
        if bert { return .bertVocabulary("\(base)/vocab.txt") }
        if gpt2 {
            guard has("merges.txt") else {
                throw CheckpointError(
                    .io, file: folder,
                    "has vocab.json but no merges.txt; a GPT-2 tokenizer needs both (or a tokenizer.json)")
            }
            return .gpt2Vocabulary(vocabulary: "\(base)/vocab.json", merges: "\(base)/merges.txt")
        }
        throw CheckpointError(
            .io, file: folder,
            "has no tokenizer files (looked for tokenizer.json, vocab.txt, vocab.json + merges.txt); copy the model's tokenizer files into it"
        )
    }
}

/// Loads the tokenizer of a checkpoint folder (see `TokenizerSource` for which files win).
/// - Returns: a tokenizer whose `encode` adds special tokens as transformers' `tokenizer(text)` does.
/// - Throws: `CheckpointError` naming the file and field when no tokenizer files exist or one is malformed.
public func loadTokenizer(folder: String) throws -> any TextTokenizer {
    try loadPipelineTokenizer(folder: folder)
}

/// `loadTokenizer(folder:)` with the concrete type, for callers that need special-token ids.
public func loadPipelineTokenizer(folder: String) throws -> PipelineTokenizer {
    switch try TokenizerSource.find(in: folder) {
    case .tokenizerJSON(let path):
        return try PipelineTokenizer(tokenizerJSON: path)
    case .bertVocabulary(let path):
        return try PipelineTokenizer(bertVocabulary: path, settings: try TokenizerSettings(folder: folder))
    case .gpt2Vocabulary(let vocabulary, let merges):
        return try PipelineTokenizer(
            gpt2Vocabulary: vocabulary, merges: merges, settings: try TokenizerSettings(folder: folder))
    }
}

/// Formats ids as `rmt-convert tokenize` prints them: space-separated, or a JSON array.
public func formatTokenIds(_ ids: [Int], json: Bool) -> String {
    json
        ? "[" + ids.map(String.init).joined(separator: ",") + "]\n" : ids.map(String.init).joined(separator: " ") + "\n"
}
