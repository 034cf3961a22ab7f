import ArgumentParser
import ConvertKit
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension TrainingOptions.Optimizer: ExpressibleByArgument {}
extension TrainingOptions.Schedule: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune an RMT folder on a data file (BPTT through the memory, SGD or AdamW).",
        discussion: """
            RMT_FOLDER is an RMT made by wrap (decoder or encoder). DATA.npz holds input_ids [N, T] and, as the \
            model needs them, labels (decoder [N, T] with −100 = ignored, default input_ids; encoder [N] class \
            ids), attention_mask, labels_mask; make-task writes such files. Step i takes rows i·B … i·B+B−1 modulo \
            N (file order), or a permutation per epoch seeded by --seed with --shuffle. A step's loss is what \
            run --labels reports for its batch.

            OUT_DIR becomes a normal RMT folder (run, verify and convert open it) plus train_state/ (the \
            optimizer's moments, the step, the settings, the data it trains on) and metrics.jsonl (one JSON line \
            per step and per evaluation). --checkpoint-every N replaces OUT_DIR with a new checkpoint every N \
            steps in one step (written beside it, then exchanged): a run killed at any moment leaves the previous \
            checkpoint or the new one; the final state is saved at the end.

            train --resume OUT_DIR continues the run bit for bit with its saved settings, data and batch order. \
            On resume, --steps (a new total: any for the constant schedule, the saved one for linear and cosine), \
            --data (the same file moved), --eval-data, --eval-every, --checkpoint-every and --json may be given; \
            a flag that would change the weights (--lr, --batch-size, --seed, …) is refused unless it repeats the \
            saved value. metrics.jsonl is cut back to the checkpoint's step and continued.

            --eval-data E.npz evaluates the held-out rows before the first step, every --eval-every steps and at \
            the end: loss, and accuracy over the scored positions (decoder: answer tokens, first argmax) or the \
            samples (encoder). A progress bar (step, loss, tokens/s, ETA) is drawn on a terminal; --json prints one \
            JSON line per step, evaluation and checkpoint, then a summary line.

            Example (the copy task): make-task copy --output copy.npz; init-gpt2 --vocab 10 --positions 12 \
            --output gpt2; wrap gpt2 --output rmt --memory-tokens 4 --segment-size 4 --max-segments 3; \
            train rmt --data copy.npz --output out --steps 500 --batch-size 32 --lr 1e-3.
            """)

    @Argument(help: "The RMT folder to train (omit with --resume).")
    var model: String?

    @Option(help: "The training data (.npz): input_ids, labels, attention_mask, labels_mask.")
    var data: String?

    @Option(help: "OUT_DIR: the folder to write (an RMT folder + train_state/ + metrics.jsonl).")
    var output: String?

    @Option(help: "Continue the run saved in OUT_DIR.")
    var resume: String?

    @Option(help: "Steps to train (resumed: the run's new total).")
    var steps: Int?

    @Option(name: .customLong("batch-size"), help: "Rows per step.")
    var batchSize: Int?

    @Option(help: "The peak learning rate.")
    var lr: Double?

    @Option(help: "adamw (torch.optim.AdamW, default) or sgd (p ← p − lr·g).")
    var optimizer: TrainingOptions.Optimizer?

    @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay (default 0.01).")
    var weightDecay: Double?

    @Option(help: "AdamW's β1 (default 0.9).")
    var beta1: Double?

    @Option(help: "AdamW's β2 (default 0.999).")
    var beta2: Double?

    @Option(help: "AdamW's ε (default 1e-8).")
    var eps: Double?

    @Option(name: .customLong("clip-norm"), help: "Clip the gradients to this global L2 norm.")
    var clipNorm: Double?

    @Option(
        name: .customLong("bptt-depth"), parsing: .unconditional,
        help:
            "Decoder: the k2 of BPTT truncation (−1 full; 0 carries the memory without training through it; needs max_n_segments). Default: the folder's k2."
    )
    var bpttDepth: Int?

    @Flag(name: .customLong("freeze-backbone"), help: "Train only the memory; every other weight stays bit for bit.")
    var freezeBackbone = false

    @Option(help: "constant (default), linear or cosine decay over --steps, after the warm-up.")
    var schedule: TrainingOptions.Schedule?

    @Option(help: "Steps of linear warm-up from 0.")
    var warmup: Int?

    @Option(name: .customLong("eval-data"), help: "Held-out data (.npz) to evaluate.")
    var evalData: String?

    @Option(name: .customLong("eval-every"), help: "Evaluate every N steps (needs --eval-data).")
    var evalEvery: Int?

    @Option(name: .customLong("checkpoint-every"), help: "Replace OUT_DIR with a checkpoint every N steps.")
    var checkpointEvery: Int?

    @Option(help: "Seed of the dropout masks and of --shuffle (default 0).")
    var seed: UInt64?

    @Flag(help: "Visit the rows in a seeded permutation per epoch instead of file order.")
    var shuffle = false

    @Option(help: "Dropout probability at the backbone's hidden-state sites (default 0: off).")
    var dropout: Double?

    @Flag(help: "Print one JSON line per step, evaluation and checkpoint, and a JSON summary.")
    var json = false

    @Flag(help: "Replace an earlier training run in OUT_DIR.")
    var force = false

    var request: TrainRequest {
        var r = TrainRequest()
        r.model = model
        r.output = resume ?? output
        r.resume = resume != nil
        r.data = data
        r.steps = steps
        r.batchSize = batchSize
        r.learningRate = lr
        r.optimizer = optimizer
        r.weightDecay = weightDecay
        r.beta1 = beta1
        r.beta2 = beta2
        r.epsilon = eps
        r.clipNorm = clipNorm
        r.bpttDepth = bpttDepth
        r.freezeBackbone = freezeBackbone
        r.schedule = schedule
        r.warmup = warmup
        r.evalData = evalData
        r.evalEvery = evalEvery
        r.checkpointEvery = checkpointEvery
        r.seed = seed
        r.shuffle = shuffle
        r.dropout = dropout
        r.force = force
        return r
    }

    func validate() throws {
        if resume != nil, output != nil {
            throw ValidationError("--output does not apply with --resume: the run continues in its own OUT_DIR")
        }
        // File errors (a missing folder or state) are reported by run, with exit status 1.
        do { try checkTrainRequest(request) } catch let error as UsageError {
            throw ValidationError(error.description)
        } catch {}
    }

    func run() throws {
        try reportingErrors {
            let display = TrainDisplay(json: json)
            let summary = try trainRMT(request) { event in
                TestHooks.stopIfAsked(event)
                display.show(event)
            }
            display.finish()
            printOut(json ? try jsonLine(summary) + "\n" : summary.text)
        }
    }
}

/// A test-only hook: `RMT_CONVERT_TEST_KILL_AT=STEP:PHASE` (PHASE `written`, `ready` or `replaced`) makes the
/// process kill itself with SIGKILL when the checkpoint of that step reaches that phase, so tests can check what a
/// crash at that moment leaves (Tests/CLITests/TrainCLITests.swift). Unset, it does nothing.
enum TestHooks {
    static let killAt = ProcessInfo.processInfo.environment["RMT_CONVERT_TEST_KILL_AT"]

    static func stopIfAsked(_ event: TrainEvent) {
        guard let killAt, case .checkpoint(let step, let phase, _) = event, killAt == "\(step):\(phase.rawValue)"
        else { return }
        kill(getpid(), SIGKILL)
    }
}
