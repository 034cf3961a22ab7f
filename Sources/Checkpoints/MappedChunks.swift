// Streaming a tensor's bytes out of a mapped checkpoint without keeping the whole file resident.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TensorCore

extension Tensor {
    /// Bytes per chunk of `forEachChunk`: small enough that peak memory stays far below a large tensor.
    public static let streamingChunkSize = 8 << 20

    /// Calls `body` with consecutive chunks of a mapped tensor's bytes, at most `chunkSize` each, in order.
    /// When the bytes are a view of a (read-only) mapped file, each chunk's pages are mapped in one call before
    /// `body` runs (`MADV_POPULATE_READ`: a `write` from unmapped pages would fault page by page inside the
    /// kernel's copy, which then zeroes and retries the partly copied page), and dropped from this process's
    /// resident set once `body` returns (`MADV_DONTNEED`: the kernel's page cache keeps them and a later read
    /// faults them back in with the same contents), so writing a mapped checkpoint keeps peak memory near one
    /// chunk instead of the file size. Owned storage is handed to `body` whole, in one call, and never advised.
    public func forEachChunk(
        ofSize chunkSize: Int = Tensor.streamingChunkSize,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let all = storage.bytes
        guard storage.isMapped, let base = all.baseAddress else {
            try body(all)
            return
        }
        var offset = 0
        while offset < all.count {
            let count = min(chunkSize, all.count - offset)
            populatePages(base + offset, count: count)
            try body(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count)]))
            releaseWholePages(base + offset, count: count)
            offset += count
        }
    }
}

extension Tensor {
    /// Drops the pages of a mapped tensor from this process's resident set (`MADV_DONTNEED` on the whole pages it
    /// covers), for callers that have copied the values out: the mapping stays valid and a later read faults
    /// the same bytes back in. Owned storage is left alone.
    public func releaseResidentPages() {
        guard storage.isMapped, let base = storage.bytes.baseAddress else { return }
        releaseWholePages(base, count: storage.bytes.count)
    }
}

/// `MADV_DONTNEED` on the pages that lie entirely inside `[start, start + count)` of a read-only file mapping.
private func releaseWholePages(_ start: UnsafeRawPointer, count: Int) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    guard page > 0 else { return }
    let first = (Int(bitPattern: start) + page - 1) / page * page
    let end = (Int(bitPattern: start) + count) / page * page
    guard end > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
    _ = madvise(p, end - first, Int32(MADV_DONTNEED))
}

/// `MADV_POPULATE_READ` (Linux 5.14) on the pages overlapping `[start, start + count)`: maps them readable in one
/// call. Only a hint; older kernels refuse it and the pages fault in as they are read.
private func populatePages(_ start: UnsafeRawPointer, count: Int) {
    #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0, count > 0 else { return }
        let first = Int(bitPattern: start) / page * page
        let end = (Int(bitPattern: start) + count + page - 1) / page * page
        guard let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(p, end - first, 22)  // MADV_POPULATE_READ, which Glibc's Swift overlay does not export
    #endif
}
