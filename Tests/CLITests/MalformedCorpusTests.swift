// The malformed-input corpus (fixtures/malformed/expected.json, made by tools/make_malformed_fixtures.py) run
// through the built binary: every bad file is refused with one line naming it and the problem, exit status 1,
// no crash, nothing written and no temporary file left.
import Checkpoints
import Foundation
import Testing
import TestSupport

/// One entry of `fixtures/malformed/expected.json`.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    /// Relative to `fixtures/`.
    let path: String
    /// What the one-line error must contain.
    let error: String
    /// Commands that must fail; commands that must still succeed.
    let fails: [String], succeeds: [String]

    var testDescription: String { path }

    static let manifest = Fixtures.path("malformed/expected.json")

    /// Every case; empty when the manifest is unreadable (`corpusIsComplete` then fails).
    static let all: [MalformedCase] = (try? load()) ?? []

    static func load() throws -> [MalformedCase] {
        let json = try JSONValue.parse(String(decoding: try Fixtures.bytes(manifest), as: UTF8.self))
        guard case .array(let items)? = json["cases"] else { return [] }
        return items.compactMap { item in
            func strings(_ key: String) -> [String] {
                guard case .array(let list)? = item[key] else { return [] }
                return list.compactMap(\.stringValue)
            }
            guard let path = item["path"]?.stringValue, let error = item["error"]?.stringValue else { return nil }
            return MalformedCase(path: path, error: error, fails: strings("fails"), succeeds: strings("succeeds"))
        }
    }

    /// The arguments of `command` on this case, writing into `folder`.
    func arguments(_ command: String, output folder: String) -> [String] {
        let input = "fixtures/\(path)"
        let isFolder =
            (try? FileManager.default.attributesOfItem(atPath: Fixtures.path(path))[.type] as? FileAttributeType)
            == .typeDirectory
        switch command {
        case "inspect": return ["inspect", input]
        case "convert": return ["convert", input, isFolder ? "\(folder)/out" : "\(folder)/out.safetensors"]
        default:
            return [
                "run", input, "--input-ids", "fixtures/malformed/inputs/input_ids.npy", "--output",
                "\(folder)/out.safetensors",
            ]
        }
    }
}

/// Hidden temporary files (`.NAME.tmp-XXXXXX`) anywhere below `folder`.
func temporaryFiles(below folder: String) -> [String] {
    (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).filter {
        ($0 as NSString).lastPathComponent.hasPrefix(".") && $0.contains(".tmp-")
    }
}

@Suite("Malformed corpus through the binary")
struct MalformedCorpusTests {
    @Test(
        "Every malformed file fails with one `error: <path>:` line naming the problem, and writes nothing",
        arguments: MalformedCase.all)
    func refusedCleanly(_ entry: MalformedCase) throws {
        #expect(
            FileManager.default.fileExists(atPath: Fixtures.path(entry.path)),
            "missing corpus file; run tools/make_malformed_fixtures.py")
        for command in entry.fails {
            let folder = try Fixtures.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let result = try rmtConvert(entry.arguments(command, output: folder))
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(result.status == 1, "\(command) \(entry.path): status \(result.status)\n\(result.stderr)")
            #expect(lines.count == 1, "\(command) \(entry.path): stderr is not one line:\n\(result.stderr)")
            let line = lines.first.map(String.init) ?? ""
            #expect(line.hasPrefix("error: fixtures/\(entry.path)"), "\(command): \(line)")
            #expect(line.contains(entry.error), "\(command) \(entry.path): expected `\(entry.error)` in: \(line)")
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty,
                "\(command) \(entry.path) wrote output")
        }
        for command in entry.succeeds {
            let folder = try Fixtures.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let result = try rmtConvert(entry.arguments(command, output: folder))
            #expect(result.status == 0, "\(command) \(entry.path) should succeed:\n\(result.stderr)")
        }
    }

    @Test("The corpus covers every format with at least 40 files, lists every file, and no run left a temporary file")
    func corpusIsComplete() throws {
        let cases = try MalformedCase.load()
        #expect(cases.count >= 40)
        for prefix in [
            "malformed/st_", "malformed/npy_", "malformed/npz_", "malformed/pt_", "malformed/h5_", "malformed/cfg_",
        ] {
            #expect(cases.filter { $0.path.hasPrefix(prefix) }.count >= 3, "\(prefix)")
        }
        let listed = Set(cases.map(\.path))
        let root = Fixtures.path("malformed")
        let entries = try FileManager.default.contentsOfDirectory(atPath: root)
        let helpers: Set<String> = ["expected.json", "inputs", "config_control"]
        for name in entries where !helpers.contains(name) && !name.hasPrefix(".") {
            #expect(listed.contains("malformed/\(name)"), "\(name) is not in expected.json")
        }
        #expect(temporaryFiles(below: root).isEmpty)
    }

    @Test(
        "The control folder (valid config, same weights and inputs) runs, so each config case fails on its config alone"
    )
    func controlRuns() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try rmtConvert([
            "run", "fixtures/malformed/config_control", "--input-ids", "fixtures/malformed/inputs/input_ids.npy",
            "--output", "\(folder)/out.safetensors",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(folder)/out.safetensors"))
    }
}
