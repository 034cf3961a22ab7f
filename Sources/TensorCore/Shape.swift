// Shapes and overflow-checked size arithmetic.

/// An error in size arithmetic: a product of dimensions or a byte count that does not fit in `Int`.
public struct SizeOverflow: Error, CustomStringConvertible, Sendable {
    public let shape: [Int]
    public var description: String { "overflow computing the size of shape \(shape)" }
}

/// The dimensions of a row-major tensor. Rank 0 (a scalar) has one element; a zero dimension, none.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dimensions: [Int]

    public init(_ dimensions: [Int]) { self.dimensions = dimensions }
    public init(arrayLiteral elements: Int...) { self.dimensions = elements }

    public var rank: Int { dimensions.count }
    public subscript(i: Int) -> Int { dimensions[i] }

    /// The number of elements, or `nil` when a dimension is negative or the product overflows.
    public var checkedElementCount: Int? {
        var n = 1
        for d in dimensions {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// The number of elements. Shapes are validated on construction by every reader, so this cannot overflow
    /// for a tensor that exists; use `checkedElementCount` for untrusted shapes.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// The byte count for elements of `dtype`, or `nil` on overflow.
    public func checkedByteCount(_ dtype: DType) -> Int? {
        guard let n = checkedElementCount else { return nil }
        let (b, o) = n.multipliedReportingOverflow(by: dtype.itemSize)
        return o ? nil : b
    }

    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }
}
