// The workloads of `rmt-convert bench`: sgemm peak, model forward, RMT over long inputs, inspect latency.
// Each returns a `BenchResult`; peak resident memory is measured by whoever starts the process (one workload each).
import Checkpoints
import Foundation
import Models
import RMT

/// Benchmarks of the Swift side; `tools/bench_reference.py` runs the same workloads in PyTorch / NumPy.
public enum Bench {
    /// The peak of this process's resident set so far, in bytes (`getrusage` reports KiB on Linux).
    public static var peakResidentBytes: Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
    }

    /// `cblas_sgemm` on square `[n, n]` matrices: the machine's GEMM peak at the current thread count.
    public static func sgemmPeak(size n: Int = 2048, warmup: Int = 1, repetitions: Int = 5) -> BenchResult {
        let a = (0..<n * n).map { Float($0 % 17) * 0.01 }
        let b = (0..<n * n).map { Float($0 % 13) * 0.01 }
        var c = [Float](repeating: 0, count: n * n)
        let timing = BenchTiming.measure(warmup: warmup, repetitions: repetitions) {
            c.withUnsafeMutableBufferPointer { pc in
                Kernels.gemm(a, lda: n, b, ldb: n, transposeB: false, pc.baseAddress!, ldc: n, m: n, n: n, k: n)
            }
        }
        return BenchResult(
            workload: "sgemm", label: "sgemm \(n)x\(n)x\(n) threads \(Kernels.threadCount)", timing: timing,
            flops: 2 * Double(n) * Double(n) * Double(n))
    }

    /// A BERT or GPT-2 base model's forward pass (no head) on `[batch, length]` ids.
    /// - Parameter folder: a checkpoint folder with `config.json`.
    /// - Returns: tokens/s and GFLOP/s of the forward, with the GFLOP/s of one layer's dense GEMMs alone as
    ///   `layerGemmGFLOPs` (compare with `sgemmPeak`).
    public static func forward(folder: String, batch B: Int, length T: Int, warmup: Int, repetitions: Int) throws
        -> BenchResult
    {
        let (model, _) = try loadModel(try Checkpoint.open(folder))
        let (C, L, I, vocabulary): (Int, Int, Int, Int)
        let run: (ModelInputs) throws -> Void
        let dense: [(Linear)]
        var bert: BertModel?, gpt2: GPT2Model?
        switch model {
        case .bert(let m): bert = m
        case .bertForMaskedLM(let m): bert = m.bert
        case .bertForSequenceClassification(let m): bert = m.bert
        case .gpt2(let m): gpt2 = m
        case .gpt2LMHead(let m): gpt2 = m.transformer
        }
        if let m = bert {
            let c = m.configuration
            (C, L, I, vocabulary) = (c.hiddenSize, c.layerCount, c.intermediateSize, c.vocabularySize)
            run = { _ = try m($0) }
            dense = m.layers.first.map { [$0.queryKeyValue, $0.attentionOutput, $0.intermediate, $0.output] } ?? []
        } else {
            let m = gpt2!
            let c = m.configuration
            (C, L, I, vocabulary) = (c.hiddenSize, c.layerCount, c.innerSize, c.vocabularySize)
            run = { _ = try m($0) }
            dense = m.blocks.first.map { [$0.cAttn, $0.attnProjection, $0.cFc, $0.mlpProjection] } ?? []
        }
        let ids = syntheticIds(count: B * T, vocabulary: vocabulary)
        let inputs = try ModelInputs(inputIds: ids, batch: B, length: T)
        let timing = try BenchTiming.measure(warmup: warmup, repetitions: repetitions) { try run(inputs) }
        let N = Double(B * T), c = Double(C)
        let layerFlops = 2 * N * (4 * c * c + 2 * c * Double(I)) + 4 * Double(B) * Double(T) * Double(T) * c
        let gemm = layerDenseGFLOPs(dense, rows: B * T, warmup: 1, repetitions: max(3, repetitions))
        return BenchResult(
            workload: "forward",
            label: "forward \(model.architecture.modelType) b\(B) t\(T) threads \(Kernels.threadCount)",
            timing: timing, tokensPerSecond: N / timing.median, flops: Double(L) * layerFlops,
            figures: ["layerGemmGFLOPs": gemm])
    }

    /// `count` ids spread over the vocabulary, skipping its first 1000 rows (special and rare tokens) when it is large.
    static func syntheticIds(count: Int, vocabulary: Int) -> [Int] {
        (0..<count).map { syntheticId($0, vocabulary: vocabulary) }
    }

    /// Id `i` of `syntheticIds`.
    static func syntheticId(_ i: Int, vocabulary: Int) -> Int {
        let low = vocabulary > 2000 ? 1000 : 0
        return low + (i * 7919) % max(1, vocabulary - low)
    }

    /// GFLOP/s of one layer's dense projections alone (the GEMMs, no bias or activation), at `rows` tokens.
    static func layerDenseGFLOPs(_ layers: [Linear], rows: Int, warmup: Int, repetitions: Int) -> Double {
        guard !layers.isEmpty else { return 0 }
        let widest = layers.map { max($0.inputs, $0.outputs) }.max()!
        let x = [Float](repeating: 0.01, count: rows * widest)
        var y = [Float](repeating: 0, count: rows * widest)
        let timing = BenchTiming.measure(warmup: warmup, repetitions: repetitions) {
            y.withUnsafeMutableBufferPointer { py in
                for l in layers {
                    Kernels.gemm(
                        x, lda: l.inputs, l.weight, ldb: l.layout == .outIn ? l.inputs : l.outputs,
                        transposeB: l.layout == .outIn,
                        py.baseAddress!, ldc: l.outputs, m: rows, n: l.outputs, k: l.inputs)
                }
            }
        }
        let flops = layers.reduce(0.0) { $0 + 2 * Double(rows) * Double($1.inputs) * Double($1.outputs) }
        return flops / timing.median / 1e9
    }
}
