// The malformed-input corpus (fixtures/malformed/expected.json, made by tools/make_malformed_fixtures.py) run
// through the built binary: every bad file is refused with one line naming it and the problem, exit status 1,
// no crash, no hang (each run is killed after `RunLimits.corpus`), nothing written and no temporary file left.
import Checkpoints
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One entry of `fixtures/malformed/expected.json`.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    /// Relative to `fixtures/`.
    let path: String
    /// What the one-line error must contain.
    let error: String
    /// Commands that must fail; commands that must still succeed.
    let fails: [String], succeeds: [String]
    /// A member of the case folder replaced by a named pipe in a temporary copy (git cannot hold a FIFO).
    let fifo: String?
    /// The output extensions `convert` is run with (one run each); `safetensors` when absent.
    let convertTo: [String]
    /// The warning a succeeding `inspect` (stdout) or `convert` (stderr) must print: config.json and the weights
    /// disagree on a size.
    let note: String?

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
            let convertTo = strings("convert_to")
            return MalformedCase(
                path: path, error: error, fails: strings("fails"), succeeds: strings("succeeds"),
                fifo: item["fifo"]?.stringValue, convertTo: convertTo.isEmpty ? ["safetensors"] : convertTo,
                note: item["note"]?.stringValue)
        }
    }

    /// The input the commands run on: the case itself, or a temporary copy of its folder holding the FIFO.
    /// - Returns: the path to pass, relative to the repository root or absolute, and the copy to remove (if any).
    func preparedInput() throws -> (input: String, copy: String?) {
        guard let fifo else { return ("fixtures/\(path)", nil) }
        let copy = try Fixtures.temporaryFolder()
        let folder = "\(copy)/\((path as NSString).lastPathComponent)"
        try FileManager.default.copyItem(atPath: Fixtures.path(path), toPath: folder)
        guard mkfifo("\(folder)/\(fifo)", 0o600) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "\(folder)/\(fifo)"])
        }
        return (folder, copy)
    }

    /// The runs of `command` on `input`, writing into `folder`: one per output extension for `convert` of a file.
    func runs(_ command: String, input: String, output folder: String) -> [[String]] {
        let isFolder =
            (try? FileManager.default.attributesOfItem(atPath: Fixtures.path(path))[.type] as? FileAttributeType)
            == .typeDirectory
        switch command {
        case "inspect": return [["inspect", input]]
        case "convert":
            return isFolder
                ? [["convert", input, "\(folder)/out"]] : convertTo.map { ["convert", input, "\(folder)/out.\($0)"] }
        case "tokenize": return [["tokenize", input, "--text", "hello"]]
        default:
            return [
                [
                    "run", input, "--input-ids", "fixtures/malformed/inputs/input_ids.npy", "--output",
                    "\(folder)/out.safetensors",
                ]
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
        "Every malformed file fails with one `error: <path>:` line naming the problem, in bounded time and memory, and writes nothing",
        arguments: MalformedCase.all)
    func refusedCleanly(_ entry: MalformedCase) throws {
        #expect(
            FileManager.default.fileExists(atPath: Fixtures.path(entry.path)),
            "missing corpus file; run tools/make_malformed_fixtures.py")
        let (input, copy) = try entry.preparedInput()
        defer { if let copy { try? FileManager.default.removeItem(atPath: copy) } }
        for command in entry.fails {
            let folder = try Fixtures.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            for arguments in entry.runs(command, input: input, output: folder) {
                let label = arguments.joined(separator: " ")
                let result = try rmtConvert(arguments, limits: .corpus)
                let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
                #expect(!result.timedOut, "\(label): killed after \(RunLimits.corpus.seconds) s (a hang)")
                #expect(result.status == 1, "\(label): status \(result.status)\n\(result.stderr)")
                #expect(lines.count == 1, "\(label): stderr is not one line:\n\(result.stderr)")
                let line = lines.first.map(String.init) ?? ""
                #expect(line.hasPrefix("error: \(input)"), "\(label): \(line)")
                #expect(line.contains(entry.error), "\(label): expected `\(entry.error)` in: \(line)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "\(label) wrote output")
            }
        }
        for command in entry.succeeds {
            let folder = try Fixtures.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            for arguments in entry.runs(command, input: input, output: folder) {
                let result = try rmtConvert(arguments, limits: .corpus)
                #expect(!result.timedOut, "\(arguments.joined(separator: " ")): killed (a hang)")
                #expect(
                    result.status == 0, "\(arguments.joined(separator: " ")) should succeed:\n\(result.stderr)")
                if let note = entry.note, ["inspect", "convert"].contains(command) {
                    let shown = command == "inspect" ? result.stdout : result.stderr
                    #expect(
                        shown.contains(note), "\(arguments.joined(separator: " ")) should warn `\(note)`:\n\(shown)")
                }
            }
        }
    }

    @Test("The corpus covers every format with at least 3 files, lists every file, and no run left a temporary file")
    func corpusIsComplete() throws {
        let cases = try MalformedCase.load()
        #expect(cases.count >= 150)
        for prefix in [
            "malformed/st_", "malformed/npy_", "malformed/npz_", "malformed/pt_", "malformed/h5_", "malformed/cfg_",
            "malformed/shard_", "malformed/fifo_", "malformed/rmt_",
        ] {
            #expect(cases.filter { $0.path.hasPrefix(prefix) }.count >= 3, "\(prefix)")
        }
        let listed = Set(cases.map(\.path))
        let root = Fixtures.path("malformed")
        let entries = try FileManager.default.contentsOfDirectory(atPath: root)
        let helpers: Set<String> = ["expected.json", "inputs", "config_control", "config_control_gpt2", "rmt_control"]
        for name in entries where !helpers.contains(name) && !name.hasPrefix(".") {
            #expect(listed.contains("malformed/\(name)"), "\(name) is not in expected.json")
        }
        #expect(temporaryFiles(below: root).isEmpty)
    }

    @Test(
        "The control folders (valid configs, same weights and inputs) run, so each config case fails on its config alone",
        arguments: ["config_control", "config_control_gpt2", "rmt_control"])
    func controlRuns(_ control: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try rmtConvert(
            [
                "run", "fixtures/malformed/\(control)", "--input-ids", "fixtures/malformed/inputs/input_ids.npy",
                "--output", "\(folder)/out.safetensors",
            ], limits: .corpus)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(folder)/out.safetensors"))
    }

    @Test("A run past its time limit is killed and reported, so a hang fails the corpus instead of hanging it")
    func hangsAreBounded() throws {
        let start = Date()
        let result = try runCommand("/bin/sleep", ["30"], limits: RunLimits(seconds: 1))
        #expect(result.timedOut)
        #expect(Date().timeIntervalSince(start) < 20)
    }
}
