import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

/// An NPY member's bytes for a little u8 array, for hand-made archives.
func npyMember(_ values: [UInt8], shape: [Int]? = nil) -> [UInt8] {
    NPYWriter.header(descr: "|u1", shape: Shape(shape ?? [values.count])) + values
}

@Suite("NPZ reader")
struct NPZReaderTests {
    @Test(
        "N4: savez and savez_compressed members come back keyed w, x/y, arr_0 with numpy's values",
        arguments: ["n4_savez.npz", "n4_savez_compressed.npz", "mixed_compressed.npz"])
    func n4(_ file: String) throws {
        let archive = try NPZArchive(path: Fixtures.path("numpy/\(file)"))
        if file.hasPrefix("n4") { #expect(archive.tensorNames == ["w", "x/y", "arr_0"]) }
        for name in archive.tensorNames {
            let expected = try #require(ExpectedArray.all["\(file):\(name)"])
            try expected.check(try archive.tensor(named: name), "\(file):\(name)")
        }
        let compressed = file.contains("compressed")
        #expect(archive.zip.entries.allSatisfy { $0.compression == (compressed ? .deflate : .stored) })
    }

    @Test(
        "N3: numpy's forced-ZIP64 local header; sizes come from the central directory; stored data is a zero-copy view at offset 183"
    )
    func n3() throws {
        let path = Fixtures.path("numpy/n4_savez.npz")
        let bytes = try Fixtures.bytes(path)
        #expect(Array(bytes[0..<10]) == [0x50, 0x4B, 0x03, 0x04, 0x2D, 0x00, 0x00, 0x00, 0x00, 0x00])
        #expect(Array(bytes[18..<30]) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x05, 0x00, 0x14, 0x00])
        #expect(Array(bytes[30..<35]) == Array("w.npy".utf8))
        // w is f32 [2, 2]: 128 header bytes + 16 data bytes = 0x90 in both u64 fields of the ZIP64 extra.
        #expect(
            Array(bytes[35..<55]) == [0x01, 0x00, 0x10, 0x00, 0x90, 0, 0, 0, 0, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0, 0])
        let archive = try NPZArchive(path: path)
        let w = archive.zip.entries[0]
        #expect(w.dataRange.lowerBound == 55 && w.compressedSize == 0x90 && w.uncompressedSize == 0x90)
        let dir = le32(bytes, bytes.count - 22 + 16)
        #expect(le32(bytes, dir + 20) == 0x90 && le32(bytes, dir + 24) == 0x90)
        #expect(bytes[dir + 30] == 0 && bytes[dir + 31] == 0)  // no extra field in the central entry
        let t = try archive.tensor(named: "w")
        #expect(t.storage.isMapped)
        let base = try #require(archive.zip.file.bytes.baseAddress)
        #expect(try #require(t.bytes.baseAddress) - base == 183)
        #expect(try t.floatValues() == [1, 2, 3, -4.5])
    }

    @Test("numpy's npz members hold exactly the bytes our NPY writer produces for the same arrays")
    func memberIdentity() throws {
        let archive = try NPZArchive(path: Fixtures.path("numpy/n4_savez.npz"))
        for entry in archive.zip.entries {
            let key = String(entry.name.dropLast(4))
            let tensor = try archive.tensor(named: key)
            let ours =
                try NPYWriter.header(for: TensorInfo(name: key, dtype: tensor.dtype, shape: tensor.shape), file: "x")
                + Array(tensor.bytes)
            let member = try archive.zip.contents(of: entry)
            #expect(Array(member.bytes) == ours, "\(entry.name)")
        }
    }

    @Test("an object array is refused, naming the member")
    func objectArray() throws {
        expectError(.unsupportedDType, containing: "array `obj`: object dtype '|O'") {
            _ = try NPZArchive(path: Fixtures.path("numpy/object.npz"))
        }
    }

    @Test("non-NPY members fail unless skipped; duplicate keys, short members and torch archives are refused")
    func memberRules() throws {
        let scratch = try Scratch()
        let mixed = try makeZip(
            scratch.path,
            [("a.npy", npyMember([1, 2]), .stored, false), ("readme.txt", Array("hello".utf8), .deflate, false)])
        let mixedPath = try scratch.file("mixed.npz", mixed)
        expectError(.unsupportedContent, containing: "member `readme.txt` is not an NPY array") {
            _ = try NPZArchive(path: mixedPath)
        }
        let skipping = try NPZArchive(path: mixedPath, skipNonArrays: true)
        #expect(skipping.tensorNames == ["a"])
        #expect(skipping.notes == ["member `readme.txt` is not an NPY array; skipped"])

        let dup = try makeZip(
            scratch.path, [("a.npy", npyMember([1]), .stored, false), ("a", npyMember([2]), .stored, false)])
        expectError(.duplicateKey, containing: "two members both give the key `a`") {
            _ = try NPZArchive(path: try scratch.file("dup.npz", dup))
        }

        let short = try makeZip(scratch.path, [("s.npy", npyMember([1, 2, 3], shape: [100]), .deflate, false)])
        expectError(.truncated, containing: "needs 100 bytes of data but member `s.npy` holds 3") {
            _ = try NPZArchive(path: try scratch.file("short.npz", short))
        }

        let torch = try makeZip(scratch.path, [("archive/data.pkl", [0x80, 0x02], .stored, false)])
        expectError(.formatMismatch, containing: "PyTorch archive") {
            _ = try NPZArchive(path: try scratch.file("t.npz", torch))
        }
    }

    @Test(
        "bytes after a member's array data are ignored and noted, as numpy 2.4.6 ignores them; `..` and absolute member names are refused",
        arguments: [ZipCompression.stored, .deflate])
    func trailingBytesAndMemberPaths(_ compression: ZipCompression) throws {
        let scratch = try Scratch()
        let trailing = try makeZip(scratch.path, [("w.npy", npyMember([1, 2]) + [9, 9, 9], compression, false)])
        let archive = try NPZArchive(path: try scratch.file("t.npz", trailing))
        let w = try archive.tensor(named: "w")
        withExtendedLifetime(w) { #expect(Array(w.bytes) == [1, 2]) }
        #expect(
            archive.notes == ["`w`: 3 trailing bytes after the array data of member `w.npy` ignored, as numpy does"])
        for (member, problem) in [("../up.npy", "has a `..` component"), ("/abs.npy", "is an absolute path")] {
            let zip = try makeZip(scratch.path, [(member, npyMember([1]), compression, false)])
            expectError(.invalidName, containing: "member `\(member)`: tensor name `\(member.dropLast(4))` \(problem)")
            {
                _ = try NPZArchive(path: try scratch.file("p.npz", zip))
            }
        }
    }

    @Test(
        "a wrong CRC-32 fails reading a stored or deflated member, unless checking is off",
        arguments: ["n4_savez.npz", "n4_savez_compressed.npz"])
    func crc(_ file: String) throws {
        let scratch = try Scratch()
        var bytes = try Fixtures.bytes(Fixtures.path("numpy/\(file)"))
        let dir = le32(bytes, bytes.count - 22 + 16)
        bytes[dir + 16] ^= 0x01  // CRC of the first central entry, `w.npy`
        let path = try scratch.file(file, bytes)
        let archive = try NPZArchive(path: path)
        expectError(.corrupt, containing: "member `w.npy`: CRC-32 mismatch") { _ = try archive.tensor(named: "w") }
        let unchecked = try NPZArchive(path: path, options: NPYReadOptions(verifyCRC: false))
        #expect(try unchecked.tensor(named: "w").floatValues() == [1, 2, 3, -4.5])
    }

    @Test("a deflated member whose declared size is a lie is refused before inflating")
    func bomb() throws {
        let scratch = try Scratch()
        var bytes = try Fixtures.bytes(Fixtures.path("numpy/n4_savez_compressed.npz"))
        let dir = le32(bytes, bytes.count - 22 + 16)
        for k in 0..<4 { bytes[dir + 24 + k] = [0x00, 0x00, 0x00, 0x40][k] }  // claims 1 GiB
        expectError(.corrupt, containing: "more than deflate can produce") {
            _ = try NPZArchive(path: try scratch.file("bomb.npz", bytes))
        }
    }
}
