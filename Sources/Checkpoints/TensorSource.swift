// Tensors to be written, streamed in chunks: a loaded (often mapped) tensor, or a cast of another source.
import TensorCore

/// A tensor to be written: its name, dtype and shape up front, its data on demand.
///
/// Writers compute headers from the infos, then stream each source's bytes with `forEachChunk`, one source at a
/// time. A source read from a mapped file drops each chunk's pages from the resident set once written, and a cast
/// source (`converted(to:)`) converts one chunk at a time, so peak memory stays near one chunk, not one tensor.
public struct TensorSource: Sendable {
    /// Streams the bytes: `(file, chunkSize, body)`; nil streams the loaded tensor.
    typealias Stream =
        @Sendable (_ file: String, _ chunkSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

    public let info: TensorInfo
    /// The whole tensor (a zero-copy view where the format allows).
    public let load: @Sendable () throws -> Tensor
    private let stream: Stream?

    public init(info: TensorInfo, load: @escaping @Sendable () throws -> Tensor) {
        self.info = info
        self.load = load
        stream = nil
    }

    private init(info: TensorInfo, load: @escaping @Sendable () throws -> Tensor, stream: @escaping Stream) {
        self.info = info
        self.load = load
        self.stream = stream
    }

    /// A source for an in-memory tensor.
    public init(name: String, tensor: Tensor) {
        self.init(info: TensorInfo(name: name, dtype: tensor.dtype, shape: tensor.shape)) { tensor }
    }

    /// Every tensor of `archive`, in file order, read lazily.
    public static func all(of archive: any TensorArchive) -> [TensorSource] {
        let box = UncheckedSendable(archive)
        return archive.tensorInfos.map { info in
            TensorSource(info: info) { try box.value.tensor(named: info.name) }
        }
    }

    /// Loads the tensor and checks that it has the declared dtype and shape.
    /// - Parameter file: the output being written, for the error.
    /// - Throws: `CheckpointError(.corrupt)` on a mismatch, or the loader's error.
    public func loadChecked(file: String) throws -> Tensor {
        let tensor = try load()
        guard tensor.dtype == info.dtype, tensor.shape == info.shape else {
            throw CheckpointError(
                .corrupt, file: file, tensor: info.name,
                "tensor `\(info.name)` loaded as \(tensor.dtype.rawValue) \(tensor.shape) but was declared \(info.dtype.rawValue) \(info.shape)"
            )
        }
        return tensor
    }

    /// Calls `body` with the tensor's bytes in order, in pieces of exactly `chunkSize` bytes (rounded down to
    /// whole elements, at least one) except a shorter last piece; nothing for an empty tensor. Pages of a mapped
    /// source are dropped from the resident set once their piece is consumed; a cast source converts piece by
    /// piece. The pieces are valid only during `body`.
    /// - Parameter file: the output being written, for errors.
    /// - Throws: `CheckpointError(.corrupt)` when the data does not match `info`, or `body`'s error.
    public func forEachChunk(
        file: String, ofSize chunkSize: Int = Tensor.streamingChunkSize,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let itemSize = max(info.dtype.itemSize, 1)
        let size = max(chunkSize / itemSize, 1) * itemSize
        if let stream {
            try stream(file, size, body)
            return
        }
        let tensor = try loadChecked(file: file)
        do {
            try tensor.forEachChunk(ofSize: size) { piece in
                var offset = 0
                while offset < piece.count {
                    let count = min(size, piece.count - offset)
                    try body(UnsafeRawBufferPointer(rebasing: piece[offset..<(offset + count)]))
                    offset += count
                }
            }
        } catch {
            // A write from pages past the end of a truncated input fails (EFAULT): name the input, not the output.
            try Self.checkUnchanged(tensor, name: info.name)
            throw error
        }
        try Self.checkUnchanged(tensor, name: info.name)
    }

    /// Throws `CheckpointError(.truncated)` naming the input file when `tensor` is a view of a mapped file that
    /// shrank while it was read (another process truncated it): the bytes just streamed may be zeros.
    public static func checkUnchanged(_ tensor: Tensor, name: String) throws {
        do { try tensor.storage.checkUnchanged() } catch let error as MappedFileError {
            throw CheckpointError(error, tensor: name)
        }
    }

    /// This source cast to `target` (f64, f32, f16, bf16; see `Tensor.converted(to:)`), bit for bit the same as
    /// casting the loaded tensor. Streaming converts one piece at a time; `load` casts the whole tensor.
    /// Returns `self` when the dtype already matches.
    public func converted(to target: DType) -> TensorSource {
        guard target != info.dtype else { return self }
        let upstream = self
        let info = TensorInfo(name: info.name, dtype: target, shape: info.shape)
        return TensorSource(info: info, load: { try upstream.load().converted(to: target) }) { file, chunkSize, body in
            let from = upstream.info.dtype
            guard from.isCastableFloat, target.isCastableFloat else {
                throw CheckpointError(
                    .unsupportedDType, file: file, tensor: info.name,
                    "tensor `\(info.name)` is \(from.rawValue), which cannot be cast to \(target.rawValue); cast float tensors only"
                )
            }
            let elements = chunkSize / target.itemSize
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: elements)
            defer { scratch.deallocate() }
            let out = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
            defer { out.deallocate() }
            try upstream.forEachChunk(file: file, ofSize: elements * from.itemSize) { piece in
                let converted = UnsafeMutableRawBufferPointer(
                    rebasing: out[0..<(piece.count / from.itemSize * target.itemSize)])
                try Tensor.convertElements(piece, from: from, to: target, into: converted, scratch: scratch)
                try body(UnsafeRawBufferPointer(converted))
            }
        }
    }
}
