// Bytes behind a tensor: owned memory or a view into a mapped file.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of one tensor, either owned (64-byte aligned) or a zero-copy view into a `MappedFile`.
///
/// Lifetime: `bytes` is valid as long as this object lives; a view keeps its `MappedFile` alive.
/// The bytes may sit at any address (mapped views are not aligned): read them with `loadUnaligned`,
/// `memcpy`, or the helpers of `Tensor`, never through a typed pointer without checking alignment.
public final class TensorStorage: @unchecked Sendable {
    /// The tensor's bytes.
    public let bytes: UnsafeRawBufferPointer
    private let mapped: MappedFile?
    private let owned: UnsafeMutableRawPointer?

    /// A zero-copy view of `range` in `file`.
    /// - Precondition: `range` lies within the file; callers validate untrusted offsets first.
    public init(mapping file: MappedFile, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= file.count, "view outside the mapped file")
        mapped = file
        owned = nil
        bytes =
            range.isEmpty
            ? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(rebasing: file.bytes[range])
    }

    /// Allocates `count` bytes (64-byte aligned) and lets `initialize` fill all of them.
    public init(count: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        do {
            try initialize(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            p.deallocate()
            throw error
        }
        mapped = nil
        owned = p
        bytes = UnsafeRawBufferPointer(start: p, count: count)
    }

    /// Copies `source` into new owned memory.
    public convenience init(copying source: UnsafeRawBufferPointer) {
        self.init(count: source.count) { dst in
            if let s = source.baseAddress, source.count > 0 {
                dst.baseAddress!.copyMemory(from: s, byteCount: source.count)
            }
        }
    }

    /// True when the bytes live in a mapped file rather than owned memory.
    public var isMapped: Bool { mapped != nil }

    /// Throws when these bytes are a view of a mapped file that shrank since it was mapped, so what was read from
    /// them may be zeros instead of the file's bytes (`MappedFile.checkUnchanged`). Owned storage never throws.
    /// - Throws: `MappedFileError` with `changedWhileReading` set.
    public func checkUnchanged() throws {
        try mapped?.checkUnchanged()
    }

    deinit { owned?.deallocate() }
}
