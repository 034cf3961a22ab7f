// Cutting a sequence into segments (docs/RMT.md §2.3): left, right and center alignment.

/// Where the short segment goes when a length is not a multiple of the segment size.
public enum SegmentAlignment: String, Codable, Sendable, CaseIterable {
    /// `0, n, 2n, …`: the last segment is short (the decoder's default).
    case left
    /// `T, T−n, …` read ascending: the first segment is short (the encoder's default).
    case right
    /// `k = ⌈T/n⌉` segments of `c = ⌈T/k⌉`, the last one taking the remainder.
    case center
}

/// Splits lengths into segments exactly as the reference RMT does.
public enum Segmenter {
    /// The half-open ranges of a sequence of length `length` cut into segments of at most `segmentSize`.
    ///
    /// Examples (`T`, `n` → left / right / center): 10, 4 → 4 4 2 / 2 4 4 / 4 4 2; 9, 4 → 4 4 1 / 1 4 4 / 3 3 3.
    /// - Returns: an empty array for `length == 0` (callers refuse empty inputs with their own error).
    /// - Complexity: O(T / n).
    public static func ranges(length: Int, segmentSize n: Int, alignment: SegmentAlignment) -> [Range<Int>] {
        guard length > 0, n > 0 else { return [] }
        var bounds: [Int]
        switch alignment {
        case .left:
            bounds = Array(stride(from: 0, to: length, by: n)) + [length]
        case .right:
            bounds = [length]
            var b = length - n
            while b > 0 { bounds.append(b); b -= n }
            bounds.append(0)
            bounds.reverse()
        case .center:
            let k = (length + n - 1) / n
            let c = (length + k - 1) / k
            bounds = (0..<k).map { $0 * c } + [length]
        }
        return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
    }
}
