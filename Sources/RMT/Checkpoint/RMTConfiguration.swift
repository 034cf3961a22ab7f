// `rmt_config.json`: every RMT setting the project writes and reads (docs/RMT.md §5.7).
import Checkpoints
import Foundation
import Models

/// The two RMT variants.
public enum RMTVariant: String, Codable, Sendable, CaseIterable {
    /// GPT-2 with a memory parameter, read and write blocks (docs/RMT.md §2).
    case decoder
    /// BERT for sequence classification with memory rows in the word embeddings (docs/RMT.md §3).
    case encoder
}

/// The reference implementation this checkpoint targets.
public struct ReferenceInfo: Codable, Sendable, Equatable {
    public var repository = "booydar/recurrent-memory-transformer"
    public var branch = "aaai24"
    public var classes: [String]

    public init(classes: [String]) { self.classes = classes }
}

/// The contents of `rmt_config.json`.
public struct RMTConfiguration: Codable, Sendable, Equatable {
    public var rmtFormatVersion = 1
    public var variant: RMTVariant
    public var numMemTokens: Int
    public var segmentSize: Int
    public var inputSize: Int
    public var maxNSegments: Int?
    public var segmentAlignment: SegmentAlignment
    /// Decoder only: BPTT truncation, −1 = full.
    public var k2: Int?
    /// Encoder only: always −1 (full BPTT).
    public var bpttDepth: Int?
    /// Encoder only.
    public var sumLoss: Bool?
    public var backboneModelType: String
    public var backboneArchitecture: String
    public var backboneVocabSize: Int
    /// Encoder only: `V..V+m−1`.
    public var memTokenIds: [Int]?
    /// Encoder only: `1..m`.
    public var memoryPositions: [Int]?
    /// Encoder only.
    public var specialTokenIds: SpecialTokenIDs?
    public var memoryInit: MemoryInit?
    public var initialisedTensors: [String]?
    public var stateDictProfile: StateDictProfile
    public var reference: ReferenceInfo
    public var writtenBy: String

    enum CodingKeys: String, CodingKey {
        case variant, k2, reference
        case rmtFormatVersion = "rmt_format_version", numMemTokens = "num_mem_tokens", segmentSize = "segment_size"
        case inputSize = "input_size", maxNSegments = "max_n_segments", segmentAlignment = "segment_alignment"
        case bpttDepth = "bptt_depth", sumLoss = "sum_loss", backboneModelType = "backbone_model_type"
        case backboneArchitecture = "backbone_architecture", backboneVocabSize = "backbone_vocab_size"
        case memTokenIds = "mem_token_ids", memoryPositions = "memory_positions", specialTokenIds = "special_token_ids"
        case memoryInit = "memory_init", initialisedTensors = "initialised_tensors"
        case stateDictProfile = "state_dict_profile", writtenBy = "written_by"
    }

    public init(
        variant: RMTVariant, numMemTokens: Int, segmentSize: Int, inputSize: Int, maxNSegments: Int?,
        segmentAlignment: SegmentAlignment, backboneModelType: String, backboneArchitecture: String,
        backboneVocabSize: Int, stateDictProfile: StateDictProfile = .current, writtenBy: String
    ) {
        self.variant = variant
        self.numMemTokens = numMemTokens
        self.segmentSize = segmentSize
        self.inputSize = inputSize
        self.maxNSegments = maxNSegments
        self.segmentAlignment = segmentAlignment
        self.backboneModelType = backboneModelType
        self.backboneArchitecture = backboneArchitecture
        self.backboneVocabSize = backboneVocabSize
        self.stateDictProfile = stateDictProfile
        self.writtenBy = writtenBy
        reference = ReferenceInfo(
            classes: variant == .decoder
                ? ["modeling_rmt.language_modeling.MemoryCell", "modeling_rmt.language_modeling.RecurrentWrapper"]
                : ["modeling_rmt.sequence_classification.RMTEncoderForSequenceClassification"])
    }

    /// The most memory tokens a config may name.
    public static let maximumMemoryTokens = 1 << 16
    /// The longest segment, input or segment count a config may name.
    public static let maximumLength = 1 << 24

    /// Decodes `rmt_config.json`, checking the invariants of docs/RMT.md §2.2, §3.2 and §5.7. The text is parsed
    /// strictly (`JSONValue`) and a key given twice takes its last value, as in Python.
    /// - Throws: `RMTError` naming the field.
    public static func decode(_ data: Data) throws -> RMTConfiguration {
        let json: JSONValue
        do { json = try data.withUnsafeBytes { try JSONValue.parse($0) } } catch {
            throw RMTError("rmt_config.json", "invalid JSON: \(error); fix or re-create it with `rmt-convert wrap`")
        }
        let config: RMTConfiguration
        do {
            config = try JSONDecoder().decode(
                RMTConfiguration.self, from: Data(json.lastValueForEachKey().compactBytes()))
        } catch let DecodingError.keyNotFound(
            key, _)
        {
            throw RMTError(
                key.stringValue, "missing from rmt_config.json; re-create the folder with `rmt-convert wrap`")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw RMTError(
                context.codingPath.map(\.stringValue).joined(separator: "."), "has the wrong type in rmt_config.json")
        } catch let DecodingError.dataCorrupted(context) {
            throw RMTError(
                context.codingPath.map(\.stringValue).joined(separator: ".").isEmpty
                    ? "rmt_config.json" : context.codingPath.map(\.stringValue).joined(separator: "."),
                "invalid: \(context.debugDescription)")
        }
        try config.validate()
        return config
    }

    /// Checks the numeric invariants, sizes first (so that no arithmetic on them can overflow).
    public func validate() throws {
        guard rmtFormatVersion == 1 else {
            throw RMTError(
                "rmt_format_version", "\(rmtFormatVersion) is not supported (expected 1); upgrade rmt-convert")
        }
        let L = RMTConfiguration.maximumLength
        // The backbone's own limit (its family's configuration).
        let vocabulary = variant == .encoder ? BertConfiguration.Limits.vocabulary : GPT2Configuration.Limits.vocabulary
        for (value, field, limit) in [
            (numMemTokens, "num_mem_tokens", RMTConfiguration.maximumMemoryTokens), (segmentSize, "segment_size", L),
            (inputSize, "input_size", L), (maxNSegments ?? 1, "max_n_segments", L),
            (k2.map { $0 == Int.min ? Int.max : abs($0) } ?? 0, "k2", L),
            (backboneVocabSize, "backbone_vocab_size", vocabulary),
        ] where value > limit {
            throw RMTError(field, "is \(value), at most \(limit) is supported; fix rmt_config.json")
        }
        guard numMemTokens >= 1 else { throw RMTError("num_mem_tokens", "must be at least 1, got \(numMemTokens)") }
        guard segmentSize >= 1 else { throw RMTError("segment_size", "must be at least 1, got \(segmentSize)") }
        switch variant {
        case .decoder:
            guard inputSize == segmentSize + 2 * numMemTokens else {
                throw RMTError(
                    "input_size",
                    "must be segment_size + 2·num_mem_tokens = \(segmentSize + 2 * numMemTokens), got \(inputSize)")
            }
            if let k2, k2 >= 1, maxNSegments == nil {
                throw RMTError("k2", "k2 = \(k2) needs max_n_segments; set --max-segments")
            }
        case .encoder:
            guard maxNSegments != nil else {
                throw RMTError("max_n_segments", "is required for the encoder; set --max-segments")
            }
            if let d = bpttDepth, d != -1 { throw RMTError("bptt_depth", "only full BPTT (−1) is supported, got \(d)") }
            if let ids = memTokenIds, ids != Array(backboneVocabSize..<backboneVocabSize + numMemTokens) {
                throw RMTError("mem_token_ids", "must be \(backboneVocabSize)..\(backboneVocabSize + numMemTokens - 1)")
            }
        }
    }

    /// Stable JSON (sorted keys, 2-space indentation, final newline).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
