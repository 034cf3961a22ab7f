// Added tokens (`[MASK]`, `<|endoftext|>`) are found in the text before normalisation, like `tokenizers`'
// AddedVocabulary: leftmost-longest matching (its Aho-Corasick `LeftmostLongest`), with the `single_word`,
// `lstrip` and `rstrip` options. Tokens marked `normalized` are matched afterwards, in the normalised text,
// against their own normalised form.

/// One token of tokenizer.json's `added_tokens`.
public struct AddedToken: Sendable, Equatable {
    public let content: String
    public let id: Int
    /// Only matches when not inside a word.
    public let singleWord: Bool
    /// Also swallows the whitespace on its left.
    public let leftStrip: Bool
    /// Also swallows the whitespace on its right.
    public let rightStrip: Bool
    /// Matched in the normalised text rather than the raw text.
    public let normalized: Bool

    public init(
        content: String, id: Int, singleWord: Bool = false, leftStrip: Bool = false,
        rightStrip: Bool = false, normalized: Bool = false
    ) {
        self.content = content
        self.id = id
        self.singleWord = singleWord
        self.leftStrip = leftStrip
        self.rightStrip = rightStrip
        self.normalized = normalized
    }
}

/// A piece of text after the added tokens were cut out.
public enum TextPiece: Sendable, Equatable {
    case text(String)
    case token(Int)
}

/// Finds added tokens in text.
public struct AddedTokenMatcher: Sendable {
    struct Pattern: Sendable {
        let bytes: [UInt8]
        let token: AddedToken
    }
    let raw: [Pattern]
    let normalizedPatterns: [Pattern]

    /// - Parameters:
    ///   - tokens: the added tokens; empty contents are ignored.
    ///   - normalizer: normalises the contents of tokens marked `normalized` (as `tokenizers` does).
    public init(_ tokens: [AddedToken], normalizer: BertNormalizer?) {
        var raw: [Pattern] = []
        var normalized: [Pattern] = []
        for token in tokens where !token.content.isEmpty {
            if token.normalized {
                let content = normalizer?.normalized(token.content) ?? token.content
                if !content.isEmpty { normalized.append(Pattern(bytes: Array(content.utf8), token: token)) }
            } else {
                raw.append(Pattern(bytes: Array(token.content.utf8), token: token))
            }
        }
        self.raw = raw
        self.normalizedPatterns = normalized
    }

    /// No added tokens.
    public static let empty = AddedTokenMatcher([], normalizer: nil)

    /// Splits `text` into added tokens and the text between them (empty text pieces are dropped).
    /// - Parameter normalizedTokens: match the tokens marked `normalized` instead of the others.
    public func split(_ text: String, normalizedTokens: Bool) -> [TextPiece] {
        let patterns = normalizedTokens ? normalizedPatterns : raw
        if patterns.isEmpty { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var pieces: [TextPiece] = []
        var pieceStart = 0
        var position = 0
        func flushText(upTo end: Int) {
            if end > pieceStart { pieces.append(.text(String(decoding: bytes[pieceStart..<end], as: UTF8.self))) }
        }
        while position < bytes.count {
            guard let match = longestMatch(patterns, in: bytes, at: position) else {
                position += 1
                continue
            }
            var start = position
            var stop = position + match.bytes.count
            if match.token.singleWord, !isWordBoundary(bytes, start: start, stop: stop) {
                position = stop  // a refused match is skipped whole, like Aho-Corasick's non-overlapping matches
                continue
            }
            if match.token.leftStrip {
                start = max(pieceStart, start - trailingWhitespaceCount(bytes[pieceStart..<start]))
            }
            if match.token.rightStrip { stop += leadingWhitespaceCount(bytes[stop...]) }
            flushText(upTo: start)
            pieces.append(.token(match.token.id))
            pieceStart = stop
            position = stop
        }
        flushText(upTo: bytes.count)
        return pieces
    }

    func longestMatch(_ patterns: [Pattern], in bytes: [UInt8], at position: Int) -> Pattern? {
        var best: Pattern?
        for pattern in patterns where pattern.bytes.count <= bytes.count - position {
            if pattern.bytes.count > (best?.bytes.count ?? 0),
                bytes[position..<position + pattern.bytes.count].elementsEqual(pattern.bytes)
            {
                best = pattern
            }
        }
        return best
    }

    /// `single_word`: the match must not continue a word on either side.
    func isWordBoundary(_ bytes: [UInt8], start: Int, stop: Int) -> Bool {
        var lead = start
        while lead > 0, start - lead < 4 {
            lead -= 1
            if bytes[lead] & 0xC0 != 0x80 { break }
        }
        let before = String(decoding: bytes[lead..<start], as: UTF8.self).unicodeScalars.last
        let after = String(decoding: bytes[stop..<min(bytes.count, stop + 4)], as: UTF8.self).unicodeScalars.first
        return !(before.map(Self.isWordCharacter) ?? false) && !(after.map(Self.isWordCharacter) ?? false)
    }

    /// The regex `\w` `tokenizers` checks with (Rust's regex crate, Unicode 16.0): alphabetic, marks, decimal
    /// digits, connector punctuation, joiners.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == "_" || UnicodeClasses.isLetter(scalar) || UnicodeClasses.isNumber(scalar) }
        let properties = scalar.properties
        guard UnicodeClasses.assigned(scalar, byMajorVersion: 16) else { return false }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return properties.isAlphabetic || properties.isJoinControl
        }
    }

    /// Bytes of whitespace (Rust's `char::is_whitespace`) that end `bytes`, scanning back one scalar at a time.
    func trailingWhitespaceCount(_ bytes: ArraySlice<UInt8>) -> Int {
        var end = bytes.endIndex
        while end > bytes.startIndex {
            var lead = end - 1
            while lead > bytes.startIndex, bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
            guard let scalar = String(decoding: bytes[lead..<end], as: UTF8.self).unicodeScalars.first,
                UnicodeClasses.isWhitespace(scalar)
            else { break }
            end = lead
        }
        return bytes.endIndex - end
    }

    /// Bytes of whitespace that start `bytes`, decoding only as far as the whitespace goes.
    func leadingWhitespaceCount(_ bytes: ArraySlice<UInt8>) -> Int {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var count = 0
        while case .scalarValue(let scalar) = decoder.decode(&iterator), UnicodeClasses.isWhitespace(scalar) {
            count += UTF8.width(scalar)
        }
        return count
    }
}
