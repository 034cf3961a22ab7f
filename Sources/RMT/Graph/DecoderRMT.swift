// The decoder RMT (GPT-2): memory cell and segment recurrence, exactly as docs/RMT.md §2.4–2.6.
// B batch, s tokens of a segment, m memory tokens, L = m + s + m rows, H hidden, V vocabulary.
import Models

/// The outputs of one segment.
public struct DecoderSegmentOutput: Sendable {
    /// `[B, s, V]`: the token rows' logits.
    public let logits: Activations
    /// `[B, m, H]`: the write block after `ln_f`, the next segment's memory.
    public let memory: Activations
}

/// A GPT-2 wrapped with `m` memory vectors: `[read memory | tokens | write memory]` per segment.
public struct DecoderRMT<Backbone: RMTDecoderBackbone>: Sendable {
    public internal(set) var backbone: Backbone
    /// The memory parameter `memory_cell.memory`: `[m, H]`.
    public internal(set) var memory: Parameter
    /// `m`.
    public let memoryTokens: Int
    public let segmentSize: Int
    public let alignment: SegmentAlignment

    /// - Parameter memory: the `[m, H]` memory parameter, row-major.
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
        self.memory = Parameter(memory, key: DecoderRMTFamily.memoryKey, shape: [m, backbone.hiddenSize])
        memoryTokens = m
        segmentSize = n
        self.alignment = alignment
    }

    /// The same wrapper with another segment alignment.
    public func aligned(_ alignment: SegmentAlignment) throws -> DecoderRMT {
        try DecoderRMT(
            backbone: backbone, memory: memory.values, memoryTokens: memoryTokens, segmentSize: segmentSize,
            alignment: alignment)
    }

    /// The initial memory broadcast over the batch: `[B, m, H]`.
    public func initialMemory(batch: Int) -> Activations {
        Activations(unchecked: memory.values, batch: 1, length: memoryTokens, width: backbone.hiddenSize)
            .repeated(batch: batch)
    }

    /// The segments of an input of `length` tokens (docs/RMT.md §2.3).
    public func segments(length: Int) -> [Range<Int>] {
        Segmenter.ranges(length: length, segmentSize: segmentSize, alignment: alignment)
    }

    /// One segment (docs/RMT.md §2.4), `MemoryCell.forward`.
    /// - Parameters:
    ///   - ids: `[B, s]` token ids.
    ///   - mask: `[B, s]` padding mask (1 = real token), or nil.
    ///   - state: `[B, m, H]` current memory.
    public func segment(ids: SequenceTensor<Int>, mask: SequenceTensor<Float>?, state: Activations) throws
        -> DecoderSegmentOutput
    {
        let (m, s) = (memoryTokens, ids.length)
        let (x, rowMask) = try segmentInputs(ids: ids, mask: mask, state: state)
        let h = try backbone.finalHiddenStates(x, attentionMask: rowMask, positionIds: nil)  // [B, L, H]
        let logits = backbone.logits(h.positions(m..<(m + s)))  // [B, s, V]: the token rows
        return DecoderSegmentOutput(logits: logits, memory: h.lastPositions(m))  // h[:, -m:]: the write block
    }

    /// One segment's backbone inputs (docs/RMT.md §2.4): the embeddings `cat([M, wte(ids), M])` `[B, L, H]` and,
    /// with a padding mask, the row mask `[B, L]` (memory rows are never masked).
    func segmentInputs(ids: SequenceTensor<Int>, mask: SequenceTensor<Float>?, state: Activations) throws -> (
        embeddings: Activations, rowMask: SequenceTensor<Float>?
    ) {
        let tokens = try backbone.tokenEmbeddings(ids)  // [B, s, H]
        let x = Activations.concatenated([state, tokens, state])  // [B, L, H] = cat([mem, emb, mem], dim=1)
        let memoryRows = SequenceTensor<Float>(repeating: 1, batch: ids.batch, length: memoryTokens)
        return (x, mask.map { SequenceTensor.concatenated([memoryRows, $0, memoryRows]) })  // [B, L]
    }

    /// Runs every segment of `ids` `[B, T]` with memory carried between them (docs/RMT.md §2.5), handing each
    /// segment's outputs to `consume` as they are produced, so long inputs never hold all logits.
    /// - Parameter consume: called with the segment index, its positions in `[0, T)` and its outputs.
    public func run(
        ids: SequenceTensor<Int>, mask: SequenceTensor<Float>?,
        consume: (Int, Range<Int>, DecoderSegmentOutput) throws -> Void
    ) throws {
        guard ids.length > 0, ids.batch > 0 else { throw RMTError("input_ids", "is empty; give at least one token") }
        var state = initialMemory(batch: ids.batch)
        for (j, r) in segments(length: ids.length).enumerated() {
            let out = try segment(ids: ids.positions(r), mask: mask?.positions(r), state: state)
            try consume(j, r, out)
            state = out.memory
        }
    }
}

extension DecoderRMT: ParameterContainer where Backbone: ParameterContainer {
    /// The memory, then the backbone's parameters (state-dict order).
    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&memory)
        try backbone.updateParameters(body)
    }
}
