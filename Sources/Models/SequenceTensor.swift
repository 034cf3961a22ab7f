// The value the model graph computes on: a batch of sequences of vectors, `[B, T, W]`, with the slices the
// reference writes in PyTorch (`h[:, a:b]`, `h[:, -m:]`, `h[idx]`, `torch.cat([...], dim=1)`) as methods, so graph
// code reads like the reference instead of index arithmetic. Kernels take the contiguous `values`.
//
// B batch (sequences), T positions, W width (hidden size, vocabulary, 1 for ids and masks).

/// A row-major `[B, T, W]` array: B sequences of T positions, each a vector of W elements. `[B, T]` ids and masks
/// are width 1.
///
/// Storage is one contiguous array (copy-on-write): `sequence(_:)` and `subscript(b, t)` are zero-copy
/// `ArraySlice` views valid while the value lives; `positions(_:)` of the whole range returns `self` without a
/// copy; other slices and concatenations copy once into a new contiguous value, the layout the kernels need.
/// Shape mismatches between values built by the graph are programming errors (checked by preconditions); inputs
/// are checked once, by the throwing initialiser.
public struct SequenceTensor<Element: Sendable>: Sendable {
    /// `B·T·W` elements, row-major. Mutate in place only without changing the count.
    public var values: [Element]
    /// B.
    public let batch: Int
    /// T.
    public let length: Int
    /// W.
    public let width: Int

    /// Wraps `values`, whose count must be `batch·length·width`.
    /// - Parameter name: the input's name for the error (`input_ids`, `inputs_embeds`).
    /// - Throws: `ModelError(.input)` when the count disagrees.
    public init(_ values: [Element], batch: Int, length: Int, width: Int = 1, name: String = "values") throws {
        guard batch >= 0, length >= 0, width >= 0, values.count == batch * length * width else {
            throw ModelError(
                .input, file: name, "\(values.count) values do not fill [\(batch), \(length), \(width)]")
        }
        self.init(unchecked: values, batch: batch, length: length, width: width)
    }

    /// Wraps `values` known to have `batch·length·width` elements.
    public init(unchecked values: [Element], batch: Int, length: Int, width: Int = 1) {
        precondition(values.count == batch * length * width, "values do not fill the shape")
        self.values = values
        self.batch = batch
        self.length = length
        self.width = width
    }

    /// `value` everywhere.
    public init(repeating value: Element, batch: Int, length: Int, width: Int = 1) {
        self.init(
            unchecked: [Element](repeating: value, count: batch * length * width), batch: batch, length: length,
            width: width)
    }

    /// `[B, T]` (width 1) from one row per sequence, all of length T.
    public init(rows: [[Element]]) {
        let length = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == length }, "rows of different lengths")
        self.init(unchecked: Array(rows.joined()), batch: rows.count, length: length)
    }

    /// B·T, the row count of the `[B·T, W]` view the GEMMs use.
    public var rows: Int { batch * length }

    /// `[B, T, W]`.
    public var shape: [Int] { [batch, length, width] }

    /// The vector at sequence `b`, position `t`: `[W]`, zero-copy.
    public subscript(b: Int, t: Int) -> ArraySlice<Element> {
        let start = (b * length + t) * width
        return values[start..<start + width]
    }

    /// Sequence `b`: `[T, W]` row-major, zero-copy.
    public func sequence(_ b: Int) -> ArraySlice<Element> {
        values[(b * length * width)..<((b + 1) * length * width)]
    }

    /// The sequences `indices`, in that order (`x[idx]`): `[|idx|, T, W]`.
    public func sequences(_ indices: [Int]) -> SequenceTensor {
        if indices.count == batch, indices.elementsEqual(0..<batch) { return self }
        var out: [Element] = []
        out.reserveCapacity(indices.count * length * width)
        for b in indices { out += sequence(b) }
        return SequenceTensor(unchecked: out, batch: indices.count, length: length, width: width)
    }

    /// Positions `range` of every sequence (`x[:, a:b]`): `[B, |range|, W]`; `self` when the range is all of T.
    public func positions(_ range: Range<Int>) -> SequenceTensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "positions \(range) outside 0..<\(length)")
        if range == 0..<length { return self }
        var out: [Element] = []
        out.reserveCapacity(batch * range.count * width)
        for b in 0..<batch {
            out += values[((b * length + range.lowerBound) * width)..<((b * length + range.upperBound) * width)]
        }
        return SequenceTensor(unchecked: out, batch: batch, length: range.count, width: width)
    }

    /// The last `n` positions of every sequence (`x[:, -n:]`).
    public func lastPositions(_ n: Int) -> SequenceTensor { positions((length - n)..<length) }

    /// `parts` joined along the positions (`torch.cat(parts, dim=1)`); every part has this batch and width.
    public static func concatenated(_ parts: [SequenceTensor]) -> SequenceTensor {
        guard let first = parts.first else { preconditionFailure("nothing to concatenate") }
        let (B, W) = (first.batch, first.width)
        precondition(parts.allSatisfy { $0.batch == B && $0.width == W }, "parts differ in batch or width")
        let T = parts.reduce(0) { $0 + $1.length }
        var out: [Element] = []
        out.reserveCapacity(B * T * W)
        for b in 0..<B {
            for part in parts { out += part.sequence(b) }
        }
        return SequenceTensor(unchecked: out, batch: B, length: T, width: W)
    }

    /// `parts` joined along the batch (`torch.cat(parts, dim=0)`); every part has this length and width.
    public static func stacked(_ parts: [SequenceTensor]) -> SequenceTensor {
        guard let first = parts.first else { preconditionFailure("nothing to stack") }
        precondition(parts.allSatisfy { $0.length == first.length && $0.width == first.width }, "parts differ")
        return SequenceTensor(
            unchecked: Array(parts.map(\.values).joined()), batch: parts.reduce(0) { $0 + $1.batch },
            length: first.length, width: first.width)
    }

    /// Writes `x` `[B, |range|, W]` into positions `range` (`self[:, a:b] = x`).
    public mutating func replacePositions(_ range: Range<Int>, with x: SequenceTensor) {
        precondition(x.batch == batch && x.length == range.count && x.width == width, "shape mismatch")
        for b in 0..<batch {
            values.replaceSubrange(
                ((b * length + range.lowerBound) * width)..<((b * length + range.upperBound) * width),
                with: x.sequence(b))
        }
    }

    /// Writes the sequences of `x` `[|idx|, T, W]` into sequences `indices` (`self[idx] = x`).
    public mutating func replaceSequences(_ indices: [Int], with x: SequenceTensor) {
        precondition(x.batch == indices.count && x.length == length && x.width == width, "shape mismatch")
        for (i, b) in indices.enumerated() {
            values.replaceSubrange((b * length * width)..<((b + 1) * length * width), with: x.sequence(i))
        }
    }

    /// A `[1, T, W]` value repeated over a batch (`x.expand(B, -1, -1)`): `[B, T, W]`.
    public func repeated(batch count: Int) -> SequenceTensor {
        precondition(batch == 1, "only a batch of one repeats")
        return SequenceTensor(
            unchecked: Array([[Element]](repeating: values, count: count).joined()), batch: count, length: length,
            width: width)
    }

    /// The same shape with `transform` applied to every element.
    public func map<T>(_ transform: (Element) throws -> T) rethrows -> SequenceTensor<T> {
        SequenceTensor<T>(unchecked: try values.map(transform), batch: batch, length: length, width: width)
    }
}

extension SequenceTensor: Equatable where Element: Equatable {}
