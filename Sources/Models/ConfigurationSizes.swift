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

/// Where the weights show a size. Keys are the family's own names without its base prefix
/// (`embeddings.word_embeddings.weight`, `h`), or a head's key (`classifier.weight`).
public enum WeightMeasure: Sendable, Equatable {
    /// Dimension `axis` of one tensor: `vocab_size` is the rows of the token embeddings.
    case dimension(String, axis: Int)
    /// The number of blocks: one more than the largest `i` among the keys `prefix.{i}.…`.
    case blocks(String)
}

/// A checkpoint's tensor shapes under its family's names, read from the headers alone: nothing is read or
/// allocated, so a config can be checked against them before a model is built for it.
public struct WeightShapes: Sendable {
    /// Key without the base prefix → (name in the file, shape).
    private var entries: [UTF8Key: (name: String, shape: [Int])] = [:]

    /// - Parameters:
    ///   - keys: normalised key → name in the archive (`SanitizedKeys.sources`).
    ///   - basePrefix: the family's base prefix (`bert.`), removed from the keys that start with it.
    ///   - ignoring: prefixes (of the normalised keys) of tensors the model does not read: other heads.
    public init(
        keys: [String: String], archive: any TensorArchive, basePrefix: String, ignoring: [String] = []
    ) {
        for (key, original) in keys where !ignoring.contains(where: { key.hasPrefix($0) }) {
            guard let info = try? archive.info(for: archive.aliases[original] ?? original) else { continue }
            let bare = key.hasPrefix(basePrefix) ? String(key.dropFirst(basePrefix.count)) : key
            entries[UTF8Key(bare)] = (original, info.shape.dimensions)
        }
    }

    /// The shapes of `archive`'s tensors under `family`'s names as `layout` reads them; by default every tensor,
    /// named as `convert --names hf` names them, for a checkpoint whose class is not known.
    public init(
        _ archive: any TensorArchive, family: any ModelFamily.Type,
        layout: KeyLayout = KeyLayout(basePrefix: .add, ignoredPrefixes: [])
    ) {
        let keys = KeySanitizer(map: family.keyMap, basePrefix: layout.basePrefix)
            .sanitize(archive.tensorNames + archive.aliases.keys.sorted())
        self.init(
            keys: keys.sources, archive: archive, basePrefix: family.keyMap.basePrefix,
            ignoring: layout.ignoredPrefixes)
    }

    /// What the weights show for `measure`, and where; nil when they lack the tensor or blocks measured.
    public func measured(_ measure: WeightMeasure) -> (value: Int, source: String)? {
        switch measure {
        case .dimension(let key, let axis):
            guard let entry = entries[UTF8Key(key)], axis < entry.shape.count else { return nil }
            return (entry.shape[axis], "`\(entry.name)` is [\(entry.shape.map(String.init).joined(separator: ", "))]")
        case .blocks(let prefix):
            let head = prefix + "."
            var largest: Int?
            for key in entries.keys where key.string.hasPrefix(head) {
                let index = key.string.dropFirst(head.count).prefix { $0 != "." }
                if let i = Int(index), i >= 0, i < Int.max { largest = max(largest ?? i, i) }
            }
            guard let largest else { return nil }
            return (largest + 1, largest == 0 ? "block `\(head)0`" : "blocks `\(head)0` to `\(head)\(largest)`")
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
