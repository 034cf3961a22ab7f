import Checkpoints
import ConvertKit
import Foundation
import Testing
import TestSupport
import TensorCore

@Suite("convert and inspect through .npz")
struct NPZConvertTests {
    @Test("a BERT folder converts to model.npz and back to a byte-identical model.safetensors")
    func folderRoundTrip() throws {
        let tmp = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let source = try Checkpoint.open(Fixtures.path("models/tiny-bert"))
        let toNPZ = try convert(source, to: "\(tmp)/npz", options: ConvertOptions(format: .npz))
        #expect(toNPZ.outputs == ["\(tmp)/npz/model.npz"])
        #expect(toNPZ.copiedFiles.contains("config.json"))
        let npz = try Checkpoint.open("\(tmp)/npz")
        #expect(npz.archive.format == .npz)
        #expect(npz.archive.tensorNames == source.archive.tensorNames)
        #expect(inspect(npz).tensors.count == source.archive.tensorInfos.count)
        _ = try convert(npz, to: "\(tmp)/back.safetensors", options: ConvertOptions())
        #expect(
            try Fixtures.bytes("\(tmp)/back.safetensors")
                == Fixtures.bytes(Fixtures.path("models/tiny-bert/model.safetensors")))
    }

    @Test(
        "every dtype survives safetensors → npz (--compress) → safetensors; with --keep-bf16 the file is byte-identical",
        arguments: [false, true])
    func dtypes(_ keepBF16: Bool) throws {
        let tmp = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let original = Fixtures.path("safetensors/all_dtypes.safetensors")
        let source = try Checkpoint.open(original)
        _ = try convert(source, to: "\(tmp)/a.npz", options: ConvertOptions(compress: true, keepBF16: keepBF16))
        let npz = try Checkpoint.open("\(tmp)/a.npz", readOptions: ReadOptions(keepBF16: keepBF16))
        _ = try convert(npz, to: "\(tmp)/b.safetensors", options: ConvertOptions(keepBF16: keepBF16))
        let back = try Checkpoint.open("\(tmp)/b.safetensors").archive
        for info in source.archive.tensorInfos {
            let a = try source.archive.tensor(named: info.name), b = try back.tensor(named: info.name)
            let comparable = (info.dtype == .bf16 && !keepBF16) ? try b.converted(to: .bf16) : b
            #expect(comparable.isBitwiseEqual(to: a), "\(info.name)")
        }
        if keepBF16 { #expect(try Fixtures.bytes("\(tmp)/b.safetensors") == Fixtures.bytes(original)) }
    }

    @Test("a single .npy opens as one tensor named after the file; .npz and .npy content is confirmed by its signature")
    func registry() throws {
        let npy = try ArchiveRegistry.open(Fixtures.path("numpy/n1_f32.npy"))
        #expect(npy.format == .npy && npy.tensorNames == ["n1_f32"])
        let tmp = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try Fixtures.write(Fixtures.bytes(Fixtures.path("numpy/n1_f32.npy")), to: "\(tmp)/wrong.npz")
        #expect(throws: CheckpointError.self) { _ = try ArchiveRegistry.open("\(tmp)/wrong.npz") }
        do {
            _ = try ArchiveRegistry.open("\(tmp)/wrong.npz")
        } catch let e as CheckpointError {
            #expect(e.kind == .formatMismatch && e.message.contains("content is npy"))
        }
        let bf16 = try ArchiveRegistry.open(
            Fixtures.path("numpy/bf16_v2.npy"), readOptions: ReadOptions(keepBF16: true))
        #expect(bf16.tensorInfos[0].dtype == .bf16)
        // One tensor converts to .npy; several are refused with a pointer to .npz.
        _ = try convert(
            try Checkpoint.open(Fixtures.path("numpy/n1_f32.npy")), to: "\(tmp)/one.npy", options: ConvertOptions())
        #expect(try Fixtures.bytes("\(tmp)/one.npy") == Fixtures.bytes(Fixtures.path("numpy/n1_f32.npy")))
        #expect(throws: CheckpointError.self) {
            _ = try convert(
                try Checkpoint.open(Fixtures.path("numpy/n4_savez.npz")), to: "\(tmp)/many.npy",
                options: ConvertOptions())
        }
    }
}
