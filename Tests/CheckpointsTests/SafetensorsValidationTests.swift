import Testing
import TestSupport
@testable import Checkpoints

/// Every validation rule of docs/FORMATS.md §1.3 and the rmt-convert policy of §1.4, each with a failing case.
@Suite("safetensors reader: validation")
struct SafetensorsValidationTests {
    /// A file: the header text after a correct length prefix, then `data` bytes.
    static func file(_ header: String, data: Int = 0, prefix: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return withUnsafeBytes(of: (prefix ?? UInt64(h.count)).littleEndian) { Array($0) } + h
            + [UInt8](repeating: 0, count: data)
    }

    static func parse(_ bytes: [UInt8]) throws -> SafetensorsHeader {
        try bytes.withUnsafeBytes { try SafetensorsHeader.parse($0, fileSize: bytes.count, path: "t.safetensors") }
    }

    static func kind(_ bytes: [UInt8]) -> CheckpointError.Kind? {
        do { _ = try parse(bytes); return nil } catch let e as CheckpointError { return e.kind } catch { return nil }
    }

    static let rejected: [(String, [UInt8], CheckpointError.Kind)] = [
        ("2-byte file", [1, 2], .headerTooSmall),
        ("N = 100 000 001", file("{}", prefix: 100_000_001), .headerTooLarge),
        ("N = 100 with a 10-byte file", [100, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D], .invalidHeaderLength),
        (
            "header not UTF-8", file("{\"\u{FF}\":1}").enumerated().map { $0.offset == 10 ? 0xFF : $0.element },
            .invalidHeader
        ),
        (
            "gap before the first tensor", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, data: 2),
            .invalidOffset
        ),
        (
            "overlapping tensors",
            file(
                #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
                data: 2), .invalidOffset
        ),
        (
            "end before begin",
            file(
                #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"c":{"dtype":"U8","shape":[1],"data_offsets":[2,1]}}"#,
                data: 1), .invalidOffset
        ),
        (
            "size disagrees with the shape", file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 4),
            .tensorInvalidInfo
        ),
        (
            "trailing bytes", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: 2),
            .metadataIncompleteBuffer
        ),
        (
            "truncated data", file(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, data: 2),
            .metadataIncompleteBuffer
        ),
        (
            "overflowing shape",
            file(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: 4),
            .validationOverflow
        ),
        (
            "shape beyond Int",
            file(#"{"a":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,4]}}"#, data: 4),
            .validationOverflow
        ),
        (
            "unknown dtype F128", file(#"{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#, data: 16),
            .invalidHeaderDeserialization
        ),
        (
            "lower-case dtype", file(#"{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#, data: 4),
            .invalidHeaderDeserialization
        ),
        ("non-string metadata value", file(#"{"__metadata__":{"a":1}}"#), .invalidHeaderDeserialization),
        (
            "fractional shape 1.0", file(#"{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}"#, data: 1),
            .invalidHeaderDeserialization
        ),
        (
            "exponent shape 1e0", file(#"{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}"#, data: 1),
            .invalidHeaderDeserialization
        ),
        (
            "negative offset", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}"#, data: 1),
            .invalidHeaderDeserialization
        ),
        (
            "three offsets", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}"#, data: 1),
            .invalidHeaderDeserialization
        ),
        ("missing dtype", file(#"{"a":{"shape":[1],"data_offsets":[0,1]}}"#, data: 1), .invalidHeaderDeserialization),
        ("tensor entry not an object", file(#"{"a":[1,2]}"#), .invalidHeaderDeserialization),
        ("top level not an object", file(#"[]"#), .invalidHeaderDeserialization),
        (
            "byte-order mark", [11, 0, 0, 0, 0, 0, 0, 0, 0xEF, 0xBB, 0xBF] + Array("{}      ".utf8),
            .invalidHeaderDeserialization
        ),
        ("NUL padding", file("{}\u{0}\u{0}"), .invalidHeaderDeserialization),
        (
            "duplicate key, identical entries",
            file(
                #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#,
                data: 1), .duplicateKey
        ),
        ("empty tensor name", file(#"{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: 1), .invalidName),
        (
            "Git LFS pointer", Array("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n".utf8),
            .gitLFSPointer
        ),
    ]

    @Test("each broken file fails with its rule's error", arguments: rejected.indices)
    func rejects(index: Int) {
        let (name, bytes, expected) = Self.rejected[index]
        #expect(Self.kind(bytes) == expected, "\(name)")
    }

    @Test("S3 with its last padding byte set to NUL is invalid; tab or LF there is accepted")
    func paddingByte() throws {
        var s3 = try Fixtures.bytes(Fixtures.path("safetensors/s3_x.safetensors"))
        s3[95] = 0x00
        #expect(Self.kind(s3) == .invalidHeaderDeserialization)
        s3[95] = 0x09
        #expect(Self.kind(s3) == nil)
        s3[95] = 0x0A
        #expect(Self.kind(s3) == nil)
    }

    @Test("loopholes the official reader accepts are accepted here too")
    func accepted() throws {
        let ok = [
            Self.file("{}"),
            Self.file(#"  {"__metadata__":null}"#),
            Self.file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"k":"v"}}"#, data: 1),
            Self.file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"foo":1}}"#, data: 1),
            Self.file(
                #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}}"#,
                data: 5),
            Self.file(
                #"{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#,
                data: 1),
        ]
        for bytes in ok { #expect(Self.kind(bytes) == nil) }
        let unknownField = try Self.parse(ok[3])
        #expect(unknownField.notes == ["ignored unknown field `foo` of tensor `a`"])
        let escaped = try Self.parse(
            Self.file(#"{"a\u002eb":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: 1))
        #expect(escaped.entries.map(\.info.name) == ["a.b"])
    }

    @Test("error messages name the file and the tensor and are one line")
    func messages() {
        do {
            _ = try Self.parse(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 4))
            Issue.record("expected an error")
        } catch let e as CheckpointError {
            #expect(e.description.hasPrefix("t.safetensors: invalid shape, data type, or offset for tensor `w`"))
            #expect(!e.description.contains("\n"))
            #expect(e.tensor == "w")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
