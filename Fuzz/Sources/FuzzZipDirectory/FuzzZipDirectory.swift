// Fuzzes the ZIP reader (end records, ZIP64, central entries, local headers, overlaps, inflate with size and
// bomb checks, CRC-32), then the two formats built on it: .npz (NPY members, deflated or stored) and torch
// zip archives (data.pkl through the restricted unpickler, storage records, tensor views).
import Checkpoints
import FuzzSupport
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZipDirectory(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let path = ScratchFile.write(UnsafeRawBufferPointer(start: data, count: count), suffix: ".zip")
    if let zip = try? ZipArchive(path: path, memoryLimit: 64 << 20) {
        for entry in zip.entries { _ = try? zip.contents(of: entry) }
    }
    if let npz = try? NPZArchive(path: path, options: NPYReadOptions(voidAsBF16: true), skipNonArrays: true) {
        for name in npz.tensorNames where npz.totalBytes < 64 << 20 { _ = try? npz.tensor(named: name) }
    }
    if let torch = try? TorchArchive(path: path) {
        for name in torch.tensorNames where torch.totalBytes < 64 << 20 { _ = try? torch.tensor(named: name) }
    }
    return 0
}
