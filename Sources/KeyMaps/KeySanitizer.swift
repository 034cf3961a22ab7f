// Normalising checkpoint key names on read (docs/FORMATS.md §4.4 steps 1–4): the one implementation, used by
// model loading, `convert --names hf|tf` and the RMT checkpoint reader alike.
import Checkpoints

/// What happens to a family's base prefix (`bert.`, `transformer.`) during normalisation.
public enum BasePrefixRule: Sendable, Equatable {
    /// Added to keys that lack it, except head keys: the names of a model with a head (and of `--names hf`).
    case add
    /// Removed from keys that have it: the names of a bare base model (`BertModel`, `GPT2Model`).
    case strip
    /// Left as it is.
    case keep
}

/// The result of normalising a checkpoint's key names.
public struct SanitizedKeys: Sendable, Equatable {
    /// Normalised key → the name to read from the archive, for every key that is not a buffer. Keyed by bytes:
    /// `é` and `e` + U+0301 are two keys, as they are two tensors in the file.
    public var sources: [UTF8Key: String]
    /// (name in the file, normalised key), buffers excluded, in the order given.
    public var pairs: [Pair]
    /// Buffers dropped by rule (§4.3), by their names in the file.
    public var droppedBuffers: [String]
    /// Pairs of file names that normalise to one key (`` `a` and `b` both give `k` ``); empty when none.
    public var collisions: [String]
    /// What was renamed, for the report (`stripped the `module.` prefix of every key`, …).
    public var notes: [String]

    public struct Pair: Sendable, Equatable {
        public let original: String
        public let key: String
    }
}

/// docs/FORMATS.md §4.4 as one pure function over a whole key set: strip wrapper prefixes every key has, rename a
/// final `gamma` / `beta` to `weight` / `bias`, add or strip the family's base prefix, drop the family's buffers.
public struct KeySanitizer {
    /// Wrapper prefixes of whole checkpoints: DDP's `module.`, `torch.compile`'s `_orig_mod.`.
    public static let modelWrappers = ["module.", "_orig_mod."]

    /// Stripped, in order, each when every key has it.
    public var wrapperPrefixes: [String]
    /// The family's base prefix, head prefixes and buffers; nil to only strip wrappers and rename LayerNorms.
    public let map: KeyMap?
    public var basePrefix: BasePrefixRule

    /// - Parameters:
    ///   - map: the family's map (its base prefix, head prefixes and drop rules), or nil.
    ///   - basePrefix: what to do with the base prefix.
    ///   - wrapperPrefixes: wrapper prefixes to strip when every key has one.
    public init(map: KeyMap?, basePrefix: BasePrefixRule, wrapperPrefixes: [String] = KeySanitizer.modelWrappers) {
        self.wrapperPrefixes = wrapperPrefixes
        self.basePrefix = basePrefix
        self.map = map
    }

    /// Normalises `names`, dropping buffers and reporting collisions.
    public func sanitize(_ names: [String]) -> SanitizedKeys {
        let (pairs, renameNotes) = renamed(names)
        var notes = renameNotes
        var result = SanitizedKeys(sources: [:], pairs: [], droppedBuffers: [], collisions: [], notes: [])
        for pair in pairs {
            if let map, map.isBuffer(map.prefixed(pair.key)) { result.droppedBuffers.append(pair.original); continue }
            if let other = result.sources[UTF8Key(pair.key)] {
                result.collisions.append("`\(other)` and `\(pair.original)` both give `\(pair.key)`")
                continue
            }
            result.sources[UTF8Key(pair.key)] = pair.original
            result.pairs.append(pair)
        }
        let dropped = result.droppedBuffers
        if !dropped.isEmpty {
            notes.append(
                "dropped \(dropped.count) buffers (\(dropped.prefix(3).joined(separator: ", "))\(dropped.count > 3 ? ", …" : ""))"
            )
        }
        result.notes = notes
        return result
    }

    /// Every name with its normalised form, buffers included, in the order given.
    public func normalizedNames(_ names: [String]) -> [SanitizedKeys.Pair] { renamed(names).pairs }

    /// Steps 1–3: wrappers, LayerNorm names, the base prefix; with notes on what changed.
    private func renamed(_ names: [String]) -> (pairs: [SanitizedKeys.Pair], notes: [String]) {
        var keys = names
        var notes: [String] = []
        for wrapper in wrapperPrefixes where !keys.isEmpty && keys.allSatisfy({ $0.hasPrefix(wrapper) }) {
            keys = keys.map { String($0.dropFirst(wrapper.count)) }
            notes.append("stripped the `\(wrapper)` prefix of every key")
        }
        var renamed = 0
        keys = keys.map { key in
            for (from, to) in [("gamma", "weight"), ("beta", "bias")] where key == from || key.hasSuffix("." + from) {
                renamed += 1
                return String(key.dropLast(from.count)) + to
            }
            return key
        }
        if renamed > 0 { notes.append("renamed \(renamed) LayerNorm gamma/beta keys to weight/bias") }

        if let map, basePrefix != .keep {
            let (base, heads) = (map.basePrefix, map.headPrefixes)
            var changed = 0
            keys = keys.map { key in
                if heads.contains(where: { key.hasPrefix($0) }) { return key }
                if basePrefix == .add, !key.hasPrefix(base) { changed += 1; return base + key }
                if basePrefix == .strip, key.hasPrefix(base) { changed += 1; return String(key.dropFirst(base.count)) }
                return key
            }
            if changed > 0 {
                notes.append(
                    basePrefix == .add
                        ? "added the `\(base)` prefix to \(changed) keys"
                        : "stripped the `\(base)` prefix from \(changed) keys")
            }
        }

        return (zip(names, keys).map { SanitizedKeys.Pair(original: $0.0, key: $0.1) }, notes)
    }
}
