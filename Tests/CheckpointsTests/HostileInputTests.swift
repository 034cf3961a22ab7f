// Issue 18 at the library level: the name policy in every writer, names compared by bytes, nesting bounded for
// every pickle container, duplicate config keys, and an input truncated while it is being written out.
import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Hostile inputs (issue 18)")
struct HostileInputTests {
    static let badNames: [(name: String, problem: String)] = [
        ("../../../tmp/x", "has a `..` component"), ("a/../b", "has a `..` component"),
        ("..\\x", "has a `..` component"), ("/etc/x", "is an absolute path"), ("\\x", "is an absolute path"),
        ("a\u{0}b", "holds a control character (U+0000)"), ("\u{1B}[31mred", "holds a control character (U+001B)"),
        ("del\u{7F}", "holds a control character (U+007F)"), ("c1\u{9B}", "holds a control character (U+009B)"),
        ("bidi\u{202E}txt", "holds a control character (U+202E)"),
    ]

    @Test("The policy accepts ordinary names, `/` inside names, dots and non-ASCII, and names each problem")
    func policy() {
        for name in ["h.0.attn.c_attn.weight", "x/y", "a..b", "...", ".hidden/w", "namé", "日本", "a b"] {
            #expect(TensorNamePolicy.problem(name) == nil, "\(name)")
        }
        for (name, problem) in Self.badNames { #expect(TensorNamePolicy.problem(name) == problem, "\(name)") }
        #expect(TensorNamePolicy.problem("") == "is empty")
        #expect(escapedControlCharacters("a\u{1B}[2J\u{0}b\\c") == "a\\u{1B}[2J\\u{0}b\\c")
    }

    @Test(
        "Every writer refuses each bad name with the name escaped, and writes nothing",
        arguments: ["safetensors", "npz", "npy", "bin"])
    func writersRefuse(_ format: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/out.\(format)"
        for (name, problem) in Self.badNames {
            let source = TensorSource(name: name, tensor: Tensor([1, 2], shape: [2]))
            #expect {
                switch format {
                case "safetensors": try SafetensorsWriter.write([source], metadata: nil, to: path, overwrite: false)
                case "npz": try NPZWriter.write([source], to: path, options: NPZWriter.Options())
                case "npy": try NPYWriter.write(source, to: path, overwrite: false)
                default: try TorchWriter.write([source], to: path, overwrite: false)
                }
            } throws: {
                ($0 as? CheckpointError)?.kind == .invalidName
                    && "\($0)".contains("tensor name `\(escapedControlCharacters(name))` \(problem)")
                    && !"\($0)".contains("\u{1B}")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "\(format): \(name)")
        }
        // A torch alias is a name too.
        #expect {
            try TorchWriter.write(
                [TensorSource(name: "w", tensor: Tensor([1], shape: [1]))], aliases: ["../w": "w"], to: path,
                overwrite: false)
        } throws: { "\($0)".contains("tensor name `../w` has a `..` component") }
    }

    @Test("`é` and `e`+U+0301 stay two tensors through safetensors, npz and torch, read and written")
    func canonicallyEquivalentNames() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let composed = "\u{E9}", decomposed = "e\u{301}"
        #expect(composed == decomposed)  // Swift's String ==, the reason for UTF8Key
        #expect(UTF8Key(composed) != UTF8Key(decomposed))
        let sources = [
            TensorSource(name: composed, tensor: Tensor([1, 2], shape: [2])),
            TensorSource(name: decomposed, tensor: Tensor([3, 4], shape: [2])),
        ]
        try SafetensorsWriter.write(sources, metadata: nil, to: "\(folder)/a.safetensors", overwrite: false)
        try NPZWriter.write(sources, to: "\(folder)/a.npz", options: NPZWriter.Options())
        try TorchWriter.write(sources, to: "\(folder)/a.bin", overwrite: false)
        let archives: [any TensorArchive] = [
            try SafetensorsArchive(path: "\(folder)/a.safetensors"), try NPZArchive(path: "\(folder)/a.npz"),
            try TorchArchive(path: "\(folder)/a.bin"),
        ]
        for archive in archives {
            #expect(archive.tensorNames.count == 2, "\(archive.path)")
            #expect(try archive.tensor(named: composed).floatValues() == [1, 2], "\(archive.path)")
            #expect(try archive.tensor(named: decomposed).floatValues() == [3, 4], "\(archive.path)")
        }
        // The official reader keeps both, so the fixture is read rather than refused as a duplicate key.
        let fixture = try SafetensorsArchive(path: Fixtures.path("malformed/st_canonical_equivalents.safetensors"))
        #expect(Set(fixture.tensorNames.map { Array($0.utf8) }) == [Array(composed.utf8), Array(decomposed.utf8)])
    }

    @Test("JSON keys are compared by bytes, and a repeated key keeps its last value at its first place, as Python does")
    func jsonKeys() throws {
        let json = try JSONValue.parse(#"{"a": 1, "\u00e9": 2, "b": {"x": 1, "x": 2}, "a": 3, "e\u0301": 4}"#)
        #expect(json["a"] == .number("3"))
        #expect(json["\u{E9}"] == .number("2") && json["e\u{301}"] == .number("4"))
        guard case .object(let members) = json.lastValueForEachKey() else { Issue.record("not an object"); return }
        #expect(members.map(\.key).map { Array($0.utf8) } == ["a", "\u{E9}", "b", "e\u{301}"].map { Array($0.utf8) })
        #expect(members[0].value == .number("3") && members[2].value == .object([("x", .number("2"))]))
    }

    /// A pickle nesting `depth` containers of one kind, then STOP.
    static func nested(_ kind: String, depth: Int) -> [UInt8] {
        let body: [UInt8]
        switch kind {
        case "tuple": body = Array(repeating: 0x28, count: depth) + Array(repeating: 0x74, count: depth)
        case "tuple1": body = [0x29] + Array(repeating: 0x85, count: depth - 1)
        case "list": body = Array(repeating: 0x5D, count: depth) + Array(repeating: 0x61, count: depth - 1)
        case "dict":
            body = [0x7D] + [UInt8]([0x4B, 0x00, 0x7D]).repeated(depth - 1) + Array(repeating: 0x73, count: depth - 1)
        case "set":
            body = [UInt8]([0x8F, 0x28]).repeated(depth - 1) + [0x8F] + Array(repeating: 0x90, count: depth - 1)
        default: body = Array(repeating: 0x28, count: depth) + Array(repeating: 0x91, count: depth)  // frozenset
        }
        return [0x80, 0x02] + body + [0x2E]
    }

    @Test(
        "Every container kind may nest 500 deep and is refused past 512, even 100,000 deep, without overflowing the stack",
        arguments: ["tuple", "tuple1", "list", "dict", "set", "frozenset"])
    func nestingIsBounded(_ kind: String) throws {
        _ = try unpickle(Self.nested(kind, depth: 500))
        for depth in [513, 100_000] {
            #expect {
                _ = try unpickle(Self.nested(kind, depth: depth))
            } throws: { "\($0)".contains("containers nested deeper than 512 levels") }
        }
    }

    @Test("Dict keys equal under canonical equivalence are two keys, as in Python")
    func pickleDictKeys() throws {
        // {"é": 1, "e" U+0301: 2} as EMPTY_DICT, MARK, BINUNICODE, BININT1, BINUNICODE, BININT1, SETITEMS, STOP.
        func string(_ s: String) -> [UInt8] {
            [0x58] + withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian, Array.init) + Array(s.utf8)
        }
        let pickle: [UInt8] =
            [0x80, 0x02, 0x7D, 0x28] + string("\u{E9}") + [0x4B, 1] + string("e\u{301}") + [0x4B, 2, 0x75, 0x2E]
        let value = try unpickle(pickle)
        #expect(value.dictEntries?.count == 2)
        #expect(value["\u{E9}"] == .int(1) && value["e\u{301}"] == .int(2))
    }

    @Test(
        "An input truncated by another process while it is written out fails with one error naming it; nothing is written"
    )
    func truncatedWhileConverting() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = "\(folder)/in.safetensors"
        let values = (0..<(1 << 20)).map { Float($0) }  // 4 MiB of data
        try SafetensorsWriter.write(
            [TensorSource(name: "w", tensor: Tensor(values, shape: [1 << 20]))], metadata: nil, to: input,
            overwrite: false)
        for (format, newSize) in [("safetensors", 1 << 20), ("npz", 3 << 20), ("bin", (4 << 20) + 60)] {
            let archive = try SafetensorsArchive(path: input)
            #expect(truncate(input, off_t(newSize)) == 0)
            let output = "\(folder)/out.\(format)"
            let sources = TensorSource.all(of: archive)
            #expect {
                switch format {
                case "safetensors": try SafetensorsWriter.write(sources, metadata: nil, to: output, overwrite: false)
                case "npz": try NPZWriter.write(sources, to: output, options: NPZWriter.Options())
                default: try TorchWriter.write(sources, to: output, overwrite: false)
                }
            } throws: {
                let error = $0 as? CheckpointError
                let said = "\($0)".contains("while it was being read") || "\($0)".contains("shrank from")
                return error?.kind == .truncated && error?.file == input && error?.tensor == "w" && said
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["in.safetensors"], "\(format)")
            // Restore the input for the next format.
            try SafetensorsWriter.write(
                [TensorSource(name: "w", tensor: Tensor(values, shape: [1 << 20]))], metadata: nil, to: input,
                overwrite: true)
        }
    }
}

extension Array {
    fileprivate func repeated(_ count: Int) -> [Element] { [[Element]](repeating: self, count: count).flatMap { $0 } }
}
