// CRC-32, raw inflate with size checks, and raw deflate: the compression half of the ZIP container.
import CKernels
import CZlibRaw

/// CRC-32 (the ZIP / zlib polynomial), fed in pieces: PCLMULQDQ folding where the CPU has it, zlib otherwise
/// (`ckernels_crc32`, the same values as zlib's `crc32`).
public struct ZipCRC32: Sendable {
    /// The checksum of everything fed so far.
    public private(set) var value: UInt32 = 0

    public init() {}

    /// Feeds `bytes` (any length).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        value = ckernels_crc32(value, base, bytes.count)
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ZipCRC32()
        c.update(bytes)
        return c.value
    }
}

/// Why a raw-deflate stream did not decode to exactly the declared size.
enum InflateFailure: Error {
    case tooLong, tooShort, corrupt(String)
}

/// A raw-deflate decoder (window bits −15) that hands out its output in consecutive pieces, so a caller can
/// decode a header first and then inflate the rest straight into its final buffer.
final class RawInflater {
    private var stream = z_stream()
    private let input: UnsafeRawBufferPointer
    private var inputFed = 0
    private var ended = false
    private var open = false

    init(_ input: UnsafeRawBufferPointer) throws(InflateFailure) {
        self.input = input
        guard czr_inflateInit2(&stream, -15) == Z_OK else { throw .corrupt("zlib inflateInit2 failed") }
        open = true
    }

    deinit { if open { inflateEnd(&stream) } }

    /// Fills `output` completely; fails with `.tooShort` when the stream ends first.
    func read(into output: UnsafeMutableRawBufferPointer) throws(InflateFailure) {
        guard let base = output.baseAddress?.assumingMemoryBound(to: Bytef.self), output.count > 0 else { return }
        var done = 0
        while done < output.count {
            if ended { throw .tooShort }
            let n = min(output.count - done, 1 << 30)
            let produced = try step(base + done, n)
            done += produced
        }
    }

    /// Succeeds only when the stream ends exactly here: one spare byte of output must stay unused.
    func finish() throws(InflateFailure) {
        var spare: UInt8 = 0
        while !ended {
            let produced = try withUnsafeMutablePointer(to: &spare) { p throws(InflateFailure) in try step(p, 1) }
            if produced > 0 { throw .tooLong }
        }
    }

    /// Runs inflate once into `count` bytes at `out`; returns the bytes produced.
    private func step(_ out: UnsafeMutablePointer<Bytef>, _ count: Int) throws(InflateFailure) -> Int {
        if stream.avail_in == 0, inputFed < input.count, let inBase = input.baseAddress {
            let n = min(input.count - inputFed, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: inBase.assumingMemoryBound(to: Bytef.self)) + inputFed
            stream.avail_in = uInt(n)
            inputFed += n
        }
        stream.next_out = out
        stream.avail_out = uInt(count)
        let status = inflate(&stream, Z_NO_FLUSH)
        let produced = count - Int(stream.avail_out)
        switch status {
        case Z_STREAM_END:
            ended = true
        case Z_OK:
            break
        case Z_BUF_ERROR:
            // No progress possible: the input ran out before the end of the stream.
            if stream.avail_in == 0 && inputFed == input.count && produced == 0 { throw .tooShort }
        default:
            throw .corrupt(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
        }
        return produced
    }
}

enum RawDeflate {
    /// Inflates raw deflate `input` into `output`, which must be filled exactly: fails as soon as the stream
    /// would produce more bytes than `output` holds, or ends before filling it.
    static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        throws(InflateFailure)
    {
        let inflater = try RawInflater(input)
        try inflater.read(into: output)
        try inflater.finish()
    }

    /// A streaming raw-deflate compressor (window bits −15) collecting its output in memory.
    final class Compressor {
        private var stream = z_stream()
        private(set) var output: [UInt8] = []
        private var open = false

        init(level: Int32) throws {
            guard czr_deflateInit2(&stream, level, -15) == Z_OK else {
                throw InflateFailure.corrupt("zlib deflateInit2 failed")
            }
            open = true
        }

        /// Compresses `bytes`; `finish` flushes the end of the stream.
        func feed(_ bytes: UnsafeRawBufferPointer, finish: Bool = false) throws {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            var left = bytes.count
            var base = bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
            repeat {
                let n = min(left, 1 << 30)
                stream.next_in = base
                stream.avail_in = uInt(n)
                left -= n
                base = base.map { $0 + n }
                let flush = (finish && left == 0) ? Z_FINISH : Z_NO_FLUSH
                var status: Int32 = Z_OK
                repeat {
                    status = chunk.withUnsafeMutableBytes { out in
                        stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                        stream.avail_out = uInt(out.count)
                        let r = deflate(&stream, flush)
                        output.append(
                            contentsOf: UnsafeRawBufferPointer(rebasing: out[0..<(out.count - Int(stream.avail_out))]))
                        return r
                    }
                    if status == Z_STREAM_ERROR { throw InflateFailure.corrupt("zlib deflate failed") }
                } while stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
            } while left > 0
        }

        deinit { if open { deflateEnd(&stream) } }
    }
}
