import ArgumentParser
import ConvertKit

extension ModelArchitecture: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a BERT, GPT-2 or RMT checkpoint on token ids or text and write its outputs.",
        discussion: """
            MODEL is a checkpoint folder with config.json. Ids are int64 or int32, shaped [T] or [B, T], read from \
            .npy, .npz or .safetensors files (a file with several tensors gives the one named input_ids, \
            attention_mask, token_type_ids or position_ids); --inputs reads all of them from one such file.

            Writes last_hidden_state [B, T, H], pooler_output [B, H] when the model has a pooler, logits when it \
            has a head, and with --hidden-states hidden_states.0 ... hidden_states.L, to OUT (.safetensors or .npz).
            --text FILE tokenizes each non-empty line of FILE with the checkpoint's tokenizer (one sample per line,
            padded to the longest).

            An RMT folder (made by `rmt-convert wrap`) runs segment by segment with memory carried between segments,
            over inputs of any length. It writes logits (decoder [B, T, V], unless --no-logits; encoder [B, labels]
            of the last segment), memory_states [S, B, m, H] and, with --labels, loss (decoder: shifted
            cross-entropy over the whole sequence; encoder: per-segment losses too).
            """)

    @Argument(help: "The checkpoint folder (config.json and weights).")
    var model: String

    @Option(name: .customLong("input-ids"), help: "Token ids, [T] or [B, T].")
    var inputIds: String?

    @Option(name: .customLong("attention-mask"), help: "1 for tokens, 0 for padding; same shape as the ids.")
    var attentionMask: String?

    @Option(name: .customLong("token-type-ids"), help: "Segment ids (BERT); same shape as the ids.")
    var tokenTypeIds: String?

    @Option(
        name: .customLong("position-ids"), help: "Position ids; same shape as the ids (default 0 ... T-1 in every row)."
    )
    var positionIds: String?

    @Option(help: "One file holding input_ids and optionally attention_mask and token_type_ids.")
    var inputs: String?

    @Option(help: "A text file: each non-empty line is one sample, tokenized with the checkpoint's tokenizer.")
    var text: String?

    @Option(help: "RMT: labels (decoder [B, T] with −100 = ignore; encoder one class per sample [B]).")
    var labels: String?

    @Option(
        name: .customLong("labels-mask"), help: "RMT decoder: [B, T] mask of the predicting positions that are scored.")
    var labelsMask: String?

    @Option(
        help:
            "RMT decoder: greedily generate N tokens after the input (earlier segments write memory, the last is read with it); written as generated_ids."
    )
    var generate: Int?

    @Flag(
        name: .customLong("no-logits"),
        help: "RMT decoder: do not keep the [B, T, V] logits (long inputs); memory states and loss stream.")
    var noLogits = false

    @Option(help: "Where to write the outputs (.safetensors or .npz).")
    var output: String

    @Option(
        help:
            "Run this architecture instead of the one config.json names (\(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))."
    )
    var architecture: ModelArchitecture?

    @Flag(name: .customLong("hidden-states"), help: "Also write every layer's hidden states.")
    var hiddenStates = false

    @Option(help: "Run the forward pass N times and report the fastest (timing).")
    var `repeat` = 1

    @Flag(help: "Overwrite an existing output.")
    var force = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard [inputIds, inputs, text].compactMap({ $0 }).count == 1 else {
            throw ValidationError("pass exactly one of --input-ids FILE, --inputs FILE or --text FILE")
        }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        if inputs != nil, attentionMask != nil || tokenTypeIds != nil || positionIds != nil {
            throw ValidationError(
                "--attention-mask, --token-type-ids and --position-ids go with --input-ids; --inputs reads them from its file"
            )
        }
    }

    func run() throws {
        try reportingErrors {
            let source: RunRequest.Inputs
            if let text {
                source = .text(text)
            } else if let inputs {
                source = .bundle(inputs)
            } else {
                source = .files(
                    inputIds: inputIds ?? "", attentionMask: attentionMask, tokenTypeIds: tokenTypeIds,
                    positionIds: positionIds)
            }
            var request = RunRequest(inputs: source, output: output)
            request.force = force
            request.architecture = architecture
            request.hiddenStates = hiddenStates
            request.repetitions = `repeat`
            request.labels = labels
            request.labelsMask = labelsMask
            request.generate = generate
            request.keepLogits = !noLogits
            let summary = try runCheckpoint(model, request: request, progress: terminalProgress())
            printOut(json ? try encodeJSON(summary) : summary.text)
        }
    }
}
