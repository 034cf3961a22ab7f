// Turning a tensor reference plus its storage record into the contiguous little-endian tensor of docs/FORMATS.md
// §0.1: zero-copy when the view is contiguous and the bytes are mapped, a strided gather otherwise, and a byteswap
// for big-endian archives.
import TensorCore

/// Where a storage record's bytes are.
enum TorchStorageRecord {
    /// An absolute byte range of the mapped file (stored zip members, legacy storages).
    case mapped(Range<Int>)
    /// A compressed zip member, inflated when read.
    case deflated(ZipEntry)

    var byteCount: Int {
        switch self {
        case .mapped(let range): return range.count
        case .deflated(let entry): return entry.uncompressedSize
        }
    }
}

enum TorchTensorMaterializer {
    /// Checks that `reference` fits its record: the record holds the declared storage bytes and every element
    /// the view addresses lies inside it.
    static func validate(
        _ reference: TorchTensorReference, name: String, record: TorchStorageRecord?, recordName: String, file: String
    ) throws {
        guard let record else {
            throw CheckpointError(
                .corrupt, file: file, tensor: name,
                "tensor `\(name)`: its storage record `\(recordName)` is missing; the file is truncated or corrupt")
        }
        let storage = reference.storage
        guard let declared = storage.byteCount, declared == record.byteCount else {
            throw CheckpointError(
                .corrupt, file: file, tensor: name,
                "tensor `\(name)`: storage record `\(recordName)` holds \(record.byteCount) bytes but the pickle declares \(storage.elementCount) elements of \(storage.kind.elementSize) bytes; the file is truncated or corrupt"
            )
        }
        guard let range = reference.addressedByteRange else {
            throw CheckpointError(
                .validationOverflow, file: file, tensor: name,
                "tensor `\(name)`: overflow computing the bytes its view addresses")
        }
        if reference.shape.elementCount > 0, range.upperBound > record.byteCount {
            throw CheckpointError(
                .invalidOffset, file: file, tensor: name,
                "tensor `\(name)`: view \(reference.shape) with strides \(reference.strides) at offset \(reference.offset) reaches byte \(range.upperBound) of storage `\(recordName)`, which has \(record.byteCount); the file is corrupt"
            )
        }
        // A stride-0 (broadcast) view repeats stored bytes; like deflate, let it grow them at most ~1000×.
        let bytes = reference.shape.elementCount * reference.dtype.itemSize  // checked when the pickle was read
        let (bound, overflow) = range.count.multipliedReportingOverflow(by: maximumBroadcastRatio)
        guard overflow || bytes <= bound + (1 << 20) else {
            throw CheckpointError(
                .corrupt, file: file, tensor: name,
                "tensor `\(name)`: view \(reference.shape) with strides \(reference.strides) expands \(range.count) stored bytes to \(bytes), more than \(maximumBroadcastRatio)× + 1 MiB; the file is corrupt or a memory bomb"
            )
        }
    }

    /// How many times a broadcast view may repeat the bytes it addresses (deflate's own maximum ratio).
    static let maximumBroadcastRatio = 1032

    /// The contiguous tensor. `recordBytes` are the whole record; when `mappedBase` is given they lie at that
    /// absolute offset of `file`, and contiguous little-endian views are returned zero-copy.
    static func tensor(
        _ reference: TorchTensorReference, recordBytes: UnsafeRawBufferPointer, file: MappedFile?,
        mappedBase: Int?, bigEndian: Bool
    ) throws -> Tensor {
        let count = reference.shape.elementCount
        let item = reference.dtype.itemSize
        guard count > 0 else { return try Tensor(dtype: reference.dtype, shape: reference.shape, bytes: []) }
        guard let range = reference.addressedByteRange, range.upperBound <= recordBytes.count else {
            throw TensorError.byteCountMismatch(
                expected: reference.addressedByteRange?.upperBound ?? Int.max, actual: recordBytes.count)
        }
        let swap = bigEndian && item > 1
        if reference.isContiguous {
            let slice = UnsafeRawBufferPointer(rebasing: recordBytes[range])
            if swap { return try Tensor.byteSwapped(slice, dtype: reference.dtype, shape: reference.shape) }
            let storage =
                if let file, let mappedBase {
                    TensorStorage(
                        mapping: file, range: (mappedBase + range.lowerBound)..<(mappedBase + range.upperBound))
                } else {
                    TensorStorage(copying: slice)
                }
            return try Tensor(dtype: reference.dtype, shape: reference.shape, storage: storage)
        }
        let gathered = gather(reference, from: recordBytes)
        if swap { return try Tensor.byteSwapped(gathered.bytes, dtype: reference.dtype, shape: reference.shape) }
        return try Tensor(dtype: reference.dtype, shape: reference.shape, storage: gathered)
    }

    /// Copies a strided view into row-major order (strides may be 0), walking the source with an odometer.
    static func gather(_ reference: TorchTensorReference, from source: UnsafeRawBufferPointer) -> TensorStorage {
        let item = reference.dtype.itemSize
        let shape = reference.shape.dimensions
        let byteStrides = reference.strides.map { $0 * item }
        let count = reference.shape.elementCount
        return TensorStorage(count: count * item) { destination in
            var index = [Int](repeating: 0, count: shape.count)
            var position = reference.storage.byteOffset + reference.offset * item
            for element in 0..<count {
                destination.baseAddress!.advanced(by: element * item)
                    .copyMemory(from: source.baseAddress!.advanced(by: position), byteCount: item)
                var k = shape.count - 1
                while k >= 0 {
                    index[k] += 1
                    position += byteStrides[k]
                    if index[k] < shape[k] { break }
                    position -= byteStrides[k] * shape[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }
    }
}
