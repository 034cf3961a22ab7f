// Parity with PyTorch (transformers 4.57.6) on the committed reference fixtures: max abs error ≤ 1e-4.
import Checkpoints
import ConvertKit
import Foundation
import Models
import TensorCore
import Testing
import TestSupport

@Suite("Parity with transformers on the tiny fixtures")
struct ParityTests {
    static let tolerance: Float = 1e-4

    /// (fixture folder under fixtures/expected, model folder under fixtures/models, architecture, outputs)
    static let cases: [(String, String, ModelArchitecture, [String])] = [
        (
            "tiny-bert", "tiny-bert", .bertForSequenceClassification,
            ["last_hidden_state", "pooler_output", "logits", "hidden_states.0", "hidden_states.1", "hidden_states.2"]
        ),
        ("tiny-bert-base", "tiny-bert", .bertModel, ["last_hidden_state", "pooler_output"]),
        (
            "tiny-bert-mlm", "tiny-bert-mlm", .bertForMaskedLM,
            ["last_hidden_state", "logits", "hidden_states.0", "hidden_states.1", "hidden_states.2"]
        ),
        (
            "tiny-gpt2", "tiny-gpt2", .gpt2LMHeadModel,
            ["last_hidden_state", "logits", "hidden_states.0", "hidden_states.1", "hidden_states.2"]
        ),
        ("tiny-gpt2", "tiny-gpt2-sharded", .gpt2LMHeadModel, ["last_hidden_state", "logits"]),
        ("tiny-gpt2-token-types", "tiny-gpt2", .gpt2LMHeadModel, ["last_hidden_state", "logits"]),
        ("tiny-gpt2-positions", "tiny-gpt2", .gpt2LMHeadModel, ["last_hidden_state", "logits"]),
    ]

    @Test("every output of every tiny model matches PyTorch, padded rows included", arguments: 0..<cases.count)
    func tinyModel(_ index: Int) throws {
        let (fixture, folder, architecture, names) = Self.cases[index]
        let (model, _) = try loadModel(try ModelFixtures.checkpoint(folder), architecture: architecture)
        let outputs = try model.run(try ModelFixtures.inputs(fixture), hiddenStates: true)
        for name in names {
            let actual = try #require(outputs[name], "\(architecture) gives no \(name)")
            let expected = try ModelFixtures.expected(fixture, name)
            #expect(actual.shape == expected.shape, "\(fixture)/\(name): shape \(actual.shape) vs \(expected.shape)")
            let values = try actual.floatValues()
            #expect(values.allSatisfy { $0.isFinite }, "\(fixture)/\(name) has non-finite values")
            let error = try maxError(actual, expected)
            #expect(
                error <= Self.tolerance,
                "\(fixture)/\(name) (\(folder) as \(architecture)): max abs error \(error) > 1e-4")
        }
    }

    @Test("GPT2Model alone gives the LM model's last hidden state (after ln_f)")
    func bareGPT2() throws {
        let (model, report) = try loadModel(try ModelFixtures.checkpoint("tiny-gpt2"), architecture: .gpt2Model)
        #expect(report.ignoredKeys.isEmpty, "tiny-gpt2 stores no lm_head, so nothing is ignored")
        let outputs = try model.run(try ModelFixtures.inputs("tiny-gpt2"))
        #expect(outputs.map(\.name) == ["last_hidden_state"])
        let error = try maxError(
            try #require(outputs["last_hidden_state"]), try ModelFixtures.expected("tiny-gpt2", "last_hidden_state"))
        #expect(error <= Self.tolerance, "max abs error \(error)")
    }

    @Test("float16 and bfloat16 weights convert on load and stay close to float32")
    func halfPrecisionWeights() throws {
        let source = try ModelFixtures.checkpoint("tiny-gpt2").archive
        let reference = try ModelFixtures.expected("tiny-gpt2", "logits")
        for dtype in [DType.f16, .bf16] {
            let archive = try InMemoryArchive(copying: source) { ($0, try $1.converted(to: dtype)) }
            let (model, _) = try ModelFixtures.load(archive, configOf: "tiny-gpt2", as: .gpt2LMHeadModel)
            let logits = try #require(try model.run(try ModelFixtures.inputs("tiny-gpt2"))["logits"])
            let error = try maxError(logits, reference)
            // Rounding weights to 8 (bf16) or 11 (f16) significant bits moves these logits by ~1e-3; a
            // mis-decoded dtype moves them by whole units.
            #expect(error > 0 && error < 0.05, "\(dtype): max abs error \(error)")
        }
    }
}

@Suite(
    "Parity with transformers on all-MiniLM-L6-v2",
    .enabled(
        if: Fixtures.hasMiniLM(),
        "all-MiniLM-L6-v2 is absent from .cache/minilm/model: run tools/fetch-minilm.sh (make test does)"))
struct MiniLMParityTests {
    @Test("last_hidden_state and pooler_output of the real MiniLM match PyTorch on tokenized texts with padding")
    func miniLM() throws {
        let checkpoint = try Checkpoint.open(Fixtures.miniLM)
        let (model, report) = try loadModel(checkpoint)
        #expect(report.architecture == .bertModel)
        #expect(report.droppedBuffers == ["embeddings.position_ids"])
        let inputs = try ModelFixtures.inputs("minilm")
        #expect(inputs.attentionMask?.contains(0) == true, "the fixture pads its shorter texts")
        let outputs = try model.run(inputs)
        for name in ["last_hidden_state", "pooler_output"] {
            let error = try maxError(try #require(outputs[name]), try ModelFixtures.expected("minilm", name))
            #expect(error <= ParityTests.tolerance, "MiniLM \(name): max abs error \(error) > 1e-4")
        }
    }
}
