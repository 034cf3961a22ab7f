import ArgumentParser
import ConvertKit

struct InitGPT2Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-gpt2",
        abstract:
            "Write a fresh, randomly initialised GPT-2 language model folder (the backbone for the memory tasks).",
        discussion: """
            OUT gets config.json (as transformers' save_pretrained writes it for GPT2Config with these fields, \
            every other field at its default) and model.safetensors under the Hugging Face state-dict names, \
            without lm_head.weight, which is tied to transformer.wte.weight (transformers omits it too). inspect, \
            run, wrap and transformers' GPT2LMHeadModel.from_pretrained open the folder.

            Initialisation is transformers' GPT-2 initialisation: embeddings and Conv1D weights from \
            normal(0, initializer_range), the attention and MLP c_proj weights from \
            normal(0, initializer_range / √(2·layers)), biases 0, LayerNorm weights 1. The numbers come from \
            rmt-convert's seeded generator, so the same seed gives byte-identical files on every machine \
            (torch's generator would give other values with the same distributions).

            For the decoder RMT, --positions must hold a whole segment: positions ≥ segment size + 2 × memory \
            tokens (wrap refuses less). For make-task's copy with segment size 4 and 4 memory tokens: \
            --vocab 12 --positions 12.
            """)

    @Option(help: "The folder to write.")
    var output: String

    @Option(help: "vocab_size: token ids 0 … vocab−1 (make-task prints the smallest that fits its data).")
    var vocab: Int

    @Option(help: "n_positions: the most rows one forward pass sees (an RMT segment plus its memory rows).")
    var positions: Int

    @Option(help: "n_layer: transformer blocks.")
    var layers: Int = 2

    @Option(help: "n_embd: hidden size, divisible by --heads.")
    var hidden: Int = 128

    @Option(help: "n_head: attention heads.")
    var heads: Int = 4

    @Option(help: "n_inner: the MLP's inner size (default 4 × hidden).")
    var inner: Int?

    @Option(help: "activation_function: gelu_new (GPT-2's), gelu, relu, silu, quick_gelu, tanh or linear.")
    var activation: String = "gelu_new"

    @Option(name: .customLong("initializer-range"), help: "σ of the normal initialisation.")
    var initializerRange: Double = 0.02

    @Option(help: "Seed of the weights.")
    var seed: UInt64 = 0

    @Flag(help: "Overwrite existing files in OUT.")
    var force = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    var settings: GPT2Initialization {
        var settings = GPT2Initialization(
            layers: layers, hidden: hidden, heads: heads, vocabularySize: vocab, positions: positions)
        settings.inner = inner
        settings.activation = activation
        settings.initializerRange = initializerRange
        settings.seed = seed
        return settings
    }

    func validate() throws {
        do { try checkGPT2Settings(settings) } catch let error as UsageError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        try reportingErrors {
            let summary = try initGPT2(settings, output: output, force: force)
            printOut(json ? try encodeJSON(summary) : summary.text)
        }
    }
}
