// Names compared by their bytes, as the official readers compare them (issue 18, item 7).

/// A string compared and hashed by its UTF-8 bytes.
///
/// Swift's `String ==` (and so `Set<String>` and `[String: …]`) treats canonically equivalent strings as equal:
/// `é` (U+00E9) and `e` + U+0301 are one key. safetensors, numpy, torch, h5py and `tokenizers` compare bytes and
/// keep both, so names, vocabulary entries and config keys are keyed by `UTF8Key` wherever duplicates are
/// detected or names looked up. Ordered by bytes too, as this project's writers sort names.
public struct UTF8Key: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let string: String

    public init(_ string: String) { self.string = string }
    public init(stringLiteral value: String) { string = value }

    public static func == (a: UTF8Key, b: UTF8Key) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }

    public static func < (a: UTF8Key, b: UTF8Key) -> Bool {
        a.string.utf8.lexicographicallyPrecedes(b.string.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(string.utf8.count)
    }

    public var description: String { string }
}
