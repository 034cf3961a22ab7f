// Fuzzes the restricted unpickler (opcodes, lengths, memo, marks, globals allow-list, persistent ids, tensor
// rebuilds) and the state-dict search on what it returns; inputs that start like a legacy torch file also go
// through the legacy reader (concatenated pickles, storage records) and every tensor is materialized.
import Checkpoints
import FuzzSupport
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnpickler(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    var unpickler = Unpickler(bytes, file: "fuzz.pkl", record: "data.pkl")
    if let root = try? unpickler.load(), let state = try? TorchStateDict.locate(in: root, key: nil, file: "fuzz.pkl") {
        for (_, reference) in state.tensors {
            _ = reference.addressedByteRange
            _ = TensorInfo(name: "t", dtype: reference.dtype, shape: reference.shape).byteCount
        }
    }
    let legacy: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    if count >= legacy.count, zip(legacy, bytes).allSatisfy({ $0 == $1 }) {
        let path = ScratchFile.write(bytes, suffix: ".pt")
        if let torch = try? TorchArchive(path: path) {
            for name in torch.tensorNames where torch.totalBytes < 64 << 20 { _ = try? torch.tensor(named: name) }
        }
    }
    return 0
}
