import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore

@Suite("NPY reader")
struct NPYReaderTests {
    static let npyFixtures = ExpectedArray.all.keys.filter { $0.hasSuffix(".npy") && $0 != "bf16_v2.npy" }.sorted()

    @Test("N1: numpy.save of f32 [1, -2] has the exact bytes of docs/FORMATS.md §2.8 and reads back")
    func n1() throws {
        let path = Fixtures.path("numpy/n1_f32.npy")
        let text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        let expected =
            [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00] + Array(text.utf8)
            + [UInt8](repeating: 0x20, count: 60) + [0x0A, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
        #expect(try Fixtures.bytes(path) == expected)
        let archive = try NPYArchive(path: path)
        #expect(archive.tensorNames == ["n1_f32"])
        #expect(archive.header.dataOffset == 128)
        let t = try archive.tensor(named: "n1_f32")
        #expect(t.storage.isMapped)
        #expect(try t.floatValues() == [1, -2])
    }

    @Test("every numpy-written .npy fixture decodes to numpy's values", arguments: npyFixtures)
    func fixture(_ name: String) throws {
        let archive = try NPYArchive(path: Fixtures.path("numpy/\(name)"))
        let expected = try #require(ExpectedArray.all[name])
        try expected.check(try archive.tensor(named: archive.tensorNames[0]), name)
    }

    @Test("big-endian, Fortran-order, v2 and v3 headers are recognised as such")
    func layouts() throws {
        let be = try NPYArchive(path: Fixtures.path("numpy/be_i8.npy")).header
        #expect(be.bigEndian && be.descr == ">i8" && !be.fortranOrder)
        let f = try NPYArchive(path: Fixtures.path("numpy/n2_fortran_f32.npy")).header
        #expect(f.fortranOrder && f.shape == [3, 4] && f.dataOffset == 128)
        #expect(try NPYArchive(path: Fixtures.path("numpy/n2_scalar_f64.npy")).header.dataOffset == 128)
        #expect(try NPYArchive(path: Fixtures.path("numpy/n2_bool.npy")).header.dataOffset == 128)
        for v in [2, 3] {
            let bytes = try Fixtures.bytes(Fixtures.path("numpy/v\(v)_header_f32.npy"))
            #expect(bytes[6] == UInt8(v))
            #expect(try NPYArchive(path: Fixtures.path("numpy/v\(v)_header_f32.npy")).header.dataOffset % 64 == 0)
        }
    }

    @Test("'|V2' is refused unless declared bf16; declared, it reads as bf16 and the notes say so")
    func voidAsBF16() throws {
        let path = Fixtures.path("numpy/bf16_v2.npy")
        expectError(.unsupportedDType, containing: "--keep-bf16") { _ = try NPYArchive(path: path) }
        let archive = try NPYArchive(path: path, options: NPYReadOptions(voidAsBF16: true))
        #expect(archive.notes.contains { $0.contains("read as bf16") })
        try #require(ExpectedArray.all["bf16_v2.npy"]).check(try archive.tensor(named: "bf16_v2"), "bf16_v2")
    }

    @Test("the literal parser accepts double quotes, Python 2 longs, odd spacing and trailing commas")
    func lenientSyntax() throws {
        let scratch = try Scratch()
        let data: [UInt8] = [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]
        for text in [
            "{\"descr\": \"<i2\", \"fortran_order\": False, \"shape\": (2L, 3L)}",
            "{ 'shape' :(2,3,),'fortran_order':False , 'descr':'<i2' , }",
            "{'descr': '=i2', 'fortran_order': False, 'shape': (2, 3)}",
        ] {
            let archive = try NPYArchive(path: try scratch.file("a.npy", npyBytes(text, data: data)))
            let t = try archive.tensor(named: "a")
            #expect(t.shape == [2, 3] && t.dtype == .i16, "\(text)")
            #expect(try t.int64Values() == [1, 2, 3, 4, 5, 6], "\(text)")
        }
        // Unpadded 16-byte-era header: data at an odd offset is still read (never assume alignment).
        let odd = try NPYArchive(
            path: try scratch.file(
                "b.npy",
                npyBytes("{'descr':'<i2','fortran_order':False,'shape':(3,)}\n", data: [7, 0, 8, 0, 9, 0], pad: false)))
        #expect(try odd.tensor(named: "b").int64Values() == [7, 8, 9])
        // Extra trailing bytes are ignored, as numpy does, and reported.
        let trailing = try NPYArchive(
            path: try scratch.file(
                "c.npy", npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", data: [1, 2, 3])))
        #expect(try trailing.tensor(named: "c").int64Values() == [1, 2])
        #expect(trailing.notes.contains { $0.contains("1 trailing bytes") })
    }

    @Test(
        "each header rule refuses bad input with a named error",
        arguments: [
            ("{'descr': '<f4', 'fortran_order': False}", CheckpointError.Kind.corrupt, "header lacks shape"),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", .corrupt,
                "unexpected or repeated header key 'extra'"
            ),
            (
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", .corrupt,
                "repeated header key 'descr'"
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType,
                "object dtype '|O' is a pickle"
            ),
            (
                "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,)}", .unsupportedDType,
                "structured dtype"
            ),
            ("{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "string dtype '<U3'"),
            ("{'descr': '|V4', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "void dtype '|V4'"),
            ("{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "complex128"),
            (
                "{'descr': '<M8[s]', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType,
                "dtype '<M8[s]' is not supported"
            ),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", .corrupt, "fortran_order must be True or False"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", .corrupt, "non-negative integers"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", .corrupt, "found a float"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (4)}", .corrupt, "shape must be a tuple"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", .corrupt, "not a valid Python literal"),
            ("['descr', '<f4']", .corrupt, "not a Python dict"),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999)}",
                .validationOverflow, "overflow"
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", .truncated,
                "needs 12 bytes of data but the file has 4"
            ),
        ])
    func headerRules(_ text: String, _ kind: CheckpointError.Kind, _ message: String) throws {
        let scratch = try Scratch()
        let path = try scratch.file("bad.npy", npyBytes(text, data: [0, 0, 0, 0]))
        expectError(kind, containing: message) { _ = try NPYArchive(path: path) }
    }

    @Test("bad magic, unknown versions, an over-long header and a truncated header are refused")
    func preamble() throws {
        let scratch = try Scratch()
        expectError(.formatMismatch, containing: "NPY magic") {
            _ = try NPYArchive(path: try scratch.file("a.npy", Array("not an npy file at all".utf8)))
        }
        var v4 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0])
        v4[6] = 4
        expectError(.unsupportedContent, containing: "version 4.0") {
            _ = try NPYArchive(path: try scratch.file("b.npy", v4))
        }
        let long = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}" + String(repeating: " ", count: 10_001)
        expectError(.headerTooLarge, containing: "longer than 10000") {
            _ = try NPYArchive(path: try scratch.file("c.npy", npyBytes(long, version: 2)))
        }
        let cut = Array(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}").prefix(40))
        expectError(.truncated, containing: "ends inside") { _ = try NPYArchive(path: try scratch.file("d.npy", cut)) }
        var latin = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", version: 3, data: [0, 0, 0, 0])
        latin[20] = 0xFF
        expectError(.corrupt, containing: "not valid UTF-8") {
            _ = try NPYArchive(path: try scratch.file("e.npy", latin))
        }
    }

    @Test("Fortran-order data of rank 3 is transposed into row-major order")
    func fortranRank3() throws {
        // shape (2, 3, 4), column-major: element (i, j, k) sits at i + 2j + 6k.
        var columnMajor = [UInt8](repeating: 0, count: 48)
        for i in 0..<2 {
            for j in 0..<3 { for k in 0..<4 { columnMajor[2 * (i + 2 * j + 6 * k)] = UInt8(100 * i + 10 * j + k) } }
        }
        let scratch = try Scratch()
        let path = try scratch.file(
            "f.npy", npyBytes("{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 4), }", data: columnMajor))
        let values = try NPYArchive(path: path).tensor(named: "f").int64Values()
        var rowMajor: [Int64] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { rowMajor.append(Int64(100 * i + 10 * j + k)) } } }
        #expect(values == rowMajor)
    }
}
