// The one interface every checkpoint reader implements, and the description of a tensor without its data.
import TensorCore

/// A tensor's name, dtype and shape, known without reading its data.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: Shape

    public init(name: String, dtype: DType, shape: Shape) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// Bytes of data (validated by the reader that produced the info).
    public var byteCount: Int { shape.elementCount * dtype.itemSize }
}

/// The checkpoint file formats rmt-convert knows.
public enum CheckpointFormat: String, Sendable, CaseIterable, Codable {
    case safetensors, npz, npy, hdf5 = "h5", torch

    /// The conventional file extension for single-file output.
    public var fileExtension: String {
        switch self {
        case .safetensors: return "safetensors"
        case .npz: return "npz"
        case .npy: return "npy"
        case .hdf5: return "h5"
        case .torch: return "bin"
        }
    }
}

/// A readable checkpoint: named tensors in file order, plus metadata and aliases.
///
/// Readers validate the whole index when they open; `tensor(named:)` then returns data without re-checking
/// sizes. Tensors returned are zero-copy views where the format allows (safetensors, stored npz members,
/// torch records) and stay valid after the archive is released.
public protocol TensorArchive: AnyObject {
    /// The file or folder this archive was opened from.
    var path: String { get }
    /// The container format.
    var format: CheckpointFormat { get }
    /// Every tensor, in file order (for safetensors: data-offset order).
    var tensorInfos: [TensorInfo] { get }
    /// String metadata (safetensors `__metadata__`, HDF5 `metadata`), in file order.
    var metadata: [(key: String, value: String)] { get }
    /// Tied names: alias → the stored tensor it shares data with. Keyed by bytes (`UTF8Key`): `é` and
    /// `e` + U+0301 are two names.
    var aliases: [UTF8Key: String] { get }
    /// What the reader skipped, ignored or changed, for the report. Empty when nothing was.
    var notes: [String] { get }
    /// The tensor named `name`.
    /// - Throws: `CheckpointError` of kind `.tensorNotFound`, or a read error.
    func tensor(named name: String) throws -> Tensor
}

extension TensorArchive {
    public var aliases: [UTF8Key: String] { [:] }
    public var notes: [String] { [] }
    public var metadata: [(key: String, value: String)] { [] }

    /// Tensor names in file order.
    public var tensorNames: [String] { tensorInfos.map(\.name) }

    /// True when a tensor named `name` is stored (names compared by bytes; aliases not counted).
    public func contains(_ name: String) -> Bool { tensorInfos.contains { $0.name.utf8.elementsEqual(name.utf8) } }

    /// The info for `name` (compared by bytes).
    public func info(for name: String) throws -> TensorInfo {
        guard let i = tensorInfos.first(where: { $0.name.utf8.elementsEqual(name.utf8) }) else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        return i
    }

    /// Total elements over all stored tensors (aliases not counted).
    public var parameterCount: Int { tensorInfos.reduce(0) { $0 + $1.shape.elementCount } }
    /// Total data bytes over all stored tensors.
    public var totalBytes: Int { tensorInfos.reduce(0) { $0 + $1.byteCount } }
}

/// Carries a non-Sendable reference into a `@Sendable` closure; archives are read from one thread at a time.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
