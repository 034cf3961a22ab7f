import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

/// The 165-byte pickle of docs/FORMATS.md §5.8: `{"w": f32 [2, 3] on storage "0", offset 0, strides (3, 1)}`.
let vector58: [UInt8] = hexBytes(
    """
    80 02 63 63 6F 6C 6C 65 63 74 69 6F 6E 73 0A 4F 72 64 65 72 65 64 44 69 63 74 0A 29 52 28 58 01
    00 00 00 77 63 74 6F 72 63 68 2E 5F 75 74 69 6C 73 0A 5F 72 65 62 75 69 6C 64 5F 74 65 6E 73 6F
    72 5F 76 32 0A 28 28 58 07 00 00 00 73 74 6F 72 61 67 65 63 74 6F 72 63 68 0A 46 6C 6F 61 74 53
    74 6F 72 61 67 65 0A 58 01 00 00 00 30 58 03 00 00 00 63 70 75 4B 06 74 51 4B 00 4B 02 4B 03 86
    4B 03 4B 01 86 89 63 63 6F 6C 6C 65 63 74 69 6F 6E 73 0A 4F 72 64 65 72 65 64 44 69 63 74 0A 29
    52 74 52 75 2E
    """)

func hexBytes(_ text: String) -> [UInt8] {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
}

/// Unpickles `bytes` as a record named `test.pkl`.
func unpickle(_ bytes: [UInt8]) throws -> PickleValue {
    try bytes.withUnsafeBytes { raw in
        var unpickler = Unpickler(raw, file: "test.pkl", record: "test.pkl")
        return try unpickler.load()
    }
}

@Suite("Restricted unpickler")
struct PickleTests {
    @Test("The 165-byte vector of §5.8 reads as one f32 [2, 3] tensor on storage 0")
    func vector() throws {
        #expect(vector58.count == 165)
        let value = try unpickle(vector58)
        let entries = try #require(value.dictEntries)
        #expect(entries.count == 1)
        guard case .tensor(let w)? = value["w"] else { Issue.record("`w` is not a tensor: \(value)"); return }
        #expect(w.storage == TorchStorageReference(key: "0", kind: .typed(.f32), location: "cpu", elementCount: 6))
        #expect(w.dtype == .f32 && w.offset == 0 && w.shape == [2, 3] && w.strides == [3, 1])
    }

    @Test("The writer emits the §5.8 vector byte for byte")
    func writerVector() {
        let w = TorchPickledTensor(name: "w", dtype: .f32, shape: [2, 3], storageKey: "0", storageByteCount: 24)
        #expect(PickleWriter.stateDict([w]) == vector58)
    }

    @Test("torch's own data.pkl, with BINPUT/BINGET memo opcodes, reads with the tied tensor as the same view")
    func torchDataPickle() throws {
        let value = try unpickle(try Fixtures.bytes(Fixtures.path("torch/data.pkl")))
        let state = try TorchStateDict.locate(in: value, key: nil, file: "data.pkl")
        #expect(state.aliases == ["decoder.weight": "embeddings.weight", "flat_view": "flat"])
        let names = state.tensors.map(\.name)
        #expect(names.first == "f32" && names.contains("flat_tail") && !names.contains("decoder.weight"))
        let tail = try #require(state.tensors.first { $0.name == "flat_tail" }?.reference)
        #expect(tail.offset == 3 && tail.shape == [3] && tail.strides == [1])
        let ids = try #require(state.tensors.first { $0.name == "position_ids" }?.reference)
        #expect(ids.strides == [0, 1] && ids.dtype == .i64)
        let u16 = try #require(state.tensors.first { $0.name == "u16" }?.reference)
        #expect(u16.dtype == .u16 && u16.storage.kind == .untyped && u16.storage.elementCount == 8)
    }

    @Test("A list memoized before APPEND is seen with its items through BINGET")
    func memoSharesMutableObjects() throws {
        // PROTO 2, EMPTY_LIST, BINPUT 0, BININT1 1, APPEND, BINGET 0, TUPLE2, STOP
        let value = try unpickle([0x80, 0x02, 0x5D, 0x71, 0x00, 0x4B, 0x01, 0x61, 0x68, 0x00, 0x86, 0x2E])
        #expect(value == .tuple([.list([.int(1)]), .list([.int(1)])]))
        // LONG_BINPUT / LONG_BINGET and MEMOIZE
        let long = try unpickle([
            0x80, 0x04, 0x8C, 0x01, 0x61, 0x94, 0x72, 0x07, 0, 0, 0, 0x6A, 0, 0, 0, 0, 0x6A, 7, 0, 0, 0, 0x87, 0x2E,
        ])
        #expect(long == .tuple([.string("a"), .string("a"), .string("a")]))
    }

    @Test("Integers of any size, big-endian floats, bytes and Python-2 strings decode")
    func scalars() throws {
        #expect(try unpickle([0x80, 0x02, 0x8A, 0x01, 0xFF, 0x2E]) == .int(-1))
        #expect(try unpickle([0x80, 0x02, 0x8A, 0x00, 0x2E]) == .int(0))
        #expect(try unpickle([0x80, 0x02, 0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E]) == .int(-1))
        let magic = try unpickle(Array(TorchLegacyFormat.signature) + [0x2E])
        guard case .bigInt(let big) = magic else { Issue.record("not a big int: \(magic)"); return }
        #expect(big.description == "119547037146038801333356")
        #expect(try unpickle([0x80, 0x02, 0x8A, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x2E]).typeName == "int")
        #expect(try unpickle([0x80, 0x02, 0x47, 0xBF, 0xF8, 0, 0, 0, 0, 0, 0, 0x2E]) == .float(-1.5))
        #expect(try unpickle([0x80, 0x03, 0x43, 0x02, 0xFF, 0x00, 0x2E]) == .bytes([0xFF, 0x00]))
        #expect(try unpickle([0x80, 0x02, 0x55, 0x02, 0x61, 0xE9, 0x2E]) == .string("aé"))
    }

    @Test("Every opcode outside §5.2 is refused with its byte, name and offset")
    func refusedOpcodes() throws {
        let implemented: Set<UInt8> = [
            0x80, 0x95, 0x2E, 0x28, 0x30, 0x31, 0x32, 0x29, 0x74, 0x85, 0x86, 0x87, 0x5D, 0x61, 0x65, 0x7D, 0x73, 0x75,
            0x8F, 0x90, 0x91, 0x4E, 0x88, 0x89, 0x4B, 0x4D, 0x4A, 0x8A, 0x8B, 0x47, 0x58, 0x8C, 0x8D, 0x55, 0x54, 0x43,
            0x42, 0x8E, 0x63, 0x93, 0x52, 0x81, 0x92, 0x62, 0x51, 0x71, 0x72, 0x94, 0x68, 0x6A,
        ]
        for op in UInt8.min...UInt8.max where !implemented.contains(op) {
            let name = PickleOpcodeNames.name(of: op).map { " (\($0))" } ?? ""
            expectError(.unsupportedContent, containing: "unsupported pickle opcode 0x\(hex(op))\(name)") {
                _ = try unpickle([0x80, 0x02, op, 0x2E])
            }
            expectError(.unsupportedContent, containing: "at offset 2 of test.pkl") {
                _ = try unpickle([0x80, 0x02, op, 0x2E])
            }
        }
        expectError(.unsupportedContent, containing: "opcode 0x69 (INST)") {
            _ = try unpickle([0x80, 0x02, 0x69, 0x2E])
        }
        expectError(.unsupportedContent, containing: "unsupported pickle protocol 1") {
            _ = try unpickle([0x80, 0x01, 0x2E])
        }
    }

    @Test("Globals outside the allow-list are refused by name, for GLOBAL and STACK_GLOBAL alike")
    func refusedGlobals() throws {
        for (module, name, shown) in [
            ("os", "system", "os.system"), ("builtins", "eval", "builtins.eval"),
            ("__builtin__", "getattr", "builtins.getattr"),
            ("posix", "system", "posix.system"),
            ("numpy.core.multiarray", "_reconstruct", "numpy.core.multiarray._reconstruct"),
            ("torch.nn.modules.linear", "Linear", "torch.nn.modules.linear.Linear"), ("torch", "load", "torch.load"),
            ("subprocess", "Popen", "subprocess.Popen"), ("collections", "defaultdict", "collections.defaultdict"),
        ] {
            let global: [UInt8] = [0x63] + Array("\(module)\n\(name)\n".utf8)
            expectError(.unsupportedContent, containing: "unsupported global: GLOBAL \(shown)") {
                _ = try unpickle([0x80, 0x02] + global + [0x29, 0x52, 0x2E])
            }
            let stack: [UInt8] =
                [0x8C, UInt8(module.utf8.count)] + Array(module.utf8) + [0x8C, UInt8(name.utf8.count)]
                + Array(name.utf8) + [0x93]
            expectError(.unsupportedContent, containing: "unsupported global: GLOBAL \(shown)") {
                _ = try unpickle([0x80, 0x04] + stack + [0x29, 0x52, 0x2E])
            }
        }
        expectError(.unsupportedDType, containing: "torch.QInt8Storage") {
            _ = try unpickle([0x80, 0x02, 0x63] + Array("torch\nQInt8Storage\n".utf8) + [0x2E])
        }
        expectError(.unsupportedContent, containing: "calling torch.FloatStorage is not supported") {
            _ = try unpickle([0x80, 0x02, 0x63] + Array("torch\nFloatStorage\n".utf8) + [0x29, 0x52, 0x2E])
        }
    }

    @Test("The malicious fixtures are refused without running their payload")
    func maliciousFixtures() throws {
        let expected = try JSONValue.parse(
            String(decoding: try Fixtures.bytes(Fixtures.path("torch/expected.json")), as: UTF8.self))
        let marker = try #require(expected["evil_marker"]?.stringValue)
        unlink(marker)
        for (file, global) in [
            ("evil_os_system.pkl", "GLOBAL os.system"), ("evil_builtins_eval.pkl", "GLOBAL builtins.eval"),
        ] {
            let bytes = try Fixtures.bytes(Fixtures.path("torch/\(file)"))
            expectError(.unsupportedContent, containing: "unsupported global: \(global)") { _ = try unpickle(bytes) }
        }
        expectError(.unsupportedContent, containing: "unsupported global: GLOBAL os.system") {
            _ = try TorchArchive(path: Fixtures.path("torch/evil_os_system.pt"))
        }
        #expect(access(marker, F_OK) != 0, "the payload ran: \(marker) exists")
    }

    @Test("Lengths are checked against the bytes left before allocating")
    func lengthsAreChecked() {
        expectError(.truncated, containing: "BINUNICODE length 4294967295 exceeds the 1 bytes left") {
            _ = try unpickle([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E])
        }
        expectError(.truncated, containing: "BINBYTES8 length") {
            _ = try unpickle([0x80, 0x04, 0x8E] + [UInt8](repeating: 0xFF, count: 8) + [0x2E])
        }
        expectError(.truncated, containing: "LONG4 length") {
            _ = try unpickle([0x80, 0x02, 0x8B, 0, 0, 0, 0x40, 0x2E])
        }
        expectError(.truncated, containing: "STOP") { _ = try unpickle([0x80, 0x02, 0x4E]) }
        expectError(.corrupt, containing: "memo entry 5 was never stored") {
            _ = try unpickle([0x80, 0x02, 0x68, 0x05, 0x2E])
        }
        expectError(.corrupt, containing: "stack underflow") { _ = try unpickle([0x80, 0x02, 0x61, 0x2E]) }
        // A list that contains itself cannot be frozen into a tree.
        expectError(.corrupt, containing: "nested deeper") {
            _ = try unpickle([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E])
        }
    }

    @Test("Python's integer encodings: BININT1, BININT2, BININT, LONG1")
    func integerEncodings() throws {
        for (value, bytes) in [
            (255, [0x4B, 0xFF]), (256, [0x4D, 0x00, 0x01]), (65536, [0x4A, 0, 0, 1, 0]),
            (-1, [0x4A, 0xFF, 0xFF, 0xFF, 0xFF]), (1 << 31, [0x8A, 0x05, 0, 0, 0, 0x80, 0]),
            (-(1 << 31) - 1, [0x8A, 0x05, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF]),
        ] as [(Int, [UInt8])] {
            var writer = PickleWriter()
            writer.writeInt(value)
            #expect(Array(writer.bytes.dropFirst(2)) == bytes, "\(value)")
            #expect(try unpickle(writer.bytes + [0x2E]) == .int(value))
        }
    }

    @Test("A nested checkpoint pickle round-trips through the reader")
    func nestedRoundTrip() throws {
        let tensor = TorchPickledTensor(name: "w", dtype: .u16, shape: [2], storageKey: "0", storageByteCount: 4)
        let extras: [(key: String, value: TorchCheckpointEntry)] = [
            ("model_state_dict", .stateDict), ("iteration", .value(.int(0))), ("epoch", .value(.int(0))),
            ("metrics", .value(.dict([PickleDictEntry(key: .string("loss"), value: .float(0.25))]))),
            (
                "flags",
                .value(
                    .list([
                        .bool(true), .none, .string("ü"), .bytes([0, 200]),
                        .tuple([.int(1), .int(2), .int(3), .int(4)]),
                    ]))
            ),
        ]
        let bytes = try PickleWriter.nestedCheckpoint(extras, stateDict: [tensor])
        let value = try unpickle(bytes)
        #expect(value["iteration"] == .int(0) && value["epoch"] == .int(0))
        #expect(value["metrics"]?["loss"] == .float(0.25))
        #expect(
            value["flags"]
                == .list([
                    .bool(true), .none, .string("ü"), .bytes([0, 200]), .tuple([.int(1), .int(2), .int(3), .int(4)]),
                ]))
        let state = try TorchStateDict.locate(in: value, key: nil, file: "x")
        #expect(state.key == "model_state_dict")
        #expect(
            state.tensors.first?.reference
                == TorchTensorReference(
                    storage: TorchStorageReference(key: "0", kind: .untyped, location: "cpu", elementCount: 4),
                    dtype: .u16, offset: 0, shape: [2], strides: [1]))
    }
}
