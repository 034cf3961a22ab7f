// Scaled dot-product attention over strided per-head views, one fused kernel call per head and block of
// queries; and the naive reference it is tested against. Mirrors transformers' `eager_attention_forward` of BERT and GPT-2, masks included.
import CKernels
import Foundation
import Synchronization

/// Where the queries, keys and values of one batch live: base pointers into `[B·T, ld]` buffers.
/// BERT has three `[B·T, C]` buffers (ld C); GPT-2 one packed `[B·T, 3C]` buffer (ld 3C) at offsets 0, C, 2C.
public struct AttentionOperands {
    public var query: UnsafePointer<Float>
    public var key: UnsafePointer<Float>
    public var value: UnsafePointer<Float>
    /// Row stride of the query/key/value buffers.
    public var rowStride: Int

    public init(query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>, rowStride: Int) {
        self.query = query
        self.key = key
        self.value = value
        self.rowStride = rowStride
    }
}

/// The shape and masking of one attention call.
/// B batch, T sequence length, H heads, D head size (C = H·D).
public struct AttentionShape: Sendable {
    public var batch: Int, length: Int, heads: Int, headSize: Int
    /// Multiplies the scores (`1/√D`, and `1/(layer+1)` for GPT-2's inverse-layer scaling).
    public var scale: Float
    /// GPT-2: key j > query i is excluded. Transformers' eager path adds `finfo.min` twice there when a
    /// padding mask is given (−inf) and replaces the score by `finfo.min` otherwise; both give probability 0
    /// because the diagonal is never causally masked.
    public var causal: Bool

    public init(batch: Int, length: Int, heads: Int, headSize: Int, scale: Float, causal: Bool) {
        self.batch = batch
        self.length = length
        self.heads = heads
        self.headSize = headSize
        self.scale = scale
        self.causal = causal
    }
}

extension Kernels {
    /// The additive key bias of transformers' extended attention mask: `(1 − mask)·finfo(float32).min`.
    /// - Parameter mask: `[B·T]`, 1 for tokens to attend to and 0 for padding.
    public static func keyBias(fromMask mask: [Float]) -> [Float] {
        mask.map { (1 - $0) * -Float.greatestFiniteMagnitude }
    }

    /// Query rows per block under the causal mask: block q only needs the keys up to its last row, so the score
    /// and value GEMMs skip most of the masked upper triangle.
    static let causalBlock = 256

    /// Multi-head attention: for each batch b and head h,
    /// `out[b, :, h] = softmax(scale·Q_bh·K_bhᵀ + bias_b) · V_bh`, Q_bh being the `[T, D]` view at row b·T,
    /// column h·D of the query buffer (row stride `rowStride`).
    ///
    /// The work is split into independent items, one per (batch row, block of queries, head), run on all threads
    /// at once, each thread taking the next item. An item is one call of the fused kernel
    /// `ckernels_attention_block` (scores, mask, softmax and values over tiles of six queries, never a `[T, T]`
    /// score matrix); causal blocks stop at their last query's key.
    /// - Parameters:
    ///   - keyBias: `[B·T]` additive bias per key (see `keyBias(fromMask:)`), or nil for no padding.
    ///   - output: `[B·T, C]`, row stride C, every element written.
    public static func attention(
        _ x: AttentionOperands, shape s: AttentionShape, keyBias: [Float]?,
        output: UnsafeMutablePointer<Float>
    ) {
        attention(x, shape: s, keyBias: keyBias, output: output, portable: false)
    }

    /// `attention` with the kernel's portable loops (what machines without AVX2 + FMA run) when `portable`.
    package static func attention(
        _ x: AttentionOperands, shape s: AttentionShape, keyBias: [Float]?,
        output: UnsafeMutablePointer<Float>, portable: Bool
    ) {
        let kernel = portable ? ckernels_attention_block_portable : ckernels_attention_block
        let (T, D, H, C) = (s.length, s.headSize, s.heads, s.heads * s.headSize)
        guard T > 0, H > 0, s.batch > 0 else { return }
        let block = s.causal ? min(T, causalBlock) : T
        let blocks = (T + block - 1) / block
        let items = s.batch * blocks * H
        (keyBias ?? []).withUnsafeBufferPointer { pb in
            let bias = keyBias == nil ? nil : pb.baseAddress
            let next = Atomic<Int>(0)
            inParallel(min(threadCount, items)) { _ in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: ckernels_attention_scratch(T, D))
                defer { scratch.deallocate() }
                while true {
                    let item = next.add(1, ordering: .relaxed).oldValue
                    guard item < items else { break }
                    // item → (b, query block, head), the last blocks (most keys) first so the longest items start early
                    let (rest, h) = item.quotientAndRemainder(dividingBy: H)
                    let (reversedBlock, b) = rest.quotientAndRemainder(dividingBy: s.batch)
                    let q0 = (blocks - 1 - reversedBlock) * block
                    let queries = min(block, T - q0), keys = s.causal ? q0 + queries : T
                    let offset = b * T * x.rowStride + h * D
                    // [queries, D] of Q, [keys, D] of K and V → [queries, D] at rows b·T + q0…, columns h·D… of the output
                    kernel(
                        x.query + offset + q0 * x.rowStride, x.key + offset, x.value + offset, x.rowStride,
                        output + (b * T + q0) * C + h * D, C, queries, keys, D, s.scale,
                        bias.map { $0 + b * T }, s.causal ? q0 : -1, scratch)
                }
            }
        }
    }

    /// The same computation with plain loops and no BLAS: the reference `attention` is tested against.
    package static func referenceAttention(
        query: [Float], key: [Float], value: [Float], rowStride: Int,
        shape s: AttentionShape, keyBias: [Float]?
    ) -> [Float] {
        let (T, D, C) = (s.length, s.headSize, s.heads * s.headSize)
        var out = [Float](repeating: 0, count: s.batch * T * C)
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                for i in 0..<T {
                    var weights = [Float](repeating: 0, count: T)
                    for j in 0..<T {
                        var dot: Float = 0
                        for d in 0..<D {
                            dot += query[(b * T + i) * rowStride + h * D + d] * key[(b * T + j) * rowStride + h * D + d]
                        }
                        weights[j] = dot * s.scale + (keyBias?[b * T + j] ?? 0)
                        if s.causal, j > i { weights[j] = -.infinity }
                    }
                    let m = weights.max()!
                    let e = weights.map { $0 == -.infinity ? 0 : exp($0 - m) }
                    let total = e.reduce(0, +)
                    for d in 0..<D {
                        var acc: Float = 0
                        for j in 0..<T { acc += e[j] / total * value[(b * T + j) * rowStride + h * D + d] }
                        out[(b * T + i) * C + h * D + d] = acc
                    }
                }
            }
        }
        return out
    }
}
