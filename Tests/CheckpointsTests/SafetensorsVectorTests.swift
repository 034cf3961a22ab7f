import Foundation
import Testing
import TestSupport
@testable import Checkpoints
@testable import TensorCore

/// The byte-exact vectors of docs/FORMATS.md §1.8, and the files the official writer produced for them.
@Suite("safetensors writer: byte-exact vectors")
struct SafetensorsVectorTests {
    func written(_ sources: [TensorSource], metadata: [(key: String, value: String)]?) throws -> [UInt8] {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SafetensorsWriter.write(sources, metadata: metadata, to: "\(dir)/t.safetensors", overwrite: false)
        return try Fixtures.bytes("\(dir)/t.safetensors")
    }

    @Test("S1: no tensors, no metadata is 16 bytes")
    func s1() throws {
        let bytes = try written([], metadata: nil)
        #expect(bytes == [0x08, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20])
        #expect(bytes == (try Fixtures.bytes(Fixtures.path("safetensors/s1_empty.safetensors"))))
    }

    @Test("S2: metadata only")
    func s2() throws {
        let bytes = try written([], metadata: [("format", "pt")])
        #expect(bytes == [0x20, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"__metadata__":{"format":"pt"}}"#.utf8))
        #expect(bytes == (try Fixtures.bytes(Fixtures.path("safetensors/s2_metadata_only.safetensors"))))
    }

    @Test("S3: one F32 tensor with metadata, padded to 88")
    func s3() throws {
        let bytes = try written(
            [TensorSource(name: "x", tensor: Tensor([1, -2], shape: [2]))], metadata: [("format", "pt")])
        let header = #"{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(
            bytes == [0x58, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [0x20, 0x20, 0x20] + [
                0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0,
            ])
        #expect(bytes.count == 104)
        #expect(bytes == (try Fixtures.bytes(Fixtures.path("safetensors/s3_x.safetensors"))))
    }

    @Test("S4: tensors ordered by dtype then name")
    func s4() throws {
        let sources = [
            TensorSource(name: "b", tensor: try Tensor(dtype: .u8, shape: [3], bytes: [1, 2, 3])),
            TensorSource(name: "a", tensor: try Tensor(dtype: .f16, shape: [], bytes: [0x00, 0x3C])),
            TensorSource(name: "w", tensor: Tensor([0.5, 2.0], shape: [1, 2])),
        ]
        let bytes = try written(sources, metadata: [("format", "pt")])
        let header =
            #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"a":{"dtype":"F16","shape":[],"data_offsets":[8,10]},"b":{"dtype":"U8","shape":[3],"data_offsets":[10,13]}}"#
        var expected: [UInt8] = [0xC8, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [UInt8](repeating: 0x20, count: 6)
        expected += [0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x00, 0x3C, 0x01, 0x02, 0x03]
        #expect(bytes.count == 221)
        #expect(bytes == expected)
        #expect(bytes == (try Fixtures.bytes(Fixtures.path("safetensors/s4_order.safetensors"))))
    }

    @Test(
        "re-saving every file the official writer made reproduces it byte for byte",
        arguments: ["s1_empty", "s2_metadata_only", "s3_x", "s4_order", "all_dtypes"])
    func resave(name: String) throws {
        let path = Fixtures.path("safetensors/\(name).safetensors")
        let archive = try SafetensorsArchive(path: path)
        let metadata = archive.header.hasMetadata ? archive.metadata : nil
        let bytes = try written(TensorSource.all(of: archive), metadata: metadata)
        #expect(bytes == (try Fixtures.bytes(path)))
    }

    @Test(
        "names with control characters, which the official writer escapes (escaped_names), are read but not written (TensorNamePolicy); the other names and metadata are escaped as serde_json does"
    )
    func controlCharacterNames() throws {
        let archive = try SafetensorsArchive(path: Fixtures.path("safetensors/escaped_names.safetensors"))
        #expect(archive.tensorNames.contains("tab\tname") && archive.tensorNames.contains("ctl\u{1}"))
        #expect {
            _ = try written(TensorSource.all(of: archive), metadata: nil)
        } throws: {
            ($0 as? CheckpointError)?.kind == .invalidName
                && "\($0)".contains("tensor name `tab\\u{9}name` holds a control character (U+0009)")
        }
        let kept = TensorSource.all(of: archive).filter {
            !$0.info.name.hasPrefix("tab") && !$0.info.name.hasPrefix("ctl")
        }
        let bytes = try written(kept, metadata: [("note", "tab\tquote\"back\\ctl\u{1}/é")])
        let length = Int(bytes[0]) | Int(bytes[1]) << 8
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        #expect(header.hasPrefix(#"{"__metadata__":{"note":"tab\tquote\"back\\ctl\u0001/é"},"caf"#), "\(header)")
        #expect(header.contains(#""slash/and\\back":{"dtype":"I8""#), "\(header)")
    }

    @Test("the writer refuses empty, reserved and duplicate names and leaves no file")
    func badNames() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = Tensor([1], shape: [1])
        for (names, kind) in [
            ([""], CheckpointError.Kind.invalidName), (["__metadata__"], .invalidName), (["a", "a"], .duplicateKey),
        ] {
            let error = #expect(throws: CheckpointError.self) {
                try SafetensorsWriter.write(
                    names.map { TensorSource(name: $0, tensor: t) }, metadata: nil, to: "\(dir)/x.safetensors",
                    overwrite: false)
            }
            #expect(error?.kind == kind)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
