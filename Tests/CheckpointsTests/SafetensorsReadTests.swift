import Foundation
import Testing
import TestSupport
@testable import Checkpoints
@testable import TensorCore

@Suite("safetensors reader: reference files, round trips, shards, mmap")
struct SafetensorsReadTests {
    @Test("every dtype of the official writer's file decodes to the values torch wrote")
    func allDtypes() throws {
        let archive = try SafetensorsArchive(path: Fixtures.path("safetensors/all_dtypes.safetensors"))
        let expected = try JSONValue.parse(
            String(decoding: Fixtures.bytes(Fixtures.path("safetensors/all_dtypes.json")), as: UTF8.self))
        guard case .object(let entries) = expected else { Issue.record("bad expected.json"); return }
        #expect(Set(archive.tensorNames) == Set(entries.map(\.key)))
        for (name, info) in entries {
            let t = try archive.tensor(named: name)
            guard case .array(let shape)? = info["shape"], case .array(let values)? = info["values"] else { continue }
            #expect(t.shape.dimensions == shape.compactMap(\.integerValue), "\(name)")
            let want = values.compactMap(\.doubleValue)
            if t.dtype == .i64 {
                #expect(try t.int64Values() == want.map { Int64($0) }, "\(name)")
            } else {
                #expect(try t.floatValues() == want.map { Float($0) }, "\(name)")
            }
            #expect(t.storage.isMapped)
        }
    }

    @Test("metadata keys naming tensors become aliases; other metadata is kept")
    func metadataAliases() throws {
        let archive = try SafetensorsArchive(path: Fixtures.path("safetensors/metadata_multi.safetensors"))
        #expect(archive.aliases == ["lm_head.weight": "z"])
        #expect(
            Dictionary(uniqueKeysWithValues: archive.metadata.map { ($0.key, $0.value) })["note"] == "a/b \"quoted\" é")
        #expect(try archive.tensor(named: "lm_head.weight").isBitwiseEqual(to: archive.tensor(named: "z")))
        #expect(throws: CheckpointError.self) { try archive.tensor(named: "nope") }
    }

    @Test("a round trip through f16 and bf16 and back keeps every value the narrow type holds")
    func castRoundTrip() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try SafetensorsArchive(path: Fixtures.path("models/tiny-gpt2/model.safetensors"))
        for narrow in [DType.f16, .bf16] {
            let sources = try source.tensorInfos.map { info in
                TensorSource(name: info.name, tensor: try source.tensor(named: info.name).converted(to: narrow))
            }
            try SafetensorsWriter.write(
                sources, metadata: [("format", "pt")], to: "\(dir)/n.safetensors", overwrite: true)
            let narrowed = try SafetensorsArchive(path: "\(dir)/n.safetensors")
            let wide = try narrowed.tensorInfos.map {
                TensorSource(name: $0.name, tensor: try narrowed.tensor(named: $0.name).converted(to: .f32))
            }
            try SafetensorsWriter.write(wide, metadata: [("format", "pt")], to: "\(dir)/w.safetensors", overwrite: true)
            let back = try SafetensorsArchive(path: "\(dir)/w.safetensors")
            for info in source.tensorInfos {
                let original = try source.tensor(named: info.name).converted(to: narrow).floatValues()
                #expect(try back.tensor(named: info.name).floatValues() == original)
            }
        }
    }

    @Test("a sharded checkpoint written by transformers reads as one archive equal to the single file")
    func shardedRead() throws {
        let sharded = try ShardedArchive(
            indexPath: Fixtures.path("models/tiny-gpt2-sharded/model.safetensors.index.json")
        ) {
            try SafetensorsArchive(path: $0)
        }
        let single = try SafetensorsArchive(path: Fixtures.path("models/tiny-gpt2/model.safetensors"))
        #expect(Set(sharded.tensorNames) == Set(single.tensorNames))
        #expect(sharded.shards.count == 8)
        for name in single.tensorNames {
            #expect(try sharded.tensor(named: name).isBitwiseEqual(to: single.tensor(named: name)))
        }
    }

    @Test("a shard index naming a tensor its shard lacks is refused")
    func badIndex() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(
            atPath: Fixtures.path("safetensors/s3_x.safetensors"), toPath: "\(dir)/a.safetensors")
        try Fixtures.write(
            Array(#"{"metadata":{},"weight_map":{"x":"a.safetensors","y":"a.safetensors"}}"#.utf8),
            to: "\(dir)/i.index.json")
        let error = #expect(throws: CheckpointError.self) {
            try ShardedArchive(indexPath: "\(dir)/i.index.json") { try SafetensorsArchive(path: $0) }
        }
        #expect(error?.kind == .shardIndex)
        #expect(error?.tensor == "y")
    }

    @Test("shard planning follows transformers: new shard when the next tensor would exceed the limit")
    func shardPlan() {
        let infos = [10, 10, 25, 5, 5].enumerated().map {
            TensorInfo(name: "t\($0.offset)", dtype: .u8, shape: [$0.element])
        }
        #expect(planShards(infos, maxShardSize: 20) == [[0, 1], [2], [3, 4]])
        #expect(
            shardFileName(stem: "model", fileExtension: "safetensors", index: 0, count: 3)
                == "model-00001-of-00003.safetensors")
        #expect(
            shardIndexText(totalSize: 3, weightMap: [("b", "f2"), ("a", "f1")])
                == "{\n  \"metadata\": {\n    \"total_size\": 3\n  },\n  \"weight_map\": {\n    \"a\": \"f1\",\n    \"b\": \"f2\"\n  }\n}\n"
        )
    }

    @Test("opening a 1 GiB sparse file maps it without making it resident")
    func mmapResidency() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/big.safetensors"
        let count = 1 << 28  // 268,435,456 f32 = 1 GiB
        let header = try SafetensorsWriter.header(
            for: [TensorInfo(name: "big", dtype: .f32, shape: [count])], metadata: nil, path: path
        ).bytes
        FileManager.default.createFile(atPath: path, contents: Data(header))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(header.count + count * 4))
        try handle.close()
        let before = residentBytes()
        let archive = try SafetensorsArchive(path: path)
        let tensor = try archive.tensor(named: "big")
        let after = residentBytes()
        #expect(tensor.byteCount == 1 << 30)
        #expect(after - before < 16 << 20, "resident memory grew by \(after - before) bytes")
        #expect(tensor.bytes.loadUnaligned(fromByteOffset: 12345 * 4, as: Float.self) == 0)
    }

    /// RSS from /proc/self/statm.
    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * 4096
    }
}
