// Fuzzes sharded checkpoints: the index JSON (`weight_map` entries naming paths, other indexes, the index itself,
// missing shards or tensors, duplicates) opened as `inspect` and `convert` open a folder's index, with the eight
// real shards of fixtures/models/tiny-gpt2-sharded beside it, then reads every tensor.
import Checkpoints
import ConvertKit
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShardIndex(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let folder = ScratchFolder.withFiles(from: "fixtures/models/tiny-gpt2-sharded", suffix: ".safetensors")
    let index = ScratchFolder.write(
        UnsafeRawBufferPointer(start: data, count: count), named: "model.safetensors.index.json", in: folder)
    if let archive = try? ArchiveRegistry.open(index), archive.totalBytes < 64 << 20 {
        for name in archive.tensorNames { _ = try? archive.tensor(named: name) }
    }
    if let checkpoint = try? Checkpoint.open(folder) { _ = inspect(checkpoint) }
    return 0
}
