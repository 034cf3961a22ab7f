// The legacy torch.save format (torch 0.4–1.5, or `_use_new_zipfile_serialization=False`), docs/FORMATS.md §5.7:
// five pickles in a row, then each storage as an i64 element count and its raw bytes. Read-only.
import TensorCore

enum TorchLegacyFormat {
    /// `80 02 8A 0A` + the magic number 0x1950a86a20f9469cfc6c as LONG1.
    static let signature: [UInt8] = [
        0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19,
    ]
    static let magic = PickleValue.bigInt(
        PickleBigInt(bytes: [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]))
    static let protocolVersion = 1001

    struct Contents {
        let root: PickleValue
        let littleEndian: Bool
        /// Storage key → absolute byte range of its data in the file.
        let records: [UTF8Key: Range<Int>]
    }

    static func read(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Contents {
        func corrupt(_ message: String) -> CheckpointError {
            CheckpointError(.corrupt, file: path, "legacy torch file: \(message); the file is truncated or corrupt")
        }
        var magicReader = Unpickler(bytes, file: path, record: "magic number")
        guard try magicReader.load() == magic else { throw corrupt("wrong magic number") }
        var versionReader = Unpickler(bytes, offset: magicReader.offset, file: path, record: "protocol version")
        let version = try versionReader.load()
        guard version == .int(protocolVersion) else {
            throw CheckpointError(
                .unsupportedContent, file: path,
                "legacy torch protocol version \(version.intValue.map(String.init) ?? version.typeName) is not supported (1001 is read)"
            )
        }
        var infoReader = Unpickler(bytes, offset: versionReader.offset, file: path, record: "system info")
        let info = try infoReader.load()
        guard case .bool(let littleEndian)? = info["little_endian"] else {
            throw corrupt("system info lacks `little_endian`")
        }
        var objectReader = Unpickler(bytes, offset: infoReader.offset, file: path, record: "object pickle")
        let root = try objectReader.load()
        var keysReader = Unpickler(bytes, offset: objectReader.offset, file: path, record: "storage key list")
        guard case .list(let keyValues) = try keysReader.load() else {
            throw corrupt("the storage key list is not a list")
        }

        var records: [UTF8Key: Range<Int>] = [:]
        var offset = keysReader.offset
        for value in keyValues {
            guard case .string(let key) = value else { throw corrupt("a storage key is not a string") }
            guard let storage = objectReader.storages[UTF8Key(key)], storage.byteOffset == 0 else {
                throw corrupt("storage `\(key)` is listed but never referenced by the pickle")
            }
            guard let raw = ByteReader.peek(UInt64.self, in: bytes, at: offset) else {
                throw corrupt("storage `\(key)` is missing its element count at byte \(offset)")
            }
            let count = littleEndian ? raw : raw.byteSwapped
            guard count == UInt64(storage.elementCount), let byteCount = storage.byteCount else {
                throw corrupt(
                    "storage `\(key)` holds \(count) elements but the pickle declares \(storage.elementCount)")
            }
            let start = offset + 8
            guard byteCount <= bytes.count - start else {
                throw CheckpointError(
                    .truncated, file: path, tensor: key,
                    "legacy torch file: storage `\(key)` needs \(byteCount) bytes at byte \(start) but the file has \(bytes.count); the file is truncated"
                )
            }
            records[UTF8Key(key)] = start..<(start + byteCount)
            offset = start + byteCount
        }
        return Contents(root: root, littleEndian: littleEndian, records: records)
    }
}
