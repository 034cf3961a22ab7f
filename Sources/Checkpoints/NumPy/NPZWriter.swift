// Writing .npz archives (docs/FORMATS.md §2.7): one NPY member per tensor, streamed, atomic and reproducible.
import TensorCore

/// Writes `.npz` files that `numpy.load` reads: members `<tensor name>.npy` in the given order, each holding
/// `numpy.save`'s exact bytes; stored (64-byte aligned through the `46 42` extra field, so the array data is
/// aligned too) or deflated at level 6; fixed timestamps; ZIP64 only when needed.
public enum NPZWriter {
    /// How to write.
    public struct Options: Sendable {
        /// Deflate every member (like `numpy.savez_compressed`); otherwise store them (like `numpy.savez`).
        public var compress: Bool
        /// Write bf16 tensors as raw `<V2` bits (as ml_dtypes saves them); otherwise widen them to `<f4` (exact).
        public var keepBF16: Bool
        /// Replace an existing file.
        public var overwrite: Bool

        public init(compress: Bool = false, keepBF16: Bool = false, overwrite: Bool = false) {
            self.compress = compress
            self.keepBF16 = keepBF16
            self.overwrite = overwrite
        }
    }

    /// Writes `sources` to `path`, streaming one tensor at a time.
    /// - Parameter progress: called with the bytes written so far after each tensor.
    /// - Returns: notes for the user (one line when bf16 tensors were widened to f32).
    /// - Throws: `CheckpointError` for names `TensorNamePolicy` refuses, duplicate names, float8 tensors, or I/O;
    ///   nothing is left behind.
    @discardableResult
    public static func write(
        _ sources: [TensorSource], to path: String, options: Options,
        progress: ((Int) -> Void)? = nil
    ) throws -> [String] {
        try TensorNamePolicy.check(sources.map(\.info.name), file: path)
        var names = Set<UTF8Key>()
        for source in sources {
            guard names.insert(UTF8Key(source.info.name)).inserted else {
                throw CheckpointError(
                    .duplicateKey, file: path, tensor: source.info.name,
                    "tensor `\(source.info.name)` appears twice; names must be unique")
            }
            _ = try NPYWriter.descr(for: source.info.dtype, file: path, tensor: source.info.name)
        }
        let zip = try ZipWriter(path: path, overwrite: options.overwrite)
        for source in sources {
            let prepared = NPYWriter.prepared(source, keepBF16: options.keepBF16)
            let header = try NPYWriter.header(for: prepared.info, file: path)
            let (total, overflow) = header.count.addingReportingOverflow(prepared.info.byteCount)
            guard !overflow else {
                throw CheckpointError(
                    .validationOverflow, file: path, tensor: source.info.name, "member size overflows")
            }
            try zip.add(
                name: source.info.name + ".npy", byteCount: total, compression: options.compress ? .deflate : .stored,
                align: !options.compress
            ) { emit in
                try header.withUnsafeBytes { try emit($0) }
                try prepared.forEachChunk(file: path) { try emit($0) }
            }
            progress?(zip.bytesWritten)
        }
        try zip.finish()
        let widened = sources.filter { $0.info.dtype == .bf16 }.count
        guard widened > 0, !options.keepBF16 else { return [] }
        return [
            "note: \(widened) bf16 tensor\(widened == 1 ? "" : "s") written as float32 ('<f4', exact) because numpy has no bfloat16; pass --keep-bf16 to store raw '<V2' bits instead"
        ]
    }
}
