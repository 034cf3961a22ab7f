// Issue 18, item 7: `é` (U+00E9) and `e` + U+0301 are two names to safetensors, numpy, torch and h5py, while Swift's
// String == calls them equal. Through the binary: they stay two tensors, two aliases and two metadata keys in
// `convert` and `inspect --json`, and two ignored keys (not a collision) when `run` loads a model. RMT loading:
// RMTCheckpointTests.
import Checkpoints
import Foundation
import TensorCore
import Testing
import TestSupport

private let composed = "\u{E9}", decomposed = "e\u{301}"

/// The UTF-8 bytes of each string, to compare names without Swift's canonical equivalence.
private func bytes(_ names: [String]) -> [[UInt8]] { names.map { Array($0.utf8) } }

@Suite("Canonically equivalent names through the binary")
struct CanonicalNamesCLITests {
    /// A safetensors file with tensors `é` [1, 2], `e`+U+0301 [3, 4], `w` [5, 6] and two aliases in its metadata:
    /// `tie` + `é` → `é`, `tie` + `e`+U+0301 → `e`+U+0301.
    func source(in folder: String) throws -> String {
        let path = "\(folder)/names.safetensors"
        try SafetensorsWriter.write(
            [
                TensorSource(name: composed, tensor: Tensor([1, 2], shape: [2])),
                TensorSource(name: decomposed, tensor: Tensor([3, 4], shape: [2])),
                TensorSource(name: "w", tensor: Tensor([5, 6], shape: [2])),
            ],
            metadata: [("format", "pt"), ("tie" + composed, composed), ("tie" + decomposed, decomposed)], to: path,
            overwrite: false)
        return path
    }

    @Test("convert keeps both tensors (and both aliases) in every writer's output, each with its own values")
    func convert() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = try source(in: folder)
        for ext in ["safetensors", "npz", "bin", "h5"] {
            let output = "\(folder)/out.\(ext)"
            let r = try rmtConvert(["convert", input, output])
            #expect(r.status == 0, "\(ext): \(r.stderr)")
            let archive: any TensorArchive =
                ext == "bin"
                ? try TorchArchive(path: output)
                : ext == "npz"
                    ? try NPZArchive(path: output)
                    : ext == "safetensors"
                        ? try SafetensorsArchive(path: output)
                        : try openWithHDF5(output)
            #expect(Set(bytes(archive.tensorNames)) == Set(bytes([composed, decomposed, "w"])), "\(ext)")
            #expect(try archive.tensor(named: composed).floatValues() == [1, 2], "\(ext)")
            #expect(try archive.tensor(named: decomposed).floatValues() == [3, 4], "\(ext)")
            guard ext == "bin" || ext == "safetensors" else { continue }
            // torch shares storage between an alias and its target; safetensors keeps the aliases in metadata.
            #expect(
                Set(bytes(archive.aliases.keys.map { "\($0)" })) == Set(bytes(["tie" + composed, "tie" + decomposed])))
            #expect(try archive.tensor(named: "tie" + composed).floatValues() == [1, 2], "\(ext)")
            #expect(try archive.tensor(named: "tie" + decomposed).floatValues() == [3, 4], "\(ext)")
        }
    }

    /// HDF5 is read through the binary (this target does not link libhdf5): `convert` it back to safetensors.
    func openWithHDF5(_ path: String) throws -> any TensorArchive {
        let back = path + ".safetensors"
        let r = try rmtConvert(["convert", path, back])
        #expect(r.status == 0, "\(r.stderr)")
        return try SafetensorsArchive(path: back)
    }

    @Test("inspect --json lists both aliases and both metadata keys (Foundation's encoder would merge them)")
    func inspectJSON() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try rmtConvert(["inspect", try source(in: folder), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONValue.parse(r.stdout)
        for field in ["aliases", "metadata"] {
            guard case .object(let members)? = report[field] else {
                Issue.record("no \(field)")
                continue
            }
            #expect(
                Set(bytes(members.map(\.key))).isSuperset(of: bytes(["tie" + composed, "tie" + decomposed])),
                "\(field): \(members.map(\.key))")
        }
        guard case .array(let tensors)? = report["tensors"] else {
            Issue.record("no tensors")
            return
        }
        #expect(Set(bytes(tensors.compactMap { $0["name"]?.stringValue })) == Set(bytes([composed, decomposed, "w"])))
    }

    @Test("run loads a BERT whose file also holds `cls.é` and `cls.e`+U+0301: two ignored head keys, no collision")
    func runModel() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = "\(folder)/model"
        try Fixtures.copyCheckpoint(
            Fixtures.path("malformed/config_control"), to: model, adding: ["cls." + composed, "cls." + decomposed])
        let r = try rmtConvert(
            [
                "run", model, "--input-ids", "fixtures/malformed/inputs/input_ids.npy", "--output",
                "\(folder)/out.safetensors",
            ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ignored 2 keys of other heads"), "\(r.stdout)")
    }
}
