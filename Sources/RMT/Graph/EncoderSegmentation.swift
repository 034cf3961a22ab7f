// The encoder's per-sample segmentation and segment layout (docs/RMT.md §3.2–3.3).

/// The special token ids the encoder strips from inputs and uses to build segments.
public struct SpecialTokenIDs: Codable, Sendable, Equatable {
    public var pad: Int
    public var cls: Int?
    public var sep: Int?
    public var eos: Int?
    public var bos: Int?

    public init(pad: Int, cls: Int?, sep: Int?, eos: Int? = nil, bos: Int? = nil) {
        self.pad = pad
        self.cls = cls
        self.sep = sep
        self.eos = eos
        self.bos = bos
    }

    /// Every defined special id: stripping tests membership, not per-id counts (bug 5 of docs/RMT.md §7.1).
    public var all: Set<Int> { Set([pad, cls, sep, eos, bos].compactMap { $0 }) }
}

/// Builds the encoder's segment rows `[CLS] mem×m [SEP] tokens [SEP] PAD…` for a batch.
public struct EncoderSegmentation: Sendable {
    public let inputSize: Int
    public let memoryTokens: Int
    public let maxSegments: Int
    public let alignment: SegmentAlignment
    public let special: SpecialTokenIDs
    /// `V`: the first memory id.
    public let firstMemoryID: Int

    /// Content tokens per segment: `input_size − m − 3` for BERT (cls, two seps).
    public var segmentSize: Int {
        inputSize - memoryTokens - ((special.cls ?? special.bos) != nil ? 1 : 0) - (special.sep != nil ? 2 : 0)
    }

    /// The row where memory starts: 1 when there is a cls (or bos) token, else 0.
    public var memoryStart: Int { (special.cls ?? special.bos) != nil ? 1 : 0 }

    public init(
        inputSize: Int, memoryTokens: Int, maxSegments: Int, alignment: SegmentAlignment,
        special: SpecialTokenIDs, firstMemoryID: Int
    ) throws {
        self.inputSize = inputSize
        self.memoryTokens = memoryTokens
        self.maxSegments = maxSegments
        self.alignment = alignment
        self.special = special
        self.firstMemoryID = firstMemoryID
        guard memoryTokens >= 1 else { throw RMTError("num_mem_tokens", "must be at least 1, got \(memoryTokens)") }
        guard maxSegments >= 1 else { throw RMTError("max_n_segments", "must be at least 1, got \(maxSegments)") }
        guard segmentSize >= 1 else {
            throw RMTError(
                "input_size",
                "input_size \(inputSize) leaves no room for tokens after \(memoryTokens) memory tokens and the special tokens; increase --input-size or reduce --memory-tokens"
            )
        }
    }

    /// One step of the batch: for each sample, its segment's ids `[input_size]`, or nil when it has none.
    public typealias Step = [[Int]?]

    /// The steps of a batch, laid out on demand: only each sample's stripped content and its piece ranges are
    /// kept, so memory stays near the input's size however many segments there are.
    public struct Steps: RandomAccessCollection, Sendable {
        let segmentation: EncoderSegmentation
        /// Per sample: the stripped, truncated content and its pieces, in order.
        let content: [[Int]]
        let pieces: [[Range<Int>]]
        /// The steps (0..<max_n_segments) where at least one sample has a segment.
        let kept: [Int]

        public var startIndex: Int { 0 }
        public var endIndex: Int { kept.count }

        /// Step `i`: each sample's segment row, or nil for a sample whose segments start later (front-fill).
        public subscript(i: Int) -> Step {
            let j = kept[i], K = segmentation.maxSegments
            return content.indices.map { b in
                let offset = K - pieces[b].count
                return j >= offset ? segmentation.layout(content[b][pieces[b][j - offset]]) : nil
            }
        }
    }

    /// Strips special ids, truncates to `segment_size · K` (keeping the beginning), splits each sample with the
    /// alignment rule and front-fills with empty markers so every sample's last segment falls on the last step.
    /// Steps where no sample has a segment are dropped.
    /// - Parameter ids: one id list per sample (padding and `[CLS] … [SEP]` allowed).
    /// - Returns: the steps, and the number of ids truncated per sample (the caller warns when non-zero).
    /// - Throws: `RMTError` when a sample has no content tokens (the reference would silently drop it).
    public func steps(for ids: [ArraySlice<Int>]) throws -> (steps: Steps, truncated: [Int]) {
        let specials = special.all
        let limit = segmentSize * maxSegments
        var content: [[Int]] = [], pieces: [[Range<Int>]] = []
        var truncated: [Int] = []
        for (b, row) in ids.enumerated() {
            // A row without special ids is kept as it is (one copy out of the batch).
            var kept = row.contains(where: specials.contains) ? row.filter { !specials.contains($0) } : Array(row)
            guard !kept.isEmpty else {
                throw RMTError(
                    "input_ids",
                    "sample \(b) has no tokens besides special tokens and padding; remove it from the batch")
            }
            truncated.append(max(0, kept.count - limit))
            if kept.count > limit { kept.removeLast(kept.count - limit) }
            pieces.append(Segmenter.ranges(length: kept.count, segmentSize: segmentSize, alignment: alignment))
            content.append(kept)
        }
        // A step is kept when some sample has a segment there: its pieces end on the last step.
        let longest = pieces.map(\.count).max() ?? 0
        let kept = Array((maxSegments - longest)..<maxSegments)
        return (Steps(segmentation: self, content: content, pieces: pieces, kept: kept), truncated)
    }

    /// `[CLS] mem_0 … mem_{m−1} [SEP] piece [SEP] PAD…` up to `input_size`.
    public func layout(_ piece: ArraySlice<Int>) -> [Int] {
        var row: [Int] = []
        row.reserveCapacity(inputSize)
        if let cls = special.cls ?? special.bos { row.append(cls) }
        row += (firstMemoryID..<(firstMemoryID + memoryTokens))
        if let sep = special.sep { row.append(sep) }
        row += piece
        if let sep = special.sep { row.append(sep) }
        row += [Int](repeating: special.pad, count: inputSize - row.count)
        return row
    }

    /// `[CLS] mem_0 … mem_{m−1} [SEP] piece [SEP] PAD…` up to `input_size`.
    public func layout(_ piece: [Int]) -> [Int] { layout(piece[...]) }
}
