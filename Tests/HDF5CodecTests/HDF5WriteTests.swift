// Writing: the generic layout re-read by our reader, Keras round trips through `convert --names tf`.
import Checkpoints
import ConvertKit
import Foundation
@testable import HDF5Codec
import KeyMaps
import Models
import TensorCore
import Testing
import TestSupport

@Suite("Writing HDF5")
struct HDF5WriteTests {
    @Test(
        "every dtype of the generic fixture survives write → read bit for bit, with metadata, plain and compressed",
        arguments: [false, true])
    func genericRoundTrip(compress: Bool) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = try HDF5Archive(path: Fixtures.path("hdf5/generic_dtypes.h5"))
        let path = folder + "/all.h5"
        var progress: [Int] = []
        try HDF5Writer.write(
            TensorSource.all(of: source), metadata: source.metadata, to: path, overwrite: false,
            compress: compress
        ) { progress.append($0) }
        let back = try HDF5Archive(path: path)
        #expect(back.tensorNames == source.tensorNames)
        #expect(back.metadata.map(\.key) == source.metadata.map(\.key))
        #expect(back.metadata.map(\.value) == source.metadata.map(\.value))
        #expect(back.notes.isEmpty)
        for name in source.tensorNames {
            #expect(try back.tensor(named: name).isBitwiseEqual(to: source.tensor(named: name)), "\(name)")
        }
        #expect(progress.last == source.totalBytes)
    }

    @Test("chunk shapes stay near 1 MiB, whole datasets below it, every dimension at least 1")
    func chunks() {
        #expect(chunkShape([120, 32], itemSize: 4) == [120, 32])
        #expect(chunkShape([30522, 768], itemSize: 4) == [341, 768])
        #expect(chunkShape([4, 1 << 20], itemSize: 4) == [1, 1 << 18])
        #expect(chunkShape([3, 1 << 19], itemSize: 8) == [1, 1 << 17])
    }

    @Test("long string lists are chunked as Keras does and read back in order")
    func chunkedAttributes() throws {
        let names = (0..<1000).map {
            "tf_bert_model/bert/encoder/layer_._\($0)/attention/self/query/kernel:0".padding(
                toLength: 100, withPad: "x", startingAt: 0)
        }
        #expect(kerasChunks(names).map(\.count) == [500, 500])
        #expect(kerasChunks(Array(names.prefix(3))).count == 1)
        #expect(
            kerasChunks((0..<1300).map { _ in String(repeating: "a", count: 100) }).map(\.count) == [434, 433, 433])
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/attrs.h5"
        try HDF5Writer.withTemporaryFile(path, overwrite: false) { context, file in
            try context.writeStringList(file, "weight_names", names)
            try context.writeStringList(file, "empty", [])
        }
        let context = H5Context(path: path)
        let file = try context.own(H5FileOpener.open(path), .file, "open")
        #expect(!context.hasAttribute(file.id, "weight_names"))
        #expect(try context.readStringList(file.id, "weight_names", owner: "/") == names)
        #expect(try context.readStringList(file.id, "empty", owner: "/") == [])
    }

    @Test("fixed NULLTERM and SPACEPAD strings and UTF-8 variable-length lists read back exactly")
    func stringEncodings() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/strings.h5"
        try HDF5Writer.withTemporaryFile(path, overwrite: false) { context, file in
            try context.writeFixedStrings(file, "term", ["bert", "classifier"], width: 12, pad: .nullTerm)
            try context.writeFixedStrings(file, "space", ["bert", "classifier"], width: 12, pad: .spacePad)
            try context.writeVariableStrings(file, "utf8", ["bért", "ça/kernel:0"], utf8: true)
            try context.writeVariableStrings(file, "scalar", ["tensorflow"], scalar: true)
        }
        let context = H5Context(path: path)
        let file = try context.own(H5FileOpener.open(path), .file, "open")
        #expect(try context.readStrings(file.id, "term", owner: "/") == ["bert", "classifier"])
        #expect(try context.readStrings(file.id, "space", owner: "/") == ["bert", "classifier"])
        #expect(try context.readStrings(file.id, "utf8", owner: "/") == ["bért", "ça/kernel:0"])
        #expect(try context.readStringList(file.id, "scalar", owner: "/") == ["tensorflow"])
        #expect(try context.readStringList(file.id, "missing", owner: "/") == nil)
    }

    @Test(
        "tiny BERT and GPT-2 → tf_model.h5 (--names tf) → safetensors round-trips exactly",
        arguments: ["tiny-bert", "tiny-gpt2"])
    func kerasRoundTrip(model: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let original = try Checkpoint.open(Fixtures.path("models/\(model)"))
        let h5 = folder + "/tf_model.h5"
        _ = try convert(original, to: h5, options: ConvertOptions(names: .tf))
        let keras = try HDF5Archive(path: h5, keyMaps: ModelRegistry.keyMaps)
        #expect(keras.isKerasLayout)
        let back = folder + "/back.safetensors"
        _ = try convert(try Checkpoint.open(h5), to: back, options: ConvertOptions())
        let result = try SafetensorsArchive(path: back)
        #expect(result.tensorNames.sorted() == original.archive.tensorNames.sorted())
        for name in original.archive.tensorNames {
            #expect(try result.tensor(named: name).isBitwiseEqual(to: original.archive.tensor(named: name)), "\(name)")
        }
        // The same tensors as the h5py-written Keras fixture of the same model.
        let fixture = try HDF5Archive(
            path: Fixtures.path(model == "tiny-bert" ? "hdf5/keras_bert_vlen.h5" : "hdf5/keras_gpt2_vlen.h5"),
            keyMaps: ModelRegistry.keyMaps)
        #expect(keras.tensorNames.sorted() == fixture.tensorNames.sorted())
        #expect(keras.aliases == fixture.aliases)
    }

    @Test("--names tf writes the Keras attributes and layer groups of §3.5")
    func kerasLayout() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let h5 = folder + "/tf_model.h5"
        _ = try convert(
            try Checkpoint.open(Fixtures.path("models/tiny-bert")), to: h5, options: ConvertOptions(names: .tf))
        let context = H5Context(path: h5)
        let file = try context.own(H5FileOpener.open(h5), .file, "open")
        #expect(try context.readStrings(file.id, "layer_names", owner: "/") == ["bert", "classifier"])
        #expect(try context.readStrings(file.id, "backend", owner: "/") == ["tensorflow"])
        #expect(try context.readStrings(file.id, "keras_version", owner: "/") == ["2.15.0"])
        #expect(
            context.objectType(at: "bert/tf_bert_for_sequence_classification/bert/pooler/dense/kernel:0", in: file.id)
                != nil)
        #expect(
            context.objectType(at: "classifier/tf_bert_for_sequence_classification/classifier/kernel:0", in: file.id)
                != nil)
    }

    @Test("--names hf maps a TF-named stream back and drops buffers; keep leaves names alone")
    func namesOption() throws {
        let sources = [
            TensorSource(
                name: "tf_bert_model/bert/embeddings/word_embeddings/weight:0",
                tensor: Tensor([1, 2, 3, 4], shape: [2, 2])),
            TensorSource(
                name: "tf_bert_model/bert/pooler/dense/kernel:0", tensor: Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])),
        ]
        let hf = try renameSources(sources, to: .hf, maps: ModelRegistry.keyMaps, file: "x")
        #expect(hf.sources.map(\.info.name) == ["bert.embeddings.word_embeddings.weight", "bert.pooler.dense.weight"])
        #expect(hf.sources[1].info.shape == Shape([2, 3]))
        #expect(try hf.sources[1].load().floatValues() == [1, 3, 5, 2, 4, 6])
        let old = [
            TensorSource(name: "embeddings.LayerNorm.gamma", tensor: Tensor([1], shape: [1])),
            TensorSource(name: "embeddings.word_embeddings.weight", tensor: Tensor([1], shape: [1, 1])),
            TensorSource(name: "embeddings.position_ids", tensor: Tensor([0], shape: [1, 1])),
        ]
        #expect(
            try renameSources(old, to: .hf, maps: ModelRegistry.keyMaps, file: "x").sources.map(\.info.name)
                == ["bert.embeddings.LayerNorm.weight", "bert.embeddings.word_embeddings.weight"])
        #expect(
            try renameSources(old, to: .keep, maps: ModelRegistry.keyMaps, file: "x").sources.map(\.info.name)
                == old.map(\.info.name))
    }
}
