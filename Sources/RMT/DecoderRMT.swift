// The decoder RMT (GPT-2): memory cell and segment recurrence, exactly as RMT.md §2.4–2.6.

/// The outputs of one segment.
public struct DecoderSegmentOutput: Sendable {
    /// `[B, s, V]`: the token rows' logits.
    public let logits: [Float]
    /// `[B, m, H]`: the write block after `ln_f`, the next segment's memory.
    public let memory: [Float]
    public let length: Int
}

/// A GPT-2 wrapped with `m` memory vectors: `[read memory | tokens | write memory]` per segment.
public struct DecoderRMT<Backbone: RMTDecoderBackbone> {
    public let backbone: Backbone
    /// The memory parameter `[m, H]`.
    public let memory: [Float]
    public let memoryTokens: Int
    public let segmentSize: Int
    public let alignment: SegmentAlignment

    /// - Throws: `RMTError` when `m < 1`, `n < 1`, the memory shape is wrong, or `n + 2m > P`.
    public init(
        backbone: Backbone, memory: [Float], memoryTokens m: Int, segmentSize n: Int, alignment: SegmentAlignment
    ) throws {
        guard m >= 1 else { throw RMTError("num_mem_tokens", "must be at least 1, got \(m)") }
        guard n >= 1 else { throw RMTError("segment_size", "must be at least 1, got \(n)") }
        guard memory.count == m * backbone.hiddenSize else {
            throw RMTError(
                "memory",
                "has \(memory.count) values but num_mem_tokens × n_embd = \(m) × \(backbone.hiddenSize); the checkpoint and rmt_config.json disagree"
            )
        }
        guard n + 2 * m <= backbone.maxPositions else {
            throw RMTError(
                "segment_size",
                "segment_size \(n) + 2 × \(m) memory tokens = \(n + 2 * m) rows exceed n_positions \(backbone.maxPositions); use --segment-size \(backbone.maxPositions - 2 * m) or fewer"
            )
        }
        self.backbone = backbone
        self.memory = memory
        memoryTokens = m
        segmentSize = n
        self.alignment = alignment
    }

    /// The initial memory broadcast over the batch: `[B, m, H]`.
    public func initialMemory(batch: Int) -> [Float] {
        Array([[Float]](repeating: memory, count: batch).joined())
    }

    /// One segment (RMT.md §2.4).
    /// - Parameters:
    ///   - ids: `[B, s]` token ids.
    ///   - mask: `[B, s]` padding mask (1 = real token), or nil.
    ///   - state: `[B, m, H]` current memory.
    public func segment(ids: [Int], batch B: Int, length s: Int, mask: [Float]?, state: [Float]) throws
        -> DecoderSegmentOutput
    {
        let m = memoryTokens, H = backbone.hiddenSize
        let L = 2 * m + s
        let tokens = try backbone.tokenEmbeddings(ids)  // [B·s, H]
        var x = [Float](repeating: 0, count: B * L * H)  // [B, L, H] = [M | wte[x] | M]
        var rowMask: [Float]? = mask == nil ? nil : [Float](repeating: 1, count: B * L)
        for b in 0..<B {
            let mem = state[(b * m * H)..<((b + 1) * m * H)]
            x.replaceSubrange((b * L * H)..<((b * L + m) * H), with: mem)
            x.replaceSubrange(((b * L + m) * H)..<((b * L + m + s) * H), with: tokens[(b * s * H)..<((b + 1) * s * H)])
            x.replaceSubrange(((b * L + m + s) * H)..<((b + 1) * L * H), with: mem)
            if let mask { rowMask!.replaceSubrange((b * L + m)..<(b * L + m + s), with: mask[(b * s)..<((b + 1) * s)]) }
        }
        let y = try backbone.finalHiddenStates(
            embeddings: x, batch: B, length: L, attentionMask: rowMask, positionIds: nil)  // [B, L, H]
        var tokenRows = [Float](), next = [Float]()
        tokenRows.reserveCapacity(B * s * H)
        next.reserveCapacity(B * m * H)
        for b in 0..<B {
            tokenRows += y[((b * L + m) * H)..<((b * L + m + s) * H)]  // rows m..m+s−1
            next += y[((b * L + m + s) * H)..<((b + 1) * L * H)]  // rows m+s..L−1: the write block
        }
        let logits = try backbone.logits(hiddenStates: tokenRows, rows: B * s)  // [B·s, V]
        return DecoderSegmentOutput(logits: logits, memory: next, length: s)
    }

    /// Runs every segment of `ids` `[B, T]` with memory carried between them, handing each segment's outputs to
    /// `consume` as they are produced (so long inputs never hold all logits).
    /// - Parameter consume: called with the segment index, its column range in `[0, T)` and its outputs.
    public func run(
        ids: [Int], batch B: Int, length T: Int, mask: [Float]?,
        consume: (Int, Range<Int>, DecoderSegmentOutput) throws -> Void
    ) throws {
        guard T > 0, B > 0 else { throw RMTError("input_ids", "is empty; give at least one token") }
        var state = initialMemory(batch: B)
        for (j, r) in Segmenter.ranges(length: T, segmentSize: segmentSize, alignment: alignment).enumerated() {
            let s = r.count
            var segIds = [Int](), segMask: [Float]? = mask == nil ? nil : []
            for b in 0..<B {
                segIds += ids[(b * T + r.lowerBound)..<(b * T + r.upperBound)]
                segMask? += mask![(b * T + r.lowerBound)..<(b * T + r.upperBound)]
            }
            let out = try segment(ids: segIds, batch: B, length: s, mask: segMask, state: state)
            try consume(j, r, out)
            state = out.memory
        }
    }
}

/// σ of all elements of a table with Bessel's correction, accumulated in float64 (torch's `std()`).
public func standardDeviation(_ values: [Float]) -> Double {
    guard values.count > 1 else { return 0 }
    var mean = 0.0
    for v in values { mean += Double(v) }
    mean /= Double(values.count)
    var sq = 0.0
    for v in values { let d = Double(v) - mean; sq += d * d }
    return (sq / Double(values.count - 1)).squareRoot()
}
