// Datasets written in row blocks through hyperslabs (compressed) or straight into their storage (uncompressed)
// hold the same data as datasets written in one piece.
import CHDF5
import Checkpoints
import Foundation
@testable import HDF5Codec
import TensorCore
import Testing
import TestSupport

@Suite("HDF5 streamed writes")
struct HDF5StreamingTests {
    /// Tensors of several ranks and dtypes, including a scalar, an empty one and one compressed in several chunks.
    private func tensors() throws -> [(String, Tensor)] {
        func floats(_ n: Int) -> [Float] { (0..<n).map { Float($0) * 0.37 - 11 } }
        return [
            ("rows", Tensor(floats(37 * 5), shape: [37, 5])),
            ("vector/f16", try Tensor(floats(1000), shape: [1000]).converted(to: .f16)),
            (
                "cube",
                try Tensor(dtype: .i64, shape: [3, 4, 5], bytes: (0..<480).map { UInt8(truncatingIfNeeded: $0 &* 13) })
            ),
            ("scalar", try Tensor(floats(1), shape: []).converted(to: .f64)),
            ("empty", try Tensor(dtype: .f32, shape: [0, 4], bytes: [])),
            ("bf16", try Tensor(floats(63), shape: [9, 7]).converted(to: .bf16)),
            ("large", Tensor(floats(600 * 1024), shape: [600, 1024])),  // 2.4 MB: chunks of 256 rows when compressed
        ]
    }

    /// Writes `tensors` in the generic layout with blocks of at most `blockBytes`.
    private func write(_ tensors: [(String, Tensor)], to path: String, blockBytes: Int, compress: Bool) throws {
        try HDF5Writer.withTemporaryFile(path, overwrite: false) { context, file in
            try context.writeVariableStrings(file, "rmt_convert_format", ["tensors/1"], scalar: true)
            for (name, tensor) in tensors {
                try context.writeDataset(
                    TensorSource(name: name, tensor: tensor), at: name, in: file, compress: compress,
                    level: 4, blockBytes: blockBytes)
            }
        }
    }

    @Test("small row blocks give the same datasets as one block, contiguous and compressed", arguments: [false, true])
    func sameContents(compress: Bool) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let all = try tensors()
        try write(all, to: "\(folder)/blocks.h5", blockBytes: 64, compress: compress)
        try write(all, to: "\(folder)/whole.h5", blockBytes: Int.max / 2, compress: compress)
        let blocks = try HDF5Archive(path: "\(folder)/blocks.h5"), whole = try HDF5Archive(path: "\(folder)/whole.h5")
        #expect(blocks.tensorNames == whole.tensorNames)
        #expect(Set(blocks.tensorNames) == Set(all.map(\.0)))
        for (name, tensor) in all {
            let a = try blocks.tensor(named: name), b = try whole.tensor(named: name)
            #expect(a.isBitwiseEqual(to: tensor), "\(name)")
            #expect(a.isBitwiseEqual(to: b), "\(name)")
        }
    }

    @Test("an uncompressed dataset's bytes lie contiguously at its storage address, exactly the tensor's bytes")
    func directStorage() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/direct.h5"
        let all = try tensors().filter { $0.1.shape.rank > 0 && $0.1.shape.elementCount > 0 }
        try write(all, to: path, blockBytes: 64, compress: false)
        let bytes = try Fixtures.bytes(path)
        let context = H5Context(path: path)
        let file = try context.own(H5FileOpener.open(path), .file, "open")
        for (name, tensor) in all {
            let d = try context.own(H5Dopen2(file.id, name, h5Default), .dataset, "open `\(name)`")
            let address = Int(H5Dget_offset(d.id))
            let expected = withExtendedLifetime(tensor) { Array(tensor.bytes) }
            #expect(address > 0 && address + expected.count <= bytes.count, "\(name)")
            #expect(Array(bytes[address..<min(address + expected.count, bytes.count)]) == expected, "\(name)")
        }
    }

    @Test("a cast of a mapped source streams into HDF5 with the bits of the whole-tensor cast")
    func mappedCast() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let values = (0..<(3 << 20)).map { Float($0 % 70_001) * 0.9 - 30_000 }  // 12 MiB of f32: two row blocks
        try SafetensorsWriter.write(
            [TensorSource(name: "w", tensor: Tensor(values, shape: [3 << 10, 1 << 10]))], metadata: nil,
            to: "\(folder)/src.safetensors", overwrite: false)
        let source = try SafetensorsArchive(path: "\(folder)/src.safetensors")
        let cast = TensorSource.all(of: source).map { $0.converted(to: .f16) }
        try HDF5Writer.write(cast, metadata: nil, to: "\(folder)/out.h5", overwrite: false)
        let back = try HDF5Archive(path: "\(folder)/out.h5")
        #expect(try back.tensor(named: "w").isBitwiseEqual(to: source.tensor(named: "w").converted(to: .f16)))
    }
}
