// An RMT checkpoint: the backbone's tensors under Hugging Face names plus the memory, read from the reference's
// state dicts (docs/RMT.md §5.6) and laid out again for export (§5.7).
import Checkpoints
import Models
import TensorCore

/// An RMT checkpoint: the backbone's tensors under Hugging Face names plus the memory.
///
/// Decoder: `backbone` holds `GPT2LMHeadModel` keys (`transformer.…`, `lm_head.weight`) and `memory` is the
/// parameter `[m, H]`. Encoder: `backbone` holds `BertForSequenceClassification` keys with the word embeddings
/// grown to `[V + m, H]` (the memory is their last `m` rows), and `clsID` / `sepID` the buffer values.
public struct RMTCheckpoint {
    public let variant: RMTVariant
    public let memoryTokens: Int
    /// The backbone's tensors under Hugging Face names (no wrapper prefix), in file order. Read from a file, it
    /// is a view of the file's archive (nothing is copied until a tensor is read; floats read as float32).
    public let backbone: any TensorArchive
    /// Decoder only: `[m, H]`.
    public let memory: Tensor?
    /// Encoder only: `cls_token`, `sep_token` values.
    public let clsID: Int?
    public let sepID: Int?
    /// What was stripped, dropped, restored or converted on the way in.
    public let notes: [String]

    public init(
        variant: RMTVariant, memoryTokens: Int, backbone: any TensorArchive, memory: Tensor?, clsID: Int?,
        sepID: Int?, notes: [String]
    ) {
        self.variant = variant
        self.memoryTokens = memoryTokens
        self.backbone = backbone
        self.memory = memory
        self.clsID = clsID
        self.sepID = sepID
        self.notes = notes
    }

    /// The backbone tensor named `name`, or nil when there is none.
    /// - Throws: `CheckpointError` when it cannot be read.
    public func tensor(_ name: String) throws -> Tensor? {
        backbone.contains(name) ? try backbone.tensor(named: name) : nil
    }

    /// True when `names` are an RMT state dict's (either variant, current or legacy layout).
    public static func recognizes(names: [String]) -> Bool {
        let set = Set(names.map { UTF8Key($0) })
        return DecoderRMTFamily.recognizes(set) || EncoderRMTFamily.recognizes(set)
    }

    /// The full reference state dict, in state-dict order, for export (docs/RMT.md §5.7).
    ///
    /// Tied and aliased keys (`memory_cell.model.lm_head.weight`, `model.embeddings.weight`) are included as
    /// separate entries; `aliases` names them so a torch writer can share storage while safetensors writes copies.
    public func stateDict(profile: StateDictProfile) throws -> (
        tensors: [(name: String, tensor: Tensor)], aliases: [UTF8Key: String]
    ) {
        let names = Set(backbone.tensorNames.map { UTF8Key($0) })
        switch variant {
        case .decoder:
            let family = DecoderRMTFamily.self
            let layers = GPT2Family.keyMap.layerCount(of: backbone.tensorNames)
            let P = try backbone.info(for: "transformer.wpe.weight").shape[0]
            var out: [(name: String, tensor: Tensor)] = [(family.memoryKey, memory!)]
            for key in GPT2Family.stateDictKeys(of: family.backbone, layers: layers, profile: profile) {
                if names.contains(UTF8Key(key)) {
                    out.append((family.backbonePrefix + key, try backbone.tensor(named: key))); continue
                }
                guard let buffer = GPT2Family.bufferValue(key, positions: P) else { throw missing(key) }
                out.append((family.backbonePrefix + key, buffer))
            }
            return (out, [UTF8Key(family.tiedHeadKey): family.backbonePrefix + "transformer.wte.weight"])
        case .encoder:
            let family = EncoderRMTFamily.self
            let layers = BertFamily.keyMap.layerCount(of: backbone.tensorNames)
            guard let table = try tensor("bert.embeddings.word_embeddings.weight") else {
                throw missing("bert.embeddings.word_embeddings.weight")
            }
            let V = table.shape[0] - memoryTokens
            let P = try backbone.info(for: "bert.embeddings.position_embeddings.weight").shape[0]
            var out: [(name: String, tensor: Tensor)] = [
                ("cls_token", try int64Tensor([clsID ?? 101])), ("sep_token", try int64Tensor([sepID ?? 102])),
                ("mem_token_ids", try int64Tensor(Array(V..<(V + memoryTokens)))),
            ]
            for key in BertFamily.stateDictKeys(of: family.backbone, layers: layers, profile: profile) {
                if names.contains(UTF8Key(key)) {
                    out.append((family.backbonePrefix + key, try backbone.tensor(named: key))); continue
                }
                guard let buffer = BertFamily.bufferValue(key, positions: P) else { throw missing(key) }
                out.append((family.backbonePrefix + key, buffer))
            }
            out.append((family.aliasKey, table))
            return (out, [UTF8Key(family.aliasKey): family.wordEmbeddingsKey])
        }
    }

    func missing(_ key: String) -> CheckpointError {
        CheckpointError(
            .corrupt, file: backbone.path, tensor: key,
            "the backbone has no `\(key)`; it is not a complete \(variant == .decoder ? "GPT2LMHeadModel" : "BertForSequenceClassification")"
        )
    }
}

/// An int64 tensor holding `values` (shape `[values.count]` unless given).
public func int64Tensor(_ values: [Int], shape: Shape? = nil) throws -> Tensor {
    try Tensor(
        dtype: .i64, shape: shape ?? [values.count],
        bytes: values.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) })
}

/// The backbone part of a checkpoint file under new names, read lazily: names map to the file's, and f16, bf16
/// and f64 tensors read as float32 (the precision the reference trains in).
final class BackboneView: TensorArchive {
    let source: any TensorArchive
    let path: String
    var format: CheckpointFormat { source.format }
    let tensorInfos: [TensorInfo]
    private let sources: [UTF8Key: String]

    /// - Parameter entries: (name here, name in `source`), in order.
    init(_ source: any TensorArchive, entries: [(name: String, source: String)]) throws {
        self.source = source
        path = source.path
        sources = Dictionary(entries.map { (UTF8Key($0.name), $0.source) }, uniquingKeysWith: { a, _ in a })
        tensorInfos = try entries.map { entry in
            let info = try source.info(for: source.aliases[UTF8Key(entry.source)] ?? entry.source)
            return TensorInfo(name: entry.name, dtype: Self.widened(info.dtype), shape: info.shape)
        }
    }

    func tensor(named name: String) throws -> Tensor {
        guard let original = sources[UTF8Key(name)] else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        let t = try source.tensor(named: original)
        return Self.widened(t.dtype) == t.dtype ? t : try t.converted(to: .f32)
    }

    static func widened(_ dtype: DType) -> DType { [.f16, .bf16, .f64].contains(dtype) ? .f32 : dtype }
}
