import Checkpoints
import ConvertKit
import Foundation
import TensorCore
import Testing
import TestSupport

@Suite("Torch conversions through ConvertKit")
struct TorchConvertTests {
    /// safetensors → torch → safetensors with `convert`, returning the final file's bytes.
    func roundTrip(_ source: String, in folder: String) throws -> [UInt8] {
        let torchPath = "\(folder)/\(UUID().uuidString).bin"
        let back = "\(folder)/\(UUID().uuidString).safetensors"
        _ = try convert(try Checkpoint.open(source), to: torchPath, options: ConvertOptions())
        #expect(try Checkpoint.open(torchPath).archive.format == .torch)
        _ = try convert(try Checkpoint.open(torchPath), to: back, options: ConvertOptions())
        return try Fixtures.bytes(back)
    }

    @Test("safetensors → torch → safetensors is byte-identical for every dtype, scalars, empty tensors and aliases")
    func everyDType() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let allDTypes = Fixtures.path("safetensors/all_dtypes.safetensors")
        #expect(try roundTrip(allDTypes, in: folder) == Fixtures.bytes(allDTypes))

        // The dtypes that fixture lacks (v3 tensors on untyped storages, complex), plus a tied name.
        let extra = "\(folder)/extra.safetensors"
        let sources =
            try [(DType.u16, 2), (.u32, 4), (.u64, 8), (.c64, 8), (.f8E4M3, 1), (.f8E5M2, 1)].map { dtype, size in
                TensorSource(
                    name: dtype.rawValue,
                    tensor: try Tensor(
                        dtype: dtype, shape: [3], bytes: (0..<3 * size).map { UInt8(255 - $0 * 7 % 256) }))
            } + [TensorSource(name: "wte", tensor: Tensor([1, -2, 3.5, 0], shape: [2, 2]))]
        try SafetensorsWriter.write(
            sources, metadata: [("format", "pt"), ("lm_head.weight", "wte")], to: extra, overwrite: false)
        #expect(try roundTrip(extra, in: folder) == Fixtures.bytes(extra))
    }

    @Test("Legacy and nested torch files open through the registry and convert to safetensors")
    func legacyAndNested() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let legacy = try Checkpoint.open(Fixtures.path("torch/state_dict_legacy.pt"))
        #expect(legacy.archive.format == .torch && legacy.archive.notes.contains { $0.contains("legacy") })
        let nested = try Checkpoint.open(Fixtures.path("torch/nested.pth"))
        #expect(nested.archive.tensorNames == ["0.weight", "0.bias", "1.weight", "1.bias"])
        _ = try convert(nested, to: "\(folder)/nested.safetensors", options: ConvertOptions())
        let back = try Checkpoint.open("\(folder)/nested.safetensors").archive
        for name in nested.archive.tensorNames {
            #expect(try back.tensor(named: name).isBitwiseEqual(to: nested.archive.tensor(named: name)), "\(name)")
        }
    }

    @Test("A .bin that is neither a torch zip nor a legacy pickle is refused with a request for --format")
    func refusesOtherBin() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Fixtures.write(Array("lmgg\u{1}\u{0}\u{0}\u{0}raw ggml weights".utf8), to: "\(folder)/ggml-model.bin")
        #expect {
            _ = try Checkpoint.open("\(folder)/ggml-model.bin")
        } throws: { error in
            "\(error)".contains("expected a torch checkpoint") && "\(error)".contains("pass --format")
        }
        let npz = "\(folder)/weights.bin"
        let zip = try ZipWriter(path: npz, overwrite: false)
        try zip.add(name: "w.npy", bytes: [1, 2, 3])
        try zip.finish()
        #expect {
            _ = try Checkpoint.open(npz)
        } throws: { error in
            "\(error)".contains("not a torch checkpoint") && "\(error)".contains("--format")
        }
    }
}
