// Fuzzes the safetensors header parser and validator (length prefix, JSON, offsets, shapes, metadata), then
// reads every tensor of a header that validates, as `SafetensorsArchive.tensor(named:)` would.
import Checkpoints
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsHeader(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    guard let header = try? SafetensorsHeader.parse(bytes, fileSize: count, path: "fuzz.safetensors") else { return 0 }
    for entry in header.entries {
        let start = 8 + header.headerLength + entry.dataRange.lowerBound
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<start + entry.dataRange.count])
        let tensor = try? Tensor(
            dtype: entry.info.dtype, shape: entry.info.shape, storage: TensorStorage(copying: slice))
        _ = try? tensor?.floatValues()
        _ = entry.info.byteCount
    }
    return 0
}
