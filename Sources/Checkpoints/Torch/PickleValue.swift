// The value tree a restricted unpickler produces: plain Python data plus tensor references (docs/FORMATS.md §5.4).

/// A Python value read from a pickle without executing anything.
///
/// Containers keep Python's order (`dict` entries in insertion order). Globals that are allowed but not called
/// stay as tags (`torch.FloatStorage`, `torch.uint16`); tensors appear as `TorchTensorReference`s that say
/// which storage record holds their bytes and how to view it.
public indirect enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    /// An integer that fits in 64 bits.
    case int(Int)
    /// A larger integer, as little-endian two's complement bytes (Python `int` has no size limit).
    case bigInt(PickleBigInt)
    case float(Double)
    case complex(real: Double, imaginary: Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// A `dict` or `OrderedDict`, in insertion order (a later SETITEM on an existing key replaces its value).
    case dict([PickleDictEntry])
    case set([PickleValue])
    /// An allowed global that was not called, e.g. a storage type or a dtype.
    case global(module: String, name: String)
    /// A storage reference from a persistent id.
    case storage(TorchStorageReference)
    case tensor(TorchTensorReference)

    /// The entries when this is a dict.
    public var dictEntries: [PickleDictEntry]? {
        if case .dict(let entries) = self { return entries }
        return nil
    }

    /// The value for a string key when this is a dict.
    public subscript(key: String) -> PickleValue? {
        dictEntries?.last(where: { $0.key.stringValue?.utf8.elementsEqual(key.utf8) == true })?.value
    }

    /// The string when this is a `str`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer when this is an `int` that fits in 64 bits.
    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// A short Python-like name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .complex: return "complex"
        case .string: return "str"
        case .bytes: return "bytes"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .set: return "set"
        case .global(let m, let n): return "\(m).\(n)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// One key/value pair of a pickled dict.
public struct PickleDictEntry: Sendable, Equatable {
    public var key: PickleValue
    public var value: PickleValue

    public init(key: PickleValue, value: PickleValue) {
        self.key = key
        self.value = value
    }
}

/// An integer too large for `Int`, as Python pickles it: little-endian two's complement bytes.
public struct PickleBigInt: Sendable, Equatable, CustomStringConvertible {
    /// Little-endian two's complement, at least 9 bytes (smaller values are `PickleValue.int`).
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var isNegative: Bool { (bytes.last ?? 0) & 0x80 != 0 }

    /// Decimal digits, with a leading `-` for negative values.
    public var description: String {
        // Magnitude as little-endian bytes: negate two's complement when negative.
        var magnitude = bytes
        if isNegative {
            var carry = 1
            for i in magnitude.indices {
                let v = Int(~magnitude[i]) + carry
                magnitude[i] = UInt8(v & 0xFF)
                carry = v >> 8
            }
        }
        var digits: [Character] = []
        while magnitude.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in magnitude.indices.reversed() {
                let v = remainder << 8 | Int(magnitude[i])
                magnitude[i] = UInt8(v / 10)
                remainder = v % 10
            }
            digits.append(Character(String(remainder)))
        }
        let text = digits.isEmpty ? "0" : String(digits.reversed())
        return isNegative ? "-" + text : text
    }
}

extension PickleValue {
    /// An integer from little-endian two's complement bytes (LONG1 / LONG4; empty means 0).
    static func integer(twosComplement bytes: [UInt8]) -> PickleValue {
        guard !bytes.isEmpty else { return .int(0) }
        // Drop redundant sign-extension bytes, then fit into Int when 8 bytes or fewer remain.
        var trimmed = bytes
        while trimmed.count > 1 {
            let last = trimmed[trimmed.count - 1], previous = trimmed[trimmed.count - 2]
            if (last == 0 && previous & 0x80 == 0) || (last == 0xFF && previous & 0x80 != 0) {
                trimmed.removeLast()
            } else {
                break
            }
        }
        guard trimmed.count <= 8 else { return .bigInt(PickleBigInt(bytes: trimmed)) }
        var value: UInt64 = trimmed.last! & 0x80 != 0 ? ~0 : 0
        for (i, b) in trimmed.enumerated() {
            value &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            value |= UInt64(b) << (8 * UInt64(i))
        }
        return .int(Int(Int64(bitPattern: value)))
    }
}
