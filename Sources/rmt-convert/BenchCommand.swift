import ArgumentParser
import ConvertKit

/// Options every bench workload takes.
struct BenchOptions: ParsableArguments {
    @Option(help: "Threads for OpenBLAS and the model's parallel loops.")
    var threads: Int = 1

    @Option(help: "Untimed runs before measuring.")
    var warmup: Int = 1

    @Option(help: "Timed runs; the median is reported.")
    var `repeat`: Int = 3

    @Flag(help: "Print one JSON object per result instead of a table row.")
    var json = false

    func validate() throws {
        guard threads >= 1, warmup >= 0, `repeat` >= 1 else {
            throw ValidationError("--threads and --repeat must be at least 1, --warmup at least 0")
        }
    }

    func report(_ results: [BenchResult]) throws {
        for r in results { printOut((json ? try r.json() : r.row) + "\n") }
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of GEMM, model forward passes, RMT runs and inspect.",
        discussion: """
            Each workload runs in this process with warm-up and repetitions and prints the median. `make bench` \
            runs them all, each in its own process (for peak resident memory), side by side with PyTorch and \
            NumPy via tools/bench_reference.py, and prints the table of BENCHMARKS.md.
            """,
        subcommands: [Sgemm.self, Forward.self, RMTRun.self, Inspect.self])

    struct Sgemm: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "cblas_sgemm on square matrices: the GEMM peak.")
        @Option(help: "Matrix size n of [n, n] · [n, n].") var size: Int = 2048
        @OptionGroup var options: BenchOptions
        func run() throws {
            try reportingErrors {
                try Bench.setThreadCount(options.threads)
                try options.report([Bench.sgemmPeak(size: size, warmup: options.warmup, repetitions: options.`repeat`)])
            }
        }
    }

    struct Forward: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A BERT or GPT-2 forward pass (base model, no head) on synthetic ids.")
        @Argument(help: "A checkpoint folder with config.json.") var model: String
        @Option(help: "Batch size B.") var batch: Int = 1
        @Option(help: "Sequence length T.") var length: Int = 128
        @OptionGroup var options: BenchOptions
        func run() throws {
            try reportingErrors {
                try Bench.setThreadCount(options.threads)
                try options.report([
                    Bench.forward(
                        folder: model, batch: batch, length: length, warmup: options.warmup,
                        repetitions: options.`repeat`)
                ])
            }
        }
    }

    struct RMTRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rmt", abstract: "An RMT folder over one long synthetic input, streaming.")
        @Argument(help: "An RMT folder made by `rmt-convert wrap`.") var folder: String
        @Option(help: "Input length in tokens.") var tokens: Int = 4096
        @OptionGroup var options: BenchOptions
        func run() throws {
            try reportingErrors {
                try Bench.setThreadCount(options.threads)
                try options.report([
                    Bench.rmt(folder: folder, tokens: tokens, warmup: options.warmup, repetitions: options.`repeat`)
                ])
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Latency of inspecting a checkpoint, in process.")
        @Argument(help: "A weights file or checkpoint folder.") var path: String
        @OptionGroup var options: BenchOptions
        func run() throws {
            try reportingErrors {
                try options.report([
                    Bench.inspectLatency(path: path, warmup: options.warmup, repetitions: options.`repeat`)
                ])
            }
        }
    }
}
