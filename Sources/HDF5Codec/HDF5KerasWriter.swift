// Writing the Keras `tf_model.h5` layout (docs/FORMATS.md §3.1, §3.5) from tensors already under TF names.
import CHDF5
import Checkpoints
import TensorCore

extension HDF5Writer {
    /// Keras' version string written to `keras_version`.
    public static let kerasVersion = "2.15.0"

    /// Writes `sources`, named by TF weight names without the model name (`bert/pooler/dense/kernel:0`, as
    /// `TFNamePlan` gives them), as Keras weights of model `modelName`: one layer group per first component
    /// (created in sorted order), `layer_names` in order of first appearance, each group's `weight_names`
    /// in source order, datasets f32 and contiguous at `<layer>/<model>/<name>`.
    /// - Throws: `CheckpointError` for a name without a layer component, a non-float tensor, or I/O failure.
    public static func writeKeras(
        _ sources: [TensorSource], modelName: String, to path: String, overwrite: Bool,
        progress: ((Int) -> Void)? = nil
    ) throws {
        var layers: [String] = []
        var weights: [String: [TensorSource]] = [:]
        for source in sources {
            let name = source.info.name
            guard let slash = name.firstIndex(of: "/"), slash != name.startIndex, !name.hasSuffix("/") else {
                throw CheckpointError(
                    .invalidName, file: path, tensor: name,
                    "`\(name)` is not a TF weight name (`<layer>/…/<variable>:0`); convert with --names tf")
            }
            guard source.info.dtype.isCastableFloat else {
                throw CheckpointError(
                    .unsupportedDType, file: path, tensor: name,
                    "Keras weights are f32 but `\(name)` is \(source.info.dtype.rawValue); drop it or use the generic layout (--names keep)"
                )
            }
            let layer = String(name[..<slash])
            if weights[layer] == nil { layers.append(layer) }
            weights[layer, default: []].append(source)
        }
        try validateNames(sources.map { "\(modelName)/\($0.info.name)" }, file: path)
        try withTemporaryFile(path, overwrite: overwrite, estimatedSize: estimatedSize(sources)) { context, file in
            try context.writeStringList(file, "layer_names", layers)
            try context.writeVariableStrings(file, "backend", ["tensorflow"], scalar: true)
            try context.writeVariableStrings(file, "keras_version", [kerasVersion], scalar: true)
            var groups: [String: H5Handle] = [:]
            for layer in layers.sorted(by: byteOrder) {
                groups[layer] = try context.own(
                    H5Gcreate2(file, layer, h5Default, h5Default, h5Default), .group,
                    "create layer group `\(layer)`", errorKind: .io)
            }
            var done = 0
            for layer in layers {
                guard let group = groups[layer], let members = weights[layer] else { continue }
                let full = members.map { "\(modelName)/\($0.info.name)" }
                try context.writeStringList(group.id, "weight_names", full)
                for (source, name) in zip(members, full) {
                    let f32 = source.converted(to: .f32)
                    try context.writeDataset(f32, at: name, in: group.id, compress: false, level: 4)
                    done += f32.info.byteCount
                    progress?(done)
                }
            }
        }
    }
}
