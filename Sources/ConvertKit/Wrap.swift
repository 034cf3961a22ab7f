// `wrap`: a pretrained BERT or GPT-2 becomes an RMT checkpoint the reference PyTorch code loads strictly.
import Checkpoints
import Foundation
import RMT

/// What `wrap` wrote.
public struct WrapSummary: Encodable, Sendable {
    public let output: String
    public let variant: String
    public let memoryTokens: Int
    public let segmentSize: Int
    public let inputSize: Int
    public let tensorCount: Int
    public let files: [String]
    public let memoryInit: MemoryInit
    public let initialisedTensors: [String]
    public let notes: [String]

    enum CodingKeys: String, CodingKey {
        case output, variant, files, notes
        case memoryTokens = "memory_tokens", segmentSize = "segment_size", inputSize = "input_size"
        case tensorCount = "tensor_count", memoryInit = "memory_init", initialisedTensors = "initialised_tensors"
    }

    public var text: String {
        var lines = [
            "wrapped as the \(variant) RMT with \(memoryTokens) memory tokens: segment_size \(segmentSize), input_size \(inputSize), \(tensorCount) tensors"
        ]
        lines.append(
            "memory: \(memoryInit.method)\(memoryInit.std.map { String(format: ", std %.6f", $0) } ?? ""), seed \(memoryInit.seed)"
        )
        if !initialisedTensors.isEmpty { lines.append("initialised: \(initialisedTensors.joined(separator: ", "))") }
        lines += notes.map { "note: \($0)" }
        lines.append("wrote \(output): \(files.joined(separator: ", "))")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Wraps the backbone checkpoint folder `backbone` and writes the RMT folder `output` (`RMTModel.wrap`, then
/// `save`).
/// - Throws: `CheckpointError`, `ModelError` or `RMTError` naming the file or setting; nothing is left behind.
public func wrap(_ backbone: Checkpoint, output: String, options: WrapOptions) throws -> WrapSummary {
    let rmt = try RMTModel.wrap(backbone, output: output, options: options)
    let files = try rmt.save(to: output, options: options.export)
    let configuration = rmt.configuration
    return WrapSummary(
        output: output, variant: rmt.variant.rawValue, memoryTokens: options.memoryTokens,
        segmentSize: configuration.segmentSize, inputSize: configuration.inputSize,
        tensorCount: try rmt.checkpoint.stateDict(profile: options.export.profile).tensors.count, files: files,
        memoryInit: configuration.memoryInit!, initialisedTensors: configuration.initialisedTensors ?? [],
        notes: rmt.checkpoint.notes)
}
