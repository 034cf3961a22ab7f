import Checkpoints
import ConvertKit
import Foundation
import Models
import Testing
import TestSupport
@testable import RMT

@Suite("wrap: backbone to RMT folder")
struct WrapTests {
    func wrapped(_ backbone: String, _ options: WrapOptions) throws -> (String, WrapSummary) {
        let dir = try Fixtures.temporaryFolder()
        return (dir, try wrap(try Checkpoint.open(backbone), output: "\(dir)/rmt", options: options))
    }

    @Test("the decoder: reference keys in order, tied lm_head copied, same seed same bytes, another seed other memory")
    func decoder() throws {
        var options = WrapOptions(memoryTokens: 3)
        options.segmentSize = 8
        options.seed = 11
        let (a, summary) = try wrapped(Fixtures.path("models/tiny-gpt2"), options)
        let (b, _) = try wrapped(Fixtures.path("models/tiny-gpt2"), options)
        options.seed = 12
        let (c, _) = try wrapped(Fixtures.path("models/tiny-gpt2"), options)
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(atPath: d) } }
        #expect(summary.inputSize == 14 && summary.tensorCount == 30)
        for file in ["model.safetensors", "config.json", "rmt_config.json"] {
            #expect(try Fixtures.bytes("\(a)/rmt/\(file)") == Fixtures.bytes("\(b)/rmt/\(file)"), "\(file)")
        }
        let archive = try SafetensorsArchive(path: "\(a)/rmt/model.safetensors")
        let other = try SafetensorsArchive(path: "\(c)/rmt/model.safetensors")
        #expect(Set(archive.tensorNames) == Set(DecoderRMTFamily.stateDictKeys(layers: 2, profile: .current)))
        #expect(
            try archive.tensor(named: "memory_cell.model.lm_head.weight").isBitwiseEqual(
                to: archive.tensor(named: "memory_cell.model.transformer.wte.weight")))
        #expect(
            try !archive.tensor(named: "memory_cell.memory").isBitwiseEqual(
                to: other.tensor(named: "memory_cell.memory")))
        // The memory is σ(wte) · N(0, 1) from seed 11, bit for bit as tools/make_generator_fixture.py draws it.
        let pinned = try GeneratorFixture.load().decoder_memory
        #expect(pinned.seed == 11 && pinned.memory_tokens == 3)
        let memory = try archive.tensor(named: "memory_cell.memory")
        #expect(memory.shape == [3, 32])
        #expect(try memory.floatValues().map(\.bitPattern) == pinned.float32_bits.map { UInt32(hexBits($0)) })
        let original = try SafetensorsArchive(path: Fixtures.path("models/tiny-gpt2/model.safetensors"))
        for name in original.tensorNames {
            #expect(
                try archive.tensor(named: "memory_cell.model." + name).isBitwiseEqual(to: original.tensor(named: name)),
                "\(name)")
        }
        // Runs: 20 tokens in segments of 8 → 3 segments.
        let rmt = try RMTModel.load(folder: "\(a)/rmt")
        let ids = (0..<40).map { $0 % 96 }
        let result = try rmt.run(try RMTInputs(ids: ids, batch: 2, length: 20, labels: ids))
        let outputs = try result.namedOutputs()
        #expect(result.segments == 3)
        #expect(outputs.first { $0.name == "memory_states" }?.tensor.shape == [3, 2, 3, 32])
        #expect(outputs.first { $0.name == "logits" }?.tensor.shape == [2, 20, 96])
        let loss = try #require(outputs.first { $0.name == "loss" }).tensor
        #expect(try loss.floatValues()[0].isFinite)
    }

    @Test("the decoder refuses segments that do not fit n_positions, naming both numbers")
    func tooLong() throws {
        var options = WrapOptions(memoryTokens: 4)
        options.segmentSize = 60
        let error = #expect(throws: RMTError.self) { try wrapped(Fixtures.path("models/tiny-gpt2"), options) }
        #expect(error?.message.contains("68 rows exceed n_positions 64") == true)
    }

    @Test("the encoder: grown embeddings, reference keys in order with the alias, buffers from the tokenizer")
    func encoder() throws {
        let backbone = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: backbone) }
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: Fixtures.path("models/tiny-bert/\(f)"), toPath: "\(backbone)/\(f)")
        }
        // A 120-token BERT vocabulary with the standard special ids.
        var vocab = (0..<120).map { "tok\($0)" }
        vocab[0] = "[PAD]"; vocab[100] = "[UNK]"; vocab[101] = "[CLS]"; vocab[102] = "[SEP]"; vocab[103] = "[MASK]"
        try Fixtures.write(Array(vocab.joined(separator: "\n").utf8), to: "\(backbone)/vocab.txt")
        var options = WrapOptions(memoryTokens: 3)
        options.inputSize = 16
        options.maxSegments = 4
        let (dir, summary) = try wrapped(backbone, options)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(summary.segmentSize == 10 && summary.tensorCount == 45)
        let archive = try SafetensorsArchive(path: "\(dir)/rmt/model.safetensors")
        #expect(Set(archive.tensorNames) == Set(EncoderRMTFamily.stateDictKeys(layers: 2, profile: .current)))
        #expect(try archive.tensor(named: "mem_token_ids").int64Values() == [120, 121, 122])
        #expect(try archive.tensor(named: "cls_token").int64Values() == [101])
        let words = try archive.tensor(named: EncoderRMTFamily.wordEmbeddingsKey)
        #expect(words.shape == [123, 32])
        // The memory rows are initializer_range · N(0, 1) from seed 0, as tools/make_generator_fixture.py draws them.
        let pinned = try GeneratorFixture.load().encoder_memory_rows
        #expect(pinned.seed == options.seed && pinned.memory_tokens == 3)
        #expect(
            try words.floatValues()[(120 * 32)...].map(\.bitPattern) == pinned.float32_bits.map { UInt32(hexBits($0)) })
        #expect(try words.isBitwiseEqual(to: archive.tensor(named: EncoderRMTFamily.aliasKey)))
        let config = try #require(
            try JSONValue.parse(String(contentsOfFile: "\(dir)/rmt/config.json", encoding: .utf8)))
        #expect(config["vocab_size"]?.integerValue == 123)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/rmt/vocab.txt"))
        let rmt = try RMTModel.load(folder: "\(dir)/rmt")
        let result = try rmt.run(try RMTInputs(ids: [101] + Array(1...25) + [102], batch: 1, length: 27, labels: [2]))
        let outputs = try result.namedOutputs()
        #expect(result.segments == 3)
        #expect(outputs.first { $0.name == "logits" }?.tensor.shape == [1, 3])
        #expect(outputs.first { $0.name == "losses" }?.tensor.shape == [3])
    }

    @Test("the encoder needs --max-segments, refused before any weights are read")
    func encoderNeedsK() throws {
        let error = #expect(throws: RMTError.self) {
            try wrapped(Fixtures.path("models/tiny-bert"), WrapOptions(memoryTokens: 2))
        }
        #expect(error?.field == "max-segments")
    }

    @Test(
        "wrap checks config.json against the weights before allocating (the memory is [m, n_embd]), naming both numbers",
        arguments: [
            ("cfg_gpt2_huge_n_layer", "`n_layer` is 1000000 but the weights hold 1 (block `h.0`)"),
            ("cfg_huge_hidden", "`hidden_size` is 16777216 but the weights hold 4"),
            ("cfg_disagree_layers", "`num_hidden_layers` is 2 but the weights hold 1 (block `encoder.layer.0`)"),
        ])
    func configAgainstWeights(_ folder: String, _ expected: String) throws {
        var options = WrapOptions(memoryTokens: 2)
        options.maxSegments = 2
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = #expect(throws: ModelError.self) {
            _ = try wrap(
                try Checkpoint.open(Fixtures.path("malformed/\(folder)")), output: "\(dir)/rmt", options: options)
        }
        #expect(error?.kind == .weights && error?.message.contains(expected) == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/rmt"))
    }
}
