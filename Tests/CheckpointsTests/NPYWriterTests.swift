import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

@Suite("NPY writer")
struct NPYWriterTests {
    /// Every committed file numpy.save wrote in its default form (C order, little-endian, version 1.0).
    static let numpySaved =
        ["n1_f32.npy", "n2_scalar_f64.npy", "n2_bool.npy", "empty_f32.npy", "pad64_u1.npy"]
        + ["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8"].map { "dtype_\($0).npy" }

    @Test("our NPY output is byte-identical to numpy.save", arguments: numpySaved)
    func byteIdentity(_ name: String) throws {
        let scratch = try Scratch()
        let source = try NPYArchive(path: Fixtures.path("numpy/\(name)"))
        let out = "\(scratch.path)/\(name)"
        try NPYWriter.write(TensorSource.all(of: source)[0], to: out, overwrite: false)
        #expect(try Fixtures.bytes(out) == Fixtures.bytes(Fixtures.path("numpy/\(name)")))
    }

    @Test("numpy.save's rewrite of big-endian and Fortran arrays: we write their little-endian C-order equivalent")
    func normalizedLayouts() throws {
        let scratch = try Scratch()
        for name in ["be_f4.npy", "be_i8.npy", "n2_fortran_f32.npy", "be_fortran_f8.npy", "fortran_3d_i16.npy"] {
            let source = try NPYArchive(path: Fixtures.path("numpy/\(name)"))
            let out = "\(scratch.path)/\(name)"
            try NPYWriter.write(TensorSource.all(of: source)[0], to: out, overwrite: false)
            let again = try NPYArchive(path: out)
            #expect(!again.header.bigEndian && !again.header.fortranOrder)
            try #require(ExpectedArray.all[name]).check(try again.tensor(named: again.tensorNames[0]), name)
        }
    }

    @Test("headers follow numpy's growth spaces and 64-byte padding for scalars and long shapes")
    func headerText() throws {
        let scalar = NPYWriter.header(descr: "<f8", shape: [])
        #expect(scalar.count == 128)
        #expect(
            String(decoding: scalar[10...], as: UTF8.self).hasPrefix(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (), }   "))
        let big = NPYWriter.header(descr: "<f4", shape: [123_456_789_012, 1, 2, 3, 4, 5, 6, 7])
        #expect(big.count % 64 == 0)
        let text = String(decoding: big[10..<(big.count - 1)], as: UTF8.self)
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (123456789012, 1, 2, 3, 4, 5, 6, 7), }"
        #expect(text.hasPrefix(dict + String(repeating: " ", count: 9)))
        #expect(big.last == 0x0A)
    }

    @Test("bf16 is written as exact f32 by default and as raw '<V2' bits when kept; float8 is refused")
    func bf16() throws {
        let scratch = try Scratch()
        let bits: [UInt8] = [0x80, 0x3F, 0x20, 0xC0]  // 1.0, -2.5
        let t = try Tensor(dtype: .bf16, shape: [2], bytes: bits)
        try NPYWriter.write(TensorSource(name: "b", tensor: t), to: "\(scratch.path)/f.npy", overwrite: false)
        let widened = try NPYArchive(path: "\(scratch.path)/f.npy")
        #expect(widened.header.descr == "<f4")
        #expect(try widened.tensor(named: "f").floatValues() == [1, -2.5])
        try NPYWriter.write(
            TensorSource(name: "b", tensor: t), to: "\(scratch.path)/k.npy", overwrite: false, keepBF16: true)
        let kept = try NPYArchive(path: "\(scratch.path)/k.npy", options: NPYReadOptions(voidAsBF16: true))
        #expect(kept.header.descr == "<V2")
        #expect(try kept.tensor(named: "k").isBitwiseEqual(to: t))
        let f8 = try Tensor(dtype: .f8E4M3, shape: [1], bytes: [0x38])
        expectError(.unsupportedDType, containing: "NPY cannot name") {
            try NPYWriter.write(TensorSource(name: "q", tensor: f8), to: "\(scratch.path)/q.npy", overwrite: false)
        }
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/q.npy"))
    }
}
