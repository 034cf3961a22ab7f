// The scoped weight builder: layers ask for tensors by their checkpoint name and expected shape; the store
// records what was used, and one final check reports every missing, unexpected and mis-shaped key by name.
import Checkpoints
import KeyMaps
import TensorCore

/// The normalised tensors of one checkpoint, lent out to a model under construction.
///
/// Problems are collected rather than thrown at the first one, so a user sees every missing key and shape
/// mismatch at once; `verifyAllConsumed()` throws them together. A model built from a store that reports
/// problems must not be used, which `ModelLoader` guarantees by verifying before returning the model.
public final class WeightStore {
    /// The archive read.
    public let archive: any TensorArchive
    /// The key layout the names were normalised for.
    public let layout: KeyLayout
    /// Normalised names and notes.
    public let keys: SanitizedKeys
    private var consumed: Set<UTF8Key> = []
    private var missing: [String] = []
    private var problems: [String] = []
    /// Keys dropped by `verifyAllConsumed()` because the target does not use them (other heads).
    public private(set) var ignoredKeys: [String] = []

    /// Normalises the names of `archive` (and its aliases) with the family's `map` for `layout`
    /// (docs/FORMATS.md §4.4, `KeySanitizer`).
    /// - Parameter wrapperPrefixes: wrapper prefixes stripped when every key has one.
    /// - Throws: `ModelError(.weights)` when names collide after normalisation.
    public init(
        archive: any TensorArchive, map: KeyMap?, layout: KeyLayout,
        wrapperPrefixes: [String] = KeySanitizer.modelWrappers
    ) throws {
        self.archive = archive
        self.layout = layout
        let names = archive.tensorNames + archive.aliases.keys.sorted().map(\.string)
        keys = KeySanitizer(map: map, basePrefix: layout.basePrefix, wrapperPrefixes: wrapperPrefixes).sanitize(names)
        guard keys.collisions.isEmpty else {
            throw ModelError(
                .weights, file: archive.path, field: keys.collisions.first,
                "key names collide after normalisation: \(keys.collisions.joined(separator: "; ")); remove one of each pair"
            )
        }
    }

    /// The scope at the root of the (normalised) name space.
    public var root: ParameterScope { ParameterScope(store: self, prefix: "") }

    /// True when the normalised key exists.
    public func contains(_ key: String) -> Bool { keys.sources[UTF8Key(key)] != nil }

    /// The float32 values of `key`, checked against `shape`; records a missing key or a shape mismatch and
    /// returns an empty placeholder instead.
    /// - Throws: `ModelError(.weights)` when the stored dtype cannot be read as float.
    func values(_ key: String, shape: [Int], required: Bool) throws -> [Float]? {
        guard let original = keys.sources[UTF8Key(key)] else {
            if required { missing.append(key) }
            return nil
        }
        consumed.insert(UTF8Key(key))
        let info = try archive.info(for: archive.aliases[UTF8Key(original)] ?? original)
        guard info.shape.dimensions == shape else {
            problems.append("`\(original)` has shape \(info.shape) but the config asks for \(Shape(shape))")
            return required ? [] : nil
        }
        let tensor = try archive.tensor(named: original)
        // The values are copied out, so the mapped file's pages need not stay resident beside the copy.
        defer { tensor.releaseResidentPages() }
        let values: [Float]
        do { values = try tensor.floatValues() } catch {
            throw ModelError(
                .weights, file: archive.path, field: original,
                "tensor `\(original)` is \(tensor.dtype.rawValue), which cannot be read as float32")
        }
        try TensorSource.checkUnchanged(tensor, name: original)  // the file was not truncated while read
        return values
    }

    /// Records a problem found by a layer (an untied head that differs from the embeddings).
    func report(_ problem: String) { problems.append(problem) }

    /// Throws when anything was missing or mis-shaped, or when the file has keys the model never asked for.
    /// Keys under the layout's ignored prefixes are dropped and listed in `ignoredKeys` instead.
    /// - Parameter model: the architecture name, for the message.
    /// - Throws: `ModelError(.weights)` listing every missing key, unexpected key and shape mismatch by name.
    public func verifyAllConsumed(model: String) throws {
        var unexpected: [String] = []
        for key in keys.sources.keys.sorted() where !consumed.contains(key) {
            if layout.ignoredPrefixes.contains(where: { key.string.hasPrefix($0) }) {
                ignoredKeys.append(key.string)
            } else {
                unexpected.append(keys.sources[key]!)
            }
        }
        guard missing.isEmpty, unexpected.isEmpty, problems.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.count): \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty {
                parts.append("unexpected \(unexpected.count): \(unexpected.joined(separator: ", "))")
            }
            parts.append(contentsOf: problems)
            throw ModelError(
                .weights, file: archive.path, field: missing.first ?? unexpected.first,
                "weights do not fit \(model): \(parts.joined(separator: "; ")); check that config.json and the architecture belong to these weights"
            )
        }
    }
}

/// A position in the checkpoint's name space (`bert.encoder.layer.3.attention.self`). Subscripting pushes a
/// path component; `tensor(_:shape:)` fetches a parameter by its last component.
public struct ParameterScope {
    let store: WeightStore
    /// The dotted path of this scope, empty at the root.
    public let prefix: String

    /// The scope one component deeper.
    public subscript(_ component: String) -> ParameterScope {
        ParameterScope(store: store, prefix: key(component))
    }

    /// The scope of layer `index` (`layer.3`).
    public subscript(_ component: String, _ index: Int) -> ParameterScope { self[component][String(index)] }

    /// The full key of `name` under this scope.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    /// The float32 values of parameter `name`, which must have `shape` (row-major).
    /// A missing key or wrong shape is recorded and reported by `WeightStore.verifyAllConsumed`.
    /// - Throws: `ModelError(.weights)` for data that cannot be read.
    public func tensor(_ name: String, shape: [Int]) throws -> [Float] {
        try store.values(key(name), shape: shape, required: true) ?? []
    }

    /// Parameter `name`, which must have `shape`, keyed by its full key; as `tensor(_:shape:)`.
    public func parameter(_ name: String, shape: [Int]) throws -> Parameter {
        Parameter(try tensor(name, shape: shape), key: key(name), shape: shape)
    }

    /// The values of `name` when the file has it, else nil (nothing is recorded as missing).
    public func optionalTensor(_ name: String, shape: [Int]) throws -> [Float]? {
        try store.values(key(name), shape: shape, required: false)
    }

    /// True when the file has parameter `name` under this scope.
    public func contains(_ name: String) -> Bool { store.contains(key(name)) }

    /// True when the file has any key under this scope.
    public var exists: Bool {
        let p = prefix + "."
        return store.keys.sources.keys.contains { $0.string.hasPrefix(p) }
    }

    /// A weight tied to `tied` (docs/FORMATS.md §4.4 step 5): when `name` is absent and `tie` is true, the tied
    /// values are used; a present one must equal them, otherwise both keys are reported.
    public func tiedTensor(_ name: String, to tied: [Float], tiedKey: String, shape: [Int], tie: Bool) throws -> [Float]
    {
        guard tie else { return try tensor(name, shape: shape) }
        guard let own = try optionalTensor(name, shape: shape) else { return tied }
        if own != tied, !tied.isEmpty {
            store.report(
                "`\(key(name))` differs from `\(tiedKey)` although tie_word_embeddings is true (set it to false in config.json to keep a separate head)"
            )
        }
        return tied
    }
}
