// Fixtures of the reference PyTorch RMT (tools/rmt_reference.py): each case's inputs and the reference's outputs,
// the debug state the Swift RMT is checked against (llm.c's way), now for the forward pass and later for
// gradients.
import Checkpoints
import Models
import TensorCore

/// A fixture folder made by `tools/rmt_reference.py`: `cases.json` (names, alignments, tolerance) and
/// `cases.safetensors` (`<case>.input_ids`, `<case>.logits`, …).
public struct RMTReferenceFixture {
    /// One case: inputs, settings and the reference's outputs.
    public struct Case {
        public let name: String
        /// The alignment the case runs with (nil: the checkpoint's).
        public let alignment: SegmentAlignment?
        /// Set for a generation case.
        public let maxNewTokens: Int?
        public let inputs: RMTInputs
        /// The reference's outputs by output name (`logits`, `memory_states`, `loss`, `losses`, `generated_ids`).
        public let expected: [String: Tensor]
    }

    public let folder: String
    /// The largest accepted max abs error.
    public let tolerance: Double
    public let cases: [Case]

    /// Reads the fixture in `folder`.
    /// - Throws: `CheckpointError` for a missing or malformed fixture.
    public static func load(folder dir: String) throws -> RMTReferenceFixture {
        let specPath = "\(dir)/cases.json"
        guard let spec = try Checkpoint.readJSON(specPath) else {
            throw CheckpointError(
                .io, file: specPath, "no cases.json in the fixture folder; make one with tools/rmt_reference.py")
        }
        guard case .array(let list)? = spec["cases"], let tolerance = spec["tolerance"]?.doubleValue else {
            throw CheckpointError(
                .configuration, file: specPath, tensor: "cases", "needs `cases` (a list) and `tolerance` (a number)")
        }
        let data = try ArchiveOpener().open("\(dir)/cases.safetensors")
        let names = Set(data.tensorNames.map { UTF8Key($0) })
        func optional(_ name: String) throws -> Tensor? {
            names.contains(UTF8Key(name)) ? try data.tensor(named: name) : nil
        }
        let cases = try list.map { c -> Case in
            guard let name = c["name"]?.stringValue else {
                throw CheckpointError(.configuration, file: specPath, tensor: "cases", "every case needs a `name`")
            }
            let ids = try data.tensor(named: "\(name).input_ids")
            guard ids.shape.rank == 2 else {
                throw CheckpointError(
                    .configuration, file: dir, tensor: "\(name).input_ids", "must be [B, T], got \(ids.shape)")
            }
            let inputs = try RMTInputs(
                ids: try ids.int64Values().map { Int(truncatingIfNeeded: $0) }, batch: ids.shape[0],
                length: ids.shape[1], attentionMask: try optional("\(name).attention_mask")?.floatValues(),
                labels: try optional("\(name).labels")?.int64Values().map { Int(truncatingIfNeeded: $0) },
                labelsMask: try optional("\(name).labels_mask")?.int64Values().map { $0 != 0 })
            var expected: [String: Tensor] = [:]
            for output in ["logits", "memory_states", "loss", "losses", "generated_ids"] {
                expected[output] = try optional("\(name).\(output)")
            }
            return Case(
                name: name, alignment: c["segment_alignment"]?.stringValue.flatMap(SegmentAlignment.init(rawValue:)),
                maxNewTokens: c["max_new_tokens"]?.integerValue, inputs: inputs, expected: expected)
        }
        return RMTReferenceFixture(folder: dir, tolerance: tolerance, cases: cases)
    }
}

extension RMTModel {
    /// The outputs of one reference case, named as the fixture names them: `generated_ids` for a generation case,
    /// else `logits`, `memory_states`, `loss` (and `losses`).
    public func outputs(of fixtureCase: RMTReferenceFixture.Case) throws -> [NamedOutput] {
        let model = try withAlignment(fixtureCase.alignment)
        guard let n = fixtureCase.maxNewTokens else { return try model.run(fixtureCase.inputs).namedOutputs() }
        let ids = try model.generate(fixtureCase.inputs, maxNewTokens: n)
        return [
            NamedOutput(name: "generated_ids", tensor: try int64Tensor(ids.values, shape: [ids.batch, ids.length]))
        ]
    }

    /// Runs every case of `fixture` and compares each output the fixture holds with the reference's
    /// (`<case>.<output>`), in case order.
    /// - Throws: what running throws; a mismatch is a failed comparison, not an error.
    public func verify(_ fixture: RMTReferenceFixture) throws -> [OutputComparison] {
        try fixture.cases.flatMap { c in
            try outputs(of: c).compactMap { output in
                try c.expected[output.name].map {
                    try OutputComparison(
                        name: "\(c.name).\(output.name)", actual: output.tensor, expected: $0,
                        tolerance: fixture.tolerance)
                }
            }
        }
    }
}
