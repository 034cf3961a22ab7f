// Greedy generation with the decoder RMT (docs/RMT.md §2.8): the prompt's earlier segments write memory, the last
// segment is read with that memory only (no write block), and memory does not change while generating.
// B batch, m memory tokens, n rows of prompt and new tokens so far, H hidden, V vocabulary.
import Models

extension DecoderRMT {
    /// Greedily generates `maxNewTokens` tokens after `ids` `[B, T]`.
    ///
    /// Rows are `[M ×m][last prompt segment ×s][new tokens…]`. With a padding mask, positions follow Hugging Face
    /// generation: a real row gets the count of unmasked rows up to it minus 1, a masked row gets 1; memory rows
    /// count as real. Without a mask that is the row index.
    /// - Returns: the new tokens only, `[B, maxNewTokens]`.
    /// - Throws: `RMTError` when `m + s + maxNewTokens > P` or the input is empty.
    public func generate(ids: SequenceTensor<Int>, mask: SequenceTensor<Float>?, maxNewTokens: Int) throws
        -> SequenceTensor<Int>
    {
        let (B, T, m) = (ids.batch, ids.length, memoryTokens)
        guard T > 0, B > 0 else { throw RMTError("input_ids", "is empty; give at least one token") }
        guard maxNewTokens >= 1 else { throw RMTError("max_new_tokens", "must be at least 1") }
        let ranges = segments(length: T)
        var state = initialMemory(batch: B)
        for r in ranges.dropLast() {
            state = try segment(ids: ids.positions(r), mask: mask?.positions(r), state: state).memory
        }
        let last = ranges.last!
        guard m + last.count + maxNewTokens <= backbone.maxPositions else {
            throw RMTError(
                "max_new_tokens",
                "\(m) memory + \(last.count) prompt + \(maxNewTokens) new rows exceed n_positions \(backbone.maxPositions); ask for fewer tokens"
            )
        }
        var tokens = ids.positions(last)  // [B, n]: the last prompt segment, then the new tokens
        let memoryRows = SequenceTensor<Float>(repeating: 1, batch: B, length: m)
        var rowMask = SequenceTensor.concatenated([
            memoryRows, mask?.positions(last) ?? SequenceTensor(repeating: 1, batch: B, length: last.count),
        ])  // [B, m + n]
        var generated: [SequenceTensor<Int>] = []
        for _ in 0..<maxNewTokens {
            let x = Activations.concatenated([state, try backbone.tokenEmbeddings(tokens)])  // [B, m + n, H]
            let positions = SequenceTensor(rows: (0..<B).map { generationPositions(rowMask.sequence($0)) })
            let h = try backbone.finalHiddenStates(
                x, attentionMask: mask == nil ? nil : rowMask, positionIds: mask == nil ? nil : positions)
            let logits = backbone.logits(h.lastPositions(1))  // [B, 1, V]
            let next = SequenceTensor(rows: (0..<B).map { [firstArgmax(logits.sequence($0))] })  // [B, 1]
            generated.append(next)
            tokens = SequenceTensor.concatenated([tokens, next])
            rowMask = SequenceTensor.concatenated([rowMask, SequenceTensor(repeating: 1, batch: B, length: 1)])
        }
        return SequenceTensor.concatenated(generated)
    }
}

/// Hugging Face generation's positions from a padding mask: cumulative count of real rows minus 1, and 1 on
/// masked rows.
func generationPositions(_ mask: ArraySlice<Float>) -> [Int] {
    var seen = 0
    return mask.map { v in
        guard v != 0 else { return 1 }
        seen += 1
        return seen - 1
    }
}

/// The offset of the first largest value (torch.argmax's tie rule).
func firstArgmax(_ row: ArraySlice<Float>) -> Int {
    var best = row.startIndex
    for i in row.indices where row[i] > row[best] { best = i }
    return best - row.startIndex
}
