// A network's parameters seen as a tensor archive under their checkpoint keys, so that a trained network goes out
// through the same export path as a loaded one (`RMTCheckpoint.stateDict`, `RMTModel.save`, docs/RMT.md §5.7).
import Checkpoints
import Models
import TensorCore

/// The backbone parameters of a network as a `TensorArchive`: one tensor per `Parameter.Part`, under the key it was
/// loaded under, plus aliases listed as tensors of their own (the decoder's tied `lm_head.weight`), the way
/// `RMTCheckpoint` lists a checkpoint's backbone. Reading a tensor copies its values; until then nothing is copied
/// (the parameters are copy-on-write values).
final class ParameterArchive: TensorArchive {
    let path: String
    var format: CheckpointFormat { .safetensors }
    let tensorInfos: [TensorInfo]
    private let entries: [String: (parameter: Parameter, part: Parameter.Part)]

    /// - Parameters:
    ///   - parameters: the parameters, in order.
    ///   - aliases: (name, key of the part it repeats).
    ///   - path: how errors name the archive.
    init(_ parameters: [Parameter], aliases: [(name: String, key: String)] = [], path: String) {
        var entries: [String: (parameter: Parameter, part: Parameter.Part)] = [:]
        var infos: [TensorInfo] = []
        for p in parameters {
            for part in p.parts {
                entries[part.key] = (p, part)
                infos.append(TensorInfo(name: part.key, dtype: .f32, shape: Shape(part.shape)))
            }
        }
        for (name, key) in aliases {
            guard let entry = entries[key] else { continue }
            entries[name] = entry
            infos.append(TensorInfo(name: name, dtype: .f32, shape: Shape(entry.part.shape)))
        }
        self.path = path
        self.entries = entries
        tensorInfos = infos
    }

    func tensor(named name: String) throws -> Tensor {
        guard let (parameter, part) = entries[name] else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        return Tensor(Array(parameter.values(of: part)), shape: Shape(part.shape))
    }
}
