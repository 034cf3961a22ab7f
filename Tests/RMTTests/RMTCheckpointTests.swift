import Checkpoints
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
