// The sizes a `config.json` names, bounded and checked against the weights present before anything is built for
// them (README, "Untrusted files"). Each family's configuration lists its own sizes with their limits and where
// the weights show them (`BertConfiguration.sizes`, `GPT2Configuration.sizes`); this file is the mechanism.
import Checkpoints
import KeyMaps

/// A size a `config.json` names: the field, its value, the most this build accepts, and where the weights show it.
public struct ConfigurationSize: Sendable, Equatable {
    /// The field as transformers names it (`num_hidden_layers`, `n_embd`).
    public let field: String
    public let value: Int
    /// The largest value accepted: far above every released model of the family, so that no product of sizes
    /// overflows and a config cannot ask for absurd allocations.
    public let limit: Int
    /// Where the weights show the size; nil for a size they do not show (the number of attention heads).
    public let measure: WeightMeasure?

    public init(_ field: String, _ value: Int, limit: Int, measure: WeightMeasure?) {
        self.field = field
        self.value = value
        self.limit = limit
        self.measure = measure
    }
}

/// Where the weights show a size.
public enum WeightMeasure: Sendable, Equatable {
    /// Dimension `axis` of one tensor: `vocab_size` is the rows of the token embeddings. The key is the family's
    /// own name without its base prefix (`embeddings.word_embeddings.weight`, `wte.weight`), or a head's key
    /// (`classifier.weight`).
    case dimension(String, axis: Int)
    /// The number of blocks: distinct layer indices among the keys of the family's `{i}` rules
    /// (`KeyMap.layerIndices`).
    case blocks
}

/// A checkpoint's tensor shapes under its family's names, read from the headers alone: nothing is read or
/// allocated, so a config can be checked against them before a model is built for it.
public struct WeightShapes: Sendable {
    /// Key without the base prefix → (name in the file, shape).
    private var entries: [UTF8Key: (name: String, shape: [Int])] = [:]
    /// The layer indices of the blocks present.
    private let blocks: [Int]
    /// What block keys start with, without the base prefix (`encoder.layer.`).
    private let blockPrefix: String

    /// - Parameters:
    ///   - keys: normalised key → name in the archive (`SanitizedKeys.sources`).
    ///   - map: the family's names: its base prefix is removed from the keys that start with it, its `{i}` rules
    ///     count the blocks.
    ///   - ignoring: prefixes (of the normalised keys) of tensors the model does not read: other heads.
    public init(keys: [UTF8Key: String], archive: any TensorArchive, map: KeyMap, ignoring: [String] = []) {
        let base = map.basePrefix
        var full: [String] = []
        for (key, original) in keys where !ignoring.contains(where: { key.string.hasPrefix($0) }) {
            let name = key.string
            full.append(name.hasPrefix(base) ? name : base + name)
            guard let info = try? archive.info(for: archive.aliases[UTF8Key(original)] ?? original) else { continue }
            let bare = name.hasPrefix(base) ? String(name.dropFirst(base.count)) : name
            entries[UTF8Key(bare)] = (original, info.shape.dimensions)
        }
        blocks = map.layerIndices(of: full)
        let prefix = map.blockPrefix ?? ""
        blockPrefix = prefix.hasPrefix(base) ? String(prefix.dropFirst(base.count)) : prefix
    }

    /// The shapes of `archive`'s tensors under `family`'s names as `layout` reads them; by default every tensor,
    /// named as `convert --names hf` names them, for a checkpoint whose class is not known.
    public init(
        _ archive: any TensorArchive, family: any ModelFamily.Type,
        layout: KeyLayout = KeyLayout(basePrefix: .add, ignoredPrefixes: [])
    ) {
        let keys = KeySanitizer(map: family.keyMap, basePrefix: layout.basePrefix)
            .sanitize(archive.tensorNames + archive.aliases.keys.sorted().map(\.string))
        self.init(keys: keys.sources, archive: archive, map: family.keyMap, ignoring: layout.ignoredPrefixes)
    }

    /// What the weights show for `measure`, and where; nil when they lack the tensor or hold no blocks.
    public func measured(_ measure: WeightMeasure) -> (value: Int, source: String)? {
        switch measure {
        case .dimension(let key, let axis):
            guard let entry = entries[UTF8Key(key)], axis < entry.shape.count else { return nil }
            return (entry.shape[axis], "`\(entry.name)` is [\(entry.shape.map(String.init).joined(separator: ", "))]")
        case .blocks:
            guard let first = blocks.first, let last = blocks.last else { return nil }
            let source =
                blocks.count == 1
                ? "block `\(blockPrefix)\(first)`"
                : blocks == Array(first...last)
                    ? "blocks `\(blockPrefix)\(first)` to `\(blockPrefix)\(last)`"
                    : "blocks \(blocks.prefix(8).map { "`\(blockPrefix)\($0)`" }.joined(separator: ", "))"
                        + (blocks.count > 8 ? ", …" : "")
            return (blocks.count, source)
        }
    }

    /// Each size of `sizes` the weights show otherwise.
    public func disagreements(with sizes: [ConfigurationSize]) -> [SizeDisagreement] {
        sizes.compactMap { size in
            guard let measure = size.measure, let (value, source) = measured(measure), value != size.value else {
                return nil
            }
            return SizeDisagreement(field: size.field, configured: size.value, measured: value, source: source)
        }
    }

    /// Throws when the weights show any of `sizes` otherwise.
    /// - Parameter file: the config's path, for the message.
    /// - Throws: `ModelError(.weights)` naming every disagreement, both numbers each.
    public func checkAgreement(with sizes: [ConfigurationSize], file: String) throws {
        let found = disagreements(with: sizes)
        guard let first = found.first else { return }
        throw ModelError(
            .weights, file: file, field: first.field,
            "the config and the weights disagree: \(found.map(\.description).joined(separator: "; ")); use the config that belongs to these weights"
        )
    }
}

/// A size on which a config and its weights disagree.
public struct SizeDisagreement: Sendable, Equatable, CustomStringConvertible {
    public let field: String
    /// What the config says, and what the weights hold.
    public let configured: Int, measured: Int
    /// Where the weights show it (`` `bert.embeddings.word_embeddings.weight` is [1000, 32] ``).
    public let source: String

    public var description: String { "`\(field)` is \(configured) but the weights hold \(measured) (\(source))" }
}
