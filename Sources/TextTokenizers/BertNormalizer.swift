// BERT's normaliser and pre-tokeniser, as `tokenizers` implements them (normalizers/bert.rs,
// pre_tokenizers/bert.rs). The character classes come from UnicodeClasses.swift.
import Foundation

/// tokenizer.json's `BertNormalizer`: clean-up, CJK spacing, accent stripping and lowercasing, in that order.
public struct BertNormalizer: Sendable, Equatable {
    /// Drop NUL, U+FFFD and control/format characters; turn every whitespace character into a space.
    public let cleanText: Bool
    /// Put spaces around CJK ideographs so each becomes its own word.
    public let handleChineseChars: Bool
    /// NFD, then drop nonspacing marks (Mn).
    public let stripAccents: Bool
    /// Per-character full lowercase mapping.
    public let lowercase: Bool

    /// - Parameter stripAccents: nil follows `lowercase`, as in `tokenizers`.
    public init(
        cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true
    ) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    /// The normalised form of `text`.
    public func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if cleanText {
                if UnicodeClasses.isRemovedByBertCleanUp(scalar) { continue }
                if UnicodeClasses.isBertWhitespace(scalar) { scalars.append(" "); continue }
            }
            if handleChineseChars, UnicodeClasses.isCJKIdeograph(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
                continue
            }
            scalars.append(scalar)
        }
        var result = String(scalars)
        if stripAccents {
            let decomposed = Self.canonicalDecomposition(result)
            result = String(
                String.UnicodeScalarView(decomposed.unicodeScalars.filter { !UnicodeClasses.isNonspacingMark($0) }))
        }
        if lowercase {
            var lowered = ""
            lowered.reserveCapacity(result.utf8.count)
            for scalar in result.unicodeScalars {
                if scalar.isASCII {
                    lowered.unicodeScalars.append(
                        (65...90).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value) + 32) : scalar)
                } else {
                    lowered += scalar.properties.lowercaseMapping
                }
            }
            result = lowered
        }
        return result
    }

    /// NFD as `tokenizers` computes it: scalars whose decomposition its tables lack stay whole. They are
    /// starters (canonical combining class 0), so decomposing the text between them separately is exact.
    static func canonicalDecomposition(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        let unknown = UnicodeClasses.decompositionsUnknownToTokenizers
        guard text.unicodeScalars.contains(where: { unknown.contains($0) }) else {
            return text.decomposedStringWithCanonicalMapping
        }
        var result = ""
        var run = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if unknown.contains(scalar) {
                result += String(run).decomposedStringWithCanonicalMapping
                result.unicodeScalars.append(scalar)
                run = String.UnicodeScalarView()
            } else {
                run.append(scalar)
            }
        }
        return result + String(run).decomposedStringWithCanonicalMapping
    }
}

/// tokenizer.json's `BertPreTokenizer`: words split on whitespace (removed) and punctuation (each punctuation
/// character is a word of its own).
public enum BertPreTokenizer {
    /// The words of already normalised text.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
        }
        for scalar in text.unicodeScalars {
            if UnicodeClasses.isWhitespace(scalar) {
                flush()
            } else if UnicodeClasses.isBertPunctuation(scalar) {
                flush()
                words.append(String(scalar))
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }
}
