// Writing NPY byte-identical to `numpy.save` (docs/FORMATS.md §2.2): version 1.0, numpy's dict text and padding.
import TensorCore

/// Builds NPY headers exactly as numpy ≥ 1.24 writes them and writes single `.npy` files.
public enum NPYWriter {
    /// The `descr` numpy writes for `dtype`: `<f4`, `|b1`, `|i1`… and `<V2` for bf16 (as ml_dtypes saves it).
    /// - Throws: `CheckpointError` (`.unsupportedDType`) for the float8 kinds, which have no NPY form.
    public static func descr(for dtype: DType, file: String, tensor: String?) throws -> String {
        switch dtype {
        case .bool: return "|b1"
        case .i8: return "|i1"
        case .u8: return "|u1"
        case .i16: return "<i2"
        case .u16: return "<u2"
        case .i32: return "<i4"
        case .u32: return "<u4"
        case .i64: return "<i8"
        case .u64: return "<u8"
        case .f16: return "<f2"
        case .f32: return "<f4"
        case .f64: return "<f8"
        case .c64: return "<c8"
        case .bf16: return "<V2"
        case .f8E4M3, .f8E5M2:
            throw CheckpointError(
                .unsupportedDType, file: file, tensor: tensor,
                "tensor `\(tensor ?? "")` is \(dtype.safetensorsName), which NPY cannot name; write safetensors instead"
            )
        }
    }

    /// The complete NPY header (magic, version 1.0, HEADER_LEN, text, padding, newline) for a C-order array.
    ///
    /// The text is `{'descr': D, 'fortran_order': False, 'shape': S, }`, then numpy's growth spaces
    /// (`21 − len(repr(shape[0]))`, none for a scalar), then spaces so the data starts at a multiple of 64.
    public static func header(descr: String, shape: Shape) -> [UInt8] {
        let dims = shape.dimensions
        let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var text = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = dims.first { text += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let textLength = text.utf8.count + 1  // + the final newline
        let padding = 64 - (10 + textLength) % 64  // 1…64 spaces, as numpy pads
        var bytes = NPYHeader.magic + [1, 0]
        let headerLength = textLength + padding
        bytes += [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)]
        bytes += Array(text.utf8)
        bytes += [UInt8](repeating: 0x20, count: padding)
        bytes.append(0x0A)
        return bytes
    }

    /// The header for `info`'s dtype and shape.
    public static func header(for info: TensorInfo, file: String) throws -> [UInt8] {
        header(descr: try descr(for: info.dtype, file: file, tensor: info.name), shape: info.shape)
    }

    /// Writes one tensor as a `.npy` file, atomically.
    /// - Parameters:
    ///   - keepBF16: write bf16 as raw `<V2` bits; otherwise bf16 is widened to `<f4` (exact).
    public static func write(_ source: TensorSource, to path: String, overwrite: Bool, keepBF16: Bool = false) throws {
        try TensorNamePolicy.check([source.info.name], file: path)
        let prepared = NPYWriter.prepared(source, keepBF16: keepBF16)
        let header = try header(for: prepared.info, file: path)
        guard header.count - 10 <= 0xFFFF else {
            throw CheckpointError(
                .headerTooLarge, file: path, tensor: source.info.name, "shape too long for an NPY 1.0 header")
        }
        let out = try AtomicFileWriter(destination: path, overwrite: overwrite)
        try out.write(header)
        try prepared.forEachChunk(file: path) { try out.write($0) }
        try out.commit()
    }

    /// `source` as it will be written: bf16 becomes f32 unless `keepBF16`.
    public static func prepared(_ source: TensorSource, keepBF16: Bool) -> TensorSource {
        guard source.info.dtype == .bf16, !keepBF16 else { return source }
        return source.converted(to: .f32)
    }
}
