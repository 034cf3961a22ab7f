// Turning NPY array data into rmt-convert's tensor form (little-endian, row-major), and the .npy file reader.
import TensorCore

extension NPYHeader {
    /// The tensor for `data`, which holds exactly `dataByteCount` bytes laid out as this header says.
    /// Little-endian C-order data is wrapped without copying; big-endian data is byte-swapped and
    /// Fortran-order data transposed into new owned storage.
    public func tensor(from data: TensorStorage, file: String, tensor name: String?) throws -> Tensor {
        guard data.bytes.count == dataByteCount else {
            throw CheckpointError(
                .truncated, file: file, tensor: name,
                "array `\(name ?? "")`: expected \(dataByteCount) bytes of data for \(dtype.rawValue) \(shape) but found \(data.bytes.count)"
            )
        }
        do {
            var result = try Tensor(dtype: dtype, shape: shape, storage: data)
            if bigEndian { result = try Tensor.byteSwapped(result.bytes, dtype: dtype, shape: shape) }
            if fortranOrder && shape.rank > 1 { result = try NPYHeader.rowMajor(fromColumnMajor: result) }
            return result
        } catch let e as TensorError {
            throw CheckpointError(.corrupt, file: file, tensor: name, "array `\(name ?? "")`: \(e)")
        }
    }

    /// Reorders column-major elements into row-major order for the same shape.
    static func rowMajor(fromColumnMajor t: Tensor) throws -> Tensor {
        let dims = t.shape.dimensions
        let size = t.dtype.itemSize
        let count = t.elementCount
        // Column-major strides in bytes: axis 0 varies fastest.
        var strides = [Int](repeating: size, count: dims.count)
        for k in 1..<dims.count { strides[k] = strides[k - 1] * dims[k - 1] }
        let src = t.bytes
        let storage = TensorStorage(count: t.byteCount) { dst in
            guard count > 0, let out = dst.baseAddress, let input = src.baseAddress else { return }
            var index = [Int](repeating: 0, count: dims.count)
            var offset = 0
            for i in 0..<count {
                (out + i * size).copyMemory(from: input + offset, byteCount: size)
                // Advance the row-major odometer (last axis fastest), keeping the column-major offset in step.
                var k = dims.count - 1
                while k >= 0 {
                    index[k] += 1
                    offset += strides[k]
                    if index[k] < dims[k] { break }
                    offset -= strides[k] * dims[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }
        return try Tensor(dtype: t.dtype, shape: t.shape, storage: storage)
    }
}

/// A single `.npy` file opened as an archive holding one tensor, named after the file's stem.
public final class NPYArchive: TensorArchive {
    public let path: String
    public var format: CheckpointFormat { .npy }
    public let tensorInfos: [TensorInfo]
    public let notes: [String]
    /// The parsed header.
    public let header: NPYHeader
    private let file: MappedFile

    /// Maps the file and validates its header and data length.
    /// - Throws: `CheckpointError` naming the file and what is wrong.
    public init(path: String, options: NPYReadOptions = NPYReadOptions()) throws {
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        self.path = path
        let name = NPYArchive.stem(of: path)
        header = try NPYHeader.parse(file.bytes, file: path, tensor: name, options: options)
        let available = file.count - header.dataOffset
        guard available >= header.dataByteCount else {
            throw CheckpointError(
                .truncated, file: path, tensor: name,
                "array `\(name)`: \(header.descr) \(header.shape) needs \(header.dataByteCount) bytes of data but the file has \(available); it is truncated"
            )
        }
        var notes: [String] = []
        if header.voidDeclaredBF16 {
            notes.append("`\(name)`: void dtype '\(header.descr)' read as bf16, as requested")
        }
        if available > header.dataByteCount {
            notes.append("`\(name)`: \(available - header.dataByteCount) trailing bytes after the array data ignored")
        }
        self.notes = notes
        tensorInfos = [TensorInfo(name: name, dtype: header.dtype, shape: header.shape)]
    }

    public func tensor(named name: String) throws -> Tensor {
        guard name == tensorInfos[0].name else {
            throw CheckpointError(
                .tensorNotFound, file: path, tensor: name,
                "tensor `\(name)` not found; this .npy file holds only `\(tensorInfos[0].name)`")
        }
        let data = TensorStorage(mapping: file, range: header.dataOffset..<header.dataOffset + header.dataByteCount)
        return try header.tensor(from: data, file: path, tensor: name)
    }

    /// The file name without folder and without a final `.npy`.
    static func stem(of path: String) -> String {
        let base = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        return base.lowercased().hasSuffix(".npy") ? String(base.dropLast(4)) : base
    }
}
