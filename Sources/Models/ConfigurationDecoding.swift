// Decoding `config.json` into the typed configurations: alternate field names, transformers' defaults, and
// errors that name the file and the field.
import Checkpoints
import Foundation

extension CodingUserInfoKey {
    /// The path of the config file being decoded, for error messages.
    static let configurationFile = CodingUserInfoKey(rawValue: "rmt.configurationFile")!
}

extension Decoder {
    /// The config file named in `userInfo`, or `config.json`.
    var configurationFile: String { userInfo[.configurationFile] as? String ?? "config.json" }
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
/// - Parameter file: the config's path, named in every error.
/// - Throws: `ModelError(.configuration)` naming the field for type errors and failed validations.
func decodeConfiguration<T: Decodable>(_ type: T.Type, from json: JSONValue, file: String) throws -> T {
    try checkNumbers(json, field: "", file: file)
    let decoder = JSONDecoder()
    decoder.userInfo[.configurationFile] = file
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
