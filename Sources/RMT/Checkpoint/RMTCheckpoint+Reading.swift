// Reading the reference's RMT state dicts (docs/RMT.md §5.6): either variant, current or legacy layout, with the
// wrapper's prefixes stripped, the backbone's buffers dropped and tied tensors checked or restored.
import Checkpoints
import KeyMaps
import Models
import TensorCore

extension RMTCheckpoint {
    /// Reads a reference-style state dict (docs/RMT.md §5.6 rules 2–6 and 8).
    /// - Parameter path: the file, for error messages.
    /// - Throws: `CheckpointError` naming unknown keys, mismatched ties or an unrecognisable layout.
    public static func read(_ archive: any TensorArchive, path: String) throws -> RMTCheckpoint {
        // Rule 2: strip `module.` (DDP) or `recurrent_wrapper.` when every key has it.
        let keys = KeySanitizer(map: nil, basePrefix: .keep, wrapperPrefixes: ["module.", "recurrent_wrapper."])
            .sanitize(archive.tensorNames + archive.aliases.keys.sorted().map(\.string))
        var reader = StateDictReader(
            archive: archive, path: path, names: keys.pairs.map(\.key), original: keys.sources, notes: keys.notes)
        // Rule 3: the variant by its keys.
        let set = Set(reader.names.map { UTF8Key($0) })
        if set.contains(UTF8Key(DecoderRMTFamily.memoryKey)) {
            return try reader.decoder(prefix: DecoderRMTFamily.backbonePrefix, memoryKey: DecoderRMTFamily.memoryKey)
        }
        if EncoderRMTFamily.recognizes(set) { return try reader.encoder() }
        if DecoderRMTFamily.isLegacy(set) {
            var legacy = reader
            legacy.notes.append(
                "legacy decoder layout (`memory`, `model.transformer.…`) mapped to memory_cell names; eos_token/bos_token dropped"
            )
            legacy.names.removeAll { DecoderRMTFamily.legacyExtras.contains(UTF8Key($0)) }
            return try legacy.decoder(
                prefix: DecoderRMTFamily.legacyPrefix, memoryKey: DecoderRMTFamily.legacyMemoryKey)
        }
        let sample = reader.names.prefix(3).joined(separator: ", ")
        throw CheckpointError(
            .unsupportedContent, file: path,
            "not an RMT checkpoint: no `memory_cell.memory`, no `mem_token_ids` with `model.bert.…`, no legacy `memory` (first keys: \(sample)); wrap a backbone with `rmt-convert wrap` instead"
        )
    }
}

/// One state dict being read: its names after the wrapper prefixes went, and where each is in the file.
private struct StateDictReader {
    let archive: any TensorArchive
    let path: String
    var names: [String]
    /// Name after the prefixes went → name in the file.
    let original: [UTF8Key: String]
    var notes: [String]

    /// True when the state dict has `name` (after prefix stripping), compared by bytes.
    func has(_ name: String) -> Bool { names.contains { UTF8Key($0) == UTF8Key(name) } }

    /// The tensor stored under `name` (after prefix stripping), floats as float32.
    func load(_ name: String) throws -> Tensor {
        let t = try archive.tensor(named: original[UTF8Key(name)]!)
        return BackboneView.widened(t.dtype) == t.dtype ? t : try t.converted(to: .f32)
    }

    /// The dtype and shape stored under `name`, without reading data.
    func info(_ name: String) throws -> TensorInfo {
        let stored = original[UTF8Key(name)]!
        return try archive.info(for: archive.aliases[UTF8Key(stored)] ?? stored)
    }

    /// The backbone entries under `prefix`, the family's buffers dropped with a note.
    mutating func backboneEntries(prefix: String, map: KeyMap, skipping: Set<UTF8Key> = [])
        -> [(name: String, source: String)]
    {
        var entries: [(name: String, source: String)] = []
        for key in names where key.hasPrefix(prefix) && !skipping.contains(UTF8Key(key)) {
            let name = String(key.dropFirst(prefix.count))
            if map.isBuffer(name) { notes.append("dropped the buffer `\(key)`"); continue }
            entries.append((name, original[UTF8Key(key)]!))
        }
        return entries
    }

    func refuseUnknown(_ unknown: [String], variant: String) throws {
        guard let first = unknown.first else { return }
        throw CheckpointError(
            .unsupportedContent, file: path, tensor: first,
            "unknown keys for the \(variant) RMT: \(unknown.prefix(5).joined(separator: ", ")); LoRA, memory layers and reconstruction heads are not supported"
        )
    }

    mutating func decoder(prefix: String, memoryKey: String) throws -> RMTCheckpoint {
        try refuseUnknown(
            names.filter { UTF8Key($0) != UTF8Key(memoryKey) && !$0.hasPrefix(prefix) }, variant: "decoder")
        let memory = try load(memoryKey)
        guard memory.shape.rank == 2 else {
            throw CheckpointError(
                .corrupt, file: path, tensor: memoryKey, "memory has shape \(memory.shape), expected [m, n_embd]")
        }
        var entries = backboneEntries(prefix: prefix, map: GPT2Family.keyMap)
        let head = "lm_head.weight", wte = "transformer.wte.weight"
        guard let table = entries.first(where: { UTF8Key($0.name) == UTF8Key(wte) }) else {
            throw CheckpointError(
                .corrupt, file: path, tensor: prefix + wte, "missing `\(prefix + wte)`; the checkpoint is incomplete")
        }
        if has(prefix + head) {
            guard try load(prefix + head).isBitwiseEqual(to: load(prefix + wte)) else {
                throw CheckpointError(
                    .corrupt, file: path, tensor: prefix + head,
                    "`\(prefix + head)` differs from `\(prefix + wte)` but GPT-2 ties them; the checkpoint was edited inconsistently"
                )
            }
        } else {
            entries.append((head, table.source))
            notes.append("restored the tied `\(prefix + head)` from `\(prefix + wte)`")
        }
        return RMTCheckpoint(
            variant: .decoder, memoryTokens: memory.shape[0], backbone: try BackboneView(archive, entries: entries),
            memory: memory, clsID: nil, sepID: nil, notes: notes)
    }

    mutating func encoder() throws -> RMTCheckpoint {
        let family = EncoderRMTFamily.self
        let buffers = Set(family.buffers.map { UTF8Key($0) })
        try refuseUnknown(
            names.filter {
                !buffers.contains(UTF8Key($0)) && !$0.hasPrefix(family.backbonePrefix)
                    && !family.ignoredBuffers.contains(UTF8Key($0))
            }, variant: "encoder")
        func buffer(_ key: String) throws -> [Int] {
            let t = try load(key)
            guard [.i64, .i32].contains(t.dtype) else {
                throw CheckpointError(
                    .unsupportedDType, file: path, tensor: key,
                    "buffer `\(key)` is \(t.dtype.rawValue); expected integers")
            }
            return try t.int64Values().map { Int(truncatingIfNeeded: $0) }
        }
        let memIds = try buffer("mem_token_ids")
        let entries = backboneEntries(
            prefix: family.backbonePrefix, map: BertFamily.keyMap, skipping: [UTF8Key(family.aliasKey)])
        let shape = try has(family.wordEmbeddingsKey) ? info(family.wordEmbeddingsKey).shape : []
        guard shape.rank == 2 else {
            throw CheckpointError(
                .corrupt, file: path, tensor: family.wordEmbeddingsKey,
                "missing word embeddings; the checkpoint is incomplete")
        }
        let m = memIds.count
        let V = shape[0] - m
        guard m >= 1, memIds == Array(V..<(V + m)) else {
            throw CheckpointError(
                .corrupt, file: path, tensor: "mem_token_ids",
                "mem_token_ids \(memIds) must be \(V)..\(V + m - 1), the last \(m) rows of the \(shape[0])-row word embeddings"
            )
        }
        if has(family.aliasKey) {
            guard try load(family.aliasKey).isBitwiseEqual(to: load(family.wordEmbeddingsKey)) else {
                throw CheckpointError(
                    .corrupt, file: path, tensor: family.aliasKey,
                    "`\(family.aliasKey)` differs from `\(family.wordEmbeddingsKey)`; they are one tensor in the reference"
                )
            }
        } else {
            notes.append("restored the alias `\(family.aliasKey)` from the word embeddings")
        }
        return RMTCheckpoint(
            variant: .encoder, memoryTokens: m, backbone: try BackboneView(archive, entries: entries), memory: nil,
            clsID: try buffer("cls_token").first, sepID: try buffer("sep_token").first, notes: notes)
    }
}
