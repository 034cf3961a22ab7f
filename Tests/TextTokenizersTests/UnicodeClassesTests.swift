// Every code point against the classes `tokenizers` 0.22.2 reported for it (fixtures/tokenizers/unicode_classes.json).
import Checkpoints
import Foundation
import Testing
import TestSupport
@testable import TextTokenizers

/// unicode_classes.json: code point ranges per class, and the strings accent stripping and lowercasing give.
struct UnicodeClassFixture {
    let root: JSONValue
    let path = Fixtures.path("tokenizers/unicode_classes.json")

    init() throws { root = try Fixtures.bytes(path).withUnsafeBytes { try JSONValue.parse($0) } }

    /// A flag per code point, from `[[first, last], …]`.
    func flags(_ key: String) throws -> [Bool] {
        guard case .array(let ranges)? = root[key] else {
            throw CheckpointError(.corrupt, file: path, tensor: key, "missing")
        }
        var flags = [Bool](repeating: false, count: 0x110000)
        for range in ranges {
            guard case .array(let bounds) = range, bounds.count == 2, let first = bounds[0].integerValue,
                let last = bounds[1].integerValue, first <= last, last < flags.count
            else {
                throw CheckpointError(.corrupt, file: path, tensor: key, "bad range")
            }
            for value in first...last { flags[value] = true }
        }
        return flags
    }

    /// Code point → output, for the code points a normalisation step changes.
    func mapping(_ key: String) throws -> [UInt32: String] {
        guard case .array(let entries)? = root[key] else {
            throw CheckpointError(.corrupt, file: path, tensor: key, "missing")
        }
        var mapping: [UInt32: String] = [:]
        for entry in entries {
            guard case .array(let pair) = entry, pair.count == 2, let value = pair[0].integerValue,
                let text = pair[1].stringValue
            else {
                throw CheckpointError(.corrupt, file: path, tensor: key, "bad entry")
            }
            mapping[UInt32(value)] = text
        }
        return mapping
    }
}

/// Every Unicode scalar (surrogates excluded).
let allScalars: [Unicode.Scalar] = (UInt32(0)...0x10FFFF).compactMap(Unicode.Scalar.init)

/// The code points where `classify` disagrees with `expected`, as hex, at most `limit` of them.
func disagreements(_ expected: [Bool], _ classify: (Unicode.Scalar) -> Bool, limit: Int = 12) -> [String] {
    var found: [String] = []
    for scalar in allScalars where classify(scalar) != expected[Int(scalar.value)] {
        found.append("U+" + String(scalar.value, radix: 16, uppercase: true))
        if found.count == limit { break }
    }
    return found
}

@Suite("Unicode classes match tokenizers for every code point")
struct UnicodeClassesTests {
    let fixture: UnicodeClassFixture

    init() throws { fixture = try UnicodeClassFixture() }

    @Test("BertNormalizer's clean-up removes exactly the characters tokenizers removes")
    func bertRemoved() throws {
        #expect(disagreements(try fixture.flags("bert_removed"), UnicodeClasses.isRemovedByBertCleanUp) == [])
    }

    @Test("BertNormalizer's clean-up turns exactly tokenizers' whitespace into spaces")
    func bertWhitespace() throws {
        let expected = try fixture.flags("bert_whitespace")
        #expect(
            disagreements(expected) {
                UnicodeClasses.isBertWhitespace($0) && !UnicodeClasses.isRemovedByBertCleanUp($0)
            } == [])
    }

    @Test("BertPreTokenizer splits on exactly tokenizers' punctuation")
    func bertPunctuation() throws {
        let expected = try fixture.flags("bert_punctuation")
        #expect(
            disagreements(expected) { UnicodeClasses.isBertPunctuation($0) && !UnicodeClasses.isWhitespace($0) } == [])
    }

    @Test("the GPT-2 regex classes \\p{L}, \\p{N} and \\s are Oniguruma's")
    func regexClasses() throws {
        #expect(disagreements(try fixture.flags("regex_letter"), UnicodeClasses.isLetter) == [])
        #expect(disagreements(try fixture.flags("regex_number"), UnicodeClasses.isNumber) == [])
        #expect(disagreements(try fixture.flags("regex_whitespace"), UnicodeClasses.isRegexWhitespace) == [])
    }

    @Test("a single_word added token is refused next to exactly tokenizers' word characters (\\w)")
    func wordCharacters() throws {
        #expect(disagreements(try fixture.flags("added_token_word_character"), AddedTokenMatcher.isWordCharacter) == [])
    }

    /// Runs `normalizer` over every assigned scalar but NUL at once, NUL-separated (NUL is a starter, so NFD and
    /// per-character lowercasing see each scalar alone), and returns the scalars whose output is not `expected`.
    func mismatches(_ normalizer: BertNormalizer, expected: (Unicode.Scalar) -> String) -> [String] {
        let scalars = allScalars.filter { $0.value != 0 && $0.properties.age != nil }
        var batch = String.UnicodeScalarView()
        for scalar in scalars {
            batch.append(scalar)
            batch.append("\u{0}")
        }
        let outputs = normalizer.normalized(String(batch)).unicodeScalars.split(
            separator: "\u{0}", omittingEmptySubsequences: false)
        guard outputs.count == scalars.count + 1 else {
            return ["\(outputs.count - 1) outputs for \(scalars.count) scalars"]
        }
        var wrong: [String] = []
        for (scalar, output) in zip(scalars, outputs) where !output.elementsEqual(expected(scalar).unicodeScalars) {
            wrong.append("U+" + String(scalar.value, radix: 16, uppercase: true))
            if wrong.count == 12 { break }
        }
        return wrong
    }

    @Test("accent stripping (NFD, then Mn removed) gives tokenizers' output for every code point")
    func stripAccents() throws {
        let expected = try fixture.mapping("bert_strip_accents_except_hangul_syllables")
        // Unassigned code points are unchanged (checked below: tokenizers' list has none of them).
        #expect(expected.keys.allSatisfy { Unicode.Scalar($0)?.properties.age != nil })
        let normalizer = BertNormalizer(
            cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false)
        #expect(
            mismatches(normalizer) { scalar in
                guard (0xAC00...0xD7A3).contains(scalar.value) else { return expected[scalar.value] ?? String(scalar) }
                let index = scalar.value - 0xAC00  // Hangul syllables: the algorithmic decomposition (Unicode §3.12)
                let jamo =
                    [0x1100 + index / 588, 0x1161 + index % 588 / 28] + (index % 28 == 0 ? [] : [0x11A7 + index % 28])
                return String(String.UnicodeScalarView(jamo.compactMap(Unicode.Scalar.init)))
            } == [])
    }

    @Test("lowercasing gives tokenizers' output for every code point")
    func lowercase() throws {
        let expected = try fixture.mapping("bert_lowercase")
        #expect(expected.keys.allSatisfy { Unicode.Scalar($0)?.properties.age != nil })
        let normalizer = BertNormalizer(
            cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true)
        #expect(mismatches(normalizer) { expected[$0.value] ?? String($0) } == [])
    }
}
