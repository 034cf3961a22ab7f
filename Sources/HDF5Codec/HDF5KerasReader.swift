// Indexing the Keras weights layout (docs/FORMATS.md §3.1, §3.4, §3.6) through the KeyMaps TF → PyTorch plan.
import CHDF5
import Checkpoints
import KeyMaps
import TensorCore

extension HDF5Archive {
    /// One weight found through `layer_names` / `weight_names`.
    private struct FoundWeight {
        /// Dataset path from the file root.
        let datasetPath: String
        /// The weight name without its model-name component.
        let tfName: String
        let modelName: String
    }

    /// Indexes the layer groups below `rootPath` (`""` for the file root, or `model_weights`).
    func indexKeras(rootPath: String, fileSize: Int) throws {
        let owner = rootPath.isEmpty ? "/" : rootPath
        let prefix = rootPath.isEmpty ? "" : rootPath + "/"
        let root = try context.own(H5Gopen2(file.id, owner, h5Default), .group, "open group `\(owner)`")
        let layers = try context.readStringList(root.id, "layer_names", owner: owner) ?? []
        var found: [FoundWeight] = []
        for layer in layers {
            switch context.objectType(at: layer, in: root.id) {
            case H5O_TYPE_GROUP?:
                found += try weights(ofLayer: layer, in: root.id, prefix: prefix)
            case H5O_TYPE_DATASET?:
                // Sharded TF files (§3.6): the entry is the weight path itself, model name already stripped.
                found.append(FoundWeight(datasetPath: prefix + layer, tfName: layer, modelName: ""))
            default:
                throw CheckpointError(
                    .corrupt, file: path, tensor: layer,
                    "layer_names lists `\(layer)` but the file has no such group; the file is incomplete or was edited")
            }
        }
        if rootPath == "model_weights" { notes.append("Keras model file: weights read from group `model_weights`") }
        let listed = Set(layers.map { UTF8Key($0) })
        for member in try context.linkNames(in: root.id) where !listed.contains(UTF8Key(member)) {
            notes.append("ignored `\(member)`: not in layer_names")
        }

        let plan = try PyTorchNamePlan.fromTF(
            found.map(\.tfName), modelNames: Set(found.map(\.modelName)), maps: keyMaps, file: path)
        for (entry, weight) in zip(plan.entries, found) {
            let dataset = try context.describe(weight.datasetPath, in: file.id, fileSize: fileSize)
            let shape = try entry.transform.pytorchShape(forTF: dataset.shape, file: path, tensor: weight.datasetPath)
            entries[UTF8Key(entry.key)] = Entry(dataset: dataset, transform: entry.transform)
            tensorInfos.append(TensorInfo(name: entry.key, dtype: dataset.dtype, shape: shape))
        }
        aliases = plan.aliases
        notes += plan.notes
    }

    /// The weights of one layer group: its `weight_names` (any encoding, possibly chunked), or every dataset
    /// below it when the attribute is missing. Weightless layers (Dropout) give none.
    private func weights(ofLayer layer: String, in root: hid_t, prefix: String) throws -> [FoundWeight] {
        let group = try context.own(
            H5Gopen2(root, layer, h5Default), .group, "open layer group `\(layer)`", tensor: layer)
        let names: [String]
        if let listed = try context.readStringList(group.id, "weight_names", owner: layer) {
            names = listed
        } else {
            names = try context.datasetPaths(in: group.id)
            if !names.isEmpty {
                notes.append("layer `\(layer)` has no weight_names: its datasets were read in name order")
            }
        }
        return try names.map { name in
            guard context.objectType(at: name, in: group.id) == H5O_TYPE_DATASET else {
                throw CheckpointError(
                    .corrupt, file: path, tensor: name,
                    "weight_names of layer `\(layer)` lists `\(name)` but the file has no such dataset; the file is incomplete"
                )
            }
            let split = splitModelName(name)
            return FoundWeight(
                datasetPath: "\(prefix)\(layer)/\(name)", tfName: split?.rest ?? name, modelName: split?.model ?? "")
        }
    }
}
