// WordPiece as in `tokenizers` (models/wordpiece): greedy longest-match-first over the characters of one word,
// continuation pieces prefixed with `##`; a word longer than `max_input_chars_per_word` characters, or one
// with any part not in the vocabulary, becomes the single unknown token.

/// Token vocabularies are keyed by UTF-8 bytes, not `String`: Swift compares strings by canonical equivalence,
/// so "é" would find "e\u{301}" (and a Hangul syllable its jamo), while `tokenizers` compares bytes.
public typealias TokenBytes = [UInt8]

/// The WordPiece model of BERT tokenizers.
public struct WordPieceModel: Sendable {
    /// Token (UTF-8 bytes) to id.
    public let vocabulary: [TokenBytes: Int]
    /// The id of `unk_token`.
    public let unknownId: Int
    /// Put before every piece that does not start a word (`##`).
    public let continuingSubwordPrefix: String
    /// Longer words (in Unicode scalars, Rust's `char`s) become the unknown token.
    public let maxInputCharsPerWord: Int
    /// The longest vocabulary entry in bytes: no candidate can be longer.
    let longestToken: Int

    /// - Throws: `TokenizerError` when the unknown token is not in the vocabulary.
    public init(
        vocabulary: [TokenBytes: Int], unknownToken: String, continuingSubwordPrefix: String = "##",
        maxInputCharsPerWord: Int = 100, file: String
    ) throws {
        guard let unknownId = vocabulary[Array(unknownToken.utf8)] else {
            throw tokenizerError(
                file: file, field: "unk_token",
                "the unknown token '\(unknownToken)' is not in the vocabulary; add it or name another unk_token")
        }
        self.vocabulary = vocabulary
        self.unknownId = unknownId
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.longestToken = vocabulary.keys.reduce(0) { max($0, $1.count) }
    }

    /// Appends the ids of one pre-tokenised word.
    public func tokenize(_ word: String, into ids: inout [Int]) {
        let bytes = Array(word.utf8)
        // Byte offsets of scalar boundaries: candidates end only there.
        var boundaries: [Int] = []
        boundaries.reserveCapacity(bytes.count + 1)
        for (offset, byte) in bytes.enumerated() where byte & 0xC0 != 0x80 { boundaries.append(offset) }
        guard boundaries.count <= maxInputCharsPerWord else {
            ids.append(unknownId)
            return
        }
        boundaries.append(bytes.count)
        let prefix = Array(continuingSubwordPrefix.utf8)
        var pieces: [Int] = []
        var startIndex = 0
        while startIndex < boundaries.count - 1 {
            let start = boundaries[startIndex]
            let head = start > 0 ? prefix : []
            var endIndex = boundaries.count - 1
            var found: Int?
            while endIndex > startIndex {
                let end = boundaries[endIndex]
                if head.count + end - start <= longestToken, let id = vocabulary[head + bytes[start..<end]] {
                    found = id
                    break
                }
                endIndex -= 1
            }
            guard let id = found else {
                ids.append(unknownId)
                return
            }
            pieces.append(id)
            startIndex = endIndex
        }
        ids.append(contentsOf: pieces)
    }
}
