// Multi-head self-attention over the packed `[q | k | v]` rows one GEMM produces (BERT's stacked query/key/value,
// GPT-2's `c_attn`). B batch, T sequence length, C hidden size.

/// The attention context `[B·T, C]` of packed rows `qkv` `[B·T, 3C]` (`shape.heads · shape.headSize = C`).
/// `keyBias` is `[B·T]` (see `Kernels.keyBias(fromMask:)`), nil for no padding.
///
/// Inference runs the fused kernel, which never holds a `[T, T]` score matrix. With `keepingProbabilities`
/// (training) the softmax probabilities `[B, H, T, T]` are kept for `packedSelfAttentionBackward`, computed by GEMMs
/// per head; the two agree to float rounding.
func packedSelfAttention(_ qkv: [Float], shape: AttentionShape, keyBias: [Float]?, keepingProbabilities: Bool = false)
    -> (context: [Float], probabilities: [Float]?)
{
    let (rows, C, T) = (shape.batch * shape.length, shape.heads * shape.headSize, shape.length)
    var probabilities: [Float]? = nil
    // Every element is written: each (b, h) fills rows b·T… and columns h·D… of the output.
    let context = [Float](unsafeUninitializedCapacity: rows * C) { pc, initialized in  // [B·T, C]
        qkv.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            // q | k | v are column blocks of the packed rows: views with row stride 3C.
            let operands = AttentionOperands(query: base, key: base + C, value: base + 2 * C, rowStride: 3 * C)
            if keepingProbabilities {
                probabilities = [Float](unsafeUninitializedCapacity: shape.batch * shape.heads * T * T) { pp, n in
                    Kernels.attention(
                        operands, shape: shape, keyBias: keyBias, output: pc.baseAddress!,
                        probabilities: pp.baseAddress!)
                    n = shape.batch * shape.heads * T * T
                }
            } else {
                Kernels.attention(operands, shape: shape, keyBias: keyBias, output: pc.baseAddress!)
            }
        }
        initialized = rows * C
    }
    return (context, probabilities)
}
