import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

func le16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
func le64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
}

@Suite("ZIP64")
struct ZipZip64Tests {
    @Test("more than 65 534 members switch to the ZIP64 end records, and all members read back")
    func manyMembers() throws {
        let scratch = try Scratch()
        let path = "\(scratch.path)/many.zip"
        let zip = try ZipWriter(path: path, overwrite: false)
        let count = 65_535
        for i in 0..<count { try zip.add(name: "m\(i)", bytes: [UInt8(i & 0xFF)]) }
        try zip.finish()
        let bytes = try Fixtures.bytes(path)
        let eocd = bytes.count - 22
        #expect(le16(bytes, eocd + 8) == 0xFFFF && le16(bytes, eocd + 10) == 0xFFFF)
        #expect(le32(bytes, eocd - 20) == 0x0706_4B50)
        let record = Int(le64(bytes, eocd - 20 + 8))
        #expect(le32(bytes, record) == 0x0606_4B50 && le64(bytes, record + 32) == UInt64(count))
        let archive = try ZipArchive(path: path)
        #expect(archive.entries.count == count)
        let last = try archive.contents(of: archive.entries[count - 1])
        #expect(Array(last.bytes) == [UInt8((count - 1) & 0xFF)])
    }

    @Test("record builders put 64-bit sizes and offsets in ZIP64 extras, saturating only the fields that need it")
    func records() throws {
        let big = 5_000_000_000
        let local = ZipRecords.localHeader(
            name: "a", compression: .stored, crc: 0, compressedSize: big, uncompressedSize: big,
            offset: 0, alignment: nil)
        #expect(le16(local, 4) == 45)
        #expect(le32(local, 18) == 0xFFFF_FFFF && le32(local, 22) == 0xFFFF_FFFF)
        #expect(le16(local, 28) == 20 && Array(local[31..<35]) == [0x01, 0x00, 0x10, 0x00])
        #expect(le64(local, 35) == UInt64(big) && le64(local, 43) == UInt64(big))
        let central = ZipRecords.centralHeader(
            name: "a", compression: .stored, crc: 0, compressedSize: 10, uncompressedSize: 10, offset: big)
        #expect(le32(central, 20) == 10 && le32(central, 24) == 10 && le32(central, 42) == 0xFFFF_FFFF)
        #expect(
            le16(central, 30) == 12 && Array(central[47..<51]) == [0x01, 0x00, 0x08, 0x00]
                && le64(central, 51) == UInt64(big))
        #expect(le16(central, 6) == 45)
    }

    @Test("the reader takes saturated central sizes and offsets from the ZIP64 extra field")
    func readerExtra() throws {
        let scratch = try Scratch()
        let payload = Array("zip64 extra payload".utf8)
        let plain = try makeZip(scratch.path, [("p.bin", payload, .stored, false)])
        let dir = le32(plain, plain.count - 22 + 16)
        // Rebuild the one central entry with every 32-bit field saturated and the values in a ZIP64 extra.
        var entry = Array(plain[dir..<dir + 46])
        for at in [20, 24, 42] { for k in 0..<4 { entry[at + k] = 0xFF } }
        var extra: [UInt8] = [0x01, 0x00, 24, 0x00]
        extra.le(UInt64(payload.count)); extra.le(UInt64(payload.count)); extra.le(UInt64(0))
        entry[30] = UInt8(extra.count)
        entry += Array("p.bin".utf8) + extra
        var eocd = Array(plain[(plain.count - 22)...])
        for k in 0..<4 { eocd[12 + k] = UInt8(truncatingIfNeeded: entry.count >> (8 * k)) }
        let archive = try openZip(scratch.path, Array(plain[..<dir]) + entry + eocd)
        #expect(archive.entries[0].uncompressedSize == payload.count && archive.entries[0].localHeaderOffset == 0)
        let member = try archive.contents(of: archive.entries[0])
        #expect(Array(member.bytes) == payload)
        // Saturated fields without the extra are refused.
        var missing = entry
        missing[30] = 0
        missing.removeLast(extra.count)
        for k in 0..<4 { eocd[12 + k] = UInt8(truncatingIfNeeded: missing.count >> (8 * k)) }
        expectError(.corrupt, containing: "no ZIP64 extra field") {
            _ = try openZip(scratch.path, Array(plain[..<dir]) + missing + eocd)
        }
    }
}
