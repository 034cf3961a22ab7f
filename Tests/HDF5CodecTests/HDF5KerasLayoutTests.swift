// Keras layout variants: every head of the key fixtures, groups without weight_names, sharded-style files.
import Checkpoints
import Foundation
@testable import HDF5Codec
import KeyMaps
import Models
import TensorCore
import Testing
import TestSupport

@Suite("Keras layout variants")
struct HDF5KerasLayoutTests {
    /// Small tensors under the keys of a fixture key list (same ranks, tiny sizes, distinct values).
    static func smallSources(_ model: String) throws -> (sources: [TensorSource], tied: [String]) {
        let text = try String(contentsOfFile: Fixtures.path("keys/\(model).tsv"), encoding: .utf8)
        var sources: [TensorSource] = [], tied: [String] = []
        for (i, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: "\t").map(String.init)
            if f[2] == "(tied)" { tied.append(f[0]); continue }
            let rank = f[1].split(separator: "x").count
            let shape: Shape = rank == 2 ? [2, 3] : [3]
            sources.append(
                TensorSource(
                    name: f[0], tensor: Tensor((0..<shape.elementCount).map { Float(i * 10 + $0) }, shape: shape)))
        }
        return (sources, tied)
    }

    @Test(
        "every head of the key fixtures round-trips through tf_model.h5, ties restored as aliases",
        arguments: [
            "bert-for-pre-training", "bert-for-sequence-classification", "bert-for-masked-lm", "gpt2-lm-head-model",
        ])
    func headsRoundTrip(model: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (sources, tied) = try Self.smallSources(model)
        let renamed = try renameSources(sources, to: .tf, maps: ModelRegistry.keyMaps, file: model)
        let modelClass = try #require(renamed.tfModelClass)
        let path = folder + "/tf_model.h5"
        try HDF5Writer.writeKeras(renamed.sources, modelName: modelClass.name, to: path, overwrite: false)
        let archive = try HDF5Archive(path: path, keyMaps: ModelRegistry.keyMaps)
        // File order: layer_names order, then the table rows (which is transformers' state_dict order).
        let expected = sources.map(\.info.name).enumerated()
            .sorted { (layer($0.element, modelClass), $0.offset) < (layer($1.element, modelClass), $1.offset) }.map(
                \.element)
        #expect(archive.tensorNames == expected)
        for source in sources {
            #expect(
                try archive.tensor(named: source.info.name).isBitwiseEqual(to: source.load()), "\(source.info.name)")
        }
        #expect(Set(archive.aliases.keys) == Set(tied.map { UTF8Key($0) }))
        let context = H5Context(path: path)
        let file = try context.own(H5FileOpener.open(path), .file, "open")
        #expect(try context.readStrings(file.id, "layer_names", owner: "/") == modelClass.layerNames)
    }

    private func layer(_ key: String, _ modelClass: KerasModelClass) -> Int {
        let tfLayer =
            key.hasPrefix("cls.seq_relationship")
            ? "nsp___cls"
            : key.hasPrefix("cls.")
                ? "mlm___cls"
                : key.hasPrefix("classifier") ? "classifier" : modelClass.layerNames[0]
        return modelClass.layerNames.firstIndex(of: tfLayer) ?? 99
    }

    @Test("a layer group without weight_names is read by walking its datasets, and noted")
    func noWeightNames() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/walk.h5"
        let kernel = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])
        try HDF5Writer.withTemporaryFile(path, overwrite: false) { context, file in
            try context.writeStringList(file, "layer_names", ["bert"])
            try context.writeDataset(
                kernel, at: "bert/tf_bert_model/bert/pooler/dense/kernel:0", in: file, compress: false, level: 4)
        }
        let archive = try HDF5Archive(path: path)
        #expect(archive.tensorNames == ["bert.pooler.dense.weight"])
        #expect(try archive.tensor(named: "bert.pooler.dense.weight").floatValues() == [1, 3, 5, 2, 4, 6])
        #expect(archive.notes.contains { $0.contains("no weight_names") })
    }

    @Test("sharded-style files whose layer_names are dataset paths (§3.6) map like full names")
    func shardedStyle() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/tf_model-00001-of-00002.h5"
        let bias = Tensor([1, 2, 3], shape: [1, 3])
        try HDF5Writer.withTemporaryFile(path, overwrite: false) { context, file in
            try context.writeStringList(file, "layer_names", ["transformer/h_._0/attn/c_attn/bias:0"])
            try context.writeDataset(
                bias, at: "transformer/h_._0/attn/c_attn/bias:0", in: file, compress: false, level: 4)
        }
        let archive = try HDF5Archive(path: path, keyMaps: ModelRegistry.keyMaps)
        #expect(archive.tensorNames == ["transformer.h.0.attn.c_attn.bias"])
        #expect(try archive.tensor(named: "transformer.h.0.attn.c_attn.bias").shape == Shape([3]))
    }
}
