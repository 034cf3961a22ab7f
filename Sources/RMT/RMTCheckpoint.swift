// Reading the reference's RMT state dicts (RMT.md §5.6) and laying them out for export (§5.7).
import Checkpoints
import KeyMaps
import Models
import TensorCore

/// An RMT checkpoint in memory: the backbone's tensors under Hugging Face names plus the memory.
///
/// Decoder: `backbone` holds `GPT2LMHeadModel` keys (`transformer.…`, `lm_head.weight`) and `memory` is the
/// parameter `[m, H]`. Encoder: `backbone` holds `BertForSequenceClassification` keys with the word embeddings
/// grown to `[V + m, H]` (the memory is their last `m` rows), and `specialIds` the buffer values.
public struct RMTCheckpoint {
    public let variant: RMTVariant
    public let memoryTokens: Int
    /// Backbone tensors in state-dict order, Hugging Face names (no wrapper prefix).
    public let backbone: [(name: String, tensor: Tensor)]
    /// Decoder only: `[m, H]`.
    public let memory: Tensor?
    /// Encoder only: `cls_token`, `sep_token` values.
    public let clsID: Int64?
    public let sepID: Int64?
    /// What was stripped, dropped, restored or converted on the way in.
    public let notes: [String]

    /// The backbone tensor named `name`.
    public func tensor(_ name: String) -> Tensor? { backbone.first(where: { $0.name == name })?.tensor }

    public init(
        variant: RMTVariant, memoryTokens: Int, backbone: [(name: String, tensor: Tensor)], memory: Tensor?,
        clsID: Int64?, sepID: Int64?, notes: [String]
    ) {
        self.variant = variant
        self.memoryTokens = memoryTokens
        self.backbone = backbone
        self.memory = memory
        self.clsID = clsID
        self.sepID = sepID
        self.notes = notes
    }

    /// True when `names` are an RMT state dict's: the decoder's memory parameter or the encoder's memory ids.
    public static func recognizes(names: [String]) -> Bool {
        names.contains { $0 == RMTStateDict.decoderMemoryKey || $0 == "mem_token_ids" }
    }

    /// Reads a reference-style state dict (RMT.md §5.6 rules 2–6 and 8).
    /// - Parameter path: the file, for error messages.
    /// - Throws: `CheckpointError` naming unknown keys, mismatched ties or an unrecognisable layout.
    public static func read(_ archive: any TensorArchive, path: String) throws -> RMTCheckpoint {
        // Rule 2: strip `module.` (DDP) or `recurrent_wrapper.` when every key has it.
        let sanitized = KeySanitizer(map: nil, basePrefix: .keep, wrapperPrefixes: ["module.", "recurrent_wrapper."])
            .sanitize(archive.tensorNames + archive.aliases.keys.sorted())
        var notes = sanitized.notes
        let names = sanitized.pairs.map(\.key)
        let original = sanitized.sources
        func load(_ name: String) throws -> Tensor {
            let t = try archive.tensor(named: original[name]!)
            guard t.dtype == .f16 || t.dtype == .bf16 || t.dtype == .f64 else { return t }
            return try t.converted(to: .f32)
        }
        let set = Set(names)
        // Rule 3: the variant by its keys.
        if set.contains(RMTStateDict.decoderMemoryKey) {
            return try readDecoder(
                names, load: load, prefix: RMTStateDict.decoderBackbonePrefix, path: path, notes: notes)
        }
        if set.contains("mem_token_ids"), names.contains(where: { $0.hasPrefix("model.bert.") }) {
            return try readEncoder(names, load: load, path: path, notes: notes)
        }
        if set.contains("memory"), names.contains(where: { $0.hasPrefix("model.transformer.") }) {
            notes.append(
                "legacy decoder layout (`memory`, `model.transformer.…`) mapped to memory_cell names; eos_token/bos_token dropped"
            )
            let legacy = names.filter { $0 != "eos_token" && $0 != "bos_token" }
            return try readDecoder(legacy, load: load, prefix: "model.", memoryKey: "memory", path: path, notes: notes)
        }
        let sample = names.prefix(3).joined(separator: ", ")
        throw CheckpointError(
            .unsupportedContent, file: path,
            "not an RMT checkpoint: no `memory_cell.memory`, no `mem_token_ids` with `model.bert.…`, no legacy `memory` (first keys: \(sample)); wrap a backbone with `rmt-convert wrap` instead"
        )
    }

    static func readDecoder(
        _ names: [String], load: (String) throws -> Tensor, prefix: String,
        memoryKey: String = RMTStateDict.decoderMemoryKey,
        path: String, notes: [String]
    ) throws -> RMTCheckpoint {
        var notes = notes
        let unknown = names.filter { $0 != memoryKey && !$0.hasPrefix(prefix) }
        guard unknown.isEmpty else {
            throw CheckpointError(
                .unsupportedContent, file: path, tensor: unknown[0],
                "unknown keys for the decoder RMT: \(unknown.prefix(5).joined(separator: ", ")); LoRA, memory layers and reconstruction heads are not supported"
            )
        }
        let memory = try load(memoryKey)
        guard memory.shape.rank == 2 else {
            throw CheckpointError(
                .corrupt, file: path, tensor: memoryKey, "memory has shape \(memory.shape), expected [m, n_embd]")
        }
        var backbone: [(name: String, tensor: Tensor)] = []
        let map = GPT2Family.keyMap
        for key in names where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            if map.isBuffer(name) { notes.append("dropped the buffer `\(key)`"); continue }
            backbone.append((name, try load(key)))
        }
        let head = "lm_head.weight", wte = "transformer.wte.weight"
        guard let table = backbone.first(where: { $0.name == wte })?.tensor else {
            throw CheckpointError(
                .corrupt, file: path, tensor: prefix + wte, "missing `\(prefix + wte)`; the checkpoint is incomplete")
        }
        if let present = backbone.first(where: { $0.name == head })?.tensor {
            guard present.isBitwiseEqual(to: table) else {
                throw CheckpointError(
                    .corrupt, file: path, tensor: prefix + head,
                    "`\(prefix + head)` differs from `\(prefix + wte)` but GPT-2 ties them; the checkpoint was edited inconsistently"
                )
            }
        } else {
            backbone.append((head, table))
            notes.append("restored the tied `\(prefix + head)` from `\(prefix + wte)`")
        }
        return RMTCheckpoint(
            variant: .decoder, memoryTokens: memory.shape[0], backbone: backbone, memory: memory,
            clsID: nil, sepID: nil, notes: notes)
    }

    static func readEncoder(_ names: [String], load: (String) throws -> Tensor, path: String, notes: [String]) throws
        -> RMTCheckpoint
    {
        var notes = notes
        let buffers = Set(RMTStateDict.encoderBuffers)
        let unknown = names.filter {
            !buffers.contains($0) && !$0.hasPrefix(RMTStateDict.encoderBackbonePrefix) && $0 != "eos_token"
                && $0 != "bos_token"
        }
        guard unknown.isEmpty else {
            throw CheckpointError(
                .unsupportedContent, file: path, tensor: unknown[0],
                "unknown keys for the encoder RMT: \(unknown.prefix(5).joined(separator: ", ")); LoRA, memory layers and reconstruction heads are not supported"
            )
        }
        func buffer(_ key: String) throws -> [Int64] {
            let t = try load(key)
            guard [.i64, .i32].contains(t.dtype) else {
                throw CheckpointError(
                    .unsupportedDType, file: path, tensor: key,
                    "buffer `\(key)` is \(t.dtype.rawValue); expected integers")
            }
            return try t.int64Values()
        }
        let memIds = try buffer("mem_token_ids")
        let wordKey = String(RMTStateDict.encoderWordEmbeddingsKey.dropFirst(RMTStateDict.encoderBackbonePrefix.count))
        var backbone: [(name: String, tensor: Tensor)] = []
        var alias: Tensor?
        let map = BertFamily.keyMap
        for key in names where key.hasPrefix(RMTStateDict.encoderBackbonePrefix) {
            if key == RMTStateDict.encoderAliasKey { alias = try load(key); continue }
            let name = String(key.dropFirst(RMTStateDict.encoderBackbonePrefix.count))
            if map.isBuffer(name) { notes.append("dropped the buffer `\(key)`"); continue }
            backbone.append((name, try load(key)))
        }
        guard let table = backbone.first(where: { $0.name == wordKey })?.tensor, table.shape.rank == 2 else {
            throw CheckpointError(
                .corrupt, file: path, tensor: RMTStateDict.encoderWordEmbeddingsKey,
                "missing word embeddings; the checkpoint is incomplete")
        }
        let m = memIds.count
        let V = table.shape[0] - m
        guard m >= 1, memIds == (0..<m).map({ Int64(V + $0) }) else {
            throw CheckpointError(
                .corrupt, file: path, tensor: "mem_token_ids",
                "mem_token_ids \(memIds) must be \(V)..\(V + m - 1), the last \(m) rows of the \(table.shape[0])-row word embeddings"
            )
        }
        if let alias {
            guard alias.isBitwiseEqual(to: table) else {
                throw CheckpointError(
                    .corrupt, file: path, tensor: RMTStateDict.encoderAliasKey,
                    "`\(RMTStateDict.encoderAliasKey)` differs from `\(RMTStateDict.encoderWordEmbeddingsKey)`; they are one tensor in the reference"
                )
            }
        } else {
            notes.append("restored the alias `\(RMTStateDict.encoderAliasKey)` from the word embeddings")
        }
        return RMTCheckpoint(
            variant: .encoder, memoryTokens: m, backbone: backbone, memory: nil,
            clsID: try buffer("cls_token").first, sepID: try buffer("sep_token").first, notes: notes)
    }

    /// The full reference state dict, in state-dict order, for export (RMT.md §5.7).
    ///
    /// Tied and aliased keys (`memory_cell.model.lm_head.weight`, `model.embeddings.weight`) are included as
    /// separate entries; `aliases` names them so a torch writer can share storage while safetensors writes copies.
    public func stateDict(profile: StateDictProfile) throws -> (
        tensors: [(name: String, tensor: Tensor)], aliases: [String: String]
    ) {
        let byName = Dictionary(backbone.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        switch variant {
        case .decoder:
            let layers = GPT2Family.keyMap.layerCount(of: backbone.map(\.name))
            var out: [(name: String, tensor: Tensor)] = [(RMTStateDict.decoderMemoryKey, memory!)]
            guard let wte = byName["transformer.wte.weight"] else { throw missing("transformer.wte.weight") }
            let P = byName["transformer.wpe.weight"]?.shape[0] ?? 0
            for key in RMTStateDict.gpt2LMHeadKeys(layers: layers, profile: profile) {
                if let t = byName[key] { out.append((RMTStateDict.decoderBackbonePrefix + key, t)); continue }
                guard let buffer = GPT2Family.bufferValue(key, positions: P) else { throw missing(key) }
                out.append((RMTStateDict.decoderBackbonePrefix + key, buffer))
            }
            return (
                out,
                [
                    RMTStateDict.decoderBackbonePrefix + "lm_head.weight": RMTStateDict.decoderBackbonePrefix
                        + "transformer.wte.weight"
                ]
            )
        case .encoder:
            let layers = BertFamily.keyMap.layerCount(of: backbone.map(\.name))
            guard let table = byName["bert.embeddings.word_embeddings.weight"] else {
                throw missing("bert.embeddings.word_embeddings.weight")
            }
            let V = table.shape[0] - memoryTokens
            let P = byName["bert.embeddings.position_embeddings.weight"]?.shape[0] ?? 0
            var out: [(name: String, tensor: Tensor)] = [
                ("cls_token", try int64Tensor([clsID ?? 101])), ("sep_token", try int64Tensor([sepID ?? 102])),
                ("mem_token_ids", try int64Tensor((0..<memoryTokens).map { Int64(V + $0) })),
            ]
            for key in RMTStateDict.bertSequenceClassificationKeys(layers: layers, profile: profile) {
                if let t = byName[key] { out.append((RMTStateDict.encoderBackbonePrefix + key, t)); continue }
                guard let buffer = BertFamily.bufferValue(key, positions: P) else { throw missing(key) }
                out.append((RMTStateDict.encoderBackbonePrefix + key, buffer))
            }
            out.append((RMTStateDict.encoderAliasKey, table))
            return (out, [RMTStateDict.encoderAliasKey: RMTStateDict.encoderWordEmbeddingsKey])
        }
    }

    func missing(_ key: String) -> CheckpointError {
        CheckpointError(
            .corrupt, file: "RMT checkpoint", tensor: key,
            "the backbone has no `\(key)`; it is not a complete \(variant == .decoder ? "GPT2LMHeadModel" : "BertForSequenceClassification")"
        )
    }
}

/// An int64 tensor holding `values` (shape `[values.count]` unless given).
public func int64Tensor(_ values: [Int64], shape: Shape? = nil) throws -> Tensor {
    try Tensor(dtype: .i64, shape: shape ?? [values.count], bytes: values.withUnsafeBytes { Array($0) })
}
