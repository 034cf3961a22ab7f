// Dense layers in the two weight layouts of Hugging Face checkpoints, LayerNorm and embeddings. Each forward is the
// one inference and training share; the backward passes are in Linear+Backward.swift.

/// `y = x·Wᵀ + b` (`nn.Linear`, weight `[out, in]`) or `y = x·W + b` (GPT-2 `Conv1D`, weight `[in, out]`).
public struct Linear: Sendable, ParameterContainer {
    public enum Layout: Sendable { case outIn, inOut }
    public private(set) var weight: Parameter
    public private(set) var bias: Parameter?
    public let inputs: Int
    public let outputs: Int
    public let layout: Layout

    /// Reads `weight` (and `bias` unless `bias` is false) under `scope`.
    public init(_ scope: ParameterScope, inputs: Int, outputs: Int, layout: Layout = .outIn, bias: Bool = true) throws {
        weight = try scope.parameter("weight", shape: layout == .outIn ? [outputs, inputs] : [inputs, outputs])
        self.bias = bias ? try scope.parameter("bias", shape: [outputs]) : nil
        self.inputs = inputs
        self.outputs = outputs
        self.layout = layout
    }

    /// A layer from parameters already read, e.g. BERT's query, key and value weights stacked into one `[3C, C]`.
    public init(weight: Parameter, bias: Parameter?, inputs: Int, outputs: Int, layout: Layout) {
        self.weight = weight
        self.bias = bias
        self.inputs = inputs
        self.outputs = outputs
        self.layout = layout
    }

    /// `[rows, in] → [rows, out]`, then `activation` (fused with the bias).
    public func callAsFunction(_ x: [Float], rows: Int, activation: ActivationFunction = .linear) -> [Float] {
        forward(x, rows: rows, activation: activation, keepingPreActivation: false).output
    }

    /// `act(x·W + b)`: `[rows, in] → [rows, out]`. With `keepingPreActivation` (training) it also returns
    /// `u = x·W + b`, which `backward` needs for a non-linear activation; the bias and the activation then run in
    /// two passes instead of one, with the same result bit for bit.
    public func forward(_ x: [Float], rows: Int, activation: ActivationFunction, keepingPreActivation: Bool) -> (
        output: [Float], preActivation: [Float]?
    ) {
        let fused = !keepingPreActivation || activation == .linear
        let u = weight.withUnsafeBufferPointer { w in
            withValues(of: bias) { b in
                Kernels.affine(
                    x, rows: rows, inputs: inputs, weight: w.baseAddress!, bias: b, outputs: outputs,
                    weightIsOutIn: layout == .outIn, activation: fused ? activation : .linear)
            }
        }
        guard !fused else { return (u, nil) }
        let y = [Float](unsafeUninitializedCapacity: u.count) { py, initialized in  // [rows, out]
            Kernels.activate(u, count: u.count, activation: activation, output: py.baseAddress!)
            initialized = u.count
        }
        return (y, u)
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&weight)
        if bias != nil { try body(&bias!) }
    }
}

/// `nn.LayerNorm` over the last dimension.
public struct LayerNorm: Sendable, ParameterContainer {
    public private(set) var weight: Parameter
    public private(set) var bias: Parameter
    public let epsilon: Float

    public init(_ scope: ParameterScope, size: Int, epsilon: Float) throws {
        weight = try scope.parameter("weight", shape: [size])
        bias = try scope.parameter("bias", shape: [size])
        self.epsilon = epsilon
    }

    /// The normalised size.
    public var size: Int { weight.count }

    /// Normalises every row of `[rows, size]` in place.
    public func apply(_ x: inout [Float]) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                Kernels.layerNorm(&x, columns: size, weight: w.baseAddress!, bias: b.baseAddress!, epsilon: epsilon)
            }
        }
    }

    /// The normalised copy of `x`.
    public func callAsFunction(_ x: [Float]) -> [Float] { forward(x).output }

    /// The normalised copy of `x` `[rows, size]` and each row's mean and 1/std `[rows]`, which `backward` needs
    /// (with `x`); the output is the same bit for bit as `apply`'s.
    public func forward(_ x: [Float]) -> (output: [Float], statistics: LayerNormStatistics) {
        let (n, rows) = (size, x.count / max(1, size))
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        let y = [Float](unsafeUninitializedCapacity: x.count) { py, initialized in  // [rows, n]
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    Kernels.layerNorm(
                        x, rows: rows, columns: n, weight: w.baseAddress!, bias: b.baseAddress!, epsilon: epsilon,
                        output: py.baseAddress!, mean: &mean, rstd: &rstd)
                }
            }
            initialized = x.count
        }
        return (y, LayerNormStatistics(mean: mean, rstd: rstd))
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&weight)
        try body(&bias)
    }
}

/// Each row's mean and `1/√(var + eps)` from a LayerNorm forward: `[rows]` each.
public struct LayerNormStatistics: Sendable {
    public let mean: [Float]
    public let rstd: [Float]
}

/// `nn.Embedding`: a `[count, size]` table looked up by index.
public struct Embedding: Sendable, ParameterContainer {
    /// `[count, size]`, row-major.
    public private(set) var table: Parameter
    public let count: Int
    public let size: Int

    public init(_ scope: ParameterScope, count: Int, size: Int) throws {
        table = try scope.parameter("weight", shape: [count, size])
        self.count = count
        self.size = size
    }

    /// Adds row `ids[r]` of the table to row r of `x` (`[ids.count, size]`), or writes it when `x` is empty.
    /// - Parameter what: the input's name (`input_ids`, `position_ids`), for the error.
    /// - Throws: `ModelError(.input)` for an index outside `0..<count`, naming it and its position.
    public func gather(_ ids: [Int], adding x: inout [Float], what: String) throws {
        if x.isEmpty { x = [Float](repeating: 0, count: ids.count * size) }
        for (r, id) in ids.enumerated() {
            guard id >= 0, id < count else {
                throw ModelError(
                    .input, file: what,
                    "value \(id) at position \(r) is outside the table of \(count) rows; check that the ids belong to this model's vocabulary"
                )
            }
            let base = id * size, out = r * size
            table.withUnsafeBufferPointer { t in
                for j in 0..<size { x[out + j] += t[base + j] }
            }
        }
    }

    /// Rows `ids` of the table: `[ids.count, size]`.
    public func callAsFunction(_ ids: [Int], what: String = "input_ids") throws -> [Float] {
        var x: [Float] = []
        try gather(ids, adding: &x, what: what)
        return x
    }

    public mutating func updateParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&table)
    }
}
