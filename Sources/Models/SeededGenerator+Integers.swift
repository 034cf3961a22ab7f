// Integers and permutations from the seeded generator: the synthetic tasks' tokens and the shuffled batch order of
// training data (docs/RMT.md §8.7) draw from these, so both repeat bit for bit on every machine.

extension SeededGenerator {
    /// A uniform integer in `0..<bound`, unbiased: draws 64-bit outputs until one is at least `2⁶⁴ mod bound`
    /// (rejection sampling), then returns it modulo `bound`. `tools/make_generator_fixture.py` pins it.
    /// - Parameter bound: at least 1 (a bound of 1 still consumes one draw).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound >= 1, "nextInt(below:) needs a positive bound")
        let n = UInt64(bound)
        let threshold = (0 &- n) % n  // 2⁶⁴ mod n
        while true {
            let r = next()
            if r >= threshold { return Int(r % n) }
        }
    }

    /// A uniformly random permutation of `0..<count` (Fisher–Yates from the last position down: for
    /// `i = count−1 … 1`, swap position `i` with `nextInt(below: i + 1)`). Pinned by
    /// `tools/make_generator_fixture.py`.
    public mutating func permutation(count: Int) -> [Int] {
        var p = Array(0..<count)
        var i = count - 1
        while i > 0 {
            p.swapAt(i, nextInt(below: i + 1))
            i -= 1
        }
        return p
    }

    /// The generator of stream `index` of `seed`: seeded with the SplitMix64 state `index` windows of four words
    /// past `seed`'s own, so streams 0, 1, 2, … of one seed take consecutive, disjoint windows of one SplitMix64
    /// sequence and stream 0 is `SeededGenerator(seed: seed)`. Used for one permutation per epoch, so that any
    /// epoch's order is computed without drawing the earlier ones.
    public static func stream(_ index: Int, of seed: UInt64) -> SeededGenerator {
        precondition(index >= 0, "stream indices start at 0")
        return SeededGenerator(seed: seed &+ UInt64(index) &* 4 &* 0x9E37_79B9_7F4A_7C15)
    }
}
