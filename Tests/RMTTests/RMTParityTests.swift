import ConvertKit
import Foundation
import Testing
import TestSupport
@testable import RMT

/// Forward parity with the reference RMT (tools/rmt_reference.py, PyTorch + transformers): logits, every memory
/// state and the loss, max abs error ≤ 1e-4.
@Suite("RMT parity with the reference")
struct RMTParityTests {
    @Test(
        "decoder: three alignments, a short segment, left padding, labels_mask, greedy generation; both checkpoint families",
        arguments: ["model_best", "."])
    func decoder(folder: String) throws {
        let rmt = try RMTModel.load(folder: Fixtures.path("rmt/decoder/\(folder)"))
        let report = try verifyRMT(rmt, fixture: Fixtures.path("rmt/decoder"))
        #expect(report.outputs.count == 5 * 3 + 2)  // five forward cases × 3 outputs, two generation cases
        #expect(report.outputs.filter { $0.name.hasSuffix(".generated_ids") }.count == 2)
        for o in report.outputs { #expect(o.passed, "\(o.name): max abs error \(o.maxAbsError)") }
    }

    @Test(
        "encoder: leading empty segments, truncation, per-step losses; both checkpoint families",
        arguments: ["model_best", "."])
    func encoder(folder: String) throws {
        let rmt = try RMTModel.load(folder: Fixtures.path("rmt/encoder/\(folder)"))
        let report = try verifyRMT(rmt, fixture: Fixtures.path("rmt/encoder"))
        #expect(report.outputs.count == 3 * 3)
        for o in report.outputs { #expect(o.passed, "\(o.name): max abs error \(o.maxAbsError)") }
    }
}
