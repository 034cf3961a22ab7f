// Timing for `rmt-convert bench`: warm-up runs, then repetitions whose median is reported.
import Foundation

/// Wall times of repeated runs of one workload, in seconds, and the CPU time this process spent in them.
public struct BenchTiming: Encodable, Sendable {
    public let median: Double
    public let min: Double
    public let max: Double
    public let repetitions: Int
    /// Median over the repetitions of the process's CPU time (user + system, all threads), in seconds: unlike
    /// wall time it hardly changes when other processes share the cores, so it shows whether the work per run
    /// changes. Nil when not measured.
    public let cpuMedian: Double?

    /// Runs `body` `warmup` times untimed, then `repetitions` times timed (at least once).
    public static func measure(warmup: Int, repetitions: Int, _ body: () throws -> Void) rethrows -> BenchTiming {
        for _ in 0..<Swift.max(0, warmup) { try body() }
        var times: [Double] = [], cpuTimes: [Double] = []
        for _ in 0..<Swift.max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            cpuTimes.append(processCPUSeconds() - cpuStart)
        }
        return BenchTiming(times, cpuTimes: cpuTimes)
    }

    /// Summarises measured times (at least one), and the CPU times of the same runs when given.
    public init(_ times: [Double], cpuTimes: [Double] = []) {
        let sorted = times.sorted()
        median = Self.median(sorted)
        self.min = sorted.first ?? 0
        self.max = sorted.last ?? 0
        repetitions = sorted.count
        cpuMedian = cpuTimes.isEmpty ? nil : Self.median(cpuTimes.sorted())
    }

    private static func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        guard n > 0 else { return 0 }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// User + system CPU time of this process so far (every thread), in seconds.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// One line of a benchmark: what ran, how long it took and the derived rates.
public struct BenchResult: Encodable, Sendable {
    /// e.g. `forward`, `sgemm`, `rmt`, `inspect`.
    public let workload: String
    /// The parameters, e.g. `minilm b1 t512 threads 2`.
    public let label: String
    public let timing: BenchTiming
    /// Tokens per second of the median run (forward, RMT), or nil.
    public let tokensPerSecond: Double?
    /// Floating-point operations per run, for GFLOP/s.
    public let flops: Double?
    /// Extra named figures (peak GFLOP/s, GEMM share of a layer, microseconds per token…).
    public let figures: [String: Double]

    public init(
        workload: String, label: String, timing: BenchTiming, tokensPerSecond: Double? = nil, flops: Double? = nil,
        figures: [String: Double] = [:]
    ) {
        self.workload = workload
        self.label = label
        self.timing = timing
        self.tokensPerSecond = tokensPerSecond
        self.flops = flops
        self.figures = figures
    }

    /// GFLOP/s of the median run.
    public var gflopPerSecond: Double? { flops.map { $0 / timing.median / 1e9 } }

    /// One table row: label, median, min, rate.
    public var row: String {
        var cells = [
            label.padding(toLength: 36, withPad: " ", startingAt: 0),
            String(format: "%10.4f s", timing.median),
            String(format: "(min %.4f, n=%d)", timing.min, timing.repetitions),
        ]
        if let t = tokensPerSecond { cells.append(String(format: "%10.1f tok/s", t)) }
        if let g = gflopPerSecond { cells.append(String(format: "%7.1f GFLOP/s", g)) }
        for (k, v) in figures.sorted(by: { $0.key < $1.key }) { cells.append("\(k) \(String(format: "%.2f", v))") }
        return cells.joined(separator: "  ")
    }

    /// JSON with stable key order (one object per line).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var object = try JSONSerialization.jsonObject(with: try encoder.encode(self)) as? [String: Any] ?? [:]
        if let g = gflopPerSecond { object["gflopPerSecond"] = g }
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
