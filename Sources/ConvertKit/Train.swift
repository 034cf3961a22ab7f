// `train`: fine-tunes an RMT folder with the training engine (`RMTTrainer`, docs/RMT.md §8) on a data file, step
// after step in the batch order of docs/RMT.md §8.7, evaluating and checkpointing on a cadence, and reports what
// happens as events; the CLI draws them. OUT_DIR and resuming: TrainOutput.swift, TrainRequest.swift, §8.11.
import Checkpoints
import Foundation
import RMT

/// One training step, as `--json` prints it and `metrics.jsonl` keeps it.
public struct TrainStepRecord: Codable, Sendable, Equatable {
    public var type = "train"
    /// Updates done after this step: 1 for the first step, the run's total for the last.
    public var step: Int
    /// The batch's loss before the update: what `run --labels` reports for it.
    public var loss: Double
    /// The learning rate of the update (the schedule applied).
    public var lr: Double
    /// The global L2 norm of the gradients before clipping.
    public var gradNorm: Double
    /// Input tokens of the batch, `B·T`.
    public var tokens: Int
    /// Wall time of the step, forward to update.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case type, step, loss, lr, tokens, seconds
        case gradNorm = "grad_norm"
    }
}

/// One evaluation of the held-out data, as `--json` prints it and `metrics.jsonl` keeps it.
public struct TrainEvalRecord: Codable, Sendable, Equatable {
    public var type = "eval"
    /// Updates done when evaluated (0: before the first step).
    public var step: Int
    /// The loss `run --labels` reports for the whole file: the mean over its scored positions (decoder) or the
    /// batches' losses weighted by their samples (encoder).
    public var loss: Double
    /// `correct / scored`: answer tokens predicted right (decoder, first argmax) or samples classified right.
    public var accuracy: Double
    public var correct: Int
    public var scored: Int
    public var rows: Int
    public var seconds: Double
}

/// What a run is about to do.
public struct TrainStart: Encodable, Sendable {
    public var type = "start"
    public let output: String
    public let variant: RMTVariant
    /// Steps done before this invocation (0 unless resumed) and the run's total.
    public let firstStep: Int
    public let totalSteps: Int
    public let batchSize: Int
    public let rowLength: Int
    public let dataRows: Int
    public let trainedTensors: Int
    public let options: TrainingOptions
    /// What the data reader wants the user to know (default labels, an ignored mask).
    public let notes: [String]

    enum CodingKeys: String, CodingKey {
        case type, output, variant, options, notes
        case firstStep = "first_step", totalSteps = "total_steps", batchSize = "batch_size", rowLength = "row_length"
        case dataRows = "data_rows", trainedTensors = "trained_tensors"
    }
}

/// What `train` reports while it runs.
public enum TrainEvent: Sendable {
    case started(TrainStart)
    case step(TrainStepRecord)
    case evaluated(TrainEvalRecord)
    /// A checkpoint of `step` reached `phase`; `path` is the folder it is in.
    case checkpoint(step: Int, phase: CheckpointPhase, path: String)
}

/// What `train` did.
public struct TrainSummary: Encodable, Sendable {
    public var type = "summary"
    public let output: String
    public let variant: String
    /// Updates done, in all (`steps`) and by this invocation (`stepsRun`, after `resumedFrom` earlier ones).
    public let steps: Int
    public let stepsRun: Int
    public let resumedFrom: Int?
    public let firstLoss: Double?
    public let lastLoss: Double?
    public let lastEval: TrainEvalRecord?
    public let checkpoints: Int
    public let seconds: Double
    public let tokensPerSecond: Double
    public let files: [String]

    enum CodingKeys: String, CodingKey {
        case type, output, variant, steps, checkpoints, seconds, files
        case stepsRun = "steps_run", resumedFrom = "resumed_from", firstLoss = "first_loss", lastLoss = "last_loss"
        case lastEval = "last_eval", tokensPerSecond = "tokens_per_second"
    }

    public var text: String {
        let loss = firstLoss.flatMap { f in lastLoss.map { String(format: "loss %.4f → %.4f", f, $0) } }
        var lines = [
            "trained \(stepsRun) step\(stepsRun == 1 ? "" : "s")\(resumedFrom.map { " after \($0)" } ?? "") in "
                + String(format: "%.1f s (%.0f tokens/s)", seconds, tokensPerSecond) + (loss.map { "; \($0)" } ?? "")
        ]
        if let e = lastEval {
            lines.append(
                String(
                    format: "eval at step %d: loss %.4f, accuracy %.4f (%d/%d)", e.step, e.loss, e.accuracy, e.correct,
                    e.scored))
        }
        lines.append("wrote \(output) (step \(steps)): \(files.joined(separator: ", "))")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `train`: trains the RMT folder `request.model` (or continues the run in `request.output` with `resume`) for the
/// run's steps, checkpointing OUT_DIR every `checkpointEvery` steps and at the end, and appending every step and
/// evaluation to OUT_DIR/metrics.jsonl.
/// - Throws: `UsageError` for flags the run refuses (`checkTrainRequest`); `CheckpointError` for an unreadable or
///   mismatched folder, data file or saved state, or an OUT_DIR that may not be written; `RMTError` for a step
///   whose loss is not finite (OUT_DIR keeps its last checkpoint).
public func trainRMT(_ request: TrainRequest, events: ((TrainEvent) -> Void)? = nil) throws -> TrainSummary {
    var plan = try request.plan()
    if !plan.resume { try TrainOutput.checkFresh(plan) }
    let trainer: RMTTrainer
    do {
        trainer =
            plan.resume
            ? try RMTTrainer(resumingFrom: plan.model, options: plan.options)
            : try RMTTrainer(model: try RMTModel.load(folder: plan.model), options: plan.options)
    } catch let e as RMTError {
        throw UsageError("--\(e.field.replacingOccurrences(of: "_", with: "-")): \(e.message)")
    }
    let model = trainer.model
    let data = try TrainingData.read(plan.run.data, for: model)
    let seen = try fingerprint(plan.run.data)
    if plan.resume, seen.bytes != plan.run.dataBytes || seen.crc32 != plan.run.dataCRC32 {
        throw CheckpointError(
            .invalidArgument, file: plan.run.data,
            "is not the data the run was trained on (\(plan.run.dataBytes) bytes, CRC-32 \(String(plan.run.dataCRC32, radix: 16))); resume with the same file (--data PATH if it moved)"
        )
    }
    (plan.run.dataBytes, plan.run.dataCRC32) = seen
    let evalData = try plan.run.evalData.map { try TrainingData.read($0, for: model) }
    let schedule = try data.schedule(
        batchSize: plan.run.batchSize, order: plan.run.shuffle ? .shuffled(seed: plan.options.seed) : .fileOrder)
    let (output, metrics) = try TrainOutput.prepare(plan)

    events?(
        .started(
            TrainStart(
                output: plan.output, variant: plan.variant, firstStep: plan.completedSteps,
                totalSteps: plan.totalSteps, batchSize: plan.run.batchSize, rowLength: data.rowLength,
                dataRows: data.rowCount, trainedTensors: trainer.trainedParameterNames.count, options: trainer.options,
                notes: data.notes)))
    let start = ContinuousClock.now
    var lastEval: TrainEvalRecord?
    func evaluate() throws {
        guard let evalData else { return }
        let record = try evaluation(trainer, on: evalData, batchSize: plan.run.batchSize)
        try metrics.append(try jsonLine(record))
        events?(.evaluated(record))
        lastEval = record
    }
    var checkpoints = 0
    func checkpoint() throws {
        let step = trainer.completedSteps
        try output.checkpoint(trainer, run: plan.run, metrics: metrics) { phase, path in
            events?(.checkpoint(step: step, phase: phase, path: path))
        }
        checkpoints += 1
    }

    if !plan.resume { try evaluate() }
    var losses: [Double] = []
    var tokens = 0
    for step in trainer.completedSteps..<plan.totalSteps {
        let result = try trainer.step(try data.batch(step: step, schedule: schedule))
        let record = TrainStepRecord(
            step: step + 1, loss: result.loss, lr: result.learningRate, gradNorm: result.gradientNorm,
            tokens: result.tokens, seconds: result.seconds)
        try metrics.append(try jsonLine(record))
        events?(.step(record))
        losses.append(result.loss)
        tokens += result.tokens
        let done = step + 1
        if let every = plan.run.evalEvery, done % every == 0 || done == plan.totalSteps { try evaluate() }
        if let every = plan.run.checkpointEvery, done % every == 0, done < plan.totalSteps { try checkpoint() }
    }
    if !losses.isEmpty {
        if plan.run.evalEvery == nil { try evaluate() }
        try checkpoint()
    }
    let elapsed = secondsSince(start)
    let files =
        (try? FileManager.default.subpathsOfDirectory(atPath: plan.output))?.filter {
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(plan.output)/\($0)", isDirectory: &isFolder)
                && !isFolder.boolValue
        }.sorted() ?? []
    return TrainSummary(
        output: plan.output, variant: plan.variant.rawValue, steps: trainer.completedSteps, stepsRun: losses.count,
        resumedFrom: plan.resume ? plan.completedSteps : nil, firstLoss: losses.first, lastLoss: losses.last,
        lastEval: lastEval, checkpoints: checkpoints, seconds: elapsed,
        tokensPerSecond: elapsed > 0 ? Double(tokens) / elapsed : 0, files: files)
}

/// The loss and accuracy of every row of `data`, in batches of `batchSize` rows in file order.
func evaluation(_ trainer: RMTTrainer, on data: TrainingData, batchSize: Int) throws -> TrainEvalRecord {
    let start = ContinuousClock.now
    var weightedLoss = 0.0
    var correct = 0
    var scored = 0
    for first in stride(from: 0, to: data.rowCount, by: batchSize) {
        let result = try trainer.evaluate(
            try data.inputs(rows: Array(first..<min(first + batchSize, data.rowCount))))
        weightedLoss += result.loss * Double(result.scored)
        correct += result.correct
        scored += result.scored
    }
    return TrainEvalRecord(
        step: trainer.completedSteps, loss: weightedLoss / Double(max(1, scored)),
        accuracy: Double(correct) / Double(max(1, scored)), correct: correct, scored: scored, rows: data.rowCount,
        seconds: secondsSince(start))
}

/// Seconds from `start` to now.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
