// The RMT paper's synthetic memory tasks (docs/RMT.md §6.2, §8.8) as decoder language-model data: rows whose
// answer can only be given by a model that remembers what earlier segments held. N rows of T tokens.
import Models
import TensorCore

/// The synthetic tasks `make-task` writes.
public enum MemoryTaskKind: String, Sendable, CaseIterable, Codable {
    /// `[content ×L] [1] [content ×L]`.
    case copy
    /// `[content ×L] [1] [content reversed ×L]`.
    case reverse
    /// `k₁ v₁ … k_P v_P [1] k_q v_q`: key→value pairs, then a query key and its value.
    case retrieval
}

/// One synthetic task's settings and its exact token layout (docs/RMT.md §8.8).
///
/// Vocabulary: 0 is padding (reserved: rows have equal length, so none is written), 1 the separator. Copy and
/// reverse draw content from 2…9; retrieval draws keys from `2 ..< 2+K` and values from `2+K ..< 2+K+W`. Labels
/// are −100 except at the answer columns, which hold the answer tokens themselves (as Hugging Face labels do: the
/// loss scores position `t` against `labels[t+1]`, docs/RMT.md §2.6), so loss and accuracy cover the answers only.
///
/// Draws, row after row from one `SeededGenerator(seed:)` (so the first rows of a larger file equal a smaller
/// file of the same seed): copy and reverse `L × nextInt(below: 8)`; retrieval a partial Fisher–Yates of the `K`
/// keys (`nextInt(below: K − i)` for `i = 0 ..< P`), then `P × nextInt(below: W)` values, then the query
/// `nextInt(below: P)`.
public struct MemoryTask: Sendable, Equatable {
    public var kind: MemoryTaskKind
    /// `N`, rows.
    public var samples = 4096
    /// Copy and reverse: `L`, content tokens per row.
    public var length = 5
    /// Retrieval: `P`, key→value pairs per row (distinct keys).
    public var pairs = 4
    /// Retrieval: `K`, the number of distinct keys (`K ≥ P`).
    public var keys = 5
    /// Retrieval: `W`, the number of distinct values.
    public var values = 5
    public var seed: UInt64 = 0

    /// The padding id (reserved, never written).
    public static let padID = 0
    /// The separator between the content (or the pairs) and the answer (or the query).
    public static let separatorID = 1
    /// Copy and reverse content ids.
    public static let contentIDs = 2..<10
    /// The most tokens (`N × T`) one file may hold.
    public static let maxTokens = 100_000_000

    public init(kind: MemoryTaskKind) { self.kind = kind }

    /// `T`: copy and reverse `2L + 1`; retrieval `2P + 3`.
    public var rowLength: Int { kind == .retrieval ? 2 * pairs + 3 : 2 * length + 1 }

    /// The smallest vocabulary that holds every id: copy and reverse 10, retrieval `2 + K + W`.
    public var vocabularySize: Int { kind == .retrieval ? 2 + keys + values : MemoryTask.contentIDs.upperBound }

    /// The columns that hold answers (and labels): copy and reverse `L+1 ..< 2L+1`, retrieval the last.
    public var answerColumns: Range<Int> { kind == .retrieval ? (rowLength - 1)..<rowLength : (length + 1)..<rowLength }

    /// The accuracy of guessing each answer token uniformly: 1/8 for copy and reverse, `1/W` for retrieval.
    public var chanceAccuracy: Double { 1 / Double(kind == .retrieval ? values : MemoryTask.contentIDs.count) }

    /// The segments a row spans with `segmentSize` tokens per segment: `⌈T / n⌉` (any alignment, docs/RMT.md
    /// §2.3).
    public func segmentCount(segmentSize n: Int) -> Int { (rowLength + n - 1) / n }

    /// The row layout in words, e.g. `[content ×5] [1] [copy ×5]`.
    public var layout: String {
        switch kind {
        case .copy: return "[content ×\(length)] [1] [copy ×\(length)]"
        case .reverse: return "[content ×\(length)] [1] [reversed content ×\(length)]"
        case .retrieval: return "[key value] ×\(pairs) [1] [query key] [its value]"
        }
    }

    /// Refuses settings that give no task or an oversized file.
    /// - Throws: `RMTError` naming the option (`samples`, `length`, `pairs`, `keys`, `values`).
    public func validate() throws {
        guard samples >= 1 else { throw RMTError("samples", "must be at least 1, got \(samples)") }
        switch kind {
        case .copy, .reverse:
            guard length >= 1 else { throw RMTError("length", "must be at least 1, got \(length)") }
        case .retrieval:
            guard pairs >= 1 else { throw RMTError("pairs", "must be at least 1, got \(pairs)") }
            guard keys >= pairs else {
                throw RMTError(
                    "keys", "must be at least --pairs (\(pairs)): the keys of a row are distinct; got \(keys)")
            }
            guard values >= 2 else {
                throw RMTError("values", "must be at least 2, or the answer is always the same; got \(values)")
            }
            for (field, value) in [("keys", keys), ("values", values)] where value > 1_000_000 {
                throw RMTError(field, "must be at most 1,000,000, got \(value)")
            }
        }
        let (perRow, perRowField) = kind == .retrieval ? (pairs, "pairs") : (length, "length")
        guard perRow <= MemoryTask.maxTokens / 2 else {
            throw RMTError(perRowField, "must be at most \(MemoryTask.maxTokens / 2), got \(perRow)")
        }
        let (tokens, overflow) = samples.multipliedReportingOverflow(by: rowLength)
        guard !overflow, tokens <= MemoryTask.maxTokens else {
            throw RMTError(
                "samples",
                "(\(samples)) × row length \(rowLength) would exceed \(MemoryTask.maxTokens) tokens; make the file smaller"
            )
        }
    }

    /// The data set: `input_ids` and `labels`, both `[N, T]`.
    /// - Throws: `RMTError` from `validate()`.
    public func generate() throws -> MemoryTaskData {
        try validate()
        let T = rowLength
        var generator = SeededGenerator(seed: seed)
        var ids: [Int] = [], labels: [Int] = []
        ids.reserveCapacity(samples * T)
        labels.reserveCapacity(samples * T)
        for _ in 0..<samples {
            let (row, answer) = draw(&generator)
            ids += row
            labels += [Int](repeating: -100, count: T - answer.count) + answer
        }
        return MemoryTaskData(inputIds: ids, labels: labels, rowCount: samples, rowLength: T)
    }

    /// One row and its answer (the last `answer.count` tokens of the row).
    func draw(_ g: inout SeededGenerator) -> (row: [Int], answer: [Int]) {
        let sep = MemoryTask.separatorID
        switch kind {
        case .copy, .reverse:
            let first = MemoryTask.contentIDs.lowerBound, count = MemoryTask.contentIDs.count
            let content = (0..<length).map { _ in first + g.nextInt(below: count) }
            let answer = kind == .copy ? content : content.reversed()
            return (content + [sep] + answer, answer)
        case .retrieval:
            var pool = Array(0..<keys)
            for i in 0..<pairs { pool.swapAt(i, i + g.nextInt(below: keys - i)) }  // partial Fisher–Yates
            let rowKeys = pool[0..<pairs].map { 2 + $0 }
            let rowValues = (0..<pairs).map { _ in 2 + keys + g.nextInt(below: values) }
            let q = g.nextInt(below: pairs)
            let pairsPart = zip(rowKeys, rowValues).flatMap { [$0, $1] }
            return (pairsPart + [sep, rowKeys[q], rowValues[q]], [rowValues[q]])
        }
    }
}

/// A generated task: `[N, T]` ids and labels, row-major.
public struct MemoryTaskData: Sendable, Equatable {
    public let inputIds: [Int]
    public let labels: [Int]
    public let rowCount: Int
    public let rowLength: Int

    /// `input_ids` and `labels` as int64 `[N, T]` tensors, the layout of docs/RMT.md §8.7.
    public func tensors() throws -> [(name: String, tensor: Tensor)] {
        func int64(_ values: [Int]) throws -> Tensor {
            try Tensor(
                dtype: .i64, shape: [rowCount, rowLength],
                bytes: values.map { Int64($0) }.withUnsafeBytes { Array($0) })
        }
        return [("input_ids", try int64(inputIds)), ("labels", try int64(labels))]
    }

    /// Row `r`'s ids.
    public func row(_ r: Int) -> ArraySlice<Int> { inputIds[(r * rowLength)..<((r + 1) * rowLength)] }
}
