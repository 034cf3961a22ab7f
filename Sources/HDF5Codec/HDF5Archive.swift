// Reading any HDF5 file as named tensors: the Keras `tf_model.h5` layout or the generic layout (docs/FORMATS.md §3).
import CHDF5
import Checkpoints
import KeyMaps
import TensorCore
#if canImport(Glibc)
    import Glibc
#endif

/// An HDF5 file opened as a `TensorArchive`.
///
/// Keras weight files (root or `model_weights` with `layer_names`) are read through the TF → PyTorch name maps
/// the caller passes (the model families' `KeyMap`s; this target knows no family): names come out as Hugging
/// Face PyTorch keys, kernels transposed, GPT-2 biases reshaped, tied heads as aliases, all listed in `notes`.
/// Names no map covers follow the generic rules of docs/FORMATS.md §3.4. Any other file is read as one tensor per
/// dataset, named by its path, in byte-wise name order. The file stays open until the archive is released; reads
/// copy the data.
///
/// Only bytes stored in the file itself are read: a file holding an external link (to an object of another file),
/// a dataset with external raw storage (its bytes in other files, e.g. `/etc/passwd`) or a virtual dataset (its
/// bytes mapped from datasets of other files) is refused when it opens, naming the link or dataset.
public final class HDF5Archive: TensorArchive {
    public let path: String
    public var format: CheckpointFormat { .hdf5 }
    public internal(set) var tensorInfos: [TensorInfo] = []
    public internal(set) var metadata: [(key: String, value: String)] = []
    public internal(set) var aliases: [UTF8Key: String] = [:]
    public internal(set) var notes: [String] = []
    /// True when the file is in the Keras weights layout.
    public internal(set) var isKerasLayout = false

    /// How to produce one tensor.
    struct Entry {
        let dataset: DatasetInfo
        let transform: KeyTransform
    }

    let context: H5Context
    let file: H5Handle
    var entries: [UTF8Key: Entry] = [:]
    /// The name maps Keras weight names are read through.
    let keyMaps: [KeyMap]

    /// Opens `path` and indexes every tensor (validating types, filters and shapes).
    /// - Parameter keyMaps: the families' name maps for Keras files; without them only the generic rules apply.
    /// - Throws: `CheckpointError`: not HDF5, an unsupported dataset (named), a broken Keras layout.
    public init(path: String, keyMaps: [KeyMap] = []) throws {
        self.path = path
        self.keyMaps = keyMaps
        H5Context.silenceErrorStack()
        context = H5Context(path: path)
        // libhdf5 opens the path itself: check first that it is a regular file (a FIFO would block it).
        do { try InputFile.checkRegular(path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        guard H5Fis_hdf5(path) > 0 else {
            throw CheckpointError(
                .formatMismatch, file: path, "is not an HDF5 file (no HDF5 signature); check the file or pass --format")
        }
        file = try context.own(H5Fopen(path, chdf5_F_ACC_RDONLY(), h5Default), .file, "open the file (is it complete?)")
        var st = stat()
        let fileSize = stat(path, &st) == 0 ? Int(st.st_size) : 0
        let root = try context.own(H5Gopen2(file.id, "/", h5Default), .group, "open the root group")
        try context.refuseLinksOutsideFile(root.id)
        if let kerasRoot = try kerasRootPath(root.id) {
            isKerasLayout = true
            try indexKeras(rootPath: kerasRoot, fileSize: fileSize)
        } else {
            try indexGeneric(root.id, fileSize: fileSize)
        }
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let entry = entries[UTF8Key(name)] else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        let raw = try context.read(entry.dataset, in: file.id, name: name)
        return try entry.transform.toPyTorch(raw, file: path, tensor: entry.dataset.path)
    }

    /// `/` or `model_weights` when that group carries `layer_names`; nil for other layouts.
    private func kerasRootPath(_ root: hid_t) throws -> String? {
        if context.hasAttribute(root, "layer_names") || context.hasAttribute(root, "layer_names0") { return "" }
        guard context.objectType(at: "model_weights", in: root) == H5O_TYPE_GROUP else { return nil }
        let g = try context.own(H5Gopen2(root, "model_weights", h5Default), .group, "open group `model_weights`")
        let has = context.hasAttribute(g.id, "layer_names") || context.hasAttribute(g.id, "layer_names0")
        return has ? "model_weights" : nil
    }

    /// The generic layout (§3.7): every dataset, `rmt_convert_format` and `metadata` root attributes.
    private func indexGeneric(_ root: hid_t, fileSize: Int) throws {
        if context.hasAttribute(root, "rmt_convert_format") {
            let marker = try context.readStrings(root, "rmt_convert_format", owner: "/").first ?? ""
            guard marker == "tensors/1" else {
                throw CheckpointError(
                    .unsupportedContent, file: path, tensor: "rmt_convert_format",
                    "rmt_convert_format is `\(marker)`, this build reads `tensors/1`; use a newer rmt-convert")
            }
        } else {
            notes.append("no rmt_convert_format attribute: every dataset read as a tensor named by its path")
        }
        if context.hasAttribute(root, "metadata"),
            let text = try context.readStrings(root, "metadata", owner: "/").first
        {
            metadata = try parseMetadata(text)
        }
        for datasetPath in try context.datasetPaths(in: root) {
            let info = try context.describe(datasetPath, in: root, fileSize: fileSize)
            entries[UTF8Key(datasetPath)] = Entry(dataset: info, transform: .none)
            tensorInfos.append(TensorInfo(name: datasetPath, dtype: info.dtype, shape: info.shape))
        }
    }

    private func parseMetadata(_ text: String) throws -> [(key: String, value: String)] {
        guard case .object(let members)? = try? JSONValue.parse(text) else {
            throw CheckpointError(
                .corrupt, file: path, tensor: "metadata",
                "root attribute `metadata` is not a JSON object; fix or remove it")
        }
        return try members.map { member in
            guard let value = member.value.stringValue else {
                throw CheckpointError(
                    .corrupt, file: path, tensor: "metadata", "metadata value of `\(member.key)` is not a string")
            }
            return (member.key, value)
        }
    }
}
