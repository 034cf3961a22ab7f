// Training and evaluation data (`DATA.npz`, docs/RMT.md §8.7): read once, checked against the RMT it trains, and
// cut into per-step batches of `RMTInputs`. N rows, T columns, B rows per batch, V vocabulary, C labels.
import Checkpoints
import Models
import TensorCore

/// What a data set must satisfy to train a given RMT.
public struct TrainingDataRequirements: Sendable, Equatable {
    public var variant: RMTVariant
    /// `V`: ids (and decoder labels) lie in `0..<V`. The encoder's is the backbone's vocabulary, without the
    /// memory rows `V..V+m−1`.
    public var vocabularySize: Int
    /// `m`: the encoder refuses the memory ids `V..V+m−1` in data.
    public var memoryTokens: Int
    /// Encoder: class labels lie in `0..<labelCount`.
    public var labelCount: Int?
    /// Encoder: the ids its segmentation strips (docs/RMT.md §3.3); a row must hold some other id.
    public var special: SpecialTokenIDs?

    public init(
        variant: RMTVariant, vocabularySize: Int, memoryTokens: Int, labelCount: Int? = nil,
        special: SpecialTokenIDs? = nil
    ) {
        self.variant = variant
        self.vocabularySize = vocabularySize
        self.memoryTokens = memoryTokens
        self.labelCount = labelCount
        self.special = special
    }

    /// The requirements of `model`: its variant, vocabulary, memory, labels and special ids.
    public init(_ model: RMTModel) {
        switch model.network {
        case .decoder(let d):
            self.init(
                variant: .decoder, vocabularySize: d.backbone.vocabularySize, memoryTokens: d.memoryTokens)
        case .encoder(let e):
            self.init(
                variant: .encoder, vocabularySize: e.segmentation.firstMemoryID,
                memoryTokens: e.segmentation.memoryTokens, labelCount: e.backbone.labelCount,
                special: e.segmentation.special)
        }
    }
}

/// A data set of `N` rows of `T` token ids with their masks and labels, checked against an RMT, from which
/// training takes one batch per step (`batch(step:schedule:)`).
///
/// Keys (docs/RMT.md §8.7): `input_ids` int64/int32 `[N, T]`; optional `attention_mask` `[N, T]` of 0/1 (integer
/// or bool); optional `labels`: decoder `[N, T]` int64/int32 token ids or −100 (default: `input_ids`), encoder
/// `[N]` class ids (required); optional `labels_mask` `[N, T]`, decoder only, bool or 0/1 integers. Any other key
/// is refused, so that a misspelt `label` cannot silently leave the default labels in place.
public struct TrainingData: Sendable {
    /// The file the data came from.
    public let path: String
    public let variant: RMTVariant
    /// `N`.
    public let rowCount: Int
    /// `T`.
    public let rowLength: Int
    /// `[N·T]` row-major.
    public let inputIds: [Int]
    /// `[N·T]` of 0 and 1, when the file has `attention_mask` (the encoder ignores it, docs/RMT.md §3.4).
    public let attentionMask: [Float]?
    /// Decoder `[N·T]` (`input_ids` when the file has no `labels`); encoder `[N]`.
    public let labels: [Int]
    /// Decoder `[N·T]`, when the file has `labels_mask`.
    public let labelsMask: [Bool]?
    /// False when the decoder's labels default to `input_ids`.
    public let hasLabels: Bool
    /// What the reader decided that the user should know (default labels, an ignored mask).
    public let notes: [String]

    /// The keys a data file may hold.
    public static let keys = ["input_ids", "attention_mask", "labels", "labels_mask"]

    /// Reads and checks the data file at `path` (`.npz`; `.safetensors` is read too) for `model`.
    /// - Throws: `CheckpointError` naming the file and the key for an unreadable file, an unknown or missing key,
    ///   a wrong dtype or shape, or a value out of range.
    public static func read(_ path: String, for model: RMTModel) throws -> TrainingData {
        try read(path, requirements: TrainingDataRequirements(model))
    }

    /// Reads and checks the data file at `path` against `requirements`.
    /// - Throws: as `read(_:for:)`.
    public static func read(_ path: String, requirements: TrainingDataRequirements) throws -> TrainingData {
        try TrainingData(archive: try ArchiveOpener().open(path), requirements: requirements)
    }

    /// Reads and checks the tensors of `archive`.
    /// - Throws: as `read(_:for:)`.
    public init(archive: any TensorArchive, requirements req: TrainingDataRequirements) throws {
        let file = DataFile(archive: archive)
        try file.refuseUnknownKeys()
        let ids = try file.integers("input_ids", dtypes: DataFile.idDTypes, required: true)!
        guard ids.shape.count == 2, ids.shape[0] >= 1, ids.shape[1] >= 1 else {
            throw file.error("input_ids", "is \(ids.shape); expected [N, T] with N, T ≥ 1 (one row per sample)")
        }
        let (N, T) = (ids.shape[0], ids.shape[1])
        let V = req.vocabularySize
        var notes: [String] = []
        try file.checkIds(ids.values, T: T, requirements: req)

        let mask = try file.integers("attention_mask", dtypes: DataFile.maskDTypes)
        if let mask {
            try file.expect(mask, shape: [N, T], key: "attention_mask")
            try file.expectBinary(mask, T: T, key: "attention_mask")
            if req.variant == .encoder {
                notes.append("attention_mask: the encoder ignores it and masks padding by id (docs/RMT.md §3.4)")
            }
        }
        let labelsMask = try file.integers("labels_mask", dtypes: DataFile.maskDTypes)
        let labels = try file.integers("labels", dtypes: DataFile.idDTypes)
        switch req.variant {
        case .decoder:
            if let labelsMask {
                try file.expect(labelsMask, shape: [N, T], key: "labels_mask")
                try file.expectBinary(labelsMask, T: T, key: "labels_mask")
            }
            if let labels {
                try file.expect(labels, shape: [N, T], key: "labels")
                if let i = labels.values.firstIndex(where: { $0 != -100 && !(0..<V).contains($0) }) {
                    throw file.error(
                        "labels",
                        "holds \(labels.values[i]) at row \(i / T), column \(i % T); labels are −100 (ignored) or token ids in 0..<\(V), the model's vocabulary"
                    )
                }
            } else {
                notes.append("labels: none given, so every next token is scored (labels = input_ids)")
            }
            try file.checkScoredPositions(
                labels: labels?.values ?? ids.values, mask: labelsMask?.values, N: N, T: T, defaulted: labels == nil)
        case .encoder:
            if labelsMask != nil {
                throw file.error(
                    "labels_mask",
                    "applies to the decoder's token labels; the encoder takes one class per row: remove it")
            }
            guard let labels else {
                throw file.error(
                    "labels",
                    "is missing: the encoder needs one class id per row, `labels` [\(N)]; add it to the file")
            }
            try file.expect(labels, shape: [N], key: "labels")
            let C = req.labelCount ?? 0
            if let i = labels.values.firstIndex(where: { !(0..<C).contains($0) }) {
                throw file.error(
                    "labels",
                    "holds \(labels.values[i]) at row \(i); class ids must be in 0..<\(C), the classifier's labels")
            }
        }
        path = archive.path
        variant = req.variant
        rowCount = N
        rowLength = T
        inputIds = ids.values
        attentionMask = mask.map { $0.values.map(Float.init) }
        self.labels = labels?.values ?? ids.values
        self.labelsMask = labelsMask.map { $0.values.map { $0 != 0 } }
        hasLabels = labels != nil
        self.notes = notes
    }

    /// The inputs of the rows `rows` (in that order): ids, mask and labels as `run --labels` takes them.
    /// - Throws: `RMTError` naming `rows` when `rows` is empty or holds a row outside `0..<N`.
    public func inputs(rows: [Int]) throws -> RMTInputs {
        let T = rowLength
        guard !rows.isEmpty else { throw RMTError("rows", "a batch needs at least one row") }
        if let r = rows.first(where: { !(0..<rowCount).contains($0) }) {
            throw RMTError("rows", "row \(r) is outside the data's rows 0..<\(rowCount)")
        }
        func gather<E>(_ values: [E], width: Int) -> [E] {
            var out: [E] = []
            out.reserveCapacity(rows.count * width)
            for r in rows { out += values[(r * width)..<((r + 1) * width)] }
            return out
        }
        return try RMTInputs(
            ids: gather(inputIds, width: T), batch: rows.count, length: T,
            attentionMask: attentionMask.map { gather($0, width: T) },
            labels: gather(labels, width: variant == .decoder ? T : 1),
            labelsMask: labelsMask.map { gather($0, width: T) })
    }

    /// The batch of training step `step`: the rows `schedule.rows(step:)`.
    public func batch(step: Int, schedule: BatchSchedule) throws -> RMTInputs {
        try inputs(rows: schedule.rows(step: step))
    }

    /// The schedule of `batchSize` rows per step over this data.
    /// - Throws: `RMTError` naming `batch-size` when it is below 1.
    public func schedule(batchSize: Int, order: BatchOrder = .fileOrder) throws -> BatchSchedule {
        try BatchSchedule(rowCount: rowCount, batchSize: batchSize, order: order)
    }
}
