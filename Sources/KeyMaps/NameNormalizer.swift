// FORMATS.md §4.4 steps 1–3 as data: prefix and last-component rules applied in order to a whole key set.

/// One normalization rule for Hugging Face PyTorch keys.
public enum NameRule: Sendable, Equatable {
    /// Strip `prefix` from every key, only when every key has it (`module.`, `_orig_mod.`).
    case stripCommonPrefix(String)
    /// Rename a final path component (`LayerNorm.gamma` → `LayerNorm.weight`).
    case renameLastComponent(from: String, to: String)
    /// Add the map's base prefix (`bert.`, `transformer.`) to keys that lack it, except head keys.
    case addBasePrefix
}

/// Applies `NameRule`s to the keys of a PyTorch-named checkpoint.
public enum NameNormalizer {
    /// The §4.4 rules, in order.
    public static let rules: [NameRule] = [
        .stripCommonPrefix("module."), .stripCommonPrefix("_orig_mod."),
        .renameLastComponent(from: "gamma", to: "weight"), .renameLastComponent(from: "beta", to: "bias"),
        .addBasePrefix,
    ]

    /// The family map for a PyTorch key set: BERT when a word-embedding key is present, GPT-2 when `wte` is.
    public static func family(of keys: [String]) -> KeyMap? {
        func last(_ k: String, _ suffix: String) -> Bool { k == suffix || k.hasSuffix("." + suffix) }
        if keys.contains(where: {
            last($0, "embeddings.word_embeddings.weight") || last($0, "embeddings.word_embeddings.gamma")
        }) {
            return .bert()
        }
        if keys.contains(where: { last($0, "wte.weight") }) { return .gpt2() }
        return nil
    }

    /// Each key with its normalized form, in the input order.
    public static func normalize(_ keys: [String], map: KeyMap, rules: [NameRule] = rules) -> [(
        original: String, normalized: String
    )] {
        var current = keys
        for rule in rules {
            switch rule {
            case .stripCommonPrefix(let prefix):
                if !current.isEmpty, current.allSatisfy({ $0.hasPrefix(prefix) }) {
                    current = current.map { String($0.dropFirst(prefix.count)) }
                }
            case .renameLastComponent(let from, let to):
                current = current.map { key in
                    guard key == from || key.hasSuffix("." + from) else { return key }
                    return String(key.dropLast(from.count)) + to
                }
            case .addBasePrefix:
                current = current.map { key in
                    if key.hasPrefix(map.basePrefix) || map.headPrefixes.contains(where: { key.hasPrefix($0) }) {
                        return key
                    }
                    return map.basePrefix + key
                }
            }
        }
        return Array(zip(keys, current)).map { (original: $0.0, normalized: $0.1) }
    }
}

/// The §3.4 conversion for TF names no table row covers (other architectures): remove `:0`, replace
/// `<x>___<rest>` components by `<rest>`, `_._` by `/`, rename the last component, join with `.`.
/// Input is the weight name without its model-name component. Returns the key and whether it is a kernel.
public func genericPyTorchName(fromTF name: String) -> (key: String, isKernel: Bool) {
    var components: [String] = []
    for raw in name.replacing(":0", with: "").split(separator: "/") {
        var c = Substring(raw)
        if let r = c.firstRange(of: "___") { c = c[r.upperBound...] }
        components += c.split(separator: "_._").map(String.init)
    }
    let renames = ["kernel": "weight", "embeddings": "weight", "gamma": "weight", "beta": "bias"]
    let isKernel = components.last == "kernel"
    if let last = components.last, let renamed = renames[last] { components[components.count - 1] = renamed }
    return (components.joined(separator: "."), isKernel)
}
