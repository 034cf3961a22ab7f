// `run` on an RMT folder: inputs from files or text, outputs to a tensor file. The pipeline itself is
// `RMTModel.run` (docs/ARCHITECTURE.md draws the path).
import Checkpoints
import Foundation
import Models
import RMT
import TensorCore
import TextTokenizers

extension RMTInputs {
    /// Reads ids (`[T]` or `[B, T]`, any integer dtype) and the optional attention mask, labels and labels mask
    /// from `.npy`, `.npz` or `.safetensors` files (a file with several tensors gives the one of that name).
    public static func read(inputIds: String, attentionMask: String?, labels: String?, labelsMask: String?) throws
        -> RMTInputs
    {
        let base = try RunInputs.read(inputIds: inputIds, attentionMask: attentionMask)
        func values(_ name: String, _ path: String?) throws -> [Int]? {
            guard let path else { return nil }
            return try RunInputs.tensor(name, in: path).int64Values().map { Int(truncatingIfNeeded: $0) }
        }
        return try RMTInputs(
            ids: base.inputIds, batch: base.batch, length: base.length, attentionMask: base.attentionMask,
            labels: try values("labels", labels), labelsMask: try values("labels_mask", labelsMask)?.map { $0 != 0 })
    }

    /// Tokenizes `texts` (one sample each) and left-pads them to the longest with a padding mask, as the
    /// reference's language-modelling data pads (the encoder strips padding and special tokens anyway).
    /// - Parameter labels: a file with `labels`, read as for `read(inputIds:…)`.
    public static func fromTexts(_ texts: [String], tokenizer: any TextTokenizer, labels: String?) throws -> RMTInputs {
        let rows = texts.map { tokenizer.encode($0) }
        let T = rows.map(\.count).max() ?? 0
        let ids = rows.flatMap { [Int](repeating: 0, count: T - $0.count) + $0 }
        let mask = rows.flatMap { [Float](repeating: 0, count: T - $0.count) + [Float](repeating: 1, count: $0.count) }
        return try RMTInputs(
            ids: ids, batch: rows.count, length: T, attentionMask: rows.contains { $0.count < T } ? mask : nil,
            labels: try labels.map {
                try RunInputs.tensor("labels", in: $0).int64Values().map { Int(truncatingIfNeeded: $0) }
            })
    }
}

/// Runs the RMT at `path` and writes its outputs (`logits`, `memory_states`, `loss`, `losses`) to `output`.
/// - Parameters:
///   - keepLogits: false drops the decoder's `[B, T, V]` logits (for very long inputs).
///   - generate: decoder only: also greedily generate this many tokens after the input (`generated_ids`).
///   - progress: told the segments done.
public func runRMTToFile(
    _ path: String, inputs: RMTInputs, output: String, keepLogits: Bool, force: Bool,
    generate: Int? = nil, progress: ProgressHandler? = nil
) throws -> RunSummary {
    guard let format = ArchiveOpener.format(forExtensionOf: output) else {
        throw CheckpointError(
            .unknownFormat, file: output, "cannot tell the output format from the extension; use .safetensors or .npz")
    }
    try refuseExistingOutputs([output], force: force)
    let rmt = try RMTModel.load(folder: path)
    let start = Date()
    var started = false
    let result = try rmt.run(inputs, keepLogits: keepLogits) { done, total in
        if !started { progress?(.started(label: "segments", total: total, unit: .segments)) }
        started = true
        progress?(.advanced(done: done))
    }
    if started { progress?(.finished) }
    var outputs = try result.namedOutputs()
    if let generate {
        let ids = try rmt.generate(inputs, maxNewTokens: generate)
        outputs.append(
            NamedOutput(name: "generated_ids", tensor: try int64Tensor(ids.values, shape: [ids.batch, ids.length])))
    }
    let seconds = Date().timeIntervalSince(start)
    try ArchiveRegistry.write(
        outputs.map { TensorSource(name: $0.name, tensor: $0.tensor) }, format: format, to: output,
        options: WriteOptions(overwrite: force, metadata: nil))
    let tokens = inputs.batch * inputs.length
    return RunSummary(
        model: path,
        architecture: "RMT \(rmt.variant.rawValue) (\(result.segments) segments, \(tokens) tokens)",
        output: output, outputs: outputs.map { .init(name: $0.name, shape: $0.tensor.shape.dimensions) },
        seconds: seconds, repetitions: 1, notes: result.notes)
}
