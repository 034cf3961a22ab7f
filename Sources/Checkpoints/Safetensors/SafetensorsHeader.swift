// Parsing and validating a safetensors header exactly as the official reader does (docs/FORMATS.md §1.3),
// plus rmt-convert's stricter policy (§1.4): duplicate keys and empty names are refused.
import TensorCore

/// One tensor entry of a validated safetensors header.
public struct SafetensorsEntry: Sendable, Equatable {
    public let info: TensorInfo
    /// Byte range relative to the start of the data section.
    public let dataRange: Range<Int>
}

/// A validated safetensors header.
public struct SafetensorsHeader: Sendable {
    /// Tensors sorted by data offset.
    public let entries: [SafetensorsEntry]
    /// `__metadata__` in file order (empty when absent or null).
    public let metadata: [(key: String, value: String)]
    /// Whether `__metadata__` was present (non-null).
    public let hasMetadata: Bool
    /// Header length N (bytes after the 8-byte prefix).
    public let headerLength: Int
    /// Things the parser ignored (unknown fields), for the report.
    public let notes: [String]

    /// The largest header the official implementation accepts.
    public static let maxHeaderLength = 100_000_000

    /// Parses and validates the first bytes of a safetensors file whose total size is `fileSize`.
    /// - Parameters:
    ///   - bytes: the whole file (or at least its first `8 + N` bytes; `fileSize` is what rule 7 checks).
    ///   - path: the file name used in errors.
    /// - Throws: `CheckpointError` with the official kind of the first rule that fails.
    public static func parse(_ bytes: UnsafeRawBufferPointer, fileSize: Int, path: String) throws -> SafetensorsHeader {
        func fail(_ kind: CheckpointError.Kind, _ message: String) -> CheckpointError {
            CheckpointError(kind, file: path, message)
        }
        if isGitLFSPointer(bytes) {
            throw fail(
                .gitLFSPointer,
                "is a Git LFS pointer file, not the weights; run `git lfs pull` (or download the real file) and try again"
            )
        }
        guard fileSize >= 8, let n64 = ByteReader.peek(UInt64.self, in: bytes, at: 0) else {
            throw fail(
                .headerTooSmall,
                "header too small: the file has \(fileSize) bytes, fewer than the 8-byte length prefix; the file is truncated or not safetensors"
            )
        }
        guard n64 <= UInt64(maxHeaderLength) else {
            throw fail(
                .headerTooLarge,
                "header too large: the length prefix says \(n64) bytes, above the limit of \(maxHeaderLength); the file is corrupt or not safetensors"
            )
        }
        let n = Int(n64)
        guard 8 + n <= fileSize, 8 + n <= bytes.count else {
            throw fail(
                .invalidHeaderLength,
                "invalid header length: the prefix says \(n) header bytes but the file has only \(fileSize - 8) after it; the file is truncated"
            )
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<8 + n])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail(.invalidHeader, "invalid UTF-8 in header; the file is corrupt")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerBytes)
        } catch let e as JSONParseError {
            throw fail(.invalidHeaderDeserialization, "invalid JSON in header: \(e)")
        }
        return try validate(json, headerLength: n, dataSize: fileSize - 8 - n, path: path)
    }

    static func validate(_ json: JSONValue, headerLength n: Int, dataSize: Int, path: String) throws
        -> SafetensorsHeader
    {
        func deser(_ message: String) -> CheckpointError {
            CheckpointError(.invalidHeaderDeserialization, file: path, "invalid JSON in header: \(message)")
        }
        guard case .object(let members) = json else { throw deser("the header is not a JSON object") }
        var seen = Set<UTF8Key>()
        var metadata: [(key: String, value: String)] = []
        var hasMetadata = false
        var notes: [String] = []
        var raw: [(name: String, dtype: DType, shape: [Int], text: String, begin: Int, end: Int, overflow: Bool)] = []
        for (name, value) in members {
            guard seen.insert(UTF8Key(name)).inserted else {
                throw CheckpointError(
                    .duplicateKey, file: path, tensor: name,
                    "duplicate key `\(name)` in header; the file was not written by a conforming writer")
            }
            if name == "__metadata__" {
                switch value {
                case .null: continue
                case .object(let items):
                    hasMetadata = true
                    var keys = Set<UTF8Key>()
                    for (k, v) in items {
                        guard let s = v.stringValue else { throw deser("metadata value for `\(k)` is not a string") }
                        guard keys.insert(UTF8Key(k)).inserted else { throw deser("duplicate metadata key `\(k)`") }
                        metadata.append((k, s))
                    }
                default: throw deser("`__metadata__` is not an object of strings")
                }
                continue
            }
            guard !name.isEmpty else {
                throw CheckpointError(
                    .invalidName, file: path, tensor: name, "a tensor has an empty name; rename it before use")
            }
            guard case .object(let fields) = value else { throw deser("entry `\(name)` is not a tensor object") }
            var fieldNames = Set<UTF8Key>()
            for f in fields {
                guard fieldNames.insert(UTF8Key(f.key)).inserted else {
                    throw deser("duplicate field `\(f.key)` in tensor `\(name)`")
                }
                if !["dtype", "shape", "data_offsets"].contains(f.key) {
                    notes.append("ignored unknown field `\(f.key)` of tensor `\(name)`")
                }
            }
            guard let dtypeText = value["dtype"] else { throw deser("missing field `dtype` in tensor `\(name)`") }
            guard let dtypeName = dtypeText.stringValue else {
                throw deser("`dtype` of tensor `\(name)` is not a string")
            }
            guard let dtype = DType(safetensorsName: dtypeName) else {
                throw deser("unknown dtype `\(dtypeName)` for tensor `\(name)`")
            }
            guard case .array(let dims)? = value["shape"] else {
                throw deser("missing or invalid field `shape` in tensor `\(name)`")
            }
            var shape: [Int] = []
            var dimensions: [UInt64] = []
            var overflow = false
            for d in dims {
                guard let u = d.unsignedIntegerValue else {
                    throw deser("shape of tensor `\(name)` holds a value that is not an integer from 0 to 2^64 − 1")
                }
                dimensions.append(u)
                if u > UInt64(Int.max) { overflow = true; shape.append(Int.max) } else { shape.append(Int(u)) }
            }
            // The shape as written (dimensions above 2^63 − 1, which no tensor library can hold, are not clamped).
            let shapeText = "[" + dimensions.map(String.init).joined(separator: ", ") + "]"
            guard case .array(let offs)? = value["data_offsets"] else {
                throw deser("missing or invalid field `data_offsets` in tensor `\(name)`")
            }
            guard offs.count == 2, let b = offs[0].unsignedIntegerValue, let e = offs[1].unsignedIntegerValue else {
                throw deser("`data_offsets` of tensor `\(name)` must be two integers from 0 to 2^64 − 1")
            }
            let clamp = { (v: UInt64) -> Int in v > UInt64(Int.max) ? Int.max : Int(v) }
            raw.append((name, dtype, shape, shapeText, clamp(b), clamp(e), overflow))
        }
        // Rule 5–6: walk in data-offset order (ties broken by name for determinism).
        raw.sort { a, b in
            if a.begin != b.begin { return a.begin < b.begin }
            if a.end != b.end { return a.end < b.end }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var expected = 0
        var entries: [SafetensorsEntry] = []
        for t in raw {
            guard t.begin == expected, t.end >= t.begin else {
                throw CheckpointError(
                    .invalidOffset, file: path, tensor: t.name,
                    "invalid offset for tensor `\(t.name)`: data_offsets [\(t.begin), \(t.end)] but the previous tensor ends at \(expected) (gap or overlap); the file is corrupt"
                )
            }
            let shape = Shape(t.shape)
            guard !t.overflow else {
                throw CheckpointError(
                    .validationOverflow, file: path, tensor: t.name,
                    "tensor `\(t.name)` has a dimension above 2^63 − 1, which torch and numpy cannot hold (shape \(t.text)); the header is corrupt"
                )
            }
            guard let bytes = shape.checkedByteCount(t.dtype) else {
                throw CheckpointError(
                    .validationOverflow, file: path, tensor: t.name,
                    "overflow computing buffer size from shape and/or element type for tensor `\(t.name)` (shape \(t.text)); the header is corrupt"
                )
            }
            guard t.end - t.begin == bytes else {
                throw CheckpointError(
                    .tensorInvalidInfo, file: path, tensor: t.name,
                    "invalid shape, data type, or offset for tensor `\(t.name)`: \(t.dtype.safetensorsName) \(shape) needs \(bytes) bytes but data_offsets [\(t.begin), \(t.end)] span \(t.end - t.begin)"
                )
            }
            entries.append(
                SafetensorsEntry(
                    info: TensorInfo(name: t.name, dtype: t.dtype, shape: shape), dataRange: t.begin..<t.end))
            expected = t.end
        }
        guard expected == dataSize else {
            throw CheckpointError(
                .metadataIncompleteBuffer, file: path,
                "incomplete metadata, file not fully covered: tensors end at data byte \(expected) but the data section has \(dataSize) bytes; the file is truncated or has trailing bytes"
            )
        }
        return SafetensorsHeader(
            entries: entries, metadata: metadata, hasMetadata: hasMetadata, headerLength: n, notes: notes)
    }
}
