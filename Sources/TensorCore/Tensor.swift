// The in-memory tensor every reader produces and every writer consumes.

/// A contiguous, row-major, little-endian tensor: a dtype, a shape and exactly `byteCount` bytes.
///
/// Tensors are values; their bytes are shared, immutable storage (owned or mapped).
public struct Tensor: Sendable {
    public let dtype: DType
    public let shape: Shape
    public let storage: TensorStorage

    /// Wraps `storage`, which must hold exactly `shape × dtype.itemSize` bytes.
    /// - Throws: `TensorError` when the sizes disagree or overflow.
    public init(dtype: DType, shape: Shape, storage: TensorStorage) throws {
        guard let expected = shape.checkedByteCount(dtype) else {
            throw TensorError.sizeOverflow(shape: shape.dimensions)
        }
        guard expected == storage.bytes.count else {
            throw TensorError.byteCountMismatch(expected: expected, actual: storage.bytes.count)
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
    }

    /// A float32 tensor holding `values`.
    public init(_ values: [Float], shape: Shape) {
        precondition(values.count == shape.elementCount, "values do not match the shape")
        dtype = .f32
        self.shape = shape
        storage = values.withUnsafeBytes { TensorStorage(copying: $0) }
    }

    /// A tensor of `dtype` copied from raw little-endian `bytes`.
    public init(dtype: DType, shape: Shape, bytes: [UInt8]) throws {
        try self.init(dtype: dtype, shape: shape, storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) })
    }

    /// The number of bytes.
    public var byteCount: Int { storage.bytes.count }
    /// The number of elements.
    public var elementCount: Int { shape.elementCount }
    /// The raw bytes (possibly unaligned; valid while this tensor lives).
    public var bytes: UnsafeRawBufferPointer { storage.bytes }

    /// The same bytes under another shape with the same element count.
    public func reshaped(_ newShape: Shape) throws -> Tensor {
        guard newShape.checkedElementCount == elementCount else {
            throw TensorError.reshape(from: shape.dimensions, to: newShape.dimensions)
        }
        return try Tensor(dtype: dtype, shape: newShape, storage: storage)
    }

    /// True when both tensors have the same dtype, shape and bytes.
    public func isBitwiseEqual(to other: Tensor) -> Bool {
        dtype == other.dtype && shape == other.shape && storage.bytes.elementsEqual(other.storage.bytes)
    }
}

/// Errors from tensor construction and casts; readers wrap them with the file and tensor name.
public enum TensorError: Error, CustomStringConvertible, Sendable, Equatable {
    case sizeOverflow(shape: [Int])
    case byteCountMismatch(expected: Int, actual: Int)
    case reshape(from: [Int], to: [Int])
    case unsupportedCast(from: DType, to: DType)

    public var description: String {
        switch self {
        case .sizeOverflow(let s): return "overflow computing buffer size from shape \(s)"
        case .byteCountMismatch(let e, let a): return "expected \(e) bytes of data but found \(a)"
        case .reshape(let f, let t): return "cannot reshape \(f) to \(t): element counts differ"
        case .unsupportedCast(let f, let t): return "cannot convert \(f.rawValue) to \(t.rawValue)"
        }
    }
}
