// Casts between float types, and reading any numeric tensor as Float or Int64.
import CHalf

extension Tensor {
    /// The elements as `Float`, from any numeric dtype (f64 rounds; integers convert; bool is 0 or 1).
    /// f16 and bf16 go through the vectorised paths of `CHalf`; sources may be unaligned.
    /// - Throws: `TensorError.unsupportedCast` for complex and float8 tensors.
    public func floatValues() throws -> [Float] {
        let n = elementCount
        let src = bytes
        return try [Float](unsafeUninitializedCapacity: n) { out, initialized in
            try Tensor.decodeFloats(src, dtype: dtype, count: n, into: out.baseAddress!)
            initialized = n
        }
    }

    /// The elements as `Int64`, from an integer or bool tensor.
    /// - Throws: `TensorError.unsupportedCast` for float, complex and float8 tensors.
    public func int64Values() throws -> [Int64] {
        let src = bytes
        let n = elementCount
        func load<T: FixedWidthInteger>(_ t: T.Type) -> [Int64] {
            (0..<n).map {
                Int64(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))
            }
        }
        switch dtype {
        case .i64: return load(Int64.self)
        case .i32: return load(Int32.self)
        case .i16: return load(Int16.self)
        case .i8: return load(Int8.self)
        case .u64: return load(UInt64.self)
        case .u32: return load(UInt32.self)
        case .u16: return load(UInt16.self)
        case .u8: return load(UInt8.self)
        case .bool: return (0..<n).map { src[$0] != 0 ? 1 : 0 }
        default: throw TensorError.unsupportedCast(from: dtype, to: .i64)
        }
    }

    /// This tensor cast to `target`. Casts are between f64, f32, f16 and bf16 (round to nearest even, NaN kept);
    /// any dtype converts to itself (returned unchanged, no copy).
    public func converted(to target: DType) throws -> Tensor {
        if target == dtype { return self }
        guard dtype.isCastableFloat, target.isCastableFloat else {
            throw TensorError.unsupportedCast(from: dtype, to: target)
        }
        let n = elementCount
        let src = bytes
        let out = try TensorStorage(count: n * target.itemSize) { dst in
            try Tensor.convertElements(src, from: dtype, to: target, into: dst)
        }
        return try Tensor(dtype: target, shape: shape, storage: out)
    }

    /// Casts the whole elements of `from` in `src` to `target` into `dst` (`src.count / from.itemSize` elements,
    /// filling `dst` exactly), between f64, f32, f16 and bf16 as `converted(to:)` does, bit for bit. `scratch`
    /// holds at least as many floats as there are elements (callers converting piece by piece pass one buffer for
    /// every piece); without it one is allocated when needed. An aligned f32 source is encoded without it.
    /// f64 → f16/bf16 goes through f32 (double rounding is possible but only for values within half an f32 ulp
    /// of a tie, which checkpoints do not contain in practice); every other cast to f64 is exact.
    public static func convertElements(
        _ src: UnsafeRawBufferPointer, from: DType, to target: DType,
        into dst: UnsafeMutableRawBufferPointer, scratch: UnsafeMutablePointer<Float>? = nil
    ) throws {
        guard from.isCastableFloat, target.isCastableFloat else {
            throw TensorError.unsupportedCast(from: from, to: target)
        }
        let n = src.count / from.itemSize
        precondition(
            n * from.itemSize == src.count && dst.count == n * target.itemSize,
            "convertElements: whole elements in, exact room out")
        guard n > 0, let base = src.baseAddress else { return }
        if from == .f32, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            encodeFloats(base.assumingMemoryBound(to: Float.self), count: n, as: target, into: dst)
            return
        }
        let floats = scratch ?? UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { if scratch == nil { floats.deallocate() } }
        try decodeFloats(src, dtype: from, count: n, into: floats)
        encodeFloats(floats, count: n, as: target, into: dst)
    }

    /// Decodes `count` elements of `dtype` from `src` into `dst`.
    static func decodeFloats(
        _ src: UnsafeRawBufferPointer, dtype: DType, count n: Int, into dst: UnsafeMutablePointer<Float>
    ) throws {
        guard n > 0 else { return }
        let base = src.baseAddress!
        func load<T>(_ t: T.Type, _ convert: (T) -> Float) {
            for i in 0..<n { dst[i] = convert(src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
        }
        switch dtype {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: base, byteCount: n * 4)
        case .f16: chalf_f16_to_f32(base.assumingMemoryBound(to: UInt16.self), dst, n)
        case .bf16: chalf_bf16_to_f32(base.assumingMemoryBound(to: UInt16.self), dst, n)
        case .f64: load(Double.self) { Float($0) }
        case .i64: load(Int64.self) { Float($0) }
        case .i32: load(Int32.self) { Float($0) }
        case .i16: load(Int16.self) { Float($0) }
        case .i8: load(Int8.self) { Float($0) }
        case .u64: load(UInt64.self) { Float($0) }
        case .u32: load(UInt32.self) { Float($0) }
        case .u16: load(UInt16.self) { Float($0) }
        case .u8: load(UInt8.self) { Float($0) }
        case .bool: load(UInt8.self) { $0 != 0 ? 1 : 0 }
        case .c64, .f8E4M3, .f8E5M2: throw TensorError.unsupportedCast(from: dtype, to: .f32)
        }
    }

    /// Encodes `count` floats as `target` (f32, f16 or bf16; f64 widens exactly).
    static func encodeFloats(
        _ src: UnsafePointer<Float>, count n: Int, as target: DType, into dst: UnsafeMutableRawBufferPointer
    ) {
        let out = dst.baseAddress!
        switch target {
        case .f32: out.copyMemory(from: src, byteCount: n * 4)
        case .f16: chalf_f32_to_f16(src, out.assumingMemoryBound(to: UInt16.self), n)
        case .bf16: chalf_f32_to_bf16(src, out.assumingMemoryBound(to: UInt16.self), n)
        case .f64:
            let raw = UnsafeRawPointer(src)  // may be unaligned: load bytewise
            for i in 0..<n {
                out.storeBytes(
                    of: Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self)), toByteOffset: i * 8,
                    as: Double.self)
            }
        default: preconditionFailure("encodeFloats supports float targets only")
        }
    }
}

extension Tensor {
    /// A new tensor whose bytes are `source` with every element's bytes reversed (big- ↔ little-endian).
    /// Complex elements swap each component.
    public static func byteSwapped(_ source: UnsafeRawBufferPointer, dtype: DType, shape: Shape) throws -> Tensor {
        let unit = dtype == .c64 ? 4 : dtype.itemSize
        let storage = TensorStorage(count: source.count) { dst in
            var i = 0
            while i + unit <= source.count {
                for k in 0..<unit { dst[i + k] = source[i + unit - 1 - k] }
                i += unit
            }
        }
        return try Tensor(dtype: dtype, shape: shape, storage: storage)
    }
}
