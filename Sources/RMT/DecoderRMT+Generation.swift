// Greedy generation with the decoder RMT (RMT.md §2.8): the prompt's earlier segments write memory, the last
// segment is read with that memory only (no write block), and memory does not change while generating.

extension DecoderRMT {
    /// Greedily generates `maxNewTokens` tokens after `ids` `[B, T]`.
    ///
    /// Rows are `[M ×m][last prompt segment ×s][new tokens…]`. With a padding mask, positions follow Hugging Face
    /// generation: a real row gets the count of unmasked rows up to it minus 1, a masked row gets 1; memory rows
    /// count as real. Without a mask that is the row index.
    /// - Returns: the new tokens only, `[B, maxNewTokens]`.
    /// - Throws: `RMTError` when `m + s + maxNewTokens > P` or the input is empty.
    public func generate(ids: [Int], batch B: Int, length T: Int, mask: [Float]?, maxNewTokens: Int) throws -> [Int] {
        guard T > 0, B > 0 else { throw RMTError("input_ids", "is empty; give at least one token") }
        guard maxNewTokens >= 1 else { throw RMTError("max_new_tokens", "must be at least 1") }
        let m = memoryTokens, H = backbone.hiddenSize, V = backbone.vocabularySize
        let ranges = Segmenter.ranges(length: T, segmentSize: segmentSize, alignment: alignment)
        var state = initialMemory(batch: B)
        func columns<E>(_ values: [E], _ r: Range<Int>) -> [E] {
            (0..<B).flatMap { b in values[(b * T + r.lowerBound)..<(b * T + r.upperBound)] }
        }
        for r in ranges.dropLast() {
            state = try segment(
                ids: columns(ids, r), batch: B, length: r.count, mask: mask.map { columns($0, r) }, state: state
            ).memory
        }
        let last = ranges.last!
        let s = last.count
        guard m + s + maxNewTokens <= backbone.maxPositions else {
            throw RMTError(
                "max_new_tokens",
                "\(m) memory + \(s) prompt + \(maxNewTokens) new rows exceed n_positions \(backbone.maxPositions); ask for fewer tokens"
            )
        }
        var rows = (0..<B).map { b in Array(ids[(b * T + last.lowerBound)..<(b * T + last.upperBound)]) }  // B × s
        var rowMask = (0..<B).map { b in
            mask.map { Array($0[(b * T + last.lowerBound)..<(b * T + last.upperBound)]) }
                ?? [Float](repeating: 1, count: s)
        }
        var generated = [[Int]](repeating: [], count: B)
        for _ in 0..<maxNewTokens {
            let L = m + rows[0].count
            var x = [Float](), fullMask = [Float](), positions = [Int]()
            for b in 0..<B {
                x += state[(b * m * H)..<((b + 1) * m * H)]  // read memory
                x += try backbone.tokenEmbeddings(rows[b])  // prompt + new tokens
                let maskRow = [Float](repeating: 1, count: m) + rowMask[b]
                fullMask += maskRow
                positions += generationPositions(maskRow)
            }
            let y = try backbone.finalHiddenStates(
                embeddings: x, batch: B, length: L, attentionMask: mask == nil ? nil : fullMask,
                positionIds: mask == nil ? nil : positions)  // [B, L, H]
            var lastRows = [Float]()  // [B, H]
            for b in 0..<B { lastRows += y[((b * L + L - 1) * H)..<((b * L + L) * H)] }
            let logits = try backbone.logits(hiddenStates: lastRows, rows: B)  // [B, V]
            for b in 0..<B {
                let next = firstArgmax(logits[(b * V)..<((b + 1) * V)])
                generated[b].append(next)
                rows[b].append(next)
                rowMask[b].append(1)
            }
        }
        return generated.flatMap { $0 }
    }
}

/// Hugging Face generation's positions from a padding mask: cumulative count of real rows minus 1, and 1 on
/// masked rows.
func generationPositions(_ mask: [Float]) -> [Int] {
    var seen = 0
    var positions: [Int] = []
    positions.reserveCapacity(mask.count)
    for v in mask {
        if v != 0 {
            seen += 1
            positions.append(seen - 1)
        } else {
            positions.append(1)
        }
    }
    return positions
}

/// The offset of the first largest value (torch.argmax's tie rule).
func firstArgmax(_ row: ArraySlice<Float>) -> Int {
    var best = row.startIndex
    for i in row.indices where row[i] > row[best] { best = i }
    return best - row.startIndex
}
