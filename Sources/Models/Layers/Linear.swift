// Dense layers in the two weight layouts of Hugging Face checkpoints.

/// `y = x·Wᵀ + b` (`nn.Linear`, weight `[out, in]`) or `y = x·W + b` (GPT-2 `Conv1D`, weight `[in, out]`).
public struct Linear: Sendable {
    public enum Layout: Sendable { case outIn, inOut }
    public let weight: [Float]
    public let bias: [Float]?
    public let inputs: Int
    public let outputs: Int
    public let layout: Layout

    /// Reads `weight` (and `bias` unless `bias` is false) under `scope`.
    public init(_ scope: ParameterScope, inputs: Int, outputs: Int, layout: Layout = .outIn, bias: Bool = true) throws {
        weight = try scope.tensor("weight", shape: layout == .outIn ? [outputs, inputs] : [inputs, outputs])
        self.bias = bias ? try scope.tensor("bias", shape: [outputs]) : nil
        self.inputs = inputs
        self.outputs = outputs
        self.layout = layout
    }

    /// A layer from values already read, e.g. BERT's query, key and value weights stacked into one `[3C, C]`.
    public init(weight: [Float], bias: [Float]?, inputs: Int, outputs: Int, layout: Layout) {
        self.weight = weight
        self.bias = bias
        self.inputs = inputs
        self.outputs = outputs
        self.layout = layout
    }

    /// `[rows, in] → [rows, out]`, then `activation` (fused with the bias).
    public func callAsFunction(_ x: [Float], rows: Int, activation: ActivationFunction = .linear) -> [Float] {
        Kernels.affine(
            x, rows: rows, inputs: inputs, weight: weight, bias: bias, outputs: outputs,
            weightIsOutIn: layout == .outIn, activation: activation)
    }
}

/// `nn.LayerNorm` over the last dimension.
public struct LayerNorm: Sendable {
    public let weight: [Float]
    public let bias: [Float]
    public let epsilon: Float

    public init(_ scope: ParameterScope, size: Int, epsilon: Float) throws {
        weight = try scope.tensor("weight", shape: [size])
        bias = try scope.tensor("bias", shape: [size])
        self.epsilon = epsilon
    }

    /// Normalises every row of `[rows, size]` in place.
    public func apply(_ x: inout [Float]) {
        Kernels.layerNorm(&x, columns: weight.count, weight: weight, bias: bias, epsilon: epsilon)
    }

    /// The normalised copy of `x`.
    public func callAsFunction(_ x: [Float]) -> [Float] {
        var y = x
        apply(&y)
        return y
    }
}

/// `nn.Embedding`: a `[count, size]` table looked up by index.
public struct Embedding: Sendable {
    /// `[count, size]`, row-major.
    public let table: [Float]
    public let count: Int
    public let size: Int

    public init(_ scope: ParameterScope, count: Int, size: Int) throws {
        table = try scope.tensor("weight", shape: [count, size])
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
}
