// Datasets as tensors: type classification (docs/FORMATS.md §0.2, its dtype table), shapes, filter checks and reads.
import CHDF5
import Checkpoints
import TensorCore

/// What a dataset holds, as found when the archive opens.
struct DatasetInfo {
    /// The path from the file root, without a leading `/`.
    let path: String
    let dtype: DType
    let shape: Shape
}

/// Filters libhdf5 itself may provide; others (LZF 32000, Blosc 32001, Bitshuffle 32008…) are plugins.
private let filterNames: [Int32: String] = [
    1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit",
    6: "scaleoffset", 32000: "lzf", 32001: "blosc", 32004: "lz4",
    32008: "bitshuffle", 32015: "zstd",
]

extension H5Context {
    /// The walk of every dataset below `group` (paths relative to it), in byte-wise name order.
    func datasetPaths(in group: hid_t) throws -> [String] {
        final class Names { var list: [String] = [] }
        let names = Names()
        let visit: H5O_iterate_t = { _, name, info, context in
            if let name, let info, let context, info.pointee.type == H5O_TYPE_DATASET {
                Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(h5String(name))
            }
            return 0
        }
        try check(
            H5Ovisit(group, H5_INDEX_NAME, H5_ITER_INC, visit, Unmanaged.passUnretained(names).toOpaque()),
            "walk the objects of the file")
        return names.list.sorted(by: byteOrder)
    }

    /// The names of the links directly in `group`, in byte-wise order.
    func linkNames(in group: hid_t) throws -> [String] {
        final class Names { var list: [String] = [] }
        let names = Names()
        let visit: H5L_iterate_t = { _, name, _, context in
            if let name, let context {
                Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(h5String(name))
            }
            return 0
        }
        var index: hsize_t = 0
        try check(
            H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, visit, Unmanaged.passUnretained(names).toOpaque()),
            "list the members of a group")
        return names.list.sorted(by: byteOrder)
    }

    /// The type of the object at `path` below `location`, or nil when some component is missing.
    func objectType(at path: String, in location: hid_t) -> H5O_type_t? {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty ? "" : "/") + component
            guard H5Lexists(location, prefix, h5Default) > 0 else { return nil }
        }
        var info = H5O_info_t()
        guard !prefix.isEmpty, H5Oget_info_by_name(location, prefix, &info, h5Default) >= 0 else { return nil }
        return info.type
    }

    /// Opens dataset `path` and classifies it.
    func describe(_ path: String, in location: hid_t, fileSize: Int) throws -> DatasetInfo {
        let d = try own(H5Dopen2(location, path, h5Default), .dataset, "open dataset `\(path)`", tensor: path)
        try checkStoredInFile(d.id, path)
        try checkFilters(d.id, path)
        let dtype = try classify(d.id, path)
        let shape = try datasetShape(d.id, path)
        guard let bytes = shape.checkedByteCount(dtype) else {
            throw CheckpointError(
                .validationOverflow, file: self.path, tensor: path,
                "dataset `\(path)` has shape \(shape), whose size overflows")
        }
        // Stored bytes: contiguous data is all in the file; filtered data can expand by at most ~1032× (deflate).
        let stored = Int(clamping: H5Dget_storage_size(d.id))
        let limit = fileSize.multipliedReportingOverflow(by: 1100)
        if stored > fileSize || (!limit.overflow && bytes > limit.partialValue) {
            throw CheckpointError(
                .truncated, file: self.path, tensor: path,
                "dataset `\(path)` claims \(bytes) bytes (\(stored) stored) but the file has only \(fileSize); the file is truncated or corrupt"
            )
        }
        return DatasetInfo(path: path, dtype: dtype, shape: shape)
    }

    /// Refuses a dataset whose bytes live outside the file: external raw storage (`H5Pget_external_count`) or a
    /// virtual dataset (`H5Pget_layout` = `H5D_VIRTUAL`), naming the first other file. Either would make a crafted
    /// `.h5` carry any file of the machine into the converted checkpoint.
    func checkStoredInFile(_ dataset: hid_t, _ path: String) throws {
        let plist = try own(
            H5Dget_create_plist(dataset), .propertyList, "read the creation properties of `\(path)`", tensor: path)
        func refuse(_ what: String) -> CheckpointError {
            CheckpointError(
                .unsupportedContent, file: self.path, tensor: path,
                "\(what); rmt-convert reads only data stored in the file itself — copy the data into the file (h5py: write `f[name][...]` as a new dataset) and try again"
            )
        }
        var name = [CChar](repeating: 0, count: 1024)
        func text(_ buffer: [CChar]) -> String {  // a NUL-terminated name libhdf5 wrote
            String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        if H5Pget_external_count(plist.id) > 0 {
            _ = H5Pget_external(plist.id, 0, name.count - 1, &name, nil, nil)
            throw refuse("dataset `\(path)` keeps its data in external file `\(text(name))`")
        }
        if H5Pget_layout(plist.id) == H5D_VIRTUAL {
            var dataset = [CChar](repeating: 0, count: 1024)
            _ = H5Pget_virtual_filename(plist.id, 0, &name, name.count - 1)
            _ = H5Pget_virtual_dsetname(plist.id, 0, &dataset, dataset.count - 1)
            throw refuse(
                "dataset `\(path)` is a virtual dataset reading `\(text(dataset))` of `\(text(name))`"
            )
        }
    }

    /// Refuses a file with an external link (or a user-defined link class) anywhere below `group`: following it
    /// would read another file, and skipping it would lose the tensor without a word.
    func refuseLinksOutsideFile(_ group: hid_t) throws {
        var found = chdf5_outside_link()
        try check(chdf5_first_outside_link(group, &found), "walk the links of the file")
        guard found.kind != 0 else { return }
        func text<T>(_ field: inout T) -> String {
            withUnsafeBytes(of: &field) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        let name = text(&found.name)
        throw CheckpointError(
            .unsupportedContent, file: self.path, tensor: name,
            found.kind == 1
                ? "`\(name)` is an external link to `\(text(&found.object))` in `\(text(&found.file))`; rmt-convert reads only data stored in the file itself — copy the linked data into this file and try again"
                : "`\(name)` is a user-defined HDF5 link, which rmt-convert does not follow; replace it by the data it stands for"
        )
    }

    /// Fails with the filter's number and name when libhdf5 cannot decode it (§3.8).
    func checkFilters(_ dataset: hid_t, _ path: String) throws {
        let plist = try own(
            H5Dget_create_plist(dataset), .propertyList, "read the creation properties of `\(path)`", tensor: path)
        let count = H5Pget_nfilters(plist.id)
        guard count > 0 else { return }
        for i in 0..<UInt32(count) {
            var flags: UInt32 = 0, elements = 0, values = [UInt32](repeating: 0, count: 16), config: UInt32 = 0
            var name = [CChar](repeating: 0, count: 64)
            let id = H5Pget_filter2(plist.id, i, &flags, &elements, &values, 64, &name, &config)
            if id < 0 || H5Zfilter_avail(id) <= 0 {
                let label = filterNames[id].map { " (\($0))" } ?? ""
                throw CheckpointError(
                    .unsupportedContent, file: self.path, tensor: path,
                    "dataset `\(path)` uses unsupported filter \(id)\(label); rewrite it without that filter (e.g. h5py with compression=\"gzip\")"
                )
            }
        }
    }

    /// The dtype of a dataset per table 0.2, or an error naming the dataset and its HDF5 type class.
    func classify(_ dataset: hid_t, _ path: String) throws -> DType {
        let type = try own(H5Dget_type(dataset), .datatype, "read the type of `\(path)`", tensor: path)
        let size = H5Tget_size(type.id)
        func refuse(_ what: String) -> CheckpointError {
            CheckpointError(
                .unsupportedDType, file: self.path, tensor: path,
                "dataset `\(path)` holds \(what), not numbers; remove it or convert it to a numeric dataset")
        }
        switch H5Tget_class(type.id) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(type.id) == H5T_SGN_2
            let table: [Int: DType] =
                signed ? [1: .i8, 2: .i16, 4: .i32, 8: .i64] : [1: .u8, 2: .u16, 4: .u32, 8: .u64]
            guard let dtype = table[size] else { throw refuse("\(size)-byte integers") }
            return try declaredDType(dataset, path, stored: dtype)
        case H5T_FLOAT:
            switch size {
            case 4: return .f32
            case 8: return .f64
            case 2:
                var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
                guard H5Tget_fields(type.id, &spos, &epos, &esize, &mpos, &msize) >= 0,
                    (spos, epos, esize, mpos, msize) == (15, 10, 5, 0, 10), H5Tget_ebias(type.id) == 15
                else {
                    throw refuse("a 2-byte float that is not IEEE half precision")
                }
                return .f16
            default: throw refuse("\(size)-byte floats")
            }
        case H5T_ENUM:
            guard isBoolEnum(type.id) else { throw refuse("an enum other than h5py's bool") }
            return .bool
        case H5T_COMPOUND:
            guard isComplex64(type.id) else { throw refuse("a compound type other than h5py's complex64") }
            return .c64
        case H5T_STRING: throw refuse("strings")
        case H5T_VLEN: throw refuse("variable-length sequences")
        case H5T_REFERENCE: throw refuse("object references")
        case H5T_OPAQUE: throw refuse("opaque bytes")
        case H5T_ARRAY: throw refuse("array-typed elements")
        default: throw refuse("an unsupported HDF5 type")
        }
    }

    /// bf16 and float8 stored as unsigned integers with a `dtype` attribute (§3.7).
    private func declaredDType(_ dataset: hid_t, _ path: String, stored: DType) throws -> DType {
        guard stored == .u16 || stored == .u8, hasAttribute(dataset, "dtype"),
            let declared = try readStrings(dataset, "dtype", owner: path).first
        else { return stored }
        let known: [String: DType] = [
            "bfloat16": .bf16, "float8_e4m3fn": .f8E4M3, "float8_e4m3": .f8E4M3, "float8_e5m2": .f8E5M2,
        ]
        guard let dtype = known[declared], dtype.itemSize == stored.itemSize else {
            throw CheckpointError(
                .unsupportedDType, file: self.path, tensor: path,
                "dataset `\(path)` declares dtype `\(declared)`, which rmt-convert does not support on \(stored.rawValue) data"
            )
        }
        return dtype
    }

    private func isBoolEnum(_ type: hid_t) -> Bool {
        guard H5Tget_size(type) == 1, H5Tget_nmembers(type) == 2 else { return false }
        for (i, expected) in ["FALSE", "TRUE"].enumerated() {
            guard let name = H5Tget_member_name(type, UInt32(i)) else { return false }
            defer { H5free_memory(name) }
            var value: Int8 = -1
            guard h5String(name) == expected, H5Tget_member_value(type, UInt32(i), &value) >= 0, Int(value) == i else {
                return false
            }
        }
        return true
    }

    private func isComplex64(_ type: hid_t) -> Bool {
        guard H5Tget_nmembers(type) == 2 else { return false }
        for (i, expected) in ["r", "i"].enumerated() {
            guard let name = H5Tget_member_name(type, UInt32(i)) else { return false }
            defer { H5free_memory(name) }
            let member = H5Tget_member_type(type, UInt32(i))
            guard member >= 0 else { return false }
            defer { H5Tclose(member) }
            guard h5String(name) == expected, H5Tget_class(member) == H5T_FLOAT, H5Tget_size(member) == 4 else {
                return false
            }
        }
        return true
    }

    /// Dimensions of a SCALAR or SIMPLE dataspace.
    func datasetShape(_ dataset: hid_t, _ path: String) throws -> Shape {
        let space = try own(H5Dget_space(dataset), .dataspace, "read the shape of `\(path)`", tensor: path)
        switch H5Sget_simple_extent_type(space.id) {
        case H5S_SCALAR: return Shape([])
        case H5S_SIMPLE:
            let rank = Int(H5Sget_simple_extent_ndims(space.id))
            guard rank >= 0, rank <= 32 else {
                throw CheckpointError(.corrupt, file: self.path, tensor: path, "dataset `\(path)` has rank \(rank)")
            }
            var dims = [hsize_t](repeating: 0, count: max(rank, 1))
            try check(H5Sget_simple_extent_dims(space.id, &dims, nil), "read the shape of `\(path)`", tensor: path)
            return Shape(dims.prefix(rank).map { Int(clamping: $0) })
        default:
            throw CheckpointError(
                .unsupportedContent, file: self.path, tensor: path,
                "dataset `\(path)` has an empty (NULL) dataspace and holds no data")
        }
    }

    /// The memory type for `dtype`: native little-endian; HDF5 converts byte order and float layouts.
    func memoryType(for dtype: DType) throws -> H5Handle {
        switch dtype {
        case .f32: return try copyType(chdf5_T_NATIVE_FLOAT())
        case .f64: return try copyType(chdf5_T_NATIVE_DOUBLE())
        case .f16: return try halfFloatType()
        case .i64: return try copyType(chdf5_T_NATIVE_INT64())
        case .i32: return try copyType(chdf5_T_NATIVE_INT32())
        case .i16: return try copyType(chdf5_T_NATIVE_INT16())
        case .i8: return try copyType(chdf5_T_NATIVE_INT8())
        case .u64: return try copyType(chdf5_T_NATIVE_UINT64())
        case .u32: return try copyType(chdf5_T_NATIVE_UINT32())
        case .u16, .bf16: return try copyType(chdf5_T_NATIVE_UINT16())
        case .u8, .f8E4M3, .f8E5M2: return try copyType(chdf5_T_NATIVE_UINT8())
        case .bool: return try boolEnumType()
        case .c64: return try complex64Type()
        }
    }

    /// Reads dataset `path` (already described) into a new tensor.
    func read(_ info: DatasetInfo, in location: hid_t, name: String) throws -> Tensor {
        let d = try own(H5Dopen2(location, info.path, h5Default), .dataset, "open dataset `\(info.path)`", tensor: name)
        let mem = try memoryType(for: info.dtype)
        let count = info.shape.elementCount * info.dtype.itemSize
        let storage = try TensorStorage(count: count) { buffer in
            guard count > 0 else { return }
            try check(
                H5Dread(d.id, mem.id, H5S_ALL, H5S_ALL, h5Default, buffer.baseAddress), "read dataset `\(info.path)`",
                tensor: name)
        }
        return try Tensor(dtype: info.dtype, shape: info.shape, storage: storage)
    }
}
