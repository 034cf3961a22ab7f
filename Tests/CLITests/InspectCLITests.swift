import Foundation
import Testing
import TestSupport
@testable import Checkpoints
@testable import ConvertKit

@Suite("rmt-convert inspect and convert, run as a binary")
struct InspectCLITests {
    @Test("inspect prints a table with the architecture, tensors and parameter count")
    func table() throws {
        let r = try rmtConvert(["inspect", "fixtures/models/tiny-gpt2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("architecture:  gpt2 (from config.json)"))
        #expect(r.stdout.contains("transformer.h.1.mlp.c_proj.weight"))
        let archive = try SafetensorsArchive(path: Fixtures.path("models/tiny-gpt2/model.safetensors"))
        let params = archive.tensorInfos.reduce(0) { $0 + $1.shape.elementCount }
        #expect(r.stdout.contains("parameters:    \(formatCount(params))\n"))
        #expect(r.stdout.contains("tensors:       \(archive.tensorInfos.count)\n"))
    }

    @Test("inspect --json is parseable and lists every tensor with dtype, shape and bytes")
    func json() throws {
        let r = try rmtConvert(["inspect", "fixtures/safetensors/all_dtypes.safetensors", "--json"])
        #expect(r.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let tensors = report?["tensors"] as? [[String: Any]] ?? []
        #expect(tensors.count == 14)
        let bf16 = tensors.first { $0["name"] as? String == "bf16" }
        #expect(bf16?["dtype"] as? String == "BF16")
        #expect(bf16?["shape"] as? [Int] == [2, 2])
        #expect(bf16?["bytes"] as? Int == 8)
        #expect(report?["format"] as? String == "safetensors")
    }

    @Test(
        "inspect shows names with terminal escapes and NUL escaped, in the table and in JSON, and never prints them raw"
    )
    func escapedNames() throws {
        for (file, raw, shown) in [
            ("st_name_escape", "\u{1B}[2J\u{1B}[31mred", "\\u{1B}[2J\\u{1B}[31mred"),
            ("st_name_nul", "a\u{0}b", "a\\u{0}b"),
        ] {
            let table = try rmtConvert(["inspect", "fixtures/malformed/\(file).safetensors"])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.contains(shown), "\(table.stdout)")
            #expect(!table.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
            let json = try rmtConvert(["inspect", "fixtures/malformed/\(file).safetensors", "--json"])
            #expect(json.status == 0, "\(json.stderr)")
            #expect(!json.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
            let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let names = (report?["tensors"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names == [raw])  // the JSON escapes decode to the name as stored
        }
        // C1 controls and bidirectional overrides, which JSONEncoder leaves raw, are escaped as well.
        let report = InspectReport(
            path: "p", format: "safetensors", weightsFile: "p", architecture: nil, architectureSource: nil,
            tensorCount: 1, parameterCount: 1, totalBytes: 4,
            tensors: [.init(name: "c1\u{9B}2J\u{202E}x", dtype: "F32", shape: [1], bytes: 4)], metadata: [:],
            aliases: [:], sideFiles: [], notes: [])
        let text = try report.json()
        #expect(text.contains(#""name" : "c1\u009b2J\u202ex""#), "\(text)")
        #expect(report.table().contains("c1\\u{9B}2J\\u{202E}x"))
    }

    @Test("An error naming a tensor with terminal escapes shows them escaped on its one line")
    func escapedErrorLine() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try rmtConvert(["convert", "fixtures/malformed/st_name_escape.safetensors", "\(folder)/out.npz"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("tensor name `\\u{1B}[2J\\u{1B}[31mred` holds a control character (U+001B)"))
        #expect(!r.stderr.unicodeScalars.contains { $0.value == 0x1B })
    }

    @Test(
        "inspect of the real all-MiniLM-L6-v2 finds a 22.7M-parameter BERT",
        .enabled(
            if: Fixtures.hasMiniLM(),
            "all-MiniLM-L6-v2 is absent from .cache/minilm/model: run tools/fetch-minilm.sh (make test does)"))
    func miniLM() throws {
        let r = try rmtConvert(["inspect", Fixtures.miniLM, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(report?["architecture"] as? String == "bert")
        #expect(report?["tensor_count"] as? Int == 104)
        #expect(report?["parameter_count"] as? Int == 22_713_728)
    }

    @Test(
        "bad files give one line on stderr and exit status 1",
        arguments: [
            (
                "pointer.safetensors", Array("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n".utf8),
                "Git LFS pointer"
            ),
            ("short.safetensors", [1, 2, 3], "header too small"),
            (
                "zip.safetensors", [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0],
                "expected safetensors but the content is zip"
            ),
            ("weights.unknown", [0, 1, 2], "pass --format"),
        ])
    func badFiles(name: String, bytes: [UInt8], message: String) throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Fixtures.write(bytes, to: "\(dir)/\(name)")
        for args in [["inspect", "\(dir)/\(name)"], ["convert", "\(dir)/\(name)", "\(dir)/out.safetensors"]] {
            let r = try rmtConvert(args)
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("error: \(dir)/\(name): "), "\(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.safetensors"))
        }
    }

    @Test("convert copies side files, shards on request, refuses to overwrite without --force, and round-trips exactly")
    func convertFolder() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var r = try rmtConvert([
            "convert", "fixtures/models/tiny-gpt2", "\(dir)/shards", "--max-shard-size", "30KB", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/shards").sorted()
        #expect(files.contains("config.json"))
        #expect(files.contains("model.safetensors.index.json"))
        #expect(files.filter { $0.hasPrefix("model-0") }.count >= 4)
        r = try rmtConvert(["convert", "\(dir)/shards", "\(dir)/one.safetensors"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try rmtConvert(["convert", "\(dir)/shards", "\(dir)/one.safetensors"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("already exists; pass --force"))
        r = try rmtConvert(["convert", "\(dir)/shards", "\(dir)/one.safetensors", "--force"])
        #expect(r.status == 0)
        // Same tensors and bytes as the original: the writer is deterministic, so the file is identical.
        #expect(
            try Fixtures.bytes("\(dir)/one.safetensors")
                == Fixtures.bytes(Fixtures.path("models/tiny-gpt2/model.safetensors")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("invalid arguments exit with the validation status and explain the flag")
    func badArguments() throws {
        let r = try rmtConvert(["convert", "a", "b", "--max-shard-size", "lots"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--max-shard-size"))
        let help = try rmtConvert(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("inspect"))
        #expect(help.stdout.contains("convert"))
    }
}
