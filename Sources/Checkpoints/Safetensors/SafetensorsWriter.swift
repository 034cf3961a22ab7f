// Writing safetensors byte-identical to the official writer (docs/FORMATS.md §1.6), streamed and atomic.
import TensorCore

/// Writes safetensors files exactly as huggingface/safetensors does: tensors ordered by dtype (descending in
/// the official enum order) then by name (UTF-8 bytes), compact JSON with `__metadata__` first, header padded
/// with spaces to a multiple of 8.
public enum SafetensorsWriter {
    /// The serialized header (with its 8-byte length prefix) and the write order of `infos`.
    /// - Throws: `CheckpointError` for names `TensorNamePolicy` refuses, duplicate or reserved names, and for an
    ///   oversized header.
    public static func header(for infos: [TensorInfo], metadata: [(key: String, value: String)]?, path: String) throws
        -> (bytes: [UInt8], order: [Int])
    {
        try TensorNamePolicy.check(infos.map(\.name), file: path)
        var names = Set<UTF8Key>()
        for info in infos {
            guard info.name != "__metadata__" else {
                throw CheckpointError(
                    .invalidName, file: path, tensor: info.name,
                    "tensor name `\(info.name)` cannot be written to safetensors; rename it")
            }
            guard names.insert(UTF8Key(info.name)).inserted else {
                throw CheckpointError(
                    .duplicateKey, file: path, tensor: info.name,
                    "tensor `\(info.name)` appears twice; names must be unique")
            }
        }
        let order = infos.indices.sorted { a, b in
            let (x, y) = (infos[a], infos[b])
            if x.dtype.safetensorsOrder != y.dtype.safetensorsOrder {
                return x.dtype.safetensorsOrder > y.dtype.safetensorsOrder
            }
            return x.name.utf8.lexicographicallyPrecedes(y.name.utf8)
        }
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() { if !first { json.append(UInt8(ascii: ",")) }; first = false }
        if let metadata {
            separator()
            JSONValue.appendEscaped("__metadata__", to: &json)
            json += Array(":{".utf8)
            let sorted = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (i, (k, v)) in sorted.enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                JSONValue.appendEscaped(k, to: &json)
                json.append(UInt8(ascii: ":"))
                JSONValue.appendEscaped(v, to: &json)
            }
            json.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for i in order {
            let info = infos[i]
            guard let size = info.shape.checkedByteCount(info.dtype) else {
                throw CheckpointError(
                    .validationOverflow, file: path, tensor: info.name,
                    "overflow computing the size of tensor `\(info.name)`")
            }
            separator()
            JSONValue.appendEscaped(info.name, to: &json)
            json += Array(":{\"dtype\":\"\(info.dtype.safetensorsName)\",\"shape\":[".utf8)
            json += Array(info.shape.dimensions.map(String.init).joined(separator: ",").utf8)
            json += Array("],\"data_offsets\":[\(offset),\(offset + size)]}".utf8)
            offset += size
        }
        json.append(UInt8(ascii: "}"))
        let padded = (json.count + 7) / 8 * 8
        json += [UInt8](repeating: 0x20, count: padded - json.count)
        guard json.count <= SafetensorsHeader.maxHeaderLength else {
            throw CheckpointError(
                .headerTooLarge, file: path,
                "header too large: \(json.count) bytes exceed the limit of \(SafetensorsHeader.maxHeaderLength)")
        }
        var prefix = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        prefix += json
        return (prefix, order)
    }

    /// Writes `sources` to `path` atomically, streaming one tensor at a time.
    /// - Parameters:
    ///   - metadata: `__metadata__` entries; `nil` writes no metadata object. Use `[("format", "pt")]` for
    ///     PyTorch-named tensors, as transformers expects.
    ///   - overwrite: replace an existing file (otherwise `.alreadyExists`).
    ///   - progress: called with the bytes written so far after each tensor.
    public static func write(
        _ sources: [TensorSource], metadata: [(key: String, value: String)]?, to path: String,
        overwrite: Bool, progress: ((Int) -> Void)? = nil
    ) throws {
        let (header, order) = try header(for: sources.map(\.info), metadata: metadata, path: path)
        let out = try AtomicFileWriter(destination: path, overwrite: overwrite)
        try out.write(header)
        for i in order {
            try sources[i].forEachChunk(file: path) { try out.write($0) }
            progress?(out.bytesWritten)
        }
        try out.commit()
    }
}
