// The one error type of checkpoint I/O: a kind, the file, the tensor or field, and a one-line message.
import TensorCore

/// A failure reading or writing a checkpoint. `description` is one line naming the file, the tensor or field,
/// what is wrong (expected versus actual) and, where there is one, what to do.
public struct CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong. The safetensors kinds keep the official names so users can search for them.
    public enum Kind: String, Sendable, Equatable {
        // safetensors (official kinds)
        case headerTooSmall, headerTooLarge, invalidHeaderLength, invalidHeader, invalidHeaderDeserialization
        case invalidOffset, validationOverflow, misalignedSlice, tensorInvalidInfo, metadataIncompleteBuffer
        case tensorNotFound
        // rmt-convert's own
        case duplicateKey, invalidName, gitLFSPointer, unknownFormat, formatMismatch, io, shardIndex
        case unsupportedDType, unsupportedContent, alreadyExists, invalidArgument, truncated, corrupt
        case configuration
    }

    public let kind: Kind
    /// The file (or folder) the error is about, as the user named it.
    public let file: String
    /// The tensor or field concerned, when there is one.
    public let tensor: String?
    /// What is wrong and what to do, without the file prefix.
    public let message: String

    public init(_ kind: Kind, file: String, tensor: String? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.tensor = tensor
        self.message = message
    }

    public var description: String {
        let flat = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
        return "\(file): \(flat)"
    }
}

/// True when `bytes` start like a Git LFS pointer file (`version https://git-lfs…`): a small text file that
/// stands in for weights that were never downloaded.
public func isGitLFSPointer(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let signature = Array("version https://git-lfs".utf8)
    return bytes.count >= signature.count && zip(signature, bytes).allSatisfy { $0 == $1 }
}

extension CheckpointError {
    /// The error for a file that could not be opened (`.io`, "cannot open: …") or that changed while it was mapped.
    public init(_ error: MappedFileError, tensor: String? = nil) {
        self.init(
            error.changedWhileReading ? .truncated : .io, file: error.path, tensor: tensor,
            error.changedWhileReading
                ? "\(error.reason); nothing was written — run the command again once the file is complete"
                : "cannot open: \(error.reason)")
    }
}

/// The bytes of a small input file (a config, tokenizer or text file), opened like every input: regular files
/// only, without blocking (`InputFile`).
/// - Throws: `CheckpointError(.io)` naming the file.
public func readInputFile(_ path: String) throws -> [UInt8] {
    do { return try InputFile.contents(path) } catch let error as MappedFileError { throw CheckpointError(error) }
}
