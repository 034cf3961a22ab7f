// Writing HDF5: rmt-convert's generic layout (docs/FORMATS.md §3.7) and the Keras `tf_model.h5` layout (§3.5).
import CHDF5
import Checkpoints
import TensorCore

/// Writes HDF5 files atomically, one tensor at a time.
///
/// HDF5 writes through its own file handle, so the writer takes a temporary name from `AtomicFileWriter`
/// (hidden, in the destination's folder), lets libhdf5 create and lay out that file (the data of uncompressed
/// datasets goes straight into the room it allocates, through the writer's handle), closes it, then commits
/// (fsync + rename). Any failure removes the temporary file and leaves the destination untouched.
public enum HDF5Writer {
    /// Writes `sources` in the generic layout: one dataset per tensor at the path equal to its name, root
    /// attributes `rmt_convert_format` = `tensors/1` and `metadata` (a JSON object) when given.
    /// - Parameters:
    ///   - compress: chunked datasets with shuffle and deflate at `level` (scalars and empty tensors stay contiguous).
    ///   - progress: called with the cumulative bytes written after each tensor.
    /// - Throws: `CheckpointError` for an invalid name (§3.7 rules) or an I/O failure.
    public static func write(
        _ sources: [TensorSource], metadata: [(key: String, value: String)]?, to path: String,
        overwrite: Bool, compress: Bool = false, level: Int = 4,
        progress: ((Int) -> Void)? = nil
    ) throws {
        try validateNames(sources.map(\.info.name), file: path)
        guard (1...9).contains(level) else {
            throw CheckpointError(.invalidArgument, file: path, "compression level \(level) is outside 1–9")
        }
        try withTemporaryFile(path, overwrite: overwrite, estimatedSize: estimatedSize(sources)) { context, file in
            try context.writeVariableStrings(file, "rmt_convert_format", ["tensors/1"], scalar: true)
            if let metadata, !metadata.isEmpty {
                let json = JSONValue.object(metadata.map { ($0.key, JSONValue.string($0.value)) })
                let text = String(decoding: json.compactBytes(), as: UTF8.self)
                try context.writeVariableStrings(file, "metadata", [text], scalar: true, utf8: true)
            }
            var done = 0
            for source in sources {
                try context.writeDataset(source, at: source.info.name, in: file, compress: compress, level: level)
                done += source.info.byteCount
                progress?(done)
            }
        }
    }

    /// The §3.7 name rules: the policy of every writer (`TensorNamePolicy`: not empty, no `..` component, not
    /// absolute, no control characters) plus HDF5's group paths: no trailing `/`, no `//`, no `.` component, and
    /// no name that is also a group prefix of another.
    static func validateNames(_ names: [String], file: String) throws {
        try TensorNamePolicy.check(names, file: file, hierarchical: true)
    }

    /// An upper bound of the output size: the uncompressed data plus room for HDF5's metadata.
    static func estimatedSize(_ sources: [TensorSource]) -> Int {
        sources.reduce(1 << 20) { $0 &+ $1.info.byteCount &+ 4096 }
    }

    /// Creates the output under a temporary name, runs `body`, closes the file and renames it into place.
    /// libhdf5 cannot recover from a failed write (the file stays open and the library crashes at exit), so
    /// room for `estimatedSize` bytes is checked first, where a full disk is still a clean error.
    static func withTemporaryFile(
        _ path: String, overwrite: Bool, estimatedSize: Int = 0,
        _ body: (H5Context, hid_t) throws -> Void
    ) throws {
        let out = try AtomicFileWriter(destination: path, overwrite: overwrite)
        do {
            if estimatedSize > 0 { try out.checkSpace(estimatedSize) }
            H5Context.silenceErrorStack()
            let context = H5Context(path: path, output: out)
            let file = try context.own(
                H5Fcreate(out.temporaryPath, chdf5_F_ACC_TRUNC(), h5Default, h5Default), .file,
                "create a file in the output folder", errorKind: .io)
            try body(context, file.id)
            try context.check(H5Fflush(file.id, H5F_SCOPE_GLOBAL), "flush the output", errorKind: .io)
            try context.check(file.close(), "close the output", errorKind: .io)
            try out.commit()
        } catch {
            out.abort()
            throw error
        }
    }
}

extension H5Context {
    /// The file type of `dtype` (table 0.2) and, for types without an HDF5 counterpart, the `dtype` attribute.
    func fileType(for dtype: DType) throws -> (type: H5Handle, declared: String?) {
        switch dtype {
        case .f32: return (try copyType(chdf5_T_IEEE_F32LE()), nil)
        case .f64: return (try copyType(chdf5_T_IEEE_F64LE()), nil)
        case .f16: return (try halfFloatType(), nil)
        case .i64: return (try copyType(chdf5_T_STD_I64LE()), nil)
        case .i32: return (try copyType(chdf5_T_STD_I32LE()), nil)
        case .i16: return (try copyType(chdf5_T_STD_I16LE()), nil)
        case .i8: return (try copyType(chdf5_T_STD_I8LE()), nil)
        case .u64: return (try copyType(chdf5_T_STD_U64LE()), nil)
        case .u32: return (try copyType(chdf5_T_STD_U32LE()), nil)
        case .u16: return (try copyType(chdf5_T_STD_U16LE()), nil)
        case .u8: return (try copyType(chdf5_T_STD_U8LE()), nil)
        case .bool: return (try boolEnumType(), nil)
        case .c64: return (try complex64Type(), nil)
        case .bf16: return (try copyType(chdf5_T_STD_U16LE()), "bfloat16")
        case .f8E4M3: return (try copyType(chdf5_T_STD_U8LE()), "float8_e4m3fn")
        case .f8E5M2: return (try copyType(chdf5_T_STD_U8LE()), "float8_e5m2")
        }
    }

    /// Writes `tensor` as dataset `path` below `location`, creating intermediate groups.
    func writeDataset(_ tensor: Tensor, at path: String, in location: hid_t, compress: Bool, level: Int) throws {
        try writeDataset(
            TensorSource(name: path, tensor: tensor), at: path, in: location, compress: compress, level: level)
    }

    /// Writes `source` as dataset `path` below `location`, creating intermediate groups, streaming the data so a
    /// mapped or cast source is never resident at once. An uncompressed dataset's storage is allocated when it
    /// is created and the data goes there straight from the source (`writeDirectly`); a compressed one is written
    /// in blocks of whole rows (first dimension) of about `blockBytes` (whole chunks), each through a hyperslab.
    func writeDataset(
        _ source: TensorSource, at path: String, in location: hid_t, compress: Bool, level: Int,
        blockBytes: Int = H5Context.rowBlockBytes
    ) throws {
        let info = source.info
        let (type, declared) = try fileType(for: info.dtype)
        let memory = try memoryType(for: info.dtype)
        let dims = info.shape.dimensions
        var sizes = dims.map { hsize_t($0) }
        let space = try own(
            sizes.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(sizes.count), &sizes, nil),
            .dataspace, "create the dataspace of `\(path)`", tensor: path, errorKind: .io)
        let links = try own(H5Pcreate(chdf5_P_LINK_CREATE()), .propertyList, "create link properties", errorKind: .io)
        try check(H5Pset_create_intermediate_group(links.id, 1), "set link properties", errorKind: .io)
        if path.utf8.contains(where: { $0 >= 0x80 }) {
            try check(H5Pset_char_encoding(links.id, H5T_CSET_UTF8), "set link properties", errorKind: .io)
        }
        let creation = try own(
            H5Pcreate(chdf5_P_DATASET_CREATE()), .propertyList, "create dataset properties", errorKind: .io)
        var chunkRows = 1
        if compress, info.shape.rank > 0, info.shape.elementCount > 0 {
            var chunk = chunkShape(dims, itemSize: info.dtype.itemSize).map { hsize_t($0) }
            chunkRows = Int(chunk[0])
            try check(
                H5Pset_chunk(creation.id, Int32(chunk.count), &chunk), "set the chunk shape of `\(path)`", tensor: path,
                errorKind: .io)
            try check(H5Pset_shuffle(creation.id), "enable shuffle", tensor: path, errorKind: .io)
            try check(H5Pset_deflate(creation.id, UInt32(level)), "enable deflate", tensor: path, errorKind: .io)
        }
        let direct = !compress && !dims.isEmpty && info.byteCount > 0
        if direct {
            try check(
                H5Pset_alloc_time(creation.id, H5D_ALLOC_TIME_EARLY), "set the allocation time of `\(path)`",
                tensor: path, errorKind: .io)
            try check(
                H5Pset_fill_time(creation.id, H5D_FILL_TIME_NEVER), "set the fill time of `\(path)`", tensor: path,
                errorKind: .io)
        }
        let d = try own(
            H5Dcreate2(location, path, type.id, space.id, links.id, creation.id, h5Default), .dataset,
            "create dataset `\(path)`", tensor: path, errorKind: .io)
        if let declared { try writeVariableStrings(d.id, "dtype", [declared], scalar: true) }
        if direct { return try writeDirectly(source, dataset: d.id, at: path) }
        let rowBytes = dims.dropFirst().reduce(info.dtype.itemSize, *)  // one index of the first dimension
        guard info.byteCount > 0, rowBytes > 0 else { _ = try source.loadChecked(file: self.path); return }
        let rowsPerBlock = max(1, blockBytes / rowBytes / chunkRows) * chunkRows
        var row = 0
        try source.forEachChunk(file: self.path, ofSize: rowsPerBlock * rowBytes) { block in
            if dims.isEmpty {
                try check(
                    H5Dwrite(d.id, memory.id, H5S_ALL, H5S_ALL, h5Default, block.baseAddress),
                    "write dataset `\(path)`", tensor: path, errorKind: .io)
                return
            }
            let rows = block.count / rowBytes
            var start = [hsize_t(row)] + [hsize_t](repeating: 0, count: dims.count - 1)
            var count = [hsize_t(rows)] + sizes.dropFirst()
            try check(
                H5Sselect_hyperslab(space.id, H5S_SELECT_SET, &start, nil, &count, nil),
                "select rows of `\(path)`", tensor: path, errorKind: .io)
            let blockSpace = try own(
                H5Screate_simple(Int32(count.count), &count, nil), .dataspace,
                "create the dataspace of a block of `\(path)`", tensor: path, errorKind: .io)
            try check(
                H5Dwrite(d.id, memory.id, blockSpace.id, space.id, h5Default, block.baseAddress),
                "write dataset `\(path)`", tensor: path, errorKind: .io)
            row += rows
            output?.noteLibraryWrite(block.count)
        }
    }
}

extension H5Context {
    /// Streams `source` into the storage HDF5 allocated for the contiguous `dataset` when creating it, through the
    /// output's own handle: the file types are little-endian with the tensor's layout (table 0.2), so these are
    /// the bytes `H5Dwrite` would copy there, and HDF5 never touches that region again.
    /// - Throws: `CheckpointError(.io)` when no output is being written or the storage is not where it should be.
    private func writeDirectly(_ source: TensorSource, dataset: hid_t, at path: String) throws {
        let address = H5Dget_offset(dataset)  // HADDR_UNDEF (all ones) when nothing is allocated
        guard let output, address != haddr_t.max, let start = Int(exactly: address),
            H5Dget_storage_size(dataset) == UInt64(source.info.byteCount)
        else {
            throw CheckpointError(
                .io, file: self.path, tensor: path, "HDF5 allocated no contiguous storage for `\(path)`")
        }
        var offset = start
        try source.forEachChunk(file: self.path) { chunk in
            try output.writeRegion(chunk, at: offset)
            offset += chunk.count
        }
    }

    /// Bytes of whole rows written per `H5Dwrite` (1 MiB, as `AtomicFileWriter` writes).
    static let rowBlockBytes = 1 << 20
}

/// Chunk dimensions of about 1 MiB (§3.7): the whole dataset when smaller, else split along the first
/// dimension, then the next ones when a single slice is still larger. Every chunk dimension is ≥ 1.
func chunkShape(_ dims: [Int], itemSize: Int, target: Int = 1 << 20) -> [Int] {
    let total = dims.reduce(itemSize) { $0.multipliedReportingOverflow(by: $1).partialValue }
    guard total > target else { return dims.map { max($0, 1) } }
    var chunk = dims
    for axis in dims.indices {
        let inner = chunk[(axis + 1)...].reduce(itemSize, *)
        if inner <= target {
            chunk[axis] = max(1, min(dims[axis], target / inner))
            return chunk
        }
        chunk[axis] = 1
    }
    return chunk
}
