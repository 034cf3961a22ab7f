// `run`: a checkpoint's forward pass on token ids read from files, outputs written as named tensors.
import Checkpoints
import Foundation
import Models
import TensorCore

/// Text → token ids. `run --text` plugs a tokenizer in through this; any tokenizer (WordPiece, BPE) fits.
public typealias TextTokenizing = (String) throws -> [Int]

/// Reading and assembling `ModelInputs` for `run` and `verify`.
public enum RunInputs {
    /// Reads `input_ids` (`[T]` or `[B, T]`, any integer dtype) and the optional mask and token types, each
    /// from its own file (`.npy`, `.npz`, `.safetensors`): a file with one tensor gives that tensor, a file with
    /// several gives the one named `input_ids` / `attention_mask` / `token_type_ids` / `position_ids`.
    /// - Throws: `CheckpointError` for unreadable files, `ModelError(.input)` for wrong dtypes or shapes.
    public static func read(
        inputIds: String, attentionMask: String? = nil, tokenTypeIds: String? = nil,
        positionIds: String? = nil
    ) throws -> ModelInputs {
        let (ids, batch, length) = try integers(
            try tensor("input_ids", in: inputIds), name: "input_ids", file: inputIds)
        func companion(_ name: String, _ path: String?) throws -> [Int]? {
            guard let path else { return nil }
            let (values, b, t) = try integers(try tensor(name, in: path), name: name, file: path)
            guard b == batch, t == length else {
                throw ModelError(
                    .input, file: path, field: name, "`\(name)` is [\(b), \(t)] but input_ids is [\(batch), \(length)]")
            }
            return values
        }
        let mask = try companion("attention_mask", attentionMask).map { $0.map(Float.init) }
        return try ModelInputs(
            inputIds: ids, batch: batch, length: length, attentionMask: mask,
            tokenTypeIds: try companion("token_type_ids", tokenTypeIds),
            positionIds: try companion("position_ids", positionIds))
    }

    /// Reads all inputs from one file holding `input_ids` and optionally `attention_mask`, `token_type_ids`,
    /// `position_ids` (the layout of a fixture's `inputs.safetensors`).
    public static func read(bundle path: String) throws -> ModelInputs {
        let archive = try ArchiveRegistry.open(path)
        let names = Set(archive.tensorNames.map { UTF8Key($0) })
        guard names.contains("input_ids") else {
            throw CheckpointError(
                .tensorNotFound, file: path, tensor: "input_ids",
                "has no tensor `input_ids` (found \(archive.tensorNames.joined(separator: ", ")))")
        }
        return try read(
            inputIds: path, attentionMask: names.contains("attention_mask") ? path : nil,
            tokenTypeIds: names.contains("token_type_ids") ? path : nil,
            positionIds: names.contains("position_ids") ? path : nil)
    }

    /// Tokenizes `texts` and right-pads them to the longest with `padId`, masking the padding.
    public static func fromTexts(_ texts: [String], tokenize: TextTokenizing, padId: Int) throws -> ModelInputs {
        let rows = try texts.map(tokenize)
        let length = rows.map(\.count).max() ?? 0
        var ids: [Int] = [], mask: [Float] = []
        for row in rows {
            ids += row + [Int](repeating: padId, count: length - row.count)
            mask += [Float](repeating: 1, count: row.count) + [Float](repeating: 0, count: length - row.count)
        }
        return try ModelInputs(inputIds: ids, batch: rows.count, length: length, attentionMask: mask)
    }

    static func tensor(_ name: String, in path: String) throws -> Tensor {
        let archive = try ArchiveRegistry.open(path)
        if archive.tensorInfos.count == 1 { return try archive.tensor(named: archive.tensorNames[0]) }
        guard archive.contains(name) else {
            throw CheckpointError(
                .tensorNotFound, file: path, tensor: name,
                "holds \(archive.tensorInfos.count) tensors and none is named `\(name)`; pass a file with one tensor or name it `\(name)`"
            )
        }
        return try archive.tensor(named: name)
    }

    /// Integer (or boolean) `[T]` or `[B, T]` values as `Int`, with B and T.
    static func integers(_ t: Tensor, name: String, file: String) throws -> ([Int], Int, Int) {
        let dims = t.shape.dimensions
        guard dims.count == 1 || dims.count == 2 else {
            throw ModelError(.input, file: file, field: name, "`\(name)` has shape \(t.shape); expected [T] or [B, T]")
        }
        let values: [Int64]
        do { values = try t.int64Values() } catch {
            throw ModelError(
                .input, file: file, field: name,
                "`\(name)` is \(t.dtype.rawValue); expected an integer dtype (int64 or int32)")
        }
        return (values.map { Int(truncatingIfNeeded: $0) }, dims.count == 2 ? dims[0] : 1, dims.last!)
    }
}

/// What `run` should do.
public struct RunOptions: Sendable {
    /// Overrides the architecture named by `config.json`.
    public var architecture: ModelArchitecture?
    /// Also write `hidden_states.{i}`.
    public var hiddenStates = false
    /// Output format; nil means from the output's extension.
    public var format: CheckpointFormat?
    /// Replace an existing output.
    public var force = false
    /// Run the forward pass this many times (≥ 1) and report the fastest, for timing.
    public var repetitions = 1

    public init(
        architecture: ModelArchitecture? = nil, hiddenStates: Bool = false, format: CheckpointFormat? = nil,
        force: Bool = false, repetitions: Int = 1
    ) {
        self.architecture = architecture
        self.hiddenStates = hiddenStates
        self.format = format
        self.force = force
        self.repetitions = max(1, repetitions)
    }
}

/// What `run` did.
public struct RunSummary: Encodable, Sendable {
    public struct Output: Encodable, Sendable {
        public let name: String
        public let shape: [Int]
    }
    public let model: String
    public let architecture: String
    public let output: String
    public let outputs: [Output]
    /// Forward-pass time, loading excluded (the fastest of `repetitions` runs).
    public let seconds: Double
    /// How many times the forward pass ran.
    public let repetitions: Int
    public let notes: [String]

    /// Lines for humans.
    public var text: String {
        let timing = String(format: "%.3f", seconds) + " s" + (repetitions > 1 ? " (fastest of \(repetitions))" : "")
        var lines = ["ran \(architecture) in \(timing), wrote \(output):"]
        lines += outputs.map { "  \($0.name)  [\($0.shape.map(String.init).joined(separator: ", "))]" }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Builds the model of `checkpoint` (a folder with `config.json`).
/// - Throws: `CheckpointError(.configuration)` without a config; `ModelError` for bad configs or weights.
public func loadModel(_ checkpoint: Checkpoint, architecture: ModelArchitecture? = nil) throws -> (
    model: any RunnableModel, report: LoadReport
) {
    guard let config = checkpoint.config else {
        throw CheckpointError(
            .configuration, file: checkpoint.path,
            "running a model needs its config.json; pass the checkpoint folder rather than the weights file")
    }
    let configFile =
        checkpoint.isFolder
        ? "\(checkpoint.path.hasSuffix("/") ? String(checkpoint.path.dropLast()) : checkpoint.path)/config.json"
        : checkpoint.path
    return try ModelLoader.load(
        config: config, configFile: configFile, archive: checkpoint.archive, architecture: architecture)
}

/// Runs `checkpoint` on `inputs` and writes every output to `output` (format from its extension).
/// - Throws: `CheckpointError` or `ModelError`; nothing is written on failure.
public func runModel(_ checkpoint: Checkpoint, inputs: ModelInputs, to output: String, options: RunOptions) throws
    -> RunSummary
{
    guard let format = options.format ?? ArchiveOpener.format(forExtensionOf: output) else {
        throw CheckpointError(
            .unknownFormat, file: output, "cannot tell the output format from the extension; use .safetensors or .npz")
    }
    let (model, report) = try loadModel(checkpoint, architecture: options.architecture)
    var outputs: [NamedOutput] = []
    var seconds = Double.infinity
    for _ in 0..<options.repetitions {
        let start = Date()
        outputs = try model.run(inputs, hiddenStates: options.hiddenStates)
        seconds = min(seconds, Date().timeIntervalSince(start))
    }
    try ArchiveRegistry.write(
        outputs.map { TensorSource(name: $0.name, tensor: $0.tensor) }, format: format, to: output,
        options: WriteOptions(overwrite: options.force, metadata: nil))
    return RunSummary(
        model: checkpoint.path, architecture: model.architecture.rawValue, output: output,
        outputs: outputs.map { .init(name: $0.name, shape: $0.tensor.shape.dimensions) },
        seconds: seconds, repetitions: options.repetitions, notes: report.notes)
}
