// The fused attention kernel (over strided per-head views) against the naive triple-loop reference.
import Models
import Testing
import TestSupport

@Suite("Attention kernel")
struct AttentionKernelTests {
    @Test(
        "fused attention equals the naive reference on random data",
        arguments: [
            // (B, T, H, D, packed QKV row stride, causal, padded)
            (1, 1, 1, 4, false, false, false), (2, 7, 3, 5, false, false, true), (2, 9, 4, 8, true, true, true),
            (3, 16, 2, 16, true, true, false), (1, 33, 6, 4, false, false, true),
            // T beyond Kernels.causalBlock (256): several query blocks, each stopping at its last query's key.
            (2, 300, 2, 4, true, true, true),
            // Head sizes of the fused kernel's paths: 32 and 64 (MiniLM, GPT-2), 40 = 32 + 8, 13 = 8 + a scalar
            // tail; lengths that leave partial tiles of queries (4) and keys (16).
            (1, 130, 3, 32, true, false, true), (2, 67, 2, 64, true, true, true), (1, 5, 2, 40, false, true, false),
            (2, 18, 3, 13, false, false, true),
        ])
    func matchesReference(_ b: Int, _ t: Int, _ h: Int, _ d: Int, _ packed: Bool, _ causal: Bool, _ padded: Bool) throws
    {
        var random = SeededNumbers(state: UInt64(b * 1000 + t * 100 + h * 10 + d))
        let c = h * d
        let rowStride = packed ? 3 * c : c
        let q = random.array(b * t * rowStride).map { $0 * 3 }, k = random.array(b * t * rowStride).map { $0 * 3 }
        let v = random.array(b * t * rowStride)
        // Padding in every other batch row: the last third, or with the causal mask the first third (left padding),
        // so some queries see only padding (the fully-masked rows transformers' finfo.min masks define).
        var mask = [Float](repeating: 1, count: b * t)
        if padded {
            for row in stride(from: 0, to: b, by: 2) {
                for j in 0..<t where causal ? j < t / 3 : j >= t - t / 3 { mask[row * t + j] = 0 }
            }
        }
        let bias = padded ? Kernels.keyBias(fromMask: mask) : nil
        let shape = AttentionShape(
            batch: b, length: t, heads: h, headSize: d, scale: 1 / Float(d).squareRoot(), causal: causal)
        let reference = Kernels.referenceAttention(
            query: q, key: k, value: v, rowStride: rowStride, shape: shape, keyBias: bias)
        for portable in [false, true] {
            let out = fusedAttention(q, k, v, rowStride: rowStride, shape: shape, keyBias: bias, portable: portable)
            #expect(
                out.allSatisfy { $0.isFinite }, "every output element is written and finite (portable: \(portable))")
            let error = try #require(maxAbsError(out, reference))
            #expect(error <= 1e-5, "max abs error \(error) (portable: \(portable))")
        }
    }

    @Test("a query that sees only padding averages the values it may attend to, as transformers' eager path")
    func fullyMaskedRow() {
        // One batch, T 3, one head of size 1, causal; keys 0 and 1 are padding. Query 0 sees only key 0, query 1
        // keys 0 and 1, all padded: uniform weights over the causally allowed keys.
        let q: [Float] = [1, 2, 3], k: [Float] = [0.5, -1, 2], v: [Float] = [10, 20, 30]
        let shape = AttentionShape(batch: 1, length: 3, heads: 1, headSize: 1, scale: 1, causal: true)
        let bias = Kernels.keyBias(fromMask: [0, 0, 1])
        for out in [
            fusedAttention(q, k, v, rowStride: 1, shape: shape, keyBias: bias),
            fusedAttention(q, k, v, rowStride: 1, shape: shape, keyBias: bias, portable: true),
            Kernels.referenceAttention(query: q, key: k, value: v, rowStride: 1, shape: shape, keyBias: bias),
        ] {
            #expect(out == [10, 15, 30])
        }
    }
}

/// `Kernels.attention` (vectorised, or its portable loops) on arrays; the output starts as NaN so an unwritten element shows.
private func fusedAttention(
    _ q: [Float], _ k: [Float], _ v: [Float], rowStride: Int, shape: AttentionShape,
    keyBias: [Float]?, portable: Bool = false
) -> [Float] {
    var out = [Float](repeating: .nan, count: shape.batch * shape.length * shape.heads * shape.headSize)
    q.withUnsafeBufferPointer { pq in
        k.withUnsafeBufferPointer { pk in
            v.withUnsafeBufferPointer { pv in
                out.withUnsafeMutableBufferPointer { po in
                    Kernels.attention(
                        AttentionOperands(
                            query: pq.baseAddress!, key: pk.baseAddress!, value: pv.baseAddress!, rowStride: rowStride),
                        shape: shape, keyBias: keyBias, output: po.baseAddress!, portable: portable)
                }
            }
        }
    }
    return out
}
