// A model's parameter tensors: float32 values that layers read through pointers and a trainer updates in place,
// named by the state-dict keys they were loaded under.

/// One parameter tensor of a model, or several stored back to back (BERT's query, key and value weights stacked
/// into one `[3C, C]` matrix for one GEMM): float32 values, row-major, and the state-dict keys they hold.
///
/// A value with copy-on-write storage, like an array: a model is a value, a trainer that owns it alone updates its
/// parameters in place (`withUnsafeMutableBufferPointer` copies nothing then), and a copy of the model taken before
/// keeps the old values. Layers read the values only through `withUnsafeBufferPointer`, so the storage can become
/// a view of a memory-mapped file (copied on the first write) without changing them.
public struct Parameter: Sendable {
    /// One state-dict tensor inside the parameter.
    public struct Part: Sendable, Equatable {
        /// The checkpoint key it was loaded under (`transformer.h.0.attn.c_attn.weight`).
        public let key: String
        public let shape: [Int]
        /// Where its values start in the parameter.
        public let offset: Int
        /// Its element count.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The tensors held, in storage order; one for every parameter but stacked ones.
    public let parts: [Part]
    private var storage: [Float]

    /// A parameter holding one tensor. A placeholder of a missing key (fewer values than `shape` holds) is allowed:
    /// `WeightStore.verifyAllConsumed` refuses the model before it is used.
    public init(_ values: [Float], key: String, shape: [Int]) {
        parts = [Part(key: key, shape: shape, offset: 0)]
        storage = values
    }

    /// The tensors of `parameters` stored back to back, in order (no copy when there is only one).
    public init(stacking parameters: [Parameter]) {
        var parts: [Part] = []
        var offset = 0
        for p in parameters {
            for part in p.parts {
                parts.append(Part(key: part.key, shape: part.shape, offset: offset + part.offset))
            }
            offset += p.count
        }
        self.parts = parts
        storage = parameters.count == 1 ? parameters[0].storage : Array(parameters.map(\.storage).joined())
    }

    /// The key of the first part; identifies the parameter (a `GradientStore` is keyed by it).
    public var key: String { parts[0].key }

    /// The number of values.
    public var count: Int { storage.count }

    /// The values (a copy-on-write array: nothing is copied until one of the two changes).
    public var values: [Float] { storage }

    /// The values of `part`.
    public func values(of part: Part) -> ArraySlice<Float> { storage[part.offset..<(part.offset + part.count)] }

    /// Calls `body` with the values; the pointer is valid only inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the values to change in place; they are copied first only when another copy of this
    /// parameter shares them. The pointer is valid only inside `body`.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R)
        rethrows -> R
    {
        try storage.withUnsafeMutableBufferPointer { try body($0) }
    }
}

/// A layer or model whose parameters can be listed and updated in place.
public protocol ParameterContainer {
    /// Calls `body` with every parameter in place, each once (a tied tensor under the name it was loaded under,
    /// once), in state-dict order.
    mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows
}

extension ParameterContainer {
    /// Every parameter, in state-dict order (copy-on-write values: nothing is copied).
    public var parameters: [Parameter] {
        var copy = self
        var list: [Parameter] = []
        copy.updateParameters { list.append($0) }
        return list
    }
}

/// Calls `body` with the parameter's values, or with nil when there is no parameter (an absent bias).
func withValues<R>(of parameter: Parameter?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
    guard let parameter else { return try body(nil) }
    return try parameter.withUnsafeBufferPointer { try body($0.baseAddress) }
}
