// Owned HDF5 identifiers: every id is checked when created and closed exactly once.
import CHDF5
import Checkpoints
#if canImport(Glibc)
    import Glibc
#endif

/// `H5P_DEFAULT` as an id.
let h5Default = hid_t(H5P_DEFAULT)

/// An HDF5 identifier this code created, closed by `deinit` with the matching close call.
final class H5Handle {
    let id: hid_t
    private let closeFunction: (hid_t) -> herr_t
    private var isOpen = true

    init(_ id: hid_t, close: @escaping (hid_t) -> herr_t) {
        self.id = id
        closeFunction = close
    }

    /// Closes now (writers check the status of closing the file); later calls do nothing.
    func close() -> herr_t {
        guard isOpen else { return 0 }
        isOpen = false
        return closeFunction(id)
    }

    deinit { _ = close() }
}

/// The kinds of identifier, each with its close call.
enum H5Kind {
    case file, group, dataset, attribute, datatype, dataspace, propertyList, object

    var close: (hid_t) -> herr_t {
        switch self {
        case .file: return H5Fclose
        case .group: return H5Gclose
        case .dataset: return H5Dclose
        case .attribute: return H5Aclose
        case .datatype: return H5Tclose
        case .dataspace: return H5Sclose
        case .propertyList: return H5Pclose
        case .object: return H5Oclose
        }
    }
}

/// The error context of one file: wraps ids and return codes into `CheckpointError`s naming the file.
struct H5Context {
    /// The file as the user named it.
    let path: String
    /// The temporary file being written, when writing: its write-back is started as datasets stream in.
    var output: AtomicFileWriter? = nil

    /// Turns off HDF5's printing of its error stack; rmt-convert reports its own errors.
    static func silenceErrorStack() {
        _ = H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
    }

    /// Takes ownership of `id`, or throws when it is negative.
    func own(
        _ id: hid_t, _ kind: H5Kind, _ what: @autoclosure () -> String, tensor: String? = nil,
        errorKind: CheckpointError.Kind = .corrupt
    ) throws -> H5Handle {
        guard id >= 0 else {
            throw CheckpointError(errorKind, file: path, tensor: tensor, "HDF5 could not \(what())")
        }
        return H5Handle(id, close: kind.close)
    }

    /// Throws when an HDF5 call returned a negative status.
    func check(
        _ status: herr_t, _ what: @autoclosure () -> String, tensor: String? = nil,
        errorKind: CheckpointError.Kind = .corrupt
    ) throws {
        guard status >= 0 else {
            throw CheckpointError(errorKind, file: path, tensor: tensor, "HDF5 could not \(what())")
        }
    }

    /// A copy of a predefined type (so it can be modified and closed).
    func copyType(_ type: hid_t) throws -> H5Handle {
        try own(H5Tcopy(type), .datatype, "copy a datatype")
    }

    /// The 2-byte IEEE half-precision type h5py uses (docs/FORMATS.md §3.7), little-endian.
    func halfFloatType() throws -> H5Handle {
        let t = try copyType(chdf5_T_IEEE_F32LE())
        try check(H5Tset_fields(t.id, 15, 10, 5, 0, 10), "define the half-float type")
        try check(H5Tset_size(t.id, 2), "define the half-float type")
        try check(H5Tset_ebias(t.id, 15), "define the half-float type")
        return t
    }

    /// h5py's bool: an enum over a signed byte with FALSE = 0 and TRUE = 1.
    func boolEnumType() throws -> H5Handle {
        let t = try own(H5Tenum_create(chdf5_T_NATIVE_INT8()), .datatype, "create the bool enum type")
        var no: Int8 = 0, yes: Int8 = 1
        try check(H5Tenum_insert(t.id, "FALSE", &no), "define the bool enum type")
        try check(H5Tenum_insert(t.id, "TRUE", &yes), "define the bool enum type")
        return t
    }

    /// h5py's complex64: a compound {r: f32, i: f32}.
    func complex64Type() throws -> H5Handle {
        let t = try own(H5Tcreate(H5T_COMPOUND, 8), .datatype, "create the complex type")
        try check(H5Tinsert(t.id, "r", 0, chdf5_T_IEEE_F32LE()), "define the complex type")
        try check(H5Tinsert(t.id, "i", 4, chdf5_T_IEEE_F32LE()), "define the complex type")
        return t
    }
}

/// An HDF5 link or object name as a Swift string (UTF-8, invalid bytes repaired).
func h5String(_ p: UnsafePointer<CChar>) -> String {
    String(decoding: UnsafeRawBufferPointer(start: p, count: strlen(p)), as: UTF8.self)
}

/// Byte-wise (UTF-8) order, as docs/FORMATS.md §3.7 requires for tensor order.
func byteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

/// Opening a file read-only by path (for tests and tools that inspect written files).
enum H5FileOpener {
    static func open(_ path: String) -> hid_t {
        H5Context.silenceErrorStack()
        return H5Fopen(path, chdf5_F_ACC_RDONLY(), h5Default)
    }
}
