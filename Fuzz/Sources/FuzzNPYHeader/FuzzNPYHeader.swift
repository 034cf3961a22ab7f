// Fuzzes the NPY header (magic, version, Python-literal dict, descr, shape) and, when the data fits, the
// conversion to a row-major little-endian tensor (byte swaps, Fortran-order transposes), with and without
// reading void arrays as bf16.
import Checkpoints
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPYHeader(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    for options in [NPYReadOptions(), NPYReadOptions(voidAsBF16: true)] {
        guard let header = try? NPYHeader.parse(bytes, file: "fuzz.npy", tensor: "x", options: options) else {
            continue
        }
        guard header.dataByteCount <= count - header.dataOffset else { continue }
        let slice = UnsafeRawBufferPointer(
            rebasing: bytes[header.dataOffset..<header.dataOffset + header.dataByteCount])
        _ = try? header.tensor(from: TensorStorage(copying: slice), file: "fuzz.npy", tensor: "x")
    }
    return 0
}
