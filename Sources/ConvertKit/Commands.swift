// The commands of rmt-convert as library calls. Each takes what the command line gave and decides from the
// files what the checkpoint is (an RMT folder or a model of a registered family), so the executable only parses
// arguments, calls one of these and prints the result.
import Checkpoints
import Foundation
import Models
import RMT
import TextTokenizers

/// A request the command line's rules refuse (a flag that does not apply to this checkpoint): the CLI reports
/// it as an argument error, exit status 64.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The one line a command prints for a failure: `error: ` and the error's description, on one line, with every
/// control character shown escaped (`\u{1B}`), since names and fields in it come from untrusted files and must not
/// drive the terminal.
public func errorLine(_ error: any Error) -> String {
    let flat = "\(error)".split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
    return "error: " + escapedControlCharacters(flat)
}

/// `inspect`: the report of the checkpoint at `path` (headers only).
/// - Throws: `CheckpointError`.
public func inspectCheckpoint(_ path: String, format: CheckpointFormat? = nil) throws -> InspectReport {
    inspect(try Checkpoint.open(path, format: format))
}

/// What `convert` should do.
public struct ConvertRequest: Sendable {
    public var options: ConvertOptions
    /// Read the source as this format instead of guessing from its extension.
    public var inputFormat: CheckpointFormat?
    /// RMT only: write `model_best.pth` holding `model_state_dict`.
    public var referencePth = false
    /// RMT only: write the plain backbone and `memory.safetensors`.
    public var unwrap = false
    /// RMT only: the transformers version whose buffers the state dict carries.
    public var profile: StateDictProfile = .current

    public init(options: ConvertOptions) { self.options = options }
}

/// `convert`: an RMT folder is exported in the reference's layout (`exportRMT`); anything else is converted
/// tensor by tensor (`convert(_:to:options:)`).
/// - Throws: `UsageError` for RMT-only flags on another checkpoint; `CheckpointError`, `RMTError`, `ModelError`.
public func convertCheckpoint(
    _ source: String, to destination: String, request: ConvertRequest, progress: ProgressHandler? = nil
) throws -> ConvertSummary {
    if RMTModel.isRMTFolder(source) {
        var options = RMTExportOptions()
        options.format = request.options.format ?? .safetensors
        options.referencePth = request.referencePth
        options.profile = request.profile
        options.force = request.options.force
        return try exportRMT(source, to: destination, options: options, unwrap: request.unwrap)
    }
    guard !request.referencePth, !request.unwrap else {
        throw UsageError("--layout and --unwrap apply to RMT checkpoints; \(source) has no rmt_config.json")
    }
    let checkpoint = try Checkpoint.open(
        source, format: request.inputFormat, readOptions: ReadOptions(keepBF16: request.options.keepBF16))
    return try convert(checkpoint, to: destination, options: request.options, progress: progress)
}

/// What `run` should do.
public struct RunRequest: Sendable {
    /// Where the inputs come from.
    public enum Inputs: Sendable {
        /// Ids and companions, each from its own file.
        case files(inputIds: String, attentionMask: String?, tokenTypeIds: String?, positionIds: String?)
        /// One file holding `input_ids` and optionally `attention_mask`, `token_type_ids`, `position_ids`.
        case bundle(String)
        /// A text file: each non-empty line is one sample, tokenized with the checkpoint's tokenizer.
        case text(String)
    }

    public var inputs: Inputs
    /// Where the outputs go (`.safetensors` or `.npz`).
    public var output: String
    public var force = false
    /// Models: run this architecture instead of the one `config.json` names.
    public var architecture: ModelArchitecture?
    /// Models: also write every layer's hidden states.
    public var hiddenStates = false
    /// Models: run the forward pass this many times and report the fastest.
    public var repetitions = 1
    /// RMT: labels and labels mask files.
    public var labels: String?
    public var labelsMask: String?
    /// RMT decoder: greedily generate this many tokens after the input.
    public var generate: Int?
    /// RMT decoder: keep the `[B, T, V]` logits.
    public var keepLogits = true

    public init(inputs: Inputs, output: String) {
        self.inputs = inputs
        self.output = output
    }
}

/// `run`: an RMT folder runs segment by segment (`RMTModel.run`); a model runs its forward pass (`runModel`).
/// - Throws: `UsageError` for flags that do not apply to the checkpoint; `CheckpointError`, `ModelError`,
///   `RMTError`.
public func runCheckpoint(_ model: String, request: RunRequest, progress: ProgressHandler? = nil) throws
    -> RunSummary
{
    if RMTModel.isRMTFolder(model) { return try runRMTFolder(model, request: request, progress: progress) }
    guard request.labels == nil, request.labelsMask == nil, request.keepLogits, request.generate == nil else {
        throw UsageError(
            "--labels, --labels-mask, --no-logits and --generate apply to RMT folders; \(model) has no rmt_config.json")
    }
    let checkpoint = try Checkpoint.open(model)
    let inputs: ModelInputs
    switch request.inputs {
    case .text(let path):
        let tokenizer = try loadTokenizer(folder: model)
        let padId =
            checkpoint.config?["pad_token_id"]?.integerValue ?? checkpoint.config?["eos_token_id"]?.integerValue ?? 0
        inputs = try RunInputs.fromTexts(try readLines(path), tokenize: tokenizer.encode, padId: padId)
    case .bundle(let path):
        inputs = try RunInputs.read(bundle: path)
    case .files(let ids, let mask, let types, let positions):
        inputs = try RunInputs.read(inputIds: ids, attentionMask: mask, tokenTypeIds: types, positionIds: positions)
    }
    return try runModel(
        checkpoint, inputs: inputs, to: request.output,
        options: RunOptions(
            architecture: request.architecture, hiddenStates: request.hiddenStates, force: request.force,
            repetitions: request.repetitions))
}

/// `run` on an RMT folder.
func runRMTFolder(_ model: String, request: RunRequest, progress: ProgressHandler?) throws -> RunSummary {
    var modelOnly = request.architecture != nil || request.hiddenStates || request.repetitions != 1
    if case .files(_, _, let types, let positions) = request.inputs, types != nil || positions != nil {
        modelOnly = true
    }
    guard !modelOnly else {
        throw UsageError(
            "--token-type-ids, --position-ids, --architecture, --hidden-states and --repeat do not apply to RMT folders"
        )
    }
    let inputs: RMTInputs
    switch request.inputs {
    case .text(let path):
        inputs = try RMTInputs.fromTexts(
            try readLines(path), tokenizer: try loadTokenizer(folder: model), labels: request.labels)
    case .bundle(let path):
        let hasMask = (try? ArchiveRegistry.open(path))?.contains("attention_mask") ?? false
        inputs = try RMTInputs.read(
            inputIds: path, attentionMask: hasMask ? path : nil, labels: request.labels, labelsMask: request.labelsMask)
    case .files(let ids, let mask, _, _):
        inputs = try RMTInputs.read(
            inputIds: ids, attentionMask: mask, labels: request.labels, labelsMask: request.labelsMask)
    }
    return try runRMTToFile(
        model, inputs: inputs, output: request.output, keepLogits: request.keepLogits, force: request.force,
        generate: request.generate, progress: progress)
}

/// `verify`: an RMT folder against a `tools/rmt_reference.py` fixture, a model against a
/// `tools/make_model_fixtures.py` fixture.
/// - Parameter architecture: models only: overrides the fixture's architecture.
public func verifyCheckpoint(_ model: String, fixture: String, architecture: ModelArchitecture? = nil) throws
    -> VerifyReport
{
    RMTModel.isRMTFolder(model)
        ? try verifyRMT(try RMTModel.load(folder: model), fixture: fixture)
        : try verify(try Checkpoint.open(model), fixture: fixture, architecture: architecture)
}

/// `tokenize`: the ids of `text`, or of the whole content of `file`, with the folder's tokenizer.
/// - Throws: `CheckpointError` naming the folder or the file.
public func tokenizeText(folder: String, text: String?, file: String?) throws -> [Int] {
    let tokenizer = try loadTokenizer(folder: folder)
    if let text { return tokenizer.encode(text) }
    guard let file else { return tokenizer.encode("") }
    // Opened like every input: regular files only, never blocking (a FIFO is refused, not waited on).
    guard let decoded = String(validating: try readInputFile(file), as: UTF8.self) else {
        throw CheckpointError(.invalidArgument, file: file, "is not valid UTF-8 text; re-save it as UTF-8")
    }
    return tokenizer.encode(decoded)
}

/// The non-empty lines of a text file.
/// - Throws: `CheckpointError` when it cannot be read, is not UTF-8 or holds no text.
func readLines(_ path: String) throws -> [String] {
    guard let text = String(validating: try readInputFile(path), as: UTF8.self) else {
        throw CheckpointError(.invalidArgument, file: path, "is not valid UTF-8 text; re-save it as UTF-8")
    }
    let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter {
        !$0.trimmingCharacters(in: .whitespaces).isEmpty
    }
    guard !lines.isEmpty else {
        throw CheckpointError(.invalidArgument, file: path, "holds no text; put one sample per line")
    }
    return lines
}
