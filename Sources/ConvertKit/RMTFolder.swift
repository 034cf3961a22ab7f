// Opening an RMT checkpoint (a project folder, or the reference's run directory / model_best folder) and
// building the runnable wrapper around the Swift models.
import Checkpoints
import Foundation
import Models
import RMT
import TensorCore

/// A runnable RMT: its settings, tensors, backbone config, and the built wrapper.
public struct LoadedRMT {
    /// The two variants, built.
    public enum Wrapper {
        case decoder(DecoderRMT<GPT2LMHeadModel>)
        case encoder(EncoderRMT<BertForSequenceClassification>)
    }

    public let path: String
    public let configuration: RMTConfiguration
    public let checkpoint: RMTCheckpoint
    /// The backbone's Hugging Face config (for the encoder: vocabulary grown by `m`).
    public let backboneConfig: JSONValue
    public let wrapper: Wrapper
    /// Side files (tokenizer) found with the checkpoint.
    public let sideFiles: [(name: String, path: String)]

    /// True when `path` is a folder holding `rmt_config.json` (or whose parent does).
    public static func isRMT(_ path: String) -> Bool {
        locate("rmt_config.json", near: path) != nil
    }

    /// Finds `name` in the folder `path` or, for a reference `model_best/` folder, one level above.
    static func locate(_ name: String, near path: String) -> String? {
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else { return nil }
        let parent = (folder as NSString).deletingLastPathComponent
        return ["\(folder)/\(name)", "\(parent.isEmpty ? "." : parent)/\(name)"].first {
            FileManager.default.fileExists(atPath: $0)
        }
    }

    /// Opens the RMT checkpoint at `path` and builds the wrapper.
    /// - Throws: `CheckpointError`, `RMTError` or `ModelError`, naming the file and field.
    public static func open(_ path: String) throws -> LoadedRMT {
        guard let rmtPath = locate("rmt_config.json", near: path) else {
            throw CheckpointError(
                .configuration, file: path,
                "no rmt_config.json here or one level up; wrap a backbone with `rmt-convert wrap` first")
        }
        guard let configPath = locate("config.json", near: path) else {
            throw CheckpointError(
                .configuration, file: path, "no config.json (the backbone's Hugging Face config) here or one level up")
        }
        let configuration: RMTConfiguration
        do {
            configuration = try RMTConfiguration.decode(try Data(contentsOf: URL(fileURLWithPath: rmtPath)))
        } catch let e as RMTError {
            throw CheckpointError(.configuration, file: rmtPath, tensor: e.field, e.description)
        }
        let source = try Checkpoint.open(path)
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
        guard let rawConfig = try Checkpoint.readJSON(configPath) else {
            throw CheckpointError(.configuration, file: configPath, "cannot be read")
        }
        let archive = MemoryArchive(checkpoint.backbone, path: source.weightsPath)
        let wrapper: Wrapper
        var backboneConfig = rawConfig
        switch configuration.variant {
        case .decoder:
            let (gpt2, _) = try ModelLoader.load(
                GPT2LMHeadModel.self, config: rawConfig, configFile: configPath, archive: archive)
            wrapper = .decoder(
                try DecoderRMT(
                    backbone: gpt2, memory: try checkpoint.memory!.floatValues(),
                    memoryTokens: configuration.numMemTokens, segmentSize: configuration.segmentSize,
                    alignment: configuration.segmentAlignment))
        case .encoder:
            // Build from the grown table: vocab_size = V + m whatever the folder's config.json says (RMT.md §5.5).
            let grown = configuration.backboneVocabSize + configuration.numMemTokens
            backboneConfig = rawConfig.setting("vocab_size", to: .number(String(grown)))
            let (bert, _) = try ModelLoader.load(
                BertForSequenceClassification.self, config: backboneConfig, configFile: configPath, archive: archive)
            let special =
                configuration.specialTokenIds
                ?? SpecialTokenIDs(pad: 0, cls: checkpoint.clsID ?? 101, sep: checkpoint.sepID ?? 102)
            let segmentation = try EncoderSegmentation(
                inputSize: configuration.inputSize, memoryTokens: configuration.numMemTokens,
                maxSegments: configuration.maxNSegments ?? 1, alignment: configuration.segmentAlignment,
                special: special, firstMemoryID: Int64(configuration.backboneVocabSize))
            guard segmentation.segmentSize == configuration.segmentSize else {
                throw CheckpointError(
                    .configuration, file: rmtPath, tensor: "segment_size",
                    "is \(configuration.segmentSize) but input_size \(configuration.inputSize) with \(configuration.numMemTokens) memory tokens gives \(segmentation.segmentSize)"
                )
            }
            wrapper = .encoder(try EncoderRMT(backbone: bert, segmentation: segmentation))
        }
        let folder = (configPath as NSString).deletingLastPathComponent
        let side = Checkpoint.tokenizerFileNames.compactMap { name -> (String, String)? in
            let p = locate(name, near: path) ?? "\(folder)/\(name)"
            return FileManager.default.fileExists(atPath: p) ? (name, p) : nil
        }
        return LoadedRMT(
            path: path, configuration: configuration, checkpoint: checkpoint, backboneConfig: backboneConfig,
            wrapper: wrapper, sideFiles: side)
    }
}

extension JSONValue {
    /// This object with `key` set to `value` (added at the end when absent).
    public func setting(_ key: String, to value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }
}
