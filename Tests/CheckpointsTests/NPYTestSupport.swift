import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

/// The decoded values numpy recorded for one fixture array (`fixtures/numpy/expected.json`).
struct ExpectedArray {
    let dtype: DType
    let shape: Shape
    let numbers: [Double]?
    let hex: String

    /// Every entry of expected.json, keyed by "file" or "file:key".
    static let all: [String: ExpectedArray] = {
        guard let bytes = try? Fixtures.bytes(Fixtures.path("numpy/expected.json")),
            let json = try? bytes.withUnsafeBytes({ try JSONValue.parse($0) }),
            case .object(let members) = json
        else { return [:] }
        var result: [String: ExpectedArray] = [:]
        for (key, value) in members {
            guard let dtype = value["dtype"]?.stringValue.flatMap(DType.init(rawValue:)),
                case .array(let dims)? = value["shape"], let hex = value["hex"]?.stringValue
            else { continue }
            var numbers: [Double]? = nil
            if case .array(let values)? = value["values"] { numbers = values.compactMap(\.doubleValue) }
            result[key] = ExpectedArray(
                dtype: dtype, shape: Shape(dims.compactMap(\.integerValue)), numbers: numbers, hex: hex)
        }
        return result
    }()

    /// Checks `tensor` against these values: dtype, shape, exact bytes, and the numbers.
    func check(_ tensor: Tensor, _ label: String) throws {
        #expect(tensor.dtype == dtype, "\(label)")
        #expect(tensor.shape == shape, "\(label)")
        #expect(hexString(tensor.bytes) == hex, "\(label)")
        guard let numbers else { return }
        switch dtype {
        case .f32, .f16, .f64, .bf16:
            let floats = try tensor.floatValues()
            #expect(floats.count == numbers.count, "\(label)")
            #expect(zip(floats, numbers).allSatisfy { $0 == Float($1) }, "\(label)")
        case .c64:
            let floats = (0..<numbers.count).map { tensor.bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
            #expect(zip(floats, numbers).allSatisfy { $0 == Float($1) }, "\(label)")
        default:
            let ints = try tensor.int64Values()
            #expect(ints.map(Double.init) == numbers, "\(label)")
        }
    }
}

func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

/// An NPY file with header `text` (padded and terminated as numpy does unless `raw`), then `data`.
func npyBytes(_ text: String, version: UInt8 = 1, data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
    var body = Array(text.utf8)
    let prefix = version == 1 ? 10 : 12
    if pad {
        let textLength = body.count + 1
        body += [UInt8](repeating: 0x20, count: 64 - (prefix + textLength) % 64)
        body.append(0x0A)
    }
    var out = NPYHeader.magic + [version, 0]
    if version == 1 { out.le(UInt16(body.count)) } else { out.le(UInt32(body.count)) }
    return out + body + data
}

/// A temporary folder removed when the value is dropped.
final class Scratch {
    let path: String
    init() throws { path = try Fixtures.temporaryFolder() }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to a new file in the folder and returns its path.
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = "\(path)/\(name)"
        try Fixtures.write(bytes, to: p)
        return p
    }
}
