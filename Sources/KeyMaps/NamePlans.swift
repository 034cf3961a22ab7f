// Whole-checkpoint renaming plans built from the maps: PyTorch → TF for writers, TF → PyTorch for readers
// (docs/FORMATS.md §3.2–3.6; bare § numbers below are that document's).
import Checkpoints

/// How the tensors of a PyTorch-named checkpoint are named and shaped in the TF layout.
public struct TFNamePlan: Sendable {
    /// One stored tensor.
    public struct Entry: Sendable, Equatable {
        /// The key as the source names it.
        public let source: String
        /// The TF weight name without model name (`bert/pooler/dense/kernel:0`).
        public let tfName: String
        public let transform: KeyTransform
        /// Where the row sits in the tables: (rule section, layer index, rule index).
        let rowOrder: [Int]
    }

    /// The Keras model class (gives the model-name component).
    public let modelClass: KerasModelClass
    /// Stored tensors in the model's layer order and, within a layer, the row order of the §3.2/§3.3 tables
    /// (embeddings, then each block in index order, then the rest).
    public let entries: [Entry]
    /// Source keys not stored because they alias another (tied weights).
    public let tied: [String]
    /// Source keys not stored because they are buffers.
    public let dropped: [String]

    /// Plans the TF names for `keys` (a checkpoint under Hugging Face PyTorch names of one of `maps`' families).
    /// - Throws: `CheckpointError` when the family is unknown or a key has no rule (all such keys are listed).
    public static func fromPyTorch(_ keys: [String], maps: [KeyMap], file: String) throws -> TFNamePlan {
        guard let map = KeyMap.recognizing(keys: keys, among: maps) else {
            let families = maps.map { $0.family }.joined(separator: ", ")
            throw CheckpointError(
                .invalidArgument, file: file,
                "TF names exist only for \(families) checkpoints, and these keys are none of them; use --names keep or hf"
            )
        }
        let normalized = KeySanitizer(map: map, basePrefix: .add, wrapperPrefixes: KeySanitizer.modelWrappers)
            .normalizedNames(keys)
        guard let modelClass = map.kerasClass(forKeys: normalized.map(\.key)) else {
            throw CheckpointError(
                .invalidArgument, file: file,
                "cannot tell the \(map.family) model class from the key names; use --names keep or hf")
        }
        var entries: [Entry] = [], tied: [String] = [], dropped: [String] = [], unknown: [String] = []
        var seen: [UTF8Key: String] = [:]  // TF name → source key
        for (original, key) in normalized.map({ ($0.original, $0.key) }) {
            guard let match = map.toTF(key) else { unknown.append(original); continue }
            switch match.action {
            case .map(let transform):
                if let other = seen[UTF8Key(match.name)] {
                    throw CheckpointError(
                        .duplicateKey, file: file, tensor: original,
                        "`\(original)` and `\(other)` both map to the TF weight `\(match.name)`; remove one of them")
                }
                seen[UTF8Key(match.name)] = original
                entries.append(
                    Entry(
                        source: original, tfName: match.name, transform: transform,
                        rowOrder: rowOrder(map, match, layerOrder: modelClass.layerNames)))
            case .tie: tied.append(original)
            case .drop: dropped.append(original)
            }
        }
        guard unknown.isEmpty else {
            throw CheckpointError(
                .invalidArgument, file: file, tensor: unknown.first,
                "no TF name for \(unknown.count) key(s) of this \(map.family) checkpoint: \(unknown.prefix(5).joined(separator: ", ")); use --names keep or hf"
            )
        }
        entries.sort { $0.rowOrder.lexicographicallyPrecedes($1.rowOrder) }
        return TFNamePlan(modelClass: modelClass, entries: entries, tied: tied, dropped: dropped)
    }

    /// (layer position, section, block index, rule index): rules before the first `{i}` rule are section 0,
    /// `{i}` rules section 1 (ordered by block index first), later rules section 2.
    private static func rowOrder(_ map: KeyMap, _ match: KeyMatch, layerOrder: [String]) -> [Int] {
        let layer = match.name.split(separator: "/").first.map(String.init) ?? ""
        let layerPosition = layerOrder.firstIndex(of: layer) ?? layerOrder.count
        let firstBlock = map.rules.firstIndex { $0.pytorch.template.contains("{i}") } ?? map.rules.count
        guard map.rules[match.ruleIndex].pytorch.template.contains("{i}") else {
            return [layerPosition, match.ruleIndex < firstBlock ? 0 : 2, 0, match.ruleIndex]
        }
        let block =
            match.name.split(separator: "/").lazy.compactMap { c -> Int? in
                guard let r = c.firstRange(of: "_._") else { return nil }
                return Int(c[r.upperBound...])
            }.first ?? 0
        return [layerPosition, 1, block, match.ruleIndex]
    }
}

/// How TF weight names become Hugging Face PyTorch keys (§3.4), table first, the generic rules otherwise.
public struct PyTorchNamePlan: Sendable {
    /// One tensor.
    public struct Entry: Sendable, Equatable {
        /// The TF name without model name, as given.
        public let tfName: String
        /// The PyTorch key.
        public let key: String
        public let transform: KeyTransform
        /// False when no table row covered the name and the generic §3.4 rules named it.
        public let fromTable: Bool
    }

    public let entries: [Entry]
    /// Tied keys the TF layout leaves out: alias → stored key.
    public let aliases: [UTF8Key: String]
    /// Human-readable notes for the report.
    public let notes: [String]

    /// Plans PyTorch keys for `tfNames` (each without its model-name component) with the first of `maps` whose
    /// TF roots they use; `modelNames` are the stripped components (`tfgp_t2lm_head_model` makes
    /// `lm_head.weight` an alias of the embeddings).
    /// - Throws: `CheckpointError` when two TF names map to one key.
    public static func fromTF(_ tfNames: [String], modelNames: Set<String> = [], maps: [KeyMap], file: String) throws
        -> PyTorchNamePlan
    {
        let map = KeyMap.recognizing(tfNames: tfNames, among: maps)
        var entries: [Entry] = [], seen: [UTF8Key: String] = [:], generic = 0
        var transposed = 0, reshaped = 0
        for name in tfNames {
            var entry: Entry
            if let map, let m = map.toPyTorch(name), case .map(let transform) = m.action {
                entry = Entry(tfName: name, key: m.name, transform: transform, fromTable: true)
            } else {
                let g = genericPyTorchName(fromTF: name)
                entry = Entry(tfName: name, key: g.key, transform: g.isKernel ? .transpose : .none, fromTable: false)
                generic += 1
            }
            if let other = seen[UTF8Key(entry.key)] {
                throw CheckpointError(
                    .duplicateKey, file: file, tensor: name,
                    "TF weights `\(other)` and `\(name)` both map to `\(entry.key)`; the file has duplicate weights")
            }
            seen[UTF8Key(entry.key)] = name
            if entry.transform == .transpose { transposed += 1 }
            if entry.transform == .reshapeBias { reshaped += 1 }
            entries.append(entry)
        }
        let aliases = map?.ties(present: Set(seen.keys), lmHead: modelNames.contains { $0.contains("lm_head") }) ?? [:]
        var notes = ["TF weight names mapped to PyTorch names (\(map?.family ?? "generic") rules)"]
        if transposed > 0 { notes.append("\(transposed) kernels transposed from [in, out] to [out, in]") }
        if reshaped > 0 { notes.append("\(reshaped) biases reshaped from [1, n] to [n]") }
        if generic > 0 {
            notes.append(
                "\(generic) weights named by the generic TF rules (not in the \(map?.family ?? "known families'") table)"
            )
        }
        if !aliases.isEmpty {
            notes.append(
                "tied: " + aliases.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", "))
        }
        return PyTorchNamePlan(entries: entries, aliases: aliases, notes: notes)
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
