import Foundation
import RMT

/// The rmt-convert version (`--version`): the one RMT writes into exported checkpoints (`written_by`).
public var toolVersion: String { rmtConvertVersion }

/// Encodes a report as stable JSON (sorted keys, 2-space indentation, final newline).
public func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}

/// Encodes a record as one line of JSON (sorted keys, no newline): `--json` progress lines and `metrics.jsonl`.
public func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
