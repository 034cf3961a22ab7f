// Streaming a mapped tensor in chunks that are dropped from the resident set as they are written.
import Checkpoints
import Foundation
import Testing
import TensorCore
import TestSupport

@Suite("Mapped chunks")
struct MappedChunksTests {
    @Test("chunks of a mapped tensor cover its bytes in order, and the bytes read the same after the pages are dropped")
    func mappedChunks() throws {
        let folder = try Fixtures.temporaryFolder()
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let bytes = (0..<(3 * page + 123)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try Fixtures.write(bytes, to: "\(folder)/data.bin")
        let file = try MappedFile(path: "\(folder)/data.bin")
        let tensor = try Tensor(
            dtype: .u8, shape: [bytes.count - 5], storage: TensorStorage(mapping: file, range: 5..<bytes.count))
        var seen: [UInt8] = [], sizes: [Int] = []
        tensor.forEachChunk(ofSize: page + 1) { chunk in
            seen += chunk
            sizes.append(chunk.count)
        }
        #expect(seen == Array(bytes[5...]))
        #expect(sizes.dropLast().allSatisfy { $0 == page + 1 } && sizes.last! <= page + 1)
        #expect(Array(tensor.storage.bytes) == Array(bytes[5...]), "dropped pages fault back in with the file's bytes")
    }

    @Test("an owned tensor is handed over whole and left untouched")
    func ownedTensor() throws {
        let values = (0..<10_000).map { Float($0) * 0.5 }
        let tensor = Tensor(values, shape: [values.count])
        var chunks = 0, total = 0
        tensor.forEachChunk(ofSize: 64) {
            chunks += 1; total += $0.count
        }
        #expect(chunks == 1 && total == values.count * 4)
        #expect(try tensor.floatValues() == values)
    }
}
