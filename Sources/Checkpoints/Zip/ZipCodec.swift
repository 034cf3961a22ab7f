// zlib's CRC-32, raw inflate with size checks, and raw deflate: the compression half of the ZIP container.
import CZlibRaw

/// CRC-32 (the ZIP / zlib polynomial) computed by zlib, fed in pieces.
public struct ZipCRC32: Sendable {
    /// The checksum of everything fed so far.
    public private(set) var value: UInt32 = 0

    public init() {}

    /// Feeds `bytes` (any length; zlib takes at most 4 GiB per call, so large buffers go in slices).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
        var left = bytes.count
        var crc = uLong(value)
        while left > 0 {
            let n = min(left, 1 << 30)
            crc = crc32(crc, base, uInt(n))
            base += n
            left -= n
        }
        value = UInt32(truncatingIfNeeded: crc)
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

enum RawDeflate {
    /// Inflates raw deflate `input` (window bits −15) into `output`, which must be filled exactly.
    /// Fails as soon as the stream would produce more bytes than `output` holds, or ends before filling it.
    static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(InflateFailure) {
        var stream = z_stream()
        guard czr_inflateInit2(&stream, -15) == Z_OK else { throw .corrupt("zlib inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        let inBase = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        let outBase = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        var inDone = 0, outDone = 0
        var scratch: UInt8 = 0
        while true {
            if stream.avail_in == 0, inDone < input.count, let inBase {
                let n = min(input.count - inDone, 1 << 30)
                stream.next_in = inBase + inDone
                stream.avail_in = uInt(n)
                inDone += n
            }
            let probing = outDone == output.count
            let status: Int32 = withUnsafeMutablePointer(to: &scratch) { probe in
                if probing {
                    // Output is full: offer one spare byte to learn whether the stream really ends here.
                    stream.next_out = probe
                    stream.avail_out = 1
                } else {
                    let n = min(output.count - outDone, 1 << 30)
                    stream.next_out = outBase! + outDone
                    stream.avail_out = uInt(n)
                }
                let before = stream.avail_out
                let r = CZlibRaw.inflate(&stream, Z_NO_FLUSH)
                if !probing { outDone += Int(before - stream.avail_out) } else if stream.avail_out == 0 { return -100 }
                return r
            }
            switch status {
            case Z_STREAM_END:
                if outDone != output.count { throw .tooShort }
                return
            case -100:
                throw .tooLong
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: input exhausted before the end of the stream.
                if stream.avail_in == 0 && inDone == input.count { throw .tooShort }
                continue
            default:
                let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corrupt(msg)
            }
        }
    }

    /// A streaming raw-deflate compressor (window bits −15) collecting its output in memory.
    final class Compressor {
        private var stream = z_stream()
        private(set) var output: [UInt8] = []
        private var open = false

        init(level: Int32) throws {
            guard czr_deflateInit2(&stream, level, -15) == Z_OK else { throw InflateFailure.corrupt("zlib deflateInit2 failed") }
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
                        output.append(contentsOf: out.prefix(out.count - Int(stream.avail_out)))
                        return r
                    }
                    if status == Z_STREAM_ERROR { throw InflateFailure.corrupt("zlib deflate failed") }
                } while stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
            } while left > 0
        }

        deinit { if open { deflateEnd(&stream) } }
    }
}
