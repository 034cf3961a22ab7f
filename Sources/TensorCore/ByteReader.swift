// Bounds-checked little-endian reads over untrusted bytes.

/// Reads little-endian integers from a byte buffer without trapping: every read returns `nil` when it would
/// leave the buffer. Reads copy bytes, so alignment never matters.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    /// The next read position.
    public var offset: Int

    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes left after `offset`.
    public var remaining: Int { max(0, bytes.count - offset) }

    /// Reads a little-endian integer at `offset` and advances.
    public mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard let v = ByteReader.peek(T.self, in: bytes, at: offset) else { return nil }
        offset += MemoryLayout<T>.size
        return v
    }

    /// Reads `count` bytes at `offset` and advances.
    public mutating func readBytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// Reads a little-endian integer at an absolute position, or `nil` when out of bounds.
    public static func peek<T: FixedWidthInteger>(_: T.Type, in bytes: UnsafeRawBufferPointer, at position: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard position >= 0, position <= bytes.count - size else { return nil }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    }
}
