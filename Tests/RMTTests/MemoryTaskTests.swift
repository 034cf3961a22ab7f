// The synthetic memory tasks (docs/RMT.md §8.8): layouts exactly as documented, labels on answers only, the draws
// pinned against tools/make_generator_fixture.py, determinism per seed, and the refusals of bad settings.
import Foundation
import Testing
import TestSupport
@testable import RMT

/// The `memory_tasks` section of `fixtures/rmt/seeded_generator.json`.
struct TaskFixture: Decodable {
    struct Task: Decodable {
        let kind: String
        let samples: Int
        let seed: UInt64
        let length: Int
        let pairs: Int
        let keys: Int
        let values: Int
        let input_ids: [[Int]]
        let labels: [[Int]]
    }
    let memory_tasks: [Task]

    static func load() throws -> [Task] {
        try JSONDecoder().decode(
            TaskFixture.self, from: Data(try Fixtures.bytes(Fixtures.path("rmt/seeded_generator.json")))
        ).memory_tasks
    }
}

@Suite("make-task's memory tasks: layouts, labels, draws")
struct MemoryTaskTests {
    func rows(_ data: MemoryTaskData) -> [[Int]] { (0..<data.rowCount).map { Array(data.row($0)) } }
    func labelRows(_ data: MemoryTaskData) -> [[Int]] {
        (0..<data.rowCount).map { Array(data.labels[($0 * data.rowLength)..<(($0 + 1) * data.rowLength)]) }
    }

    @Test("copy and reverse: [content ×L] [1] [answer ×L], content in 2…9, labels −100 but the answer columns")
    func copyAndReverse() throws {
        for kind in [MemoryTaskKind.copy, .reverse] {
            var task = MemoryTask(kind: kind)
            task.samples = 300
            task.length = 7
            task.seed = 5
            let data = try task.generate()
            #expect(data.rowCount == 300 && data.rowLength == 15 && task.rowLength == 15)
            #expect(task.answerColumns == 8..<15 && task.vocabularySize == 10 && task.chanceAccuracy == 0.125)
            var seen = Set<Int>()
            for (row, labels) in zip(rows(data), labelRows(data)) {
                let content = Array(row[0..<7])
                #expect(content.allSatisfy { (2...9).contains($0) })
                #expect(row[7] == 1)
                #expect(Array(row[8...]) == (kind == .copy ? content : content.reversed()))
                #expect(Array(labels[0..<8]) == [Int](repeating: -100, count: 8))
                #expect(Array(labels[8...]) == Array(row[8...]))
                seen.formUnion(content)
            }
            #expect(seen == Set(2...9))  // every content id occurs
        }
    }

    @Test("retrieval: k v pairs with distinct keys in 2…K+1 and values in K+2…K+W+1, [1], a query key and its value")
    func retrieval() throws {
        var task = MemoryTask(kind: .retrieval)
        task.samples = 400
        task.pairs = 3
        task.keys = 6
        task.values = 4
        let data = try task.generate()
        #expect(task.rowLength == 9 && task.answerColumns == 8..<9 && task.vocabularySize == 12)
        #expect(task.chanceAccuracy == 0.25)
        var queried = [Int](repeating: 0, count: 3)
        for (row, labels) in zip(rows(data), labelRows(data)) {
            let keys = [row[0], row[2], row[4]], values = [row[1], row[3], row[5]]
            #expect(keys.allSatisfy { (2...7).contains($0) } && Set(keys).count == 3)
            #expect(values.allSatisfy { (8...11).contains($0) })
            #expect(row[6] == 1)
            let q = try #require(keys.firstIndex(of: row[7]))
            queried[q] += 1
            #expect(row[8] == values[q])
            #expect(labels == [Int](repeating: -100, count: 8) + [values[q]])
        }
        #expect(queried.allSatisfy { $0 > 80 })  // every pair is queried (expected 133 each)
    }

    @Test("the first rows match the Python implementation of the documented draws (tools/make_generator_fixture.py)")
    func pinned() throws {
        let fixture = try TaskFixture.load()
        #expect(fixture.count == 5)
        for f in fixture {
            var task = MemoryTask(kind: try #require(MemoryTaskKind(rawValue: f.kind)))
            task.samples = f.samples
            task.seed = f.seed
            task.length = f.length
            task.pairs = f.pairs
            task.keys = f.keys
            task.values = f.values
            let data = try task.generate()
            #expect(rows(data) == f.input_ids, "\(f.kind) seed \(f.seed)")
            #expect(labelRows(data) == f.labels, "\(f.kind) seed \(f.seed)")
        }
    }

    @Test("the same seed gives the same rows, another seed others, and a larger file extends a smaller one")
    func determinism() throws {
        for kind in MemoryTaskKind.allCases {
            var task = MemoryTask(kind: kind)
            task.samples = 50
            let a = try task.generate(), b = try task.generate()
            #expect(a == b)
            task.samples = 80
            let longer = try task.generate()
            #expect(Array(longer.inputIds.prefix(a.inputIds.count)) == a.inputIds)
            #expect(Array(longer.labels.prefix(a.labels.count)) == a.labels)
            task.samples = 50
            task.seed = 1
            #expect(try task.generate().inputIds != a.inputIds)
        }
    }

    @Test("segments: a row of T tokens spans ⌈T / n⌉ segments of n")
    func segments() throws {
        let copy = MemoryTask(kind: .copy)  // L = 5: T = 11
        #expect([1, 3, 4, 5, 10, 11, 12].map(copy.segmentCount(segmentSize:)) == [11, 4, 3, 3, 2, 1, 1])
        let retrieval = MemoryTask(kind: .retrieval)  // P = 4: T = 11
        #expect(retrieval.rowLength == 11 && retrieval.segmentCount(segmentSize: 4) == 3)
    }

    @Test(
        "bad settings are refused naming the option",
        arguments: [
            (MemoryTaskKind.copy, "samples", 0, "samples: must be at least 1, got 0"),
            (.reverse, "length", 0, "length: must be at least 1, got 0"),
            (.copy, "length", 60_000_000, "length: must be at most 50000000, got 60000000"),
            (.copy, "samples", 20_000_000, "samples: (20000000) × row length 11 would exceed 100000000 tokens"),
            (.retrieval, "pairs", 0, "pairs: must be at least 1, got 0"),
            (.retrieval, "keys", 3, "keys: must be at least --pairs (4)"),
            (.retrieval, "values", 1, "values: must be at least 2"),
            (.retrieval, "values", 2_000_000, "values: must be at most 1,000,000"),
        ])
    func refused(_ kind: MemoryTaskKind, _ option: String, _ value: Int, _ says: String) throws {
        var task = MemoryTask(kind: kind)
        switch option {
        case "samples": task.samples = value
        case "length": task.length = value
        case "pairs": task.pairs = value
        case "keys": task.keys = value
        default: task.values = value
        }
        let error = #expect(throws: RMTError.self) { try task.generate() }
        #expect(error?.field == option)
        #expect(error?.description.hasPrefix(says) == true, "\(String(describing: error))")
    }
}
