// `wrap` for the encoder: BERT grows `m` memory rows and gets a classification head if it lacks one
// (docs/RMT.md §3.1).
import Checkpoints
import Foundation
import Models
import TensorCore

extension RMTModel {
    static func wrapEncoder(_ backbone: Checkpoint, config: JSONValue, configFile: String, options: WrapOptions) throws
        -> WrappedBackbone
    {
        let model = EncoderRMTFamily.backbone
        // Checked against the weights' shapes first: nothing is allocated for sizes the weights do not have. An
        // existing classifier is left out: its rows set the labels below, whatever the config says.
        var layout = model.keyLayout
        layout.ignoredPrefixes.append("classifier.")
        let bert = try BertConfiguration.decoded(
            from: config, file: configFile,
            weights: WeightShapes(backbone.archive, family: model.family, layout: layout))
        let m = options.memoryTokens, H = bert.hiddenSize, V = bert.vocabularySize
        let std = config["initializer_range"]?.doubleValue ?? 0.02
        // Settings first: nothing is read when they are refused.
        guard let K = options.maxSegments else {
            throw RMTError(
                "max-segments", "the encoder needs --max-segments K (inputs are truncated to segment_size × K tokens)")
        }
        let special = try specialTokenIDs(folder: backbone.folder)
        let inputSize = options.inputSize ?? min(512, bert.maxPositions)
        guard inputSize <= bert.maxPositions else {
            throw RMTError("input-size", "input_size \(inputSize) exceeds max_position_embeddings \(bert.maxPositions)")
        }
        let segmentation = try EncoderSegmentation(
            inputSize: inputSize, memoryTokens: m, maxSegments: K, alignment: options.alignment ?? .right,
            special: special, firstMemoryID: V)
        if let given = options.segmentSize, given != segmentation.segmentSize {
            throw RMTError(
                "segment-size",
                "the encoder's segment size follows from --input-size: \(inputSize) − \(m) − 3 = \(segmentation.segmentSize), not \(given)"
            )
        }
        var (tensors, notes) = try normalizedBackbone(backbone, as: model)
        // Memory rows first, then any missing head, all from one seeded generator in this order.
        var generator = SeededGenerator(seed: options.seed)
        let wordKey: UTF8Key = "bert.embeddings.word_embeddings.weight"
        guard let words = tensors[wordKey], words.shape == [V, H] else {
            throw CheckpointError(
                .corrupt, file: backbone.weightsPath, tensor: wordKey.string,
                "word embeddings must be [\(V), \(H)] as config.json says")
        }
        tensors[wordKey] = Tensor(
            try words.floatValues() + generator.normals(count: m * H, standardDeviation: std), shape: [V + m, H])
        var initialised: [String] = []
        var labels = options.numLabels ?? bert.labelCount
        if let existing = tensors["classifier.weight"] {
            if let asked = options.numLabels, asked != existing.shape[0] {
                throw RMTError(
                    "num-labels",
                    "the backbone already has a classifier with \(existing.shape[0]) labels; drop --num-labels or pass \(existing.shape[0])"
                )
            }
            labels = existing.shape[0]
        }
        for (key, shape) in [("bert.pooler.dense", [H, H]), ("classifier", [labels, H])]
        where tensors[UTF8Key("\(key).weight")] == nil {
            tensors[UTF8Key("\(key).weight")] = Tensor(
                generator.normals(count: shape[0] * shape[1], standardDeviation: std), shape: Shape(shape))
            tensors[UTF8Key("\(key).bias")] = Tensor([Float](repeating: 0, count: shape[0]), shape: [shape[0]])
            initialised += ["\(key).weight", "\(key).bias"]
        }
        let dropped = tensors.keys.filter { $0.string.hasPrefix("cls.") }.sorted().map(\.string)
        if !dropped.isEmpty {
            notes.append(
                "dropped \(dropped.count) keys of the masked-LM / pre-training heads (\(dropped.prefix(2).joined(separator: ", "))…)"
            )
        }
        let order = BertFamily.stateDictKeys(of: model, layers: bert.layerCount)
        var grown = config.setting("vocab_size", to: .number(String(V + m)))
            .setting("architectures", to: .array([.string("BertForSequenceClassification")]))
        if labels != bert.labelCount || config["id2label"] == nil {
            grown = grown.setting("id2label", to: .object((0..<labels).map { ("\($0)", .string("LABEL_\($0)")) }))
                .setting("label2id", to: .object((0..<labels).map { ("LABEL_\($0)", .number("\($0)")) }))
        }
        var configuration = RMTConfiguration(
            variant: .encoder, numMemTokens: m, segmentSize: segmentation.segmentSize, inputSize: inputSize,
            maxNSegments: K, segmentAlignment: options.alignment ?? .right, backboneModelType: "bert",
            backboneArchitecture: "BertForSequenceClassification", backboneVocabSize: V,
            stateDictProfile: options.export.profile, writtenBy: "rmt-convert \(rmtConvertVersion)")
        configuration.bpttDepth = -1
        configuration.sumLoss = false
        configuration.memTokenIds = Array(V..<V + m)
        configuration.memoryPositions = Array(segmentation.memoryStart..<segmentation.memoryStart + m)
        configuration.specialTokenIds = special
        configuration.memoryInit = MemoryInit(method: "normal_initializer_range", std: std, seed: options.seed)
        configuration.initialisedTensors = initialised
        return try WrappedBackbone(
            configuration: configuration, tensors: tensors, order: order, file: backbone.weightsPath, memory: nil,
            special: special, notes: notes, backboneConfig: grown)
    }

    /// `[PAD]`, `[CLS]`, `[SEP]` ids from the folder's `tokenizer.json` or `vocab.txt` (docs/RMT.md §3.1).
    /// - Throws: `CheckpointError` when neither file exists or a token is missing.
    static func specialTokenIDs(folder: String) throws -> SpecialTokenIDs {
        var vocabulary: [UTF8Key: Int] = [:]  // token → id, by bytes as `tokenizers` keys them
        if let json = try Checkpoint.readJSON("\(folder)/tokenizer.json"),
            case .object(let vocab)? = json["model"]?["vocab"]
        {
            for (token, id) in vocab { if let i = id.integerValue { vocabulary[UTF8Key(token)] = i } }
        } else if fileExists("\(folder)/vocab.txt"),
            let text = String(validating: try readInputFile("\(folder)/vocab.txt"), as: UTF8.self)
        {
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where vocabulary[UTF8Key(String(line))] == nil {
                vocabulary[UTF8Key(String(line))] = i
            }
        } else {
            throw CheckpointError(
                .configuration, file: folder,
                "no tokenizer.json or vocab.txt: the encoder needs the [PAD]/[CLS]/[SEP] ids of the backbone's tokenizer"
            )
        }
        func id(_ token: String) throws -> Int {
            guard let i = vocabulary[UTF8Key(token)] else {
                throw CheckpointError(
                    .configuration, file: folder, tensor: token,
                    "the tokenizer has no \(token) token; the encoder RMT needs BERT's special tokens")
            }
            return i
        }
        return SpecialTokenIDs(pad: try id("[PAD]"), cls: try id("[CLS]"), sep: try id("[SEP]"))
    }
}
