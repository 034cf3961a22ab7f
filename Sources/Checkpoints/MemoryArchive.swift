// Tensors already in memory, seen through the TensorArchive interface.
import TensorCore

/// An archive over tensors held in memory: lets models and writers consume computed state dicts (RMT
/// checkpoints, wrapped backbones) exactly as they consume files.
public final class MemoryArchive: TensorArchive {
    public let path: String
    public let format: CheckpointFormat
    public let tensorInfos: [TensorInfo]
    public let aliases: [UTF8Key: String]
    private let tensors: [UTF8Key: Tensor]

    /// - Parameters:
    ///   - tensors: name → tensor, in the order given.
    ///   - aliases: alias → stored name; both must name tensors of `tensors` or the alias is refused.
    ///   - path: how errors name this archive.
    public init(
        _ tensors: [(name: String, tensor: Tensor)], aliases: [UTF8Key: String] = [:], path: String,
        format: CheckpointFormat = .safetensors
    ) {
        self.path = path
        self.format = format
        tensorInfos = tensors.map { TensorInfo(name: $0.name, dtype: $0.tensor.dtype, shape: $0.tensor.shape) }
        self.tensors = Dictionary(
            tensors.map { (UTF8Key($0.name), $0.tensor) }, uniquingKeysWith: { first, _ in first })
        self.aliases = aliases
    }

    public func tensor(named name: String) throws -> Tensor {
        if let t = tensors[UTF8Key(name)] ?? aliases[UTF8Key(name)].flatMap({ tensors[UTF8Key($0)] }) { return t }
        throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
    }
}
