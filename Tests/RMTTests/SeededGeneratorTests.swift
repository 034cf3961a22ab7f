// SeededGenerator pinned bit for bit against an independent implementation (tools/make_generator_fixture.py,
// pure Python from the published SplitMix64 / xoshiro256** code): "same seed, same bytes on every machine" is
// part of the RMT checkpoint format (docs/RMT.md §2.1), so any change to the generator must fail here.
import Foundation
import Testing
import TestSupport
import Models
@testable import RMT

/// `fixtures/rmt/seeded_generator.json`.
struct GeneratorFixture: Decodable {
    struct Stream: Decodable {
        let seed: String
        let next: [String]
        let uniforms_bits: [String]
        let normals_bits: [String]
    }
    struct Memory: Decodable {
        let memory_tokens: Int
        let seed: UInt64
        let shape: [Int]
        let std_bits: String?
        let std: Double?
        let float32_bits: [String]
    }
    let generator: String
    let streams: [Stream]
    let decoder_memory: Memory
    let encoder_memory_rows: Memory

    static func load() throws -> GeneratorFixture {
        try JSONDecoder().decode(
            GeneratorFixture.self, from: Data(try Fixtures.bytes(Fixtures.path("rmt/seeded_generator.json"))))
    }
}

/// The value of a `0x…` hex string.
func hexBits(_ text: String) -> UInt64 { UInt64(text.dropFirst(2), radix: 16)! }

@Suite("SeededGenerator pinned against an independent implementation")
struct SeededGeneratorTests {
    @Test("the fixture was made for this generator")
    func name() throws {
        #expect(try GeneratorFixture.load().generator == SeededGenerator.name)
    }

    @Test(
        "the first raw outputs, uniforms and normals (a pair and a half) of seeds 0, 1, 42 and 2⁶⁴−1 match bit for bit")
    func streams() throws {
        let fixture = try GeneratorFixture.load()
        #expect(fixture.streams.count == 4)
        for stream in fixture.streams {
            let seed = try #require(UInt64(stream.seed))
            var raw = SeededGenerator(seed: seed)
            #expect(stream.next.map { _ in raw.next() } == stream.next.map(hexBits), "seed \(seed): next()")
            var uniform = SeededGenerator(seed: seed)
            #expect(
                stream.uniforms_bits.map { _ in uniform.nextUniform().bitPattern } == stream.uniforms_bits.map(hexBits),
                "seed \(seed): nextUniform()")
            var normal = SeededGenerator(seed: seed)
            #expect(
                stream.normals_bits.map { _ in normal.nextNormal().bitPattern } == stream.normals_bits.map(hexBits),
                "seed \(seed): nextNormal()")
        }
    }

    @Test("float32 normals scaled by σ round as the fixture's memories do")
    func scaledNormals() throws {
        let fixture = try GeneratorFixture.load()
        for memory in [fixture.decoder_memory, fixture.encoder_memory_rows] {
            let std = try memory.std ?? Double(bitPattern: hexBits(#require(memory.std_bits)))
            var g = SeededGenerator(seed: memory.seed)
            let values = g.normals(count: memory.shape[0] * memory.shape[1], standardDeviation: std)
            #expect(values.map(\.bitPattern) == memory.float32_bits.map { UInt32(hexBits($0)) })
        }
    }
}

/// The integer sections of `fixtures/rmt/seeded_generator.json`.
struct IntegerFixture: Decodable {
    struct Draws: Decodable {
        let seed: String
        let bound: String
        let values: [String]
    }
    let integers: [Draws]

    static func load() throws -> IntegerFixture {
        try JSONDecoder().decode(
            IntegerFixture.self, from: Data(try Fixtures.bytes(Fixtures.path("rmt/seeded_generator.json"))))
    }
}

@Suite("SeededGenerator integers and permutations pinned against the Python generator")
struct SeededIntegerTests {
    @Test("nextInt(below:) gives the fixture's draws for bounds 1 to 2⁶²+1 (where a quarter of draws are rejected)")
    func integers() throws {
        let fixture = try IntegerFixture.load()
        #expect(fixture.integers.count == 6)
        for draws in fixture.integers {
            var g = SeededGenerator(seed: try #require(UInt64(draws.seed)))
            let bound = try #require(Int(draws.bound))
            #expect(
                draws.values.map { _ in g.nextInt(below: bound) } == draws.values.map { Int($0)! }, "bound \(bound)")
        }
    }

    @Test(
        "stream 0 of a seed is the seed's own generator and later streams differ (streams 1, 2 are pinned by the permutations)"
    )
    func streams() throws {
        var a = SeededGenerator.stream(0, of: 77), b = SeededGenerator(seed: 77)
        #expect((0..<4).map { _ in a.next() } == (0..<4).map { _ in b.next() })
        var first = SeededGenerator.stream(1, of: 77), second = SeededGenerator.stream(2, of: 77)
        #expect(first.permutation(count: 20) != second.permutation(count: 20))
    }
}
