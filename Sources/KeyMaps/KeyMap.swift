// An ordered list of anchored rules, compiled once, looked up in both directions.
import Checkpoints

/// The result of looking a key up: the rule that matched and the name on the other side.
public struct KeyMatch: Sendable, Equatable {
    /// The name on the other side (for a tie: the PyTorch key it aliases; for a drop: the key itself).
    public let name: String
    /// What to do with the tensor.
    public let action: KeyAction
    /// The index of the rule in its map.
    public let ruleIndex: Int
}

/// One model family's names as data: an ordered list of `KeyRule`s between Hugging Face PyTorch keys and TF
/// weight names, the base and head prefixes, the buffers (drop rules), the names that identify the family and
/// its Keras model classes. The families (Models' `BERT/`, `GPT2/` folders) build their maps; everything here is
/// the mechanism, which knows no family.
///
/// Lookups take the first rule whose anchored pattern matches the whole key. TF names are given without
/// their model-name component (`bert/embeddings/LayerNorm/gamma:0`, the form of sharded TF files,
/// docs/FORMATS.md §3.6). The rules are in state-dict order, so the family's key list is the rules expanded.
public final class KeyMap {
    /// The family the map describes (`bert`, `gpt2`): its `model_type`.
    public let family: String
    /// The PyTorch base prefix (`bert.`, `transformer.`) that docs/FORMATS.md §4.4 adds to keys missing it.
    public let basePrefix: String
    /// Prefixes of head keys, which never take the base prefix (`cls.`, `classifier.`, `lm_head.`).
    public let headPrefixes: [String]
    /// The rules, in state-dict order.
    public let rules: [KeyRule]
    /// Last components that identify the family in PyTorch names, with or without prefixes
    /// (`embeddings.word_embeddings.weight` for BERT, `wte.weight` for GPT-2).
    public let signatureKeys: [String]
    /// First components of the family's TF weight names (`bert`, `mlm___cls`; `transformer`).
    public let tfRoots: [String]
    /// The Keras model classes, most specific first; the first whose identifying prefix a checkpoint has wins.
    public let kerasClasses: [KerasModelClass]
    private let pytorchRegexes: [Regex<AnyRegexOutput>?]
    private let tfRegexes: [Regex<AnyRegexOutput>?]

    public init(
        family: String, basePrefix: String, headPrefixes: [String], rules: [KeyRule], signatureKeys: [String] = [],
        tfRoots: [String] = [], kerasClasses: [KerasModelClass] = []
    ) {
        self.family = family
        self.basePrefix = basePrefix
        self.headPrefixes = headPrefixes
        self.rules = rules
        self.signatureKeys = signatureKeys
        self.tfRoots = tfRoots
        self.kerasClasses = kerasClasses
        pytorchRegexes = rules.map { try? Regex($0.pytorch.regexSource) }
        tfRegexes = rules.map { rule in rule.tf.flatMap { try? Regex($0.regexSource) } }
    }

    /// The first of `maps` whose signature keys occur in `keys` (PyTorch names, prefixed or not), or nil.
    public static func recognizing(keys: [String], among maps: [KeyMap]) -> KeyMap? {
        maps.first { map in
            keys.contains { key in map.signatureKeys.contains { key == $0 || key.hasSuffix("." + $0) } }
        }
    }

    /// The first of `maps` one of whose TF roots starts a name of `tfNames` (given without model name), or nil.
    public static func recognizing(tfNames: [String], among maps: [KeyMap]) -> KeyMap? {
        let firsts = Set(tfNames.compactMap { $0.split(separator: "/").first.map(String.init) })
        return maps.first { map in map.tfRoots.contains(where: firsts.contains) }
    }

    /// The Keras class for a checkpoint's normalized PyTorch keys, or nil when none carries the base prefix.
    public func kerasClass(forKeys keys: [String]) -> KerasModelClass? {
        guard keys.contains(where: { $0.hasPrefix(basePrefix) }) else { return nil }
        return kerasClasses.first { model in
            model.identifyingPrefix.map { prefix in keys.contains { $0.hasPrefix(prefix) } } ?? true
        }
    }

    /// True for a non-parameter buffer (a drop rule, docs/FORMATS.md §4.3), given the key with its base prefix.
    public func isBuffer(_ key: String) -> Bool {
        rules.indices.contains { i in
            rules[i].action == .drop && (pytorchRegexes[i].map { (try? $0.wholeMatch(in: key)) != nil } ?? false)
        }
    }

    /// `key` with the base prefix, unless it is a head key or has it already.
    public func prefixed(_ key: String) -> String {
        key.hasPrefix(basePrefix) || headPrefixes.contains(where: { key.hasPrefix($0) }) ? key : basePrefix + key
    }

    /// The state-dict keys of the writable rules `include` accepts, in rule order, with `{i}` expanded for
    /// `layers` blocks: each run of consecutive `{i}` rules repeats block by block, as `nn.ModuleList` orders them.
    public func expandedKeys(layers: Int, where include: (KeyRule) -> Bool) -> [String] {
        var keys: [String] = []
        var block: [KeyRule] = []
        func flush() {
            for i in 0..<layers { keys += block.map { $0.pytorch.render([Substring(String(i))]) } }
            block = []
        }
        for rule in rules where !rule.readOnly && include(rule) {
            if rule.pytorch.template.contains("{i}") {
                block.append(rule)
            } else {
                flush()
                keys.append(rule.pytorch.template)
            }
        }
        flush()
        return keys
    }

    /// The number of blocks `keys` hold: distinct layer indices among keys that match an `{i}` rule.
    public func layerCount(of keys: [String]) -> Int { layerIndices(of: keys).count }

    /// The distinct layer indices, in increasing order, of the keys (with the base prefix) that match an `{i}` rule.
    public func layerIndices(of keys: [String]) -> [Int] {
        var indices = Set<Int>()
        for key in keys {
            for (i, rule) in rules.enumerated() where rule.pytorch.template.contains("{i}") {
                guard let regex = pytorchRegexes[i], let m = try? regex.wholeMatch(in: key) else { continue }
                if let index = Self.captures(m).first.flatMap({ Int($0) }) { indices.insert(index) }
                break
            }
        }
        return indices.sorted()
    }

    /// What the block keys start with before their index (`bert.encoder.layer.`), or nil for a family without blocks.
    public var blockPrefix: String? {
        rules.lazy.compactMap { rule -> String? in
            guard let r = rule.pytorch.template.firstRange(of: "{i}") else { return nil }
            return String(rule.pytorch.template[..<r.lowerBound])
        }.first
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
    public func ties(present names: Set<UTF8Key>, lmHead: Bool) -> [UTF8Key: String] {
        var out: [UTF8Key: String] = [:]
        for rule in rules {
            guard case .tie(let target, let when) = rule.action, !rule.pytorch.template.contains("{i}"),
                names.contains(UTF8Key(target)), names.contains(UTF8Key(when)) || (when == "lm_head" && lmHead),
                !names.contains(UTF8Key(rule.pytorch.template))
            else { continue }
            out[UTF8Key(rule.pytorch.template)] = target
        }
        return out
    }

    private static func captures(_ m: Regex<AnyRegexOutput>.Match) -> [Substring] {
        m.output.dropFirst().compactMap { $0.substring }
    }
}

/// A Keras model class of `tf_model.h5` (docs/FORMATS.md §3.1).
public struct KerasModelClass: Sendable, Equatable {
    /// The snake-case model name, the first component of every weight name (`tf_bert_for_masked_lm`).
    public let name: String
    /// The weight-carrying Keras layers in model order (the `layer_names` a writer gives, §3.2/§3.3).
    public let layerNames: [String]
    /// A key prefix whose presence identifies the class (`cls.predictions.`); nil for the family's default.
    public let identifyingPrefix: String?

    public init(name: String, layerNames: [String], identifyingPrefix: String?) {
        self.name = name
        self.layerNames = layerNames
        self.identifyingPrefix = identifyingPrefix
    }
}

/// Splits a full Keras weight name into its model name and the rest:
/// `tf_bert_model_1/bert/pooler/dense/bias:0` → (`tf_bert_model_1`, `bert/pooler/dense/bias:0`).
public func splitModelName(_ fullName: String) -> (model: String, rest: String)? {
    guard let slash = fullName.firstIndex(of: "/"), slash != fullName.startIndex else { return nil }
    let rest = fullName[fullName.index(after: slash)...]
    return rest.isEmpty ? nil : (String(fullName[..<slash]), String(rest))
}
