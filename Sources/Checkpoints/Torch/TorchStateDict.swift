// Finding the state dict in an unpickled torch object and splitting it into stored tensors and aliases
// (docs/FORMATS.md §5.4, §5.5).

/// The tensors of a state dict: each stored tensor once, in pickle order, plus the names that view exactly
/// the same storage region as an earlier tensor (tied weights).
public struct TorchStateDict: Sendable {
    /// Stored tensors in pickle order.
    public let tensors: [(name: String, reference: TorchTensorReference)]
    /// alias → the stored tensor it is identical to.
    public let aliases: [UTF8Key: String]
    /// The top-level key the state dict was found under, or nil when the top level is the state dict.
    public let key: String?
    /// What was skipped, for the report.
    public let notes: [String]

    /// The keys tried, in order, when a checkpoint nests its state dict and no key is given.
    public static let conventionalKeys = ["state_dict", "model_state_dict", "model", "module"]

    /// Locates the state dict in `root`.
    /// - Parameters:
    ///   - key: a user-given top-level key; otherwise the top level itself when it is a dict of tensors, else
    ///     the first of `conventionalKeys` holding a dict of tensors.
    ///   - file: the file named in errors.
    /// - Throws: `CheckpointError(.unsupportedContent)` listing the top-level keys when nothing fits.
    public static func locate(in root: PickleValue, key: String?, file: String) throws -> TorchStateDict {
        guard let top = root.dictEntries else {
            throw CheckpointError(
                .unsupportedContent, file: file,
                "holds a pickled \(root.typeName), not a dict of tensors; save `model.state_dict()` instead")
        }
        let keys = top.map { $0.key.stringValue.map { "`\($0)`" } ?? $0.key.typeName }.joined(separator: ", ")
        if let key {
            guard let value = root[key] else {
                throw CheckpointError(
                    .unsupportedContent, file: file, tensor: key,
                    "has no top-level key `\(key)`; its keys are \(keys.isEmpty ? "(none)" : keys)")
            }
            guard let entries = value.dictEntries, isTensorDict(entries) else {
                throw CheckpointError(
                    .unsupportedContent, file: file, tensor: key,
                    "top-level key `\(key)` holds a \(value.typeName), not a dict of tensors; choose another key among \(keys)"
                )
            }
            return try split(entries, key: key, skipped: top.count - 1, file: file)
        }
        if isTensorDict(top) { return try split(top, key: nil, skipped: 0, file: file) }
        for candidate in conventionalKeys {
            if let entries = root[candidate]?.dictEntries, isTensorDict(entries) {
                return try split(entries, key: candidate, skipped: top.count - 1, file: file)
            }
        }
        throw CheckpointError(
            .unsupportedContent, file: file,
            "holds no state dict: the top level is a dict with keys \(keys) and none of \(conventionalKeys.map { "`\($0)`" }.joined(separator: ", ")) is a dict of tensors; pass the key that holds the weights"
        )
    }

    /// A dict whose keys are all strings and whose values are all tensors (an empty dict counts).
    static func isTensorDict(_ entries: [PickleDictEntry]) -> Bool {
        entries.allSatisfy { entry in
            guard case .string = entry.key, case .tensor = entry.value else { return false }
            return true
        }
    }

    static func split(_ entries: [PickleDictEntry], key: String?, skipped: Int, file: String) throws -> TorchStateDict {
        var tensors: [(name: String, reference: TorchTensorReference)] = []
        var aliases: [UTF8Key: String] = [:]
        // Views already stored, by storage key, so alias detection stays linear for large state dicts.
        var byStorage: [UTF8Key: [Int]] = [:]
        for entry in entries {
            guard case .string(let name) = entry.key, case .tensor(let reference) = entry.value else { continue }
            guard !name.isEmpty else {
                throw CheckpointError(
                    .invalidName, file: file, tensor: name, "a tensor has an empty name; rename it before use")
            }
            let candidates = byStorage[UTF8Key(reference.storage.key), default: []]
            if let same = candidates.first(where: { tensors[$0].reference.isSameView(as: reference) }) {
                aliases[UTF8Key(name)] = tensors[same].name
                continue
            }
            byStorage[UTF8Key(reference.storage.key), default: []].append(tensors.count)
            tensors.append((name, reference))
        }
        var notes: [String] = []
        if let key {
            notes.append(
                "state dict read from top-level key `\(key)`"
                    + (skipped > 0 ? "; \(skipped) other top-level entr\(skipped == 1 ? "y" : "ies") ignored" : ""))
        }
        if !aliases.isEmpty {
            notes.append(
                "\(aliases.count) tied tensor\(aliases.count == 1 ? "" : "s") share storage with another: "
                    + aliases.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: ", "))
        }
        return TorchStateDict(tensors: tensors, aliases: aliases, key: key, notes: notes)
    }
}
