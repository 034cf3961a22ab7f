// The workloads of `rmt-convert bench`: sgemm peak, model forward, RMT over long inputs, inspect latency.
// Each returns a `BenchResult`; peak resident memory is measured by whoever starts the process (one workload each).
import Checkpoints
import Foundation
import Models
import RMT

/// Benchmarks of the Swift side; `tools/bench_reference.py` runs the same workloads in PyTorch / NumPy.
public enum Bench {
    /// Sets the threads of OpenBLAS and the model's parallel loops.
    /// - Throws: `ModelError(.system)` without OpenBLAS.
    public static func setThreadCount(_ count: Int) throws { try Kernels.setThreadCount(count) }

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
        let stack = model.base
        let dense = stack.firstBlockProjections
        let ids = syntheticIds(count: B * T, vocabulary: stack.vocabularySize)
        let inputs = try ModelInputs(inputIds: ids, batch: B, length: T)
        let timing = try BenchTiming.measure(warmup: warmup, repetitions: repetitions) {
            _ = try stack.lastHiddenState(inputs)
        }
        // Per block: the dense projections (2·N·in·out each; 4C² + 2CI in all) and attention (4·B·T²·C).
        let N = Double(B * T), c = Double(dense.first?.inputs ?? 0)
        let projections = dense.reduce(0.0) { $0 + Double($1.inputs) * Double($1.outputs) }
        let layerFlops = 2 * N * projections + 4 * Double(B) * Double(T) * Double(T) * c
        let gemm = layerDenseGFLOPs(dense, rows: B * T, warmup: 1, repetitions: max(3, repetitions))
        return BenchResult(
            workload: "forward",
            label: "forward \(model.architecture.modelType) b\(B) t\(T) threads \(Kernels.threadCount)",
            timing: timing, tokensPerSecond: N / timing.median, flops: Double(stack.layerCount) * layerFlops,
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
                        x, lda: l.inputs, l.weight.values, ldb: l.layout == .outIn ? l.inputs : l.outputs,
                        transposeB: l.layout == .outIn,
                        py.baseAddress!, ldc: l.outputs, m: rows, n: l.outputs, k: l.inputs)
                }
            }
        }
        let flops = layers.reduce(0.0) { $0 + 2 * Double(rows) * Double($1.inputs) * Double($1.outputs) }
        return flops / timing.median / 1e9
    }
}
