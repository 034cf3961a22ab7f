// Bad input: each error names the file, the dataset or field, and what is wrong.
import Checkpoints
import ConvertKit
import Foundation
import HDF5Codec
import Models
import TensorCore
import Testing
import TestSupport

/// Expects `body` to throw a `CheckpointError` of `kind` whose description contains every string of `parts`.
func expectError(
    _ kind: CheckpointError.Kind, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("no error thrown", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(
                error.description.contains(part), "`\(part)` missing from: \(error)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("HDF5 errors")
struct HDF5ErrorTests {
    @Test("a text file named .h5 is not HDF5, through the registry and directly")
    func notHDF5() {
        let path = Fixtures.path("hdf5/not_hdf5.h5")
        expectError(.formatMismatch, [path, "not an HDF5 file"]) { _ = try ArchiveRegistry.open(path) }
        expectError(.formatMismatch, ["not an HDF5 file"]) { _ = try HDF5Archive(path: path) }
        let safetensors = Fixtures.path("models/tiny-bert/model.safetensors")
        expectError(.formatMismatch, ["expected HDF5", "safetensors"]) {
            _ = try ArchiveRegistry.open(safetensors, format: .hdf5)
        }
    }

    @Test("a string dataset is refused by name")
    func stringDataset() {
        expectError(.unsupportedDType, ["string_dataset.h5", "`vocab`", "strings"]) {
            _ = try HDF5Archive(path: Fixtures.path("hdf5/string_dataset.h5"))
        }
    }

    @Test("an unavailable filter (h5py's LZF) is named before reading")
    func lzfFilter() {
        expectError(.unsupportedContent, ["`packed`", "unsupported filter 32000", "lzf"]) {
            _ = try HDF5Archive(path: Fixtures.path("hdf5/lzf_filter.h5"))
        }
    }

    @Test("layer_names naming a missing group is an error naming it")
    func missingLayer() {
        expectError(.corrupt, ["keras_missing_layer.h5", "`classifier`", "no such group"]) {
            _ = try HDF5Archive(path: Fixtures.path("hdf5/keras_missing_layer.h5"))
        }
    }

    @Test("a GPT-2 bias whose TF shape cannot become [n] names both shapes")
    func shapeMismatch() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/bad.h5"
        let sources = [
            TensorSource(name: "transformer/wte/weight:0", tensor: Tensor([1, 2, 3, 4], shape: [2, 2])),
            TensorSource(
                name: "transformer/h_._0/attn/c_attn/bias:0", tensor: Tensor((0..<12).map(Float.init), shape: [2, 6])),
        ]
        try HDF5Writer.writeKeras(sources, modelName: "tfgp_t2lm_head_model", to: path, overwrite: false)
        expectError(.corrupt, ["bad.h5", "c_attn/bias:0", "[2, 6]", "[1, n]", "[n]"]) {
            _ = try HDF5Archive(path: path, keyMaps: ModelRegistry.keyMaps)
        }
    }

    @Test("a tensor named tensor that is also a group, or with `..`, is refused before anything is written")
    func invalidNames() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let t = Tensor([1], shape: [1])
        expectError(.invalidName, ["`a` is both a tensor and a group of `a/b`"]) {
            try HDF5Writer.write(
                [TensorSource(name: "a", tensor: t), TensorSource(name: "a/b", tensor: t)],
                metadata: nil, to: folder + "/x.h5", overwrite: false)
        }
        for bad in ["", "/x", "x/", "x//y", "x/../y"] {
            expectError(.invalidName, []) {
                try HDF5Writer.write(
                    [TensorSource(name: bad, tensor: t)], metadata: nil, to: folder + "/x.h5", overwrite: false)
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test("a load failure mid-stream leaves no output and no temporary file; an existing output needs overwrite")
    func atomicity() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/out.h5"
        let good = TensorSource(name: "w", tensor: Tensor([1, 2], shape: [2]))
        let failing = TensorSource(info: TensorInfo(name: "v", dtype: .f32, shape: [2])) {
            throw CheckpointError(.io, file: "source", "disk vanished")
        }
        expectError(.io, ["disk vanished"]) {
            try HDF5Writer.write([good, failing], metadata: nil, to: path, overwrite: false)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        try HDF5Writer.write([good], metadata: nil, to: path, overwrite: false)
        expectError(.alreadyExists, [path]) { try HDF5Writer.write([good], metadata: nil, to: path, overwrite: false) }
        try HDF5Writer.write([good], metadata: nil, to: path, overwrite: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.h5"])
    }
}
