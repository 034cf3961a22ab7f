// How `wrap` initialises the memory (docs/RMT.md §2.1, §3.1): from a seeded generator, recorded in
// rmt_config.json so the same seed gives the same bytes on every machine.
import Models

/// How the memory was initialised, recorded so `wrap` is reproducible.
public struct MemoryInit: Codable, Sendable, Equatable {
    /// `randn_x_wte_std` (decoder), `normal_initializer_range` or `mean` (encoder).
    public var method: String
    /// σ used (decoder: std of `wte`; encoder: `initializer_range`).
    public var std: Double?
    public var seed: UInt64
    public var rng: String

    public init(method: String, std: Double?, seed: UInt64, rng: String = SeededGenerator.name) {
        self.method = method
        self.std = std
        self.seed = seed
        self.rng = rng
    }

    /// The decoder's memory parameter `[m, H]`: `σ(wte) · N(0, 1)` with σ the standard deviation of the whole
    /// token-embedding table, as the reference's `MemoryCell` draws it (`randn · wte.std()`).
    /// - Parameter tokenEmbeddings: `wte` `[V, H]`, row-major.
    public static func decoderMemory(tokenEmbeddings: [Float], count: Int, seed: UInt64) -> (
        memory: [Float], record: MemoryInit
    ) {
        let std = standardDeviation(tokenEmbeddings)
        var generator = SeededGenerator(seed: seed)
        return (
            generator.normals(count: count, standardDeviation: std),
            MemoryInit(method: "randn_x_wte_std", std: std, seed: seed)
        )
    }
}

/// σ of all elements of a table with Bessel's correction, accumulated in float64 (torch's `std()`).
public func standardDeviation(_ values: [Float]) -> Double {
    guard values.count > 1 else { return 0 }
    var mean = 0.0
    for v in values { mean += Double(v) }
    mean /= Double(values.count)
    var sq = 0.0
    for v in values { let d = Double(v) - mean; sq += d * d }
    return (sq / Double(values.count - 1)).squareRoot()
}
