// The backward passes of the layers of Linear.swift and of packed self-attention, over the Kernels/Backward
// kernels: each takes what its forward kept and the gradient of its output, accumulates its parameters' gradients
// into a `GradientStore` (nothing for a frozen parameter) and returns the gradient of its input.

extension Linear {
    /// The backward of `forward(_:rows:activation:keepingPreActivation:)`: from `dy = ∂L/∂y` `[rows, out]` (the
    /// gradient after the activation), accumulates `dW` and `db` when they train and returns `dx` `[rows, in]`.
    /// - Parameters:
    ///   - x: the forward's input `[rows, in]`; read only when the weight trains (nil is fine otherwise).
    ///   - u: the pre-activation the forward kept (non-linear activations only).
    public func backward(
        input x: [Float]?, outputGradient dy: [Float], rows m: Int, activation: ActivationFunction = .linear,
        preActivation u: [Float]? = nil, gradients: GradientStore
    ) -> [Float] {
        let dw = gradients[weight], db = bias.flatMap { gradients[$0] }
        var du: [Float] = []
        if activation != .linear {
            // du = dy·act′(u), db += Σ_rows du
            du = [Float](unsafeUninitializedCapacity: dy.count) { p, initialized in
                Kernels.activationBackward(
                    preActivation: u!, outputGradient: dy, rows: m, columns: outputs, activation: activation,
                    preActivationGradient: p.baseAddress!, biasGradient: db?.pointer)
                initialized = dy.count
            }
        } else if let db {
            Kernels.addColumnSums(dy, rows: m, columns: outputs, into: db.pointer)
        }
        let gradient = activation == .linear ? dy : du  // [rows, out]
        return [Float](unsafeUninitializedCapacity: m * inputs) { dx, initialized in  // [rows, in]
            let input = dw == nil ? [] : x!  // [rows, in], read only for dW
            weight.withUnsafeBufferPointer { w in
                Kernels.linearBackward(
                    input: input, outputGradient: gradient, weight: w.baseAddress!, rows: m, inputs: inputs,
                    outputs: outputs, weightIsOutIn: layout == .outIn, inputGradient: dx.baseAddress!,
                    weightGradient: dw?.pointer, biasGradient: nil)
            }
            initialized = m * inputs
        }
    }
}

extension LayerNorm {
    /// The backward of `forward(_:)`: from `dy` `[rows, size]` accumulates the weight and bias gradients when they
    /// train, and writes `dx` into `inputGradient` — or adds it, when `accumulate` (a residual stream whose gradient
    /// is already there).
    /// - Parameters:
    ///   - x: the forward's input.
    ///   - inputGradient: `[rows, size]`; with `accumulate` false it may be empty and is allocated.
    public func backward(
        input x: [Float], statistics: LayerNormStatistics, outputGradient dy: [Float],
        inputGradient dx: inout [Float], accumulate: Bool, gradients: GradientStore
    ) {
        let rows = statistics.mean.count
        if dx.isEmpty { dx = [Float](repeating: 0, count: rows * size) }
        let (dw, db) = (gradients[weight], gradients[bias])
        weight.withUnsafeBufferPointer { w in
            Kernels.layerNormBackward(
                input: x, outputGradient: dy, rows: rows, columns: size, weight: w.baseAddress!,
                mean: statistics.mean, rstd: statistics.rstd, inputGradient: &dx, accumulateInputGradient: accumulate,
                weightGradient: dw?.pointer, biasGradient: db?.pointer)
        }
    }
}

extension Embedding {
    /// The backward of `gather`: row r of `dy` `[ids.count, size]` is added to the gradient of table row `ids[r]`,
    /// for the rows that train (ids outside them, and any negative id, are skipped).
    public func backward(ids: [Int], outputGradient dy: [Float], gradients: GradientStore) {
        guard let g = gradients[table] else { return }
        Kernels.embeddingBackward(
            outputGradient: dy, ids: ids, rows: ids.count, columns: size, trainableRows: g.rows,
            tableGradient: g.pointer)
    }
}

/// The backward of `packedSelfAttention(_:shape:keyBias:keepingProbabilities:)` from the context's gradient
/// `[B·T, C]`: the gradient of the packed `[q | k | v]` rows, `[B·T, 3C]`.
/// - Parameter probabilities: `[B, H, T, T]`, as the forward kept them.
func packedSelfAttentionBackward(
    _ qkv: [Float], probabilities: [Float], outputGradient: [Float], shape: AttentionShape
) -> [Float] {
    let (rows, C) = (shape.batch * shape.length, shape.heads * shape.headSize)
    // Every element is written: the backward overwrites dQ, dK and dV.
    return [Float](unsafeUninitializedCapacity: rows * 3 * C) { pg, initialized in  // [B·T, 3C]
        qkv.withUnsafeBufferPointer { p in
            let (base, g) = (p.baseAddress!, pg.baseAddress!)
            Kernels.attentionBackward(
                AttentionOperands(query: base, key: base + C, value: base + 2 * C, rowStride: 3 * C), shape: shape,
                probabilities: probabilities, outputGradient: outputGradient,
                gradients: AttentionGradients(query: g, key: g + C, value: g + 2 * C, rowStride: 3 * C))
        }
        initialized = rows * 3 * C
    }
}
