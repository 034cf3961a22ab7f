// The trained model, and checkpoints a run continues from bit for bit (docs/RMT.md §8.10): the weights go through
// RMT's own export (`RMTModel.save`), so a checkpoint is a normal RMT folder, with the optimiser's state beside it:
//
//   FOLDER/config.json, rmt_config.json, model.safetensors, tokenizer files     RMTModel.save
//   FOLDER/train_state/optimizer.safetensors   AdamW's moments, `exp_avg.<name>` / `exp_avg_sq.<name>` (float32)
//   FOLDER/train_state/state.json              format, completed steps, options, the trained tensors
//
// The dropout masks derive from (seed, step, segment), so there is no generator state to save.
import Checkpoints
import Foundation
import Models
import TensorCore

/// `train_state/state.json`: what a saved run is (docs/RMT.md §8.10).
public struct TrainingState: Codable, Equatable, Sendable {
    /// A trained tensor: its state-dict name and the rows of it that train (`[first, end)` of its `[rows, width]`
    /// view, width its last dimension): all of them, or the encoder's memory rows under `freeze_backbone`.
    public struct Trained: Codable, Equatable, Sendable {
        public var name: String
        public var rows: [Int]
    }

    public var formatVersion = 1
    public var variant: RMTVariant
    /// Updates done when the checkpoint was written.
    public var completedSteps: Int
    /// The run's settings.
    public var options: TrainingOptions
    public var trained: [Trained]
    public var writtenBy: String

    enum CodingKeys: String, CodingKey {
        case variant, options, trained
        case formatVersion = "format_version", completedSteps = "completed_steps", writtenBy = "written_by"
    }

    /// Reads `folder/train_state/state.json` (a folder `RMTTrainer.save(to:)` wrote).
    /// - Throws: `CheckpointError` naming the file: missing (`.io`), not a training state (`.corrupt`), or of
    ///   another format version (`.unsupportedContent`).
    public static func read(folder: String) throws -> TrainingState {
        let statePath = "\(folder)/train_state/state.json"
        guard fileExists(statePath) else {
            throw CheckpointError(
                .io, file: statePath, "cannot be read; resume from a folder that a training run saved")
        }
        let data = Data(try readInputFile(statePath))  // like every input: a regular file, opened without blocking
        let state: TrainingState
        do { state = try JSONDecoder().decode(TrainingState.self, from: data) } catch {
            throw CheckpointError(.corrupt, file: statePath, "is not a training state: \(error)")
        }
        guard state.formatVersion == 1 else {
            throw CheckpointError(
                .unsupportedContent, file: statePath, tensor: "format_version",
                "\(state.formatVersion) is not supported (expected 1); upgrade rmt-convert")
        }
        return state
    }
}

extension RMTTrainer {
    /// The folder's `train_state/` files.
    public static let stateFileNames = ["train_state/optimizer.safetensors", "train_state/state.json"]

    /// The trained RMT as it is now: every command's input (`run`, `save`, `verify`…). Nothing is copied until
    /// it is saved; a copy taken before further steps keeps these weights.
    public var model: RMTModel {
        let archive: ParameterArchive
        var memory: Tensor? = nil
        let network: RMTNetwork
        if let decoder {
            let backbone = decoder.backbone.parameters
            // The tied head is listed under its own name too, as a loaded checkpoint's backbone lists it.
            let tied = decoder.backbone.untiedHead == nil ? [("lm_head.weight", "transformer.wte.weight")] : []
            archive = ParameterArchive(backbone, aliases: tied, path: base.path)
            memory = Tensor(decoder.memory.values, shape: [decoder.memoryTokens, decoder.backbone.hiddenSize])
            network = .decoder(decoder)
        } else {
            archive = ParameterArchive(encoder!.backbone.parameters, path: base.path)
            network = .encoder(encoder!)
        }
        let old = base.checkpoint
        let checkpoint = RMTCheckpoint(
            variant: old.variant, memoryTokens: old.memoryTokens, backbone: archive, memory: memory,
            clsID: old.clsID, sepID: old.sepID, notes: [])
        return RMTModel(base, checkpoint: checkpoint, network: network)
    }

    /// Writes the trained model and the trainer's state into `folder` (created if needed): an RMT folder
    /// (`RMTModel.save`, safetensors, the folder's state-dict profile) plus `train_state/`, from which
    /// `init(resumingFrom:)` continues bit for bit. All or nothing: on a failure the files this call created are
    /// removed. For a checkpoint that survives a crash, write into a fresh folder and rename it over the old one.
    /// - Parameter overwrite: replace files that exist (otherwise `CheckpointError(.alreadyExists)`).
    /// - Returns: the files written, relative to `folder`.
    @discardableResult
    public func save(to folder: String, overwrite: Bool = false) throws -> [String] {
        let model = self.model
        var export = RMTExportOptions()
        export.profile = base.configuration.stateDictProfile
        export.force = true  // existing files are refused below unless `overwrite`
        let names = model.outputFileNames(options: export) + Self.stateFileNames
        let stateFolder = "\(folder)/train_state"
        let createdStateFolder = !FileManager.default.fileExists(atPath: stateFolder)
        try writingOutputs(names.map { "\(folder)/\($0)" }, force: overwrite, folder: folder) {
            do {
                try model.save(to: folder, options: export)
                try createDirectory(stateFolder)
                try SafetensorsWriter.write(
                    try momentTensors().map { TensorSource(name: $0.name, tensor: $0.tensor) },
                    metadata: [("format", "pt")], to: "\(stateFolder)/optimizer.safetensors", overwrite: true)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                let state = TrainingState(
                    variant: variant, completedSteps: completedSteps, options: options, trained: trainedTensors(),
                    writtenBy: "rmt-convert \(rmtConvertVersion)")
                try writeText(
                    String(decoding: try encoder.encode(state), as: UTF8.self) + "\n", to: "\(stateFolder)/state.json",
                    overwrite: true)
            } catch {
                if createdStateFolder { try? FileManager.default.removeItem(atPath: stateFolder) }
                throw error
            }
        }
        return names
    }

    /// A trainer that continues the run saved in `folder` (by `save(to:)`): the weights, the completed steps, the
    /// options and AdamW's moments, so its next steps equal the uninterrupted run's bit for bit.
    /// - Parameter options: replaces the saved options (e.g. a longer `totalSteps`); the run then continues under
    ///   them. They must train the same tensors (`freezeBackbone`) with the same optimiser.
    /// - Throws: `CheckpointError` naming the file and field or tensor that is missing or does not fit;
    ///   what `RMTModel.load(folder:)` throws.
    public convenience init(resumingFrom folder: String, options: TrainingOptions? = nil) throws {
        let statePath = "\(folder)/train_state/state.json"
        let state = try TrainingState.read(folder: folder)
        let model = try RMTModel.load(folder: folder)
        do { try self.init(model: model, options: options ?? state.options) } catch let e as RMTError {
            throw CheckpointError(.configuration, file: statePath, tensor: e.field, e.message)
        }
        guard self.options.optimizer == state.options.optimizer else {
            throw CheckpointError(
                .configuration, file: statePath, tensor: "optimizer",
                "the run was trained with \(state.options.optimizer.rawValue); resume it with the same optimizer")
        }
        guard state.variant == variant, state.trained == trainedTensors() else {
            throw CheckpointError(
                .configuration, file: statePath, tensor: "trained",
                "lists other trained tensors than the options give for this \(variant.rawValue) RMT; resume with the run's freeze_backbone"
            )
        }
        completedSteps = state.completedSteps
        if self.options.optimizer == .adamw { try loadMoments(from: "\(folder)/train_state/optimizer.safetensors") }
    }

    /// Each trained tensor's name and trained rows.
    private func trainedTensors() -> [TrainingState.Trained] {
        momentSlices().map { _, _, part, range in
            let width = part.shape.last ?? 1
            return .init(
                name: stateDictName(part.key),
                rows: [(range.lowerBound - part.offset) / width, (range.upperBound - part.offset) / width])
        }
    }

    /// AdamW's moments by tensor: `exp_avg.<name>` and `exp_avg_sq.<name>`, `[rows, width]` over the trained rows.
    private func momentTensors() throws -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for (p, g, part, range) in momentSlices() {
            guard let moments = moments[p.key] else { continue }
            let width = part.shape.last ?? 1
            let shape: Shape = range.count == part.count ? Shape(part.shape) : [range.count / width, width]
            let slice = (range.lowerBound - g.parameterOffset)..<(range.upperBound - g.parameterOffset)
            out.append(("exp_avg.\(stateDictName(part.key))", Tensor(Array(moments.first[slice]), shape: shape)))
            out.append(("exp_avg_sq.\(stateDictName(part.key))", Tensor(Array(moments.second[slice]), shape: shape)))
        }
        return out
    }

    /// Reads the moments `momentTensors` wrote.
    private func loadMoments(from path: String) throws {
        let archive = try SafetensorsArchive(path: path)
        for (p, g, part, range) in momentSlices() {
            guard let moments = moments[p.key] else { continue }
            let slice = (range.lowerBound - g.parameterOffset)..<(range.upperBound - g.parameterOffset)
            for (prefix, isFirst) in [("exp_avg", true), ("exp_avg_sq", false)] {
                let name = "\(prefix).\(stateDictName(part.key))"
                guard archive.tensorNames.contains(name) else {
                    throw CheckpointError(.tensorNotFound, file: path, tensor: name, "AdamW's state has no `\(name)`")
                }
                let values = try archive.tensor(named: name).floatValues()
                guard values.count == range.count else {
                    throw CheckpointError(
                        .corrupt, file: path, tensor: name,
                        "has \(values.count) values but the trained part of the tensor has \(range.count)")
                }
                if isFirst {
                    moments.first.replaceSubrange(slice, with: values)
                } else {
                    moments.second.replaceSubrange(slice, with: values)
                }
            }
        }
    }

    /// For every trained part of every parameter: the parameter, its gradient, the part, and the part's trained
    /// values as a range of the parameter's values (all of the part, or the encoder's memory rows of the table).
    private func momentSlices() -> [(Parameter, GradientBuffer, Parameter.Part, Range<Int>)] {
        parameters.flatMap { p -> [(Parameter, GradientBuffer, Parameter.Part, Range<Int>)] in
            guard let g = gradients[p] else { return [] }
            return p.parts.compactMap { part in
                let lower = max(g.parameterOffset, part.offset)
                let upper = min(g.parameterOffset + g.count, part.offset + part.count)
                return upper > lower ? (p, g, part, lower..<upper) : nil
            }
        }
    }
}
