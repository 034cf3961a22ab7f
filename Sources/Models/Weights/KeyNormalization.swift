// Normalising checkpoint key names on read (FORMATS.md §4.4, steps 1–4), as a pure function over names.

/// What a target architecture expects of key names: its base prefix, and the head keys it owns or ignores.
public struct KeyLayout: Sendable, Equatable {
    /// `bert` or `transformer`.
    public var basePrefix: String
    /// True when the target has a head, so base keys carry `basePrefix.`.
    public var hasHeads: Bool
    /// Prefixes of head keys of this model family (`cls.`, `classifier.`, `lm_head.`); never prefixed.
    public var headPrefixes: [String]
    /// Prefixes (after normalisation) of keys the target does not use and drops with a note: heads of other
    /// architectures of the family, or the pooler for a model built without one.
    public var ignoredPrefixes: [String]

    public init(basePrefix: String, hasHeads: Bool, headPrefixes: [String], ignoredPrefixes: [String]) {
        self.basePrefix = basePrefix
        self.hasHeads = hasHeads
        self.headPrefixes = headPrefixes
        self.ignoredPrefixes = ignoredPrefixes
    }
}

/// The result of normalising a checkpoint's key names.
public struct NormalizedKeys: Sendable, Equatable {
    /// Normalised name → the name to read from the archive.
    public var sources: [String: String]
    /// Buffers dropped by rule (§4.3), by their names in the file.
    public var droppedBuffers: [String]
    /// What was renamed, for the report (`stripped prefix module.`, `renamed 2 gamma/beta`, …).
    public var notes: [String]
}

/// Applies §4.4 steps 1–4 to `names`: strip `module.` / `_orig_mod.` when every key has it, rename a final
/// `gamma`/`beta` to `weight`/`bias`, add or strip the base prefix for `layout`, drop buffers.
/// - Returns: normalised name → file name, the buffers dropped, and notes on what was renamed.
/// - Throws: `ModelError(.weights)` when two names of the file normalise to the same key.
public func normalizeKeys(_ names: [String], layout: KeyLayout, file: String) throws -> NormalizedKeys {
    var keys = names
    var notes: [String] = []
    for wrapper in ["module.", "_orig_mod."] where !keys.isEmpty && keys.allSatisfy({ $0.hasPrefix(wrapper) }) {
        keys = keys.map { String($0.dropFirst(wrapper.count)) }
        notes.append("stripped the `\(wrapper)` prefix of every key")
    }
    var renamed = 0
    keys = keys.map { key in
        if key.hasSuffix(".gamma") { renamed += 1; return String(key.dropLast(6)) + ".weight" }
        if key.hasSuffix(".beta") { renamed += 1; return String(key.dropLast(5)) + ".bias" }
        return key
    }
    if renamed > 0 { notes.append("renamed \(renamed) LayerNorm gamma/beta keys to weight/bias") }

    let base = layout.basePrefix + "."
    var added = 0, stripped = 0
    keys = keys.map { key in
        if layout.headPrefixes.contains(where: { key.hasPrefix($0) }) { return key }
        if layout.hasHeads, !key.hasPrefix(base) { added += 1; return base + key }
        if !layout.hasHeads, key.hasPrefix(base) { stripped += 1; return String(key.dropFirst(base.count)) }
        return key
    }
    if added > 0 { notes.append("added the `\(base)` prefix to \(added) keys") }
    if stripped > 0 { notes.append("stripped the `\(base)` prefix from \(stripped) keys") }

    var sources: [String: String] = [:]
    var dropped: [String] = []
    var duplicates: [String] = []
    for (key, original) in zip(keys, names) {
        if isBuffer(key) { dropped.append(original); continue }
        if let other = sources[key] { duplicates.append("`\(other)` and `\(original)` both give `\(key)`"); continue }
        sources[key] = original
    }
    guard duplicates.isEmpty else {
        throw ModelError(
            .weights, file: file, field: duplicates.first,
            "key names collide after normalisation: \(duplicates.joined(separator: "; ")); remove one of each pair")
    }
    if !dropped.isEmpty {
        notes.append(
            "dropped \(dropped.count) buffers (\(dropped.prefix(3).joined(separator: ", "))\(dropped.count > 3 ? ", …" : ""))"
        )
    }
    return NormalizedKeys(sources: sources, droppedBuffers: dropped, notes: notes)
}

/// True for the non-parameter buffers of §4.3: BERT's `embeddings.position_ids` / `embeddings.token_type_ids`,
/// GPT-2's `h.{i}.attn.bias` / `h.{i}.attn.masked_bias`.
public func isBuffer(_ key: String) -> Bool {
    if key.hasSuffix("embeddings.position_ids") || key.hasSuffix("embeddings.token_type_ids") { return true }
    guard key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias") else { return false }
    // `…h.{i}.attn.bias`: the component before `attn` is a layer index under `h`.
    let parts = key.split(separator: ".")
    guard parts.count >= 4 else { return false }
    return parts[parts.count - 4] == "h" && Int(parts[parts.count - 3]) != nil
}
