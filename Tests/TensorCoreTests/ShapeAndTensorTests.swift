import Testing
@testable import TensorCore

@Suite("Shapes, tensors and casts")
struct ShapeAndTensorTests {
    @Test("element and byte counts are overflow-checked")
    func overflow() {
        #expect(Shape([]).checkedElementCount == 1)
        #expect(Shape([0, 5]).checkedElementCount == 0)
        #expect(Shape([Int.max, 2]).checkedElementCount == nil)
        #expect(Shape([Int.max / 2 + 1]).checkedByteCount(.f32) == nil)
        #expect(Shape([-1]).checkedElementCount == nil)
    }

    @Test("a tensor refuses storage of the wrong size")
    func sizeMismatch() {
        #expect(throws: TensorError.byteCountMismatch(expected: 8, actual: 4)) {
            try Tensor(dtype: .f32, shape: [2], bytes: [0, 0, 0, 0])
        }
    }

    @Test(
        "every numeric dtype reads as Float and integers as Int64",
        arguments: [DType.f64, .i64, .i32, .i16, .i8, .u8, .u16, .u32, .u64])
    func readNumeric(dtype: DType) throws {
        let values: [Int64] = [0, 1, 100, 7]
        var bytes: [UInt8] = []
        for v in values {
            switch dtype {
            case .f64: withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { bytes += $0 }
            default:
                withUnsafeBytes(of: v.littleEndian) { bytes += $0.prefix(dtype.itemSize) }
            }
        }
        let t = try Tensor(dtype: dtype, shape: [4], bytes: bytes)
        #expect(try t.floatValues() == values.map(Float.init))
        if dtype != .f64 { #expect(try t.int64Values() == values) }
    }

    @Test("byte swapping reverses each element")
    func byteSwap() throws {
        let big: [UInt8] = [0x3F, 0x80, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00]  // 1.0, -2.0 big-endian
        let t = try big.withUnsafeBytes { try Tensor.byteSwapped($0, dtype: .f32, shape: [2]) }
        #expect(try t.floatValues() == [1, -2])
    }

    @Test("f64 ↔ f32 ↔ f16 ↔ bf16 casts agree with Swift's own conversions")
    func casts() throws {
        let values: [Float] = [0, 1, -1, 0.1, 3.14159, 65504, -1e-5, 1e30]
        let t = Tensor(values, shape: [2, 4])
        #expect(try t.converted(to: .f16).floatValues() == values.map { Float(Float16($0)) })
        #expect(try t.converted(to: .f64).converted(to: .f32).floatValues() == values)
        #expect(try t.converted(to: .f32).storage === t.storage)
        #expect(throws: TensorError.unsupportedCast(from: .i32, to: .f16)) {
            try Tensor(dtype: .i32, shape: [1], bytes: [1, 0, 0, 0]).converted(to: .f16)
        }
    }
}

/// A copy of `tensor`'s bytes, taken while the tensor is alive.
private func byteArray(_ tensor: Tensor) -> [UInt8] { withExtendedLifetime(tensor) { Array(tensor.bytes) } }

@Suite("chunked casts")
struct ChunkedCastTests {
    @Test(
        "casting pieces of 97 elements from a misaligned buffer gives the same bits as one cast, for every pair of float types"
    )
    func sameBits() throws {
        var values: [Float] = []
        for i in 0..<1000 { values.append(Float(i) * 0.37 - 150 + Float(i % 7) * 1e-3) }
        values += [.nan, .infinity, -0, 65519.99, 1e-8]
        let source = Tensor(values, shape: [values.count])
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 97)
        defer { scratch.deallocate() }
        for from in [DType.f32, .f16, .bf16, .f64] {
            let t = try source.converted(to: from)
            let shifted = [UInt8](repeating: 0, count: 1) + byteArray(t)  // element data at an odd address
            for to in [DType.f32, .f16, .bf16, .f64] where to != from {
                var out = [UInt8](repeating: 0xAA, count: t.elementCount * to.itemSize)
                try shifted.withUnsafeBytes { all in
                    try out.withUnsafeMutableBytes { dst in
                        var i = 0
                        while i < t.elementCount {
                            let n = min(97, t.elementCount - i)
                            let src = UnsafeRawBufferPointer(
                                rebasing: all[(1 + i * from.itemSize)..<(1 + (i + n) * from.itemSize)])
                            let slice = UnsafeMutableRawBufferPointer(
                                rebasing: dst[(i * to.itemSize)..<((i + n) * to.itemSize)])
                            try Tensor.convertElements(src, from: from, to: to, into: slice, scratch: scratch)
                            i += n
                        }
                    }
                }
                let whole = try t.converted(to: to)
                #expect(out == byteArray(whole), "\(from) → \(to)")
            }
        }
    }

    @Test("convertElements refuses integer types like converted(to:)")
    func refusesIntegers() {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 4)
        defer { scratch.deallocate() }
        var out = [UInt8](repeating: 0, count: 8)
        #expect(throws: TensorError.self) {
            try [Int32(1), 2].withUnsafeBytes { src in
                try out.withUnsafeMutableBytes {
                    try Tensor.convertElements(src, from: .i32, to: .f32, into: $0, scratch: scratch)
                }
            }
        }
    }
}
