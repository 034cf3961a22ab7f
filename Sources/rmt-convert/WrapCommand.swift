import ArgumentParser
import ConvertKit

extension RMTVariant: ExpressibleByArgument {}
extension SegmentAlignment: ExpressibleByArgument {}
extension StateDictProfile: ExpressibleByArgument {}

struct WrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wrap",
        abstract: "Wrap a BERT or GPT-2 checkpoint with Recurrent Memory Transformer memory.",
        discussion: """
            GPT-2 becomes the decoder RMT (memory parameter memory_cell.memory [m, n_embd], segments of
            [memory | tokens | memory]); BERT becomes the encoder RMT (m extra word-embedding rows, segments of
            [CLS] memory [SEP] tokens [SEP], a BertForSequenceClassification head). The memory is drawn from a seeded
            generator: the same seed gives byte-identical output. OUT gets config.json, rmt_config.json, the weights
            under the reference's exact state-dict names (loadable with strict=True) and the tokenizer files.
            """)

    @Argument(help: "The backbone checkpoint folder (config.json, weights, tokenizer files).")
    var backbone: String

    @Option(help: "The RMT folder to write.")
    var output: String

    @Option(name: .customLong("memory-tokens"), help: "Number of memory tokens m.")
    var memoryTokens: Int

    @Option(help: "decoder or encoder (default: decoder for gpt2, encoder for bert).")
    var variant: RMTVariant?

    @Option(name: .customLong("segment-size"), help: "Decoder: tokens per segment (default n_positions − 2m).")
    var segmentSize: Int?

    @Option(
        name: .customLong("input-size"),
        help: "Rows per segment (decoder: segment size + 2m; encoder: default min(512, max_position_embeddings)).")
    var inputSize: Int?

    @Option(
        name: .customLong("max-segments"),
        help: "K: the encoder keeps the first segment_size × K tokens (required for the encoder).")
    var maxSegments: Int?

    @Option(
        name: .customLong("num-labels"),
        help: "Encoder: classifier labels when the backbone has no classifier (default 2).")
    var numLabels: Int?

    @Option(
        name: .customLong("segment-alignment"),
        help: "left, right or center (default: left for the decoder, right for the encoder).")
    var segmentAlignment: SegmentAlignment?

    @Option(help: "Decoder BPTT truncation k2 (−1 = full BPTT).")
    var k2: Int = -1

    @Option(help: "Seed of the memory initialisation.")
    var seed: UInt64 = 0

    @Option(help: "Weights format: safetensors (tied tensors copied) or torch (shared storage).")
    var format: CheckpointFormat = .safetensors

    @Option(
        name: .customLong("state-dict-profile"),
        help: "Buffers for the target transformers version: current (≥ 4.31), 4.30 or legacy (≈ 4.17).")
    var profile: StateDictProfile = .current

    @Flag(help: "Overwrite existing files in OUT.")
    var force = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard memoryTokens >= 1 else { throw ValidationError("--memory-tokens must be at least 1") }
        guard format == .safetensors || format == .torch else {
            throw ValidationError("--format must be safetensors or torch")
        }
        if let k = maxSegments, k < 1 { throw ValidationError("--max-segments must be at least 1") }
        if let n = numLabels, n < 1 { throw ValidationError("--num-labels must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            var options = WrapOptions(memoryTokens: memoryTokens)
            options.variant = variant
            options.segmentSize = segmentSize
            options.inputSize = inputSize
            options.maxSegments = maxSegments
            options.numLabels = numLabels
            options.alignment = segmentAlignment
            options.k2 = k2
            options.seed = seed
            options.export.format = format
            options.export.profile = profile
            options.export.force = force
            let summary = try wrap(try Checkpoint.open(backbone), output: output, options: options)
            printOut(json ? try encodeJSON(summary) : summary.text)
        }
    }
}
