// GPT-2's pre-tokeniser as `tokenizers`' ByteLevel implements it: an optional leading space, the GPT-2 regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (matches and gaps both kept), then every UTF-8 byte mapped to a printable character (bytes_to_unicode).
// Few regex engines have the look-ahead, so the regex is a hand-written scanner with the same first-alternative-
// wins semantics.

/// tokenizer.json's `ByteLevel` pre-tokenizer.
public enum ByteLevelPreTokenizer {
    /// GPT-2's `bytes_to_unicode`: printable bytes map to themselves, the other 68 to U+0100 onwards.
    public static let byteCharacters: [Unicode.Scalar] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for byte in printable { table[byte] = Unicode.Scalar(UInt8(byte)) }
        var next: UInt32 = 256
        for byte in 0..<256 where !printable.contains(byte) {
            table[byte] = Unicode.Scalar(next) ?? " "
            next += 1
            printable.append(byte)
        }
        return table
    }()

    /// The byte-mapped words of `text`.
    /// - Parameters:
    ///   - addPrefixSpace: prepend a space unless the text already starts with one.
    ///   - useRegex: split with the GPT-2 regex; otherwise the whole text is one word.
    public static func words(_ text: String, addPrefixSpace: Bool, useRegex: Bool) -> [String] {
        guard !text.isEmpty else { return [] }
        var scalars = Array(text.unicodeScalars)
        if addPrefixSpace, scalars.first != " " { scalars.insert(" ", at: 0) }
        let ranges = useRegex ? gpt2Pieces(scalars) : [0..<scalars.count]
        return ranges.map { range in
            var word = String.UnicodeScalarView()
            for scalar in scalars[range] {
                for byte in String(scalar).utf8 { word.append(byteCharacters[Int(byte)]) }
            }
            return String(word)
        }
    }

    /// The ranges the GPT-2 regex matches, in order; together they cover `scalars`.
    public static func gpt2Pieces(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var start = 0
        while start < scalars.count {
            let end = matchEnd(scalars, at: start)
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }

    /// Where the first matching alternative of the GPT-2 regex ends when matching at `i`.
    static func matchEnd(_ s: [Unicode.Scalar], at i: Int) -> Int {
        let n = s.count
        // 's 't 're 've 'm 'll 'd (case-sensitive, as in GPT-2)
        if s[i] == "'", i + 1 < n {
            switch s[i + 1] {
            case "s", "t", "m", "d": return i + 2
            case "r", "v", "l":
                let second: Unicode.Scalar = s[i + 1] == "l" ? "l" : "e"
                if i + 2 < n, s[i + 2] == second { return i + 3 }
            default: break
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a space only counts when the class follows it.
        let first = s[i] == " " && i + 1 < n ? i + 1 : i
        let classes: [(Unicode.Scalar) -> Bool] = [
            UnicodeClasses.isLetter, UnicodeClasses.isNumber,
            { !UnicodeClasses.isRegexWhitespace($0) && !UnicodeClasses.isLetter($0) && !UnicodeClasses.isNumber($0) },
        ]
        for inClass in classes where inClass(s[first]) {
            var end = first + 1
            while end < n, inClass(s[end]) { end += 1 }
            return end
        }
        // `\s+(?!\S)`: a whitespace run, minus its last character when a non-space follows; else `\s+`.
        var end = i + 1
        while end < n, UnicodeClasses.isRegexWhitespace(s[end]) { end += 1 }
        if end < n, end - i >= 2 { return end - 1 }
        return end
    }
}
