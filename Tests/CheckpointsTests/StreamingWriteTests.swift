// The pieces behind streamed writing: CRC-32 against zlib, ZIP members checksummed in one pass with the CRC patched
// into the header, in-place overwrites of the atomic writer, and cast sources streamed chunk by chunk.
import CZlibRaw
import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

/// zlib's own CRC-32 of `bytes`, continuing from `crc`.
private func zlibCRC(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
    guard let base = bytes.baseAddress else { return crc }
    return UInt32(crc32(uLong(crc), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
}

/// A copy of `tensor`'s bytes, taken while the tensor is alive.
private func byteArray(_ tensor: Tensor) -> [UInt8] { withExtendedLifetime(tensor) { Array(tensor.bytes) } }

/// Deterministic pseudo-random bytes.
private func noise(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

@Suite("CRC-32")
struct CRC32Tests {
    @Test("ZipCRC32 equals zlib's crc32 for every length 0…300 at 16 misalignments, and for large buffers")
    func matchesZlib() {
        let data = noise(300 + 16, seed: 1)
        data.withUnsafeBytes { all in
            for shift in 0..<16 {
                for length in 0...300 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[shift..<(shift + length)])
                    #expect(ZipCRC32.checksum(slice) == zlibCRC(0, slice), "length \(length), shift \(shift)")
                }
            }
        }
        for (count, shift) in [(1 << 20, 0), ((1 << 20) + 13, 3), (3 * (1 << 20) + 77, 9)] {
            let big = noise(count + shift, seed: UInt64(count))
            big.withUnsafeBytes { all in
                let slice = UnsafeRawBufferPointer(rebasing: all[shift...])
                #expect(ZipCRC32.checksum(slice) == zlibCRC(0, slice), "\(count) bytes")
            }
        }
    }

    @Test("feeding pieces gives the CRC of the whole, continuing from any state like zlib")
    func incremental() {
        let data = noise(70_000, seed: 2)
        data.withUnsafeBytes { all in
            let whole = zlibCRC(0, all)
            for cuts in [
                [0], [1, 63, 64, 65], [17, 1000, 1001, 40_000], Array(stride(from: 0, to: 70_000, by: 4_099)),
            ] {
                var crc = ZipCRC32()
                var start = 0
                for cut in cuts + [all.count] where cut >= start {
                    crc.update(UnsafeRawBufferPointer(rebasing: all[start..<cut]))
                    start = cut
                }
                #expect(crc.value == whole, "cuts \(cuts)")
            }
            let head = UnsafeRawBufferPointer(rebasing: all[..<333]),
                tail = UnsafeRawBufferPointer(rebasing: all[333...])
            var crc = ZipCRC32()
            crc.update(head)
            let continued = zlibCRC(crc.value, tail)
            crc.update(tail)
            #expect(crc.value == continued && crc.value == whole)
        }
    }
}

@Suite("single-pass ZIP members")
struct SinglePassZipTests {
    @Test(
        "a stored member streamed in chunks checksummed on a second thread and inline gets its CRC patched into the local header and reads back checked"
    )
    func patchedCRC() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let payload = noise(ZipWriter.concurrentChecksumBytes * 2 + ZipWriter.concurrentChecksumBytes / 2 + 7, seed: 3)
        let path = "\(folder)/big.zip"
        let zip = try ZipWriter(path: path, overwrite: false)
        try zip.add(name: "small", bytes: [1, 2, 3], align: true)
        try zip.add(name: "big", byteCount: payload.count, align: true) { emit in
            try payload.withUnsafeBytes { all in
                for start in stride(from: 0, to: all.count, by: 1_300_001) {
                    try emit(UnsafeRawBufferPointer(rebasing: all[start..<min(start + 1_300_001, all.count)]))
                }
            }
        }
        try zip.finish()
        let bytes = try Fixtures.bytes(path)
        let read = try ZipArchive(path: path)
        let big = try #require(read.entries.first { $0.name == "big" })
        let expected = payload.withUnsafeBytes { ZipCRC32.checksum($0) }
        #expect(UInt32(le32(bytes, big.localHeaderOffset + ZipRecords.localHeaderCRCOffset)) == expected)
        #expect(big.crc32 == expected)
        let contents = try read.contents(of: big)
        #expect(withExtendedLifetime(contents) { Array(contents.bytes) } == payload)
    }

    @Test("a stored member whose producer fails or comes up short leaves the archive as if it had not been added")
    func failedMemberLeavesNoTrace() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let clean = try makeZip(folder, [("a", [1, 2, 3], .stored, true), ("b", [4, 5], .stored, true)])
        let path = "\(folder)/failed.zip"
        let zip = try ZipWriter(path: path, overwrite: false)
        try zip.add(name: "a", bytes: [1, 2, 3], align: true)
        let junk = noise(2 << 20, seed: 4)
        expectError(.corrupt, containing: "were declared") {
            try zip.add(name: "short", byteCount: junk.count + 1, align: true) { emit in
                try junk.withUnsafeBytes { try emit($0) }
            }
        }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try zip.add(name: "boom", byteCount: 10, align: true) { emit in
                try junk.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<4])) }
                throw Boom()
            }
        }
        try zip.add(name: "b", bytes: [4, 5], align: true)
        try zip.finish()
        #expect(try Fixtures.bytes(path) == clean)
    }

    @Test("overwrite replaces written bytes in place, buffered or not, and refuses ranges past the end")
    func overwrite() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/patched.bin"
        var expected = noise(3 << 20, seed: 5) + noise(1000, seed: 6)  // a large write, then a buffered one
        let out = try AtomicFileWriter(destination: path, overwrite: false)
        try out.write(Array(expected[..<(3 << 20)]))
        try out.write(Array(expected[(3 << 20)...]))
        for (offset, bytes) in [
            (5, [UInt8](repeating: 0xEE, count: 4)), ((3 << 20) + 990, [9, 9, 9, 9, 9, 9, 9, 9, 9, 9]),
        ] {
            try bytes.withUnsafeBytes { try out.overwrite($0, at: offset) }
            expected.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        }
        expectError(.invalidArgument, containing: "cannot overwrite") {
            try [UInt8](repeating: 1, count: 2).withUnsafeBytes { try out.overwrite($0, at: expected.count - 1) }
        }
        try out.write([7])
        expected.append(7)
        try out.commit()
        #expect(try Fixtures.bytes(path) == expected)
    }

    @Test(
        "writeRegion writes anywhere in the file, past its end too (the gap reads as zeros), and refuses negative offsets"
    )
    func writeRegion() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/regions.bin"
        let far = noise(2 << 20, seed: 7), near = noise(100, seed: 8)
        let out = try AtomicFileWriter(destination: path, overwrite: false)
        try far.withUnsafeBytes { try out.writeRegion($0, at: 5000) }
        try near.withUnsafeBytes { try out.writeRegion($0, at: 10) }
        expectError(.invalidArgument, containing: "offset -1") {
            try near.withUnsafeBytes { try out.writeRegion($0, at: -1) }
        }
        try out.commit()
        var expected = [UInt8](repeating: 0, count: 5000) + far
        expected.replaceSubrange(10..<110, with: near)
        #expect(try Fixtures.bytes(path) == expected)
    }
}

@Suite("streamed tensor sources")
struct TensorSourceStreamingTests {
    /// A mapped safetensors file holding `values` as f32 (named `w`, shape [count]) and as bf16 (`h`).
    private func mappedArchive(_ folder: String, _ values: [Float]) throws -> any TensorArchive {
        let path = "\(folder)/src.safetensors"
        let f32 = Tensor(values, shape: [values.count])
        try SafetensorsWriter.write(
            [TensorSource(name: "w", tensor: f32), TensorSource(name: "h", tensor: try f32.converted(to: .bf16))],
            metadata: nil, to: path, overwrite: false)
        return try SafetensorsArchive(path: path)
    }

    @Test(
        "a cast of a mapped source streams exactly the bytes of the whole-tensor cast, in pieces of the requested size")
    func castMatchesWholeCast() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var values: [Float] = (0..<10_007).map { i in
            let x = Float(i)
            return x * 0.731 - 3000 + Float(i % 13) * 1e-4
        }
        values += [Float.nan, -Float.infinity, -0, 65519.99, 70000, 1e-8, 3.0e38]
        let archive = try mappedArchive(folder, values)
        let sources = TensorSource.all(of: archive)
        for source in sources {
            let whole = try source.load()
            for target in [DType.f32, .f16, .bf16, .f64] where target != source.info.dtype {
                let cast = source.converted(to: target)
                #expect(cast.info == TensorInfo(name: source.info.name, dtype: target, shape: source.info.shape))
                var streamed: [UInt8] = [], sizes: [Int] = []
                try cast.forEachChunk(file: "out", ofSize: 1001) {
                    streamed += $0; sizes.append($0.count)
                }
                let step = 1001 / target.itemSize * target.itemSize
                let expected: Tensor = try whole.converted(to: target)
                #expect(streamed == byteArray(expected), "\(source.info.name) → \(target)")
                #expect(sizes.dropLast().allSatisfy { $0 == step } && sizes.last! <= step && sizes.last! > 0)
                #expect(try cast.load().isBitwiseEqual(to: expected))
            }
        }
        // A cast of a cast (f32 → bf16 → f32, as .npz output widens a bf16 cast) rounds through bf16.
        let w: TensorSource = try #require(sources.first { $0.info.name == "w" })
        let roundTrip: TensorSource = w.converted(to: DType.bf16).converted(to: DType.f32)
        var twice: [UInt8] = []
        try roundTrip.forEachChunk(file: "out", ofSize: 4096) { twice += $0 }
        let viaBF16: Tensor = try w.load().converted(to: DType.bf16).converted(to: DType.f32)
        #expect(twice == byteArray(viaBF16))
    }

    @Test("releasing a mapped tensor's resident pages keeps its bytes readable and unchanged")
    func releaseResidentPages() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let values: [Float] = (0..<50_000).map { Float($0) * 0.25 - 7 }  // 200 kB: many whole pages
        let archive = try mappedArchive(folder, values)
        let w = try archive.tensor(named: "w")
        #expect(try w.floatValues() == values)
        w.releaseResidentPages()
        #expect(try w.floatValues() == values, "the pages fault back in from the file with the same contents")
        let owned = Tensor(values, shape: [values.count])
        owned.releaseResidentPages()
        #expect(try owned.floatValues() == values, "owned storage is never advised")
    }

    @Test("an owned tensor streams in pieces too, and a source that loads another shape than declared is refused")
    func ownedAndMismatch() throws {
        let values = (0..<1000).map { Float($0) }
        let owned = TensorSource(name: "x", tensor: Tensor(values, shape: [values.count]))
        var sizes: [Int] = [], bytes: [UInt8] = []
        try owned.forEachChunk(file: "out", ofSize: 1000) {
            sizes.append($0.count); bytes += $0
        }
        #expect(sizes == [1000, 1000, 1000, 1000])
        #expect(bytes == byteArray(Tensor(values, shape: [values.count])))
        let lying = TensorSource(info: TensorInfo(name: "y", dtype: .f32, shape: [2])) {
            Tensor([1, 2, 3], shape: [3])
        }
        expectError(.corrupt, containing: "was declared") {
            try lying.converted(to: .f16).forEachChunk(file: "out") { _ in }
        }
        let ints = TensorSource(name: "i", tensor: try Tensor(dtype: .i32, shape: [1], bytes: [1, 0, 0, 0]))
        expectError(.unsupportedDType, containing: "cannot be cast") {
            try ints.converted(to: .f16).forEachChunk(file: "out") { _ in }
        }
    }
}
