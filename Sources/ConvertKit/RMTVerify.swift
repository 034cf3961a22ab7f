// `verify` for RMT checkpoints: every case of a fixture made by tools/rmt_reference.py.
import RMT

/// Runs `rmt` on each case of the fixture folder `dir` (`cases.json` + `cases.safetensors`) and compares the
/// concatenated logits, every memory state and the loss(es) with the reference's.
/// - Throws: `CheckpointError` for a malformed fixture; a mismatch is reported in the result, not thrown.
public func verifyRMT(_ rmt: RMTModel, fixture dir: String) throws -> VerifyReport {
    let fixture = try RMTReferenceFixture.load(folder: dir)
    return VerifyReport(
        model: rmt.path, fixture: dir, architecture: "RMT \(rmt.variant.rawValue)", tolerance: fixture.tolerance,
        outputs: try rmt.verify(fixture))
}
