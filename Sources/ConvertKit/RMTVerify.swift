// `verify` for RMT checkpoints: every case of a fixture made by tools/rmt_reference.py.
import Checkpoints
import Foundation
import Models
import RMT
import TensorCore

/// Runs `rmt` on each case of the fixture folder `dir` (`cases.json` + `cases.safetensors`) and compares the
/// concatenated logits, every memory state and the loss(es) with the reference's.
/// - Throws: `CheckpointError` for a malformed fixture; a mismatch is reported in the result, not thrown.
public func verifyRMT(_ rmt: LoadedRMT, fixture dir: String) throws -> VerifyReport {
    let specPath = "\(dir)/cases.json"
    guard let spec = try Checkpoint.readJSON(specPath) else {
        throw CheckpointError(
            .io, file: specPath, "no cases.json in the fixture folder; make one with tools/rmt_reference.py")
    }
    guard case .array(let cases)? = spec["cases"], let tolerance = spec["tolerance"]?.doubleValue else {
        throw CheckpointError(
            .configuration, file: specPath, tensor: "cases", "needs `cases` (a list) and `tolerance` (a number)")
    }
    let data = try ArchiveRegistry.open("\(dir)/cases.safetensors")
    func optional(_ name: String) throws -> Tensor? {
        data.tensorNames.contains(name) ? try data.tensor(named: name) : nil
    }
    var comparisons: [OutputComparison] = []
    for c in cases {
        guard let name = c["name"]?.stringValue else {
            throw CheckpointError(.configuration, file: specPath, tensor: "cases", "every case needs a `name`")
        }
        let ids = try data.tensor(named: "\(name).input_ids")
        guard ids.shape.rank == 2 else {
            throw CheckpointError(
                .configuration, file: dir, tensor: "\(name).input_ids", "must be [B, T], got \(ids.shape)")
        }
        let inputs = RMTInputs(
            ids: try ids.int64Values(), batch: ids.shape[0], length: ids.shape[1],
            attentionMask: try optional("\(name).attention_mask")?.floatValues(),
            labels: try optional("\(name).labels")?.int64Values(),
            labelsMask: try optional("\(name).labels_mask")?.int64Values().map { $0 != 0 })
        let alignment = c["segment_alignment"]?.stringValue.flatMap(SegmentAlignment.init(rawValue:))
        let model = try rmt.withAlignment(alignment)
        var outputs: [NamedOutput]
        if let n = c["max_new_tokens"]?.integerValue {
            outputs = [try generateRMT(model, inputs: inputs, maxNewTokens: n)]
        } else {
            outputs = try runRMT(model, inputs: inputs).outputs
        }
        for output in outputs {
            guard let reference = try optional("\(name).\(output.name)") else { continue }
            let label = "\(name).\(output.name)"
            guard reference.shape == output.tensor.shape else {
                comparisons.append(
                    OutputComparison(
                        name: label, shape: output.tensor.shape.dimensions, maxAbsError: .infinity,
                        maxRelativeError: .infinity, passed: false))
                continue
            }
            let (abs, rel) = compare(try output.tensor.floatValues(), try reference.floatValues())
            comparisons.append(
                OutputComparison(
                    name: label, shape: output.tensor.shape.dimensions, maxAbsError: abs,
                    maxRelativeError: rel, passed: abs <= tolerance))
        }
    }
    return VerifyReport(
        model: rmt.path, fixture: dir, architecture: "RMT \(rmt.configuration.variant.rawValue)",
        tolerance: tolerance, outputs: comparisons)
}

extension LoadedRMT {
    /// The same RMT with another segment alignment (fixtures exercise all three on one checkpoint).
    public func withAlignment(_ alignment: SegmentAlignment?) throws -> LoadedRMT {
        guard let alignment, alignment != configuration.segmentAlignment else { return self }
        var config = configuration
        config.segmentAlignment = alignment
        let rebuilt: Wrapper
        switch wrapper {
        case .decoder(let d):
            rebuilt = .decoder(
                try DecoderRMT(
                    backbone: d.backbone, memory: d.memory, memoryTokens: d.memoryTokens,
                    segmentSize: d.segmentSize, alignment: alignment))
        case .encoder(let e):
            let s = e.segmentation
            rebuilt = .encoder(
                try EncoderRMT(
                    backbone: e.backbone,
                    segmentation: try EncoderSegmentation(
                        inputSize: s.inputSize, memoryTokens: s.memoryTokens, maxSegments: s.maxSegments,
                        alignment: alignment,
                        special: s.special, firstMemoryID: s.firstMemoryID)))
        }
        return LoadedRMT(
            path: path, configuration: config, checkpoint: checkpoint, backboneConfig: backboneConfig,
            wrapper: rebuilt, sideFiles: sideFiles)
    }
}
