// `verify`: run a model on a fixture's inputs and compare with the reference outputs it stores.
import Checkpoints
import Foundation
import Models
import TensorCore

/// A fixture folder's `fixture.json`: which architecture, which outputs to compare, and the tolerance.
public struct FixtureSpec: Sendable {
    /// The architecture to run (nil: the one `config.json` names).
    public let architecture: ModelArchitecture?
    /// Output names compared (`last_hidden_state`, `pooler_output`, `logits`, `hidden_states.{i}`).
    public let outputs: [String]
    /// Largest accepted max abs error.
    public let tolerance: Double
    /// File names inside the fixture folder.
    public let inputsFile: String, expectedFile: String

    /// Reads `dir/fixture.json`.
    /// - Throws: `CheckpointError(.configuration)` naming the field.
    public static func read(_ dir: String) throws -> FixtureSpec {
        let path = "\(dir)/fixture.json"
        guard let json = try Checkpoint.readJSON(path) else {
            throw CheckpointError(
                .io, file: path, "no fixture.json in the fixture folder; make one with tools/make_model_fixtures.py")
        }
        var architecture: ModelArchitecture?
        if let name = json["architecture"]?.stringValue {
            guard let a = ModelArchitecture(rawValue: name) else {
                throw CheckpointError(
                    .configuration, file: path, tensor: "architecture", "architecture \"\(name)\" is not supported")
            }
            architecture = a
        }
        guard case .array(let list)? = json["outputs"], !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) else {
            throw CheckpointError(
                .configuration, file: path, tensor: "outputs", "`outputs` must be a non-empty list of output names")
        }
        guard let tolerance = json["tolerance"]?.doubleValue, tolerance >= 0 else {
            throw CheckpointError(
                .configuration, file: path, tensor: "tolerance", "`tolerance` must be a non-negative number")
        }
        return FixtureSpec(
            architecture: architecture, outputs: list.compactMap(\.stringValue), tolerance: tolerance,
            inputsFile: json["inputs"]?.stringValue ?? "inputs.safetensors",
            expectedFile: json["expected"]?.stringValue ?? "expected.safetensors")
    }
}

/// What `verify` found.
public struct VerifyReport: Encodable, Sendable {
    public let model: String
    public let fixture: String
    public let architecture: String
    public let tolerance: Double
    public let outputs: [OutputComparison]
    public var passed: Bool { outputs.allSatisfy(\.passed) }

    enum CodingKeys: String, CodingKey { case model, fixture, architecture, tolerance, outputs, passed }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(fixture, forKey: .fixture)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(passed, forKey: .passed)
    }

    /// A table for humans, ending with PASS or FAIL.
    public var text: String {
        var lines = ["\(architecture) on \(fixture) (tolerance: max abs error ≤ \(tolerance))"]
        let width = max(6, outputs.map(\.name.count).max() ?? 6)
        for o in outputs {
            let name = o.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append(
                "  \(name)  max abs \(String(format: "%.3e", o.maxAbsError))  max rel \(String(format: "%.3e", o.maxRelativeError))  \(o.passed ? "ok" : "FAIL")"
            )
        }
        lines.append(passed ? "PASS" : "FAIL")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Runs `checkpoint` on the inputs of fixture folder `dir` and compares every output `fixture.json` names.
/// - Parameter architecture: overrides the fixture's architecture.
/// - Throws: `CheckpointError` / `ModelError` for unreadable fixtures or models, and when an expected output
///   is absent from the fixture or not produced by the model. A mismatch is not an error: see `passed`.
public func verify(_ checkpoint: Checkpoint, fixture dir: String, architecture: ModelArchitecture? = nil) throws
    -> VerifyReport
{
    let spec = try FixtureSpec.read(dir)
    let inputs = try RunInputs.read(bundle: "\(dir)/\(spec.inputsFile)")
    let expected = try ArchiveRegistry.open("\(dir)/\(spec.expectedFile)")
    let (model, _) = try loadModel(checkpoint, architecture: architecture ?? spec.architecture)
    let outputs = try model.run(inputs, hiddenStates: spec.outputs.contains { $0.hasPrefix("hidden_states.") })
    let comparisons = try spec.outputs.map { name -> OutputComparison in
        guard let actual = outputs.first(where: { $0.name == name })?.tensor else {
            throw CheckpointError(
                .tensorNotFound, file: dir, tensor: name,
                "\(model.architecture.rawValue) does not produce `\(name)` (it gives \(outputs.map(\.name).joined(separator: ", ")))"
            )
        }
        return try OutputComparison(
            name: name, actual: actual, expected: try expected.tensor(named: name), tolerance: spec.tolerance)
    }
    return VerifyReport(
        model: checkpoint.path, fixture: dir, architecture: model.architecture.rawValue,
        tolerance: spec.tolerance, outputs: comparisons)
}
