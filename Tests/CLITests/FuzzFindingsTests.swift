// Regression replay of fuzzing: every input libFuzzer reported (fixtures/fuzz-findings/, written by
// tools/fuzz.sh) and every file of the malformed corpus goes through the fuzz targets' entry points in-process.
// Each must parse or throw the layer's typed error; a crash or trap fails the whole test run.
import Checkpoints
import ConvertKit
import Foundation
import Models
import RMT
import TensorCore
import Testing
import TestSupport

/// The tiny models' weights the config target builds models from (FuzzConfig).
func tinyWeights() -> [any TensorArchive] {
    ["config_control", "config_control_gpt2"].compactMap {
        try? SafetensorsArchive(path: Fixtures.path("malformed/\($0)/model.safetensors"))
    }
}

/// What the fuzz targets call, for one input: the safetensors header, the NPY header, ZIP / NPZ / torch
/// archives, the unpickler, config decoding and model building, and a shard index beside real shards (in
/// `shardFolder`). Returns the errors thrown that are not the typed ones.
func replayFuzzEntryPoints(
    _ bytes: [UInt8], scratch: String, shardFolder: String, weights: [any TensorArchive]
) throws -> [String] {
    var untyped: [String] = []
    func typed(_ body: () throws -> Void) {
        do { try body() } catch is CheckpointError {} catch is ModelError {} catch is RMTError {} catch {
            untyped.append("\(type(of: error)): \(error)")
        }
    }
    try bytes.withUnsafeBytes { raw in
        typed { _ = try SafetensorsHeader.parse(raw, fileSize: raw.count, path: "input") }
        typed { _ = try NPYHeader.parse(raw, file: "input", tensor: "x", options: NPYReadOptions(voidAsBF16: true)) }
        typed {
            var unpickler = Unpickler(raw, file: "input", record: "data.pkl")
            _ = try TorchStateDict.locate(in: try unpickler.load(), key: nil, file: "input")
        }
        if let json = try? JSONValue.parse(raw) {
            typed { _ = try BertConfiguration.decoded(from: json, file: "config.json") }
            typed { _ = try GPT2Configuration.decoded(from: json, file: "config.json") }
            for archive in weights {
                typed { _ = try ModelLoader.load(config: json, configFile: "config.json", archive: archive) }
            }
        }
    }
    typed { _ = try RMTConfiguration.decode(Data(bytes)) }
    try Fixtures.write(bytes, to: scratch)
    typed {
        let zip = try ZipArchive(path: scratch, memoryLimit: 64 << 20)
        for entry in zip.entries { _ = try zip.contents(of: entry) }
    }
    for open in [
        { try NPZArchive(path: scratch) as any TensorArchive },
        { try TorchArchive(path: scratch) as any TensorArchive },
    ] {
        typed {
            let archive = try open()
            guard archive.totalBytes < 64 << 20 else { return }
            for name in archive.tensorNames { _ = try archive.tensor(named: name) }
        }
    }
    let index = "\(shardFolder)/model.safetensors.index.json"
    try Fixtures.write(bytes, to: index)
    typed {
        let archive = try ArchiveRegistry.open(index)
        guard archive.totalBytes < 64 << 20 else { return }
        for name in archive.tensorNames { _ = try archive.tensor(named: name) }
    }
    return untyped
}

@Suite("Fuzz findings replay")
struct FuzzFindingsTests {
    @Test("Every fuzz finding and every malformed corpus file is refused with a typed error or read, in-process")
    func replay() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shards = "\(folder)/shards"
        try FileManager.default.copyItem(atPath: Fixtures.path("models/tiny-gpt2-sharded"), toPath: shards)
        let weights = tinyWeights()
        #expect(weights.count == 2)
        var inputs: [String] = []
        for root in ["fuzz-findings", "malformed"] {
            let base = Fixtures.path(root)
            for relative in FileManager.default.enumerator(atPath: base)?.allObjects as? [String] ?? [] {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(base)/\(relative)", isDirectory: &isDir), !isDir.boolValue,
                    !relative.hasSuffix("README.md")
                {
                    inputs.append("\(base)/\(relative)")
                }
            }
        }
        #expect(inputs.count >= 40)
        for input in inputs {
            let untyped = try replayFuzzEntryPoints(
                try Fixtures.bytes(input), scratch: "\(folder)/input", shardFolder: shards, weights: weights)
            #expect(untyped.isEmpty, "\(input): \(untyped)")
        }
    }
}
