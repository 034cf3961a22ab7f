// Scaled dot-product attention over strided per-head views, as GEMMs; and the naive reference it is tested
// against. Mirrors transformers' `eager_attention_forward` of BERT and GPT-2, masks included.
import CKernels
import Foundation

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
    /// column h·D of the query buffer (row stride `rowStride`). Per batch row and block of queries, the scores
    /// of all heads are computed first, then masked and normalised on all threads at once, then multiplied by
    /// the values. Causal blocks stop at their last query's key.
    /// - Parameters:
    ///   - keyBias: `[B·T]` additive bias per key (see `keyBias(fromMask:)`), or nil for no padding.
    ///   - output: `[B·T, C]`, row stride C, every element written.
    public static func attention(_ x: AttentionOperands, shape s: AttentionShape, keyBias: [Float]?,
                                 output: UnsafeMutablePointer<Float>) {
        let (T, D, H, C) = (s.length, s.headSize, s.heads, s.heads * s.headSize)
        guard T > 0, H > 0 else { return }
        let block = s.causal ? min(T, causalBlock) : T
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: H * block * T)   // [H, block, T] for one (b, block)
        defer { scores.deallocate() }
        for b in 0..<s.batch {
            for q0 in stride(from: 0, to: T, by: block) {
                let queries = min(block, T - q0), keys = s.causal ? q0 + queries : T
                for h in 0..<H {
                    let offset = b * T * x.rowStride + h * D
                    // [queries, D] · [keys, D]ᵀ → [queries, keys] (row stride T)
                    gemm(x.query + offset + q0 * x.rowStride, lda: x.rowStride, x.key + offset, ldb: x.rowStride, transposeB: true,
                         scores + h * block * T, ldc: T, m: queries, n: keys, k: D, alpha: s.scale)
                }
                (keyBias ?? []).withUnsafeBufferPointer { pb in
                    let bias = keyBias == nil ? nil : pb.baseAddress! + b * T
                    parallelRows(H * queries, minimumRows: 8) { rows in
                        var r = rows.lowerBound
                        while r < rows.upperBound {   // the pieces of the range that lie within one head
                            let (h, i) = r.quotientAndRemainder(dividingBy: queries)
                            let count = min(rows.upperBound - r, queries - i)
                            ckernels_softmax_rows(scores + h * block * T + i * T, count, keys, T, bias, s.causal ? q0 + i : -1)
                            r += count
                        }
                    }
                }
                for h in 0..<H {
                    let offset = b * T * x.rowStride + h * D
                    // [queries, keys] · [keys, D] → [queries, D] into columns h·D of rows b·T + q0… of the output
                    gemm(scores + h * block * T, lda: T, x.value + offset, ldb: x.rowStride, transposeB: false,
                         output + (b * T + q0) * C + h * D, ldc: C, m: queries, n: D, k: keys)
                }
            }
        }
    }

    /// The same computation with plain loops and no BLAS: the reference `attention` is tested against.
    package static func referenceAttention(query: [Float], key: [Float], value: [Float], rowStride: Int,
                                           shape s: AttentionShape, keyBias: [Float]?) -> [Float] {
        let (T, D, C) = (s.length, s.headSize, s.heads * s.headSize)
        var out = [Float](repeating: 0, count: s.batch * T * C)
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                for i in 0..<T {
                    var weights = [Float](repeating: 0, count: T)
                    for j in 0..<T {
                        var dot: Float = 0
                        for d in 0..<D { dot += query[(b * T + i) * rowStride + h * D + d] * key[(b * T + j) * rowStride + h * D + d] }
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
