import ArgumentParser
import Checkpoints
import ConvertKit
import Models

extension ModelArchitecture: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a BERT or GPT-2 checkpoint on token ids and write its outputs.",
        discussion: """
        MODEL is a checkpoint folder with config.json. Ids are int64 or int32, shaped [T] or [B, T], read from \
        .npy, .npz or .safetensors files (a file with several tensors gives the one named input_ids, \
        attention_mask, token_type_ids or position_ids); --inputs reads all of them from one such file.

        Writes last_hidden_state [B, T, H], pooler_output [B, H] when the model has a pooler, logits when it \
        has a head, and with --hidden-states hidden_states.0 ... hidden_states.L, to OUT (.safetensors or .npz).
        """)

    @Argument(help: "The checkpoint folder (config.json and weights).")
    var model: String

    @Option(name: .customLong("input-ids"), help: "Token ids, [T] or [B, T].")
    var inputIds: String?

    @Option(name: .customLong("attention-mask"), help: "1 for tokens, 0 for padding; same shape as the ids.")
    var attentionMask: String?

    @Option(name: .customLong("token-type-ids"), help: "Segment ids (BERT); same shape as the ids.")
    var tokenTypeIds: String?

    @Option(name: .customLong("position-ids"), help: "Position ids; same shape as the ids (default 0 ... T-1 in every row).")
    var positionIds: String?

    @Option(help: "One file holding input_ids and optionally attention_mask and token_type_ids.")
    var inputs: String?

    @Option(help: "Where to write the outputs (.safetensors or .npz).")
    var output: String

    @Option(help: "Run this architecture instead of the one config.json names (\(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", "))).")
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
        guard (inputIds == nil) != (inputs == nil) else {
            throw ValidationError("pass either --input-ids FILE or --inputs FILE")
        }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        if inputs != nil, attentionMask != nil || tokenTypeIds != nil || positionIds != nil {
            throw ValidationError("--attention-mask, --token-type-ids and --position-ids go with --input-ids; --inputs reads them from its file")
        }
    }

    func run() throws {
        try reportingErrors {
            let checkpoint = try Checkpoint.open(model)
            let modelInputs = try inputs.map { try RunInputs.read(bundle: $0) }
                ?? RunInputs.read(inputIds: inputIds ?? "", attentionMask: attentionMask, tokenTypeIds: tokenTypeIds,
                                  positionIds: positionIds)
            let summary = try runModel(checkpoint, inputs: modelInputs, to: output,
                                       options: RunOptions(architecture: architecture, hiddenStates: hiddenStates, force: force,
                                                          repetitions: `repeat`))
            printOut(json ? try encodeJSON(summary) : summary.text)
        }
    }
}
