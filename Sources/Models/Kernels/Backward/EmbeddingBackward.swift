// Backward of an embedding lookup (`Embedding.gather`, Layers/Linear.swift): the rows of the output's gradient
// added into the rows of the table's gradient that the ids name, for the rows that train.
import CKernels

extension Kernels {
    /// `dTable[ids[r] − lower] += dy[r]` for every row r whose id lies in `trainableRows` (= lower..<upper), rows in
    /// order, so repeated ids accumulate deterministically; ids outside the range (frozen rows) are skipped.
    /// **Accumulates.** The gradient buffer covers only the trainable rows, `[trainableRows.count, C]`: the encoder
    /// RMT's memory rows `V..<V+m` of the word embeddings take `[m, C]`, a fully trainable table `0..<count` its
    /// whole size, and a frozen table (an empty range) nothing, and costs nothing. The columns are shared among the
    /// threads (the result does not depend on the thread count).
    ///
    /// The forward keeps the ids. The gradient with respect to `inputs_embeds` (or to the memory rows spliced into
    /// them) is `dy` itself.
    /// - Parameters:
    ///   - dy: `[R, C]`, the gradient of the looked-up rows (or of the sum they were added to).
    ///   - ids: `[R]`.
    ///   - tableGradient: `[trainableRows.count, C]`, row 0 being table row `trainableRows.lowerBound`.
    public static func embeddingBackward(
        outputGradient dy: UnsafePointer<Float>, ids: UnsafePointer<Int>, rows r: Int, columns c: Int,
        trainableRows: Range<Int>, tableGradient: UnsafeMutablePointer<Float>
    ) {
        guard !trainableRows.isEmpty, r > 0, c > 0 else { return }
        let lower = trainableRows.lowerBound
        parallelColumns(c, rows: r) { columns in
            let (j0, n) = (columns.lowerBound, columns.count)
            for row in 0..<r where trainableRows.contains(ids[row]) {
                // One row of dy (columns j0..<j0+n) into its table row: a column sum over a single row.
                ckernels_add_column_sums(dy + row * c + j0, 1, n, c, tableGradient + (ids[row] - lower) * c + j0)
            }
        }
    }
}
