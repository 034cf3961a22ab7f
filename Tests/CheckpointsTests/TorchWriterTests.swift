import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

@Suite("Torch writer")
struct TorchWriterTests {
    @Test("A rewritten torch.save state dict reads back exact, with aliases sharing their target's storage")
    func roundTrip() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = try TorchArchive(path: Fixtures.path("torch/state_dict.pt"))
        let path = "\(folder)/pytorch_model.bin"
        var progress: [Int] = []
        try TorchWriter.write(TensorSource.all(of: source), aliases: source.aliases, to: path, overwrite: false) {
            progress.append($0)
        }
        let written = try TorchArchive(path: path)
        #expect(written.folder == "pytorch_model")
        #expect(written.tensorNames == source.tensorNames && written.aliases == source.aliases)
        try expectTensors(written, match: try #require(try torchExpected()["state_dict"]))
        #expect(progress.count == source.tensorInfos.count && progress.last == source.totalBytes)
        // Each alias names its target's storage record, so torch.load shares memory between them.
        let references = Dictionary(
            uniqueKeysWithValues: try #require(written.root.dictEntries).compactMap {
                entry -> (String, TorchTensorReference)? in
                guard case .string(let name) = entry.key, case .tensor(let r) = entry.value else { return nil }
                return (name, r)
            })
        #expect(references["decoder.weight"]?.storage.key == references["embeddings.weight"]?.storage.key)
        #expect(references["flat_view"]?.storage.key == references["flat"]?.storage.key)
        #expect(Set(references.values.map(\.storage.key)).count == source.tensorInfos.count)
        #expect(references["u16"]?.storage.kind == .untyped, "u16 goes through _rebuild_tensor_v3")
    }

    @Test("The archive has torch's record order, 64-byte aligned data, version 3 and a ZIP64 end record")
    func layout() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/model_best.pth"
        let sources = [
            TensorSource(name: "a", tensor: Tensor([1, 2, 3], shape: [3])),
            TensorSource(name: "b", tensor: try Tensor(dtype: .u8, shape: [5], bytes: [1, 2, 3, 4, 5])),
        ]
        try TorchWriter.write(sources, to: path, overwrite: false)
        let zip = try ZipArchive(path: path)
        #expect(
            zip.entries.map(\.name)
                == ["data.pkl", ".format_version", ".storage_alignment", "byteorder", "data/0", "data/1", "version"]
                .map { "model_best/\($0)" })
        for entry in zip.entries {
            #expect(entry.dataRange.lowerBound % 64 == 0, "\(entry.name) data at \(entry.dataRange.lowerBound)")
            #expect(entry.compression == .stored)
        }
        func text(_ name: String) throws -> String {
            String(
                decoding: try zip.contents(of: try #require(zip.entry(named: "model_best/\(name)"))).bytes,
                as: UTF8.self)
        }
        #expect(try text("version") == "3\n" && text("byteorder") == "little")
        #expect(try text(".format_version") == "1" && text(".storage_alignment") == "64")
        let bytes = try Fixtures.bytes(path)
        #expect(
            bytes.indices.dropLast(3).contains {
                bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 6 && bytes[$0 + 3] == 6
            })
        #expect(
            TorchWriter.folderName(for: "/x/my model.bin") == "archive"
                && TorchWriter.folderName(for: "out/w-1.pt") == "w-1")
    }

    @Test("A nested {'model_state_dict', 'iteration', 'epoch'} checkpoint reads back")
    func nested() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/model_best.pth"
        let sources = [TensorSource(name: "memory_cell.memory", tensor: Tensor([0.5, -1, 2, 4], shape: [2, 2]))]
        try TorchWriter.write(
            sources, to: path, nested: TorchWriter.modelStateDictCheckpoint(extra: [("metrics", .dict([]))]),
            overwrite: false)
        let archive = try TorchArchive(path: path)
        #expect(archive.stateDict.key == "model_state_dict" && archive.tensorNames == ["memory_cell.memory"])
        #expect(
            archive.root["iteration"] == .int(0) && archive.root["epoch"] == .int(0)
                && archive.root["metrics"] == .dict([]))
        #expect(try archive.tensor(named: "memory_cell.memory").floatValues() == [0.5, -1, 2, 4])
    }

    @Test("Bad input is refused and leaves no file behind")
    func refusals() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/out.bin"
        let a = TensorSource(name: "a", tensor: Tensor([1], shape: [1]))
        expectError(.duplicateKey, containing: "tensor `a` appears twice") {
            try TorchWriter.write([a, a], to: path, overwrite: false)
        }
        expectError(.invalidArgument, containing: "alias `b` points to `c`") {
            try TorchWriter.write([a], aliases: ["b": "c"], to: path, overwrite: false)
        }
        let lying = TensorSource(info: TensorInfo(name: "x", dtype: .f32, shape: [2])) {
            Tensor([1, 2, 3], shape: [3])
        }
        expectError(.corrupt, containing: "tensor `x` loaded as f32 [3] but was declared f32 [2]") {
            try TorchWriter.write([a, lying], to: path, overwrite: false)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }
}
