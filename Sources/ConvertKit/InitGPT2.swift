// `init-gpt2`: a fresh GPT-2 language model folder (config.json + model.safetensors) with transformers'
// initialisation (`Models.GPT2Initialization`), the backbone the synthetic memory tasks train (docs/RMT.md §8.8).
import Checkpoints
import Foundation
import Models
import TensorCore

/// What `init-gpt2` wrote.
public struct InitGPT2Summary: Encodable, Sendable {
    public let output: String
    public let files: [String]
    public let layers: Int
    public let hidden: Int
    public let heads: Int
    public let inner: Int
    public let vocabularySize: Int
    public let positions: Int
    public let activation: String
    public let parameters: Int
    public let tensorCount: Int
    public let initializerRange: Double
    /// σ of the two `c_proj.weight`s of every block: `initializer_range / √(2·n_layer)`.
    public let projectionStd: Double
    public let seed: UInt64

    enum CodingKeys: String, CodingKey {
        case output, files, layers, hidden, heads, inner, positions, activation, parameters, seed
        case vocabularySize = "vocab_size", tensorCount = "tensor_count", initializerRange = "initializer_range"
        case projectionStd = "c_proj_std"
    }

    public var text: String {
        """
        initialised GPT2LMHeadModel: \(layers) layers, n_embd \(hidden), \(heads) heads, n_inner \(inner), \
        vocab \(vocabularySize), \(positions) positions, \(activation); \(formatCount(parameters)) parameters in \
        \(tensorCount) tensors (lm_head tied to wte)
        weights: normal(0, \(initializerRange)), c_proj normal(0, \(String(format: "%.6g", projectionStd))), biases 0, \
        LayerNorm 1/0; seed \(seed)
        wrote \(output): \(files.joined(separator: ", "))

        """
    }
}

/// `init-gpt2`: checks the settings, draws the weights and writes `config.json` and `model.safetensors` into
/// `output`, all or nothing (a failure removes what this call created).
/// - Throws: `UsageError` for settings that give no valid GPT-2 (named by their flags); `CheckpointError` when a
///   file exists (without `force`) or cannot be written.
public func initGPT2(_ settings: GPT2Initialization, output: String, force: Bool) throws -> InitGPT2Summary {
    let configuration = try checkedConfiguration(settings)
    let weights = try settings.weights()
    let files = ["config.json", "model.safetensors"]
    try writingOutputs(files.map { "\(output)/\($0)" }, force: force, folder: output) {
        try SafetensorsWriter.write(
            weights.map { TensorSource(name: $0.name, tensor: $0.tensor) }, metadata: [("format", "pt")],
            to: "\(output)/model.safetensors", overwrite: force)
        try writeText(settings.configJSON.prettyText(sortKeys: true), to: "\(output)/config.json", overwrite: force)
    }
    return InitGPT2Summary(
        output: output, files: files, layers: configuration.layerCount, hidden: configuration.hiddenSize,
        heads: configuration.headCount, inner: configuration.innerSize, vocabularySize: configuration.vocabularySize,
        positions: configuration.maxPositions, activation: settings.activation,
        parameters: weights.reduce(0) { $0 + $1.tensor.elementCount }, tensorCount: weights.count,
        initializerRange: settings.initializerRange,
        projectionStd: settings.standardDeviation(of: "transformer.h.0.attn.c_proj.weight") ?? 0, seed: settings.seed)
}

/// Checks `settings` as `init-gpt2` takes them (before anything is drawn or written).
/// - Throws: `UsageError` naming the flag of the first setting that gives no valid GPT-2.
public func checkGPT2Settings(_ settings: GPT2Initialization) throws { _ = try checkedConfiguration(settings) }

/// The configuration of `settings`, its problems reported by the flags that set them.
func checkedConfiguration(_ settings: GPT2Initialization) throws -> GPT2Configuration {
    let flags = [
        "n_layer": "--layers", "n_embd": "--hidden", "n_head": "--heads", "vocab_size": "--vocab",
        "n_positions": "--positions", "n_inner": "--inner", "activation_function": "--activation",
        "initializer_range": "--initializer-range",
    ]
    for (value, field) in [
        (settings.layers, "n_layer"), (settings.hidden, "n_embd"), (settings.heads, "n_head"),
        (settings.vocabularySize, "vocab_size"), (settings.positions, "n_positions"), (settings.inner ?? 1, "n_inner"),
    ] where value < 1 {
        throw UsageError("\(flags[field]!) must be at least 1, got \(value)")
    }
    guard settings.hidden % settings.heads == 0 else {
        throw UsageError("--hidden \(settings.hidden) must be divisible by --heads \(settings.heads)")
    }
    guard settings.initializerRange > 0, settings.initializerRange.isFinite else {
        throw UsageError("--initializer-range must be a positive number, got \(settings.initializerRange)")
    }
    guard ActivationFunction(configName: settings.activation) != nil else {
        throw UsageError(
            "--activation \(settings.activation) is not implemented; use one of \(ActivationFunction.acceptedNames.joined(separator: ", "))"
        )
    }
    do {
        return try settings.configuration()
    } catch let e as ModelError {
        throw UsageError("\(e.field.flatMap { flags[$0] } ?? "init-gpt2"): \(e.message)")
    }
}
