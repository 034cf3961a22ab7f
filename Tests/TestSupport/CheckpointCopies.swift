// Copies of fixture checkpoint folders with tensors added, for tests of names a fixture does not hold.
import Checkpoints
import Foundation
import TensorCore

extension Fixtures {
    /// Copies the checkpoint folder `source` to `target`, adding to its `model.safetensors` one tensor `[i + 1]` of
    /// shape [1] for the i-th name of `extra`.
    public static func copyCheckpoint(_ source: String, to target: String, adding extra: [String]) throws {
        try FileManager.default.copyItem(atPath: source, toPath: target)
        let weights = "\(target)/model.safetensors"
        let archive = try SafetensorsArchive(path: weights)
        var sources = try archive.tensorNames.map { TensorSource(name: $0, tensor: try archive.tensor(named: $0)) }
        sources += extra.enumerated().map { TensorSource(name: $1, tensor: Tensor([Float($0 + 1)], shape: [1])) }
        try SafetensorsWriter.write(sources, metadata: [("format", "pt")], to: weights, overwrite: true)
    }
}
