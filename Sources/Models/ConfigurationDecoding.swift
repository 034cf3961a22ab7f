// Decoding `config.json` into the typed configurations: alternate field names, transformers' defaults, and
// errors that name the file and the field.
import Checkpoints
import Foundation

extension CodingUserInfoKey {
    /// The path of the config file being decoded, for error messages.
    static let configurationFile = CodingUserInfoKey(rawValue: "rmt.configurationFile")!
    /// The parsed config (duplicate keys resolved), for fields whose keys Foundation would compare as Swift strings.
    static let configurationJSON = CodingUserInfoKey(rawValue: "rmt.configurationJSON")!
    /// The weights' shapes the sizes are checked against (`WeightShapes`).
    static let weightShapes = CodingUserInfoKey(rawValue: "rmt.weightShapes")!
}

extension Decoder {
    /// The config file named in `userInfo`, or `config.json`.
    var configurationFile: String { userInfo[.configurationFile] as? String ?? "config.json" }
    /// The parsed config being decoded, when `decodeConfiguration` passed it.
    var configurationJSON: JSONValue? { userInfo[.configurationJSON] as? JSONValue }
    /// The shapes of the weights the config is decoded for, when the caller has them.
    var weightShapes: WeightShapes? { userInfo[.weightShapes] as? WeightShapes }
}

extension KeyedDecodingContainer {
    /// The value of the first of `keys` present and not null (a field and its alternate names), or `defaultValue`.
    func decode<T: Decodable>(_ keys: K..., default defaultValue: T) throws -> T {
        try firstPresent(keys) ?? defaultValue
    }

    /// The value of the first of `keys` present and not null, or nil.
    func firstPresent<T: Decodable>(_ keys: [K]) throws -> T? {
        for key in keys where contains(key) {
            if try !decodeNil(forKey: key) { return try decode(T.self, forKey: key) }
        }
        return nil
    }
}

/// Decodes a configuration from parsed JSON.
///
/// A key given twice takes its last value, as Python's `json` (and so transformers) reads it; keys are compared
/// by their UTF-8 bytes (`JSONValue.lastValueForEachKey()`).
/// - Parameters:
///   - file: the config's path, named in every error.
///   - weights: the shapes of the weights the config is for; its sizes are checked against them first.
/// - Throws: `ModelError(.configuration)` naming the field for type errors and failed validations;
///   `ModelError(.weights)` when the config and the weights disagree on a size.
func decodeConfiguration<T: Decodable>(_ type: T.Type, from parsed: JSONValue, file: String, weights: WeightShapes?)
    throws -> T
{
    let json = parsed.lastValueForEachKey()
    try checkNumbers(json, field: "", file: file)
    let decoder = JSONDecoder()
    decoder.userInfo[.configurationFile] = file
    decoder.userInfo[.configurationJSON] = json
    if let weights { decoder.userInfo[.weightShapes] = weights }
    do {
        return try decoder.decode(T.self, from: Data(json.compactBytes()))
    } catch let error as ModelError {
        throw error
    } catch let DecodingError.typeMismatch(expected, context) {
        let field = context.codingPath.map(\.stringValue).joined(separator: ".")
        throw ModelError(
            .configuration, file: file, field: field,
            "field `\(field)` should be \(describe(expected)); fix config.json")
    } catch let DecodingError.dataCorrupted(context) {
        let field = context.codingPath.map(\.stringValue).joined(separator: ".")
        throw ModelError(
            .configuration, file: file, field: field,
            "field `\(field)` is unreadable (\(context.debugDescription)); fix config.json")
    } catch {
        throw ModelError(.configuration, file: file, "cannot read the configuration: \(error)")
    }
}

/// Refuses numbers Foundation's decoder cannot read (integers beyond 64 bits, floats beyond Double) with the
/// field's name; otherwise the decoder reports the whole file as "not valid JSON" without one.
private func checkNumbers(_ value: JSONValue, field: String, file: String) throws {
    switch value {
    case .number(let text):
        let isInteger = !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        guard isInteger ? Int64(text) != nil || UInt64(text) != nil : Double(text).map(\.isFinite) == true else {
            throw ModelError(
                .configuration, file: file, field: field,
                "field `\(field)` is \(text.prefix(40)), too large to read as a number; fix config.json")
        }
    case .object(let members):
        for (key, member) in members {
            try checkNumbers(member, field: field.isEmpty ? key : "\(field).\(key)", file: file)
        }
    case .array(let items):
        for (i, item) in items.enumerated() { try checkNumbers(item, field: "\(field).\(i)", file: file) }
    default:
        break
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type: return "an integer"
    case is Float.Type, is Double.Type: return "a number"
    case is Bool.Type: return "true or false"
    case is String.Type: return "a string"
    default: return "a \(type)"
    }
}

/// Validations shared by both families.
enum ConfigurationCheck {
    /// Refuses a config of another family.
    static func modelType(_ found: String, is expected: String, _ family: String, file: String) throws {
        guard found == expected else {
            throw ModelError(
                .configuration, file: file, field: "model_type",
                "`model_type` is \"\(found)\" but a \(family) model was asked for")
        }
    }

    static func positive(_ value: Int, _ field: String, file: String) throws {
        guard value > 0 else {
            throw ModelError(
                .configuration, file: file, field: field, "`\(field)` is \(value) but must be positive; fix config.json"
            )
        }
    }

    /// Checks a configuration's sizes: each positive; then, when the decoder was given the weights' shapes, equal
    /// to what the weights show (every disagreement in one error naming both numbers, so a config naming 10⁶
    /// layers beside 6 says so rather than only that 10⁶ is too many); then each within its limit.
    static func sizes(_ sizes: [ConfigurationSize], weights: WeightShapes?, file: String) throws {
        for size in sizes { try positive(size.value, size.field, file: file) }
        if let weights { try weights.checkAgreement(with: sizes, file: file) }
        for size in sizes where size.value > size.limit {
            throw ModelError(
                .configuration, file: file, field: size.field,
                "`\(size.field)` is \(size.value), at most \(size.limit) is supported (no model comes near it); fix config.json"
            )
        }
    }

    /// `layer_norm_eps`: LayerNorm divides by sqrt(variance + eps), so eps must be positive and survive the
    /// conversion to float32 (1e-50 becomes 0, 1e300 infinity).
    static func epsilon(_ value: Double, _ field: String, file: String) throws -> Float {
        let single = Float(value)
        guard value > 0, single > 0, single.isFinite else {
            throw ModelError(
                .configuration, file: file, field: field,
                "`\(field)` must be a positive, finite float32 but is \(value); fix config.json (transformers' defaults are 1e-12 for BERT, 1e-5 for GPT-2)"
            )
        }
        return single
    }

    /// The number of distinct keys of the object `field` of the config (by UTF-8 bytes, as Python counts them),
    /// or nil when it is absent or not an object.
    static func distinctKeyCount(_ json: JSONValue?, _ field: String) -> Int? {
        guard case .object(let members)? = json?[field] else { return nil }
        return Set(members.map { UTF8Key($0.key) }).count
    }

    static func activation(_ name: String, _ field: String, file: String) throws -> ActivationFunction {
        guard let f = ActivationFunction(configName: name) else {
            throw ModelError(
                .configuration, file: file, field: field,
                "`\(field)` is \"\(name)\", which this build does not implement (accepted: \(ActivationFunction.acceptedNames.joined(separator: ", ")))"
            )
        }
        return f
    }

    static func divisible(hidden: Int, heads: Int, hiddenField: String, headsField: String, file: String) throws {
        guard hidden % heads == 0 else {
            throw ModelError(
                .configuration, file: file, field: hiddenField,
                "`\(hiddenField)` \(hidden) is not divisible by `\(headsField)` \(heads); fix config.json")
        }
    }
}
