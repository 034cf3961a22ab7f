// Tokenizers built from the older vocabulary files, as transformers builds BertTokenizerFast from vocab.txt and
// GPT2TokenizerFast from vocab.json + merges.txt: the options come from tokenizer_config.json and
// special_tokens_map.json when present, otherwise from those classes' defaults.
import Checkpoints

/// The settings transformers reads from tokenizer_config.json and special_tokens_map.json.
public struct TokenizerSettings: Sendable {
    /// The parsed files, special_tokens_map.json last (it wins for special tokens).
    var sources: [JSONFields] = []

    /// Reads whichever of the two files exist in `folder`.
    public init(folder: String) throws {
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            let path = "\(folder)/\(name)"
            guard TokenizerFileReading.isFile(path) else { continue }
            let value = try TokenizerFileReading.json(path)
            guard case .object = value else { throw tokenizerError(file: path, field: nil, "must hold a JSON object") }
            sources.append(JSONFields(value: value, file: path, path: ""))
        }
    }

    /// No configuration files: the defaults.
    public init() {}

    func bool(_ key: String) throws -> Bool? {
        for source in sources.reversed() {
            if let value = try source.optionalBool(key) { return value }
        }
        return nil
    }

    /// A special token, written as a string or as {"content": …}.
    func token(_ key: String) throws -> String? {
        for source in sources.reversed() {
            guard let value = source.optional(key) else { continue }
            if let text = value.stringValue ?? value["content"]?.stringValue { return text }
            throw source.wrongType(key, "a token string or an object with \"content\"")
        }
        return nil
    }
}

extension PipelineTokenizer {
    /// BERT from `vocab.txt` (one token per line, the line number is the id): BertNormalizer with
    /// `do_lower_case`, `strip_accents` and `tokenize_chinese_chars`, WordPiece, `[CLS] … [SEP]`.
    /// - Throws: `CheckpointError` when the file is unreadable or lacks the unknown, CLS or SEP token.
    public init(bertVocabulary path: String, settings: TokenizerSettings = TokenizerSettings()) throws {
        var vocabulary: [TokenBytes: Int] = [:]
        let lines = try TokenizerFileReading.lines(path)
        guard !lines.isEmpty else {
            throw tokenizerError(file: path, field: nil, "is empty; a vocab.txt lists one token per line")
        }
        vocabulary.reserveCapacity(lines.count)
        for (id, line) in lines.enumerated() {
            vocabulary[Array(line.utf8)] = id
        }
        let lowercase = try settings.bool("do_lower_case") ?? true
        let normalizer = BertNormalizer(
            cleanText: true, handleChineseChars: try settings.bool("tokenize_chinese_chars") ?? true,
            stripAccents: try settings.bool("strip_accents"), lowercase: lowercase)
        let unknown = try settings.token("unk_token") ?? "[UNK]"
        let model = try WordPieceModel(vocabulary: vocabulary, unknownToken: unknown, file: path)
        var specials: [String: Int] = [:]
        for (key, fallback) in [
            ("unk_token", "[UNK]"), ("sep_token", "[SEP]"), ("pad_token", "[PAD]"),
            ("cls_token", "[CLS]"), ("mask_token", "[MASK]"),
        ] {
            let token = try settings.token(key) ?? fallback
            specials[token] = vocabulary[Array(token.utf8)]
        }
        func id(_ key: String, _ fallback: String) throws -> Int {
            let token = try settings.token(key) ?? fallback
            guard let id = specials[token] else {
                throw tokenizerError(
                    file: path, field: key,
                    "the token '\(token)' is not in the vocabulary; BERT needs it to mark the sequence")
            }
            return id
        }
        let template = SequenceTemplate(prefix: [try id("cls_token", "[CLS]")], suffix: [try id("sep_token", "[SEP]")])
        let added = specials.map { AddedToken(content: $0.key, id: $0.value) }
        self.init(
            addedTokens: AddedTokenMatcher(added, normalizer: normalizer), normalizer: normalizer,
            preTokenizer: .bert, model: .wordPiece(model), template: template)
    }

    /// GPT-2 from `vocab.json` + `merges.txt`: ByteLevel (`add_prefix_space` from the settings, default false),
    /// byte-level BPE, no special tokens added (a BOS first when `add_bos_token` is set). `<|endoftext|>` and
    /// the configured special tokens are matched in the text.
    /// - Throws: `CheckpointError` naming the file and line or field when either file is malformed.
    public init(
        gpt2Vocabulary vocabularyPath: String, merges mergesPath: String,
        settings: TokenizerSettings = TokenizerSettings()
    ) throws {
        let vocabulary = try TextTokenizers.vocabulary(
            from: try TokenizerFileReading.json(vocabularyPath),
            file: vocabularyPath, field: "vocab")
        var merges: [(String, String)] = []
        for (index, line) in try TokenizerFileReading.lines(mergesPath).enumerated() {
            if line.hasPrefix("#version") { continue }
            let parts = line.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw tokenizerError(
                    file: mergesPath, field: "line \(index + 1)",
                    "must hold two tokens separated by one space, found \"\(line.prefix(60))\"")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        // transformers' GPT2Converter gives the BPE model no unknown token: every byte is in the vocabulary.
        let model = try BytePairModel(vocabulary: vocabulary, merges: merges, unknownToken: nil, file: mergesPath)
        var added: [AddedToken] = []
        for key in ["unk_token", "bos_token", "eos_token", "pad_token"] {
            let token = try settings.token(key) ?? (key == "pad_token" ? nil : "<|endoftext|>")
            if let token, let id = vocabulary[Array(token.utf8)], !added.contains(where: { $0.content == token }) {
                added.append(AddedToken(content: token, id: id))
            }
        }
        var template = SequenceTemplate.noSpecialTokens
        if try settings.bool("add_bos_token") == true {
            let bos = try settings.token("bos_token") ?? "<|endoftext|>"
            guard let id = vocabulary[Array(bos.utf8)] else {
                throw tokenizerError(
                    file: vocabularyPath, field: "bos_token",
                    "the token '\(bos)' is not in the vocabulary but add_bos_token is set")
            }
            template = SequenceTemplate(prefix: [id])
        }
        self.init(
            addedTokens: AddedTokenMatcher(added, normalizer: nil), normalizer: nil,
            preTokenizer: .byteLevel(addPrefixSpace: try settings.bool("add_prefix_space") ?? false, useRegex: true),
            model: .bytePair(model), template: template)
    }
}
