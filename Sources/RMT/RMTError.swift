// The RMT layer's error: the setting or input concerned and a one-line message saying what to do.

/// A refused RMT configuration or input (docs/RMT.md §2.9): `m < 1`, `n + 2m > P`, an empty input, a labels shape
/// other than `[B, T]`, an empty counted set, …
public struct RMTError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The setting, flag or input named in the message (`segment_size`, `labels`, …).
    public let field: String
    public let message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
