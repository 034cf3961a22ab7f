import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

/// `fixtures/torch/expected.json`, written by tools/make_torch_fixtures.py from the tensors torch saved.
func torchExpected() throws -> JSONValue {
    try JSONValue.parse(String(decoding: try Fixtures.bytes(Fixtures.path("torch/expected.json")), as: UTF8.self))
}

/// Checks every tensor of `archive` against `expected` (name → dtype, shape, little-endian bytes as hex):
/// the stored tensors and the aliases together cover exactly the expected names.
func expectTensors(_ archive: any TensorArchive, match expected: JSONValue, skipping skipped: Set<String> = []) throws {
    guard case .object(let members) = expected else { Issue.record("expected tensors are not an object"); return }
    let names = Set(archive.tensorNames).union(archive.aliases.keys.map(\.string))
    #expect(names == Set(members.map(\.key)).subtracting(skipped))
    for (name, spec) in members where !skipped.contains(name) {
        let tensor = try archive.tensor(named: name)
        #expect(tensor.dtype.rawValue == spec["dtype"]?.stringValue, "\(name)")
        let shape = try #require(
            spec["shape"].flatMap { v -> [Int]? in
                guard case .array(let dims) = v else { return nil }
                return dims.compactMap(\.integerValue)
            })
        #expect(tensor.shape == Shape(shape), "\(name)")
        let hexText = try #require(spec["hex"]?.stringValue)
        let bytes = stride(from: 0, to: hexText.count, by: 2).map { i -> UInt8 in
            let start = hexText.index(hexText.startIndex, offsetBy: i)
            return UInt8(hexText[start..<hexText.index(start, offsetBy: 2)], radix: 16)!
        }
        #expect(Array(tensor.bytes) == bytes, "\(name): bytes differ")
    }
}

/// Writes a torch-style archive whose data.pkl is `pickle` and whose storages are `records`.
func makeTorchZip(
    _ folder: String, pickle: [UInt8], records: [(String, [UInt8])], version: Bool = true,
    compression: ZipCompression = .stored
) throws -> String {
    let path = "\(folder)/handmade-\(UUID().uuidString).pt"
    let zip = try ZipWriter(path: path, overwrite: false)
    try zip.add(name: "archive/data.pkl", bytes: pickle)
    try zip.add(name: "archive/byteorder", bytes: Array("little".utf8))
    for (key, bytes) in records { try zip.add(name: "archive/data/\(key)", bytes: bytes, compression: compression) }
    if version { try zip.add(name: "archive/version", bytes: Array("3\n".utf8)) }
    try zip.finish()
    return path
}

let zeroToFive: [UInt8] = (0..<6).flatMap { withUnsafeBytes(of: Float($0)) { Array($0) } }

@Suite("Torch archive reader")
struct TorchArchiveTests {
    @Test("torch.save output reads with every dtype, strided, stride-0, offset, scalar, empty and tied tensors exact")
    func stateDict() throws {
        let expected = try torchExpected()
        let archive = try TorchArchive(path: Fixtures.path("torch/state_dict.pt"))
        #expect(archive.folder == "archive" && !archive.isLegacy && !archive.isBigEndian)
        try expectTensors(archive, match: try #require(expected["state_dict"]))
        #expect(archive.aliases == ["decoder.weight": "embeddings.weight", "flat_view": "flat"])
        #expect(try archive.tensor(named: "f32").storage.isMapped, "contiguous stored records are zero-copy")
        #expect(!(try archive.tensor(named: "transposed").storage.isMapped))
        #expect(try archive.tensor(named: "position_ids").int64Values() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
        #expect(try archive.tensor(named: "flat_tail").floatValues() == [0.75, 1.0, 1.25])
        #expect(try archive.tensor(named: "transposed").floatValues() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    }

    @Test("Protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL), legacy and big-endian archives read the same tensors")
    func variants() throws {
        let expected = try #require(try torchExpected()["state_dict"])
        try expectTensors(try TorchArchive(path: Fixtures.path("torch/state_dict_p4.pt")), match: expected)
        let legacy = try TorchArchive(path: Fixtures.path("torch/state_dict_legacy.pt"))
        #expect(legacy.isLegacy)
        try expectTensors(legacy, match: expected, skipping: ["u16"])
        #expect(legacy.aliases == ["decoder.weight": "embeddings.weight", "flat_view": "flat"])
        let big = try TorchArchive(path: Fixtures.path("torch/state_dict_big.pt"))
        #expect(big.isBigEndian)
        try expectTensors(big, match: expected)
    }

    @Test("A nested checkpoint yields its model_state_dict and keeps the rest as plain values")
    func nested() throws {
        let expected = try torchExpected()
        let archive = try TorchArchive(path: Fixtures.path("torch/nested.pth"))
        #expect(archive.folder == "nested" && archive.stateDict.key == "model_state_dict")
        try expectTensors(archive, match: try #require(expected["nested"]?["model_state_dict"]))
        #expect(archive.root["epoch"] == .int(3))
        guard case .list(let groups)? = archive.root["optimizer_state_dict"]?["param_groups"] else {
            Issue.record("no param_groups"); return
        }
        #expect(groups.first?["lr"] == .float(0.001) && groups.first?["betas"] == .tuple([.float(0.9), .float(0.999)]))
        #expect(groups.first?["params"] == .list([.int(0), .int(1), .int(2), .int(3)]))
        #expect(archive.notes.contains { $0.contains("model_state_dict") })
        expectError(
            .unsupportedContent, containing: "top-level key `optimizer_state_dict` holds a dict, not a dict of tensors"
        ) {
            _ = try TorchArchive(path: Fixtures.path("torch/nested.pth"), stateDictKey: "optimizer_state_dict")
        }
        expectError(.unsupportedContent, containing: "`model_state_dict`, `optimizer_state_dict`, `epoch`") {
            _ = try TorchArchive(path: Fixtures.path("torch/nested.pth"), stateDictKey: "weights")
        }
    }

    @Test("TorchScript, tar-format and non-torch files are refused with what they are")
    func refusals() throws {
        expectError(.unsupportedContent, containing: "is a TorchScript model") {
            _ = try TorchArchive(path: Fixtures.path("torch/torchscript.pt"))
        }
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var tar = [UInt8](repeating: 0, count: 1024)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        try Fixtures.write(tar, to: "\(folder)/old.pt")
        expectError(.unsupportedContent, containing: "tar-format torch checkpoint") {
            _ = try TorchArchive(path: "\(folder)/old.pt")
        }
        try Fixtures.write(Array("GGML raw dump".utf8), to: "\(folder)/ggml.bin")
        expectError(.formatMismatch, containing: "is not a torch checkpoint") {
            _ = try TorchArchive(path: "\(folder)/ggml.bin")
        }
        let noVersion = try makeTorchZip(folder, pickle: vector58, records: [("0", zeroToFive)], version: false)
        expectError(.corrupt, containing: "lacks its `archive/version` record") {
            _ = try TorchArchive(path: noVersion)
        }
    }

    @Test("The §5.8 vector zipped by hand reads; a tied pair is an alias and an offset view is its own tensor")
    func handmade() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try makeTorchZip(folder, pickle: vector58, records: [("0", zeroToFive)])
        let archive = try TorchArchive(path: path)
        #expect(try archive.tensor(named: "w").floatValues() == [0, 1, 2, 3, 4, 5])
        let tied = PickleWriter.stateDict([
            TorchPickledTensor(name: "w", dtype: .f32, shape: [2, 3], storageKey: "0", storageByteCount: 24),
            TorchPickledTensor(name: "t", dtype: .f32, shape: [2, 3], storageKey: "0", storageByteCount: 24),
            TorchPickledTensor(name: "v", dtype: .f32, shape: [3], storageKey: "0", storageByteCount: 24, offset: 3),
        ])
        let tiedArchive = try TorchArchive(path: try makeTorchZip(folder, pickle: tied, records: [("0", zeroToFive)]))
        #expect(tiedArchive.tensorNames == ["w", "v"] && tiedArchive.aliases == ["t": "w"])
        #expect(try tiedArchive.tensor(named: "v").floatValues() == [3, 4, 5])
        #expect(try tiedArchive.tensor(named: "t").floatValues() == [0, 1, 2, 3, 4, 5])
        let deflated = try TorchArchive(
            path: try makeTorchZip(folder, pickle: tied, records: [("0", zeroToFive)], compression: .deflate))
        #expect(try deflated.tensor(named: "v").floatValues() == [3, 4, 5])
    }

    @Test("A damaged storage record fails its CRC-32 check when the tensor is read")
    func damagedRecord() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = try Fixtures.bytes(Fixtures.path("torch/state_dict.pt"))
        let entry = try #require(
            try ZipArchive(path: Fixtures.path("torch/state_dict.pt")).entry(named: "archive/data/0"))
        bytes[entry.dataRange.lowerBound] ^= 0xFF
        try Fixtures.write(bytes, to: "\(folder)/damaged.pt")
        let archive = try TorchArchive(path: "\(folder)/damaged.pt")
        expectError(.corrupt, containing: "CRC-32 mismatch") { _ = try archive.tensor(named: "f32") }
        #expect(try archive.tensor(named: "f16").shape == [2, 3], "other records stay readable")
    }

    @Test("Storage records that are short, or views that reach past them, are refused naming the tensor")
    func boundsChecks() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let short = try makeTorchZip(folder, pickle: vector58, records: [("0", Array(zeroToFive.prefix(20)))])
        expectError(
            .corrupt,
            containing:
                "tensor `w`: storage record `archive/data/0` holds 20 bytes but the pickle declares 6 elements of 4 bytes"
        ) {
            _ = try TorchArchive(path: short)
        }
        let missing = try makeTorchZip(folder, pickle: vector58, records: [])
        expectError(.corrupt, containing: "its storage record `archive/data/0` is missing") {
            _ = try TorchArchive(path: missing)
        }
        let beyond = PickleWriter.stateDict([
            TorchPickledTensor(name: "late", dtype: .f32, shape: [3], storageKey: "0", storageByteCount: 24, offset: 4)
        ])
        expectError(.invalidOffset, containing: "tensor `late`: view [3] with strides [1] at offset 4 reaches byte 28")
        {
            _ = try TorchArchive(path: try makeTorchZip(folder, pickle: beyond, records: [("0", zeroToFive)]))
        }
    }
}
