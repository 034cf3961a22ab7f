// Multi-head self-attention over the packed `[q | k | v]` rows one GEMM produces (BERT's stacked query/key/value,
// GPT-2's `c_attn`). B batch, T sequence length, C hidden size.

/// The attention context `[B·T, C]` of packed rows `qkv` `[B·T, 3C]` (`shape.heads · shape.headSize = C`).
/// `keyBias` is `[B·T]` (see `Kernels.keyBias(fromMask:)`), nil for no padding.
func packedSelfAttention(_ qkv: [Float], shape: AttentionShape, keyBias: [Float]?) -> [Float] {
    let (rows, C) = (shape.batch * shape.length, shape.heads * shape.headSize)
    // Every element is written: each (b, h) fills rows b·T… and columns h·D… of the output.
    return [Float](unsafeUninitializedCapacity: rows * C) { pc, initialized in  // [B·T, C]
        qkv.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            // q | k | v are column blocks of the packed rows: views with row stride 3C.
            Kernels.attention(
                AttentionOperands(query: base, key: base + C, value: base + 2 * C, rowStride: 3 * C),
                shape: shape, keyBias: keyBias, output: pc.baseAddress!)
        }
        initialized = rows * C
    }
}
