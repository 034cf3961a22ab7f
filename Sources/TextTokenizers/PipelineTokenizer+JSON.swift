// Loading a `tokenizers` tokenizer.json: model (WordPiece or BPE), normaliser, pre-tokeniser, post-processor
// and added tokens. Anything else is refused by name rather than silently ignored, except `decoder`,
// `truncation` and `padding`, which do not change the ids `tokenizer(text)` returns.
import Checkpoints

extension PipelineTokenizer {
    /// Loads a Hugging Face `tokenizer.json`.
    /// - Throws: `CheckpointError` naming the file and field when it is malformed or uses a component this
    ///   project does not implement.
    public init(tokenizerJSON path: String) throws {
        let root = try TokenizerFileReading.json(path)
        guard case .object = root else { throw tokenizerError(file: path, field: nil, "must hold a JSON object") }
        let fields = JSONFields(value: root, file: path, path: "")
        guard let modelFields = try fields.object("model") else {
            throw fields.missing("model", "an object with the model type and its vocabulary")
        }
        let normalizer = try Self.normalizer(try fields.object("normalizer"))
        let model = try Self.model(modelFields)
        let addedTokens = try Self.addedTokens(fields)
        self.init(
            addedTokens: AddedTokenMatcher(addedTokens, normalizer: normalizer), normalizer: normalizer,
            preTokenizer: try Self.preTokenizer(try fields.object("pre_tokenizer")), model: model,
            template: try Self.template(try fields.object("post_processor")))
    }

    static func model(_ fields: JSONFields) throws -> TokenizerModel {
        var type = try fields.string("type")
        if type == nil {  // files written before models were tagged
            type =
                fields.optional("merges") != nil
                ? "BPE" : fields.optional("continuing_subword_prefix") != nil ? "WordPiece" : nil
        }
        guard let vocabularyValue = fields.optional("vocab") else {
            throw fields.missing("vocab", "an object mapping tokens to ids")
        }
        let vocabulary = try TextTokenizers.vocabulary(
            from: vocabularyValue, file: fields.file, field: fields.fieldPath("vocab"))
        switch type {
        case "WordPiece":
            return .wordPiece(
                try WordPieceModel(
                    vocabulary: vocabulary, unknownToken: try fields.string("unk_token") ?? "[UNK]",
                    continuingSubwordPrefix: try fields.string("continuing_subword_prefix") ?? "##",
                    maxInputCharsPerWord: try fields.integer("max_input_chars_per_word", default: 100),
                    file: fields.file))
        case "BPE":
            for key in ["continuing_subword_prefix", "end_of_word_suffix"] where !(try fields.string(key) ?? "").isEmpty
            {
                throw fields.unsupported(key, "a BPE \(key)")
            }
            if try fields.bool("byte_fallback", default: false) {
                throw fields.unsupported("byte_fallback", "BPE byte fallback")
            }
            if let dropout = fields.optional("dropout"), dropout.doubleValue != 0 {
                throw fields.unsupported("dropout", "BPE dropout (it makes ids random)")
            }
            return .bytePair(
                try BytePairModel(
                    vocabulary: vocabulary, merges: try merges(fields), unknownToken: try fields.string("unk_token"),
                    fuseUnknown: try fields.bool("fuse_unk", default: false),
                    ignoreMerges: try fields.bool("ignore_merges", default: false), file: fields.file))
        case let other:
            throw fields.unsupported("type", "model type '\(other ?? "(none)")'")
        }
    }

    /// `merges`: "left right" strings (older files) or [left, right] pairs.
    static func merges(_ fields: JSONFields) throws -> [(String, String)] {
        guard let items = try fields.array("merges") else { throw fields.missing("merges", "an array of merges") }
        return try items.enumerated().map { index, item in
            switch item {
            case .string(let line):
                let parts = line.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
                if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
            case .array(let pair):
                if pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue {
                    return (left, right)
                }
            default: break
            }
            throw tokenizerError(
                file: fields.file, field: fields.fieldPath("merges[\(index)]"),
                "must be \"left right\" or [\"left\", \"right\"]")
        }
    }

    static func normalizer(_ fields: JSONFields?) throws -> BertNormalizer? {
        guard let fields else { return nil }
        switch try fields.string("type") {
        case "BertNormalizer":
            return BertNormalizer(
                cleanText: try fields.bool("clean_text", default: true),
                handleChineseChars: try fields.bool("handle_chinese_chars", default: true),
                stripAccents: try fields.optionalBool("strip_accents"),
                lowercase: try fields.bool("lowercase", default: true))
        case "Sequence" where (try fields.array("normalizers") ?? []).isEmpty:
            return nil
        case let other:
            throw fields.unsupported("type", "normalizer '\(other ?? "(none)")'")
        }
    }

    static func preTokenizer(_ fields: JSONFields?) throws -> PreTokenizer {
        guard let fields else { return .wholeText }
        switch try fields.string("type") {
        case "BertPreTokenizer":
            return .bert
        case "ByteLevel":
            return .byteLevel(
                addPrefixSpace: try fields.bool("add_prefix_space", default: true),
                useRegex: try fields.bool("use_regex", default: true))
        case let other:
            throw fields.unsupported("type", "pre-tokenizer '\(other ?? "(none)")'")
        }
    }

    static func template(_ fields: JSONFields?) throws -> SequenceTemplate {
        guard let fields else { return .noSpecialTokens }
        switch try fields.string("type") {
        case "ByteLevel":
            return .noSpecialTokens
        case "BertProcessing", "RobertaProcessing":
            return SequenceTemplate(
                prefix: [try specialTokenId(fields, "cls")], suffix: [try specialTokenId(fields, "sep")])
        case "TemplateProcessing":
            return try templateProcessing(fields)
        case "Sequence":
            var combined = SequenceTemplate.noSpecialTokens
            for (index, item) in (try fields.array("processors") ?? []).enumerated() {
                let inner = try template(
                    JSONFields(value: item, file: fields.file, path: fields.fieldPath("processors[\(index)]")))
                combined = SequenceTemplate(
                    prefix: inner.prefix + combined.prefix, suffix: combined.suffix + inner.suffix)
            }
            return combined
        case let other:
            throw fields.unsupported("type", "post-processor '\(other ?? "(none)")'")
        }
    }

    /// BertProcessing's `cls` / `sep`: ["[CLS]", 101].
    static func specialTokenId(_ fields: JSONFields, _ key: String) throws -> Int {
        guard let pair = try fields.array(key), pair.count == 2, let id = tokenId(pair[1]) else {
            throw fields.wrongType(key, "a [token, id] pair with \(tokenIdExpectation)")
        }
        return id
    }

    /// TemplateProcessing's `single`: special tokens before and after the one `Sequence` piece.
    static func templateProcessing(_ fields: JSONFields) throws -> SequenceTemplate {
        guard let single = try fields.array("single") else {
            throw fields.missing("single", "the template for one sequence")
        }
        let specials = try fields.object("special_tokens")
        var prefix: [Int] = [], suffix: [Int] = []
        var sequenceSeen = false
        for (index, piece) in single.enumerated() {
            let piecePath = fields.fieldPath("single[\(index)]")
            if piece["Sequence"] != nil {
                guard !sequenceSeen else {
                    throw tokenizerError(
                        .unsupportedContent, file: fields.file, field: piecePath,
                        "a template repeating the sequence is not supported")
                }
                sequenceSeen = true
                continue
            }
            guard let name = piece["SpecialToken"]?["id"]?.stringValue else {
                throw tokenizerError(
                    file: fields.file, field: piecePath, "must be {\"Sequence\": …} or {\"SpecialToken\": {\"id\": …}}")
            }
            guard let entry = try specials?.object(name), let idValues = try entry.array("ids"),
                case let ids = idValues.compactMap(tokenId),
                ids.count == idValues.count
            else {
                throw tokenizerError(
                    file: fields.file, field: fields.fieldPath("special_tokens.\(name)"),
                    "must give the ids of special token '\(name)' used by the template, each \(tokenIdExpectation)")
            }
            if sequenceSeen { suffix += ids } else { prefix += ids }
        }
        guard sequenceSeen else {
            throw tokenizerError(file: fields.file, field: fields.fieldPath("single"), "has no Sequence piece")
        }
        return SequenceTemplate(prefix: prefix, suffix: suffix)
    }

    static func addedTokens(_ fields: JSONFields) throws -> [AddedToken] {
        try (try fields.array("added_tokens") ?? []).enumerated().map { index, item in
            let token = JSONFields(value: item, file: fields.file, path: "added_tokens[\(index)]")
            guard case .object = item else {
                throw tokenizerError(file: fields.file, field: token.path, "must be an object with an integer id")
            }
            guard let id = token.optional("id").flatMap(tokenId) else {
                throw tokenizerError(file: fields.file, field: token.fieldPath("id"), "must be \(tokenIdExpectation)")
            }
            let special = try token.bool("special", default: false)
            return AddedToken(
                content: try token.requiredString("content"), id: id,
                singleWord: try token.bool("single_word", default: false),
                leftStrip: try token.bool("lstrip", default: false),
                rightStrip: try token.bool("rstrip", default: false),
                normalized: try token.bool("normalized", default: !special))
        }
    }
}
