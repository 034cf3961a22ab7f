// The character classes `tokenizers` 0.22.2 uses, rebuilt from Swift's Unicode 17 properties.
//
// `tokenizers` takes its categories from three places with three Unicode versions:
// - BertNormalizer and BertPreTokenizer: the `unicode_categories` crate, whose tables are Unicode 8.0. A
//   character assigned later is not a control, format, punctuation or nonspacing-mark character there, and a
//   few characters had another category in 8.0 (listed below).
// - Whitespace and lowercasing: Rust's standard library (current Unicode; matches Swift's exactly).
// - The GPT-2 regex: Oniguruma's \s, \p{L}, \p{N}, Unicode 16.0.
// The test suite checks every code point against these classes as `tokenizers` reports them
// (fixtures/tokenizers/unicode_classes.json), so any drift shows up there.

enum UnicodeClasses {
    static func assigned(_ scalar: Unicode.Scalar, byMajorVersion major: Int) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major <= major
    }

    // MARK: - BERT (Unicode 8.0 categories)

    /// BertNormalizer's clean-up removes NUL, U+FFFD and `is_control` characters (Cc, Cf, Co except tab, LF, CR).
    static func isRemovedByBertCleanUp(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0, 0xFFFD: return true
        case 0x09, 0x0A, 0x0D: return false
        case 0x01..<0x20, 0x7F: return true
        case 0x20..<0x7F: return false
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .privateUse: return assigned(scalar, byMajorVersion: 8)
            default: return false
            }
        }
    }

    /// BertNormalizer's clean-up turns these into a space (tab, LF, CR and Rust's `char::is_whitespace`).
    static func isBertWhitespace(_ scalar: Unicode.Scalar) -> Bool { isWhitespace(scalar) }

    /// Rust's `char::is_whitespace`: the White_Space property.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value == 0x20 || (scalar.value >= 0x09 && scalar.value <= 0x0D) }
        return scalar.properties.isWhitespace
    }

    /// BertPreTokenizer's `is_bert_punc`: ASCII punctuation (33–47, 58–64, 91–96, 123–126) or Unicode P*.
    static func isBertPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 33...47, 58...64, 91...96, 123...126: return true
        case 0..<128: return false
        case 0x166D, 0x111C9: return true  // Po in Unicode 8.0 (now So and Mn)
        default:
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation:
                return assigned(scalar, byMajorVersion: 8)
            default: return false
            }
        }
    }

    /// Accent stripping drops these after NFD: nonspacing marks (Mn) of Unicode 8.0.
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x300: return false
        case 0x1734, 0x1171E: return true  // Mn in Unicode 8.0 (now Mc)
        case 0x1885, 0x1886, 0xA9BD, 0x111C9: return false  // not Mn in Unicode 8.0
        default: return scalar.properties.generalCategory == .nonspacingMark && assigned(scalar, byMajorVersion: 8)
        }
    }

    /// Scalars whose canonical decomposition is newer than the tables of the `unicode-normalization` crate
    /// `tokenizers` uses: its NFD leaves them whole.
    static let decompositionsUnknownToTokenizers: Set<Unicode.Scalar> = ["\u{11938}"]

    /// BertNormalizer's `is_chinese_char`: the CJK ideograph blocks.
    static func isCJKIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    // MARK: - GPT-2 regex (Oniguruma, Unicode 16.0)

    /// `\p{L}`.
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return (scalar.value | 0x20) >= 0x61 && (scalar.value | 0x20) <= 0x7A }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return assigned(scalar, byMajorVersion: 16)
        default: return false
        }
    }

    /// `\p{N}`.
    static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value >= 0x30 && scalar.value <= 0x39 }
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return assigned(scalar, byMajorVersion: 16)
        default: return false
        }
    }

    /// `\s`: the White_Space property.
    static func isRegexWhitespace(_ scalar: Unicode.Scalar) -> Bool { isWhitespace(scalar) }
}
