// Locating and validating a ZIP central directory: EOCD, ZIP64 locator and record, entries, local headers.
import TensorCore

/// Where the central directory is, from the end records.
struct ZipDirectory {
    let offset: Int
    let size: Int
    let count: Int

    static let eocdSignature: UInt32 = 0x0605_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let zip64RecordSignature: UInt32 = 0x0606_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let localSignature: UInt32 = 0x0403_4B50

    /// Finds the EOCD by scanning back over at most 22 + 65 535 bytes, then the ZIP64 records when present.
    static func locate(in bytes: UnsafeRawBufferPointer, path: String) throws -> ZipDirectory {
        func fail(_ m: String) -> CheckpointError {
            CheckpointError(.corrupt, file: path, "not a valid ZIP archive: \(m)")
        }
        guard bytes.count >= 22 else {
            throw fail("the file is only \(bytes.count) bytes, shorter than an end-of-directory record")
        }
        var eocd = -1
        var p = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while p >= lowest {
            if ByteReader.peek(UInt32.self, in: bytes, at: p) == eocdSignature,
                let commentLength = ByteReader.peek(UInt16.self, in: bytes, at: p + 20),
                p + 22 + Int(commentLength) <= bytes.count
            {
                eocd = p
                break
            }
            p -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record (the file is truncated or not a zip)") }
        let u16 = { (o: Int) in Int(ByteReader.peek(UInt16.self, in: bytes, at: eocd + o)!) }
        let u32 = { (o: Int) in Int(ByteReader.peek(UInt32.self, in: bytes, at: eocd + o)!) }
        guard u16(4) == 0 || u16(4) == 0xFFFF, u16(6) == 0 || u16(6) == 0xFFFF else {
            throw fail("multi-disk archives are not supported")
        }
        var result = ZipDirectory(offset: u32(16), size: u32(12), count: u16(10))
        let saturated = result.offset == 0xFFFF_FFFF || result.size == 0xFFFF_FFFF || result.count == 0xFFFF
        let locator = eocd - 20
        if locator >= 0, ByteReader.peek(UInt32.self, in: bytes, at: locator) == zip64LocatorSignature {
            let recordOffset = ByteReader.peek(UInt64.self, in: bytes, at: locator + 8)!
            guard locator >= 56, recordOffset <= UInt64(locator - 56) else {
                throw fail("the ZIP64 locator points to offset \(recordOffset), outside the file")
            }
            let r = Int(recordOffset)
            guard ByteReader.peek(UInt32.self, in: bytes, at: r) == zip64RecordSignature else {
                throw fail("no ZIP64 end-of-directory record at offset \(r), where the locator points")
            }
            let entries = ByteReader.peek(UInt64.self, in: bytes, at: r + 32)!
            let size = ByteReader.peek(UInt64.self, in: bytes, at: r + 40)!
            let offset = ByteReader.peek(UInt64.self, in: bytes, at: r + 48)!
            guard entries <= UInt64(Int.max), size <= UInt64(bytes.count), offset <= UInt64(bytes.count) else {
                throw fail(
                    "ZIP64 end record claims \(entries) entries, a \(size)-byte directory at offset \(offset): larger than the file"
                )
            }
            result = ZipDirectory(offset: Int(offset), size: Int(size), count: Int(entries))
        } else if saturated {
            throw fail("the end record has saturated fields but no ZIP64 locator")
        }
        let end = result.offset.addingReportingOverflow(result.size)
        guard !end.overflow, end.partialValue <= eocd else {
            throw fail(
                "the central directory (offset \(result.offset), \(result.size) bytes) runs past the end records; the file is truncated"
            )
        }
        // Each central entry takes at least 46 bytes.
        guard result.count <= result.size / 46 else {
            throw fail("\(result.count) entries cannot fit a \(result.size)-byte central directory")
        }
        return result
    }

    /// Reads every central directory entry and its local header's name and extra lengths.
    static func readEntries(_ directory: ZipDirectory, in bytes: UnsafeRawBufferPointer, path: String) throws
        -> [ZipEntry]
    {
        let dirBytes = UnsafeRawBufferPointer(rebasing: bytes[directory.offset..<directory.offset + directory.size])
        var reader = ByteReader(dirBytes)
        var entries: [ZipEntry] = []
        entries.reserveCapacity(directory.count)
        var names = Set<UTF8Key>()
        for index in 0..<directory.count {
            func fail(_ m: String) -> CheckpointError {
                CheckpointError(
                    .corrupt, file: path,
                    "ZIP central directory entry \(index): \(m); the archive is damaged or truncated")
            }
            let start = reader.offset
            guard reader.remaining >= 46, reader.read(UInt32.self) == centralSignature else {
                throw fail("missing or truncated (expected signature 50 4B 01 02 at directory offset \(start))")
            }
            let h = { (o: Int) in Int(ByteReader.peek(UInt16.self, in: dirBytes, at: start + o)!) }
            let w = { (o: Int) in ByteReader.peek(UInt32.self, in: dirBytes, at: start + o)! }
            let flags = h(8), method = h(10)
            let nameLength = h(28), extraLength = h(30), commentLength = h(32)
            reader.offset = start + 46
            guard let nameBytes = reader.readBytes(nameLength), let extra = reader.readBytes(extraLength),
                reader.readBytes(commentLength) != nil
            else { throw fail("name, extra field or comment runs past the directory") }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw fail("member name is not valid UTF-8")
            }
            guard flags & 1 == 0 else {
                throw CheckpointError(
                    .unsupportedContent, file: path, tensor: name,
                    "member `\(name)` is encrypted; decrypt the archive first")
            }
            guard let compression = ZipCompression(rawValue: UInt16(method)) else {
                throw CheckpointError(
                    .unsupportedContent, file: path, tensor: name,
                    "member `\(name)` uses compression method \(method); only stored (0) and deflate (8) are supported, re-create the archive with those"
                )
            }
            guard names.insert(UTF8Key(name)).inserted else {
                throw CheckpointError(
                    .duplicateKey, file: path, tensor: name,
                    "member `\(name)` appears twice in the archive; names must be unique")
            }
            var uncompressed = UInt64(w(24)), compressed = UInt64(w(20)), local = UInt64(w(42))
            if uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF {
                guard let z = zip64Extra(extra) else {
                    throw fail("`\(name)` has saturated sizes but no ZIP64 extra field")
                }
                var r = ByteReader(z)
                for field in [0, 1, 2] {
                    let isSaturated = [uncompressed, compressed, local][field] == 0xFFFF_FFFF
                    guard isSaturated else { continue }
                    guard let v = r.read(UInt64.self) else {
                        throw fail("`\(name)` has a ZIP64 extra field too short for its saturated values")
                    }
                    if field == 0 { uncompressed = v } else if field == 1 { compressed = v } else { local = v }
                }
            }
            let fileSize = UInt64(bytes.count)
            guard compressed <= fileSize, local <= fileSize, uncompressed <= UInt64(Int.max) else {
                throw fail(
                    "`\(name)` claims sizes or offsets beyond the file (offset \(local), \(compressed) compressed bytes)"
                )
            }
            let entry = try localData(
                name: name, compression: compression, crc: w(16), compressed: Int(compressed),
                uncompressed: Int(uncompressed), local: Int(local), in: bytes, path: path)
            entries.append(entry)
        }
        return entries
    }

    /// The ZIP64 extra field (id 0x0001) among `extra`'s fields, if present.
    static func zip64Extra(_ extra: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var r = ByteReader(extra)
        while r.remaining >= 4 {
            let id = r.read(UInt16.self)!, size = Int(r.read(UInt16.self)!)
            guard let body = r.readBytes(size) else { return nil }
            if id == 1 { return body }
        }
        return nil
    }

    /// Builds the entry after reading the local header at `local` for its name and extra lengths.
    static func localData(
        name: String, compression: ZipCompression, crc: UInt32, compressed: Int, uncompressed: Int,
        local: Int, in bytes: UnsafeRawBufferPointer, path: String
    ) throws -> ZipEntry {
        guard ByteReader.peek(UInt32.self, in: bytes, at: local) == localSignature,
            let n = ByteReader.peek(UInt16.self, in: bytes, at: local + 26),
            let m = ByteReader.peek(UInt16.self, in: bytes, at: local + 28)
        else {
            throw CheckpointError(
                .corrupt, file: path, tensor: name,
                "member `\(name)`: no local file header at offset \(local); the archive is damaged")
        }
        let start = local + 30 + Int(n) + Int(m)
        let (end, overflow) = start.addingReportingOverflow(compressed)
        guard !overflow, end <= bytes.count else {
            throw CheckpointError(
                .truncated, file: path, tensor: name,
                "member `\(name)`: data [\(start), \(start) + \(compressed)) runs past the end of the \(bytes.count)-byte file; the archive is truncated"
            )
        }
        if compression == .stored, compressed != uncompressed {
            throw CheckpointError(
                .corrupt, file: path, tensor: name,
                "stored member `\(name)` has compressed size \(compressed) but uncompressed size \(uncompressed); they must be equal"
            )
        }
        return ZipEntry(
            name: name, compression: compression, crc32: crc, compressedSize: compressed,
            uncompressedSize: uncompressed, localHeaderOffset: local, dataRange: start..<end)
    }

    /// Refuses archives where two members' data ranges (or a data range and another local header) overlap.
    static func checkNoOverlap(_ entries: [ZipEntry], path: String) throws {
        let sorted = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.localHeaderOffset < a.dataRange.upperBound {
            throw CheckpointError(
                .corrupt, file: path, tensor: b.name,
                "members `\(a.name)` and `\(b.name)` overlap in the file; the archive is malformed (possibly a zip bomb)"
            )
        }
    }
}
