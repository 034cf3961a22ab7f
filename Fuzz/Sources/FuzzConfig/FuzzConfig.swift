// Fuzzes config parsing: the strict JSON parser, then `config.json` decoding for BERT and GPT-2 (alternate
// field names, defaults, validation), architecture inference, and `rmt_config.json` decoding and validation.
import Checkpoints
import Foundation
import Models
import RMT

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    if let json = try? JSONValue.parse(bytes) {
        _ = try? BertConfiguration.decoded(from: json, file: "config.json")
        _ = try? GPT2Configuration.decoded(from: json, file: "config.json")
        _ = try? ModelArchitecture.inferred(from: json, file: "config.json")
        _ = json.prettyText()
    }
    _ = try? RMTConfiguration.decode(Data(bytes))
    return 0
}
