import ArgumentParser
import ConvertKit

extension MemoryTaskKind: ExpressibleByArgument {}

struct MakeTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-task",
        abstract: "Write one of the RMT paper's synthetic memory tasks as decoder training data (.npz).",
        discussion: """
            Every row is a fixed token layout whose answer needs what earlier segments held, so a model solves it \
            only if its memory carries the information across segments. Ids: 0 = padding (reserved; rows have \
            equal length, so none is written), 1 = separator.

            copy: [content ×L] [1] [content ×L], content ids 2–9, L = --length (default 5); T = 2L + 1 tokens.
            reverse: [content ×L] [1] [content reversed ×L]; same sizes.
            retrieval: k1 v1 … kP vP [1] kq vq: P = --pairs (default 4) key→value pairs with distinct keys from \
            2 … K+1 (K = --keys, default 5) and values from K+2 … K+W+1 (W = --values, default 5), then the \
            separator, a query key drawn from the row's pairs and its value; T = 2P + 3 tokens.

            The file holds input_ids and labels, int64 [N, T] (N = --samples). labels is −100 everywhere except at \
            the answer columns, which hold the answer tokens themselves (as Hugging Face labels do: position t is \
            scored against labels[t+1]), so loss and accuracy cover the answers only. The smallest vocabulary is \
            10 for copy and reverse and K + W + 2 for retrieval (12 with the defaults): pass it to init-gpt2 --vocab.

            Segments: a row spans ⌈T / n⌉ segments of n tokens (wrap --segment-size n). Copy with --length 5 has \
            T = 11: --segment-size 4 gives 3 segments, the answer starting in the second and the content it needs \
            in the first. Pass --segment-size to have the summary say it for your settings.

            The same --seed gives the same file; a larger --samples extends a smaller file of the same seed. For an \
            evaluation set, write a second file with another seed, e.g. --samples 256 --seed 1 (rows are drawn \
            independently, so an eval row can repeat a training row by chance: 8^L possible copy contents).

            Example: make-task copy --output copy.npz; init-gpt2 --vocab 12 --positions 12 --output gpt2; \
            wrap gpt2 --output rmt --memory-tokens 4 --segment-size 4; \
            run rmt --input-ids copy.npz --labels copy.npz --output out.npz --no-logits.
            """)

    @Argument(help: "copy, reverse or retrieval.")
    var task: MemoryTaskKind

    @Option(help: "The .npz file to write.")
    var output: String

    @Option(help: "Rows N (default 4096).")
    var samples: Int?

    @Option(help: "copy, reverse: content tokens L per row (default 5).")
    var length: Int?

    @Option(help: "retrieval: key→value pairs P per row (default 4).")
    var pairs: Int?

    @Option(help: "retrieval: distinct keys K, at least P (default 5).")
    var keys: Int?

    @Option(help: "retrieval: distinct values W (default 5).")
    var values: Int?

    @Option(help: "Seed of the rows; use another seed for an evaluation set.")
    var seed: UInt64 = 0

    @Option(
        name: .customLong("segment-size"),
        help: "Report how many segments of this many tokens each row spans (changes nothing in the file).")
    var segmentSize: Int?

    @Flag(help: "Overwrite an existing output.")
    var force = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    var request: MakeTaskRequest {
        var request = MakeTaskRequest(kind: task, output: output)
        request.samples = samples
        request.length = length
        request.pairs = pairs
        request.keys = keys
        request.values = values
        request.seed = seed
        request.segmentSize = segmentSize
        request.force = force
        return request
    }

    func validate() throws {
        do { _ = try request.task() } catch let error as UsageError { throw ValidationError(error.description) }
    }

    func run() throws {
        try reportingErrors {
            let summary = try makeTask(request)
            printOut(json ? try encodeJSON(summary) : summary.text)
        }
    }
}
