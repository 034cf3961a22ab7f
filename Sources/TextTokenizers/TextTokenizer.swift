// The tokenizer protocol and the Hugging Face `tokenizers` pipeline that implements it.
//
// `tokenizers` encodes one text in five steps, and `PipelineTokenizer` mirrors each of them:
//   1. added tokens (`[MASK]`, `<|endoftext|>`) are cut out of the raw text first,
//   2. every remaining piece is normalised (BertNormalizer),
//   3. pre-tokenised into words (BertPreTokenizer, or ByteLevel with the GPT-2 regex),
//   4. each word is split by the model (WordPiece, or byte-level BPE),
//   5. the post-processor adds the special tokens around the sequence (`[CLS] … [SEP]`; nothing for GPT-2).
// Truncation and padding settings in tokenizer.json are not applied, like `tokenizer(text)` in transformers.

/// Turns text into token ids.
public protocol TextTokenizer: Sendable {
    /// The ids of `text`, with the special tokens `tokenizer(text)` adds in transformers (`[CLS] … [SEP]` for
    /// BERT, none for GPT-2), without truncation or padding.
    func encode(_ text: String) -> [Int]
}

/// The model that splits one pre-tokenised word into ids.
public enum TokenizerModel: Sendable {
    /// BERT's WordPiece.
    case wordPiece(WordPieceModel)
    /// GPT-2's byte-pair encoding.
    case bytePair(BytePairModel)

    func tokenize(_ word: String, into ids: inout [Int]) {
        switch self {
        case .wordPiece(let model): model.tokenize(word, into: &ids)
        case .bytePair(let model): model.tokenize(word, into: &ids)
        }
    }

    /// The vocabulary: token bytes to id.
    public var vocabulary: [TokenBytes: Int] {
        switch self {
        case .wordPiece(let model): return model.vocabulary
        case .bytePair(let model): return model.vocabulary
        }
    }
}

/// How normalised text is split into words before the model sees it.
public enum PreTokenizer: Sendable, Equatable {
    /// The whole piece is one word.
    case wholeText
    /// BERT: split on whitespace (dropped) and punctuation (kept as one-character words).
    case bert
    /// GPT-2: optional leading space, the GPT-2 regex, then bytes mapped to printable characters.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)

    func words(_ text: String) -> [String] {
        switch self {
        case .wholeText: return text.isEmpty ? [] : [text]
        case .bert: return BertPreTokenizer.words(text)
        case .byteLevel(let addPrefixSpace, let useRegex):
            return ByteLevelPreTokenizer.words(text, addPrefixSpace: addPrefixSpace, useRegex: useRegex)
        }
    }
}

/// A tokenizer built from tokenizer.json or from vocabulary files: the `tokenizers` pipeline.
public struct PipelineTokenizer: TextTokenizer {
    /// Tokens matched in the text before anything else.
    public let addedTokens: AddedTokenMatcher
    /// BERT's normaliser, or nil for none (GPT-2).
    public let normalizer: BertNormalizer?
    /// How normalised text becomes words.
    public let preTokenizer: PreTokenizer
    /// How a word becomes ids.
    public let model: TokenizerModel
    /// What the post-processor puts around one sequence.
    public let template: SequenceTemplate

    /// Assembles a pipeline from its parts; the loaders `init(tokenizerJSON:)`, `init(bertVocabulary:settings:)`
    /// and `init(gpt2Vocabulary:merges:settings:)` build it from files.
    public init(
        addedTokens: AddedTokenMatcher, normalizer: BertNormalizer?, preTokenizer: PreTokenizer,
        model: TokenizerModel, template: SequenceTemplate
    ) {
        self.addedTokens = addedTokens
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.template = template
    }

    /// The id of a token of the model's vocabulary (`[CLS]`, `<|endoftext|>`), or nil.
    public func id(of token: String) -> Int? { model.vocabulary[Array(token.utf8)] }

    /// The ids of `text` without the special tokens of the post-processor.
    public func encodeWithoutSpecialTokens(_ text: String) -> [Int] {
        var ids: [Int] = []
        for piece in addedTokens.split(text, normalizedTokens: false) {
            switch piece {
            case .token(let id): ids.append(id)
            case .text(let raw):
                let normalized = normalizer?.normalized(raw) ?? raw
                for inner in addedTokens.split(normalized, normalizedTokens: true) {
                    switch inner {
                    case .token(let id): ids.append(id)
                    case .text(let text):
                        for word in preTokenizer.words(text) { model.tokenize(word, into: &ids) }
                    }
                }
            }
        }
        return ids
    }

    /// The ids of `text` with the post-processor's special tokens.
    public func encode(_ text: String) -> [Int] {
        template.applied(to: encodeWithoutSpecialTokens(text))
    }
}

/// The special tokens the post-processor adds around a single sequence (TemplateProcessing's `single`).
public struct SequenceTemplate: Sendable, Equatable {
    /// Ids before the sequence (`[CLS]`).
    public let prefix: [Int]
    /// Ids after the sequence (`[SEP]`).
    public let suffix: [Int]

    public init(prefix: [Int] = [], suffix: [Int] = []) {
        self.prefix = prefix
        self.suffix = suffix
    }

    /// No special tokens (GPT-2's ByteLevel post-processor).
    public static let noSpecialTokens = SequenceTemplate()

    func applied(to ids: [Int]) -> [Int] { prefix + ids + suffix }
}
