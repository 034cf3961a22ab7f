// Multi-head scaled dot-product attention for training: a forward that keeps the softmax probabilities
// P [B, H, T, T], and its backward through GEMMs per (batch, head). The same layouts, masks and scale as
// `Kernels.attention` (Kernels/Attention.swift). B batch, T sequence length, H heads, D head size, C = H·D.
import CKernels
import Synchronization

/// Where the gradients of the queries, keys and values go: base pointers into `[B·T, ld]` buffers, laid out as
/// `AttentionOperands` (three `[B·T, C]` buffers, or one packed `[B·T, 3C]` buffer at offsets 0, C, 2C).
public struct AttentionGradients {
    public var query: UnsafeMutablePointer<Float>
    public var key: UnsafeMutablePointer<Float>
    public var value: UnsafeMutablePointer<Float>
    /// Row stride of the three buffers.
    public var rowStride: Int

    public init(
        query: UnsafeMutablePointer<Float>, key: UnsafeMutablePointer<Float>, value: UnsafeMutablePointer<Float>,
        rowStride: Int
    ) {
        self.query = query
        self.key = key
        self.value = value
        self.rowStride = rowStride
    }
}

extension Kernels {
    /// Query rows per block under the causal mask: a block only needs the keys up to its last row.
    static let causalTrainingBlock = 64

    /// `Kernels.attention` keeping the softmax probabilities for `attentionBackward`:
    /// `P[b, h] = softmax(scale·Q_bh·K_bhᵀ + bias_b)` (`[T, T]`, causally masked entries exactly 0) and
    /// `out[b, :, h] = P[b, h]·V_bh`. Same operands, shape, masks and output as `attention(_:shape:keyBias:output:)`
    /// (agreeing to float rounding, ≤ 1e-5); the products are GEMMs, one (b, h) per thread at a time.
    ///
    /// The backward needs Q, K, V (the operands, e.g. the packed QKV buffer), P and the output's gradient; not the
    /// output itself. P takes `B·H·T²` floats: 4·12·300² floats is 17 MB per layer.
    /// - Parameters:
    ///   - keyBias: `[B·T]` additive bias per key (`keyBias(fromMask:)`), or nil.
    ///   - output: `[B·T, C]`, row stride C, every element written.
    ///   - probabilities: `[B, H, T, T]`, every element written.
    public static func attention(
        _ x: AttentionOperands, shape s: AttentionShape, keyBias: [Float]?,
        output: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>
    ) {
        let (T, D, C, ld) = (s.length, s.headSize, s.heads * s.headSize, x.rowStride)
        guard T > 0, D > 0 else { return }
        let blocks = attentionBlocks(s)
        (keyBias ?? []).withUnsafeBufferPointer { pb in
            let bias = keyBias == nil ? nil : pb.baseAddress
            forEachHead(s, scratch: 0) { b, h, _, alone in
                let p = probabilities + (b * s.heads + h) * T * T  // [T, T]
                let offset = b * T * ld + h * D
                let (q, k, v) = (x.query + offset, x.key + offset, x.value + offset)  // [T, D] views, stride ld
                let out = output + b * T * C + h * D  // [T, D] view, stride C
                for (i0, rows, keys) in blocks {
                    // [rows, D] · [keys, D]ᵀ → [rows, keys] of P, scaled
                    gemm(
                        onCallingThread: !alone, q + i0 * ld, lda: ld, transposeA: false, k, ldb: ld, transposeB: true,
                        p + i0 * T, ldc: T, m: rows, n: keys, k: D, alpha: s.scale)
                    // bias, causal mask and softmax; columns past each row's last key become 0
                    ckernels_softmax_rows(p + i0 * T, rows, T, T, bias.map { $0 + b * T }, s.causal ? i0 : -1)
                    // [rows, keys] · [keys, D] → [rows, D]
                    gemm(
                        onCallingThread: !alone, p + i0 * T, lda: T, transposeA: false, v, ldb: ld, transposeB: false,
                        out + i0 * C, ldc: C, m: rows, n: D, k: keys)
                }
            }
        }
    }

    /// The backward of `attention(_:shape:keyBias:output:probabilities:)`, per (b, h), with dO the `[T, D]` view
    /// of the output's gradient:
    /// `dP = dO·Vᵀ`, `dS = P∘(dP − rowsum(dP∘P))`, `dQ = scale·dS·K`, `dK = scale·dSᵀ·Q`, `dV = Pᵀ·dO`.
    /// The masks need nothing more: masked entries have P = 0, hence dS = 0 (a query whose keys are all padding gets
    /// transformers' uniform P over its allowed keys, and the gradient of that P, as torch computes it).
    ///
    /// dQ, dK and dV are **overwritten** (every element of the `[B·T, C]` views written), so a packed `[B·T, 3C]`
    /// buffer receives the gradient of the packed QKV projection's output directly. Under the causal mask the
    /// products skip the masked upper triangle, by blocks of `causalTrainingBlock` queries. Each thread takes one
    /// (b, h) at a time, with a `[T, T]` scratch.
    /// - Parameters:
    ///   - x: the forward's operands (Q, K, V).
    ///   - probabilities: `[B, H, T, T]`, as the forward kept them.
    ///   - outputGradient: `[B·T, C]`, row stride C.
    ///   - gradients: where dQ, dK, dV go; must not overlap `x`, `probabilities` or `outputGradient`.
    public static func attentionBackward(
        _ x: AttentionOperands, shape s: AttentionShape, probabilities: UnsafePointer<Float>,
        outputGradient: UnsafePointer<Float>, gradients g: AttentionGradients
    ) {
        let (T, D, C, ld, gld) = (s.length, s.headSize, s.heads * s.headSize, x.rowStride, g.rowStride)
        guard T > 0, D > 0 else { return }
        let blocks = attentionBlocks(s)
        forEachHead(s, scratch: T * T) { b, h, ds, alone in
            let p = probabilities + (b * s.heads + h) * T * T  // [T, T]
            let offset = b * T * ld + h * D, gradientOffset = b * T * gld + h * D
            let (q, k, v) = (x.query + offset, x.key + offset, x.value + offset)  // [T, D], stride ld
            let (dq, dk, dv) = (g.query + gradientOffset, g.key + gradientOffset, g.value + gradientOffset)
            let dOut = outputGradient + b * T * C + h * D  // [T, D], stride C
            for (i0, rows, keys) in blocks {
                // dP: [rows, D] · [keys, D]ᵀ → [rows, keys], then dS in place
                gemm(
                    onCallingThread: !alone, dOut + i0 * C, lda: C, transposeA: false, v, ldb: ld, transposeB: true,
                    ds + i0 * T, ldc: T, m: rows, n: keys, k: D)
                ckernels_softmax_backward_rows(p + i0 * T, T, ds + i0 * T, T, rows, keys, s.causal ? i0 : -1)
                // dQ: [rows, keys] · [keys, D] → [rows, D]
                gemm(
                    onCallingThread: !alone, ds + i0 * T, lda: T, transposeA: false, k, ldb: ld, transposeB: false,
                    dq + i0 * gld, ldc: gld, m: rows, n: D, k: keys, alpha: s.scale)
            }
            // Keys j0..<j0+n of a block receive gradient from queries i ≥ j0 only under the causal mask (dS and P
            // vanish above the diagonal); each of those rows of dS was written up to the block's last key.
            for (j0, n, _) in blocks {
                let i0 = s.causal ? j0 : 0
                // dK: [T − i0, n]ᵀ · [T − i0, D] → [n, D]
                gemm(
                    onCallingThread: !alone, ds + i0 * T + j0, lda: T, transposeA: true, q + i0 * ld, ldb: ld,
                    transposeB: false, dk + j0 * gld, ldc: gld, m: n, n: D, k: T - i0, alpha: s.scale)
                // dV: [T − i0, n]ᵀ · [T − i0, D] → [n, D]
                gemm(
                    onCallingThread: !alone, p + i0 * T + j0, lda: T, transposeA: true, dOut + i0 * C, ldb: C,
                    transposeB: false, dv + j0 * gld, ldc: gld, m: n, n: D, k: T - i0)
            }
        }
    }

    /// The blocks of query rows `(first, rows, keys)`: one block of all T rows and keys, or under the causal mask
    /// blocks of `causalTrainingBlock` rows whose keys stop at their last row.
    private static func attentionBlocks(_ s: AttentionShape) -> [(Int, Int, Int)] {
        let T = s.length
        guard s.causal else { return [(0, T, T)] }
        return stride(from: 0, to: T, by: causalTrainingBlock).map { i0 in
            let rows = min(causalTrainingBlock, T - i0)
            return (i0, rows, i0 + rows)
        }
    }

    /// Calls `body(b, h, scratch, alone)` for every (batch row, head), on all threads at once, each thread taking
    /// the next pair, with its own `scratch` floats. `alone` is true when one thread does all the work: its GEMMs may
    /// then use OpenBLAS's threads; otherwise each GEMM stays on its thread (`gemm(onCallingThread:…)`).
    private static func forEachHead(
        _ s: AttentionShape, scratch: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>, Bool) -> Void
    ) {
        let items = s.batch * s.heads
        guard items > 0 else { return }
        let threads = min(threadCount, items)
        let next = Atomic<Int>(0)
        inParallel(threads) { _ in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratch))
            defer { buffer.deallocate() }
            while true {
                let item = next.add(1, ordering: .relaxed).oldValue
                guard item < items else { break }
                let (b, h) = item.quotientAndRemainder(dividingBy: s.heads)
                body(b, h, buffer, threads == 1)
            }
        }
    }
}
