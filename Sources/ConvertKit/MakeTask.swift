// `make-task`: the RMT paper's synthetic memory tasks written as training data (docs/RMT.md §8.8). The rows and
// labels come from `RMT.MemoryTask`; this file checks the command's options and writes the `.npz`.
import Checkpoints
import Foundation
import RMT

/// What `make-task` should write. Options left nil take `MemoryTask`'s defaults; an option that does not apply
/// to the task (`--pairs` for copy) is refused.
public struct MakeTaskRequest: Sendable {
    public var kind: MemoryTaskKind
    /// The `.npz` to write.
    public var output: String
    public var samples: Int?
    /// Copy and reverse.
    public var length: Int?
    /// Retrieval.
    public var pairs: Int?
    public var keys: Int?
    public var values: Int?
    public var seed: UInt64 = 0
    /// Only reported: how many segments of this size a row spans.
    public var segmentSize: Int?
    public var force = false

    public init(kind: MemoryTaskKind, output: String) {
        self.kind = kind
        self.output = output
    }

    /// The task these options describe.
    /// - Throws: `UsageError` for an option of another task, a bad size or an output that is not `.npz`.
    public func task() throws -> MemoryTask {
        var task = MemoryTask(kind: kind)
        let foreign: [(String, Int?)] =
            kind == .retrieval
            ? [("--length", length)] : [("--pairs", pairs), ("--keys", keys), ("--values", values)]
        if let flag = foreign.first(where: { $0.1 != nil })?.0 {
            throw UsageError("\(flag) does not apply to the \(kind.rawValue) task")
        }
        task.samples = samples ?? task.samples
        task.length = length ?? task.length
        task.pairs = pairs ?? task.pairs
        task.keys = keys ?? task.keys
        task.values = values ?? task.values
        task.seed = seed
        do { try task.validate() } catch let e as RMTError { throw UsageError("--\(e.field) \(e.message)") }
        if let n = segmentSize, n < 1 { throw UsageError("--segment-size must be at least 1, got \(n)") }
        guard output.lowercased().hasSuffix(".npz") else {
            throw UsageError("--output must be an .npz file (the data format of `rmt-convert train`), got \(output)")
        }
        return task
    }
}

/// What `make-task` wrote.
public struct MakeTaskSummary: Encodable, Sendable {
    public let output: String
    public let task: String
    public let samples: Int
    public let rowLength: Int
    public let layout: String
    /// The smallest vocabulary (`init-gpt2 --vocab`) that holds every id.
    public let vocabularySize: Int
    /// `[first, end)` of the answer columns.
    public let answerColumns: [Int]
    public let chanceAccuracy: Double
    public let seed: UInt64
    public let segmentSize: Int?
    public let segments: Int?
    /// Row 0's ids and labels, to see the layout.
    public let exampleInputIds: [Int]
    public let exampleLabels: [Int]

    enum CodingKeys: String, CodingKey {
        case output, task, samples, layout, seed, segments
        case rowLength = "row_length", vocabularySize = "vocabulary_size", answerColumns = "answer_columns"
        case chanceAccuracy = "chance_accuracy", segmentSize = "segment_size", exampleInputIds = "example_input_ids"
        case exampleLabels = "example_labels"
    }

    public var text: String {
        var lines = [
            "wrote \(samples) \(task) rows of \(rowLength) tokens to \(output): input_ids, labels [\(samples), \(rowLength)]",
            "layout: \(layout); answers in columns \(answerColumns[0])..<\(answerColumns[1]), labels −100 elsewhere",
            "vocabulary: ids 0..<\(vocabularySize) (init-gpt2 --vocab \(vocabularySize) or more); chance accuracy \(String(format: "%.3f", chanceAccuracy))",
            "row 0: \(exampleInputIds.map(String.init).joined(separator: " "))",
        ]
        if let segmentSize, let segments {
            lines.append(
                "with --segment-size \(segmentSize) each row spans \(segments) segment\(segments == 1 ? "" : "s")")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `make-task`: generates the task and writes `input_ids` and `labels` (int64 `[N, T]`) to the `.npz` output,
/// atomically.
/// - Throws: `UsageError` for bad options; `CheckpointError` when the output exists (without `force`) or cannot
///   be written.
public func makeTask(_ request: MakeTaskRequest) throws -> MakeTaskSummary {
    let task = try request.task()
    try refuseExistingOutputs([request.output], force: request.force)
    let data = try task.generate()
    try ArchiveRegistry.write(
        try data.tensors().map { TensorSource(name: $0.name, tensor: $0.tensor) }, format: .npz, to: request.output,
        options: WriteOptions(overwrite: request.force, metadata: nil))
    let T = task.rowLength
    return MakeTaskSummary(
        output: request.output, task: task.kind.rawValue, samples: task.samples, rowLength: T, layout: task.layout,
        vocabularySize: task.vocabularySize,
        answerColumns: [task.answerColumns.lowerBound, task.answerColumns.upperBound],
        chanceAccuracy: task.chanceAccuracy, seed: task.seed, segmentSize: request.segmentSize,
        segments: request.segmentSize.map(task.segmentCount(segmentSize:)), exampleInputIds: Array(data.row(0)),
        exampleLabels: Array(data.labels[0..<T]))
}
