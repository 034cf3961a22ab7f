// Opening a checkpoint with every reader (HDF5 included), and telling which model family it holds.
import Checkpoints
import Models
import RMT

extension Checkpoint {
    /// Opens `path` (a weights file or a folder holding one) with every reader, HDF5 included.
    /// - Parameters:
    ///   - format: overrides the format implied by the extension.
    ///   - readOptions: reader choices such as reading NPY `V2` arrays as bf16.
    /// - Throws: `CheckpointError`.
    public static func open(_ path: String, format: CheckpointFormat? = nil, readOptions: ReadOptions = ReadOptions())
        throws -> Checkpoint
    {
        try ArchiveRegistry.opener(readOptions: readOptions).openCheckpoint(path, format: format)
    }

    /// The model family: `rmt` when the folder has `rmt_config.json`, else `model_type` of `config.json`
    /// (`bert`, `gpt2`, …), else a guess from the tensor names, else nil.
    public var architecture: String? {
        if rmtConfig != nil { return "rmt" }
        if let t = config?["model_type"]?.stringValue { return t }
        return Checkpoint.guessArchitecture(names: archive.tensorNames)
    }

    /// How `architecture` was decided: `rmt_config.json`, `config.json` or `tensor names`.
    public var architectureSource: String? {
        if rmtConfig != nil { return "rmt_config.json" }
        if config?["model_type"]?.stringValue != nil { return "config.json" }
        return Checkpoint.guessArchitecture(names: archive.tensorNames) == nil ? nil : "tensor names"
    }

    /// Recognises the RMT layouts and the registered families by their characteristic names.
    public static func guessArchitecture(names: [String]) -> String? {
        if RMTCheckpoint.recognizes(names: names) { return "rmt" }
        return ModelRegistry.family(recognizing: names)?.modelType
    }

    /// A warning when `config.json` and the weights disagree on a size (the number of blocks, the rows of the
    /// token embeddings, …), naming both numbers: `inspect` and `convert` show it as a note, while `run` and
    /// `wrap` refuse such a pair before allocating anything. Empty for a file, an RMT folder (loading it checks
    /// its backbone) or a config that agrees.
    public var configurationNotes: [String] {
        guard isFolder, rmtConfig == nil, let config else { return [] }
        let error = ModelRegistry.sizeDisagreement(
            config: config, configFile: "\(folder)/config.json", archive: archive)
        return error.map { ["\($0.description) (`run` refuses this pair)"] } ?? []
    }
}
