import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

@Suite("NPZ writer")
struct NPZWriterTests {
    /// Tensors of every NPY-writable dtype, with awkward names.
    static func sampleSources() throws -> [TensorSource] {
        func t(_ dtype: DType, _ shape: Shape) throws -> Tensor {
            let n = shape.elementCount * dtype.itemSize
            return try Tensor(
                dtype: dtype, shape: shape, bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        }
        return [
            TensorSource(name: "h.0.attn.c_attn.weight", tensor: try t(.f32, [3, 5])),
            TensorSource(name: "x/y", tensor: try t(.i64, [2])),
            TensorSource(name: "leading/.hidden", tensor: try t(.f16, [7])),
            TensorSource(name: "namé", tensor: try t(.u8, [3])),
            TensorSource(name: "scalar", tensor: try t(.f64, [])),
            TensorSource(name: "empty", tensor: try t(.i32, [0, 4])),
            TensorSource(name: "flags", tensor: try Tensor(dtype: .bool, shape: [3], bytes: [1, 0, 1])),
            TensorSource(name: "i8", tensor: try t(.i8, [2, 2])),
            TensorSource(name: "i16", tensor: try t(.i16, [3])),
            TensorSource(name: "u16", tensor: try t(.u16, [3])),
            TensorSource(name: "u32", tensor: try t(.u32, [3])),
            TensorSource(name: "u64", tensor: try t(.u64, [3])),
            TensorSource(name: "c64", tensor: try t(.c64, [2])),
        ]
    }

    @Test(
        "stored and compressed archives read back bitwise, in order, with '/' and non-ASCII keys",
        arguments: [false, true])
    func roundTrip(_ compress: Bool) throws {
        let scratch = try Scratch()
        let sources = try Self.sampleSources()
        let path = "\(scratch.path)/out.npz"
        let notes = try NPZWriter.write(sources, to: path, options: NPZWriter.Options(compress: compress))
        #expect(notes.isEmpty)
        let archive = try NPZArchive(path: path)
        #expect(archive.tensorNames == sources.map(\.info.name))
        #expect(archive.zip.entries.map(\.name) == sources.map { $0.info.name + ".npy" })
        for source in sources {
            #expect(
                try archive.tensor(named: source.info.name).isBitwiseEqual(to: source.load()), "\(source.info.name)")
        }
        for entry in archive.zip.entries {
            #expect(entry.compression == (compress ? .deflate : .stored))
            // so array data is 64-aligned too
            if !compress { #expect(entry.dataRange.lowerBound % 64 == 0, "\(entry.name)") }
        }
    }

    @Test("local headers: version 20, flag bit 11 only for non-ASCII names, fixed time, real CRC and sizes")
    func headers() throws {
        let scratch = try Scratch()
        let path = "\(scratch.path)/h.npz"
        try NPZWriter.write(try Self.sampleSources(), to: path, options: NPZWriter.Options())
        let bytes = try Fixtures.bytes(path)
        let archive = try NPZArchive(path: path)
        for entry in archive.zip.entries {
            let h = entry.localHeaderOffset
            #expect(bytes[h + 4] == 20 && bytes[h + 5] == 0)
            #expect(bytes[h + 7] == (entry.name == "namé.npy" ? 0x08 : 0x00), "\(entry.name)")
            #expect(Array(bytes[h + 10..<h + 14]) == [0, 0, 0x21, 0])
            #expect(UInt32(le32(bytes, h + 14)) == entry.crc32)
            #expect(le32(bytes, h + 18) == entry.compressedSize && le32(bytes, h + 22) == entry.uncompressedSize)
            let member = try archive.zip.contents(of: entry)
            #expect(ZipCRC32.checksum(member.bytes) == entry.crc32)
        }
    }

    @Test("bf16 is widened to f32 with a note by default, or kept as '<V2' and read back bitwise as declared bf16")
    func bf16() throws {
        let scratch = try Scratch()
        let bits: [UInt8] = [0x80, 0x3F, 0x20, 0xC0, 0x20, 0x3E, 0x62, 0x7F]
        let t = try Tensor(dtype: .bf16, shape: [2, 2], bytes: bits)
        let widened = try NPZWriter.write(
            [TensorSource(name: "b", tensor: t)], to: "\(scratch.path)/w.npz", options: NPZWriter.Options())
        #expect(widened.count == 1 && widened[0].contains("--keep-bf16"))
        let w = try NPZArchive(path: "\(scratch.path)/w.npz")
        #expect(w.tensorInfos[0].dtype == .f32)
        #expect(try w.tensor(named: "b").converted(to: .bf16).isBitwiseEqual(to: t))
        let kept = try NPZWriter.write(
            [TensorSource(name: "b", tensor: t)], to: "\(scratch.path)/k.npz",
            options: NPZWriter.Options(keepBF16: true))
        #expect(kept.isEmpty)
        expectError(.unsupportedDType, containing: "void dtype '<V2'") {
            _ = try NPZArchive(path: "\(scratch.path)/k.npz")
        }
        let k = try NPZArchive(path: "\(scratch.path)/k.npz", options: NPYReadOptions(voidAsBF16: true))
        #expect(try k.tensor(named: "b").isBitwiseEqual(to: t))
        #expect(k.notes == ["`b`: void dtype '<V2' read as bf16, as requested"])
    }

    @Test(
        "safetensors → npz → safetensors is exact for every dtype (bf16 via f32 by default, bitwise with keep-bf16)",
        arguments: [false, true])
    func safetensorsRoundTrip(_ keepBF16: Bool) throws {
        let scratch = try Scratch()
        let original = try SafetensorsArchive(path: Fixtures.path("safetensors/all_dtypes.safetensors"))
        let npz = "\(scratch.path)/a.npz"
        try NPZWriter.write(
            TensorSource.all(of: original), to: npz, options: NPZWriter.Options(compress: keepBF16, keepBF16: keepBF16))
        let middle = try NPZArchive(path: npz, options: NPYReadOptions(voidAsBF16: keepBF16))
        let back = "\(scratch.path)/back.safetensors"
        try SafetensorsWriter.write(
            TensorSource.all(of: middle), metadata: original.metadata, to: back, overwrite: false)
        let result = try SafetensorsArchive(path: back)
        #expect(Set(result.tensorNames) == Set(original.tensorNames))
        for name in original.tensorNames {
            let a = try original.tensor(named: name), b = try result.tensor(named: name)
            if a.dtype == .bf16 && !keepBF16 {
                #expect(b.dtype == .f32)
                #expect(try b.converted(to: .bf16).isBitwiseEqual(to: a), "\(name)")
            } else {
                #expect(b.isBitwiseEqual(to: a), "\(name)")
            }
        }
        if keepBF16 {
            #expect(try Fixtures.bytes(back) == Fixtures.bytes(Fixtures.path("safetensors/all_dtypes.safetensors")))
        }
    }

    @Test("float8, duplicate and empty names are refused before anything is written")
    func refusals() throws {
        let scratch = try Scratch()
        let path = "\(scratch.path)/r.npz"
        let ok = TensorSource(name: "a", tensor: Tensor([1], shape: [1]))
        let f8 = TensorSource(name: "q", tensor: try Tensor(dtype: .f8E5M2, shape: [1], bytes: [0x3C]))
        expectError(.unsupportedDType, containing: "F8_E5M2, which NPY cannot name") {
            try NPZWriter.write([ok, f8], to: path, options: .init())
        }
        expectError(.duplicateKey, containing: "`a` appears twice") {
            try NPZWriter.write([ok, ok], to: path, options: .init())
        }
        expectError(.invalidName, containing: "empty name") {
            try NPZWriter.write([TensorSource(name: "", tensor: Tensor([1], shape: [1]))], to: path, options: .init())
        }
        // A tensor failing to load half-way leaves no file and no temporary behind.
        let failing = TensorSource(info: TensorInfo(name: "bad", dtype: .f32, shape: [1])) {
            throw CheckpointError(.io, file: "source", "simulated read failure")
        }
        expectError(.io, containing: "simulated read failure") {
            try NPZWriter.write([ok, failing], to: path, options: .init())
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }
}
