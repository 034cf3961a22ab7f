// The encoder's per-sample segmentation and segment layout (RMT.md §3.2–3.3).

/// The special token ids the encoder strips from inputs and uses to build segments.
public struct SpecialTokenIDs: Codable, Sendable, Equatable {
    public var pad: Int64
    public var cls: Int64?
    public var sep: Int64?
    public var eos: Int64?
    public var bos: Int64?

    public init(pad: Int64, cls: Int64?, sep: Int64?, eos: Int64? = nil, bos: Int64? = nil) {
        self.pad = pad
        self.cls = cls
        self.sep = sep
        self.eos = eos
        self.bos = bos
    }

    /// Every defined special id (membership, not counts: the reference's per-id counting is bug 7.1.5).
    public var all: Set<Int64> { Set([pad, cls, sep, eos, bos].compactMap { $0 }) }
}

/// Builds the encoder's segment rows `[CLS] mem×m [SEP] tokens [SEP] PAD…` for a batch.
public struct EncoderSegmentation: Sendable {
    public let inputSize: Int
    public let memoryTokens: Int
    public let maxSegments: Int
    public let alignment: SegmentAlignment
    public let special: SpecialTokenIDs
    /// `V`: the first memory id.
    public let firstMemoryID: Int64

    /// Content tokens per segment: `input_size − m − 3` for BERT (cls, two seps).
    public var segmentSize: Int {
        inputSize - memoryTokens - ((special.cls ?? special.bos) != nil ? 1 : 0) - (special.sep != nil ? 2 : 0)
    }

    /// The row where memory starts: 1 when there is a cls (or bos) token, else 0.
    public var memoryStart: Int { (special.cls ?? special.bos) != nil ? 1 : 0 }

    public init(inputSize: Int, memoryTokens: Int, maxSegments: Int, alignment: SegmentAlignment,
                special: SpecialTokenIDs, firstMemoryID: Int64) throws {
        self.inputSize = inputSize
        self.memoryTokens = memoryTokens
        self.maxSegments = maxSegments
        self.alignment = alignment
        self.special = special
        self.firstMemoryID = firstMemoryID
        guard memoryTokens >= 1 else { throw RMTError("num_mem_tokens", "must be at least 1, got \(memoryTokens)") }
        guard maxSegments >= 1 else { throw RMTError("max_n_segments", "must be at least 1, got \(maxSegments)") }
        guard segmentSize >= 1 else {
            throw RMTError("input_size", "input_size \(inputSize) leaves no room for tokens after \(memoryTokens) memory tokens and the special tokens; increase --input-size or reduce --memory-tokens")
        }
    }

    /// One step of the batch: for each sample, its segment's ids `[input_size]`, or nil when it has none.
    public typealias Step = [[Int64]?]

    /// Strips special ids, truncates to `segment_size · K` (keeping the beginning), splits each sample with the
    /// alignment rule and front-fills with empty markers so every sample's last segment falls on the last step.
    /// Steps where no sample has a segment are dropped.
    /// - Parameter ids: one id list per sample (padding and `[CLS] … [SEP]` allowed).
    /// - Returns: the steps, and the number of ids truncated per sample (the caller warns when non-zero).
    /// - Throws: `RMTError` when a sample has no content tokens (the reference would silently drop it).
    public func steps(for ids: [[Int64]]) throws -> (steps: [Step], truncated: [Int]) {
        let specials = special.all
        let limit = segmentSize * maxSegments
        var perSample: [[[Int64]]] = []
        var truncated: [Int] = []
        for (b, row) in ids.enumerated() {
            var content = row.filter { !specials.contains($0) }
            guard !content.isEmpty else {
                throw RMTError("input_ids", "sample \(b) has no tokens besides special tokens and padding; remove it from the batch")
            }
            truncated.append(max(0, content.count - limit))
            if content.count > limit { content.removeLast(content.count - limit) }
            let pieces = Segmenter.ranges(length: content.count, segmentSize: segmentSize, alignment: alignment).map { Array(content[$0]) }
            perSample.append(pieces)
        }
        var steps: [Step] = []
        for j in 0..<maxSegments {
            let step: Step = perSample.map { pieces in
                let offset = maxSegments - pieces.count
                return j >= offset ? layout(pieces[j - offset]) : nil
            }
            if step.contains(where: { $0 != nil }) { steps.append(step) }
        }
        return (steps, truncated)
    }

    /// `[CLS] mem_0 … mem_{m−1} [SEP] piece [SEP] PAD…` up to `input_size`.
    public func layout(_ piece: [Int64]) -> [Int64] {
        var row: [Int64] = []
        row.reserveCapacity(inputSize)
        if let cls = special.cls ?? special.bos { row.append(cls) }
        row += (0..<Int64(memoryTokens)).map { firstMemoryID + $0 }
        if let sep = special.sep { row.append(sep) }
        row += piece
        if let sep = special.sep { row.append(sep) }
        row += [Int64](repeating: special.pad, count: inputSize - row.count)
        return row
    }
}
