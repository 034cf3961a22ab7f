// A runnable RMT: opened from a folder (this project's, or either of the reference's checkpoint families) with
// nothing but Checkpoints below it, or wrapped around a backbone; run, generate, export. docs/ARCHITECTURE.md
// draws how `run` flows through it.
import Checkpoints
import Foundation
import Models
import TensorCore

/// The two variants, built around the Swift models.
public enum RMTNetwork: Sendable {
    case decoder(DecoderRMT<GPT2LMHeadModel>)
    case encoder(EncoderRMT<BertForSequenceClassification>)
}

/// A runnable Recurrent Memory Transformer: its settings, tensors, backbone config and the built network.
public struct RMTModel {
    /// The folder it was loaded from (or will be written to, for a wrapped backbone).
    public let path: String
    /// `rmt_config.json`.
    public let configuration: RMTConfiguration
    /// The tensors, for export.
    public let checkpoint: RMTCheckpoint
    /// The backbone's Hugging Face config (for the encoder: vocabulary grown by `m`).
    public let backboneConfig: JSONValue
    /// The network the tensors build.
    public let network: RMTNetwork
    /// Tokenizer files found with the checkpoint: (file name, path).
    public let sideFiles: [(name: String, path: String)]

    public var variant: RMTVariant { configuration.variant }

    /// True when `path` is a folder holding `rmt_config.json`, or a reference `model_best/` folder whose parent
    /// does.
    public static func isRMTFolder(_ path: String) -> Bool { locate("rmt_config.json", near: path) != nil }

    /// Finds `name` in the folder `path` or, for a reference `model_best/` folder, one level above.
    static func locate(_ name: String, near path: String) -> String? {
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard isDirectory(folder) else { return nil }
        let parent = (folder as NSString).deletingLastPathComponent
        return ["\(folder)/\(name)", "\(parent.isEmpty ? "." : parent)/\(name)"].first(where: fileExists)
    }

    /// `locate`, then checks that the file found is no symlink leaving the folder it was found in
    /// (`checkInsideFolder`): nothing is read from outside the input folder.
    /// - Throws: `CheckpointError(.io)` naming the file and where it leads.
    static func locateInside(_ name: String, near path: String) throws -> String? {
        guard let found = locate(name, near: path) else { return nil }
        try checkInsideFolder(found, folder: (found as NSString).deletingLastPathComponent)
        return found
    }

    /// The `rmt_config.json` of the RMT folder `path` (here or one level up), read without the weights.
    /// - Throws: `CheckpointError` naming the file when it is missing, unreadable or invalid.
    public static func configuration(folder path: String) throws -> RMTConfiguration {
        try configurationAndPath(folder: path).configuration
    }

    /// `configuration(folder:)` and the path of the `rmt_config.json` it read.
    static func configurationAndPath(folder path: String) throws -> (configuration: RMTConfiguration, path: String) {
        guard let rmtPath = try locateInside("rmt_config.json", near: path) else {
            throw CheckpointError(
                .configuration, file: path,
                "no rmt_config.json here or one level up; wrap a backbone with `rmt-convert wrap` first")
        }
        do {
            return (try RMTConfiguration.decode(Data(try readInputFile(rmtPath))), rmtPath)
        } catch let e as RMTError {
            throw CheckpointError(.configuration, file: rmtPath, tensor: e.field, e.description)
        }
    }

    /// Opens the RMT checkpoint in `folder`: a folder written by `wrap` or `convert`, a reference run directory
    /// (`model_best.pth` beside `rmt_config.json`) or the accelerate `model_best/` folder inside one
    /// (docs/RMT.md §5.4), and builds the network.
    /// - Throws: `CheckpointError`, `RMTError` or `ModelError`, naming the file and field.
    public static func load(folder path: String) throws -> RMTModel {
        let (configuration, rmtPath) = try configurationAndPath(folder: path)
        guard let configPath = try locateInside("config.json", near: path) else {
            throw CheckpointError(
                .configuration, file: path, "no config.json (the backbone's Hugging Face config) here or one level up")
        }
        // RMT folders are never HDF5: Checkpoints' readers are all it needs.
        let source = try ArchiveOpener().openCheckpoint(path)
        let checkpoint = try RMTCheckpoint.read(source.archive, path: source.weightsPath)
        guard checkpoint.variant == configuration.variant else {
            throw CheckpointError(
                .configuration, file: rmtPath, tensor: "variant",
                "says \(configuration.variant.rawValue) but the weights are a \(checkpoint.variant.rawValue) RMT; fix rmt_config.json"
            )
        }
        guard checkpoint.memoryTokens == configuration.numMemTokens else {
            throw CheckpointError(
                .configuration, file: rmtPath, tensor: "num_mem_tokens",
                "is \(configuration.numMemTokens) but the weights hold \(checkpoint.memoryTokens) memory tokens; fix rmt_config.json"
            )
        }
        guard var backboneConfig = try Checkpoint.readJSON(configPath) else {
            throw CheckpointError(.configuration, file: configPath, "cannot be read")
        }
        if configuration.variant == .encoder {
            // Build from the grown table: vocab_size = V + m whatever the folder's config.json says
            // (docs/RMT.md §5.5).
            let grown = configuration.backboneVocabSize + configuration.numMemTokens
            backboneConfig = backboneConfig.setting("vocab_size", to: .number(String(grown)))
        }
        let folder = (configPath as NSString).deletingLastPathComponent
        let side = try Checkpoint.tokenizerFileNames.compactMap { name -> (String, String)? in
            let p = try locateInside(name, near: path) ?? "\(folder)/\(name)"
            guard fileExists(p) else { return nil }
            try checkInsideFolder(p, folder: folder)
            return (name, p)
        }
        return try RMTModel(
            path: path, configuration: configuration, checkpoint: checkpoint, backboneConfig: backboneConfig,
            configFile: configPath, rmtFile: rmtPath, sideFiles: side)
    }

    /// Builds the network from the checkpoint's tensors: the backbone through its family's typed load, read
    /// straight from the checkpoint (no copy of the state dict in between).
    init(
        path: String, configuration: RMTConfiguration, checkpoint: RMTCheckpoint, backboneConfig: JSONValue,
        configFile: String, rmtFile: String, sideFiles: [(name: String, path: String)]
    ) throws {
        let c = configuration
        switch c.variant {
        case .decoder:
            let (gpt2, _) = try ModelLoader.load(
                DecoderRMTFamily.backbone, config: backboneConfig, configFile: configFile, archive: checkpoint.backbone)
            guard let memory = checkpoint.memory else {
                throw CheckpointError(
                    .corrupt, file: checkpoint.backbone.path, tensor: "memory", "the decoder has no memory")
            }
            network = .decoder(
                try DecoderRMT(
                    backbone: gpt2, memory: try memory.floatValues(), memoryTokens: c.numMemTokens,
                    segmentSize: c.segmentSize, alignment: c.segmentAlignment))
        case .encoder:
            let (bert, _) = try ModelLoader.load(
                EncoderRMTFamily.backbone, config: backboneConfig, configFile: configFile,
                archive: checkpoint.backbone)
            let special =
                c.specialTokenIds ?? SpecialTokenIDs(pad: 0, cls: checkpoint.clsID ?? 101, sep: checkpoint.sepID ?? 102)
            let segmentation = try EncoderSegmentation(
                inputSize: c.inputSize, memoryTokens: c.numMemTokens, maxSegments: c.maxNSegments ?? 1,
                alignment: c.segmentAlignment, special: special, firstMemoryID: c.backboneVocabSize)
            guard segmentation.segmentSize == c.segmentSize else {
                throw CheckpointError(
                    .configuration, file: rmtFile, tensor: "segment_size",
                    "is \(c.segmentSize) but input_size \(c.inputSize) with \(c.numMemTokens) memory tokens gives \(segmentation.segmentSize)"
                )
            }
            network = .encoder(try EncoderRMT(backbone: bert, segmentation: segmentation))
        }
        self.path = path
        self.configuration = configuration
        self.checkpoint = checkpoint
        self.backboneConfig = backboneConfig
        self.sideFiles = sideFiles
    }

    /// `model` with another configuration, checkpoint or network (a trained one: the trainer's snapshot).
    init(
        _ model: RMTModel, configuration: RMTConfiguration? = nil, checkpoint: RMTCheckpoint? = nil,
        network: RMTNetwork
    ) {
        path = model.path
        self.configuration = configuration ?? model.configuration
        self.checkpoint = checkpoint ?? model.checkpoint
        backboneConfig = model.backboneConfig
        self.network = network
        sideFiles = model.sideFiles
    }

    /// The same RMT with another segment alignment (the reference fixtures exercise all three on one checkpoint).
    public func withAlignment(_ alignment: SegmentAlignment?) throws -> RMTModel {
        guard let alignment, alignment != configuration.segmentAlignment else { return self }
        var config = configuration
        config.segmentAlignment = alignment
        switch network {
        case .decoder(let d): return RMTModel(self, configuration: config, network: .decoder(try d.aligned(alignment)))
        case .encoder(let e): return RMTModel(self, configuration: config, network: .encoder(try e.aligned(alignment)))
        }
    }
}

extension JSONValue {
    /// This object with `key` set to `value` (added at the end when absent).
    func setting(_ key: String, to value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }
}
