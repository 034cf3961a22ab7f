import Checkpoints
import Foundation
import TensorCore
import Testing
import TestSupport
@testable import RMT

@Suite("RMT checkpoints written by the reference classes")
struct RMTCheckpointTests {
    @Test(
        "the accelerate-era decoder checkpoint (tied lm_head dropped) reads, restores the tie, and exports 12Λ + 6 keys in order"
    )
    func decoder() throws {
        let path = Fixtures.path("rmt/decoder/model_best/model.safetensors")
        let archive = try SafetensorsArchive(path: path)
        let rmt = try RMTCheckpoint.read(archive, path: path)
        #expect(rmt.variant == .decoder)
        #expect(rmt.memoryTokens == 2)
        #expect(rmt.notes.contains { $0.contains("restored the tied") })
        let (tensors, aliases) = try rmt.stateDict(profile: .current)
        #expect(tensors.map(\.name) == DecoderRMTFamily.stateDictKeys(layers: 2, profile: .current))
        #expect(tensors.count == 12 * 2 + 6)
        #expect(aliases == ["memory_cell.model.lm_head.weight": "memory_cell.model.transformer.wte.weight"])
        for (name, t) in tensors where name != "memory_cell.model.lm_head.weight" {
            #expect(try t.isBitwiseEqual(to: archive.tensor(named: name)), "\(name)")
        }
        let legacy = try rmt.stateDict(profile: .legacy).tensors
        #expect(legacy.count == 12 * 2 + 6 + 4)
        #expect(legacy[4].name == "memory_cell.model.transformer.h.0.ln_1.bias")
        #expect(legacy[5].name == "memory_cell.model.transformer.h.0.attn.bias")
    }

    @Test("the encoder checkpoint reads its buffers, restores the alias, and exports 16Λ + 13 keys in order")
    func encoder() throws {
        let path = Fixtures.path("rmt/encoder/model_best/model.safetensors")
        let archive = try SafetensorsArchive(path: path)
        let rmt = try RMTCheckpoint.read(archive, path: path)
        #expect(rmt.variant == .encoder)
        #expect(rmt.memoryTokens == 3)
        #expect(rmt.clsID == 101 && rmt.sepID == 102)
        let (tensors, _) = try rmt.stateDict(profile: .current)
        #expect(tensors.map(\.name) == EncoderRMTFamily.stateDictKeys(layers: 2, profile: .current))
        #expect(tensors.count == 16 * 2 + 13)
        #expect(
            try tensors.last!.tensor.isBitwiseEqual(to: archive.tensor(named: EncoderRMTFamily.wordEmbeddingsKey)))
    }

    @Test("a plain backbone is refused as an RMT checkpoint, naming what it found")
    func notRMT() throws {
        let path = Fixtures.path("models/tiny-gpt2/model.safetensors")
        let error = #expect(throws: CheckpointError.self) {
            try RMTCheckpoint.read(SafetensorsArchive(path: path), path: path)
        }
        #expect(error?.message.contains("not an RMT checkpoint") == true)
    }
}

@Suite("RMT checkpoints with canonically equivalent names")
struct RMTCanonicalNameTests {
    @Test("`score.é` and `score.e`+U+0301 beside the backbone stay two tensors, each read as itself, and the RMT runs")
    func twoNames() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rmt = "\(folder)/rmt"
        let names = ["score.\u{E9}", "score.e\u{301}"]
        try Fixtures.copyCheckpoint(
            Fixtures.path("malformed/rmt_control"), to: rmt, adding: names.map { DecoderRMTFamily.backbonePrefix + $0 })

        let model = try RMTModel.load(folder: rmt)
        let backbone = model.checkpoint.backbone
        for (i, name) in names.enumerated() {
            #expect(backbone.tensorNames.contains { $0.utf8.elementsEqual(name.utf8) }, "\(name)")
            #expect(try backbone.tensor(named: name).floatValues() == [Float(i + 1)], "\(name)")
        }
        let result = try model.run(try RMTInputs(ids: [1, 5, 2, 3], batch: 1, length: 4, labels: nil))
        #expect(result.segments == 2)
    }
}

@Suite("rmt_config.json limits")
struct RMTConfigurationLimitTests {
    /// The decoder fixture's rmt_config.json with the number fields in `changes` replaced.
    static func decoded(_ changes: [String: String]) throws -> RMTConfiguration {
        let text = String(decoding: try Fixtures.bytes(Fixtures.path("rmt/decoder/rmt_config.json")), as: UTF8.self)
        guard case .object(var members) = try JSONValue.parse(text) else { throw CocoaError(.fileReadCorruptFile) }
        for (field, value) in changes {
            let i = try #require(members.firstIndex { $0.key == field })
            members[i].value = .number(value)
        }
        return try RMTConfiguration.decode(Data(JSONValue.object(members).compactBytes()))
    }

    @Test("Sizes whose arithmetic would overflow or whose ids would be allocated are refused by name, without a trap")
    func limits() throws {
        _ = try Self.decoded([:])
        for (field, value, limit) in [
            ("num_mem_tokens", "4611686018427387904", "65536"), ("segment_size", "9223372036854775807", "16777216"),
            ("input_size", "9223372036854775807", "16777216"), ("max_n_segments", "4611686018427387904", "16777216"),
            ("k2", "-9223372036854775808", "16777216"), ("backbone_vocab_size", "9223372036854775807", "16777216"),
        ] {
            #expect {
                _ = try Self.decoded([field: value])
            } throws: {
                "\($0)".hasPrefix("\(field): is ") && "\($0)".contains("at most \(limit) is supported")
            }
        }
    }

    @Test("A key given twice takes its last value, as in Python")
    func duplicateKeys() throws {
        let text = String(decoding: try Fixtures.bytes(Fixtures.path("rmt/decoder/rmt_config.json")), as: UTF8.self)
        let repeated = text.replacingOccurrences(
            of: #""num_mem_tokens": 2,"#, with: #""num_mem_tokens": 7, "num_mem_tokens": 2,"#)
        #expect(repeated != text)
        #expect(try RMTConfiguration.decode(Data(repeated.utf8)).numMemTokens == 2)
    }
}
