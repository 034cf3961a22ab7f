// Storages and tensors as torch pickles them: storage types, dtypes and the views `_rebuild_tensor_v2/v3` build.
import TensorCore

/// What a storage holds: elements of one dtype (`FloatStorage`…) or raw bytes (`UntypedStorage`).
public enum TorchStorageKind: Sendable, Equatable {
    case typed(DType)
    case untyped

    /// Bytes per storage element (`numel` in a persistent id counts these).
    public var elementSize: Int {
        switch self {
        case .typed(let dtype): return dtype.itemSize
        case .untyped: return 1
        }
    }
}

/// A storage named by a persistent id: `('storage', <type>, key, location, numel)` (docs/FORMATS.md §5.4).
public struct TorchStorageReference: Sendable, Equatable {
    /// The record name under `data/` (zip) or the pointer text (legacy).
    public let key: String
    public let kind: TorchStorageKind
    /// `cpu`, `cuda:0`, …; ignored when reading.
    public let location: String
    /// Elements of `kind` in the storage (bytes for untyped storages).
    public let elementCount: Int
    /// Legacy views only: where this view starts inside the storage `key`, in bytes; 0 otherwise.
    public let byteOffset: Int

    public init(key: String, kind: TorchStorageKind, location: String, elementCount: Int, byteOffset: Int = 0) {
        self.key = key
        self.kind = kind
        self.location = location
        self.elementCount = elementCount
        self.byteOffset = byteOffset
    }

    /// `elementCount × elementSize`, or nil on overflow.
    public var byteCount: Int? {
        let (n, overflow) = elementCount.multipliedReportingOverflow(by: kind.elementSize)
        return overflow ? nil : n
    }
}

/// A tensor as the pickle describes it: a strided view of a storage.
public struct TorchTensorReference: Sendable, Equatable {
    public let storage: TorchStorageReference
    public let dtype: DType
    /// First element, counted in elements of `dtype` from the start of the storage.
    public let offset: Int
    public let shape: Shape
    /// Strides in elements of `dtype`; 0 repeats an element (broadcast, e.g. `position_ids`).
    public let strides: [Int]

    public init(storage: TorchStorageReference, dtype: DType, offset: Int, shape: Shape, strides: [Int]) {
        self.storage = storage
        self.dtype = dtype
        self.offset = offset
        self.shape = shape
        self.strides = strides
    }

    /// The row-major strides of `shape` (what a contiguous tensor has).
    public static func contiguousStrides(of shape: Shape) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.rank)
        var running = 1
        for k in stride(from: shape.rank - 1, through: 0, by: -1) {
            strides[k] = running
            running = running &* max(shape[k], 1)
        }
        return strides
    }

    /// True when the view reads consecutive elements (strides of size-1 dimensions do not matter).
    public var isContiguous: Bool {
        let expected = TorchTensorReference.contiguousStrides(of: shape)
        return (0..<shape.rank).allSatisfy { shape[$0] <= 1 || strides[$0] == expected[$0] }
    }

    /// The byte range of storage `storage.key` the view touches: from the first element to one past the last
    /// addressed element, or nil on overflow. Empty tensors touch nothing (`offset..<offset`).
    public var addressedByteRange: Range<Int>? {
        let item = dtype.itemSize
        guard let count = shape.checkedElementCount else { return nil }
        var last = offset
        if count > 0 {
            for k in 0..<shape.rank {
                let (step, o1) = (shape[k] - 1).multipliedReportingOverflow(by: strides[k])
                let (sum, o2) = last.addingReportingOverflow(step)
                if o1 || o2 { return nil }
                last = sum
            }
        }
        let (start, o3) = offset.multipliedReportingOverflow(by: item)
        let (startAbsolute, o4) = start.addingReportingOverflow(storage.byteOffset)
        let end = count > 0 ? (last + 1).multipliedReportingOverflow(by: item) : (start, false)
        let (endAbsolute, o5) = end.0.addingReportingOverflow(storage.byteOffset)
        if o3 || o4 || end.1 || o5 { return nil }
        return startAbsolute..<endAbsolute
    }

    /// Two references are aliases when they view the same storage in exactly the same way.
    public func isSameView(as other: TorchTensorReference) -> Bool {
        storage.key.utf8.elementsEqual(other.storage.key.utf8) && storage.byteOffset == other.storage.byteOffset
            && dtype == other.dtype
            && offset == other.offset && shape == other.shape && strides == other.strides
    }
}

/// The torch names of storage types and dtypes (docs/FORMATS.md §0.2, §5.3).
enum TorchNames {
    /// Storage classes by name; nil marks a known storage rmt-convert cannot represent (quantized, c128).
    static let storageTypes: [String: TorchStorageKind?] = [
        "FloatStorage": .typed(.f32), "DoubleStorage": .typed(.f64), "HalfStorage": .typed(.f16),
        "BFloat16Storage": .typed(.bf16), "LongStorage": .typed(.i64), "IntStorage": .typed(.i32),
        "ShortStorage": .typed(.i16), "CharStorage": .typed(.i8), "ByteStorage": .typed(.u8),
        "BoolStorage": .typed(.bool), "ComplexFloatStorage": .typed(.c64), "UntypedStorage": .untyped,
        "ComplexDoubleStorage": nil, "QInt8Storage": nil, "QUInt8Storage": nil, "QInt32Storage": nil,
        "QUInt4x2Storage": nil, "QUInt2x4Storage": nil,
    ]

    /// `torch.<dtype>` globals; nil marks a dtype rmt-convert cannot represent.
    static let dtypes: [String: DType?] = [
        "float32": .f32, "float": .f32, "float64": .f64, "double": .f64, "float16": .f16, "half": .f16,
        "bfloat16": .bf16, "int64": .i64, "long": .i64, "int32": .i32, "int": .i32, "int16": .i16, "short": .i16,
        "int8": .i8, "uint8": .u8, "bool": .bool, "uint16": .u16, "uint32": .u32, "uint64": .u64,
        "complex64": .c64, "cfloat": .c64, "float8_e4m3fn": .f8E4M3, "float8_e5m2": .f8E5M2,
        "float8_e4m3fnuz": nil, "float8_e5m2fnuz": nil, "float8_e8m0fnu": nil, "complex128": nil, "cdouble": nil,
        "complex32": nil, "chalf": nil, "qint8": nil, "quint8": nil, "qint32": nil,
    ]

    /// The storage class torch pickles for `dtype`, or nil for dtypes saved through `_rebuild_tensor_v3`.
    static func storageTypeName(for dtype: DType) -> String? {
        switch dtype {
        case .f32: return "FloatStorage"
        case .f64: return "DoubleStorage"
        case .f16: return "HalfStorage"
        case .bf16: return "BFloat16Storage"
        case .i64: return "LongStorage"
        case .i32: return "IntStorage"
        case .i16: return "ShortStorage"
        case .i8: return "CharStorage"
        case .u8: return "ByteStorage"
        case .bool: return "BoolStorage"
        case .c64: return "ComplexFloatStorage"
        case .u16, .u32, .u64, .f8E4M3, .f8E5M2: return nil
        }
    }

    /// The `torch.<name>` dtype global for `dtype`.
    static func dtypeName(for dtype: DType) -> String {
        switch dtype {
        case .f32: return "float32"
        case .f64: return "float64"
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        case .i64: return "int64"
        case .i32: return "int32"
        case .i16: return "int16"
        case .i8: return "int8"
        case .u8: return "uint8"
        case .bool: return "bool"
        case .u16: return "uint16"
        case .u32: return "uint32"
        case .u64: return "uint64"
        case .c64: return "complex64"
        case .f8E4M3: return "float8_e4m3fn"
        case .f8E5M2: return "float8_e5m2"
        }
    }
}
