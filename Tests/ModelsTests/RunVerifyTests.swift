// `run` and `verify` through ConvertKit: inputs from files, outputs written and read back, fixture reports.
import Checkpoints
import ConvertKit
import Foundation
import Models
import TensorCore
import Testing
import TestSupport

@Suite("run and verify")
struct RunVerifyTests {
    @Test(
        "verify passes on every tiny fixture and reports max abs and relative errors per output",
        arguments: [
            ("tiny-bert", "tiny-bert"), ("tiny-bert-base", "tiny-bert"), ("tiny-bert-mlm", "tiny-bert-mlm"),
            ("tiny-gpt2", "tiny-gpt2"),
            ("tiny-gpt2-token-types", "tiny-gpt2"), ("tiny-gpt2-positions", "tiny-gpt2"),
        ])
    func verifyPasses(_ fixture: String, _ model: String) throws {
        let report = try verify(try ModelFixtures.checkpoint(model), fixture: Fixtures.path("expected/\(fixture)"))
        #expect(report.passed, "\(report.text)")
        #expect(report.outputs.count >= 2)
        for o in report.outputs {
            #expect(o.maxAbsError <= 1e-4 && o.maxRelativeError.isFinite, "\(o.name): \(o.maxAbsError)")
        }
        let json = try encodeJSON(report)
        #expect(json.contains("\"max_abs_error\"") && json.contains("\"passed\" : true"))
    }

    @Test("verify fails past the tolerance and names the failing outputs")
    func verifyFails() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = Fixtures.path("expected/tiny-gpt2")
        for f in ["inputs.safetensors", "expected.safetensors"] {
            try FileManager.default.copyItem(atPath: "\(source)/\(f)", toPath: "\(dir)/\(f)")
        }
        try Fixtures.write(
            Array(
                #"{"architecture": "GPT2LMHeadModel", "outputs": ["hidden_states.0", "logits"], "tolerance": 1e-12}"#
                    .utf8),
            to: "\(dir)/fixture.json")
        let report = try verify(try ModelFixtures.checkpoint("tiny-gpt2"), fixture: dir)
        #expect(!report.passed)
        #expect(report.outputs.map(\.passed) == [true, false], "embeddings are exact; logits carry float rounding")
        #expect(report.text.hasSuffix("FAIL\n"))
    }

    @Test("verify refuses an output the model does not produce")
    func verifyUnknownOutput() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = Fixtures.path("expected/tiny-bert-base")
        for f in ["inputs.safetensors", "expected.safetensors"] {
            try FileManager.default.copyItem(atPath: "\(source)/\(f)", toPath: "\(dir)/\(f)")
        }
        try Fixtures.write(
            Array(#"{"architecture": "BertModel", "outputs": ["logits"], "tolerance": 1e-4}"#.utf8),
            to: "\(dir)/fixture.json")
        #expect(throws: CheckpointError.self) { try verify(try ModelFixtures.checkpoint("tiny-bert"), fixture: dir) }
    }

    @Test(
        "run writes named outputs to safetensors and npz that match the reference", arguments: ["safetensors", "npz"])
    func runWrites(_ ext: String) throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inputs = try RunInputs.read(
            inputIds: Fixtures.path("expected/tiny-bert/inputs.safetensors"),
            attentionMask: Fixtures.path("expected/tiny-bert/inputs.safetensors"),
            tokenTypeIds: Fixtures.path("expected/tiny-bert/inputs.safetensors"))
        let out = "\(dir)/out.\(ext)"
        let summary = try runModel(
            try ModelFixtures.checkpoint("tiny-bert"), inputs: inputs, to: out, options: RunOptions())
        #expect(summary.architecture == "BertForSequenceClassification")
        #expect(summary.outputs.map(\.name) == ["last_hidden_state", "pooler_output", "logits"])
        let written = try ArchiveRegistry.open(out)
        for name in ["last_hidden_state", "pooler_output", "logits"] {
            let error = try maxError(try written.tensor(named: name), try ModelFixtures.expected("tiny-bert", name))
            #expect(error <= 1e-4, "\(name): max abs error \(error)")
        }
        #expect(throws: CheckpointError.self) {
            try runModel(try ModelFixtures.checkpoint("tiny-bert"), inputs: inputs, to: out, options: RunOptions())
        }
    }

    @Test("ids as a [T] int32 array form a batch of one")
    func oneDimensionalIds() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = try Tensor(
            dtype: .i32, shape: [4],
            bytes: [3, 1, 4, 1].flatMap { withUnsafeBytes(of: Int32($0).littleEndian, Array.init) })
        try SafetensorsWriter.write(
            [TensorSource(name: "ids", tensor: ids)], metadata: nil, to: "\(dir)/ids.safetensors", overwrite: false)
        let inputs = try RunInputs.read(inputIds: "\(dir)/ids.safetensors")
        #expect(
            inputs.batch == 1 && inputs.length == 4 && inputs.inputIds == [3, 1, 4, 1] && inputs.attentionMask == nil)
        let floats = Tensor([1, 2], shape: [2])
        try SafetensorsWriter.write(
            [TensorSource(name: "input_ids", tensor: floats)], metadata: nil, to: "\(dir)/f.safetensors",
            overwrite: false)
        #expect(throws: ModelError.self) { try RunInputs.read(inputIds: "\(dir)/f.safetensors") }
    }

    @Test("ids and mask as separate .npy files (int64 and int32) give the fixture's outputs")
    func npyInputs() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bundle = try SafetensorsArchive(path: Fixtures.path("expected/tiny-gpt2/inputs.safetensors"))
        try NPYWriter.write(
            TensorSource(name: "input_ids", tensor: try bundle.tensor(named: "input_ids")), to: "\(dir)/ids.npy",
            overwrite: false)
        let mask = try bundle.tensor(named: "attention_mask").int64Values()
        let mask32 = try Tensor(
            dtype: .i32, shape: [2, 8], bytes: mask.flatMap { withUnsafeBytes(of: Int32($0).littleEndian, Array.init) })
        try NPYWriter.write(TensorSource(name: "mask", tensor: mask32), to: "\(dir)/mask.npy", overwrite: false)
        let inputs = try RunInputs.read(inputIds: "\(dir)/ids.npy", attentionMask: "\(dir)/mask.npy")
        let summary = try runModel(
            try ModelFixtures.checkpoint("tiny-gpt2"), inputs: inputs, to: "\(dir)/out.safetensors",
            options: RunOptions())
        #expect(summary.outputs.map(\.name) == ["last_hidden_state", "logits"])
        let logits = try SafetensorsArchive(path: "\(dir)/out.safetensors").tensor(named: "logits")
        let error = try maxError(logits, try ModelFixtures.expected("tiny-gpt2", "logits"))
        #expect(error <= 1e-4, "max abs error \(error)")
    }

    @Test("texts are tokenized through the pluggable closure and right-padded with a mask")
    func texts() throws {
        let inputs = try RunInputs.fromTexts(
            ["a b c", "d"], tokenize: { $0.split(separator: " ").map { Int($0.unicodeScalars.first!.value) } }, padId: 0
        )
        #expect(inputs.batch == 2 && inputs.length == 3)
        #expect(inputs.inputIds == [97, 98, 99, 100, 0, 0] && inputs.attentionMask == [1, 1, 1, 1, 0, 0])
    }

    @Test("a weights file without config.json cannot be run")
    func needsConfig() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("models/tiny-gpt2/model.safetensors"))
        #expect(throws: CheckpointError.self) { try loadModel(checkpoint) }
    }
}
