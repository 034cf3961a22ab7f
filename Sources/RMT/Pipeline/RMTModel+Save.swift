// Writing RMT folders in the reference's layouts (docs/RMT.md §5.7): the state dict as safetensors (tied tensors
// copied), torch (shared storage) or the `model_best.pth` the reference's training scripts load, beside
// `config.json`, `rmt_config.json` and the tokenizer files; and the backbone alone ("unwrap").
import Checkpoints
import Models
import TensorCore

/// How an RMT folder is written.
public struct RMTExportOptions: Sendable {
    /// `safetensors` (tied copies materialised), `torch` (shared storage) or `npz`.
    public var format: CheckpointFormat = .safetensors
    /// Write `model_best.pth` holding `{'model_state_dict': …, 'iteration': 0, 'epoch': 0}` for the reference
    /// training scripts' `--model_cpt`.
    public var referencePth = false
    public var profile: StateDictProfile = .current
    public var force = false

    public init() {}

    /// The weights file name.
    public var weightsFileName: String { referencePth ? "model_best.pth" : format.folderWeightsName }
}

extension RMTModel {
    /// Writes `config.json`, `rmt_config.json` (its profile set to the options'), the weights and the tokenizer
    /// files into `folder`.
    /// - Returns: the file names written.
    /// - Throws: `CheckpointError(.alreadyExists)` when a file exists and `force` is off, `.invalidArgument` for a
    ///   format RMT folders are not written in (HDF5, npy); nothing half-written: on a failure the files this call
    ///   created, and the folder if it created it, are removed again.
    @discardableResult
    public func save(to folder: String, options: RMTExportOptions) throws -> [String] {
        guard options.referencePth || [.safetensors, .torch, .npz].contains(options.format) else {
            throw CheckpointError(
                .invalidArgument, file: folder,
                "RMT folders are written as safetensors, torch or npz, not \(options.format.rawValue); pass --format safetensors or torch"
            )
        }
        var configuration = configuration
        configuration.stateDictProfile = options.profile
        let weights = options.weightsFileName
        let names = outputFileNames(options: options)
        try writingOutputs(names.map { "\(folder)/\($0)" }, force: options.force, folder: folder) {
            try writeWeights(to: "\(folder)/\(weights)", options: options)
            try writeText(
                backboneConfig.prettyText(sortKeys: true), to: "\(folder)/config.json", overwrite: options.force)
            try writeText(
                String(decoding: try configuration.encoded(), as: UTF8.self), to: "\(folder)/rmt_config.json",
                overwrite: options.force)
            for (name, path) in sideFiles {
                try copyFileAtomically(from: path, to: "\(folder)/\(name)", overwrite: options.force)
            }
        }
        return names
    }

    /// The files `save(to:options:)` writes, relative to the folder.
    public func outputFileNames(options: RMTExportOptions) -> [String] {
        ["config.json", "rmt_config.json", options.weightsFileName] + sideFiles.map(\.name)
    }

    /// Writes the reference state dict to `path`.
    func writeWeights(to path: String, options: RMTExportOptions) throws {
        let (tensors, aliases) = try checkpoint.stateDict(profile: options.profile)
        let sources = tensors.map { TensorSource(name: $0.name, tensor: $0.tensor) }
        let stored = sources.filter { aliases[UTF8Key($0.info.name)] == nil }
        if options.referencePth {
            try TorchWriter.write(
                stored, aliases: aliases, to: path,
                nested: TorchWriter.modelStateDictCheckpoint(iteration: 0, epoch: 0),
                overwrite: options.force)
            return
        }
        switch options.format {
        case .torch:
            // torch shares storage between tied names, as torch.save does.
            try TorchWriter.write(stored, aliases: aliases, to: path, overwrite: options.force)
        case .npz:
            _ = try NPZWriter.write(sources, to: path, options: NPZWriter.Options(overwrite: options.force))
        default:
            // safetensors cannot overlap data: tied and aliased keys are full copies (docs/RMT.md §5.7).
            try SafetensorsWriter.write(sources, metadata: [("format", "pt")], to: path, overwrite: options.force)
        }
    }

    /// The backbone alone (docs/RMT.md §5.7 "Unwrap"): decoder `memory_cell.model.` keys without the prefix and
    /// without the tied `lm_head.weight` (Hugging Face drops it when saving; loaders re-tie it); encoder `model.`
    /// keys with word-embedding rows `0..V−1` and `vocab_size = V`. The memory is `[m, H]`.
    public func unwrapped() throws -> (backbone: [(name: String, tensor: Tensor)], memory: Tensor, config: JSONValue) {
        let m = checkpoint.memoryTokens
        let all = try checkpoint.backbone.tensorNames.map { ($0, try checkpoint.backbone.tensor(named: $0)) }
        switch variant {
        case .decoder:
            guard let memory = checkpoint.memory else {
                throw CheckpointError(
                    .corrupt, file: path, tensor: DecoderRMTFamily.memoryKey, "the decoder has no memory")
            }
            return (all.filter { $0.0 != "lm_head.weight" }, memory, backboneConfig)
        case .encoder:
            let V = configuration.backboneVocabSize
            let wordKey = "bert.embeddings.word_embeddings.weight"
            guard let table = try checkpoint.tensor(wordKey), table.shape.rank == 2 else {
                throw CheckpointError(.corrupt, file: path, tensor: wordKey, "the encoder RMT has no word embeddings")
            }
            let H = table.shape[1]
            let rows = try table.floatValues()  // [V + m, H]
            let backbone = all.map { $0.0 == wordKey ? (wordKey, Tensor(Array(rows[0..<V * H]), shape: [V, H])) : $0 }
            let memory = Tensor(Array(rows[(V * H)..<((V + m) * H)]), shape: [m, H])
            return (backbone, memory, backboneConfig.setting("vocab_size", to: .number(String(V))))
        }
    }
}
