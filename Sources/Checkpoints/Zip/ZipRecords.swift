// Byte layouts of the ZIP records the writer emits: local header, central header, end records.

enum ZipRecords {
    static let saturated32 = 0xFFFF_FFFF
    /// DOS time 00:00:00 and date 1980-01-01, so output does not depend on the clock.
    static let dosTime: UInt16 = 0x0000
    static let dosDate: UInt16 = 0x0021
    /// Where the CRC-32 sits in a local header (after signature, versions, flags, method, time and date).
    static let localHeaderCRCOffset = 14

    static func needsZip64(_ values: Int...) -> Bool { values.contains { $0 >= saturated32 } }

    static func flags(for name: String) -> UInt16 { name.utf8.allSatisfy { $0 < 0x80 } ? 0 : 0x0800 }

    /// A local file header with real sizes (ZIP64 extra when a size needs it) and, when `alignment` is given,
    /// the `46 42` padding field that puts the data at a multiple of it.
    static func localHeader(
        name: String, compression: ZipCompression, crc: UInt32, compressedSize: Int,
        uncompressedSize: Int, offset: Int, alignment: Int?
    ) -> [UInt8] {
        let zip64 = needsZip64(compressedSize, uncompressedSize)
        var extra: [UInt8] = []
        if zip64 {
            extra.le(UInt16(1)); extra.le(UInt16(16)); extra.le(UInt64(uncompressedSize));
            extra.le(UInt64(compressedSize))
        }
        let nameBytes = Array(name.utf8)
        if let alignment {
            let unpadded = offset + 30 + nameBytes.count + extra.count + 4
            let pad = (alignment - unpadded % alignment) % alignment
            extra.le(UInt16(0x4246)); extra.le(UInt16(pad))
            extra += [UInt8](repeating: 0x5A, count: pad)
        }
        var h: [UInt8] = []
        h.reserveCapacity(30 + nameBytes.count + extra.count)
        h.le(UInt32(0x0403_4B50))
        h.le(UInt16(zip64 ? 45 : 20))
        h.le(flags(for: name))
        h.le(compression.rawValue)
        h.le(dosTime); h.le(dosDate)
        h.le(crc)
        h.le(UInt32(zip64 ? saturated32 : compressedSize))
        h.le(UInt32(zip64 ? saturated32 : uncompressedSize))
        h.le(UInt16(nameBytes.count)); h.le(UInt16(extra.count))
        return h + nameBytes + extra
    }

    /// A central directory header; the ZIP64 extra holds only the values whose 32-bit fields saturate.
    static func centralHeader(
        name: String, compression: ZipCompression, crc: UInt32, compressedSize: Int,
        uncompressedSize: Int, offset: Int
    ) -> [UInt8] {
        var extra: [UInt8] = []
        for v in [uncompressedSize, compressedSize, offset] where v >= saturated32 { extra.le(UInt64(v)) }
        if !extra.isEmpty {
            var field: [UInt8] = [0x01, 0x00]
            field.le(UInt16(extra.count))
            extra = field + extra
        }
        let version: UInt16 = extra.isEmpty && !needsZip64(compressedSize, uncompressedSize) ? 20 : 45
        let nameBytes = Array(name.utf8)
        var h: [UInt8] = []
        h.le(UInt32(0x0201_4B50))
        h.le(UInt16(0x0300) | version)  // made by: Unix, spec version
        h.le(version)
        h.le(flags(for: name))
        h.le(compression.rawValue)
        h.le(dosTime); h.le(dosDate)
        h.le(crc)
        h.le(UInt32(min(compressedSize, saturated32)))
        h.le(UInt32(min(uncompressedSize, saturated32)))
        h.le(UInt16(nameBytes.count)); h.le(UInt16(extra.count)); h.le(UInt16(0))
        h.le(UInt16(0)); h.le(UInt16(0))  // disk, internal attributes
        h.le(UInt32(0o100644 << 16))  // external attributes: regular file, rw-r--r--
        h.le(UInt32(min(offset, saturated32)))
        return h + nameBytes + extra
    }

    /// The ZIP64 end record and locator (when needed or forced), then the classic end record with saturated
    /// fields where the values do not fit.
    static func endRecords(count: Int, directorySize: Int, directoryOffset: Int, forceZip64: Bool) -> [UInt8] {
        var e: [UInt8] = []
        if forceZip64 || count > 65_534 || needsZip64(directorySize, directoryOffset) {
            let recordOffset = directoryOffset + directorySize
            e.le(UInt32(0x0606_4B50)); e.le(UInt64(44))
            e.le(UInt16(0x032D)); e.le(UInt16(45))
            e.le(UInt32(0)); e.le(UInt32(0))
            e.le(UInt64(count)); e.le(UInt64(count))
            e.le(UInt64(directorySize)); e.le(UInt64(directoryOffset))
            e.le(UInt32(0x0706_4B50)); e.le(UInt32(0)); e.le(UInt64(recordOffset)); e.le(UInt32(1))
        }
        e.le(UInt32(0x0605_4B50))
        e.le(UInt16(0)); e.le(UInt16(0))
        e.le(UInt16(min(count, 0xFFFF))); e.le(UInt16(min(count, 0xFFFF)))
        e.le(UInt32(min(directorySize, saturated32)))
        e.le(UInt32(min(directoryOffset, saturated32)))
        e.le(UInt16(0))
        return e
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` little-endian.
    mutating func le<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
