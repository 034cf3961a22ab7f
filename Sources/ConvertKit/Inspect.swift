// `inspect`: what a checkpoint holds, as a table or as stable JSON.
import Checkpoints
import Foundation
import TensorCore

/// Everything `rmt-convert inspect` reports about a checkpoint.
///
/// Metadata keys and aliases are keyed by bytes (`UTF8Key`), as the file keys them: `é` and `e` + U+0301 are two
/// entries. The JSON is written through `JSONValue`, since Foundation's encoder would merge them.
public struct InspectReport: Sendable {
    public struct TensorRow: Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let bytes: Int

        public init(name: String, dtype: String, shape: [Int], bytes: Int) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }
    }
    public let path: String
    public let format: String
    public let weightsFile: String
    public let architecture: String?
    public let architectureSource: String?
    public let tensorCount: Int
    public let parameterCount: Int
    public let totalBytes: Int
    public let tensors: [TensorRow]
    public let metadata: [UTF8Key: String]
    public let aliases: [UTF8Key: String]
    public let sideFiles: [String]
    public let notes: [String]
}

/// Builds the report for `checkpoint`. Reads only headers and indexes, never tensor data.
public func inspect(_ checkpoint: Checkpoint) -> InspectReport {
    let a = checkpoint.archive
    var metadata: [UTF8Key: String] = [:]
    for (k, v) in a.metadata { metadata[UTF8Key(k)] = v }
    return InspectReport(
        path: checkpoint.path, format: a.format.rawValue, weightsFile: checkpoint.weightsPath,
        architecture: checkpoint.architecture, architectureSource: checkpoint.architectureSource,
        tensorCount: a.tensorInfos.count, parameterCount: a.parameterCount, totalBytes: a.totalBytes,
        tensors: a.tensorInfos.map {
            .init(name: $0.name, dtype: $0.dtype.safetensorsName, shape: $0.shape.dimensions, bytes: $0.byteCount)
        },
        metadata: metadata, aliases: a.aliases, sideFiles: checkpoint.sideFiles,
        notes: a.notes + checkpoint.configurationNotes)
}

extension InspectReport {
    /// The report as JSON: snake-case keys, absent optionals left out.
    public var jsonValue: JSONValue {
        func number(_ n: Int) -> JSONValue { .number(String(n)) }
        func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        func object(_ map: [UTF8Key: String]) -> JSONValue { .object(map.map { ($0.key.string, .string($0.value)) }) }
        var members: [(key: String, value: JSONValue)] = [
            ("path", .string(path)), ("format", .string(format)), ("weights_file", .string(weightsFile)),
            ("tensor_count", number(tensorCount)), ("parameter_count", number(parameterCount)),
            ("total_bytes", number(totalBytes)), ("metadata", object(metadata)), ("aliases", object(aliases)),
            ("side_files", strings(sideFiles)), ("notes", strings(notes)),
            (
                "tensors",
                .array(
                    tensors.map { t in
                        .object([
                            ("name", .string(t.name)), ("dtype", .string(t.dtype)),
                            ("shape", .array(t.shape.map(number))), ("bytes", number(t.bytes)),
                        ])
                    })
            ),
        ]
        if let architecture { members.append(("architecture", .string(architecture))) }
        if let architectureSource { members.append(("architecture_source", .string(architectureSource))) }
        return .object(members)
    }

    /// Stable JSON: keys sorted by bytes, 2-space indentation in the layout of the other JSON reports, no escaped
    /// slashes, final newline. Every control character in a string (names come from untrusted files) is a `\u`
    /// escape, so the report cannot drive a terminal.
    public func json() throws -> String {
        let text = jsonValue.prettyText(sortKeys: true, layout: .foundation)
        // The writer escapes U+0000–U+001F; DEL, C1 and bidirectional controls are escaped here (only strings
        // can hold them, and `\uXXXX` there decodes to the same string).
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x20, escapedControlCharacters(String(scalar)) != String(scalar) {
                let digits = String(scalar.value, radix: 16)
                out.append(contentsOf: "\\u\(String(repeating: "0", count: 4 - digits.count) + digits)".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// A human-readable summary followed by a table of tensors.
    public func table() -> String {
        var lines: [String] = []
        lines.append("path:          \(path)")
        if weightsFile != path { lines.append("weights:       \(weightsFile)") }
        lines.append("format:        \(format)")
        lines.append("architecture:  \(architecture.map { "\($0) (from \(architectureSource ?? "?"))" } ?? "unknown")")
        lines.append("tensors:       \(tensorCount)")
        lines.append("parameters:    \(formatCount(parameterCount))")
        lines.append("data bytes:    \(formatBytes(totalBytes))")
        if !metadata.isEmpty {
            lines.append(
                "metadata:      "
                    + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        for (k, v) in aliases.sorted(by: { $0.key < $1.key }) { lines.append("alias:         \(k) -> \(v)") }
        if !sideFiles.isEmpty { lines.append("side files:    \(sideFiles.joined(separator: ", "))") }
        for n in notes { lines.append("note:          \(n)") }
        lines.append("")
        let names = tensors.map { escapedControlCharacters($0.name) }
        let nameWidth = min(72, max(4, names.map(\.count).max() ?? 4))
        let shapes = tensors.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        let shapeWidth = max(5, shapes.map(\.count).max() ?? 5)
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        lines.append("\(pad("name", nameWidth))  \(pad("dtype", 7))  \(pad("shape", shapeWidth))  bytes")
        for ((t, name), shape) in zip(zip(tensors, names), shapes) {
            lines.append("\(pad(name, nameWidth))  \(pad(t.dtype, 7))  \(pad(shape, shapeWidth))  \(t.bytes)")
        }
        // Names, metadata and notes come from the file: control characters are shown as `\u{1B}`.
        return lines.map(escapedControlCharacters).joined(separator: "\n") + "\n"
    }
}

/// `1234567` → `1,234,567`.
public func formatCount(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.reversed().enumerated() {
        if i > 0, i % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}

/// Bytes in binary units with one decimal: `87.3 MiB`.
public func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f", v) + " " + units[u]
}
