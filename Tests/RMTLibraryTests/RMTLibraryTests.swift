// RMT used as a library by itself: this file imports RMT alone (no ConvertKit, no test support), opens the
// reference's checkpoint folders with `RMTModel.load(folder:)` and checks every output against the outputs the
// reference PyTorch RMT wrote (tools/rmt_reference.py), max abs error ≤ the fixture's tolerance (1e-4).
import Foundation
import RMT
import Testing

/// `fixtures/rmt` at the repository root, found from this file's path.
let rmtFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/rmt").path

/// The largest |a − b| over two arrays of the same length, infinite when the lengths differ.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Double(abs($0 - $1)) }.max() ?? 0
}

@Suite("RMT as a library, from a folder to the reference's outputs")
struct RMTLibraryTests {
    @Test(
        "run and generate on both variants and both reference checkpoint families give the reference's logits, memory states, losses and ids",
        arguments: ["decoder", "decoder/model_best", "encoder", "encoder/model_best"])
    func reference(folder: String) throws {
        let variant = String(folder.split(separator: "/")[0])
        let model = try RMTModel.load(folder: "\(rmtFixtures)/\(folder)")
        #expect(model.variant.rawValue == variant)
        let fixture = try RMTReferenceFixture.load(folder: "\(rmtFixtures)/\(variant)")
        #expect(fixture.cases.count == (variant == "decoder" ? 7 : 3))
        for c in fixture.cases {
            let aligned = try model.withAlignment(c.alignment)
            if let n = c.maxNewTokens {
                let ids = try aligned.generate(c.inputs, maxNewTokens: n)
                let expected = try #require(c.expected["generated_ids"])
                #expect([ids.batch, ids.length] == expected.shape.dimensions, "\(c.name)")
                #expect(ids.values == (try expected.int64Values().map { Int($0) }), "\(c.name): generated ids")
                continue
            }
            let out = try aligned.run(c.inputs)
            let logits = try #require(out.logits)
            let expectedLogits = try #require(c.expected["logits"])
            #expect(logits.values.count == expectedLogits.shape.elementCount, "\(c.name)")
            #expect(maxAbsDifference(logits.values, try expectedLogits.floatValues()) <= fixture.tolerance, "\(c.name)")
            let states = try #require(c.expected["memory_states"])
            #expect(out.memoryStates.count == states.shape[0], "\(c.name): one memory state per segment")
            let memory = Array(out.memoryStates.map(\.values).joined())
            #expect(maxAbsDifference(memory, try states.floatValues()) <= fixture.tolerance, "\(c.name)")
            if let loss = c.expected["loss"] {
                let reference = try loss.floatValues()[0]
                #expect(abs(try #require(out.loss) - Double(reference)) <= fixture.tolerance, "\(c.name): loss")
            }
        }
    }

    @Test("the streaming forward pass hands over each segment's memory and logits as `run` stitches them")
    func streaming() throws {
        let model = try RMTModel.load(folder: "\(rmtFixtures)/decoder")
        let fixture = try RMTReferenceFixture.load(folder: "\(rmtFixtures)/decoder")
        let c = try #require(fixture.cases.first { $0.maxNewTokens == nil })
        let aligned = try model.withAlignment(c.alignment)
        var segments: [RMTSegmentOutput] = []
        try aligned.forward(c.inputs) { segments.append($0) }
        let out = try aligned.run(c.inputs)
        #expect(segments.map(\.memory) == out.memoryStates)
        let logits = try #require(out.logits)
        for segment in segments {
            let positions = try #require(segment.positions)
            #expect(logits.positions(positions) == segment.logits, "segment \(segment.index)")
        }
        #expect(segments.compactMap(\.positions).map(\.count).reduce(0, +) == c.inputs.length)
    }
}
