import Checkpoints
import ConvertKit
import Foundation
import TensorCore
import Testing
import TestSupport
@testable import RMT

@Suite("RMT export and re-import")
struct RMTExportTests {
    /// Every tensor of the reference state dict, by name.
    func stateDict(_ path: String) throws -> [String: Tensor] {
        let rmt = try RMTModel.load(folder: path)
        return Dictionary(
            uniqueKeysWithValues: try rmt.checkpoint.stateDict(profile: .current).tensors.map { ($0.name, $0.tensor) })
    }

    @Test(
        "export to safetensors, torch and reference-pth re-imports to identical tensors; torch shares tied storage",
        arguments: ["decoder", "encoder"])
    func roundTrip(variant: String) throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let original = try stateDict(Fixtures.path("rmt/\(variant)"))  // the reference's model_best.pth
        var options = RMTExportOptions()
        _ = try exportRMT(Fixtures.path("rmt/\(variant)"), to: "\(dir)/st", options: options, unwrap: false)
        options.format = .torch
        _ = try exportRMT("\(dir)/st", to: "\(dir)/pt", options: options, unwrap: false)
        options.referencePth = true
        _ = try exportRMT("\(dir)/pt", to: "\(dir)/pth", options: options, unwrap: false)
        for folder in ["st", "pt", "pth"] {
            let again = try stateDict("\(dir)/\(folder)")
            #expect(Set(again.keys) == Set(original.keys), "\(folder)")
            for (name, t) in original { #expect(again[name]?.isBitwiseEqual(to: t) == true, "\(folder): \(name)") }
        }
        let torch = try TorchArchive(path: "\(dir)/pt/pytorch_model.bin")
        let tied = variant == "decoder" ? DecoderRMTFamily.tiedHeadKey : EncoderRMTFamily.aliasKey
        #expect(torch.aliases[UTF8Key(tied)] != nil)
        let pth = try TorchArchive(path: "\(dir)/pth/model_best.pth")
        #expect(pth.tensorInfos.count + pth.aliases.count == original.count)
        let safetensors = try SafetensorsArchive(path: "\(dir)/st/model.safetensors")
        #expect(safetensors.tensorInfos.count == original.count)  // tied keys written as full copies
    }

    @Test(
        "unwrap gives the plain backbone and the memory: the decoder's memory parameter, the encoder's last table rows")
    func unwrap() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for variant in ["decoder", "encoder"] {
            _ = try exportRMT(
                Fixtures.path("rmt/\(variant)"), to: "\(dir)/\(variant)", options: RMTExportOptions(), unwrap: true)
            let rmt = try RMTModel.load(folder: Fixtures.path("rmt/\(variant)"))
            let memory = try SafetensorsArchive(path: "\(dir)/\(variant)/memory.safetensors").tensor(named: "memory")
            let backbone = try Checkpoint.open("\(dir)/\(variant)")
            if variant == "decoder" {
                #expect(try memory.isBitwiseEqual(to: #require(rmt.checkpoint.memory)))
                #expect(!backbone.archive.tensorNames.contains("lm_head.weight"))
                #expect(backbone.archive.tensorNames.contains("transformer.wte.weight"))
            } else {
                let table = try #require(try rmt.checkpoint.tensor("bert.embeddings.word_embeddings.weight"))
                let V = rmt.configuration.backboneVocabSize, H = table.shape[1]
                #expect(try memory.floatValues() == Array(table.floatValues()[(V * H)...]))
                #expect(try backbone.archive.tensor(named: "bert.embeddings.word_embeddings.weight").shape == [V, H])
                #expect(backbone.config?["vocab_size"]?.integerValue == V)
            }
        }
    }
}
