import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

/// Writes a small archive with our writer and returns its bytes.
func makeZip(_ folder: String, _ members: [(String, [UInt8], ZipCompression, Bool)], zip64End: Bool = false) throws
    -> [UInt8]
{
    let path = "\(folder)/made-\(UUID().uuidString).zip"
    let zip = try ZipWriter(path: path, overwrite: false, alwaysWriteZip64End: zip64End)
    for (name, bytes, compression, align) in members {
        try zip.add(name: name, bytes: bytes, compression: compression, align: align)
    }
    try zip.finish()
    return try Fixtures.bytes(path)
}

/// Opens `bytes` as a ZIP archive saved under `folder`.
func openZip(_ folder: String, _ bytes: [UInt8]) throws -> ZipArchive {
    let path = "\(folder)/test-\(UUID().uuidString).zip"
    try Fixtures.write(bytes, to: path)
    return try ZipArchive(path: path)
}

func le32(_ bytes: [UInt8], _ at: Int) -> Int {
    Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
}

func expectError(_ kind: CheckpointError.Kind, containing text: String, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a \(kind) error containing `\(text)`, got success")
    } catch let e as CheckpointError {
        #expect(e.kind == kind, "\(e)")
        #expect(e.description.contains(text), "\(e)")
    } catch {
        Issue.record("expected CheckpointError, got \(error)")
    }
}

@Suite("ZIP container")
struct ZipContainerTests {
    let payload: [UInt8] = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 100) }

    @Test("stored and deflated members written by ZipWriter read back exactly, stored ones aligned and zero-copy")
    func roundTrip() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = try makeZip(
            folder,
            [
                ("a.bin", payload, .stored, true), ("dir/b.bin", payload, .deflate, false),
                ("é.txt", [1, 2, 3], .stored, true), ("empty", [], .stored, false),
            ])
        let zip = try openZip(folder, bytes)
        #expect(zip.entries.map(\.name) == ["a.bin", "dir/b.bin", "é.txt", "empty"])
        let a = try zip.contents(of: zip.entries[0])
        #expect(a.isMapped)
        #expect(Array(a.bytes) == payload)
        #expect(zip.entries[0].dataRange.lowerBound % 64 == 0)
        #expect(zip.entries[2].dataRange.lowerBound % 64 == 0)
        let b = try zip.contents(of: zip.entries[1])
        #expect(!b.isMapped)
        #expect(Array(b.bytes) == payload)
        #expect(zip.entries[1].compressedSize < payload.count)
        let c = try zip.contents(of: zip.entries[2]), d = try zip.contents(of: zip.entries[3])
        #expect(Array(c.bytes) == [1, 2, 3])
        #expect(d.bytes.isEmpty)
        // Flag bit 11 only on the non-ASCII name; fixed timestamp; real sizes in the local header.
        let third = zip.entries[2].localHeaderOffset
        #expect(bytes[third + 6] == 0x00 && bytes[third + 7] == 0x08)
        #expect(bytes[6] == 0 && bytes[7] == 0)
        #expect(Array(bytes[10..<14]) == [0x00, 0x00, 0x21, 0x00])
        #expect(le32(bytes, 18) == payload.count && le32(bytes, 22) == payload.count)
        #expect(UInt32(le32(bytes, 14)) == ZipCRC32.checksum(payload.withUnsafeBytes { $0 }))
        // The alignment extra: 46 42 <p> then p × 5A.
        let n = Int(bytes[26]), m = Int(bytes[28])
        #expect(Array(bytes[30 + n..<30 + n + 2]) == [0x46, 0x42])
        #expect(Int(bytes[32 + n]) == m - 4)
        #expect(bytes[34 + n..<30 + n + m].allSatisfy { $0 == 0x5A })
    }

    @Test("the forced ZIP64 end record and locator are written and read")
    func zip64End() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = try makeZip(folder, [("x/data.pkl", payload, .stored, true)], zip64End: true)
        let eocd = bytes.count - 22
        #expect(le32(bytes, eocd - 20) == 0x0706_4B50)
        #expect(le32(bytes, eocd - 20 - 56) == 0x0606_4B50)
        let zip = try openZip(folder, bytes)
        let member = try zip.contents(of: zip.entries[0])
        #expect(Array(member.bytes) == payload)
    }

    @Test("chunked producers stream stored and deflated members")
    func chunked() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/chunks.zip"
        let zip = try ZipWriter(path: path, overwrite: false)
        for compression in [ZipCompression.stored, .deflate] {
            try zip.add(
                name: "m\(compression.rawValue)", byteCount: payload.count, compression: compression, align: true
            ) { emit in
                try payload.withUnsafeBytes { all in
                    for start in stride(from: 0, to: all.count, by: 999) {
                        try emit(UnsafeRawBufferPointer(rebasing: all[start..<min(start + 999, all.count)]))
                    }
                }
            }
        }
        #expect(throws: CheckpointError.self) {
            try zip.add(name: "short", byteCount: 10) { try $0(UnsafeRawBufferPointer(start: nil, count: 0)) }
        }
        try zip.finish()
        let read = try ZipArchive(path: path)
        for e in read.entries {
            let storage = try read.contents(of: e)
            #expect(Array(storage.bytes) == payload, "member \(e.name)")
        }
    }

    @Test("a corrupted byte in a member fails the CRC-32 check unless checking is off")
    func badCRC() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = try makeZip(folder, [("a.bin", payload, .stored, false)])
        let start = 30 + 5
        bytes[start + 10] ^= 0xFF
        let zip = try openZip(folder, bytes)
        expectError(.corrupt, containing: "CRC-32 mismatch") { _ = try zip.contents(of: zip.entries[0]) }
        let unchecked = try zip.contents(of: zip.entries[0], verifyCRC: false)
        #expect(unchecked.bytes.count == payload.count)
    }

    @Test("a truncated central directory, a missing end record and a short file are refused")
    func truncated() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = try makeZip(folder, [("a.bin", payload, .stored, false), ("b.bin", payload, .stored, false)])
        let eocd = bytes.count - 22
        let dirOffset = le32(bytes, eocd + 16)
        // Drop the second central entry but keep the end record: the directory no longer fits.
        var cut = Array(bytes[..<(dirOffset + 40)]) + Array(bytes[eocd...])
        expectError(.corrupt, containing: "central directory") { _ = try openZip(folder, cut) }
        cut = Array(bytes[..<(bytes.count - 5)])
        expectError(.corrupt, containing: "no end-of-central-directory record") { _ = try openZip(folder, cut) }
        expectError(.corrupt, containing: "shorter than an end-of-directory record") {
            _ = try openZip(folder, [0x50, 0x4B, 0x05, 0x06])
        }
        // Member data cut off: the data range leaves the file.
        var shifted = bytes
        let entry = dirOffset
        shifted[entry + 20] = 0xFF; shifted[entry + 21] = 0xFF; shifted[entry + 22] = 0xFF; shifted[entry + 23] = 0x0F
        shifted[entry + 24] = 0xFF; shifted[entry + 25] = 0xFF; shifted[entry + 26] = 0xFF; shifted[entry + 27] = 0x0F
        expectError(.corrupt, containing: "beyond the file") { _ = try openZip(folder, shifted) }
    }

    @Test(
        "a deflate member lying about its size is refused up front, and a stream longer or shorter than declared fails")
    func bombs() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let zeros = [UInt8](repeating: 0, count: 100_000)
        let bytes = try makeZip(folder, [("z", zeros, .deflate, false)])
        let dir = le32(bytes, bytes.count - 22 + 16)
        func withDeclared(_ size: UInt32) -> [UInt8] {
            var b = bytes
            for k in 0..<4 { b[dir + 24 + k] = UInt8(truncatingIfNeeded: size >> (8 * UInt32(k))) }
            return b
        }
        var zip = try openZip(folder, withDeclared(3_000_000_000))
        expectError(.corrupt, containing: "more than deflate can produce") { _ = try zip.contents(of: zip.entries[0]) }
        zip = try openZip(folder, withDeclared(99_999))
        expectError(.corrupt, containing: "inflates to more than the declared 99999 bytes") {
            _ = try zip.contents(of: zip.entries[0])
        }
        zip = try openZip(folder, withDeclared(100_001))
        expectError(.corrupt, containing: "ends before the declared 100001 bytes") {
            _ = try zip.contents(of: zip.entries[0])
        }
        zip = try openZip(folder, bytes)
        zip.memoryLimit = 1000
        expectError(.invalidArgument, containing: "above the limit") { _ = try zip.contents(of: zip.entries[0]) }
    }

    @Test("encrypted members, unknown methods, duplicate names and overlapping members are refused")
    func refusals() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = try makeZip(folder, [("a.bin", payload, .stored, false), ("b.bin", payload, .stored, false)])
        let dir = le32(bytes, bytes.count - 22 + 16)
        let second = dir + 46 + 5
        var b = bytes
        b[dir + 8] |= 1
        expectError(.unsupportedContent, containing: "is encrypted") { _ = try openZip(folder, b) }
        b = bytes
        b[dir + 10] = 12
        expectError(.unsupportedContent, containing: "compression method 12") { _ = try openZip(folder, b) }
        b = bytes
        b[second + 46] = UInt8(ascii: "a")
        expectError(.duplicateKey, containing: "appears twice") { _ = try openZip(folder, b) }
        b = bytes
        for k in 0..<4 { b[second + 42 + k] = b[dir + 42 + k] }  // both entries point at the same local header
        b[second + 46] = UInt8(ascii: "c")
        expectError(.corrupt, containing: "overlap") { _ = try openZip(folder, b) }
    }
}
