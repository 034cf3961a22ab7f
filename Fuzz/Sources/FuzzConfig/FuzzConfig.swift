// Fuzzes config parsing: the strict JSON parser, duplicate keys (the last wins), then `config.json` decoding for
// BERT and GPT-2 (alternate field names, defaults, size limits, validation), architecture inference, and
// `rmt_config.json` decoding and validation; then the path `run` takes: a model built from the config and the
// weights of a tiny BERT or GPT-2 (fixtures/malformed/config_control*), which must refuse sizes that do not fit
// before allocating for them.
import Checkpoints
import Foundation
import Models
import RMT

/// The tiny models' weights, mapped once.
nonisolated(unsafe) private let tinyWeights: [any TensorArchive] = ["config_control", "config_control_gpt2"].compactMap
{
    try? SafetensorsArchive(path: "fixtures/malformed/\($0)/model.safetensors")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    if let json = try? JSONValue.parse(bytes) {
        _ = json.lastValueForEachKey()
        _ = try? BertConfiguration.decoded(from: json, file: "config.json")
        _ = try? GPT2Configuration.decoded(from: json, file: "config.json")
        _ = try? ModelArchitecture.inferred(from: json, file: "config.json")
        _ = json.prettyText()
        for weights in tinyWeights {
            _ = try? ModelLoader.load(config: json, configFile: "config.json", archive: weights)
        }
    }
    _ = try? RMTConfiguration.decode(Data(bytes))
    return 0
}
