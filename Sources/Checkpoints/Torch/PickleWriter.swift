// Writing the protocol-2 pickle of a state dict byte for byte as docs/FORMATS.md §5.6 lays it out, and the plain
// Python values of a nested checkpoint around it.
import TensorCore

/// A tensor entry of a pickled state dict: a view of one storage record.
public struct TorchPickledTensor: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: Shape
    /// The storage record key (`0`, `1`, … under `data/`).
    public let storageKey: String
    /// Bytes in the storage record.
    public let storageByteCount: Int
    /// First element, in elements of `dtype`.
    public let offset: Int

    public init(name: String, dtype: DType, shape: Shape, storageKey: String, storageByteCount: Int, offset: Int = 0) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.storageKey = storageKey
        self.storageByteCount = storageByteCount
        self.offset = offset
    }
}

/// A value of a nested checkpoint's top-level dict: the state dict itself, or a plain Python value.
public enum TorchCheckpointEntry: Sendable, Equatable {
    case stateDict
    case value(PickleValue)
}

/// Emits pickle opcodes. Nothing is memoized (no BINPUT/BINGET), as §5.6 allows.
public struct PickleWriter {
    /// The bytes written so far, starting with PROTO 2.
    public private(set) var bytes: [UInt8] = [0x80, 0x02]

    public init() {}

    /// The complete pickle of a state dict (an `OrderedDict` of name → tensor).
    public static func stateDict(_ tensors: [TorchPickledTensor]) -> [UInt8] {
        var writer = PickleWriter()
        writer.writeStateDict(tensors)
        writer.bytes.append(0x2E)
        return writer.bytes
    }

    /// The complete pickle of a nested checkpoint: a plain dict whose `.stateDict` entry holds the tensors.
    /// - Throws: `CheckpointError(.invalidArgument)` for values a pickle of plain data cannot hold.
    public static func nestedCheckpoint(
        _ entries: [(key: String, value: TorchCheckpointEntry)], stateDict tensors: [TorchPickledTensor]
    ) throws -> [UInt8] {
        var writer = PickleWriter()
        writer.bytes.append(0x7D)
        try writer.writeBatches(entries, closing: 0x75) { w, entry in
            w.writeString(entry.key)
            switch entry.value {
            case .stateDict: w.writeStateDict(tensors)
            case .value(let v): try w.writeValue(v)
            }
        }
        writer.bytes.append(0x2E)
        return writer.bytes
    }

    // MARK: - State dict

    mutating func writeStateDict(_ tensors: [TorchPickledTensor]) {
        writeEmptyOrderedDict()
        writeBatches(tensors, closing: 0x75) { w, t in
            w.writeString(t.name)
            w.writeTensor(t)
        }
    }

    /// `_rebuild_tensor_v2` with a typed storage, or `_rebuild_tensor_v3` with an untyped one for dtypes that
    /// have no storage class (u16/u32/u64, float8).
    mutating func writeTensor(_ t: TorchPickledTensor) {
        let storageType = TorchNames.storageTypeName(for: t.dtype)
        writeGlobal("torch._utils", storageType == nil ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2")
        bytes.append(0x28)
        bytes.append(0x28)
        writeString("storage")
        if let storageType {
            writeGlobal("torch", storageType)
        } else {
            writeGlobal("torch.storage", "UntypedStorage")
        }
        writeString(t.storageKey)
        writeString("cpu")
        writeInt(storageType == nil ? t.storageByteCount : t.storageByteCount / t.dtype.itemSize)
        bytes += [0x74, 0x51]
        writeInt(t.offset)
        writeIntTuple(t.shape.dimensions)
        writeIntTuple(TorchTensorReference.contiguousStrides(of: t.shape))
        bytes.append(0x89)
        writeEmptyOrderedDict()
        if storageType == nil { writeGlobal("torch", TorchNames.dtypeName(for: t.dtype)) }
        bytes += [0x74, 0x52]
    }

    // MARK: - Plain values

    /// Writes a plain value: None, bool, int, float, str, bytes, list, tuple or dict.
    /// - Throws: `CheckpointError(.invalidArgument)` for tensors, storages, globals, sets and complex numbers.
    public mutating func writeValue(_ value: PickleValue) throws {
        switch value {
        case .none: bytes.append(0x4E)
        case .bool(let b): bytes.append(b ? 0x88 : 0x89)
        case .int(let i): writeInt(i)
        case .bigInt(let big): writeLong(big.bytes)
        case .float(let d):
            bytes.append(0x47)
            withUnsafeBytes(of: d.bitPattern.bigEndian) { bytes += $0 }
        case .string(let s): writeString(s)
        case .bytes(let b):
            // Protocol 2 has no bytes opcode: Python writes _codecs.encode(latin-1 text, 'latin1').
            writeGlobal("_codecs", "encode")
            writeString(String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) })))
            writeString("latin1")
            bytes += [0x86, 0x52]
        case .list(let items):
            bytes.append(0x5D)
            try writeBatches(items, closing: 0x65) { w, item in try w.writeValue(item) }
        case .tuple(let items):
            if items.isEmpty { bytes.append(0x29); return }
            if items.count > 3 { bytes.append(0x28) }
            for item in items { try writeValue(item) }
            bytes.append(items.count > 3 ? 0x74 : 0x84 + UInt8(items.count))
        case .dict(let entries):
            bytes.append(0x7D)
            try writeBatches(entries, closing: 0x75) { w, entry in
                try w.writeValue(entry.key)
                try w.writeValue(entry.value)
            }
        case .set, .complex, .global, .storage, .tensor:
            throw CheckpointError(
                .invalidArgument, file: "pickle", tensor: nil,
                "a \(value.typeName) cannot be written as a plain checkpoint value; use None, bool, int, float, str, bytes, list, tuple or dict"
            )
        }
    }

    /// Python's batching: MARK, at most 1000 items, then APPENDS / SETITEMS; nothing for an empty container.
    mutating func writeBatches<T>(_ items: [T], closing: UInt8, _ write: (inout PickleWriter, T) throws -> Void)
        rethrows
    {
        var start = 0
        while start < items.count {
            bytes.append(0x28)
            for item in items[start..<min(start + 1000, items.count)] { try write(&self, item) }
            bytes.append(closing)
            start += 1000
        }
    }

    mutating func writeEmptyOrderedDict() {
        writeGlobal("collections", "OrderedDict")
        bytes += [0x29, 0x52]
    }

    mutating func writeGlobal(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array(module.utf8) + [0x0A] + Array(name.utf8) + [0x0A]
    }

    /// BINUNICODE: u32 length + UTF-8.
    mutating func writeString(_ s: String) {
        let utf8 = Array(s.utf8)
        bytes.append(0x58)
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    /// The smallest of BININT1, BININT2, BININT and LONG1, as Python chooses.
    mutating func writeInt(_ i: Int) {
        switch i {
        case 0...0xFF: bytes += [0x4B, UInt8(i)]
        case 0x100...0xFFFF: bytes += [0x4D, UInt8(i & 0xFF), UInt8(i >> 8)]
        case Int(Int32.min)...Int(Int32.max): withUnsafeBytes(of: Int32(i).littleEndian) { bytes += [0x4A] + $0 }
        default:
            var raw = withUnsafeBytes(of: Int64(i).littleEndian) { Array($0) }
            while raw.count > 1,
                (raw[raw.count - 1] == 0 && raw[raw.count - 2] & 0x80 == 0)
                    || (raw[raw.count - 1] == 0xFF && raw[raw.count - 2] & 0x80 != 0)
            {
                raw.removeLast()
            }
            writeLong(raw)
        }
    }

    mutating func writeLong(_ twosComplement: [UInt8]) {
        if twosComplement.count < 256 {
            bytes += [0x8A, UInt8(twosComplement.count)]
        } else {
            bytes.append(0x8B)
            withUnsafeBytes(of: UInt32(twosComplement.count).littleEndian) { bytes += $0 }
        }
        bytes += twosComplement
    }

    /// EMPTY_TUPLE, TUPLE1/2/3, or MARK … TUPLE for four or more.
    mutating func writeIntTuple(_ values: [Int]) {
        if values.isEmpty { bytes.append(0x29); return }
        if values.count > 3 { bytes.append(0x28) }
        for v in values { writeInt(v) }
        bytes.append(values.count > 3 ? 0x74 : 0x84 + UInt8(values.count))
    }
}
