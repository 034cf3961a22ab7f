// The seeded random generator that is part of the RMT checkpoint format (docs/RMT.md §2.1); it lives in Models
// because model-level randomness (GPT-2 initialisation, dropout masks) draws from it too.

/// xoshiro256** seeded through SplitMix64, with 53-bit uniforms and Box–Muller normals in float64.
///
/// The same seed gives the same numbers on every machine: `wrap` records the seed and `name` in
/// `rmt_config.json`, so a memory initialisation can be reproduced byte for byte. Changing the algorithm must
/// change `name`.
public struct SeededGenerator: Sendable {
    /// Recorded as `memory_init.rng`.
    public static let name = "xoshiro256**/splitmix64/box-muller-f64"

    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spare: Double?

    /// Seeds the four state words from SplitMix64(seed).
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1) from the top 53 bits.
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal draw (Box–Muller; the second value of each pair is used next).
    public mutating func nextNormal() -> Double {
        if let v = spare { spare = nil; return v }
        var u1 = nextUniform()
        while u1 == 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        let r = (-2 * _log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spare = r * _sin(theta)
        return r * _cos(theta)
    }

    /// `count` values `float32(std · z)` filled row-major.
    public mutating func normals(count: Int, standardDeviation std: Double, mean: Double = 0) -> [Float] {
        (0..<count).map { _ in Float(mean + std * nextNormal()) }
    }
}

// Glibc's libm, named so the generator has no Foundation dependency.
#if canImport(Glibc)
    import Glibc
    @inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
    @inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
    import Darwin
    @inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
    @inline(__always) private func _sin(_ x: Double) -> Double { Darwin.sin(x) }
    @inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
