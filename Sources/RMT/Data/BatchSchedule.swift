// Which rows of a data set each training step takes (docs/RMT.md §8.7): file order, or a seeded permutation per
// epoch. Step i's rows are a pure function of (order, N, B, i), so a resumed run needs no generator state.
import Models

/// The order in which training steps visit the rows of a data set.
public enum BatchOrder: Sendable, Equatable {
    /// Step `i` takes rows `(i·B + r) mod N`, `r = 0 ..< B`.
    case fileOrder
    /// Rows are visited in one permutation per epoch: epoch `e`'s is `SeededGenerator.stream(e, of: seed)`'s
    /// `permutation(count: N)`; step `i` takes positions `i·B + r` of the epochs laid end to end.
    case shuffled(seed: UInt64)
}

/// The rows of every training step: `B` rows per step, cycling through the `N` rows epoch after epoch.
public struct BatchSchedule: Sendable, Equatable {
    /// `N`, the data set's rows.
    public let rowCount: Int
    /// `B`, rows per step (may exceed `N`: a step then wraps around, in file order and shuffled alike).
    public let batchSize: Int
    public let order: BatchOrder

    /// - Throws: `RMTError` naming `batch-size` or `rows` when either is below 1.
    public init(rowCount: Int, batchSize: Int, order: BatchOrder = .fileOrder) throws {
        guard batchSize >= 1 else { throw RMTError("batch-size", "must be at least 1, got \(batchSize)") }
        guard rowCount >= 1 else { throw RMTError("rows", "the data set has no rows; give at least one") }
        self.rowCount = rowCount
        self.batchSize = batchSize
        self.order = order
    }

    /// The rows step `step` (0-based) takes, in batch order. Position `p = step·B + r` of the epochs laid end to
    /// end is row `p mod N` in file order, or `permutation(epoch: p / N)[p mod N]` shuffled.
    /// - Parameter step: at least 0.
    public func rows(step: Int) -> [Int] {
        let first = step * batchSize
        switch order {
        case .fileOrder:
            return (0..<batchSize).map { (first + $0) % rowCount }
        case .shuffled:
            var permutations: [Int: [Int]] = [:]  // the one or few epochs this step touches
            return (0..<batchSize).map { r in
                let p = first + r
                let epoch = p / rowCount
                if permutations[epoch] == nil { permutations[epoch] = permutation(epoch: epoch) }
                return permutations[epoch]![p % rowCount]
            }
        }
    }

    /// The epoch (0-based) that step `step`'s first row belongs to: `step·B / N`.
    public func epoch(ofStep step: Int) -> Int { step * batchSize / rowCount }

    /// The order of the rows in epoch `epoch`: `0 ..< N` in file order; shuffled, the permutation drawn by
    /// `SeededGenerator.stream(epoch, of: seed)` (Fisher–Yates, `SeededGenerator.permutation(count:)`).
    public func permutation(epoch: Int) -> [Int] {
        switch order {
        case .fileOrder: return Array(0..<rowCount)
        case .shuffled(let seed):
            var generator = SeededGenerator.stream(epoch, of: seed)
            return generator.permutation(count: rowCount)
        }
    }
}
