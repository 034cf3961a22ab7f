import CHalf
import Testing
@testable import TensorCore

@Suite("Half-precision conversions")
struct HalfConversionTests {
    @Test("f16 → f32 matches Float(Float16) bit for bit on all 65,536 patterns, fast and portable paths")
    func allHalfPatterns() {
        let halves = (0...0xFFFF).map { UInt16($0) }
        var fast = [Float](repeating: 0, count: halves.count)
        var portable = [Float](repeating: 0, count: halves.count)
        chalf_f16_to_f32(halves, &fast, halves.count)
        chalf_f16_to_f32_portable(halves, &portable, halves.count)
        var mismatches = 0
        for (i, h) in halves.enumerated() {
            let expected = Float(Float16(bitPattern: h))
            if expected.isNaN {
                if !fast[i].isNaN || !portable[i].isNaN || fast[i].bitPattern != portable[i].bitPattern {
                    mismatches += 1
                }
            } else if fast[i].bitPattern != expected.bitPattern || portable[i].bitPattern != expected.bitPattern {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("f32 → f16 rounds to nearest even like Float16(Float), NaN stays NaN, fast and portable agree")
    func floatToHalf() {
        // Every half value, the midpoints between neighbours (ties), values just off the ties, and extremes.
        var inputs: [Float] = [
            0, -0, .infinity, -.infinity, .nan, 65504, 65519.99, 65520, 1e-8, -1e-8, 5.96e-8, 2.98e-8,
            Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFC0_1234), .greatestFiniteMagnitude,
        ]
        for h in UInt16(0)...0x7BFF {
            let a = Float(Float16(bitPattern: h)), b = Float(Float16(bitPattern: h + 1))
            let mid = (a + b) / 2
            inputs += [a, -a, mid, -mid, mid.nextUp, mid.nextDown]
        }
        var fast = [UInt16](repeating: 0, count: inputs.count)
        var portable = [UInt16](repeating: 0, count: inputs.count)
        chalf_f32_to_f16(inputs, &fast, inputs.count)
        chalf_f32_to_f16_portable(inputs, &portable, inputs.count)
        var mismatches: [Float] = []
        for (i, x) in inputs.enumerated() {
            let expected = Float16(x)
            if x.isNaN {
                if !Float16(bitPattern: fast[i]).isNaN || !Float16(bitPattern: portable[i]).isNaN {
                    mismatches.append(x)
                }
            } else if fast[i] != expected.bitPattern || portable[i] != expected.bitPattern {
                mismatches.append(x)
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
    }

    @Test("f32 → bf16 rounds to nearest even and keeps NaN; bf16 → f32 is exact")
    func bfloat16() throws {
        let cases: [(Float, UInt16)] = [
            (1.0, 0x3F80), (-2.0, 0xC000),
            (Float(bitPattern: 0x3F80_8000), 0x3F80),  // tie, even stays
            (Float(bitPattern: 0x3F81_8000), 0x3F82),  // tie, odd rounds up
            (Float(bitPattern: 0x3F80_8001), 0x3F81),  // above tie
            (Float(bitPattern: 0x7F7F_FFFF), 0x7F80),  // rounds to inf
            (.infinity, 0x7F80),
        ]
        let t = Tensor(cases.map(\.0), shape: [cases.count])
        let bf = try t.converted(to: .bf16)
        let bits = (0..<cases.count).map { bf.bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self) }
        #expect(bits == cases.map(\.1))
        let nan = try Tensor([Float.nan, Float(bitPattern: 0x7F80_0001)], shape: [2]).converted(to: .bf16)
        #expect(try nan.floatValues().allSatisfy(\.isNaN))
        let back = try bf.converted(to: .f32).floatValues()
        #expect(back.map(\.bitPattern) == bits.map { UInt32($0) << 16 })
    }

    @Test("casts read unaligned sources correctly")
    func unalignedSource() throws {
        let values: [Float] = [1.5, -2.25, 3.0, 1e-3, 7, 8, 9, 10, 11]
        var raw: [UInt8] = [0xAA]  // one byte of offset: the floats start at an odd address
        values.withUnsafeBytes { raw += $0 }
        let storage = raw.withUnsafeBytes { TensorStorage(copying: UnsafeRawBufferPointer(rebasing: $0[1...])) }
        // TensorStorage copies into aligned memory, so build a view with an odd start explicitly.
        let odd = try raw.withUnsafeBytes { buf -> [Float] in
            let view = UnsafeRawBufferPointer(rebasing: buf[1...])
            let t = try Tensor(dtype: .f32, shape: [values.count], storage: TensorStorage(copying: view))
            let half = try t.converted(to: .f16)
            var unaligned: [UInt8] = [0]
            unaligned += Array(half.bytes)
            return try unaligned.withUnsafeBytes { u in
                var out = [Float](repeating: 0, count: values.count)
                try Tensor.decodeFloats(
                    UnsafeRawBufferPointer(rebasing: u[1...]), dtype: .f16, count: values.count, into: &out)
                return out
            }
        }
        #expect(storage.bytes.count == values.count * 4)
        #expect(odd == values.map { Float(Float16($0)) })
    }
}
