import Testing
@testable import RMT

@Suite("segmentation")
struct SegmenterTests {
    func lengths(_ T: Int, _ n: Int, _ a: SegmentAlignment) -> [Int] {
        Segmenter.ranges(length: T, segmentSize: n, alignment: a).map(\.count)
    }

    @Test("the examples of docs/RMT.md §2.3")
    func examples() {
        #expect(lengths(10, 4, .left) == [4, 4, 2])
        #expect(lengths(10, 4, .right) == [2, 4, 4])
        #expect(lengths(10, 4, .center) == [4, 4, 2])
        #expect(lengths(9, 4, .left) == [4, 4, 1])
        #expect(lengths(9, 4, .right) == [1, 4, 4])
        #expect(lengths(9, 4, .center) == [3, 3, 3])
        #expect(lengths(8, 4, .left) == [4, 4])
        #expect(lengths(8, 4, .right) == [4, 4])
        #expect(lengths(8, 4, .center) == [4, 4])
        #expect(Segmenter.ranges(length: 0, segmentSize: 4, alignment: .left).isEmpty)
    }

    @Test(
        "every length from 1 to 200 and size 1 to 12: contiguous cover, sizes ≤ n, ⌈T/n⌉ segments, short one where the alignment says"
    )
    func exhaustive() {
        for n in 1...12 {
            for T in 1...200 {
                for a in SegmentAlignment.allCases {
                    let r = Segmenter.ranges(length: T, segmentSize: n, alignment: a)
                    #expect(r.first?.lowerBound == 0 && r.last?.upperBound == T)
                    #expect(zip(r, r.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                    #expect(r.allSatisfy { !$0.isEmpty && $0.count <= n })
                    #expect(r.count == (T + n - 1) / n, "T=\(T) n=\(n) \(a)")
                    switch a {
                    case .left: #expect(r.dropLast().allSatisfy { $0.count == n })
                    case .right: #expect(r.dropFirst().allSatisfy { $0.count == n })
                    case .center: #expect(r.dropLast().allSatisfy { $0.count == r[0].count })
                    }
                }
            }
        }
    }
}

@Suite("encoder segmentation")
struct EncoderSegmentationTests {
    let bert = SpecialTokenIDs(pad: 0, cls: 101, sep: 102)

    @Test("segment size is input_size − m − 3 for BERT (docs/RMT.md §3.2 table)")
    func sizes() throws {
        for (input, m, expected) in [(512, 10, 499), (512, 16, 493), (128, 4, 121), (16, 3, 10)] {
            let s = try EncoderSegmentation(
                inputSize: input, memoryTokens: m, maxSegments: 2, alignment: .right, special: bert,
                firstMemoryID: 30522)
            #expect(s.segmentSize == expected)
        }
        #expect(throws: RMTError.self) {
            try EncoderSegmentation(
                inputSize: 6, memoryTokens: 3, maxSegments: 2, alignment: .right, special: bert, firstMemoryID: 30522)
        }
    }

    @Test("the layout example of docs/RMT.md §3.3")
    func layout() throws {
        let s = try EncoderSegmentation(
            inputSize: 16, memoryTokens: 3, maxSegments: 2, alignment: .right, special: bert, firstMemoryID: 30522)
        #expect(s.layout([7, 8, 9, 10]) == [101, 30522, 30523, 30524, 102, 7, 8, 9, 10, 102, 0, 0, 0, 0, 0, 0])
    }

    @Test("specials are stripped, the beginning is kept on truncation, and short samples get leading empty steps")
    func steps() throws {
        let s = try EncoderSegmentation(
            inputSize: 16, memoryTokens: 3, maxSegments: 3, alignment: .right, special: bert, firstMemoryID: 200)
        let long: [Int] = [101] + Array(1...35) + [102, 0, 0]
        let short: [Int] = [101, 50, 51, 102]
        let (steps, truncated) = try s.steps(for: [long[...], short[...]])
        #expect(truncated == [5, 0])
        #expect(steps.count == 3)
        #expect(steps[0][1] == nil && steps[1][1] == nil)
        #expect(steps[2][1] == s.layout([50, 51]))
        #expect(steps[0][0] == s.layout(Array(1...10)))
        #expect(steps[2][0] == s.layout(Array(21...30)))
        #expect(throws: RMTError.self) { try s.steps(for: [[101, 102, 0][...]]) }
    }

    @Test("steps where no sample has a segment are skipped")
    func skipped() throws {
        let s = try EncoderSegmentation(
            inputSize: 16, memoryTokens: 3, maxSegments: 4, alignment: .right, special: bert, firstMemoryID: 200)
        let (steps, _) = try s.steps(for: [[1, 2, 3][...], [4][...]])
        #expect(steps.count == 1)
    }
}
