// Reading the h5py-written fixtures (tools/make_hdf5_fixtures.py) with exact values.
import Checkpoints
import Foundation
import HDF5Codec
import Models
import TensorCore
import Testing
import TestSupport

/// The values a tensor holds, as Doubles for floats and exact integers otherwise.
enum Element: Equatable {
    case float(Double), signed(Int64), unsigned(UInt64)
}

func elements(_ t: Tensor) throws -> [Element] {
    let b = t.bytes, n = t.elementCount
    return try withExtendedLifetime(t) {
        switch t.dtype {
        case .f64: return (0..<n).map { .float(b.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
        case .f32, .f16: return try t.floatValues().map { .float(Double($0)) }
        case .c64: return (0..<(2 * n)).map { .float(Double(b.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self))) }
        case .i64, .i32, .i16, .i8: return try t.int64Values().map { .signed($0) }
        case .u64: return (0..<n).map { .unsigned(b.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        case .u32: return (0..<n).map { .unsigned(UInt64(b.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .u16, .bf16:
            return (0..<n).map { .unsigned(UInt64(b.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .u8, .bool, .f8E4M3, .f8E5M2: return (0..<n).map { .unsigned(UInt64(b[$0])) }
        }
    }
}

/// `fixtures/hdf5/expected.json`.
func expectedJSON() throws -> JSONValue {
    try JSONValue.parse(String(contentsOfFile: Fixtures.path("hdf5/expected.json"), encoding: .utf8))
}

/// Checks every tensor of `file` against its entry in expected.json.
func checkAgainstExpected(_ file: String) throws {
    let archive = try HDF5Archive(path: Fixtures.path("hdf5/\(file)"))
    guard case .object(let tensors)? = try expectedJSON()[file]?["tensors"] else {
        Issue.record("no expected tensors for \(file)"); return
    }
    #expect(archive.tensorNames == tensors.map(\.key).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    for (name, spec) in tensors {
        let t = try archive.tensor(named: name)
        #expect(t.dtype.rawValue == spec["dtype"]?.stringValue, "\(name)")
        guard case .array(let dims)? = spec["shape"] else { Issue.record("shape of \(name)"); continue }
        #expect(t.shape.dimensions == dims.compactMap(\.integerValue), "\(name)")
        let isFloat = [DType.f64, .f32, .f16, .c64].contains(t.dtype)
        let unsigned = [DType.u8, .u16, .u32, .u64, .bool, .bf16, .f8E4M3, .f8E5M2].contains(t.dtype)
        guard case .array(let values)? = spec["values"] ?? spec["bits"] else {
            Issue.record("values of \(name)"); continue
        }
        let expected: [Element] = values.map { v in
            if isFloat { return .float(v.doubleValue ?? .nan) }
            if unsigned { return .unsigned(v.unsignedIntegerValue ?? .max) }
            return .signed(Int64(v.integerValue ?? .min))
        }
        #expect(try elements(t) == expected, "\(name)")
    }
}

@Suite("Reading HDF5 fixtures")
struct HDF5ReadTests {
    @Test(
        "the generic-layout file gives every dtype exactly: f16, bool enum, bf16 and f8 via `dtype`, complex, scalar, empty"
    )
    func genericDTypes() throws {
        try checkAgainstExpected("generic_dtypes.h5")
        let archive = try HDF5Archive(path: Fixtures.path("hdf5/generic_dtypes.h5"))
        #expect(archive.metadata.map(\.key) == ["format", "note"])
        #expect(archive.metadata.last?.value == "ünïcode")
        #expect(archive.notes.isEmpty)
        #expect(archive.tensorNames.contains("memory/state"))
    }

    @Test("gzip + shuffle chunks and big-endian datasets read as little-endian values, unmarked file noted")
    func gzipBigEndian() throws {
        try checkAgainstExpected("gzip_bigendian.h5")
        let archive = try HDF5Archive(path: Fixtures.path("hdf5/gzip_bigendian.h5"))
        #expect(archive.notes.contains { $0.contains("rmt_convert_format") })
    }

    @Test(
        "Keras files in every string encoding give the PyTorch tensors bit for bit",
        arguments: [
            "keras_bert_vlen.h5", "keras_bert_fixed.h5", "keras_bert_model_weights.h5",
            "keras_gpt2_vlen.h5", "keras_gpt2_chunked.h5",
        ])
    func keras(file: String) throws {
        let source = try #require(try expectedJSON()[file]?["same_tensors_as"]?.stringValue)
        let reference = try SafetensorsArchive(path: Fixtures.path(source))
        let archive = try HDF5Archive(path: Fixtures.path("hdf5/\(file)"), keyMaps: ModelRegistry.keyMaps)
        #expect(archive.isKerasLayout)
        #expect(Set(archive.tensorNames) == Set(reference.tensorNames))
        #expect(archive.tensorNames.count == reference.tensorNames.count)
        for name in reference.tensorNames {
            let ours = try archive.tensor(named: name), theirs = try reference.tensor(named: name)
            #expect(ours.isBitwiseEqual(to: theirs), "\(name)")
            #expect(try archive.info(for: name).shape == theirs.shape)
        }
        #expect(archive.notes.contains { $0.contains("TF weight names mapped") })
        #expect(archive.notes.contains { $0.contains("ignored `top_level_model_weights`") })
        if file.contains("gpt2") {
            #expect(archive.aliases == ["lm_head.weight": "transformer.wte.weight"])
            #expect(archive.notes.contains { $0.contains("8 biases reshaped") })
        } else {
            #expect(archive.aliases.isEmpty)
            #expect(archive.notes.contains { $0.contains("14 kernels transposed") })
        }
    }
}
