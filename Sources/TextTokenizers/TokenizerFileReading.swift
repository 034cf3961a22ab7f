// File reading and typed JSON field access for the tokenizer loaders; every failure names the file and field.
import Checkpoints
import Foundation

/// A tokenizer-file error: the file, the field (when there is one) and what to do, in one line.
func tokenizerError(_ kind: CheckpointError.Kind = .corrupt, file: String, field: String?, _ message: String)
    -> CheckpointError
{
    CheckpointError(kind, file: file, tensor: field, field.map { "field '\($0)': \(message)" } ?? message)
}

enum TokenizerFileReading {
    /// True when `path` exists and is not a folder.
    static func isFile(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
    }

    /// The bytes of `path`, opened like every input (regular files only, without blocking).
    static func bytes(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw tokenizerError(.io, file: path, field: nil, "no such file")
        }
        return Data(try readInputFile(path))
    }

    /// The text of `path`, which must be UTF-8.
    static func text(_ path: String) throws -> String {
        let data = try bytes(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw tokenizerError(file: path, field: nil, "is not valid UTF-8 text; re-save the file as UTF-8")
        }
        return text
    }

    /// The lines of a UTF-8 text file, split at LF with a trailing CR dropped; a final newline ends the last
    /// line rather than starting an empty one.
    static func lines(_ path: String) throws -> [String] {
        let data = try bytes(path)
        var lines: [String] = []
        for (index, var line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if line.last == 0x0D { line = line.dropLast() }
            guard let text = String(validating: line, as: UTF8.self) else {
                throw tokenizerError(
                    file: path, field: "line \(index + 1)", "is not valid UTF-8; re-save the file as UTF-8")
            }
            lines.append(text)
        }
        if data.last == 0x0A || data.isEmpty { lines.removeLast() }
        return lines
    }

    /// `path` parsed as JSON.
    static func json(_ path: String) throws -> JSONValue {
        let data = try bytes(path)
        do {
            return try data.withUnsafeBytes { try JSONValue.parse($0) }
        } catch let error as JSONParseError {
            throw tokenizerError(
                file: path, field: nil,
                "is not valid JSON (\(error.description)); the file is damaged or not a tokenizer file")
        }
    }
}

/// Typed access to the members of one JSON object, with errors naming the file and the field's path.
struct JSONFields {
    let value: JSONValue
    let file: String
    /// The path of `value` in the file (`model`, `normalizer`), empty for the root.
    let path: String

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member `key`, or nil when absent or null.
    func optional(_ key: String) -> JSONValue? {
        guard let member = value[key], member != .null else { return nil }
        return member
    }

    func object(_ key: String) throws -> JSONFields? {
        guard let member = optional(key) else { return nil }
        guard case .object = member else { throw wrongType(key, "an object") }
        return JSONFields(value: member, file: file, path: fieldPath(key))
    }

    func string(_ key: String) throws -> String? {
        guard let member = optional(key) else { return nil }
        guard let text = member.stringValue else { throw wrongType(key, "a string") }
        return text
    }

    func requiredString(_ key: String) throws -> String {
        guard let text = try string(key) else { throw missing(key, "a string") }
        return text
    }

    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let member = optional(key) else { return defaultValue }
        guard case .bool(let flag) = member else { throw wrongType(key, "true or false") }
        return flag
    }

    /// A boolean that may be null (BertNormalizer's `strip_accents`).
    func optionalBool(_ key: String) throws -> Bool? {
        guard let member = optional(key) else { return nil }
        guard case .bool(let flag) = member else { throw wrongType(key, "true, false or null") }
        return flag
    }

    func integer(_ key: String, default defaultValue: Int) throws -> Int {
        guard let member = optional(key) else { return defaultValue }
        guard let number = member.unsignedIntegerValue, let result = Int(exactly: number) else {
            throw wrongType(key, "a non-negative integer")
        }
        return result
    }

    func array(_ key: String) throws -> [JSONValue]? {
        guard let member = optional(key) else { return nil }
        guard case .array(let items) = member else { throw wrongType(key, "an array") }
        return items
    }

    func missing(_ key: String, _ expected: String) -> CheckpointError {
        tokenizerError(file: file, field: fieldPath(key), "is missing; expected \(expected)")
    }

    func wrongType(_ key: String, _ expected: String) -> CheckpointError {
        tokenizerError(file: file, field: fieldPath(key), "must be \(expected)")
    }

    func unsupported(_ key: String, _ what: String) -> CheckpointError {
        tokenizerError(
            .unsupportedContent, file: file, field: fieldPath(key),
            "\(what) is not supported (supported: BERT WordPiece and GPT-2 byte-level BPE tokenizers)")
    }
}

/// A token id as `tokenizers` reads one: an integer from 0 to 2^32 − 1 (Rust `u32`); nil otherwise. `tokenizers`
/// 0.22.2 refuses 2^32 in a vocabulary, an added token or a post-processor ("invalid value: integer
/// `4294967296`, expected u32").
func tokenId(_ value: JSONValue) -> Int? {
    guard let number = value.unsignedIntegerValue, number <= UInt64(UInt32.max) else { return nil }
    return Int(number)
}

/// What a field holding a token id must be, for errors.
let tokenIdExpectation = "a token id from 0 to 4294967295"

/// A token → id vocabulary from a JSON object, ids checked as `tokenId` does.
func vocabulary(from value: JSONValue, file: String, field: String) throws -> [TokenBytes: Int] {
    guard case .object(let members) = value else {
        throw tokenizerError(file: file, field: field, "must be an object mapping tokens to ids")
    }
    var vocabulary: [TokenBytes: Int] = [:]
    vocabulary.reserveCapacity(members.count)
    for member in members {
        guard let id = tokenId(member.value) else {
            throw tokenizerError(file: file, field: "\(field).\(member.key)", "must be \(tokenIdExpectation)")
        }
        vocabulary[Array(member.key.utf8)] = id
    }
    guard !vocabulary.isEmpty else {
        throw tokenizerError(file: file, field: field, "is empty; the vocabulary needs at least one token")
    }
    return vocabulary
}
