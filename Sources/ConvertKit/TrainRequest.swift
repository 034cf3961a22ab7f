// What `train` is asked to do, checked before anything is loaded: the flags of a fresh run become the engine's
// `TrainingOptions` and the command's own `TrainRun`; a resumed run takes both from OUT_DIR/train_state/ and accepts
// only the flags that do not change its weights (docs/RMT.md §8.11).
import Checkpoints
import Foundation
import RMT

/// The flags of `train`. Options left nil take the engine's defaults (a fresh run) or the saved run's values
/// (`resume`).
public struct TrainRequest: Sendable {
    /// RMT_FOLDER: the RMT to train (a fresh run); nil with `resume`.
    public var model: String?
    /// OUT_DIR: the folder a fresh run writes, or the run `resume` continues.
    public var output: String?
    /// Continue the run saved in `output`.
    public var resume = false
    public var data: String?
    /// The run's length in steps (a resumed run: the new total, at least the steps already done).
    public var steps: Int?
    public var batchSize: Int?
    public var learningRate: Double?
    public var optimizer: TrainingOptions.Optimizer?
    public var weightDecay: Double?
    public var beta1: Double?
    public var beta2: Double?
    public var epsilon: Double?
    public var clipNorm: Double?
    public var bpttDepth: Int?
    public var freezeBackbone = false
    public var schedule: TrainingOptions.Schedule?
    public var warmup: Int?
    public var evalData: String?
    public var evalEvery: Int?
    public var checkpointEvery: Int?
    public var seed: UInt64?
    public var shuffle = false
    public var dropout: Double?
    /// A fresh run: replace OUT_DIR when it holds an earlier training run.
    public var force = false

    public init() {}
}

/// `train_state/run.json`: what the command adds to the engine's `state.json` so that `train --resume` takes the
/// same batches (docs/RMT.md §8.11).
public struct TrainRun: Codable, Equatable, Sendable {
    public var formatVersion = 1
    /// The RMT folder the run started from, absolute.
    public var source: String
    /// The training data, absolute, with its size and CRC-32: a resumed run refuses a changed file.
    public var data: String
    public var dataBytes: Int
    public var dataCRC32: UInt32
    public var batchSize: Int
    /// Batches from a permutation per epoch seeded by the run's seed (docs/RMT.md §8.7), or in file order.
    public var shuffle: Bool
    public var evalData: String?
    public var evalEvery: Int?
    public var checkpointEvery: Int?

    enum CodingKeys: String, CodingKey {
        case source, data, shuffle
        case formatVersion = "format_version", dataBytes = "data_bytes", dataCRC32 = "data_crc32"
        case batchSize = "batch_size", evalData = "eval_data", evalEvery = "eval_every"
        case checkpointEvery = "checkpoint_every"
    }

    /// The file's name inside OUT_DIR.
    public static let fileName = "train_state/run.json"

    /// Reads `folder/train_state/run.json`.
    /// - Throws: `CheckpointError` naming the file.
    public static func read(folder: String) throws -> TrainRun {
        let path = "\(folder)/\(fileName)"
        guard fileExists(path) else {
            throw CheckpointError(
                .io, file: path, "cannot be read; resume from a folder that `rmt-convert train` wrote")
        }
        let data = Data(try readInputFile(path))  // a regular file, opened without blocking
        do { return try JSONDecoder().decode(TrainRun.self, from: data) } catch {
            throw CheckpointError(.corrupt, file: path, "is not a training run's description: \(error)")
        }
    }

    /// The JSON text written to `fileName`.
    func text() throws -> String { try encodeJSON(self) }
}

/// A checked request: where the run reads and writes, and everything that decides its weights.
struct TrainPlan {
    /// The RMT folder to load: RMT_FOLDER, or OUT_DIR when resuming.
    var model: String
    var output: String
    var resume: Bool
    var options: TrainingOptions
    var run: TrainRun
    /// Steps done before this invocation (0 for a fresh run).
    var completedSteps: Int
    var variant: RMTVariant
    /// A fresh run: replace an earlier run in OUT_DIR.
    var force: Bool

    /// The run's length.
    var totalSteps: Int { options.totalSteps! }
}

extension TrainRequest {
    /// Checks the flags against each other and against the folder's `rmt_config.json` (and, resuming, the saved
    /// run), reading no weights and no data.
    /// - Throws: `UsageError` for flags that are missing, out of range, inconsistent or (resuming) would change
    ///   the run; `CheckpointError` for a folder or saved state that cannot be read.
    func plan() throws -> TrainPlan {
        try checkRanges()
        return resume ? try resumePlan() : try freshPlan()
    }

    /// Ranges and combinations that need no file.
    private func checkRanges() throws {
        let positive: [(String, Int?)] = [
            ("--steps", steps), ("--batch-size", batchSize), ("--eval-every", evalEvery),
            ("--checkpoint-every", checkpointEvery),
        ]
        for case (let flag, let value?) in positive where value < 1 {
            throw UsageError("\(flag) must be at least 1, got \(value)")
        }
        if let learningRate, !(learningRate.isFinite && learningRate >= 0) {
            throw UsageError("--lr must be a finite number ≥ 0, got \(learningRate)")
        }
        for case (let flag, let value?) in [("--beta1", beta1), ("--beta2", beta2)] where !(0..<1).contains(value) {
            throw UsageError("\(flag) must lie in [0, 1), got \(value)")
        }
        for case (let flag, let value?) in [("--eps", epsilon), ("--weight-decay", weightDecay)]
        where !(value.isFinite && value >= 0) {
            throw UsageError("\(flag) must be a finite number ≥ 0, got \(value)")
        }
        if let clipNorm, !(clipNorm.isFinite && clipNorm > 0) {
            throw UsageError("--clip-norm must be a number > 0, got \(clipNorm)")
        }
        if let bpttDepth, bpttDepth < -1 { throw UsageError("--bptt-depth must be −1 (full) or ≥ 0, got \(bpttDepth)") }
        if let warmup, warmup < 0 { throw UsageError("--warmup must be ≥ 0, got \(warmup)") }
        if let dropout, !(0..<1).contains(dropout) { throw UsageError("--dropout must lie in [0, 1), got \(dropout)") }
        if optimizer == .sgd,
            let flag = [("--weight-decay", weightDecay), ("--beta1", beta1), ("--beta2", beta2), ("--eps", epsilon)]
                .first(where: { $0.1 != nil })?.0
        {
            throw UsageError("\(flag) applies to --optimizer adamw; plain SGD has no moments and no weight decay")
        }
    }

    private func freshPlan() throws -> TrainPlan {
        guard let model else {
            throw UsageError("give the RMT folder to train (train RMT_FOLDER --data …) or --resume OUT_DIR")
        }
        let missing = [
            ("--data", data == nil), ("--output", output == nil), ("--steps", steps == nil),
            ("--batch-size", batchSize == nil), ("--lr", learningRate == nil),
        ].filter(\.1).map(\.0)
        guard missing.isEmpty else {
            throw UsageError("a new run needs \(missing.joined(separator: ", ")) (or --resume OUT_DIR to continue one)")
        }
        if evalEvery != nil, evalData == nil {
            throw UsageError("--eval-every needs --eval-data: the held-out rows to evaluate")
        }
        var options = TrainingOptions()
        options.optimizer = optimizer ?? .adamw
        options.learningRate = learningRate!
        if options.optimizer == .adamw {
            options.beta1 = beta1 ?? options.beta1
            options.beta2 = beta2 ?? options.beta2
            options.epsilon = epsilon ?? options.epsilon
            options.weightDecay = weightDecay ?? options.weightDecay
        } else {
            options.weightDecay = 0
        }
        options.clipNorm = clipNorm
        options.schedule = schedule ?? .constant
        options.warmupSteps = warmup ?? 0
        options.totalSteps = steps
        options.bpttDepth = bpttDepth
        options.freezeBackbone = freezeBackbone
        options.dropout = dropout ?? 0
        options.seed = seed ?? 0
        let configuration = try RMTModel.configuration(folder: model)
        try checkBPTT(options.bpttDepth, configuration: configuration)
        do { try options.validate() } catch let e as RMTError {
            throw UsageError("--\(e.field.replacingOccurrences(of: "_", with: "-")): \(e.message)")
        }
        let run = TrainRun(
            source: absolutePath(model), data: absolutePath(data!), dataBytes: 0, dataCRC32: 0, batchSize: batchSize!,
            shuffle: shuffle, evalData: evalData.map(absolutePath), evalEvery: evalEvery,
            checkpointEvery: checkpointEvery)
        return TrainPlan(
            model: model, output: output!, resume: false, options: options, run: run, completedSteps: 0,
            variant: configuration.variant, force: force)
    }

    /// The encoder trains with full BPTT only; a decoder depth ≥ 0 compares with `max_n_segments`.
    private func checkBPTT(_ depth: Int?, configuration: RMTConfiguration) throws {
        guard let depth else { return }
        if configuration.variant == .encoder, depth != -1 {
            throw UsageError(
                "--bptt-depth \(depth): the encoder RMT trains with full BPTT only (docs/RMT.md §3.6); leave it out or pass −1"
            )
        }
        if configuration.variant == .decoder, depth >= 0, configuration.maxNSegments == nil {
            throw UsageError(
                "--bptt-depth \(depth) compares with max_n_segments, which this RMT's rmt_config.json does not set; wrap it with --max-segments or pass −1"
            )
        }
    }

    private func resumePlan() throws -> TrainPlan {
        guard let output else { throw UsageError("--resume needs the OUT_DIR of the run to continue") }
        if let model { throw UsageError("--resume continues OUT_DIR with its own weights; drop \(model)") }
        if force { throw UsageError("--force applies to a new run; --resume continues the run in \(output)") }
        let state: TrainingState
        do { state = try TrainingState.read(folder: output) } catch let error as CheckpointError {
            if FileManager.default.fileExists(atPath: "\(output)/\(TrainMetrics.fileName)") {
                throw CheckpointError(
                    .io, file: output,
                    "holds no checkpoint yet (the run stopped before its first one); start the run again with --force")
            }
            throw error
        }
        var run = try TrainRun.read(folder: output)
        let saved = state.options
        let total = saved.totalSteps ?? state.completedSteps
        // Flags that decide the weights: refused unless they repeat the saved run.
        let given: [(String, String?, String)] = [
            ("--batch-size", batchSize.map(String.init), String(run.batchSize)),
            ("--lr", learningRate.map { "\($0)" }, "\(saved.learningRate)"),
            ("--optimizer", optimizer?.rawValue, saved.optimizer.rawValue),
            ("--weight-decay", weightDecay.map { "\($0)" }, "\(saved.weightDecay)"),
            ("--beta1", beta1.map { "\($0)" }, "\(saved.beta1)"), ("--beta2", beta2.map { "\($0)" }, "\(saved.beta2)"),
            ("--eps", epsilon.map { "\($0)" }, "\(saved.epsilon)"),
            ("--clip-norm", clipNorm.map { "\($0)" }, saved.clipNorm.map { "\($0)" } ?? "none"),
            ("--bptt-depth", bpttDepth.map(String.init), saved.bpttDepth.map(String.init) ?? "the folder's k2"),
            ("--freeze-backbone", freezeBackbone ? "true" : nil, "\(saved.freezeBackbone)"),
            ("--schedule", schedule?.rawValue, saved.schedule.rawValue),
            ("--warmup", warmup.map(String.init), String(saved.warmupSteps)),
            ("--seed", seed.map { "\($0)" }, "\(saved.seed)"), ("--shuffle", shuffle ? "true" : nil, "\(run.shuffle)"),
            ("--dropout", dropout.map { "\($0)" }, "\(saved.dropout)"),
        ]
        for case (let flag, let value?, let savedValue) in given where value != savedValue {
            throw UsageError(
                "\(flag) \(value) would change the run, which was trained with \(savedValue) (\(output)/train_state/); a resumed run keeps its settings: start a new run to change them"
            )
        }
        var options = saved
        if let steps, steps != total {
            guard steps >= state.completedSteps else {
                throw UsageError(
                    "--steps \(steps) is fewer than the \(state.completedSteps) steps \(output) has already done")
            }
            guard saved.schedule == .constant else {
                throw UsageError(
                    "--steps \(steps): the \(saved.schedule.rawValue) schedule of this run decays over its \(total) steps; it can only be resumed to \(total)"
                )
            }
            options.totalSteps = steps
        }
        if let data { run.data = absolutePath(data) }
        if let evalData { run.evalData = absolutePath(evalData) }
        run.evalEvery = evalEvery ?? run.evalEvery
        run.checkpointEvery = checkpointEvery ?? run.checkpointEvery
        if run.evalEvery != nil, run.evalData == nil {
            throw UsageError("--eval-every needs --eval-data: the held-out rows to evaluate")
        }
        return TrainPlan(
            model: output, output: output, resume: true, options: options, run: run,
            completedSteps: state.completedSteps, variant: state.variant, force: false)
    }
}

/// `path` made absolute against the current folder.
func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// `train`'s checks alone (the CLI's `validate`): what `trainRMT` would refuse as a usage error before reading
/// weights or data.
/// - Throws: `UsageError`; `CheckpointError` for a folder or saved state that cannot be read.
public func checkTrainRequest(_ request: TrainRequest) throws { _ = try request.plan() }
