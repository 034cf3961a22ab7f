// An ordered list of anchored rules, compiled once, looked up in both directions.

/// The result of looking a key up: the rule that matched and the name on the other side.
public struct KeyMatch: Sendable, Equatable {
    /// The name on the other side (for a tie: the PyTorch key it aliases; for a drop: the key itself).
    public let name: String
    /// What to do with the tensor.
    public let action: KeyAction
    /// The index of the rule in its map.
    public let ruleIndex: Int
}

/// A name map between Hugging Face PyTorch keys and TF weight names, as data: an ordered list of `KeyRule`s.
///
/// Lookups take the first rule whose anchored pattern matches the whole key. TF names are given without
/// their model-name component (`bert/embeddings/LayerNorm/gamma:0`, the form of sharded TF files, §3.6).
public final class KeyMap {
    /// The family the map describes (`bert`, `gpt2`).
    public let family: String
    /// The PyTorch base prefix (`bert.`, `transformer.`) that §4.4 adds to keys missing it.
    public let basePrefix: String
    /// Prefixes of head keys, which never take the base prefix (`cls.`, `classifier.`, `lm_head.`).
    public let headPrefixes: [String]
    /// The rules, in order.
    public let rules: [KeyRule]
    private let pytorchRegexes: [Regex<AnyRegexOutput>?]
    private let tfRegexes: [Regex<AnyRegexOutput>?]

    public init(family: String, basePrefix: String, headPrefixes: [String], rules: [KeyRule]) {
        self.family = family
        self.basePrefix = basePrefix
        self.headPrefixes = headPrefixes
        self.rules = rules
        pytorchRegexes = rules.map { try? Regex($0.pytorch.regexSource) }
        tfRegexes = rules.map { rule in rule.tf.flatMap { try? Regex($0.regexSource) } }
    }

    /// Templates whose regular expression failed to compile (a bug in the table; tests require none).
    public var invalidRules: [String] {
        rules.indices.compactMap { i in
            pytorchRegexes[i] == nil || (rules[i].tf != nil && tfRegexes[i] == nil) ? rules[i].pytorch.template : nil
        }
    }

    /// Every writable rule index whose PyTorch pattern matches `key` (the coverage test requires exactly one).
    public func pytorchMatches(_ key: String) -> [Int] {
        rules.indices.filter { i in
            !rules[i].readOnly && (pytorchRegexes[i].map { (try? $0.wholeMatch(in: key)) != nil } ?? false)
        }
    }

    /// The TF name (without model name) for a normalized PyTorch key, or nil when no rule covers it.
    public func toTF(_ key: String) -> KeyMatch? {
        for (i, rule) in rules.enumerated() where !rule.readOnly {
            guard let regex = pytorchRegexes[i], let m = try? regex.wholeMatch(in: key) else { continue }
            switch rule.action {
            case .map:
                guard let tf = rule.tf else { continue }
                return KeyMatch(name: tf.render(Self.captures(m)), action: rule.action, ruleIndex: i)
            case .tie(let target, _):
                return KeyMatch(name: target, action: rule.action, ruleIndex: i)
            case .drop:
                return KeyMatch(name: key, action: rule.action, ruleIndex: i)
            }
        }
        return nil
    }

    /// The PyTorch key for a TF name without its model-name component, or nil when no rule covers it.
    public func toPyTorch(_ tfName: String) -> KeyMatch? {
        for (i, rule) in rules.enumerated() {
            guard let regex = tfRegexes[i], let m = try? regex.wholeMatch(in: tfName) else { continue }
            return KeyMatch(name: rule.pytorch.render(Self.captures(m)), action: rule.action, ruleIndex: i)
        }
        return nil
    }

    /// The tied keys a checkpoint with `names` implies: alias → stored key. A tie holds when its target and
    /// its `when` key are present (`lm_head` stands for an LM-head model, which stores no head weight).
    public func ties(present names: Set<String>, lmHead: Bool) -> [String: String] {
        var out: [String: String] = [:]
        for rule in rules {
            guard case .tie(let target, let when) = rule.action, !rule.pytorch.template.contains("{i}"),
                names.contains(target), names.contains(when) || (when == "lm_head" && lmHead),
                !names.contains(rule.pytorch.template)
            else { continue }
            out[rule.pytorch.template] = target
        }
        return out
    }

    private static func captures(_ m: Regex<AnyRegexOutput>.Match) -> [Substring] {
        m.output.dropFirst().compactMap { $0.substring }
    }
}

/// Splits a full Keras weight name into its model name and the rest:
/// `tf_bert_model_1/bert/pooler/dense/bias:0` → (`tf_bert_model_1`, `bert/pooler/dense/bias:0`).
public func splitModelName(_ fullName: String) -> (model: String, rest: String)? {
    guard let slash = fullName.firstIndex(of: "/"), slash != fullName.startIndex else { return nil }
    let rest = fullName[fullName.index(after: slash)...]
    return rest.isEmpty ? nil : (String(fullName[..<slash]), String(rest))
}
