import ArgumentParser
import ConvertKit
import Foundation

extension NameStyle: ExpressibleByArgument {}

/// `--dtype keep|f32|f16|bf16`.
enum DTypeChoice: String, ExpressibleByArgument, CaseIterable {
    case keep, f32, f16, bf16
    var dtype: DType? { self == .keep ? nil : DType(rawValue: rawValue) }
}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a checkpoint to another format or dtype.",
        discussion: """
            The output format comes from DST's extension unless --format says otherwise. When SRC is a folder and DST
            has no extension (or is an existing folder, or --max-shard-size is given), DST is a folder: config and
            tokenizer files are copied and the weights get the conventional name (model.safetensors, ...).
            Tensors stream one at a time; the output is written to a temporary file and renamed into place.

            RMT checkpoints (a folder with rmt_config.json, or a reference run directory / model_best folder whose
            parent has one) are exported as a folder in the reference's state-dict layout: --format safetensors
            (tied tensors copied) or torch (shared storage), --layout reference-pth for the model_best.pth the
            reference training scripts load with --model_cpt, or --unwrap for the plain backbone plus memory.safetensors.
            """)

    @Argument(help: "The source checkpoint (file or folder).")
    var source: String

    @Argument(help: "The destination file or folder.")
    var destination: String

    @Option(help: "Output format: safetensors, npz, h5 or torch.")
    var format: CheckpointFormat?

    @Option(name: .customLong("input-format"), help: "Read SRC as this format instead of guessing from its extension.")
    var inputFormat: CheckpointFormat?

    @Option(help: "Cast floating-point tensors: keep, f32, f16 or bf16 (round to nearest even).")
    var dtype: DTypeChoice = .keep

    @Option(
        name: .customLong("max-shard-size"),
        help: "Split the weights into shards of at most SIZE (e.g. 500MB, 2GB, 1GiB, or bytes).")
    var maxShardSize: String?

    @Option(
        help:
            "Output names: keep (as read), hf (Hugging Face PyTorch keys) or tf (TF weight names; .h5 output is then a Keras tf_model.h5)."
    )
    var names: NameStyle = .keep

    @Flag(help: "Compress where the format allows (npz deflate, HDF5 gzip).")
    var compress = false

    @Flag(help: "Overwrite existing outputs.")
    var force = false

    @Flag(
        name: .customLong("keep-bf16"),
        help:
            "NPY/NPZ: write bf16 as raw '<V2' bits (as ml_dtypes does) instead of float32, and read '|V2' arrays in SRC as bf16."
    )
    var keepBF16 = false

    @Option(
        help: "RMT only: folder (weights as --format says) or reference-pth (model_best.pth holding model_state_dict).")
    var layout: RMTLayout = .folder

    @Flag(help: "RMT only: write the plain backbone checkpoint and the memory tensor (memory.safetensors) instead.")
    var unwrap = false

    @Option(
        name: .customLong("state-dict-profile"),
        help: "RMT only: buffers for the target transformers version: current (≥ 4.31), 4.30 or legacy (≈ 4.17).")
    var profile: StateDictProfile = .current

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if layout == .referencePth, unwrap {
            throw ValidationError("--layout reference-pth and --unwrap exclude each other")
        }
        if let s = maxShardSize, parseSize(s) == nil {
            throw ValidationError(
                "--max-shard-size: cannot read '\(s)'; use a number of bytes or a size such as 500MB, 2GB or 1GiB")
        }
    }

    func run() throws {
        try reportingErrors {
            var request = ConvertRequest(
                options: ConvertOptions(
                    format: format, dtype: dtype.dtype, maxShardSize: maxShardSize.flatMap(parseSize),
                    compress: compress, force: force, keepBF16: keepBF16, names: names))
            request.inputFormat = inputFormat
            request.referencePth = layout == .referencePth
            request.unwrap = unwrap
            request.profile = profile
            let summary = try convertCheckpoint(
                source, to: destination, request: request, progress: terminalProgress())
            for note in summary.notes { printError(note + "\n") }
            printOut(json ? try encodeJSON(summary) : summary.line + "\n")
        }
    }
}

/// `--layout`: how an RMT checkpoint is written.
enum RMTLayout: String, ExpressibleByArgument, CaseIterable {
    case folder
    case referencePth = "reference-pth"
}

/// Parses `500MB`, `2GB`, `1GiB`, `300KiB` or a plain byte count (decimal units as transformers reads them).
func parseSize(_ text: String) -> Int? {
    let units: [(String, Int)] = [
        ("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10), ("GB", 1_000_000_000),
        ("MB", 1_000_000), ("KB", 1_000), ("B", 1),
    ]
    let upper = text.uppercased().trimmingCharacters(in: .whitespaces)
    for (suffix, scale) in units where upper.hasSuffix(suffix) {
        guard let v = Double(upper.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0 else {
            return nil
        }
        return Int(v * Double(scale))
    }
    guard let v = Int(upper), v > 0 else { return nil }
    return v
}
