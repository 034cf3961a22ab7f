// `train` run as the binary: a step's loss is run's, OUT_DIR opens in every command, resume equals the uninterrupted
// run bit for bit, a run killed at each phase of a checkpoint leaves a loadable checkpoint and resumes to the same
// bytes, the JSON lines and metrics.jsonl, OUT_DIR refusals, and every bad flag (exit 64 with train's usage).
import Foundation
import Testing
import TestSupport

@testable import ConvertKit

/// A tiny copy-task setup in `dir`: `make-task copy` data (`train.npz`, `eval.npz`), a fresh GPT-2 (`gpt2`) wrapped
/// as a decoder RMT (`rmt`) with `memory` tokens, segments of `segment` tokens and `max_n_segments` set.
func makeCopySetup(
    in dir: String, length: Int = 2, segment: Int = 1, memory: Int = 1, hidden: Int = 32, layers: Int = 1,
    samples: Int = 64, seed: Int = 1
) throws {
    let segments = (2 * length + 1 + segment - 1) / segment
    for args in [
        [
            "make-task", "copy", "--output", "\(dir)/train.npz", "--length", "\(length)", "--samples", "\(samples)",
            "--seed", "\(seed + 100)",
        ],
        [
            "make-task", "copy", "--output", "\(dir)/eval.npz", "--length", "\(length)", "--samples", "256", "--seed",
            "\(seed + 200)",
        ],
        [
            "init-gpt2", "--vocab", "10", "--positions", "\(segment + 2 * memory)", "--hidden", "\(hidden)",
            "--layers", "\(layers)", "--output", "\(dir)/gpt2", "--seed", "\(seed)",
        ],
        [
            "wrap", "\(dir)/gpt2", "--output", "\(dir)/rmt", "--memory-tokens", "\(memory)", "--segment-size",
            "\(segment)", "--max-segments", "\(segments)", "--seed", "\(seed)",
        ],
    ] {
        let r = try rmtConvert(args)
        #expect(r.status == 0, "\(args[0]): \(r.stderr)")
    }
}

/// The JSON objects of `text`, one per line.
func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
}

/// The `train` records' losses of a metrics file or `--json` output, by step.
func trainLosses(_ text: String) throws -> [Int: Double] {
    var out: [Int: Double] = [:]
    for r in try jsonLines(text) where r["type"] as? String == "train" {
        let step = try #require(r["step"] as? Int)
        #expect(out[step] == nil, "step \(step) recorded twice")
        out[step] = r["loss"] as? Double
    }
    return out
}

func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

@Suite("rmt-convert train, run as a binary")
struct TrainCLITests {
    /// A run of the tiny copy RMT with most settings away from their defaults.
    let settings = [
        "--steps", "6", "--batch-size", "8", "--lr", "3e-3", "--clip-norm", "1", "--schedule", "cosine", "--warmup",
        "2", "--dropout", "0.1", "--seed", "7", "--shuffle", "--weight-decay", "0.05",
    ]

    @Test(
        "a step's loss is what run --labels reports for its batch, before and after an update (decoder and encoder fixtures)",
        arguments: ["decoder", "encoder"])
    func lossIsRunLoss(_ variant: String) throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = Fixtures.path("training/\(variant)")
        let data = "\(model)/data.npz"  // 5 rows: with --batch-size 5 every step takes the whole file in order
        func runLoss(_ folder: String) throws -> Double {
            var args = ["run", folder, "--input-ids", data, "--labels", data, "--output", "\(dir)/run.npz", "--force"]
            if variant == "decoder" { args += ["--attention-mask", data, "--labels-mask", data, "--no-logits"] }
            let r = try rmtConvert(args)
            #expect(r.status == 0, "\(r.stderr)")
            return Double(try ArchiveRegistry.open("\(dir)/run.npz").tensor(named: "loss").floatValues()[0])
        }
        let first = try rmtConvert([
            "train", model, "--data", data, "--output", "\(dir)/out", "--steps", "1", "--batch-size", "5", "--lr",
            "1e-2",
            "--json",
        ])
        #expect(first.status == 0, "\(first.stderr)")
        try FileManager.default.copyItem(atPath: "\(dir)/out", toPath: "\(dir)/after1")  // resuming replaces out
        let second = try rmtConvert(["train", "--resume", "\(dir)/out", "--steps", "2", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let losses = try trainLosses(first.stdout).merging(try trainLosses(second.stdout)) { a, _ in a }
        // run's loss is written as float32; the training forward agrees with run's to float rounding.
        for (step, folder) in [(1, model), (2, "\(dir)/after1")] {
            let expected = try runLoss(folder)
            let loss = try #require(losses[step])
            #expect(abs(loss - expected) <= 1e-6 * expected, "step \(step): train \(loss), run \(expected)")
        }
        if variant == "decoder" {
            #expect(first.stderr.isEmpty, "\(first.stderr)")
        } else {
            #expect(first.stderr.contains("note: attention_mask: the encoder ignores it"), "\(first.stderr)")
        }
    }

    @Test("OUT_DIR is a normal RMT folder: inspect, run, convert --layout reference-pth and --unwrap open it")
    func outputOpensEverywhere() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeCopySetup(in: dir)
        let train = try rmtConvert(
            ["train", "\(dir)/rmt", "--data", "\(dir)/train.npz", "--output", "\(dir)/out"] + settings)
        #expect(train.status == 0, "\(train.stderr)")
        for args in [
            ["inspect", "\(dir)/out"],
            [
                "run", "\(dir)/out", "--input-ids", "\(dir)/eval.npz", "--labels", "\(dir)/eval.npz", "--output",
                "\(dir)/o.npz",
            ],
            ["convert", "\(dir)/out", "\(dir)/pth", "--layout", "reference-pth"],
            ["convert", "\(dir)/out", "\(dir)/plain", "--unwrap"],
        ] {
            let r = try rmtConvert(args)
            #expect(r.status == 0, "\(args[0]): \(r.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: "\(dir)/pth/model_best.pth"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/plain/memory.safetensors"))
        let files = try FileManager.default.subpathsOfDirectory(atPath: "\(dir)/out").sorted()
        #expect(
            files == [
                "config.json", "metrics.jsonl", "model.safetensors", "rmt_config.json", "train_state",
                "train_state/optimizer.safetensors", "train_state/run.json", "train_state/state.json",
            ], "\(files)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasPrefix(".") })
    }

    @Test("resumed runs equal the uninterrupted run bit for bit: a longer constant run, and a cosine run stopped at 3")
    func resumeIsBitIdentical() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeCopySetup(in: dir)
        let base = ["train", "\(dir)/rmt", "--data", "\(dir)/train.npz"]
        // Constant schedule: 3 steps, then resumed to a total of 6, equals 6 steps at once.
        let constant = ["--batch-size", "8", "--lr", "3e-3", "--clip-norm", "1", "--seed", "3", "--shuffle"]
        #expect(try rmtConvert(base + ["--output", "\(dir)/whole", "--steps", "6"] + constant).status == 0)
        #expect(try rmtConvert(base + ["--output", "\(dir)/part", "--steps", "3"] + constant).status == 0)
        let resumed = try rmtConvert(["train", "--resume", "\(dir)/part", "--steps", "6"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("trained 3 steps after 3"), "\(resumed.stdout)")
        try expectSameRun("\(dir)/whole", "\(dir)/part")
        // Cosine with warm-up, dropout, shuffle, evaluation: stopped after the checkpoint of step 3 (the process
        // is killed there), then resumed.
        let cosine = settings + ["--eval-data", "\(dir)/eval.npz", "--eval-every", "2"]
        #expect(try rmtConvert(base + ["--output", "\(dir)/cos-whole"] + cosine).status == 0)
        let stopped = try rmtConvert(
            base + ["--output", "\(dir)/cos", "--checkpoint-every", "3"] + cosine,
            environment: ["RMT_CONVERT_TEST_KILL_AT": "3:replaced"])
        #expect(stopped.killedBySignal && stopped.status == 9, "\(stopped.status) \(stopped.stderr)")
        #expect(try TrainingState.read(folder: "\(dir)/cos").completedSteps == 3)
        let finished = try rmtConvert(["train", "--resume", "\(dir)/cos"])
        #expect(finished.status == 0, "\(finished.stderr)")
        try expectSameRun("\(dir)/cos-whole", "\(dir)/cos")
    }

    /// The two runs' weights, moments and state are byte-identical and their metrics hold the same losses, each
    /// step and evaluation once.
    func expectSameRun(_ a: String, _ b: String) throws {
        for file in ["model.safetensors", "train_state/optimizer.safetensors", "train_state/state.json"] {
            #expect(try Fixtures.bytes("\(a)/\(file)") == Fixtures.bytes("\(b)/\(file)"), "\(file)")
        }
        let (ma, mb) = (try text("\(a)/metrics.jsonl"), try text("\(b)/metrics.jsonl"))
        #expect(try trainLosses(ma) == trainLosses(mb))
        let evals = { (t: String) in
            try jsonLines(t).filter { $0["type"] as? String == "eval" }.map {
                "\($0["step"] ?? ""):\($0["loss"] ?? "")"
            }
        }
        #expect(try evals(ma) == evals(mb))
    }

    @Test(
        "a run killed at any phase of a checkpoint leaves a loadable checkpoint; resuming cleans up and ends bit-identical",
        arguments: CheckpointPhase.allCases)
    func killedMidCheckpoint(_ phase: CheckpointPhase) throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeCopySetup(in: dir)
        let args = [
            "train", "\(dir)/rmt", "--data", "\(dir)/train.npz", "--checkpoint-every", "2", "--eval-data",
            "\(dir)/eval.npz",
        ]
        #expect(try rmtConvert(args + ["--output", "\(dir)/whole"] + settings).status == 0)
        let killed = try rmtConvert(
            args + ["--output", "\(dir)/out"] + settings, environment: ["RMT_CONVERT_TEST_KILL_AT": "4:\(phase)"])
        #expect(killed.killedBySignal && killed.status == 9, "\(killed.status) \(killed.stderr)")
        // OUT_DIR is the checkpoint of step 2 until the exchange, of step 4 after it; either loads and runs.
        let state = try TrainingState.read(folder: "\(dir)/out")
        #expect(state.completedSteps == (phase == .replaced ? 4 : 2))
        let run = try rmtConvert([
            "run", "\(dir)/out", "--input-ids", "\(dir)/eval.npz", "--labels", "\(dir)/eval.npz", "--output",
            "\(dir)/o.npz", "--no-logits",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let leftovers = { try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".out.") } }
        let left = try leftovers()
        #expect(left.count == 1, "the killed writer's temporary folder: \(left)")
        // The metrics hold steps past the checkpoint until the resume cuts them back.
        #expect(try trainLosses(text("\(dir)/out/metrics.jsonl")).keys.max() == 4)
        let resumed = try rmtConvert(["train", "--resume", "\(dir)/out"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let after = try leftovers()
        #expect(after.isEmpty, "\(after)")
        try expectSameRun("\(dir)/whole", "\(dir)/out")
    }

    @Test("--json prints start, step, eval, checkpoint and summary lines; metrics.jsonl keeps the steps and evals")
    func jsonShape() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeCopySetup(in: dir)
        let r = try rmtConvert([
            "train", "\(dir)/rmt", "--data", "\(dir)/train.npz", "--output", "\(dir)/out", "--steps", "4",
            "--batch-size", "8", "--lr", "1e-3", "--eval-data", "\(dir)/eval.npz", "--eval-every", "2",
            "--checkpoint-every", "2", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("\r") && !r.stderr.contains("ETA"), "no bar without a terminal: \(r.stderr)")
        let lines = try jsonLines(r.stdout)
        let types = lines.map { $0["type"] as? String ?? "?" }
        #expect(
            types == [
                "start", "eval", "train", "train", "eval", "checkpoint", "train", "train", "eval", "checkpoint",
                "summary",
            ], "\(types)")
        let train = lines.filter { $0["type"] as? String == "train" }
        #expect(train.map { $0["step"] as? Int } == [1, 2, 3, 4])
        for record in train {
            #expect(Set(record.keys) == ["type", "step", "loss", "lr", "grad_norm", "tokens", "seconds"])
            #expect(record["tokens"] as? Int == 8 * 5 && record["lr"] as? Double == 1e-3)
            #expect((record["grad_norm"] as? Double ?? 0) > 0 && (record["loss"] as? Double ?? 0) > 0)
        }
        let evals = lines.filter { $0["type"] as? String == "eval" }
        #expect(evals.map { $0["step"] as? Int } == [0, 2, 4])
        for record in evals {
            #expect(
                Set(record.keys) == ["type", "step", "loss", "accuracy", "correct", "scored", "rows", "seconds"])
            #expect(record["scored"] as? Int == 256 * 2 && record["rows"] as? Int == 256)
        }
        let summary = try #require(lines.last)
        #expect(summary["steps"] as? Int == 4 && summary["checkpoints"] as? Int == 2)
        // metrics.jsonl: the same train and eval records as the lines printed, in order.
        let metrics = try text("\(dir)/out/metrics.jsonl").split(separator: "\n").map(String.init)
        let printed = r.stdout.split(separator: "\n").map(String.init).filter {
            $0.hasSuffix("\"type\":\"train\"}") || $0.hasSuffix("\"type\":\"eval\"}")
        }
        #expect(metrics == printed)
    }

    @Test("a progress bar (step/total, loss, tokens/s, ETA) is redrawn in place on a terminal")
    func progressBarOnTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            print("skipped: /usr/bin/script (util-linux), which gives the run a terminal, is not installed")
            return
        }
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeCopySetup(in: dir)
        let command = [
            rmtConvertBinary(), "train", "\(dir)/rmt", "--data", "\(dir)/train.npz", "--output", "\(dir)/out",
            "--steps", "3", "--batch-size", "8", "--lr", "1e-3",
        ].joined(separator: " ")
        let r = try runCommand("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(
            r.stdout.contains("\r\u{1B}[Kstep 3/3 [" + String(repeating: "#", count: 30) + "] loss "), "\(r.stdout)")
        #expect(r.stdout.contains(" tokens/s  ETA 0s"), "\(r.stdout)")
        #expect(r.stdout.contains("trained 3 steps in"))
    }

    @Test("OUT_DIR: an existing one is refused unless --force replaces an earlier run; never the trained folder")
    func existingOutput() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeCopySetup(in: dir)
        let args = [
            "train", "\(dir)/rmt", "--data", "\(dir)/train.npz", "--steps", "1", "--batch-size", "4", "--lr", "0",
        ]
        #expect(try rmtConvert(args + ["--output", "\(dir)/out"]).status == 0)
        let again = try rmtConvert(args + ["--output", "\(dir)/out"])
        #expect(again.status == 1 && again.stderr.contains("pass --force to replace an earlier run"), "\(again.stderr)")
        let forced = try rmtConvert(args + ["--output", "\(dir)/out", "--force", "--steps", "2"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try trainLosses(text("\(dir)/out/metrics.jsonl")).keys.sorted() == [1, 2], "a new history")
        let other = try rmtConvert(args + ["--output", "\(dir)/gpt2", "--force"])
        #expect(other.status == 1 && other.stderr.contains("not a training run's"), "\(other.stderr)")
        let itself = try rmtConvert(args + ["--output", "\(dir)/rmt", "--force"])
        #expect(itself.status == 1 && itself.stderr.contains("is the RMT folder being trained"), "\(itself.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/gpt2/model.safetensors"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/rmt/model.safetensors"))
    }

    @Test("resume refuses what would change the run: other settings, fewer steps, a new total for cosine, other data")
    func resumeRefusals() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeCopySetup(in: dir)
        let out = "\(dir)/out"
        let r = try rmtConvert(["train", "\(dir)/rmt", "--data", "\(dir)/train.npz", "--output", out] + settings)
        #expect(r.status == 0, "\(r.stderr)")
        for (args, message) in [
            (["--lr", "1e-2"], "--lr 0.01 would change the run, which was trained with 0.003"),
            (["--batch-size", "4"], "--batch-size 4 would change the run, which was trained with 8"),
            (["--optimizer", "sgd"], "--optimizer sgd would change the run"),
            (["--steps", "4"], "--steps 4 is fewer than the 6 steps"),
            (["--steps", "8"], "the cosine schedule of this run decays over its 6 steps"),
            (["--output", "\(dir)/x"], "--output does not apply with --resume"),
            (["--force"], "--force applies to a new run"),
        ] {
            let refused = try rmtConvert(["train", "--resume", out] + args)
            #expect(refused.status == 64, "\(args): \(refused.stderr)")
            #expect(refused.stderr.contains(message), "\(args): \(refused.stderr)")
            #expect(refused.stderr.contains("Usage: rmt-convert train"), "\(refused.stderr)")
        }
        // Flags that repeat the saved run are accepted; a finished run has nothing left to do.
        let same = try rmtConvert(["train", "--resume", out, "--lr", "3e-3", "--seed", "7", "--shuffle"])
        #expect(same.status == 0 && same.stdout.contains("trained 0 steps after 6"), "\(same.stderr)")
        // Other data is a bad file (exit 1), named.
        let moved = try rmtConvert(["train", "--resume", out, "--data", "\(dir)/eval.npz"])
        #expect(moved.status == 1 && moved.stderr.contains("is not the data the run was trained on"), "\(moved.stderr)")
        let none = try rmtConvert(["train", "--resume", "\(dir)/rmt"])
        #expect(none.status == 1 && none.stderr.contains("train_state/state.json: cannot be read"), "\(none.stderr)")
    }

    @Test(
        "a bad or inconsistent flag is a usage error: exit 64 with the message and train's usage, nothing written",
        arguments: [
            ([String](), "give the RMT folder to train"),
            (["$RMT", "--data", "d.npz"], "a new run needs --steps, --batch-size, --lr"),
            (["$RMT", "$RUN", "--steps", "0"], "--steps must be at least 1, got 0"),
            (["$RMT", "$RUN", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
            (["$RMT", "$RUN", "--lr", "nan"], "--lr must be a finite number ≥ 0"),
            (["$RMT", "$RUN", "--beta1", "1"], "--beta1 must lie in [0, 1), got 1.0"),
            (["$RMT", "$RUN", "--eps=-1"], "--eps must be a finite number ≥ 0"),
            (["$RMT", "$RUN", "--clip-norm", "0"], "--clip-norm must be a number > 0"),
            (["$RMT", "$RUN", "--bptt-depth", "-2"], "--bptt-depth must be −1 (full) or ≥ 0, got -2"),
            (["$RMT", "$RUN", "--warmup=-1"], "--warmup must be ≥ 0"),
            (["$RMT", "$RUN", "--dropout", "1"], "--dropout must lie in [0, 1), got 1.0"),
            (["$RMT", "$RUN", "--eval-every", "5"], "--eval-every needs --eval-data"),
            (["$RMT", "$RUN", "--checkpoint-every", "0"], "--checkpoint-every must be at least 1"),
            (["$RMT", "$RUN", "--optimizer", "sgd", "--beta2", "0.9"], "--beta2 applies to --optimizer adamw"),
            (["$RMT", "$RUN", "--optimizer", "rmsprop"], "The value 'rmsprop' is invalid for '--optimizer"),
            (["$RMT", "$RUN", "--schedule", "step"], "The value 'step' is invalid for '--schedule"),
            (["$ENC", "$RUN", "--bptt-depth", "1"], "the encoder RMT trains with full BPTT only"),
            (["$NOK", "$RUN", "--bptt-depth", "0"], "which this RMT's rmt_config.json does not set"),
            (
                ["$RMT", "--data", "d.npz", "--lr", "1e-3", "--batch-size", "2", "--schedule", "cosine"],
                "needs --steps"
            ),
        ])
    func usage(_ arguments: [String], _ message: String) throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/out"
        let expanded = arguments.flatMap { a -> [String] in
            switch a {
            case "$RMT": return [Fixtures.path("training/decoder")]
            case "$ENC": return [Fixtures.path("training/encoder")]
            case "$NOK": return [Fixtures.path("rmt/decoder")]
            case "$RUN": return ["--data", "d.npz", "--steps", "3", "--batch-size", "2", "--lr", "1e-3"]
            default: return [a]
            }
        }
        let r = try rmtConvert(["train"] + expanded + ["--output", out])
        #expect(r.status == 64, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.contains("Usage: rmt-convert train "), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test(
        "the copy task over 5 segments of 1 token: full BPTT brings the held-out loss below 0.5, the detached memory (--bptt-depth 0) cannot"
    )
    func copyTaskNeedsBPTT() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // c1 | c2 | 1 | a1 | a2: a1 = c1 and a2 = c2 are predicted two segments after they were read, through the
        // memory written by the segment in between. --bptt-depth 0 detaches every memory but M_0 (docs/RMT.md §2.7),
        // so no gradient trains that relay. Seeds 1–10 (release, tools in EXPERIMENTS.md): full BPTT 0.03–0.20,
        // detached 1.83–2.15 (ln 8 = 2.08 is chance).
        try makeCopySetup(in: dir, hidden: 64, samples: 4096, seed: 3)
        let finalEval = { (depth: String) throws -> Double in
            let r = try rmtConvert([
                "train", "\(dir)/rmt", "--data", "\(dir)/train.npz", "--output", "\(dir)/k\(depth)", "--steps", "250",
                "--batch-size", "32", "--lr", "1e-3", "--bptt-depth", depth, "--eval-data", "\(dir)/eval.npz",
                "--json",
            ])
            #expect(r.status == 0, "\(r.stderr)")
            let eval = try #require(try jsonLines(r.stdout).last { $0["type"] as? String == "eval" })
            return try #require(eval["loss"] as? Double)
        }
        let (full, detached) = (try finalEval("-1"), try finalEval("0"))
        #expect(full < 0.5, "full BPTT: held-out loss \(full)")
        #expect(detached > 1.5, "--bptt-depth 0: held-out loss \(detached)")
    }
}
